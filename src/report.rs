//! Drift reports: Markdown for people, JSON for machines. Untrusted text (names, descriptions)
//! is escaped for the format it lands in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};

use netdrift_snapshots::Severity;

use crate::config::Config;
use crate::drift::{DriftItem, DriftReport};
use crate::store::{parse_ts, Store};

pub fn severity_counts(items: &[DriftItem]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in items.iter().filter(|i| i.is_unapproved()) {
        *m.entry(i.severity.as_str().to_string()).or_insert(0) += 1;
    }
    m
}

/// Escape text for Markdown table cells and inline text: no markup, HTML or line breaks.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One line: what opened, where.
pub fn headline(i: &DriftItem) -> String {
    let what: Vec<String> = i
        .newly_allowed
        .iter()
        .take(4)
        .map(|e| e.to_string())
        .collect();
    let more = i.newly_allowed.len().saturating_sub(4);
    let mut s = match (i.newly_allowed.is_empty(), i.newly_denied.is_empty()) {
        (false, _) => format!("{} now allows {}", i.direction.as_str(), what.join("; ")),
        (true, false) => format!(
            "{} no longer allows {}",
            i.direction.as_str(),
            i.newly_denied
                .iter()
                .take(4)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        (true, true) => i.notes.join("; "),
    };
    if more > 0 {
        let _ = write!(s, " (+{more} more)");
    }
    s
}

/// Who, how, when in one line.
pub fn who_line(i: &DriftItem) -> String {
    let Some(a) = &i.attribution else {
        return "not attributed".into();
    };
    if a.actors.is_empty() {
        return format!(
            "{}: {}",
            serde_json::to_value(a.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            a.reason
        );
    }
    a.actors
        .iter()
        .map(|x| {
            format!(
                "{} ({}{}{}){} at {} [{}, {}]",
                x.principal.as_deref().unwrap_or("?"),
                x.class,
                x.role
                    .as_deref()
                    .map(|r| format!(", role {r}"))
                    .unwrap_or_default(),
                if x.chain.is_empty() {
                    String::new()
                } else {
                    format!(", {}", x.chain.join(", "))
                },
                x.tool
                    .as_deref()
                    .map(|t| format!(" via {t}"))
                    .unwrap_or_default(),
                x.event_time,
                x.event_name,
                serde_json::to_value(x.grade)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Render the Markdown report. `previous` holds the item ids of the previous run.
pub fn markdown(
    report: &DriftReport,
    previous: Option<&BTreeSet<String>>,
    expiring: &[crate::store::ExceptionRow],
) -> String {
    let mut s = String::new();
    let unapproved: Vec<&DriftItem> = report.drift.iter().filter(|i| i.is_unapproved()).collect();
    let _ = writeln!(s, "# netdrift drift report\n");
    let _ = writeln!(
        s,
        "Generated {} (schema {}).\n",
        report.generated_at, report.schema_version
    );
    let counts = severity_counts(&report.drift);
    let _ = writeln!(
        s,
        "**{} unapproved drift item(s)**: {} critical, {} high, {} medium, {} low, {} info. {} world-open. {} coverage finding(s).\n",
        unapproved.len(),
        counts.get("critical").unwrap_or(&0),
        counts.get("high").unwrap_or(&0),
        counts.get("medium").unwrap_or(&0),
        counts.get("low").unwrap_or(&0),
        counts.get("info").unwrap_or(&0),
        unapproved.iter().filter(|i| i.world).count(),
        report.coverage.len()
    );
    let _ = writeln!(s, "## Summary per scope\n\n| provider | scope | items | critical | high | world-open |\n|---|---|---|---|---|---|");
    let mut per_scope: BTreeMap<(&str, &str), (usize, usize, usize, usize)> = BTreeMap::new();
    for i in &unapproved {
        let e = per_scope
            .entry((i.provider.as_str(), i.scope.as_str()))
            .or_default();
        e.0 += 1;
        e.1 += (i.severity == Severity::Critical) as usize;
        e.2 += (i.severity == Severity::High) as usize;
        e.3 += i.world as usize;
    }
    for ((p, sc), (n, c, h, w)) in &per_scope {
        let _ = writeln!(s, "| {p} | {} | {n} | {c} | {h} | {w} |", md(sc));
    }
    let _ = writeln!(s, "\n## Drift, riskiest first\n");
    if report.drift.is_empty() {
        let _ = writeln!(s, "No drift from the approved baselines.");
    }
    for i in &report.drift {
        let name = i
            .resource_name
            .as_deref()
            .map(|n| format!(" ({})", md(n)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "- **{}** `{}` {} {}{}{}: {}, {}. {}",
            i.severity.as_str().to_uppercase(),
            i.id,
            i.provider,
            md(&i.resource),
            name,
            if i.exception.is_some() {
                " [excepted]"
            } else {
                ""
            },
            serde_json::to_value(i.change)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            serde_json::to_value(i.effect)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            md(&headline(i)),
        );
        let _ = writeln!(s, "  - why: {}", md(&i.reasons.join("; ")));
        let _ = writeln!(s, "  - who: {}", md(&who_line(i)));
        if let Some(e) = &i.exception {
            let _ = writeln!(
                s,
                "  - exception #{} by {} until {}: {}",
                e.id,
                md(&e.owner),
                e.expires_at,
                md(&e.reason)
            );
        }
    }
    let _ = writeln!(s, "\n## Coverage\n");
    if report.coverage.is_empty() {
        let _ = writeln!(s, "Every configured scope was collected completely.");
    }
    for c in &report.coverage {
        let _ = writeln!(s, "- **{}** {}: {}", c.code, md(&c.scope), md(&c.message));
        for p in &c.problems {
            let _ = writeln!(s, "  - {}: {}", p.code, md(&p.message));
        }
    }
    let _ = writeln!(s, "\n## Exceptions expiring within 14 days\n");
    if expiring.is_empty() {
        let _ = writeln!(s, "None.");
    }
    for e in expiring {
        let _ = writeln!(
            s,
            "- #{} {} {} ({}): expires {}, owner {}: {}",
            e.id,
            md(&e.resource),
            e.direction,
            md(&e.scope),
            e.expires_at,
            md(&e.owner),
            md(&e.reason)
        );
    }
    let _ = writeln!(s, "\n## Since the previous report\n");
    match previous {
        None => {
            let _ = writeln!(s, "This is the first report.");
        }
        Some(prev) => {
            let now: BTreeSet<&String> = report.drift.iter().map(|i| &i.id).collect();
            let new: Vec<&DriftItem> = report
                .drift
                .iter()
                .filter(|i| !prev.contains(&i.id))
                .collect();
            let gone = prev.iter().filter(|p| !now.contains(p)).count();
            let _ = writeln!(
                s,
                "{} new item(s), {} item(s) no longer present.",
                new.len(),
                gone
            );
            for i in new {
                let _ = writeln!(
                    s,
                    "- new: `{}` {} {}",
                    i.id,
                    md(&i.resource),
                    md(&headline(i))
                );
            }
        }
    }
    s
}

/// Exceptions expiring within `days` of `now`.
pub fn expiring(
    store: &Store,
    now: DateTime<Utc>,
    days: i64,
) -> Result<Vec<crate::store::ExceptionRow>> {
    let horizon = now + Duration::days(days);
    Ok(store
        .exceptions(None, None)?
        .into_iter()
        .filter(|e| {
            parse_ts(&e.expires_at)
                .map(|t| t > now && t <= horizon)
                .unwrap_or(false)
        })
        .collect())
}

/// Write the configured report formats for a run; returns the files written.
pub fn write_reports(
    store: &Store,
    cfg: &Config,
    run_id: i64,
    report: &DriftReport,
) -> Result<Vec<PathBuf>> {
    let dir = &cfg.report.directory;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create report directory {}", dir.display()))?;
    let now = parse_ts(&report.generated_at)?;
    let previous = previous_ids(store, run_id)?;
    let expiring = expiring(store, now, 14)?;
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let mut out = Vec::new();
    for f in &cfg.report.formats {
        let (ext, body) = match f.as_str() {
            "markdown" => ("md", markdown(report, previous.as_ref(), &expiring)),
            "json" => ("json", serde_json::to_string_pretty(report)?),
            _ => continue,
        };
        let path = dir.join(format!("netdrift-{stamp}-run{run_id}.{ext}"));
        write_atomic(&path, body.as_bytes())?;
        write_atomic(&dir.join(format!("latest.{ext}")), body.as_bytes())?;
        out.push(path);
    }
    Ok(out)
}

/// Item ids of the run before `run_id`.
pub fn previous_ids(store: &Store, run_id: i64) -> Result<Option<BTreeSet<String>>> {
    let runs = store.runs(2_000)?;
    let Some(prev) = runs.iter().rev().find(|r| r.id < run_id) else {
        return Ok(None);
    };
    Ok(Some(
        store
            .run_items(prev.id)?
            .iter()
            .filter_map(|v| v.get("id").and_then(|x| x.as_str()).map(String::from))
            .collect(),
    ))
}

/// Write via a temporary file and rename, so readers never see half a report.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp-netdrift");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
