//! One attribution pass: the change records read once, every item's inputs loaded in one store
//! call (`Store::load_attribution_inputs`), then the pure `attribute` per item.

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{apply_severity, attribute, ids_for, load_records, window_from, Settings};
use crate::config::Config;
use crate::drift::Computed;
use crate::findings::CoverageFinding;
use crate::store::{AttributionQuery, Store};

/// What the store looks up for one drift item's attribution.
pub fn query_for(c: &Computed) -> AttributionQuery {
    AttributionQuery {
        provider: c.item.provider,
        scope: c.item.scope.clone(),
        resource: c.item.resource.clone(),
        resource_kind: c.item.resource_kind,
        snapshot_id: c.item.snapshot_id,
        baseline_state: c.item.baseline_state.clone(),
        ids: ids_for(c),
    }
}

/// Attribute every item; returns coverage findings for logging gaps.
pub fn attribute_all(
    store: &dyn Store,
    cfg: &Config,
    items: &mut [Computed],
    now: DateTime<Utc>,
) -> Result<Vec<CoverageFinding>> {
    let mut records = Vec::new();
    for path in &cfg.change_records {
        records.extend(load_records(path)?);
    }
    let settings = Settings {
        attribution: &cfg.attribution,
        change_windows: &cfg.change_windows,
        records: &records,
    };
    let queries: Vec<AttributionQuery> = items.iter().map(query_for).collect();
    // What the window rule reads, apart from the items attribution writes.
    let spans: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = items
        .iter()
        .map(|c| (c.item.snapshot_taken_at, c.item.baseline_approved_at))
        .collect();
    let mut findings = Vec::new();
    store.load_attribution_inputs(
        &queries,
        &|i, last_seen| {
            let (taken, approved) = &spans[i];
            window_from(*taken, *approved, last_seen, &cfg.attribution)
        },
        &mut |i, inputs| {
            let c = &mut items[i];
            let (attr, gap) = attribute(c, &inputs, &settings, now);
            apply_severity(&mut c.item, &attr, &cfg.attribution);
            c.item.attribution = Some(attr);
            if let Some(g) = gap {
                if !findings
                    .iter()
                    .any(|f: &CoverageFinding| f.subject == g.subject && f.message == g.message)
                {
                    findings.push(g);
                }
            }
            Ok(())
        },
    )?;
    Ok(findings)
}
