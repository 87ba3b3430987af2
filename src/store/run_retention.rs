//! Run retention (migration 12): old runs are pruned as a prefix of the chain, and a checkpoint
//! takes their place: the range pruned, the `prev_hash` of its first run (`anchor`) and the hash
//! of its last (`head`), to which the first run kept links. Checkpoints chain as runs do, so
//! the chain from genesis to the newest run stays verifiable across every prune.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::run_parts;
use super::runs::{run_hash, GENESIS};
use super::{ts, SqliteStore};

/// What one prune of runs removed: the exact record its hash covers, chained to the previous
/// checkpoint (`hash = sha256(prev_hash || "\n" || record)`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    pub id: i64,
    pub record: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A checkpoint's record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointRecord {
    /// The first and last run pruned, and how many runs that was.
    pub first_run: i64,
    pub last_run: i64,
    pub runs: i64,
    /// When the first and the last of them finished.
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub from: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub to: DateTime<Utc>,
    /// The first pruned run's `prev_hash`: the previous checkpoint's `head` (genesis for the
    /// first checkpoint).
    pub anchor: String,
    /// The last pruned run's hash: the `prev_hash` of the run after it.
    pub head: String,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub pruned_at: DateTime<Utc>,
}

impl Checkpoint {
    pub fn parsed(&self) -> Result<CheckpointRecord> {
        serde_json::from_str(&self.record)
            .with_context(|| format!("checkpoint {}: its record cannot be read", self.id))
    }
}

impl SqliteStore {
    /// Prune the runs that finished before `before`, never the newest run, as one prefix of
    /// the chain, in one transaction: the runs, their snapshot links, their rows of format 1,
    /// and the parts no kept run names; a checkpoint records them. None when nothing is old
    /// enough.
    pub fn prune_runs(
        &mut self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Checkpoint>> {
        let tx = self.tx()?;
        let last: Option<i64> = tx.query_row(
            "SELECT MAX(id) FROM runs WHERE finished_at < ?1 AND id < (SELECT MAX(id) FROM runs)",
            [ts(before)],
            |r| r.get(0),
        )?;
        let Some(last) = last else {
            return Ok(None);
        };
        let end = |sql: &str| -> Result<(i64, String, String)> {
            Ok(tx.query_row(sql, [last], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
        };
        let (first, anchor, from) =
            end("SELECT id, prev_hash, finished_at FROM runs WHERE id <= ?1 ORDER BY id LIMIT 1")?;
        let (_, head, to) = end("SELECT id, hash, finished_at FROM runs WHERE id = ?1")?;
        let runs: i64 = tx.query_row("SELECT COUNT(*) FROM runs WHERE id <= ?1", [last], |r| {
            r.get(0)
        })?;
        let record = CheckpointRecord {
            first_run: first,
            last_run: last,
            runs,
            from: super::parse_ts(&from)?,
            to: super::parse_ts(&to)?,
            anchor,
            head,
            pruned_at: now,
        };
        let prev: Option<String> = tx
            .query_row(
                "SELECT hash FROM run_checkpoints ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let prev = prev.unwrap_or_else(|| GENESIS.to_string());
        let body = serde_json::to_string(&record)?;
        let hash = run_hash(&prev, &body);
        tx.execute(
            "INSERT INTO run_checkpoints (last_run, record, prev_hash, hash) VALUES (?1, ?2, ?3, ?4)",
            params![last, body, prev, hash],
        )?;
        let id = tx.last_insert_rowid();
        for table in ["run_snapshots", "drift_items", "coverage"] {
            tx.execute(&format!("DELETE FROM {table} WHERE run_id <= ?1"), [last])?;
        }
        tx.execute("DELETE FROM runs WHERE id <= ?1", [last])?;
        collect_parts(&tx)?;
        tx.commit()?;
        Ok(Some(Checkpoint {
            id,
            record: body,
            prev_hash: prev,
            hash,
        }))
    }

    /// Every checkpoint, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id, record, prev_hash, hash FROM run_checkpoints ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Checkpoint {
                    id: r.get(0)?,
                    record: r.get(1)?,
                    prev_hash: r.get(2)?,
                    hash: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// Delete the parts no kept run names (its record's addresses, and the entries of its lists).
fn collect_parts(tx: &Transaction<'_>) -> Result<()> {
    let mut live: BTreeSet<String> = BTreeSet::new();
    let mut lists: BTreeSet<String> = BTreeSet::new();
    {
        let mut stmt = tx.prepare("SELECT record FROM runs WHERE record ->> '$.format' = ?1")?;
        for record in stmt.query_map([run_parts::ADDRESSED], |r| r.get::<_, String>(0))? {
            let rec: serde_json::Value = serde_json::from_str(&record?)?;
            for (key, address) in run_parts::record_addresses(&rec) {
                if key == "items" || key == "coverage" {
                    lists.insert(address.clone());
                }
                live.insert(address);
            }
        }
        let mut body = tx.prepare("SELECT body FROM run_parts WHERE hash = ?1")?;
        for list in &lists {
            // A kept run's list that is gone or unreadable stops the prune: collecting on
            // would delete the parts it names.
            let text: String = body
                .query_row([list], |r| r.get(0))
                .optional()?
                .with_context(|| format!("a kept run's list {list} is missing: nothing pruned"))?;
            let entries: Vec<Vec<String>> = serde_json::from_str(&text).with_context(|| {
                format!("a kept run's list {list} cannot be read: nothing pruned")
            })?;
            live.extend(entries.into_iter().filter_map(|mut e| e.pop()));
        }
    }
    let all: Vec<String> = {
        let mut stmt = tx.prepare("SELECT hash FROM run_parts")?;
        let v = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        v
    };
    let mut delete = tx.prepare("DELETE FROM run_parts WHERE hash = ?1")?;
    for h in all.iter().filter(|h| !live.contains(*h)) {
        delete.execute([h])?;
    }
    Ok(())
}
