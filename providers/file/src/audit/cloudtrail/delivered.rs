//! CloudTrail's delivered form (`{"Records": [...]}`) at disk speed: a record outside the
//! catalogue is never built.

use serde_json::Value;

use super::{record_into, ASSUME, CATALOGUE};
use crate::audit::{normalize_time, AuditParse};

/// A delivered CloudTrail file, `{"Records": [...]}`, each record left unparsed.
#[derive(serde::Deserialize)]
struct Delivered<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a serde_json::value::RawValue>,
}

/// What decides whether a record is kept, read without building the record.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(borrow, rename = "eventSource")]
    source: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, rename = "eventName")]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, rename = "eventTime")]
    time: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, rename = "recipientAccountId")]
    account: Option<std::borrow::Cow<'a, str>>,
}

/// The delivered form at disk speed: the envelope is split into raw records in one pass, and
/// each record's source, name, time and account are read without building it; only catalogue
/// records (a tiny share of a busy account's log) are parsed in full. `None` when the file is
/// not in that form (the general reader takes it).
pub(super) fn parse(file: &str, bytes: &[u8]) -> Option<AuditParse> {
    let doc: Delivered<'_> = serde_json::from_slice(bytes).ok()?;
    let mut out = AuditParse::default();
    for (i, raw) in doc.records.iter().enumerate() {
        let loc = format!("record {}", i + 1);
        let head: Option<Head<'_>> = serde_json::from_str(raw.get()).ok();
        let relevant = match &head {
            Some(Head {
                source: Some(src),
                name: Some(name),
                ..
            }) => {
                (src == "ec2.amazonaws.com" && CATALOGUE.contains(&name.as_ref()))
                    || (src == "sts.amazonaws.com" && ASSUME.contains(&name.as_ref()))
            }
            // Not an object, or without a source or name: the full parse says what is wrong.
            _ => true,
        };
        if !relevant {
            if let Some(h) = head {
                if let Some(t) = h.time.as_deref().and_then(normalize_time) {
                    out.see_time(h.account.as_deref(), t);
                }
            }
            out.ignored += 1;
            continue;
        }
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(rec) => record_into(&mut out, file, &loc, rec, Some(raw)),
            Err(e) => out
                .skipped
                .push(format!("{file}: {loc}: not valid JSON: {e}")),
        }
    }
    Some(out)
}
