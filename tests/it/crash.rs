//! Crash safety: `import`, `run` and `audit import` are killed with SIGKILL at random points
//! (a bounded count, deterministic delays). After every kill the database passes SQLite's
//! integrity check, every snapshot is whole, the run chain verifies, and the next run
//! completes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// `count` groups of five rules each, in describe-security-groups form.
fn big_dump(count: usize, salt: usize) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = (0..count)
        .map(|g| {
            let perms: Vec<serde_json::Value> = (0..5)
                .map(|r| serde_json::json!({"IpProtocol": "tcp", "FromPort": 1000 + r, "ToPort": 1000 + r + salt,
                    "IpRanges": [{"CidrIp": format!("10.{}.{}.0/24", g % 250, r)}]}))
                .collect();
            serde_json::json!({"GroupId": format!("sg-{g:017x}"), "GroupName": format!("g{g}"), "Description": "bulk", "VpcId": "vpc-1",
                "IpPermissions": perms, "IpPermissionsEgress": []})
        })
        .collect();
    serde_json::json!({ "SecurityGroups": groups })
}

/// `count` CloudTrail records, one in ten a catalogue event.
fn big_trail(count: usize) -> serde_json::Value {
    let recs: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let name = if i % 10 == 0 { "AuthorizeSecurityGroupIngress" } else { "DescribeInstances" };
            serde_json::json!({"eventVersion": "1.08", "eventID": format!("crash-{i}"), "eventName": name, "eventSource": "ec2.amazonaws.com",
                "eventTime": "2026-11-24T10:00:00Z", "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/k"},
                "requestParameters": {"groupId": format!("sg-{:017x}", i % 500), "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}})
        })
        .collect();
    serde_json::json!({ "Records": recs })
}

/// The run chain as stored: each run links to the previous one's hash, and each hash covers
/// exactly its record.
fn chain_verifies(db: &Path) -> usize {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut stmt = c
        .prepare("SELECT id, record, prev_hash, hash FROM runs ORDER BY id")
        .unwrap();
    let rows: Vec<(i64, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = netdrift::store::runs::GENESIS.to_string();
    for (id, record, p, h) in &rows {
        assert_eq!(p, &prev, "run {id} links to the previous run");
        assert_eq!(
            &netdrift::store::runs::run_hash(p, record),
            h,
            "run {id}'s hash covers its record"
        );
        prev = h.clone();
    }
    rows.len()
}

/// Start `args`, kill it after `delay` (if still running), and return whether it was killed.
fn kill_after(db: &Path, args: &[&str], delay: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(args)
        .env("NETDRIFT_DB", db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    killed
}

fn timed(db: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let r = netdrift(db, args);
    assert!(
        r.code == 0 || r.code == 1 || r.code == 3,
        "{args:?}: {}",
        r.stderr
    );
    start.elapsed()
}

#[test]
fn sigkill_at_random_points_never_corrupts_and_the_next_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let db = demo.join("netdrift.db");
    ok(
        &dir.path().join("x.db"),
        &["demo", "--dir", &demo.display().to_string()],
        1,
    );
    let dump_a = dir.path().join("a.json");
    let dump_b = dir.path().join("b.json");
    std::fs::write(&dump_a, big_dump(3000, 0).to_string()).unwrap();
    std::fs::write(&dump_b, big_dump(3000, 1).to_string()).unwrap();
    let trail = dir.path().join("trail.json");
    std::fs::write(&trail, big_trail(40_000).to_string()).unwrap();
    let cfg = demo.join("netdrift.toml").display().to_string();
    let (a, b, t) = (
        dump_a.display().to_string(),
        dump_b.display().to_string(),
        trail.display().to_string(),
    );
    let import = |f: &str| {
        vec![
            "import",
            "--provider",
            "aws",
            "--scope",
            "444455556666",
            "--region",
            "us-east-1",
        ]
        .into_iter()
        .map(String::from)
        .chain([f.to_string()])
        .collect::<Vec<String>>()
    };
    let commands: Vec<Vec<String>> = vec![
        import(&a),
        import(&b),
        vec!["run".into(), "--config".into(), cfg.clone()],
        vec![
            "audit".into(),
            "import".into(),
            "--provider".into(),
            "aws".into(),
            t.clone(),
        ],
    ];
    // How long each takes unkilled, on a copy (the real database only ever sees killed runs).
    let probe = dir.path().join("probe.db");
    std::fs::copy(&db, &probe).unwrap();
    let spans: Vec<Duration> = commands
        .iter()
        .map(|c| timed(&probe, &c.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect();
    let mut rng = 0x5eed_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let rounds = std::env::var("NETDRIFT_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24usize);
    let mut killed = 0;
    for k in 0..rounds {
        let c = &commands[k % commands.len()];
        let span = spans[k % commands.len()].as_micros() as u64;
        let delay = Duration::from_micros(next() % span.max(1));
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        if kill_after(&db, &args, delay) {
            killed += 1;
        }
        consistent(&db);
        chain_verifies(&db);
    }
    assert!(
        killed >= rounds / 2,
        "most rounds killed a running command: {killed} of {rounds}"
    );
    let before = chain_verifies(&db);
    // The next run completes and extends the chain; the evidence of the period verifies.
    let r = netdrift(&db, &["run", "--config", &cfg]);
    assert!(r.code == 1, "{}", r.stderr);
    assert_eq!(chain_verifies(&db), before + 1);
    let bundle = dir.path().join("e.tar");
    export_all(&db, &bundle);
    ok(
        &db,
        &["evidence", "verify", &bundle.display().to_string()],
        0,
    );
    eprintln!(
        "crash: {killed} of {rounds} rounds killed a running command; database intact after each"
    );
}
