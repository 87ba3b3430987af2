//! SDK structs → the JSON the AWS CLI prints for the same call, so that live and offline
//! collection go through one conversion (`netdrift_provider_file::aws`).

use aws_sdk_ec2::types::{IpPermission, NetworkAcl, SecurityGroup, SecurityGroupRule, Tag};
use serde_json::{json, Map, Value};

fn put(m: &mut Map<String, Value>, k: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        m.insert(k.to_string(), v.into());
    }
}

fn tags(t: &[Tag]) -> Value {
    Value::Array(
        t.iter()
            .map(|t| json!({"Key": t.key(), "Value": t.value()}))
            .collect(),
    )
}

fn permission(p: &IpPermission) -> Value {
    let mut m = Map::new();
    put(&mut m, "IpProtocol", p.ip_protocol());
    put(&mut m, "FromPort", p.from_port());
    put(&mut m, "ToPort", p.to_port());
    m.insert(
        "IpRanges".into(),
        p.ip_ranges()
            .iter()
            .map(|r| json!({"CidrIp": r.cidr_ip(), "Description": r.description()}))
            .collect(),
    );
    m.insert(
        "Ipv6Ranges".into(),
        p.ipv6_ranges()
            .iter()
            .map(|r| json!({"CidrIpv6": r.cidr_ipv6(), "Description": r.description()}))
            .collect(),
    );
    m.insert(
        "PrefixListIds".into(),
        p.prefix_list_ids()
            .iter()
            .map(|r| json!({"PrefixListId": r.prefix_list_id(), "Description": r.description()}))
            .collect(),
    );
    m.insert(
        "UserIdGroupPairs".into(),
        p.user_id_group_pairs()
            .iter()
            .map(|g| json!({"GroupId": g.group_id(), "UserId": g.user_id(), "Description": g.description(), "VpcId": g.vpc_id()}))
            .collect(),
    );
    Value::Object(m)
}

pub fn security_group(g: &SecurityGroup) -> Value {
    json!({
        "GroupId": g.group_id(),
        "GroupName": g.group_name(),
        "Description": g.description(),
        "OwnerId": g.owner_id(),
        "VpcId": g.vpc_id(),
        "IpPermissions": g.ip_permissions().iter().map(permission).collect::<Vec<_>>(),
        "IpPermissionsEgress": g.ip_permissions_egress().iter().map(permission).collect::<Vec<_>>(),
        "Tags": tags(g.tags()),
    })
}

pub fn security_group_rule(r: &SecurityGroupRule) -> Value {
    let mut m = Map::new();
    put(&mut m, "SecurityGroupRuleId", r.security_group_rule_id());
    put(&mut m, "GroupId", r.group_id());
    put(&mut m, "GroupOwnerId", r.group_owner_id());
    put(&mut m, "IsEgress", r.is_egress());
    put(&mut m, "IpProtocol", r.ip_protocol());
    put(&mut m, "FromPort", r.from_port());
    put(&mut m, "ToPort", r.to_port());
    put(&mut m, "CidrIpv4", r.cidr_ipv4());
    put(&mut m, "CidrIpv6", r.cidr_ipv6());
    put(&mut m, "PrefixListId", r.prefix_list_id());
    put(&mut m, "Description", r.description());
    if let Some(g) = r.referenced_group_info() {
        m.insert(
            "ReferencedGroupInfo".into(),
            json!({"GroupId": g.group_id(), "UserId": g.user_id()}),
        );
    }
    Value::Object(m)
}

pub fn network_acl(a: &NetworkAcl) -> Value {
    let entries: Vec<Value> = a
        .entries()
        .iter()
        .map(|e| {
            let mut m = Map::new();
            put(&mut m, "RuleNumber", e.rule_number());
            put(&mut m, "Protocol", e.protocol());
            put(
                &mut m,
                "RuleAction",
                e.rule_action().map(|x| x.as_str().to_string()),
            );
            put(&mut m, "Egress", e.egress());
            put(&mut m, "CidrBlock", e.cidr_block());
            put(&mut m, "Ipv6CidrBlock", e.ipv6_cidr_block());
            if let Some(p) = e.port_range() {
                m.insert("PortRange".into(), json!({"From": p.from(), "To": p.to()}));
            }
            if let Some(i) = e.icmp_type_code() {
                m.insert(
                    "IcmpTypeCode".into(),
                    json!({"Type": i.r#type(), "Code": i.code()}),
                );
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "NetworkAclId": a.network_acl_id(),
        "VpcId": a.vpc_id(),
        "IsDefault": a.is_default(),
        "OwnerId": a.owner_id(),
        "Associations": a.associations().iter().map(|s| json!({"NetworkAclAssociationId": s.network_acl_association_id(), "NetworkAclId": s.network_acl_id(), "SubnetId": s.subnet_id()})).collect::<Vec<_>>(),
        "Entries": entries,
        "Tags": tags(a.tags()),
    })
}

pub fn network_interface(n: &aws_sdk_ec2::types::NetworkInterface) -> Value {
    let assoc = |a: Option<&aws_sdk_ec2::types::NetworkInterfaceAssociation>| {
        a.map(|a| json!({"PublicIp": a.public_ip(), "IpOwnerId": a.ip_owner_id(), "AllocationId": a.allocation_id()}))
    };
    let mut m = Map::new();
    put(&mut m, "NetworkInterfaceId", n.network_interface_id());
    put(&mut m, "SubnetId", n.subnet_id());
    put(&mut m, "VpcId", n.vpc_id());
    put(&mut m, "Description", n.description());
    put(
        &mut m,
        "InterfaceType",
        n.interface_type().map(|t| t.as_str()),
    );
    put(&mut m, "RequesterManaged", n.requester_managed());
    put(&mut m, "Status", n.status().map(|s| s.as_str()));
    put(&mut m, "PrivateIpAddress", n.private_ip_address());
    put(&mut m, "Association", assoc(n.association()));
    put(
        &mut m,
        "Attachment",
        n.attachment().map(
            |a| json!({"InstanceId": a.instance_id(), "Status": a.status().map(|s| s.as_str())}),
        ),
    );
    m.insert(
        "Groups".into(),
        n.groups()
            .iter()
            .map(|g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()}))
            .collect(),
    );
    m.insert(
        "PrivateIpAddresses".into(),
        n.private_ip_addresses()
            .iter()
            .map(|p| {
                let mut e = Map::new();
                put(&mut e, "PrivateIpAddress", p.private_ip_address());
                put(&mut e, "Primary", p.primary());
                put(&mut e, "Association", assoc(p.association()));
                Value::Object(e)
            })
            .collect(),
    );
    m.insert(
        "Ipv6Addresses".into(),
        n.ipv6_addresses()
            .iter()
            .map(|a| json!({"Ipv6Address": a.ipv6_address()}))
            .collect(),
    );
    m.insert("TagSet".into(), tags(n.tag_set()));
    Value::Object(m)
}

pub fn subnet(s: &aws_sdk_ec2::types::Subnet) -> Value {
    let mut m = Map::new();
    put(&mut m, "SubnetId", s.subnet_id());
    put(&mut m, "VpcId", s.vpc_id());
    put(&mut m, "CidrBlock", s.cidr_block());
    put(&mut m, "MapPublicIpOnLaunch", s.map_public_ip_on_launch());
    m.insert(
        "Ipv6CidrBlockAssociationSet".into(),
        s.ipv6_cidr_block_association_set()
            .iter()
            .map(|a| json!({"Ipv6CidrBlock": a.ipv6_cidr_block(), "AssociationId": a.association_id()}))
            .collect(),
    );
    m.insert("Tags".into(), tags(s.tags()));
    Value::Object(m)
}

pub fn route_table(t: &aws_sdk_ec2::types::RouteTable) -> Value {
    let mut m = Map::new();
    put(&mut m, "RouteTableId", t.route_table_id());
    put(&mut m, "VpcId", t.vpc_id());
    m.insert(
        "Associations".into(),
        t.associations()
            .iter()
            .map(|a| {
                let mut e = Map::new();
                put(&mut e, "Main", a.main());
                put(&mut e, "SubnetId", a.subnet_id());
                put(&mut e, "GatewayId", a.gateway_id());
                put(
                    &mut e,
                    "RouteTableAssociationId",
                    a.route_table_association_id(),
                );
                Value::Object(e)
            })
            .collect(),
    );
    m.insert(
        "Routes".into(),
        t.routes()
            .iter()
            .map(|r| {
                let mut e = Map::new();
                put(&mut e, "DestinationCidrBlock", r.destination_cidr_block());
                put(
                    &mut e,
                    "DestinationIpv6CidrBlock",
                    r.destination_ipv6_cidr_block(),
                );
                put(
                    &mut e,
                    "DestinationPrefixListId",
                    r.destination_prefix_list_id(),
                );
                put(&mut e, "GatewayId", r.gateway_id());
                put(&mut e, "NatGatewayId", r.nat_gateway_id());
                put(
                    &mut e,
                    "EgressOnlyInternetGatewayId",
                    r.egress_only_internet_gateway_id(),
                );
                put(&mut e, "TransitGatewayId", r.transit_gateway_id());
                put(
                    &mut e,
                    "VpcPeeringConnectionId",
                    r.vpc_peering_connection_id(),
                );
                put(&mut e, "NetworkInterfaceId", r.network_interface_id());
                put(&mut e, "InstanceId", r.instance_id());
                put(&mut e, "CarrierGatewayId", r.carrier_gateway_id());
                put(&mut e, "LocalGatewayId", r.local_gateway_id());
                put(&mut e, "CoreNetworkArn", r.core_network_arn());
                put(&mut e, "State", r.state().map(|s| s.as_str()));
                Value::Object(e)
            })
            .collect(),
    );
    m.insert("Tags".into(), tags(t.tags()));
    Value::Object(m)
}

/// `aws cloudtrail describe-trails` output.
pub fn trail_list(trails: &[aws_sdk_cloudtrail::types::Trail]) -> Value {
    let list: Vec<Value> = trails
        .iter()
        .map(|t| {
            let mut m = Map::new();
            put(&mut m, "Name", t.name());
            put(&mut m, "TrailARN", t.trail_arn());
            put(&mut m, "HomeRegion", t.home_region());
            put(&mut m, "IsMultiRegionTrail", t.is_multi_region_trail());
            put(&mut m, "IsOrganizationTrail", t.is_organization_trail());
            Value::Object(m)
        })
        .collect();
    json!({ "trailList": list })
}

/// `aws cloudtrail get-event-selectors` output.
pub fn event_selectors(
    s: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> Value {
    let basic: Vec<Value> = s
        .event_selectors()
        .iter()
        .map(|e| {
            let mut m = Map::new();
            put(
                &mut m,
                "ReadWriteType",
                e.read_write_type().map(|t| t.as_str()),
            );
            put(
                &mut m,
                "IncludeManagementEvents",
                e.include_management_events(),
            );
            Value::Object(m)
        })
        .collect();
    let advanced: Vec<Value> = s
        .advanced_event_selectors()
        .iter()
        .map(|a| {
            let fields: Vec<Value> = a
                .field_selectors()
                .iter()
                .map(|f| json!({"Field": f.field(), "Equals": f.equals(), "NotEquals": f.not_equals()}))
                .collect();
            json!({ "Name": a.name(), "FieldSelectors": fields })
        })
        .collect();
    let mut m = Map::new();
    put(&mut m, "TrailARN", s.trail_arn());
    m.insert("EventSelectors".into(), Value::Array(basic));
    m.insert("AdvancedEventSelectors".into(), Value::Array(advanced));
    Value::Object(m)
}
