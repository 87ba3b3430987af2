//! What one collection of one scope produced: resources plus the coverage problems met on the
//! way. A region that failed is data, not an exception.

use serde::{Deserialize, Serialize};

use crate::model::{Resource, ResourceKind, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotStatus {
    /// Everything the source covers was read.
    Complete,
    /// Some resource kinds (listed in `uncollected`) could not be read.
    Partial,
    /// Nothing could be read; the snapshot records only why.
    Failed,
}

impl SnapshotStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotStatus::Complete => "complete",
            SnapshotStatus::Partial => "partial",
            SnapshotStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<SnapshotStatus> {
        Some(match s {
            "complete" => SnapshotStatus::Complete,
            "partial" => SnapshotStatus::Partial,
            "failed" => SnapshotStatus::Failed,
            _ => return None,
        })
    }
}

/// Why part of a scope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable kebab-case code: `auth`, `permission-denied`, `throttled`, `timeout`,
    /// `region-disabled`, `transient`, `decode`, `source-missing`.
    pub code: String,
    /// The resource kind that could not be read, when the problem is limited to one.
    pub kind: Option<ResourceKind>,
    /// The API operation that failed (`DescribeNetworkAcls`), when known.
    pub operation: Option<String>,
    pub message: String,
}

/// The result of collecting one scope.
#[derive(Debug, Clone)]
pub struct Collected {
    pub scope: Scope,
    pub status: SnapshotStatus,
    pub resources: Vec<Resource>,
    pub problems: Vec<Problem>,
    /// Kinds whose absence from `resources` means "not read", not "deleted".
    pub uncollected: Vec<ResourceKind>,
}

impl Collected {
    pub fn complete(scope: Scope, resources: Vec<Resource>) -> Collected {
        Collected {
            scope,
            status: SnapshotStatus::Complete,
            resources,
            problems: Vec::new(),
            uncollected: Vec::new(),
        }
    }

    /// A scope that could not be read at all: every kind of its provider is uncollected.
    pub fn failed(scope: Scope, problem: Problem) -> Collected {
        let uncollected = all_kinds(scope.provider);
        Collected {
            scope,
            status: SnapshotStatus::Failed,
            resources: Vec::new(),
            problems: vec![problem],
            uncollected,
        }
    }
}

/// Every resource kind of a provider.
pub fn all_kinds(provider: crate::model::Provider) -> Vec<ResourceKind> {
    use crate::model::Provider;
    match provider {
        Provider::Aws => vec![ResourceKind::AwsSecurityGroup, ResourceKind::AwsNetworkAcl],
        Provider::Gcp => vec![
            ResourceKind::GcpFirewallRule,
            ResourceKind::GcpFirewallPolicy,
        ],
        Provider::Azure => vec![ResourceKind::AzureNsg],
    }
}

/// An audit-log read that failed: the account (project, subscription, organization) and the
/// window it would have covered. Attribution in that window cannot rely on the logs' silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFailure {
    pub account: String,
    pub region: Option<String>,
    /// RFC 3339 bounds of the window the read would have covered.
    pub start: String,
    pub end: String,
    pub problem: Problem,
}
