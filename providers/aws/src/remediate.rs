//! `netdrift revert --apply` on AWS: each step of a revert plan made through aws-sdk-ec2 in the
//! scope's account (its assumed role, as for collection) and region, in order, stopping at the
//! first failure. The requests come in EC2's own shape (the JSON `netdrift revert --format json`
//! prints); a field of the wrong type is an error naming it, never a guess.

use aws_config::Region;
use aws_sdk_ec2::types::{
    IcmpTypeCode, IpPermission, IpRange, Ipv6Range, PortRange, PrefixListId, RuleAction,
    SecurityGroupRuleRequest, SecurityGroupRuleUpdate, UserIdGroupPair,
};
use serde_json::Value;

use netdrift_provider_api::{Call, CallOutcome};
use netdrift_snapshots::Scope;

use crate::discovery::{account_of_role, assume, base_config};
use crate::errors::classify;
use crate::AwsSource;

/// The calls `apply` makes, as the remediation policy (docs/iam/aws-remediate.json) grants them.
pub const REMEDIATION_ACTIONS: [&str; 8] = [
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:ModifySecurityGroupRules",
    "ec2:CreateNetworkAclEntry",
    "ec2:ReplaceNetworkAclEntry",
    "ec2:DeleteNetworkAclEntry",
];

fn s<'a>(v: &'a Value, k: &str) -> Result<&'a str, String> {
    v.get(k).and_then(Value::as_str).ok_or_else(|| {
        format!(
            "{k}: expected a string, got {}",
            v.get(k).unwrap_or(&Value::Null)
        )
    })
}

fn opt_s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn opt_i(v: &Value, k: &str) -> Option<i32> {
    v.get(k).and_then(Value::as_i64).map(|x| x as i32)
}

fn list<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn permissions(params: &Value) -> Result<Vec<IpPermission>, String> {
    let perms = params
        .get("IpPermissions")
        .and_then(Value::as_array)
        .ok_or("IpPermissions: expected a list")?;
    perms
        .iter()
        .map(|p| {
            Ok(IpPermission::builder()
                .ip_protocol(s(p, "IpProtocol")?)
                .set_from_port(opt_i(p, "FromPort"))
                .set_to_port(opt_i(p, "ToPort"))
                .set_ip_ranges(Some(
                    list(p, "IpRanges")
                        .iter()
                        .map(|r| {
                            Ok(IpRange::builder()
                                .cidr_ip(s(r, "CidrIp")?)
                                .set_description(opt_s(r, "Description"))
                                .build())
                        })
                        .collect::<Result<_, String>>()?,
                ))
                .set_ipv6_ranges(Some(
                    list(p, "Ipv6Ranges")
                        .iter()
                        .map(|r| {
                            Ok(Ipv6Range::builder()
                                .cidr_ipv6(s(r, "CidrIpv6")?)
                                .set_description(opt_s(r, "Description"))
                                .build())
                        })
                        .collect::<Result<_, String>>()?,
                ))
                .set_prefix_list_ids(Some(
                    list(p, "PrefixListIds")
                        .iter()
                        .map(|r| {
                            Ok(PrefixListId::builder()
                                .prefix_list_id(s(r, "PrefixListId")?)
                                .set_description(opt_s(r, "Description"))
                                .build())
                        })
                        .collect::<Result<_, String>>()?,
                ))
                .set_user_id_group_pairs(Some(
                    list(p, "UserIdGroupPairs")
                        .iter()
                        .map(|r| {
                            Ok(UserIdGroupPair::builder()
                                .group_id(s(r, "GroupId")?)
                                .set_user_id(opt_s(r, "UserId"))
                                .set_description(opt_s(r, "Description"))
                                .build())
                        })
                        .collect::<Result<_, String>>()?,
                ))
                .build())
        })
        .collect()
}

fn rule_ids(params: &Value) -> Option<Vec<String>> {
    params
        .get("SecurityGroupRuleIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
}

fn rule_updates(params: &Value) -> Result<Vec<SecurityGroupRuleUpdate>, String> {
    list(params, "SecurityGroupRules")
        .iter()
        .map(|u| {
            let r = u
                .get("SecurityGroupRule")
                .ok_or("SecurityGroupRule: missing")?;
            Ok(SecurityGroupRuleUpdate::builder()
                .security_group_rule_id(s(u, "SecurityGroupRuleId")?)
                .security_group_rule(
                    SecurityGroupRuleRequest::builder()
                        .ip_protocol(s(r, "IpProtocol")?)
                        .set_from_port(opt_i(r, "FromPort"))
                        .set_to_port(opt_i(r, "ToPort"))
                        .set_cidr_ipv4(opt_s(r, "CidrIpv4"))
                        .set_cidr_ipv6(opt_s(r, "CidrIpv6"))
                        .set_prefix_list_id(opt_s(r, "PrefixListId"))
                        .set_referenced_group_id(opt_s(r, "ReferencedGroupId"))
                        .set_description(opt_s(r, "Description"))
                        .build(),
                )
                .build())
        })
        .collect()
}

fn port_range(p: &Value) -> Option<PortRange> {
    p.get("PortRange").map(|r| {
        PortRange::builder()
            .set_from(opt_i(r, "From"))
            .set_to(opt_i(r, "To"))
            .build()
    })
}

fn icmp(p: &Value) -> Option<IcmpTypeCode> {
    p.get("IcmpTypeCode").map(|r| {
        IcmpTypeCode::builder()
            .set_type(opt_i(r, "Type"))
            .set_code(opt_i(r, "Code"))
            .build()
    })
}

fn egress(p: &Value) -> Result<bool, String> {
    p.get("Egress")
        .and_then(Value::as_bool)
        .ok_or_else(|| "Egress: expected true or false".into())
}

fn number(p: &Value) -> Result<i32, String> {
    opt_i(p, "RuleNumber").ok_or_else(|| "RuleNumber: expected a number".into())
}

/// One call; `Err` is the failure, in one line.
async fn one(ec2: &aws_sdk_ec2::Client, call: &Call) -> Result<String, String> {
    let p = &call.params;
    let op = call.call.as_str();
    macro_rules! send {
        ($req:expr) => {
            $req.send()
                .await
                .map_err(|e| classify(op, None, &e).message)
                .map(|_| "done".to_string())
        };
    }
    // A revoke by rule ids when the step has them, else by permissions.
    macro_rules! revoke {
        ($req:expr) => {{
            let req = $req.group_id(s(p, "GroupId")?);
            match rule_ids(p) {
                Some(ids) => send!(req.set_security_group_rule_ids(Some(ids))),
                None => send!(req.set_ip_permissions(Some(permissions(p)?))),
            }
        }};
    }
    // A network ACL entry's fields, for a create or a replace.
    macro_rules! entry {
        ($req:expr) => {
            send!($req
                .network_acl_id(s(p, "NetworkAclId")?)
                .rule_number(number(p)?)
                .egress(egress(p)?)
                .protocol(s(p, "Protocol")?)
                .rule_action(RuleAction::from(s(p, "RuleAction")?))
                .set_cidr_block(opt_s(p, "CidrBlock"))
                .set_ipv6_cidr_block(opt_s(p, "Ipv6CidrBlock"))
                .set_port_range(port_range(p))
                .set_icmp_type_code(icmp(p)))
        };
    }
    match op {
        "RevokeSecurityGroupIngress" => revoke!(ec2.revoke_security_group_ingress()),
        "RevokeSecurityGroupEgress" => revoke!(ec2.revoke_security_group_egress()),
        "AuthorizeSecurityGroupIngress" => send!(ec2
            .authorize_security_group_ingress()
            .group_id(s(p, "GroupId")?)
            .set_ip_permissions(Some(permissions(p)?))),
        "AuthorizeSecurityGroupEgress" => send!(ec2
            .authorize_security_group_egress()
            .group_id(s(p, "GroupId")?)
            .set_ip_permissions(Some(permissions(p)?))),
        "ModifySecurityGroupRules" => send!(ec2
            .modify_security_group_rules()
            .group_id(s(p, "GroupId")?)
            .set_security_group_rules(Some(rule_updates(p)?))),
        "CreateNetworkAclEntry" => entry!(ec2.create_network_acl_entry()),
        "ReplaceNetworkAclEntry" => entry!(ec2.replace_network_acl_entry()),
        "DeleteNetworkAclEntry" => send!(ec2
            .delete_network_acl_entry()
            .network_acl_id(s(p, "NetworkAclId")?)
            .rule_number(number(p)?)
            .egress(egress(p)?)),
        other => Err(format!("{other} is not a call netdrift makes on AWS")),
    }
}

/// Whether this source collects `scope` (its account is one it enters).
pub fn covers(src: &AwsSource, scope: &Scope) -> bool {
    src.regions
        .as_ref()
        .is_none_or(|r| scope.region().is_some_and(|x| r.iter().any(|y| y == x)))
        && (src.organization_role.is_some()
            || src.assume_roles.is_empty()
            || src
                .assume_roles
                .iter()
                .any(|r| account_of_role(r) == scope.account()))
}

pub async fn apply(src: &AwsSource, scope: &Scope, calls: &[Call]) -> Vec<CallOutcome> {
    let base = base_config(src).await;
    // The remediation role when one is configured, else the role collection assumes there.
    let role = match &src.remediation_role {
        Some(n) => Some(format!("arn:aws:iam::{}:role/{n}", scope.account())),
        None => src
            .assume_roles
            .iter()
            .find(|r| account_of_role(r) == scope.account())
            .cloned()
            .or_else(|| {
                src.organization_role
                    .as_ref()
                    .map(|n| format!("arn:aws:iam::{}:role/{n}", scope.account()))
            }),
    };
    let config = match role {
        Some(r) => match assume(&base, src, &r).await {
            Ok(a) => a.config,
            Err(p) => {
                return calls
                    .iter()
                    .map(|c| {
                        CallOutcome::failed(
                            c,
                            format!("could not enter {}: {}", scope.account(), p.message),
                        )
                    })
                    .collect()
            }
        },
        None => base,
    };
    let mut b = config.to_builder();
    if let Some(r) = scope.region() {
        b = b.region(Region::new(r.to_string()));
    }
    let ec2 = aws_sdk_ec2::Client::new(&b.build());
    let mut out = Vec::new();
    let mut stopped = false;
    for c in calls {
        if stopped {
            out.push(CallOutcome::failed(
                c,
                "not made: an earlier call failed".into(),
            ));
            continue;
        }
        match one(&ec2, c).await {
            Ok(detail) => out.push(CallOutcome::done(c, detail)),
            Err(e) => {
                stopped = true;
                out.push(CallOutcome::failed(c, e));
            }
        }
    }
    out
}
