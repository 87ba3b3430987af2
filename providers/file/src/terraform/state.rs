//! Terraform state (`terraform show -json` of a state: `values.root_module` and its
//! `child_modules`): which firewall resources Terraform manages, at which address, and the
//! state it last wrote for them.

use serde_json::Value;

use netdrift_snapshots::Provider;

use super::{check_format_version, side, supported, with_file, Attrs, Side, NULL};
use crate::json::{ConvertError, Node};

/// One managed firewall resource of a state.
#[derive(Debug, Clone)]
pub struct Managed {
    pub address: String,
    pub tf_type: String,
    pub provider: Provider,
    /// What the state says it is.
    pub side: Side,
}

/// Read a state document; errors name `file` and the JSON path.
pub fn read_state(file: &str, doc: &Value) -> Result<Vec<Managed>, ConvertError> {
    let root = Node::root(doc);
    let inner =
        || -> Result<Vec<Managed>, ConvertError> {
            if !doc.is_object() {
                return Err(root
                    .err("not the JSON of `terraform show -json` of a state: expected an object"));
            }
            check_format_version(&root, "a state")?;
            if root.child("resource_changes").is_some() {
                return Err(root
                    .err("this is the JSON of a plan, not of a state: run `netdrift plan` on it"));
            }
            let mut out = Vec::new();
            if let Some(m) = root.child("values").and_then(|v| v.child("root_module")) {
                walk(&m, &mut out)?;
            }
            Ok(out)
        };
    inner().map_err(|e| with_file(file, e))
}

fn walk(module: &Node<'_>, out: &mut Vec<Managed>) -> Result<(), ConvertError> {
    for r in module.list("resources")? {
        if r.str("mode")? == Some("data") {
            continue;
        }
        let tf_type = r.req_str("type")?;
        let Some(provider) = supported(tf_type) else {
            continue;
        };
        let address = r.req_str("address")?.to_string();
        let Some(values) = r.child("values") else {
            continue;
        };
        let a = Attrs::new(values, &NULL);
        let none = |_: &str| None;
        out.push(Managed {
            side: side(tf_type, &address, &a, &none)?,
            address,
            tf_type: tf_type.to_string(),
            provider,
        });
    }
    for child in module.list("child_modules")? {
        walk(&child, out)?;
    }
    Ok(())
}
