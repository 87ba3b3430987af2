//! Approved change windows (recurring, from the config) and change records (CSV or JSON files).

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::config::ChangeWindow;

/// A one-off approved change: a ticket, its scopes and time span, and who may act.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct ChangeRecord {
    pub ticket: String,
    /// Scope-key patterns (`aws:111122223333:*`); empty = every scope.
    #[serde(default)]
    pub scopes: Vec<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Principal patterns; empty = anyone.
    #[serde(default)]
    pub principals: Vec<String>,
}

#[derive(Deserialize)]
struct CsvRecord {
    ticket: String,
    #[serde(default)]
    scopes: String,
    start: String,
    end: String,
    #[serde(default)]
    principals: String,
}

fn split_list(s: &str) -> Vec<String> {
    s.split([';', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Load change records: JSON (an array of records) or CSV with the header
/// `ticket,scopes,start,end,principals` (lists separated by `;`).
pub fn load_records(path: &Path) -> Result<Vec<ChangeRecord>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{name}: cannot read change records"))?;
    let records: Vec<ChangeRecord> = if text.trim_start().starts_with('[') {
        serde_json::from_str(&text)
            .with_context(|| format!("{name}: not a JSON array of change records"))?
    } else {
        let mut out = Vec::new();
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        for (i, row) in rdr.deserialize::<CsvRecord>().enumerate() {
            let row = row.with_context(|| {
                format!(
                    "{name}: row {}: expected ticket,scopes,start,end,principals",
                    i + 2
                )
            })?;
            let parse = |field: &str, v: &str| {
                DateTime::parse_from_rfc3339(v.trim())
                    .map(|d| d.with_timezone(&Utc))
                    .with_context(|| {
                        format!(
                            "{name}: row {}: field `{field}`: {v:?} is not an RFC 3339 time",
                            i + 2
                        )
                    })
            };
            out.push(ChangeRecord {
                ticket: row.ticket,
                scopes: split_list(&row.scopes),
                start: parse("start", &row.start)?,
                end: parse("end", &row.end)?,
                principals: split_list(&row.principals),
            });
        }
        out
    };
    for r in &records {
        if r.end <= r.start {
            bail!("{name}: change record {}: end is not after start", r.ticket);
        }
    }
    Ok(records)
}

pub fn matches_any(patterns: &[String], values: &[&str]) -> bool {
    patterns.iter().any(|p| {
        let w = wildmatch::WildMatch::new(p);
        values.iter().any(|v| w.matches(v))
    })
}

/// Is `t` inside an occurrence of the window?
pub fn window_contains(w: &ChangeWindow, t: DateTime<Utc>) -> bool {
    w.contains(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(cron: &str, tz: &str) -> ChangeWindow {
        ChangeWindow {
            name: "w".into(),
            scopes: vec![],
            start: crate::config::Schedule::parse(cron, crate::config::Zone::parse(tz).unwrap())
                .unwrap(),
            duration_minutes: 120,
            principals: vec![],
            ticket: None,
        }
    }

    #[test]
    fn recurring_windows_in_their_time_zone() {
        // Saturdays 22:00-24:00 Berlin time (UTC+1 in November).
        let w = window("0 22 * * Sat", "Europe/Berlin");
        let inside = "2026-11-28T21:30:00Z".parse().unwrap();
        let before = "2026-11-28T20:59:00Z".parse().unwrap();
        let after = "2026-11-28T23:00:00Z".parse().unwrap();
        assert!(window_contains(&w, inside));
        assert!(!window_contains(&w, before));
        assert!(!window_contains(&w, after));
    }

    #[test]
    fn patterns() {
        assert!(matches_any(
            &["arn:aws:iam::*:role/Deploy*".into()],
            &["arn:aws:iam::1:role/DeployProd"]
        ));
        assert!(!matches_any(
            &["arn:aws:iam::*:role/Deploy*".into()],
            &["arn:aws:iam::1:role/Admin"]
        ));
    }
}
