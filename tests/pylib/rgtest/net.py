"""Ports, small HTTP clients and waiting loops."""

import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request

LOOPBACK = "127.0.0.1"


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_PORTS = random.Random()
_handed_out = set()
_handed_lock = threading.Lock()


def free_port(host=LOOPBACK):
    """A port that was free a moment ago on host, picked at random below the kernel's
    ephemeral range: a port the kernel handed out (bind :0) can be handed out again at
    once as the local port of any outgoing connection (the sidecars' scrapes, API calls and
    peers), and the daemon given it then fails to listen. Never the same port twice in one
    run: a port handed out is often bound only later (a daemon started after its fake API
    and app are set up), and a second caller must not be given it meanwhile."""
    top = min(_ephemeral_low(), 65536) - 1
    for _ in range(200):
        port = _PORTS.randint(max(1024, top - 12000), top)
        with _handed_lock:
            if port in _handed_out:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host, port))
                _handed_out.add(port)
                return port
            except OSError:
                continue
            finally:
                s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def http(method, url, timeout=5):
    """(status, body text) of one urllib request; an HTTP error status is an answer too
    (OSError when there is none). A POST sends an empty body."""
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get(url, timeout=3):
    """The body of a GET that must succeed (urllib raises otherwise)."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def get_json(port, path, timeout=1, host=LOOPBACK):
    """GET http://host:port/path as JSON, or None when there is no (JSON) answer."""
    try:
        return json.loads(http("GET", "http://%s:%d%s" % (host, port, path), timeout=timeout)[1])
    except (OSError, ValueError):
        return None


def http_get(port, path, timeout=1.0, host=LOOPBACK):
    """One raw GET on a new connection (`Connection: close`), read to EOF.
    Returns (status, body bytes) or (None, error text)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path)
                      .encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), body
    except (OSError, ValueError, IndexError) as e:
        return None, str(e)


def wait_for(pred, timeout=15, step=0.1):
    """Call pred until it returns a truthy value (returned) or timeout seconds pass;
    then pred() once more (its value, falsy, is returned)."""
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
