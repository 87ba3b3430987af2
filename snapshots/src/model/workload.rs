//! Workloads: the network interfaces a firewall applies to, the subnets they sit in and the
//! routes those subnets take, as the clouds describe them. Reach (`crate::reach`) reads them.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// What a workload kind says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Workload {
    AwsInterface(AwsInterface),
    AwsSubnet(AwsSubnet),
    AwsRouteTable(AwsRouteTable),
    GcpInstance(GcpInstance),
    AzureNic(AzureNic),
    AzurePublicIp(AzurePublicIp),
}

/// An Azure network interface (`az network nic list`, `networkInterfaces` list). Ids are
/// lower-cased, as ARM ids compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AzureNic {
    /// The subnets of its IP configurations, sorted.
    pub subnets: Vec<String>,
    /// Its own network security group.
    pub nsg: Option<String>,
    /// The public IP address resources its IP configurations use, sorted.
    pub public_ips: Vec<String>,
    /// Private addresses, sorted.
    pub private_ips: Vec<IpAddr>,
    /// The virtual machine it is attached to.
    pub vm: Option<String>,
}

/// An Azure public IP address resource (`az network public-ip list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AzurePublicIp {
    /// The address, once allocated.
    pub address: Option<IpAddr>,
}

/// A Compute Engine instance (`gcloud compute instances list`, `instances.aggregatedList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpInstance {
    /// The zone's short name (`us-central1-a`).
    pub zone: String,
    /// `RUNNING`, `TERMINATED`, `STOPPING`, … : only a running instance is exposed.
    pub status: String,
    /// Network tags, sorted.
    pub tags: Vec<String>,
    /// Service account emails, sorted.
    pub service_accounts: Vec<String>,
    pub interfaces: Vec<GcpInterface>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GcpInterface {
    /// The VPC network, as GCP firewall resources name it (`projects/P/global/networks/N`).
    pub network: String,
    pub internal_ip: Option<IpAddr>,
    /// `accessConfigs[].natIP`.
    pub external_ipv4: Vec<IpAddr>,
    /// `ipv6AccessConfigs[].externalIpv6`.
    pub external_ipv6: Vec<IpAddr>,
}

/// An elastic network interface (`describe-network-interfaces`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsInterface {
    pub subnet: String,
    pub vpc: Option<String>,
    /// Security group ids, sorted.
    pub groups: Vec<String>,
    /// Private IPv4 addresses, sorted.
    pub private_ipv4: Vec<IpAddr>,
    /// Public IPv4 addresses associated with it (auto-assigned or Elastic IPs), sorted.
    pub public_ipv4: Vec<IpAddr>,
    /// IPv6 addresses (globally routable in AWS), sorted.
    pub ipv6: Vec<IpAddr>,
    /// `interface`, `nat_gateway`, `load_balancer`, `lambda`, … (`InterfaceType`).
    pub interface_type: Option<String>,
    /// Managed by an AWS service on your behalf (`RequesterManaged`).
    pub requester_managed: bool,
    /// The instance it is attached to, when one is.
    pub instance: Option<String>,
    /// `in-use`, `available`, … (`Status`).
    pub status: Option<String>,
}

/// A subnet (`describe-subnets`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsSubnet {
    pub vpc: String,
    /// IPv4 and IPv6 CIDR blocks, sorted.
    pub cidrs: Vec<IpNet>,
    pub map_public_ip_on_launch: bool,
}

/// A route table (`describe-route-tables`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsRouteTable {
    pub vpc: String,
    /// The VPC's main table: it routes every subnet that has no explicit association.
    pub main: bool,
    /// Subnets explicitly associated with it, sorted.
    pub subnets: Vec<String>,
    /// Sorted.
    pub routes: Vec<AwsRoute>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AwsRoute {
    pub destination: RouteDestination,
    pub target: RouteTarget,
    /// `false` for a `blackhole` route (its target is gone): it carries nothing.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteDestination {
    Cidr(IpNet),
    /// A managed prefix list (`pl-…`).
    PrefixList(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum RouteTarget {
    /// `local`: the VPC itself.
    Local,
    /// `igw-…`: both directions to and from the internet.
    InternetGateway(String),
    /// `eigw-…`: IPv6 out only; admits no inbound connection.
    EgressOnlyInternetGateway(String),
    /// `nat-…`: IPv4 out only.
    NatGateway(String),
    /// Anything else (transit and virtual private gateways, peering, an instance or interface,
    /// endpoints): not the internet as far as reach is concerned.
    Other(String),
}

impl RouteTarget {
    /// What a route's `GatewayId`, `NatGatewayId`, `EgressOnlyInternetGatewayId` (or any other
    /// target id) says.
    pub fn from_id(id: &str) -> RouteTarget {
        if id == "local" {
            RouteTarget::Local
        } else if id.starts_with("igw-") {
            RouteTarget::InternetGateway(id.to_string())
        } else if id.starts_with("eigw-") {
            RouteTarget::EgressOnlyInternetGateway(id.to_string())
        } else if id.starts_with("nat-") {
            RouteTarget::NatGateway(id.to_string())
        } else {
            RouteTarget::Other(id.to_string())
        }
    }
}
