#!/usr/bin/env python3
"""Benchmark: `netdrift audit import` of a CloudTrail log file against the decompression floor.

    python3 benches/audit_import.py target/release/netdrift [RECORDS] [CATALOGUE_PER_MILLE]

Writes one gzipped CloudTrail file (`{"Records": [...]}`, as CloudTrail delivers it) of RECORDS
records (default 400,000), of which CATALOGUE_PER_MILLE per thousand (default 1, so 0.1 %)
are security-group changes and the rest the usual bulk of a busy account (S3 reads, KMS
decrypts, STS AssumeRole, Lambda invocations, EC2 describes), ~1 KB each with realistic
nesting. Then times (best of REPEAT, default 3) `gzip -dc FILE > /dev/null` and
`netdrift audit import --provider aws FILE` into a fresh database, and prints the ratio.
"""
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time

REPEAT = int(os.environ.get("REPEAT", "3"))


def record(i, rng, catalogue):
    account = "1111%08d" % rng.randrange(100)
    base = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:session-%d" % i,
                         "arn": "arn:aws:sts::%s:assumed-role/app-role/session-%d" % (account, i),
                         "accountId": account, "accessKeyId": "ASIAEXAMPLE%08d" % i,
                         "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                                                               "arn": "arn:aws:iam::%s:role/app-role" % account,
                                                               "accountId": account, "userName": "app-role"},
                                            "attributes": {"creationDate": "2026-11-30T10:00:00Z", "mfaAuthenticated": "false"}}},
        "eventTime": "2026-11-30T%02d:%02d:%02dZ" % (i // 3600 % 24, i // 60 % 60, i % 60),
        "awsRegion": rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"]),
        "sourceIPAddress": "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        "userAgent": "aws-sdk-java/2.25.1 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9",
        "requestID": "%032x" % rng.getrandbits(128),
        "eventID": "%08x-0000-4000-8000-%012x" % (i, rng.getrandbits(48)),
        "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": account, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "service.us-east-1.amazonaws.com"},
    }
    if catalogue:
        base.update({"eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress", "readOnly": False,
                     "requestParameters": {"groupId": "sg-%017x" % i, "ipPermissions": {"items": [
                         {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                          "ipv6Ranges": {}, "prefixListIds": {}}]}},
                     "responseElements": {"requestId": "r", "_return": True,
                                          "securityGroupRuleSet": {"items": [{"groupId": "sg-%017x" % i, "securityGroupRuleId": "sgr-%017x" % i}]}}})
        return base
    kind = rng.randrange(5)
    if kind == 0:
        base.update({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventCategory": "Data", "managementEvent": False,
                     "requestParameters": {"bucketName": "data-lake-%d" % rng.randrange(50), "key": "raw/2026/11/30/part-%06d.parquet" % i,
                                           "Host": "data-lake.s3.us-east-1.amazonaws.com"},
                     "additionalEventData": {"bytesTransferredIn": 0, "bytesTransferredOut": rng.randrange(10 ** 7), "x-amz-id-2": "%040x" % rng.getrandbits(160)},
                     "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::data-lake/raw/part-%06d.parquet" % i}]})
    elif kind == 1:
        base.update({"eventSource": "kms.amazonaws.com", "eventName": "Decrypt",
                     "requestParameters": {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:s3:arn": "arn:aws:s3:::data-lake"}},
                     "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-east-1:%s:key/%032x" % (account, rng.getrandbits(128))}]})
    elif kind == 2:
        base.update({"eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity", "requestParameters": None, "responseElements": None})
    elif kind == 3:
        base.update({"eventSource": "lambda.amazonaws.com", "eventName": "Invoke", "eventCategory": "Data", "managementEvent": False,
                     "requestParameters": {"functionName": "arn:aws:lambda:us-east-1:%s:function:worker-%d" % (account, rng.randrange(20))}})
    else:
        base.update({"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
                     "requestParameters": {"instancesSet": {}, "filterSet": {"items": [{"name": "tag:team", "valueSet": {"items": [{"value": "payments"}]}}]}},
                     "responseElements": None})
    return base


def best(cmd, **kw):
    times = []
    for _ in range(REPEAT):
        t = time.time()
        subprocess.run(cmd, check=True, **kw)
        times.append(time.time() - t)
    return min(times)


def main():
    netdrift = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400_000
    per_mille = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "111122223333_CloudTrail_us-east-1_20261130T0000Z_bench.json.gz")
        catalogue = 0
        with gzip.open(path, "wt", compresslevel=6) as f:
            f.write('{"Records":[')
            for i in range(n):
                c = rng.randrange(1000) < per_mille
                catalogue += c
                if i:
                    f.write(",")
                f.write(json.dumps(record(i, rng, c), separators=(",", ":")))
            f.write("]}")
        size = os.path.getsize(path)
        floor = best(["sh", "-c", "gzip -dc '%s' > /dev/null" % path])

        def import_once():
            db = os.path.join(d, "a-%f.db" % time.time())
            child = subprocess.Popen([netdrift, "--db", db, "audit", "import", "--provider", "aws", path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(child.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(child.stderr.read().decode())
            return usage.ru_maxrss // 1024

        times, rss = [], 0
        for _ in range(REPEAT):
            t = time.time()
            rss = max(rss, import_once())
            times.append(time.time() - t)
        imp = min(times)
        print("%d records (%d in the catalogue), %.1f MiB gzipped" % (n, catalogue, size / 2 ** 20))
        print("gzip -dc: %.2f s; audit import: %.2f s, %.1fx the floor; peak %d MiB" % (floor, imp, imp / floor, rss))


if __name__ == "__main__":
    main()
