//! GCP: a firewall rule patched back (JSON merge patch of the fields that decide access),
//! deleted when it was not approved, inserted again when it was deleted; a firewall policy's
//! rules (by priority) patched, removed or added through the policy's own calls.

use serde_json::{json, Map, Value};

use netdrift_provider_file::gcp::firewall_json;
use netdrift_snapshots::{
    Action, Direction, Peer, PolicyLevel, Ports, Protocol, Provider, Resource, Rule, Scope, Target,
};

use super::{check, sh, Op, Step};

/// Fields of a firewall that decide access (a description or a name does not).
const ACCESS: [&str; 10] = [
    "direction",
    "priority",
    "disabled",
    "sourceRanges",
    "destinationRanges",
    "sourceTags",
    "sourceServiceAccounts",
    "targetTags",
    "targetServiceAccounts",
    "allowed",
];

fn step(scope: &Scope, call: &str, params: Value, why: String, command: String) -> Step {
    Step {
        provider: Provider::Gcp,
        scope: scope.key(),
        region: None,
        call: call.into(),
        params,
        why,
        command,
    }
}

fn rules_flag(entries: &Value) -> String {
    entries
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let p = e["IPProtocol"].as_str().unwrap_or("all");
            match e["ports"].as_array() {
                Some(ports) if !ports.is_empty() => ports
                    .iter()
                    .map(|x| format!("{p}:{}", x.as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(","),
                _ => p.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn list(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// A VPC firewall rule.
pub(super) fn firewall(
    scope: &Scope,
    baseline: Option<&Resource>,
    actual: Option<&Resource>,
) -> Result<Vec<Step>, String> {
    let project = scope.account();
    let name_of = |r: &Resource| {
        r.name
            .clone()
            .unwrap_or_else(|| r.id.as_str().rsplit('/').next().unwrap_or("").to_string())
    };
    match (baseline, actual) {
        (None, Some(a)) => {
            let name = name_of(a);
            Ok(vec![step(
                scope,
                "compute.firewalls.delete",
                json!({"project": project, "firewall": name}),
                format!("delete {name}: it is not in the approved baseline"),
                format!(
                    "gcloud compute firewall-rules delete {} --project {} --quiet",
                    sh(&name),
                    sh(project)
                ),
            )])
        }
        (Some(b), None) => {
            let name = name_of(b);
            let body = firewall_json(b);
            let action = if body.get("denied").is_some() {
                "DENY"
            } else {
                "ALLOW"
            };
            let entries = body
                .get("denied")
                .or(body.get("allowed"))
                .cloned()
                .unwrap_or_default();
            let mut cmd = format!(
                "gcloud compute firewall-rules create {} --project {} --network {} --direction {} --priority {} --action {action} --rules {}",
                sh(&name),
                sh(project),
                sh(body["network"].as_str().unwrap_or("default")),
                body["direction"].as_str().unwrap_or("INGRESS"),
                body["priority"].as_u64().unwrap_or(1000),
                sh(&rules_flag(&entries)),
            );
            for (k, flag) in [
                ("sourceRanges", "--source-ranges"),
                ("destinationRanges", "--destination-ranges"),
                ("sourceTags", "--source-tags"),
                ("targetTags", "--target-tags"),
                ("sourceServiceAccounts", "--source-service-accounts"),
                ("targetServiceAccounts", "--target-service-accounts"),
            ] {
                if let Some(v) = body.get(k) {
                    cmd += &format!(" {flag} {}", sh(&list(v)));
                }
            }
            if body["disabled"] == json!(true) {
                cmd += " --disabled";
            }
            Ok(vec![step(
                scope,
                "compute.firewalls.insert",
                json!({"project": project, "body": body}),
                format!("insert {name} again as approved: it was deleted"),
                cmd,
            )])
        }
        (Some(b), Some(a)) => {
            let (bj, aj) = (firewall_json(b), firewall_json(a));
            let name = name_of(a);
            let mut patch = Map::new();
            for k in ACCESS.iter().copied().chain(["denied"]) {
                if bj.get(k) != aj.get(k) {
                    patch.insert(k.into(), bj.get(k).cloned().unwrap_or(Value::Null));
                }
            }
            if patch.is_empty() {
                return Ok(Vec::new());
            }
            let mut cmd = format!(
                "gcloud compute firewall-rules update {} --project {}",
                sh(&name),
                sh(project)
            );
            for (k, v) in &patch {
                cmd += &match k.as_str() {
                    "priority" => format!(" --priority {}", v),
                    "disabled" if v == &json!(true) => " --disabled".into(),
                    "disabled" => " --no-disabled".into(),
                    "allowed" | "denied" if !v.is_null() => {
                        format!(" --rules {}", sh(&rules_flag(v)))
                    }
                    "sourceRanges" => format!(" --source-ranges {}", sh(&list(v))),
                    "destinationRanges" => format!(" --destination-ranges {}", sh(&list(v))),
                    "sourceTags" => format!(" --source-tags {}", sh(&list(v))),
                    "targetTags" => format!(" --target-tags {}", sh(&list(v))),
                    "sourceServiceAccounts" => {
                        format!(" --source-service-accounts {}", sh(&list(v)))
                    }
                    "targetServiceAccounts" => {
                        format!(" --target-service-accounts {}", sh(&list(v)))
                    }
                    _ => String::new(),
                };
            }
            let fields: Vec<&str> = patch.keys().map(String::as_str).collect();
            Ok(vec![step(
                scope,
                "compute.firewalls.patch",
                json!({"project": project, "firewall": name, "body": Value::Object(patch.clone())}),
                format!(
                    "set {} of {name} back to the approved values",
                    fields.join(", ")
                ),
                cmd,
            )])
        }
        (None, None) => Ok(Vec::new()),
    }
}

/// A firewall policy rule's REST body from its model rules (one per `layer4Configs` entry).
fn policy_rule_json(rules: &[&Rule]) -> Value {
    let first = rules[0];
    let ingress = first.direction == Direction::Ingress;
    let (remote, local) = if ingress {
        ("src", "dest")
    } else {
        ("dest", "src")
    };
    let mut m = Map::new();
    let mut put = |k: String, v: Vec<Value>| {
        if !v.is_empty() {
            m.insert(k, Value::Array(v));
        }
    };
    let mut cidrs = Vec::new();
    let mut tags = Vec::new();
    let mut sym: std::collections::BTreeMap<&str, Vec<Value>> = Default::default();
    for p in &first.peers {
        match p {
            Peer::Cidr(c) => cidrs.push(json!(c.to_string())),
            Peer::Tag(t) => tags.push(json!({"name": t})),
            Peer::ServiceTag(s) => {
                for (prefix, key) in [
                    ("address-group:", "AddressGroups"),
                    ("fqdn:", "Fqdns"),
                    ("region-code:", "RegionCodes"),
                    ("threat-intel:", "ThreatIntelligences"),
                ] {
                    if let Some(v) = s.strip_prefix(prefix) {
                        sym.entry(key).or_default().push(json!(v));
                    }
                }
            }
            _ => {}
        }
    }
    put(format!("{remote}IpRanges"), cidrs);
    put(format!("{remote}SecureTags"), tags);
    for (k, v) in sym {
        put(format!("{remote}{k}"), v);
    }
    let mut local_cidrs = Vec::new();
    let (mut sas, mut ttags, mut nets) = (Vec::new(), Vec::new(), Vec::new());
    for t in &first.targets {
        match t {
            Target::Cidr(c) => local_cidrs.push(json!(c.to_string())),
            Target::ServiceAccount(s) => sas.push(json!(s)),
            Target::Tag(t) => ttags.push(json!({"name": t})),
            Target::Network(n) => {
                nets.push(json!(format!("https://www.googleapis.com/compute/v1/{n}")))
            }
            _ => {}
        }
    }
    put(format!("{local}IpRanges"), local_cidrs);
    let l4: Vec<Value> = rules
        .iter()
        .map(|r| {
            let proto = match r.protocol {
                Protocol::All => "all".to_string(),
                Protocol::Number(6) => "tcp".into(),
                Protocol::Number(17) => "udp".into(),
                Protocol::Number(1) => "icmp".into(),
                Protocol::Number(n) => n.to_string(),
            };
            let mut e = json!({"ipProtocol": proto});
            if let Ports::Ranges { ranges } = &r.ports {
                e["ports"] = json!(ranges
                    .iter()
                    .map(|p| if p.from == p.to {
                        p.from.to_string()
                    } else {
                        format!("{}-{}", p.from, p.to)
                    })
                    .collect::<Vec<_>>());
            }
            e
        })
        .collect();
    m.insert("layer4Configs".into(), Value::Array(l4));
    let mut body = json!({
        "priority": first.priority.unwrap_or(0),
        "action": match first.action { Action::Allow => "allow", Action::Deny => "deny", Action::GotoNext => "goto_next" },
        "direction": if ingress { "INGRESS" } else { "EGRESS" },
        "disabled": !first.enabled,
        "match": Value::Object(m),
    });
    if !sas.is_empty() {
        body["targetServiceAccounts"] = Value::Array(sas);
    }
    if !ttags.is_empty() {
        body["targetSecureTags"] = Value::Array(ttags);
    }
    if !nets.is_empty() {
        body["targetResources"] = Value::Array(nets);
    }
    if let Some(n) = &first.name {
        body["ruleName"] = json!(n);
    }
    body
}

fn gcloud_rule_flags(body: &Value) -> String {
    let m = &body["match"];
    let mut s = format!(
        " --action {} --direction {}",
        body["action"].as_str().unwrap_or("allow"),
        body["direction"].as_str().unwrap_or("INGRESS")
    );
    let l4: Vec<String> = m["layer4Configs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let p = e["ipProtocol"].as_str().unwrap_or("all");
            match e["ports"].as_array() {
                Some(ps) if !ps.is_empty() => format!(
                    "{p}:{}",
                    ps.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                _ => p.to_string(),
            }
        })
        .collect();
    s += &format!(" --layer4-configs {}", sh(&l4.join(",")));
    for (k, flag) in [
        ("srcIpRanges", "--src-ip-ranges"),
        ("destIpRanges", "--dest-ip-ranges"),
    ] {
        if let Some(v) = m.get(k) {
            s += &format!(" {flag} {}", sh(&list(v)));
        }
    }
    if let Some(v) = body.get("targetServiceAccounts") {
        s += &format!(" --target-service-accounts {}", sh(&list(v)));
    }
    s += if body["disabled"] == json!(true) {
        " --disabled"
    } else {
        " --no-disabled"
    };
    s
}

/// (priority, the actual rules, the approved rules) of a priority that differs.
type RuleDiff = (u32, Option<Vec<Rule>>, Option<Vec<Rule>>);

/// A firewall policy: its rules by priority (in the item's direction).
pub(super) fn policy(
    scope: &Scope,
    direction: Direction,
    baseline: Option<&Resource>,
    actual: Option<&Resource>,
) -> Result<Vec<Step>, String> {
    let (Some(actual), Some(baseline)) = (actual, baseline) else {
        return Err(match actual {
            None => "the firewall policy was deleted: recreate it from the baseline (`netdrift baseline export`) and associate it again".into(),
            Some(_) => "the firewall policy was not approved: there is no approved state to restore; approve it or remove its association".into(),
        });
    };
    let id = actual.id.as_str();
    let name = id.rsplit('/').next().unwrap_or(id);
    let (call_base, target, cli) = match actual.policy.as_ref().map(|p| &p.level) {
        Some(PolicyLevel::Hierarchical { .. }) => (
            "compute.firewallPolicies",
            json!({"firewallPolicy": name}),
            format!("gcloud compute firewall-policies rules {{op}} {{prio}} --firewall-policy {}", sh(name)),
        ),
        Some(PolicyLevel::Regional { region }) => (
            "compute.regionNetworkFirewallPolicies",
            json!({"project": scope.account(), "region": region, "firewallPolicy": name}),
            format!(
                "gcloud compute network-firewall-policies rules {{op}} {{prio}} --firewall-policy {} --firewall-policy-region {} --project {}",
                sh(name), sh(region), sh(scope.account())
            ),
        ),
        _ => (
            "compute.networkFirewallPolicies",
            json!({"project": scope.account(), "firewallPolicy": name}),
            format!(
                "gcloud compute network-firewall-policies rules {{op}} {{prio}} --firewall-policy {} --global-firewall-policy --project {}",
                sh(name), sh(scope.account())
            ),
        ),
    };
    let by_prio = |r: &Resource| -> std::collections::BTreeMap<u32, Vec<Rule>> {
        let mut m: std::collections::BTreeMap<u32, Vec<Rule>> = Default::default();
        for x in r
            .rules
            .iter()
            .filter(|x| x.direction == direction && !x.default_rule)
        {
            m.entry(x.priority.unwrap_or(0))
                .or_default()
                .push(x.clone());
        }
        m
    };
    let (a, b) = (by_prio(actual), by_prio(baseline));
    let key = |v: Option<&Vec<Rule>>| {
        let mut k: Vec<Rule> = v
            .into_iter()
            .flatten()
            .map(netdrift_snapshots::canonical::access_rule)
            .collect();
        k.sort();
        k
    };
    let mut diffs: Vec<RuleDiff> = Vec::new();
    for p in a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        if key(a.get(p)) != key(b.get(p)) {
            diffs.push((*p, a.get(p).cloned(), b.get(p).cloned()));
        }
    }
    let denies = |v: &Option<Vec<Rule>>| {
        v.as_ref()
            .is_some_and(|v| v.iter().any(|r| r.action == Action::Deny))
    };
    diffs.sort_by_key(|(p, x, y)| (!denies(y), y.is_some() || denies(x), *p));
    let ops: Vec<Op> = diffs
        .iter()
        .flat_map(|(_, x, y)| {
            x.iter()
                .flatten()
                .map(|r| Op::Remove(r.clone()))
                .chain(y.iter().flatten().map(|r| Op::Add(r.clone())))
                .collect::<Vec<_>>()
        })
        .collect();
    check(actual, baseline, direction, &ops)?;
    let mut steps = Vec::new();
    for (p, x, y) in &diffs {
        let mut params = target.clone();
        let cmd = |op: &str| cli.replace("{op}", op).replace("{prio}", &p.to_string());
        steps.push(match (x, y) {
            (Some(_), None) => {
                params["priority"] = json!(p);
                step(
                    scope,
                    &format!("{call_base}.removeRule"),
                    params,
                    format!("remove rule {p}: it is not in the approved baseline"),
                    cmd("delete"),
                )
            }
            (x, Some(y)) => {
                let refs: Vec<&Rule> = y.iter().collect();
                let body = policy_rule_json(&refs);
                let flags = gcloud_rule_flags(&body);
                params["body"] = body;
                if x.is_some() {
                    params["priority"] = json!(p);
                    step(
                        scope,
                        &format!("{call_base}.patchRule"),
                        params,
                        format!("set rule {p} back to the approved one"),
                        format!("{}{flags}", cmd("update")),
                    )
                } else {
                    step(
                        scope,
                        &format!("{call_base}.addRule"),
                        params,
                        format!("add rule {p} again as approved: it was removed"),
                        format!("{}{flags}", cmd("create")),
                    )
                }
            }
            (None, None) => unreachable!("a difference has a side"),
        });
    }
    Ok(steps)
}
