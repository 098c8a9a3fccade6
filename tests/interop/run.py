#!/usr/bin/env python3
"""Interop suite: rollguard against apps instrumented with real libraries.

    python3 tests/interop/run.py --binary build/rollguard [--only NAME[,NAME]] [--keep]

Starts every app (tests/interop/README.md lists them) on a free loopback
port, one real Prometheus scraping them all every second, two rollguard
daemons per app (one with the app's README block from blocks/<app>.yaml,
one with no app.metrics naming keys at all; a third with only `preset: otel`
for the OpenTelemetry apps) and paced traffic per app, then
runs the phases healthy, 10 % errors, healthy again, 2x latency. Each check
prints a PASS or FAIL line with its figures; the last line is
`N passed, M failed`, and the exit status is 1 when any check failed.
Standard library only; the Python app itself runs on Debian's /usr/bin/python3.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import apps as appdefs  # noqa: E402
from lib import checks  # noqa: E402
from lib.procs import LOOPBACK, ServiceSet, free_port, http_get  # noqa: E402
from lib.prom import Prometheus  # noqa: E402
from lib.report import Report  # noqa: E402
from lib.rollguard import Daemon, daemon_config, mismatched_block  # noqa: E402
from lib.traffic import Traffic  # noqa: E402

RATE = 100.0            # requests per second per app
HEALTHY_DELAY_MS = 20   # added to every /work request
SLOW_DELAY_MS = 40      # the 2x latency phase
ERROR_SHARE = 0.1       # every 10th request answers 500
PHASE_S = {"healthy": 30, "errors": 26, "recovery": 20, "latency": 25}
CHECK_METRICS_AT_S = 8  # into the healthy phase: every series has appeared
STEADY_S = 6            # the end of the healthy phase, where every verdict must be PASS


class Target:
    """One app under test: its process, traffic, PromQL and two daemons."""

    def __init__(self, spec):
        self.spec = spec
        self.port = free_port()
        self.svc = None
        self.traffic = None
        self.queries = None
        self.daemons = {}
        self.block_config = None     # the block daemon's config, for check-metrics
        self.mismatch_config = None  # the block with error_label: nosuchlabel

    @property
    def url(self):
        return "http://%s:%d" % (LOOPBACK, self.port)

    def set_faults(self, error_share, delay_ms):
        """Sets the app's error share and added delay; returns when it took them."""
        status, body = http_get("%s/admin?error_share=%g&delay_ms=%g"
                                % (self.url, error_share, delay_ms))
        if status != 200:
            raise RuntimeError("%s: /admin answered %d %s" % (self.spec.name, status, body))
        return time.time()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True, help="the rollguard binary to test")
    p.add_argument("--only", help="comma-separated app names (default: all)")
    p.add_argument("--keep", action="store_true", help="keep the work dir (logs, configs)")
    return p.parse_args()


# ---- setting up ------------------------------------------------------------------

def start_apps(targets, services, build_dir):
    if any(t.spec.needs_build for t in targets):
        appdefs.build_go_app(build_dir)
    for t in targets:
        t.svc = services.start("app-" + t.spec.name, t.spec.command(t.port, build_dir),
                               env=t.spec.env, cwd=appdefs.HERE)
    for t in targets:
        t.svc.wait_http(t.url + "/healthz", timeout=30)
        t.set_faults(0, HEALTHY_DELAY_MS)


def start_prometheus(targets, services, work_dir, data_dir):
    prom = Prometheus(services, work_dir, data_dir)
    prom.start({t.spec.name: "%s:%d" % (LOOPBACK, t.port) for t in targets})
    prom.wait_targets_up([t.spec.name for t in targets])
    for t in targets:
        t.queries = checks.AppQueries(prom, t.spec)


def daemon_blocks(t, block):
    """{mode: (app.metrics block text or None, its name for messages)} for one app."""
    blocks = {"block": (block, t.spec.block_path), "no-keys": (None, "")}
    if t.spec.preset:
        blocks["preset-" + t.spec.preset] = (
            "app:\n  metrics:\n    preset: %s\n" % t.spec.preset, "preset")
    return blocks


def start_daemons(report, targets, services, binary, work_dir):
    """Per app: a daemon on its README block, one on no naming keys, one on its preset
    if it has one; and a config with a wrong error_label for check-metrics."""
    for t in targets:
        with open(t.spec.block_path) as f:
            block = f.read()
        for mode, (text, source) in daemon_blocks(t, block).items():
            port = free_port()
            t.daemons[mode] = Daemon(services, binary, work_dir, "%s-%s" % (t.spec.name, mode),
                                     port, daemon_config(port, t.port, text, source))
        t.block_config = t.daemons["block"].config_path
        t.mismatch_config = os.path.join(work_dir, t.spec.name + "-mismatch.yaml")
        with open(t.mismatch_config, "w") as f:
            f.write(daemon_config(free_port(), t.port, mismatched_block(block), "mismatch"))
    for t in targets:
        for mode, d in list(t.daemons.items()):
            try:
                d.start_polling()
            except RuntimeError as e:  # e.g. the binary refuses the config: judge the rest
                report.check(checks.label(t, mode, "daemon started"), False, str(e))
                del t.daemons[mode]


def start_traffic(targets):
    for t in targets:
        t.traffic = Traffic(t.spec.name, LOOPBACK, t.port, RATE)
        t.traffic.start()


def set_phase(targets, error_share, delay_ms):
    """Sets every app; returns {app name: wall time the app took the setting}."""
    return {t.spec.name: t.set_faults(error_share, delay_ms) for t in targets}


def sleep_until(t):
    delay = t - time.time()
    if delay > 0:
        time.sleep(delay)


def each_daemon(targets):
    for t in targets:
        for mode in t.daemons:
            yield t, mode


# ---- the phases ------------------------------------------------------------------

def phase_healthy(report, targets, binary):
    report.line("# phase healthy: %d s, 0 %% errors, %d ms per request"
                % (PHASE_S["healthy"], HEALTHY_DELAY_MS))
    t0 = time.time()
    sleep_until(t0 + CHECK_METRICS_AT_S)
    for t in targets:
        checks.check_metrics_on_app(report, binary, t)
    checks.check_metrics_unreachable(report, binary,
                                     "http://%s:%d/metrics" % (LOOPBACK, free_port()))
    end = t0 + PHASE_S["healthy"]
    sleep_until(end)
    for t, mode in each_daemon(targets):
        checks.check_reading(report, t, mode, "healthy: /status scrape.reading")
        checks.check_steady_pass(report, t, mode, "healthy: steady PASS", end - STEADY_S, end)
        checks.check_p50(report, t, mode, "healthy: p50 vs PromQL", t0, end)


def phase_errors(report, targets):
    report.line("# phase errors: %d s, %g %% errors" % (PHASE_S["errors"], ERROR_SHARE * 100))
    started = set_phase(targets, ERROR_SHARE, HEALTHY_DELAY_MS)
    end = max(started.values()) + PHASE_S["errors"]
    sleep_until(end)
    deadline = checks.error_deadline(ERROR_SHARE, RATE)
    for t, mode in each_daemon(targets):
        since = started[t.spec.name]
        checks.check_fail_time(report, t, mode, "errors: time to FAIL", since, end,
                               "error_rate", deadline)
        checks.check_error_rate(report, t, mode, "errors: error rate vs PromQL", since, end)


def phase_recovery(report, targets):
    report.line("# phase recovery: %d s, 0 %% errors" % PHASE_S["recovery"])
    started = set_phase(targets, 0, HEALTHY_DELAY_MS)
    sleep_until(max(started.values()) + PHASE_S["recovery"])
    for t, mode in each_daemon(targets):
        checks.check_verdict(report, t, mode, "recovered: verdict", "PASS")


def phase_latency(report, targets):
    report.line("# phase latency: %d s, %d ms per request (2x)"
                % (PHASE_S["latency"], SLOW_DELAY_MS))
    started = set_phase(targets, 0, SLOW_DELAY_MS)
    end = max(started.values()) + PHASE_S["latency"]
    sleep_until(end)
    deadline = checks.latency_deadline(RATE)
    for t, mode in each_daemon(targets):
        since = started[t.spec.name]
        checks.check_fail_time(report, t, mode, "2x latency: time to FAIL", since, end,
                               "latency", deadline)
        checks.check_p50(report, t, mode, "2x latency: p50 vs PromQL", since, end)


def run(targets, binary, work_dir, scratch, services, report):
    problems = appdefs.prerequisites([t.spec for t in targets])
    for p in problems:
        report.check("prerequisites", False, p + " (sh tests/interop/install.sh)")
    if problems:
        return
    report.line("# apps: %s; %g requests/s each" % (", ".join(t.spec.name for t in targets),
                                                    RATE))
    start_apps(targets, services, scratch)
    start_prometheus(targets, services, work_dir, scratch)
    start_daemons(report, targets, services, binary, work_dir)
    start_traffic(targets)
    phase_healthy(report, targets, binary)
    phase_errors(report, targets)
    phase_recovery(report, targets)
    phase_latency(report, targets)
    for t in targets:
        counts = t.traffic.counts()
        report.line("# traffic %s: %s" % (t.spec.name, ", ".join(
            "%s: %d" % (k, counts[k]) for k in sorted(counts, key=str))))


def stop_everything(targets, services):
    for t in targets:
        if t.traffic:
            t.traffic.stop()
        for d in t.daemons.values():
            d.stop_polling()
    services.stop_all()


def main():
    args = parse_args()
    targets = [Target(spec) for spec in appdefs.select(args.only)]
    report = Report()
    started = time.time()
    # work_dir keeps logs and configs; scratch (binary copy, Go build, TSDB) always goes
    work_dir = tempfile.mkdtemp(prefix="rollguard-interop-")
    scratch = os.path.join(work_dir, "scratch")
    os.mkdir(scratch)
    binary = os.path.join(scratch, "rollguard")
    shutil.copy2(args.binary, binary)  # later rebuilds of args.binary do not disturb the run
    services = ServiceSet(work_dir)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        run(targets, binary, work_dir, scratch, services, report)
    except Exception as e:  # a failure of the harness itself is a failed check too
        traceback.print_exc()
        report.check("run", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_everything(targets, services)
        shutil.rmtree(scratch, ignore_errors=True)
    report.line("# run time %.0f s" % (time.time() - started))
    if args.keep or report.failed:
        report.line("# logs and configs kept in %s" % work_dir)
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
