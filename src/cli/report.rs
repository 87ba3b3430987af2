//! `netdrift report`: write the drift report (Markdown and JSON) for a stored run or for now.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::Utc;

use crate::drift::{self, CoverageFinding, DriftItem};

use super::{open_store, Outcome};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Configuration (report directory and formats, settings).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Report directory [default: the configured one, else ./reports].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Render this stored run instead of the latest one.
    #[arg(long)]
    run: Option<i64>,
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let store = open_store(db)?;
    let mut cfg = super::drift::settings(a.config.as_deref())?;
    if let Some(out) = a.out {
        cfg.report.directory = out;
    }
    let runs = store.runs(100_000)?;
    let run = match a.run {
        Some(id) => runs
            .iter()
            .find(|r| r.id == id)
            .with_context(|| format!("no run {id}"))?
            .clone(),
        None => match runs.last() {
            Some(r) => r.clone(),
            None => bail!("no reconcile run is stored yet: run `netdrift run` first"),
        },
    };
    let items: Vec<DriftItem> = store
        .run_items(run.id)?
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?;
    let coverage: Vec<CoverageFinding> = store.run_coverage(run.id)?;
    let when = crate::store::parse_ts(&run.finished_at).unwrap_or_else(|_| Utc::now());
    let report = drift::report(drift::sorted(items), coverage, when);
    let files = crate::report::write_reports(&store, &cfg, run.id, &report)?;
    for f in &files {
        println!("{}", f.display());
    }
    Ok(super::drift::outcome(&report))
}
