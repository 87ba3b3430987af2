//! Opening a database that must already exist (read-only when its file or mount cannot be
//! written), a second read-only connection for another thread, and the mark that tells the
//! demo's own database from any other.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OptionalExtension};

use super::{SqliteStore, MIGRATIONS};

impl SqliteStore {
    /// Open a database that must already exist, for commands that never create one. A file or
    /// mount the process cannot write is opened read-only (immutable when its directory cannot
    /// take SQLite's `-shm` file either); a write then fails naming the file.
    pub fn open_existing(path: &Path, origin: &str) -> Result<SqliteStore> {
        if !path.is_file() {
            bail!(
                "no database at {} ({origin}): nothing has been imported or collected there yet. \
                 Check the path, or create it with `netdrift import` or `netdrift run`",
                path.display()
            );
        }
        let writable = |p: &Path| {
            std::fs::OpenOptions::new().append(true).open(p).is_ok()
                && p.parent()
                    .map(|d| {
                        if d.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            d
                        }
                    })
                    .is_some_and(dir_writable)
        };
        if writable(path) {
            return SqliteStore::open(path);
        }
        let uri = format!("file:{}?immutable=1", uri_path(path));
        let conn = Connection::open_with_flags(
            &uri,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )
        .with_context(|| format!("cannot open database {} read-only", path.display()))?;
        let store = SqliteStore {
            conn,
            path: Some(path.to_path_buf()),
            read_only: true,
        };
        let version = store.schema_version()?;
        if version as usize != MIGRATIONS.len() {
            bail!(
                "database {} is read-only and has schema version {version}; this netdrift needs {}: \
                 open it once with write access so it can migrate",
                path.display(),
                MIGRATIONS.len()
            );
        }
        Ok(store)
    }

    /// A second, read-only connection to this database for another thread (a large
    /// attribution pass), when it is a file that can be opened again; `None` for a database in
    /// memory or opened immutable.
    pub(crate) fn reader(&self) -> Result<Option<SqliteStore>> {
        let Some(path) = self.path.as_ref().filter(|_| !self.read_only) else {
            return Ok(None);
        };
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open database {} to read", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.set_prepared_statement_cache_capacity(128);
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.pragma_update(None, "cache_size", -65536)?;
        // Mapped like the main connection: an attribution pass seeks each of its events by
        // id, and reading the pages through the map rather than `pread` into the cache took
        // 8,753 items x 1,000,000 events from 2.21-2.24 s to 1.73-2.09 s (the mapped pages
        // count in the process's RSS: 901 -> 1,089 MiB at the pass's peak).
        conn.pragma_update(None, "mmap_size", 268_435_456i64)?;
        Ok(Some(SqliteStore {
            conn,
            path: Some(path.clone()),
            read_only: true,
        }))
    }

    /// Mark this database as the demo's own (the demo recreates only such a database).
    pub fn mark_demo(&self) -> Result<()> {
        self.writable()?;
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', '1')",
            [],
        )?;
        Ok(())
    }

    /// Whether the database file at `path` is one the demo made, read without changing it: the
    /// `demo` mark, or (databases from before the mark) nothing but the demo's own approval.
    pub fn is_demo_database(path: &Path) -> Result<bool> {
        // Immutable: no -wal or -shm file is created beside a database that is not ours.
        let conn = Connection::open_with_flags(
            format!("file:{}?immutable=1", uri_path(path)),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )
        .with_context(|| format!("cannot open {}", path.display()))?;
        let has = |table: &str| -> Result<bool> {
            Ok(conn
                .query_row(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |_| Ok(()),
                )
                .optional()
                .with_context(|| format!("{} is not a netdrift database", path.display()))?
                .is_some())
        };
        if has("meta")? {
            let v: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = 'demo'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            if v.as_deref() == Some("1") {
                return Ok(true);
            }
        }
        if !has("baselines")? {
            return Ok(false);
        }
        let (all, demo): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE approved_by = 'demo' AND ticket = 'DEMO-1') FROM baselines",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(all > 0 && all == demo && !has("meta")?)
    }
}

/// Whether a directory takes new files (SQLite's `-wal` and `-shm`): probed with an
/// exclusively created, unpredictably named file, removed at once.
fn dir_writable(dir: &Path) -> bool {
    tempfile::Builder::new()
        .prefix(".netdrift-probe")
        .tempfile_in(dir)
        .is_ok()
}

/// A path for an SQLite `file:` URI (`?`, `#` and `%` escaped).
fn uri_path(p: &Path) -> String {
    let mut out = String::new();
    for c in p.display().to_string().chars() {
        match c {
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}
