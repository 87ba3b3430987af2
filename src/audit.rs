//! Importing audit-log files into the store.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use netdrift_snapshots::{Provider, Scope};

use crate::config::Config;
use crate::findings::{CoverageFinding, Subject};
use crate::store::{AuditBatch, AuditSpan, Store};
use chrono::{DateTime, Utc};

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
    store: &mut dyn Store,
    provider: Provider,
    files: &[impl AsRef<Path>],
) -> Result<AuditImportSummary> {
    let sum = store_parsed(store, provider, parse_files(provider, files)?)?;
    for w in &sum.skipped {
        tracing::warn!("skipped malformed audit record: {w}");
    }
    Ok(sum)
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
        if parsed.events.is_empty() && parsed.ignored == 0 && !parsed.skipped.is_empty() {
            if let Some(hint) = other_provider(provider, &name, &bytes, parsed.skipped.len()) {
                anyhow::bail!("{hint}");
            }
        }
        out.push((name, parsed));
    }
    Ok(out)
}

/// A file none of whose records reads as `provider`'s: the provider whose reader takes it, said
/// as what to do (`this looks like GCP Cloud Audit Logs; use --provider gcp`).
fn other_provider(provider: Provider, name: &str, bytes: &[u8], skipped: usize) -> Option<String> {
    let what = |p: Provider| match p {
        Provider::Aws => "AWS CloudTrail",
        Provider::Gcp => "GCP Cloud Audit Logs",
        Provider::Azure => "the Azure Activity Log",
    };
    [Provider::Aws, Provider::Gcp, Provider::Azure]
        .into_iter()
        .filter(|p| *p != provider)
        .find_map(|p| {
            let other = netdrift_provider_file::audit::parse_file(p, name, bytes).ok()?;
            let read = other.events.len() + other.ignored;
            (read > 0 && other.skipped.len() < skipped).then(|| {
                format!(
                    "{name}: none of its {skipped} record(s) reads as {}, {read} read as {}: this looks like {}; use --provider {}",
                    what(provider),
                    what(p),
                    what(p),
                    p.as_str()
                )
            })
        })
}

/// Store parsed audit files, one transaction per file.
pub fn store_parsed(
    store: &mut dyn Store,
    provider: Provider,
    files: Vec<(String, netdrift_provider_file::audit::AuditParse)>,
) -> Result<AuditImportSummary> {
    store_parsed_with(store, provider, files, &[])
}

/// `store_parsed`, recording `objects[i]` as read with file `i`'s events.
fn store_parsed_with(
    store: &mut dyn Store,
    provider: Provider,
    files: Vec<(String, netdrift_provider_file::audit::AuditParse)>,
    objects: &[netdrift_provider_api::AuditObject],
) -> Result<AuditImportSummary> {
    let mut sum = AuditImportSummary::default();
    for (i, (name, parsed)) in files.into_iter().enumerate() {
        let windows: Vec<AuditSpan> = match parsed.window {
            Some((start, end)) => parsed
                .accounts
                .iter()
                .map(|a| (a.clone(), start, end))
                .collect(),
            None => Vec::new(),
        };
        let new = store.record_audit(&[AuditBatch {
            provider,
            source: &name,
            events: &parsed.events,
            windows: &windows,
            failures: &[],
            objects: objects.get(i..=i).unwrap_or(&[]),
        }])?[0];
        sum.new_events += new;
        sum.duplicate_events += parsed.events.len() - new;
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
    store: &mut dyn Store,
    provider: Provider,
    events: &[netdrift_snapshots::AuditEvent],
    windows: &[AuditSpan],
    source: &str,
) -> Result<usize> {
    store_read(store, provider, events, windows, &[], source)
}

/// `store_events`, with the log objects the events were read from recorded as read in the
/// same transaction: an object is never recorded without its events.
pub fn store_read(
    store: &mut dyn Store,
    provider: Provider,
    events: &[netdrift_snapshots::AuditEvent],
    windows: &[AuditSpan],
    objects: &[netdrift_provider_api::AuditObject],
    source: &str,
) -> Result<usize> {
    // The span the events themselves show, for each account they name.
    let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    let mut accounts = std::collections::BTreeSet::new();
    for ev in events {
        if let Some(a) = &ev.account {
            accounts.insert(a.clone());
        }
        span = Some(match span {
            None => (ev.event_time, ev.event_time),
            Some((lo, hi)) => (lo.min(ev.event_time), hi.max(ev.event_time)),
        });
    }
    let mut all: Vec<AuditSpan> = match span {
        Some((start, end)) => accounts.into_iter().map(|a| (a, start, end)).collect(),
        None => Vec::new(),
    };
    all.extend(windows.iter().cloned());
    Ok(store.record_audit(&[AuditBatch {
        provider,
        source,
        events,
        windows: &all,
        failures: &[],
        objects,
    }])?[0])
}

/// Import the audit files a configuration lists: the number of new events, and the files that
/// could not be read, each as a failed read of every account of its provider over the log
/// retention window (the file's own window is unknown when it cannot be read).
pub fn import_configured(
    store: &mut dyn Store,
    cfg: &Config,
) -> Result<(usize, Vec<SourceFailure>)> {
    let mut n = 0;
    let mut failures = Vec::new();
    let now = crate::clock::now();
    let read_before = store.processed_audit_objects(DateTime::<Utc>::UNIX_EPOCH)?;
    for a in &cfg.audit {
        for f in &a.files {
            match import_unless_read(store, a.provider, f, &read_before) {
                Ok(new) => n += new,
                Err(e) => {
                    tracing::warn!(provider = %a.provider, error = %crate::text::causes(&*e), "audit import failed");
                    failures.push((
                        a.provider,
                        format!("file:{}", f.display()),
                        netdrift_snapshots::AuditFailure {
                            account: "*".into(),
                            region: None,
                            start: now - chrono::Duration::days(cfg.attribution.log_retention_days),
                            end: now,
                            problem: netdrift_snapshots::Problem {
                                code: netdrift_snapshots::ProblemCode::Decode,
                                kind: None,
                                operation: Some("audit import".into()),
                                message: crate::text::causes(&*e),
                            },
                        },
                    ));
                }
            }
        }
    }
    Ok((n, failures))
}

/// Import a configured audit file unless its content was imported before as `provider`'s: its
/// events and the windows it covers are stored already, and reading it again every run would
/// decompress and parse it for nothing (a changed file has another hash and is read). The file
/// is recorded as read in the transaction that stores its events. Returns the new events.
fn import_unless_read(
    store: &mut dyn Store,
    provider: Provider,
    path: &Path,
    read_before: &std::collections::HashSet<String>,
) -> Result<usize> {
    let object = content_key(provider, path);
    if object.as_ref().is_some_and(|o| read_before.contains(o)) {
        tracing::debug!(file = %path.display(), "audit file unchanged since it was imported; not read again");
        return Ok(0);
    }
    let files = parse_files(provider, &[path])?;
    let objects: Vec<netdrift_provider_api::AuditObject> = files
        .iter()
        .zip(&object)
        .map(|((_, parsed), object)| netdrift_provider_api::AuditObject {
            object: object.clone(),
            events: parsed.events.len(),
            error: None,
        })
        .collect();
    let sum = store_parsed_with(store, provider, files, &objects)?;
    for w in &sum.skipped {
        tracing::warn!("skipped malformed audit record: {w}");
    }
    Ok(sum.new_events)
}

/// How a local audit file is remembered as read: its provider and the SHA-256 of its bytes as
/// they are on disk (compressed or not). `None` when it cannot be read: the import then says why.
fn content_key(provider: Provider, path: &Path) -> Option<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).ok()?;
    Some(format!(
        "file:{}:sha256:{}",
        provider.as_str(),
        hex::encode(sha2::Sha256::digest(&bytes))
    ))
}

/// A failed audit-log read with its provider and the source (or file) it came from.
pub type SourceFailure = (Provider, String, netdrift_snapshots::AuditFailure);

/// Record failed audit-log reads (one transaction) and return one `audit-read-failed` coverage
/// finding per failure: the account and window whose changes cannot be attributed from logs.
pub fn record_failures(
    store: &mut dyn Store,
    failures: &[SourceFailure],
) -> Result<Vec<CoverageFinding>> {
    let mut out = Vec::new();
    // Grouped by provider and source; every batch in one transaction.
    let mut groups: Vec<((Provider, &str), Vec<netdrift_snapshots::AuditFailure>)> = Vec::new();
    for (provider, source, f) in failures {
        out.push(read_failed_finding(*provider, source, f));
        match groups
            .iter_mut()
            .find(|((p, s), _)| p == provider && s == source)
        {
            Some((_, v)) => v.push(f.clone()),
            None => groups.push(((*provider, source.as_str()), vec![f.clone()])),
        }
    }
    let batches: Vec<AuditBatch<'_>> = groups
        .iter()
        .map(|((provider, source), fs)| AuditBatch {
            provider: *provider,
            source,
            events: &[],
            windows: &[],
            failures: fs,
            objects: &[],
        })
        .collect();
    store.record_audit(&batches)?;
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
    let subject = match f.account.as_str() {
        "*" => Subject::Source(source.to_string()),
        a => Subject::Scope(Scope::new(provider, a, f.region.clone()).key()),
    };
    let norm = |t: &DateTime<Utc>| netdrift_snapshots::time::secs(*t);
    let op = f.problem.operation.as_deref().unwrap_or("read");
    let cause = f.problem.cause();
    CoverageFinding {
        subject,
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
        evidence: Vec::new(),
    }
}

/// The finding for a scope whose changes are not (or not verifiably) logged; `None` when they
/// are (docs/findings.md).
pub fn logging_finding(c: &netdrift_snapshots::logging::LoggingCheck) -> Option<CoverageFinding> {
    use crate::findings::CoverageCode;
    use netdrift_snapshots::logging::LoggingVerdict;
    let scope = c.scope.key();
    let (code, what) = match c.verdict {
        LoggingVerdict::Logged => return None,
        LoggingVerdict::TrailMissing => (
            CoverageCode::AuditTrailMissing,
            "no CloudTrail trail applies to the region",
        ),
        LoggingVerdict::TrailStopped => (
            CoverageCode::AuditTrailStopped,
            "the trails that would record its management write events are not logging",
        ),
        LoggingVerdict::ManagementEventsExcluded => (
            CoverageCode::AuditManagementEventsExcluded,
            "the trails that apply to it are logging but select no management write events",
        ),
        LoggingVerdict::Unverified => (
            CoverageCode::AuditLoggingUnverified,
            "whether its firewall changes are logged could not be verified",
        ),
        LoggingVerdict::Unreadable => (
            CoverageCode::AuditLogsUnreadable,
            "its audit log cannot be read",
        ),
        LoggingVerdict::NotExported => (
            CoverageCode::ActivityLogNotExported,
            "no diagnostic setting exports the Activity Log's Administrative category",
        ),
    };
    let cause = c
        .problem
        .as_ref()
        .map(|p| {
            format!(
                " ({}: {})",
                p.operation.as_deref().unwrap_or("read"),
                p.cause()
            )
        })
        .unwrap_or_default();
    Some(CoverageFinding {
        subject: Subject::Scope(scope.clone()),
        provider: c.scope.provider(),
        code,
        message: if c.verdict == LoggingVerdict::Unverified {
            format!("{scope}: {what}{cause}: its firewall changes may leave no audit record")
        } else if c.verdict == LoggingVerdict::Unreadable {
            format!("{scope}: {what}{cause}: its firewall changes are recorded, but netdrift can neither attribute them nor tell a silent log from a missing one")
        } else if c.verdict == LoggingVerdict::NotExported {
            format!("{scope}: {what}{cause}: the platform keeps it 90 days only, so older changes can be neither attributed nor proven")
        } else {
            format!(
                "{scope}: {what}{cause}: firewall changes there leave no audit record, so they can be neither attributed nor noticed between runs"
            )
        },
        snapshot_id: None,
        taken_at: None,
        problems: c.problem.iter().cloned().collect(),
        uncollected: Vec::new(),
        evidence: c.evidence.clone(),
    })
}
