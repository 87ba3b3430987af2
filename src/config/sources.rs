//! `[[source]]` and `[[audit]]`. A source with `files` (or an `account`) is a file source,
//! checked here; any other is a live source, whose fields its provider crate owns
//! (`crate::sources::live_config` hands the table to it).

use std::path::PathBuf;

use serde::Deserialize;

use netdrift_snapshots::{PortRange, Provider, Scope};

use super::attribution::port_value;
use crate::sources::LiveSource;

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub provider: Provider,
    pub kind: SourceKind,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    /// Native JSON dumps of one scope.
    Files { scope: Scope, files: Vec<PathBuf> },
    /// Live collection through the provider's SDK (built only with its cargo feature).
    Live(LiveSource),
}

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub provider: Provider,
    pub files: Vec<PathBuf>,
}

/// What only a file source has.
const FILE_FIELDS: &[&str] = &["account", "region", "expected_ports"];

/// The fields of a file source.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileSource {
    /// Account (AWS), project (GCP) or subscription (Azure) the dumps belong to.
    account: Option<String>,
    /// AWS region of the dumps (required for AWS).
    region: Option<String>,
    /// Dump files (paths relative to the config file).
    #[serde(default)]
    files: Vec<String>,
    /// Ports this scope is expected to expose (not atypical): numbers or "lo-hi" strings.
    #[serde(default)]
    expected_ports: Vec<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    provider: String,
    files: Vec<String>,
}

/// One checked `[[source]]`, with the expected ports of its scope.
pub(super) struct Checked {
    pub source: SourceConfig,
    pub expected_ports: Option<(netdrift_snapshots::ScopeKey, Vec<PortRange>)>,
}

/// A `[[source]]` table → its source, or every problem with it (each prefixed with the
/// source's name when it has one).
pub(super) fn source(
    mut t: toml::Table,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Checked, Vec<String>> {
    let text = |t: &mut toml::Table, f: &str| match t.remove(f) {
        Some(toml::Value::String(s)) => Ok(s),
        Some(other) => Err(format!("field `{f}`: {other} is not a string")),
        None => Err(format!("missing field `{f}`")),
    };
    let name = text(&mut t, "name").map_err(|e| vec![format!("source: {e}")])?;
    let fail = |problems: Vec<String>| -> Vec<String> {
        problems
            .into_iter()
            .map(|p| format!("source {name:?}: {p}"))
            .collect()
    };
    let provider: Provider = text(&mut t, "provider")
        .and_then(|p| p.parse().map_err(|e| format!("field `provider`: {e}")))
        .map_err(|e| fail(vec![e]))?;
    if matches!(t.get("files"), Some(toml::Value::Array(a)) if !a.is_empty()) {
        return file_source(name.clone(), provider, t, resolve).map_err(fail);
    }
    // No dump files: a live source. Fields of a file source are named as such, never ignored.
    t.remove("files");
    let file_fields: Vec<&str> = FILE_FIELDS
        .iter()
        .copied()
        .filter(|f| t.remove(*f).is_some())
        .collect();
    let mut problems = Vec::new();
    if !file_fields.is_empty() {
        problems.push(format!(
            "{} belong to a file source, but `files` lists no dump files (a live source's scopes come from discovery)",
            file_fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let live = crate::sources::live_config(provider, &name, t);
    let live = match live {
        Ok(live) if problems.is_empty() => live,
        Ok(_) => return Err(fail(problems)),
        Err(mut p) => {
            problems.append(&mut p);
            return Err(fail(problems));
        }
    };
    Ok(Checked {
        source: SourceConfig {
            name,
            provider,
            kind: SourceKind::Live(live),
        },
        expected_ports: None,
    })
}

fn file_source(
    name: String,
    provider: Provider,
    t: toml::Table,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Checked, Vec<String>> {
    let s: RawFileSource = toml::Value::Table(t)
        .try_into()
        .map_err(|e: toml::de::Error| vec![e.message().trim().to_string()])?;
    let mut problems = Vec::new();
    let account = s.account.clone().filter(|a| !a.is_empty());
    if account.is_none() {
        problems.push("field `account` is required for a file source (the account, project or subscription the dumps belong to)".to_string());
    }
    if provider == Provider::Aws && s.region.is_none() {
        problems.push("field `region` is required for an AWS file source".into());
    }
    if s.files.is_empty() {
        problems.push("field `files` lists no dump files".into());
    }
    let mut ports = Vec::new();
    for v in &s.expected_ports {
        match port_value(v) {
            Ok(p) => ports.push(p),
            Err(e) => problems.push(format!("field `expected_ports`: {e}")),
        }
    }
    let Some(account) = account else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let region = if provider == Provider::Aws {
        s.region
    } else {
        None
    };
    let scope = Scope::new(provider, account, region);
    Ok(Checked {
        expected_ports: (!ports.is_empty()).then(|| (scope.key(), ports)),
        source: SourceConfig {
            name,
            provider,
            kind: SourceKind::Files {
                scope,
                files: s.files.iter().map(|f| resolve(f)).collect(),
            },
        },
    })
}

pub(super) fn audit(a: RawAudit, resolve: &dyn Fn(&str) -> PathBuf) -> Result<AuditConfig, String> {
    let provider = a
        .provider
        .parse::<Provider>()
        .map_err(|e| format!("audit: field `provider`: {e}"))?;
    Ok(AuditConfig {
        provider,
        files: a.files.iter().map(|f| resolve(f)).collect(),
    })
}
