//! AWS: security group rules revoked, modified back or authorized again; network ACL entries
//! deleted, replaced or created. Requests in EC2's shape (boto3, `--cli-input-json`).

use serde_json::{json, Map, Value};

use netdrift_snapshots::{
    effective::fresh_template, Action, Direction, Peer, Ports, Protocol, Provider, Resource,
    ResourceKind, Rule, Scope,
};

use super::{changed, check, sh, Op, Step};

fn proto(p: Protocol) -> String {
    match p {
        Protocol::All => "-1".into(),
        Protocol::Number(6) => "tcp".into(),
        Protocol::Number(17) => "udp".into(),
        Protocol::Number(1) => "icmp".into(),
        Protocol::Number(58) => "icmpv6".into(),
        Protocol::Number(n) => n.to_string(),
    }
}

/// (FromPort, ToPort) of a rule: a port range, ICMP type and code (-1: any), or none.
fn port_pairs(r: &Rule) -> Vec<Option<(i64, i64)>> {
    match (&r.ports, r.protocol) {
        (_, Protocol::All) => vec![None],
        (Ports::Ranges { ranges }, _) => ranges
            .iter()
            .map(|p| Some((i64::from(p.from), i64::from(p.to))))
            .collect(),
        (Ports::Icmp { icmp_type, code }, _) => vec![Some((
            icmp_type.map_or(-1, i64::from),
            code.map_or(-1, i64::from),
        ))],
        (Ports::All, p) if p.has_ports() => vec![Some((0, 65535))],
        (Ports::All, p) if p.is_icmp() => vec![Some((-1, -1))],
        (Ports::All, _) => vec![None],
    }
}

/// `IpPermissions` entries of one model rule (one per port range).
fn permissions(r: &Rule) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for ports in port_pairs(r) {
        let mut p = Map::new();
        p.insert("IpProtocol".into(), json!(proto(r.protocol)));
        if let Some((f, t)) = ports {
            p.insert("FromPort".into(), json!(f));
            p.insert("ToPort".into(), json!(t));
        }
        let with_desc = |mut v: Value| {
            if let Some(d) = &r.description {
                v["Description"] = json!(d);
            }
            v
        };
        for peer in &r.peers {
            match peer {
                Peer::Cidr(c @ ipnet::IpNet::V4(_)) => p
                    .entry("IpRanges")
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .expect("array")
                    .push(with_desc(json!({"CidrIp": c.to_string()}))),
                Peer::Cidr(c) => p
                    .entry("Ipv6Ranges")
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .expect("array")
                    .push(with_desc(json!({"CidrIpv6": c.to_string()}))),
                Peer::PrefixList(pl) => p
                    .entry("PrefixListIds")
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .expect("array")
                    .push(with_desc(json!({"PrefixListId": pl}))),
                Peer::SecurityGroup(g) => {
                    let pair = match g.split_once('/') {
                        Some((user, gid)) => json!({"UserId": user, "GroupId": gid}),
                        None => json!({"GroupId": g}),
                    };
                    p.entry("UserIdGroupPairs")
                        .or_insert_with(|| json!([]))
                        .as_array_mut()
                        .expect("array")
                        .push(with_desc(pair))
                }
                other => return Err(format!("a security group rule cannot name {other}")),
            }
        }
        out.push(Value::Object(p));
    }
    Ok(out)
}

/// A `SecurityGroupRule` request (ModifySecurityGroupRules) for one single-peer rule.
fn rule_request(r: &Rule) -> Result<Value, String> {
    let mut q = Map::new();
    q.insert("IpProtocol".into(), json!(proto(r.protocol)));
    if let Some(Some((f, t))) = port_pairs(r).first() {
        q.insert("FromPort".into(), json!(f));
        q.insert("ToPort".into(), json!(t));
    }
    match r.peers.as_slice() {
        [Peer::Cidr(c @ ipnet::IpNet::V4(_))] => q.insert("CidrIpv4".into(), json!(c.to_string())),
        [Peer::Cidr(c)] => q.insert("CidrIpv6".into(), json!(c.to_string())),
        [Peer::PrefixList(p)] => q.insert("PrefixListId".into(), json!(p)),
        [Peer::SecurityGroup(g)] => q.insert(
            "ReferencedGroupId".into(),
            json!(g.rsplit('/').next().unwrap_or(g)),
        ),
        _ => return Err("a security group rule has exactly one peer".into()),
    };
    if let Some(d) = &r.description {
        q.insert("Description".into(), json!(d));
    }
    Ok(Value::Object(q))
}

fn describe(r: &Rule) -> String {
    let peers: Vec<String> = r.peers.iter().map(|p| p.to_string()).collect();
    let ports = match port_pairs(r).first() {
        Some(Some((f, t))) if f == t => format!("/{f}"),
        Some(Some((f, t))) => format!("/{f}-{t}"),
        _ => String::new(),
    };
    format!("{}{ports} {}", r.protocol, peers.join(", "))
}

fn step(scope: &Scope, call: &str, params: Value, why: String, command: String) -> Step {
    Step {
        provider: Provider::Aws,
        scope: scope.key(),
        region: scope.region().map(str::to_string),
        call: call.into(),
        params,
        why,
        command,
    }
}

fn region_flag(scope: &Scope) -> String {
    scope
        .region()
        .map(|r| format!(" --region {}", sh(r)))
        .unwrap_or_default()
}

/// A security group: revoke what was added (by `sgr-` id where known), set back what was
/// widened in place (ModifySecurityGroupRules on the same rule id), authorize what was removed.
pub(super) fn group(
    scope: &Scope,
    direction: Direction,
    baseline: Option<&Resource>,
    actual: Option<&Resource>,
) -> Result<Vec<Step>, String> {
    let Some(actual) = actual else {
        return Err("the group was deleted: its id cannot come back. Recreate it from the baseline (`netdrift baseline export`) and attach it again".into());
    };
    let base_rules = match baseline {
        Some(b) => b.rules.clone(),
        // A group that was not approved: back to what a new group has.
        None => fresh_template(ResourceKind::AwsSecurityGroup),
    };
    let gid = actual.id.as_str();
    let added = changed(&actual.rules, &base_rules, direction);
    let mut removed = changed(&base_rules, &actual.rules, direction);
    let (dir, dir_title) = match direction {
        Direction::Ingress => ("ingress", "Ingress"),
        Direction::Egress => ("egress", "Egress"),
    };
    let mut steps = Vec::new();
    let mut modify = Vec::new();
    let mut revoke_ids = Vec::new();
    let mut revoke_perms = Vec::new();
    let mut whys = Vec::new();
    for a in &added {
        // Changed in place: the same rule id on both sides.
        let same = a
            .rule_id
            .as_ref()
            .and_then(|id| removed.iter().position(|b| b.rule_id.as_ref() == Some(id)));
        match (same, &a.rule_id) {
            (Some(k), Some(id)) => {
                let b = removed.remove(k);
                modify.push(
                    json!({"SecurityGroupRuleId": id, "SecurityGroupRule": rule_request(b)?}),
                );
                whys.push(format!(
                    "set {id} back from {} to {}",
                    describe(a),
                    describe(b)
                ));
            }
            (_, Some(id)) => {
                revoke_ids.push(id.clone());
                whys.push(format!("revoke {id} ({})", describe(a)));
            }
            (_, None) => {
                revoke_perms.extend(permissions(a)?);
                whys.push(format!("revoke {}", describe(a)));
            }
        }
    }
    let rf = region_flag(scope);
    if !modify.is_empty() {
        let params = json!({"GroupId": gid, "SecurityGroupRules": modify});
        steps.push(step(
            scope,
            "ModifySecurityGroupRules",
            params.clone(),
            whys.iter()
                .filter(|w| w.starts_with("set "))
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
            format!(
                "aws ec2 modify-security-group-rules --group-id {} --security-group-rules {}{rf}",
                sh(gid),
                sh(&params["SecurityGroupRules"].to_string())
            ),
        ));
    }
    if !revoke_ids.is_empty() {
        steps.push(step(
            scope,
            &format!("RevokeSecurityGroup{dir_title}"),
            json!({"GroupId": gid, "SecurityGroupRuleIds": revoke_ids}),
            whys.iter().filter(|w| w.starts_with("revoke sgr")).cloned().collect::<Vec<_>>().join("; "),
            format!(
                "aws ec2 revoke-security-group-{dir} --group-id {} --security-group-rule-ids {}{rf}",
                sh(gid),
                revoke_ids.iter().map(|i| sh(i)).collect::<Vec<_>>().join(" ")
            ),
        ));
    }
    if !revoke_perms.is_empty() {
        let perms = Value::Array(revoke_perms);
        steps.push(step(
            scope,
            &format!("RevokeSecurityGroup{dir_title}"),
            json!({"GroupId": gid, "IpPermissions": perms}),
            whys.iter()
                .filter(|w| w.starts_with("revoke ") && !w.starts_with("revoke sgr"))
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
            format!(
                "aws ec2 revoke-security-group-{dir} --group-id {} --ip-permissions {}{rf}",
                sh(gid),
                sh(&perms.to_string())
            ),
        ));
    }
    if !removed.is_empty() {
        let mut perms = Vec::new();
        for b in &removed {
            perms.extend(permissions(b)?);
        }
        let perms = Value::Array(perms);
        steps.push(step(
            scope,
            &format!("AuthorizeSecurityGroup{dir_title}"),
            json!({"GroupId": gid, "IpPermissions": perms}),
            format!(
                "restore {}",
                removed
                    .iter()
                    .map(|b| describe(b))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            format!(
                "aws ec2 authorize-security-group-{dir} --group-id {} --ip-permissions {}{rf}",
                sh(gid),
                sh(&perms.to_string())
            ),
        ));
    }
    Ok(steps)
}

/// A network ACL entry request.
fn entry(acl: &str, r: &Rule) -> Result<(Value, String), String> {
    let number = r
        .priority
        .ok_or("a network ACL entry without a rule number")?;
    let egress = r.direction == Direction::Egress;
    let protocol = match r.protocol {
        Protocol::All => "-1".to_string(),
        Protocol::Number(n) => n.to_string(),
    };
    let action = if r.action == Action::Deny {
        "deny"
    } else {
        "allow"
    };
    let mut p = Map::new();
    p.insert("NetworkAclId".into(), json!(acl));
    p.insert("RuleNumber".into(), json!(number));
    p.insert("Egress".into(), json!(egress));
    p.insert("Protocol".into(), json!(protocol));
    p.insert("RuleAction".into(), json!(action));
    let mut flags = format!(
        "--network-acl-id {} --rule-number {number} {} --protocol {protocol} --rule-action {action}",
        sh(acl),
        if egress { "--egress" } else { "--ingress" }
    );
    match r.peers.as_slice() {
        [Peer::Cidr(c @ ipnet::IpNet::V4(_))] => {
            p.insert("CidrBlock".into(), json!(c.to_string()));
            flags += &format!(" --cidr-block {c}");
        }
        [Peer::Cidr(c)] => {
            p.insert("Ipv6CidrBlock".into(), json!(c.to_string()));
            flags += &format!(" --ipv6-cidr-block {c}");
        }
        _ => return Err("a network ACL entry has exactly one CIDR".into()),
    }
    match (&r.ports, r.protocol) {
        (Ports::Ranges { ranges }, _) if !ranges.is_empty() => {
            let (f, t) = (ranges[0].from, ranges[ranges.len() - 1].to);
            if ranges.len() > 1 {
                return Err("a network ACL entry has one port range".into());
            }
            p.insert("PortRange".into(), json!({"From": f, "To": t}));
            flags += &format!(" --port-range From={f},To={t}");
        }
        (Ports::Icmp { icmp_type, code }, _) => {
            let (t, c) = (icmp_type.map_or(-1, i64::from), code.map_or(-1, i64::from));
            p.insert("IcmpTypeCode".into(), json!({"Type": t, "Code": c}));
            flags += &format!(" --icmp-type-code Type={t},Code={c}");
        }
        (Ports::All, pr) if pr.has_ports() => {
            p.insert("PortRange".into(), json!({"From": 0, "To": 65535}));
            flags += " --port-range From=0,To=65535";
        }
        _ => {}
    }
    Ok((Value::Object(p), flags))
}

/// A network ACL: entries (by rule number, in the item's direction) deleted, replaced or
/// created, in an order whose every intermediate state is checked.
pub(super) fn acl(
    scope: &Scope,
    direction: Direction,
    baseline: Option<&Resource>,
    actual: Option<&Resource>,
) -> Result<Vec<Step>, String> {
    let (Some(actual), Some(baseline)) = (actual, baseline) else {
        return Err(match actual {
            None => "the network ACL was deleted: recreate it from the baseline (`netdrift baseline export`)".into(),
            Some(_) => "the network ACL was not approved: there is no approved state to restore; approve it or delete it".into(),
        });
    };
    let acl = actual.id.as_str();
    let numbered = |rs: &[Rule]| -> std::collections::BTreeMap<u32, Rule> {
        rs.iter()
            .filter(|r| r.direction == direction && !r.default_rule)
            .filter_map(|r| r.priority.map(|p| (p, r.clone())))
            .collect()
    };
    let (a, b) = (numbered(&actual.rules), numbered(&baseline.rules));
    let key = netdrift_snapshots::canonical::access_rule;
    // (rule number, actual entry, approved entry) for each entry that differs.
    let mut diffs: Vec<(u32, Option<Rule>, Option<Rule>)> = Vec::new();
    for n in a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (x, y) = (a.get(n), b.get(n));
        if x.map(key) != y.map(key) {
            diffs.push((*n, x.cloned(), y.cloned()));
        }
    }
    // Narrowing first: entries that become denies, then removals of allows, then the rest.
    let rank = |d: &(u32, Option<Rule>, Option<Rule>)| match (&d.1, &d.2) {
        (_, Some(y)) if y.action == Action::Deny => 0,
        (Some(x), None) if x.action == Action::Allow => 1,
        (_, Some(_)) => 2,
        _ => 3,
    };
    let mut orders = vec![diffs.clone()];
    let mut narrowing = diffs.clone();
    narrowing.sort_by_key(|d| (rank(d), d.0));
    orders.insert(0, narrowing);
    let mut last_err = String::new();
    for order in orders {
        let ops: Vec<Op> = order
            .iter()
            .flat_map(|(_, x, y)| {
                x.iter()
                    .map(|x| Op::Remove(x.clone()))
                    .chain(y.iter().map(|y| Op::Add(y.clone())))
                    .collect::<Vec<_>>()
            })
            .collect();
        match check(actual, baseline, direction, &ops) {
            Ok(()) => {
                let rf = region_flag(scope);
                let mut steps = Vec::new();
                for (n, x, y) in &order {
                    steps.push(match (x, y) {
                        (Some(x), None) => step(
                            scope,
                            "DeleteNetworkAclEntry",
                            json!({"NetworkAclId": acl, "RuleNumber": n, "Egress": direction == Direction::Egress}),
                            format!("delete entry {n} ({} {})", format!("{:?}", x.action).to_lowercase(), describe(x)),
                            format!(
                                "aws ec2 delete-network-acl-entry --network-acl-id {} --rule-number {n} {}{rf}",
                                sh(acl),
                                if direction == Direction::Egress { "--egress" } else { "--ingress" }
                            ),
                        ),
                        (x, Some(y)) => {
                            let (params, flags) = entry(acl, y)?;
                            let (call, cli) = if x.is_some() {
                                ("ReplaceNetworkAclEntry", "replace-network-acl-entry")
                            } else {
                                ("CreateNetworkAclEntry", "create-network-acl-entry")
                            };
                            step(
                                scope,
                                call,
                                params,
                                format!("entry {n} back to {} {}", format!("{:?}", y.action).to_lowercase(), describe(y)),
                                format!("aws ec2 {cli} {flags}{rf}"),
                            )
                        }
                        (None, None) => unreachable!("a difference has a side"),
                    });
                }
                return Ok(steps);
            }
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}
