#!/usr/bin/env python3
"""A stand-in for the rollguard binary that follows the integration contract.

It exists to test the harness itself: `run.py --binary tests/integration/mockd.py`
must pass, and with ROLLGUARD_MOCK_BREAK=<flaw> set it must fail the case that
guards that flaw (see selftest.py). It is not a reference implementation:
its YAML reader only understands the block/flow subset the tests write.

Standard library only.
"""

import base64
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse

VERSION = "0.0.0-mock"
BREAK = set(filter(None, os.environ.get("ROLLGUARD_MOCK_BREAK", "").split(",")))


def log(level, event, **kw):
    rec = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
           "event": event}
    rec.update(kw)
    sys.stderr.write(json.dumps(rec) + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- config

class CfgError(Exception):
    def __init__(self, errs):
        self.errs = errs  # [(line, col, msg)]


SCHEMA_PROBE = {"enabled": bool, "http": {"url": str, "timeout": "dur", "tls_verify": bool},
                "tcp": {"address": str, "timeout": "dur"}, "period": "dur",
                "initial_delay": "dur", "failure_threshold": int, "success_threshold": int}
SCHEMA = {
    "listen": str, "admin_listen": str,
    "log": {"level": str, "format": str},
    "server": {"drain": "dur", "max_connections": int, "timeout": "dur",
               "max_header_bytes": int, "backlog": int},
    "app": {"liveness": SCHEMA_PROBE, "readiness": SCHEMA_PROBE,
            "metrics": {"url": str, "interval": "dur", "timeout": "dur"}},
    "rollback": {"mode": str},
}


def scalar(s):
    s = s.strip()
    if s.startswith('"'):
        return json.loads(s)
    if s in ("true", "false"):
        return s == "true"
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    return s


def parse_flow(s, line, col):
    s = s.strip()
    if not s.endswith("}"):
        raise CfgError([(line, col, "unterminated flow mapping")])
    out = {}
    for part in filter(None, (p.strip() for p in s[1:-1].split(","))):
        k, sep, v = part.partition(":")
        if not sep:
            raise CfgError([(line, col, "bad flow entry")])
        out[k.strip()] = (scalar(v), line, col)
    return out


def parse_yaml(text):
    """{key: (value, line, col)} for the subset the tests write."""
    root = {}
    stack = [(-1, root)]
    for n, raw in enumerate(text.split("\n"), 1):
        ln = re.sub(r"\s+#.*$", "", raw) if not raw.lstrip().startswith("#") else ""
        if not ln.strip():
            continue
        ind = len(ln) - len(ln.lstrip())
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*):(?:\s+(.*))?$", ln.strip())
        if not m:
            raise CfgError([(n, ind + 1, "syntax error")])
        while stack[-1][0] >= ind:
            stack.pop()
        parent = stack[-1][1]
        key, val = m.group(1), m.group(2)
        if val is None or val == "":
            d = {}
            parent[key] = (d, n, ind + 1)
            stack.append((ind, d))
        elif val.startswith("{"):
            parent[key] = (parse_flow(val, n, ind + len(key) + 3), n, ind + 1)
        elif val.startswith("["):
            raise CfgError([(n, ind + len(key) + 3, "syntax error: unclosed sequence")])
        else:
            parent[key] = (scalar(val), n, ind + 1)
    return root


def dur(v):
    m = re.fullmatch(r"(\d+)(ms|s|m)", str(v))
    if not m:
        return None
    return int(m.group(1)) / {"ms": 1000.0, "s": 1.0, "m": 1 / 60.0}[m.group(2)]


def validate(tree, schema, errs, out):
    for k, (v, line, col) in tree.items():
        if k not in schema:
            errs.append((line, col, "unknown key %r" % k))
            continue
        want = schema[k]
        if isinstance(want, dict):
            if not isinstance(v, dict):
                errs.append((line, col, "%s: want a mapping" % k))
                continue
            out[k] = {}
            validate(v, want, errs, out[k])
        elif want == "dur":
            d = dur(v)
            if d is None:
                errs.append((line, col, "%s: bad duration %r" % (k, v)))
            out[k] = (d, line, col)
        elif not isinstance(v, want) or (want is int and isinstance(v, bool)):
            errs.append((line, col, "%s: want %s" % (k, want.__name__)))
        else:
            out[k] = (v, line, col)


def probe_cfg(t, defaults):
    c = dict(defaults)
    for k, v in t.items():
        if k in ("http", "tcp"):
            c["kind"] = k
            for kk, vv in v.items():
                c[kk] = vv[0]
        else:
            c[k] = v[0]
    return c


def load(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise CfgError([(0, 0, str(e))])
    tree = parse_yaml(text)
    errs, out = [], {}
    validate(tree, SCHEMA, errs, out)
    if errs:
        raise CfgError(errs)
    app = out.get("app", {})
    pd = {"kind": "http", "timeout": 1.0, "period": 10.0, "initial_delay": 0.0,
          "failure_threshold": 3, "success_threshold": 1, "enabled": True}
    cfg = {
        "listen": out.get("listen", ("0.0.0.0:8080",))[0],
        "drain": out.get("server", {}).get("drain", (1.0,))[0],
        "liveness": probe_cfg(app.get("liveness", {}), pd),
        "readiness": probe_cfg(app.get("readiness", {}), dict(pd, failure_threshold=1)),
    }
    for name in ("liveness", "readiness"):
        p = cfg[name]
        if p["timeout"] > p["period"]:
            t = app.get(name, {})
            line, col = (t.get("period") or (None, 1, 1))[1:]
            raise CfgError([(line, col, "%s.timeout exceeds period" % name)])
    cfg["hash"] = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]
    cfg["source"] = path
    return cfg


def redact(url):
    u = urllib.parse.urlsplit(url)
    if u.password is None:
        return url
    host = u.hostname + (":%d" % u.port if u.port else "")
    return urllib.parse.urlunsplit((u.scheme, "%s:***@%s" % (u.username, host), u.path,
                                    u.query, u.fragment))


# ---------------------------------------------------------------- probes

class Probe:
    def __init__(self, name, c, initially_ok):
        self.name = name
        self.c = c
        self.ok = initially_ok
        self.has_run = False
        self.cok = self.cfail = 0
        self.runs = {"pass": 0, "fail": 0, "unreachable": 0, "error": 0}
        self.transitions = 0
        self.last = {"result": None, "status": None, "latency_seconds": 0.0, "error": None}
        self.durations = []
        self.gen = 0

    def run_once(self):
        c = self.c
        t0 = time.monotonic()
        status, err = None, None
        try:
            if c["kind"] == "tcp":
                host, port = c["address"].rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=c["timeout"]).close()
                result = "pass"
            else:
                u = urllib.parse.urlsplit(c["url"])
                s = socket.create_connection((u.hostname, u.port or 80), timeout=c["timeout"])
                s.settimeout(c["timeout"])
                hdr = ""
                if u.password is not None:
                    tok = base64.b64encode(("%s:%s" % (u.username, u.password)).encode())
                    hdr = "Authorization: Basic %s\r\n" % tok.decode()
                s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n"
                           % (u.path or "/", u.hostname, hdr)).encode())
                data = s.recv(4096)
                s.close()
                if not data:
                    raise OSError("empty reply from %s" % c["url"])
                status = int(data.split(b" ", 2)[1])
                result = "pass" if 200 <= status < 400 else "fail"
                if result == "fail":
                    err = "status %d from %s" % (status, c["url"])
        except OSError as e:
            result = "unreachable"
            err = "%s: %s" % (c.get("url") or c.get("address"), e)
        lat = time.monotonic() - t0
        if "leak" not in BREAK and err:
            err = err.replace(c.get("url") or "\x00", redact(c.get("url") or ""))
        return result, status, lat, err

    def record(self, result, status, lat, err):
        self.has_run = True
        self.runs[result] += 1
        self.durations.append(lat)
        self.last = {"result": result, "status": status, "latency_seconds": lat, "error": err}
        if "log_every_run" in BREAK:
            log("info", "probe_run", probe=self.name, result=result)
        was = self.ok
        if result == "pass":
            self.cok += 1
            self.cfail = 0
            if self.cok >= self.c["success_threshold"]:
                self.ok = True
        else:
            self.cfail += 1
            self.cok = 0
            need = 1 if "threshold" in BREAK else self.c["failure_threshold"]
            if self.cfail >= need:
                self.ok = False
        if was != self.ok:
            self.transitions += 1
            log("info" if self.ok else "warn", "probe_transition", probe=self.name,
                ok=self.ok, result=result)

    def loop(self, gen, stop):
        time.sleep(self.c["initial_delay"])
        while not stop.is_set() and self.gen == gen:
            t0 = time.monotonic()
            r = self.run_once()
            if self.gen != gen:
                return
            self.record(*r)
            stop.wait(max(0.0, self.c["period"] - (time.monotonic() - t0)))


# ---------------------------------------------------------------- daemon

class Daemon:
    def __init__(self, path, cfg):
        self.path = path
        self.cfg = cfg
        self.t0 = time.monotonic()
        self.shutting_down = False
        self.stop = threading.Event()
        self.reloads = {"ok": 0, "failed": 0}
        self.last_reload_ok = True
        self.last_reload_error = None
        self.http_counts = {}
        self.lock = threading.Lock()
        self.probes = {}
        self.start_probes()

    def start_probes(self):
        for name, initially in (("liveness", True), ("readiness", False)):
            c = self.cfg[name]
            old = self.probes.get(name)
            if not c["enabled"] and "disabled_runs" not in BREAK:
                self.probes[name] = None
                if old:
                    old.gen += 1
                continue
            if old is not None and "reload_resets" in BREAK:
                old.gen += 1
                old = None
                c = dict(c, initial_delay=c["period"])  # first run jittered, like a new probe
            if old is not None:
                old.gen += 1
                old.c = c
                p = old
            else:
                p = Probe(name, c, initially)
            self.probes[name] = p
            threading.Thread(target=p.loop, args=(p.gen, self.stop), daemon=True).start()

    def healthy(self):
        p = self.probes["liveness"]
        if "disabled_runs" in BREAK and not self.cfg["liveness"]["enabled"]:
            return p.ok
        return p is None or p.ok

    def ready(self):
        if self.shutting_down:
            return False
        p = self.probes["readiness"]
        return p is None or (p.has_run and p.ok)

    def reload(self, why):
        try:
            cfg = load(self.path)
        except CfgError as e:
            line, col, msg = e.errs[0]
            self.reloads["failed"] += 1
            self.last_reload_ok = False
            self.last_reload_error = "%s:%d:%d: %s" % (self.path, line, col, msg)
            log("error", "config_reload_failed", trigger=why, error=self.last_reload_error)
            return
        self.reloads["ok"] += 1
        self.last_reload_ok = True
        self.cfg = cfg
        self.start_probes()
        log("info", "config_reloaded", trigger=why, hash=cfg["hash"])

    def watch(self):
        def sig():
            try:
                st = os.stat(self.path)
                return (os.path.realpath(self.path), st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                return None
        last = sig()
        while not self.stop.wait(0.2):
            cur = sig()
            if cur != last and cur is not None:
                last = cur
                if "no_watch" not in BREAK:
                    self.reload("file")

    def metrics(self):
        out = []

        def fam(name, typ, help_):
            out.append("# HELP %s %s" % (name, help_))
            out.append("# TYPE %s %s" % (name, typ))
        fam("rollguard_build_info", "gauge", "Build.")
        out.append('rollguard_build_info{version="%s",revision="mock"} 1' % VERSION)
        fam("rollguard_uptime_seconds", "gauge", "Uptime.")
        out.append("rollguard_uptime_seconds %.3f" % (time.monotonic() - self.t0))
        fam("rollguard_config_info", "gauge", "Config.")
        out.append('rollguard_config_info{hash="%s"} 1' % self.cfg["hash"])
        fam("rollguard_config_reloads_total", "counter", "Reloads.")
        for r in ("ok", "failed"):
            out.append('rollguard_config_reloads_total{result="%s"} %d' % (r, self.reloads[r]))
        fam("rollguard_config_last_reload_success", "gauge", "Last reload ok.")
        out.append("rollguard_config_last_reload_success %d" % self.last_reload_ok)
        ps = [(n, p) for n, p in self.probes.items() if p is not None]
        fam("rollguard_probe_up", "gauge", "Probe verdict.")
        for n, p in ps:
            out.append('rollguard_probe_up{probe="%s"} %d' % (n, p.ok))
        fam("rollguard_probe_runs_total", "counter", "Runs.")
        for n, p in ps:
            for r, v in p.runs.items():
                out.append('rollguard_probe_runs_total{probe="%s",result="%s"} %d' % (n, r, v))
        fam("rollguard_probe_consecutive_failures", "gauge", "Failures in a row.")
        for n, p in ps:
            out.append('rollguard_probe_consecutive_failures{probe="%s"} %d' % (n, p.cfail))
        fam("rollguard_probe_duration_seconds", "histogram", "Probe latency.")
        for n, p in ps:
            d = list(p.durations)
            for le in (0.01, 0.1, 1.0):
                out.append('rollguard_probe_duration_seconds_bucket{probe="%s",le="%s"} %d'
                           % (n, le, sum(1 for x in d if x <= le)))
            out.append('rollguard_probe_duration_seconds_bucket{probe="%s",le="+Inf"} %d'
                       % (n, len(d)))
            out.append('rollguard_probe_duration_seconds_sum{probe="%s"} %f' % (n, sum(d)))
            out.append('rollguard_probe_duration_seconds_count{probe="%s"} %d' % (n, len(d)))
        fam("rollguard_probe_transitions_total", "counter", "Transitions.")
        for n, p in ps:
            out.append('rollguard_probe_transitions_total{probe="%s"} %d' % (n, p.transitions))
        for g, v in (("rollguard_ready", self.ready()), ("rollguard_healthy", self.healthy()),
                     ("rollguard_shutting_down", self.shutting_down)):
            fam(g, "gauge", "State.")
            out.append("%s %d" % (g, v))
        fam("rollguard_http_requests_total", "counter", "Requests.")
        with self.lock:
            for (path, code), v in sorted(self.http_counts.items()):
                out.append('rollguard_http_requests_total{path="%s",code="%d"} %d'
                           % (path, code, v))
        return "\n".join(out) + "\n"

    def status(self):
        probes = {}
        for n, p in self.probes.items():
            if p is None:
                probes[n] = {"enabled": False}
                continue
            probes[n] = {"ok": p.ok, "has_run": p.has_run, "consecutive_failures": p.cfail,
                         "target": redact(p.c.get("url") or p.c.get("address")),
                         "last": p.last}
        return json.dumps({
            "version": VERSION, "uptime_seconds": time.monotonic() - self.t0,
            "ready": self.ready(), "healthy": self.healthy(),
            "shutting_down": self.shutting_down,
            "config": {"hash": self.cfg["hash"], "source": self.cfg["source"],
                       "reloads_ok": self.reloads["ok"],
                       "reloads_failed": self.reloads["failed"],
                       "last_reload_error": self.last_reload_error},
            "probes": probes}) + "\n"

    def route(self, method, path):
        if path in ("/health", "/ready", "/livez", "/metrics", "/status"):
            if method not in ("GET", "HEAD"):
                return 405, "text/plain", "method not allowed\n"
            if path == "/health":
                ok = self.healthy()
                return (200 if ok else 503), "text/plain", "ok\n" if ok else "unhealthy\n"
            if path == "/ready":
                ok = self.ready()
                if "slow_ready" in BREAK and self.shutting_down:
                    ok = True
                return (200 if ok else 503), "text/plain", "ok\n" if ok else "not ready\n"
            if path == "/livez":
                return 200, "text/plain", "ok\n"
            if path == "/metrics":
                return 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics()
            return 200, "application/json", self.status()
        return 404, "text/plain", "not found\n"

    def serve_conn(self, c):
        c.settimeout(5)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    if len(buf) > 8192:
                        c.sendall(b"HTTP/1.1 431 Too Large\r\nContent-Type: text/plain\r\n"
                                  b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                        return
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                if len(head) > 8192:
                    c.sendall(b"HTTP/1.1 431 Too Large\r\nContent-Type: text/plain\r\n"
                              b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                              b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                method, target, version = parts
                hdrs = {}
                for ln in lines[1:]:
                    k, _, v = ln.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                clen = int(hdrs.get("content-length", "0") or 0)
                close = hdrs.get("connection", "").lower() == "close" or version == "HTTP/1.0"
                close = close or "close_always" in BREAK
                path = target.split("?", 1)[0]
                if clen > 0:
                    close = True
                    if method in ("GET", "HEAD") and "accept_body" not in BREAK:
                        code, ctype, body = 400, "text/plain", "body not allowed\n"
                    else:
                        code, ctype, body = self.route(method, path)
                else:
                    code, ctype, body = self.route(method, path)
                if path in ("/health", "/ready", "/livez", "/metrics", "/status"):
                    with self.lock:
                        k = (path, code)
                        self.http_counts[k] = self.http_counts.get(k, 0) + 1
                b = body.encode()
                resp = ("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
                        % (code, ctype, len(b), "Connection: close\r\n" if close else ""))
                c.sendall(resp.encode() + (b"" if method == "HEAD" else b))
                if close:
                    return
        except OSError:
            pass
        finally:
            c.close()

    def serve(self, sock):
        sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = sock.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self.serve_conn, args=(c,), daemon=True).start()


def main():
    args = sys.argv[1:]
    path, check_only = None, False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--version":
            print("rollguard %s" % VERSION)
            return 0
        if a == "--help":
            print("usage: rollguard [--config FILE] [--check-config] [--version] [--help]")
            return 0
        if a == "--check-config":
            check_only = True
        elif a == "--config" and i + 1 < len(args):
            i += 1
            path = args[i]
        else:
            sys.stderr.write("rollguard: unknown option %r\n" % a)
            return 2
        i += 1
    if check_only:
        if path is None:
            return 0
        try:
            load(path)
        except CfgError as e:
            for line, col, msg in e.errs:
                sys.stderr.write("%s:%d:%d: %s\n" % (path, line, col, msg))
            return 2
        return 0
    try:
        cfg = load(path)
    except CfgError as e:
        for line, col, msg in e.errs:
            sys.stderr.write("%s:%d:%d: %s\n" % (path, line, col, msg))
        return 2
    d = Daemon(path, cfg)
    host, port = cfg["listen"].rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(128)
    exit_at = []

    def on_term(signum, frame):
        if d.shutting_down:
            return
        d.shutting_down = True
        log("info", "shutdown", signal=signal.Signals(signum).name)
        exit_at.append(time.monotonic() + d.cfg["drain"])

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, lambda s, f: threading.Thread(
        target=d.reload, args=("sighup",), daemon=True).start())
    threading.Thread(target=d.serve, args=(sock,), daemon=True).start()
    threading.Thread(target=d.watch, daemon=True).start()
    log("info", "started", listen=cfg["listen"], config=path)
    if "text_log" in BREAK:
        sys.stderr.write("started on %s\n" % cfg["listen"])
    while not exit_at or time.monotonic() < exit_at[0]:
        if "no_drain" in BREAK and exit_at:
            break
        time.sleep(0.02)
    d.stop.set()
    return 1 if "exit_code" in BREAK else 0


if __name__ == "__main__":
    sys.exit(main())
