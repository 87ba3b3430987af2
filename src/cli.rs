//! The command-line interface: one module per subcommand, each with its args struct and `run`.
//!
//! Exit status: 0 = done, no unapproved drift; 1 = unapproved drift found (or, for `evidence
//! verify`, the bundle failed verification); 2 = error (the job
//! could not be done); 3 = no unapproved drift, but coverage gaps (a scope could not be read,
//! or has no baseline).

mod actors;
mod audit;
mod baseline;
mod config_cmd;
mod daemon;
mod demo;
mod drift;
mod evidence;
mod exception;
mod exposure;
mod import;
mod manual;
mod plan;
mod report;
mod revert;
mod run;
mod show;
mod snapshots;
mod table;
mod watch;

pub use table::{fitted, output_width, table, Fit};

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use crate::paths::{db_origin, default_db};
use crate::store::SqliteStore;

/// `netdrift --version`: the version and the providers this build can collect from.
const VERSION: &str = {
    const AWS: bool = cfg!(feature = "aws");
    const GCP: bool = cfg!(feature = "gcp");
    const AZURE: bool = cfg!(feature = "azure");
    match (AWS, GCP, AZURE) {
        (true, true, true) => concat!(
            env!("CARGO_PKG_VERSION"),
            " (providers: file, aws, gcp, azure)"
        ),
        (true, true, false) => concat!(env!("CARGO_PKG_VERSION"), " (providers: file, aws, gcp)"),
        (true, false, true) => concat!(env!("CARGO_PKG_VERSION"), " (providers: file, aws, azure)"),
        (false, true, true) => concat!(env!("CARGO_PKG_VERSION"), " (providers: file, gcp, azure)"),
        (true, false, false) => concat!(env!("CARGO_PKG_VERSION"), " (providers: file, aws)"),
        (false, true, false) => concat!(env!("CARGO_PKG_VERSION"), " (providers: file, gcp)"),
        (false, false, true) => concat!(env!("CARGO_PKG_VERSION"), " (providers: file, azure)"),
        (false, false, false) => concat!(env!("CARGO_PKG_VERSION"), " (providers: file)"),
    }
};

#[derive(Parser, Debug)]
#[command(
    name = "netdrift",
    version = VERSION,
    about = "Cloud firewall baseline drift reconciler: snapshot, diff, attribute, report"
)]
pub struct Cli {
    /// SQLite database [default: $NETDRIFT_DB, else $STATE_DIRECTORY/netdrift.db under systemd,
    /// else the platform data directory]
    #[arg(long, global = true, env = "NETDRIFT_DB")]
    pub db: Option<PathBuf>,
    /// Fewer log lines: errors only (`-q`), or none (`-qq`).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    /// More log lines: info (`-v`), debug (`-vv`), trace (`-vvv`). `NETDRIFT_LOG` overrides both.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Colour in log lines: when stderr is a terminal (`auto`, and `NO_COLOR` unset), always or never.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The log level from the command's default and `-q`/`-v`.
pub fn log_level(default_level: &str, quiet: u8, verbose: u8) -> &'static str {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let base = LEVELS.iter().position(|l| *l == default_level).unwrap_or(2) as i32;
    let at = (base - quiet as i32 + verbose as i32).clamp(0, LEVELS.len() as i32 - 1);
    LEVELS[at as usize]
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Import native JSON dumps of one scope as a snapshot.
    Import(import::Args),
    /// List stored snapshots.
    Snapshots(snapshots::Args),
    /// Show a resource as stored, now or at a past time.
    Show(show::Args),
    /// Approve, list, show, import or export baselines.
    #[command(subcommand)]
    Baseline(baseline::Cmd),
    /// Add or list exceptions (approved drift with an owner, reason and expiry).
    #[command(subcommand)]
    Exception(exception::Cmd),
    /// Compute drift of the latest snapshots against the approved baselines.
    Drift(drift::Args),
    /// The attack surface now: every internet-reachable workload, its ports and what opens them.
    Exposure(exposure::Args),
    /// What a Terraform plan (`terraform show -json PLANFILE`) would open beyond the approved
    /// baseline: exit 1 when it opens something not excepted, 0 when nothing.
    Plan(plan::Args),
    /// The exact, minimal calls that restore one drift item's approved access.
    Revert(revert::Args),
    /// Write the drift report for stored runs, in the configured formats: HTML, Markdown, JSON,
    /// CSV, OCSF and ASFF (`[report] formats`; all six by default).
    Report(report::Args),
    /// Who changed, or tried to change, firewall state in a period, from the stored audit
    /// events: class, authentication, changes and failed attempts, flags ranked.
    Actors(actors::Args),
    /// Import control-plane audit logs for attribution.
    #[command(subcommand)]
    Audit(audit::Cmd),
    /// One full reconcile cycle from a configuration file.
    Run(run::Args),
    /// Watch the audit logs and re-read what changes touch (`--once`: one tick).
    Watch(watch::Args),
    /// Run reconciles on the configured schedule (systemd service).
    Daemon(daemon::Args),
    /// Validate a configuration file.
    #[command(subcommand)]
    Config(config_cmd::Cmd),
    /// Run the whole cycle on the bundled two-day demo estate.
    Demo(demo::Args),
    /// Export, verify or sign audit-evidence bundles.
    #[command(subcommand)]
    Evidence(evidence::Cmd),
    /// Print the shell completion script (`netdrift completions bash > /etc/bash_completion.d/netdrift`).
    Completions(manual::CompletionsArgs),
    /// Write the man pages (`netdrift.1` and one per command) into a directory, or print
    /// netdrift(1) when none is given.
    Man(manual::ManArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

/// `--format` of a command that reports what it did: lines for a person, or one JSON document
/// on standard output (warnings stay on standard error).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// Print one pretty JSON document.
pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("a JSON value serializes")
    );
}

/// How a command ended (mapped to the documented exit status).
pub enum Outcome {
    Ok,
    Drift,
    Coverage,
    /// A check failed (`evidence verify`): exit 1.
    Invalid,
    /// The job could not be done, and the command has already said why on standard output
    /// (`config check --format json`): exit 2.
    Error,
}

/// Open (creating if needed) the database a writing command fills.
pub fn open_store(db: &Option<PathBuf>) -> Result<SqliteStore> {
    let path = db.clone().unwrap_or_else(default_db);
    SqliteStore::open(&path)
}

/// Open a database that must exist: read-only commands never create one (a mistyped `--db`
/// names itself and where it came from, with exit status 2).
pub fn open_existing(db: &Option<PathBuf>) -> Result<SqliteStore> {
    let path = db.clone().unwrap_or_else(default_db);
    SqliteStore::open_existing(&path, db_origin(db))
}

pub use crate::clock::parse_time;

/// Logging to stderr at `level` (`NETDRIFT_LOG` overrides it). The scheduler's own bookkeeping
/// ("Uninited", "Job creator created") stays out of the journal unless asked for with
/// `NETDRIFT_LOG`. Colour only on a terminal, never with `NO_COLOR`, unless `--color` says.
pub fn init_logging(level: &str, color: ColorChoice) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NETDRIFT_LOG").unwrap_or_else(|_| {
        let quiet_deps = if matches!(level, "debug" | "trace") {
            String::new()
        } else {
            ",tokio_cron_scheduler=warn".to_string()
        };
        tracing_subscriber::EnvFilter::new(format!("{level}{quiet_deps}"))
    });
    let ansi = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::text::SafeStderr::new)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

/// A reader that closes the pipe early (`netdrift drift | head -1`) ends the program quietly
/// with 141 (128 + SIGPIPE, what the shell reports for other tools killed by it), never a panic
/// message and exit 101.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

pub fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Daemon(_)) {
        "info"
    } else {
        "warn"
    };
    init_logging(log_level(default_level, cli.quiet, cli.verbose), cli.color);
    if matches!(cli.command, Command::Run(_) | Command::Demo(_)) {
        crate::progress::enable(cli.quiet > 0);
    }
    if let Some(mib) = std::env::var("NETDRIFT_MAX_DECOMPRESSED_MIB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        netdrift_provider_file::set_max_decompressed(mib.saturating_mul(1 << 20));
    }
    if let Err(e) = crate::clock::fixed() {
        eprintln!("netdrift: error: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Import(a) => import::run(&cli.db, a),
        Command::Snapshots(a) => snapshots::run(&cli.db, a),
        Command::Show(a) => show::run(&cli.db, a),
        Command::Baseline(c) => baseline::run(&cli.db, c),
        Command::Exception(c) => exception::run(&cli.db, c),
        Command::Drift(a) => drift::run(&cli.db, a),
        Command::Exposure(a) => exposure::run(&cli.db, a),
        Command::Plan(a) => plan::run(&cli.db, a),
        Command::Revert(a) => revert::run(&cli.db, a),
        Command::Report(a) => report::run(&cli.db, a),
        Command::Actors(a) => actors::run(&cli.db, a),
        Command::Audit(c) => audit::run(&cli.db, c),
        Command::Run(a) => run::run(&cli.db, a),
        Command::Watch(a) => watch::run(&cli.db, a),
        Command::Daemon(a) => daemon::run(&cli.db, a),
        Command::Config(c) => config_cmd::run(c),
        Command::Demo(a) => demo::run(&cli.db, a),
        Command::Evidence(c) => evidence::run(&cli.db, c),
        Command::Completions(a) => manual::completions(a),
        Command::Man(a) => manual::man(a),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Drift | Outcome::Invalid) => ExitCode::from(1),
        Ok(Outcome::Coverage) => ExitCode::from(3),
        Ok(Outcome::Error) => ExitCode::from(2),
        Err(e) => {
            eprintln!("netdrift: error: {}", error_line(&e));
            ExitCode::from(2)
        }
    }
}

/// One line for an error: each cause once (a cause whose text its parent already quotes is not
/// repeated), secrets redacted, control characters escaped.
pub fn error_line(e: &anyhow::Error) -> String {
    // Every problem of a configuration on its own line (each still escaped for the terminal).
    if let Some(c) = e.downcast_ref::<crate::config::ConfigErrors>() {
        let mut out =
            crate::text::terminal(&format!("{}: {} problem(s):", c.file, c.problems.len()))
                .into_owned();
        for p in &c.problems {
            out += "\n  - ";
            out += &crate::text::terminal(&crate::text::redact(p));
        }
        return out;
    }
    crate::text::terminal(&crate::text::redact(&crate::text::causes(&**e))).into_owned()
}
