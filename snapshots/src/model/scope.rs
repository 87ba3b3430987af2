//! `Scope`: one collection unit, normalised by its only constructor.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::*;

/// One collection unit: an AWS account in a region, a GCP project, an Azure subscription.
///
/// Built only through [`Scope::new`] (or [`Scope::parse_key`], or deserialization, which go
/// through it), which normalises: an Azure subscription id is lower-cased (ARM ids are
/// case-insensitive, so one subscription never splits in two), an empty region is none.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawScope")]
pub struct Scope {
    provider: Provider,
    /// AWS account id, GCP project id, Azure subscription id.
    account: String,
    /// AWS region; `None` for GCP projects and Azure subscriptions (their resources are global).
    region: Option<String>,
}

/// A scope as serialized, normalised on the way in.
#[derive(Deserialize)]
struct RawScope {
    provider: Provider,
    account: String,
    region: Option<String>,
}

impl TryFrom<RawScope> for Scope {
    type Error = ModelError;
    fn try_from(r: RawScope) -> Result<Scope, ModelError> {
        if r.account.is_empty() {
            return Err(ModelError::new("", "a scope needs an account"));
        }
        Ok(Scope::new(r.provider, r.account, r.region))
    }
}

impl Scope {
    pub fn new(provider: Provider, account: impl Into<String>, region: Option<String>) -> Self {
        let account = account.into();
        // Azure subscription ids are case-insensitive GUIDs.
        let account = if provider == Provider::Azure {
            account.to_ascii_lowercase()
        } else {
            account
        };
        Scope {
            provider,
            account,
            region: region.filter(|r| !r.is_empty()),
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// AWS account id, GCP project id, Azure subscription id (lower case).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// AWS region; `None` for GCP projects and Azure subscriptions.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Stable textual key: `aws:111122223333:us-east-1`, `gcp:acme-prod`, `azure:<subscription>`.
    pub fn key(&self) -> String {
        match &self.region {
            Some(r) => format!("{}:{}:{}", self.provider, self.account, r),
            None => format!("{}:{}", self.provider, self.account),
        }
    }

    pub fn parse_key(key: &str) -> Result<Scope, ModelError> {
        let mut parts = key.splitn(3, ':');
        let provider: Provider = parts.next().unwrap_or_default().parse()?;
        let account = parts.next().filter(|a| !a.is_empty()).ok_or_else(|| {
            ModelError::new(key, "scope key must look like provider:account[:region]")
        })?;
        Ok(Scope::new(
            provider,
            account,
            parts.next().map(str::to_string),
        ))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}
