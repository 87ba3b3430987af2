//! `netdrift snapshots`: the stored snapshots.

use std::path::PathBuf;

use anyhow::Result;

use super::{open_existing, table, Format, Outcome};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this scope (provider:account[:region]).
    #[arg(long)]
    scope: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let store = open_existing(db)?;
    let rows = store.snapshots(a.scope.as_deref())?;
    match a.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema_version": 1, "snapshots": rows})
            )?
        ),
        _ => {
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.scope.to_string(),
                        crate::store::ts(r.taken_at),
                        crate::store::ts(r.seen_at),
                        r.status.as_str().to_string(),
                        r.resource_count.to_string(),
                        r.rule_count.to_string(),
                        r.problems
                            .iter()
                            .map(|p| format!("{}: {}", p.code, p.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        "ID",
                        "SCOPE",
                        "TAKEN AT",
                        "LAST SEEN",
                        "STATUS",
                        "RESOURCES",
                        "RULES",
                        "PROBLEMS"
                    ],
                    &body
                )
            );
        }
    }
    Ok(Outcome::Ok)
}
