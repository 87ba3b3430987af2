//! Continuous detection against moto behind the project's proxy (which answers LookupEvents
//! with the writes that pass through it): `netdrift watch --once` re-reads only what a change
//! named, delivers a new widening once, never again (nor from the nightly run), says who
//! reverted it, turns a failed re-read into a finding and a delivery without losing the change,
//! and picks up a late-arriving event through the overlap.

use std::path::Path;
use std::process::Command;

use serde_json::json as j;

use crate::aws::{aws_env, run, seed_estate, Emulator, A};
use crate::support::*;

fn watch(db: &Path, cfg: &Path) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netdrift"));
    cmd.args(["watch", "--once", "--config", &cfg.display().to_string()])
        .env("NETDRIFT_DB", db);
    let out = aws_env(&mut cmd).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The EC2 and CloudTrail calls made since `from` calls were listed.
fn calls_since(emu: &Emulator, from: usize) -> Vec<String> {
    emu.calls()[from..]
        .iter()
        .map(|c| c["action"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn watch_re_reads_what_changed_delivers_once_resolves_and_never_skips_an_event() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = seed_estate(&emu);
    let (url, seen) = webhook_server(Vec::new());
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[report]\ndirectory = \"reports\"\nwebhook_url = \"{url}\"\nwebhook_min_severity = \"medium\"\n\n[watch]\ninterval_seconds = 2\noverlap_seconds = 900\n\n[[source]]\nprovider = \"aws\"\nname = \"org\"\nregions = [\"us-east-1\"]\nassume_roles = [\"arn:aws:iam::{A}:role/NetdriftAudit\"]\nendpoint_url = \"{}\"\nmax_attempts = 1\n",
            emu.endpoint
        ),
    )
    .unwrap();
    let db = dir.path().join("watch.db");
    let (code, out, err) = run(&db, &cfg);
    assert!(code == 3 || code == 0, "{out}\n{err}");
    ok(
        &db,
        &["baseline", "approve", "--all", "--by", "t", "--reason", "r"],
        0,
    );
    let messages = || seen.lock().unwrap().clone();
    let before_ticks = messages().len();
    // A first tick reads the logs (the seeding's own events) and sets the cursor.
    let (code, out, err) = watch(&db, &cfg);
    assert_eq!(code, 0, "nothing drifted yet\n{out}\n{err}");

    // SSH opened to the world on one group: the next tick re-reads that group alone.
    emu.seed(&["open-ssh", A, "us-east-1", &a[3]]);
    let mark = emu.calls().len();
    let (code, out, err) = watch(&db, &cfg);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains(&format!("re-read {}", a[3])), "{out}");
    let calls = calls_since(&emu, mark);
    assert!(calls.contains(&"LookupEvents".to_string()), "{calls:?}");
    assert!(
        !calls
            .iter()
            .any(|c| c == "DescribeNetworkInterfaces" || c == "DescribeNetworkAcls"),
        "only the named group is re-read: {calls:?}"
    );
    let m = messages();
    assert_eq!(m.len(), before_ticks + 1, "{m:?}");
    let text = json(m.last().unwrap())["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&a[3]) && text.contains("seeder"),
        "who, where: {text}"
    );

    // Delivered once: neither the next tick nor the nightly run sends it again.
    let (code, out, _) = watch(&db, &cfg);
    assert_eq!(code, 0, "the tick re-read nothing: {out}");
    assert!(out.contains("nothing re-read"), "{out}");
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(messages().len(), before_ticks + 1, "{:?}", messages());

    // Reverted: the next tick says so, naming who reverted it.
    emu.seed(&["close-ssh", A, "us-east-1", &a[3]]);
    let (_, out, err) = watch(&db, &cfg);
    let m = messages();
    assert_eq!(m.len(), before_ticks + 2, "{out}\n{err}\n{m:?}");
    let text = json(m.last().unwrap())["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!(
            "resolved: aws:{A}:us-east-1 {} ingress (reverted by",
            a[3]
        )) && text.contains("seeder"),
        "{text}"
    );

    // A re-read that fails is a finding and a delivery, and the change is not lost.
    emu.faults(j!([{"action": "DescribeSecurityGroups", "account": A, "region": "us-east-1", "mode": "deny"}]));
    emu.seed(&["open-ssh", A, "us-east-1", &a[4]]);
    let (code, out, err) = watch(&db, &cfg);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "coverage: watch-reread-failed aws:{A}:us-east-1: saw AuthorizeSecurityGroupIngress on {}, could not read it: DescribeSecurityGroups denied (UnauthorizedOperation)",
            a[4]
        )),
        "{out}"
    );
    let m = messages();
    let text = json(m.last().unwrap())["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("saw AuthorizeSecurityGroupIngress on {}", a[4]))
            && text.contains("UnauthorizedOperation"),
        "{text}"
    );
    emu.clear_faults();
    let (code, out, err) = watch(&db, &cfg);
    assert_eq!(
        code, 1,
        "the change is read once the group can be: {out}\n{err}"
    );
    assert!(out.contains(&format!("re-read {}", a[4])), "{out}");
    let text = json(messages().last().unwrap())["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&a[4]) && text.contains("new unapproved"),
        "{text}"
    );

    // A change CloudTrail delivers late (made straight to moto, its record handed over after the
    // tick that should have seen it): the overlap reads it, and the group is re-read.
    emu.seed_at(&emu.moto_endpoint, &["open-ssh", A, "us-east-1", &a[5]]);
    let (_, out, _) = watch(&db, &cfg);
    assert!(!out.contains(&a[5]), "no record yet: {out}");
    let earlier = (chrono::Utc::now() - chrono::Duration::seconds(120))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    emu.trail_records(j!({"Records": [{
        "eventVersion": "1.09", "eventTime": earlier, "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": "us-east-1",
        "recipientAccountId": A, "eventID": "late-0001", "eventType": "AwsApiCall",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{A}:user/late-larry"), "accountId": A},
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15",
        "requestParameters": {"groupId": a[5], "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
        "responseElements": {"_return": true}
    }]}));
    let (code, out, err) = watch(&db, &cfg);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains(&format!("re-read {}", a[5])), "{out}");
    let text = json(messages().last().unwrap())["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&a[5]) && text.contains("late-larry"),
        "{text}"
    );

    // Each tick that changed something is a `watch` run in the one chain, and the chain
    // verifies offline; the nightly views leave the ticks out.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let kinds: Vec<Option<String>> = conn
        .prepare("SELECT json_extract(summary, '$.kind') FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let watch_runs = kinds
        .iter()
        .filter(|k| k.as_deref() == Some("watch"))
        .count();
    assert!(watch_runs >= 4, "{kinds:?}");
    let delivered: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM deliveries WHERE resolved_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(delivered, 1, "the reverted item is resolved");
    drop(conn);
    let bundle = dir.path().join("evidence.tar");
    export_all(&db, &bundle);
    let v = netdrift(&db, &["evidence", "verify", &bundle.display().to_string()]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
}

#[test]
fn the_daemon_watch_loop_delivers_a_widening_without_waiting_for_the_nightly_run() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = seed_estate(&emu);
    let (url, seen) = webhook_server(Vec::new());
    let cfg = dir.path().join("daemon.toml");
    // The nightly reconcile is far away (New Year, 02:00): only the watch loop can deliver.
    std::fs::write(
        &cfg,
        format!(
            "[report]\ndirectory = \"reports\"\nwebhook_url = \"{url}\"\n\n[schedule]\nreconcile = \"0 2 1 1 *\"\ntimezone = \"UTC\"\n\n[watch]\ninterval_seconds = 1\n\n[[source]]\nprovider = \"aws\"\nname = \"org\"\nregions = [\"us-east-1\"]\nassume_roles = [\"arn:aws:iam::{A}:role/NetdriftAudit\"]\nendpoint_url = \"{}\"\nmax_attempts = 1\n",
            emu.endpoint
        ),
    )
    .unwrap();
    let db = dir.path().join("daemon.db");
    let (code, out, err) = run(&db, &cfg);
    assert!(code == 3 || code == 0, "{out}\n{err}");
    ok(
        &db,
        &["baseline", "approve", "--all", "--by", "t", "--reason", "r"],
        0,
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netdrift"));
    cmd.args(["daemon", "--config", &cfg.display().to_string()])
        .env("NETDRIFT_DB", &db)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = aws_env(&mut cmd).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    emu.seed(&["open-ssh", A, "us-east-1", &a[2]]);
    let start = std::time::Instant::now();
    let found = loop {
        let hit = seen
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.contains(&a[2]))
            .cloned();
        if hit.is_some() || start.elapsed() > std::time::Duration::from_secs(60) {
            break hit;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let text = found.unwrap_or_else(|| panic!("no delivery from the watch loop\n{err}"));
    let text = json(&text)["text"].as_str().unwrap().to_string();
    assert!(
        text.contains("new unapproved drift item(s)") && text.contains("seeder"),
        "{text}"
    );
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        err.contains("last watch"),
        "the status line says what the watch did: {err}"
    );
}
