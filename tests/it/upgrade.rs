//! Upgrades lose nothing: a database and an evidence bundle written by netdrift at schema 5
//! (testdata/upgrade, made as its README says) are opened by today's netdrift.

use std::io::Read;

use crate::support::*;

fn gunzip(name: &str, to: &std::path::Path) {
    let f = std::fs::File::open(repo().join("testdata/upgrade").join(name)).unwrap();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut bytes)
        .unwrap();
    std::fs::write(to, bytes).unwrap();
}

/// A JSON entry of an evidence bundle.
fn entry(bundle: &std::path::Path, name: &str) -> serde_json::Value {
    let bytes =
        bundle_entry(bundle, name).unwrap_or_else(|| panic!("{name} not in {}", bundle.display()));
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn a_schema_5_database_migrates_in_place_and_its_evidence_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let old_bundle = dir.path().join("old.tar");
    gunzip("schema5-demo.db.gz", &db);
    gunzip("schema5-evidence.tar.gz", &old_bundle);
    let version = |db: &std::path::Path| -> i64 {
        rusqlite::Connection::open(db)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&db), 5);

    // The bundle exported before the migration verifies with today's netdrift.
    let old = json(
        &ok(
            &db,
            &[
                "evidence",
                "verify",
                old_bundle.to_str().unwrap(),
                "--format",
                "json",
            ],
            0,
        )
        .stdout,
    );
    assert_eq!(old["ok"], true, "{old:#}");
    assert_eq!(old["runs"], 2);

    // Opened by today's netdrift: migrated in place, the drift and the exception as they were.
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    assert!(version(&db) > 5, "migrated");
    assert_eq!(v["drift"].as_array().unwrap().len(), 10, "{v:#}");
    let partner = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "d-efbffea6bfd83414")
        .unwrap();
    assert_eq!(partner["exception"]["id"], 1, "{partner:#}");
    let l = json(&ok(&db, &["exception", "list", "--format", "json"], 0).stdout);
    assert_eq!(l["exceptions"][0]["state"], "active");
    assert_eq!(l["exceptions"][0]["owner"], "partners");

    // Its run chain still verifies: a bundle exported now holds the same chain.
    let new_bundle = dir.path().join("new.tar");
    ok(
        &db,
        &[
            "evidence",
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            new_bundle.to_str().unwrap(),
        ],
        0,
    );
    let new = json(
        &ok(
            &db,
            &[
                "evidence",
                "verify",
                new_bundle.to_str().unwrap(),
                "--format",
                "json",
            ],
            0,
        )
        .stdout,
    );
    assert_eq!(new["ok"], true, "{new:#}");
    assert_eq!(
        new["chain"], old["chain"],
        "the same runs, the same hash chain"
    );
    // The audit events moved to their lean form (migration 9) keep every record as delivered:
    // the new bundle's events are the old bundle's.
    let (old_events, new_events) = (
        entry(&old_bundle, "audit-events.json"),
        entry(&new_bundle, "audit-events.json"),
    );
    assert!(!old_events.as_array().unwrap().is_empty(), "{old_events:#}");
    assert_eq!(new_events, old_events);
    for e in new_events.as_array().unwrap() {
        assert!(
            e["raw"]["eventName"].is_string()
                || e["raw"]["protoPayload"].is_object()
                || e["raw"]["operationName"].is_object(),
            "{e:#}"
        );
    }

    // And it takes new runs on top: the demo's own day-2 configuration, a day later.
    let cfg = dir.path().join("day2.toml");
    let demo_cfg = std::fs::read_to_string(repo().join("demo/netdrift.toml"))
        .unwrap()
        .replace(
            "\"aws/",
            &format!("\"{}/aws/", repo().join("demo").display()),
        )
        .replace(
            "\"gcp/",
            &format!("\"{}/gcp/", repo().join("demo").display()),
        )
        .replace(
            "\"azure/",
            &format!("\"{}/azure/", repo().join("demo").display()),
        )
        .replace(
            "\"audit/",
            &format!("\"{}/audit/", repo().join("demo").display()),
        )
        .replace(
            "\"changes.csv\"",
            &format!("\"{}/changes.csv\"", repo().join("demo").display()),
        );
    std::fs::write(&cfg, demo_cfg).unwrap();
    let r = netdrift(
        &db,
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--at",
            "2026-11-26T02:00:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(json(&r.stdout)["run_id"], 3);
}
