//! Reach: which workloads a change of access really opens to the internet, and on which address.
//!
//! AWS (docs/semantics.md, "Reach"): a security group's network interfaces; an interface is
//! reachable from the internet over IPv4 when it has a public IPv4 address (auto-assigned or an
//! Elastic IP) and its subnet's route table (the explicit association, else the VPC's main table)
//! routes the source addresses to an internet gateway; over IPv6 when it has an IPv6 address and
//! an internet-gateway route covers the source (an egress-only gateway admits nothing inbound).
//! The subnet's network ACL must let the traffic in and, being stateless, its replies out (to
//! an ephemeral port, 1024-65535, for TCP and UDP). Egress: the destinations must be routed to an
//! internet gateway (with a public address) or, for IPv4, a NAT gateway, and allowed out by the
//! ACL with replies allowed back in. A network ACL change reaches the interfaces of the subnets
//! it is associated with, through their security groups.
//!
//! Whatever was not collected makes the answer `unknown`, never `unattached` or `internal`.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

mod aws_paths;
mod azure;
mod gcp;
mod surface;
mod verdict;

use aws_paths::{internet_routes, AclSets};

use crate::access::{evaluate, AccessBox, AccessSet, AddrSet};
use crate::effective::{unit_access, UnitRule};
use crate::model::{
    AwsInterface, AwsRouteTable, Direction, GcpInstance, Resource, ResourceId, ResourceKind,
    Workload,
};

/// Whether the newly allowed access reaches a workload from (or to) the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    /// At least one workload is reachable from the newly allowed public addresses (ingress), or
    /// reaches the newly allowed public destinations (egress).
    Internet,
    /// It applies to workloads, none of them reachable from (or reaching) outside.
    Internal,
    /// Nothing uses it.
    Unattached,
    /// The workloads were not collected (or not all that decides): nothing is concluded.
    Unknown,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Internet => "internet",
            Reach::Internal => "internal",
            Reach::Unattached => "unattached",
            Reach::Unknown => "unknown",
        }
    }
}

/// A workload the change exposes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExposedWorkload {
    /// The network interface (`eni-…`).
    pub id: String,
    /// The instance it belongs to, when one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The public address it is reached on (or reaches out from): an IPv4 or IPv6 address, or
    /// the NAT gateway its egress leaves through (`via nat-…`).
    pub address: Option<String>,
    /// The newly reachable protocols and ports (`tcp/22`, `udp/53`, `all`).
    pub ports: Vec<String>,
}

/// The answer for one drift item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachVerdict {
    pub reach: Reach,
    pub exposed: Vec<ExposedWorkload>,
    /// One line for the reasons: what decided it.
    pub why: String,
}

impl ReachVerdict {
    pub(crate) fn unknown(why: impl Into<String>) -> ReachVerdict {
        ReachVerdict {
            reach: Reach::Unknown,
            exposed: Vec::new(),
            why: format!("reach unknown: {}", why.into()),
        }
    }
}

/// One scope's workloads, indexed once for all its drift items.
pub struct ScopeWorkloads<'a> {
    uncollected: &'a BTreeSet<ResourceKind>,
    /// (interface resource, its data), in id order.
    interfaces: Vec<(&'a Resource, &'a AwsInterface)>,
    /// GCP instances, in id order.
    instances: Vec<(&'a Resource, &'a GcpInstance)>,
    /// GCP firewall rules and policies (the attack surface evaluates them per instance).
    gcp_firewalls: Vec<&'a Resource>,
    azure: azure::AzureIndex<'a>,
    vpc_of_subnet: HashMap<&'a str, &'a str>,
    tables: Vec<&'a AwsRouteTable>,
    acl_of_subnet: HashMap<&'a str, &'a Resource>,
    acls: HashMap<&'a str, &'a Resource>,
    /// Per network ACL, computed once when a path first crosses it (most scopes have none
    /// that any interface's path crosses): what it lets through and whose replies it lets back.
    acl_sets: HashMap<&'a str, std::cell::OnceCell<AclSets>>,
    /// Per (security group, direction), computed when first needed.
    group_access: std::cell::RefCell<HashMap<(&'a str, Direction), AccessSet>>,
    groups: HashMap<&'a str, &'a Resource>,
}

/// What one interface is, for one item.
enum Verdict {
    /// The workload, and the part of the access that reaches it.
    Internet(ExposedWorkload, AccessSet),
    Internal,
    Unknown(String),
}

impl<'a> ScopeWorkloads<'a> {
    /// A network ACL's sets, computed the first time a path crosses it.
    fn acl_sets_of(&self, acl: &Resource) -> &AclSets {
        self.acl_sets[acl.id.as_str()].get_or_init(|| AclSets::of(acl))
    }

    pub fn new(resources: &'a [Resource], uncollected: &'a BTreeSet<ResourceKind>) -> Self {
        let mut w = ScopeWorkloads {
            uncollected,
            interfaces: Vec::new(),
            instances: Vec::new(),
            gcp_firewalls: Vec::new(),
            azure: azure::AzureIndex {
                nics: Vec::new(),
                addresses: HashMap::new(),
                nsgs: HashMap::new(),
                subnet_nsg: HashMap::new(),
            },
            vpc_of_subnet: HashMap::new(),
            tables: Vec::new(),
            acl_of_subnet: HashMap::new(),
            acls: HashMap::new(),
            acl_sets: HashMap::new(),
            group_access: Default::default(),
            groups: HashMap::new(),
        };
        for r in resources {
            match (r.workload.as_deref(), r.kind) {
                (Some(Workload::AwsInterface(i)), _) => w.interfaces.push((r, i)),
                (Some(Workload::GcpInstance(g)), _) => w.instances.push((r, g)),
                (Some(Workload::AzureNic(n)), _) => w.azure.nics.push((r, n)),
                (Some(Workload::AzurePublicIp(p)), _) => {
                    w.azure.addresses.insert(r.id.as_str(), p.address);
                }
                (None, ResourceKind::AzureNsg) => {
                    w.azure.nsgs.insert(r.id.as_str(), r);
                    for a in r.attachments.iter().filter(|a| a.contains("/subnets/")) {
                        w.azure.subnet_nsg.insert(a.as_str(), r);
                    }
                }
                (Some(Workload::AwsSubnet(s)), _) => {
                    w.vpc_of_subnet.insert(r.id.as_str(), s.vpc.as_str());
                }
                (Some(Workload::AwsRouteTable(t)), _) => w.tables.push(t),
                (None, ResourceKind::AwsNetworkAcl) => {
                    w.acls.insert(r.id.as_str(), r);
                    w.acl_sets.insert(r.id.as_str(), std::cell::OnceCell::new());
                    for s in &r.attachments {
                        w.acl_of_subnet.insert(s.as_str(), r);
                    }
                }
                (None, ResourceKind::AwsSecurityGroup) => {
                    w.groups.insert(r.id.as_str(), r);
                }
                (None, ResourceKind::GcpFirewallRule | ResourceKind::GcpFirewallPolicy) => {
                    w.gcp_firewalls.push(r);
                }
                _ => {}
            }
        }
        w.interfaces.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        w.instances.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        w.azure.nics.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        w
    }

    /// Reach of the access a change newly allows (`allowed`) on one resource, in one direction.
    pub fn reach(&self, d: &crate::diff::ResourceDiff) -> ReachVerdict {
        match d.kind {
            ResourceKind::GcpFirewallRule | ResourceKind::GcpFirewallPolicy => {
                if self.uncollected.contains(&ResourceKind::GcpInstance) {
                    return ReachVerdict::unknown("instances were not collected");
                }
                gcp::reach(&self.instances, d)
            }
            ResourceKind::AzureNsg => {
                if self.uncollected.contains(&ResourceKind::AzureNic) {
                    return ReachVerdict::unknown("network interfaces were not collected");
                }
                self.azure
                    .reach(d, !self.uncollected.contains(&ResourceKind::AzurePublicIp))
            }
            _ => self.aws(&d.resource, d.kind, d.direction, &d.allowed_union()),
        }
    }

    /// AWS: a security group's or network ACL's change through the interfaces it applies to.
    fn aws(
        &self,
        resource: &ResourceId,
        kind: ResourceKind,
        direction: Direction,
        allowed: &AccessSet,
    ) -> ReachVerdict {
        match kind {
            ResourceKind::AwsSecurityGroup | ResourceKind::AwsNetworkAcl => {}
            other => {
                return ReachVerdict::unknown(format!(
                    "the workloads of {} are not collected yet",
                    other.provider()
                ))
            }
        }
        if self
            .uncollected
            .contains(&ResourceKind::AwsNetworkInterface)
        {
            return ReachVerdict::unknown("network interfaces were not collected");
        }
        let id = resource.as_str();
        let members: Vec<&(&Resource, &AwsInterface)> = match kind {
            ResourceKind::AwsSecurityGroup => self
                .interfaces
                .iter()
                .filter(|(_, i)| i.groups.iter().any(|g| g == id))
                .collect(),
            _ => {
                let Some(acl) = self.acls.get(id) else {
                    return ReachVerdict::unknown("the network ACL is not in the snapshot");
                };
                self.interfaces
                    .iter()
                    .filter(|(_, i)| acl.attachments.contains(&i.subnet))
                    .collect()
            }
        };
        if members.is_empty() {
            return ReachVerdict {
                reach: Reach::Unattached,
                exposed: Vec::new(),
                why: match kind {
                    ResourceKind::AwsSecurityGroup => "no network interface uses it".into(),
                    _ => "no network interface is in a subnet it is associated with".into(),
                },
            };
        }
        let public = allowed.public_part();
        let mut exposed = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for (r, i) in &members {
            let v = if public.is_empty() {
                Verdict::Internal
            } else {
                self.interface(r, i, kind, direction, &public)
            };
            match v {
                Verdict::Internet(e, _) => exposed.push(e),
                Verdict::Internal => {}
                Verdict::Unknown(why) => unknown.push(format!("{}: {why}", r.id)),
            }
        }
        summarize(
            kind,
            direction,
            members.len(),
            public.is_empty(),
            exposed,
            unknown,
        )
    }

    /// What a security group allows in one direction (computed once per scope).
    fn group(&self, g: &'a Resource, direction: Direction) -> AccessSet {
        self.group_access
            .borrow_mut()
            .entry((g.id.as_str(), direction))
            .or_insert_with(|| resource_access(g, direction))
            .clone()
    }

    /// One interface against the public part of the newly allowed access.
    fn interface(
        &self,
        r: &Resource,
        i: &AwsInterface,
        kind: ResourceKind,
        direction: Direction,
        public: &AccessSet,
    ) -> Verdict {
        if self.uncollected.contains(&ResourceKind::AwsRouteTable) {
            return Verdict::Unknown("route tables were not collected".into());
        }
        let vpc = i
            .vpc
            .as_deref()
            .or_else(|| self.vpc_of_subnet.get(i.subnet.as_str()).copied());
        let table = self
            .tables
            .iter()
            .find(|t| t.subnets.contains(&i.subnet))
            .or_else(|| {
                self.tables
                    .iter()
                    .find(|t| t.main && Some(t.vpc.as_str()) == vpc)
            });
        let Some(table) = table else {
            return Verdict::Unknown(format!(
                "no route table of subnet {} is in the snapshot",
                i.subnet
            ));
        };
        let ingress = direction == Direction::Ingress;
        let (to_internet, nat) = internet_routes(table, i, ingress);
        let mut reachable = restrict(public, &to_internet);
        // A security group's change still passes the subnet's network ACL; a network ACL's
        // change still passes the interface's security groups.
        match kind {
            ResourceKind::AwsSecurityGroup => {
                if let Some(acl) = self.acl_of_subnet.get(i.subnet.as_str()) {
                    reachable = self.acl_sets_of(acl).through(&reachable, direction);
                }
            }
            _ => {
                if let Some(acl) = self.acl_of_subnet.get(i.subnet.as_str()) {
                    reachable = self.acl_sets_of(acl).replies_pass(&reachable, direction);
                }
                let groups: Vec<&Resource> = i
                    .groups
                    .iter()
                    .filter_map(|g| self.groups.get(g.as_str()).copied())
                    .collect();
                if groups.len() == i.groups.len() {
                    let sg = groups.iter().fold(AccessSet::default(), |acc, g| {
                        acc.union(&self.group(g, direction))
                    });
                    reachable = reachable.intersection(&sg);
                }
            }
        }
        if reachable.is_empty() {
            return Verdict::Internal;
        }
        let uses_v4 = reachable.cells().any(|(_, _, _, _, a)| !a.v4.is_empty());
        let address = if uses_v4 {
            i.public_ipv4
                .first()
                .map(IpAddr::to_string)
                .or_else(|| nat.map(|n| format!("via {n}")))
        } else {
            i.ipv6.first().map(IpAddr::to_string)
        };
        Verdict::Internet(
            ExposedWorkload {
                id: r.id.as_str().to_string(),
                instance: i.instance.clone(),
                address,
                ports: ports_of(&reachable),
            },
            reachable,
        )
    }
}

/// One internet-reachable workload of the attack surface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurfaceEntry {
    #[serde(flatten)]
    pub workload: ExposedWorkload,
    /// What opens it: the security groups (AWS), firewall rules and policies (GCP) or network
    /// security groups (Azure) whose rules allow what is reachable.
    pub opened_by: Vec<String>,
}

/// The verdict of an item from what its interfaces said.
pub(crate) fn summarize(
    kind: ResourceKind,
    direction: Direction,
    n: usize,
    nothing_public: bool,
    exposed: Vec<ExposedWorkload>,
    unknown: Vec<String>,
) -> ReachVerdict {
    let plural = if n == 1 { "interface" } else { "interfaces" };
    let name = |e: &ExposedWorkload| match &e.instance {
        Some(inst) => format!("{inst} ({})", e.id),
        None => e.id.clone(),
    };
    verdict::conclude(exposed, unknown, name, || {
        if nothing_public {
            format!("latent: {n} {plural}, and the newly allowed access is not from the internet")
        } else if kind == ResourceKind::AwsNetworkAcl {
            let way = if direction == Direction::Ingress {
                "in"
            } else {
                "out"
            };
            format!("latent: {n} {plural}, none whose security groups, public address and internet route let the newly allowed traffic {way}")
        } else if direction == Direction::Ingress {
            format!("latent: {n} {plural}, none with a public address, an internet route and a network ACL that let the newly allowed traffic in")
        } else {
            format!("latent: {n} {plural}, none with a route to the internet for the newly allowed traffic")
        }
    })
}

/// `set` restricted to the addresses `addrs` (every protocol and port).
pub(crate) fn restrict(set: &AccessSet, addrs: &AddrSet) -> AccessSet {
    set.intersection(&evaluate(&[AccessBox {
        proto: (0, 255),
        ports: (0, 65535),
        addrs: addrs.clone(),
        allow: true,
    }]))
}

/// What one resource allows in one direction, on its own.
pub fn resource_access(r: &Resource, direction: Direction) -> AccessSet {
    let rules: Vec<UnitRule<'_>> = r.rules.iter().map(|x| (x, r)).collect();
    let classes: BTreeSet<_> = [None].into_iter().collect();
    unit_access(&rules, r.kind.semantics(), direction, &classes)
        .remove(&None)
        .unwrap_or_default()
}

/// `tcp/22`, `udp/1000-2000`, `icmp`, `all`: the protocols and ports of a set, any address.
pub(crate) fn ports_of(set: &AccessSet) -> Vec<String> {
    let mut out: Vec<String> = set
        .footprint()
        .render()
        .into_iter()
        .map(|e| {
            if e.ports == "all" {
                e.protocol
            } else {
                format!("{}/{}", e.protocol, e.ports)
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
