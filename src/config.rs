//! Configuration: TOML parsed into raw serde structs, then validated into a checked `Config`,
//! collecting every problem at once with its line. The field comments here and the annotated
//! `netdrift.example.toml` are the reference documentation.

mod attribution;
mod redact;
mod report;
mod schedule;
mod sources;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use attribution::{AttributionConfig, DriftSettings};
pub use report::{EvidenceConfig, ReportConfig, WebhookConfig, REPORT_FORMATS};
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
    pub drift: DriftSettings,
    pub attribution: AttributionConfig,
    pub change_windows: Vec<ChangeWindow>,
    pub change_records: Vec<PathBuf>,
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
}

/// All the problems found in a configuration.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors {
    pub file: String,
    pub problems: Vec<String>,
}

struct Checker<'a> {
    text: &'a str,
    problems: Vec<String>,
}

impl Checker<'_> {
    fn line(&self, span: std::ops::Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }
    fn at(&mut self, span: std::ops::Range<usize>, msg: String) {
        let line = self.line(span);
        self.problems.push(format!("line {line}: {msg}"));
    }
    fn table<T: serde::de::DeserializeOwned>(
        &mut self,
        t: &Spanned<toml::Table>,
        what: &str,
    ) -> Option<T> {
        match toml::Value::Table(t.get_ref().clone()).try_into::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = format!("[{what}]: {}", e.message().trim());
                self.at(t.span(), msg);
                None
            }
        }
    }
}

impl Checker<'_> {
    /// Problems found in one table, each reported at the table's line.
    fn all_at(&mut self, span: std::ops::Range<usize>, problems: Vec<String>) {
        for p in problems {
            self.at(span.clone(), p);
        }
    }
    /// An optional table: its fields, with a problem at its line when they do not fit.
    fn optional<T: serde::de::DeserializeOwned>(
        &mut self,
        t: &Option<Spanned<toml::Table>>,
        what: &str,
    ) -> (Option<T>, std::ops::Range<usize>) {
        match t {
            Some(t) => (self.table(t, what), t.span()),
            None => (None, 0..0),
        }
    }
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
                    Ok(a) => audit.push(a),
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
        let (r, _) = ck.optional::<RawRetention>(&raw.retention, "retention");
        let retention_days = r.and_then(|r| r.max_age_days);
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
            ck.problems.push("concurrency: must be at least 1".into());
        }
        if !ck.problems.is_empty() {
            return Err(fail(ck.problems));
        }
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
            drift: DriftSettings {
                severity,
                expected_ports,
            },
            attribution,
            change_windows,
            change_records: raw.change_records.iter().map(|p| resolve(p)).collect(),
            iac,
            concurrency: raw.concurrency.unwrap_or(4),
            max_decompressed: raw.max_decompressed_mib.map(|m| m.saturating_mul(1 << 20)),
        })
    }
}

type ExpectedPorts = Vec<(
    netdrift_snapshots::ScopeKey,
    Vec<netdrift_snapshots::PortRange>,
)>;

impl Checker<'_> {
    /// Every `[[source]]`: names unique, each scope collected by one source.
    fn sources(
        &mut self,
        tables: &[Spanned<toml::Table>],
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> (Vec<SourceConfig>, ExpectedPorts) {
        let mut out = Vec::new();
        let mut expected_ports = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        let mut scopes = std::collections::BTreeSet::new();
        for t in tables {
            let span = t.span();
            if let Some(name) = t.get_ref().get("name").and_then(|n| n.as_str()) {
                if !names.insert(name.to_string()) {
                    self.at(
                        span.clone(),
                        format!("source {name:?}: duplicate source name"),
                    );
                }
            }
            match sources::source(t.get_ref().clone(), resolve) {
                Ok(c) => {
                    if let SourceKind::Files { scope, .. } = &c.source.kind {
                        if !scopes.insert(scope.key()) {
                            self.at(
                                span.clone(),
                                format!(
                                    "source {:?}: scope {} is already collected by another source",
                                    c.source.name,
                                    scope.key()
                                ),
                            );
                        }
                    }
                    expected_ports.extend(c.expected_ports);
                    out.push(c.source);
                }
                Err(problems) => self.all_at(span, problems),
            }
        }
        (out, expected_ports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = r#"
[schedule]
reconcile = "99 * * * *"
timezone = "Mars/Olympus"

[[source]]
provider = "awz"
name = "a"
account = "1"
files = ["x.json"]

[[source]]
provider = "gcp"
name = "a"
files = []
"#;
        let err = Config::parse(text, Path::new("."), "t.toml").unwrap_err();
        let all = err.problems.join("\n");
        assert!(all.contains("line 2: schedule: field `reconcile`"), "{all}");
        assert!(all.contains("timezone"), "{all}");
        assert!(
            all.contains("line 6: source \"a\": field `provider`: unknown provider"),
            "{all}"
        );
        assert!(
            all.contains("line 12: source \"a\": duplicate source name"),
            "{all}"
        );
        assert!(
            all.contains("line 12: source \"a\": neither `files` (a file source, with `account`) nor `projects`"),
            "{all}"
        );
        assert!(err.problems.len() >= 4, "{all}");
    }

    /// One `[[source]]` body per row (name and provider added), and a part of the one problem
    /// it must produce; `None`: accepted.
    #[cfg(all(feature = "aws", feature = "gcp", feature = "azure"))]
    #[test]
    fn source_tables() {
        std::env::set_var("NETDRIFT_TEST_CONFIG_TOKEN", "t0ken");
        let rows: &[(&str, &str, Option<&str>)] = &[
            ("aws", r#"regions = "all""#, None),
            ("aws", r#"regions = ["eu-west-1"]"#, None),
            (
                "aws",
                "",
                Some("field `regions` is required for a live AWS source"),
            ),
            (
                "aws",
                r#"regions = []"#,
                Some("invalid length 0, expected a non-empty list of names, or \"all\""),
            ),
            (
                "aws",
                r#"regions = "everywhere""#,
                Some("expected a non-empty list of names, or \"all\""),
            ),
            (
                "aws",
                r#"regions = "all"
regoins = 1"#,
                Some("unknown field `regoins`"),
            ),
            (
                "aws",
                r#"regions = "all"
account = "1""#,
                Some("`account` belong to a file source, but `files` lists no dump files"),
            ),
            (
                "aws",
                r#"regions = "all"
expected_ports = [22]"#,
                Some("`expected_ports` belong to a file source"),
            ),
            (
                "aws",
                r#"regions = "all"
assume_roles = ["123"]"#,
                Some("is not a role ARN"),
            ),
            (
                "aws",
                r#"regions = "all"
endpoint_url = "localhost:5000""#,
                Some("is not an http(s) URL"),
            ),
            (
                "aws",
                r#"account = "1"
files = ["a.json"]"#,
                Some("field `region` is required for an AWS file source"),
            ),
            (
                "aws",
                r#"account = "1"
region = "eu-west-1"
files = ["a.json"]
regions = "all""#,
                Some("unknown field `regions`"),
            ),
            ("gcp", r#"projects = ["p"]"#, None),
            (
                "gcp",
                r#"files = ["a.json"]"#,
                Some("field `account` is required for a file source"),
            ),
            (
                "gcp",
                r#"organization = "123""#,
                Some("expected organizations/NUMBER"),
            ),
            (
                "gcp",
                r#"folders = ["f/1"]"#,
                Some("expected folders/NUMBER"),
            ),
            (
                "gcp",
                r#"projects = ["p"]
credentials = "anonymous""#,
                Some("refused unless `endpoint_url` is a loopback address"),
            ),
            (
                "gcp",
                r#"projects = ["p"]
credentials = "anonymous"
endpoint_url = "http://127.0.0.1.example.com""#,
                Some("refused unless `endpoint_url` is a loopback address"),
            ),
            (
                "gcp",
                r#"projects = ["p"]
credentials = "anonymous"
endpoint_url = "http://127.0.0.1:9""#,
                None,
            ),
            (
                "gcp",
                r#"projects = ["p"]
credentials = "key.json""#,
                Some("expected \"anonymous\" for a local fake"),
            ),
            ("azure", r#"subscriptions = "all""#, None),
            ("azure", "", Some("nor `subscriptions`")),
            (
                "azure",
                r#"subscriptions = "all"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_TOKEN" }"#,
                Some("refused unless `endpoint_url` is a loopback address"),
            ),
            (
                "azure",
                r#"subscriptions = "all"
endpoint_url = "http://[::1]:9"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_TOKEN" }"#,
                None,
            ),
            (
                "azure",
                r#"subscriptions = "all"
endpoint_url = "http://[::1]:9"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_UNSET" }"#,
                Some("the static token variable NETDRIFT_TEST_CONFIG_UNSET is not set"),
            ),
            (
                "azure",
                r#"subscriptions = "all"
endpoint_url = "http://[::1]:9"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_TOKEN", extra = 1 }"#,
                Some("unknown field `extra`"),
            ),
        ];
        for (provider, body, want) in rows {
            let text = format!("[[source]]\nname = \"s\"\nprovider = \"{provider}\"\n{body}\n");
            let got = Config::parse(&text, Path::new("."), "t.toml");
            match (want, got) {
                (None, Ok(_)) => {}
                (None, Err(e)) => panic!("{provider} {body:?} refused: {e}"),
                (Some(w), Ok(_)) => panic!("{provider} {body:?} accepted; expected {w:?}"),
                (Some(w), Err(e)) => {
                    assert_eq!(e.problems.len(), 1, "{provider} {body:?}: {e}");
                    assert!(e.problems[0].starts_with("line 1: source \"s\": "), "{e}");
                    assert!(
                        e.problems[0].contains(w),
                        "{provider} {body:?}: {e} lacks {w:?}"
                    );
                }
            }
        }
    }
}
