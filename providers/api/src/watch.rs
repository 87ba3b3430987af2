//! The watch seam: one tick of continuous detection. A source reads each scope's audit log
//! from where the previous tick stopped (the caller's cursor, less an overlap for late
//! deliveries), and for each catalogued change it has not seen before re-reads only what the
//! change touched. The caller merges what was re-read into the scope's stored state, stores the
//! events, diffs, attributes and delivers; a source never decides drift.

use chrono::{DateTime, Utc};

use netdrift_snapshots::{AuditEvent, AuditFailure, Collected, Problem, Resource, Scope};

use crate::{AuditWindow, Shutdown};

/// What the caller gives a source for one watch tick.
pub struct WatchContext<'a> {
    /// The end of every audit read.
    pub now: DateTime<Utc>,
    /// Where a scope's audit read starts (by scope key): its cursor less the overlap, else its
    /// latest snapshot.
    pub start: &'a (dyn Fn(&str) -> DateTime<Utc> + Sync),
    /// Whether an audit event (by `event_id`) is already stored, so that what it touched was
    /// re-read when it was first seen (the overlap reads it again).
    pub seen: &'a (dyn Fn(&str) -> bool + Sync),
    /// The resources stored for a scope (by scope key), as in a collection.
    pub known: &'a dyn Fn(&str) -> Vec<Resource>,
    pub shutdown: Shutdown,
}

/// A re-read that failed: the change it followed and why (`AccessDenied`, a timeout).
#[derive(Debug, Clone)]
pub struct RereadFailure {
    /// The resource the change named, in model form (`sg-…`).
    pub resource: String,
    /// The change, by its catalogue name (`AuthorizeSecurityGroupIngress`).
    pub event: String,
    pub event_id: String,
    pub problem: Problem,
}

/// What one tick found in one scope.
#[derive(Debug)]
pub struct Watched {
    pub scope: Scope,
    /// The audit span read; `None` when the read failed (then `failure` says why).
    pub window: Option<AuditWindow>,
    pub failure: Option<AuditFailure>,
    /// Every event the read returned, seen before or not (the store dedups).
    pub events: Vec<AuditEvent>,
    /// Resources re-read because a new change named them, in their current state.
    pub states: Vec<Resource>,
    /// Resources a new change named that no longer exist (the cloud said not found).
    pub gone: Vec<String>,
    pub failed: Vec<RereadFailure>,
    /// The whole scope re-collected, when a change touched what cannot be re-read alone (an
    /// attachment, a prefix list, a request naming no resource). Replaces the stored state.
    pub whole: Option<Collected>,
    /// Why the whole scope was re-collected, in one line.
    pub whole_reason: Option<String>,
}

impl Watched {
    /// A scope whose audit read failed: nothing re-read.
    pub fn unread(scope: Scope, failure: AuditFailure) -> Watched {
        Watched {
            scope,
            window: None,
            failure: Some(failure),
            events: Vec::new(),
            states: Vec::new(),
            gone: Vec::new(),
            failed: Vec::new(),
            whole: None,
            whole_reason: None,
        }
    }

    /// A scope whose audit span was read.
    pub fn read(scope: Scope, window: AuditWindow, events: Vec<AuditEvent>) -> Watched {
        Watched {
            scope,
            window: Some(window),
            failure: None,
            events,
            states: Vec::new(),
            gone: Vec::new(),
            failed: Vec::new(),
            whole: None,
            whole_reason: None,
        }
    }

    /// Whether the tick changed what is known of the scope's state.
    pub fn reread_anything(&self) -> bool {
        !self.states.is_empty() || !self.gone.is_empty() || self.whole.is_some()
    }
}

/// Everything one watch tick of one source produced.
#[derive(Debug, Default)]
pub struct WatchOutput {
    pub scopes: Vec<Watched>,
    /// Problems of the source itself (discovery, credentials): its scopes were not watched.
    pub problems: Vec<Problem>,
}

/// The new catalogued changes of a read (`seen` says which were stored before) that took
/// effect: a failed attempt changes nothing, so it is never re-read.
pub fn new_changes<'e>(
    events: &'e [AuditEvent],
    seen: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<&'e AuditEvent> {
    events
        .iter()
        .filter(|e| e.catalogued && e.succeeded && !seen(&e.event_id))
        .collect()
}
