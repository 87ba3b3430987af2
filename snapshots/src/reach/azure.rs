//! Azure reach (docs/semantics.md, "Reach"): a network security group applies to the network
//! interfaces it is attached to and to every interface in the subnets it is attached to.
//! Inbound traffic meets the subnet's NSG, then the interface's: it must be allowed by both (a
//! missing NSG allows). An interface is reachable from the internet when one of its IP
//! configurations has a public IP address. Outbound traffic without a public IP may still leave
//! (default outbound access, a NAT gateway, a load balancer): not collected, so `unknown`.

use std::collections::HashMap;

use super::{ports_of, resource_access, ExposedWorkload, Reach, ReachVerdict};
use crate::diff::ResourceDiff;
use crate::model::{AzureNic, Direction, Resource};

pub(super) struct AzureIndex<'a> {
    pub nics: Vec<(&'a Resource, &'a AzureNic)>,
    /// Public IP resource id → its address (none until allocated).
    pub addresses: HashMap<&'a str, Option<std::net::IpAddr>>,
    pub nsgs: HashMap<&'a str, &'a Resource>,
    /// Subnet id → the NSG attached to it.
    pub subnet_nsg: HashMap<&'a str, &'a Resource>,
}

impl AzureIndex<'_> {
    pub(super) fn reach(&self, d: &ResourceDiff, public_ips_collected: bool) -> ReachVerdict {
        let id = d.resource.as_str();
        let Some(nsg) = self.nsgs.get(id) else {
            return ReachVerdict::unknown("the network security group is not in the snapshot");
        };
        let ingress = d.direction == Direction::Ingress;
        let mut members = 0;
        let mut exposed = Vec::new();
        let mut unknown = Vec::new();
        let public = d.allowed_union().public_part();
        for (r, nic) in &self.nics {
            let on_nic = nic.nsg.as_deref() == Some(id);
            let on_subnet = nic.subnets.iter().any(|s| {
                self.subnet_nsg
                    .get(s.as_str())
                    .is_some_and(|n| n.id == nsg.id)
            });
            if !on_nic && !on_subnet {
                continue;
            }
            members += 1;
            if public.is_empty() {
                continue;
            }
            // The other NSG on the path must allow it too.
            let mut reachable = public.clone();
            let others: Vec<&Resource> = if on_nic {
                nic.subnets
                    .iter()
                    .filter_map(|s| self.subnet_nsg.get(s.as_str()).copied())
                    .filter(|n| n.id != nsg.id)
                    .collect()
            } else {
                nic.nsg
                    .as_deref()
                    .and_then(|n| self.nsgs.get(n).copied())
                    .into_iter()
                    .filter(|n| n.id != nsg.id)
                    .collect()
            };
            for o in others {
                reachable = reachable.intersection(&resource_access(o, d.direction));
            }
            if reachable.is_empty() {
                continue;
            }
            if nic.public_ips.is_empty() {
                if !ingress {
                    unknown.push(format!("{}: no public IP; its outbound traffic may leave through default outbound access or a NAT gateway, which are not collected", r.id));
                }
                continue;
            }
            let address = nic
                .public_ips
                .iter()
                .find_map(|p| self.addresses.get(p.as_str()).copied().flatten())
                .map(|a| a.to_string())
                .or_else(|| (!public_ips_collected).then(|| nic.public_ips[0].clone()));
            exposed.push(ExposedWorkload {
                id: r.id.as_str().to_string(),
                instance: nic
                    .vm
                    .as_deref()
                    .map(|v| v.rsplit('/').next().unwrap_or(v).to_string()),
                address,
                ports: ports_of(&reachable),
            });
        }
        if members == 0 {
            return ReachVerdict {
                reach: Reach::Unattached,
                exposed,
                why: "no network interface is behind it".into(),
            };
        }
        let plural = if members == 1 {
            "interface"
        } else {
            "interfaces"
        };
        super::verdict::conclude(exposed, unknown, super::verdict::by_instance, || {
            format!(
                "latent: {members} {plural}, none with a public IP that both network security groups on its path let the newly allowed traffic reach"
            )
        })
    }
}
