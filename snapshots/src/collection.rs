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

/// Why something could not be read, as a stable kebab-case code (docs/findings.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemCode {
    /// Missing, expired or refused credentials.
    Auth,
    /// The credentials lack a permission (the message names it).
    PermissionDenied,
    /// The API throttled the calls beyond the retries.
    Throttled,
    /// The call or the scope did not finish in time.
    Timeout,
    /// The region is not enabled for the account.
    RegionDisabled,
    /// A server error or a dropped connection that outlasted the retries.
    Transient,
    /// An answer or a file that could not be read as what it should be.
    Decode,
    /// A configured file that does not exist or cannot be read.
    SourceMissing,
    /// The API says the resource or scope does not exist.
    NotFound,
    /// The API refused the request as malformed.
    Rejected,
    /// Another error code of the API (the message has it).
    ApiError,
    /// The client could not be set up (endpoint, runtime).
    Setup,
    /// netdrift was stopping (the service shut down) before this was read.
    Cancelled,
    /// A code this version does not know (stored by another version).
    #[serde(other)]
    Unknown,
}

impl ProblemCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Auth => "auth",
            ProblemCode::PermissionDenied => "permission-denied",
            ProblemCode::Throttled => "throttled",
            ProblemCode::Timeout => "timeout",
            ProblemCode::RegionDisabled => "region-disabled",
            ProblemCode::Transient => "transient",
            ProblemCode::Decode => "decode",
            ProblemCode::SourceMissing => "source-missing",
            ProblemCode::NotFound => "not-found",
            ProblemCode::Rejected => "rejected",
            ProblemCode::ApiError => "api-error",
            ProblemCode::Setup => "setup",
            ProblemCode::Cancelled => "cancelled",
            ProblemCode::Unknown => "unknown",
        }
    }

    /// Whether the problem may go away on its own (worth another attempt).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ProblemCode::Throttled | ProblemCode::Transient | ProblemCode::Timeout
        )
    }

    /// The code of an HTTP status, the same for every provider.
    pub fn from_status(status: u16) -> ProblemCode {
        match status {
            401 => ProblemCode::Auth,
            403 => ProblemCode::PermissionDenied,
            404 => ProblemCode::NotFound,
            429 => ProblemCode::Throttled,
            s if s >= 500 => ProblemCode::Transient,
            _ => ProblemCode::Rejected,
        }
    }
}

impl From<&str> for ProblemCode {
    /// The code a kebab-case name stands for; a name this version does not know is `Unknown`.
    fn from(s: &str) -> ProblemCode {
        const ALL: [ProblemCode; 13] = [
            ProblemCode::Auth,
            ProblemCode::PermissionDenied,
            ProblemCode::Throttled,
            ProblemCode::Timeout,
            ProblemCode::RegionDisabled,
            ProblemCode::Transient,
            ProblemCode::Decode,
            ProblemCode::SourceMissing,
            ProblemCode::NotFound,
            ProblemCode::Rejected,
            ProblemCode::ApiError,
            ProblemCode::Setup,
            ProblemCode::Cancelled,
        ];
        ALL.into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or(ProblemCode::Unknown)
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why part of a scope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: ProblemCode,
    /// The resource kind that could not be read, when the problem is limited to one.
    pub kind: Option<ResourceKind>,
    /// The API operation that failed (`DescribeNetworkAcls`), when known.
    pub operation: Option<String>,
    pub message: String,
}

impl Problem {
    /// The message without the operation it starts with (providers prefix it, sometimes twice),
    /// for lines that name the operation themselves.
    pub fn cause(&self) -> &str {
        let mut cause = self.message.as_str();
        if let Some(op) = self.operation.as_deref() {
            while let Some(rest) = cause.strip_prefix(op).and_then(|r| r.strip_prefix(": ")) {
                cause = rest;
            }
        }
        cause
    }
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
        let uncollected = all_kinds(scope.provider());
        Collected {
            scope,
            status: SnapshotStatus::Failed,
            resources: Vec::new(),
            problems: vec![problem],
            uncollected,
        }
    }
}

/// Every resource kind of a provider: its firewall kinds, then its workload kinds.
pub fn all_kinds(provider: crate::model::Provider) -> Vec<ResourceKind> {
    let mut v = firewall_kinds(provider);
    v.extend(workload_kinds(provider));
    v
}

/// The firewall kinds of a provider: what is diffed, approved and reported as drift.
pub fn firewall_kinds(provider: crate::model::Provider) -> Vec<ResourceKind> {
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

/// The workload kinds of a provider: what reach is computed from.
pub fn workload_kinds(provider: crate::model::Provider) -> Vec<ResourceKind> {
    use crate::model::Provider;
    match provider {
        Provider::Aws => vec![
            ResourceKind::AwsNetworkInterface,
            ResourceKind::AwsSubnet,
            ResourceKind::AwsRouteTable,
        ],
        Provider::Gcp => vec![ResourceKind::GcpInstance],
        Provider::Azure => vec![ResourceKind::AzureNic, ResourceKind::AzurePublicIp],
    }
}

/// An audit-log read that failed: the account (project, subscription, organization) and the
/// window it would have covered. Attribution in that window cannot rely on the logs' silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFailure {
    pub account: String,
    pub region: Option<String>,
    /// Bounds of the window the read would have covered.
    #[serde(with = "crate::time::as_secs")]
    pub start: chrono::DateTime<chrono::Utc>,
    #[serde(with = "crate::time::as_secs")]
    pub end: chrono::DateTime<chrono::Utc>,
    pub problem: Problem,
}

#[cfg(test)]
mod tests {
    use super::ProblemCode;

    #[test]
    fn problem_codes_round_trip_and_old_unknown_ones_still_read() {
        for name in [
            "auth",
            "permission-denied",
            "throttled",
            "timeout",
            "region-disabled",
            "transient",
            "decode",
            "source-missing",
            "not-found",
            "rejected",
            "api-error",
            "setup",
        ] {
            let c = ProblemCode::from(name);
            assert_eq!(c.as_str(), name);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<ProblemCode>(&format!("\"{name}\"")).unwrap(),
                c
            );
        }
        assert_eq!(
            serde_json::from_str::<ProblemCode>("\"from-the-future\"").unwrap(),
            ProblemCode::Unknown
        );
        assert!(
            ProblemCode::Throttled.is_retryable() && !ProblemCode::PermissionDenied.is_retryable()
        );
    }
}
