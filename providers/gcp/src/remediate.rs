//! `netdrift revert --apply` on GCP: each step of a revert plan as the Compute REST call it
//! names, with its exact JSON body (a `firewalls.patch` is a JSON merge patch whose `null`
//! removes a field, which a typed client cannot send), over the same credentials; the
//! operation each call starts is followed until it is done. A write is retried only when it was
//! refused for quota (429, so it was not made); anything else stops the plan.

use std::time::Duration;

use serde_json::Value;

use netdrift_provider_api::{Call, CallOutcome};
use netdrift_snapshots::Scope;

use crate::compute::Clients;
use crate::GcpSource;

/// The permissions `apply` uses, as docs/iam/gcp-remediate.json grants them.
pub const REMEDIATION_PERMISSIONS: &[&str] = &[
    "compute.firewalls.create",
    "compute.firewalls.update",
    "compute.firewalls.delete",
    "compute.networks.updatePolicy",
    "compute.firewallPolicies.update",
    "compute.networkFirewallPolicies.update",
    "compute.regionNetworkFirewallPolicies.update",
    "compute.globalOperations.get",
    "compute.regionOperations.get",
    "compute.globalOrganizationOperations.get",
];

fn s<'a>(p: &'a Value, k: &str) -> Result<&'a str, String> {
    p.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{k}: expected a string"))
}

fn priority(p: &Value) -> Result<String, String> {
    p.get("priority")
        .and_then(Value::as_u64)
        .map(|n| n.to_string())
        .ok_or_else(|| "priority: expected a number".into())
}

/// (HTTP method, URL under the Compute base, body) of one step.
fn request(base: &str, c: &Call) -> Result<(reqwest::Method, String, Option<Value>), String> {
    use reqwest::Method;
    let p = &c.params;
    let body = p.get("body").cloned();
    let (family, verb) = c
        .call
        .rsplit_once('.')
        .ok_or_else(|| format!("{} is not a Compute method", c.call))?;
    let policy_url = |rest: &str| -> Result<String, String> {
        Ok(match family {
            "compute.firewallPolicies" => {
                format!(
                    "{base}/locations/global/firewallPolicies/{}/{rest}",
                    s(p, "firewallPolicy")?
                )
            }
            "compute.networkFirewallPolicies" => format!(
                "{base}/projects/{}/global/firewallPolicies/{}/{rest}",
                s(p, "project")?,
                s(p, "firewallPolicy")?
            ),
            "compute.regionNetworkFirewallPolicies" => format!(
                "{base}/projects/{}/regions/{}/firewallPolicies/{}/{rest}",
                s(p, "project")?,
                s(p, "region")?,
                s(p, "firewallPolicy")?
            ),
            other => return Err(format!("{other} is not a firewall policy family")),
        })
    };
    Ok(match (family, verb) {
        ("compute.firewalls", "patch") => (
            Method::PATCH,
            format!(
                "{base}/projects/{}/global/firewalls/{}",
                s(p, "project")?,
                s(p, "firewall")?
            ),
            body,
        ),
        ("compute.firewalls", "delete") => (
            Method::DELETE,
            format!(
                "{base}/projects/{}/global/firewalls/{}",
                s(p, "project")?,
                s(p, "firewall")?
            ),
            None,
        ),
        ("compute.firewalls", "insert") => (
            Method::POST,
            format!("{base}/projects/{}/global/firewalls", s(p, "project")?),
            body,
        ),
        (_, "patchRule") => (
            Method::POST,
            policy_url(&format!("patchRule?priority={}", priority(p)?))?,
            body,
        ),
        (_, "removeRule") => (
            Method::POST,
            policy_url(&format!("removeRule?priority={}", priority(p)?))?,
            None,
        ),
        (_, "addRule") => (Method::POST, policy_url("addRule")?, body),
        _ => return Err(format!("{} is not a call netdrift makes on GCP", c.call)),
    })
}

/// The Compute base URL: the endpoint override's, else Google's.
fn base(src: &GcpSource) -> String {
    match &src.endpoint_url {
        Some(u) => format!("{}/compute/v1", u.trim_end_matches('/')),
        None => "https://compute.googleapis.com/compute/v1".into(),
    }
}

/// Follow an operation until it is done; its error, if any, is the call's failure.
async fn wait(clients: &Clients, base: &str, op: &str, mut o: Value) -> Result<(), String> {
    for _ in 0..60 {
        if let Some(e) = o.pointer("/error/errors/0/message").and_then(Value::as_str) {
            return Err(format!("{op}: {e}"));
        }
        if o.get("status")
            .and_then(Value::as_str)
            .is_none_or(|st| st == "DONE")
        {
            return Ok(());
        }
        let link = o
            .get("selfLink")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{op}: the operation has no selfLink"))?;
        let path = link.split("/compute/v1").nth(1).unwrap_or(link);
        tokio::time::sleep(Duration::from_secs(1)).await;
        o = clients
            .rest
            .write(op, reqwest::Method::GET, &format!("{base}{path}"), None)
            .await
            .map_err(|p| p.message)?;
    }
    Err(format!(
        "{op}: the operation did not finish within a minute"
    ))
}

pub async fn apply(src: &GcpSource, _scope: &Scope, calls: &[Call]) -> Vec<CallOutcome> {
    let clients = match Clients::new(src).await {
        Ok(c) => c,
        Err(p) => {
            return calls
                .iter()
                .map(|c| CallOutcome::failed(c, p.message.clone()))
                .collect()
        }
    };
    let base = base(src);
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
        let result = async {
            let (method, url, body) = request(&base, c)?;
            let o = clients
                .rest
                .write(&c.call, method, &url, body.as_ref())
                .await
                .map_err(|p| p.message)?;
            wait(&clients, &base, &c.call, o).await
        }
        .await;
        match result {
            Ok(()) => out.push(CallOutcome::done(c, "done".into())),
            Err(e) => {
                stopped = true;
                out.push(CallOutcome::failed(c, e));
            }
        }
    }
    out
}
