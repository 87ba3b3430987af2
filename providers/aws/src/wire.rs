//! SDK structs → the JSON the AWS CLI prints for the same call, so that live and offline
//! collection go through one conversion (`netdrift_provider_file::aws`).

use aws_sdk_ec2::types::{IpPermission, NetworkAcl, SecurityGroup, SecurityGroupRule, Tag};
use serde_json::{json, Map, Value};

fn put(m: &mut Map<String, Value>, k: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        m.insert(k.to_string(), v.into());
    }
}

fn tags(t: &[Tag]) -> Value {
    Value::Array(
        t.iter()
            .map(|t| json!({"Key": t.key(), "Value": t.value()}))
            .collect(),
    )
}

fn permission(p: &IpPermission) -> Value {
    let mut m = Map::new();
    put(&mut m, "IpProtocol", p.ip_protocol());
    put(&mut m, "FromPort", p.from_port());
    put(&mut m, "ToPort", p.to_port());
    m.insert(
        "IpRanges".into(),
        p.ip_ranges()
            .iter()
            .map(|r| json!({"CidrIp": r.cidr_ip(), "Description": r.description()}))
            .collect(),
    );
    m.insert(
        "Ipv6Ranges".into(),
        p.ipv6_ranges()
            .iter()
            .map(|r| json!({"CidrIpv6": r.cidr_ipv6(), "Description": r.description()}))
            .collect(),
    );
    m.insert(
        "PrefixListIds".into(),
        p.prefix_list_ids()
            .iter()
            .map(|r| json!({"PrefixListId": r.prefix_list_id(), "Description": r.description()}))
            .collect(),
    );
    m.insert(
        "UserIdGroupPairs".into(),
        p.user_id_group_pairs()
            .iter()
            .map(|g| json!({"GroupId": g.group_id(), "UserId": g.user_id(), "Description": g.description(), "VpcId": g.vpc_id()}))
            .collect(),
    );
    Value::Object(m)
}

pub fn security_group(g: &SecurityGroup) -> Value {
    json!({
        "GroupId": g.group_id(),
        "GroupName": g.group_name(),
        "Description": g.description(),
        "OwnerId": g.owner_id(),
        "VpcId": g.vpc_id(),
        "IpPermissions": g.ip_permissions().iter().map(permission).collect::<Vec<_>>(),
        "IpPermissionsEgress": g.ip_permissions_egress().iter().map(permission).collect::<Vec<_>>(),
        "Tags": tags(g.tags()),
    })
}

pub fn security_group_rule(r: &SecurityGroupRule) -> Value {
    let mut m = Map::new();
    put(&mut m, "SecurityGroupRuleId", r.security_group_rule_id());
    put(&mut m, "GroupId", r.group_id());
    put(&mut m, "GroupOwnerId", r.group_owner_id());
    put(&mut m, "IsEgress", r.is_egress());
    put(&mut m, "IpProtocol", r.ip_protocol());
    put(&mut m, "FromPort", r.from_port());
    put(&mut m, "ToPort", r.to_port());
    put(&mut m, "CidrIpv4", r.cidr_ipv4());
    put(&mut m, "CidrIpv6", r.cidr_ipv6());
    put(&mut m, "PrefixListId", r.prefix_list_id());
    put(&mut m, "Description", r.description());
    if let Some(g) = r.referenced_group_info() {
        m.insert(
            "ReferencedGroupInfo".into(),
            json!({"GroupId": g.group_id(), "UserId": g.user_id()}),
        );
    }
    Value::Object(m)
}

pub fn network_acl(a: &NetworkAcl) -> Value {
    let entries: Vec<Value> = a
        .entries()
        .iter()
        .map(|e| {
            let mut m = Map::new();
            put(&mut m, "RuleNumber", e.rule_number());
            put(&mut m, "Protocol", e.protocol());
            put(
                &mut m,
                "RuleAction",
                e.rule_action().map(|x| x.as_str().to_string()),
            );
            put(&mut m, "Egress", e.egress());
            put(&mut m, "CidrBlock", e.cidr_block());
            put(&mut m, "Ipv6CidrBlock", e.ipv6_cidr_block());
            if let Some(p) = e.port_range() {
                m.insert("PortRange".into(), json!({"From": p.from(), "To": p.to()}));
            }
            if let Some(i) = e.icmp_type_code() {
                m.insert(
                    "IcmpTypeCode".into(),
                    json!({"Type": i.r#type(), "Code": i.code()}),
                );
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "NetworkAclId": a.network_acl_id(),
        "VpcId": a.vpc_id(),
        "IsDefault": a.is_default(),
        "OwnerId": a.owner_id(),
        "Associations": a.associations().iter().map(|s| json!({"NetworkAclAssociationId": s.network_acl_association_id(), "NetworkAclId": s.network_acl_id(), "SubnetId": s.subnet_id()})).collect::<Vec<_>>(),
        "Entries": entries,
        "Tags": tags(a.tags()),
    })
}
