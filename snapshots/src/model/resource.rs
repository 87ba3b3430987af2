//! Resources and their rules: ids, kinds, directions, actions, GCP policy placement.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::*;

/// Identifier of a resource as the cloud names it: `sg-…`, `acl-…`,
/// `projects/P/global/firewalls/NAME`, or an Azure resource id (lower-cased: ARM ids are
/// case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(String);

impl ResourceId {
    pub fn new(id: impl Into<String>) -> Self {
        ResourceId(id.into())
    }
    /// Azure ids compare case-insensitively; they are stored lower-cased.
    pub fn azure(id: &str) -> Self {
        ResourceId(id.to_ascii_lowercase())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    AwsSecurityGroup,
    AwsNetworkAcl,
    GcpFirewallRule,
    /// A GCP hierarchical, global network or regional network firewall policy.
    GcpFirewallPolicy,
    AzureNsg,
    /// Workloads: what a firewall applies to and how it is routed (`Resource::workload`).
    AwsNetworkInterface,
    AwsSubnet,
    AwsRouteTable,
    GcpInstance,
    AzureNic,
    AzurePublicIp,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::AwsSecurityGroup => "aws_security_group",
            ResourceKind::AwsNetworkAcl => "aws_network_acl",
            ResourceKind::GcpFirewallRule => "gcp_firewall_rule",
            ResourceKind::GcpFirewallPolicy => "gcp_firewall_policy",
            ResourceKind::AzureNsg => "azure_nsg",
            ResourceKind::AwsNetworkInterface => "aws_network_interface",
            ResourceKind::AwsSubnet => "aws_subnet",
            ResourceKind::AwsRouteTable => "aws_route_table",
            ResourceKind::GcpInstance => "gcp_instance",
            ResourceKind::AzureNic => "azure_nic",
            ResourceKind::AzurePublicIp => "azure_public_ip",
        }
    }

    /// A workload kind (network interfaces, subnets, route tables): it carries no rules, is never
    /// diffed or approved, and tells which workloads a firewall change reaches.
    pub fn is_workload(self) -> bool {
        matches!(
            self,
            ResourceKind::AwsNetworkInterface
                | ResourceKind::AwsSubnet
                | ResourceKind::AwsRouteTable
                | ResourceKind::GcpInstance
                | ResourceKind::AzureNic
                | ResourceKind::AzurePublicIp
        )
    }

    pub fn provider(self) -> Provider {
        match self {
            ResourceKind::AwsSecurityGroup
            | ResourceKind::AwsNetworkAcl
            | ResourceKind::AwsNetworkInterface
            | ResourceKind::AwsSubnet
            | ResourceKind::AwsRouteTable => Provider::Aws,
            ResourceKind::GcpFirewallRule
            | ResourceKind::GcpFirewallPolicy
            | ResourceKind::GcpInstance => Provider::Gcp,
            ResourceKind::AzureNsg | ResourceKind::AzureNic | ResourceKind::AzurePublicIp => {
                Provider::Azure
            }
        }
    }

    /// How the rules of one evaluation unit combine.
    pub fn semantics(self) -> Semantics {
        match self {
            ResourceKind::AwsSecurityGroup => Semantics::Union,
            _ => Semantics::FirstMatch,
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "aws_security_group" => ResourceKind::AwsSecurityGroup,
            "aws_network_acl" => ResourceKind::AwsNetworkAcl,
            "gcp_firewall_rule" => ResourceKind::GcpFirewallRule,
            "gcp_firewall_policy" => ResourceKind::GcpFirewallPolicy,
            "azure_nsg" => ResourceKind::AzureNsg,
            "aws_network_interface" => ResourceKind::AwsNetworkInterface,
            "aws_subnet" => ResourceKind::AwsSubnet,
            "aws_route_table" => ResourceKind::AwsRouteTable,
            "gcp_instance" => ResourceKind::GcpInstance,
            "azure_nic" => ResourceKind::AzureNic,
            "azure_public_ip" => ResourceKind::AzurePublicIp,
            _ => return Err(ModelError::new(s, "unknown resource kind")),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantics {
    /// AWS security groups: allow-only, the union of all rules.
    Union,
    /// NACLs, GCP, Azure: rules in evaluation order, first match decides.
    FirstMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Deny sorts before allow: at equal priority deny wins (GCP).
    Deny,
    Allow,
    /// GCP firewall policy `goto_next`: hand the decision to the next level.
    GotoNext,
}

/// One firewall rule in canonical shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rule {
    pub direction: Direction,
    /// NACL rule number, GCP/Azure priority, policy rule priority; `None` where order is
    /// meaningless (security groups).
    pub priority: Option<u32>,
    pub action: Action,
    pub enabled: bool,
    pub protocol: Protocol,
    pub ports: Ports,
    /// Sorted, deduplicated.
    pub peers: Vec<Peer>,
    /// Sorted, deduplicated; empty = every instance / local address.
    pub targets: Vec<Target>,
    /// Azure source ports of inbound rules (destination of outbound); `None` = any.
    pub source_ports: Option<Vec<PortRange>>,
    /// True for rules the cloud supplies (Azure default rules, NACL `*` entry).
    pub default_rule: bool,
    /// Cosmetic: Azure rule name, GCP policy rule name.
    pub name: Option<String>,
    /// Cosmetic: free text.
    pub description: Option<String>,
    /// Identity the cloud gave the rule (`sgr-…`, Azure rule id); not part of content or access.
    pub rule_id: Option<String>,
}

impl Rule {
    /// A rule with defaults that tests and converters fill in.
    pub fn new(
        direction: Direction,
        action: Action,
        protocol: Protocol,
        ports: Ports,
        peers: Vec<Peer>,
    ) -> Rule {
        Rule {
            direction,
            priority: None,
            action,
            enabled: true,
            protocol,
            ports,
            peers,
            targets: Vec::new(),
            source_ports: None,
            default_rule: false,
            name: None,
            description: None,
            rule_id: None,
        }
    }
}

/// One firewall resource as collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub name: Option<String>,
    pub description: Option<String>,
    /// AWS VPC id, GCP network (short name), Azure location.
    pub network: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Known attachments (network interfaces, subnets); `attached` is `None` when unknown.
    pub attached: Option<bool>,
    pub attachments: Vec<String>,
    pub rules: Vec<Rule>,
    /// Resolved managed prefix lists referenced by the rules (AWS).
    pub prefix_lists: BTreeMap<String, Vec<IpNet>>,
    /// Where a GCP firewall policy sits in the evaluation order and what it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyPlacement>,
    /// What a workload kind says about itself (none for firewall kinds, so their canonical
    /// form and state hashes are what they were before workloads existed). Boxed: most
    /// resources are firewalls, and inline it would double their size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Box<Workload>>,
}

/// A GCP firewall policy's place in the evaluation order: hierarchical policies (organization,
/// then folders top-down), then per VPC network its firewall rules and network firewall
/// policies (global, then regional) in the network's enforcement order, then the implied rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyPlacement {
    pub level: PolicyLevel,
    /// Sorted. Hierarchical: the organization or folders it is associated with
    /// (`organizations/123`, `folders/456`); network policies: the VPC networks (short names).
    pub associations: Vec<PolicyAssociation>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PolicyLevel {
    /// A hierarchical policy; depth 0 is the organization, 1 a top-level folder, and so on.
    Hierarchical { depth: u32 },
    /// A global network firewall policy.
    Network,
    /// A regional network firewall policy.
    Regional { region: String },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyAssociation {
    /// `organizations/123`, `folders/456`, or a VPC network's short name.
    pub target: String,
    /// The network evaluates its network firewall policies before its VPC firewall rules
    /// (`networkFirewallPolicyEnforcementOrder = BEFORE_CLASSIC_FIREWALL`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before_classic: bool,
}

impl Resource {
    pub fn new(id: ResourceId, kind: ResourceKind) -> Resource {
        Resource {
            id,
            kind,
            name: None,
            description: None,
            network: None,
            tags: BTreeMap::new(),
            attached: None,
            attachments: Vec::new(),
            rules: Vec::new(),
            prefix_lists: BTreeMap::new(),
            policy: None,
            workload: None,
        }
    }
}
