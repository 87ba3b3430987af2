//! The REST calls the Compute client does not cover, over reqwest with the same credentials:
//! Cloud Resource Manager v3 (projects and folders under the organization) and Cloud Logging
//! v2 `entries.list` (Admin Activity audit logs). Retries 429 (honouring `Retry-After`), 5xx
//! and connection errors with exponential backoff.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use netdrift_snapshots::{Problem, ProblemCode};

use crate::GcpSource;

const CRM: &str = "https://cloudresourcemanager.googleapis.com";
const LOGGING: &str = "https://logging.googleapis.com";

#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    creds: google_cloud_auth::credentials::Credentials,
    crm: String,
    logging: String,
    max_attempts: u32,
}

/// Hierarchy nodes (`organizations/1`, `folders/2`) with their depth, from the top down.
pub type Ancestry = Vec<(String, u32)>;

/// What discovery found: (project id, its ancestors), and every organization/folder node with
/// its depth.
pub struct Discovered {
    pub projects: Vec<(String, Ancestry)>,
    pub nodes: Ancestry,
}

/// The audit-log filter: Compute Engine firewall and firewall-policy changes, and the instance
/// changes that decide which rules apply.
pub fn audit_filter(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let methods = netdrift_provider_file::audit::gcp::CATALOGUE
        .iter()
        .map(|m| format!("protoPayload.methodName:\"compute.{m}\""))
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        "logName:\"cloudaudit.googleapis.com%2Factivity\" AND protoPayload.serviceName=\"compute.googleapis.com\" AND ({methods}) AND timestamp>=\"{}\" AND timestamp<=\"{}\"",
        start.to_rfc3339_opts(SecondsFormat::Secs, true),
        end.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

impl Rest {
    pub fn new(
        src: &GcpSource,
        creds: google_cloud_auth::credentials::Credentials,
    ) -> Result<Rest, Problem> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| crate::errors::setup_problem(format!("HTTP client: {e}")))?;
        let base = src
            .endpoint_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_string());
        Ok(Rest {
            http,
            creds,
            crm: base.clone().unwrap_or_else(|| CRM.into()),
            logging: base.unwrap_or_else(|| LOGGING.into()),
            max_attempts: src.max_attempts.max(1),
        })
    }

    async fn auth_headers(&self, op: &str) -> Result<reqwest::header::HeaderMap, Problem> {
        match self.creds.headers(http::Extensions::new()).await {
            Ok(google_cloud_auth::credentials::CacheableResource::New { data, .. }) => Ok(data),
            Ok(google_cloud_auth::credentials::CacheableResource::NotModified) => {
                Ok(reqwest::header::HeaderMap::new())
            }
            Err(e) => Err(Problem {
                code: netdrift_snapshots::ProblemCode::Auth,
                kind: None,
                operation: Some(op.into()),
                message: format!("{op}: cannot get credentials: {e}"),
            }),
        }
    }

    /// One write (or an operation's GET): retried only when refused with 429 (not made), so a
    /// call is never made twice.
    pub async fn write(
        &self,
        op: &str,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, Problem> {
        let mut backoff = netdrift_provider_api::Backoff::new(
            Duration::from_millis(200),
            Duration::from_secs(20),
        );
        for attempt in 1..=self.max_attempts {
            let headers = self.auth_headers(op).await?;
            let mut req = self.http.request(method.clone(), url).headers(headers);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| problem(op, ProblemCode::Transient, format!("{op}: {e}")))?;
            let status = resp.status();
            let retry_after = netdrift_provider_api::retry_after_header(
                resp.headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()),
            );
            let text = resp.text().await.unwrap_or_default();
            if status.is_success() {
                return serde_json::from_str(&text).map_err(|e| {
                    problem(
                        op,
                        ProblemCode::Decode,
                        format!("{op}: the response is not JSON ({e}): {text:.200}"),
                    )
                });
            }
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(String::from))
                .unwrap_or_else(|| format!("{text:.200}"));
            let code = netdrift_provider_api::status_problem_code(status.as_u16());
            if status.as_u16() != 429 || attempt == self.max_attempts {
                return Err(problem(op, code, format!("{op}: HTTP {status}: {message}")));
            }
            tokio::time::sleep(backoff.wait(retry_after)).await;
        }
        Err(problem(
            op,
            ProblemCode::Transient,
            format!("{op}: not made"),
        ))
    }

    /// One call with retries; `op` is the IAM permission it needs (named in problems).
    async fn call(
        &self,
        op: &str,
        req: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, Problem> {
        let mut backoff = netdrift_provider_api::Backoff::new(
            Duration::from_millis(200),
            Duration::from_secs(20),
        );
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            let headers = self.auth_headers(op).await?;
            let res = req().headers(headers).send().await;
            let mut retry_after = None;
            match res {
                Ok(resp) if resp.status().is_success() => {
                    let text = resp.text().await.map_err(|e| {
                        problem(
                            op,
                            ProblemCode::Transient,
                            format!("{op}: reading the response: {e}"),
                        )
                    })?;
                    return serde_json::from_str(&text).map_err(|e| {
                        problem(
                            op,
                            ProblemCode::Decode,
                            format!("{op}: the response is not JSON ({e}): {:.200}", text),
                        )
                    });
                }
                Ok(resp) => {
                    let status = resp.status();
                    retry_after = netdrift_provider_api::retry_after_header(
                        resp.headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()),
                    );
                    let body = resp.text().await.unwrap_or_default();
                    let message = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["error"]["message"].as_str().map(String::from))
                        .unwrap_or_else(|| format!("{body:.200}"));
                    last = format!("{op}: HTTP {status}: {message}");
                    let code = netdrift_provider_api::status_problem_code(status.as_u16());
                    if !netdrift_provider_api::is_retryable(code) {
                        return Err(problem(op, code, last));
                    }
                    if attempt == self.max_attempts {
                        return Err(problem(
                            op,
                            code,
                            format!("{last} (after {attempt} attempts)"),
                        ));
                    }
                }
                Err(e) => {
                    last = format!("{op}: {e}");
                    if attempt == self.max_attempts {
                        let code = if e.is_timeout() {
                            ProblemCode::Timeout
                        } else {
                            ProblemCode::Transient
                        };
                        return Err(problem(
                            op,
                            code,
                            format!("{last} (after {attempt} attempts)"),
                        ));
                    }
                }
            }
            tracing::debug!(op, attempt, %last, "retrying");
            tokio::time::sleep(backoff.wait(retry_after)).await;
        }
        Err(problem(op, ProblemCode::Transient, last))
    }

    /// Every page of a GET list: `key` holds the items.
    /// Every page of a list: `request(token)` builds the call for one page, `key` holds the
    /// items, `nextPageToken` links the pages.
    async fn pages(
        &self,
        op: &str,
        key: &str,
        request: impl Fn(Option<&str>) -> reqwest::RequestBuilder,
    ) -> Result<Vec<Value>, Problem> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.call(op, || request(token.as_deref())).await?;
            if let Some(items) = page.get(key).and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            token = page
                .get("nextPageToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(String::from);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Every page of a GET list under `?parent=`.
    async fn list_all(
        &self,
        op: &str,
        url: &str,
        parent: &str,
        key: &str,
    ) -> Result<Vec<Value>, Problem> {
        self.pages(op, key, |token| {
            let mut q = vec![("parent", parent)];
            q.extend(token.map(|t| ("pageToken", t)));
            self.http.get(url).query(&q)
        })
        .await
    }

    /// Walk the hierarchy below the roots: every active folder and project.
    pub async fn discover(&self, roots: &[(String, u32)]) -> Result<Discovered, Problem> {
        let mut nodes = Vec::new();
        let mut projects = Vec::new();
        // (node, depth, ancestors including itself)
        let mut queue: VecDeque<(String, u32, Ancestry)> = roots
            .iter()
            .map(|(n, d)| (n.clone(), *d, vec![(n.clone(), *d)]))
            .collect();
        while let Some((node, depth, chain)) = queue.pop_front() {
            nodes.push((node.clone(), depth));

            for p in self
                .list_all(
                    "resourcemanager.projects.list",
                    &format!("{}/v3/projects", self.crm),
                    &node,
                    "projects",
                )
                .await?
            {
                if p["state"].as_str().unwrap_or("ACTIVE") != "ACTIVE" {
                    continue;
                }
                if let Some(id) = p["projectId"].as_str() {
                    projects.push((id.to_string(), chain.clone()));
                }
            }
            for f in self
                .list_all(
                    "resourcemanager.folders.list",
                    &format!("{}/v3/folders", self.crm),
                    &node,
                    "folders",
                )
                .await?
            {
                if f["state"].as_str().unwrap_or("ACTIVE") != "ACTIVE" {
                    continue;
                }
                if let Some(name) = f["name"].as_str() {
                    let mut c = chain.clone();
                    c.push((name.to_string(), depth + 1));
                    queue.push_back((name.to_string(), depth + 1, c));
                }
            }
        }
        Ok(Discovered { projects, nodes })
    }

    /// Admin Activity audit-log entries of these resources (`projects/P`, `organizations/O`,
    /// `folders/F`) in the window, every page.
    pub async fn audit_entries(
        &self,
        resource_names: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Value>, Problem> {
        let op = "logging.logEntries.list";
        let url = format!("{}/v2/entries:list", self.logging);
        let filter = audit_filter(start, end);
        self.pages(op, "entries", |token| {
            let mut body = json!({
                "resourceNames": resource_names,
                "filter": filter,
                "orderBy": "timestamp asc",
                "pageSize": 1000,
            });
            if let Some(t) = token {
                body["pageToken"] = json!(t);
            }
            self.http.post(&url).json(&body)
        })
        .await
    }
}

fn problem(op: &str, code: ProblemCode, message: String) -> Problem {
    Problem {
        code,
        kind: None,
        operation: Some(op.into()),
        message,
    }
}
