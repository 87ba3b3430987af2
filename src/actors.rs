//! `netdrift actors`: every identity that changed, or tried and failed to change, firewall
//! state in a period, from the stored audit events (MITRE ATT&CK AN1188: "review the
//! privileged identities and API keys that can modify firewall policy"). Per identity: its
//! class, how it authenticated, its changes and failed attempts, what it touched, changes
//! outside change windows, when it was first and last seen, source addresses and tools; and
//! flags, ranked: root, long-term keys, failed attempts (probing), break-glass use, identities
//! seen for the first time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use netdrift_snapshots::{Actor, AuditEvent, KeyType, Scope};

use crate::config::{AttributionConfig, ChangeWindow};

/// How far before a period an identity's earlier changes are looked for (`first-seen`).
pub const LOOKBACK_DAYS: i64 = 90;

/// The flags, most urgent first (the ranking).
pub const FLAGS: [&str; 6] = [
    "root",
    "long-term-key",
    "failed-attempts",
    "break-glass",
    "first-seen",
    "outside-change-window",
];

/// One identity's activity in the period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActorRow {
    /// Who: the human or pipeline behind a role session when the logs show it, else the
    /// principal as logged, else the access key.
    pub principal: String,
    /// `root`, `break-glass`, `pipeline`, `long-term-key`, `human` or `unknown`.
    pub class: &'static str,
    /// How it authenticated, one entry per way seen.
    pub authentication: Vec<String>,
    /// Successful firewall changes.
    pub changes: usize,
    /// Failed attempts by error code.
    pub failed: BTreeMap<String, usize>,
    pub resources: Vec<String>,
    pub scopes: Vec<String>,
    /// Successful changes outside every configured change window (null without windows).
    pub outside_change_windows: Option<usize>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub first_seen: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub last_seen: DateTime<Utc>,
    pub source_ips: Vec<String>,
    pub tools: Vec<String>,
    /// Subset of [`FLAGS`], in that order.
    pub flags: Vec<&'static str>,
}

/// What the aggregation reads besides the events: the issuing event of a temporary key.
pub struct Lookups<'a> {
    /// A store error is an error, never "no issuer".
    pub issuer: &'a dyn Fn(&str) -> anyhow::Result<Option<AuditEvent>>,
}

/// The identities behind the catalogued events of `events` (those before a period: who is
/// not among them is seen for the first time).
pub fn identities(events: &[AuditEvent], look: &Lookups<'_>) -> anyhow::Result<BTreeSet<String>> {
    events
        .iter()
        .filter(|e| e.catalogued)
        .map(|e| Ok(identity(&e.actor, origin(&e.actor, look)?.as_ref())))
        .collect()
}

/// The role chain's origin of a temporary key: the identity that assumed the role (up to five
/// hops), when the issuing events were imported.
fn origin(a: &Actor, look: &Lookups<'_>) -> anyhow::Result<Option<Actor>> {
    let mut cur = a.clone();
    let mut found = None;
    for _ in 0..crate::store::MAX_CHAIN {
        let Some(key) = crate::store::temporary_key(&cur).map(str::to_string) else {
            break;
        };
        let Some(issuer) = (look.issuer)(&key)? else {
            break;
        };
        cur = issuer.actor.clone();
        found = Some(cur.clone());
    }
    Ok(found)
}

fn authentication(a: &Actor, origin: Option<&Actor>) -> String {
    if a.kind == Some(netdrift_snapshots::ActorType::Root) {
        return "root credentials".into();
    }
    if let Some(k) = &a.service_account_key {
        return format!("service-account key {k}");
    }
    if !a.delegation_chain.is_empty() {
        let mut chain = a.delegation_chain.clone();
        chain.extend(a.principal.clone());
        return format!("impersonation: {}", chain.join(" → "));
    }
    if let Some(r) = &a.role_assignment {
        return format!("role assignment {r}");
    }
    match a.key_type {
        Some(KeyType::LongTerm) => format!(
            "long-term access key {}",
            a.access_key_id.as_deref().unwrap_or("?")
        ),
        Some(KeyType::Temporary) => {
            let role = a.role.as_deref().unwrap_or("a role");
            match origin.and_then(|o| o.principal.as_deref()) {
                Some(p) => format!("temporary credentials: {role}, assumed by {p}"),
                None => format!("temporary credentials: {role}"),
            }
        }
        None => a
            .kind
            .map(|k| k.as_str().to_string())
            .unwrap_or_else(|| "unknown".into()),
    }
}

fn identity(a: &Actor, origin: Option<&Actor>) -> String {
    a.identity_center_user
        .clone()
        // A GCP caller impersonating a service account: the chain starts with the caller.
        .or_else(|| a.delegation_chain.first().cloned())
        .or_else(|| a.source_identity.clone())
        .or_else(|| origin.and_then(|o| o.principal.clone()))
        .or_else(|| a.principal.clone())
        .or_else(|| a.access_key_id.clone())
        .unwrap_or_else(|| "(unknown)".into())
}

fn event_scope(ev: &AuditEvent) -> Option<Scope> {
    ev.account
        .as_deref()
        .map(|acct| Scope::new(ev.provider, acct, ev.region.clone()))
}

/// The identities behind the catalogued `events` of the period that `scope` (a scope filter
/// as `--scope` takes it) accepts, ranked: by their most urgent flag, then by changes and
/// failed attempts. `earlier` are the identities seen before the period.
pub fn actors(
    events: &[AuditEvent],
    scope: Option<&str>,
    earlier: &BTreeSet<String>,
    cfg: &AttributionConfig,
    windows: &[ChangeWindow],
    look: &Lookups<'_>,
) -> anyhow::Result<Vec<ActorRow>> {
    let mut rows: BTreeMap<String, ActorRow> = BTreeMap::new();
    for ev in events.iter().filter(|e| e.catalogued) {
        let sc = event_scope(ev);
        if let Some(f) = scope {
            if !sc
                .as_ref()
                .is_some_and(|s| crate::drift::scope_matches(f, s))
            {
                continue;
            }
        }
        let origin = origin(&ev.actor, look)?;
        let who = identity(&ev.actor, origin.as_ref());
        let class = crate::attribution::classify(&ev.actor, origin.as_ref(), cfg);
        let row = rows.entry(who.clone()).or_insert_with(|| ActorRow {
            principal: who,
            class,
            authentication: Vec::new(),
            changes: 0,
            failed: BTreeMap::new(),
            resources: Vec::new(),
            scopes: Vec::new(),
            outside_change_windows: (!windows.is_empty()).then_some(0),
            first_seen: ev.event_time,
            last_seen: ev.event_time,
            source_ips: Vec::new(),
            tools: Vec::new(),
            flags: Vec::new(),
        });
        // The most urgent class seen wins (a root use is not hidden by later human use).
        let rank = |c: &str| {
            [
                "root",
                "break-glass",
                "long-term-key",
                "pipeline",
                "human",
                "unknown",
            ]
            .iter()
            .position(|x| *x == c)
            .unwrap_or(9)
        };
        if rank(class) < rank(row.class) {
            row.class = class;
        }
        let auth = authentication(&ev.actor, origin.as_ref());
        push_unique(&mut row.authentication, auth);
        if ev.succeeded {
            row.changes += 1;
            // As attribution judges a window: its time, its scope patterns, its principals.
            let key = sc.as_ref().map(|s| s.key().to_string());
            let mut names: Vec<&str> = [&ev.actor.principal, &ev.actor.role]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            names.extend(ev.actor.delegation_chain.iter().map(String::as_str));
            names.extend(origin.as_ref().and_then(|o| o.principal.as_deref()));
            let in_window = windows.iter().any(|w| {
                use crate::attribution::matches_any;
                w.contains(ev.event_time)
                    && (w.scopes.is_empty()
                        || key.as_deref().is_some_and(|k| matches_any(&w.scopes, &[k])))
                    && (w.principals.is_empty() || matches_any(&w.principals, &names))
            });
            if let (Some(n), false) = (row.outside_change_windows.as_mut(), in_window) {
                *n += 1;
            }
        } else {
            // The error code, without the message some logs append to it.
            let code = ev
                .error
                .as_deref()
                .map(|e| e.split(':').next().unwrap_or(e).trim().to_string())
                .unwrap_or_else(|| "failed".into());
            *row.failed.entry(code).or_default() += 1;
        }
        for r in &ev.resources {
            push_unique(&mut row.resources, r.clone());
        }
        if let Some(s) = &sc {
            push_unique(&mut row.scopes, s.key().to_string());
        }
        row.first_seen = row.first_seen.min(ev.event_time);
        row.last_seen = row.last_seen.max(ev.event_time);
        if let Some(ip) = &ev.actor.source_ip {
            push_unique(&mut row.source_ips, ip.clone());
        }
        if let Some(t) = ev.actor.tool.clone().or_else(|| {
            ev.actor
                .user_agent
                .as_deref()
                .and_then(netdrift_snapshots::audit::tool_from_user_agent)
                .map(str::to_string)
        }) {
            push_unique(&mut row.tools, t);
        }
        if ev.actor.key_type == Some(KeyType::LongTerm) && !row.flags.contains(&"long-term-key") {
            row.flags.push("long-term-key");
        }
    }
    let mut out: Vec<ActorRow> = rows.into_values().collect();
    for r in &mut out {
        let mut flags: BTreeSet<&'static str> = r.flags.drain(..).collect();
        if r.class == "root" {
            flags.insert("root");
        }
        if r.class == "break-glass" {
            flags.insert("break-glass");
        }
        if !r.failed.is_empty() {
            flags.insert("failed-attempts");
        }
        if r.outside_change_windows.is_some_and(|n| n > 0) {
            flags.insert("outside-change-window");
        }
        if !earlier.contains(&r.principal) {
            flags.insert("first-seen");
        }
        r.flags = FLAGS
            .iter()
            .copied()
            .filter(|f| flags.contains(f))
            .collect();
        r.resources.sort();
        r.scopes.sort();
        r.source_ips.sort();
        r.tools.sort();
    }
    let urgency = |r: &ActorRow| {
        r.flags
            .first()
            .and_then(|f| FLAGS.iter().position(|x| x == f))
            .unwrap_or(FLAGS.len())
    };
    out.sort_by(|a, b| {
        urgency(a)
            .cmp(&urgency(b))
            .then(b.changes.cmp(&a.changes))
            .then(
                b.failed
                    .values()
                    .sum::<usize>()
                    .cmp(&a.failed.values().sum::<usize>()),
            )
            .then(a.principal.cmp(&b.principal))
    });
    Ok(out)
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The identities behind the stored firewall events of a period, as the report and the evidence
/// bundle carry them.
#[derive(Debug, Clone, Serialize)]
pub struct Actors {
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub from: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub to: DateTime<Utc>,
    pub actors: Vec<ActorRow>,
}

/// The actors of `[from, to]` in `scope` from the store, classified by `[attribution]` and the
/// change windows; "first seen" looks [`LOOKBACK_DAYS`] back.
pub fn of_period(
    store: &dyn crate::store::Store,
    attribution: &AttributionConfig,
    windows: &[ChangeWindow],
    scope: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Actors> {
    // Each temporary key's issuing event is read once, however many events used the key.
    let seen = std::cell::RefCell::new(std::collections::HashMap::new());
    let issuer = |key: &str| -> anyhow::Result<Option<AuditEvent>> {
        if let Some(hit) = seen.borrow().get(key) {
            return Ok(Clone::clone(hit));
        }
        let found = store.event_issuing(key)?;
        seen.borrow_mut().insert(key.to_string(), found.clone());
        Ok(found)
    };
    let look = Lookups { issuer: &issuer };
    let before: Vec<AuditEvent> = store
        .events_between(from - chrono::Duration::days(LOOKBACK_DAYS), from)?
        .into_iter()
        .filter(|e| e.event_time < from)
        .collect();
    let earlier = identities(&before, &look)?;
    let events = store.events_between(from, to)?;
    let actors = actors(&events, scope, &earlier, attribution, windows, &look)?;
    Ok(Actors { from, to, actors })
}

/// The actors of the period since the run before `run_id` took its snapshot (a day when there
/// is none): the nightly report's section.
pub fn since_previous_run(
    store: &dyn crate::store::Store,
    cfg: &crate::config::Config,
    run_id: i64,
    to: DateTime<Utc>,
) -> anyhow::Result<Actors> {
    let previous = store.runs(2)?.into_iter().rfind(|r| r.id < run_id);
    let from = previous
        .map(|r| r.snapshot_time())
        .unwrap_or(to - chrono::Duration::days(1))
        .min(to);
    of_period(store, &cfg.attribution, &cfg.change_windows, None, from, to)
}
