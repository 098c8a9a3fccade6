"""rgtest: the helpers every Python harness of rollguard shares (stdlib only).

    net      free ports, small HTTP GETs, waiting loops
    fakeapp  the fake app (/healthz, /ready, /metrics as a test sets them) and a TCP target
    traffic  a thread feeding a fake app's request counters (rate, error share, latency)
    procs    child processes: start/stop, valgrind prefix, sanitizer-clean stderr, JSON logs
    scene    the fake Kubernetes API + N rollguard sidecars scene (kube suite, demo, bench)

Use: sys.path.insert(0, os.path.join(ROOT, "tests", "pylib")); from rgtest import net
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def add_path(*parts):
    """Put ROOT/parts on sys.path once (for tests/fakeapi's `fakeapi`)."""
    p = os.path.join(ROOT, *parts)
    if p not in sys.path:
        sys.path.insert(0, p)
    return p
