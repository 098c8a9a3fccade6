"""The control API (plain HTTP, loopback), the public Python API (FakeAPI) and its remote twin (ControlClient).

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import copy
import http.client
import http.server
import json
import os
import re
import socketserver
import ssl
import tempfile
import threading
import urllib.parse
import uuid

from .resources import fmt_time, res_by_name, res_for_object
from .patch import merge_patch
from .store import DEFAULT_OPTIONS, Store, normalize_core_event, v1_event_to_core
from .auth import Tokens, ensure_tls, write_atomic
from .api import API
from .faults import Faults
from .server import RequestLog, _Server


# --------------------------------------------------------------------------------------
# The control API (plain HTTP, loopback)
# --------------------------------------------------------------------------------------


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _reply(self, code, obj):
        data = (json.dumps(obj, indent=None, separators=(",", ":")) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        fa = self.server.owner
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError as e:
            return self._reply(400, {"error": "bad JSON: %s" % e})
        parts = [p for p in url.path.split("/") if p]
        m = self.command
        try:
            out = fa.control(m, parts, q, body)
        except KeyError as e:
            return self._reply(404, {"error": "not found: %s" % (e,)})
        except (ValueError, TypeError, re.error) as e:
            return self._reply(400, {"error": str(e)})
        if out is None:
            return self._reply(404, {"error": "no such control endpoint: %s %s"
                                     % (m, url.path)})
        return self._reply(200, out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class _ControlServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, owner):
        self.owner = owner
        super().__init__(addr, _ControlHandler)


# --------------------------------------------------------------------------------------
# Public Python API
# --------------------------------------------------------------------------------------


def load_json_file(path):
    with open(path) as f:
        return json.load(f)


class FakeAPI:
    """In-process fake API server.

    fa = FakeAPI(state="seed_web.json", tls_dir=tmp).start()
    fa.url, fa.ca_file, fa.token, fa.port, fa.control_port
    ... operations (same names as ControlClient) ...
    fa.stop()
    """

    def __init__(self, state=None, *, host="127.0.0.1", port=0, tls=True, tls_dir=None,
                 tokens=None, token_file=None, http_port=None, control_port=0,
                 options=None, verbose=False):
        self.host = host
        self.verbose = verbose
        self.store = Store()
        self.faults = Faults()
        self.log = RequestLog()
        self.tls_errors = []
        self.tls_lock = threading.Lock()
        self.stopping = threading.Event()
        if isinstance(state, str):
            state = load_json_file(state)
        self.initial_state = copy.deepcopy(state) if state is not None else {"objects": []}
        if options:
            self.initial_state.setdefault("options", {}).update(options)
        self.store.load(self.initial_state)
        self.log.limit = int(self.store.options.get("log_limit") or 20000)
        toks = list(tokens or [])
        if token_file:
            if os.path.exists(token_file):
                with open(token_file) as f:
                    t = f.read().strip()
            else:
                t = "fake-" + uuid.uuid4().hex
                write_atomic(token_file, t)
            if t not in toks:
                toks.append(t)
        if not toks:
            toks = ["test-token"]
        self.tokens = Tokens(toks, token_file)
        self.token = toks[0]
        self._tls = tls
        self._tls_dir = tls_dir
        self._tmpdir = None
        self._req_port = port
        self._http_port_req = http_port
        self._control_port_req = control_port
        self.servers = []
        self.threads = []
        self.port = None
        self.http_port = None
        self.control_port = None
        self.ca_file = None
        self.tls_paths = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self):
        ctx = None
        if self._tls:
            if not self._tls_dir:
                self._tmpdir = tempfile.mkdtemp(prefix="fakeapi-tls-")
                self._tls_dir = self._tmpdir
            self.tls_paths = ensure_tls(self._tls_dir)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(self.tls_paths["server.crt"], self.tls_paths["server.key"])
            ctx.set_alpn_protocols(["http/1.1"])
            self.ca_file = self.tls_paths["ca.crt"]
        main = _Server((self.host, self._req_port), self, ctx)
        self.port = main.server_address[1]
        self.servers.append(main)
        if self._http_port_req is not None and ctx is not None:
            plain = _Server((self.host, self._http_port_req), self, None)
            self.http_port = plain.server_address[1]
            self.servers.append(plain)
        elif ctx is None:
            self.http_port = self.port
        if self._control_port_req is not None:
            ctl = _ControlServer(("127.0.0.1", self._control_port_req), self)
            self.control_port = ctl.server_address[1]
            self.servers.append(ctl)
        for s in self.servers:
            t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05},
                                 daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stopping.set()   # stalled requests let go
        for s in self.servers:
            s.shutdown()
            s.server_close()
        self.servers = []
        self.threads = []

    def __enter__(self):
        if not self.servers:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        scheme = "https" if self._tls else "http"
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d" % (scheme, h, self.port)

    def info(self):
        return {"port": self.port, "http_port": self.http_port,
                "control_port": self.control_port, "pid": os.getpid(), "url": self.url,
                "host": self.host, "tls": self._tls, "ca": self.ca_file,
                "tls_dir": self._tls_dir if self._tls else None,
                "token": self.token, "token_file": self.tokens.token_file,
                "wrong_ca": (self.tls_paths or {}).get("wrong-ca.crt")}

    # -- operations (mirrored by the control API and ControlClient) ----------------
    def load_state(self, state):
        if isinstance(state, str):
            state = load_json_file(state)
        self.store.load(state)
        return {"resourceVersion": str(self.store.rv)}

    def dump_state(self):
        return self.store.dump()

    def reset(self):
        """Back to the initial seed; clears the log and faults and restores tokens."""
        self.store.load(copy.deepcopy(self.initial_state))
        self.log.clear()
        self.faults.clear()
        self.tokens.reset()
        with self.tls_lock:
            self.tls_errors = []
        return {"ok": True}

    def get_object(self, resource, namespace, name):
        res = res_by_name(resource)
        with self.store.lock:
            obj = self.store.get(res, namespace or "", name)
            if obj is None:
                return None
            return API(self).out_obj(res, obj)

    def list_objects(self, resource, namespace=None):
        res = res_by_name(resource)
        api = API(self)
        with self.store.lock:
            return [api.out_obj(res, o) for o in self.store.list(res, namespace)]

    def put_object(self, obj, controller=False):
        """Insert or replace an object as-is (fresh RV; uid/creationTimestamp defaulted)."""
        obj = copy.deepcopy(obj)
        res = res_for_object(obj)
        with self.store.lock:
            md = obj.setdefault("metadata", {})
            if res.namespaced:
                md.setdefault("namespace", "default")
            cur = self.store.get(res, md.get("namespace", ""), md["name"])
            md.setdefault("uid", cur["metadata"]["uid"] if cur else str(uuid.uuid4()))
            md.setdefault("creationTimestamp", cur["metadata"]["creationTimestamp"] if cur
                          else fmt_time(self.store.now()))
            if res.storage == "events":
                if res.group == "events.k8s.io":
                    obj = v1_event_to_core(obj)
                obj = normalize_core_event(obj)
            self.store.write(res, obj)
            if controller and res.plural == "deployments":
                self.store.controller_sync(obj)
            return API(self).out_obj(res, obj)

    def delete_object(self, resource, namespace, name):
        res = res_by_name(resource)
        with self.store.lock:
            gone = self.store.delete(res, namespace or "", name)
            if gone is not None:
                self.store.next_rv()
            return gone is not None

    def touch(self, resource, namespace, name, status=None):
        """Simulate a controller status write: bump RV (and optionally merge into status)."""
        res = res_by_name(resource)
        with self.store.lock:
            obj = self.store.get(res, namespace or "", name)
            if obj is None:
                raise KeyError("%s %s/%s" % (resource, namespace, name))
            obj = copy.deepcopy(obj)
            if status:
                obj["status"] = merge_patch(obj.get("status") or {}, status)
            self.store.write(res, obj)
            return obj["metadata"]["resourceVersion"]

    def requests(self, writes_only=False, method=None, path=None, since=None):
        return self.log.query(writes_only=writes_only, method=method, path=path, since=since)

    def clear_log(self):
        self.log.clear()
        with self.tls_lock:
            self.tls_errors = []
        return {"ok": True}

    def tls_failures(self):
        """Failed TLS handshakes since the start (or the last clear_log/reset)."""
        with self.tls_lock:
            return copy.deepcopy(self.tls_errors)

    def add_fault(self, spec=None, **kw):
        spec = dict(spec or {}, **kw)
        return self.faults.add(spec)

    def list_faults(self):
        return self.faults.list()

    def remove_fault(self, fid):
        return self.faults.remove(int(fid))

    def clear_faults(self):
        self.faults.clear()
        return {"ok": True}

    def add_token(self, token):
        self.tokens.add(token)
        return self.tokens.dump()

    def revoke_token(self, token):
        self.tokens.revoke(token)
        return self.tokens.dump()

    def remove_token(self, token):
        self.tokens.remove(token)
        return self.tokens.dump()

    def rotate_token(self, token=None, revoke_old=True, write_file=False):
        token = token or ("fake-" + uuid.uuid4().hex)
        self.tokens.rotate(token, revoke_old, write_file)
        self.token = token
        d = self.tokens.dump()
        d["token"] = token
        return d

    def reload_token_file(self):
        t = self.tokens.reload_file()
        if t:
            self.token = t
        return self.tokens.dump()

    def list_tokens(self):
        return self.tokens.dump()

    def set_options(self, **kw):
        with self.store.lock:
            for k, v in kw.items():
                if k not in DEFAULT_OPTIONS:
                    raise ValueError("unknown option %r" % k)
                self.store.options[k] = v
                if k == "log_limit":
                    self.log.limit = int(v)
            return copy.deepcopy(self.store.options)

    def get_options(self):
        with self.store.lock:
            return copy.deepcopy(self.store.options)

    # -- control API routing ---------------------------------------------------------
    def control(self, m, parts, q, body):
        p0 = parts[0] if parts else ""
        if m == "GET" and p0 == "info":
            return self.info()
        if p0 == "state":
            if m == "GET":
                return self.dump_state()
            if m in ("PUT", "POST"):
                return self.load_state(body or {})
        if p0 == "reset" and m == "POST":
            return self.reset()
        if p0 == "objects":
            if m in ("PUT", "POST") and len(parts) == 1:
                return self.put_object(body, controller=q.get("controller") in ("1", "true"))
            if len(parts) == 2 and m == "GET":
                return {"items": self.list_objects(parts[1], q.get("namespace"))}
            if len(parts) == 4:
                ns = "" if parts[2] == "_" else parts[2]
                if m == "GET":
                    obj = self.get_object(parts[1], ns, parts[3])
                    if obj is None:
                        raise KeyError("/".join(parts[1:]))
                    return obj
                if m == "DELETE":
                    if not self.delete_object(parts[1], ns, parts[3]):
                        raise KeyError("/".join(parts[1:]))
                    return {"ok": True}
        if p0 == "touch" and m == "POST" and len(parts) == 4:
            ns = "" if parts[2] == "_" else parts[2]
            return {"resourceVersion": self.touch(parts[1], ns, parts[3],
                                                  (body or {}).get("status"))}
        if p0 == "tls-failures" and m == "GET":
            return {"failures": self.tls_failures()}
        if p0 == "log":
            if m == "GET":
                return {"entries": self.requests(
                    writes_only=q.get("writes") in ("1", "true"), method=q.get("method"),
                    path=q.get("path"), since=q.get("since"))}
            if m in ("DELETE", "POST"):
                return self.clear_log()
        if p0 == "faults":
            if m == "GET":
                return {"faults": self.list_faults()}
            if m == "POST":
                specs = body if isinstance(body, list) else [body or {}]
                return {"ids": [self.add_fault(s) for s in specs]}
            if m == "DELETE" and len(parts) == 1:
                return self.clear_faults()
            if m == "DELETE" and len(parts) == 2:
                if not self.remove_fault(parts[1]):
                    raise KeyError(parts[1])
                return {"ok": True}
        if p0 == "tokens":
            if m == "GET" and len(parts) == 1:
                return self.list_tokens()
            if m == "POST" and len(parts) == 1:
                b = body or {}
                if "set" in b:
                    with self.tokens.lock:
                        self.tokens.accepted = list(b["set"])
                for t in b.get("add") or []:
                    self.tokens.add(t)
                for t in b.get("revoke") or []:
                    self.tokens.revoke(t)
                for t in b.get("remove") or []:
                    self.tokens.remove(t)
                return self.list_tokens()
            if m == "POST" and parts[1:] == ["rotate"]:
                b = body or {}
                return self.rotate_token(b.get("token"), b.get("revoke_old", True),
                                         b.get("write_file", False))
            if m == "POST" and parts[1:] == ["reload"]:
                return self.reload_token_file()
        if p0 == "options":
            if m == "GET":
                return self.get_options()
            if m in ("POST", "PUT", "PATCH"):
                return self.set_options(**(body or {}))
        return None


class ControlClient:
    """Talks to a running fakeapi's control port; same operations as FakeAPI."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.host = host
        self.port = port
        self.timeout = timeout

    @classmethod
    def from_info_file(cls, path):
        return cls(load_json_file(path)["control_port"])

    def call(self, method, path, body=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        data = json.dumps(body).encode() if body is not None else None
        hdr = {"Content-Type": "application/json"} if data is not None else {}
        c.request(method, path, body=data, headers=hdr)
        r = c.getresponse()
        out = json.loads(r.read() or b"null")
        c.close()
        if r.status == 404:
            return None
        if r.status != 200:
            raise RuntimeError("control %s %s: %d %s" % (method, path, r.status, out))
        return out

    def info(self):
        return self.call("GET", "/info")

    def load_state(self, state):
        if isinstance(state, str):
            state = load_json_file(state)
        return self.call("PUT", "/state", state)

    def dump_state(self):
        return self.call("GET", "/state")

    def reset(self):
        return self.call("POST", "/reset")

    def get_object(self, resource, namespace, name):
        return self.call("GET", "/objects/%s/%s/%s" % (resource, namespace or "_", name))

    def list_objects(self, resource, namespace=None):
        q = "?namespace=" + urllib.parse.quote(namespace) if namespace else ""
        return self.call("GET", "/objects/%s%s" % (resource, q))["items"]

    def put_object(self, obj, controller=False):
        return self.call("PUT", "/objects" + ("?controller=1" if controller else ""), obj)

    def delete_object(self, resource, namespace, name):
        return self.call("DELETE", "/objects/%s/%s/%s" % (resource, namespace or "_",
                                                          name)) is not None

    def touch(self, resource, namespace, name, status=None):
        return self.call("POST", "/touch/%s/%s/%s" % (resource, namespace or "_", name),
                         {"status": status} if status else {})["resourceVersion"]

    def requests(self, writes_only=False, method=None, path=None, since=None):
        q = {}
        if writes_only:
            q["writes"] = "1"
        if method:
            q["method"] = method
        if path:
            q["path"] = path
        if since is not None:
            q["since"] = str(since)
        return self.call("GET", "/log?" + urllib.parse.urlencode(q))["entries"]

    def clear_log(self):
        return self.call("DELETE", "/log")

    def tls_failures(self):
        return self.call("GET", "/tls-failures")["failures"]

    def add_fault(self, spec=None, **kw):
        return self.call("POST", "/faults", dict(spec or {}, **kw))["ids"][0]

    def list_faults(self):
        return self.call("GET", "/faults")["faults"]

    def remove_fault(self, fid):
        return self.call("DELETE", "/faults/%d" % int(fid)) is not None

    def clear_faults(self):
        return self.call("DELETE", "/faults")

    def add_token(self, token):
        return self.call("POST", "/tokens", {"add": [token]})

    def revoke_token(self, token):
        return self.call("POST", "/tokens", {"revoke": [token]})

    def remove_token(self, token):
        return self.call("POST", "/tokens", {"remove": [token]})

    def rotate_token(self, token=None, revoke_old=True, write_file=False):
        return self.call("POST", "/tokens/rotate", {"token": token, "revoke_old": revoke_old,
                                                    "write_file": write_file})

    def reload_token_file(self):
        return self.call("POST", "/tokens/reload")

    def list_tokens(self):
        return self.call("GET", "/tokens")

    def set_options(self, **kw):
        return self.call("POST", "/options", kw)

    def get_options(self):
        return self.call("GET", "/options")
