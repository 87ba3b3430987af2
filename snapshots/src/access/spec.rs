//! Access written by a person: the envelope of a pattern exception (`allow = ["tcp/80,443
//! 0.0.0.0/0", "udp/53 10.0.0.0/8", "icmp any", "all Internet"]`), read into an [`AccessSet`].
//! Each entry is `PROTOCOL[/PORTS] PEER[,PEER…]`: a protocol as the clouds name it (`tcp`, `6`,
//! `all`), ports as single ports and ranges separated by commas (all ports when left out), and
//! peers as CIDRs, `any` (every address) or `Internet` (the public addresses).

use crate::model::{PortRange, Protocol};

use super::{evaluate, AccessBox, AccessSet, AddrSet};

/// One entry's boxes, or what is wrong with it.
fn entry(raw: &str) -> Result<Vec<AccessBox>, String> {
    let mut parts = raw.split_whitespace();
    let (Some(what), Some(peers), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "{raw:?} is not `PROTOCOL[/PORTS] PEER[,PEER]` (tcp/443 0.0.0.0/0)"
        ));
    };
    let (proto, ports) = match what.split_once('/') {
        Some((p, ports)) => (p, Some(ports)),
        None => (what, None),
    };
    let proto = Protocol::parse(proto).map_err(|e| format!("{raw:?}: {e}"))?;
    let ranges: Vec<(u16, u16)> = match ports {
        None => vec![(0, 65535)],
        Some(list) => list
            .split(',')
            .map(|p| {
                PortRange::parse(p)
                    .map(|r| (r.from, r.to))
                    .map_err(|e| format!("{raw:?}: {e}"))
            })
            .collect::<Result<_, _>>()?,
    };
    if ports.is_some() && !(proto.has_ports() || proto == Protocol::All) {
        return Err(format!("{raw:?}: {proto} has no ports"));
    }
    let mut addrs = AddrSet::default();
    for p in peers.split(',') {
        let a = match p.to_ascii_lowercase().as_str() {
            "any" | "*" => AddrSet::everything(),
            "internet" => AddrSet::public(),
            _ => AddrSet::from_net(
                &p.parse()
                    .map_err(|_| format!("{raw:?}: {p:?} is not a CIDR, `any` or `Internet`"))?,
            ),
        };
        addrs = addrs.union(&a);
    }
    // A port list on "all" means the port-bearing protocols, as Azure's `*` does.
    let protos: Vec<(u8, u8)> = match (proto, ports) {
        (Protocol::All, Some(_)) => vec![(6, 6), (17, 17), (132, 132)],
        _ => vec![proto.range()],
    };
    Ok(protos
        .iter()
        .flat_map(|&proto| {
            let addrs = &addrs;
            ranges.iter().map(move |&ports| AccessBox {
                proto,
                ports,
                addrs: addrs.clone(),
                allow: true,
            })
        })
        .collect())
}

/// The access the entries allow together, or the first entry that cannot be read.
pub fn parse_access(entries: &[String]) -> Result<AccessSet, String> {
    let mut boxes = Vec::new();
    for e in entries {
        boxes.extend(entry(e)?);
    }
    Ok(evaluate(&boxes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(entries: &[&str]) -> Result<Vec<String>, String> {
        let v: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        parse_access(&v).map(|a| a.render().iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn entries_read_the_way_reports_print_them() {
        for (entries, want) in [
            (&["tcp/443 0.0.0.0/0"][..], &["tcp/443 0.0.0.0/0"][..]),
            (
                &["tcp/80,443 0.0.0.0/0"],
                &["tcp/80 0.0.0.0/0", "tcp/443 0.0.0.0/0"],
            ),
            (
                &["TCP/8000-8080 10.0.0.0/8,192.168.0.0/16"],
                &["tcp/8000-8080 10.0.0.0/8", "tcp/8000-8080 192.168.0.0/16"],
            ),
            (&["6/22 10.0.0.0/8"], &["tcp/22 10.0.0.0/8"]),
            (
                &["udp/53 10.0.0.0/8", "udp/53 10.1.0.0/16"],
                &["udp/53 10.0.0.0/8"],
            ),
        ] {
            let mut got = render(entries).unwrap();
            let mut want: Vec<&str> = want.to_vec();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{entries:?}");
        }
        // Everything, the internet, a whole protocol.
        let everything = parse_access(&["all any".into()]).unwrap();
        for e in [
            "tcp/22 any",
            "udp/53 ::/0",
            "icmp 10.0.0.0/8",
            "all/443 any",
        ] {
            assert!(
                parse_access(&[e.into()]).unwrap().is_subset_of(&everything),
                "{e}"
            );
        }
        let internet = parse_access(&["tcp/22 Internet".into()]).unwrap();
        assert!(!internet.is_empty());
        assert!(internet.is_subset_of(&parse_access(&["tcp/22 any".into()]).unwrap()));
        assert!(!parse_access(&["tcp/22 any".into()])
            .unwrap()
            .is_subset_of(&internet));
        assert!(parse_access(&["icmp 0.0.0.0/0".into()])
            .unwrap()
            .is_subset_of(&parse_access(&["all 0.0.0.0/0".into()]).unwrap()));
    }

    #[test]
    fn a_bad_entry_is_named() {
        for (raw, want) in [
            ("tcp/443", "is not `PROTOCOL[/PORTS] PEER[,PEER]`"),
            (
                "tcp/443 0.0.0.0/0 extra",
                "is not `PROTOCOL[/PORTS] PEER[,PEER]`",
            ),
            ("tcpp/443 0.0.0.0/0", "tcpp"),
            ("tcp/70000 0.0.0.0/0", "70000"),
            ("tcp/22 10.0.0.0/33", "\"10.0.0.0/33\" is not a CIDR"),
            ("gre/22 10.0.0.0/8", "has no ports"),
        ] {
            let err = parse_access(&[raw.to_string()]).unwrap_err();
            assert!(err.contains(want), "{raw}: {err}");
        }
    }
}
