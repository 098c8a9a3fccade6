"""Go-shaped JSON encoding and decode errors, shared constants, and the API's Status bodies and errors.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import json


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
