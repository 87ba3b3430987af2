//! Azure Activity Log events: the REST schema (`operationName.value`, `caller`, `claims`,
//! `authorization.evidence`, `httpRequest.clientIpAddress`, `status.value`) and the
//! diagnostic-settings export schema (`time`, `resourceId`, upper-case `operationName` string,
//! `identity.{authorization, claims}`, `callerIpAddress`, `resultType`).

use serde_json::Value;

use std::borrow::Cow;

use serde_json::value::RawValue;

use netdrift_snapshots::{Actor, ActorType, AuditEvent, Provider, Record};

use super::{get, normalize_time, s, AuditParse};
use crate::json::Node;
use crate::ImportError;

/// Operations that change exposure (compared case-insensitively).
pub const CATALOGUE: &[&str] = &[
    "microsoft.network/networksecuritygroups/write",
    "microsoft.network/networksecuritygroups/delete",
    "microsoft.network/networksecuritygroups/securityrules/write",
    "microsoft.network/networksecuritygroups/securityrules/delete",
    "microsoft.network/networksecuritygroups/join/action",
    "microsoft.network/networkinterfaces/write",
    "microsoft.network/virtualnetworks/subnets/write",
];

/// What decides whether an Activity Log event is kept, read without building the event: its
/// `operationName`, an object (`{"value": ...}`, the REST schema) or a string (the export).
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(borrow, rename = "operationName")]
    operation: Option<&'a RawValue>,
}

#[derive(serde::Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    value: Option<Cow<'a, str>>,
}

/// Whether an event may be an exposure change: `false` only when its operation says it is not
/// (an event this cannot read is parsed in full, which says what is wrong).
fn may_be_relevant(raw: &RawValue) -> bool {
    let Ok(Head {
        operation: Some(op),
    }) = serde_json::from_str::<Head<'_>>(raw.get())
    else {
        return true;
    };
    let name = match serde_json::from_str::<Cow<'_, str>>(op.get()) {
        Ok(name) => name,
        Err(_) => match serde_json::from_str::<Named<'_>>(op.get()) {
            Ok(Named { value: Some(v) }) => v,
            _ => return true,
        },
    };
    name.is_empty() || CATALOGUE.contains(&name.to_ascii_lowercase().as_str())
}

/// An Activity Log export (`{"value": [...]}`, `{"records": [...]}`, an array or NDJSON): only
/// events whose operation is in the catalogue are parsed in full.
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
        envelope: &["value", "records"],
        relevant: may_be_relevant,
        parse: parse_event,
        // The start and the end of one operation: the request's payload, from whichever has it.
        merge: |into, other| {
            if into.payload.is_empty() {
                into.payload = other.payload;
            }
        },
    }
    .read(file, bytes, prefilter)
}

const UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
const NAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";

fn claim<'a>(claims: Option<&'a Value>, key: &str) -> Option<&'a str> {
    claims?.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// `Ok(None)`: a well-formed event that is not a network exposure change.
pub fn parse_event(rec: &Value) -> Result<Option<AuditEvent>, String> {
    let op =
        s(rec, &["operationName.value", "operationName"]).ok_or("event without operationName")?;
    let op_l = op.to_ascii_lowercase();
    if !CATALOGUE.contains(&op_l.as_str()) {
        return Ok(None);
    }
    let raw_time =
        s(rec, &["eventTimestamp", "time"]).ok_or("event without eventTimestamp or time")?;
    let time =
        normalize_time(raw_time).ok_or_else(|| format!("time {raw_time:?} is not a timestamp"))?;
    let resource = s(rec, &["resourceId"])
        .ok_or("event without resourceId")?
        .to_ascii_lowercase();
    let status = s(rec, &["status.value", "resultType", "status"])
        .unwrap_or("Unknown")
        .to_string();
    let outcome = match status.to_ascii_lowercase().as_str() {
        "succeeded" | "success" => "succeeded",
        "failed" | "failure" => "failed",
        _ => "pending",
    };
    let correlation = s(rec, &["correlationId"]).map(str::to_ascii_lowercase);
    let event_id = match (&correlation, s(rec, &["eventDataId"])) {
        (Some(c), _) => format!("azure:{c}:{op_l}:{outcome}"),
        (None, Some(id)) => format!("azure:{id}"),
        (None, None) => return Err("event without correlationId or eventDataId".into()),
    };
    let subscription = s(rec, &["subscriptionId"])
        .map(str::to_ascii_lowercase)
        .or_else(|| resource.split('/').nth(2).map(str::to_string));
    let mut resources = vec![resource.clone()];
    if let Some(i) = resource.find("/securityrules/") {
        resources.push(resource[..i].to_string());
    }
    let props = get(rec, &["properties"]);
    let body: Option<Value> = props
        .and_then(|p| p.get("requestbody").or_else(|| p.get("requestBody")))
        .and_then(|b| match b {
            Value::String(s) => serde_json::from_str(s).ok(),
            Value::Null => None,
            v => Some(v.clone()),
        });
    if body.as_ref().is_some_and(|b| !b.is_object()) {
        return Err("properties.requestbody is not a JSON object".into());
    }
    let mut payload = Vec::new();
    if let Some(b) = &body {
        if op_l.ends_with("securityrules/write") {
            let mut b = b.clone();
            if let Some(o) = b.as_object_mut() {
                o.entry("name").or_insert_with(|| {
                    Value::String(resource.rsplit('/').next().unwrap_or_default().to_string())
                });
            }
            if let Ok(rule) = crate::azure::security_rule(&Node::root(&b)) {
                payload.push(rule);
            }
        }
        if let Some(nsg) = s(b, &["properties.networkSecurityGroup.id"]) {
            resources.push(nsg.to_ascii_lowercase());
        }
    }
    let error = (outcome == "failed").then(|| {
        s(
            rec,
            &[
                "properties.statusMessage",
                "resultSignature",
                "subStatus.value",
            ],
        )
        .unwrap_or("Failed")
        .to_string()
    });
    Ok(Some(AuditEvent {
        provider: Provider::Azure,
        event_id,
        event_time: time,
        account: subscription,
        region: None,
        event_name: op.to_string(),
        resources,
        succeeded: outcome == "succeeded",
        error,
        actor: actor(rec),
        payload,
        payload_removes: op_l.ends_with("/delete"),
        issued_key: None,
        catalogued: outcome != "pending",
        raw: Some(Record::from_value(rec)),
    }))
}

fn actor(rec: &Value) -> Actor {
    let claims = get(rec, &["claims", "identity.claims"]);
    let caller = s(rec, &["caller"]).map(str::to_string);
    let idtyp = claim(claims, "idtyp");
    let appid = claim(claims, "appid");
    let upn = claim(claims, UPN);
    let is_guid = caller
        .as_deref()
        .is_some_and(|c| c.len() == 36 && c.chars().filter(|&ch| ch == '-').count() == 4);
    let kind = if idtyp == Some("app")
        || (upn.is_none() && (is_guid || appid.is_some() && caller.is_none()))
    {
        ActorType::ServiceAccount
    } else if caller.is_some() || upn.is_some() {
        ActorType::Human
    } else {
        ActorType::Unknown
    };
    let evidence = get(
        rec,
        &["authorization.evidence", "identity.authorization.evidence"],
    );
    let role = evidence.and_then(|e| s(e, &["role"])).map(str::to_string);
    let assignment = evidence
        .and_then(|e| s(e, &["roleAssignmentId"]))
        .map(
            |id| match evidence.and_then(|e| s(e, &["roleAssignmentScope"])) {
                Some(scope) => format!("{id} at {scope}"),
                None => id.to_string(),
            },
        );
    Actor {
        principal: caller
            .or(upn.map(str::to_string))
            .or(claim(claims, NAME).map(str::to_string)),
        kind: Some(kind),
        role,
        source_identity: None,
        identity_center_user: None,
        access_key_id: None,
        key_type: None,
        service_account_key: None,
        delegation_chain: Vec::new(),
        role_assignment: assignment,
        source_ip: s(rec, &["httpRequest.clientIpAddress", "callerIpAddress"])
            .map(str::to_string)
            .or(claim(claims, "ipaddr").map(str::to_string)),
        user_agent: None,
        tool: None,
        mfa: None,
        invoked_by: appid.map(|a| format!("appid {a}")),
    }
}
