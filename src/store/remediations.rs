//! Remediations (`netdrift revert --apply`): one row per revert, written once, all at once.

use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use netdrift_snapshots::ScopeKey;

use super::{ts, SqliteStore};

/// One remediation as stored (and as the evidence bundle's `remediations.json` lists it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemediationRow {
    /// 0 until stored.
    pub id: i64,
    pub item: String,
    pub scope: ScopeKey,
    pub resource: String,
    pub direction: String,
    /// Who ran it (the operating-system user, and the sudo user behind it).
    pub run_by: String,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub finished_at: DateTime<Utc>,
    pub ticket: Option<String>,
    /// The steps, as `netdrift revert --format json` prints them.
    pub steps: serde_json::Value,
    /// What became of each call (`{"call", "ok", "detail"}`).
    pub outcomes: serde_json::Value,
    /// The resource's state hash the calls were computed from, and after them.
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    /// The next collection found the item gone.
    pub confirmed: bool,
}

impl SqliteStore {
    pub fn record_remediation(&mut self, r: &RemediationRow) -> Result<i64> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO remediations (item, scope_key, resource_id, direction, run_by, started_at, finished_at, ticket, steps, outcomes, before_state, after_state, confirmed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                r.item,
                r.scope.as_str(),
                r.resource,
                r.direction,
                r.run_by,
                ts(r.started_at),
                ts(r.finished_at),
                r.ticket,
                r.steps.to_string(),
                r.outcomes.to_string(),
                r.before_state,
                r.after_state,
                r.confirmed,
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    pub fn remediations(&self) -> Result<Vec<RemediationRow>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, item, scope_key, resource_id, direction, run_by, started_at, finished_at, ticket, steps, outcomes, before_state, after_state, confirmed \
             FROM remediations ORDER BY id",
        )?;
        let json = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<serde_json::Value> {
            let s: String = r.get(i)?;
            serde_json::from_str(&s).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        };
        let rows = stmt
            .query_map([], |r| {
                Ok(RemediationRow {
                    id: r.get(0)?,
                    item: r.get(1)?,
                    scope: super::scope_key_col(r, 2)?,
                    resource: r.get(3)?,
                    direction: r.get(4)?,
                    run_by: r.get(5)?,
                    started_at: super::time_col(r, 6)?,
                    finished_at: super::time_col(r, 7)?,
                    ticket: r.get(8)?,
                    steps: json(r, 9)?,
                    outcomes: json(r, 10)?,
                    before_state: r.get(11)?,
                    after_state: r.get(12)?,
                    confirmed: r.get(13)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
