//! CSV for spreadsheets: one row per drift item. Cells a spreadsheet would read as a formula
//! (`=`, `+`, `-`, `@`, tab or carriage return first) are prefixed with `'`, so text a user typed
//! into the cloud cannot run in the reader's spreadsheet.

use anyhow::Result;

use super::{headline, is_sensitive, label};
use crate::findings::DriftReport;

pub const HEADER: &[&str] = &[
    "id",
    "severity",
    "severity_code",
    "provider",
    "scope",
    "region",
    "resource",
    "resource_name",
    "direction",
    "change",
    "effect",
    "summary",
    "newly_allowed",
    "newly_denied",
    "world",
    "public",
    "sensitive",
    "attached",
    "reasons",
    "attribution",
    "actor",
    "actor_class",
    "role",
    "source_ip",
    "tool",
    "event",
    "event_time",
    "exception",
    "exception_expires",
    "snapshot_taken_at",
    "controls",
];

/// Neutralise a cell a spreadsheet would evaluate.
pub fn cell(text: &str) -> String {
    // Control characters are escaped too: a CSV is also read with `cat` and `less`.
    let safe = crate::text::terminal(text);
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{safe}"),
        _ => safe.into_owned(),
    }
}

pub fn render(report: &DriftReport) -> Result<String> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(HEADER)?;
    for i in &report.drift {
        let actor = i.attribution.as_ref().and_then(|a| a.actors.first());
        let opt = |v: Option<&String>| v.cloned().unwrap_or_default();
        let row: Vec<String> = vec![
            i.id.clone(),
            i.severity.as_str().into(),
            i.severity_code.clone(),
            i.provider.as_str().into(),
            i.scope.to_string(),
            opt(i.region.as_ref()),
            i.resource.clone(),
            opt(i.resource_name.as_ref()),
            i.direction.as_str().into(),
            label(i.change),
            label(i.effect),
            headline(i),
            i.newly_allowed
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            i.newly_denied
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            i.world.to_string(),
            i.public.to_string(),
            is_sensitive(i).to_string(),
            i.attached.map(|a| a.to_string()).unwrap_or_default(),
            i.reasons.join("; "),
            i.attribution
                .as_ref()
                .map(|a| label(a.status))
                .unwrap_or_default(),
            actor.and_then(|a| a.principal.clone()).unwrap_or_default(),
            actor.map(|a| a.class.clone()).unwrap_or_default(),
            actor.and_then(|a| a.role.clone()).unwrap_or_default(),
            actor.and_then(|a| a.source_ip.clone()).unwrap_or_default(),
            actor.and_then(|a| a.tool.clone()).unwrap_or_default(),
            actor.map(|a| a.event_name.clone()).unwrap_or_default(),
            actor
                .map(|a| netdrift_snapshots::time::millis(a.event_time))
                .unwrap_or_default(),
            i.exception
                .as_ref()
                .map(|e| format!("#{} {}: {}", e.id, e.owner, e.reason))
                .unwrap_or_default(),
            i.exception
                .as_ref()
                .map(|e| crate::store::ts(e.expires_at))
                .unwrap_or_default(),
            crate::store::ts(i.snapshot_taken_at),
            crate::controls::item_control_ids(i).join("; "),
        ];
        w.write_record(row.iter().map(|c| cell(c)))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_prefixes_are_neutralised() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(cell("tcp/22 from 0.0.0.0/0"), "tcp/22 from 0.0.0.0/0");
        assert_eq!(cell(""), "");
    }
}
