//! The daemon and the systemd units.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A demo estate with the day-2 config on a given schedule.
fn estate(dir: &Path, schedule: &str) -> PathBuf {
    ok(
        &dir.join("scratch.db"),
        &["demo", "--dir", &dir.join("estate").display().to_string()],
        1,
    );
    let cfg = std::fs::read_to_string(dir.join("estate/netdrift.toml")).unwrap();
    let cfg = cfg.replace(
        "reconcile = \"0 2 * * *\"",
        &format!("reconcile = \"{schedule}\""),
    );
    let path = dir.join("estate/daemon.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn spawn(db: &Path, config: &Path, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netdrift"));
    cmd.args([
        "daemon",
        "--config",
        &config.display().to_string(),
        "--stop-timeout-secs",
        "20",
    ])
    .env("NETDRIFT_DB", db)
    .env("NETDRIFT_LOG", "info")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start daemon")
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

fn runs(db: &Path) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))
        .unwrap_or(0)
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stop(mut child: Child) -> (i32, String) {
    signal(&child, "TERM");
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (st.code().unwrap_or(-1), err);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "daemon did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn runs_cycles_on_a_seconds_schedule_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = estate(dir.path(), "*/2 * * * * *");
    // Retention without a cron of its own runs after each reconcile.
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "{text}
[retention]
runs_max_age_days = 400
"
        ),
    )
    .unwrap();
    let db = dir.path().join("d.db");
    let child = spawn(&db, &cfg, &[]);
    wait_for("two reconcile cycles", Duration::from_secs(40), || {
        runs(&db) >= 2
    });
    let (code, err) = stop(child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stopped cleanly"), "{err}");
    assert!(
        err.contains("retention no run old enough to prune"),
        "{err}"
    );
    assert!(
        err.contains("status=") && err.contains("next reconcile"),
        "status line logged: {err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal"
    );
    consistent(&db);
    assert!(dir.path().join("estate/reports/latest.md").exists());
}

#[test]
fn overlapping_ticks_are_skipped_and_a_second_instance_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = estate(dir.path(), "* * * * * *");
    let db = dir.path().join("d.db");
    let child = spawn(&db, &cfg, &[("NETDRIFT_DEBUG_JOB_DELAY_MS", "2500")]);
    std::thread::sleep(Duration::from_millis(500));
    // A second daemon and a manual run are refused with a clear message.
    let r = netdrift(&db, &["daemon", "--config", &cfg.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("in use by another netdrift process") && r.stderr.contains("pid"),
        "{}",
        r.stderr
    );
    let r = netdrift(&db, &["run", "--config", &cfg.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("in use by another netdrift process"),
        "{}",
        r.stderr
    );
    wait_for("a run", Duration::from_secs(30), || runs(&db) >= 1);
    std::thread::sleep(Duration::from_secs(3));
    let (code, err) = stop(child);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("tick skipped: another job is still running"),
        "{err}"
    );
    consistent(&db);
}

#[test]
fn sighup_with_a_broken_config_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = estate(dir.path(), "*/2 * * * * *");
    let db = dir.path().join("d.db");
    let child = spawn(&db, &cfg, &[]);
    wait_for("a run", Duration::from_secs(30), || runs(&db) >= 1);
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, "[schedule]\nreconcile = \"not cron\"\n").unwrap();
    signal(&child, "HUP");
    std::thread::sleep(Duration::from_millis(500));
    let before = runs(&db);
    wait_for(
        "runs to go on with the old config",
        Duration::from_secs(30),
        || runs(&db) > before,
    );
    // A valid new config is taken.
    std::fs::write(&cfg, good.replace("*/2 * * * * *", "*/3 * * * * *")).unwrap();
    signal(&child, "HUP");
    std::thread::sleep(Duration::from_millis(500));
    let (code, err) = stop(child);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("reload refused")
            && err.contains("still running on the previous one")
            && err.contains("not cron"),
        "{err}"
    );
    assert!(err.contains("configuration reloaded"), "{err}");
    consistent(&db);
}

#[test]
fn kill_9_mid_run_leaves_a_database_the_next_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = estate(dir.path(), "* * * * * *");
    let db = dir.path().join("d.db");
    for delay in [700u64, 1300, 1900, 2600] {
        let mut child = spawn(&db, &cfg, &[]);
        std::thread::sleep(Duration::from_millis(delay));
        signal(&child, "KILL");
        let _ = child.wait();
        consistent(&db);
    }
    let before = runs(&db);
    // No baseline was approved in this database: coverage findings only (exit 3).
    let r = ok(&db, &["run", "--config", &cfg.display().to_string()], 3);
    assert!(r.stdout.contains("run "), "{}", r.stdout);
    assert_eq!(runs(&db), before + 1);
    consistent(&db);
}

#[test]
fn a_missed_nightly_run_is_run_once_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // Nightly at 02:00 UTC: the last occurrence has passed and no run is recorded.
    let cfg = estate(dir.path(), "0 2 * * *");
    let db = dir.path().join("d.db");
    let child = spawn(&db, &cfg, &[]);
    wait_for("the missed run", Duration::from_secs(30), || runs(&db) >= 1);
    std::thread::sleep(Duration::from_secs(2));
    let (code, err) = stop(child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("missed"), "{err}");
    assert_eq!(runs(&db), 1, "run once, not again");
}

#[test]
fn systemd_units_verify_and_are_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_netdrift");
    for unit in [
        "netdrift.service",
        "netdrift-run.service",
        "netdrift-run.timer",
    ] {
        let text = std::fs::read_to_string(repo().join("systemd").join(unit)).unwrap();
        std::fs::write(
            dir.path().join(unit),
            text.replace("/usr/local/bin/netdrift", bin),
        )
        .unwrap();
    }
    let out = Command::new("systemd-analyze")
        .args([
            "verify",
            "--man=no",
            "netdrift.service",
            "netdrift-run.service",
            "netdrift-run.timer",
        ])
        .current_dir(dir.path())
        .output()
        .expect("systemd-analyze is installed by scripts/test");
    let msg =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && msg.trim().is_empty(),
        "systemd-analyze verify: {msg}"
    );
    for unit in ["netdrift.service", "netdrift-run.service"] {
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--no-pager", unit])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.contains("Overall exposure level"))
            .unwrap_or_else(|| panic!("no exposure line: {text}"));
        let score: f64 = line
            .split("level for")
            .nth(1)
            .unwrap()
            .split(':')
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(score <= 2.0, "{unit}: exposure {score} > 2.0");
    }
    for f in ["netdrift.sysusers", "netdrift.tmpfiles"] {
        assert!(repo().join("systemd").join(f).exists());
    }
}

#[test]
fn a_job_that_panics_fails_alone_and_the_next_tick_works() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = estate(dir.path(), "*/2 * * * * *");
    // The audit record that used to panic the parser: a request body that is not an object.
    let bad = dir.path().join("estate/audit/azure-bad.json");
    std::fs::write(
        &bad,
        serde_json::json!({"value": [{"correlationId": "c1", "eventTimestamp": "2026-11-24T08:00:00Z", "subscriptionId": "s1",
            "operationName": {"value": "Microsoft.Network/networkSecurityGroups/securityRules/write"}, "status": {"value": "Succeeded"},
            "resourceId": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n/securityRules/r",
            "caller": "x@contoso.example", "properties": {"requestbody": "[1,2,3]"}}]})
        .to_string(),
    )
    .unwrap();
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text += "\n[[audit]]\nprovider = \"azure\"\nfiles = [\"audit/azure-bad.json\"]\n";
    std::fs::write(&cfg, text).unwrap();
    let db = dir.path().join("d.db");
    // The first job panics while it holds the store, as a parser bug would.
    let child = spawn(&db, &cfg, &[("NETDRIFT_DEBUG_PANIC_JOBS", "1")]);
    wait_for(
        "a reconcile after the panicking one",
        Duration::from_secs(40),
        || runs(&db) >= 1,
    );
    let (code, err) = stop(child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("job failed: it panicked"), "{err}");
    assert!(
        err.contains("last reconcile failed (panicked"),
        "the status line says so: {err}"
    );
    assert!(err.contains("last run "), "then a run succeeded: {err}");
    assert!(!err.contains("PoisonError"), "{err}");
    assert!(
        err.contains("azure-bad.json: record 1: properties.requestbody is not a JSON object"),
        "the malformed record is skipped, naming file and record: {err}"
    );
    consistent(&db);
}

/// SIGTERM during a live collection that hangs: the scopes not yet read are recorded as failed
/// (`cancelled`), the run is recorded, and the daemon exits well within its stop timeout
/// instead of waiting it out and recording nothing.
#[cfg(feature = "azure")]
#[test]
fn sigterm_during_a_hanging_collection_records_the_unread_scopes_and_exits_promptly() {
    use crate::fake::{Request, Response, Server};
    let reached = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = reached.clone();
    let server = Server::start(std::sync::Arc::new(move |_req: &Request| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs(120));
        Response::json(&serde_json::json!({"value": []}))
    }));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hang.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[schedule]
reconcile = "0 0 3 * * *"
timezone = "UTC"

[report]
directory = "reports"
formats = ["json"]

[[source]]
provider = "azure"
name = "slow"
subscriptions = ["0b1f6471-1bf0-4dda-aec3-111122223333"]
endpoint_url = "{}"
credentials = {{ static_token_env = "NETDRIFT_TEST_HANG_TOKEN" }}
max_attempts = 1
activity_log = false
"#,
            server.url
        ),
    )
    .unwrap();
    let db = dir.path().join("d.db");
    // No run yet: the daemon runs the missed reconcile at start, and it hangs on the fake.
    let child = spawn(&db, &cfg, &[("NETDRIFT_TEST_HANG_TOKEN", "t0ken")]);
    wait_for(
        "the collection to reach the fake",
        Duration::from_secs(30),
        || reached.load(std::sync::atomic::Ordering::SeqCst),
    );
    let started = Instant::now();
    let (code, err) = stop(child);
    assert_eq!(code, 0, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stopped in {:?}, not within the 20 s stop timeout's margin: {err}",
        started.elapsed()
    );
    assert_eq!(runs(&db), 1, "the cut-short run is recorded: {err}");
    let body = serde_json::to_string(
        &netdrift::store::SqliteStore::open(&db)
            .unwrap()
            .run_coverage(1)
            .unwrap(),
    )
    .unwrap();
    assert!(
        body.contains("collection-failed") && body.contains("cancelled"),
        "{body}"
    );
}
