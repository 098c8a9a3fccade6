"""The store: every object, the global resourceVersion, the simulation options, Event shapes.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import copy
import threading
import time
import uuid

from .errors import DEFAULT_USER
from .resources import fmt_time, parse_time, res_for_object
from .controller import controller_sync


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

    # -- controller simulation (controller.py) ---------------------------------------
    def controller_sync(self, dep):
        """One sync of the Deployment controller: controller.controller_sync."""
        return controller_sync(self, dep)
