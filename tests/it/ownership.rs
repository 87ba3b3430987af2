//! Controller labels: groups and NSGs a controller made or changes, recognised from the
//! clouds' native JSON (tags, descriptions, requester-managed interfaces, just-in-time rule
//! names), labelled in the report, and lowered only when `[severity] lower_controllers` says.

use serde_json::{json, Value};

use crate::support::*;

/// `aws ec2 describe-security-groups` with one group: `ssh_world` adds tcp/22 from anywhere.
fn aws_group(name: &str, description: &str, tags: &[(&str, &str)], ssh_world: bool) -> Value {
    let mut perms = vec![json!({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/8"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []})];
    if ssh_world {
        perms.push(json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}));
    }
    json!({"SecurityGroups": [{
        "GroupId": "sg-0000000000000000a", "GroupName": name, "Description": description,
        "VpcId": "vpc-1", "OwnerId": "111122223333",
        "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        "IpPermissions": perms, "IpPermissionsEgress": []}]})
}

/// `aws ec2 describe-network-interfaces`: one interface using the group.
fn aws_interface(requester_managed: bool, kind: &str) -> Value {
    json!({"NetworkInterfaces": [{
        "NetworkInterfaceId": "eni-0000000000000000a", "SubnetId": "subnet-1", "VpcId": "vpc-1",
        "InterfaceType": kind, "RequesterManaged": requester_managed, "Status": "in-use",
        "Groups": [{"GroupId": "sg-0000000000000000a", "GroupName": "g"}],
        "Ipv6Addresses": [], "PrivateIpAddress": "10.0.0.5",
        "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "10.0.0.5"}], "TagSet": []}]})
}

/// `az network nsg list` with one NSG; `extra` is the rule added on day 2.
fn azure_nsg(extra: Option<(&str, u32)>) -> Value {
    let rule = |name: &str, port: &str, source: &str, priority: u32| {
        json!({"name": name, "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port,
            "sourceAddressPrefix": source, "destinationAddressPrefix": "*", "access": "Allow",
            "priority": priority, "direction": "Inbound", "sourcePortRanges": [],
            "destinationPortRanges": [], "sourceAddressPrefixes": [], "destinationAddressPrefixes": [],
            "id": format!("/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/vm-nsg/securityRules/{name}")})
    };
    let mut rules = vec![rule("AllowHttps", "443", "Internet", 300)];
    if let Some((name, priority)) = extra {
        rules.push(rule(name, "3389", "203.0.113.7", priority));
    }
    json!([{"name": "vm-nsg", "location": "westeurope", "tags": {},
        "id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/vm-nsg",
        "type": "Microsoft.Network/networkSecurityGroups", "securityRules": rules,
        "defaultSecurityRules": []}])
}

/// Import day 1 (approved) and day 2 of one scope; the single drift item of day 2.
fn drift_of(day1: &[Value], day2: &[Value], azure: bool, config: Option<&str>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o.db");
    for (day, docs) in [("1", day1), ("2", day2)] {
        let files: Vec<String> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let p = dir.path().join(format!("day{day}-{i}.json"));
                std::fs::write(&p, d.to_string()).unwrap();
                p.display().to_string()
            })
            .collect();
        let at = format!("2026-11-2{day}T02:00:00Z");
        let mut args = if azure {
            vec![
                "import",
                "--provider",
                "azure",
                "--scope",
                "0b1f6471-1bf0-4dda-aec3-111122223333",
            ]
        } else {
            vec![
                "import",
                "--provider",
                "aws",
                "--scope",
                "111122223333",
                "--region",
                "us-east-1",
            ]
        };
        args.extend(["--at", &at]);
        args.extend(files.iter().map(String::as_str));
        ok(&db, &args, 0);
        if day == "1" {
            approve_all(&db);
        }
    }
    let mut args = vec!["drift", "--format", "json"];
    let cfg = dir.path().join("c.toml");
    if let Some(c) = config {
        std::fs::write(&cfg, c).unwrap();
        args.extend(["--config", cfg.to_str().unwrap()]);
    }
    let v = json(&netdrift(&db, &args).stdout);
    let items: Vec<&Value> = v["drift"].as_array().unwrap().iter().collect();
    assert_eq!(items.len(), 1, "{v:#}");
    items[0].clone()
}

/// A case: its name, the day 1 and day 2 dumps, whether they are Azure's, the label expected.
type Case<'a> = (&'a str, Vec<Value>, Vec<Value>, bool, Option<&'a str>);

#[test]
fn controllers_are_recognised_from_native_json_and_labelled() {
    let k8s = "Security group for Kubernetes ELB a1b2c3 (default/web)";
    let alb = "[k8s] Managed SecurityGroup for LoadBalancer";
    let rows: Vec<Case> = vec![
        (
            "in-tree Kubernetes ELB group",
            vec![aws_group("k8s-elb-a1b2c3", k8s, &[], false)],
            vec![aws_group("k8s-elb-a1b2c3", k8s, &[], true)],
            false,
            Some("kubernetes-elb"),
        ),
        (
            "AWS Load Balancer Controller by tag",
            vec![aws_group(
                "k8s-web",
                "managed",
                &[("elbv2.k8s.aws/cluster", "prod")],
                false,
            )],
            vec![aws_group(
                "k8s-web",
                "managed",
                &[("elbv2.k8s.aws/cluster", "prod")],
                true,
            )],
            false,
            Some("aws-load-balancer-controller"),
        ),
        (
            "AWS Load Balancer Controller by description",
            vec![aws_group("k8s-x", alb, &[], false)],
            vec![aws_group("k8s-x", alb, &[], true)],
            false,
            Some("aws-load-balancer-controller"),
        ),
        (
            "EKS cluster group",
            vec![aws_group(
                "eks-cluster-sg-prod",
                "EKS created security group",
                &[("aws:eks:cluster-name", "prod")],
                false,
            )],
            vec![aws_group(
                "eks-cluster-sg-prod",
                "EKS created security group",
                &[("aws:eks:cluster-name", "prod")],
                true,
            )],
            false,
            Some("eks"),
        ),
        (
            "used only by a VPC endpoint's interface",
            vec![
                aws_group("vpce", "endpoint", &[], false),
                aws_interface(true, "vpc_endpoint"),
            ],
            vec![
                aws_group("vpce", "endpoint", &[], true),
                aws_interface(true, "vpc_endpoint"),
            ],
            false,
            Some("aws-managed-interfaces"),
        ),
        (
            "used by an instance's interface",
            vec![
                aws_group("app", "app", &[], false),
                aws_interface(false, "interface"),
            ],
            vec![
                aws_group("app", "app", &[], true),
                aws_interface(false, "interface"),
            ],
            false,
            None,
        ),
        (
            "a Kubernetes word in a plain group's name is not enough",
            vec![aws_group(
                "k8s-notes",
                "team notes",
                &[("team", "k8s")],
                false,
            )],
            vec![aws_group(
                "k8s-notes",
                "team notes",
                &[("team", "k8s")],
                true,
            )],
            false,
            None,
        ),
        (
            "Azure just-in-time request rule",
            vec![azure_nsg(None)],
            vec![azure_nsg(Some((
                "SecurityCenter-JITRule-1170687618-8C18BF8921F041989344B4F1E3A0C370",
                100,
            )))],
            true,
            Some("azure-jit"),
        ),
        (
            "a JIT-looking name behind the deny rules is not JIT",
            vec![azure_nsg(None)],
            vec![azure_nsg(Some((
                "SecurityCenter-JITRule-1170687618-8C18BF8921F041989344B4F1E3A0C370",
                4000,
            )))],
            true,
            None,
        ),
        (
            "an operator's RDP rule",
            vec![azure_nsg(None)],
            vec![azure_nsg(Some(("AllowRdpFromHome", 100)))],
            true,
            None,
        ),
    ];
    for (case, day1, day2, azure, want) in rows {
        let item = drift_of(&day1, &day2, azure, None);
        assert_eq!(
            item["controller"]["label"].as_str(),
            want,
            "{case}: {item:#}"
        );
        if want.is_some() {
            let reasons = item["reasons"].to_string();
            assert!(
                reasons.contains("made by a controller"),
                "{case}: {reasons}"
            );
            assert!(
                !reasons.contains("one level lower"),
                "{case}: labelled, not lowered: {reasons}"
            );
        }
    }
}

#[test]
fn the_severity_policy_lowers_a_labelled_item_only_when_asked() {
    let k8s = "Security group for Kubernetes ELB a1b2c3 (default/web)";
    let day1 = [aws_group("k8s-elb-a1b2c3", k8s, &[], false)];
    let day2 = [aws_group("k8s-elb-a1b2c3", k8s, &[], true)];
    let plain = drift_of(&day1, &day2, false, None);
    let lowered = drift_of(
        &day1,
        &day2,
        false,
        Some("[severity]\nlower_controllers = [\"kubernetes-elb\"]\n"),
    );
    let other = drift_of(
        &day1,
        &day2,
        false,
        Some("[severity]\nlower_controllers = [\"azure-jit\"]\n"),
    );
    let rank = |v: &Value| {
        ["info", "low", "medium", "high", "critical"]
            .iter()
            .position(|s| v["severity"] == *s)
            .unwrap()
    };
    assert_eq!(rank(&lowered) + 1, rank(&plain), "{plain:#}\n{lowered:#}");
    assert_eq!(rank(&other), rank(&plain));
    assert!(lowered["reasons"]
        .to_string()
        .contains("one level lower by [severity] lower_controllers"));
    // An unknown label is a configuration error naming the known ones.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[severity]\nlower_controllers = [\"k8s\"]\n").unwrap();
    let r = netdrift(
        &dir.path().join("x.db"),
        &["config", "check", cfg.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("line 2: severity: field `lower_controllers`: unknown label \"k8s\""),
        "{}",
        r.stderr
    );
}
