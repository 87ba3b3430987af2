//! Audit-logging coverage: whether the changes of a scope are logged at all. The audit sources
//! attribute changes; this says whether the cloud records them in the first place (MITRE
//! ATT&CK AN1188: "validate that rule changes are logged consistently across every account and
//! region in scope").
//!
//! AWS: a region's firewall changes are management write events of `ec2.amazonaws.com`; they
//! are recorded when some trail that applies to the region (homed there, multi-region, or an
//! organization trail, which member accounts see as shadow trails) is logging and selects
//! management events with `ReadWriteType` `All` or `WriteOnly` (or, with advanced selectors,
//! `eventCategory = Management` without `readOnly = true`).

use serde::{Deserialize, Serialize};

/// One CloudTrail trail as `describe-trails`, `get-trail-status` and `get-event-selectors`
/// describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    pub arn: String,
    pub home_region: String,
    pub multi_region: bool,
    pub organization: bool,
    /// `IsLogging`; `None` when the status could not be read.
    pub logging: Option<bool>,
    /// Whether its selectors record management write events; `None` when they could not be
    /// read.
    pub management_writes: Option<bool>,
}

impl Trail {
    /// Whether the trail records events of `region`.
    pub fn applies_to(&self, region: &str) -> bool {
        self.multi_region || self.home_region == region
    }

    fn describe(&self) -> String {
        let mut kind = Vec::new();
        if self.organization {
            kind.push("organization trail");
        }
        kind.push(if self.multi_region {
            "multi-region"
        } else {
            "single-region"
        });
        let yes_no = |v: Option<bool>| match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unreadable",
        };
        format!(
            "{} ({}, home {}): logging {}, management write events {}",
            self.arn,
            kind.join(", "),
            self.home_region,
            yes_no(self.logging),
            yes_no(self.management_writes)
        )
    }
}

/// A scope's logging verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoggingVerdict {
    /// Some trail logging the scope's management write events.
    Logged,
    /// No trail applies to the region.
    TrailMissing,
    /// Trails apply and would record the events, but none is logging.
    TrailStopped,
    /// Trails apply and are logging, but none selects management write events.
    ManagementEventsExcluded,
    /// What decides it could not be read (the permission is in the problem).
    Unverified,
    /// The scope's audit log exists (GCP's Admin Activity log cannot be switched off; Azure's
    /// Activity Log always records), but netdrift cannot read it: the problem says why.
    Unreadable,
    /// Azure: changes are logged, but no diagnostic setting exports the Activity Log's
    /// Administrative category, so it is kept 90 days only.
    NotExported,
}

/// What was checked for one scope, and what it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingCheck {
    pub scope: crate::Scope,
    pub verdict: LoggingVerdict,
    /// One line per thing checked (each trail with its status and selectors).
    pub evidence: Vec<String>,
    /// Why it is `Unverified`.
    pub problem: Option<crate::Problem>,
}

/// The verdict for `region` from the trails `DescribeTrails` returned there (shadow trails
/// included). A trail whose status or selectors could not be read counts as neither logging
/// nor recording: when nothing else logs the region, the verdict is `Unverified`, never
/// `Logged`.
pub fn aws_region(region: &str, trails: &[Trail]) -> (LoggingVerdict, Vec<String>) {
    let applying: Vec<&Trail> = trails.iter().filter(|t| t.applies_to(region)).collect();
    let mut evidence: Vec<String> = applying.iter().map(|t| t.describe()).collect();
    if applying.is_empty() {
        evidence.push(format!(
            "DescribeTrails (shadow trails included) in {region}: no trail applies to the region"
        ));
        return (LoggingVerdict::TrailMissing, evidence);
    }
    let records = |t: &&Trail| t.management_writes == Some(true);
    let logs = |t: &&Trail| t.logging == Some(true);
    if applying.iter().any(|t| records(t) && logs(t)) {
        return (LoggingVerdict::Logged, evidence);
    }
    let unknown = applying
        .iter()
        .any(|t| t.logging.is_none() || t.management_writes.is_none());
    let verdict = if unknown {
        LoggingVerdict::Unverified
    } else if applying.iter().any(records) {
        LoggingVerdict::TrailStopped
    } else {
        LoggingVerdict::ManagementEventsExcluded
    };
    (verdict, evidence)
}

/// Whether `get-event-selectors` output records management write events: basic selectors
/// (`ReadWriteType` `All` or `WriteOnly` with `IncludeManagementEvents`, which defaults to
/// true), or advanced selectors (`eventCategory` equal to `Management`, and `readOnly` not
/// limited to `true`). `ec2.amazonaws.com` cannot be excluded with
/// `ExcludeManagementEventSources` (only KMS and RDS Data API events can), so an exclusion list
/// does not change it.
pub fn records_management_writes(selectors: &EventSelectors) -> bool {
    if !selectors.advanced.is_empty() {
        return selectors.advanced.iter().any(|s| {
            let category = s.iter().find(|f| f.field == "eventCategory");
            let management = category.is_some_and(|f| {
                f.equals.iter().any(|v| v == "Management")
                    && !f.not_equals.iter().any(|v| v == "Management")
            });
            let read_only = s.iter().find(|f| f.field == "readOnly");
            let writes = read_only.is_none_or(|f| {
                let only_reads = !f.equals.is_empty() && f.equals.iter().all(|v| v == "true");
                !only_reads && !f.not_equals.iter().any(|v| v == "false")
            });
            let ec2 = s.iter().find(|f| f.field == "eventSource").is_none_or(|f| {
                (f.equals.is_empty() || f.equals.iter().any(|v| v == "ec2.amazonaws.com"))
                    && !f.not_equals.iter().any(|v| v == "ec2.amazonaws.com")
            });
            management && writes && ec2
        });
    }
    selectors.basic.iter().any(|s| {
        s.include_management_events && matches!(s.read_write_type.as_str(), "All" | "WriteOnly")
    })
}

/// A trail's event selectors, as `get-event-selectors` prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSelectors {
    pub basic: Vec<BasicSelector>,
    /// Each advanced selector: its field selectors.
    pub advanced: Vec<Vec<FieldSelector>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicSelector {
    pub read_write_type: String,
    pub include_management_events: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSelector {
    pub field: String,
    pub equals: Vec<String>,
    pub not_equals: Vec<String>,
}
