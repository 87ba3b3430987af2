//! Writing snapshots: each collection's states content-addressed, its manifest, and its row;
//! a collection identical to its scope's newest snapshot is that snapshot seen again.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use netdrift_snapshots::{Collected, SnapshotStatus};

use super::{ensure_scope, put_states, ts, SqliteStore};

pub(super) fn insert_snapshot_tx(
    tx: &Transaction<'_>,
    c: &Collected,
    source: &str,
    taken_at: DateTime<Utc>,
) -> Result<i64> {
    ensure_scope(tx, &c.scope)?;
    let scope_key = c.scope.key();
    let mut manifest: BTreeMap<String, String> = BTreeMap::new();
    let mut rules = 0i64;
    if let Some(r) = c
        .resources
        .iter()
        .find(|r| r.kind.provider() != c.scope.provider())
    {
        bail!(
            "resource {} of kind {} does not belong to a {} scope",
            r.id,
            r.kind,
            c.scope.provider()
        );
    }
    let hashes = put_states(tx, &c.resources)?;
    for (r, hash) in c.resources.iter().zip(hashes) {
        if manifest.insert(r.id.as_str().to_string(), hash).is_some() {
            bail!(
                "resource {} appears twice in one snapshot of {scope_key}",
                r.id
            );
        }
        rules += r.rules.len() as i64;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO resource_index (resource_id, scope_key) VALUES (?1, ?2)",
        )?
        .execute(params![r.id.as_str(), scope_key.as_str()])?;
    }
    let manifest_hash = if c.status == SnapshotStatus::Failed {
        None
    } else {
        let pairs: Vec<(&String, &String)> = manifest.iter().collect();
        let body = serde_json::to_string(&pairs)?;
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
        tx.execute(
            "INSERT OR IGNORE INTO manifests (hash, body) VALUES (?1, ?2)",
            params![hash, body],
        )?;
        Some(hash)
    };
    let (problems, uncollected) = (
        serde_json::to_string(&c.problems)?,
        serde_json::to_string(&c.uncollected)?,
    );
    // The same collection as the scope's newest snapshot, at or after its last sighting: that
    // snapshot is seen again (migration 11), not stored twice.
    let at = ts(taken_at);
    let newest: Option<(i64, bool, String)> = tx
        .prepare_cached(
            "SELECT id, source = ?2 AND status = ?3 AND problems = ?4 AND uncollected = ?5 \
             AND manifest_hash IS ?6 AND resource_count = ?7 AND rule_count = ?8, \
             coalesce(seen_at, taken_at) FROM snapshots WHERE scope_key = ?1 \
             ORDER BY taken_at DESC, id DESC LIMIT 1",
        )?
        .query_row(
            params![
                scope_key.as_str(),
                source,
                c.status.as_str(),
                problems,
                uncollected,
                manifest_hash,
                c.resources.len() as i64,
                rules
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((id, true, seen)) = newest {
        if at >= seen {
            if at > seen {
                tx.prepare_cached("UPDATE snapshots SET seen_at = ?2 WHERE id = ?1")?
                    .execute(params![id, at])?;
            }
            return Ok(id);
        }
    }
    tx.execute(
        "INSERT INTO snapshots (scope_key, source, taken_at, status, problems, uncollected, manifest_hash, \
         resource_count, rule_count, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            scope_key.as_str(),
            source,
            at,
            c.status.as_str(),
            problems,
            uncollected,
            manifest_hash,
            c.resources.len() as i64,
            rules,
            ts(crate::clock::now()),
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Store several collections in one transaction (one run's snapshots).
pub fn insert_snapshots(
    store: &mut SqliteStore,
    items: &[(Collected, String)],
    taken_at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let tx = store.tx()?;
    let mut ids = Vec::new();
    for (c, source) in items {
        ids.push(insert_snapshot_tx(&tx, c, source, taken_at)?);
    }
    tx.commit()?;
    Ok(ids)
}
