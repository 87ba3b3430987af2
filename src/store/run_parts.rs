//! A run's parts, content-addressed (migration 11): its drift items, coverage findings,
//! configuration and the list-valued parts of its summary, each stored once however many runs
//! name it. A run's record (format 2) names them by address, so the chain hash covers them.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, Context, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;

use super::runs::part_address;
use super::SqliteStore;

/// The record format whose parts are addressed.
pub const ADDRESSED: i64 = 2;

/// Store a part if new; its address.
pub(super) fn put(tx: &Transaction<'_>, text: &str) -> Result<String> {
    let hash = part_address(text);
    tx.prepare_cached("INSERT OR IGNORE INTO run_parts (hash, body) VALUES (?1, ?2)")?
        .execute(params![hash, text])?;
    Ok(hash)
}

/// A stored part's text; a missing part is an error naming the run and the address.
pub(super) fn get(conn: &Connection, run_id: i64, hash: &str) -> Result<String> {
    conn.prepare_cached("SELECT body FROM run_parts WHERE hash = ?1")?
        .query_row([hash], |r| r.get(0))
        .optional()?
        .ok_or_else(|| anyhow!("run {run_id}: its part {hash} is missing from the database"))
}

/// A summary to store: each list-valued field becomes `{"part": ADDRESS}` (a run's scopes and
/// coverage matrix repeat from one run to the next; its counts and times stay inline).
pub(super) fn split_summary(tx: &Transaction<'_>, summary: &Value) -> Result<Value> {
    let Some(fields) = summary.as_object() else {
        return Ok(summary.clone());
    };
    let mut out = serde_json::Map::new();
    for (k, v) in fields {
        let v = match v {
            Value::Array(_) => serde_json::json!({ "part": put(tx, &v.to_string())? }),
            v => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Ok(Value::Object(out))
}

/// The address a summary field names, if it is one `split_summary` made.
fn named_part(v: &Value) -> Option<&str> {
    let o = v.as_object()?;
    if o.len() == 1 {
        o.get("part")?.as_str()
    } else {
        None
    }
}

/// Addresses an addressed record names, each with what names it: its lists ("items",
/// "coverage"), its configuration ("config") and its summary parts ("summary").
pub(super) fn record_addresses(record: &Value) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = ["items", "coverage", "config"]
        .into_iter()
        .filter_map(|k| Some((k, record[k].as_str()?.to_string())))
        .collect();
    if let Some(fields) = record["summary"].as_object() {
        out.extend(
            fields
                .values()
                .filter_map(named_part)
                .map(|h| ("summary", h.to_string())),
        );
    }
    out
}

impl SqliteStore {
    /// A stored summary with its parts put back (`cache` holds parts already read).
    pub(super) fn resolve_summary(
        &self,
        run_id: i64,
        summary: Value,
        cache: &mut HashMap<String, Value>,
    ) -> Result<Value> {
        let Value::Object(fields) = summary else {
            return Ok(summary);
        };
        let mut out = serde_json::Map::new();
        for (k, v) in fields {
            let v = match named_part(&v) {
                None => v,
                Some(h) => match cache.get(h) {
                    Some(p) => p.clone(),
                    None => {
                        let p: Value = serde_json::from_str(&get(self.conn(), run_id, h)?)
                            .with_context(|| format!("run {run_id}: its part {h} is not JSON"))?;
                        cache.insert(h.to_string(), p.clone());
                        p
                    }
                },
            };
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }

    /// The addresses of an addressed run's item and coverage lists (None: a run recorded
    /// before migration 11, whose rows are in `drift_items` and `coverage`).
    pub(super) fn run_lists(&self, run_id: i64) -> Result<Option<(String, String)>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT record ->> '$.items', record ->> '$.coverage' FROM runs \
                 WHERE id = ?1 AND record ->> '$.format' = ?2",
            )?
            .query_row(params![run_id, ADDRESSED], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The texts a list part names, in its order (each entry's last element is its address:
    /// [item id, scope, severity, address] or [scope, address]).
    pub(super) fn list_bodies(&self, run_id: i64, list: &str) -> Result<Vec<String>> {
        let text = get(self.conn(), run_id, list)?;
        let entries: Vec<Vec<String>> = serde_json::from_str(&text)
            .with_context(|| format!("run {run_id}: its list {list} cannot be read"))?;
        entries
            .iter()
            .map(|e| {
                let h = e
                    .last()
                    .ok_or_else(|| anyhow!("run {run_id}: an empty entry in its list {list}"))?;
                get(self.conn(), run_id, h)
            })
            .collect()
    }

    /// Every part the given runs' records name, and the parts their lists name: address →
    /// text (what an evidence bundle carries so its runs verify offline). Runs recorded before
    /// migration 11 have none.
    pub fn run_parts(&self, records: &[(i64, &str)]) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (run_id, record) in records {
            let rec: Value = serde_json::from_str(record)
                .with_context(|| format!("run {run_id}: its record is not JSON"))?;
            if rec["format"].as_i64() != Some(ADDRESSED) {
                continue;
            }
            for (key, h) in record_addresses(&rec) {
                if out.contains_key(&h) {
                    continue;
                }
                let text = get(self.conn(), *run_id, &h)?;
                if key == "items" || key == "coverage" {
                    let entries: Vec<Vec<String>> = serde_json::from_str(&text)
                        .with_context(|| format!("run {run_id}: its list {h} cannot be read"))?;
                    for e in entries {
                        if let Some(b) = e.last().filter(|b| !out.contains_key(*b)) {
                            out.insert(b.clone(), get(self.conn(), *run_id, b)?);
                        }
                    }
                }
                out.insert(h, text);
            }
        }
        Ok(out)
    }
}
