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

mod config;
pub mod remediate;

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
];

/// Every page of one azure_mgmt_network `list_all` of a subscription, each item as ARM JSON.
macro_rules! list_all {
    ($self:ident, $client:ident, $subscription:expr, $op:literal, $kind:expr) => {{
        let (op, kind) = ($op, Some($kind));
        let mut pages = $self
            .network
            .$client()
            .list_all($subscription)
            .into_stream();
        let mut out = Vec::new();
        let mut failed = None;
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    for item in page.value {
                        match serde_json::to_value(&item) {
                            Ok(v) => out.push(v),
                            Err(e) => {
                                failed = Some(problem(
                                    ProblemCode::Decode,
                                    kind,
                                    op,
                                    format!("{op}: {e}"),
                                ));
                                break;
                            }
                        }
                    }
                }
                Err(e) => failed = Some(classify(op, kind, &e)),
            }
            if failed.is_some() {
                break;
            }
        }
        match failed {
            Some(p) => Err::<Vec<Value>, Problem>(p),
            None => Ok(out),
        }
    }};
}

const ARM: &str = "https://management.azure.com";
const SUBSCRIPTIONS_API: &str = "2022-12-01";
const ACTIVITY_API: &str = "2015-04-01";

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

/// A credential that hands out one fixed token (tests against a local fake).
#[derive(Debug)]
struct StaticToken(secrecy::SecretString);

#[async_trait::async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(&self, _scopes: &[&str]) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(
            Secret::new(secrecy::ExposeSecret::expose_secret(&self.0).to_string()),
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        ))
    }
    async fn clear_cache(&self) -> azure_core::Result<()> {
        Ok(())
    }
}

struct Arm {
    endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    scope: String,
    pipeline: Pipeline,
    network: azure_mgmt_network::package_2024_03::Client,
}

fn problem(code: ProblemCode, kind: Option<ResourceKind>, op: &str, message: String) -> Problem {
    Problem {
        code,
        kind,
        operation: Some(op.into()),
        message,
    }
}

/// Map an azure_core error to a coverage problem naming the action the call needed.
fn classify(op: &str, kind: Option<ResourceKind>, e: &azure_core::Error) -> Problem {
    use azure_core::error::ErrorKind;
    let code = match e.kind() {
        ErrorKind::HttpResponse { status, .. } => {
            netdrift_provider_api::status_problem_code(u16::from(*status))
        }
        ErrorKind::Credential => ProblemCode::Auth,
        ErrorKind::Io => ProblemCode::Transient,
        ErrorKind::DataConversion => ProblemCode::Decode,
        _ => ProblemCode::Transient,
    };
    let text = e
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let message = if matches!(e.kind(), ErrorKind::Credential) {
        format!(
            "{op}: no usable Azure credential (environment service principal, workload identity, \
             managed identity and Azure CLI tried): set AZURE_TENANT_ID, AZURE_CLIENT_ID and \
             AZURE_CLIENT_SECRET, run `az login`, or run with a managed identity ({text})"
        )
    } else {
        format!("{op}: {text}")
    };
    problem(code, kind, op, message)
}

fn retry(max_attempts: u32) -> RetryOptions {
    RetryOptions::exponential(
        ExponentialRetryOptions::default()
            .max_retries(max_attempts.saturating_sub(1))
            .initial_delay(Duration::from_millis(200))
            .max_delay(Duration::from_secs(30)),
    )
}

impl Arm {
    fn new(src: &AzureSource) -> Result<Arm, Problem> {
        let setup = |m: String| problem(ProblemCode::Setup, None, "setup", m);
        let endpoint = Url::parse(src.endpoint_url.as_deref().unwrap_or(ARM))
            .map_err(|e| setup(format!("endpoint_url: {e}")))?;
        let credential: Arc<dyn TokenCredential> = match &src.static_token {
            Some(t) => Arc::new(StaticToken(t.clone())),
            None => azure_identity::create_credential().map_err(|e| {
                problem(
                    ProblemCode::Auth,
                    None,
                    "credential",
                    format!("no Azure credential (environment service principal, managed identity or Azure CLI): {e}"),
                )
            })?,
        };
        let network = azure_mgmt_network::package_2024_03::Client::builder(credential.clone())
            .endpoint(endpoint.clone())
            .scopes(&[src.token_scope.as_str()])
            .retry(retry(src.max_attempts))
            .build()
            .map_err(|e| setup(format!("azure_mgmt_network client: {e}")))?;
        let pipeline = Pipeline::new(
            Some("netdrift"),
            Some(env!("CARGO_PKG_VERSION")),
            azure_core::ClientOptions::default().retry(retry(src.max_attempts)),
            Vec::new(),
            Vec::new(),
        );
        Ok(Arm {
            endpoint,
            credential,
            scope: src.token_scope.clone(),
            pipeline,
            network,
        })
    }

    /// GET a list through the pipeline, following `nextLink`.
    async fn list(
        &self,
        op: &str,
        kind: Option<ResourceKind>,
        first: Url,
    ) -> Result<Vec<Value>, Problem> {
        let mut out = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let token = self
                .credential
                .get_token(&[self.scope.as_str()])
                .await
                .map_err(|e| classify(op, kind, &e))?;
            let mut req = Request::new(url, Method::Get);
            req.insert_header(
                azure_core::headers::AUTHORIZATION,
                format!("Bearer {}", token.token.secret()),
            );
            req.set_body(azure_core::EMPTY_BODY);
            let rsp = self
                .pipeline
                .send(&Context::default(), &mut req)
                .await
                .map_err(|e| classify(op, kind, &e))?;
            let status = rsp.status();
            let bytes = rsp
                .into_body()
                .collect()
                .await
                .map_err(|e| classify(op, kind, &e))?;
            if !status.is_success() {
                let code = netdrift_provider_api::status_problem_code(u16::from(status));
                let msg = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(String::from))
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
                return Err(problem(
                    code,
                    kind,
                    op,
                    format!("{op}: HTTP {}: {msg}", u16::from(status)),
                ));
            }
            let page: Value = serde_json::from_slice(&bytes).map_err(|e| {
                problem(
                    ProblemCode::Decode,
                    kind,
                    op,
                    format!("{op}: the response is not JSON: {e}"),
                )
            })?;
            if let Some(items) = page.get("value").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            } else {
                return Err(problem(
                    ProblemCode::Decode,
                    kind,
                    op,
                    format!("{op}: the response has no `value` list"),
                ));
            }
            if let Some(link) = page
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
            {
                next = Some(self.endpoint.join(link).map_err(|e| {
                    problem(
                        ProblemCode::Decode,
                        kind,
                        op,
                        format!("{op}: bad nextLink {link:?}: {e}"),
                    )
                })?);
            }
        }
        Ok(out)
    }

    async fn subscriptions(&self) -> Result<Vec<String>, Problem> {
        let mut url = self
            .endpoint
            .join("/subscriptions")
            .map_err(|e| problem(ProblemCode::Setup, None, "subscriptions", e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("api-version", SUBSCRIPTIONS_API);
        Ok(self
            .list("Microsoft.Resources/subscriptions/read", None, url)
            .await?
            .iter()
            .filter(|s| s["state"].as_str().unwrap_or("Enabled") == "Enabled")
            .filter_map(|s| s["subscriptionId"].as_str().map(String::from))
            .collect())
    }

    /// Every NSG of a subscription, as ARM JSON, through azure_mgmt_network.
    async fn nsgs(&self, subscription: &str) -> Result<Vec<Value>, Problem> {
        list_all!(
            self,
            network_security_groups_client,
            subscription,
            "Microsoft.Network/networkSecurityGroups/read",
            ResourceKind::AzureNsg
        )
    }

    /// The workloads of a subscription: network interfaces and public IP addresses, each
    /// converted, or the problem that kept it from being read.
    async fn workloads(
        &self,
        subscription: &str,
    ) -> Vec<(
        ResourceKind,
        Result<Vec<netdrift_snapshots::Resource>, Problem>,
    )> {
        let (nics, pips) = futures::join!(
            async {
                list_all!(
                    self,
                    network_interfaces_client,
                    subscription,
                    "Microsoft.Network/networkInterfaces/read",
                    ResourceKind::AzureNic
                )
            },
            async {
                list_all!(
                    self,
                    public_ip_addresses_client,
                    subscription,
                    "Microsoft.Network/publicIPAddresses/read",
                    ResourceKind::AzurePublicIp
                )
            }
        );
        [
            (ResourceKind::AzureNic, nics),
            (ResourceKind::AzurePublicIp, pips),
        ]
        .into_iter()
        .map(|(kind, listed)| {
            let converted = listed.and_then(|items| {
                let doc = json!({ "value": items });
                netdrift_provider_file::azure_workloads::convert(&Node::root(&doc), kind).map_err(
                    |e| {
                        problem(
                            ProblemCode::Decode,
                            Some(kind),
                            "list",
                            format!("unexpected API data: {e}"),
                        )
                    },
                )
            });
            (kind, converted)
        })
        .collect()
    }

    async fn collect_subscription(&self, subscription: &str) -> Collected {
        let scope = Scope::new(Provider::Azure, subscription, None);
        let (listed, workloads) =
            futures::join!(self.nsgs(subscription), self.workloads(subscription));
        match listed {
            Err(p) => Collected::failed(scope, p),
            Ok(items) => {
                let doc = json!({ "value": items });
                match netdrift_provider_file::azure::convert(&Node::root(&doc)) {
                    Ok(resources) => {
                        // A workload list that fails is a problem and its kind uncollected:
                        // reach is then `unknown`, never concluded from an absence.
                        let mut c = Collected::complete(scope, resources);
                        for (kind, got) in workloads {
                            match got {
                                Ok(rs) => c.resources.extend(rs),
                                Err(p) => {
                                    c.uncollected.push(kind);
                                    c.problems.push(p);
                                    c.status = netdrift_snapshots::SnapshotStatus::Partial;
                                }
                            }
                        }
                        c
                    }
                    Err(e) => Collected::failed(
                        scope,
                        problem(
                            ProblemCode::Decode,
                            Some(ResourceKind::AzureNsg),
                            "Microsoft.Network/networkSecurityGroups/read",
                            format!("networkSecurityGroups list: {e}"),
                        ),
                    ),
                }
            }
        }
    }

    /// Activity Log events of Microsoft.Network in the window.
    async fn activity(
        &self,
        subscription: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Value>, Problem> {
        let mut url = self
            .endpoint
            .join(&format!(
                "/subscriptions/{subscription}/providers/Microsoft.Insights/eventtypes/management/values"
            ))
            .map_err(|e| problem(ProblemCode::Setup, None, "activity log", e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("api-version", ACTIVITY_API)
            .append_pair(
                "$filter",
                &format!(
                    "eventTimestamp ge '{}' and eventTimestamp le '{}' and resourceProvider eq 'Microsoft.Network'",
                    start.to_rfc3339_opts(SecondsFormat::Secs, true),
                    end.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
            );
        self.list("Microsoft.Insights/eventtypes/values/read", None, url)
            .await
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
    let subscriptions = match &src.subscriptions {
        Some(s) => s.clone(),
        None => match arm.subscriptions().await {
            Ok(s) => s,
            Err(p) => {
                out.problems.push(p);
                return out;
            }
        },
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
            match arm.activity(c.scope.account(), start, now).await {
                Ok(records) => {
                    for rec in records {
                        match netdrift_provider_file::audit::azure::parse_event(&rec) {
                            Ok(Some(ev)) => {
                                if !out.events.iter().any(|e| e.event_id == ev.event_id) {
                                    out.events.push(ev);
                                }
                            }
                            Ok(None) => {}
                            Err(why) => {
                                tracing::warn!(%why, "skipping an unreadable Activity Log record")
                            }
                        }
                    }
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
