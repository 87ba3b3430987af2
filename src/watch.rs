//! Continuous detection: one watch tick (`netdrift watch --once`, the daemon's `[watch]`
//! loop). Each live source reads its scopes' audit logs from the stored cursor (less the
//! overlap late deliveries need) and re-reads only what the new changes named; what was re-read
//! is merged into each scope's stored state and stored as a snapshot, then the same drift,
//! attribution and severity as a full run, recorded as a `watch` run in the run chain, and
//! delivered once. The cursors move only after everything else is stored, so a tick that fails
//! half way is read again, and the dedup by event id absorbs what is read twice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use netdrift_provider_api::watch::{WatchContext, WatchOutput, Watched};
use netdrift_snapshots::{Collected, Provider, Resource, ScopeKey, SnapshotStatus};

use crate::config::{Config, SourceKind, WatchConfig};
use crate::findings::{CoverageCode, CoverageFinding, DriftReport, Subject};
use crate::report::deliver::{self, CoverageLine, Delivered};
use crate::store::{ts, RunRecord, Store, StoreError};

/// What one scope's tick did, for the CLI and the run record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScopeTick {
    pub scope: ScopeKey,
    /// Whether its audit log was read.
    pub read: bool,
    pub events: usize,
    /// The resources re-read (their ids), and those found gone.
    pub reread: Vec<String>,
    pub gone: Vec<String>,
    /// Why the whole scope was re-collected.
    pub whole: Option<String>,
}

#[derive(Debug)]
pub struct WatchOutcome {
    /// The recorded `watch` run; `None` when nothing changed and nothing went wrong.
    pub run_id: Option<i64>,
    pub scopes: Vec<ScopeTick>,
    /// Sources that cannot watch (file sources, AWS without CloudTrail): the nightly run covers
    /// them.
    pub unwatched: Vec<String>,
    pub new_events: usize,
    /// Drift and findings of the re-read scopes.
    pub report: DriftReport,
    pub delivered: Delivered,
}

/// One watch tick.
pub fn watch_once(
    store: &mut dyn Store,
    cfg: &Config,
    shutdown: &netdrift_provider_api::Shutdown,
) -> Result<WatchOutcome> {
    let settings = cfg.watch.clone().unwrap_or(WatchConfig {
        interval: std::time::Duration::from_secs(300),
        overlap: chrono::Duration::seconds(900),
    });
    let started = crate::clock::now();
    let now = started;
    let cursors = store.watch_cursors()?;
    let last = store.last_collected()?;
    let default_start = now - chrono::Duration::days(1);
    let start_of = |key: &str| -> DateTime<Utc> {
        let k = ScopeKey::parse(key).ok();
        let from = k
            .as_ref()
            .and_then(|k| cursors.get(k).or(last.get(k)).copied());
        from.map(|t| t - settings.overlap)
            .unwrap_or(default_start)
            .min(now)
    };
    let earliest = cursors
        .values()
        .chain(last.values())
        .map(|t| *t - settings.overlap)
        .min()
        .unwrap_or(default_start)
        .min(default_start);
    let seen: HashSet<String> = store
        .events_between(earliest, now)?
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    let seen_fn = |id: &str| seen.contains(id);
    let known = |scope: &str| {
        ScopeKey::parse(scope)
            .map_err(|e| StoreError::Backend(e.into()))
            .and_then(|k| store.known_resources(&k))
            .unwrap_or_else(|e| {
                tracing::warn!(scope, error = %crate::text::causes(&e), "cannot read the stored snapshot; a whole-scope re-read reads every rule id afresh");
                Vec::new()
            })
    };
    let ctx = WatchContext {
        now,
        start: &start_of,
        seen: &seen_fn,
        known: &known,
        shutdown: shutdown.clone(),
    };
    let mut outputs: Vec<(Provider, String, WatchOutput)> = Vec::new();
    let mut unwatched = Vec::new();
    let live: Vec<_> = cfg
        .sources
        .iter()
        .filter_map(|s| match &s.kind {
            SourceKind::Live(l) => Some(l.source()),
            SourceKind::Files { .. } => {
                unwatched.push(format!("file:{}", s.name));
                None
            }
        })
        .collect();
    if !live.is_empty() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        for source in live {
            let label = format!("{}:{}", source.provider().as_str(), source.name());
            match rt.block_on(source.watch(&ctx)) {
                Some(out) => outputs.push((source.provider(), label, out)),
                None => unwatched.push(label),
            }
        }
    }
    drop(ctx);
    tick(store, cfg, outputs, unwatched, started)
}

/// Everything after the sources answered: merge, store, diff, record, deliver, move cursors.
fn tick(
    store: &mut dyn Store,
    cfg: &Config,
    outputs: Vec<(Provider, String, WatchOutput)>,
    unwatched: Vec<String>,
    now: DateTime<Utc>,
) -> Result<WatchOutcome> {
    let mut findings: Vec<CoverageFinding> = Vec::new();
    let mut lines: Vec<CoverageLine> = Vec::new();
    let mut snapshots: Vec<(Collected, String)> = Vec::new();
    let mut failures = Vec::new();
    let mut advance = Vec::new();
    let mut ticks = Vec::new();
    // Per re-read scope: the resource ids it re-read, or `None` when re-collected whole.
    let mut fresh: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    for (provider, label, out) in outputs {
        for p in &out.problems {
            findings.push(CoverageFinding {
                subject: Subject::Source(label.clone()),
                provider,
                code: CoverageCode::DiscoveryFailed,
                message: format!(
                    "{label}: watch: {} failed ({}): {}; its scopes were not watched this tick",
                    p.operation.as_deref().unwrap_or("discovery"),
                    p.code,
                    p.cause()
                ),
                snapshot_id: None,
                taken_at: None,
                problems: vec![p.clone()],
                uncollected: Vec::new(),
                evidence: Vec::new(),
            });
        }
        for w in out.scopes {
            let key = w.scope.key();
            let mut t = ScopeTick {
                scope: key.clone(),
                read: w.window.is_some(),
                events: w.events.len(),
                reread: w.states.iter().map(|r| r.id.as_str().to_string()).collect(),
                gone: w.gone.clone(),
                whole: w.whole_reason.clone(),
            };
            for f in &w.failed {
                let message = if f.event_id.is_empty() {
                    format!(
                        "watch: could not re-read {}: {}",
                        f.resource,
                        f.problem.cause()
                    )
                } else {
                    format!(
                        "saw {} on {}, could not read it: {}",
                        f.event,
                        f.resource,
                        f.problem.cause()
                    )
                };
                lines.push(CoverageLine {
                    id: format!("w-{}-{}", f.event_id, f.resource),
                    scope: key.to_string(),
                    resource: f.resource.clone(),
                    line: format!("[{}] {key}: {message}", CoverageCode::WatchRereadFailed),
                });
                findings.push(reread_finding(&w, message, vec![f.problem.clone()]));
            }
            if w.reread_anything() {
                match merged(store, &w)? {
                    Ok(c) => {
                        let ids =
                            |rs: &mut dyn Iterator<Item = String>| rs.collect::<BTreeSet<_>>();
                        let seen_now = match (&w.whole, c.status) {
                            (Some(_), SnapshotStatus::Complete) => None,
                            (Some(_), _) => Some(ids(&mut c
                                .resources
                                .iter()
                                .map(|r| r.id.as_str().to_string()))),
                            (None, _) => Some(ids(&mut w
                                .states
                                .iter()
                                .map(|r| r.id.as_str().to_string())
                                .chain(w.gone.iter().cloned()))),
                        };
                        fresh.insert(key.to_string(), seen_now);
                        snapshots.push((c, format!("watch:{label}")));
                    }
                    Err(why) => {
                        t.reread.clear();
                        findings.push(reread_finding(&w, why, Vec::new()));
                    }
                }
            }
            // A change whose re-read failed is not stored, and the cursor stops before it: the
            // next tick reads it again, as new, and retries.
            let retry: HashSet<&str> = w
                .failed
                .iter()
                .map(|f| f.event_id.as_str())
                .filter(|id| !id.is_empty())
                .collect();
            let held = w
                .events
                .iter()
                .filter(|e| retry.contains(e.event_id.as_str()))
                .map(|e| e.event_time)
                .min();
            let events: Vec<netdrift_snapshots::AuditEvent> = w
                .events
                .into_iter()
                .filter(|e| !retry.contains(e.event_id.as_str()))
                .collect();
            match (&w.window, w.failure) {
                (Some(win), _) => {
                    advance.push((key.clone(), held.map_or(win.end, |h| h.min(win.end))))
                }
                (None, Some(f)) => failures.push((provider, label.clone(), f)),
                (None, None) => {}
            }
            ticks.push((t, provider, label.clone(), events, w.window));
        }
    }
    // Snapshots first: a tick that stops after them re-reads the same changes next time.
    let snapshot_ids = store
        .record_collection(&snapshots, now)
        .context("storing the watch's snapshots")?;
    let mut stored_events = 0;
    for (_, provider, label, events, window) in &ticks {
        if let Some(win) = window {
            stored_events += crate::audit::store_events(
                store,
                *provider,
                events,
                &[(win.account.clone(), win.start, win.end)],
                label,
            )?;
        }
    }
    findings.extend(crate::audit::record_failures(store, &failures)?);
    let scopes: Vec<ScopeTick> = ticks.into_iter().map(|t| t.0).collect();
    let touched: HashSet<&str> = fresh.keys().map(String::as_str).collect();
    let mut report = crate::drift::report(Vec::new(), Vec::new(), now);
    let mut run_id = None;
    let mut delivered = Delivered::default();
    if !touched.is_empty() || !findings.is_empty() {
        let inputs = store.load_drift_inputs(&|s| touched.contains(s.key().as_str()))?;
        let (mut computed, coverage) = crate::drift::compute(&inputs, &cfg.drift, now)?;
        crate::iac::mark(&mut computed, &inputs, &crate::iac::load(&cfg.iac)?);
        drop(inputs);
        let mut coverage = coverage;
        coverage.extend(crate::attribution::attribute_all(
            store,
            cfg,
            &mut computed,
            now,
        )?);
        crate::iac::judge(&mut computed);
        findings.extend(coverage);
        let items = crate::drift::sorted(computed.into_iter().map(|c| c.item).collect());
        report = crate::drift::report(items, findings, now);
        let id = store.record_run(&run_record(
            cfg,
            &report,
            &scopes,
            &snapshot_ids,
            &unwatched,
            now,
        ))?;
        run_id = Some(id);
        delivered = deliver::deliver(
            store,
            cfg,
            id,
            &report.drift,
            &lines,
            &|d| match fresh.get(&d.scope) {
                Some(None) => true,
                Some(Some(ids)) => ids.contains(&d.resource),
                None => false,
            },
            now,
            None,
        )?;
    }
    // Last: the cursors, once everything they stand for is stored.
    store.advance_cursors(&advance, now)?;
    Ok(WatchOutcome {
        run_id,
        scopes,
        unwatched,
        new_events: stored_events,
        report,
        delivered,
    })
}

fn reread_finding(
    w: &Watched,
    message: String,
    problems: Vec<netdrift_snapshots::Problem>,
) -> CoverageFinding {
    CoverageFinding {
        subject: Subject::Scope(w.scope.key()),
        provider: w.scope.provider(),
        code: CoverageCode::WatchRereadFailed,
        message,
        snapshot_id: None,
        taken_at: None,
        problems,
        uncollected: Vec::new(),
        evidence: Vec::new(),
    }
}

/// The scope's state after the tick: re-collected whole, or its latest stored snapshot with the
/// re-read resources replaced, the gone ones removed and the new ones added. The merged
/// snapshot keeps the stored one's status, problems and uncollected kinds: it knows no more
/// than that one of everything not re-read. `Err` (a reason) when there is nothing stored to
/// merge into.
fn merged(store: &dyn Store, w: &Watched) -> Result<Result<Collected, String>> {
    if let Some(c) = &w.whole {
        return Ok(Ok(c.clone()));
    }
    let key = w.scope.key();
    let Some(base) = store
        .load_drift_inputs(&|s| s.key() == key)?
        .into_iter()
        .next()
    else {
        return Ok(Err(format!(
            "changes seen ({}) in a scope never collected: run `netdrift run` first",
            w.states
                .iter()
                .map(|r| r.id.as_str())
                .chain(w.gone.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    if base.snapshot.status == SnapshotStatus::Failed {
        return Ok(Err(format!(
            "changes seen, but the scope's latest snapshot ({}) failed: nothing to merge them into until the next full run",
            base.snapshot.id
        )));
    }
    let replaced: HashMap<&str, &Resource> = w.states.iter().map(|r| (r.id.as_str(), r)).collect();
    let gone: HashSet<&str> = w.gone.iter().map(String::as_str).collect();
    let mut resources: Vec<Resource> = Vec::with_capacity(base.actual.len() + w.states.len());
    let mut placed = HashSet::new();
    for r in base.actual {
        let id = r.id.as_str().to_string();
        if gone.contains(id.as_str()) {
            continue;
        }
        match replaced.get(id.as_str()) {
            Some(new) => {
                let mut new = (*new).clone();
                // Attachment comes from the interfaces, which a re-read does not list.
                if new.attached.is_none() {
                    new.attached = r.attached;
                }
                placed.insert(id);
                resources.push(new);
            }
            None => resources.push(r),
        }
    }
    resources.extend(
        w.states
            .iter()
            .filter(|r| !placed.contains(r.id.as_str()))
            .cloned(),
    );
    Ok(Ok(Collected {
        scope: w.scope.clone(),
        status: base.snapshot.status,
        resources,
        problems: base.snapshot.problems,
        uncollected: base.snapshot.uncollected,
    }))
}

fn run_record(
    cfg: &Config,
    report: &DriftReport,
    scopes: &[ScopeTick],
    snapshot_ids: &[i64],
    unwatched: &[String],
    now: DateTime<Utc>,
) -> RunRecord {
    RunRecord {
        config: cfg.redacted(),
        started_at: now,
        finished_at: crate::clock::now(),
        summary: serde_json::json!({
            "kind": "watch",
            "snapshot_time": ts(now),
            "scopes": scopes,
            "unwatched": unwatched,
            "drift_items": report.drift.len(),
            "unapproved": report.drift.iter().filter(|i| i.is_unapproved()).count(),
            "by_severity": crate::report::severity_counts(&report.drift),
            "coverage_findings": report.coverage.len(),
        }),
        snapshot_ids: snapshot_ids.to_vec(),
        items: crate::report::record_items(report),
        coverage: crate::report::record_coverage(report),
    }
}
