//! GCP reach (docs/semantics.md, "Reach"): a firewall rule's or policy rule's newly allowed
//! access reaches the running instances of its VPC network that its target selects (every
//! instance, a network tag, a service account; a policy rule's network or region); an instance
//! is reachable from the internet on the interface in that network when it has an external
//! IPv4 (`accessConfigs[].natIP`) for IPv4 sources, or an external IPv6 for IPv6 sources.
//! Egress leaves through the external address; without one it may leave through Cloud NAT,
//! which is not collected: `unknown`, never `internal`.

use std::net::IpAddr;

use super::{ports_of, restrict, ExposedWorkload, Reach, ReachVerdict};
use crate::access::{AccessSet, AddrSet};
use crate::diff::ResourceDiff;
use crate::model::{Direction, GcpInstance, GcpInterface, Resource, Target};

/// Whether a target class selects an instance (on `nic`).
fn selects(target: &Option<Target>, g: &GcpInstance, nic: &GcpInterface) -> bool {
    match target {
        None => true,
        Some(Target::Tag(t)) => g.tags.contains(t),
        Some(Target::ServiceAccount(sa)) => g.service_accounts.iter().any(|s| s == sa),
        Some(Target::Network(n)) => {
            nic.network == *n || nic.network.rsplit('/').next() == n.rsplit('/').next()
        }
        Some(Target::Region(r)) => g
            .zone
            .strip_prefix(r.as_str())
            .is_some_and(|rest| rest.starts_with('-')),
        Some(_) => false,
    }
}

/// The address families the internet reaches an interface over (or leaves it from): IPv4 with
/// an external IPv4 address, IPv6 with an external IPv6 address.
pub(super) fn families(nic: &GcpInterface) -> AddrSet {
    let mut families = AddrSet::default();
    if !nic.external_ipv4.is_empty() {
        let mut v4 = AddrSet::everything();
        v4.v6 = Default::default();
        v4.sym = Default::default();
        families = families.union(&v4);
    }
    if !nic.external_ipv6.is_empty() {
        let mut v6 = AddrSet::everything();
        v6.v4 = Default::default();
        v6.sym = Default::default();
        families = families.union(&v6);
    }
    families
}

pub(super) fn reach(instances: &[(&Resource, &GcpInstance)], d: &ResourceDiff) -> ReachVerdict {
    let ingress = d.direction == Direction::Ingress;
    let mut matched = 0;
    let mut exposed = Vec::new();
    let mut unknown = Vec::new();
    for (r, g) in instances {
        for nic in g
            .interfaces
            .iter()
            .filter(|n| d.network.as_ref().is_none_or(|net| *net == n.network))
        {
            // What of the newly allowed access selects this instance.
            let set = d
                .newly_allowed
                .iter()
                .filter(|(t, _)| selects(t, g, nic))
                .fold(AccessSet::default(), |acc, (_, s)| acc.union(s));
            if set.is_empty() {
                continue;
            }
            matched += 1;
            if g.status != "RUNNING" {
                continue;
            }
            let public = set.public_part();
            if public.is_empty() {
                continue;
            }
            let reachable = restrict(&public, &families(nic));
            if reachable.is_empty() {
                if !ingress {
                    unknown.push(format!(
                        "{}: no external address; its egress may leave through Cloud NAT, which is not collected",
                        r.id
                    ));
                }
                continue;
            }
            let uses_v4 = reachable.cells().any(|(_, _, _, _, a)| !a.v4.is_empty());
            let address = if uses_v4 {
                nic.external_ipv4.first()
            } else {
                nic.external_ipv6.first()
            };
            exposed.push(ExposedWorkload {
                id: r.id.as_str().to_string(),
                instance: r.name.clone(),
                address: address.map(IpAddr::to_string),
                ports: ports_of(&reachable),
            });
        }
    }
    if matched == 0 {
        return ReachVerdict {
            reach: Reach::Unattached,
            exposed,
            why: "no instance in its network is selected by it".into(),
        };
    }
    let plural = if matched == 1 {
        "instance"
    } else {
        "instances"
    };
    super::verdict::conclude(exposed, unknown, super::verdict::by_instance, || {
        format!(
            "latent: {matched} {plural}, none running with an external address for the newly allowed traffic"
        )
    })
}
