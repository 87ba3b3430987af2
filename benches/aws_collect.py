#!/usr/bin/env python3
"""Benchmark: one full `netdrift run` (collection of security groups, their rules, NACLs,
prefix lists and attachments, then store and diff) against moto, compared in the same run with
the floor a Python tool cannot beat: a plain paginated DescribeSecurityGroups loop with boto3.

    python3 benches/aws_collect.py target/release/netdrift 500 2000

Seeds N groups x 5 rules in two regions of one account, through the project's proxy (pages of
1000, like AWS). Prints wall time, peak RSS (netdrift) and the ratio.
"""
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true",
           AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("port %d did not open" % port)


def main():
    netdrift = sys.argv[1]
    sizes = [int(x) for x in sys.argv[2:]] or [500, 2000]
    regions = ["us-east-1", "eu-west-1"]
    for n in sizes:
        mp, pp = free_port(), free_port()
        moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(mp)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proxy = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/support/aws_proxy.py"), str(pp), "http://127.0.0.1:%d" % mp],
                                 env=dict(ENV, PAGE_SIZE="1000"), stdout=subprocess.DEVNULL)
        try:
            wait(mp)
            wait(pp)
            endpoint = "http://127.0.0.1:%d" % pp
            for r in regions:
                ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=r, aws_access_key_id="testing", aws_secret_access_key="testing")
                vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
                for i in range(n):
                    g = ec2.create_security_group(GroupName="b%d" % i, Description="bench", VpcId=vpc)["GroupId"]
                    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[
                        {"IpProtocol": "tcp", "FromPort": 8000 + k, "ToPort": 8000 + k, "IpRanges": [{"CidrIp": "10.%d.0.0/16" % k}]} for k in range(5)])
            def calls():
                with urllib.request.urlopen(endpoint + "/__calls") as r:
                    return json.load(r)

            def breakdown(since):
                per = {}
                for c in calls()[since:]:
                    a = per.setdefault(c["action"], [0, 0.0])
                    a[0] += 1
                    a[1] += c.get("ms", 0.0) / 1000
                return ", ".join("%s %dx %.2fs" % (k, v[0], v[1]) for k, v in sorted(per.items(), key=lambda kv: -kv[1][1]))

            # The floor: boto3, paginated DescribeSecurityGroups only.
            mark = len(calls())
            t = time.time()
            count = 0
            for r in regions:
                ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=r, aws_access_key_id="testing", aws_secret_access_key="testing")
                for page in ec2.get_paginator("describe_security_groups").paginate(PaginationConfig={"PageSize": 1000}):
                    count += len(page["SecurityGroups"])
            floor = time.time() - t
            floor_calls = breakdown(mark)
            with tempfile.TemporaryDirectory() as d:
                cfg = os.path.join(d, "bench.toml")
                with open(cfg, "w") as f:
                    f.write('[report]\ndirectory = "reports"\n\n[[source]]\nprovider = "aws"\nname = "bench"\nregions = %s\nendpoint_url = "%s"\ncloudtrail = false\n'
                            % (json.dumps(regions), endpoint))
                before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                mark = len(calls())
                t = time.time()
                out = subprocess.run([netdrift, "--db", os.path.join(d, "b.db"), "run", "--config", cfg], env=ENV, capture_output=True, text=True)
                took = time.time() - t
                peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                if out.returncode not in (0, 1, 3):
                    raise SystemExit(out.stderr)
                run_calls = breakdown(mark)
            print("aws-collect: %d groups x 5 rules x 2 regions: netdrift run %.2fs (peak %d MiB), boto3 DescribeSecurityGroups loop %.2fs (%d groups): ratio %.2fx"
                  % (n, took, max(peak, before) // 1024, floor, count, took / floor))
            print("  emulator time per action (moto + proxy), boto3 floor: " + floor_calls)
            print("  emulator time per action (moto + proxy), netdrift run: " + run_calls)
        finally:
            proxy.kill()
            moto.kill()


if __name__ == "__main__":
    main()
