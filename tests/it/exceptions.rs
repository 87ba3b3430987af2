//! Exceptions by pattern (`[[exception]]`) and `exception remove`: what a pattern selects, the
//! envelope it allows (a wider change is still reported), expiry, and a history that keeps
//! what was taken back.

use crate::support::*;

/// Day 1 approved, day 2 imported: the demo's drift without attribution.
fn estate() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    approve_all(&db);
    import_day(&db, "day2", "2026-11-25T02:00:00Z");
    (dir, db)
}

fn item<'a>(report: &'a serde_json::Value, resource: &str) -> &'a serde_json::Value {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == resource && i["change"] != "unchanged")
        .unwrap_or_else(|| panic!("no drift on {resource}: {report:#}"))
}

const PATTERNS: &str = r#"
[[exception]]
name = "storefront-ssh"
owner = "storefront-team"
reason = "bastionless SSH for the storefront until the SSM rollout"
ticket = "SEC-42"
expires = "2027-06-30"
tags = ["team=store*"]
direction = "ingress"
allow = ["tcp/22 0.0.0.0/0"]

[[exception]]
name = "db-from-app-subnet"
owner = "dba"
reason = "the app subnet reaches PostgreSQL"
expires = "2027-06-30"
resources = ["db-prod"]
allow = ["tcp/5432 10.0.0.0/16"]

[[exception]]
name = "partner-old"
owner = "partners"
reason = "the partner's SFTP, until the contract ended"
expires = "2026-11-01"
descriptions = ["Partner *"]
allow = ["tcp/22 52.94.76.0/22"]

[[exception]]
name = "not-this-scope"
owner = "x"
reason = "another account"
expires = "2027-06-30"
scopes = ["aws:999999999999:*"]
allow = ["all any"]
"#;

#[test]
fn a_pattern_excepts_what_it_selects_within_its_envelope() {
    let (dir, db) = estate();
    let cfg = dir.path().join("ex.toml");
    std::fs::write(&cfg, PATTERNS).unwrap();
    let c = cfg.display().to_string();
    let r = ok(&db, &["drift", "--format", "json", "--config", &c], 1);
    let v = json(&r.stdout);

    // Selected by tag, and its widening (tcp/22 from the world less 10/8) is inside tcp/22 any.
    let web = item(&v, "sg-0a1b2c3d4e5f60001");
    assert_eq!(web["exception"]["pattern"], "storefront-ssh", "{web:#}");
    assert_eq!(web["exception"]["owner"], "storefront-team");
    assert_eq!(web["exception"]["ticket"], "SEC-42");
    // Selected by name, but it widened beyond its envelope: still reported, and said why.
    let db_item = item(&v, "sg-0a1b2c3d4e5f60002");
    assert!(db_item["exception"].is_null(), "{db_item:#}");
    assert!(
        db_item["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("pattern exception \"db-from-app-subnet\" does not cover this access: it allows only tcp/5432 10.0.0.0/16")),
        "{db_item:#}"
    );
    // Selected by description, but expired.
    let partner = item(&v, "sg-0a1b2c3d4e5f60004");
    assert!(partner["exception"].is_null(), "{partner:#}");
    assert!(
        partner["reasons"].as_array().unwrap().iter().any(|r| r
            .as_str()
            .unwrap()
            .contains("pattern exception \"partner-old\" expired on 2026-11-01")),
        "{partner:#}"
    );
    // Another scope's pattern touches nothing here.
    assert!(v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["exception"]["pattern"] != "not-this-scope"));

    // The table says "excepted"; the Markdown report names the pattern.
    let table = ok(&db, &["drift", "--config", &c], 1).stdout;
    let row = table
        .lines()
        .find(|l| l.contains("sg-0a1b2c3d4e5f60001"))
        .unwrap();
    assert!(row.ends_with("excepted"), "{row}");
    let md = ok(&db, &["drift", "--format", "markdown", "--config", &c], 1).stdout;
    assert!(
        md.contains("pattern exception \"storefront-ssh\" by storefront-team"),
        "{md}"
    );

    // `exception list --config` shows each pattern, what it covers now and its state.
    let l = json(
        &ok(
            &db,
            &["exception", "list", "--config", &c, "--format", "json"],
            0,
        )
        .stdout,
    );
    let p = |n: &str| {
        l["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        p("storefront-ssh")["covers"],
        serde_json::json!([web["id"]])
    );
    assert_eq!(p("storefront-ssh")["state"], "active");
    assert_eq!(p("db-from-app-subnet")["covers"], serde_json::json!([]));
    assert_eq!(p("partner-old")["state"], "expired");
    let text = ok(&db, &["exception", "list", "--config", &c], 0).stdout;
    assert!(text.contains("pattern:storefront-ssh"), "{text}");
    assert!(text.contains("tags team=store*; ingress"), "{text}");
}

#[test]
fn a_pattern_without_an_owner_reason_expiry_selector_or_envelope_is_refused() {
    let msgs = config_problems("[[exception]]\nname = \"everything\"\nallow = [\"tcp/22 0.0.0.0/0 10.0.0.0/8\"]\n\n[[exception]]\nname = \"ok\"\nowner = \"o\"\nreason = \"r\"\nexpires = \"2027-01-01\"\nresources = [\"sg-*\"]\nallow = [\"tcp/22 any\"]\ndirection = \"sideways\"\n");
    for (line, want) in [
        (1, "exception \"everything\": field `owner` is required"),
        (1, "exception \"everything\": field `reason` is required"),
        (1, "exception \"everything\": field `expires` is required"),
        (1, "exception \"everything\": field `resources` (or `scopes`, `tags`, `descriptions`): a pattern needs at least one selector"),
        (3, "exception \"everything\": field `allow`: \"tcp/22 0.0.0.0/0 10.0.0.0/8\" is not `PROTOCOL[/PORTS] PEER[,PEER]`"),
        (12, "exception \"ok\": field `direction`: \"sideways\""),
    ] {
        assert!(
            msgs.iter().any(|(l, m)| *l == line && m.starts_with(want)),
            "no {want:?} at line {line}: {msgs:#?}"
        );
    }
}

#[test]
fn a_removed_exception_stops_covering_and_stays_in_the_history() {
    let (_dir, db) = estate();
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let id = item(&v, "sg-0a1b2c3d4e5f60004")["id"]
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
            "ops",
            "--reason",
            "partner",
            "--expires",
            "2027-01-01",
        ],
        0,
    );
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let eid = item(&v, "sg-0a1b2c3d4e5f60004")["exception"]["id"]
        .as_i64()
        .unwrap();

    // --by and --reason are required; an unknown id is named.
    let r = netdrift(
        &db,
        &["exception", "remove", &eid.to_string(), "--by", "ops"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = netdrift(
        &db,
        &["exception", "remove", "999", "--by", "ops", "--reason", "x"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no exception 999"), "{}", r.stderr);

    let r = ok(
        &db,
        &[
            "exception",
            "remove",
            &eid.to_string(),
            "--by",
            "alice",
            "--reason",
            "contract ended",
        ],
        0,
    );
    assert!(r.stdout.contains("removed by alice"), "{}", r.stdout);
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    assert!(item(&v, "sg-0a1b2c3d4e5f60004")["exception"].is_null());
    // Removing it twice says when it was removed.
    let r = netdrift(
        &db,
        &[
            "exception",
            "remove",
            &eid.to_string(),
            "--by",
            "a",
            "--reason",
            "b",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already removed"), "{}", r.stderr);

    // Gone from the list, kept in the history.
    let l = json(&ok(&db, &["exception", "list", "--format", "json"], 0).stdout);
    assert!(l["exceptions"].as_array().unwrap().is_empty(), "{l:#}");
    let all = json(&ok(&db, &["exception", "list", "--all", "--format", "json"], 0).stdout);
    let e = &all["exceptions"][0];
    assert_eq!(e["id"], eid);
    assert_eq!(e["state"], "removed");
    assert_eq!(e["removed_by"], "alice");
    assert_eq!(e["removed_reason"], "contract ended");
}

/// A baseline file carries pattern exceptions too: imported with it, in force without any
/// configuration, exported back, and replaced by the next import of the same file.
#[test]
fn a_baseline_file_carries_pattern_exceptions() {
    let (dir, db) = estate();
    let file = dir.path().join("baseline.toml");
    let exported = ok(&db, &["baseline", "export"], 0).stdout;
    let storefront = PATTERNS
        .split("\n[[exception]]\nname = \"db-from-app-subnet\"")
        .next()
        .unwrap();
    std::fs::write(&file, format!("{exported}\n{storefront}")).unwrap();
    let f = file.display().to_string();
    let r = ok(
        &db,
        &[
            "baseline", "import", &f, "--by", "alice", "--reason", "git main",
        ],
        0,
    );
    assert!(
        r.stdout.contains("and 1 pattern exception(s)"),
        "{}",
        r.stdout
    );

    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    assert_eq!(
        item(&v, "sg-0a1b2c3d4e5f60001")["exception"]["pattern"],
        "storefront-ssh"
    );
    let l = json(&ok(&db, &["exception", "list", "--format", "json"], 0).stdout);
    assert_eq!(l["patterns"][0]["source"], format!("file:{f}"), "{l:#}");

    // Exported back, and the export imports again to the same.
    let again = ok(&db, &["baseline", "export"], 0).stdout;
    assert!(
        again.contains("[[exception]]") && again.contains("name = \"storefront-ssh\""),
        "{again}"
    );
    let copy = dir.path().join("copy.toml");
    std::fs::write(&copy, &again).unwrap();
    ok(
        &db,
        &[
            "baseline",
            "import",
            copy.to_str().unwrap(),
            "--by",
            "a",
            "--reason",
            "r",
        ],
        0,
    );

    // A bad pattern is refused, naming the file, the exception and the key; nothing changes.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, format!("{exported}\n[[exception]]\nname = \"x\"\nowner = \"o\"\nreason = \"r\"\nexpires = \"2027-01-01\"\nresources = [\"sg-*\"]\nallow = [\"tcp/22\"]\n")).unwrap();
    let r = netdrift(
        &db,
        &[
            "baseline",
            "import",
            bad.to_str().unwrap(),
            "--by",
            "a",
            "--reason",
            "r",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("bad.toml: exception[0]: exception \"x\": field `allow`"),
        "{}",
        r.stderr
    );

    // The same file imported without it: replaced, so it covers nothing any more.
    std::fs::write(&file, &exported).unwrap();
    ok(
        &db,
        &[
            "baseline",
            "import",
            &f,
            "--by",
            "alice",
            "--reason",
            "pattern retired",
        ],
        0,
    );
    std::fs::write(&copy, &exported).unwrap();
    ok(
        &db,
        &[
            "baseline",
            "import",
            copy.to_str().unwrap(),
            "--by",
            "a",
            "--reason",
            "r",
        ],
        0,
    );
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    assert!(
        item(&v, "sg-0a1b2c3d4e5f60001")["exception"].is_null(),
        "{v:#}"
    );
}
