#!/usr/bin/env python3
"""Write the sample Terraform plans and state under testdata/terraform/.

Shapes follow Terraform's documented JSON output format ("Internals: JSON Output Format",
developer.hashicorp.com/terraform/internals/json-format: format_version, resource_changes[]
with change.actions / before / after / after_unknown, prior_state, configuration with
expressions and their references) and the attribute schemas of the hashicorp/aws, google and
azurerm providers (aws_security_group, aws_security_group_rule,
aws_vpc_security_group_ingress_rule, aws_network_acl_rule, google_compute_firewall,
azurerm_network_security_rule, ...) as `terraform show -json` prints them: every attribute
present, unset strings as "" (azurerm) or null, unset sets as []. The resources are the demo
estate's (demo/aws/day1, demo/gcp/day1) and estate/azure-nsgs.json.

Run: python3 testdata/terraform/generate.py
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
AWS = "registry.terraform.io/hashicorp/aws"
GOOGLE = "registry.terraform.io/hashicorp/google"
AZURERM = "registry.terraform.io/hashicorp/azurerm"
SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"


def block(proto, lo, hi, cidrs=(), v6=(), groups=(), desc="", self_=False):
    return {"cidr_blocks": list(cidrs), "description": desc, "from_port": lo,
            "ipv6_cidr_blocks": list(v6), "prefix_list_ids": [], "protocol": proto,
            "security_groups": list(groups), "self": self_, "to_port": hi}


EGRESS_ALL = [block("-1", 0, 0, ["0.0.0.0/0"])]
WEB_INGRESS = [
    block("tcp", 443, 443, ["0.0.0.0/0"], ["::/0"]),
    block("tcp", 22, 22, ["10.0.0.0/8"], desc="SSH from corp VPN"),
]
DB_INGRESS = [
    block("tcp", 5432, 5432, ["10.1.0.0/16"]),
    block("tcp", 5432, 5432, groups=["sg-0a1b2c3d4e5f60001"]),
]


def sg(gid, name, desc, ingress, egress=EGRESS_ALL, tags=None):
    tags = {"Name": name} if tags is None else tags
    return {"arn": f"arn:aws:ec2:us-east-1:111122223333:security-group/{gid}",
            "description": desc, "egress": egress, "id": gid, "ingress": ingress,
            "name": name, "name_prefix": "", "owner_id": "111122223333",
            "revoke_rules_on_delete": False, "tags": tags, "tags_all": tags,
            "timeouts": None, "vpc_id": "vpc-0c0ffee0c0ffee001"}


WEB = sg("sg-0a1b2c3d4e5f60001", "web-prod", "Public web tier", WEB_INGRESS,
         tags={"Name": "web-prod", "team": "storefront"})
DB = sg("sg-0a1b2c3d4e5f60002", "db-prod", "PostgreSQL", DB_INGRESS, tags={})


def known(v):
    """after_unknown for a fully known value: objects omit known attributes, lists keep
    one entry per element (as Terraform's jsonplan prints them)."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if isinstance(x, (dict, list)):
                out[k] = known(x)
        return out
    if isinstance(v, list):
        return [known(x) if isinstance(x, (dict, list)) else False for x in v]
    return False


def change(address, rtype, provider, actions, before, after, after_unknown=None):
    name = address.split(".")[-1]
    return {"address": address, "mode": "managed", "type": rtype, "name": name,
            "provider_name": provider,
            "change": {"actions": actions, "before": before, "after": after,
                       "after_unknown": after_unknown if after_unknown is not None else (known(after) if after else {}),
                       "before_sensitive": {} if before else False,
                       "after_sensitive": {} if after else False}}


def config(resources):
    return {"provider_config": {"aws": {"name": "aws", "full_name": AWS,
                                        "expressions": {"region": {"constant_value": "us-east-1"}}}},
            "root_module": {"resources": resources}}


def plan(changes, cfg=None, prior=None, version="1.2"):
    planned = [{"address": c["address"], "mode": "managed", "type": c["type"], "name": c["name"],
                "provider_name": c["provider_name"], "schema_version": 1,
                "values": c["change"]["after"]} for c in changes if c["change"]["after"]]
    return {"format_version": version, "terraform_version": "1.9.8",
            "planned_values": {"root_module": {"resources": planned}},
            "resource_changes": changes,
            "prior_state": prior or {"format_version": "1.0", "terraform_version": "1.9.8",
                                     "values": {"root_module": {"resources": []}}},
            "configuration": cfg or config([]),
            "timestamp": "2026-11-30T10:00:00Z",
            "applyable": True, "complete": True, "errored": False}


def write(name, doc):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def with_ingress(g, ingress):
    x = copy.deepcopy(g)
    x["ingress"] = ingress
    return x


# 1. A widening inline ingress on an existing group: RDP from the world on web-prod.
write("aws-widen-inline.json", plan([
    change("module.edge.aws_security_group.web", "aws_security_group", AWS, ["update"], WEB,
           with_ingress(WEB, WEB_INGRESS + [block("tcp", 3389, 3389, ["0.0.0.0/0"])])),
    change("module.edge.aws_instance.web", "aws_instance", AWS, ["update"],
           {"instance_type": "t3.small"}, {"instance_type": "t3.medium"}),
    change("random_id.suffix", "random_id", "registry.terraform.io/hashicorp/random", ["create"],
           None, {"byte_length": 4}, {"id": True, "hex": True}),
]))

# 2. The drift of the demo's day 2 (SSH from the world on web-prod), codified.
write("aws-ssh-world.json", plan([
    change("aws_security_group.web", "aws_security_group", AWS, ["update"], WEB,
           with_ingress(WEB, WEB_INGRESS + [block("tcp", 22, 22, ["0.0.0.0/0"])])),
]))

# 3. Only reordered and re-described rules: the same access.
reordered = [copy.deepcopy(WEB_INGRESS[1]), copy.deepcopy(WEB_INGRESS[0])]
reordered[0]["description"] = "SSH from the corporate VPN (ticket NET-1234)"
reordered[1]["description"] = "HTTPS from anywhere"
write("aws-reorder.json", plan([
    change("aws_security_group.web", "aws_security_group", AWS, ["update"], WEB,
           with_ingress(WEB, reordered)),
]))

# 4. A replace (delete, then create) of db-prod with identical access.
db_after = copy.deepcopy(DB)
db_after["name"] = "db-prod-v2"
db_unknown = known(db_after)
db_unknown.update({"id": True, "arn": True, "owner_id": True})
db_after.update({"id": None, "arn": None, "owner_id": None})
write("aws-replace.json", plan([
    change("aws_security_group.db", "aws_security_group", AWS, ["delete", "create"], DB,
           db_after, db_unknown),
]))

# 5. A rule whose source group is created by the same plan: its id is known only after apply.
bastion = sg(None, "bastion", "Bastion hosts", [block("tcp", 22, 22, ["10.0.0.0/8"])])
bastion.update({"id": None, "arn": None, "owner_id": None})
bastion_unknown = known(bastion)
bastion_unknown.update({"id": True, "arn": True, "owner_id": True})
rule = {"cidr_blocks": None, "description": "SSH from the bastion", "from_port": 22,
        "id": None, "ipv6_cidr_blocks": None, "prefix_list_ids": None, "protocol": "tcp",
        "security_group_id": "sg-0a1b2c3d4e5f60002", "security_group_rule_id": None,
        "self": False, "source_security_group_id": None, "timeouts": None, "to_port": 22,
        "type": "ingress"}
write("aws-unknown-ref.json", plan([
    change("aws_security_group.bastion", "aws_security_group", AWS, ["create"], None, bastion,
           bastion_unknown),
    change("aws_security_group_rule.db_ssh", "aws_security_group_rule", AWS, ["create"], None, rule,
           {"id": True, "security_group_rule_id": True, "source_security_group_id": True}),
], cfg=config([
    {"address": "aws_security_group.bastion", "mode": "managed", "type": "aws_security_group",
     "name": "bastion", "provider_config_key": "aws",
     "expressions": {"name": {"constant_value": "bastion"}}, "schema_version": 1},
    {"address": "aws_security_group_rule.db_ssh", "mode": "managed",
     "type": "aws_security_group_rule", "name": "db_ssh", "provider_config_key": "aws",
     "expressions": {"security_group_id": {"constant_value": "sg-0a1b2c3d4e5f60002"},
                     "source_security_group_id": {"references": ["aws_security_group.bastion.id",
                                                                 "aws_security_group.bastion"]},
                     "type": {"constant_value": "ingress"}},
     "schema_version": 2},
])))

# 6. A new security group with a separate ingress rule resource referring to it: the rule's
#    group id is known only after apply; the configuration's reference places it.
admin = sg(None, "admin", "Admin console", [])
admin.update({"id": None, "arn": None, "owner_id": None, "ingress": []})
admin_unknown = known(admin)
admin_unknown.update({"id": True, "arn": True, "owner_id": True})
vpc_rule = {"arn": None, "cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": None, "description": "admin console",
            "from_port": 8443, "id": None, "ip_protocol": "tcp", "prefix_list_id": None,
            "referenced_security_group_id": None, "security_group_id": None,
            "security_group_rule_id": None, "tags": None, "tags_all": {}, "to_port": 8443}
write("aws-new-group-rule.json", plan([
    change("aws_security_group.admin", "aws_security_group", AWS, ["create"], None, admin, admin_unknown),
    change("aws_vpc_security_group_ingress_rule.admin_https", "aws_vpc_security_group_ingress_rule",
           AWS, ["create"], None, vpc_rule,
           {"arn": True, "id": True, "security_group_id": True, "security_group_rule_id": True,
            "tags_all": {}}),
], cfg=config([
    {"address": "aws_vpc_security_group_ingress_rule.admin_https", "mode": "managed",
     "type": "aws_vpc_security_group_ingress_rule", "name": "admin_https",
     "provider_config_key": "aws",
     "expressions": {"security_group_id": {"references": ["aws_security_group.admin.id",
                                                          "aws_security_group.admin"]}},
     "schema_version": 0},
])))

# 7. The way back: Terraform re-asserts web-prod as approved (after the day-2 drift).
write("aws-revert.json", plan([
    change("aws_security_group.web", "aws_security_group", AWS, ["update"],
           with_ingress(WEB, WEB_INGRESS + [block("tcp", 22, 22, ["0.0.0.0/0"])]), WEB),
]))

# 8. A new GCP rule with no source ranges: Compute applies it to 0.0.0.0/0.
fw = {"allow": [{"ports": ["8443"], "protocol": "tcp"}], "creation_timestamp": None,
      "deny": [], "description": "admin console", "destination_ranges": None, "direction": "INGRESS",
      "disabled": False, "enable_logging": None, "id": None, "log_config": [],
      "name": "allow-admin-console", "network": "prod-vpc", "priority": 1000,
      "project": "acme-prod", "self_link": None, "source_ranges": None,
      "source_service_accounts": None, "source_tags": None, "target_service_accounts": None,
      "target_tags": ["admin"], "timeouts": None}
fw_unknown = {"allow": [{"ports": [False]}], "creation_timestamp": True, "deny": [],
              "destination_ranges": True, "enable_logging": True, "id": True, "log_config": [],
              "self_link": True, "source_ranges": False, "target_tags": [False]}
write("gcp-new-rule-world.json", plan([
    change("google_compute_firewall.admin", "google_compute_firewall", GOOGLE, ["create"], None, fw,
           fw_unknown),
]))


# 9. Azure: a priority change lets an allow win over the deny above it.
def az_rule(name, prio, access, source, port, desc=""):
    return {"access": access, "description": desc, "destination_address_prefix": "*",
            "destination_address_prefixes": [], "destination_application_security_group_ids": [],
            "destination_port_range": port, "destination_port_ranges": [], "direction": "Inbound",
            "id": f"/subscriptions/{SUB}/resourceGroups/prod-rg/providers/Microsoft.Network/networkSecurityGroups/app-nsg/securityRules/{name}",
            "name": name, "network_security_group_name": "app-nsg", "priority": prio,
            "protocol": "Tcp", "resource_group_name": "prod-rg",
            "source_address_prefix": source, "source_address_prefixes": [],
            "source_application_security_group_ids": [], "source_port_range": "*",
            "source_port_ranges": [], "timeouts": None}


before = az_rule("AllowRdpVendors", 300, "Allow", "*", "3389", "vendor RDP, below the Internet deny")
after = copy.deepcopy(before)
after["priority"] = 140
write("azure-priority.json", plan([
    change("azurerm_network_security_rule.vendor_rdp", "azurerm_network_security_rule", AZURERM,
           ["update"], before, after),
]))

# 10. A format version netdrift does not read.
doc = plan([])
doc["format_version"] = "2.0"
write("unsupported-version.json", doc)

# 11. State: what Terraform manages (web-prod as approved, db-prod as approved), in a module.
state = {"format_version": "1.0", "terraform_version": "1.9.8", "values": {"root_module": {
    "resources": [
        {"address": "aws_security_group.web", "mode": "managed", "type": "aws_security_group",
         "name": "web", "provider_name": AWS, "schema_version": 1, "values": WEB,
         "sensitive_values": {}},
    ],
    "child_modules": [{"address": "module.data", "resources": [
        {"address": "module.data.aws_security_group.db", "mode": "managed",
         "type": "aws_security_group", "name": "db", "provider_name": AWS, "schema_version": 1,
         "values": DB, "sensitive_values": {}},
        {"address": "module.data.aws_db_instance.main", "mode": "managed", "type": "aws_db_instance",
         "name": "main", "provider_name": AWS, "schema_version": 2, "values": {"engine": "postgres"},
         "sensitive_values": {}},
    ]}]}}}
write("state.json", state)

# 12. State after Terraform itself applied day 2's SSH on web-prod: drift made through Terraform.
state2 = copy.deepcopy(state)
state2["values"]["root_module"]["resources"][0]["values"] = with_ingress(
    WEB, WEB_INGRESS + [block("tcp", 22, 22, ["0.0.0.0/0"])])
write("state-web-applied.json", state2)
