//! Where netdrift's files are when nothing names them: the database's default path, and how
//! to say where a path came from.

use std::path::PathBuf;

/// The database: `$STATE_DIRECTORY/netdrift.db` under systemd, else
/// `$XDG_DATA_HOME/netdrift/netdrift.db`, else `~/.local/share/netdrift/netdrift.db`.
pub fn default_db() -> PathBuf {
    if let Some(dir) = std::env::var_os("STATE_DIRECTORY").filter(|d| !d.is_empty()) {
        // systemd may pass several, colon-separated; the first is ours.
        let first = dir
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();
        return PathBuf::from(first).join("netdrift.db");
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("netdrift").join("netdrift.db")
}

/// Where the database path came from, for messages: `--db`, `NETDRIFT_DB`, or which default.
pub fn db_origin(db: &Option<PathBuf>) -> &'static str {
    match db {
        Some(p)
            if std::env::var_os("NETDRIFT_DB").is_some_and(|v| std::path::Path::new(&v) == p) =>
        {
            "from NETDRIFT_DB"
        }
        Some(_) => "from --db",
        None if std::env::var_os("STATE_DIRECTORY").is_some_and(|d| !d.is_empty()) => {
            "the default under systemd: $STATE_DIRECTORY/netdrift.db"
        }
        None if std::env::var_os("XDG_DATA_HOME").is_some_and(|d| !d.is_empty()) => {
            "the default: $XDG_DATA_HOME/netdrift/netdrift.db"
        }
        None => "the default: ~/.local/share/netdrift/netdrift.db",
    }
}
