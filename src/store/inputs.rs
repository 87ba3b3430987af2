//! What the pure computations need, loaded in one call each (the coarse side of the Store
//! seam): drift takes [`ScopeInputs`] per scope and never reads the database itself.

use anyhow::Result;
use chrono::{DateTime, Utc};

use netdrift_snapshots::{Resource, Scope};

use super::{ExceptionRow, SnapshotRow, SqliteStore, StoredPattern};

/// Everything the drift of one scope depends on.
#[derive(Debug, Clone)]
pub struct ScopeInputs {
    pub scope: Scope,
    /// The scope's latest snapshot.
    pub snapshot: SnapshotRow,
    /// Its resources (empty for a failed snapshot).
    pub actual: Vec<Resource>,
    /// The approved state; `None` when the scope was never approved.
    pub baseline: Option<Vec<Resource>>,
    /// When the newest baseline covering the scope was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// The scope's exceptions, oldest first.
    pub exceptions: Vec<ExceptionRow>,
    /// The pattern exceptions baseline files brought (the configuration's come with the
    /// settings): the same list, shared, in every scope's inputs.
    pub patterns: std::sync::Arc<Vec<StoredPattern>>,
}

impl SqliteStore {
    /// The drift inputs of every stored scope `select` accepts that has a snapshot. A
    /// database error is an error, never a missing input.
    pub fn load_drift_inputs(&self, select: &dyn Fn(&Scope) -> bool) -> Result<Vec<ScopeInputs>> {
        let mut out = Vec::new();
        let patterns = std::sync::Arc::new(self.stored_patterns()?);
        for scope in self.scopes()? {
            if !select(&scope) {
                continue;
            }
            let key = scope.key();
            let Some(snapshot) = self.latest_snapshot(&key, None)? else {
                continue;
            };
            let failed = snapshot.status == netdrift_snapshots::SnapshotStatus::Failed;
            out.push(ScopeInputs {
                actual: if failed {
                    Vec::new()
                } else {
                    self.snapshot_resources(&snapshot)?
                },
                baseline: if failed {
                    None
                } else {
                    self.approved_state(&key, None)?
                },
                approved_at: self.baseline_approved_at(&key)?,
                exceptions: self.exceptions(Some(&key), None)?,
                patterns: patterns.clone(),
                snapshot,
                scope,
            });
        }
        Ok(out)
    }
}
