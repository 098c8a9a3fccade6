"""Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import copy
import json
import re

from .errors import (
    APIError, compact, err_bad_request, go_decode_error, go_json, go_type_name, status_body,
)


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
