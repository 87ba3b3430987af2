//! When things run: cron expressions and time zones, parsed once into [`Schedule`] and
//! [`Zone`], and the recurring change windows built on them.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

/// A time zone as configured: `local`, `UTC` or an IANA name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Utc,
    Local,
    Named(chrono_tz::Tz),
}

impl Zone {
    pub fn parse(tz: &str) -> Result<Zone, String> {
        if tz.eq_ignore_ascii_case("utc") {
            Ok(Zone::Utc)
        } else if tz.eq_ignore_ascii_case("local") {
            Ok(Zone::Local)
        } else {
            tz.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
                format!(
                    "unknown time zone {tz:?} (expected local, UTC or an IANA name such as Europe/Berlin)"
                )
            })
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Zone::Utc => "UTC",
            Zone::Local => "local",
            Zone::Named(tz) => tz.name(),
        }
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A cron expression (normalized to six fields, seconds first) in a time zone, parsed once.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    cron: croner::Cron,
    pub zone: Zone,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr && self.zone == other.zone
    }
}

impl Schedule {
    /// Parse a five-, six- (seconds first) or seven-field (year last) expression; a five-field
    /// one runs at second 0.
    pub fn parse(expr: &str, zone: Zone) -> Result<Schedule, String> {
        let fields = expr.split_whitespace().count();
        let six = match fields {
            5 => format!("0 {}", expr.trim()),
            6 | 7 => expr.trim().to_string(),
            _ => return Err(format!("cron expression {expr:?} has {fields} fields (expected 5, 6 with seconds, or 7 with year)")),
        };
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(&six)
            .map_err(|e| format!("cron expression {expr:?} is invalid: {e}"))?;
        Ok(Schedule {
            expr: six,
            cron,
            zone,
        })
    }

    /// The six-field expression (what tokio-cron-scheduler is given).
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The first occurrence after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.find(t, true, false)
    }

    /// The latest occurrence at or before `t`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.find(t, false, true)
    }

    /// The latest occurrence strictly before `t`.
    pub fn latest_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.find(t, false, false)
    }

    fn find(&self, t: DateTime<Utc>, next: bool, inclusive: bool) -> Option<DateTime<Utc>> {
        fn go<Z: TimeZone>(
            cron: &croner::Cron,
            t: DateTime<Z>,
            next: bool,
            inclusive: bool,
        ) -> Option<DateTime<Utc>> {
            let r = if next {
                cron.find_next_occurrence(&t, inclusive)
            } else {
                cron.find_previous_occurrence(&t, inclusive)
            };
            r.ok().map(|d| d.with_timezone(&Utc))
        }
        match self.zone {
            Zone::Utc => go(&self.cron, t, next, inclusive),
            Zone::Local => go(&self.cron, t.with_timezone(&chrono::Local), next, inclusive),
            Zone::Named(tz) => go(&self.cron, t.with_timezone(&tz), next, inclusive),
        }
    }
}

/// `[schedule]`: when the daemon runs each job.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub snapshot: Option<Schedule>,
    pub reconcile: Schedule,
    pub retention: Option<Schedule>,
    pub timezone: Zone,
}

/// A recurring change window: changes inside it by its principals are expected.
#[derive(Debug, Clone)]
pub struct ChangeWindow {
    pub name: String,
    /// Scope patterns (`aws:123:*`); empty = every scope.
    pub scopes: Vec<String>,
    /// When each occurrence starts (in the window's own time zone).
    pub start: Schedule,
    pub duration_minutes: i64,
    pub principals: Vec<String>,
    pub ticket: Option<String>,
}

impl ChangeWindow {
    /// Is `t` inside an occurrence of the window?
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start
            .latest_at_or_before(t)
            .is_some_and(|s| t >= s && t < s + chrono::Duration::minutes(self.duration_minutes))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    /// Snapshot-only collections between reconciles (cron).
    snapshot: Option<String>,
    /// The reconcile (cron, default `0 2 * * *`).
    reconcile: Option<String>,
    /// Retention pruning (cron).
    retention: Option<String>,
    /// `local` (default), `UTC` or an IANA name.
    timezone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWindow {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    cron: String,
    duration_minutes: i64,
    /// Default UTC.
    timezone: Option<String>,
    #[serde(default)]
    principals: Vec<String>,
    ticket: Option<String>,
}

const DEFAULT_RECONCILE: &str = "0 0 2 * * *";

/// `[schedule]` → its schedules; each problem prefixed with the field.
pub(super) fn schedule(r: Option<RawSchedule>, problems: &mut Vec<String>) -> ScheduleConfig {
    let r = r.unwrap_or(RawSchedule {
        snapshot: None,
        reconcile: None,
        retention: None,
        timezone: None,
    });
    let zone = match Zone::parse(r.timezone.as_deref().unwrap_or("local")) {
        Ok(z) => z,
        Err(e) => {
            problems.push(format!("schedule: field `timezone`: {e}"));
            Zone::Local
        }
    };
    let mut cron = |field: &str, v: Option<String>| -> Option<Schedule> {
        match Schedule::parse(&v?, zone) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(format!("schedule: field `{field}`: {e}"));
                None
            }
        }
    };
    let snapshot = cron("snapshot", r.snapshot);
    let reconcile = cron(
        "reconcile",
        Some(r.reconcile.unwrap_or_else(|| DEFAULT_RECONCILE.into())),
    )
    .unwrap_or_else(|| Schedule::parse(DEFAULT_RECONCILE, zone).expect("the default parses"));
    let retention = cron("retention", r.retention);
    ScheduleConfig {
        snapshot,
        reconcile,
        retention,
        timezone: zone,
    }
}

/// One `[[change_window]]`, or its problems.
pub(super) fn window(w: RawWindow) -> Result<ChangeWindow, Vec<String>> {
    let mut problems = Vec::new();
    let name = w.name;
    let zone = Zone::parse(w.timezone.as_deref().unwrap_or("UTC")).map_err(|e| {
        problems.push(format!("change_window {name:?}: field `timezone`: {e}"));
    });
    if w.duration_minutes <= 0 {
        problems.push(format!(
            "change_window {name:?}: field `duration_minutes` must be positive"
        ));
    }
    let start = Schedule::parse(&w.cron, zone.unwrap_or(Zone::Utc))
        .map_err(|e| problems.push(format!("change_window {name:?}: field `cron`: {e}")));
    match (start, zone) {
        (Ok(start), Ok(_)) if problems.is_empty() => Ok(ChangeWindow {
            name,
            scopes: w.scopes,
            start,
            duration_minutes: w.duration_minutes,
            principals: w.principals,
            ticket: w.ticket,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_and_six_field_cron() {
        let p = |e: &str| Schedule::parse(e, Zone::Utc).map(|s| s.expr().to_string());
        assert_eq!(p("0 2 * * *").unwrap(), "0 0 2 * * *");
        assert_eq!(p("*/5 * * * * *").unwrap(), "*/5 * * * * *");
        assert!(p("61 * * * *").is_err());
        assert!(p("* *").is_err());
    }

    #[test]
    fn zones() {
        assert_eq!(Zone::parse("utc").unwrap(), Zone::Utc);
        assert_eq!(Zone::parse("LOCAL").unwrap(), Zone::Local);
        assert_eq!(
            Zone::parse("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert!(Zone::parse("Mars/Olympus").unwrap_err().contains("IANA"));
    }
}

/// `[watch]`: continuous detection between reconciles (off unless the table is present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// How often the daemon reads the audit logs (`interval_seconds`, default 300).
    pub interval: std::time::Duration,
    /// How far back each read reaches before the previous one ended, for late deliveries
    /// (`overlap_seconds`, default 900: CloudTrail delivers within about 15 minutes). The
    /// store's dedup by event id absorbs what is read twice.
    pub overlap: chrono::Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWatch {
    interval_seconds: Option<u64>,
    overlap_seconds: Option<u64>,
}

pub(super) fn watch(r: RawWatch, problems: &mut Vec<String>) -> WatchConfig {
    let interval = r.interval_seconds.unwrap_or(300);
    if interval == 0 || interval > 86_400 {
        problems.push(format!(
            "watch: field `interval_seconds`: {interval} is out of range (1 to 86400)"
        ));
    }
    let overlap = r.overlap_seconds.unwrap_or(900);
    if overlap > 86_400 {
        problems.push(format!(
            "watch: field `overlap_seconds`: {overlap} is out of range (0 to 86400)"
        ));
    }
    WatchConfig {
        interval: std::time::Duration::from_secs(interval.clamp(1, 86_400)),
        overlap: chrono::Duration::seconds(overlap.min(86_400) as i64),
    }
}

#[cfg(test)]
mod watch_tests {
    #[test]
    fn watch_is_off_unless_configured_and_its_fields_are_checked() {
        let parse = |t: &str| crate::config::Config::parse(t, std::path::Path::new("."), "t.toml");
        assert!(parse("").unwrap().watch.is_none());
        let w = parse("[watch]\n").unwrap().watch.unwrap();
        assert_eq!(w.interval.as_secs(), 300);
        assert_eq!(w.overlap.num_seconds(), 900);
        let w = parse("[watch]\ninterval_seconds = 60\noverlap_seconds = 0\n")
            .unwrap()
            .watch
            .unwrap();
        assert_eq!((w.interval.as_secs(), w.overlap.num_seconds()), (60, 0));
        let rows = [
            (
                "interval_seconds = 0",
                "line 2: watch: field `interval_seconds`: 0 is out of range",
            ),
            (
                "overlap_seconds = 90000",
                "line 2: watch: field `overlap_seconds`: 90000 is out of range",
            ),
            ("interval = 5", "line 2: [watch]: unknown field `interval`"),
        ];
        for (body, want) in rows {
            let e = parse(&format!("[watch]\n{body}\n")).unwrap_err();
            assert!(
                e.problems.iter().any(|p| p.starts_with(want)),
                "{body}: {e}"
            );
        }
    }
}
