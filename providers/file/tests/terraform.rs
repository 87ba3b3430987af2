//! Terraform plan attributes → the model, one line per case: a resource's `after` and
//! `after_unknown` as `terraform show -json` prints them in, its rules out. What is known only
//! after apply must never read narrower than the world (an allow) or be relied on (a deny).

use netdrift_provider_file::terraform::{read_plan, Parent, Side};
use netdrift_snapshots::{Ports, Rule};
use serde_json::{json, Value};

fn render(r: &Rule) -> String {
    let ports = match &r.ports {
        Ports::All => "all".to_string(),
        Ports::Ranges { ranges } => ranges
            .iter()
            .map(|p| format!("{}-{}", p.from, p.to))
            .collect::<Vec<_>>()
            .join(","),
        Ports::Icmp { icmp_type, code } => format!("icmp {icmp_type:?}/{code:?}"),
    };
    let peers: Vec<String> = r.peers.iter().map(|p| p.to_string()).collect();
    let targets: Vec<String> = r.targets.iter().map(|t| t.to_string()).collect();
    let mut s = format!(
        "{} {} {} {ports} {}",
        r.direction.as_str(),
        format!("{:?}", r.action).to_lowercase(),
        r.protocol,
        peers.join("+")
    );
    if let Some(p) = r.priority {
        s = format!("{p} {s}");
    }
    if !targets.is_empty() {
        s += &format!(" -> {}", targets.join("+"));
    }
    if !r.enabled {
        s += " (disabled)";
    }
    s
}

/// (parent, rules, unknown) of a one-resource create plan.
fn convert(tf_type: &str, after: Value, unknown: Value) -> (String, Vec<String>, Vec<String>) {
    let doc = json!({"format_version": "1.2", "resource_changes": [{"address": format!("{tf_type}.x"),
        "mode": "managed", "type": tf_type, "name": "x",
        "change": {"actions": ["create"], "before": null, "after": after, "after_unknown": unknown}}]});
    let plan = read_plan("plan.json", &doc).unwrap_or_else(|e| panic!("{tf_type}: {e}"));
    let c = &plan.changes[0];
    let (parent, rules) = match c.after.as_ref().unwrap() {
        Side::Whole(w) => (w.resource.id.to_string(), &w.resource.rules),
        Side::Rules(r) => (
            match &r.parent {
                Parent::Id(i) => i.clone(),
                Parent::Address(a) => format!("address {a}"),
                Parent::Azure { group, name } => format!("{group}/{name}"),
                Parent::Gcp { name, .. } => format!("policy {name}"),
                Parent::Unknown(k) => format!("unknown {k}"),
            },
            &r.rules,
        ),
    };
    let mut rules: Vec<String> = rules
        .iter()
        .filter(|r| !r.default_rule)
        .map(render)
        .collect();
    rules.sort();
    (parent, rules, c.unknown.clone())
}

fn sg_block(extra: Value) -> Value {
    let mut b = json!({"cidr_blocks": [], "description": "", "from_port": 22, "ipv6_cidr_blocks": [],
        "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": false, "to_port": 22});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

fn sg(ingress: Vec<Value>) -> Value {
    json!({"id": "sg-0123", "name": "web", "description": "d", "vpc_id": "vpc-1", "egress": [], "ingress": ingress})
}

fn nsg_rule(extra: Value) -> Value {
    let mut r = json!({"access": "Allow", "description": "", "destination_address_prefix": "*",
        "destination_address_prefixes": [], "destination_application_security_group_ids": [],
        "destination_port_range": "3389", "destination_port_ranges": [], "direction": "Inbound",
        "name": "rdp", "network_security_group_name": "app-nsg", "priority": 100, "protocol": "Tcp",
        "resource_group_name": "prod-rg", "source_address_prefix": "Internet",
        "source_address_prefixes": [], "source_application_security_group_ids": [],
        "source_port_range": "*", "source_port_ranges": []});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

#[test]
fn terraform_attributes_convert_as_the_cloud_reads_them() {
    type Case = (
        &'static str,
        &'static str,
        Value,
        Value,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        ("inline ingress, IPv4 and IPv6", "aws_security_group",
            sg(vec![sg_block(json!({"cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": ["::/0"]}))]), json!({}),
            "sg-0123", "ingress allow tcp 22-22 0.0.0.0/0 | ingress allow tcp 22-22 ::/0"),
        ("self and a cross-account group", "aws_security_group",
            sg(vec![sg_block(json!({"self": true, "security_groups": ["444455556666/sg-0999"]}))]), json!({}),
            "sg-0123", "ingress allow tcp 22-22 group 444455556666/sg-0999 | ingress allow tcp 22-22 group sg-0123"),
        ("protocol -1 means every port", "aws_security_group",
            sg(vec![sg_block(json!({"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["10.0.0.0/8"]}))]), json!({}),
            "sg-0123", "ingress allow all all 10.0.0.0/8"),
        ("a source group known only after apply is the world", "aws_security_group",
            sg(vec![sg_block(json!({"security_groups": [null]}))]), json!({"ingress": [{"security_groups": [true]}]}),
            "sg-0123", "ingress allow tcp 22-22 0.0.0.0/0 | ingress allow tcp 22-22 ::/0"),
        ("the whole ingress set known only after apply", "aws_security_group",
            json!({"id": "sg-0123", "name": "web", "egress": [], "ingress": null}), json!({"ingress": true}),
            "sg-0123", "ingress allow all all 0.0.0.0/0 | ingress allow all all ::/0"),
        ("a legacy rule on a known group", "aws_security_group_rule",
            json!({"type": "ingress", "security_group_id": "sg-0123", "from_port": 443, "to_port": 443, "protocol": "tcp",
                "cidr_blocks": ["203.0.113.0/24"], "ipv6_cidr_blocks": null, "prefix_list_ids": null, "self": false,
                "source_security_group_id": null, "description": null}), json!({}),
            "sg-0123", "ingress allow tcp 443-443 203.0.113.0/24"),
        ("a legacy egress rule with a source group", "aws_security_group_rule",
            json!({"type": "egress", "security_group_id": "sg-0123", "from_port": 5432, "to_port": 5432, "protocol": "6",
                "cidr_blocks": null, "self": false, "source_security_group_id": "sg-0777"}), json!({}),
            "sg-0123", "egress allow tcp 5432-5432 group sg-0777"),
        ("a rule whose group is unknown and not referenced", "aws_security_group_rule",
            json!({"type": "ingress", "security_group_id": null, "from_port": 22, "to_port": 22, "protocol": "tcp",
                "cidr_blocks": ["10.0.0.0/8"], "self": false}), json!({"security_group_id": true}),
            "unknown security_group_id", "ingress allow tcp 22-22 10.0.0.0/8"),
        ("a VPC ingress rule, IPv6", "aws_vpc_security_group_ingress_rule",
            json!({"security_group_id": "sg-0123", "cidr_ipv6": "2001:db8::/32", "cidr_ipv4": null, "ip_protocol": "tcp",
                "from_port": 8080, "to_port": 8081, "prefix_list_id": null, "referenced_security_group_id": null}), json!({}),
            "sg-0123", "ingress allow tcp 8080-8081 2001:db8::/32"),
        ("a VPC egress rule, every protocol", "aws_vpc_security_group_egress_rule",
            json!({"security_group_id": "sg-0123", "cidr_ipv4": "0.0.0.0/0", "ip_protocol": "-1", "from_port": null, "to_port": null}), json!({}),
            "sg-0123", "egress allow all all 0.0.0.0/0"),
        ("a VPC rule whose referenced group is unknown", "aws_vpc_security_group_ingress_rule",
            json!({"security_group_id": "sg-0123", "referenced_security_group_id": null, "ip_protocol": "tcp", "from_port": 22, "to_port": 22}),
            json!({"referenced_security_group_id": true}),
            "sg-0123", "ingress allow tcp 22-22 0.0.0.0/0 | ingress allow tcp 22-22 ::/0"),
        ("a network ACL rule", "aws_network_acl_rule",
            json!({"network_acl_id": "acl-1", "rule_number": 90, "egress": false, "protocol": "tcp", "rule_action": "deny",
                "cidr_block": "0.0.0.0/0", "from_port": 3389, "to_port": 3389, "icmp_type": null, "icmp_code": null}), json!({}),
            "acl-1", "90 ingress deny tcp 3389-3389 0.0.0.0/0"),
        ("a deny entry whose range is unknown is not relied on", "aws_network_acl_rule",
            json!({"network_acl_id": "acl-1", "rule_number": 90, "egress": false, "protocol": "tcp", "rule_action": "deny",
                "cidr_block": null, "from_port": 22, "to_port": 22}), json!({"cidr_block": true}),
            "acl-1", ""),
        ("a GCP rule without source ranges applies to 0.0.0.0/0", "google_compute_firewall",
            json!({"name": "admin", "project": "p1", "network": "vpc", "direction": "INGRESS", "priority": 900,
                "allow": [{"protocol": "tcp", "ports": ["8443"]}], "deny": [], "source_ranges": null, "target_tags": ["admin"]}), json!({}),
            "projects/p1/global/firewalls/admin", "900 ingress allow tcp 8443-8443 0.0.0.0/0 -> tag:admin"),
        ("a GCP deny, disabled", "google_compute_firewall",
            json!({"name": "deny-ssh", "project": "p1", "network": "vpc", "direction": "INGRESS", "priority": 100, "disabled": true,
                "allow": [], "deny": [{"protocol": "tcp", "ports": ["22"]}], "source_ranges": ["0.0.0.0/0"]}), json!({}),
            "projects/p1/global/firewalls/deny-ssh", "100 ingress deny tcp 22-22 0.0.0.0/0 (disabled)"),
        ("GCP: unknown target tags apply to every instance", "google_compute_firewall",
            json!({"name": "web", "project": "p1", "network": "vpc", "direction": "INGRESS", "priority": 1000,
                "allow": [{"protocol": "tcp", "ports": ["80"]}], "deny": [], "source_ranges": ["10.0.0.0/8"], "target_tags": null}),
            json!({"target_tags": true}),
            "projects/p1/global/firewalls/web", "1000 ingress allow tcp 80-80 10.0.0.0/8"),
        ("a hierarchical policy rule", "google_compute_firewall_policy_rule",
            json!({"firewall_policy": "locations/global/firewallPolicies/7001", "priority": 100, "action": "allow", "direction": "INGRESS",
                "disabled": false, "match": [{"src_ip_ranges": ["0.0.0.0/0"], "layer4_configs": [{"ip_protocol": "tcp", "ports": ["22"]}]}]}), json!({}),
            "locations/global/firewallPolicies/7001", "100 ingress allow tcp 22-22 0.0.0.0/0"),
        ("a network policy rule by policy name", "google_compute_network_firewall_policy_rule",
            json!({"firewall_policy": "prod-policy", "project": "p1", "priority": 200, "action": "deny", "direction": "EGRESS",
                "match": [{"dest_ip_ranges": ["198.51.100.0/24"], "layer4_configs": [{"ip_protocol": "all"}]}]}), json!({}),
            "projects/p1/global/firewallPolicies/prod-policy", "200 egress deny all all 198.51.100.0/24"),
        ("an NSG rule from Internet", "azurerm_network_security_rule",
            nsg_rule(json!({})), json!({}),
            "prod-rg/app-nsg", "100 ingress allow tcp 3389-3389 Internet"),
        ("an NSG rule with prefixes and ranges (azurerm's empty strings left out)", "azurerm_network_security_rule",
            nsg_rule(json!({"source_address_prefix": "", "source_address_prefixes": ["203.0.113.0/24", "198.51.100.0/24"],
                "destination_port_range": "", "destination_port_ranges": ["3389", "5985-5986"]})), json!({}),
            "prod-rg/app-nsg", "100 ingress allow tcp 3389-3389,5985-5986 203.0.113.0/24+198.51.100.0/24"),
        ("an allow whose source is unknown is from anywhere", "azurerm_network_security_rule",
            nsg_rule(json!({"source_address_prefix": null})), json!({"source_address_prefix": true}),
            "prod-rg/app-nsg", "100 ingress allow tcp 3389-3389 any"),
        ("a deny whose source is unknown is not relied on", "azurerm_network_security_rule",
            nsg_rule(json!({"access": "Deny", "source_address_prefix": null})), json!({"source_address_prefix": true}),
            "prod-rg/app-nsg", ""),
    ];
    for (name, tf_type, after, unknown, parent, want) in cases {
        let (p, rules, _) = convert(tf_type, after, unknown);
        assert_eq!(p, parent, "{name}");
        assert_eq!(rules.join(" | "), want, "{name}");
    }
}

#[test]
fn terraform_unknowns_are_named_and_errors_name_the_path() {
    let (_, _, unknown) = convert(
        "aws_security_group",
        sg(vec![sg_block(json!({"security_groups": [null]}))]),
        json!({"id": true, "ingress": [{"security_groups": [true]}]}),
    );
    assert_eq!(
        unknown,
        ["ingress[0].security_groups"],
        "the id is not a peer"
    );
    let doc = json!({"format_version": "1.2", "resource_changes": [{"address": "aws_security_group.x",
        "type": "aws_security_group", "change": {"actions": ["update"], "before": sg(vec![]),
        "after": sg(vec![sg_block(json!({"cidr_blocks": ["10.0.0.300/8"]}))]), "after_unknown": {}}}]});
    let e = read_plan("plan.json", &doc).unwrap_err().to_string();
    assert!(
        e.starts_with("plan.json: $.resource_changes[0].change.after"),
        "{e}"
    );
    assert!(e.contains("CidrIp"), "{e}");
    assert!(e.contains("10.0.0.300/8"), "{e}");
    let doc = json!({"format_version": "1.2", "resource_changes": [{"address": "aws_security_group.x",
        "type": "aws_security_group", "change": {"actions": ["update", "delete"]}}]});
    let e = read_plan("plan.json", &doc).unwrap_err().to_string();
    assert!(
        e.contains("change.actions") && e.contains("unknown actions"),
        "{e}"
    );
    let e = read_plan("plan.json", &json!({"format_version": "3.1"}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("$.format_version") && e.contains("3.1"), "{e}");
}
