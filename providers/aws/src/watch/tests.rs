//! What a watch tick re-reads for each change.
use super::*;

fn event(name: &str, id: &str, resources: &[&str]) -> AuditEvent {
    let raw = serde_json::json!({
        "eventID": id, "eventName": name, "eventSource": "ec2.amazonaws.com",
        "eventTime": "2026-12-01T10:00:00Z", "awsRegion": "us-east-1",
        "recipientAccountId": "111111111111",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/alice"},
        "requestParameters": {}, "responseElements": null
    });
    let mut e = netdrift_provider_file::audit::cloudtrail::parse_record(&raw)
        .unwrap()
        .unwrap();
    e.resources = resources.iter().map(|s| s.to_string()).collect();
    e
}

#[test]
fn a_change_re_reads_what_it_names_and_an_attachment_the_whole_scope() {
    type Row<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str], bool);
    let rows: &[Row] = &[
        // event, resources, groups re-read, ACLs re-read, whole scope
        (
            "AuthorizeSecurityGroupIngress",
            &["sg-1", "sgr-9"],
            &["sg-1"],
            &[],
            false,
        ),
        (
            "RevokeSecurityGroupEgress",
            &["sg-2"],
            &["sg-2"],
            &[],
            false,
        ),
        ("DeleteSecurityGroup", &["sg-3"], &["sg-3"], &[], false),
        ("CreateNetworkAclEntry", &["acl-1"], &[], &["acl-1"], false),
        ("ModifySecurityGroupRules", &["sgr-1"], &[], &[], true),
        ("AuthorizeSecurityGroupIngress", &[], &[], &[], true),
        ("ModifyInstanceAttribute", &["sg-4"], &[], &[], true),
        ("ReplaceNetworkAclAssociation", &["acl-2"], &[], &[], true),
        ("ModifyManagedPrefixList", &[], &[], &[], true),
    ];
    for (name, res, groups, acls, whole) in rows {
        let e = event(name, "e1", res);
        let t = targets(&[&e]);
        let ids =
            |l: &[(String, String, String)]| l.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&t.groups), *groups, "{name} {res:?}");
        assert_eq!(ids(&t.acls), *acls, "{name} {res:?}");
        assert_eq!(t.whole.is_some(), *whole, "{name} {res:?}");
    }
}

#[test]
fn only_new_changes_that_took_effect_are_re_read() {
    let mut failed = event("AuthorizeSecurityGroupIngress", "e2", &["sg-2"]);
    failed.succeeded = false;
    let events = vec![
        event("AuthorizeSecurityGroupIngress", "e1", &["sg-1"]),
        failed,
        event("AuthorizeSecurityGroupIngress", "e3", &["sg-3"]),
    ];
    let seen = |id: &str| id == "aws:e3";
    let t = targets(&new_changes(&events, &seen));
    assert_eq!(t.groups.len(), 1);
    assert_eq!(
        t.groups[0],
        (
            "sg-1".into(),
            "AuthorizeSecurityGroupIngress".into(),
            "aws:e1".into()
        )
    );
}
