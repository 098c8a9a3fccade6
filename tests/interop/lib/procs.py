"""Child processes on loopback: free ports, start, wait until serving, stop."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))
# below the kernel's ephemeral range (a port from bind :0 can be handed out again at once as
# the local port of a daemon's outgoing scrape), and never the same port twice in a run
from rgtest.net import free_port  # noqa: E402,F401

LOOPBACK = "127.0.0.1"


def http_get(url, timeout=2.0):
    """(status, body text) of a GET; status 0 when there was no answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return 0, ""


class Service:
    """One child process with its output in a log file."""

    def __init__(self, name, argv, log_dir, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(log_dir, name + ".log")
        self.env = env
        self.cwd = cwd
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.update(self.env or {})
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, cwd=self.cwd,
                                         start_new_session=True)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_http(self, url, timeout=30.0):
        """Waits until url answers 200; raises with the log's tail otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("%s exited (%s); log tail:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            if http_get(url, timeout=1.0)[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not answer %s within %.0fs; log tail:\n%s"
                           % (self.name, url, timeout, self.log_tail()))

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after grace seconds. Only this child."""
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ServiceSet:
    """Every child started by the run, stopped together in reverse order."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.services = []

    def start(self, name, argv, env=None, cwd=None):
        svc = Service(name, argv, self.log_dir, env=env, cwd=cwd).start()
        self.services.append(svc)
        return svc

    def stop_all(self):
        for svc in reversed(self.services):
            svc.stop()
