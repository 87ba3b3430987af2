//! One writer process per database: an exclusive advisory lock on `<db>.lock`, held by the
//! daemon for its lifetime and by `netdrift run` for one cycle. A second daemon or a manual run
//! while the daemon holds the lock is refused with a message naming the holder. (Short writes
//! such as `import` or `baseline approve` are single SQLite transactions; SQLite serializes them
//! with the daemon's writes.)

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub enum Wait {
    /// Fail at once when held.
    Exit,
    /// Wait up to this long.
    Block(Duration),
}

#[derive(Debug)]
pub struct DbLock {
    _file: File,
    pub path: PathBuf,
}

pub fn lock_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

impl DbLock {
    pub fn acquire(db: &Path, wait: Wait) -> Result<DbLock> {
        let path = lock_path(db);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        let deadline = match wait {
            Wait::Exit => Instant::now(),
            Wait::Block(d) => Instant::now() + d,
        };
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        let mut holder = String::new();
                        let _ = file.read_to_string(&mut holder);
                        bail!(
                            "database {} is in use by another netdrift process ({}); two writers never run at once. \
                             If the daemon runs, let it reconcile (systemctl reload netdrift re-reads the config) or stop it first",
                            db.display(),
                            holder.trim().replace('\n', ", ")
                        );
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(e).context("cannot lock the database")
                }
            }
        }
        file.set_len(0)?;
        file.rewind()?;
        let args: Vec<String> = std::env::args().collect();
        write!(
            file,
            "pid {}\ncommand {}\nsince {}\n",
            std::process::id(),
            args.join(" "),
            crate::store::ts(chrono::Utc::now())
        )?;
        file.flush()?;
        Ok(DbLock { _file: file, path })
    }
}
