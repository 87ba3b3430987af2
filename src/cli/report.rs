//! `netdrift report`: write the drift report (HTML, Markdown, JSON, CSV, OCSF, ASFF: the
//! configured formats) for a period of stored runs, or for one run.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::Utc;

use crate::drift;
use crate::findings::{CoverageFinding, DriftItem};
use crate::store::RunRow;

use super::{open_existing, parse_time, Outcome};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Configuration: the report directory and formats (`html`, `markdown`, `json`, `csv`,
    /// `ocsf`, `asff`; all six when unset) and the settings.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Report directory [default: the configured one, else ./reports].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Render this stored run.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    run: Option<i64>,
    /// Start of the period (date or RFC 3339) [default: the latest run only].
    #[arg(long)]
    from: Option<String>,
    /// End of the period [default: now].
    #[arg(long)]
    to: Option<String>,
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let store = open_existing(db)?;
    let mut cfg = super::drift::settings(a.config.as_deref())?;
    if let Some(out) = a.out {
        cfg.report.directory = out;
    }
    let runs = store.runs(1_000_000)?;
    let selected: Vec<RunRow> = match (a.run, &a.from) {
        (Some(id), _) => vec![runs
            .iter()
            .find(|r| r.id == id)
            .with_context(|| {
                format!("no nightly run {id} (a watch tick's run is in the evidence bundle)")
            })?
            .clone()],
        (None, Some(from)) => {
            let from = parse_time(from)?;
            let to =
                a.to.as_deref()
                    .map(parse_time)
                    .transpose()?
                    .unwrap_or_else(Utc::now);
            runs.into_iter()
                .filter(|r| r.finished_at >= from && r.finished_at <= to)
                .collect()
        }
        (None, None) => runs.last().cloned().into_iter().collect(),
    };
    let Some(last) = selected.last().cloned() else {
        bail!("no reconcile run in that period: run `netdrift run` first, or widen --from/--to");
    };
    // The latest state of every item seen in the period (an item fixed later keeps its last form).
    let mut items: Vec<DriftItem> = Vec::new();
    for r in &selected {
        for v in store.run_items(r.id)? {
            let item: DriftItem = serde_json::from_value(v)?;
            items.retain(|i| i.id != item.id);
            items.push(item);
        }
    }
    let coverage: Vec<CoverageFinding> = store.run_coverage(last.id)?;
    let when = last.finished_at;
    let report = drift::report(drift::sorted(items), coverage, when);
    let files = crate::report::write_reports(&store, &cfg, last.id, &report, None, None)?;
    if selected.len() > 1 {
        let mut md = String::from("\n## Runs in this period\n\n| run | finished | drift items | unapproved | coverage findings |\n|---|---|---|---|---|\n");
        for r in &selected {
            md += &format!(
                "| {} | {} | {} | {} | {} |\n",
                r.id,
                crate::store::ts(r.finished_at),
                r.summary["drift_items"],
                r.summary["unapproved"],
                r.summary["coverage_findings"]
            );
        }
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "md"))
        {
            let mut text = std::fs::read_to_string(f)?;
            text += &md;
            crate::report::write_atomic(f, text.as_bytes())?;
        }
    }
    for f in &files {
        println!("{}", f.display());
    }
    Ok(super::drift::outcome(&report))
}
