//! Drift items as OCSF Detection Findings (class 2004), one JSON object per line, for a SIEM or
//! a security lake. Targets OCSF 1.3.0: <https://schema.ocsf.io/1.3.0/classes/detection_finding>.
//! The actor of each change goes into `evidences[].actor` with the API call and source endpoint;
//! netdrift's own fields (access added and removed, exposure flags, controls) into `unmapped`.

use anyhow::Result;
use serde_json::{json, Value};

use netdrift_snapshots::{Provider, Severity};

use super::headline;
use crate::findings::AttributionStatus;
use crate::findings::{DriftItem, DriftReport};
use chrono::{DateTime, Utc};

pub const OCSF_VERSION: &str = "1.3.0";
pub const CLASS_UID: u32 = 2004;

fn severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// OCSF times are epoch milliseconds.
fn millis(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// One drift item as a Detection Finding.
pub fn finding(i: &DriftItem, generated_at: &DateTime<Utc>) -> Value {
    let (severity_id, severity_name) = severity(i.severity);
    let (status_id, status) = if i.exception.is_some() {
        (3, "Suppressed")
    } else {
        (1, "New")
    };
    let account = Some(i.scope.scope().account().to_string());
    let cloud_provider = match i.provider {
        Provider::Aws => "AWS",
        Provider::Gcp => "GCP",
        Provider::Azure => "Azure",
    };
    let time = millis(&i.snapshot_taken_at);
    let attribution = i.attribution.as_ref();
    let confidence = attribution.map(|a| match a.status {
        AttributionStatus::Exact => (3, "High"),
        AttributionStatus::Probable => (2, "Medium"),
        AttributionStatus::Unattributed => (1, "Low"),
    });
    let evidences: Vec<Value> = attribution
        .map(|a| {
            a.actors
                .iter()
                .map(|x| {
                    json!({
                        "actor": {
                            "user": {
                                "name": x.principal,
                                "uid": x.principal,
                                "type": x.kind,
                                "credential_uid": x.access_key_id,
                            },
                            "session": x.role.as_ref().map(|r| json!({"issuer": r})),
                            "invoked_by": x.tool,
                        },
                        "api": {
                            "operation": x.event_name,
                            "request": {"uid": x.event_id},
                            "response": x.error.as_ref().map(|e| json!({"error": e})),
                        },
                        "src_endpoint": x.source_ip.as_ref().map(|ip| json!({"ip": ip})),
                        "http_request": x.user_agent.as_ref().map(|ua| json!({"user_agent": ua})),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let related: Vec<Value> = attribution
        .map(|a| {
            a.actors
                .iter()
                .map(|x| json!({"uid": x.event_id, "type": x.event_name, "time": millis(&x.event_time)}))
                .collect()
        })
        .unwrap_or_default();
    let mut v = json!({
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + 1,
        "type_name": "Detection Finding: Create",
        "time": time,
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": status_id,
        "status": status,
        "confidence_id": confidence.map(|c| c.0),
        "confidence": confidence.map(|c| c.1),
        "message": format!("{} {}: {}", i.provider, i.resource, headline(i)),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "netdrift", "vendor_name": "netdrift", "version": env!("CARGO_PKG_VERSION")},
            "uid": i.id,
            "processed_time": millis(generated_at),
        },
        "finding_info": {
            "uid": i.id,
            "title": format!("Firewall drift: {} {}", i.resource, i.direction.as_str()),
            "desc": i.reasons.join("; "),
            "types": ["Cloud Firewall Drift", i.severity_code],
            "created_time": time,
            "analytic": {"name": "netdrift baseline drift", "type_id": 1, "type": "Rule", "uid": i.severity_code},
            "attacks": [{
                "tactic": {"uid": "TA0005", "name": "Defense Evasion"},
                "technique": {"uid": "T1562.007", "name": "Impair Defenses: Disable or Modify Cloud Firewall"},
            }],
            "related_events": related,
        },
        "cloud": {
            "provider": cloud_provider,
            "region": i.region,
            "account": account.map(|a| json!({"uid": a})),
        },
        "resources": [{
            "uid": i.resource,
            "name": i.resource_name,
            "type": i.resource_kind,
            "region": i.region,
            "data": {"network": i.network, "attached": i.attached},
        }],
        "evidences": if evidences.is_empty() { Value::Null } else { Value::Array(evidences) },
        "remediation": remediation(i),
        "unmapped": {
            "netdrift": {
                "scope": i.scope,
                "direction": i.direction,
                "change": i.change,
                "effect": i.effect,
                "newly_allowed": i.newly_allowed.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                "newly_denied": i.newly_denied.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                "world": i.world,
                "public": i.public,
                "attribution": attribution.map(|a| json!({"status": a.status, "reason": a.reason})),
                "exception": i.exception,
                "controls": crate::controls::item_control_ids(i),
            }
        },
    });
    strip_nulls(&mut v);
    v
}

/// Every drift item, one Detection Finding per line.
pub fn render(report: &DriftReport) -> Result<String> {
    let mut out = String::new();
    for i in &report.drift {
        out += &serde_json::to_string(&finding(i, &report.generated_at))?;
        out.push('\n');
    }
    Ok(out)
}

/// OCSF `remediation`: what to run next (`desc`, required by the object).
fn remediation(i: &DriftItem) -> Value {
    let next = super::next_commands(i);
    let desc = match (&i.exception, next.as_slice()) {
        (Some(e), _) => format!(
            "Covered by {} ({}, until {}): nothing to do before it expires.",
            e.label(),
            e.owner,
            netdrift_snapshots::time::secs(e.expires_at)
        ),
        (None, [revert, except, approve]) => format!(
            "Restore the approved access: `{revert}` prints the minimal calls (or why none can be given). \
             Or accept it for a while: `{except}`. Or approve the new state: `{approve}`."
        ),
        (None, _) => "A cosmetic change: nothing to restore.".to_string(),
    };
    serde_json::json!({ "desc": desc })
}
