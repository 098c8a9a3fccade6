#!/usr/bin/env python3
"""Tests of the integration harness itself, against mockd.py.

A clean mock must pass every case; a mock broken in one way (the
ROLLGUARD_MOCK_BREAK flaws of mockd.py) must fail the cases that guard
against that flaw. Run: python3 tests/integration/selftest.py
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = [sys.executable, os.path.join(HERE, "run.py"), "--binary", os.path.join(HERE, "mockd.py")]

# flaw -> cases that must fail because of it
EXPECT = {
    "leak": ["status_json_no_secrets"],
    "log_every_run": ["transition_logged_once"],
    "text_log": ["transition_logged_once"],
    "threshold": ["health_ready_lifecycle", "reload_good_sighup"],
    "no_watch": ["reload_good_symlink_swap"],
    "slow_ready": ["sigterm_drain", "sigint"],
    "no_drain": ["sigterm_drain", "sigint"],
    "exit_code": ["sigterm_drain", "http_edge_cases"],
    "accept_body": ["http_edge_cases"],
    "close_always": ["http_edge_cases"],
    "disabled_runs": ["liveness_disabled"],
    "reload_resets": ["reload_good_sighup"],
}


def run(env_break, cases):
    env = dict(os.environ)
    env.pop("ROLLGUARD_MOCK_BREAK", None)
    if env_break:
        env["ROLLGUARD_MOCK_BREAK"] = env_break
    args = list(RUN)
    for c in cases:
        args += ["-k", c]
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout


def main():
    bad = 0
    rc, out = run(None, [])
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if rc != 0 or " 0 failed" not in last:
        print("FAIL clean mock: %s" % out.strip().replace("\n", " | "))
        bad += 1
    else:
        print("ok clean mock: %s" % last)
    for flaw, cases in EXPECT.items():
        rc, out = run(flaw, cases)
        failed = {ln.split()[1].rstrip(":") for ln in out.splitlines() if ln.startswith("FAIL ")}
        missed = [c for c in cases if c not in failed]
        if rc != 1 or missed:
            print("FAIL flaw %s went unnoticed by %s" % (flaw, ", ".join(missed) or "(exit code)"))
            bad += 1
        else:
            print("ok flaw %s caught by %s" % (flaw, ", ".join(cases)))
    print("%d problems" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
