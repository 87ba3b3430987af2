//! Live Azure collection against an in-process fake of Azure Resource Manager (subscriptions,
//! Microsoft.Network NSGs through azure_mgmt_network, the Activity Log through azure_core's
//! pipeline), reached through the source's endpoint override with a static test token. Lists
//! are paged through `nextLink`; 429 with Retry-After, 5xx, 403 and malformed bodies on demand.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::fake::{Fault, Request, Response, Server};
use crate::support::{demo, json as parse, netdrift, ok};

const SUB_A: &str = "0b1f6471-1bf0-4dda-aec3-111122223333";
const SUB_B: &str = "5e5e5e5e-0000-4000-8000-444455556666";
const TOKEN: &str = "test-token-abc";

#[derive(Default)]
struct State {
    url: String,
    nsgs: Vec<(String, Value)>,
    /// Network interfaces and public IP addresses, per subscription.
    nics: Vec<(String, Value)>,
    pips: Vec<(String, Value)>,
    activity: Vec<(String, Value)>,
    /// Subscription-scope diagnostic settings, per subscription.
    diagnostics: Vec<(String, Value)>,
    /// The tenant shows no subscription at all.
    no_subscriptions: bool,
    /// The writes made (method, path, body), for `revert --apply`.
    writes: Vec<(String, String, String)>,
}

/// A security rule written or deleted (`revert --apply`): answered asynchronously, with an
/// `Azure-AsyncOperation` URL that reports success.
fn write(s: &mut State, req: &Request) -> Response {
    if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Response::error(401, "missing or wrong bearer token");
    }
    assert_eq!(req.param("api-version"), Some("2024-03-01"));
    s.writes
        .push((req.method.clone(), req.path.clone(), req.body.clone()));
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let ["subscriptions", sub, "resourceGroups", rg, "providers", "Microsoft.Network", "networkSecurityGroups", nsg, "securityRules", rule] =
        parts.as_slice()
    else {
        return Response::error(404, &format!("no write route for {}", req.path));
    };
    let Some((_, n)) = s.nsgs.iter_mut().find(|(x, n)| {
        x.eq_ignore_ascii_case(sub)
            && n["name"].as_str().unwrap_or("").eq_ignore_ascii_case(nsg)
            && n["id"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase()
                .contains(&format!("/resourcegroups/{}/", rg.to_ascii_lowercase()))
    }) else {
        return Response::error(404, "ResourceNotFound");
    };
    let rules = n["properties"]["securityRules"].as_array_mut().unwrap();
    let at = rules
        .iter()
        .position(|r| r["name"].as_str().unwrap_or("").eq_ignore_ascii_case(rule));
    if req.method == "DELETE" {
        match at {
            Some(i) => {
                rules.remove(i);
            }
            None => return Response::error(404, "NotFound"),
        }
    } else {
        let body: Value = serde_json::from_str(&req.body).unwrap();
        let id = format!("{}/securityRules/{rule}", n["id"].as_str().unwrap());
        let r = json!({"name": rule, "id": id, "type": "Microsoft.Network/networkSecurityGroups/securityRules",
            "properties": body["properties"]});
        let rules = n["properties"]["securityRules"].as_array_mut().unwrap();
        match at {
            Some(i) => rules[i] = r,
            None => rules.push(r),
        }
    }
    let mut rsp = Response::json(&json!({}));
    rsp.status = if req.method == "DELETE" { 202 } else { 201 };
    rsp.headers.push((
        "Azure-AsyncOperation".into(),
        format!("{}/subscriptions/{sub}/providers/Microsoft.Network/locations/westeurope/operations/op-1?api-version=2024-03-01", s.url),
    ));
    rsp
}

/// One page of `items` with an absolute `nextLink` carrying `$skiptoken` (ARM's form).
fn arm_page(url: &str, path: &str, query: &str, items: &[Value], skip: usize) -> Value {
    let end = (skip + 2).min(items.len());
    let mut v = json!({"value": items[skip.min(items.len())..end]});
    if end < items.len() {
        v["nextLink"] = json!(format!("{url}{path}?{query}&$skiptoken={end}"));
    }
    v
}

fn route(state: &Mutex<State>, req: &Request) -> Response {
    let mut s = state.lock().unwrap();
    if matches!(req.method.as_str(), "PUT" | "DELETE") {
        return write(&mut s, req);
    }
    if req.method != "GET" || !req.body.is_empty() {
        return Response::error(405, "ARM reads are GETs without a body");
    }
    if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Response::error(401, "missing or wrong bearer token");
    }
    let skip: usize = req
        .param("$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    // One NSG by id (a watch re-read): ARM paths are case-insensitive, and the model keeps ids
    // lower-cased.
    let lower = req.path.to_ascii_lowercase();
    if lower
        .split_once("/providers/microsoft.network/networksecuritygroups/")
        .is_some_and(|(_, n)| !n.is_empty() && !n.contains('/'))
    {
        assert_eq!(req.param("api-version"), Some("2024-03-01"));
        return match s.nsgs.iter().find(|(_, n)| {
            n["id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case(&req.path))
        }) {
            Some((_, n)) => Response::json(n),
            None => Response::error(404, "ResourceNotFound"),
        };
    }
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["subscriptions", _, "providers", "Microsoft.Network", "locations", _, "operations", _] => {
            Response::json(&json!({"status": "Succeeded"}))
        }
        ["subscriptions"] if s.no_subscriptions => Response::json(&json!({"value": []})),
        ["subscriptions"] => {
            let subs: Vec<Value> = [SUB_A, SUB_B]
                .iter()
                .map(|id| json!({"id": format!("/subscriptions/{id}"), "subscriptionId": id, "displayName": id, "state": "Enabled", "tenantId": "72f988bf-0000-0000-0000-000000000000"}))
                .chain(std::iter::once(json!({"id": "/subscriptions/dead", "subscriptionId": "dead", "state": "Disabled"})))
                .collect();
            Response::json(&arm_page(
                &s.url,
                &req.path,
                "api-version=2022-12-01",
                &subs,
                skip,
            ))
        }
        ["subscriptions", sub, "providers", "Microsoft.Network", "networkSecurityGroups"] => {
            assert_eq!(req.param("api-version"), Some("2024-03-01"));
            let items: Vec<Value> = s
                .nsgs
                .iter()
                .filter(|(x, _)| x == sub)
                .map(|(_, n)| n.clone())
                .collect();
            Response::json(&arm_page(
                &s.url,
                &req.path,
                "api-version=2024-03-01",
                &items,
                skip,
            ))
        }
        ["subscriptions", sub, "providers", "Microsoft.Network", list @ ("networkInterfaces" | "publicIPAddresses")] =>
        {
            assert_eq!(req.param("api-version"), Some("2024-03-01"));
            let from = if *list == "networkInterfaces" {
                &s.nics
            } else {
                &s.pips
            };
            let items: Vec<Value> = from
                .iter()
                .filter(|(x, _)| x == sub)
                .map(|(_, n)| n.clone())
                .collect();
            Response::json(&arm_page(
                &s.url,
                &req.path,
                "api-version=2024-03-01",
                &items,
                skip,
            ))
        }
        ["subscriptions", sub, "providers", "Microsoft.Insights", "diagnosticSettings"] => {
            assert_eq!(req.param("api-version"), Some("2021-05-01-preview"));
            let items: Vec<Value> = s
                .diagnostics
                .iter()
                .filter(|(x, _)| x == sub)
                .map(|(_, d)| d.clone())
                .collect();
            Response::json(&json!({ "value": items }))
        }
        ["subscriptions", sub, "providers", "Microsoft.Insights", "eventtypes", "management", "values"] =>
        {
            let filter = req.param("$filter").unwrap_or("").to_string();
            let bound = |op: &str| -> String {
                let key = format!("eventTimestamp {op} '");
                filter
                    .find(&key)
                    .map(|i| {
                        filter[i + key.len()..]
                            .split('\'')
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .unwrap_or_default()
            };
            let (from, to) = (bound("ge"), bound("le"));
            assert!(
                filter.contains("resourceProvider eq 'Microsoft.Network'"),
                "{filter}"
            );
            let items: Vec<Value> = s
                .activity
                .iter()
                .filter(|(x, r)| {
                    let t = r["eventTimestamp"].as_str().unwrap_or("");
                    x == sub && t >= from.as_str() && t <= to.as_str()
                })
                .map(|(_, r)| r.clone())
                .collect();
            let q = format!(
                "api-version=2015-04-01&$filter={}",
                filter.replace(' ', "%20").replace('\'', "%27")
            );
            Response::json(&arm_page(&s.url, &req.path, &q, &items, skip))
        }
        _ => Response::error(404, &format!("no route for {}", req.path)),
    }
}

/// Day 1: the demo's ARM NSGs in subscription A; in subscription B the official REST sample
/// (`NetworkSecurityGroupListAll`, testdata/fixtures) and three more NSGs.
fn day1() -> State {
    let doc = parse(&std::fs::read_to_string(demo("azure/day1/nsgs.json")).unwrap());
    let mut s = State::default();
    for n in doc["value"].as_array().unwrap() {
        s.nsgs.push((SUB_A.into(), n.clone()));
    }
    let sample = parse(
        &std::fs::read_to_string(
            crate::support::repo()
                .join("testdata/fixtures/azure_nsg_list_all_2024-03-01.body.json"),
        )
        .unwrap(),
    );
    for n in sample["value"].as_array().unwrap() {
        s.nsgs.push((SUB_B.into(), n.clone()));
    }
    // Both subscriptions export their Activity Log (the spec's example setting: allLogs).
    let ds = parse(
        &std::fs::read_to_string(crate::support::repo().join(
            "testdata/fixtures/azure_spec_listSubscriptionDiagnosticSettings_2021-05-01-preview.json",
        ))
        .unwrap(),
    );
    for sub in [SUB_A, SUB_B] {
        s.diagnostics.push((
            sub.into(),
            ds["responses"]["200"]["body"]["value"][0].clone(),
        ));
    }
    // A web server in app-nsg's subnet, with a public IP (ARM shapes, as the API returns them).
    let rg = format!("/subscriptions/{SUB_A}/resourceGroups/prod-rg/providers/Microsoft.Network");
    s.nics.push((SUB_A.into(), json!({
        "id": format!("{rg}/networkInterfaces/web-nic"), "name": "web-nic", "location": "westeurope",
        "type": "Microsoft.Network/networkInterfaces",
        "properties": {"provisioningState": "Succeeded",
            "ipConfigurations": [{"id": format!("{rg}/networkInterfaces/web-nic/ipConfigurations/ipconfig1"), "name": "ipconfig1",
                "properties": {"privateIPAddress": "10.20.1.4", "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": format!("{rg}/virtualNetworks/prod-vnet/subnets/app")},
                    "publicIPAddress": {"id": format!("{rg}/publicIPAddresses/web-pip")}}}],
            "virtualMachine": {"id": format!("/subscriptions/{SUB_A}/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-vm")}}})));
    // Two pages: a second interface without a public IP.
    s.nics.push((SUB_A.into(), json!({
        "id": format!("{rg}/networkInterfaces/db-nic"), "name": "db-nic", "location": "westeurope",
        "type": "Microsoft.Network/networkInterfaces",
        "properties": {"ipConfigurations": [{"id": format!("{rg}/networkInterfaces/db-nic/ipConfigurations/ipconfig1"), "name": "ipconfig1",
            "properties": {"privateIPAddress": "10.20.2.4", "subnet": {"id": format!("{rg}/virtualNetworks/prod-vnet/subnets/data")}}}]}})));
    s.nics.push((SUB_A.into(), json!({
        "id": format!("{rg}/networkInterfaces/spare-nic"), "name": "spare-nic", "location": "westeurope",
        "type": "Microsoft.Network/networkInterfaces",
        "properties": {"ipConfigurations": []}})));
    s.pips.push((SUB_A.into(), json!({
        "id": format!("{rg}/publicIPAddresses/web-pip"), "name": "web-pip", "location": "westeurope",
        "type": "Microsoft.Network/publicIPAddresses",
        "properties": {"ipAddress": "20.61.10.20", "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}})));
    for name in ["b-web", "b-jump", "b-batch"] {
        let mut n = doc["value"][1].clone();
        let id = format!("/subscriptions/{SUB_B}/resourceGroups/b-rg/providers/Microsoft.Network/networkSecurityGroups/{name}");
        n["name"] = json!(name);
        n["id"] = json!(id);
        for r in n["properties"]["securityRules"].as_array_mut().unwrap() {
            let rn = r["name"].as_str().unwrap().to_string();
            r["id"] = json!(format!("{id}/securityRules/{rn}"));
        }
        s.nsgs.push((SUB_B.into(), n));
    }
    s
}

fn start(state: State) -> (Server, Arc<Mutex<State>>) {
    let state = Arc::new(Mutex::new(state));
    let st = state.clone();
    let server = Server::start(Arc::new(move |req: &Request| route(&st, req)));
    state.lock().unwrap().url = server.url.clone();
    (server, state)
}

fn config(dir: &Path, url: &str, extra: &str) -> PathBuf {
    let path = dir.join("azure.toml");
    std::fs::write(
        &path,
        format!(
            r#"[report]
directory = "reports"
formats = ["json"]

[[source]]
provider = "azure"
name = "corp"
subscriptions = "all"
endpoint_url = "{url}"
credentials = {{ static_token_env = "NETDRIFT_TEST_AZURE_TOKEN" }}
max_attempts = 4
{extra}
"#
        ),
    )
    .unwrap();
    path
}

fn run(db: &Path, cfg: &Path, at: &str, code: i32) -> crate::support::Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["run", "--config", &cfg.display().to_string(), "--at", at])
        .env("NETDRIFT_DB", db)
        .env("NETDRIFT_TEST_AZURE_TOKEN", TOKEN)
        .output()
        .unwrap();
    let r = crate::support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(r.code, code, "netdrift run\n{}\n{}", r.stdout, r.stderr);
    r
}

/// Day 2's change: app-nsg gains an inbound RDP allow (a copy of its HTTPS rule on 3389).
fn open_rdp(state: &Mutex<State>) {
    let mut s = state.lock().unwrap();
    let app = &mut s
        .nsgs
        .iter_mut()
        .find(|(_, n)| n["name"] == "app-nsg")
        .unwrap()
        .1;
    let rules = app["properties"]["securityRules"].as_array_mut().unwrap();
    let mut rdp = rules[0].clone();
    let id = rdp["id"]
        .as_str()
        .unwrap()
        .replace("AllowHttpsInbound", "AllowRdpInbound");
    rdp["name"] = json!("AllowRdpInbound");
    rdp["id"] = json!(id);
    rdp["properties"]["destinationPortRange"] = json!("3389");
    rdp["properties"]["priority"] = json!(110);
    rules.push(rdp);
}

#[test]
fn azure_collect_change_collect_names_the_actor_and_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let (server, state) = start(day1());
    let cfg = config(dir.path(), &server.url, "");
    server.fault("/networkSecurityGroups", Fault::Status(429, Some(1)));
    server.fault("/networkSecurityGroups", Fault::Status(503, None));
    let r = run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    assert!(
        r.stdout
            .contains(&format!("collected azure:{SUB_A}: complete (6 resources)")),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout
            .contains(&format!("collected azure:{SUB_B}: complete (5 resources)")),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("azure:dead"),
        "disabled subscriptions are skipped"
    );
    let nsg_calls = server.requests(&format!(
        "/subscriptions/{SUB_B}/providers/Microsoft.Network/networkSecurityGroups"
    ));
    assert!(
        nsg_calls
            .iter()
            .any(|(r, _)| r.param("$skiptoken") == Some("2")),
        "followed nextLink: {nsg_calls:?}"
    );
    let all = server.requests("/networkSecurityGroups");
    assert!(all.iter().any(|(_, s)| *s == 429) && all.iter().any(|(_, s)| *s == 503));
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "day 1",
        ],
        0,
    );

    // Day 2: dave opens RDP from the Internet on app-nsg (Network Contributor, per the
    // Activity Log's authorization.evidence).
    open_rdp(&state);
    {
        let mut s = state.lock().unwrap();
        let records = parse(&std::fs::read_to_string(demo("audit/azure-activity.json")).unwrap());
        for r in records["value"].as_array().unwrap() {
            s.activity.push((SUB_A.into(), r.clone()));
        }
        let mut old = records["value"][1].clone();
        old["eventTimestamp"] = json!("2026-11-01T00:00:00Z");
        old["eventDataId"] = json!("ev-old");
        old["caller"] = json!("mallory@contoso.example");
        s.activity.push((SUB_A.into(), old));
    }
    server.fault("/eventtypes/management/values", Fault::Status(429, Some(1)));
    run(&db, &cfg, "2026-11-25T02:00:00Z", 1);
    let rep = parse(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    let items = rep["drift"].as_array().unwrap();
    let app = items
        .iter()
        .find(|i| {
            i["resource"].as_str().unwrap().ends_with("/app-nsg") && i["direction"] == "ingress"
        })
        .unwrap_or_else(|| panic!("app-nsg drift: {rep}"));
    assert_eq!(app["severity"], "critical");
    // Reach, live: the web server behind app-nsg's subnet, on its public IP.
    assert_eq!(app["reach"], "internet", "{app}");
    assert_eq!(
        app["exposed"],
        json!([{"id": format!("/subscriptions/{SUB_A}/resourcegroups/prod-rg/providers/microsoft.network/networkinterfaces/web-nic"),
            "instance": "web-vm", "address": "20.61.10.20", "ports": ["tcp/3389"]}]),
        "{app}"
    );
    // The attack surface now, from the live snapshot: web-vm through both NSGs on its path.
    let surface = parse(&ok(&db, &["exposure", "--format", "json"], 0).stdout);
    let web = surface["exposed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["instance"] == "web-vm")
        .unwrap_or_else(|| panic!("web-vm in the attack surface: {surface}"));
    assert_eq!(web["address"], "20.61.10.20", "{web}");
    assert!(web["ports"].to_string().contains("tcp/3389"), "{web}");
    assert!(web["opened_by"].to_string().contains("/app-nsg"), "{web}");
    assert!(
        server
            .requests(&format!(
                "/subscriptions/{SUB_A}/providers/Microsoft.Network/networkInterfaces"
            ))
            .iter()
            .any(|(r, _)| r.param("$skiptoken") == Some("2")),
        "the interface list is paged"
    );
    assert_eq!(app["newly_allowed"][0]["ports"], "3389");
    assert_eq!(app["newly_allowed"][0]["peer"], "Internet");
    let a = &app["attribution"];
    assert_eq!(a["status"], "exact", "{a}");
    assert_eq!(a["actors"][0]["principal"], "dave@contoso.example");
    assert_eq!(a["actors"][0]["role"], "Network Contributor");
    assert!(
        !a.to_string().contains("mallory"),
        "an event outside the window is not used"
    );
    assert!(
        items.iter().all(|i| i["scope"] != format!("azure:{SUB_B}")),
        "nothing changed in B"
    );
    let activity = server.requests("/eventtypes/management/values");
    assert!(activity.iter().any(|(_, s)| *s == 429));
    assert!(
        activity
            .iter()
            .any(|(r, _)| r.param("$skiptoken").is_some()),
        "Activity Log paged"
    );
}

#[test]
fn azure_failures_become_coverage_never_removal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let (server, _state) = start(day1());
    let cfg = config(dir.path(), &server.url, "activity_log = false");
    run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "day 1",
        ],
        0,
    );
    // The NSG lists fail (the workload lists, read alongside, answer).
    server.fault(
        &format!("/subscriptions/{SUB_A}/providers/Microsoft.Network/networkSecurityGroups"),
        Fault::Status(403, None),
    );
    // Five 500s in a row: more than the four attempts allowed.
    for _ in 0..5 {
        server.fault(
            &format!("/subscriptions/{SUB_B}/providers/Microsoft.Network/networkSecurityGroups"),
            Fault::Status(500, None),
        );
    }
    let r = run(&db, &cfg, "2026-11-25T02:00:00Z", 3);
    assert!(
        r.stdout
            .contains(&format!("collected azure:{SUB_A}: failed")),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout
            .contains(&format!("collected azure:{SUB_B}: failed")),
        "{}",
        r.stdout
    );
    let rep = parse(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    assert_eq!(
        rep["drift"],
        json!([]),
        "no removal from a failed collection"
    );
    let cov = rep["coverage"].to_string();
    assert!(
        cov.contains("permission-denied")
            && cov.contains("Microsoft.Network/networkSecurityGroups/read"),
        "{cov}"
    );
    assert!(cov.contains("transient"), "{cov}");

    // A malformed body: that subscription fails with a decode problem, the other completes.
    server.fault(
        &format!("/subscriptions/{SUB_B}/providers/Microsoft.Network/networkSecurityGroups"),
        Fault::Malformed,
    );
    let r = run(&db, &cfg, "2026-11-26T02:00:00Z", 3);
    assert!(
        r.stdout
            .contains(&format!("collected azure:{SUB_A}: complete")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("collected azure:{SUB_B}: failed")),
        "{}",
        r.stdout
    );
    // A malformed interface list: partial, the kind named, never an empty estate.
    server.fault(
        &format!("/subscriptions/{SUB_A}/providers/Microsoft.Network/networkInterfaces"),
        Fault::Malformed,
    );
    let r = run(&db, &cfg, "2026-11-27T02:00:00Z", 3);
    assert!(
        r.stdout
            .contains(&format!("collected azure:{SUB_A}: partial")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("azure_nic not read"), "{}", r.stdout);
}

#[test]
fn azure_test_token_needs_a_loopback_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "https://management.usgovcloudapi.net", "");
    let r = netdrift(
        &dir.path().join("x.db"),
        &["config", "check", &cfg.display().to_string()],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("test-only credentials are refused"),
        "{}",
        r.stderr
    );
}

#[test]
fn azure_role_document_matches_the_code() {
    crate::support::privileges_match(
        "docs/iam/azure-role.json",
        "Actions",
        netdrift_provider_azure::ACTIONS,
        "providers/azure/src",
        // The remediation's operation read is the remediation role's (checked below).
        |w| {
            w.starts_with("Microsoft.")
                && w.ends_with("/read")
                && w != "Microsoft.Network/locations/operations/read"
        },
    );
}

#[test]
fn azure_remediation_document_matches_the_code() {
    crate::support::privileges_match(
        "docs/iam/azure-remediate.json",
        "Actions",
        netdrift_provider_azure::remediate::REMEDIATION_ACTIONS,
        "providers/azure/src",
        |w| {
            w.starts_with("Microsoft.Network/")
                && (w.ends_with("/write")
                    || w.ends_with("/delete")
                    || w.ends_with("operations/read"))
        },
    );
}

#[test]
fn azure_revert_apply_deletes_the_added_rule_through_arm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let (server, state) = start(day1());
    let cfg = config(dir.path(), &server.url, "activity_log = false");
    run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    open_rdp(&state);
    run(&db, &cfg, "2026-11-25T02:00:00Z", 1);
    let drift = parse(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let item = drift["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["resource"].as_str().unwrap().ends_with("/app-nsg") && i["direction"] == "ingress"
        })
        .unwrap_or_else(|| panic!("{drift:#}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The collection before the calls cannot read the NSGs: refused, nothing written.
    server.fault(
        &format!("/subscriptions/{SUB_A}/providers/Microsoft.Network/networkSecurityGroups"),
        Fault::Status(403, None),
    );
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args([
            "revert",
            &item,
            "--apply",
            "--yes",
            "--config",
            &cfg.display().to_string(),
        ])
        .env("NETDRIFT_DB", &db)
        .env("NETDRIFT_TEST_AZURE_TOKEN", TOKEN)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        state.lock().unwrap().writes.is_empty(),
        "an unread NSG is never acted on"
    );
    // That collection is stored as failed (at the present time, as --apply collects): the
    // item is back after the next complete collection.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["run", "--config", &cfg.display().to_string()])
        .env("NETDRIFT_DB", &db)
        .env("NETDRIFT_TEST_AZURE_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args([
            "revert",
            &item,
            "--apply",
            "--yes",
            "--config",
            &cfg.display().to_string(),
        ])
        .env("NETDRIFT_DB", &db)
        .env("NETDRIFT_TEST_AZURE_TOKEN", TOKEN)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("is gone on the next collection"),
        "{stdout}"
    );
    let writes = state.lock().unwrap().writes.clone();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].0, "DELETE");
    assert!(
        writes[0]
            .1
            .ends_with("/networkSecurityGroups/app-nsg/securityRules/AllowRdpInbound"),
        "{writes:?}"
    );
    let after = parse(&ok(&db, &["drift", "--format", "json"], 0).stdout);
    assert_eq!(after["drift"], json!([]));
}

#[test]
fn azure_discovery_that_fails_or_finds_nothing_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let (server, state) = start(day1());
    let cfg = config(dir.path(), &server.url, "activity_log = false");
    server.fault("/subscriptions", Fault::Status(403, None));
    let r = run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("coverage: discovery-failed azure:corp"))
        .unwrap_or_else(|| panic!("{}\n{}", r.stdout, r.stderr));
    assert!(line.contains("permission-denied"), "{line}");
    let rep = parse(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    assert_eq!(rep["coverage"][0]["code"], "discovery-failed");
    assert_eq!(rep["coverage"][0]["scope"], "azure:corp");
    // A tenant that lists no subscription resolves to no scope: a finding too.
    state.lock().unwrap().no_subscriptions = true;
    let r = run(&db, &cfg, "2026-11-24T03:00:00Z", 3);
    assert!(
        r.stdout
            .contains("coverage: discovery-failed azure:corp: azure:corp resolved to no scope"),
        "{}",
        r.stdout
    );
}

#[test]
fn azure_an_unreadable_activity_log_is_a_finding_and_says_so_in_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let (server, state) = start(day1());
    let cfg = config(dir.path(), &server.url, "");
    run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "day 1",
        ],
        0,
    );
    open_rdp(&state);
    server.fault(
        &format!("/subscriptions/{SUB_A}/providers/Microsoft.Insights"),
        Fault::Status(403, None),
    );
    let r = run(&db, &cfg, "2026-11-25T02:00:00Z", 1);
    assert!(
        r.stdout.contains(&format!(
            "coverage: audit-read-failed azure:{SUB_A}: audit logs of {SUB_A} could not be read"
        )),
        "{}",
        r.stdout
    );
    let rep = parse(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    let app = rep["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"].as_str().unwrap().ends_with("/app-nsg"))
        .unwrap();
    let a = &app["attribution"];
    assert_eq!(a["status"], "unattributed");
    assert!(
        a["reason"].as_str().unwrap().contains("could not be read"),
        "{a}"
    );
    let codes: Vec<&str> = rep["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"audit-read-failed"), "{codes:?}");
    assert!(
        r.stdout.contains(&format!(
            "coverage: audit-logs-unreadable azure:{SUB_A}: azure:{SUB_A}: its audit log cannot be read"
        )),
        "{}",
        r.stdout
    );
    assert!(
        !codes.contains(&"logging-gap"),
        "an unread log is not a logging gap: {codes:?}"
    );
    // `netdrift drift` later still says so: the failure is stored with its window.
    let v = parse(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    assert!(v["coverage"].to_string().contains("audit-read-failed"));
}

#[test]
fn azure_an_activity_log_kept_only_90_days_is_a_finding_with_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let mut st = day1();
    // SUB_B: one setting exports only Security, another enables Administrative but sends it
    // nowhere. Neither keeps firewall changes beyond the platform's 90 days.
    st.diagnostics.retain(|(sub, _)| sub != SUB_B);
    st.diagnostics.push((SUB_B.into(), json!({"id": format!("subscriptions/{SUB_B}/providers/AzureResourceManager/diagnosticSettings/sec"), "name": "sec",
        "properties": {"workspaceId": "/subscriptions/x/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w",
            "logs": [{"category": "Security", "enabled": true}, {"category": "Administrative", "enabled": false}]}})));
    st.diagnostics.push((SUB_B.into(), json!({"id": format!("subscriptions/{SUB_B}/providers/AzureResourceManager/diagnosticSettings/nowhere"), "name": "nowhere",
        "properties": {"workspaceId": "", "logs": [{"category": "Administrative", "enabled": true}]}})));
    let (server, _state) = start(st);
    let cfg = config(dir.path(), &server.url, "");
    let r = run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    let line = r
        .stdout
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "coverage: activity-log-not-exported azure:{SUB_B}:"
            ))
        })
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(line.contains("90 days"), "{line}");
    assert!(
        !r.stdout
            .contains(&format!("activity-log-not-exported azure:{SUB_A}")),
        "SUB_A exports allLogs to three destinations: {}",
        r.stdout
    );
    let rep = parse(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    let f = rep["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "activity-log-not-exported")
        .unwrap();
    assert_eq!(
        f["evidence"],
        json!([
            "diagnostic setting sec: does not export Administrative (enabled: Security; to: Log Analytics workspace)",
            "diagnostic setting nowhere: enables Administrative but names no destination (enabled: Administrative; to: none)"
        ])
    );
    // The run's coverage matrix says so, per subscription.
    let summary = netdrift::store::SqliteStore::open(&db)
        .unwrap()
        .runs(1)
        .unwrap()
        .remove(0)
        .summary;
    let matrix = summary["coverage_matrix"].clone();
    let logging = |sub: &str| {
        matrix
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["scope"] == format!("azure:{sub}"))
            .map(|r| r["logging"].clone())
    };
    assert_eq!(logging(SUB_A), Some(json!("logged")), "{matrix}");
    assert_eq!(logging(SUB_B), Some(json!("not-exported")), "{matrix}");
}

#[test]
fn azure_watch_re_reads_only_the_nsg_a_rule_write_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let (server, state) = start(day1());
    let cfg = config(dir.path(), &server.url, "");
    run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "day 1",
        ],
        0,
    );
    let r = crate::support::watch_at(
        &db,
        &cfg,
        "2026-11-24T18:00:00Z",
        &[("NETDRIFT_TEST_AZURE_TOKEN", TOKEN)],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("watched azure:{SUB_A}: 0 event(s)")),
        "{}",
        r.stdout
    );
    // dave opens RDP on app-nsg at 19:12 (the demo's Activity Log: Started, then Succeeded).
    open_rdp(&state);
    {
        let mut s = state.lock().unwrap();
        let records = parse(&std::fs::read_to_string(demo("audit/azure-activity.json")).unwrap());
        for r in records["value"].as_array().unwrap() {
            s.activity.push((SUB_A.into(), r.clone()));
        }
    }
    let lists = || {
        server
            .requests("/networkSecurityGroups")
            .iter()
            .filter(|(r, _)| r.path.ends_with("/networkSecurityGroups"))
            .count()
    };
    let before = lists();
    let r = crate::support::watch_at(
        &db,
        &cfg,
        "2026-11-24T19:20:00Z",
        &[("NETDRIFT_TEST_AZURE_TOKEN", TOKEN)],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let nsg = format!("/subscriptions/{SUB_A}/resourcegroups/prod-rg/providers/microsoft.network/networksecuritygroups/app-nsg");
    assert!(r.stdout.contains(&format!("re-read {nsg}")), "{}", r.stdout);
    assert_eq!(
        lists(),
        before,
        "no NSG list, only the one NSG: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("dave@contoso.example"),
        "attributed: {}",
        r.stdout
    );
    // The same events read again (the overlap) re-read nothing.
    let r = crate::support::watch_at(
        &db,
        &cfg,
        "2026-11-24T19:25:00Z",
        &[("NETDRIFT_TEST_AZURE_TOKEN", TOKEN)],
    );
    assert!(r.stdout.contains("nothing re-read"), "{}", r.stdout);
}
