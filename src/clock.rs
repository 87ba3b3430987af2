//! The time netdrift records: the system clock, or the instant `NETDRIFT_FIXED_NOW` (RFC 3339)
//! names, so that golden tests and reproducible replays produce byte-identical reports and
//! evidence. The daemon's scheduler, lock waits and HTTP back-off always use the real clock.

use chrono::{DateTime, Utc};

const VAR: &str = "NETDRIFT_FIXED_NOW";

/// What the environment asks for: `Ok(None)` for the system clock.
pub fn fixed() -> Result<Option<DateTime<Utc>>, String> {
    match std::env::var(VAR) {
        Err(_) => Ok(None),
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => DateTime::parse_from_rfc3339(&v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| format!("{VAR}={v:?} is not an RFC 3339 time: {e}")),
    }
}

/// Now. `main` checks [`fixed`] first, so a bad value is an error exit, never a silent switch
/// to the system clock.
pub fn now() -> DateTime<Utc> {
    fixed().ok().flatten().unwrap_or_else(Utc::now)
}
