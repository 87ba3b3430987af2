//! Firewall resources a controller made or changes, recognised the way their controllers mark
//! them, so that a report can say "made by the Kubernetes load-balancer controller" and a
//! severity policy can lower them by label (never by default):
//!
//! - `kubernetes-elb`: the Kubernetes AWS cloud provider's group for a `type: LoadBalancer`
//!   Service (`k8s-elb-NAME`, description "Security group for Kubernetes ELB NAME (NS/SVC)").
//! - `aws-load-balancer-controller`: the AWS Load Balancer Controller's groups (tag
//!   `elbv2.k8s.aws/cluster`, description "[k8s] Managed SecurityGroup for LoadBalancer" or
//!   "[k8s] Shared Backend SecurityGroup for LoadBalancer").
//! - `eks`: the cluster security group EKS creates (tag `aws:eks:cluster-name`).
//! - `aws-managed-interfaces`: a group whose every attached interface AWS manages for a service
//!   (`RequesterManaged`: load balancers, VPC endpoints, NAT gateways…).
//! - `azure-jit`: Defender for Cloud's just-in-time access rules (`SecurityCenter-JITRule…`,
//!   allow rules placed in front at a priority below 1000) when they are all that changed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Action, AwsInterface, Resource, ResourceKind, Rule, Workload};

/// A controller that made or changes a resource, and what says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    pub label: String,
    pub why: String,
}

/// Every label [`controller`] gives.
pub const CONTROLLER_LABELS: &[&str] = &[
    "kubernetes-elb",
    "aws-load-balancer-controller",
    "eks",
    "aws-managed-interfaces",
    "azure-jit",
];

fn label(label: &str, why: String) -> Option<Controller> {
    Some(Controller {
        label: label.into(),
        why,
    })
}

fn is_jit(r: &Rule) -> bool {
    r.name
        .as_deref()
        .is_some_and(|n| n.starts_with("SecurityCenter-JITRule"))
        && (r.action != Action::Allow || r.priority.is_some_and(|p| p < 1000))
}

/// One scope's controllers: which interfaces use each group, read once per scope.
pub struct Controllers<'a> {
    users: HashMap<&'a str, Vec<&'a AwsInterface>>,
}

impl<'a> Controllers<'a> {
    pub fn new(actual: &'a [Resource]) -> Self {
        let mut users: HashMap<&str, Vec<&AwsInterface>> = HashMap::new();
        for r in actual {
            if let Some(Workload::AwsInterface(i)) = r.workload.as_deref() {
                for g in &i.groups {
                    users.entry(g.as_str()).or_default().push(i);
                }
            }
        }
        Controllers { users }
    }

    /// The controller behind a drift on `actual` (approved as `baseline`).
    pub fn of(&self, actual: Option<&Resource>, baseline: Option<&Resource>) -> Option<Controller> {
        let id = actual.or(baseline)?.id.as_str();
        controller(
            actual,
            baseline,
            self.users.get(id).map(Vec::as_slice).unwrap_or_default(),
        )
    }
}

/// The controller behind a drift on `actual` (approved as `baseline`), from its tags, its
/// description, its rules, and the AWS interfaces that use it.
fn controller(
    actual: Option<&Resource>,
    baseline: Option<&Resource>,
    interfaces: &[&AwsInterface],
) -> Option<Controller> {
    let r = actual.or(baseline)?;
    let description = r.description.as_deref().unwrap_or_default();
    if description.starts_with("Security group for Kubernetes ELB ") {
        return label("kubernetes-elb", format!("description {description:?}"));
    }
    if let Some(cluster) = r.tags.get("elbv2.k8s.aws/cluster") {
        return label(
            "aws-load-balancer-controller",
            format!("tag elbv2.k8s.aws/cluster={cluster}"),
        );
    }
    if description.starts_with("[k8s] Managed SecurityGroup for LoadBalancer")
        || description.starts_with("[k8s] Shared Backend SecurityGroup for LoadBalancer")
    {
        return label(
            "aws-load-balancer-controller",
            format!("description {description:?}"),
        );
    }
    if let Some(cluster) = r.tags.get("aws:eks:cluster-name") {
        return label("eks", format!("tag aws:eks:cluster-name={cluster}"));
    }
    if !interfaces.is_empty() && interfaces.iter().all(|i| i.requester_managed) {
        let mut types: Vec<&str> = interfaces
            .iter()
            .map(|i| i.interface_type.as_deref().unwrap_or("interface"))
            .collect();
        types.sort();
        types.dedup();
        return label(
            "aws-managed-interfaces",
            format!(
                "used only by requester-managed interfaces ({})",
                types.join(", ")
            ),
        );
    }
    // Azure just-in-time access: every rule of the NSG that is new or changed since the
    // baseline is one of Defender for Cloud's.
    if r.kind != ResourceKind::AzureNsg {
        return None;
    }
    let before: Vec<&Rule> = baseline
        .map(|b| b.rules.iter().collect())
        .unwrap_or_default();
    let changed: Vec<&Rule> = actual
        .map(|a| a.rules.iter().filter(|x| !before.contains(x)).collect())
        .unwrap_or_default();
    if !changed.is_empty() && changed.iter().all(|x| is_jit(x)) {
        let names: Vec<&str> = changed.iter().filter_map(|x| x.name.as_deref()).collect();
        return label(
            "azure-jit",
            format!("just-in-time rule {}", names.join(", ")),
        );
    }
    None
}
