//! Protocols, port ranges and the port sets of a rule, parsed as strictly as the clouds document them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::*;

/// An IP protocol: every protocol, or one protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    All,
    Number(u8),
}

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

impl Protocol {
    /// Parse the names and numbers the clouds use: `tcp`, `Tcp`, `6`, `-1`, `all`, `*`, `icmpv6`…
    pub fn parse(raw: &str) -> Result<Protocol, ModelError> {
        let s = raw.trim().to_ascii_lowercase();
        let n = match s.as_str() {
            "-1" | "all" | "*" | "any" => return Ok(Protocol::All),
            "tcp" => TCP,
            "udp" => UDP,
            "icmp" => ICMP,
            "icmpv6" | "ipv6-icmp" | "icmp6" => ICMPV6,
            "esp" => 50,
            "ah" => 51,
            "sctp" => 132,
            "ipip" => 4,
            "gre" => 47,
            _ => match s.parse::<i64>() {
                Ok(n) if (0..=255).contains(&n) => n as u8,
                _ => {
                    return Err(ModelError::new(
                        raw,
                        "unknown protocol (expected tcp, udp, icmp, icmpv6, esp, ah, sctp, ipip, all, -1, * or a number 0-255)",
                    ))
                }
            },
        };
        Ok(Protocol::Number(n))
    }

    /// The protocol number interval this protocol covers.
    pub fn range(self) -> (u8, u8) {
        match self {
            Protocol::All => (0, 255),
            Protocol::Number(n) => (n, n),
        }
    }

    /// Whether the port dimension means transport ports for this protocol.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Number(TCP | UDP | 132))
    }

    pub fn is_icmp(self) -> bool {
        matches!(self, Protocol::Number(ICMP | ICMPV6))
    }
}

/// Human name of a protocol number.
pub fn protocol_name(n: u8) -> String {
    match n {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmpv6".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        132 => "sctp".into(),
        4 => "ipip".into(),
        47 => "gre".into(),
        other => other.to_string(),
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Number(n) => f.write_str(&protocol_name(*n)),
        }
    }
}

impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Protocol::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An inclusive port interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };

    pub fn new(from: i64, to: i64) -> Result<PortRange, ModelError> {
        let ok = |p: i64| (0..=65535).contains(&p);
        if !ok(from) || !ok(to) {
            return Err(ModelError::new(
                format!("{from}-{to}"),
                "port outside 0-65535",
            ));
        }
        if from > to {
            return Err(ModelError::new(
                format!("{from}-{to}"),
                "port range starts after it ends",
            ));
        }
        Ok(PortRange {
            from: from as u16,
            to: to as u16,
        })
    }

    /// Parse `"22"`, `"8000-8100"`, `"*"`.
    pub fn parse(raw: &str) -> Result<PortRange, ModelError> {
        let s = raw.trim();
        if s == "*" || s.eq_ignore_ascii_case("any") {
            return Ok(PortRange::ALL);
        }
        let num = |p: &str| {
            p.trim().parse::<i64>().map_err(|_| {
                ModelError::new(
                    raw,
                    "not a port or port range (expected \"22\", \"8000-8100\" or \"*\")",
                )
            })
        };
        match s.split_once('-') {
            Some((a, b)) => {
                PortRange::new(num(a)?, num(b)?).map_err(|e| ModelError::new(raw, e.message))
            }
            None => {
                let p = num(s)?;
                PortRange::new(p, p).map_err(|e| ModelError::new(raw, e.message))
            }
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == PortRange::ALL {
            f.write_str("all")
        } else if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// What a rule matches besides protocol and peer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ports {
    /// Every port (or, for protocols without ports, the whole protocol).
    All,
    /// Transport port intervals (sorted, merged).
    Ranges { ranges: Vec<PortRange> },
    /// ICMP type and code; `None` = any.
    Icmp {
        icmp_type: Option<u8>,
        code: Option<u8>,
    },
}

impl Ports {
    /// Normalize: sort and merge ranges, collapse full coverage to `All`.
    pub fn normalized(self) -> Ports {
        match self {
            Ports::Ranges { mut ranges } => {
                ranges.sort();
                let mut merged: Vec<PortRange> = Vec::with_capacity(ranges.len());
                for r in ranges {
                    match merged.last_mut() {
                        Some(last) if (r.from as u32) <= last.to as u32 + 1 => {
                            last.to = last.to.max(r.to)
                        }
                        _ => merged.push(r),
                    }
                }
                if merged.is_empty() || merged == [PortRange::ALL] {
                    Ports::All
                } else {
                    Ports::Ranges { ranges: merged }
                }
            }
            Ports::Icmp {
                icmp_type: None,
                code: _,
            } => Ports::All,
            other => other,
        }
    }

    /// Intervals in the port dimension of the access algebra. ICMP type and code are encoded
    /// as `type * 256 + code`.
    pub fn intervals(&self) -> Vec<(u16, u16)> {
        match self {
            Ports::All => vec![(0, 65535)],
            Ports::Ranges { ranges } => ranges.iter().map(|r| (r.from, r.to)).collect(),
            Ports::Icmp {
                icmp_type: None, ..
            } => vec![(0, 65535)],
            Ports::Icmp {
                icmp_type: Some(t),
                code: None,
            } => {
                let base = (*t as u16) << 8;
                vec![(base, base | 0xff)]
            }
            Ports::Icmp {
                icmp_type: Some(t),
                code: Some(c),
            } => {
                let v = ((*t as u16) << 8) | *c as u16;
                vec![(v, v)]
            }
        }
    }
}
