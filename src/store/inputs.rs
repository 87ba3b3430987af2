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

/// Receives one batch of scopes' drift inputs at a time.
pub type DriftVisitor<'a> = dyn FnMut(Vec<ScopeInputs>) -> Result<()> + 'a;

impl SqliteStore {
    /// The drift inputs of every stored scope `select` accepts that has a snapshot. A
    /// database error is an error, never a missing input.
    pub fn load_drift_inputs(&self, select: &dyn Fn(&Scope) -> bool) -> Result<Vec<ScopeInputs>> {
        let mut out = Vec::new();
        self.visit_drift_inputs(select, usize::MAX, &mut |batch| {
            out.extend(batch);
            Ok(())
        })?;
        Ok(out)
    }

    /// The same inputs, handed to `visit` `batch` scopes at a time in scope order, so that
    /// memory holds one batch's states (an estate of thousands of scopes is never loaded whole).
    pub fn visit_drift_inputs(
        &self,
        select: &dyn Fn(&Scope) -> bool,
        batch: usize,
        visit: &mut DriftVisitor<'_>,
    ) -> Result<()> {
        let patterns = std::sync::Arc::new(self.stored_patterns()?);
        let mut out = Vec::new();
        for scope in self.scopes()? {
            if !select(&scope) {
                continue;
            }
            let key = scope.key();
            let Some(snapshot) = self.latest_snapshot(&key, None)? else {
                continue;
            };
            let failed = snapshot.status == netdrift_snapshots::SnapshotStatus::Failed;
            let (actual, baseline) = match failed {
                true => (Vec::new(), None),
                false => {
                    let actual = self.snapshot_states(&snapshot)?;
                    let baseline = self.approved_state_reusing(&key, &actual)?;
                    (actual.into_iter().map(|(_, r)| r).collect(), baseline)
                }
            };
            out.push(ScopeInputs {
                actual,
                baseline,
                approved_at: self.baseline_approved_at(&key)?,
                exceptions: self.exceptions(Some(&key), None)?,
                patterns: patterns.clone(),
                snapshot,
                scope,
            });
            if out.len() >= batch {
                visit(std::mem::take(&mut out))?;
            }
        }
        if !out.is_empty() {
            visit(out)?;
        }
        Ok(())
    }
}
