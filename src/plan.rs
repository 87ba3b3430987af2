//! Pre-flight: what a Terraform plan would open beyond the approved baseline, before apply.
//!
//! The planned state of each scope is its latest collected actual state with the plan's changes
//! applied (docs/plan-schema.md): a whole resource (a group with inline rules, a network ACL, a
//! GCP firewall rule, an NSG) is replaced by its planned form, keeping what the plan does not
//! say (attachments); a rule resource adds its rules to its parent and removes its old ones; a
//! delete removes. Then the same diff, reach, severity and exceptions as drift
//! (`drift::compute`), against the approved baseline, and separately against the actual state
//! (so a plan that reverts drift is seen doing so). Pure over its inputs.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

use netdrift_provider_file::terraform::{Plan, Side};
use netdrift_snapshots::{
    AccessEntry, AccessSet, Direction, Effect, ExposedWorkload, Reach, ResourceKind, ScopeKey,
    Severity, SnapshotStatus,
};

use crate::config::DriftSettings;
use crate::drift::{self, Computed};
use crate::findings::ExceptionRef;
use crate::store::ScopeInputs;

mod planner;
use planner::Planner;

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
