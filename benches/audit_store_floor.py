#!/usr/bin/env python3
"""Benchmark: SQLite's own floor for storing audit events, against `netdrift audit import`.

    python3 benches/audit_store_floor.py target/release/netdrift [RECORDS] [ROUNDS]

Writes the CloudTrail file of `benches/audit_import.py` with every record in the catalogue
(RECORDS, default 200,000), imports it with netdrift into a fresh database (timed), then takes
the rows netdrift stored and times SQLite storing them again without netdrift: each round copies
that database, creates empty tables and indexes with the very definitions netdrift's schema has
(read from the database itself, renamed), and runs `INSERT ... SELECT` from the stored tables
in one transaction, in WAL mode with `synchronous = NORMAL` as netdrift opens a database. No
JSON is parsed and no netdrift code runs: what is timed is SQLite keeping the rows and their
indexes. Second, the same rows into the events' table alone, without any index (what the rows
cost without being findable). The delivered records (`audit_records`, lz4 blocks) are left out
of both: they are the same in every form. Prints the best and the median of ROUNDS (default 5).
"""
import gzip
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_import  # noqa: E402

TABLES = ["audit_actors", "audit_events", "audit_event_links"]


def schema(db):
    """The CREATE statements of the event tables and their indexes, renamed `floor_*`."""
    c = sqlite3.connect(db)
    out = []
    for table in TABLES:
        for (sql,) in c.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
            "ORDER BY type DESC", (table,)):
            sql = re.sub(r"\bREFERENCES\s+\"?\w+\"?\s*\(\w+\)(\s+DEFERRABLE INITIALLY DEFERRED)?", "", sql)
            for t in TABLES:
                sql = re.sub(r"\b\"?%s\"?\b" % t, "floor_" + t, sql)
            sql = re.sub(r"\bINDEX (\w+)", r"INDEX floor_\1", sql)
            out.append(sql)
    c.close()
    return out


def store_again(src, work, statements, copies):
    for suffix in ["", "-wal", "-shm"]:
        if os.path.exists(work + suffix):
            os.remove(work + suffix)
    shutil.copy(src, work)
    c = sqlite3.connect(work, isolation_level=None)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA synchronous = NORMAL")
    c.execute("PRAGMA cache_size = -65536")
    for s in statements:
        c.execute(s)
    c.execute("BEGIN")
    t = time.time()
    for table in copies:
        c.execute("INSERT INTO floor_%s SELECT * FROM %s" % (table, table))
    c.execute("COMMIT")
    took = time.time() - t
    c.close()
    return took


def main():
    netdrift = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "111122223333_CloudTrail_us-east-1_20261130T0000Z_floor.json.gz")
        with gzip.open(path, "wt", compresslevel=6) as f:
            f.write('{"Records":[')
            for i in range(n):
                if i:
                    f.write(",")
                f.write(json.dumps(audit_import.record(i, rng, True), separators=(",", ":")))
            f.write("]}")
        db = os.path.join(d, "netdrift.db")
        t = time.time()
        subprocess.run([netdrift, "--db", db, "audit", "import", "--provider", "aws", path],
                       check=True, stdout=subprocess.DEVNULL)
        imported = time.time() - t
        sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        statements = schema(db)
        bare = [s for s in statements if re.match(r'CREATE TABLE "?floor_audit_events"?\s*\(', s)]
        bare = [re.sub(r"\bUNIQUE\b", "", s) for s in bare]
        work = os.path.join(d, "floor.db")
        full, events_only = [], []
        for _ in range(rounds):
            full.append(store_again(db, work, statements, TABLES))
            events_only.append(store_again(db, work, bare, ["audit_events"]))
        print("%d events; netdrift audit import: %.2f s (%.0f events/s)" % (n, imported, n / imported))
        for label, times in [("SQLite, today's tables and indexes", full),
                             ("SQLite, the events' table alone, no index", events_only)]:
            print("%s: best %.2f s (%.0f events/s), median %.2f s" % (
                label, min(times), n / min(times), statistics.median(times)))


if __name__ == "__main__":
    main()
