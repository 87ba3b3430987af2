//! Configuration: TOML parsed into raw serde structs, then validated into a checked `Config`,
//! collecting every problem at once with its line. The field comments here and the annotated
//! `netdrift.example.toml` are the reference documentation.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use netdrift_snapshots::{PortRange, Provider, Scope, Severity, SeverityPolicy};

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (None for the embedded demo).
    pub path: Option<PathBuf>,
    pub database: Option<PathBuf>,
    pub sources: Vec<SourceConfig>,
    pub audit: Vec<AuditConfig>,
    pub report: ReportConfig,
    pub evidence: EvidenceConfig,
    pub schedule: ScheduleConfig,
    pub retention_days: Option<u32>,
    pub drift: DriftSettings,
    pub attribution: AttributionConfig,
    pub change_windows: Vec<ChangeWindow>,
    pub change_records: Vec<PathBuf>,
    /// How many scopes are collected at once.
    pub concurrency: usize,
    /// Bound on what one gzip input may decompress to (`max_decompressed_mib`); unset: the
    /// environment's `NETDRIFT_MAX_DECOMPRESSED_MIB`, else 1 GiB.
    pub max_decompressed: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub provider: Provider,
    pub kind: SourceKind,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    /// Native JSON dumps of one scope.
    Files { scope: Scope, files: Vec<PathBuf> },
    /// Live AWS collection (needs the `aws` cargo feature).
    Aws(AwsLiveConfig),
    /// Live GCP collection (needs the `gcp` cargo feature).
    Gcp(GcpLiveConfig),
    /// Live Azure collection (needs the `azure` cargo feature).
    Azure(AzureLiveConfig),
}

/// A live GCP source: projects (listed, or discovered under an organization or folders).
#[derive(Debug, Clone)]
pub struct GcpLiveConfig {
    pub projects: Vec<String>,
    pub organization: Option<String>,
    pub folders: Vec<String>,
    /// `None` = every region of each project.
    pub regions: Option<Vec<String>>,
    pub endpoint_url: Option<String>,
    /// Anonymous credentials (a local fake only); otherwise Application Default Credentials.
    pub anonymous: bool,
    pub concurrency: usize,
    pub scope_timeout_seconds: u64,
    pub max_attempts: u32,
    pub audit_logs: bool,
}

/// A live Azure source: subscriptions (listed, or every visible one).
#[derive(Debug, Clone)]
pub struct AzureLiveConfig {
    /// `None` = every subscription the identity can see.
    pub subscriptions: Option<Vec<String>>,
    /// ARM endpoint (sovereign clouds, a local fake); default `https://management.azure.com`.
    pub endpoint_url: Option<String>,
    pub token_scope: String,
    /// A fixed bearer token read from this environment variable (a local fake only); otherwise
    /// azure_identity's credential chain.
    pub static_token_env: Option<String>,
    pub concurrency: usize,
    pub scope_timeout_seconds: u64,
    pub max_attempts: u32,
    pub activity_log: bool,
}

/// Whether a URL points at this machine (test-only credentials are refused elsewhere).
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or("");
    let authority = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A live AWS source: accounts (roles to assume, or Organizations discovery), regions.
#[derive(Debug, Clone)]
pub struct AwsLiveConfig {
    /// `None` = every enabled region of each account.
    pub regions: Option<Vec<String>>,
    pub assume_roles: Vec<String>,
    pub external_id: Option<String>,
    pub session_name: String,
    pub organization_role: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub home_region: String,
    pub concurrency: usize,
    pub scope_timeout_seconds: u64,
    pub max_attempts: u32,
    pub cloudtrail: bool,
}

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub provider: Provider,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub directory: PathBuf,
    pub formats: Vec<String>,
    pub webhook: Option<WebhookConfig>,
}

#[derive(Debug, Clone, Default)]
pub struct EvidenceConfig {
    /// ed25519 private key (PKCS#8 PEM) that signs evidence manifests.
    pub signing_key: Option<PathBuf>,
}

/// Report formats, in the order they are written.
pub const REPORT_FORMATS: &[&str] = &["html", "markdown", "json", "csv", "ocsf"];

#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// Cron expressions, normalized to six fields (seconds first).
    pub snapshot: Option<String>,
    pub reconcile: String,
    pub retention: Option<String>,
    /// `local`, `UTC` or an IANA zone name.
    pub timezone: String,
}

#[derive(Debug, Clone, Default)]
pub struct AttributionConfig {
    pub clock_skew_seconds: i64,
    pub log_retention_days: i64,
    pub privileged: Vec<String>,
    pub automation: Vec<String>,
    pub automation_user_agents: Vec<String>,
    pub break_glass: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ChangeWindow {
    pub name: String,
    pub scopes: Vec<String>,
    pub cron: String,
    pub duration_minutes: i64,
    pub timezone: String,
    pub principals: Vec<String>,
    pub ticket: Option<String>,
}

// ---- raw serde structs ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database: Option<String>,
    concurrency: Option<usize>,
    max_decompressed_mib: Option<u64>,
    report: Option<Spanned<toml::Table>>,
    evidence: Option<Spanned<toml::Table>>,
    schedule: Option<Spanned<toml::Table>>,
    retention: Option<Spanned<toml::Table>>,
    severity: Option<Spanned<toml::Table>>,
    attribution: Option<Spanned<toml::Table>>,
    #[serde(default)]
    source: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    audit: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    change_window: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    change_records: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    /// `aws`, `gcp` or `azure`.
    provider: String,
    /// Unique name of the source.
    name: String,
    /// Account (AWS), project (GCP) or subscription (Azure) of a file source.
    account: Option<String>,
    /// AWS region of a file source.
    region: Option<String>,
    /// Dump files (paths relative to the config file).
    #[serde(default)]
    files: Vec<String>,
    /// Ports this scope is expected to expose (not atypical): numbers or "lo-hi" strings.
    #[serde(default)]
    expected_ports: Vec<toml::Value>,
    /// Live AWS: regions to collect (a list, or "all" for every enabled region).
    regions: Option<toml::Value>,
    /// Live AWS: role ARNs to assume, one per account.
    #[serde(default)]
    assume_roles: Vec<String>,
    external_id: Option<String>,
    session_name: Option<String>,
    /// Live AWS: discover accounts with Organizations and assume this role name in each.
    organization_role: Option<String>,
    /// Endpoint override for every API of the source (emulators, VPC endpoints).
    endpoint_url: Option<String>,
    profile: Option<String>,
    home_region: Option<String>,
    concurrency: Option<usize>,
    scope_timeout_seconds: Option<u64>,
    max_attempts: Option<u32>,
    cloudtrail: Option<bool>,
    /// Live GCP: project ids to collect.
    #[serde(default)]
    projects: Vec<String>,
    /// Live GCP: `organizations/N`: discover its projects, read its hierarchical policies.
    organization: Option<String>,
    /// Live GCP: `folders/N`: discover the projects under these folders too.
    #[serde(default)]
    folders: Vec<String>,
    /// Live GCP/Azure: test-only credentials for a local fake (`"anonymous"`, or
    /// `{ static_token_env = "VAR" }`); refused unless `endpoint_url` is a loopback address.
    credentials: Option<toml::Value>,
    /// Live GCP: read Cloud Audit Logs (default true).
    audit_logs: Option<bool>,
    /// Live Azure: subscription ids, or "all" for every subscription the identity can see.
    subscriptions: Option<toml::Value>,
    /// Live Azure: token scope (sovereign clouds), default `https://management.azure.com/.default`.
    token_scope: Option<String>,
    /// Live Azure: read the Activity Log (default true).
    activity_log: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    provider: String,
    files: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    directory: Option<String>,
    formats: Option<Vec<String>>,
    /// Webhook URL (Slack-compatible); prefer `webhook_url_env`, the URL is a secret.
    webhook_url: Option<String>,
    /// Environment variable holding the webhook URL.
    webhook_url_env: Option<String>,
    /// Lowest severity of new drift that triggers a message (default high).
    webhook_min_severity: Option<String>,
    webhook_attempts: Option<u32>,
    webhook_timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvidence {
    /// ed25519 private key (PKCS#8 PEM) that signs evidence manifests.
    signing_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    snapshot: Option<String>,
    reconcile: Option<String>,
    retention: Option<String>,
    timezone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    max_age_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeverity {
    sensitive_ports: Option<Vec<toml::Value>>,
    #[serde(default)]
    overrides: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttribution {
    clock_skew_seconds: Option<i64>,
    log_retention_days: Option<i64>,
    #[serde(default)]
    privileged: Vec<String>,
    #[serde(default)]
    automation: Vec<String>,
    #[serde(default)]
    automation_user_agents: Vec<String>,
    #[serde(default)]
    break_glass: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    cron: String,
    duration_minutes: i64,
    timezone: Option<String>,
    #[serde(default)]
    principals: Vec<String>,
    ticket: Option<String>,
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

/// Normalize a cron expression to the six-field form tokio-cron-scheduler uses (seconds first);
/// a five-field expression runs at second 0.
pub fn normalize_cron(expr: &str) -> Result<String, String> {
    let fields = expr.split_whitespace().count();
    let six = match fields {
        5 => format!("0 {}", expr.trim()),
        6 | 7 => expr.trim().to_string(),
        _ => return Err(format!("cron expression {expr:?} has {fields} fields (expected 5, 6 with seconds, or 7 with year)")),
    };
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(&six)
        .map_err(|e| format!("cron expression {expr:?} is invalid: {e}"))?;
    Ok(six)
}

pub fn check_timezone(tz: &str) -> Result<(), String> {
    if tz.eq_ignore_ascii_case("local")
        || tz.eq_ignore_ascii_case("utc")
        || tz.parse::<chrono_tz::Tz>().is_ok()
    {
        Ok(())
    } else {
        Err(format!(
            "unknown time zone {tz:?} (expected local, UTC or an IANA name such as Europe/Berlin)"
        ))
    }
}

fn port_value(v: &toml::Value) -> Result<PortRange, String> {
    match v {
        toml::Value::Integer(i) => PortRange::new(*i, *i).map_err(|e| e.to_string()),
        toml::Value::String(s) => PortRange::parse(s).map_err(|e| e.to_string()),
        other => Err(format!(
            "port {other} is neither a number nor a \"lo-hi\" string"
        )),
    }
}

fn aws_live(s: &RawSource) -> Result<AwsLiveConfig, String> {
    if s.regions.is_none() {
        return Err(
            "field `regions` is required for a live AWS source (a list, or \"all\")".into(),
        );
    }
    let regions = string_list(&s.regions, "regions", "region")?;
    for r in &s.assume_roles {
        if !r.starts_with("arn:aws") || r.split(':').count() < 6 || !r.contains(":role/") {
            return Err(format!(
                "field `assume_roles`: {r:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            ));
        }
    }
    check_endpoint(s)?;
    Ok(AwsLiveConfig {
        home_region: s
            .home_region
            .clone()
            .or_else(|| regions.as_ref().and_then(|r| r.first().cloned()))
            .unwrap_or_else(|| "us-east-1".into()),
        regions,
        assume_roles: s.assume_roles.clone(),
        external_id: s.external_id.clone(),
        session_name: s.session_name.clone().unwrap_or_else(|| "netdrift".into()),
        organization_role: s.organization_role.clone(),
        endpoint_url: s.endpoint_url.clone(),
        profile: s.profile.clone(),
        concurrency: s.concurrency.unwrap_or(8).max(1),
        scope_timeout_seconds: s.scope_timeout_seconds.unwrap_or(300),
        max_attempts: s.max_attempts.unwrap_or(5),
        cloudtrail: s.cloudtrail.unwrap_or(true),
    })
}

fn string_list(
    v: &Option<toml::Value>,
    field: &str,
    what: &str,
) -> Result<Option<Vec<String>>, String> {
    match v {
        None => Ok(None),
        Some(toml::Value::String(a)) if a == "all" => Ok(None),
        Some(toml::Value::Array(v)) if !v.is_empty() => v
            .iter()
            .map(|r| {
                r.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("field `{field}`: {r} is not a {what}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!(
            "field `{field}`: {other} (expected a list of {what}s or \"all\")"
        )),
    }
}

fn check_endpoint(s: &RawSource) -> Result<(), String> {
    if let Some(u) = &s.endpoint_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(format!("field `endpoint_url`: {u:?} is not an http(s) URL"));
        }
    }
    Ok(())
}

fn test_credentials_allowed(s: &RawSource) -> Result<(), String> {
    match &s.endpoint_url {
        Some(u) if is_loopback_url(u) => Ok(()),
        _ => Err(format!(
            "field `credentials`: test-only credentials are refused unless `endpoint_url` is a loopback address (got {:?}); remove `credentials` to use the default credential chain",
            s.endpoint_url.as_deref().unwrap_or("no endpoint_url")
        )),
    }
}

fn gcp_live(s: &RawSource) -> Result<GcpLiveConfig, String> {
    check_endpoint(s)?;
    if s.projects.is_empty() && s.organization.is_none() && s.folders.is_empty() {
        return Err("neither `files` (a file source, with `account`) nor `projects`, `organization` or `folders` (a live GCP source)".into());
    }
    if let Some(o) = &s.organization {
        if !o.starts_with("organizations/") || o.len() <= "organizations/".len() {
            return Err(format!(
                "field `organization`: {o:?} (expected organizations/NUMBER)"
            ));
        }
    }
    for f in &s.folders {
        if !f.starts_with("folders/") || f.len() <= "folders/".len() {
            return Err(format!("field `folders`: {f:?} (expected folders/NUMBER)"));
        }
    }
    let anonymous = match &s.credentials {
        None => false,
        Some(toml::Value::String(c)) if c == "anonymous" => {
            test_credentials_allowed(s)?;
            true
        }
        Some(toml::Value::String(c)) if c == "default" => false,
        Some(other) => {
            return Err(format!(
                "field `credentials`: {other} (expected \"anonymous\" for a local fake, or leave it out for Application Default Credentials)"
            ))
        }
    };
    Ok(GcpLiveConfig {
        projects: s.projects.clone(),
        organization: s.organization.clone(),
        folders: s.folders.clone(),
        regions: string_list(&s.regions, "regions", "region")?,
        endpoint_url: s.endpoint_url.clone(),
        anonymous,
        concurrency: s.concurrency.unwrap_or(8).max(1),
        scope_timeout_seconds: s.scope_timeout_seconds.unwrap_or(300),
        max_attempts: s.max_attempts.unwrap_or(5).max(1),
        audit_logs: s.audit_logs.unwrap_or(true),
    })
}

fn azure_live(s: &RawSource) -> Result<AzureLiveConfig, String> {
    check_endpoint(s)?;
    if s.subscriptions.is_none() {
        return Err("neither `files` (a file source, with `account`) nor `subscriptions` (a live Azure source: a list, or \"all\")".into());
    }
    let subscriptions = string_list(&s.subscriptions, "subscriptions", "subscription id")?;
    let static_token_env = match &s.credentials {
        None => None,
        Some(toml::Value::Table(t)) => match t.get("static_token_env") {
            Some(toml::Value::String(var)) if t.len() == 1 => {
                test_credentials_allowed(s)?;
                Some(var.clone())
            }
            _ => {
                return Err(
                    "field `credentials`: expected { static_token_env = \"VAR\" } (a local fake only)"
                        .into(),
                )
            }
        },
        Some(other) => {
            return Err(format!(
                "field `credentials`: {other} (expected {{ static_token_env = \"VAR\" }} for a local fake, or leave it out for azure_identity's chain)"
            ))
        }
    };
    Ok(AzureLiveConfig {
        subscriptions,
        endpoint_url: s.endpoint_url.clone(),
        token_scope: s
            .token_scope
            .clone()
            .unwrap_or_else(|| "https://management.azure.com/.default".into()),
        static_token_env,
        concurrency: s.concurrency.unwrap_or(8).max(1),
        scope_timeout_seconds: s.scope_timeout_seconds.unwrap_or(300),
        max_attempts: s.max_attempts.unwrap_or(5).max(1),
        activity_log: s.activity_log.unwrap_or(true),
    })
}

impl Config {
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

    /// Parse and validate configuration text; relative paths resolve against `base`.
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

        let mut sources = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        let mut scopes = std::collections::BTreeSet::new();
        let mut expected_ports = Vec::new();
        for t in &raw.source {
            let Some(s): Option<RawSource> = ck.table(t, "source") else {
                continue;
            };
            let span = t.span();
            if !names.insert(s.name.clone()) {
                ck.at(
                    span.clone(),
                    format!("source {:?}: duplicate source name", s.name),
                );
            }
            let provider: Provider = match s.provider.parse() {
                Ok(p) => p,
                Err(e) => {
                    ck.at(
                        span.clone(),
                        format!("source {:?}: field `provider`: {e}", s.name),
                    );
                    continue;
                }
            };
            if provider == Provider::Aws && s.files.is_empty() {
                match aws_live(&s) {
                    Ok(live) => {
                        if !cfg!(feature = "aws") {
                            ck.at(span.clone(), format!("source {:?}: live AWS collection is not built into this netdrift (build with `--features aws`)", s.name));
                        }
                        sources.push(SourceConfig {
                            name: s.name,
                            provider,
                            kind: SourceKind::Aws(live),
                        });
                    }
                    Err(e) => ck.at(span.clone(), format!("source {:?}: {e}", s.name)),
                }
                continue;
            }
            if provider == Provider::Gcp && s.files.is_empty() {
                match gcp_live(&s) {
                    Ok(live) => {
                        if !cfg!(feature = "gcp") {
                            ck.at(span.clone(), format!("source {:?}: live GCP collection is not built into this netdrift (build with `--features gcp`)", s.name));
                        }
                        sources.push(SourceConfig {
                            name: s.name,
                            provider,
                            kind: SourceKind::Gcp(live),
                        });
                    }
                    Err(e) => ck.at(span.clone(), format!("source {:?}: {e}", s.name)),
                }
                continue;
            }
            if provider == Provider::Azure && s.files.is_empty() {
                match azure_live(&s) {
                    Ok(live) => {
                        if !cfg!(feature = "azure") {
                            ck.at(span.clone(), format!("source {:?}: live Azure collection is not built into this netdrift (build with `--features azure`)", s.name));
                        }
                        sources.push(SourceConfig {
                            name: s.name,
                            provider,
                            kind: SourceKind::Azure(live),
                        });
                    }
                    Err(e) => ck.at(span.clone(), format!("source {:?}: {e}", s.name)),
                }
                continue;
            }
            let Some(account) = s.account.clone().filter(|a| !a.is_empty()) else {
                ck.at(span.clone(), format!("source {:?}: field `account` is required for a file source (the account, project or subscription the dumps belong to)", s.name));
                continue;
            };
            if provider == Provider::Aws && s.region.is_none() {
                ck.at(
                    span.clone(),
                    format!(
                        "source {:?}: field `region` is required for an AWS file source",
                        s.name
                    ),
                );
            }
            if s.files.is_empty() {
                ck.at(
                    span.clone(),
                    format!("source {:?}: field `files` lists no dump files", s.name),
                );
            }
            let region = if provider == Provider::Aws {
                s.region.clone()
            } else {
                None
            };
            let scope = Scope::new(provider, account, region);
            if !scopes.insert(scope.key()) {
                ck.at(
                    span.clone(),
                    format!(
                        "source {:?}: scope {} is already collected by another source",
                        s.name,
                        scope.key()
                    ),
                );
            }
            let mut ports = Vec::new();
            for v in &s.expected_ports {
                match port_value(v) {
                    Ok(p) => ports.push(p),
                    Err(e) => ck.at(
                        span.clone(),
                        format!("source {:?}: field `expected_ports`: {e}", s.name),
                    ),
                }
            }
            if !ports.is_empty() {
                expected_ports.push((scope.key(), ports));
            }
            let files = s.files.iter().map(|f| resolve(f)).collect();
            sources.push(SourceConfig {
                name: s.name,
                provider,
                kind: SourceKind::Files { scope, files },
            });
        }

        let mut audit = Vec::new();
        for t in &raw.audit {
            let Some(a): Option<RawAudit> = ck.table(t, "audit") else {
                continue;
            };
            match a.provider.parse::<Provider>() {
                Ok(provider) => audit.push(AuditConfig {
                    provider,
                    files: a.files.iter().map(|f| resolve(f)).collect(),
                }),
                Err(e) => ck.at(t.span(), format!("audit: field `provider`: {e}")),
            }
        }

        let report = match raw
            .report
            .as_ref()
            .and_then(|t| ck.table::<RawReport>(t, "report"))
        {
            Some(r) => {
                let span = raw.report.as_ref().map(|t| t.span()).unwrap_or(0..0);
                let formats = r
                    .formats
                    .unwrap_or_else(|| REPORT_FORMATS.iter().map(|f| f.to_string()).collect());
                for f in &formats {
                    if !REPORT_FORMATS.contains(&f.as_str()) {
                        ck.at(span.clone(), format!("report: field `formats`: unknown format {f:?} (expected one of {})", REPORT_FORMATS.join(", ")));
                    }
                }
                let url = match (&r.webhook_url, &r.webhook_url_env) {
                    (Some(_), Some(_)) => {
                        ck.at(
                            span.clone(),
                            "report: set `webhook_url` or `webhook_url_env`, not both".into(),
                        );
                        None
                    }
                    (Some(u), None) => Some(u.clone()),
                    (None, Some(var)) => match std::env::var(var) {
                        Ok(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
                        _ => {
                            ck.at(span.clone(), format!("report: field `webhook_url_env`: environment variable {var:?} is not set"));
                            None
                        }
                    },
                    (None, None) => None,
                };
                if let Some(u) = &url {
                    crate::text::register_secret(u);
                    if !(u.starts_with("https://") || u.starts_with("http://")) {
                        ck.at(span.clone(), "report: the webhook URL must start with https:// (or http:// for a local relay)".into());
                    }
                }
                let raw_min = r.webhook_min_severity.as_deref().unwrap_or("high");
                let min_severity = Severity::parse(raw_min).unwrap_or_else(|| {
                    ck.at(span.clone(), format!("report: field `webhook_min_severity`: unknown severity {raw_min:?} (expected critical, high, medium, low or info)"));
                    Severity::High
                });
                ReportConfig {
                    directory: resolve(r.directory.as_deref().unwrap_or("reports")),
                    formats,
                    webhook: url.map(|url| WebhookConfig {
                        url: secrecy::SecretString::from(url),
                        min_severity,
                        attempts: r.webhook_attempts.unwrap_or(3).clamp(1, 10),
                        timeout: std::time::Duration::from_secs(
                            r.webhook_timeout_seconds.unwrap_or(10).clamp(1, 120),
                        ),
                        backoff: std::time::Duration::from_secs(2),
                    }),
                }
            }
            None => ReportConfig {
                directory: resolve("reports"),
                formats: REPORT_FORMATS.iter().map(|f| f.to_string()).collect(),
                webhook: None,
            },
        };

        let evidence = match raw
            .evidence
            .as_ref()
            .and_then(|t| ck.table::<RawEvidence>(t, "evidence"))
        {
            Some(e) => EvidenceConfig {
                signing_key: e.signing_key.as_deref().map(&resolve),
            },
            None => EvidenceConfig::default(),
        };

        let schedule = {
            let r = raw
                .schedule
                .as_ref()
                .and_then(|t| ck.table::<RawSchedule>(t, "schedule"));
            let span = raw.schedule.as_ref().map(|t| t.span()).unwrap_or(0..0);
            let r = r.unwrap_or(RawSchedule {
                snapshot: None,
                reconcile: None,
                retention: None,
                timezone: None,
            });
            let mut cron = |field: &str, v: Option<String>| -> Option<String> {
                let v = v?;
                match normalize_cron(&v) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        ck.at(span.clone(), format!("schedule: field `{field}`: {e}"));
                        None
                    }
                }
            };
            let snapshot = cron("snapshot", r.snapshot);
            let reconcile = cron(
                "reconcile",
                Some(r.reconcile.unwrap_or_else(|| "0 0 2 * * *".into())),
            )
            .unwrap_or_else(|| "0 0 2 * * *".into());
            let retention = cron("retention", r.retention);
            let timezone = r.timezone.unwrap_or_else(|| "local".into());
            if let Err(e) = check_timezone(&timezone) {
                ck.at(span.clone(), format!("schedule: field `timezone`: {e}"));
            }
            ScheduleConfig {
                snapshot,
                reconcile,
                retention,
                timezone,
            }
        };

        let retention_days = raw
            .retention
            .as_ref()
            .and_then(|t| ck.table::<RawRetention>(t, "retention"))
            .and_then(|r| r.max_age_days);

        let mut severity = SeverityPolicy::default();
        if let Some(t) = &raw.severity {
            if let Some(s) = ck.table::<RawSeverity>(t, "severity") {
                if let Some(ports) = s.sensitive_ports {
                    severity.sensitive_ports.clear();
                    for v in &ports {
                        match port_value(v) {
                            Ok(p) => severity.sensitive_ports.push((p.from, p.to)),
                            Err(e) => {
                                ck.at(t.span(), format!("severity: field `sensitive_ports`: {e}"))
                            }
                        }
                    }
                }
                for (code, v) in &s.overrides {
                    let known = netdrift_snapshots::severity::MATRIX
                        .iter()
                        .any(|(c, _, _)| c == code);
                    let sev = v.as_str().and_then(Severity::parse);
                    match (known, sev) {
                        (true, Some(sev)) => {
                            severity.overrides.insert(code.clone(), sev);
                        }
                        (false, _) => ck.at(t.span(), format!("severity.overrides: unknown condition {code:?} (see docs/severity.md)")),
                        (_, None) => ck.at(t.span(), format!("severity.overrides.{code}: {v} is not info, low, medium, high or critical")),
                    }
                }
            }
        }

        let attribution = match raw
            .attribution
            .as_ref()
            .and_then(|t| ck.table::<RawAttribution>(t, "attribution"))
        {
            Some(a) => AttributionConfig {
                clock_skew_seconds: a.clock_skew_seconds.unwrap_or(300),
                log_retention_days: a.log_retention_days.unwrap_or(90),
                privileged: a.privileged,
                automation: a.automation,
                automation_user_agents: a.automation_user_agents,
                break_glass: a.break_glass,
            },
            None => AttributionConfig {
                clock_skew_seconds: 300,
                log_retention_days: 90,
                ..Default::default()
            },
        };

        let mut change_windows = Vec::new();
        for t in &raw.change_window {
            let Some(w): Option<RawWindow> = ck.table(t, "change_window") else {
                continue;
            };
            let tz = w.timezone.unwrap_or_else(|| "UTC".into());
            if let Err(e) = check_timezone(&tz) {
                ck.at(
                    t.span(),
                    format!("change_window {:?}: field `timezone`: {e}", w.name),
                );
            }
            if w.duration_minutes <= 0 {
                ck.at(
                    t.span(),
                    format!(
                        "change_window {:?}: field `duration_minutes` must be positive",
                        w.name
                    ),
                );
            }
            match normalize_cron(&w.cron) {
                Ok(cron) => change_windows.push(ChangeWindow {
                    name: w.name,
                    scopes: w.scopes,
                    cron,
                    duration_minutes: w.duration_minutes,
                    timezone: tz,
                    principals: w.principals,
                    ticket: w.ticket,
                }),
                Err(e) => ck.at(
                    t.span(),
                    format!("change_window {:?}: field `cron`: {e}", w.name),
                ),
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
            database: raw.database.map(|d| resolve(&d)),
            sources,
            audit,
            report,
            evidence,
            schedule,
            retention_days,
            drift: DriftSettings {
                severity,
                expected_ports,
            },
            attribution,
            change_windows,
            change_records: raw.change_records.iter().map(|p| resolve(p)).collect(),
            concurrency: raw.concurrency.unwrap_or(4),
            max_decompressed: raw.max_decompressed_mib.map(|m| m.saturating_mul(1 << 20)),
        })
    }
}

/// Settings the drift computation needs.
#[derive(Debug, Clone, Default)]
pub struct DriftSettings {
    pub severity: SeverityPolicy,
    /// Expected ports per scope key (not atypical there).
    pub expected_ports: Vec<(String, Vec<netdrift_snapshots::PortRange>)>,
}

/// Where and when to POST.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// A secret (Slack-style URLs carry their token in the path): `Debug` prints `[REDACTED]`.
    pub url: secrecy::SecretString,
    /// Only new unapproved items at this severity or above trigger a message.
    pub min_severity: Severity,
    /// Attempts in all (the first and the retries).
    pub attempts: u32,
    pub timeout: std::time::Duration,
    /// Wait before the first retry; doubled each time (or the server's `Retry-After`).
    pub backoff: std::time::Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_and_six_field_cron() {
        assert_eq!(normalize_cron("0 2 * * *").unwrap(), "0 0 2 * * *");
        assert_eq!(normalize_cron("*/5 * * * * *").unwrap(), "*/5 * * * * *");
        assert!(normalize_cron("61 * * * *").is_err());
        assert!(normalize_cron("* *").is_err());
    }

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
}
