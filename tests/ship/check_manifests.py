#!/usr/bin/env python3
"""Checks on rendered manifests that a schema cannot make.

  check_manifests.py --binary BIN --root REPO --yaml2json CMD \
      --overlay NAME=RENDERED.json ... [--argo RENDERED.json]

RENDERED.json is the output of `kubectl kustomize` as a JSON array of objects.
Every check prints "ok   - ..." or "FAIL - ..." (tests/ship/run.sh counts them).

For each overlay: the pod wiring of every workload that runs the rollguard sidecar
(the app container's probes through the sidecar, the sidecar's own liveness, the
downward-API env, the ConfigMap mounted as a directory, securityContext, small
resources, revision history), the RBAC (no wildcard; every API request of
api_calls.txt granted; nothing else granted; resourceNames wherever Kubernetes
allows them), the ConfigMap's rollguard.yaml through `rollguard --check-config`,
the environment's log level, rollback mode and thresholds, and the NetworkPolicy
(ingress only; the sidecar's port from the workload's own pods and Prometheus,
nobody else; the app's ports left open).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

SIDE = "rollguard"
CONFIG_DIR = "/etc/rollguard"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
IMAGE_UID = 65532  # the Dockerfile's USER

# What each environment must say (log.level, rollback.mode); the platform's policy
# thresholds (error rate above 5%, latency up more than 50%) where rollback is enforced.
ENVIRONMENTS = {
    "development": {"level": "debug", "mode": "dry-run"},
    "testing": {"level": "info", "mode": "dry-run"},
    "staging": {"level": "info", "mode": "enforce"},
    "production": {"level": "error", "mode": "enforce"},
}
POLICY = {"error_rate.max": 0.05, "latency.max_increase": 0.5}

# Verbs that carry an object name in the URL, so resourceNames can restrict them
# (Kubernetes RBAC): create, list, watch, deletecollection cannot.
NAMEABLE = {"get", "update", "patch", "delete"}

passed = 0
failed = 0


def ok(msg):
    global passed
    passed += 1
    print("ok   - " + msg)


def bad(msg, details=()):
    global failed
    failed += 1
    print("FAIL - " + msg)
    for d in details:
        print("    " + d)


def check(cond, msg, details=()):
    if cond:
        ok(msg)
    else:
        bad(msg, details)
    return cond


def parse_quantity(q):
    """CPU in cores or memory in bytes from a Kubernetes quantity."""
    q = str(q)
    units = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9,
             "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3}
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", q)
    if not m or m.group(2) not in units:
        raise ValueError("bad quantity %r" % q)
    return float(m.group(1)) * units[m.group(2)]


def by_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def find(objs, kind, name):
    for o in objs:
        if o.get("kind") == kind and o["metadata"]["name"] == name:
            return o
    return None


# --- API requests and RBAC ------------------------------------------------------

def load_api_calls(path):
    calls = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            target, method, url = line.split()
            calls.append((target, method, url))
    return calls


def request_attributes(method, url, names):
    """(verb, apiGroup, resource, name) as the API server's RequestInfo derives them."""
    path, _, query = url.partition("?")
    parts = [p for p in path.split("/") if p]
    if parts[0] == "api":
        group, rest = "", parts[2:]
    else:
        group, rest = parts[1], parts[3:]
    if rest[0] != "namespaces":
        raise ValueError("not a namespaced path: " + url)
    rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    if len(rest) > 2:
        resource += "/" + rest[2]
    for k, v in names.items():
        name = name.replace("{%s}" % k, v)
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}[method]
    if method == "GET" and not name:
        verb = "list"
    return verb, group, resource, name


def rule_allows(rule, verb, group, resource, name):
    return (group in rule.get("apiGroups", []) and resource in rule.get("resources", [])
            and verb in rule.get("verbs", [])
            and (not rule.get("resourceNames") or name in rule["resourceNames"]))


def check_rbac_scope(objs, label):
    """Namespaced grants only, and nothing that reads or writes Secrets."""
    cluster = ["%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objs
               if o.get("kind") in ("ClusterRole", "ClusterRoleBinding")]
    cluster += ["RoleBinding/%s -> ClusterRole/%s" % (b["metadata"]["name"], b["roleRef"]["name"])
                for b in by_kind(objs, "RoleBinding") if b["roleRef"].get("kind") != "Role"]
    check(not cluster, "%s: no cluster-wide RBAC (no ClusterRole, no binding to one)" % label,
          cluster)
    secrets = ["Role/%s: %s" % (r["metadata"]["name"], json.dumps(rule))
               for r in by_kind(objs, "Role") for rule in r.get("rules", [])
               if "secrets" in rule.get("resources", [])]
    check(not secrets, "%s: no Role grants access to secrets" % label, secrets)


def check_role(role, calls, target, owner, label):
    rules = role.get("rules", [])
    wild = [r for r in rules for k in ("apiGroups", "resources", "verbs", "resourceNames")
            if "*" in r.get(k, []) or any("*" in str(x) for x in r.get(k, []))]
    check(not wild, "%s: Role %s has no wildcard" % (label, role["metadata"]["name"]),
          [json.dumps(r) for r in wild])
    names = {"ns": "NS", "pod": "<generated pod name>", "rs": "<generated rs name>",
             "owner": owner, "lease": owner + "-rollguard"}
    needed = []
    for tgt, method, url in calls:
        if tgt in ("both", target):
            needed.append((method, url) + request_attributes(method, url, names))
    missing = [(m, u) for m, u, v, g, r, n in needed
               if not any(rule_allows(rule, v, g, r, n) for rule in rules)]
    check(not missing, "%s: Role grants every API request the sidecar makes (%d)"
          % (label, len(needed)), ["not granted: %s %s" % mu for mu in missing])
    # Nothing more: each (group, resource, verb, name) the Role grants is needed.
    extra = []
    for rule in rules:
        for g in rule.get("apiGroups", []):
            for r in rule.get("resources", []):
                for v in rule.get("verbs", []):
                    wanted = [n for _, _, nv, ng, nr, n in needed
                              if (nv, ng, nr) == (v, g, r)]
                    if not wanted:
                        extra.append("%s %s/%s" % (v, g or "core", r))
                    elif rule.get("resourceNames"):
                        for n in rule["resourceNames"]:
                            if n not in wanted:
                                extra.append("%s %s/%s %s" % (v, g or "core", r, n))
    check(not extra, "%s: Role grants nothing the sidecar does not use" % label, extra)
    # resourceNames wherever the verb carries a name known at deploy time.
    loose = []
    for m, u, v, g, r, n in needed:
        if v in NAMEABLE and not n.startswith("<generated"):
            granting = [rule for rule in rules if rule_allows(rule, v, g, r, n)]
            if any(not rule.get("resourceNames") for rule in granting):
                loose.append("%s %s/%s is granted without resourceNames [%s]"
                             % (v, g or "core", r, n))
    check(not loose, "%s: resourceNames on every name-restrictable verb" % label, loose)


def check_sources_listed(root, calls):
    """Every resource path in the C sources is one of api_calls.txt's."""
    listed = set()
    for _, _, url in calls:
        _, g, r, _ = request_attributes("GET", url, {})
        listed.add((g, r.split("/")[0]))
    found = {}
    src = os.path.join(root, "sidecar")
    pat = re.compile(r'"/api(?:s/([a-z0-9.\-]+))?/v[0-9a-z]+/namespaces/%[^/"]*s/([a-z]+)')
    for d, _, names in sorted(os.walk(src)):
        for name in sorted(names):
            if not name.endswith(".c"):
                continue
            fn = os.path.relpath(os.path.join(d, name), src)
            with open(os.path.join(d, name), encoding="utf-8", errors="replace") as f:
                for m in pat.finditer(f.read()):
                    found.setdefault((m.group(1) or "", m.group(2)), fn)
    if not found:
        bad("the C sources under sidecar/ name no Kubernetes API path")
        return
    unlisted = ["%s/%s (in sidecar/%s)" % (g or "core", r, fn)
                for (g, r), fn in sorted(found.items()) if (g, r) not in listed]
    check(not unlisted, "every API resource in the C sources (%d) is in api_calls.txt"
          % len(found), unlisted)


# --- pods -----------------------------------------------------------------------

def probe_is(p, path, port, delay=None, period=None):
    if not p or "httpGet" not in p:
        return False
    h = p["httpGet"]
    return (h.get("path") == path and h.get("port") == port
            and h.get("scheme", "HTTP") == "HTTP"
            and (delay is None or p.get("initialDelaySeconds", 0) == delay)
            and (period is None or p.get("periodSeconds", 10) == period))


def check_pod(label, wl, objs, hash_label):
    spec = wl["spec"]
    pod = spec["template"]["spec"]
    containers = {c["name"]: c for c in pod.get("containers", [])}
    side = containers.get(SIDE)
    if not check(side is not None, "%s: has the rollguard sidecar container" % label):
        return
    apps = [c for n, c in containers.items() if n != SIDE]
    check(len(apps) >= 1, "%s: has an app container" % label)
    for a in apps:
        check(probe_is(a.get("livenessProbe"), "/health", 8080, 30, 10),
              "%s: app %s liveness GET /health :8080 initialDelay 30s period 10s"
              % (label, a["name"]), [json.dumps(a.get("livenessProbe"))])
        check(probe_is(a.get("readinessProbe"), "/ready", 8080, 5, 5),
              "%s: app %s readiness GET /ready :8080 initialDelay 5s period 5s"
              % (label, a["name"]), [json.dumps(a.get("readinessProbe"))])
    check(probe_is(side.get("livenessProbe"), "/livez", 8080),
          "%s: sidecar liveness GET /livez :8080" % label, [json.dumps(side.get("livenessProbe"))])
    ports = [p for p in side.get("ports", []) if p.get("containerPort") == 8080]
    check(bool(ports) and ports[0].get("name") == "rollguard",
          "%s: sidecar declares port 8080 named rollguard" % label)

    env = {e["name"]: e for e in side.get("env", [])}
    want = {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace",
            "POD_TEMPLATE_HASH": "metadata.labels['%s']" % hash_label}
    wrong = []
    for k, path in want.items():
        got = env.get(k, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if got != path:
            wrong.append("%s: fieldRef %r, want %r" % (k, got, path))
    check(not wrong, "%s: downward-API env POD_NAME, POD_NAMESPACE, POD_TEMPLATE_HASH (%s)"
          % (label, hash_label), wrong)

    vols = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = [m for m in side.get("volumeMounts", []) if m.get("mountPath") == CONFIG_DIR]
    cm_name = None
    if mounts:
        m = mounts[0]
        cm_name = vols.get(m["name"], {}).get("configMap", {}).get("name")
    problems = []
    if not mounts:
        problems.append("nothing mounted at " + CONFIG_DIR)
    else:
        if "subPath" in mounts[0] or "subPathExpr" in mounts[0]:
            problems.append("mounted with subPath: the kubelet never updates it")
        if not mounts[0].get("readOnly"):
            problems.append("not readOnly")
        if not cm_name:
            problems.append("the volume is not a ConfigMap")
        elif vols[mounts[0]["name"]]["configMap"].get("items"):
            problems.append("the volume picks items; mount the whole ConfigMap")
    cm = find(objs, "ConfigMap", cm_name) if cm_name else None
    if cm_name and (cm is None or "rollguard.yaml" not in cm.get("data", {})):
        problems.append("ConfigMap %s with key rollguard.yaml is not rendered" % cm_name)
    check(not problems, "%s: ConfigMap %s mounted as a directory at %s"
          % (label, cm_name, CONFIG_DIR), problems)

    sa_mounts = [m for m in side.get("volumeMounts", []) if m.get("mountPath") == SA_DIR]
    app_sa = [a["name"] for a in apps for m in a.get("volumeMounts", [])
              if m.get("mountPath") == SA_DIR]
    check(sa_mounts and pod.get("automountServiceAccountToken") is False and not app_sa,
          "%s: API token mounted in the sidecar only" % label)

    sc = side.get("securityContext", {})
    psc = pod.get("securityContext", {})
    problems = []
    if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
        problems.append("runAsNonRoot is not true")
    if sc.get("runAsUser", psc.get("runAsUser", 1)) == 0:
        problems.append("runAsUser 0")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if sc.get("privileged"):
        problems.append("privileged")
    caps = sc.get("capabilities", {})
    if "ALL" not in caps.get("drop", []) or caps.get("add"):
        problems.append("capabilities: %r (want drop [ALL], no add)" % caps)
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    if uid != IMAGE_UID:
        problems.append("runAsUser %r (want the image's user %d)" % (uid, IMAGE_UID))
    # On the container itself: README tells to copy the container into other pods.
    seccomp = sc.get("seccompProfile", {}).get("type")
    if seccomp != "RuntimeDefault":
        problems.append("container seccompProfile %r (want RuntimeDefault)" % seccomp)
    check(not problems, "%s: sidecar securityContext non-root (UID %d), read-only root, no "
          "escalation, all capabilities dropped, seccomp RuntimeDefault" % (label, IMAGE_UID),
          problems)
    # On the node's namespaces, admin_listen's loopback would be the node's loopback; with
    # one process namespace, the app container could reach the sidecar's token via /proc.
    shared = [k for k in ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace")
              if pod.get(k)]
    check(not shared, "%s: pod shares no host namespace and no process namespace" % label,
          shared)

    res = side.get("resources", {})
    problems = []
    try:
        req, lim = res.get("requests", {}), res.get("limits", {})
        for k in ("cpu", "memory"):
            if k not in req or k not in lim:
                problems.append("%s request and limit both needed" % k)
        if "cpu" in lim and parse_quantity(lim["cpu"]) > 0.25:
            problems.append("cpu limit %s > 250m" % lim["cpu"])
        if "memory" in lim and parse_quantity(lim["memory"]) > 128 * 1024 ** 2:
            problems.append("memory limit %s > 128Mi" % lim["memory"])
        for k in ("cpu", "memory"):
            if k in req and k in lim and parse_quantity(req[k]) > parse_quantity(lim[k]):
                problems.append("%s request above limit" % k)
    except ValueError as e:
        problems.append(str(e))
    check(not problems, "%s: sidecar has small requests and limits (%s)"
          % (label, json.dumps(res, sort_keys=True)), problems)

    rhl = spec.get("revisionHistoryLimit", 10)
    check(rhl > 1, "%s: revisionHistoryLimit %d > 1 (an undo has a target)" % (label, rhl))

    sa = pod.get("serviceAccountName", "default")
    ns = wl["metadata"].get("namespace")
    bindings = [b for b in by_kind(objs, "RoleBinding")
                if any(s.get("kind") == "ServiceAccount" and s.get("name") == sa
                       and s.get("namespace") == ns for s in b.get("subjects", []))]
    roles = [find(objs, "Role", b["roleRef"]["name"]) for b in bindings
             if b["roleRef"].get("kind") == "Role"]
    roles = [r for r in roles if r]
    check(find(objs, "ServiceAccount", sa) is not None and len(roles) == 1,
          "%s: ServiceAccount %s exists and is bound to one Role in namespace %s"
          % (label, sa, ns))
    return cm, roles[0] if roles else None


# --- NetworkPolicy --------------------------------------------------------------

# The Prometheus Operator labels its Prometheus pods so; the PodMonitor's scrapes
# come from them.
PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus"}


def port_matches(entry, container_port):
    """Does a NetworkPolicy port entry cover this containerPort (number or name)?"""
    if entry.get("protocol", "TCP") != container_port.get("protocol", "TCP"):
        return False
    p = entry.get("port")
    if p is None:
        return True
    if isinstance(p, str):
        return p == container_port.get("name")
    end = entry.get("endPort", p)
    return p <= container_port["containerPort"] <= end


def rule_covers(rule, container_port):
    ports = rule.get("ports")
    return not ports or any(port_matches(e, container_port) for e in ports)


def listen_port(cfg, key, default):
    v = dig(cfg, key)
    if v is None:
        return default
    if isinstance(v, int):
        return v
    m = re.search(r":(\d+)$", str(v))
    return int(m.group(1)) if m else None


def check_network_policy(label, wl, objs, cfg):
    """The NetworkPolicy of the workload: ingress only; the sidecar's port from the
    workload's own pods (GET /summary) and from Prometheus, nobody else; the app's
    ports left as open as without a policy."""
    sel = wl["spec"]["selector"].get("matchLabels", {})
    tmpl = wl["spec"]["template"]["metadata"].get("labels", {})
    ns = wl["metadata"].get("namespace")
    pols = [p for p in by_kind(objs, "NetworkPolicy")
            if p["metadata"].get("namespace") == ns
            and not p["spec"].get("podSelector", {}).get("matchExpressions")
            and all(tmpl.get(k) == v
                    for k, v in p["spec"].get("podSelector", {}).get("matchLabels", {}).items())]
    if not check(len(pols) == 1 and pols[0]["spec"]["podSelector"].get("matchLabels") == sel,
                 "%s: one NetworkPolicy selects the pods by the Deployment's selector %s"
                 % (label, json.dumps(sel, sort_keys=True)),
                 ["NetworkPolicy %s podSelector %s" % (p["metadata"]["name"],
                                                       json.dumps(p["spec"]["podSelector"]))
                  for p in pols] or ["none selects the pods"]):
        return
    pol = pols[0]
    name = pol["metadata"]["name"]
    spec = pol["spec"]
    check(spec.get("policyTypes") == ["Ingress"] and "egress" not in spec,
          "%s: NetworkPolicy %s restricts ingress only (egress unrestricted)" % (label, name),
          ["policyTypes %r%s" % (spec.get("policyTypes"),
                                 ", egress rules" if "egress" in spec else "")])
    rules = spec.get("ingress", [])
    containers = wl["spec"]["template"]["spec"]["containers"]
    side = [c for c in containers if c["name"] == SIDE][0]
    side_ports = [p for p in side.get("ports", []) if p.get("name") == "rollguard"]
    if not check(bool(side_ports), "%s: NetworkPolicy %s: the sidecar has a port named rollguard"
                 % (label, name)):
        return
    sp = side_ports[0]
    port = sp["containerPort"]
    # What the sidecar serves and asks its peers on: listen, and analysis.control.port
    # (0 or absent: the listen port).
    want = {listen_port(cfg, "listen", 8080)}
    control = dig(cfg, "analysis.control.port")
    if control:
        want.add(control)
    check(want == {port}, "%s: NetworkPolicy %s: rollguard.yaml's listen (and "
          "analysis.control.port) is the port %d it admits" % (label, name, port),
          ["rollguard.yaml ports %s, the sidecar's port rollguard is %d" % (sorted(want), port)])

    def same_workload(peer):
        return (set(peer) == {"podSelector"}
                and peer["podSelector"].get("matchLabels") == sel
                and not peer["podSelector"].get("matchExpressions"))

    def prometheus(peer):
        return (set(peer) == {"namespaceSelector", "podSelector"}
                and peer["podSelector"].get("matchLabels") == PROMETHEUS_POD
                and bool(peer["namespaceSelector"].get("matchLabels")
                         or peer["namespaceSelector"].get("matchExpressions")))

    covering = [r for r in rules if rule_covers(r, sp)]
    peers = [peer for r in covering for peer in r.get("from", [])]
    check(any(same_workload(p) for p in peers),
          "%s: NetworkPolicy %s admits port %d/TCP from the workload's own pods (/summary)"
          % (label, name, port), [json.dumps(r) for r in covering] or ["no rule covers it"])
    loose = ["a rule with no `from` (every source): %s" % json.dumps(r)
             for r in covering if not r.get("from")]
    loose += ["peer %s" % json.dumps(p) for p in peers
              if not same_workload(p) and not prometheus(p)]
    check(not loose, "%s: NetworkPolicy %s admits port %d/TCP from nobody else but Prometheus"
          % (label, name, port), loose)
    if by_kind(objs, "PodMonitor"):
        check(any(prometheus(p) for p in peers),
              "%s: NetworkPolicy %s admits Prometheus (PodMonitor rendered) on port %d"
              % (label, name, port),
              ["want a peer with a namespaceSelector and podSelector %s"
               % json.dumps(PROMETHEUS_POD)])
    cut = []
    for c in containers:
        if c["name"] == SIDE:
            continue
        for cp in c.get("ports", []):
            if not any(rule_covers(r, cp) and not r.get("from") for r in rules):
                cut.append("%s port %s/%d" % (c["name"], cp.get("name", "-"), cp["containerPort"]))
    check(not cut, "%s: NetworkPolicy %s leaves the app's ports open" % (label, name), cut)


def image_tag(side):
    image = side.get("image", "")
    return image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""


# --- config ----------------------------------------------------------------------

def yaml_to_obj(yaml2json, text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
        name = f.name
    try:
        out = subprocess.run(yaml2json + [name], capture_output=True, text=True, check=True)
        docs = json.loads(out.stdout)
        return docs[0] if docs else {}
    finally:
        os.unlink(name)


def check_config(label, cm, binary):
    text = cm["data"]["rollguard.yaml"]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "rollguard.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        r = subprocess.run([binary, "--check-config", "--config", path],
                           capture_output=True, text=True)
    check(r.returncode == 0, "%s: ConfigMap %s rollguard.yaml passes rollguard --check-config"
          % (label, cm["metadata"]["name"]),
          (r.stdout + r.stderr).strip().splitlines())


def dig(cfg, dotted):
    for k in dotted.split("."):
        if not isinstance(cfg, dict) or k not in cfg:
            return None
        cfg = cfg[k]
    return cfg


def check_environment(env, cfg, replicas):
    want = ENVIRONMENTS[env]
    level = dig(cfg, "log.level")
    mode = dig(cfg, "rollback.mode")
    check(level == want["level"], "%s: log level %s" % (env, want["level"]),
          ["log.level is %r" % level])
    check(mode == want["mode"], "%s: rollback mode %s" % (env, want["mode"]),
          ["rollback.mode is %r" % mode])
    check(dig(cfg, "rollback.target") in (None, "deployment"),
          "%s: rollback target deployment" % env)
    if want["mode"] == "enforce":
        wrong = ["analysis.%s is %r, policy %r" % (k, dig(cfg, "analysis." + k), v)
                 for k, v in POLICY.items() if dig(cfg, "analysis." + k) != v]
        check(not wrong, "%s: thresholds are the platform policy (errors > 5%%, latency +50%%)"
              % env, wrong)
    quorum = dig(cfg, "rollback.quorum") or "auto"
    if quorum == "auto":  # a majority of the new revision's pods: never more than there are
        quorum = replicas // 2 + 1
    check(quorum <= replicas, "%s: rollback quorum %d <= replicas %d" % (env, quorum, replicas))


# --- Argo Rollouts ---------------------------------------------------------------

def check_argo(objs, calls, binary, yaml2json, version):
    rollouts = {o["metadata"]["name"]: o for o in by_kind(objs, "Rollout")}
    templates = {o["metadata"]["name"]: o for o in by_kind(objs, "AnalysisTemplate")}
    services = {o["metadata"]["name"] for o in by_kind(objs, "Service")}
    check_rbac_scope(objs, "argo")
    check(set(rollouts) == {"api-gateway", "calculation-engine"},
          "argo: Rollouts api-gateway and calculation-engine", [str(sorted(rollouts))])

    bg = rollouts.get("api-gateway", {}).get("spec", {}).get("strategy", {}).get("blueGreen")
    problems = []
    if not bg:
        problems.append("api-gateway has no blueGreen strategy")
    else:
        for k in ("activeService", "previewService"):
            if bg.get(k) not in services:
                problems.append("%s %r is not a rendered Service" % (k, bg.get(k)))
        if bg.get("autoPromotionEnabled") is not False:
            problems.append("autoPromotionEnabled is not false")
        if bg.get("scaleDownDelaySeconds") != 30:
            problems.append("scaleDownDelaySeconds is %r" % bg.get("scaleDownDelaySeconds"))
        pre = [t["templateName"] for t in bg.get("prePromotionAnalysis", {}).get("templates", [])]
        if pre != ["success-rate"]:
            problems.append("prePromotionAnalysis templates %r" % pre)
    check(not problems, "argo: api-gateway blue-green (active/preview, manual promotion, "
          "scaleDownDelaySeconds 30, prePromotionAnalysis success-rate)", problems)

    cn = rollouts.get("calculation-engine", {}).get("spec", {}).get("strategy", {}).get("canary")
    problems = []
    if not cn:
        problems.append("calculation-engine has no canary strategy")
    else:
        steps = cn.get("steps", [])
        want = [{"setWeight": 10}, {"pause": {"duration": "5m"}}, {"setWeight": 25},
                {"pause": {"duration": "5m"}}, {"setWeight": 50}, {"pause": {"duration": "5m"}},
                {"setWeight": 100}]
        if steps != want:
            problems.append("steps %s" % json.dumps(steps))
        bgs = [t["templateName"] for t in cn.get("analysis", {}).get("templates", [])]
        if bgs != ["success-rate"]:
            problems.append("background analysis templates %r" % bgs)
        for k in ("canaryService", "stableService"):
            if k in cn and cn[k] not in services:
                problems.append("%s %r is not a rendered Service" % (k, cn[k]))
    check(not problems, "argo: calculation-engine canary 10/25/50/100 with 5m pauses and "
          "success-rate analysis", problems)

    t = templates.get("success-rate")
    problems = []
    if not t:
        problems.append("no AnalysisTemplate success-rate")
    else:
        for m in t["spec"].get("metrics", []):
            web = m.get("provider", {}).get("web")
            if not web:
                problems.append("metric %s does not use the web provider" % m.get("name"))
                continue
            if not re.search(r":8080/status$", web.get("url", "")):
                problems.append("metric %s url %r is not the sidecar's :8080/status"
                                % (m.get("name"), web.get("url")))
            if not web.get("jsonPath"):
                problems.append("metric %s has no jsonPath" % m.get("name"))
    check(not problems, "argo: AnalysisTemplate success-rate reads the sidecar's /status "
          "with the web provider", problems)

    for name, ro in sorted(rollouts.items()):
        label = "argo %s" % name
        got = check_pod(label, ro, objs, "rollouts-pod-template-hash")
        if not got:
            continue
        cm, role = got
        if cm:
            check_config(label, cm, binary)
            cfg = yaml_to_obj(yaml2json, cm["data"]["rollguard.yaml"])
            check(dig(cfg, "rollback.target") == "argo-rollout",
                  "%s: sidecar configured with rollback.target argo-rollout" % label)
        if role:
            check_role(role, calls, "argo-rollout", name, label)
        side = [c for c in ro["spec"]["template"]["spec"]["containers"] if c["name"] == SIDE][0]
        check(image_tag(side) == version, "%s: sidecar image tag is VERSION %s" % (label, version),
              ["image %s" % side.get("image")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--yaml2json", required=True, help="command that prints a YAML file as JSON")
    ap.add_argument("--overlay", action="append", default=[])
    ap.add_argument("--argo")
    a = ap.parse_args()
    yaml2json = a.yaml2json.split()
    with open(os.path.join(a.root, "VERSION"), encoding="utf-8") as f:
        version = f.read().strip()
    calls = load_api_calls(os.path.join(a.root, "tests/ship/api_calls.txt"))
    check_sources_listed(a.root, calls)

    for spec in a.overlay:
        env, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as f:
            objs = json.load(f)
        deps = by_kind(objs, "Deployment")
        guarded = [d for d in deps if any(c["name"] == SIDE for c in
                                          d["spec"]["template"]["spec"]["containers"])]
        if not check(len(guarded) >= 1, "%s: renders a Deployment with the sidecar" % env):
            continue
        check_rbac_scope(objs, env)
        for d in guarded:
            label = "%s %s" % (env, d["metadata"]["name"])
            got = check_pod(label, d, objs, "pod-template-hash")
            if not got:
                continue
            cm, role = got
            if role:
                check_role(role, calls, "deployment", d["metadata"]["name"], label)
            if cm:
                check_config(label, cm, a.binary)
                cfg = yaml_to_obj(yaml2json, cm["data"]["rollguard.yaml"])
                check_environment(env, cfg, d["spec"].get("replicas", 1))
                check_network_policy(label, d, objs, cfg)
            side = [c for c in d["spec"]["template"]["spec"]["containers"]
                    if c["name"] == SIDE][0]
            check(image_tag(side) == version,
                  "%s: sidecar image tag is VERSION %s" % (label, version),
                  ["image %s" % side.get("image")])
    if a.argo:
        with open(a.argo, encoding="utf-8") as f:
            check_argo(json.load(f), calls, a.binary, yaml2json, version)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
