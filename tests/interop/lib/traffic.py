"""Paced, deterministic request traffic to one app's GET /work."""

import http.client
import threading
import time


class Traffic:
    """`rate` requests per second spread over `workers` keep-alive connections.

    Which requests fail and how slow they are is up to the app (its /admin
    controls); this only keeps the pace and counts what came back.
    """

    def __init__(self, name, host, port, rate, workers=8, path="/work"):
        self.name = name
        self.host = host
        self.port = port
        self.rate = float(rate)
        self.workers = workers
        self.path = path
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.by_status = {}
        self.threads = []

    def start(self):
        t0 = time.monotonic()
        for i in range(self.workers):
            th = threading.Thread(target=self._worker, args=(t0 + i / self.rate,),
                                  name="traffic-%s-%d" % (self.name, i), daemon=True)
            th.start()
            self.threads.append(th)

    def stop(self):
        self.stopping.set()
        for th in self.threads:
            th.join(timeout=10)

    def counts(self):
        with self.lock:
            return dict(self.by_status)

    def _count(self, status):
        with self.lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1

    def _worker(self, next_at):
        step = self.workers / self.rate
        conn = None
        while not self.stopping.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stopping.wait(delay)
            elif delay < -1.0:
                next_at = time.monotonic()  # far behind: do not burst to catch up
            next_at += step
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                self._count(resp.status)
            except (OSError, http.client.HTTPException):
                self._count("no answer")
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
