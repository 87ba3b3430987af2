//! Pre-flight: what a Terraform plan would open beyond the approved baseline, before apply.
//!
//! The planned state of each scope is its latest collected actual state with the plan's changes
//! applied (docs/plan-schema.md): a whole resource (a group with inline rules, a network ACL, a
//! GCP firewall rule, an NSG) is replaced by its planned form, keeping what the plan does not
//! say (attachments); a rule resource adds its rules to its parent and removes its old ones; a
//! delete removes. Then the same diff, reach, severity and exceptions as drift
//! (`drift::compute`), against the approved baseline, and separately against the actual state
//! (so a plan that reverts drift is seen doing so). Pure over its inputs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

use netdrift_provider_file::terraform::{
    placeholder, Action, Change, Locator, Parent, Plan, RuleSet, Side, Whole,
};
use netdrift_snapshots::{
    canonical::access_rule, canonicalize, AccessEntry, AccessSet, Direction, Effect,
    ExposedWorkload, Provider, Reach, Resource, ResourceKind, ScopeKey, Severity, SnapshotStatus,
};

use crate::config::DriftSettings;
use crate::drift::{self, Computed};
use crate::findings::ExceptionRef;
use crate::store::ScopeInputs;

/// One widening (or other change of access) the plan makes, by Terraform address.
#[derive(Debug, Clone, Serialize)]
pub struct PlanItem {
    /// The Terraform addresses that change this resource.
    pub address: Vec<String>,
    pub scope: ScopeKey,
    pub resource: String,
    pub resource_name: Option<String>,
    pub resource_kind: ResourceKind,
    pub direction: Direction,
    pub effect: Effect,
    pub newly_allowed: Vec<AccessEntry>,
    pub newly_denied: Vec<AccessEntry>,
    pub world: bool,
    pub public: bool,
    pub reach: Option<Reach>,
    pub exposed: Vec<ExposedWorkload>,
    pub severity: Severity,
    pub reasons: Vec<String>,
    pub exception: Option<ExceptionRef>,
    /// Whether this plan opens it (its newly allowed access is not in force now); `false` for
    /// drift already in the actual state that the plan leaves as it is.
    pub from_plan: bool,
    /// Attributes known only after apply, taken as the widest value they could have.
    pub unknown: Vec<String>,
}

/// A change netdrift could not judge: it makes the exit status 1 (a gate fails closed).
#[derive(Debug, Clone, Serialize)]
pub struct NotJudged {
    pub address: String,
    pub why: String,
}

/// `netdrift plan --format json` (docs/plan-schema.md).
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub schema_version: u32,
    pub plan: PlanMeta,
    /// Against the approved baseline: what the resources the plan touches would allow beyond it.
    pub items: Vec<PlanItem>,
    /// Against the actual state: what the plan itself changes (a revert of drift narrows).
    pub vs_actual: Vec<PlanItem>,
    pub not_judged: Vec<NotJudged>,
    /// Resource types not modelled, with how many of their changes the plan has.
    pub ignored: BTreeMap<String, usize>,
    /// Every address with its action (create, update, delete, replace).
    pub changes: Vec<PlanChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanMeta {
    pub file: String,
    pub format_version: String,
    pub terraform_version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanChange {
    pub address: String,
    pub action: &'static str,
    pub resource: Option<String>,
    pub scope: Option<ScopeKey>,
}

impl PlanReport {
    /// Exit status 1: an unexcepted widening this plan makes, or a change not judged.
    pub fn opens_something(&self) -> bool {
        !self.not_judged.is_empty()
            || self.items.iter().any(|i| {
                i.from_plan
                    && i.exception.is_none()
                    && matches!(i.effect, Effect::Expands | Effect::Mixed)
            })
    }
}

/// Where a resource is in the planned state.
#[derive(Clone, Copy)]
struct At {
    scope: usize,
}

struct Planner<'a> {
    inputs: &'a [ScopeInputs],
    planned: Vec<Vec<Resource>>,
    /// Per scope, the resource ids the plan touches, each with the addresses touching it.
    touched: Vec<BTreeMap<String, BTreeSet<String>>>,
    unknown: BTreeMap<String, Vec<String>>,
    not_judged: Vec<NotJudged>,
    changes: Vec<PlanChange>,
    /// `--scope`: where a new resource goes when nothing else tells.
    hint: Option<&'a str>,
}

impl<'a> Planner<'a> {
    fn find(&self, id: &str) -> Option<(usize, usize)> {
        self.planned.iter().enumerate().find_map(|(s, rs)| {
            rs.iter()
                .position(|r| r.id.as_str() == id && !r.kind.is_workload())
                .map(|i| (s, i))
        })
    }

    fn find_by(&self, pred: impl Fn(&Resource) -> bool) -> Option<(usize, usize)> {
        self.planned.iter().enumerate().find_map(|(s, rs)| {
            rs.iter()
                .position(|r| !r.kind.is_workload() && pred(r))
                .map(|i| (s, i))
        })
    }

    /// The scope a new resource of `provider` goes to: the locator's, else `--scope`, else the
    /// only scope of that provider.
    fn scope_for(&self, provider: Provider, locator: &Locator) -> Result<At, String> {
        let of_provider: Vec<usize> = (0..self.inputs.len())
            .filter(|&i| self.inputs[i].scope.provider() == provider)
            .collect();
        let by_locator = match locator {
            Locator::Gcp {
                project: Some(p), ..
            } => of_provider
                .iter()
                .copied()
                .find(|&i| self.inputs[i].scope.account() == p),
            Locator::Aws { vpc: Some(v) } => of_provider.iter().copied().find(|&i| {
                self.inputs[i]
                    .actual
                    .iter()
                    .any(|r| r.network.as_deref() == Some(v.as_str()))
            }),
            Locator::Azure { group, .. } => {
                let needle = format!("/resourcegroups/{}/", group.to_ascii_lowercase());
                of_provider.iter().copied().find(|&i| {
                    self.inputs[i]
                        .actual
                        .iter()
                        .any(|r| r.id.as_str().contains(&needle))
                })
            }
            _ => None,
        };
        if let Some(i) = by_locator {
            return Ok(At { scope: i });
        }
        if let Some(h) = self.hint {
            if let Some(i) = of_provider
                .iter()
                .copied()
                .find(|&i| drift::scope_matches(h, &self.inputs[i].scope))
            {
                return Ok(At { scope: i });
            }
        }
        match of_provider.as_slice() {
            [one] => Ok(At { scope: *one }),
            [] => Err(format!("no {provider} scope is stored, so there is no approved baseline to judge it against")),
            _ => Err(format!("it is new and nothing tells which {provider} scope it goes to: pass --scope")),
        }
    }

    fn qualify(&self, scope: usize, rules: &mut [netdrift_snapshots::Rule]) {
        let sc = &self.inputs[scope].scope;
        if sc.provider() == Provider::Aws {
            crate::iac::qualify(rules, sc.account());
        }
    }

    fn touch(&mut self, scope: usize, id: &str, address: &str) {
        self.touched[scope]
            .entry(id.to_string())
            .or_default()
            .insert(address.to_string());
    }

    fn not_judged(&mut self, address: &str, why: impl Into<String>) {
        self.not_judged.push(NotJudged {
            address: address.to_string(),
            why: why.into(),
        });
    }

    /// A whole resource's id in the store: its own, else (a create) by its locator.
    fn locate_whole(&self, w: &Whole) -> Option<(usize, usize)> {
        if let Some(id) = &w.id {
            if let Some(f) = self.find(id) {
                return Some(f);
            }
        }
        match &w.locator {
            Locator::Azure { group, name } => {
                let suffix = format!(
                    "/resourcegroups/{}/providers/microsoft.network/networksecuritygroups/{}",
                    group.to_ascii_lowercase(),
                    name.to_ascii_lowercase()
                );
                self.find_by(|r| {
                    r.kind == ResourceKind::AzureNsg && r.id.as_str().ends_with(&suffix)
                })
            }
            Locator::Gcp {
                project: None,
                name,
            } => self.find_by(|r| {
                r.kind == ResourceKind::GcpFirewallRule && r.name.as_deref() == Some(name)
            }),
            _ => None,
        }
    }

    fn whole(&mut self, c: &Change) {
        let before = match &c.before {
            Some(Side::Whole(w)) => Some(w),
            _ => None,
        };
        let after = match &c.after {
            Some(Side::Whole(w)) => Some(w),
            _ => None,
        };
        // Where it is now.
        let found = match before {
            Some(b) => match b.id.as_deref().and_then(|id| self.find(id)) {
                Some(f) => Some(f),
                None => {
                    self.not_judged(
                        &c.address,
                        format!(
                            "{} is not in any stored snapshot: collect its scope first",
                            b.id.as_deref().unwrap_or("its resource")
                        ),
                    );
                    return;
                }
            },
            None => after.and_then(|a| self.locate_whole(a)),
        };
        match (found, after) {
            (Some((s, i)), None) => {
                let id = self.planned[s][i].id.to_string();
                self.planned[s].remove(i);
                self.record(c, s, &id);
            }
            (Some((s, i)), Some(a)) => {
                let old = &self.planned[s][i];
                let mut r = a.resource.clone();
                r.id = old.id.clone();
                if r.attachments.is_empty() {
                    r.attachments = old.attachments.clone();
                    r.attached = old.attached;
                }
                r.network = r.network.or_else(|| old.network.clone());
                r.name = r.name.or_else(|| old.name.clone());
                r.policy = r.policy.or_else(|| old.policy.clone());
                self.qualify(s, &mut r.rules);
                let id = r.id.to_string();
                self.planned[s][i] = canonicalize(r);
                self.record(c, s, &id);
            }
            (None, Some(a)) => match self.scope_for(c.provider, &a.locator) {
                Ok(At { scope }) => {
                    let mut r = a.resource.clone();
                    self.qualify(scope, &mut r.rules);
                    let id = r.id.to_string();
                    self.planned[scope].push(canonicalize(r));
                    self.record(c, scope, &id);
                }
                Err(why) => self.not_judged(&c.address, why),
            },
            (None, None) => {}
        }
    }

    fn record(&mut self, c: &Change, scope: usize, id: &str) {
        self.touch(scope, id, &c.address);
        if !c.unknown.is_empty() {
            self.unknown
                .entry(id.to_string())
                .or_default()
                .extend(c.unknown.iter().map(|u| format!("{}.{u}", c.address)));
        }
        self.changes.push(PlanChange {
            address: c.address.clone(),
            action: c.action.as_str(),
            resource: Some(id.to_string()),
            scope: Some(self.inputs[scope].scope.key()),
        });
    }

    /// The parent of a rule resource in the planned state.
    fn parent(&self, p: &Parent, kind: ResourceKind) -> Result<(usize, usize), String> {
        let found = match p {
            Parent::Id(id) => self.find(id).or_else(|| {
                // A GCP hierarchical policy by its number alone; an Azure id in any case.
                let lower = id.to_ascii_lowercase();
                self.find_by(|r| r.kind == kind && r.id.as_str().eq_ignore_ascii_case(&lower))
            }),
            Parent::Address(a) => self.find(&placeholder(a)).or_else(|| {
                // A resource of the plan whose id is known: found by its address.
                self.touched.iter().enumerate().find_map(|(s, t)| {
                    t.iter()
                        .find(|(_, addrs)| addrs.contains(a))
                        .and_then(|(id, _)| self.planned[s].iter().position(|r| r.id.as_str() == id).map(|i| (s, i)))
                })
            }),
            Parent::Azure { group, name } => {
                let suffix = format!(
                    "/resourcegroups/{}/providers/microsoft.network/networksecuritygroups/{}",
                    group.to_ascii_lowercase(),
                    name.to_ascii_lowercase()
                );
                self.find_by(|r| r.kind == kind && r.id.as_str().ends_with(&suffix))
                    .or_else(|| {
                        self.find_by(|r| {
                            r.kind == kind
                                && r.id.as_str().starts_with("terraform:")
                                && r.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name))
                        })
                    })
            }
            Parent::Gcp { name, .. } => self.find_by(|r| {
                r.kind == kind && r.id.as_str().rsplit('/').next() == Some(name.as_str())
            }),
            Parent::Unknown(attr) => {
                return Err(format!(
                    "its {attr} is known only after apply and the configuration does not say which resource it refers to"
                ))
            }
        };
        found.ok_or_else(|| match p {
            Parent::Id(id) => {
                format!("{id} is not in any stored snapshot: collect its scope first")
            }
            Parent::Address(a) => {
                format!("{a} is not among the plan's resources or the stored ones")
            }
            Parent::Azure { group, name } => {
                format!("no stored network security group {name} in resource group {group}")
            }
            Parent::Gcp { name, .. } => format!("no stored firewall policy {name}"),
            Parent::Unknown(_) => unreachable!(),
        })
    }

    fn rules(&mut self, c: &Change) {
        let sets: Vec<&RuleSet> = [&c.before, &c.after]
            .into_iter()
            .filter_map(|s| match s {
                Some(Side::Rules(r)) => Some(r),
                _ => None,
            })
            .collect();
        let Some(first) = sets.first() else {
            return;
        };
        let at = match self.parent(&first.parent, first.kind) {
            Ok(at) => at,
            Err(why) => {
                // A rule deleted along with its group is gone with it.
                if c.action == Action::Delete && matches!(first.parent, Parent::Address(_)) {
                    return;
                }
                self.not_judged(&c.address, why);
                return;
            }
        };
        let (s, i) = at;
        let mut r = self.planned[s][i].clone();
        if let Some(Side::Rules(b)) = &c.before {
            let mut gone = b.rules.clone();
            self.qualify(s, &mut gone);
            for old in &gone {
                let key = access_rule(old);
                if let Some(k) = r.rules.iter().position(|x| access_rule(x) == key) {
                    r.rules.remove(k);
                }
            }
        }
        if let Some(Side::Rules(a)) = &c.after {
            let mut added = a.rules.clone();
            self.qualify(s, &mut added);
            r.rules.extend(added);
        }
        let id = r.id.to_string();
        self.planned[s][i] = canonicalize(r);
        self.record(c, s, &id);
    }
}

/// Evaluate a plan against the stored state: `inputs` are every stored scope's drift inputs.
pub fn evaluate(
    file: &str,
    plan: &Plan,
    inputs: &[ScopeInputs],
    settings: &DriftSettings,
    hint: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PlanReport> {
    let mut p = Planner {
        inputs,
        planned: inputs.iter().map(|i| i.actual.clone()).collect(),
        touched: vec![BTreeMap::new(); inputs.len()],
        unknown: BTreeMap::new(),
        not_judged: Vec::new(),
        changes: Vec::new(),
        hint,
    };
    // Whole resources first, so that a rule resource finds a group the plan creates.
    for c in plan.changes.iter().filter(|c| {
        matches!(c.after, Some(Side::Whole(_))) || matches!(c.before, Some(Side::Whole(_)))
    }) {
        p.whole(c);
    }
    for c in plan.changes.iter().filter(|c| {
        matches!(c.after, Some(Side::Rules(_))) || matches!(c.before, Some(Side::Rules(_)))
    }) {
        p.rules(c);
    }
    let mut items = Vec::new();
    let mut vs_actual = Vec::new();
    for (s, input) in inputs.iter().enumerate() {
        if p.touched[s].is_empty() {
            continue;
        }
        let key = input.scope.key();
        let addresses = |id: &str| -> Vec<String> {
            p.touched[s]
                .get(id)
                .map(|a| a.iter().cloned().collect())
                .unwrap_or_default()
        };
        match input.snapshot.status {
            SnapshotStatus::Failed => {
                for (id, addrs) in &p.touched[s] {
                    for a in addrs {
                        p.not_judged.push(NotJudged {
                            address: a.clone(),
                            why: format!("the latest collection of {key} failed, so {id}'s actual state is not known"),
                        });
                    }
                }
                continue;
            }
            SnapshotStatus::Partial | SnapshotStatus::Complete => {}
        }
        if input.baseline.is_none() {
            for addrs in p.touched[s].values() {
                for a in addrs {
                    p.not_judged.push(NotJudged {
                        address: a.clone(),
                        why: format!("{key} has no approved baseline: run `netdrift baseline approve --scope {key}`"),
                    });
                }
            }
            continue;
        }
        let planned = ScopeInputs {
            actual: p.planned[s].clone(),
            ..input.clone()
        };
        let (against_baseline, _) = drift::compute(std::slice::from_ref(&planned), settings, now)?;
        let against_actual_inputs = ScopeInputs {
            baseline: Some(input.actual.clone()),
            exceptions: Vec::new(),
            ..planned
        };
        let (against_actual, _) =
            drift::compute(std::slice::from_ref(&against_actual_inputs), settings, now)?;
        // What the plan newly allows, per resource and direction.
        let mut opened: BTreeMap<(String, Direction), AccessSet> = BTreeMap::new();
        for c in &against_actual {
            opened.insert(
                (c.item.resource.clone(), c.item.direction),
                c.allowed.clone(),
            );
        }
        let touched = |c: &Computed| p.touched[s].contains_key(&c.item.resource);
        // A cosmetic change (a description, an order) is no item: it opens nothing.
        let access = |c: &&Computed| !matches!(c.item.effect, Effect::Cosmetic | Effect::None);
        for c in against_baseline
            .iter()
            .filter(|c| touched(c))
            .filter(access)
        {
            let from_plan = opened
                .get(&(c.item.resource.clone(), c.item.direction))
                .is_some_and(|o| !o.intersection(&c.allowed).is_empty());
            items.push(item(c, addresses(&c.item.resource), from_plan, &p.unknown));
        }
        for c in against_actual.iter().filter(|c| touched(c)) {
            vs_actual.push(item(c, addresses(&c.item.resource), true, &p.unknown));
        }
    }
    let rank = |i: &PlanItem| {
        (
            std::cmp::Reverse(i.severity),
            !i.from_plan,
            i.address.clone(),
        )
    };
    items.sort_by_key(rank);
    vs_actual.sort_by_key(rank);
    Ok(PlanReport {
        schema_version: 1,
        plan: PlanMeta {
            file: file.to_string(),
            format_version: plan.format_version.clone(),
            terraform_version: plan.terraform_version.clone(),
        },
        items,
        vs_actual,
        not_judged: p.not_judged,
        ignored: plan.ignored.clone(),
        changes: p.changes,
    })
}

fn item(
    c: &Computed,
    address: Vec<String>,
    from_plan: bool,
    unknown: &BTreeMap<String, Vec<String>>,
) -> PlanItem {
    let i = &c.item;
    let unknown = unknown.get(&i.resource).cloned().unwrap_or_default();
    let mut reasons = i.reasons.clone();
    if !unknown.is_empty() {
        reasons.push(format!(
            "known only after apply, taken as the widest it could be: {}",
            unknown.join(", ")
        ));
    }
    if !from_plan {
        reasons.push("already in the actual state: this plan does not change it".into());
    }
    PlanItem {
        address,
        scope: i.scope.clone(),
        resource: i.resource.clone(),
        resource_name: i.resource_name.clone(),
        resource_kind: i.resource_kind,
        direction: i.direction,
        effect: i.effect,
        newly_allowed: i.newly_allowed.clone(),
        newly_denied: i.newly_denied.clone(),
        world: i.world,
        public: i.public,
        reach: i.reach,
        exposed: i.exposed.clone(),
        severity: i.severity,
        reasons,
        exception: i.exception.clone(),
        from_plan,
        unknown,
    }
}
