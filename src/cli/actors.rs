//! `netdrift actors`: who changed, or tried to change, firewall state in a period
//! (`crate::actors`), as a table, JSON, Markdown or CSV.

use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{open_existing, parse_time, table, Outcome};
use crate::actors::ActorRow;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorsFormat {
    Table,
    Json,
    Markdown,
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Start of the period (`2026-11-01` or RFC 3339); default 30 days before `--to`.
    #[arg(long, value_parser = parse_time)]
    from: Option<DateTime<Utc>>,
    /// End of the period; default now.
    #[arg(long, value_parser = parse_time)]
    to: Option<DateTime<Utc>>,
    /// Only events in these scopes: a scope key, a key prefix (`aws:111122223333`) or an
    /// account, project or subscription id.
    #[arg(long)]
    scope: Option<String>,
    /// The configuration whose `[attribution]` patterns (automation, break-glass) and
    /// `[[change_window]]`s classify the actors.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: ActorsFormat,
}

const HEADERS: [&str; 9] = [
    "PRINCIPAL",
    "CLASS",
    "AUTHENTICATION",
    "CHANGES",
    "FAILED",
    "OUTSIDE WINDOWS",
    "FIRST / LAST SEEN",
    "SOURCES / TOOLS",
    "FLAGS",
];

fn cells(r: &ActorRow) -> Vec<String> {
    let ts = netdrift_snapshots::time::secs;
    vec![
        r.principal.clone(),
        r.class.to_string(),
        r.authentication.join("; "),
        format!("{} on {} resource(s)", r.changes, r.resources.len()),
        r.failed
            .iter()
            .map(|(code, n)| format!("{n} {code}"))
            .collect::<Vec<_>>()
            .join(", "),
        r.outside_change_windows
            .map(|n| n.to_string())
            .unwrap_or_else(|| "-".into()),
        format!("{} / {}", ts(r.first_seen), ts(r.last_seen)),
        r.source_ips
            .iter()
            .chain(&r.tools)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        r.flags.join(", "),
    ]
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let (attribution, windows) = match &a.config {
        Some(p) => {
            let cfg = crate::config::Config::load(p)?;
            (cfg.attribution, cfg.change_windows)
        }
        None => (Default::default(), Vec::new()),
    };
    let store = open_existing(db)?;
    let to = a.to.unwrap_or_else(crate::clock::now);
    let from = a.from.unwrap_or(to - chrono::Duration::days(30));
    if from > to {
        anyhow::bail!(
            "--from {} is after --to {}",
            netdrift_snapshots::time::secs(from),
            netdrift_snapshots::time::secs(to)
        );
    }
    let rows =
        crate::actors::of_period(&store, &attribution, &windows, a.scope.as_deref(), from, to)?
            .actors;
    match a.format {
        ActorsFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "from": netdrift_snapshots::time::secs(from),
                "to": netdrift_snapshots::time::secs(to),
                "scope": a.scope,
                "actors": rows,
            }))?
        ),
        ActorsFormat::Table => {
            if rows.is_empty() {
                println!(
                    "no firewall change or attempt is stored for {} to {}",
                    netdrift_snapshots::time::secs(from),
                    netdrift_snapshots::time::secs(to)
                );
            } else {
                print!(
                    "{}",
                    table(&HEADERS, &rows.iter().map(cells).collect::<Vec<_>>())
                );
            }
        }
        ActorsFormat::Markdown => {
            let md = crate::report::md;
            println!("| {} |", HEADERS.join(" | "));
            println!("|{}", "---|".repeat(HEADERS.len()));
            for r in &rows {
                let c: Vec<String> = cells(r).iter().map(|x| md(x)).collect();
                println!("| {} |", c.join(" | "));
            }
        }
        ActorsFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "principal",
                "class",
                "authentication",
                "changes",
                "failed",
                "resources",
                "scopes",
                "outside_change_windows",
                "first_seen",
                "last_seen",
                "source_ips",
                "tools",
                "flags",
            ])?;
            for r in &rows {
                w.write_record([
                    r.principal.clone(),
                    r.class.to_string(),
                    r.authentication.join("; "),
                    r.changes.to_string(),
                    r.failed
                        .iter()
                        .map(|(c, n)| format!("{c}={n}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    r.resources.join(" "),
                    r.scopes.join(" "),
                    r.outside_change_windows
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    netdrift_snapshots::time::secs(r.first_seen),
                    netdrift_snapshots::time::secs(r.last_seen),
                    r.source_ips.join(" "),
                    r.tools.join(" "),
                    r.flags.join(" "),
                ])?;
            }
            w.flush()?;
        }
    }
    Ok(Outcome::Ok)
}
