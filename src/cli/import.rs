//! `netdrift import`: native dumps of one scope become one snapshot.

use std::path::PathBuf;

use anyhow::{bail, Result};
use chrono::Utc;

use netdrift_snapshots::{Provider, Scope};

use super::{open_store, parse_time, print_json, Outcome, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// aws, gcp or azure
    #[arg(long)]
    provider: Provider,
    /// Account id, GCP project or Azure subscription the dumps belong to.
    #[arg(long)]
    scope: String,
    /// AWS region (required for AWS).
    #[arg(long)]
    region: Option<String>,
    /// When the dumps were taken [default: now].
    #[arg(long)]
    at: Option<String>,
    /// Dump files (aws ec2 describe-*, gcloud/REST firewall lists, ARM/az NSG lists).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Output,
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    if a.provider == Provider::Aws && a.region.is_none() {
        bail!("--region is required for AWS dumps");
    }
    let at =
        a.at.as_deref()
            .map(parse_time)
            .transpose()?
            .unwrap_or_else(Utc::now);
    let region = if a.provider == Provider::Aws {
        a.region.clone()
    } else {
        None
    };
    let scope = Scope::new(a.provider, a.scope.clone(), region);
    // Convert everything before touching the database: a bad file stores nothing.
    let collected = netdrift_provider_file::import_scope(&scope, &a.files)?;
    let rules: usize = collected.resources.iter().map(|r| r.rules.len()).sum();
    let n = collected.resources.len();
    let mut store = open_store(db)?;
    let source = format!(
        "import:{}",
        a.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let id = store.insert_snapshot(&collected, &source, at)?;
    match a.format {
        Output::Json => print_json(&serde_json::json!({
            "snapshot_id": id,
            "scope": scope.key(),
            "taken_at": crate::store::ts(at),
            "resources": n,
            "rules": rules,
            "files": a.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        })),
        Output::Text => println!(
            "snapshot {id}: {} at {}: {n} resources, {rules} rules",
            scope.key(),
            crate::store::ts(at)
        ),
    }
    Ok(Outcome::Ok)
}
