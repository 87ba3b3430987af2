//! GCP resources of a plan, rewritten into the Compute API's shapes (`firewalls.get`, a
//! firewall policy's `rules[]` entry) and converted by `crate::gcp` and `crate::gcp_policy`.

use serde_json::{json, Map, Value};

use netdrift_snapshots::{PolicyLevel, ResourceId, ResourceKind};

use super::{placeholder, relabel, Attrs, Locator, Parent, RuleSet, Side, Whole};
use crate::json::{ConvertError, Node};

/// The project of a resource: its `project` attribute, else the one in its id.
fn project_of<'a>(a: &Attrs<'a>) -> Result<Option<&'a str>, ConvertError> {
    if let Some(p) = a.known_str("project")? {
        return Ok(Some(p));
    }
    Ok(a.known_str("id")?
        .and_then(|id| id.strip_prefix("projects/"))
        .and_then(|rest| rest.split('/').next()))
}

/// `{"IPProtocol", "ports"}` entries of `allow`/`deny` blocks.
fn entries(
    a: &Attrs<'_>,
    key: &str,
    proto: &str,
    api_proto: &str,
) -> Result<Vec<Value>, ConvertError> {
    let mut out = Vec::new();
    for b in a.blocks(key)? {
        let mut e = Map::new();
        let p = if b.unknown(proto) {
            "all"
        } else {
            b.req_str(proto)?
        };
        e.insert(api_proto.into(), json!(p));
        if !b.unknown("ports") {
            let ports = b.strings("ports")?;
            if !ports.is_empty() {
                e.insert("ports".into(), json!(ports));
            }
        }
        out.push(Value::Object(e));
    }
    Ok(out)
}

/// `google_compute_firewall`.
pub(super) fn firewall(address: &str, a: &Attrs<'_>) -> Result<Side, ConvertError> {
    let name = a.req_str("name")?;
    let project = project_of(a)?;
    let allowed = entries(a, "allow", "protocol", "IPProtocol")?;
    let denied = entries(a, "deny", "protocol", "IPProtocol")?;
    let deny = !denied.is_empty();
    let ingress = a
        .str("direction")?
        .is_none_or(|d| d.eq_ignore_ascii_case("INGRESS"));
    let mut fw = Map::new();
    fw.insert("name".into(), json!(name));
    // A network known only after apply is a new one: noted, the rule read in it by name.
    a.unknown("network");
    if let Some(n) = a.known_str("network")? {
        fw.insert("network".into(), json!(n));
    }
    fw.insert(
        "direction".into(),
        json!(if ingress { "INGRESS" } else { "EGRESS" }),
    );
    fw.insert("priority".into(), json!(a.int("priority")?.unwrap_or(1000)));
    fw.insert("disabled".into(), json!(a.bool("disabled")?));
    for (tf, api) in [
        ("source_ranges", "sourceRanges"),
        ("destination_ranges", "destinationRanges"),
        ("source_tags", "sourceTags"),
        ("target_tags", "targetTags"),
        ("source_service_accounts", "sourceServiceAccounts"),
        ("target_service_accounts", "targetServiceAccounts"),
    ] {
        let v = a.strings(tf)?;
        if !v.is_empty() {
            fw.insert(api.into(), json!(v));
        }
    }
    // A peer unknown until apply: every address for an allow; a deny cannot be relied on.
    let remote: &[&str] = if ingress {
        &["source_ranges", "source_tags", "source_service_accounts"]
    } else {
        &["destination_ranges"]
    };
    // Each instance-selecting attribute narrows the targets (tags, service accounts and
    // destination ranges are ANDed): one known only after apply is left out, the widest.
    let local: &[(&str, &str)] = if ingress {
        &[
            ("target_tags", "targetTags"),
            ("target_service_accounts", "targetServiceAccounts"),
            ("destination_ranges", "destinationRanges"),
        ]
    } else {
        &[
            ("target_tags", "targetTags"),
            ("target_service_accounts", "targetServiceAccounts"),
            ("source_ranges", "sourceRanges"),
        ]
    };
    let peer_unknown = a.unknown_any(remote);
    let mut drop = false;
    for (tf, api) in local {
        if a.unknown(tf) {
            if deny {
                drop = true;
            } else {
                fw.remove(*api);
            }
        }
    }
    if peer_unknown {
        if deny {
            drop = true;
        } else {
            let key = if ingress {
                "sourceRanges"
            } else {
                "destinationRanges"
            };
            fw.insert(key.into(), json!(["0.0.0.0/0", "::/0"]));
            fw.remove("sourceTags");
            fw.remove("sourceServiceAccounts");
        }
    }
    fw.insert("allowed".into(), json!(allowed));
    fw.insert("denied".into(), json!(denied));
    if allowed.is_empty() {
        fw.remove("allowed");
    }
    if !deny {
        fw.remove("denied");
    }
    let doc = Value::Object(fw);
    let mut r = crate::gcp::firewall(&Node::root(&doc), project.unwrap_or("unknown-project"))
        .map_err(|e| relabel(a, e))?;
    let id = match (a.known_str("id")?, project) {
        (Some(id), _) if id.starts_with("projects/") => Some(id.to_string()),
        (_, Some(p)) => Some(format!("projects/{p}/global/firewalls/{name}")),
        _ => None,
    };
    if drop {
        r.rules.clear();
    }
    r.id = ResourceId::new(id.clone().unwrap_or_else(|| placeholder(address)));
    Ok(Side::Whole(Box::new(Whole {
        id,
        locator: Locator::Gcp {
            project: project.map(str::to_string),
            name: name.to_string(),
        },
        resource: r,
    })))
}

/// A firewall policy rule: `google_compute_firewall_policy_rule` (hierarchical) or
/// `google_compute_network_firewall_policy_rule` / `…region_network…` (network policies).
pub(super) fn policy_rule(
    a: &Attrs<'_>,
    hierarchical: bool,
    _refs: &dyn Fn(&str) -> Option<String>,
) -> Result<Side, ConvertError> {
    let policy = a.req_str("firewall_policy")?;
    let last = policy.rsplit('/').next().unwrap_or(policy);
    let project = project_of(a)?;
    let region = a.known_str("region")?;
    let (parent, level) = if hierarchical {
        (
            Parent::Id(format!("locations/global/firewallPolicies/{last}")),
            PolicyLevel::Hierarchical { depth: 0 },
        )
    } else {
        let level = match region {
            Some(r) => PolicyLevel::Regional {
                region: r.to_string(),
            },
            None => PolicyLevel::Network,
        };
        let parent = match (project, region) {
            (Some(p), Some(r)) => {
                Parent::Id(format!("projects/{p}/regions/{r}/firewallPolicies/{last}"))
            }
            (Some(p), None) => Parent::Id(format!("projects/{p}/global/firewallPolicies/{last}")),
            (None, _) => Parent::Gcp {
                project: None,
                name: last.to_string(),
            },
        };
        (parent, level)
    };
    let ingress = a.req_str("direction")?.eq_ignore_ascii_case("INGRESS");
    let action = a.req_str("action")?;
    let deny = action.eq_ignore_ascii_case("deny");
    let mut rule = Map::new();
    rule.insert(
        "priority".into(),
        json!(a
            .int("priority")?
            .ok_or_else(|| a.err("priority", "a policy rule needs its priority"))?),
    );
    rule.insert("action".into(), json!(action));
    rule.insert(
        "direction".into(),
        json!(if ingress { "INGRESS" } else { "EGRESS" }),
    );
    rule.insert("disabled".into(), json!(a.bool("disabled")?));
    for (tf, api) in [
        ("target_resources", "targetResources"),
        ("target_service_accounts", "targetServiceAccounts"),
    ] {
        let v = a.strings(tf)?;
        if !v.is_empty() {
            rule.insert(api.into(), json!(v));
        }
    }
    let mut m = Map::new();
    let mut drop = false;
    if let Some(b) = a.blocks("match")?.first() {
        for (tf, api) in [
            ("src_ip_ranges", "srcIpRanges"),
            ("dest_ip_ranges", "destIpRanges"),
            ("src_fqdns", "srcFqdns"),
            ("dest_fqdns", "destFqdns"),
            ("src_region_codes", "srcRegionCodes"),
            ("dest_region_codes", "destRegionCodes"),
            ("src_address_groups", "srcAddressGroups"),
            ("dest_address_groups", "destAddressGroups"),
            ("src_threat_intelligences", "srcThreatIntelligences"),
            ("dest_threat_intelligences", "destThreatIntelligences"),
        ] {
            let v = b.strings(tf)?;
            if !v.is_empty() {
                m.insert(api.into(), json!(v));
            }
        }
        let remote = if ingress {
            "src_ip_ranges"
        } else {
            "dest_ip_ranges"
        };
        if b.unknown(remote) {
            if deny {
                drop = true;
            } else {
                m.insert(
                    if ingress {
                        "srcIpRanges"
                    } else {
                        "destIpRanges"
                    }
                    .into(),
                    json!(["0.0.0.0/0", "::/0"]),
                );
            }
        }
        let l4 = entries(b, "layer4_configs", "ip_protocol", "ipProtocol")?;
        m.insert(
            "layer4Configs".into(),
            json!(if l4.is_empty() {
                vec![json!({"ipProtocol": "all"})]
            } else {
                l4
            }),
        );
    } else {
        return Err(a.err("match", "a policy rule needs its match block"));
    }
    rule.insert("match".into(), Value::Object(m));
    let doc = Value::Object(rule);
    let rules = crate::gcp_policy::policy_rule(
        &Node::root(&doc),
        project.unwrap_or("unknown-project"),
        &level,
    )
    .map_err(|e| relabel(a, e))?;
    Ok(Side::Rules(RuleSet {
        parent,
        kind: ResourceKind::GcpFirewallPolicy,
        rules: if drop { Vec::new() } else { rules },
    }))
}
