//! How an item's reach is concluded once each workload it reaches has been looked at; every
//! cloud ends the same way.

use super::{ExposedWorkload, Reach, ReachVerdict};

/// `internet` when a workload is exposed (the first named by `name`), else `unknown` when one
/// could not be told, else `internal` with the `latent` explanation.
pub(super) fn conclude(
    exposed: Vec<ExposedWorkload>,
    unknown: Vec<String>,
    name: fn(&ExposedWorkload) -> String,
    latent: impl FnOnce() -> String,
) -> ReachVerdict {
    if let Some(first) = exposed.first() {
        let more = match exposed.len() {
            1 => String::new(),
            k => format!(" (and {} more)", k - 1),
        };
        let at = first
            .address
            .as_deref()
            .map(|a| format!(" at {a}"))
            .unwrap_or_default();
        let why = format!(
            "exposed: {}{at} on {}{more}",
            name(first),
            first.ports.join(", ")
        );
        return ReachVerdict {
            reach: Reach::Internet,
            exposed,
            why,
        };
    }
    if !unknown.is_empty() {
        return ReachVerdict::unknown(unknown.join("; "));
    }
    ReachVerdict {
        reach: Reach::Internal,
        exposed,
        why: latent(),
    }
}

/// A workload by its instance's name, else its id.
pub(super) fn by_instance(e: &ExposedWorkload) -> String {
    e.instance.clone().unwrap_or_else(|| e.id.clone())
}
