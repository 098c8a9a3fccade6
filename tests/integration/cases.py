"""The integration cases: each starts the real daemon against a fake app on
loopback and checks what a kubelet, Prometheus or an SRE would see.

A case is a function taking a harness.Ctx; it raises CaseFail (via check) on
wrong behaviour. Register with @case, in the order they run.
"""

import json
import random
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from harness import (OPT, CaseFail, CaseSkip, ConnClosed, HttpConn, base_config, check,
                     free_port, hold_status, kget, merge, ms, period, probe_deadline,
                     parse_log_lines, probe_timeout_ms, run_cli, scaled, to_yaml, try_kget, vlog,
                     wait_status, wait_until)
from rgtest.fakeapp import TcpTarget  # (tests/pylib, on sys.path once harness is imported)
from rgtest.traffic import Traffic  # noqa: F401  (cases_reading imports it from here)

CASES = []


def case(fn):
    CASES.append((fn.__name__, fn))
    return fn


# --------------------------------------------------------------------------
# helpers shared by cases

def write_atomic(path, text):
    """Replace path's content in one rename, as editors and config tools do."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def metric_or_zero(m, name, **labels):
    v = m.value(name, **labels)
    return 0.0 if v is None else v


def small_reply(r, path):
    ct = r.header("content-type")
    check(ct, "%s %d reply has no Content-Type", path, r.status)
    check(len(r.body) < 64, "%s body is %d bytes (must be under 64): %r", path, len(r.body),
          r.body[:80])
    check(not 300 <= r.status < 400, "%s answered a redirect %d", path, r.status)


def wait_metric(d, what, pred, timeout):
    """Poll /metrics until pred(Metrics) is truthy."""
    box = {}

    def probe():
        box["m"] = d.metrics()
        return pred(box["m"])

    try:
        return wait_until(what, probe, timeout, interval=0.05)
    except CaseFail as e:
        raise CaseFail(str(e))


def wait_both_probes_ran(d):
    """Readiness can pass before liveness first runs (each first run is
    jittered within its period): wait until both have a passing run."""
    def ran(m):
        return all(metric_or_zero(m, "rollguard_probe_runs_total", probe=p, result="pass") >= 1
                   for p in ("liveness", "readiness"))
    wait_metric(d, "a passing run of each probe", ran, probe_deadline(1))


def reloads(d):
    m = d.metrics()
    return (metric_or_zero(m, "rollguard_config_reloads_total", result="ok"),
            metric_or_zero(m, "rollguard_config_reloads_total", result="failed"))


def mentions(rec, probe):
    """True when a log record is about `probe` (a "probe" field, or any
    top-level string value equal to the probe's name)."""
    if rec.get("probe") == probe:
        return True
    return any(isinstance(v, str) and v == probe for v in rec.values())


def brief(recs):
    return "; ".join("%s" % json.dumps(r, sort_keys=True)[:200] for _, r in recs[:6])


# --------------------------------------------------------------------------
# probes -> /health and /ready

@case
def health_ready_lifecycle(t):
    app = t.app()
    port = free_port()
    # Readiness waits 1 s before its first run, so /ready can be seen before it.
    cfg = base_config(port, app, app={"readiness": {"failure_threshold": 3,
                                                    "initial_delay": "1s"}})
    d = t.daemon(cfg)

    r = d.get("/ready")
    small_reply(r, "/ready")
    if app.count("/ready") == 0:
        check(r.status == 503, "/ready answered %d before any readiness probe ran "
              "(must be 503 until every readiness probe has run and passed)", r.status)
    else:
        vlog("readiness already probed at first /ready; skipping the before-first-run check")
    r = d.get("/health")
    small_reply(r, "/health")
    check(r.status == 200, "/health answered %d at start with a healthy app", r.status)

    wait_status(port, "/ready", 200, scaled(1.0) + probe_deadline(1), "app healthy")
    check(app.count("/ready") >= 1, "/ready went 200 without probing the app's /ready")
    r = d.get("/health")
    check(r.status == 200, "/health answered %d with a healthy app", r.status)
    check(d.get("/livez").status == 200, "/livez not 200")

    # Readiness fails: /ready 503 only after failure_threshold (3) failures.
    t0 = time.monotonic()
    app.set("/ready", 503)
    wait_status(port, "/ready", 503, probe_deadline(3), "app /ready answers 503")
    n = app.served_since("/ready", t0, 503)
    check(n >= 3, "/ready went 503 after only %d failing readiness probe(s); "
          "failure_threshold is 3", n)
    r = d.get("/ready")
    small_reply(r, "/ready")
    r = d.get("/health")
    check(r.status == 200, "/health answered %d while only readiness fails", r.status)
    hold_status(port, "/ready", 503, 3 * period())

    # Liveness fails: /health 503 only after failure_threshold (3) failures.
    t1 = time.monotonic()
    app.set("/healthz", 500)
    wait_status(port, "/health", 503, probe_deadline(3), "app /healthz answers 500")
    n = app.served_since("/healthz", t1, 500)
    check(n >= 3, "/health went 503 after only %d failing liveness probe(s); "
          "failure_threshold is 3", n)
    r = d.get("/health")
    small_reply(r, "/health")
    r = d.get("/livez")
    check(r.status == 200, "/livez answered %d while the app fails (must never depend on "
          "the app)", r.status)

    # Recovery (success_threshold 1).
    app.set("/healthz", 200)
    app.set("/ready", 200)
    wait_status(port, "/health", 200, probe_deadline(1), "app /healthz recovered")
    wait_status(port, "/ready", 200, probe_deadline(1), "app /ready recovered")


@case
def readiness_tcp(t):
    app = t.app()
    tcp = TcpTarget().start()
    t.on_cleanup(tcp.stop)
    port = free_port()
    cfg = base_config(port, app, app={"readiness": {
        "http": None,
        "tcp": {"address": "127.0.0.1:%d" % tcp.port, "timeout": ms(probe_timeout_ms())},
        "failure_threshold": 2}})
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "tcp target listening")
    check(tcp.accepted >= 1, "/ready is 200 but the tcp target never saw a connection")
    check(app.count("/ready") == 0, "a tcp readiness probe sent %d HTTP request(s) to /ready",
          app.count("/ready"))

    tcp.stop()
    wait_status(port, "/ready", 503, probe_deadline(2), "tcp target closed")
    check(d.get("/health").status == 200, "/health not 200 while only the tcp readiness fails")
    m = d.metrics()
    unreachable = metric_or_zero(m, "rollguard_probe_runs_total", probe="readiness",
                                 result="unreachable")
    check(unreachable >= 2, "refused tcp connects counted %s times as "
          "rollguard_probe_runs_total{probe=\"readiness\",result=\"unreachable\"} (want >= 2)",
          unreachable)

    tcp.start()  # same port again
    wait_status(port, "/ready", 200, probe_deadline(1), "tcp target listening again")


@case
def liveness_disabled(t):
    app = t.app()
    app.set("/healthz", 500)
    port = free_port()
    cfg = base_config(port, app, app={"liveness": {"enabled": False}})
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "readiness still configured")
    # Well past liveness failure_threshold (3) periods of a failing /healthz.
    hold_status(port, "/health", 200, 6 * period())
    check(app.count("/healthz") == 0, "liveness is disabled but the app's /healthz got %d "
          "request(s)", app.count("/healthz"))
    m = d.metrics()
    check(m.value("rollguard_healthy") == 1, "rollguard_healthy is %s with liveness disabled",
          m.value("rollguard_healthy"))


@case
def probe_timeout(t):
    app = t.app()
    port = free_port()
    cfg = base_config(port, app, app={"liveness": {"failure_threshold": 2}})
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")

    app.set("/healthz", mode="hang")
    app.set("/ready", mode="hang")
    bound = scaled(0.05)
    worst = {"/health": 0.0, "/ready": 0.0}
    seen = {"/health": set(), "/ready": set()}
    end = time.monotonic() + probe_deadline(2, extra=0.5)
    while time.monotonic() < end:
        for path in ("/health", "/ready"):
            t0 = time.monotonic()
            try:
                r = kget(port, path)
            except (OSError, ConnClosed) as e:
                raise CaseFail("%s gave no answer while the app hangs: %r" % (path, e))
            dt = time.monotonic() - t0
            worst[path] = max(worst[path], dt)
            seen[path].add(r.status)
        time.sleep(0.02)
    for path in ("/health", "/ready"):
        check(worst[path] <= bound, "%s took %.0f ms while the app hangs (bound %.0f ms)",
              path, worst[path] * 1000, bound * 1000)
    wait_status(port, "/ready", 503, scaled(1.0), "app /ready hangs past the timeout")
    wait_status(port, "/health", 503, scaled(1.0), "app /healthz hangs past the timeout")
    m = d.metrics()
    for probe in ("liveness", "readiness"):
        n = metric_or_zero(m, "rollguard_probe_runs_total", probe=probe, result="unreachable")
        check(n >= 2, "timed-out %s probes counted %s times as result=\"unreachable\" "
              "(want >= 2; a timeout is no answer, not a fail or an error)", probe, n)

    app.set("/healthz", 200)
    app.set("/ready", 200)
    app.release()
    wait_status(port, "/health", 200, probe_deadline(1), "app answers again")
    wait_status(port, "/ready", 200, probe_deadline(1), "app answers again")


# --------------------------------------------------------------------------
# reload

@case
def reload_good_sighup(t):
    app = t.app()
    app.set("/broken", 500)
    port = free_port()
    cfg = base_config(port, app)
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    s0 = d.status()
    ok0, failed0 = reloads(d)
    hash0 = s0["config"]["hash"]

    new = merge(cfg, {"app": {"liveness": {"http": {"url": app.url("/broken")}}}})
    write_atomic(d.config_path, to_yaml(new) + "\n")
    d.signal(signal.SIGHUP)
    # Readiness did not change: the reload must carry its state across, so
    # /ready stays 200 throughout (a flap would take the pod out of service).
    ready_seen = set()

    def health_503():
        r = try_kget(port, "/ready")
        ready_seen.add(r.status if r else None)
        r = try_kget(port, "/health")
        return r is not None and r.status == 503
    wait_until("/health -> 503 (liveness now points at a failing path)", health_503,
               scaled(1.0) + probe_deadline(3))
    check(ready_seen == {200}, "/ready answered %s during a reload that changed only "
          "liveness (want 200 throughout)", sorted(ready_seen, key=str))
    check(app.count("/broken") >= 3, "/health is 503 but /broken was probed %d time(s)",
          app.count("/broken"))
    ok1, failed1 = reloads(d)
    check(ok1 >= ok0 + 1, "rollguard_config_reloads_total{result=\"ok\"} went %s -> %s after "
          "a good reload", ok0, ok1)
    check(failed1 == failed0, "a good reload bumped reloads_total{result=\"failed\"} %s -> %s",
          failed0, failed1)
    s1 = d.status()
    check(s1["config"]["hash"] != hash0, "/status config.hash unchanged (%s) after a reload "
          "that changed the liveness url", hash0)
    check(s1["config"]["reloads_ok"] >= 1, "/status config.reloads_ok is %r after a good reload",
          s1["config"]["reloads_ok"])
    m = d.metrics()
    check(m.value("rollguard_config_info", hash=s1["config"]["hash"]) == 1,
          "rollguard_config_info{hash=%r} is not 1", s1["config"]["hash"])
    check(m.value("rollguard_config_last_reload_success") == 1,
          "rollguard_config_last_reload_success is %s after a good reload",
          m.value("rollguard_config_last_reload_success"))

    # SIGHUP on an unchanged file is harmless.
    d.signal(signal.SIGHUP)
    time.sleep(scaled(0.3))
    ok2, failed2 = reloads(d)
    check(failed2 == failed0, "SIGHUP on an unchanged good file counted a failed reload")
    check(d.status()["config"]["hash"] == s1["config"]["hash"],
          "config hash changed on SIGHUP with an unchanged file")
    check(d.get("/livez").status == 200, "/livez not 200 after SIGHUP")


CM_STAMP = "..2026_11_26_10_%02d_00.%03d"


def cm_setup(root, text):
    """A directory laid out like a mounted ConfigMap; returns the config path."""
    os.mkdir(root)
    stamp = CM_STAMP % (0, 123)
    os.mkdir(os.path.join(root, stamp))
    with open(os.path.join(root, stamp, "rollguard.yaml"), "w") as f:
        f.write(text)
    os.symlink(stamp, os.path.join(root, "..data"))
    os.symlink("..data/rollguard.yaml", os.path.join(root, "rollguard.yaml"))
    return os.path.join(root, "rollguard.yaml")


def cm_swap(root, text, n):
    """The kubelet's atomic update: new timestamped dir, ..data_tmp symlink,
    rename over ..data, remove the old dir."""
    stamp = CM_STAMP % (n, 100 + n)
    os.mkdir(os.path.join(root, stamp))
    with open(os.path.join(root, stamp, "rollguard.yaml"), "w") as f:
        f.write(text)
    old = os.readlink(os.path.join(root, "..data"))
    os.symlink(stamp, os.path.join(root, "..data_tmp"))
    os.rename(os.path.join(root, "..data_tmp"), os.path.join(root, "..data"))
    shutil.rmtree(os.path.join(root, old))


@case
def reload_good_symlink_swap(t):
    app = t.app()
    app.set("/broken", 500)
    port = free_port()
    cfg = base_config(port, app)
    root = os.path.join(t.wd.path, "configmap")
    path = cm_setup(root, to_yaml(cfg) + "\n")
    d = t.daemon(config_path=path, port=port)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    hash0 = d.status()["config"]["hash"]
    ok0, _ = reloads(d)

    bad_target = merge(cfg, {"app": {"liveness": {"http": {"url": app.url("/broken")}}}})
    cm_swap(root, to_yaml(bad_target) + "\n", 1)
    # No SIGHUP: the daemon must notice the swap itself.
    wait_status(port, "/health", 503, scaled(5.0) + probe_deadline(3),
                "ConfigMap swap pointed liveness at a failing path (no SIGHUP sent)")
    ok1, _ = reloads(d)
    check(ok1 >= ok0 + 1, "reloads_total{result=\"ok\"} went %s -> %s after a swap", ok0, ok1)
    hash1 = d.status()["config"]["hash"]
    check(hash1 != hash0, "/status config.hash unchanged after the swap")

    # A second swap must be seen too (the watch survives the first one).
    back = merge(cfg, {"app": {"liveness": {"failure_threshold": 4}}})
    cm_swap(root, to_yaml(back) + "\n", 2)
    wait_status(port, "/health", 200, scaled(5.0) + probe_deadline(1),
                "second ConfigMap swap pointed liveness back at /healthz")
    ok2, _ = reloads(d)
    check(ok2 >= ok1 + 1, "reloads_total{result=\"ok\"} went %s -> %s after a second swap",
          ok1, ok2)
    hash2 = d.status()["config"]["hash"]
    check(hash2 not in (hash0, hash1), "config hash after the second swap (%s) equals an "
          "earlier one though failure_threshold changed", hash2)


@case
def reload_broken_keeps_old(t):
    app = t.app()
    app.set("/broken", 500)
    port = free_port()
    cfg = base_config(port, app)
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    hash0 = d.status()["config"]["hash"]
    ok0, failed0 = reloads(d)
    # Every broken file below also points liveness at /broken: applying any
    # part of it would turn /health 503.
    bad = merge(cfg, {"app": {"liveness": {"http": {"url": app.url("/broken")}}}})

    def expect_failed_reload(text, what, expect_pos):
        nonlocal failed0
        write_atomic(d.config_path, text)
        d.signal(signal.SIGHUP)
        wait_metric(d, "reloads_total{result=\"failed\"} to grow after a %s" % what,
                    lambda m: metric_or_zero(m, "rollguard_config_reloads_total",
                                             result="failed") > failed0,
                    scaled(2.0))

        def err_ok():
            e = d.status()["config"].get("last_reload_error")
            return isinstance(e, str) and (expect_pos in e if expect_pos
                                           else re.search(r"\d+:\d+", e))
        try:
            wait_until("last_reload_error", err_ok, scaled(2.0))
        except CaseFail:
            raise CaseFail("after a %s, /status config.last_reload_error is %r; want it to "
                           "contain %s" % (what, d.status()["config"].get("last_reload_error"),
                                           repr(expect_pos) if expect_pos else "LINE:COLUMN"))
        _, failed0 = reloads(d)
        hold_status(port, "/health", 200, 5 * period())
        check(app.count("/broken") == 0, "after a %s the daemon probed /broken %d time(s): "
              "part of the bad file was applied", what, app.count("/broken"))
        s = d.status()
        check(s["config"]["hash"] == hash0, "config hash changed after a %s", what)
        m = d.metrics()
        check(m.value("rollguard_config_last_reload_success") == 0,
              "rollguard_config_last_reload_success is %s after a %s",
              m.value("rollguard_config_last_reload_success"), what)
        check(metric_or_zero(m, "rollguard_config_reloads_total", result="ok") == ok0,
              "a %s counted as a good reload", what)

    # 1. YAML syntax error (an unclosed flow mapping).
    text = to_yaml(bad) + "\nextra: {a: 1\n"
    expect_failed_reload(text, "syntax error", None)

    # 2. An unknown key at a known position.
    lines = to_yaml(bad).split("\n")
    at = lines.index("  liveness:") + 1
    lines.insert(at, "    bogus_key: 1")
    expect_failed_reload("\n".join(lines) + "\n", "unknown key", "%d:%d" % (at + 1, 5))

    # 3. A good file is applied again.
    good = merge(cfg, {"app": {"liveness": {"failure_threshold": 4}}})
    write_atomic(d.config_path, to_yaml(good) + "\n")
    d.signal(signal.SIGHUP)
    wait_metric(d, "reloads_total{result=\"ok\"} to grow after a good file",
                lambda m: metric_or_zero(m, "rollguard_config_reloads_total", result="ok") > ok0,
                scaled(2.0))
    s = d.status()
    check(s["config"]["hash"] != hash0, "config hash unchanged after a good reload")
    check(d.metrics().value("rollguard_config_last_reload_success") == 1,
          "rollguard_config_last_reload_success not 1 after a good reload")


# --------------------------------------------------------------------------
# shutdown

def drain_case(t, sig):
    app = t.app()
    port = free_port()
    drain = 4.0 if OPT.valgrind else 1.0
    cfg = base_config(port, app, server={"drain": ms(int(drain * 1000))})
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    check(d.get("/health").status == 200, "/health not 200 before the signal")

    name = signal.Signals(sig).name
    t0 = time.monotonic()
    d.signal(sig)
    time.sleep(0.02)
    r = d.get("/ready")
    dt = time.monotonic() - t0
    check(r.status == 503, "/ready answered %d %.0f ms after %s (must be 503 at once)",
          r.status, dt * 1000, name)
    check(dt <= scaled(0.2), "/ready answer came %.0f ms after %s (bound 200 ms)",
          dt * 1000, name)
    small_reply(r, "/ready")

    # Keep serving for the drain: /ready 503, /health 200, /livez 200.
    n = 0
    while time.monotonic() < t0 + 0.7 * drain:
        for path, want in (("/ready", 503), ("/health", 200), ("/livez", 200)):
            r = try_kget(port, path)
            at = (time.monotonic() - t0) * 1000
            check(r is not None, "%s gave no answer %.0f ms after %s (drain is %.1fs)",
                  path, at, name, drain)
            check(r.status == want, "%s answered %d %.0f ms after %s (want %d during drain)",
                  path, r.status, at, name, want)
            n += 1
        time.sleep(0.05)
    m = d.metrics()
    check(m.value("rollguard_shutting_down") == 1, "rollguard_shutting_down is %s during drain",
          m.value("rollguard_shutting_down"))
    check(m.value("rollguard_ready") == 0, "rollguard_ready is %s during drain",
          m.value("rollguard_ready"))
    s = d.status()
    check(s.get("shutting_down") is True and s.get("ready") is False,
          "/status during drain: shutting_down=%r ready=%r", s.get("shutting_down"),
          s.get("ready"))
    check(d.alive(), "daemon exited %.0f ms after %s, before the %.1fs drain ended",
          (time.monotonic() - t0) * 1000, name, drain)

    limit = t0 + drain + scaled(2.0)
    rc = d.wait_exit(max(0.0, limit - time.monotonic()))
    if rc is None:
        d.kill()
        raise CaseFail("daemon still running %.1fs after %s (drain %.1fs + 2s)"
                       % (time.monotonic() - t0, name, drain))
    vlog("exited %.2fs after %s", time.monotonic() - t0, name)
    d.check_exit(rc, name)


@case
def sigterm_drain(t):
    drain_case(t, signal.SIGTERM)


@case
def sigint(t):
    drain_case(t, signal.SIGINT)


# --------------------------------------------------------------------------
# /metrics and /status

METRIC_TYPES = {
    "rollguard_build_info": "gauge",
    "rollguard_uptime_seconds": "gauge",
    "rollguard_config_info": "gauge",
    "rollguard_config_reloads_total": "counter",
    "rollguard_config_last_reload_success": "gauge",
    "rollguard_probe_up": "gauge",
    "rollguard_probe_runs_total": "counter",
    "rollguard_probe_consecutive_failures": "gauge",
    "rollguard_probe_duration_seconds": "histogram",
    "rollguard_probe_transitions_total": "counter",
    "rollguard_ready": "gauge",
    "rollguard_healthy": "gauge",
    "rollguard_shutting_down": "gauge",
    "rollguard_http_requests_total": "counter",
}


def promtool_check(text):
    exe = shutil.which(OPT.promtool)
    check(exe is not None, "promtool not found in PATH (the project's setup installs it)")
    p = subprocess.run([exe, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=20)
    out = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
    check(p.returncode == 0, "promtool check metrics exited %d: %s", p.returncode,
          out.replace("\n", " | ")[:600])


@case
def metrics_promtool(t):
    app = t.app()
    app.advance_metrics(200, 120, 0.02)
    app.advance_metrics(500, 3, 0.3)
    port = free_port()
    cfg = base_config(port, app, app={"metrics": {"url": app.url("/metrics"),
                                                  "interval": "1s", "timeout": "500ms"}})
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    wait_both_probes_ran(d)

    r = d.get("/metrics")
    check(r.status == 200, "/metrics answered %d", r.status)
    ct = r.header("content-type")
    check(ct == "text/plain; version=0.0.4; charset=utf-8",
          "/metrics Content-Type is %r", ct)
    promtool_check(r.text())

    from harness import Metrics
    m1 = Metrics(r.text())
    for name, typ in METRIC_TYPES.items():
        got = m1.types.get(name)
        check(got == typ, "/metrics: # TYPE %s is %r, want %r", name, got, typ)

    bi = m1.find("rollguard_build_info")
    check(len(bi) == 1, "rollguard_build_info has %d series, want 1", len(bi))
    labels, v = bi[0]
    check(v == 1 and labels.get("version") and labels.get("revision"),
          "rollguard_build_info is %r %s (want version and revision labels, value 1)", labels, v)
    rc, out, _ = run_cli(["--version"], t.wd, tag="version")
    check(rc == 0 and labels["version"] in out, "build_info version %r not in `--version` "
          "output %r", labels["version"], out.strip())

    m1.need("rollguard_uptime_seconds")
    s = d.status()
    check(m1.value("rollguard_config_info", hash=s["config"]["hash"]) == 1,
          "rollguard_config_info{hash=%r} (the /status hash) is not 1", s["config"]["hash"])
    for res in ("ok", "failed"):
        m1.need("rollguard_config_reloads_total", result=res)
    check(m1.need("rollguard_config_last_reload_success") == 1,
          "rollguard_config_last_reload_success is not 1 at start")
    for probe in ("liveness", "readiness"):
        check(m1.need("rollguard_probe_up", probe=probe) == 1,
              "rollguard_probe_up{probe=%r} is not 1 with a healthy app", probe)
        check(m1.need("rollguard_probe_runs_total", probe=probe, result="pass") >= 1,
              "no passing %s runs counted", probe)
        check(m1.need("rollguard_probe_consecutive_failures", probe=probe) == 0,
              "rollguard_probe_consecutive_failures{probe=%r} not 0", probe)
        m1.need("rollguard_probe_transitions_total", probe=probe)
        cnt = m1.need("rollguard_probe_duration_seconds_count", probe=probe)
        inf = m1.need("rollguard_probe_duration_seconds_bucket", probe=probe, le="+Inf")
        m1.need("rollguard_probe_duration_seconds_sum", probe=probe)
        check(cnt >= 1 and inf == cnt, "probe_duration_seconds{probe=%r}: count %s, +Inf "
              "bucket %s", probe, cnt, inf)
    check(m1.need("rollguard_probe_transitions_total", probe="readiness") >= 1,
          "readiness went from not ready to ready but transitions_total is 0")
    for g, want in (("rollguard_ready", 1), ("rollguard_healthy", 1),
                    ("rollguard_shutting_down", 0)):
        check(m1.need(g) == want, "%s is %s, want %s", g, m1.value(g), want)

    # rollguard_http_requests_total counts what we send, by path and code.
    h1 = metric_or_zero(m1, "rollguard_http_requests_total", path="/health", code="200")
    for _ in range(3):
        d.get("/health")
    d.get("/livez")
    time.sleep(0.1)
    m2 = d.metrics()
    h2 = metric_or_zero(m2, "rollguard_http_requests_total", path="/health", code="200")
    check(h2 - h1 == 3, "rollguard_http_requests_total{path=\"/health\",code=\"200\"} went "
          "%s -> %s after 3 requests", h1, h2)
    check(m2.need("rollguard_uptime_seconds") >= m1.need("rollguard_uptime_seconds"),
          "rollguard_uptime_seconds went backwards")

    # Still valid after failures, reload errors and a 404.
    app.set("/ready", 503)
    wait_status(port, "/ready", 503, probe_deadline(2), "readiness fails")
    d.get("/nope")
    with open(d.config_path, "a") as f:
        f.write("bogus_key: 1\n")
    d.signal(signal.SIGHUP)
    wait_metric(d, "a failed reload", lambda m: metric_or_zero(
        m, "rollguard_config_reloads_total", result="failed") >= 1, scaled(2.0))
    r = d.get("/metrics")
    promtool_check(r.text())
    m3 = Metrics(r.text())
    check(m3.need("rollguard_probe_up", probe="readiness") == 0,
          "rollguard_probe_up{probe=\"readiness\"} not 0 while readiness fails")
    check(m3.need("rollguard_probe_runs_total", probe="readiness", result="fail") >= 2,
          "failing readiness runs not counted with result=\"fail\"")
    check(m3.need("rollguard_probe_consecutive_failures", probe="readiness") >= 2,
          "rollguard_probe_consecutive_failures{probe=\"readiness\"} < 2 while failing")
    check(m3.need("rollguard_ready") == 0, "rollguard_ready not 0 while /ready is 503")


def status_need(obj, key, types, where):
    """obj[key], which must exist and be of types (a JSON bool is not a number)."""
    check(isinstance(obj, dict) and key in obj, "/status lacks %s%s", where, key)
    v = obj[key]
    types = types if isinstance(types, tuple) else (types,)
    good = isinstance(v, types) and (bool in types or not isinstance(v, bool))
    check(good, "/status %s%s is %r (%s)", where, key, v, type(v).__name__)
    return v


NUM = (int, float)


@case
def status_json(t):
    app = t.app()
    port = free_port()
    cfg = base_config(port, app)
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    wait_both_probes_ran(d)

    r = d.get("/status")
    check(r.status == 200, "/status answered %d", r.status)
    ct = r.header("content-type") or ""
    check(ct.split(";")[0].strip() == "application/json", "/status Content-Type is %r", ct)
    s = r.json()
    check(isinstance(s, dict), "/status is not a JSON object")
    need = status_need
    need(s, "version", str, "")
    check(need(s, "uptime_seconds", NUM, "") >= 0, "uptime_seconds negative")
    check(need(s, "ready", bool, "") is True, "/status ready is not true while /ready is 200")
    check(need(s, "healthy", bool, "") is True, "/status healthy is not true")
    check(need(s, "shutting_down", bool, "") is False, "/status shutting_down is not false")
    c = need(s, "config", dict, "")
    check(re.fullmatch(r"[0-9a-f]{8,64}", need(c, "hash", str, "config.") or ""),
          "config.hash %r is not hex", c.get("hash"))
    src = need(c, "source", str, "config.")
    check(os.path.basename(src) == "rollguard.yaml", "config.source is %r", src)
    need(c, "reloads_ok", int, "config.")
    need(c, "reloads_failed", int, "config.")
    check("last_reload_error" in c, "/status lacks config.last_reload_error")
    check(c["last_reload_error"] in (None, ""), "config.last_reload_error is %r with no "
          "failed reload", c["last_reload_error"])
    probes = need(s, "probes", dict, "")
    for name in ("liveness", "readiness"):
        p = need(probes, name, dict, "probes.")
        w = "probes.%s." % name
        check(need(p, "ok", bool, w) is True, "%sok is not true", w)
        check(need(p, "has_run", bool, w) is True, "%shas_run is not true", w)
        check(need(p, "consecutive_failures", int, w) == 0, "%sconsecutive_failures not 0", w)
        last = need(p, "last", dict, w)
        check(last.get("result") == "pass", "%slast.result is %r", w, last.get("result"))
        check(last.get("status") == 200, "%slast.status is %r", w, last.get("status"))
        check(isinstance(last.get("latency_seconds"), NUM) and last["latency_seconds"] >= 0,
              "%slast.latency_seconds is %r", w, last.get("latency_seconds"))
        check("error" in last and last["error"] in (None, ""), "%slast.error is %r on a pass",
              w, last.get("error"))

    app.set("/healthz", 500)
    app.set("/ready", mode="close")
    wait_status(port, "/health", 503, probe_deadline(3), "app /healthz answers 500")
    wait_status(port, "/ready", 503, probe_deadline(2), "app /ready closes without reply")
    s = d.status()
    lv, rd = s["probes"]["liveness"], s["probes"]["readiness"]
    check(lv["ok"] is False and lv["consecutive_failures"] >= 3,
          "probes.liveness while failing: ok=%r consecutive_failures=%r", lv["ok"],
          lv["consecutive_failures"])
    check(lv["last"]["result"] == "fail" and lv["last"]["status"] == 500,
          "probes.liveness.last after a 500: %r", lv["last"])
    check(rd["last"]["result"] == "unreachable" and rd["last"]["error"],
          "probes.readiness.last after a closed connection: %r (want result unreachable and "
          "an error)", rd["last"])
    check(s["healthy"] is False and s["ready"] is False,
          "/status healthy=%r ready=%r while both probes fail", s["healthy"], s["ready"])

    # A failed reload shows up in config.
    with open(d.config_path, "a") as f:
        f.write("bogus_key: 1\n")
    d.signal(signal.SIGHUP)
    wait_until("config.reloads_failed >= 1",
               lambda: d.status()["config"]["reloads_failed"] >= 1, scaled(2.0))
    e = d.status()["config"]["last_reload_error"]
    check(isinstance(e, str) and "bogus_key" in e,
          "config.last_reload_error %r does not name the unknown key", e)


SECRET = "s3cret"


@case
def status_json_no_secrets(t):
    # Credentials in a probe URL are refused (they belong in a Secret, not a
    # ConfigMap), and the refusal must not repeat them anywhere.
    app = t.app()
    port = free_port()
    cfg = base_config(port, app, log={"level": "debug", "format": "json"})
    d = t.daemon(cfg)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    wait_both_probes_ran(d)
    check(d.status()["ready"] is True, "/status ready is not true")

    url_h = "http://user:%s@127.0.0.1:%d/healthz" % (SECRET, app.port)
    url_r = "http://user:%s@127.0.0.1:%d/ready" % (SECRET, app.port)
    bad = base_config(port, app, log={"level": "debug", "format": "json"},
                      app={"liveness": {"http": {"url": url_h}},
                           "readiness": {"http": {"url": url_r}}})
    write_atomic(d.config_path, to_yaml(bad) + "\n")
    d.signal(signal.SIGHUP)
    wait_until("a failed reload", lambda: d.status()["config"]["reloads_failed"] >= 1,
               scaled(2.0))
    last = d.status()["config"]["last_reload_error"]
    check("credentials" in last, "the reload error does not say why: %r", last)
    check(d.get("/health").status == 200, "the old config stopped serving /health")

    rc, out, err = run_cli(["--check-config", "--config", d.config_path], t.wd)
    check(rc == 2, "--check-config accepted credentials in a URL (exit %d)", rc)
    rc2, out2, err2 = run_cli(["--config", d.config_path], t.wd)
    check(rc2 == 2, "the daemon started with credentials in a URL (exit %d)", rc2)
    bodies = {"/status": d.get("/status").text(), "/metrics": d.get("/metrics").text(),
              "the log": d.log_text(), "--check-config output": out + err,
              "the refused start": out2 + err2}
    for where, text in bodies.items():
        i = text.find(SECRET)
        check(i < 0, "the URL password appears in %s: ...%s...", where,
              text[max(0, i - 60):i + 20].replace("\n", " "))


# --------------------------------------------------------------------------
# HTTP edge cases

@case
def http_edge_cases(t):
    app = t.app()
    port = free_port()
    d = t.daemon(base_config(port, app))
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    state0 = d.status()

    # Connection: close -> reply, then the server closes.
    with HttpConn(port) as c:
        r = c.request("GET", "/health", close=True)
        check(r.status == 200, "GET /health with Connection: close answered %d", r.status)
        check(c.wait_eof(1.0), "server kept the connection open after a Connection: close "
              "request")
        small_reply(r, "/health")

    # keep-alive: two requests on one connection.
    with HttpConn(port) as c:
        r1 = c.request("GET", "/health")
        check(r1.status == 200, "keep-alive request 1 answered %d", r1.status)
        try:
            r2 = c.request("GET", "/ready")
        except (OSError, ConnClosed) as e:
            raise CaseFail("second request on a keep-alive connection failed: %r" % e)
        check(r2.status == 200, "keep-alive request 2 (/ready) answered %d", r2.status)
        check(r1.header("content-type") and r2.header("content-type"),
              "keep-alive replies lack Content-Type")

    # HEAD: headers, no body.
    for path in ("/health", "/ready", "/livez", "/metrics", "/status"):
        with HttpConn(port) as c:
            r = c.request("HEAD", path, close=True)
            check(r.status == 200, "HEAD %s answered %d", path, r.status)
            check(r.header("content-type"), "HEAD %s has no Content-Type", path)
            c.wait_eof(0.5)
            check(c.buf == b"", "HEAD %s sent %d body bytes: %r", path, len(c.buf), c.buf[:60])

    # Unknown paths -> 404 (never a redirect).
    for path in ("/nope", "/healthz", "/health/x", "/admin"):
        r = d.get(path)
        check(r.status == 404, "GET %s answered %d, want 404", path, r.status)
        check(r.header("content-type"), "404 for %s has no Content-Type", path)
    for path in ("/health/", "/ready/", "//health", "/metrics/", "/health?x=1"):
        r = d.get(path)
        check(not 300 <= r.status < 400, "GET %s answered a redirect %d (%s)", path, r.status,
              r.header("location"))
        check(r.header("content-type"), "GET %s (%d) has no Content-Type", path, r.status)

    # Other methods -> 405 (or 501), with or without a body, and nothing changes.
    # Wrong codes are collected so that one report shows all of them; the
    # checks after this still run.
    refused = []
    for method, path, body in (("POST", "/ready", b""), ("PUT", "/health", b""),
                               ("DELETE", "/status", b""), ("POST", "/livez", b""),
                               ("POST", "/ready", b'{"ready": false}'),
                               ("PUT", "/health", b'{"healthy": false}'),
                               ("POST", "/metrics", b"x=1")):
        with HttpConn(port) as c:
            r = c.request(method, path, body=body, close=True,
                          headers=[("Content-Type", "application/json")] if body else None)
        what = "%s %s%s" % (method, path, " with a %d-byte body" % len(body) if body else "")
        # A body is refused before routing (413): rollguard never reads one.
        allowed = (405, 413, 501) if body else (405, 501)
        if r.status not in allowed:
            refused.append("%s answered %d, want one of %s" % (what, r.status, allowed))
        check(r.header("content-type"), "%s reply has no Content-Type", what)
    check(d.get("/ready").status == 200 and d.get("/health").status == 200,
          "POST/PUT/DELETE changed /ready or /health")
    state1 = d.status()
    for k in ("ready", "healthy", "shutting_down"):
        check(state1[k] == state0[k], "/status %s changed %r -> %r after refused methods", k,
              state0[k], state1[k])
    check(state1["config"]["hash"] == state0["config"]["hash"],
          "config hash changed after refused methods")

    # A GET carrying a body -> 4xx.
    with HttpConn(port) as c:
        r = c.request("GET", "/health", body=b"hello", close=True)
        check(400 <= r.status < 500, "GET /health with a 5-byte body answered %d, want 4xx",
              r.status)
        check(r.header("content-type"), "the %d for a GET with a body lacks Content-Type",
              r.status)

    # Headers over 8 KiB -> 4xx or closed; the daemon keeps serving.
    with HttpConn(port) as c:
        try:
            r = c.request("GET", "/health", headers=[("X-Big", "a" * 9000)], close=True)
            check(400 <= r.status < 500, "GET with 9000 bytes of headers answered %d, want "
                  "4xx or a closed connection", r.status)
        except (ConnClosed, ConnectionResetError, BrokenPipeError):
            pass
        except socket.timeout:
            raise CaseFail("no answer and no close within 1 s to a request with 9000 bytes "
                           "of headers")
    r = d.get("/livez")
    check(r.status == 200, "/livez answered %d after an oversized request", r.status)
    with HttpConn(port) as c:
        try:
            c.request("GET", "/health",
                      headers=[("X-H%d" % i, "b" * 100) for i in range(100)], close=True)
        except (ConnClosed, ConnectionResetError, BrokenPipeError):
            pass
    check(d.get("/health").status == 200, "/health not 200 after many headers")

    # Something that is not HTTP at all, then a normal request.
    with HttpConn(port) as c:
        c.send_raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n")
        try:
            r = c.read_response()
            check(400 <= r.status < 500, "garbage request answered %d", r.status)
        except (ConnClosed, ConnectionResetError, CaseFail):
            pass
        except socket.timeout:
            pass  # waiting for more bytes is fine; the server timeout closes it later
    check(d.get("/livez").status == 200, "/livez not 200 after a garbage request")
    check(not refused, "%s", "; ".join(refused))


# --------------------------------------------------------------------------
# CLI

def positions(err, path):
    """(line, column) pairs of `path:LINE:COLUMN: message` lines in err."""
    out = []
    for ln in err.splitlines():
        if ln.startswith(path + ":"):
            m = re.match(r"(\d+):(\d+): \S", ln[len(path) + 1:])
            if m:
                out.append((int(m.group(1)), int(m.group(2))))
    return out


@case
def check_config_cli(t):
    port = free_port()
    good = ("listen: \"127.0.0.1:%d\"\n"
            "admin_listen: \"\"\n"
            "app:\n"
            "  liveness:\n"
            "    period: 1s\n"
            "    failure_threshold: 3\n" % port)
    path = t.wd.file("good.yaml", good)
    # The listen port is taken: --check-config must not try to bind it.
    hold = socket.socket()
    hold.bind(("127.0.0.1", port))
    hold.listen(1)
    t.on_cleanup(hold.close)
    rc, out, err = run_cli(["--check-config", "--config", path], t.wd)
    check(rc == 0, "--check-config of a valid file exited %d: %s", rc, (out + err).strip()[:300])

    rc, out, err = run_cli(["--check-config"], t.wd)
    check(rc == 0, "--check-config with the embedded defaults exited %d: %s", rc,
          (out + err).strip()[:300])

    bad = good + "    colour: blue\n"  # line 7, column 5
    path = t.wd.file("unknown-key.yaml", bad)
    rc, out, err = run_cli(["--check-config", "--config", path], t.wd)
    check(rc == 2, "--check-config of a file with an unknown key exited %d, want 2", rc)
    pos = positions(err, path)
    check((7, 5) in pos, "stderr lacks %s:7:5: <message> for the unknown key; got %r", path,
          err.strip()[:400])

    two = ("bogus_top: 1\n"                   # line 1, column 1
           "listen: \"127.0.0.1:%d\"\n"
           "app:\n"
           "  readiness:\n"
           "    nonsense: true\n" % port)     # line 5, column 5
    path = t.wd.file("two-errors.yaml", two)
    rc, out, err = run_cli(["--check-config", "--config", path], t.wd)
    check(rc == 2, "--check-config of a file with two unknown keys exited %d", rc)
    pos = positions(err, path)
    check((1, 1) in pos and (5, 5) in pos, "want %s:1:1: and %s:5:5: lines on stderr; got %r",
          path, path, err.strip()[:400])

    for name, text, what in (
            ("syntax.yaml", "listen: \"127.0.0.1:1\"\napp: {liveness: [\n", "a syntax error"),
            ("timeout.yaml", "app:\n  liveness:\n    http: {url: \"http://127.0.0.1:1/\", "
             "timeout: 2s}\n    period: 1s\n", "a probe timeout above its period"),
            ("duration.yaml", "app:\n  liveness:\n    period: soon\n", "a bad duration"),
            ("type.yaml", "app:\n  liveness:\n    failure_threshold: many\n", "a wrong type")):
        path = t.wd.file(name, text)
        rc, out, err = run_cli(["--check-config", "--config", path], t.wd)
        check(rc == 2, "--check-config of a file with %s exited %d, want 2", what, rc)
        check(positions(err, path), "--check-config of a file with %s printed no "
              "%s:LINE:COLUMN: line; stderr: %r", what, path, err.strip()[:300])

    # Running (not checking) a broken file fails at once, without serving.
    path = t.wd.file("run-bad.yaml", bad.replace("127.0.0.1:%d" % port,
                                                 "127.0.0.1:%d" % free_port()))
    rc, out, err = run_cli(["--config", path], t.wd, timeout=5.0, tag="runbad")
    check(rc != 0, "the daemon exited 0 on a config with an unknown key")
    check((7, 5) in positions(err, path), "the daemon refused a bad config without "
          "%s:7:5: on stderr; got %r", path, err.strip()[:300])

    missing = os.path.join(t.wd.path, "missing.yaml")
    rc, out, err = run_cli(["--check-config", "--config", missing], t.wd)
    check(rc == 2, "--check-config of a missing file exited %d, want 2", rc)
    check(err.strip(), "--check-config of a missing file printed nothing on stderr")


@case
def version_help_cli(t):
    rc, out, err = run_cli(["--version"], t.wd)
    check(rc == 0, "--version exited %d", rc)
    first = out.splitlines()[0] if out.strip() else ""
    check(re.match(r"rollguard \S", first), "--version's first stdout line is %r", first)

    rc, out, err = run_cli(["--help"], t.wd)
    check(rc == 0, "--help exited %d", rc)
    check(re.search(r"usage", out, re.I) and "--config" in out and "--check-config" in out,
          "--help stdout does not show usage with --config and --check-config: %r", out[:300])

    rc, out, err = run_cli(["--no-such-option"], t.wd)
    check(rc == 2, "an unknown option exited %d, want 2", rc)
    check(err.strip(), "an unknown option printed nothing on stderr")


@case
def refused_configs_cli(t):
    """Files the daemon must refuse to start on, each with exit 2 and a clear reason."""
    port = free_port()
    refused = (
        # operator actions are unauthenticated: never on a routable address
        ("admin on all interfaces", "listen: \"127.0.0.1:%d\"\nadmin_listen: \"0.0.0.0:8081\"\n"
         % port, "loopback"),
        ("admin on a bare port", "listen: \"127.0.0.1:%d\"\nadmin_listen: \":8081\"\n" % port,
         "loopback"),
        # a torn write or a wrong mount is not a config
        ("an empty file", "", "no settings"),
        ("only comments", "# listen: \"0.0.0.0:8080\"\n---\n", "no settings"),
    )
    for what, text, why in refused:
        path = t.wd.file("refused.yaml", text)
        for args in (["--config", path], ["--check-config", "--config", path]):
            rc, out, err = run_cli(args, t.wd, tag="refused")
            check(rc == 2, "`rollguard %s` on %s exited %d, want 2: %s", " ".join(args[:-1]),
                  what, rc, (out + err).strip()[:300])
            check(why in err, "`rollguard %s` on %s does not say %r: %s",
                  " ".join(args[:-1]), what, why, err.strip()[:300])


# --------------------------------------------------------------------------
# logs

@case
def transition_logged_once(t):
    app = t.app()
    port = free_port()
    d = t.daemon(base_config(port, app))
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    time.sleep(3 * period())

    # Both probes go down and stay down for ~10 periods.
    off = d.log_size()
    app.set("/ready", 503)
    app.set("/healthz", 500)
    wait_status(port, "/ready", 503, probe_deadline(2), "readiness fails")
    wait_status(port, "/health", 503, probe_deadline(3), "liveness fails")
    time.sleep(10 * period())
    check(app.count("/ready") >= 10, "only %d readiness probes ran", app.count("/ready"))
    recs = d.log_records(off)
    for probe in ("readiness", "liveness"):
        mine = [(i, r) for i, r in recs if mentions(r, probe)]
        check(len(mine) == 1, "with the app failing for ~10 %s periods, %d log lines are "
              "about %s (want exactly one, for the transition): %s", probe, len(mine),
              probe, brief(mine))

    # Recovery: one line per probe again.
    off = d.log_size()
    app.set("/ready", 200)
    app.set("/healthz", 200)
    wait_status(port, "/ready", 200, probe_deadline(1), "readiness recovers")
    wait_status(port, "/health", 200, probe_deadline(1), "liveness recovers")
    time.sleep(6 * period())
    recs = d.log_records(off)
    for probe in ("readiness", "liveness"):
        mine = [(i, r) for i, r in recs if mentions(r, probe)]
        check(len(mine) == 1, "after recovery, %d log lines are about %s (want exactly one): "
              "%s", len(mine), probe, brief(mine))

    # Every line of the whole log is a JSON object with ts, level, event.
    all_recs = d.log_records(0)
    check(all_recs, "the daemon wrote no log lines at all")
    levels = {r["level"] for _, r in all_recs}
    check(levels <= {"debug", "info", "warn", "warning", "error"},
          "unexpected log levels %r", sorted(levels))


# --------------------------------------------------------------------------
# Analysis: scraped traffic in, verdicts out

def analysis_config(port, fake, **over):
    return base_config(port, fake, **merge({
        "app": {"metrics": {"url": fake.url("/metrics"), "interval": "1s", "timeout": "500ms"}},
        "analysis": {"interval": "1s", "window": "5s", "warmup": "2s", "baseline_window": "10s",
                     "error_rate": {"max": 0.05, "min_requests": 50},
                     "latency": {"min_samples": 50}, "consecutive_breaches": 2},
    }, over))


def verdict_logs(d):
    return [r for _, r in d.log_records() if r.get("event") == "verdict"]


@case
def verdict_fail_on_errors(t):
    app = t.app()
    port = free_port()
    traffic = Traffic(app, rate=100, errors=0.20)
    try:
        d = t.daemon(analysis_config(port, app))
        wait_until("a FAIL verdict on /status",
                   lambda: (d.status().get("analysis") or {}).get("outcome") == "FAIL",
                   scaled(20.0), interval=0.2)
    finally:
        traffic.stop()
    v = d.status()["analysis"]
    check(v["rule"] == "error_rate", "FAIL came from rule %r, not error_rate", v["rule"])
    ev = [r for r in v["rules"] if r["rule"] == "error_rate"][0]
    check(0.12 < ev["value"] < 0.30, "error rate evidence %r is not near 20%%", ev["value"])
    check(ev["requests"] >= 50 and ev["errors"] > 0, "evidence lacks counts: %r", ev)
    check(v["config_hash"] == d.status()["config"]["hash"], "evidence without the config hash")
    m = d.metrics()
    check(m.value("rollguard_verdict", None, outcome="fail") == 1.0,
          "/metrics does not show the FAIL")
    check(m.value("rollguard_verdicts_total", 0, outcome="fail") >= 1, "no FAIL counted")
    fails = [r for r in verdict_logs(d) if r.get("outcome") == "FAIL"]
    check(len(fails) >= 1, "no verdict log line with outcome FAIL")
    check(isinstance(fails[0].get("evidence"), dict), "the FAIL log line carries no evidence")
    # One line per change: a FAIL that persists is not logged every interval.
    before = len(verdict_logs(d))
    time.sleep(scaled(2.5))
    check(len(verdict_logs(d)) <= before + 1, "verdict logged every interval, not per change")


@case
def verdict_healthy_never_fails(t):
    app = t.app()
    port = free_port()
    traffic = Traffic(app, rate=100, errors=0.01)
    try:
        d = t.daemon(analysis_config(port, app))
        wait_until("a PASS verdict", lambda: (d.status().get("analysis") or {}).get("outcome")
                   == "PASS", scaled(20.0), interval=0.2)
        time.sleep(scaled(4.0))
    finally:
        traffic.stop()
    m = d.metrics()
    check(m.value("rollguard_verdicts_total", 0, outcome="fail") == 0,
          "healthy traffic (1%% errors) gave a FAIL verdict")
    check(m.value("rollguard_verdicts_total", 0, outcome="pass") >= 1, "no PASS counted")


@case
def verdict_scrape_failure_is_inconclusive(t):
    app = t.app()
    port = free_port()
    app.set("/metrics", 500)
    d = t.daemon(analysis_config(port, app, analysis={"warmup": "1s"}))
    wait_until("verdicts",
               lambda: d.metrics().value("rollguard_verdicts_total", 0,
                                         outcome="inconclusive") >= 4,
               scaled(15.0), interval=0.2)
    m = d.metrics()
    check(m.value("rollguard_verdicts_total", 0, outcome="fail") == 0,
          "failed scrapes gave a FAIL")
    check(m.value("rollguard_scrapes_total", 0, result="http_error") >= 2,
          "scrape failures are not counted by result")
    s = d.status()
    check(s["scrape"]["last"] == "http_error", "/status scrape.last is %r" % s["scrape"]["last"])
    check(s["analysis"]["outcome"] == "INCONCLUSIVE", "verdict is %r" % s["analysis"]["outcome"])


# --------------------------------------------------------------------------
# Faults of the app and of the config file

def probe_latency_bound():
    return scaled(0.05)


class ProbeWatch:
    """Polls /health and /ready like a kubelet and keeps the slowest answer;
    every poll must get a complete answer."""

    def __init__(self, port):
        self.port = port
        self.worst = 0.0
        self.worst_path = None
        self.seen = {"/health": set(), "/ready": set()}
        self.polls = 0

    def poll(self):
        for path in ("/health", "/ready"):
            t0 = time.monotonic()
            try:
                r = kget(self.port, path)
            except (OSError, ConnClosed) as e:
                raise CaseFail("%s gave no answer: %r" % (path, e))
            dt = time.monotonic() - t0
            if dt > self.worst:
                self.worst, self.worst_path = dt, path
            self.seen[path].add(r.status)
        self.polls += 1

    def until(self, what, fn, timeout, interval=0.05):
        """wait_until(fn), polling the probes in between."""
        def step():
            self.poll()
            return fn()
        return wait_until(what, step, timeout, interval)

    def hold(self, duration, interval=0.05):
        end = time.monotonic() + duration
        while time.monotonic() < end:
            self.poll()
            time.sleep(interval)

    def check(self, during):
        bound = probe_latency_bound()
        check(self.worst <= bound, "%s took %.0f ms to answer %s (bound %.0f ms)",
              self.worst_path, self.worst * 1000, during, bound * 1000)


def failed_scrapes(m):
    return sum(v for (lab, v) in m.find("rollguard_scrapes_total") if lab.get("result") != "ok")


def no_fail_verdict(d, during):
    m = d.metrics()
    n = m.value("rollguard_verdicts_total", 0, outcome="fail")
    check(n == 0, "%d FAIL verdict(s) %s", n, during)
    v = (d.status().get("analysis") or {})
    check(v.get("outcome") != "FAIL", "the verdict is FAIL %s: %r", during, v)
    return m


def scrape_config(port, fake, **over):
    """analysis_config with a short warmup and room for app restarts."""
    return analysis_config(port, fake, **merge({
        "analysis": {"warmup": "1s", "health_failures": 50}}, over))


TRUNCATED_PAGE = (b"# TYPE http_requests_total counter\n"
                  b"http_requests_total{code=\"200\"} 1200\n"
                  b"http_requests_total{code=\"500\"} 3\n"
                  b"# TYPE http_request_duration_seconds histogram\n"
                  b"http_request_duration_seconds_bucket{le=\"0.005\"} 10\n"
                  b"http_request_duration_seconds_bucket{le=\"0.0")

GARBAGE_PAGES = (
    # (what, body, content type)
    ("random bytes", bytes(random.Random(7).getrandbits(8) for _ in range(4000)), None),
    ("binary (NUL bytes, a PNG header)", b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02\xfe\xff" * 400,
     "application/octet-stream"),
    ("a page cut off in the middle of a line", TRUNCATED_PAGE, None),
    ("an HTML error page", b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
     b"\n<body><h1>Bad Gateway</h1><p>upstream went away</p></body></html>\n", "text/html"),
    # quoted into the parse error: the log line must stay valid UTF-8 JSON
    ("bytes that are not UTF-8 in a sample", b"# TYPE http_requests_total counter\n"
     b"http_requests_total{code=\"200\"} 1\xff\xfe\xc3\n", None),
)


@case
def metrics_garbage(t):
    app = t.app()
    port = free_port()
    traffic = Traffic(app, rate=100, errors=0.01)
    t.on_cleanup(traffic.stop)
    d = t.daemon(scrape_config(port, app))
    w = ProbeWatch(port)
    w.until("two good scrapes", lambda: metric_or_zero(
        d.metrics(), "rollguard_scrapes_total", result="ok") >= 2, scaled(4.0))
    results = {}
    for what, body, ctype in GARBAGE_PAGES:
        before = failed_scrapes(d.metrics())
        ok_before = metric_or_zero(d.metrics(), "rollguard_scrapes_total", result="ok")
        app.set("/metrics", body=body, ctype=ctype)
        served = app.count("/metrics")
        # The first scrape that fetched this body must count as failed.
        w.until("a failed scrape of %s" % what,
                lambda: app.count("/metrics") > served and failed_scrapes(d.metrics()) > before,
                scaled(3.0))
        s = d.status()["scrape"]
        results[what] = s["last"]
        check(s["last"] not in ("ok", "unreachable"), "a scrape of %s ended as %r", what,
              s["last"])
        check(s["last_error"], "/status scrape.last_error is empty after a scrape of %s", what)
        ok_after = metric_or_zero(d.metrics(), "rollguard_scrapes_total", result="ok")
        check(ok_after <= ok_before + 1, "scrapes of %s counted as ok (%s -> %s)", what,
              ok_before, ok_after)
        no_fail_verdict(d, "while the app served %s" % what)
    vlog("scrape results: %r", results)
    w.check("while the app's /metrics served garbage")
    check(results["random bytes"] == "parse_error" and
          results["a page cut off in the middle of a line"] == "parse_error",
          "garbage pages are not counted as parse errors: %r", results)
    m = d.metrics()
    check(m.value("rollguard_verdicts_total", 0, outcome="inconclusive") >= 1,
          "no INCONCLUSIVE verdict while every scrape failed")

    # A good page again: scraping resumes and its traffic reaches the window.
    ok0 = metric_or_zero(m, "rollguard_scrapes_total", result="ok")
    app.set("/metrics")
    w.until("two good scrapes after the garbage", lambda: metric_or_zero(
        d.metrics(), "rollguard_scrapes_total", result="ok") >= ok0 + 2, scaled(4.0))
    w.until("scraped requests in the analysis window", lambda: metric_or_zero(
        d.metrics(), "rollguard_window_requests", source="scrape") > 0, scaled(3.0))
    s = d.status()["scrape"]
    check(s["last"] == "ok" and s["primed"] is True, "/status scrape after recovery: %r", s)
    # Every log line, whatever the app's bytes were: strict UTF-8, one JSON object.
    with open(d.log_path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CaseFail("the log is not UTF-8 after garbage pages: %s" % e)
    parse_log_lines(text)
    no_fail_verdict(d, "after the app's metrics recovered")
    w.check("after the app's metrics recovered")
    check(w.seen["/health"] == {200}, "/health answered %s while only /metrics was broken",
          sorted(w.seen["/health"]))


BIG_PAGE = 50 * 1024 * 1024
MAX_BYTES = 1024 * 1024


@case
def metrics_oversized(t):
    app = t.app()
    app.advance_metrics(200, 500, 0.02)
    port = free_port()
    d = t.daemon(scrape_config(port, app, app={"metrics": {"max_bytes": MAX_BYTES}}))
    w = ProbeWatch(port)
    w.until("a good scrape", lambda: metric_or_zero(
        d.metrics(), "rollguard_scrapes_total", result="ok") >= 1, scaled(3.0))
    rss0 = d.rss_kib()
    for length in (True, False):
        how = "a %d MiB page %s" % (BIG_PAGE >> 20, "with a Content-Length" if length
                                     else "without a Content-Length")
        before = metric_or_zero(d.metrics(), "rollguard_scrapes_total", result="too_big")
        n0 = len(app.streamed)
        app.set("/metrics", mode="stream", stream_bytes=BIG_PAGE, length=length)
        w.until("a too_big scrape of %s" % how, lambda: metric_or_zero(
            d.metrics(), "rollguard_scrapes_total", result="too_big") > before, scaled(4.0))
        s = d.status()["scrape"]
        check(s["last"] == "too_big", "/status scrape.last is %r after %s", s["last"], how)
        check("max_bytes" in (s["last_error"] or ""), "/status scrape.last_error %r does not "
              "name app.metrics.max_bytes", s["last_error"])
        check(s["last_bytes"] <= MAX_BYTES + 65536, "/status scrape.last_bytes is %s after "
              "%s (max_bytes %d)", s["last_bytes"], how, MAX_BYTES)
        # A declared length above the limit is refused from the headers, before any body.
        check(not length or s["last_bytes"] == 0, "/status scrape.last_bytes is %s after %s: "
              "the body was read although its length was known too big", s["last_bytes"], how)
        w.hold(scaled(0.3))
        # Each scrape fetches the page anew; socket buffers on loopback hold a
        # few MiB of each, the rest must never be read.
        sent = max(app.streamed[n0:] or [0])
        # Without a length the limit is found by reading up to it.
        check(length or sent > MAX_BYTES, "the app wrote only %d bytes of %s", sent, how)
        check(sent < 16 * 1024 * 1024, "the daemon read on: the app wrote %.1f MiB of %s "
              "before the connection closed (max_bytes %d)", sent / 1048576.0, how, MAX_BYTES)
        rss = d.rss_kib()
        vlog("%s: app wrote %.1f MiB, VmRSS %d -> %d KiB", how, sent / 1048576.0, rss0, rss)
        # memcheck holds up to 20 MB of freed blocks back (--freelist-vol).
        grow = (40 if OPT.valgrind else 16) * 1024
        check(rss - rss0 < grow, "VmRSS grew from %d to %d KiB during %s", rss0, rss, how)
        if not OPT.valgrind:
            check(rss < 30 * 1024 or rss - rss0 < 8 * 1024,
                  "VmRSS is %d KiB after %s", rss, how)
        no_fail_verdict(d, "after %s" % how)
    w.check("while the app served a 50 MiB metrics page")
    check(w.seen["/health"] == {200}, "/health answered %s while only /metrics was too big",
          sorted(w.seen["/health"]))
    app.set("/metrics")
    ok0 = metric_or_zero(d.metrics(), "rollguard_scrapes_total", result="ok")
    w.until("a good scrape after the big pages", lambda: metric_or_zero(
        d.metrics(), "rollguard_scrapes_total", result="ok") > ok0, scaled(4.0))
    check(d.status()["scrape"]["last"] == "ok", "scrape.last not ok after the page shrank")


def sane_rates(d, during):
    """No negative or absurd numbers from counters that went back to 0."""
    m = d.metrics()
    for name, labels in (("rollguard_window_requests", {"source": "scrape"}),
                         ("rollguard_window_errors", {"source": "scrape"}),
                         ("rollguard_error_rate", {})):
        for lab, v in m.find(name, **labels):
            check(0 <= v < 1e7, "%s%r is %s %s", name, lab, v, during)
    er = [v for _, v in m.find("rollguard_error_rate")]
    check(all(v <= 1.0 for v in er), "rollguard_error_rate %r above 1 %s", er, during)
    v = d.status().get("analysis") or {}
    for r in v.get("rules") or ():
        for k in ("value", "requests", "errors"):
            x = r.get(k)
            check(not isinstance(x, (int, float)) or x >= 0,
                  "/status analysis rule %s has %s %r %s", r.get("rule"), k, x, during)
    return m


@case
def app_restart(t):
    app = t.app()
    port = free_port()
    traffic = Traffic(app, rate=200, errors=0.01)
    t.on_cleanup(traffic.stop)
    d = t.daemon(scrape_config(port, app))
    w = ProbeWatch(port)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    w.until("scraped traffic in the window", lambda: metric_or_zero(
        d.metrics(), "rollguard_window_requests", source="scrape") > 0, scaled(5.0))

    # 1. Counters back to 0 while the app keeps serving (a fast in-place restart).
    # Traffic pauses until the reset is seen: a counter that climbs past its
    # old value before the next scrape hides the reset (from rate() too).
    restarts0 = metric_or_zero(d.metrics(), "rollguard_app_restarts_total")
    ok0 = metric_or_zero(d.metrics(), "rollguard_scrapes_total", result="ok")
    traffic.paused = True
    app.reset_metrics()
    app.advance_metrics(200, 1, 0.02)
    w.until("the counter reset to be seen", lambda: metric_or_zero(
        d.metrics(), "rollguard_app_restarts_total") > restarts0, scaled(3.0))
    traffic.paused = False
    sane_rates(d, "after the app's counters went back to 0")
    check(d.status()["scrape"]["app_restarts"] >= 1, "/status scrape.app_restarts is 0")
    w.until("good scrapes after the reset", lambda: metric_or_zero(
        d.metrics(), "rollguard_scrapes_total", result="ok") >= ok0 + 2, scaled(3.0))
    sane_rates(d, "after the reset")
    no_fail_verdict(d, "after the app's counters went back to 0")
    check(w.seen["/health"] == {200} and w.seen["/ready"] == {200},
          "probes answered %r during an in-place restart", w.seen)

    # 2. A real restart: the port goes away for a while, counters come back at 0.
    restarts1 = metric_or_zero(d.metrics(), "rollguard_app_restarts_total")
    traffic.paused = True
    app.down()
    t_down = time.monotonic()
    w.until("/health 503 while the app is down (liveness failure_threshold 3)",
            lambda: getattr(try_kget(port, "/health"), "status", None) == 503,
            probe_deadline(3))
    r = try_kget(port, "/ready")
    check(r is not None and r.status == 503, "/ready answered %r while the app is down",
          r and r.status)
    app.reset_metrics()
    app.advance_metrics(200, 1, 0.02)
    w.hold(max(0.0, scaled(1.2) - (time.monotonic() - t_down)))
    un = metric_or_zero(d.metrics(), "rollguard_scrapes_total", result="unreachable")
    check(un >= 1, "no unreachable scrape while the app was down")
    app.up()
    wait_status(port, "/health", 200, probe_deadline(1), "the app listens again")
    wait_status(port, "/ready", 200, probe_deadline(1), "the app listens again")
    ok1 = metric_or_zero(d.metrics(), "rollguard_scrapes_total", result="ok")
    w.until("a good scrape after the restart", lambda: metric_or_zero(
        d.metrics(), "rollguard_scrapes_total", result="ok") >= ok1 + 1, scaled(3.0))
    check(metric_or_zero(d.metrics(), "rollguard_app_restarts_total") > restarts1,
          "the counter reset across the outage was not counted as an app restart")
    traffic.paused = False
    w.until("scraping to resume", lambda: metric_or_zero(
        d.metrics(), "rollguard_scrapes_total", result="ok") >= ok1 + 3, scaled(4.0))
    check(d.status()["scrape"]["last"] == "ok", "scrape.last is not ok after the restart")
    sane_rates(d, "after the app came back")
    no_fail_verdict(d, "after an app restart")
    w.check("around app restarts")


def bad_reload_texts(good_text):
    cut = good_text.index("http://") + 12  # inside the first quoted URL
    return [
        ("an empty file", b""),
        ("a half-written file", good_text[:cut].encode()),
        ("garbage bytes", bytes(random.Random(11).getrandbits(8) for _ in range(2000))),
    ]


def check_old_config_kept(d, app, w, hash0, what, off):
    """After a failed reload: same hash, the old probes still at the old
    period, an error logged, probes answering."""
    e = d.status()["config"]
    check(e["hash"] == hash0, "config hash changed after %s: %s -> %s", what, hash0, e["hash"])
    check(e["last_reload_error"], "/status config.last_reload_error is empty after %s", what)
    t0 = time.monotonic()
    w.hold(6 * period())
    n = app.served_since("/healthz", t0)
    check(n >= 3, "only %d liveness probe(s) of the app in 6 periods after %s: the old probe "
          "is not running at its period", n, what)
    check(app.count("/broken") == 0, "part of %s was applied (/broken probed)", what)
    check(w.seen["/health"] == {200} and w.seen["/ready"] == {200},
          "probes answered %r after %s", w.seen, what)
    errs = [r for _, r in d.log_records(off)
            if r.get("event") == "config_reload_failed" and r.get("level") == "error"]
    check(errs and errs[0].get("error"), "no error-level config_reload_failed log line with an "
          "error after %s", what)
    vlog("%s: %s", what, errs[0].get("error"))


def reload_faults(t, configmap):
    app = t.app()
    app.set("/broken", 500)
    port = free_port()
    cfg = base_config(port, app)
    good_text = to_yaml(cfg) + "\n"
    # What a torn write would have applied: liveness at /broken.
    torn = to_yaml(merge(cfg, {"app": {"liveness": {"http": {"url": app.url("/broken")}}}}))
    if configmap:
        root = os.path.join(t.wd.path, "configmap")
        d = t.daemon(config_path=cm_setup(root, good_text), port=port)
    else:
        d = t.daemon(cfg)
    w = ProbeWatch(port)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    hash0 = d.status()["config"]["hash"]
    ok0, _ = reloads(d)
    n = [0]

    def swap(make):
        """ConfigMap: a new timestamped dir made by make(dir), then the swap."""
        n[0] += 1
        stamp = CM_STAMP % (n[0], 100 + n[0])
        os.mkdir(os.path.join(root, stamp))
        make(os.path.join(root, stamp))
        old = os.readlink(os.path.join(root, "..data"))
        os.symlink(stamp, os.path.join(root, "..data_tmp"))
        os.rename(os.path.join(root, "..data_tmp"), os.path.join(root, "..data"))
        shutil.rmtree(os.path.join(root, old))

    def write_file(text):
        def make(dirpath):
            with open(os.path.join(dirpath, "rollguard.yaml"), "wb") as f:
                f.write(text)
        return make

    faults = [("the file deleted", None)] + bad_reload_texts(torn) + \
        [("a directory in place of the file", "dir")]
    for what, body in faults:
        off = d.log_size()
        _, failed0 = reloads(d)
        if configmap:
            if body is None:
                swap(lambda p: None)                      # the key left the ConfigMap
            elif body == "dir":
                swap(lambda p: os.mkdir(os.path.join(p, "rollguard.yaml")))
            else:
                swap(write_file(body))
        else:
            path = d.config_path
            if os.path.isdir(path):
                os.rmdir(path)
            elif os.path.exists(path):
                os.unlink(path)
            if body == "dir":
                os.mkdir(path)
            elif body is not None:
                with open(path, "wb") as f:             # in place, not atomic
                    f.write(body)
            d.signal(signal.SIGHUP)
        w.until("reloads_total{result=\"failed\"} to grow after %s" % what,
                lambda: reloads(d)[1] > failed0, scaled(3.0))
        check_old_config_kept(d, app, w, hash0, what, off)
    w.check("during failed reloads")
    check(reloads(d)[0] == ok0, "a broken file counted as a good reload")

    # A good file again is picked up.
    good = merge(cfg, {"app": {"liveness": {"failure_threshold": 4}}})
    if configmap:
        swap(write_file((to_yaml(good) + "\n").encode()))
    else:
        os.rmdir(d.config_path)
        write_atomic(d.config_path, to_yaml(good) + "\n")
        d.signal(signal.SIGHUP)
    w.until("a good reload after the broken files", lambda: reloads(d)[0] > ok0, scaled(3.0))
    s = d.status()["config"]
    check(s["hash"] != hash0 and s["last_reload_ok"] is True,
          "after a good file: hash %s (was %s), last_reload_ok %r", s["hash"], hash0,
          s["last_reload_ok"])
    check(d.metrics().value("rollguard_config_last_reload_success") == 1,
          "rollguard_config_last_reload_success not 1 after the good file")
    hold_status(port, "/health", 200, 3 * period())


@case
def reload_file_faults_sighup(t):
    reload_faults(t, configmap=False)


@case
def reload_file_faults_configmap(t):
    reload_faults(t, configmap=True)


# --------------------------------------------------------------------------
# Wall clock jumps (libfaketime)

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def date_offset(d):
    """Seconds between the daemon's Date header and the real wall clock."""
    import email.utils
    r = d.get("/livez")
    hdr = r.header("date")
    check(hdr, "/livez reply has no Date header")
    return email.utils.parsedate_to_datetime(hdr).timestamp() - time.time()


def verdict_total(m):
    return sum(v for _, v in m.find("rollguard_verdicts_total"))


def cadence(d, app, w, span, what):
    """Counts over `span` real seconds: fake-app requests per path, verdicts;
    checks them against the configured periods."""
    m0 = d.metrics()
    t0 = time.monotonic()
    c0 = app.counts()
    w.hold(span)
    c1 = app.counts()
    m1 = d.metrics()
    dt = time.monotonic() - t0
    for path, every in (("/healthz", period()), ("/ready", period()), ("/metrics", 1.0)):
        n = c1.get(path, 0) - c0.get(path, 0)
        want = dt / every
        check(0.5 * want - 1 <= n <= 1.5 * want + 1, "%s: the app's %s got %d request(s) in "
              "%.1fs; its period is %.1fs (about %.0f expected)", what, path, n, dt, every, want)
    nv = verdict_total(m1) - verdict_total(m0)
    check(nv <= dt / 1.0 + 2, "%s: %d verdicts in %.1fs with analysis.interval 1s (a burst)",
          what, nv, dt)
    check(nv >= 1, "%s: no verdict in %.1fs with analysis.interval 1s", what, dt)
    up = m1.need("rollguard_uptime_seconds") - m0.need("rollguard_uptime_seconds")
    check(0 <= up <= dt + 2, "%s: rollguard_uptime_seconds moved by %.0f s in %.1f real "
          "seconds", what, up, dt)
    return m1


@case
def clock_jumps(t):
    if not os.path.exists(FAKETIME_LIB):
        raise CaseSkip("libfaketime not found at %s (Debian package: faketime)" % FAKETIME_LIB)
    app = t.app()
    port = free_port()
    stamp = os.path.join(t.wd.path, "faketime")
    write_atomic(stamp, "+0\n")
    env = {
        "LD_PRELOAD": ":".join(p for p in (FAKETIME_LIB, os.environ.get("LD_PRELOAD")) if p),
        "FAKETIME_TIMESTAMP_FILE": stamp,
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        # libfaketime comes before the ASan runtime in a sanitizer build.
        "ASAN_OPTIONS": ":".join(p for p in (os.environ.get("ASAN_OPTIONS"),
                                             "verify_asan_link_order=0") if p),
    }
    traffic = Traffic(app, rate=100, errors=0.01)
    t.on_cleanup(traffic.stop)
    d = t.daemon(scrape_config(port, app), env=env)
    w = ProbeWatch(port)
    wait_status(port, "/ready", 200, probe_deadline(1), "app healthy")
    w.until("a PASS verdict", lambda: (d.status().get("analysis") or {}).get("outcome")
            == "PASS", scaled(15.0), interval=0.2)
    span = 5.0 if OPT.valgrind else 2.0  # a few periods, not 10x as many
    cadence(d, app, w, span, "before any jump")
    m = no_fail_verdict(d, "before any jump")
    inconclusive0 = m.value("rollguard_verdicts_total", 0, outcome="inconclusive")
    off = d.log_size()

    for spec, hours, what in (("+3h", 3, "after the wall clock jumped 3 hours forward"),
                              ("-2h", -2, "after the wall clock jumped 5 hours back")):
        write_atomic(stamp, spec + "\n")
        skew = date_offset(d)
        check(abs(skew - hours * 3600) < 120, "the fake clock did not move: the Date header "
              "is %.0f s off the real clock, want %d h (is libfaketime working?)", skew, hours)
        cadence(d, app, w, span, what)
        m = no_fail_verdict(d, what)
        inc = m.value("rollguard_verdicts_total", 0, outcome="inconclusive")
        check(inc == inconclusive0, "%s: %d INCONCLUSIVE verdict(s) (a warmup restart?): %r",
              what, inc - inconclusive0, d.status().get("analysis"))
        check(d.status()["analysis"]["outcome"] == "PASS", "%s: the verdict is %r", what,
              d.status()["analysis"])
    w.check("around wall clock jumps")
    check(w.seen["/health"] == {200} and w.seen["/ready"] == {200},
          "probes answered %r around wall clock jumps", w.seen)
    bad = [r for _, r in d.log_records(off) if r.get("level") in ("warn", "error")]
    check(not bad, "warnings or errors logged around the clock jumps: %s",
          brief([(0, r) for r in bad]))


# Reading real instrumentation: registered after the cases above.
import cases_reading  # noqa: E402,F401
import cases_summary  # noqa: E402,F401
