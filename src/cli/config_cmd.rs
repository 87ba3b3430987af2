//! `netdrift config check`: validate a configuration and report every problem at once, each at
//! the line of the key it is about, sorted by line; files it names that cannot be read are
//! problems too.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::{Config, SourceKind};

use super::{print_json, Outcome, Output};

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Validate a configuration file.
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    file: PathBuf,
    /// `json`: `{"file", "ok", "problems": [{"line", "message"}], "sources", …}`; the exit
    /// status is the same (2 when there is a problem).
    #[arg(long, value_enum, default_value = "text")]
    format: Output,
}

/// `line N: message` → (N, message); a problem without a line (the file cannot be read) has 0.
fn split_line(p: &str) -> (usize, &str) {
    p.strip_prefix("line ")
        .and_then(|r| r.split_once(": "))
        .and_then(|(n, m)| n.parse().ok().map(|n| (n, m)))
        .unwrap_or((0, p))
}

pub fn run(cmd: Cmd) -> Result<Outcome> {
    let Cmd::Check(a) = cmd;
    let file = a.file.display().to_string();
    let (cfg, problems) = match Config::load(&a.file) {
        Ok(cfg) => {
            let p = cfg.unreadable_files.clone();
            (Some(cfg), p)
        }
        Err(e) if a.format == Output::Json => (None, e.problems),
        Err(e) => return Err(e.into()),
    };
    if a.format == Output::Json {
        let sources: Vec<serde_json::Value> = cfg
            .iter()
            .flat_map(|c| &c.sources)
            .map(|s| match &s.kind {
                SourceKind::Files { scope, files } => serde_json::json!({
                    "name": s.name, "kind": "files", "scope": scope.key(),
                    "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                }),
                SourceKind::Live(live) => serde_json::json!({
                    "name": s.name, "kind": "live", "describe": live.source().describe(),
                }),
            })
            .collect();
        print_json(&serde_json::json!({
            "file": file,
            "ok": problems.is_empty(),
            "problems": problems.iter().map(|p| {
                let (line, message) = split_line(p);
                serde_json::json!({"line": line, "message": message})
            }).collect::<Vec<_>>(),
            "sources": sources,
            "schedule": cfg.as_ref().map(|c| serde_json::json!({
                "reconcile": c.schedule.reconcile.expr(),
                "timezone": c.schedule.timezone.to_string(),
            })),
            "report_directory": cfg.as_ref().map(|c| c.report.directory.display().to_string()),
        }));
        return Ok(if problems.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Error
        });
    }
    let cfg = cfg.expect("a configuration that loaded");
    if !problems.is_empty() {
        return Err(crate::config::ConfigErrors { file, problems }.into());
    }
    println!("{file}: ok");
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
