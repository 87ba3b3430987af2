//! Mapping of netdrift's findings to the controls auditors ask about. The table is documented
//! in docs/controls.md; a test keeps the two identical.

use serde::Serialize;

use crate::findings::{CoverageFinding, DriftItem};
use netdrift_snapshots::{Direction, Effect, Provider, ResourceKind};

/// One control of one framework.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Control {
    pub framework: &'static str,
    pub id: &'static str,
    pub title: &'static str,
    /// Which findings of the category it is evidence for (a cloud's benchmark, its ports).
    #[serde(skip)]
    pub applies: Applies,
}

/// Which findings a control applies to, beyond its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every finding of the category.
    Any,
    /// Findings of one cloud.
    Cloud(Provider),
    /// Drift on one cloud (and resource kind, when given) that newly allows one of `ports` over
    /// TCP from the world (`peer`).
    Exposes {
        cloud: Provider,
        kind: Option<ResourceKind>,
        ports: &'static [u16],
        peer: World,
    },
}

/// Which "from the world" a control means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// `0.0.0.0/0`.
    V4,
    /// `::/0`.
    V6,
    /// Either, or Azure's `Internet` tag.
    Internet,
}

const fn c(framework: &'static str, id: &'static str, title: &'static str) -> Control {
    Control {
        framework,
        id,
        title,
        applies: Applies::Any,
    }
}

const fn on(cloud: Provider, ctl: Control) -> Control {
    Control {
        applies: Applies::Cloud(cloud),
        ..ctl
    }
}

const fn exposes(
    cloud: Provider,
    kind: Option<ResourceKind>,
    ports: &'static [u16],
    peer: World,
    ctl: Control,
) -> Control {
    Control {
        applies: Applies::Exposes {
            cloud,
            kind,
            ports,
            peer,
        },
        ..ctl
    }
}

/// Remote server administration ports in the CIS AWS benchmark: SSH and RDP.
const ADMIN: &[u16] = &[22, 3389];

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
            exposes(Provider::Aws, Some(ResourceKind::AwsNetworkAcl), ADMIN, World::V4, c(CIS_AWS, "5.1", "No network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports")),
            exposes(Provider::Aws, Some(ResourceKind::AwsSecurityGroup), ADMIN, World::V4, c(CIS_AWS, "5.2", "No security groups allow ingress from 0.0.0.0/0 to remote server administration ports")),
            exposes(Provider::Aws, Some(ResourceKind::AwsSecurityGroup), ADMIN, World::V6, c(CIS_AWS, "5.3", "No security groups allow ingress from ::/0 to remote server administration ports")),
            exposes(Provider::Gcp, None, &[22], World::Internet, c(CIS_GCP, "3.6", "SSH access is restricted from the internet")),
            exposes(Provider::Gcp, None, &[3389], World::Internet, c(CIS_GCP, "3.7", "RDP access is restricted from the internet")),
            exposes(Provider::Azure, None, &[3389], World::Internet, c(CIS_AZURE, "6.1", "RDP access from the internet is evaluated and restricted")),
            exposes(Provider::Azure, None, &[22], World::Internet, c(CIS_AZURE, "6.2", "SSH access from the internet is evaluated and restricted")),
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
            on(Provider::Aws, c(CIS_AWS, "3.1", "CloudTrail is enabled in all regions")),
            c(PCI, "10.2.1", "Audit logs are enabled and active for all system components"),
            c(SOC2, "CC7.2", "System components are monitored for anomalies"),
            c(NIST, "AU-12", "Audit record generation"),
        ],
    ),
    (
        "audit-logging-off",
        "a region's firewall changes are not logged: no trail applies, it is stopped, it selects no management write events, or that could not be verified",
        &[
            on(Provider::Aws, c(CIS_AWS, "3.1", "CloudTrail is enabled in all regions")),
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
        for ctl in controls(cat).iter().filter(|c| item_applies(c, i)) {
            let id = format!("{} {}", ctl.framework, ctl.id);
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// Whether a control of the item's category is evidence for this item: its cloud's benchmark
/// only, and a benchmark's port control only when the item newly allows one of its ports from
/// the world.
pub fn item_applies(ctl: &Control, i: &DriftItem) -> bool {
    match ctl.applies {
        Applies::Any => true,
        Applies::Cloud(cloud) => i.provider == cloud,
        Applies::Exposes {
            cloud,
            kind,
            ports,
            peer,
        } => {
            i.provider == cloud
                && kind.is_none_or(|k| k == i.resource_kind)
                && i.direction == Direction::Ingress
                && i.newly_allowed.iter().any(|e| {
                    world(&e.peer, peer)
                        && carries_tcp(&e.protocol)
                        && ports.iter().any(|p| covers(&e.ports, *p))
                })
        }
    }
}

/// The controls a coverage finding is evidence for: its category's, of its own cloud.
pub fn coverage_controls(c: &CoverageFinding) -> Vec<Control> {
    controls(coverage_category(c))
        .iter()
        .filter(|ctl| match ctl.applies {
            Applies::Any => true,
            Applies::Cloud(cloud) | Applies::Exposes { cloud, .. } => c.provider == cloud,
        })
        .copied()
        .collect()
}

fn world(peer: &str, want: World) -> bool {
    let v4 = peer.starts_with("0.0.0.0/0");
    let v6 = peer.starts_with("::/0");
    match want {
        World::V4 => v4,
        World::V6 => v6,
        World::Internet => v4 || v6 || peer.eq_ignore_ascii_case("internet"),
    }
}

/// Whether a rendered protocol (`tcp`, `all`, `proto 0-17`) includes TCP.
fn carries_tcp(protocol: &str) -> bool {
    match protocol {
        "tcp" | "all" => true,
        p => p
            .strip_prefix("proto ")
            .and_then(|r| r.split_once('-'))
            .and_then(|(a, b)| Some((a.parse::<u8>().ok()?, b.parse::<u8>().ok()?)))
            .is_some_and(|(a, b)| a <= 6 && 6 <= b),
    }
}

/// Whether rendered ports (`all`, `22`, `20-25`) include `port`.
fn covers(ports: &str, port: u16) -> bool {
    if ports == "all" {
        return true;
    }
    ports
        .split(',')
        .map(str::trim)
        .any(|r| match r.split_once('-') {
            Some((a, b)) => match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                (Ok(a), Ok(b)) => a <= port && port <= b,
                _ => false,
            },
            None => r.parse::<u16>() == Ok(port),
        })
}

/// When a control applies, in words (docs/controls.md).
fn applies_text(a: &Applies) -> String {
    match a {
        Applies::Any => "every finding of the category".into(),
        Applies::Cloud(c) => format!("{c} findings"),
        Applies::Exposes {
            cloud,
            kind,
            ports,
            peer,
        } => {
            let what = match kind {
                Some(ResourceKind::AwsNetworkAcl) => "network ACLs".to_string(),
                Some(ResourceKind::AwsSecurityGroup) => "security groups".to_string(),
                Some(k) => k.as_str().to_string(),
                None => "any firewall".to_string(),
            };
            let ports: Vec<String> = ports.iter().map(|p| format!("tcp/{p}")).collect();
            let from = match peer {
                World::V4 => "0.0.0.0/0",
                World::V6 => "::/0",
                World::Internet => "the internet",
            };
            format!(
                "{cloud} {what} newly allowing {} from {from}",
                ports.join(" or ")
            )
        }
    }
}

/// The mapping as the Markdown table of docs/controls.md.
pub fn markdown_table() -> String {
    let mut s = String::from(
        "| finding | framework | control | title | applies to |\n|---|---|---|---|---|\n",
    );
    for (cat, _, ctls) in MAPPING {
        for ctl in *ctls {
            s += &format!(
                "| {cat} | {} | {} | {} | {} |\n",
                ctl.framework,
                ctl.id,
                ctl.title,
                applies_text(&ctl.applies)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_protocols_and_world_peers_as_the_report_renders_them() {
        for (ports, port, want) in [
            ("all", 22, true),
            ("22", 22, true),
            ("20-25", 22, true),
            ("23-3388", 22, false),
            ("3389", 3389, true),
            ("1024-65535", 3389, true),
            ("type 8", 22, false),
        ] {
            assert_eq!(covers(ports, port), want, "{ports} {port}");
        }
        for (proto, want) in [
            ("tcp", true),
            ("all", true),
            ("proto 0-17", true),
            ("proto 17-255", false),
            ("udp", false),
            ("icmp", false),
        ] {
            assert_eq!(carries_tcp(proto), want, "{proto}");
        }
        for (peer, v4, v6, internet) in [
            ("0.0.0.0/0", true, false, true),
            ("0.0.0.0/0 except 10.128.0.0/9", true, false, true),
            ("::/0", false, true, true),
            ("Internet", false, false, true),
            ("10.0.0.0/8", false, false, false),
            ("AzureLoadBalancer", false, false, false),
        ] {
            assert_eq!(world(peer, World::V4), v4, "{peer}");
            assert_eq!(world(peer, World::V6), v6, "{peer}");
            assert_eq!(world(peer, World::Internet), internet, "{peer}");
        }
    }

    #[test]
    fn docs_table_matches_the_code() {
        let doc = include_str!("../docs/controls.md");
        let table = markdown_table();
        assert!(
            doc.contains(&table),
            "docs/controls.md must contain exactly this table (regenerate it):\n{table}"
        );
    }
}
