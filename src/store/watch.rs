//! Continuous detection's state: each scope's audit cursor, and what was delivered and
//! resolved.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use netdrift_snapshots::ScopeKey;

use super::{time_col, ts, SqliteStore};

/// One delivered message line: a drift item, or a re-read failure (`kind` "coverage").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    /// The webhook route it went to (`[[report.webhook]] name`; `default` for `[report]
    /// webhook_url`).
    #[serde(default = "default_route")]
    pub route: String,
    pub item_id: String,
    /// `drift` or `coverage`.
    pub kind: String,
    pub scope: String,
    pub resource: String,
    pub direction: String,
    pub severity: String,
    /// The line as delivered.
    pub line: String,
    pub run_id: i64,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub delivered_at: DateTime<Utc>,
    #[serde(default, with = "netdrift_snapshots::time::as_secs::option")]
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_run: Option<i64>,
    /// Who reverted it, when the logs say.
    pub resolved_by: Option<String>,
}

fn default_route() -> String {
    crate::config::DEFAULT_ROUTE.to_string()
}

impl SqliteStore {
    pub fn watch_cursors(&self) -> Result<HashMap<ScopeKey, DateTime<Utc>>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT scope_key, position FROM watch_cursors")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, time_col(r, 1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(k, t)| Ok((ScopeKey::parse(&k)?, t)))
            .collect()
    }

    /// Move cursors forward (never back), in one transaction.
    pub fn advance_cursors(
        &mut self,
        cursors: &[(ScopeKey, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.tx()?;
        for (k, t) in cursors {
            tx.execute(
                "INSERT INTO watch_cursors (scope_key, position, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(scope_key) DO UPDATE SET position = MAX(position, excluded.position), updated_at = excluded.updated_at",
                params![k.as_str(), ts(*t), ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Which of `ids` were delivered before on `route`.
    pub fn delivered_among(&self, route: &str, ids: &[&str]) -> Result<HashSet<String>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT 1 FROM deliveries WHERE route = ?1 AND item_id = ?2")?;
        let mut out = HashSet::new();
        for id in ids {
            if stmt
                .query_row([route, id], |_| Ok(()))
                .optional()?
                .is_some()
            {
                out.insert(id.to_string());
            }
        }
        Ok(out)
    }

    /// Deliveries not resolved yet, oldest first.
    pub fn open_deliveries(&self) -> Result<Vec<DeliveryRow>> {
        self.deliveries_where("resolved_at IS NULL")
    }

    pub fn deliveries(&self) -> Result<Vec<DeliveryRow>> {
        self.deliveries_where("1")
    }

    fn deliveries_where(&self, cond: &str) -> Result<Vec<DeliveryRow>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT item_id, kind, scope_key, resource_id, direction, severity, line, run_id, delivered_at, resolved_at, resolved_run, resolved_by, route \
             FROM deliveries WHERE {cond} ORDER BY delivered_at, route, item_id"
        ))?;
        let rows = stmt
            .query_map([], |r| {
                let resolved: Option<String> = r.get(9)?;
                Ok(DeliveryRow {
                    item_id: r.get(0)?,
                    kind: r.get(1)?,
                    scope: r.get(2)?,
                    resource: r.get(3)?,
                    direction: r.get(4)?,
                    severity: r.get(5)?,
                    line: r.get(6)?,
                    run_id: r.get(7)?,
                    delivered_at: time_col(r, 8)?,
                    resolved_at: match resolved {
                        Some(_) => Some(time_col(r, 9)?),
                        None => None,
                    },
                    resolved_run: r.get(10)?,
                    resolved_by: r.get(11)?,
                    route: r.get(12)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// New deliveries and resolutions of earlier ones, in one transaction.
    pub fn record_deliveries(
        &mut self,
        delivered: &[DeliveryRow],
        resolved: &[DeliveryRow],
    ) -> Result<()> {
        let tx = self.tx()?;
        for d in delivered {
            tx.execute(
                "INSERT OR IGNORE INTO deliveries (item_id, kind, scope_key, resource_id, direction, severity, line, run_id, delivered_at, route) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![d.item_id, d.kind, d.scope, d.resource, d.direction, d.severity, d.line, d.run_id, ts(d.delivered_at), d.route],
            )?;
        }
        for d in resolved {
            tx.execute(
                "UPDATE deliveries SET resolved_at = ?2, resolved_run = ?3, resolved_by = ?4 WHERE item_id = ?1 AND route = ?5 AND resolved_at IS NULL",
                params![d.item_id, d.resolved_at.map(ts), d.resolved_run, d.resolved_by, d.route],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::MIGRATIONS;
    use super::*;

    /// A database of schema 5 (before webhook routes) keeps every delivery: each becomes the
    /// default route's, so an upgraded daemon does not send them again.
    #[test]
    fn deliveries_made_before_routes_become_the_default_routes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for (_, sql) in &MIGRATIONS[..5] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 5).unwrap();
            conn.execute(
                "INSERT INTO deliveries (item_id, kind, scope_key, resource_id, direction, severity, line, run_id, delivered_at) \
                 VALUES ('d-1', 'drift', 'aws:1:us-east-1', 'sg-1', 'ingress', 'critical', 'x', 3, '2026-11-25T02:00:00Z')",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let got = store.deliveries().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].route.as_str(), got[0].item_id.as_str()),
            ("default", "d-1")
        );
        assert!(store
            .delivered_among("default", &["d-1"])
            .unwrap()
            .contains("d-1"));
        assert!(store
            .delivered_among("net-team", &["d-1"])
            .unwrap()
            .is_empty());
    }
}
