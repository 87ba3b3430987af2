//! netdrift-provider-azure: live collection from Azure Resource Manager.
//!
//! API boundary: `collect` returns one `Collected` per subscription (failed ones included, with
//! their problems) and the Activity Log events of the window since each subscription's
//! previous snapshot. Nothing here touches SQLite, decides drift or formats reports.
//!
//! Network security groups come from azure_mgmt_network 0.21 (`list_all`, following
//! `nextLink`); the subscription list and the Activity Log, which it does not cover, go through
//! azure_core's HTTP pipeline with the same credential and retry policy (429 and 5xx retried,
//! `Retry-After` honoured). The JSON is converted by `netdrift-provider-file`, as offline dumps
//! are. This crate is the only one that knows the Azure SDK: replacing the SDK stays local.

mod arm;
mod config;
pub mod remediate;
mod watch;

use arm::Arm;

pub use config::{AzureConfig, TestCredentials};

use std::sync::Arc;
use std::time::Duration;

use azure_core::auth::{AccessToken, Secret, TokenCredential};
use azure_core::{Context, ExponentialRetryOptions, Method, Pipeline, Request, RetryOptions, Url};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use serde_json::{json, Value};

use netdrift_provider_file::json::Node;
use netdrift_snapshots::{Collected, Problem, ProblemCode, Provider, ResourceKind, Scope};

/// Every Azure RBAC action the calls in this crate need. `docs/iam/azure-role.json` must
/// allow each one (a test checks both ways).
pub const ACTIONS: &[&str] = &[
    "Microsoft.Resources/subscriptions/read",
    "Microsoft.Network/networkSecurityGroups/read",
    "Microsoft.Network/networkInterfaces/read",
    "Microsoft.Network/publicIPAddresses/read",
    "Microsoft.Insights/eventtypes/values/read",
    "Microsoft.Insights/diagnosticSettings/read",
];

const ARM: &str = "https://management.azure.com";
const SUBSCRIPTIONS_API: &str = "2022-12-01";
const ACTIVITY_API: &str = "2015-04-01";
/// Subscription-scope diagnostic settings (`logs[].categoryGroup` needs this version).
const DIAGNOSTIC_SETTINGS_API: &str = "2021-05-01-preview";

/// One configured Azure source.
#[derive(Debug, Clone)]
pub struct AzureSource {
    pub name: String,
    /// `None` = every subscription the identity can see.
    pub subscriptions: Option<Vec<String>>,
    /// ARM endpoint: sovereign clouds, a local fake. Default `https://management.azure.com`.
    pub endpoint_url: Option<String>,
    /// Token scope, e.g. `https://management.usgovcloudapi.net/.default`.
    pub token_scope: String,
    /// A test-only bearer token (loopback endpoints only): `Debug` prints `[REDACTED]`.
    pub static_token: Option<secrecy::SecretString>,
    pub concurrency: usize,
    pub scope_timeout: Duration,
    pub max_attempts: u32,
    pub activity_log: bool,
}

/// What one source produced: the shared output of every provider.
pub use netdrift_provider_api::SourceOutput as Collection;

#[async_trait::async_trait(?Send)]
impl netdrift_provider_api::Source for AzureSource {
    fn provider(&self) -> Provider {
        Provider::Azure
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn describe(&self) -> String {
        self.summary()
    }
    async fn collect(&self, ctx: &netdrift_provider_api::CollectContext<'_>) -> Collection {
        collect(self, ctx.since, ctx.now, &ctx.shutdown).await
    }
    async fn watch(
        &self,
        ctx: &netdrift_provider_api::watch::WatchContext<'_>,
    ) -> Option<netdrift_provider_api::watch::WatchOutput> {
        if !self.activity_log {
            return None;
        }
        Some(watch::watch(self, ctx).await)
    }
    fn covers(&self, scope: &Scope) -> bool {
        scope.provider() == Provider::Azure
            && self
                .subscriptions
                .as_ref()
                .is_none_or(|subs| subs.iter().any(|x| x.eq_ignore_ascii_case(scope.account())))
    }
    async fn apply(
        &self,
        scope: &Scope,
        calls: &[netdrift_provider_api::Call],
    ) -> Vec<netdrift_provider_api::CallOutcome> {
        remediate::apply(self, scope, calls).await
    }
}

/// Collect every configured (or visible) subscription.
pub async fn collect(
    src: &AzureSource,
    since: &(dyn Fn(&str) -> DateTime<Utc> + Sync),
    now: DateTime<Utc>,
    shutdown: &netdrift_provider_api::Shutdown,
) -> Collection {
    let mut out = Collection::default();
    let arm = match Arm::new(src) {
        Ok(a) => Arc::new(a),
        Err(p) => {
            for s in src.subscriptions.iter().flatten() {
                out.scopes.push(Collected::failed(
                    Scope::new(Provider::Azure, s.as_str(), None),
                    p.clone(),
                ));
            }
            out.problems.push(p);
            return out;
        }
    };
    let subscriptions = match arm.subscriptions_of(src).await {
        Ok(s) => s,
        Err(p) => {
            out.problems.push(p);
            return out;
        }
    };
    // Subscriptions, at most `concurrency` at a time, each within the scope timeout; a task
    // that panics or times out is a failed subscription.
    let tasks: Vec<_> = subscriptions
        .into_iter()
        .map(|sub| {
            let arm = arm.clone();
            let scope = Scope::new(Provider::Azure, sub.clone(), None);
            (scope, async move { arm.collect_subscription(&sub).await })
        })
        .collect();
    out.scopes.extend(
        netdrift_provider_api::run_scopes(
            tasks,
            src.concurrency,
            Some(src.scope_timeout),
            shutdown,
            Collected::failed,
        )
        .await,
    );
    out.scopes.sort_by_key(|c| c.scope.key());
    if src.activity_log {
        for c in &out.scopes {
            if c.status == netdrift_snapshots::SnapshotStatus::Failed {
                continue;
            }
            let start = since(&c.scope.key());
            // One after the other: the settings matter only when the log itself is readable.
            let activity = arm.activity(c.scope.account(), start, now).await;
            let settings = arm.diagnostic_settings(c.scope.account()).await;
            out.logging
                .push(logging_check(&c.scope, &activity, settings));
            match activity {
                Ok(records) => {
                    merge_records(&mut out.events, records);
                    out.windows.push(netdrift_provider_api::AuditWindow {
                        account: c.scope.account().to_string(),
                        start,
                        end: now,
                    });
                }
                Err(p) => out.audit_failures.push(netdrift_snapshots::AuditFailure {
                    account: c.scope.account().to_string(),
                    region: None,
                    start,
                    end: now,
                    problem: p,
                }),
            }
        }
    }
    out
}

/// Whether a subscription's firewall changes are logged and kept: the Activity Log always
/// records them, so the question is whether netdrift can read it and whether a diagnostic
/// setting exports the Administrative category beyond the platform's 90 days.
fn logging_check(
    scope: &Scope,
    activity: &Result<Vec<serde_json::Value>, Problem>,
    settings: Result<Vec<serde_json::Value>, Problem>,
) -> netdrift_snapshots::logging::LoggingCheck {
    use netdrift_snapshots::logging::{LoggingCheck, LoggingVerdict};
    let mut evidence = Vec::new();
    if let Err(p) = activity {
        if matches!(
            p.code,
            netdrift_snapshots::ProblemCode::PermissionDenied
                | netdrift_snapshots::ProblemCode::Auth
        ) {
            return LoggingCheck {
                scope: scope.clone(),
                verdict: LoggingVerdict::Unreadable,
                evidence: vec![format!("the Activity Log could not be read: {}", p.cause())],
                problem: Some(p.clone()),
            };
        }
    }
    let read = settings.and_then(|list| {
        netdrift_provider_file::audit::diagnostics::read(&serde_json::Value::Array(list)).map_err(
            |why| Problem {
                code: netdrift_snapshots::ProblemCode::Decode,
                kind: None,
                operation: Some("Microsoft.Insights/diagnosticSettings/read".into()),
                message: format!("unexpected diagnostic settings: {why}"),
            },
        )
    });
    match read {
        Ok(e) => {
            evidence.extend(e.evidence);
            LoggingCheck {
                scope: scope.clone(),
                verdict: if e.exported {
                    LoggingVerdict::Logged
                } else {
                    LoggingVerdict::NotExported
                },
                evidence,
                problem: None,
            }
        }
        Err(p) => LoggingCheck {
            scope: scope.clone(),
            verdict: LoggingVerdict::Unverified,
            evidence: vec![format!(
                "the diagnostic settings could not be read: {}",
                p.cause()
            )],
            problem: Some(p),
        },
    }
}

/// Parse Activity Log records into `into`, once per event id; an unreadable record is skipped
/// with a warning.
pub(crate) fn merge_records(
    into: &mut Vec<netdrift_snapshots::AuditEvent>,
    records: Vec<serde_json::Value>,
) {
    for rec in records {
        match netdrift_provider_file::audit::azure::parse_event(&rec) {
            Ok(Some(ev)) => {
                if !into.iter().any(|e| e.event_id == ev.event_id) {
                    into.push(ev);
                }
            }
            Ok(None) => {}
            Err(why) => tracing::warn!(%why, "skipping an unreadable Activity Log record"),
        }
    }
}
