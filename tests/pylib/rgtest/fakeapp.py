"""A fake application for the Python harnesses (integration, kube, ship, the scene).

One ThreadingHTTPServer on 127.0.0.1:0, served from a thread of the test
process. A test decides at runtime how each path answers (status code, delay,
hang, close without a reply), reads how many requests each path received, and
advances the Prometheus counters and histogram served on /metrics.

Standard library only.
"""

import http.server
import socket
import threading
import time

# Buckets of the fake app's http_request_duration_seconds histogram.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# How long a "hang" lasts at most: a hung handler must not outlive the test.
HANG_LIMIT_S = 30.0


class Behaviour:
    """How one path answers. mode: 'reply' | 'hang' | 'close' | 'reset' | 'stream'.

    body: str or bytes, or a list of them served in turn (one per request,
    cycling); None serves the default ("status N", or the metrics page).
    'stream' sends `stream_bytes` bytes of metric-shaped lines in 64 KiB
    writes (with a Content-Length when `length` is true, else until the
    connection closes), stopping early when the peer goes away.
    """

    def __init__(self, status=200, delay=0.0, mode="reply", body=None, ctype=None,
                 stream_bytes=0, length=True):
        if mode not in ("reply", "hang", "close", "reset", "stream"):
            raise ValueError("unknown mode %r" % mode)
        self.status = status
        self.delay = delay
        self.mode = mode
        self.body = body
        self.ctype = ctype
        self.stream_bytes = stream_bytes
        self.length = length
        self.served = 0  # requests answered with this behaviour (for body lists)

    def next_body(self):
        if isinstance(self.body, list):
            b = self.body[self.served % len(self.body)]
        else:
            b = self.body
        self.served += 1
        return b.encode() if isinstance(b, str) else b

    def __repr__(self):
        return "Behaviour(status=%r, delay=%r, mode=%r)" % (self.status, self.delay, self.mode)


class _Metrics:
    """The app's own request metrics, advanced by the test."""

    def __init__(self):
        self.requests = {}  # code (str) -> count
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.count = 0
        self.sum = 0.0
        self.latencies = {}  # code -> latency (s) -> count: other page shapes re-bucket these
        self.last_latency = 0.0
        self.shape = None  # a function of this object returning a page; None: render()

    def advance(self, code, n, latency):
        code = str(code)
        self.requests[code] = self.requests.get(code, 0) + n
        for i, le in enumerate(LATENCY_BUCKETS):
            if latency <= le:
                self.buckets[i] += n
        self.count += n
        self.sum += n * latency
        per = self.latencies.setdefault(code, {})
        per[latency] = per.get(latency, 0) + n
        self.last_latency = latency

    def page(self):
        return self.shape(self) if self.shape else self.render()

    def render(self):
        out = [
            "# HELP http_requests_total Requests served, by status code.",
            "# TYPE http_requests_total counter",
        ]
        for code in sorted(self.requests):
            out.append('http_requests_total{code="%s"} %d' % (code, self.requests[code]))
        out += [
            "# HELP http_request_duration_seconds Request latency.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for i, le in enumerate(LATENCY_BUCKETS):
            out.append('http_request_duration_seconds_bucket{le="%s"} %d' % (le, self.buckets[i]))
        out.append('http_request_duration_seconds_bucket{le="+Inf"} %d' % self.count)
        out.append("http_request_duration_seconds_sum %.6f" % self.sum)
        out.append("http_request_duration_seconds_count %d" % self.count)
        return "\n".join(out) + "\n"


class FakeApp:
    """The fake app. Use as a context manager, or call start() and stop()."""

    def __init__(self):
        self._lock = threading.Lock()
        self._behaviour = {
            "/healthz": Behaviour(200),
            "/ready": Behaviour(200),
            "/metrics": Behaviour(200),
        }
        self._counts = {}
        self._served = {}  # path -> list of (monotonic time, status or mode)
        self._last_headers = {}
        self._metrics = _Metrics()
        self._release = threading.Event()
        self._conns = set()  # sockets of requests being served (down() cuts them)
        self.streamed = []   # bytes written by each 'stream' reply, in order
        self._stopping = False
        self._server = None
        self._thread = None
        self.port = None

    # --- lifecycle -------------------------------------------------------

    def start(self):
        app = self

        class Handler(_Handler):
            fake = app

        self._server = _Server(("127.0.0.1", self.port or 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fakeapp", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        with self._lock:
            self._stopping = True
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def down(self):
        """Like a process exit: stop listening (connects are refused) and cut
        every open connection, keep-alive ones included."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def up(self):
        """Listen again on the same port after down()."""
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what the test controls ------------------------------------------

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def set(self, path, status=200, delay=0.0, mode="reply", body=None, ctype=None,
            stream_bytes=0, length=True):
        """From now on, `path` answers as described (see Behaviour). A hang
        ends on release()."""
        b = Behaviour(status, delay, mode, body, ctype, stream_bytes, length)
        with self._lock:
            self._behaviour[path] = b
            if mode != "hang":
                # Leave earlier hangs alone only if some path still hangs.
                if not any(x.mode == "hang" for x in self._behaviour.values()):
                    self._release.set()
            else:
                self._release.clear()

    def release(self):
        """End every hung request (they close without a reply)."""
        self._release.set()

    def count(self, path):
        with self._lock:
            return self._counts.get(path, 0)

    def counts(self):
        with self._lock:
            return dict(self._counts)

    def served_since(self, path, t0, outcome=None):
        """Requests to path that started at or after monotonic time t0."""
        with self._lock:
            return sum(1 for (t, o) in self._served.get(path, ())
                       if t >= t0 and (outcome is None or o == outcome))

    def last_headers(self, path):
        with self._lock:
            return self._last_headers.get(path)

    def reset_metrics(self):
        """Every counter back to 0, as after a restart of the app."""
        with self._lock:
            shape = self._metrics.shape
            self._metrics = _Metrics()
            self._metrics.shape = shape

    def set_shape(self, fn):
        """Serve /metrics as fn(metrics) renders it (see pageshapes.py); None: the default."""
        with self._lock:
            self._metrics.shape = fn

    def advance_metrics(self, code=200, n=1, latency=0.01):
        """Add n requests answered with `code` that took `latency` seconds."""
        with self._lock:
            self._metrics.advance(code, n, latency)

    # --- used by the handler ----------------------------------------------

    def _enter(self, path, headers):
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1
            self._last_headers[path] = headers
            b = self._behaviour.get(path)
            if b is not None and b.mode == "reply" and b.body is not None:
                body = b.next_body()
            elif path == "/metrics" and b is not None and b.mode == "reply" and b.status == 200:
                body = self._metrics.page().encode()
            else:
                body = None
            outcome = (b.mode if b.mode != "reply" else b.status) if b else 404
            self._served.setdefault(path, []).append((time.monotonic(), outcome))
            return b, body


PROM_CTYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hung handler must not block stop()
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        pass  # a probe that gives up resets its connection: normal here


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None  # set by FakeApp.start

    def log_message(self, fmt, *args):  # keep the runner's output clean
        pass

    def setup(self):
        super().setup()
        with self.fake._lock:
            self.fake._conns.add(self.connection)

    def finish(self):
        with self.fake._lock:
            self.fake._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self):
        self._serve(send_body=True)

    def do_HEAD(self):
        self._serve(send_body=False)

    def _serve(self, send_body):
        path = self.path.split("?", 1)[0]
        b, body = self.fake._enter(path, dict(self.headers.items()))
        if b is None:
            self._reply(404, b"not found\n", "text/plain", send_body)
            return
        if b.delay > 0:
            time.sleep(b.delay)
        if b.mode == "hang":
            self.fake._release.wait(HANG_LIMIT_S)
            self._drop(reset=False)
            return
        if b.mode == "close":
            self._drop(reset=False)
            return
        if b.mode == "reset":
            self._drop(reset=True)
            return
        if b.mode == "stream":
            self._stream(b, send_body)
            return
        if body is not None:
            ctype = b.ctype or (PROM_CTYPE if path == "/metrics" else "text/plain")
            self._reply(b.status, body, ctype, send_body)
            return
        self._reply(b.status, ("status %d\n" % b.status).encode(), "text/plain", send_body)

    def _stream(self, b, send_body):
        """A huge page of valid-looking metric lines, written until done or
        until the peer stops reading."""
        line = b'http_requests_total{code="200",padding="%s"} 1\n' % (b"x" * 64)
        chunk = line * (65536 // len(line))
        self.close_connection = True
        with self.fake._lock:
            i = len(self.fake.streamed)
            self.fake.streamed.append(0)
        try:
            self.send_response(200)
            self.send_header("Content-Type", PROM_CTYPE)
            if b.length:
                self.send_header("Content-Length", str(b.stream_bytes))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            left = b.stream_bytes if send_body else 0
            while left > 0:
                part = chunk[:left]
                self.wfile.write(part)
                left -= len(part)
                with self.fake._lock:
                    self.fake.streamed[i] += len(part)
            self.wfile.flush()
        except OSError:
            pass

    def _reply(self, status, body, ctype, send_body):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _drop(self, reset):
        """Close the connection without a reply (RST when reset)."""
        self.close_connection = True
        try:
            if reset:
                import struct
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class TcpTarget:
    """A bare TCP listener for tcp readiness probes: accepts and closes.

    stop() closes the listening socket (probes then get ECONNREFUSED);
    start() listens again on the same port.
    """

    def __init__(self, port=0):
        self.port = port
        self.accepted = 0
        self._sock = None
        self._thread = None
        self._lock = threading.Lock()

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        s.settimeout(0.05)
        self.port = s.getsockname()[1]
        self._sock = s
        self._thread = threading.Thread(target=self._loop, args=(s,), daemon=True,
                                        name="tcptarget")
        self._thread.start()
        return self

    def _loop(self, s):
        while self._sock is s:
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
            c.close()

    def stop(self):
        s, self._sock = self._sock, None
        if s is not None:
            s.close()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
