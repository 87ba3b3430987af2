//! Baselines (versioned approvals) and exceptions.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use netdrift_snapshots::{Direction, Resource, ResourceKind, Scope, ScopeKey};

use super::{ensure_scope, put_states, ts, SqliteStore};

/// What an approval covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaselineSelector {
    All,
    Scope(String),
    Resource(String),
}

impl BaselineSelector {
    pub fn describe(&self) -> String {
        match self {
            BaselineSelector::All => "all".into(),
            BaselineSelector::Scope(s) => format!("scope:{s}"),
            BaselineSelector::Resource(r) => format!("resource:{r}"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineRow {
    pub id: i64,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub created_at: DateTime<Utc>,
    pub approved_by: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub selector: String,
    pub origin: String,
    pub entries: i64,
}

/// A pattern exception (`[[exception]]`) as a baseline file wrote it, and that file.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoredPattern {
    pub name: String,
    /// The table as written, as JSON (`config::pattern_from_json` reads it).
    pub body: serde_json::Value,
    /// Where it came from (`file:PATH`).
    pub origin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExceptionRow {
    pub id: i64,
    pub drift_id: String,
    pub scope: ScopeKey,
    pub resource: String,
    pub direction: String,
    /// The newly allowed access the exception was granted for (an `AccessSet`).
    pub envelope: serde_json::Value,
    pub owner: String,
    pub reason: String,
    pub ticket: Option<String>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub created_at: DateTime<Utc>,
    /// Set once `exception remove` took it back: it covers nothing from then on.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "netdrift_snapshots::time::as_secs::option"
    )]
    pub removed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_reason: Option<String>,
}

pub struct NewException<'a> {
    pub drift_id: &'a str,
    pub scope: &'a str,
    pub resource: &'a str,
    pub direction: Direction,
    pub envelope: serde_json::Value,
    pub owner: &'a str,
    pub reason: &'a str,
    pub ticket: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

impl SqliteStore {
    /// Approve the latest collected state for a selector. Resources previously approved in an
    /// approved scope and now gone are approved as absent. Returns the baseline id and the
    /// number of entries.
    pub fn approve(
        &mut self,
        selector: &BaselineSelector,
        by: &str,
        reason: &str,
        ticket: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(i64, usize)> {
        if by.trim().is_empty() || reason.trim().is_empty() {
            bail!("an approval needs --by and a non-empty --reason");
        }
        // Gather (scope, resource, state) before writing.
        let mut entries: Vec<(String, String, Option<String>)> = Vec::new();
        let scopes: Vec<String> = match selector {
            BaselineSelector::All => self.scopes()?.iter().map(|s| s.key().into()).collect(),
            BaselineSelector::Scope(s) => vec![s.clone()],
            BaselineSelector::Resource(r) => self.scopes_of(r)?,
        };
        if scopes.is_empty() {
            bail!(
                "nothing to approve for {}: no snapshot contains it",
                selector.describe()
            );
        }
        for scope in &scopes {
            let Some(snap) = self.latest_snapshot(scope, None)? else {
                bail!("scope {scope} has no snapshot to approve");
            };
            if snap.status == netdrift_snapshots::SnapshotStatus::Failed {
                bail!(
                    "the latest snapshot of {scope} failed ({}); collect it again before approving",
                    ts(snap.taken_at)
                );
            }
            let manifest: BTreeMap<String, String> = self.manifest(&snap)?.into_iter().collect();
            let uncollected: Vec<ResourceKind> = snap.uncollected.clone();
            // Workloads (interfaces, subnets, route tables) are not firewall state: a baseline
            // approves firewalls only.
            let workload = |h: &str| self.is_workload_state(h);
            match selector {
                BaselineSelector::Resource(r) => {
                    if let Some(h) = manifest.get(r) {
                        if workload(h)? {
                            bail!("{r} is a workload, not a firewall: a baseline approves security groups, network ACLs, firewall rules and policies, and NSGs");
                        }
                    }
                    entries.push((scope.clone(), r.clone(), manifest.get(r).cloned()));
                }
                _ => {
                    for (id, h) in &manifest {
                        if !workload(h)? {
                            entries.push((scope.clone(), id.clone(), Some(h.clone())));
                        }
                    }
                    for (id, kind) in self.approved_ids(scope)? {
                        if !manifest.contains_key(&id) && !uncollected.contains(&kind) {
                            entries.push((scope.clone(), id, None));
                        }
                    }
                }
            }
        }
        let n = entries.len();
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO baselines (created_at, approved_by, reason, ticket, selector, origin) VALUES (?1, ?2, ?3, ?4, ?5, 'snapshot')",
            params![ts(now), by, reason, ticket, selector.describe()],
        )?;
        let id = tx.last_insert_rowid();
        for (scope, rid, hash) in entries {
            tx.execute(
                "INSERT INTO baseline_entries (baseline_id, scope_key, resource_id, state_hash) VALUES (?1, ?2, ?3, ?4)",
                params![id, scope, rid, hash],
            )?;
        }
        tx.commit()?;
        Ok((id, n))
    }

    /// Import a hand-written baseline: the given resources become the approved state of their
    /// scopes (resources of an approved scope not listed are approved as absent), and its
    /// pattern exceptions replace those an earlier import of the same origin brought.
    #[allow(clippy::too_many_arguments)]
    pub fn import_baseline(
        &mut self,
        scopes: &[(Scope, Vec<Resource>)],
        patterns: &[StoredPattern],
        by: &str,
        reason: &str,
        ticket: Option<&str>,
        origin: &str,
        now: DateTime<Utc>,
    ) -> Result<(i64, usize)> {
        let mut previously: Vec<(String, Vec<(String, ResourceKind)>)> = Vec::new();
        for (scope, _) in scopes {
            previously.push((scope.key().into(), self.approved_ids(&scope.key())?));
        }
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO baselines (created_at, approved_by, reason, ticket, selector, origin) VALUES (?1, ?2, ?3, ?4, 'file', ?5)",
            params![ts(now), by, reason, ticket, origin],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE exception_patterns SET replaced_at = ?2 WHERE origin = ?1 AND replaced_at IS NULL",
            params![origin, ts(now)],
        )?;
        for p in patterns {
            tx.execute(
                "INSERT INTO exception_patterns (baseline_id, origin, name, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, origin, p.name, p.body.to_string(), ts(now)],
            )?;
        }
        let mut n = 0;
        for ((scope, resources), (_, before)) in scopes.iter().zip(previously) {
            ensure_scope(&tx, scope)?;
            let key = scope.key();
            for (r, h) in resources.iter().zip(put_states(&tx, resources)?) {
                tx.execute(
                    "INSERT INTO baseline_entries (baseline_id, scope_key, resource_id, state_hash) VALUES (?1, ?2, ?3, ?4)",
                    params![id, key.as_str(), r.id.as_str(), h],
                )
                .with_context(|| format!("resource {} listed twice for {key}", r.id))?;
                tx.execute(
                    "INSERT OR IGNORE INTO resource_index (resource_id, scope_key) VALUES (?1, ?2)",
                    params![r.id.as_str(), key.as_str()],
                )?;
                n += 1;
            }
            for (rid, _) in before {
                if !resources.iter().any(|r| r.id.as_str() == rid) {
                    tx.execute(
                        "INSERT INTO baseline_entries (baseline_id, scope_key, resource_id, state_hash) VALUES (?1, ?2, ?3, NULL)",
                        params![id, key.as_str(), rid],
                    )?;
                    n += 1;
                }
            }
        }
        tx.commit()?;
        Ok((id, n))
    }

    /// Resource ids currently approved as present in a scope, with their kinds.
    fn approved_ids(&self, scope: &str) -> Result<Vec<(String, ResourceKind)>> {
        Ok(self
            .approved_state(scope, None)?
            .map(|v| {
                v.into_iter()
                    .map(|r| (r.id.as_str().to_string(), r.kind))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The approved state of a scope as of baseline `at_baseline` (default: latest). `None` when
    /// the scope was never approved.
    pub fn approved_state(
        &self,
        scope: &str,
        at_baseline: Option<i64>,
    ) -> Result<Option<Vec<Resource>>> {
        Ok(self
            .approved_state_at(scope, at_baseline, &[])?
            .map(|v| v.into_iter().map(|(_, r)| r).collect()))
    }

    /// The current approved state as (state hash, resource) pairs, where a state is one of
    /// `known` (the snapshot's, as a rule nearly all of them) taken from there instead of read
    /// again.
    pub(crate) fn approved_state_reusing(
        &self,
        scope: &str,
        known: &[(String, Resource)],
    ) -> Result<Option<Vec<(String, Resource)>>> {
        self.approved_state_at(scope, None, known)
    }

    fn approved_state_at(
        &self,
        scope: &str,
        at_baseline: Option<i64>,
        known: &[(String, Resource)],
    ) -> Result<Option<Vec<(String, Resource)>>> {
        let known: std::collections::HashMap<&str, &Resource> =
            known.iter().map(|(h, r)| (h.as_str(), r)).collect();
        let max = at_baseline.unwrap_or(i64::MAX);
        let mut stmt = self.conn().prepare(
            "SELECT e.resource_id, e.state_hash FROM baseline_entries e \
             WHERE e.scope_key = ?1 AND e.baseline_id <= ?2 AND e.baseline_id = ( \
               SELECT MAX(e2.baseline_id) FROM baseline_entries e2 \
               WHERE e2.scope_key = e.scope_key AND e2.resource_id = e.resource_id AND e2.baseline_id <= ?2) \
             ORDER BY e.resource_id",
        )?;
        let rows = stmt
            .query_map(params![scope, max], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for (_, hash) in rows {
            if let Some(h) = hash {
                let r = match known.get(h.as_str()) {
                    Some(r) => (*r).clone(),
                    None => self.state(&h)?,
                };
                out.push((h, r));
            }
        }
        Ok(Some(out))
    }

    pub fn baselines(&self) -> Result<Vec<BaselineRow>> {
        let mut stmt = self.conn().prepare(
            "SELECT b.id, b.created_at, b.approved_by, b.reason, b.ticket, b.selector, b.origin, \
             (SELECT COUNT(*) FROM baseline_entries e WHERE e.baseline_id = b.id) FROM baselines b ORDER BY b.id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(BaselineRow {
                    id: r.get(0)?,
                    created_at: super::time_col(r, 1)?,
                    approved_by: r.get(2)?,
                    reason: r.get(3)?,
                    ticket: r.get(4)?,
                    selector: r.get(5)?,
                    origin: r.get(6)?,
                    entries: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Entries of one baseline: (scope, resource id, state) as approved by that baseline alone.
    pub fn baseline_entries(&self, id: i64) -> Result<Vec<(String, String, Option<Resource>)>> {
        self.baseline_entry_hashes(id)?
            .into_iter()
            .map(|(s, r, h)| Ok((s, r, h.map(|h| self.state(&h)).transpose()?)))
            .collect()
    }

    /// Entries of one baseline: (scope, resource id, state hash; None = approved as absent).
    pub fn baseline_entry_hashes(&self, id: i64) -> Result<Vec<(String, String, Option<String>)>> {
        let mut stmt = self.conn().prepare(
            "SELECT scope_key, resource_id, state_hash FROM baseline_entries WHERE baseline_id = ?1 ORDER BY scope_key, resource_id",
        )?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn add_exception(&mut self, e: &NewException<'_>, now: DateTime<Utc>) -> Result<i64> {
        if e.reason.trim().is_empty() {
            bail!("an exception needs a non-empty --reason");
        }
        if e.owner.trim().is_empty() {
            bail!("an exception needs an owner (--by)");
        }
        if e.expires_at <= now {
            bail!("the expiry {} is not in the future", ts(e.expires_at));
        }
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO exceptions (drift_id, scope_key, resource_id, direction, envelope, owner, reason, ticket, expires_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                e.drift_id,
                e.scope,
                e.resource,
                e.direction.as_str(),
                e.envelope.to_string(),
                e.owner,
                e.reason,
                e.ticket,
                ts(e.expires_at),
                ts(now)
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Take an exception back (`exception remove`): it stays in the history with who, when and
    /// why. An unknown or already removed id is an error.
    pub fn remove_exception(
        &mut self,
        id: i64,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<ExceptionRow> {
        if by.trim().is_empty() || reason.trim().is_empty() {
            bail!("removing an exception needs --by and --reason: the history keeps who and why");
        }
        let tx = self.tx()?;
        let n = tx.execute(
            "UPDATE exceptions SET removed_at = ?2, removed_by = ?3, removed_reason = ?4 WHERE id = ?1 AND removed_at IS NULL",
            params![id, ts(now), by, reason],
        )?;
        tx.commit()?;
        let row = self.exception_history()?.into_iter().find(|e| e.id == id);
        match (n, row) {
            (1, Some(r)) => Ok(r),
            (_, Some(r)) => bail!(
                "exception {id} was already removed on {} by {}",
                r.removed_at.map(ts).unwrap_or_default(),
                r.removed_by.unwrap_or_default()
            ),
            (_, None) => bail!("no exception {id} (`netdrift exception list` shows them)"),
        }
    }

    /// The pattern exceptions baseline files brought that are in force, oldest first.
    pub fn stored_patterns(&self) -> Result<Vec<StoredPattern>> {
        let mut stmt = self.conn().prepare(
            "SELECT name, body, origin FROM exception_patterns WHERE replaced_at IS NULL ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let body: String = r.get(1)?;
                Ok(StoredPattern {
                    name: r.get(0)?,
                    body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                    origin: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The exceptions in force (not removed), oldest first.
    pub fn exceptions(
        &self,
        scope: Option<&str>,
        resource: Option<&str>,
    ) -> Result<Vec<ExceptionRow>> {
        self.exceptions_where(scope, resource, "removed_at IS NULL")
    }

    /// Every exception ever added, removed ones too.
    pub fn exception_history(&self) -> Result<Vec<ExceptionRow>> {
        self.exceptions_where(None, None, "1")
    }

    fn exceptions_where(
        &self,
        scope: Option<&str>,
        resource: Option<&str>,
        cond: &str,
    ) -> Result<Vec<ExceptionRow>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT id, drift_id, scope_key, resource_id, direction, envelope, owner, reason, ticket, expires_at, created_at, removed_at, removed_by, removed_reason \
             FROM exceptions WHERE (?1 IS NULL OR scope_key = ?1) AND (?2 IS NULL OR resource_id = ?2) AND {cond} ORDER BY id",
        ))?;
        let rows = stmt
            .query_map(params![scope, resource], |r| {
                let removed: Option<String> = r.get(11)?;
                let env: String = r.get(5)?;
                Ok(ExceptionRow {
                    id: r.get(0)?,
                    drift_id: r.get(1)?,
                    scope: super::scope_key_col(r, 2)?,
                    resource: r.get(3)?,
                    direction: r.get(4)?,
                    envelope: serde_json::from_str(&env).unwrap_or(serde_json::Value::Null),
                    owner: r.get(6)?,
                    reason: r.get(7)?,
                    ticket: r.get(8)?,
                    expires_at: super::time_col(r, 9)?,
                    created_at: super::time_col(r, 10)?,
                    removed_at: match removed {
                        Some(_) => Some(super::time_col(r, 11)?),
                        None => None,
                    },
                    removed_by: r.get(12)?,
                    removed_reason: r.get(13)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

impl SqliteStore {
    /// Whether a stored state is a workload's (an interface, subnet or route table).
    fn is_workload_state(&self, hash: &str) -> Result<bool> {
        let kind: String = self
            .conn()
            .prepare_cached("SELECT kind FROM resource_states WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))?;
        Ok(kind.parse::<ResourceKind>()?.is_workload())
    }

    /// When the newest baseline covering a scope was approved (none when no baseline covers it).
    /// A database error is an error, never "no baseline".
    pub fn baseline_approved_at(&self, scope: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT b.created_at FROM baselines b JOIN baseline_entries e ON e.baseline_id = b.id \
                 WHERE e.scope_key = ?1 ORDER BY b.id DESC LIMIT 1",
                [scope],
                |r| super::time_col(r, 0),
            )
            .optional()?)
    }
}
