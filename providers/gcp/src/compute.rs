//! Compute Engine through google-cloud-compute-v1: VPC firewall rules, networks (enforcement
//! order), regions, global and regional network firewall policies, hierarchical policies.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use google_cloud_compute_v1::client::{
    FirewallPolicies, Firewalls, Instances, NetworkFirewallPolicies, Networks,
    RegionNetworkFirewallPolicies, Regions,
};
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::paginator::Paginator as _;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt, TooManyRequests};
use serde_json::Value;

use netdrift_provider_file::gcp_policy::{self, PolicyContext};
use netdrift_provider_file::json::Node;
use netdrift_snapshots::{Collected, PolicyLevel, Problem, Resource, ResourceKind};

use crate::errors::{classify, setup_problem};
use crate::rest::Rest;
use crate::{Credentials, GcpSource, Target};

pub struct Clients {
    firewalls: Firewalls,
    networks: Networks,
    regions: Regions,
    network_policies: NetworkFirewallPolicies,
    region_policies: RegionNetworkFirewallPolicies,
    hierarchical: FirewallPolicies,
    instances: Instances,
    pub rest: Rest,
}

macro_rules! build {
    ($client:ty, $src:expr, $creds:expr) => {{
        // The Google clients retry only UNAVAILABLE by default: retry 429 too, with backoff.
        let policy =
            TooManyRequests::new(Aip194Strict).with_attempt_limit($src.max_attempts.max(1));
        let backoff = ExponentialBackoffBuilder::new()
            .with_initial_delay(Duration::from_millis(200))
            .with_maximum_delay(Duration::from_secs(20))
            .with_scaling(2.0)
            .build()
            .map_err(|e| setup_problem(format!("backoff policy: {e}")))?;
        let mut b = <$client>::builder()
            .with_credentials($creds.clone())
            .with_retry_policy(policy)
            .with_backoff_policy(backoff);
        if let Some(url) = &$src.endpoint_url {
            b = b.with_endpoint(url.trim_end_matches('/'));
        }
        b.build().await.map_err(|e| {
            setup_problem(format!(
                "cannot create the {} client: {e}",
                stringify!($client)
            ))
        })?
    }};
}

/// Every page of a list call (500 items a page), each item as the REST JSON it came as. A
/// failure is a problem naming the permission and the kind it leaves unread.
macro_rules! list_json {
    ($builder:expr, $op:expr, $kind:ident) => {{
        let op: &str = $op;
        let mut pages = $builder.set_max_results(500_u32).by_page();
        let mut out: Vec<Value> = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(op, Some(ResourceKind::$kind), &e))?;
            for item in page.items {
                out.push(to_json(&item, op)?);
            }
        }
        Ok::<Vec<Value>, Problem>(out)
    }};
}

impl Clients {
    pub async fn new(src: &GcpSource) -> Result<Clients, Problem> {
        let creds = match src.credentials {
            Credentials::Anonymous => {
                google_cloud_auth::credentials::anonymous::Builder::new().build()
            }
            Credentials::ApplicationDefault => google_cloud_auth::credentials::Builder::default()
                .build()
                .map_err(|e| Problem {
                    code: netdrift_snapshots::ProblemCode::Auth,
                    kind: None,
                    operation: None,
                    message: format!("no Application Default Credentials: {e}"),
                })?,
        };
        Ok(Clients {
            firewalls: build!(Firewalls, src, creds),
            networks: build!(Networks, src, creds),
            regions: build!(Regions, src, creds),
            network_policies: build!(NetworkFirewallPolicies, src, creds),
            region_policies: build!(RegionNetworkFirewallPolicies, src, creds),
            hierarchical: build!(FirewallPolicies, src, creds),
            instances: build!(Instances, src, creds),
            rest: Rest::new(src, creds.clone())?,
        })
    }

    /// Hierarchical policies whose parent is `node` (`organizations/1`, `folders/2`).
    pub async fn hierarchical_policies(&self, node: &str) -> Result<Vec<Value>, Problem> {
        let pages = self.hierarchical.list().set_parent_id(node);
        list_json!(pages, "compute.firewallPolicies.list", GcpFirewallPolicy)
    }

    /// One VPC firewall rule, converted; `None` when the project no longer has it (404).
    pub async fn get_firewall(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<Resource>, Problem> {
        let op = "compute.firewalls.get";
        let got = self
            .firewalls
            .get()
            .set_project(project)
            .set_firewall(name)
            .send()
            .await;
        let item = match got {
            Ok(f) => to_json(&f, op)?,
            Err(e) if e.http_status_code() == Some(404) => return Ok(None),
            Err(e) => return Err(classify(op, Some(ResourceKind::GcpFirewallRule), &e)),
        };
        let node = Node {
            v: &item,
            path: op.to_string(),
        };
        netdrift_provider_file::gcp::firewall(&node, project)
            .map(Some)
            .map_err(|e| decode_problem(op, ResourceKind::GcpFirewallRule, e))
    }

    async fn list_firewalls(&self, project: &str) -> Result<Vec<Value>, Problem> {
        let pages = self.firewalls.list().set_project(project);
        list_json!(pages, "compute.firewalls.list", GcpFirewallRule)
    }

    /// Every instance of the project (`instances.aggregatedList`: pages keyed by zone), as
    /// REST JSON.
    async fn list_instances(&self, project: &str) -> Result<Vec<Value>, Problem> {
        let op = "compute.instances.list";
        let mut pages = self
            .instances
            .aggregated_list()
            .set_project(project)
            .set_max_results(500_u32)
            .by_page();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(op, Some(ResourceKind::GcpInstance), &e))?;
            let mut zones: Vec<_> = page.items.into_iter().collect();
            zones.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, scoped) in zones {
                for i in scoped.instances {
                    out.push(to_json(&i, op)?);
                }
            }
        }
        Ok(out)
    }

    async fn list_networks(&self, project: &str) -> Result<Vec<Value>, Problem> {
        let pages = self.networks.list().set_project(project);
        list_json!(pages, "compute.networks.list", GcpFirewallPolicy)
    }

    async fn list_regions(&self, project: &str) -> Result<Vec<String>, Problem> {
        let pages = self.regions.list().set_project(project);
        Ok(
            list_json!(pages, "compute.regions.list", GcpFirewallPolicy)?
                .iter()
                .filter_map(|r| r["name"].as_str().map(String::from))
                .collect(),
        )
    }

    async fn list_network_policies(&self, project: &str) -> Result<Vec<Value>, Problem> {
        let pages = self.network_policies.list().set_project(project);
        list_json!(
            pages,
            "compute.networkFirewallPolicies.list",
            GcpFirewallPolicy
        )
    }

    async fn list_region_policies(
        &self,
        project: &str,
        region: &str,
    ) -> Result<Vec<Value>, Problem> {
        let pages = self
            .region_policies
            .list()
            .set_project(project)
            .set_region(region);
        list_json!(
            pages,
            "compute.regionNetworkFirewallPolicies.list",
            GcpFirewallPolicy
        )
    }

    /// Everything of one project. Firewall rules and policies are read independently: a failure
    /// of one leaves the other's resources in a partial snapshot.
    pub async fn collect_project(
        &self,
        t: &Target,
        hierarchical: &[Value],
        hierarchical_problem: Option<Problem>,
        regions: Option<&[String]>,
    ) -> Collected {
        let project = t.project.as_str();
        let (firewalls, policies, instances) = tokio::join!(
            self.list_firewalls(project),
            self.project_policies(project, regions),
            self.list_instances(project)
        );
        let mut problems = Vec::new();
        let mut resources: Vec<Resource> = Vec::new();
        match firewalls {
            Ok(items) => {
                for (i, item) in items.iter().enumerate() {
                    let node = Node {
                        v: item,
                        path: format!("compute.firewalls.list items[{i}]"),
                    };
                    match netdrift_provider_file::gcp::firewall(&node, project) {
                        Ok(r) => resources.push(r),
                        Err(e) => problems.push(decode_problem(
                            "compute.firewalls.list",
                            ResourceKind::GcpFirewallRule,
                            e,
                        )),
                    }
                }
            }
            Err(p) => problems.push(p),
        }
        let policy_problem = match (policies, hierarchical_problem) {
            (Err(p), _) => Some(p),
            (Ok(_), Some(p)) => Some(Problem {
                kind: Some(ResourceKind::GcpFirewallPolicy),
                ..p
            }),
            (Ok((networks, network_policies)), None) => {
                let before_classic: BTreeSet<String> = networks;
                let depth: BTreeMap<&str, u32> =
                    t.ancestors.iter().map(|(n, d)| (n.as_str(), *d)).collect();
                let depth_of = |n: &str| depth.get(n).copied();
                let ctx = PolicyContext {
                    project,
                    depth: Some(&depth_of),
                    before_classic: &before_classic,
                };
                let mut problem = None;
                for (i, item) in hierarchical
                    .iter()
                    .chain(network_policies.iter())
                    .enumerate()
                {
                    let node = Node {
                        v: item,
                        path: format!("firewall policies[{i}]"),
                    };
                    match gcp_policy::policy(&node, &ctx) {
                        Ok(r) => {
                            // A hierarchical policy applies through an association with one of
                            // the project's ancestors.
                            let applies = r.policy.as_ref().is_none_or(|p| {
                                !matches!(p.level, PolicyLevel::Hierarchical { .. })
                                    || p.associations
                                        .iter()
                                        .any(|a| depth.contains_key(a.target.as_str()))
                            });
                            if applies {
                                resources.push(r);
                            }
                        }
                        Err(e) => {
                            problem = Some(decode_problem(
                                "compute.networkFirewallPolicies.list",
                                ResourceKind::GcpFirewallPolicy,
                                e,
                            ));
                            break;
                        }
                    }
                }
                problem
            }
        };
        if let Some(p) = policy_problem {
            resources.retain(|r| r.kind != ResourceKind::GcpFirewallPolicy);
            problems.push(p);
        }
        // Instances, through the offline converter; a failure leaves them uncollected.
        let converted = instances.and_then(|items| {
            let doc = serde_json::json!(items);
            netdrift_provider_file::gcp_instances::convert(&Node::root(&doc), project)
                .map_err(|e| decode_problem("compute.instances.list", ResourceKind::GcpInstance, e))
        });
        match converted {
            Ok(rs) => resources.extend(rs),
            Err(p) => problems.push(p),
        }
        crate::assemble(project, resources, problems)
    }

    /// Network keys with BEFORE_CLASSIC enforcement, and the project's network policies
    /// (global and regional).
    async fn project_policies(
        &self,
        project: &str,
        regions: Option<&[String]>,
    ) -> Result<(BTreeSet<String>, Vec<Value>), Problem> {
        let networks = self.list_networks(project).await?;
        let root = Value::Array(networks);
        let before_classic: BTreeSet<String> =
            netdrift_provider_file::gcp::before_classic_networks(&Node::root(&root), project)
                .map_err(|e| {
                    decode_problem("compute.networks.list", ResourceKind::GcpFirewallPolicy, e)
                })?
                .into_iter()
                .collect();
        let mut policies = self.list_network_policies(project).await?;
        let regions = match regions {
            Some(r) => r.to_vec(),
            None => self.list_regions(project).await?,
        };
        for region in regions {
            policies.extend(self.list_region_policies(project, &region).await?);
        }
        Ok((before_classic, policies))
    }
}

fn to_json<T: serde::Serialize>(v: &T, op: &str) -> Result<Value, Problem> {
    serde_json::to_value(v).map_err(|e| Problem {
        code: netdrift_snapshots::ProblemCode::Decode,
        kind: None,
        operation: Some(op.into()),
        message: format!("{op}: {e}"),
    })
}

fn decode_problem(
    op: &str,
    kind: ResourceKind,
    e: netdrift_provider_file::json::ConvertError,
) -> Problem {
    Problem {
        code: netdrift_snapshots::ProblemCode::Decode,
        kind: Some(kind),
        operation: Some(op.into()),
        message: format!("{op}: {e}"),
    }
}
