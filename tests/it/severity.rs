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
