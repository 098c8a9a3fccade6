"""The Deployment/ReplicaSet controller simulation (one converged sync per write).

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import copy
import math
import re
import uuid

from .errors import ANNOTATIONS_TO_SKIP, HASH_LABEL, REV_ANN, REV_HIST_ANN
from .resources import (
    equal_ignore_hash, fmt_time, parse_time, res_by_name, revision_of, template_hash,
)


# --------------------------------------------------------------------------------------
# The Deployment controller
# --------------------------------------------------------------------------------------


def controller_sync(store, dep):
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
    if not store.options.get("controller"):
        return
    rs_res = res_by_name("replicasets.apps")
    dep_res = res_by_name("deployments.apps")
    ns = dep["metadata"]["namespace"]
    uid = dep["metadata"]["uid"]
    spec = dep.get("spec") or {}
    owned = [rs for rs in store.list(rs_res, ns) if is_controlled_by(rs, uid)]
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
    scale = bool(store.options.get("controller_scale"))
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
            store.write(rs_res, rs)
        new_rs = rs
    elif not spec.get("paused"):
        collision = (dep.get("status") or {}).get("collisionCount")
        while True:
            h = template_hash(tmpl, collision)
            name = dep["metadata"]["name"] + "-" + h
            if store.get(rs_res, ns, name) is None:
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
                           "creationTimestamp": fmt_time(store.now()),
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
        store.write(rs_res, rs)
        new_rs = rs
        if collision:
            cur = copy.deepcopy(store.get(dep_res, ns, dep["metadata"]["name"]))
            cur.setdefault("status", {})["collisionCount"] = collision
            store.write(dep_res, cur)
    new_name = new_rs["metadata"]["name"] if new_rs is not None else None
    if scale:
        for old_rs in owned:
            if old_rs["metadata"]["name"] == new_name:
                continue
            cur = store.get(rs_res, ns, old_rs["metadata"]["name"])
            if cur is None:
                continue
            c2 = copy.deepcopy(cur)
            _scale_rs(c2, 0)
            if c2 != cur:
                store.write(rs_res, c2)
    if store.options.get("controller_cleanup", True):
        limit = spec.get("revisionHistoryLimit", 10)
        olds = [store.get(rs_res, ns, r["metadata"]["name"]) for r in owned
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
                store.delete(rs_res, ns, r["metadata"]["name"])
                store.next_rv()
    # SetDeploymentRevision + observedGeneration, written through /status.
    d2 = copy.deepcopy(store.get(dep_res, ns, dep["metadata"]["name"]))
    if d2 is None:
        return
    if new_rs is not None:
        d2["metadata"].setdefault("annotations", {})[REV_ANN] = \
            new_rs["metadata"]["annotations"][REV_ANN]
    d2.setdefault("status", {})["observedGeneration"] = d2["metadata"].get("generation", 1)
    cur = store.get(dep_res, ns, dep["metadata"]["name"])
    if d2 != cur:
        store.write(dep_res, d2)


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
