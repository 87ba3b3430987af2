//! The severity matrix, row by row: docs/severity.md's table is the code's `MATRIX` (codes,
//! order, severities), and each row is produced by a real change, written as the AWS CLI's JSON
//! for one security group before and after.

use std::collections::BTreeSet;

use netdrift_snapshots::severity::{assess, SeverityPolicy, MATRIX};
use netdrift_snapshots::{diff_scope, Provider, Severity};

use crate::support::repo;

/// One security group whose `IpPermissions` / `IpPermissionsEgress` are the JSON given.
fn group(description: &str, ingress: &str, egress: &str) -> Vec<netdrift_snapshots::Resource> {
    let text = format!(
        r#"{{"SecurityGroups": [{{"GroupId": "sg-1", "GroupName": "web", "VpcId": "vpc-1",
            "OwnerId": "111122223333", "Description": "{description}",
            "IpPermissions": [{ingress}], "IpPermissionsEgress": [{egress}]}}]}}"#
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    netdrift_provider_file::convert_document(Provider::Aws, "111122223333", &doc).unwrap()
}

fn tcp(port: u16, cidr: &str) -> String {
    format!(
        r#"{{"IpProtocol": "tcp", "FromPort": {port}, "ToPort": {port}, "IpRanges": [{{"CidrIp": "{cidr}"}}]}}"#
    )
}

fn all(cidr: &str) -> String {
    format!(r#"{{"IpProtocol": "-1", "IpRanges": [{{"CidrIp": "{cidr}"}}]}}"#)
}

#[test]
fn the_documented_matrix_is_the_code() {
    let doc = std::fs::read_to_string(repo().join("docs/severity.md")).unwrap();
    let rows: Vec<(String, String)> = doc
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[3].to_string())
        })
        .collect();
    let code: Vec<(String, String)> = MATRIX
        .iter()
        .map(|(c, s, _)| (c.to_string(), s.as_str().to_string()))
        .collect();
    assert_eq!(
        rows, code,
        "docs/severity.md's matrix and severity::MATRIX differ"
    );
}

/// (before ingress, before egress, after ingress, after egress, description after) →
/// (code, severity, direction of the item).
#[test]
fn every_row_of_the_matrix() {
    let t22 = tcp(22, "0.0.0.0/0");
    let rows: &[(&str, String, String, String, String, &str, Severity)] = &[
        (
            "world-ingress-sensitive",
            String::new(),
            String::new(),
            t22.clone(),
            String::new(),
            "ingress",
            Severity::Critical,
        ),
        (
            "world-ingress",
            String::new(),
            String::new(),
            tcp(8443, "0.0.0.0/0"),
            String::new(),
            "ingress",
            Severity::High,
        ),
        (
            "world-egress-all",
            String::new(),
            String::new(),
            String::new(),
            all("0.0.0.0/0"),
            "egress",
            Severity::High,
        ),
        (
            "public-ingress-sensitive",
            String::new(),
            String::new(),
            tcp(22, "8.8.8.8/32"),
            String::new(),
            "ingress",
            Severity::High,
        ),
        (
            "public-ingress",
            String::new(),
            String::new(),
            tcp(8443, "8.8.8.8/32"),
            String::new(),
            "ingress",
            Severity::Medium,
        ),
        (
            "world-egress",
            String::new(),
            String::new(),
            String::new(),
            tcp(443, "0.0.0.0/0"),
            "egress",
            Severity::Medium,
        ),
        (
            "private-sensitive-atypical",
            String::new(),
            String::new(),
            tcp(22, "10.0.0.0/8"),
            String::new(),
            "ingress",
            Severity::Medium,
        ),
        (
            "widening",
            tcp(8443, "10.1.0.0/16"),
            String::new(),
            tcp(8443, "10.0.0.0/8"),
            String::new(),
            "ingress",
            Severity::Low,
        ),
        (
            "narrowing",
            tcp(22, "10.0.0.0/8"),
            String::new(),
            tcp(22, "10.1.0.0/16"),
            String::new(),
            "ingress",
            Severity::Info,
        ),
        (
            "cosmetic",
            t22.clone(),
            String::new(),
            t22.clone(),
            String::new(),
            "ingress",
            Severity::Info,
        ),
    ];
    let mut seen = BTreeSet::new();
    for (code, bi, be, ai, ae, direction, severity) in rows {
        let before = group("web", bi, be);
        let after = group(
            if *code == "cosmetic" {
                "web servers"
            } else {
                "web"
            },
            ai,
            ae,
        );
        let diffs = diff_scope(&before, &after, &BTreeSet::new());
        assert_eq!(diffs.len(), 1, "{code}: {diffs:?}");
        let d = &diffs[0];
        assert_eq!(d.direction.as_str(), *direction, "{code}");
        let a = assess(d, &SeverityPolicy::default());
        assert_eq!(
            (a.code, a.severity),
            (*code, *severity),
            "{code}: {:?}",
            a.reasons
        );
        seen.insert(*code);
    }
    let all_codes: BTreeSet<&str> = MATRIX.iter().map(|(c, _, _)| *c).collect();
    assert_eq!(seen, all_codes, "every documented row has its case");
}

/// The reach adjustments of docs/severity.md ("reach"), one row each: (the change, the reach
/// of its newly allowed access) → severity.
#[test]
fn reach_adjusts_the_level_as_documented() {
    use netdrift_snapshots::severity::assess_with_reach;
    use netdrift_snapshots::{Reach, ReachVerdict};
    let verdict = |reach: Reach| ReachVerdict {
        reach,
        exposed: Vec::new(),
        why: format!("{} (test)", reach.as_str()),
    };
    let rows: &[(&str, String, String, Option<Reach>, Severity)] = &[
        (
            "world ssh, internet: kept",
            String::new(),
            tcp(22, "0.0.0.0/0"),
            Some(Reach::Internet),
            Severity::Critical,
        ),
        (
            "world ssh, internal: one lower",
            String::new(),
            tcp(22, "0.0.0.0/0"),
            Some(Reach::Internal),
            Severity::High,
        ),
        (
            "world ssh, unattached: two lower",
            String::new(),
            tcp(22, "0.0.0.0/0"),
            Some(Reach::Unattached),
            Severity::Medium,
        ),
        (
            "world 8443, unattached: two lower but not below low",
            String::new(),
            tcp(8443, "0.0.0.0/0"),
            Some(Reach::Unattached),
            Severity::Low,
        ),
        (
            "world ssh, unknown: unchanged",
            String::new(),
            tcp(22, "0.0.0.0/0"),
            Some(Reach::Unknown),
            Severity::Critical,
        ),
        (
            "world ssh, no reach computed: unchanged",
            String::new(),
            tcp(22, "0.0.0.0/0"),
            None,
            Severity::Critical,
        ),
        (
            "private widening, unattached: not below low",
            tcp(8443, "10.1.0.0/16"),
            tcp(8443, "10.0.0.0/8"),
            Some(Reach::Unattached),
            Severity::Low,
        ),
        (
            "private widening, internal: not below low",
            tcp(8443, "10.1.0.0/16"),
            tcp(8443, "10.0.0.0/8"),
            Some(Reach::Internal),
            Severity::Low,
        ),
        (
            "public 8443, internet: medium kept",
            String::new(),
            tcp(8443, "8.8.8.8/32"),
            Some(Reach::Internet),
            Severity::Medium,
        ),
    ];
    for (name, before, after, reach, want) in rows {
        let items = diff_scope(
            &group("d", before, ""),
            &group("d", after, ""),
            &BTreeSet::new(),
        );
        let item = items
            .iter()
            .find(|i| i.direction == netdrift_snapshots::Direction::Ingress)
            .unwrap_or_else(|| panic!("{name}: no ingress item"));
        let v = reach.map(verdict);
        let a = assess_with_reach(item, &SeverityPolicy::default(), v.as_ref());
        assert_eq!(a.severity, *want, "{name}: {:?}", a.reasons);
        if let Some(r) = reach.filter(|r| *r != Reach::Unknown) {
            assert!(
                a.reasons.iter().any(|x| x.contains(r.as_str())),
                "{name}: the reasons say what reach decided: {:?}",
                a.reasons
            );
        }
    }
}

#[test]
fn the_diff_names_the_state_hashes_a_caller_holds_and_hashes_the_rest() {
    use netdrift_snapshots::{diff_scope_known, state_hash, Known};
    let before = group("web", &tcp(22, "10.0.0.0/8"), &all("0.0.0.0/0"));
    let after = group("web", &tcp(22, "0.0.0.0/0"), &all("0.0.0.0/0"));
    let none = BTreeSet::new();
    let states = |b: &[String], a: &[String]| {
        let items = diff_scope_known(Known::new(&before, b), Known::new(&after, a), &none);
        assert_eq!(items.len(), 1, "{items:?}");
        (
            items[0].baseline_state.clone(),
            items[0].actual_state.clone(),
        )
    };
    let held = |h: &str| vec![h.to_string()];
    assert_eq!(
        states(&held("held-b"), &held("held-a")),
        (Some("held-b".into()), Some("held-a".into()))
    );
    let computed = (Some(state_hash(&before[0])), Some(state_hash(&after[0])));
    assert_eq!(states(&[], &[]), computed);
    // Hashes of another count than the side's resources are not theirs.
    let two = [held("x"), held("y")].concat();
    assert_eq!(states(&two, &two), computed);
    assert_eq!(
        states(&held("held-b"), &[]),
        (Some("held-b".into()), computed.1.clone())
    );
    assert_eq!(
        diff_scope(&before, &after, &none)[0].actual_state,
        computed.1
    );
}
