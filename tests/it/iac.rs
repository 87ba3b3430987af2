//! Terraform state as a second source of truth (`[[iac]]`, `drift --terraform-state`,
//! `show --terraform-state`): managed or not, and whether drift was made outside Terraform.

use std::path::Path;

use serde_json::Value;

use crate::support::{demo, json as parse, netdrift, ok, repo};

fn tf(name: &str) -> String {
    repo()
        .join("testdata/terraform")
        .join(name)
        .display()
        .to_string()
}

fn import(db: &Path, day: &str, at: &str) {
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
}

/// Day 1 approved, day 2's drift collected.
fn drifted() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    import(&db, "day1", "2026-11-24T02:00:00Z");
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    import(&db, "day2", "2026-11-25T02:00:00Z");
    (dir, db)
}

fn item<'a>(doc: &'a Value, resource: &str, direction: &str) -> &'a Value {
    doc["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == resource && i["direction"] == direction)
        .unwrap_or_else(|| panic!("{resource} {direction}: {doc:#}"))
}

#[test]
fn iac_drift_outside_terraform_is_said_and_raised_and_unmanaged_is_listed() {
    let (_d, db) = drifted();
    let plain = parse(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    assert!(
        item(&plain, "sg-0a1b2c3d4e5f60002", "ingress")
            .get("iac")
            .is_none(),
        "no state, no field"
    );
    let doc = parse(
        &ok(
            &db,
            &[
                "drift",
                "--format",
                "json",
                "--terraform-state",
                &tf("state.json"),
            ],
            1,
        )
        .stdout,
    );
    let web = item(&doc, "sg-0a1b2c3d4e5f60001", "ingress");
    assert_eq!(
        web["iac"],
        serde_json::json!({"managed": true, "address": ["aws_security_group.web"],
            "matches_actual": false, "file": tf("state.json")})
    );
    assert!(
        web["reasons"].to_string().contains(
            "changed outside Terraform: the actual state differs from aws_security_group.web"
        ),
        "{web:#}"
    );
    // db-prod, managed from a child module: one level up, made by nobody known to be automation.
    let before = item(&plain, "sg-0a1b2c3d4e5f60002", "ingress");
    let db_item = item(&doc, "sg-0a1b2c3d4e5f60002", "ingress");
    assert_eq!(
        db_item["iac"]["address"][0],
        "module.data.aws_security_group.db"
    );
    assert_eq!(before["severity"], "low", "{before:#}");
    assert_eq!(db_item["severity"], "medium", "{db_item:#}");
    assert!(db_item["reasons"]
        .to_string()
        .contains("raised one level: made outside Terraform"));
    // The partner group nobody manages.
    let partner = item(&doc, "sg-0a1b2c3d4e5f60004", "ingress");
    assert_eq!(partner["iac"], serde_json::json!({"managed": false}));
    assert_eq!(
        partner["severity"],
        item(&plain, "sg-0a1b2c3d4e5f60004", "ingress")["severity"]
    );
    // The Markdown report says it per item.
    let m = ok(
        &db,
        &[
            "drift",
            "--format",
            "markdown",
            "--terraform-state",
            &tf("state.json"),
        ],
        1,
    )
    .stdout;
    assert!(
        m.contains(
            "terraform: managed by module.data.aws\\_security\\_group.db, changed outside Terraform"
        ),
        "{m}"
    );
    assert!(
        m.contains("terraform: unmanaged: no state file manages it"),
        "{m}"
    );
}

#[test]
fn iac_drift_made_through_terraform_matches_its_state() {
    let (_d, db) = drifted();
    let doc = parse(
        &ok(
            &db,
            &[
                "drift",
                "--format",
                "json",
                "--terraform-state",
                &tf("state-web-applied.json"),
            ],
            1,
        )
        .stdout,
    );
    let web = item(&doc, "sg-0a1b2c3d4e5f60001", "ingress");
    assert_eq!(web["iac"]["matches_actual"], true, "{web:#}");
    assert!(
        !web["reasons"].to_string().contains("outside Terraform"),
        "{web:#}"
    );
    // `show` says the same of the resource now.
    let s = ok(
        &db,
        &[
            "show",
            "web-prod",
            "--terraform-state",
            &tf("state-web-applied.json"),
        ],
        0,
    )
    .stdout;
    assert!(
        s.contains("terraform aws_security_group.web (matches its state)"),
        "{s}"
    );
    let s = ok(
        &db,
        &[
            "show",
            "partner-sftp",
            "--terraform-state",
            &tf("state.json"),
        ],
        0,
    )
    .stdout;
    assert!(s.contains("terraform unmanaged"), "{s}");
}

#[test]
fn iac_from_the_configuration_and_a_missing_state_is_a_config_error() {
    let (d, db) = drifted();
    let cfg = d.path().join("netdrift.toml");
    std::fs::write(
        &cfg,
        format!("[[iac]]\nterraform_state = {:?}\n", tf("state.json")),
    )
    .unwrap();
    let doc = parse(
        &ok(
            &db,
            &[
                "drift",
                "--format",
                "json",
                "--config",
                &cfg.display().to_string(),
            ],
            1,
        )
        .stdout,
    );
    assert_eq!(
        item(&doc, "sg-0a1b2c3d4e5f60002", "ingress")["iac"]["managed"],
        true
    );
    std::fs::write(&cfg, "\n[[iac]]\nterraform_state = \"nope.json\"\n").unwrap();
    let r = netdrift(&db, &["drift", "--config", &cfg.display().to_string()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("nope.json"),
        "{}",
        r.stderr
    );
    let r = netdrift(
        &db,
        &["drift", "--terraform-state", &tf("aws-reorder.json")],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("plan, not of a state"), "{}", r.stderr);
}
