//! What the pure computations need, loaded in one call each (the coarse side of the Store
//! seam): drift takes [`ScopeInputs`] per scope and never reads the database itself.

use anyhow::Result;
use chrono::{DateTime, Utc};

use netdrift_snapshots::{Known, Resource, Scope};

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
    /// The stored state hashes of `actual` and `baseline`, in their order, so that the diff
    /// does not hash them again; empty where they are not known (a plan, a test). They hold
    /// for the vectors as read: replace a vector rather than edit it in place.
    pub states: StateHashes,
    /// When the newest baseline covering the scope was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// The scope's exceptions, oldest first.
    pub exceptions: Vec<ExceptionRow>,
    /// The pattern exceptions baseline files brought (the configuration's come with the
    /// settings): the same list, shared, in every scope's inputs.
    pub patterns: std::sync::Arc<Vec<StoredPattern>>,
}

/// The stored state hashes of a scope's two sides, each aligned with its resources and bound
/// to the very vectors it was read with: a copy of the inputs whose resources were replaced (a
/// plan's) no longer matches them, and its states are hashed again by the diff.
#[derive(Debug, Clone, Default)]
pub struct StateHashes {
    actual: Vec<String>,
    baseline: Vec<String>,
    /// The addresses of the `actual` and `baseline` buffers the hashes belong to.
    bound: (usize, usize),
}

impl StateHashes {
    fn bind(
        actual: Vec<String>,
        of_actual: &[Resource],
        baseline: Vec<String>,
        of_baseline: Option<&[Resource]>,
    ) -> StateHashes {
        StateHashes {
            actual,
            baseline,
            bound: (address(Some(of_actual)), address(of_baseline)),
        }
    }
}

fn address(side: Option<&[Resource]>) -> usize {
    side.map_or(0, |s| s.as_ptr() as usize)
}

impl ScopeInputs {
    /// Both sides for the diff (baseline, actual), each with its stored state hashes when
    /// they are still the ones read with it.
    pub fn sides(&self) -> (Known<'_>, Known<'_>) {
        let baseline = self.baseline.as_deref().unwrap_or_default();
        let held = |hashes: &'_ [String], side: &[Resource], bound: usize| -> usize {
            if bound != 0 && bound == side.as_ptr() as usize && hashes.len() == side.len() {
                hashes.len()
            } else {
                0
            }
        };
        let b = held(&self.states.baseline, baseline, self.states.bound.1);
        let a = held(&self.states.actual, &self.actual, self.states.bound.0);
        (
            Known::new(baseline, &self.states.baseline[..b]),
            Known::new(&self.actual, &self.states.actual[..a]),
        )
    }
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
                    (actual, baseline)
                }
            };
            let (states, actual): (Vec<String>, Vec<Resource>) = actual.into_iter().unzip();
            let (baseline_states, baseline) = match baseline {
                Some(b) => {
                    let (h, r): (Vec<String>, Vec<Resource>) = b.into_iter().unzip();
                    (h, Some(r))
                }
                None => (Vec::new(), None),
            };
            let states = StateHashes::bind(states, &actual, baseline_states, baseline.as_deref());
            out.push(ScopeInputs {
                actual,
                baseline,
                states,
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
