//! Table-driven drift cases: native JSON of each cloud in, expected drift out. Every trap in
//! DOMAIN.md ("Traps that have bitten well-known tools") has a case on each cloud it applies to.

use std::collections::BTreeSet;

use netdrift_provider_file::convert_document;
use netdrift_snapshots::{diff_scope, Change, Direction, Effect, Provider, ResourceDiff};
use serde_json::{json, Value};

fn convert(provider: Provider, doc: Value) -> Vec<netdrift_snapshots::Resource> {
    convert_document(provider, "p1", &doc).unwrap_or_else(|e| panic!("conversion failed: {e}"))
}

fn diff(provider: Provider, before: Value, after: Value) -> Vec<ResourceDiff> {
    diff_scope(
        &convert(provider, before),
        &convert(provider, after),
        &BTreeSet::new(),
    )
}

#[path = "support/lines.rs"]
mod support_lines;
use support_lines::lines;

// ---------------- AWS security groups ----------------

fn sg(ingress: Value, egress: Value) -> Value {
    json!({"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "g", "Description": "d", "VpcId": "vpc-1",
        "IpPermissions": ingress, "IpPermissionsEgress": egress}]})
}
fn perm(proto: &str, from: Option<i64>, to: Option<i64>, cidrs: &[&str]) -> Value {
    let mut p = json!({"IpProtocol": proto, "IpRanges": cidrs.iter().map(|c| json!({"CidrIp": c})).collect::<Vec<_>>(), "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []});
    if let Some(f) = from {
        p["FromPort"] = json!(f);
    }
    if let Some(t) = to {
        p["ToPort"] = json!(t);
    }
    p
}
fn all_egress() -> Value {
    json!([perm("-1", None, None, &["0.0.0.0/0"])])
}

#[test]
fn aws_security_group_cases() {
    let cases: Vec<(&str, Value, Value, Vec<&str>)> = vec![
        (
            "port widening: 80 -> 80-65535 is not 'port 80' (FromPort-only trap)",
            sg(json!([perm("tcp", Some(80), Some(80), &["0.0.0.0/0"])]), all_egress()),
            sg(json!([perm("tcp", Some(80), Some(65535), &["0.0.0.0/0"])]), all_egress()),
            vec!["expands modified ingress +[tcp/81-65535 0.0.0.0/0] -[] world"],
        ),
        (
            "443 -> 0-65535",
            sg(json!([perm("tcp", Some(443), Some(443), &["10.0.0.0/8"])]), all_egress()),
            sg(json!([perm("tcp", Some(0), Some(65535), &["10.0.0.0/8"])]), all_egress()),
            vec!["expands modified ingress +[tcp/0-442 10.0.0.0/8; tcp/444-65535 10.0.0.0/8] -[]"],
        ),
        (
            "private widening 10.1.0.0/16 -> 10.0.0.0/8 in place",
            sg(json!([perm("tcp", Some(22), Some(22), &["10.1.0.0/16"])]), all_egress()),
            sg(json!([perm("tcp", Some(22), Some(22), &["10.0.0.0/8"])]), all_egress()),
            vec!["expands modified ingress +[tcp/22 10.0.0.0/8 except 10.1.0.0/16] -[]"],
        ),
        (
            "protocol widening tcp -> all (-1 is not a port number)",
            sg(json!([perm("tcp", Some(443), Some(443), &["10.0.0.0/8"])]), all_egress()),
            sg(json!([perm("-1", Some(-1), Some(-1), &["10.0.0.0/8"])]), all_egress()),
            vec!["expands modified ingress +[proto 0-5 10.0.0.0/8; proto 7-255 10.0.0.0/8; tcp/0-442 10.0.0.0/8; tcp/444-65535 10.0.0.0/8] -[]"],
        ),
        (
            "rule split and regrouped, same access: no drift",
            sg(json!([perm("tcp", Some(8000), Some(8100), &["10.2.0.0/16", "10.3.0.0/16"])]), all_egress()),
            sg(json!([perm("tcp", Some(8051), Some(8100), &["10.3.0.0/16", "10.2.0.0/16"]), perm("tcp", Some(8000), Some(8050), &["10.2.0.0/15"])]), all_egress()),
            vec![],
        ),
        (
            "new world-open IPv6 rule",
            sg(json!([]), all_egress()),
            sg(json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]), all_egress()),
            vec!["expands modified ingress +[tcp/22 ::/0] -[] world"],
        ),
        (
            "host bits set still mean the world: 208.236.235.254/0",
            sg(json!([]), all_egress()),
            sg(json!([perm("tcp", Some(3389), Some(3389), &["208.236.235.254/0"])]), all_egress()),
            vec!["expands modified ingress +[tcp/3389 0.0.0.0/0] -[] world"],
        ),
        (
            "egress widening",
            sg(json!([]), json!([perm("tcp", Some(443), Some(443), &["0.0.0.0/0"])])),
            sg(json!([]), all_egress()),
            vec!["expands modified egress +[proto 0-5 0.0.0.0/0; proto 7-255 0.0.0.0/0; tcp/0-442 0.0.0.0/0; tcp/444-65535 0.0.0.0/0] -[] world"],
        ),
        (
            "description-only change is cosmetic",
            sg(json!([perm("tcp", Some(22), Some(22), &["10.0.0.0/8"])]), all_egress()),
            sg(json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "vpn"}]}]), all_egress()),
            vec!["cosmetic modified ingress +[] -[]"],
        ),
        (
            "narrowing",
            sg(json!([perm("tcp", Some(22), Some(22), &["0.0.0.0/0"])]), all_egress()),
            sg(json!([perm("tcp", Some(22), Some(22), &["10.0.0.0/8"])]), all_egress()),
            vec!["narrows modified ingress +[] -[tcp/22 0.0.0.0/0 except 10.0.0.0/8]"],
        ),
        (
            "icmp type widening",
            sg(json!([perm("icmp", Some(8), Some(0), &["0.0.0.0/0"])]), all_egress()),
            sg(json!([perm("icmp", Some(-1), Some(-1), &["0.0.0.0/0"])]), all_egress()),
            vec!["expands modified ingress +[icmp/type 0 code 0 - type 7 code 255 0.0.0.0/0; icmp/type 8 code 1 - type 255 code 255 0.0.0.0/0] -[] world"],
        ),
    ];
    for (name, before, after, want) in cases {
        assert_eq!(
            lines(&diff(Provider::Aws, before, after)),
            want,
            "case: {name}"
        );
    }
}

#[test]
fn aws_added_and_removed_groups() {
    let empty = json!({"SecurityGroups": []});
    let one = sg(
        json!([perm("tcp", Some(22), Some(22), &["0.0.0.0/0"])]),
        all_egress(),
    );
    // A new group is compared with a fresh group (default allow-all egress): only SSH is new.
    assert_eq!(
        lines(&diff(Provider::Aws, empty.clone(), one.clone())),
        vec!["expands added ingress +[tcp/22 0.0.0.0/0] -[] world"]
    );
    let d = diff(Provider::Aws, one, empty);
    assert_eq!(d.len(), 2);
    assert!(d
        .iter()
        .all(|x| x.change == Change::Removed && x.effect == Effect::Narrows));
}

// ---------------- AWS network ACLs ----------------

fn acl(entries: Value) -> Value {
    json!({"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "Associations": [{"SubnetId": "subnet-1"}], "Entries": entries}]})
}
fn entry(n: i64, action: &str, proto: &str, cidr: &str, ports: Option<(i64, i64)>) -> Value {
    let mut e = json!({"RuleNumber": n, "RuleAction": action, "Protocol": proto, "CidrBlock": cidr, "Egress": false});
    if let Some((f, t)) = ports {
        e["PortRange"] = json!({"From": f, "To": t});
    }
    e
}

#[test]
fn aws_network_acl_cases() {
    let base = vec![
        entry(90, "deny", "6", "0.0.0.0/0", Some((3389, 3389))),
        entry(100, "allow", "-1", "0.0.0.0/0", None),
        entry(32767, "deny", "-1", "0.0.0.0/0", None),
    ];
    let mut without_deny = base.clone();
    without_deny.remove(0);
    assert_eq!(
        lines(&diff(
            Provider::Aws,
            acl(json!(base)),
            acl(json!(without_deny))
        )),
        vec!["expands modified ingress +[tcp/3389 0.0.0.0/0] -[] world"],
        "a removed deny exposes the allow behind it"
    );
    // Renumbering with the same order is no drift.
    let renumbered = vec![
        entry(50, "deny", "6", "0.0.0.0/0", Some((3389, 3389))),
        entry(200, "allow", "-1", "0.0.0.0/0", None),
        entry(32767, "deny", "-1", "0.0.0.0/0", None),
    ];
    assert!(lines(&diff(
        Provider::Aws,
        acl(json!(base)),
        acl(json!(renumbered))
    ))
    .is_empty());
    // Reordering that changes who matches first is drift.
    let swapped = vec![
        entry(90, "allow", "-1", "0.0.0.0/0", None),
        entry(100, "deny", "6", "0.0.0.0/0", Some((3389, 3389))),
        entry(32767, "deny", "-1", "0.0.0.0/0", None),
    ];
    assert_eq!(
        lines(&diff(Provider::Aws, acl(json!(base)), acl(json!(swapped)))),
        vec!["expands modified ingress +[tcp/3389 0.0.0.0/0] -[] world"]
    );
}

// ---------------- GCP ----------------

fn fw(name: &str, prio: i64, body: Value) -> Value {
    let mut v = json!({"kind": "compute#firewall", "name": name, "network": "https://www.googleapis.com/compute/v1/projects/p1/global/networks/vpc", "priority": prio, "direction": "INGRESS",
        "selfLink": format!("https://www.googleapis.com/compute/v1/projects/p1/global/firewalls/{name}")});
    for (k, val) in body.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

#[test]
fn gcp_cases() {
    let allow22 = fw(
        "allow-ssh",
        1000,
        json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"]}),
    );
    let deny22 = fw(
        "deny-ssh",
        900,
        json!({"denied": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"]}),
    );
    let mut deny22_disabled = deny22.clone();
    deny22_disabled["disabled"] = json!(true);
    let cases: Vec<(&str, Value, Value, Vec<&str>)> = vec![
        (
            "removed deny exposes a lower-priority allow",
            json!([allow22, deny22]),
            json!([allow22]),
            vec!["expands removed ingress +[tcp/22 0.0.0.0/0] -[] world"],
        ),
        (
            "disabled deny is not enforced",
            json!([allow22, deny22]),
            json!([allow22, deny22_disabled]),
            vec!["expands modified ingress +[tcp/22 0.0.0.0/0] -[] world"],
        ),
        (
            "deny beats allow at equal priority",
            json!([allow22]),
            json!([
                allow22,
                fw(
                    "deny-same",
                    1000,
                    json!({"denied": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"]})
                )
            ]),
            vec!["narrows added ingress +[] -[tcp/22 0.0.0.0/0]"],
        ),
        (
            "a rule with no source applies to 0.0.0.0/0",
            json!([]),
            json!([fw(
                "open",
                1000,
                json!({"allowed": [{"IPProtocol": "tcp", "ports": ["9100"]}]})
            )]),
            vec!["expands added ingress +[tcp/9100 0.0.0.0/0] -[] world"],
        ),
        (
            "an allow shadowed by a higher-priority deny changes nothing",
            json!([deny22]),
            json!([deny22, allow22]),
            vec!["cosmetic added ingress +[] -[]"],
        ),
        (
            "target tags scope the exposure",
            json!([]),
            json!([fw(
                "tagged",
                1000,
                json!({"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "targetTags": ["bastion"]})
            )]),
            vec!["expands added ingress +[tcp/22 0.0.0.0/0 to tag:bastion] -[] world"],
        ),
        (
            "rule replaced by a wider one is one change that expands",
            json!([fw(
                "old",
                1000,
                json!({"allowed": [{"IPProtocol": "tcp", "ports": ["443"]}], "sourceRanges": ["10.0.0.0/16"]})
            )]),
            json!([fw(
                "new",
                1000,
                json!({"allowed": [{"IPProtocol": "tcp", "ports": ["443"]}], "sourceRanges": ["10.0.0.0/8"]})
            )]),
            vec!["expands modified ingress +[tcp/443 10.0.0.0/8 except 10.0.0.0/16] -[]"],
        ),
        (
            "egress deny removed exposes the implied allow-all egress",
            json!([fw(
                "no-egress",
                1000,
                json!({"direction": "EGRESS", "denied": [{"IPProtocol": "all"}], "destinationRanges": ["0.0.0.0/0"]})
            )]),
            json!([]),
            vec!["expands removed egress +[all 0.0.0.0/0] -[] world"],
        ),
        (
            "reordered list, same rules: no drift",
            json!([allow22, deny22]),
            json!({"kind": "compute#firewallList", "items": [deny22, allow22]}),
            vec![],
        ),
        (
            "protocol all",
            json!([fw(
                "x",
                1000,
                json!({"allowed": [{"IPProtocol": "tcp"}], "sourceRanges": ["10.0.0.0/8"]})
            )]),
            json!([fw(
                "x",
                1000,
                json!({"allowed": [{"IPProtocol": "all"}], "sourceRanges": ["10.0.0.0/8"]})
            )]),
            vec!["expands modified ingress +[proto 0-5 10.0.0.0/8; proto 7-255 10.0.0.0/8] -[]"],
        ),
    ];
    for (name, before, after, want) in cases {
        assert_eq!(
            lines(&diff(Provider::Gcp, before, after)),
            want,
            "case: {name}"
        );
    }
}

// ---------------- Azure ----------------

fn nsg(rules: Value) -> Value {
    json!({"value": [{"name": "nsg1", "id": "/subscriptions/S/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1",
        "type": "Microsoft.Network/networkSecurityGroups", "location": "westeurope", "properties": {"securityRules": rules}}]})
}
fn az(name: &str, prio: i64, dir: &str, access: &str, proto: &str, port: &str, src: &str) -> Value {
    json!({"name": name, "properties": {"protocol": proto, "sourcePortRange": "*", "destinationPortRange": port, "sourceAddressPrefix": src,
        "destinationAddressPrefix": "*", "access": access, "priority": prio, "direction": dir}})
}

#[test]
fn azure_cases() {
    let rdp_internet = az("rdp", 110, "Inbound", "Allow", "Tcp", "3389", "Internet");
    let deny_rdp = az("deny-rdp", 100, "Inbound", "Deny", "Tcp", "3389", "*");
    let cases: Vec<(&str, Value, Value, Vec<&str>)> = vec![
        ("RDP from Internet (service tag, not a CIDR)", nsg(json!([])), nsg(json!([rdp_internet])), vec!["expands modified ingress +[tcp/3389 internet] -[] world"]),
        ("source * is the world", nsg(json!([])), nsg(json!([az("any", 120, "Inbound", "Allow", "Tcp", "22", "*")])), vec!["expands modified ingress +[tcp/22 0.0.0.0/0; tcp/22 ::/0; tcp/22 any symbolic peer except service-tag:azureloadbalancer, service-tag:virtualnetwork] -[] world"]),
        (
            "removed deny exposes the allow behind it (and the default VirtualNetwork/load-balancer rules)",
            nsg(json!([deny_rdp, rdp_internet])),
            nsg(json!([rdp_internet])),
            vec!["expands modified ingress +[tcp/3389 internet; tcp/3389 service-tag:azureloadbalancer; tcp/3389 service-tag:virtualnetwork] -[] world"],
        ),
        (
            "plural prefixes read as well as singular",
            nsg(json!([])),
            nsg(json!([{"name": "multi", "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRanges": ["22", "3389"], "sourceAddressPrefixes": ["203.0.114.0/24", "198.51.99.0/24"], "sourceAddressPrefix": "", "destinationAddressPrefix": "*", "access": "Allow", "priority": 200, "direction": "Inbound"}}])),
            vec!["expands modified ingress +[tcp/22 198.51.99.0/24; tcp/22 203.0.114.0/24; tcp/3389 198.51.99.0/24; tcp/3389 203.0.114.0/24] -[]"],
        ),
        (
            "priority renumbering with the same order: no drift",
            nsg(json!([deny_rdp, rdp_internet])),
            nsg(json!([az("deny-rdp", 150, "Inbound", "Deny", "Tcp", "3389", "*"), az("rdp", 160, "Inbound", "Allow", "Tcp", "3389", "Internet")])),
            vec![],
        ),
        (
            "removing an explicit deny-all re-admits the defaults and a shadowed allow",
            nsg(json!([az("deny-all", 4000, "Inbound", "Deny", "*", "*", "*"), az("late-allow", 4010, "Inbound", "Allow", "Tcp", "22", "Internet")])),
            nsg(json!([az("late-allow", 4010, "Inbound", "Allow", "Tcp", "22", "Internet")])),
            vec!["expands modified ingress +[all service-tag:azureloadbalancer; all service-tag:virtualnetwork; tcp/22 internet] -[] world"],
        ),
        (
            "egress: Internet outbound widened above an explicit deny",
            nsg(json!([az("no-internet", 4000, "Outbound", "Deny", "*", "*", "*")])),
            nsg(json!([az("no-internet", 4000, "Outbound", "Deny", "*", "*", "*"), {"name": "out", "properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "Internet", "access": "Allow", "priority": 300, "direction": "Outbound"}}])),
            vec!["expands modified egress +[all internet] -[] world"],
        ),
    ];
    for (name, before, after, want) in cases {
        assert_eq!(
            lines(&diff(Provider::Azure, before, after)),
            want,
            "case: {name}"
        );
    }
}

#[test]
fn azure_arm_and_cli_forms_are_the_same_state() {
    let arm = nsg(json!([az(
        "rdp", 110, "Inbound", "Allow", "Tcp", "3389", "Internet"
    )]));
    let cli = json!([{"name": "nsg1", "id": "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/networkSecurityGroups/NSG1", "location": "westeurope",
        "securityRules": [{"name": "rdp", "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "Internet", "destinationAddressPrefix": "*", "access": "Allow", "priority": 110, "direction": "Inbound"}]}]);
    let a = convert(Provider::Azure, arm);
    let b = convert(Provider::Azure, cli);
    assert_eq!(
        netdrift_snapshots::access_hash(&a[0]),
        netdrift_snapshots::access_hash(&b[0])
    );
    assert!(diff_scope(&a, &b, &BTreeSet::new()).is_empty());
}

#[test]
fn partial_collection_never_reports_removal() {
    let before = convert(
        Provider::Aws,
        acl(json!([entry(100, "allow", "-1", "0.0.0.0/0", None)])),
    );
    let uncollected: BTreeSet<_> = [netdrift_snapshots::ResourceKind::AwsNetworkAcl]
        .into_iter()
        .collect();
    assert!(diff_scope(&before, &[], &uncollected).is_empty());
    assert_eq!(diff_scope(&before, &[], &BTreeSet::new()).len(), 1);
    let _ = Direction::Ingress;
}
