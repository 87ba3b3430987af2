//! One reconcile cycle: collect every source, store the snapshots, bring in audit events,
//! compute and attribute drift, record the run and write the report. The CLI (`netdrift run`)
//! and the daemon call the same `reconcile_once`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use netdrift_snapshots::{AuditFailure, Collected, Problem, SnapshotStatus};

use crate::config::{Config, SourceConfig, SourceKind};
use crate::drift;
use crate::findings::{CoverageFinding, DriftReport};
use crate::store::{ts, RunRecord, Store, StoreError};
use netdrift_snapshots::ScopeKey;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Time to record for the snapshots (replaying dumps); default now.
    pub at: Option<DateTime<Utc>>,
    /// Write the report files.
    pub write_report: bool,
    /// Triggered when netdrift is stopping (the daemon's SIGTERM): live scopes not yet read are
    /// recorded as failed (`cancelled`), so the run still ends, truthfully, within the stop
    /// timeout.
    pub shutdown: netdrift_provider_api::Shutdown,
}

#[derive(Debug)]
pub struct RunOutcome {
    pub run_id: i64,
    pub collected: Vec<(netdrift_snapshots::ScopeKey, SnapshotStatus, usize)>,
    pub report: DriftReport,
    pub report_files: Vec<PathBuf>,
    pub audit_events: usize,
}

/// Events a live source fetched: provider, events, the (account, start, end) windows looked at,
/// and the source label.
pub type LiveEvents = (
    netdrift_snapshots::Provider,
    Vec<netdrift_snapshots::AuditEvent>,
    Vec<crate::store::AuditSpan>,
    String,
    Vec<netdrift_provider_api::AuditObject>,
);

/// What collecting every source produced.
#[derive(Debug, Default)]
pub struct Collection {
    /// One snapshot per scope, with the source that produced it.
    pub items: Vec<(Collected, String)>,
    /// Audit events fetched live, per provider, with the (account, start, end) windows the
    /// lookups covered (even when they found nothing).
    pub events: Vec<LiveEvents>,
    /// Audit-log reads that failed, with their provider and source label.
    pub audit_failures: Vec<(netdrift_snapshots::Provider, String, AuditFailure)>,
    /// Findings about a whole source: discovery that failed or found no scope.
    pub findings: Vec<CoverageFinding>,
    /// Whether each checked scope's changes are logged at all.
    pub logging: Vec<netdrift_snapshots::logging::LoggingCheck>,
}

/// A finding about a whole source (`discovery-failed`), named by its label (`aws:org`).
fn source_finding(
    provider: netdrift_snapshots::Provider,
    label: &str,
    message: String,
    problems: Vec<Problem>,
) -> CoverageFinding {
    CoverageFinding {
        subject: crate::findings::Subject::Source(label.to_string()),
        provider,
        code: crate::findings::CoverageCode::DiscoveryFailed,
        message,
        snapshot_id: None,
        taken_at: None,
        problems,
        uncollected: Vec::new(),
        evidence: Vec::new(),
    }
}

/// Collect one file source (a failure is a failed snapshot).
fn collect_files(
    source: &SourceConfig,
    scope: &netdrift_snapshots::Scope,
    files: &[PathBuf],
) -> Collected {
    match netdrift_provider_file::import_scope(scope, files) {
        Ok(collected) => collected,
        Err(e) => {
            let code = match &e {
                netdrift_provider_file::ImportError::Io { .. } => {
                    netdrift_snapshots::ProblemCode::SourceMissing
                }
                _ => netdrift_snapshots::ProblemCode::Decode,
            };
            tracing::warn!(source = %source.name, scope = %scope, error = %e, "collection failed");
            Collected::failed(
                scope.clone(),
                Problem {
                    code,
                    kind: None,
                    operation: None,
                    message: e.to_string(),
                },
            )
        }
    }
}

/// Collect one live source on the cycle's runtime and hand its output to the cycle. Problems
/// of the source itself (discovery, credentials before any scope) and a source that resolved
/// to no scope are `discovery-failed` findings: what was not seen is never silence.
fn collect_live(
    rt: &tokio::runtime::Runtime,
    source: &dyn netdrift_provider_api::Source,
    ctx: &netdrift_provider_api::CollectContext<'_>,
    out: &mut Collection,
) {
    let provider = source.provider();
    let label = format!("{}:{}", provider.as_str(), source.name());
    let r = rt.block_on(source.collect(ctx));
    for p in &r.problems {
        tracing::warn!(source = %label, code = %p.code, operation = ?p.operation, "{}", p.message);
        let op = p.operation.as_deref().unwrap_or("discovery");
        let cause = p.cause();
        out.findings.push(source_finding(
            provider,
            &label,
            format!(
                "{label}: {op} failed ({}): {cause}; the accounts, projects or subscriptions it would name are not collected",
                p.code
            ),
            vec![p.clone()],
        ));
    }
    if r.scopes.is_empty() && r.problems.is_empty() {
        out.findings.push(source_finding(
            provider,
            &label,
            format!("{label} resolved to no scope: nothing was collected from it"),
            Vec::new(),
        ));
    }
    out.findings
        .extend(r.logging.iter().filter_map(crate::audit::logging_finding));
    out.logging.extend(r.logging);
    for f in r.audit_failures {
        tracing::warn!(source = %label, account = %f.account, "{}", f.problem.message);
        out.audit_failures.push((provider, label.clone(), f));
    }
    out.items
        .extend(r.scopes.into_iter().map(|s| (s, label.clone())));
    let windows = r
        .windows
        .into_iter()
        .map(|w| (w.account, w.start, w.end))
        .collect();
    out.events
        .push((provider, r.events, windows, label, r.objects));
}

/// Collect every source, at most `concurrency` file sources at a time; one failing source never
/// stops the others. `since(scope key)` is the start of the audit window of a scope;
/// `known(scope key)` gives the resources already stored for a scope, which a live provider may
/// reuse instead of asking again (AWS rule ids).
pub fn collect_all(
    cfg: &Config,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    known: &dyn Fn(&str) -> Vec<netdrift_snapshots::Resource>,
    processed: std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>,
    now: DateTime<Utc>,
    shutdown: &netdrift_provider_api::Shutdown,
) -> Collection {
    let mut out = Collection::default();
    let files: Vec<&SourceConfig> = cfg
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::Files { .. }))
        .collect();
    netdrift_provider_api::progress::report(netdrift_provider_api::progress::Step::Scopes(
        files.len(),
    ));
    for chunk in files.chunks(cfg.concurrency.max(1)) {
        let results: Vec<(Collected, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|src| {
                    s.spawn(move || match &src.kind {
                        SourceKind::Files { scope, files } => (
                            collect_files(src, scope, files),
                            format!("file:{}", src.name),
                        ),
                        _ => unreachable!("filtered to file sources"),
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("collector thread panicked"))
                .collect()
        });
        for (c, _) in &results {
            netdrift_provider_api::progress::report(netdrift_provider_api::progress::Step::Done(
                c.scope.key().as_str(),
            ));
        }
        out.items.extend(results);
    }
    let live: Vec<&dyn netdrift_provider_api::Source> = cfg
        .sources
        .iter()
        .filter_map(|s| match &s.kind {
            SourceKind::Live(live) => Some(live.source()),
            SourceKind::Files { .. } => None,
        })
        .collect();
    if live.is_empty() {
        return out;
    }
    let ctx = netdrift_provider_api::CollectContext {
        now,
        since,
        known,
        shutdown: shutdown.clone(),
        processed,
    };
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => {
            for source in live {
                collect_live(&rt, source, &ctx, &mut out);
            }
        }
        Err(e) => {
            for source in live {
                let label = format!("{}:{}", source.provider().as_str(), source.name());
                out.findings.push(source_finding(
                    source.provider(),
                    &label,
                    format!("{label}: cannot start the async runtime: {e}"),
                    Vec::new(),
                ));
            }
        }
    }
    out
}

/// Collect every source for a snapshot taken at `taken_at`, with the audit windows and stored
/// resources the store gives.
pub fn collect_with_store(
    store: &dyn Store,
    cfg: &Config,
    taken_at: DateTime<Utc>,
    shutdown: &netdrift_provider_api::Shutdown,
) -> Result<Collection> {
    let since_map = store.last_collected()?;
    let default_since = taken_at - chrono::Duration::days(1);
    // The log objects read before, back to the day before the earliest window's start (the
    // furthest back a source lists them).
    let earliest = since_map
        .values()
        .copied()
        .chain([default_since])
        .min()
        .unwrap_or(default_since);
    let read = store.processed_audit_objects(earliest - chrono::Duration::days(2))?;
    let processed = std::sync::Arc::new(move |object: &str| read.contains(object));
    let since = move |scope: &str| since_map.get(scope).copied().unwrap_or(default_since);
    let known = |scope: &str| {
        let stored = ScopeKey::parse(scope)
            .map_err(|e| StoreError::Backend(e.into()))
            .and_then(|k| store.known_resources(&k));
        stored.unwrap_or_else(|e| {
            tracing::warn!(scope, error = %crate::text::causes(&e), "cannot read the stored snapshot; everything is read afresh");
            Vec::new()
        })
    };
    Ok(collect_all(
        cfg, &since, &known, processed, taken_at, shutdown,
    ))
}

/// How many scopes' stored states drift holds in memory at a time.
pub const DRIFT_BATCH: usize = 256;

/// Items, coverage findings and (when asked) the attack surface.
pub type DriftOf = (
    Vec<drift::Computed>,
    Vec<CoverageFinding>,
    Option<crate::exposure::Surface>,
);

/// The drift of every scope `select` accepts, loaded and computed `batch` scopes at a time
/// (what one batch loaded is dropped before the next is read; [`DRIFT_BATCH`] in a run, and
/// any batch size gives the same result): the items, marked with what the Terraform `states`
/// manage and ranked riskiest first, the coverage findings, and the attack surface when
/// `with_surface`.
pub fn drift_of(
    store: &dyn Store,
    cfg: &Config,
    select: &dyn Fn(&netdrift_snapshots::Scope) -> bool,
    states: &[crate::iac::State],
    now: DateTime<Utc>,
    with_surface: bool,
    batch: usize,
) -> Result<DriftOf> {
    let (mut computed, mut coverage) = (Vec::new(), Vec::new());
    let mut surface = with_surface.then(crate::exposure::Surface::new);
    store.visit_drift_inputs(select, batch, &mut |inputs| {
        let (mut items, found) = drift::compute(&inputs, &cfg.drift, now)?;
        crate::iac::mark(&mut items, &inputs, states);
        if let Some(s) = surface.as_mut() {
            s.add(&inputs);
        }
        computed.append(&mut items);
        coverage.extend(found);
        Ok(())
    })?;
    drift::sort_computed(&mut computed);
    Ok((computed, coverage, surface.map(|s| s.finish())))
}

/// What one snapshot pass stored.
#[derive(Debug)]
pub struct Snapshot {
    /// (scope key, status, resources) per collected scope.
    pub collected: Vec<(netdrift_snapshots::ScopeKey, SnapshotStatus, usize)>,
    pub snapshot_ids: Vec<i64>,
    /// New audit events stored.
    pub audit_events: usize,
    /// What the sources could not see: discovery failures first, then unreadable audit logs.
    pub findings: Vec<CoverageFinding>,
    /// Whether each checked scope's changes are logged at all.
    pub logging: Vec<netdrift_snapshots::logging::LoggingCheck>,
}

/// Collect every source, store the snapshots, bring in the audit events (configured files and
/// what live sources fetched) and record the audit reads that failed. The first half of every
/// cycle: the daemon's snapshot job runs it alone, `reconcile_once` goes on to drift.
pub fn snapshot_once(
    store: &mut dyn Store,
    cfg: &Config,
    taken_at: DateTime<Utc>,
    shutdown: &netdrift_provider_api::Shutdown,
) -> Result<Snapshot> {
    if let Some(max) = cfg.max_decompressed {
        netdrift_provider_file::set_max_decompressed(max);
    }
    let collection = collect_with_store(store, cfg, taken_at, shutdown)?;
    let collected: Vec<(netdrift_snapshots::ScopeKey, SnapshotStatus, usize)> = collection
        .items
        .iter()
        .map(|(c, _)| (c.scope.key(), c.status, c.resources.len()))
        .collect();
    let snapshot_ids = store
        .record_collection(&collection.items, taken_at)
        .context("storing snapshots")?;
    crate::progress::phase("audit");
    let (mut audit_events, mut failures) = crate::audit::import_configured(store, cfg)?;
    for (provider, events, windows, source, objects) in &collection.events {
        audit_events +=
            crate::audit::store_read(store, *provider, events, windows, objects, source)?;
    }
    failures.extend(collection.audit_failures);
    let mut findings = collection.findings;
    findings.extend(crate::audit::record_failures(store, &failures)?);
    Ok(Snapshot {
        collected,
        snapshot_ids,
        audit_events,
        findings,
        logging: collection.logging,
    })
}

pub fn reconcile_once(
    store: &mut dyn Store,
    cfg: &Config,
    opts: &RunOptions,
) -> Result<RunOutcome> {
    let _progress = crate::progress::Cycle::start("discover");
    let started = crate::clock::now();
    let taken_at = opts.at.unwrap_or(started);
    // The period this run's audit reads stand for: since the previous run's snapshot.
    let period_start = store
        .runs(1)?
        .first()
        .map(|r| r.snapshot_time())
        .unwrap_or(taken_at - chrono::Duration::days(1));
    let snap = snapshot_once(store, cfg, taken_at, &opts.shutdown)?;
    let matrix = crate::report::matrix::build(
        store,
        &snap.collected,
        &snap.findings,
        &snap.logging,
        period_start.min(taken_at),
        taken_at,
    )?;
    let (summary, snapshot_ids, audit_events) =
        (snap.collected, snap.snapshot_ids, snap.audit_events);
    let now = opts.at.unwrap_or_else(Utc::now);
    crate::progress::phase("diff");
    // The attack surface is for the report: computed only when one is written.
    let (mut computed, mut coverage, surface) = drift_of(
        store,
        cfg,
        &drift::selector(None),
        &crate::iac::load(&cfg.iac)?,
        now,
        opts.write_report,
        DRIFT_BATCH,
    )?;
    // What the sources themselves could not see comes first: discovery, then the logs.
    let mut source_findings = snap.findings;
    for f in crate::attribution::attribute_all(store, cfg, &mut computed, now)? {
        if !source_findings
            .iter()
            .any(|s| s.code == f.code && s.subject == f.subject && s.message == f.message)
        {
            coverage.push(f);
        }
    }
    crate::iac::judge(&mut computed);
    source_findings.extend(coverage);
    let coverage = source_findings;
    let items = drift::sorted(computed.into_iter().map(|c| c.item).collect());
    let report = drift::report(items, coverage, now);
    let record = RunRecord {
        config: cfg.redacted(),
        started_at: started,
        finished_at: crate::clock::now(),
        summary: serde_json::json!({
            "snapshot_time": ts(taken_at),
            "scopes": summary.iter().map(|(s, st, n)| serde_json::json!({"scope": s, "status": st.as_str(), "resources": n})).collect::<Vec<_>>(),
            "drift_items": report.drift.len(),
            "unapproved": report.drift.iter().filter(|i| i.is_unapproved()).count(),
            "by_severity": crate::report::severity_counts(&report.drift),
            "coverage_findings": report.coverage.len(),
            "coverage_matrix": matrix,
        }),
        snapshot_ids,
        items: crate::report::record_items(&report),
        coverage: crate::report::record_coverage(&report),
    };
    crate::progress::phase("report");
    let run_id = store.record_run(&record)?;
    let report_files = if opts.write_report {
        crate::report::write_reports(store, cfg, run_id, &report, surface.as_ref(), Some(&matrix))?
    } else {
        Vec::new()
    };
    if opts.write_report {
        // A delivered item is resolved only where this run saw its scope in full.
        let complete: std::collections::BTreeSet<String> = summary
            .iter()
            .filter(|(_, st, _)| *st == SnapshotStatus::Complete)
            .map(|(s, _, _)| s.to_string())
            .collect();
        let html = report_files
            .iter()
            .find(|f| f.extension().is_some_and(|e| e == "html"))
            .or(report_files.first())
            .map(|f| f.display().to_string());
        crate::report::deliver::deliver(
            store,
            cfg,
            run_id,
            &report.drift,
            &[],
            &|d| complete.contains(&d.scope),
            now,
            html.as_deref(),
        )?;
    }
    Ok(RunOutcome {
        run_id,
        collected: summary,
        report,
        report_files,
        audit_events,
    })
}
