//! `netdrift revert`: the steps for GCP and Azure items, made on the clouds' native JSON by
//! each call's documented semantics (`firewalls.patch` is a JSON merge patch, `insert` adds
//! the body, `delete` removes; `securityRules/write` creates or replaces a rule by name,
//! `securityRules/delete` removes it), then imported again: no drift may remain on the
//! resource, and no step may touch a rule that did not change. AWS steps are made through
//! boto3 against moto (tests/it/aws.rs).

use std::path::Path;

use serde_json::{json, Value};

use crate::support::{demo, json as parse, netdrift, ok, repo};

const SUB: &str = "0b1f6471-1bf0-4dda-aec3-111122223333";

fn import(db: &Path, provider: &str, scope: &str, at: &str, file: &Path) {
    ok(
        db,
        &[
            "import",
            "--provider",
            provider,
            "--scope",
            scope,
            "--at",
            at,
            &file.display().to_string(),
        ],
        0,
    );
}

fn write(dir: &Path, name: &str, v: &Value) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

fn items(db: &Path) -> Vec<Value> {
    let r = netdrift(db, &["drift", "--format", "json"]);
    parse(&r.stdout)["drift"].as_array().unwrap().clone()
}

/// Make GCP firewall steps on a `firewalls.list` array.
fn gcp_apply(firewalls: &mut Vec<Value>, steps: &[Value]) {
    for s in steps {
        let p = &s["params"];
        let name = p["firewall"]
            .as_str()
            .or(p["body"]["name"].as_str())
            .unwrap();
        let at = firewalls.iter().position(|f| f["name"] == name);
        match s["call"].as_str().unwrap() {
            "compute.firewalls.patch" => {
                netdrift_provider_file::gcp::merge_patch(&mut firewalls[at.unwrap()], &p["body"])
            }
            "compute.firewalls.delete" => {
                firewalls.remove(at.unwrap());
            }
            "compute.firewalls.insert" => {
                assert!(at.is_none(), "insert of an existing rule");
                firewalls.push(p["body"].clone());
            }
            other => panic!("unexpected call {other}"),
        }
    }
}

/// Make Azure security rule steps on an NSG list page.
fn azure_apply(page: &mut Value, steps: &[Value]) {
    for s in steps {
        let p = &s["params"];
        assert_eq!(p["subscriptionId"], SUB);
        let nsg = page["value"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|n| {
                n["name"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(p["networkSecurityGroupName"].as_str().unwrap())
            })
            .unwrap();
        let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
        let name = p["securityRuleName"].as_str().unwrap();
        let at = rules
            .iter()
            .position(|r| r["name"].as_str().unwrap().eq_ignore_ascii_case(name));
        match s["call"].as_str().unwrap() {
            "Microsoft.Network/networkSecurityGroups/securityRules/write" => {
                let props = p["body"]["properties"].clone();
                // Azure refuses two rules of one direction at one priority.
                let clash = rules.iter().any(|r| {
                    !r["name"].as_str().unwrap().eq_ignore_ascii_case(name)
                        && r["properties"]["direction"] == props["direction"]
                        && r["properties"]["priority"] == props["priority"]
                });
                assert!(!clash, "SecurityRuleConflict at step {s:#}");
                match at {
                    Some(i) => rules[i]["properties"] = props,
                    None => rules.push(json!({"name": name, "properties": props})),
                }
            }
            "Microsoft.Network/networkSecurityGroups/securityRules/delete" => {
                rules.remove(at.unwrap());
            }
            other => panic!("unexpected call {other}"),
        }
    }
}

#[test]
fn revert_gcp_and_azure_steps_restore_the_approved_access() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let fw_day1: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(demo("gcp/day1/firewalls.json")).unwrap())
            .unwrap();
    let nsg_day1 = parse(
        &std::fs::read_to_string(repo().join("testdata/terraform/estate/azure-nsgs.json")).unwrap(),
    );
    import(
        &db,
        "gcp",
        "acme-prod",
        "2026-11-24T02:00:00Z",
        &write(dir.path(), "fw1.json", &json!(fw_day1)),
    );
    import(
        &db,
        "azure",
        SUB,
        "2026-11-24T02:00:00Z",
        &write(dir.path(), "nsg1.json", &nsg_day1),
    );
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );

    // GCP: the SSH deny disabled, the load balancer rule deleted, an admin rule added.
    let mut fw = fw_day1.clone();
    let deny = fw
        .iter_mut()
        .find(|f| f["name"] == "deny-ssh-internet")
        .unwrap();
    deny["disabled"] = json!(true);
    fw.retain(|f| f["name"] != "allow-https-lb");
    let mut admin = fw_day1[0].clone();
    admin["name"] = json!("allow-admin");
    admin["selfLink"] = json!(
        "https://www.googleapis.com/compute/v1/projects/acme-prod/global/firewalls/allow-admin"
    );
    admin["sourceRanges"] = json!(["0.0.0.0/0"]);
    admin["allowed"] = json!([{"IPProtocol": "tcp", "ports": ["8443"]}]);
    fw.push(admin);
    // Azure, app-nsg: the RDP deny and allow swap priorities, the management SSH rule goes,
    // and an allow from anywhere on 8080 appears.
    let mut nsg = nsg_day1.clone();
    {
        let app = nsg["value"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|n| n["name"] == "app-nsg")
            .unwrap();
        let rules = app["properties"]["securityRules"].as_array_mut().unwrap();
        for r in rules.iter_mut() {
            match r["name"].as_str().unwrap() {
                "DenyRdpInternet" => r["properties"]["priority"] = json!(300),
                "AllowRdpVendors" => r["properties"]["priority"] = json!(150),
                _ => {}
            }
        }
        let mut extra = rules[0].clone();
        extra["name"] = json!("AllowAll8080");
        extra["properties"]["priority"] = json!(170);
        extra["properties"]["destinationPortRange"] = json!("8080");
        extra["properties"]["sourceAddressPrefix"] = json!("*");
        rules.retain(|r| r["name"] != "AllowMgmtSsh");
        rules.push(extra);
    }
    import(
        &db,
        "gcp",
        "acme-prod",
        "2026-11-25T02:00:00Z",
        &write(dir.path(), "fw2.json", &json!(fw)),
    );
    import(
        &db,
        "azure",
        SUB,
        "2026-11-25T02:00:00Z",
        &write(dir.path(), "nsg2.json", &nsg),
    );
    let drift = items(&db);
    assert!(drift.len() >= 4, "{drift:#?}");
    for i in &drift {
        let id = i["id"].as_str().unwrap();
        let plan = parse(&ok(&db, &["revert", id, "--format", "json"], 0).stdout);
        let steps = plan["steps"].as_array().unwrap().clone();
        assert_eq!(plan["commands"].as_array().unwrap().len(), steps.len());
        assert!(!steps.is_empty(), "{plan:#}");
        match i["provider"].as_str().unwrap() {
            "gcp" => gcp_apply(&mut fw, &steps),
            _ => azure_apply(&mut nsg, &steps),
        }
        let calls: Vec<&str> = steps.iter().map(|s| s["call"].as_str().unwrap()).collect();
        let resource = i["resource"].as_str().unwrap();
        if resource.ends_with("/deny-ssh-internet") {
            assert_eq!(calls, ["compute.firewalls.patch"]);
            assert_eq!(
                steps[0]["params"]["body"],
                json!({"disabled": false}),
                "only what changed"
            );
            assert_eq!(
                plan["commands"][0],
                "gcloud compute firewall-rules update deny-ssh-internet --project acme-prod --no-disabled"
            );
        } else if resource.ends_with("/allow-https-lb") {
            assert_eq!(calls, ["compute.firewalls.insert"]);
        } else if resource.ends_with("/allow-admin") {
            assert_eq!(calls, ["compute.firewalls.delete"]);
            assert_eq!(
                plan["commands"][0],
                "gcloud compute firewall-rules delete allow-admin --project acme-prod --quiet"
            );
        } else if resource.ends_with("/app-nsg") && i["direction"] == "ingress" {
            let names: Vec<&str> = steps
                .iter()
                .map(|s| s["params"]["securityRuleName"].as_str().unwrap())
                .collect();
            assert!(
                !names.contains(&"AllowHttpsInbound"),
                "never a step for an unchanged rule: {names:?}"
            );
            assert_eq!(
                names[0], "AllowAll8080",
                "the added allow goes first: {names:?}"
            );
            assert!(
                steps
                    .iter()
                    .any(|s| s["why"].as_str().unwrap().contains("for a moment")),
                "the swap goes through a free priority: {plan:#}"
            );
            assert!(plan["commands"][0].as_str().unwrap().starts_with(&format!(
                "az network nsg rule delete --subscription {SUB} --resource-group prod-rg --nsg-name app-nsg --name AllowAll8080"
            )));
        }
    }
    import(
        &db,
        "gcp",
        "acme-prod",
        "2026-11-26T02:00:00Z",
        &write(dir.path(), "fw3.json", &json!(fw)),
    );
    import(
        &db,
        "azure",
        SUB,
        "2026-11-26T02:00:00Z",
        &write(dir.path(), "nsg3.json", &nsg),
    );
    let left: Vec<Value> = items(&db)
        .into_iter()
        .filter(|i| i["effect"] != "cosmetic")
        .collect();
    assert_eq!(left, Vec::<Value>::new(), "no drift after the steps");
}

#[test]
fn revert_of_an_unknown_item_or_a_deleted_group_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let r = netdrift(&db, &["revert", "d-0000"]);
    assert_eq!(r.code, 2);
    let sg1 = demo("aws/day1/security-groups.json");
    ok(
        &db,
        &[
            "import",
            "--provider",
            "aws",
            "--scope",
            "111122223333",
            "--region",
            "us-east-1",
            "--at",
            "2026-11-24T02:00:00Z",
            &sg1,
        ],
        0,
    );
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    let r = netdrift(&db, &["revert", "d-0000"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no current drift item \"d-0000\""),
        "{}",
        r.stderr
    );
    // db-prod deleted: its id cannot come back.
    let mut doc = parse(&std::fs::read_to_string(&sg1).unwrap());
    doc["SecurityGroups"]
        .as_array_mut()
        .unwrap()
        .retain(|g| g["GroupId"] != "sg-0a1b2c3d4e5f60002");
    let f = write(dir.path(), "sg2.json", &doc);
    ok(
        &db,
        &[
            "import",
            "--provider",
            "aws",
            "--scope",
            "111122223333",
            "--region",
            "us-east-1",
            "--at",
            "2026-11-25T02:00:00Z",
            &f.display().to_string(),
        ],
        0,
    );
    let gone = items(&db)
        .into_iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60002")
        .unwrap();
    let r = netdrift(&db, &["revert", gone["id"].as_str().unwrap()]);
    assert_eq!(r.code, 1, "no steps is not success: {}", r.stdout);
    assert!(r.stdout.contains("the group was deleted"), "{}", r.stdout);
}

/// Make firewall policy steps on a `firewallPolicies.list` page.
fn policy_apply(page: &mut Value, steps: &[Value]) {
    for s in steps {
        let p = &s["params"];
        let id = p["firewallPolicy"].as_str().unwrap();
        let policy = page["items"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|x| x["name"] == id)
            .unwrap_or_else(|| panic!("policy {id}"));
        let rules = policy["rules"].as_array_mut().unwrap();
        let at = |rules: &Vec<Value>| rules.iter().position(|r| r["priority"] == p["priority"]);
        match s["call"].as_str().unwrap() {
            "compute.firewallPolicies.patchRule" => {
                let i = at(rules).unwrap();
                netdrift_provider_file::gcp::merge_patch(&mut rules[i], &p["body"]);
            }
            "compute.firewallPolicies.removeRule" => {
                let i = at(rules).unwrap();
                rules.remove(i);
            }
            "compute.firewallPolicies.addRule" => rules.push(p["body"].clone()),
            other => panic!("unexpected call {other}"),
        }
    }
}

#[test]
fn revert_firewall_policy_rules_through_the_policy_calls() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("netdrift.db");
    let read = |d: &str| {
        parse(&std::fs::read_to_string(demo(&format!("gcp/{d}/firewall-policies.json"))).unwrap())
    };
    import(
        &db,
        "gcp",
        "acme-prod",
        "2026-11-24T02:00:00Z",
        Path::new(&demo("gcp/day1/firewall-policies.json")),
    );
    ok(
        &db,
        &[
            "baseline", "approve", "--all", "--by", "sec", "--reason", "initial",
        ],
        0,
    );
    import(
        &db,
        "gcp",
        "acme-prod",
        "2026-11-25T02:00:00Z",
        Path::new(&demo("gcp/day2/firewall-policies.json")),
    );
    let mut page = read("day2");
    let drift = items(&db);
    assert!(!drift.is_empty());
    for i in &drift {
        let plan = parse(
            &ok(
                &db,
                &["revert", i["id"].as_str().unwrap(), "--format", "json"],
                0,
            )
            .stdout,
        );
        let steps = plan["steps"].as_array().unwrap().clone();
        assert!(!steps.is_empty(), "{plan:#}");
        assert!(
            steps.iter().all(|s| s["call"]
                .as_str()
                .unwrap()
                .starts_with("compute.firewallPolicies.")),
            "{plan:#}"
        );
        assert!(plan["commands"][0]
            .as_str()
            .unwrap()
            .starts_with("gcloud compute firewall-policies rules "));
        policy_apply(&mut page, &steps);
    }
    import(
        &db,
        "gcp",
        "acme-prod",
        "2026-11-26T02:00:00Z",
        &write(dir.path(), "p3.json", &page),
    );
    let left: Vec<Value> = items(&db)
        .into_iter()
        .filter(|i| i["effect"] != "cosmetic")
        .collect();
    assert_eq!(left, Vec::<Value>::new(), "no drift after the steps");
}
