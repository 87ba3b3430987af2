//! `[report]` and `[evidence]`: where reports go, in which formats, the webhook, the signing
//! key.

use std::path::PathBuf;

use serde::Deserialize;

use netdrift_snapshots::Severity;

/// Report formats, in the order they are written.
pub const REPORT_FORMATS: &[&str] = &["html", "markdown", "json", "csv", "ocsf", "asff"];

#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub directory: PathBuf,
    pub formats: Vec<String>,
    /// Webhook routes: `[report] webhook_url` is the one named `default`, then each
    /// `[[report.webhook]]`.
    pub webhooks: Vec<WebhookConfig>,
    /// ASFF: the AWS account (12 digits) whose Security Hub takes the GCP and Azure findings;
    /// without it they are left out of the ASFF file (AWS findings use their own account).
    pub asff_account: Option<String>,
    /// ASFF: the region of that Security Hub (default us-east-1).
    pub asff_region: Option<String>,
}

/// The route `[report] webhook_url` (or `webhook_url_env`) configures.
pub const DEFAULT_ROUTE: &str = "default";

/// Which items a route takes: every condition given must hold (any value of each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFilter {
    pub providers: Vec<netdrift_snapshots::Provider>,
    /// Scope keys, with `*` wildcards (`aws:111122223333:*`).
    pub scopes: Vec<String>,
    /// `key` (the resource has the tag) or `key=value` (`*` wildcards in the value).
    pub tags: Vec<String>,
}

impl RouteFilter {
    /// Does an item of `provider` in `scope` whose resource has `tags` belong to this route?
    /// `tags: None` (a coverage line: no resource to read tags from) passes a tag condition,
    /// so that what a route's scopes could not read always reaches it.
    pub fn matches(
        &self,
        provider: netdrift_snapshots::Provider,
        scope: &str,
        tags: Option<&std::collections::BTreeMap<String, String>>,
    ) -> bool {
        (self.providers.is_empty() || self.providers.contains(&provider))
            && super::exceptions::glob(&self.scopes, &[scope])
            && tags.is_none_or(|t| tags_match(&self.tags, t))
    }
}

/// Tag conditions (`key`, or `key=value` with `*` in the value): none given, or any holds.
pub(crate) fn tags_match(
    conds: &[String],
    tags: &std::collections::BTreeMap<String, String>,
) -> bool {
    conds.is_empty()
        || conds.iter().any(|cond| match cond.split_once('=') {
            Some((k, v)) => tags
                .get(k)
                .is_some_and(|have| wildmatch::WildMatch::new(v).matches(have)),
            None => tags.contains_key(cond),
        })
}

/// Where and when to POST.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The route's name: what it delivered is kept under it, so each route gets an item once.
    pub name: String,
    pub filter: RouteFilter,
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

#[derive(Debug, Clone, Default)]
pub struct EvidenceConfig {
    /// ed25519 private key (PKCS#8 PEM) that signs evidence manifests.
    pub signing_key: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReport {
    /// Where reports are written (default `reports`, relative to the config file).
    directory: Option<String>,
    /// Any of html, markdown, json, csv, ocsf, asff (default all).
    formats: Option<Vec<String>>,
    asff_account: Option<String>,
    asff_region: Option<String>,
    /// Webhook URL (Slack-compatible); prefer `webhook_url_env`, the URL is a secret.
    webhook_url: Option<String>,
    /// Environment variable holding the webhook URL.
    webhook_url_env: Option<String>,
    /// Lowest severity of new drift that triggers a message (default high).
    webhook_min_severity: Option<String>,
    webhook_attempts: Option<u32>,
    webhook_timeout_seconds: Option<u64>,
    /// `[[report.webhook]]`: more routes, each with its own URL, threshold and filter.
    #[serde(default)]
    webhook: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    name: Option<String>,
    url: Option<String>,
    url_env: Option<String>,
    min_severity: Option<String>,
    attempts: Option<u32>,
    timeout_seconds: Option<u64>,
    #[serde(default)]
    providers: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// A webhook URL from the file or the environment; `what` names the keys in problems.
fn webhook_url(
    url: &Option<String>,
    env: &Option<String>,
    keys: (&str, &str),
    what: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    let url = match (url, env) {
        (Some(_), Some(_)) => {
            problems.push(format!(
                "{what}: set `{}` or `{}`, not both",
                keys.0, keys.1
            ));
            None
        }
        (Some(u), None) => Some(u.clone()),
        (None, Some(var)) => match std::env::var(var) {
            Ok(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
            _ => {
                problems.push(format!(
                    "{what}: field `{}`: environment variable {var:?} is not set",
                    keys.1
                ));
                None
            }
        },
        (None, None) => None,
    };
    if let Some(u) = &url {
        crate::text::register_secret(u);
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            problems.push(format!(
                "{what}: field `{}`: the webhook URL must start with https:// (or http:// for a local relay)",
                keys.0
            ));
        }
    }
    url
}

fn min_severity(raw: Option<&str>, what: &str, key: &str, problems: &mut Vec<String>) -> Severity {
    let raw = raw.unwrap_or("high");
    Severity::parse(raw).unwrap_or_else(|| {
        problems.push(format!("{what}: field `{key}`: unknown severity {raw:?} (expected critical, high, medium, low or info)"));
        Severity::High
    })
}

fn hook(
    name: String,
    url: String,
    min_severity: Severity,
    attempts: Option<u32>,
    timeout: Option<u64>,
    filter: RouteFilter,
) -> WebhookConfig {
    WebhookConfig {
        name,
        filter,
        url: secrecy::SecretString::from(url),
        min_severity,
        attempts: attempts.unwrap_or(3).clamp(1, 10),
        timeout: std::time::Duration::from_secs(timeout.unwrap_or(10).clamp(1, 120)),
        backoff: std::time::Duration::from_secs(2),
    }
}

/// `[[report.webhook]]` → a route; `None` (with problems) when it cannot be one.
fn route(r: RawRoute, problems: &mut Vec<String>) -> Option<WebhookConfig> {
    let what = format!(
        "[[report.webhook]] {}",
        r.name
            .as_deref()
            .map(|n| format!("{n:?}"))
            .unwrap_or_default()
    );
    let what = what.trim_end();
    let Some(name) = r.name.filter(|n| !n.trim().is_empty()) else {
        problems.push(format!(
            "{what}: field `name` is required: what a route delivered is kept under its name"
        ));
        return None;
    };
    let url = webhook_url(&r.url, &r.url_env, ("url", "url_env"), what, problems);
    if url.is_none() && r.url.is_none() && r.url_env.is_none() {
        problems.push(format!("{what}: set `url` or `url_env`"));
    }
    let min = min_severity(r.min_severity.as_deref(), what, "min_severity", problems);
    let mut providers = Vec::new();
    for p in &r.providers {
        match p.parse::<netdrift_snapshots::Provider>() {
            Ok(p) => providers.push(p),
            Err(_) => problems.push(format!(
                "{what}: field `providers`: unknown provider {p:?} (expected aws, gcp or azure)"
            )),
        }
    }
    for t in &r.tags {
        if t.trim().is_empty() || t.starts_with('=') {
            problems.push(format!(
                "{what}: field `tags`: {t:?} is neither `key` nor `key=value`"
            ));
        }
    }
    let filter = RouteFilter {
        providers,
        scopes: r.scopes,
        tags: r.tags,
    };
    url.map(|u| hook(name, u, min, r.attempts, r.timeout_seconds, filter))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvidence {
    /// ed25519 private key (PKCS#8 PEM) that signs evidence manifests.
    signing_key: Option<String>,
}

/// `[report]` → its settings; `resolve` makes a path relative to the config file.
pub(super) fn report(
    r: Option<RawReport>,
    resolve: &dyn Fn(&str) -> PathBuf,
    problems: &mut Vec<String>,
) -> ReportConfig {
    let all = || REPORT_FORMATS.iter().map(|f| f.to_string()).collect();
    let Some(r) = r else {
        return ReportConfig {
            directory: resolve("reports"),
            formats: all(),
            webhooks: Vec::new(),
            asff_account: None,
            asff_region: None,
        };
    };
    if let Some(a) = &r.asff_account {
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!(
                "report: field `asff_account`: {a:?} is not an AWS account id (12 digits)"
            ));
        }
    }
    if let Some(reg) = &r.asff_region {
        if reg.trim().is_empty()
            || !reg
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            problems.push(format!(
                "report: field `asff_region`: {reg:?} is not an AWS region name (us-east-1)"
            ));
        }
    }
    let formats: Vec<String> = r.formats.unwrap_or_else(all);
    for f in &formats {
        if !REPORT_FORMATS.contains(&f.as_str()) {
            problems.push(format!(
                "report: field `formats`: unknown format {f:?} (expected one of {})",
                REPORT_FORMATS.join(", ")
            ));
        }
    }
    let url = webhook_url(
        &r.webhook_url,
        &r.webhook_url_env,
        ("webhook_url", "webhook_url_env"),
        "report",
        problems,
    );
    let min = min_severity(
        r.webhook_min_severity.as_deref(),
        "report",
        "webhook_min_severity",
        problems,
    );
    let mut webhooks: Vec<WebhookConfig> = url
        .map(|u| {
            hook(
                DEFAULT_ROUTE.into(),
                u,
                min,
                r.webhook_attempts,
                r.webhook_timeout_seconds,
                RouteFilter::default(),
            )
        })
        .into_iter()
        .collect();
    for raw in r.webhook {
        if let Some(h) = route(raw, problems) {
            if webhooks.iter().any(|w| w.name == h.name) {
                problems.push(format!(
                    "[[report.webhook]] {:?}: field `name`: another route has this name{}",
                    h.name,
                    if h.name == DEFAULT_ROUTE {
                        " (`default` is `[report] webhook_url`'s)"
                    } else {
                        ""
                    }
                ));
            } else {
                webhooks.push(h);
            }
        }
    }
    ReportConfig {
        directory: resolve(r.directory.as_deref().unwrap_or("reports")),
        formats,
        webhooks,
        asff_account: r.asff_account,
        asff_region: r.asff_region,
    }
}

pub(super) fn evidence(
    e: Option<RawEvidence>,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> EvidenceConfig {
    EvidenceConfig {
        signing_key: e.and_then(|e| e.signing_key).map(|k| resolve(&k)),
    }
}
