#!/usr/bin/env python3
"""Generate the bundled demo estate: two days of AWS, GCP and Azure dumps in the clouds' native
formats, and the audit logs of the changes between them. Run from the repository root:
    python3 demo/generate.py
The generated files are committed; the binary embeds them (src/cli/demo.rs)."""
import copy, json, os

ROOT = os.path.dirname(os.path.abspath(__file__))
ACCT = "111122223333"
PROJECT = "acme-prod"
SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"


def write(path, obj, raw=None):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        if raw is not None:
            f.write(raw)
        else:
            json.dump(obj, f, indent=2)
            f.write("\n")


def perm(proto, lo, hi, cidrs=(), v6=(), groups=(), desc=None):
    p = {"IpProtocol": proto, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}
    if lo is not None:
        p["FromPort"], p["ToPort"] = lo, hi
    for c in cidrs:
        r = {"CidrIp": c}
        if desc:
            r["Description"] = desc
        p["IpRanges"].append(r)
    for c in v6:
        p["Ipv6Ranges"].append({"CidrIpv6": c})
    for g in groups:
        p["UserIdGroupPairs"].append({"GroupId": g, "UserId": ACCT})
    return p


ALL_EGRESS = perm("-1", None, None, ["0.0.0.0/0"])


def sg(gid, name, desc, ingress, egress=None, tags=None):
    return {
        "Description": desc,
        "GroupName": name,
        "IpPermissions": ingress,
        "OwnerId": ACCT,
        "GroupId": gid,
        "IpPermissionsEgress": egress if egress is not None else [ALL_EGRESS],
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "VpcId": "vpc-0c0ffee0c0ffee001",
    }


WEB, DB, BATCH, SFTP = "sg-0a1b2c3d4e5f60001", "sg-0a1b2c3d4e5f60002", "sg-0a1b2c3d4e5f60003", "sg-0a1b2c3d4e5f60004"

aws_day1 = [
    sg(WEB, "web-prod", "Public web tier", [perm("tcp", 443, 443, ["0.0.0.0/0"], ["::/0"]), perm("tcp", 22, 22, ["10.0.0.0/8"], desc="SSH from corp VPN")], tags={"Name": "web-prod", "team": "storefront"}),
    sg(DB, "db-prod", "PostgreSQL", [perm("tcp", 5432, 5432, ["10.1.0.0/16"]), perm("tcp", 5432, 5432, groups=[WEB])]),
    sg(BATCH, "batch", "Batch workers", [perm("tcp", 8000, 8100, ["10.2.0.0/16", "10.3.0.0/16"]), perm("udp", 514, 514, ["10.0.0.0/8"])]),
]
aws_day2 = copy.deepcopy(aws_day1)
# 1. SSH opened to the world on the web tier.
aws_day2[0]["IpPermissions"].append(perm("tcp", 22, 22, ["0.0.0.0/0"]))
# 2. Database widened in place from 10.1.0.0/16 to 10.0.0.0/8.
aws_day2[1]["IpPermissions"][0]["IpRanges"][0]["CidrIp"] = "10.0.0.0/8"
# 3. Batch rules regrouped (same access) and a description edited: no drift, cosmetic.
aws_day2[2]["IpPermissions"] = [perm("udp", 514, 514, ["10.0.0.0/8"], desc="syslog"), perm("tcp", 8000, 8050, ["10.3.0.0/16", "10.2.0.0/16"]), perm("tcp", 8051, 8100, ["10.2.0.0/16", "10.3.0.0/16"])]
# 4. A new group for a partner, SSH from a public block.
aws_day2.append(sg(SFTP, "partner-sftp", "Partner SFTP", [perm("tcp", 22, 22, ["52.94.76.0/22"])]))

write("aws/day1/security-groups.json", {"SecurityGroups": aws_day1})
write("aws/day2/security-groups.json", {"SecurityGroups": aws_day2})

def acl_entry(num, egress, action, proto="-1", cidr="0.0.0.0/0", ports=None):
    e = {"CidrBlock": cidr, "Egress": egress, "Protocol": proto, "RuleAction": action, "RuleNumber": num}
    if ports:
        e["PortRange"] = {"From": ports[0], "To": ports[1]}
    return e

acl1 = {
    "Associations": [{"NetworkAclAssociationId": "aclassoc-0a1b2c3d", "NetworkAclId": "acl-0a1b2c3d4e5f60001", "SubnetId": "subnet-0a1b2c3d4e5f60001"}],
    "Entries": [
        acl_entry(90, False, "deny", "6", ports=(3389, 3389)),
        acl_entry(100, False, "allow"),
        acl_entry(32767, False, "deny"),
        acl_entry(100, True, "allow"),
        acl_entry(32767, True, "deny"),
    ],
    "IsDefault": False,
    "NetworkAclId": "acl-0a1b2c3d4e5f60001",
    "Tags": [{"Key": "Name", "Value": "public-subnets"}],
    "VpcId": "vpc-0c0ffee0c0ffee001",
    "OwnerId": ACCT,
}
acl2 = copy.deepcopy(acl1)
# 5. The deny in front of RDP removed: RDP now open to the world through rule 100.
acl2["Entries"] = [e for e in acl2["Entries"] if e["RuleNumber"] != 90]
write("aws/day1/network-acls.json", {"NetworkAcls": [acl1]})
write("aws/day2/network-acls.json", {"NetworkAcls": [acl2]})

# Workloads (both days): the web tier's interface in the public subnet with a public address,
# the database and batch interfaces in the private subnet (main route table: NAT only), and no
# interface for the partner group. Reach: web SSH → internet; the NACL's RDP and the database
# widening → internal; the partner group → unattached.
VPC = "vpc-0c0ffee0c0ffee001"
PUB, PRIV = "subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"

def eni(eid, subnet, group, ip, instance, public=None):
    n = {"NetworkInterfaceId": eid, "SubnetId": subnet, "VpcId": VPC, "AvailabilityZone": "us-east-1a",
         "Description": "", "InterfaceType": "interface", "MacAddress": "0e:00:00:00:00:01", "OwnerId": ACCT,
         "RequesterManaged": False, "SourceDestCheck": True, "Status": "in-use",
         "Attachment": {"AttachmentId": "eni-attach-" + eid[4:], "DeviceIndex": 0, "InstanceId": instance,
                        "InstanceOwnerId": ACCT, "Status": "attached", "DeleteOnTermination": True},
         "Groups": [{"GroupId": group, "GroupName": group}],
         "Ipv6Addresses": [], "PrivateIpAddress": ip,
         "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": ip}], "TagSet": []}
    if public:
        assoc = {"IpOwnerId": "amazon", "PublicDnsName": "ec2-" + public.replace(".", "-") + ".compute-1.amazonaws.com", "PublicIp": public}
        n["Association"] = assoc
        n["PrivateIpAddresses"][0]["Association"] = assoc
    return n

enis = [
    eni("eni-0a1b2c3d4e5f60001", PUB, WEB, "10.0.1.10", "i-0a1b2c3d4e5f60001", public="54.210.167.204"),
    eni("eni-0a1b2c3d4e5f60002", PRIV, DB, "10.0.2.20", "i-0a1b2c3d4e5f60002"),
    eni("eni-0a1b2c3d4e5f60003", PRIV, BATCH, "10.0.2.30", "i-0a1b2c3d4e5f60003"),
]
subnets = [
    {"SubnetId": PUB, "VpcId": VPC, "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a",
     "MapPublicIpOnLaunch": True, "State": "available", "OwnerId": ACCT, "Ipv6CidrBlockAssociationSet": [],
     "Tags": [{"Key": "Name", "Value": "public-a"}]},
    {"SubnetId": PRIV, "VpcId": VPC, "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "us-east-1a",
     "MapPublicIpOnLaunch": False, "State": "available", "OwnerId": ACCT, "Ipv6CidrBlockAssociationSet": [],
     "Tags": [{"Key": "Name", "Value": "private-a"}]},
]
def rt_route(dest, key, target):
    return {"DestinationCidrBlock": dest, key: target, "Origin": "CreateRoute" if target != "local" else "CreateRouteTable", "State": "active"}
tables = [
    {"RouteTableId": "rtb-0a1b2c3d4e5f60001", "VpcId": VPC, "OwnerId": ACCT, "PropagatingVgws": [],
     "Associations": [{"Main": True, "RouteTableAssociationId": "rtbassoc-0a1b2c3d4e5f60001", "RouteTableId": "rtb-0a1b2c3d4e5f60001",
                       "AssociationState": {"State": "associated"}}],
     "Routes": [rt_route("10.0.0.0/16", "GatewayId", "local"), rt_route("0.0.0.0/0", "NatGatewayId", "nat-0a1b2c3d4e5f60001")],
     "Tags": [{"Key": "Name", "Value": "main"}]},
    {"RouteTableId": "rtb-0a1b2c3d4e5f60002", "VpcId": VPC, "OwnerId": ACCT, "PropagatingVgws": [],
     "Associations": [{"Main": False, "SubnetId": PUB, "RouteTableAssociationId": "rtbassoc-0a1b2c3d4e5f60002",
                       "RouteTableId": "rtb-0a1b2c3d4e5f60002", "AssociationState": {"State": "associated"}}],
     "Routes": [rt_route("10.0.0.0/16", "GatewayId", "local"), rt_route("0.0.0.0/0", "GatewayId", "igw-0c0ffee0c0ffee001")],
     "Tags": [{"Key": "Name", "Value": "public"}]},
]
write("aws/workloads/network-interfaces.json", {"NetworkInterfaces": enis})
write("aws/workloads/subnets.json", {"Subnets": subnets})
write("aws/workloads/route-tables.json", {"RouteTables": tables})

# eu-west-1: day 2's dump is truncated (a failed collection must not read as "all deleted").
eu = [sg("sg-0e0e0e0e0e0e0e001", "eu-web", "EU web", [perm("tcp", 443, 443, ["0.0.0.0/0"])])]
write("aws-eu/day1/security-groups.json", {"SecurityGroups": eu})
full = json.dumps({"SecurityGroups": eu}, indent=2)
write("aws-eu/day2/security-groups.json", None, raw=full[: len(full) // 2])

# ---------------- GCP ----------------
NET = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/prod-vpc"

def fw(name, prio, direction="INGRESS", allowed=None, denied=None, src=None, tags=None, disabled=False, desc="", fid="1"):
    r = {
        "kind": "compute#firewall",
        "id": fid,
        "creationTimestamp": "2026-03-02T09:12:44.123-08:00",
        "name": name,
        "description": desc,
        "network": NET,
        "priority": prio,
        "direction": direction,
        "logConfig": {"enable": False},
        "disabled": disabled,
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/firewalls/{name}",
    }
    if allowed is not None:
        r["allowed"] = allowed
    if denied is not None:
        r["denied"] = denied
    if src is not None:
        r["sourceRanges"] = src
    if tags:
        r["targetTags"] = tags
    return r

gcp_day1 = [
    fw("allow-https-lb", 1000, allowed=[{"IPProtocol": "tcp", "ports": ["443"]}], src=["130.211.0.0/22", "35.191.0.0/16"], tags=["web"], fid="4411"),
    fw("deny-ssh-internet", 900, denied=[{"IPProtocol": "tcp", "ports": ["22"]}], src=["0.0.0.0/0"], desc="guard rail", fid="4412"),
    fw("allow-ssh-legacy", 1000, allowed=[{"IPProtocol": "tcp", "ports": ["22"]}], src=["0.0.0.0/0"], tags=["legacy-vm"], fid="4413"),
    fw("allow-internal", 65534, allowed=[{"IPProtocol": "tcp", "ports": ["0-65535"]}, {"IPProtocol": "udp", "ports": ["0-65535"]}, {"IPProtocol": "icmp"}], src=["10.128.0.0/9"], fid="4414"),
]
gcp_day2 = copy.deepcopy(gcp_day1)
# 6. The guard-rail deny disabled: SSH from the internet reaches legacy VMs.
gcp_day2[1]["disabled"] = True
# 7. A new rule with no source at all: applies to 0.0.0.0/0.
gcp_day2.append(fw("allow-node-exporter", 1000, allowed=[{"IPProtocol": "tcp", "ports": ["9100"]}], fid="4415"))
# 8. Internal range widened from 10.128.0.0/9 to 10.0.0.0/8.
gcp_day2[3]["sourceRanges"] = ["10.0.0.0/8"]
# Hierarchical firewall policies: one on the organization, one on the prod folder above the
# project (REST firewallPolicies shape, as `firewallPolicies.list?parentId=` returns them).
def policy_rule(prio, action, port, src=("0.0.0.0/0",)):
    return {"kind": "compute#firewallPolicyRule", "priority": prio, "action": action, "direction": "INGRESS",
            "enableLogging": False, "disabled": False,
            "match": {"srcIpRanges": list(src), "layer4Configs": [{"ipProtocol": "tcp", "ports": [port]}]}}

def hpolicy(pid, short, parent, rules):
    return {"kind": "compute#firewallPolicy", "id": pid, "name": pid, "shortName": short, "displayName": short,
            "parent": parent, "selfLink": f"https://www.googleapis.com/compute/v1/locations/global/firewallPolicies/{pid}",
            "associations": [{"name": f"{short}-association", "attachmentTarget": parent, "firewallPolicyId": pid,
                              "shortName": short, "displayName": short}],
            "rules": rules}

policies_day1 = [
    hpolicy("7100", "org-guardrails", "organizations/123456", [policy_rule(100, "deny", "3389"), policy_rule(1000, "goto_next", "0-65535")]),
    hpolicy("7101", "prod-folder", "folders/2222", [policy_rule(1000, "goto_next", "0-65535")]),
]
policies_day2 = copy.deepcopy(policies_day1)
# 9. A folder-level rule allows PostgreSQL from anywhere: it overrides every project rule.
policies_day2[1]["rules"].insert(0, policy_rule(200, "allow", "5432"))
write("gcp/day1/firewall-policies.json", {"kind": "compute#firewallPolicyList", "items": policies_day1})
write("gcp/day2/firewall-policies.json", {"kind": "compute#firewallPolicyList", "items": policies_day2})
write("gcp/day1/firewalls.json", gcp_day1)
write("gcp/day2/firewalls.json", {"kind": "compute#firewallList", "id": f"projects/{PROJECT}/global/firewalls", "items": gcp_day2, "selfLink": f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/firewalls"})

# ---------------- Azure ----------------
RG = f"/subscriptions/{SUB}/resourceGroups/prod-rg/providers/Microsoft.Network/networkSecurityGroups"

def az_rule(nsg, name, prio, direction, access, proto, dport, src="*", dst="*", srcs=None, desc=None):
    p = {"provisioningState": "Succeeded", "protocol": proto, "sourcePortRange": "*", "destinationPortRange": dport,
         "sourceAddressPrefix": src, "destinationAddressPrefix": dst, "access": access, "priority": prio, "direction": direction,
         "sourcePortRanges": [], "destinationPortRanges": [], "sourceAddressPrefixes": srcs or [], "destinationAddressPrefixes": []}
    if srcs:
        p["sourceAddressPrefix"] = ""
    if desc:
        p["description"] = desc
    return {"name": name, "id": f"{RG}/{nsg}/securityRules/{name}", "etag": 'W/"00000000-0000-0000-0000-000000000001"',
            "type": "Microsoft.Network/networkSecurityGroups/securityRules", "properties": p}

def nsg(name, rules, nics=(), subnets=()):
    return {"name": name, "id": f"{RG}/{name}", "etag": 'W/"00000000-0000-0000-0000-000000000000"', "type": "Microsoft.Network/networkSecurityGroups",
            "location": "westeurope", "tags": {"env": "prod"},
            "properties": {"provisioningState": "Succeeded", "resourceGuid": "6b3b5c3e-64a6-4c1c-9d6f-000000000001", "securityRules": rules,
                           "networkInterfaces": [{"id": n} for n in nics], "subnets": [{"id": s} for s in subnets]}}

SUBNET = f"/subscriptions/{SUB}/resourceGroups/prod-rg/providers/Microsoft.Network/virtualNetworks/prod-vnet/subnets/app"
az_day1 = [
    nsg("app-nsg", [
        az_rule("app-nsg", "AllowHttpsInbound", 100, "Inbound", "Allow", "Tcp", "443", src="Internet"),
        az_rule("app-nsg", "AllowMgmtSsh", 200, "Inbound", "Allow", "Tcp", "22", srcs=["10.10.0.0/24", "10.10.1.0/24"]),
        az_rule("app-nsg", "DenyInternetOutbound", 4000, "Outbound", "Deny", "*", "*", dst="Internet"),
    ], subnets=[SUBNET]),
    nsg("db-nsg", [
        az_rule("db-nsg", "AllowAppToSql", 100, "Inbound", "Allow", "Tcp", "1433", src="10.20.1.0/24"),
        az_rule("db-nsg", "DenyAllElse", 4096, "Inbound", "Deny", "*", "*"),
    ], subnets=[SUBNET.replace("/app", "/data")]),
]
az_day2 = copy.deepcopy(az_day1)
# 9. RDP from the Internet.
az_day2[0]["properties"]["securityRules"].insert(1, az_rule("app-nsg", "AllowRdpInbound", 110, "Inbound", "Allow", "Tcp", "3389", src="Internet"))
# 10. All outbound to the Internet allowed above the deny (inside an approved change window).
az_day2[0]["properties"]["securityRules"].append(az_rule("app-nsg", "AllowAllOutbound", 300, "Outbound", "Allow", "*", "*", dst="Internet"))
# 11. db-nsg rules renumbered with identical access: no drift.
az_day2[1]["properties"]["securityRules"][0]["properties"]["priority"] = 150

def flatten(n):
    """az network nsg list prints the same resources with properties flattened."""
    out = {k: v for k, v in n.items() if k != "properties"}
    out.update({k: v for k, v in n["properties"].items()})
    out["securityRules"] = [dict({k: v for k, v in r.items() if k != "properties"}, **r["properties"]) for r in n["properties"]["securityRules"]]
    out["resourceGroup"] = "prod-rg"
    return out

write("azure/day1/nsgs.json", {"value": az_day1})
write("azure/day2/nsgs.json", [flatten(n) for n in az_day2])

# ---------------- audit logs ----------------
def ct(event_id, name, time, identity, req, resp=None, ua="console.ec2.amazonaws.com", ip="198.51.100.23", source="ec2.amazonaws.com", error=None):
    r = {"eventVersion": "1.09", "userIdentity": identity, "eventTime": time, "eventSource": source, "eventName": name,
         "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": ua, "requestParameters": req, "responseElements": resp,
         "requestID": event_id.replace("e", "r"), "eventID": event_id, "readOnly": False, "eventType": "AwsApiCall",
         "managementEvent": True, "recipientAccountId": ACCT, "eventCategory": "Management"}
    if error:
        r["errorCode"], r["errorMessage"] = error
    return r

alice_user = {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE0001", "arn": f"arn:aws:iam::{ACCT}:user/alice", "accountId": ACCT, "accessKeyId": "AKIAEXAMPLEALICE0001", "userName": "alice"}
alice_session = {"type": "AssumedRole", "principalId": "AROAEXAMPLEADMIN0001:alice", "arn": f"arn:aws:sts::{ACCT}:assumed-role/AdminAccess/alice", "accountId": ACCT, "accessKeyId": "ASIAEXAMPLEALICE0001",
                 "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEADMIN0001", "arn": f"arn:aws:iam::{ACCT}:role/AdminAccess", "accountId": ACCT, "userName": "AdminAccess"},
                                    "attributes": {"creationDate": "2026-11-24T13:58:02Z", "mfaAuthenticated": "true"}}}
deploy_bot = {"type": "IAMUser", "principalId": "AIDAEXAMPLEDEPLOY001", "arn": f"arn:aws:iam::{ACCT}:user/deploy-bot", "accountId": ACCT, "accessKeyId": "AKIAEXAMPLEDEPLOY001", "userName": "deploy-bot"}
tf_role = {"type": "AssumedRole", "principalId": "AROAEXAMPLETERRA001:gha-run-8812", "arn": f"arn:aws:sts::{ACCT}:assumed-role/TerraformApply/gha-run-8812", "accountId": ACCT, "accessKeyId": "ASIAEXAMPLETERRA001",
           "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLETERRA001", "arn": f"arn:aws:iam::{ACCT}:role/TerraformApply", "accountId": ACCT, "userName": "TerraformApply"}, "attributes": {"creationDate": "2026-11-24T09:00:00Z", "mfaAuthenticated": "false"}}}
root = {"type": "Root", "principalId": ACCT, "arn": f"arn:aws:iam::{ACCT}:root", "accountId": ACCT, "accessKeyId": "ASIAEXAMPLEROOT00001"}

records = [
    ct("e1a1b2c3-0000-4000-8000-000000000001", "AssumeRole", "2026-11-24T13:58:02Z", alice_user,
       {"roleArn": f"arn:aws:iam::{ACCT}:role/AdminAccess", "roleSessionName": "alice"},
       {"credentials": {"accessKeyId": "ASIAEXAMPLEALICE0001", "sessionToken": "redacted", "expiration": "Nov 24, 2026, 2:58:02 PM"}, "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLEADMIN0001:alice", "arn": f"arn:aws:sts::{ACCT}:assumed-role/AdminAccess/alice"}},
       ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64", source="sts.amazonaws.com"),
    ct("e1a1b2c3-0000-4000-8000-000000000002", "AuthorizeSecurityGroupIngress", "2026-11-24T14:03:11Z", alice_session,
       {"groupId": WEB, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}},
       {"requestId": "r1", "_return": True, "securityGroupRuleSet": {"items": [{"groupOwnerId": ACCT, "groupId": WEB, "securityGroupRuleId": "sgr-0aa00000000000022", "isEgress": False, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}}),
    ct("e1a1b2c3-0000-4000-8000-000000000003", "ModifySecurityGroupRules", "2026-11-24T15:20:45Z", deploy_bot,
       {"ModifySecurityGroupRulesRequest": {"GroupId": DB, "SecurityGroupRule": {"SecurityGroupRuleId": "sgr-0db00000000000001", "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIpv4": "10.0.0.0/8"}}}},
       {"ModifySecurityGroupRulesResponse": {"return": True}}, ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 command/ec2.modify-security-group-rules", ip="203.0.113.77"),
    ct("e1a1b2c3-0000-4000-8000-000000000004", "UpdateSecurityGroupRuleDescriptionsIngress", "2026-11-24T09:04:00Z", tf_role,
       {"groupId": BATCH, "ipPermissions": {"items": [{"ipProtocol": "udp", "fromPort": 514, "toPort": 514, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8", "description": "syslog"}]}}]}},
       {"_return": True}, ua="APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0", ip="20.42.7.9"),
    ct("e1a1b2c3-0000-4000-8000-000000000005", "RevokeSecurityGroupIngress", "2026-11-24T16:40:00Z", alice_session,
       {"groupId": WEB, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
       None, error=("UnauthorizedOperation", "You are not authorized to perform this operation.")),
    ct("e1a1b2c3-0000-4000-8000-000000000006", "DeleteNetworkAclEntry", "2026-11-24T22:17:09Z", root,
       {"networkAclId": "acl-0a1b2c3d4e5f60001", "ruleNumber": 90, "egress": False}, {"_return": True}, ip="192.0.2.200"),
]
write("audit/cloudtrail-2026-11-24.json", {"Records": records})

def gcp_entry(insert_id, op_id, first, last, method, name, time, email, request=None, chain=None, ua="google-cloud-sdk gcloud/489.0.0 command/gcloud.compute.firewall-rules.update", ip="34.120.1.9"):
    auth = {"principalEmail": email}
    if chain:
        auth["serviceAccountDelegationInfo"] = [{"firstPartyPrincipal": {"principalEmail": c}} for c in chain]
    pp = {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "authenticationInfo": auth,
          "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": ua},
          "serviceName": "compute.googleapis.com", "methodName": method,
          "authorizationInfo": [{"permission": "compute.firewalls." + method.rsplit(".", 1)[1], "granted": True, "resourceAttributes": {"service": "compute", "name": f"projects/{PROJECT}/global/firewalls/{name}", "type": "compute.firewalls"}}],
          "resourceName": f"projects/{PROJECT}/global/firewalls/{name}"}
    if request is not None:
        pp["request"] = request
    e = {"protoPayload": pp, "insertId": insert_id,
         "resource": {"type": "gce_firewall_rule", "labels": {"project_id": PROJECT, "firewall_rule_id": "44" + insert_id[-2:]}},
         "timestamp": time, "severity": "NOTICE", "logName": f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity",
         "operation": {"id": op_id, "producer": "compute.googleapis.com"}, "receiveTimestamp": time}
    if first:
        e["operation"]["first"] = True
    if last:
        e["operation"]["last"] = True
    return e

gcp_log = [
    gcp_entry("-abc101", "operation-1732460000000-aaa-bbb-ccc", True, False, "v1.compute.firewalls.patch", "deny-ssh-internet", "2026-11-24T11:02:13.441Z",
              "infra-automation@acme-prod.iam.gserviceaccount.com",
              {"@type": "type.googleapis.com/compute.firewalls.patch", "name": "deny-ssh-internet", "disabled": True, "denieds": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "priority": "900", "direction": "INGRESS", "network": NET},
              chain=["bob@acme.example"]),
    gcp_entry("-abc102", "operation-1732460000000-aaa-bbb-ccc", False, True, "v1.compute.firewalls.patch", "deny-ssh-internet", "2026-11-24T11:02:19.001Z",
              "infra-automation@acme-prod.iam.gserviceaccount.com", chain=["bob@acme.example"]),
    gcp_entry("-abc103", "operation-1732470000000-ddd-eee-fff", True, False, "v1.compute.firewalls.insert", "allow-node-exporter", "2026-11-24T17:45:02.100Z",
              "carol@acme.example",
              {"@type": "type.googleapis.com/compute.firewalls.insert", "name": "allow-node-exporter", "alloweds": [{"IPProtocol": "tcp", "ports": ["9100"]}], "priority": "1000", "direction": "INGRESS", "network": NET},
              ua="google-cloud-sdk gcloud/489.0.0 command/gcloud.compute.firewall-rules.create"),
    gcp_entry("-abc104", "operation-1732470000000-ddd-eee-fff", False, True, "v1.compute.firewalls.insert", "allow-node-exporter", "2026-11-24T17:45:09.900Z", "carol@acme.example"),
    gcp_entry("-abc105", "operation-1732480000000-ggg-hhh-iii", True, True, "v1.compute.firewalls.patch", "allow-internal", "2026-11-24T09:30:00.000Z",
              "terraform@acme-prod.iam.gserviceaccount.com",
              {"@type": "type.googleapis.com/compute.firewalls.patch", "name": "allow-internal", "sourceRanges": ["10.0.0.0/8"], "alloweds": [{"IPProtocol": "tcp", "ports": ["0-65535"]}, {"IPProtocol": "udp", "ports": ["0-65535"]}, {"IPProtocol": "icmp"}], "priority": "65534", "direction": "INGRESS", "network": NET},
              ua="Terraform/1.9.5 (+https://www.terraform.io) Terraform-Plugin-SDK/2.10.1 terraform-provider-google/6.8.0", ip="35.203.1.2"),
]
# The folder policy rule, added by dana at the folder (the log lives on the folder).
rule_req = dict(policy_rule(200, "allow", "5432"), **{"@type": "type.googleapis.com/compute.firewallPolicies.addRule"})
gcp_log.append({
    "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                     "authenticationInfo": {"principalEmail": "dana@acme.example"},
                     "requestMetadata": {"callerIp": "198.51.100.77", "callerSuppliedUserAgent": "google-cloud-sdk gcloud/489.0.0 command/gcloud.compute.firewall-policies.rules.create"},
                     "serviceName": "compute.googleapis.com", "methodName": "v1.compute.firewallPolicies.addRule",
                     "authorizationInfo": [{"permission": "compute.firewallPolicies.update", "granted": True}],
                     "resourceName": "locations/global/firewallPolicies/7101", "request": rule_req},
    "insertId": "-abc106",
    "resource": {"type": "gce_firewall_policy", "labels": {"firewall_policy_id": "7101"}},
    "timestamp": "2026-11-24T15:20:00.000Z", "severity": "NOTICE",
    "logName": "folders/2222/logs/cloudaudit.googleapis.com%2Factivity",
    "operation": {"id": "operation-1732461600000-jjj-kkk-lll", "producer": "compute.googleapis.com", "first": True, "last": True},
    "receiveTimestamp": "2026-11-24T15:20:01.000Z"})
write("audit/gcp-activity.json", gcp_log)

def az_event(eid, corr, op, rid, time, caller, status="Succeeded", role="Network Contributor", app=False, body=None, ip="203.0.113.54"):
    claims = {"aud": "https://management.core.windows.net/", "iss": "https://sts.windows.net/72f988bf-0000-0000-0000-000000000000/",
              "ipaddr": ip, "http://schemas.microsoft.com/identity/claims/objectidentifier": "a1b2c3d4-0000-0000-0000-00000000000" + eid[-1]}
    if app:
        claims["idtyp"] = "app"
        claims["appid"] = caller
    else:
        claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = caller
        claims["name"] = caller.split("@")[0].title()
    e = {"authorization": {"action": op, "scope": rid, "evidence": {"role": role, "roleAssignmentScope": f"/subscriptions/{SUB}", "roleAssignmentId": "7f3c0000000000000000000000000" + eid[-3:], "roleDefinitionId": "4d97b98b1d4f4787a291c67834d212e7", "principalId": "a1b2c3d4", "principalType": "ServicePrincipal" if app else "User"}},
         "caller": caller, "channels": "Operation", "claims": claims, "correlationId": corr,
         "description": "", "eventDataId": eid, "eventName": {"value": "EndRequest", "localizedValue": "End request"},
         "category": {"value": "Administrative", "localizedValue": "Administrative"},
         "httpRequest": {"clientRequestId": "c0ffee00-0000-0000-0000-000000000000", "clientIpAddress": ip, "method": "PUT"},
         "id": rid + "/events/" + eid, "level": "Informational", "resourceGroupName": "prod-rg",
         "resourceProviderName": {"value": "Microsoft.Network", "localizedValue": "Microsoft.Network"},
         "resourceId": rid, "resourceType": {"value": "Microsoft.Network/networkSecurityGroups/securityRules", "localizedValue": ""},
         "operationId": corr, "operationName": {"value": op, "localizedValue": "Create or Update Security Rule"},
         "properties": {"statusCode": "Created" if status == "Succeeded" else "Conflict"},
         "status": {"value": status, "localizedValue": status}, "subStatus": {"value": "Created", "localizedValue": "Created (HTTP Status Code: 201)"},
         "eventTimestamp": time, "submissionTimestamp": time, "subscriptionId": SUB, "tenantId": "72f988bf-0000-0000-0000-000000000000"}
    if body is not None:
        e["properties"]["requestbody"] = json.dumps(body)
    return e

rdp_body = {"name": "AllowRdpInbound", "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "3389", "sourceAddressPrefix": "Internet", "destinationAddressPrefix": "*", "access": "Allow", "priority": 110, "direction": "Inbound"}}
out_body = {"name": "AllowAllOutbound", "properties": {"protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "Internet", "access": "Allow", "priority": 300, "direction": "Outbound"}}
op = "Microsoft.Network/networkSecurityGroups/securityRules/write"
az_log = {"value": [
    az_event("ev-0001", "11111111-aaaa-4000-8000-000000000001", op, f"{RG}/app-nsg/securityRules/AllowRdpInbound", "2026-11-24T19:12:40.5Z", "dave@contoso.example", status="Started"),
    az_event("ev-0002", "11111111-aaaa-4000-8000-000000000001", op, f"{RG}/app-nsg/securityRules/AllowRdpInbound", "2026-11-24T19:12:55.1Z", "dave@contoso.example", body=rdp_body),
    az_event("ev-0003", "22222222-bbbb-4000-8000-000000000002", op, f"{RG.upper()}/APP-NSG/securityRules/AllowAllOutbound", "2026-11-24T23:10:03.0Z", "5f2a1c77-0000-4000-8000-00000000c1de", app=True, role="Contributor", body=out_body, ip="20.50.2.10"),
]}
write("audit/azure-activity.json", az_log)

with open(os.path.join(ROOT, "changes.csv"), "w") as f:
    f.write("ticket,scopes,start,end,principals\n")
    f.write(f"CHG-2211,azure:{SUB},2026-11-24T22:00:00Z,2026-11-25T01:00:00Z,5f2a1c77-*\n")
print("demo estate written")
