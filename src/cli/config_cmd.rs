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
            SourceKind::Aws(a) => println!(
                "  source {:?}: live AWS, regions {}, {} role(s){}",
                s.name,
                a.regions
                    .as_ref()
                    .map(|r| r.join(","))
                    .unwrap_or_else(|| "all".into()),
                a.assume_roles.len(),
                a.organization_role
                    .as_deref()
                    .map(|r| format!(", Organizations discovery with role {r}"))
                    .unwrap_or_default()
            ),
            SourceKind::Gcp(g) => println!(
                "  source {:?}: live GCP, {} project(s){}{}",
                s.name,
                g.projects.len(),
                g.organization
                    .as_deref()
                    .map(|o| format!(", discovery under {o}"))
                    .unwrap_or_default(),
                if g.folders.is_empty() {
                    String::new()
                } else {
                    format!(", folders {}", g.folders.join(","))
                }
            ),
            SourceKind::Azure(z) => println!(
                "  source {:?}: live Azure, subscriptions {}",
                s.name,
                z.subscriptions
                    .as_ref()
                    .map(|v| v.join(","))
                    .unwrap_or_else(|| "all visible".into())
            ),
        }
    }
    println!(
        "  reconcile schedule {:?} ({}), report to {}",
        cfg.schedule.reconcile,
        cfg.schedule.timezone,
        cfg.report.directory.display()
    );
    Ok(Outcome::Ok)
}
