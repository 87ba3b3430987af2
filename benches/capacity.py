#!/usr/bin/env python3
"""Benchmark: one bastion's nightly cycle over a synthetic estate of 10,000 scopes.

    python3 benches/capacity.py target/release/netdrift [ACCOUNTS] [REGIONS] [NOISE]

Writes an AWS estate of ACCOUNTS x REGIONS scopes (default 600 x 17 = 10,200) as the native
dumps `aws ec2 describe-security-groups` and `describe-network-acls` print, one pair a scope,
and one configuration naming every scope as a file source (the offline source: what it
measures is netdrift's own work per scope; what the live APIs add is the README's capacity
section, from their documented limits). The mix of an organization: in each account two home
regions carry the workloads (20-150 groups of 1-9 ingress permissions over private ranges,
group references and a few public HTTPS listeners; 1-3 custom network ACLs) and every other
region only what AWS creates (the default VPC's default group and default ACL).

Five nights, each `netdrift run` in a process of its own, timed with wait4 (wall, user +
system CPU, peak RSS) and followed by the database's size (pages in use, and file + WAL):
  1. first collection into an empty database (nothing approved yet);
  then `netdrift baseline approve` of everything (timed the same way);
  2. an unchanged night;
  3. a night where 1 % of the scopes (home scopes) opened SSH to the world on one group, with
     a CloudTrail file of NOISE records (default 400,000; the changes among the usual reads)
     for attribution;
  4. and 5. unchanged nights again (the drift stays open; night 5 is the steady state: the
     same drift, coverage and audit reads as the night before).
Prints one JSON document.
"""
import gzip
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_import  # noqa: E402  (the CloudTrail record generator)

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
           "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
           "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1"]
HOME = ("us-east-1", "eu-west-1")
PORTS = [22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9200, 5671]


def perm(proto, lo=None, hi=None, cidrs=(), groups=(), account=None):
    p = {"IpProtocol": proto, "IpRanges": [{"CidrIp": c} for c in cidrs], "Ipv6Ranges": [],
         "PrefixListIds": [], "UserIdGroupPairs": [{"GroupId": g, "UserId": account} for g in groups]}
    if lo is not None:
        p["FromPort"], p["ToPort"] = lo, hi
    return p


def egress_all():
    return [perm("-1", cidrs=["0.0.0.0/0"])]


def group(gid, name, vpc, account, ingress, desc="managed"):
    return {"Description": desc, "GroupName": name, "IpPermissions": ingress, "OwnerId": account,
            "GroupId": gid, "IpPermissionsEgress": egress_all(), "Tags": [{"Key": "team", "Value": name.split("-")[0]}],
            "VpcId": vpc}


def acl(aid, vpc, account, default, subnets, entries):
    return {"Associations": [{"NetworkAclAssociationId": "aclassoc-%s-%d" % (aid[4:], i), "NetworkAclId": aid,
                              "SubnetId": s} for i, s in enumerate(subnets)],
            "Entries": entries, "IsDefault": default, "NetworkAclId": aid, "Tags": [], "VpcId": vpc, "OwnerId": account}


def allow_all_entries():
    return [{"CidrBlock": "0.0.0.0/0", "Egress": e, "Protocol": "-1", "RuleAction": a, "RuleNumber": n}
            for e in (False, True) for a, n in (("allow", 100), ("deny", 32767))]


def scope_estate(rng, a, r, account, region):
    """(groups, acls, rules) of one scope."""
    tag = "%03d%02d" % (a, r)
    vpc = "vpc-%s%012x" % (tag, 0)
    default_id = "sg-%s%012x" % (tag, 0)
    groups = [group(default_id, "default", vpc, account, [perm("-1", groups=[default_id], account=account)],
                    "default VPC security group")]
    acls = [acl("acl-%s%012x" % (tag, 0), vpc, account, True, ["subnet-%s%06x" % (tag, i) for i in range(3)],
                allow_all_entries())]
    rules = 2
    if region in HOME:
        ids = ["sg-%s%012x" % (tag, i + 1) for i in range(rng.randrange(20, 151))]
        for i, gid in enumerate(ids):
            ingress = []
            for port in rng.sample(PORTS, rng.randrange(1, 10)):
                kind = rng.randrange(10)
                if kind < 6:
                    cidrs = ["10.%d.%d.0/24" % (rng.randrange(256), rng.randrange(256)) for _ in range(rng.randrange(1, 4))]
                    ingress.append(perm("tcp", port, port, cidrs=cidrs))
                    rules += len(cidrs)
                elif kind < 9 or port != 443:
                    refs = rng.sample(ids, rng.randrange(1, 3))
                    ingress.append(perm("tcp", port, port, groups=refs, account=account))
                    rules += len(refs)
                else:
                    ingress.append(perm("tcp", 443, 443, cidrs=["0.0.0.0/0"]))
                    rules += 1
            groups.append(group(gid, "%s-%d" % (rng.choice(["web", "api", "db", "cache", "batch"]), i), vpc, account, ingress))
            rules += 1
        for j in range(rng.randrange(1, 4)):
            entries = [{"CidrBlock": "10.0.0.0/8", "Egress": False, "Protocol": "6", "RuleAction": "allow",
                        "RuleNumber": 100 + 10 * k, "PortRange": {"From": p, "To": p}} for k, p in enumerate(rng.sample(PORTS, 4))]
            entries.append({"CidrBlock": "0.0.0.0/0", "Egress": True, "Protocol": "-1", "RuleAction": "allow", "RuleNumber": 100})
            entries += [{"CidrBlock": "0.0.0.0/0", "Egress": e, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 32767}
                        for e in (False, True)]
            acls.append(acl("acl-%s%012x" % (tag, j + 1), vpc, account, False, ["subnet-%s%06x" % (tag, 10 + j)], entries))
            rules += len(entries)
    return groups, acls, rules


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def db_size(db):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=60)
    try:
        page = c.execute("PRAGMA page_size").fetchone()[0]
        used = (c.execute("PRAGMA page_count").fetchone()[0] - c.execute("PRAGMA freelist_count").fetchone()[0]) * page
    finally:
        c.close()
    disk = os.path.getsize(db) + (os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0)
    return used, disk


def timed(cmd, log, ok=(0, 1, 3)):
    """Run cmd, its standard output to log + ".out"; (wall s, CPU s, peak RSS MiB, exit status)."""
    t = time.time()
    with open(log, "w") as err, open(log + ".out", "w") as stdout:
        child = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=dict(os.environ, NETDRIFT_LOG="warn"))
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.time() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        with open(log) as f:
            raise SystemExit("%s exited %d:\n%s" % (" ".join(cmd), code, f.read()[-4000:]))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def main():
    netdrift = os.path.abspath(sys.argv[1])
    accounts = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    nregions = int(sys.argv[3]) if len(sys.argv) > 3 else 17
    noise = int(sys.argv[4]) if len(sys.argv) > 4 else 400_000
    regions = REGIONS[:nregions]
    rng = random.Random(18)
    tmp = tempfile.mkdtemp(prefix="netdrift-capacity-")
    estate = os.path.join(tmp, "estate")
    db = os.path.join(tmp, "netdrift.db")
    scopes, rules, home = [], 0, []
    t0 = time.time()
    sources = []
    for a in range(accounts):
        account = "%012d" % (200000000000 + a)
        for r, region in enumerate(regions):
            d = os.path.join(estate, account, region)
            os.makedirs(d)
            groups, acls, n = scope_estate(rng, a, r, account, region)
            rules += n
            write_json(os.path.join(d, "security-groups.json"), {"SecurityGroups": groups})
            write_json(os.path.join(d, "network-acls.json"), {"NetworkAcls": acls})
            scopes.append((account, region, d, groups))
            if region in HOME:
                home.append(len(scopes) - 1)
            sources.append('[[source]]\nprovider = "aws"\nname = "a%s-%s"\naccount = "%s"\nregion = "%s"\n'
                           'files = ["%s/security-groups.json", "%s/network-acls.json"]\n'
                           % (account, region, account, region, d, d))
    base_cfg = ('[report]\ndirectory = "%s"\nformats = ["html", "markdown", "json", "csv", "ocsf", "asff"]\n\n'
                % os.path.join(tmp, "reports")) + "\n".join(sources)
    cfg = os.path.join(tmp, "netdrift.toml")
    with open(cfg, "w") as f:
        f.write(base_cfg)
    generated = time.time() - t0

    out = {"accounts": accounts, "regions": len(regions), "scopes": len(scopes), "rules": rules,
           "home_scopes": len(home), "generate_s": round(generated, 1), "steps": []}
    nights = ["2026-11-27T02:00:00Z", "2026-11-28T02:00:00Z", "2026-11-29T02:00:00Z", "2026-11-30T02:00:00Z",
              "2026-12-01T02:00:00Z"]

    def step(name, cmd, config=cfg):
        before = db_size(db) if os.path.exists(db) else (0, 0)
        wall, cpu, rss, code = timed(cmd, os.path.join(tmp, name + ".log"))
        used, disk = db_size(db)
        row = {"step": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mib": round(rss, 1),
               "exit": code, "db_used_bytes": used, "db_growth_bytes": used - before[0], "db_disk_bytes": disk}
        if "--format" in cmd:
            with open(os.path.join(tmp, name + ".log.out")) as f:
                doc = json.load(f)
            drift = doc["drift"]
            row.update({"collected": len(doc["collected"]), "coverage_findings": len(doc["coverage"]),
                        "drift_items": len(drift), "audit_events": doc["audit_events"],
                        "attributed": sum(1 for d in drift if (d.get("attribution") or {}).get("actors"))})
        out["steps"].append(row)
        print(json.dumps(row), file=sys.stderr)

    run = lambda at, config=cfg: [netdrift, "--db", db, "run", "--config", config, "--at", at, "--format", "json"]  # noqa: E731
    step("night1-first-collection", run(nights[0]))
    step("baseline-approve", [netdrift, "--db", db, "baseline", "approve", "--all", "--by", "capacity-bench", "--reason", "night 1 is the approved state"])
    step("night2-unchanged", run(nights[1]))

    # Night 3: 1 % of the home scopes open SSH to the world on one group, and CloudTrail says who.
    n_changed = max(1, len(scopes) // 100)
    changed = home[:: max(1, len(home) // n_changed)][:n_changed]
    trail = os.path.join(tmp, "cloudtrail.json.gz")
    targets = []
    for k in changed:
        account, region, d, groups = scopes[k]
        g = groups[1 + rng.randrange(len(groups) - 1)]
        g["IpPermissions"].append(perm("tcp", 22, 22, cidrs=["0.0.0.0/0"]))
        write_json(os.path.join(d, "security-groups.json"), {"SecurityGroups": groups})
        targets.append((account, region, g["GroupId"]))
    every = max(1, noise // max(1, len(targets)))
    with gzip.open(trail, "wt", compresslevel=6) as f:
        f.write('{"Records":[')
        for i in range(noise):
            t = i // every if i % every == every // 2 else None
            rec = audit_import.record(i, rng, t is not None and t < len(targets))
            if t is not None and t < len(targets):
                account, region, gid = targets[t]
                rec["eventTime"] = "2026-11-28T%02d:%02d:00Z" % (8 + t // 60 % 12, t % 60)
                rec["awsRegion"] = region
                rec["recipientAccountId"] = account
                rec["userIdentity"]["accountId"] = account
                rec["requestParameters"]["groupId"] = gid
                rec["responseElements"]["securityGroupRuleSet"]["items"][0]["groupId"] = gid
            else:
                rec["eventTime"] = "2026-11-28T%02d:%02d:%02dZ" % (i // 3600 % 24, i // 60 % 60, i % 60)
            if i:
                f.write(",")
            f.write(json.dumps(rec, separators=(",", ":")))
        f.write("]}")
    cfg3 = os.path.join(tmp, "netdrift-night3.toml")
    with open(cfg3, "w") as f:
        f.write(base_cfg + '\n[[audit]]\nprovider = "aws"\nfiles = ["%s"]\n' % trail)
    out["changed_scopes"] = len(targets)
    out["trail_records"] = noise
    step("night3-changes-attributed", run(nights[2], cfg3))
    step("night4-unchanged", run(nights[3], cfg3))
    step("night5-unchanged", run(nights[4], cfg3))

    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        out["snapshots"] = c.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
        out["stored_audit_events"] = c.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0]
    finally:
        c.close()
    report = os.path.join(tmp, "reports")
    out["report_bytes"] = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(report) for f in fs)
    print(json.dumps(out, indent=1))
    if os.environ.get("KEEP") != "1":
        subprocess.run(["rm", "-rf", tmp])
    else:
        print("kept", tmp, file=sys.stderr)


if __name__ == "__main__":
    main()
