#!/usr/bin/env python3
"""Fault to PATCH: how long a bad revision lives with real rollguard daemons.

Three real daemons (build/rollguard), one per pod of the bad revision, each in front of
its own fake app taking 100 requests/s, against the fake Kubernetes API server
(tests/fakeapi) over TLS, quorum 2 -- the set-up of the kube suite's
test_e2e_three_daemons_bad_revision, built by tests/pylib's rgtest.scene. Traffic is
healthy first (plus a random fraction of an analysis interval, so that the fault falls at
a different phase of the analysis ticks in each run); then every app answers 20 % of
requests with 500. Measured per run: the seconds from the fault to the PATCH of the
Deployment arriving at the API server, and the leader's own figure from its first FAIL
verdict to the PATCH.

    bench/e2e.py [--binary build/rollguard] [--runs 5] [--interval 1s|10s ...]
                 [--json OUT] [--seed N]

--interval 1s uses the kube suite's fast analysis config (analysis every 1 s, scrapes
every 1 s); 10s the shipped defaults (analysis every 10 s, window 60 s, warm-up 30 s,
scrapes every 5 s), so a run takes about a minute and a half.
"""

import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
from rgtest.net import wait_for  # noqa: E402
from rgtest.scene import PODS, Scene, daemon_up, fleet, status, stop_fleet  # noqa: E402

RATE = 100
FAULT_ERRORS = 0.20

# interval -> (healthy seconds before the fault, seconds to wait for the PATCH); a random
# fraction of one interval is added to the healthy time so that the fault falls at a
# different phase of the analysis ticks in each run
TIMING = {"1s": (8.0, 60.0), "10s": (50.0, 180.0)}
INTERVAL_S = {"1s": 1.0, "10s": 10.0}


def one_run(env, interval, log, rng):
    """One fleet, one fault; returns (fault_to_patch_s, first_fail_to_patch_s or None)."""
    healthy_s, patience = TIMING[interval]
    healthy_s += rng.uniform(0, INTERVAL_S[interval])
    env.reset()
    if interval == "1s":
        apps, traffic, daemons, ports = fleet(env, quorum=2, rate=RATE)
    else:  # the shipped analysis and scrape defaults
        apps, traffic, daemons, ports = fleet(env, quorum=2, rate=RATE, analysis="", metrics="")
    try:
        for port in ports:
            ok = wait_for(lambda: daemon_up(port) and (status(port) or {}).get(
                "rollback", {}).get("identity", {}).get("known"), timeout=20)
            if not ok:
                raise RuntimeError("a daemon did not come up on port %d" % port)
        time.sleep(healthy_s)
        if env.writes():
            raise RuntimeError("API writes during healthy traffic: %r" % [
                (e["method"], e["path"]) for e in env.writes()])
        t0 = time.time()
        for t in traffic:
            t.errors = FAULT_ERRORS
        patch = wait_for(lambda: env.patches(applied=True), timeout=patience, step=0.05)
        if not patch:
            raise RuntimeError("no PATCH within %.0f s of the fault" % patience)
        fault_to_patch = patch[0]["time"] - t0
        fail_to_patch = None
        for _ in range(20):  # the leader records the figure once the PATCH is answered
            for port in ports:
                last = ((status(port) or {}).get("rollback") or {}).get("last") or {}
                if last.get("result") == "rolled_back" and last.get("fail_to_patch_ms", -1) >= 0:
                    fail_to_patch = last["fail_to_patch_ms"] / 1000.0
            if fail_to_patch is not None:
                break
            time.sleep(0.1)
        n = len(env.patches(applied=True))
        if n != 1:
            raise RuntimeError("%d PATCHes applied, expected 1" % n)
        log("fault-to-PATCH %.2f s, first FAIL to PATCH %s" % (
            fault_to_patch, "%.3f s" % fail_to_patch if fail_to_patch is not None else "?"))
        return fault_to_patch, fail_to_patch
    finally:
        # a stuck daemon must not stop the benchmark: SIGKILL after 15 s, stderr unchecked
        stop_fleet(env, apps, traffic, daemons, check=False)
        env.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "rollguard"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--interval", action="append", choices=sorted(TIMING),
                    help="analysis interval(s) to measure (default: 1s and 10s)")
    ap.add_argument("--json", help="write the per-run figures to this file")
    ap.add_argument("--seed", type=int, default=1, help="for the fault's phase (default 1)")
    a = ap.parse_args()
    intervals = a.interval or ["1s", "10s"]
    if not os.access(a.binary, os.X_OK):
        sys.exit("e2e.py: %s is not built (make %s)" % (a.binary, a.binary))
    out = {"runs": a.runs, "rate": RATE, "errors": FAULT_ERRORS, "pods": len(PODS),
           "quorum": 2, "intervals": {}}
    env = Scene(a.binary)
    rng = random.Random(a.seed)
    try:
        for iv in intervals:
            res = out["intervals"][iv] = {"fault_to_patch_s": [], "fail_to_patch_s": [],
                                          "errors": []}
            for i in range(a.runs):
                def log(msg, iv=iv, i=i):
                    print("  e2e interval %s run %d/%d: %s" % (iv, i + 1, a.runs, msg),
                          flush=True)
                try:
                    f2p, fail2p = one_run(env, iv, log, rng)
                except Exception as e:  # noqa: BLE001 - recorded, the other runs go on
                    log("failed: %s" % e)
                    res["errors"].append(str(e))
                    continue
                res["fault_to_patch_s"].append(round(f2p, 3))
                if fail2p is not None:
                    res["fail_to_patch_s"].append(round(fail2p, 3))
    finally:
        env.close()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    else:
        print(json.dumps(out, indent=1))
    return 0 if all(not r["errors"] for r in out["intervals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
