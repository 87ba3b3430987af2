//! `netdrift actors` on the demo's audit logs: who changed or tried to change firewall state,
//! how they authenticated, and the flags ranked.

use crate::support::*;

fn demo_db() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let demo = run_demo(dir.path());
    (dir, demo.db, demo.dir.join("netdrift.toml"))
}

fn actors(db: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["actors", "--format", "json"];
    all.extend(args);
    let v = json(&ok(db, &all, 0).stdout);
    v["actors"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [serde_json::Value], principal: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["principal"] == principal)
        .unwrap_or_else(|| panic!("no {principal} in {rows:#?}"))
}

#[test]
fn every_identity_with_its_authentication_and_the_flags_ranked() {
    let (_d, db, cfg) = demo_db();
    let cfg = cfg.display().to_string();
    let rows = actors(
        &db,
        &[
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-30",
            "--config",
            &cfg,
        ],
    );
    // Root first, then the long-term key, then the failed attempt.
    let order: Vec<&str> = rows
        .iter()
        .map(|r| r["principal"].as_str().unwrap())
        .collect();
    assert_eq!(
        &order[..3],
        [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/deploy-bot",
            "arn:aws:iam::111122223333:user/alice",
        ],
        "{rows:#?}"
    );
    let root = row(&rows, "arn:aws:iam::111122223333:root");
    assert_eq!(root["class"], "root");
    assert_eq!(root["flags"], serde_json::json!(["root", "first-seen"]));
    let bot = row(&rows, "arn:aws:iam::111122223333:user/deploy-bot");
    assert_eq!(
        bot["authentication"][0],
        "long-term access key AKIAEXAMPLEDEPLOY001"
    );
    assert_eq!(bot["flags"][0], "long-term-key");
    // Alice worked through AdminAccess: the role chain leads back to her user, and her refused
    // revoke is a failed attempt by its error code.
    let alice = row(&rows, "arn:aws:iam::111122223333:user/alice");
    assert_eq!(alice["class"], "human");
    assert_eq!(alice["changes"], 1);
    assert_eq!(alice["failed"]["UnauthorizedOperation"], 1);
    assert!(
        alice["authentication"][0]
            .as_str()
            .unwrap()
            .contains("AdminAccess, assumed by arn:aws:iam::111122223333:user/alice"),
        "{alice}"
    );
    assert_eq!(alice["source_ips"], serde_json::json!(["198.51.100.23"]));
    // The pipeline pattern of the demo configuration classifies Terraform's role session.
    let tf = row(
        &rows,
        "arn:aws:sts::111122223333:assumed-role/TerraformApply/gha-run-8812",
    );
    assert_eq!(tf["class"], "pipeline");
    assert_eq!(tf["tools"], serde_json::json!(["terraform"]));
    // A GCP caller impersonating a service account is the caller.
    let bob = row(&rows, "bob@acme.example");
    assert!(
        bob["authentication"][0]
            .as_str()
            .unwrap()
            .ends_with("bob@acme.example → infra-automation@acme-prod.iam.gserviceaccount.com"),
        "{bob}"
    );
    // Every cloud of the demo is there.
    for p in [
        "gcp:acme-prod",
        "azure:0b1f6471-1bf0-4dda-aec3-111122223333",
    ] {
        assert!(
            rows.iter()
                .any(|r| r["scopes"].as_array().unwrap().iter().any(|s| s == p)),
            "{p}"
        );
    }
}

#[test]
fn first_seen_scope_filter_and_the_other_formats() {
    let (_d, db, _cfg) = demo_db();
    // From 15:00 on: alice's change at 14:03 came before, so only her failed attempt is in the
    // period, and she is not new.
    let rows = actors(
        &db,
        &["--from", "2026-11-24T15:00:00Z", "--to", "2026-11-30"],
    );
    let alice = row(&rows, "arn:aws:iam::111122223333:user/alice");
    assert_eq!(alice["changes"], 0);
    assert_eq!(alice["flags"], serde_json::json!(["failed-attempts"]));
    assert!(
        rows.iter().all(|r| r["principal"] != "bob@acme.example"),
        "11:02 is before"
    );
    // One account only.
    let rows = actors(
        &db,
        &[
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-30",
            "--scope",
            "aws:111122223333",
        ],
    );
    assert!(rows.iter().all(|r| r["scopes"][0]
        .as_str()
        .unwrap()
        .starts_with("aws:111122223333")));
    assert_eq!(rows.len(), 4, "{rows:#?}");
    let csv = ok(
        &db,
        &[
            "actors",
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
        ],
        0,
    )
    .stdout;
    assert!(
        csv.starts_with("principal,class,authentication,changes,failed,"),
        "{csv}"
    );
    assert!(
        csv.contains("arn:aws:iam::111122223333:root,root,root credentials,1,"),
        "{csv}"
    );
    let table = ok(
        &db,
        &["actors", "--from", "2026-11-20", "--to", "2026-11-30"],
        0,
    )
    .stdout;
    assert!(
        table.lines().next().unwrap().starts_with("PRINCIPAL"),
        "{table}"
    );
    let none = ok(
        &db,
        &["actors", "--from", "2020-01-01", "--to", "2020-01-02"],
        0,
    )
    .stdout;
    assert!(
        none.contains("no firewall change or attempt is stored"),
        "{none}"
    );
    let bad = netdrift(
        &db,
        &["actors", "--from", "2026-11-30", "--to", "2026-11-20"],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("--from 2026-11-30T00:00:00Z is after --to"),
        "{}",
        bad.stderr
    );
}

#[test]
fn the_nightly_report_and_the_evidence_bundle_carry_them() {
    let (d, db, _cfg) = demo_db();
    // The demo's second run covers the day of its audit logs.
    let html = std::fs::read_to_string(d.path().join("demo/reports/latest.html")).unwrap();
    let i = html
        .find("<table id=\"actors\">")
        .expect("an actors section");
    let section = &html[i..i + html[i..].find("</table>").unwrap()];
    assert!(
        section.contains("arn:aws:iam::111122223333:root"),
        "{section}"
    );
    assert!(section.contains("root, first-seen"), "{section}");
    assert!(section.contains("1 UnauthorizedOperation"), "{section}");
    // The bundle holds the same list for its period.
    let out = d.path().join("bundle.tar");
    export_all(&db, &out);
    let v = json(
        &String::from_utf8(bundle_entry(&out, "actors.json").expect("actors.json in the bundle"))
            .unwrap(),
    );
    assert!(v["actors"]
        .as_array()
        .unwrap()
        .iter()
        .any(
            |r| r["principal"] == "arn:aws:iam::111122223333:user/deploy-bot"
                && r["flags"][0] == "long-term-key"
        ));
    ok(&db, &["evidence", "verify", &out.display().to_string()], 0);
}

#[test]
fn changes_outside_the_change_windows_are_counted_and_flagged() {
    let (_d, db, cfg) = demo_db();
    // 2026-11-24 was a Tuesday: a window 14:00-15:00 UTC for the AWS account, for alice only.
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "\n[[change_window]]\nname = \"tuesday\"\nscopes = [\"aws:111122223333:*\"]\ncron = \"0 14 * * Tue\"\nduration_minutes = 60\ntimezone = \"UTC\"\nprincipals = [\"*:user/alice\"]\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.display().to_string();
    let rows = actors(
        &db,
        &[
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-30",
            "--config",
            &cfg,
        ],
    );
    // Alice's 14:03 change came through AdminAccess, assumed by her user: inside.
    let alice = row(&rows, "arn:aws:iam::111122223333:user/alice");
    assert_eq!(alice["outside_change_windows"], 0, "{alice}");
    assert!(!alice["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "outside-change-window"));
    // deploy-bot changed at 15:20, after the window, and is not one of its principals.
    let bot = row(&rows, "arn:aws:iam::111122223333:user/deploy-bot");
    assert_eq!(bot["outside_change_windows"], 1, "{bot}");
    assert_eq!(
        bot["flags"].as_array().unwrap().last().unwrap(),
        "outside-change-window"
    );
    // Without windows the field says nothing.
    let plain = actors(&db, &["--from", "2026-11-20", "--to", "2026-11-30"]);
    assert!(plain.iter().all(|r| r["outside_change_windows"].is_null()));
}
