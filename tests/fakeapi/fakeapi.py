#!/usr/bin/env python3
"""A faithful fake Kubernetes API server for rollguard's tests (Python 3, stdlib only).

It emulates the parts of kube-apiserver that the rollback sidecar and `kubectl rollout
undo` touch: Deployments (+/status,
+/scale), ReplicaSets, Pods, Leases, core/v1 and events.k8s.io/v1 Events and Argo
Rollouts, with the real server's status codes and Status bodies (exact key order, Go's
HTML escaping, trailing newline), JSON/merge/strategic/apply patches, resourceVersion and
generation rules, label and field selectors, limit/continue, discovery (legacy and
aggregated), Table output for `kubectl get`, bearer tokens with rotation and revocation,
a Deployment controller simulation (revision renumbering) and per-path fault injection.

Start it
  CLI:  python3 fakeapi.py --port 0 --state seed_web.json --tls-dir DIR --token-file F
                           --control-port 0 --control-port-file info.json
        Prints one JSON line and writes the same object to --control-port-file:
        {"port", "http_port", "control_port", "pid", "url", "host", "tls", "ca",
         "tls_dir", "token", "token_file", "wrong_ca"}.  --no-tls serves plain HTTP on
        --port; --http-port N adds a plain listener; --token T (repeatable) adds accepted
        tokens; --token-file F accepts F's token (a random one is written if F is missing);
        --option NAME=JSON sets a simulation option.  SIGTERM/SIGINT stop it.
  Python: fa = FakeAPI("seed_web.json", tls_dir=d, tokens=["t"]).start(); ...; fa.stop()
        fa.url, fa.port, fa.ca_file, fa.token, fa.control_port, fa.http_port
  Remote: ControlClient(port) or ControlClient.from_info_file(path): same methods.

TLS: ca.crt/ca.key and server.crt/server.key (SAN 127.0.0.1, ::1, localhost,
kubernetes.default.svc...) are made once in --tls-dir with the openssl CLI, plus an
unrelated wrong-ca.crt for negative tests.  ALPN offers http/1.1 only.

Seed / state format: {"resourceVersion": "48220", "options": {...}, "objects": [full
objects with apiVersion and kind]}.  Missing uid/creationTimestamp/resourceVersion are
filled in; the global resourceVersion starts at max(resourceVersion, object RVs).

Operations (Python method = control endpoint, JSON in and out, plain HTTP on loopback):
  info()                               GET    /info
  dump_state() / load_state(state)     GET    /state     PUT /state
  reset()  (seed, log, faults, tokens) POST   /reset
  get_object(res, ns, name)            GET    /objects/RES/NS/NAME   (NS "_" = cluster)
  list_objects(res, ns=None)           GET    /objects/RES?namespace=NS
  put_object(obj, controller=False)    PUT    /objects[?controller=1]   (upsert, new RV)
  delete_object(res, ns, name)         DELETE /objects/RES/NS/NAME
  touch(res, ns, name, status=None)    POST   /touch/RES/NS/NAME {"status": {...}}
  requests(writes_only, method, path, since)
                                       GET    /log?writes=1&method=PATCH&path=RE&since=N
  clear_log()                          DELETE /log
  tls_failures()                       GET    /tls-failures
  add_fault(spec) -> id                POST   /faults  (object or list -> {"ids": [...]})
  list_faults() / clear_faults()       GET    /faults    DELETE /faults
  remove_fault(id)                     DELETE /faults/ID
  add_token / revoke_token / remove_token(t)
                                       POST   /tokens {"add"|"revoke"|"remove"|"set": [..]}
  rotate_token(t=None, revoke_old=True, write_file=False)
                                       POST   /tokens/rotate {"token", "revoke_old", ...}
  reload_token_file() / list_tokens()  POST   /tokens/reload   GET /tokens
  set_options(**kw) / get_options()    POST   /options {...}   GET /options
RES is a plural ("deployments") or plural.group ("events.events.k8s.io").

Request log entry: {seq, time, conn, method, path, query, params, headers (no
Authorization), auth (ok|missing|malformed|unknown|revoked), token_fp (sha256[:12]),
body (text), json (parsed or null), field_manager, dry_run, write, status (int, or
"dropped"/"refused"/"closed-mid:N"), fault (id), tls}.

Fault spec: {"type": T, "path": regex searched in the URL path (default ".*"),
  "method": "PATCH" | [...], "query": regex on the raw query, "times": N (default 1;
  -1/null/"always" = forever), "skip": K (let K matching requests pass first),
  "retry_after": s, "delay": s (sleep first), "message": text, "headers": {...}}
  T: 401 | 403 (forbidden body built from the request; user from option "user") | 409 |
     422 | 429-apf (text/plain, Retry-After default 1, APF headers) | 429-status
     (details.retryAfterSeconds, Retry-After default 5) | 500 (+Retry-After if
     retry_after) | 503 | 504 | status (code, body, content_type) | delay (then serve
     normally) | close-mid (headers + half the body, then close; "apply": true processes
     the request first, default) | drop (read the request, close without answer;
     "apply": false default) | stall (read the request, never answer: hold the
     connection for "delay" seconds, default 60, or until stop(), then close) |
     refuse (close right after accept; path/method ignored).
  "delay_after": s (any type that answers) processes the request first and sleeps before
  sending the answer: the write lands while the client still waits.
  The first matching rule wins; faults are checked before authentication.
  A TLS handshake that fails (say the client does not trust the CA) is no request: it is
  kept apart, in tls_failures() (GET /tls-failures): {time, conn, error}; clear_log() and
  reset() empty it.

Options (seed "options", set_options, --option): controller, controller_scale,
controller_cleanup, rollouts_status_subresource, user, page_size ({"replicasets": N}
paginates even without ?limit), strict_core_events, now (fixed clock), server_version,
log_limit.
"""

import argparse
import base64
import copy
import datetime
import hashlib
import http.client
import http.server
import json
import math
import os
import re
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))

OPTIMISTIC_LOCK_MSG = ("the object has been modified; please apply your changes to the "
                       "latest version and try again")
APF_BODY = "Too many requests, please try again later.\n"
MAX_BODY = 3 * 1024 * 1024   # apiserver's default MaxRequestBodyBytes
DEFAULT_USER = "system:serviceaccount:prod:web-sidecar"
SERVER_VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335", "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:01:18Z", "goVersion": "go1.23.6", "compiler": "gc",
    "platform": "linux/amd64",
}
FLOWSCHEMA_UID = "3c2ee5a9-8a3f-4e0c-9a8e-2b6d7c1f0a11"
PRIORITYLEVEL_UID = "7d1f4b2e-5c6a-4f3b-8e9d-0a1b2c3d4e5f"

# Annotations kubectl's rollback skips / the controller does not copy (kubectl
# pkg/polymorphichelpers/rollback.go annotationsToSkip).
ANNOTATIONS_TO_SKIP = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)
REV_ANN = "deployment.kubernetes.io/revision"
REV_HIST_ANN = "deployment.kubernetes.io/revision-history"
HASH_LABEL = "pod-template-hash"

# --------------------------------------------------------------------------------------
# JSON the way Go's encoding/json.Encoder writes it (apimachinery serializer/json).
# --------------------------------------------------------------------------------------


def go_json(obj, pretty=False):
    """Serialise like json.NewEncoder(w).Encode(obj): compact, HTML-escaped, '\n' at end.

    pretty=True mimics MarshalIndent(obj, "", "  ") (used for ?pretty=true, curl UAs):
    no trailing newline.
    """
    if pretty:
        text = json.dumps(obj, ensure_ascii=False, indent=2, separators=(",", ": "))
    else:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    if not pretty:
        text += "\n"
    return text.encode("utf-8")


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def go_decode_error(data, err, target="object"):
    """Approximate Go encoding/json error text for a Python JSONDecodeError."""
    if not data.strip():
        return "unexpected end of JSON input"
    if err is None:
        return "invalid JSON"
    pos = err.pos
    ch = data[pos] if pos < len(data) else ""
    if not ch:
        return "unexpected end of JSON input"
    q = "'\\''" if ch == "'" else "'%s'" % ch
    m = err.msg
    if m.startswith("Expecting value"):
        return "invalid character %s looking for beginning of value" % q
    if m.startswith("Extra data"):
        return "invalid character %s after top-level value" % q
    if m.startswith("Expecting property name"):
        return "invalid character %s looking for beginning of object key string" % q
    if m.startswith("Expecting ':'"):
        return "invalid character %s after object key" % q
    if m.startswith("Expecting ','"):
        # Find whether we are inside an object or an array.
        depth = []
        instr = False
        esc = False
        for c in data[:pos]:
            if instr:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    instr = False
                continue
            if c == '"':
                instr = True
            elif c in "[{":
                depth.append(c)
            elif c in "]}" and depth:
                depth.pop()
        if depth and depth[-1] == "[":
            return "invalid character %s after array element" % q
        return "invalid character %s after object key:value pair" % q
    if m.startswith("Unterminated string"):
        return "unexpected end of JSON input"
    if m.startswith("Invalid control character"):
        return "invalid character %s in string literal" % q
    return "invalid character %s looking for beginning of value" % q


def go_type_name(v):
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "null"


# --------------------------------------------------------------------------------------
# Status objects (apimachinery pkg/apis/meta/v1 types.go order).
# --------------------------------------------------------------------------------------


def status_body(code, reason, message, details=None):
    """A Failure Status.  details=None omits the key; {} renders "details":{}.

    details keys are re-ordered as Go's StatusDetails: name, group, kind, uid, causes,
    retryAfterSeconds; empty values are dropped (omitempty).
    """
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message}
    if reason:
        st["reason"] = reason
    if details is not None:
        d = {}
        for k in ("name", "group", "kind", "uid", "causes", "retryAfterSeconds"):
            if details.get(k):
                d[k] = details[k]
        st["details"] = d
    st["code"] = code
    return st


class APIError(Exception):
    """An HTTP error answer: code, JSON (Status) body or raw bytes, extra headers."""

    def __init__(self, code, body, headers=None, content_type="application/json"):
        super().__init__("%d" % code)
        self.code = code
        self.body = body
        self.headers = dict(headers or {})
        self.content_type = content_type


def err_not_found(res, name):
    det = {"name": name, "group": res.group, "kind": res.plural}
    return APIError(404, status_body(404, "NotFound", '%s "%s" not found' % (res.qualified, name),
                                     det))


def err_generic_not_found():
    return APIError(404, status_body(404, "NotFound",
                                     "the server could not find the requested resource", {}))


def err_conflict(res, name, msg=OPTIMISTIC_LOCK_MSG):
    det = {"name": name, "group": res.group, "kind": res.plural}
    return APIError(409, status_body(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                                     % (res.qualified, name, msg), det))


def err_already_exists(res, name):
    det = {"name": name, "group": res.group, "kind": res.plural}
    return APIError(409, status_body(409, "AlreadyExists", '%s "%s" already exists'
                                     % (res.qualified, name), det))


def err_invalid_generic():
    return APIError(422, status_body(
        422, "Invalid", "the server rejected our request due to an error in our request", {}))


def err_bad_request(msg):
    return APIError(400, status_body(400, "BadRequest", msg))


def err_unauthorized():
    return APIError(401, status_body(401, "Unauthorized", "Unauthorized"))


def err_method_not_allowed():
    return APIError(405, status_body(405, "MethodNotAllowed", "405: Method Not Allowed", {}))


def err_unsupported_builtin():
    return APIError(415, status_body(415, "UnsupportedMediaType", "415: Unsupported Media Type",
                                     {}))


def err_unsupported_custom(types):
    return APIError(415, status_body(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(types)))


def go_value(v):
    """field.ErrorBody value rendering: ints bare, strings quoted, others JSON."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if v is None:
        return "null"
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def field_invalid(path, value, detail):
    body = "Invalid value: %s" % go_value(value)
    if detail:
        body += ": " + detail
    return {"reason": "FieldValueInvalid", "message": body, "field": path}


def field_required(path, detail=""):
    body = "Required value"
    if detail:
        body += ": " + detail
    return {"reason": "FieldValueRequired", "message": body, "field": path}


def err_invalid(qualified_kind, group, kind, name, causes):
    """NewInvalid: '<Kind.group> "<name>" is invalid: <aggregate>'."""
    msgs = []
    for c in causes:
        m = "%s: %s" % (c["field"], c["message"]) if c.get("field") else c["message"]
        if m not in msgs:
            msgs.append(m)
    agg = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    det = {"name": name, "group": group, "kind": kind, "causes": causes}
    return APIError(422, status_body(422, "Invalid", '%s "%s" is invalid: %s'
                                     % (qualified_kind, name, agg), det))


# --------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------

VERBS_ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUB_VERBS = ["get", "patch", "update"]


class Res:
    def __init__(self, group, version, plural, kind, singular, namespaced=True, builtin=True,
                 status_sub=False, short=None, categories=None, storage=None, fields=None):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.singular = singular
        self.namespaced = namespaced
        self.builtin = builtin
        self.status_sub = status_sub
        self.short = short or []
        self.categories = categories or []
        self.storage = storage or (group + "/" + plural)
        self.fields = fields or ["metadata.name", "metadata.namespace"]
        self.api_version = (group + "/" + version) if group else version
        self.qualified = plural + ("." + group if group else "")
        self.qualified_kind = kind + ("." + group if group else "")
        self.list_kind = kind + "List"


EVENT_FIELDS = ["metadata.name", "metadata.namespace", "involvedObject.kind",
                "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion",
                "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]
POD_FIELDS = ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
              "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
              "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"]

RESOURCES = [
    Res("", "v1", "pods", "Pod", "pod", status_sub=True, short=["po"], categories=["all"],
        fields=POD_FIELDS),
    Res("", "v1", "events", "Event", "event", short=["ev"], storage="events",
        fields=EVENT_FIELDS),
    Res("", "v1", "namespaces", "Namespace", "namespace", namespaced=False, short=["ns"]),
    Res("apps", "v1", "deployments", "Deployment", "deployment", status_sub=True,
        short=["deploy"], categories=["all"]),
    Res("apps", "v1", "replicasets", "ReplicaSet", "replicaset", status_sub=True,
        short=["rs"], categories=["all"]),
    Res("coordination.k8s.io", "v1", "leases", "Lease", "lease"),
    Res("events.k8s.io", "v1", "events", "Event", "event", short=["ev"], storage="events",
        fields=["metadata.name", "metadata.namespace", "regarding.kind", "regarding.namespace",
                "regarding.name", "regarding.uid", "regarding.apiVersion",
                "regarding.resourceVersion", "regarding.fieldPath", "reason",
                "reportingController", "type"]),
    Res("argoproj.io", "v1alpha1", "rollouts", "Rollout", "rollout", builtin=False,
        status_sub=True, short=["ro"], categories=["all"]),
]
SCALE_RES = Res("autoscaling", "v1", "scale", "Scale", "scale")
RES_BY_GV = {}
for _r in RESOURCES:
    RES_BY_GV.setdefault((_r.group, _r.version), {})[_r.plural] = _r


def res_for_object(obj):
    av = obj.get("apiVersion", "")
    kind = obj.get("kind", "")
    group, _, version = av.rpartition("/")
    for r in RESOURCES:
        if r.group == group and r.version == version and r.kind == kind:
            return r
    raise ValueError("unknown apiVersion/kind %s/%s" % (av, kind))


def res_by_name(name):
    """'deployments', 'deployments.apps', 'leases.coordination.k8s.io', 'events.events.k8s.io'."""
    for r in RESOURCES:
        if name in (r.plural, r.qualified):
            return r
    raise KeyError(name)


# --------------------------------------------------------------------------------------
# Time, names, hashes
# --------------------------------------------------------------------------------------


def fmt_time(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_micro(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s):
    if not s or not isinstance(s, str):
        return None
    try:
        s2 = s.replace("Z", "+00:00")
        return datetime.datetime.fromisoformat(s2).timestamp()
    except ValueError:
        return None


SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(s):
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in s)


def fnv32a(data):
    h = 0x811c9dc5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xffffffff
    return h


def template_hash(template, collision_count=None):
    """Like controller.ComputeHash: FNV-32a, decimal, SafeEncodeString.

    The input is canonical JSON of the template (Go hashes a spew dump, which Python
    cannot reproduce), so hashes are deterministic but differ from a real cluster's.
    """
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    data = json.dumps(normalize_semantic(t), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def random_suffix(n=5):
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in os.urandom(n))


def normalize_semantic(v):
    """apiequality.Semantic-ish: nil == empty, creationTimestamp null ignored."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            x = normalize_semantic(x)
            if x is None or x == {} or x == []:
                continue
            out[k] = x
        return out
    if isinstance(v, list):
        return [normalize_semantic(x) for x in v]
    return v


def equal_ignore_hash(t1, t2):
    a = copy.deepcopy(t1 or {})
    b = copy.deepcopy(t2 or {})
    for t in (a, b):
        labels = (t.get("metadata") or {}).get("labels")
        if isinstance(labels, dict):
            labels.pop(HASH_LABEL, None)
    return normalize_semantic(a) == normalize_semantic(b)


def revision_of(obj):
    """deploymentutil.Revision: missing -> 0, unparsable -> None."""
    v = ((obj.get("metadata") or {}).get("annotations") or {}).get(REV_ANN)
    if v is None:
        return 0
    try:
        return int(v, 10)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------


class SelectorError(Exception):
    pass


_LABEL_SPECIAL = set(" \t\r\n,=!()<>")


def _label_tokens(s):
    toks = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c == "," or c == "(" or c == ")":
            toks.append(c)
            i += 1
            continue
        if s.startswith("==", i) or s.startswith("!=", i):
            toks.append(s[i:i + 2])
            i += 2
            continue
        if c in "=!<>":
            toks.append(c)
            i += 1
            continue
        j = i
        while j < n and s[j] not in _LABEL_SPECIAL:
            j += 1
        toks.append(("id", s[i:j]))
        i = j
    return toks


def parse_label_selector(s):
    """Parse a labels.Selector string into [(op, key, values)].

    ops: exists, !exists, =, !=, in, notin, gt, lt.  Raises SelectorError.
    """
    toks = _label_tokens(s)
    reqs = []
    i = 0

    def ident(j):
        if j < len(toks) and isinstance(toks[j], tuple):
            return toks[j][1]
        return None

    def values_list(j):
        if j >= len(toks) or toks[j] != "(":
            raise SelectorError("found '%s', expected: '('" % _tokstr(toks, j))
        j += 1
        vals = []
        expect_val = True
        while True:
            if j >= len(toks):
                raise SelectorError("found '', expected: ')'")
            t = toks[j]
            if t == ")":
                if expect_val and vals:
                    vals.append("")
                j += 1
                break
            if t == ",":
                if expect_val:
                    vals.append("")
                expect_val = True
                j += 1
                continue
            if isinstance(t, tuple) and expect_val:
                vals.append(t[1])
                expect_val = False
                j += 1
                continue
            raise SelectorError("found '%s', expected: ',', ')' or identifier" % _tokstr(toks, j))
        return vals, j

    while i < len(toks):
        if toks[i] == "!":
            k = ident(i + 1)
            if k is None:
                raise SelectorError("found '%s', expected: identifier after '!'"
                                    % _tokstr(toks, i + 1))
            _check_label_key(k)
            reqs.append(("!exists", k, []))
            i += 2
        else:
            k = ident(i)
            if k is None:
                raise SelectorError("found '%s', expected: !, identifier, or 'end of string'"
                                    % _tokstr(toks, i))
            _check_label_key(k)
            i += 1
            if i >= len(toks) or toks[i] == ",":
                reqs.append(("exists", k, []))
            else:
                t = toks[i]
                if t in ("=", "=="):
                    v = ident(i + 1)
                    if v is None:
                        v = ""
                        i += 1
                    else:
                        i += 2
                    reqs.append(("=", k, [v]))
                elif t == "!=":
                    v = ident(i + 1)
                    if v is None:
                        v = ""
                        i += 1
                    else:
                        i += 2
                    reqs.append(("!=", k, [v]))
                elif t in (">", "<"):
                    v = ident(i + 1)
                    if v is None or not re.fullmatch(r"-?\d+", v):
                        raise SelectorError("for 'Gt', 'Lt' operators, exactly one numeric "
                                            "value is required")
                    reqs.append(("gt" if t == ">" else "lt", k, [v]))
                    i += 2
                elif isinstance(t, tuple) and t[1] in ("in", "notin"):
                    vals, i = values_list(i + 1)
                    if not vals:
                        raise SelectorError("for 'in', 'notin' operators, values set can't be "
                                            "empty")
                    reqs.append((t[1], k, sorted(set(vals))))
                else:
                    raise SelectorError("found '%s', expected: in, notin, =, ==, !=, gt, lt"
                                        % _tokstr(toks, i))
        if i < len(toks):
            if toks[i] != ",":
                raise SelectorError("found '%s', expected: ',' or 'end of string'"
                                    % _tokstr(toks, i))
            i += 1
            if i >= len(toks):
                raise SelectorError("found '', expected: identifier after ','")
    return reqs


def _tokstr(toks, j):
    if j >= len(toks):
        return ""
    t = toks[j]
    return t[1] if isinstance(t, tuple) else t


def _check_label_key(k):
    if len(k) > 317 or not re.fullmatch(r"([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?",
                                        k):
        raise SelectorError('key: Invalid value: "%s": name part must consist of alphanumeric '
                            "characters, '-', '_' or '.', and must start and end with an "
                            "alphanumeric character" % k)


def label_match(reqs, labels):
    labels = labels or {}
    for op, k, vals in reqs:
        has = k in labels
        v = labels.get(k)
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
        if op == "=" and (not has or v != vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and (not has or v not in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op in ("gt", "lt"):
            if not has:
                return False
            try:
                lv = int(v)
            except ValueError:
                return False
            if op == "gt" and not lv > int(vals[0]):
                return False
            if op == "lt" and not lv < int(vals[0]):
                return False
    return True


def selector_to_string(sel):
    """metav1.LabelSelectorAsSelector(sel).String()."""
    reqs = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append((k, "%s=%s" % (k, v)))
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), sorted(e.get("values") or [])
        if op == "In":
            reqs.append((k, "%s in (%s)" % (k, ",".join(vals))))
        elif op == "NotIn":
            reqs.append((k, "%s notin (%s)" % (k, ",".join(vals))))
        elif op == "Exists":
            reqs.append((k, k))
        elif op == "DoesNotExist":
            reqs.append((k, "!" + k))
    reqs.sort(key=lambda x: x[0])
    return ",".join(r[1] for r in reqs)


def selector_matches_labels(sel, labels):
    if not sel:
        return False
    try:
        return label_match(parse_label_selector(selector_to_string(sel)), labels)
    except SelectorError:
        return False


def parse_field_selector(s, allowed):
    """fields.ParseSelector: terms k=v, k==v, k!=v (any order, '\\' escapes)."""
    terms = []
    if not s:
        return terms
    parts = []
    cur = ""
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur += c + s[i + 1]
            i += 2
            continue
        if c == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    for p in parts:
        m = re.match(r"^((?:[^=!\\]|\\.)*)(==|=|!=)(.*)$", p)
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand '%s'" % (s, p))
        key, op, val = m.group(1), m.group(2), m.group(3)
        val = re.sub(r"\\(.)", r"\1", val)
        if key not in allowed:
            raise SelectorError('field label not supported: %s' % key)
        terms.append((key, "!=" if op == "!=" else "=", val))
    return terms


def get_path(obj, dotted):
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def field_match(terms, obj, fieldmap=None):
    for key, op, val in terms:
        path = (fieldmap or {}).get(key, key)
        v = get_path(obj, path)
        if key == "source" and isinstance(v, dict):
            v = v.get("component")
        if v is None:
            v = ""
        if isinstance(v, bool):
            v = "true" if v else "false"
        v = str(v)
        if op == "=" and v != val:
            return False
        if op == "!=" and v == val:
            return False
    return True


# --------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------


class PatchApplyError(Exception):
    pass


def parse_pointer(p):
    if not isinstance(p, str):
        raise PatchApplyError("path is not a string")
    if p == "":
        return []
    if not p.startswith("/"):
        raise PatchApplyError("JSON pointer must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in p[1:].split("/")]


def _arr_index(tok, n, allow_end):
    if tok == "-" and allow_end:
        return n
    if not re.fullmatch(r"0|[1-9][0-9]*", tok):
        raise PatchApplyError("invalid array index %r" % tok)
    i = int(tok)
    if i > n or (i == n and not allow_end):
        raise PatchApplyError("array index out of bounds")
    return i


def _container(doc, toks):
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchApplyError("doc is missing path")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_arr_index(t, len(cur), False)]
        else:
            raise PatchApplyError("doc is missing path")
    if not isinstance(cur, (dict, list)):
        raise PatchApplyError("doc is missing path")
    return cur


def ptr_get(doc, toks):
    cur = doc
    for t in toks:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchApplyError("missing")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_arr_index(t, len(cur), False)]
        else:
            raise PatchApplyError("missing")
    return cur


def ptr_add(doc, toks, val):
    if not toks:
        return val
    con = _container(doc, toks)
    t = toks[-1]
    if isinstance(con, dict):
        con[t] = val
    else:
        con.insert(_arr_index(t, len(con), True), val)
    return doc


def ptr_remove(doc, toks):
    if not toks:
        raise PatchApplyError("cannot remove root")
    con = _container(doc, toks)
    t = toks[-1]
    if isinstance(con, dict):
        if t not in con:
            raise PatchApplyError("remove operation does not apply: doc is missing key")
        return doc, con.pop(t)
    i = _arr_index(t, len(con), False)
    return doc, con.pop(i)


def ptr_replace(doc, toks, val):
    if not toks:
        return val
    con = _container(doc, toks)
    t = toks[-1]
    if isinstance(con, dict):
        if t not in con:
            raise PatchApplyError("replace operation does not apply: doc is missing key")
        con[t] = val
    else:
        con[_arr_index(t, len(con), False)] = val
    return doc


def json_patch_decode(body):
    """jsonpatch.DecodePatch: returns list of op dicts or raises APIError(400)."""
    text = body.decode("utf-8", "replace")
    try:
        ops = json.loads(text)
    except json.JSONDecodeError as e:
        raise err_bad_request(go_decode_error(text, e))
    if ops is None:
        return []
    if not isinstance(ops, list):
        raise err_bad_request("json: cannot unmarshal %s into Go value of type jsonpatch.Patch"
                              % go_type_name(ops))
    for op in ops:
        if not isinstance(op, dict):
            raise err_bad_request("json: cannot unmarshal %s into Go value of type "
                                  "jsonpatch.Operation" % go_type_name(op))
    if len(ops) > 10000:
        raise APIError(413, status_body(413, "RequestEntityTooLarge",
                                        "Request entity too large: The allowed maximum "
                                        "operations in a JSON patch is 10000, got %d"
                                        % len(ops)))
    return ops


def json_patch_apply(doc, ops):
    """Apply RFC 6902 ops atomically (on a copy).  Raises PatchApplyError."""
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        path = op.get("path")
        toks = parse_pointer(path)
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchApplyError("missing value")
        if kind == "add":
            doc = ptr_add(doc, toks, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc, _ = ptr_remove(doc, toks)
        elif kind == "replace":
            doc = ptr_replace(doc, toks, copy.deepcopy(op["value"]))
        elif kind == "move":
            ftoks = parse_pointer(op.get("from"))
            if toks[:len(ftoks)] == ftoks and len(toks) > len(ftoks):
                raise PatchApplyError("move into own child")
            doc, val = ptr_remove(doc, ftoks)
            doc = ptr_add(doc, toks, val)
        elif kind == "copy":
            ftoks = parse_pointer(op.get("from"))
            val = copy.deepcopy(ptr_get(doc, ftoks))
            doc = ptr_add(doc, toks, val)
        elif kind == "test":
            try:
                cur = ptr_get(doc, toks)
                missing = False
            except PatchApplyError:
                cur, missing = None, True
            want = op["value"]
            if missing:
                if want is not None:
                    raise PatchApplyError("testing value %s failed" % path)
            elif not v4_equal(cur, want):
                raise PatchApplyError("testing value %s failed" % path)
        else:
            raise PatchApplyError("Unexpected kind: %s" % kind)
    return doc


def v4_equal(doc_val, patch_val):
    """evanphx/json-patch v4 `test` equality.

    Objects and arrays compare member by member; scalars compare by their compacted JSON
    text, the document side as Go's encoder wrote it (so 2 != 2.0, and a string holding
    < > & never equals its unescaped form) and the patch side as sent (approximated by a
    compact re-encoding without escaping).
    """
    if isinstance(doc_val, dict) or isinstance(patch_val, dict):
        if not (isinstance(doc_val, dict) and isinstance(patch_val, dict)):
            return False
        if set(doc_val) != set(patch_val):
            return False
        return all(v4_equal(doc_val[k], patch_val[k]) for k in doc_val)
    if isinstance(doc_val, list) or isinstance(patch_val, list):
        if not (isinstance(doc_val, list) and isinstance(patch_val, list)):
            return False
        if len(doc_val) != len(patch_val):
            return False
        return all(v4_equal(a, b) for a, b in zip(doc_val, patch_val))
    return go_json(doc_val)[:-1] == compact(patch_val).encode("utf-8")


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    else:
        target = dict(target)
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


SMP_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "ports": "containerPort", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "imagePullSecrets": "name", "conditions": "type",
    "ownerReferences": "uid", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}


def strategic_merge_patch(target, patch, field=None):
    """A practical subset of strategic merge patch for built-in types."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        p = {k: v for k, v in patch.items() if not k.startswith("$")}
        return copy.deepcopy(p)
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") or k == "$retainKeys" or k == "$patch":
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            fk = k.split("/", 1)[1]
            if isinstance(out.get(fk), list):
                out[fk] = [x for x in out[fk] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and k in SMP_MERGE_KEYS and isinstance(out.get(k), list):
            out[k] = _smp_list(out[k], v, SMP_MERGE_KEYS[k])
        elif isinstance(v, list) and k == "finalizers" and isinstance(out.get(k), list):
            out[k] = out[k] + [x for x in v if x not in out[k]]
        else:
            r = strategic_merge_patch(out.get(k), v, k)
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
    return out


def _smp_list(cur, patch, key):
    cur = [copy.deepcopy(x) for x in cur]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            if isinstance(item, dict) and item.get("$patch") == "replace":
                return []
            continue
        idx = next((i for i, x in enumerate(cur) if isinstance(x, dict)
                    and x.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                cur.pop(idx)
            continue
        if idx is None:
            cur.append(strategic_merge_patch({}, item))
        else:
            cur[idx] = strategic_merge_patch(cur[idx], item)
    return cur


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------

META_ORDER = ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
              "generation", "creationTimestamp", "deletionTimestamp",
              "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
              "finalizers", "managedFields"]
CORE_EVENT_ORDER = ["kind", "apiVersion", "metadata", "involvedObject", "reason", "message",
                    "source", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime",
                    "series", "action", "related", "reportingComponent", "reportingInstance"]
V1_EVENT_ORDER = ["kind", "apiVersion", "metadata", "eventTime", "series",
                  "reportingController", "reportingInstance", "action", "reason", "regarding",
                  "related", "note", "type", "deprecatedSource", "deprecatedFirstTimestamp",
                  "deprecatedLastTimestamp", "deprecatedCount"]


def ordered(obj, order):
    out = {}
    for k in order:
        if k in obj:
            out[k] = obj[k]
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    return out


def order_object(obj):
    """kind, apiVersion, metadata (Go ObjectMeta order), then the rest as stored."""
    obj = ordered(obj, ["kind", "apiVersion", "metadata"])
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"] = ordered(obj["metadata"], META_ORDER)
    return obj


def core_event_to_v1(ev):
    """Convert a stored core/v1 Event to events.k8s.io/v1."""
    out = {"kind": "Event", "apiVersion": "events.k8s.io/v1",
           "metadata": copy.deepcopy(ev.get("metadata", {}))}
    out["eventTime"] = ev.get("eventTime")
    if ev.get("series"):
        out["series"] = copy.deepcopy(ev["series"])
    if ev.get("reportingComponent"):
        out["reportingController"] = ev["reportingComponent"]
    if ev.get("reportingInstance"):
        out["reportingInstance"] = ev["reportingInstance"]
    if ev.get("action"):
        out["action"] = ev["action"]
    if ev.get("reason"):
        out["reason"] = ev["reason"]
    out["regarding"] = copy.deepcopy(ev.get("involvedObject", {}))
    if ev.get("related"):
        out["related"] = copy.deepcopy(ev["related"])
    if ev.get("message"):
        out["note"] = ev["message"]
    if ev.get("type"):
        out["type"] = ev["type"]
    src = ev.get("source") or {}
    if src:
        out["deprecatedSource"] = copy.deepcopy(src)
    out["deprecatedFirstTimestamp"] = ev.get("firstTimestamp")
    out["deprecatedLastTimestamp"] = ev.get("lastTimestamp")
    if ev.get("count"):
        out["deprecatedCount"] = ev["count"]
    return ordered(out, V1_EVENT_ORDER)


def v1_event_to_core(ev):
    out = {"kind": "Event", "apiVersion": "v1", "metadata": copy.deepcopy(ev.get("metadata", {}))}
    out["involvedObject"] = copy.deepcopy(ev.get("regarding") or {})
    if "reason" in ev:
        out["reason"] = ev["reason"]
    if "note" in ev:
        out["message"] = ev["note"]
    out["source"] = copy.deepcopy(ev.get("deprecatedSource") or {})
    out["firstTimestamp"] = ev.get("deprecatedFirstTimestamp")
    out["lastTimestamp"] = ev.get("deprecatedLastTimestamp")
    if ev.get("deprecatedCount"):
        out["count"] = ev["deprecatedCount"]
    if "type" in ev:
        out["type"] = ev["type"]
    out["eventTime"] = ev.get("eventTime")
    for k in ("series", "action", "related"):
        if k in ev:
            out[k] = copy.deepcopy(ev[k])
    out["reportingComponent"] = ev.get("reportingController", "")
    out["reportingInstance"] = ev.get("reportingInstance", "")
    return out


def normalize_core_event(ev):
    ev = dict(ev)
    ev.setdefault("source", {})
    ev.setdefault("firstTimestamp", None)
    ev.setdefault("lastTimestamp", None)
    ev.setdefault("eventTime", None)
    ev.setdefault("reportingComponent", "")
    ev.setdefault("reportingInstance", "")
    return ordered(ev, CORE_EVENT_ORDER)


DEFAULT_OPTIONS = {
    "controller": True,            # simulate the Deployment controller after template writes
    "controller_scale": True,      # new RS gets spec.replicas, other owned RSs scale to 0
    "controller_cleanup": True,    # delete old RSs beyond spec.revisionHistoryLimit
    "rollouts_status_subresource": True,  # False: /status of rollouts answers 404
    "user": DEFAULT_USER,          # user name in 403 bodies
    "page_size": {},               # {"replicasets": 1}: paginate even without ?limit
    "strict_core_events": False,   # also require reason and type Normal|Warning on core/v1
    "now": None,                   # fixed clock (RFC3339) for timestamps; None = real time
    "server_version": None,        # override /version object
    "log_limit": 20000,            # request log entries kept
}


class Store:
    """All API objects, the global resourceVersion and the simulation options."""

    def __init__(self):
        self.lock = threading.RLock()
        self.objects = {}        # (storage, ns, name) -> object
        self.rv = 1000
        self.options = copy.deepcopy(DEFAULT_OPTIONS)

    # -- time ----------------------------------------------------------------------
    def now(self):
        fixed = self.options.get("now")
        if fixed:
            t = parse_time(fixed)
            if t is not None:
                return t
        return time.time()

    # -- state ---------------------------------------------------------------------
    def load(self, state):
        """Replace everything with a seed: {"resourceVersion", "options", "objects"}."""
        with self.lock:
            if isinstance(state, list):
                state = {"objects": state}
            self.objects = {}
            self.options = copy.deepcopy(DEFAULT_OPTIONS)
            self.options.update(state.get("options") or {})
            maxrv = 0
            for obj in state.get("objects") or []:
                obj = copy.deepcopy(obj)
                res = res_for_object(obj)
                md = obj.setdefault("metadata", {})
                if res.namespaced:
                    md.setdefault("namespace", "default")
                md.setdefault("uid", str(uuid.uuid4()))
                md.setdefault("creationTimestamp", fmt_time(self.now()))
                try:
                    maxrv = max(maxrv, int(md.get("resourceVersion", "0")))
                except ValueError:
                    pass
                if res.storage == "events":
                    if res.group == "events.k8s.io":
                        obj = v1_event_to_core(obj)
                    obj = normalize_core_event(obj)
                self.objects[(res.storage, md.get("namespace", ""), md["name"])] = obj
            self.rv = max(int(state.get("resourceVersion") or 0), maxrv)
            for key, obj in self.objects.items():
                md = obj["metadata"]
                if "resourceVersion" not in md:
                    self.rv += 1
                    md["resourceVersion"] = str(self.rv)

    def dump(self):
        with self.lock:
            objs = []
            for key in sorted(self.objects):
                objs.append(order_object(copy.deepcopy(self.objects[key])))
            return {"resourceVersion": str(self.rv), "options": copy.deepcopy(self.options),
                    "objects": objs}

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def get(self, res, ns, name):
        return self.objects.get((res.storage, ns if res.namespaced else "", name))

    def put(self, res, obj):
        md = obj["metadata"]
        self.objects[(res.storage, md.get("namespace", "") if res.namespaced else "",
                      md["name"])] = obj

    def delete(self, res, ns, name):
        return self.objects.pop((res.storage, ns if res.namespaced else "", name), None)

    def list(self, res, ns):
        out = []
        for (st, ons, name), obj in sorted(self.objects.items(), key=lambda kv: kv[0]):
            if st != res.storage:
                continue
            if res.namespaced and ns is not None and ons != ns:
                continue
            out.append(obj)
        return out

    def namespaces(self):
        return sorted({k[1] for k in self.objects if k[1]} | {"default", "kube-system"})

    def write(self, res, obj):
        """Store obj with a fresh resourceVersion (one write)."""
        obj["metadata"]["resourceVersion"] = self.next_rv()
        self.put(res, obj)
        return obj

    # -- controller simulation -------------------------------------------------------
    def controller_sync(self, dep):
        """Mimic one sync of the Deployment controller, converged instantly.

        getNewReplicaSet: the oldest owned RS whose template equals the Deployment's (hash
        label ignored) becomes the new RS; if its revision is not above every other owned
        RS, it gets max+1 and its old number is appended to revision-history.  Without a
        match (and unless the Deployment is paused) a new RS <name>-<hash> is created with
        revision max+1.  Then (controller_scale) the new RS is scaled to spec.replicas and
        the other owned RSs to 0, old RSs beyond revisionHistoryLimit are deleted
        (controller_cleanup), and the Deployment's revision annotation and
        status.observedGeneration are written as a status update (no generation bump).
        """
        if not self.options.get("controller"):
            return
        rs_res = res_by_name("replicasets.apps")
        dep_res = res_by_name("deployments.apps")
        ns = dep["metadata"]["namespace"]
        uid = dep["metadata"]["uid"]
        spec = dep.get("spec") or {}
        owned = [rs for rs in self.list(rs_res, ns) if is_controlled_by(rs, uid)]
        tmpl = spec.get("template") or {}
        matches = [rs for rs in owned
                   if equal_ignore_hash((rs.get("spec") or {}).get("template"), tmpl)]
        matches.sort(key=lambda r: (parse_time(r["metadata"].get("creationTimestamp")) or 0,
                                    r["metadata"]["name"]))
        new_rs = matches[0] if matches else None
        old_revs = [revision_of(rs) for rs in owned if rs is not new_rs]
        max_old = max([r for r in old_revs if r is not None] or [0])
        new_rev = max_old + 1
        d_ann = (dep["metadata"].get("annotations") or {})
        replicas = spec.get("replicas", 1)
        max_rep = replicas + _max_surge(dep, replicas)
        scale = bool(self.options.get("controller_scale"))
        if new_rs is not None:
            rs = copy.deepcopy(new_rs)
            ann = rs["metadata"].setdefault("annotations", {})
            for k, v in d_ann.items():
                if k in ANNOTATIONS_TO_SKIP or ann.get(k) == v:
                    continue
                ann[k] = v
            old = ann.get(REV_ANN, "")
            try:
                old_int = int(old) if old != "" else 0
            except ValueError:
                old_int = 0
            if old_int < new_rev:
                ann[REV_ANN] = str(new_rev)
                if old != "":
                    hist = ann.get(REV_HIST_ANN, "")
                    hist = (hist + "," + old) if hist else old
                    while len(hist) > 2000 and "," in hist:
                        hist = hist.split(",", 1)[1]
                    ann[REV_HIST_ANN] = hist
            ann["deployment.kubernetes.io/desired-replicas"] = str(replicas)
            ann["deployment.kubernetes.io/max-replicas"] = str(max_rep)
            if scale:
                _scale_rs(rs, replicas)
            if rs != new_rs:
                self.write(rs_res, rs)
            new_rs = rs
        elif not spec.get("paused"):
            collision = (dep.get("status") or {}).get("collisionCount")
            while True:
                h = template_hash(tmpl, collision)
                name = dep["metadata"]["name"] + "-" + h
                if self.get(rs_res, ns, name) is None:
                    break
                collision = (collision or 0) + 1
            t = copy.deepcopy(tmpl)
            t.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
            sel = copy.deepcopy(spec.get("selector") or {})
            sel.setdefault("matchLabels", {})[HASH_LABEL] = h
            ann = {k: v for k, v in d_ann.items() if k not in ANNOTATIONS_TO_SKIP}
            ann["deployment.kubernetes.io/desired-replicas"] = str(replicas)
            ann["deployment.kubernetes.io/max-replicas"] = str(max_rep)
            ann[REV_ANN] = str(new_rev)
            labels = dict(t["metadata"]["labels"])
            rs = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
                  "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                               "resourceVersion": "", "generation": 1,
                               "creationTimestamp": fmt_time(self.now()),
                               "labels": labels, "annotations": ann,
                               "ownerReferences": [{"apiVersion": "apps/v1",
                                                    "kind": "Deployment",
                                                    "name": dep["metadata"]["name"],
                                                    "uid": uid, "controller": True,
                                                    "blockOwnerDeletion": True}]},
                  "spec": {"replicas": 0, "selector": sel, "template": t},
                  "status": {"replicas": 0}}
            if scale:
                _scale_rs(rs, replicas)
                rs["metadata"]["generation"] = 1
                rs["status"]["observedGeneration"] = 1
            self.write(rs_res, rs)
            new_rs = rs
            if collision:
                cur = copy.deepcopy(self.get(dep_res, ns, dep["metadata"]["name"]))
                cur.setdefault("status", {})["collisionCount"] = collision
                self.write(dep_res, cur)
        new_name = new_rs["metadata"]["name"] if new_rs is not None else None
        if scale:
            for old_rs in owned:
                if old_rs["metadata"]["name"] == new_name:
                    continue
                cur = self.get(rs_res, ns, old_rs["metadata"]["name"])
                if cur is None:
                    continue
                c2 = copy.deepcopy(cur)
                _scale_rs(c2, 0)
                if c2 != cur:
                    self.write(rs_res, c2)
        if self.options.get("controller_cleanup", True):
            limit = spec.get("revisionHistoryLimit", 10)
            olds = [self.get(rs_res, ns, r["metadata"]["name"]) for r in owned
                    if r["metadata"]["name"] != new_name]
            olds = [r for r in olds if r is not None
                    and not r["metadata"].get("deletionTimestamp")]
            diff = len(olds) - int(limit)
            if diff > 0:
                olds.sort(key=lambda r: (revision_of(r) or 0,
                                         parse_time(r["metadata"].get("creationTimestamp"))
                                         or 0, r["metadata"]["name"]))
                for r in olds[:diff]:
                    st = r.get("status") or {}
                    if ((r.get("spec") or {}).get("replicas", 1) != 0
                            or st.get("replicas", 0) != 0
                            or r["metadata"].get("generation", 0)
                            > st.get("observedGeneration", 0)):
                        continue
                    self.delete(rs_res, ns, r["metadata"]["name"])
                    self.next_rv()
        # SetDeploymentRevision + observedGeneration, written through /status.
        d2 = copy.deepcopy(self.get(dep_res, ns, dep["metadata"]["name"]))
        if d2 is None:
            return
        if new_rs is not None:
            d2["metadata"].setdefault("annotations", {})[REV_ANN] = \
                new_rs["metadata"]["annotations"][REV_ANN]
        d2.setdefault("status", {})["observedGeneration"] = d2["metadata"].get("generation", 1)
        cur = self.get(dep_res, ns, dep["metadata"]["name"])
        if d2 != cur:
            self.write(dep_res, d2)


def _scale_rs(rs, replicas):
    """Set spec.replicas (bumping generation) and converge status at once."""
    if (rs.get("spec") or {}).get("replicas") != replicas:
        rs["spec"]["replicas"] = replicas
        rs["metadata"]["generation"] = rs["metadata"].get("generation", 0) + 1
    st = rs.setdefault("status", {})
    st["replicas"] = replicas
    if replicas == 0:
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if k in st:
                st[k] = 0
    st["observedGeneration"] = rs["metadata"]["generation"]

def _max_surge(dep, replicas):
    ru = ((dep.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    v = ru.get("maxSurge", "25%")
    if isinstance(v, int):
        return v
    m = re.fullmatch(r"(\d+)%", str(v))
    if m:
        return int(math.ceil(replicas * int(m.group(1)) / 100.0))
    try:
        return int(v)
    except ValueError:
        return 0


def is_controlled_by(obj, uid):
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller") and ref.get("uid") == uid:
            return True
    return False


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


# --------------------------------------------------------------------------------------
# Tokens and the request log
# --------------------------------------------------------------------------------------


class Tokens:
    def __init__(self, accepted=(), token_file=None):
        self.lock = threading.Lock()
        self.accepted = list(accepted)
        self.revoked = []
        self.token_file = token_file
        self.initial = list(accepted)

    def check(self, header):
        """-> (status, token): status ok|missing|malformed|unknown|revoked."""
        if header is None:
            return "missing", None
        parts = header.split(" ", 1)
        if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].strip():
            return "malformed", None
        tok = parts[1].strip()
        with self.lock:
            if tok in self.revoked:
                return "revoked", tok
            if tok in self.accepted:
                return "ok", tok
        return "unknown", tok

    def add(self, tok):
        with self.lock:
            if tok not in self.accepted:
                self.accepted.append(tok)
            if tok in self.revoked:
                self.revoked.remove(tok)

    def revoke(self, tok):
        with self.lock:
            if tok in self.accepted:
                self.accepted.remove(tok)
            if tok not in self.revoked:
                self.revoked.append(tok)

    def remove(self, tok):
        with self.lock:
            if tok in self.accepted:
                self.accepted.remove(tok)

    def rotate(self, new, revoke_old=True, write_file=False):
        with self.lock:
            old = [t for t in self.accepted if t != new]
            self.accepted = [new]
            if revoke_old:
                for t in old:
                    if t not in self.revoked:
                        self.revoked.append(t)
            else:
                self.accepted += old
            if new in self.revoked:
                self.revoked.remove(new)
        if write_file and self.token_file:
            write_atomic(self.token_file, new)

    def reload_file(self):
        if not self.token_file:
            return None
        with open(self.token_file) as f:
            tok = f.read().strip()
        self.add(tok)
        return tok

    def reset(self):
        with self.lock:
            self.accepted = list(self.initial)
            self.revoked = []

    def dump(self):
        with self.lock:
            return {"accepted": list(self.accepted), "revoked": list(self.revoked),
                    "token_file": self.token_file}


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tok")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def token_fp(tok):
    return hashlib.sha256(tok.encode()).hexdigest()[:12] if tok else None


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


# --------------------------------------------------------------------------------------
# TLS material
# --------------------------------------------------------------------------------------


def ensure_tls(tls_dir):
    """Create (once) ca.crt/ca.key, server.crt/server.key for 127.0.0.1, ::1, localhost and
    kubernetes.default.svc, plus an unrelated wrong-ca.crt, using the openssl CLI.
    Returns a dict of paths."""
    import fcntl
    os.makedirs(tls_dir, exist_ok=True)
    with open(os.path.join(tls_dir, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)  # concurrent starts share one consistent set
        return _ensure_tls_locked(tls_dir)


def _ensure_tls_locked(tls_dir):
    p = {k: os.path.join(tls_dir, k) for k in
         ("ca.crt", "ca.key", "server.crt", "server.key", "wrong-ca.crt", "wrong-ca.key")}
    if all(os.path.exists(v) for v in p.values()):
        return p

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", p["ca.key"], "-out", p["ca.crt"], "-days", "3650",
        "-subj", "/CN=fakeapi-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-x509", *ec, "-keyout", p["wrong-ca.key"], "-out", p["wrong-ca.crt"],
        "-days", "3650", "-subj", "/CN=fakeapi-wrong-ca", "-addext",
        "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    csr = os.path.join(tls_dir, "server.csr")
    ext = os.path.join(tls_dir, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,"
                "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
                "DNS:kubernetes.default.svc.cluster.local\n")
    run("req", "-new", *ec, "-keyout", p["server.key"], "-out", csr, "-subj",
        "/CN=kube-apiserver")
    run("x509", "-req", "-in", csr, "-CA", p["ca.crt"], "-CAkey", p["ca.key"],
        "-CAcreateserial", "-out", p["server.crt"], "-days", "3650", "-extfile", ext)
    for k in ("ca.key", "server.key", "wrong-ca.key"):
        os.chmod(p[k], 0o600)
    return p


# --------------------------------------------------------------------------------------
# Discovery documents
# --------------------------------------------------------------------------------------

GROUP_ORDER = ["", "apps", "events.k8s.io", "coordination.k8s.io", "argoproj.io"]


def _res_verbs(r):
    if r.plural == "namespaces":
        return ["create", "delete", "get", "list", "patch", "update", "watch"]
    return list(VERBS_ALL)


def api_resource_list(group, version):
    resources = []
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
             "kind": r.kind, "verbs": _res_verbs(r)}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        resources.append(e)
        if r.status_sub:
            resources.append({"name": r.plural + "/status", "singularName": "",
                              "namespaced": r.namespaced, "kind": r.kind,
                              "verbs": list(SUB_VERBS)})
        if r.plural in ("deployments", "replicasets"):
            resources.append({"name": r.plural + "/scale", "singularName": "",
                              "namespaced": r.namespaced, "group": "autoscaling",
                              "version": "v1", "kind": "Scale", "verbs": list(SUB_VERBS)})
    gv = (group + "/" + version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": resources}


def api_groups():
    groups = []
    for g in GROUP_ORDER[1:]:
        versions = sorted({r.version for r in RESOURCES if r.group == g})
        gvs = [{"groupVersion": g + "/" + v, "version": v} for v in versions]
        groups.append({"name": g, "versions": gvs, "preferredVersion": gvs[0]})
    return groups


def aggregated_discovery(core, api_version):
    items = []
    for g in GROUP_ORDER:
        if (g == "") != core:
            continue
        versions = []
        for v in sorted({r.version for r in RESOURCES if r.group == g}):
            rs = []
            for r in RESOURCES:
                if r.group != g or r.version != v:
                    continue
                e = {"resource": r.plural,
                     "responseKind": {"group": g, "version": v, "kind": r.kind},
                     "scope": "Namespaced" if r.namespaced else "Cluster",
                     "singularResource": r.singular, "verbs": _res_verbs(r)}
                if r.short:
                    e["shortNames"] = r.short
                if r.categories:
                    e["categories"] = r.categories
                subs = []
                if r.plural in ("deployments", "replicasets"):
                    subs.append({"subresource": "scale",
                                 "responseKind": {"group": "autoscaling", "version": "v1",
                                                  "kind": "Scale"},
                                 "verbs": list(SUB_VERBS)})
                if r.status_sub:
                    subs.append({"subresource": "status",
                                 "responseKind": {"group": g, "version": v, "kind": r.kind},
                                 "verbs": list(SUB_VERBS)})
                if subs:
                    e["subresources"] = subs
                rs.append(e)
            versions.append({"version": v, "resources": rs, "freshness": "Current"})
        md = {"creationTimestamp": None}
        if g:
            md = {"name": g, "creationTimestamp": None}
        items.append({"metadata": md, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {},
            "items": items}


# --------------------------------------------------------------------------------------
# Tables (kubectl get without -o)
# --------------------------------------------------------------------------------------

def _age(ts, now):
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    d = max(0, int(now - t))
    if d < 120:
        return "%ds" % d
    if d < 7200:
        return "%dm" % (d // 60)
    if d < 48 * 3600:
        return "%dh" % (d // 3600)
    return "%dd" % (d // 86400)


def table_for(res, objs, now, include_object, list_meta):
    name_col = {"name": "Name", "type": "string", "format": "name",
                "description": "Name must be unique within a namespace.", "priority": 0}
    age_col = {"name": "Age", "type": "string", "format": "",
               "description": "CreationTimestamp is a timestamp representing the server time "
                              "when this object was created.", "priority": 0}
    cols = [name_col]
    extra = []
    if res.plural == "deployments":
        extra = [("Ready", "string"), ("Up-to-date", "integer"), ("Available", "integer")]
    elif res.plural == "replicasets":
        extra = [("Desired", "integer"), ("Current", "integer"), ("Ready", "integer")]
    elif res.plural == "pods":
        extra = [("Ready", "string"), ("Status", "string"), ("Restarts", "string")]
    elif res.plural == "leases":
        extra = [("Holder", "string")]
    for n, t in extra:
        cols.append({"name": n, "type": t, "format": "", "description": n, "priority": 0})
    cols.append(age_col)
    rows = []
    for o in objs:
        md = o.get("metadata", {})
        st = o.get("status") or {}
        sp = o.get("spec") or {}
        cells = [md.get("name")]
        if res.plural == "deployments":
            cells += ["%d/%d" % (st.get("readyReplicas", 0), sp.get("replicas", 1)),
                      st.get("updatedReplicas", 0), st.get("availableReplicas", 0)]
        elif res.plural == "replicasets":
            cells += [sp.get("replicas", 1), st.get("replicas", 0), st.get("readyReplicas", 0)]
        elif res.plural == "pods":
            n = len(sp.get("containers") or [])
            cells += ["%d/%d" % (n if st.get("phase") == "Running" else 0, n),
                      st.get("phase", "Pending"), "0"]
        elif res.plural == "leases":
            cells += [sp.get("holderIdentity", "")]
        cells.append(_age(md.get("creationTimestamp"), now))
        row = {"cells": cells}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": md}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": cols, "rows": rows}


# --------------------------------------------------------------------------------------
# The API request handling
# --------------------------------------------------------------------------------------

PATCH_TYPES_BUILTIN = ["application/json-patch+json", "application/merge-patch+json",
                       "application/strategic-merge-patch+json", "application/apply-patch+yaml"]
PATCH_TYPES_CUSTOM = ["application/json-patch+json", "application/merge-patch+json",
                      "application/apply-patch+yaml"]
BODY_TYPES_BUILTIN = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
BODY_TYPES_CUSTOM = ["application/json", "application/yaml"]


class Response:
    def __init__(self, code, body, headers=None, content_type="application/json"):
        self.code = code
        self.body = body          # dict/list (JSON) or bytes
        self.headers = dict(headers or {})
        self.content_type = content_type


def media_type(ct):
    return (ct or "").split(";", 1)[0].strip().lower()


class API:
    """Routes one request against the Store.  Called with the store lock held."""

    def __init__(self, server):
        self.server = server
        self.store = server.store

    # -- parsing helpers -----------------------------------------------------------
    def parse_body(self, body, res, allowed):
        ct = media_type(self.headers.get("Content-Type"))
        if body and not ct:
            ct = "application/octet-stream"
        if ct and ct not in allowed:
            if res.builtin:
                raise err_unsupported_builtin()
            raise err_unsupported_custom(BODY_TYPES_CUSTOM)
        if ct == "application/vnd.kubernetes.protobuf":
            raise err_bad_request("the fake API server cannot decode protobuf bodies")
        text = body.decode("utf-8", "replace")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise err_bad_request("couldn't get version/kind; json parse error: "
                                  + go_decode_error(text, e))
        if not isinstance(obj, dict):
            raise err_bad_request("couldn't get version/kind; json parse error: json: cannot "
                                  "unmarshal %s into Go value of type struct { APIVersion "
                                  "string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
                                  "\"json:\\\"kind,omitempty\\\"\" }" % go_type_name(obj))
        kind = obj.get("kind")
        av = obj.get("apiVersion")
        if kind and kind != res.kind:
            raise err_bad_request('%s in version "%s" cannot be handled as a %s: no kind "%s" '
                                  'is registered for version "%s" in scheme'
                                  % (kind, res.version, res.kind, kind, av or res.api_version))
        if av and av != res.api_version:
            raise err_bad_request("the API version in the data (%s) does not match the "
                                  "expected API version (%s)" % (av, res.api_version))
        obj["kind"] = res.kind
        obj["apiVersion"] = res.api_version
        md = obj.get("metadata")
        if md is None:
            obj["metadata"] = md = {}
        if not isinstance(md, dict):
            raise err_bad_request("json: cannot unmarshal %s into Go struct field %s.metadata "
                                  "of type v1.ObjectMeta" % (go_type_name(md), res.kind))
        return obj

    # -- entry ---------------------------------------------------------------------
    def handle(self, method, path, query, headers, body):
        self.headers = headers
        self.query = query
        self.params = urllib.parse.parse_qs(query, keep_blank_values=True)
        self.method = method
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/",
                                                                          "/livez/",
                                                                          "/readyz/")):
            if method != "GET":
                raise err_method_not_allowed()
            return Response(200, b"ok", content_type="text/plain; charset=utf-8")
        if path == "/version" or path == "/version/":
            return Response(200, self.store.options.get("server_version") or SERVER_VERSION)
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p != ""]
        if not parts or parts[0] not in ("api", "apis"):
            raise err_generic_not_found()
        if parts[0] == "api":
            if len(parts) == 1:
                return self.discovery_root(core=True)
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) == 1:
                return self.discovery_root(core=False)
            if len(parts) == 2:
                g = [x for x in api_groups() if x["name"] == parts[1]]
                if not g or method != "GET":
                    raise err_generic_not_found()
                return Response(200, dict({"kind": "APIGroup", "apiVersion": "v1"}, **g[0]))
            group, version, rest = parts[1], parts[2], parts[3:]
        gv_res = RES_BY_GV.get((group, version))
        if gv_res is None:
            raise err_generic_not_found()
        if not rest:
            if method != "GET":
                raise err_generic_not_found()
            return Response(200, api_resource_list(group, version))
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        if group == "" and ns is None and rest[0] == "namespaces":
            return self.namespaces(rest[1:])
        res = gv_res.get(rest[0])
        if res is None or len(rest) > 3 or (ns is not None and not res.namespaced):
            raise err_generic_not_found()
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        if sub == "scale" and res.plural in ("deployments", "replicasets"):
            if res.namespaced and ns is None:
                raise err_generic_not_found()
            return self.do_scale(res, ns, name, body)
        if sub is not None:
            if sub != "status" or not res.status_sub:
                raise err_generic_not_found()
            if res.plural == "rollouts" and not self.store.options.get(
                    "rollouts_status_subresource", True):
                raise err_generic_not_found()
        if name is None:
            if method == "GET":
                return self.do_list(res, ns)
            if method == "POST":
                if ns is None and res.namespaced:
                    raise err_method_not_allowed()
                return self.do_create(res, ns, body)
            raise err_method_not_allowed()
        if res.namespaced and ns is None:
            raise err_generic_not_found()
        if method == "GET":
            return self.do_get(res, ns, name)
        if method == "PUT":
            return self.do_update(res, ns, name, sub, body)
        if method == "PATCH":
            return self.do_patch(res, ns, name, sub, body)
        if method == "DELETE" and sub is None:
            return self.do_delete(res, ns, name)
        raise err_method_not_allowed()

    # -- discovery -----------------------------------------------------------------
    def discovery_root(self, core):
        accept = self.headers.get("Accept") or ""
        for part in accept.split(","):
            p = part.replace(" ", "")
            if "g=apidiscovery.k8s.io" in p and "as=APIGroupDiscoveryList" in p:
                ver = "v2" if ";v=v2;" in p + ";" or p.endswith("v=v2") else (
                    "v2beta1" if "v=v2beta1" in p else None)
                if ver:
                    ct = "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList" \
                        % ver
                    return Response(200, aggregated_discovery(core, "apidiscovery.k8s.io/" + ver),
                                    content_type=ct)
        if core:
            addr = "%s:%d" % (self.server.host, self.server.port)
            return Response(200, {"kind": "APIVersions", "versions": ["v1"],
                                  "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                  "serverAddress": addr}]})
        return Response(200, {"kind": "APIGroupList", "apiVersion": "v1",
                              "groups": api_groups()})

    def namespaces(self, rest):
        res = res_by_name("namespaces")
        if self.method != "GET":
            raise err_method_not_allowed()

        def ns_obj(n):
            return {"kind": "Namespace", "apiVersion": "v1",
                    "metadata": {"name": n, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, n)),
                                 "resourceVersion": "1",
                                 "creationTimestamp": "2026-01-01T00:00:00Z",
                                 "labels": {"kubernetes.io/metadata.name": n}},
                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        if not rest:
            items = []
            for n in self.store.namespaces():
                o = ns_obj(n)
                del o["kind"], o["apiVersion"]
                items.append(o)
            return Response(200, {"kind": "NamespaceList", "apiVersion": "v1",
                                  "metadata": {"resourceVersion": str(self.store.rv)},
                                  "items": items})
        if len(rest) != 1:
            raise err_generic_not_found()
        if rest[0] not in self.store.namespaces():
            raise err_not_found(res, rest[0])
        return Response(200, ns_obj(rest[0]))

    # -- output --------------------------------------------------------------------
    def out_obj(self, res, obj):
        o = copy.deepcopy(obj)
        if res.storage == "events" and res.group == "events.k8s.io":
            o = core_event_to_v1(o)
        else:
            o["kind"] = res.kind
            o["apiVersion"] = res.api_version
        return order_object(o)

    def wants_table(self):
        accept = self.headers.get("Accept") or ""
        first = accept.split(",")[0].replace(" ", "")
        return "as=Table" in first and "g=meta.k8s.io" in first

    # -- verbs ---------------------------------------------------------------------
    def do_get(self, res, ns, name):
        obj = self.store.get(res, ns, name)
        if obj is None:
            raise err_not_found(res, name)
        o = self.out_obj(res, obj)
        if self.wants_table():
            inc = (self.params.get("includeObject") or ["Metadata"])[0]
            return Response(200, table_for(res, [o], self.store.now(), inc,
                                           {"resourceVersion": o["metadata"].get(
                                               "resourceVersion", "")}),
                            content_type="application/json;as=Table;v=v1;g=meta.k8s.io")
        return Response(200, o)

    def do_list(self, res, ns):
        p = self.params
        if (p.get("watch") or [""])[0] in ("1", "true", "True"):
            raise err_bad_request("watch is not supported by the fake API server")
        try:
            lreqs = parse_label_selector((p.get("labelSelector") or [""])[0])
        except SelectorError as e:
            raise err_bad_request("unable to parse requirement: " + str(e))
        fmap = None
        if res.group == "events.k8s.io":
            fmap = {"regarding." + k: "involvedObject." + k for k in
                    ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion",
                     "fieldPath")}
            fmap["reportingController"] = "reportingComponent"
        try:
            fterms = parse_field_selector((p.get("fieldSelector") or [""])[0], res.fields)
        except SelectorError as e:
            raise err_bad_request(str(e))
        objs = [o for o in self.store.list(res, ns)
                if label_match(lreqs, (o.get("metadata") or {}).get("labels"))
                and field_match(fterms, o, fmap)]
        limit = 0
        if p.get("limit"):
            try:
                limit = int(p["limit"][0])
            except ValueError:
                raise err_bad_request('strconv.ParseInt: parsing "%s": invalid syntax'
                                      % p["limit"][0])
        forced = (self.store.options.get("page_size") or {}).get(res.plural)
        if forced and (limit <= 0 or forced < limit):
            limit = int(forced)
        cont = (p.get("continue") or [""])[0]
        list_rv = str(self.store.rv)
        if cont:
            try:
                tok = json.loads(base64.b64decode(cont.encode()).decode())
                start = tok["start"]
                list_rv = str(tok["rv"])
            except Exception:
                raise err_bad_request("continue key is not valid: illegal base64 data at "
                                      "input byte 0")
            objs = [o for o in objs if self._key(o) >= start]
        meta = {"resourceVersion": list_rv}
        if limit > 0 and len(objs) > limit:
            nxt = objs[limit]
            objs = objs[:limit]
            tok = {"v": "meta.k8s.io/v1", "rv": int(list_rv), "start": self._key(nxt)}
            meta["continue"] = base64.b64encode(compact(tok).encode()).decode()
        items = []
        for o in objs:
            x = self.out_obj(res, o)
            if res.builtin:
                del x["kind"], x["apiVersion"]
            items.append(x)
        if self.wants_table():
            inc = (p.get("includeObject") or ["Metadata"])[0]
            full = [self.out_obj(res, o) for o in objs]
            return Response(200, table_for(res, full, self.store.now(), inc, meta),
                            content_type="application/json;as=Table;v=v1;g=meta.k8s.io")
        return Response(200, {"kind": res.list_kind, "apiVersion": res.api_version,
                              "metadata": meta, "items": items})

    @staticmethod
    def _key(o):
        md = o["metadata"]
        return md.get("namespace", "") + "/" + md["name"]

    def dry_run(self):
        vals = self.params.get("dryRun") or []
        for v in vals:
            if v != "All":
                raise err_bad_request('Invalid dry run value: %s' % v)
        return bool(vals)

    def check_ns(self, res, ns, obj):
        md = obj["metadata"]
        if res.namespaced:
            if not md.get("namespace"):
                md["namespace"] = ns
            elif md["namespace"] != ns:
                raise err_bad_request("the namespace of the provided object does not match "
                                      "the namespace sent on the request")

    def do_create(self, res, ns, body):
        obj = self.parse_body(body, res, BODY_TYPES_BUILTIN if res.builtin else BODY_TYPES_CUSTOM)
        self.check_ns(res, ns, obj)
        md = obj["metadata"]
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + random_suffix()
        if res.storage == "events":
            self.validate_event(res, obj, md.get("name", ""))
            if not md.get("name"):
                raise err_bad_request("Name parameter required.")
        elif not md.get("name"):
            raise err_invalid(res.qualified_kind, res.group, res.kind, "",
                              [field_required("metadata.name",
                                              "name or generateName is required")])
        self.validate(res, obj, None)
        if self.store.get(res, ns, md["name"]) is not None:
            raise err_already_exists(res, md["name"])
        now = self.store.now()
        for k in ("resourceVersion", "selfLink"):
            md.pop(k, None)
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = fmt_time(now)
        if res.plural in ("deployments", "replicasets") or not res.builtin:
            md["generation"] = 1
        if res.status_sub and res.plural in ("deployments", "replicasets"):
            obj["status"] = {}
        if res.storage == "events":
            core = v1_event_to_core(obj) if res.group == "events.k8s.io" else obj
            core["metadata"] = md
            stored = normalize_core_event(core)
        else:
            stored = obj
        if not self.dry_run():
            self.store.write(res, stored)
            if res.plural == "deployments":
                self.store.controller_sync(stored)
        else:
            md["resourceVersion"] = ""
        return Response(201, self.out_obj(res, stored))

    def scale_of(self, res, obj):
        md = obj["metadata"]
        sel = (obj.get("spec") or {}).get("selector") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": md["name"], "namespace": md.get("namespace"),
                             "uid": md.get("uid"), "resourceVersion": md.get("resourceVersion"),
                             "creationTimestamp": md.get("creationTimestamp")},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": selector_to_string(sel)}}

    def do_scale(self, res, ns, name, body):
        """GET/PUT/PATCH .../{deployments,replicasets}/NAME/scale (autoscaling/v1 Scale)."""
        cur = self.store.get(res, ns, name)
        if self.method not in ("GET", "PUT", "PATCH"):
            raise err_method_not_allowed()
        if self.method == "GET":
            if cur is None:
                raise err_not_found(res, name)
            return Response(200, self.scale_of(res, cur))
        if self.method == "PUT":
            new = self.parse_body(body, SCALE_RES, BODY_TYPES_BUILTIN)
            if new["metadata"].get("name", "") != name:
                raise err_bad_request("the name of the object (%s) does not match the name on "
                                      "the URL (%s)" % (new["metadata"].get("name", ""), name))
            if cur is None:
                raise err_not_found(res, name)
        else:
            ct = media_type(self.headers.get("Content-Type"))
            if ct not in PATCH_TYPES_BUILTIN:
                raise err_unsupported_builtin()
            if ct == "application/json-patch+json":
                ops = json_patch_decode(body)
            else:
                text = body.decode("utf-8", "replace")
                try:
                    patch = json.loads(text)
                except json.JSONDecodeError as e:
                    raise err_bad_request(go_decode_error(text, e))
            if cur is None:
                raise err_not_found(res, name)
            doc = self.scale_of(res, cur)
            if ct == "application/json-patch+json":
                try:
                    new = json_patch_apply(doc, ops)
                except PatchApplyError:
                    raise err_invalid_generic()
            else:
                new = merge_patch(doc, patch)
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != cur["metadata"].get("resourceVersion"):
            raise err_conflict(res, name)
        replicas = (new.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise err_invalid("Scale.autoscaling", "autoscaling", "Scale", name,
                              [field_invalid("spec.replicas", replicas,
                                             "must be greater than or equal to 0")])
        obj = copy.deepcopy(cur)
        obj.setdefault("spec", {})["replicas"] = replicas
        self.finish_update(res, ns, name, None, cur, obj)
        out = self.store.get(res, ns, name) if not self.dry_run() else obj
        return Response(200, self.scale_of(res, out))

    def do_delete(self, res, ns, name):
        obj = self.store.get(res, ns, name)
        if obj is None:
            raise err_not_found(res, name)
        if not self.dry_run():
            self.store.delete(res, ns, name)
            self.store.next_rv()
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
              "details": {"name": name, "kind": res.plural, "uid": obj["metadata"].get("uid")}}
        if res.group:
            st["details"] = {"name": name, "group": res.group, "kind": res.plural,
                             "uid": obj["metadata"].get("uid")}
        return Response(200, st)

    def do_update(self, res, ns, name, sub, body):
        obj = self.parse_body(body, res, BODY_TYPES_BUILTIN if res.builtin else BODY_TYPES_CUSTOM)
        self.check_ns(res, ns, obj)
        md = obj["metadata"]
        if md.get("name", "") != name:
            raise err_bad_request("the name of the object (%s) does not match the name on the "
                                  "URL (%s)" % (md.get("name", ""), name))
        cur = self.store.get(res, ns, name)
        if cur is None:
            raise err_not_found(res, name)
        if res.storage == "events" and res.group == "events.k8s.io":
            obj = v1_event_to_core(obj)
        rv = md.get("resourceVersion")
        if not rv:
            if res.plural == "leases" or not res.builtin:
                raise err_invalid(res.qualified, res.group, res.plural, name,
                                  [field_invalid("metadata.resourceVersion", 0,
                                                 "must be specified for an update")])
        return self.finish_update(res, ns, name, sub, cur, obj)

    def do_patch(self, res, ns, name, sub, body):
        ct = media_type(self.headers.get("Content-Type"))
        allowed = PATCH_TYPES_BUILTIN if res.builtin else PATCH_TYPES_CUSTOM
        if ct not in allowed:
            if res.builtin:
                raise err_unsupported_builtin()
            raise err_unsupported_custom(PATCH_TYPES_CUSTOM)
        cur = self.store.get(res, ns, name)
        if ct == "application/json-patch+json":
            ops = json_patch_decode(body)
        else:
            text = body.decode("utf-8", "replace")
            try:
                patch = json.loads(text)
            except json.JSONDecodeError as e:
                if ct == "application/apply-patch+yaml":
                    raise err_bad_request("error decoding YAML: the fake API server only "
                                          "accepts JSON apply patches")
                raise err_bad_request(go_decode_error(text, e))
            if not isinstance(patch, dict):
                raise err_bad_request("json: cannot unmarshal %s into Go value of type "
                                      "map[string]interface {}" % go_type_name(patch))
        if ct == "application/apply-patch+yaml" and not (self.params.get("fieldManager")
                                                          or [""])[0]:
            raise APIError(422, status_body(
                422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                'Required value: is required for apply patch', {
                    "group": "meta.k8s.io", "kind": "PatchOptions",
                    "causes": [{"reason": "FieldValueRequired",
                                "message": "Required value: is required for apply patch",
                                "field": "fieldManager"}]}))
        if cur is None:
            raise err_not_found(res, name)
        doc = self.out_obj(res, cur)
        if ct == "application/json-patch+json":
            try:
                new = json_patch_apply(doc, ops)
            except PatchApplyError:
                raise err_invalid_generic()
        elif ct == "application/merge-patch+json":
            new = merge_patch(doc, patch)
        elif ct == "application/strategic-merge-patch+json":
            new = strategic_merge_patch(doc, patch)
        else:
            new = merge_patch(doc, patch)
        if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
            raise err_bad_request("json: cannot unmarshal %s into Go value of type %s"
                                  % (go_type_name(new), res.kind))
        md = new["metadata"]
        for k in ("labels", "annotations"):
            v = md.get(k)
            if v is not None and (not isinstance(v, dict)
                                  or any(not isinstance(x, str) for x in v.values())):
                bad = v if not isinstance(v, dict) else next(
                    x for x in v.values() if not isinstance(x, str))
                raise err_bad_request("json: cannot unmarshal %s into Go struct field "
                                      "ObjectMeta.metadata.%s of type %s"
                                      % (go_type_name(bad), k,
                                         "map[string]string" if not isinstance(v, dict)
                                         else "string"))
        if md.get("name") != name:
            raise err_bad_request("the name of the object (%s) does not match the name on the "
                                  "URL (%s)" % (md.get("name"), name))
        if res.namespaced and md.get("namespace") != ns:
            raise err_bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
        if res.storage == "events" and res.group == "events.k8s.io":
            new = v1_event_to_core(new)
        return self.finish_update(res, ns, name, sub, cur, new)

    def finish_update(self, res, ns, name, sub, cur, new):
        md = new["metadata"]
        cmd = cur["metadata"]
        rv = md.get("resourceVersion")
        if rv and rv != cmd.get("resourceVersion"):
            raise err_conflict(res, name)
        if md.get("uid") and md["uid"] != cmd.get("uid"):
            raise err_conflict(res, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (md["uid"], cmd.get("uid")))
        # Server-owned metadata.
        md["uid"] = cmd.get("uid")
        md["creationTimestamp"] = cmd.get("creationTimestamp")
        if "generation" in cmd:
            md["generation"] = cmd["generation"]
        else:
            md.pop("generation", None)
        md["resourceVersion"] = cmd.get("resourceVersion")
        md.pop("selfLink", None)
        new["kind"] = cur.get("kind", res.kind)
        new["apiVersion"] = cur.get("apiVersion", res.api_version)
        # Subresource rules.
        if sub == "status":
            keep = copy.deepcopy(cur)
            keep["status"] = copy.deepcopy(new.get("status"))
            if keep["status"] is None:
                keep.pop("status")
            if res.builtin:
                # Status writes may change annotations (the controller's revision sync) and
                # other metadata except labels; spec is reset.
                keep["metadata"] = md
                keep["metadata"]["labels"] = copy.deepcopy(cmd.get("labels"))
                if keep["metadata"]["labels"] is None:
                    keep["metadata"].pop("labels")
            new = keep
        elif res.status_sub and not (res.plural == "rollouts" and not self.store.options.get(
                "rollouts_status_subresource", True)):
            if "status" in cur:
                new["status"] = copy.deepcopy(cur["status"])
            else:
                new.pop("status", None)
        if res.storage == "events":
            new = normalize_core_event(new)
        self.validate(res, new, cur)
        # Generation.
        if sub is None:
            if res.plural == "deployments":
                if (normalize_semantic(new.get("spec")) != normalize_semantic(cur.get("spec"))
                        or (md.get("annotations") or {}) != (cmd.get("annotations") or {})):
                    md["generation"] = cmd.get("generation", 0) + 1
            elif res.plural == "replicasets":
                if normalize_semantic(new.get("spec")) != normalize_semantic(cur.get("spec")):
                    md["generation"] = cmd.get("generation", 0) + 1
            elif not res.builtin:
                a = {k: v for k, v in new.items() if k not in ("metadata", "status")}
                b = {k: v for k, v in cur.items() if k not in ("metadata", "status")}
                if not res.status_sub or not self.store.options.get(
                        "rollouts_status_subresource", True):
                    a = {k: v for k, v in new.items() if k != "metadata"}
                    b = {k: v for k, v in cur.items() if k != "metadata"}
                if a != b:
                    md["generation"] = cmd.get("generation", 0) + 1
        if new == cur:
            # No-op update: nothing is written, resourceVersion unchanged.
            return Response(200, self.out_obj(res, cur))
        spec_changed = (res.plural == "deployments" and sub is None
                        and normalize_semantic(new.get("spec")) != normalize_semantic(
                            cur.get("spec")))
        if self.dry_run():
            return Response(200, self.out_obj(res, new))
        self.store.write(res, new)
        resp = Response(200, self.out_obj(res, new))
        if spec_changed:
            self.store.controller_sync(new)
        return resp

    # -- validation ----------------------------------------------------------------
    def validate(self, res, obj, old):
        name = obj["metadata"].get("name", "")
        causes = []
        spec = obj.get("spec")
        if res.plural == "leases" and isinstance(spec, dict):
            lds = spec.get("leaseDurationSeconds")
            if lds is not None and (not isinstance(lds, int) or lds <= 0):
                causes.append(field_invalid("spec.leaseDurationSeconds", lds,
                                            "must be greater than 0"))
            lt = spec.get("leaseTransitions")
            if lt is not None and (not isinstance(lt, int) or lt < 0):
                causes.append(field_invalid("spec.leaseTransitions", lt,
                                            "must be greater than or equal to 0"))
            if spec.get("preferredHolder") and not spec.get("strategy"):
                causes.append(field_invalid("spec.preferredHolder", spec["preferredHolder"],
                                            "may only be specified if `strategy` is defined"))
        if res.plural in ("deployments", "replicasets") and isinstance(spec, dict):
            rep = spec.get("replicas")
            if rep is not None and isinstance(rep, int) and rep < 0:
                causes.append(field_invalid("spec.replicas", rep,
                                            "must be greater than or equal to 0"))
            sel = spec.get("selector")
            tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not sel or not (sel.get("matchLabels") or sel.get("matchExpressions")):
                causes.append(field_invalid("spec.selector", sel or {},
                                            "empty selector is invalid for deployment"))
            elif not selector_matches_labels(sel, tlabels):
                causes.append(field_invalid("spec.template.metadata.labels", tlabels,
                                            "`selector` does not match template `labels`"))
            if old is not None and res.plural == "deployments":
                osel = (old.get("spec") or {}).get("selector")
                if osel is not None and normalize_semantic(osel) != normalize_semantic(sel):
                    causes.append(field_invalid("spec.selector", sel, "field is immutable"))
        if causes:
            raise err_invalid(res.qualified_kind, res.group, res.kind, name, causes)

    def validate_event(self, res, ev, name):
        causes = []
        ns = ev["metadata"].get("namespace", "")
        if res.group == "":
            io = ev.get("involvedObject") or {}
            ions = io.get("namespace", "")
            if not ev.get("eventTime"):
                if not ions:
                    if ns not in ("", "default"):
                        causes.append(field_invalid("involvedObject.namespace", ions,
                                                    "does not match event.namespace"))
                elif ns != ions:
                    causes.append(field_invalid("involvedObject.namespace", ions,
                                                "does not match event.namespace"))
            else:
                if not ions and ns not in ("default", "kube-system"):
                    causes.append(field_invalid("involvedObject.namespace", ions,
                                                "does not match event.namespace"))
                for f, lim in (("reportingComponent", None), ("reportingInstance", 128),
                               ("action", 128), ("reason", 128)):
                    v = ev.get(f) or ""
                    fname = "reportingController" if f == "reportingComponent" else f
                    if not v:
                        causes.append(field_required(fname))
                    elif lim and len(v) > lim:
                        causes.append(field_invalid(fname, "", "can have at most %d characters"
                                                    % lim))
                if len(ev.get("message") or "") > 1024:
                    causes.append(field_invalid("message", "",
                                                "can have at most 1024 characters"))
            if self.store.options.get("strict_core_events"):
                if not ev.get("reason"):
                    causes.append(field_required("reason"))
                if ev.get("type") not in ("Normal", "Warning"):
                    causes.append(field_invalid("type", "", "has invalid value: %s"
                                                % (ev.get("type") or "")))
        else:
            regarding = ev.get("regarding") or {}
            if not regarding.get("namespace") and ns not in ("default", "kube-system"):
                causes.append(field_invalid("involvedObject.namespace",
                                            regarding.get("namespace", ""),
                                            "does not match event.namespace"))
            for f, lim in (("reportingController", None), ("reportingInstance", 128),
                           ("action", 128), ("reason", 128)):
                v = ev.get(f) or ""
                if not v:
                    causes.append(field_required(f))
                elif lim and len(v) > lim:
                    causes.append(field_invalid(f, "", "can have at most %d characters" % lim))
            if len(ev.get("note") or "") > 1024:
                causes.append(field_invalid("message", "", "can have at most 1024 characters"))
            if not name:
                causes.append(field_required("metadata.name", "name or generateName is required"))
            if not ev.get("eventTime"):
                causes.append(field_required("eventTime"))
            if ev.get("type") not in ("Normal", "Warning"):
                causes.append(field_invalid("type", "", "has invalid value: %s"
                                            % (ev.get("type") or "")))
            for f, fld in (("deprecatedFirstTimestamp", "firstTimestamp"),
                           ("deprecatedLastTimestamp", "lastTimestamp"),
                           ("deprecatedCount", "count"), ("deprecatedSource", "source")):
                if ev.get(f):
                    causes.append(field_invalid(fld, "", "needs to be unset"))
            series = ev.get("series")
            if series is not None:
                if (series.get("count") or 0) < 2:
                    causes.append(field_invalid("series.count", "", "should be at least 2"))
                if not series.get("lastObservedTime"):
                    causes.append(field_required("series.lastObservedTime"))
        if ns and not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
                                   r"[a-z0-9])?)*", ns):
            causes.append(field_invalid("namespace", ns, "a lowercase RFC 1123 subdomain must "
                                        "consist of lower case alphanumeric characters, '-' or "
                                        "'.', and must start and end with an alphanumeric "
                                        "character"))
        if causes:
            raise err_invalid("Event" if res.group == "" else "Event.events.k8s.io",
                              res.group, "Event", name, causes)


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


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="API port (0 = pick a free one)")
    ap.add_argument("--state", help="seed JSON file ({resourceVersion, options, objects})")
    ap.add_argument("--tls-dir", help="where the test CA and server cert live (created if "
                                      "missing); default: a temporary directory")
    ap.add_argument("--no-tls", action="store_true", help="serve plain HTTP on --port")
    ap.add_argument("--http-port", type=int, default=None,
                    help="also serve plain HTTP on this port (0 = pick one)")
    ap.add_argument("--token", action="append", default=[], help="accepted bearer token "
                                                                  "(repeatable)")
    ap.add_argument("--token-file", help="accept the token in this file (created with a "
                                         "random token if missing)")
    ap.add_argument("--control-port", type=int, default=0, help="control API port (0 = pick)")
    ap.add_argument("--control-port-file", "--info-file", dest="info_file",
                    help="write {port, control_port, pid, ...} JSON here once listening")
    ap.add_argument("--option", action="append", default=[],
                    help="simulation option NAME=JSON (e.g. controller=false)")
    ap.add_argument("--verbose", "-v", action="store_true")
    a = ap.parse_args(argv)
    opts = {}
    for o in a.option:
        k, _, v = o.partition("=")
        try:
            opts[k] = json.loads(v)
        except ValueError:
            opts[k] = v
    fa = FakeAPI(a.state, host=a.host, port=a.port, tls=not a.no_tls, tls_dir=a.tls_dir,
                 tokens=a.token, token_file=a.token_file, http_port=a.http_port,
                 control_port=a.control_port, options=opts or None, verbose=a.verbose)
    fa.start()
    info = fa.info()
    if a.info_file:
        tmp = a.info_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.replace(tmp, a.info_file)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    stop = threading.Event()
    import signal

    def on_sig(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_sig)
    signal.signal(signal.SIGINT, on_sig)
    while not stop.wait(0.5):
        pass
    fa.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
