//! Azure network security groups: the ARM REST list (`value[]`, each rule's fields under
//! `properties`, `nextLink`) and `az network nsg list` (the same resources, `properties`
//! flattened). Singular and plural address and port fields are both read.

use netdrift_snapshots::{
    canonicalize, effective::azure_default_rules, parse_cidr, Action, Direction, Peer, PortRange,
    Ports, Protocol, Resource, ResourceId, ResourceKind, Rule, Target,
};

use crate::json::{ConvertError, Node};

fn is_nsg(n: &Node<'_>) -> bool {
    let ty = n.str("type").ok().flatten().unwrap_or_default();
    ty.eq_ignore_ascii_case("Microsoft.Network/networkSecurityGroups")
        || n.child("securityRules").is_some()
        || n.child("properties")
            .is_some_and(|p| p.child("securityRules").is_some())
}

pub fn detect(root: &Node<'_>) -> bool {
    match root.v {
        serde_json::Value::Array(a) => {
            a.is_empty()
                || root
                    .items()
                    .map(|v| v.iter().all(|n| is_nsg(n)))
                    .unwrap_or(false)
        }
        serde_json::Value::Object(_) => {
            root.child("value").is_some()
                && root
                    .list("value")
                    .map(|v| v.iter().all(|n| is_nsg(n)))
                    .unwrap_or(false)
        }
        _ => false,
    }
}

pub fn convert(root: &Node<'_>) -> Result<Vec<Resource>, ConvertError> {
    if !detect(root) {
        return Err(root.err(
            "not an Azure NSG dump: expected an ARM list response {\"value\": [...]} of \
             Microsoft.Network/networkSecurityGroups or the array printed by az network nsg list",
        ));
    }
    let items = match root.v {
        serde_json::Value::Array(_) => root.items()?,
        _ => root.list("value")?,
    };
    crate::json::unique_ids(
        items
            .iter()
            .map(|n| Ok((n.path.clone(), nsg(n)?)))
            .collect::<Result<_, ConvertError>>()?,
    )
}

/// Fields live under `properties` in ARM JSON and at the top level in az CLI output.
fn props<'a>(n: &Node<'a>) -> Node<'a> {
    match n.child("properties") {
        Some(p) if p.v.is_object() => p,
        _ => Node {
            v: n.v,
            path: n.path.clone(),
        },
    }
}

pub fn nsg(n: &Node<'_>) -> Result<Resource, ConvertError> {
    let id = n.req_str("id")?;
    let mut r = Resource::new(ResourceId::azure(id), ResourceKind::AzureNsg);
    r.name = n.str("name")?.map(str::to_string);
    r.network = n.str("location")?.map(str::to_string);
    if let Some(t) = n.child("tags") {
        if let Some(map) = t.v.as_object() {
            for (k, v) in map {
                r.tags
                    .insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
        }
    }
    let p = props(n);
    for key in ["networkInterfaces", "subnets"] {
        for a in p.list(key)? {
            if let Some(i) = a.str("id")? {
                r.attachments.push(i.to_ascii_lowercase());
            }
        }
    }
    r.attached = Some(!r.attachments.is_empty());
    for rule in p.list("securityRules")? {
        r.rules.push(security_rule(&rule)?);
    }
    // Default rules are fixed by Azure; they are validated when present and always modelled
    // from the documented set, so a dump with or without them compares equal.
    for rule in p.list("defaultSecurityRules")? {
        security_rule(&rule)?;
    }
    r.rules.extend(azure_default_rules());
    Ok(canonicalize(r))
}

fn address(node: &Node<'_>, raw: &str) -> Result<Option<Peer>, ConvertError> {
    let s = raw.trim();
    Ok(Some(match s {
        "" => return Ok(None),
        "*" | "Any" | "any" => Peer::Any,
        _ if s.eq_ignore_ascii_case("internet") => Peer::Internet,
        _ if s.starts_with(|c: char| c.is_ascii_digit()) || s.contains(':') => {
            Peer::Cidr(parse_cidr(s).map_err(|e| node.model_err(e))?)
        }
        _ => Peer::ServiceTag(s.to_string()),
    }))
}

fn addresses(p: &Node<'_>, singular: &str, plural: &str) -> Result<Vec<Peer>, ConvertError> {
    let mut out = Vec::new();
    for key in [singular, plural] {
        for (node, s) in p.strings(key)? {
            out.extend(address(&node, s)?);
        }
    }
    Ok(out)
}

fn ports(p: &Node<'_>, singular: &str, plural: &str) -> Result<Vec<PortRange>, ConvertError> {
    let mut out = Vec::new();
    for key in [singular, plural] {
        for (node, s) in p.strings(key)? {
            if !s.is_empty() {
                out.push(PortRange::parse(s).map_err(|e| node.model_err(e))?);
            }
        }
    }
    Ok(out)
}

fn asgs(p: &Node<'_>, key: &str) -> Result<Vec<String>, ConvertError> {
    p.list(key)?
        .iter()
        .map(|a| Ok(a.req_str("id")?.to_ascii_lowercase()))
        .collect()
}

pub fn security_rule(n: &Node<'_>) -> Result<Rule, ConvertError> {
    let p = props(n);
    let direction = match p.req_str("direction")?.to_ascii_lowercase().as_str() {
        "inbound" => Direction::Ingress,
        "outbound" => Direction::Egress,
        _ => {
            return Err(p
                .child("direction")
                .expect("present")
                .err("expected Inbound or Outbound"))
        }
    };
    let action = match p.req_str("access")?.to_ascii_lowercase().as_str() {
        "allow" => Action::Allow,
        "deny" => Action::Deny,
        _ => {
            return Err(p
                .child("access")
                .expect("present")
                .err("expected Allow or Deny"))
        }
    };
    let pn = p
        .child("protocol")
        .ok_or_else(|| p.err("rule without protocol"))?;
    let protocol = Protocol::parse(pn.as_str()?).map_err(|e| pn.model_err(e))?;
    let priority = p
        .int("priority")?
        .ok_or_else(|| p.err("rule without priority"))?;
    if !(100..=65500).contains(&priority) {
        return Err(p
            .child("priority")
            .expect("present")
            .err("priority outside 100-4096 (65000-65500 for default rules)"));
    }
    let src = addresses(&p, "sourceAddressPrefix", "sourceAddressPrefixes")?;
    let dst = addresses(&p, "destinationAddressPrefix", "destinationAddressPrefixes")?;
    let src_asg = asgs(&p, "sourceApplicationSecurityGroups")?;
    let dst_asg = asgs(&p, "destinationApplicationSecurityGroups")?;
    let dst_ports = ports(&p, "destinationPortRange", "destinationPortRanges")?;
    let src_ports = ports(&p, "sourcePortRange", "sourcePortRanges")?;
    let (remote, remote_asg, local, local_asg) = match direction {
        Direction::Ingress => (src, src_asg, dst, dst_asg),
        Direction::Egress => (dst, dst_asg, src, src_asg),
    };
    let mut peers = remote;
    peers.extend(remote_asg.into_iter().map(Peer::AppSecurityGroup));
    if peers.is_empty() {
        return Err(p.err(
            "rule without a source/destination address prefix or application security group",
        ));
    }
    let mut targets = Vec::new();
    for l in local {
        match l {
            // Every NIC behind an NSG is in a virtual network: these select every instance.
            Peer::Any | Peer::Internet => {}
            Peer::ServiceTag(t) if t.eq_ignore_ascii_case("VirtualNetwork") => {}
            Peer::Cidr(c) => targets.push(Target::Cidr(c)),
            Peer::ServiceTag(t) => targets.push(Target::ServiceTag(t)),
            _ => {}
        }
    }
    targets.extend(local_asg.into_iter().map(Target::AppSecurityGroup));
    let port_spec = if protocol.is_icmp() || dst_ports.is_empty() {
        Ports::All
    } else {
        Ports::Ranges { ranges: dst_ports }
    };
    let mut rule = Rule::new(direction, action, protocol, port_spec, peers);
    rule.priority = Some(priority as u32);
    rule.targets = targets;
    rule.source_ports = if src_ports.is_empty() || src_ports.contains(&PortRange::ALL) {
        None
    } else {
        Some(src_ports)
    };
    rule.name = n.str("name")?.map(str::to_string);
    rule.description = p.str("description")?.map(str::to_string);
    rule.rule_id = n.str("id")?.map(|s| s.to_ascii_lowercase());
    Ok(rule)
}
