"""Integration harness: a kubelet-shaped HTTP client, the daemon under test,
config files, and small helpers (polling, Prometheus text, JSON logs).

Standard library only.
"""

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "pylib"))
from rgtest.net import free_port  # noqa: E402,F401  (shared helpers: tests/pylib)


class CaseFail(Exception):
    """The behaviour under test is wrong; the message says how."""


class CaseSkip(Exception):
    """The case cannot run here; the message says why."""


def check(cond, msg, *args):
    if not cond:
        raise CaseFail(msg % args if args else msg)


# --------------------------------------------------------------------------
# Options shared by every case (set once by run.py).

class Options:
    binary = None
    valgrind = False
    verbose = False
    # Multiplies every latency bound and deadline: valgrind runs ~20-50x slower.
    slow = 1.0
    promtool = "promtool"


OPT = Options()


def scaled(seconds):
    return seconds * OPT.slow


def vlog(msg, *args):
    if OPT.verbose:
        print("    . " + (msg % args if args else msg), flush=True)


# --------------------------------------------------------------------------
# Ports

# free_port: rgtest.net's (imported above; the cases import it from here).


# --------------------------------------------------------------------------
# HTTP client

class Response:
    def __init__(self, status, reason, headers, body, elapsed, closed):
        self.status = status
        self.reason = reason
        self.header_list = headers          # [(name, value)] as received
        self.headers = {}                   # lower-case name -> last value
        for k, v in headers:
            self.headers[k.lower()] = v
        self.body = body
        self.elapsed = elapsed              # seconds, request sent -> response read
        self.closed = closed                # the server closed the connection after it

    def header(self, name):
        return self.headers.get(name.lower())

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise CaseFail("body is not JSON (%s): %r" % (e, self.body[:200]))

    def __repr__(self):
        return "<%d %s ct=%r len=%d>" % (self.status, self.reason, self.header("content-type"),
                                         len(self.body))


class ConnClosed(Exception):
    """The server closed the connection before a complete response."""


class HttpConn:
    """One raw TCP connection speaking HTTP/1.x, for exact control of the bytes."""

    def __init__(self, port, host="127.0.0.1", timeout=1.0):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def request(self, method, path, headers=None, body=b"", version="HTTP/1.1",
                kubelet=True, close=False):
        """Send one request and read its response.

        kubelet=True sends the headers a kubelet HTTP probe sends; close adds
        `Connection: close`. headers (list of pairs) are added after those.
        """
        lines = ["%s %s %s" % (method, path, version)]
        hdrs = []
        if kubelet:
            hdrs += [("Host", "%s:%d" % (self.host, self.port)),
                     ("User-Agent", "kube-probe/1.32"),
                     ("Accept", "*/*")]
        if close:
            hdrs.append(("Connection", "close"))
        if headers:
            hdrs += list(headers)
        if body and not any(k.lower() == "content-length" for k, _ in hdrs):
            hdrs.append(("Content-Length", str(len(body))))
        for k, v in hdrs:
            lines.append("%s: %s" % (k, v))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        t0 = time.monotonic()
        self.send_raw(data)
        return self.read_response(method, t0)

    def _fill(self):
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _read_until(self, sep, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(sep):]
                return out
            if len(self.buf) > limit:
                raise CaseFail("response head over %d bytes" % limit)
            if not self._fill():
                raise ConnClosed("connection closed after %d bytes of response head: %r"
                                 % (len(self.buf), self.buf[:200]))

    def _read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise ConnClosed("connection closed with %d of %d body bytes"
                                 % (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, method="GET", t0=None):
        if t0 is None:
            t0 = time.monotonic()
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        m = re.match(r"HTTP/(\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise CaseFail("bad status line %r" % lines[0])
        version, status, reason = m.group(1), int(m.group(2)), m.group(3) or ""
        headers = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(":")
            if not sep:
                raise CaseFail("bad header line %r" % ln)
            headers.append((k.strip(), v.strip()))
        hmap = {k.lower(): v for k, v in headers}
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in hmap.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in hmap:
            body = self._read_exact(int(hmap["content-length"]))
        else:
            while self._fill():
                pass
            body, self.buf = self.buf, b""
        elapsed = time.monotonic() - t0
        conn_hdr = hmap.get("connection", "").lower()
        closes = conn_hdr == "close" or (version == "1.0" and conn_hdr != "keep-alive")
        return Response(status, reason, headers, body, elapsed, closes)

    def _read_chunked(self):
        body = b""
        while True:
            size = int(self._read_until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._read_until(b"\r\n")  # no trailers expected
                return body
            body += self._read_exact(size)
            self._read_until(b"\r\n")

    def wait_eof(self, timeout=1.0):
        """True when the server closes the connection within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False


def client_timeout():
    """The kubelet's 1 s probe timeout (longer under valgrind)."""
    return scaled(0.5) if OPT.valgrind else 1.0


def kget(port, path, method="GET", timeout=None, headers=None, body=b""):
    """One kubelet-shaped request on its own connection with `Connection: close`."""
    with HttpConn(port, timeout=timeout or client_timeout()) as c:
        return c.request(method, path, headers=headers, body=body, close=True)


def try_kget(port, path, timeout=None):
    """kget, or None when there is no complete answer (refused, reset, timeout)."""
    try:
        return kget(port, path, timeout=timeout)
    except (OSError, ConnClosed, CaseFail):
        return None


def wait_until(what, fn, timeout, interval=0.02):
    """Call fn until it returns a truthy value; CaseFail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise CaseFail("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_status(port, path, status, timeout, why=""):
    """Poll path until it answers `status`; returns that Response."""
    seen = []

    def probe():
        r = try_kget(port, path)
        code = r.status if r else None
        if not seen or seen[-1] != code:
            seen.append(code)
        return r if (r and r.status == status) else None

    try:
        return wait_until("%s -> %d%s" % (path, status, (" (" + why + ")") if why else ""),
                          probe, timeout)
    except CaseFail as e:
        raise CaseFail("%s; answers seen in order: %s" % (e, seen[-8:]))


def hold_status(port, path, status, duration, interval=0.05):
    """Assert path answers `status` on every poll for `duration` seconds."""
    deadline = time.monotonic() + duration
    n = 0
    while time.monotonic() < deadline:
        r = try_kget(port, path)
        check(r is not None, "%s gave no answer while it should stay %d" % (path, status))
        check(r.status == status, "%s answered %d after %.2fs; expected it to stay %d",
              path, r.status, duration - (deadline - time.monotonic()), status)
        n += 1
        time.sleep(interval)
    return n


# --------------------------------------------------------------------------
# Prometheus text (just enough to read our own samples)

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


class Metrics:
    def __init__(self, text):
        self.text = text
        self.samples = []  # (name, {labels}, value)
        self.types = {}
        for ln in text.splitlines():
            if ln.startswith("# TYPE "):
                parts = ln.split()
                if len(parts) >= 4:
                    self.types[parts[2]] = parts[3]
                continue
            if not ln.strip() or ln.startswith("#"):
                continue
            m = _SAMPLE.match(ln)
            if not m:
                raise CaseFail("unparseable metrics line %r" % ln)
            labels = {}
            if m.group(3):
                pos = 0
                s = m.group(3)
                while pos < len(s):
                    lm = _LABEL.match(s, pos)
                    if not lm:
                        raise CaseFail("bad labels in metrics line %r" % ln)
                    labels[lm.group(1)] = lm.group(2)
                    pos = lm.end()
            try:
                v = float(m.group(4))
            except ValueError:
                raise CaseFail("bad value in metrics line %r" % ln)
            self.samples.append((m.group(1), labels, v))

    def find(self, name, **labels):
        return [(l, v) for (n, l, v) in self.samples
                if n == name and all(l.get(k) == str(x) for k, x in labels.items())]

    def value(self, name, default=None, **labels):
        """The one sample of name with these labels (others ignored), or default."""
        hits = self.find(name, **labels)
        if not hits:
            return default
        if len(hits) > 1:
            raise CaseFail("%s%r matches %d samples" % (name, labels, len(hits)))
        return hits[0][1]

    def need(self, name, **labels):
        v = self.value(name, **labels)
        check(v is not None, "/metrics lacks %s%s", name,
              "{" + ",".join('%s="%s"' % kv for kv in labels.items()) + "}" if labels else "")
        return v


def get_metrics(port):
    r = kget(port, "/metrics")
    check(r.status == 200, "/metrics answered %d", r.status)
    return Metrics(r.text())


def get_status(port):
    r = kget(port, "/status")
    check(r.status == 200, "/status answered %d", r.status)
    return r.json()


# --------------------------------------------------------------------------
# Config files

def yaml_scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a YAML double-quoted scalar


def to_yaml(d, indent=0):
    """Block-style YAML of nested dicts with scalar leaves."""
    out = []
    pad = "  " * indent
    for k, v in d.items():
        if isinstance(v, dict):
            if not v:
                out.append("%s%s: {}" % (pad, k))
            else:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 1))
        else:
            out.append("%s%s: %s" % (pad, k, yaml_scalar(v)))
    return "\n".join(out)


def merge(base, over):
    """Deep merge: over's leaves replace base's; a None leaf deletes the key."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


# Probe timing. Plain runs probe every 200 ms (the contract allows it; 100 ms
# is the minimum). Under valgrind everything is slower, so probes get more
# room or a slow libcurl would turn into spurious probe failures.
def period_ms():
    return 500 if OPT.valgrind else 200


def probe_timeout_ms():
    return 400 if OPT.valgrind else 150


def period():
    return period_ms() / 1000.0


def ms(n):
    return "%dms" % n


# Drain for cases that do not test draining: short so teardown stays quick.
SHORT_DRAIN = "200ms"


def probe_deadline(threshold, extra=1.0):
    """Longest time a probe may take to act on `threshold` consecutive results:
    threshold periods, one probe timeout, the first-run jitter, plus slack."""
    return (threshold + 1) * period() + probe_timeout_ms() / 1000.0 + scaled(extra)


def base_config(port, fake, **over):
    """A config for a test daemon on `port` probing FakeApp `fake`; `over`
    is deep-merged on top (a None leaf removes a key)."""
    probe = {
        "period": ms(period_ms()),
        "initial_delay": "0s",
        "success_threshold": 1,
    }
    cfg = {
        "listen": "127.0.0.1:%d" % port,
        "admin_listen": "",
        "log": {"level": "info", "format": "json"},
        "server": {"drain": SHORT_DRAIN},
        "app": {
            "liveness": merge(probe, {
                "http": {"url": fake.url("/healthz"), "timeout": ms(probe_timeout_ms())},
                "failure_threshold": 3,
            }),
            "readiness": merge(probe, {
                "http": {"url": fake.url("/ready"), "timeout": ms(probe_timeout_ms())},
                "failure_threshold": 2,
            }),
            "metrics": {"url": ""},
        },
        "rollback": {"mode": "off"},
    }
    return merge(cfg, over)


# --------------------------------------------------------------------------
# JSON logs

def parse_log_lines(text):
    """[(lineno, dict)] for every line; CaseFail when one is not a JSON object
    with ts, level and event."""
    out = []
    for i, ln in enumerate(text.splitlines(), 1):
        if not ln.strip():
            continue
        try:
            rec = json.loads(ln)
        except ValueError:
            raise CaseFail("log line %d is not JSON: %r" % (i, ln[:200]))
        check(isinstance(rec, dict), "log line %d is not a JSON object: %r", i, ln[:200])
        for k in ("ts", "level", "event"):
            check(k in rec, "log line %d lacks %r: %r", i, k, ln[:200])
        out.append((i, rec))
    return out


# --------------------------------------------------------------------------
# Running the binary

VALGRIND_ARGS = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                 "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                 "--track-fds=no"]


def valgrind_summary(path):
    """The useful part of a valgrind log: the first error and the summaries."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return "(no valgrind log)"
    lines = [re.sub(r"^==\d+== ?", "", ln) for ln in lines]
    keep = []
    # First error block: from the first line after the preamble that is not
    # a summary, up to the next blank line.
    for i, ln in enumerate(lines):
        if re.match(r"(Invalid|Conditional|Use of uninit|Syscall param|Mismatched|"
                    r"Source and destination|Argument|\d[\d,]* bytes in \d[\d,]* blocks are "
                    r"(definitely|indirectly))", ln):
            j = i
            while j < len(lines) and lines[j].strip() and j - i < 14:
                keep.append(lines[j])
                j += 1
            break
    for ln in lines:
        if ln.startswith(("ERROR SUMMARY", "   definitely lost", "   indirectly lost")):
            keep.append(ln.strip())
    return " | ".join(keep) if keep else "(no error summary in valgrind log)"


class Workdir:
    """A temporary directory for one case; removed unless kept."""

    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="rollguard-it-%s-" % name)
        self.keep = False

    def file(self, name, text):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def cleanup(self):
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


def run_cli(args, wd, timeout=10.0, tag="cli"):
    """Run the binary with args (under valgrind when asked); returns
    (exit code, stdout, stderr). A valgrind error is a CaseFail."""
    cmd = [OPT.binary] + list(args)
    vlog_path = None
    if OPT.valgrind:
        vlog_path = os.path.join(wd.path, "valgrind-%s-%d.log" % (tag, time.monotonic_ns()))
        cmd = VALGRIND_ARGS + ["--log-file=" + vlog_path] + cmd
    vlog("run %s", " ".join(args))
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=scaled(timeout), cwd=wd.path)
    except subprocess.TimeoutExpired:
        raise CaseFail("`rollguard %s` did not exit within %.0fs"
                       % (" ".join(args), scaled(timeout)))
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if OPT.valgrind and p.returncode == 99:
        raise CaseFail("valgrind errors in `rollguard %s`: %s"
                       % (" ".join(args), valgrind_summary(vlog_path)))
    return p.returncode, out, err


class Daemon:
    """The daemon under test: one process per case.

    Writes its config (unless given a path), starts the binary, waits for
    /livez 200. stop() sends SIGTERM and checks exit 0; kill() is the
    SIGKILL fallback used by teardown.
    """

    def __init__(self, wd, cfg=None, config_path=None, port=None, name="daemon", env=None):
        self.wd = wd
        self.env = env
        self.port = port
        self.name = name
        if config_path is None:
            self.port = cfg_port(cfg)
            config_path = os.path.join(wd.path, "rollguard.yaml")
            with open(config_path, "w") as f:
                f.write(to_yaml(cfg) + "\n")
        self.config_path = config_path
        self.log_path = os.path.join(wd.path, "%s.stderr" % name)
        self.out_path = os.path.join(wd.path, "%s.stdout" % name)
        self.vg_path = os.path.join(wd.path, "%s.valgrind.log" % name)
        self.proc = None
        self.exit_code = None
        self.stopped_by_test = False

    # --- lifecycle -------------------------------------------------------

    def start(self, livez_timeout=5.0):
        cmd = [OPT.binary, "--config", self.config_path]
        if OPT.valgrind:
            cmd = VALGRIND_ARGS + ["--log-file=" + self.vg_path] + cmd
        self._err = open(self.log_path, "wb")
        self._out = open(self.out_path, "wb")
        vlog("start %s on port %d", self.name, self.port)
        self.t_start = time.monotonic()
        env = None
        if self.env:
            env = dict(os.environ)
            env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, cwd=self.wd.path, env=env)
        _LIVE.add(self)
        deadline = time.monotonic() + scaled(livez_timeout)
        last = None
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self._reaped(rc)
                raise CaseFail("daemon exited with %s before /livez answered; stderr: %s"
                               % (self.describe_exit(rc), self.log_tail(6)))
            try:
                r = kget(self.port, "/livez")
                if r.status == 200:
                    vlog("/livez 200 after %.2fs", time.monotonic() - self.t_start)
                    return self
                last = "status %d" % r.status
            except (OSError, ConnClosed, CaseFail) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                raise CaseFail("/livez not 200 within %.1fs (last: %s); stderr: %s"
                               % (scaled(livez_timeout), last, self.log_tail(6)))
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.exit_code is None and self.proc.poll() is None

    def signal(self, sig):
        check(self.alive(), "daemon is not running (exit %s); stderr: %s",
              self.describe_exit(self.proc.poll()) if self.proc else "?", self.log_tail(4))
        vlog("send %s", signal.Signals(sig).name)
        if sig in (signal.SIGTERM, signal.SIGINT):
            self.stopped_by_test = True  # the case checks the exit itself
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Exit code, or None when still running after timeout seconds."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reaped(rc)
        return rc

    def stop(self, sig=None, timeout=None):
        """Signal (SIGTERM by default) and require exit code 0 (under valgrind:
        its verdict)."""
        if sig is None:
            sig = signal.SIGTERM
        if timeout is None:
            timeout = scaled(5.0) if OPT.valgrind else 5.0
        if not self.alive():
            rc = self.proc.poll() if self.proc else None
            if rc is not None:
                self._reaped(rc)
            raise CaseFail("daemon died before the end of the case (%s); stderr: %s"
                           % (self.describe_exit(rc), self.log_tail(6)))
        self.stopped_by_test = True
        self.proc.send_signal(sig)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.kill()
            raise CaseFail("daemon still running %.1fs after %s" % (timeout,
                                                                      signal.Signals(sig).name))
        self.check_exit(rc, signal.Signals(sig).name)
        return rc

    def check_exit(self, rc, why):
        if OPT.valgrind and rc == 99:
            raise CaseFail("valgrind reported errors (after %s): %s"
                           % (why, valgrind_summary(self.vg_path)))
        check(rc == 0, "daemon exited with %s after %s; stderr: %s", self.describe_exit(rc),
              why, self.log_tail(3))

    def kill(self):
        """Teardown: SIGTERM, then SIGKILL; always reaps."""
        if self.proc is None or self.exit_code is not None:
            _LIVE.discard(self)
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=scaled(3.0) if OPT.valgrind else 3.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            except OSError:
                pass
        self._reaped(self.proc.wait())

    def _reaped(self, rc):
        self.exit_code = rc
        _LIVE.discard(self)
        for f in (getattr(self, "_err", None), getattr(self, "_out", None)):
            if f is not None and not f.closed:
                f.close()

    @staticmethod
    def describe_exit(rc):
        if rc is None:
            return "no exit"
        if rc < 0:
            try:
                return "signal %s" % signal.Signals(-rc).name
            except ValueError:
                return "signal %d" % -rc
        return "code %d" % rc

    def rss_kib(self):
        """VmRSS of the process (under valgrind: of valgrind), in KiB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
        raise CaseFail("no VmRSS in /proc/%d/status" % self.proc.pid)

    # --- logs --------------------------------------------------------------

    def log_text(self):
        if getattr(self, "_err", None) is not None and not self._err.closed:
            self._err.flush()
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, n=6):
        lines = [ln for ln in self.log_text().splitlines() if ln.strip()]
        if not lines:
            return "(empty)"
        return " | ".join(ln[:300] for ln in lines[-n:])

    def log_records(self, since=0):
        """Parsed JSON log lines written after byte offset `since`."""
        with open(self.log_path, "rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        return parse_log_lines(text)

    # --- shortcuts -----------------------------------------------------------

    def get(self, path, **kw):
        return kget(self.port, path, **kw)

    def metrics(self):
        return get_metrics(self.port)

    def status(self):
        return get_status(self.port)


def cfg_port(cfg):
    return int(cfg["listen"].rsplit(":", 1)[1])


# Daemons not yet reaped, so the watchdog and the runner can kill them.
_LIVE = set()


def kill_all_live():
    for d in list(_LIVE):
        try:
            if d.proc is not None and d.proc.poll() is None:
                d.proc.kill()
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise


# --------------------------------------------------------------------------
# One case's resources

class Ctx:
    """What a case uses; the runner tears it all down."""

    def __init__(self, name):
        self.name = name
        self.wd = Workdir(name)
        self.daemons = []
        self.apps = []
        self.cleanups = []

    def app(self):
        from rgtest.fakeapp import FakeApp
        a = FakeApp().start()
        self.apps.append(a)
        return a

    def daemon(self, cfg=None, config_path=None, port=None, name=None, start=True, env=None):
        d = Daemon(self.wd, cfg=cfg, config_path=config_path, port=port,
                   name=name or "daemon%d" % len(self.daemons), env=env)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def on_cleanup(self, fn):
        self.cleanups.append(fn)

    def teardown(self, failed):
        """Stop every daemon with SIGTERM (exit 0 required), then clean up.
        Returns a list of problems found while stopping."""
        problems = []
        for d in self.daemons:
            if d.proc is None or d.stopped_by_test:
                continue
            if failed and d.exit_code is not None:
                continue  # its exit was part of the failure already reported
            try:
                d.stop()
            except CaseFail as e:
                problems.append("at teardown: %s" % e)
        for d in self.daemons:
            d.kill()
        for a in self.apps:
            a.stop()
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # cleanup must not hide the verdict
                problems.append("cleanup: %r" % e)
        if failed or problems:
            self.wd.keep = OPT.verbose
        self.wd.cleanup()
        return problems
