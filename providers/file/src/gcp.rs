//! GCP VPC firewall rules: `gcloud compute firewall-rules list --format=json` (an array of
//! `compute#firewall`), a REST `firewalls.list` response (`items`, `nextPageToken`), and the
//! request bodies of audit-log entries (which spell the lists `alloweds`/`denieds`).

use netdrift_snapshots::{
    canonicalize, parse_cidr, Action, Direction, Peer, PortRange, Ports, Protocol, Resource,
    ResourceId, ResourceKind, Rule, Target,
};

use crate::json::{unique_ids, ConvertError, Node};

/// True when the document looks like GCP firewall rules.
pub fn detect(root: &Node<'_>) -> bool {
    let looks = |n: &Node<'_>| {
        n.str("kind").ok().flatten() == Some("compute#firewall")
            || (n.child("network").is_some()
                && (n.child("allowed").is_some() || n.child("denied").is_some()))
    };
    match root.v {
        serde_json::Value::Array(a) => {
            a.is_empty() || root.items().map(|v| v.iter().all(looks)).unwrap_or(false)
        }
        serde_json::Value::Object(_) => {
            root.str("kind").ok().flatten() == Some("compute#firewallList")
                || looks(root)
                || root
                    .list("items")
                    .map(|v| v.iter().all(looks))
                    .unwrap_or(false)
                    && root.child("items").is_some()
        }
        _ => false,
    }
}

fn is_network(n: &Node<'_>) -> bool {
    n.str("kind").ok().flatten() == Some("compute#network")
        || n.child("networkFirewallPolicyEnforcementOrder").is_some()
}

/// True for a networks dump (`gcloud compute networks list --format=json`, `networks.list`).
pub fn is_networks(root: &Node<'_>) -> bool {
    match root.v {
        serde_json::Value::Array(a) => {
            !a.is_empty()
                && root
                    .items()
                    .map(|v| v.iter().all(is_network))
                    .unwrap_or(false)
        }
        serde_json::Value::Object(_) => {
            root.str("kind").ok().flatten() == Some("compute#networkList")
                || (root.child("items").is_some()
                    && root
                        .list("items")
                        .map(|v| !v.is_empty() && v.iter().all(is_network))
                        .unwrap_or(false))
        }
        _ => false,
    }
}

/// Network keys of a networks dump whose enforcement order is `BEFORE_CLASSIC_FIREWALL`.
pub fn before_classic_networks(
    root: &Node<'_>,
    project: &str,
) -> Result<Vec<String>, ConvertError> {
    let items = match root.v {
        serde_json::Value::Array(_) => root.items()?,
        _ => root.list("items")?,
    };
    let mut out = Vec::new();
    for n in items {
        let order = n
            .str("networkFirewallPolicyEnforcementOrder")?
            .unwrap_or("AFTER_CLASSIC_FIREWALL");
        match order {
            "BEFORE_CLASSIC_FIREWALL" => {
                let link = n.str("selfLink")?.unwrap_or(n.req_str("name")?);
                out.push(network_key(link, project));
            }
            "AFTER_CLASSIC_FIREWALL" => {}
            _ => {
                return Err(n
                    .child("networkFirewallPolicyEnforcementOrder")
                    .expect("present")
                    .err("expected AFTER_CLASSIC_FIREWALL or BEFORE_CLASSIC_FIREWALL"))
            }
        }
    }
    Ok(out)
}

/// Convert a gcloud array or REST list.
pub fn convert(root: &Node<'_>, project: &str) -> Result<Vec<Resource>, ConvertError> {
    if !detect(root) {
        return Err(root.err(
            "not a GCP firewall dump: expected an array of compute#firewall objects \
             (gcloud compute firewall-rules list --format=json) or a firewalls.list response with items",
        ));
    }
    // One firewall object: `gcloud compute firewall-rules describe --format=json`, a
    // `firewalls.get` body.
    let single =
        root.v.is_object() && root.child("items").is_none() && root.child("name").is_some();
    let items = match root.v {
        serde_json::Value::Array(_) => root.items()?,
        _ if single => vec![root.clone()],
        _ => root.list("items")?,
    };
    unique_ids(
        items
            .iter()
            .map(|n| Ok((n.path.clone(), firewall(n, project)?)))
            .collect::<Result<_, ConvertError>>()?,
    )
}

/// `projects/P/global/networks/N` from a network URL or short name.
pub fn network_key(raw: &str, project: &str) -> String {
    match raw.find("projects/") {
        Some(i) => raw[i..].to_string(),
        None if raw.contains('/') => raw.to_string(),
        None => format!("projects/{project}/global/networks/{raw}"),
    }
}

/// `projects/P/global/firewalls/NAME` from a selfLink, or from the project and name.
pub fn firewall_id(self_link: Option<&str>, project: &str, name: &str) -> ResourceId {
    match self_link.and_then(|l| l.find("projects/").map(|i| &l[i..])) {
        Some(path) => ResourceId::new(path),
        None => ResourceId::new(format!("projects/{project}/global/firewalls/{name}")),
    }
}

fn protocol_entries(
    n: &Node<'_>,
    key: &str,
    proto_keys: &[&str],
) -> Result<Vec<(Protocol, Ports)>, ConvertError> {
    let mut out = Vec::new();
    for e in n.list(key)? {
        let pn = e
            .child_any(proto_keys)
            .ok_or_else(|| e.err("entry without IPProtocol"))?;
        let protocol = Protocol::parse(pn.as_str()?).map_err(|x| pn.model_err(x))?;
        let mut ranges = Vec::new();
        for (pn, p) in e.strings("ports")? {
            ranges.push(PortRange::parse(p).map_err(|x| pn.model_err(x))?);
        }
        let ports = if ranges.is_empty() || !(protocol.has_ports()) {
            Ports::All
        } else {
            Ports::Ranges { ranges }
        };
        out.push((protocol, ports));
    }
    Ok(out)
}

fn cidrs(n: &Node<'_>, key: &str) -> Result<Vec<ipnet::IpNet>, ConvertError> {
    n.strings(key)?
        .into_iter()
        .map(|(node, s)| parse_cidr(s).map_err(|e| node.model_err(e)))
        .collect()
}

/// Convert one firewall object (REST/gcloud `allowed`, or audit-log `alloweds`).
pub fn firewall(n: &Node<'_>, project: &str) -> Result<Resource, ConvertError> {
    let name = n.req_str("name")?;
    let id = firewall_id(n.str("selfLink")?, project, name);
    let mut r = Resource::new(id, ResourceKind::GcpFirewallRule);
    r.name = Some(name.to_string());
    r.description = n.str("description")?.map(str::to_string);
    let network = n.str("network")?.unwrap_or("default");
    r.network = Some(network_key(network, project));
    let direction = match n
        .str("direction")?
        .unwrap_or("INGRESS")
        .to_ascii_uppercase()
        .as_str()
    {
        "INGRESS" => Direction::Ingress,
        "EGRESS" => Direction::Egress,
        _ => {
            return Err(n
                .child("direction")
                .expect("present")
                .err("expected INGRESS or EGRESS"))
        }
    };
    let priority = n.int("priority")?.unwrap_or(1000);
    if !(0..=65535).contains(&priority) {
        return Err(n
            .child("priority")
            .expect("present")
            .err("priority outside 0-65535"));
    }
    let enabled = !n.bool("disabled")?.unwrap_or(false);
    let src_ranges = cidrs(n, "sourceRanges")?;
    let dst_ranges = cidrs(n, "destinationRanges")?;
    let mut peers: Vec<Peer> = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    match direction {
        Direction::Ingress => {
            peers.extend(src_ranges.into_iter().map(Peer::Cidr));
            for (_, t) in n.strings("sourceTags")? {
                peers.push(Peer::Tag(t.to_string()));
            }
            for (_, s) in n.strings("sourceServiceAccounts")? {
                peers.push(Peer::ServiceAccount(s.to_string()));
            }
            // An ingress rule with no source at all applies to 0.0.0.0/0.
            if peers.is_empty() {
                peers.push(Peer::cidr("0.0.0.0/0").expect("static"));
            }
            targets.extend(dst_ranges.into_iter().map(Target::Cidr));
        }
        Direction::Egress => {
            peers.extend(dst_ranges.into_iter().map(Peer::Cidr));
            if peers.is_empty() {
                peers.push(Peer::cidr("0.0.0.0/0").expect("static"));
            }
            targets.extend(src_ranges.into_iter().map(Target::Cidr));
        }
    }
    for (_, t) in n.strings("targetTags")? {
        targets.push(Target::Tag(t.to_string()));
    }
    for (_, s) in n.strings("targetServiceAccounts")? {
        targets.push(Target::ServiceAccount(s.to_string()));
    }
    let allowed = protocol_entries(
        n,
        if n.child("alloweds").is_some() {
            "alloweds"
        } else {
            "allowed"
        },
        &["IPProtocol", "ipProtocol"],
    )?;
    let denied = protocol_entries(
        n,
        if n.child("denieds").is_some() {
            "denieds"
        } else {
            "denied"
        },
        &["IPProtocol", "ipProtocol"],
    )?;
    if allowed.is_empty() && denied.is_empty() {
        return Err(n.err("firewall rule with neither allowed nor denied entries"));
    }
    if !allowed.is_empty() && !denied.is_empty() {
        // The Compute API takes exactly one of the two lists on a rule.
        return Err(n.err(
            "firewall rule with both allowed and denied entries: a GCP rule has exactly one of them",
        ));
    }
    for (action, list) in [(Action::Allow, allowed), (Action::Deny, denied)] {
        for (protocol, ports) in list {
            let mut rule = Rule::new(direction, action, protocol, ports, peers.clone());
            rule.priority = Some(priority as u32);
            rule.enabled = enabled;
            rule.targets = targets.clone();
            r.rules.push(rule);
        }
    }
    Ok(canonicalize(r))
}

/// A converted firewall rule back in the REST shape (`firewalls.get`), for applying a
/// `firewalls.patch` body onto it.
pub fn firewall_json(r: &Resource) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let first = r.rules.first();
    let direction = first.map(|x| x.direction).unwrap_or(Direction::Ingress);
    let mut o = Map::new();
    o.insert("kind".into(), json!("compute#firewall"));
    if let Some(n) = &r.name {
        o.insert("name".into(), json!(n));
    }
    if let Some(d) = &r.description {
        o.insert("description".into(), json!(d));
    }
    if let Some(n) = &r.network {
        o.insert("network".into(), json!(n));
    }
    o.insert(
        "direction".into(),
        json!(if direction == Direction::Egress {
            "EGRESS"
        } else {
            "INGRESS"
        }),
    );
    if let Some(p) = first.and_then(|x| x.priority) {
        o.insert("priority".into(), json!(p));
    }
    o.insert("disabled".into(), json!(first.is_some_and(|x| !x.enabled)));
    let (mut peer_cidrs, mut tags, mut sas, mut target_cidrs) = (vec![], vec![], vec![], vec![]);
    let (mut target_tags, mut target_sas) = (vec![], vec![]);
    if let Some(x) = first {
        for p in &x.peers {
            match p {
                Peer::Cidr(c) => peer_cidrs.push(c.to_string()),
                Peer::Tag(t) => tags.push(t.clone()),
                Peer::ServiceAccount(s) => sas.push(s.clone()),
                _ => {}
            }
        }
        for t in &x.targets {
            match t {
                Target::Cidr(c) => target_cidrs.push(c.to_string()),
                Target::Tag(t) => target_tags.push(t.clone()),
                Target::ServiceAccount(s) => target_sas.push(s.clone()),
                _ => {}
            }
        }
    }
    let (src_key, dst_key) = match direction {
        Direction::Ingress => ("sourceRanges", "destinationRanges"),
        Direction::Egress => ("destinationRanges", "sourceRanges"),
    };
    let mut put = |k: &str, v: Vec<String>| {
        if !v.is_empty() {
            o.insert(k.into(), json!(v));
        }
    };
    put(src_key, peer_cidrs);
    put(dst_key, target_cidrs);
    put("sourceTags", tags);
    put("sourceServiceAccounts", sas);
    put("targetTags", target_tags);
    put("targetServiceAccounts", target_sas);
    let entry = |x: &Rule| {
        let proto = match x.protocol {
            Protocol::All => "all".to_string(),
            Protocol::Number(6) => "tcp".into(),
            Protocol::Number(17) => "udp".into(),
            Protocol::Number(1) => "icmp".into(),
            Protocol::Number(n) => n.to_string(),
        };
        let mut e = json!({"IPProtocol": proto});
        if let Ports::Ranges { ranges } = &x.ports {
            e["ports"] = json!(ranges
                .iter()
                .map(|p| if p.from == p.to {
                    p.from.to_string()
                } else {
                    format!("{}-{}", p.from, p.to)
                })
                .collect::<Vec<_>>());
        }
        e
    };
    for (key, action) in [("allowed", Action::Allow), ("denied", Action::Deny)] {
        let list: Vec<Value> = r
            .rules
            .iter()
            .filter(|x| x.action == action)
            .map(entry)
            .collect();
        if !list.is_empty() {
            o.insert(key.into(), Value::Array(list));
        }
    }
    Value::Object(o)
}

/// RFC 7386 JSON merge patch, the processing rules `firewalls.patch` documents: an object
/// merges key by key, `null` removes a key, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("made an object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The rule a `firewalls.patch` request leaves: the body holds only the fields it changes, so it
/// is applied onto the rule's prior state rather than read as a whole rule with defaults.
pub fn patched_firewall(
    prior: &Resource,
    patch: &serde_json::Value,
    project: &str,
) -> Result<Resource, ConvertError> {
    let mut body = firewall_json(prior);
    // The audit log's request spells the lists `alloweds`/`denieds`.
    let mut p = patch.clone();
    if let Some(o) = p.as_object_mut() {
        for (from, to) in [("alloweds", "allowed"), ("denieds", "denied")] {
            if let Some(v) = o.remove(from) {
                o.insert(to.into(), v);
            }
        }
        o.remove("@type");
    }
    merge_patch(&mut body, &p);
    firewall(&Node::root(&body), project)
}
