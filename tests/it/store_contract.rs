//! The Store contract: what every backend must do, written once against the `Store` trait.
//! SQLite runs it here; a new backend adds one line to `backends()` and passes the same rows.

use chrono::{DateTime, Utc};

use netdrift::store::{
    AttributionQuery, AuditBatch, BaselineSelector, NewException, RunRecord, SqliteStore, Store,
    StoreError,
};
use netdrift_snapshots::{
    Collected, Direction, Problem, ProblemCode, Provider, Resource, Scope, SnapshotStatus,
};

use crate::support::repo;

/// Each backend under test, fresh and empty.
pub(crate) fn backends() -> Vec<(&'static str, Box<dyn Store>)> {
    vec![(
        "sqlite",
        Box::new(SqliteStore::open_in_memory().expect("in-memory SQLite")),
    )]
}

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn scope() -> Scope {
    Scope::new(Provider::Aws, "111122223333", Some("us-east-1".into()))
}

/// The demo's AWS security groups, converted as a file source converts them.
fn groups() -> Vec<Resource> {
    groups_of("day1")
}

fn groups_of(day: &str) -> Vec<Resource> {
    let path = repo().join(format!("demo/aws/{day}/security-groups.json"));
    let bytes = std::fs::read(&path).unwrap();
    let doc = netdrift_provider_file::parse_json("sg", &bytes).unwrap();
    netdrift_provider_file::convert_document(Provider::Aws, "111122223333", &doc).unwrap()
}

fn problem(code: ProblemCode, operation: &str) -> Problem {
    Problem {
        code,
        kind: None,
        operation: Some(operation.into()),
        message: format!("{operation}: refused"),
    }
}

fn record(store: &mut dyn Store, when: &str) -> i64 {
    store
        .record_collection(
            &[(Collected::complete(scope(), groups()), "file:a".into())],
            at(when),
        )
        .unwrap()[0]
}

#[test]
fn collections_load_back_as_drift_inputs() {
    for (name, mut store) in backends() {
        assert!(
            store.load_drift_inputs(&|_| true).unwrap().is_empty(),
            "{name}"
        );
        let id = record(store.as_mut(), "2026-11-01T00:00:00Z");
        let inputs = store.load_drift_inputs(&|_| true).unwrap();
        assert_eq!(inputs.len(), 1, "{name}");
        let i = &inputs[0];
        assert_eq!(i.scope, scope(), "{name}");
        assert_eq!(i.snapshot.id, id, "{name}");
        assert_eq!(i.snapshot.status, SnapshotStatus::Complete, "{name}");
        assert_eq!(i.actual, groups(), "{name}: resources come back exactly");
        assert!(i.baseline.is_none() && i.approved_at.is_none(), "{name}");
        assert!(
            store.load_drift_inputs(&|_| false).unwrap().is_empty(),
            "{name}"
        );
        assert_eq!(store.snapshot(id).unwrap().id, id, "{name}");
        let hash = netdrift_snapshots::canonical::state_hash(&groups()[0]);
        assert_eq!(
            store.state(&hash).unwrap(),
            groups()[0],
            "{name}: content addressed"
        );
    }
}

#[test]
fn missing_ids_are_not_found() {
    for (name, store) in backends() {
        assert!(
            matches!(
                store.snapshot(99),
                Err(StoreError::NotFound {
                    what: "snapshot",
                    ..
                })
            ),
            "{name}"
        );
        assert!(
            matches!(
                store.state("00ff"),
                Err(StoreError::NotFound {
                    what: "resource state",
                    ..
                })
            ),
            "{name}"
        );
    }
}

#[test]
fn a_failed_snapshot_loads_without_resources_or_baseline() {
    for (name, mut store) in backends() {
        record(store.as_mut(), "2026-11-01T00:00:00Z");
        store
            .approve(
                &BaselineSelector::All,
                "ops",
                "initial",
                None,
                at("2026-11-01T01:00:00Z"),
            )
            .unwrap();
        let failed = Collected::failed(
            scope(),
            problem(ProblemCode::Throttled, "DescribeSecurityGroups"),
        );
        store
            .record_collection(&[(failed, "aws:live".into())], at("2026-11-02T00:00:00Z"))
            .unwrap();
        let i = &store.load_drift_inputs(&|_| true).unwrap()[0];
        assert_eq!(i.snapshot.status, SnapshotStatus::Failed, "{name}");
        assert_eq!(
            i.snapshot.problems[0].code,
            ProblemCode::Throttled,
            "{name}"
        );
        assert!(i.actual.is_empty() && i.baseline.is_none(), "{name}");
    }
}

#[test]
fn approvals_and_exceptions_are_inputs() {
    for (name, mut store) in backends() {
        record(store.as_mut(), "2026-11-01T00:00:00Z");
        let (baseline, entries) = store
            .approve(
                &BaselineSelector::Scope(scope().key().into()),
                "ops",
                "initial",
                Some("CHG-1"),
                at("2026-11-01T01:00:00Z"),
            )
            .unwrap();
        assert!(baseline > 0 && entries == groups().len(), "{name}");
        assert!(
            store
                .approve(
                    &BaselineSelector::All,
                    " ",
                    "",
                    None,
                    at("2026-11-01T01:00:00Z")
                )
                .is_err(),
            "{name}: an approval names who and why"
        );
        let ex = store
            .add_exception(
                &NewException {
                    drift_id: "d-1",
                    scope: &scope().key(),
                    resource: groups()[0].id.as_str(),
                    direction: Direction::Ingress,
                    envelope: serde_json::json!({"slabs": []}),
                    owner: "ops",
                    reason: "migration",
                    ticket: None,
                    expires_at: at("2027-01-01T00:00:00Z"),
                },
                at("2026-11-01T02:00:00Z"),
            )
            .unwrap();
        let i = &store.load_drift_inputs(&|_| true).unwrap()[0];
        assert_eq!(i.baseline.as_deref(), Some(&groups()[..]), "{name}");
        assert!(i.approved_at.is_some(), "{name}");
        assert_eq!(
            i.exceptions.iter().map(|e| e.id).collect::<Vec<_>>(),
            [ex],
            "{name}"
        );
        let all = store.exceptions().unwrap();
        assert_eq!(all.len(), 1, "{name}");
        assert_eq!(all[0].expires_at, at("2027-01-01T00:00:00Z"), "{name}");
        assert_eq!(all[0].scope, scope().key(), "{name}");
    }
}

#[test]
fn audit_events_deduplicate_and_a_batch_takes_failures() {
    for (name, mut store) in backends() {
        let bytes = std::fs::read(repo().join("demo/audit/cloudtrail-2026-11-24.json")).unwrap();
        let parsed =
            netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &bytes).unwrap();
        assert!(!parsed.events.is_empty());
        let failure = netdrift_snapshots::AuditFailure {
            account: "111122223333".into(),
            region: None,
            start: at("2026-11-01T00:00:00Z"),
            end: at("2026-11-02T00:00:00Z"),
            problem: problem(ProblemCode::PermissionDenied, "LookupEvents"),
        };
        let batch = |failures| AuditBatch {
            provider: Provider::Aws,
            source: "ct",
            events: &parsed.events,
            windows: &[],
            failures,
            objects: &[],
        };
        let first = store.record_audit(&[batch(&[])]).unwrap();
        assert_eq!(first, [parsed.events.len()], "{name}");
        let again = store
            .record_audit(&[batch(std::slice::from_ref(&failure))])
            .unwrap();
        assert_eq!(again, [0], "{name}: the same events twice are stored once");
        // The log objects a batch came from are recorded as read with it, errors included.
        let objects = [
            netdrift_provider_api::AuditObject {
                object:
                    "s3://logs/AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2026/11/24/a.json.gz"
                        .into(),
                events: 3,
                error: None,
            },
            netdrift_provider_api::AuditObject {
                object:
                    "s3://logs/AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2026/11/24/b.json.gz"
                        .into(),
                events: 0,
                error: Some("not gzip".into()),
            },
        ];
        let before = netdrift::clock::now() - chrono::Duration::minutes(1);
        store
            .record_audit(&[AuditBatch {
                objects: &objects,
                ..batch(&[])
            }])
            .unwrap();
        let read = store.processed_audit_objects(before).unwrap();
        assert!(
            objects.iter().all(|o| read.contains(&o.object)),
            "{name}: {read:?}"
        );
        assert!(
            store
                .processed_audit_objects(netdrift::clock::now() + chrono::Duration::minutes(1))
                .unwrap()
                .is_empty(),
            "{name}"
        );
        // Read back by time, oldest first, bounds included; and a temporary key's issuer.
        let (first_t, last_t) = (
            parsed.events.iter().map(|e| e.event_time).min().unwrap(),
            parsed.events.iter().map(|e| e.event_time).max().unwrap(),
        );
        let all = store.events_between(first_t, last_t).unwrap();
        assert_eq!(all.len(), parsed.events.len(), "{name}");
        // A bulk load gives each event as parsed, its delivered record only when its meaning
        // needs it (the deleted NACL entry's rule number is in the request).
        let needs = netdrift_provider_file::audit::needs_record;
        assert!(all.iter().any(|e| needs(&e.event_name)), "{name}");
        for e in &all {
            let mut want = parsed
                .events
                .iter()
                .find(|p| p.event_id == e.event_id)
                .unwrap()
                .clone();
            if !needs(&e.event_name) {
                want.raw = None;
            }
            assert!(want.raw.is_some() == needs(&e.event_name), "{name}");
            assert_eq!(e, &want, "{name}");
        }
        assert!(
            all.windows(2).all(|w| w[0].event_time <= w[1].event_time),
            "{name}"
        );
        assert!(store
            .events_between(
                last_t + chrono::Duration::seconds(1),
                last_t + chrono::Duration::days(1)
            )
            .unwrap()
            .is_empty());
        let issuer = store
            .event_issuing("ASIAEXAMPLEALICE0001")
            .unwrap()
            .unwrap();
        assert_eq!(issuer.event_name, "AssumeRole", "{name}");
        assert!(
            store.event_issuing("ASIANOSUCHKEY").unwrap().is_none(),
            "{name}"
        );
        // The newest non-issuing event of the account, per region; none elsewhere.
        let newest = parsed
            .events
            .iter()
            .filter(|e| e.issued_key.is_none())
            .map(|e| e.event_time)
            .max();
        assert_eq!(
            store
                .last_event_at(Provider::Aws, "111122223333", Some("us-east-1"))
                .unwrap(),
            newest,
            "{name}"
        );
        assert_eq!(
            store
                .last_event_at(Provider::Aws, "999999999999", None)
                .unwrap(),
            None,
            "{name}"
        );
    }
}

#[test]
fn runs_chain_in_order() {
    for (name, mut store) in backends() {
        let snap = record(store.as_mut(), "2026-11-01T00:00:00Z");
        let mut ids = Vec::new();
        for day in ["2026-11-01", "2026-11-02", "2026-11-03"] {
            ids.push(
                store
                    .record_run(&RunRecord {
                        started_at: at(&format!("{day}T02:00:00.000Z")),
                        finished_at: at(&format!("{day}T02:01:00.000Z")),
                        summary: serde_json::json!({"drift": 0}),
                        snapshot_ids: vec![snap],
                        items: Vec::new(),
                        coverage: Vec::new(),
                        config: serde_json::Value::Null,
                    })
                    .unwrap(),
            );
        }
        let runs = store.runs(10).unwrap();
        assert_eq!(
            runs.iter().map(|r| r.id).collect::<Vec<_>>(),
            ids,
            "{name}: oldest first"
        );
        assert_eq!(runs[0].prev_hash, netdrift::store::runs::GENESIS, "{name}");
        for w in runs.windows(2) {
            assert_eq!(
                w[1].prev_hash, w[0].hash,
                "{name}: each run chains to the one before"
            );
        }
        assert_eq!(store.runs(2).unwrap().len(), 2, "{name}");
    }
}

#[test]
fn a_run_gives_back_its_items_as_recorded() {
    for (name, mut store) in backends() {
        let snap = record(store.as_mut(), "2026-11-01T00:00:00Z");
        let body = serde_json::json!({"id": "d-1", "severity": "high", "nested": {"a": [1, 2]}});
        let run = store
            .record_run(&RunRecord {
                started_at: at("2026-11-01T02:00:00Z"),
                finished_at: at("2026-11-01T02:01:00Z"),
                summary: serde_json::json!({}),
                snapshot_ids: vec![snap],
                items: vec![(
                    "d-1".into(),
                    scope().key().to_string(),
                    "high".into(),
                    body.clone(),
                )],
                coverage: Vec::new(),
                config: serde_json::Value::Null,
            })
            .unwrap();
        assert_eq!(store.run_items(run).unwrap(), vec![body], "{name}");
    }
}

#[test]
fn run_times_are_the_newest_full_runs_up_to_a_run() {
    // What a trend reads: ids and finish times, oldest first, watch ticks left out, nothing
    // after the run asked for.
    for (name, mut store) in backends() {
        let snap = record(store.as_mut(), "2026-11-01T00:00:00Z");
        let mut ids = Vec::new();
        for (i, kind) in ["reconcile", "watch", "reconcile", "reconcile", "reconcile"]
            .iter()
            .enumerate()
        {
            ids.push(
                store
                    .record_run(&RunRecord {
                        started_at: at(&format!("2026-11-0{}T02:00:00Z", i + 2)),
                        finished_at: at(&format!("2026-11-0{}T02:01:00Z", i + 2)),
                        summary: serde_json::json!({"kind": kind}),
                        snapshot_ids: vec![snap],
                        items: Vec::new(),
                        coverage: Vec::new(),
                        config: serde_json::Value::Null,
                    })
                    .unwrap(),
            );
        }
        let times = |up_to, n| store.run_times(up_to, n).unwrap();
        assert_eq!(
            times(ids[3], 2),
            [
                (ids[2], at("2026-11-04T02:01:00Z")),
                (ids[3], at("2026-11-05T02:01:00Z"))
            ],
            "{name}"
        );
        assert_eq!(
            times(ids[3], 10).iter().map(|t| t.0).collect::<Vec<_>>(),
            [ids[0], ids[2], ids[3]],
            "{name}: the watch tick is left out"
        );
        assert!(times(ids[0] - 1, 5).is_empty(), "{name}");
        assert!(times(ids[4], 0).is_empty(), "{name}");
    }
}

#[test]
fn collection_state_is_the_last_snapshot_and_what_each_kind_last_showed() {
    for (name, mut store) in backends() {
        let key = scope().key();
        assert!(store.last_collected().unwrap().is_empty(), "{name}");
        assert!(
            store.known_resources(&key).unwrap().is_empty(),
            "{name}: a new scope"
        );
        record(store.as_mut(), "2026-11-01T00:00:00Z");
        // A later snapshot that could not read security groups but read the network ACLs.
        let acls = {
            let path = repo().join("demo/aws/day1/network-acls.json");
            let doc =
                netdrift_provider_file::parse_json("acl", &std::fs::read(path).unwrap()).unwrap();
            netdrift_provider_file::convert_document(Provider::Aws, "111122223333", &doc).unwrap()
        };
        // Workloads are stored with it, but are not what a provider reads incrementally.
        let interfaces = {
            let path = repo().join("demo/aws/workloads/network-interfaces.json");
            let doc =
                netdrift_provider_file::parse_json("eni", &std::fs::read(path).unwrap()).unwrap();
            netdrift_provider_file::convert_document(Provider::Aws, "111122223333", &doc).unwrap()
        };
        assert!(!interfaces.is_empty());
        let partial = Collected {
            scope: scope(),
            status: SnapshotStatus::Partial,
            resources: acls.iter().cloned().chain(interfaces).collect(),
            problems: vec![problem(
                ProblemCode::PermissionDenied,
                "DescribeSecurityGroups",
            )],
            uncollected: vec![netdrift_snapshots::ResourceKind::AwsSecurityGroup],
        };
        store
            .record_collection(
                &[(partial.clone(), "file:a".into())],
                at("2026-11-02T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(
            store.last_collected().unwrap().get(&key),
            Some(&at("2026-11-02T00:00:00Z")),
            "{name}"
        );
        // The same collection again is the same snapshot seen later; another scope has its own
        // time.
        let other = Scope::new(Provider::Aws, "111122223333", Some("eu-west-1".into()));
        let elsewhere = Collected {
            scope: other.clone(),
            ..partial.clone()
        };
        store
            .record_collection(
                &[(partial, "file:a".into()), (elsewhere, "file:b".into())],
                at("2026-11-03T00:00:00Z"),
            )
            .unwrap();
        let last = store.last_collected().unwrap();
        assert_eq!(last.len(), 2, "{name}: {last:?}");
        assert_eq!(last.get(&key), Some(&at("2026-11-03T00:00:00Z")), "{name}");
        assert_eq!(
            last.get(&other.key()),
            Some(&at("2026-11-03T00:00:00Z")),
            "{name}"
        );
        let mut known = store.known_resources(&key).unwrap();
        known.sort_by(|a, b| a.id.cmp(&b.id));
        let mut want: Vec<Resource> = groups().into_iter().chain(acls).collect();
        want.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            known, want,
            "{name}: the groups from the snapshot that read them, the ACLs from the newer one, no workloads"
        );
    }
}

#[test]
fn prune_keeps_what_is_still_referenced() {
    for (name, mut store) in backends() {
        record(store.as_mut(), "2026-10-01T00:00:00Z");
        record(store.as_mut(), "2026-11-01T00:00:00Z");
        store.prune(at("2026-10-15T00:00:00Z")).unwrap();
        let i = &store.load_drift_inputs(&|_| true).unwrap()[0];
        assert_eq!(i.actual, groups(), "{name}: the latest snapshot is intact");
        assert!(store.schema_version().unwrap() >= 3, "{name}");
    }
}

#[test]
fn attribution_inputs_hold_the_window_its_events_and_their_role_chain() {
    const GROUP: &str = "sg-0a1b2c3d4e5f60001";
    for (name, mut store) in backends() {
        let day1 = record(store.as_mut(), "2026-11-23T02:00:00Z");
        store
            .approve(
                &BaselineSelector::All,
                "ops",
                "initial",
                None,
                at("2026-11-23T03:00:00Z"),
            )
            .unwrap();
        let day2 = store
            .record_collection(
                &[(
                    Collected::complete(scope(), groups_of("day2")),
                    "file:a".into(),
                )],
                at("2026-11-25T02:00:00Z"),
            )
            .unwrap()[0];
        assert!(day2 > day1);
        let bytes = std::fs::read(repo().join("demo/audit/cloudtrail-2026-11-24.json")).unwrap();
        let parsed =
            netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &bytes).unwrap();
        let covered = [(
            "111122223333".to_string(),
            at("2026-11-23T00:00:00Z"),
            at("2026-11-25T03:00:00Z"),
        )];
        store
            .record_audit(&[AuditBatch {
                provider: Provider::Aws,
                source: "ct",
                events: &parsed.events,
                windows: &covered,
                failures: &[],
                objects: &[],
            }])
            .unwrap();
        let before = groups()
            .into_iter()
            .find(|r| r.id.as_str() == GROUP)
            .unwrap();
        let query = AttributionQuery {
            provider: Provider::Aws,
            scope: scope().key(),
            resource: GROUP.into(),
            resource_kind: before.kind,
            snapshot_id: day2,
            baseline_state: Some(netdrift_snapshots::canonical::state_hash(&before)),
            ids: vec![GROUP.into()],
        };
        let seen = std::sync::Mutex::new(None);
        let mut inputs = Vec::new();
        store
            .load_attribution_inputs(
                std::slice::from_ref(&query),
                &|i, last_seen| {
                    assert_eq!(i, 0);
                    *seen.lock().unwrap() = last_seen;
                    Ok((last_seen.unwrap(), at("2026-11-25T02:00:00Z")))
                },
                &mut |i, got| {
                    inputs.push((i, got));
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(inputs.len(), 1, "{name}: one visit per query");
        assert_eq!(
            *seen.lock().unwrap(),
            Some(at("2026-11-23T02:00:00Z")),
            "{name}: day 1 showed the approved state"
        );
        let i = &inputs[0].1;
        let names: Vec<&str> = i.events.iter().map(|e| e.event_name.as_str()).collect();
        assert!(
            names.contains(&"AuthorizeSecurityGroupIngress"),
            "{name}: {names:?}"
        );
        assert!(
            i.issuers.contains_key("ASIAEXAMPLEALICE0001"),
            "{name}: the AssumeRole behind alice's session"
        );
        assert!(i.covered && i.failures.is_empty(), "{name}");
    }
}

#[test]
fn remediations_read_back_as_recorded() {
    for (name, mut store) in backends() {
        let r = netdrift::store::RemediationRow {
            id: 0,
            item: "d-1".into(),
            scope: scope().key(),
            resource: "sg-0a1b2c3d4e5f60001".into(),
            direction: "ingress".into(),
            run_by: "alice (sudo by root)".into(),
            started_at: at("2026-11-25T03:00:00Z"),
            finished_at: at("2026-11-25T03:00:05Z"),
            ticket: Some("CHG-7".into()),
            steps: serde_json::json!([{"call": "RevokeSecurityGroupIngress"}]),
            outcomes: serde_json::json!([{"call": "RevokeSecurityGroupIngress", "ok": true, "detail": "done"}]),
            before_state: Some("a".into()),
            after_state: Some("b".into()),
            confirmed: true,
        };
        let id = store.record_remediation(&r).unwrap();
        let back = store.remediations().unwrap();
        assert_eq!(
            back,
            vec![netdrift::store::RemediationRow { id, ..r }],
            "{name}"
        );
    }
}
