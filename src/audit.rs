//! Importing audit-log files into the store.

use std::path::Path;

use anyhow::Result;
use chrono::Utc;
use serde::Serialize;

use netdrift_snapshots::Provider;

use crate::config::Config;
use crate::store::{insert_coverage, insert_event, ts, Store};

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
    let mut sum = AuditImportSummary::default();
    let now = ts(Utc::now());
    for f in files {
        let path = f.as_ref();
        let name = path.display().to_string();
        let bytes = netdrift_provider_file::read_bytes(path)?;
        let parsed = netdrift_provider_file::audit::parse_file(provider, &name, &bytes)?;
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

/// Import the audit files a configuration lists; returns the number of new events.
pub fn import_configured(store: &mut Store, cfg: &Config) -> Result<usize> {
    let mut n = 0;
    for a in &cfg.audit {
        match import_files(store, a.provider, &a.files) {
            Ok(s) => n += s.new_events,
            Err(e) => {
                tracing::warn!(provider = %a.provider, error = %e, "audit import failed; attribution will say the logs are missing")
            }
        }
    }
    Ok(n)
}
