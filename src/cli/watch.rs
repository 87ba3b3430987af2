//! `netdrift watch`: continuous detection from the command line. `--once` is one tick (for
//! cron and tests); without it, a tick every `[watch] interval_seconds` until interrupted.

use std::path::PathBuf;

use anyhow::Result;

use crate::config::Config;
use crate::watch::{watch_once, WatchOutcome};

use super::{open_store, Outcome};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchFormat {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Configuration file.
    #[arg(
        long,
        env = "NETDRIFT_CONFIG",
        default_value = "/etc/netdrift/netdrift.toml"
    )]
    config: PathBuf,
    /// One tick, then exit (status as `netdrift run`: 1 unapproved drift in what the tick
    /// re-read, 3 coverage findings, 0 otherwise).
    #[arg(long)]
    once: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: WatchFormat,
}

fn print(o: &WatchOutcome, format: WatchFormat) {
    if format == WatchFormat::Json {
        let doc = serde_json::json!({
            "run_id": o.run_id,
            "scopes": o.scopes,
            "unwatched": o.unwatched,
            "new_events": o.new_events,
            "drift": o.report.drift,
            "coverage": o.report.coverage,
            "delivered": {"items": o.delivered.items, "coverage": o.delivered.coverage, "resolved": o.delivered.resolved, "failed": o.delivered.failed},
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("serializes")
        );
        return;
    }
    let t = crate::text::terminal;
    for s in &o.scopes {
        let what = match (&s.whole, s.reread.is_empty() && s.gone.is_empty()) {
            (Some(why), _) => format!(", re-collected whole ({})", t(why)),
            (None, false) => format!(
                ", re-read {}{}",
                t(&s.reread.join(" ")),
                if s.gone.is_empty() {
                    String::new()
                } else {
                    format!(", gone {}", t(&s.gone.join(" ")))
                }
            ),
            (None, true) => String::new(),
        };
        if s.read {
            println!("watched {}: {} event(s){what}", t(&s.scope), s.events);
        } else {
            println!("watched {}: audit log not read{what}", t(&s.scope));
        }
    }
    for u in &o.unwatched {
        println!("not watched {}: the nightly run covers it", t(u));
    }
    super::drift::print_table(&o.report);
    match o.run_id {
        Some(id) => println!(
            "watch run {id}: {} drift item(s), {} unapproved, {} coverage finding(s); delivered {}, resolved {}{}",
            o.report.drift.len(),
            o.report.drift.iter().filter(|i| i.is_unapproved()).count(),
            o.report.coverage.len(),
            o.delivered.items + o.delivered.coverage,
            o.delivered.resolved,
            o.delivered
                .failed
                .as_deref()
                .map(|e| format!(" (webhook failed: {}; sent again next tick)", t(e)))
                .unwrap_or_default()
        ),
        None => println!("watch: {} new audit event(s), nothing re-read", o.new_events),
    }
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let cfg = Config::load(&a.config)?;
    let db = db.clone().or(cfg.database.clone());
    let path = db.clone().unwrap_or_else(crate::paths::default_db);
    let interval = cfg
        .watch
        .as_ref()
        .map(|w| w.interval)
        .unwrap_or(std::time::Duration::from_secs(300));
    loop {
        let outcome = {
            let _lock = crate::lock::DbLock::acquire(&path, crate::lock::Wait::Exit)?;
            let mut store = open_store(&db)?;
            watch_once(&mut store, &cfg, &netdrift_provider_api::Shutdown::new())?
        };
        print(&outcome, a.format);
        if a.once {
            return Ok(super::drift::outcome(&outcome.report));
        }
        std::thread::sleep(interval);
    }
}
