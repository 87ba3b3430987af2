//! Shared helpers: run the real binary against a temporary database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

/// The checkout, read at run time (cargo sets it for tests): a test binary reused from a build
/// of a checkout at another path (a shared target directory) still reads this one.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

pub fn demo(rel: &str) -> String {
    repo().join("demo").join(rel).display().to_string()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn netdrift(db: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(args)
        .env("NETDRIFT_DB", db)
        .env_remove("NETDRIFT_CONFIG")
        .env_remove("COLUMNS")
        .output()
        .expect("run netdrift");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run and require an exit status.
pub fn ok(db: &Path, args: &[&str], code: i32) -> Run {
    let r = netdrift(db, args);
    assert_eq!(
        r.code, code,
        "netdrift {args:?}\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    r
}

/// The demo's estate after its two days (`netdrift demo --dir DIR/demo`, exit 1 for the drift it
/// finds): its directory, the database it writes there, and what it printed.
pub struct Demo {
    pub dir: PathBuf,
    pub db: PathBuf,
    pub run: Run,
}

pub fn run_demo(under: &Path) -> Demo {
    let dir = under.join("demo");
    let db = dir.join("netdrift.db");
    let run = ok(&db, &["demo", "--dir", &dir.display().to_string()], 1);
    assert!(
        db.exists(),
        "the demo writes its database into its directory"
    );
    Demo { dir, db, run }
}

pub fn import_day(db: &Path, day: &str, at: &str) {
    ok(
        db,
        &[
            "import",
            "--provider",
            "aws",
            "--scope",
            "111122223333",
            "--region",
            "us-east-1",
            "--at",
            at,
            &demo(&format!("aws/{day}/security-groups.json")),
            &demo(&format!("aws/{day}/network-acls.json")),
        ],
        0,
    );
    ok(
        db,
        &[
            "import",
            "--provider",
            "gcp",
            "--scope",
            "acme-prod",
            "--at",
            at,
            &demo(&format!("gcp/{day}/firewalls.json")),
        ],
        0,
    );
    ok(
        db,
        &[
            "import",
            "--provider",
            "azure",
            "--scope",
            "0b1f6471-1bf0-4dda-aec3-111122223333",
            "--at",
            at,
            &demo(&format!("azure/{day}/nsgs.json")),
        ],
        0,
    );
}

/// The whole database content (every table, every row) for before/after comparisons.
pub fn dump(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = {
        let mut s = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut out = String::new();
    for t in tables {
        let mut s = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = s.column_count();
        let rows: Vec<String> = s
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out += &format!("{t}: {}\n{}\n", rows.len(), rows.join("\n"));
    }
    out
}

pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

/// A least-privilege document (`doc`, its list under `key`) grants exactly what the provider
/// uses: everything in `code`, nothing else, and every string literal in the provider's source
/// (`src_dir`) that `is_privilege` recognises.
#[cfg(any(feature = "gcp", feature = "azure"))]
pub fn privileges_match(
    doc: &str,
    key: &str,
    code: &[&str],
    src_dir: &str,
    is_privilege: impl Fn(&str) -> bool,
) {
    let parsed = json(&std::fs::read_to_string(repo().join(doc)).unwrap());
    let listed: Vec<&str> = parsed[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for p in code {
        assert!(listed.contains(p), "{doc} lacks {p}");
    }
    for p in &listed {
        assert!(
            code.contains(p),
            "{doc} grants {p}, which netdrift never uses"
        );
    }
    // Every source file of the crate, submodules included.
    let mut files = Vec::new();
    let mut dirs = vec![repo().join(src_dir)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for word in text.split('"').filter(|w| is_privilege(w)) {
            assert!(listed.contains(&word), "{word} is used but not in {doc}");
        }
    }
}

/// The database opens, passes SQLite's integrity check, and every stored snapshot is whole.
pub fn consistent(db: &Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let broken: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM snapshots s WHERE s.status != 'failed' AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.hash = s.manifest_hash)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(broken, 0, "a snapshot without its manifest");
    let orphans: i64 = c
        .query_row("SELECT COUNT(*) FROM run_snapshots rs WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.id = rs.snapshot_id)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0);
}

/// Approve every scope's latest state.
pub fn approve_all(db: &Path) {
    ok(
        db,
        &["baseline", "approve", "--all", "--by", "t", "--reason", "r"],
        0,
    );
}

/// Import AWS dumps of account 111122223333, us-east-1, as taken at `at`.
pub fn import_aws(db: &Path, at: &str, files: &[&str]) {
    let mut args = vec![
        "import",
        "--provider",
        "aws",
        "--scope",
        "111122223333",
        "--region",
        "us-east-1",
        "--at",
        at,
    ];
    args.extend_from_slice(files);
    ok(db, &args, 0);
}

/// `netdrift audit import --provider P FILE`.
pub fn audit_import(db: &Path, provider: &str, file: &Path) -> Run {
    netdrift(
        db,
        &[
            "audit",
            "import",
            "--provider",
            provider,
            &file.display().to_string(),
        ],
    )
}

/// Export every run of 2026-2027 into `out`.
/// The bytes of the first entry of an evidence bundle (a tar) whose name ends with `name`.
pub fn bundle_entry(bundle: &Path, name: &str) -> Option<Vec<u8>> {
    let mut ar = tar::Archive::new(std::fs::File::open(bundle).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy().ends_with(name) {
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            return Some(b);
        }
    }
    None
}

pub fn export_all(db: &Path, out: &Path) {
    ok(
        db,
        &[
            "evidence",
            "export",
            "--from",
            "2026-01-01",
            "--to",
            "2027-12-31",
            "--out",
            &out.display().to_string(),
        ],
        0,
    );
}

/// A tiny HTTP server: answers each request with the next canned status, records the bodies.
pub fn webhook_server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            seen2
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let status = statuses.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nRetry-After: 0\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
    (url, seen)
}

/// One `netdrift watch --once` tick at a fixed time (`NETDRIFT_FIXED_NOW`), with extra
/// environment (the GCP and Azure fakes' tests).
#[cfg(any(feature = "gcp", feature = "azure"))]
pub fn watch_at(db: &Path, cfg: &Path, now: &str, env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["watch", "--once", "--config", &cfg.display().to_string()])
        .env("NETDRIFT_DB", db)
        .env("NETDRIFT_FIXED_NOW", now)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// `netdrift config check --format json` of a configuration `text`: it must fail (exit 2);
/// each problem as (line, message).
pub fn config_problems(text: &str) -> Vec<(u64, String)> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("checked.toml");
    std::fs::write(&cfg, text).unwrap();
    let r = netdrift(
        &dir.path().join("x.db"),
        &[
            "config",
            "check",
            &cfg.display().to_string(),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    json(&r.stdout)["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
