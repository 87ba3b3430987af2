//! The semantic diff between an approved state and the actual state of one scope.
//!
//! Differences are computed on effective access, never on rule text: reordering, splitting or
//! regrouping rules is no drift; a widened rule is one change that expands; a removed deny that
//! exposes a lower-priority allow expands. Resources whose access hash did not change cost no
//! evaluation.

pub(crate) mod gcp;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

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
    /// Protocol × ports the approved state already allowed in this direction (any address);
    /// shared by the items of one GCP network (each of its changed rules yields one).
    pub baseline_footprint: Arc<AccessSet>,
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
    diff_scope_known(
        Known::new(baseline, &[]),
        Known::new(actual, &[]),
        uncollected,
    )
}

/// One side of a diff: its resources and, when the caller holds them, their state hashes in
/// the same order (the store keeps every state under its hash), so that the diff does not
/// serialize and hash them again. A side without hashes, or with a different count, has its
/// states hashed here.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    resources: &'a [Resource],
    hashes: &'a [String],
}

impl<'a> Known<'a> {
    pub fn new(resources: &'a [Resource], hashes: &'a [String]) -> Known<'a> {
        let hashes = if hashes.len() == resources.len() {
            hashes
        } else {
            &[]
        };
        Known { resources, hashes }
    }

    /// The state hash of `r`: the one held for it when `r` is one of this side's resources
    /// (by address: the diff only ever borrows them), else computed.
    fn state_of(&self, r: &Resource) -> String {
        let at = (r as *const Resource as usize).wrapping_sub(self.resources.as_ptr() as usize);
        let i = at / std::mem::size_of::<Resource>();
        let held = self
            .hashes
            .get(i)
            .filter(|_| std::ptr::eq(&self.resources[i], r));
        match held {
            Some(h) => h.clone(),
            None => state_hash(r),
        }
    }
}

/// [`diff_scope`] with the state hashes the caller already holds for either side.
pub fn diff_scope_known(
    baseline: Known<'_>,
    actual: Known<'_>,
    uncollected: &BTreeSet<ResourceKind>,
) -> Vec<ResourceDiff> {
    let known = Hashes {
        before: baseline,
        after: actual,
    };
    let (baseline, actual) = (baseline.resources, actual.resources);
    let mut out = Vec::new();
    // A sorted merge of both sides by id: no map is built for the (usually many) resources
    // that did not change.
    let mut before: Vec<&Resource> = baseline.iter().collect();
    let mut after: Vec<&Resource> = actual.iter().collect();
    before.sort_unstable_by(|x, y| x.id.cmp(&y.id));
    after.sort_unstable_by(|x, y| x.id.cmp(&y.id));
    // GCP firewall rules and policies interact across resources (priority, evaluation levels):
    // they are diffed together, per VPC network.
    let mut gcp_pairs: Vec<gcp::GcpPair<'_>> = Vec::new();
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
        // Workloads are not firewall state: reach reads them, drift does not.
        if kind.is_workload() {
            continue;
        }
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
        out.extend(diff_resource(b, a, &known));
    }
    if gcp_changed {
        out.extend(gcp::diff_gcp(&gcp_pairs, &known));
    }
    out
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

/// Where the state hashes of both sides of a scope's diff come from.
#[derive(Clone, Copy)]
pub(crate) struct Hashes<'a> {
    before: Known<'a>,
    after: Known<'a>,
}

struct Sides<'a> {
    before: Option<&'a Resource>,
    after: Option<&'a Resource>,
    known: &'a Hashes<'a>,
    hashes: std::cell::OnceCell<(Option<String>, Option<String>)>,
}

impl<'a> Sides<'a> {
    fn new(
        before: Option<&'a Resource>,
        after: Option<&'a Resource>,
        known: &'a Hashes<'a>,
    ) -> Sides<'a> {
        Sides {
            before,
            after,
            known,
            hashes: std::cell::OnceCell::new(),
        }
    }
    /// State hashes, found or computed once per resource however many items it yields.
    fn hashes(&self) -> &(Option<String>, Option<String>) {
        self.hashes.get_or_init(|| {
            (
                self.before.map(|r| self.known.before.state_of(r)),
                self.after.map(|r| self.known.after.state_of(r)),
            )
        })
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
    fn item(
        &self,
        direction: Direction,
        effect: Effect,
        newly_allowed: TargetedAccess,
        newly_denied: TargetedAccess,
        baseline: &TargetedAccess,
        notes: Vec<String>,
    ) -> ResourceDiff {
        let fp = Arc::new(footprint(baseline));
        self.item_with(
            direction,
            effect,
            (newly_allowed, newly_denied),
            baseline,
            fp,
            notes,
        )
    }
    /// An item whose baseline footprint is already known (shared by the rules of a network).
    fn item_with(
        &self,
        direction: Direction,
        effect: Effect,
        (newly_allowed, newly_denied): (TargetedAccess, TargetedAccess),
        baseline: &TargetedAccess,
        baseline_footprint: Arc<AccessSet>,
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
            baseline_footprint,
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
fn diff_resource<'a>(
    before: Option<&'a Resource>,
    after: Option<&'a Resource>,
    known: &'a Hashes<'a>,
) -> Vec<ResourceDiff> {
    let sides = Sides::new(before, after, known);
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
    // The rules are borrowed, never copied: the template of a new resource and the implied
    // rules (GCP only) are the only rules built here.
    let template = if before.is_none() {
        fresh_template(kind)
    } else {
        Vec::new()
    };
    let implied = implied_rules(kind);
    let context = sides.any();
    let b_unit: Vec<UnitRule<'_>> = before
        .map_or(&template[..], |b| &b.rules[..])
        .iter()
        .chain(&implied)
        .map(|r| (r, before.unwrap_or(context)))
        .collect();
    let a_unit: Vec<UnitRule<'_>> = match after {
        Some(a) => a
            .rules
            .iter()
            .chain(&implied)
            .map(|r| (r, context))
            .collect(),
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for dir in [Direction::Ingress, Direction::Egress] {
        // The target classes of this direction's rules: a target only the other direction
        // names would be evaluated to the same access as every other instance.
        let classes = target_classes(
            b_unit
                .iter()
                .chain(&a_unit)
                .map(|(r, _)| *r)
                .filter(|r| r.direction == dir),
        );
        // A direction whose rules are the same, in the same order, with the same prefix lists
        // on both sides has the same access: it needs no evaluation, only the header check.
        if let (Some(b), Some(a)) = (before, after) {
            let of = |r: &&Rule| r.direction == dir;
            if b.prefix_lists == a.prefix_lists
                && b.rules.iter().filter(of).eq(a.rules.iter().filter(of))
            {
                if dir == Direction::Ingress && header_changed(b, a) {
                    let b_acc = unit_access(&b_unit, kind.semantics(), dir, &classes);
                    let empty = TargetedAccess::new();
                    out.push(sides.item(
                        dir,
                        Effect::Cosmetic,
                        empty.clone(),
                        empty,
                        &b_acc,
                        vec!["descriptions, names or tags changed".into()],
                    ));
                }
                continue;
            }
        }
        let b_acc = unit_access(&b_unit, kind.semantics(), dir, &classes);
        let a_acc = unit_access(&a_unit, kind.semantics(), dir, &classes);
        let allowed = subtract(&a_acc, &b_acc);
        let denied = subtract(&b_acc, &a_acc);
        let effect = effect_of(&allowed, &denied);
        if effect != Effect::None {
            out.push(sides.item(dir, effect, allowed, denied, &b_acc, Vec::new()));
            continue;
        }
        // Same access in this direction: is the change in its text alone?
        let cosmetic = match (before, after) {
            (Some(b), Some(a)) => {
                cosmetic_rules(&b.rules, dir) != cosmetic_rules(&a.rules, dir)
                    || (dir == Direction::Ingress && header_changed(b, a))
            }
            _ => false,
        };
        if cosmetic && sides.change() == Change::Modified {
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
