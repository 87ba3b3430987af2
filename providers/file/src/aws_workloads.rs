//! AWS workload dumps: `describe-network-interfaces`, `describe-subnets`, `describe-route-tables`
//! (the CLI prints the API response in PascalCase). Reach reads what these say.

use ipnet::IpNet;
use netdrift_snapshots::{
    canonicalize, AwsInterface, AwsRoute, AwsRouteTable, AwsSubnet, Resource, ResourceId,
    ResourceKind, RouteDestination, RouteTarget, Workload,
};

use crate::json::{ConvertError, Node};

/// The top-level keys of the three documents.
pub const KEYS: [&str; 3] = ["NetworkInterfaces", "Subnets", "RouteTables"];

/// The kind each document holds.
pub fn kind_of(key: &str) -> Option<ResourceKind> {
    match key {
        "NetworkInterfaces" => Some(ResourceKind::AwsNetworkInterface),
        "Subnets" => Some(ResourceKind::AwsSubnet),
        "RouteTables" => Some(ResourceKind::AwsRouteTable),
        _ => None,
    }
}

fn net(n: &Node<'_>, key: &str) -> Result<Option<IpNet>, ConvertError> {
    n.str(key)?
        .map(|s| {
            s.parse::<IpNet>()
                .map_err(|_| n.child(key).expect("present").err("not a CIDR block"))
        })
        .transpose()
}

fn name_tag(n: &Node<'_>, key: &str) -> Result<Option<String>, ConvertError> {
    for t in n.list(key)? {
        if t.req_str("Key")? == "Name" {
            return Ok(t.str("Value")?.map(str::to_string));
        }
    }
    Ok(None)
}

/// One `NetworkInterfaces[]` entry.
pub fn interface(n: &Node<'_>) -> Result<Resource, ConvertError> {
    let id = n.req_str("NetworkInterfaceId")?;
    let mut r = Resource::new(ResourceId::new(id), ResourceKind::AwsNetworkInterface);
    r.network = n.str("VpcId")?.map(str::to_string);
    r.description = n.str("Description")?.map(str::to_string);
    r.name = name_tag(n, "TagSet")?;
    let mut i = AwsInterface {
        subnet: n.req_str("SubnetId")?.to_string(),
        vpc: r.network.clone(),
        groups: Vec::new(),
        private_ipv4: Vec::new(),
        public_ipv4: Vec::new(),
        ipv6: Vec::new(),
        interface_type: n.str("InterfaceType")?.map(str::to_string),
        requester_managed: n.bool("RequesterManaged")?.unwrap_or(false),
        instance: n
            .child("Attachment")
            .map(|a| a.str("InstanceId"))
            .transpose()?
            .flatten()
            .map(str::to_string),
        status: n.str("Status")?.map(str::to_string),
    };
    for g in n.list("Groups")? {
        i.groups.push(g.req_str("GroupId")?.to_string());
    }
    // The primary address's association, and each private address's (secondary addresses can
    // carry Elastic IPs of their own).
    if let Some(a) = n.child("Association") {
        i.public_ipv4.extend(a.ip("PublicIp")?);
    }
    i.private_ipv4.extend(n.ip("PrivateIpAddress")?);
    for p in n.list("PrivateIpAddresses")? {
        i.private_ipv4.extend(p.ip("PrivateIpAddress")?);
        if let Some(a) = p.child("Association") {
            i.public_ipv4.extend(a.ip("PublicIp")?);
        }
    }
    i.private_ipv4.dedup();
    for a in n.list("Ipv6Addresses")? {
        i.ipv6.extend(a.ip("Ipv6Address")?);
    }
    r.attachments = i.instance.iter().cloned().collect();
    r.attached = Some(i.status.as_deref() == Some("in-use") || i.instance.is_some());
    r.workload = Some(Box::new(Workload::AwsInterface(i)));
    Ok(canonicalize(r))
}

/// One `Subnets[]` entry.
pub fn subnet(n: &Node<'_>) -> Result<Resource, ConvertError> {
    let id = n.req_str("SubnetId")?;
    let mut r = Resource::new(ResourceId::new(id), ResourceKind::AwsSubnet);
    let vpc = n.req_str("VpcId")?.to_string();
    r.network = Some(vpc.clone());
    r.name = name_tag(n, "Tags")?;
    let mut cidrs: Vec<IpNet> = net(n, "CidrBlock")?.into_iter().collect();
    for a in n.list("Ipv6CidrBlockAssociationSet")? {
        cidrs.extend(net(&a, "Ipv6CidrBlock")?);
    }
    r.workload = Some(Box::new(Workload::AwsSubnet(AwsSubnet {
        vpc,
        cidrs,
        map_public_ip_on_launch: n.bool("MapPublicIpOnLaunch")?.unwrap_or(false),
    })));
    Ok(canonicalize(r))
}

/// The target of one route: the first target id it names.
fn route_target(n: &Node<'_>) -> Result<RouteTarget, ConvertError> {
    for key in [
        "GatewayId",
        "NatGatewayId",
        "EgressOnlyInternetGatewayId",
        "TransitGatewayId",
        "VpcPeeringConnectionId",
        "NetworkInterfaceId",
        "InstanceId",
        "CarrierGatewayId",
        "LocalGatewayId",
        "CoreNetworkArn",
    ] {
        if let Some(id) = n.str(key)? {
            return Ok(RouteTarget::from_id(id));
        }
    }
    Err(n.err("a route without a target (GatewayId, NatGatewayId, EgressOnlyInternetGatewayId, …)"))
}

/// One `RouteTables[]` entry.
pub fn route_table(n: &Node<'_>) -> Result<Resource, ConvertError> {
    let id = n.req_str("RouteTableId")?;
    let mut r = Resource::new(ResourceId::new(id), ResourceKind::AwsRouteTable);
    let vpc = n.req_str("VpcId")?.to_string();
    r.network = Some(vpc.clone());
    r.name = name_tag(n, "Tags")?;
    let mut t = AwsRouteTable {
        vpc,
        main: false,
        subnets: Vec::new(),
        routes: Vec::new(),
    };
    for a in n.list("Associations")? {
        t.main |= a.bool("Main")?.unwrap_or(false);
        if let Some(s) = a.str("SubnetId")? {
            t.subnets.push(s.to_string());
        }
    }
    for route in n.list("Routes")? {
        let destination = if let Some(c) = net(&route, "DestinationCidrBlock")? {
            RouteDestination::Cidr(c)
        } else if let Some(c) = net(&route, "DestinationIpv6CidrBlock")? {
            RouteDestination::Cidr(c)
        } else if let Some(p) = route.str("DestinationPrefixListId")? {
            RouteDestination::PrefixList(p.to_string())
        } else {
            return Err(route.err(
                "a route without a destination (DestinationCidrBlock, DestinationIpv6CidrBlock or DestinationPrefixListId)",
            ));
        };
        let active = match route.str("State")? {
            None | Some("active") => true,
            Some("blackhole") => false,
            Some(_) => {
                return Err(route
                    .child("State")
                    .expect("present")
                    .err("a route State is active or blackhole"))
            }
        };
        t.routes.push(AwsRoute {
            destination,
            target: route_target(&route)?,
            active,
        });
    }
    r.attachments = t.subnets.clone();
    r.workload = Some(Box::new(Workload::AwsRouteTable(t)));
    Ok(canonicalize(r))
}
