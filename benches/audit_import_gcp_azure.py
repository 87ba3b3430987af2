#!/usr/bin/env python3
"""Benchmark: `netdrift audit import` of a GCP audit export and an Azure Activity Log export.

    python3 benches/audit_import_gcp_azure.py NETDRIFT [OTHER_NETDRIFT] [RECORDS] [CATALOGUE_PER_MILLE]

Writes one GCP file (`{"entries": [...]}`, LogEntry objects as `gcloud logging read
--format=json` prints them) and one Azure file (`{"value": [...]}`, the Activity Log REST
shape) of RECORDS records each (default 400,000), CATALOGUE_PER_MILLE per thousand (default 1)
being firewall changes and the rest the usual bulk (storage reads, instance and VM
operations), then times (best of REPEAT, default 3) `netdrift audit import` of each into a
fresh database, for each binary given: compare two builds in one run.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time

REPEAT = int(os.environ.get("REPEAT", "3"))


def gcp(i, rng, catalogue):
    method, service = (("v1.compute.firewalls.insert", "compute.googleapis.com") if catalogue else
                       rng.choice([("storage.objects.get", "storage.googleapis.com"),
                                   ("v1.compute.instances.start", "compute.googleapis.com"),
                                   ("google.iam.admin.v1.CreateServiceAccountKey", "iam.googleapis.com"),
                                   ("v1.compute.disks.createSnapshot", "compute.googleapis.com")]))
    return {
        "insertId": "%016x" % i, "logName": "projects/acme-%d/logs/cloudaudit.googleapis.com%%2Factivity" % (i % 40),
        "operation": {"id": "operation-%d" % i, "producer": service, "first": True, "last": True},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": "svc-%d@acme-%d.iam.gserviceaccount.com" % (i % 300, i % 40)},
            "requestMetadata": {"callerIp": "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)),
                                "callerSuppliedUserAgent": "google-cloud-sdk gcloud/467.0.0 command/gcloud.compute"},
            "serviceName": service, "methodName": method,
            "authorizationInfo": [{"permission": "compute.firewalls.create", "granted": True,
                                   "resourceAttributes": {"service": "compute", "name": "projects/acme/global/firewalls/fw-%d" % i}}],
            "resourceName": "projects/acme-%d/global/firewalls/fw-%d" % (i % 40, i),
            "request": {"@type": "type.googleapis.com/compute.firewalls.insert", "name": "fw-%d" % i,
                        "network": "projects/acme-%d/global/networks/default" % (i % 40), "direction": "INGRESS",
                        "priority": 1000, "sourceRanges": ["0.0.0.0/0"], "alloweds": [{"IPProtocol": "tcp", "ports": ["22"]}]},
        },
        "resource": {"type": "gce_firewall_rule", "labels": {"project_id": "acme-%d" % (i % 40), "firewall_rule_id": str(i)}},
        "timestamp": "2026-11-30T%02d:%02d:%02d.%06dZ" % (i // 3600 % 24, i // 60 % 60, i % 60, i % 1000000),
        "severity": "NOTICE", "receiveTimestamp": "2026-11-30T%02d:%02d:%02d.9Z" % (i // 3600 % 24, i // 60 % 60, i % 60),
    }


def azure(i, rng, catalogue):
    sub = "0b1f6471-1bf0-4dda-aec3-%012d" % (i % 40)
    op = ("Microsoft.Network/networkSecurityGroups/securityRules/write" if catalogue else
          rng.choice(["Microsoft.Compute/virtualMachines/start/action", "Microsoft.Storage/storageAccounts/listKeys/action",
                      "Microsoft.Resources/deployments/write", "Microsoft.KeyVault/vaults/read"]))
    rid = "/subscriptions/%s/resourceGroups/rg-%d/providers/Microsoft.Network/networkSecurityGroups/nsg-%d/securityRules/r-%d" % (sub, i % 90, i % 500, i)
    return {
        "authorization": {"action": op, "scope": rid},
        "caller": "ops-%d@contoso.com" % (i % 300), "channels": "Operation",
        "claims": {"aud": "https://management.core.windows.net/", "iss": "https://sts.windows.net/72f988bf/",
                   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "ops-%d@contoso.com" % (i % 300),
                   "ipaddr": "10.1.%d.%d" % (rng.randrange(256), rng.randrange(256)), "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
        "correlationId": "%032x" % rng.getrandbits(128),
        "eventDataId": "%032x" % rng.getrandbits(128),
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": "2026-11-30T%02d:%02d:%02d.1234567Z" % (i // 3600 % 24, i // 60 % 60, i % 60),
        "id": rid + "/events/%d" % i, "level": "Informational",
        "operationId": "%032x" % rng.getrandbits(128),
        "operationName": {"value": op, "localizedValue": op},
        "resourceGroupName": "rg-%d" % (i % 90),
        "resourceProviderName": {"value": "Microsoft.Network", "localizedValue": "Microsoft.Network"},
        "resourceType": {"value": "Microsoft.Network/networkSecurityGroups/securityRules"},
        "resourceId": rid,
        "status": {"value": "Succeeded", "localizedValue": "Succeeded"},
        "subStatus": {"value": "Created", "localizedValue": "Created (HTTP Status Code: 201)"},
        "submissionTimestamp": "2026-11-30T%02d:%02d:%02d.2Z" % (i // 3600 % 24, i // 60 % 60, i % 60),
        "subscriptionId": sub, "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "properties": {"statusCode": "Created", "serviceRequestId": "%032x" % rng.getrandbits(128)},
    }


def main():
    bins = [a for a in sys.argv[1:] if not a.isdigit()]
    nums = [int(a) for a in sys.argv[1:] if a.isdigit()]
    n = nums[0] if nums else 400_000
    per_mille = nums[1] if len(nums) > 1 else 1
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as d:
        files = []
        for provider, make, envelope in (("gcp", gcp, "entries"), ("azure", azure, "value")):
            path = os.path.join(d, "%s.json" % provider)
            with open(path, "w") as f:
                f.write('{"%s":[' % envelope)
                for i in range(n):
                    if i:
                        f.write(",")
                    f.write(json.dumps(make(i, rng, rng.randrange(1000) < per_mille), separators=(",", ":")))
                f.write("]}")
            files.append((provider, path))
        for provider, path in files:
            size = os.path.getsize(path) / 2 ** 20
            for b in bins:
                times, rss = [], 0
                for _ in range(REPEAT):
                    db = os.path.join(d, "a-%f.db" % time.time())
                    t = time.time()
                    child = subprocess.Popen([b, "--db", db, "audit", "import", "--provider", provider, path],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    _, status, usage = os.wait4(child.pid, 0)
                    times.append(time.time() - t)
                    if os.waitstatus_to_exitcode(status) != 0:
                        raise SystemExit(child.stderr.read().decode())
                    rss = max(rss, usage.ru_maxrss // 1024)
                print("%s: %d records (%.0f MiB), %s: %.2f s, peak %d MiB" % (provider, n, size, b, min(times), rss))


if __name__ == "__main__":
    main()
