use chrono::{DateTime, Utc};
use netdrift::store::{insert_snapshots, SqliteStore};
use netdrift_snapshots::{Collected, Provider, Scope};

use crate::support::*;

fn aws_day(day: &str) -> Vec<netdrift_snapshots::Resource> {
    netdrift_provider_file::import_files(
        Provider::Aws,
        "111122223333",
        &[
            demo(&format!("aws/{day}/security-groups.json")),
            demo(&format!("aws/{day}/network-acls.json")),
        ],
    )
    .unwrap()
}

fn scope() -> Scope {
    Scope::new(Provider::Aws, "111122223333", Some("us-east-1".into()))
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn migrations_from_empty_and_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/nd.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 16);
    drop(store);
    // Reopening runs no migration twice.
    assert_eq!(
        SqliteStore::open(&path).unwrap().schema_version().unwrap(),
        16
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn round_trip_and_history_at_time() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let day1 = aws_day("day1");
    let day2 = aws_day("day2");
    let s1 = store
        .insert_snapshot(
            &Collected::complete(scope(), day1.clone()),
            "test",
            t("2026-11-24T02:00:00Z"),
        )
        .unwrap();
    store
        .insert_snapshot(
            &Collected::complete(scope(), day2.clone()),
            "test",
            t("2026-11-25T02:00:00Z"),
        )
        .unwrap();
    let snap = store.snapshot(s1).unwrap().unwrap();
    let mut back = store.snapshot_resources(&snap).unwrap();
    let mut want = day1.clone();
    back.sort_by(|a, b| a.id.cmp(&b.id));
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(back, want);
    // The web group at a time between the two snapshots is day 1's state.
    let at = store
        .resource_at("sg-0a1b2c3d4e5f60001", Some(t("2026-11-24T12:00:00Z")))
        .unwrap();
    assert_eq!(at.len(), 1);
    assert_eq!(
        at[0].1.as_ref().unwrap(),
        day1.iter()
            .find(|r| r.id.as_str() == "sg-0a1b2c3d4e5f60001")
            .unwrap()
    );
    let now = store.resource_at("sg-0a1b2c3d4e5f60001", None).unwrap();
    assert_eq!(
        now[0].1.as_ref().unwrap(),
        day2.iter()
            .find(|r| r.id.as_str() == "sg-0a1b2c3d4e5f60001")
            .unwrap()
    );
    // The partner group did not exist on day 1, and nothing is known before the first snapshot.
    assert!(store
        .resource_at("sg-0a1b2c3d4e5f60004", Some(t("2026-11-24T12:00:00Z")))
        .unwrap()[0]
        .1
        .is_none());
    assert!(store
        .resource_at("sg-0a1b2c3d4e5f60001", Some(t("2026-11-01T00:00:00Z")))
        .unwrap()
        .is_empty());
    assert_eq!(store.snapshots(Some(&scope().key())).unwrap().len(), 2);
}

#[test]
fn unchanged_estate_grows_the_database_by_a_bounded_amount() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("g.db")).unwrap();
    let estate = aws_day("day2");
    store
        .insert_snapshot(
            &Collected::complete(scope(), estate.clone()),
            "first",
            t("2026-01-01T00:00:00Z"),
        )
        .unwrap();
    let before = store.size_bytes().unwrap();
    let states_before: i64 = rusqlite::Connection::open(dir.path().join("g.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM resource_states", [], |r| r.get(0))
        .unwrap();
    for i in 0..100 {
        let at = t("2026-01-01T00:00:00Z") + chrono::Duration::hours(i + 1);
        store
            .insert_snapshot(&Collected::complete(scope(), estate.clone()), "repeat", at)
            .unwrap();
    }
    let after = store.size_bytes().unwrap();
    let per_snapshot = (after - before) as f64 / 100.0;
    println!("dedup growth: {per_snapshot:.0} bytes per unchanged snapshot ({} resources, {} bytes for the first)", estate.len(), before);
    let conn = rusqlite::Connection::open(dir.path().join("g.db")).unwrap();
    let states_after: i64 = conn
        .query_row("SELECT COUNT(*) FROM resource_states", [], |r| r.get(0))
        .unwrap();
    let manifests: i64 = conn
        .query_row("SELECT COUNT(*) FROM manifests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(states_after, states_before, "no new resource state rows");
    assert_eq!(manifests, 1, "one manifest shared by all 101 snapshots");
    assert!(
        per_snapshot < 400.0,
        "an unchanged snapshot cost {per_snapshot} bytes"
    );
}

#[test]
fn a_failed_write_rolls_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let mut store = SqliteStore::open(&path).unwrap();
    store
        .insert_snapshot(
            &Collected::complete(scope(), aws_day("day1")),
            "ok",
            t("2026-11-24T02:00:00Z"),
        )
        .unwrap();
    drop(store);
    let before = dump(&path);
    let mut store = SqliteStore::open(&path).unwrap();
    let good = Collected::complete(
        Scope::new(Provider::Aws, "999", Some("us-east-1".into())),
        aws_day("day2"),
    );
    let mut dup = aws_day("day2");
    dup.push(dup[0].clone());
    let bad = Collected::complete(scope(), dup);
    let err = insert_snapshots(
        &mut store,
        &[(good, "a".into()), (bad, "b".into())],
        t("2026-11-25T02:00:00Z"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
    drop(store);
    assert_eq!(dump(&path), before, "nothing of the failed run is stored");
}

#[test]
fn retention_keeps_referenced_snapshots() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    for i in 0..5 {
        let at = t("2026-01-01T00:00:00Z") + chrono::Duration::days(i);
        let day = if i % 2 == 0 { "day1" } else { "day2" };
        store
            .insert_snapshot(&Collected::complete(scope(), aws_day(day)), "r", at)
            .unwrap();
    }
    store
        .approve(
            &netdrift::store::BaselineSelector::All,
            "t",
            "r",
            None,
            t("2026-01-06T00:00:00Z"),
        )
        .unwrap();
    let pruned = store.prune(t("2026-01-04T12:00:00Z")).unwrap();
    assert_eq!(
        pruned, 4,
        "all but the latest snapshot are older and unreferenced"
    );
    let left = store.snapshots(None).unwrap();
    assert_eq!(left.len(), 1);
    // The baseline's states survive (the approved state was the latest one, day 1).
    assert!(
        store
            .approved_state(&scope().key(), None)
            .unwrap()
            .unwrap()
            .len()
            >= 3
    );
    let latest = store
        .latest_snapshot(&scope().key(), None)
        .unwrap()
        .unwrap();
    assert_eq!(
        store.snapshot_resources(&latest).unwrap().len(),
        aws_day("day1").len()
    );
}

#[test]
fn retention_forgets_audit_objects_no_window_lists_again() {
    // A reconcile consults the S3 objects read since two days before the earliest last
    // collection, so retention keeps those even when they are older than its period; a scope
    // not collected for the whole period (it left the estate) holds nothing back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let stale = Scope::new(Provider::Aws, "111122223333", Some("eu-west-1".into()));
    store
        .insert_snapshot(
            &Collected::complete(stale, aws_day("day1")),
            "r",
            t("2025-06-01T02:00:00Z"),
        )
        .unwrap();
    store
        .insert_snapshot(
            &Collected::complete(scope(), aws_day("day1")),
            "r",
            t("2026-01-10T02:00:00Z"),
        )
        .unwrap();
    let read_at = [
        ("s3://trail/old", "2025-12-01T00:00:00Z"),
        ("s3://trail/before-bound", "2026-01-07T23:59:59Z"),
        ("s3://trail/in-bound", "2026-01-08T12:00:00Z"),
        ("s3://trail/in-period", "2026-01-09T06:00:00Z"),
    ];
    let objects: Vec<netdrift_provider_api::AuditObject> = read_at
        .iter()
        .map(|(o, _)| netdrift_provider_api::AuditObject {
            object: o.to_string(),
            events: 0,
            error: None,
        })
        .collect();
    store
        .record_audit(&[netdrift::store::AuditBatch {
            provider: Provider::Aws,
            source: "org",
            events: &[],
            windows: &[],
            failures: &[],
            objects: &objects,
        }])
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (o, at) in read_at {
        conn.execute(
            "UPDATE audit_objects SET read_at = ?2 WHERE object = ?1",
            [o, at],
        )
        .unwrap();
    }
    // The period ends 2026-01-09; the newest scope was last collected 2026-01-10, so its
    // window lists objects read since 2026-01-08.
    assert_eq!(
        store
            .prune_audit_objects(t("2026-01-09T00:00:00Z"))
            .unwrap(),
        2
    );
    let mut left: Vec<String> = store
        .processed_audit_objects(t("2000-01-01T00:00:00Z"))
        .unwrap()
        .into_iter()
        .collect();
    left.sort();
    assert_eq!(left, ["s3://trail/in-bound", "s3://trail/in-period"]);
    // Nothing older is left to forget.
    assert_eq!(
        store
            .prune_audit_objects(t("2026-01-09T00:00:00Z"))
            .unwrap(),
        0
    );
}

#[test]
fn an_event_in_the_first_or_last_second_of_a_window_is_inside_it() {
    // Event times are stored to the millisecond; window bounds come in whole seconds. They are
    // compared as instants, so an event at 14:03:11 is inside a window that starts or ends then.
    let mut store = SqliteStore::open_in_memory().unwrap();
    netdrift::audit::import_files(
        &mut store,
        Provider::Aws,
        &[repo().join("demo/audit/cloudtrail-2026-11-24.json")],
    )
    .unwrap();
    let ids = ["sg-0a1b2c3d4e5f60001".to_string()];
    let at = t("2026-11-24T14:03:11Z");
    for (from, to) in [
        (at, at),
        (at, t("2026-11-24T15:00:00Z")),
        (t("2026-11-24T14:00:00Z"), at),
    ] {
        let names: Vec<String> = store
            .events_for(Provider::Aws, &ids, from, to)
            .unwrap()
            .into_iter()
            .map(|e| e.event_name)
            .collect();
        assert_eq!(names, ["AuthorizeSecurityGroupIngress"], "{from}..{to}");
    }
    let before = t("2026-11-24T14:03:10Z");
    assert!(store
        .events_for(Provider::Aws, &ids, before, before)
        .unwrap()
        .is_empty());
}

/// The demo CloudTrail file's first `AuthorizeSecurityGroupIngress` event.
fn demo_authorize_event() -> netdrift_snapshots::AuditEvent {
    let bytes = std::fs::read(repo().join("demo/audit/cloudtrail-2026-11-24.json")).unwrap();
    let parsed = netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &bytes).unwrap();
    parsed
        .events
        .into_iter()
        .find(|e| e.event_name == "AuthorizeSecurityGroupIngress")
        .unwrap()
}

#[test]
fn an_event_is_found_by_each_resource_it_names_once_with_its_own_actor() {
    // Events are found through (resource, time) links to their integer ids, and each distinct
    // actor is parsed once per read: a second copy naming one more resource links it to the
    // first copy (its time, its id), and events of different actors keep their own actors.
    let first = demo_authorize_event();
    let group = first.resources[0].clone();
    let mut other = first.clone();
    other.event_id = format!("{}-other", first.event_id);
    other.event_time = first.event_time + chrono::Duration::seconds(5);
    other.actor.principal = Some("arn:aws:iam::123456789012:user/someone-else".into());
    let mut copy = first.clone();
    copy.event_time = first.event_time + chrono::Duration::hours(3);
    copy.resources.push("SG-0FFFFFFFFFFFFFFF1".into());
    let mut store = SqliteStore::open_in_memory().unwrap();
    for events in [vec![first.clone(), other.clone()], vec![copy]] {
        netdrift::audit::store_events(&mut store, Provider::Aws, &events, &[], "ct").unwrap();
    }
    let (from, to) = (
        first.event_time - chrono::Duration::minutes(1),
        first.event_time + chrono::Duration::minutes(1),
    );
    let found = |ids: &[&str]| -> Vec<(String, Option<String>)> {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        store
            .events_for(Provider::Aws, &ids, from, to)
            .unwrap()
            .into_iter()
            .map(|e| (e.event_id, e.actor.principal))
            .collect()
    };
    let both = vec![
        (first.event_id.clone(), first.actor.principal.clone()),
        (other.event_id.clone(), other.actor.principal.clone()),
    ];
    assert_eq!(found(&[group.as_str()]), both);
    assert_eq!(
        found(&["sg-0fffffffffffffff1", group.as_str()]),
        both,
        "the copy's resource finds the first copy once, at its time"
    );
    assert_eq!(found(&["sg-0fffffffffffffff1"]), both[..1]);
    assert!(found(&["sg-0000000000000dead"]).is_empty());
}

#[test]
fn each_distinct_actor_is_stored_once_an_import() {
    // Events keep the integer id of their actor (migration 15): 40 events of two actors in two
    // imports store each actor once an import, and each event reads back with its own, whole.
    let first = demo_authorize_event();
    let mut someone = first.actor.clone();
    someone.principal = Some("arn:aws:iam::123456789012:user/someone-else".into());
    someone.source_ip = Some("198.51.100.7".into());
    let event = |i: usize| {
        let mut e = first.clone();
        e.event_id = format!("{}-{i}", first.event_id);
        e.event_time = first.event_time + chrono::Duration::seconds(i as i64);
        if i % 2 == 1 {
            e.actor = someone.clone();
        }
        e
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let mut store = SqliteStore::open(&db).unwrap();
    for part in [0..20, 20..40] {
        let events: Vec<_> = part.map(event).collect();
        netdrift::audit::store_events(&mut store, Provider::Aws, &events, &[], "ct").unwrap();
    }
    let actors: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM audit_actors", [], |r| r.get(0))
        .unwrap();
    assert_eq!(actors, 4);
    let back = store
        .events_for(
            Provider::Aws,
            &[first.resources[0].clone()],
            first.event_time,
            first.event_time + chrono::Duration::seconds(40),
        )
        .unwrap();
    assert_eq!(back.len(), 40);
    for (i, e) in back.iter().enumerate() {
        let want = if i % 2 == 1 { &someone } else { &first.actor };
        assert_eq!(&e.actor, want, "{}", e.event_id);
    }
}

#[test]
fn an_import_is_stored_once_with_its_source_and_event_times_to_the_millisecond() {
    // Migration 16: an event names its import (source, time) by id and keeps its time as Unix
    // milliseconds. Two imports of new events write two import rows; importing the same events
    // again writes none; times come back to the millisecond, and a window's bounds include an
    // event at either end.
    let first = demo_authorize_event();
    let event = |i: i64| {
        let mut e = first.clone();
        e.event_id = format!("{}-{i}", first.event_id);
        e.event_time = first.event_time + chrono::Duration::milliseconds(1_001 * i);
        e
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let batches = [
        (
            "s3://trail/AWSLogs/o-1/123456789012/CloudTrail/us-east-1/2026/11/24/a.json.gz",
            0..5,
        ),
        ("/var/lib/netdrift/audit/b.json", 5..10),
    ];
    for (source, part) in batches.clone() {
        let events: Vec<_> = part.map(event).collect();
        assert_eq!(
            netdrift::audit::store_events(&mut store, Provider::Aws, &events, &[], source).unwrap(),
            5
        );
    }
    for (source, part) in batches.clone() {
        let events: Vec<_> = part.map(event).collect();
        assert_eq!(
            netdrift::audit::store_events(&mut store, Provider::Aws, &events, &[], source).unwrap(),
            0
        );
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    fn pairs<T: rusqlite::types::FromSql>(conn: &rusqlite::Connection, sql: &str) -> Vec<(i64, T)> {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }
    assert_eq!(
        pairs::<String>(&conn, "SELECT id, source FROM audit_imports ORDER BY id"),
        vec![(1, batches[0].0.to_string()), (2, batches[1].0.to_string())]
    );
    assert_eq!(
        pairs::<i64>(
            &conn,
            "SELECT import, count(*) FROM audit_events GROUP BY import ORDER BY import"
        ),
        vec![(1, 5), (2, 5)]
    );
    let stored: i64 = conn
        .query_row(
            "SELECT event_time FROM audit_events WHERE event_id = ?1",
            [format!("{}-3", first.event_id)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, event(3).event_time.timestamp_millis());
    // The window from the second event to the ninth, to the millisecond: exactly those.
    let back = store
        .events_for(
            Provider::Aws,
            &[first.resources[0].clone()],
            event(1).event_time,
            event(8).event_time,
        )
        .unwrap();
    let names: Vec<_> = back.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(
        names,
        (1..=8).map(|i| event(i).event_id).collect::<Vec<_>>()
    );
    for e in &back {
        let i: i64 = e.event_id.rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(e.event_time, event(i).event_time);
        assert_eq!(e.actor, first.actor);
        assert_eq!(e.payload, first.payload);
    }
    assert_eq!(
        store
            .last_event_at(Provider::Aws, &first.account.clone().unwrap(), None)
            .unwrap(),
        Some(event(9).event_time)
    );
}

#[test]
fn delivered_records_come_back_whole_from_compressed_blocks_across_imports() {
    // More records than one block holds, in two imports (two transactions): each event's
    // record reads back byte for byte, a duplicate adds no record, and the stored size per
    // record is a fraction of its text.
    let bytes = std::fs::read(repo().join("demo/audit/cloudtrail-2026-11-24.json")).unwrap();
    let parsed = netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &bytes).unwrap();
    let events: Vec<netdrift_snapshots::AuditEvent> = (0..1300)
        .map(|i| {
            let mut e = parsed.events[i % parsed.events.len()].clone();
            e.event_id = format!("{}-{i}", e.event_id);
            e
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nd.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let batch = |events| netdrift::store::AuditBatch {
        provider: Provider::Aws,
        source: "ct",
        events,
        windows: &[],
        failures: &[],
        objects: &[],
    };
    assert_eq!(store.record_audit(&[batch(&events[..700])]).unwrap(), [700]);
    assert_eq!(store.record_audit(&[batch(&events[600..])]).unwrap(), [600]);
    for e in &events {
        let back = store.audit_event(&e.event_id).unwrap().unwrap();
        assert_eq!(&back, e);
        assert!(back.raw.is_some());
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (blocks, stored): (i64, i64) = conn
        .query_row(
            "SELECT count(*), sum(length(data)) FROM audit_records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let text: usize = events
        .iter()
        .map(|e| e.raw.as_ref().unwrap().text().len())
        .sum();
    assert!(blocks >= 3, "{blocks} blocks");
    assert!(
        (stored as usize) * 4 < text,
        "{stored} bytes stored for {text} bytes of records"
    );
}

/// States are serialized and hashed in parallel batches: across batch boundaries each stored
/// state is its resource's canonical body, state hash and access hash, and a state met again
/// (in the same call or the next) is not written twice.
#[test]
fn states_stored_in_parallel_batches_are_each_resources_own() {
    use netdrift_snapshots::canonical::{access_hash, canonical_json, state_hash};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nd.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let template = aws_day("day1")
        .into_iter()
        .find(|r| r.id.as_str() == "sg-0a1b2c3d4e5f60001")
        .unwrap();
    // 1,100 groups: three batches, every body and access different.
    let groups: Vec<netdrift_snapshots::Resource> = (0..1_100i64)
        .map(|i| {
            let mut g = template.clone();
            g.id = netdrift_snapshots::ResourceId::new(format!("sg-{i:017x}"));
            g.name = Some(format!("group {i}"));
            g.rules[0].ports = netdrift_snapshots::Ports::Ranges {
                ranges: vec![netdrift_snapshots::PortRange::new(1 + i, 1 + i).unwrap()],
            };
            netdrift_snapshots::canonical::canonicalize(g)
        })
        .collect();
    let s1 = store
        .insert_snapshot(
            &Collected::complete(scope(), groups.clone()),
            "test",
            t("2026-11-24T02:00:00Z"),
        )
        .unwrap();
    let snap = store.snapshot(s1).unwrap().unwrap();
    let manifest: std::collections::HashMap<String, String> =
        store.manifest(&snap).unwrap().into_iter().collect();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut row = conn
        .prepare("SELECT resource_id, access_hash, body FROM resource_states WHERE hash = ?1")
        .unwrap();
    for g in &groups {
        let hash = &manifest[g.id.as_str()];
        assert_eq!(hash, &state_hash(g), "{}", g.id);
        let (id, access, body): (String, String, String) = row
            .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        assert_eq!(
            (id.as_str(), access, body),
            (g.id.as_str(), access_hash(g), canonical_json(g)),
        );
    }
    let count = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("SELECT COUNT(*) FROM resource_states", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&conn), 1_100);
    // Met again: a second scope with the same groups, and the first one later.
    let other = Scope::new(Provider::Aws, "111122223333", Some("eu-west-1".into()));
    insert_snapshots(
        &mut store,
        &[
            (Collected::complete(other, groups.clone()), "test".into()),
            (Collected::complete(scope(), groups), "test".into()),
        ],
        t("2026-11-25T02:00:00Z"),
    )
    .unwrap();
    assert_eq!(count(&conn), 1_100);
}

/// A configured audit file is read on the first run and again only when its content changes: an
/// unchanged one is remembered as read (its SHA-256, per provider) and not parsed again.
#[test]
fn a_configured_audit_file_is_read_again_only_when_its_content_changes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trail.json");
    let original = std::fs::read(demo("audit/cloudtrail-2026-11-24.json")).unwrap();
    std::fs::write(&log, &original).unwrap();
    let cfg = netdrift::config::Config::parse(
        "[[audit]]\nprovider = \"aws\"\nfiles = [\"trail.json\"]\n",
        dir.path(),
        "netdrift.toml",
    )
    .unwrap();
    let db = dir.path().join("nd.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let (first, failures) = netdrift::audit::import_configured(&mut store, &cfg).unwrap();
    assert!(first > 0 && failures.is_empty(), "{first} {failures:?}");
    // Forget the events behind the store's back: a file read again would bring them back.
    let forget = || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("DELETE FROM audit_event_links; DELETE FROM audit_events;")
            .unwrap();
    };
    forget();
    let (again, _) = netdrift::audit::import_configured(&mut store, &cfg).unwrap();
    assert_eq!(
        (again, store.audit_event_count().unwrap()),
        (0, 0),
        "not read again"
    );
    // The same records written differently are another content: read, and nothing is lost.
    let doc: serde_json::Value = serde_json::from_slice(&original).unwrap();
    std::fs::write(&log, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (changed, _) = netdrift::audit::import_configured(&mut store, &cfg).unwrap();
    assert_eq!(changed, first, "a changed file is read");
    // Read as another provider's, the same bytes are another import (and say why they fail).
    let gcp = netdrift::config::Config::parse(
        "[[audit]]\nprovider = \"gcp\"\nfiles = [\"trail.json\"]\n",
        dir.path(),
        "netdrift.toml",
    )
    .unwrap();
    let (_, failures) = netdrift::audit::import_configured(&mut store, &gcp).unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    // A missing file is still the failed read it was.
    std::fs::remove_file(&log).unwrap();
    let (none, failures) = netdrift::audit::import_configured(&mut store, &cfg).unwrap();
    assert_eq!((none, failures.len()), (0, 1), "{failures:?}");
}
