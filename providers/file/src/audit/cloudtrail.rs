//! CloudTrail records (`eventSource = ec2.amazonaws.com`, plus STS `AssumeRole*` for tracing
//! temporary keys back to who assumed the role).

use serde_json::Value;

use netdrift_snapshots::{
    parse_cidr, Action, Actor, ActorType, AuditEvent, Direction, KeyType, Peer, PortRange, Ports,
    Protocol, Provider, Record, Rule,
};

use super::{normalize_time, s, split_records, AuditParse};
use crate::ImportError;

mod delivered;

/// EC2 events that change exposure (docs/events.md).
pub const CATALOGUE: &[&str] = &[
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "ModifyInstanceAttribute",
    "ModifyNetworkInterfaceAttribute",
    "RunInstances",
    "CreateNetworkInterface",
    "CreateManagedPrefixList",
    "ModifyManagedPrefixList",
    "CreateNetworkAcl",
    "DeleteNetworkAcl",
    "CreateNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "DeleteNetworkAclEntry",
    "ReplaceNetworkAclAssociation",
];

const ASSUME: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetFederationToken",
    "GetSessionToken",
];

/// One record, parsed, into the file's result; `text` is the record as delivered, when the
/// reader kept it (otherwise the tree is written back compactly).
pub(super) fn record_into(
    out: &mut AuditParse,
    file: &str,
    loc: &str,
    rec: Value,
    text: Option<&serde_json::value::RawValue>,
) {
    match build(&rec) {
        Ok(Some(mut ev)) => {
            ev.raw = Some(match text {
                Some(text) => Record::from_raw(text),
                None => Record::from_value(&rec),
            });
            out.see_time(ev.account.as_deref(), ev.event_time);
            out.events.push(ev);
        }
        Ok(None) => {
            if let Some(t) = s(&rec, &["eventTime"]).and_then(normalize_time) {
                out.see_time(s(&rec, &["recipientAccountId"]), t);
            }
            out.ignored += 1;
        }
        Err(why) => out.skipped.push(format!("{file}: {loc}: {why}")),
    }
}

pub fn parse_file(file: &str, bytes: &[u8]) -> Result<AuditParse, ImportError> {
    if let Some(out) = delivered::parse(file, bytes) {
        return Ok(out);
    }
    let (records, skipped) = split_records(file, bytes, &["Records", "Events"])?;
    let mut out = AuditParse {
        skipped,
        ..Default::default()
    };
    for (loc, rec) in records {
        // lookup-events output: the record is a JSON string in CloudTrailEvent.
        let rec = match rec.get("CloudTrailEvent") {
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v) => v,
                Err(e) => {
                    out.skipped.push(format!(
                        "{file}: {loc}: CloudTrailEvent is not valid JSON: {e}"
                    ));
                    continue;
                }
            },
            _ => rec,
        };
        record_into(&mut out, file, &loc, rec, None);
    }
    Ok(out)
}

/// Parse one CloudTrail record. `Ok(None)`: well-formed but not relevant.
pub fn parse_record(rec: &Value) -> Result<Option<AuditEvent>, String> {
    Ok(build(rec)?.map(|mut ev| {
        ev.raw = Some(Record::from_value(rec));
        ev
    }))
}

/// The event of a record, without the record's text (the caller keeps what was delivered).
fn build(rec: &Value) -> Result<Option<AuditEvent>, String> {
    let name = s(rec, &["eventName"]).ok_or("record without eventName")?;
    let source = s(rec, &["eventSource"]).ok_or("record without eventSource")?;
    let relevant = (source == "ec2.amazonaws.com" && CATALOGUE.contains(&name))
        || (source == "sts.amazonaws.com" && ASSUME.contains(&name));
    if !relevant {
        return Ok(None);
    }
    let id = s(rec, &["eventID"]).ok_or("record without eventID")?;
    let raw_time = s(rec, &["eventTime"]).ok_or("record without eventTime")?;
    let time = normalize_time(raw_time)
        .ok_or_else(|| format!("eventTime {raw_time:?} is not a timestamp"))?;
    let error = s(rec, &["errorCode"]).map(|c| match s(rec, &["errorMessage"]) {
        Some(m) => format!("{c}: {m}"),
        None => c.to_string(),
    });
    let req = rec.get("requestParameters").unwrap_or(&Value::Null);
    let resp = rec.get("responseElements").unwrap_or(&Value::Null);
    let account = s(rec, &["recipientAccountId", "userIdentity.accountId"]).map(str::to_string);
    let (payload, removes) = payload(name, req, account.as_deref());
    let issued_key = if source == "sts.amazonaws.com" {
        s(resp, &["credentials.accessKeyId"]).map(str::to_string)
    } else {
        None
    };
    Ok(Some(AuditEvent {
        provider: Provider::Aws,
        event_id: format!("aws:{id}"),
        event_time: time,
        account,
        region: s(rec, &["awsRegion"]).map(str::to_string),
        event_name: name.to_string(),
        resources: if source == "ec2.amazonaws.com" {
            resources(name, req, resp)
        } else {
            Vec::new()
        },
        succeeded: error.is_none(),
        error,
        actor: actor(rec),
        payload,
        payload_removes: removes,
        issued_key,
        catalogued: source == "ec2.amazonaws.com",
        raw: None,
    }))
}

fn actor(rec: &Value) -> Actor {
    let uid = rec.get("userIdentity").unwrap_or(&Value::Null);
    let kind = match s(uid, &["type"]) {
        Some("IAMUser") | Some("IdentityCenterUser") => ActorType::Human,
        Some("AssumedRole") => ActorType::RoleSession,
        Some("Root") => ActorType::Root,
        Some("AWSService") => ActorType::Service,
        Some("FederatedUser") | Some("WebIdentityUser") | Some("SAMLUser") => ActorType::Federated,
        _ => ActorType::Unknown,
    };
    let key = s(uid, &["accessKeyId"]).map(str::to_string);
    let key_type = key.as_deref().and_then(|k| {
        if k.starts_with("AKIA") {
            Some(KeyType::LongTerm)
        } else if k.starts_with("ASIA") {
            Some(KeyType::Temporary)
        } else {
            None
        }
    });
    let ua = s(rec, &["userAgent"]).map(str::to_string);
    let invoked_by = s(uid, &["invokedBy"])
        .or(s(rec, &["invokedBy"]))
        .map(str::to_string);
    let tool = ua
        .as_deref()
        .and_then(netdrift_snapshots::audit::tool_from_user_agent)
        .map(str::to_string)
        .or_else(|| invoked_by.as_ref().map(|i| format!("service ({i})")));
    let principal = s(uid, &["arn"]).map(str::to_string).or_else(|| match kind {
        ActorType::Service => invoked_by.clone(),
        _ => s(uid, &["principalId", "userName"]).map(str::to_string),
    });
    Actor {
        principal,
        kind: Some(kind),
        role: s(uid, &["sessionContext.sessionIssuer.arn"]).map(str::to_string),
        source_identity: s(uid, &["sessionContext.sourceIdentity"]).map(str::to_string),
        identity_center_user: s(uid, &["onBehalfOf.userId"]).map(str::to_string),
        access_key_id: key,
        key_type,
        service_account_key: None,
        delegation_chain: Vec::new(),
        role_assignment: None,
        source_ip: s(rec, &["sourceIPAddress"]).map(str::to_string),
        user_agent: ua,
        tool,
        mfa: s(uid, &["sessionContext.attributes.mfaAuthenticated"]).map(|m| m == "true"),
        invoked_by,
    }
}

fn push_unique(v: &mut Vec<String>, id: &str) {
    if !v.iter().any(|x| x == id) {
        v.push(id.to_string());
    }
}

/// Collect every string value with one of the prefixes, anywhere below `v`.
fn walk_ids(v: &Value, prefixes: &[&str], out: &mut Vec<String>) {
    match v {
        Value::String(s) if prefixes.iter().any(|p| s.starts_with(p)) => push_unique(out, s),
        Value::Array(a) => a.iter().for_each(|x| walk_ids(x, prefixes, out)),
        Value::Object(o) => o.values().for_each(|x| walk_ids(x, prefixes, out)),
        _ => {}
    }
}

fn resources(name: &str, req: &Value, resp: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in [
        "groupId",
        "GroupId",
        "ModifySecurityGroupRulesRequest.GroupId",
        "networkAclId",
        "prefixListId",
        "PrefixListId",
    ] {
        if let Some(id) = s(req, &[p]) {
            push_unique(&mut out, id);
        }
    }
    for p in [
        "groupId",
        "networkAcl.networkAclId",
        "prefixList.prefixListId",
    ] {
        if let Some(id) = s(resp, &[p]) {
            push_unique(&mut out, id);
        }
    }
    // A request that names its group by name (`--group-name`, default VPC) carries only
    // `groupName`; the response's rule set names the group id.
    for r in items(resp, "securityGroupRuleSet") {
        if let Some(id) = s(r, &["groupId"]) {
            push_unique(&mut out, id);
        }
    }
    // Rule ids are never peers, so they can be collected anywhere.
    walk_ids(req, &["sgr-"], &mut out);
    walk_ids(resp, &["sgr-"], &mut out);
    // Attachment changes name groups only as what is being attached.
    if matches!(
        name,
        "ModifyInstanceAttribute"
            | "ModifyNetworkInterfaceAttribute"
            | "RunInstances"
            | "CreateNetworkInterface"
    ) {
        walk_ids(req, &["sg-"], &mut out);
    }
    // A plain `run-instances` (or `create-network-interface`) without groups gets the VPC's
    // default group: only the response's `groupSet`s name it.
    if matches!(name, "RunInstances" | "CreateNetworkInterface") {
        for key in ["instancesSet", "networkInterface", "networkInterfaceSet"] {
            if let Some(v) = resp.get(key) {
                collect_group_sets(v, &mut out);
            }
        }
    }
    out
}

/// Group ids of every `groupSet` below `v` (RunInstances' instances and their interfaces).
fn collect_group_sets(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "groupSet" {
                    for g in items(x, "items").into_iter().chain(array_items(x)) {
                        if let Some(id) = s(g, &["groupId"]) {
                            push_unique(out, id);
                        }
                    }
                } else {
                    collect_group_sets(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_group_sets(x, out)),
        _ => {}
    }
}

fn array_items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        _ => Vec::new(),
    }
}

fn int(v: &Value, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| match v.get(*k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

fn items<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    match v.get(key) {
        Some(Value::Object(o)) => match o.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => Vec::new(),
        },
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    }
}

fn proto_ports(v: &Value, proto_keys: &[&str]) -> Option<(Protocol, Ports)> {
    let p = proto_keys
        .iter()
        .find_map(|k| v.get(*k))
        .and_then(|x| match x {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })?;
    let protocol = Protocol::parse(&p).ok()?;
    let from = int(v, &["fromPort", "FromPort"]);
    let to = int(v, &["toPort", "ToPort"]);
    let ports = match protocol {
        Protocol::All => Ports::All,
        p if p.is_icmp() => Ports::Icmp {
            icmp_type: from.filter(|x| *x >= 0).map(|x| x.clamp(0, 255) as u8),
            code: to.filter(|x| *x >= 0).map(|x| x.clamp(0, 255) as u8),
        },
        p if p.has_ports() => match (from, to) {
            (Some(f), Some(t)) if f >= 0 => PortRange::new(f, t)
                .map(|r| Ports::Ranges { ranges: vec![r] })
                .unwrap_or(Ports::All),
            _ => Ports::All,
        },
        _ => Ports::All,
    };
    Some((protocol, ports))
}

fn cidr(v: &Value, keys: &[&str]) -> Option<Peer> {
    keys.iter()
        .find_map(|k| v.get(*k)?.as_str())
        .and_then(|c| parse_cidr(c).ok())
        .map(Peer::Cidr)
}

/// The access a request asks for, and whether it removes it.
/// A referenced group as the model names it: `ACCOUNT/sg-…` (what describe-security-groups
/// prints as `UserId` + `GroupId`). A request may omit `userId`: the group is then in the
/// event's own account.
fn group_peer(
    r: &Value,
    id_keys: &[&str],
    user_keys: &[&str],
    account: Option<&str>,
) -> Option<Peer> {
    let gid = s(r, id_keys)?;
    Some(Peer::SecurityGroup(match s(r, user_keys).or(account) {
        Some(uid) => format!("{uid}/{gid}"),
        None => gid.to_string(),
    }))
}

fn payload(name: &str, req: &Value, account: Option<&str>) -> (Vec<Rule>, bool) {
    let dir = if name.ends_with("Egress") {
        Direction::Egress
    } else {
        Direction::Ingress
    };
    let removes = name.starts_with("Revoke") || name == "DeleteNetworkAclEntry";
    let mut rules = Vec::new();
    match name {
        "AuthorizeSecurityGroupIngress"
        | "AuthorizeSecurityGroupEgress"
        | "RevokeSecurityGroupIngress"
        | "RevokeSecurityGroupEgress" => {
            let perms = items(req, "ipPermissions");
            if perms.is_empty() {
                // Older clients: the flat form at the top level.
                if let (Some((proto, ports)), Some(peer)) = (
                    proto_ports(req, &["ipProtocol"]),
                    cidr(req, &["cidrIp", "cidrIpv6"]),
                ) {
                    rules.push(Rule::new(dir, Action::Allow, proto, ports, vec![peer]));
                }
            }
            for p in perms {
                let Some((proto, ports)) = proto_ports(p, &["ipProtocol"]) else {
                    continue;
                };
                let mut peers = Vec::new();
                peers.extend(
                    items(p, "ipRanges")
                        .iter()
                        .filter_map(|r| cidr(r, &["cidrIp"])),
                );
                peers.extend(
                    items(p, "ipv6Ranges")
                        .iter()
                        .filter_map(|r| cidr(r, &["cidrIpv6"])),
                );
                peers.extend(
                    items(p, "prefixListIds")
                        .iter()
                        .filter_map(|r| s(r, &["prefixListId"]))
                        .map(|x| Peer::PrefixList(x.into())),
                );
                peers.extend(
                    items(p, "groups")
                        .iter()
                        .filter_map(|r| group_peer(r, &["groupId"], &["userId"], account)),
                );
                if !peers.is_empty() {
                    rules.push(Rule::new(dir, Action::Allow, proto, ports, peers));
                }
            }
        }
        "ModifySecurityGroupRules" => {
            let mut defs = Vec::new();
            collect_rule_defs(req, &mut defs);
            for d in defs {
                let Some((proto, ports)) = proto_ports(d, &["IpProtocol", "ipProtocol"]) else {
                    continue;
                };
                let peer = cidr(d, &["CidrIpv4", "cidrIpv4", "CidrIpv6", "cidrIpv6"])
                    .or_else(|| {
                        s(d, &["PrefixListId", "prefixListId"]).map(|x| Peer::PrefixList(x.into()))
                    })
                    .or_else(|| {
                        group_peer(d, &["ReferencedGroupId", "referencedGroupId"], &[], account)
                    });
                if let Some(peer) = peer {
                    // The request does not say the direction of the edited rule.
                    for dir in [Direction::Ingress, Direction::Egress] {
                        rules.push(Rule::new(
                            dir,
                            Action::Allow,
                            proto,
                            ports.clone(),
                            vec![peer.clone()],
                        ));
                    }
                }
            }
        }
        "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry" => {
            let dir = if req.get("egress").and_then(Value::as_bool).unwrap_or(false) {
                Direction::Egress
            } else {
                Direction::Ingress
            };
            let action = if s(req, &["ruleAction"]).is_some_and(|a| a.eq_ignore_ascii_case("deny"))
            {
                Action::Deny
            } else {
                Action::Allow
            };
            // CloudTrail records the entry's protocol as `aclProtocol` (`"6"`, `"-1"`); the API
            // parameter is `protocol`.
            let proto = ["aclProtocol", "protocol"]
                .iter()
                .find_map(|k| match req.get(*k)? {
                    Value::String(p) => Some(p.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .and_then(|p| Protocol::parse(&p).ok());
            let peer = cidr(req, &["cidrBlock", "ipv6CidrBlock"]);
            if let (Some(proto), Some(peer)) = (proto, peer) {
                let ports = match (proto, req.get("portRange")) {
                    (p, _) if p.is_icmp() => match req.get("icmpTypeCode") {
                        Some(ic) => Ports::Icmp {
                            icmp_type: int(ic, &["type"])
                                .filter(|x| *x >= 0)
                                .map(|x| x.clamp(0, 255) as u8),
                            code: int(ic, &["code"])
                                .filter(|x| *x >= 0)
                                .map(|x| x.clamp(0, 255) as u8),
                        },
                        None => Ports::All,
                    },
                    (p, Some(pr)) if p.has_ports() => {
                        match (int(pr, &["from"]), int(pr, &["to"])) {
                            (Some(f), Some(t)) => PortRange::new(f, t)
                                .map(|r| Ports::Ranges { ranges: vec![r] })
                                .unwrap_or(Ports::All),
                            _ => Ports::All,
                        }
                    }
                    _ => Ports::All,
                };
                let mut r = Rule::new(dir, action, proto, ports, vec![peer]);
                r.priority = int(req, &["ruleNumber"]).map(|n| n as u32);
                rules.push(r);
            }
        }
        _ => {}
    }
    (rules, removes)
}

/// Rule definitions inside a ModifySecurityGroupRules request, whatever the nesting.
fn collect_rule_defs<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if o.keys().any(|k| k.eq_ignore_ascii_case("IpProtocol")) {
                out.push(v);
            }
            o.values().for_each(|x| collect_rule_defs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_rule_defs(x, out)),
        _ => {}
    }
}
