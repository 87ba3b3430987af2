//! The attribution inputs of a pass, in one call: for each drift item, the last snapshot that
//! still showed the approved state (the window's start, computed by the caller's pure window
//! rule), then the events of the window, the `AssumeRole*` events behind temporary keys, the
//! failed audit reads, whether the logs cover the window and, when an event's grade needs it,
//! the approved state. Each scope's snapshots and parsed manifests and each account's failed
//! reads are read once per pass. A database error is an error, never a missing input.

use std::collections::{HashMap, HashSet};
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

/// The window of query `i`, given when the approved state was last seen (called from the
/// thread that loads the item: a large pass loads on two).
pub type WindowRule<'a> =
    dyn Fn(usize, Option<DateTime<Utc>>) -> Result<(DateTime<Utc>, DateTime<Utc>)> + Sync + 'a;

/// Takes the inputs of query `i` as they are loaded (so one item's inputs are in memory at a
/// time, whatever the number of items).
pub type InputsVisitor<'a> = dyn FnMut(usize, ItemInputs) -> Result<()> + 'a;

/// From how many items a pass loads on two threads, when the machine has two cores and the
/// database is a file (below it, opening a second connection costs more than it saves).
pub const PARALLEL_FROM: usize = 64;

/// How many items the second thread loads ahead of the visits.
const AHEAD: usize = 32;

impl SqliteStore {
    /// The inputs of every query, in order, handed to `visit`; `window(i, last_seen)` is the
    /// caller's window rule. A pass of `PARALLEL_FROM` items or more on a machine with more
    /// than one core loads every other item on a second thread, through a read-only connection
    /// of its own, while this one loads the rest and visits each in order: the same inputs, in
    /// the same order, as loading them one after the other.
    pub fn load_attribution_inputs(
        &self,
        queries: &[AttributionQuery],
        window: &WindowRule<'_>,
        visit: &mut InputsVisitor<'_>,
    ) -> Result<()> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let helper = if queries.len() >= PARALLEL_FROM && cores > 1 {
            self.reader()?
        } else {
            None
        };
        self.load_attribution_inputs_on(helper, queries, window, visit)
    }

    /// `load_attribution_inputs`, on this connection alone (`helper` `None`) or with the second
    /// thread reading through `helper`.
    pub(crate) fn load_attribution_inputs_on(
        &self,
        helper: Option<SqliteStore>,
        queries: &[AttributionQuery],
        window: &WindowRule<'_>,
        visit: &mut InputsVisitor<'_>,
    ) -> Result<()> {
        let wanted: HashSet<String> = queries.iter().map(|q| q.resource.clone()).collect();
        let load = |loader: &mut Loader<'_>, i: usize, q: &AttributionQuery| {
            let last_seen = loader.last_approved_seen(q)?;
            loader.inputs(q, window(i, last_seen)?)
        };
        let Some(helper) = helper else {
            let mut loader = Loader::new(self, &wanted);
            for (i, q) in queries.iter().enumerate() {
                visit(i, load(&mut loader, i, q)?)?;
            }
            return Ok(());
        };
        let theirs = |i: usize| i % 2 == 1;
        std::thread::scope(|s| {
            let (send, received) = std::sync::mpsc::sync_channel::<Result<ItemInputs>>(AHEAD);
            let (wanted, load) = (&wanted, &load);
            s.spawn(move || {
                let mut loader = Loader::new(&helper, wanted);
                for (i, q) in queries.iter().enumerate().filter(|(i, _)| theirs(*i)) {
                    let inputs = load(&mut loader, i, q);
                    let failed = inputs.is_err();
                    // Stops when this side stopped (an error) or at its own first error.
                    if send.send(inputs).is_err() || failed {
                        return;
                    }
                }
            });
            let mut loader = Loader::new(self, wanted);
            for (i, q) in queries.iter().enumerate() {
                let inputs = if theirs(i) {
                    received.recv().map_err(|_| {
                        anyhow::anyhow!("the second attribution reader stopped before item {i}")
                    })??
                } else {
                    load(&mut loader, i, q)?
                };
                visit(i, inputs)?;
            }
            Ok(())
        })
    }
}

struct Loader<'a> {
    store: &'a SqliteStore,
    snapshots: HashMap<ScopeKey, Rc<[SnapshotRow]>>,
    /// Per snapshot, the state hash of each queried resource it held.
    manifests: HashMap<i64, HashMap<String, String>>,
    /// The queried resources: the only manifest entries kept.
    wanted: &'a HashSet<String>,
    failures: HashMap<(Provider, String), Vec<AuditFailureRow>>,
    /// Parses each distinct actor of the pass once.
    reader: super::audit_rows::EventReader,
}

impl<'a> Loader<'a> {
    fn new(store: &'a SqliteStore, wanted: &'a HashSet<String>) -> Loader<'a> {
        Loader {
            store,
            snapshots: HashMap::new(),
            manifests: HashMap::new(),
            wanted,
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
                e.insert(self.store.manifest_entries(snap, self.wanted)?);
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

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use netdrift_snapshots::{Actor, ActorType, Collected, Provider, Scope};
    use serde_json::json;

    use crate::store::{insert_snapshots, BaselineSelector, SqliteStore};

    /// `groups` security groups of one rule each; on day 2 every group opens SSH to the world.
    fn groups(n: usize, day2: bool) -> Vec<netdrift_snapshots::Resource> {
        let sgs: Vec<_> = (0..n)
            .map(|g| {
                let cidr = if day2 { "0.0.0.0/0" } else { "10.0.0.0/8" };
                json!({"GroupId": format!("sg-{g:017x}"), "GroupName": format!("g{g}"), "VpcId": "vpc-1",
                    "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr}]}],
                    "IpPermissionsEgress": []})
            })
            .collect();
        netdrift_provider_file::convert_document(
            Provider::Aws,
            "1",
            &json!({ "SecurityGroups": sgs }),
        )
        .unwrap()
    }

    #[test]
    fn two_readers_load_the_same_inputs_in_the_same_order_as_one() {
        // 150 drift items, each with its own events (and an error in the window rule of one
        // item, once): loaded with a second thread reading every other item through its own
        // connection, the visits are those of one connection, input for input; an error on
        // either side ends the pass with that error.
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("a.db")).unwrap();
        let scope = Scope::new(Provider::Aws, "1", Some("us-east-1".into()));
        let t0: chrono::DateTime<chrono::Utc> = "2026-11-24T02:00:00Z".parse().unwrap();
        let n = 150;
        for (day, resources) in [(0, groups(n, false)), (1, groups(n, true))] {
            insert_snapshots(
                &mut store,
                &[(Collected::complete(scope.clone(), resources), "t".into())],
                t0 + Duration::days(day),
            )
            .unwrap();
            if day == 0 {
                store
                    .approve(&BaselineSelector::All, "t", "t", None, t0)
                    .unwrap();
            }
        }
        let events: Vec<_> = (0..n * 3)
            .map(|i| netdrift_snapshots::AuditEvent {
                provider: Provider::Aws,
                event_id: format!("aws:e{i}"),
                event_time: t0 + Duration::minutes(10 + i as i64),
                account: Some("1".into()),
                region: Some("us-east-1".into()),
                event_name: "AuthorizeSecurityGroupIngress".into(),
                resources: vec![format!("sg-{:017x}", i % n)],
                succeeded: true,
                error: None,
                actor: Actor {
                    principal: Some(format!("arn:aws:iam::1:user/u{}", i % 7)),
                    kind: Some(ActorType::Human),
                    ..Default::default()
                },
                payload: Vec::new(),
                payload_removes: false,
                issued_key: None,
                catalogued: true,
                raw: None,
            })
            .collect();
        crate::audit::store_events(&mut store, Provider::Aws, &events, &[], "t").unwrap();
        let cfg = crate::config::Config::parse("", std::path::Path::new("."), "t").unwrap();
        let (computed, _) = crate::drift::compute(
            &store
                .load_drift_inputs(&crate::drift::selector(None))
                .unwrap(),
            &cfg.drift,
            t0 + Duration::days(1),
        )
        .unwrap();
        assert_eq!(computed.len(), n);
        let queries: Vec<super::AttributionQuery> =
            computed.iter().map(crate::attribution::query_for).collect();
        let window = |_: usize, seen: Option<chrono::DateTime<chrono::Utc>>| {
            Ok((seen.unwrap_or(t0), t0 + Duration::days(1)))
        };
        let visits = |helper: Option<SqliteStore>, fail_at: Option<usize>| {
            let mut seen = Vec::new();
            let failing = |i: usize, s: Option<chrono::DateTime<chrono::Utc>>| {
                if Some(i) == fail_at {
                    anyhow::bail!("no window for item {i}");
                }
                window(i, s)
            };
            let r = store.load_attribution_inputs_on(helper, &queries, &failing, &mut |i, x| {
                seen.push((i, format!("{x:?}")));
                Ok(())
            });
            (r.map_err(|e| e.to_string()), seen)
        };
        let (alone, one) = visits(None, None);
        alone.unwrap();
        assert_eq!(one.len(), n);
        assert!(one.iter().all(|(_, x)| x.matches("event_id").count() == 3));
        let (both, two) = visits(store.reader().unwrap(), None);
        both.unwrap();
        assert_eq!(two, one);
        // An error of the second reader's item (odd) or of this one's (even) ends the pass.
        for at in [41, 42] {
            let (r, seen) = visits(store.reader().unwrap(), Some(at));
            assert_eq!(r.unwrap_err(), format!("no window for item {at}"));
            assert_eq!(seen, one[..at]);
        }
        // A database in memory has no second reader.
        assert!(SqliteStore::open_in_memory()
            .unwrap()
            .reader()
            .unwrap()
            .is_none());
    }
}
