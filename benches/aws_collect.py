#!/usr/bin/env python3
"""Benchmark: full `netdrift run`s (collection of security groups, their rules, NACLs, prefix
lists and attachments, then store and diff) against moto, compared in the same run with the
floor a Python tool cannot beat: a plain paginated DescribeSecurityGroups loop with boto3.

    python3 benches/aws_collect.py target/release/netdrift 500 2000

Seeds N groups x 5 rules in two regions of one account, through the project's proxy (pages of
1000, like AWS). Times two runs: the first, into an empty store (every rule id is read), and a
scheduled one after 1 % of the groups changed (rule ids are read for those only; the others
keep their stored ids). Each measurement is repeated (REPEAT, default 3) and the median
printed, with the peak RSS of the netdrift runs, the ratios and the emulator's time per action.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REPEAT = int(os.environ.get("REPEAT", "3"))
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

            def floor(with_rules):
                """Seconds for boto3's paginated DescribeSecurityGroups (and DescribeSecurityGroupRules)."""
                t = time.time()
                for r in regions:
                    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=r, aws_access_key_id="testing", aws_secret_access_key="testing")
                    for _ in ec2.get_paginator("describe_security_groups").paginate(PaginationConfig={"PageSize": 1000}):
                        pass
                    if with_rules:
                        for _ in ec2.get_paginator("describe_security_group_rules").paginate(PaginationConfig={"PageSize": 1000}):
                            pass
                return time.time() - t

            def netdrift_run(d):
                cfg = os.path.join(d, "bench.toml")
                with open(cfg, "w") as f:
                    f.write('[report]\ndirectory = "%s"\n\n[[source]]\nprovider = "aws"\nname = "bench"\nregions = %s\nendpoint_url = "%s"\ncloudtrail = false\n'
                            % (os.path.join(d, "reports"), json.dumps(regions), endpoint))
                mark = len(calls())
                t = time.time()
                child = subprocess.Popen([netdrift, "--db", os.path.join(d, "b.db"), "run", "--config", cfg], env=ENV,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _, status, usage = os.wait4(child.pid, 0)
                took = time.time() - t
                code = os.waitstatus_to_exitcode(status)
                if code not in (0, 1, 3):
                    raise SystemExit(child.stderr.read().decode())
                return took, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime, breakdown(mark)

            med = statistics.median
            changed = max(1, n // 100)
            firsts, ds_floors, full_floors = [], [], []
            with tempfile.TemporaryDirectory() as d:
                # 1. First runs, each into an empty store: every rule id is read.
                for i in range(REPEAT):
                    ds_floors.append(floor(False))
                    full_floors.append(floor(True))
                    store = os.path.join(d, "first%d" % i)
                    os.mkdir(store)
                    firsts.append(netdrift_run(store))
                # 2. Scheduled runs on the last store, each after 1 % of the groups gained a rule
                # in each region. Unchanged groups keep their stored rule ids.
                scheduled, sched_floors = [], []
                for i in range(REPEAT):
                    for r in regions:
                        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=r, aws_access_key_id="testing", aws_secret_access_key="testing")
                        names = ["b%d" % (i * changed + j) for j in range(changed)]
                        for g in ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": names}])["SecurityGroups"]:
                            ec2.authorize_security_group_ingress(GroupId=g["GroupId"], IpPermissions=[
                                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
                    sched_floors.append(floor(False))
                    scheduled.append(netdrift_run(store))
            first, sched = med(f[0] for f in firsts), med(f[0] for f in scheduled)
            ds_floor, full_floor, sched_floor = med(ds_floors), med(full_floors), med(sched_floors)
            print("aws-collect: %d groups x 5 rules x 2 regions, medians of %d:" % (n, REPEAT))
            print("  boto3 floor, DescribeSecurityGroups loop: %.2fs (before first runs), %.2fs (before scheduled runs)" % (ds_floor, sched_floor))
            print("  boto3 DescribeSecurityGroups + DescribeSecurityGroupRules loop: %.2fs" % full_floor)
            print("  netdrift run, first (empty store, every rule id): %.2fs (netdrift CPU %.2fs), peak %d MiB: %.2fx the floor, %.2fx the two-list loop"
                  % (first, med(f[2] for f in firsts), max(f[1] for f in firsts), first / ds_floor, first / full_floor))
            print("  netdrift run, scheduled (%d groups changed per region): %.2fs (netdrift CPU %.2fs), peak %d MiB: %.2fx the floor"
                  % (changed, sched, med(f[2] for f in scheduled), max(f[1] for f in scheduled), sched / sched_floor))
            print("  emulator time per action (moto + proxy), netdrift first run: " + firsts[-1][3])
            print("  emulator time per action (moto + proxy), netdrift scheduled run: " + scheduled[-1][3])
        finally:
            proxy.kill()
            moto.kill()


if __name__ == "__main__":
    main()
