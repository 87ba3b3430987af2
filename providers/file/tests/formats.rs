//! Every real and official sample imports or parses; conversion goldens; audit-log formats.

use std::io::Write;
use std::path::PathBuf;

use netdrift_provider_file::audit::{self, AuditParse};
use netdrift_provider_file::{convert_document, import_files, ImportError};
use netdrift_snapshots::{ActorType, KeyType, Provider};
use serde_json::Value;

fn root() -> PathBuf {
    // At run time: the binary may have been built from a checkout at another path.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("../..")
}

fn read(rel: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")),
    )
    .unwrap()
}

/// Compare with testdata/golden/NAME.json (UPDATE_GOLDENS=1 rewrites it).
fn golden(name: &str, actual: &Value) {
    let path = root().join("testdata/golden").join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var("UPDATE_GOLDENS").is_ok() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "golden {} missing: run with UPDATE_GOLDENS=1 and review",
            path.display()
        )
    });
    assert_eq!(
        text, want,
        "golden {name} differs (UPDATE_GOLDENS=1 to accept an intended change)"
    );
}

#[test]
fn state_dump_goldens() {
    let cases: &[(&str, Provider, &str, &str)] = &[
        (
            "azure_nsg_list_all",
            Provider::Azure,
            "subid",
            "testdata/fixtures/azure_nsg_list_all_2024-03-01.body.json",
        ),
        (
            "aws_security_groups",
            Provider::Aws,
            "111122223333",
            "demo/aws/day2/security-groups.json",
        ),
        (
            "aws_security_group_rules",
            Provider::Aws,
            "111122223333",
            "testdata/aws/describe-security-group-rules.json",
        ),
        (
            "aws_network_acls",
            Provider::Aws,
            "111122223333",
            "demo/aws/day1/network-acls.json",
        ),
        (
            "gcp_gcloud_list",
            Provider::Gcp,
            "acme-prod",
            "demo/gcp/day1/firewalls.json",
        ),
        (
            "gcp_rest_page",
            Provider::Gcp,
            "acme-prod",
            "testdata/gcp/firewalls-rest-page.json",
        ),
        (
            "azure_cli_flattened",
            Provider::Azure,
            "0b1f6471-1bf0-4dda-aec3-111122223333",
            "demo/azure/day2/nsgs.json",
        ),
    ];
    for (name, provider, account, file) in cases {
        let resources = convert_document(*provider, account, &read(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!resources.is_empty(), "{file} converted to nothing");
        golden(name, &serde_json::to_value(&resources).unwrap());
    }
}

#[test]
fn azure_spec_example_response_imports() {
    let spec = read("testdata/fixtures/azure_spec_NetworkSecurityGroupListAll_2024-03-01.json");
    let body = &spec["responses"]["200"]["body"];
    let resources = convert_document(Provider::Azure, "subid", body).unwrap();
    let direct = convert_document(
        Provider::Azure,
        "subid",
        &read("testdata/fixtures/azure_nsg_list_all_2024-03-01.body.json"),
    )
    .unwrap();
    assert_eq!(resources, direct);
    assert_eq!(resources.len(), 2);
    // Default rules are part of every NSG.
    assert!(resources
        .iter()
        .all(|r| r.rules.iter().filter(|x| x.default_rule).count() == 6));
}

#[test]
fn describe_security_groups_and_rules_merge_rule_ids() {
    let files = [
        root().join("demo/aws/day1/security-groups.json"),
        root().join("testdata/aws/describe-security-group-rules.json"),
    ];
    let merged = import_files(Provider::Aws, "111122223333", &files).unwrap();
    let web = merged
        .iter()
        .find(|r| r.id.as_str() == "sg-0a1b2c3d4e5f60001")
        .unwrap();
    assert_eq!(web.name.as_deref(), Some("web-prod"));
    let ids: Vec<_> = web.rules.iter().filter_map(|r| r.rule_id.clone()).collect();
    assert!(
        ids.contains(&"sgr-0d15794cdb17bf29e".to_string()),
        "{ids:?}"
    );
}

fn expect_import_error(provider: Provider, body: &[u8], needles: &[&str]) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(body).unwrap();
    let err = import_files(provider, "acct", &[f.path()]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&f.path().display().to_string()),
        "error does not name the file: {msg}"
    );
    for n in needles {
        assert!(msg.contains(n), "error {msg:?} lacks {n:?}");
    }
}

#[test]
fn bad_input_names_file_path_and_value() {
    let sg = |cidr: &str, proto: &str, to: i64| {
        format!(
            r#"{{"SecurityGroups":[{{"GroupId":"sg-1","IpPermissions":[{{"IpProtocol":"{proto}","FromPort":22,"ToPort":{to},"IpRanges":[{{"CidrIp":"{cidr}"}}]}}]}}]}}"#
        )
    };
    expect_import_error(
        Provider::Aws,
        sg("10.0.0.0/33", "tcp", 22).as_bytes(),
        &[
            "$.SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp",
            "10.0.0.0/33",
        ],
    );
    expect_import_error(
        Provider::Aws,
        sg("300.1.1.1/32", "tcp", 22).as_bytes(),
        &["CidrIp", "300.1.1.1/32"],
    );
    expect_import_error(
        Provider::Aws,
        sg("10.0.0.0/8", "tcpx", 22).as_bytes(),
        &["IpProtocol", "tcpx", "unknown protocol"],
    );
    expect_import_error(
        Provider::Aws,
        sg("10.0.0.0/8", "tcp", 70000).as_bytes(),
        &["FromPort", "70000", "port outside 0-65535"],
    );
    expect_import_error(
        Provider::Aws,
        b"{\"SecurityGroups\": [{\"GroupId\": \"sg-1\",",
        &["not valid JSON", "line 1"],
    );
    expect_import_error(Provider::Aws, b"", &["empty"]);
    expect_import_error(Provider::Aws, b"  \n", &["empty"]);
    expect_import_error(
        Provider::Aws,
        &std::fs::read(root().join("demo/gcp/day1/firewalls.json")).unwrap(),
        &["not an AWS EC2 dump"],
    );
    expect_import_error(
        Provider::Gcp,
        &std::fs::read(root().join("demo/aws/day1/security-groups.json")).unwrap(),
        &["not a GCP firewall dump"],
    );
    expect_import_error(
        Provider::Azure,
        &std::fs::read(root().join("demo/aws/day1/security-groups.json")).unwrap(),
        &["not an Azure NSG dump"],
    );
    expect_import_error(Provider::Gcp, br#"[{"kind":"compute#firewall","name":"x","network":"n","allowed":[{"IPProtocol":"tcp","ports":["22-99999"]}]}]"#, &["$[0].allowed[0].ports[0]", "22-99999"]);
    expect_import_error(
        Provider::Azure,
        br#"{"value":[{"id":"/subscriptions/s/x","type":"Microsoft.Network/networkSecurityGroups","properties":{"securityRules":[{"name":"r","properties":{"protocol":"Tcp","sourceAddressPrefix":"10.0.0.0/33","destinationAddressPrefix":"*","destinationPortRange":"22","access":"Allow","priority":100,"direction":"Inbound"}}]}}]}"#,
        &["$.value[0].properties.securityRules[0].properties.sourceAddressPrefix", "10.0.0.0/33"],
    );
}

fn panther(file: &str, provider: Provider) -> Vec<(String, AuditParse)> {
    let text =
        std::fs::read_to_string(root().join("testdata/fixtures/panther").join(file)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let name = v["test_name"].as_str().unwrap().to_string();
            let bytes = serde_json::to_vec(&v["log"]).unwrap();
            let parsed = audit::parse_file(provider, &name, &bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, parsed)
        })
        .collect()
}

#[test]
fn panther_cloudtrail_samples_parse() {
    let all = panther("panther_aws_network_tests.jsonl", Provider::Aws);
    assert_eq!(all.len(), 14);
    for (name, p) in &all {
        assert!(p.skipped.is_empty(), "{name}: {:?}", p.skipped);
    }
    let events: Vec<_> = all.iter().flat_map(|(_, p)| p.events.iter()).collect();
    assert!(events
        .iter()
        .any(|e| e.event_name == "CreateNetworkAclEntry"
            && e.resources.iter().any(|r| r.starts_with("acl-"))));
    let auth = events
        .iter()
        .find(|e| e.event_name == "AuthorizeSecurityGroupIngress")
        .unwrap();
    assert_eq!(auth.resources, vec!["sg-1"]);
    assert_eq!(auth.payload.len(), 1);
    assert_eq!(auth.actor.kind, Some(ActorType::RoleSession));
    assert_eq!(
        auth.actor.role.as_deref(),
        Some("arn:aws:iam::123456789012:role/tester")
    );
    assert_eq!(auth.actor.tool.as_deref(), Some("console"));
}

#[test]
fn panther_gcp_samples_parse_with_renamed_keys() {
    let all = panther("panther_gcp_network_tests.jsonl", Provider::Gcp);
    assert_eq!(all.len(), 15);
    let mut firewall_events = 0;
    let mut stubs = 0;
    for (name, p) in &all {
        // Panther's negative tests carry only `methodName`: not a LogEntry, skipped with a
        // warning that names the record.
        if name.contains("should-not-alert") && !p.skipped.is_empty() {
            assert!(
                p.skipped[0].contains("entry without protoPayload"),
                "{name}: {:?}",
                p.skipped
            );
            stubs += 1;
            continue;
        }
        assert!(p.skipped.is_empty(), "{name}: {:?}", p.skipped);
        for e in &p.events {
            assert!(
                e.event_name.contains("compute.firewalls."),
                "{name}: {}",
                e.event_name
            );
            assert!(
                e.resources.iter().any(|r| r.contains("/global/firewalls/")),
                "{name}: {:?}",
                e.resources
            );
            assert!(e.actor.principal.is_some(), "{name}");
            firewall_events += 1;
        }
    }
    assert_eq!(firewall_events, 3, "insert, patch and delete");
    assert_eq!(stubs, 6);
    // App Engine firewall entries are well-formed but not Compute exposure changes.
    assert!(all.iter().any(|(_, p)| p.ignored > 0));
}

#[test]
fn panther_azure_samples_parse() {
    let all = panther("panther_azure_network_tests.jsonl", Provider::Azure);
    assert_eq!(all.len(), 14);
    let mut nsg = 0;
    for (name, p) in &all {
        assert!(p.skipped.is_empty(), "{name}: {:?}", p.skipped);
        for e in &p.events {
            assert!(
                e.resources[0].starts_with("/subscriptions/")
                    && e.resources[0] == e.resources[0].to_lowercase()
            );
            nsg += 1;
        }
    }
    assert!(nsg >= 4, "{nsg}");
}

#[test]
fn azure_rest_samples_parse() {
    for f in [
        "azure_activity_logs_filtered_2015-04-01.body.json",
        "azure_activitylog_nsg_write_msdocs_sample.json",
    ] {
        let bytes = std::fs::read(root().join("testdata/fixtures").join(f)).unwrap();
        let p = audit::parse_file(Provider::Azure, f, &bytes).unwrap();
        assert!(p.skipped.is_empty(), "{f}: {:?}", p.skipped);
    }
    let spec = read("testdata/fixtures/azure_spec_GetActivityLogsFiltered_2015-04-01.json");
    let body = serde_json::to_vec(&spec["responses"]["200"]["body"]).unwrap();
    let p = audit::parse_file(Provider::Azure, "spec", &body).unwrap();
    assert!(p.skipped.is_empty());
    let bytes = std::fs::read(
        root().join("testdata/fixtures/azure_activitylog_nsg_write_msdocs_sample.json"),
    )
    .unwrap();
    let p = audit::parse_file(Provider::Azure, "msdocs", &bytes).unwrap();
    assert_eq!(p.events.len(), 1);
    let e = &p.events[0];
    assert_eq!(
        e.event_name,
        "Microsoft.Network/networkSecurityGroups/write"
    );
    assert_eq!(e.actor.principal.as_deref(), Some("rob@contoso.com"));
    assert_eq!(e.actor.kind, Some(ActorType::Human));
}

fn ct_record(id: &str, name: &str, uid: Value, req: Value) -> Value {
    serde_json::json!({"eventVersion": "1.08", "eventID": id, "eventName": name, "eventSource": "ec2.amazonaws.com", "eventTime": "2026-11-24T10:00:00Z",
        "awsRegion": "us-east-1", "recipientAccountId": "111122223333", "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15.0", "userIdentity": uid, "requestParameters": req})
}

#[test]
fn cloudtrail_forms_gzip_lookup_events_flat_and_malformed() {
    let uid = serde_json::json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob", "accessKeyId": "AKIAEXAMPLE000000001"});
    let flat = ct_record(
        "e-flat",
        "AuthorizeSecurityGroupIngress",
        uid.clone(),
        serde_json::json!({"groupId": "sg-9", "ipPermissions": {}, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIp": "208.236.235.254/0"}),
    );
    let modify = ct_record(
        "e-mod",
        "ModifySecurityGroupRules",
        uid.clone(),
        serde_json::json!({"ModifySecurityGroupRulesRequest": {"GroupId": "sg-9", "SecurityGroupRule": {"SecurityGroupRuleId": "sgr-01", "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}}}}),
    );
    let doc = serde_json::json!({"Records": [flat, modify, {"eventName": "Broken"}]});
    // Gzipped, as delivered to S3.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(doc.to_string().as_bytes()).unwrap();
    let mut f = tempfile::Builder::new()
        .suffix(".json.gz")
        .tempfile()
        .unwrap();
    f.write_all(&gz.finish().unwrap()).unwrap();
    let bytes = netdrift_provider_file::read_bytes(f.path()).unwrap();
    let p = audit::parse_file(Provider::Aws, "ct.json.gz", &bytes).unwrap();
    assert_eq!(p.events.len(), 2);
    assert_eq!(p.skipped.len(), 1);
    assert!(
        p.skipped[0].contains("ct.json.gz: record 3"),
        "{:?}",
        p.skipped
    );
    let flat = &p.events[0];
    assert_eq!(
        flat.payload[0].peers[0],
        netdrift_snapshots::Peer::cidr("0.0.0.0/0").unwrap(),
        "host bits set, still the world"
    );
    assert_eq!(flat.actor.key_type, Some(KeyType::LongTerm));
    let modify = &p.events[1];
    assert!(
        modify.resources.contains(&"sg-9".to_string())
            && modify.resources.contains(&"sgr-01".to_string())
    );
    assert!(!modify.payload.is_empty());
    // lookup-events output: the record is a JSON string.
    let lookup = serde_json::json!({"Events": [{"EventId": "e-flat", "EventName": "AuthorizeSecurityGroupIngress", "CloudTrailEvent": doc["Records"][0].to_string()}, {"EventId": "x", "CloudTrailEvent": "{not json"}]});
    let p = audit::parse_file(Provider::Aws, "lookup.json", lookup.to_string().as_bytes()).unwrap();
    assert_eq!(p.events.len(), 1);
    assert_eq!(p.events[0].event_id, "aws:e-flat");
    assert_eq!(p.skipped.len(), 1);
    // JSON lines with one broken line.
    let lines = format!("{}\n{{broken\n{}\n", doc["Records"][0], doc["Records"][1]);
    let p = audit::parse_file(Provider::Aws, "lines.jsonl", lines.as_bytes()).unwrap();
    assert_eq!(p.events.len(), 2);
    assert!(p.skipped[0].contains("line 2"));
    // Nothing parseable at all is an error naming the file.
    let err = audit::parse_file(Provider::Aws, "junk.json", b"not json at all").unwrap_err();
    assert!(matches!(err, ImportError::Json { .. }));
}

#[test]
fn gcp_operation_first_and_last_are_one_change() {
    let bytes = std::fs::read(root().join("demo/audit/gcp-activity.json")).unwrap();
    let p = audit::parse_file(Provider::Gcp, "gcp", &bytes).unwrap();
    assert_eq!(p.events.len(), 4, "6 entries, 4 operations");
    let patch = p
        .events
        .iter()
        .find(|e| e.resources.iter().any(|r| r.ends_with("deny-ssh-internet")))
        .unwrap();
    assert_eq!(patch.actor.kind, Some(ActorType::ServiceAccount));
    assert_eq!(patch.actor.delegation_chain, vec!["bob@acme.example"]);
    // A patch body is applied onto the rule's prior state (day 1), not read as a whole rule.
    let day1 = std::fs::read(root().join("demo/gcp/day1/firewalls.json")).unwrap();
    let prior = netdrift_provider_file::convert_document(
        Provider::Gcp,
        "acme-prod",
        &serde_json::from_slice(&day1).unwrap(),
    )
    .unwrap()
    .into_iter()
    .find(|r| r.id.as_str().ends_with("deny-ssh-internet"))
    .unwrap();
    let body = audit::gcp::patch_body(patch).expect("a patch body");
    let after = netdrift_provider_file::gcp::patched_firewall(&prior, &body, "acme-prod").unwrap();
    assert!(
        patch.payload.is_empty() && !after.rules.is_empty() && !after.rules[0].enabled,
        "the patch disables the rule"
    );
    // Entries-per-line form.
    let arr: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
    let lines: String = arr.iter().map(|v| v.to_string() + "\n").collect();
    let q = audit::parse_file(Provider::Gcp, "gcp.jsonl", lines.as_bytes()).unwrap();
    assert_eq!(q.events.len(), 4);
    // The folder-level firewall-policy rule: its payload is the rule added.
    let add = p
        .events
        .iter()
        .find(|e| e.event_name == "v1.compute.firewallPolicies.addRule")
        .unwrap();
    assert_eq!(
        add.resources,
        vec!["locations/global/firewallPolicies/7101"]
    );
    assert_eq!(add.payload.len(), 1, "{:?}", add.payload);
    assert_eq!(add.payload[0].priority, Some(200));
}

#[test]
fn azure_authorization_evidence_names_the_role() {
    let bytes = std::fs::read(root().join("demo/audit/azure-activity.json")).unwrap();
    let p = audit::parse_file(Provider::Azure, "az", &bytes).unwrap();
    let rdp = p
        .events
        .iter()
        .find(|e| e.succeeded && e.resources[0].ends_with("allowrdpinbound"))
        .unwrap();
    assert_eq!(rdp.actor.role.as_deref(), Some("Network Contributor"));
    assert!(rdp
        .actor
        .role_assignment
        .as_deref()
        .unwrap()
        .contains("/subscriptions/"));
    assert!(rdp
        .resources
        .iter()
        .any(|r| r.ends_with("/networksecuritygroups/app-nsg")));
    assert_eq!(rdp.payload.len(), 1);
    // The "Started" event of the same operation is kept apart and is not a change.
    assert!(p.events.iter().any(|e| !e.succeeded && !e.catalogued));
    let sp = p
        .events
        .iter()
        .find(|e| e.resources[0].ends_with("allowalloutbound"))
        .unwrap();
    assert_eq!(sp.actor.kind, Some(ActorType::ServiceAccount));
}

#[test]
fn event_catalogues_include_the_calls_tools_have_missed() {
    use netdrift_provider_file::audit::{azure, cloudtrail, gcp};
    for name in [
        "ModifySecurityGroupRules",
        "ReplaceNetworkAclEntry",
        "DeleteNetworkAclEntry",
        "ModifyManagedPrefixList",
        "ModifyNetworkInterfaceAttribute",
    ] {
        assert!(cloudtrail::CATALOGUE.contains(&name), "{name}");
    }
    for family in [
        "firewallPolicies",
        "networkFirewallPolicies",
        "regionNetworkFirewallPolicies",
    ] {
        for m in [
            "insert",
            "patch",
            "delete",
            "addRule",
            "patchRule",
            "removeRule",
            "addAssociation",
            "removeAssociation",
        ] {
            assert!(
                gcp::CATALOGUE.contains(&format!("{family}.{m}").as_str()),
                "{family}.{m}"
            );
        }
    }
    for prefix in ["v1.", "beta.", "alpha."] {
        assert_eq!(
            gcp::method_suffix(&format!("{prefix}compute.firewalls.patch")),
            Some("firewalls.patch")
        );
    }
    assert!(
        azure::CATALOGUE.contains(&"microsoft.network/networksecuritygroups/securityrules/write")
    );
}
