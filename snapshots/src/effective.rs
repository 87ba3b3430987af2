//! Effective access of an evaluation unit, honouring each cloud's evaluation rules.
//!
//! An evaluation unit is one resource (security group, network ACL, NSG) or, for GCP, every
//! firewall rule of one VPC network (GCP rules interact across resources through priority).
//! Access is computed per direction and per target class: the instances with a given target tag
//! or service account (GCP), or a given destination (Azure), plus the class of "every other
//! instance" (`None`).

use std::collections::{BTreeMap, BTreeSet};

use crate::access::{evaluate, rule_boxes, AccessBox, AccessSet};
use crate::model::{
    Action, Direction, Peer, PortRange, Ports, Protocol, Resource, ResourceKind, Rule, Semantics,
    Target,
};

/// Access per direction and target class (`None` = instances no target selects).
pub type TargetedAccess = BTreeMap<Option<Target>, AccessSet>;

/// A rule together with the resource it belongs to (for prefix lists).
pub type UnitRule<'a> = (&'a Rule, &'a Resource);

/// The target classes mentioned by rules: every distinct target plus `None`.
pub fn target_classes<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> BTreeSet<Option<Target>> {
    let mut classes: BTreeSet<Option<Target>> = BTreeSet::new();
    classes.insert(None);
    for r in rules {
        for t in &r.targets {
            classes.insert(Some(t.clone()));
        }
    }
    classes
}

/// Whether a rule applies to the instances (or destination addresses) of a target class. A
/// destination range applies to every address it *contains* (Azure
/// `destinationAddressPrefix(es)`, GCP ingress `destinationRanges`), so a class naming a
/// narrower range is covered by a rule naming a wider one. CIDRs are nested or disjoint, so a
/// class `c` stands for the addresses of `c` that no narrower class names, and the rules that
/// decide them are exactly those whose range contains `c`.
fn applies_to(rule: &Rule, class: &Option<Target>) -> bool {
    if rule.targets.is_empty() {
        return true;
    }
    match class {
        None => false,
        Some(Target::Cidr(c)) => rule.targets.iter().any(|t| match t {
            Target::Cidr(t) => t.contains(c),
            _ => false,
        }),
        Some(c) => rule.targets.contains(c),
    }
}

/// Evaluation order: priority ascending (unordered rules last-equal), deny before allow at equal
/// priority; implied and default rules carry their documented priorities.
fn order_key(rule: &Rule) -> (u32, u8) {
    let rank = match rule.action {
        Action::Deny => 0,
        Action::Allow => 1,
        Action::GotoNext => 2,
    };
    (rule.priority.unwrap_or(0), rank)
}

/// Whether a rule takes part in evaluation. Disabled rules never do. An Azure rule restricted to
/// particular source ports is ignored when it denies (it cannot be relied on to block the
/// traffic we model) and treated as unrestricted when it allows: both err on the side of
/// reporting exposure.
fn participates(rule: &Rule) -> bool {
    if !rule.enabled {
        return false;
    }
    if rule.action == Action::Deny {
        if let Some(sp) = &rule.source_ports {
            return sp.is_empty() || sp == &[PortRange::ALL];
        }
    }
    true
}

/// Compute effective access for one unit, for the given direction and target classes.
pub fn unit_access(
    rules: &[UnitRule<'_>],
    semantics: Semantics,
    direction: Direction,
    classes: &BTreeSet<Option<Target>>,
) -> TargetedAccess {
    let mut ordered: Vec<UnitRule<'_>> = rules
        .iter()
        .copied()
        .filter(|(r, _)| r.direction == direction && participates(r))
        .collect();
    if semantics == Semantics::FirstMatch {
        ordered.sort_by_key(|(r, _)| order_key(r));
    }
    let boxes: Vec<(Vec<AccessBox>, &Rule)> = ordered
        .iter()
        .map(|(r, res)| (rule_boxes(r, res), *r))
        .collect();
    let mut out = TargetedAccess::new();
    for class in classes {
        let flat: Vec<&AccessBox> = boxes
            .iter()
            .filter(|(_, r)| applies_to(r, class))
            .flat_map(|(b, _)| b.iter())
            .filter(|b| semantics == Semantics::FirstMatch || b.allow)
            .collect();
        out.insert(class.clone(), evaluate(&flat));
    }
    out
}

/// Effective access through several levels evaluated in turn (GCP: hierarchical policies, then a
/// network's firewall rules and network policies, then the implied rules). Within a level the
/// first matching rule decides: `allow` and `deny` end evaluation, `goto_next` hands the
/// traffic to the next level, and traffic no rule of the level matches goes on too.
pub fn layered_access(
    levels: &[Vec<UnitRule<'_>>],
    direction: Direction,
    classes: &BTreeSet<Option<Target>>,
) -> TargetedAccess {
    let mut out = TargetedAccess::new();
    let ordered: Vec<Vec<(Vec<AccessBox>, &Rule)>> = levels
        .iter()
        .map(|level| {
            let mut rules: Vec<UnitRule<'_>> = level
                .iter()
                .copied()
                .filter(|(r, _)| r.direction == direction && participates(r))
                .collect();
            rules.sort_by_key(|(r, _)| order_key(r));
            rules
                .iter()
                .map(|(r, res)| (rule_boxes(r, res), *r))
                .collect()
        })
        .collect();
    // Without `goto_next`, a rule that matches always decides, so evaluating the levels in turn
    // is one first-match pass over their rules in level order.
    let passes = ordered
        .iter()
        .flatten()
        .any(|(_, r)| r.action == Action::GotoNext);
    if !passes {
        for class in classes {
            let flat: Vec<&AccessBox> = ordered
                .iter()
                .flatten()
                .filter(|(_, r)| applies_to(r, class))
                .flat_map(|(b, _)| b.iter())
                .collect();
            out.insert(class.clone(), evaluate(&flat));
        }
        return out;
    }
    for class in classes {
        let mut allowed = AccessSet::default();
        let mut decided = AccessSet::default();
        for level in &ordered {
            let applicable: Vec<(&AccessBox, Action)> = level
                .iter()
                .filter(|(_, r)| applies_to(r, class))
                .flat_map(|(b, r)| b.iter().map(move |bx| (bx, r.action)))
                .collect();
            if applicable.is_empty() {
                continue;
            }
            // Allowed here: first match is an allow. Final here: first match allows or denies.
            let with = |f: &dyn Fn(Action) -> bool| -> Vec<AccessBox> {
                applicable
                    .iter()
                    .map(|(bx, a)| {
                        let mut b = (*bx).clone();
                        b.allow = f(*a);
                        b
                    })
                    .collect()
            };
            let here = evaluate(&with(&|a| a == Action::Allow));
            let fin = evaluate(&with(&|a| a != Action::GotoNext));
            allowed = allowed.union(&here.difference(&decided));
            decided = decided.union(&fin);
        }
        out.insert(class.clone(), allowed);
    }
    out
}

fn world_rule(direction: Direction, action: Action, priority: u32) -> Rule {
    let mut r = Rule::new(
        direction,
        action,
        Protocol::All,
        Ports::All,
        vec![
            Peer::cidr("0.0.0.0/0").expect("static"),
            Peer::cidr("::/0").expect("static"),
        ],
    );
    r.priority = Some(priority);
    r.default_rule = true;
    r
}

/// Rules every unit of this kind has without saying so: GCP's implied allow-all egress and
/// deny-all ingress at priority 65535 (evaluated after every listed rule).
pub fn implied_rules(kind: ResourceKind) -> Vec<Rule> {
    match kind {
        ResourceKind::GcpFirewallRule | ResourceKind::GcpFirewallPolicy => vec![
            world_rule(Direction::Egress, Action::Allow, 65536),
            world_rule(Direction::Ingress, Action::Deny, 65536),
        ],
        _ => Vec::new(),
    }
}

/// The rules a new resource of this kind starts with: the state a newly created resource is
/// compared against, so that only what someone added is reported.
pub fn fresh_template(kind: ResourceKind) -> Vec<Rule> {
    match kind {
        // New security groups allow all egress to 0.0.0.0/0.
        ResourceKind::AwsSecurityGroup => {
            let mut r = Rule::new(
                Direction::Egress,
                Action::Allow,
                Protocol::All,
                Ports::All,
                vec![Peer::cidr("0.0.0.0/0").expect("static")],
            );
            r.priority = None;
            vec![r]
        }
        ResourceKind::AzureNsg => azure_default_rules(),
        _ => Vec::new(),
    }
}

/// Azure's six default security rules.
pub fn azure_default_rules() -> Vec<Rule> {
    // The local side of these rules is `VirtualNetwork` or `*`: every NIC behind an NSG is in a
    // virtual network, so neither narrows the target.
    let mk = |name: &str, dir: Direction, action: Action, prio: u32, peer: Peer| {
        let mut r = Rule::new(dir, action, Protocol::All, Ports::All, vec![peer]);
        r.priority = Some(prio);
        r.default_rule = true;
        r.name = Some(name.to_string());
        r
    };
    let vnet = || Peer::ServiceTag("VirtualNetwork".into());
    vec![
        mk(
            "AllowVnetInBound",
            Direction::Ingress,
            Action::Allow,
            65000,
            vnet(),
        ),
        mk(
            "AllowAzureLoadBalancerInBound",
            Direction::Ingress,
            Action::Allow,
            65001,
            Peer::ServiceTag("AzureLoadBalancer".into()),
        ),
        mk(
            "DenyAllInBound",
            Direction::Ingress,
            Action::Deny,
            65500,
            Peer::Any,
        ),
        mk(
            "AllowVnetOutBound",
            Direction::Egress,
            Action::Allow,
            65000,
            vnet(),
        ),
        mk(
            "AllowInternetOutBound",
            Direction::Egress,
            Action::Allow,
            65001,
            Peer::Internet,
        ),
        mk(
            "DenyAllOutBound",
            Direction::Egress,
            Action::Deny,
            65500,
            Peer::Any,
        ),
    ]
}
