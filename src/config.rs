//! Configuration: TOML parsed into raw serde structs, then validated into a checked `Config`,
//! collecting every problem at once with its line. The field comments here and the annotated
//! `netdrift.example.toml` are the reference documentation.

mod attribution;
mod checker;
mod exceptions;
mod redact;
mod report;
mod schedule;
mod sources;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use checker::Checker;

pub use attribution::{AttributionConfig, DriftSettings};
pub use exceptions::{
    check_table as check_pattern, pattern_from_json, Candidate, ExceptionPattern,
};
pub use report::{
    EvidenceConfig, ReportConfig, RouteFilter, WebhookConfig, DEFAULT_ROUTE, REPORT_FORMATS,
};
pub use schedule::{ChangeWindow, Schedule, ScheduleConfig, WatchConfig, Zone};
pub use sources::{AuditConfig, SourceConfig, SourceKind};

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (None for the embedded demo).
    pub path: Option<PathBuf>,
    /// The file as written with its secrets already removed (what each run records).
    pub file_redacted: serde_json::Value,
    pub database: Option<PathBuf>,
    pub sources: Vec<SourceConfig>,
    pub audit: Vec<AuditConfig>,
    pub report: ReportConfig,
    pub evidence: EvidenceConfig,
    pub schedule: ScheduleConfig,
    /// `[watch]`: continuous detection; `None` when not configured.
    pub watch: Option<WatchConfig>,
    pub retention_days: Option<u32>,
    /// `[retention] runs_max_age_days`: runs older are pruned behind a checkpoint (None: every
    /// run is kept).
    pub runs_retention_days: Option<u32>,
    pub drift: DriftSettings,
    pub attribution: AttributionConfig,
    pub change_windows: Vec<ChangeWindow>,
    pub change_records: Vec<PathBuf>,
    /// Files the configuration names (dumps, audit logs, change records, the signing key) that
    /// do not exist or cannot be read, each with its line. `config check` fails on them; a run
    /// goes on (a source's unreadable dump is its scope's coverage finding).
    pub unreadable_files: Vec<String>,
    /// Terraform state files (`[[iac]] terraform_state`).
    pub iac: Vec<PathBuf>,
    /// How many scopes are collected at once.
    pub concurrency: usize,
    /// Bound on what one gzip input may decompress to (`max_decompressed_mib`); unset: the
    /// environment's `NETDRIFT_MAX_DECOMPRESSED_MIB`, else 1 GiB.
    pub max_decompressed: Option<u64>,
}

// ---- the file's top level; each table's own fields live in its module ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// SQLite database (default: see `netdrift --help`).
    database: Option<String>,
    /// File sources read at once (default 4).
    concurrency: Option<usize>,
    max_decompressed_mib: Option<u64>,
    report: Option<Spanned<toml::Table>>,
    evidence: Option<Spanned<toml::Table>>,
    schedule: Option<Spanned<toml::Table>>,
    retention: Option<Spanned<toml::Table>>,
    severity: Option<Spanned<toml::Table>>,
    attribution: Option<Spanned<toml::Table>>,
    watch: Option<Spanned<toml::Table>>,
    #[serde(default)]
    source: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    audit: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    change_window: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    change_records: Vec<String>,
    #[serde(default)]
    iac: Vec<Spanned<toml::Table>>,
    /// `[[exception]]`: exceptions by pattern.
    #[serde(default)]
    exception: Vec<Spanned<toml::Table>>,
}

/// `[[iac]]`: a Terraform state file (`terraform show -json` of a state) whose resources are
/// managed by Terraform; drift on them says so (docs/drift-schema.md, `iac`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIac {
    /// The state's JSON (`terraform show -json > state.json`).
    terraform_state: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    max_age_days: Option<u32>,
    runs_max_age_days: Option<u32>,
}

/// All the problems found in a configuration.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors {
    pub file: String,
    pub problems: Vec<String>,
}

impl Config {
    /// The configuration with its secrets removed: the file as written, and what it resolved to.
    pub fn redacted(&self) -> serde_json::Value {
        redact::redacted(self)
    }

    /// Load and validate a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors {
            file: path.display().to_string(),
            problems: vec![format!("cannot read: {e}")],
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut cfg = Config::parse(&text, &base, &path.display().to_string())?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parse and validate configuration text; relative paths resolve against `base`. Every
    /// problem is reported, each with its line.
    pub fn parse(text: &str, base: &Path, file: &str) -> Result<Config, ConfigErrors> {
        let fail = |problems| ConfigErrors {
            file: file.to_string(),
            problems,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            fail(vec![format!("line {line}: {}", e.message().trim())])
        })?;
        let mut ck = Checker {
            text,
            problems: Vec::new(),
            unreadable: Vec::new(),
        };
        let resolve = |p: &str| -> PathBuf {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        };

        let (sources, expected_ports) = ck.sources(&raw.source, &resolve);
        let mut audit = Vec::new();
        for t in &raw.audit {
            if let Some(a) = ck.table(t, "audit") {
                match sources::audit(a, &resolve) {
                    Ok(a) => {
                        for f in &a.files {
                            ck.readable(&t.span(), "[[audit]] ", "files", f);
                        }
                        audit.push(a)
                    }
                    Err(e) => ck.at(t.span(), e),
                }
            }
        }
        let (r, span) = ck.optional(&raw.report, "report");
        let mut problems = Vec::new();
        let report = report::report(r, &resolve, &mut problems);
        ck.all_at(span, std::mem::take(&mut problems));
        let (e, _) = ck.optional(&raw.evidence, "evidence");
        let evidence = report::evidence(e, &resolve);
        let (r, span) = ck.optional(&raw.schedule, "schedule");
        let schedule = schedule::schedule(r, &mut problems);
        ck.all_at(span, std::mem::take(&mut problems));
        let (w, span) = ck.optional(&raw.watch, "watch");
        let watch = w.map(|w| schedule::watch(w, &mut problems));
        ck.all_at(span, std::mem::take(&mut problems));
        let (r, span) = ck.optional::<RawRetention>(&raw.retention, "retention");
        let (retention_days, runs_retention_days) = r
            .map(|r| (r.max_age_days, r.runs_max_age_days))
            .unwrap_or_default();
        for (key, v) in [
            ("max_age_days", retention_days),
            ("runs_max_age_days", runs_retention_days),
        ] {
            if v == Some(0) {
                ck.at(
                    span.clone(),
                    format!("[retention] {key} = 0: at least 1 (leave it out to keep everything)"),
                );
            }
        }
        let (r, span) = ck.optional(&raw.severity, "severity");
        let severity = attribution::severity(r, &mut problems);
        ck.all_at(span, std::mem::take(&mut problems));
        let (a, _) = ck.optional(&raw.attribution, "attribution");
        let attribution = attribution::attribution(a);
        let mut change_windows = Vec::new();
        for t in &raw.change_window {
            if let Some(w) = ck.table(t, "change_window") {
                match schedule::window(w) {
                    Ok(w) => change_windows.push(w),
                    Err(p) => ck.all_at(t.span(), p),
                }
            }
        }
        let mut exceptions: Vec<ExceptionPattern> = Vec::new();
        for t in &raw.exception {
            if let Some(p) = ck.table(t, "exception") {
                match exceptions::pattern(p) {
                    Ok(p) if exceptions.iter().any(|e| e.name == p.name) => ck.at(
                        t.span(),
                        format!(
                            "exception {:?}: field `name`: another exception has this name",
                            p.name
                        ),
                    ),
                    Ok(p) => exceptions.push(p),
                    Err(problems) => ck.all_at(t.span(), problems),
                }
            }
        }
        let change_records: Vec<PathBuf> = raw.change_records.iter().map(|p| resolve(p)).collect();
        let mut iac = Vec::new();
        for t in &raw.iac {
            if let Some(i) = ck.table::<RawIac>(t, "iac") {
                let p = resolve(&i.terraform_state);
                if !p.is_file() {
                    ck.at(
                        t.span(),
                        format!(
                            "[[iac]] terraform_state: {} does not exist or is not a file",
                            p.display()
                        ),
                    );
                }
                iac.push(p);
            }
        }
        if raw.concurrency == Some(0) {
            let top = ck.top_level();
            ck.at(top, "field `concurrency`: must be at least 1".into());
        }
        let top = ck.top_level();
        for p in &change_records {
            ck.readable(&top, "", "change_records", p);
        }
        if let (Some(k), Some(t)) = (&evidence.signing_key, &raw.evidence) {
            ck.readable(&t.span(), "[evidence] ", "signing_key", k);
        }
        let lines = |mut v: Vec<(usize, String)>| {
            v.sort_by_key(|(line, _)| *line);
            v.into_iter()
                .map(|(line, msg)| format!("line {line}: {msg}"))
                .collect::<Vec<_>>()
        };
        if !ck.problems.is_empty() {
            return Err(fail(lines(ck.problems)));
        }
        let unreadable_files = lines(ck.unreadable);
        Ok(Config {
            path: None,
            file_redacted: redact::file(text),
            database: raw.database.map(|d| resolve(&d)),
            sources,
            audit,
            report,
            evidence,
            schedule,
            watch,
            retention_days,
            runs_retention_days,
            drift: DriftSettings {
                severity,
                expected_ports,
                exceptions,
            },
            attribution,
            change_windows,
            change_records,
            unreadable_files,
            iac,
            concurrency: raw.concurrency.unwrap_or(4),
            max_decompressed: raw.max_decompressed_mib.map(|m| m.saturating_mul(1 << 20)),
        })
    }
}

#[cfg(test)]
mod tests;
