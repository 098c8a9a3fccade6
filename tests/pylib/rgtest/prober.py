"""The probe watcher: GET /health and /ready on every target about every 100 ms from a
process of its own (its timings do not wait for the test runner's threads, nor share its
interpreter lock), and the checks over what it saw.

    prober = Prober(workdir, targets)   # targets: ports, (host, port) or pods (.ip, .port)
    ...
    prober.check(target, t0, t1)        # every answer right and within PROBE_MAX_MS
    prober.stop()

Run as a script it is the watcher itself: prober.py OUT host:port ...
"""

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

PROBE_MAX_MS = 50

_seq = itertools.count()


def _target(t):
    """(host, port) of a port, a (host, port) pair or an object with .ip and .port."""
    if isinstance(t, int):
        return ("127.0.0.1", t)
    if isinstance(t, tuple):
        return t
    return (t.ip, t.port)


def _key(t):
    return "%s:%d" % _target(t)


def watch(targets, out):
    """GET /health and /ready on every (host, port) of targets, one after the other, about
    every 100 ms; one JSON line per answer {t, target, path, code, ms} into out (code 0: no
    answer within 1 s), until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())

    def one(host, port, path):
        t0 = time.time()
        code = 0
        try:
            s = socket.create_connection((host, port), timeout=1)
            try:
                s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                           % (path, host)).encode())
                head = b""
                while b"\r\n" not in head:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                code = int(head.split(b" ", 2)[1]) if head else 0
            finally:
                s.close()
        except (OSError, ValueError, IndexError):
            code = 0
        return {"t": t0, "target": "%s:%d" % (host, port), "path": path, "code": code,
                "ms": (time.time() - t0) * 1000.0}

    with open(out, "w", buffering=1) as f:
        # one after the other: a stuck daemon shows as its own slow or missing answers
        while not stop.is_set():
            t_round = time.time()
            for host, port in targets:
                for path in ("/health", "/ready"):
                    f.write(json.dumps(one(host, port, path)) + "\n")
            stop.wait(max(0.0, 0.1 - (time.time() - t_round)))


class Prober:
    """The watcher process over targets, its answers written to a file in workdir."""

    def __init__(self, workdir, targets):
        self.out = os.path.join(workdir, "probes-%d-%d.jsonl" % (os.getpid(), next(_seq)))
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), self.out]
                                  + [_key(t) for t in targets])

    def samples(self, target, t0, t1):
        """The answers of target that began at t0 or later and ended by t1."""
        out = []
        want = _key(target)
        try:
            f = open(self.out)
        except OSError:
            return out
        with f:
            for line in f:
                try:
                    s = json.loads(line)
                except ValueError:  # the line being written
                    continue
                if s["target"] == want and t0 <= s["t"] and s["t"] + s["ms"] / 1000.0 <= t1:
                    out.append(s)
        return out

    def check(self, target, t0, t1, ready=200, what="", context=False):
        """Every probe of target between t0 and t1: /health 200, /ready `ready`, each within
        PROBE_MAX_MS (context: the answers around the span in the message when too few).
        Returns (answers, slowest ms)."""
        what = what or getattr(target, "name", None) or _key(target)
        ss = self.samples(target, t0, t1)
        assert len(ss) >= 2 * int((t1 - t0) / 0.5), "%s: only %d probe answers in %.1f s%s" % (
            what, len(ss), t1 - t0, ": %s" % self.samples(target, t0 - 1, t1 + 1)
            if context else "")
        bad = [s for s in ss if s["code"] != (200 if s["path"] == "/health" else ready)]
        assert not bad, "%s: probe answers %s" % (what, bad[:5])
        slow = [s for s in ss if s["ms"] > PROBE_MAX_MS]
        assert not slow, "%s: probes slower than %d ms: %s" % (what, PROBE_MAX_MS, slow[:5])
        return len(ss), max(s["ms"] for s in ss)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


if __name__ == "__main__":
    watch([(h, int(p)) for h, _, p in (a.rpartition(":") for a in sys.argv[2:])], sys.argv[1])
