//! Reach, one line per case: the native JSON of `aws ec2 describe-security-groups`,
//! `describe-network-acls`, `describe-network-interfaces`, `describe-subnets` and
//! `describe-route-tables` in, what a drift item's newly allowed access reaches out.
//!
//! The estate: VPC vpc-1 with a public subnet (subnet-pub, routed by rtb-pub: 0.0.0.0/0 and
//! ::/0 to igw-1) and a private one (subnet-priv, routed by the main table rtb-main: local
//! only); one network ACL (acl-1) on both that allows everything; eni-1 in subnet-pub with
//! security group sg-web and the public address 54.1.2.3, attached to i-1. The approved
//! sg-web allows tcp/443 from 10.0.0.0/8; the actual one also allows tcp/22 from 0.0.0.0/0.
//! Each case changes one thing.

use std::collections::BTreeSet;

use netdrift_provider_file::convert_document;
use netdrift_snapshots::{
    collection::workload_kinds, diff_scope, Provider, Resource, ResourceKind, ScopeWorkloads,
};
use serde_json::{json, Value};

fn perm(proto: &str, port: i64, cidr: &str) -> Value {
    let (v4, v6) = if cidr.contains(':') {
        (json!([]), json!([{"CidrIpv6": cidr}]))
    } else {
        (json!([{"CidrIp": cidr}]), json!([]))
    };
    json!({"IpProtocol": proto, "FromPort": port, "ToPort": port, "IpRanges": v4, "Ipv6Ranges": v6,
           "PrefixListIds": [], "UserIdGroupPairs": []})
}

fn group(id: &str, ingress: Vec<Value>, egress: Vec<Value>) -> Value {
    json!({"GroupId": id, "GroupName": id, "Description": "d", "VpcId": "vpc-1",
           "IpPermissions": ingress, "IpPermissionsEgress": egress})
}

fn entry(
    n: i64,
    egress: bool,
    allow: bool,
    proto: &str,
    ports: Option<(i64, i64)>,
    cidr: &str,
) -> Value {
    let mut e = json!({"RuleNumber": n, "Egress": egress, "Protocol": proto,
                       "RuleAction": if allow { "allow" } else { "deny" }});
    if cidr.contains(':') {
        e["Ipv6CidrBlock"] = json!(cidr);
    } else {
        e["CidrBlock"] = json!(cidr);
    }
    if let Some((f, t)) = ports {
        e["PortRange"] = json!({"From": f, "To": t});
    }
    e
}

/// Allow everything both ways over IPv4 and IPv6, then AWS's default denies.
fn open_entries() -> Vec<Value> {
    vec![
        entry(100, false, true, "-1", None, "0.0.0.0/0"),
        entry(101, false, true, "-1", None, "::/0"),
        entry(100, true, true, "-1", None, "0.0.0.0/0"),
        entry(101, true, true, "-1", None, "::/0"),
        entry(32767, false, false, "-1", None, "0.0.0.0/0"),
        entry(32768, false, false, "-1", None, "::/0"),
        entry(32767, true, false, "-1", None, "0.0.0.0/0"),
        entry(32768, true, false, "-1", None, "::/0"),
    ]
}

fn acl(entries: Vec<Value>) -> Value {
    json!({"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": true, "Entries": entries,
        "Associations": [
            {"NetworkAclAssociationId": "aclassoc-1", "NetworkAclId": "acl-1", "SubnetId": "subnet-pub"},
            {"NetworkAclAssociationId": "aclassoc-2", "NetworkAclId": "acl-1", "SubnetId": "subnet-priv"}]}]})
}

fn eni(id: &str, subnet: &str, groups: &[&str], public: Option<&str>, ipv6: Option<&str>) -> Value {
    let mut n = json!({"NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": "vpc-1",
        "InterfaceType": "interface", "RequesterManaged": false, "Status": "in-use",
        "Attachment": {"InstanceId": "i-1", "Status": "attached", "DeviceIndex": 0},
        "Groups": groups.iter().map(|g| json!({"GroupId": g, "GroupName": g})).collect::<Vec<_>>(),
        "PrivateIpAddress": "10.0.1.10",
        "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "10.0.1.10"}],
        "Ipv6Addresses": ipv6.map(|a| vec![json!({"Ipv6Address": a})]).unwrap_or_default(),
        "TagSet": []});
    if let Some(p) = public {
        n["Association"] = json!({"PublicIp": p, "IpOwnerId": "amazon"});
        n["PrivateIpAddresses"][0]["Association"] = json!({"PublicIp": p, "IpOwnerId": "amazon"});
    }
    n
}

fn subnets() -> Value {
    json!({"Subnets": [
        {"SubnetId": "subnet-pub", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "MapPublicIpOnLaunch": true,
         "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18:1:100::/64", "AssociationId": "a"}]},
        {"SubnetId": "subnet-priv", "VpcId": "vpc-1", "CidrBlock": "10.0.2.0/24", "MapPublicIpOnLaunch": false}]})
}

fn route(dest: &str, target: (&str, &str)) -> Value {
    let mut r = json!({"State": "active", "Origin": "CreateRoute"});
    r[if dest.contains(':') {
        "DestinationIpv6CidrBlock"
    } else {
        "DestinationCidrBlock"
    }] = json!(dest);
    r[target.0] = json!(target.1);
    r
}

fn tables(public_routes: Vec<Value>) -> Value {
    let mut pub_routes = vec![route("10.0.0.0/16", ("GatewayId", "local"))];
    pub_routes.extend(public_routes);
    json!({"RouteTables": [
        {"RouteTableId": "rtb-main", "VpcId": "vpc-1",
         "Associations": [{"Main": true, "RouteTableAssociationId": "rtbassoc-0", "RouteTableId": "rtb-main"}],
         "Routes": [route("10.0.0.0/16", ("GatewayId", "local"))]},
        {"RouteTableId": "rtb-pub", "VpcId": "vpc-1",
         "Associations": [{"Main": false, "SubnetId": "subnet-pub", "RouteTableAssociationId": "rtbassoc-1", "RouteTableId": "rtb-pub"}],
         "Routes": pub_routes}]})
}

fn igw_routes() -> Vec<Value> {
    vec![
        route("0.0.0.0/0", ("GatewayId", "igw-1")),
        route("::/0", ("GatewayId", "igw-1")),
    ]
}

/// One estate: the approved and actual sg-web, the ACL entries, the interfaces, the route
/// table routes of subnet-pub (`None`: no route table dump), whether subnets are dumped.
struct Estate {
    before: Vec<Value>,
    after: Vec<Value>,
    egress_before: Vec<Value>,
    egress_after: Vec<Value>,
    acl: Vec<Value>,
    acl_before: Option<Vec<Value>>,
    enis: Option<Vec<Value>>,
    routes: Option<Vec<Value>>,
    other_groups: Vec<Value>,
}

fn base() -> Estate {
    Estate {
        before: vec![perm("tcp", 443, "10.0.0.0/8")],
        after: vec![perm("tcp", 443, "10.0.0.0/8"), perm("tcp", 22, "0.0.0.0/0")],
        egress_before: vec![],
        egress_after: vec![],
        acl: open_entries(),
        acl_before: None,
        enis: Some(vec![eni(
            "eni-1",
            "subnet-pub",
            &["sg-web"],
            Some("54.1.2.3"),
            None,
        )]),
        routes: Some(igw_routes()),
        other_groups: vec![],
    }
}

fn convert(doc: &Value) -> Vec<Resource> {
    convert_document(Provider::Aws, "111122223333", doc).unwrap_or_else(|e| panic!("{e}"))
}

/// `reach [interface address ports]…` of every item with newly allowed access.
fn reach_of(e: Estate) -> Vec<String> {
    let sgs = |ingress: Vec<Value>, egress: Vec<Value>| {
        let mut gs = vec![group("sg-web", ingress, egress)];
        gs.extend(e.other_groups.iter().cloned());
        json!({"SecurityGroups": gs})
    };
    let mut baseline = convert(&sgs(e.before.clone(), e.egress_before.clone()));
    baseline.extend(convert(&acl(e
        .acl_before
        .clone()
        .unwrap_or_else(|| e.acl.clone()))));
    let mut docs = vec![
        sgs(e.after.clone(), e.egress_after.clone()),
        acl(e.acl.clone()),
        subnets(),
    ];
    if let Some(enis) = &e.enis {
        docs.push(json!({ "NetworkInterfaces": enis }));
    }
    if let Some(routes) = &e.routes {
        docs.push(tables(routes.clone()));
    }
    let actual: Vec<Resource> = docs.iter().flat_map(convert).collect();
    let read: BTreeSet<ResourceKind> = actual.iter().map(|r| r.kind).collect();
    let uncollected: BTreeSet<ResourceKind> = workload_kinds(Provider::Aws)
        .into_iter()
        .filter(|k| !read.contains(k) && *k != ResourceKind::AwsSubnet)
        .collect();
    let w = ScopeWorkloads::new(&actual, &uncollected);
    let mut out = Vec::new();
    for d in diff_scope(&baseline, &actual, &uncollected) {
        let allowed = d.allowed_union();
        if allowed.is_empty() {
            continue;
        }
        let v = w.reach(&d);
        let mut line = format!("{} {}", d.resource, v.reach.as_str());
        for x in &v.exposed {
            line += &format!(
                " {} {} {}",
                x.id,
                x.address.as_deref().unwrap_or("-"),
                x.ports.join(",")
            );
        }
        out.push(line);
    }
    out
}

#[test]
fn aws_reach_cases() {
    let nat = || vec![route("0.0.0.0/0", ("NatGatewayId", "nat-1"))];
    let cases: Vec<(&str, Estate, &str)> = vec![
        (
            "public IP + internet gateway route: internet on the address",
            base(),
            "sg-web internet eni-1 54.1.2.3 tcp/22",
        ),
        (
            "no public IP",
            Estate {
                enis: Some(vec![eni("eni-1", "subnet-pub", &["sg-web"], None, None)]),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "public IP in a subnet whose (main) table has no internet route",
            Estate {
                enis: Some(vec![eni(
                    "eni-1",
                    "subnet-priv",
                    &["sg-web"],
                    Some("54.1.2.3"),
                    None,
                )]),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "public IP but only a NAT gateway route: nothing comes in",
            Estate {
                routes: Some(nat()),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "a blackhole internet route carries nothing",
            Estate {
                routes: Some(vec![
                    json!({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "blackhole"}),
                ]),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "an internet route for part of the internet: reachable from that part",
            Estate {
                routes: Some(vec![route("52.0.0.0/8", ("GatewayId", "igw-1"))]),
                ..base()
            },
            "sg-web internet eni-1 54.1.2.3 tcp/22",
        ),
        (
            "an internet route only for addresses the change does not allow",
            Estate {
                after: vec![
                    perm("tcp", 443, "10.0.0.0/8"),
                    perm("tcp", 22, "8.8.8.0/24"),
                ],
                routes: Some(vec![route("52.0.0.0/8", ("GatewayId", "igw-1"))]),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "the subnet's network ACL denies tcp/22 in first",
            Estate {
                acl: [
                    vec![entry(90, false, false, "6", Some((22, 22)), "0.0.0.0/0")],
                    open_entries(),
                ]
                .concat(),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "the ACL lets tcp/22 in but no reply out to an ephemeral port",
            Estate {
                acl: [
                    vec![entry(
                        90,
                        true,
                        false,
                        "6",
                        Some((1024, 65535)),
                        "0.0.0.0/0",
                    )],
                    open_entries(),
                ]
                .concat(),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "replies allowed to Linux's ephemeral range only: reachable",
            Estate {
                acl: [
                    vec![
                        entry(89, true, true, "6", Some((32768, 60999)), "0.0.0.0/0"),
                        entry(90, true, false, "6", Some((1024, 65535)), "0.0.0.0/0"),
                    ],
                    open_entries(),
                ]
                .concat(),
                ..base()
            },
            "sg-web internet eni-1 54.1.2.3 tcp/22",
        ),
        (
            "IPv6 address behind an egress-only gateway admits nothing",
            Estate {
                after: vec![perm("tcp", 443, "10.0.0.0/8"), perm("tcp", 22, "::/0")],
                enis: Some(vec![eni(
                    "eni-1",
                    "subnet-pub",
                    &["sg-web"],
                    None,
                    Some("2600:1f18:1:100::10"),
                )]),
                routes: Some(vec![route(
                    "::/0",
                    ("EgressOnlyInternetGatewayId", "eigw-1"),
                )]),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "IPv6 address with an internet gateway route: internet on the IPv6 address",
            Estate {
                after: vec![perm("tcp", 443, "10.0.0.0/8"), perm("tcp", 22, "::/0")],
                enis: Some(vec![eni(
                    "eni-1",
                    "subnet-pub",
                    &["sg-web"],
                    None,
                    Some("2600:1f18:1:100::10"),
                )]),
                ..base()
            },
            "sg-web internet eni-1 2600:1f18:1:100::10 tcp/22",
        ),
        (
            "an IPv4 public address does not make IPv6 access reachable",
            Estate {
                after: vec![perm("tcp", 443, "10.0.0.0/8"), perm("tcp", 22, "::/0")],
                ..base()
            },
            "sg-web internal",
        ),
        (
            "no interface uses the group",
            Estate {
                enis: Some(vec![eni(
                    "eni-1",
                    "subnet-pub",
                    &["sg-other"],
                    Some("54.1.2.3"),
                    None,
                )]),
                ..base()
            },
            "sg-web unattached",
        ),
        (
            "interfaces not collected: unknown, never unattached",
            Estate {
                enis: None,
                ..base()
            },
            "sg-web unknown",
        ),
        (
            "route tables not collected: unknown, never internal",
            Estate {
                routes: None,
                ..base()
            },
            "sg-web unknown",
        ),
        (
            "newly allowed from private addresses only",
            Estate {
                after: vec![
                    perm("tcp", 443, "10.0.0.0/8"),
                    perm("tcp", 22, "192.168.0.0/16"),
                ],
                ..base()
            },
            "sg-web internal",
        ),
        (
            "a secondary address with its own Elastic IP",
            Estate {
                enis: Some(vec![{
                    let mut n = eni("eni-1", "subnet-pub", &["sg-web"], None, None);
                    n["PrivateIpAddresses"] = json!([{"Primary": true, "PrivateIpAddress": "10.0.1.10"},
                {"Primary": false, "PrivateIpAddress": "10.0.1.11", "Association": {"PublicIp": "3.4.5.6", "AllocationId": "eipalloc-1"}}]);
                    n
                }]),
                ..base()
            },
            "sg-web internet eni-1 3.4.5.6 tcp/22",
        ),
        (
            "egress to the internet through a NAT gateway, no public address",
            Estate {
                after: vec![perm("tcp", 443, "10.0.0.0/8")],
                egress_after: vec![perm("tcp", 443, "0.0.0.0/0")],
                enis: Some(vec![eni("eni-1", "subnet-pub", &["sg-web"], None, None)]),
                routes: Some(nat()),
                ..base()
            },
            "sg-web internet eni-1 via nat-1 tcp/443",
        ),
        (
            "egress through an internet gateway needs a public address",
            Estate {
                after: vec![perm("tcp", 443, "10.0.0.0/8")],
                egress_after: vec![perm("tcp", 443, "0.0.0.0/0")],
                enis: Some(vec![eni("eni-1", "subnet-pub", &["sg-web"], None, None)]),
                ..base()
            },
            "sg-web internal",
        ),
        (
            "a network ACL change reaches the interfaces of its subnets through their groups",
            Estate {
                after: vec![
                    perm("tcp", 443, "10.0.0.0/8"),
                    perm("tcp", 3389, "0.0.0.0/0"),
                ],
                before: vec![
                    perm("tcp", 443, "10.0.0.0/8"),
                    perm("tcp", 3389, "0.0.0.0/0"),
                ],
                acl_before: Some(
                    [
                        vec![entry(
                            90,
                            false,
                            false,
                            "6",
                            Some((3389, 3389)),
                            "0.0.0.0/0",
                        )],
                        open_entries(),
                    ]
                    .concat(),
                ),
                ..base()
            },
            "acl-1 internet eni-1 54.1.2.3 tcp/3389",
        ),
        (
            "a network ACL change the interfaces' groups do not allow",
            Estate {
                acl_before: Some(
                    [
                        vec![entry(
                            90,
                            false,
                            false,
                            "6",
                            Some((3389, 3389)),
                            "0.0.0.0/0",
                        )],
                        open_entries(),
                    ]
                    .concat(),
                ),
                before: vec![perm("tcp", 443, "10.0.0.0/8")],
                after: vec![perm("tcp", 443, "10.0.0.0/8")],
                ..base()
            },
            "acl-1 internal",
        ),
    ];
    for (name, estate, want) in cases {
        let got = reach_of(estate);
        assert_eq!(got, [want], "{name}");
    }
}

#[test]
fn workload_dumps_convert_and_name_the_field_that_is_wrong() {
    let rs = convert(
        &json!({"NetworkInterfaces": [eni("eni-1", "subnet-pub", &["sg-b", "sg-a"], Some("54.1.2.3"), None)]}),
    );
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, ResourceKind::AwsNetworkInterface);
    let text = serde_json::to_string(&rs[0].workload).unwrap();
    assert!(text.contains(r#""groups":["sg-a","sg-b"]"#), "{text}");
    assert!(text.contains(r#""public_ipv4":["54.1.2.3"]"#), "{text}");
    assert!(text.contains(r#""instance":"i-1""#), "{text}");
    let bad = convert_document(
        Provider::Aws,
        "1",
        &json!({"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Associations": [],
            "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "sideways"}]}]}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("RouteTables[0].Routes[0].State") && bad.contains("sideways"),
        "{bad}"
    );
    let bad = convert_document(
        Provider::Aws,
        "1",
        &json!({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1",
            "Association": {"PublicIp": "54.1.2"}}]}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("NetworkInterfaces[0].Association.PublicIp") && bad.contains("54.1.2"),
        "{bad}"
    );
}

// ---------------- GCP ----------------

fn gcp_rule(name: &str, direction: &str, port: &str, ranges: &str, target: Value) -> Value {
    let mut r = json!({"kind": "compute#firewall", "name": name, "network": "https://www.googleapis.com/compute/v1/projects/p1/global/networks/default",
        "priority": 1000, "direction": direction, "disabled": false,
        "allowed": [{"IPProtocol": "tcp", "ports": [port]}],
        "selfLink": format!("https://www.googleapis.com/compute/v1/projects/p1/global/firewalls/{name}")});
    r[if direction == "INGRESS" {
        "sourceRanges"
    } else {
        "destinationRanges"
    }] = json!([ranges]);
    if let Value::Object(t) = target {
        for (k, v) in t {
            r[k] = v;
        }
    }
    r
}

fn vm(name: &str, status: &str, tags: &[&str], sa: &str, nat: Option<&str>) -> Value {
    json!({"kind": "compute#instance", "name": name, "status": status,
        "zone": "https://www.googleapis.com/compute/v1/projects/p1/zones/us-central1-a",
        "selfLink": format!("https://www.googleapis.com/compute/v1/projects/p1/zones/us-central1-a/instances/{name}"),
        "tags": {"items": tags, "fingerprint": "x"},
        "serviceAccounts": [{"email": sa, "scopes": []}],
        "networkInterfaces": [{"name": "nic0", "network": "https://www.googleapis.com/compute/v1/projects/p1/global/networks/default",
            "networkIP": "10.128.0.2",
            "accessConfigs": nat.map(|ip| vec![json!({"type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": ip})]).unwrap_or_default()}]})
}

/// A deny-all egress rule below everything, in both states (GCP's implied egress allows all).
fn deny_egress() -> Value {
    json!({"kind": "compute#firewall", "name": "deny-egress", "network": "https://www.googleapis.com/compute/v1/projects/p1/global/networks/default",
        "priority": 65000, "direction": "EGRESS", "disabled": false, "denied": [{"IPProtocol": "all"}],
        "destinationRanges": ["0.0.0.0/0"],
        "selfLink": "https://www.googleapis.com/compute/v1/projects/p1/global/firewalls/deny-egress"})
}

fn gcp_reach(rule: Value, instances: Option<Vec<Value>>) -> Vec<String> {
    let conv =
        |d: &Value| convert_document(Provider::Gcp, "p1", d).unwrap_or_else(|e| panic!("{e}"));
    let baseline: Vec<Resource> = conv(&json!([deny_egress()]));
    let mut actual = conv(&json!([deny_egress(), rule]));
    let mut uncollected = BTreeSet::new();
    match instances {
        Some(vms) => actual.extend(conv(&json!(vms))),
        None => {
            uncollected.insert(ResourceKind::GcpInstance);
        }
    }
    let w = ScopeWorkloads::new(&actual, &uncollected);
    diff_scope(&baseline, &actual, &uncollected)
        .iter()
        .filter(|d| !d.allowed_union().is_empty())
        .map(|d| {
            let v = w.reach(d);
            let mut line = v.reach.as_str().to_string();
            for x in &v.exposed {
                line += &format!(
                    " {} {} {}",
                    x.instance.as_deref().unwrap_or("-"),
                    x.address.as_deref().unwrap_or("-"),
                    x.ports.join(",")
                );
            }
            line
        })
        .collect()
}

#[test]
fn gcp_reach_cases() {
    let tag = |t: &str| json!({"targetTags": [t]});
    let ssh = |target: Value| gcp_rule("allow-ssh", "INGRESS", "22", "0.0.0.0/0", target);
    let web = || {
        vm(
            "web-1",
            "RUNNING",
            &["web"],
            "web@p1.iam.gserviceaccount.com",
            Some("34.120.1.2"),
        )
    };
    let cases: Vec<(&str, Value, Option<Vec<Value>>, &str)> = vec![
        (
            "a target tag on a running instance with an external IP",
            ssh(tag("web")),
            Some(vec![web()]),
            "internet web-1 34.120.1.2 tcp/22",
        ),
        (
            "the tag matches only an instance without an external IP",
            ssh(tag("db")),
            Some(vec![
                web(),
                vm(
                    "db-1",
                    "RUNNING",
                    &["db"],
                    "db@p1.iam.gserviceaccount.com",
                    None,
                ),
            ]),
            "internal",
        ),
        (
            "the same rule matching an instance with one",
            ssh(tag("db")),
            Some(vec![vm(
                "db-1",
                "RUNNING",
                &["db"],
                "db@p1.iam.gserviceaccount.com",
                Some("34.120.9.9"),
            )]),
            "internet db-1 34.120.9.9 tcp/22",
        ),
        (
            "a stopped instance is not exposed",
            ssh(tag("web")),
            Some(vec![vm(
                "web-1",
                "TERMINATED",
                &["web"],
                "web@p1.iam.gserviceaccount.com",
                Some("34.120.1.2"),
            )]),
            "internal",
        ),
        (
            "no instance has the tag",
            ssh(tag("legacy")),
            Some(vec![web()]),
            "unattached",
        ),
        (
            "no target: every instance of the network",
            ssh(json!({})),
            Some(vec![web()]),
            "internet web-1 34.120.1.2 tcp/22",
        ),
        (
            "a target service account",
            ssh(json!({"targetServiceAccounts": ["web@p1.iam.gserviceaccount.com"]})),
            Some(vec![
                web(),
                vm(
                    "db-1",
                    "RUNNING",
                    &["db"],
                    "db@p1.iam.gserviceaccount.com",
                    Some("34.120.9.9"),
                ),
            ]),
            "internet web-1 34.120.1.2 tcp/22",
        ),
        ("instances not collected", ssh(tag("web")), None, "unknown"),
        (
            "egress without an external IP may leave through Cloud NAT: unknown, never internal",
            gcp_rule("allow-out", "EGRESS", "443", "0.0.0.0/0", tag("db")),
            Some(vec![vm(
                "db-1",
                "RUNNING",
                &["db"],
                "db@p1.iam.gserviceaccount.com",
                None,
            )]),
            "unknown",
        ),
        (
            "from private ranges only",
            gcp_rule("allow-int", "INGRESS", "22", "10.0.0.0/8", tag("web")),
            Some(vec![web()]),
            "internal",
        ),
    ];
    for (name, rule, vms, want) in cases {
        assert_eq!(gcp_reach(rule, vms), [want], "{name}");
    }
}

#[test]
fn gcp_instances_read_from_gcloud_and_from_aggregated_list_pages_alike() {
    let conv =
        |d: &Value| convert_document(Provider::Gcp, "p1", d).unwrap_or_else(|e| panic!("{e}"));
    let a = vm(
        "web-1",
        "RUNNING",
        &["web", "ssh"],
        "web@p1.iam.gserviceaccount.com",
        Some("34.120.1.2"),
    );
    let mut b = vm(
        "db-1",
        "RUNNING",
        &["db"],
        "db@p1.iam.gserviceaccount.com",
        None,
    );
    b["zone"] = json!("https://www.googleapis.com/compute/v1/projects/p1/zones/europe-west1-b");
    b["selfLink"] = json!(
        "https://www.googleapis.com/compute/v1/projects/p1/zones/europe-west1-b/instances/db-1"
    );
    let flat = conv(&json!([a.clone(), b.clone()]));
    let aggregated = conv(&json!({"kind": "compute#instanceAggregatedList", "items": {
        "zones/us-central1-a": {"instances": [a]},
        "zones/europe-west1-b": {"instances": [b]},
        "zones/asia-east1-a": {"warning": {"code": "NO_RESULTS_ON_PAGE"}}}}));
    let ids = |rs: &[Resource]| {
        let mut v: Vec<String> = rs.iter().map(|r| r.id.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(&flat),
        [
            "projects/p1/zones/europe-west1-b/instances/db-1",
            "projects/p1/zones/us-central1-a/instances/web-1"
        ]
    );
    assert_eq!(ids(&flat), ids(&aggregated));
    let text = serde_json::to_string(
        &flat
            .iter()
            .find(|r| r.name.as_deref() == Some("web-1"))
            .unwrap()
            .workload,
    )
    .unwrap();
    assert!(
        text.contains(r#""tags":["ssh","web"]"#)
            && text.contains(r#""external_ipv4":["34.120.1.2"]"#)
            && text.contains(r#""network":"projects/p1/global/networks/default""#),
        "{text}"
    );
    let bad = convert_document(Provider::Gcp, "p1", &json!([{"kind": "compute#instance", "name": "x", "status": "RUNNING",
        "zone": "z", "networkInterfaces": [{"network": "n", "accessConfigs": [{"natIP": "34.1"}]}]}]))
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("[0].networkInterfaces[0].accessConfigs[0].natIP") && bad.contains("34.1"),
        "{bad}"
    );
}

// ---------------- Azure ----------------

/// (case, NSGs before, NSGs after, interfaces (none: not collected), expected line).
type AzReachCase = (
    &'static str,
    Vec<Value>,
    Vec<Value>,
    Option<Vec<Value>>,
    &'static str,
);

const SUB: &str = "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg/providers/Microsoft.Network";

fn az_nsg(name: &str, rules: Vec<Value>, nics: &[&str], subnets: &[&str]) -> Value {
    json!({"id": format!("{SUB}/networkSecurityGroups/{name}"), "name": name, "location": "westeurope",
        "type": "Microsoft.Network/networkSecurityGroups",
        "properties": {"securityRules": rules,
            "networkInterfaces": nics.iter().map(|n| json!({"id": format!("{SUB}/networkInterfaces/{n}")})).collect::<Vec<_>>(),
            "subnets": subnets.iter().map(|s| json!({"id": format!("{SUB}/virtualNetworks/vnet/subnets/{s}")})).collect::<Vec<_>>()}})
}

fn az_rule(name: &str, prio: u32, port: &str, source: &str, access: &str) -> Value {
    json!({"name": name, "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port,
        "sourceAddressPrefix": source, "destinationAddressPrefix": "*", "access": access, "priority": prio, "direction": "Inbound"}})
}

/// An interface in `subnet`, with its own NSG and public IP when given; ARM shape.
fn az_nic(name: &str, subnet: &str, nsg: Option<&str>, pip: Option<&str>) -> Value {
    let mut ipc = json!({"name": "ipconfig1", "properties": {"privateIPAddress": "10.0.1.4",
        "subnet": {"id": format!("{SUB}/virtualNetworks/vnet/subnets/{subnet}")}}});
    if let Some(p) = pip {
        ipc["properties"]["publicIPAddress"] =
            json!({"id": format!("{SUB}/publicIPAddresses/{p}")});
    }
    let mut n = json!({"id": format!("{SUB}/networkInterfaces/{name}"), "name": name, "location": "westeurope",
        "type": "Microsoft.Network/networkInterfaces",
        "properties": {"ipConfigurations": [ipc],
            "virtualMachine": {"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"}}});
    if let Some(g) = nsg {
        n["properties"]["networkSecurityGroup"] =
            json!({"id": format!("{SUB}/networkSecurityGroups/{g}")});
    }
    n
}

/// The az CLI shape of the public IP list (flattened properties).
fn az_pips() -> Value {
    json!([{"id": format!("{SUB}/publicIPAddresses/pip1"), "name": "pip1", "type": "Microsoft.Network/publicIPAddresses",
        "ipAddress": "20.50.1.2", "publicIPAllocationMethod": "Static"}])
}

/// The reach of what changes from `before` to `after` (NSG lists), with these interfaces.
fn az_reach(before: Vec<Value>, after: Vec<Value>, nics: Option<Vec<Value>>) -> Vec<String> {
    let conv = |d: &Value| {
        convert_document(Provider::Azure, "0b1f6471-1bf0-4dda-aec3-111122223333", d)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let baseline = conv(&json!({ "value": before }));
    let mut actual = conv(&json!({ "value": after }));
    let mut uncollected = BTreeSet::new();
    match nics {
        Some(n) => {
            actual.extend(conv(&json!({ "value": n })));
            actual.extend(conv(&az_pips()));
        }
        None => {
            uncollected.insert(ResourceKind::AzureNic);
        }
    }
    let w = ScopeWorkloads::new(&actual, &uncollected);
    diff_scope(&baseline, &actual, &uncollected)
        .iter()
        .filter(|d| !d.allowed_union().is_empty())
        .map(|d| {
            let v = w.reach(d);
            let mut line = v.reach.as_str().to_string();
            for x in &v.exposed {
                line += &format!(
                    " {} {} {}",
                    x.instance.as_deref().unwrap_or("-"),
                    x.address.as_deref().unwrap_or("-"),
                    x.ports.join(",")
                );
            }
            line
        })
        .collect()
}

#[test]
fn azure_reach_cases() {
    let rdp = || az_rule("allow-rdp", 100, "3389", "Internet", "Allow");
    let cases: Vec<AzReachCase> = vec![
        (
            "the NIC's NSG admits RDP from the Internet, no subnet NSG, a public IP",
            vec![az_nsg("nic-nsg", vec![], &["nic1"], &[])],
            vec![az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[])],
            Some(vec![az_nic("nic1", "app", Some("nic-nsg"), Some("pip1"))]),
            "internet vm1 20.50.1.2 tcp/3389",
        ),
        (
            "a subnet NSG that still denies (its defaults) under a NIC NSG allow",
            vec![
                az_nsg("nic-nsg", vec![], &["nic1"], &[]),
                az_nsg("subnet-nsg", vec![], &[], &["app"]),
            ],
            vec![
                az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[]),
                az_nsg("subnet-nsg", vec![], &[], &["app"]),
            ],
            Some(vec![az_nic("nic1", "app", Some("nic-nsg"), Some("pip1"))]),
            "internal",
        ),
        (
            "a subnet NSG change, the NIC without an NSG of its own: reachable",
            vec![az_nsg("subnet-nsg", vec![], &[], &["app"])],
            vec![az_nsg("subnet-nsg", vec![rdp()], &[], &["app"])],
            Some(vec![az_nic("nic1", "app", None, Some("pip1"))]),
            "internet vm1 20.50.1.2 tcp/3389",
        ),
        (
            "no public IP",
            vec![az_nsg("nic-nsg", vec![], &["nic1"], &[])],
            vec![az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[])],
            Some(vec![az_nic("nic1", "app", Some("nic-nsg"), None)]),
            "internal",
        ),
        (
            "an NSG on nothing",
            vec![az_nsg("spare", vec![], &[], &[])],
            vec![az_nsg("spare", vec![rdp()], &[], &[])],
            Some(vec![az_nic("nic1", "app", None, Some("pip1"))]),
            "unattached",
        ),
        (
            "network interfaces not collected",
            vec![az_nsg("nic-nsg", vec![], &["nic1"], &[])],
            vec![az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[])],
            None,
            "unknown",
        ),
    ];
    for (name, before, after, nics, want) in cases {
        assert_eq!(az_reach(before, after, nics), [want], "{name}");
    }
}

// ---------------- The attack surface (GCP, Azure) ----------------

/// (case, firewall resources, workloads (none: not collected), expected line or "").
type SurfaceCase = (&'static str, Vec<Value>, Option<Vec<Value>>, &'static str);

/// `instance address ports [opened by, last path segment]` of each exposed workload, or the
/// reason the surface cannot be told.
fn surface_lines(
    provider: Provider,
    actual: &[Resource],
    uncollected: &BTreeSet<ResourceKind>,
) -> Vec<String> {
    match ScopeWorkloads::new(actual, uncollected).surface(provider) {
        Err(why) => vec![format!("not assessed: {why}")],
        Ok((entries, unknown)) => entries
            .iter()
            .map(|e| {
                let by: Vec<&str> = e
                    .opened_by
                    .iter()
                    .map(|o| o.rsplit('/').next().unwrap_or(o))
                    .collect();
                format!(
                    "{} {} {} [{}]",
                    e.workload.instance.as_deref().unwrap_or(&e.workload.id),
                    e.workload.address.as_deref().unwrap_or("-"),
                    e.workload.ports.join(","),
                    by.join(",")
                )
            })
            .chain(unknown.into_iter().map(|u| format!("unknown: {u}")))
            .collect(),
    }
}

fn gcp_surface(rules: Vec<Value>, instances: Option<Vec<Value>>) -> Vec<String> {
    let conv =
        |d: &Value| convert_document(Provider::Gcp, "p1", d).unwrap_or_else(|e| panic!("{e}"));
    let mut actual = conv(&json!(rules));
    let mut uncollected = BTreeSet::new();
    match instances {
        Some(vms) => actual.extend(conv(&json!(vms))),
        None => {
            uncollected.insert(ResourceKind::GcpInstance);
        }
    }
    surface_lines(Provider::Gcp, &actual, &uncollected)
}

#[test]
fn gcp_attack_surface_cases() {
    let tag = |t: &str| json!({"targetTags": [t]});
    let ssh = |target: Value| gcp_rule("allow-ssh", "INGRESS", "22", "0.0.0.0/0", target);
    let deny_ssh = |target: Value| {
        let mut r = gcp_rule("deny-ssh", "INGRESS", "22", "0.0.0.0/0", target);
        r["priority"] = json!(100);
        r["denied"] = r["allowed"].take();
        r.as_object_mut().expect("object").remove("allowed");
        r
    };
    let vm_tags = |tags: &[&str], nat: Option<&str>| {
        vm(
            "web-1",
            "RUNNING",
            tags,
            "web@p1.iam.gserviceaccount.com",
            nat,
        )
    };
    let cases: Vec<SurfaceCase> = vec![
        (
            "a tag rule on a running instance with an external IP",
            vec![ssh(tag("web"))],
            Some(vec![vm_tags(&["web"], Some("34.120.1.2"))]),
            "web-1 34.120.1.2 tcp/22 [allow-ssh]",
        ),
        (
            "no external IP",
            vec![ssh(tag("web"))],
            Some(vec![vm_tags(&["web"], None)]),
            "",
        ),
        (
            "a stopped instance",
            vec![ssh(json!({}))],
            Some(vec![vm(
                "web-1",
                "TERMINATED",
                &["web"],
                "web@p1.iam.gserviceaccount.com",
                Some("34.120.1.2"),
            )]),
            "",
        ),
        (
            "a higher-priority deny for the same tag",
            vec![ssh(tag("web")), deny_ssh(tag("web"))],
            Some(vec![vm_tags(&["web"], Some("34.120.1.2"))]),
            "",
        ),
        (
            "a deny for a tag the instance does not carry",
            vec![ssh(tag("web")), deny_ssh(tag("db"))],
            Some(vec![vm_tags(&["web"], Some("34.120.1.2"))]),
            "web-1 34.120.1.2 tcp/22 [allow-ssh]",
        ),
        (
            "the allow by one tag, the deny by another: the instance carries both",
            vec![ssh(tag("web")), deny_ssh(tag("db"))],
            Some(vec![vm_tags(&["db", "web"], Some("34.120.1.2"))]),
            "",
        ),
        (
            "a service-account target",
            vec![ssh(
                json!({"targetServiceAccounts": ["web@p1.iam.gserviceaccount.com"]}),
            )],
            Some(vec![vm_tags(&[], Some("34.120.1.2"))]),
            "web-1 34.120.1.2 tcp/22 [allow-ssh]",
        ),
        (
            "only from private addresses",
            vec![gcp_rule(
                "allow-ssh",
                "INGRESS",
                "22",
                "10.0.0.0/8",
                json!({}),
            )],
            Some(vec![vm_tags(&["web"], Some("34.120.1.2"))]),
            "",
        ),
        (
            "instances not collected",
            vec![ssh(json!({}))],
            None,
            "not assessed: instances were not collected",
        ),
    ];
    for (name, rules, vms, want) in cases {
        let want: Vec<&str> = if want.is_empty() { vec![] } else { vec![want] };
        assert_eq!(gcp_surface(rules, vms), want, "{name}");
    }
}

fn az_surface(nsgs: Vec<Value>, nics: Option<Vec<Value>>) -> Vec<String> {
    let conv = |d: &Value| {
        convert_document(Provider::Azure, "0b1f6471-1bf0-4dda-aec3-111122223333", d)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut actual = conv(&json!({ "value": nsgs }));
    let mut uncollected = BTreeSet::new();
    match nics {
        Some(n) => {
            actual.extend(conv(&json!({ "value": n })));
            actual.extend(conv(&az_pips()));
        }
        None => {
            uncollected.insert(ResourceKind::AzureNic);
        }
    }
    surface_lines(Provider::Azure, &actual, &uncollected)
}

#[test]
fn azure_attack_surface_cases() {
    let rdp = || az_rule("allow-rdp", 200, "3389", "Internet", "Allow");
    let to = |mut r: Value, key: &str, v: Value| {
        r["properties"][key] = v;
        r
    };
    let deny_to_asg = || {
        let r = az_rule("deny-rdp-asg", 100, "3389", "*", "Deny");
        let mut r = to(
            r,
            "destinationApplicationSecurityGroups",
            json!([{"id": format!("{SUB}/applicationSecurityGroups/web")}]),
        );
        r["properties"]
            .as_object_mut()
            .expect("object")
            .remove("destinationAddressPrefix");
        r
    };
    let nic = || az_nic("nic1", "app", Some("nic-nsg"), Some("pip1"));
    let cases: Vec<SurfaceCase> = vec![
        (
            "the NIC's NSG admits RDP from the Internet, a public IP",
            vec![az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[])],
            Some(vec![nic()]),
            "vm1 20.50.1.2 tcp/3389 [nic-nsg]",
        ),
        (
            "the subnet's NSG (its defaults) still denies",
            vec![az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[]), az_nsg("subnet-nsg", vec![], &[], &["app"])],
            Some(vec![nic()]),
            "",
        ),
        (
            "no NSG anywhere: everything reaches it",
            vec![],
            Some(vec![az_nic("nic1", "app", None, Some("pip1"))]),
            "vm1 20.50.1.2 all []",
        ),
        (
            "no public IP",
            vec![az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[])],
            Some(vec![az_nic("nic1", "app", Some("nic-nsg"), None)]),
            "",
        ),
        (
            "the allow names another interface's private address",
            vec![az_nsg("nic-nsg", vec![to(rdp(), "destinationAddressPrefix", json!("10.0.1.5/32"))], &["nic1"], &[])],
            Some(vec![nic()]),
            "",
        ),
        (
            "the allow names this interface's private address",
            vec![az_nsg("nic-nsg", vec![to(rdp(), "destinationAddressPrefix", json!("10.0.1.4"))], &["nic1"], &[])],
            Some(vec![nic()]),
            "vm1 20.50.1.2 tcp/3389 [nic-nsg]",
        ),
        (
            "a deny for an application security group, whose members are not collected, is not relied on",
            vec![az_nsg("nic-nsg", vec![deny_to_asg(), rdp()], &["nic1"], &[])],
            Some(vec![nic()]),
            "vm1 20.50.1.2 tcp/3389 [nic-nsg]",
        ),
        (
            "network interfaces not collected",
            vec![az_nsg("nic-nsg", vec![rdp()], &["nic1"], &[])],
            None,
            "not assessed: network interfaces were not collected",
        ),
    ];
    for (name, nsgs, nics, want) in cases {
        let want: Vec<&str> = if want.is_empty() { vec![] } else { vec![want] };
        assert_eq!(az_surface(nsgs, nics), want, "{name}");
    }
}
