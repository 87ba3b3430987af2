//! Upgrades lose nothing: databases and evidence bundles written by netdrift at schema 5, at
//! schema 10 and at schema 15 (testdata/upgrade, made as its README says) are opened by today's
//! netdrift.

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

fn version(db: &std::path::Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_schema_5_database_migrates_in_place_and_its_evidence_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (db, old_bundle, new_bundle) = migrates_in_place(dir.path(), 5);
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
    takes_new_runs(dir.path(), &db, &old_bundle);
}

#[test]
fn a_schema_10_database_migrates_in_place_and_its_evidence_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (db, old_bundle, new_bundle) = migrates_in_place(dir.path(), 10);
    // Runs recorded before migration 11 keep their whole records: no part is needed.
    assert!(bundle_entry(&new_bundle, "run-parts.json").is_none());
    for name in ["drift/000002.json", "coverage/000002.json"] {
        assert_eq!(entry(&new_bundle, name), entry(&old_bundle, name), "{name}");
    }
    // The configuration each run recorded is as it was (the one at export is today's).
    assert_eq!(
        entry(&new_bundle, "config.json")["in_force"],
        entry(&old_bundle, "config.json")["in_force"]
    );
    takes_new_runs(dir.path(), &db, &old_bundle);
}

#[test]
fn a_schema_15_database_migrates_in_place_and_its_events_keep_their_times_actors_and_sources() {
    // Migration 16 (compact audit events): every event as the bundle exported before it holds
    // it, time, actor, payload and record included; each import's source kept once.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    gunzip("schema15-demo.db.gz", &db);
    let sources = |sql: &str| -> Vec<String> {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let before = sources("SELECT source FROM audit_events ORDER BY id");
    assert_eq!(before.len(), 13);
    let (db, old_bundle, new_bundle) = migrates_in_place(dir.path(), 15);
    assert_eq!(
        sources(
            "SELECT i.source FROM audit_events e JOIN audit_imports i ON i.id = e.import ORDER BY e.id"
        ),
        before
    );
    let (old_events, new_events) = (
        entry(&old_bundle, "audit-events.json"),
        entry(&new_bundle, "audit-events.json"),
    );
    assert_eq!(old_events.as_array().unwrap().len(), 10, "{old_events:#}");
    assert_eq!(new_events, old_events);
    takes_new_runs(dir.path(), &db, &old_bundle);
}

/// The database and bundle of `schema`: the bundle verifies before and after the migration,
/// the drift and the exception are as they were, and a bundle exported after it holds the same
/// chain. (database, old bundle, new bundle)
fn migrates_in_place(
    dir: &std::path::Path,
    schema: i64,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let db = dir.join("netdrift.db");
    let old_bundle = dir.join("old.tar");
    gunzip(&format!("schema{schema}-demo.db.gz"), &db);
    gunzip(&format!("schema{schema}-evidence.tar.gz"), &old_bundle);
    assert_eq!(version(&db), schema);

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
    assert!(version(&db) > schema, "migrated");
    assert_eq!(v["drift"].as_array().unwrap().len(), 10, "{v:#}");
    let partner = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "d-efbffea6bfd83414")
        .unwrap();
    assert_eq!(partner["exception"]["id"], 1, "{partner:#}");
    // Attribution reads the migrated events (their links to resources moved in migration 13):
    // each item names the events the run stored before the migration named.
    let events_of = |items: &serde_json::Value| -> Vec<(String, Vec<String>)> {
        let mut v: Vec<(String, Vec<String>)> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let ids = i["attribution"]["actors"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| x["event_id"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                (i["id"].as_str().unwrap().to_string(), ids)
            })
            .collect();
        v.sort();
        v
    };
    let before = events_of(&entry(&old_bundle, "drift/000002.json"));
    assert_eq!(events_of(&v["drift"]), before);
    assert!(
        before.iter().filter(|(_, ids)| !ids.is_empty()).count() >= 9,
        "{before:?}"
    );
    let l = json(&ok(&db, &["exception", "list", "--format", "json"], 0).stdout);
    assert_eq!(l["exceptions"][0]["state"], "active");
    assert_eq!(l["exceptions"][0]["owner"], "partners");

    // Its run chain still verifies: a bundle exported now holds the same chain.
    let new_bundle = dir.join("new.tar");
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
    (db, old_bundle, new_bundle)
}

/// The migrated database takes new runs on top (the demo's own day-2 configuration, a day
/// later, recorded in today's form), and a bundle of old and new runs verifies.
fn takes_new_runs(dir: &std::path::Path, db: &std::path::Path, old_bundle: &std::path::Path) {
    let cfg = dir.join("day2.toml");
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
        db,
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
    // Old and new runs in one bundle (run 3 finished now): the chain and every part verify.
    let all = dir.join("all.tar");
    let out = all.to_str().unwrap();
    ok(
        db,
        &[
            "evidence",
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2099-01-01",
            "--out",
            out,
        ],
        0,
    );
    let v = json(&ok(db, &["evidence", "verify", out, "--format", "json"], 0).stdout);
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["runs"], 3);
    let record = entry(&all, "runs/000003.json");
    let record: serde_json::Value =
        serde_json::from_str(record["record"].as_str().unwrap()).unwrap();
    assert_eq!(record["format"], 2, "{record:#}");
    assert!(entry(&all, "run-parts.json").as_object().unwrap().len() > 10);
    // The same drift in today's record: run 3's drift items are run 2's.
    let ids = |run: &str| -> Vec<String> {
        entry(&all, &format!("drift/00000{run}.json"))
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("3"), ids("2"));
    // The bundle exported before the migration still verifies after the new run.
    let old = json(
        &ok(
            db,
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
}
