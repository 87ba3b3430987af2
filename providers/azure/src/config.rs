//! A live Azure `[[source]]` (`provider = "azure"` without `files`): the reference for its
//! fields.

use serde::Deserialize;

use netdrift_provider_api::config::{check_endpoint, check_test_credentials, Common, Selection};

use crate::AzureSource;

/// The fields of a live Azure source, as written in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// Subscription ids, or `"all"` for every subscription the identity can see. Required.
    pub subscriptions: Option<Selection>,
    /// ARM endpoint (sovereign clouds, a local fake); default `https://management.azure.com`.
    pub endpoint_url: Option<String>,
    /// Token scope (sovereign clouds); default `https://management.azure.com/.default`.
    pub token_scope: Option<String>,
    /// `{ static_token_env = "VAR" }`: a fixed bearer token from that environment variable, for
    /// a loopback fake only. Left out: azure_identity's credential chain.
    pub credentials: Option<TestCredentials>,
    /// Subscriptions collected at once (default 8).
    pub concurrency: Option<usize>,
    /// A subscription not collected within this many seconds is a failed scope (default 300).
    pub scope_timeout_seconds: Option<u64>,
    /// Attempts per API call, the first included (default 5).
    pub max_attempts: Option<u32>,
    /// Read the Activity Log for attribution (default true).
    pub activity_log: Option<bool>,
}

/// Test-only credentials: a static bearer token read from an environment variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCredentials {
    pub static_token_env: String,
}

impl AzureConfig {
    /// The source this configures, or every problem with it. The static test token is read
    /// from its environment variable here.
    pub fn validate(self, name: String) -> Result<AzureSource, Vec<String>> {
        let mut problems = Vec::new();
        check_endpoint(self.endpoint_url.as_deref(), &mut problems);
        let Some(subscriptions) = self.subscriptions else {
            problems.push("neither `files` (a file source, with `account`) nor `subscriptions` (a live Azure source: a list, or \"all\")".into());
            return Err(problems);
        };
        let static_token = match &self.credentials {
            None => None,
            Some(c) => {
                check_test_credentials(self.endpoint_url.as_deref(), &mut problems);
                match std::env::var(&c.static_token_env) {
                    Ok(t) if !t.is_empty() => Some(secrecy::SecretString::from(t)),
                    _ => {
                        problems.push(format!(
                            "field `credentials`: the static token variable {} is not set",
                            c.static_token_env
                        ));
                        None
                    }
                }
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let common = Common::new(
            self.concurrency,
            self.scope_timeout_seconds,
            self.max_attempts,
        );
        Ok(AzureSource {
            name,
            subscriptions: subscriptions.into_list(),
            endpoint_url: self.endpoint_url,
            token_scope: self
                .token_scope
                .unwrap_or_else(|| "https://management.azure.com/.default".into()),
            static_token,
            concurrency: common.concurrency,
            scope_timeout: common.scope_timeout,
            max_attempts: common.max_attempts,
            activity_log: self.activity_log.unwrap_or(true),
        })
    }
}

impl AzureSource {
    /// One line for `netdrift config check`.
    pub fn summary(&self) -> String {
        format!(
            "live Azure, subscriptions {}",
            self.subscriptions
                .as_ref()
                .map(|v| v.join(","))
                .unwrap_or_else(|| "all visible".into())
        )
    }
}
