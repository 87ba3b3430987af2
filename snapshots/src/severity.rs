//! Exposure severity: a documented matrix of named conditions, first match wins.
//!
//! See `docs/severity.md`. Every condition has a stable code; configuration may change the
//! severity a code gives and the list of sensitive ports.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::access::{AccessBox, AccessSet, AddrSet};
use crate::diff::{Effect, ResourceDiff};
use crate::model::{Direction, PortRange};
use crate::reach::{Reach, ReachVerdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn raised(self) -> Severity {
        match self {
            Severity::Info => Severity::Info,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
    pub fn lowered(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            Severity::Low | Severity::Info => Severity::Info,
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The default sensitive ports (tcp and udp).
pub const DEFAULT_SENSITIVE_PORTS: &[(u16, u16)] = &[
    (20, 21),
    (22, 22),
    (23, 23),
    (25, 25),
    (135, 135),
    (137, 139),
    (445, 445),
    (1433, 1433),
    (1521, 1521),
    (2375, 2376),
    (2379, 2380),
    (3306, 3306),
    (3389, 3389),
    (5432, 5432),
    (5601, 5601),
    (5900, 5900),
    (5985, 5986),
    (6379, 6379),
    (6443, 6443),
    (7001, 7001),
    (8080, 8080),
    (9092, 9092),
    (9200, 9300),
    (10250, 10250),
    (11211, 11211),
    (27017, 27017),
];

/// The conditions of the matrix, in the order they are tried.
pub const MATRIX: &[(&str, Severity, &str)] = &[
    (
        "world-ingress-sensitive",
        Severity::Critical,
        "ingress from the whole internet to a sensitive port or to all ports/protocols",
    ),
    (
        "world-ingress",
        Severity::High,
        "ingress from the whole internet",
    ),
    (
        "world-egress-all",
        Severity::High,
        "egress to the whole internet on all protocols or ports",
    ),
    (
        "public-ingress-sensitive",
        Severity::High,
        "ingress from public addresses to a sensitive port",
    ),
    (
        "public-ingress",
        Severity::Medium,
        "ingress from public addresses",
    ),
    (
        "world-egress",
        Severity::Medium,
        "egress to the whole internet",
    ),
    (
        "private-sensitive-atypical",
        Severity::Medium,
        "ingress from private addresses to a sensitive port the baseline did not allow",
    ),
    (
        "widening",
        Severity::Low,
        "access widened (private addresses or symbolic peers)",
    ),
    ("narrowing", Severity::Info, "access only narrowed"),
    ("cosmetic", Severity::Info, "no change of effective access"),
];

/// Severity settings (configurable).
#[derive(Debug, Clone)]
pub struct SeverityPolicy {
    pub sensitive_ports: Vec<(u16, u16)>,
    /// Severity per matrix code, replacing the default.
    pub overrides: BTreeMap<String, Severity>,
    /// Ports the scope expects (not atypical), tcp/udp.
    pub expected_ports: Vec<PortRange>,
    /// Controller labels ([`crate::ownership::CONTROLLER_LABELS`], or `all`) whose items rank
    /// one level lower. Empty by default: a controller's change is labelled, never lowered.
    pub lower_controllers: Vec<String>,
}

impl Default for SeverityPolicy {
    fn default() -> Self {
        SeverityPolicy {
            sensitive_ports: DEFAULT_SENSITIVE_PORTS.to_vec(),
            overrides: BTreeMap::new(),
            expected_ports: Vec::new(),
            lower_controllers: Vec::new(),
        }
    }
}

/// The facts severity is decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub world: bool,
    pub public: bool,
    pub sensitive_ports: Vec<String>,
    pub all_protocols: bool,
    pub all_ports: bool,
    pub atypical: bool,
    pub attached: Option<bool>,
    pub reach: Option<Reach>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub severity: Severity,
    pub code: &'static str,
    pub reasons: Vec<String>,
    pub exposure: Exposure,
}

fn port_set(ranges: &[(u16, u16)]) -> AccessSet {
    let boxes: Vec<AccessBox> = ranges
        .iter()
        .flat_map(|&(lo, hi)| {
            [6u8, 17].into_iter().map(move |p| AccessBox {
                proto: (p, p),
                ports: (lo, hi),
                addrs: AddrSet::everything(),
                allow: true,
            })
        })
        .collect();
    crate::access::evaluate(&boxes)
}

/// Assess one drift item, without knowing which workloads it reaches.
pub fn assess(item: &ResourceDiff, policy: &SeverityPolicy) -> Assessment {
    assess_with_reach(item, policy, None)
}

/// Assess one drift item with what its newly allowed access reaches (`crate::reach`): a change
/// that reaches the internet keeps its level (and is at least medium when it lets the public in);
/// an internal one is one level lower, an unattached one two, never below low (an expansion is
/// never `info`); unknown reach changes nothing (the attachment flag still lowers an unattached
/// resource one level, as without reach).
pub fn assess_with_reach(
    item: &ResourceDiff,
    policy: &SeverityPolicy,
    reach: Option<&ReachVerdict>,
) -> Assessment {
    let allowed = item.allowed_union();
    let mut all_protocols = false;
    let mut all_ports = false;
    for (plo, phi, qlo, qhi, _) in allowed.cells() {
        all_protocols |= plo == 0 && phi == 255;
        all_ports |= (plo..=phi).any(|p| p == 6 || p == 17) && qlo == 0 && qhi == 65535;
    }
    let mut sensitive_ports = Vec::new();
    for &(lo, hi) in &policy.sensitive_ports {
        let probe = port_set(&[(lo, hi)]);
        let hit = allowed.intersection(&probe);
        if !hit.is_empty() && !all_protocols && !all_ports {
            sensitive_ports.push(if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            });
        }
    }
    let sensitive = !sensitive_ports.is_empty() || all_protocols || all_ports;
    // Atypical: ports neither the approved state of this resource nor the scope expects.
    let expected = port_set(
        &policy
            .expected_ports
            .iter()
            .map(|p| (p.from, p.to))
            .collect::<Vec<_>>(),
    );
    let known = item.baseline_footprint.union(&expected);
    let footprint_new = strip_addrs(&allowed);
    let atypical = !footprint_new.is_empty() && !footprint_new.difference(&known).is_empty();
    let exposure = Exposure {
        world: item.world,
        public: item.public,
        sensitive_ports,
        all_protocols,
        all_ports,
        atypical,
        attached: item.attached,
        reach: reach.map(|r| r.reach),
    };
    let ingress = item.direction == Direction::Ingress;
    let expands = matches!(item.effect, Effect::Expands | Effect::Mixed);
    let code = if !expands {
        if item.effect == Effect::Narrows {
            "narrowing"
        } else {
            "cosmetic"
        }
    } else if ingress && item.world && sensitive {
        "world-ingress-sensitive"
    } else if ingress && item.world {
        "world-ingress"
    } else if !ingress && item.world && (all_protocols || all_ports) {
        "world-egress-all"
    } else if ingress && item.public && sensitive {
        "public-ingress-sensitive"
    } else if ingress && item.public {
        "public-ingress"
    } else if !ingress && item.world {
        "world-egress"
    } else if ingress && sensitive && atypical {
        "private-sensitive-atypical"
    } else {
        "widening"
    };
    let (_, default, text) = MATRIX
        .iter()
        .find(|(c, _, _)| *c == code)
        .expect("code in matrix");
    let mut severity = policy.overrides.get(code).copied().unwrap_or(*default);
    let mut reasons = vec![format!("{code}: {text}")];
    if expands {
        if !exposure.sensitive_ports.is_empty() {
            reasons.push(format!(
                "sensitive ports: {}",
                exposure.sensitive_ports.join(", ")
            ));
        }
        if all_protocols {
            reasons.push("all protocols".into());
        } else if all_ports {
            reasons.push("all ports".into());
        }
        if atypical {
            reasons.push(
                "atypical: ports neither the baseline nor the scope's expected ports allow".into(),
            );
            if severity == Severity::Low {
                severity = Severity::Medium;
                reasons.push("raised one level: atypical port".into());
            }
        }
        severity = adjust_for_reach(severity, &mut reasons, reach, item, ingress);
    }
    Assessment {
        severity,
        code,
        reasons,
        exposure,
    }
}

/// The reach adjustment (docs/severity.md, "reach") of an expansion's severity.
fn adjust_for_reach(
    mut severity: Severity,
    reasons: &mut Vec<String>,
    reach: Option<&ReachVerdict>,
    item: &ResourceDiff,
    ingress: bool,
) -> Severity {
    // Reach never takes an expansion below low: `info` is for what opens nothing, and is
    // never raised again by who made the change.
    let floor = Severity::Low;
    let lower = |s: Severity, n: usize| (0..n).fold(s, |s, _| s.lowered()).max(floor.min(s));
    match reach.map(|r| (r.reach, r.why.as_str())) {
        Some((Reach::Internet, why)) => {
            reasons.push(why.to_string());
            if ingress && (item.world || item.public) && severity < Severity::Medium {
                severity = Severity::Medium;
                reasons.push("raised to medium: it lets the internet reach a workload".into());
            }
        }
        Some((Reach::Internal, why)) => {
            let to = lower(severity, 1);
            reasons.push(why.to_string());
            if to < severity {
                severity = to;
                reasons.push("lowered one level: no workload it reaches is internet-facing".into());
            }
        }
        Some((Reach::Unattached, why)) => {
            let to = lower(severity, 2);
            reasons.push(format!("unattached: {why}"));
            if to < severity {
                reasons.push(format!(
                    "lowered {}: nothing uses it (latent exposure)",
                    if to == severity.lowered() {
                        "one level"
                    } else {
                        "two levels"
                    }
                ));
                severity = to;
            }
        }
        // Unknown reach changes nothing, and says nothing: the item's `reach` shows it.
        _ => {
            if item.attached == Some(false) && severity > Severity::Info {
                severity = severity.lowered();
                reasons.push(
                    "lowered one level: not attached to any network interface (latent exposure)"
                        .into(),
                );
            }
        }
    }
    severity
}

fn strip_addrs(set: &AccessSet) -> AccessSet {
    let boxes: Vec<AccessBox> = set
        .cells()
        .map(|(plo, phi, qlo, qhi, _)| AccessBox {
            proto: (plo, phi),
            ports: (qlo, qhi),
            addrs: AddrSet::everything(),
            allow: true,
        })
        .collect();
    crate::access::evaluate(&boxes)
}
