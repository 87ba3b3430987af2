//! GCP Cloud Audit Logs (Admin Activity) `LogEntry` records for Compute Engine firewalls and
//! firewall policies. Also accepts the renamed keys some pipelines produce (`protopayload`,
//! `insertid`, `at_sign_type`, space-separated timestamps).

use serde_json::Value;

use std::borrow::Cow;

use netdrift_snapshots::{Actor, ActorType, AuditEvent, Provider, Record};

use super::{get, normalize_time, s, AuditParse};
use crate::json::Node;
use crate::ImportError;

/// Method suffixes (after `v1.`/`beta.`/`alpha.` `compute.`) that change exposure.
pub const CATALOGUE: &[&str] = &[
    "firewalls.insert",
    "firewalls.patch",
    "firewalls.update",
    "firewalls.delete",
    "firewallPolicies.insert",
    "firewallPolicies.patch",
    "firewallPolicies.delete",
    "firewallPolicies.addRule",
    "firewallPolicies.patchRule",
    "firewallPolicies.removeRule",
    "firewallPolicies.addAssociation",
    "firewallPolicies.removeAssociation",
    "networkFirewallPolicies.insert",
    "networkFirewallPolicies.patch",
    "networkFirewallPolicies.delete",
    "networkFirewallPolicies.addRule",
    "networkFirewallPolicies.patchRule",
    "networkFirewallPolicies.removeRule",
    "networkFirewallPolicies.addAssociation",
    "networkFirewallPolicies.removeAssociation",
    "regionNetworkFirewallPolicies.insert",
    "regionNetworkFirewallPolicies.patch",
    "regionNetworkFirewallPolicies.delete",
    "regionNetworkFirewallPolicies.addRule",
    "regionNetworkFirewallPolicies.patchRule",
    "regionNetworkFirewallPolicies.removeRule",
    "regionNetworkFirewallPolicies.addAssociation",
    "regionNetworkFirewallPolicies.removeAssociation",
    "instances.setTags",
    "instances.setServiceAccount",
];

/// `v1.compute.firewalls.insert` → `firewalls.insert`, when it is a Compute method.
pub fn method_suffix(method: &str) -> Option<&str> {
    let rest = method
        .strip_prefix("v1.")
        .or(method.strip_prefix("beta."))
        .or(method.strip_prefix("alpha."))?;
    rest.strip_prefix("compute.")
}

/// What decides whether a LogEntry is kept, read without building the entry.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(borrow, rename = "protoPayload", alias = "protopayload")]
    proto: Option<HeadPayload<'a>>,
}

#[derive(serde::Deserialize)]
struct HeadPayload<'a> {
    #[serde(borrow, rename = "methodName")]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "serviceName")]
    service: Option<Cow<'a, str>>,
}

/// Whether an entry may be a Compute exposure change: `false` only when its method and service
/// say it is not (an entry this cannot read is parsed in full, which says what is wrong).
fn may_be_relevant(raw: &serde_json::value::RawValue) -> bool {
    match serde_json::from_str::<Head<'_>>(raw.get()) {
        Ok(Head {
            proto:
                Some(HeadPayload {
                    method: Some(m),
                    service,
                }),
        }) if !m.is_empty() => {
            method_suffix(&m).is_some_and(|s| CATALOGUE.contains(&s))
                && service.as_deref() == Some("compute.googleapis.com")
        }
        _ => true,
    }
}

/// A GCP audit export (an array, `{"entries": [...]}` or NDJSON): only entries whose method is
/// in the catalogue are parsed in full, the rest are judged by their method and service alone.
pub fn parse_file(file: &str, bytes: &[u8]) -> Result<AuditParse, ImportError> {
    parse(file, bytes, true)
}

/// The same file read by the general reader, every record built and parsed in full: what
/// `parse_file` must agree with (the tests compare the two on every sample).
#[doc(hidden)]
pub fn parse_file_in_full(file: &str, bytes: &[u8]) -> Result<AuditParse, ImportError> {
    parse(file, bytes, false)
}

fn parse(file: &str, bytes: &[u8], prefilter: bool) -> Result<AuditParse, ImportError> {
    super::raw::Reader {
        envelope: &["entries"],
        relevant: may_be_relevant,
        parse: parse_entry,
        // First and last entries of one operation are one change.
        merge,
    }
    .read(file, bytes, prefilter)
}

/// Merge the two entries of one long-running operation.
pub fn merge(into: &mut AuditEvent, other: AuditEvent) {
    if into.payload.is_empty() {
        into.payload = other.payload;
    }
    into.succeeded = into.succeeded && other.succeeded;
    if into.error.is_none() {
        into.error = other.error;
    }
    for r in other.resources {
        if !into.resources.contains(&r) {
            into.resources.push(r);
        }
    }
    into.event_time = into.event_time.min(other.event_time);
}

fn payload_removes_rule(suffix: &str) -> bool {
    suffix.ends_with("removeRule") || suffix.ends_with("delete")
}

/// Parse one LogEntry. `Ok(None)`: well-formed but not a Compute exposure change.
pub fn parse_entry(rec: &Value) -> Result<Option<AuditEvent>, String> {
    let pp = get(rec, &["protoPayload", "protopayload"]).ok_or("entry without protoPayload")?;
    let method = s(pp, &["methodName"]).ok_or("entry without protoPayload.methodName")?;
    let service = s(pp, &["serviceName"]).unwrap_or_default();
    let Some(suffix) = method_suffix(method) else {
        return Ok(None);
    };
    if service != "compute.googleapis.com" || !CATALOGUE.contains(&suffix) {
        return Ok(None);
    }
    let raw_time = s(rec, &["timestamp", "receiveTimestamp", "receivetimestamp"])
        .ok_or("entry without timestamp")?;
    let time = normalize_time(raw_time)
        .ok_or_else(|| format!("timestamp {raw_time:?} is not a timestamp"))?;
    let op = s(rec, &["operation.id"]);
    let insert = s(rec, &["insertId", "insertid"]);
    let event_id = match (op, insert) {
        (Some(op), _) => format!("gcp:op:{op}"),
        (None, Some(i)) => format!("gcp:{i}"),
        (None, None) => return Err("entry without operation.id or insertId".into()),
    };
    let project = s(rec, &["resource.labels.project_id"]).map(str::to_string);
    let resource_name = s(pp, &["resourceName"]).unwrap_or_default();
    let mut resources = Vec::new();
    if !resource_name.is_empty() {
        resources.push(
            resource_name
                .trim_start_matches("//compute.googleapis.com/")
                .to_string(),
        );
    }
    if let (Some(p), Some(name)) = (&project, resource_name.rsplit('/').next()) {
        if suffix.starts_with("firewalls.") && !resource_name.starts_with("projects/") {
            resources.push(format!("projects/{p}/global/firewalls/{name}"));
        }
    }
    let status_code = get(pp, &["status.code"])
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let error =
        (status_code != 0).then(|| s(pp, &["status.message"]).unwrap_or("failed").to_string());
    let severity_error = s(rec, &["severity"]).is_some_and(|s| s == "ERROR");
    let succeeded = error.is_none() && !severity_error;
    let mut payload = Vec::new();
    let request = get(pp, &["request"]);
    if request.is_some_and(|r| !r.is_object()) {
        return Err("protoPayload.request is not a JSON object".into());
    }
    // A patch body holds only the fields it changes: attribution applies it onto the rule's
    // prior state (`patched_firewall`); read alone, its defaults would invent a source range.
    if suffix == "firewalls.insert" || suffix == "firewalls.update" {
        if let Some(req) = request {
            let mut body = req.clone();
            if let (Some(o), Some(n)) = (body.as_object_mut(), resource_name.rsplit('/').next()) {
                o.entry("name")
                    .or_insert_with(|| Value::String(n.to_string()));
            }
            let proj = project.clone().unwrap_or_default();
            if let Ok(r) = crate::gcp::firewall(&Node::root(&body), &proj) {
                payload = r.rules;
            }
        }
    }
    // Firewall-policy writes: the rule added or patched, or the rules of a policy written whole.
    if suffix.contains("irewallPolicies.") && !payload_removes_rule(suffix) {
        if let Some(req) = get(pp, &["request"]) {
            let proj = project.clone().unwrap_or_default();
            let level = netdrift_snapshots::PolicyLevel::Network;
            let rule_bodies: Vec<&Value> =
                if suffix.ends_with("addRule") || suffix.ends_with("patchRule") {
                    vec![req.get("firewallPolicyRule").unwrap_or(req)]
                        .into_iter()
                        .filter(|b| b.is_object())
                        .collect()
                } else {
                    req.get("rules")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().collect())
                        .unwrap_or_default()
                };
            for b in rule_bodies {
                if b.get("match").is_none() {
                    continue;
                }
                if let Ok(rules) = crate::gcp_policy::policy_rule(&Node::root(b), &proj, &level) {
                    payload.extend(rules);
                }
            }
        }
    }
    Ok(Some(AuditEvent {
        provider: Provider::Gcp,
        event_id,
        event_time: time,
        account: project,
        region: s(rec, &["resource.labels.region"]).map(str::to_string),
        event_name: method.to_string(),
        resources,
        succeeded,
        error: error.or(severity_error.then(|| "severity ERROR".to_string())),
        actor: actor(pp),
        payload,
        payload_removes: suffix.ends_with("delete") || suffix.ends_with("removeRule"),
        issued_key: None,
        catalogued: true,
        raw: Some(Record::from_value(rec)),
    }))
}

fn actor(pp: &Value) -> Actor {
    let email = s(pp, &["authenticationInfo.principalEmail"]).map(str::to_string);
    let subject = s(pp, &["authenticationInfo.principalSubject"]).map(str::to_string);
    let mut chain = Vec::new();
    if let Some(Value::Array(d)) = get(pp, &["authenticationInfo.serviceAccountDelegationInfo"]) {
        for x in d {
            if let Some(p) = s(
                x,
                &[
                    "firstPartyPrincipal.principalEmail",
                    "thirdPartyPrincipal.thirdPartyClaims.email",
                ],
            ) {
                chain.push(p.to_string());
            }
        }
    }
    let kind = match &email {
        Some(e) if e.ends_with(".gserviceaccount.com") => ActorType::ServiceAccount,
        Some(_) => ActorType::Human,
        None => ActorType::Unknown,
    };
    let ua = s(pp, &["requestMetadata.callerSuppliedUserAgent"]).map(str::to_string);
    Actor {
        principal: email.or(subject),
        kind: Some(kind),
        role: None,
        source_identity: None,
        identity_center_user: None,
        access_key_id: None,
        key_type: None,
        service_account_key: s(pp, &["authenticationInfo.serviceAccountKeyName"])
            .map(str::to_string),
        delegation_chain: chain,
        role_assignment: None,
        source_ip: s(
            pp,
            &["requestMetadata.callerIp", "requestMetadata.callerIP"],
        )
        .map(str::to_string),
        tool: ua
            .as_deref()
            .and_then(netdrift_snapshots::audit::tool_from_user_agent)
            .map(str::to_string),
        user_agent: ua,
        mfa: None,
        invoked_by: None,
    }
}

/// The body of a `firewalls.patch` entry, for applying onto the rule's prior state.
pub fn patch_body(ev: &AuditEvent) -> Option<Value> {
    if !ev.event_name.ends_with("firewalls.patch") {
        return None;
    }
    get(
        &ev.record(),
        &["protoPayload.request", "protopayload.request"],
    )
    .filter(|r| r.is_object())
    .cloned()
}
