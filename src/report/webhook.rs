//! Optional delivery: a short Slack-compatible message (`{"text": …}`, composed by
//! `deliver.rs`) POSTed to a webhook. A failing webhook is logged and retried, and never fails
//! the run: the report files are the record, the webhook only a nudge.

use std::time::Duration;

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
