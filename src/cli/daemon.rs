//! `netdrift daemon`: the scheduled service.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::Outcome;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Configuration file.
    #[arg(
        long,
        env = "NETDRIFT_CONFIG",
        default_value = "/etc/netdrift/netdrift.toml"
    )]
    config: PathBuf,
    /// How long SIGTERM waits for a running job before exiting.
    #[arg(long, default_value_t = 60)]
    stop_timeout_secs: u64,
}

pub fn run(db: &Option<PathBuf>, a: Args) -> Result<Outcome> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(crate::daemon::run(
        a.config,
        db.clone(),
        Duration::from_secs(a.stop_timeout_secs),
    ))?;
    Ok(Outcome::Ok)
}
