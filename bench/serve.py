#!/usr/bin/env python3
"""Serving and load benchmarks of the rollguard daemon, nginx as the peer.

    bench/serve.py [--quick] [--runs N] [--out DIR] [--only A,B,...] [--binary PATH]

  A  probe serving: /health on rollguard vs nginx `return 200`, wrk keep-alive and
     Connection: close (servers pinned to core 0, wrk to core 1)
  B  open-loop latency (bench_openloop, from each request's due time): rollguard idle
     vs rollguard scraping a 5 MB page every second
  C  load: wrk with 1000 connections on /health while scraping 5 MB/s, and a
     kubelet-like requester (a new connection every 100 ms) measuring its latency
  D  slowloris: 10,000 idle or trickling connections, kubelet-like requests meanwhile
  E  soak: steady load + scraping, RSS sampled over time (10 min; --quick 60 s)
  F  footprint: RSS at start, after an idle span, under C; idle CPU s/min; nginx idle
     RSS; binary size

Each part writes DIR/<benchmark>.json (schema in bench/README.md) and one summary
line per row on stdout. Exits non-zero only when a run is broken (a server died, a
tool is missing), never because a goal was missed (those lines say MISSED).
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "pylib"))
from rgtest.net import free_port, http_get  # noqa: E402  (shared helpers: tests/pylib)
from rgtest.procs import Procs  # noqa: E402  (every child, ended on exit or Ctrl-C)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NGINX = "/usr/sbin/nginx"
SERVER_CPU = "0"
LOAD_CPU = "1"
NICE = []       # ["nice", "-n", "-10"] when allowed: every process of a measurement alike


class Broken(Exception):
    """A run that cannot be trusted: a process died or a tool is missing."""


# --- processes -------------------------------------------------------------------

PROCS = Procs()


def on_signal(signum, frame):
    raise KeyboardInterrupt


def need(tool):
    path = shutil.which(tool) or (tool if os.access(tool, os.X_OK) else None)
    if not path:
        raise Broken("tool missing: %s" % tool)
    return path


def wait_for(cond, what, timeout, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise Broken("%s: process exited with %s" % (what, proc.returncode))
        if cond():
            return
        time.sleep(0.05)
    raise Broken("timed out waiting for " + what)


def proc_status(pid):
    """VmRSS, VmHWM (peak VmRSS) and RssAnon in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon"):
                out[k] = int(v.split()[0])
    return out


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


# --- the fake app, rollguard, nginx ---------------------------------------------------

class App:
    def __init__(self, tmp, size_mb):
        # SCHED_IDLE: it runs only when the load tools sharing its core have nothing to
        # do, so serving the page never delays their sends (the kubelet does not share
        # the app's CPU either).
        self.proc = PROCS.start(["chrt", "-i", "0", "taskset", "-c", LOAD_CPU, sys.executable,
                                 os.path.join(HERE, "metrics_app.py"), "--size-mb",
                                 str(size_mb)], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.page_bytes = int(self.proc.stdout.readline().split()[1])

    def stop(self):
        PROCS.stop(self.proc)


class Rollguard:
    """One daemon with a config written to tmp; pinned to the server core."""

    def __init__(self, binary, tmp, app, scrape_interval=None, name="rg", server=None):
        self.port = free_port()
        self.cfg = os.path.join(tmp, name + ".yaml")
        self.log = os.path.join(tmp, name + ".log")
        self.app, self.server = app, server
        self.write_config(scrape_interval)
        self.logf = open(self.log, "w")
        self.proc = PROCS.start(NICE + ["taskset", "-c", SERVER_CPU, binary, "--config",
                                        self.cfg],
                                stdout=self.logf, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.t_start = time.monotonic()
        wait_for(lambda: http_get(self.port, "/health")[0] == 200, "rollguard /health 200",
                 15, self.proc)
        if self.scrapes:
            wait_for(lambda: self.scrapes_ok() >= 1, "rollguard's first scrape", 15, self.proc)

    def set_scrape(self, scrape_interval):
        """Rewrites the config with scraping on (interval s) or off, reloads (SIGHUP)."""
        before = self.metric('rollguard_config_reloads_total{result="ok"}') or 0
        self.write_config(scrape_interval)
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: (self.metric('rollguard_config_reloads_total{result="ok"}') or 0)
                 > before, "rollguard's config reload", 10, self.proc)
        if scrape_interval:
            n = self.scrapes_ok()
            wait_for(lambda: self.scrapes_ok() > n, "a scrape after the reload", 15, self.proc)

    def write_config(self, scrape_interval):
        app, server = self.app, self.server
        base = "http://127.0.0.1:%d" % app.port
        lines = [
            'listen: "127.0.0.1:%d"' % self.port,
            'admin_listen: ""',
            "log: {level: warn, format: text}",
            "app:",
            '  liveness: {enabled: true, http: {url: "%s/healthz", timeout: 1s}, period: 10s}'
            % base,
            '  readiness: {enabled: true, http: {url: "%s/ready", timeout: 1s}, period: 5s}'
            % base,
        ]
        if scrape_interval:
            t = min(scrape_interval, 2)
            lines.append('  metrics: {url: "%s/metrics", interval: %ds, timeout: %ds, '
                         "max_bytes: 67108864}" % (base, scrape_interval, t))
        else:
            lines.append('  metrics: {url: ""}')
        if server:
            lines.append("server: {%s}" % ", ".join("%s: %s" % kv for kv in server.items()))
        lines.append("rollback: {mode: off}")
        tmpf = self.cfg + ".new"
        with open(tmpf, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmpf, self.cfg)
        self.scrapes = bool(scrape_interval)

    def metric(self, name_labels):
        st, body = http_get(self.port, "/metrics", timeout=3)
        if st != 200:
            return None
        for line in body.decode(errors="replace").splitlines():
            if line.startswith(name_labels + " "):
                return float(line.split()[-1])
        return None

    def scrapes_ok(self):
        return self.metric('rollguard_scrapes_total{result="ok"}') or 0

    def scrape_counts(self):
        """rollguard_scrapes_total by result: (ok, everything else)."""
        st, body = http_get(self.port, "/metrics", timeout=3)
        ok = bad = 0
        for line in (body.decode(errors="replace") if st == 200 else "").splitlines():
            m = re.match(r'rollguard_scrapes_total\{result="(\w+)"\} (\S+)$', line)
            if m:
                if m.group(1) == "ok":
                    ok += float(m.group(2))
                else:
                    bad += float(m.group(2))
        return ok, bad

    def alive(self):
        return self.proc.poll() is None

    def check(self, what):
        if not self.alive():
            raise Broken("rollguard died during %s (exit %s); log: %s"
                         % (what, self.proc.returncode, self.tail()))

    def tail(self):
        try:
            with open(self.log) as f:
                return " | ".join(f.read().splitlines()[-5:])
        except OSError:
            return ""

    def stop(self):
        PROCS.stop(self.proc)
        self.logf.close()


def health_reply(binary_port):
    """rollguard's /health body and content type, to serve the same from nginx."""
    with socket.create_connection(("127.0.0.1", binary_port), timeout=2) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
    head, _, body = data.partition(b"\r\n\r\n")
    ctype = "text/plain"
    for line in head.decode().split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.lower() == "content-type":
            ctype = v.strip()
    return body.decode(), ctype


def nginx_version():
    r = subprocess.run([NGINX, "-v"], capture_output=True, text=True)
    m = re.search(r"nginx/(\S+)", r.stderr + r.stdout)
    return m.group(1) if m else "?"


class Nginx:
    """nginx, one worker, `return 200` with rollguard's /health body; not a daemon."""

    def __init__(self, tmp, body, ctype):
        self.port = free_port()
        d = os.path.join(tmp, "nginx")
        os.makedirs(d, exist_ok=True)
        esc = body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        conf = """
daemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%(port)d backlog=1024;
        location = /health {
            default_type "%(ctype)s";
            add_header Cache-Control no-store always;
            add_header X-Content-Type-Options nosniff always;
            return 200 "%(body)s";
        }
    }
}
""" % {"d": d, "port": self.port, "ctype": ctype, "body": esc}
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = PROCS.start(NICE + ["taskset", "-c", SERVER_CPU, NGINX, "-p", d, "-c",
                                        self.conf,
                                 "-e", os.path.join(d, "error.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        wait_for(lambda: http_get(self.port, "/health")[0] == 200, "nginx /health 200", 10,
                 self.proc)
        st, got = http_get(self.port, "/health")
        if got.decode() != body:
            raise Broken("nginx body %r differs from rollguard's %r" % (got, body))

    def pids(self):
        return [self.pid] + children(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        PROCS.stop(self.proc, signal.SIGQUIT)


# --- load tools --------------------------------------------------------------------

def wrk(port, conns, secs, close=False, path="/health"):
    argv = NICE + ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c%d" % conns, "-d%ds" % secs,
            "--timeout", "2s"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append("http://127.0.0.1:%d%s" % (port, path))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 60)
    out = r.stdout
    if r.returncode != 0 or "Requests/sec" not in out:
        raise Broken("wrk failed: %s %s" % (out, r.stderr))
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
           "requests": int(re.search(r"(\d+) requests in", out).group(1)),
           "non2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["connect"], res["read"], res["write"], res["timeout"] = map(int, m.groups())
    return res


def openloop_argv(port, rate, secs, keepalive=0, timeout_ms=5000, path="/health",
                  priority=False):
    """priority: one step above the other processes (a requester sharing a core)."""
    argv = NICE + ["taskset", "-c", LOAD_CPU]
    if priority:
        argv = ["nice", "-n", str(int(NICE[2]) - 5) if NICE else "-5"] + argv[len(NICE):]
    argv += [OPENLOOP, "--port", str(port), "--path", path, "--rate", str(rate),
             "--duration", str(secs), "--timeout", str(timeout_ms)]
    if keepalive:
        argv += ["--keepalive", str(keepalive)]
    return argv


def openloop(*a, **kw):
    argv = openloop_argv(*a, **kw)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=float(a[2]) + 120)
    if r.returncode != 0:
        raise Broken("bench_openloop failed: %s" % r.stderr)
    return json.loads(r.stdout)


def openloop_bg(*a, **kw):
    return PROCS.start(openloop_argv(*a, **kw), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)


def openloop_result(p, what):
    out, err = p.communicate()
    PROCS.items.remove(p) if p in PROCS.items else None
    if p.returncode != 0:
        raise Broken("bench_openloop (%s) failed: %s" % (what, err))
    return json.loads(out)


def failures(ol):
    return ol["non_2xx"] + ol["conn_errors"] + ol["bad_replies"] + ol["timeouts"] + \
        ol["client_overflow"]


def can_renice(n=-15):
    r = subprocess.run(["nice", "-n", str(n), "true"], capture_output=True)
    return r.returncode == 0 and not r.stderr


def prio_note():
    return ("servers and load tools run at nice %s so that other work on the machine "
            "disturbs them less; the fake app under SCHED_IDLE, below the load tools "
            "that share its core" % NICE[2]
            if NICE else "all processes at the default priority; the fake app under SCHED_IDLE")


def load_note(t0_load):
    return "machine load average (1 min) at start %.2f, at end %.2f (%s)." % (
        t0_load, os.getloadavg()[0], prio_note())


# --- results -------------------------------------------------------------------------

def med(v):
    return statistics.median(v) if v else None


def row(metric, unit, better, rg, peer=None, peer_name=None, goal=None):
    return {"metric": metric, "unit": unit, "better": better, "rollguard": rg,
            "peer": peer, "peer_name": peer_name, "goal": goal}


def verdict(r):
    g = r["goal"]
    if not g:
        return ""
    m = med(r["rollguard"])
    if m is None:
        return "MISSED (no data)"
    if "max" in g:
        return "ok" if m <= g["max"] else "MISSED (goal <= %g)" % g["max"]
    pm = med(r["peer"] or [])
    if not pm:
        return "n/a (peer 0)"
    ratio = m / pm
    if "ratio_min" in g:
        return ("ok" if ratio >= g["ratio_min"] else "MISSED") + \
            " (ratio %.2f, goal >= %g)" % (ratio, g["ratio_min"])
    return ("ok" if ratio <= g["ratio_max"] else "MISSED") + \
        " (ratio %.2f, goal <= %g)" % (ratio, g["ratio_max"])


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000 or v == int(v):
        return "%.0f" % v
    return "%.3g" % v


def spread(v):
    if not v:
        return "-"
    if len(v) == 1:
        return fmt(v[0])
    return "%s [%s..%s]" % (fmt(med(v)), fmt(min(v)), fmt(max(v)))


def write_result(out, name, title, notes, rows):
    doc = {"benchmark": name, "title": title, "notes": notes, "rows": rows}
    path = os.path.join(out, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    for r in rows:
        line = "%-13s %-44s rollguard %s" % (name, r["metric"], spread(r["rollguard"]))
        if r["peer"] is not None:
            line += " | %s %s" % (r["peer_name"], spread(r["peer"]))
        line += " %s" % r["unit"]
        v = verdict(r)
        if v:
            line += "  " + v
        print(line, flush=True)
    return path


# --- A: probe serving --------------------------------------------------------------------

def bench_a(o, tmp):
    secs = 3 if o.quick else 10
    app = App(tmp, 0)
    rg = Rollguard(o.binary, tmp, app, None, "rg-a")
    body, ctype = health_reply(rg.port)
    ng = Nginx(tmp, body, ctype)
    res = {(s, m): {"rps": [], "err": []} for s in ("rg", "ng") for m in ("ka", "close")}
    for i in range(o.runs):
        for mode in ("ka", "close"):
            order = ("rg", "ng") if i % 2 == 0 else ("ng", "rg")
            for s in order:
                port = rg.port if s == "rg" else ng.port
                w = wrk(port, 50, secs, close=(mode == "close"))
                res[(s, mode)]["rps"].append(w["rps"])
                res[(s, mode)]["err"].append(w["non2xx"] + w["connect"] + w["read"] +
                                             w["write"] + w["timeout"])
                rg.check("A")
                if not ng.alive():
                    raise Broken("nginx died during A")
    ng.stop()
    rg.stop()
    app.stop()
    peer = "nginx %s, 1 worker" % nginx_version()
    rows = [
        row("keep-alive req/s", "req/s", "higher", res[("rg", "ka")]["rps"],
            res[("ng", "ka")]["rps"], peer, {"ratio_min": 0.6}),
        row("Connection: close req/s", "req/s", "higher", res[("rg", "close")]["rps"],
            res[("ng", "close")]["rps"], peer, {"ratio_min": 1.0}),
        row("keep-alive non-2xx + socket errors", "count", "lower",
            res[("rg", "ka")]["err"], res[("ng", "ka")]["err"], peer, {"max": 0}),
        row("Connection: close non-2xx + socket errors", "count", "lower",
            res[("rg", "close")]["err"], res[("ng", "close")]["err"], peer, {"max": 0}),
    ]
    notes = [
        "wrk -t1 -c50 -d%ds on GET /health, pinned to core %s; each server pinned to core %s "
        "(nginx master and worker both); %d runs, servers alternated in each run."
        % (secs, LOAD_CPU, SERVER_CPU, o.runs), load_note(o.load0),
        "nginx: worker_processes 1, access_log off, keepalive_requests 1000000, "
        "`return 200` with rollguard's body %r and Content-Type %r, plus the same "
        "Cache-Control and X-Content-Type-Options headers." % (body, ctype),
        "rollguard: liveness and readiness probes on (app on core %s), no metrics scrape, "
        "rollback.mode off, admin_listen \"\"." % LOAD_CPU,
    ]
    write_result(o.out, "probe-serving", "Probe serving: /health vs nginx", notes, rows)


# --- B: open-loop latency ----------------------------------------------------------------

def bench_b(o, tmp):
    secs = 5 if o.quick else 20
    rate = 2000
    app = App(tmp, 5)
    variants = [("close", 0), ("keep-alive", 50)]
    res = {(c, v): [] for c in ("idle", "scrape") for v, _ in variants}
    rg = Rollguard(o.binary, tmp, app, None, "rg-b")
    k = scrapes = 0
    for i in range(o.runs):
        for v, ka in variants:
            conds = ("idle", "scrape") if k % 2 == 0 else ("scrape", "idle")
            k += 1
            for cond in conds:
                rg.set_scrape(1 if cond == "scrape" else None)
                n0 = rg.scrapes_ok()
                res[(cond, v)].append(openloop(rg.port, rate, secs, keepalive=ka))
                rg.check("B")
                scrapes += rg.scrapes_ok() - n0
    rg.stop()
    app.stop()
    rows = []
    for v, ka in variants:
        what = "new connection each" if not ka else "%d keep-alive connections" % ka
        for q in ("p50", "p90", "p99", "max"):
            rows.append(row("%s latency, %s" % (q, what), "ms", "lower",
                            [r[q + "_ms"] for r in res[("scrape", v)]],
                            [r[q + "_ms"] for r in res[("idle", v)]], "rollguard idle",
                            {"ratio_max": 1.5} if q == "p99" else None))
        rows.append(row("failed requests, %s" % what, "count", "lower",
                        [failures(r) for r in res[("scrape", v)]],
                        [failures(r) for r in res[("idle", v)]], "rollguard idle", {"max": 0}))
    notes = [
        "bench_openloop at %d req/s for %d s per run, latency from each request's due time "
        "(no coordinated omission); %d runs. One daemon for all runs: each run measures "
        "both conditions back to back in alternating order, switching scraping on and off "
        "by a config reload (SIGHUP) and waiting for the first scrape after switching on."
        % (rate, secs, o.runs),
        "rollguard column: scraping a %.1f MB Prometheus page every 1 s (timeout 1 s: the "
        "config requires timeout <= interval) with liveness/readiness probes; peer: the same "
        "binary with probes only, no scrape." % (app.page_bytes / 1e6),
        "rollguard on core %s; bench_openloop and the fake app on core %s."
        % (SERVER_CPU, LOAD_CPU),
        "%d scrapes ok during the scraping segments." % scrapes, load_note(o.load0),
    ]
    for (cond, v), rs in sorted(res.items()):
        bad = [{k: r[k] for k in ("non_2xx", "conn_errors", "bad_replies", "timeouts",
                                  "client_overflow", "keepalive_closed") if r[k]} for r in rs]
        if any(bad):
            notes.append("failures and closes, %s, %s, per run: %s" % (cond, v, json.dumps(bad)))
    write_result(o.out, "openloop-latency", "Open-loop /health latency: scraping vs idle",
                 notes, rows)


# --- C: load ---------------------------------------------------------------------------

def sample_rss(pid, period, stop, samples):
    while not stop.is_set():
        try:
            st = proc_status(pid)
        except OSError:
            return
        samples.append((time.monotonic(), st["VmRSS"], st["RssAnon"]))
        stop.wait(period)


def bench_c(o, tmp, shared):
    secs = 10 if o.quick else 30
    conns = 1000
    app = App(tmp, 5)
    prio = can_renice(int(NICE[2]) - 5 if NICE else -5)
    out = {k: [] for k in ("rps", "non2xx", "connect", "rwt", "p50", "p99", "max", "pfail",
                           "dead", "rss", "hwm", "sok", "sbad")}
    for i in range(o.runs):
        rg = Rollguard(o.binary, tmp, app, 1, "rg-c")
        time.sleep(1)
        s0 = rg.scrape_counts()
        stop, samples = threading.Event(), []
        th = threading.Thread(target=sample_rss, args=(rg.pid, 1.0, stop, samples))
        th.start()
        pr = openloop_bg(rg.port, 10, secs, timeout_ms=1000, priority=prio)
        w = wrk(rg.port, conns, secs)
        ol = openloop_result(pr, "C requester")
        stop.set()
        th.join()
        hwm = proc_status(rg.pid)["VmHWM"] if rg.alive() else None
        time.sleep(0.5)
        dead = 0 if rg.alive() and http_get(rg.port, "/health")[0] == 200 else 1
        s1 = rg.scrape_counts() if not dead else s0
        out["sok"].append(s1[0] - s0[0])
        out["sbad"].append(s1[1] - s0[1])
        out["rps"].append(w["rps"])
        out["non2xx"].append(w["non2xx"])
        out["connect"].append(w["connect"])
        out["rwt"].append(w["read"] + w["write"] + w["timeout"])
        out["p50"].append(ol["p50_ms"])
        out["p99"].append(ol["p99_ms"])
        out["max"].append(ol["max_ms"])
        out["pfail"].append(failures(ol))
        out["dead"].append(dead)
        out["rss"].append(max(s[1] for s in samples) / 1024 if samples else None)
        out["hwm"].append(hwm / 1024 if hwm else None)
        if dead:
            rg.stop()
            app.stop()
            raise Broken("rollguard not alive after the C load; log: %s" % rg.tail())
        rg.stop()
    app.stop()
    shared["rss_load_c"] = out["hwm"]
    rows = [
        row("wrk /health req/s (1000 conns)", "req/s", "higher", out["rps"]),
        row("wrk non-2xx replies", "count", "lower", out["non2xx"], goal={"max": 0}),
        row("wrk socket errors: read+write+timeout", "count", "lower", out["rwt"],
            goal={"max": 0}),
        row("wrk socket errors: connect", "count", "lower", out["connect"]),
        row("kubelet-like requester p50", "ms", "lower", out["p50"]),
        row("kubelet-like requester p99", "ms", "lower", out["p99"], goal={"max": 1000}),
        row("kubelet-like requester max", "ms", "lower", out["max"], goal={"max": 1000}),
        row("kubelet-like requester failures", "count", "lower", out["pfail"],
            goal={"max": 0}),
        row("daemon dead or /health not 200 after", "count", "lower", out["dead"],
            goal={"max": 0}),
        row("VmRSS max during the load, sampled each second", "MiB", "lower", out["rss"]),
        row("VmHWM (peak VmRSS) after the load", "MiB", "lower", out["hwm"]),
        row("scrapes ok during the load", "count", "higher", out["sok"]),
        row("scrapes failed during the load", "count", "lower", out["sbad"]),
    ]
    notes = [
        "wrk -t1 -c%d -d%ds on /health (keep-alive) pinned to core %s, while rollguard "
        "(core %s) scrapes a %.1f MB page every 1 s and runs its liveness/readiness probes; "
        "%d runs, a fresh daemon each." % (conns, secs, LOAD_CPU, SERVER_CPU,
                                            app.page_bytes / 1e6, o.runs),
        "Requester: bench_openloop at 10 req/s, a new connection and Connection: close per "
        "request, 1 s timeout, on core %s%s; latency from the due time."
        % (LOAD_CPU, " one nice step above the rest (it shares the core with wrk)" if prio
           else " (shares the core with wrk; could not raise its priority)"),
        load_note(o.load0),
        "server.max_connections is the default 1024; the 1000 wrk connections, the "
        "requester and the daemon's own scrape/probe connections fit under it.",
    ]
    write_result(o.out, "load", "Load: 1000 connections on /health while scraping 5 MB/s",
                 notes, rows)


# --- D: slowloris ----------------------------------------------------------------------

def bench_d(o, tmp):
    secs = 10 if o.quick else 20
    nconn = 10000
    app = App(tmp, 5)
    prio = can_renice(int(NICE[2]) - 5 if NICE else -5)
    out = {k: [] for k in ("p50", "p99", "max", "fail", "held", "pending", "peak", "closed",
                           "cfail", "dead", "sok", "sbad")}
    for i in range(o.runs):
        rg = Rollguard(o.binary, tmp, app, 1, "rg-d")
        s0 = rg.scrape_counts()
        sl = PROCS.start(["nice", "-n", "10", "taskset", "-c", LOAD_CPU, sys.executable,
                          os.path.join(HERE, "serve_slowloris.py"), "--port", str(rg.port),
                          "--conns", str(nconn), "--seconds", str(secs + 60)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = sl.stdout.readline()
        if not line.startswith("READY"):
            raise Broken("slowloris client failed: %s %s" % (line, sl.stderr.read()))
        held, pending = int(line.split()[1]), int(line.split()[2])
        ol = openloop(rg.port, 10, secs, timeout_ms=1000, priority=prio)
        sl.send_signal(signal.SIGTERM)
        sout, serr = sl.communicate(timeout=30)
        PROCS.items.remove(sl)
        st = json.loads(sout.strip().splitlines()[-1])
        dead = 0 if rg.alive() and http_get(rg.port, "/health")[0] == 200 else 1
        s1 = rg.scrape_counts() if not dead else s0
        out["sok"].append(s1[0] - s0[0])
        out["sbad"].append(s1[1] - s0[1])
        out["p50"].append(ol["p50_ms"])
        out["p99"].append(ol["p99_ms"])
        out["max"].append(ol["max_ms"])
        out["fail"].append(ol["sent"] - ol["ok_2xx"])
        out["held"].append(held)
        out["pending"].append(pending)
        out["peak"].append(st["established_peak"])
        out["closed"].append(st["closed_by_server"])
        out["cfail"].append(st["connect_failed"] + st["open_failed"])
        out["dead"].append(dead)
        if dead:
            raise Broken("rollguard not alive after slowloris; log: %s" % rg.tail())
        rg.stop()
    app.stop()
    rows = [
        row("kubelet-like /health p50", "ms", "lower", out["p50"]),
        row("kubelet-like /health p99", "ms", "lower", out["p99"]),
        row("kubelet-like /health max", "ms", "lower", out["max"], goal={"max": 1000}),
        row("kubelet-like requests not 200 within 1 s", "count", "lower", out["fail"],
            goal={"max": 0}),
        row("idle connections up when measuring began", "count", "higher", out["held"]),
        row("idle connections still connecting then", "count", "higher", out["pending"]),
        row("idle connections up, peak", "count", "higher", out["peak"]),
        row("idle connections closed by the daemon", "count", "higher", out["closed"]),
        row("idle connections refused or reset before up", "count", "lower", out["cfail"]),
        row("daemon dead or /health not 200 after", "count", "lower", out["dead"],
            goal={"max": 0}),
        row("scrapes ok during the attack", "count", "higher", out["sok"]),
        row("scrapes failed during the attack", "count", "lower", out["sbad"]),
    ]
    notes = [
        "A client holds %d TCP connections to rollguard's listen port (10%% of them send a "
        "request head one byte a second, never finishing it; the rest send nothing) and "
        "reopens every one the daemon closes (up to 2000/s), for the whole run." % nconn,
        "Meanwhile bench_openloop sends GET /health at 10 req/s for %d s, a new connection "
        "and Connection: close each, 1 s timeout%s; latency from the due time."
        % (secs, ", one nice step above the rest" if prio else ""), load_note(o.load0),
        "rollguard: server.max_connections 1024 and server.timeout 5s (defaults) enforce the "
        "limits; it scrapes a %.1f MB page every 1 s and runs its probes. %d runs."
        % (app.page_bytes / 1e6, o.runs),
        "The attacking client runs at nice 10 on core %s; 'closed by the daemon' counts EOF "
        "or reset on a connection that was up, summed over the run (reopened ones included). "
        "'Up' is the client's view: the handshake completed, so it includes connections "
        "waiting in the accept queue; 'still connecting' are SYNs the full queue left "
        "unanswered (the kernel retries them); the rest of the %d were already closed by "
        "the daemon and wait for the client to reopen them." % (LOAD_CPU, nconn),
    ]
    write_result(o.out, "slowloris", "Slowloris: 10,000 idle connections", notes, rows)


# --- E: soak ---------------------------------------------------------------------------

def slope_per_min(samples):
    """Least-squares slope of (t, kib) in KiB/min."""
    if len(samples) < 2:
        return 0.0
    ts = [s[0] for s in samples]
    ys = [s[1] for s in samples]
    mt, my = sum(ts) / len(ts), sum(ys) / len(ys)
    den = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / den * 60 if den else 0.0


def bench_e(o, tmp):
    secs = 60 if o.quick else 600
    warm = 10 if o.quick else 30
    period = 5 if o.quick else 10
    rate = 500
    app = App(tmp, 5)
    rg = Rollguard(o.binary, tmp, app, 1, "rg-e")
    t0 = time.monotonic()
    cpu0 = cpu_seconds(rg.pid)
    pr = openloop_bg(rg.port, rate, secs)
    samples = []
    rnd = random.Random(1)
    while time.monotonic() - t0 < secs:
        # a random phase inside each period: scrapes come every 1 s, and samples at
        # whole seconds would always land at the same point of the scrape cycle
        at = t0 + len(samples) * period + rnd.uniform(0, min(period, 1.0))
        time.sleep(max(0, at - time.monotonic()))
        rg.check("E")
        st = proc_status(rg.pid)
        samples.append((time.monotonic() - t0, st["VmRSS"], st["RssAnon"]))
    cpu1 = cpu_seconds(rg.pid)
    hwm = proc_status(rg.pid)["VmHWM"]
    ol = openloop_result(pr, "E load")
    rg.check("E")
    scrapes = rg.scrapes_ok()
    rg.stop()
    app.stop()
    kept = [s for s in samples if s[0] >= warm]
    # Over 50 s one 4 KiB page step is a slope of about 5 KiB/min: no goal in quick mode.
    flat = None if o.quick else {"max": 16}
    rss = [s[1] / 1024 for s in kept]
    anon = [s[2] / 1024 for s in kept]
    rows = [
        row("VmRSS at %d s (start)" % int(kept[0][0]), "MiB", "lower", [rss[0]]),
        row("VmRSS at end", "MiB", "lower", [rss[-1]]),
        row("VmRSS max of the samples", "MiB", "lower", [max(rss)]),
        row("VmHWM (peak VmRSS) at end", "MiB", "lower", [hwm / 1024]),
        row("VmRSS slope", "KiB/min", "lower", [slope_per_min([(s[0], s[1]) for s in kept])],
            goal=flat),
        row("RssAnon at start", "MiB", "lower", [anon[0]]),
        row("RssAnon at end", "MiB", "lower", [anon[-1]]),
        row("RssAnon max", "MiB", "lower", [max(anon)]),
        row("RssAnon slope", "KiB/min", "lower", [slope_per_min([(s[0], s[2]) for s in kept])],
            goal=flat),
        row("/health p99 during the soak", "ms", "lower", [ol["p99_ms"]]),
        row("/health failed requests during the soak", "count", "lower", [failures(ol)],
            goal={"max": 0}),
        row("CPU under this load", "s/min", "lower", [(cpu1 - cpu0) / (secs / 60.0)]),
    ]
    notes = [
        "One run of %d s: bench_openloop %d req/s on /health (new connection each), rollguard "
        "scraping a %.1f MB page every 1 s (%d scrapes ok) and running its probes."
        % (secs, rate, app.page_bytes / 1e6, scrapes),
        "VmRSS and RssAnon from /proc/PID/status every %d s (at a random point of each "
        "period's first second); start is the first sample at or after %d s of warm-up; "
        "VmHWM is the kernel's peak VmRSS over the whole life; slope is the least-squares fit over the samples after it "
        "(flat: at most 16 KiB/min)." % (period, warm), load_note(o.load0),
        "samples (s, VmRSS KiB, RssAnon KiB): %s" % json.dumps([[round(s[0]), s[1], s[2]]
                                                                 for s in samples]),
    ]
    if o.quick:
        notes.append("Quick mode: 60 s instead of 10 minutes, samples every 5 s after 10 s; "
                     "the slope over so short a span is mostly noise, so it has no goal.")
    write_result(o.out, "soak", "Soak: RSS under steady load and scraping", notes, rows)


# --- F: footprint ------------------------------------------------------------------------

def bench_f(o, tmp, shared):
    idle = 20 if o.quick else 600
    app = App(tmp, 0)
    rg = Rollguard(o.binary, tmp, app, 5, "rg-f")
    time.sleep(1)
    rss_start = proc_status(rg.pid)
    body, ctype = health_reply(rg.port)
    ng = Nginx(tmp, body, ctype)
    time.sleep(1)
    cpu0, t0 = cpu_seconds(rg.pid), time.monotonic()
    time.sleep(idle)
    rg.check("F")
    cpu1, t1 = cpu_seconds(rg.pid), time.monotonic()
    rss_idle = proc_status(rg.pid)
    ng_rss = sum(proc_status(p)["VmRSS"] for p in ng.pids())
    ng_anon = sum(proc_status(p)["RssAnon"] for p in ng.pids())
    nproc = len(ng.pids())
    scrapes = rg.scrapes_ok()
    ng.stop()
    rg.stop()
    app.stop()
    size = os.stat(o.binary).st_size
    stripped = os.path.join(tmp, "rollguard.stripped")
    subprocess.run(["strip", "-o", stripped, o.binary], check=True)
    ssize = os.stat(stripped).st_size
    ngsize = os.stat(NGINX).st_size
    peer = "nginx %s, master + 1 worker, idle" % nginx_version()
    rows = [
        row("VmRSS 1 s after start", "MiB", "lower", [rss_start["VmRSS"] / 1024]),
        row("RssAnon 1 s after start", "MiB", "lower", [rss_start["RssAnon"] / 1024]),
        row("VmRSS after %s idle" % ("%d s" % idle if idle < 120 else "%d min" % (idle // 60)),
            "MiB", "lower", [rss_idle["VmRSS"] / 1024], [ng_rss / 1024], peer,
            {"ratio_max": 0.5}),
        row("RssAnon after the idle span", "MiB", "lower", [rss_idle["RssAnon"] / 1024],
            [ng_anon / 1024], peer),
        row("VmHWM (peak VmRSS) under the load of C", "MiB", "lower",
            shared.get("rss_load_c") or [], [rss_idle["VmRSS"] / 1024],
            "this daemon's VmRSS after the idle span", {"ratio_max": 2.0}),
        row("CPU idle", "s/min", "lower", [(cpu1 - cpu0) / ((t1 - t0) / 60.0)],
            goal={"max": 0.06}),
        row("binary size", "KiB", "lower", [size / 1024], [ngsize / 1024],
            "/usr/sbin/nginx (dynamically linked)"),
        row("binary size, stripped", "KiB", "lower", [ssize / 1024]),
    ]
    notes = [
        "Idle: rollguard with its liveness (10 s) and readiness (5 s) probes and a scrape of "
        "a %d-byte page every 5 s (an ordinary app page: the requests counter and the "
        "latency histogram only), no incoming traffic, for %d s (%d scrapes ok); CPU is "
        "utime+stime from /proc/PID/stat over that span." % (app.page_bytes, idle, scrapes),
        "nginx: the probe-serving config (1 worker), started alongside and idle; its RSS is "
        "master + worker summed (%d processes; shared pages counted twice)." % nproc,
        "The RSS under load is VmHWM after each run of C (1000 connections, 5 MB scraped "
        "every 1 s): the peak of the daemon's whole life; empty when C did not run in this "
        "invocation.",
        "Binary: %s as built (static libcurl, -O2 -g); stripped with strip(1). nginx's size "
        "leaves out its shared libraries." % os.path.relpath(o.binary, ROOT),
        load_note(o.load0),
    ]
    if o.quick:
        notes.append("Quick mode: the idle span is 20 s, not 10 minutes; idle CPU over 20 s "
                     "is coarse (clock ticks of 10 ms).")
    write_result(o.out, "footprint", "Footprint: memory, idle CPU, binary size", notes, rows)


# --- main --------------------------------------------------------------------------------

def main():
    global OPENLOOP
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (about 3 minutes)")
    ap.add_argument("--runs", type=int, default=None, help="repeats (default 5, quick 1)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "results"))
    ap.add_argument("--only", default="A,B,C,D,E,F", help="parts to run, e.g. A,B")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "rollguard"))
    ap.add_argument("--openloop", default=os.path.join(ROOT, "build", "bench_openloop"))
    ap.add_argument("--nice", type=int, default=-10,
                    help="nice value for every measured process (0: leave as is)")
    o = ap.parse_args()
    if o.nice and can_renice(o.nice - 5):
        NICE[:] = ["nice", "-n", str(o.nice)]
    o.runs = o.runs or (1 if o.quick else 5)
    o.binary = os.path.abspath(o.binary)
    parts = [p.strip().upper() for p in o.only.split(",") if p.strip()]
    if not parts or any(p not in "ABCDEF" or len(p) != 1 for p in parts):
        ap.error("--only takes letters A to F")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="rollguard-bench-")
    try:
        for t in ("wrk", "taskset", "strip", NGINX, o.binary, o.openloop):
            need(t)
        OPENLOOP = os.path.abspath(o.openloop)
        if os.cpu_count() < 2:
            raise Broken("needs 2 cores (servers on core 0, load on core 1)")
        os.makedirs(o.out, exist_ok=True)
        shared = {}
        t_all = time.monotonic()
        for p in parts:
            t = time.monotonic()
            o.load0 = os.getloadavg()[0]
            print("== %s (%s, runs %d)" % (p, "quick" if o.quick else "full",
                                          1 if p in "EF" else o.runs), flush=True)
            {"A": lambda: bench_a(o, tmp), "B": lambda: bench_b(o, tmp),
             "C": lambda: bench_c(o, tmp, shared), "D": lambda: bench_d(o, tmp),
             "E": lambda: bench_e(o, tmp), "F": lambda: bench_f(o, tmp, shared)}[p]()
            print("   (%s took %.0f s)" % (p, time.monotonic() - t), flush=True)
        print("results in %s (%.0f s)" % (o.out, time.monotonic() - t_all))
        return 0
    except Broken as e:
        print("BROKEN: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        PROCS.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


OPENLOOP = None

if __name__ == "__main__":
    sys.exit(main())
