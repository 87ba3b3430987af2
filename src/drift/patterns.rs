//! Pattern exceptions (`[[exception]]` in the configuration or a baseline file): which are in
//! force, and which one, if any, covers a drift item.

use chrono::{DateTime, Utc};

use netdrift_snapshots::{AccessSet, Resource, ResourceDiff};

use crate::config::DriftSettings;
use crate::findings::ExceptionRef;
use crate::store::ts;

/// The pattern exceptions in force: the configuration's, then those baseline files brought
/// (a configured pattern of the same name wins). A stored one that no longer reads is left out
/// with a warning.
pub fn patterns(
    settings: &DriftSettings,
    stored: &[crate::store::StoredPattern],
) -> Vec<crate::config::ExceptionPattern> {
    let mut out = settings.exceptions.clone();
    for p in stored {
        if out.iter().any(|e| e.name == p.name) {
            continue;
        }
        match crate::config::pattern_from_json(&p.body) {
            Ok(e) => out.push(e),
            Err(problems) => tracing::warn!(
                pattern = %p.name,
                origin = %p.origin,
                problems = %problems.join("; "),
                "a stored pattern exception no longer reads; it covers nothing"
            ),
        }
    }
    out
}

/// The first pattern exception (`[[exception]]`) that selects the resource and still covers
/// what it newly allows, and why the others that select it do not.
pub(super) fn pattern_exception(
    patterns: &[crate::config::ExceptionPattern],
    scope: &netdrift_snapshots::ScopeKey,
    d: &ResourceDiff,
    state: Option<&Resource>,
    allowed: &AccessSet,
    now: DateTime<Utc>,
) -> (Option<ExceptionRef>, Vec<String>) {
    if patterns.is_empty() {
        return (None, Vec::new());
    }
    let empty = std::collections::BTreeMap::new();
    let mut descriptions: Vec<&str> = Vec::new();
    if let Some(r) = state {
        descriptions.extend(r.description.as_deref());
        descriptions.extend(r.rules.iter().filter_map(|x| x.description.as_deref()));
    }
    let c = crate::config::Candidate {
        scope: scope.as_str(),
        resource: d.resource.as_str(),
        name: d.name.as_deref(),
        tags: state.map_or(&empty, |r| &r.tags),
        descriptions: &descriptions,
        direction: d.direction,
    };
    let mut why = Vec::new();
    for p in patterns.iter().filter(|p| p.selects(&c)) {
        if p.expires_at <= now {
            why.push(format!(
                "pattern exception {:?} expired on {}",
                p.name,
                ts(p.expires_at)
            ));
        } else if !allowed.is_subset_of(&p.envelope) {
            why.push(format!(
                "pattern exception {:?} does not cover this access: it allows only {}",
                p.name,
                p.allow.join("; ")
            ));
        } else {
            return (
                Some(ExceptionRef {
                    id: 0,
                    pattern: Some(p.name.clone()),
                    owner: p.owner.clone(),
                    reason: p.reason.clone(),
                    ticket: p.ticket.clone(),
                    expires_at: p.expires_at,
                }),
                Vec::new(),
            );
        }
    }
    (None, why)
}
