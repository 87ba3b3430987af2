//! Address sets: IPv4/IPv6 interval sets and symbolic peers (`Intervals`, `SymSet`,
//! `AddrSet`), with the public and non-public ranges.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

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
        coalesce(&mut v);
        Intervals(v)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn spans(&self) -> &[(u128, u128)] {
        &self.0
    }
    pub fn union(&self, other: &Intervals) -> Intervals {
        let mut out = self.clone();
        out.union_with(other);
        out
    }
    /// `self ∪= other`, in the vector `self` already holds.
    pub fn union_with(&mut self, other: &Intervals) {
        if other.is_empty() {
            return;
        }
        let sorted = self.0.last().map(|l| l.0) < other.0.first().map(|f| f.0);
        self.0.extend_from_slice(&other.0);
        if !sorted {
            self.0.sort_unstable();
        }
        coalesce(&mut self.0);
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

/// Merge overlapping and adjacent intervals of a vector sorted by start, in place.
fn coalesce(v: &mut Vec<(u128, u128)>) {
    let mut w = 0;
    for r in 1..v.len() {
        let (lo, hi) = v[r];
        if lo <= v[w].1.saturating_add(1) {
            v[w].1 = v[w].1.max(hi);
        } else {
            w += 1;
            v[w] = (lo, hi);
        }
    }
    v.truncate(w + 1);
}

/// A finite or co-finite set of symbolic peer names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SymSet {
    /// When true the set is "every symbolic peer except `names`".
    pub cofinite: bool,
    /// Sorted, unique.
    pub names: Vec<String>,
}

pub(super) fn sorted_union(a: &[String], b: &[String]) -> Vec<String> {
    let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
    v.sort();
    v.dedup();
    v
}
pub(super) fn sorted_minus(a: &[String], b: &[String]) -> Vec<String> {
    a.iter()
        .filter(|x| b.binary_search(x).is_err())
        .cloned()
        .collect()
}
pub(super) fn sorted_inter(a: &[String], b: &[String]) -> Vec<String> {
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
    /// Every symbolic peer.
    pub fn is_all(&self) -> bool {
        self.cofinite && self.names.is_empty()
    }
    /// `self ∪= o`; no name is copied when `o` adds nothing (to a finite set, or to the set of
    /// every peer).
    pub fn union_with(&mut self, o: &SymSet) {
        if o.is_empty() || self.is_all() {
            return;
        }
        if o.is_all() {
            self.cofinite = true;
            self.names.clear();
            return;
        }
        if self.is_empty() {
            self.clone_from(o);
            return;
        }
        if !self.cofinite
            && !o.cofinite
            && o.names.iter().all(|n| self.names.binary_search(n).is_ok())
        {
            return;
        }
        *self = self.union(o);
    }
    pub fn difference(&self, o: &SymSet) -> SymSet {
        if self.is_empty() || o.is_all() {
            return SymSet::default();
        }
        if o.is_empty() {
            return self.clone();
        }
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

pub(super) fn net_interval(net: &IpNet) -> (bool, u128, u128) {
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
pub(super) const NON_PUBLIC_V4: &[&str] = &[
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
    /// `self ∪= o`, reusing `self`'s vectors.
    pub fn union_with(&mut self, o: &AddrSet) {
        self.v4.union_with(&o.v4);
        self.v6.union_with(&o.v6);
        self.sym.union_with(&o.sym);
    }
    /// The empty set, keeping the vectors' capacity.
    pub fn clear(&mut self) {
        self.v4.0.clear();
        self.v6.0.clear();
        self.sym.cofinite = false;
        self.sym.names.clear();
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
