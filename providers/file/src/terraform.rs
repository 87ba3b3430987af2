//! Terraform's JSON: a plan (`terraform show -json PLANFILE`) and a state (`terraform show
//! -json` of a state), read into the model.
//!
//! A plan's `resource_changes[]` each give `change.actions`, the resource's attributes
//! `before` and `after`, and `after_unknown` (the attributes known only after apply, `true`
//! at each unknown leaf). Each supported resource type is rewritten into its cloud's own API
//! shape and converted by the same code as a dump, so a rule means what it means when it is
//! collected. A peer that is unknown until apply (a referenced group's id, a computed range)
//! becomes the whole address space, never narrower than the world, and is named in
//! [`Change::unknown`].
//!
//! `format_version` follows Terraform's rule: a minor version only adds (unrecognised
//! properties are ignored), another major version is rejected (docs/plan-schema.md).

mod aws;
mod azure;
mod gcp;
pub mod state;

use std::collections::BTreeMap;

use serde_json::Value;

use netdrift_snapshots::{Provider, Resource, ResourceKind, Rule};

use crate::json::{short, ConvertError, Node};

/// A plan, read.
#[derive(Debug, Clone)]
pub struct Plan {
    pub format_version: String,
    pub terraform_version: Option<String>,
    /// The changes to supported firewall resources, in plan order (`no-op` and `read` left out).
    pub changes: Vec<Change>,
    /// Resource types netdrift does not model, with how many of their changes the plan has.
    pub ignored: BTreeMap<String, usize>,
}

/// What a plan does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Delete then create, or create then delete (`create_before_destroy`).
    Replace,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Replace => "replace",
        }
    }
}

/// One planned change of a supported resource.
#[derive(Debug, Clone)]
pub struct Change {
    /// The Terraform address (`module.net.aws_security_group.web`, `…rule["ssh"]`).
    pub address: String,
    /// The resource type (`aws_security_group`).
    pub tf_type: String,
    pub provider: Provider,
    pub action: Action,
    /// The resource as it is before (absent for a create).
    pub before: Option<Side>,
    /// The resource as planned (absent for a delete).
    pub after: Option<Side>,
    /// Attributes known only after apply (`ingress[0].security_groups`), each taken as the
    /// widest value it could have.
    pub unknown: Vec<String>,
}

/// One side of a change.
#[derive(Debug, Clone)]
pub enum Side {
    /// A firewall resource that owns all of its rules (a security group with inline rules, a
    /// network ACL, a GCP firewall rule, an NSG with inline rules).
    Whole(Box<Whole>),
    /// Rules added to (or removed from) another resource: a security group rule, a network ACL
    /// entry, a firewall policy rule, an NSG security rule.
    Rules(RuleSet),
}

/// A whole firewall resource.
#[derive(Debug, Clone)]
pub struct Whole {
    /// Its id, when known (`sg-…`, `projects/P/global/firewalls/N`, an ARM id).
    pub id: Option<String>,
    /// What a created resource is matched by when its id is not known yet.
    pub locator: Locator,
    /// The resource, its id a placeholder (`terraform:ADDRESS`) when not known.
    pub resource: Resource,
}

/// How a resource whose id is not known yet is found among the stored ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    /// By id only.
    Id,
    /// A GCP firewall rule or policy by project (when known) and name.
    Gcp {
        project: Option<String>,
        name: String,
    },
    /// An Azure NSG by resource group and name (ARM ids hold the subscription, which a plan's
    /// attributes do not).
    Azure { group: String, name: String },
    /// An AWS resource: in the VPC (when known).
    Aws { vpc: Option<String> },
}

/// Rules of another resource.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub parent: Parent,
    pub kind: ResourceKind,
    pub rules: Vec<Rule>,
}

/// The resource a rule resource belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    /// By id (`sg-…`, `acl-…`, a policy path).
    Id(String),
    /// A resource of the same plan whose id is not known yet (from the configuration's
    /// references).
    Address(String),
    /// An Azure NSG by resource group and name.
    Azure { group: String, name: String },
    /// A GCP policy by project (when known) and name.
    Gcp {
        project: Option<String>,
        name: String,
    },
    /// Not known until apply, and not referenced in the configuration.
    Unknown(String),
}

/// A plan attribute object with its `after_unknown` counterpart and where it is in the file.
#[derive(Clone)]
pub(crate) struct Attrs<'a> {
    pub node: Node<'a>,
    unknown: &'a Value,
    /// The attribute path inside the resource (`ingress[0]`), for [`Change::unknown`].
    at: String,
    unknowns: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
}

static NULL: Value = Value::Null;

/// Whether a subtree of `after_unknown` marks anything unknown.
fn any_unknown(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(any_unknown),
        Value::Object(o) => o.values().any(any_unknown),
        _ => false,
    }
}

impl<'a> Attrs<'a> {
    fn new(node: Node<'a>, unknown: &'a Value) -> Attrs<'a> {
        Attrs {
            node,
            unknown,
            at: String::new(),
            unknowns: Default::default(),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.at.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.at)
        }
    }

    /// Whether the attribute is (or holds something) unknown until apply; records it.
    pub fn unknown(&self, key: &str) -> bool {
        let u = self.unknown.get(key).unwrap_or(&NULL);
        let whole = matches!(self.unknown, Value::Bool(true));
        if whole || any_unknown(u) {
            let p = self.path(key);
            let mut list = self.unknowns.borrow_mut();
            if !list.contains(&p) {
                list.push(p);
            }
            return true;
        }
        false
    }

    /// Whether any of `keys` is unknown until apply; every one that is, is recorded.
    pub fn unknown_any(&self, keys: &[&str]) -> bool {
        let mut any = false;
        for k in keys {
            any |= self.unknown(k);
        }
        any
    }

    pub fn err(&self, key: &str, message: impl Into<String>) -> ConvertError {
        match self.node.child(key) {
            Some(c) => c.err(message),
            None => ConvertError {
                path: format!("{}.{key}", self.node.path),
                value: "null".into(),
                message: message.into(),
            },
        }
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>, ConvertError> {
        self.node.str(key)
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, ConvertError> {
        self.node.req_str(key)
    }

    /// A known string (`None` when unknown until apply, or absent). Not recorded as unknown:
    /// an id or a name decides where a resource is, not what it allows.
    pub fn known_str(&self, key: &str) -> Result<Option<&'a str>, ConvertError> {
        let u = self.unknown.get(key).unwrap_or(&NULL);
        if matches!(self.unknown, Value::Bool(true)) || any_unknown(u) {
            return Ok(None);
        }
        self.str(key)
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ConvertError> {
        self.node.strict_int(key)
    }

    pub fn bool(&self, key: &str) -> Result<bool, ConvertError> {
        Ok(self.node.bool(key)?.unwrap_or(false))
    }

    /// A list or set of strings (null: empty). An element known only after apply is `null`
    /// here (and `true` in `after_unknown`): it is left out, and [`Attrs::unknown`] tells.
    pub fn strings(&self, key: &str) -> Result<Vec<&'a str>, ConvertError> {
        let Some(list) = self.node.child(key) else {
            return Ok(Vec::new());
        };
        match list.v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_null())
                .map(|(i, v)| {
                    v.as_str().ok_or_else(|| ConvertError {
                        path: format!("{}[{i}]", list.path),
                        value: short(v),
                        message: "expected a string".into(),
                    })
                })
                .collect(),
            Value::String(s) => Ok(vec![s.as_str()]),
            _ => Err(list.err("expected a list of strings")),
        }
    }

    /// A list of nested blocks.
    pub fn blocks(&self, key: &str) -> Result<Vec<Attrs<'a>>, ConvertError> {
        let u = self.unknown.get(key).unwrap_or(&NULL);
        Ok(self
            .node
            .list(key)?
            .into_iter()
            .enumerate()
            .map(|(i, node)| Attrs {
                node,
                unknown: match u {
                    Value::Bool(true) => u,
                    Value::Array(a) => a.get(i).unwrap_or(&NULL),
                    _ => &NULL,
                },
                at: format!("{}[{i}]", self.path(key)),
                unknowns: self.unknowns.clone(),
            })
            .collect())
    }
}

/// Errors name the plan file and the JSON path.
fn with_file(file: &str, e: ConvertError) -> ConvertError {
    ConvertError {
        path: format!("{file}: {}", e.path),
        ..e
    }
}

/// Check `format_version`: 0.x and 1.x are read, another major version is refused.
pub(crate) fn check_format_version(root: &Node<'_>, what: &str) -> Result<String, ConvertError> {
    let v = root.req_str("format_version").map_err(|_| {
        root.err(format!(
            "not the JSON of `terraform show -json` ({what}): no format_version"
        ))
    })?;
    let major = v.split('.').next().and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(0 | 1) => Ok(v.to_string()),
        _ => Err(root
            .child("format_version")
            .expect("present")
            .err("unsupported format_version: netdrift reads major version 1 (and 0.x); a new major version is not backward-compatible, so it is refused")),
    }
}

/// The resource types read, each with its provider.
pub fn supported(tf_type: &str) -> Option<Provider> {
    match tf_type {
        "aws_security_group"
        | "aws_security_group_rule"
        | "aws_vpc_security_group_ingress_rule"
        | "aws_vpc_security_group_egress_rule"
        | "aws_network_acl"
        | "aws_network_acl_rule" => Some(Provider::Aws),
        "google_compute_firewall"
        | "google_compute_firewall_policy_rule"
        | "google_compute_network_firewall_policy_rule"
        | "google_compute_region_network_firewall_policy_rule" => Some(Provider::Gcp),
        "azurerm_network_security_group" | "azurerm_network_security_rule" => Some(Provider::Azure),
        _ => None,
    }
}

/// Convert one side of a supported resource.
pub(crate) fn side(
    tf_type: &str,
    address: &str,
    a: &Attrs<'_>,
    refs: &dyn Fn(&str) -> Option<String>,
) -> Result<Side, ConvertError> {
    match tf_type {
        "aws_security_group" => aws::group(address, a),
        "aws_security_group_rule" => aws::legacy_rule(a, refs),
        "aws_vpc_security_group_ingress_rule" => aws::vpc_rule(a, false, refs),
        "aws_vpc_security_group_egress_rule" => aws::vpc_rule(a, true, refs),
        "aws_network_acl" => aws::acl(address, a),
        "aws_network_acl_rule" => aws::acl_rule(a, refs),
        "google_compute_firewall" => gcp::firewall(address, a),
        "google_compute_firewall_policy_rule" => gcp::policy_rule(a, true, refs),
        "google_compute_network_firewall_policy_rule"
        | "google_compute_region_network_firewall_policy_rule" => gcp::policy_rule(a, false, refs),
        "azurerm_network_security_group" => azure::nsg(address, a),
        "azurerm_network_security_rule" => azure::rule(a),
        other => unreachable!("{other} is not supported"),
    }
}

/// The placeholder id of a resource not created yet.
pub fn placeholder(address: &str) -> String {
    format!("terraform:{address}")
}

/// The configuration's references of each resource attribute: `module.net.aws_security_group.web`
/// → attribute → the addresses its expression refers to (`module.net.aws_security_group.web`).
fn references(root: &Node<'_>) -> BTreeMap<(String, String), Vec<String>> {
    let mut out = BTreeMap::new();
    fn walk(module: &Value, prefix: &str, out: &mut BTreeMap<(String, String), Vec<String>>) {
        for r in module
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(addr) = r.get("address").and_then(Value::as_str) else {
                continue;
            };
            let full = format!("{prefix}{addr}");
            for (attr, expr) in r
                .get("expressions")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let refs: Vec<String> = expr
                    .get("references")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|s| format!("{prefix}{s}"))
                    .collect();
                if !refs.is_empty() {
                    out.insert((full.clone(), attr.clone()), refs);
                }
            }
        }
        for (name, call) in module
            .get("module_calls")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(m) = call.get("module") {
                walk(m, &format!("{prefix}module.{name}."), out);
            }
        }
    }
    if let Some(m) = root.v.pointer("/configuration/root_module") {
        walk(m, "", &mut out);
    }
    out
}

/// The supported resource a reference names (`module.net.aws_security_group.web.id` →
/// `module.net.aws_security_group.web`).
fn referenced_resource(reference: &str) -> Option<String> {
    let parts: Vec<&str> = reference.split('.').collect();
    let i = parts.iter().position(|p| supported(p).is_some())?;
    (i + 1 < parts.len()).then(|| parts[..=i + 1].join("."))
}

/// The configuration address of a resource instance: without its index (`a.b["x"]` → `a.b`).
fn config_address(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Read a plan (`terraform show -json PLANFILE`); errors name `file` and the JSON path.
pub fn read_plan(file: &str, doc: &Value) -> Result<Plan, ConvertError> {
    read_plan_inner(doc).map_err(|e| with_file(file, e))
}

fn read_plan_inner(doc: &Value) -> Result<Plan, ConvertError> {
    let root = Node::root(doc);
    if !doc.is_object() {
        return Err(root.err("not the JSON of `terraform show -json PLANFILE`: expected an object"));
    }
    let format_version = check_format_version(&root, "a plan")?;
    if root.child("resource_changes").is_none() && root.child("values").is_some() {
        return Err(root.err(
            "this is the JSON of a state, not of a plan: pass it as Terraform state (--terraform-state or [[iac]])",
        ));
    }
    let refs = references(&root);
    let mut plan = Plan {
        format_version,
        terraform_version: root.str("terraform_version")?.map(str::to_string),
        changes: Vec::new(),
        ignored: BTreeMap::new(),
    };
    for rc in root.list("resource_changes")? {
        if rc.str("mode")? == Some("data") {
            continue;
        }
        let address = rc.req_str("address")?.to_string();
        let tf_type = rc.req_str("type")?.to_string();
        let change = rc
            .child("change")
            .ok_or_else(|| rc.err("resource change without change"))?;
        let actions: Vec<&str> = change
            .strings("actions")?
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        let action = match actions.as_slice() {
            ["no-op"] | ["read"] | ["forget"] | [] => continue,
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Delete,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            _ => {
                return Err(change
                    .child("actions")
                    .expect("present")
                    .err("unknown actions (expected no-op, create, read, update, delete, delete+create, create+delete or forget)"))
            }
        };
        let Some(provider) = supported(&tf_type) else {
            *plan.ignored.entry(tf_type).or_default() += 1;
            continue;
        };
        let cfg = config_address(&address);
        let lookup = |attr: &str| -> Option<String> {
            refs.get(&(cfg.clone(), attr.to_string()))
                .and_then(|rs| rs.iter().find_map(|r| referenced_resource(r)))
        };
        let read_side = |key: &str,
                         unknown: Option<&str>|
         -> Result<(Option<Side>, Vec<String>), ConvertError> {
            match change.child(key) {
                Some(n) if n.v.is_object() => {
                    let u = unknown.and_then(|k| change.v.get(k)).unwrap_or(&NULL);
                    let a = Attrs::new(n, u);
                    let s = side(&tf_type, &address, &a, &lookup)?;
                    let unknowns = a.unknowns.borrow().clone();
                    Ok((Some(s), unknowns))
                }
                Some(n) if !n.v.is_null() => Err(n.err("expected an object of attributes")),
                _ => Ok((None, Vec::new())),
            }
        };
        let (before, _) = if action == Action::Create {
            (None, Vec::new())
        } else {
            read_side("before", None)?
        };
        let (after, unknown) = if action == Action::Delete {
            (None, Vec::new())
        } else {
            read_side("after", Some("after_unknown"))?
        };
        if action != Action::Create && before.is_none() {
            return Err(change.err(format!("{} without before", action.as_str())));
        }
        if action != Action::Delete && after.is_none() {
            return Err(change.err(format!("{} without after", action.as_str())));
        }
        plan.changes.push(Change {
            address,
            tf_type,
            provider,
            action,
            before,
            after,
            unknown,
        });
    }
    Ok(plan)
}

/// A conversion error of the synthetic API JSON, named by the plan attribute it came from.
pub(crate) fn relabel(a: &Attrs<'_>, e: ConvertError) -> ConvertError {
    ConvertError {
        path: a.node.path.clone(),
        value: short(a.node.v),
        message: format!("as the cloud's API would read it: {}", e),
    }
}
