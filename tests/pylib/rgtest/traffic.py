"""Traffic: what a fake app's /metrics counts, as if it served requests."""

import threading


class Traffic:
    """Feeds a FakeApp's /metrics counters from a thread: `rate` requests a second, a
    share `errors` of them answered 500, latencies `latency` s. rate, errors and latency
    may be changed while it runs; `paused` stops counting (a stopped app serves nothing)."""

    def __init__(self, app, rate=100, errors=0.0, latency=0.02):
        self.app, self.rate, self.errors, self.latency = app, rate, errors, latency
        self._stop = threading.Event()
        self.paused = False
        self._carry = self._owed_err = 0.0
        # The first tenth of a second is counted at once: a labelled counter is on the page
        # only from the app's first request, and a daemon started next must find it there
        # however late the thread gets its first turn on a loaded machine.
        self._count(0.1)
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _count(self, step):
        self._carry += self.rate * step
        n = int(self._carry)
        self._carry -= n
        self._owed_err += n * self.errors
        e = int(self._owed_err)
        self._owed_err -= e
        if n - e:
            self.app.advance_metrics(200, n - e, self.latency)
        if e:
            self.app.advance_metrics(500, e, self.latency)

    def _run(self):
        step = 0.1
        while not self._stop.wait(step):
            if not self.paused:
                self._count(step)

    def stop(self):
        self._stop.set()
        self._t.join()
