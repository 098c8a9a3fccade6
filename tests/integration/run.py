#!/usr/bin/env python3
"""Integration tests: the real rollguard binary against a fake app on loopback.

    python3 tests/integration/run.py --binary build/rollguard [--valgrind] [-k PATTERN] [-v]

Each case starts its own daemon with its own config and ports, talks to it
like a kubelet (and like Prometheus and an SRE), and stops it with SIGTERM,
which must end in exit code 0 (under valgrind: valgrind's verdict).

Prints one line per case (`ok NAME (1.2s)` or `FAIL NAME: reason`), then
`N passed, N failed[, N skipped]`. Exits 1 when any case failed, 2 on a
usage error. Standard library only.
"""

import argparse
import fnmatch
import os
import shutil
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import OPT, CaseFail, CaseSkip, Ctx  # noqa: E402
import cases  # noqa: E402
import cases_doctor  # noqa: E402,F401  (registers its cases after those of cases.py)

# Plain-run budget of one case; past it the watchdog kills the daemons, which
# makes the case fail quickly instead of hanging the run.
CASE_BUDGET_S = 30.0
# How much slower everything is under valgrind (deadlines and latency bounds).
VALGRIND_SLOWDOWN = 10.0


def selected(name, patterns):
    if not patterns:
        return True
    for p in patterns:
        if any(c in p for c in "*?["):
            if fnmatch.fnmatchcase(name, p):
                return True
        elif p in name:
            return True
    return False


def run_case(name, fn):
    """Returns (verdict, detail, seconds); verdict is 'ok', 'FAIL' or 'skip'."""
    ctx = Ctx(name)
    expired = threading.Event()

    def watchdog():
        expired.set()
        harness.kill_all_live()
        for a in ctx.apps:
            a.release()

    timer = threading.Timer(harness.scaled(CASE_BUDGET_S), watchdog)
    timer.daemon = True
    t0 = time.monotonic()
    timer.start()
    verdict, detail = "ok", ""
    try:
        fn(ctx)
    except CaseFail as e:
        verdict, detail = "FAIL", str(e)
    except CaseSkip as e:
        verdict, detail = "skip", str(e)
    except Exception as e:  # a harness bug or an unexpected reply: still a failure
        verdict = "FAIL"
        detail = "%s: %s" % (type(e).__name__, e)
        if isinstance(e, (OSError, harness.ConnClosed)):
            detail = "no answer from the daemon (%s)" % detail
        for d in ctx.daemons:
            if d.proc is not None and d.proc.poll() is not None and not d.stopped_by_test:
                detail += "; %s had exited with %s" % (d.name, d.describe_exit(d.proc.poll()))
        if OPT.verbose:
            detail += "\n" + traceback.format_exc()
    finally:
        timer.cancel()
    if expired.is_set():
        verdict = "FAIL"
        detail = "watchdog: case exceeded %.0fs (then: %s)" % (harness.scaled(CASE_BUDGET_S),
                                                                detail or "no error")
    problems = ctx.teardown(verdict == "FAIL")
    if problems:
        if verdict == "ok":
            verdict, detail = "FAIL", "; ".join(problems)
        elif verdict == "FAIL":
            detail += "; also " + "; ".join(problems)
    if verdict == "FAIL" and OPT.verbose:
        for d in ctx.daemons:
            detail += "\n    --- %s stderr (last lines):\n    %s" % (
                d.name, d.log_tail(20).replace(" | ", "\n    "))
        if ctx.wd.keep:
            detail += "\n    (files kept in %s)" % ctx.wd.path
    return verdict, detail, time.monotonic() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="the rollguard binary to test")
    ap.add_argument("--valgrind", action="store_true",
                    help="run every daemon under valgrind memcheck (slower deadlines)")
    ap.add_argument("-k", action="append", default=[], metavar="PATTERN",
                    help="run cases whose name contains PATTERN (or matches a glob); "
                         "repeatable")
    ap.add_argument("-v", action="store_true", help="show steps, and logs of failed cases")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args(argv)

    if args.list:
        for name, _ in cases.CASES:
            print(name)
        return 0

    binary = os.path.abspath(args.binary)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        ap.error("not an executable file: %s" % args.binary)
    if args.valgrind and shutil.which("valgrind") is None:
        ap.error("--valgrind given but valgrind is not in PATH")

    OPT.binary = binary
    OPT.valgrind = args.valgrind
    OPT.verbose = args.v
    OPT.slow = VALGRIND_SLOWDOWN if args.valgrind else 1.0

    todo = [(n, f) for n, f in cases.CASES if selected(n, args.k)]
    if not todo:
        ap.error("no case matches %s" % " ".join(args.k))

    passed = failed = skipped = 0
    try:
        for name, fn in todo:
            if OPT.verbose:
                print("-- %s" % name, flush=True)
            verdict, detail, secs = run_case(name, fn)
            if verdict == "ok":
                passed += 1
                print("ok %s (%.1fs)" % (name, secs), flush=True)
            elif verdict == "skip":
                skipped += 1
                print("skip %s: %s" % (name, detail), flush=True)
            else:
                failed += 1
                print("FAIL %s: %s" % (name, detail), flush=True)
    except KeyboardInterrupt:
        harness.kill_all_live()
        print("interrupted", flush=True)
        failed += 1
    summary = "%d passed, %d failed" % (passed, failed)
    if skipped:
        summary += ", %d skipped" % skipped
    print(summary, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
