//! The effective-access algebra.
//!
//! Traffic is a set of cells: protocol interval × port interval × addresses, where addresses are
//! IPv4 and IPv6 interval sets plus a set of symbolic peers (group references, tags, service
//! accounts, service tags). ICMP type and code live in the port dimension (`type * 256 + code`).
//!
//! An [`AccessSet`] is kept in one canonical sweep form: protocol slabs, each holding port slabs,
//! each holding the addresses allowed there, with adjacent equal slabs merged. Two rule layouts
//! that grant the same access therefore produce equal `AccessSet`s, whatever their order, split
//! or grouping. Every operation (first-match evaluation, union, difference) reduces to one
//! routine, [`evaluate`], over an ordered list of boxes.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};
use serde::{Deserialize, Serialize};

use crate::model::{protocol_name, Peer, PortRange, Ports, Protocol, Resource, Rule, ICMP, ICMPV6};

/// Sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Intervals(Vec<(u128, u128)>);

impl Intervals {
    pub fn empty() -> Self {
        Intervals(Vec::new())
    }
    pub fn single(lo: u128, hi: u128) -> Self {
        Intervals(vec![(lo, hi)])
    }
    pub fn from_unsorted(mut v: Vec<(u128, u128)>) -> Self {
        v.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        Intervals(out)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn spans(&self) -> &[(u128, u128)] {
        &self.0
    }
    pub fn union(&self, other: &Intervals) -> Intervals {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        let mut v = Vec::with_capacity(self.0.len() + other.0.len());
        v.extend_from_slice(&self.0);
        v.extend_from_slice(&other.0);
        Intervals::from_unsorted(v)
    }
    pub fn difference(&self, other: &Intervals) -> Intervals {
        if self.is_empty() || other.is_empty() {
            return self.clone();
        }
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.0 {
            let mut cur = lo;
            let mut alive = true;
            while j < other.0.len() && other.0[j].1 < cur {
                j += 1;
            }
            let mut k = j;
            while alive && k < other.0.len() && other.0[k].0 <= hi {
                let (olo, ohi) = other.0[k];
                if olo > cur {
                    out.push((cur, olo - 1));
                }
                if ohi >= hi {
                    alive = false;
                } else {
                    cur = ohi + 1;
                }
                k += 1;
            }
            if alive {
                out.push((cur, hi));
            }
        }
        Intervals(out)
    }
    pub fn intersects(&self, other: &Intervals) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (self.0[i], other.0[j]);
            if a.1 < b.0 {
                i += 1;
            } else if b.1 < a.0 {
                j += 1;
            } else {
                return true;
            }
        }
        false
    }
    pub fn contains_all(&self, other: &Intervals) -> bool {
        other.difference(self).is_empty()
    }
}

/// A finite or co-finite set of symbolic peer names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SymSet {
    /// When true the set is "every symbolic peer except `names`".
    pub cofinite: bool,
    /// Sorted, unique.
    pub names: Vec<String>,
}

fn sorted_union(a: &[String], b: &[String]) -> Vec<String> {
    let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
    v.sort();
    v.dedup();
    v
}
fn sorted_minus(a: &[String], b: &[String]) -> Vec<String> {
    a.iter()
        .filter(|x| b.binary_search(x).is_err())
        .cloned()
        .collect()
}
fn sorted_inter(a: &[String], b: &[String]) -> Vec<String> {
    a.iter()
        .filter(|x| b.binary_search(x).is_ok())
        .cloned()
        .collect()
}

impl SymSet {
    pub fn all() -> Self {
        SymSet {
            cofinite: true,
            names: Vec::new(),
        }
    }
    pub fn one(name: String) -> Self {
        SymSet {
            cofinite: false,
            names: vec![name],
        }
    }
    pub fn is_empty(&self) -> bool {
        !self.cofinite && self.names.is_empty()
    }
    pub fn union(&self, o: &SymSet) -> SymSet {
        match (self.cofinite, o.cofinite) {
            (false, false) => SymSet {
                cofinite: false,
                names: sorted_union(&self.names, &o.names),
            },
            (false, true) => SymSet {
                cofinite: true,
                names: sorted_minus(&o.names, &self.names),
            },
            (true, false) => SymSet {
                cofinite: true,
                names: sorted_minus(&self.names, &o.names),
            },
            (true, true) => SymSet {
                cofinite: true,
                names: sorted_inter(&self.names, &o.names),
            },
        }
    }
    pub fn difference(&self, o: &SymSet) -> SymSet {
        match (self.cofinite, o.cofinite) {
            (false, false) => SymSet {
                cofinite: false,
                names: sorted_minus(&self.names, &o.names),
            },
            (false, true) => SymSet {
                cofinite: false,
                names: sorted_inter(&self.names, &o.names),
            },
            (true, false) => SymSet {
                cofinite: true,
                names: sorted_union(&self.names, &o.names),
            },
            (true, true) => SymSet {
                cofinite: false,
                names: sorted_minus(&o.names, &self.names),
            },
        }
    }
}

/// Addresses: IPv4 and IPv6 intervals plus symbolic peers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddrSet {
    pub v4: Intervals,
    pub v6: Intervals,
    pub sym: SymSet,
}

pub const V4_MAX: u128 = u32::MAX as u128;

fn net_interval(net: &IpNet) -> (bool, u128, u128) {
    match net {
        IpNet::V4(n) => (
            true,
            u32::from(n.network()) as u128,
            u32::from(n.broadcast()) as u128,
        ),
        IpNet::V6(n) => (false, u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// Private, shared, loopback, link-local, documentation, multicast and reserved IPv4 blocks.
const NON_PUBLIC_V4: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/3",
];

impl AddrSet {
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty() && self.sym.is_empty()
    }
    /// Every address and every symbolic peer: nothing after it can match.
    pub fn is_everything(&self) -> bool {
        self.sym.cofinite
            && self.sym.names.is_empty()
            && self.v4.spans() == [(0, V4_MAX)]
            && self.v6.spans() == [(0, u128::MAX)]
    }
    pub fn everything() -> AddrSet {
        AddrSet {
            v4: Intervals::single(0, V4_MAX),
            v6: Intervals::single(0, u128::MAX),
            sym: SymSet::all(),
        }
    }
    pub fn from_net(net: &IpNet) -> AddrSet {
        let (v4, lo, hi) = net_interval(net);
        let iv = Intervals::single(lo, hi);
        if v4 {
            AddrSet {
                v4: iv,
                ..Default::default()
            }
        } else {
            AddrSet {
                v6: iv,
                ..Default::default()
            }
        }
    }
    pub fn symbol(name: String) -> AddrSet {
        AddrSet {
            sym: SymSet::one(name),
            ..Default::default()
        }
    }
    /// The public address space: all of IPv4 except private and special blocks, and IPv6 global
    /// unicast (2000::/3) except documentation (2001:db8::/32).
    pub fn public() -> AddrSet {
        static PUBLIC: std::sync::OnceLock<AddrSet> = std::sync::OnceLock::new();
        PUBLIC.get_or_init(AddrSet::compute_public).clone()
    }

    /// A reference to the cached public address space.
    pub fn public_ref() -> &'static AddrSet {
        static PUBLIC: std::sync::OnceLock<AddrSet> = std::sync::OnceLock::new();
        PUBLIC.get_or_init(AddrSet::compute_public)
    }

    fn compute_public() -> AddrSet {
        let private: Vec<(u128, u128)> = NON_PUBLIC_V4
            .iter()
            .map(|c| {
                let (_, lo, hi) = net_interval(&c.parse::<IpNet>().expect("static CIDR"));
                (lo, hi)
            })
            .collect();
        let v4 = Intervals::single(0, V4_MAX).difference(&Intervals::from_unsorted(private));
        let g = net_interval(&"2000::/3".parse::<IpNet>().expect("static CIDR"));
        let doc = net_interval(&"2001:db8::/32".parse::<IpNet>().expect("static CIDR"));
        let v6 = Intervals::single(g.1, g.2).difference(&Intervals::single(doc.1, doc.2));
        AddrSet {
            v4,
            v6,
            sym: SymSet::default(),
        }
    }
    pub fn union(&self, o: &AddrSet) -> AddrSet {
        AddrSet {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
            sym: self.sym.union(&o.sym),
        }
    }
    pub fn difference(&self, o: &AddrSet) -> AddrSet {
        AddrSet {
            v4: self.v4.difference(&o.v4),
            v6: self.v6.difference(&o.v6),
            sym: self.sym.difference(&o.sym),
        }
    }
    /// Does this set reach any public address (or every symbolic peer, which includes them)?
    pub fn touches_public(&self) -> bool {
        let p = AddrSet::public_ref();
        self.v4.intersects(&p.v4) || self.v6.intersects(&p.v6)
    }
    /// Does this set cover the whole public IPv4 or IPv6 space?
    pub fn covers_world(&self) -> bool {
        let p = AddrSet::public_ref();
        self.v4.contains_all(&p.v4) || self.v6.contains_all(&p.v6)
    }
}

/// One box of traffic in evaluation order.
#[derive(Debug, Clone)]
pub struct AccessBox {
    pub proto: (u8, u8),
    pub ports: (u16, u16),
    pub addrs: AddrSet,
    pub allow: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortSlab {
    pub lo: u16,
    pub hi: u16,
    pub addrs: AddrSet,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProtoSlab {
    pub lo: u8,
    pub hi: u8,
    pub ports: Vec<PortSlab>,
}

/// A set of traffic in canonical sweep form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessSet {
    slabs: Vec<ProtoSlab>,
}

/// Evaluate boxes in order, first match deciding; the allowed traffic in canonical form.
/// With only allow boxes this is their union.
pub fn evaluate(boxes: &[AccessBox]) -> AccessSet {
    let mut proto_bounds: Vec<u16> = Vec::with_capacity(boxes.len() * 2);
    for b in boxes {
        proto_bounds.push(b.proto.0 as u16);
        proto_bounds.push(b.proto.1 as u16 + 1);
    }
    proto_bounds.sort_unstable();
    proto_bounds.dedup();
    let mut slabs: Vec<ProtoSlab> = Vec::new();
    let mut active: Vec<&AccessBox> = Vec::new();
    let mut port_bounds: Vec<u32> = Vec::new();
    for w in proto_bounds.windows(2) {
        let (p_lo, p_hi) = (w[0] as u8, (w[1] - 1) as u8);
        active.clear();
        active.extend(
            boxes
                .iter()
                .filter(|b| b.proto.0 <= p_lo && b.proto.1 >= p_hi),
        );
        if active.is_empty() {
            continue;
        }
        port_bounds.clear();
        for b in &active {
            port_bounds.push(b.ports.0 as u32);
            port_bounds.push(b.ports.1 as u32 + 1);
        }
        port_bounds.sort_unstable();
        port_bounds.dedup();
        let mut ports: Vec<PortSlab> = Vec::new();
        for pw in port_bounds.windows(2) {
            let (q_lo, q_hi) = (pw[0] as u16, (pw[1] - 1) as u16);
            let mut allowed = AddrSet::default();
            let mut decided = AddrSet::default();
            let mut any = false;
            for b in active
                .iter()
                .filter(|b| b.ports.0 <= q_lo && b.ports.1 >= q_hi)
            {
                if b.allow {
                    let fresh = if any {
                        b.addrs.difference(&decided)
                    } else {
                        b.addrs.clone()
                    };
                    allowed = allowed.union(&fresh);
                }
                decided = if any {
                    decided.union(&b.addrs)
                } else {
                    b.addrs.clone()
                };
                any = true;
            }
            if allowed.is_empty() {
                continue;
            }
            match ports.last_mut() {
                Some(last) if last.hi as u32 + 1 == q_lo as u32 && last.addrs == allowed => {
                    last.hi = q_hi
                }
                _ => ports.push(PortSlab {
                    lo: q_lo,
                    hi: q_hi,
                    addrs: allowed,
                }),
            }
        }
        if ports.is_empty() {
            continue;
        }
        match slabs.last_mut() {
            Some(last) if last.hi as u16 + 1 == p_lo as u16 && last.ports == ports => {
                last.hi = p_hi
            }
            _ => slabs.push(ProtoSlab {
                lo: p_lo,
                hi: p_hi,
                ports,
            }),
        }
    }
    AccessSet { slabs }
}

impl AccessSet {
    pub fn is_empty(&self) -> bool {
        self.slabs.is_empty()
    }
    pub fn slabs(&self) -> &[ProtoSlab] {
        &self.slabs
    }

    fn boxes(&self, allow: bool) -> impl Iterator<Item = AccessBox> + '_ {
        self.slabs.iter().flat_map(move |s| {
            s.ports.iter().map(move |p| AccessBox {
                proto: (s.lo, s.hi),
                ports: (p.lo, p.hi),
                addrs: p.addrs.clone(),
                allow,
            })
        })
    }

    pub fn union(&self, other: &AccessSet) -> AccessSet {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        combine(self, other, |a, b| match (a, b) {
            (Some(a), Some(b)) => a.union(b),
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => AddrSet::default(),
        })
    }

    /// `self − other`.
    pub fn difference(&self, other: &AccessSet) -> AccessSet {
        if self.is_empty() || other.is_empty() {
            return self.clone();
        }
        combine(self, other, |a, b| match (a, b) {
            (Some(a), Some(b)) => a.difference(b),
            (Some(a), None) => a.clone(),
            _ => AddrSet::default(),
        })
    }

    pub fn intersection(&self, other: &AccessSet) -> AccessSet {
        if self.is_empty() || other.is_empty() {
            return AccessSet::default();
        }
        combine(self, other, |a, b| match (a, b) {
            (Some(a), Some(b)) => a.difference(&a.difference(b)),
            _ => AddrSet::default(),
        })
    }

    pub fn is_subset_of(&self, other: &AccessSet) -> bool {
        let mut subset = true;
        zip_cells(self, other, |_, _, _, _, a, b| {
            if let Some(a) = a {
                if !a.difference(b.unwrap_or(&AddrSet::default())).is_empty() {
                    subset = false;
                }
            }
        });
        subset
    }

    /// The part of the proto × port space where this set reaches the whole public address space
    /// (of IPv4 or IPv6), with every address.
    pub fn world_region(&self) -> AccessSet {
        let boxes: Vec<AccessBox> = self
            .boxes(true)
            .filter(|b| b.addrs.covers_world())
            .map(|mut b| {
                b.addrs = AddrSet::everything();
                b
            })
            .collect();
        evaluate(&boxes)
    }

    /// Restrict to traffic from or to public addresses.
    pub fn public_part(&self) -> AccessSet {
        let p = AddrSet::public_ref();
        let boxes: Vec<AccessBox> = self
            .boxes(true)
            .filter_map(|mut b| {
                b.addrs = AddrSet {
                    v4: p.v4.difference(&p.v4.difference(&b.addrs.v4)),
                    v6: p.v6.difference(&p.v6.difference(&b.addrs.v6)),
                    sym: SymSet::default(),
                };
                (!b.addrs.is_empty()).then_some(b)
            })
            .collect();
        evaluate(&boxes)
    }

    /// The protocol × port region this set touches, for every address.
    pub fn footprint(&self) -> AccessSet {
        let mut out = Builder::default();
        for (plo, phi, qlo, qhi, _) in self.cells() {
            out.push(plo, phi, qlo, qhi, AddrSet::everything());
        }
        out.finish()
    }

    /// Iterate `(proto lo, proto hi, port lo, port hi, addrs)` cells.
    pub fn cells(&self) -> impl Iterator<Item = (u8, u8, u16, u16, &AddrSet)> {
        self.slabs.iter().flat_map(|s| {
            s.ports
                .iter()
                .map(move |p| (s.lo, s.hi, p.lo, p.hi, &p.addrs))
        })
    }

    /// Human-readable entries, one per protocol × ports × peer block. Cells are grouped by peer
    /// first, so a peer allowed on every protocol reads as one `all` entry.
    pub fn render(&self) -> Vec<AccessEntry> {
        let mut by_peer: std::collections::BTreeMap<String, Vec<AccessBox>> =
            std::collections::BTreeMap::new();
        for (plo, phi, qlo, qhi, addrs) in self.cells() {
            for peer in render_addrs(addrs) {
                by_peer.entry(peer).or_default().push(AccessBox {
                    proto: (plo, phi),
                    ports: (qlo, qhi),
                    addrs: AddrSet::everything(),
                    allow: true,
                });
            }
        }
        let mut out = Vec::new();
        for (peer, boxes) in by_peer {
            for (plo, phi, qlo, qhi, _) in evaluate(&boxes).cells() {
                out.push(AccessEntry {
                    protocol: render_protocol(plo, phi),
                    ports: render_ports(plo, phi, qlo, qhi),
                    peer: peer.clone(),
                    target: None,
                });
            }
        }
        out.sort();
        out
    }
}

/// Visit every elementary cell of the common refinement of two canonical sets, with the
/// addresses each set allows there (`None` = nothing). Cells are visited in sweep order.
pub fn zip_cells<'a>(
    a: &'a AccessSet,
    b: &'a AccessSet,
    mut f: impl FnMut(u8, u8, u16, u16, Option<&'a AddrSet>, Option<&'a AddrSet>),
) {
    let mut pb: Vec<u16> = Vec::with_capacity((a.slabs.len() + b.slabs.len()) * 2);
    for s in a.slabs.iter().chain(&b.slabs) {
        pb.push(s.lo as u16);
        pb.push(s.hi as u16 + 1);
    }
    pb.sort_unstable();
    pb.dedup();
    let (mut ia, mut ib) = (0usize, 0usize);
    let mut qb: Vec<u32> = Vec::new();
    for w in pb.windows(2) {
        let (p_lo, p_hi) = (w[0] as u8, (w[1] - 1) as u8);
        while ia < a.slabs.len() && a.slabs[ia].hi < p_lo {
            ia += 1;
        }
        while ib < b.slabs.len() && b.slabs[ib].hi < p_lo {
            ib += 1;
        }
        let sa = a.slabs.get(ia).filter(|s| s.lo <= p_lo);
        let sb = b.slabs.get(ib).filter(|s| s.lo <= p_lo);
        if sa.is_none() && sb.is_none() {
            continue;
        }
        let empty: &[PortSlab] = &[];
        let (pa, pbs) = (
            sa.map(|s| &s.ports[..]).unwrap_or(empty),
            sb.map(|s| &s.ports[..]).unwrap_or(empty),
        );
        qb.clear();
        for q in pa.iter().chain(pbs) {
            qb.push(q.lo as u32);
            qb.push(q.hi as u32 + 1);
        }
        qb.sort_unstable();
        qb.dedup();
        let (mut ja, mut jb) = (0usize, 0usize);
        for qw in qb.windows(2) {
            let (q_lo, q_hi) = (qw[0] as u16, (qw[1] - 1) as u16);
            while ja < pa.len() && pa[ja].hi < q_lo {
                ja += 1;
            }
            while jb < pbs.len() && pbs[jb].hi < q_lo {
                jb += 1;
            }
            let xa = pa.get(ja).filter(|s| s.lo <= q_lo).map(|s| &s.addrs);
            let xb = pbs.get(jb).filter(|s| s.lo <= q_lo).map(|s| &s.addrs);
            if xa.is_some() || xb.is_some() {
                f(p_lo, p_hi, q_lo, q_hi, xa, xb);
            }
        }
    }
}

/// Builds a canonical set from cells pushed in sweep order, merging adjacent equal slabs.
#[derive(Default)]
struct Builder {
    slabs: Vec<ProtoSlab>,
    cur: Option<(u8, u8, Vec<PortSlab>)>,
}

impl Builder {
    fn push(&mut self, plo: u8, phi: u8, qlo: u16, qhi: u16, addrs: AddrSet) {
        if addrs.is_empty() {
            return;
        }
        if self.cur.as_ref().is_some_and(|c| c.0 != plo) {
            self.flush();
        }
        let cur = self.cur.get_or_insert_with(|| (plo, phi, Vec::new()));
        match cur.2.last_mut() {
            Some(last) if last.hi as u32 + 1 == qlo as u32 && last.addrs == addrs => last.hi = qhi,
            _ => cur.2.push(PortSlab {
                lo: qlo,
                hi: qhi,
                addrs,
            }),
        }
    }
    fn flush(&mut self) {
        if let Some((lo, hi, ports)) = self.cur.take() {
            if ports.is_empty() {
                return;
            }
            match self.slabs.last_mut() {
                Some(last) if last.hi as u16 + 1 == lo as u16 && last.ports == ports => {
                    last.hi = hi
                }
                _ => self.slabs.push(ProtoSlab { lo, hi, ports }),
            }
        }
    }
    fn finish(mut self) -> AccessSet {
        self.flush();
        AccessSet { slabs: self.slabs }
    }
}

/// Combine two canonical sets cell by cell.
fn combine(
    a: &AccessSet,
    b: &AccessSet,
    op: impl Fn(Option<&AddrSet>, Option<&AddrSet>) -> AddrSet,
) -> AccessSet {
    let mut out = Builder::default();
    zip_cells(a, b, |plo, phi, qlo, qhi, x, y| {
        out.push(plo, phi, qlo, qhi, op(x, y))
    });
    out.finish()
}

/// One human-readable line of access: "tcp/22 from 0.0.0.0/0".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccessEntry {
    pub protocol: String,
    pub ports: String,
    pub peer: String,
    /// The instances or local addresses concerned, when not every one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<String>,
}

impl std::fmt::Display for AccessEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ports == "all" {
            write!(f, "{} {}", self.protocol, self.peer)?;
        } else {
            write!(f, "{}/{} {}", self.protocol, self.ports, self.peer)?;
        }
        if let Some(t) = &self.target {
            write!(f, " to {t}")?;
        }
        Ok(())
    }
}

fn render_protocol(lo: u8, hi: u8) -> String {
    if lo == 0 && hi == 255 {
        "all".into()
    } else if lo == hi {
        protocol_name(lo)
    } else {
        format!("proto {lo}-{hi}")
    }
}

fn render_ports(plo: u8, phi: u8, lo: u16, hi: u16) -> String {
    if lo == 0 && hi == 65535 {
        return "all".into();
    }
    if plo == phi && (plo == ICMP || plo == ICMPV6) {
        let (t0, c0, t1, c1) = (lo >> 8, lo & 0xff, hi >> 8, hi & 0xff);
        return if t0 == t1 && c0 == 0 && c1 == 255 {
            format!("type {t0}")
        } else if lo == hi {
            format!("type {t0} code {c0}")
        } else {
            format!("type {t0} code {c0} - type {t1} code {c1}")
        };
    }
    PortRange { from: lo, to: hi }.to_string()
}

fn v4_blocks(iv: &Intervals) -> Vec<String> {
    let mut out = Vec::new();
    for &(lo, hi) in iv.spans() {
        for net in Ipv4Subnets::new(Ipv4Addr::from(lo as u32), Ipv4Addr::from(hi as u32), 0) {
            out.push(Ipv4Net::to_string(&net));
        }
    }
    out
}

fn v6_blocks(iv: &Intervals) -> Vec<String> {
    let mut out = Vec::new();
    for &(lo, hi) in iv.spans() {
        for net in Ipv6Subnets::new(Ipv6Addr::from(lo), Ipv6Addr::from(hi), 0) {
            out.push(Ipv6Net::to_string(&net));
        }
    }
    out
}

/// The smallest CIDR block (as an interval and its prefix length) containing `lo..=hi`.
fn covering_block(lo: u128, hi: u128, bits: u32) -> (u128, u128, u32) {
    let mut len = bits;
    loop {
        let host = bits - len;
        let mask: u128 = if host >= 128 {
            u128::MAX
        } else {
            (1u128 << host) - 1
        };
        let base = lo & !mask;
        if base + mask >= hi || len == 0 {
            return (base, base + mask, len);
        }
        len -= 1;
    }
}

/// One family's addresses as the fewest readable blocks: plain CIDRs, or "B except X, Y" when
/// that is shorter (`0.0.0.0/0 except 10.0.0.0/8`).
fn render_family(iv: &Intervals, v4: bool) -> Vec<String> {
    if iv.is_empty() {
        return Vec::new();
    }
    let public = AddrSet::public_ref();
    let (bits, public_iv) = if v4 {
        (32, &public.v4)
    } else {
        (128, &public.v6)
    };
    let blocks = |i: &Intervals| if v4 { v4_blocks(i) } else { v6_blocks(i) };
    let plain = blocks(iv);
    if plain.len() <= 2 {
        return plain;
    }
    let first = iv.spans()[0].0;
    let last = iv.spans()[iv.spans().len() - 1].1;
    let (blo, bhi, len) = covering_block(first, last, bits);
    let block = Intervals::single(blo, bhi);
    let holes = blocks(&block.difference(iv));
    let name = if v4 {
        format!("{}/{len}", Ipv4Addr::from(blo as u32))
    } else {
        format!("{}/{len}", Ipv6Addr::from(blo))
    };
    let mut best = (plain.len(), plain.clone());
    if holes.len() + 1 < best.0 {
        best = (
            holes.len() + 1,
            vec![format!("{name} except {}", holes.join(", "))],
        );
    }
    // Relative to the public space (Azure `Internet`).
    if iv.contains_all(public_iv) {
        let extra = blocks(&iv.difference(public_iv));
        let label = if v4 {
            "Internet (IPv4)"
        } else {
            "Internet (IPv6)"
        };
        if extra.len() + 1 < best.0 {
            let mut v = vec![label.to_string()];
            v.extend(extra);
            best = (v.len(), v);
        }
    } else if public_iv.contains_all(iv) {
        let missing = blocks(&public_iv.difference(iv));
        let label = if v4 {
            "Internet (IPv4)"
        } else {
            "Internet (IPv6)"
        };
        if missing.len() + 1 < best.0 {
            best = (
                missing.len() + 1,
                vec![format!("{label} except {}", missing.join(", "))],
            );
        }
    }
    best.1
}

/// Render addresses as merged CIDR blocks: `0.0.0.0/0`, `Internet` for exactly the public
/// space, `B except X` where that is shorter than listing blocks.
pub fn render_addrs(a: &AddrSet) -> Vec<String> {
    let mut out = Vec::new();
    let public = AddrSet::public_ref();
    if a.v4 == public.v4 && a.v6 == public.v6 {
        out.push("Internet".to_string());
    } else {
        if a.v4 == Intervals::single(0, V4_MAX) {
            out.push("0.0.0.0/0".to_string());
        } else if a.v4 == public.v4 {
            out.push("Internet (IPv4)".to_string());
        } else {
            out.extend(render_family(&a.v4, true));
        }
        if a.v6 == Intervals::single(0, u128::MAX) {
            out.push("::/0".to_string());
        } else if a.v6 == public.v6 {
            out.push("Internet (IPv6)".to_string());
        } else {
            out.extend(render_family(&a.v6, false));
        }
    }
    if a.sym.cofinite {
        if a.sym.names.is_empty() {
            out.push("any symbolic peer".to_string());
        } else {
            out.push(format!(
                "any symbolic peer except {}",
                a.sym.names.join(", ")
            ));
        }
    } else {
        out.extend(a.sym.names.iter().cloned());
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(c: &str) -> AddrSet {
        AddrSet::from_net(&c.parse().unwrap())
    }
    fn tcp(lo: u16, hi: u16, a: AddrSet, allow: bool) -> AccessBox {
        AccessBox {
            proto: (6, 6),
            ports: (lo, hi),
            addrs: a,
            allow,
        }
    }

    #[test]
    fn interval_difference_cases() {
        let a = Intervals::from_unsorted(vec![(0, 10), (20, 30)]);
        let b = Intervals::from_unsorted(vec![(5, 22), (25, 25)]);
        assert_eq!(a.difference(&b).spans(), &[(0, 4), (23, 24), (26, 30)]);
        assert_eq!(a.difference(&a).spans(), &[] as &[(u128, u128)]);
        assert_eq!(
            Intervals::single(0, 10)
                .difference(&Intervals::single(0, 3))
                .spans(),
            &[(4, 10)]
        );
        assert!(a.intersects(&b));
        assert!(!Intervals::single(0, 4).intersects(&Intervals::single(5, 9)));
        assert_eq!(
            Intervals::from_unsorted(vec![(5, 9), (0, 4)]).spans(),
            &[(0, 9)]
        );
    }

    #[test]
    fn symsets_follow_set_algebra() {
        let a = SymSet::one("a".into());
        let all = SymSet::all();
        assert!(a.difference(&all).is_empty());
        let all_but_a = all.difference(&a);
        assert!(all_but_a.cofinite && all_but_a.names == vec!["a"]);
        assert_eq!(all_but_a.union(&a), SymSet::all());
    }

    #[test]
    fn split_rules_equal_merged_rule() {
        let merged = evaluate(&[tcp(80, 443, v4("10.0.0.0/8"), true)]);
        let split = evaluate(&[
            tcp(200, 443, v4("10.0.0.0/9"), true),
            tcp(80, 199, v4("10.0.0.0/8"), true),
            tcp(200, 443, v4("10.128.0.0/9"), true),
        ]);
        assert_eq!(merged, split);
    }

    #[test]
    fn first_match_deny_shadows_later_allow() {
        let set = evaluate(&[
            tcp(22, 22, v4("0.0.0.0/0"), false),
            tcp(0, 65535, v4("0.0.0.0/0"), true),
        ]);
        let expect = evaluate(&[
            tcp(0, 21, v4("0.0.0.0/0"), true),
            tcp(23, 65535, v4("0.0.0.0/0"), true),
        ]);
        assert_eq!(set, expect);
    }

    #[test]
    fn difference_and_render() {
        let now = evaluate(&[
            tcp(22, 22, v4("0.0.0.0/0"), true),
            tcp(443, 443, v4("10.0.0.0/8"), true),
        ]);
        let before = evaluate(&[tcp(443, 443, v4("10.0.0.0/8"), true)]);
        let new = now.difference(&before);
        let lines: Vec<String> = new.render().iter().map(|e| e.to_string()).collect();
        assert_eq!(lines, vec!["tcp/22 0.0.0.0/0"]);
        assert!(before.is_subset_of(&now));
        assert!(!now.is_subset_of(&before));
        assert!(!new.world_region().is_empty());
        assert!(before.world_region().is_empty());
    }

    #[test]
    fn cidr_rendering_merges_blocks() {
        let s = evaluate(&[
            tcp(22, 22, v4("10.0.0.0/9"), true),
            tcp(22, 22, v4("10.128.0.0/9"), true),
        ]);
        assert_eq!(s.render()[0].peer, "10.0.0.0/8");
        assert_eq!(render_addrs(&AddrSet::public()), vec!["Internet"]);
        let world_but_corp = AddrSet::everything().difference(&v4("10.0.0.0/8"));
        assert_eq!(
            render_addrs(&AddrSet {
                v6: Intervals::empty(),
                sym: SymSet::default(),
                ..world_but_corp
            })[0],
            "0.0.0.0/0 except 10.0.0.0/8"
        );
        let widened = v4("10.0.0.0/8").difference(&v4("10.1.0.0/16"));
        assert_eq!(
            render_addrs(&widened),
            vec!["10.0.0.0/8 except 10.1.0.0/16"]
        );
    }

    #[test]
    fn public_and_world() {
        assert!(v4("203.0.114.7/32").touches_public());
        assert!(!v4("10.0.0.0/8").touches_public());
        assert!(!v4("192.168.1.0/24").touches_public());
        assert!(v4("0.0.0.0/0").covers_world());
        assert!(AddrSet::public().covers_world());
        assert!(!v4("0.0.0.0/1").covers_world());
        assert!(AddrSet::from_net(&"::/0".parse().unwrap()).covers_world());
    }
}
