//! AWS EC2 dumps: `describe-security-groups`, `describe-security-group-rules`,
//! `describe-network-acls`, and the workload dumps of `crate::aws_workloads`
//! (`describe-network-interfaces`, `describe-subnets`, `describe-route-tables`; the CLI prints
//! the API response in PascalCase).

use std::collections::BTreeMap;

use netdrift_snapshots::{
    canonicalize, parse_cidr, Action, Direction, Peer, PortRange, Ports, Protocol, Resource,
    ResourceId, ResourceKind, Rule,
};

use crate::json::{unique_ids, ConvertError, Node};

/// Which AWS document this is.
pub fn detect(root: &Node<'_>) -> Option<&'static str> {
    ["SecurityGroups", "SecurityGroupRules", "NetworkAcls"]
        .into_iter()
        .chain(crate::aws_workloads::KEYS)
        .find(|k| root.child(k).is_some())
}

/// Convert any of the three AWS documents.
pub fn convert(root: &Node<'_>) -> Result<Vec<Resource>, ConvertError> {
    match detect(root) {
        Some("SecurityGroups") => unique_ids(
            root.list("SecurityGroups")?
                .iter()
                .map(|n| Ok((n.path.clone(), security_group(n)?)))
                .collect::<Result<_, ConvertError>>()?,
        ),
        Some("SecurityGroupRules") => security_group_rules(root),
        Some("NetworkAcls") => unique_ids(
            root.list("NetworkAcls")?
                .iter()
                .map(|n| Ok((n.path.clone(), network_acl(n)?)))
                .collect::<Result<_, ConvertError>>()?,
        ),
        Some(key @ ("NetworkInterfaces" | "Subnets" | "RouteTables")) => {
            let one = match key {
                "NetworkInterfaces" => crate::aws_workloads::interface,
                "Subnets" => crate::aws_workloads::subnet,
                _ => crate::aws_workloads::route_table,
            };
            unique_ids(
                root.list(key)?
                    .iter()
                    .map(|n| Ok((n.path.clone(), one(n)?)))
                    .collect::<Result<_, ConvertError>>()?,
            )
        }
        _ => Err(root.err(
            "not an AWS EC2 dump: expected a top-level SecurityGroups, SecurityGroupRules, NetworkAcls, \
             NetworkInterfaces, Subnets or RouteTables key (aws ec2 describe-security-groups, \
             describe-security-group-rules, describe-network-acls, describe-network-interfaces, \
             describe-subnets or describe-route-tables output)",
        )),
    }
}

fn tags(n: &Node<'_>) -> Result<BTreeMap<String, String>, ConvertError> {
    let mut out = BTreeMap::new();
    for t in n.list("Tags")? {
        out.insert(
            t.req_str("Key")?.to_string(),
            t.str("Value")?.unwrap_or_default().to_string(),
        );
    }
    Ok(out)
}

/// Protocol and ports of a permission or rule row: ports only mean something for tcp/udp
/// (an interval) and icmp/icmpv6 (type and code; -1 = any).
fn proto_ports(n: &Node<'_>, proto_key: &str) -> Result<(Protocol, Ports), ConvertError> {
    let raw = n.req_str(proto_key)?;
    let protocol =
        Protocol::parse(raw).map_err(|e| n.child(proto_key).expect("present").model_err(e))?;
    let from = n.strict_int("FromPort")?;
    let to = n.strict_int("ToPort")?;
    let ports = match protocol {
        Protocol::All => Ports::All,
        p if p.is_icmp() => {
            let t = from.filter(|&v| v >= 0);
            let c = to.filter(|&v| v >= 0);
            let check = |v: Option<i64>, key: &str| -> Result<Option<u8>, ConvertError> {
                v.map(|v| {
                    u8::try_from(v).map_err(|_| {
                        n.child(key)
                            .expect("present")
                            .err("ICMP type/code outside 0-255")
                    })
                })
                .transpose()
            };
            Ports::Icmp {
                icmp_type: check(t, "FromPort")?,
                code: check(c, "ToPort")?,
            }
        }
        p if p.has_ports() => match (from, to) {
            (None, None) | (Some(-1), Some(-1)) | (Some(-1), None) => Ports::All,
            (Some(f), Some(t)) => Ports::Ranges {
                ranges: vec![PortRange::new(f, t)
                    .map_err(|e| n.child("FromPort").expect("present").model_err(e))?],
            },
            (Some(f), None) => Ports::Ranges {
                ranges: vec![PortRange::new(f, f)
                    .map_err(|e| n.child("FromPort").expect("present").model_err(e))?],
            },
            (None, Some(_)) => return Err(n.err("ToPort without FromPort")),
        },
        _ => Ports::All,
    };
    Ok((protocol, ports))
}

/// A CIDR field; the field's name fixes its address family (`CidrIp`, `CidrIpv4`, `CidrBlock`
/// hold IPv4, `CidrIpv6` and `Ipv6CidrBlock` IPv6), as EC2 enforces on every write.
fn cidr_peer(n: &Node<'_>, key: &str) -> Result<Option<Peer>, ConvertError> {
    match n.child(key) {
        Some(c) => {
            let s = c.as_str()?;
            let net = parse_cidr(s).map_err(|e| c.model_err(e))?;
            let v6_field = key.contains("6");
            match (v6_field, net) {
                (true, ipnet::IpNet::V4(_)) => {
                    return Err(c.err(format!("{key} holds an IPv6 CIDR; this is IPv4")))
                }
                (false, ipnet::IpNet::V6(_)) => {
                    return Err(c.err(format!("{key} holds an IPv4 CIDR; this is IPv6")))
                }
                _ => {}
            }
            Ok(Some(Peer::Cidr(net)))
        }
        None => Ok(None),
    }
}

fn group_ref(pair: &Node<'_>) -> Result<Peer, ConvertError> {
    let gid = pair.req_str("GroupId")?;
    Ok(match pair.str("UserId")? {
        Some(uid) => Peer::SecurityGroup(format!("{uid}/{gid}")),
        None => Peer::SecurityGroup(gid.to_string()),
    })
}

fn permission(perm: &Node<'_>, direction: Direction) -> Result<Vec<Rule>, ConvertError> {
    let (protocol, ports) = proto_ports(perm, "IpProtocol")?;
    let mut rules = Vec::new();
    let mut push = |peer: Peer, desc: Option<&str>| {
        let mut r = Rule::new(
            direction,
            Action::Allow,
            protocol,
            ports.clone(),
            vec![peer],
        );
        r.description = desc.map(str::to_string);
        rules.push(r);
    };
    for ip in perm.list("IpRanges")? {
        let peer =
            cidr_peer(&ip, "CidrIp")?.ok_or_else(|| ip.err("IpRanges entry without CidrIp"))?;
        push(peer, ip.str("Description")?);
    }
    for ip in perm.list("Ipv6Ranges")? {
        let peer = cidr_peer(&ip, "CidrIpv6")?
            .ok_or_else(|| ip.err("Ipv6Ranges entry without CidrIpv6"))?;
        push(peer, ip.str("Description")?);
    }
    for pl in perm.list("PrefixListIds")? {
        push(
            Peer::PrefixList(pl.req_str("PrefixListId")?.to_string()),
            pl.str("Description")?,
        );
    }
    for pair in perm.list("UserIdGroupPairs")? {
        push(group_ref(&pair)?, pair.str("Description")?);
    }
    Ok(rules)
}

pub(crate) fn security_group(g: &Node<'_>) -> Result<Resource, ConvertError> {
    let id = g.req_str("GroupId")?;
    if !id.starts_with("sg-") {
        return Err(g
            .child("GroupId")
            .expect("present")
            .err("security group ids start with sg-"));
    }
    let mut r = Resource::new(ResourceId::new(id), ResourceKind::AwsSecurityGroup);
    r.name = g.str("GroupName")?.map(str::to_string);
    r.description = g.str("Description")?.map(str::to_string);
    r.network = g.str("VpcId")?.map(str::to_string);
    r.tags = tags(g)?;
    for p in g.list("IpPermissions")? {
        r.rules.extend(permission(&p, Direction::Ingress)?);
    }
    for p in g.list("IpPermissionsEgress")? {
        r.rules.extend(permission(&p, Direction::Egress)?);
    }
    Ok(canonicalize(r))
}

/// One row of `describe-security-group-rules` as a rule of its group.
pub fn security_group_rule_row(row: &Node<'_>) -> Result<(String, Rule), ConvertError> {
    let gid = row.req_str("GroupId")?.to_string();
    let direction = if row.bool("IsEgress")?.unwrap_or(false) {
        Direction::Egress
    } else {
        Direction::Ingress
    };
    let (protocol, ports) = proto_ports(row, "IpProtocol")?;
    let peer = if let Some(p) = cidr_peer(row, "CidrIpv4")? {
        p
    } else if let Some(p) = cidr_peer(row, "CidrIpv6")? {
        p
    } else if let Some(pl) = row.str("PrefixListId")? {
        Peer::PrefixList(pl.to_string())
    } else if let Some(g) = row.child("ReferencedGroupInfo") {
        group_ref(&g)?
    } else {
        return Err(row.err("rule without CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupInfo"));
    };
    let mut rule = Rule::new(direction, Action::Allow, protocol, ports, vec![peer]);
    rule.description = row.str("Description")?.map(str::to_string);
    rule.rule_id = row.str("SecurityGroupRuleId")?.map(str::to_string);
    Ok((gid, rule))
}

fn security_group_rules(root: &Node<'_>) -> Result<Vec<Resource>, ConvertError> {
    let mut groups: BTreeMap<String, Resource> = BTreeMap::new();
    let mut rule_ids: BTreeMap<String, String> = BTreeMap::new();
    for row in root.list("SecurityGroupRules")? {
        let (gid, rule) = security_group_rule_row(&row)?;
        if let Some(id) = &rule.rule_id {
            if let Some(first) = rule_ids.insert(id.clone(), row.path.clone()) {
                return Err(row
                    .child("SecurityGroupRuleId")
                    .expect("present")
                    .err(format!(
                        "the same rule id already appears at {first}; a dump lists each rule once"
                    )));
            }
        }
        groups
            .entry(gid.clone())
            .or_insert_with(|| Resource::new(ResourceId::new(gid), ResourceKind::AwsSecurityGroup))
            .rules
            .push(rule);
    }
    Ok(groups.into_values().map(canonicalize).collect())
}

fn network_acl(acl: &Node<'_>) -> Result<Resource, ConvertError> {
    let id = acl.req_str("NetworkAclId")?;
    let mut r = Resource::new(ResourceId::new(id), ResourceKind::AwsNetworkAcl);
    r.network = acl.str("VpcId")?.map(str::to_string);
    r.tags = tags(acl)?;
    r.name = r.tags.get("Name").cloned();
    let assoc = acl.list("Associations")?;
    for a in &assoc {
        if let Some(s) = a.str("SubnetId")? {
            r.attachments.push(s.to_string());
        }
    }
    r.attached = Some(!assoc.is_empty());
    for e in acl.list("Entries")? {
        let number = e
            .strict_int("RuleNumber")?
            .ok_or_else(|| e.err("entry without RuleNumber"))?;
        // Entries take 1-32766; AWS prints its default catch-all entries (`*` in the console)
        // as 32767 (IPv4) and 32768 (IPv6).
        if !(1..=32768).contains(&number) {
            return Err(e.child("RuleNumber").expect("present").err(
                "NACL rule numbers are 1-32766, or 32767/32768 for the default IPv4/IPv6 entries",
            ));
        }
        let raw_proto = e.req_str("Protocol")?;
        let protocol = Protocol::parse(raw_proto)
            .map_err(|x| e.child("Protocol").expect("present").model_err(x))?;
        let ports = match protocol {
            Protocol::All => Ports::All,
            p if p.is_icmp() => match e.child("IcmpTypeCode") {
                Some(ic) => {
                    let t = ic
                        .int("Type")?
                        .filter(|&v| v >= 0)
                        .map(|v| v.clamp(0, 255) as u8);
                    let c = ic
                        .int("Code")?
                        .filter(|&v| v >= 0)
                        .map(|v| v.clamp(0, 255) as u8);
                    Ports::Icmp {
                        icmp_type: t,
                        code: c,
                    }
                }
                None => Ports::All,
            },
            p if p.has_ports() => match e.child("PortRange") {
                Some(pr) => {
                    let f = pr
                        .strict_int("From")?
                        .ok_or_else(|| pr.err("PortRange without From"))?;
                    let t = pr
                        .strict_int("To")?
                        .ok_or_else(|| pr.err("PortRange without To"))?;
                    Ports::Ranges {
                        ranges: vec![PortRange::new(f, t).map_err(|x| pr.model_err(x))?],
                    }
                }
                None => Ports::All,
            },
            _ => Ports::All,
        };
        let peer = match (cidr_peer(&e, "CidrBlock")?, cidr_peer(&e, "Ipv6CidrBlock")?) {
            (Some(p), _) | (None, Some(p)) => p,
            _ => return Err(e.err("entry without CidrBlock or Ipv6CidrBlock")),
        };
        let action = match e.req_str("RuleAction")?.to_ascii_lowercase().as_str() {
            "allow" => Action::Allow,
            "deny" => Action::Deny,
            _ => {
                return Err(e
                    .child("RuleAction")
                    .expect("present")
                    .err("expected allow or deny"))
            }
        };
        let direction = if e.bool("Egress")?.unwrap_or(false) {
            Direction::Egress
        } else {
            Direction::Ingress
        };
        let mut rule = Rule::new(direction, action, protocol, ports, vec![peer]);
        rule.priority = Some(number as u32);
        rule.default_rule = number >= 32767;
        r.rules.push(rule);
    }
    Ok(canonicalize(r))
}

/// Merge `describe-security-group-rules` rows into groups read from `describe-security-groups`:
/// the groups keep their names and descriptions and gain the stable `sgr-` ids.
pub fn merge_rule_ids(resources: Vec<Resource>) -> Vec<Resource> {
    let mut by_id: BTreeMap<ResourceId, Vec<Resource>> = BTreeMap::new();
    for r in resources {
        by_id.entry(r.id.clone()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (_, mut versions) in by_id {
        if versions.len() == 1 || versions[0].kind != ResourceKind::AwsSecurityGroup {
            out.push(versions.pop().expect("non-empty"));
            continue;
        }
        // The version with a name came from describe-security-groups.
        versions.sort_by_key(|r| r.name.is_none());
        let mut main = versions.remove(0);
        for other in versions {
            for row in other.rules {
                let key = netdrift_snapshots::canonical::access_rule(&row);
                if let Some(rule) = main.rules.iter_mut().find(|m| {
                    m.rule_id.is_none() && netdrift_snapshots::canonical::access_rule(m) == key
                }) {
                    rule.rule_id = row.rule_id;
                }
            }
        }
        out.push(canonicalize(main));
    }
    out
}
