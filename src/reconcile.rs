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

/// Events a live source fetched: provider, events, the (account, start, end) windows looked at,
/// and the source label.
pub type LiveEvents = (
    netdrift_snapshots::Provider,
    Vec<netdrift_snapshots::AuditEvent>,
    Vec<(String, String, String)>,
    String,
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
}

/// A finding about a whole source (`discovery-failed`), named by its label (`aws:org`).
fn source_finding(
    provider: netdrift_snapshots::Provider,
    label: &str,
    message: String,
    problems: Vec<Problem>,
) -> CoverageFinding {
    CoverageFinding {
        scope: label.to_string(),
        provider,
        code: "discovery-failed".into(),
        message,
        snapshot_id: None,
        taken_at: None,
        problems,
        uncollected: Vec::new(),
    }
}

/// Collect one file source (a failure is a failed snapshot).
fn collect_files(
    source: &SourceConfig,
    scope: &netdrift_snapshots::Scope,
    files: &[PathBuf],
) -> Collected {
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

#[cfg(feature = "aws")]
fn collect_aws(
    source: &SourceConfig,
    live: &crate::config::AwsLiveConfig,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    known: &dyn Fn(&str) -> Vec<netdrift_snapshots::Resource>,
    now: DateTime<Utc>,
    out: &mut Collection,
) {
    let src = netdrift_provider_aws::AwsSource {
        name: source.name.clone(),
        regions: live.regions.clone(),
        assume_roles: live.assume_roles.clone(),
        external_id: live.external_id.clone(),
        session_name: live.session_name.clone(),
        organization_role: live.organization_role.clone(),
        endpoint_url: live.endpoint_url.clone(),
        profile: live.profile.clone(),
        home_region: live.home_region.clone(),
        concurrency: live.concurrency,
        scope_timeout: std::time::Duration::from_secs(live.scope_timeout_seconds),
        max_attempts: live.max_attempts,
        cloudtrail: live.cloudtrail,
    };
    let Some(rt) = runtime(source, out) else {
        return;
    };
    let known = |scope: &str| -> netdrift_provider_aws::KnownGroups {
        known(scope)
            .into_iter()
            .filter(|r| r.kind == netdrift_snapshots::ResourceKind::AwsSecurityGroup)
            .map(|r| (r.id.as_str().to_string(), r))
            .collect()
    };
    let c = rt.block_on(netdrift_provider_aws::collect(&src, since, &known, now));
    absorb(
        source,
        netdrift_snapshots::Provider::Aws,
        SourceResult {
            scopes: c.scopes,
            events: c.events,
            windows: c.event_windows,
            audit_failures: c.audit_failures,
            problems: c.problems,
        },
        out,
    );
}

/// A runtime for one live source's async collection.
#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
fn runtime(source: &SourceConfig, out: &mut Collection) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            tracing::error!(source = %source.name, error = %e, "cannot start the async runtime");
            let provider = match source.kind {
                SourceKind::Gcp(_) => netdrift_snapshots::Provider::Gcp,
                SourceKind::Azure(_) => netdrift_snapshots::Provider::Azure,
                _ => netdrift_snapshots::Provider::Aws,
            };
            out.findings.push(source_finding(
                provider,
                &format!("{}:{}", provider.as_str(), source.name),
                format!("{}: cannot start the async runtime: {e}", source.name),
                Vec::new(),
            ));
            None
        }
    }
}

/// What one live source produced, as every provider crate reports it.
#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
struct SourceResult {
    scopes: Vec<Collected>,
    events: Vec<netdrift_snapshots::AuditEvent>,
    windows: Vec<(String, String, String)>,
    audit_failures: Vec<AuditFailure>,
    problems: Vec<Problem>,
}

/// Hand one live source's results to the cycle. Problems of the source itself (discovery,
/// credentials before any scope) and a source that resolved to no scope are `discovery-failed`
/// findings: what was not seen is never silence.
#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
fn absorb(
    source: &SourceConfig,
    provider: netdrift_snapshots::Provider,
    r: SourceResult,
    out: &mut Collection,
) {
    let label = format!("{}:{}", provider.as_str(), source.name);
    for p in &r.problems {
        tracing::warn!(source = %label, code = %p.code, operation = ?p.operation, "{}", p.message);
        out.findings.push(source_finding(
            provider,
            &label,
            {
                let op = p.operation.as_deref().unwrap_or("discovery");
                let cause = p
                    .message
                    .strip_prefix(&format!("{op}: "))
                    .unwrap_or(&p.message);
                format!(
                    "{label}: {op} failed ({}): {cause}; the accounts, projects or subscriptions it would name are not collected",
                    p.code
                )
            },
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
    for f in r.audit_failures {
        tracing::warn!(source = %label, account = %f.account, "{}", f.problem.message);
        out.audit_failures.push((provider, label.clone(), f));
    }
    out.items
        .extend(r.scopes.into_iter().map(|s| (s, label.clone())));
    out.events.push((provider, r.events, r.windows, label));
}

#[cfg(feature = "gcp")]
fn collect_gcp(
    source: &SourceConfig,
    live: &crate::config::GcpLiveConfig,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    now: DateTime<Utc>,
    out: &mut Collection,
) {
    let src = netdrift_provider_gcp::GcpSource {
        name: source.name.clone(),
        projects: live.projects.clone(),
        organization: live.organization.clone(),
        folders: live.folders.clone(),
        regions: live.regions.clone(),
        endpoint_url: live.endpoint_url.clone(),
        credentials: if live.anonymous {
            netdrift_provider_gcp::Credentials::Anonymous
        } else {
            netdrift_provider_gcp::Credentials::ApplicationDefault
        },
        concurrency: live.concurrency,
        scope_timeout: std::time::Duration::from_secs(live.scope_timeout_seconds),
        max_attempts: live.max_attempts,
        audit_logs: live.audit_logs,
    };
    let Some(rt) = runtime(source, out) else {
        return;
    };
    let c = rt.block_on(netdrift_provider_gcp::collect(&src, since, now));
    absorb(
        source,
        netdrift_snapshots::Provider::Gcp,
        SourceResult {
            scopes: c.scopes,
            events: c.events,
            windows: c.event_windows,
            audit_failures: c.audit_failures,
            problems: c.problems,
        },
        out,
    );
}

#[cfg(feature = "azure")]
fn collect_azure(
    source: &SourceConfig,
    live: &crate::config::AzureLiveConfig,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    now: DateTime<Utc>,
    out: &mut Collection,
) {
    let static_token = match &live.static_token_env {
        Some(var) => match std::env::var(var) {
            Ok(t) if !t.is_empty() => {
                crate::text::register_secret(&t);
                Some(t)
            }
            _ => {
                tracing::error!(source = %source.name, variable = %var, "the static token variable is not set");
                Some(String::new())
            }
        },
        None => None,
    };
    let src = netdrift_provider_azure::AzureSource {
        name: source.name.clone(),
        subscriptions: live.subscriptions.clone(),
        endpoint_url: live.endpoint_url.clone(),
        token_scope: live.token_scope.clone(),
        static_token,
        concurrency: live.concurrency,
        scope_timeout: std::time::Duration::from_secs(live.scope_timeout_seconds),
        max_attempts: live.max_attempts,
        activity_log: live.activity_log,
    };
    let Some(rt) = runtime(source, out) else {
        return;
    };
    let c = rt.block_on(netdrift_provider_azure::collect(&src, since, now));
    absorb(
        source,
        netdrift_snapshots::Provider::Azure,
        SourceResult {
            scopes: c.scopes,
            events: c.events,
            windows: c.event_windows,
            audit_failures: c.audit_failures,
            problems: c.problems,
        },
        out,
    );
}

/// Collect every source, at most `concurrency` file sources at a time; one failing source never
/// stops the others. `since(scope key)` is the start of the audit window of a scope;
/// `known(scope key)` gives the resources already stored for a scope, which a live provider may
/// reuse instead of asking again (AWS rule ids).
pub fn collect_all(
    cfg: &Config,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    known: &dyn Fn(&str) -> Vec<netdrift_snapshots::Resource>,
    now: DateTime<Utc>,
) -> Collection {
    let mut out = Collection::default();
    let files: Vec<&SourceConfig> = cfg
        .sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::Files { .. }))
        .collect();
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
        out.items.extend(results);
    }
    for src in &cfg.sources {
        match &src.kind {
            SourceKind::Files { .. } => {}
            #[cfg(feature = "aws")]
            SourceKind::Aws(live) => collect_aws(src, live, since, known, now, &mut out),
            #[cfg(not(feature = "aws"))]
            SourceKind::Aws(_) => {
                let _ = (since, known, now);
                not_built(src, netdrift_snapshots::Provider::Aws, &mut out);
            }
            #[cfg(feature = "gcp")]
            SourceKind::Gcp(live) => collect_gcp(src, live, since, now, &mut out),
            #[cfg(not(feature = "gcp"))]
            SourceKind::Gcp(_) => {
                let _ = (since, now);
                not_built(src, netdrift_snapshots::Provider::Gcp, &mut out);
            }
            #[cfg(feature = "azure")]
            SourceKind::Azure(live) => collect_azure(src, live, since, now, &mut out),
            #[cfg(not(feature = "azure"))]
            SourceKind::Azure(_) => {
                let _ = (since, now);
                not_built(src, netdrift_snapshots::Provider::Azure, &mut out);
            }
        }
    }
    out
}

/// A live source whose provider this build lacks: a `discovery-failed` finding naming the
/// feature, never an empty collection.
#[cfg(not(all(feature = "aws", feature = "gcp", feature = "azure")))]
fn not_built(src: &SourceConfig, provider: netdrift_snapshots::Provider, out: &mut Collection) {
    let feature = provider.as_str();
    let label = format!("{feature}:{}", src.name);
    let msg = format!(
        "{label}: live {} collection is not built into this netdrift (build with --features {feature}); nothing was collected from it",
        match provider {
            netdrift_snapshots::Provider::Aws => "AWS",
            netdrift_snapshots::Provider::Gcp => "GCP",
            netdrift_snapshots::Provider::Azure => "Azure",
        }
    );
    tracing::error!("{msg}");
    out.findings
        .push(source_finding(provider, &label, msg, Vec::new()));
}

/// Start of the audit window per scope: the latest stored snapshot, else a day ago.
pub fn audit_since(store: &Store) -> Result<std::collections::HashMap<String, DateTime<Utc>>> {
    let mut m = std::collections::HashMap::new();
    for scope in store.scopes()? {
        if let Some(s) = store.latest_snapshot(&scope.key(), None)? {
            m.insert(scope.key(), crate::store::parse_ts(&s.taken_at)?);
        }
    }
    Ok(m)
}

/// The resources of a scope's newest snapshot that read security groups (none for a new scope).
fn stored_resources(store: &Store, scope: &str) -> Result<Vec<netdrift_snapshots::Resource>> {
    match store.latest_covering(
        scope,
        netdrift_snapshots::ResourceKind::AwsSecurityGroup,
        None,
    )? {
        Some(snap) => store.snapshot_resources(&snap),
        None => Ok(Vec::new()),
    }
}

/// Collect every source for a snapshot taken at `taken_at`, with the audit windows and stored
/// resources the store gives.
pub fn collect_with_store(
    store: &Store,
    cfg: &Config,
    taken_at: DateTime<Utc>,
) -> Result<Collection> {
    let since_map = audit_since(store)?;
    let default_since = taken_at - chrono::Duration::days(1);
    let since = move |scope: &str| since_map.get(scope).copied().unwrap_or(default_since);
    let known = |scope: &str| {
        stored_resources(store, scope).unwrap_or_else(|e| {
            tracing::warn!(scope, error = %format!("{e:#}"), "cannot read the stored snapshot; everything is read afresh");
            Vec::new()
        })
    };
    Ok(collect_all(cfg, &since, &known, taken_at))
}

pub fn reconcile_once(store: &mut Store, cfg: &Config, opts: &RunOptions) -> Result<RunOutcome> {
    let started = Utc::now();
    if let Some(max) = cfg.max_decompressed {
        netdrift_provider_file::set_max_decompressed(max);
    }
    let taken_at = opts.at.unwrap_or(started);
    let collection = collect_with_store(store, cfg, taken_at)?;
    let collected = collection.items;
    let summary: Vec<(String, SnapshotStatus, usize)> = collected
        .iter()
        .map(|(c, _)| (c.scope.key(), c.status, c.resources.len()))
        .collect();
    let snapshot_ids =
        insert_snapshots(store, &collected, taken_at).context("storing snapshots")?;
    let (mut audit_events, mut failures) = crate::audit::import_configured(store, cfg)?;
    for (provider, events, windows, source) in &collection.events {
        audit_events += crate::audit::store_events(store, *provider, events, windows, source)?;
    }
    failures.extend(collection.audit_failures);
    let read_failed = crate::audit::record_failures(store, &failures)?;
    let now = opts.at.unwrap_or_else(Utc::now);
    let (mut computed, mut coverage) = drift::compute(store, None, &cfg.drift, now)?;
    // What the sources themselves could not see comes first: discovery, then the logs.
    let mut source_findings = collection.findings;
    source_findings.extend(read_failed);
    for f in crate::attribution::attribute_all(store, cfg, &mut computed, now)? {
        if !source_findings
            .iter()
            .any(|s| s.code == f.code && s.scope == f.scope && s.message == f.message)
        {
            coverage.push(f);
        }
    }
    source_findings.extend(coverage);
    let coverage = source_findings;
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
        crate::report::write_reports(store, cfg, run_id, &report, true)?
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
