//! Edge cases checked against the clouds' documentation (issue: "never a false all-clear"),
//! native JSON in, one line per case. Each class has its siblings: destination vs source,
//! singular vs plural fields, every default a CLI prints.

use std::collections::BTreeSet;

use netdrift_provider_file::convert_document;
use netdrift_snapshots::{diff_scope, Provider};
use serde_json::{json, Value};

fn convert(provider: Provider, doc: &Value) -> Result<Vec<netdrift_snapshots::Resource>, String> {
    convert_document(provider, "p1", doc).map_err(|e| e.to_string())
}

fn diff(provider: Provider, before: Value, after: Value) -> Vec<String> {
    let b = convert(provider, &before).unwrap_or_else(|e| panic!("before: {e}"));
    let a = convert(provider, &after).unwrap_or_else(|e| panic!("after: {e}"));
    lines(&diff_scope(&b, &a, &BTreeSet::new()))
}

#[path = "support/lines.rs"]
mod support_lines;
use support_lines::lines;

// ---------------- destinations contain, they are not equal ----------------

fn nsg(rules: Value) -> Value {
    json!({"value": [{"name": "nsg1", "id": "/subscriptions/S/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1",
        "type": "Microsoft.Network/networkSecurityGroups", "location": "westeurope", "properties": {"securityRules": rules}}]})
}
/// An inbound Azure rule on tcp/22 from the Internet to `dst` (`destinationAddressPrefix`).
fn az(name: &str, prio: i64, access: &str, dst: &str) -> Value {
    json!({"name": name, "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22", "sourceAddressPrefix": "Internet",
        "destinationAddressPrefix": dst, "access": access, "priority": prio, "direction": "Inbound"}})
}
/// The same with the plural `destinationAddressPrefixes`.
fn az_plural(name: &str, prio: i64, access: &str, dst: &[&str]) -> Value {
    json!({"name": name, "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22", "sourceAddressPrefix": "Internet",
        "destinationAddressPrefix": "", "destinationAddressPrefixes": dst, "access": access, "priority": prio, "direction": "Inbound"}})
}

fn fw(name: &str, prio: i64, body: Value) -> Value {
    let mut v = json!({"kind": "compute#firewall", "name": name, "network": "https://www.googleapis.com/compute/v1/projects/p1/global/networks/vpc", "priority": prio, "direction": "INGRESS",
        "selfLink": format!("https://www.googleapis.com/compute/v1/projects/p1/global/firewalls/{name}")});
    for (k, val) in body.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

#[test]
fn destination_ranges_are_matched_by_containment() {
    let allow_all = az("allow-ssh", 200, "Allow", "*");
    let cases: Vec<(&str, Provider, Value, Value, Vec<&str>)> = vec![
        (
            "Azure: a deny whose destination widens from a host to its /24 is a pure tightening",
            Provider::Azure,
            nsg(json!([az("deny-host", 100, "Deny", "10.0.0.5/32"), allow_all])),
            nsg(json!([az("deny-host", 100, "Deny", "10.0.0.0/24"), allow_all])),
            vec!["narrows modified ingress +[] -[tcp/22 internet to 10.0.0.0/24]"],
        ),
        (
            "Azure: an allow widening from a host to its /24 only adds access",
            Provider::Azure,
            nsg(json!([az("ssh-host", 100, "Allow", "10.0.0.5/32")])),
            nsg(json!([az("ssh-host", 100, "Allow", "10.0.0.0/24")])),
            vec!["expands modified ingress +[tcp/22 internet to 10.0.0.0/24] -[] world"],
        ),
        (
            "Azure: the plural field contains as the singular does",
            Provider::Azure,
            nsg(json!([az_plural("deny-hosts", 100, "Deny", &["10.0.0.5/32", "10.9.0.5/32"]), allow_all])),
            nsg(json!([az_plural("deny-hosts", 100, "Deny", &["10.0.0.0/24", "10.9.0.5/32"]), allow_all])),
            vec!["narrows modified ingress +[] -[tcp/22 internet to 10.0.0.0/24]"],
        ),
        (
            "Azure: a deny narrowing from the /24 to one host re-opens the rest (widening, not mixed)",
            Provider::Azure,
            nsg(json!([az("deny-net", 100, "Deny", "10.0.0.0/24"), allow_all])),
            nsg(json!([az("deny-net", 100, "Deny", "10.0.0.5/32"), allow_all])),
            vec!["expands modified ingress +[tcp/22 internet to 10.0.0.0/24] -[] world"],
        ),
        (
            "GCP: an ingress deny whose destinationRanges widen from a host to its /24 is a tightening",
            Provider::Gcp,
            json!([
                fw("deny-host", 900, json!({"denied": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "destinationRanges": ["10.0.0.5/32"]})),
                fw("allow-ssh", 1000, json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"]})),
            ]),
            json!([
                fw("deny-host", 900, json!({"denied": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "destinationRanges": ["10.0.0.0/24"]})),
                fw("allow-ssh", 1000, json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"]})),
            ]),
            vec!["narrows modified ingress +[] -[tcp/22 0.0.0.0/0 to 10.0.0.0/24]"],
        ),
        (
            "GCP: an ingress allow whose destinationRanges widen from a host to its /24 only adds",
            Provider::Gcp,
            json!([fw("allow-host", 1000, json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "destinationRanges": ["10.0.0.5/32"]}))]),
            json!([fw("allow-host", 1000, json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "destinationRanges": ["10.0.0.0/24"]}))]),
            vec!["expands modified ingress +[tcp/22 0.0.0.0/0 to 10.0.0.0/24] -[] world"],
        ),
    ];
    let mut wrong = Vec::new();
    for (name, provider, before, after, want) in cases {
        let got = diff(provider, before, after);
        if got != want {
            wrong.push(format!("case: {name}\n  got:  {got:?}\n  want: {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------- CloudTrail: every way a request names a resource ----------------

use netdrift_provider_file::audit::{self, cloudtrail};

fn ct(name: &str, req: Value, resp: Value) -> Value {
    json!({"eventVersion": "1.08", "eventID": "e1", "eventName": name, "eventSource": "ec2.amazonaws.com",
        "eventTime": "2026-11-24T08:00:00Z", "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
        "requestParameters": req, "responseElements": resp})
}

fn ev(rec: Value) -> netdrift_snapshots::AuditEvent {
    cloudtrail::parse_record(&rec).unwrap().expect("catalogued")
}

fn payload(rec: Value) -> Vec<String> {
    ev(rec)
        .payload
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {} {} {}",
                r.direction.as_str(),
                r.action,
                r.protocol,
                serde_json::to_string(&r.ports).unwrap(),
                r.peers
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
            .to_lowercase()
        })
        .collect()
}

#[test]
fn cloudtrail_requests_name_peers_and_resources_as_the_model_does() {
    let perm = |groups: Value| json!({"items": [{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "groups": {"items": groups}}]});
    // {groupId, userId}: the model's peer is ACCOUNT/sg-…, as describe-security-groups prints it.
    assert_eq!(
        payload(ct(
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": perm(json!([{"groupId": "sg-2", "userId": "444455556666"}]))}),
            json!(null)
        )),
        vec![
            r#"ingress allow tcp {"kind":"ranges","ranges":[{"from":5432,"to":5432}]} securitygroup("444455556666/sg-2")"#
        ]
    );
    // Without userId the group is in the event's own account.
    assert_eq!(
        payload(ct(
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": perm(json!([{"groupId": "sg-2"}]))}),
            json!(null)
        )),
        vec![
            r#"ingress allow tcp {"kind":"ranges","ranges":[{"from":5432,"to":5432}]} securitygroup("111122223333/sg-2")"#
        ]
    );
    // ModifySecurityGroupRules referencing a group: the same form.
    let m = ev(ct(
        "ModifySecurityGroupRules",
        json!({"ModifySecurityGroupRulesRequest": {"GroupId": "sg-1", "SecurityGroupRule": {"SecurityGroupRuleId": "sgr-1", "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "ReferencedGroupId": "sg-9"}}}}),
        json!(null),
    ));
    assert!(m.payload.iter().all(|r| r.peers
        == vec![netdrift_snapshots::Peer::SecurityGroup(
            "111122223333/sg-9".into()
        )]));

    // --group-name (default VPC): the request has only groupName; the response names the id.
    let by_name = ev(ct(
        "AuthorizeSecurityGroupIngress",
        json!({"groupName": "default", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
        json!({"requestId": "r", "_return": true, "securityGroupRuleSet": {"items": [{"groupOwnerId": "111122223333", "groupId": "sg-0default", "securityGroupRuleId": "sgr-0abc", "isEgress": false, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}}),
    ));
    assert!(
        by_name.resources.contains(&"sg-0default".to_string()),
        "{:?}",
        by_name.resources
    );
    assert!(by_name.resources.contains(&"sgr-0abc".to_string()));

    // NACL entries: CloudTrail names the protocol aclProtocol (real record shape, from
    // testdata/fixtures/panther: aws_network_acl_permissive_entry.yml).
    assert_eq!(
        payload(ct(
            "CreateNetworkAclEntry",
            json!({"aclProtocol": "6", "cidrBlock": "0.0.0.0/0", "egress": false, "icmpTypeCode": {}, "networkAclId": "acl-1111", "portRange": {"from": 700, "to": 702}, "ruleAction": "allow", "ruleNumber": 12}),
            json!({"_return": true})
        )),
        vec![
            r#"ingress allow tcp {"kind":"ranges","ranges":[{"from":700,"to":702}]} cidr(0.0.0.0/0)"#
        ]
    );
    assert_eq!(
        payload(ct(
            "ReplaceNetworkAclEntry",
            json!({"aclProtocol": "-1", "cidrBlock": "0.0.0.0/0", "egress": true, "icmpTypeCode": {}, "networkAclId": "acl-1", "portRange": {}, "ruleAction": "deny", "ruleNumber": 500}),
            json!({"_return": true})
        )),
        vec![r#"egress deny all {"kind":"all"} cidr(0.0.0.0/0)"#]
    );
    assert_eq!(ev(ct("CreateNetworkAclEntry", json!({"aclProtocol": "1", "ipv6CidrBlock": "::/0", "egress": false, "icmpTypeCode": {"type": 8, "code": -1}, "networkAclId": "acl-1", "portRange": {}, "ruleAction": "allow", "ruleNumber": 20}), json!({"_return": true}))).payload[0].ports,
        netdrift_snapshots::Ports::Icmp { icmp_type: Some(8), code: None });

    // A plain run-instances attaches the default group: only the response names it.
    let run = ev(ct(
        "RunInstances",
        json!({"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}, "instanceType": "t3.micro"}),
        json!({"instancesSet": {"items": [{"instanceId": "i-1", "groupSet": {"items": [{"groupId": "sg-0default", "groupName": "default"}]},
            "networkInterfaceSet": {"items": [{"networkInterfaceId": "eni-1", "groupSet": {"items": [{"groupId": "sg-0default", "groupName": "default"}]}}]}}]}}),
    ));
    assert_eq!(run.resources, vec!["sg-0default".to_string()]);
    let eni = ev(ct(
        "CreateNetworkInterface",
        json!({"subnetId": "subnet-1"}),
        json!({"networkInterface": {"networkInterfaceId": "eni-2", "groupSet": {"items": [{"groupId": "sg-7"}]}}}),
    ));
    assert_eq!(eni.resources, vec!["sg-7".to_string()]);
}

// ---------------- records that used to panic are skipped, naming file and record ----------------

#[test]
fn non_object_request_bodies_are_skipped_not_panics() {
    let gcp = json!([{"insertId": "i1", "timestamp": "2026-11-24T08:00:00Z", "resource": {"labels": {"project_id": "p1"}},
        "protoPayload": {"serviceName": "compute.googleapis.com", "methodName": "v1.compute.firewalls.insert", "resourceName": "projects/p1/global/firewalls/x", "request": 5}}]);
    let r = audit::parse_file(Provider::Gcp, "g.json", gcp.to_string().as_bytes()).unwrap();
    assert!(r.events.is_empty());
    assert_eq!(
        r.skipped,
        vec!["g.json: record 1: protoPayload.request is not a JSON object".to_string()]
    );
    let gcp_arr = json!([{"insertId": "i2", "timestamp": "2026-11-24T08:00:00Z", "protoPayload": {"serviceName": "compute.googleapis.com", "methodName": "v1.compute.firewalls.patch", "resourceName": "projects/p1/global/firewalls/x", "request": [1, 2]}}]);
    let r = audit::parse_file(Provider::Gcp, "g2.json", gcp_arr.to_string().as_bytes()).unwrap();
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    for body in [
        json!("[1,2]"),
        json!(7),
        json!("\"text\""),
        json!([{"a": 1}]),
    ] {
        let az = json!({"value": [{"correlationId": "c1", "eventTimestamp": "2026-11-24T08:00:00Z", "subscriptionId": "s1",
            "operationName": {"value": "Microsoft.Network/networkSecurityGroups/securityRules/write"}, "status": {"value": "Succeeded"},
            "resourceId": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n/securityRules/r",
            "caller": "dave@contoso.example", "properties": {"requestbody": body}}]});
        let r = audit::parse_file(Provider::Azure, "a.json", az.to_string().as_bytes()).unwrap();
        assert!(r.events.is_empty(), "{body}");
        assert_eq!(
            r.skipped,
            vec!["a.json: record 1: properties.requestbody is not a JSON object".to_string()],
            "{body}"
        );
    }
}

// ---------------- GCP firewalls.patch is applied onto the prior rule ----------------

#[test]
fn gcp_patch_bodies_apply_onto_the_prior_rule() {
    let prior = convert(
        Provider::Gcp,
        &json!([fw("ssh", 900, json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["10.0.0.0/8"], "targetTags": ["bastion"]}))]),
    )
    .unwrap()
    .remove(0);
    let after = |patch: Value| {
        let r = netdrift_provider_file::gcp::patched_firewall(&prior, &patch, "p1").unwrap();
        lines(&diff_scope(
            std::slice::from_ref(&prior),
            &[r],
            &BTreeSet::new(),
        ))
    };
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("sourceRanges only: ports, priority and targets stay", json!({"sourceRanges": ["0.0.0.0/0"]}),
            vec!["expands modified ingress +[tcp/22 0.0.0.0/0 except 10.0.0.0/8 to tag:bastion] -[] world"]),
        ("alloweds only (the audit log's spelling): the source stays 10.0.0.0/8, not a default 0.0.0.0/0",
            json!({"alloweds": [{"IPProtocol": "tcp", "ports": ["22", "443"]}]}),
            vec!["expands modified ingress +[tcp/443 10.0.0.0/8 to tag:bastion] -[]"]),
        ("description only: no access change", json!({"description": "ops"}), vec!["cosmetic modified ingress +[] -[]"]),
        ("disabled: true", json!({"disabled": true}), vec!["narrows modified ingress +[] -[tcp/22 10.0.0.0/8 to tag:bastion]"]),
        ("priority only: the rule is otherwise the same", json!({"priority": 100}), vec![]),
        ("null removes a field (targetTags): the rule then applies to every instance", json!({"targetTags": null}),
            vec!["expands modified ingress +[tcp/22 10.0.0.0/8] -[]"]),
    ];
    for (name, patch, want) in cases {
        assert_eq!(after(patch), want, "case: {name}");
    }
    // The parser no longer reads a patch body as a whole rule.
    let entry = json!([{"insertId": "i1", "timestamp": "2026-11-24T08:00:00Z", "resource": {"labels": {"project_id": "p1"}},
        "protoPayload": {"serviceName": "compute.googleapis.com", "methodName": "v1.compute.firewalls.patch",
            "resourceName": "projects/p1/global/firewalls/ssh", "request": {"@type": "type.googleapis.com/compute.firewalls.patch", "alloweds": [{"IPProtocol": "tcp", "ports": ["22"]}]}}}]);
    let r = audit::parse_file(Provider::Gcp, "g.json", entry.to_string().as_bytes()).unwrap();
    assert!(r.events[0].payload.is_empty());
    assert!(netdrift_provider_file::audit::gcp::patch_body(&r.events[0]).is_some());
}

// ---------------- what the clouds print, and what they reject ----------------

#[test]
fn documents_the_clouds_would_reject_are_rejected_naming_the_field() {
    let bad: Vec<(&str, Provider, &str, &str)> = vec![
        ("duplicate key: a decoy CidrIp", Provider::Aws,
            r#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0", "CidrIp": "10.0.0.1/32"}]}]}]}"#,
            "duplicate key \"CidrIp\" in the object at $.SecurityGroups[0].IpPermissions[0].IpRanges[0]"),
        ("duplicate resource id inside one dump", Provider::Aws,
            r#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": []}, {"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]}"#,
            "$.SecurityGroups[1]: the same resource id already appears at $.SecurityGroups[0]"),
        ("duplicate NACL", Provider::Aws,
            r#"{"NetworkAcls": [{"NetworkAclId": "acl-1", "Entries": []}, {"NetworkAclId": "acl-1", "Entries": []}]}"#,
            "$.NetworkAcls[1]: the same resource id already appears at $.NetworkAcls[0]"),
        ("duplicate rule id in describe-security-group-rules", Provider::Aws,
            r#"{"SecurityGroupRules": [{"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1", "IsEgress": false, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/8"}, {"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1", "IsEgress": false, "IpProtocol": "-1", "CidrIpv4": "0.0.0.0/0"}]}"#,
            "$.SecurityGroupRules[1].SecurityGroupRuleId: the same rule id already appears at $.SecurityGroupRules[0]"),
        ("an IPv4 CIDR in CidrIpv6", Provider::Aws,
            r#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "0.0.0.0/0"}]}]}]}"#,
            "$.SecurityGroups[0].IpPermissions[0].Ipv6Ranges[0].CidrIpv6: CidrIpv6 holds an IPv6 CIDR; this is IPv4"),
        ("an IPv6 CIDR in CidrIp", Provider::Aws,
            r#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "::/0"}]}]}]}"#,
            "CidrIp holds an IPv4 CIDR; this is IPv6"),
        ("an IPv6 CIDR in a NACL CidrBlock", Provider::Aws,
            r#"{"NetworkAcls": [{"NetworkAclId": "acl-1", "Entries": [{"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "::/0"}]}]}"#,
            "CidrBlock holds an IPv4 CIDR; this is IPv6"),
        ("FromPort as a string", Provider::Aws,
            r#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": "22", "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]}"#,
            "$.SecurityGroups[0].IpPermissions[0].FromPort: expected an integer (a JSON number, as the AWS CLI prints it): \"22\""),
        ("NACL rule number above the defaults", Provider::Aws,
            r#"{"NetworkAcls": [{"NetworkAclId": "acl-1", "Entries": [{"RuleNumber": 32769, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"}]}]}"#,
            "NACL rule numbers are 1-32766, or 32767/32768 for the default IPv4/IPv6 entries"),
        ("GCP allowed and denied on one rule", Provider::Gcp,
            r#"[{"kind": "compute#firewall", "name": "x", "network": "default", "allowed": [{"IPProtocol": "tcp"}], "denied": [{"IPProtocol": "udp"}]}]"#,
            "a GCP rule has exactly one of them"),
        ("GCP duplicate rule name", Provider::Gcp,
            r#"[{"kind": "compute#firewall", "name": "x", "network": "default", "allowed": [{"IPProtocol": "tcp"}]}, {"kind": "compute#firewall", "name": "x", "network": "default", "allowed": [{"IPProtocol": "all"}]}]"#,
            "$[1]: the same resource id already appears at $[0]"),
        ("Azure duplicate NSG id (ids compare without letter case)", Provider::Azure,
            r#"{"value": [{"name": "n", "id": "/subscriptions/S/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n", "properties": {"securityRules": []}}, {"name": "n", "id": "/subscriptions/s/resourcegroups/RG/providers/Microsoft.Network/networkSecurityGroups/N", "properties": {"securityRules": []}}]}"#,
            "$.value[1]: the same resource id already appears at $.value[0]"),
    ];
    for (name, provider, doc, want) in bad {
        let err = match netdrift_provider_file::parse_json("dump.json", doc.as_bytes()) {
            Err(e) => e.to_string(),
            Ok(v) => match convert(provider, &v) {
                Err(e) => e,
                Ok(r) => panic!("case {name}: accepted as {} resource(s)", r.len()),
            },
        };
        assert!(err.contains(want), "case {name}: {err}");
    }
}

#[test]
fn what_the_clouds_print_is_accepted() {
    // describe-network-acls on a VPC with IPv6: AWS prints the IPv6 catch-all as 32768.
    let acl = json!({"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": true, "Associations": [], "Entries": [
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "Ipv6CidrBlock": "::/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32768, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "Ipv6CidrBlock": "::/0"}]}]});
    let r = convert(Provider::Aws, &acl).unwrap();
    assert_eq!(r[0].rules.iter().filter(|x| x.default_rule).count(), 2);
    // Removing the IPv6 allow exposes nothing: the 32768 deny is behind it.
    let mut without = acl.clone();
    without["NetworkAcls"][0]["Entries"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    assert_eq!(
        diff(Provider::Aws, acl, without),
        vec!["narrows modified ingress +[] -[all ::/0]"]
    );
    // A single firewall object: gcloud compute firewall-rules describe --format=json.
    let one = fw(
        "allow-ssh",
        1000,
        json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "id": "123", "creationTimestamp": "2026-01-01T00:00:00.000-08:00"}),
    );
    let r = convert(Provider::Gcp, &one).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].id.as_str(), "projects/p1/global/firewalls/allow-ssh");
}

// ---------------- each direction diffed on its own ----------------

/// An Azure rule on tcp/`port` from `src` to `dst` in `dir` ("Inbound" / "Outbound").
fn az_dir(name: &str, prio: i64, dir: &str, port: &str, src: &str, dst: &str) -> Value {
    json!({"name": name, "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port, "sourceAddressPrefix": src,
        "destinationAddressPrefix": dst, "access": "Allow", "priority": prio, "direction": dir}})
}

fn tagged(mut doc: Value, tags: Value) -> Value {
    doc["value"][0]["tags"] = tags;
    doc
}

fn sg(tags: Value, ingress: Value, egress: Value) -> Value {
    json!({"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web", "Description": "web", "VpcId": "vpc-1", "Tags": tags,
        "IpPermissions": ingress, "IpPermissionsEgress": egress}]})
}

fn perm(port: i64, cidr: &str, desc: &str) -> Value {
    json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr, "Description": desc}]})
}

/// A direction whose rules did not change is not evaluated again, yet a header change (tags) is
/// still reported on it; a target only one direction names (an Azure outbound rule's source
/// range) is not a target class of the other direction.
#[test]
fn each_direction_is_diffed_on_its_own() {
    let out_443 = az_dir(
        "out-443",
        300,
        "Outbound",
        "443",
        "10.1.0.0/16",
        "10.9.0.0/16",
    );
    let ssh = |src: &str| az_dir("ssh", 100, "Inbound", "22", src, "*");
    let cases: Vec<(&str, Provider, Value, Value, Vec<&str>)> = vec![
        (
            "Azure: tags changed and an outbound rule added: the unchanged inbound side is cosmetic",
            Provider::Azure,
            tagged(nsg(json!([ssh("10.0.0.0/8")])), json!({"env": "prod"})),
            tagged(nsg(json!([ssh("10.0.0.0/8"), out_443.clone()])), json!({"env": "dev"})),
            vec![
                "cosmetic modified ingress +[] -[]",
                "expands modified egress +[tcp/443 10.9.0.0/16 to 10.1.0.0/16] -[] world",
            ],
        ),
        (
            "Azure: an inbound rule widened next to an unchanged outbound rule with a source range",
            Provider::Azure,
            nsg(json!([ssh("10.0.0.0/8"), out_443.clone()])),
            nsg(json!([ssh("Internet"), out_443.clone()])),
            vec!["mixed modified ingress +[tcp/22 internet] -[tcp/22 10.0.0.0/8] world"],
        ),
        (
            "AWS: an ingress description edited and an egress rule added",
            Provider::Aws,
            sg(json!([]), json!([perm(22, "10.0.0.0/8", "old")]), json!([])),
            sg(json!([]), json!([perm(22, "10.0.0.0/8", "new")]), json!([perm(443, "0.0.0.0/0", "")])),
            vec![
                "cosmetic modified ingress +[] -[]",
                "expands modified egress +[tcp/443 0.0.0.0/0] -[] world",
            ],
        ),
        (
            "AWS: tags changed, egress narrowed: ingress is cosmetic, egress narrows",
            Provider::Aws,
            sg(json!([{"Key": "team", "Value": "a"}]), json!([perm(22, "10.0.0.0/8", "")]), json!([perm(443, "0.0.0.0/0", "")])),
            sg(json!([{"Key": "team", "Value": "b"}]), json!([perm(22, "10.0.0.0/8", "")]), json!([perm(443, "10.0.0.0/8", "")])),
            vec![
                "cosmetic modified ingress +[] -[]",
                "narrows modified egress +[] -[tcp/443 0.0.0.0/0 except 10.0.0.0/8]",
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for (name, provider, before, after, want) in cases {
        let got = diff(provider, before, after);
        if got != want {
            wrong.push(format!("case: {name}\n  got:  {got:?}\n  want: {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The inbound item of the second case holds one class, every instance: the outbound
    // rule's source range is no inbound target.
    let b = convert(
        Provider::Azure,
        &nsg(json!([ssh("10.0.0.0/8"), out_443.clone()])),
    )
    .unwrap();
    let a = convert(Provider::Azure, &nsg(json!([ssh("Internet"), out_443]))).unwrap();
    let d = diff_scope(&b, &a, &BTreeSet::new());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].newly_allowed.keys().collect::<Vec<_>>(), vec![&None]);
    assert_eq!(d[0].newly_denied.keys().collect::<Vec<_>>(), vec![&None]);
    // The cosmetic inbound item of the first case still carries the approved footprint.
    let b = convert(
        Provider::Azure,
        &tagged(nsg(json!([ssh("10.0.0.0/8")])), json!({"env": "prod"})),
    )
    .unwrap();
    let a = convert(
        Provider::Azure,
        &tagged(
            nsg(json!([
                ssh("10.0.0.0/8"),
                az_dir("o", 300, "Outbound", "443", "*", "*")
            ])),
            json!({"env": "dev"}),
        ),
    )
    .unwrap();
    let d = diff_scope(&b, &a, &BTreeSet::new());
    let ingress = d
        .iter()
        .find(|x| x.direction == netdrift_snapshots::Direction::Ingress)
        .expect("ingress item");
    assert!(
        !ingress.baseline_footprint.is_empty(),
        "{:?}",
        ingress.baseline_footprint
    );
}
