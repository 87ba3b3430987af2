//! Reading stored snapshots' contents: manifests (`[resource_id, state_hash]` pairs) and the
//! resource states they name, in one statement per manifest.

use anyhow::{bail, Context, Result};
use rusqlite::OptionalExtension;

use netdrift_snapshots::Resource;

use super::{SnapshotRow, SqliteStore};

impl SqliteStore {
    /// `[resource_id, state_hash]` pairs of a snapshot.
    pub fn manifest(&self, snap: &SnapshotRow) -> Result<Vec<(String, String)>> {
        let Some(h) = &snap.manifest_hash else {
            return Ok(Vec::new());
        };
        let body: String =
            self.conn
                .query_row("SELECT body FROM manifests WHERE hash = ?1", [h], |r| {
                    r.get(0)
                })?;
        serde_json::from_str(&body).context("corrupt manifest")
    }

    /// The manifest entries of a snapshot for the resources in `wanted` (the others are
    /// skipped without being copied: a snapshot may hold thousands of workloads).
    pub fn manifest_entries(
        &self,
        snap: &SnapshotRow,
        wanted: &std::collections::HashSet<String>,
    ) -> Result<std::collections::HashMap<String, String>> {
        let Some(h) = &snap.manifest_hash else {
            return Ok(Default::default());
        };
        let body: String = self
            .conn
            .prepare_cached("SELECT body FROM manifests WHERE hash = ?1")?
            .query_row([h], |r| r.get(0))?;
        // Borrowed where the text needs no unescaping, owned otherwise; only what is wanted
        // is copied out.
        #[derive(serde::Deserialize)]
        struct Entry<'a>(
            #[serde(borrow)] std::borrow::Cow<'a, str>,
            #[serde(borrow)] std::borrow::Cow<'a, str>,
        );
        let entries: Vec<Entry<'_>> = serde_json::from_str(&body).context("corrupt manifest")?;
        Ok(entries
            .into_iter()
            .filter(|Entry(id, _)| wanted.contains(id.as_ref()))
            .map(|Entry(id, hash)| (id.into_owned(), hash.into_owned()))
            .collect())
    }

    /// The resources of a snapshot.
    pub fn snapshot_resources(&self, snap: &SnapshotRow) -> Result<Vec<Resource>> {
        self.snapshot_resources_of(snap, &|_| true)
    }

    /// The resources of a snapshot whose kind `wanted` accepts; the others are not parsed. One
    /// statement reads the whole manifest (one read lock, not one per state).
    pub fn snapshot_resources_of(
        &self,
        snap: &SnapshotRow,
        wanted: &dyn Fn(netdrift_snapshots::ResourceKind) -> bool,
    ) -> Result<Vec<Resource>> {
        Ok(self
            .states_of(snap, wanted)?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// A snapshot's resources with the hash of each one's state, in manifest order.
    pub(crate) fn snapshot_states(&self, snap: &SnapshotRow) -> Result<Vec<(String, Resource)>> {
        self.states_of(snap, &|_| true)
    }

    fn states_of(
        &self,
        snap: &SnapshotRow,
        wanted: &dyn Fn(netdrift_snapshots::ResourceKind) -> bool,
    ) -> Result<Vec<(String, Resource)>> {
        let Some(manifest) = &snap.manifest_hash else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT json_extract(j.value, '$[1]'), s.kind, s.body \
             FROM manifests m, json_each(m.body) j \
             LEFT JOIN resource_states s ON s.hash = json_extract(j.value, '$[1]') \
             WHERE m.hash = ?1 ORDER BY j.key",
        )?;
        let mut rows = stmt.query([manifest])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let hash: String = row.get(0)?;
            let (Some(kind), Some(body)) = (
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
            ) else {
                bail!("resource state {hash} missing");
            };
            // A kind this build does not know is parsed (and reported) like any other state.
            if let Ok(k) = kind.parse::<netdrift_snapshots::ResourceKind>() {
                if !wanted(k) {
                    continue;
                }
            }
            out.push((
                hash,
                serde_json::from_str(&body).context("corrupt resource state")?,
            ));
        }
        Ok(out)
    }

    /// The canonical JSON of one resource state, exactly as stored (and hashed).
    pub fn state_body(&self, hash: &str) -> Result<String> {
        self.conn
            .query_row(
                "SELECT body FROM resource_states WHERE hash = ?1",
                [hash],
                |r| r.get(0),
            )
            .with_context(|| format!("resource state {hash} missing"))
    }

    /// One resource state by hash, `None` when no state has that hash.
    pub fn state_if_stored(&self, hash: &str) -> Result<Option<Resource>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM resource_states WHERE hash = ?1",
                [hash],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| serde_json::from_str(&b).context("corrupt resource state"))
            .transpose()
    }

    /// One resource state by hash.
    pub fn state(&self, hash: &str) -> Result<Resource> {
        let body: String = self
            .conn
            .prepare_cached("SELECT body FROM resource_states WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .with_context(|| format!("resource state {hash} missing"))?;
        serde_json::from_str(&body).context("corrupt resource state")
    }
}
