//! Attribution of drift items to the actors in the control-plane audit logs: who, through which
//! role, session or key, from where, with what tool, inside or outside an approved change.

mod load;
mod windows;

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};

use netdrift_snapshots::access::{evaluate, rule_boxes, AccessBox};
use netdrift_snapshots::{
    AccessSet, Actor, ActorType, AuditEvent, Change, KeyType, Resource, ResourceId,
};

pub use load::{attribute_all, query_for};
pub use windows::{load_records, matches_any, window_contains, ChangeRecord};

use crate::config::{AttributionConfig, ChangeWindow};
use crate::drift::Computed;
use crate::findings::{ActorRef, Attribution, AttributionStatus};
use crate::findings::{CoverageFinding, DriftItem};
use crate::store::ts;
pub use crate::store::{temporary_key, ItemInputs, MAX_CHAIN};

/// What attribution is configured with.
pub struct Settings<'a> {
    pub attribution: &'a AttributionConfig,
    pub change_windows: &'a [ChangeWindow],
    pub records: &'a [ChangeRecord],
}

/// The attribution window: from the last snapshot before the drift snapshot that still showed
/// the approved state (`last_seen`), else the approval, else the log retention horizon; to the
/// drift snapshot; widened by the clock skew on both sides.
pub fn window(
    item: &DriftItem,
    last_seen: Option<DateTime<Utc>>,
    cfg: &AttributionConfig,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    window_from(
        item.snapshot_taken_at,
        item.baseline_approved_at,
        last_seen,
        cfg,
    )
}

/// [`window`] from the two times of the item it reads.
pub fn window_from(
    snapshot_taken_at: DateTime<Utc>,
    baseline_approved_at: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    cfg: &AttributionConfig,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let end = snapshot_taken_at;
    let skew = Duration::seconds(cfg.clock_skew_seconds);
    let start = match (last_seen, baseline_approved_at) {
        (Some(s), _) => s,
        (None, Some(a)) => a.min(end),
        (None, None) => end - Duration::days(cfg.log_retention_days),
    };
    Ok((start - skew, end + skew))
}

fn payload_set(payload: &[netdrift_snapshots::Rule], item: &DriftItem) -> AccessSet {
    let context = Resource::new(ResourceId::new(item.resource.clone()), item.resource_kind);
    let boxes: Vec<AccessBox> = payload
        .iter()
        .filter(|r| r.direction == item.direction)
        .flat_map(|r| rule_boxes(r, &context))
        .map(|mut b| {
            b.allow = true;
            b
        })
        .collect();
    evaluate(&boxes)
}

fn is_delete(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.starts_with("delete") && !l.contains("entry")
        || l.ends_with("firewalls.delete")
        || l.ends_with("networksecuritygroups/delete")
}

/// A deleted NACL entry that was a deny covering the newly allowed access.
fn deleted_deny_entry(ev: &AuditEvent, c: &Computed, before: Option<&Resource>) -> bool {
    if ev.event_name != "DeleteNetworkAclEntry" {
        return false;
    }
    let record = ev.record();
    let req = &record["requestParameters"];
    let Some(number) = req["ruleNumber"]
        .as_i64()
        .or_else(|| req["ruleNumber"].as_str().and_then(|s| s.parse().ok()))
    else {
        return false;
    };
    let egress = req["egress"].as_bool().unwrap_or(false);
    let Some(before) = before else {
        return false;
    };
    before.rules.iter().any(|r| {
        r.priority == Some(number as u32)
            && (r.direction == netdrift_snapshots::Direction::Egress) == egress
            && r.action == netdrift_snapshots::Action::Deny
            && {
                let boxes: Vec<AccessBox> = rule_boxes(r, before)
                    .into_iter()
                    .map(|mut b| {
                        b.allow = true;
                        b
                    })
                    .collect();
                !evaluate(&boxes).intersection(&c.allowed).is_empty()
            }
    })
}

/// How surely one successful event made the item's change: `exact` when its request produces
/// the drift (a delete of a removed resource, a deleted deny entry that covered the new access,
/// a payload whose access meets it), else `probable`.
pub fn grade(ev: &AuditEvent, c: &Computed, before: Option<&Resource>) -> AttributionStatus {
    let item = &c.item;
    if item.change == Change::Removed && is_delete(&ev.event_name) {
        return AttributionStatus::Exact;
    }
    if deleted_deny_entry(ev, c, before) {
        return AttributionStatus::Exact;
    }
    // A request that carries only what it changes is applied onto the approved state.
    let applied;
    let payload: &[netdrift_snapshots::Rule] =
        if netdrift_provider_file::audit::carries_changes_only(ev) {
            applied = before
                .and_then(|before| {
                    netdrift_provider_file::audit::applied_onto(
                        ev,
                        before,
                        &scope_account(&item.scope),
                    )
                })
                .unwrap_or_default();
            &applied
        } else {
            &ev.payload
        };
    if !payload.is_empty() {
        let p = payload_set(payload, item);
        let hit = if ev.payload_removes {
            !p.intersection(&c.denied).is_empty()
        } else {
            !p.intersection(&c.allowed).is_empty()
        };
        if hit {
            return AttributionStatus::Exact;
        }
    }
    AttributionStatus::Probable
}

/// The ids whose events concern an item: the resource, what it replaces, its rules' ids.
pub fn ids_for(c: &Computed) -> Vec<String> {
    let mut ids = vec![c.item.resource.clone()];
    ids.extend(c.item.replaces.iter().cloned());
    ids.extend(c.rule_ids.iter().cloned());
    ids
}

/// Attribute one drift item from its inputs alone, and the coverage finding it reveals (a
/// logging gap, an audit read that failed).
pub fn attribute(
    c: &Computed,
    inputs: &ItemInputs,
    settings: &Settings<'_>,
    now: DateTime<Utc>,
) -> (Attribution, Option<CoverageFinding>) {
    let item = &c.item;
    let cfg = settings.attribution;
    let (_, end) = inputs.window;
    let (from, to) = inputs.window;
    let (from_s, to_s) = (ts(from), ts(to));
    let events = &inputs.events;
    let mut actors = Vec::with_capacity(events.len());
    let mut attempts = Vec::new();
    for ev in events.iter().filter(|e| e.catalogued) {
        let g = if ev.succeeded {
            grade(ev, c, inputs.before.as_ref())
        } else {
            AttributionStatus::Probable
        };
        let r = actor_ref(&inputs.issuers, cfg, ev, g);
        if ev.succeeded {
            actors.push(r);
        } else {
            attempts.push(r);
        }
    }
    // An event whose payload shows it concerns other access is not an actor of this item when
    // another event's payload proves the change.
    if actors.iter().any(|a| a.grade == AttributionStatus::Exact) {
        actors.retain(|a| a.grade == AttributionStatus::Exact || !has_payload(events, &a.event_id));
    }
    let account = scope_account(&item.scope);
    let mut gap = None;
    let failures = &inputs.failures;
    let failed_read = failures.first().map(|f| {
        format!(
            "audit logs of {} could not be read for {} to {} ({}: {})",
            if f.account == "*" {
                f.source.as_str()
            } else {
                f.account.as_str()
            },
            ts(f.start),
            ts(f.end),
            f.operation.as_deref().unwrap_or("read"),
            f.message
        )
    });
    let (status, mut reason) = if actors.iter().any(|a| a.grade == AttributionStatus::Exact) {
        (
            AttributionStatus::Exact,
            "the request payload of the event produces this drift".to_string(),
        )
    } else if !actors.is_empty() {
        (AttributionStatus::Probable, "events changed this resource in the window; their payload does not show this exact access".to_string())
    } else if end < now - Duration::days(cfg.log_retention_days) {
        (
            AttributionStatus::Unattributed,
            format!(
                "the window ended more than {} days ago, beyond the audit log retention",
                cfg.log_retention_days
            ),
        )
    } else if let Some(why) = &failed_read {
        let f = &failures[0];
        gap = Some(crate::audit::read_failed_finding(
            item.provider,
            &f.source,
            &netdrift_snapshots::AuditFailure {
                account: f.account.clone(),
                region: f.region.clone(),
                start: f.start,
                end: f.end,
                problem: netdrift_snapshots::Problem {
                    code: netdrift_snapshots::ProblemCode::from(f.code.as_str()),
                    kind: None,
                    operation: f.operation.clone(),
                    message: f.message.clone(),
                },
            },
        ));
        (
            AttributionStatus::Unattributed,
            format!("{why}: the change cannot be attributed from the logs, and their silence proves nothing"),
        )
    } else if !inputs.covered {
        (
            AttributionStatus::Unattributed,
            format!("no audit logs imported for {account} between {from_s} and {to_s}"),
        )
    } else {
        let msg = format!("audit logs for {account} cover {from_s} to {to_s} but record no change to {}: possible logging gap", item.resource);
        gap = Some(CoverageFinding {
            subject: item.scope.clone().into(),
            provider: item.provider,
            code: crate::findings::CoverageCode::LoggingGap,
            message: msg.clone(),
            snapshot_id: Some(item.snapshot_id),
            taken_at: Some(item.snapshot_taken_at),
            problems: Vec::new(),
            uncollected: Vec::new(),
            evidence: Vec::new(),
        });
        (AttributionStatus::Unattributed, msg)
    };
    if let (Some(why), false) = (&failed_read, status == AttributionStatus::Unattributed) {
        reason.push_str(&format!("; {why}, so other events may be missing"));
    }
    let change_record = change_record_for(settings, item, &actors);
    (
        Attribution {
            status,
            reason,
            actors,
            attempts,
            change_record,
            window_start: from,
            window_end: to,
        },
        gap,
    )
}

fn has_payload(events: &[AuditEvent], id: &str) -> bool {
    events.iter().any(|e| {
        e.event_id == id
            && (!e.payload.is_empty() || netdrift_provider_file::audit::carries_changes_only(e))
    })
}

fn scope_account(scope: &netdrift_snapshots::ScopeKey) -> String {
    scope.scope().account().to_string()
}

/// Follow a temporary key back through the `AssumeRole*` events that issued it: the chain's
/// steps, and the actor at its root (borrowed from the issuers).
fn role_chain<'a>(
    issuers: &'a HashMap<String, AuditEvent>,
    actor: &'a Actor,
) -> (Vec<String>, Option<&'a Actor>) {
    let mut chain = Vec::new();
    let mut cur = actor;
    let mut root = None;
    for _ in 0..MAX_CHAIN {
        let Some(key) = temporary_key(cur) else {
            break;
        };
        let Some(issuer) = issuers.get(key) else {
            break;
        };
        let who = issuer
            .actor
            .principal
            .as_deref()
            .unwrap_or("unknown principal");
        chain.push(format!(
            "{} assumed by {who} ({} at {})",
            cur.role.as_deref().unwrap_or("session"),
            issuer.event_name,
            netdrift_snapshots::time::millis(issuer.event_time)
        ));
        root = Some(&issuer.actor);
        cur = &issuer.actor;
    }
    (chain, root)
}

fn actor_ref(
    issuers: &HashMap<String, AuditEvent>,
    cfg: &AttributionConfig,
    ev: &AuditEvent,
    grade: AttributionStatus,
) -> ActorRef {
    let a = &ev.actor;
    let mut chain: Vec<String> = a
        .delegation_chain
        .iter()
        .map(|d| format!("impersonated by {d}"))
        .collect();
    let (role_chain, origin) = role_chain(issuers, a);
    chain.extend(role_chain);
    if let Some(si) = &a.source_identity {
        chain.push(format!("source identity {si}"));
    }
    if let Some(u) = &a.identity_center_user {
        chain.push(format!("Identity Center user {u}"));
    }
    let class = classify(a, origin, cfg);
    ActorRef {
        principal: a.principal.clone(),
        kind: a.kind.unwrap_or(ActorType::Unknown).as_str().to_string(),
        class: class.to_string(),
        role: a.role.clone(),
        source_identity: a.source_identity.clone(),
        access_key_id: a.access_key_id.clone(),
        key_type: a.key_type,
        service_account_key: a.service_account_key.clone(),
        role_assignment: a.role_assignment.clone(),
        source_ip: a.source_ip.clone(),
        user_agent: a.user_agent.clone(),
        tool: a.tool.clone(),
        event_id: ev.event_id.clone(),
        event_time: ev.event_time,
        event_name: ev.event_name.clone(),
        succeeded: ev.succeeded,
        error: ev.error.clone(),
        grade,
        chain,
    }
}

fn names(a: &Actor) -> Vec<&str> {
    [
        &a.principal,
        &a.role,
        &a.source_identity,
        &a.identity_center_user,
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .collect()
}

/// The actor class: `root`, `break-glass`, `pipeline`, `long-term-key`, `human` or `unknown`.
pub fn classify(a: &Actor, origin: Option<&Actor>, cfg: &AttributionConfig) -> &'static str {
    let mut all = names(a);
    all.extend(a.delegation_chain.iter().map(String::as_str));
    if let Some(o) = origin {
        all.extend(names(o));
    }
    if a.kind == Some(ActorType::Root) || origin.is_some_and(|o| o.kind == Some(ActorType::Root)) {
        return "root";
    }
    if matches_any(&cfg.break_glass, &all) {
        return "break-glass";
    }
    let ua = a.user_agent.as_deref().unwrap_or_default();
    if matches_any(&cfg.automation, &all)
        || cfg
            .automation_user_agents
            .iter()
            .any(|p| !p.is_empty() && ua.contains(p.as_str()))
    {
        return "pipeline";
    }
    if a.key_type == Some(KeyType::LongTerm) {
        return "long-term-key";
    }
    let human = |x: &Actor| matches!(x.kind, Some(ActorType::Human) | Some(ActorType::Federated));
    if human(a)
        || origin.is_some_and(human)
        || a.source_identity.is_some()
        || a.identity_center_user.is_some()
        || a.delegation_chain
            .iter()
            .any(|d| !d.ends_with(".gserviceaccount.com"))
    {
        return "human";
    }
    "unknown"
}

fn change_record_for(
    settings: &Settings<'_>,
    item: &DriftItem,
    actors: &[ActorRef],
) -> Option<serde_json::Value> {
    if actors.is_empty() {
        return None;
    }
    let scope = [item.scope.as_str()];
    let all_inside = |check: &dyn Fn(&ActorRef, DateTime<Utc>) -> bool| {
        actors.iter().all(|a| check(a, a.event_time))
    };
    let actor_names = |a: &ActorRef| -> Vec<String> {
        let mut v: Vec<String> = [&a.principal, &a.role]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        v.extend(a.chain.iter().cloned());
        v
    };
    for w in settings.change_windows {
        if !w.scopes.is_empty() && !matches_any(&w.scopes, &scope) {
            continue;
        }
        let ok = all_inside(&|a, t| {
            let n = actor_names(a);
            let refs: Vec<&str> = n.iter().map(String::as_str).collect();
            window_contains(w, t) && (w.principals.is_empty() || matches_any(&w.principals, &refs))
        });
        if ok {
            return Some(serde_json::json!({"kind": "window", "name": w.name, "ticket": w.ticket}));
        }
    }
    for r in settings.records {
        if !r.scopes.is_empty() && !matches_any(&r.scopes, &scope) {
            continue;
        }
        let ok = all_inside(&|a, t| {
            let n = actor_names(a);
            let refs: Vec<&str> = n.iter().map(String::as_str).collect();
            t >= r.start
                && t <= r.end
                && (r.principals.is_empty() || matches_any(&r.principals, &refs))
        });
        if ok {
            return Some(
                serde_json::json!({"kind": "record", "ticket": r.ticket, "start": ts(r.start), "end": ts(r.end)}),
            );
        }
    }
    None
}

/// Actor-based severity: raised for root, long-term keys, unknown actors, privileged humans
/// outside a window and logging gaps; lowered for approved changes by allowed principals.
pub(crate) fn apply_severity(item: &mut DriftItem, a: &Attribution, cfg: &AttributionConfig) {
    if item.effect == netdrift_snapshots::Effect::Cosmetic
        || item.severity == netdrift_snapshots::Severity::Info
    {
        return;
    }
    if a.change_record.is_some() {
        item.severity = item.severity.lowered();
        item.reasons.push(
            "lowered one level: made inside an approved change by an allowed principal".into(),
        );
        return;
    }
    let classes: Vec<&str> = a.actors.iter().map(|x| x.class.as_str()).collect();
    let raise = if classes.contains(&"root") {
        Some("made with root credentials")
    } else if classes.contains(&"long-term-key") {
        Some("made with a long-term access key")
    } else if classes.contains(&"unknown") {
        Some("made by an unknown actor")
    } else if classes.contains(&"break-glass") {
        Some("made through a break-glass role")
    } else if a.actors.iter().any(|x| {
        x.class == "human" && {
            let n: Vec<&str> = [&x.principal, &x.role]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            matches_any(&cfg.privileged, &n)
        }
    }) {
        Some("made by a privileged identity outside any approved change window")
    } else if a.status == AttributionStatus::Unattributed && a.reason.contains("logging gap") {
        Some("no audit event for a change the logs should show")
    } else {
        None
    };
    if let Some(why) = raise {
        item.severity = item.severity.raised();
        item.reasons.push(format!("raised one level: {why}"));
    }
}

#[cfg(test)]
mod tests;
