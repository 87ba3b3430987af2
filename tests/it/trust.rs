//! Never a false all-clear, never lost data: what netdrift does when it sees nothing, when an
//! input is hostile, when a path is wrong and when the disk is full.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn netdrift_env(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netdrift"));
    cmd.args(args)
        .env("NETDRIFT_DB", db)
        .env_remove("NETDRIFT_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run netdrift");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A real tmpfs of `size` mounted at `dir` (root, as the suite runs here and in CI).
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount(8) is required for the tmpfs tests");
        assert!(
            st.success(),
            "mounting a tmpfs at {} failed: the suite runs as root",
            dir.display()
        );
        Mount(dir.to_path_buf())
    }
    fn read_only(&self) {
        let st = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn read_only_commands_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo/nope.db");
    let cases: Vec<Vec<&str>> = vec![
        vec!["drift"],
        vec!["snapshots"],
        vec!["show", "sg-1"],
        vec!["report"],
        vec!["baseline", "list"],
        vec!["baseline", "export"],
        vec!["exception", "list"],
        vec![
            "evidence",
            "export",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--out",
            "/dev/null",
        ],
    ];
    for args in cases {
        let r = netdrift(&db, &args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(&db.display().to_string()) && r.stderr.contains("from NETDRIFT_DB"),
            "{args:?} names the path and where it came from: {}",
            r.stderr
        );
        assert!(
            !db.exists() && !db.parent().unwrap().exists(),
            "{args:?} created something"
        );
    }
    // --db names itself as the origin.
    let r = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["--db", &db.display().to_string(), "snapshots"])
        .env_remove("NETDRIFT_DB")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&r.stderr).contains("from --db"));
    // Writing commands that fail on their input create nothing either.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"Records\": [").unwrap();
    let r = audit_import(&db, "aws", &bad);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.json"), "{}", r.stderr);
    let bad_baseline = dir.path().join("bad.toml");
    std::fs::write(&bad_baseline, "[[scope]]\nkey = 12\n").unwrap();
    let r = netdrift(
        &db,
        &[
            "baseline",
            "import",
            &bad_baseline.display().to_string(),
            "--by",
            "a",
            "--reason",
            "r",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = netdrift(
        &db,
        &[
            "import",
            "--provider",
            "aws",
            "--scope",
            "1",
            "--region",
            "r",
            &bad.display().to_string(),
        ],
    );
    assert_eq!(r.code, 2);
    assert!(!db.exists() && !db.parent().unwrap().exists());
}

#[test]
fn a_read_only_database_serves_read_commands_and_names_itself_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("w.db");
    import_day(&work, "day1", "2026-11-24T02:00:00Z");
    approve_all(&work);
    import_day(&work, "day2", "2026-11-25T02:00:00Z");
    // Make every page part of the main file, then put it on a read-only mount.
    let c = rusqlite::Connection::open(&work).unwrap();
    c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(c);
    let mnt = Mount::tmpfs(&dir.path().join("ro"), "16m");
    let db = mnt.0.join("netdrift.db");
    std::fs::copy(&work, &db).unwrap();
    mnt.read_only();
    let r = ok(&db, &["drift", "--format", "json"], 1);
    assert!(json(&r.stdout)["drift"].as_array().unwrap().len() > 3);
    ok(&db, &["snapshots"], 0);
    ok(&db, &["baseline", "list"], 0);
    let r = netdrift(
        &db,
        &["baseline", "approve", "--all", "--by", "t", "--reason", "r"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&db.display().to_string()),
        "names the file: {}",
        r.stderr
    );
}

#[test]
fn an_unknown_scope_is_an_error_naming_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    approve_all(&db);
    import_day(&db, "day2", "2026-11-25T02:00:00Z");
    let r = netdrift(&db, &["drift", "--scope", "aws:999999999999:us-east-1"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("known scopes: aws:111122223333:us-east-1, azure:0b1f6471-1bf0-4dda-aec3-111122223333, gcp:acme-prod"),
        "{}",
        r.stderr
    );
    // A bare account id, or a key prefix, selects every scope of that account.
    for f in [
        "111122223333",
        "aws:111122223333",
        "aws:111122223333:us-east-1",
    ] {
        let v = json(&ok(&db, &["drift", "--format", "json", "--scope", f], 1).stdout);
        let items = v["drift"].as_array().unwrap();
        assert!(
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i["scope"] == "aws:111122223333:us-east-1"),
            "{f}"
        );
    }
    // Azure subscription ids compare without letter case.
    let v = json(
        &ok(
            &db,
            &[
                "drift",
                "--format",
                "json",
                "--scope",
                "0B1F6471-1BF0-4DDA-AEC3-111122223333",
            ],
            1,
        )
        .stdout,
    );
    assert!(v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["provider"] == "azure"));
}

#[test]
fn the_demo_writes_only_its_own_database() {
    let dir = tempfile::tempdir().unwrap();
    // A production database, named by NETDRIFT_DB and --db: the demo never touches it.
    let prod = dir.path().join("prod.db");
    import_day(&prod, "day1", "2026-11-24T02:00:00Z");
    approve_all(&prod);
    let before = std::fs::read(&prod).unwrap();
    let demo_dir = dir.path().join("demo");
    let r = netdrift(&prod, &["demo", "--dir", &demo_dir.display().to_string()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("is not touched"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(&prod).unwrap(),
        before,
        "the named database is byte-identical"
    );
    assert!(demo_dir.join("netdrift.db").exists());
    // Run again: its own database is recreated.
    ok(
        &prod,
        &["demo", "--dir", &demo_dir.display().to_string()],
        1,
    );
    // A --dir whose netdrift.db is not a demo database: refused, nothing changed.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(&prod, other.join("netdrift.db")).unwrap();
    let r = netdrift(&prod, &["demo", "--dir", &other.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a demo database"), "{}", r.stderr);
    assert_eq!(std::fs::read(other.join("netdrift.db")).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(&other).unwrap().count(),
        1,
        "no estate written either"
    );
    // The demo takes the writer lock like every writer.
    let lock = netdrift_lock_holder(&demo_dir.join("netdrift.db"));
    let r = netdrift(&prod, &["demo", "--dir", &demo_dir.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("in use by another netdrift process"),
        "{}",
        r.stderr
    );
    drop(lock);
}

/// Hold a database's writer lock as another process would (the lock is on `<db>.lock`).
fn netdrift_lock_holder(db: &Path) -> std::fs::File {
    let mut p = db.as_os_str().to_owned();
    p.push(".lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(PathBuf::from(p))
        .unwrap();
    f.try_lock().unwrap();
    f
}

fn demo_config(dir: &Path) -> (PathBuf, PathBuf) {
    let demo_dir = dir.join("demo");
    ok(
        &dir.join("x.db"),
        &["demo", "--dir", &demo_dir.display().to_string()],
        1,
    );
    (demo_dir.join("netdrift.toml"), demo_dir.join("netdrift.db"))
}

#[test]
fn a_full_report_directory_writes_the_whole_set_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = demo_config(dir.path());
    let mnt = Mount::tmpfs(&dir.path().join("small"), "48k");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let small_cfg = cfg.with_file_name("small.toml");
    std::fs::write(
        &small_cfg,
        text.replace(
            "directory = \"reports\"",
            &format!("directory = {:?}", mnt.0.display().to_string()),
        ),
    )
    .unwrap();
    assert!(std::fs::read_to_string(&small_cfg)
        .unwrap()
        .contains(&mnt.0.display().to_string()));
    let runs_before = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get::<_, i64>(0))
        .unwrap();
    let r = netdrift(
        &db,
        &[
            "run",
            "--config",
            &small_cfg.display().to_string(),
            "--at",
            "2026-11-25T02:00:00Z",
        ],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("the report set of run")
            && r.stderr.contains("(the run itself is recorded)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
    let left: Vec<String> = std::fs::read_dir(&mnt.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "nothing half-written, no temporary files: {left:?}"
    );
    let runs_after = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(
        runs_after,
        runs_before + 1,
        "the run is recorded, as the error says"
    );
}

#[test]
fn reports_and_evidence_never_follow_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let (_cfg, db) = demo_config(dir.path());
    let reports = dir.path().join("demo/reports");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    // The predictable names older versions used.
    for name in ["latest.tmp-netdrift", "latest.md.tmp-netdrift"] {
        let _ = std::os::unix::fs::symlink(&victim, reports.join(name));
    }
    let out = dir.path().join("shared/q4.tar");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&victim, out.with_extension("tmp-netdrift")).unwrap();
    ok(&db, &["report", "--out", &reports.display().to_string()], 1);
    export_all(&db, &out);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    ok(&db, &["evidence", "verify", &out.display().to_string()], 0);
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let (_cfg, db) = demo_config(dir.path());
    // The reader goes away before netdrift prints: the status is 141 (128 + SIGPIPE), as for
    // other tools, and nothing is printed about it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["drift", "--format", "json"])
        .env("NETDRIFT_DB", &db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(141),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn untrusted_text_cannot_rewrite_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let dump = |name: &str, desc: &str, cidr: &str| {
        serde_json::json!({"SecurityGroups": [{"GroupId": "sg-0evil", "GroupName": name, "Description": "d", "VpcId": "vpc-1",
            "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr, "Description": desc}]}], "IpPermissionsEgress": []}]})
    };
    let f1 = dir.path().join("d1.json");
    let f2 = dir.path().join("d2.json");
    std::fs::write(&f1, dump("web", "ok", "10.0.0.0/8").to_string()).unwrap();
    std::fs::write(
        &f2,
        dump(
            "web\u{1b}[2K\r\u{1b}[1A LOW nothing here\u{0}",
            "evil\u{1b}]0;title\u{7}\ndesc",
            "0.0.0.0/0",
        )
        .to_string(),
    )
    .unwrap();
    let imp = |f: &Path, at: &str| import_aws(&db, at, &[&f.display().to_string()]);
    imp(&f1, "2026-11-24T02:00:00Z");
    approve_all(&db);
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[source]]\nprovider = \"aws\"\nname = \"dump\"\naccount = \"111122223333\"\nregion = \"us-east-1\"\nfiles = [{:?}]\n[report]\ndirectory = \"r\"\n",
            f2.display().to_string()
        ),
    )
    .unwrap();
    let r = ok(
        &db,
        &[
            "run",
            "--config",
            &cfg.display().to_string(),
            "--at",
            "2026-11-25T02:00:00Z",
        ],
        1,
    );
    for bad in ['\u{1b}', '\r', '\0', '\u{7}'] {
        assert!(!r.stdout.contains(bad), "run printed {bad:?}");
    }
    for args in [
        vec!["drift"],
        vec!["show", "sg-0evil"],
        vec!["snapshots"],
        vec!["drift", "--format", "markdown"],
    ] {
        let r = netdrift(&db, &args);
        for bad in ['\u{1b}', '\r', '\0', '\u{7}'] {
            assert!(
                !r.stdout.contains(bad),
                "{args:?} printed {bad:?}: {:?}",
                r.stdout
            );
        }
        if args == ["drift"] {
            assert!(
                r.stdout
                    .contains("web\\x1b[2K\\r\\x1b[1A LOW nothing here\\x00"),
                "{}",
                r.stdout
            );
            assert!(
                r.stdout.starts_with("SEVERITY") && r.stdout.contains("CRITICAL"),
                "{}",
                r.stdout
            );
        }
    }
    // CSV cells too.
    let csv = std::fs::read_to_string(dir.path().join("r/latest.csv")).unwrap();
    assert!(csv.contains("\\x1b[2K"), "{csv}");
    assert!(!csv.contains('\u{1b}') && !csv.contains('\0'), "{csv}");
}

#[test]
fn secrets_are_redacted_at_every_log_level() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[[source]]\nprovider = \"aws\"\nname = \"org\"\nregions = [\"us-east-1\"]\nendpoint_url = \"http://admin:hunter2pass@127.0.0.1:9\"\nmax_attempts = 1\n\
         [report]\ndirectory = \"reports\"\nwebhook_url = \"http://127.0.0.1:9/services/T000/B000/SECRETWEBHOOKPATH\"\n",
    )
    .unwrap();
    for level in ["debug", "trace"] {
        let r = netdrift_env(
            &dir.path().join("d.db"),
            &["run", "--config", &cfg.display().to_string()],
            &[
                ("NETDRIFT_LOG", level),
                ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
                ),
                ("AWS_SESSION_TOKEN", "FQoGZXIvYXdzEJrSESSIONTOKEN"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
        );
        assert_eq!(r.code, 3, "{}", r.stdout);
        assert!(r.stderr.len() > 1000, "{level} logs something");
        for secret in [
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
            "FQoGZXIvYXdzEJrSESSIONTOKEN",
            "hunter2pass",
            "SECRETWEBHOOKPATH",
        ] {
            assert!(!r.stderr.contains(secret), "{level}: {secret} in the log");
            assert!(!r.stdout.contains(secret), "{level}: {secret} on stdout");
        }
    }
}

#[test]
fn discovery_that_sees_nothing_is_a_finding_never_silence() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[[source]]\nprovider = \"aws\"\nname = \"org\"\nregions = [\"us-east-1\"]\nendpoint_url = \"http://127.0.0.1:9\"\nmax_attempts = 1\n[report]\ndirectory = \"reports\"\n",
    )
    .unwrap();
    // No credentials at all: an auth problem in one line, a discovery-failed finding, exit 3.
    let r = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["run", "--config", &cfg.display().to_string()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NETDRIFT_DB", dir.path().join("d.db"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("coverage: discovery-failed aws:org"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("GetCallerIdentity failed (auth): no AWS credentials found (environment, profile and SSO"), "{line}");
    assert!(
        !out.contains("DispatchFailure") && !err.contains("DispatchFailure"),
        "no Debug tree: {out}{err}"
    );
    let report = json(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    assert_eq!(report["coverage"][0]["code"], "discovery-failed");
    assert_eq!(report["coverage"][0]["problems"][0]["code"], "auth");
    let md = std::fs::read_to_string(dir.path().join("reports/latest.md")).unwrap();
    assert!(md.contains("discovery-failed"), "{md}");
}

fn write_json(path: &Path, v: &serde_json::Value) -> String {
    std::fs::write(path, v.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn requests_by_group_name_user_id_and_acl_protocol_are_attributed_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let sg = |default_ingress: serde_json::Value, app_ingress: serde_json::Value| {
        serde_json::json!({"SecurityGroups": [
            {"GroupId": "sg-0default", "GroupName": "default", "Description": "default VPC security group", "VpcId": "vpc-1", "IpPermissions": default_ingress, "IpPermissionsEgress": []},
            {"GroupId": "sg-0app", "GroupName": "app", "Description": "app", "VpcId": "vpc-1", "IpPermissions": app_ingress, "IpPermissionsEgress": []},
            {"GroupId": "sg-0web", "GroupName": "web", "Description": "web", "VpcId": "vpc-1", "IpPermissions": [], "IpPermissionsEgress": []}]})
    };
    let acl = |extra: Vec<serde_json::Value>| {
        let mut entries = extra;
        entries.push(serde_json::json!({"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"}));
        entries.push(serde_json::json!({"RuleNumber": 32768, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "Ipv6CidrBlock": "::/0"}));
        serde_json::json!({"NetworkAcls": [{"NetworkAclId": "acl-0pub", "VpcId": "vpc-1", "Associations": [{"SubnetId": "subnet-1"}], "Entries": entries}]})
    };
    let import = |n: &str, sgs: serde_json::Value, acls: serde_json::Value, at: &str| {
        let a = write_json(&dir.path().join(format!("sg{n}.json")), &sgs);
        let b = write_json(&dir.path().join(format!("acl{n}.json")), &acls);
        import_aws(&db, at, &[&a, &b]);
    };
    import(
        "1",
        sg(serde_json::json!([]), serde_json::json!([])),
        acl(vec![]),
        "2026-11-24T02:00:00Z",
    );
    approve_all(&db);
    import(
        "2",
        sg(
            serde_json::json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
            serde_json::json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-0web", "UserId": "111122223333"}]}]),
        ),
        acl(vec![
            serde_json::json!({"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}}),
        ]),
        "2026-11-25T02:00:00Z",
    );
    let rec = |id: &str, name: &str, req: serde_json::Value, resp: serde_json::Value| {
        serde_json::json!({"eventVersion": "1.08", "eventID": id, "eventName": name, "eventSource": "ec2.amazonaws.com",
            "eventTime": "2026-11-24T10:00:00Z", "awsRegion": "us-east-1", "recipientAccountId": "111122223333", "sourceIPAddress": "203.0.113.5",
            "userAgent": "aws-cli/2.15.0", "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{id}"), "accessKeyId": "ASIAEXAMPLE"},
            "requestParameters": req, "responseElements": resp})
    };
    let trail = serde_json::json!({"Records": [
        rec("by-name", "AuthorizeSecurityGroupIngress",
            serde_json::json!({"groupName": "default", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
            serde_json::json!({"_return": true, "securityGroupRuleSet": {"items": [{"groupOwnerId": "111122223333", "groupId": "sg-0default", "securityGroupRuleId": "sgr-0aaa", "isEgress": false, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}})),
        rec("by-user-id", "AuthorizeSecurityGroupIngress",
            serde_json::json!({"groupId": "sg-0app", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "groups": {"items": [{"groupId": "sg-0web", "userId": "111122223333"}]}}]}}),
            serde_json::json!({"_return": true})),
        rec("acl-entry", "CreateNetworkAclEntry",
            serde_json::json!({"networkAclId": "acl-0pub", "ruleNumber": 100, "egress": false, "ruleAction": "allow", "icmpTypeCode": {}, "portRange": {"from": 22, "to": 22}, "aclProtocol": "6", "cidrBlock": "0.0.0.0/0"}),
            serde_json::json!({"_return": true})),
    ]});
    let f = write_json(&dir.path().join("trail.json"), &trail);
    ok(&db, &["audit", "import", "--provider", "aws", &f], 0);
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    for (resource, who) in [
        ("sg-0default", "by-name"),
        ("sg-0app", "by-user-id"),
        ("acl-0pub", "acl-entry"),
    ] {
        let item = v["drift"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["resource"] == resource)
            .unwrap_or_else(|| panic!("{resource}: {v}"));
        let a = &item["attribution"];
        assert_eq!(a["status"], "exact", "{resource}: {a}");
        assert_eq!(
            a["actors"][0]["principal"],
            format!("arn:aws:iam::111122223333:user/{who}"),
            "{resource}"
        );
    }
    assert!(
        !v["coverage"].to_string().contains("logging-gap"),
        "no false logging gap: {}",
        v["coverage"]
    );
}

#[test]
fn a_duplicate_resource_in_a_dump_is_rejected_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    let before = dump(&db);
    let decoy = serde_json::json!({"SecurityGroups": [
        {"GroupId": "sg-0a1b2c3d4e5f60001", "GroupName": "web-prod", "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
        {"GroupId": "sg-0a1b2c3d4e5f60001", "GroupName": "web-prod", "IpPermissions": []}]});
    let f = write_json(&dir.path().join("decoy.json"), &decoy);
    let r = netdrift(
        &db,
        &[
            "import",
            "--provider",
            "aws",
            "--scope",
            "111122223333",
            "--region",
            "us-east-1",
            &f,
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("decoy.json: $.SecurityGroups[1]: the same resource id already appears at $.SecurityGroups[0]"),
        "{}",
        r.stderr
    );
    assert_eq!(dump(&db), before, "the database is unchanged");
}

#[test]
fn a_gzip_bomb_is_refused_naming_the_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    // 64 MiB of zeros compress to about 64 KiB; the bound here is 8 MiB.
    let bomb = dir.path().join("bomb.json.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).unwrap(),
        flate2::Compression::best(),
    );
    gz.write_all(b"{\"Records\": [").unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    gz.write_all(b"]}").unwrap();
    gz.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let r = netdrift_env(
        &db,
        &[
            "audit",
            "import",
            "--provider",
            "aws",
            &bomb.display().to_string(),
        ],
        &[("NETDRIFT_MAX_DECOMPRESSED_MIB", "8")],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("bomb.json.gz: decompresses to more than 8388608 bytes"),
        "{}",
        r.stderr
    );
    assert!(!db.exists(), "nothing created for a refused input");
    // Under the default bound the same file is read (it is only whitespace inside).
    let r = audit_import(&db, "aws", &bomb);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_partial_gcp_patch_is_graded_on_what_it_carries() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let fw = |src: &str| {
        serde_json::json!([{"kind": "compute#firewall", "name": "allow-ssh", "network": "https://www.googleapis.com/compute/v1/projects/p1/global/networks/vpc",
            "priority": 1000, "direction": "INGRESS", "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": [src],
            "selfLink": "https://www.googleapis.com/compute/v1/projects/p1/global/firewalls/allow-ssh"}])
    };
    let imp = |n: &str, v: serde_json::Value, at: &str| {
        let f = write_json(&dir.path().join(format!("fw{n}.json")), &v);
        ok(
            &db,
            &[
                "import",
                "--provider",
                "gcp",
                "--scope",
                "p1",
                "--at",
                at,
                &f,
            ],
            0,
        );
    };
    imp("1", fw("10.0.0.0/8"), "2026-11-24T02:00:00Z");
    approve_all(&db);
    imp("2", fw("0.0.0.0/0"), "2026-11-25T02:00:00Z");
    let entry = |id: &str, request: serde_json::Value| {
        serde_json::json!({"insertId": id, "timestamp": "2026-11-24T10:00:00Z", "resource": {"type": "gce_firewall_rule", "labels": {"project_id": "p1"}},
            "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "compute.googleapis.com",
                "methodName": "v1.compute.firewalls.patch", "resourceName": "projects/p1/global/firewalls/allow-ssh",
                "authenticationInfo": {"principalEmail": format!("{id}@acme.example")}, "request": request}})
    };
    // Only the allowed list is re-sent: read as a whole rule, its defaulted source 0.0.0.0/0
    // would "prove" the widening. Applied onto the prior rule it keeps 10.0.0.0/8.
    let f = write_json(
        &dir.path().join("a1.json"),
        &serde_json::json!([entry(
            "carol",
            serde_json::json!({"@type": "type.googleapis.com/compute.firewalls.patch", "alloweds": [{"IPProtocol": "tcp", "ports": ["22"]}]})
        )]),
    );
    ok(&db, &["audit", "import", "--provider", "gcp", &f], 0);
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    assert_eq!(
        v["drift"][0]["attribution"]["status"], "probable",
        "{}",
        v["drift"][0]["attribution"]
    );
    // The patch that did widen the source is exact.
    let f = write_json(
        &dir.path().join("a2.json"),
        &serde_json::json!([entry(
            "dan",
            serde_json::json!({"@type": "type.googleapis.com/compute.firewalls.patch", "sourceRanges": ["0.0.0.0/0"]})
        )]),
    );
    ok(&db, &["audit", "import", "--provider", "gcp", &f], 0);
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let a = &v["drift"][0]["attribution"];
    assert_eq!(a["status"], "exact", "{a}");
    assert_eq!(a["actors"][0]["principal"], "dan@acme.example", "{a}");
    assert_eq!(
        a["actors"].as_array().unwrap().len(),
        1,
        "carol's patch does not carry this access: {a}"
    );
}

#[cfg(all(feature = "gcp", feature = "azure"))]
#[test]
fn missing_gcp_and_azure_credentials_are_auth_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[[source]]\nprovider = \"gcp\"\nname = \"acme\"\nprojects = [\"p1\"]\nendpoint_url = \"http://127.0.0.1:9\"\nmax_attempts = 1\n\
         [[source]]\nprovider = \"azure\"\nname = \"corp\"\nsubscriptions = [\"0b1f6471-1bf0-4dda-aec3-111122223333\"]\nendpoint_url = \"http://127.0.0.1:9\"\nmax_attempts = 1\n\
         [report]\ndirectory = \"reports\"\nformats = [\"json\"]\n",
    )
    .unwrap();
    let r = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["run", "--config", &cfg.display().to_string()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", dir.path())
        .env("NETDRIFT_DB", dir.path().join("d.db"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    assert_eq!(r.status.code(), Some(3), "{out}");
    let causes: Vec<&str> = out.lines().filter(|l| l.starts_with("  cause: ")).collect();
    assert!(
        causes
            .iter()
            .any(|l| l.contains("no usable GCP credentials")
                && l.contains("gcloud auth application-default login")
                && l.ends_with("[auth]")),
        "{out}"
    );
    assert!(
        causes
            .iter()
            .any(|l| l.contains("no usable Azure credential")
                && l.contains("az login")
                && l.ends_with("[auth]")),
        "{out}"
    );
    for l in &causes {
        let op = l
            .trim_start_matches("  cause: ")
            .split(": ")
            .next()
            .unwrap();
        assert!(!l.contains(&format!("{op}: {op}")), "each cause once: {l}");
    }
}

#[test]
fn debug_output_of_a_configuration_never_shows_its_secrets() {
    let cfg = netdrift::config::Config::parse(
        "[report]\nwebhook_url = \"https://hooks.example.com/services/T000/B000/TOPSECRETPATH\"\n",
        Path::new("."),
        "inline.toml",
    )
    .unwrap();
    let dump = format!("{cfg:?}");
    assert!(dump.contains("webhook"), "{dump}");
    assert!(!dump.contains("TOPSECRETPATH"), "{dump}");
}
