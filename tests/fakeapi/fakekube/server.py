"""The HTTP(S) server: the request handler (auth, faults, log), the listener, the request log.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import copy
import http.server
import json
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

from .errors import (
    APIError, DEFAULT_USER, FLOWSCHEMA_UID, MAX_BODY, PRIORITYLEVEL_UID, err_unauthorized,
    go_json, status_body,
)
from .auth import token_fp
from .api import API, Response
from .faults import fault_response


# --------------------------------------------------------------------------------------
# The request log
# --------------------------------------------------------------------------------------


class RequestLog:
    def __init__(self, limit=20000):
        self.lock = threading.Lock()
        self.entries = []
        self.seq = 0
        self.limit = limit

    def add(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.entries.append(entry)
            if len(self.entries) > self.limit:
                del self.entries[:len(self.entries) - self.limit]
        return entry

    def query(self, writes_only=False, method=None, path=None, since=None):
        with self.lock:
            out = []
            for e in self.entries:
                if writes_only and not e["write"]:
                    continue
                if method and e["method"] != method.upper():
                    continue
                if path and not re.search(path, e["path"]):
                    continue
                if since is not None and e["seq"] <= int(since):
                    continue
                out.append(copy.deepcopy(e))
            return out

    def clear(self):
        with self.lock:
            self.entries = []


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120   # idle keep-alive connections are closed after this many seconds
    server_version = ""
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.owner.verbose:
            sys.stderr.write("fakeapi: " + (fmt % args) + "\n")

    def version_string(self):
        return ""

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline(65537)
            return data
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            left = min(n, 64 * MAX_BODY)
            while left > 0:  # drain, so the client sees the answer rather than a reset
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            raise APIError(413, status_body(413, "RequestEntityTooLarge",
                                            "Request entity too large: limit is %d" % MAX_BODY))
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        owner = self.server.owner
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = url.query
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        try:
            body = self._read_body()
        except APIError as e:
            self.close_connection = True
            self._send(Response(e.code, e.body))
            return
        method = self.command
        hdrs = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        auth_status, tok = owner.tokens.check(self.headers.get("Authorization"))
        text = body.decode("utf-8", "replace") if body else None
        parsed = None
        if body:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        entry = owner.log.add({
            "time": time.time(), "conn": getattr(self, "_conn_id", 0), "method": method,
            "path": path, "query": query, "params": params, "headers": hdrs,
            "auth": auth_status, "token_fp": token_fp(tok), "body": text, "json": parsed,
            "field_manager": (params.get("fieldManager") or [None])[0],
            "dry_run": bool(params.get("dryRun")),
            "write": method in ("POST", "PUT", "PATCH", "DELETE"),
            "status": None, "fault": None, "tls": self.server.tls})
        fault = owner.faults.match(method, path, query)
        resp = None
        if fault is not None:
            entry["fault"] = fault["id"]
            t = fault["type"]
            if t == "stall":
                entry["status"] = "stalled"
                owner.stopping.wait(float(fault.get("delay") or 60))
                self.close_connection = True
                self._abort()
                return
            if fault.get("delay"):
                time.sleep(float(fault["delay"]))
            if t == "drop":
                if fault.get("apply", False):
                    self._process(method, path, query, body, auth_status)
                entry["status"] = "dropped"
                self.close_connection = True
                self._abort()
                return
            if t == "close-mid":
                if fault.get("apply", True):
                    resp = self._process(method, path, query, body, auth_status)
                else:
                    resp = fault_response(dict(fault, type="500"), method, path, params,
                                          owner.store.options.get("user"))
                entry["status"] = "closed-mid:%d" % resp.code
                self._send(resp, truncate=True)
                return
            if t not in ("delay",):
                resp = fault_response(fault, method, path, params,
                                      owner.store.options.get("user", DEFAULT_USER))
        if resp is None:
            resp = self._process(method, path, query, body, auth_status)
        if fault is not None and fault.get("delay_after"):
            entry["applied_at"] = time.time()
            time.sleep(float(fault["delay_after"]))
        entry["status"] = resp.code
        self._send(resp)

    def _process(self, method, path, query, body, auth_status):
        owner = self.server.owner
        public = path in ("/version", "/version/", "/healthz", "/livez", "/readyz")
        if auth_status != "ok" and not (public and auth_status == "missing"):
            return Response(401, err_unauthorized().body)
        api = API(owner)
        try:
            with owner.store.lock:
                return api.handle(method, path, query, self.headers, body)
        except APIError as e:
            return Response(e.code, e.body, e.headers, e.content_type)
        except Exception as e:  # keep serving; report like a non-Status Go error
            if owner.verbose:
                import traceback
                traceback.print_exc()
            return Response(500, status_body(500, "", "fakeapi internal error: %r" % (e,)))

    def _send(self, resp, truncate=False):
        pretty = False
        qs = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if qs.get("pretty"):
            pretty = qs["pretty"][0].lower() in ("1", "t", "true")
        else:
            ua = self.headers.get("User-Agent") or ""
            pretty = ua.startswith(("curl", "Wget", "Mozilla/5.0"))
        if isinstance(resp.body, (bytes, bytearray)):
            data = bytes(resp.body)
        else:
            data = go_json(resp.body, pretty=pretty)
        try:
            self.send_response_only(resp.code)
            self.send_header("Audit-Id", str(uuid.uuid4()))
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Content-Type", resp.content_type)
            if resp.code >= 400:
                self.send_header("X-Content-Type-Options", "nosniff")
            if resp.code < 400 or resp.code == 429:
                if "X-Kubernetes-PF-FlowSchema-UID" not in resp.headers:
                    self.send_header("X-Kubernetes-Pf-Flowschema-Uid", FLOWSCHEMA_UID)
                    self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", PRIORITYLEVEL_UID)
            for k, v in resp.headers.items():
                if k.lower() == "x-content-type-options" and resp.code >= 400:
                    continue
                self.send_header(k, v)
            self.send_header("Date", self.date_time_string())
            self.send_header("Content-Length", str(len(data)))
            # Headers and body leave in one write (no Nagle/delayed-ACK stall).
            self._headers_buffer.append(b"\r\n")
            if truncate:
                self._headers_buffer.append(data[:max(1, len(data) // 2)])
                self.flush_headers()
                self.close_connection = True
                self._abort()
                return
            if self.command != "HEAD":
                self._headers_buffer.append(data)
            self.flush_headers()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def _abort(self):
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, owner, tls_ctx):
        self.owner = owner
        self.tls_ctx = tls_ctx
        self.tls = tls_ctx is not None
        self.conn_seq = 0
        self.conn_lock = threading.Lock()
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.address_family = family
        super().__init__(addr, _Handler)

    def finish_request(self, request, client_address):
        owner = self.owner
        with self.conn_lock:
            self.conn_seq += 1
            cid = self.conn_seq
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if owner.faults.match_connection() is not None:
            owner.log.add({"time": time.time(), "conn": cid, "method": "", "path": "",
                           "query": "", "params": {}, "headers": {}, "auth": None,
                           "token_fp": None, "body": None, "json": None,
                           "field_manager": None, "dry_run": False, "write": False,
                           "status": "refused", "fault": "refuse", "tls": self.tls})
            try:
                request.close()
            except OSError:
                pass
            return
        if self.tls_ctx is not None:
            try:
                request.settimeout(10)
                request = self.tls_ctx.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                with owner.tls_lock:
                    owner.tls_errors.append({"time": time.time(), "conn": cid,
                                             "error": str(e)[:300]})
                try:
                    request.close()
                except OSError:
                    pass
                return
        h = _Handler.__new__(_Handler)
        h._conn_id = cid
        try:
            _Handler.__init__(h, request, client_address, self)
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            if request is not None and self.tls_ctx is not None:
                try:
                    request.close()   # the TLS wrapper owns the fd now
                except OSError:
                    pass

    def shutdown_request(self, request):
        try:
            request.close()
        except OSError:
            pass

    def handle_error(self, request, client_address):
        if self.owner.verbose:
            super().handle_error(request, client_address)
