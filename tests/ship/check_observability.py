#!/usr/bin/env python3
"""Alerts, dashboard and the Argo analysis checked against the real binary.

  check_observability.py --binary build/rollguard --root REPO \
      --rendered production.json --argo argo.json

1. The PrometheusRule's groups pass `promtool check rules` and the unit tests in
   alerts_test.yaml (`promtool test rules`); every alert has a severity, a summary,
   a description and a runbook anchor that exists in README.md.
2. The dashboard parses, is the same in the source file and the rendered ConfigMap,
   and every panel queries through the templated Prometheus datasource.
3. A live run: build/rollguard with a fake app (40% of its requests fail) and the
   fake Kubernetes API server (tests/fakeapi) seeded with the rendered production
   Deployment, in enforce mode. It must roll the Deployment back by itself; then
     - every metric and label the alerts and the dashboard use is on its /metrics
       (the missing ones are named);
     - the AnalysisTemplate's jsonPath finds a verdict in its /status;
     - every API request it made (the fake server's log) is allowed by the rendered
       production Role.
"""
import argparse
import copy
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "pylib"))
from rgtest.fakeapp import FakeApp  # noqa: E402  (shared helpers: tests/pylib)
from rgtest.net import free_port, get  # noqa: E402
from rgtest.traffic import Traffic  # noqa: E402

passed = 0
failed = 0

# Labels that Prometheus (the PodMonitor) adds to every scraped series.
TARGET_LABELS = {"namespace", "pod", "container", "app", "pod_template_hash", "job",
                 "instance", "endpoint", "service", "le"}
# Labels whose values are open-ended (an HTTP code appears once it has been seen):
# their values are not checked against one scrape.
OPEN_LABELS = {"code", "hash", "version", "revision", "path"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                "unless", "bool", "offset"}


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
    (ok if cond else (lambda m: bad(m, details)))(msg)
    return cond


def by_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


# --- 1. rules ------------------------------------------------------------------------

def slugs(markdown):
    """GitHub-style anchors of the Markdown headings."""
    out = set()
    for line in markdown.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            s = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(s)
    return out


def check_rules(objs, root, work):
    rules = by_kind(objs, "PrometheusRule")
    if not check(len(rules) == 1, "one PrometheusRule rendered"):
        return []
    groups = rules[0]["spec"]["groups"]
    path = os.path.join(work, "rules.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"groups": groups}, f)
    r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    n = sum(len(g["rules"]) for g in groups)
    check(r.returncode == 0, "promtool check rules: %d rules in %d groups" % (n, len(groups)),
          (r.stdout + r.stderr).strip().splitlines())
    shutil.copy(os.path.join(root, "tests/ship/alerts_test.yaml"), work)
    r = subprocess.run(["promtool", "test", "rules", "alerts_test.yaml"], capture_output=True,
                       text=True, cwd=work)
    check(r.returncode == 0, "promtool test rules: alerts fire (and stay quiet) as alerts_test.yaml says",
          (r.stdout + r.stderr).strip().splitlines()[-40:])
    deploy_md = os.path.join(root, "README.md")
    anchors = slugs(open(deploy_md, encoding="utf-8").read()) if os.path.exists(deploy_md) else set()
    problems = []
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    want = {"RollguardRollbackTriggered", "RollguardVerdictFailRollbackSkipped",
            "RollguardKubeAPIErrors", "RollguardConfigReloadFailed", "RollguardAppLivenessFailing",
            "RollguardMetricsUnreadable", "RollguardRollbackWithheld"}
    missing = want - {a["alert"] for a in alerts}
    if missing:
        problems.append("missing alerts: " + ", ".join(sorted(missing)))
    for a in alerts:
        if a.get("labels", {}).get("severity") not in ("info", "warning", "critical"):
            problems.append("%s: no severity" % a["alert"])
        ann = a.get("annotations", {})
        for k in ("summary", "description", "runbook"):
            if not ann.get(k):
                problems.append("%s: no %s" % (a["alert"], k))
        rb = ann.get("runbook", "")
        if "#" in rb and rb.split("#", 1)[1] not in anchors:
            problems.append("%s: runbook anchor %s is not a heading of README.md"
                            % (a["alert"], rb))
    check(not problems, "alerts cover rollbacks, FAIL-but-skipped, withheld rollbacks, API errors, "
          "config reloads and probes, each with severity, summary, description and a runbook in README.md",
          problems)
    return [("alert " + a["alert"], a["expr"]) for a in alerts]


# --- 2. dashboard --------------------------------------------------------------------

def check_dashboard(objs, root):
    src = os.path.join(root, "k8s/components/monitoring/dashboards/rollguard.json")
    try:
        with open(src, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        bad("dashboard JSON parses: %s" % e)
        return []
    ok("dashboard JSON parses (%s)" % src.split(root + "/", 1)[-1])
    cms = [o for o in by_kind(objs, "ConfigMap") if "rollguard.json" in o.get("data", {})]
    check(len(cms) == 1 and json.loads(cms[0]["data"]["rollguard.json"]) == dash
          and cms[0]["metadata"].get("labels", {}).get("grafana_dashboard") == "1",
          "dashboard ConfigMap (label grafana_dashboard) carries the same JSON")
    exprs = []
    problems = []

    def walk(panels):
        for p in panels:
            if p.get("type") == "row":
                walk(p.get("panels", []))
                continue
            ds = p.get("datasource", {})
            if ds.get("uid") != "${datasource}":
                problems.append("panel %r does not use the $datasource variable" % p.get("title"))
            targets = p.get("targets", [])
            if not targets:
                problems.append("panel %r has no query" % p.get("title"))
            for t in targets:
                if not t.get("expr"):
                    problems.append("panel %r: a target without expr" % p.get("title"))
                else:
                    exprs.append(("panel %r" % p.get("title"), t["expr"]))
    walk(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            m = re.match(r"label_values\((.*),\s*(\w+)\)$", q)
            if m:
                exprs.append(("variable $%s" % v["name"], m.group(1)))
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("expr"):
            exprs.append(("annotation %r" % a.get("name"), a["expr"]))
    titles = " ".join(p.get("title", "").lower() for p in dash.get("panels", []))
    for word in ("error rate", "latency", "verdict", "rollback", "probe latency"):
        if word not in titles:
            problems.append("no panel about %s" % word)
    check(not problems and exprs, "dashboard: %d queries on the $datasource variable; panels for "
          "error rate and latency vs baseline, verdicts, rollbacks, probe latency" % len(exprs),
          problems)
    return exprs


# --- PromQL references ---------------------------------------------------------------

def references(expr):
    """[(metric, {label: value-or-None}), ...] and the grouping labels of a PromQL text."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: m.group(0).replace("(", "").replace(")", ""),
                  expr)
    refs = []
    for m in re.finditer(r"\b(rollguard_[a-zA-Z0-9_]+)\s*(\{[^}]*\})?", expr):
        matchers = {}
        if m.group(2):
            for lm in re.finditer(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', m.group(2)):
                matchers.setdefault(lm.group(1), []).append((lm.group(2), lm.group(3)))
        refs.append((m.group(1), matchers))
    grouping = set()
    for m in re.finditer(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        grouping |= {x.strip() for x in m.group(1).split(",") if x.strip()}
    for m in re.finditer(r"\{\{\s*(\w+)\s*\}\}", expr):
        grouping.add(m.group(1))
    return refs, grouping


# --- 3. live run ---------------------------------------------------------------------

def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_for(wl, ns):
    """The Deployment or Rollout at revision 2, two minutes into its rollout, its two
    ReplicaSets and a pod of the new one, as the API server would hold them."""
    name = wl["metadata"]["name"]
    argo = wl["kind"] == "Rollout"
    hash_label = "rollouts-pod-template-hash" if argo else "pod-template-hash"
    rev_ann = "rollout.argoproj.io/revision" if argo else "deployment.kubernetes.io/revision"
    now = datetime.datetime.now(datetime.timezone.utc)
    wl_uid = "d0000000-0000-4000-8000-000000000001"
    old_hash, new_hash = "6d4b8c7f95", "7f9c5d8b46"
    sel = wl["spec"]["selector"]["matchLabels"]
    replicas = wl["spec"].get("replicas", 1)
    d = copy.deepcopy(wl)
    d["metadata"].update(uid=wl_uid, generation=2, resourceVersion="1000",
                         creationTimestamp=rfc3339(now - datetime.timedelta(days=1)))
    d["metadata"].setdefault("annotations", {})[rev_ann] = "2"
    if argo:
        d["status"] = {"phase": "Progressing", "currentPodHash": new_hash, "stableRS": old_hash,
                       "observedGeneration": "2", "replicas": replicas}
    else:
        d["status"] = {"observedGeneration": 2, "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas}
    objs = [d]
    owner = {"apiVersion": wl["apiVersion"], "kind": wl["kind"], "name": name, "uid": wl_uid,
             "controller": True, "blockOwnerDeletion": True}

    def rs(h, rev, age, image_tag):
        t = copy.deepcopy(wl["spec"]["template"])
        t["metadata"].setdefault("labels", {})[hash_label] = h
        app = t["spec"]["containers"][0]
        app["image"] = app["image"].rsplit(":", 1)[0] + ":" + image_tag
        return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "%s-%s" % (name, h), "namespace": ns,
                             "uid": "e0000000-0000-4000-8000-00000000000%d" % rev,
                             "resourceVersion": "90%d" % rev, "generation": 1,
                             "creationTimestamp": rfc3339(now - age),
                             "labels": dict(sel, **{hash_label: h}),
                             "annotations": {rev_ann: str(rev)},
                             "ownerReferences": [owner]},
                "spec": {"replicas": replicas,
                         "selector": {"matchLabels": dict(sel, **{hash_label: h})},
                         "template": t},
                "status": {"replicas": replicas}}
    new_tag = wl["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[-1]
    objs.append(rs(old_hash, 1, datetime.timedelta(days=1), "0.9.0"))
    objs.append(rs(new_hash, 2, datetime.timedelta(minutes=2), new_tag))
    pod_name = "%s-%s-x2kqp" % (name, new_hash)
    objs.append({"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": pod_name, "namespace": ns,
                              "generateName": "%s-%s-" % (name, new_hash),
                              "uid": "f0000000-0000-4000-8000-000000000001",
                              "resourceVersion": "950",
                              "creationTimestamp": rfc3339(now - datetime.timedelta(minutes=2)),
                              "labels": dict(sel, **{hash_label: new_hash}),
                              "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                   "name": "%s-%s" % (name, new_hash),
                                                   "uid": "e0000000-0000-4000-8000-000000000002",
                                                   "controller": True,
                                                   "blockOwnerDeletion": True}]},
                 "spec": copy.deepcopy(wl["spec"]["template"]["spec"]),
                 "status": {"phase": "Running", "podIP": "127.0.0.1"}})
    return {"resourceVersion": "1000", "objects": objs}, pod_name, new_hash


def live_run(root, binary, wl, work, target):
    """Run the daemon against the fakes; return (metrics text, status JSON, API log, how)."""
    from rgtest.scene import FakeAPI  # the project's fake API server (tests/fakeapi)

    helptext = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    kube_client = "rollguard rollback" in helptext
    ns = wl["metadata"]["namespace"]
    seed, pod_name, new_hash = seed_for(wl, ns)
    app = FakeApp().start()  # /healthz, /ready 200; 200 requests/s, 40 % of them 500
    traffic = Traffic(app, rate=200, errors=0.4)
    work = os.path.join(work, target)
    sa_dir = os.path.join(work, "sa")
    os.makedirs(sa_dir)
    fa = FakeAPI(seed, tls_dir=os.path.join(work, "..", "tls"), tokens=["live-check-token"])
    fa.start()
    proc = None
    try:
        with open(os.path.join(sa_dir, "token"), "w") as f:
            f.write(fa.token)
        shutil.copy(fa.ca_file, os.path.join(sa_dir, "ca.crt"))
        with open(os.path.join(sa_dir, "namespace"), "w") as f:
            f.write(ns)
        port, admin = free_port(), free_port()
        base = "http://127.0.0.1:%d" % app.port
        cfg = os.path.join(work, "rollguard.yaml")
        with open(cfg, "w") as f:
            f.write("""listen: "127.0.0.1:%d"
admin_listen: "127.0.0.1:%d"
log: {level: info, format: json}
app:
  liveness: {http: {url: "%s/healthz"}, period: 1s}
  readiness: {http: {url: "%s/ready"}, period: 1s}
  metrics: {url: "%s/metrics", interval: 1s, timeout: 500ms}
analysis:
  interval: 1s
  window: 5s
  warmup: 0s
  baseline_window: 10s
  error_rate: {max: 0.05, min_requests: 20}
  latency: {min_samples: 20}
  consecutive_breaches: 2
rollback: {mode: enforce, target: %s, guard_window: 30m, quorum: 1}
kubernetes: {api_server: "%s", service_account_dir: "%s"}
""" % (port, admin, base, base, base, target, fa.url, sa_dir))
        env = dict(os.environ, POD_NAME=pod_name, POD_NAMESPACE=ns, POD_TEMPLATE_HASH=new_hash)
        env.pop("KUBERNETES_SERVICE_HOST", None)
        log = open(os.path.join(work, "daemon.log"), "w")
        proc = subprocess.Popen([binary, "--config", cfg], env=env, stdout=log, stderr=log)
        started = time.time()
        url = "http://127.0.0.1:%d" % port
        how = "none"
        # A daemon without the Kubernetes client never sends a request: no wait.
        deadline = time.time() + (15 if kube_client else 0)
        while time.time() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if fa.requests(method="PATCH"):
                how = "automatic (FAIL verdict)"
                break
        if how == "none" and proc.poll() is None and kube_client:
            # No automatic undo: ask for one the way an operator would.
            try:
                req = urllib.request.Request("http://127.0.0.1:%d/rollback" % admin, data=b"",
                                             method="POST")
                manual = urllib.request.urlopen(req, timeout=5).read().decode().strip()
            except Exception as e:  # noqa: BLE001 - reported with the result
                manual = "POST /rollback: %s" % e
            deadline = time.time() + 10
            while time.time() < deadline and not fa.requests(method="PATCH"):
                time.sleep(0.5)
            how = "manual (POST /rollback)" if fa.requests(method="PATCH") else "none: " + manual
        # Let the Event and the counters land, and the analysis see a few scrapes.
        settle = time.time() + 1.5
        while proc.poll() is None and (time.time() < settle or time.time() - started < 6):
            time.sleep(0.25)
        metrics = get(url + "/metrics") if proc.poll() is None else ""
        status = json.loads(get(url + "/status")) if proc.poll() is None else {}
        api_log = fa.requests()
        with open(os.path.join(work, "daemon.log"), encoding="utf-8") as f:
            daemon_log = f.readlines()
        return metrics, status, api_log, how, daemon_log
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        fa.stop()
        traffic.stop()
        app.stop()


def parse_metrics(text):
    """{sample or family name: {label: {values}}}; histogram families by base name too."""
    fams, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind
            fams.setdefault(name, {})
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        for name in {m.group(1), re.sub(r"_(bucket|sum|count)$", "", m.group(1))}:
            if name != m.group(1) and types.get(name) != "histogram":
                continue
            d = fams.setdefault(name, {})
            for k, v in labels.items():
                d.setdefault(k, set()).add(v)
    for name, kind in types.items():
        if kind == "histogram":
            for suf in ("_bucket", "_sum", "_count"):
                fams.setdefault(name + suf, fams.get(name, {}))
    return fams


def check_references(exprs, fams, where):
    missing_names, missing_labels, bad_values = {}, [], []
    for src, expr in exprs:
        refs, grouping = references(expr)
        known = set(TARGET_LABELS)
        for name, matchers in refs:
            if name not in fams:
                missing_names.setdefault(name, []).append(src)
                continue
            known |= set(fams[name])
            for label, ms in matchers.items():
                if label in TARGET_LABELS:
                    continue
                if label not in fams[name]:
                    missing_labels.append("%s: %s{%s} - /metrics has no label %s on %s"
                                          % (src, name, label, label, name))
                    continue
                seen = fams[name][label]
                if label in OPEN_LABELS:
                    continue
                for op, val in ms:
                    if op == "=" and val not in seen:
                        bad_values.append('%s: %s{%s="%s"} - /metrics shows %s'
                                          % (src, name, label, val, sorted(seen)))
                    if op in ("=~", "!~"):
                        for alt in val.split("|"):
                            if re.fullmatch(r"[\w]+", alt) and alt not in seen \
                                    and not any(re.fullmatch(val, s) for s in seen):
                                bad_values.append('%s: %s{%s%s"%s"} - no value "%s" on /metrics '
                                                  "(%s)" % (src, name, label, op, val, alt,
                                                            sorted(seen)))
        for g in grouping - known - PROMQL_WORDS:
            missing_labels.append("%s: groups or prints by '%s', a label no metric it uses has"
                                  % (src, g))
    check(not missing_names, "%s: every metric referenced is on the live /metrics" % where,
          ["%s (used by %s)" % (n, ", ".join(sorted(set(s)))) for n, s in sorted(missing_names.items())])
    check(not missing_labels, "%s: every label referenced is on the live /metrics" % where,
          missing_labels)
    check(not bad_values, "%s: every label value matched exists on the live /metrics" % where,
          bad_values)


def jsonpath_get(doc, path):
    """Argo's `{$.a.b}` jsonPath, dotted fields only."""
    m = re.fullmatch(r"\{\$\.([\w.]+)\}", path)
    if not m:
        return None, "unsupported jsonPath %r" % path
    cur = doc
    for k in m.group(1).split("."):
        if not isinstance(cur, dict) or k not in cur:
            return None, "no field %r" % k
        cur = cur[k]
    return cur, ""


def rbac_allows(rules, verb, group, resource, name):
    for r in rules:
        if group in r.get("apiGroups", []) and resource in r.get("resources", []) \
                and verb in r.get("verbs", []) \
                and (not r.get("resourceNames") or name in r["resourceNames"]):
            return True
    return False


def request_attrs(entry):
    path = entry["path"]
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis") or "namespaces" not in parts:
        return None
    i = parts.index("namespaces")
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[i + 2:]
    if not rest:
        return None
    resource, name = rest[0], rest[1] if len(rest) > 1 else ""
    if len(rest) > 2:
        resource += "/" + rest[2]
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(entry["method"], entry["method"].lower())
    if entry["method"] == "GET" and not name:
        verb = "list"
    return verb, group, resource, name


def check_rollback(label, how, status, api_log, dlog, resource):
    patches = [e for e in api_log if e["method"] == "PATCH" and "/%s/" % resource in e["path"]]
    check(not how.startswith("none") and patches,
          "%s: the daemon undid the rollout through the fake API server, %s: %s"
          % (label, how, ", ".join("PATCH %s -> %s" % (e["path"].split("/namespaces/")[-1],
                                                       e["status"]) for e in patches)),
          ["/status rollback: " + json.dumps(status.get("rollback"))] +
          ["API: %s %s -> %s" % (e["method"], e["path"], e["status"]) for e in api_log] +
          ["daemon log: " + l.strip()[:300] for l in dlog[-15:]])


def check_api_log(label, api_log, role):
    seen, denied = set(), []
    for e in api_log:
        attrs = request_attrs(e)
        if not attrs:
            continue
        seen.add("%s %s/%s" % (attrs[0], attrs[1] or "core", attrs[2]))
        if not rbac_allows(role["rules"], *attrs):
            denied.append("%s %s (%s %s/%s %s)" % (e["method"], e["path"], attrs[0],
                                                   attrs[1] or "core", attrs[2], attrs[3]))
    check(api_log and not denied,
          "%s: Role %s allows all %d API requests the daemon made (%s)"
          % (label, role["metadata"]["name"], len(api_log), ", ".join(sorted(seen))), denied)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--rendered", required=True)
    ap.add_argument("--argo", required=True)
    a = ap.parse_args()
    with open(a.rendered, encoding="utf-8") as f:
        objs = json.load(f)
    with open(a.argo, encoding="utf-8") as f:
        argo = json.load(f)
    work = tempfile.mkdtemp(prefix="rollguard-obs-")
    try:
        rule_exprs = check_rules(objs, a.root, work)
        dash_exprs = check_dashboard(objs, a.root)

        dep = by_kind(objs, "Deployment")[0]
        metrics, status, api_log, how, dlog = live_run(a.root, os.path.abspath(a.binary), dep,
                                                       work, "deployment")
        label = "live run (production Deployment %s)" % dep["metadata"]["name"]
        check(bool(metrics), "%s: the daemon served /metrics and /status" % label,
              ["daemon log: " + l.strip()[:300] for l in dlog[-20:]])
        check_rollback(label, how, status, api_log, dlog, "deployments")
        check_api_log(label, api_log, by_kind(objs, "Role")[0])
        fams = parse_metrics(metrics)
        check_references(rule_exprs, fams, "alerts")
        check_references(dash_exprs, fams, "dashboard")

        for t in by_kind(argo, "AnalysisTemplate"):
            for m in t["spec"].get("metrics", []):
                web = m.get("provider", {}).get("web", {})
                val, why = jsonpath_get(status, web.get("jsonPath", ""))
                check(val in ("PASS", "FAIL", "INCONCLUSIVE"),
                      "AnalysisTemplate %s/%s: jsonPath %s on the live /status gives a verdict (%r)"
                      % (t["metadata"]["name"], m["name"], web.get("jsonPath"), val),
                      [why] if why else [])
                conds = (m.get("successCondition", ""), m.get("failureCondition", ""))
                check('"PASS"' in conds[0] and '"FAIL"' in conds[1],
                      "AnalysisTemplate %s/%s: PASS succeeds, FAIL fails, INCONCLUSIVE is neither"
                      % (t["metadata"]["name"], m["name"]), [str(conds)])

        ro = [r for r in by_kind(argo, "Rollout") if r["metadata"]["name"] == "api-gateway"][0]
        role = [r for r in by_kind(argo, "Role")
                if r["metadata"]["name"] == "api-gateway-rollguard"][0]
        _, status, api_log, how, dlog = live_run(a.root, os.path.abspath(a.binary), ro, work,
                                                 "argo-rollout")
        label = "live run (Argo Rollout api-gateway)"
        check_rollback(label, how, status, api_log, dlog, "rollouts")
        check_api_log(label, api_log, role)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
