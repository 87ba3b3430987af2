//! `netdrift exception`: approve one drift item, for exactly the access it opened, until a date.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::store::NewException;

use super::{open_existing, parse_time, table, Format, Outcome};

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Except one drift item (by its id from `netdrift drift`).
    Add(AddArgs),
    /// List exceptions.
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    drift_id: String,
    /// Owner of the exception.
    #[arg(long)]
    by: String,
    #[arg(long)]
    reason: Option<String>,
    /// Expiry (2026-12-31 or RFC 3339); required.
    #[arg(long)]
    expires: Option<String>,
    #[arg(long)]
    ticket: Option<String>,
    /// Configuration whose severity settings apply.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(db: &Option<PathBuf>, cmd: Cmd) -> Result<Outcome> {
    let mut store = open_existing(db)?;
    match cmd {
        Cmd::Add(a) => {
            let Some(reason) = a.reason.filter(|r| !r.trim().is_empty()) else {
                bail!("an exception needs --reason: say why this drift is acceptable");
            };
            let Some(expires) = a.expires else {
                bail!("an exception needs --expires DATE: exceptions never last forever");
            };
            let expires_at = parse_time(&expires)?;
            let cfg = super::drift::settings(a.config.as_deref())?;
            let (items, _) = crate::drift::compute(
                &store.load_drift_inputs(&crate::drift::selector(None))?,
                &cfg.drift,
                crate::clock::now(),
            )?;
            let item = items
                .into_iter()
                .find(|c| c.item.id == a.drift_id)
                .with_context(|| {
                    format!(
                        "no current drift item {:?} (run `netdrift drift` to list them)",
                        a.drift_id
                    )
                })?;
            let envelope = serde_json::to_value(&item.allowed)?;
            let id = store.add_exception(
                &NewException {
                    drift_id: &item.item.id,
                    scope: &item.item.scope,
                    resource: &item.item.resource,
                    direction: item.item.direction,
                    envelope,
                    owner: &a.by,
                    reason: &reason,
                    ticket: a.ticket.as_deref(),
                    expires_at,
                },
                crate::clock::now(),
            )?;
            println!(
                "exception {id}: {} {} ({}) excepted until {} for: {}",
                item.item.resource,
                item.item.direction.as_str(),
                item.item.scope,
                crate::store::ts(expires_at),
                item.item
                    .newly_allowed
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        Cmd::List(a) => {
            let rows = store.exceptions(None, None)?;
            if a.format == Format::Json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"schema_version": 1, "exceptions": rows})
                    )?
                );
            } else {
                let body: Vec<Vec<String>> = rows
                    .iter()
                    .map(|e| {
                        vec![
                            e.id.to_string(),
                            e.scope.to_string(),
                            e.resource.clone(),
                            e.direction.clone(),
                            e.owner.clone(),
                            crate::store::ts(e.expires_at),
                            e.reason.clone(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table(
                        &["ID", "SCOPE", "RESOURCE", "DIR", "OWNER", "EXPIRES", "REASON"],
                        &body
                    )
                );
            }
        }
    }
    Ok(Outcome::Ok)
}
