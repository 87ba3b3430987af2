//! Optional delivery: a short Slack-compatible summary (`{"text": …}`) POSTed to a webhook when a
//! run finds new high or critical drift. A failing webhook is logged and retried, and never fails
//! the run: the report files are the record, the webhook only a nudge.

use std::time::Duration;

use netdrift_snapshots::Severity;

use super::{headline, Context};
pub use crate::config::WebhookConfig;

/// What happened to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing new at or above the threshold.
    NothingToSend,
    Delivered {
        attempts: u32,
    },
    Failed {
        attempts: u32,
        last_error: String,
    },
}

/// The message: counts, then the riskiest new items, one line each.
pub fn message(ctx: &Context<'_>, min: Severity, report_path: Option<&str>) -> Option<String> {
    let new = ctx.new_at_least(min);
    if new.is_empty() {
        return None;
    }
    let crit = new
        .iter()
        .filter(|i| i.severity == Severity::Critical)
        .count();
    let mut s = format!(
        "netdrift: {} new unapproved drift item(s) at {} or above ({} critical){}\n",
        new.len(),
        min.as_str(),
        crit,
        ctx.run_id.map(|r| format!(", run {r}")).unwrap_or_default()
    );
    for i in new.iter().take(10) {
        let who = i
            .attribution
            .as_ref()
            .and_then(|a| a.actors.first())
            .and_then(|a| a.principal.clone())
            .unwrap_or_else(|| "unattributed".into());
        s += &format!(
            "• [{}] {} {} {}: {} (by {})\n",
            i.severity.as_str().to_uppercase(),
            i.provider,
            i.scope,
            i.resource,
            headline(i),
            who
        );
    }
    if new.len() > 10 {
        s += &format!("… and {} more\n", new.len() - 10);
    }
    if let Some(p) = report_path {
        s += &format!("Report: {p}\n");
    }
    Some(s)
}

/// POST the summary, retrying on connection errors, 429 and 5xx. Never returns an error.
pub fn deliver(cfg: &WebhookConfig, text: &str) -> Delivery {
    let agent: ureq::Agent = ureq::config::Config::builder()
        .timeout_global(Some(cfg.timeout))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let body = serde_json::json!({ "text": text }).to_string();
    let mut backoff = netdrift_provider_api::Backoff::new(cfg.backoff, Duration::from_secs(300));
    let mut last_error = String::new();
    for attempt in 1..=cfg.attempts.max(1) {
        let res = agent
            .post(secrecy::ExposeSecret::expose_secret(&cfg.url))
            .header("Content-Type", "application/json")
            .send(body.as_bytes());
        let mut retry_after = None;
        match res {
            Ok(resp) if resp.status().is_success() => {
                tracing::info!(attempt, "webhook delivered");
                return Delivery::Delivered { attempts: attempt };
            }
            Ok(resp) => {
                let status = resp.status();
                retry_after = netdrift_provider_api::retry_after_header(
                    resp.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                );
                last_error = format!("HTTP {status}");
                let code = netdrift_provider_api::status_problem_code(status.as_u16());
                if !netdrift_provider_api::is_retryable(code) {
                    tracing::warn!(attempt, error = %last_error, "webhook refused the message; not retrying");
                    return Delivery::Failed {
                        attempts: attempt,
                        last_error,
                    };
                }
            }
            Err(e) => last_error = e.to_string(),
        }
        tracing::warn!(attempt, error = %last_error, "webhook delivery failed");
        if attempt < cfg.attempts {
            std::thread::sleep(backoff.wait(retry_after));
        }
    }
    Delivery::Failed {
        attempts: cfg.attempts.max(1),
        last_error,
    }
}
