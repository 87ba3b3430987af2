//! GCP firewall policies: hierarchical (`firewallPolicies`, attached to the organization or
//! folders), global (`networkFirewallPolicies`) and regional (`regionNetworkFirewallPolicies`)
//! network firewall policies. Accepts a REST list response (`items`), a gcloud array, or one
//! policy. Each policy becomes one `GcpFirewallPolicy` resource whose `policy` placement says
//! where it sits in GCP's evaluation order and what it is associated with.

use std::collections::BTreeSet;

use netdrift_snapshots::{
    canonicalize, parse_cidr, Action, Direction, Peer, PolicyAssociation, PolicyLevel,
    PolicyPlacement, PortRange, Ports, Protocol, Resource, ResourceId, ResourceKind, Rule, Target,
};

use crate::gcp::network_key;
use crate::json::{ConvertError, Node};

/// Depth of a hierarchy node (`organizations/1`, `folders/2`) above a project.
pub type DepthOf<'a> = &'a dyn Fn(&str) -> Option<u32>;

/// What converting a policy needs to know beyond the policy itself.
pub struct PolicyContext<'a> {
    pub project: &'a str,
    /// Depth of a hierarchical attachment point (`organizations/1` → 0, a top-level folder → 1,
    /// …). `None`: use 0 for organizations and 1 for folders (offline dumps).
    pub depth: Option<DepthOf<'a>>,
    /// Network keys (`projects/P/global/networks/N`) whose enforcement order is
    /// `BEFORE_CLASSIC_FIREWALL`.
    pub before_classic: &'a BTreeSet<String>,
}

fn looks(n: &Node<'_>) -> bool {
    matches!(n.str("kind").ok().flatten(), Some("compute#firewallPolicy"))
        || (n.child("rules").is_some()
            && (n.child("associations").is_some()
                || n.child("parent").is_some()
                || n.child("shortName").is_some()
                || n.child("ruleTupleCount").is_some()))
}

/// True when the document looks like firewall policies.
pub fn detect(root: &Node<'_>) -> bool {
    match root.v {
        serde_json::Value::Array(a) => {
            !a.is_empty() && root.items().map(|v| v.iter().all(looks)).unwrap_or(false)
        }
        serde_json::Value::Object(_) => {
            root.str("kind").ok().flatten() == Some("compute#firewallPolicyList")
                || looks(root)
                || (root.child("items").is_some()
                    && root
                        .list("items")
                        .map(|v| !v.is_empty() && v.iter().all(looks))
                        .unwrap_or(false))
        }
        _ => false,
    }
}

/// Convert a list, an array or one policy.
pub fn convert(root: &Node<'_>, ctx: &PolicyContext<'_>) -> Result<Vec<Resource>, ConvertError> {
    let items = match root.v {
        serde_json::Value::Array(_) => root.items()?,
        _ if looks(root) => vec![root.clone()],
        _ => root.list("items")?,
    };
    crate::json::unique_ids(
        items
            .iter()
            .map(|n| Ok((n.path.clone(), policy(n, ctx)?)))
            .collect::<Result<_, ConvertError>>()?,
    )
}

/// The path a policy is known by: `locations/global/firewallPolicies/ID` (hierarchical),
/// `projects/P/global/firewallPolicies/NAME`, `projects/P/regions/R/firewallPolicies/NAME`.
fn policy_id(
    n: &Node<'_>,
    project: &str,
    region: Option<&str>,
    hierarchical: bool,
) -> Result<ResourceId, ConvertError> {
    if let Some(link) = n.str("selfLink")? {
        for marker in ["projects/", "locations/"] {
            if let Some(i) = link.find(marker) {
                return Ok(ResourceId::new(&link[i..]));
            }
        }
    }
    let name = n.req_str("name")?;
    Ok(ResourceId::new(if hierarchical {
        format!("locations/global/firewallPolicies/{name}")
    } else if let Some(r) = region {
        format!("projects/{project}/regions/{r}/firewallPolicies/{name}")
    } else {
        format!("projects/{project}/global/firewallPolicies/{name}")
    }))
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// `organizations/1` or `folders/2` from an attachment target.
fn hierarchy_node(raw: &str) -> Option<String> {
    ["organizations/", "folders/"]
        .iter()
        .find_map(|m| raw.find(m).map(|i| raw[i..].to_string()))
}

/// Convert one policy.
pub fn policy(n: &Node<'_>, ctx: &PolicyContext<'_>) -> Result<Resource, ConvertError> {
    let region = n.str("region")?.map(last_segment);
    let parent = n.str("parent")?;
    let self_link = n.str("selfLink")?.unwrap_or("");
    let hierarchical = parent.is_some() || self_link.contains("locations/global/firewallPolicies");
    let region = region.or_else(|| {
        self_link
            .find("/regions/")
            .map(|i| self_link[i + 9..].split('/').next().unwrap_or(""))
    });
    let id = policy_id(n, ctx.project, region, hierarchical)?;
    let mut r = Resource::new(id, ResourceKind::GcpFirewallPolicy);
    r.name = n
        .str("displayName")?
        .or(n.str("shortName")?)
        .or(n.str("name")?)
        .map(str::to_string);
    r.description = n.str("description")?.map(str::to_string);

    let mut associations = Vec::new();
    for a in n.list("associations")? {
        let target = a.req_str("attachmentTarget")?;
        if hierarchical {
            let node = hierarchy_node(target).ok_or_else(|| {
                a.child("attachmentTarget")
                    .expect("present")
                    .err("expected organizations/N or folders/N")
            })?;
            associations.push(PolicyAssociation {
                target: node,
                before_classic: false,
            });
        } else {
            let key = network_key(target, ctx.project);
            associations.push(PolicyAssociation {
                before_classic: ctx.before_classic.contains(&key),
                target: key,
            });
        }
    }
    let level = if hierarchical {
        let depth_of = |t: &str| match ctx.depth {
            Some(f) => f(t),
            None => Some(if t.starts_with("organizations/") {
                0
            } else {
                1
            }),
        };
        let depth = associations
            .iter()
            .filter_map(|a| depth_of(&a.target))
            .min()
            .or_else(|| parent.and_then(depth_of))
            .unwrap_or(0);
        PolicyLevel::Hierarchical { depth }
    } else if let Some(region) = region {
        PolicyLevel::Regional {
            region: region.to_string(),
        }
    } else {
        PolicyLevel::Network
    };
    for rn in n.list("rules")? {
        r.rules.extend(policy_rule(&rn, ctx.project, &level)?);
    }
    r.policy = Some(PolicyPlacement {
        level,
        associations,
    });
    Ok(canonicalize(r))
}

fn cidrs(n: &Node<'_>, key: &str) -> Result<Vec<Peer>, ConvertError> {
    n.strings(key)?
        .into_iter()
        .map(|(node, s)| parse_cidr(s).map(Peer::Cidr).map_err(|e| node.model_err(e)))
        .collect()
}

fn symbols(n: &Node<'_>, key: &str, prefix: &str) -> Result<Vec<Peer>, ConvertError> {
    Ok(n.strings(key)?
        .into_iter()
        .map(|(_, s)| Peer::ServiceTag(format!("{prefix}{s}")))
        .collect())
}

fn secure_tags(n: &Node<'_>, key: &str) -> Result<Vec<String>, ConvertError> {
    n.list(key)?
        .iter()
        .map(|t| t.req_str("name").map(str::to_string))
        .collect()
}

/// One policy rule: one model rule per `layer4Configs` entry.
pub fn policy_rule(
    n: &Node<'_>,
    project: &str,
    level: &PolicyLevel,
) -> Result<Vec<Rule>, ConvertError> {
    let direction = match n.req_str("direction")?.to_ascii_uppercase().as_str() {
        "INGRESS" => Direction::Ingress,
        "EGRESS" => Direction::Egress,
        _ => {
            return Err(n
                .child("direction")
                .expect("present")
                .err("expected INGRESS or EGRESS"))
        }
    };
    let action = match n.req_str("action")?.to_ascii_lowercase().as_str() {
        "allow" => Action::Allow,
        "deny" => Action::Deny,
        "goto_next" => Action::GotoNext,
        // Allowed after layer-7 inspection: reachable as far as the network goes.
        "apply_security_profile_group" => Action::Allow,
        _ => {
            return Err(n
                .child("action")
                .expect("present")
                .err("expected allow, deny, goto_next or apply_security_profile_group"))
        }
    };
    let priority = n
        .int("priority")?
        .ok_or_else(|| n.err("firewall policy rule without priority"))?;
    if !(0..=i64::from(u32::MAX)).contains(&priority) {
        return Err(n
            .child("priority")
            .expect("present")
            .err("priority out of range"));
    }
    let m = n
        .child("match")
        .ok_or_else(|| n.err("firewall policy rule without match"))?;
    let (remote, local) = match direction {
        Direction::Ingress => ("src", "dest"),
        Direction::Egress => ("dest", "src"),
    };
    let mut peers = cidrs(&m, &format!("{remote}IpRanges"))?;
    for t in secure_tags(&m, &format!("{remote}SecureTags"))? {
        peers.push(Peer::Tag(t));
    }
    peers.extend(symbols(
        &m,
        &format!("{remote}AddressGroups"),
        "address-group:",
    )?);
    peers.extend(symbols(&m, &format!("{remote}Fqdns"), "fqdn:")?);
    peers.extend(symbols(
        &m,
        &format!("{remote}RegionCodes"),
        "region-code:",
    )?);
    peers.extend(symbols(
        &m,
        &format!("{remote}ThreatIntelligences"),
        "threat-intel:",
    )?);
    if peers.is_empty() {
        // No remote side given: every address, as for VPC firewall rules.
        peers.push(Peer::cidr("0.0.0.0/0").expect("static"));
        peers.push(Peer::cidr("::/0").expect("static"));
    }
    let mut targets: Vec<Target> = Vec::new();
    for c in m.strings(&format!("{local}IpRanges"))? {
        targets.push(Target::Cidr(parse_cidr(c.1).map_err(|e| c.0.model_err(e))?));
    }
    for (_, s) in n.strings("targetServiceAccounts")? {
        targets.push(Target::ServiceAccount(s.to_string()));
    }
    for t in secure_tags(n, "targetSecureTags")? {
        targets.push(Target::Tag(t));
    }
    let instance_targeted = !targets.is_empty();
    for (_, net) in n.strings("targetResources")? {
        targets.push(Target::Network(network_key(net, project)));
    }
    if let (PolicyLevel::Regional { region }, false) = (level, instance_targeted) {
        targets.push(Target::Region(region.clone()));
    }
    let enabled = !n.bool("disabled")?.unwrap_or(false);
    let mut out = Vec::new();
    let configs = m.list("layer4Configs")?;
    if configs.is_empty() {
        return Err(m.err("firewall policy rule without layer4Configs"));
    }
    for c in configs {
        let pn = c
            .child_any(&["ipProtocol", "IPProtocol"])
            .ok_or_else(|| c.err("layer4Config without ipProtocol"))?;
        let protocol = Protocol::parse(pn.as_str()?).map_err(|x| pn.model_err(x))?;
        let mut ranges = Vec::new();
        for (pn, p) in c.strings("ports")? {
            ranges.push(PortRange::parse(p).map_err(|x| pn.model_err(x))?);
        }
        let ports = if ranges.is_empty() || !protocol.has_ports() {
            Ports::All
        } else {
            Ports::Ranges { ranges }
        };
        let mut rule = Rule::new(direction, action, protocol, ports, peers.clone());
        rule.priority = Some(priority as u32);
        rule.enabled = enabled;
        rule.targets = targets.clone();
        rule.name = n.str("ruleName")?.map(str::to_string);
        rule.description = n.str("description")?.map(str::to_string);
        out.push(rule);
    }
    Ok(out)
}
