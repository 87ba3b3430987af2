//! `netdrift run`: one full reconcile cycle.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::Config;
use crate::reconcile::{reconcile_once, RunOptions, RunOutcome};

use super::{open_store, parse_time, print_json, Outcome, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Configuration file.
    #[arg(
        long,
        env = "NETDRIFT_CONFIG",
        default_value = "/etc/netdrift/netdrift.toml"
    )]
    config: PathBuf,
    /// Record the snapshots as taken at this time (replaying dumps) [default: now].
    #[arg(long)]
    at: Option<String>,
    /// `json`: one document with the run, what was collected and the drift report (the
    /// fields of `drift --format json`, plus `run_id`, `collected`, `audit_events` and
    /// `report_files`).
    #[arg(long, value_enum, default_value = "text")]
    format: Output,
}

/// A run as one JSON document: the drift report's fields and what the run did.
pub fn outcome_json(o: &RunOutcome) -> serde_json::Value {
    let mut doc = serde_json::to_value(&o.report).expect("a drift report serializes");
    let map = doc.as_object_mut().expect("a drift report is an object");
    map.insert("run_id".into(), o.run_id.into());
    map.insert(
        "collected".into(),
        o.collected
            .iter()
            .map(|(scope, status, n)| {
                serde_json::json!({"scope": scope.as_str(), "status": status.as_str(), "resources": n})
            })
            .collect(),
    );
    map.insert("audit_events".into(), o.audit_events.into());
    map.insert(
        "report_files".into(),
        o.report_files
            .iter()
            .map(|f| serde_json::Value::from(f.display().to_string()))
            .collect(),
    );
    doc
}

pub fn print_outcome(o: &RunOutcome) {
    for (scope, status, n) in &o.collected {
        println!(
            "collected {}: {} ({n} resources)",
            crate::text::terminal(scope),
            status.as_str()
        );
    }
    if o.audit_events > 0 {
        println!("imported {} new audit event(s)", o.audit_events);
    }
    super::drift::print_table(&o.report);
    let unapproved = o.report.drift.iter().filter(|i| i.is_unapproved()).count();
    println!(
        "run {}: {} drift item(s), {} unapproved, {} coverage finding(s)",
        o.run_id,
        o.report.drift.len(),
        unapproved,
        o.report.coverage.len()
    );
    for f in &o.report_files {
        println!("report: {}", f.display());
    }
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let cfg = Config::load(&a.config)?;
    let db = db.clone().or(cfg.database.clone());
    let _lock = crate::lock::DbLock::acquire(
        &db.clone().unwrap_or_else(crate::paths::default_db),
        crate::lock::Wait::Exit,
    )?;
    let mut store = open_store(&db)?;
    let at = a.at.as_deref().map(parse_time).transpose()?;
    let outcome = reconcile_once(
        &mut store,
        &cfg,
        &RunOptions {
            at,
            write_report: true,
            ..Default::default()
        },
    )?;
    match a.format {
        Output::Json => print_json(&outcome_json(&outcome)),
        Output::Text => print_outcome(&outcome),
    }
    Ok(super::drift::outcome(&outcome.report))
}
