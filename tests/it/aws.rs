//! Live AWS collection against moto (server mode) behind the project's loopback proxy
//! (tests/support/aws_proxy.py: pagination, LookupEvents, fault injection).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

pub(crate) const A: &str = "111111111111";
pub(crate) const B: &str = "222222222222";

pub(crate) struct Emulator {
    moto: Child,
    proxy: Child,
    pub(crate) endpoint: String,
    /// moto itself: a change made here passes no proxy, so CloudTrail never hears of it.
    pub(crate) moto_endpoint: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.proxy.kill();
        let _ = self.moto.kill();
        let _ = self.proxy.wait();
        let _ = self.moto.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

pub(crate) fn aws_env(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
}

impl Emulator {
    pub(crate) fn start() -> Emulator {
        let (mp, pp) = (free_port(), free_port());
        let moto = aws_env(Command::new("python3").args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &mp.to_string(),
        ]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 not found: scripts/test installs moto[server] from PyPI");
        let proxy = aws_env(
            Command::new("python3").args([
                repo()
                    .join("tests/support/aws_proxy.py")
                    .display()
                    .to_string(),
                pp.to_string(),
                format!("http://127.0.0.1:{mp}"),
            ]),
        )
        .env("PAGE_SIZE", "3")
        .stdout(Stdio::null())
        .spawn()
        .expect("python3");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", mp)).is_err()
            || TcpStream::connect(("127.0.0.1", pp)).is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto or the proxy did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Emulator {
            moto,
            proxy,
            endpoint: format!("http://127.0.0.1:{pp}"),
            moto_endpoint: format!("http://127.0.0.1:{mp}"),
        }
    }

    fn port(&self) -> u16 {
        self.endpoint.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub(crate) fn seed(&self, args: &[&str]) -> String {
        self.seed_at(&self.endpoint, args)
    }

    /// Seed through `endpoint` (the proxy, or moto itself to leave no CloudTrail record).
    pub(crate) fn seed_at(&self, endpoint: &str, args: &[&str]) -> String {
        let mut cmd = Command::new("python3");
        cmd.arg(repo().join("tests/support/aws_seed.py"))
            .arg(endpoint)
            .args(args);
        let out = aws_env(&mut cmd).output().unwrap();
        assert!(
            out.status.success(),
            "seed {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub(crate) fn faults(&self, rules: Value) {
        http(self.port(), "POST", "/__faults", &rules.to_string());
    }

    pub(crate) fn clear_faults(&self) {
        http(self.port(), "DELETE", "/__faults", "");
    }

    /// Hand the proxy's CloudTrail records (`{"Records": [...]}`): a late delivery.
    pub(crate) fn trail_records(&self, records: Value) {
        http(self.port(), "POST", "/__trail", &records.to_string());
    }

    pub(crate) fn calls(&self) -> Vec<Value> {
        serde_json::from_str(&http(self.port(), "GET", "/__calls", "")).unwrap()
    }
}

pub(crate) fn config(dir: &Path, endpoint: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"
[report]
directory = "reports"

[[source]]
provider = "aws"
name = "org"
regions = ["us-east-1", "eu-west-1"]
assume_roles = ["arn:aws:iam::{A}:role/NetdriftAudit", "arn:aws:iam::{B}:role/NetdriftAudit"]
endpoint_url = "{endpoint}"
max_attempts = 3
scope_timeout_seconds = 6
{extra}
"#
    );
    let path = dir.join("aws.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) fn run(db: &Path, cfg: &Path) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netdrift"));
    cmd.args(["run", "--config", &cfg.display().to_string()])
        .env("NETDRIFT_DB", db);
    let out = aws_env(&mut cmd).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

pub(crate) fn seed_estate(emu: &Emulator) -> (Vec<String>, Vec<String>) {
    let a1: Value = serde_json::from_str(&emu.seed(&["seed", A, "us-east-1", "16", "2"])).unwrap();
    emu.seed(&["seed", A, "eu-west-1", "3", "2"]);
    let b1: Value = serde_json::from_str(&emu.seed(&["seed", B, "us-east-1", "3", "2"])).unwrap();
    emu.seed(&["seed", B, "eu-west-1", "3", "2"]);
    let ids = |v: &Value| {
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    (ids(&a1), ids(&b1))
}

#[test]
fn two_accounts_two_regions_paginated_then_drift_names_the_actor() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aws.db");
    let (a_groups, _) = seed_estate(&emu);
    let cfg = config(dir.path(), &emu.endpoint, "");
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 3, "first run: no baseline yet\n{out}\n{err}");
    for scope in [
        format!("aws:{A}:us-east-1"),
        format!("aws:{A}:eu-west-1"),
        format!("aws:{B}:us-east-1"),
        format!("aws:{B}:eu-west-1"),
    ] {
        assert!(
            out.contains(&format!("collected {scope}: complete")),
            "{scope}\n{out}\n{err}"
        );
    }
    // At least five pages of DescribeSecurityGroups in the big scope.
    let pages = emu
        .calls()
        .iter()
        .filter(|c| {
            c["action"] == "DescribeSecurityGroups"
                && c["account"] == A
                && c["region"] == "us-east-1"
        })
        .count();
    assert!(pages >= 5, "{pages} pages");
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    // Someone opens SSH to the world and widens a rule in place.
    emu.seed(&["open-ssh", A, "us-east-1", &a_groups[3]]);
    let rule_id = emu.seed(&["widen", A, "us-east-1", &a_groups[5]]);
    assert!(rule_id.starts_with("sgr-"));
    std::thread::sleep(Duration::from_millis(1100));
    let mark = emu.calls().len();
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 1, "{out}\n{err}");
    // Rule ids are asked for only where groups changed: the two changed groups of one scope,
    // by group-id filter; the other scopes' unchanged groups keep their stored ids.
    let rule_calls: Vec<Value> = emu.calls()[mark..]
        .iter()
        .filter(|c| c["action"] == "DescribeSecurityGroupRules")
        .cloned()
        .collect();
    assert!(!rule_calls.is_empty());
    assert!(
        rule_calls
            .iter()
            .all(|c| c["account"] == A && c["region"] == "us-east-1"),
        "{rule_calls:?}"
    );
    let shown = |id: &str| {
        json(&ok(&db, &["show", id, "--format", "json"], 0).stdout)["states"][0]["resource"].clone()
    };
    let unchanged = shown(&a_groups[0]);
    let ids = unchanged["rules"].as_array().unwrap();
    assert!(
        !ids.is_empty()
            && ids
                .iter()
                .all(|r| r["rule_id"].as_str().is_some_and(|x| x.starts_with("sgr-"))),
        "{unchanged}"
    );
    assert!(
        shown(&a_groups[5]).to_string().contains(&rule_id),
        "the widened rule keeps its id"
    );
    let v = json(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    let items = v["drift"].as_array().unwrap();
    let ssh = items
        .iter()
        .find(|i| i["resource"] == a_groups[3].as_str())
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(ssh["newly_allowed"][0]["ports"], "22");
    assert_eq!(ssh["world"], true);
    let a = &ssh["attribution"];
    assert_eq!(a["status"], "exact", "{a}");
    assert_eq!(
        a["actors"][0]["principal"],
        format!("arn:aws:sts::{A}:assumed-role/NetdriftAudit/seeder")
    );
    assert_eq!(
        a["actors"][0]["event_name"],
        "AuthorizeSecurityGroupIngress"
    );
    let widened = items
        .iter()
        .find(|i| i["resource"] == a_groups[5].as_str())
        .unwrap();
    assert_eq!(widened["attribution"]["status"], "exact", "{widened}");
    assert_eq!(
        widened["attribution"]["actors"][0]["event_name"],
        "ModifySecurityGroupRules"
    );
    assert_eq!(widened["change"], "modified");
    // LookupEvents went through the proxy.
    assert!(emu.calls().iter().any(|c| c["action"] == "LookupEvents"));
    assert_eq!(items.len(), 2, "only the two changes: {v}");
}

#[test]
fn failing_scopes_are_coverage_gaps_never_deletions() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aws.db");
    seed_estate(&emu);
    let cfg = config(dir.path(), &emu.endpoint, "");
    run(&db, &cfg);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    emu.faults(serde_json::json!([
        // Throttling, a 5xx and a dropped connection that recover within the retries.
        {"action": "DescribeSecurityGroups", "account": B, "region": "eu-west-1", "mode": "throttle", "count": 1},
        {"action": "DescribeNetworkAcls", "account": B, "region": "eu-west-1", "mode": "5xx", "count": 1},
        {"action": "DescribeNetworkInterfaces", "account": B, "region": "eu-west-1", "mode": "drop", "count": 1},
        // Throttling that exhausts them.
        {"action": "DescribeSecurityGroups", "account": A, "region": "eu-west-1", "mode": "throttle"},
        // Permission denied on one call.
        {"action": "DescribeNetworkAcls", "account": B, "region": "us-east-1", "mode": "deny"},
        // A region that does not answer in time.
        {"action": "DescribeSecurityGroups", "account": A, "region": "us-east-1", "mode": "delay", "seconds": 15},
    ]));
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 3, "coverage findings, no drift\n{out}\n{err}");
    assert!(
        out.contains(&format!("collected aws:{B}:eu-west-1: complete")),
        "{out}"
    );
    assert!(
        out.contains(&format!("collected aws:{A}:us-east-1: failed")),
        "{out}"
    );
    assert!(
        out.contains(&format!("collected aws:{A}:eu-west-1: partial")),
        "{out}"
    );
    assert!(
        out.contains(&format!("collected aws:{B}:us-east-1: partial")),
        "{out}"
    );
    let v = json(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    assert!(
        v["drift"].as_array().unwrap().is_empty(),
        "nothing is reported as removed: {v}"
    );
    let cov = v["coverage"].to_string();
    assert!(
        cov.contains("the role needs ec2:DescribeNetworkAcls"),
        "{cov}"
    );
    assert!(cov.contains("\"code\":\"throttled\""), "{cov}");
    assert!(cov.contains("\"code\":\"timeout\""), "{cov}");
}

#[test]
fn iam_policy_covers_every_action() {
    // The policy test proper runs in providers/aws; here the document must parse and be
    // read-only.
    let policy = json(&std::fs::read_to_string(repo().join("docs/iam/aws-readonly.json")).unwrap());
    assert_eq!(policy["Version"], "2012-10-17");
}

#[test]
fn organizations_discovery_and_every_enabled_region() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("org.db");
    let members: Vec<String> =
        serde_json::from_str(&emu.seed(&["org", "123456789012", "us-east-1", "2"])).unwrap();
    assert_eq!(members.len(), 2);
    let text = format!(
        "[report]\ndirectory = \"reports\"\n\n[[source]]\nprovider = \"aws\"\nname = \"org\"\nregions = \"all\"\nhome_region = \"us-east-1\"\norganization_role = \"NetdriftAudit\"\nendpoint_url = \"{}\"\ncloudtrail = false\nconcurrency = 16\n",
        emu.endpoint
    );
    let cfg = dir.path().join("org.toml");
    std::fs::write(&cfg, text).unwrap();
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 3, "{out}\n{err}");
    for m in &members {
        assert!(
            out.contains(&format!("collected aws:{m}:us-east-1: complete")),
            "{m}\n{out}\n{err}"
        );
        assert!(
            out.contains(&format!("collected aws:{m}:ap-southeast-2: complete")),
            "every enabled region\n{out}"
        );
    }
    let calls = emu.calls();
    assert!(calls.iter().any(|c| c["action"] == "ListAccounts"));
    assert!(calls.iter().any(|c| c["action"] == "DescribeRegions"));
}

#[test]
fn failed_discovery_and_unreadable_cloudtrail_are_findings() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    // Organizations discovery without an organization: ListAccounts fails. That is a finding
    // naming the source and the call, and the caller's own account is no stand-in for the
    // accounts it would have listed.
    let cfg = dir.path().join("org.toml");
    std::fs::write(
        &cfg,
        format!(
            "[report]\ndirectory = \"reports\"\n\n[[source]]\nprovider = \"aws\"\nname = \"org\"\nregions = [\"us-east-1\"]\norganization_role = \"NetdriftAudit\"\nendpoint_url = \"{}\"\ncloudtrail = false\nmax_attempts = 1\n",
            emu.endpoint
        ),
    )
    .unwrap();
    // moto without an organization lists no account: the source resolves to no scope.
    let (code, out, err) = run(&dir.path().join("org.db"), &cfg);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        out.contains("coverage: discovery-failed aws:org: aws:org resolved to no scope"),
        "{out}\n{err}"
    );
    // ListAccounts refused.
    emu.faults(serde_json::json!([{"action": "ListAccounts", "mode": "deny"}]));
    let (code, out, err) = run(&dir.path().join("org.db"), &cfg);
    assert_eq!(code, 3, "{out}\n{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("coverage: discovery-failed aws:org"))
        .unwrap_or_else(|| panic!("{out}\n{err}"));
    assert!(line.contains("ListAccounts failed"), "{line}");
    assert!(!out.contains("collected aws:"), "{out}");
    let v = json(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    assert_eq!(v["coverage"][0]["problems"][0]["operation"], "ListAccounts");

    // CloudTrail refused in one account and region: a finding for that scope and window.
    seed_estate(&emu);
    emu.faults(serde_json::json!([
        {"action": "LookupEvents", "account": A, "region": "us-east-1", "mode": "deny"},
    ]));
    let (code, out, err) = run(
        &dir.path().join("aws.db"),
        &config(dir.path(), &emu.endpoint, ""),
    );
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        out.lines().any(|l| l.starts_with(&format!(
            "coverage: audit-read-failed aws:{A}:us-east-1: audit logs of {A} could not be read"
        ))),
        "{out}\n{err}"
    );
    assert!(
        !out.contains(&format!("audit-read-failed aws:{B}")),
        "only the refused scope: {out}"
    );
}

#[test]
fn live_reach_names_the_interface_its_elastic_ip_exposes() {
    // moto: a VPC with an internet gateway, a public subnet routed to it with an instance whose
    // interface holds an Elastic IP (moto hands those out from 127.0.0.0/8: the association
    // and the route make it internet-facing, whatever its range), and a private instance.
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aws.db");
    let w: Value = serde_json::from_str(&emu.seed(&["workload", A, "us-east-1"])).unwrap();
    let cfg = config(dir.path(), &emu.endpoint, "cloudtrail = false");
    run(&db, &cfg);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    for g in ["web", "db"] {
        emu.seed(&["open-ssh", A, "us-east-1", w[g].as_str().unwrap()]);
    }
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 1, "{out}\n{err}");
    let v = json(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    let item = |g: &str| {
        v["drift"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["resource"] == w[g])
            .unwrap_or_else(|| panic!("no drift item for {g}: {v}"))
            .clone()
    };
    let web = item("web");
    assert_eq!(web["reach"], "internet", "{web}");
    assert_eq!(
        web["exposed"],
        serde_json::json!([{"id": w["web_eni"], "instance": w["web_instance"],
            "address": w["address"], "ports": ["tcp/22"]}]),
        "{web}"
    );
    assert_eq!(web["severity"], "critical", "{web}");
    let db_item = item("db");
    assert_eq!(db_item["reach"], "internal", "no public address: {db_item}");
    assert_eq!(db_item["severity"], "high", "one level lower: {db_item}");
    // Every workload list is read once per scope.
    for action in [
        "DescribeNetworkInterfaces",
        "DescribeSubnets",
        "DescribeRouteTables",
    ] {
        assert!(
            emu.calls().iter().any(|c| c["action"] == action),
            "{action} is called"
        );
    }
}

#[test]
fn a_workload_list_that_is_denied_makes_reach_unknown_and_names_the_permission() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aws.db");
    let w: Value = serde_json::from_str(&emu.seed(&["workload", A, "us-east-1"])).unwrap();
    let cfg = config(dir.path(), &emu.endpoint, "cloudtrail = false");
    run(&db, &cfg);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    emu.seed(&["open-ssh", A, "us-east-1", w["web"].as_str().unwrap()]);
    emu.faults(serde_json::json!([
        {"action": "DescribeRouteTables", "account": A, "region": "us-east-1", "mode": "deny"},
    ]));
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains(&format!("collected aws:{A}:us-east-1: partial")),
        "{out}"
    );
    let v = json(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    let web = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == w["web"])
        .unwrap()
        .clone();
    assert_eq!(web["reach"], "unknown", "{web}");
    assert_eq!(
        web["severity"], "critical",
        "unknown reach changes nothing: {web}"
    );
    let cov = v["coverage"].to_string();
    assert!(
        cov.contains("the role needs ec2:DescribeRouteTables"),
        "{cov}"
    );
    assert!(
        cov.contains("aws_route_table"),
        "the uncollected kind is named: {cov}"
    );
}

#[test]
fn revert_steps_applied_through_boto3_leave_no_drift() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aws.db");
    let seeded: Value =
        serde_json::from_str(&emu.seed(&["seed", A, "us-east-1", "2", "2"])).unwrap();
    let g: Vec<String> = seeded["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    let acl = emu.seed(&["nacl", A, "us-east-1", seeded["vpc"].as_str().unwrap()]);
    let cfg = config(dir.path(), &emu.endpoint, "");
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 3, "{out}\n{err}");
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    // Added and removed on one group, widened in place on the other, a network ACL reordered.
    emu.seed(&["open-ssh", A, "us-east-1", &g[0]]);
    emu.seed(&["revoke", A, "us-east-1", &g[0]]);
    let widened = emu.seed(&["widen", A, "us-east-1", &g[1]]);
    emu.seed(&["drift-nacl", A, "us-east-1", &acl]);
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 1, "{out}\n{err}");
    let drift = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let items: Vec<Value> = drift["drift"].as_array().unwrap().clone();
    let mut calls = Vec::new();
    for resource in [&g[0], &g[1], &acl] {
        let item = items
            .iter()
            .find(|i| i["resource"] == resource.as_str())
            .unwrap_or_else(|| panic!("{resource}: {drift:#}"));
        let plan = ok(
            &db,
            &["revert", item["id"].as_str().unwrap(), "--format", "json"],
            0,
        )
        .stdout;
        let v = json(&plan);
        assert!(!v["steps"].as_array().unwrap().is_empty(), "{v:#}");
        let f = dir.path().join(format!("{resource}.json"));
        std::fs::write(&f, &plan).unwrap();
        calls.push((resource.clone(), v));
        emu.seed(&["apply", A, "us-east-1", &f.display().to_string()]);
    }
    let names = |v: &Value| -> Vec<String> {
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["call"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&calls[0].1),
        [
            "RevokeSecurityGroupIngress",
            "AuthorizeSecurityGroupIngress"
        ]
    );
    assert_eq!(
        calls[0].1["steps"][0]["params"]["SecurityGroupRuleIds"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "the added rule is revoked by its sgr- id: {:#}",
        calls[0].1
    );
    assert_eq!(names(&calls[1].1), ["ModifySecurityGroupRules"]);
    assert_eq!(
        calls[1].1["steps"][0]["params"]["SecurityGroupRules"][0]["SecurityGroupRuleId"],
        widened.as_str()
    );
    assert_eq!(
        names(&calls[2].1),
        [
            "CreateNetworkAclEntry",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry"
        ],
        "narrowing first: the deny comes back, the added allow goes, then the widened entry narrows: {:#}",
        calls[2].1
    );
    assert!(calls[2].1["commands"][0]
        .as_str()
        .unwrap()
        .starts_with(&format!(
            "aws ec2 create-network-acl-entry --network-acl-id {acl} --rule-number 110 --ingress"
        )));
    std::thread::sleep(Duration::from_millis(1100));
    let (_, out, err) = run(&db, &cfg);
    let after = json(&ok(&db, &["drift", "--format", "json"], 0).stdout);
    assert_eq!(
        after["drift"],
        serde_json::json!([]),
        "no drift after the steps, not even cosmetic\n{out}\n{err}"
    );
}

/// `netdrift ARGS` with the emulator's credentials.
fn aws_cli(db: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netdrift"));
    cmd.args(args).env("NETDRIFT_DB", db).stdin(Stdio::null());
    let out = aws_env(&mut cmd).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn revert_apply_refuses_a_changed_resource_then_reverts_and_records_it() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aws.db");
    let seeded: Value =
        serde_json::from_str(&emu.seed(&["seed", A, "us-east-1", "1", "2"])).unwrap();
    let g = seeded["groups"][0].as_str().unwrap().to_string();
    let cfg = config(dir.path(), &emu.endpoint, "");
    let c = cfg.display().to_string();
    assert_eq!(run(&db, &cfg).0, 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    emu.seed(&["open-ssh", A, "us-east-1", &g]);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(run(&db, &cfg).0, 1);
    let item_of = |db: &Path| {
        let d = json(&ok(db, &["drift", "--format", "json"], 1).stdout);
        d["drift"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["resource"] == g.as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let item = item_of(&db);
    // Without a terminal, --apply needs --yes.
    let (code, _, err) = aws_cli(&db, &["revert", &item, "--apply", "--config", &c]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --yes"), "{err}");
    // The group changes again before the revert: refused, naming the difference, no call made.
    emu.seed(&["revoke", A, "us-east-1", &g]);
    std::thread::sleep(Duration::from_millis(1100));
    let mark = emu.calls().len();
    let (code, _, err) = aws_cli(&db, &["revert", &item, "--apply", "--yes", "--config", &c]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("changed since the item was computed"), "{err}");
    assert!(
        err.contains("no longer has: ingress allow tcp 10.1.0.0/16"),
        "{err}"
    );
    let writes = |from: usize| -> Vec<String> {
        emu.calls()[from..]
            .iter()
            .filter_map(|c| c["action"].as_str())
            .filter(|a| {
                !a.starts_with("Describe")
                    && !a.starts_with("Get")
                    && !a.starts_with("Lookup")
                    && *a != "AssumeRole"
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(writes(mark), Vec::<String>::new(), "nothing was changed");
    // The current item: revert it through the SDK, with a ticket.
    let item = item_of(&db);
    let mark = emu.calls().len();
    let (code, out, err) = aws_cli(
        &db,
        &[
            "revert", &item, "--apply", "--yes", "--ticket", "CHG-42", "--config", &c,
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("{item} is gone on the next collection")),
        "{out}"
    );
    assert_eq!(
        writes(mark),
        [
            "RevokeSecurityGroupIngress",
            "AuthorizeSecurityGroupIngress"
        ],
        "exactly the plan's calls"
    );
    assert_eq!(
        json(&ok(&db, &["drift", "--format", "json"], 0).stdout)["drift"],
        serde_json::json!([])
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (ticket, confirmed, by, outcomes): (String, bool, String, String) = conn
        .query_row(
            "SELECT ticket, confirmed, run_by, outcomes FROM remediations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((ticket.as_str(), confirmed), ("CHG-42", true));
    assert!(!by.is_empty());
    assert!(outcomes.contains("\"ok\":true"), "{outcomes}");
    // The evidence bundle carries it.
    let tar = dir.path().join("evidence.tar");
    ok(
        &db,
        &[
            "evidence",
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--out",
            &tar.display().to_string(),
        ],
        0,
    );
    let listing = std::process::Command::new("tar")
        .args(["-xOf", &tar.display().to_string(), "remediations.json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("CHG-42"));
    // An item under an exception is not reverted without --force.
    emu.seed(&["open-ssh", A, "us-east-1", &g]);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(run(&db, &cfg).0, 1);
    let item = item_of(&db);
    ok(
        &db,
        &[
            "exception",
            "add",
            &item,
            "--by",
            "alice",
            "--reason",
            "migration",
            "--expires",
            "2099-01-01",
        ],
        0,
    );
    let (code, _, err) = aws_cli(&db, &["revert", &item, "--apply", "--yes", "--config", &c]);
    assert_eq!(code, 2);
    assert!(err.contains("not reverted without --force"), "{err}");
}
