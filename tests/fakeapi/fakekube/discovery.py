"""Discovery documents (legacy and aggregated) and Table output for `kubectl get`.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""


from .resources import RESOURCES, SUB_VERBS, VERBS_ALL, parse_time


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
