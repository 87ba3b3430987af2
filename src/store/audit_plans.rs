//! The per-account audit questions are index seeks: a scan of every event or window for each
//! scope or drift item is hours at an organization's scale (the coverage matrix read every
//! stored event of the provider for each scope without events: 4 s a scope at 1,000,000).

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
