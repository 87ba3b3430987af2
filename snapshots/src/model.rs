//! The provider-neutral model of firewall state.
//!
//! Every cloud converts into these types; every later stage (canonical form, effective access,
//! diff, severity) consumes them. Parsing helpers here are strict: a value that is not what the
//! cloud documents is an error that names the value and says what would be accepted.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Error raised when a raw value cannot be turned into the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}: {value:?}")]
pub struct ModelError {
    pub value: String,
    pub message: String,
}

impl ModelError {
    pub fn new(value: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError {
            value: value.into(),
            message: message.into(),
        }
    }
}

/// The clouds netdrift understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "aws" => Ok(Provider::Aws),
            "gcp" => Ok(Provider::Gcp),
            "azure" => Ok(Provider::Azure),
            _ => Err(ModelError::new(
                s,
                "unknown provider (expected aws, gcp or azure)",
            )),
        }
    }
}

/// One collection unit: an AWS account in a region, a GCP project, an Azure subscription.
///
/// Built only through [`Scope::new`] (or [`Scope::parse_key`], or deserialization, which go
/// through it), which normalises: an Azure subscription id is lower-cased (ARM ids are
/// case-insensitive, so one subscription never splits in two), an empty region is none.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawScope")]
pub struct Scope {
    provider: Provider,
    /// AWS account id, GCP project id, Azure subscription id.
    account: String,
    /// AWS region; `None` for GCP projects and Azure subscriptions (their resources are global).
    region: Option<String>,
}

/// A scope as serialized, normalised on the way in.
#[derive(Deserialize)]
struct RawScope {
    provider: Provider,
    account: String,
    region: Option<String>,
}

impl TryFrom<RawScope> for Scope {
    type Error = ModelError;
    fn try_from(r: RawScope) -> Result<Scope, ModelError> {
        if r.account.is_empty() {
            return Err(ModelError::new("", "a scope needs an account"));
        }
        Ok(Scope::new(r.provider, r.account, r.region))
    }
}

impl Scope {
    pub fn new(provider: Provider, account: impl Into<String>, region: Option<String>) -> Self {
        let account = account.into();
        // Azure subscription ids are case-insensitive GUIDs.
        let account = if provider == Provider::Azure {
            account.to_ascii_lowercase()
        } else {
            account
        };
        Scope {
            provider,
            account,
            region: region.filter(|r| !r.is_empty()),
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// AWS account id, GCP project id, Azure subscription id (lower case).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// AWS region; `None` for GCP projects and Azure subscriptions.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Stable textual key: `aws:111122223333:us-east-1`, `gcp:acme-prod`, `azure:<subscription>`.
    pub fn key(&self) -> String {
        match &self.region {
            Some(r) => format!("{}:{}:{}", self.provider, self.account, r),
            None => format!("{}:{}", self.provider, self.account),
        }
    }

    pub fn parse_key(key: &str) -> Result<Scope, ModelError> {
        let mut parts = key.splitn(3, ':');
        let provider: Provider = parts.next().unwrap_or_default().parse()?;
        let account = parts.next().filter(|a| !a.is_empty()).ok_or_else(|| {
            ModelError::new(key, "scope key must look like provider:account[:region]")
        })?;
        Ok(Scope::new(
            provider,
            account,
            parts.next().map(str::to_string),
        ))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

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
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::AwsSecurityGroup => "aws_security_group",
            ResourceKind::AwsNetworkAcl => "aws_network_acl",
            ResourceKind::GcpFirewallRule => "gcp_firewall_rule",
            ResourceKind::GcpFirewallPolicy => "gcp_firewall_policy",
            ResourceKind::AzureNsg => "azure_nsg",
        }
    }

    pub fn provider(self) -> Provider {
        match self {
            ResourceKind::AwsSecurityGroup | ResourceKind::AwsNetworkAcl => Provider::Aws,
            ResourceKind::GcpFirewallRule | ResourceKind::GcpFirewallPolicy => Provider::Gcp,
            ResourceKind::AzureNsg => Provider::Azure,
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

/// An IP protocol: every protocol, or one protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    All,
    Number(u8),
}

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

impl Protocol {
    /// Parse the names and numbers the clouds use: `tcp`, `Tcp`, `6`, `-1`, `all`, `*`, `icmpv6`…
    pub fn parse(raw: &str) -> Result<Protocol, ModelError> {
        let s = raw.trim().to_ascii_lowercase();
        let n = match s.as_str() {
            "-1" | "all" | "*" | "any" => return Ok(Protocol::All),
            "tcp" => TCP,
            "udp" => UDP,
            "icmp" => ICMP,
            "icmpv6" | "ipv6-icmp" | "icmp6" => ICMPV6,
            "esp" => 50,
            "ah" => 51,
            "sctp" => 132,
            "ipip" => 4,
            "gre" => 47,
            _ => match s.parse::<i64>() {
                Ok(n) if (0..=255).contains(&n) => n as u8,
                _ => {
                    return Err(ModelError::new(
                        raw,
                        "unknown protocol (expected tcp, udp, icmp, icmpv6, esp, ah, sctp, ipip, all, -1, * or a number 0-255)",
                    ))
                }
            },
        };
        Ok(Protocol::Number(n))
    }

    /// The protocol number interval this protocol covers.
    pub fn range(self) -> (u8, u8) {
        match self {
            Protocol::All => (0, 255),
            Protocol::Number(n) => (n, n),
        }
    }

    /// Whether the port dimension means transport ports for this protocol.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Number(TCP | UDP | 132))
    }

    pub fn is_icmp(self) -> bool {
        matches!(self, Protocol::Number(ICMP | ICMPV6))
    }
}

/// Human name of a protocol number.
pub fn protocol_name(n: u8) -> String {
    match n {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmpv6".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        132 => "sctp".into(),
        4 => "ipip".into(),
        47 => "gre".into(),
        other => other.to_string(),
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Number(n) => f.write_str(&protocol_name(*n)),
        }
    }
}

impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Protocol::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An inclusive port interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };

    pub fn new(from: i64, to: i64) -> Result<PortRange, ModelError> {
        let ok = |p: i64| (0..=65535).contains(&p);
        if !ok(from) || !ok(to) {
            return Err(ModelError::new(
                format!("{from}-{to}"),
                "port outside 0-65535",
            ));
        }
        if from > to {
            return Err(ModelError::new(
                format!("{from}-{to}"),
                "port range starts after it ends",
            ));
        }
        Ok(PortRange {
            from: from as u16,
            to: to as u16,
        })
    }

    /// Parse `"22"`, `"8000-8100"`, `"*"`.
    pub fn parse(raw: &str) -> Result<PortRange, ModelError> {
        let s = raw.trim();
        if s == "*" || s.eq_ignore_ascii_case("any") {
            return Ok(PortRange::ALL);
        }
        let num = |p: &str| {
            p.trim().parse::<i64>().map_err(|_| {
                ModelError::new(
                    raw,
                    "not a port or port range (expected \"22\", \"8000-8100\" or \"*\")",
                )
            })
        };
        match s.split_once('-') {
            Some((a, b)) => {
                PortRange::new(num(a)?, num(b)?).map_err(|e| ModelError::new(raw, e.message))
            }
            None => {
                let p = num(s)?;
                PortRange::new(p, p).map_err(|e| ModelError::new(raw, e.message))
            }
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == PortRange::ALL {
            f.write_str("all")
        } else if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// What a rule matches besides protocol and peer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ports {
    /// Every port (or, for protocols without ports, the whole protocol).
    All,
    /// Transport port intervals (sorted, merged).
    Ranges { ranges: Vec<PortRange> },
    /// ICMP type and code; `None` = any.
    Icmp {
        icmp_type: Option<u8>,
        code: Option<u8>,
    },
}

impl Ports {
    /// Normalize: sort and merge ranges, collapse full coverage to `All`.
    pub fn normalized(self) -> Ports {
        match self {
            Ports::Ranges { mut ranges } => {
                ranges.sort();
                let mut merged: Vec<PortRange> = Vec::with_capacity(ranges.len());
                for r in ranges {
                    match merged.last_mut() {
                        Some(last) if (r.from as u32) <= last.to as u32 + 1 => {
                            last.to = last.to.max(r.to)
                        }
                        _ => merged.push(r),
                    }
                }
                if merged.is_empty() || merged == [PortRange::ALL] {
                    Ports::All
                } else {
                    Ports::Ranges { ranges: merged }
                }
            }
            Ports::Icmp {
                icmp_type: None,
                code: _,
            } => Ports::All,
            other => other,
        }
    }

    /// Intervals in the port dimension of the access algebra. ICMP type and code are encoded
    /// as `type * 256 + code`.
    pub fn intervals(&self) -> Vec<(u16, u16)> {
        match self {
            Ports::All => vec![(0, 65535)],
            Ports::Ranges { ranges } => ranges.iter().map(|r| (r.from, r.to)).collect(),
            Ports::Icmp {
                icmp_type: None, ..
            } => vec![(0, 65535)],
            Ports::Icmp {
                icmp_type: Some(t),
                code: None,
            } => {
                let base = (*t as u16) << 8;
                vec![(base, base | 0xff)]
            }
            Ports::Icmp {
                icmp_type: Some(t),
                code: Some(c),
            } => {
                let v = ((*t as u16) << 8) | *c as u16;
                vec![(v, v)]
            }
        }
    }
}

/// The other end of a rule: where ingress traffic comes from or egress traffic goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Peer {
    /// An IPv4 or IPv6 block, host bits cleared.
    Cidr(IpNet),
    /// Every address and every symbolic peer (Azure `*`, `Any`).
    Any,
    /// The public address space (Azure `Internet`).
    Internet,
    /// An AWS security group reference (`sg-…`, optionally `account/sg-…`).
    SecurityGroup(String),
    /// An AWS managed prefix list; resolved through `Resource::prefix_lists` when known.
    PrefixList(String),
    /// GCP source tag.
    Tag(String),
    /// GCP source service account.
    ServiceAccount(String),
    /// Azure service tag other than `*`/`Any`/`Internet` (`VirtualNetwork`, `Storage.WestEurope`…).
    ServiceTag(String),
    /// Azure application security group (resource id, lower-cased).
    AppSecurityGroup(String),
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Cidr(c) => write!(f, "{c}"),
            Peer::Any => f.write_str("any"),
            Peer::Internet => f.write_str("Internet"),
            Peer::SecurityGroup(g) => write!(f, "group {g}"),
            Peer::PrefixList(p) => write!(f, "prefix list {p}"),
            Peer::Tag(t) => write!(f, "tag:{t}"),
            Peer::ServiceAccount(s) => write!(f, "sa:{s}"),
            Peer::ServiceTag(t) => write!(f, "{t}"),
            Peer::AppSecurityGroup(a) => write!(f, "asg:{a}"),
        }
    }
}

impl Peer {
    /// Parse a CIDR strictly and clear host bits (`208.236.235.254/0` is `0.0.0.0/0`). A bare
    /// address is a host route.
    pub fn cidr(raw: &str) -> Result<Peer, ModelError> {
        parse_cidr(raw).map(Peer::Cidr)
    }
}

/// Parse an IPv4/IPv6 CIDR (or a bare address), clearing host bits.
pub fn parse_cidr(raw: &str) -> Result<IpNet, ModelError> {
    let s = raw.trim();
    let net = if s.contains('/') {
        s.parse::<IpNet>().ok()
    } else {
        s.parse::<std::net::IpAddr>().ok().map(IpNet::from)
    };
    net.map(|n| n.trunc()).ok_or(()).map_err(|_| {
        ModelError::new(
            raw,
            "not a valid IPv4 or IPv6 CIDR (expected e.g. 10.0.0.0/8 or 2001:db8::/32)",
        )
    })
}

/// The local side a rule applies to (GCP target tags and service accounts, Azure destination of
/// inbound / source of outbound rules). An empty target list means "every instance".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    Tag(String),
    ServiceAccount(String),
    Cidr(IpNet),
    ServiceTag(String),
    AppSecurityGroup(String),
    /// GCP firewall-policy rule `targetResources`: only instances in this VPC network.
    Network(String),
    /// The instances of one region (rules of a GCP regional network firewall policy).
    Region(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tag(t) => write!(f, "tag:{t}"),
            Target::ServiceAccount(s) => write!(f, "sa:{s}"),
            Target::Cidr(c) => write!(f, "{c}"),
            Target::ServiceTag(t) => write!(f, "{t}"),
            Target::AppSecurityGroup(a) => write!(f, "asg:{a}"),
            Target::Network(n) => write!(f, "network:{n}"),
            Target::Region(r) => write!(f, "region:{r}"),
        }
    }
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_normalised_however_it_is_built() {
        let a = Scope::new(
            Provider::Azure,
            "0B1F6471-1BF0-4DDA-AEC3-111122223333",
            None,
        );
        let b = Scope::parse_key("azure:0b1f6471-1bf0-4dda-aec3-111122223333").unwrap();
        let c: Scope = serde_json::from_str(
            r#"{"provider":"azure","account":"0B1f6471-1bf0-4dda-AEC3-111122223333","region":""}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c, "deserializing goes through the constructor");
        assert_eq!(c.region(), None, "an empty region is none");
        assert_eq!(a.key(), "azure:0b1f6471-1bf0-4dda-aec3-111122223333");
        // AWS and GCP ids keep their case (they are case-sensitive or always lower case).
        assert_eq!(Scope::new(Provider::Gcp, "Acme", None).account(), "Acme");
        assert!(
            serde_json::from_str::<Scope>(r#"{"provider":"aws","account":"","region":null}"#)
                .is_err()
        );
    }

    #[test]
    fn protocols_parse_like_the_clouds_spell_them() {
        let cases = [
            ("tcp", Protocol::Number(6)),
            ("Tcp", Protocol::Number(6)),
            ("6", Protocol::Number(6)),
            ("-1", Protocol::All),
            ("all", Protocol::All),
            ("*", Protocol::All),
            ("icmpv6", Protocol::Number(58)),
            ("58", Protocol::Number(58)),
            ("esp", Protocol::Number(50)),
            ("Ah", Protocol::Number(51)),
        ];
        for (raw, want) in cases {
            assert_eq!(Protocol::parse(raw).unwrap(), want, "{raw}");
        }
        for bad in ["tcpp", "256", "-2", ""] {
            assert!(Protocol::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cidrs_are_strict_and_normalized() {
        assert_eq!(
            parse_cidr("208.236.235.254/0").unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            parse_cidr("10.1.2.3/16").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert_eq!(parse_cidr("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert_eq!(
            parse_cidr("2001:db8::1/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        for bad in [
            "10.0.0.0/33",
            "300.1.1.1/32",
            "10.0.0/8",
            "::/129",
            "Internet",
            "",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports_parse_and_validate() {
        assert_eq!(
            PortRange::parse("22").unwrap(),
            PortRange { from: 22, to: 22 }
        );
        assert_eq!(
            PortRange::parse("8000-8100").unwrap(),
            PortRange {
                from: 8000,
                to: 8100
            }
        );
        assert_eq!(PortRange::parse("*").unwrap(), PortRange::ALL);
        for bad in ["70000", "-1", "10-5", "ssh", "1-70000"] {
            assert!(PortRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_merge_and_full_coverage_is_all() {
        let p = Ports::Ranges {
            ranges: vec![
                PortRange { from: 23, to: 30 },
                PortRange { from: 20, to: 22 },
            ],
        };
        assert_eq!(
            p.normalized(),
            Ports::Ranges {
                ranges: vec![PortRange { from: 20, to: 30 }]
            }
        );
        let full = Ports::Ranges {
            ranges: vec![
                PortRange { from: 0, to: 1000 },
                PortRange {
                    from: 1001,
                    to: 65535,
                },
            ],
        };
        assert_eq!(full.normalized(), Ports::All);
    }

    #[test]
    fn scope_keys_round_trip() {
        let s = Scope::new(Provider::Aws, "111122223333", Some("us-east-1".into()));
        assert_eq!(s.key(), "aws:111122223333:us-east-1");
        assert_eq!(Scope::parse_key(&s.key()).unwrap(), s);
        let a = Scope::new(Provider::Azure, "ABC-DEF", None);
        assert_eq!(a.key(), "azure:abc-def");
        assert!(Scope::parse_key("nope:1").is_err());
    }
}
