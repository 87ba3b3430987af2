//! Azure workloads: network interfaces (`az network nic list`, the ARM `networkInterfaces`
//! list) and public IP addresses (`az network public-ip list`, `publicIPAddresses`), in the
//! ARM REST shape (`value[]`, fields under `properties`) or the az CLI's (flattened). The subnet
//! a network security group covers comes from the NSG list itself (its `subnets`), so no
//! virtual network dump is needed.

use std::net::IpAddr;

use netdrift_snapshots::{
    canonicalize, AzureNic, AzurePublicIp, Resource, ResourceId, ResourceKind, Workload,
};

use crate::json::{unique_ids, ConvertError, Node};

fn type_of(n: &Node<'_>) -> String {
    n.str("type")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Fields live under `properties` in ARM JSON and at the top level in az CLI output.
fn props<'a>(n: &Node<'a>) -> Node<'a> {
    match n.child("properties") {
        Some(p) if p.v.is_object() => p,
        _ => n.clone(),
    }
}

fn items<'a>(root: &Node<'a>) -> Option<Vec<Node<'a>>> {
    match root.v {
        serde_json::Value::Array(a) if !a.is_empty() => root.items().ok(),
        serde_json::Value::Object(_) => root.list("value").ok().filter(|v| !v.is_empty()),
        _ => None,
    }
}

/// Which workload kind the document holds, if it is one.
pub fn detect(root: &Node<'_>) -> Option<ResourceKind> {
    let items = items(root)?;
    let all = |f: &dyn Fn(&Node<'_>) -> bool| items.iter().all(f);
    if all(&|n| {
        type_of(n) == "microsoft.network/networkinterfaces"
            || props(n).child("ipConfigurations").is_some()
    }) {
        Some(ResourceKind::AzureNic)
    } else if all(&|n| {
        type_of(n) == "microsoft.network/publicipaddresses"
            || props(n).child("publicIPAllocationMethod").is_some()
    }) {
        Some(ResourceKind::AzurePublicIp)
    } else {
        None
    }
}

fn id_of(n: &Node<'_>, key: &str) -> Result<Option<String>, ConvertError> {
    Ok(match n.child(key) {
        Some(c) => c.str("id")?.map(str::to_ascii_lowercase),
        None => None,
    })
}

fn nic(n: &Node<'_>) -> Result<Resource, ConvertError> {
    let mut r = Resource::new(ResourceId::azure(n.req_str("id")?), ResourceKind::AzureNic);
    r.name = n.str("name")?.map(str::to_string);
    r.network = n.str("location")?.map(str::to_string);
    let p = props(n);
    let mut w = AzureNic {
        subnets: Vec::new(),
        nsg: id_of(&p, "networkSecurityGroup")?,
        public_ips: Vec::new(),
        private_ips: Vec::new(),
        vm: id_of(&p, "virtualMachine")?,
    };
    for c in p.list("ipConfigurations")? {
        let c = props(&c);
        w.subnets.extend(id_of(&c, "subnet")?);
        w.public_ips.extend(id_of(&c, "publicIPAddress")?);
        w.private_ips.extend(c.ip("privateIPAddress")?);
    }
    r.attached = Some(w.vm.is_some());
    r.attachments = w.vm.iter().cloned().collect();
    r.workload = Some(Box::new(Workload::AzureNic(w)));
    Ok(canonicalize(r))
}

fn public_ip(n: &Node<'_>) -> Result<Resource, ConvertError> {
    let mut r = Resource::new(
        ResourceId::azure(n.req_str("id")?),
        ResourceKind::AzurePublicIp,
    );
    r.name = n.str("name")?.map(str::to_string);
    r.network = n.str("location")?.map(str::to_string);
    let p = props(n);
    let address = p
        .str("ipAddress")?
        .map(|a| {
            a.parse::<IpAddr>().map_err(|_| {
                p.child("ipAddress")
                    .expect("present")
                    .err("not an IP address")
            })
        })
        .transpose()?;
    r.workload = Some(Box::new(Workload::AzurePublicIp(AzurePublicIp { address })));
    Ok(canonicalize(r))
}

/// Convert a workload document (`detect` said which).
pub fn convert(root: &Node<'_>, kind: ResourceKind) -> Result<Vec<Resource>, ConvertError> {
    let one = match kind {
        ResourceKind::AzureNic => nic,
        _ => public_ip,
    };
    unique_ids(
        items(root)
            .unwrap_or_default()
            .iter()
            .map(|n| Ok((n.path.clone(), one(n)?)))
            .collect::<Result<_, ConvertError>>()?,
    )
}
