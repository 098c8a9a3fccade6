"""The instrumented apps: how to start each, and what its metrics page holds.

Every app answers GET /work (delay, then 200 or a deterministic 500),
GET /admin?error_share=S&delay_ms=D, /healthz and /ready (200) and
/metrics (served by its instrumentation library). Only /work is counted.
"""

import os
import subprocess
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_DIR = os.path.join(HERE, "node")
DEBIAN_PYTHON = "/usr/bin/python3"  # imports Debian's python3-prometheus-client
GOPATH = "/usr/share/gocode"        # Debian's Go library packages (GOPATH mode)


@dataclass
class AppSpec:
    name: str            # job name, block file blocks/<name>.yaml
    library: str         # what instruments it
    argv: list           # command; "{port}" and "{build}" are replaced
    requests: str        # the series counting requests (PromQL and rollguard)
    error_label: str     # the label that tells a 5xx
    histogram: str       # latency histogram, without _bucket
    unit: str            # "seconds" or "milliseconds": the le unit
    preset: str = ""     # an app.metrics.preset that should read it too (a third daemon)
    needs_build: bool = False
    env: dict = field(default_factory=dict)

    def command(self, port, build_dir):
        return [a.replace("{port}", str(port)).replace("{build}", build_dir) for a in self.argv]

    @property
    def to_seconds(self):
        return 0.001 if self.unit == "milliseconds" else 1.0

    @property
    def block_path(self):
        return os.path.join(HERE, "blocks", self.name + ".yaml")


def _node(script, *extra):
    return ["node", os.path.join(NODE_DIR, script)] + list(extra) + ["--port", "{port}"]


APPS = [
    AppSpec("prom-client", "express 5 + prom-client 15",
            _node("prom_client_app.js"),
            requests="http_requests_total", error_label="status_code",
            histogram="http_request_duration_seconds", unit="seconds"),
    AppSpec("express-prom-bundle", "express 5 + express-prom-bundle 8 (defaults)",
            _node("prom_bundle_app.js"),
            requests="http_request_duration_seconds_count", error_label="status_code",
            histogram="http_request_duration_seconds", unit="seconds"),
    AppSpec("otel-js-legacy", "OpenTelemetry JS 0.52 (exporter-prometheus, instrumentation-http)",
            _node("otel_app.js", "--generation", "legacy"),
            requests="http_server_duration_count", error_label="http_status_code",
            histogram="http_server_duration", unit="milliseconds", preset="otel"),
    AppSpec("otel-js-stable", "OpenTelemetry JS 0.223 (exporter-prometheus, instrumentation-http)",
            _node("otel_app.js", "--generation", "stable"),
            requests="http_server_request_duration_count", error_label="http_response_status_code",
            histogram="http_server_request_duration", unit="seconds", preset="otel"),
    AppSpec("python-prometheus-client", "Debian python3-prometheus-client (wsgiref)",
            [DEBIAN_PYTHON, os.path.join(HERE, "python", "app.py"), "--port", "{port}"],
            requests="http_requests_total", error_label="status",
            histogram="http_request_duration_seconds", unit="seconds"),
    AppSpec("go-client-golang", "Debian golang-github-prometheus-client-golang-dev (promhttp)",
            ["{build}/go-app", "--port", "{port}"],
            requests="http_requests_total", error_label="code",
            histogram="http_request_duration_seconds", unit="seconds", needs_build=True),
]


def select(only):
    """The apps to run: all, or the comma-separated names in `only`."""
    if not only:
        return list(APPS)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in {a.name for a in APPS}]
    if unknown:
        raise SystemExit("unknown app %s; apps: %s"
                         % (", ".join(unknown), ", ".join(a.name for a in APPS)))
    return [a for a in APPS if a.name in names]


def build_go_app(build_dir):
    """Builds go/main.go in GOPATH mode into build_dir/go-app."""
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, CGO_ENABLED="0")
    env.setdefault("GOCACHE", os.path.join(build_dir, "gocache"))
    subprocess.run(["go", "build", "-o", os.path.join(build_dir, "go-app"), "main.go"],
                   cwd=os.path.join(HERE, "go"), env=env, check=True)


def prerequisites(apps):
    """Problems that stop the run before it starts (install.sh fixes them)."""
    problems = []
    if any(a.argv[0] == "node" for a in apps):
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
            problems.append("tests/interop/node/node_modules is missing (npm ci)")
    if any(a.argv[0] == DEBIAN_PYTHON for a in apps):
        r = subprocess.run([DEBIAN_PYTHON, "-c", "import prometheus_client"],
                           capture_output=True)
        if r.returncode != 0:
            problems.append("%s cannot import prometheus_client (python3-prometheus-client)"
                            % DEBIAN_PYTHON)
    if any(a.needs_build for a in apps):
        if not os.path.isdir(os.path.join(GOPATH, "src", "github.com", "prometheus",
                                          "client_golang")):
            problems.append("client_golang is not in %s (golang-github-prometheus-client-"
                            "golang-dev)" % GOPATH)
    return problems
