//! The semantic diff between an approved state and the actual state of one scope.
//!
//! Differences are computed on effective access, never on rule text: reordering, splitting or
//! regrouping rules is no drift; a widened rule is one change that expands; a removed deny that
//! exposes a lower-priority allow expands. Resources whose access hash did not change cost no
//! evaluation.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::access::{evaluate, rule_boxes, AccessEntry, AccessSet};
use crate::canonical::{cosmetic_hash, same_access, state_hash};
use crate::effective::{
    fresh_template, implied_rules, layered_access, target_classes, unit_access, TargetedAccess,
    UnitRule,
};
use crate::model::{Direction, PolicyLevel, Resource, ResourceId, ResourceKind, Rule, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Modified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Expands,
    Mixed,
    Narrows,
    Cosmetic,
    None,
}

/// What changed for one resource in one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDiff {
    pub resource: ResourceId,
    pub kind: ResourceKind,
    pub name: Option<String>,
    pub network: Option<String>,
    pub change: Change,
    pub direction: Direction,
    pub effect: Effect,
    pub newly_allowed: TargetedAccess,
    pub newly_denied: TargetedAccess,
    /// Part of the newly allowed traffic that is now open to the whole public address space.
    pub world: bool,
    /// Part of the newly allowed traffic comes from (or goes to) public addresses.
    pub public: bool,
    /// Protocol × ports the approved state already allowed in this direction (any address).
    pub baseline_footprint: AccessSet,
    pub attached: Option<bool>,
    /// GCP rules that this one replaced (a removal and an addition that are one change).
    pub replaces: Vec<ResourceId>,
    pub notes: Vec<String>,
    pub baseline_state: Option<String>,
    pub actual_state: Option<String>,
}

impl ResourceDiff {
    /// Readable entries of the newly allowed traffic, merged across target classes.
    pub fn allowed_entries(&self) -> Vec<AccessEntry> {
        entries(&self.newly_allowed)
    }
    pub fn denied_entries(&self) -> Vec<AccessEntry> {
        entries(&self.newly_denied)
    }
    /// All newly allowed traffic regardless of target.
    pub fn allowed_union(&self) -> AccessSet {
        self.newly_allowed
            .values()
            .fold(AccessSet::default(), |acc, s| acc.union(s))
    }
}

/// Render targeted access as entries; what holds for every instance is not repeated per target.
pub fn entries(t: &TargetedAccess) -> Vec<AccessEntry> {
    let general: BTreeSet<AccessEntry> = t
        .get(&None)
        .map(|s| s.render().into_iter().collect())
        .unwrap_or_default();
    let mut out: Vec<AccessEntry> = general.iter().cloned().collect();
    for (class, set) in t {
        let Some(target) = class else { continue };
        for e in set.render() {
            if !general.contains(&e) {
                out.push(AccessEntry {
                    target: Some(target.to_string()),
                    ..e
                });
            }
        }
    }
    out
}

/// Diff one scope. `uncollected` lists resource kinds the actual snapshot could not read: their
/// absence is never reported as removal.
pub fn diff_scope(
    baseline: &[Resource],
    actual: &[Resource],
    uncollected: &BTreeSet<ResourceKind>,
) -> Vec<ResourceDiff> {
    let mut out = Vec::new();
    // A sorted merge of both sides by id: no map is built for the (usually many) resources
    // that did not change.
    let mut before: Vec<&Resource> = baseline.iter().collect();
    let mut after: Vec<&Resource> = actual.iter().collect();
    before.sort_unstable_by(|x, y| x.id.cmp(&y.id));
    after.sort_unstable_by(|x, y| x.id.cmp(&y.id));
    // GCP firewall rules and policies interact across resources (priority, evaluation levels):
    // they are diffed together, per VPC network.
    let mut gcp_pairs: Vec<GcpPair<'_>> = Vec::new();
    let mut gcp_changed = false;
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        let (b, a) = match (before.get(i), after.get(j)) {
            (Some(x), Some(y)) => match x.id.cmp(&y.id) {
                std::cmp::Ordering::Less => (Some(*x), None),
                std::cmp::Ordering::Greater => (None, Some(*y)),
                std::cmp::Ordering::Equal => (Some(*x), Some(*y)),
            },
            (Some(x), None) => (Some(*x), None),
            (None, Some(y)) => (None, Some(*y)),
            (None, None) => break,
        };
        i += b.is_some() as usize;
        j += a.is_some() as usize;
        let kind = a.or(b).map(|r| r.kind).expect("one side exists");
        if a.is_none() && uncollected.contains(&kind) {
            // Not read this time: assumed unchanged. GCP resources still take part in the
            // evaluation of the others (a hierarchical deny that could not be read still holds).
            if let (Some(x), true) = (
                b,
                matches!(
                    kind,
                    ResourceKind::GcpFirewallRule | ResourceKind::GcpFirewallPolicy
                ),
            ) {
                gcp_pairs.push((Some(x), Some(x), true));
            }
            continue;
        }
        if matches!(
            kind,
            ResourceKind::GcpFirewallRule | ResourceKind::GcpFirewallPolicy
        ) {
            let same = matches!((b, a), (Some(x), Some(y)) if identical(x, y));
            gcp_changed |= !same;
            gcp_pairs.push((b, a, same));
            continue;
        }
        if let (Some(x), Some(y)) = (b, a) {
            if identical(x, y) {
                continue;
            }
        }
        out.extend(diff_resource(b, a));
    }
    if gcp_changed {
        out.extend(diff_gcp(&gcp_pairs));
    }
    out
}

fn with_implied(kind: ResourceKind, rules: &[Rule]) -> Vec<Rule> {
    let mut v = rules.to_vec();
    v.extend(implied_rules(kind));
    v
}

fn cosmetic_rules(rules: &[Rule], dir: Direction) -> Vec<Rule> {
    let mut v: Vec<Rule> = rules
        .iter()
        .filter(|r| r.direction == dir)
        .map(|r| Rule {
            rule_id: None,
            ..r.clone()
        })
        .collect();
    v.sort();
    v
}

fn header_changed(b: &Resource, a: &Resource) -> bool {
    b.name != a.name || b.description != a.description || b.tags != a.tags
}

fn subtract(a: &TargetedAccess, b: &TargetedAccess) -> TargetedAccess {
    let empty = AccessSet::default();
    let classes: BTreeSet<&Option<Target>> = a.keys().chain(b.keys()).collect();
    classes
        .into_iter()
        .filter_map(|c| {
            let d = a
                .get(c)
                .unwrap_or(&empty)
                .difference(b.get(c).unwrap_or(&empty));
            (!d.is_empty()).then(|| (c.clone(), d))
        })
        .collect()
}

fn effect_of(allowed: &TargetedAccess, denied: &TargetedAccess) -> Effect {
    match (allowed.is_empty(), denied.is_empty()) {
        (false, true) => Effect::Expands,
        (true, false) => Effect::Narrows,
        (false, false) => Effect::Mixed,
        (true, true) => Effect::None,
    }
}

fn footprint(access: &TargetedAccess) -> AccessSet {
    access
        .values()
        .fold(AccessSet::default(), |acc, s| acc.union(&s.footprint()))
}

/// `world`: this change, together with what was already approved, opens some of the newly
/// allowed traffic to the whole public address space. (Another rule opening the same port at
/// the same time does not make a private widening world-open.) `public`: some newly allowed
/// traffic comes from or goes to public addresses.
fn exposure(allowed: &TargetedAccess, baseline: &TargetedAccess) -> (bool, bool) {
    let mut world = false;
    let mut public = false;
    let empty = AccessSet::default();
    for (class, set) in allowed {
        public |= set.cells().any(|(_, _, _, _, a)| a.touches_public());
        if world {
            continue;
        }
        let reach = set.union(baseline.get(class).unwrap_or(&empty));
        // A newly allowed cell overlapping a reach cell that covers the public space.
        world = reach
            .cells()
            .filter(|c| c.4.covers_world())
            .any(|(plo, phi, qlo, qhi, _)| {
                set.cells().any(|(p2lo, p2hi, q2lo, q2hi, _)| {
                    plo <= p2hi && p2lo <= phi && qlo <= q2hi && q2lo <= qhi
                })
            });
    }
    (world, public)
}

struct Sides<'a> {
    before: Option<&'a Resource>,
    after: Option<&'a Resource>,
    hashes: std::cell::OnceCell<(Option<String>, Option<String>)>,
}

impl<'a> Sides<'a> {
    fn new(before: Option<&'a Resource>, after: Option<&'a Resource>) -> Sides<'a> {
        Sides {
            before,
            after,
            hashes: std::cell::OnceCell::new(),
        }
    }
    /// State hashes, computed once per resource however many items it yields.
    fn hashes(&self) -> &(Option<String>, Option<String>) {
        self.hashes
            .get_or_init(|| (self.before.map(state_hash), self.after.map(state_hash)))
    }
    fn any(&self) -> &Resource {
        self.after.or(self.before).expect("one side exists")
    }
    fn change(&self) -> Change {
        match (self.before, self.after) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ => Change::Modified,
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn item(
        &self,
        direction: Direction,
        effect: Effect,
        newly_allowed: TargetedAccess,
        newly_denied: TargetedAccess,
        baseline: &TargetedAccess,
        notes: Vec<String>,
    ) -> ResourceDiff {
        let (world, public) = exposure(&newly_allowed, baseline);
        let r = self.any();
        ResourceDiff {
            resource: r.id.clone(),
            kind: r.kind,
            name: r.name.clone(),
            network: r.network.clone(),
            change: self.change(),
            direction,
            effect,
            newly_allowed,
            newly_denied,
            world,
            public,
            baseline_footprint: footprint(baseline),
            attached: self.after.and_then(|a| a.attached),
            replaces: Vec::new(),
            notes,
            baseline_state: self.hashes().0.clone(),
            actual_state: self.hashes().1.clone(),
        }
    }
}

/// Cheap check before hashing: structurally identical resources (the common case) differ in
/// nothing.
fn identical(b: &Resource, a: &Resource) -> bool {
    b == a
}

/// Diff one self-contained resource (security group, network ACL, NSG).
pub fn diff_resource(before: Option<&Resource>, after: Option<&Resource>) -> Vec<ResourceDiff> {
    let sides = Sides::new(before, after);
    let kind = sides.any().kind;
    if let (Some(b), Some(a)) = (before, after) {
        if identical(b, a) {
            return Vec::new();
        }
        if same_access(b, a) {
            if cosmetic_hash(b) == cosmetic_hash(a) {
                return Vec::new();
            }
            return cosmetic_items(&sides, b, a);
        }
    }
    let before_rules = match before {
        Some(b) => with_implied(kind, &b.rules),
        None => with_implied(kind, &fresh_template(kind)),
    };
    let after_rules = match after {
        Some(a) => with_implied(kind, &a.rules),
        None => Vec::new(),
    };
    let context = sides.any();
    let b_unit: Vec<UnitRule<'_>> = before_rules
        .iter()
        .map(|r| (r, before.unwrap_or(context)))
        .collect();
    let a_unit: Vec<UnitRule<'_>> = after_rules.iter().map(|r| (r, context)).collect();
    let classes = target_classes(before_rules.iter().chain(after_rules.iter()));
    let mut out = Vec::new();
    for dir in [Direction::Ingress, Direction::Egress] {
        let b_acc = unit_access(&b_unit, kind.semantics(), dir, &classes);
        let a_acc = unit_access(&a_unit, kind.semantics(), dir, &classes);
        let allowed = subtract(&a_acc, &b_acc);
        let denied = subtract(&b_acc, &a_acc);
        let effect = effect_of(&allowed, &denied);
        let cosmetic = match (before, after) {
            (Some(b), Some(a)) => {
                cosmetic_rules(&b.rules, dir) != cosmetic_rules(&a.rules, dir)
                    || (dir == Direction::Ingress && header_changed(b, a))
            }
            _ => false,
        };
        if effect != Effect::None {
            out.push(sides.item(dir, effect, allowed, denied, &b_acc, Vec::new()));
        } else if cosmetic && sides.change() == Change::Modified {
            // Rules rewritten with identical access: only descriptions or names count.
            let b = before.expect("modified");
            let a = after.expect("modified");
            let only_text = cosmetic_rules(&b.rules, dir)
                .iter()
                .map(crate::canonical::access_rule)
                .collect::<Vec<_>>()
                == cosmetic_rules(&a.rules, dir)
                    .iter()
                    .map(crate::canonical::access_rule)
                    .collect::<Vec<_>>();
            if only_text || (dir == Direction::Ingress && header_changed(b, a)) {
                out.push(sides.item(
                    dir,
                    Effect::Cosmetic,
                    allowed,
                    denied,
                    &b_acc,
                    vec!["descriptions, names or tags changed".into()],
                ));
            }
        }
    }
    if out.is_empty() && sides.change() != Change::Modified {
        let note = match sides.change() {
            Change::Added => "new resource that allows nothing beyond the defaults",
            _ => "deleted resource that allowed nothing beyond the defaults",
        };
        let empty = TargetedAccess::new();
        out.push(sides.item(
            Direction::Ingress,
            Effect::Cosmetic,
            empty.clone(),
            empty.clone(),
            &empty,
            vec![note.into()],
        ));
    }
    out
}

fn cosmetic_items(sides: &Sides<'_>, b: &Resource, a: &Resource) -> Vec<ResourceDiff> {
    let empty = TargetedAccess::new();
    let mut out = Vec::new();
    for dir in [Direction::Ingress, Direction::Egress] {
        let rules_changed = cosmetic_rules(&b.rules, dir) != cosmetic_rules(&a.rules, dir);
        if rules_changed || (dir == Direction::Ingress && header_changed(b, a)) {
            let note = if rules_changed {
                "rule descriptions or names changed"
            } else {
                "resource name, description or tags changed"
            };
            out.push(sides.item(
                dir,
                Effect::Cosmetic,
                empty.clone(),
                empty.clone(),
                &empty,
                vec![note.into()],
            ));
        }
    }
    out
}

/// The VPC networks a GCP resource bears on: a firewall rule its own network, a network
/// policy the networks it is associated with, a hierarchical policy every network.
fn gcp_networks_of<'a>(
    r: &'a Resource,
    all: &BTreeSet<Option<&'a str>>,
) -> BTreeSet<Option<&'a str>> {
    match &r.policy {
        None => [r.network.as_deref()].into_iter().collect(),
        Some(p) => match p.level {
            PolicyLevel::Hierarchical { .. } => all.clone(),
            _ => p
                .associations
                .iter()
                .map(|a| Some(a.target.as_str()))
                .collect(),
        },
    }
}

/// A GCP resource on both sides (paired by id) and whether the two are identical.
type GcpPair<'a> = (Option<&'a Resource>, Option<&'a Resource>, bool);

/// One side of a GCP scope: firewall rules by network, and the firewall policies.
struct GcpSide<'a> {
    rules: BTreeMap<Option<&'a str>, Vec<&'a Resource>>,
    policies: Vec<&'a Resource>,
}

impl<'a> GcpSide<'a> {
    fn new(side: &[&'a Resource]) -> GcpSide<'a> {
        let mut out = GcpSide {
            rules: BTreeMap::new(),
            policies: Vec::new(),
        };
        for r in side {
            match r.policy {
                None => out.rules.entry(r.network.as_deref()).or_default().push(*r),
                Some(_) => out.policies.push(*r),
            }
        }
        out
    }
}

/// The evaluation levels of one VPC network, in order, with firewall-policy rule targets
/// resolved for that network (`targetResources` naming another network drop out).
fn gcp_levels<'a>(
    side: &GcpSide<'a>,
    network: Option<&'a str>,
    implied: &'a [Rule],
    anchor: &'a Resource,
) -> Vec<Vec<(Cow<'a, Rule>, &'a Resource)>> {
    let for_network = |r: &'a Resource| -> Vec<(Cow<'a, Rule>, &'a Resource)> {
        r.rules
            .iter()
            .filter_map(|rule| {
                let nets: Vec<&String> = rule
                    .targets
                    .iter()
                    .filter_map(|t| match t {
                        Target::Network(n) => Some(n),
                        _ => None,
                    })
                    .collect();
                if nets.is_empty() {
                    return Some((Cow::Borrowed(rule), r));
                }
                if !nets.iter().any(|n| Some(n.as_str()) == network) {
                    return None;
                }
                let mut x = rule.clone();
                x.targets.retain(|t| !matches!(t, Target::Network(_)));
                Some((Cow::Owned(x), r))
            })
            .collect()
    };
    let mut hierarchical: Vec<(u32, &'a Resource)> = Vec::new();
    let mut global: Vec<&'a Resource> = Vec::new();
    let mut regional: Vec<&'a Resource> = Vec::new();
    let mut vpc: Vec<(Cow<'a, Rule>, &'a Resource)> = Vec::new();
    let mut before_classic = false;
    for r in side.rules.get(&network).into_iter().flatten() {
        vpc.extend(r.rules.iter().map(|x| (Cow::Borrowed(x), *r)));
    }
    for r in &side.policies {
        match &r.policy {
            None => {}
            Some(p) => match &p.level {
                PolicyLevel::Hierarchical { depth } => hierarchical.push((*depth, r)),
                level => {
                    let Some(assoc) = p
                        .associations
                        .iter()
                        .find(|a| Some(a.target.as_str()) == network)
                    else {
                        continue;
                    };
                    before_classic |= assoc.before_classic;
                    match level {
                        PolicyLevel::Network => global.push(r),
                        _ => regional.push(r),
                    }
                }
            },
        }
    }
    hierarchical.sort_by_key(|(d, r)| (*d, r.id.clone()));
    let mut levels: Vec<Vec<(Cow<'a, Rule>, &'a Resource)>> = hierarchical
        .into_iter()
        .map(|(_, r)| for_network(r))
        .collect();
    let network_policies: Vec<Vec<(Cow<'a, Rule>, &'a Resource)>> = global
        .into_iter()
        .chain(regional)
        .map(for_network)
        .collect();
    if before_classic {
        levels.extend(network_policies);
        levels.push(vpc);
    } else {
        levels.push(vpc);
        levels.extend(network_policies);
    }
    levels.push(implied.iter().map(|r| (Cow::Borrowed(r), anchor)).collect());
    levels
}

fn as_unit<'a>(levels: &'a [Vec<(Cow<'a, Rule>, &'a Resource)>]) -> Vec<Vec<UnitRule<'a>>> {
    levels
        .iter()
        .map(|l| l.iter().map(|(r, res)| (r.as_ref(), *res)).collect())
        .collect()
}

/// The rules a change is about: those added, removed or edited when both sides exist in the
/// same place (a policy's other rules, such as a catch-all `goto_next`, did not change and are
/// not credited); every rule when the resource appeared, disappeared or moved (a policy's
/// associations or level changed).
fn changed_rules<'a>(b: Option<&'a Resource>, a: Option<&'a Resource>) -> Vec<&'a Rule> {
    let all = || -> Vec<&'a Rule> {
        b.iter()
            .chain(a.iter())
            .flat_map(|r| r.rules.iter())
            .collect()
    };
    let (Some(b), Some(a)) = (b, a) else {
        return all();
    };
    if b.policy != a.policy || b.network != a.network {
        return all();
    }
    let key = crate::canonical::access_rule;
    let b_keys: BTreeSet<Rule> = b.rules.iter().map(key).collect();
    let a_keys: BTreeSet<Rule> = a.rules.iter().map(key).collect();
    let diff: Vec<&Rule> = b
        .rules
        .iter()
        .filter(|r| !a_keys.contains(&key(r)))
        .chain(a.rules.iter().filter(|r| !b_keys.contains(&key(r))))
        .collect();
    if diff.is_empty() {
        all()
    } else {
        diff
    }
}

/// GCP firewall rules and policies of one project. Each VPC network's effective access is
/// computed as a whole (rules interact through priority; policies through evaluation levels),
/// and each change of access is credited to the changed rules and policies whose match covers it.
fn diff_gcp(pairs: &[GcpPair<'_>]) -> Vec<ResourceDiff> {
    let before: Vec<&Resource> = pairs.iter().filter_map(|p| p.0).collect();
    let after: Vec<&Resource> = pairs.iter().filter_map(|p| p.1).collect();
    let (before, after) = (before.as_slice(), after.as_slice());
    let mut changed = Vec::new();
    let mut out = Vec::new();
    for &(b, a, same) in pairs {
        if same {
            continue;
        }
        match (b, a) {
            (Some(b), Some(a)) if same_access(b, a) => {
                if cosmetic_hash(b) != cosmetic_hash(a) {
                    out.extend(cosmetic_items(&Sides::new(Some(b), Some(a)), b, a));
                }
            }
            _ => changed.push((b, a)),
        }
    }
    if changed.is_empty() {
        return out;
    }
    // Every network either side knows of: from rules, and from network-policy associations.
    let mut networks: BTreeSet<Option<&str>> = BTreeSet::new();
    for r in before.iter().chain(after.iter()) {
        match &r.policy {
            None => {
                networks.insert(r.network.as_deref());
            }
            Some(p) if !matches!(p.level, PolicyLevel::Hierarchical { .. }) => {
                networks.extend(p.associations.iter().map(|a| Some(a.target.as_str())));
            }
            Some(_) => {}
        }
    }
    if networks.is_empty() {
        networks.insert(None);
    }
    let implied = implied_rules(ResourceKind::GcpFirewallRule);
    let anchor = before
        .first()
        .or(after.first())
        .copied()
        .expect("something changed");
    // Per network and direction: (baseline access, newly allowed, newly denied).
    type PerDir = BTreeMap<Direction, (TargetedAccess, TargetedAccess, TargetedAccess)>;
    // Only the networks a changed rule or policy bears on are evaluated.
    let mut affected: BTreeSet<Option<&str>> = BTreeSet::new();
    for (b, a) in &changed {
        for r in b.iter().chain(a.iter()) {
            affected.extend(gcp_networks_of(r, &networks));
        }
    }
    let (b_side, a_side) = (GcpSide::new(before), GcpSide::new(after));
    let mut per_net: BTreeMap<Option<&str>, PerDir> = BTreeMap::new();
    for &net in &affected {
        let b_levels = gcp_levels(&b_side, net, &implied, anchor);
        let a_levels = gcp_levels(&a_side, net, &implied, anchor);
        let (b_unit, a_unit) = (as_unit(&b_levels), as_unit(&a_levels));
        let classes = target_classes(
            b_unit
                .iter()
                .chain(a_unit.iter())
                .flatten()
                .map(|(r, _)| *r),
        );
        let mut per_dir = PerDir::new();
        for dir in [Direction::Ingress, Direction::Egress] {
            let b_acc = layered_access(&b_unit, dir, &classes);
            let a_acc = layered_access(&a_unit, dir, &classes);
            let allowed = subtract(&a_acc, &b_acc);
            let denied = subtract(&b_acc, &a_acc);
            per_dir.insert(dir, (b_acc, allowed, denied));
        }
        per_net.insert(net, per_dir);
    }
    let merge = |into: &mut TargetedAccess, from: TargetedAccess| {
        for (c, s) in from {
            let e = into.entry(c).or_default();
            *e = e.union(&s);
        }
    };
    let mut items: Vec<(ResourceDiff, AccessSet, Vec<Target>, bool)> = Vec::new();
    for (b, a) in changed {
        let sides = Sides::new(b, a);
        let rules = changed_rules(b, a);
        let mut nets = BTreeSet::new();
        for r in b.iter().chain(a.iter()) {
            nets.extend(gcp_networks_of(r, &networks));
        }
        let dirs: BTreeSet<Direction> = rules.iter().map(|r| r.direction).collect();
        let instance_targets = |r: &&Rule| {
            r.targets
                .iter()
                .filter(|t| !matches!(t, Target::Network(_)))
                .cloned()
                .collect::<Vec<_>>()
        };
        let any_untargeted = rules.iter().any(|r| instance_targets(r).is_empty());
        let targets: Vec<Target> = rules.iter().flat_map(instance_targets).collect();
        let context = sides.any();
        let boxes: Vec<_> = rules
            .iter()
            .flat_map(|r| rule_boxes(r, context))
            .map(|mut bx| {
                bx.allow = true;
                bx
            })
            .collect();
        let reach = evaluate(&boxes);
        for dir in dirs {
            let credit = |t: &TargetedAccess| -> TargetedAccess {
                t.iter()
                    .filter(|(c, _)| {
                        any_untargeted || c.as_ref().is_some_and(|c| targets.contains(c))
                    })
                    .filter_map(|(c, s)| {
                        let x = s.intersection(&reach);
                        (!x.is_empty()).then(|| (c.clone(), x))
                    })
                    .collect()
            };
            let (mut na, mut nd, mut b_acc) = (
                TargetedAccess::new(),
                TargetedAccess::new(),
                TargetedAccess::new(),
            );
            for net in &nets {
                let Some((b, allowed, denied)) = per_net.get(net).and_then(|p| p.get(&dir)) else {
                    continue;
                };
                merge(&mut na, credit(allowed));
                merge(&mut nd, credit(denied));
                merge(&mut b_acc, b.clone());
            }
            let effect = effect_of(&na, &nd);
            let mut notes = Vec::new();
            let effect = if effect == Effect::None {
                notes.push(match sides.change() {
                    Change::Added => {
                        "new rule that changes no effective access (shadowed or already allowed)"
                            .to_string()
                    }
                    Change::Removed => {
                        "deleted rule whose access is still granted or denied by other rules"
                            .to_string()
                    }
                    Change::Modified => continue,
                });
                Effect::Cosmetic
            } else {
                effect
            };
            let item = sides.item(dir, effect, na, nd, &b_acc, notes);
            items.push((item, reach.clone(), targets.clone(), any_untargeted));
        }
    }
    pair_replacements(&mut items);
    out.extend(items.into_iter().map(|(i, _, _, _)| i));
    out
}

/// A deleted rule whose access is fully carried by a rule added in the same change, in the same
/// direction and for at least the same targets, is one replacement: keep one item.
fn pair_replacements(items: &mut Vec<(ResourceDiff, AccessSet, Vec<Target>, bool)>) {
    let mut drop = BTreeSet::new();
    for i in 0..items.len() {
        if items[i].0.change != Change::Removed || items[i].0.effect != Effect::Cosmetic {
            continue;
        }
        let found = (0..items.len()).find(|&j| {
            let (cand, reach, targets, untargeted) = &items[j];
            cand.change == Change::Added
                && cand.direction == items[i].0.direction
                && items[i].1.is_subset_of(reach)
                && (*untargeted || (!items[i].3 && items[i].2.iter().all(|t| targets.contains(t))))
        });
        if let Some(j) = found {
            let removed = items[i].0.resource.clone();
            let cand = &mut items[j].0;
            cand.change = Change::Modified;
            cand.notes.push(format!("replaces {removed}"));
            cand.replaces.push(removed);
            drop.insert(i);
        }
    }
    let mut k = 0;
    items.retain(|_| {
        k += 1;
        !drop.contains(&(k - 1))
    });
}
