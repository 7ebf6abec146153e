#!/usr/bin/env python3
"""Simulated agents for lb-postgres.sh: check-ins and reports through a load balancer.

Each host checks in (no long poll) with what it has applied; an offer of --bundle is
"applied" and reported (or reported as failed for every --fail-every-th host). A report that
does not get 200 is sent again next round, as the real agent does. Asserts what the fleet
must see behind a load balancer whose servers die:
  - every report acknowledged (200) is in the rollout's counts, and the counts hold nothing
    else once every host has settled;
  - a host whose applied report was acknowledged is never offered the bundle again;
  - with --expect-halt: the first failure halts the rollout, and once the halt is visible
    (plus the servers' snapshot time) no host is offered the bundle.
Exit 0 when all holds, 1 with a message otherwise.
"""
import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request


def call(server, method, path, body=None, token=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, str(e)


def die(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--enroll")
    ap.add_argument("--hosts", type=int, default=0)
    ap.add_argument("--fail-every", type=int, default=0)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--sequence", type=int, required=True)
    ap.add_argument("--rollout", required=True)
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--kill-after-round", type=int, default=0)  # SIGKILL --kill-pid half-way through it
    ap.add_argument("--kill-pid", type=int, default=0)
    ap.add_argument("--expect-halt", action="store_true")
    ap.add_argument("--state", required=True)
    ap.add_argument("--seconds", type=int, default=120)
    a = ap.parse_args()
    kernel = json.loads(a.kernel)

    if a.enroll:
        hosts = []
        for i in range(a.hosts):
            for _ in range(50):
                st, j = call(a.server, "POST", "/v1/enroll",
                             {"token": a.enroll, "hostname": "lb-%d" % i, "kernel": kernel})
                if st == 201:
                    hosts.append({"i": i, "id": j["host_id"], "cred": j["credential"], "applied": None})
                    break
                time.sleep(0.2)
            else:
                die("host %d could not enroll through the load balancer" % i)
    else:
        hosts = json.load(open(a.state))

    def checkin(h):
        return call(a.server, "POST", "/v1/checkin",
                    {"kernel": kernel, "applied": h["applied"], "state": "applied" if h["applied"] else "idle",
                     "agent_version": "lb-test"}, h["cred"])

    def report(h, failed):
        body = {"host_id": h["id"], "state": "failed" if failed else "applied", "kernel": kernel,
                "applied": h["applied"], "bundle_sha256": a.bundle, "errors": ["simulated failure"] if failed else []}
        return call(a.server, "POST", "/v1/report", body, h["cred"])[0]

    def rollout():
        st, j = call(a.server, "GET", "/v1/rollouts/" + a.rollout, token=a.admin_token)
        return j if st == 200 else None

    def offered(j):
        return j and j.get("offer") and j["offer"]["sha256"] == a.bundle

    if a.expect_halt:
        failed_host = None
        for _ in range(a.seconds):
            for h in hosts:
                st, j = checkin(h)
                if st == 200 and offered(j):
                    failed_host = h
                    break
            if failed_host:
                break
            time.sleep(1)
        if not failed_host:
            die("no host was offered the second bundle")
        for _ in range(50):
            if report(failed_host, True) == 200:
                break
            time.sleep(0.2)
        else:
            die("the failure report was never acknowledged")
        deadline = time.time() + 60
        while time.time() < deadline:
            r = rollout()
            if r and r["state"] == "halted":
                break
            time.sleep(0.2)
        else:
            die("the rollout did not halt on a failure past its budget of 0")
        time.sleep(3)  # the servers' snapshots (2 s) and the other server's notification
        for rnd in range(3):
            for h in hosts:
                st, j = checkin(h)
                if st == 200 and offered(j):
                    die("host %s was offered the bundle of a halted rollout (round %d)" % (h["id"], rnd))
        st, j = call(a.server, "GET", "/v1/bundles", token=a.admin_token)
        b = [x for x in (j or {}).get("bundles", []) if x["sha256"] == a.bundle]
        if not b or not b[0]["blocked"]:
            die("the halted rollout's bundle is not blocked: %s" % b)
        print("halted by the first failure; no offer after the halt through either server")
        return

    acked = {}  # host id -> "applied" | "failed"
    pending = {}  # host id -> failed? (a report not acknowledged yet)
    errors = 0
    start = time.time()
    rnd = 0
    while len(acked) < len(hosts) and time.time() - start < a.seconds:
        rnd += 1
        for n, h in enumerate(hosts):
            if rnd == a.kill_after_round and a.kill_pid and n == len(hosts) // 2:
                os.kill(a.kill_pid, signal.SIGKILL)  # in the middle of a round: requests go on
                print("round %d, host %d: %d hosts settled; SIGKILLed server pid %d" % (rnd, n, len(acked), a.kill_pid))
            if h["id"] in acked:
                if acked[h["id"]] == "applied":
                    st, j = checkin(h)
                    if st == 200 and offered(j):
                        die("host %s was offered the bundle again after its report was acknowledged" % h["id"])
                continue
            if h["id"] not in pending:
                st, j = checkin(h)
                if st != 200:
                    errors += 1
                    continue
                if not offered(j):
                    continue
                fails = a.fail_every and h["i"] % a.fail_every == 0
                if not fails:
                    h["applied"] = {"name": "nr_fix", "sequence": a.sequence, "bundle_sha256": a.bundle}
                pending[h["id"]] = fails
            st = report(h, pending[h["id"]])
            if st == 200:
                acked[h["id"]] = "failed" if pending.pop(h["id"]) else "applied"
            else:
                errors += 1
        time.sleep(1)
    if len(acked) < len(hosts):
        die("only %d of %d hosts settled in %d s" % (len(acked), len(hosts), a.seconds))
    want_applied = sum(1 for v in acked.values() if v == "applied")
    want_failed = len(acked) - want_applied
    r = rollout()
    if not r:
        die("cannot read the rollout")
    c = r["counts"]
    if c["applied"] != want_applied or c["failed"] != want_failed:
        die("rollout counts %s, but the agents were told: %d applied, %d failed" % (c, want_applied, want_failed))
    if r["state"] == "halted":
        die("the rollout halted with %d failures within a budget of 5" % want_failed)
    json.dump(hosts, open(a.state, "w"))
    print("%d hosts settled in %d rounds (%d requests failed over and were retried); counts %s match what "
          "was acknowledged" % (len(hosts), rnd, errors, c))


if __name__ == "__main__":
    main()
