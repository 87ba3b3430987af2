//! What netdrift finds, as plain serde data: drift items with their attribution, coverage
//! findings, the report document. Every module that computes, stores, renders or exports
//! findings shares these types; this module depends on nothing in the crate.

use serde::{Deserialize, Serialize};

use netdrift_snapshots::{
    AccessEntry, Change, Direction, Effect, KeyType, Problem, Provider, ResourceKind, Severity,
};

/// What a coverage finding says could not be seen (docs/findings.md has one section per code,
/// in this order; a test keeps the two in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageCode {
    DiscoveryFailed,
    AuditReadFailed,
    CollectionFailed,
    CollectionPartial,
    NoBaseline,
    LoggingGap,
}

impl CoverageCode {
    pub const ALL: [CoverageCode; 6] = [
        CoverageCode::DiscoveryFailed,
        CoverageCode::AuditReadFailed,
        CoverageCode::CollectionFailed,
        CoverageCode::CollectionPartial,
        CoverageCode::NoBaseline,
        CoverageCode::LoggingGap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CoverageCode::DiscoveryFailed => "discovery-failed",
            CoverageCode::AuditReadFailed => "audit-read-failed",
            CoverageCode::CollectionFailed => "collection-failed",
            CoverageCode::CollectionPartial => "collection-partial",
            CoverageCode::NoBaseline => "no-baseline",
            CoverageCode::LoggingGap => "logging-gap",
        }
    }
}

impl std::fmt::Display for CoverageCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Version of the `drift --format json` document (docs/drift-schema.md).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftReport {
    pub schema_version: u32,
    pub generated_at: String,
    pub drift: Vec<DriftItem>,
    pub coverage: Vec<CoverageFinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExceptionRef {
    pub id: i64,
    pub owner: String,
    pub reason: String,
    pub ticket: Option<String>,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftItem {
    /// Stable for the same change: hash of scope, resource, direction and both states.
    pub id: String,
    pub provider: Provider,
    pub scope: String,
    pub region: Option<String>,
    pub resource: String,
    pub resource_kind: ResourceKind,
    pub resource_name: Option<String>,
    pub network: Option<String>,
    pub direction: Direction,
    pub change: Change,
    pub effect: Effect,
    pub newly_allowed: Vec<AccessEntry>,
    pub newly_denied: Vec<AccessEntry>,
    pub world: bool,
    pub public: bool,
    pub attached: Option<bool>,
    pub severity: Severity,
    pub severity_code: String,
    pub reasons: Vec<String>,
    pub exception: Option<ExceptionRef>,
    pub replaces: Vec<String>,
    pub notes: Vec<String>,
    pub baseline_state: Option<String>,
    pub actual_state: Option<String>,
    pub snapshot_id: i64,
    pub snapshot_taken_at: String,
    /// When the approved state was approved (start of the attribution window).
    pub baseline_approved_at: Option<String>,
    pub attribution: Option<Attribution>,
}

impl DriftItem {
    /// Drift that nobody approved and that changes access.
    pub fn is_unapproved(&self) -> bool {
        self.exception.is_none() && self.effect != Effect::Cosmetic
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageFinding {
    pub scope: String,
    pub provider: Provider,
    pub code: CoverageCode,
    pub message: String,
    pub snapshot_id: Option<i64>,
    pub taken_at: Option<String>,
    pub problems: Vec<Problem>,
    pub uncollected: Vec<ResourceKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributionStatus {
    Exact,
    Probable,
    Unattributed,
}

/// One actor behind a drift item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorRef {
    pub principal: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    /// `pipeline`, `human`, `break-glass`, `long-term-key`, `root`, `unknown`.
    pub class: String,
    pub role: Option<String>,
    pub source_identity: Option<String>,
    pub access_key_id: Option<String>,
    pub key_type: Option<KeyType>,
    pub service_account_key: Option<String>,
    pub role_assignment: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub tool: Option<String>,
    pub event_id: String,
    pub event_time: String,
    pub event_name: String,
    pub succeeded: bool,
    pub error: Option<String>,
    /// How this event relates to the drift: `exact` or `probable`.
    pub grade: AttributionStatus,
    /// Who stands behind the call: the role session's assumer, the impersonation chain.
    pub chain: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub status: AttributionStatus,
    pub reason: String,
    pub actors: Vec<ActorRef>,
    /// Failed attempts on the same resource in the window: evidence, never the change itself.
    pub attempts: Vec<ActorRef>,
    pub change_record: Option<serde_json::Value>,
    pub window_start: String,
    pub window_end: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_coverage_code_has_its_section_in_docs_findings_and_no_section_is_orphaned() {
        let doc = include_str!("../docs/findings.md");
        let sections: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(str::trim)
            .collect();
        let codes: Vec<&str> = super::CoverageCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(sections, codes);
        for c in super::CoverageCode::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(
                json,
                format!("\"{}\"", c.as_str()),
                "the JSON name is the documented one"
            );
        }
    }
}
