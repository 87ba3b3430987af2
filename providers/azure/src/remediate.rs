//! `netdrift revert --apply` on Azure: each step of a revert plan as the ARM call it names
//! (`securityRules` PUT with the rule's exact `properties`, or DELETE), through the same
//! azure_core pipeline and credential as collection; an asynchronous operation
//! (`Azure-AsyncOperation`) is followed until it ends. Throttling is retried by the pipeline; a
//! call that fails stops the plan.

use std::time::Duration;

use azure_core::Method;
use serde_json::Value;

use netdrift_provider_api::{Call, CallOutcome};
use netdrift_snapshots::Scope;

use crate::arm::Arm;
use crate::AzureSource;

const NSG_API: &str = "2024-03-01";

/// The actions `apply` uses, as docs/iam/azure-remediate.json grants them.
pub const REMEDIATION_ACTIONS: &[&str] = &[
    "Microsoft.Network/networkSecurityGroups/securityRules/write",
    "Microsoft.Network/networkSecurityGroups/securityRules/delete",
    "Microsoft.Network/locations/operations/read",
];

fn s<'a>(p: &'a Value, k: &str) -> Result<&'a str, String> {
    p.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{k}: expected a string"))
}

async fn one(arm: &Arm, scope: &Scope, c: &Call) -> Result<(), String> {
    let p = &c.params;
    let sub = s(p, "subscriptionId")?;
    if !sub.eq_ignore_ascii_case(scope.account()) {
        return Err(format!(
            "{sub} is not the item's subscription {}",
            scope.account()
        ));
    }
    let path = format!(
        "/subscriptions/{sub}/resourceGroups/{}/providers/Microsoft.Network/networkSecurityGroups/{}/securityRules/{}",
        s(p, "resourceGroupName")?,
        s(p, "networkSecurityGroupName")?,
        s(p, "securityRuleName")?
    );
    let mut url = arm
        .endpoint
        .join(&path)
        .map_err(|e| format!("{path}: {e}"))?;
    url.query_pairs_mut().append_pair("api-version", NSG_API);
    let (method, body) = match c.call.as_str() {
        "Microsoft.Network/networkSecurityGroups/securityRules/write" => {
            (Method::Put, Some(p.get("body").ok_or("body: missing")?))
        }
        "Microsoft.Network/networkSecurityGroups/securityRules/delete" => (Method::Delete, None),
        other => return Err(format!("{other} is not a call netdrift makes on Azure")),
    };
    let (asynch, _) = arm
        .send(&c.call, None, method, url, body)
        .await
        .map_err(|p| p.message)?;
    let Some(link) = asynch else {
        return Ok(());
    };
    let op = "Microsoft.Network/locations/operations/read";
    for _ in 0..60 {
        let url = azure_core::Url::parse(&link).map_err(|e| format!("{op}: {link}: {e}"))?;
        let (_, bytes) = arm
            .send(op, None, Method::Get, url, None)
            .await
            .map_err(|p| p.message)?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match v["status"].as_str().unwrap_or("InProgress") {
            "Succeeded" => return Ok(()),
            "Failed" | "Canceled" => {
                return Err(format!(
                    "{}: {}",
                    c.call,
                    v["error"]["message"]
                        .as_str()
                        .unwrap_or("the operation failed")
                ))
            }
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    Err(format!(
        "{}: the operation did not finish within a minute",
        c.call
    ))
}

pub async fn apply(src: &AzureSource, scope: &Scope, calls: &[Call]) -> Vec<CallOutcome> {
    let arm = match Arm::new(src) {
        Ok(a) => a,
        Err(p) => {
            return calls
                .iter()
                .map(|c| CallOutcome::failed(c, p.message.clone()))
                .collect()
        }
    };
    let mut out = Vec::new();
    let mut stopped = false;
    for c in calls {
        if stopped {
            out.push(CallOutcome::failed(
                c,
                "not made: an earlier call failed".into(),
            ));
            continue;
        }
        match one(&arm, scope, c).await {
            Ok(()) => out.push(CallOutcome::done(c, "done".into())),
            Err(e) => {
                stopped = true;
                out.push(CallOutcome::failed(c, e));
            }
        }
    }
    out
}
