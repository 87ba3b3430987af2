//! What the reports suggest running next for a drift item.

use crate::findings::DriftItem;

/// What to run next for a drift item, as the reports suggest it: the revert (which prints the
/// minimal calls back to the approved access, or why none can be given), an exception, or the
/// approval of the new state. Nothing for an item an exception already covers.
pub fn next_commands(i: &DriftItem) -> Vec<String> {
    use crate::revert::sh;
    if i.exception.is_some() || i.effect == netdrift_snapshots::Effect::Cosmetic {
        return Vec::new();
    }
    vec![
        format!("netdrift revert {}", sh(&i.id)),
        format!(
            "netdrift exception add {} --by OWNER --reason WHY --expires YYYY-MM-DD",
            sh(&i.id)
        ),
        format!(
            "netdrift baseline approve --scope {} --resource {} --by YOU --reason WHY",
            sh(i.scope.as_str()),
            sh(&i.resource)
        ),
    ]
}
