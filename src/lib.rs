//! netdrift: cloud firewall baseline drift reconciler.
//!
//! The root crate holds everything that knows about files, SQLite, time, configuration and
//! output formats. The pure model and diff live in `netdrift-snapshots`; reading clouds and
//! their dumps lives in `providers/*`.

pub mod actors;
pub mod attribution;
pub mod audit;
pub mod baseline_file;
pub mod cli;
pub mod clock;
pub mod config;
pub mod controls;
pub mod daemon;
pub mod drift;
pub mod evidence;
pub mod exposure;
pub mod findings;
pub mod iac;
pub mod lock;
pub mod paths;
pub mod plan;
pub mod progress;
pub mod reconcile;
pub mod remediation;
pub mod report;
pub mod revert;
pub mod sources;
pub mod store;
pub mod text;
pub mod watch;
