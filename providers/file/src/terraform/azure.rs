//! Azure resources of a plan, rewritten into the ARM shapes (a network security group, a
//! security rule) and converted by `crate::azure`. azurerm prints unset singular fields as `""`
//! and unset lists as `[]`; both are left out, as ARM leaves them out.

use serde_json::{json, Map, Value};

use netdrift_snapshots::{ResourceId, ResourceKind};

use super::{placeholder, relabel, Attrs, Locator, Parent, RuleSet, Side, Whole};
use crate::json::{ConvertError, Node};

/// One security rule's ARM `properties`; `None` for a deny whose remote side is unknown.
fn properties(b: &Attrs<'_>) -> Result<Option<Value>, ConvertError> {
    let mut p = Map::new();
    let inbound = b.req_str("direction")?.eq_ignore_ascii_case("Inbound");
    let deny = b.req_str("access")?.eq_ignore_ascii_case("Deny");
    for (tf, api) in [
        ("protocol", "protocol"),
        ("access", "access"),
        ("direction", "direction"),
        ("description", "description"),
        ("source_port_range", "sourcePortRange"),
        ("destination_port_range", "destinationPortRange"),
        ("source_address_prefix", "sourceAddressPrefix"),
        ("destination_address_prefix", "destinationAddressPrefix"),
    ] {
        if let Some(v) = b.str(tf)?.filter(|v| !v.is_empty()) {
            p.insert(api.into(), json!(v));
        }
    }
    for (tf, api) in [
        ("source_port_ranges", "sourcePortRanges"),
        ("destination_port_ranges", "destinationPortRanges"),
        ("source_address_prefixes", "sourceAddressPrefixes"),
        ("destination_address_prefixes", "destinationAddressPrefixes"),
    ] {
        let v = b.strings(tf)?;
        if !v.is_empty() {
            p.insert(api.into(), json!(v));
        }
    }
    for (tf, api) in [
        (
            "source_application_security_group_ids",
            "sourceApplicationSecurityGroups",
        ),
        (
            "destination_application_security_group_ids",
            "destinationApplicationSecurityGroups",
        ),
    ] {
        let v: Vec<Value> = b
            .strings(tf)?
            .into_iter()
            .map(|id| json!({"id": id}))
            .collect();
        if !v.is_empty() {
            p.insert(api.into(), json!(v));
        }
    }
    p.insert(
        "priority".into(),
        json!(b
            .int("priority")?
            .ok_or_else(|| b.err("priority", "a security rule needs its priority"))?),
    );
    if b.unknown("protocol") {
        p.insert("protocol".into(), json!("*"));
    }
    if b.unknown("destination_port_range") || b.unknown("destination_port_ranges") {
        p.remove("destinationPortRanges");
        p.insert("destinationPortRange".into(), json!("*"));
    }
    let (remote, remote_asg) = if inbound {
        (
            ["source_address_prefix", "source_address_prefixes"],
            "source_application_security_group_ids",
        )
    } else {
        (
            ["destination_address_prefix", "destination_address_prefixes"],
            "destination_application_security_group_ids",
        )
    };
    let unknown = b.unknown_any(&[remote[0], remote[1], remote_asg]);
    if unknown {
        if deny {
            return Ok(None);
        }
        let (single, plural, asg) = if inbound {
            (
                "sourceAddressPrefix",
                "sourceAddressPrefixes",
                "sourceApplicationSecurityGroups",
            )
        } else {
            (
                "destinationAddressPrefix",
                "destinationAddressPrefixes",
                "destinationApplicationSecurityGroups",
            )
        };
        p.remove(plural);
        p.remove(asg);
        p.insert(single.into(), json!("*"));
    }
    Ok(Some(Value::Object(p)))
}

/// `azurerm_network_security_group` with its inline `security_rule` blocks.
pub(super) fn nsg(address: &str, a: &Attrs<'_>) -> Result<Side, ConvertError> {
    let name = a.req_str("name")?;
    let group = a.req_str("resource_group_name")?;
    let id = a.known_str("id")?.map(str::to_string);
    let mut rules = Vec::new();
    for b in a.blocks("security_rule")? {
        if let Some(p) = properties(&b)? {
            rules.push(json!({"name": b.req_str("name")?, "properties": p}));
        }
    }
    let synthetic = format!(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{group}/providers/Microsoft.Network/networkSecurityGroups/{name}"
    );
    let doc = json!({"id": id.as_deref().unwrap_or(&synthetic), "name": name,
        "location": a.known_str("location")?, "properties": {"securityRules": rules}});
    let mut r = crate::azure::nsg(&Node::root(&doc)).map_err(|e| relabel(a, e))?;
    r.id = match &id {
        Some(i) => ResourceId::azure(i),
        None => ResourceId::new(placeholder(address)),
    };
    r.attached = None;
    Ok(Side::Whole(Box::new(Whole {
        id: id.map(|i| i.to_ascii_lowercase()),
        locator: Locator::Azure {
            group: group.to_string(),
            name: name.to_string(),
        },
        resource: r,
    })))
}

/// `azurerm_network_security_rule`.
pub(super) fn rule(a: &Attrs<'_>) -> Result<Side, ConvertError> {
    let parent = Parent::Azure {
        group: a.req_str("resource_group_name")?.to_string(),
        name: a.req_str("network_security_group_name")?.to_string(),
    };
    let rules = match properties(a)? {
        None => Vec::new(),
        Some(p) => {
            let mut doc = json!({"name": a.req_str("name")?, "properties": p});
            if let Some(id) = a.known_str("id")? {
                doc["id"] = json!(id);
            }
            vec![crate::azure::security_rule(&Node::root(&doc)).map_err(|e| relabel(a, e))?]
        }
    };
    Ok(Side::Rules(RuleSet {
        parent,
        kind: ResourceKind::AzureNsg,
        rules,
    }))
}
