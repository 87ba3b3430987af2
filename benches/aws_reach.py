#!/usr/bin/env python3
"""Benchmark: what reach adds to a scheduled live AWS run's CPU (issue 15: at most 20 %).

    python3 benches/aws_reach.py target/release/netdrift GROUPS ENIS

Two emulators (moto behind the project's proxy, pages of 1000) hold the same estate, GROUPS
security groups x 5 rules in one region, one with no network interface, the other with ENIS
network interfaces spread over the groups in a subnet routed to an internet gateway (a tenth
of them with an Elastic IP). In each, a first `netdrift run`, then scheduled runs, each after 1 %
of the groups gained SSH from the world; the CPU (user + system) of each scheduled run's
netdrift process is measured (REPEAT times, default 3, medians), and the ratio printed: the
runs with interfaces collect, store and convert them, and compute reach and the attack surface.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_collect import ENV, ROOT, free_port, wait  # noqa: E402

REPEAT = int(os.environ.get("REPEAT", "3"))
REGION = "us-east-1"


def estate(endpoint, groups, enis):
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = []
    for i in range(groups):
        g = ec2.create_security_group(GroupName="b%d" % i, Description="bench", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8000 + k, "ToPort": 8000 + k, "IpRanges": [{"CidrIp": "10.%d.0.0/16" % k}]} for k in range(5)])
        ids.append(g)
    if enis:
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/18")["Subnet"]["SubnetId"]
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
        for i in range(enis):
            eni = ec2.create_network_interface(SubnetId=subnet, Groups=[ids[i % groups]])["NetworkInterface"]["NetworkInterfaceId"]
            if i % 10 == 0:
                eip = ec2.allocate_address(Domain="vpc")
                ec2.associate_address(AllocationId=eip["AllocationId"], NetworkInterfaceId=eni)


def measure(netdrift, groups, enis):
    mp, pp = free_port(), free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(mp)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/support/aws_proxy.py"), str(pp), "http://127.0.0.1:%d" % mp],
                             env=dict(ENV, PAGE_SIZE="1000"), stdout=subprocess.DEVNULL)
    try:
        wait(mp)
        wait(pp)
        endpoint = "http://127.0.0.1:%d" % pp
        t = time.time()
        # Seeded straight into moto (the proxy only pages what netdrift reads): 3.6x faster.
        estate("http://127.0.0.1:%d" % mp, groups, enis)
        seeded = time.time() - t
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "bench.toml")
            with open(cfg, "w") as f:
                f.write('[report]\ndirectory = "%s"\n\n[[source]]\nprovider = "aws"\nname = "bench"\nregions = ["%s"]\nendpoint_url = "%s"\ncloudtrail = false\n'
                        % (os.path.join(d, "reports"), REGION, endpoint))
            db = os.path.join(d, "b.db")

            def run():
                child = subprocess.Popen([netdrift, "--db", db, "run", "--config", cfg], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _, status, usage = os.wait4(child.pid, 0)
                if os.waitstatus_to_exitcode(status) not in (0, 1, 3):
                    raise SystemExit(child.stderr.read().decode())
                return usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024

            run()
            subprocess.run([netdrift, "--db", db, "baseline", "approve", "--all", "--by", "bench", "--reason", "bench"], env=ENV, check=True, stdout=subprocess.DEVNULL)
            ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
            changed = max(1, groups // 100)
            out = []
            for i in range(REPEAT):
                names = ["b%d" % (i * changed + j) for j in range(changed)]
                for g in ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": names}])["SecurityGroups"]:
                    ec2.authorize_security_group_ingress(GroupId=g["GroupId"], IpPermissions=[
                        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
                out.append(run())
            return statistics.median(c for c, _ in out), max(m for _, m in out), seeded
    finally:
        proxy.kill()
        moto.kill()


def main():
    netdrift, groups, enis = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    base_cpu, base_mem, _ = measure(netdrift, groups, 0)
    cpu, mem, seeded = measure(netdrift, groups, enis)
    print("aws-reach: %d groups x 5 rules, scheduled runs (1 %% of the groups changed), medians of %d:" % (groups, REPEAT))
    print("  without network interfaces: netdrift CPU %.2fs, peak %d MiB" % (base_cpu, base_mem))
    print("  with %d network interfaces (seeded in %.0fs): netdrift CPU %.2fs, peak %d MiB: %+.0f %% CPU"
          % (enis, seeded, cpu, mem, (cpu / base_cpu - 1) * 100))


if __name__ == "__main__":
    main()
