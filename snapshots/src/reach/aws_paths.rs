//! AWS paths between an interface and the internet: its subnet's routes, and what the subnet's
//! stateless network ACL lets through each way.

use std::collections::BTreeMap;

use super::resource_access;
use crate::access::{evaluate, AccessBox, AccessSet, AddrSet};
use crate::model::{
    AwsInterface, AwsRouteTable, Direction, Resource, RouteDestination, RouteTarget,
};

/// The addresses an interface exchanges traffic with the internet for, through its subnet's
/// route table, in one direction; and the NAT gateway its IPv4 egress leaves through, if any.
pub(super) fn internet_routes<'t>(
    table: &'t AwsRouteTable,
    i: &AwsInterface,
    ingress: bool,
) -> (AddrSet, Option<&'t str>) {
    // Where the subnet can exchange traffic with the internet, per address family.
    let mut v4 = AddrSet::default();
    let mut v6 = AddrSet::default();
    let mut nat: Option<&str> = None;
    for route in table.routes.iter().filter(|r| r.active) {
        let RouteDestination::Cidr(net) = &route.destination else {
            continue;
        };
        let to_internet = match &route.target {
            RouteTarget::InternetGateway(_) => true,
            RouteTarget::NatGateway(id) if !ingress && net.addr().is_ipv4() => {
                nat.get_or_insert(id);
                true
            }
            RouteTarget::EgressOnlyInternetGateway(_) => !ingress && net.addr().is_ipv6(),
            _ => false,
        };
        if !to_internet {
            continue;
        }
        let set = AddrSet::from_net(net);
        if net.addr().is_ipv4() {
            // Through an internet gateway an IPv4 packet needs the interface's public
            // address; through a NAT gateway (egress only) it does not.
            let via_nat = matches!(route.target, RouteTarget::NatGateway(_));
            if via_nat || !i.public_ipv4.is_empty() {
                v4 = v4.union(&set);
            }
        } else if !i.ipv6.is_empty() {
            v6 = v6.union(&set);
        }
    }
    (v4.union(&v6), nat)
}

/// What one stateless network ACL lets through each way, and where replies may go back.
pub(super) struct AclSets {
    ingress: AccessSet,
    egress: AccessSet,
    /// The traffic whose replies pass back out (for inbound traffic) / back in (outbound).
    replies_out: AccessSet,
    replies_in: AccessSet,
}

impl AclSets {
    pub(super) fn of(acl: &Resource) -> AclSets {
        let ingress = resource_access(acl, Direction::Ingress);
        let egress = resource_access(acl, Direction::Egress);
        AclSets {
            replies_out: reply_ok(&egress),
            replies_in: reply_ok(&ingress),
            ingress,
            egress,
        }
    }

    /// The traffic it lets through in `direction` and whose replies it lets back.
    pub(super) fn through(&self, set: &AccessSet, direction: Direction) -> AccessSet {
        let pass = match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        };
        self.replies_pass(&set.intersection(pass), direction)
    }

    /// The part of `set` whose replies it lets back the other way.
    pub(super) fn replies_pass(&self, set: &AccessSet, direction: Direction) -> AccessSet {
        set.intersection(match direction {
            Direction::Ingress => &self.replies_out,
            Direction::Egress => &self.replies_in,
        })
    }
}

/// The traffic whose replies `back` (what the ACL allows the other way) lets through: for TCP
/// and UDP, replies to at least one ephemeral port (1024-65535; clients pick theirs in that
/// range); for any other protocol, that protocol at all. Any port of the original traffic.
fn reply_ok(back: &AccessSet) -> AccessSet {
    // Per protocol, the addresses a reply may go to.
    let mut ok: BTreeMap<u8, AddrSet> = BTreeMap::new();
    for (plo, phi, _, qhi, addrs) in back.cells() {
        for p in plo..=phi {
            let ported = p == 6 || p == 17;
            if ported && qhi < 1024 {
                continue;
            }
            let e = ok.entry(p).or_default();
            *e = e.union(addrs);
        }
    }
    let boxes: Vec<AccessBox> = ok
        .into_iter()
        .map(|(p, addrs)| AccessBox {
            proto: (p, p),
            ports: (0, 65535),
            addrs,
            allow: true,
        })
        .collect();
    evaluate(&boxes)
}
