//! The Store contract for continuous detection: watch cursors and deliveries, on every backend.

use netdrift::store::DeliveryRow;
use netdrift_snapshots::ScopeKey;

use crate::store_contract::{at, backends};

fn key(s: &str) -> ScopeKey {
    ScopeKey::parse(s).unwrap()
}

#[test]
fn watch_cursors_only_move_forward_and_survive_as_stored() {
    for (name, mut store) in backends() {
        assert!(store.watch_cursors().unwrap().is_empty(), "{name}");
        let (a, b) = (key("aws:111122223333:us-east-1"), key("gcp:proj-a"));
        store
            .advance_cursors(
                &[
                    (a.clone(), at("2026-12-01T10:05:00Z")),
                    (b.clone(), at("2026-12-01T10:00:00Z")),
                ],
                at("2026-12-01T10:05:01Z"),
            )
            .unwrap();
        // An earlier position (a tick held back by a failed re-read of an older change) never
        // moves a cursor back.
        store
            .advance_cursors(
                &[
                    (a.clone(), at("2026-12-01T10:01:00Z")),
                    (b.clone(), at("2026-12-01T10:10:00Z")),
                ],
                at("2026-12-01T10:10:01Z"),
            )
            .unwrap();
        let c = store.watch_cursors().unwrap();
        assert_eq!(c.len(), 2, "{name}");
        assert_eq!(c[&a], at("2026-12-01T10:05:00Z"), "{name}");
        assert_eq!(c[&b], at("2026-12-01T10:10:00Z"), "{name}");
    }
}

fn delivery(id: &str, resource: &str) -> DeliveryRow {
    DeliveryRow {
        route: "default".into(),
        item_id: id.into(),
        kind: "drift".into(),
        scope: "aws:111122223333:us-east-1".into(),
        resource: resource.into(),
        direction: "ingress".into(),
        severity: "critical".into(),
        line: format!("• [CRITICAL] {resource}"),
        run_id: 7,
        delivered_at: at("2026-12-01T10:06:00Z"),
        resolved_at: None,
        resolved_run: None,
        resolved_by: None,
    }
}

#[test]
fn a_delivery_is_recorded_once_and_resolved_once() {
    for (name, mut store) in backends() {
        assert!(
            store
                .delivered_among("default", &["d-1"])
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let (d1, d2) = (delivery("d-1", "sg-1"), delivery("d-2", "sg-2"));
        store
            .record_deliveries(&[d1.clone(), d2.clone()], &[])
            .unwrap();
        // Recording the same item again changes nothing.
        store
            .record_deliveries(
                &[DeliveryRow {
                    line: "other".into(),
                    ..d1.clone()
                }],
                &[],
            )
            .unwrap();
        let got = store
            .delivered_among("default", &["d-1", "d-2", "d-3"])
            .unwrap();
        assert_eq!(got.len(), 2, "{name}");
        assert!(got.contains("d-1") && got.contains("d-2"), "{name}");
        assert_eq!(
            store.open_deliveries().unwrap(),
            vec![d1.clone(), d2.clone()],
            "{name}"
        );
        let resolved = DeliveryRow {
            resolved_at: Some(at("2026-12-01T11:00:00Z")),
            resolved_run: Some(9),
            resolved_by: Some("arn:aws:iam::111122223333:user/bob".into()),
            ..d1.clone()
        };
        store
            .record_deliveries(&[], std::slice::from_ref(&resolved))
            .unwrap();
        // A second resolution of the same item keeps the first.
        store
            .record_deliveries(
                &[],
                &[DeliveryRow {
                    resolved_by: Some("later".into()),
                    ..resolved.clone()
                }],
            )
            .unwrap();
        assert_eq!(store.open_deliveries().unwrap(), vec![d2.clone()], "{name}");
        assert_eq!(
            store.deliveries().unwrap(),
            vec![resolved, d2.clone()],
            "{name}"
        );
        assert!(
            store
                .delivered_among("default", &["d-1"])
                .unwrap()
                .contains("d-1"),
            "{name}: still delivered"
        );
        // Another route keeps its own: the same item is new to it, and its resolution leaves
        // the default route's delivery as it was.
        assert!(
            store
                .delivered_among("net-team", &["d-2"])
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let d2_net = DeliveryRow {
            route: "net-team".into(),
            ..d2.clone()
        };
        store
            .record_deliveries(std::slice::from_ref(&d2_net), &[])
            .unwrap();
        let d2_net_resolved = DeliveryRow {
            resolved_at: Some(at("2026-12-01T12:00:00Z")),
            resolved_run: Some(10),
            ..d2_net.clone()
        };
        store
            .record_deliveries(&[], std::slice::from_ref(&d2_net_resolved))
            .unwrap();
        assert_eq!(store.open_deliveries().unwrap(), vec![d2.clone()], "{name}");
        assert!(store
            .delivered_among("net-team", &["d-2"])
            .unwrap()
            .contains("d-2"));
    }
}
