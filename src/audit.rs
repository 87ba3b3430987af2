//! Importing audit-log files into the store.

use std::path::Path;

use anyhow::Result;
use chrono::Utc;
use serde::Serialize;

use netdrift_snapshots::Provider;

use crate::config::Config;
use crate::findings::CoverageFinding;
use crate::store::{insert_coverage, insert_event, insert_failure, ts, Store};

#[derive(Debug, Default, Serialize)]
pub struct AuditImportSummary {
    pub files: usize,
    pub new_events: usize,
    pub duplicate_events: usize,
    /// Records that are not network or identity events.
    pub ignored: usize,
    /// Malformed records, each naming the file and record.
    pub skipped: Vec<String>,
}

/// Parse and store audit files. Each file is one transaction: a file that cannot be read at all
/// is an error and stores nothing of itself; malformed records inside a file are skipped and
/// counted.
pub fn import_files(
    store: &mut Store,
    provider: Provider,
    files: &[impl AsRef<Path>],
) -> Result<AuditImportSummary> {
    store_parsed(store, provider, parse_files(provider, files)?)
}

/// Read and parse audit files without touching any database: a file that cannot be read at all
/// fails the whole set before anything is opened.
pub fn parse_files(
    provider: Provider,
    files: &[impl AsRef<Path>],
) -> Result<Vec<(String, netdrift_provider_file::audit::AuditParse)>> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let path = f.as_ref();
        let name = path.display().to_string();
        let bytes = netdrift_provider_file::read_bytes(path)?;
        let parsed = netdrift_provider_file::audit::parse_file(provider, &name, &bytes)?;
        out.push((name, parsed));
    }
    Ok(out)
}

/// Store parsed audit files, one transaction per file.
pub fn store_parsed(
    store: &mut Store,
    provider: Provider,
    files: Vec<(String, netdrift_provider_file::audit::AuditParse)>,
) -> Result<AuditImportSummary> {
    let mut sum = AuditImportSummary::default();
    let now = ts(Utc::now());
    for (name, parsed) in files {
        let tx = store.tx()?;
        for ev in &parsed.events {
            if insert_event(&tx, ev, &name, &now)? {
                sum.new_events += 1;
            } else {
                sum.duplicate_events += 1;
            }
        }
        if let Some((start, end)) = &parsed.window {
            for account in &parsed.accounts {
                insert_coverage(&tx, provider, account, start, end, &name, &now)?;
            }
        }
        tx.commit()?;
        for w in &parsed.skipped {
            tracing::warn!("skipped malformed audit record: {w}");
        }
        sum.files += 1;
        sum.ignored += parsed.ignored;
        sum.skipped.extend(parsed.skipped);
    }
    Ok(sum)
}

/// Store already parsed events (the live providers' path), in one transaction. `windows` are
/// the (account, start, end) spans the source looked at, recorded as audit coverage even when
/// they held no event (so silence can be told from missing logs).
pub fn store_events(
    store: &mut Store,
    provider: Provider,
    events: &[netdrift_snapshots::AuditEvent],
    windows: &[(String, String, String)],
    source: &str,
) -> Result<usize> {
    let now = ts(Utc::now());
    let tx = store.tx()?;
    let mut new = 0;
    let mut window: Option<(String, String)> = None;
    let mut accounts = std::collections::BTreeSet::new();
    for ev in events {
        if insert_event(&tx, ev, source, &now)? {
            new += 1;
        }
        if let Some(a) = &ev.account {
            accounts.insert(a.clone());
        }
        window = Some(match window {
            None => (ev.event_time.clone(), ev.event_time.clone()),
            Some((lo, hi)) => (lo.min(ev.event_time.clone()), hi.max(ev.event_time.clone())),
        });
    }
    if let Some((start, end)) = window {
        for a in &accounts {
            insert_coverage(&tx, provider, a, &start, &end, source, &now)?;
        }
    }
    for (account, start, end) in windows {
        insert_coverage(&tx, provider, account, start, end, source, &now)?;
    }
    tx.commit()?;
    Ok(new)
}

/// Import the audit files a configuration lists: the number of new events, and the files that
/// could not be read, each as a failed read of every account of its provider over the log
/// retention window (the file's own window is unknown when it cannot be read).
pub fn import_configured(store: &mut Store, cfg: &Config) -> Result<(usize, Vec<SourceFailure>)> {
    let mut n = 0;
    let mut failures = Vec::new();
    let now = Utc::now();
    for a in &cfg.audit {
        for f in &a.files {
            match import_files(store, a.provider, std::slice::from_ref(f)) {
                Ok(s) => n += s.new_events,
                Err(e) => {
                    tracing::warn!(provider = %a.provider, error = %format!("{e:#}"), "audit import failed");
                    failures.push((
                        a.provider,
                        format!("file:{}", f.display()),
                        netdrift_snapshots::AuditFailure {
                            account: "*".into(),
                            region: None,
                            start: ts(
                                now - chrono::Duration::days(cfg.attribution.log_retention_days)
                            ),
                            end: ts(now),
                            problem: netdrift_snapshots::Problem {
                                code: netdrift_snapshots::ProblemCode::Decode,
                                kind: None,
                                operation: Some("audit import".into()),
                                message: format!("{e:#}"),
                            },
                        },
                    ));
                }
            }
        }
    }
    Ok((n, failures))
}

/// A failed audit-log read with its provider and the source (or file) it came from.
pub type SourceFailure = (Provider, String, netdrift_snapshots::AuditFailure);

/// Record failed audit-log reads (one transaction) and return one `audit-read-failed` coverage
/// finding per failure: the account and window whose changes cannot be attributed from logs.
pub fn record_failures(
    store: &mut Store,
    failures: &[SourceFailure],
) -> Result<Vec<CoverageFinding>> {
    let now = ts(Utc::now());
    let tx = store.tx()?;
    let mut out = Vec::new();
    for (provider, source, f) in failures {
        insert_failure(&tx, *provider, f, source, &now)?;
        out.push(read_failed_finding(*provider, source, f));
    }
    tx.commit()?;
    Ok(out)
}

/// The coverage finding for one failed audit-log read.
pub fn read_failed_finding(
    provider: Provider,
    source: &str,
    f: &netdrift_snapshots::AuditFailure,
) -> CoverageFinding {
    let account = if f.account == "*" {
        format!("every {} account", provider.as_str())
    } else {
        f.account.clone()
    };
    let scope = match (&f.region, f.account.as_str()) {
        (_, "*") => source.to_string(),
        (Some(r), a) => format!("{}:{a}:{r}", provider.as_str()),
        (None, a) => format!("{}:{a}", provider.as_str()),
    };
    let norm = |t: &str| {
        crate::store::parse_ts(t)
            .map(ts)
            .unwrap_or_else(|_| t.to_string())
    };
    let op = f.problem.operation.as_deref().unwrap_or("read");
    let cause = f.problem.cause();
    CoverageFinding {
        scope,
        provider,
        code: crate::findings::CoverageCode::AuditReadFailed,
        message: format!(
            "audit logs of {account} could not be read for {} to {} ({op}: {cause}): changes in that window cannot be attributed from the logs",
            norm(&f.start),
            norm(&f.end),
        ),
        snapshot_id: None,
        taken_at: None,
        problems: vec![f.problem.clone()],
        uncollected: Vec::new(),
    }
}
