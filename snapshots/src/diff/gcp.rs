//! The GCP layered diff: per VPC network, level by level (hierarchical policies, then VPC
//! rules and network policies in the network's enforcement order, then implied rules, with
//! `goto_next`), each network's delta credited to the changed rules and policies.

use super::*;

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
pub(super) type GcpPair<'a> = (Option<&'a Resource>, Option<&'a Resource>, bool);

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

/// The evaluation levels of one VPC network given a GCP scope's firewall rules and policies
/// (the attack surface evaluates them per instance); empty when there are none.
pub(crate) fn network_levels<'a>(
    resources: &[&'a Resource],
    network: &'a str,
    implied: &'a [Rule],
) -> Vec<Vec<(Cow<'a, Rule>, &'a Resource)>> {
    match resources.first() {
        None => Vec::new(),
        Some(anchor) => gcp_levels(&GcpSide::new(resources), Some(network), implied, anchor),
    }
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
pub(super) fn diff_gcp<'a>(pairs: &[GcpPair<'a>], known: &'a Hashes<'a>) -> Vec<ResourceDiff> {
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
                    out.extend(cosmetic_items(&Sides::new(Some(b), Some(a), known), b, a));
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
    // Per network and direction: (baseline access, newly allowed, newly denied, the baseline's
    // footprint).
    type PerDir = BTreeMap<
        Direction,
        (
            TargetedAccess,
            TargetedAccess,
            TargetedAccess,
            Arc<AccessSet>,
        ),
    >;
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
        let mut per_dir = PerDir::new();
        for dir in [Direction::Ingress, Direction::Egress] {
            // Targets only the other direction names would repeat the untargeted access.
            let classes = target_classes(
                b_unit
                    .iter()
                    .chain(a_unit.iter())
                    .flatten()
                    .map(|(r, _)| *r)
                    .filter(|r| r.direction == dir),
            );
            let b_acc = layered_access(&b_unit, dir, &classes);
            let a_acc = layered_access(&a_unit, dir, &classes);
            let allowed = subtract(&a_acc, &b_acc);
            let denied = subtract(&b_acc, &a_acc);
            let fp = Arc::new(footprint(&b_acc));
            per_dir.insert(dir, (b_acc, allowed, denied, fp));
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
        let sides = Sides::new(b, a, known);
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
            let (mut na, mut nd) = (TargetedAccess::new(), TargetedAccess::new());
            let found: Vec<_> = nets
                .iter()
                .filter_map(|net| per_net.get(net).and_then(|p| p.get(&dir)))
                .collect();
            for (_, allowed, denied, _) in &found {
                merge(&mut na, credit(allowed));
                merge(&mut nd, credit(denied));
            }
            // A rule of one network (the common case) borrows that network's baseline and its
            // footprint; one bearing on several merges theirs.
            let (b_acc, b_footprint) = match found[..] {
                [(b, _, _, fp)] => (Cow::Borrowed(b), fp.clone()),
                _ => {
                    let mut b_acc = TargetedAccess::new();
                    for (b, _, _, _) in &found {
                        merge(&mut b_acc, b.clone());
                    }
                    let fp = Arc::new(footprint(&b_acc));
                    (Cow::Owned(b_acc), fp)
                }
            };
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
            let item = sides.item_with(dir, effect, (na, nd), &b_acc, b_footprint, notes);
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
