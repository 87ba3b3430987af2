//! `netdrift baseline`: versioned approvals of the collected state, and hand-written baseline
//! files.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::store::BaselineSelector;

use super::{open_existing, open_store, table, Format, Outcome};

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Make the latest collected state the approved baseline (all scopes, one scope or one resource).
    Approve(ApproveArgs),
    /// List baselines.
    List(ListArgs),
    /// Show one past baseline.
    Show(ShowArgs),
    /// Import a hand-written baseline file (docs/baseline-file.md).
    Import(ImportArgs),
    /// Print the approved state of every (or one) scope in the baseline-file format.
    Export(ExportArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["all", "scope", "resource"])))]
pub struct ApproveArgs {
    #[arg(long)]
    all: bool,
    #[arg(long)]
    scope: Option<String>,
    #[arg(long)]
    resource: Option<String>,
    /// Who approves.
    #[arg(long)]
    by: String,
    /// Why.
    #[arg(long)]
    reason: String,
    #[arg(long)]
    ticket: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    id: i64,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    file: PathBuf,
    #[arg(long)]
    by: String,
    #[arg(long)]
    reason: String,
    #[arg(long)]
    ticket: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[arg(long)]
    scope: Option<String>,
}

pub fn run(db: &Option<PathBuf>, cmd: Cmd) -> Result<Outcome> {
    // Only an import of a file that parsed may create the database; everything else needs one.
    if let Cmd::Import(a) = cmd {
        let (scopes, patterns) = crate::baseline_file::load_all(&a.file)?;
        let mut store = open_store(db)?;
        let origin = format!("file:{}", a.file.display());
        let (id, n) = store.import_baseline(
            &scopes,
            &patterns,
            &a.by,
            &a.reason,
            a.ticket.as_deref(),
            &origin,
            crate::clock::now(),
        )?;
        println!(
            "baseline {id}: imported {n} entries for {} scope(s){} from {}",
            scopes.len(),
            if patterns.is_empty() {
                String::new()
            } else {
                format!(" and {} pattern exception(s)", patterns.len())
            },
            a.file.display()
        );
        return Ok(Outcome::Ok);
    }
    let mut store = open_existing(db)?;
    match cmd {
        Cmd::Approve(a) => {
            let sel = match (a.all, a.scope, a.resource) {
                (true, _, _) => BaselineSelector::All,
                (_, Some(s), _) => BaselineSelector::Scope(s),
                (_, _, Some(r)) => {
                    BaselineSelector::Resource(if r.starts_with("/subscriptions/") {
                        r.to_ascii_lowercase()
                    } else {
                        r
                    })
                }
                _ => bail!("say what to approve: --all, --scope or --resource"),
            };
            let (id, n) = store.approve(
                &sel,
                &a.by,
                &a.reason,
                a.ticket.as_deref(),
                crate::clock::now(),
            )?;
            println!(
                "baseline {id}: approved {} ({n} entries) by {}",
                sel.describe(),
                a.by
            );
        }
        Cmd::List(a) => {
            let rows = store.baselines()?;
            if a.format == Format::Json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"schema_version": 1, "baselines": rows})
                    )?
                );
            } else {
                let body: Vec<Vec<String>> = rows
                    .iter()
                    .map(|b| {
                        vec![
                            b.id.to_string(),
                            crate::store::ts(b.created_at),
                            b.approved_by.clone(),
                            b.selector.clone(),
                            b.entries.to_string(),
                            b.ticket.clone().unwrap_or_default(),
                            b.reason.clone(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table(
                        &[
                            "ID",
                            "APPROVED AT",
                            "BY",
                            "WHAT",
                            "ENTRIES",
                            "TICKET",
                            "REASON"
                        ],
                        &body
                    )
                );
            }
        }
        Cmd::Show(a) => {
            let Some(meta) = store.baselines()?.into_iter().find(|b| b.id == a.id) else {
                bail!("no baseline {}", a.id)
            };
            let entries = store.baseline_entries(a.id)?;
            if a.format == Format::Json {
                let e: Vec<_> = entries
                    .iter()
                    .map(|(s, r, res)| serde_json::json!({"scope": s, "resource": r, "state": res}))
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"schema_version": 1, "baseline": meta, "entries": e})
                    )?
                );
            } else {
                println!(
                    "baseline {} approved {} by {}: {} ({})",
                    meta.id,
                    crate::store::ts(meta.created_at),
                    meta.approved_by,
                    meta.reason,
                    meta.selector
                );
                for (s, r, res) in entries {
                    match res {
                        Some(res) => println!(
                            "  {s}  {r}  {} rules  {}",
                            res.rules.len(),
                            netdrift_snapshots::state_hash(&res)
                        ),
                        None => println!("  {s}  {r}  approved as absent"),
                    }
                }
            }
        }
        Cmd::Import(_) => unreachable!("handled above"),
        Cmd::Export(a) => {
            let mut out = Vec::new();
            for scope in store.scopes()? {
                if a.scope.as_deref().is_some_and(|s| s != scope.key()) {
                    continue;
                }
                if let Some(state) = store.approved_state(&scope.key(), None)? {
                    out.push((scope, state));
                }
            }
            // Every pattern the baseline files brought, whichever scope is exported: a pattern
            // may select resources in several.
            print!(
                "{}",
                crate::baseline_file::export(&out, &store.stored_patterns()?)?
            );
        }
    }
    Ok(Outcome::Ok)
}
