//! What netdrift finds, as plain serde data: drift items with their attribution, coverage
//! findings, the report document. Every module that computes, stores, renders or exports
//! findings shares these types; this module depends on nothing in the crate.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use netdrift_snapshots::{
    AccessEntry, Change, Direction, Effect, ExposedWorkload, KeyType, Problem, Provider, Reach,
    ResourceKind, ScopeKey, Severity,
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
    AuditTrailMissing,
    AuditTrailStopped,
    AuditManagementEventsExcluded,
    AuditLoggingUnverified,
    AuditLogsUnreadable,
    ActivityLogNotExported,
    WatchRereadFailed,
}

impl CoverageCode {
    pub const ALL: [CoverageCode; 13] = [
        CoverageCode::DiscoveryFailed,
        CoverageCode::AuditReadFailed,
        CoverageCode::CollectionFailed,
        CoverageCode::CollectionPartial,
        CoverageCode::NoBaseline,
        CoverageCode::LoggingGap,
        CoverageCode::AuditTrailMissing,
        CoverageCode::AuditTrailStopped,
        CoverageCode::AuditManagementEventsExcluded,
        CoverageCode::AuditLoggingUnverified,
        CoverageCode::AuditLogsUnreadable,
        CoverageCode::ActivityLogNotExported,
        CoverageCode::WatchRereadFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CoverageCode::DiscoveryFailed => "discovery-failed",
            CoverageCode::AuditReadFailed => "audit-read-failed",
            CoverageCode::CollectionFailed => "collection-failed",
            CoverageCode::CollectionPartial => "collection-partial",
            CoverageCode::NoBaseline => "no-baseline",
            CoverageCode::LoggingGap => "logging-gap",
            CoverageCode::AuditTrailMissing => "audit-trail-missing",
            CoverageCode::AuditTrailStopped => "audit-trail-stopped",
            CoverageCode::AuditManagementEventsExcluded => "audit-management-events-excluded",
            CoverageCode::AuditLoggingUnverified => "audit-logging-unverified",
            CoverageCode::AuditLogsUnreadable => "audit-logs-unreadable",
            CoverageCode::ActivityLogNotExported => "activity-log-not-exported",
            CoverageCode::WatchRereadFailed => "watch-reread-failed",
        }
    }
}

impl std::fmt::Display for CoverageCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Version of the `drift --format json` document (docs/drift-schema.md).
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftReport {
    pub schema_version: u32,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub generated_at: DateTime<Utc>,
    pub drift: Vec<DriftItem>,
    pub coverage: Vec<CoverageFinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExceptionRef {
    /// The stored exception's id (`exception add`); 0 for a pattern exception.
    pub id: i64,
    /// The `[[exception]]` pattern that covers the item, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    pub owner: String,
    pub reason: String,
    pub ticket: Option<String>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub expires_at: DateTime<Utc>,
}

impl ExceptionRef {
    /// How a person names it: `exception #3`, or `pattern exception "k8s-lbs"`.
    pub fn label(&self) -> String {
        match &self.pattern {
            Some(p) => format!("pattern exception {p:?}"),
            None => format!("exception #{}", self.id),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftItem {
    /// Stable for the same change: hash of scope, resource, direction and both states.
    pub id: String,
    pub provider: Provider,
    pub scope: ScopeKey,
    pub region: Option<String>,
    pub resource: String,
    pub resource_kind: ResourceKind,
    pub resource_name: Option<String>,
    /// The resource's tags (AWS tags, GCP labels, Azure tags) as collected: what webhook routes
    /// and ownership labels read.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
    /// The controller that made or changes the resource, when one is recognised
    /// (`netdrift_snapshots::ownership`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<netdrift_snapshots::ownership::Controller>,
    pub network: Option<String>,
    pub direction: Direction,
    pub change: Change,
    pub effect: Effect,
    pub newly_allowed: Vec<AccessEntry>,
    pub newly_denied: Vec<AccessEntry>,
    pub world: bool,
    pub public: bool,
    pub attached: Option<bool>,
    /// What the newly allowed access reaches (schema 2): `internet`, `internal`, `unattached`,
    /// `unknown`; null when nothing is newly allowed.
    #[serde(default)]
    pub reach: Option<Reach>,
    /// The internet-reachable workloads, with their address and the newly reachable ports.
    #[serde(default)]
    pub exposed: Vec<ExposedWorkload>,
    pub severity: Severity,
    pub severity_code: String,
    pub reasons: Vec<String>,
    pub exception: Option<ExceptionRef>,
    pub replaces: Vec<String>,
    pub notes: Vec<String>,
    pub baseline_state: Option<String>,
    pub actual_state: Option<String>,
    pub snapshot_id: i64,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub snapshot_taken_at: DateTime<Utc>,
    /// When the approved state was approved (start of the attribution window).
    #[serde(with = "netdrift_snapshots::time::as_secs::option")]
    pub baseline_approved_at: Option<DateTime<Utc>>,
    pub attribution: Option<Attribution>,
    /// What the Terraform state files say of the resource (only when some are configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iac: Option<IacRef>,
}

/// What a drift item's resource is to Terraform (docs/drift-schema.md, `iac`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IacRef {
    /// Whether a state file manages it (the resource itself, or rules on it).
    pub managed: bool,
    /// The Terraform address(es) that manage it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<String>,
    /// Whether the actual state has the access the state file says (null when unmanaged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches_actual: Option<bool>,
    /// The state file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl DriftItem {
    /// Drift that nobody approved and that changes access.
    pub fn is_unapproved(&self) -> bool {
        self.exception.is_none() && self.effect != Effect::Cosmetic
    }
}

/// What a coverage finding is about: one scope, or a whole source (discovery that failed, an
/// audit read for every account of a source), named by its label (`aws:org`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Scope(ScopeKey),
    Source(String),
}

impl Subject {
    /// The text of the `scope` field: the scope key, or the source label.
    pub fn as_str(&self) -> &str {
        match self {
            Subject::Scope(k) => k.as_str(),
            Subject::Source(l) => l,
        }
    }

    pub fn scope(&self) -> Option<&ScopeKey> {
        match self {
            Subject::Scope(k) => Some(k),
            Subject::Source(_) => None,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ScopeKey> for Subject {
    fn from(k: ScopeKey) -> Subject {
        Subject::Scope(k)
    }
}

/// A coverage finding as serialized (docs/drift-schema.md): `scope` is the scope key or the
/// source label, and `source_wide` (written only when true) says which. Findings stored before
/// `source_wide` existed are read by their code: `discovery-failed` is always about a source.
#[derive(Serialize, Deserialize)]
struct RawCoverageFinding {
    scope: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    source_wide: bool,
    provider: Provider,
    code: CoverageCode,
    message: String,
    snapshot_id: Option<i64>,
    #[serde(with = "netdrift_snapshots::time::as_secs::option")]
    taken_at: Option<DateTime<Utc>>,
    problems: Vec<Problem>,
    uncollected: Vec<ResourceKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<String>,
}

impl TryFrom<RawCoverageFinding> for CoverageFinding {
    type Error = String;
    fn try_from(r: RawCoverageFinding) -> Result<CoverageFinding, String> {
        let subject = if r.source_wide || r.code == CoverageCode::DiscoveryFailed {
            Subject::Source(r.scope)
        } else {
            Subject::Scope(
                ScopeKey::parse(&r.scope)
                    .map_err(|e| format!("coverage finding: scope {:?}: {e}", r.scope))?,
            )
        };
        Ok(CoverageFinding {
            subject,
            provider: r.provider,
            code: r.code,
            message: r.message,
            snapshot_id: r.snapshot_id,
            taken_at: r.taken_at,
            problems: r.problems,
            uncollected: r.uncollected,
            evidence: r.evidence,
        })
    }
}

impl From<CoverageFinding> for RawCoverageFinding {
    fn from(f: CoverageFinding) -> RawCoverageFinding {
        let source_wide = matches!(f.subject, Subject::Source(_));
        RawCoverageFinding {
            scope: match f.subject {
                Subject::Scope(k) => k.into(),
                Subject::Source(l) => l,
            },
            source_wide,
            provider: f.provider,
            code: f.code,
            message: f.message,
            snapshot_id: f.snapshot_id,
            taken_at: f.taken_at,
            problems: f.problems,
            uncollected: f.uncollected,
            evidence: f.evidence,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(try_from = "RawCoverageFinding", into = "RawCoverageFinding")]
pub struct CoverageFinding {
    /// Serialized as `scope` (with `source_wide` for a source).
    pub subject: Subject,
    pub provider: Provider,
    pub code: CoverageCode,
    pub message: String,
    pub snapshot_id: Option<i64>,
    pub taken_at: Option<DateTime<Utc>>,
    pub problems: Vec<Problem>,
    pub uncollected: Vec<ResourceKind>,
    /// What was checked, one line each (audit-logging findings: every trail with its status
    /// and selectors).
    pub evidence: Vec<String>,
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
    #[serde(with = "netdrift_snapshots::time::as_millis")]
    pub event_time: DateTime<Utc>,
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
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub window_start: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub window_end: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(subject: Subject, code: CoverageCode) -> CoverageFinding {
        CoverageFinding {
            subject,
            provider: Provider::Aws,
            code,
            message: "m".into(),
            snapshot_id: None,
            taken_at: None,
            problems: Vec::new(),
            uncollected: Vec::new(),
            evidence: Vec::new(),
        }
    }

    #[test]
    fn a_coverage_finding_says_whether_it_names_a_scope_or_a_whole_source() {
        // A source label can look like a scope key (`aws:org`): `source_wide` keeps them apart.
        let src = finding(
            Subject::Source("aws:org".into()),
            CoverageCode::AuditReadFailed,
        );
        let text = serde_json::to_string(&src).unwrap();
        assert!(
            text.starts_with(r#"{"scope":"aws:org","source_wide":true,"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<CoverageFinding>(&text).unwrap(), src);
        let key = netdrift_snapshots::ScopeKey::parse("aws:111122223333:us-east-1").unwrap();
        let sc = finding(Subject::Scope(key), CoverageCode::NoBaseline);
        let text = serde_json::to_string(&sc).unwrap();
        assert!(
            !text.contains("source_wide"),
            "written only for a source: {text}"
        );
        assert_eq!(serde_json::from_str::<CoverageFinding>(&text).unwrap(), sc);
        // Stored before `source_wide`: discovery-failed is always about a source.
        let old = r#"{"scope":"gcp:prod","provider":"gcp","code":"discovery-failed","message":"m","snapshot_id":null,"taken_at":null,"problems":[],"uncollected":[]}"#;
        let f: CoverageFinding = serde_json::from_str(old).unwrap();
        assert_eq!(f.subject, Subject::Source("gcp:prod".into()));
        // A scope finding whose key is not a scope key is refused, naming it.
        let bad = old
            .replace("discovery-failed", "no-baseline")
            .replace("gcp:prod", "nope");
        let e = serde_json::from_str::<CoverageFinding>(&bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"nope\""), "{e}");
    }

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
