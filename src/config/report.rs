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
    pub webhook: Option<WebhookConfig>,
    /// ASFF: the AWS account (12 digits) whose Security Hub takes the GCP and Azure findings;
    /// without it they are left out of the ASFF file (AWS findings use their own account).
    pub asff_account: Option<String>,
    /// ASFF: the region of that Security Hub (default us-east-1).
    pub asff_region: Option<String>,
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
            webhook: None,
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
    let url = match (&r.webhook_url, &r.webhook_url_env) {
        (Some(_), Some(_)) => {
            problems.push("report: set `webhook_url` or `webhook_url_env`, not both".into());
            None
        }
        (Some(u), None) => Some(u.clone()),
        (None, Some(var)) => match std::env::var(var) {
            Ok(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
            _ => {
                problems.push(format!(
                    "report: field `webhook_url_env`: environment variable {var:?} is not set"
                ));
                None
            }
        },
        (None, None) => None,
    };
    if let Some(u) = &url {
        crate::text::register_secret(u);
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            problems.push(
                "report: the webhook URL must start with https:// (or http:// for a local relay)"
                    .into(),
            );
        }
    }
    let raw_min = r.webhook_min_severity.as_deref().unwrap_or("high");
    let min_severity = Severity::parse(raw_min).unwrap_or_else(|| {
        problems.push(format!("report: field `webhook_min_severity`: unknown severity {raw_min:?} (expected critical, high, medium, low or info)"));
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
