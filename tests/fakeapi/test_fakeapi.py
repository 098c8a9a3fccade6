#!/usr/bin/env python3
"""Self-test of the fake Kubernetes API server against the real API server's shapes and codes.

Run: python3 tests/fakeapi/test_fakeapi.py
The last line is exactly "N passed, N failed"; the exit status is 1 on any failure.
Tests that need kubectl print a SKIPPED line and count as skipped when it is missing.
"""

import base64
import copy
import http.client
import json
import os
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakeapi  # noqa: E402

SEED = os.path.join(HERE, "seed_web.json")
NS = "prod"
DUID = "6b3c8f2e-0000-4000-8000-000000000001"
DEP = "/apis/apps/v1/namespaces/prod/deployments/web"
RSL = "/apis/apps/v1/namespaces/prod/replicasets"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/prod/leases"
EVENTS = "/api/v1/namespaces/prod/events"
EVENTS_V1 = "/apis/events.k8s.io/v1/namespaces/prod/events"
ROLLOUT = "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web-ro"
JP = "application/json-patch+json"
MP = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"

# The kubectl-equivalent PATCH body for the fixture (undo to revision 1).
EXPECTED_UNDO_PATCH = (
    '[{"op":"replace","path":"/spec/template","value":{"metadata":{"labels":{"app":"web"}},'
    '"spec":{"containers":[{"name":"app","image":"registry.example/web:v1","resources":{},'
    '"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",'
    '"imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",'
    '"terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},'
    '"schedulerName":"default-scheduler"}}},{"op":"replace","path":"/metadata/annotations",'
    '"value":{"deployment.kubernetes.io/revision":"2","kubernetes.io/change-cause":"image v1"}}]')
# kubectl before the 2025-03 change (incl. v1.32) writes the zero creationTimestamp.
EXPECTED_UNDO_PATCH_OLD = EXPECTED_UNDO_PATCH.replace(
    '"value":{"metadata":{"labels"', '"value":{"metadata":{"creationTimestamp":null,"labels"')

# Status bodies of the real API server, verbatim.
B_404_DEP = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
             '"deployments.apps \\"web\\" not found","reason":"NotFound","details":{"name":"web",'
             '"group":"apps","kind":"deployments"},"code":404}')
B_404_POD = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
             '"pods \\"web-x\\" not found","reason":"NotFound","details":{"name":"web-x","kind":'
             '"pods"},"code":404}')
B_404_LEASE = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
               '"leases.coordination.k8s.io \\"web-rollback\\" not found","reason":"NotFound",'
               '"details":{"name":"web-rollback","group":"coordination.k8s.io","kind":"leases"},'
               '"code":404}')
B_404_GENERIC = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                 '"the server could not find the requested resource","reason":"NotFound",'
                 '"details":{},"code":404}')
B_409_LEASE = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
               '"Operation cannot be fulfilled on leases.coordination.k8s.io \\"web-rollback\\": '
               'the object has been modified; please apply your changes to the latest version '
               'and try again","reason":"Conflict","details":{"name":"web-rollback","group":'
               '"coordination.k8s.io","kind":"leases"},"code":409}')
B_409_DEP = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
             '"Operation cannot be fulfilled on deployments.apps \\"web\\": the object has been '
             'modified; please apply your changes to the latest version and try again","reason":'
             '"Conflict","details":{"name":"web","group":"apps","kind":"deployments"},"code":409}')
B_409_EXISTS = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                '"leases.coordination.k8s.io \\"web-rollback\\" already exists","reason":'
                '"AlreadyExists","details":{"name":"web-rollback","group":"coordination.k8s.io",'
                '"kind":"leases"},"code":409}')
B_422 = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the '
         'server rejected our request due to an error in our request","reason":"Invalid",'
         '"details":{},"code":422}')
B_422_LEASE_RV = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                  '"leases.coordination.k8s.io \\"web-rollback\\" is invalid: metadata.'
                  'resourceVersion: Invalid value: 0: must be specified for an update","reason":'
                  '"Invalid","details":{"name":"web-rollback","group":"coordination.k8s.io",'
                  '"kind":"leases","causes":[{"reason":"FieldValueInvalid","message":"Invalid '
                  'value: 0: must be specified for an update","field":"metadata.resourceVersion"}'
                  ']},"code":422}')
B_422_SELECTOR = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                  '"Deployment.apps \\"web\\" is invalid: spec.template.metadata.labels: Invalid '
                  'value: {\\"app\\":\\"other\\"}: `selector` does not match template `labels`",'
                  '"reason":"Invalid","details":{"name":"web","group":"apps","kind":"Deployment",'
                  '"causes":[{"reason":"FieldValueInvalid","message":"Invalid value: {\\"app\\":'
                  '\\"other\\"}: `selector` does not match template `labels`","field":'
                  '"spec.template.metadata.labels"}]},"code":422}')
B_401 = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
         '"Unauthorized","reason":"Unauthorized","code":401}')
B_403 = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
         '"deployments.apps \\"web\\" is forbidden: User \\"system:serviceaccount:prod:'
         'web-sidecar\\" cannot patch resource \\"deployments\\" in API group \\"apps\\" in the '
         'namespace \\"prod\\"","reason":"Forbidden","details":{"name":"web","group":"apps",'
         '"kind":"deployments"},"code":403}')
B_403_LIST = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
              '"replicasets.apps is forbidden: User \\"system:serviceaccount:prod:web-sidecar\\" '
              'cannot list resource \\"replicasets\\" in API group \\"apps\\" in the namespace '
              '\\"prod\\"","reason":"Forbidden","details":{"group":"apps","kind":"replicasets"},'
              '"code":403}')
B_415 = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"415: '
         'Unsupported Media Type","reason":"UnsupportedMediaType","details":{},"code":415}')
B_415_CR = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the '
            'body of the request was in an unknown format - accepted media types include: '
            'application/json-patch+json, application/merge-patch+json, '
            'application/apply-patch+yaml","reason":"UnsupportedMediaType","code":415}')
B_429 = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
         '"Too many requests, please try again later.","reason":"TooManyRequests","details":'
         '{"retryAfterSeconds":5},"code":429}')
B_500 = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
         '"Internal error occurred: etcdserver: request timed out","reason":"InternalError",'
         '"details":{"causes":[{"message":"etcdserver: request timed out"}]},"code":500}')


def lease_body(name="web-rollback", holder="pod-a_1", rv=None, dur=15, transitions=0):
    md = {"name": name, "namespace": NS}
    if rv is not None:
        md["resourceVersion"] = rv
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": md,
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": dur,
                     "acquireTime": "2026-07-24T10:00:00.000000Z",
                     "renewTime": "2026-07-24T10:00:00.000000Z",
                     "leaseTransitions": transitions}}


def core_event(name="web.18a6f2c3d4e5f601", ns=NS, io_ns=NS, uid=DUID, **extra):
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
          "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": io_ns,
                             "name": "web", "uid": uid, "resourceVersion": "48213"},
          "reason": "DeploymentRollback",
          "message": "Rolled back deployment \"web\" from revision 2 to revision 1 "
                     "(pod-template-hash 7c5d9f8b4 failed readiness)",
          "type": "Warning", "source": {"component": "rollback-sidecar",
                                        "host": "web-7c5d9f8b4-x2kqp"},
          "firstTimestamp": fakeapi.fmt_time(time.time() - 5),
          "lastTimestamp": fakeapi.fmt_time(time.time() - 5), "count": 1,
          "reportingComponent": "rollback-sidecar", "reportingInstance": "web-7c5d9f8b4-x2kqp"}
    ev.update(extra)
    return ev


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body

    @property
    def json(self):
        return json.loads(self.raw)

    @property
    def text(self):
        return self.raw.decode()


class Base(unittest.TestCase):
    fa = None

    @classmethod
    def setUpClass(cls):
        if Base.fa is None:
            Base.tmp = tempfile.mkdtemp(prefix="fakeapi-test-")
            Base.fa = fakeapi.FakeAPI(SEED, tls_dir=os.path.join(Base.tmp, "tls"),
                                      tokens=["tok-a"], http_port=0).start()
            Base.ctx = ssl.create_default_context(cafile=Base.fa.ca_file)

    def setUp(self):
        self.fa.reset()

    def req(self, method, path, body=None, ct=None, token="tok-a", headers=None, plain=False,
            timeout=10):
        if plain:
            c = http.client.HTTPConnection("127.0.0.1", self.fa.http_port, timeout=timeout)
        else:
            c = http.client.HTTPSConnection("127.0.0.1", self.fa.port, context=self.ctx,
                                            timeout=timeout)
        h = {"Accept": "application/json"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            ct = ct or "application/json"
        if isinstance(body, str):
            body = body.encode()
        if ct:
            h["Content-Type"] = ct
        h.update(headers or {})
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            c.close()

    def assertBody(self, r, code, expected):
        self.assertEqual(r.status, code, r.raw)
        self.assertEqual(r.raw.decode(), expected + "\n")
        self.assertTrue(r.headers["content-type"].startswith("application/json"))

    def dep(self):
        return self.req("GET", DEP).json


# --------------------------------------------------------------------------------------
# Error bodies, byte for byte
# --------------------------------------------------------------------------------------


class ErrorBodies(Base):
    def test_404_named_deployment(self):
        r = self.req("GET", "/apis/apps/v1/namespaces/staging/deployments/web")
        self.assertBody(r, 404, B_404_DEP)
        self.assertEqual(r.headers.get("x-content-type-options"), "nosniff")

    def test_404_named_pod_core_group(self):
        self.assertBody(self.req("GET", "/api/v1/namespaces/prod/pods/web-x"), 404, B_404_POD)

    def test_404_named_lease(self):
        self.assertBody(self.req("GET", LEASES + "/web-rollback"), 404, B_404_LEASE)

    def test_404_generic_unknown_paths(self):
        for p in ("/apis/apps/v1/namespaces/prod/statefulsets", "/apis/nope.io/v1/things",
                  "/apis/apps/v1/namespaces/prod/deployments/web/rollback", "/api/v2",
                  "/apis/apps/v1/namespaces/prod/deployments/web/status/x"):
            self.assertBody(self.req("GET", p), 404, B_404_GENERIC)

    def test_409_conflict_lease_put_stale(self):
        r = self.req("POST", LEASES, lease_body())
        self.assertEqual(r.status, 201)
        rv = r.json["metadata"]["resourceVersion"]
        self.assertEqual(self.req("PUT", LEASES + "/web-rollback", lease_body(rv=rv,
                                                                           holder="b")).status,
                         200)
        self.assertBody(self.req("PUT", LEASES + "/web-rollback", lease_body(rv=rv)), 409,
                        B_409_LEASE)

    def test_409_conflict_deployment_merge_patch(self):
        r = self.req("PATCH", DEP, {"metadata": {"resourceVersion": "1"},
                                    "spec": {"replicas": 4}}, ct=MP)
        self.assertBody(r, 409, B_409_DEP)
        self.assertEqual(self.dep()["spec"]["replicas"], 3)

    def test_409_already_exists(self):
        self.assertEqual(self.req("POST", LEASES, lease_body()).status, 201)
        self.assertBody(self.req("POST", LEASES, lease_body()), 409, B_409_EXISTS)

    def test_422_generic_failed_test_op(self):
        r = self.req("PATCH", DEP, [{"op": "test", "path": "/metadata/resourceVersion",
                                     "value": "1"}], ct=JP)
        self.assertBody(r, 422, B_422)

    def test_422_lease_put_without_rv(self):
        self.assertEqual(self.req("POST", LEASES, lease_body()).status, 201)
        self.assertBody(self.req("PUT", LEASES + "/web-rollback", lease_body()), 422,
                        B_422_LEASE_RV)

    def test_422_validation_selector(self):
        r = self.req("PATCH", DEP, [{"op": "replace", "path": "/spec/template/metadata/labels",
                                     "value": {"app": "other"}}], ct=JP)
        self.assertBody(r, 422, B_422_SELECTOR)

    def test_400_malformed_patch(self):
        cases = [('[{"op":', "unexpected end of JSON input"),
                 ("{}", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
                 ("[1]", "json: cannot unmarshal number into Go value of type "
                         "jsonpatch.Operation"),
                 ("x", "invalid character 'x' looking for beginning of value")]
        for body, msg in cases:
            r = self.req("PATCH", DEP, body, ct=JP)
            self.assertBody(r, 400, '{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                            '"Failure","message":%s,"reason":"BadRequest","code":400}'
                            % json.dumps(msg))

    def test_401_missing_unknown_revoked(self):
        self.assertBody(self.req("GET", DEP, token=None), 401, B_401)
        self.assertBody(self.req("GET", DEP, token="nope"), 401, B_401)
        self.fa.revoke_token("tok-a")
        self.assertBody(self.req("GET", DEP), 401, B_401)
        self.assertEqual(self.fa.requests()[-1]["auth"], "revoked")

    def test_403_forbidden_named_and_list(self):
        self.fa.add_fault(type="403", path="/deployments/web$", method="PATCH")
        self.fa.add_fault(type="403", path="/replicasets$", method="GET")
        r = self.req("PATCH", DEP, {"spec": {"replicas": 3}}, ct=MP)
        self.assertBody(r, 403, B_403)
        self.assertBody(self.req("GET", RSL + "?labelSelector=app%3Dweb"), 403, B_403_LIST)

    def test_415_builtin_and_custom(self):
        self.assertBody(self.req("PATCH", DEP, b'{"spec":{}}', ct="application/json"), 415, B_415)
        self.assertBody(self.req("PATCH", DEP, b'{"spec":{}}', ct=None), 415, B_415)
        self.assertBody(self.req("PATCH", ROLLOUT, b'{"spec":{}}', ct=SMP), 415, B_415_CR)
        self.assertBody(self.req("PATCH", ROLLOUT + "/status", b'{}', ct=SMP), 415, B_415_CR)

    def test_429_apf_plain_text(self):
        self.fa.add_fault(type="429-apf", path="/deployments/web$", retry_after=2)
        r = self.req("GET", DEP)
        self.assertEqual(r.status, 429)
        self.assertEqual(r.raw, b"Too many requests, please try again later.\n")
        self.assertEqual(r.headers["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(r.headers["retry-after"], "2")
        self.assertEqual(r.headers["x-content-type-options"], "nosniff")
        self.assertIn("x-kubernetes-pf-flowschema-uid", r.headers)
        self.assertIn("x-kubernetes-pf-prioritylevel-uid", r.headers)
        self.assertEqual(self.req("GET", DEP).status, 200)

    def test_429_status_form(self):
        self.fa.add_fault(type="429-status", path="/deployments/web$")
        r = self.req("GET", DEP)
        self.assertBody(r, 429, B_429)
        self.assertEqual(r.headers["retry-after"], "5")

    def test_500_with_and_without_retry_after(self):
        self.fa.add_fault(type="500", path="/deployments/web$")
        self.fa.add_fault(type="500", path="/deployments/web$", retry_after=3)
        r1 = self.req("GET", DEP)
        self.assertBody(r1, 500, B_500)
        self.assertNotIn("retry-after", r1.headers)
        r2 = self.req("GET", DEP)
        self.assertBody(r2, 500, B_500)
        self.assertEqual(r2.headers["retry-after"], "3")
        self.assertEqual(self.req("GET", DEP).status, 200)

    def test_503_504(self):
        self.fa.add_fault(type="503", path="web$")
        self.fa.add_fault(type="504", path="web$")
        self.assertBody(self.req("GET", DEP), 503,
                        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                        '"message":"the server is currently unable to handle the request",'
                        '"reason":"ServiceUnavailable","code":503}')
        r = self.req("GET", DEP)
        self.assertEqual(r.status, 504)
        self.assertEqual(r.json["reason"], "Timeout")

    def test_go_encoding_html_escape_and_newline(self):
        r = self.req("GET", "/apis/apps/v1/namespaces/prod/deployments/a%3Cb%3E%26")
        self.assertEqual(r.status, 404)
        self.assertIn(b'deployments.apps \\"a\\u003cb\\u003e\\u0026\\" not found', r.raw)
        self.assertTrue(r.raw.endswith(b"}\n"))


# --------------------------------------------------------------------------------------
# The rollback test matrix, at the HTTP level
# --------------------------------------------------------------------------------------


class Matrix(Base):
    def test_1_happy_path_get_list_patch(self):
        pod = self.req("GET", "/api/v1/namespaces/prod/pods/web-7c5d9f8b4-x2kqp").json
        ref = [o for o in pod["metadata"]["ownerReferences"] if o.get("controller")][0]
        rs = self.req("GET", RSL + "/" + ref["name"]).json
        self.assertEqual(rs["kind"], "ReplicaSet")
        dref = [o for o in rs["metadata"]["ownerReferences"] if o.get("controller")][0]
        dep = self.req("GET", "/apis/apps/v1/namespaces/prod/deployments/" + dref["name"]).json
        self.assertEqual(dep["metadata"]["uid"], dref["uid"])
        self.assertEqual(dep["metadata"]["resourceVersion"], "48213")
        lst = self.req("GET", RSL + "?labelSelector=app%3Dweb").json
        self.assertEqual(lst["kind"], "ReplicaSetList")
        self.assertEqual(lst["apiVersion"], "apps/v1")
        self.assertEqual(lst["metadata"], {"resourceVersion": "48220"})
        names = [i["metadata"]["name"] for i in lst["items"]]
        self.assertEqual(names, ["web-5d8f7c9b6d", "web-7c5d9f8b4", "web-84c6b5f9d7",
                                 "web-canary-6f9c8d7b5"])
        self.assertNotIn("kind", lst["items"][0])
        owned = [i for i in lst["items"] if fakeapi.is_controlled_by(i, DUID)]
        self.assertEqual(len(owned), 3)
        rs1 = [i for i in owned if fakeapi.revision_of(i) == 1][0]
        tmpl = copy.deepcopy(rs1["spec"]["template"])
        del tmpl["metadata"]["labels"]["pod-template-hash"]
        patch = [{"op": "test", "path": "/metadata/uid", "value": DUID},
                 {"op": "test", "path": "/metadata/resourceVersion", "value": "48213"},
                 {"op": "test", "path": "/metadata/annotations/deployment.kubernetes.io~1revision",
                  "value": "2"},
                 {"op": "replace", "path": "/spec/template", "value": tmpl},
                 {"op": "replace", "path": "/metadata/annotations",
                  "value": {"deployment.kubernetes.io/revision": "2",
                            "kubernetes.io/change-cause": "image v1"}}]
        r = self.req("PATCH", DEP + "?fieldManager=rollback-sidecar", patch, ct=JP)
        self.assertEqual(r.status, 200, r.raw)
        out = r.json
        self.assertEqual(out["metadata"]["resourceVersion"], "48221")
        self.assertEqual(out["metadata"]["generation"], 3)
        self.assertEqual(out["spec"]["template"]["spec"]["containers"][0]["image"],
                         "registry.example/web:v1")
        self.assertEqual(out["status"]["observedGeneration"], 2)
        writes = self.fa.requests(writes_only=True)
        self.assertEqual(len(writes), 1)
        w = writes[0]
        self.assertEqual(w["method"], "PATCH")
        self.assertEqual(w["field_manager"], "rollback-sidecar")
        self.assertEqual(w["headers"]["Content-Type"], JP)
        self.assertNotIn("Authorization", w["headers"])
        self.assertEqual(w["json"], patch)
        self.assertEqual(len(self.fa.requests(method="PATCH")), 1)
        self.assertEqual(len(self.fa.requests(method="GET", path="replicasets")), 2)
        # paused variant is representable and served
        r = self.req("PATCH", DEP, {"spec": {"paused": True}}, ct=MP)
        self.assertTrue(r.json["spec"]["paused"])

    def test_2_racing_second_patch_fails(self):
        p = [{"op": "test", "path": "/metadata/resourceVersion", "value": "48213"},
             {"op": "replace", "path": "/spec/template/spec/containers/0/image",
              "value": "registry.example/web:v1"}]
        self.assertEqual(self.req("PATCH", DEP, p, ct=JP).status, 200)
        r = self.req("PATCH", DEP, p, ct=JP)
        self.assertBody(r, 422, B_422)
        p2 = [{"op": "replace", "path": "/metadata/resourceVersion", "value": "48213"},
              {"op": "replace", "path": "/spec/replicas", "value": 5}]
        self.assertBody(self.req("PATCH", DEP, p2, ct=JP), 409, B_409_DEP)
        gen = self.dep()["metadata"]["generation"]
        p3 = [{"op": "test", "path": "/metadata/generation", "value": gen},
              {"op": "replace", "path": "/spec/replicas", "value": 5}]
        p3f = [{"op": "test", "path": "/metadata/generation", "value": float(gen)},
               {"op": "replace", "path": "/spec/replicas", "value": 5}]
        self.assertBody(self.req("PATCH", DEP, p3f, ct=JP), 422, B_422)
        self.assertEqual(self.req("PATCH", DEP, p3, ct=JP).status, 200)
        # json-patch v4 compares scalars as Go re-encoded them: '<' is stored as \u003c
        self.req("PATCH", DEP, {"metadata": {"annotations": {"note": "a<b"}}}, ct=MP)
        self.assertBody(self.req("PATCH", DEP, [
            {"op": "test", "path": "/metadata/annotations/note", "value": "a<b"}], ct=JP),
            422, B_422)
        rev = self.dep()["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        self.assertEqual(self.req("PATCH", DEP, [
            {"op": "test", "path": "/metadata/annotations/deployment.kubernetes.io~1revision",
             "value": rev}, {"op": "test", "path": "/spec/selector",
                             "value": {"matchLabels": {"app": "web"}}}], ct=JP).status, 200)

    def test_2b_concurrent_racers_only_one_wins(self):
        import threading
        p = [{"op": "test", "path": "/metadata/resourceVersion", "value": "48213"},
             {"op": "replace", "path": "/spec/template/spec/containers/0/image",
              "value": "registry.example/web:v1"}]
        codes = []
        lock = threading.Lock()

        def racer():
            r = self.req("PATCH", DEP, p, ct=JP)
            with lock:
                codes.append(r.status)
        ts = [threading.Thread(target=racer) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(sorted(codes), [200] + [422] * 7)
        self.assertEqual(len(self.fa.requests(method="PATCH")), 8)

    def test_3_controller_renumbers_revisions(self):
        rs1 = self.req("GET", RSL + "/web-5d8f7c9b6d").json
        tmpl = copy.deepcopy(rs1["spec"]["template"])
        del tmpl["metadata"]["labels"]["pod-template-hash"]
        r = self.req("PATCH", DEP, [{"op": "replace", "path": "/spec/template", "value": tmpl},
                                    {"op": "replace", "path": "/metadata/annotations",
                                     "value": {"deployment.kubernetes.io/revision": "2",
                                               "kubernetes.io/change-cause": "image v1"}}],
                     ct=JP)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
                         "2")  # the response precedes the controller, as on a real cluster
        ann = self.req("GET", RSL + "/web-5d8f7c9b6d").json["metadata"]["annotations"]
        self.assertEqual(ann["deployment.kubernetes.io/revision"], "3")
        self.assertEqual(ann["deployment.kubernetes.io/revision-history"], "1")
        d = self.dep()
        self.assertEqual(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3")
        self.assertEqual(d["metadata"]["generation"], 3)  # status write: no bump
        self.assertEqual(self.req("GET", RSL + "/web-7c5d9f8b4").json["metadata"]["annotations"]
                         ["deployment.kubernetes.io/revision"], "2")
        # a naive second kubectl-style undo now targets revision 2: the flip-flop hazard
        owned = [i for i in self.req("GET", RSL + "?labelSelector=app%3Dweb").json["items"]
                 if fakeapi.is_controlled_by(i, DUID)]
        revs = sorted(fakeapi.revision_of(i) for i in owned)
        self.assertEqual(revs, [0, 2, 3])
        # a brand-new template creates a new RS with the next revision
        r = self.req("PATCH", DEP, {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "registry.example/web:v3"}]}}}}, ct=SMP)
        self.assertEqual(r.status, 200)
        d = self.dep()
        self.assertEqual(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "4")
        new = [i for i in self.req("GET", RSL + "?labelSelector=app%3Dweb").json["items"]
               if fakeapi.revision_of(i) == 4]
        self.assertEqual(len(new), 1)
        h = new[0]["metadata"]["labels"]["pod-template-hash"]
        self.assertEqual(new[0]["metadata"]["name"], "web-" + h)
        self.assertEqual(new[0]["spec"]["template"]["metadata"]["labels"]["pod-template-hash"], h)
        self.assertEqual(new[0]["spec"]["selector"]["matchLabels"],
                         {"app": "web", "pod-template-hash": h})
        self.assertTrue(fakeapi.is_controlled_by(new[0], DUID))
        self.assertEqual(new[0]["metadata"]["annotations"]["kubernetes.io/change-cause"],
                         "image v1")
        self.assertEqual(new[0]["spec"]["template"]["spec"]["containers"][0]["image"],
                         "registry.example/web:v3")

    def test_4_lease_lifecycle(self):
        self.assertEqual(self.req("GET", LEASES + "/web-rollback").status, 404)
        r = self.req("POST", LEASES, lease_body())
        self.assertEqual(r.status, 201)
        lease = r.json
        self.assertEqual(lease["kind"], "Lease")
        self.assertTrue(lease["metadata"]["uid"])
        self.assertNotIn("generation", lease["metadata"])
        self.assertEqual(lease["spec"]["holderIdentity"], "pod-a_1")
        rv1 = lease["metadata"]["resourceVersion"]
        self.assertEqual(self.req("POST", LEASES, lease_body(holder="pod-b_2")).status, 409)
        got = self.req("GET", LEASES + "/web-rollback").json
        self.assertEqual(got, lease)
        lease["spec"]["renewTime"] = "2026-07-24T10:00:08.004512Z"
        r = self.req("PUT", LEASES + "/web-rollback", lease)
        self.assertEqual(r.status, 200)
        rv2 = r.json["metadata"]["resourceVersion"]
        self.assertGreater(int(rv2), int(rv1))
        stale = lease_body(holder="pod-b_2", rv=rv1, transitions=1)
        self.assertBody(self.req("PUT", LEASES + "/web-rollback", stale), 409, B_409_LEASE)
        self.assertBody(self.req("PUT", LEASES + "/web-rollback", lease_body()), 422,
                        B_422_LEASE_RV)
        release = lease_body(holder="", rv=rv2, dur=1)
        r = self.req("PUT", LEASES + "/web-rollback", release)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["spec"]["holderIdentity"], "")
        # no-op PUT keeps the resourceVersion
        same = r.json
        r2 = self.req("PUT", LEASES + "/web-rollback", same)
        self.assertEqual(r2.json["metadata"]["resourceVersion"],
                         same["metadata"]["resourceVersion"])
        # validation
        r = self.req("POST", LEASES, lease_body(name="bad", dur=0))
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json["message"], 'Lease.coordination.k8s.io "bad" is invalid: '
                         'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0')
        # name mismatch and namespace mismatch
        self.assertEqual(self.req("PUT", LEASES + "/other", release).status, 400)
        r = self.req("POST", "/apis/coordination.k8s.io/v1/namespaces/dev/leases", lease_body())
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["message"], "the namespace of the provided object does not "
                         "match the namespace sent on the request")

    def test_5_auth_401_once_rotation_and_403(self):
        self.fa.add_fault(type="401", path="/deployments/web$")
        self.assertBody(self.req("GET", DEP), 401, B_401)
        self.assertEqual(self.req("GET", DEP).status, 200)
        out = self.fa.rotate_token("tok-b")
        self.assertEqual(out["accepted"], ["tok-b"])
        self.assertEqual(self.req("GET", DEP).status, 401)
        self.assertEqual(self.req("GET", DEP, token="tok-b").status, 200)
        log = self.fa.requests(path="deployments/web$")
        self.assertEqual([e["auth"] for e in log], ["ok", "ok", "revoked", "ok"])
        self.assertEqual(log[-1]["token_fp"], fakeapi.token_fp("tok-b"))
        self.fa.add_fault(type="403", path="/deployments/web$", times="always")
        for _ in range(3):
            self.assertEqual(self.req("GET", DEP, token="tok-b").status, 403)
        # token file rotation
        tf = os.path.join(self.tmp, "token")
        with open(tf, "w") as f:
            f.write("tok-file\n")
        self.fa.tokens.token_file = tf
        self.fa.reload_token_file()
        self.assertEqual(self.req("GET", "/api/v1/namespaces/prod/pods/web-7c5d9f8b4-x2kqp",
                                  token="tok-file").status, 200)
        # public /version without token; with a bad token -> 401
        self.assertEqual(self.req("GET", "/version", token=None).status, 200)
        self.assertEqual(self.req("GET", "/version", token="bad").status, 401)

    def test_6_throttling_forms_and_counts(self):
        self.fa.add_fault(type="429-apf", path="replicasets", retry_after=2, times=2)
        self.fa.add_fault(type="429-status", path="replicasets", retry_after=7)
        self.fa.add_fault(type="500", path="replicasets", retry_after=1)
        self.fa.add_fault(type="500", path="replicasets")
        codes = []
        for _ in range(6):
            r = self.req("GET", RSL + "?labelSelector=app%3Dweb")
            codes.append((r.status, r.headers.get("retry-after")))
        self.assertEqual(codes, [(429, "2"), (429, "2"), (429, "7"), (500, "1"), (500, None),
                                 (200, None)])
        faults = self.fa.list_faults()
        self.assertEqual([f["hits"] for f in faults], [2, 1, 1, 1])

    def test_7_events_post_validate_and_field_selector(self):
        r = self.req("POST", EVENTS, core_event())
        self.assertEqual(r.status, 201, r.raw)
        ev = r.json
        self.assertEqual(ev["involvedObject"]["uid"], DUID)
        self.assertEqual(ev["eventTime"], None)
        self.assertEqual(ev["reportingComponent"], "rollback-sidecar")
        terms = ["involvedObject.kind=Deployment", "involvedObject.name=web",
                 "involvedObject.namespace=prod", "involvedObject.uid=" + DUID]
        rnd = random.Random(7)
        for _ in range(4):
            rnd.shuffle(terms)
            q = urllib.parse.urlencode({"fieldSelector": ",".join(terms), "limit": "500"})
            lst = self.req("GET", EVENTS + "?" + q).json
            self.assertEqual(lst["kind"], "EventList")
            self.assertEqual([i["metadata"]["name"] for i in lst["items"]],
                             ["web.18a6f2c3d4e5f601"])
        q = urllib.parse.urlencode({"fieldSelector": "involvedObject.uid=other"})
        self.assertEqual(self.req("GET", EVENTS + "?" + q).json["items"], [])
        q = urllib.parse.urlencode({"fieldSelector": "involvedObject.kind!=Deployment"})
        self.assertEqual(self.req("GET", EVENTS + "?" + q).json["items"], [])
        q = urllib.parse.urlencode({"fieldSelector": "reason==DeploymentRollback,type=Warning"})
        self.assertEqual(len(self.req("GET", EVENTS + "?" + q).json["items"]), 1)
        q = urllib.parse.urlencode({"fieldSelector": "bogus=1"})
        r = self.req("GET", EVENTS + "?" + q)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["message"], "field label not supported: bogus")
        # namespace of involvedObject must equal the event's
        r = self.req("POST", EVENTS, core_event(name="e2", io_ns="dev"))
        self.assertBody(r, 422, '{"kind":"Status","apiVersion":"v1","metadata":{},"status":'
                        '"Failure","message":"Event \\"e2\\" is invalid: involvedObject.namespace:'
                        ' Invalid value: \\"dev\\": does not match event.namespace","reason":'
                        '"Invalid","details":{"name":"e2","kind":"Event","causes":[{"reason":'
                        '"FieldValueInvalid","message":"Invalid value: \\"dev\\": does not match '
                        'event.namespace","field":"involvedObject.namespace"}]},"code":422}')
        # namespace of the body must equal the path's
        r = self.req("POST", EVENTS, core_event(name="e3", ns="dev", io_ns="dev"))
        self.assertEqual(r.status, 400)
        # eventTime set -> reportingComponent/action required
        r = self.req("POST", EVENTS, core_event(name="e4", eventTime="2026-07-24T10:00:01.123456Z",
                                                reportingComponent=""))
        self.assertEqual(r.status, 422)
        self.assertIn("reportingController: Required value", r.json["message"])
        self.assertIn("action: Required value", r.json["message"])
        # duplicate name
        self.assertEqual(self.req("POST", EVENTS, core_event()).status, 409)
        # strict option checks reason/type
        self.fa.set_options(strict_core_events=True)
        r = self.req("POST", EVENTS, core_event(name="e5", type="Bad", reason=""))
        self.assertEqual(r.status, 422)
        # events.k8s.io/v1
        v1 = {"apiVersion": "events.k8s.io/v1", "kind": "Event",
              "metadata": {"name": "web.v1", "namespace": "prod"},
              "eventTime": "2026-07-24T10:00:01.123456Z",
              "reportingController": "example.com/rollback-sidecar",
              "reportingInstance": "web-7c5d9f8b4-x2kqp", "action": "Rollback",
              "reason": "DeploymentRollback",
              "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod",
                            "name": "web", "uid": DUID},
              "note": "Rolled back deployment \"web\" to revision 1", "type": "Warning"}
        r = self.req("POST", EVENTS_V1, v1)
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(r.json["apiVersion"], "events.k8s.io/v1")
        self.assertEqual(r.json["note"], v1["note"])
        bad = dict(v1, metadata={"name": "web.v2", "namespace": "prod"}, type="Info")
        del bad["eventTime"]
        r = self.req("POST", EVENTS_V1, bad)
        self.assertEqual(r.status, 422)
        self.assertIn("eventTime: Required value", r.json["message"])
        # both are visible as core/v1 events of the Deployment
        q = urllib.parse.urlencode({"fieldSelector": "involvedObject.uid=" + DUID})
        items = self.req("GET", EVENTS + "?" + q).json["items"]
        self.assertEqual(sorted(i["metadata"]["name"] for i in items),
                         ["web.18a6f2c3d4e5f601", "web.v1"])
        core = [i for i in items if i["metadata"]["name"] == "web.v1"][0]
        self.assertEqual(core["message"], v1["note"])
        self.assertEqual(core["reportingComponent"], "example.com/rollback-sidecar")


# --------------------------------------------------------------------------------------
# Patch semantics, selectors, pagination, resources
# --------------------------------------------------------------------------------------


class Semantics(Base):
    def test_json_patch_all_ops_and_escaping(self):
        p = [{"op": "add", "path": "/metadata/annotations/a~1b~0c", "value": "x"},
             {"op": "copy", "from": "/metadata/annotations/a~1b~0c",
              "path": "/metadata/annotations/copied"},
             {"op": "move", "from": "/metadata/annotations/copied",
              "path": "/metadata/annotations/moved"},
             {"op": "test", "path": "/metadata/annotations/moved", "value": "x"},
             {"op": "add", "path": "/spec/template/spec/containers/-",
              "value": {"name": "side", "image": "s:1"}},
             {"op": "add", "path": "/spec/template/spec/containers/0/args", "value": ["-v"]},
             {"op": "remove", "path": "/metadata/annotations/kubernetes.io~1change-cause"},
             {"op": "replace", "path": "/spec/replicas", "value": 4}]
        r = self.req("PATCH", DEP, p, ct=JP)
        self.assertEqual(r.status, 200, r.raw)
        d = r.json
        self.assertEqual(d["metadata"]["annotations"],
                         {"deployment.kubernetes.io/revision": "2", "a/b~c": "x", "moved": "x"})
        self.assertEqual([c["name"] for c in d["spec"]["template"]["spec"]["containers"]],
                         ["app", "side"])
        self.assertEqual(d["spec"]["replicas"], 4)

    def test_json_patch_is_atomic(self):
        before = self.dep()
        for bad in ([{"op": "replace", "path": "/spec/replicas", "value": 9},
                     {"op": "replace", "path": "/spec/nope", "value": 1}],
                    [{"op": "replace", "path": "/spec/replicas", "value": 9},
                     {"op": "remove", "path": "/metadata/annotations/missing"}],
                    [{"op": "replace", "path": "/spec/replicas", "value": 9},
                     {"op": "test", "path": "/spec/replicas", "value": 3}],
                    [{"op": "add", "path": "/spec/a/b", "value": 1}],
                    [{"op": "bogus", "path": "/spec"}],
                    [{"op": "move", "from": "/spec/x", "path": "/spec/y"}],
                    [{"op": "add", "path": "/spec/template/spec/containers/5", "value": {}}]):
            self.assertBody(self.req("PATCH", DEP, bad, ct=JP), 422, B_422)
        self.assertEqual(self.dep(), before)
        self.assertEqual(len(self.fa.requests(method="PATCH")), 7)

    def test_merge_and_strategic_patch(self):
        r = self.req("PATCH", DEP, {"metadata": {"annotations": {
            "kubernetes.io/change-cause": None, "x": "y"}}}, ct=MP)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["metadata"]["annotations"],
                         {"deployment.kubernetes.io/revision": "2", "x": "y"})
        self.assertEqual(r.json["metadata"]["generation"], 3)  # annotations bump generation
        rv = r.json["metadata"]["resourceVersion"]
        # no-op patch: no write, same RV
        r = self.req("PATCH", DEP, {"metadata": {"annotations": {"x": "y"}}}, ct=MP)
        self.assertEqual(r.json["metadata"]["resourceVersion"], rv)
        # matching RV precondition is fine
        r = self.req("PATCH", DEP, {"metadata": {"resourceVersion": rv}, "spec": {"replicas": 2}},
                     ct=MP)
        self.assertEqual(r.status, 200)
        # strategic: containers merge by name
        r = self.req("PATCH", DEP, {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "registry.example/web:v9"}]}}}}, ct=SMP)
        c = r.json["spec"]["template"]["spec"]["containers"]
        self.assertEqual(len(c), 1)
        self.assertEqual(c[0]["image"], "registry.example/web:v9")
        self.assertEqual(c[0]["terminationMessagePolicy"], "File")
        # merge patch replaces lists
        r = self.req("PATCH", DEP, {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "registry.example/web:v8"}]}}}}, ct=MP)
        self.assertEqual(r.json["spec"]["template"]["spec"]["containers"],
                         [{"name": "app", "image": "registry.example/web:v8"}])
        # status on the main resource is ignored, /status changes only status
        r = self.req("PATCH", DEP, {"status": {"replicas": 99}}, ct=MP)
        self.assertEqual(r.json["status"]["replicas"], 3)
        r = self.req("PATCH", DEP + "/status", {"status": {"replicas": 99},
                                                "spec": {"replicas": 7}}, ct=MP)
        self.assertEqual(r.json["status"]["replicas"], 99)
        self.assertNotEqual(r.json["spec"]["replicas"], 7)
        # dry run does not persist
        before = self.dep()
        r = self.req("PATCH", DEP + "?dryRun=All", {"spec": {"replicas": 1}}, ct=MP)
        self.assertEqual(r.json["spec"]["replicas"], 1)
        self.assertEqual(self.dep(), before)
        # apply patch needs a fieldManager
        r = self.req("PATCH", DEP, {"spec": {"replicas": 1}}, ct="application/apply-patch+yaml")
        self.assertEqual(r.status, 422)
        r = self.req("PATCH", DEP + "?fieldManager=t", {"spec": {"replicas": 1}},
                     ct="application/apply-patch+yaml")
        self.assertEqual(r.status, 200)

    def test_put_deployment_unconditional_and_stale(self):
        d = self.dep()
        d2 = copy.deepcopy(d)
        del d2["metadata"]["resourceVersion"]
        d2["spec"]["replicas"] = 6
        r = self.req("PUT", DEP, d2)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["metadata"]["generation"], 3)
        self.assertBody(self.req("PUT", DEP, d), 409, B_409_DEP)

    def test_label_selectors(self):
        def names(sel):
            r = self.req("GET", RSL + "?" + urllib.parse.urlencode({"labelSelector": sel}))
            self.assertEqual(r.status, 200, (sel, r.raw))
            return [i["metadata"]["name"] for i in r.json["items"]]
        allw = ["web-5d8f7c9b6d", "web-7c5d9f8b4", "web-84c6b5f9d7", "web-canary-6f9c8d7b5"]
        self.assertEqual(names("app=web"), allw)
        self.assertEqual(names("app==web"), allw)
        self.assertEqual(names(""), allw)
        self.assertEqual(names("app!=web"), [])
        self.assertEqual(names("pod-template-hash in (7c5d9f8b4, 5d8f7c9b6d)"),
                         ["web-5d8f7c9b6d", "web-7c5d9f8b4"])
        self.assertEqual(names("app=web,pod-template-hash notin (7c5d9f8b4,5d8f7c9b6d)"),
                         ["web-84c6b5f9d7", "web-canary-6f9c8d7b5"])
        self.assertEqual(names("pod-template-hash"), allw)
        self.assertEqual(names("!pod-template-hash"), [])
        self.assertEqual(names("!nolabel,app"), allw)
        self.assertEqual(names("tier!=x"), allw)
        self.assertEqual(names("pod-template-hash=7c5d9f8b4"), ["web-7c5d9f8b4"])
        for bad in ("app=web,", "app in ()", "=web", "app in (a", "a b"):
            r = self.req("GET", RSL + "?" + urllib.parse.urlencode({"labelSelector": bad}))
            self.assertEqual(r.status, 400, bad)
            self.assertEqual(r.json["reason"], "BadRequest")
        self.assertEqual(fakeapi.selector_to_string(
            {"matchLabels": {"b": "1", "a": "2"},
             "matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]},
                                  {"key": "d", "operator": "DoesNotExist"}]}),
            "a=2,b=1,c in (x,y),!d")

    def test_pagination(self):
        seen = []
        cont = None
        pages = 0
        while True:
            q = {"labelSelector": "app=web", "limit": "1"}
            if cont:
                q["continue"] = cont
            lst = self.req("GET", RSL + "?" + urllib.parse.urlencode(q)).json
            pages += 1
            seen += [i["metadata"]["name"] for i in lst["items"]]
            self.assertEqual(list(lst["metadata"])[0], "resourceVersion")
            cont = lst["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(pages, 4)
        self.assertEqual(len(seen), 4)
        self.assertEqual(len(set(seen)), 4)
        self.fa.set_options(page_size={"replicasets": 3})
        lst = self.req("GET", RSL + "?labelSelector=app%3Dweb").json
        self.assertEqual(len(lst["items"]), 3)
        tok = json.loads(base64.b64decode(lst["metadata"]["continue"]))
        self.assertEqual(tok["start"], "prod/web-canary-6f9c8d7b5")
        r = self.req("GET", RSL + "?continue=%%%%")
        self.assertEqual(r.status, 400)

    def test_argo_rollout_status_subresource(self):
        r = self.req("PATCH", ROLLOUT + "/status", {"status": {"abort": True}}, ct=MP)
        self.assertEqual(r.status, 200, r.raw)
        self.assertTrue(r.json["status"]["abort"])
        self.assertEqual(r.json["metadata"]["generation"], 4)
        r = self.req("PATCH", ROLLOUT, {"status": {"abort": False}}, ct=MP)
        self.assertTrue(r.json["status"]["abort"])  # main resource ignores status
        self.fa.set_options(rollouts_status_subresource=False)
        self.assertBody(self.req("PATCH", ROLLOUT + "/status", {"status": {"abort": True}},
                                 ct=MP), 404, B_404_GENERIC)
        r = self.req("PATCH", ROLLOUT, {"status": {"abort": False}}, ct=MP)
        self.assertFalse(r.json["status"]["abort"])
        self.assertEqual(r.json["metadata"]["generation"], 5)  # no subresource: status counts
        r = self.req("PATCH", ROLLOUT, [{"op": "replace", "path": "/spec/template/spec/"
                                         "containers/0/image", "value": "registry.example/web:v1"}],
                     ct=JP)
        self.assertEqual(r.json["metadata"]["generation"], 6)
        r = self.req("GET", "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts")
        self.assertEqual(r.json["items"][0]["kind"], "Rollout")  # CRs keep kind in lists
        self.assertBody(self.req("GET", "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/x"),
                        404, '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                        '"message":"rollouts.argoproj.io \\"x\\" not found","reason":"NotFound",'
                        '"details":{"name":"x","group":"argoproj.io","kind":"rollouts"},'
                        '"code":404}')
        d = self.req("GET", ROLLOUT).json
        del d["metadata"]["resourceVersion"]
        self.assertEqual(self.req("PUT", ROLLOUT, d).status, 422)

    def test_discovery_legacy_and_aggregated(self):
        v = self.req("GET", "/api").json
        self.assertEqual(v["kind"], "APIVersions")
        g = self.req("GET", "/apis").json
        self.assertEqual(g["kind"], "APIGroupList")
        self.assertIn("coordination.k8s.io", [x["name"] for x in g["groups"]])
        for gv, res in (("/api/v1", "pods"), ("/apis/apps/v1", "deployments"),
                        ("/apis/coordination.k8s.io/v1", "leases"),
                        ("/apis/events.k8s.io/v1", "events"),
                        ("/apis/argoproj.io/v1alpha1", "rollouts")):
            rl = self.req("GET", gv).json
            self.assertEqual(rl["kind"], "APIResourceList")
            self.assertIn(res, [x["name"] for x in rl["resources"]])
        self.assertEqual(self.req("GET", "/apis/apps").json["kind"], "APIGroup")
        acc = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
               "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
               "application/json")
        r = self.req("GET", "/apis", headers={"Accept": acc})
        self.assertEqual(r.headers["content-type"],
                         "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        self.assertEqual(r.json["kind"], "APIGroupDiscoveryList")
        self.assertEqual(self.req("GET", "/version").json["gitVersion"], "v1.32.4")
        self.assertEqual(self.req("GET", "/healthz").raw, b"ok")
        r = self.req("GET", DEP, headers={"User-Agent": "curl/8.0"})
        self.assertTrue(r.raw.startswith(b'{\n  "kind": "Deployment",'))
        self.assertFalse(r.raw.endswith(b"\n"))
        r = self.req("PATCH", DEP, b"[" + b" " * (3 * 1024 * 1024) + b"]", ct=JP)
        self.assertEqual(r.status, 413)

    def test_create_delete_and_pods(self):
        pod = self.req("GET", "/api/v1/namespaces/prod/pods/web-7c5d9f8b4-x2kqp").json
        self.assertEqual(pod["status"]["podIP"], "10.244.1.17")
        r = self.req("GET", "/api/v1/namespaces/prod/pods?" + urllib.parse.urlencode(
            {"fieldSelector": "status.phase=Running", "labelSelector": "pod-template-hash"}))
        self.assertEqual(len(r.json["items"]), 2)
        r = self.req("POST", LEASES, {"metadata": {"generateName": "web-"},
                                      "spec": {"holderIdentity": "x"}})
        self.assertEqual(r.status, 201)
        name = r.json["metadata"]["name"]
        self.assertTrue(name.startswith("web-") and len(name) == 9)
        r = self.req("DELETE", LEASES + "/" + name)
        self.assertEqual(r.json["status"], "Success")
        self.assertEqual(self.req("GET", LEASES + "/" + name).status, 404)
        r = self.req("POST", LEASES, {"metadata": {}})
        self.assertEqual(r.status, 422)
        r = self.req("POST", LEASES, "{", ct="application/json")
        self.assertEqual(r.status, 400)
        r = self.req("POST", LEASES, lease_body(), headers={"Content-Type": "text/plain"})
        self.assertBody(r, 415, B_415)
        self.assertEqual(self.req("DELETE", LEASES).status, 405)

    def test_pods_list_for_the_control_and_withheld_event(self):
        """What rollback_control_pods and rollback_on_withheld rely on: a label-selected
        LIST of pods (equality and set-based, limit/continue) and 409 AlreadyExists on a
        second Event of the same name, with the real Status body; 422 on a name that is
        not a DNS subdomain."""
        pods = "/api/v1/namespaces/prod/pods"

        def pod(name, h, ready="True", ip="10.244.5.1"):
            return {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": "prod",
                                 "labels": {"app": "web", "pod-template-hash": h}},
                    "spec": {"containers": [{"name": "app", "image": "registry.example/web:v1"}]},
                    "status": {"phase": "Running", "podIP": ip,
                               "conditions": [{"type": "Ready", "status": ready}]}}
        for i in range(3):
            self.fa.put_object(pod("web-5d8f7c9b6d-s%d" % i, "5d8f7c9b6d", ip="10.244.5.%d" % i))
        self.fa.put_object(pod("web-5d8f7c9b6d-u", "5d8f7c9b6d", ready="False"))
        self.fa.put_object(dict(pod("other-1", "5d8f7c9b6d"),
                                metadata={"name": "other-1", "namespace": "prod",
                                          "labels": {"app": "other", "pod-template-hash": "1"}}))
        seen, cont, pages = [], None, 0
        while True:
            q = {"labelSelector": "app=web", "limit": "2"}
            if cont:
                q["continue"] = cont
            r = self.req("GET", pods + "?" + urllib.parse.urlencode(q))
            self.assertEqual(r.status, 200, r.raw)
            self.assertEqual(r.json["kind"], "PodList")
            pages += 1
            seen += [(i["metadata"]["name"],
                      (i["status"].get("conditions") or [{}])[0].get("status"),
                      i["status"].get("podIP")) for i in r.json["items"]]
            cont = r.json["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(pages, 3)
        names = [n for n, _, _ in seen]
        self.assertEqual(len(names), 6)  # 4 above + the seed's two pods of 7c5d9f8b4
        self.assertNotIn("other-1", names)
        self.assertIn(("web-5d8f7c9b6d-s0", "True", "10.244.5.0"), seen)
        self.assertIn(("web-5d8f7c9b6d-u", "False", "10.244.5.1"), seen)
        r = self.req("GET", pods + "?" + urllib.parse.urlencode(
            {"labelSelector": "app in (web),pod-template-hash notin (7c5d9f8b4)", "limit": "500"}))
        self.assertEqual(sorted(i["metadata"]["name"] for i in r.json["items"]),
                         ["web-5d8f7c9b6d-s0", "web-5d8f7c9b6d-s1", "web-5d8f7c9b6d-s2",
                          "web-5d8f7c9b6d-u"])
        # the withheld Event: one name for every pod of the revision
        name = "web.rollguard-withheld.7c5d9f8b4"
        ev = core_event(name=name, reason="RollbackWithheld", type="Warning")
        self.assertEqual(self.req("POST", EVENTS, ev).status, 201)
        self.assertBody(self.req("POST", EVENTS, ev), 409,
                        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                        '"message":"events \\"%s\\" already exists","reason":"AlreadyExists",'
                        '"details":{"name":"%s","kind":"events"},"code":409}' % (name, name))
        r = self.req("POST", EVENTS, core_event(name="Web_Withheld"))
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json["details"]["causes"][0]["field"], "metadata.name")

    def test_rv_monotonic_and_plain_http(self):
        rvs = []
        for i in range(3):
            r = self.req("PATCH", DEP, {"spec": {"replicas": 4 + i}}, ct=MP, plain=(i == 1))
            rvs.append(int(r.json["metadata"]["resourceVersion"]))
        self.assertEqual(rvs, sorted(set(rvs)))
        self.assertFalse(self.fa.requests(method="PATCH")[1]["tls"])
        glob = int(self.fa.dump_state()["resourceVersion"])
        self.assertGreaterEqual(glob, rvs[-1])
        rv = self.fa.touch("deployments", "prod", "web", status={"readyReplicas": 3})
        self.assertEqual(int(rv), glob + 1)
        self.assertEqual(self.dep()["status"]["readyReplicas"], 3)

    def test_scale_subresource_and_history_limit(self):
        r = self.req("GET", DEP + "/scale")
        self.assertEqual(r.json["spec"], {"replicas": 3})
        self.assertEqual(r.json["status"]["selector"], "app=web")
        r = self.req("PATCH", DEP + "/scale", {"spec": {"replicas": 5}}, ct=MP)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["spec"]["replicas"], 5)
        d = self.dep()
        self.assertEqual((d["spec"]["replicas"], d["metadata"]["generation"]), (5, 3))
        self.assertEqual(d["status"]["observedGeneration"], 3)
        rs2 = self.req("GET", RSL + "/web-7c5d9f8b4").json
        self.assertEqual(rs2["spec"]["replicas"], 5)  # controller scaled the new RS
        self.assertEqual(self.req("GET", RSL + "/web-5d8f7c9b6d").json["spec"]["replicas"], 0)
        r = self.req("PUT", DEP + "/scale", {"apiVersion": "autoscaling/v1", "kind": "Scale",
                                            "metadata": {"name": "web",
                                                         "resourceVersion": "1"},
                                            "spec": {"replicas": 2}})
        self.assertBody(r, 409, B_409_DEP)
        r = self.req("PATCH", DEP + "/scale", {"spec": {"replicas": -1}}, ct=MP)
        self.assertEqual(r.status, 422)
        # revisionHistoryLimit: 1 -> only one old RS survives the next sync
        r = self.req("PATCH", DEP, {"spec": {"revisionHistoryLimit": 1}}, ct=MP)
        self.assertEqual(r.status, 200)
        names = [i["metadata"]["name"] for i in self.req("GET", RSL).json["items"]]
        self.assertEqual(names, ["web-5d8f7c9b6d", "web-7c5d9f8b4", "web-canary-6f9c8d7b5"])

    def test_table_output(self):
        acc = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        t = self.req("GET", "/apis/apps/v1/namespaces/prod/deployments",
                     headers={"Accept": acc}).json
        self.assertEqual(t["kind"], "Table")
        self.assertEqual(t["rows"][0]["cells"][:2], ["web", "2/3"])


# --------------------------------------------------------------------------------------
# Connection-level faults, the CLI and the control API
# --------------------------------------------------------------------------------------


class Faults(Base):
    def test_delay(self):
        self.fa.add_fault(type="delay", path="/deployments/web$", delay=0.3)
        t0 = time.monotonic()
        r = self.req("GET", DEP)
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_close_mid_response(self):
        self.fa.add_fault(type="close-mid", path="/deployments/web$", method="PATCH")
        with self.assertRaises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
            self.req("PATCH", DEP, {"spec": {"replicas": 5}}, ct=MP)
        self.assertEqual(self.dep()["spec"]["replicas"], 5)  # applied before the cut
        self.fa.add_fault(type="close-mid", path="/deployments/web$", apply=False)
        with self.assertRaises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
            self.req("PATCH", DEP, {"spec": {"replicas": 6}}, ct=MP)
        self.assertEqual(self.dep()["spec"]["replicas"], 5)

    def test_drop_and_refuse(self):
        self.fa.add_fault(type="drop", path="/deployments/web$")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.req("GET", DEP)
        self.fa.add_fault(type="refuse")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError,
                                OSError)):
            self.req("GET", DEP)
        self.assertEqual(self.req("GET", DEP).status, 200)
        st = [e["status"] for e in self.fa.requests()]
        self.assertEqual(st, ["dropped", "refused", 200])

    def test_stall_delay_after_and_tls_failures(self):
        self.fa.add_fault(type="stall", path="/deployments/web$", delay=5)
        t0 = time.monotonic()
        with self.assertRaises(OSError):  # the client's timeout
            self.req("GET", DEP, timeout=0.5)
        self.assertLess(time.monotonic() - t0, 3)
        self.assertEqual([e["status"] for e in self.fa.requests()], ["stalled"])
        # delay_after: the write lands first, the answer comes later
        self.fa.add_fault(type="delay", path="/deployments/web$", method="PATCH",
                          delay_after=0.4)
        t0 = time.monotonic()
        r = self.req("PATCH", DEP, {"spec": {"replicas": 7}}, ct=MP)
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        e = self.fa.requests(method="PATCH")[-1]
        self.assertLess(e["applied_at"], e["time"] + 0.4)
        # a client trusting another CA: a failed handshake, no request
        n = len(self.fa.requests())
        ctx = ssl.create_default_context(
            cafile=os.path.join(os.path.dirname(self.fa.ca_file), "wrong-ca.crt"))
        c = http.client.HTTPSConnection("127.0.0.1", self.fa.port, context=ctx, timeout=5)
        with self.assertRaises(ssl.SSLError):
            c.request("GET", DEP, headers={"Authorization": "Bearer tok-a"})
        c.close()
        for _ in range(50):  # the server thread records it after the client gave up
            if self.fa.tls_failures():
                break
            time.sleep(0.05)
        self.assertEqual(len(self.fa.tls_failures()), 1, self.fa.tls_failures())
        self.assertEqual(len(self.fa.requests()), n)
        self.fa.clear_log()
        self.assertEqual(self.fa.tls_failures(), [])

    def test_method_query_skip_and_remove(self):
        fid = self.fa.add_fault(type="409", path="/deployments/web$", method="PATCH", skip=1,
                                times=-1)
        self.assertEqual(self.req("GET", DEP).status, 200)
        self.assertEqual(self.req("PATCH", DEP, {}, ct=MP).status, 200)
        r = self.req("PATCH", DEP, {}, ct=MP)
        self.assertBody(r, 409, B_409_DEP)
        self.assertTrue(self.fa.remove_fault(fid))
        self.assertEqual(self.req("PATCH", DEP, {}, ct=MP).status, 200)
        self.fa.add_fault(type="422", path="replicasets", query="limit=")
        self.assertEqual(self.req("GET", RSL).status, 200)
        self.assertEqual(self.req("GET", RSL + "?limit=1").status, 422)
        self.fa.add_fault(type="status", path="web$", code=418, body="teapot",
                          content_type="text/plain")
        r = self.req("GET", DEP)
        self.assertEqual((r.status, r.raw), (418, b"teapot"))

    def test_cli_and_control_api(self):
        d = tempfile.mkdtemp(prefix="fakeapi-cli-", dir=self.tmp)
        info_file = os.path.join(d, "info.json")
        tok_file = os.path.join(d, "token")
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "fakeapi.py"), "--port", "0",
                              "--state", SEED, "--tls-dir", os.path.join(self.tmp, "tls"),
                              "--token-file", tok_file, "--control-port-file", info_file,
                              "--option", "controller=false"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = p.stdout.readline()
            info = json.loads(line)
            with open(info_file) as inf:
                self.assertEqual(info, json.load(inf))
            self.assertEqual(info["pid"], p.pid)
            with open(tok_file) as f:
                tok = f.read().strip()
            cc = fakeapi.ControlClient(info["control_port"])
            self.assertFalse(cc.get_options()["controller"])
            c = http.client.HTTPSConnection("127.0.0.1", info["port"], context=self.ctx,
                                            timeout=10)
            c.request("GET", DEP, headers={"Authorization": "Bearer " + tok})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
            self.assertEqual(cc.get_object("deployments", "prod", "web")["metadata"]["uid"], DUID)
            self.assertIsNone(cc.get_object("deployments", "prod", "nope"))
            self.assertEqual(len(cc.requests()), 1)
            self.assertEqual(cc.requests(writes_only=True), [])
            fid = cc.add_fault({"type": "429-apf", "path": "web$"})
            self.assertEqual(cc.list_faults()[0]["id"], fid)
            c.request("GET", DEP, headers={"Authorization": "Bearer " + tok})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 429)
            out = cc.rotate_token("rotated", write_file=True)
            self.assertEqual(out["accepted"], ["rotated"])
            with open(tok_file) as tf:
                self.assertEqual(tf.read(), "rotated")
            c.request("GET", DEP, headers={"Authorization": "Bearer " + tok})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 401)
            cc.clear_log()
            self.assertEqual(cc.requests(), [])
            st = cc.dump_state()
            self.assertEqual(len(st["objects"]), 8)
            st["objects"] = [o for o in st["objects"] if o["kind"] != "Pod"]
            cc.load_state(st)
            self.assertEqual(cc.list_objects("pods"), [])
            self.assertTrue(cc.delete_object("replicasets", "prod", "web-84c6b5f9d7"))
            ev = core_event()
            cc.put_object(ev)
            self.assertEqual(cc.list_objects("events", "prod")[0]["reason"],
                             "DeploymentRollback")
            self.assertTrue(cc.touch("deployments", "prod", "web").isdigit())
            cc.reset()
            self.assertEqual(len(cc.list_objects("pods", "prod")), 2)
            self.assertEqual(cc.list_faults(), [])
            c.close()
        finally:
            p.terminate()
            p.wait(10)
            p.stdout.close()
            p.stderr.close()


# --------------------------------------------------------------------------------------
# The real kubectl as the reference client
# --------------------------------------------------------------------------------------

def _find_kubectl():
    env = os.environ.get("KUBECTL")
    if env:
        path = shutil.which(env)
        return (path, None) if path else (None, "KUBECTL=%s is not an executable" % env)
    path = shutil.which("kubectl")
    return (path, None) if path else (None, "kubectl not found on PATH (set KUBECTL=...)")


KUBECTL, KUBECTL_MISSING = _find_kubectl()


class Kubectl(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kdir = tempfile.mkdtemp(prefix="kubectl-", dir=cls.tmp)
        cls.kubeconfig = os.path.join(cls.kdir, "config")
        with open(cls.kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
                    "    server: %s\n    certificate-authority: %s\nusers:\n- name: u\n"
                    "  user:\n    token: tok-a\ncontexts:\n- name: c\n  context:\n"
                    "    cluster: fake\n    user: u\n    namespace: prod\n"
                    "current-context: c\n" % (cls.fa.url, cls.fa.ca_file))

    def setUp(self):
        if not KUBECTL:
            self.skipTest(KUBECTL_MISSING)
        super().setUp()

    def kubectl(self, *args, ok=True):
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, HOME=self.kdir)
        p = subprocess.run([KUBECTL, "--cache-dir", os.path.join(self.kdir, "cache")]
                           + list(args), env=env, capture_output=True, text=True, timeout=60)
        if ok:
            self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def test_get_deployment_json(self):
        p = self.kubectl("--server", self.fa.url, "--certificate-authority", self.fa.ca_file,
                         "--token", "tok-a", "get", "deployment", "web", "-n", "prod",
                         "-o", "json")
        self.assertEqual(json.loads(p.stdout), self.dep())

    def test_rollout_undo_matches_reference_and_flip_flops(self):
        p = self.kubectl("rollout", "undo", "deployment/web", "-n", "prod")
        self.assertEqual(p.stdout.strip(), "deployment.apps/web rolled back")
        patches = self.fa.requests(writes_only=True)
        self.assertEqual(len(patches), 1)
        w = patches[0]
        self.assertEqual((w["method"], w["path"], w["query"]), ("PATCH", DEP, ""))
        self.assertEqual(w["headers"]["Content-Type"], JP)
        self.assertIsNone(w["field_manager"])
        self.assertIn(w["body"], (EXPECTED_UNDO_PATCH, EXPECTED_UNDO_PATCH_OLD))
        self.assertEqual([op["op"] for op in w["json"]], ["replace", "replace"])
        reads = [(e["method"], e["path"], e["query"]) for e in self.fa.requests()
                 if e["path"].startswith("/apis/apps")]
        self.assertEqual(reads, [("GET", DEP, ""), ("GET", DEP, ""),
                                 ("GET", RSL, "labelSelector=app%3Dweb"), ("PATCH", DEP, "")])
        d = self.dep()
        rs1 = self.fa.get_object("replicasets", "prod", "web-5d8f7c9b6d")
        want = copy.deepcopy(rs1["spec"]["template"])
        del want["metadata"]["labels"]["pod-template-hash"]
        self.assertTrue(fakeapi.equal_ignore_hash(d["spec"]["template"], want))
        got = copy.deepcopy(d["spec"]["template"])
        got["metadata"].pop("creationTimestamp", None)
        self.assertEqual(got, want)
        self.assertEqual(d["metadata"]["annotations"],
                         {"deployment.kubernetes.io/revision": "3",
                          "kubernetes.io/change-cause": "image v1"})
        hist = self.kubectl("rollout", "history", "deployment/web", "-n", "prod").stdout
        self.assertEqual([ln.split()[0] for ln in hist.splitlines()[2:] if ln.strip()],
                         ["0", "2", "3"])
        # second undo rolls *forward* to the bad v2 (flip-flop)
        self.fa.clear_log()
        self.kubectl("rollout", "undo", "deployment/web", "-n", "prod")
        d = self.dep()
        self.assertEqual(d["spec"]["template"]["spec"]["containers"][0]["image"],
                         "registry.example/web:v2")
        self.assertEqual(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "4")
        body = self.fa.requests(method="PATCH")[0]["json"]
        self.assertEqual(body[1]["value"], {"deployment.kubernetes.io/revision": "3",
                                            "kubernetes.io/change-cause": "image v2"})

    def test_rollout_undo_follows_continue(self):
        self.fa.set_options(page_size={"replicasets": 1})
        self.kubectl("rollout", "undo", "deployment/web", "-n", "prod")
        lists = [e["query"] for e in self.fa.requests(method="GET", path="/replicasets$")]
        self.assertEqual(len(lists), 4)
        self.assertEqual(lists[0], "labelSelector=app%3Dweb")
        self.assertTrue(all("continue=" in q for q in lists[1:]))
        self.assertIn(self.fa.requests(method="PATCH")[0]["body"],
                      (EXPECTED_UNDO_PATCH, EXPECTED_UNDO_PATCH_OLD))

    def test_rollout_undo_refusals(self):
        self.req("PATCH", DEP, {"spec": {"paused": True}}, ct=MP)
        self.fa.clear_log()
        p = self.kubectl("rollout", "undo", "deployment/web", "-n", "prod", ok=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("you cannot rollback a paused deployment; resume it first with "
                      "'kubectl rollout resume' and try again", p.stderr)
        self.assertEqual(self.fa.requests(writes_only=True), [])
        p = self.kubectl("rollout", "undo", "deployment/web", "-n", "prod", "--to-revision=9",
                         ok=False)
        self.assertIn("unable to find specified revision 9 in history", p.stderr)
        # no previous revision: drop the other owned RSs
        self.fa.reset()
        self.fa.delete_object("replicasets", "prod", "web-5d8f7c9b6d")
        self.fa.delete_object("replicasets", "prod", "web-84c6b5f9d7")
        p = self.kubectl("rollout", "undo", "deployment/web", "-n", "prod", ok=False)
        self.assertIn('no rollout history found for deployment "web"', p.stderr)
        # 403 from the server is shown to the user
        self.fa.reset()
        self.fa.add_fault(type="403", path="/deployments/web$", method="PATCH")
        p = self.kubectl("rollout", "undo", "deployment/web", "-n", "prod", ok=False)
        self.assertIn('deployments.apps "web" is forbidden: User '
                      '"system:serviceaccount:prod:web-sidecar" cannot patch resource '
                      '"deployments" in API group "apps" in the namespace "prod"', p.stderr)

    def test_describe_shows_event(self):
        self.assertEqual(self.req("POST", EVENTS, core_event()).status, 201)
        p = self.kubectl("describe", "deployment", "web", "-n", "prod")
        out = p.stdout
        self.assertIn("NewReplicaSet:   web-7c5d9f8b4", out)
        ev = out[out.index("Events:"):]
        self.assertRegex(ev, r"Warning\s+DeploymentRollback\s+\S+\s+rollback-sidecar\s+"
                             r"Rolled back deployment \"web\" from revision 2 to revision 1")
        q = [e["query"] for e in self.fa.requests(method="GET", path="/events$")]
        self.assertEqual(len(q), 1)
        fs = urllib.parse.parse_qs(q[0])["fieldSelector"][0].split(",")
        self.assertEqual(sorted(fs), sorted(["involvedObject.name=web",
                                             "involvedObject.namespace=prod",
                                             "involvedObject.kind=Deployment",
                                             "involvedObject.uid=" + DUID]))

    def test_kubectl_scale_pause_restart(self):
        self.kubectl("scale", "deployment/web", "--replicas=4", "-n", "prod")
        self.assertEqual(self.dep()["spec"]["replicas"], 4)
        self.kubectl("rollout", "pause", "deployment/web", "-n", "prod")
        self.assertTrue(self.dep()["spec"]["paused"])
        w = self.fa.requests(method="PATCH")[-1]
        self.assertEqual((w["headers"]["Content-Type"], w["field_manager"]),
                         (SMP, "kubectl-rollout"))
        self.kubectl("rollout", "resume", "deployment/web", "-n", "prod")
        self.assertNotIn("paused", self.dep()["spec"])
        self.kubectl("rollout", "restart", "deployment/web", "-n", "prod")
        d = self.dep()
        self.assertEqual(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3")
        self.assertIn("kubectl.kubernetes.io/restartedAt",
                      d["spec"]["template"]["metadata"]["annotations"])

    def test_kubectl_get_table_and_lease(self):
        p = self.kubectl("get", "deploy,rs", "-n", "prod")
        self.assertRegex(p.stdout, r"deployment.apps/web\s+2/3")
        self.assertIn("replicaset.apps/web-5d8f7c9b6d", p.stdout)
        self.req("POST", LEASES, lease_body())
        p = self.kubectl("get", "lease", "web-rollback", "-n", "prod", "-o",
                         "jsonpath={.spec.holderIdentity}")
        self.assertEqual(p.stdout, "pod-a_1")


# --------------------------------------------------------------------------------------


def main():
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for cls in (ErrorBodies, Matrix, Semantics, Faults, Kubectl):
        suite.addTests(loader.loadTestsFromTestCase(cls))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=unittest.TextTestResult)
    t0 = time.monotonic()
    res = runner.run(suite)
    if Base.fa is not None:
        Base.fa.stop()
        shutil.rmtree(Base.tmp, ignore_errors=True)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    for test, reason in res.skipped:
        print("SKIPPED %s: %s" % (test.id(), reason))
    print("(%.1fs, %d skipped)" % (time.monotonic() - t0, skipped))
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
