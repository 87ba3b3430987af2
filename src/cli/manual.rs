//! `netdrift completions` and `netdrift man`: generated from the clap definitions themselves
//! (clap_complete, clap_mangen), so they can never disagree with `--help`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::{Cli, Outcome};

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Directory for `netdrift.1` and `netdrift-<command>.1` (created if needed).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn completions(a: CompletionsArgs) -> Result<Outcome> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "netdrift", &mut buf);
    // Through `print!`: a reader that closes the pipe early ends the program quietly (141).
    print!("{}", String::from_utf8_lossy(&buf));
    Ok(Outcome::Ok)
}

pub fn man(a: ManArgs) -> Result<Outcome> {
    let cmd = Cli::command();
    match a.out {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .context("rendering the man page")?;
            print!("{}", String::from_utf8_lossy(&buf));
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
            println!("man pages written to {}", dir.display());
        }
    }
    Ok(Outcome::Ok)
}
