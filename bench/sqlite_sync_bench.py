#!/usr/bin/env python3
"""The cost of SQLite's synchronous=FULL against NORMAL on the report path (docs/benchmarks.md).

A report is one group-commit transaction (store_sql.cc apply_writes): the host's status row
updated, its (host, bundle) outcome upserted, one host event inserted. This replays exactly
those statements, in WAL mode as the server opens its database, with batches of 1 report (a
quiet server: one commit per report) and 64 reports (a busy server's group commit), on the
file system given (default: a folder under /var/tmp, a real disk; tmpfs would hide fsync).
The two settings alternate, ROUNDS times each, so a busy machine's noise falls on both.

    bench/sqlite_sync_bench.py [--dir DIR] [--seconds S] [--rounds N]
"""
import argparse, os, shutil, sqlite3, statistics, tempfile, time

SCHEMA = [
    "CREATE TABLE hosts (id TEXT PRIMARY KEY, credential_hash TEXT NOT NULL UNIQUE, hostname TEXT NOT NULL,"
    " grp TEXT NOT NULL, tags TEXT NOT NULL, k_release TEXT NOT NULL, k_version TEXT NOT NULL,"
    " k_build_id TEXT NOT NULL, k_arch TEXT NOT NULL, state TEXT NOT NULL, a_name TEXT, a_sequence BIGINT,"
    " a_sha256 TEXT, last_seen BIGINT NOT NULL, enrolled_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX hosts_build ON hosts(k_build_id)",
    "CREATE TABLE host_events (id INTEGER PRIMARY KEY AUTOINCREMENT, host_id TEXT NOT NULL, time BIGINT NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT NOT NULL)",
    "CREATE INDEX host_events_host ON host_events(host_id, id)",
    "CREATE TABLE host_bundle (host_id TEXT NOT NULL, sha256 TEXT NOT NULL, outcome TEXT NOT NULL,"
    " updated_at BIGINT NOT NULL, PRIMARY KEY (host_id, sha256))",
    "CREATE INDEX host_bundle_sha ON host_bundle(sha256, outcome)",
]
HOSTS = 10000
SHA = "ab" * 32


def open_db(path, sync):
    db = sqlite3.connect(path, isolation_level=None)
    for p in ("PRAGMA journal_mode=WAL", f"PRAGMA synchronous={sync}", "PRAGMA busy_timeout=5000"):
        db.execute(p)
    return db


def setup(path):
    db = open_db(path, "NORMAL")
    for s in SCHEMA:
        db.execute(s)
    db.execute("BEGIN")
    db.executemany("INSERT INTO hosts VALUES (?, ?, 'h', '', '[]', 'r', 'v', 'b', 'x86_64', 'idle', NULL, NULL, NULL, 0, 0, '')",
                   [(f"h_{i}", f"c{i}") for i in range(HOSTS)])
    db.execute("COMMIT")
    db.close()


def one_batch(db, hosts, t):
    rows = [(h, "6.1.0-57-amd64", "Linux version ...", "b" * 40, "x86_64", "applied", "nr_fix", 3, SHA, t, "")
            for h in hosts]
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE hosts SET k_release = v.column2, k_version = v.column3, k_build_id = v.column4,"
               " k_arch = v.column5, state = v.column6, a_name = v.column7, a_sequence = v.column8,"
               " a_sha256 = v.column9, last_seen = v.column10, last_error = v.column11 FROM (VALUES " +
               ", ".join(["(?, ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), ?, CAST(? AS BIGINT), ?)"] * len(rows)) +
               ") AS v WHERE hosts.id = v.column1", [x for r in rows for x in r])
    db.execute("INSERT INTO host_bundle (host_id, sha256, outcome, updated_at) VALUES " +
               ", ".join(["(?, ?, ?, ?)"] * len(hosts)) +
               " ON CONFLICT (host_id, sha256) DO UPDATE SET outcome = excluded.outcome, updated_at = excluded.updated_at",
               [x for h in hosts for x in (h, SHA, "applied", t)])
    db.execute("INSERT INTO host_events (host_id, time, kind, detail) VALUES " + ", ".join(["(?, ?, ?, ?)"] * len(hosts)),
               [x for h in hosts for x in (h, t, "report", '{"state":"applied"}')])
    db.execute("COMMIT")


def run(path, sync, batch, seconds):
    db = open_db(path, sync)
    n = commits = 0
    lat = []
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        hosts = [f"h_{(n + i) % HOSTS}" for i in range(batch)]
        t0 = time.monotonic()
        one_batch(db, hosts, int(time.time()))
        lat.append(time.monotonic() - t0)
        n += batch
        commits += 1
    db.close()
    return n / seconds, statistics.median(lat) * 1000, sorted(lat)[int(len(lat) * 0.99)] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="nr-sqlite-sync.", dir=a.dir)
    try:
        path = os.path.join(work, "noreboot.db")
        setup(path)
        print(f"sqlite {sqlite3.sqlite_version}, {a.dir}, load {os.getloadavg()[0]:.1f}, {a.rounds} x {a.seconds} s each")
        for batch in (1, 64):
            res = {"NORMAL": [], "FULL": []}
            for _ in range(a.rounds):
                for sync in ("NORMAL", "FULL"):
                    res[sync].append(run(path, sync, batch, a.seconds))
            for sync, rs in res.items():
                print(f"batch {batch:3d}  synchronous={sync:6s}  reports/s {statistics.median(r[0] for r in rs):9.0f}"
                      f"  commit p50 {statistics.median(r[1] for r in rs):6.2f} ms  p99 {statistics.median(r[2] for r in rs):7.2f} ms")
        print(f"load at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
