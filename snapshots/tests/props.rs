//! Property tests: canonicalization is order-insensitive and idempotent; first-match and union
//! evaluation agree with a brute-force model on a small universe.

use netdrift_snapshots::access::{evaluate, AccessBox, AccessSet, AddrSet};
use netdrift_snapshots::{
    canonicalize, state_hash, Action, Direction, Peer, PortRange, Ports, Protocol, Resource,
    ResourceId, ResourceKind, Rule,
};
use proptest::prelude::*;

const BASE: u32 = 0x0a00_0000; // 10.0.0.0

fn contains(set: &AccessSet, proto: u8, port: u16, addr: u32) -> bool {
    set.cells().any(|(plo, phi, qlo, qhi, a)| {
        plo <= proto
            && proto <= phi
            && qlo <= port
            && port <= qhi
            && a.v4
                .spans()
                .iter()
                .any(|&(lo, hi)| lo <= addr as u128 && addr as u128 <= hi)
    })
}

#[derive(Debug, Clone)]
struct R {
    proto: u8, // 0 = all, else 6 or 17
    lo: u16,
    hi: u16,
    prefix: u8,
    host: u32,
    allow: bool,
}

fn rule_strategy() -> impl Strategy<Value = R> {
    (
        prop_oneof![Just(0u8), Just(6u8), Just(17u8)],
        0u16..8,
        0u16..8,
        28u8..=32,
        0u32..16,
        any::<bool>(),
    )
        .prop_map(|(proto, a, b, prefix, host, allow)| R {
            proto,
            lo: a.min(b),
            hi: a.max(b),
            prefix,
            host,
            allow,
        })
}

fn net(r: &R) -> (u32, u32) {
    let size = 1u32 << (32 - r.prefix as u32);
    let start = BASE + (r.host / size) * size;
    (start, start + size - 1)
}

fn to_box(r: &R) -> AccessBox {
    let (lo, hi) = net(r);
    let addr = format!("{}/{}", std::net::Ipv4Addr::from(lo), r.prefix);
    let proto = if r.proto == 0 {
        (0, 255)
    } else {
        (r.proto, r.proto)
    };
    let ports = if r.proto == 0 {
        (0, 65535)
    } else {
        (r.lo, r.hi)
    };
    let _ = hi;
    AccessBox {
        proto,
        ports,
        addrs: AddrSet::from_net(&addr.parse().unwrap()),
        allow: r.allow,
    }
}

fn brute_first_match(rules: &[R], proto: u8, port: u16, addr: u32) -> bool {
    for r in rules {
        let (lo, hi) = net(r);
        let proto_ok = r.proto == 0 || r.proto == proto;
        let port_ok = r.proto == 0 || (r.lo <= port && port <= r.hi);
        if proto_ok && port_ok && lo <= addr && addr <= hi {
            return r.allow;
        }
    }
    false
}

/// A peer of every kind an address set holds: a small IPv4 block, the whole of IPv4, a small
/// IPv6 block, the whole of IPv6, a symbolic peer, or every address and peer.
#[derive(Debug, Clone)]
enum P {
    V4(u8, u32),
    AllV4,
    V6(u128),
    AllV6,
    Sym(&'static str),
    Everything,
}

#[derive(Debug, Clone)]
struct M {
    port: (u16, u16),
    peer: P,
    allow: bool,
}

const V6_BASE: u128 = 0x2001_0db8 << 96;

fn mixed_strategy() -> impl Strategy<Value = M> {
    let peer = prop_oneof![
        (28u8..=32, 0u32..16).prop_map(|(p, h)| P::V4(p, h)),
        Just(P::AllV4),
        (0u128..4).prop_map(P::V6),
        Just(P::AllV6),
        prop_oneof![Just("a"), Just("b")].prop_map(P::Sym),
        Just(P::Everything),
    ];
    (0u16..6, 0u16..6, peer, any::<bool>()).prop_map(|(a, b, peer, allow)| M {
        port: (a.min(b), a.max(b)),
        peer,
        allow,
    })
}

fn mixed_box(m: &M) -> AccessBox {
    let addrs = match &m.peer {
        P::V4(prefix, host) => {
            let size = 1u32 << (32 - *prefix as u32);
            let lo = BASE + (host / size) * size;
            AddrSet::from_net(
                &format!("{}/{prefix}", std::net::Ipv4Addr::from(lo))
                    .parse()
                    .unwrap(),
            )
        }
        P::AllV4 => AddrSet::from_net(&"0.0.0.0/0".parse().unwrap()),
        P::V6(h) => AddrSet::from_net(
            &format!("{}/128", std::net::Ipv6Addr::from(V6_BASE + h))
                .parse()
                .unwrap(),
        ),
        P::AllV6 => AddrSet::from_net(&"::/0".parse().unwrap()),
        P::Sym(name) => AddrSet::symbol(name.to_string()),
        P::Everything => AddrSet::everything(),
    };
    AccessBox {
        proto: (6, 6),
        ports: m.port,
        addrs,
        allow: m.allow,
    }
}

/// A point of the universe: an IPv4 address, an IPv6 address or a symbolic peer.
#[derive(Debug, Clone, Copy)]
enum Pt {
    V4(u32),
    V6(u128),
    Sym(&'static str),
}

fn peer_has(p: &P, pt: Pt) -> bool {
    match (p, pt) {
        (P::Everything, _) | (P::AllV4, Pt::V4(_)) | (P::AllV6, Pt::V6(_)) => true,
        (P::V4(prefix, host), Pt::V4(a)) => {
            let size = 1u32 << (32 - *prefix as u32);
            let lo = BASE + (host / size) * size;
            lo <= a && a <= lo + (size - 1)
        }
        (P::V6(h), Pt::V6(a)) => V6_BASE + h == a,
        (P::Sym(n), Pt::Sym(m)) => *n == m,
        _ => false,
    }
}

fn set_has(set: &AccessSet, port: u16, pt: Pt) -> bool {
    set.cells().any(|(_, _, qlo, qhi, a)| {
        qlo <= port
            && port <= qhi
            && match pt {
                Pt::V4(x) => {
                    a.v4.spans()
                        .iter()
                        .any(|&(lo, hi)| lo <= x as u128 && x as u128 <= hi)
                }
                Pt::V6(x) => a.v6.spans().iter().any(|&(lo, hi)| lo <= x && x <= hi),
                Pt::Sym(n) => a.sym.cofinite != a.sym.names.iter().any(|m| m == n),
            }
    })
}

fn universe() -> Vec<Pt> {
    let mut v: Vec<Pt> = (BASE..BASE + 18).map(Pt::V4).collect();
    v.push(Pt::V4(0x0808_0808));
    v.extend((0..5).map(|h| Pt::V6(V6_BASE + h)));
    v.push(Pt::V6(1));
    v.extend(["a", "b", "c"].map(Pt::Sym));
    v
}

proptest! {
    /// First-match and allow-only evaluation over IPv4, IPv6 and symbolic peers agree with brute
    /// force, and a box that decides every address ends evaluation exactly: what follows it
    /// changes nothing.
    #[test]
    fn every_kind_of_peer_agrees_with_brute_force(rules in prop::collection::vec(mixed_strategy(), 0..12), tail in prop::collection::vec(mixed_strategy(), 0..4), only_allow in any::<bool>()) {
        let rules: Vec<M> = rules.into_iter().map(|mut m| { m.allow |= only_allow; m }).collect();
        let boxes: Vec<AccessBox> = rules.iter().map(mixed_box).collect();
        let set = evaluate(&boxes);
        for port in 0u16..7 {
            for pt in universe() {
                let want = rules.iter().find(|m| m.port.0 <= port && port <= m.port.1 && peer_has(&m.peer, pt)).is_some_and(|m| m.allow);
                prop_assert_eq!(set_has(&set, port, pt), want, "port {} point {:?}", port, pt);
            }
        }
        let refs: Vec<&AccessBox> = boxes.iter().collect();
        prop_assert_eq!(&evaluate(&refs), &set);
        let mut capped = rules.clone();
        capped.push(M { port: (0, 65535), peer: P::Everything, allow: false });
        let capped_set = evaluate(&capped.iter().map(mixed_box).collect::<Vec<_>>());
        capped.extend(tail.into_iter().map(|mut m| { m.allow |= only_allow; m }));
        prop_assert_eq!(evaluate(&capped.iter().map(mixed_box).collect::<Vec<_>>()), capped_set);
    }

    #[test]
    fn first_match_agrees_with_brute_force(rules in prop::collection::vec(rule_strategy(), 0..12)) {
        let boxes: Vec<AccessBox> = rules.iter().map(to_box).collect();
        let set = evaluate(&boxes);
        for proto in [6u8, 17] {
            for port in 0u16..9 {
                for addr in BASE..BASE + 18 {
                    prop_assert_eq!(contains(&set, proto, port, addr), brute_first_match(&rules, proto, port, addr),
                        "proto {} port {} addr {}", proto, port, addr);
                }
            }
        }
    }

    #[test]
    fn union_is_order_insensitive_and_difference_is_exact(a in prop::collection::vec(rule_strategy(), 0..8), b in prop::collection::vec(rule_strategy(), 0..8)) {
        let allow = |v: &Vec<R>| v.iter().map(|r| { let mut x = to_box(r); x.allow = true; x }).collect::<Vec<_>>();
        let sa = evaluate(&allow(&a));
        let mut rev = allow(&a);
        rev.reverse();
        prop_assert_eq!(&sa, &evaluate(&rev));
        let sb = evaluate(&allow(&b));
        let d = sa.difference(&sb);
        for proto in [6u8, 17] {
            for port in 0u16..9 {
                for addr in BASE..BASE + 18 {
                    let want = contains(&sa, proto, port, addr) && !contains(&sb, proto, port, addr);
                    prop_assert_eq!(contains(&d, proto, port, addr), want);
                }
            }
        }
        prop_assert!(d.is_subset_of(&sa));
        prop_assert_eq!(sa.union(&sb), sb.union(&sa));
        // The merge-based operations produce exactly the canonical form evaluation produces.
        let mut both = allow(&a);
        both.extend(allow(&b));
        prop_assert_eq!(sa.union(&sb), evaluate(&both));
        let mut minus: Vec<AccessBox> = allow(&b).into_iter().map(|mut x| { x.allow = false; x }).collect();
        minus.extend(allow(&a));
        prop_assert_eq!(&d, &evaluate(&minus));
        prop_assert_eq!(sa.intersection(&sb), sb.intersection(&sa));
        prop_assert!(sa.intersection(&sb).is_subset_of(&sb));
        let i = sa.intersection(&sb);
        for proto in [6u8, 17] {
            for port in 0u16..9 {
                for addr in BASE..BASE + 18 {
                    let want = contains(&sa, proto, port, addr) && contains(&sb, proto, port, addr);
                    prop_assert_eq!(contains(&i, proto, port, addr), want);
                }
            }
        }
        prop_assert_eq!(&i, &sa.difference(&sa.difference(&sb)));
    }

    /// Intersecting a set of many slabs with a few boxes (how a rule's reach is cut out of a
    /// network's delta) skips the slabs it does not reach by search, and still gives exactly
    /// the canonical intersection.
    #[test]
    fn intersection_skipping_slabs_is_exact(many in prop::collection::vec((0u16..200, 0u16..3, 0u32..16, 28u8..=32, any::<bool>()), 0..60), few in prop::collection::vec((0u16..200, 0u16..40, 0u32..16, 28u8..=32), 1..3)) {
        let mk = |lo: u16, len: u16, host: u32, prefix: u8, udp: bool| {
            let r = R { proto: if udp { 17 } else { 6 }, lo, hi: lo + len, prefix, host, allow: true };
            to_box(&r)
        };
        let a = evaluate(&many.iter().map(|&(lo, len, h, p, u)| mk(lo, len, h, p, u)).collect::<Vec<_>>());
        let b = evaluate(&few.iter().map(|&(lo, len, h, p)| mk(lo, len, h, p, false)).collect::<Vec<_>>());
        let i = a.intersection(&b);
        prop_assert_eq!(&i, &a.difference(&a.difference(&b)));
        prop_assert_eq!(&i, &b.intersection(&a));
        for port in (0u16..245).step_by(3) {
            for addr in (BASE..BASE + 16).step_by(5) {
                let want = contains(&a, 6, port, addr) && contains(&b, 6, port, addr);
                prop_assert_eq!(contains(&i, 6, port, addr), want, "port {} addr {}", port, addr);
            }
        }
    }

    #[test]
    fn canonical_form_is_order_insensitive_and_idempotent(rules in prop::collection::vec(rule_strategy(), 1..10), seed in any::<u64>()) {
        let model: Vec<Rule> = rules.iter().map(|r| {
            let (lo, _) = net(r);
            let peer = Peer::cidr(&format!("{}/{}", std::net::Ipv4Addr::from(lo + 1), r.prefix)).unwrap();
            let (protocol, ports) = if r.proto == 0 { (Protocol::All, Ports::All) } else {
                (Protocol::Number(r.proto), Ports::Ranges { ranges: vec![PortRange { from: r.lo, to: r.hi }] })
            };
            Rule::new(Direction::Ingress, Action::Allow, protocol, ports, vec![peer])
        }).collect();
        let mut shuffled = model.clone();
        // Deterministic shuffle from the seed.
        let n = shuffled.len();
        for i in 0..n {
            let j = ((seed.rotate_left(i as u32 * 7) as usize) ^ i) % n;
            shuffled.swap(i, j);
        }
        let mk = |rules: Vec<Rule>| { let mut r = Resource::new(ResourceId::new("sg-1"), ResourceKind::AwsSecurityGroup); r.rules = rules; canonicalize(r) };
        let a = mk(model);
        let b = mk(shuffled);
        prop_assert_eq!(state_hash(&a), state_hash(&b));
        prop_assert_eq!(canonicalize(a.clone()), a);
    }
}

/// A rule with a destination range, for the destination property: first match by priority, the
/// rule decides an address only when its range *contains* it.
#[derive(Debug, Clone)]
struct D {
    port: u16,
    prefix: u8,
    host: u32,
    allow: bool,
}

fn dest_strategy() -> impl Strategy<Value = D> {
    (0u16..4, 28u8..=32, 0u32..16, any::<bool>()).prop_map(|(port, prefix, host, allow)| D {
        port,
        prefix,
        host,
        allow,
    })
}

fn dest_net(d: &D) -> (u32, u32) {
    let size = 1u32 << (32 - d.prefix as u32);
    let start = BASE + (d.host / size) * size;
    (start, start + size - 1)
}

proptest! {
    /// Destination ranges are matched by containment: the access computed for the most specific
    /// target class holding a destination address equals a brute-force first-match walk that
    /// asks, rule by rule, whether the rule's range contains the address.
    #[test]
    fn destination_ranges_match_by_containment(rules in prop::collection::vec(dest_strategy(), 0..10)) {
        use netdrift_snapshots::effective::{target_classes, unit_access};
        use netdrift_snapshots::Target;
        let model: Vec<Rule> = rules.iter().enumerate().map(|(i, d)| {
            let (lo, _) = dest_net(d);
            let mut r = Rule::new(
                Direction::Ingress,
                if d.allow { Action::Allow } else { Action::Deny },
                Protocol::Number(6),
                Ports::Ranges { ranges: vec![PortRange { from: d.port, to: d.port }] },
                vec![Peer::cidr("0.0.0.0/0").unwrap()],
            );
            r.priority = Some(100 + i as u32);
            r.targets = vec![Target::Cidr(format!("{}/{}", std::net::Ipv4Addr::from(lo), d.prefix).parse().unwrap())];
            r
        }).collect();
        let res = Resource::new(ResourceId::new("nsg"), ResourceKind::AzureNsg);
        let unit: Vec<(&Rule, &Resource)> = model.iter().map(|r| (r, &res)).collect();
        let classes = target_classes(model.iter());
        let access = unit_access(&unit, ResourceKind::AzureNsg.semantics(), Direction::Ingress, &classes);
        for addr in BASE..BASE + 18 {
            // The most specific class holding the address (CIDRs nest or are disjoint).
            let class = classes.iter().filter_map(|c| match c {
                Some(Target::Cidr(n)) if n.contains(&std::net::IpAddr::from(std::net::Ipv4Addr::from(addr))) => Some((n.prefix_len(), c.clone())),
                _ => None,
            }).max_by_key(|(p, _)| *p).map(|(_, c)| c).unwrap_or(None);
            let set = &access[&class];
            for port in 0u16..5 {
                let want = rules.iter().find(|d| {
                    let (lo, hi) = dest_net(d);
                    d.port == port && lo <= addr && addr <= hi
                }).map(|d| d.allow).unwrap_or(false);
                // Any source address: the peer is the world, so probe one public address.
                prop_assert_eq!(contains(set, 6, port, 0x0808_0808), want, "dest {} port {}", addr, port);
            }
        }
    }
}
