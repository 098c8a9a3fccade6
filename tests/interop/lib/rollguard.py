"""rollguard daemons against the apps: their configs, /status timelines, check-metrics."""

import json
import os
import re
import subprocess
import threading
import time

from .procs import LOOPBACK, http_get

# Short timings so that a whole run takes a few minutes.
TIMINGS = {
    "metrics_interval_s": 1.0,
    "interval_s": 2.0,
    "window_s": 20.0,
    "warmup_s": 4.0,
    "baseline_window_s": 40.0,
    "consecutive_breaches": 2,
    "error_rate_max": 0.05,
    "min_requests": 20,
    "min_samples": 20,
}


def block_metrics_lines(block_text, source="block"):
    """The lines under app: metrics: of a README block, indented for that spot.

    A block is exactly `app:` / `  metrics:` / keys indented deeper (comments
    and blank lines allowed); anything else is refused.
    """
    lines = [l for l in block_text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    if len(lines) < 2 or lines[0].rstrip() != "app:" or lines[1].rstrip() != "  metrics:":
        raise ValueError("%s: must start with 'app:' then '  metrics:'" % source)
    body = lines[2:]
    for l in body:
        if not l.startswith("    "):
            raise ValueError("%s: only app.metrics keys may follow: %r" % (source, l))
    return body


def daemon_config(listen_port, app_port, block_text=None, source="block"):
    """A rollguard config for one app: the block's app.metrics keys, or none but url."""
    t = TIMINGS
    app = "http://%s:%d" % (LOOPBACK, app_port)
    metrics = [
        '    url: "%s/metrics"' % app,
        "    interval: %gs" % t["metrics_interval_s"],
        "    timeout: 900ms",
    ]
    if block_text is not None:
        metrics += block_metrics_lines(block_text, source)
    return "\n".join([
        'listen: "%s:%d"' % (LOOPBACK, listen_port),
        'admin_listen: ""',
        "log: {level: info, format: json}",
        "app:",
        "  liveness:",
        '    http: {url: "%s/healthz", timeout: 500ms}' % app,
        "    period: 1s",
        "  readiness:",
        '    http: {url: "%s/ready", timeout: 500ms}' % app,
        "    period: 1s",
        "  metrics:",
    ] + metrics + [
        "analysis:",
        "  interval: %gs" % t["interval_s"],
        "  window: %gs" % t["window_s"],
        "  warmup: %gs" % t["warmup_s"],
        "  baseline_window: %gs" % t["baseline_window_s"],
        "  consecutive_breaches: %d" % t["consecutive_breaches"],
        "  error_rate: {max: %g, min_requests: %d}" % (t["error_rate_max"], t["min_requests"]),
        "  latency: {min_samples: %d}" % t["min_samples"],
        "rollback:",
        '  mode: "off"',
        "",
    ])


def mismatched_block(block_text, label="nosuchlabel"):
    """The block with its error_label replaced by a label no page has."""
    text, n = re.subn(r"error_label:\s*[^,}\s]+", "error_label: " + label, block_text)
    if n != 1:
        raise ValueError("block has no single error_label to replace")
    return text


class Verdict:
    """One verdict from /status, with the wall-clock time it was first seen."""

    def __init__(self, seen_at, analysis):
        self.seen_at = seen_at
        self.outcome = analysis.get("outcome")
        self.rule = analysis.get("rule")
        self.reason = analysis.get("reason", "")
        self.t_ms = analysis.get("t_ms")
        self.window_ms = analysis.get("window_ms") or 0
        self.rules = {r.get("rule"): r for r in analysis.get("rules", [])}

    def evidence(self, rule):
        return self.rules.get(rule, {})

    def brief(self):
        parts = ["%s" % self.outcome]
        for name in ("error_rate", "latency"):
            e = self.evidence(name)
            parts.append("%s=%s%s" % (name, e.get("state"),
                                      " (%s)" % e["reason"] if e.get("reason") else ""))
        return ", ".join(parts)


class Daemon:
    """A rollguard daemon and a thread recording every new verdict on /status."""

    POLL_S = 0.2

    def __init__(self, services, binary, work_dir, name, port, config_text):
        self.name = name
        self.port = port
        self.config_path = os.path.join(work_dir, name + ".yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.svc = services.start("rollguard-" + name, [binary, "--config", self.config_path])
        self.verdicts = []
        self.last_status = None
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None

    @property
    def base(self):
        return "http://%s:%d" % (LOOPBACK, self.port)

    def start_polling(self):
        self.svc.wait_http(self.base + "/livez", timeout=15)
        self.thread = threading.Thread(target=self._poll, name="status-" + self.name, daemon=True)
        self.thread.start()

    def stop_polling(self):
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=5)

    def _poll(self):
        while not self.stopping.wait(self.POLL_S):
            status, body = http_get(self.base + "/status", timeout=1.0)
            if status != 200:
                continue
            try:
                doc = json.loads(body)
            except ValueError:
                continue
            analysis = doc.get("analysis")
            with self.lock:
                self.last_status = doc
                if analysis and (not self.verdicts or
                                 self.verdicts[-1].t_ms != analysis.get("t_ms")):
                    self.verdicts.append(Verdict(time.time(), analysis))

    def timeline(self, since=None, until=None):
        with self.lock:
            return [v for v in self.verdicts
                    if (since is None or v.seen_at >= since) and (until is None or v.seen_at <= until)]

    def reading(self):
        """/status scrape.reading: what the daemon reads from the page, or None."""
        with self.lock:
            scrape = (self.last_status or {}).get("scrape") or {}
        return scrape.get("reading")

    def latest(self):
        with self.lock:
            return self.verdicts[-1] if self.verdicts else None


def check_metrics(binary, url, config_path=None, timeout=30):
    """Runs `rollguard check-metrics URL [--config FILE]`: (exit status, output)."""
    argv = [binary, "check-metrics", url]
    if config_path:
        argv += ["--config", config_path]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "timed out after %ds" % timeout
    return r.returncode, r.stdout + r.stderr
