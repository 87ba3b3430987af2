#!/usr/bin/env python3
"""Benchmark: what an unchanged daemon run costs in memory and in database, over many runs.

    python3 benches/daemon_soak.py target/release/netdrift [RUNS] [WARMUP]

`netdrift demo` makes the bundled demo's database (a baseline and 10 open drift items); then
`netdrift daemon` runs the demo's day-2 configuration with a reconcile every second and a JSON
report only, RUNS times (default 1000) over the same dumps: every run finds the same drift,
coverage and reports. After WARMUP runs (default 50) the process's RSS (VmRSS) and the
database's size (main file plus WAL, and its pages in use) are sampled at each new run; printed:
growth per run over the runs after warm-up (least-squares slope) and the totals, with the RSS
split into anonymous memory (RssAnon) and mapped files (RssFile: SQLite maps the database up to
its mmap_size, so pages it reads count as resident without being a leak).
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time


def rss_kib(pid, field="VmRSS"):
    """A resident-memory line of /proc/PID/status in KiB: VmRSS (all), RssAnon (the heap and
    other anonymous memory) or RssFile (mapped files: the binary, and the database pages
    SQLite maps, up to its mmap_size)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def db_stats(db):
    """(runs, bytes in use: pages in use times the page size, bytes on disk: file + WAL)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        runs = c.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        page = c.execute("PRAGMA page_size").fetchone()[0]
        pages = c.execute("PRAGMA page_count").fetchone()[0]
        free = c.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        c.close()
    disk = os.path.getsize(db) + (os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0)
    return runs, (pages - free) * page, disk


def slope(points):
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def main():
    netdrift = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    tmp = tempfile.mkdtemp(prefix="netdrift-soak-")
    try:
        d = os.path.join(tmp, "d")
        subprocess.run([netdrift, "demo", "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = os.path.join(d, "netdrift.db")
        cfg = os.path.join(d, "soak.toml")
        with open(os.path.join(d, "netdrift.toml")) as f:
            text = f.read()
        text = text.replace('reconcile = "0 2 * * *"', 'reconcile = "* * * * * *"')
        text = text.replace('formats = ["html", "markdown", "json", "csv", "ocsf", "asff"]', 'formats = ["json"]')
        assert '"* * * * * *"' in text and 'formats = ["json"]' in text, "the demo's configuration changed"
        with open(cfg, "w") as f:
            f.write(text)
        base_runs = db_stats(db)[0]
        env = dict(os.environ, NETDRIFT_LOG="warn")
        p = subprocess.Popen([netdrift, "--db", db, "daemon", "--config", cfg], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(tmp, "daemon.log"), "w"), env=env)
        rss, use, disk, anon, mapped = [], [], [], [], []
        seen = base_runs
        t0 = time.time()
        try:
            while seen < base_runs + runs:
                time.sleep(0.25)
                if p.poll() is not None:
                    sys.exit("the daemon exited with %s; see %s" % (p.returncode, os.path.join(tmp, "daemon.log")))
                n, u, k = db_stats(db)
                if n == seen:
                    continue
                seen = n
                i = n - base_runs
                if i >= warmup:
                    rss.append((i, rss_kib(p.pid)))
                    anon.append((i, rss_kib(p.pid, "RssAnon")))
                    mapped.append((i, rss_kib(p.pid, "RssFile")))
                    use.append((i, u))
                    disk.append((i, k))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
        wall = time.time() - t0
        n = seen - base_runs
        out = {
            "runs": n,
            "warmup": warmup,
            "wall_s": round(wall, 1),
            "rss_kib_first": rss[0][1],
            "rss_kib_last": rss[-1][1],
            "rss_growth_kib_per_run": round(slope(rss), 3),
            "anonymous_growth_kib_per_run": round(slope(anon), 3),
            "mapped_file_growth_kib_per_run": round(slope(mapped), 3),
            "anonymous_kib_first_last": [anon[0][1], anon[-1][1]],
            "mapped_file_kib_first_last": [mapped[0][1], mapped[-1][1]],
            "db_in_use_growth_bytes_per_run": round(slope(use)),
            "db_on_disk_growth_bytes_per_run": round(slope(disk)),
            "db_in_use_bytes_last": use[-1][1],
        }
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
