//! The per-account audit questions are index seeks: a scan of every event or window for each
//! scope or drift item is hours at an organization's scale (the coverage matrix read every
//! stored event of the provider for each scope without events: 0.6 s a scope at 1,000,000);
//! and they answer as before: accounts compare without letter case.

use super::{COVERS, FAILURES, LAST_EVENT};
use crate::store::SqliteStore;

fn plan(store: &SqliteStore, sql: &str, bound: &[Option<&str>]) -> String {
    let mut stmt = store
        .conn()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(bound), |r| r.get::<_, String>(3))
        .unwrap();
    rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
}

#[test]
fn each_account_question_seeks_its_account_index() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (from, to) = (Some("2026-11-01T00:00:00Z"), Some("2026-11-02T00:00:00Z"));
    let account = Some("111122223333");
    for (sql, bound, index) in [
        (
            COVERS,
            vec![Some("aws"), account, from, to],
            "INDEX audit_coverage_account",
        ),
        (
            FAILURES,
            vec![Some("aws"), account, from, to],
            "INDEX audit_failures_account",
        ),
        (
            FAILURES,
            vec![Some("aws"), account, None, None],
            "INDEX audit_failures_account",
        ),
        (
            LAST_EVENT,
            vec![Some("aws"), account, Some("us-east-1")],
            "INDEX audit_events_account",
        ),
        (
            LAST_EVENT,
            vec![Some("gcp"), Some("proj"), None],
            "INDEX audit_events_account",
        ),
    ] {
        let p = plan(&store, sql, &bound);
        assert!(
            p.contains(&format!("USING {index} (provider=? AND <expr>=?")),
            "{sql}: {p}"
        );
    }
}

#[test]
fn accounts_compare_without_letter_case_and_a_failure_of_every_account_counts_for_each() {
    use netdrift_snapshots::{Actor, AuditEvent, AuditFailure, Problem, ProblemCode, Provider};
    let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    // An Activity Log names the subscription in capitals; a configuration in lower case.
    let upper = "0B1F6471-1BF0-4DDA-AEC3-111122223333";
    let lower = upper.to_ascii_lowercase();
    let failure = |account: &str| AuditFailure {
        account: account.into(),
        region: None,
        start: t("2026-11-24T00:00:00Z"),
        end: t("2026-11-25T00:00:00Z"),
        problem: Problem {
            code: ProblemCode::PermissionDenied,
            kind: None,
            operation: None,
            message: "denied".into(),
        },
    };
    let event = AuditEvent {
        provider: Provider::Azure,
        event_id: "azure:op-1".into(),
        event_time: t("2026-11-24T10:00:00Z"),
        account: Some(upper.into()),
        region: None,
        event_name: "Microsoft.Network/networkSecurityGroups/securityRules/write".into(),
        resources: vec![format!("/subscriptions/{lower}/x")],
        succeeded: true,
        error: None,
        actor: Actor::default(),
        payload: Vec::new(),
        payload_removes: false,
        issued_key: None,
        catalogued: true,
        raw: None,
    };
    let mut store = SqliteStore::open_in_memory().unwrap();
    store
        .record_audit(&[super::AuditBatch {
            provider: Provider::Azure,
            source: "activity",
            events: std::slice::from_ref(&event),
            windows: &[(
                upper.into(),
                t("2026-11-24T00:00:00Z"),
                t("2026-11-25T00:00:00Z"),
            )],
            failures: &[failure(upper), failure("*")],
            objects: &[],
        }])
        .unwrap();
    let (from, to) = (t("2026-11-24T06:00:00Z"), t("2026-11-24T12:00:00Z"));
    assert!(store
        .audit_covers(Provider::Azure, &lower, from, to)
        .unwrap());
    assert!(!store.audit_covers(Provider::Aws, &lower, from, to).unwrap());
    assert!(!store
        .audit_covers(Provider::Azure, "other", from, to)
        .unwrap());
    let accounts = |account: &str| -> Vec<String> {
        store
            .audit_failures(Provider::Azure, account, Some((from, to)))
            .unwrap()
            .into_iter()
            .map(|f| f.account)
            .collect()
    };
    assert_eq!(accounts(&lower), [upper, "*"]);
    assert_eq!(accounts("other"), ["*"]);
    assert_eq!(
        store.last_event_at(Provider::Azure, &lower, None).unwrap(),
        Some(event.event_time)
    );
    assert_eq!(
        store
            .last_event_at(Provider::Azure, &lower, Some("westeurope"))
            .unwrap(),
        Some(event.event_time),
        "an event without a region counts for every region"
    );
    assert_eq!(
        store.last_event_at(Provider::Azure, "other", None).unwrap(),
        None
    );
}
