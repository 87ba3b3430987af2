#!/usr/bin/env python3
"""Benchmark: detection latency of the daemon's watch loop, from a change to the webhook.

    python3 benches/watch_latency.py target/release/netdrift [INTERVAL_SECONDS] [CHANGES]

moto behind the project's proxy (which answers CloudTrail LookupEvents with the EC2 writes that
pass through it) holds 100 security groups. After a first `netdrift run` and an approval, the
daemon runs with `[watch] interval_seconds = INTERVAL` (default 5) and a nightly reconcile that
is months away. Then CHANGES times (default 20), at a random moment, one group gains SSH from
the world through the proxy, and the time until the webhook (a local HTTP server here) receives
a message naming that group is measured. Printed: the distribution in seconds and as a multiple
of the interval. A change waits for the next tick (uniform over one interval) and then for the
tick's own work (LookupEvents, the group re-read, diff, attribution, delivery).
"""
import http.server
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_collect import ENV, ROOT, free_port, wait  # noqa: E402

REGION = "us-east-1"
SEEN = []  # (time received, body)


class Hook(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        SEEN.append((time.time(), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def main():
    netdrift = sys.argv[1]
    interval = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    changes = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    mp, pp, hp = free_port(), free_port(), free_port()
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", hp), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(mp)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/support/aws_proxy.py"), str(pp), "http://127.0.0.1:%d" % mp],
                             env=dict(ENV, PAGE_SIZE="1000"), stdout=subprocess.DEVNULL)
    daemon = None
    try:
        wait(mp)
        wait(pp)
        direct = boto3.client("ec2", endpoint_url="http://127.0.0.1:%d" % mp, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        vpc = direct.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        groups = [direct.create_security_group(GroupName="w%d" % i, Description="bench", VpcId=vpc)["GroupId"] for i in range(100)]
        ec2 = boto3.client("ec2", endpoint_url="http://127.0.0.1:%d" % pp, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "watch.toml")
            with open(cfg, "w") as f:
                f.write('[report]\ndirectory = "%s"\nwebhook_url = "http://127.0.0.1:%d/hook"\nwebhook_min_severity = "low"\n\n'
                        '[schedule]\nreconcile = "0 2 1 1 *"\ntimezone = "UTC"\n\n[watch]\ninterval_seconds = %d\n\n'
                        '[[source]]\nprovider = "aws"\nname = "bench"\nregions = ["%s"]\nendpoint_url = "http://127.0.0.1:%d"\n'
                        % (os.path.join(d, "reports"), hp, interval, REGION, pp))
            db = os.path.join(d, "w.db")
            env = dict(ENV, NETDRIFT_DB=db)
            subprocess.run([netdrift, "run", "--config", cfg], env=env, stdout=subprocess.DEVNULL, check=False)
            subprocess.run([netdrift, "baseline", "approve", "--all", "--by", "bench", "--reason", "bench"], env=env, stdout=subprocess.DEVNULL, check=True)
            daemon = subprocess.Popen([netdrift, "daemon", "--config", cfg], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(interval + 1)
            latencies = []
            rng = random.Random(17)
            for k in range(changes):
                time.sleep(rng.uniform(0, interval))
                g = groups[k]
                t0 = time.time()
                ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
                deadline = t0 + 10 * interval + 30
                while time.time() < deadline:
                    hit = [t for t, body in list(SEEN) if g in json.loads(body).get("text", "")]
                    if hit:
                        latencies.append(hit[0] - t0)
                        break
                    time.sleep(0.05)
                else:
                    raise SystemExit("no delivery for %s within %d s" % (g, deadline - t0))
            lat = sorted(latencies)
            q = statistics.quantiles(lat, n=10)
            print("interval %d s, %d changes" % (interval, changes))
            for name, v in [("min", lat[0]), ("median", statistics.median(lat)), ("p90", q[8]), ("max", lat[-1])]:
                print("%-6s %6.2f s  %.2f x interval" % (name, v, v / interval))
    finally:
        if daemon:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
        proxy.terminate()
        moto.terminate()
        hook.shutdown()


if __name__ == "__main__":
    main()
