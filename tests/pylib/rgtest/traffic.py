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
        self._carry = 0.0
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        step = 0.1
        owed_err = 0.0
        while not self._stop.wait(step):
            if self.paused:
                continue
            self._carry += self.rate * step
            n = int(self._carry)
            self._carry -= n
            owed_err += n * self.errors
            e = int(owed_err)
            owed_err -= e
            if n - e:
                self.app.advance_metrics(200, n - e, self.latency)
            if e:
                self.app.advance_metrics(500, e, self.latency)

    def stop(self):
        self._stop.set()
        self._t.join()
