//! Stored audit events, deduplicated by event id.

use anyhow::{Context, Result};
use rusqlite::{params, Transaction};

use netdrift_snapshots::{AuditEvent, Provider};

use chrono::{DateTime, Utc};

use super::audit_records::BlockWriter;
use super::audit_rows::{
    actor_json, payload_json, EventReader, Records, ACTORS_KEPT, EVENT_COLUMNS,
};
use super::{time_col, ts, SqliteStore};

/// Insert one event, its record into `records`; true when it was new. A second copy of a GCP
/// operation fills in the request payload if the first lacked it.
fn insert_event(
    tx: &Transaction<'_>,
    records: &mut BlockWriter,
    actors: &mut ActorIds,
    ev: &AuditEvent,
    import: i64,
) -> Result<bool> {
    let payload = if ev.payload.is_empty() {
        None
    } else {
        Some(payload_json(&ev.payload)?)
    };
    let place = ev.raw.as_ref().map(|_| records.next_place());
    let actor = actors.id(tx, &ev.actor)?;
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO audit_events (event_id, provider, event_time, account, region, event_name, succeeded, \
             error, actor, payload, issued_key, resources, payload_removes, catalogued, record_block, record_at, import) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?
        .execute(params![
            ev.event_id,
            ev.provider.as_str(),
            ev.event_time.timestamp_millis(),
            ev.account,
            ev.region,
            ev.event_name,
            ev.succeeded,
            ev.error,
            actor,
            payload,
            ev.issued_key,
            serde_json::to_string(&ev.resources)?,
            ev.payload_removes,
            ev.catalogued,
            place.map(|p| p.0),
            place.map(|p| p.1),
            import
        ])?;
    if n == 0 {
        actors.unstore(tx)?;
    }
    if let (1, Some(raw)) = (n, &ev.raw) {
        records.push(tx, raw)?;
    }
    // The stored event's id and time: this one's when it is new, else the first copy's.
    let (id, time): (i64, i64) = if n == 1 {
        (tx.last_insert_rowid(), ev.event_time.timestamp_millis())
    } else {
        if let Some(p) = payload {
            tx.execute(
                "UPDATE audit_events SET payload = ?2 WHERE event_id = ?1 AND payload IS NULL",
                params![ev.event_id, p],
            )?;
        }
        tx.prepare_cached("SELECT id, event_time FROM audit_events WHERE event_id = ?1")?
            .query_row([&ev.event_id], |r| Ok((r.get(0)?, r.get(1)?)))?
    };
    let mut link = tx.prepare_cached(
        "INSERT OR IGNORE INTO audit_event_links (resource_id, event_time, event) VALUES (?1, ?2, ?3)",
    )?;
    for r in &ev.resources {
        link.execute(params![r.to_ascii_lowercase(), time, id])?;
    }
    Ok(n == 1)
}

/// The id of each actor a transaction stores (migration 15): each distinct actor of its new
/// events is stored once, with no lookup of what earlier transactions stored.
#[derive(Default)]
struct ActorIds {
    ids: std::collections::HashMap<String, i64>,
    /// The actor the last call stored, which `unstore` takes back.
    last: Option<(String, i64)>,
}

impl ActorIds {
    fn id(&mut self, tx: &Transaction<'_>, actor: &netdrift_snapshots::Actor) -> Result<i64> {
        self.last = None;
        let text = actor_json(actor)?;
        if let Some(id) = self.ids.get(&text) {
            return Ok(*id);
        }
        tx.prepare_cached("INSERT INTO audit_actors (actor) VALUES (?1)")?
            .execute([&text])?;
        let id = tx.last_insert_rowid();
        // An import of actors that never repeat (a session key an event) keeps a bounded map.
        if self.ids.len() >= ACTORS_KEPT {
            self.ids.clear();
        }
        self.ids.insert(text.clone(), id);
        self.last = Some((text, id));
        Ok(id)
    }

    /// Take back the actor the last call stored, if it did (its event was already stored): an
    /// import of what is stored already changes nothing.
    fn unstore(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if let Some((text, id)) = self.last.take() {
            tx.prepare_cached("DELETE FROM audit_actors WHERE id = ?1")?
                .execute([id])?;
            self.ids.remove(&text);
        }
        Ok(())
    }
}

fn insert_coverage(
    tx: &Transaction<'_>,
    provider: Provider,
    account: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    source: &str,
    now: &str,
) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO audit_coverage (provider, account, window_start, window_end, source, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![provider.as_str(), account, ts(start), ts(end), source, now],
    )?;
    Ok(())
}

/// One stored audit-log read that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFailureRow {
    pub provider: Provider,
    pub account: String,
    pub region: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub code: String,
    pub operation: Option<String>,
    pub message: String,
    pub source: String,
}

/// Record an audit-log read that failed. Window bounds are stored in the store's time format so
/// they compare with every other stored time.
fn insert_failure(
    tx: &Transaction<'_>,
    provider: Provider,
    f: &netdrift_snapshots::AuditFailure,
    source: &str,
    now: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO audit_failures (provider, account, region, window_start, window_end, code, operation, message, source, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            provider.as_str(),
            f.account,
            f.region,
            ts(f.start),
            ts(f.end),
            f.problem.code.as_str(),
            f.problem.operation,
            f.problem.message,
            source,
            now
        ],
    )?;
    Ok(())
}

/// An account's audit logs read from `start` to `end`.
pub type AuditSpan = (String, DateTime<Utc>, DateTime<Utc>);

/// One audit write: events (deduplicated by id), the (account, start, end) windows the logs
/// were read for (recorded even when they held no event, so silence can be told from missing
/// logs), and the reads that failed. Stored in one transaction, or not at all.
#[derive(Debug, Clone, Copy)]
pub struct AuditBatch<'a> {
    pub provider: Provider,
    /// The source label or file the batch came from.
    pub source: &'a str,
    pub events: &'a [AuditEvent],
    pub windows: &'a [AuditSpan],
    pub failures: &'a [netdrift_snapshots::AuditFailure],
    /// The log objects the events came from, recorded as read.
    pub objects: &'a [netdrift_provider_api::AuditObject],
}

// The per-account questions. Accounts compare case-blind; each statement is a seek of the
// index on `lower(account)` its table has (migration 14; `plans` checks it).
const COVERS: &str = "SELECT COUNT(*) FROM audit_coverage WHERE provider = ?1 \
     AND lower(account) = lower(?2) AND window_start <= ?4 AND window_end >= ?3";
const LAST_EVENT: &str = "SELECT max(event_time) FROM audit_events WHERE provider = ?1 \
     AND lower(account) = lower(?2) AND (?3 IS NULL OR region IS NULL OR region = ?3) \
     AND issued_key IS NULL";
const FAILURES: &str = "SELECT account, region, window_start, window_end, code, operation, \
     message, source FROM audit_failures WHERE provider = ?1 AND lower(account) IN (lower(?2), '*') \
     AND (?4 IS NULL OR window_start <= ?4) AND (?3 IS NULL OR window_end >= ?3) \
     ORDER BY window_start, id";

impl SqliteStore {
    /// Store batches in one transaction (all or nothing); returns how many events of each
    /// were new.
    pub fn record_audit(&mut self, batches: &[AuditBatch<'_>]) -> Result<Vec<usize>> {
        let now = super::ts(crate::clock::now());
        let tx = self.tx()?;
        let mut records = BlockWriter::new(&tx)?;
        let mut actors = ActorIds::default();
        let mut out = Vec::with_capacity(batches.len());
        // Each batch's events name the import row written after them, when one of them is new
        // (the key is checked at commit: migration 16).
        let mut import: i64 = tx.query_row(
            "SELECT coalesce(max(id), 0) + 1 FROM audit_imports",
            [],
            |r| r.get(0),
        )?;
        for batch in batches {
            let mut new = 0;
            for ev in batch.events {
                if insert_event(&tx, &mut records, &mut actors, ev, import)? {
                    new += 1;
                }
            }
            if new > 0 {
                tx.prepare_cached(
                    "INSERT INTO audit_imports (id, source, imported_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![import, batch.source, now])?;
                import += 1;
            }
            for (account, start, end) in batch.windows {
                insert_coverage(
                    &tx,
                    batch.provider,
                    account,
                    *start,
                    *end,
                    batch.source,
                    &now,
                )?;
            }
            for f in batch.failures {
                insert_failure(&tx, batch.provider, f, batch.source, &now)?;
            }
            for o in batch.objects {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO audit_objects (object, source, events, error, read_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![o.object, batch.source, o.events as i64, o.error, now])?;
            }
            out.push(new);
        }
        records.flush(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

impl SqliteStore {
    /// Events touching any of the resource ids (compared lower-cased) between two times.
    pub fn events_for(
        &self,
        provider: Provider,
        resource_ids: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AuditEvent>> {
        self.events_for_with(
            &mut EventReader::default(),
            provider,
            resource_ids,
            from,
            to,
        )
    }

    /// [`SqliteStore::events_for`], the actors parsed by `reader` (kept across calls).
    pub(super) fn events_for_with(
        &self,
        reader: &mut EventReader,
        provider: Provider,
        resource_ids: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AuditEvent>> {
        // Event times are stored as Unix milliseconds (migration 16): the bounds too.
        let (from, to) = (from.timestamp_millis(), to.timestamp_millis());
        let mut out: Vec<AuditEvent> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // One range of the link index per id, each event joined by its integer key.
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT e.id, {EVENT_COLUMNS} FROM audit_event_links l CROSS JOIN audit_events e ON e.id = l.event \
             WHERE l.resource_id = ?1 AND l.event_time >= ?3 AND l.event_time <= ?4 AND +e.provider = ?2"
        ))?;
        for id in resource_ids {
            let mut rows = stmt.query(params![
                id.to_ascii_lowercase(),
                provider.as_str(),
                from,
                to
            ])?;
            while let Some(row) = rows.next()? {
                if seen.insert(row.get::<_, i64>(0)?) {
                    out.push(reader.event(self.conn(), row, 1, Records::Needed)?);
                }
            }
        }
        out.sort_by(|a, b| {
            a.event_time
                .cmp(&b.event_time)
                .then(a.event_id.cmp(&b.event_id))
        });
        Ok(out)
    }

    /// Every stored event between two times (both included), oldest first: one indexed range
    /// per provider.
    pub fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AuditEvent>> {
        let (from, to) = (from.timestamp_millis(), to.timestamp_millis());
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events e WHERE provider = ?1 AND event_time >= ?2 AND event_time <= ?3"
        ))?;
        let mut out = Vec::new();
        let mut reader = EventReader::default();
        for p in [Provider::Aws, Provider::Gcp, Provider::Azure] {
            let mut rows = stmt.query(params![p.as_str(), from, to])?;
            while let Some(row) = rows.next()? {
                out.push(reader.event(self.conn(), row, 0, Records::Needed)?);
            }
        }
        out.sort_by(|a, b| {
            a.event_time
                .cmp(&b.event_time)
                .then(a.event_id.cmp(&b.event_id))
        });
        Ok(out)
    }

    /// The `AssumeRole*` event that issued an access key, if imported.
    pub fn event_issuing(&self, key: &str) -> Result<Option<AuditEvent>> {
        self.one_event(
            "issued_key = ?1 ORDER BY event_time LIMIT 1",
            key,
            Records::Needed,
        )
    }

    /// The first event a condition on `e` (with `?1` = `arg`) selects.
    fn one_event(
        &self,
        condition: &str,
        arg: &str,
        records: Records,
    ) -> Result<Option<AuditEvent>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events e WHERE {condition}"
        ))?;
        let mut rows = stmt.query([arg])?;
        rows.next()?
            .map(|r| EventReader::default().event(self.conn(), r, 0, records))
            .transpose()
    }

    /// Whether logs of this account cover a time window at all.
    pub fn audit_covers(
        &self,
        provider: Provider,
        account: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<bool> {
        let (from, to) = (ts(from), ts(to));
        let n: i64 = self
            .conn()
            .prepare_cached(COVERS)?
            .query_row(params![provider.as_str(), account, from, to], |r| r.get(0))?;
        Ok(n > 0)
    }

    /// The newest stored audit event of an account (and region, when given: events without a
    /// region count for every region), issuing events (`AssumeRole*`) left out.
    pub fn last_event_at(
        &self,
        provider: Provider,
        account: &str,
        region: Option<&str>,
    ) -> Result<Option<DateTime<Utc>>> {
        let t: Option<i64> = self
            .conn()
            .prepare_cached(LAST_EVENT)?
            .query_row(params![provider.as_str(), account, region], |r| r.get(0))?;
        t.map(|t| {
            DateTime::from_timestamp_millis(t)
                .with_context(|| format!("stored audit event time {t} ms is out of range"))
        })
        .transpose()
    }

    /// Failed audit-log reads of this account (or of every account: `*`) whose window overlaps
    /// `from..to` (any time: `None`), oldest first.
    pub fn audit_failures(
        &self,
        provider: Provider,
        account: &str,
        window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Vec<AuditFailureRow>> {
        let (from, to) = match window {
            Some((from, to)) => (Some(ts(from)), Some(ts(to))),
            None => (None, None),
        };
        let mut stmt = self.conn().prepare_cached(FAILURES)?;
        let rows = stmt
            .query_map(params![provider.as_str(), account, from, to], |r| {
                Ok(AuditFailureRow {
                    provider,
                    account: r.get(0)?,
                    region: r.get(1)?,
                    start: time_col(r, 2)?,
                    end: time_col(r, 3)?,
                    code: r.get(4)?,
                    operation: r.get(5)?,
                    message: r.get(6)?,
                    source: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The log objects recorded as read since `since` (a superset of those delivered since
    /// then: an object is read after it is delivered).
    pub fn processed_audit_objects(
        &self,
        since: DateTime<Utc>,
    ) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT object FROM audit_objects WHERE read_at >= ?1")?;
        let rows = stmt
            .query_map([ts(since)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn audit_event_count(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM audit_events", [], |r| r.get(0))?)
    }

    /// One stored event by id, with its delivered record.
    pub fn audit_event(&self, id: &str) -> Result<Option<AuditEvent>> {
        self.one_event("event_id = ?1", id, Records::All)
    }
}

#[cfg(test)]
#[path = "audit_plans.rs"]
mod plans;
