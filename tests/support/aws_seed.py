#!/usr/bin/env python3
"""Seed and change moto through the test proxy with boto3, as a person with the AWS SDK would.

aws_seed.py ENDPOINT seed ACCOUNT REGION N_GROUPS RULES_PER_GROUP  -> prints {"groups": [...]}
aws_seed.py ENDPOINT open-ssh ACCOUNT REGION GROUP_ID              -> AuthorizeSecurityGroupIngress 0.0.0.0/0:22
aws_seed.py ENDPOINT widen ACCOUNT REGION GROUP_ID                 -> ModifySecurityGroupRules in place, prints the rule id
aws_seed.py ENDPOINT org ACCOUNT REGION N                          -> an organization with N member accounts, prints their ids
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
else:
    sys.exit("unknown command " + cmd)
