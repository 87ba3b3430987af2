//! `netdrift plan`: a Terraform plan against the stored approved baseline and actual state,
//! one test per case of testdata/terraform/README.md, through the CLI as a pipeline runs it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{demo, json as parse, netdrift, ok, repo};

fn tf(name: &str) -> String {
    repo()
        .join("testdata/terraform")
        .join(name)
        .display()
        .to_string()
}

fn import(
    db: &Path,
    provider: &str,
    scope: &str,
    region: Option<&str>,
    at: &str,
    files: &[String],
) {
    let mut args = vec!["import", "--provider", provider, "--scope", scope];
    if let Some(r) = region {
        args.extend(["--region", r]);
    }
    args.extend(["--at", at]);
    args.extend(files.iter().map(String::as_str));
    ok(db, &args, 0);
}

fn aws_day(db: &Path, day: &str, at: &str) {
    let mut files = vec![
        demo(&format!("aws/{day}/security-groups.json")),
        demo(&format!("aws/{day}/network-acls.json")),
    ];
    for w in ["network-interfaces", "subnets", "route-tables"] {
        files.push(demo(&format!("aws/workloads/{w}.json")));
    }
    import(db, "aws", "111122223333", Some("us-east-1"), at, &files);
}

/// The demo's day-1 estate (and the Azure NSGs with the RDP rules), approved.
fn estate() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let at = "2026-11-24T02:00:00Z";
    aws_day(&db, "day1", at);
    import(
        &db,
        "gcp",
        "acme-prod",
        None,
        at,
        &[demo("gcp/day1/firewalls.json")],
    );
    import(
        &db,
        "azure",
        "0b1f6471-1bf0-4dda-aec3-111122223333",
        None,
        at,
        &[tf("estate/azure-nsgs.json")],
    );
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    (dir, db)
}

fn plan(db: &Path, file: &str, code: i32) -> Value {
    parse(&ok(db, &["plan", &tf(file), "--format", "json"], code).stdout)
}

fn from_plan(doc: &Value) -> Vec<&Value> {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["from_plan"] == true)
        .collect()
}

#[test]
fn plan_a_widening_inline_ingress_fails_the_gate_and_names_the_address() {
    let (_d, db) = estate();
    let doc = plan(&db, "aws-widen-inline.json", 1);
    let items = from_plan(&doc);
    assert_eq!(items.len(), 1, "{doc:#}");
    let i = items[0];
    assert_eq!(i["address"][0], "module.edge.aws_security_group.web");
    assert_eq!(i["resource"], "sg-0a1b2c3d4e5f60001");
    assert_eq!(i["effect"], "expands");
    assert_eq!(i["world"], true);
    assert_eq!(i["public"], true);
    assert_eq!(i["newly_allowed"][0]["ports"], "3389", "{i:#}");
    // Reach against the stored workloads: the web tier's interface is public, but its
    // subnet's network ACL does not let RDP in (day 1), so critical becomes high.
    assert_eq!(i["reach"], "internal", "{i:#}");
    assert_eq!(i["severity"], "high", "{i:#}");
    assert!(i["reasons"].to_string().contains("network ACL"), "{i:#}");
    assert_eq!(
        doc["ignored"],
        serde_json::json!({"aws_instance": 1, "random_id": 1}),
        "other types are listed once, by type"
    );
    // The table and the pull-request comment say the same.
    let t = ok(&db, &["plan", &tf("aws-widen-inline.json")], 1).stdout;
    assert!(t.contains("module.edge.aws_security_group.web"), "{t}");
    assert!(t.contains("ignored: aws_instance (1 change)"), "{t}");
    let m = ok(
        &db,
        &["plan", &tf("aws-widen-inline.json"), "--format", "markdown"],
        1,
    )
    .stdout;
    let line = m
        .lines()
        .find(|l| l.contains("module.edge.aws_security_group.web"))
        .unwrap_or_else(|| panic!("{m}"));
    assert!(line.starts_with("- **high**"), "{line}");
    assert!(line.contains("tcp/3389 from 0.0.0.0/0"), "{line}");
    assert!(line.contains("reach internal"), "{line}");
}

#[test]
fn plan_under_an_exception_passes_and_without_it_fails() {
    let (_d, db) = estate();
    let doc = plan(&db, "aws-ssh-world.json", 1);
    let i = from_plan(&doc)[0];
    assert_eq!(i["severity"], "critical", "{i:#}");
    assert_eq!(i["reach"], "internet", "{i:#}");
    assert_eq!(i["exposed"][0]["address"], "54.210.167.204");
    let m = ok(
        &db,
        &["plan", &tf("aws-ssh-world.json"), "--format", "markdown"],
        1,
    )
    .stdout;
    assert!(
        m.contains("- **critical** `aws_security_group.web`: ingress allows tcp/22 from 0.0.0.0/0 except 10.0.0.0/8; reach internet 54.210.167.204."),
        "{m}"
    );
    // Day 2 opened the same SSH; it was excepted; day 3 reverted it. The plan now codifies it.
    aws_day(&db, "day2", "2026-11-25T02:00:00Z");
    let drift = parse(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let id = drift["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60001")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &db,
        &[
            "exception",
            "add",
            &id,
            "--by",
            "alice",
            "--reason",
            "vendor migration",
            "--expires",
            "2099-01-01",
        ],
        0,
    );
    aws_day(&db, "day1", "2026-11-26T02:00:00Z");
    let doc = plan(&db, "aws-ssh-world.json", 0);
    let i = from_plan(&doc)[0];
    assert_eq!(i["exception"]["reason"], "vendor migration", "{i:#}");
}

#[test]
fn plan_that_only_reorders_or_replaces_with_the_same_access_has_no_item() {
    let (_d, db) = estate();
    for f in ["aws-reorder.json", "aws-replace.json"] {
        let doc = plan(&db, f, 0);
        assert_eq!(doc["items"], serde_json::json!([]), "{f}: {doc:#}");
        assert_eq!(doc["not_judged"], serde_json::json!([]), "{f}: {doc:#}");
        assert!(
            doc["vs_actual"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["effect"] == "cosmetic"),
            "{f}: {doc:#}"
        );
    }
}

#[test]
fn plan_with_a_value_known_only_after_apply_takes_the_widest_and_says_so() {
    let (_d, db) = estate();
    let doc = plan(&db, "aws-unknown-ref.json", 1);
    let i = from_plan(&doc)
        .into_iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60002")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(i["world"], true, "never narrower than the world: {i:#}");
    assert_eq!(
        i["unknown"],
        serde_json::json!(["aws_security_group_rule.db_ssh.source_security_group_id"])
    );
    assert!(i["reasons"].to_string().contains("known only after apply"));
    // A rule resource on a group the same plan creates is placed by the configuration's reference.
    let doc = plan(&db, "aws-new-group-rule.json", 1);
    let i = from_plan(&doc)
        .into_iter()
        .find(|i| i["resource"] == "terraform:aws_security_group.admin")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(
        i["address"],
        serde_json::json!([
            "aws_security_group.admin",
            "aws_vpc_security_group_ingress_rule.admin_https"
        ])
    );
    assert_eq!(i["newly_allowed"][0]["ports"], "8443", "{i:#}");
    assert_eq!(i["reach"], "unattached", "{i:#}");
}

#[test]
fn plan_that_reverts_drift_is_seen_narrowing_the_actual_state() {
    let (_d, db) = estate();
    aws_day(&db, "day2", "2026-11-25T02:00:00Z");
    let doc = plan(&db, "aws-revert.json", 0);
    assert!(
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["resource"] != "sg-0a1b2c3d4e5f60001"),
        "nothing beyond the baseline on web-prod: {doc:#}"
    );
    let v = &doc["vs_actual"][0];
    assert_eq!(v["resource"], "sg-0a1b2c3d4e5f60001");
    assert_eq!(v["effect"], "narrows", "{v:#}");
    let m = ok(
        &db,
        &["plan", &tf("aws-revert.json"), "--format", "markdown"],
        0,
    )
    .stdout;
    assert!(
        m.contains("Opens nothing beyond the approved baseline."),
        "{m}"
    );
    assert!(m.contains("it narrows"), "{m}");
    // Drift already there and left as it is does not fail the gate: ssh-world on day 2's
    // actual state adds nothing the actual state does not have.
    let doc = plan(&db, "aws-ssh-world.json", 0);
    let i = &doc["items"][0];
    assert_eq!(i["from_plan"], false, "{i:#}");
    assert!(i["reasons"]
        .to_string()
        .contains("already in the actual state"));
}

#[test]
fn plan_gcp_rule_without_source_ranges_is_world_open() {
    let (_d, db) = estate();
    let doc = plan(&db, "gcp-new-rule-world.json", 1);
    let i = from_plan(&doc)[0];
    assert_eq!(i["address"][0], "google_compute_firewall.admin");
    assert_eq!(
        i["resource"],
        "projects/acme-prod/global/firewalls/allow-admin-console"
    );
    assert_eq!(i["scope"], "gcp:acme-prod");
    assert_eq!(i["world"], true, "{i:#}");
    // allow-internal already lets 10.128.0.0/9 in on every TCP port.
    assert_eq!(
        i["newly_allowed"][0]["peer"], "0.0.0.0/0 except 10.128.0.0/9",
        "{i:#}"
    );
    assert_eq!(i["newly_allowed"][0]["target"], "tag:admin", "{i:#}");
}

#[test]
fn plan_azure_priority_change_that_lets_an_allow_win() {
    let (_d, db) = estate();
    let doc = plan(&db, "azure-priority.json", 1);
    let i = from_plan(&doc)[0];
    assert!(
        i["resource"].as_str().unwrap().ends_with("/app-nsg"),
        "{i:#}"
    );
    assert_eq!(i["effect"], "expands", "{i:#}");
    assert!(
        i["newly_allowed"].to_string().contains("Internet")
            || i["newly_allowed"].to_string().contains("0.0.0.0/0"),
        "RDP from the internet now wins: {i:#}"
    );
    assert_eq!(i["newly_allowed"][0]["ports"], "3389", "{i:#}");
}

#[test]
fn plan_errors_name_the_file_and_field_and_change_nothing() {
    let (_d, db) = estate();
    let before = crate::support::dump(&db);
    let r = netdrift(&db, &["plan", &tf("unsupported-version.json")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("unsupported-version.json"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("format_version"), "{}", r.stderr);
    assert!(r.stderr.contains("\"2.0\""), "{}", r.stderr);
    let r = netdrift(&db, &["plan", &tf("state.json")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("state, not of a plan"), "{}", r.stderr);
    let r = netdrift(&db, &["plan", &tf("missing.json")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
    assert_eq!(crate::support::dump(&db), before, "a plan never writes");
}

#[test]
fn plan_of_a_resource_nothing_collected_is_not_judged_and_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    // Only GCP is stored: the AWS group of the plan was never collected.
    import(
        &db,
        "gcp",
        "acme-prod",
        None,
        "2026-11-24T02:00:00Z",
        &[demo("gcp/day1/firewalls.json")],
    );
    let doc = plan(&db, "aws-reorder.json", 1);
    assert_eq!(
        doc["not_judged"][0]["address"], "aws_security_group.web",
        "{doc:#}"
    );
    assert!(doc["not_judged"][0]["why"]
        .to_string()
        .contains("not in any stored snapshot"));
    // A stored scope without an approved baseline cannot be judged either.
    let doc = plan(&db, "gcp-new-rule-world.json", 1);
    assert!(
        doc["not_judged"][0]["why"]
            .to_string()
            .contains("no approved baseline"),
        "{doc:#}"
    );
}
