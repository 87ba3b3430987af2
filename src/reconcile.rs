//! One reconcile cycle: collect every source, store the snapshots, bring in audit events,
//! compute and attribute drift, record the run and write the report. The CLI (`netdrift run`)
//! and the daemon call the same `reconcile_once`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use netdrift_snapshots::{Collected, Problem, SnapshotStatus};

use crate::config::{Config, SourceConfig, SourceKind};
use crate::drift::{self, DriftReport};
use crate::store::{insert_snapshots, ts, RunRecord, Store};

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Time to record for the snapshots (replaying dumps); default now.
    pub at: Option<DateTime<Utc>>,
    /// Write the report files.
    pub write_report: bool,
}

#[derive(Debug)]
pub struct RunOutcome {
    pub run_id: i64,
    pub collected: Vec<(String, SnapshotStatus, usize)>,
    pub report: DriftReport,
    pub report_files: Vec<PathBuf>,
    pub audit_events: usize,
}

/// Collect one source (file sources read their dumps; a failure is a failed snapshot).
pub fn collect_source(source: &SourceConfig) -> Collected {
    match &source.kind {
        SourceKind::Files { scope, files } => {
            match netdrift_provider_file::import_files(scope.provider, &scope.account, files) {
                Ok(resources) => Collected::complete(scope.clone(), resources),
                Err(e) => {
                    let code = match &e {
                        netdrift_provider_file::ImportError::Io { .. } => "source-missing",
                        _ => "decode",
                    };
                    tracing::warn!(source = %source.name, scope = %scope, error = %e, "collection failed");
                    Collected::failed(
                        scope.clone(),
                        Problem {
                            code: code.into(),
                            kind: None,
                            operation: None,
                            message: e.to_string(),
                        },
                    )
                }
            }
        }
    }
}

/// Collect every source, at most `concurrency` at a time; one failing source never stops the
/// others.
pub fn collect_all(cfg: &Config) -> Vec<(Collected, String)> {
    let mut out = Vec::new();
    for chunk in cfg.sources.chunks(cfg.concurrency.max(1)) {
        let results: Vec<(Collected, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|src| s.spawn(move || (collect_source(src), format!("file:{}", src.name))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("collector thread panicked"))
                .collect()
        });
        out.extend(results);
    }
    out
}

pub fn reconcile_once(store: &mut Store, cfg: &Config, opts: &RunOptions) -> Result<RunOutcome> {
    let started = Utc::now();
    let taken_at = opts.at.unwrap_or(started);
    let collected = collect_all(cfg);
    let summary: Vec<(String, SnapshotStatus, usize)> = collected
        .iter()
        .map(|(c, _)| (c.scope.key(), c.status, c.resources.len()))
        .collect();
    let snapshot_ids =
        insert_snapshots(store, &collected, taken_at).context("storing snapshots")?;
    let audit_events = crate::audit::import_configured(store, cfg)?;
    let now = opts.at.unwrap_or_else(Utc::now);
    let (mut computed, mut coverage) = drift::compute(store, None, &cfg.drift, now)?;
    coverage.extend(crate::attribution::attribute_all(
        store,
        cfg,
        &mut computed,
        now,
    )?);
    let items = drift::sorted(computed.into_iter().map(|c| c.item).collect());
    let report = drift::report(items, coverage, now);
    let record = RunRecord {
        started_at: ts(started),
        finished_at: ts(Utc::now()),
        summary: serde_json::json!({
            "snapshot_time": ts(taken_at),
            "scopes": summary.iter().map(|(s, st, n)| serde_json::json!({"scope": s, "status": st.as_str(), "resources": n})).collect::<Vec<_>>(),
            "drift_items": report.drift.len(),
            "unapproved": report.drift.iter().filter(|i| i.is_unapproved()).count(),
            "by_severity": crate::report::severity_counts(&report.drift),
            "coverage_findings": report.coverage.len(),
        }),
        snapshot_ids,
        items: report
            .drift
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    i.scope.clone(),
                    i.severity.as_str().to_string(),
                    serde_json::to_value(i).expect("serializes"),
                )
            })
            .collect(),
        coverage: report
            .coverage
            .iter()
            .map(|c| {
                (
                    c.scope.clone(),
                    serde_json::to_value(c).expect("serializes"),
                )
            })
            .collect(),
    };
    let run_id = store.record_run(&record)?;
    let report_files = if opts.write_report {
        crate::report::write_reports(store, cfg, run_id, &report)?
    } else {
        Vec::new()
    };
    Ok(RunOutcome {
        run_id,
        collected: summary,
        report,
        report_files,
        audit_events,
    })
}
