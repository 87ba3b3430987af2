//! Live collection from the GCP and Azure fakes (the same in-process HTTP server the tests use):
//! 5 GCP projects × 2,000 VPC firewall rules, and 5 Azure subscriptions × 2,000 NSG rules
//! (20 NSGs of 100 rules). The fakes run in this process; each collection runs in a child
//! process, so its time and peak memory (VmHWM) are its own.
//!
//! `cargo bench --features gcp,azure --bench live_collect`

#[path = "../tests/it/fake.rs"]
#[allow(dead_code)]
mod fake;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};

use fake::{Request, Response, Server};

const PROJECTS: usize = 5;
const SUBSCRIPTIONS: usize = 5;
const RULES: usize = 2_000;
const NSG_RULES: usize = 100;

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn page(items: &[Value], start: usize, size: usize) -> (Vec<Value>, Option<usize>) {
    let end = (start + size).min(items.len());
    (
        items[start.min(items.len())..end].to_vec(),
        (end < items.len()).then_some(end),
    )
}

fn gcp_firewalls(project: &str) -> Vec<Value> {
    let base = "https://www.googleapis.com/compute/v1";
    (0..RULES)
        .map(|i| {
            let octet = i % 250;
            json!({
                "kind": "compute#firewall", "id": format!("{}", 10_000 + i),
                "name": format!("rule-{i:05}"), "priority": 1000 + (i % 50) as i64,
                "network": format!("{base}/projects/{project}/global/networks/vpc-{}", i % 4),
                "direction": "INGRESS", "disabled": false,
                "sourceRanges": [format!("10.{octet}.{}.0/24", i % 200)],
                "allowed": [{"IPProtocol": "tcp", "ports": [format!("{}", 1000 + i % 5000)]}],
                "targetTags": [format!("app-{}", i % 40)],
                "selfLink": format!("{base}/projects/{project}/global/firewalls/rule-{i:05}"),
            })
        })
        .collect()
}

fn azure_nsgs(sub: &str) -> Vec<Value> {
    (0..RULES / NSG_RULES)
        .map(|n| {
            let id = format!(
                "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-{n:02}"
            );
            let rules: Vec<Value> = (0..NSG_RULES)
                .map(|r| {
                    json!({"name": format!("r{r:03}"), "id": format!("{id}/securityRules/r{r:03}"),
                        "properties": {"protocol": "Tcp", "sourcePortRange": "*",
                            "destinationPortRange": format!("{}", 2000 + r),
                            "sourceAddressPrefix": format!("10.{n}.{r}.0/24"),
                            "destinationAddressPrefix": "*", "access": if r % 7 == 0 { "Deny" } else { "Allow" },
                            "priority": 100 + r, "direction": "Inbound"}})
                })
                .collect();
            json!({"name": format!("nsg-{n:02}"), "id": id, "type": "Microsoft.Network/networkSecurityGroups",
                "location": "westeurope", "properties": {"securityRules": rules, "defaultSecurityRules": [],
                "networkInterfaces": [{"id": format!("{id}-nic")}]}})
        })
        .collect()
}

fn gcp_server() -> Server {
    let firewalls: Vec<Vec<Value>> = (0..PROJECTS)
        .map(|p| gcp_firewalls(&format!("p{p}")))
        .collect();
    Server::start(Arc::new(move |req: &Request| {
        let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        let start: usize = req
            .param("pageToken")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let size: usize = req
            .param("maxResults")
            .and_then(|t| t.parse().ok())
            .unwrap_or(500);
        let list = |items: &[Value], kind: &str| {
            let (items, next) = page(items, start, size);
            let mut v = json!({"kind": kind, "items": items});
            if let Some(n) = next {
                v["nextPageToken"] = json!(n.to_string());
            }
            Response::json(&v)
        };
        match parts.as_slice() {
            ["compute", "v1", "projects", p, "global", "firewalls"] => {
                let i: usize = p.trim_start_matches('p').parse().unwrap_or(0);
                list(&firewalls[i], "compute#firewallList")
            }
            ["compute", "v1", "projects", _, "global", "networks"] => {
                list(&[], "compute#networkList")
            }
            ["compute", "v1", "projects", _, "aggregated", "instances"] => {
                Response::json(&json!({"kind": "compute#instanceAggregatedList", "items": {}}))
            }
            ["compute", "v1", "projects", _, "global", "firewallPolicies"]
            | ["compute", "v1", "projects", _, "regions", _, "firewallPolicies"] => {
                list(&[], "compute#firewallPolicyList")
            }
            _ => Response::error(404, "no route"),
        }
    }))
}

fn azure_server() -> Server {
    let nsgs: Vec<Vec<Value>> = (0..SUBSCRIPTIONS)
        .map(|s| azure_nsgs(&format!("s{s}")))
        .collect();
    let url = Arc::new(std::sync::Mutex::new(String::new()));
    let url2 = url.clone();
    let server = Server::start(Arc::new(move |req: &Request| {
        let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        let start: usize = req
            .param("$skiptoken")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        match parts.as_slice() {
            ["subscriptions", s, "providers", "Microsoft.Network", "networkSecurityGroups"] => {
                let i: usize = s.trim_start_matches('s').parse().unwrap_or(0);
                let (items, next) = page(&nsgs[i], start, 5);
                let mut v = json!({"value": items});
                if let Some(n) = next {
                    v["nextLink"] = json!(format!(
                        "{}{}?api-version=2024-03-01&$skiptoken={n}",
                        url2.lock().unwrap(),
                        req.path
                    ));
                }
                Response::json(&v)
            }
            ["subscriptions", _, "providers", "Microsoft.Network", "networkInterfaces" | "publicIPAddresses"] => {
                Response::json(&json!({"value": []}))
            }
            _ => Response::error(404, "no route"),
        }
    }));
    *url.lock().unwrap() = server.url.clone();
    server
}

fn child(which: &str, url: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let since = |_: &str| Utc::now() - chrono::Duration::days(1);
    let t = Instant::now();
    let (scopes, rules) = match which {
        "gcp" => {
            let src = netdrift_provider_gcp::GcpSource {
                name: "bench".into(),
                projects: (0..PROJECTS).map(|p| format!("p{p}")).collect(),
                organization: None,
                folders: Vec::new(),
                regions: Some(vec!["us-central1".into()]),
                endpoint_url: Some(url.into()),
                credentials: netdrift_provider_gcp::Credentials::Anonymous,
                concurrency: 8,
                scope_timeout: Duration::from_secs(600),
                max_attempts: 3,
                audit_logs: false,
            };
            let c = rt.block_on(netdrift_provider_gcp::collect(
                &src,
                &since,
                Utc::now(),
                &Default::default(),
            ));
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            let rules: usize = c
                .scopes
                .iter()
                .flat_map(|s| &s.resources)
                .map(|r| r.rules.len())
                .sum();
            (c.scopes.len(), rules)
        }
        _ => {
            let src = netdrift_provider_azure::AzureSource {
                name: "bench".into(),
                subscriptions: Some((0..SUBSCRIPTIONS).map(|s| format!("s{s}")).collect()),
                endpoint_url: Some(url.into()),
                token_scope: "https://management.azure.com/.default".into(),
                static_token: Some("bench".into()),
                concurrency: 8,
                scope_timeout: Duration::from_secs(600),
                max_attempts: 3,
                activity_log: false,
            };
            let c = rt.block_on(netdrift_provider_azure::collect(
                &src,
                &since,
                Utc::now(),
                &Default::default(),
            ));
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            let rules: usize = c
                .scopes
                .iter()
                .flat_map(|s| &s.resources)
                .map(|r| r.rules.iter().filter(|x| !x.default_rule).count())
                .sum();
            (c.scopes.len(), rules)
        }
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{which}: {scopes} scopes, {rules} rules collected and converted in {secs:.2} s ({:.0} rules/s), peak {} MiB",
        rules as f64 / secs,
        peak_kib() / 1024
    );
}

fn main() {
    if let (Ok(which), Ok(url)) = (
        std::env::var("NETDRIFT_BENCH_CHILD"),
        std::env::var("NETDRIFT_BENCH_URL"),
    ) {
        child(&which, &url);
        return;
    }
    let (gcp, azure) = (gcp_server(), azure_server());
    for (which, url) in [("gcp", &gcp.url), ("azure", &azure.url)] {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .env("NETDRIFT_BENCH_CHILD", which)
            .env("NETDRIFT_BENCH_URL", url)
            .status()
            .unwrap();
        assert!(status.success(), "benchmark {which} failed");
    }
}
