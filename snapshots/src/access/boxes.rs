//! Rules to boxes: a rule's peer as addresses, and each rule as the boxes it allows or
//! denies, in evaluation order.

use crate::model::{Peer, Ports, Protocol, Resource, Rule};

use super::*;

/// The symbolic name of a peer, or its addresses.
pub fn peer_addrs(peer: &Peer, resource: &Resource) -> AddrSet {
    match peer {
        Peer::Cidr(net) => AddrSet::from_net(net),
        Peer::Any => AddrSet::everything(),
        Peer::Internet => AddrSet::public(),
        Peer::PrefixList(id) => match resource.prefix_lists.get(id) {
            Some(nets) => nets.iter().fold(AddrSet::default(), |acc, n| {
                acc.union(&AddrSet::from_net(n))
            }),
            None => AddrSet::symbol(format!("prefix-list:{id}")),
        },
        Peer::SecurityGroup(g) => AddrSet::symbol(format!("sg:{g}")),
        Peer::Tag(t) => AddrSet::symbol(format!("tag:{t}")),
        Peer::ServiceAccount(s) => AddrSet::symbol(format!("sa:{s}")),
        Peer::ServiceTag(t) => AddrSet::symbol(format!("service-tag:{t}")),
        Peer::AppSecurityGroup(a) => AddrSet::symbol(format!("asg:{a}")),
    }
}

/// The boxes a rule covers (empty when the rule can never match).
pub fn rule_boxes(rule: &Rule, resource: &Resource) -> Vec<AccessBox> {
    let addrs = rule.peers.iter().fold(AddrSet::default(), |acc, p| {
        acc.union(&peer_addrs(p, resource))
    });
    if addrs.is_empty() {
        return Vec::new();
    }
    let allow = rule.action == crate::model::Action::Allow;
    let mk = |proto: (u8, u8), ports: (u16, u16)| AccessBox {
        proto,
        ports,
        addrs: addrs.clone(),
        allow,
    };
    let proto = rule.protocol;
    match (&rule.ports, proto) {
        (Ports::All, _) => vec![mk(proto.range(), (0, 65535))],
        // All protocols restricted to ports (Azure `*` with a destination port): the port
        // filter applies to the port-bearing protocols.
        (Ports::Ranges { ranges }, Protocol::All) => [6u8, 17, 132]
            .iter()
            .flat_map(|&p| ranges.iter().map(move |r| (p, r)))
            .map(|(p, r)| mk((p, p), (r.from, r.to)))
            .collect(),
        (ports, p) if p.has_ports() || p.is_icmp() => ports
            .intervals()
            .into_iter()
            .map(|iv| mk(proto.range(), iv))
            .collect(),
        // Protocols without ports (esp, ah, gre…): ports are meaningless, the whole protocol.
        _ => vec![mk(proto.range(), (0, 65535))],
    }
}
