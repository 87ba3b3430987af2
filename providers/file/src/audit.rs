//! Audit-log files: CloudTrail (`{"Records":[…]}` log files, plain or gzipped, and
//! `aws cloudtrail lookup-events` output), GCP Cloud Audit Logs (`gcloud logging read
//! --format=json`, `entries.list`, log-sink exports as an array or one entry per line), Azure
//! Activity Log (REST `value[]`, diagnostic-settings exports `records[]`).
//!
//! One parser per wire format: the live providers call the same record parsers on what the APIs
//! return. A malformed record is skipped with a warning naming the file and record; it never
//! aborts the file.

pub mod azure;
pub mod cloudtrail;
pub mod diagnostics;
pub mod gcp;
mod raw;
pub mod trails;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use netdrift_snapshots::{AuditEvent, Provider};

use crate::ImportError;

/// What one audit file yielded.
#[derive(Debug, Default)]
pub struct AuditParse {
    pub events: Vec<AuditEvent>,
    /// Malformed records: "file: record N: why".
    pub skipped: Vec<String>,
    /// Well-formed records that are not about network exposure or identity (not kept).
    pub ignored: usize,
    /// Accounts/projects/subscriptions the file has records for.
    pub accounts: BTreeSet<String>,
    /// Earliest and latest record times.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl AuditParse {
    fn see_time(&mut self, account: Option<&str>, t: DateTime<Utc>) {
        if let Some(a) = account {
            self.accounts.insert(a.to_string());
        }
        self.window = Some(match self.window.take() {
            None => (t, t),
            Some((lo, hi)) => (lo.min(t), hi.max(t)),
        });
    }
}

/// Read the timestamps the clouds and exports use (RFC 3339, or the offset-less forms some
/// exports write, taken as UTC).
pub fn normalize_time(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    let dt = DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.fZ",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(|n| n.and_utc())
        })?;
    Some(dt)
}

/// Split a file into records, each with a location for messages. Whole-document forms come
/// first; if the file is not one JSON document, it is read as JSON lines.
/// Records with their location in the file ("record 3", "line 7").
pub type Located = Vec<(String, Value)>;

pub fn split_records(
    file: &str,
    bytes: &[u8],
    envelope_keys: &[&str],
) -> Result<(Located, Vec<String>), ImportError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::Empty {
            file: file.to_string(),
        });
    }
    let mut skipped = Vec::new();
    if let Ok(doc) = serde_json::from_slice::<Value>(bytes) {
        let items: Vec<Value> = match &doc {
            Value::Array(a) => a.clone(),
            Value::Object(o) => match envelope_keys.iter().find_map(|k| o.get(*k)) {
                Some(Value::Array(a)) => a.clone(),
                Some(_) => {
                    return Err(ImportError::Json {
                        file: file.into(),
                        line: 1,
                        column: 1,
                        message: format!("expected an array under {}", envelope_keys.join(" or ")),
                    })
                }
                None => vec![doc.clone()],
            },
            _ => {
                return Err(ImportError::Json {
                    file: file.into(),
                    line: 1,
                    column: 1,
                    message: "expected a JSON object or array".into(),
                })
            }
        };
        return Ok((
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("record {}", i + 1), v))
                .collect(),
            skipped,
        ));
    }
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut parsed_any = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v) => {
                parsed_any = true;
                out.push((format!("line {}", n + 1), v));
            }
            Err(e) => skipped.push(format!("{file}: line {}: not valid JSON: {e}", n + 1)),
        }
    }
    if !parsed_any {
        let e = serde_json::from_slice::<Value>(bytes).expect_err("failed above");
        return Err(ImportError::Json {
            file: file.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        });
    }
    Ok((out, skipped))
}

/// Parse one audit file of a provider.
pub fn parse_file(provider: Provider, file: &str, bytes: &[u8]) -> Result<AuditParse, ImportError> {
    match provider {
        Provider::Aws => cloudtrail::parse_file(file, bytes),
        Provider::Gcp => gcp::parse_file(file, bytes),
        Provider::Azure => azure::parse_file(file, bytes),
    }
}

/// Get a string at a JSON pointer-like dotted path, trying each alias.
pub(crate) fn s<'a>(v: &'a Value, paths: &[&str]) -> Option<&'a str> {
    paths.iter().find_map(|p| {
        let mut cur = v;
        for k in p.split('.') {
            cur = cur.get(k)?;
        }
        cur.as_str().filter(|s| !s.is_empty())
    })
}

pub(crate) fn get<'a>(v: &'a Value, paths: &[&str]) -> Option<&'a Value> {
    paths.iter().find_map(|p| {
        let mut cur = v;
        for k in p.split('.') {
            cur = cur.get(k)?;
        }
        (!cur.is_null()).then_some(cur)
    })
}

/// Whether an event's request carries only what it changes (a GCP `firewalls.patch`), so that
/// its access is known only once applied onto the resource's prior state.
pub fn carries_changes_only(ev: &AuditEvent) -> bool {
    ev.provider == Provider::Gcp && gcp::patch_body(ev).is_some()
}

/// Whether reading an event's meaning needs its delivered record, not only the parsed event:
/// a GCP `firewalls.patch` carries only its changes (applied onto the prior state), and a
/// deleted NACL entry is found by the request's rule number and direction. Bulk loads of
/// stored events read the record for these events only.
pub fn needs_record(event_name: &str) -> bool {
    event_name == "DeleteNetworkAclEntry" || event_name.ends_with("firewalls.patch")
}

/// The rules a change-only request leaves on a resource whose prior state is `prior`
/// (`account` is the resource's project); `None` for other requests or when it cannot apply.
pub fn applied_onto(
    ev: &AuditEvent,
    prior: &netdrift_snapshots::Resource,
    account: &str,
) -> Option<Vec<netdrift_snapshots::Rule>> {
    match ev.provider {
        Provider::Gcp => {
            let patch = gcp::patch_body(ev)?;
            crate::gcp::patched_firewall(prior, &patch, account)
                .ok()
                .map(|r| r.rules)
        }
        _ => None,
    }
}
