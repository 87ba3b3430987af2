//! The other end of a rule (`Peer`, strict CIDRs) and what a rule applies to (`Target`).

use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::*;

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
