//! The attribution inputs of a pass, in one call: for each drift item, the last snapshot that
//! still showed the approved state (the window's start, computed by the caller's pure window
//! rule), then the events of the window, the `AssumeRole*` events behind temporary keys, the
//! failed audit reads, whether the logs cover the window and, when an event's grade needs it,
//! the approved state. Each scope's snapshots and parsed manifests and each account's failed
//! reads are read once per pass. A database error is an error, never a missing input.

use std::collections::HashMap;
use std::rc::Rc;

use anyhow::Result;
use chrono::{DateTime, Utc};

use netdrift_snapshots::{AuditEvent, KeyType, Provider, Resource, ResourceKind, ScopeKey};

use super::{AuditFailureRow, SnapshotRow, SqliteStore};

/// What one drift item's attribution needs looked up.
#[derive(Debug, Clone)]
pub struct AttributionQuery {
    pub provider: Provider,
    pub scope: ScopeKey,
    pub resource: String,
    pub resource_kind: ResourceKind,
    /// The snapshot that showed the drift.
    pub snapshot_id: i64,
    /// The approved state's hash (`None` for an added resource).
    pub baseline_state: Option<String>,
    /// The ids whose events concern the item: the resource, what it replaces, its rules' ids.
    pub ids: Vec<String>,
}

/// Everything the attribution of one drift item depends on, read from the store beforehand.
#[derive(Debug, Clone)]
pub struct ItemInputs {
    /// The window the events were looked for in (skew included).
    pub window: (DateTime<Utc>, DateTime<Utc>),
    /// Every event touching the item's ids in the window.
    pub events: Vec<AuditEvent>,
    /// The `AssumeRole*` event that issued each temporary key in the events' role chains.
    pub issuers: HashMap<String, AuditEvent>,
    /// Failed audit-log reads of the account overlapping the window.
    pub failures: Vec<AuditFailureRow>,
    /// Whether imported logs cover the window.
    pub covered: bool,
    /// The approved state of the resource, when an event's grade depends on it (a change-only
    /// request is applied onto it; a deleted NACL entry is looked up in it).
    pub before: Option<Resource>,
}

/// How far a temporary key is followed back through `AssumeRole*` events.
pub const MAX_CHAIN: usize = 5;

/// The temporary key a session called with, which an `AssumeRole*` event issued.
pub fn temporary_key(a: &netdrift_snapshots::Actor) -> Option<&str> {
    a.access_key_id
        .as_deref()
        .filter(|_| a.key_type == Some(KeyType::Temporary))
}

/// The window of query `i`, given when the approved state was last seen.
pub type WindowRule<'a> =
    dyn Fn(usize, Option<DateTime<Utc>>) -> Result<(DateTime<Utc>, DateTime<Utc>)> + 'a;

/// Takes the inputs of query `i` as they are loaded (so one item's inputs are in memory at a
/// time, whatever the number of items).
pub type InputsVisitor<'a> = dyn FnMut(usize, ItemInputs) -> Result<()> + 'a;

impl SqliteStore {
    /// The inputs of every query, in order, handed to `visit`; `window(i, last_seen)` is the
    /// caller's window rule.
    pub fn load_attribution_inputs(
        &self,
        queries: &[AttributionQuery],
        window: &WindowRule<'_>,
        visit: &mut InputsVisitor<'_>,
    ) -> Result<()> {
        let mut loader = Loader::new(self);
        loader.wanted = queries.iter().map(|q| q.resource.clone()).collect();
        for (i, q) in queries.iter().enumerate() {
            let last_seen = loader.last_approved_seen(q)?;
            visit(i, loader.inputs(q, window(i, last_seen)?)?)?;
        }
        Ok(())
    }
}

struct Loader<'a> {
    store: &'a SqliteStore,
    snapshots: HashMap<ScopeKey, Rc<[SnapshotRow]>>,
    /// Per snapshot, the state hash of each queried resource it held.
    manifests: HashMap<i64, HashMap<String, String>>,
    /// The queried resources: the only manifest entries kept.
    wanted: std::collections::HashSet<String>,
    failures: HashMap<(Provider, String), Vec<AuditFailureRow>>,
    /// Parses each distinct actor of the pass once.
    reader: super::audit::EventReader,
}

impl<'a> Loader<'a> {
    fn new(store: &'a SqliteStore) -> Loader<'a> {
        Loader {
            store,
            snapshots: HashMap::new(),
            manifests: HashMap::new(),
            wanted: Default::default(),
            failures: HashMap::new(),
            reader: Default::default(),
        }
    }

    /// When the last snapshot before the drift snapshot that read the item's kind still showed
    /// the approved state.
    fn last_approved_seen(&mut self, item: &AttributionQuery) -> Result<Option<DateTime<Utc>>> {
        if !self.snapshots.contains_key(&item.scope) {
            let rows = self.store.snapshots(Some(&item.scope))?;
            self.snapshots.insert(item.scope.clone(), rows.into());
        }
        let snaps = self.snapshots[&item.scope].clone();
        for snap in snaps.iter().rev() {
            if snap.id >= item.snapshot_id
                || snap.status == netdrift_snapshots::SnapshotStatus::Failed
                || snap.uncollected.contains(&item.resource_kind)
            {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = self.manifests.entry(snap.id) {
                e.insert(self.store.manifest_entries(snap, &self.wanted)?);
            }
            if self.manifests[&snap.id].get(&item.resource) == item.baseline_state.as_ref() {
                return Ok(Some(snap.seen_at));
            }
        }
        Ok(None)
    }

    /// The inputs of one item's attribution over `window`.
    fn inputs(
        &mut self,
        item: &AttributionQuery,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<ItemInputs> {
        let (from, to) = window;
        let events =
            self.store
                .events_for_with(&mut self.reader, item.provider, &item.ids, from, to)?;
        let mut issuers = HashMap::new();
        for ev in events.iter().filter(|e| e.catalogued) {
            let mut cur = ev.actor.clone();
            for _ in 0..MAX_CHAIN {
                let Some(key) = temporary_key(&cur).map(str::to_string) else {
                    break;
                };
                let issuer = match issuers.get(&key) {
                    Some(i) => Some(Clone::clone(i)),
                    None => self.store.event_issuing(&key)?,
                };
                let Some(issuer) = issuer else {
                    break;
                };
                cur = issuer.actor.clone();
                issuers.insert(key, issuer);
            }
        }
        let account = item.scope.scope().account().to_string();
        let key = (item.provider, account.to_ascii_lowercase());
        if !self.failures.contains_key(&key) {
            let all = self.store.audit_failures(item.provider, &account, None)?;
            self.failures.insert(key.clone(), all);
        }
        let failures = self.failures[&key]
            .iter()
            .filter(|f| f.start <= to && f.end >= from)
            .cloned()
            .collect();
        Ok(ItemInputs {
            window,
            covered: self.store.audit_covers(item.provider, &account, from, to)?,
            // Only an event graded against the approved state needs it.
            before: if events.iter().any(needs_before) {
                item.baseline_state
                    .as_deref()
                    .map(|h| self.store.state(h))
                    .transpose()?
            } else {
                None
            },
            events,
            issuers,
            failures,
        })
    }
}

/// Whether grading the event reads the approved state (a deleted NACL entry, a request that
/// carries only its changes).
fn needs_before(ev: &netdrift_snapshots::AuditEvent) -> bool {
    ev.catalogued
        && ev.succeeded
        && (ev.event_name == "DeleteNetworkAclEntry"
            || netdrift_provider_file::audit::carries_changes_only(ev))
}
