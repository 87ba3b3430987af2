#!/usr/bin/env python3
"""Seed and change moto through the test proxy with boto3, as a person with the AWS SDK would.

aws_seed.py ENDPOINT seed ACCOUNT REGION N_GROUPS RULES_PER_GROUP  -> prints {"groups": [...]}
aws_seed.py ENDPOINT open-ssh ACCOUNT REGION GROUP_ID              -> AuthorizeSecurityGroupIngress 0.0.0.0/0:22
aws_seed.py ENDPOINT widen ACCOUNT REGION GROUP_ID                 -> ModifySecurityGroupRules in place, prints the rule id
aws_seed.py ENDPOINT org ACCOUNT REGION N                          -> an organization with N member accounts, prints their ids
aws_seed.py ENDPOINT workload ACCOUNT REGION                       -> a VPC with an internet gateway, a public subnet routed to it
                                                                      and a private one, an instance in each (one group each), an
                                                                      Elastic IP on the public one; prints the ids and the address
aws_seed.py ENDPOINT nacl ACCOUNT REGION VPC                        -> a network ACL (100 allow tcp/443, 110 deny tcp/22, from
                                                                      0.0.0.0/0, inbound), prints its id
aws_seed.py ENDPOINT drift-nacl ACCOUNT REGION ACL                  -> 100 widened to every TCP port, 110 deleted, 120 added
aws_seed.py ENDPOINT revoke ACCOUNT REGION GROUP_ID                 -> revoke the group's tcp/8001 rule
aws_seed.py ENDPOINT apply ACCOUNT REGION FILE                      -> make each step of a `netdrift revert --format json`
                                                                      file: the boto3 method named by `call`, with `params`
aws_seed.py ENDPOINT s3put ACCOUNT REGION BUCKET KEY FILE           -> put FILE's bytes as s3://BUCKET/KEY (the bucket made
                                                                      if missing), as CloudTrail delivers a log file
ACCOUNT other than moto's default is reached through STS AssumeRole into role NetdriftAudit.
"""
import json
import sys

import boto3

endpoint, cmd, account, region = sys.argv[1:5]
DEFAULT = "123456789012"


def client(service):
    kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    if account != DEFAULT:
        sts = boto3.client("sts", **kw)
        c = sts.assume_role(RoleArn="arn:aws:iam::%s:role/NetdriftAudit" % account, RoleSessionName="seeder")["Credentials"]
        kw.update(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    return boto3.client(service, **kw)


ec2 = client("ec2")


def trail(name, multi_region, mode):
    """A trail in this account and region as CloudTrail keeps it: its bucket, its selectors
    (written out: moto starts a trail with none, AWS with All management events), logging
    unless `stopped`."""
    global region
    bucket = "trail-%s-%s-%s" % (account, region, name.lower())
    # One bucket region for all (moto's S3 is one namespace; the trail only names it).
    home, region = region, "us-east-1"
    client("s3").create_bucket(Bucket=bucket)
    region = home
    ct = client("cloudtrail")
    ct.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region)
    if mode == "advanced":
        ct.put_event_selectors(TrailName=name, AdvancedEventSelectors=[
            {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}])
    else:
        ct.put_event_selectors(TrailName=name, EventSelectors=[
            {"ReadWriteType": "ReadOnly" if mode == "readonly" else "All", "IncludeManagementEvents": True}])
    if mode != "stopped":
        ct.start_logging(Name=name)
    return ct.describe_trails(trailNameList=[name])["trailList"][0]["TrailARN"]


def ensure_trail():
    """Every seeded account logs: one multi-region trail, unless it has one."""
    if not client("cloudtrail").describe_trails(includeShadowTrails=True)["trailList"]:
        trail("everything", True, "logging")


if cmd == "s3put":
    s3 = client("s3")
    bucket, key, path = sys.argv[5:8]
    if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read())
    sys.exit(0)
if cmd == "trail":
    print(trail(sys.argv[5], sys.argv[6] == "multi", sys.argv[7]))
    sys.exit(0)
if cmd in ("seed", "workload"):
    ensure_trail()
if cmd == "seed":
    n, rules = int(sys.argv[5]), int(sys.argv[6])
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    groups = []
    for i in range(n):
        g = ec2.create_security_group(GroupName="nd-%d" % i, Description="netdrift test %d" % i, VpcId=vpc)["GroupId"]
        perms = [{"IpProtocol": "tcp", "FromPort": 8000 + r, "ToPort": 8000 + r, "IpRanges": [{"CidrIp": "10.%d.0.0/16" % (r % 250)}]} for r in range(rules)]
        ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=perms)
        groups.append(g)
    print(json.dumps({"groups": groups, "vpc": vpc}))
elif cmd == "open-ssh":
    ec2.authorize_security_group_ingress(GroupId=sys.argv[5], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
elif cmd == "close-ssh":
    ec2.revoke_security_group_ingress(GroupId=sys.argv[5], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
elif cmd == "widen":
    g = sys.argv[5]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [g]}])["SecurityGroupRules"]
    rule = next(r for r in rules if not r["IsEgress"] and r.get("FromPort") == 8000)
    ec2.modify_security_group_rules(GroupId=g, SecurityGroupRules=[{"SecurityGroupRuleId": rule["SecurityGroupRuleId"], "SecurityGroupRule": {
        "IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "CidrIpv4": "0.0.0.0/0"}}])
    print(rule["SecurityGroupRuleId"])
elif cmd == "org":
    # An organization with N member accounts; prints their ids.
    org = client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = []
    for i in range(int(sys.argv[5])):
        req = org.create_account(Email="member%d@example.com" % i, AccountName="member%d" % i)["CreateAccountStatus"]
        ids.append(org.describe_create_account_status(CreateAccountRequestId=req["Id"])["CreateAccountStatus"]["AccountId"])
    print(json.dumps(ids))
elif cmd == "workload":
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.2.0/24")["Subnet"]["SubnetId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=public)
    web = ec2.create_security_group(GroupName="nd-web", Description="web", VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName="nd-db", Description="db", VpcId=vpc)["GroupId"]
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    def instance(subnet, group):
        i = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                              NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group]}])["Instances"][0]
        return i["InstanceId"], i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    web_i, web_eni = instance(public, web)
    db_i, db_eni = instance(private, db)
    eip = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=eip["AllocationId"], NetworkInterfaceId=web_eni)
    print(json.dumps({"vpc": vpc, "web": web, "db": db, "web_instance": web_i, "web_eni": web_eni,
                      "db_instance": db_i, "db_eni": db_eni, "address": eip["PublicIp"]}))
elif cmd == "nacl":
    acl = ec2.create_network_acl(VpcId=sys.argv[5])["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                                 CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=110, Protocol="6", RuleAction="deny", Egress=False,
                                 CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22})
    print(acl)
elif cmd == "drift-nacl":
    acl = sys.argv[5]
    ec2.replace_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                                  CidrBlock="0.0.0.0/0", PortRange={"From": 0, "To": 65535})
    ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=110, Egress=False)
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=120, Protocol="17", RuleAction="allow", Egress=False,
                                 CidrBlock="0.0.0.0/0", PortRange={"From": 53, "To": 53})
elif cmd == "revoke":
    ec2.revoke_security_group_ingress(GroupId=sys.argv[5], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8001, "ToPort": 8001, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
elif cmd == "apply":
    import re
    plan = json.load(open(sys.argv[5]))
    for step in plan["steps"]:
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", step["call"]).lower()
        getattr(ec2, method)(**step["params"])
        print(step["call"])
else:
    sys.exit("unknown command " + cmd)
