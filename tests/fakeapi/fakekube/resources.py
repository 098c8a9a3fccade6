"""The served resources (Res), and time, name, hash and revision helpers.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import copy
import datetime
import json
import os

from .errors import HASH_LABEL, REV_ANN


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
