//! Audit files at disk speed for every provider: a file's records are split without being
//! built (each stays the JSON text it was), so that a record outside the catalogue is judged
//! by reading only the fields that decide it. CloudTrail's delivered form has its own reader
//! (`cloudtrail::delivered`); GCP LogEntry exports and Activity Log exports use this one.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::Value;

use netdrift_snapshots::{AuditEvent, Record};

use super::AuditParse;
use crate::ImportError;

/// A file's records, each where it was (`record N` of the array, `line N` of NDJSON) and left
/// unparsed: the top-level array, the array under one of `envelope_keys`, a single record, or
/// one record per line. `None` when the file is not cleanly one of those (a line that is not
/// JSON, an envelope that is not an array): the general reader (`split_records`) takes it and
/// says what is wrong where.
pub(crate) fn raw_records<'a>(
    bytes: &'a [u8],
    envelope_keys: &[&str],
) -> Option<Vec<(String, &'a RawValue)>> {
    let numbered = |v: Vec<&'a RawValue>| {
        v.into_iter()
            .enumerate()
            .map(|(i, r)| (format!("record {}", i + 1), r))
            .collect()
    };
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.trim_start();
    if start.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<&RawValue>>(text) {
            return Some(numbered(v));
        }
    } else if start.starts_with('{') {
        if let Ok(doc) = serde_json::from_str::<HashMap<Cow<'a, str>, &'a RawValue>>(text) {
            return match envelope_keys.iter().find_map(|k| doc.get(*k)) {
                Some(inner) => serde_json::from_str::<Vec<&RawValue>>(inner.get())
                    .ok()
                    .map(numbered),
                None => Some(vec![(
                    "record 1".to_string(),
                    serde_json::from_str::<&RawValue>(text).ok()?,
                )]),
            };
        }
    }
    if serde_json::from_str::<&RawValue>(text).is_ok() {
        // One value, neither an array nor an object: the general reader says so.
        return None;
    }
    // One record per line (NDJSON, as `gcloud logging read --format=json` piped or a log
    // sink's files hold them).
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push((
            format!("line {}", n + 1),
            serde_json::from_str::<&RawValue>(line).ok()?,
        ));
    }
    (!out.is_empty()).then_some(out)
}

/// How one provider's audit files are read: where the records are (`envelope`), which it may
/// keep judged from the unparsed record (`relevant`), how a record becomes an event (`parse`),
/// and how a second record of the same event joins the first (`merge`).
pub(crate) struct Reader {
    pub envelope: &'static [&'static str],
    pub relevant: fn(&RawValue) -> bool,
    pub parse: fn(&Value) -> Result<Option<AuditEvent>, String>,
    pub merge: fn(&mut AuditEvent, AuditEvent),
}

impl Reader {
    /// Read a file. With `prefilter`, the records are split unparsed and those `relevant` rules
    /// out are counted as ignored without being built; the event keeps its record's text as
    /// delivered. Without it, or when the file does not split cleanly, the general reader
    /// (`split_records`) gives every record built, and says what is wrong where.
    pub(crate) fn read(
        &self,
        file: &str,
        bytes: &[u8],
        prefilter: bool,
    ) -> Result<AuditParse, ImportError> {
        let mut out = AuditParse::default();
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut take =
            |out: &mut AuditParse, loc: &str, rec: &Value, text: Option<&RawValue>| match (self
                .parse)(
                rec
            ) {
                Ok(Some(mut ev)) => {
                    if let Some(text) = text {
                        ev.raw = Some(Record::from_raw(text));
                    }
                    out.see_time(ev.account.as_deref(), ev.event_time);
                    match at.get(&ev.event_id) {
                        Some(&i) => (self.merge)(&mut out.events[i], ev),
                        None => {
                            at.insert(ev.event_id.clone(), out.events.len());
                            out.events.push(ev);
                        }
                    }
                }
                Ok(None) => out.ignored += 1,
                Err(why) => out.skipped.push(format!("{file}: {loc}: {why}")),
            };
        if let Some(records) = raw_records(bytes, self.envelope).filter(|_| prefilter) {
            for (loc, raw) in records {
                if !(self.relevant)(raw) {
                    out.ignored += 1;
                    continue;
                }
                match serde_json::from_str::<Value>(raw.get()) {
                    Ok(rec) => take(&mut out, &loc, &rec, Some(raw)),
                    Err(e) => out
                        .skipped
                        .push(format!("{file}: {loc}: not valid JSON: {e}")),
                }
            }
            return Ok(out);
        }
        let (records, skipped) = super::split_records(file, bytes, self.envelope)?;
        out.skipped = skipped;
        for (loc, rec) in records {
            take(&mut out, &loc, &rec, None);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_file_splits_as_the_general_reader_names_it() {
        type Case<'a> = (&'a str, &'a [&'a str], Option<&'a [(&'a str, &'a str)]>);
        let cases: &[Case<'_>] = &[
            (
                r#"[{"a":1}, {"b":2}]"#,
                &["entries"],
                Some(&[("record 1", r#"{"a":1}"#), ("record 2", r#"{"b":2}"#)]),
            ),
            (
                r#"{"entries": [{"a":1}]}"#,
                &["entries"],
                Some(&[("record 1", r#"{"a":1}"#)]),
            ),
            (
                r#"{"value": [{"a":1}], "nextLink": null}"#,
                &["value", "records"],
                Some(&[("record 1", r#"{"a":1}"#)]),
            ),
            (
                r#"{"a": 1}"#,
                &["entries"],
                Some(&[("record 1", r#"{"a": 1}"#)]),
            ),
            (
                "{\"a\":1}\n\n{\"b\":2}\n",
                &["entries"],
                Some(&[("line 1", r#"{"a":1}"#), ("line 3", r#"{"b":2}"#)]),
            ),
            // Left to the general reader, which says what is wrong where.
            ("{\"a\":1}\nnot json\n", &["entries"], None),
            (r#"{"entries": {"a":1}}"#, &["entries"], None),
            ("", &["entries"], None),
            ("42\n", &["entries"], None),
        ];
        for (text, keys, want) in cases {
            let got = raw_records(text.as_bytes(), keys).map(|v| {
                v.into_iter()
                    .map(|(l, r)| (l, r.get().to_string()))
                    .collect::<Vec<_>>()
            });
            let want = want.map(|w| {
                w.iter()
                    .map(|(l, r)| (l.to_string(), r.to_string()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(got, want, "{text:?}");
        }
    }
}
