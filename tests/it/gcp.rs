//! Live GCP collection against an in-process fake of the Compute Engine, Cloud Resource Manager
//! and Cloud Logging REST APIs, reached through the source's endpoint override with anonymous
//! credentials. The fake serves the real JSON shapes, pages every list two items at a time, and
//! injects 429 (with Retry-After), 5xx, 403 and malformed bodies on demand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::fake::{Fault, Request, Response, Server};
use crate::support::{json as parse, netdrift, ok};

const BASE: &str = "https://www.googleapis.com/compute/v1";
const PAGE: usize = 2;

#[derive(Default)]
pub struct State {
    firewalls: BTreeMap<String, Vec<Value>>,
    networks: BTreeMap<String, Vec<Value>>,
    net_policies: BTreeMap<String, Vec<Value>>,
    reg_policies: BTreeMap<(String, String), Vec<Value>>,
    hierarchical: BTreeMap<String, Vec<Value>>,
    folders: BTreeMap<String, Vec<Value>>,
    projects: BTreeMap<String, Vec<Value>>,
    /// Instances per project (served by `instances.aggregatedList`, zone-keyed pages).
    instances: BTreeMap<String, Vec<Value>>,
    entries: Vec<Value>,
    /// The writes made (method, path, body), for `revert --apply`.
    pub writes: Vec<(String, String, String)>,
}

/// A Compute operation still running; its GET says it is done.
fn operation(prefix: &str) -> Value {
    json!({"kind": "compute#operation", "name": "operation-1", "status": "RUNNING",
        "selfLink": format!("{BASE}/{prefix}/operations/operation-1")})
}

pub fn firewall(
    project: &str,
    name: &str,
    prio: i64,
    list: &str,
    ports: &[&str],
    src: &[&str],
) -> Value {
    json!({
        "kind": "compute#firewall",
        "id": format!("{}", 4000 + name.len()),
        "creationTimestamp": "2026-01-05T10:00:00.000-08:00",
        "name": name,
        "description": "",
        "network": format!("{BASE}/projects/{project}/global/networks/vpc"),
        "priority": prio,
        "sourceRanges": src,
        list: [{"IPProtocol": "tcp", "ports": ports}],
        "direction": "INGRESS",
        "logConfig": {"enable": false},
        "disabled": false,
        "selfLink": format!("{BASE}/projects/{project}/global/firewalls/{name}"),
    })
}

fn network(project: &str, order: &str) -> Value {
    json!({"kind": "compute#network", "id": "8001", "name": "vpc",
        "selfLink": format!("{BASE}/projects/{project}/global/networks/vpc"),
        "autoCreateSubnetworks": false, "networkFirewallPolicyEnforcementOrder": order})
}

fn policy_rule(prio: i64, action: &str, port: &str) -> Value {
    json!({"kind": "compute#firewallPolicyRule", "priority": prio, "action": action,
        "direction": "INGRESS", "enableLogging": false, "disabled": false,
        "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "tcp", "ports": [port]}]}})
}

fn hierarchical_policy(id: &str, short: &str, parent: &str, rules: Vec<Value>) -> Value {
    json!({"kind": "compute#firewallPolicy", "id": id, "name": id, "shortName": short,
        "displayName": short, "parent": parent, "fingerprint": "abc=",
        "selfLink": format!("{BASE}/locations/global/firewallPolicies/{id}"),
        "associations": [{"name": format!("{short}-assoc"), "attachmentTarget": parent,
            "firewallPolicyId": id, "shortName": short, "displayName": short}],
        "rules": rules, "ruleTupleCount": 2})
}

/// A Cloud Audit Logs Admin Activity entry, as Cloud Logging returns it.
pub fn entry(
    log_parent: &str,
    project: Option<&str>,
    method: &str,
    resource: &str,
    (who, delegated_from): (&str, Option<&str>),
    time: &str,
    id: &str,
) -> Value {
    let mut auth = json!({"principalEmail": who});
    if let Some(d) = delegated_from {
        auth["serviceAccountDelegationInfo"] =
            json!([{"firstPartyPrincipal": {"principalEmail": d}}]);
    }
    let mut e = json!({
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": auth,
            "requestMetadata": {"callerIp": "34.120.1.9",
                "callerSuppliedUserAgent": "google-cloud-sdk gcloud/489.0.0 command/gcloud.compute"},
            "serviceName": "compute.googleapis.com",
            "methodName": method,
            "authorizationInfo": [{"permission": "compute.firewalls.update", "granted": true}],
            "resourceName": resource,
        },
        "insertId": id,
        "resource": {"type": "gce_firewall_rule", "labels": {}},
        "timestamp": time,
        "severity": "NOTICE",
        "logName": format!("{log_parent}/logs/cloudaudit.googleapis.com%2Factivity"),
        "operation": {"id": format!("operation-{id}"), "producer": "compute.googleapis.com", "first": true, "last": true},
        "receiveTimestamp": time,
    });
    if let Some(p) = project {
        e["resource"]["labels"]["project_id"] = json!(p);
    }
    e
}

fn filter_time(filter: &str, op: &str) -> Option<String> {
    let key = format!("timestamp{op}\"");
    let i = filter.find(&key)? + key.len();
    Some(filter[i..].split('"').next()?.to_string())
}

fn route(state: &Mutex<State>, req: &Request) -> Response {
    let mut s = state.lock().unwrap();
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let token = req.param("pageToken");
    let empty = Vec::new();
    let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
    let write = matches!(req.method.as_str(), "PATCH" | "DELETE" | "POST");
    if write && parts.first() == Some(&"compute") {
        s.writes
            .push((req.method.clone(), req.path.clone(), req.body.clone()));
    }
    match parts.as_slice() {
        ["compute", "v1", "projects", p, "global", "firewalls", name] if req.method == "GET" => {
            match s
                .firewalls
                .get(*p)
                .and_then(|l| l.iter().find(|f| f["name"] == *name))
            {
                Some(f) => Response::json(f),
                None => Response::error(
                    404,
                    &format!("The resource 'projects/{p}/global/firewalls/{name}' was not found"),
                ),
            }
        }
        ["compute", "v1", "projects", p, "global", "firewalls", name]
            if req.method == "PATCH" || req.method == "DELETE" =>
        {
            let list = s.firewalls.entry(p.to_string()).or_default();
            let Some(i) = list.iter().position(|f| f["name"] == *name) else {
                return Response::error(
                    404,
                    &format!("The resource 'projects/{p}/global/firewalls/{name}' was not found"),
                );
            };
            if req.method == "DELETE" {
                list.remove(i);
            } else {
                netdrift_provider_file::gcp::merge_patch(&mut list[i], &body);
            }
            Response::json(&operation(&format!("projects/{p}/global")))
        }
        ["compute", "v1", "projects", p, "global", "firewalls"] if req.method == "POST" => {
            let mut f = body.clone();
            f["selfLink"] = json!(format!(
                "{BASE}/projects/{p}/global/firewalls/{}",
                f["name"].as_str().unwrap_or("")
            ));
            s.firewalls.entry(p.to_string()).or_default().push(f);
            Response::json(&operation(&format!("projects/{p}/global")))
        }
        ["compute", "v1", "locations", "global", "firewallPolicies", id, action]
            if req.method == "POST" =>
        {
            let prio: Option<i64> = req.param("priority").and_then(|p| p.parse().ok());
            for pol in s
                .hierarchical
                .values_mut()
                .flatten()
                .filter(|x| x["name"] == *id)
            {
                let rules = pol["rules"].as_array_mut().unwrap();
                let at = rules.iter().position(|r| r["priority"].as_i64() == prio);
                match (*action, at) {
                    ("patchRule", Some(i)) => {
                        netdrift_provider_file::gcp::merge_patch(&mut rules[i], &body)
                    }
                    ("removeRule", Some(i)) => {
                        rules.remove(i);
                    }
                    ("addRule", _) => rules.push(body.clone()),
                    _ => return Response::error(400, "no rule at that priority"),
                }
            }
            Response::json(&operation("locations/global"))
        }
        ["compute", "v1", "projects", _, "global", "operations", name]
        | ["compute", "v1", "locations", "global", "operations", name] => {
            Response::json(&json!({"kind": "compute#operation", "name": name, "status": "DONE"}))
        }
        ["compute", "v1", "projects", p, "global", "firewalls"] => Response::json(&gcp_page(
            s.firewalls.get(*p).unwrap_or(&empty),
            token,
            PAGE,
            "items",
            "compute#firewallList",
        )),
        ["compute", "v1", "projects", p, "aggregated", "instances"] => {
            let page = gcp_page(
                s.instances.get(*p).unwrap_or(&empty),
                token,
                PAGE,
                "instances",
                "page",
            );
            let mut v = json!({"kind": "compute#instanceAggregatedList",
                "id": format!("projects/{p}/aggregated/instances"),
                "items": {
                    "zones/us-central1-a": {"instances": page["instances"]},
                    "zones/europe-west1-b": {"warning": {"code": "NO_RESULTS_ON_PAGE",
                        "message": "There are no results for scope 'zones/europe-west1-b' on this page."}}}});
            if let Some(t) = page.get("nextPageToken") {
                v["nextPageToken"] = t.clone();
            }
            Response::json(&v)
        }
        ["compute", "v1", "projects", p, "global", "networks"] => Response::json(&gcp_page(
            s.networks.get(*p).unwrap_or(&empty),
            token,
            PAGE,
            "items",
            "compute#networkList",
        )),
        ["compute", "v1", "projects", _, "regions"] => Response::json(&gcp_page(
            &[
                json!({"kind": "compute#region", "id": "1000", "name": "us-central1", "status": "UP"}),
            ],
            token,
            PAGE,
            "items",
            "compute#regionList",
        )),
        ["compute", "v1", "projects", p, "global", "firewallPolicies"] => {
            Response::json(&gcp_page(
                s.net_policies.get(*p).unwrap_or(&empty),
                token,
                PAGE,
                "items",
                "compute#firewallPolicyList",
            ))
        }
        ["compute", "v1", "projects", p, "regions", r, "firewallPolicies"] => {
            Response::json(&gcp_page(
                s.reg_policies
                    .get(&(p.to_string(), r.to_string()))
                    .unwrap_or(&empty),
                token,
                PAGE,
                "items",
                "compute#firewallPolicyList",
            ))
        }
        ["compute", "v1", "locations", "global", "firewallPolicies"] => {
            let parent = req.param("parentId").unwrap_or("");
            Response::json(&gcp_page(
                s.hierarchical.get(parent).unwrap_or(&empty),
                token,
                PAGE,
                "items",
                "compute#firewallPolicyList",
            ))
        }
        ["v3", kind @ ("projects" | "folders")] => {
            let parent = req.param("parent").unwrap_or("");
            let children = if *kind == "projects" {
                &s.projects
            } else {
                &s.folders
            };
            let mut v = gcp_page(
                children.get(parent).unwrap_or(&empty),
                token,
                PAGE,
                kind,
                "",
            );
            v.as_object_mut().unwrap().remove("kind");
            Response::json(&v)
        }
        ["v2", "entries:list"] if req.method == "POST" => {
            let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            let filter = body["filter"].as_str().unwrap_or("");
            let (from, to) = (
                filter_time(filter, ">=").unwrap_or_default(),
                filter_time(filter, "<=").unwrap_or_else(|| "9999".into()),
            );
            let names: Vec<&str> = body["resourceNames"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let matching: Vec<Value> = s
                .entries
                .iter()
                .filter(|e| {
                    let t = e["timestamp"].as_str().unwrap_or("");
                    let log = e["logName"].as_str().unwrap_or("");
                    t >= from.as_str()
                        && t <= to.as_str()
                        && names.iter().any(|n| log.starts_with(&format!("{n}/")))
                        && filter.contains("compute.googleapis.com")
                })
                .cloned()
                .collect();
            let mut v = gcp_page(&matching, body["pageToken"].as_str(), PAGE, "entries", "");
            v.as_object_mut().unwrap().remove("kind");
            Response::json(&v)
        }
        _ => Response::error(404, &format!("no route for {} {}", req.method, req.path)),
    }
}

/// The fake estate on day 1: organization 123 → folder 456 → project acme-prod; project
/// acme-dev directly under the organization.
pub fn day1() -> State {
    let mut s = State::default();
    // acme-prod's VMs in network vpc: one with an external address, two without.
    let vm = |name: &str, nat: Option<&str>| {
        json!({"kind": "compute#instance", "id": "77", "name": name, "status": "RUNNING",
            "zone": format!("{BASE}/projects/acme-prod/zones/us-central1-a"),
            "selfLink": format!("{BASE}/projects/acme-prod/zones/us-central1-a/instances/{name}"),
            "tags": {"items": ["web"], "fingerprint": "abc="},
            "serviceAccounts": [{"email": "web@acme-prod.iam.gserviceaccount.com", "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}],
            "networkInterfaces": [{"kind": "compute#networkInterface", "name": "nic0",
                "network": format!("{BASE}/projects/acme-prod/global/networks/vpc"),
                "subnetwork": format!("{BASE}/projects/acme-prod/regions/us-central1/subnetworks/vpc"),
                "networkIP": "10.128.0.10",
                "accessConfigs": nat.map(|ip| vec![json!({"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": ip, "networkTier": "PREMIUM"})]).unwrap_or_default()}]})
    };
    s.instances.insert(
        "acme-prod".into(),
        vec![
            vm("web-1", Some("34.120.50.60")),
            vm("worker-1", None),
            vm("worker-2", None),
        ],
    );
    s.projects.insert(
        "organizations/123".into(),
        vec![json!({"name": "projects/2002", "projectId": "acme-dev", "parent": "organizations/123", "state": "ACTIVE", "displayName": "acme-dev"})],
    );
    s.folders.insert(
        "organizations/123".into(),
        vec![json!({"name": "folders/456", "parent": "organizations/123", "displayName": "prod", "state": "ACTIVE"})],
    );
    s.projects.insert(
        "folders/456".into(),
        vec![json!({"name": "projects/1001", "projectId": "acme-prod", "parent": "folders/456", "state": "ACTIVE", "displayName": "acme-prod"})],
    );
    s.hierarchical.insert(
        "organizations/123".into(),
        vec![hierarchical_policy(
            "7000",
            "org-baseline",
            "organizations/123",
            vec![
                policy_rule(100, "deny", "3389"),
                policy_rule(2000, "goto_next", "0-65535"),
            ],
        )],
    );
    s.hierarchical.insert(
        "folders/456".into(),
        vec![hierarchical_policy(
            "7001",
            "prod-folder",
            "folders/456",
            vec![policy_rule(3000, "goto_next", "0-65535")],
        )],
    );
    for p in ["acme-prod", "acme-dev"] {
        s.firewalls.insert(
            p.into(),
            vec![
                firewall(p, "deny-ssh-world", 900, "denied", &["22"], &["0.0.0.0/0"]),
                firewall(p, "allow-web", 1000, "allowed", &["443"], &["0.0.0.0/0"]),
                firewall(
                    p,
                    "allow-internal",
                    1100,
                    "allowed",
                    &["0-65535"],
                    &["10.128.0.0/9"],
                ),
                firewall(
                    p,
                    "allow-health",
                    1200,
                    "allowed",
                    &["80"],
                    &["35.191.0.0/16", "130.211.0.0/22"],
                ),
                firewall(
                    p,
                    "allow-iap",
                    1300,
                    "allowed",
                    &["22"],
                    &["35.235.240.0/20"],
                ),
            ],
        );
        s.networks
            .insert(p.into(), vec![network(p, "AFTER_CLASSIC_FIREWALL")]);
        s.net_policies.insert(
            p.into(),
            vec![json!({"kind": "compute#firewallPolicy", "id": "9001", "name": "net-pol",
                "selfLink": format!("{BASE}/projects/{p}/global/firewallPolicies/net-pol"),
                "associations": [{"name": "a1", "attachmentTarget": format!("{BASE}/projects/{p}/global/networks/vpc")}],
                "rules": [policy_rule(500, "allow", "9090")]})],
        );
    }
    s.reg_policies.insert(
        ("acme-prod".into(), "us-central1".into()),
        vec![json!({"kind": "compute#firewallPolicy", "id": "9002", "name": "reg-pol",
            "region": format!("{BASE}/projects/acme-prod/regions/us-central1"),
            "selfLink": format!("{BASE}/projects/acme-prod/regions/us-central1/firewallPolicies/reg-pol"),
            "associations": [{"name": "a2", "attachmentTarget": format!("{BASE}/projects/acme-prod/global/networks/vpc")}],
            "rules": [policy_rule(500, "deny", "6379")]})],
    );
    s
}

pub struct Fake {
    pub server: Server,
    pub state: Arc<Mutex<State>>,
}

pub fn start(state: State) -> Fake {
    let state = Arc::new(Mutex::new(state));
    let st = state.clone();
    let server = Server::start(Arc::new(move |req: &Request| route(&st, req)));
    Fake { server, state }
}

fn config(dir: &Path, url: &str, extra: &str) -> PathBuf {
    let path = dir.join("gcp.toml");
    std::fs::write(
        &path,
        format!(
            r#"[report]
directory = "reports"
formats = ["json"]

[[source]]
provider = "gcp"
name = "acme"
organization = "organizations/123"
regions = ["us-central1"]
endpoint_url = "{url}"
credentials = "anonymous"
max_attempts = 4
{extra}
"#
        ),
    )
    .unwrap();
    path
}

fn run(db: &Path, cfg: &Path, at: &str, code: i32) -> crate::support::Run {
    ok(
        db,
        &["run", "--config", &cfg.display().to_string(), "--at", at],
        code,
    )
}

fn report(dir: &Path) -> Value {
    parse(&std::fs::read_to_string(dir.join("reports/latest.json")).unwrap())
}

#[test]
fn gcp_collect_change_collect_names_the_actor() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let fake = start(day1());
    let cfg = config(dir.path(), &fake.server.url, "");
    // Day 1: everything is read, through pages, with a throttled call on the way.
    fake.server.fault(
        "/projects/acme-prod/global/firewalls",
        Fault::Status(429, Some(1)),
    );
    fake.server.fault("/v3/folders", Fault::Status(503, None));
    let r = run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    assert!(
        r.stdout.contains("collected gcp:acme-prod: complete"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout.contains("collected gcp:acme-dev: complete"),
        "{}",
        r.stdout
    );
    let fw = fake.server.requests("/projects/acme-prod/global/firewalls");
    assert!(
        fw.iter().any(|(_, s)| *s == 429),
        "the throttled call was made"
    );
    assert!(
        fw.iter().filter(|(_, s)| *s == 200).count() >= 3,
        "five rules in pages of two: {fw:?}"
    );
    assert!(fw.iter().any(|(r, _)| r.param("pageToken") == Some("2")));
    assert!(
        fw.iter().all(|(r, _)| r.header("authorization").is_none()),
        "anonymous"
    );
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "day 1",
        ],
        0,
    );

    // Day 2: a folder policy rule allows SSH from anywhere (overriding the VPC deny), and a
    // deployer service account, impersonated by bob, widens a VPC rule.
    {
        let mut s = fake.state.lock().unwrap();
        s.hierarchical.get_mut("folders/456").unwrap()[0]["rules"] = json!([
            policy_rule(100, "allow", "22"),
            policy_rule(3000, "goto_next", "0-65535")
        ]);
        let web = s
            .firewalls
            .get_mut("acme-prod")
            .unwrap()
            .iter_mut()
            .find(|f| f["name"] == "allow-web")
            .unwrap();
        web["allowed"] = json!([{"IPProtocol": "tcp", "ports": ["443", "8080"]}]);
        let mut add = entry(
            "folders/456",
            None,
            "v1.compute.firewallPolicies.addRule",
            "locations/global/firewallPolicies/7001",
            ("alice@acme.example", None),
            "2026-11-24T10:00:00.000Z",
            "e1",
        );
        let mut req = policy_rule(100, "allow", "22");
        req["@type"] = json!("type.googleapis.com/compute.firewallPolicies.addRule");
        add["protoPayload"]["request"] = req;
        s.entries.push(add);
        let mut patch = entry(
            "projects/acme-prod",
            Some("acme-prod"),
            "v1.compute.firewalls.patch",
            "projects/acme-prod/global/firewalls/allow-web",
            (
                "deployer@acme-prod.iam.gserviceaccount.com",
                Some("bob@acme.example"),
            ),
            "2026-11-24T11:00:00.000Z",
            "e2",
        );
        patch["protoPayload"]["request"] = json!({
            "@type": "type.googleapis.com/compute.firewalls.patch",
            "alloweds": [{"IPProtocol": "tcp", "ports": ["443", "8080"]}],
            "sourceRanges": ["0.0.0.0/0"], "direction": "INGRESS", "priority": 1000,
            "network": format!("{BASE}/projects/acme-prod/global/networks/vpc")});
        s.entries.push(patch);
        // An event from before the window must not be used.
        s.entries.push(entry(
            "projects/acme-prod",
            Some("acme-prod"),
            "v1.compute.firewalls.patch",
            "projects/acme-prod/global/firewalls/allow-web",
            ("mallory@acme.example", None),
            "2026-11-20T11:00:00.000Z",
            "e0",
        ));
    }
    fake.server
        .fault("/v2/entries:list", Fault::Status(429, Some(1)));
    let r = run(&db, &cfg, "2026-11-25T02:00:00Z", 1);
    let rep = report(dir.path());
    let items = rep["drift"].as_array().unwrap();
    let folder = items
        .iter()
        .find(|i| i["resource"] == "locations/global/firewallPolicies/7001")
        .unwrap_or_else(|| panic!("folder policy drift: {}\n{}", r.stdout, r.stderr));
    assert_eq!(folder["scope"], "gcp:acme-prod");
    assert_eq!(folder["severity"], "critical");
    // Reach, live: the folder's allow reaches web-1 on its external address.
    assert_eq!(folder["reach"], "internet", "{folder}");
    assert_eq!(
        folder["exposed"][0],
        json!({"id": "projects/acme-prod/zones/us-central1-a/instances/web-1", "instance": "web-1",
            "address": "34.120.50.60", "ports": ["tcp/22"]}),
        "{folder}"
    );
    // The attack surface now, from the live snapshot: web-1 through the folder's SSH.
    let surface = parse(&ok(&db, &["exposure", "--format", "json"], 0).stdout);
    let web = surface["exposed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["instance"] == "web-1")
        .unwrap_or_else(|| panic!("web-1 in the attack surface: {surface}"));
    assert_eq!(web["scope"], "gcp:acme-prod", "{web}");
    assert_eq!(web["address"], "34.120.50.60", "{web}");
    assert!(
        web["opened_by"]
            .to_string()
            .contains("locations/global/firewallPolicies/7001"),
        "{web}"
    );
    assert!(web["sensitive"].to_string().contains("tcp/22"), "{web}");
    assert!(
        fake.server
            .requests("/projects/acme-prod/aggregated/instances")
            .iter()
            .any(|(r, _)| r.param("pageToken") == Some("2")),
        "the instance list is paged"
    );
    assert!(folder["world"].as_bool().unwrap());
    assert_eq!(folder["newly_allowed"][0]["ports"], "22");
    let a = &folder["attribution"];
    assert_eq!(a["status"], "exact", "{a}");
    assert_eq!(a["actors"][0]["principal"], "alice@acme.example");
    assert_eq!(
        a["actors"][0]["event_name"],
        "v1.compute.firewallPolicies.addRule"
    );
    // The folder policy does not apply to acme-dev, which is under the organization only.
    assert!(!items.iter().any(|i| i["scope"] == "gcp:acme-dev"
        && i["resource"] == "locations/global/firewallPolicies/7001"));
    let web = items
        .iter()
        .find(|i| i["resource"] == "projects/acme-prod/global/firewalls/allow-web")
        .unwrap();
    assert_eq!(web["newly_allowed"][0]["ports"], "8080");
    assert_eq!(
        web["attribution"]["status"], "exact",
        "{}",
        web["attribution"]
    );
    let actor = &web["attribution"]["actors"][0];
    assert_eq!(
        actor["principal"],
        "deployer@acme-prod.iam.gserviceaccount.com"
    );
    assert!(
        actor["chain"].to_string().contains("bob@acme.example"),
        "impersonation chain: {actor}"
    );
    assert_eq!(
        web["attribution"]["actors"].as_array().unwrap().len(),
        1,
        "mallory's old event is outside the window"
    );
    assert!(fake
        .server
        .requests("/v2/entries:list")
        .iter()
        .any(|(_, s)| *s == 429));
}

#[test]
fn gcp_failures_become_coverage_never_removal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let fake = start(day1());
    let cfg = config(dir.path(), &fake.server.url, "audit_logs = false");
    run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "day 1",
        ],
        0,
    );

    // acme-prod: firewall rules forbidden (403); acme-dev: networks list answers 500.
    fake.server.fault(
        "/projects/acme-prod/global/firewalls",
        Fault::Status(403, None),
    );
    fake.server.fault(
        "/projects/acme-dev/global/networks",
        Fault::Status(500, None),
    );
    let r = run(&db, &cfg, "2026-11-25T02:00:00Z", 3);
    assert!(
        r.stdout.contains("collected gcp:acme-prod: partial"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout.contains("collected gcp:acme-dev: partial"),
        "{}",
        r.stdout
    );
    let rep = report(dir.path());
    assert!(
        rep["drift"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["change"] != "removed"),
        "{rep}"
    );
    let cov = rep["coverage"].to_string();
    assert!(
        cov.contains("compute.firewalls.list") && cov.contains("permission-denied"),
        "{cov}"
    );
    assert!(cov.contains("compute.networks.list"), "{cov}");

    // A malformed body is a decode problem for that project only.
    fake.server
        .fault("/projects/acme-dev/global/firewalls", Fault::Malformed);
    let r = run(&db, &cfg, "2026-11-26T02:00:00Z", 3);
    assert!(
        r.stdout.contains("collected gcp:acme-dev: partial"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("collected gcp:acme-prod: complete"),
        "{}",
        r.stdout
    );
    assert!(report(dir.path())["coverage"]
        .to_string()
        .contains("decode"));
}

#[test]
fn gcp_test_credentials_need_a_loopback_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "https://compute.example.com", "");
    let r = netdrift(
        &dir.path().join("x.db"),
        &["config", "check", &cfg.display().to_string()],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "test-only credentials are refused unless `endpoint_url` is a loopback address"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn gcp_permissions_document_matches_the_code() {
    crate::support::privileges_match(
        "docs/iam/gcp-role.json",
        "includedPermissions",
        netdrift_provider_gcp::PERMISSIONS,
        "providers/gcp/src",
        |w| {
            (w.starts_with("compute.")
                || w.starts_with("logging.")
                || w.starts_with("resourcemanager."))
                && w.ends_with(".list")
        },
    );
}

#[test]
fn gcp_remediation_document_matches_the_code() {
    crate::support::privileges_match(
        "docs/iam/gcp-remediate.json",
        "includedPermissions",
        netdrift_provider_gcp::remediate::REMEDIATION_PERMISSIONS,
        "providers/gcp/src",
        |w| {
            w.starts_with("compute.")
                && [
                    ".create",
                    ".update",
                    ".delete",
                    ".updatePolicy",
                    "Operations.get",
                ]
                .iter()
                .any(|e| w.ends_with(e))
        },
    );
}

/// Serve `items` one page at a time (`page_size` per page), with `nextPageToken` (GCP) in the
/// response under `key`; the token is the offset.
pub fn gcp_page(
    items: &[serde_json::Value],
    token: Option<&str>,
    page_size: usize,
    key: &str,
    kind: &str,
) -> serde_json::Value {
    let start: usize = token.and_then(|t| t.parse().ok()).unwrap_or(0);
    let end = (start + page_size).min(items.len());
    let mut v = serde_json::json!({ "kind": kind, key: items[start.min(items.len())..end] });
    if end < items.len() {
        v["nextPageToken"] = serde_json::json!(end.to_string());
    }
    v
}

#[test]
fn gcp_failed_discovery_and_unreadable_logs_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let fake = start(day1());
    let cfg = config(dir.path(), &fake.server.url, "");
    // The organization's folders and projects cannot be listed: no project is known, which is a
    // finding naming the source and the cause, never an empty, clean report.
    fake.server.fault("/v3/", Fault::Status(403, None));
    let r = run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("coverage: discovery-failed gcp:acme"))
        .unwrap_or_else(|| panic!("{}\n{}", r.stdout, r.stderr));
    assert!(line.contains("permission-denied"), "{line}");
    assert!(!r.stdout.contains("collected gcp:"), "{}", r.stdout);
    // Discovery works again; the first Cloud Logging read is refused.
    fake.server
        .fault("/v2/entries:list", Fault::Status(403, None));
    let r = run(&db, &cfg, "2026-11-24T03:00:00Z", 3);
    assert!(
        r.stdout.contains("collected gcp:acme-prod: complete"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("coverage: audit-read-failed gcp:acme-")
                && l.contains("could not be read")),
        "{}",
        r.stdout
    );
    let rep = report(dir.path());
    let failed: Vec<&Value> = rep["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["code"] == "audit-read-failed")
        .collect();
    assert_eq!(failed.len(), 1, "{rep}");
    assert_eq!(failed[0]["problems"][0]["code"], "permission-denied");
    // The Admin Activity log cannot be switched off, so a refused read is the logging finding:
    // the project's log is unreadable. The other project's read says what was checked.
    let unreadable: Vec<&Value> = rep["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["code"] == "audit-logs-unreadable")
        .collect();
    assert_eq!(unreadable.len(), 1, "{rep}");
    assert_eq!(unreadable[0]["scope"], failed[0]["scope"], "{rep}");
    let evidence = unreadable[0]["evidence"][0].as_str().unwrap();
    assert!(
        evidence.starts_with("Cloud Logging entries.list on projects/acme-")
            && evidence.contains("refused"),
        "{evidence}"
    );
    assert!(
        unreadable[0]["message"]
            .as_str()
            .unwrap()
            .contains("its audit log cannot be read"),
        "{rep}"
    );
}

#[test]
fn gcp_revert_apply_patches_the_rule_back_through_compute() {
    let fake = start(day1());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let cfg = config(dir.path(), &fake.server.url, "audit_logs = false");
    run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    // Someone disables the SSH deny in acme-prod.
    fake.state
        .lock()
        .unwrap()
        .firewalls
        .get_mut("acme-prod")
        .unwrap()[0]["disabled"] = json!(true);
    run(&db, &cfg, "2026-11-25T02:00:00Z", 1);
    let drift = parse(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let item = drift["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "projects/acme-prod/global/firewalls/deny-ssh-world")
        .unwrap_or_else(|| panic!("{drift:#}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = cfg.display().to_string();
    let r = ok(
        &db,
        &[
            "revert", &item, "--apply", "--yes", "--ticket", "CHG-9", "--config", &c,
        ],
        0,
    );
    assert!(
        r.stdout.contains("is gone on the next collection"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    let writes = fake.state.lock().unwrap().writes.clone();
    assert_eq!(
        writes,
        [(
            "PATCH".to_string(),
            "/compute/v1/projects/acme-prod/global/firewalls/deny-ssh-world".to_string(),
            r#"{"disabled":false}"#.to_string()
        )],
        "one merge patch of the one field that changed"
    );
    let after = parse(&ok(&db, &["drift", "--format", "json"], 0).stdout);
    assert_eq!(after["drift"], json!([]));
}

#[test]
fn gcp_watch_re_reads_the_named_rule_and_a_policy_change_re_collects_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let fake = start(day1());
    let cfg = config(dir.path(), &fake.server.url, "");
    run(&db, &cfg, "2026-11-24T02:00:00Z", 3);
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "day 1",
        ],
        0,
    );
    let r = crate::support::watch_at(&db, &cfg, "2026-11-24T09:00:00Z", &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // bob, through the deployer service account, opens allow-web to the world at 11:00.
    {
        let mut s = fake.state.lock().unwrap();
        let web = s
            .firewalls
            .get_mut("acme-prod")
            .unwrap()
            .iter_mut()
            .find(|f| f["name"] == "allow-web")
            .unwrap();
        web["allowed"] = json!([{"IPProtocol": "tcp", "ports": ["443", "8080"]}]);
        let patch = entry(
            "projects/acme-prod",
            Some("acme-prod"),
            "v1.compute.firewalls.patch",
            "projects/acme-prod/global/firewalls/allow-web",
            (
                "deployer@acme-prod.iam.gserviceaccount.com",
                Some("bob@acme.example"),
            ),
            "2026-11-24T11:00:00.000Z",
            "w2",
        );
        s.entries.push(patch);
    }
    let lists = || {
        fake.server
            .requests("/global/firewalls")
            .iter()
            .filter(|(r, _)| r.path.ends_with("/global/firewalls") && r.method == "GET")
            .count()
    };
    let before = lists();
    let r = crate::support::watch_at(&db, &cfg, "2026-11-24T11:30:00Z", &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("watched gcp:acme-prod: 1 event(s), re-read projects/acme-prod/global/firewalls/allow-web"),
        "{}",
        r.stdout
    );
    assert_eq!(lists(), before, "one rule read, no listing: {}", r.stdout);
    assert!(r.stdout.contains("impersonated by bob@"), "{}", r.stdout);
    // alice adds an allow to the folder's hierarchical policy: the project is re-collected
    // whole, hierarchy included.
    {
        let mut s = fake.state.lock().unwrap();
        s.hierarchical.get_mut("folders/456").unwrap()[0]["rules"] = json!([
            policy_rule(100, "allow", "22"),
            policy_rule(3000, "goto_next", "0-65535")
        ]);
        let add = entry(
            "projects/acme-prod",
            Some("acme-prod"),
            "v1.compute.firewallPolicies.addRule",
            "locations/global/firewallPolicies/7001",
            ("alice@acme.example", None),
            "2026-11-24T12:00:00.000Z",
            "w3",
        );
        s.entries.push(add);
    }
    let r = crate::support::watch_at(&db, &cfg, "2026-11-24T12:30:00Z", &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("watched gcp:acme-prod: 1 event(s), re-collected whole (v1.compute.firewallPolicies.addRule"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("locations/global/firewallPolicies/7001"),
        "{}",
        r.stdout
    );
}
