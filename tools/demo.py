#!/usr/bin/env python3
"""`make demo`: the whole rollguard story on one machine, no cluster needed.

A fake Kubernetes API server (tests/fakeapi) holds Deployment prod/web at revision 2
(revision 1 kept); three real rollguard daemons play the sidecars of its three pods,
each in front of its own fake app. Traffic is healthy first, then the apps begin
answering 20 % of requests with 500s. The demo prints a timeline (verdicts, every
write to the API: Lease, the one PATCH, the Event) and the Deployment before and after.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
from rgtest.scene import PODS, Scene, fleet, status, stop_fleet  # noqa: E402  (the scene)

T0 = time.time()


def say(what):
    print("%6.1fs  %s" % (time.time() - T0, what), flush=True)


def show_deployment(env, when):
    d = env.dep()
    ann = d["metadata"].get("annotations", {})
    print("\nDeployment prod/web %s:" % when)
    print("  revision    %s" % ann.get("deployment.kubernetes.io/revision"))
    print("  image       %s" % env.image())
    print("  change-cause %s" % ann.get("kubernetes.io/change-cause"))
    if "rollguard.io/rolled-back" in ann:
        print("  rolled back from %s" % ann["rollguard.io/rolled-back"])
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "rollguard"))
    ap.add_argument("--healthy", type=float, default=12.0, help="seconds of healthy traffic")
    a = ap.parse_args()
    env = Scene(a.binary)
    apps = traffic = daemons = ()
    try:
        env.reset()
        show_deployment(env, "before")
        apps, traffic, daemons, ports = fleet(env, quorum=2)
        say("three sidecars started for pods %s (quorum 2, analysis every 1 s)"
            % ", ".join(PODS))
        seen_seq, verdicts = 0, {}
        fault_at = time.time() + a.healthy
        patched_at = None
        while True:
            now = time.time()
            if fault_at and now >= fault_at:
                for t in traffic:
                    t.errors = 0.20
                fault_at = None
                say("the new revision's apps begin answering 20 % of requests with 500")
            for pod, port in zip(PODS, ports):
                st = status(port)
                v = (st or {}).get("analysis") or {}
                key = (v.get("outcome"), v.get("rule"))
                if v and verdicts.get(pod) != key:
                    verdicts[pod] = key
                    say("%s verdict %s (%s)" % (pod, v.get("outcome"), v.get("reason") or "ok"))
            for e in env.fa.requests():
                if e["seq"] <= seen_seq:
                    continue
                seen_seq = e["seq"]
                if e["write"]:
                    say("API %s %s -> %s" % (e["method"], e["path"], e["status"]))
                    if e["method"] == "PATCH" and e["status"] == 200 and not patched_at:
                        patched_at = time.time()
            if patched_at and time.time() - patched_at > 4:
                break
            if time.time() - T0 > 120:
                say("no rollback within two minutes")
                return 1
            time.sleep(0.2)
        show_deployment(env, "after")
        for ev in env.events():
            print("Event %s %s on %s/%s:\n  %s\n" % (
                ev.get("type"), ev.get("reason"), ev["involvedObject"]["kind"],
                ev["involvedObject"]["name"], ev.get("message")))
        patches = env.patches(applied=True)
        print("PATCHes to the Deployment: %d" % len(patches))
        return 0 if len(patches) == 1 else 1
    finally:
        stop_fleet(env, apps, traffic, daemons)
        env.close()


if __name__ == "__main__":
    sys.exit(main())
