//! `netdrift audit import`: control-plane audit logs for attribution.

use std::path::PathBuf;

use anyhow::Result;

use netdrift_snapshots::Provider;

use super::{open_store, print_json, Outcome, Output};

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Import CloudTrail, GCP audit log or Azure Activity Log files (gzip accepted).
    Import(ImportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[arg(long)]
    provider: Provider,
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Output,
}

pub fn run(db: &Option<PathBuf>, cmd: Cmd) -> Result<Outcome> {
    let Cmd::Import(a) = cmd;
    // Parse first: a file that cannot be read creates no database and stores nothing.
    let parsed = crate::audit::parse_files(a.provider, &a.files)?;
    let mut store = open_store(db)?;
    let s = crate::audit::store_parsed(&mut store, a.provider, parsed)?;
    match a.format {
        Output::Json => print_json(&serde_json::json!({
            "files": s.files,
            "new_events": s.new_events,
            "already_stored": s.duplicate_events,
            "not_about_exposure": s.ignored,
            "skipped": s.skipped,
        })),
        Output::Text => println!(
            "{} file(s): {} new event(s), {} already stored, {} not about network exposure, {} malformed record(s) skipped",
            s.files,
            s.new_events,
            s.duplicate_events,
            s.ignored,
            s.skipped.len()
        ),
    }
    // Once per record, the first 20; the count says how many more.
    for w in s.skipped.iter().take(20) {
        eprintln!("warning: skipped {w}");
    }
    if s.skipped.len() > 20 {
        eprintln!(
            "warning: … and {} more malformed record(s)",
            s.skipped.len() - 20
        );
    }
    Ok(Outcome::Ok)
}
