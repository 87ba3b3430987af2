//! Deliver-once: what a run (nightly or a watch tick) sends to the webhook. Each unapproved
//! drift item at or above the threshold is delivered once, whichever run found it first; a
//! re-read failure is delivered once per change it followed; a delivered item that a later run
//! no longer finds, in a scope that run saw, goes out as resolved, naming who reverted it when
//! the stored audit events say. Nothing is recorded as delivered unless the webhook took the
//! message, so a failed delivery is retried by the next run.

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::findings::DriftItem;
use crate::store::{DeliveryRow, Store};

use super::webhook::{self, Delivery};

/// Whether a run saw an open delivery's resource afresh, so its absence from the run's items
/// means it is gone (a scope that failed, or a resource a watch tick did not re-read, says
/// nothing).
pub type Covered<'a> = &'a dyn Fn(&DeliveryRow) -> bool;

/// A coverage line to deliver once (a change the watch saw but could not re-read).
#[derive(Debug, Clone)]
pub struct CoverageLine {
    /// Stable: the same failure for the same change is one delivery.
    pub id: String,
    pub scope: String,
    pub resource: String,
    pub line: String,
}

/// What a run delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub items: usize,
    pub coverage: usize,
    pub resolved: usize,
    /// The webhook's last error, when the message did not go out (it is retried next run).
    pub failed: Option<String>,
}

/// Deliver what is new and what was resolved in run `run_id`, on every webhook route. Without
/// a webhook nothing is sent or recorded.
#[allow(clippy::too_many_arguments)]
pub fn deliver(
    store: &mut dyn Store,
    cfg: &Config,
    run_id: i64,
    items: &[DriftItem],
    coverage: &[CoverageLine],
    covered: Covered<'_>,
    now: DateTime<Utc>,
    report_path: Option<&str>,
) -> Result<Delivered> {
    let mut all = Delivered::default();
    if cfg.report.webhooks.is_empty() {
        return Ok(all);
    }
    let open = store.open_deliveries()?;
    let mut events = None;
    let run = Run {
        id: run_id,
        items,
        coverage,
        covered,
        now,
        report_path,
    };
    for hook in &cfg.report.webhooks {
        let d = deliver_route(store, hook, &open, &mut events, run)?;
        all.items += d.items;
        all.coverage += d.coverage;
        all.resolved += d.resolved;
        all.failed = d.failed.or(all.failed);
    }
    Ok(all)
}

/// The stored audit events read for "reverted by", and since when.
type StoredEvents = (DateTime<Utc>, Vec<netdrift_snapshots::AuditEvent>);

/// What one run has to deliver.
#[derive(Clone, Copy)]
struct Run<'a> {
    id: i64,
    items: &'a [DriftItem],
    coverage: &'a [CoverageLine],
    covered: Covered<'a>,
    now: DateTime<Utc>,
    report_path: Option<&'a str>,
}

/// The scope key's provider (`aws:…`).
fn provider_of(scope: &str) -> Option<netdrift_snapshots::Provider> {
    scope.split(':').next().and_then(|p| p.parse().ok())
}

/// One route: its items at its threshold that pass its filter, delivered once on it; what it
/// delivered before and a run finds gone, resolved on it.
fn deliver_route(
    store: &mut dyn Store,
    hook: &crate::config::WebhookConfig,
    open: &[DeliveryRow],
    events: &mut Option<StoredEvents>,
    run: Run<'_>,
) -> Result<Delivered> {
    let Run {
        id: run_id,
        items,
        coverage,
        covered,
        now,
        report_path,
    } = run;
    let candidates: Vec<&DriftItem> = items
        .iter()
        .filter(|i| i.is_unapproved() && i.severity >= hook.min_severity)
        .filter(|i| {
            hook.filter
                .matches(i.provider, i.scope.as_str(), Some(&i.tags))
        })
        .collect();
    let coverage: Vec<&CoverageLine> = coverage
        .iter()
        .filter(|c| provider_of(&c.scope).is_none_or(|p| hook.filter.matches(p, &c.scope, None)))
        .collect();
    let mut ids: Vec<&str> = candidates.iter().map(|i| i.id.as_str()).collect();
    ids.extend(coverage.iter().map(|c| c.id.as_str()));
    let before = store.delivered_among(&hook.name, &ids)?;
    let new: Vec<&DriftItem> = candidates
        .into_iter()
        .filter(|i| !before.contains(&i.id))
        .collect();
    let coverage: Vec<&CoverageLine> = coverage
        .into_iter()
        .filter(|c| !before.contains(&c.id))
        .collect();
    let gone: Vec<DeliveryRow> = open
        .iter()
        .filter(|d| {
            d.route == hook.name
                && d.kind == "drift"
                && covered(d)
                && !items.iter().any(|i| {
                    i.is_unapproved()
                        && i.scope.as_str() == d.scope
                        && i.resource == d.resource
                        && i.direction.as_str() == d.direction
                })
        })
        .cloned()
        .collect();
    // The stored events since the oldest of them, read once for every route that needs no
    // older ones.
    if let Some(t) = gone.iter().map(|d| d.delivered_at).min() {
        let from = t - chrono::Duration::seconds(REVERT_SLACK);
        if events.as_ref().is_none_or(|(since, _)| *since > from) {
            *events = Some((from, store.events_between(from, now)?));
        }
    }
    let stored = events
        .as_ref()
        .map(|(_, e)| e.as_slice())
        .unwrap_or_default();
    let resolved: Vec<DeliveryRow> = gone
        .into_iter()
        .map(|d| DeliveryRow {
            resolved_at: Some(now),
            resolved_run: Some(run_id),
            resolved_by: reverted_by(stored, &d),
            ..d
        })
        .collect();
    if new.is_empty() && coverage.is_empty() && resolved.is_empty() {
        return Ok(Delivered::default());
    }
    let text = message(
        &new,
        &coverage,
        &resolved,
        hook.min_severity,
        run_id,
        report_path,
    );
    let rows: Vec<DeliveryRow> = new
        .iter()
        .map(|i| DeliveryRow {
            route: hook.name.clone(),
            item_id: i.id.clone(),
            kind: "drift".into(),
            scope: i.scope.to_string(),
            resource: i.resource.clone(),
            direction: i.direction.as_str().to_string(),
            severity: i.severity.as_str().to_string(),
            line: line(i),
            run_id,
            delivered_at: now,
            resolved_at: None,
            resolved_run: None,
            resolved_by: None,
        })
        .chain(coverage.iter().map(|c| DeliveryRow {
            route: hook.name.clone(),
            item_id: c.id.clone(),
            kind: "coverage".into(),
            scope: c.scope.clone(),
            resource: c.resource.clone(),
            direction: String::new(),
            severity: String::new(),
            line: c.line.clone(),
            run_id,
            delivered_at: now,
            resolved_at: None,
            resolved_run: None,
            resolved_by: None,
        }))
        .collect();
    match webhook::deliver(hook, &text) {
        Delivery::Failed {
            attempts,
            last_error,
        } => {
            tracing::error!(
                route = %hook.name,
                attempts,
                error = %last_error,
                "webhook delivery failed; the run and its reports are unaffected, the next run sends it again"
            );
            Ok(Delivered {
                failed: Some(last_error),
                ..Delivered::default()
            })
        }
        d => {
            tracing::info!(route = %hook.name, ?d, new = new.len(), resolved = resolved.len(), "webhook");
            store.record_deliveries(&rows, &resolved)?;
            Ok(Delivered {
                items: new.len(),
                coverage: coverage.len(),
                resolved: resolved.len(),
                failed: None,
            })
        }
    }
}

/// A minute before the delivery counts: the re-read and the message are not one instant.
const REVERT_SLACK: i64 = 60;

/// Who made the last change to the resource since it was delivered, when the stored audit
/// events name one; an AWS `Authorize*` only adds access, so it is never the revert.
fn reverted_by(events: &[netdrift_snapshots::AuditEvent], d: &DeliveryRow) -> Option<String> {
    let since = d.delivered_at - chrono::Duration::seconds(REVERT_SLACK);
    events
        .iter()
        .rev()
        .filter(|e| e.event_time >= since)
        .filter(|e| e.succeeded && e.catalogued && !e.event_name.starts_with("Authorize"))
        .find(|e| {
            e.resources
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&d.resource))
        })
        .and_then(|e| e.actor.principal.clone())
}

/// One line per drift item: severity, where, what, who.
pub fn line(i: &DriftItem) -> String {
    let who = i
        .attribution
        .as_ref()
        .and_then(|a| a.actors.first())
        .and_then(|a| a.principal.clone())
        .unwrap_or_else(|| "unattributed".into());
    format!(
        "• [{}] {} {} {}: {} (by {})",
        i.severity.as_str().to_uppercase(),
        i.provider,
        i.scope,
        i.resource,
        super::headline(i),
        who
    )
}

/// The message: new items (riskiest first, ten at most), then what could not be re-read, then
/// what was resolved.
fn message(
    new: &[&DriftItem],
    coverage: &[&CoverageLine],
    resolved: &[DeliveryRow],
    min: netdrift_snapshots::Severity,
    run_id: i64,
    report_path: Option<&str>,
) -> String {
    let mut s = String::new();
    if !new.is_empty() {
        let crit = new
            .iter()
            .filter(|i| i.severity == netdrift_snapshots::Severity::Critical)
            .count();
        s += &format!(
            "netdrift: {} new unapproved drift item(s) at {} or above ({} critical), run {run_id}\n",
            new.len(),
            min.as_str(),
            crit,
        );
        for i in new.iter().take(10) {
            s += &line(i);
            s.push('\n');
        }
        if new.len() > 10 {
            s += &format!("… and {} more\n", new.len() - 10);
        }
    }
    if !coverage.is_empty() {
        s += &format!(
            "netdrift: {} change(s) seen but not re-read, run {run_id}\n",
            coverage.len()
        );
        for c in coverage {
            s += &format!("• {}\n", c.line);
        }
    }
    if !resolved.is_empty() {
        s += &format!(
            "netdrift: {} drift item(s) resolved, run {run_id}\n",
            resolved.len()
        );
        for d in resolved {
            let by = d
                .resolved_by
                .as_deref()
                .map(|b| format!("reverted by {b}"))
                .unwrap_or_else(|| "the logs do not say who reverted it".into());
            s += &format!(
                "• resolved: {} {} {} ({by})\n",
                d.scope, d.resource, d.direction
            );
        }
    }
    if let Some(p) = report_path {
        s += &format!("Report: {p}\n");
    }
    s
}
