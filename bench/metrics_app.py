#!/usr/bin/env python3
"""A fake application for the serving benchmarks (bench/serve.py).

    GET /healthz   200 "ok"        (rollguard's liveness probe target)
    GET /ready     200 "ready"     (rollguard's readiness probe target)
    GET /metrics   a Prometheus text page of about --size-mb megabytes

The page is a bulk part written once by bench/gen_metrics.py (runtime, kube-state
and gRPC series; its own http_* families are dropped) followed by a part rendered
on every request: http_requests_total{code=...} counters and the
http_request_duration_seconds histogram that config/rollguard.yaml reads. Those
counters grow with time (about --rps requests per second, 1 % of them 5xx), so
the daemon sees real deltas on every scrape. --size-mb 0 serves the small
rendered part alone (an ordinary app page, tens of kilobytes).

Binds 127.0.0.1 on --port (0: a free port) and prints "PORT <n>" then
"BYTES <page size>" on stdout once it listens.
"""
import argparse
import io
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_metrics  # noqa: E402  (same folder)

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
# Share of requests at or under each bound (cumulative); the rest above 10 s.
SHARES = [0.10, 0.25, 0.55, 0.80, 0.92, 0.97, 0.99, 0.995, 0.998, 0.999, 0.9995]
CODES = [("200", 0.90), ("201", 0.04), ("404", 0.05), ("500", 0.008), ("503", 0.002)]


def bulk_page(size_bytes, seed):
    """The static bulk: gen_metrics output without its http_* families."""
    if size_bytes <= 0:
        return b""
    # About 100 bytes a sample line in gen_metrics' mix.
    series = max(1000, int(size_bytes / 100))
    s = io.StringIO()
    o = gen_metrics.Out(s)
    rng = random.Random(seed)
    scale = series / 100000.0
    gen_metrics.go_runtime(o, rng)
    gen_metrics.kube_state(o, rng, max(1, int(8000 * scale * 1.33)))
    gen_metrics.grpc(o, rng, max(1, int(3200 * scale * 1.33)))
    gen_metrics.odd_values(o, rng)
    return s.getvalue().encode()


class Dynamic:
    """The http_* families, rendered from the time since start."""

    def __init__(self, rps, handlers):
        self.t0 = time.monotonic()
        self.rps = rps
        self.handlers = ["/api/v1/res%02d" % i for i in range(handlers)]
        self.methods = ["GET", "POST"]

    def render(self):
        el = time.monotonic() - self.t0
        nser = len(self.handlers) * len(self.methods)
        per = self.rps * el / nser  # requests so far per (handler, method)
        out = ["# HELP http_requests_total Total HTTP requests.\n",
               "# TYPE http_requests_total counter\n"]
        for h in self.handlers:
            for m in self.methods:
                for code, share in CODES:
                    out.append('http_requests_total{handler="%s",method="%s",code="%s"} %d\n'
                               % (h, m, code, int(per * share)))
        out.append("# HELP http_request_duration_seconds Request latency.\n")
        out.append("# TYPE http_request_duration_seconds histogram\n")
        n = int(per)
        for h in self.handlers:
            for m in self.methods:
                lab = 'handler="%s",method="%s"' % (h, m)
                for b, sh in zip(BOUNDS, SHARES):
                    out.append('http_request_duration_seconds_bucket{%s,le="%s"} %d\n'
                               % (lab, gen_metrics.fmt(b), int(n * sh)))
                out.append('http_request_duration_seconds_bucket{%s,le="+Inf"} %d\n' % (lab, n))
                out.append('http_request_duration_seconds_sum{%s} %.3f\n' % (lab, n * 0.031))
                out.append('http_request_duration_seconds_count{%s} %d\n' % (lab, n))
        return "".join(out).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "metrics-app"
    sys_version = ""

    def _send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send(200, "text/plain", b"ok\n")
        elif path == "/ready":
            self._send(200, "text/plain", b"ready\n")
        elif path == "/metrics":
            srv = self.server
            body = srv.bulk + srv.dyn.render()
            with srv.lock:
                srv.scrapes += 1
            self._send(200, "text/plain; version=0.0.4; charset=utf-8", body)
        else:
            self._send(404, "text/plain", b"not found\n")

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--size-mb", type=float, default=5.0, help="page size, MB (0: small page)")
    ap.add_argument("--rps", type=float, default=200.0, help="simulated app requests/s")
    ap.add_argument("--handlers", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.dyn = Dynamic(a.rps, a.handlers)
    dyn_len = len(srv.dyn.render())
    srv.bulk = bulk_page(int(a.size_mb * 1e6) - dyn_len, a.seed)
    srv.lock = threading.Lock()
    srv.scrapes = 0
    print("PORT %d" % srv.server_address[1], flush=True)
    print("BYTES %d" % (len(srv.bulk) + dyn_len), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
