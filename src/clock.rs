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

/// Parse `2026-11-26` (midnight UTC), or a full RFC 3339 time.
pub fn parse_time(s: &str) -> anyhow::Result<DateTime<Utc>> {
    use anyhow::Context as _;
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| {
        format!("{s:?} is neither a date (2026-11-26) nor an RFC 3339 time (2026-11-26T02:00:00Z)")
    })?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}
