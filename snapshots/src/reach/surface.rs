//! The attack surface now, independent of any baseline: every workload the internet reaches
//! through what the rules in force allow in, with what opens it. Each cloud's path is the one
//! reach follows for a drift item (docs/semantics.md, "Reach"), applied to all access rather
//! than to what a change newly allows.
//!
//! Where membership of a rule's target is not collected (an Azure application security group
//! or service tag as destination, a GCP secure tag), an allow rule is taken to apply and a deny
//! rule not: the surface errs towards showing exposure, never towards a false all-clear.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use super::gcp::families;
use super::*;
use crate::access::AddrSet;
use crate::effective::{implied_rules, layered_access};
use crate::model::{Action, AzureNic, GcpInterface, Provider, Rule, Target};

/// Evaluation levels: each a list of rules with the resource they belong to.
type Levels<'a> = Vec<Vec<(Cow<'a, Rule>, &'a Resource)>>;

/// The exposed workloads, and those whose exposure could not be told (with the reason).
pub type Surface = (Vec<SurfaceEntry>, Vec<String>);

impl ScopeWorkloads<'_> {
    /// The attack surface of a scope of `provider`. `Err` says why it cannot be told (the
    /// workloads were not collected); a workload whose exposure cannot be told is listed in the
    /// second vector with the reason.
    pub fn surface(&self, provider: Provider) -> Result<Surface, String> {
        match provider {
            Provider::Aws => self.aws_surface(),
            Provider::Gcp => {
                if self.uncollected.contains(&ResourceKind::GcpInstance) {
                    return Err("instances were not collected".into());
                }
                Ok((
                    gcp_surface(&self.instances, &self.gcp_firewalls),
                    Vec::new(),
                ))
            }
            Provider::Azure => {
                if self.uncollected.contains(&ResourceKind::AzureNic) {
                    return Err("network interfaces were not collected".into());
                }
                Ok(self
                    .azure
                    .surface(!self.uncollected.contains(&ResourceKind::AzurePublicIp)))
            }
        }
    }

    /// AWS: every interface the internet reaches through what its security groups allow in
    /// (and its subnet's route table and network ACL let through), with the groups that open it.
    fn aws_surface(&self) -> Result<Surface, String> {
        if self
            .uncollected
            .contains(&ResourceKind::AwsNetworkInterface)
        {
            return Err("network interfaces were not collected".into());
        }
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        for (r, i) in &self.interfaces {
            let groups: Vec<&Resource> = i
                .groups
                .iter()
                .filter_map(|g| self.groups.get(g.as_str()).copied())
                .collect();
            let access: Vec<(&Resource, AccessSet)> = groups
                .iter()
                .map(|g| (*g, self.group(g, Direction::Ingress).public_part()))
                .collect();
            let all = access
                .iter()
                .fold(AccessSet::default(), |acc, (_, a)| acc.union(a));
            if all.is_empty() {
                continue;
            }
            match self.interface(
                r,
                i,
                ResourceKind::AwsSecurityGroup,
                Direction::Ingress,
                &all,
            ) {
                Verdict::Internet(e, reachable) => {
                    let opened_by = access
                        .iter()
                        .filter(|(_, a)| !a.intersection(&reachable).is_empty())
                        .map(|(g, _)| g.id.as_str().to_string())
                        .collect();
                    out.push(SurfaceEntry {
                        workload: e,
                        opened_by,
                    });
                }
                Verdict::Internal => {}
                Verdict::Unknown(why) => unknown.push(format!("{}: {why}", r.id)),
            }
        }
        Ok((out, unknown))
    }
}

/// What the rules `applies` selects allow one workload in one direction, through the levels in
/// turn (an AWS group or Azure NSG is one level), their targets settled by `applies`.
fn workload_access(
    levels: &Levels<'_>,
    direction: Direction,
    applies: impl Fn(&Rule) -> bool,
) -> AccessSet {
    let owned: Vec<Vec<(Rule, &Resource)>> = levels
        .iter()
        .map(|l| {
            l.iter()
                .filter(|(r, _)| r.direction == direction && applies(r))
                .map(|(r, res)| {
                    let mut x = r.as_ref().clone();
                    x.targets.clear();
                    (x, *res)
                })
                .collect()
        })
        .collect();
    let unit: Vec<Vec<UnitRule<'_>>> = owned
        .iter()
        .map(|l| l.iter().map(|(r, res)| (r, *res)).collect())
        .collect();
    let classes: BTreeSet<Option<Target>> = [None].into_iter().collect();
    layered_access(&unit, direction, &classes)
        .remove(&None)
        .unwrap_or_default()
}

/// Whether a rule whose targets name something uncollected is taken to apply: an allow yes, a
/// deny no.
fn unknown_member(rule: &Rule) -> bool {
    rule.action == Action::Allow
}

/// Whether a GCP rule (its network targets already resolved) applies to an instance's interface.
fn gcp_applies(rule: &Rule, g: &GcpInstance, nic: &GcpInterface) -> bool {
    if rule.targets.is_empty() {
        return true;
    }
    let addresses: Vec<IpAddr> = nic
        .internal_ip
        .iter()
        .chain(&nic.external_ipv4)
        .chain(&nic.external_ipv6)
        .copied()
        .collect();
    rule.targets.iter().any(|t| match t {
        Target::Tag(t) if t.starts_with("tagValues/") => unknown_member(rule),
        Target::Tag(t) => g.tags.contains(t),
        Target::ServiceAccount(sa) => g.service_accounts.contains(sa),
        Target::Region(r) => g
            .zone
            .strip_prefix(r.as_str())
            .is_some_and(|rest| rest.starts_with('-')),
        Target::Cidr(c) => addresses.iter().any(|a| c.contains(a)),
        Target::Network(n) => nic.network == *n,
        Target::ServiceTag(_) | Target::AppSecurityGroup(_) => unknown_member(rule),
    })
}

/// GCP: every running instance with an external address, through the rules and policies of the
/// network of each of its interfaces, evaluated for that instance.
fn gcp_surface(
    instances: &[(&Resource, &GcpInstance)],
    firewalls: &[&Resource],
) -> Vec<SurfaceEntry> {
    let implied = implied_rules(ResourceKind::GcpFirewallRule);
    let mut levels: HashMap<&str, Levels<'_>> = HashMap::new();
    // Instances that the same rules apply to are evaluated once.
    let mut cache: HashMap<(&str, Vec<bool>), AccessSet> = HashMap::new();
    let mut out = Vec::new();
    for (r, g) in instances {
        if g.status != "RUNNING" {
            continue;
        }
        for nic in &g.interfaces {
            let fam = families(nic);
            if fam.is_empty() {
                continue;
            }
            let lv = levels.entry(nic.network.as_str()).or_insert_with(|| {
                crate::diff::gcp::network_levels(firewalls, &nic.network, &implied)
            });
            let key: Vec<bool> = lv
                .iter()
                .flatten()
                .map(|(rule, _)| gcp_applies(rule, g, nic))
                .collect();
            let access = cache.entry((nic.network.as_str(), key)).or_insert_with(|| {
                workload_access(lv, Direction::Ingress, |rule| gcp_applies(rule, g, nic))
                    .public_part()
            });
            let reachable = restrict(access, &fam);
            if reachable.is_empty() {
                continue;
            }
            let opened_by = opened_by(
                lv.iter().flatten().map(|(rule, res)| (rule.as_ref(), *res)),
                &reachable,
                |rule| gcp_applies(rule, g, nic),
            );
            let uses_v4 = reachable.cells().any(|(_, _, _, _, a)| !a.v4.is_empty());
            let address = if uses_v4 {
                nic.external_ipv4.first()
            } else {
                nic.external_ipv6.first()
            };
            out.push(SurfaceEntry {
                workload: ExposedWorkload {
                    id: r.id.as_str().to_string(),
                    instance: r.name.clone(),
                    address: address.map(IpAddr::to_string),
                    ports: ports_of(&reachable),
                },
                opened_by,
            });
        }
    }
    out
}

/// The resources with an allow rule that applies (by `applies`) and lets in part of `reachable`.
fn opened_by<'r>(
    rules: impl Iterator<Item = (&'r Rule, &'r Resource)>,
    reachable: &AccessSet,
    applies: impl Fn(&Rule) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (rule, res) in rules {
        if rule.action != Action::Allow
            || rule.direction != Direction::Ingress
            || !rule.enabled
            || !applies(rule)
            || out.iter().any(|o| o == res.id.as_str())
        {
            continue;
        }
        let boxes: Vec<AccessBox> = crate::access::rule_boxes(rule, res)
            .into_iter()
            .map(|mut b| {
                b.allow = true;
                b
            })
            .collect();
        if !evaluate(&boxes).intersection(reachable).is_empty() {
            out.push(res.id.as_str().to_string());
        }
    }
    out.sort();
    out
}

/// Whether an Azure NSG rule applies to an interface: every interface unless it names
/// destinations; a destination prefix applies when it holds one of the interface's private
/// addresses (NSGs see traffic after the public address is translated).
fn azure_applies(rule: &Rule, nic: &AzureNic) -> bool {
    rule.targets.is_empty()
        || rule.targets.iter().any(|t| match t {
            Target::Cidr(c) => nic.private_ips.iter().any(|a| c.contains(a)),
            _ => unknown_member(rule),
        })
}

impl azure::AzureIndex<'_> {
    /// Azure: every interface with a public IP, through the subnet's NSG and its own (both must
    /// allow; a missing one allows), each evaluated for that interface.
    fn surface(&self, public_ips_collected: bool) -> Surface {
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        for (r, nic) in &self.nics {
            if nic.public_ips.is_empty() {
                continue;
            }
            let address = nic
                .public_ips
                .iter()
                .find_map(|p| self.addresses.get(p.as_str()).copied().flatten())
                .map(|a| a.to_string());
            let address = match (address, public_ips_collected) {
                (Some(a), _) => a,
                // Every public IP it uses is unallocated: nothing reaches it yet.
                (None, true) => continue,
                (None, false) => nic.public_ips[0].clone(),
            };
            let mut path: Vec<&Resource> = Vec::new();
            for s in &nic.subnets {
                if let Some(n) = self.subnet_nsg.get(s.as_str()) {
                    if !path.iter().any(|p| p.id == n.id) {
                        path.push(n);
                    }
                }
            }
            if let Some(id) = &nic.nsg {
                match self.nsgs.get(id.as_str()) {
                    Some(n) if !path.iter().any(|p| p.id == n.id) => path.push(n),
                    Some(_) => {}
                    None => {
                        unknown.push(format!(
                            "{}: its network security group {id} is not in the snapshot",
                            r.id
                        ));
                        continue;
                    }
                }
            }
            let mut reachable = evaluate(&[AccessBox {
                proto: (0, 255),
                ports: (0, 65535),
                addrs: AddrSet::everything(),
                allow: true,
            }]);
            for n in &path {
                let one = vec![n.rules.iter().map(|x| (Cow::Borrowed(x), *n)).collect()];
                reachable =
                    reachable.intersection(&workload_access(&one, Direction::Ingress, |rule| {
                        azure_applies(rule, nic)
                    }));
            }
            let reachable = reachable.public_part();
            if reachable.is_empty() {
                continue;
            }
            out.push(SurfaceEntry {
                workload: ExposedWorkload {
                    id: r.id.as_str().to_string(),
                    instance: nic
                        .vm
                        .as_deref()
                        .map(|v| v.rsplit('/').next().unwrap_or(v).to_string()),
                    address: Some(address),
                    ports: ports_of(&reachable),
                },
                opened_by: path.iter().map(|n| n.id.as_str().to_string()).collect(),
            });
        }
        (out, unknown)
    }
}
