//! The ARM client: the credential, azure_mgmt_network for the NSG, interface and public IP
//! lists, azure_core's pipeline for what it does not cover (subscriptions, the Activity Log,
//! and the remediation writes), and the mapping of errors to problems.

use super::*;

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

/// A credential that hands out one fixed token (tests against a local fake).
#[derive(Debug)]
pub(crate) struct StaticToken(pub(crate) secrecy::SecretString);

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

pub(crate) struct Arm {
    pub(crate) endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    scope: String,
    pipeline: Pipeline,
    network: azure_mgmt_network::package_2024_03::Client,
}

pub(crate) fn problem(
    code: ProblemCode,
    kind: Option<ResourceKind>,
    op: &str,
    message: String,
) -> Problem {
    Problem {
        code,
        kind,
        operation: Some(op.into()),
        message,
    }
}

/// Map an azure_core error to a coverage problem naming the action the call needed.
pub(crate) fn classify(op: &str, kind: Option<ResourceKind>, e: &azure_core::Error) -> Problem {
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
    pub(crate) fn new(src: &AzureSource) -> Result<Arm, Problem> {
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

    /// One request through the pipeline with the bearer token: the `Azure-AsyncOperation` URL
    /// (when the call started one) and the body, or a problem naming `op` (an HTTP error with
    /// ARM's own message).
    pub(crate) async fn send(
        &self,
        op: &str,
        kind: Option<ResourceKind>,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(Option<String>, Vec<u8>), Problem> {
        let token = self
            .credential
            .get_token(&[self.scope.as_str()])
            .await
            .map_err(|e| classify(op, kind, &e))?;
        let mut req = Request::new(url, method);
        req.insert_header(
            azure_core::headers::AUTHORIZATION,
            format!("Bearer {}", token.token.secret()),
        );
        match body {
            Some(b) => {
                req.insert_header(azure_core::headers::CONTENT_TYPE, "application/json");
                req.set_body(b.to_string());
            }
            None => req.set_body(azure_core::EMPTY_BODY),
        }
        let rsp = self
            .pipeline
            .send(&Context::default(), &mut req)
            .await
            .map_err(|e| classify(op, kind, &e))?;
        let status = rsp.status();
        let asynch =
            rsp.headers()
                .get_optional_string(&azure_core::headers::HeaderName::from_static(
                    "azure-asyncoperation",
                ));
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
        Ok((asynch, bytes.to_vec()))
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
            let (_, bytes) = self.send(op, kind, Method::Get, url, None).await?;
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

    /// The source's subscriptions: the configured ones, else every one the identity sees.
    pub(crate) async fn subscriptions_of(&self, src: &AzureSource) -> Result<Vec<String>, Problem> {
        match &src.subscriptions {
            Some(s) => Ok(s.clone()),
            None => self.subscriptions().await,
        }
    }

    pub(crate) async fn subscriptions(&self) -> Result<Vec<String>, Problem> {
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

    pub(crate) async fn collect_subscription(&self, subscription: &str) -> Collected {
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

    /// One NSG by its id, converted (with its rules); `None` when ARM answers 404.
    pub(crate) async fn get_nsg(
        &self,
        id: &str,
    ) -> Result<Option<netdrift_snapshots::Resource>, Problem> {
        let op = "Microsoft.Network/networkSecurityGroups/read";
        let mut url = self
            .endpoint
            .join(id)
            .map_err(|e| problem(ProblemCode::Setup, None, op, e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("api-version", "2024-03-01");
        let bytes = match self
            .send(op, Some(ResourceKind::AzureNsg), Method::Get, url, None)
            .await
        {
            Ok((_, b)) => b,
            Err(p) if p.code == ProblemCode::NotFound => return Ok(None),
            Err(p) => return Err(p),
        };
        let nsg: Value = serde_json::from_slice(&bytes).map_err(|e| {
            problem(
                ProblemCode::Decode,
                Some(ResourceKind::AzureNsg),
                op,
                format!("{op}: the response is not JSON: {e}"),
            )
        })?;
        let doc = json!({ "value": [nsg] });
        netdrift_provider_file::azure::convert(&Node::root(&doc))
            .map_err(|e| {
                problem(
                    ProblemCode::Decode,
                    Some(ResourceKind::AzureNsg),
                    op,
                    format!("{op} {id}: {e}"),
                )
            })
            .map(|rs| rs.into_iter().find(|r| r.kind == ResourceKind::AzureNsg))
    }

    /// The subscription's diagnostic settings (where its Activity Log is exported), as ARM JSON.
    pub(crate) async fn diagnostic_settings(
        &self,
        subscription: &str,
    ) -> Result<Vec<Value>, Problem> {
        let mut url = self
            .endpoint
            .join(&format!(
                "/subscriptions/{subscription}/providers/Microsoft.Insights/diagnosticSettings"
            ))
            .map_err(|e| {
                problem(
                    ProblemCode::Setup,
                    None,
                    "diagnostic settings",
                    e.to_string(),
                )
            })?;
        url.query_pairs_mut()
            .append_pair("api-version", crate::DIAGNOSTIC_SETTINGS_API);
        self.list("Microsoft.Insights/diagnosticSettings/read", None, url)
            .await
    }

    /// Activity Log events of Microsoft.Network in the window.
    pub(crate) async fn activity(
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
