//! Stored runs as the reports read them back: a run's drift items, the previous run's, and the
//! open-exposure trend of the last runs.

use anyhow::{Context as _, Result};

use super::TrendPoint;
use crate::findings::{DriftItem, DriftReport};
use crate::store::Store;

/// Open exposure of the last `n` runs up to and including `run_id`, oldest first.
pub fn trend(store: &dyn Store, run_id: i64, n: usize) -> Result<Vec<TrendPoint>> {
    let picked = store.run_times(run_id, n)?;
    let mut out = Vec::with_capacity(picked.len());
    for (id, finished_at) in picked {
        out.push(TrendPoint::of(id, finished_at, &run_items(store, id)?));
    }
    Ok(out)
}

/// The stored drift items of a run.
pub fn run_items(store: &dyn Store, run_id: i64) -> Result<Vec<DriftItem>> {
    store
        .run_items(run_id)?
        .into_iter()
        .map(|v| serde_json::from_value(v).context("stored drift item"))
        .collect()
}

/// The items of the run before `run_id`.
pub fn previous_items(store: &dyn Store, run_id: i64) -> Result<Option<Vec<DriftItem>>> {
    match store.run_times(run_id - 1, 1)?.first() {
        Some((prev, _)) => Ok(Some(run_items(store, *prev)?)),
        None => Ok(None),
    }
}

/// A report's drift items as a run record stores them: (id, scope, severity, the item).
pub fn record_items(report: &DriftReport) -> Vec<(String, String, String, serde_json::Value)> {
    report
        .drift
        .iter()
        .map(|i| {
            (
                i.id.clone(),
                i.scope.to_string(),
                i.severity.as_str().to_string(),
                serde_json::to_value(i).expect("serializes"),
            )
        })
        .collect()
}

/// A report's coverage findings as a run record stores them: (subject, the finding).
pub fn record_coverage(report: &DriftReport) -> Vec<(String, serde_json::Value)> {
    report
        .coverage
        .iter()
        .map(|c| {
            (
                c.subject.as_str().to_string(),
                serde_json::to_value(c).expect("serializes"),
            )
        })
        .collect()
}
