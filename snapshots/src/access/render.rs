//! Rendering access back to what people read: merged CIDR blocks, protocols and ports
//! (`AccessEntry`).

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};
use serde::{Deserialize, Serialize};

use crate::model::{protocol_name, PortRange, ICMP, ICMPV6};

use super::*;

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

pub(super) fn render_protocol(lo: u8, hi: u8) -> String {
    if lo == 0 && hi == 255 {
        "all".into()
    } else if lo == hi {
        protocol_name(lo)
    } else {
        format!("proto {lo}-{hi}")
    }
}

pub(super) fn render_ports(plo: u8, phi: u8, lo: u16, hi: u16) -> String {
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

pub(super) fn v4_blocks(iv: &Intervals) -> Vec<String> {
    let mut out = Vec::new();
    for &(lo, hi) in iv.spans() {
        for net in Ipv4Subnets::new(Ipv4Addr::from(lo as u32), Ipv4Addr::from(hi as u32), 0) {
            out.push(Ipv4Net::to_string(&net));
        }
    }
    out
}

pub(super) fn v6_blocks(iv: &Intervals) -> Vec<String> {
    let mut out = Vec::new();
    for &(lo, hi) in iv.spans() {
        for net in Ipv6Subnets::new(Ipv6Addr::from(lo), Ipv6Addr::from(hi), 0) {
            out.push(Ipv6Net::to_string(&net));
        }
    }
    out
}

/// The smallest CIDR block (as an interval and its prefix length) containing `lo..=hi`.
pub(super) fn covering_block(lo: u128, hi: u128, bits: u32) -> (u128, u128, u32) {
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
pub(super) fn render_family(iv: &Intervals, v4: bool) -> Vec<String> {
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
