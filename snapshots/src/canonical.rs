//! Canonical form and content hashes.
//!
//! The canonical form sorts everything whose order the cloud does not give meaning to, splits
//! AWS permissions into one rule per peer (as `DescribeSecurityGroupRules` does), merges port
//! ranges and clears CIDR host bits. Three hashes come from it:
//! - `state_hash`: everything, including rule ids; content-addresses the stored state.
//! - `cosmetic_hash`: without cloud-assigned rule ids; differs when a description, name or tag
//!   changed.
//! - `access_hash`: only what decides access; equal hashes mean equal effective access.

use sha2::{Digest, Sha256};

use std::collections::BTreeMap;

use crate::model::{
    Action, Direction, Peer, PortRange, Ports, Protocol, Resource, ResourceKind, Rule, Target,
};

/// Return the canonical form of a resource.
pub fn canonicalize(mut r: Resource) -> Resource {
    let mut rules = Vec::with_capacity(r.rules.len());
    for mut rule in std::mem::take(&mut r.rules) {
        rule.ports = rule.ports.normalized();
        rule.targets.sort();
        rule.targets.dedup();
        if let Some(sp) = rule.source_ports.take() {
            let norm = crate::model::Ports::Ranges { ranges: sp }.normalized();
            rule.source_ports = match norm {
                crate::model::Ports::Ranges { ranges } => Some(ranges),
                _ => None,
            };
        }
        rule.description = rule.description.filter(|d| !d.is_empty());
        rule.peers.sort();
        rule.peers.dedup();
        if r.kind == ResourceKind::AwsSecurityGroup && rule.peers.len() > 1 {
            for peer in std::mem::take(&mut rule.peers) {
                let mut one = rule.clone();
                one.peers = vec![peer];
                rules.push(one);
            }
        } else {
            rule.peers.shrink_to_fit();
            rule.targets.shrink_to_fit();
            rules.push(rule);
        }
    }
    rules.sort();
    rules.dedup();
    rules.shrink_to_fit();
    r.rules = rules;
    r.attachments.sort();
    r.attachments.dedup();
    for nets in r.prefix_lists.values_mut() {
        for n in nets.iter_mut() {
            *n = n.trunc();
        }
        nets.sort();
        nets.dedup();
    }
    if let Some(p) = r.policy.as_mut() {
        p.associations.sort();
        p.associations.dedup();
    }
    if let Some(w) = r.workload.as_deref_mut() {
        use crate::model::Workload;
        match w {
            Workload::AwsInterface(i) => {
                i.groups.sort();
                i.groups.dedup();
                i.private_ipv4.sort();
                i.public_ipv4.sort();
                i.public_ipv4.dedup();
                i.ipv6.sort();
            }
            Workload::AwsSubnet(s) => {
                for n in s.cidrs.iter_mut() {
                    *n = n.trunc();
                }
                s.cidrs.sort();
            }
            Workload::AwsRouteTable(t) => {
                t.subnets.sort();
                t.subnets.dedup();
                t.routes.sort();
            }
            Workload::AzureNic(n) => {
                n.subnets.sort();
                n.subnets.dedup();
                n.public_ips.sort();
                n.public_ips.dedup();
                n.private_ips.sort();
            }
            Workload::AzurePublicIp(_) => {}
            Workload::GcpInstance(g) => {
                g.tags.sort();
                g.tags.dedup();
                g.service_accounts.sort();
                g.service_accounts.dedup();
                for i in g.interfaces.iter_mut() {
                    i.external_ipv4.sort();
                    i.external_ipv6.sort();
                }
            }
        }
    }
    r.description = r.description.filter(|d| !d.is_empty());
    r
}

/// Canonical JSON of an already canonical resource (stable key order: struct order, sorted maps).
pub fn canonical_json(r: &Resource) -> String {
    serde_json::to_string(r).expect("model types always serialize")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of everything in the canonical form: the canonical JSON is hashed as it is written,
/// never held (the hash of [`canonical_json`]'s text).
pub fn state_hash(r: &Resource) -> String {
    let mut w = HashWriter(Sha256::new());
    serde_json::to_writer(&mut w, r).expect("model types always serialize");
    hex::encode(w.0.finalize())
}

/// The state hash of a resource whose [`canonical_json`] is `body`.
pub fn hash_of_body(body: &str) -> String {
    sha256_hex(body.as_bytes())
}

fn strip_ids(r: &Resource) -> Resource {
    let mut c = r.clone();
    for rule in &mut c.rules {
        rule.rule_id = None;
    }
    c.rules.sort();
    c.attachments.clear();
    c.attached = None;
    c
}

/// SHA-256 of the canonical form without cloud-assigned rule ids or attachments.
pub fn cosmetic_hash(r: &Resource) -> String {
    state_hash(&strip_ids(r))
}

/// The part of a rule that decides access.
pub fn access_rule(rule: &Rule) -> Rule {
    let mut a = rule.clone();
    a.name = None;
    a.description = None;
    a.rule_id = None;
    a
}

/// The part of a rule that decides access, borrowed (names, descriptions and ids left out).
#[derive(PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
struct AccessView<'a> {
    direction: Direction,
    priority: Option<u32>,
    action: Action,
    enabled: bool,
    protocol: &'a Protocol,
    ports: &'a Ports,
    peers: &'a [Peer],
    targets: &'a [Target],
    source_ports: &'a Option<Vec<PortRange>>,
    default_rule: bool,
}

fn access_views(r: &Resource) -> Vec<AccessView<'_>> {
    let mut v: Vec<AccessView<'_>> = r
        .rules
        .iter()
        .map(|x| AccessView {
            direction: x.direction,
            priority: x.priority,
            action: x.action,
            enabled: x.enabled,
            protocol: &x.protocol,
            ports: &x.ports,
            peers: &x.peers,
            targets: &x.targets,
            source_ports: &x.source_ports,
            default_rule: x.default_rule,
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The resolved prefix lists the rules use.
fn used_prefix_lists(r: &Resource) -> BTreeMap<&String, &Vec<ipnet::IpNet>> {
    if r.prefix_lists.is_empty() {
        return BTreeMap::new();
    }
    r.prefix_lists
        .iter()
        .filter(|(id, _)| {
            r.rules.iter().any(|ru| {
                ru.peers
                    .iter()
                    .any(|p| matches!(p, Peer::PrefixList(x) if x == *id))
            })
        })
        .collect()
}

/// Whether two resources grant the same access: what `access_hash` covers, compared directly
/// (no serialization, no hashing).
pub fn same_access(a: &Resource, b: &Resource) -> bool {
    a.kind == b.kind
        && a.network == b.network
        && a.policy == b.policy
        && access_views(a) == access_views(b)
        && used_prefix_lists(a) == used_prefix_lists(b)
}

/// `io::Write` into a SHA-256 state.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of what decides access: rules without names, descriptions and ids (sorted,
/// deduplicated), the network they apply in, a policy's placement and the resolved prefix
/// lists the rules use. Streamed into the hash from borrowed views.
pub fn access_hash(r: &Resource) -> String {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        kind: ResourceKind,
        network: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        policy: &'a Option<crate::model::PolicyPlacement>,
        prefix_lists: BTreeMap<&'a String, &'a Vec<ipnet::IpNet>>,
        rules: Vec<AccessView<'a>>,
    }
    let body = Body {
        kind: r.kind,
        network: &r.network,
        policy: &r.policy,
        prefix_lists: used_prefix_lists(r),
        rules: access_views(r),
    };
    let mut w = HashWriter(Sha256::new());
    serde_json::to_writer(&mut w, &body).expect("model types always serialize");
    hex::encode(w.0.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn sg(rules: Vec<Rule>) -> Resource {
        let mut r = Resource::new(ResourceId::new("sg-1"), ResourceKind::AwsSecurityGroup);
        r.rules = rules;
        r
    }
    fn tcp22(peers: Vec<&str>) -> Rule {
        Rule::new(
            Direction::Ingress,
            Action::Allow,
            Protocol::Number(6),
            Ports::Ranges {
                ranges: vec![PortRange { from: 22, to: 22 }],
            },
            peers.into_iter().map(|p| Peer::cidr(p).unwrap()).collect(),
        )
    }

    #[test]
    fn aws_grouping_inside_a_permission_does_not_matter() {
        let grouped = canonicalize(sg(vec![tcp22(vec!["10.0.0.0/8", "192.168.0.0/16"])]));
        let split = canonicalize(sg(vec![
            tcp22(vec!["192.168.0.0/16"]),
            tcp22(vec!["10.0.0.0/8"]),
        ]));
        assert_eq!(state_hash(&grouped), state_hash(&split));
    }

    #[test]
    fn descriptions_are_cosmetic_not_access() {
        let a = canonicalize(sg(vec![tcp22(vec!["10.0.0.0/8"])]));
        let mut rule = tcp22(vec!["10.0.0.0/8"]);
        rule.description = Some("ssh from corp".into());
        let b = canonicalize(sg(vec![rule]));
        assert_eq!(access_hash(&a), access_hash(&b));
        assert_ne!(cosmetic_hash(&a), cosmetic_hash(&b));
    }

    #[test]
    fn rule_ids_change_only_the_state_hash() {
        let a = canonicalize(sg(vec![tcp22(vec!["10.0.0.0/8"])]));
        let mut rule = tcp22(vec!["10.0.0.0/8"]);
        rule.rule_id = Some("sgr-123".into());
        let b = canonicalize(sg(vec![rule]));
        assert_ne!(state_hash(&a), state_hash(&b));
        assert_eq!(cosmetic_hash(&a), cosmetic_hash(&b));
        // The streamed hash is the hash of the stored body, which the store computes apart.
        for r in [&a, &b] {
            assert_eq!(state_hash(r), hash_of_body(&canonical_json(r)));
        }
    }

    #[test]
    fn canonical_form_is_idempotent() {
        let r = canonicalize(sg(vec![
            tcp22(vec!["10.9.9.9/8", "::/0"]),
            tcp22(vec!["1.2.3.4/32"]),
        ]));
        assert_eq!(canonicalize(r.clone()), r);
        assert_eq!(
            r.rules[0].peers[0].clone(),
            Peer::cidr("1.2.3.4/32").unwrap()
        );
    }
}
