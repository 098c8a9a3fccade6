"""Python app of the interop suite, instrumented with prometheus_client.

Run it with Debian's interpreter (/usr/bin/python3), which imports Debian's
python3-prometheus-client. A WSGI app on wsgiref with a thread per request:

  GET /work      sleeps delay_ms, then 200, or 500 for every Nth request when
                 the error share is 1/N; counted in
                 http_requests_total{method,endpoint,status} and timed in
                 http_request_duration_seconds{method,endpoint}
  GET /metrics   prometheus_client's own WSGI app (make_wsgi_app)
  GET /admin?error_share=0.1&delay_ms=40, /healthz, /ready: not instrumented
"""

import argparse
import json
import sys
import threading
import time
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import Counter, Histogram, make_wsgi_app

REQUESTS = Counter(
    "http_requests_total", "Total HTTP requests", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency in seconds", ["method", "endpoint"]
)


class Control:
    """The fault controls: error share and added delay, and a request count."""

    def __init__(self):
        self.lock = threading.Lock()
        self.error_share = 0.0
        self.delay_ms = 20.0
        self.served = 0

    def next_request(self):
        """Counts a /work request; returns (fails, delay in seconds)."""
        with self.lock:
            self.served += 1
            fails = False
            if self.error_share > 0:
                every = max(1, round(1 / self.error_share))
                fails = self.served % every == 0
            return fails, self.delay_ms / 1000.0

    def update(self, query):
        with self.lock:
            if "error_share" in query:
                self.error_share = float(query["error_share"][0])
            if "delay_ms" in query:
                self.delay_ms = float(query["delay_ms"][0])
            return {"error_share": self.error_share, "delay_ms": self.delay_ms}


CONTROL = Control()
METRICS_APP = make_wsgi_app()


def work(environ, start_response):
    started = time.perf_counter()
    fails, delay = CONTROL.next_request()
    time.sleep(delay)
    status = 500 if fails else 200
    start_response("%d %s" % (status, "Internal Server Error" if fails else "OK"),
                   [("Content-Type", "text/plain")])
    method = environ["REQUEST_METHOD"]
    REQUESTS.labels(method, "/work", str(status)).inc()
    LATENCY.labels(method, "/work").observe(time.perf_counter() - started)
    return [b"injected failure\n" if fails else b"ok\n"]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/work":
        return work(environ, start_response)
    if path == "/metrics":
        return METRICS_APP(environ, start_response)
    if path in ("/healthz", "/ready"):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    if path == "/admin":
        state = CONTROL.update(parse_qs(environ.get("QUERY_STRING", "")))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(state).encode() + b"\n"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = make_server(args.host, args.port, app, ThreadingWSGIServer, QuietHandler)
    print("python prometheus_client listening on %s:%d" % (args.host, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
