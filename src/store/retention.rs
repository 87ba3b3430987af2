//! Retention: prune old snapshots that nothing references any more.

use std::collections::BTreeSet;

use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{ts, SqliteStore};

impl SqliteStore {
    /// Delete snapshots last seen before `before`, except: the latest snapshot of each scope,
    /// any snapshot a drift item or an evidence export names, and any snapshot of a run still
    /// kept (`prune_runs` prunes runs), so that an export of a kept run holds its snapshots.
    /// Then delete manifests and resource states nothing references (baselines keep theirs).
    /// Returns the number of snapshots deleted.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<usize> {
        let mut keep: BTreeSet<i64> = BTreeSet::new();
        {
            let c = self.conn();
            let mut q = |sql: &str| -> Result<()> {
                let mut stmt = c.prepare(sql)?;
                for id in stmt.query_map([], |r| r.get::<_, Option<i64>>(0))? {
                    if let Some(id) = id? {
                        keep.insert(id);
                    }
                }
                Ok(())
            };
            q("SELECT MAX(id) FROM snapshots GROUP BY scope_key")?;
            q("SELECT DISTINCT json_extract(body, '$.snapshot_id') FROM drift_items")?;
            q("SELECT DISTINCT body ->> '$.snapshot_id' FROM run_parts WHERE json_type(body) = 'object'")?;
            q("SELECT DISTINCT snapshot_id FROM run_snapshots")?;
            q("SELECT snapshot_id FROM evidence_snapshots")?;
        }
        let candidates: Vec<i64> = {
            let mut stmt = self
                .conn()
                .prepare("SELECT id FROM snapshots WHERE coalesce(seen_at, taken_at) < ?1")?;
            let v = stmt
                .query_map(params![ts(before)], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            v.into_iter().filter(|id| !keep.contains(id)).collect()
        };
        let tx = self.tx()?;
        for id in &candidates {
            tx.execute("DELETE FROM run_snapshots WHERE snapshot_id = ?1", [id])?;
            tx.execute("DELETE FROM snapshots WHERE id = ?1", [id])?;
        }
        tx.execute("DELETE FROM manifests WHERE hash NOT IN (SELECT manifest_hash FROM snapshots WHERE manifest_hash IS NOT NULL)", [])?;
        let mut live: BTreeSet<String> = BTreeSet::new();
        {
            let mut stmt = tx.prepare("SELECT body FROM manifests")?;
            for body in stmt.query_map([], |r| r.get::<_, String>(0))? {
                let pairs: Vec<(String, String)> = serde_json::from_str(&body?)?;
                live.extend(pairs.into_iter().map(|(_, h)| h));
            }
            let mut stmt =
                tx.prepare("SELECT state_hash FROM baseline_entries WHERE state_hash IS NOT NULL")?;
            for h in stmt.query_map([], |r| r.get::<_, String>(0))? {
                live.insert(h?);
            }
        }
        let all: Vec<String> = {
            let mut stmt = tx.prepare("SELECT hash FROM resource_states")?;
            let v = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            v
        };
        for h in all.iter().filter(|h| !live.contains(*h)) {
            tx.execute("DELETE FROM resource_states WHERE hash = ?1", [h])?;
        }
        tx.commit()?;
        Ok(candidates.len())
    }

    /// Forget the audit-log objects (an S3 trail's delivered files) read before `before` that
    /// no audit window lists again. A window starts at its scope's last collection and a source
    /// lists delivery folders from the day before it, so a reconcile consults the objects read
    /// since two days before the earliest last collection: that bound, over the scopes
    /// collected since `before`, is kept as well. (A scope not collected for the whole period
    /// has left the estate; if it comes back, its older objects are read again: their events
    /// are stored once, by event id.) Returns the number of objects forgotten.
    pub fn prune_audit_objects(&mut self, before: DateTime<Utc>) -> Result<usize> {
        let earliest: Option<String> = self.conn().query_row(
            "SELECT MIN(seen) FROM (SELECT MAX(coalesce(seen_at, taken_at)) AS seen FROM snapshots \
             GROUP BY scope_key) WHERE seen >= ?1",
            [ts(before)],
            |r| r.get(0),
        )?;
        let cutoff = match earliest {
            Some(e) => before.min(super::parse_ts(&e)? - chrono::Duration::days(2)),
            None => before,
        };
        let tx = self.tx()?;
        let n = tx.execute("DELETE FROM audit_objects WHERE read_at < ?1", [ts(cutoff)])?;
        tx.commit()?;
        Ok(n)
    }
}
