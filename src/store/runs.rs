//! Reconcile runs, their drift items and coverage, linked in a hash chain.

use anyhow::{Context, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use chrono::{DateTime, Utc};

use super::{run_parts, time_col, ts, SqliteStore};

/// Everything one reconcile run records.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub finished_at: DateTime<Utc>,
    pub summary: serde_json::Value,
    pub snapshot_ids: Vec<i64>,
    /// (item id, scope, severity, item JSON)
    pub items: Vec<(String, String, String, serde_json::Value)>,
    /// (scope, coverage JSON)
    pub coverage: Vec<(String, serde_json::Value)>,
    /// The configuration in force, secrets removed (`Config::redacted`).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub config: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub finished_at: DateTime<Utc>,
    pub summary: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl RunRow {
    /// When the run's snapshots were taken (its summary's `snapshot_time`; the run's start for
    /// a record without one).
    pub fn snapshot_time(&self) -> DateTime<Utc> {
        self.summary["snapshot_time"]
            .as_str()
            .and_then(|t| crate::store::parse_ts(t).ok())
            .unwrap_or(self.started_at)
    }
}

/// The genesis link of the chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The address of a run part (migration 11): the SHA-256 of its JSON text.
pub fn part_address(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Hash of one run's record chained to the previous run's hash.
pub fn run_hash(prev_hash: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// A run row from id, started_at, finished_at, summary, prev_hash, hash (its summary as
/// stored: `resolve_rows` puts its parts back).
fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    let s: String = r.get(3)?;
    Ok(RunRow {
        id: r.get(0)?,
        started_at: time_col(r, 1)?,
        finished_at: time_col(r, 2)?,
        summary: serde_json::from_str(&s).unwrap_or(serde_json::Value::Null),
        prev_hash: r.get(4)?,
        hash: r.get(5)?,
    })
}

/// The condition on `runs` that keeps full runs (`netdrift run`, the nightly reconcile): a watch
/// tick's run is in the chain but not a run of its own.
const FULL_RUN: &str = "json_extract(summary, '$.kind') IS NOT 'watch'";

impl SqliteStore {
    pub fn record_run(&mut self, record: &RunRecord) -> Result<i64> {
        let tx = self.tx()?;
        let prev: Option<String> = tx
            .query_row("SELECT hash FROM runs ORDER BY id DESC LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        let prev = prev.unwrap_or_else(|| GENESIS.to_string());
        // Format 2 (migration 11): every part by its address, each stored once.
        // Items by id, one entry an id (the last recorded winning, as format 1's rows did).
        let mut by_id: std::collections::BTreeMap<&str, [String; 4]> = Default::default();
        for (id, scope, severity, b) in &record.items {
            let address = run_parts::put(&tx, &b.to_string())?;
            by_id.insert(id, [id.clone(), scope.clone(), severity.clone(), address]);
        }
        let items: Vec<&[String; 4]> = by_id.values().collect();
        let coverage: Vec<[String; 2]> = record
            .coverage
            .iter()
            .map(|(scope, b)| Ok([scope.clone(), run_parts::put(&tx, &b.to_string())?]))
            .collect::<Result<_>>()?;
        let summary = run_parts::split_summary(&tx, &record.summary)?;
        let addressed = serde_json::json!({
            "format": run_parts::ADDRESSED,
            "started_at": ts(record.started_at),
            "finished_at": ts(record.finished_at),
            "summary": summary,
            "snapshot_ids": record.snapshot_ids,
            "items": run_parts::put(&tx, &serde_json::to_string(&items)?)?,
            "coverage": run_parts::put(&tx, &serde_json::to_string(&coverage)?)?,
            "config": match &record.config {
                serde_json::Value::Null => None,
                c => Some(run_parts::put(&tx, &c.to_string())?),
            },
        });
        let body = serde_json::to_string(&addressed)?;
        let hash = run_hash(&prev, &body);
        tx.execute(
            "INSERT INTO runs (started_at, finished_at, summary, record, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ts(record.started_at), ts(record.finished_at), summary.to_string(), body, prev, hash],
        )?;
        let id = tx.last_insert_rowid();
        for s in &record.snapshot_ids {
            tx.execute(
                "INSERT OR IGNORE INTO run_snapshots (run_id, snapshot_id) VALUES (?1, ?2)",
                params![id, s],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    pub fn runs(&self, limit: usize) -> Result<Vec<RunRow>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT id, started_at, finished_at, summary, prev_hash, hash FROM runs \
             WHERE {FULL_RUN} ORDER BY id DESC LIMIT ?1"
        ))?;
        let mut rows = stmt
            .query_map([limit as i64], run_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.reverse();
        self.resolve_rows(rows.iter_mut())?;
        Ok(rows)
    }

    /// The ids and finish times of the newest `limit` full runs up to run `up_to`, oldest
    /// first.
    pub fn run_times(&self, up_to: i64, limit: usize) -> Result<Vec<(i64, DateTime<Utc>)>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT id, finished_at FROM runs WHERE id <= ?1 AND {FULL_RUN} ORDER BY id DESC LIMIT ?2"
        ))?;
        let mut rows = stmt
            .query_map(params![up_to, limit as i64], |r| {
                Ok((r.get(0)?, time_col(r, 1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.reverse();
        Ok(rows)
    }

    /// Put each row's summary parts back.
    fn resolve_rows<'a>(&self, rows: impl Iterator<Item = &'a mut RunRow>) -> Result<()> {
        let mut cache = std::collections::HashMap::new();
        for row in rows {
            let s = std::mem::take(&mut row.summary);
            row.summary = self.resolve_summary(row.id, s, &mut cache)?;
        }
        Ok(())
    }

    /// The bodies of a run recorded before migration 11, from its rows (`sql` selects them).
    fn legacy_bodies(&self, run_id: i64, sql: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare(sql)?;
        let rows = stmt
            .query_map([run_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Drift item bodies of a run, by item id.
    pub fn run_items(&self, run_id: i64) -> Result<Vec<serde_json::Value>> {
        let rows = match self.run_lists(run_id)? {
            Some((items, _)) => self.list_bodies(run_id, &items)?,
            None => self.legacy_bodies(
                run_id,
                "SELECT body FROM drift_items WHERE run_id = ?1 ORDER BY item_id",
            )?,
        };
        rows.iter()
            .map(|b| {
                serde_json::from_str(b)
                    .with_context(|| format!("run {run_id}: a stored drift item is not valid JSON"))
            })
            .collect()
    }
}

impl SqliteStore {
    /// Coverage findings of a run.
    pub fn run_coverage(&self, run_id: i64) -> Result<Vec<crate::findings::CoverageFinding>> {
        let rows = match self.run_lists(run_id)? {
            Some((_, coverage)) => self.list_bodies(run_id, &coverage)?,
            None => self.legacy_bodies(
                run_id,
                "SELECT body FROM coverage WHERE run_id = ?1 ORDER BY rowid",
            )?,
        };
        rows.iter()
            .map(|b| {
                serde_json::from_str(b).with_context(|| {
                    format!("run {run_id}: a stored coverage finding cannot be read")
                })
            })
            .collect()
    }
}

impl SqliteStore {
    /// Runs that finished in `[from, to]`, with the exact record their hash covers, oldest first.
    pub fn runs_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(RunRow, String)>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, started_at, finished_at, summary, prev_hash, hash, record FROM runs \
             WHERE finished_at >= ?1 AND finished_at <= ?2 ORDER BY id",
        )?;
        let mut rows = stmt
            .query_map(params![ts(from), ts(to)], |r| {
                Ok((run_row(r)?, r.get::<_, String>(6)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        self.resolve_rows(rows.iter_mut().map(|(r, _)| r))?;
        Ok(rows)
    }

    /// Remember an evidence export and the snapshots in it (retention keeps them).
    pub fn record_evidence_export(
        &mut self,
        created_at: &str,
        period: (&str, &str),
        file: &str,
        manifest_sha256: &str,
        snapshot_ids: &[i64],
    ) -> Result<i64> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO evidence_exports (created_at, period_from, period_to, file, manifest_sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![created_at, period.0, period.1, file, manifest_sha256],
        )?;
        let id = tx.last_insert_rowid();
        for s in snapshot_ids {
            tx.execute(
                "INSERT OR IGNORE INTO evidence_snapshots (export_id, snapshot_id) VALUES (?1, ?2)",
                params![id, s],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Snapshot ids a run covered.
    pub fn run_snapshot_ids(&self, run_id: i64) -> Result<Vec<i64>> {
        let mut stmt = self.conn().prepare(
            "SELECT snapshot_id FROM run_snapshots WHERE run_id = ?1 ORDER BY snapshot_id",
        )?;
        let rows = stmt
            .query_map([run_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(rows)
    }
}
