//! One attribution pass: the change records read once, every item's inputs loaded in one store
//! call (`Store::load_attribution_inputs`), then the pure `attribute` per item.

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{apply_severity, attribute, ids_for, load_records, window, Settings};
use crate::config::Config;
use crate::drift::Computed;
use crate::findings::CoverageFinding;
use crate::store::{AttributionQuery, Store};

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
    let queries: Vec<AttributionQuery> = items
        .iter()
        .map(|c| AttributionQuery {
            provider: c.item.provider,
            scope: c.item.scope.clone(),
            resource: c.item.resource.clone(),
            resource_kind: c.item.resource_kind,
            snapshot_id: c.item.snapshot_id,
            baseline_state: c.item.baseline_state.clone(),
            ids: ids_for(c),
        })
        .collect();
    let inputs = store.load_attribution_inputs(&queries, &|i, last_seen| {
        window(&items[i].item, last_seen, &cfg.attribution)
    })?;
    let mut findings = Vec::new();
    for (c, inputs) in items.iter_mut().zip(&inputs) {
        let (attr, gap) = attribute(c, inputs, &settings, now);
        apply_severity(&mut c.item, &attr, &cfg.attribution);
        c.item.attribution = Some(attr);
        if let Some(g) = gap {
            if !findings
                .iter()
                .any(|f: &CoverageFinding| f.scope == g.scope && f.message == g.message)
            {
                findings.push(g);
            }
        }
    }
    Ok(findings)
}
