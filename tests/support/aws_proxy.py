#!/usr/bin/env python3
"""Loopback test proxy in front of moto (server mode), for netdrift's AWS tests.

moto answers EC2 Describe calls in one page, does not implement CloudTrail LookupEvents, and
cannot inject faults. This proxy adds exactly that, and forwards everything else unchanged:

- EC2 pagination: Describe* responses are cut into pages of PAGE_SIZE items (or the request's
  MaxResults if smaller) with a nextToken. Like EC2's server-side tokens, the token is a cursor
  over the result read at the first page: a request with NextToken gets the following page of
  that result without asking moto again, so a call of P pages costs one listing, not P.
- CloudTrail LookupEvents: served from records loaded from CLOUDTRAIL_FILES (CloudTrail log
  JSON) and from records synthesized from the EC2 write calls that pass through the proxy, in
  CloudTrail's nested shape; filtered by time window, 50 per page with NextToken.
- Faults per action (POST /__faults with a JSON list of rules, DELETE to clear):
  {"action": "DescribeNetworkAcls", "region": "eu-west-1", "account": "...", "mode":
   "throttle"|"5xx"|"deny"|"delay"|"drop", "count": N (default forever), "seconds": S}
- GET /__calls lists the (action, region, account) seen, for assertions.

Usage: aws_proxy.py LISTEN_PORT MOTO_URL
"""
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE_SIZE = int(os.environ.get("PAGE_SIZE", "3"))
MOTO = sys.argv[2]
LOCK = threading.Lock()
FAULTS = []
CALLS = []
TRAIL = []  # CloudTrail records (dicts)
KEYS = {}   # access key id -> identity (learned from STS AssumeRole responses)
CURSORS = {}  # nextToken cursor id -> (request fingerprint, response root, namespace, items)

PAGED = {
    "DescribeSecurityGroups": "securityGroupInfo",
    "DescribeSecurityGroupRules": "securityGroupRuleSet",
    "DescribeNetworkAcls": "networkAclSet",
    "DescribeNetworkInterfaces": "networkInterfaceSet",
    "DescribeManagedPrefixLists": "prefixListSet",
    "GetManagedPrefixListEntries": "entrySet",
}
WRITES = {
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress", "ModifySecurityGroupRules", "CreateSecurityGroup", "DeleteSecurityGroup",
    "CreateNetworkAclEntry", "ReplaceNetworkAclEntry", "DeleteNetworkAclEntry", "CreateNetworkAcl",
    "DeleteNetworkAcl", "ModifyManagedPrefixList", "CreateManagedPrefixList",
}

for path in filter(None, os.environ.get("CLOUDTRAIL_FILES", "").split(os.pathsep)):
    with open(path) as f:
        TRAIL.extend(json.load(f).get("Records", []))


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def auth_info(headers):
    a = headers.get("Authorization", "")
    m = re.search(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/", a)
    if not m:
        return None, None, None
    return m.group(1), m.group(2), m.group(3)


def account_of(key):
    if key in KEYS:
        return KEYS[key]["account"]
    return os.environ.get("MOTO_ACCOUNT_ID", "123456789012")


def fault_for(action, region, account):
    with LOCK:
        for f in FAULTS:
            if f.get("action") not in (None, action):
                continue
            if f.get("region") not in (None, region) or f.get("account") not in (None, account):
                continue
            if f.get("count") is not None:
                if f["count"] <= 0:
                    continue
                f["count"] -= 1
            return f
    return None


def ec2_error(code, message, status):
    body = ('<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message>'
            '</Error></Errors><RequestID>%s</RequestID></Response>' % (code, message, uuid.uuid4()))
    return status, {"Content-Type": "text/xml"}, body.encode()


def strip_ns(tag):
    return tag.split("}", 1)[-1]


def fingerprint(action, params, account, region):
    """What a token is bound to: the same call with the same filters, in the same scope."""
    rest = sorted((k, v) for k, v in params.items() if k not in ("NextToken", "MaxResults"))
    return json.dumps([action, account, region, rest])


def page_of(action, root, ns, items, start, size, cursor):
    key = PAGED[action]
    container = root.find(ns + key)
    for it in list(container):
        container.remove(it)
    for it in items[start:start + size]:
        container.append(it)
    old = root.find(ns + "nextToken")
    if old is not None:
        root.remove(old)
    if start + size < len(items):
        tok = ET.SubElement(root, ns + "nextToken")
        tok.text = "%s:%d" % (cursor, start + size)
    ET.register_namespace("", ns.strip("{}"))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def page_size(params):
    size = PAGE_SIZE
    if "MaxResults" in params:
        size = min(size, int(params["MaxResults"][0]))
    return size


def next_page(action, params, account, region):
    """The page a NextToken asks for, from its cursor (an error for a token it never gave)."""
    token = params.get("NextToken", [""])[0]
    cursor, _, offset = token.partition(":")
    with LOCK:
        entry = CURSORS.get(cursor)
    if entry is None or not offset.isdigit():
        return ec2_error("InvalidParameterValue", "Invalid pagination token: %s" % token, 400)
    bound, root, ns, items = entry
    if bound != fingerprint(action, params, account, region):
        return ec2_error("InvalidParameterValue", "The pagination token does not match the request", 400)
    with LOCK:
        body = page_of(action, root, ns, items, int(offset), page_size(params), cursor)
    return 200, {"Content-Type": "text/xml"}, body


def paginate(action, body, params, account, region):
    """The first page of a full moto listing; the rest is kept as a cursor."""
    key = PAGED[action]
    root = ET.fromstring(body)
    ns = root.tag.split("}", 1)[0] + "}" if root.tag.startswith("{") else ""
    container = root.find(ns + key)
    if container is None:
        return body
    items = list(container)
    size = page_size(params)
    cursor = uuid.uuid4().hex
    if len(items) > size:
        with LOCK:
            CURSORS[cursor] = (fingerprint(action, params, account, region), root, ns, items)
    with LOCK:
        return page_of(action, root, ns, items, 0, size, cursor)


def synthesize(action, params, key, region, account, response):
    """A CloudTrail record for a write call that passed through, in CloudTrail's nested shape."""
    ident = KEYS.get(key, {"type": "IAMUser", "arn": "arn:aws:iam::%s:user/moto" % account, "account": account})
    user = {"type": ident["type"], "principalId": "AIDAPROXY", "arn": ident["arn"], "accountId": ident["account"], "accessKeyId": key}
    if ident["type"] == "AssumedRole":
        user["sessionContext"] = {"sessionIssuer": {"type": "Role", "arn": ident["role"], "accountId": ident["account"]},
                                  "attributes": {"mfaAuthenticated": "false", "creationDate": now_iso()}}
    req = {}
    flat = {k: v[0] for k, v in params.items()}
    if action.startswith(("Authorize", "Revoke")):
        req["groupId"] = flat.get("GroupId")
        perms = []
        i = 1
        while "IpPermissions.%d.IpProtocol" % i in flat:
            p = "IpPermissions.%d." % i
            perm = {"ipProtocol": flat[p + "IpProtocol"], "groups": {}, "prefixListIds": {}}
            if p + "FromPort" in flat:
                perm["fromPort"] = int(flat[p + "FromPort"])
                perm["toPort"] = int(flat[p + "ToPort"])
            v4 = [{"cidrIp": flat[k]} for k in sorted(flat) if k.startswith(p + "IpRanges.") and k.endswith(".CidrIp")]
            v6 = [{"cidrIpv6": flat[k]} for k in sorted(flat) if k.startswith(p + "Ipv6Ranges.") and k.endswith(".CidrIpv6")]
            perm["ipRanges"] = {"items": v4} if v4 else {}
            perm["ipv6Ranges"] = {"items": v6} if v6 else {}
            perms.append(perm)
            i += 1
        req["ipPermissions"] = {"items": perms}
    elif action == "ModifySecurityGroupRules":
        rule = {"SecurityGroupRuleId": flat.get("SecurityGroupRule.1.SecurityGroupRuleId"), "SecurityGroupRule": {}}
        for k, v in flat.items():
            m = re.match(r"SecurityGroupRule\.1\.SecurityGroupRule\.(\w+)$", k)
            if m:
                rule["SecurityGroupRule"][m.group(1)] = int(v) if m.group(1).endswith("Port") else v
        req["ModifySecurityGroupRulesRequest"] = {"GroupId": flat.get("GroupId"), "SecurityGroupRule": rule}
    else:
        req = {k[0].lower() + k[1:]: v for k, v in flat.items() if k not in ("Action", "Version")}
    resp = None
    if action in ("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"):
        ids = re.findall(rb"<securityGroupRuleId>([^<]+)</securityGroupRuleId>", response)
        resp = {"_return": True, "securityGroupRuleSet": {"items": [{"securityGroupRuleId": i.decode()} for i in ids]}}
    return {"eventVersion": "1.09", "userIdentity": user, "eventTime": now_iso(), "eventSource": "ec2.amazonaws.com",
            "eventName": action, "awsRegion": region, "sourceIPAddress": "127.0.0.1",
            "userAgent": "aws-sdk-rust test", "requestParameters": req, "responseElements": resp,
            "requestID": str(uuid.uuid4()), "eventID": str(uuid.uuid4()), "readOnly": False,
            "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": account}


def lookup_events(payload, account, region):
    start = payload.get("StartTime", 0)
    end = payload.get("EndTime", time.time() + 1)
    def epoch(r):
        return datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    with LOCK:
        recs = [r for r in TRAIL if r.get("recipientAccountId") == account and r.get("awsRegion") == region
                and start <= epoch(r) <= end and r.get("eventSource") == "ec2.amazonaws.com"]
    recs.sort(key=epoch, reverse=True)
    offset = int(payload.get("NextToken") or 0)
    size = min(int(payload.get("MaxResults", 50)), 50)
    page = recs[offset:offset + size]
    out = {"Events": [{"EventId": r["eventID"], "EventName": r["eventName"], "EventTime": epoch(r),
                       "EventSource": r["eventSource"], "Username": r["userIdentity"].get("arn"),
                       "CloudTrailEvent": json.dumps(r)} for r in page]}
    if offset + size < len(recs):
        out["NextToken"] = str(offset + size)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/__calls":
            with LOCK:
                body = json.dumps(CALLS).encode()
            return self.reply(200, {"Content-Type": "application/json"}, body)
        return self.forward(b"")

    def do_DELETE(self):
        if self.path == "/__faults":
            with LOCK:
                FAULTS.clear()
            return self.reply(200, {}, b"{}")
        return self.forward(b"")

    def do_PUT(self):
        # S3 (the seeder's trail buckets): forwarded as is.
        length = int(self.headers.get("Content-Length") or 0)
        return self.forward(self.rfile.read(length))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/__faults":
            with LOCK:
                FAULTS.extend(json.loads(body))
            return self.reply(200, {}, b"{}")
        if self.path == "/__trail":
            with LOCK:
                TRAIL.extend(json.loads(body).get("Records", []))
            return self.reply(200, {}, b"{}")
        return self.forward(body)

    def forward(self, body):
        key, region, service = auth_info(self.headers)
        account = account_of(key)
        target = self.headers.get("X-Amz-Target", "")
        params = urllib.parse.parse_qs(body.decode()) if service in ("ec2", "sts") and body else {}
        action = params.get("Action", [target.split(".")[-1] or "?"])[0]
        call = {"action": action, "region": region, "account": account, "service": service}
        if service == "s3":
            call.update(method=self.command, path=self.path)
        started = time.time()
        with LOCK:
            CALLS.append(call)
        try:
            return self.dispatch(body, key, region, account, service, params, action)
        finally:
            # Time spent answering (moto plus this proxy), for the benchmark's breakdown.
            call["ms"] = round((time.time() - started) * 1000, 1)

    def dispatch(self, body, key, region, account, service, params, action):
        f = fault_for(action, region, account)
        if f:
            mode = f.get("mode")
            if mode == "delay":
                time.sleep(float(f.get("seconds", 5)))
            elif mode == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            elif mode == "throttle":
                return self.reply(*ec2_error("RequestLimitExceeded", "Request limit exceeded.", 503))
            elif mode == "5xx":
                return self.reply(*ec2_error("InternalError", "An internal error has occurred", 500))
            elif mode == "deny":
                return self.reply(*ec2_error("UnauthorizedOperation", "You are not authorized to perform this operation.", 403))
        if service == "cloudtrail" and action == "LookupEvents":
            out = lookup_events(json.loads(body or b"{}"), account, region)
            return self.reply(200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(out).encode())
        if service == "ec2" and action in PAGED and params.get("NextToken", [""])[0]:
            return self.reply(*next_page(action, params, account, region))
        req = urllib.request.Request(MOTO + self.path, data=body if self.command != "GET" else None, method=self.command)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "content-length", "connection", "accept-encoding"):
                req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, headers, data = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, headers, data = e.code, dict(e.headers), e.read()
        if status == 200 and service == "ec2" and action in PAGED:
            data = paginate(action, data, params, account, region)
        if status == 200 and service == "sts" and action == "AssumeRole":
            m = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", data)
            arn = params.get("RoleArn", [""])[0]
            if m:
                KEYS[m.group(1).decode()] = {"type": "AssumedRole", "account": arn.split(":")[4], "role": arn,
                                             "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (arn.split(":")[4], arn.split("/")[-1], params.get("RoleSessionName", ["s"])[0])}
        if status == 200 and service == "ec2" and action in WRITES:
            with LOCK:
                TRAIL.append(synthesize(action, params, key, region, account, data))
        self.reply(status, headers, data)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
