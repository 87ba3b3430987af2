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
        let v = w.reach(&d.resource, d.kind, d.direction, &allowed);
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
