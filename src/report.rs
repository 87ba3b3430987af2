//! Drift reports: HTML and Markdown for people, JSON, CSV and OCSF for machines. Untrusted text
//! (names, descriptions, tags: anything a user typed into the cloud) is escaped for the format it
//! lands in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, Utc};

use netdrift_snapshots::Severity;

pub mod asff;
pub mod deliver;
mod history;
mod next;
pub use history::{previous_items, record_coverage, record_items, run_items, trend};
pub use next::next_commands;
pub mod html;
pub mod matrix;
mod write;
pub use write::{stage, write_all_or_nothing, write_atomic};
pub mod ocsf;
pub mod spreadsheet;
pub mod webhook;

use crate::config::Config;
use crate::findings::{DriftItem, DriftReport};
use crate::store::Store;

pub fn severity_counts(items: &[DriftItem]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in items.iter().filter(|i| i.is_unapproved()) {
        *m.entry(i.severity.as_str().to_string()).or_insert(0) += 1;
    }
    m
}

/// The serialized name of an enum value (`expands`, `exact`, …), as the JSON report spells it.
pub fn label<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
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
        return format!("{}: {}", label(a.status), a.reason);
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
                netdrift_snapshots::time::millis(x.event_time),
                x.event_name,
                label(x.grade)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Render the Markdown report.
pub fn markdown(ctx: &Context<'_>) -> String {
    let report = ctx.report;
    let expiring = ctx.expiring;
    let mut s = String::new();
    let unapproved: Vec<&DriftItem> = report.drift.iter().filter(|i| i.is_unapproved()).collect();
    let _ = writeln!(s, "# netdrift drift report\n");
    let _ = writeln!(
        s,
        "Generated {} (schema {}).\n",
        crate::store::ts(report.generated_at),
        report.schema_version
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
            label(i.change),
            label(i.effect),
            md(&headline(i)),
        );
        if let Some(r) = i.reach {
            let exposed: Vec<String> = i
                .exposed
                .iter()
                .map(|e| {
                    format!(
                        "{} at {} on {}",
                        e.instance.as_deref().unwrap_or(&e.id),
                        e.address.as_deref().unwrap_or("?"),
                        e.ports.join(", ")
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "  - reach: {}{}",
                r.as_str(),
                if exposed.is_empty() {
                    String::new()
                } else {
                    md(&format!(" ({})", exposed.join("; ")))
                }
            );
        }
        if let Some(iac) = &i.iac {
            let _ = writeln!(
                s,
                "  - terraform: {}",
                md(&match (iac.managed, iac.matches_actual) {
                    (false, _) => "unmanaged: no state file manages it".to_string(),
                    (true, Some(false)) => format!(
                        "managed by {}, changed outside Terraform",
                        iac.address.join(", ")
                    ),
                    (true, _) =>
                        format!("managed by {}, matches its state", iac.address.join(", ")),
                })
            );
        }
        let _ = writeln!(s, "  - why: {}", md(&i.reasons.join("; ")));
        let _ = writeln!(s, "  - who: {}", md(&who_line(i)));
        if let Some(e) = &i.exception {
            let _ = writeln!(
                s,
                "  - {} by {} until {}: {}",
                md(&e.label()),
                md(&e.owner),
                crate::store::ts(e.expires_at),
                md(&e.reason)
            );
        }
    }
    let _ = writeln!(s, "\n## Coverage\n");
    if report.coverage.is_empty() {
        let _ = writeln!(s, "Every configured scope was collected completely.");
    }
    for c in &report.coverage {
        let _ = writeln!(
            s,
            "- **{}** {}: {}",
            c.code,
            md(c.subject.as_str()),
            md(&c.message)
        );
        for p in &c.problems {
            let _ = writeln!(s, "  - {}: {}", p.code, md(&p.message));
        }
    }
    if let Some(m) = ctx.matrix {
        s += &crate::report::matrix::markdown(m);
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
            crate::store::ts(e.expires_at),
            md(&e.owner),
            md(&e.reason)
        );
    }
    let _ = writeln!(s, "\n## Since the previous report\n");
    match ctx.changes() {
        None => {
            let _ = writeln!(s, "This is the first report.");
        }
        Some(ch) => {
            let _ = writeln!(
                s,
                "{} new item(s), {} item(s) no longer present, {} with a new severity.",
                ch.new.len(),
                ch.gone.len(),
                ch.regraded.len()
            );
            for i in ch.new {
                let _ = writeln!(
                    s,
                    "- new: `{}` {} {}",
                    i.id,
                    md(&i.resource),
                    md(&headline(i))
                );
            }
            for i in ch.gone {
                let _ = writeln!(
                    s,
                    "- gone: `{}` {} {}",
                    i.id,
                    md(&i.resource),
                    md(&headline(i))
                );
            }
            for (old, i) in ch.regraded {
                let _ = writeln!(
                    s,
                    "- severity {} → {}: `{}` {}",
                    old.as_str(),
                    i.severity.as_str(),
                    i.id,
                    md(&i.resource)
                );
            }
        }
    }
    s
}

/// Exceptions expiring within `days` of `now`.
pub fn expiring(
    store: &dyn Store,
    now: DateTime<Utc>,
    days: i64,
) -> Result<Vec<crate::store::ExceptionRow>> {
    let horizon = now + Duration::days(days);
    Ok(store
        .exceptions()?
        .into_iter()
        .filter(|e| e.expires_at > now && e.expires_at <= horizon)
        .collect())
}

/// Everything a rendered report shows besides the drift report itself.
pub struct Context<'a> {
    pub report: &'a DriftReport,
    pub run_id: Option<i64>,
    /// The items of the previous run (None: this is the first).
    pub previous: Option<&'a [DriftItem]>,
    pub expiring: &'a [crate::store::ExceptionRow],
    /// Open exposure of the last runs, oldest first.
    pub trend: &'a [TrendPoint],
    /// The attack surface at this run's snapshots (a reconcile's report; `None` for a report
    /// of stored runs, whose snapshots' surface is not recomputed).
    pub surface: Option<&'a crate::exposure::Surface>,
    /// Who changed, or tried to change, firewall state since the previous run (`None` when not
    /// computed: a report of stored runs).
    pub actors: Option<&'a crate::actors::Actors>,
    /// Each collected scope × state, audit logs, logging, last event (a reconcile's report).
    pub matrix: Option<&'a [crate::report::matrix::MatrixRow]>,
}

/// What changed since the previous report.
pub struct Changes<'a> {
    pub new: Vec<&'a DriftItem>,
    pub gone: Vec<&'a DriftItem>,
    /// (previous severity, item) for items present in both whose severity changed.
    pub regraded: Vec<(Severity, &'a DriftItem)>,
}

impl<'a> Context<'a> {
    pub fn changes(&self) -> Option<Changes<'a>> {
        let prev = self.previous?;
        let before: BTreeMap<&str, &DriftItem> = prev.iter().map(|i| (i.id.as_str(), i)).collect();
        let now: BTreeSet<&str> = self.report.drift.iter().map(|i| i.id.as_str()).collect();
        let mut ch = Changes {
            new: Vec::new(),
            gone: prev
                .iter()
                .filter(|i| !now.contains(i.id.as_str()))
                .collect(),
            regraded: Vec::new(),
        };
        for i in &self.report.drift {
            match before.get(i.id.as_str()) {
                None => ch.new.push(i),
                Some(p) if p.severity != i.severity => ch.regraded.push((p.severity, i)),
                Some(_) => {}
            }
        }
        Some(ch)
    }
}

/// Whether an item opens sensitive ports (the severity reasons say so).
pub fn is_sensitive(i: &DriftItem) -> bool {
    i.reasons.iter().any(|r| r.starts_with("sensitive ports:"))
}

/// Open exposure in one run, per provider: unapproved items that allow something new.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrendPoint {
    pub run_id: i64,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub finished_at: DateTime<Utc>,
    /// provider -> [world-open, public, sensitive-port] item counts.
    pub counts: BTreeMap<String, [usize; 3]>,
}

impl TrendPoint {
    pub fn of(run_id: i64, finished_at: DateTime<Utc>, items: &[DriftItem]) -> TrendPoint {
        let mut counts: BTreeMap<String, [usize; 3]> = BTreeMap::new();
        for i in items
            .iter()
            .filter(|i| i.is_unapproved() && !i.newly_allowed.is_empty())
        {
            let e = counts.entry(i.provider.as_str().to_string()).or_default();
            e[0] += i.world as usize;
            e[1] += i.public as usize;
            e[2] += is_sensitive(i) as usize;
        }
        TrendPoint {
            run_id,
            finished_at,
            counts,
        }
    }
}

/// Write the configured report formats for a run; returns the files written.
pub fn write_reports(
    store: &dyn Store,
    cfg: &Config,
    run_id: i64,
    report: &DriftReport,
    surface: Option<&crate::exposure::Surface>,
    matrix: Option<&[crate::report::matrix::MatrixRow]>,
) -> Result<Vec<PathBuf>> {
    let now = report.generated_at;
    let previous = previous_items(store, run_id)?;
    let expiring = expiring(store, now, 14)?;
    let mut trend = trend(store, run_id, 30)?;
    if trend.last().map(|t| t.run_id) != Some(run_id) {
        // A period report renders items that are not one stored run: show them as the last point.
        trend.push(TrendPoint::of(run_id, report.generated_at, &report.drift));
    }
    let actors = crate::actors::since_previous_run(store, cfg, run_id, now)?;
    let ctx = Context {
        report,
        run_id: Some(run_id),
        previous: previous.as_deref(),
        expiring: &expiring,
        trend: &trend,
        surface,
        actors: Some(&actors),
        matrix,
    };
    let files = write_formats(cfg, &ctx, now)?;
    Ok(files)
}

/// Render every configured format into the report directory (and `latest.*`). All or nothing:
/// every file of the set is rendered and staged as an exclusively created, unpredictably named
/// temporary file in the directory before any is renamed into place. A failure while staging
/// (a full disk) removes what was staged and leaves the previous set as it was; the error says
/// that nothing was written.
pub fn write_formats(cfg: &Config, ctx: &Context<'_>, now: DateTime<Utc>) -> Result<Vec<PathBuf>> {
    let dir = &cfg.report.directory;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create report directory {}", dir.display()))?;
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let run = ctx.run_id.map(|r| format!("-run{r}")).unwrap_or_default();
    let mut files = Vec::new();
    let mut out = Vec::new();
    for f in &cfg.report.formats {
        let (ext, body) = match f.as_str() {
            "markdown" => ("md", markdown(ctx)),
            "json" => ("json", serde_json::to_string_pretty(ctx.report)?),
            "html" => ("html", html::render(ctx)),
            "csv" => ("csv", spreadsheet::render(ctx.report)?),
            "ocsf" => ("ocsf.jsonl", ocsf::render(ctx.report)?),
            "asff" => {
                let (body, left_out) = asff::render(cfg, ctx.report);
                if left_out > 0 {
                    tracing::warn!(
                        left_out,
                        "ASFF: {left_out} GCP or Azure finding(s) left out: set [report] asff_account to the AWS account whose Security Hub takes them"
                    );
                }
                ("asff.json", body)
            }
            other => anyhow::bail!("unknown report format {other:?}"),
        };
        let path = dir.join(format!("netdrift-{stamp}{run}.{ext}"));
        files.push((path.clone(), body.clone().into_bytes()));
        files.push((dir.join(format!("latest.{ext}")), body.into_bytes()));
        out.push(path);
    }
    write_all_or_nothing(&files).with_context(|| {
        format!(
            "the report set of {} was not written",
            ctx.run_id
                .map(|r| format!("run {r} (the run itself is recorded)"))
                .unwrap_or_else(|| "this report".into())
        )
    })?;
    Ok(out)
}
