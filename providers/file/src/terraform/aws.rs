//! AWS resources of a plan, rewritten into the EC2 API's shapes (`describe-security-groups`,
//! `describe-security-group-rules`, `describe-network-acls`) and converted by `crate::aws`.
//! Terraform's `from_port`/`to_port` carry ICMP type and code exactly as EC2's `FromPort`/
//! `ToPort` do.

use serde_json::{json, Map, Value};

use netdrift_snapshots::{Action as RuleAction, ResourceId, ResourceKind};

use super::{placeholder, relabel, Attrs, Locator, Parent, RuleSet, Side, Whole};
use crate::json::{ConvertError, Node};

const WORLD4: &str = "0.0.0.0/0";
const WORLD6: &str = "::/0";

/// Protocol, ports: unknown ones become all protocols / every port.
fn proto_ports(
    a: &Attrs<'_>,
    proto_key: &str,
    perm: &mut Map<String, Value>,
) -> Result<(), ConvertError> {
    let proto = if a.unknown(proto_key) {
        "-1".to_string()
    } else {
        a.req_str(proto_key)?.to_string()
    };
    perm.insert("IpProtocol".into(), json!(proto));
    if !a.unknown("from_port") && !a.unknown("to_port") {
        if let Some(f) = a.int("from_port")? {
            perm.insert("FromPort".into(), json!(f));
        }
        if let Some(t) = a.int("to_port")? {
            perm.insert("ToPort".into(), json!(t));
        }
    }
    Ok(())
}

/// `123456789012/sg-1` or `sg-1` as a `UserIdGroupPairs` entry.
fn pair(g: &str) -> Value {
    match g.split_once('/') {
        Some((user, gid)) => json!({"UserId": user, "GroupId": gid}),
        None => json!({"GroupId": g}),
    }
}

/// One inline `ingress`/`egress` block, or an `aws_security_group_rule`, as an `IpPermissions`
/// entry. A peer unknown until apply is the whole address space.
fn permission(b: &Attrs<'_>, own: &str, group_key: &str) -> Result<Value, ConvertError> {
    let mut perm = Map::new();
    proto_ports(b, "protocol", &mut perm)?;
    let desc = b.str("description")?.filter(|d| !d.is_empty());
    let with_desc = |mut v: Value| {
        if let Some(d) = desc {
            v["Description"] = json!(d);
        }
        v
    };
    let unknown = b.unknown_any(&[
        "cidr_blocks",
        "ipv6_cidr_blocks",
        "prefix_list_ids",
        group_key,
    ]);
    let mut v4: Vec<Value> = b
        .strings("cidr_blocks")?
        .into_iter()
        .map(|c| with_desc(json!({"CidrIp": c})))
        .collect();
    let mut v6: Vec<Value> = b
        .strings("ipv6_cidr_blocks")?
        .into_iter()
        .map(|c| with_desc(json!({"CidrIpv6": c})))
        .collect();
    if unknown {
        v4.push(json!({"CidrIp": WORLD4}));
        v6.push(json!({"CidrIpv6": WORLD6}));
    }
    let pls: Vec<Value> = b
        .strings("prefix_list_ids")?
        .into_iter()
        .map(|p| with_desc(json!({"PrefixListId": p})))
        .collect();
    let mut groups: Vec<Value> = match b.node.child(group_key) {
        Some(n) if n.v.is_string() => vec![with_desc(pair(n.as_str()?))],
        _ => b
            .strings(group_key)?
            .into_iter()
            .map(|g| with_desc(pair(g)))
            .collect(),
    };
    if b.bool("self")? {
        groups.push(with_desc(json!({"GroupId": own})));
    }
    perm.insert("IpRanges".into(), json!(v4));
    perm.insert("Ipv6Ranges".into(), json!(v6));
    perm.insert("PrefixListIds".into(), json!(pls));
    perm.insert("UserIdGroupPairs".into(), json!(groups));
    Ok(Value::Object(perm))
}

/// Convert a synthetic `describe-security-groups` document of one group.
fn one_group(a: &Attrs<'_>, doc: Value) -> Result<netdrift_snapshots::Resource, ConvertError> {
    let mut rs = crate::aws::convert(&Node::root(&doc)).map_err(|e| relabel(a, e))?;
    Ok(rs.remove(0))
}

/// `aws_security_group`: the group with its inline rules (they are all of its rules).
pub(super) fn group(address: &str, a: &Attrs<'_>) -> Result<Side, ConvertError> {
    let id = a.known_str("id")?.map(str::to_string);
    let own = id.clone().unwrap_or_else(|| placeholder(address));
    let mut ingress = Vec::new();
    for b in a.blocks("ingress")? {
        ingress.push(permission(&b, &own, "security_groups")?);
    }
    let mut egress = Vec::new();
    for b in a.blocks("egress")? {
        egress.push(permission(&b, &own, "security_groups")?);
    }
    // A whole rule set unknown until apply: anything from anywhere.
    let world = json!({"IpProtocol": "-1", "IpRanges": [{"CidrIp": WORLD4}], "Ipv6Ranges": [{"CidrIpv6": WORLD6}]});
    if ingress.is_empty() && a.unknown("ingress") {
        ingress.push(world.clone());
    }
    if egress.is_empty() && a.unknown("egress") {
        egress.push(world);
    }
    let vpc = a.known_str("vpc_id")?.map(str::to_string);
    let doc = json!({"SecurityGroups": [{
        "GroupId": id.as_deref().filter(|i| i.starts_with("sg-")).unwrap_or("sg-planned"),
        "GroupName": a.known_str("name")?,
        "Description": a.known_str("description")?,
        "VpcId": vpc,
        "IpPermissions": ingress,
        "IpPermissionsEgress": egress,
    }]});
    let mut r = one_group(a, doc)?;
    r.id = ResourceId::new(own);
    Ok(Side::Whole(Box::new(Whole {
        id,
        locator: Locator::Aws { vpc },
        resource: r,
    })))
}

/// The group a rule resource belongs to: its known id, else the configuration's reference.
fn parent(
    a: &Attrs<'_>,
    key: &str,
    refs: &dyn Fn(&str) -> Option<String>,
) -> Result<Parent, ConvertError> {
    Ok(match a.known_str(key)? {
        Some(id) => Parent::Id(id.to_string()),
        None => match refs(key) {
            Some(addr) => Parent::Address(addr),
            None => Parent::Unknown(key.to_string()),
        },
    })
}

/// The placeholder id a rule's parent has inside the synthetic document.
fn parent_id(p: &Parent) -> String {
    match p {
        Parent::Id(id) => id.clone(),
        Parent::Address(a) => placeholder(a),
        _ => "sg-unknown".into(),
    }
}

/// `aws_security_group_rule` (`type` ingress or egress).
pub(super) fn legacy_rule(
    a: &Attrs<'_>,
    refs: &dyn Fn(&str) -> Option<String>,
) -> Result<Side, ConvertError> {
    let p = parent(a, "security_group_id", refs)?;
    let own = parent_id(&p);
    let egress = match a.req_str("type")? {
        "ingress" => false,
        "egress" => true,
        _ => return Err(a.err("type", "expected ingress or egress")),
    };
    let perm = permission(a, &own, "source_security_group_id")?;
    let key = if egress {
        "IpPermissionsEgress"
    } else {
        "IpPermissions"
    };
    let doc = json!({"SecurityGroups": [{"GroupId": "sg-planned", key: [perm]}]});
    let r = one_group(a, doc)?;
    Ok(Side::Rules(RuleSet {
        parent: p,
        kind: ResourceKind::AwsSecurityGroup,
        rules: r.rules,
    }))
}

/// `aws_vpc_security_group_ingress_rule` / `…_egress_rule`: one peer each.
pub(super) fn vpc_rule(
    a: &Attrs<'_>,
    egress: bool,
    refs: &dyn Fn(&str) -> Option<String>,
) -> Result<Side, ConvertError> {
    let p = parent(a, "security_group_id", refs)?;
    let mut base = Map::new();
    base.insert("GroupId".into(), json!("sg-planned"));
    base.insert("IsEgress".into(), json!(egress));
    proto_ports(a, "ip_protocol", &mut base)?;
    if let Some(d) = a.str("description")?.filter(|d| !d.is_empty()) {
        base.insert("Description".into(), json!(d));
    }
    if let Some(id) = a.known_str("security_group_rule_id")? {
        base.insert("SecurityGroupRuleId".into(), json!(id));
    }
    let peers = [
        "cidr_ipv4",
        "cidr_ipv6",
        "prefix_list_id",
        "referenced_security_group_id",
    ];
    let unknown = a.unknown_any(&peers);
    let mut rows = Vec::new();
    let mut row = |k: &str, v: Value| {
        let mut r = base.clone();
        r.insert(k.into(), v);
        rows.push(Value::Object(r));
    };
    if unknown {
        row("CidrIpv4", json!(WORLD4));
        row("CidrIpv6", json!(WORLD6));
    } else if let Some(c) = a.str("cidr_ipv4")? {
        row("CidrIpv4", json!(c));
    } else if let Some(c) = a.str("cidr_ipv6")? {
        row("CidrIpv6", json!(c));
    } else if let Some(pl) = a.str("prefix_list_id")? {
        row("PrefixListId", json!(pl));
    } else if let Some(g) = a.str("referenced_security_group_id")? {
        row("ReferencedGroupInfo", pair(g));
    } else {
        return Err(a.err(
            "cidr_ipv4",
            "a rule needs cidr_ipv4, cidr_ipv6, prefix_list_id or referenced_security_group_id",
        ));
    }
    let doc = json!({"SecurityGroupRules": rows});
    let r = one_group(a, doc)?;
    Ok(Side::Rules(RuleSet {
        parent: p,
        kind: ResourceKind::AwsSecurityGroup,
        rules: r.rules,
    }))
}

/// One network ACL entry (`aws_network_acl` block or `aws_network_acl_rule`) as an `Entries`
/// item; `None` for a deny whose range is unknown (it cannot be relied on to block anything).
fn entry(
    b: &Attrs<'_>,
    egress: bool,
    number_key: &str,
    action_key: &str,
) -> Result<Option<Vec<Value>>, ConvertError> {
    let number = b
        .int(number_key)?
        .ok_or_else(|| b.err(number_key, "an entry needs its rule number"))?;
    let action = b.req_str(action_key)?.to_ascii_lowercase();
    let proto = if b.unknown("protocol") {
        "-1".to_string()
    } else {
        b.req_str("protocol")?.to_string()
    };
    let mut e = Map::new();
    e.insert("RuleNumber".into(), json!(number));
    e.insert("Protocol".into(), json!(proto));
    e.insert("RuleAction".into(), json!(action));
    e.insert("Egress".into(), json!(egress));
    if !b.unknown("from_port") && !b.unknown("to_port") {
        if let (Some(f), Some(t)) = (b.int("from_port")?, b.int("to_port")?) {
            if !(f == 0 && t == 0) {
                e.insert("PortRange".into(), json!({"From": f, "To": t}));
            }
        }
    }
    if let (Some(t), Some(c)) = (b.int("icmp_type")?, b.int("icmp_code")?) {
        e.insert("IcmpTypeCode".into(), json!({"Type": t, "Code": c}));
    }
    let unknown = b.unknown("cidr_block") || b.unknown("ipv6_cidr_block");
    let mut out = Vec::new();
    if unknown {
        if action == "deny" {
            return Ok(None);
        }
        for (k, v) in [("CidrBlock", WORLD4), ("Ipv6CidrBlock", WORLD6)] {
            let mut x = e.clone();
            x.insert(k.into(), json!(v));
            out.push(Value::Object(x));
        }
    } else {
        match (
            b.str("cidr_block")?.filter(|c| !c.is_empty()),
            b.str("ipv6_cidr_block")?.filter(|c| !c.is_empty()),
        ) {
            (Some(c), _) => e.insert("CidrBlock".into(), json!(c)),
            (None, Some(c)) => e.insert("Ipv6CidrBlock".into(), json!(c)),
            _ => return Err(b.err("cidr_block", "an entry needs cidr_block or ipv6_cidr_block")),
        };
        out.push(Value::Object(e));
    }
    Ok(Some(out))
}

fn one_acl(
    a: &Attrs<'_>,
    id: &str,
    vpc: Option<&str>,
    entries: Vec<Value>,
) -> Result<netdrift_snapshots::Resource, ConvertError> {
    let doc = json!({"NetworkAcls": [{"NetworkAclId": id, "VpcId": vpc, "Entries": entries}]});
    let mut rs = crate::aws::convert(&Node::root(&doc)).map_err(|e| relabel(a, e))?;
    Ok(rs.remove(0))
}

/// `aws_network_acl` with its inline entries; the default catch-all entries (32767) are
/// implied by the model, as AWS adds them.
pub(super) fn acl(address: &str, a: &Attrs<'_>) -> Result<Side, ConvertError> {
    let id = a.known_str("id")?.map(str::to_string);
    let vpc = a.known_str("vpc_id")?.map(str::to_string);
    let mut entries = Vec::new();
    for (key, egress) in [("ingress", false), ("egress", true)] {
        for b in a.blocks(key)? {
            entries.extend(entry(&b, egress, "rule_no", "action")?.unwrap_or_default());
        }
        if a.unknown(key) && a.blocks(key)?.is_empty() {
            for (k, v) in [("CidrBlock", WORLD4), ("Ipv6CidrBlock", WORLD6)] {
                entries.push(json!({"RuleNumber": 1, "Protocol": "-1", "RuleAction": "allow", "Egress": egress, k: v}));
            }
        }
    }
    let mut r = one_acl(
        a,
        id.as_deref().unwrap_or("acl-planned"),
        vpc.as_deref(),
        entries,
    )?;
    r.id = ResourceId::new(id.clone().unwrap_or_else(|| placeholder(address)));
    r.attachments = a
        .strings("subnet_ids")?
        .into_iter()
        .map(str::to_string)
        .collect();
    r.attached = Some(!r.attachments.is_empty());
    Ok(Side::Whole(Box::new(Whole {
        id,
        locator: Locator::Aws { vpc },
        resource: r,
    })))
}

/// `aws_network_acl_rule`.
pub(super) fn acl_rule(
    a: &Attrs<'_>,
    refs: &dyn Fn(&str) -> Option<String>,
) -> Result<Side, ConvertError> {
    let p = parent(a, "network_acl_id", refs)?;
    let egress = a.bool("egress")?;
    let entries = entry(a, egress, "rule_number", "rule_action")?.unwrap_or_default();
    let r = one_acl(a, "acl-planned", None, entries)?;
    Ok(Side::Rules(RuleSet {
        parent: p,
        kind: ResourceKind::AwsNetworkAcl,
        rules: r
            .rules
            .into_iter()
            .filter(|x| !(x.default_rule && x.action == RuleAction::Deny))
            .collect(),
    }))
}
