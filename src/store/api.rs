//! API boundary: the Store seam. What the pipeline and the commands need from a database,
//! coarse-grained: load the inputs of a pure computation in one call, save each result as one
//! all-or-nothing write. [`SqliteStore`] implements it; a second backend (PostgreSQL is next)
//! implements the same trait and passes the same contract suite (`tests/it/store_contract.rs`).
//!
//! The design rules a backend must keep:
//! - every `record_*`, `approve`, `add_exception` and `prune` is one transaction: on error
//!   nothing of it is visible;
//! - resource states are content-addressed (one row per SHA-256 of the canonical JSON);
//! - a missing thing asked for by id is [`StoreError::NotFound`], never an empty value;
//! - a database error is an error, never "nothing there".
//!
//! SQLite is synchronous: callers on an async runtime call it from a blocking thread (the
//! daemon does), and a network backend keeps the same shape behind one connection task.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use netdrift_snapshots::{Collected, Resource, Scope, ScopeKey};

use super::{
    AttributionQuery, AuditBatch, BaselineSelector, DeliveryRow, DriftVisitor, ExceptionRow,
    InputsVisitor, NewException, RemediationRow, RunRecord, RunRow, ScopeInputs, SnapshotRow,
    SqliteStore, WindowRule,
};

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A snapshot, resource state, run or baseline asked for by id does not exist.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// Anything else: the database, a corrupt row, a refused write (read-only, locked).
    #[error(transparent)]
    Backend(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The store every backend implements.
pub trait Store {
    /// The schema version of the data (migrations applied).
    fn schema_version(&self) -> StoreResult<i64>;
    /// One collection's snapshots (a snapshot per scope, with the source that produced it).
    fn record_collection(
        &mut self,
        items: &[(Collected, String)],
        taken_at: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>>;
    /// Audit events, the windows read and the reads that failed; how many events were new.
    fn record_audit(&mut self, batches: &[AuditBatch<'_>]) -> StoreResult<Vec<usize>>;
    /// One finished run, chained to the previous one.
    fn record_run(&mut self, record: &RunRecord) -> StoreResult<i64>;
    /// Approve the latest state for a selector: (baseline id, entries).
    fn approve(
        &mut self,
        selector: &BaselineSelector,
        by: &str,
        reason: &str,
        ticket: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, usize)>;
    fn add_exception(&mut self, e: &NewException<'_>, now: DateTime<Utc>) -> StoreResult<i64>;
    /// Drop what no retained run, baseline or latest snapshot references.
    fn prune(&mut self, before: DateTime<Utc>) -> StoreResult<usize>;
    /// Everything attribution needs, per drift item, handed to `visit` in order (one item's
    /// inputs in memory at a time); `window(i, last_seen)` is the caller's (pure) window rule,
    /// given when the approved state was last seen.
    fn load_attribution_inputs(
        &self,
        queries: &[AttributionQuery],
        window: &WindowRule<'_>,
        visit: &mut InputsVisitor<'_>,
    ) -> StoreResult<()>;
    /// Everything drift needs, per scope `select` accepts.
    fn load_drift_inputs(&self, select: &dyn Fn(&Scope) -> bool) -> StoreResult<Vec<ScopeInputs>>;
    /// The same, handed to `visit` at most `batch` scopes at a time, in scope order (one
    /// batch's states in memory at a time).
    fn visit_drift_inputs(
        &self,
        select: &dyn Fn(&Scope) -> bool,
        batch: usize,
        visit: &mut DriftVisitor<'_>,
    ) -> StoreResult<()>;
    fn snapshot(&self, id: i64) -> StoreResult<SnapshotRow>;
    /// A resource state by its hash.
    fn state(&self, hash: &str) -> StoreResult<Resource>;
    /// The newest full runs (`netdrift run`, the nightly reconcile), oldest first; watch ticks
    /// are in the chain but not here.
    fn runs(&self, limit: usize) -> StoreResult<Vec<RunRow>>;
    /// The ids and finish times of the newest `limit` full runs up to and including run
    /// `up_to`, oldest first: what a trend reads, without any run's summary.
    fn run_times(&self, up_to: i64, limit: usize) -> StoreResult<Vec<(i64, DateTime<Utc>)>>;
    /// Every stored audit event between two times (both included), oldest first. A bulk load:
    /// each event carries its delivered record (`raw`) only when its meaning needs it
    /// (`netdrift_provider_file::audit::needs_record`).
    fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<netdrift_snapshots::AuditEvent>>;
    /// The `AssumeRole*` event that issued a temporary access key, if stored.
    fn event_issuing(&self, key: &str) -> StoreResult<Option<netdrift_snapshots::AuditEvent>>;
    /// Whether an audit read of the account covered part of `from..to`.
    fn audit_covers(
        &self,
        provider: netdrift_snapshots::Provider,
        account: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The newest stored (non-issuing) audit event of an account, in a region when given.
    fn last_event_at(
        &self,
        provider: netdrift_snapshots::Provider,
        account: &str,
        region: Option<&str>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// What a collection starts from: when each stored scope was last snapshotted (the audit
    /// "since" of its next read).
    fn last_collected(&self) -> StoreResult<HashMap<ScopeKey, DateTime<Utc>>>;
    /// The audit-log objects recorded as read since a time: `s3://BUCKET/KEY`, or
    /// `file:PROVIDER:sha256:HEX` for a configured file's content.
    fn processed_audit_objects(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<std::collections::HashSet<String>>;
    /// What is stored for a scope's firewall kinds, kind by kind: each kind's resources from the
    /// newest snapshot that read that kind (a partial snapshot does not hide what an earlier one
    /// read); empty for a new scope. A provider uses it to skip re-reading what did not change.
    /// Workloads are left out: no provider reads them incrementally.
    fn known_resources(&self, scope: &ScopeKey) -> StoreResult<Vec<Resource>>;
    /// The drift items a run recorded, as recorded (JSON bodies, in item order).
    fn run_items(&self, run_id: i64) -> StoreResult<Vec<serde_json::Value>>;
    /// Every exception, oldest first.
    fn exceptions(&self) -> StoreResult<Vec<ExceptionRow>>;
    /// Record a remediation (`netdrift revert --apply`); one transaction.
    fn record_remediation(&mut self, r: &RemediationRow) -> StoreResult<i64>;
    /// Every remediation, oldest first.
    fn remediations(&self) -> StoreResult<Vec<RemediationRow>>;
    /// Where each watched scope's audit read last ended.
    fn watch_cursors(&self) -> StoreResult<HashMap<ScopeKey, DateTime<Utc>>>;
    /// Move watch cursors forward (a cursor never moves back), all or nothing.
    fn advance_cursors(
        &mut self,
        cursors: &[(ScopeKey, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Which of these item ids were delivered before on this webhook route.
    fn delivered_among(&self, route: &str, ids: &[&str]) -> StoreResult<HashSet<String>>;
    /// Deliveries not resolved yet, oldest first.
    fn open_deliveries(&self) -> StoreResult<Vec<DeliveryRow>>;
    /// Every delivery, resolved or not, oldest first.
    fn deliveries(&self) -> StoreResult<Vec<DeliveryRow>>;
    /// New deliveries, and resolutions of earlier ones (by route and item id), all or nothing.
    fn record_deliveries(
        &mut self,
        delivered: &[DeliveryRow],
        resolved: &[DeliveryRow],
    ) -> StoreResult<()>;
}

impl Store for SqliteStore {
    fn schema_version(&self) -> StoreResult<i64> {
        Ok(SqliteStore::schema_version(self)?)
    }
    fn record_collection(
        &mut self,
        items: &[(Collected, String)],
        taken_at: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        Ok(super::insert_snapshots(self, items, taken_at)?)
    }
    fn record_audit(&mut self, batches: &[AuditBatch<'_>]) -> StoreResult<Vec<usize>> {
        Ok(SqliteStore::record_audit(self, batches)?)
    }
    fn record_run(&mut self, record: &RunRecord) -> StoreResult<i64> {
        Ok(SqliteStore::record_run(self, record)?)
    }
    fn approve(
        &mut self,
        selector: &BaselineSelector,
        by: &str,
        reason: &str,
        ticket: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, usize)> {
        Ok(SqliteStore::approve(
            self, selector, by, reason, ticket, now,
        )?)
    }
    fn add_exception(&mut self, e: &NewException<'_>, now: DateTime<Utc>) -> StoreResult<i64> {
        Ok(SqliteStore::add_exception(self, e, now)?)
    }
    fn prune(&mut self, before: DateTime<Utc>) -> StoreResult<usize> {
        Ok(SqliteStore::prune(self, before)?)
    }
    fn load_drift_inputs(&self, select: &dyn Fn(&Scope) -> bool) -> StoreResult<Vec<ScopeInputs>> {
        Ok(SqliteStore::load_drift_inputs(self, select)?)
    }
    fn visit_drift_inputs(
        &self,
        select: &dyn Fn(&Scope) -> bool,
        batch: usize,
        visit: &mut DriftVisitor<'_>,
    ) -> StoreResult<()> {
        Ok(SqliteStore::visit_drift_inputs(self, select, batch, visit)?)
    }
    fn load_attribution_inputs(
        &self,
        queries: &[AttributionQuery],
        window: &WindowRule<'_>,
        visit: &mut InputsVisitor<'_>,
    ) -> StoreResult<()> {
        Ok(SqliteStore::load_attribution_inputs(
            self, queries, window, visit,
        )?)
    }
    fn snapshot(&self, id: i64) -> StoreResult<SnapshotRow> {
        SqliteStore::snapshot(self, id)?.ok_or(StoreError::NotFound {
            what: "snapshot",
            id: id.to_string(),
        })
    }
    fn state(&self, hash: &str) -> StoreResult<Resource> {
        SqliteStore::state_if_stored(self, hash)?.ok_or_else(|| StoreError::NotFound {
            what: "resource state",
            id: hash.to_string(),
        })
    }
    fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<netdrift_snapshots::AuditEvent>> {
        Ok(SqliteStore::events_between(self, from, to)?)
    }
    fn event_issuing(&self, key: &str) -> StoreResult<Option<netdrift_snapshots::AuditEvent>> {
        Ok(SqliteStore::event_issuing(self, key)?)
    }
    fn audit_covers(
        &self,
        provider: netdrift_snapshots::Provider,
        account: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<bool> {
        Ok(SqliteStore::audit_covers(
            self, provider, account, from, to,
        )?)
    }
    fn last_event_at(
        &self,
        provider: netdrift_snapshots::Provider,
        account: &str,
        region: Option<&str>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(SqliteStore::last_event_at(self, provider, account, region)?)
    }
    fn runs(&self, limit: usize) -> StoreResult<Vec<RunRow>> {
        Ok(SqliteStore::runs(self, limit)?)
    }
    fn run_times(&self, up_to: i64, limit: usize) -> StoreResult<Vec<(i64, DateTime<Utc>)>> {
        Ok(SqliteStore::run_times(self, up_to, limit)?)
    }
    fn processed_audit_objects(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<std::collections::HashSet<String>> {
        Ok(SqliteStore::processed_audit_objects(self, since)?)
    }
    fn last_collected(&self) -> StoreResult<HashMap<ScopeKey, DateTime<Utc>>> {
        Ok(self.newest_sightings()?)
    }
    fn known_resources(&self, scope: &ScopeKey) -> StoreResult<Vec<Resource>> {
        let mut loaded: Vec<(i64, Vec<Resource>)> = Vec::new();
        let mut out = Vec::new();
        let kinds = netdrift_snapshots::collection::firewall_kinds(scope.scope().provider());
        for &kind in &kinds {
            let Some(snap) = self.latest_covering(scope, kind, None)? else {
                continue;
            };
            if !loaded.iter().any(|(id, _)| *id == snap.id) {
                let firewall = |k| kinds.contains(&k);
                loaded.push((snap.id, self.snapshot_resources_of(&snap, &firewall)?));
            }
            let (_, resources) = loaded
                .iter()
                .find(|(id, _)| *id == snap.id)
                .expect("loaded");
            out.extend(resources.iter().filter(|r| r.kind == kind).cloned());
        }
        Ok(out)
    }
    fn run_items(&self, run_id: i64) -> StoreResult<Vec<serde_json::Value>> {
        Ok(SqliteStore::run_items(self, run_id)?)
    }
    fn exceptions(&self) -> StoreResult<Vec<ExceptionRow>> {
        Ok(SqliteStore::exceptions(self, None, None)?)
    }
    fn record_remediation(&mut self, r: &RemediationRow) -> StoreResult<i64> {
        Ok(SqliteStore::record_remediation(self, r)?)
    }
    fn remediations(&self) -> StoreResult<Vec<RemediationRow>> {
        Ok(SqliteStore::remediations(self)?)
    }
    fn watch_cursors(&self) -> StoreResult<HashMap<ScopeKey, DateTime<Utc>>> {
        Ok(SqliteStore::watch_cursors(self)?)
    }
    fn advance_cursors(
        &mut self,
        cursors: &[(ScopeKey, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        Ok(SqliteStore::advance_cursors(self, cursors, now)?)
    }
    fn delivered_among(&self, route: &str, ids: &[&str]) -> StoreResult<HashSet<String>> {
        Ok(SqliteStore::delivered_among(self, route, ids)?)
    }
    fn open_deliveries(&self) -> StoreResult<Vec<DeliveryRow>> {
        Ok(SqliteStore::open_deliveries(self)?)
    }
    fn deliveries(&self) -> StoreResult<Vec<DeliveryRow>> {
        Ok(SqliteStore::deliveries(self)?)
    }
    fn record_deliveries(
        &mut self,
        delivered: &[DeliveryRow],
        resolved: &[DeliveryRow],
    ) -> StoreResult<()> {
        Ok(SqliteStore::record_deliveries(self, delivered, resolved)?)
    }
}
