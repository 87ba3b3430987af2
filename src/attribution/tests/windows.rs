//! The attribution window and change windows, from inputs alone.

use super::*;

/// (last snapshot showing the approved state, approval) → window start.
#[test]
fn window_rows() {
    let cfg = AttributionConfig::default();
    let mut item = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0"))).item;
    let at = |s: &str| -> DateTime<Utc> { s.parse().unwrap() };
    let w = window(&item, Some(at("2026-11-24T02:00:00Z")), &cfg).unwrap();
    assert_eq!(w, (at("2026-11-24T01:55:00Z"), at("2026-11-25T02:05:00Z")));
    let w = window(&item, None, &cfg).unwrap();
    assert_eq!(w.0, at("2026-11-23T23:55:00Z"), "from the approval");
    item.baseline_approved_at = None;
    let w = window(&item, None, &cfg).unwrap();
    assert_eq!(w.0, at("2026-08-27T01:55:00Z"), "the log retention horizon");
}

/// (change window, its principals) → whether the change counts as approved.
#[test]
fn change_window_rows() {
    use crate::config::{Schedule, Zone};
    let cfg = AttributionConfig::default();
    let c = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
    // The event is at 2026-11-24T11:00:00Z.
    for (cron, principals, scopes, approved) in [
        ("0 10 * * *", vec![], vec![], true),
        ("0 10 * * *", vec!["*alice*"], vec![], true),
        ("0 10 * * *", vec!["*bob*"], vec![], false),
        ("0 10 * * *", vec![], vec!["gcp:*"], false),
        ("0 10 * * *", vec![], vec!["aws:111122223333:*"], true),
        ("0 12 * * *", vec![], vec![], false),
        ("0 9 * * *", vec![], vec![], false),
    ] {
        let w = ChangeWindow {
            name: "nightly".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            start: Schedule::parse(cron, Zone::Utc).unwrap(),
            duration_minutes: 120,
            principals: principals.iter().map(|s| s.to_string()).collect(),
            ticket: Some("CHG-1".into()),
        };
        let windows = [w];
        let settings = Settings {
            attribution: &cfg,
            change_windows: &windows,
            records: &[],
        };
        let i = inputs(vec![event(
            1,
            "AuthorizeSecurityGroupIngress",
            "alice",
            ingress("0.0.0.0/0"),
            None,
        )]);
        let (a, _) = attribute(&c, &i, &settings, "2026-11-25T03:00:00Z".parse().unwrap());
        assert_eq!(
            a.change_record.is_some(),
            approved,
            "{cron} {principals:?} {scopes:?}"
        );
    }
}
