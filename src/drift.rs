//! Drift computation over the store: latest snapshot of each scope against its approved
//! baseline, with severity, exceptions and coverage findings.
//!
//! Architecture invariant: a scope whose latest snapshot failed produces a coverage finding and
//! no drift; a partial snapshot never reports kinds it could not read as removed.

use std::collections::BTreeSet;

use anyhow::Result;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use netdrift_snapshots::{
    assess, diff_scope, AccessSet, Effect, ResourceDiff, ResourceKind, Scope, SeverityPolicy,
};

use crate::config::DriftSettings;
use crate::findings::{CoverageFinding, DriftItem, DriftReport, ExceptionRef, SCHEMA_VERSION};
use crate::store::{parse_ts, ts, Store};

/// Stable drift id.
pub fn drift_id(scope: &str, d: &ResourceDiff) -> String {
    let mut h = Sha256::new();
    for part in [
        scope,
        d.resource.as_str(),
        d.direction.as_str(),
        d.baseline_state.as_deref().unwrap_or("-"),
        d.actual_state.as_deref().unwrap_or("-"),
    ] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    format!("d-{}", &hex::encode(h.finalize())[..16])
}

/// A computed drift item and the access set behind it (for exception envelopes).
pub struct Computed {
    pub item: DriftItem,
    pub allowed: AccessSet,
    pub denied: AccessSet,
    /// Rule ids of the approved and actual states (`sgr-…`, Azure rule ids), for attribution.
    pub rule_ids: Vec<String>,
}

/// Compute drift for every scope (or one), as of now.
pub fn compute(
    store: &Store,
    scope_filter: Option<&str>,
    settings: &DriftSettings,
    now: DateTime<Utc>,
) -> Result<(Vec<Computed>, Vec<CoverageFinding>)> {
    let mut items = Vec::new();
    let mut coverage = Vec::new();
    for scope in store.scopes()? {
        let key = scope.key();
        if scope_filter.is_some_and(|f| !scope_matches(f, &scope)) {
            continue;
        }
        let Some(snap) = store.latest_snapshot(&key, None)? else {
            continue;
        };
        let finding = |code: crate::findings::CoverageCode, message: String| CoverageFinding {
            scope: key.clone(),
            provider: scope.provider,
            code,
            message,
            snapshot_id: Some(snap.id),
            taken_at: Some(snap.taken_at.clone()),
            problems: snap.problems.clone(),
            uncollected: snap.uncollected.clone(),
        };
        match snap.status.as_str() {
            "failed" => {
                coverage.push(finding(crate::findings::CoverageCode::CollectionFailed,
                    format!("collection of {key} failed at {}: no drift is computed for it (nothing is reported as removed)", snap.taken_at),
                ));
                continue;
            }
            "partial" => coverage.push(finding(crate::findings::CoverageCode::CollectionPartial,
                format!(
                    "collection of {key} was partial at {}: {} not read; their resources are not reported as removed",
                    snap.taken_at,
                    snap.uncollected.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            _ => {}
        }
        let Some(baseline) = store.approved_state(&key, None)? else {
            coverage.push(finding(crate::findings::CoverageCode::NoBaseline, format!("{key} has no approved baseline yet: run `netdrift baseline approve --scope {key}`")));
            continue;
        };
        let approved_at = store.baseline_approved_at(&key)?;
        let actual = store.snapshot_resources(&snap)?;
        let uncollected: BTreeSet<ResourceKind> = snap.uncollected.iter().copied().collect();
        let mut policy = settings.severity.clone();
        if let Some((_, ports)) = settings.expected_ports.iter().find(|(s, _)| *s == key) {
            policy.expected_ports = ports.clone();
        }
        for d in diff_scope(&baseline, &actual, &uncollected) {
            items.push(to_item(
                store,
                &scope,
                &snap,
                &d,
                &policy,
                approved_at.clone(),
                now,
            )?);
        }
    }
    items.sort_by(|a, b| rank(&a.item).cmp(&rank(&b.item)));
    Ok((items, coverage))
}

/// Whether a `--scope` value selects a scope: its whole key (`aws:111122223333:us-east-1`), a
/// key prefix of whole parts (`aws:111122223333`: every region of the account), or a bare
/// account, project or subscription id (`111122223333`, `acme-prod`: every scope of it, on
/// whichever provider). Ids compare without letter case (Azure subscription ids are printed
/// both ways; the others are lower case or digits).
pub fn scope_matches(filter: &str, scope: &Scope) -> bool {
    let key = scope.key().to_ascii_lowercase();
    let f = filter.trim().to_ascii_lowercase();
    key == f
        || key
            .strip_prefix(&f)
            .is_some_and(|rest| rest.starts_with(':'))
        || scope.account.eq_ignore_ascii_case(&f)
}

/// Riskiest first.
pub fn sorted(mut items: Vec<DriftItem>) -> Vec<DriftItem> {
    items.sort_by(|a, b| rank(a).cmp(&rank(b)));
    items
}

fn rank(i: &DriftItem) -> impl Ord + '_ {
    (
        std::cmp::Reverse(i.severity),
        !i.world,
        !i.public,
        i.exception.is_some(),
        &i.scope,
        &i.resource,
        i.direction,
    )
}

fn to_item(
    store: &Store,
    scope: &Scope,
    snap: &crate::store::SnapshotRow,
    d: &ResourceDiff,
    policy: &SeverityPolicy,
    approved_at: Option<String>,
    now: DateTime<Utc>,
) -> Result<Computed> {
    let key = scope.key();
    let assessment = assess(d, policy);
    let allowed = d.allowed_union();
    let mut reasons = assessment.reasons.clone();
    let mut exception = None;
    if d.effect != Effect::Cosmetic {
        for e in store.exceptions(Some(&key), Some(d.resource.as_str()))? {
            if e.direction != d.direction.as_str() {
                continue;
            }
            let expires = parse_ts(&e.expires_at)?;
            let envelope: AccessSet =
                serde_json::from_value(e.envelope.clone()).unwrap_or_default();
            if expires <= now {
                reasons.push(format!("exception #{} expired on {}", e.id, e.expires_at));
            } else if !allowed.is_subset_of(&envelope) {
                reasons.push(format!("exception #{} no longer covers this access: it widened beyond what was excepted", e.id));
            } else {
                exception = Some(ExceptionRef {
                    id: e.id,
                    owner: e.owner,
                    reason: e.reason,
                    ticket: e.ticket,
                    expires_at: e.expires_at,
                });
            }
        }
    }
    let item = DriftItem {
        id: drift_id(&key, d),
        provider: scope.provider,
        scope: key,
        region: scope.region.clone(),
        resource: d.resource.as_str().to_string(),
        resource_kind: d.kind,
        resource_name: d.name.clone(),
        network: d.network.clone(),
        direction: d.direction,
        change: d.change,
        effect: d.effect,
        newly_allowed: d.allowed_entries(),
        newly_denied: d.denied_entries(),
        world: d.world,
        public: d.public,
        attached: d.attached,
        severity: assessment.severity,
        severity_code: assessment.code.to_string(),
        reasons,
        exception,
        replaces: d.replaces.iter().map(|r| r.as_str().to_string()).collect(),
        notes: d.notes.clone(),
        baseline_state: d.baseline_state.clone(),
        actual_state: d.actual_state.clone(),
        snapshot_id: snap.id,
        snapshot_taken_at: snap.taken_at.clone(),
        baseline_approved_at: approved_at,
        attribution: None,
    };
    let denied = d
        .newly_denied
        .values()
        .fold(AccessSet::default(), |acc, s| acc.union(s));
    let mut rule_ids = Vec::new();
    for h in [&d.baseline_state, &d.actual_state].into_iter().flatten() {
        if let Ok(r) = store.state(h) {
            rule_ids.extend(r.rules.iter().filter_map(|x| x.rule_id.clone()));
        }
    }
    rule_ids.sort();
    rule_ids.dedup();
    Ok(Computed {
        item,
        allowed,
        denied,
        rule_ids,
    })
}

/// Assemble the JSON document.
pub fn report(
    items: Vec<DriftItem>,
    coverage: Vec<CoverageFinding>,
    now: DateTime<Utc>,
) -> DriftReport {
    DriftReport {
        schema_version: SCHEMA_VERSION,
        generated_at: ts(now),
        drift: items,
        coverage,
    }
}
