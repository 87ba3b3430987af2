//! `netdrift config check`: validate a configuration and report every problem at once.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::{Config, SourceKind};

use super::Outcome;

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Validate a configuration file.
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    file: PathBuf,
}

pub fn run(cmd: Cmd) -> Result<Outcome> {
    let Cmd::Check(a) = cmd;
    let cfg = Config::load(&a.file)?;
    println!("{}: ok", a.file.display());
    for s in &cfg.sources {
        match &s.kind {
            SourceKind::Files { scope, files } => println!(
                "  source {:?}: {} from {} file(s)",
                s.name,
                scope.key(),
                files.len()
            ),
            SourceKind::Live(live) => {
                println!("  source {:?}: {}", s.name, live.source().describe())
            }
        }
    }
    println!(
        "  reconcile schedule {:?} ({}), report to {}",
        cfg.schedule.reconcile.expr(),
        cfg.schedule.timezone,
        cfg.report.directory.display()
    );
    Ok(Outcome::Ok)
}
