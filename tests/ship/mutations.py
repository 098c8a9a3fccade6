#!/usr/bin/env python3
"""Shows that check_manifests.py can fail: each mutation breaks one rule in the
rendered production overlay, and check_manifests.py must report that rule.

  mutations.py --rendered production.json -- CHECK_MANIFESTS_ARGS...

Prints "ok   - ..." when the mutation was caught by the expected check,
"FAIL - ..." when it slipped through.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile


def dep(objs):
    return next(o for o in objs if o["kind"] == "Deployment")


def side(objs):
    return next(c for c in dep(objs)["spec"]["template"]["spec"]["containers"]
                if c["name"] == "rollguard")


def app(objs):
    return next(c for c in dep(objs)["spec"]["template"]["spec"]["containers"]
                if c["name"] != "rollguard")


def role(objs):
    return next(o for o in objs if o["kind"] == "Role")


def rule(objs, resource):
    return next(r for r in role(objs)["rules"] if resource in r["resources"])


def netpol(objs):
    return next(o for o in objs if o["kind"] == "NetworkPolicy")


def netpol_rule_from(objs, key):
    """The NetworkPolicy's ingress rule whose first peer has `key`."""
    return next(r for r in netpol(objs)["spec"]["ingress"]
                if r.get("from") and key in r["from"][0] and len(r["from"][0]) == 1)


def cm(objs):
    return next(o for o in objs if o["kind"] == "ConfigMap"
                and "rollguard.yaml" in o.get("data", {}))


def set_env(objs, name, path):
    for e in side(objs)["env"]:
        if e["name"] == name:
            e["valueFrom"]["fieldRef"]["fieldPath"] = path


def sub_cfg(objs, old, new):
    data = cm(objs)["data"]
    assert old in data["rollguard.yaml"], old
    data["rollguard.yaml"] = data["rollguard.yaml"].replace(old, new)


MUTATIONS = [
    ("app liveness initialDelay 10s", "liveness GET /health",
     lambda o: app(o)["livenessProbe"].update(initialDelaySeconds=10)),
    ("app readiness on /healthz", "readiness GET /ready",
     lambda o: app(o)["readinessProbe"]["httpGet"].update(path="/healthz")),
    ("app liveness on the app's port", "liveness GET /health",
     lambda o: app(o)["livenessProbe"]["httpGet"].update(port=3000)),
    ("sidecar liveness on /health", "sidecar liveness GET /livez",
     lambda o: side(o)["livenessProbe"]["httpGet"].update(path="/health")),
    ("POD_TEMPLATE_HASH from the wrong label", "downward-API env",
     lambda o: set_env(o, "POD_TEMPLATE_HASH", "metadata.labels['app']")),
    ("POD_NAME missing", "downward-API env",
     lambda o: side(o).update(env=[e for e in side(o)["env"] if e["name"] != "POD_NAME"])),
    ("config mounted with subPath", "mounted as a directory",
     lambda o: side(o)["volumeMounts"][0].update(subPath="rollguard.yaml")),
    ("writable root filesystem", "securityContext",
     lambda o: side(o)["securityContext"].update(readOnlyRootFilesystem=False)),
    ("a capability added", "securityContext",
     lambda o: side(o)["securityContext"]["capabilities"].update(add=["NET_ADMIN"])),
    ("privilege escalation allowed", "securityContext",
     lambda o: side(o)["securityContext"].update(allowPrivilegeEscalation=True)),
    ("runs as root", "securityContext",
     lambda o: side(o)["securityContext"].update(runAsUser=0)),
    ("seccomp Unconfined", "securityContext",
     lambda o: side(o)["securityContext"].update(seccompProfile={"type": "Unconfined"})),
    ("pod on the host network", "no host namespace",
     lambda o: dep(o)["spec"]["template"]["spec"].update(hostNetwork=True)),
    ("one process namespace for the pod", "no process namespace",
     lambda o: dep(o)["spec"]["template"]["spec"].update(shareProcessNamespace=True)),
    ("a ClusterRole bound", "no cluster-wide RBAC",
     lambda o: o.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                         "metadata": {"name": "rollguard-extra"}, "rules": []})),
    ("the RoleBinding points at a ClusterRole", "no cluster-wide RBAC",
     lambda o: [b["roleRef"].update(kind="ClusterRole") for b in o
                if b.get("kind") == "RoleBinding"]),
    ("secrets readable", "no Role grants access to secrets",
     lambda o: role(o)["rules"].append({"apiGroups": [""], "resources": ["secrets"],
                                        "verbs": ["get"]})),
    ("1Gi memory limit", "small requests and limits",
     lambda o: side(o)["resources"]["limits"].update(memory="1Gi")),
    ("revisionHistoryLimit 1", "revisionHistoryLimit",
     lambda o: dep(o)["spec"].update(revisionHistoryLimit=1)),
    ("token mounted in the app container too", "API token",
     lambda o: app(o).setdefault("volumeMounts", []).append(
         {"name": "rollguard-api", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})),
    ("deployments patch without resourceNames", "resourceNames on every",
     lambda o: rule(o, "deployments").pop("resourceNames")),
    ("a wildcard verb", "no wildcard",
     lambda o: rule(o, "pods").update(verbs=["*"])),
    ("lease create not granted", "grants every API request",
     lambda o: role(o).update(rules=[r for r in role(o)["rules"]
                                     if not ("leases" in r["resources"]
                                             and "create" in r["verbs"])])),
    ("delete deployments granted", "grants nothing the sidecar does not use",
     lambda o: rule(o, "deployments")["verbs"].append("delete")),
    ("pods list not granted", "grants every API request",
     lambda o: rule(o, "pods").update(verbs=["get"])),
    ("pods watch granted", "grants nothing the sidecar does not use",
     lambda o: rule(o, "pods")["verbs"].append("watch")),
    ("NetworkPolicy removed", "one NetworkPolicy selects the pods",
     lambda o: o.remove(netpol(o))),
    ("NetworkPolicy selecting other pods", "one NetworkPolicy selects the pods",
     lambda o: netpol(o)["spec"]["podSelector"].update(matchLabels={"app": "other"})),
    ("NetworkPolicy restricting egress", "restricts ingress only",
     lambda o: netpol(o)["spec"].update(policyTypes=["Ingress", "Egress"])),
    ("/summary admitted from another app's pods", "from the workload's own pods",
     lambda o: netpol_rule_from(o, "podSelector")["from"][0]["podSelector"].update(
         matchLabels={"app.kubernetes.io/name": "other"})),
    ("rollguard port open to every source", "from nobody else but Prometheus",
     lambda o: netpol(o)["spec"]["ingress"].append({"ports": [{"port": 8080}]})),
    ("rollguard port open to a whole namespace", "from nobody else but Prometheus",
     lambda o: netpol_rule_from(o, "podSelector")["from"].append(
         {"namespaceSelector": {}})),
    ("Prometheus not admitted", "admits Prometheus",
     lambda o: netpol(o)["spec"].update(ingress=[r for r in netpol(o)["spec"]["ingress"]
                                                 if "namespaceSelector" not in
                                                 (r.get("from") or [{}])[0]])),
    ("the app's port cut off", "leaves the app's ports open",
     lambda o: netpol(o)["spec"].update(ingress=[r for r in netpol(o)["spec"]["ingress"]
                                                 if r.get("from")])),
    ("rollguard listening on another port", "is the port 8080 it admits",
     lambda o: sub_cfg(o, 'listen: "0.0.0.0:8080"', 'listen: "0.0.0.0:9090"')),
    ("an unknown config key", "passes rollguard --check-config",
     lambda o: sub_cfg(o, "analysis:\n", "analysis:\n  windwo: 5m\n")),
    ("admin endpoint on all interfaces", "passes rollguard --check-config",
     lambda o: sub_cfg(o, 'admin_listen: "127.0.0.1:8081"', 'admin_listen: "0.0.0.0:8081"')),
    ("an out-of-range threshold", "passes rollguard --check-config",
     lambda o: sub_cfg(o, "max: 0.05", "max: 5")),
    ("production logging at info", "log level error",
     lambda o: sub_cfg(o, "level: error", "level: info")),
    ("production in dry-run", "rollback mode enforce",
     lambda o: sub_cfg(o, "mode: enforce", "mode: dry-run")),
    ("production error threshold 10%", "thresholds are the platform policy",
     lambda o: sub_cfg(o, "max: 0.05", "max: 0.10")),
]


def main():
    argv = sys.argv[1:]
    rendered = argv[argv.index("--rendered") + 1]
    rest = argv[argv.index("--") + 1:]
    with open(rendered, encoding="utf-8") as f:
        base = json.load(f)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        for name, expect, mutate in MUTATIONS:
            objs = copy.deepcopy(base)
            mutate(objs)
            path = os.path.join(d, "mutant.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(objs, f)
            r = subprocess.run(rest + ["--overlay", "production=" + path],
                               capture_output=True, text=True)
            caught = [l for l in r.stdout.splitlines()
                      if l.startswith("FAIL - ") and expect in l]
            if caught and r.returncode != 0:
                passed += 1
                print("ok   - mutation caught: %s -> %s" % (name, caught[0][7:]))
            else:
                failed += 1
                print("FAIL - mutation not caught: %s (expected a failure of '%s')"
                      % (name, expect))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
