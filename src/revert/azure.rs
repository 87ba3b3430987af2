//! Azure: an NSG's security rules (by name, in the item's direction) set back with
//! `securityRules/write` (create or update) or deleted, ordered so that no two rules of a
//! direction hold one priority at once (a swap goes through a free priority next to the
//! rule's own, which changes no order), narrowing first, every intermediate state checked.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use netdrift_snapshots::{
    canonical::access_rule, Action, Direction, Peer, Ports, Protocol, Provider, Resource, Rule,
    Scope, Target,
};

use super::{check, sh, Op, Step};

const WRITE: &str = "Microsoft.Network/networkSecurityGroups/securityRules/write";
const DELETE: &str = "Microsoft.Network/networkSecurityGroups/securityRules/delete";

/// (subscription, resource group, NSG name) of an NSG id.
fn parts(id: &str) -> Result<(String, String, String), String> {
    let seg: Vec<&str> = id.split('/').collect();
    let after = |k: &str| {
        seg.iter()
            .position(|s| s.eq_ignore_ascii_case(k))
            .and_then(|i| seg.get(i + 1))
            .map(|s| s.to_string())
    };
    match (
        after("subscriptions"),
        after("resourcegroups"),
        after("networksecuritygroups"),
    ) {
        (Some(s), Some(g), Some(n)) => Ok((s, g, n)),
        _ => Err(format!("{id} is not a network security group id")),
    }
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::All => "*",
        Protocol::Number(6) => "Tcp",
        Protocol::Number(17) => "Udp",
        Protocol::Number(1) => "Icmp",
        Protocol::Number(50) => "Esp",
        Protocol::Number(51) => "Ah",
        Protocol::Number(_) => "*",
    }
}

fn ranges(p: &Ports) -> Vec<String> {
    match p {
        Ports::Ranges { ranges } => ranges
            .iter()
            .map(|r| {
                if r.from == r.to {
                    r.from.to_string()
                } else {
                    format!("{}-{}", r.from, r.to)
                }
            })
            .collect(),
        _ => vec!["*".into()],
    }
}

/// A security rule's ARM `properties` from the model.
fn properties(r: &Rule) -> Value {
    let inbound = r.direction == Direction::Ingress;
    let (mut remote, mut remote_asg) = (Vec::new(), Vec::new());
    for p in &r.peers {
        match p {
            Peer::Any => remote.push("*".to_string()),
            Peer::Internet => remote.push("Internet".into()),
            Peer::Cidr(c) => remote.push(c.to_string()),
            Peer::ServiceTag(t) => remote.push(t.clone()),
            Peer::AppSecurityGroup(a) => remote_asg.push(json!({"id": a})),
            other => remote.push(other.to_string()),
        }
    }
    let (mut local, mut local_asg) = (Vec::new(), Vec::new());
    for t in &r.targets {
        match t {
            Target::Cidr(c) => local.push(c.to_string()),
            Target::ServiceTag(s) => local.push(s.clone()),
            Target::AppSecurityGroup(a) => local_asg.push(json!({"id": a})),
            _ => {}
        }
    }
    if local.is_empty() && local_asg.is_empty() {
        local.push("*".into());
    }
    let (src, src_asg, dst, dst_asg) = if inbound {
        (remote, remote_asg, local, local_asg)
    } else {
        (local, local_asg, remote, remote_asg)
    };
    let mut p = Map::new();
    p.insert("protocol".into(), json!(protocol(r.protocol)));
    p.insert(
        "access".into(),
        json!(if r.action == Action::Deny {
            "Deny"
        } else {
            "Allow"
        }),
    );
    p.insert(
        "direction".into(),
        json!(if inbound { "Inbound" } else { "Outbound" }),
    );
    p.insert("priority".into(), json!(r.priority.unwrap_or(4096)));
    let sp = r.source_ports.as_ref().map_or(vec!["*".to_string()], |v| {
        ranges(&Ports::Ranges { ranges: v.clone() })
    });
    let dp = if protocol(r.protocol) == "Icmp" {
        vec!["*".into()]
    } else {
        ranges(&r.ports)
    };
    let one_or_many = |p: &mut Map<String, Value>, single: &str, plural: &str, v: Vec<String>| {
        if v.len() == 1 {
            p.insert(single.into(), json!(v[0]));
        } else if !v.is_empty() {
            p.insert(plural.into(), json!(v));
        }
    };
    one_or_many(&mut p, "sourcePortRange", "sourcePortRanges", sp);
    one_or_many(&mut p, "destinationPortRange", "destinationPortRanges", dp);
    one_or_many(&mut p, "sourceAddressPrefix", "sourceAddressPrefixes", src);
    one_or_many(
        &mut p,
        "destinationAddressPrefix",
        "destinationAddressPrefixes",
        dst,
    );
    if !src_asg.is_empty() {
        p.insert(
            "sourceApplicationSecurityGroups".into(),
            Value::Array(src_asg),
        );
    }
    if !dst_asg.is_empty() {
        p.insert(
            "destinationApplicationSecurityGroups".into(),
            Value::Array(dst_asg),
        );
    }
    if let Some(d) = &r.description {
        p.insert("description".into(), json!(d));
    }
    Value::Object(p)
}

fn az_flags(props: &Value) -> String {
    let words = |single: &str, plural: &str| -> String {
        match (props.get(single), props.get(plural)) {
            (Some(v), _) => sh(v.as_str().unwrap_or("*")),
            (None, Some(Value::Array(a))) => a
                .iter()
                .filter_map(Value::as_str)
                .map(sh)
                .collect::<Vec<_>>()
                .join(" "),
            _ => "'*'".into(),
        }
    };
    format!(
        " --priority {} --direction {} --access {} --protocol {} --source-address-prefixes {} --source-port-ranges {} --destination-address-prefixes {} --destination-port-ranges {}",
        props["priority"],
        props["direction"].as_str().unwrap_or(""),
        props["access"].as_str().unwrap_or(""),
        sh(props["protocol"].as_str().unwrap_or("*")),
        words("sourceAddressPrefix", "sourceAddressPrefixes"),
        words("sourcePortRange", "sourcePortRanges"),
        words("destinationAddressPrefix", "destinationAddressPrefixes"),
        words("destinationPortRange", "destinationPortRanges"),
    )
}

enum Planned {
    Write {
        name: String,
        rule: Rule,
        existed: bool,
        temporary: bool,
    },
    Delete {
        name: String,
        rule: Rule,
    },
}

pub(super) fn nsg(
    scope: &Scope,
    direction: Direction,
    baseline: Option<&Resource>,
    actual: Option<&Resource>,
) -> Result<Vec<Step>, String> {
    let (Some(actual), Some(baseline)) = (actual, baseline) else {
        return Err(match actual {
            None => "the network security group was deleted: recreate it from the baseline (`netdrift baseline export`) and attach it again".into(),
            Some(_) => "the network security group was not approved: there is no approved state to restore; approve it or delete it".into(),
        });
    };
    let (sub, group, nsg) = parts(actual.id.as_str())?;
    let named = |r: &Resource| -> BTreeMap<String, Rule> {
        r.rules
            .iter()
            .filter(|x| x.direction == direction && !x.default_rule)
            .filter_map(|x| x.name.clone().map(|n| (n.to_ascii_lowercase(), x.clone())))
            .collect()
    };
    let (a, b) = (named(actual), named(baseline));
    let mut plan = Vec::new();
    // Deletions of what was added: allows first (they narrow), denies last.
    let mut deny_deletes = Vec::new();
    for (k, x) in &a {
        if !b.contains_key(k) {
            let d = Planned::Delete {
                name: x.name.clone().unwrap_or_default(),
                rule: x.clone(),
            };
            if x.action == Action::Deny {
                deny_deletes.push(d)
            } else {
                plan.push(d)
            }
        }
    }
    // Writes, each waiting until its approved priority is free.
    let mut pending: Vec<(String, Rule, bool)> = b
        .iter()
        .filter(|(k, y)| a.get(*k).map(access_rule) != Some(access_rule(y)))
        .map(|(k, y)| (k.clone(), y.clone(), a.contains_key(k)))
        .collect();
    // Narrowing first: approved denies, then the rest.
    pending.sort_by_key(|(k, y, _)| (y.action != Action::Deny, k.clone()));
    let mut held: BTreeMap<String, u32> = a
        .iter()
        .filter(|(k, _)| b.contains_key(*k))
        .filter_map(|(k, x)| x.priority.map(|p| (k.clone(), p)))
        .collect();
    let mut current: BTreeMap<String, Rule> = a.clone();
    while !pending.is_empty() {
        let free = pending.iter().position(|(k, y, _)| {
            let p = y.priority.unwrap_or(0);
            !held.iter().any(|(o, q)| o != k && *q == p)
        });
        match free {
            Some(i) => {
                let (k, y, existed) = pending.remove(i);
                held.insert(k.clone(), y.priority.unwrap_or(0));
                current.insert(k.clone(), y.clone());
                plan.push(Planned::Write {
                    name: y.name.clone().unwrap_or(k),
                    rule: y,
                    existed,
                    temporary: false,
                });
            }
            None => {
                // A cycle (a swap): move the first one to a free priority next to its own.
                let (k, _, _) = &pending[0];
                let Some(x) = current.get(k).cloned() else {
                    return Err("rules hold each other's priorities and one cannot be moved".into());
                };
                let cur = x.priority.unwrap_or(0);
                let taken: Vec<u32> = actual
                    .rules
                    .iter()
                    .chain(baseline.rules.iter())
                    .filter(|r| r.direction == direction)
                    .filter_map(|r| r.priority)
                    .collect();
                let next = taken
                    .iter()
                    .copied()
                    .filter(|&p| p > cur)
                    .min()
                    .unwrap_or(4097);
                let prev = taken
                    .iter()
                    .copied()
                    .filter(|&p| p < cur)
                    .max()
                    .unwrap_or(99);
                let Some(t) = (cur + 1..next)
                    .chain((prev + 1..cur).rev())
                    .find(|p| (100..=4096).contains(p))
                else {
                    return Err(format!("no free priority next to {cur} to swap through; set the priorities back by hand"));
                };
                let mut moved = x.clone();
                moved.priority = Some(t);
                held.insert(k.clone(), t);
                current.insert(k.clone(), moved.clone());
                plan.push(Planned::Write {
                    name: x.name.clone().unwrap_or(k.clone()),
                    rule: moved,
                    existed: true,
                    temporary: true,
                });
            }
        }
    }
    plan.extend(deny_deletes);
    // Simulate on the model before anything is said.
    let mut ops = Vec::new();
    let mut now: BTreeMap<String, Rule> = a.clone();
    for p in &plan {
        match p {
            Planned::Delete { name, rule } => {
                ops.push(Op::Remove(rule.clone()));
                now.remove(&name.to_ascii_lowercase());
            }
            Planned::Write { name, rule, .. } => {
                if let Some(old) = now.insert(name.to_ascii_lowercase(), rule.clone()) {
                    ops.push(Op::Remove(old));
                }
                ops.push(Op::Add(rule.clone()));
            }
        }
    }
    check(actual, baseline, direction, &ops)?;
    let base = format!(
        "--subscription {} --resource-group {} --nsg-name {}",
        sh(&sub),
        sh(&group),
        sh(&nsg)
    );
    let params = |name: &str| json!({"subscriptionId": sub, "resourceGroupName": group, "networkSecurityGroupName": nsg, "securityRuleName": name});
    Ok(plan
        .into_iter()
        .map(|p| match p {
            Planned::Delete { name, .. } => Step {
                provider: Provider::Azure,
                scope: scope.key(),
                region: None,
                call: DELETE.into(),
                params: params(&name),
                why: format!("delete {name}: it is not in the approved baseline"),
                command: format!("az network nsg rule delete {base} --name {}", sh(&name)),
            },
            Planned::Write { name, rule, existed, temporary } => {
                let props = properties(&rule);
                let mut q = params(&name);
                q["body"] = json!({"properties": props});
                Step {
                    provider: Provider::Azure,
                    scope: scope.key(),
                    region: None,
                    call: WRITE.into(),
                    why: if temporary {
                        format!("move {name} to the free priority {} for a moment (no order changes), so that the rule whose approved priority it holds can take it", rule.priority.unwrap_or(0))
                    } else if existed {
                        format!("set {name} back to the approved rule")
                    } else {
                        format!("create {name} again as approved: it was deleted")
                    },
                    command: format!(
                        "az network nsg rule {} {base} --name {}{}",
                        if existed { "update" } else { "create" },
                        sh(&name),
                        az_flags(&props)
                    ),
                    params: q,
                }
            }
        })
        .collect())
}
