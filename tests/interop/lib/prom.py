"""A real Prometheus server (Debian's) scraping the apps, and PromQL queries."""

import json
import math
import os
import shutil
import time
import urllib.parse

from .procs import LOOPBACK, free_port, http_get

SCRAPE_INTERVAL = "1s"


def prometheus_config(targets):
    """prometheus.yml text: one job per app, targets = {job: "host:port"}."""
    lines = [
        "global:",
        "  scrape_interval: %s" % SCRAPE_INTERVAL,
        "  scrape_timeout: 900ms",
        "  evaluation_interval: %s" % SCRAPE_INTERVAL,
        "scrape_configs:",
    ]
    for job, address in targets.items():
        lines += [
            "  - job_name: %s" % json.dumps(job),
            "    metrics_path: /metrics",
            "    static_configs:",
            "      - targets: [%s]" % json.dumps(address),
        ]
    return "\n".join(lines) + "\n"


class Prometheus:
    def __init__(self, services, work_dir, data_dir):
        self.services = services
        self.work_dir = work_dir
        self.data_dir = data_dir
        self.port = free_port()
        self.base = "http://%s:%d" % (LOOPBACK, self.port)
        self.svc = None

    def start(self, targets):
        binary = shutil.which("prometheus")
        if not binary:
            raise RuntimeError("prometheus is not installed (sh tests/interop/install.sh)")
        config = os.path.join(self.work_dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(prometheus_config(targets))
        self.svc = self.services.start("prometheus", [
            binary,
            "--config.file=" + config,
            "--storage.tsdb.path=" + os.path.join(self.data_dir, "tsdb"),
            "--web.listen-address=%s:%d" % (LOOPBACK, self.port),
            "--log.level=warn",
        ])
        self.svc.wait_http(self.base + "/-/ready", timeout=60)

    def wait_targets_up(self, jobs, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            down = [j for j in jobs if self.query('up{job="%s"}' % j) != 1.0]
            if not down:
                return
            time.sleep(0.5)
        raise RuntimeError("Prometheus targets not up: %s" % ", ".join(down))

    def query(self, expr, at=None):
        """The single value of an instant query (float, NaN possible) or None if empty."""
        params = {"query": expr}
        if at is not None:
            params["time"] = "%.3f" % at
        status, body = http_get(self.base + "/api/v1/query?" + urllib.parse.urlencode(params))
        if status != 200:
            raise RuntimeError("PromQL %s: HTTP %d %s" % (expr, status, body[:200]))
        result = json.loads(body)["data"]["result"]
        if not result:
            return None
        value = float(result[0]["value"][1])
        return value if not math.isinf(value) else None
