//! Drift computation, pure: each scope's latest snapshot against its approved baseline, with
//! severity, exceptions and coverage findings. Its inputs come from one store call
//! (`Store::load_drift_inputs`); nothing here reads the database or the filesystem.
//!
//! Architecture invariant: a scope whose latest snapshot failed produces a coverage finding and
//! no drift; a partial snapshot never reports kinds it could not read as removed.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use netdrift_snapshots::{
    assess_with_reach, diff_scope_known, ownership::Controller, AccessSet, Effect, ReachVerdict,
    Resource, ResourceDiff, ResourceKind, Scope, ScopeWorkloads, SeverityPolicy, SnapshotStatus,
};

use crate::config::DriftSettings;
use crate::findings::{
    CoverageCode, CoverageFinding, DriftItem, DriftReport, ExceptionRef, SCHEMA_VERSION,
};
use crate::store::{ts, ScopeInputs};

mod patterns;
use patterns::pattern_exception;
pub use patterns::patterns;

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

/// What a `--scope` value (or none) selects, for [`Store::load_drift_inputs`](crate::store::Store::load_drift_inputs).
pub fn selector(scope_filter: Option<&str>) -> impl Fn(&Scope) -> bool + '_ {
    move |s: &Scope| scope_filter.is_none_or(|f| scope_matches(f, s))
}

/// Drift of each scope's latest snapshot against its approved baseline, riskiest first, and
/// the coverage findings (failed, partial, never approved). Reads nothing but its inputs.
pub fn compute<'a>(
    inputs: &'a [ScopeInputs],
    settings: &DriftSettings,
    now: DateTime<Utc>,
) -> Result<(Vec<Computed>, Vec<CoverageFinding>)> {
    let mut items = Vec::new();
    let mut coverage = Vec::new();
    // The stored patterns are one list shared by every scope's inputs: read once.
    let mut read: Option<(std::sync::Arc<Vec<crate::store::StoredPattern>>, Vec<_>)> = None;
    for input in inputs {
        let (scope, snap) = (&input.scope, &input.snapshot);
        let key = scope.key();
        let finding = |code: CoverageCode, message: String| CoverageFinding {
            subject: key.clone().into(),
            provider: scope.provider(),
            code,
            message,
            snapshot_id: Some(snap.id),
            taken_at: Some(snap.taken_at),
            problems: snap.problems.clone(),
            uncollected: snap.uncollected.clone(),
            evidence: Vec::new(),
        };
        match snap.status {
            SnapshotStatus::Failed => {
                coverage.push(finding(CoverageCode::CollectionFailed,
                    format!("collection of {key} has failed since {}: no drift is computed for it (nothing is reported as removed)", ts(snap.taken_at)),
                ));
                continue;
            }
            SnapshotStatus::Partial => coverage.push(finding(CoverageCode::CollectionPartial,
                format!(
                    "collection of {key} has been partial since {}: {} not read; their resources are not reported as removed",
                    ts(snap.taken_at),
                    snap.uncollected.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            SnapshotStatus::Complete => {}
        }
        let Some(baseline) = &input.baseline else {
            coverage.push(finding(CoverageCode::NoBaseline, format!("{key} has no approved baseline yet: run `netdrift baseline approve --scope {key}`")));
            continue;
        };
        let uncollected: BTreeSet<ResourceKind> = snap.uncollected.iter().copied().collect();
        let mut policy = settings.severity.clone();
        if let Some((_, ports)) = settings.expected_ports.iter().find(|(s, _)| *s == key) {
            policy.expected_ports = ports.clone();
        }
        let by_id = |side: &'a [Resource]| -> HashMap<&'a str, usize> {
            side.iter()
                .enumerate()
                .map(|(i, r)| (r.id.as_str(), i))
                .collect()
        };
        let (before, after) = (by_id(baseline), by_id(&input.actual));
        let workloads = ScopeWorkloads::new(&input.actual, &uncollected);
        let controllers = netdrift_snapshots::ownership::Controllers::new(&input.actual);
        if !read
            .as_ref()
            .is_some_and(|(of, _)| std::sync::Arc::ptr_eq(of, &input.patterns))
        {
            read = Some((input.patterns.clone(), patterns(settings, &input.patterns)));
        }
        let patterns = &read.as_ref().expect("read above").1;
        let (known_baseline, known_actual) = input.sides();
        let diffs = diff_scope_known(known_baseline, known_actual, &uncollected);
        for d in diffs {
            let id = d.resource.as_str();
            let states = [
                before.get(id).map(|&i| &baseline[i]),
                after.get(id).map(|&i| &input.actual[i]),
            ];
            let allowed = d.allowed_union();
            let reach = (!allowed.is_empty()).then(|| workloads.reach(&d));
            let controller = controllers.of(states[1], states[0]);
            items.push(to_item(
                input,
                &d,
                (&policy, patterns),
                (states, controller),
                reach,
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
        || scope.account().eq_ignore_ascii_case(&f)
}

/// Items computed batch by batch, riskiest first across the batches (the order one
/// [`compute`] over all of them gives: the sort is stable and batches come in scope order).
pub fn sort_computed(items: &mut [Computed]) {
    items.sort_by(|a, b| rank(&a.item).cmp(&rank(&b.item)));
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
    input: &ScopeInputs,
    d: &ResourceDiff,
    (policy, patterns): (&SeverityPolicy, &[crate::config::ExceptionPattern]),
    (states, controller): ([Option<&Resource>; 2], Option<Controller>),
    reach: Option<ReachVerdict>,
    now: DateTime<Utc>,
) -> Result<Computed> {
    let (scope, snap) = (&input.scope, &input.snapshot);
    let key = scope.key();
    let assessment = assess_with_reach(d, policy, reach.as_ref());
    let allowed = d.allowed_union();
    let mut reasons = assessment.reasons.clone();
    let mut exception = None;
    if d.effect != Effect::Cosmetic {
        for e in input
            .exceptions
            .iter()
            .filter(|e| e.resource == d.resource.as_str())
        {
            if e.direction != d.direction.as_str() {
                continue;
            }
            let expires = e.expires_at;
            let Ok(envelope) = serde_json::from_value::<AccessSet>(e.envelope.clone()) else {
                reasons.push(format!(
                    "exception #{} has an unreadable envelope: it covers nothing",
                    e.id
                ));
                continue;
            };
            if expires <= now {
                reasons.push(format!(
                    "exception #{} expired on {}",
                    e.id,
                    ts(e.expires_at)
                ));
            } else if !allowed.is_subset_of(&envelope) {
                reasons.push(format!("exception #{} no longer covers this access: it widened beyond what was excepted", e.id));
            } else {
                exception = Some(ExceptionRef {
                    id: e.id,
                    pattern: None,
                    owner: e.owner.clone(),
                    reason: e.reason.clone(),
                    ticket: e.ticket.clone(),
                    expires_at: e.expires_at,
                });
            }
        }
    }
    let state = states[1].or(states[0]);
    let mut severity = assessment.severity;
    if let Some(c) = &controller {
        let lower = policy
            .lower_controllers
            .iter()
            .any(|l| l == "all" || *l == c.label);
        if lower && d.effect != Effect::Cosmetic {
            severity = severity.lowered();
            reasons.push(format!(
                "made by a controller ({}: {}): one level lower by [severity] lower_controllers",
                c.label, c.why
            ));
        } else {
            reasons.push(format!("made by a controller ({}: {})", c.label, c.why));
        }
    }
    if exception.is_none() && d.effect != Effect::Cosmetic && !allowed.is_empty() {
        let (exc, why) = pattern_exception(patterns, &key, d, state, &allowed, now);
        exception = exc;
        reasons.extend(why);
    }
    let item = DriftItem {
        id: drift_id(&key, d),
        provider: scope.provider(),
        scope: key,
        region: scope.region().map(str::to_string),
        resource: d.resource.as_str().to_string(),
        resource_kind: d.kind,
        resource_name: d.name.clone(),
        tags: state.map(|r| r.tags.clone()).unwrap_or_default(),
        controller,
        network: d.network.clone(),
        direction: d.direction,
        change: d.change,
        effect: d.effect,
        newly_allowed: d.allowed_entries(),
        newly_denied: d.denied_entries(),
        world: d.world,
        public: d.public,
        attached: d.attached,
        reach: reach.as_ref().map(|r| r.reach),
        exposed: reach.map(|r| r.exposed).unwrap_or_default(),
        severity,
        severity_code: assessment.code.to_string(),
        reasons,
        exception,
        replaces: d.replaces.iter().map(|r| r.as_str().to_string()).collect(),
        notes: d.notes.clone(),
        baseline_state: d.baseline_state.clone(),
        actual_state: d.actual_state.clone(),
        snapshot_id: snap.id,
        snapshot_taken_at: snap.taken_at,
        baseline_approved_at: input.approved_at,
        attribution: None,
        iac: None,
    };
    let denied = d
        .newly_denied
        .values()
        .fold(AccessSet::default(), |acc, s| acc.union(s));
    let mut rule_ids = Vec::new();
    for r in states.into_iter().flatten() {
        rule_ids.extend(r.rules.iter().filter_map(|x| x.rule_id.clone()));
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
        generated_at: now,
        drift: items,
        coverage,
    }
}

#[cfg(test)]
mod tests {
    //! Drift from inputs alone: no database, no files. Each row is one scope's inputs and what
    //! must come out.
    use super::*;
    use crate::store::{ExceptionRow, SnapshotRow};
    use netdrift_snapshots::Provider;

    const NOW: &str = "2026-12-01T00:00:00Z";

    /// A security group in the AWS CLI's JSON, with one ingress range on port 22.
    fn group(cidr: &str) -> Vec<Resource> {
        let doc = serde_json::json!({"SecurityGroups": [{
            "GroupId": "sg-1", "GroupName": "web", "VpcId": "vpc-1", "OwnerId": "111122223333",
            "Description": "web",
            "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "IpRanges": [{"CidrIp": cidr}], "Ipv6Ranges": [], "PrefixListIds": [],
                "UserIdGroupPairs": []}],
            "IpPermissionsEgress": []}]});
        netdrift_provider_file::convert_document(Provider::Aws, "111122223333", &doc).unwrap()
    }

    fn inputs(status: &str, baseline: Option<&str>, actual: &str) -> ScopeInputs {
        ScopeInputs {
            scope: Scope::new(Provider::Aws, "111122223333", Some("eu-west-1".into())),
            snapshot: SnapshotRow {
                id: 7,
                scope: netdrift_snapshots::ScopeKey::parse("aws:111122223333:eu-west-1").unwrap(),
                source: "file:a".into(),
                taken_at: netdrift_snapshots::time::parse("t", "2026-11-30T00:00:00Z").unwrap(),
                status: SnapshotStatus::parse(status).unwrap(),
                problems: Vec::new(),
                uncollected: Vec::new(),
                resource_count: 1,
                rule_count: 1,
                seen_at: netdrift_snapshots::time::parse("t", "2026-11-30T00:00:00Z").unwrap(),
                manifest_hash: None,
            },
            actual: if status == "failed" {
                Vec::new()
            } else {
                group(actual)
            },
            baseline: baseline.map(group),
            approved_at: baseline
                .map(|_| netdrift_snapshots::time::parse("t", "2026-11-01T00:00:00Z").unwrap()),
            exceptions: Vec::new(),
            states: Default::default(),
            patterns: Default::default(),
        }
    }

    fn exception(id: i64, envelope: serde_json::Value, expires_at: &str) -> ExceptionRow {
        ExceptionRow {
            id,
            drift_id: "d-x".into(),
            scope: netdrift_snapshots::ScopeKey::parse("aws:111122223333:eu-west-1").unwrap(),
            resource: "sg-1".into(),
            direction: "ingress".into(),
            envelope,
            owner: "ops".into(),
            reason: "migration".into(),
            ticket: None,
            expires_at: netdrift_snapshots::time::parse("t", expires_at).unwrap(),
            created_at: netdrift_snapshots::time::parse("t", "2026-11-01T00:00:00Z").unwrap(),
            removed_at: None,
            removed_by: None,
            removed_reason: None,
        }
    }

    fn run(i: ScopeInputs) -> (Vec<Computed>, Vec<CoverageFinding>) {
        compute(&[i], &DriftSettings::default(), NOW.parse().unwrap()).unwrap()
    }

    #[test]
    fn coverage_rows() {
        for (status, baseline, code) in [
            (
                "failed",
                Some("10.0.0.0/8"),
                Some(CoverageCode::CollectionFailed),
            ),
            ("complete", None, Some(CoverageCode::NoBaseline)),
            (
                "partial",
                Some("10.0.0.0/8"),
                Some(CoverageCode::CollectionPartial),
            ),
            ("complete", Some("10.0.0.0/8"), None),
        ] {
            let (items, coverage) = run(inputs(status, baseline, "10.0.0.0/8"));
            assert!(items.is_empty(), "{status} {baseline:?}: no drift");
            assert_eq!(
                coverage.first().map(|c| c.code),
                code,
                "{status} {baseline:?}"
            );
        }
    }

    #[test]
    fn widening_is_drift_and_carries_the_rule_sides() {
        let (items, coverage) = run(inputs("complete", Some("10.0.0.0/8"), "0.0.0.0/0"));
        assert!(coverage.is_empty());
        assert_eq!(items.len(), 1);
        let i = &items[0].item;
        assert!(i.world && i.exception.is_none(), "{i:?}");
        assert_eq!(i.snapshot_id, 7);
        assert_eq!(
            i.baseline_approved_at.map(ts).as_deref(),
            Some("2026-11-01T00:00:00Z")
        );
    }

    /// Exceptions: (envelope CIDR or an unreadable one, expiry) → covered, or the reason.
    #[test]
    fn exception_rows() {
        let widened = || run(inputs("complete", Some("10.0.0.0/8"), "0.0.0.0/0"));
        let envelope = serde_json::to_value(widened().0[0].allowed.clone()).unwrap();
        let narrower = {
            let (items, _) = run(inputs("complete", Some("10.0.0.0/8"), "192.0.2.0/24"));
            serde_json::to_value(items[0].allowed.clone()).unwrap()
        };
        for (env, expires, covered, reason) in [
            (envelope.clone(), "2027-01-01T00:00:00Z", true, None),
            (
                envelope.clone(),
                "2026-11-30T00:00:00Z",
                false,
                Some("exception #1 expired on 2026-11-30T00:00:00Z"),
            ),
            (
                narrower,
                "2027-01-01T00:00:00Z",
                false,
                Some("exception #1 no longer covers this access"),
            ),
            (
                serde_json::json!("garbage"),
                "2027-01-01T00:00:00Z",
                false,
                Some("exception #1 has an unreadable envelope"),
            ),
        ] {
            let mut i = inputs("complete", Some("10.0.0.0/8"), "0.0.0.0/0");
            i.exceptions.push(exception(1, env, expires));
            let (items, _) = run(i);
            let item = &items[0].item;
            assert_eq!(item.exception.is_some(), covered, "{expires}: {item:?}");
            if let Some(r) = reason {
                assert!(
                    item.reasons.iter().any(|x| x.starts_with(r)),
                    "{r}: {:?}",
                    item.reasons
                );
            }
        }
    }
}
