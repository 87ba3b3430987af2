//! Mapping of netdrift's findings to the controls auditors ask about. The table is documented
//! in docs/controls.md; a test keeps the two identical.

use serde::Serialize;

use crate::findings::{CoverageFinding, DriftItem};
use netdrift_snapshots::{Direction, Effect};

/// One control of one framework.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Control {
    pub framework: &'static str,
    pub id: &'static str,
    pub title: &'static str,
}

const fn c(framework: &'static str, id: &'static str, title: &'static str) -> Control {
    Control {
        framework,
        id,
        title,
    }
}

const CIS_AWS: &str = "CIS AWS Foundations v3.0.0";
const CIS_GCP: &str = "CIS GCP Foundations v3.0.0";
const CIS_AZURE: &str = "CIS Azure Foundations v2.0.0";
const PCI: &str = "PCI DSS v4.0";
const SOC2: &str = "SOC 2 (TSC 2017)";
const NIST: &str = "NIST SP 800-53 r5";

/// (finding category, what it means, controls it is evidence for).
pub const MAPPING: &[(&str, &str, &[Control])] = &[
    (
        "ingress-widening",
        "a firewall now admits inbound traffic the approved baseline did not",
        &[
            c(CIS_AWS, "5.1", "No network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports"),
            c(CIS_AWS, "5.2", "No security groups allow ingress from 0.0.0.0/0 to remote server administration ports"),
            c(CIS_AWS, "5.3", "No security groups allow ingress from ::/0 to remote server administration ports"),
            c(CIS_GCP, "3.6", "SSH access is restricted from the internet"),
            c(CIS_GCP, "3.7", "RDP access is restricted from the internet"),
            c(CIS_AZURE, "6.1", "RDP access from the internet is evaluated and restricted"),
            c(CIS_AZURE, "6.2", "SSH access from the internet is evaluated and restricted"),
            c(PCI, "1.3.1", "Inbound traffic to the CDE is restricted"),
            c(PCI, "1.4.2", "Inbound traffic from untrusted networks to trusted networks is restricted"),
            c(SOC2, "CC6.6", "Logical access security measures against threats from outside system boundaries"),
            c(NIST, "SC-7", "Boundary protection"),
            c(NIST, "AC-4", "Information flow enforcement"),
        ],
    ),
    (
        "egress-widening",
        "a firewall now admits outbound traffic the approved baseline did not",
        &[
            c(PCI, "1.3.2", "Outbound traffic from the CDE is restricted"),
            c(SOC2, "CC6.6", "Logical access security measures against threats from outside system boundaries"),
            c(NIST, "SC-7", "Boundary protection"),
            c(NIST, "AC-4", "Information flow enforcement"),
        ],
    ),
    (
        "unapproved-change",
        "any change of a firewall's effective access that no baseline or exception approved",
        &[
            c(PCI, "1.2.2", "Changes to network connections and NSC configurations are approved and managed"),
            c(SOC2, "CC8.1", "Changes to infrastructure are authorized, documented, tested and approved"),
            c(NIST, "CM-3", "Configuration change control"),
            c(NIST, "CM-6", "Configuration settings"),
        ],
    ),
    (
        "approved-exception",
        "a deviation from the baseline approved with an owner, reason and expiry",
        &[
            c(PCI, "1.2.5", "Allowed services, protocols and ports are identified, approved and have a business need"),
            c(SOC2, "CC8.1", "Changes to infrastructure are authorized, documented, tested and approved"),
            c(NIST, "CM-6", "Configuration settings (deviations identified, documented and approved)"),
        ],
    ),
    (
        "attributed-actor",
        "the change is tied to the identity that made it, from the control-plane audit log",
        &[
            c(PCI, "10.2.1", "Audit logs are enabled and active for all system components"),
            c(SOC2, "CC7.2", "System components are monitored for anomalies"),
            c(NIST, "AU-6", "Audit record review, analysis and reporting"),
        ],
    ),
    (
        "coverage-gap",
        "a scope could not be read completely, or has no approved baseline",
        &[
            c(PCI, "1.2.7", "NSC configurations are reviewed at least once every six months"),
            c(SOC2, "CC7.1", "Monitoring to detect configuration changes that introduce vulnerabilities"),
            c(NIST, "CA-7", "Continuous monitoring"),
        ],
    ),
    (
        "logging-gap",
        "the audit log is silent for a period in which state changed",
        &[
            c(CIS_AWS, "3.1", "CloudTrail is enabled in all regions"),
            c(PCI, "10.2.1", "Audit logs are enabled and active for all system components"),
            c(SOC2, "CC7.2", "System components are monitored for anomalies"),
            c(NIST, "AU-12", "Audit record generation"),
        ],
    ),
    (
        "audit-logging-off",
        "a region's firewall changes are not logged: no trail applies, it is stopped, it selects no management write events, or that could not be verified",
        &[
            c(CIS_AWS, "3.1", "CloudTrail is enabled in all regions"),
            c(PCI, "10.2.1", "Audit logs are enabled and active for all system components"),
            c(NIST, "AU-2", "Event logging"),
            c(NIST, "AU-12", "Audit record generation"),
        ],
    ),
    (
        "evidence-integrity",
        "the evidence bundle: hash-chained runs, manifest hashes, optional ed25519 signature",
        &[
            c(PCI, "10.3.4", "Audit logs are protected by file-integrity monitoring or change detection"),
            c(SOC2, "CC4.1", "Ongoing evaluations of whether controls are present and functioning"),
            c(NIST, "AU-9", "Protection of audit information"),
            c(NIST, "AU-10", "Non-repudiation"),
        ],
    ),
];

/// The controls of one category.
pub fn controls(category: &str) -> &'static [Control] {
    MAPPING
        .iter()
        .find(|(c, _, _)| *c == category)
        .map(|(_, _, v)| *v)
        .unwrap_or(&[])
}

/// The finding categories a drift item falls in.
pub fn item_categories(i: &DriftItem) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !i.newly_allowed.is_empty() {
        out.push(match i.direction {
            Direction::Ingress => "ingress-widening",
            Direction::Egress => "egress-widening",
        });
    }
    if i.effect != Effect::Cosmetic {
        out.push(if i.exception.is_some() {
            "approved-exception"
        } else {
            "unapproved-change"
        });
    }
    if i.attribution.as_ref().is_some_and(|a| !a.actors.is_empty()) {
        out.push("attributed-actor");
    }
    out
}

/// The finding category of a coverage finding.
pub fn coverage_category(c: &CoverageFinding) -> &'static str {
    use crate::findings::CoverageCode as C;
    match c.code {
        C::LoggingGap | C::AuditReadFailed => "logging-gap",
        C::AuditTrailMissing
        | C::AuditTrailStopped
        | C::AuditManagementEventsExcluded
        | C::AuditLoggingUnverified
        | C::AuditLogsUnreadable
        | C::ActivityLogNotExported => "audit-logging-off",
        C::DiscoveryFailed
        | C::CollectionFailed
        | C::CollectionPartial
        | C::NoBaseline
        | C::WatchRereadFailed => "coverage-gap",
    }
}

/// Control ids ("PCI DSS v4.0 1.3.1") of a drift item, deduplicated, in table order.
pub fn item_control_ids(i: &DriftItem) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cat in item_categories(i) {
        for ctl in controls(cat) {
            let id = format!("{} {}", ctl.framework, ctl.id);
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// The mapping as the Markdown table of docs/controls.md.
pub fn markdown_table() -> String {
    let mut s = String::from("| finding | framework | control | title |\n|---|---|---|---|\n");
    for (cat, _, ctls) in MAPPING {
        for ctl in *ctls {
            s += &format!(
                "| {cat} | {} | {} | {} |\n",
                ctl.framework, ctl.id, ctl.title
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_table_matches_the_code() {
        let doc = include_str!("../docs/controls.md");
        let table = super::markdown_table();
        assert!(
            doc.contains(&table),
            "docs/controls.md must contain exactly this table (regenerate it):\n{table}"
        );
    }
}
