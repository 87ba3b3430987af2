//! Attribution from inputs alone: a drift item, the CloudTrail records of its window and
//! what the logs cover go in; grade, status, actor and class come out. No database.
use super::*;

mod windows;
use crate::findings::CoverageCode;
use crate::store::{AuditFailureRow, ScopeInputs, SnapshotRow};
use netdrift_snapshots::{Provider, Scope};

const GROUP: &str = "sg-0a1b2c3d4e5f60001";

/// The group with one ingress range on tcp/22 (or none).
fn group(cidr: Option<&str>) -> Vec<Resource> {
    let perms = match cidr {
        Some(c) => serde_json::json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": c}]}]),
        None => serde_json::json!([]),
    };
    let doc = serde_json::json!({"SecurityGroups": [{"GroupId": GROUP, "GroupName": "web",
        "VpcId": "vpc-1", "OwnerId": "111122223333", "Description": "web",
        "IpPermissions": perms, "IpPermissionsEgress": []}]});
    netdrift_provider_file::convert_document(Provider::Aws, "111122223333", &doc).unwrap()
}

/// The drift of the group from `before` (None: absent) to `after`.
fn computed(before: Option<Option<&str>>, after: Option<Option<&str>>) -> Computed {
    let input = ScopeInputs {
        scope: Scope::new(Provider::Aws, "111122223333", Some("us-east-1".into())),
        snapshot: SnapshotRow {
            id: 2,
            scope: netdrift_snapshots::ScopeKey::parse("aws:111122223333:us-east-1").unwrap(),
            source: "file:a".into(),
            taken_at: netdrift_snapshots::time::parse("t", "2026-11-25T02:00:00Z").unwrap(),
            status: netdrift_snapshots::SnapshotStatus::Complete,
            problems: Vec::new(),
            uncollected: Vec::new(),
            resource_count: 1,
            rule_count: 1,
            seen_at: netdrift_snapshots::time::parse("t", "2026-11-25T02:00:00Z").unwrap(),
            manifest_hash: None,
        },
        actual: after.map(group).unwrap_or_default(),
        baseline: Some(before.map(group).unwrap_or_default()),
        approved_at: Some(netdrift_snapshots::time::parse("t", "2026-11-24T00:00:00Z").unwrap()),
        exceptions: Vec::new(),
        states: Default::default(),
        patterns: Default::default(),
    };
    let now = "2026-11-25T03:00:00Z".parse().unwrap();
    let (mut items, _) = crate::drift::compute(&[input], &Default::default(), now).unwrap();
    assert_eq!(items.len(), 1, "one drift item");
    items.remove(0)
}

/// The user identities the rows use, as CloudTrail writes them.
fn identity(who: &str) -> serde_json::Value {
    match who {
        "alice" => serde_json::json!({"type": "AssumedRole",
            "principalId": "AROAEXAMPLEADMIN0001:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/AdminAccess/alice",
            "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLEALICE0001",
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": "arn:aws:iam::111122223333:role/AdminAccess", "userName": "AdminAccess"}}}),
        "iam-alice" => serde_json::json!({"type": "IAMUser", "principalId": "AIDAALICE",
            "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLEALICE0001", "userName": "alice"}),
        "root" => serde_json::json!({"type": "Root", "principalId": "111122223333",
            "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLEROOT00001"}),
        "deploy-bot" => serde_json::json!({"type": "IAMUser", "principalId": "AIDADEPLOY",
            "arn": "arn:aws:iam::111122223333:user/deploy-bot", "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLEDEPLOY001", "userName": "deploy-bot"}),
        "terraform" => serde_json::json!({"type": "AssumedRole",
            "principalId": "AROATF:gha-run-1",
            "arn": "arn:aws:sts::111122223333:assumed-role/TerraformApply/gha-run-1",
            "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLETF0000001",
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": "arn:aws:iam::111122223333:role/TerraformApply", "userName": "TerraformApply"}}}),
        "break-glass" => serde_json::json!({"type": "AssumedRole",
            "principalId": "AROABG:oncall",
            "arn": "arn:aws:sts::111122223333:assumed-role/BreakGlassAdmin/oncall",
            "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLEBG0000001",
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": "arn:aws:iam::111122223333:role/BreakGlassAdmin", "userName": "BreakGlassAdmin"}}}),
        other => panic!("no identity {other}"),
    }
}

/// One CloudTrail record, parsed as an imported file is.
fn event(
    n: u32,
    name: &str,
    who: &str,
    params: serde_json::Value,
    error: Option<&str>,
) -> AuditEvent {
    let mut r = serde_json::json!({"eventVersion": "1.09", "userIdentity": identity(who),
        "eventTime": format!("2026-11-24T1{n}:00:00Z"), "eventSource": "ec2.amazonaws.com",
        "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.23",
        "userAgent": if who == "terraform" { "APN/1.0 HashiCorp/1.0 Terraform/1.9.5" } else { "console.ec2.amazonaws.com" },
        "requestParameters": params, "responseElements": null,
        "eventID": format!("e-{n}"), "readOnly": false, "eventType": "AwsApiCall",
        "managementEvent": true, "recipientAccountId": "111122223333"});
    if let Some(e) = error {
        r["errorCode"] = e.into();
        r["errorMessage"] = "You are not authorized to perform this operation.".into();
    }
    let doc = serde_json::to_vec(&serde_json::json!({"Records": [r]})).unwrap();
    let mut p = netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &doc).unwrap();
    assert_eq!(p.events.len(), 1, "{name}: {:?}", p.skipped);
    p.events.remove(0)
}

fn ingress(cidr: &str) -> serde_json::Value {
    ingress_on(22, cidr)
}

fn ingress_on(port: u16, cidr: &str) -> serde_json::Value {
    serde_json::json!({"groupId": GROUP, "ipPermissions": {"items": [{"ipProtocol": "tcp",
        "fromPort": port, "toPort": port, "ipRanges": {"items": [{"cidrIp": cidr}]}}]}})
}

fn assume_role() -> AuditEvent {
    let doc = serde_json::json!({"Records": [{"eventVersion": "1.08",
        "userIdentity": identity("iam-alice"), "eventTime": "2026-11-24T09:00:00Z",
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2.15.30",
        "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/AdminAccess",
            "roleSessionName": "alice"},
        "responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLEALICE0001"}},
        "eventID": "e-assume", "eventType": "AwsApiCall", "recipientAccountId": "111122223333"}]});
    let doc = serde_json::to_vec(&doc).unwrap();
    netdrift_provider_file::audit::parse_file(Provider::Aws, "ct", &doc)
        .unwrap()
        .events
        .remove(0)
}

fn inputs(events: Vec<AuditEvent>) -> ItemInputs {
    ItemInputs {
        window: (
            "2026-11-23T23:55:00Z".parse().unwrap(),
            "2026-11-25T02:05:00Z".parse().unwrap(),
        ),
        events,
        issuers: HashMap::new(),
        failures: Vec::new(),
        covered: true,
        before: Some(group(Some("10.0.0.0/8")).remove(0)),
    }
}

fn settings(cfg: &AttributionConfig) -> Settings<'_> {
    Settings {
        attribution: cfg,
        change_windows: &[],
        records: &[],
    }
}

/// (event, change) → grade.
#[test]
fn grade_rows() {
    let widened = || computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
    let removed = || computed(Some(Some("10.0.0.0/8")), None);
    let rows: Vec<(&str, AuditEvent, Computed, AttributionStatus)> = vec![
        (
            "its payload opens the new access",
            event(
                1,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress("0.0.0.0/0"),
                None,
            ),
            widened(),
            AttributionStatus::Exact,
        ),
        (
            "its payload opens part of the new access",
            event(
                2,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress("192.0.2.0/24"),
                None,
            ),
            widened(),
            AttributionStatus::Exact,
        ),
        (
            "its payload opens only what was approved",
            event(
                6,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress("10.1.0.0/16"),
                None,
            ),
            widened(),
            AttributionStatus::Probable,
        ),
        (
            "its payload opens another port",
            event(
                7,
                "AuthorizeSecurityGroupIngress",
                "alice",
                ingress_on(443, "0.0.0.0/0"),
                None,
            ),
            widened(),
            AttributionStatus::Probable,
        ),
        (
            "it revokes what was never denied",
            event(
                3,
                "RevokeSecurityGroupIngress",
                "alice",
                ingress("10.0.0.0/8"),
                None,
            ),
            widened(),
            AttributionStatus::Probable,
        ),
        (
            "a delete of a removed group",
            event(
                4,
                "DeleteSecurityGroup",
                "alice",
                serde_json::json!({"groupId": GROUP}),
                None,
            ),
            removed(),
            AttributionStatus::Exact,
        ),
        (
            "no payload",
            event(
                5,
                "ModifySecurityGroupRules",
                "alice",
                serde_json::json!({}),
                None,
            ),
            widened(),
            AttributionStatus::Probable,
        ),
    ];
    for (why, ev, c, want) in rows {
        let before = group(Some("10.0.0.0/8")).remove(0);
        assert_eq!(grade(&ev, &c, Some(&before)), want, "{why}");
    }
}

/// (events, what the logs cover, a failed read, now) → status, and the finding it reveals.
#[test]
fn status_rows() {
    let cfg = AttributionConfig::default();
    let ok = || {
        event(
            1,
            "AuthorizeSecurityGroupIngress",
            "alice",
            ingress("0.0.0.0/0"),
            None,
        )
    };
    let denied = || {
        event(
            2,
            "AuthorizeSecurityGroupIngress",
            "alice",
            ingress("0.0.0.0/0"),
            Some("Client.UnauthorizedOperation"),
        )
    };
    let other = || {
        event(
            3,
            "AuthorizeSecurityGroupIngress",
            "alice",
            ingress_on(443, "0.0.0.0/0"),
            None,
        )
    };
    let failure = AuditFailureRow {
        provider: Provider::Aws,
        account: "111122223333".into(),
        region: None,
        start: netdrift_snapshots::time::parse("t", "2026-11-24T00:00:00Z").unwrap(),
        end: netdrift_snapshots::time::parse("t", "2026-11-25T00:00:00Z").unwrap(),
        code: "permission-denied".into(),
        operation: Some("LookupEvents".into()),
        message: "AccessDenied".into(),
        source: "aws:live".into(),
    };
    let soon = "2026-11-25T03:00:00Z";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        &str,
        Vec<AuditEvent>,
        bool,
        Option<AuditFailureRow>,
        &str,
        AttributionStatus,
        &str,
        Option<CoverageCode>,
    )> = vec![
        (
            "the payload proves it",
            vec![ok()],
            true,
            None,
            soon,
            AttributionStatus::Exact,
            "the request payload of the event produces this drift",
            None,
        ),
        (
            "a change of the resource, not this access",
            vec![other()],
            true,
            None,
            soon,
            AttributionStatus::Probable,
            "their payload does not show this exact access",
            None,
        ),
        (
            "logs cover the window, nothing recorded",
            vec![],
            true,
            None,
            soon,
            AttributionStatus::Unattributed,
            "possible logging gap",
            Some(CoverageCode::LoggingGap),
        ),
        (
            "only a refused attempt",
            vec![denied()],
            true,
            None,
            soon,
            AttributionStatus::Unattributed,
            "possible logging gap",
            Some(CoverageCode::LoggingGap),
        ),
        (
            "no logs imported",
            vec![],
            false,
            None,
            soon,
            AttributionStatus::Unattributed,
            "no audit logs imported for 111122223333",
            None,
        ),
        (
            "the logs could not be read",
            vec![],
            true,
            Some(failure.clone()),
            soon,
            AttributionStatus::Unattributed,
            "could not be read",
            Some(CoverageCode::AuditReadFailed),
        ),
        (
            "a proof, but part of the logs unread",
            vec![ok()],
            true,
            Some(failure),
            soon,
            AttributionStatus::Exact,
            "so other events may be missing",
            None,
        ),
        (
            "beyond the retention",
            vec![],
            true,
            None,
            "2027-06-01T00:00:00Z",
            AttributionStatus::Unattributed,
            "beyond the audit log retention",
            None,
        ),
    ];
    let c = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
    for (why, events, covered, failure, now, status, reason, finding) in rows {
        let mut i = inputs(events);
        i.covered = covered;
        i.failures.extend(failure);
        let (a, gap) = attribute(&c, &i, &settings(&cfg), now.parse().unwrap());
        assert_eq!(a.status, status, "{why}: {}", a.reason);
        assert!(a.reason.contains(reason), "{why}: {}", a.reason);
        assert_eq!(gap.map(|g| g.code), finding, "{why}");
    }
}

/// (identity, configuration) → actor class, and the role chain behind a session.
#[test]
fn actor_rows() {
    let cfg = AttributionConfig {
        break_glass: vec!["*BreakGlass*".into()],
        automation: vec!["*TerraformApply*".into()],
        ..Default::default()
    };
    let rows = [
        ("alice", "human"),
        ("iam-alice", "long-term-key"),
        ("root", "root"),
        ("deploy-bot", "long-term-key"),
        ("terraform", "pipeline"),
        ("break-glass", "break-glass"),
    ];
    let c = computed(Some(Some("10.0.0.0/8")), Some(Some("0.0.0.0/0")));
    for (who, class) in rows {
        let mut i = inputs(vec![event(
            1,
            "AuthorizeSecurityGroupIngress",
            who,
            ingress("0.0.0.0/0"),
            None,
        )]);
        let assume = assume_role();
        i.issuers.insert(
            assume.issued_key.clone().expect("AssumeRole issues a key"),
            assume,
        );
        let (a, _) = attribute(
            &c,
            &i,
            &settings(&cfg),
            "2026-11-25T03:00:00Z".parse().unwrap(),
        );
        assert_eq!(a.actors.len(), 1, "{who}");
        assert_eq!(a.actors[0].class, class, "{who}");
        if who == "alice" {
            assert_eq!(
                a.actors[0].role.as_deref(),
                Some("arn:aws:iam::111122223333:role/AdminAccess")
            );
            assert!(
                a.actors[0]
                    .chain
                    .iter()
                    .any(|l| l.contains("assumed by arn:aws:iam::111122223333:user/alice")),
                "{:?}",
                a.actors[0].chain
            );
        }
    }
    // Without the issuing event, the session is still its role's; the chain is empty.
    let i = inputs(vec![event(
        1,
        "AuthorizeSecurityGroupIngress",
        "alice",
        ingress("0.0.0.0/0"),
        None,
    )]);
    let (a, _) = attribute(
        &c,
        &i,
        &settings(&cfg),
        "2026-11-25T03:00:00Z".parse().unwrap(),
    );
    assert!(a.actors[0].chain.is_empty());
}
