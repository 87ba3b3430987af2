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

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};

mod addrset;
mod boxes;
mod render;
mod spec;

pub use addrset::*;
pub use boxes::*;
pub use render::*;
pub use spec::parse_access;

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
///
/// Per cell the allowed and decided addresses grow in place, and evaluation stops at the first
/// box that decides every address; with only allow boxes the two are one set.
pub fn evaluate<B: Borrow<AccessBox>>(boxes: &[B]) -> AccessSet {
    let mut proto_bounds: Vec<u16> = Vec::with_capacity(boxes.len() * 2);
    for b in boxes {
        let b = b.borrow();
        proto_bounds.push(b.proto.0 as u16);
        proto_bounds.push(b.proto.1 as u16 + 1);
    }
    proto_bounds.sort_unstable();
    proto_bounds.dedup();
    let only_allow = boxes.iter().all(|b| b.borrow().allow);
    let mut slabs: Vec<ProtoSlab> = Vec::new();
    let mut active: Vec<&AccessBox> = Vec::new();
    let mut port_bounds: Vec<u32> = Vec::new();
    let mut decided = AddrSet::default();
    for w in proto_bounds.windows(2) {
        let (p_lo, p_hi) = (w[0] as u8, (w[1] - 1) as u8);
        active.clear();
        active.extend(
            boxes
                .iter()
                .map(Borrow::borrow)
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
            decided.clear();
            for b in active
                .iter()
                .filter(|b| b.ports.0 <= q_lo && b.ports.1 >= q_hi)
            {
                if only_allow {
                    allowed.union_with(&b.addrs);
                    if allowed.is_everything() {
                        break;
                    }
                    continue;
                }
                if b.allow {
                    allowed.union_with(&b.addrs.difference(&decided));
                }
                decided.union_with(&b.addrs);
                if decided.is_everything() {
                    break;
                }
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

    /// `self ∩ other`. Only the slabs where both sides overlap are visited, and runs of slabs
    /// the other side does not reach are skipped by search: a small set (one rule's reach)
    /// intersected with a large one (a network's whole delta) costs the overlap, not the size
    /// of the large one.
    pub fn intersection(&self, other: &AccessSet) -> AccessSet {
        let mut out = Builder::default();
        let (a, b) = (&self.slabs[..], &other.slabs[..]);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (sa, sb) = (&a[i], &b[j]);
            if sa.hi < sb.lo {
                i = skip(a, i, |s| s.hi < sb.lo);
                continue;
            }
            if sb.hi < sa.lo {
                j = skip(b, j, |s| s.hi < sa.lo);
                continue;
            }
            let (plo, phi) = (sa.lo.max(sb.lo), sa.hi.min(sb.hi));
            let (pa, pb) = (&sa.ports[..], &sb.ports[..]);
            let (mut x, mut y) = (0, 0);
            while x < pa.len() && y < pb.len() {
                let (qa, qb) = (&pa[x], &pb[y]);
                if qa.hi < qb.lo {
                    x = skip(pa, x, |q| q.hi < qb.lo);
                    continue;
                }
                if qb.hi < qa.lo {
                    y = skip(pb, y, |q| q.hi < qa.lo);
                    continue;
                }
                let addrs = qa.addrs.difference(&qa.addrs.difference(&qb.addrs));
                out.push(plo, phi, qa.lo.max(qb.lo), qa.hi.min(qb.hi), addrs);
                if qa.hi < qb.hi {
                    x += 1;
                } else {
                    y += 1;
                }
            }
            if sa.hi < sb.hi {
                i += 1;
            } else {
                j += 1;
            }
        }
        out.finish()
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

/// The first index from `at` whose slab `behind` no longer holds for (slabs are sorted, so
/// `behind` holds for a prefix): a few steps, then a binary search for long runs.
fn skip<T>(v: &[T], at: usize, behind: impl Fn(&T) -> bool) -> usize {
    let mut k = at;
    while k < v.len() && k < at + 4 {
        if !behind(&v[k]) {
            return k;
        }
        k += 1;
    }
    k + v[k..].partition_point(behind)
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
