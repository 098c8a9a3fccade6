"""The API request handling: routing, get/list/create/update/patch/delete/scale, validation.

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import base64
import copy
import json
import re
import urllib.parse
import uuid

from .errors import (
    APIError, SERVER_VERSION, compact, err_already_exists, err_bad_request, err_conflict,
    err_generic_not_found, err_invalid, err_invalid_generic, err_method_not_allowed,
    err_not_found, err_unsupported_builtin, err_unsupported_custom, field_invalid,
    field_required, go_decode_error, go_type_name, status_body,
)
from .resources import (
    RES_BY_GV, SCALE_RES, fmt_time, normalize_semantic, random_suffix, res_by_name,
)
from .selectors import (
    SelectorError, field_match, label_match, parse_field_selector, parse_label_selector,
    selector_matches_labels, selector_to_string,
)
from .patch import (
    PatchApplyError, json_patch_apply, json_patch_decode, merge_patch,
    strategic_merge_patch,
)
from .store import core_event_to_v1, normalize_core_event, order_object, v1_event_to_core
from .discovery import aggregated_discovery, api_groups, api_resource_list, table_for


# --------------------------------------------------------------------------------------
# The API request handling
# --------------------------------------------------------------------------------------

PATCH_TYPES_BUILTIN = ["application/json-patch+json", "application/merge-patch+json",
                       "application/strategic-merge-patch+json", "application/apply-patch+yaml"]
PATCH_TYPES_CUSTOM = ["application/json-patch+json", "application/merge-patch+json",
                      "application/apply-patch+yaml"]
BODY_TYPES_BUILTIN = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
BODY_TYPES_CUSTOM = ["application/json", "application/yaml"]



DNS1123_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                         "characters, '-' or '.', and must start and end with an alphanumeric "
                         "character (e.g. 'example.com', regex used for validation is '"
                         + DNS1123_SUBDOMAIN + "')")


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
        # metadata.name: NameIsDNSSubdomain, as ValidateObjectMetaAccessor checks it
        if name and len(name) > 253:
            causes.append(field_invalid("metadata.name", name,
                                        "must be no more than 253 characters"))
        elif name and not re.fullmatch(DNS1123_SUBDOMAIN, name):
            causes.append(field_invalid("metadata.name", name, DNS1123_SUBDOMAIN_MSG))
        if ns and not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
                                   r"[a-z0-9])?)*", ns):
            causes.append(field_invalid("namespace", ns, "a lowercase RFC 1123 subdomain must "
                                        "consist of lower case alphanumeric characters, '-' or "
                                        "'.', and must start and end with an alphanumeric "
                                        "character"))
        if causes:
            raise err_invalid("Event" if res.group == "" else "Event.events.k8s.io",
                              res.group, "Event", name, causes)
