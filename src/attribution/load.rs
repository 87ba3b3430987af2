//! What attribution reads: the change records once per pass, then from the store per drift item,
//! with what one pass shares cached
//! (each scope's snapshots and parsed manifests, each account's failed audit reads). A database
//! error is an error here, never a missing input.

use std::collections::HashMap;
use std::rc::Rc;

use anyhow::Result;
use chrono::{DateTime, Utc};

use netdrift_snapshots::Provider;

use super::{
    apply_severity, attribute, ids_for, load_records, scope_account, temporary_key, window,
    ItemInputs, Settings, MAX_CHAIN,
};
use crate::config::Config;
use crate::drift::Computed;
use crate::findings::{CoverageFinding, DriftItem};
use crate::store::{parse_ts, ts, AuditFailureRow, SnapshotRow, SqliteStore};

/// Attribute every item; returns coverage findings for logging gaps. The store is read here,
/// once per item, through [`Loader`]; the attribution itself (`attribute`) is pure.
pub fn attribute_all(
    store: &SqliteStore,
    cfg: &Config,
    items: &mut [Computed],
    now: DateTime<Utc>,
) -> Result<Vec<CoverageFinding>> {
    let mut records = Vec::new();
    for path in &cfg.change_records {
        records.extend(load_records(path)?);
    }
    let settings = Settings {
        attribution: &cfg.attribution,
        change_windows: &cfg.change_windows,
        records: &records,
    };
    let mut findings = Vec::new();
    let mut loader = Loader::new(store);
    for c in items.iter_mut() {
        let last_seen = loader.last_approved_seen(&c.item)?;
        let window = window(&c.item, last_seen, &cfg.attribution)?;
        let inputs = loader.inputs(c, window)?;
        let (attr, gap) = attribute(c, &inputs, &settings, now);
        apply_severity(&mut c.item, &attr, &cfg.attribution);
        c.item.attribution = Some(attr);
        if let Some(g) = gap {
            if !findings
                .iter()
                .any(|f: &CoverageFinding| f.scope == g.scope && f.message == g.message)
            {
                findings.push(g);
            }
        }
    }
    Ok(findings)
}

pub struct Loader<'a> {
    store: &'a SqliteStore,
    snapshots: HashMap<String, Rc<[SnapshotRow]>>,
    manifests: HashMap<i64, HashMap<String, String>>,
    failures: HashMap<(Provider, String), Vec<AuditFailureRow>>,
}

impl<'a> Loader<'a> {
    pub fn new(store: &'a SqliteStore) -> Loader<'a> {
        Loader {
            store,
            snapshots: HashMap::new(),
            manifests: HashMap::new(),
            failures: HashMap::new(),
        }
    }

    /// When the last snapshot before the drift snapshot that read the item's kind still showed
    /// the approved state.
    pub fn last_approved_seen(&mut self, item: &DriftItem) -> Result<Option<DateTime<Utc>>> {
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
                e.insert(self.store.manifest(snap)?.into_iter().collect());
            }
            if self.manifests[&snap.id].get(&item.resource) == item.baseline_state.as_ref() {
                return Ok(Some(parse_ts(&snap.taken_at)?));
            }
        }
        Ok(None)
    }

    /// The inputs of one item's attribution over `window`.
    pub fn inputs(
        &mut self,
        c: &Computed,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<ItemInputs> {
        let item = &c.item;
        let (from, to) = (ts(window.0), ts(window.1));
        let events = self
            .store
            .events_for(item.provider, &ids_for(c), &from, &to)?;
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
        let account = scope_account(&item.scope);
        let key = (item.provider, account.to_ascii_lowercase());
        if !self.failures.contains_key(&key) {
            let all = self
                .store
                .audit_failures(item.provider, &account, "", "9999")?;
            self.failures.insert(key.clone(), all);
        }
        let failures = self.failures[&key]
            .iter()
            .filter(|f| f.start.as_str() <= to.as_str() && f.end.as_str() >= from.as_str())
            .cloned()
            .collect();
        Ok(ItemInputs {
            window,
            covered: self
                .store
                .audit_covers(item.provider, &account, &from, &to)?,
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
