//! `netdrift exposure`: the attack surface now (`crate::exposure`), as a table, JSON or Markdown.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::{open_existing, table, Format, Outcome};
use crate::exposure::Row;
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only these scopes: a scope key, a key prefix (`aws:111122223333`) or an account,
    /// project or subscription id.
    #[arg(long)]
    scope: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let store = open_existing(db)?;
    let inputs = Store::load_drift_inputs(&store, &crate::drift::selector(a.scope.as_deref()))?;
    if inputs.is_empty() {
        match &a.scope {
            Some(f) => bail!("no stored snapshot matches --scope {f}"),
            None => {
                bail!("no snapshot is stored yet: run `netdrift run` or `netdrift import` first")
            }
        }
    }
    let doc = crate::exposure::surface(&inputs);
    let cells = |r: &Row| -> Vec<String> {
        vec![
            r.scope.to_string(),
            match &r.entry.workload.instance {
                Some(i) => format!("{i} ({})", r.entry.workload.id),
                None => r.entry.workload.id.clone(),
            },
            r.entry.workload.address.clone().unwrap_or_default(),
            r.entry.workload.ports.join(", "),
            r.sensitive.join(", "),
            r.entry.opened_by.join(", "),
        ]
    };
    const HEADERS: [&str; 6] = [
        "SCOPE",
        "WORKLOAD",
        "ADDRESS",
        "PORTS",
        "SENSITIVE",
        "OPENED BY",
    ];
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
        Format::Table => {
            print!(
                "{}",
                table(&HEADERS, &doc.exposed.iter().map(cells).collect::<Vec<_>>())
            );
            for n in &doc.not_assessed {
                println!(
                    "not assessed: {}: {}",
                    crate::text::terminal(&n.scope),
                    crate::text::terminal(&n.why)
                );
            }
        }
        Format::Markdown => {
            let md = crate::report::md;
            println!("| {} |", HEADERS.join(" | "));
            println!("|{}", "---|".repeat(HEADERS.len()));
            for r in &doc.exposed {
                let c: Vec<String> = cells(r).iter().map(|x| md(x)).collect();
                println!("| {} |", c.join(" | "));
            }
            if !doc.not_assessed.is_empty() {
                println!();
                for n in &doc.not_assessed {
                    println!("- not assessed: {}: {}", md(&n.scope), md(&n.why));
                }
            }
        }
    }
    Ok(Outcome::Ok)
}
