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
    pub fn key(&self) -> ScopeKey {
        ScopeKey(match &self.region {
            Some(r) => format!("{}:{}:{}", self.provider, self.account, r),
            None => format!("{}:{}", self.provider, self.account),
        })
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

/// A scope's key, `provider:account[:region]`, as it travels between modules, into the store
/// and into reports. Only made from a [`Scope`] or by parsing through [`Scope::parse_key`], so it
/// is always normalised: two keys are equal exactly when their scopes are. Serialized as the
/// plain string; deserializing checks and normalises it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeKey(String);

impl ScopeKey {
    /// Parse and normalise a key (`Azure` subscription ids are lower-cased).
    pub fn parse(key: &str) -> Result<ScopeKey, ModelError> {
        Scope::parse_key(key).map(|s| s.key())
    }

    /// The scope this key names.
    pub fn scope(&self) -> Scope {
        Scope::parse_key(&self.0).expect("a ScopeKey is made only from a valid scope")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ScopeKey {
    type Error = ModelError;
    fn try_from(s: String) -> Result<ScopeKey, ModelError> {
        ScopeKey::parse(&s)
    }
}

impl From<ScopeKey> for String {
    fn from(k: ScopeKey) -> String {
        k.0
    }
}

impl std::ops::Deref for ScopeKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ScopeKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ScopeKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ScopeKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ScopeKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<ScopeKey> for str {
    fn eq(&self, other: &ScopeKey) -> bool {
        self == other.0
    }
}

impl PartialEq<ScopeKey> for &str {
    fn eq(&self, other: &ScopeKey) -> bool {
        *self == other.0
    }
}

impl fmt::Display for ScopeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&Scope> for ScopeKey {
    fn from(s: &Scope) -> ScopeKey {
        s.key()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}
