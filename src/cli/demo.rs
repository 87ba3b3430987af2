//! `netdrift demo`: the whole cycle on the bundled two-day estate, with no cloud account.
//!
//! It writes the embedded estate into a directory, collects day 1 and approves it as the
//! baseline, then collects day 2 with its audit logs, reconciles, attributes and writes the
//! report. The demo owns its directory: its database is recreated on every run.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::reconcile::{reconcile_once, RunOptions};
use crate::store::{BaselineSelector, SqliteStore};

use super::{parse_time, print_json, Outcome, Output};

/// The bundled demo estate (demo/ in the repository), embedded in the binary.
pub const FILES: &[(&str, &str)] = &[
    (
        "audit/azure-activity.json",
        include_str!("../../demo/audit/azure-activity.json"),
    ),
    (
        "audit/cloudtrail-2026-11-24.json",
        include_str!("../../demo/audit/cloudtrail-2026-11-24.json"),
    ),
    (
        "audit/gcp-activity.json",
        include_str!("../../demo/audit/gcp-activity.json"),
    ),
    (
        "aws-eu/day1/security-groups.json",
        include_str!("../../demo/aws-eu/day1/security-groups.json"),
    ),
    (
        "aws-eu/day2/security-groups.json",
        include_str!("../../demo/aws-eu/day2/security-groups.json"),
    ),
    (
        "aws/day1/network-acls.json",
        include_str!("../../demo/aws/day1/network-acls.json"),
    ),
    (
        "aws/day1/security-groups.json",
        include_str!("../../demo/aws/day1/security-groups.json"),
    ),
    (
        "aws/day2/network-acls.json",
        include_str!("../../demo/aws/day2/network-acls.json"),
    ),
    (
        "aws/day2/security-groups.json",
        include_str!("../../demo/aws/day2/security-groups.json"),
    ),
    (
        "aws/workloads/network-interfaces.json",
        include_str!("../../demo/aws/workloads/network-interfaces.json"),
    ),
    (
        "aws/workloads/route-tables.json",
        include_str!("../../demo/aws/workloads/route-tables.json"),
    ),
    (
        "aws/workloads/subnets.json",
        include_str!("../../demo/aws/workloads/subnets.json"),
    ),
    (
        "azure/day1/nsgs.json",
        include_str!("../../demo/azure/day1/nsgs.json"),
    ),
    (
        "azure/day2/nsgs.json",
        include_str!("../../demo/azure/day2/nsgs.json"),
    ),
    ("changes.csv", include_str!("../../demo/changes.csv")),
    (
        "gcp/day1/firewalls.json",
        include_str!("../../demo/gcp/day1/firewalls.json"),
    ),
    (
        "gcp/day1/firewall-policies.json",
        include_str!("../../demo/gcp/day1/firewall-policies.json"),
    ),
    (
        "gcp/day2/firewalls.json",
        include_str!("../../demo/gcp/day2/firewalls.json"),
    ),
    (
        "gcp/day2/firewall-policies.json",
        include_str!("../../demo/gcp/day2/firewall-policies.json"),
    ),
    (
        "netdrift-day1.toml",
        include_str!("../../demo/netdrift-day1.toml"),
    ),
    ("netdrift.toml", include_str!("../../demo/netdrift.toml")),
];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to write the demo estate, database and reports into.
    #[arg(long, default_value = "netdrift-demo")]
    dir: PathBuf,
    /// `json`: one document with day 1's collection and baseline and day 2's run (as `run
    /// --format json` prints it).
    #[arg(long, value_enum, default_value = "text")]
    format: Output,
}

/// Write the embedded estate into `dir`.
pub fn write_estate(dir: &std::path::Path) -> Result<()> {
    for (name, body) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The demo writes only its own database, `DIR/netdrift.db`: `--db` and `NETDRIFT_DB` never
/// point it at another one (an operator's shell often has `NETDRIFT_DB` set). An existing
/// `DIR/netdrift.db` that the demo did not make is refused and left as it is; the demo takes the
/// writer lock like every writer before it recreates its own.
pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let db_path = a.dir.join("netdrift.db");
    if let Some(other) = db.as_ref().filter(|d| !same_file(d, &db_path)) {
        eprintln!(
            "netdrift: note: the demo writes only its own database {}; {} (from --db or NETDRIFT_DB) is not touched",
            db_path.display(),
            other.display()
        );
    }
    if db_path.exists() && !SqliteStore::is_demo_database(&db_path).unwrap_or(false) {
        anyhow::bail!(
            "{} exists and is not a demo database: the demo recreates only its own database, so it changed nothing. \
             Choose another --dir",
            db_path.display()
        );
    }
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create {}", a.dir.display()))?;
    let _lock = crate::lock::DbLock::acquire(&db_path, crate::lock::Wait::Exit)?;
    write_estate(&a.dir)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let mut store = SqliteStore::open(&db_path)?;
    store.mark_demo()?;
    let day1 = Config::load(&a.dir.join("netdrift-day1.toml"))?;
    let day2 = Config::load(&a.dir.join("netdrift.toml"))?;
    let text = a.format == Output::Text;
    if text {
        println!("== day 1: collecting the estate as it was approved ==");
    }
    let first = reconcile_once(
        &mut store,
        &day1,
        &RunOptions {
            at: Some(parse_time("2026-11-24T02:00:00Z")?),
            write_report: false,
            ..Default::default()
        },
    )?;
    for (scope, status, n) in first.collected.iter().filter(|_| text) {
        println!("collected {scope}: {} ({n} resources)", status.as_str());
    }
    let (id, n) = store.approve(
        &BaselineSelector::All,
        "demo",
        "initial review of the demo estate",
        Some("DEMO-1"),
        parse_time("2026-11-24T03:00:00Z")?,
    )?;
    if text {
        println!("baseline {id}: approved all scopes ({n} entries)\n");
        println!("== day 2: collecting again, importing audit logs, reconciling ==");
    }
    let second = reconcile_once(
        &mut store,
        &day2,
        &RunOptions {
            at: Some(parse_time("2026-11-25T02:00:00Z")?),
            write_report: true,
            ..Default::default()
        },
    )?;
    if text {
        super::run::print_outcome(&second);
        println!("\ndatabase: {}", db_path.display());
    } else {
        print_json(&serde_json::json!({
            "day1": {
                "run_id": first.run_id,
                "collected": super::run::outcome_json(&first)["collected"],
                "baseline": {"id": id, "entries": n},
            },
            "day2": super::run::outcome_json(&second),
            "database": db_path.display().to_string(),
        }));
    }
    Ok(super::drift::outcome(&second.report))
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b
        || match (
            std::fs::canonicalize(a),
            b.parent().map(std::fs::canonicalize),
        ) {
            (Ok(x), Some(Ok(dir))) => b.file_name().is_some_and(|n| x == dir.join(n)),
            _ => false,
        }
}
