//! The SQLite store: snapshots (content-addressed), baselines, exceptions, runs and drift.
//!
//! Architecture invariant: every logical write (a snapshot, an approval, a run) is one
//! transaction; a failure rolls it back and leaves the database exactly as it was. SQL and row
//! structs live here; domain types never implement rusqlite traits.

mod api;
mod attribution_inputs;
mod audit;
mod audit_records;
mod audit_rows;
mod baselines;
mod inputs;
mod open;
mod remediations;
mod retention;
mod run_parts;
mod run_retention;
pub mod runs;
mod snapshot_write;
mod states;
mod watch;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use netdrift_snapshots::{
    access_hash, canonical_json, Collected, Problem, Resource, ResourceKind, Scope, ScopeKey,
    SnapshotStatus,
};

pub use api::{Store, StoreError, StoreResult};
pub use attribution_inputs::{
    temporary_key, AttributionQuery, InputsVisitor, ItemInputs, WindowRule, MAX_CHAIN,
};
pub use audit::{AuditBatch, AuditFailureRow, AuditSpan};
pub use baselines::{BaselineRow, BaselineSelector, ExceptionRow, NewException, StoredPattern};
pub use inputs::{DriftVisitor, ScopeInputs, StateHashes};
pub use remediations::RemediationRow;
pub use run_retention::{Checkpoint, CheckpointRecord};
pub use runs::{RunRecord, RunRow};
use snapshot_write::insert_snapshot_tx;
pub use snapshot_write::insert_snapshots;
pub use watch::DeliveryRow;

/// Embedded, append-only, numbered migrations.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../migrations/0001_initial.sql"),
    ),
    ("0002_audit", include_str!("../migrations/0002_audit.sql")),
    (
        "0003_audit_failures",
        include_str!("../migrations/0003_audit_failures.sql"),
    ),
    (
        "0004_remediations",
        include_str!("../migrations/0004_remediations.sql"),
    ),
    ("0005_watch", include_str!("../migrations/0005_watch.sql")),
    (
        "0006_webhook_routes",
        include_str!("../migrations/0006_webhook_routes.sql"),
    ),
    (
        "0007_exception_removal",
        include_str!("../migrations/0007_exception_removal.sql"),
    ),
    (
        "0008_exception_patterns",
        include_str!("../migrations/0008_exception_patterns.sql"),
    ),
    (
        "0009_lean_audit_events",
        include_str!("../migrations/0009_lean_audit_events.sql"),
    ),
    (
        "0010_audit_objects",
        include_str!("../migrations/0010_audit_objects.sql"),
    ),
    (
        "0011_run_parts",
        include_str!("../migrations/0011_run_parts.sql"),
    ),
    (
        "0012_run_checkpoints",
        include_str!("../migrations/0012_run_checkpoints.sql"),
    ),
    (
        "0013_audit_event_links",
        include_str!("../migrations/0013_audit_event_links.sql"),
    ),
    (
        "0014_account_indexes",
        include_str!("../migrations/0014_account_indexes.sql"),
    ),
    (
        "0015_audit_actors",
        include_str!("../migrations/0015_audit_actors.sql"),
    ),
    (
        "0016_compact_audit_events",
        include_str!("../migrations/0016_compact_audit_events.sql"),
    ),
];

/// The columns `snapshot_row` reads, in its order.
macro_rules! snapshot_cols {
    () => {
        "id, scope_key, source, taken_at, status, problems, uncollected, resource_count, rule_count, \
         manifest_hash, coalesce(seen_at, taken_at)"
    };
}

/// A stored time, whole seconds (`netdrift_snapshots::time::secs`); audit event times are
/// stored to the millisecond.
pub fn ts(t: DateTime<Utc>) -> String {
    netdrift_snapshots::time::secs(t)
}

/// A stored time column, checked: unreadable text is a conversion error naming the column.
pub(crate) fn time_col(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = r.get(i)?;
    netdrift_snapshots::time::parse("time", &s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("bad timestamp {s:?} in database"))?
        .with_timezone(&Utc))
}

pub struct SqliteStore {
    conn: Connection,
    path: Option<PathBuf>,
    /// Opened read-only (a file or mount it cannot write): every write is refused, naming it.
    read_only: bool,
}

/// One stored snapshot (without its resources).
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRow {
    pub id: i64,
    pub scope: ScopeKey,
    pub source: String,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub taken_at: DateTime<Utc>,
    /// The last collection that found exactly this snapshot again (its `taken_at` when none
    /// did): the snapshot stands for the scope from `taken_at` to `seen_at`.
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub seen_at: DateTime<Utc>,
    pub status: SnapshotStatus,
    pub problems: Vec<Problem>,
    pub uncollected: Vec<ResourceKind>,
    pub resource_count: i64,
    pub rule_count: i64,
    #[serde(skip)]
    pub manifest_hash: Option<String>,
}

impl SqliteStore {
    /// Open (creating with mode 0600 if needed) and migrate.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
        if !path.exists() {
            create_private(path)?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open database {}", path.display()))?;
        let mut store = SqliteStore {
            conn,
            path: Some(path.to_path_buf()),
            read_only: false,
        };
        store
            .init()
            .with_context(|| format!("database {}", path.display()))?;
        Ok(store)
    }

    pub fn open_in_memory() -> Result<SqliteStore> {
        let mut store = SqliteStore {
            conn: Connection::open_in_memory()?,
            path: None,
            read_only: false,
        };
        store.init()?;
        Ok(store)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn init(&mut self) -> Result<()> {
        self.conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // Every statement a pass repeats stays prepared (rusqlite keeps 16 by default).
        self.conn.set_prepared_statement_cache_capacity(128);
        // A prepared statement keeps its plan whatever its bound values: the bundled SQLite
        // (built with STAT4) would otherwise prepare a statement again at each new bound range,
        // as the attribution pass binds each item's window.
        self.conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        // A 64 MiB page cache and memory-mapped reads: audit tables grow to millions of rows.
        self.conn.pragma_update(None, "cache_size", -65536)?;
        self.conn.pragma_update(None, "mmap_size", 268_435_456i64)?;
        // Temporary tables and sorts in files while migrating (a migration rewrites whole
        // tables: migration 15's update of 1,000,000 events held 500 MB of them in memory),
        // in memory afterwards.
        self.conn.pragma_update(None, "temp_store", "FILE")?;
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version as usize > MIGRATIONS.len() {
            bail!(
                "database schema version {version} is newer than this netdrift knows ({}); upgrade netdrift",
                MIGRATIONS.len()
            );
        }
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)
                .with_context(|| format!("migration {name} failed"))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        Ok(())
    }

    /// Refuse a write to a database opened read-only, naming the file.
    fn writable(&self) -> Result<()> {
        if self.read_only {
            bail!(
                "database {} is read-only (the file or its mount cannot be written): this command needs to write to it",
                self.path.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn tx(&mut self) -> Result<Transaction<'_>> {
        self.writable()?;
        Ok(self.conn.transaction()?)
    }

    /// Store one collection as a snapshot, in one transaction.
    pub fn insert_snapshot(
        &mut self,
        collected: &Collected,
        source: &str,
        taken_at: DateTime<Utc>,
    ) -> Result<i64> {
        let tx = self.tx()?;
        let id = insert_snapshot_tx(&tx, collected, source, taken_at)?;
        tx.commit()?;
        Ok(id)
    }

    pub fn scopes(&self) -> Result<Vec<Scope>> {
        let mut stmt = self.conn.prepare("SELECT key FROM scopes ORDER BY key")?;
        let keys = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        keys.iter()
            .map(|k| Scope::parse_key(k).map_err(Into::into))
            .collect()
    }

    pub fn snapshots(&self, scope: Option<&str>) -> Result<Vec<SnapshotRow>> {
        let sql = concat!(
            "SELECT ",
            snapshot_cols!(),
            " FROM snapshots WHERE (?1 IS NULL OR scope_key = ?1) ORDER BY taken_at, id"
        );
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt
            .query_map(params![scope], snapshot_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().collect()
    }

    /// The newest snapshot of a scope taken at or before `at` (any status).
    pub fn latest_snapshot(
        &self,
        scope: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<SnapshotRow>> {
        let at = at.map(ts).unwrap_or_else(|| "9999".into());
        let sql = concat!("SELECT ", snapshot_cols!(), " FROM snapshots WHERE scope_key = ?1 AND taken_at <= ?2 ORDER BY taken_at DESC, id DESC LIMIT 1");
        self.conn
            .query_row(sql, params![scope, at], snapshot_row)
            .optional()?
            .transpose()
    }

    /// When each scope's newest snapshot was last seen: one statement, each scope's newest
    /// snapshot found through its index (the one `latest_snapshot` returns).
    pub fn newest_sightings(&self) -> Result<std::collections::HashMap<ScopeKey, DateTime<Utc>>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.key, (SELECT coalesce(seen_at, taken_at) FROM snapshots \
             WHERE scope_key = s.key ORDER BY taken_at DESC, id DESC LIMIT 1) FROM scopes s",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = std::collections::HashMap::new();
        while let Some(r) = rows.next()? {
            if let Some(seen) = r.get::<_, Option<String>>(1)? {
                let key: String = r.get(0)?;
                let seen = netdrift_snapshots::time::parse("seen_at", &seen)
                    .with_context(|| format!("snapshot of {key}"))?;
                out.insert(Scope::parse_key(&key)?.key(), seen);
            }
        }
        Ok(out)
    }

    /// The newest snapshot of a scope that read `kind`, at or before `at`.
    pub fn latest_covering(
        &self,
        scope: &str,
        kind: ResourceKind,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<SnapshotRow>> {
        let at = at.map(ts).unwrap_or_else(|| "9999".into());
        let sql = concat!(
            "SELECT ",
            snapshot_cols!(),
            " FROM snapshots WHERE scope_key = ?1 AND taken_at <= ?2 AND status != 'failed' \
                   ORDER BY taken_at DESC, id DESC"
        );
        let mut stmt = self.conn.prepare(sql)?;
        for row in stmt.query_map(params![scope, at], snapshot_row)? {
            let row = row??;
            if !row.uncollected.contains(&kind) {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    pub fn snapshot(&self, id: i64) -> Result<Option<SnapshotRow>> {
        let sql = concat!("SELECT ", snapshot_cols!(), " FROM snapshots WHERE id = ?1");
        self.conn
            .query_row(sql, params![id], snapshot_row)
            .optional()?
            .transpose()
    }

    /// The scopes in which a resource id was ever seen.
    pub fn scopes_of(&self, resource_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT scope_key FROM resource_index WHERE resource_id = ?1 ORDER BY scope_key",
        )?;
        let v = stmt
            .query_map([resource_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(v)
    }

    /// The stored resource ids a person's words may mean: the id itself, an id it starts (`sg-0a1b`),
    /// an id it ends after a `/` (`app-nsg`, `firewalls/allow-ssh`), or a resource's name
    /// (`web-prod`). Ids compare without letter case for the suffix (Azure ids are stored lower
    /// case). Sorted, distinct.
    pub fn resolve_resource(&self, words: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT resource_id FROM resource_states WHERE resource_id = ?1 \
             OR (instr(?1, '/') = 0 AND substr(resource_id, 1, length(?1)) = ?1) \
             OR lower(substr(resource_id, -length(?1) - 1)) = '/' || lower(?1) \
             OR json_extract(body, '$.name') = ?1 ORDER BY resource_id",
        )?;
        let v = stmt
            .query_map([words], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(v)
    }

    /// The state of a resource at a time: per scope where it was ever seen, the snapshot that
    /// answers and the state (None: the resource did not exist then).
    pub fn resource_at(
        &self,
        resource_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<(SnapshotRow, Option<Resource>)>> {
        let mut out = Vec::new();
        for scope in self.scopes_of(resource_id)? {
            let kind: Option<String> = self
                .conn
                .query_row(
                    "SELECT kind FROM resource_states WHERE resource_id = ?1 LIMIT 1",
                    [resource_id],
                    |r| r.get(0),
                )
                .optional()?;
            let kind: ResourceKind = match kind {
                Some(k) => k.parse()?,
                None => continue,
            };
            let Some(snap) = self.latest_covering(&scope, kind, at)? else {
                continue;
            };
            let state = self
                .manifest(&snap)?
                .into_iter()
                .find(|(id, _)| id == resource_id);
            let resource = state.map(|(_, h)| self.state(&h)).transpose()?;
            out.push((snap, resource));
        }
        Ok(out)
    }

    /// Database file size in bytes (pages in use), for growth measurements.
    pub fn size_bytes(&self) -> Result<i64> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = self
            .conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((pages - free) * size)
    }
}

fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create database {}", path.display())),
    }
}

/// A stored scope key, checked: a malformed one is a conversion error naming the column.
pub(crate) fn scope_key_col(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<ScopeKey> {
    let s: String = r.get(i)?;
    ScopeKey::parse(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn snapshot_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SnapshotRow>> {
    let problems: String = r.get(5)?;
    let uncollected: String = r.get(6)?;
    let row = (|| -> Result<SnapshotRow> {
        Ok(SnapshotRow {
            id: r.get(0)?,
            scope: scope_key_col(r, 1)?,
            source: r.get(2)?,
            taken_at: time_col(r, 3)?,
            status: {
                let s: String = r.get(4)?;
                SnapshotStatus::parse(&s)
                    .ok_or_else(|| anyhow::anyhow!("snapshot with unknown status {s:?}"))?
            },
            problems: serde_json::from_str(&problems)?,
            uncollected: serde_json::from_str(&uncollected)?,
            resource_count: r.get(7)?,
            rule_count: r.get(8)?,
            manifest_hash: r.get(9)?,
            seen_at: time_col(r, 10)?,
        })
    })();
    Ok(row)
}

pub(crate) fn ensure_scope(tx: &Transaction<'_>, scope: &Scope) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO scopes (key, provider, account, region) VALUES (?1, ?2, ?3, ?4)",
        params![
            scope.key().as_str(),
            scope.provider().as_str(),
            scope.account(),
            scope.region()
        ],
    )?;
    Ok(())
}

/// Store the states of `resources` that are new; return each one's hash, in order. Bodies,
/// hashes and (for the new states) access hashes are computed on every core, a bounded batch
/// of resources at a time: serializing them is most of a first import's store time.
pub(crate) fn put_states(tx: &Transaction<'_>, resources: &[Resource]) -> Result<Vec<String>> {
    let mut known = tx.prepare_cached("SELECT 1 FROM resource_states WHERE hash = ?1")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO resource_states (hash, resource_id, kind, access_hash, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut hashes = Vec::with_capacity(resources.len());
    // A scope of a few resources goes one at a time, each body dropped before the next is made
    // (holding a batch made the capacity bench's nights slower and its first one 30 % larger).
    let size = if resources.len() < PARALLEL_FROM {
        1
    } else {
        STATE_BATCH
    };
    // A state twice in one call is written once.
    let mut written = std::collections::HashSet::new();
    for batch in resources.chunks(size) {
        // Each body is serialized once: the state hash is the hash of exactly these bytes.
        let bodies = par_map(batch, |r| {
            let body = canonical_json(r);
            (netdrift_snapshots::canonical::hash_of_body(&body), body)
        });
        let mut new = Vec::new();
        for (i, (hash, _)) in bodies.iter().enumerate() {
            if !written.contains(hash) && !known.exists([hash])? {
                written.insert(hash.clone());
                new.push(i);
            }
        }
        let access = par_map(&new, |&i| access_hash(&batch[i]));
        for (&i, access) in new.iter().zip(access) {
            let (r, (hash, body)) = (&batch[i], &bodies[i]);
            insert.execute(params![hash, r.id.as_str(), r.kind.as_str(), access, body])?;
        }
        hashes.extend(bodies.into_iter().map(|(hash, _)| hash));
    }
    Ok(hashes)
}

/// How many resources' bodies are held at once while their states are stored.
const STATE_BATCH: usize = 512;

/// The fewest items `par_map` spreads over threads.
const PARALLEL_FROM: usize = 256;

/// `f` over `items` on up to one thread per core, results in order; on the calling thread
/// alone below `PARALLEL_FROM` items.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < PARALLEL_FROM {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_migrating_temporary_data_is_kept_in_memory() {
        // `temp_store`: 1 is FILE, 2 is MEMORY. A fresh database runs every migration, then the
        // store keeps its temporary data in memory.
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let temp: i64 = store
            .conn()
            .pragma_query_value(None, "temp_store", |r| r.get(0))
            .unwrap();
        assert_eq!(temp, 2);
    }
}
