"""Label and field selectors: parsing and matching as the apiserver does.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import re


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
