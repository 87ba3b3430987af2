//! GCP instances: `gcloud compute instances list --format=json` (an array of
//! `compute#instance`), an `instances.list` page (`items`) or an `instances.aggregatedList` page
//! (`items` keyed by zone, each with `instances`). Reach reads what they say.

use netdrift_snapshots::{
    canonicalize, GcpInstance, GcpInterface, Resource, ResourceId, ResourceKind, Workload,
};

use crate::json::{unique_ids, ConvertError, Node};

fn is_instance(n: &Node<'_>) -> bool {
    n.str("kind").ok().flatten() == Some("compute#instance")
        || (n.child("networkInterfaces").is_some() && n.child("status").is_some())
}

/// True for an instances dump.
pub fn detect(root: &Node<'_>) -> bool {
    match root.v {
        serde_json::Value::Array(a) => {
            !a.is_empty()
                && root
                    .items()
                    .map(|v| v.iter().all(is_instance))
                    .unwrap_or(false)
        }
        serde_json::Value::Object(_) => matches!(
            root.str("kind").ok().flatten(),
            Some("compute#instanceList" | "compute#instanceAggregatedList")
        ),
        _ => false,
    }
}

/// The last path segment of a URL (`…/zones/us-central1-a` → `us-central1-a`).
fn last(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

fn instance(n: &Node<'_>, project: &str) -> Result<Resource, ConvertError> {
    let name = n.req_str("name")?;
    let zone = last(n.req_str("zone")?).to_string();
    let id = match n
        .str("selfLink")?
        .and_then(|l| l.find("projects/").map(|i| &l[i..]))
    {
        Some(path) => path.to_string(),
        None => format!("projects/{project}/zones/{zone}/instances/{name}"),
    };
    let mut r = Resource::new(ResourceId::new(id), ResourceKind::GcpInstance);
    r.name = Some(name.to_string());
    let mut g = GcpInstance {
        zone,
        status: n.req_str("status")?.to_string(),
        tags: Vec::new(),
        service_accounts: Vec::new(),
        interfaces: Vec::new(),
    };
    if let Some(t) = n.child("tags") {
        for (_, tag) in t.strings("items")? {
            g.tags.push(tag.to_string());
        }
    }
    for sa in n.list("serviceAccounts")? {
        g.service_accounts.push(sa.req_str("email")?.to_string());
    }
    for nic in n.list("networkInterfaces")? {
        let mut i = GcpInterface {
            network: crate::gcp::network_key(nic.req_str("network")?, project),
            internal_ip: nic.ip("networkIP")?,
            external_ipv4: Vec::new(),
            external_ipv6: Vec::new(),
        };
        for a in nic.list("accessConfigs")? {
            i.external_ipv4.extend(a.ip("natIP")?);
        }
        for a in nic.list("ipv6AccessConfigs")? {
            i.external_ipv6.extend(a.ip("externalIpv6")?);
        }
        r.network.get_or_insert_with(|| i.network.clone());
        g.interfaces.push(i);
    }
    r.attached = Some(true);
    r.workload = Some(Box::new(Workload::GcpInstance(g)));
    Ok(canonicalize(r))
}

/// Convert an instances dump of `project`.
pub fn convert(root: &Node<'_>, project: &str) -> Result<Vec<Resource>, ConvertError> {
    let mut items = Vec::new();
    match root.v {
        serde_json::Value::Array(_) => items = root.items()?,
        _ => match root.child("items") {
            // aggregatedList: `items` is keyed by zone.
            Some(zones) if zones.v.is_object() => {
                if let serde_json::Value::Object(m) = zones.v {
                    for k in m.keys() {
                        let z = zones.child(k).expect("present");
                        items.extend(z.list("instances")?);
                    }
                }
            }
            Some(_) => items = root.list("items")?,
            None => {}
        },
    }
    unique_ids(
        items
            .iter()
            .map(|n| Ok((n.path.clone(), instance(n, project)?)))
            .collect::<Result<_, ConvertError>>()?,
    )
}
