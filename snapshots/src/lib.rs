//! netdrift-snapshots: the provider-neutral model of firewall state, its canonical form and
//! content hashes, the effective-access algebra, the semantic diff and exposure severity.
//!
//! Architecture invariant: this crate is pure. No IO, no async, no SDK, no SQLite; a test reads
//! its Cargo.toml to keep it that way.

pub mod access;
pub mod audit;
pub mod canonical;
pub mod collection;
pub mod diff;
pub mod effective;
pub mod logging;
pub mod model;
pub mod ownership;
pub mod reach;
pub mod severity;
pub mod time;

pub use access::{parse_access, AccessEntry, AccessSet};
pub use audit::{Actor, ActorType, AuditEvent, KeyType, Record};
pub use canonical::{access_hash, canonical_json, canonicalize, cosmetic_hash, state_hash};
pub use collection::{AuditFailure, Collected, Problem, ProblemCode, SnapshotStatus};
pub use diff::{diff_scope, diff_scope_known, Change, Effect, Known, ResourceDiff};
pub use model::*;
pub use reach::{ExposedWorkload, Reach, ReachVerdict, ScopeWorkloads, SurfaceEntry};
pub use severity::{assess, assess_with_reach, Assessment, Severity, SeverityPolicy};
