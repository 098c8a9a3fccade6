"""Fault injection: the rules (Faults), request attributes and the Status a fault answers with.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import copy
import re
import threading

from .errors import (
    APF_BODY, FLOWSCHEMA_UID, OPTIMISTIC_LOCK_MSG, PRIORITYLEVEL_UID, err_invalid_generic,
    err_unauthorized, go_json, status_body,
)
from .resources import RESOURCES
from .api import Response


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------

FAULT_TYPES = ("401", "403", "409", "422", "429-apf", "429-status", "500", "503", "504",
               "status", "delay", "close-mid", "drop", "stall", "refuse")


class Faults:
    """Per-path fault rules.

    A rule: {"type": one of FAULT_TYPES, "path": regex (re.search on the URL path),
             "method": "PATCH" | ["GET", ...] (optional), "query": regex (optional),
             "times": N (default 1; -1, null or "always" = forever), "skip": K (let K
             matching requests through first), "retry_after": seconds, "delay": seconds
             before acting, "message": text, "code"/"body"/"headers"/"content_type" (for
             type "status"), "apply": bool (close-mid: process the request first, default
             true; drop: default false)}.
    "refuse" is checked per connection, before any request is read (path/method ignored).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        spec = dict(spec)
        t = str(spec.get("type", ""))
        if t not in FAULT_TYPES:
            raise ValueError("unknown fault type %r (one of %s)" % (t, ", ".join(FAULT_TYPES)))
        spec["type"] = t
        times = spec.get("times", 1)
        if times in (None, "always") or (isinstance(times, int) and times < 0):
            times = -1
        spec["times"] = int(times)
        spec["skip"] = int(spec.get("skip", 0))
        spec.setdefault("path", ".*")
        re.compile(spec["path"])
        if spec.get("query"):
            re.compile(spec["query"])
        m = spec.get("method")
        if isinstance(m, str):
            spec["method"] = [m.upper()]
        elif isinstance(m, list):
            spec["method"] = [x.upper() for x in m]
        spec["hits"] = 0
        with self.lock:
            spec["id"] = self.next_id
            self.next_id += 1
            self.rules.append(spec)
        return spec["id"]

    def clear(self):
        with self.lock:
            self.rules = []

    def remove(self, fid):
        with self.lock:
            n = len(self.rules)
            self.rules = [r for r in self.rules if r["id"] != fid]
            return len(self.rules) != n

    def list(self):
        with self.lock:
            return copy.deepcopy(self.rules)

    def _consume(self, pred):
        with self.lock:
            for r in self.rules:
                if not pred(r):
                    continue
                if r["skip"] > 0:
                    r["skip"] -= 1
                    continue
                if r["times"] == 0:
                    continue
                if r["times"] > 0:
                    r["times"] -= 1
                r["hits"] += 1
                return copy.deepcopy(r)
        return None

    def match_connection(self):
        return self._consume(lambda r: r["type"] == "refuse")

    def match(self, method, path, query):
        def pred(r):
            if r["type"] == "refuse":
                return False
            if r.get("method") and method not in r["method"]:
                return False
            if not re.search(r["path"], path):
                return False
            if r.get("query") and not re.search(r["query"], query or ""):
                return False
            return True
        return self._consume(pred)


def request_attrs(method, path, params):
    """(verb, group, resource, subresource, namespace, name) for 403/409 fault bodies."""
    parts = [p for p in path.split("/") if p]
    info = {"verb": method.lower(), "group": "", "resource": "", "sub": "", "ns": "",
            "name": "", "res": None}
    if not parts or parts[0] not in ("api", "apis"):
        info["verb"] = method.lower()
        return info
    if parts[0] == "api":
        group, rest = "", parts[2:]
    else:
        group, rest = (parts[1] if len(parts) > 1 else ""), parts[3:]
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) >= 3:
        info["ns"], rest = rest[1], rest[2:]
    elif len(rest) == 2 and rest[0] == "namespaces":
        info["resource"], info["name"] = "namespaces", rest[1]
        rest = []
    if rest:
        info["resource"] = rest[0]
        if len(rest) > 1:
            info["name"] = rest[1]
        if len(rest) > 2:
            info["sub"] = rest[2]
    info["group"] = group
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, method.lower())
    if method == "GET" and not info["name"]:
        verb = "watch" if (params.get("watch") or [""])[0] in ("1", "true") else "list"
    info["verb"] = verb
    for r in RESOURCES:
        if r.group == group and r.plural == info["resource"]:
            info["res"] = r
    return info


def fault_response(fault, method, path, params, user):
    """Build the Response for a status-type fault."""
    t = fault["type"]
    ra = fault.get("retry_after")
    hdr = {}
    if ra is not None:
        hdr["Retry-After"] = str(ra)
    hdr.update(fault.get("headers") or {})
    msg = fault.get("message")
    info = request_attrs(method, path, params)
    gr_q = info["resource"] + ("." + info["group"] if info["group"] else "")
    if t == "401":
        return Response(401, err_unauthorized().body, hdr)
    if t == "403":
        if info["resource"]:
            resource = info["resource"] + ("/" + info["sub"] if info["sub"] else "")
            reason = 'User "%s" cannot %s resource "%s" in API group "%s"' % (
                user, info["verb"], resource, info["group"])
            if info["ns"]:
                reason += ' in the namespace "%s"' % info["ns"]
            if info["name"]:
                m = '%s "%s" is forbidden: %s' % (gr_q, info["name"], reason)
            else:
                m = "%s is forbidden: %s" % (gr_q, reason)
            det = {"name": info["name"], "group": info["group"], "kind": info["resource"]}
        else:
            m = 'forbidden: User "%s" cannot %s path "%s"' % (user, info["verb"], path)
            det = {}
        return Response(403, status_body(403, "Forbidden", msg or m, det), hdr)
    if t == "409":
        det = {"name": info["name"], "group": info["group"], "kind": info["resource"]}
        return Response(409, status_body(409, "Conflict", msg or 'Operation cannot be fulfilled '
                                         'on %s "%s": %s' % (gr_q, info["name"],
                                                             OPTIMISTIC_LOCK_MSG), det), hdr)
    if t == "422":
        return Response(422, err_invalid_generic().body, hdr)
    if t == "429-apf":
        h = {"Retry-After": str(ra if ra is not None else 1),
             "X-Kubernetes-PF-FlowSchema-UID": FLOWSCHEMA_UID,
             "X-Kubernetes-PF-PriorityLevel-UID": PRIORITYLEVEL_UID}
        h.update(fault.get("headers") or {})
        return Response(429, APF_BODY.encode(), h, content_type="text/plain; charset=utf-8")
    if t == "429-status":
        ra2 = ra if ra is not None else 5
        h = {"Retry-After": str(ra2)}
        h.update(fault.get("headers") or {})
        return Response(429, status_body(429, "TooManyRequests",
                                         msg or "Too many requests, please try again later.",
                                         {"retryAfterSeconds": ra2}), h)
    if t == "500":
        m = msg or "etcdserver: request timed out"
        return Response(500, status_body(500, "InternalError", "Internal error occurred: " + m,
                                         {"causes": [{"message": m}]}), hdr)
    if t == "503":
        return Response(503, status_body(503, "ServiceUnavailable", msg or
                                         "the server is currently unable to handle the request"),
                        hdr)
    if t == "504":
        return Response(504, status_body(504, "Timeout", msg or "Timeout: request did not "
                                         "complete within requested timeout - context "
                                         "deadline exceeded", {}), hdr)
    if t == "status":
        body = fault.get("body", "")
        ct = fault.get("content_type") or "application/json"
        if not isinstance(body, (str, bytes)):
            body = go_json(body)
        if isinstance(body, str):
            body = body.encode()
        return Response(int(fault.get("code", 500)), body, hdr, content_type=ct)
    raise ValueError(t)
