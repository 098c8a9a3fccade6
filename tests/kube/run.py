#!/usr/bin/env python3
"""Integration tests of rollguard's Kubernetes integration (stdlib only).

The real binary (`build/rollguard`: the daemon, `rollguard rollback`, POST /rollback) and
the real rollback orchestrator (`build/kube_driver`, which feeds it scripted verdicts so
that a case decides exactly when the verdict turns) against tests/fakeapi over TLS with a
service-account directory (token, ca.crt, namespace).  `kubectl rollout undo` against a
second fake seeded identically is the reference for the resulting spec.template.

The `real_*` cases put the API faults in front of the real daemon instead: one daemon per
fake API (several at once), each finding the bad rollout by itself from its fake app's 20%
errors, while a separate watcher process times /health and /ready (each answer within
50 ms).  They use tests/pylib's fake app; no case but kubectl_comparison needs kubectl.

    python3 tests/kube/run.py [--binary build/rollguard] [--driver build/kube_driver]
                              [-k SUBSTRING] [--fault SUBSTRING] [--parallel N] [-v]

Prints one line per case and, last, exactly one line `N passed, N failed` (plus
`, N skipped` when a case was skipped); exits 1 when a case failed.
"""

import argparse
import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
from rgtest.fakeapp import FakeApp  # noqa: E402
from rgtest.net import free_port, http, wait_for  # noqa: E402,F401
from rgtest.procs import check_clean, events_named, logs  # noqa: E402,F401
from rgtest.prober import Prober  # noqa: E402
from rgtest.scene import (  # noqa: E402,F401  (the fake API + sidecars scene)
    BAD, DEP, GOOD, LEASE, NS, PODS, ROLLOUT, TOKEN, FakeAPI, Scene as Env, daemon_up as _up,
    fleet, make_seed, now_rfc3339, stop_fleet)
from rgtest.traffic import Traffic  # noqa: E402,F401

ARGS = None
SUITE = {}


def case(fn):
    SUITE[fn.__name__[len("test_"):]] = fn
    return fn


class Skip(Exception):
    pass


def normalise(v):
    """Semantic equality as kubectl's equalIgnoreHash: drop nulls and empty maps/lists."""
    if isinstance(v, dict):
        out = {k: normalise(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x not in (None, {}, [])}
    if isinstance(v, list):
        return [normalise(x) for x in v]
    return v


def assert_rolled_back_once(env, status=None):
    applied = env.patches(applied=True)
    assert len(applied) == 1, "applied PATCHes: %d" % len(applied)
    assert env.image() == "registry.example/web:v1", env.image()
    ann = env.dep()["metadata"]["annotations"]
    assert ann.get("rollguard.io/rolled-back") == BAD, ann
    if status is not None:
        assert status["last"]["result"] == "rolled_back", status["last"]


def assert_untouched_or_once(env):
    applied = env.patches(applied=True)
    assert len(applied) <= 1, "applied PATCHes: %d" % len(applied)
    img = env.image()
    if applied:
        assert img == "registry.example/web:v1", img
    else:
        assert img == "registry.example/web:v2", img


# ------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------

@case
def test_happy_path(env):
    env.reset()
    st, lines, _ = env.driver(env.config())
    assert_rolled_back_once(env, st)
    p = env.patches()[0]
    assert p["query"] == "fieldManager=rollguard", p["query"]
    assert p["headers"]["Content-Type"] == "application/json-patch+json"
    ops = p["json"]
    assert [o["op"] for o in ops] == ["test", "test", "test", "replace", "replace"], ops
    assert ops[0] == {"op": "test", "path": "/metadata/uid",
                      "value": "6b3c8f2e-0000-4000-8000-000000000001"}
    assert ops[1] == {"op": "test", "path": "/metadata/generation", "value": 2}
    assert ops[2]["path"] == "/metadata/annotations/deployment.kubernetes.io~1revision"
    # the foreign RS (revision 7) and the one without revision are not chosen
    assert ops[3]["value"]["spec"]["containers"][0]["image"] == "registry.example/web:v1"
    assert "pod-template-hash" not in ops[3]["value"]["metadata"]["labels"]
    evs = env.events("RollbackTriggered")
    assert len(evs) == 1, evs
    ev = evs[0]
    assert ev["type"] == "Warning" and ev["involvedObject"]["kind"] == "Deployment"
    assert ev["involvedObject"]["uid"] == "6b3c8f2e-0000-4000-8000-000000000001"
    assert "error_rate" in ev["message"] and "revision 2" in ev["message"], ev["message"]
    assert json.loads(ev["metadata"]["annotations"]["rollguard.io/evidence"])["value"] == 0.2
    lease = env.lease()
    assert lease["spec"]["holderIdentity"] == "", lease["spec"]
    assert lease["metadata"]["annotations"]["rollguard.io/rolled-back"] == BAD
    done = events_named(lines, "rollback_performed")
    assert len(done) == 1 and done[0]["to_revision"] == 1 and done[0]["from_revision"] == 2
    assert done[0]["evidence"]["rule"] == "error_rate"
    # the controller renumbered: the good RS is revision 3 now
    rs = env.fa.get_object("replicasets", NS, "web-" + GOOD)
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


@case
def test_kubectl_comparison(env):
    kubectl = shutil.which(os.environ.get("KUBECTL", "kubectl"))
    if not kubectl:
        raise Skip("kubectl not found on PATH (set KUBECTL=...)")
    seed = make_seed()
    env.reset(seed)
    env.driver(env.config())
    ours = env.dep()
    ref = FakeAPI(copy.deepcopy(seed), tls_dir=os.path.join(env.tmp, "tls"),
                  tokens=[TOKEN]).start()
    try:
        kdir = os.path.join(env.dir, "kube")
        os.makedirs(kdir)
        with open(os.path.join(kdir, "config"), "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
                    "    server: %s\n    certificate-authority: %s\nusers:\n- name: u\n"
                    "  user:\n    token: %s\ncontexts:\n- name: c\n  context:\n"
                    "    cluster: fake\n    user: u\n    namespace: prod\n"
                    "current-context: c\n" % (ref.url, ref.ca_file, TOKEN))
        p = subprocess.run([kubectl, "--cache-dir", os.path.join(kdir, "cache"), "rollout",
                            "undo", "deployment/web", "-n", NS],
                           env=dict(os.environ, KUBECONFIG=os.path.join(kdir, "config"),
                                    HOME=kdir), capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "deployment.apps/web rolled back", p.stdout
        theirs = ref.get_object("deployments", NS, "web")
        a = normalise(ours["spec"]["template"])
        b = normalise(theirs["spec"]["template"])
        assert a == b, "spec.template differs:\nrollguard %s\nkubectl   %s" % (
            json.dumps(a, sort_keys=True), json.dumps(b, sort_keys=True))
        # annotations: kubectl's set, plus rollguard's record
        ann = dict(ours["metadata"]["annotations"])
        assert ann.pop("rollguard.io/rolled-back") == BAD
        assert ann == theirs["metadata"]["annotations"], (ann, theirs["metadata"]["annotations"])
    finally:
        ref.stop()


@case
def test_three_sidecars_race(env):
    env.reset()
    cfg = env.config()
    ps = [env.driver(cfg, pod=pod, duration=4000, wait=False) for pod in PODS]
    results = [env.finish(p) for p in ps]
    assert_rolled_back_once(env)
    assert len(env.patches()) == 1, "PATCH requests: %d" % len(env.patches())
    outcomes = sorted(r[0]["last"]["result"] for r in results)
    assert outcomes.count("rolled_back") == 1, outcomes
    assert len(env.events("RollbackTriggered")) == 1


@case
def test_three_sidecars_quorum_three(env):
    env.reset()
    cfg = env.config(quorum=3)
    ps = [env.driver(cfg, pod=pod, duration=5000, fail_at=i * 600, wait=False)
          for i, pod in enumerate(PODS)]
    results = [env.finish(p) for p in ps]
    assert_rolled_back_once(env)
    assert len(env.patches()) == 1
    winners = [r for r in results if r[0]["last"]["result"] == "rolled_back"]
    assert len(winners) == 1
    assert events_named(winners[0][1], "rollback_performed")[0]["votes"] == 3


@case
def test_quorum_not_met(env):
    env.reset()
    cfg = env.config(quorum=3)
    st, lines, _ = env.driver(cfg, pod=PODS[0], duration=2000)
    st2, _, _ = env.driver(cfg, pod=PODS[1], duration=2000)
    assert env.patches() == []
    assert st["last"]["reason"] == "quorum_not_met", st["last"]
    assert st2["last"]["reason"] == "quorum_not_met"
    votes = env.lease()["metadata"]["annotations"]["rollguard.io/fail-votes"]
    assert votes.startswith(BAD + ";") and PODS[0] in votes and PODS[1] in votes, votes
    # the third vote completes the quorum
    st3, _, _ = env.driver(cfg, pod=PODS[2], duration=2000)
    assert_rolled_back_once(env, st3)


@case
def test_second_fail_after_undo(env):
    seed = make_seed()
    # only the good and the bad revision: after the undo nothing else is left to go to
    seed["objects"] = [o for o in seed["objects"] if o["metadata"]["name"] != "web-84c6b5f9d7"]
    env.reset(seed)
    cfg = env.config()
    env.driver(cfg, duration=2000)
    assert_rolled_back_once(env)
    n = env.fa.requests()[-1]["seq"]
    # the same pod keeps failing for a while, and another pod of the bad revision starts
    st, lines, _ = env.driver(cfg, pod=PODS[1], duration=3000, interval=200, until_done=False)
    assert len(env.patches(applied=True)) == 1 and len(env.patches()) == 1
    assert st["last"]["reason"] in ("already_rolled_back", "not_current_revision"), st["last"]
    assert not st["identity"]["reapplied_bad_hash"]
    assert env.events("BadRevisionReapplied") == []
    # a handful of reads, no write
    later = [e for e in env.fa.requests() if e["seq"] > n]
    assert not [e for e in later if e["write"]], later
    assert len(later) <= 6, [(e["method"], e["path"]) for e in later]
    # a naive kubectl-style undo would now roll forward; rollguard's manual path refuses
    p = env.cli(cfg)
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr[-2000:])
    assert "no_previous_revision" in p.stdout, p.stdout
    assert len(env.patches(applied=True)) == 1
    assert env.image() == "registry.example/web:v1"


@case
def test_paused(env):
    seed = make_seed()
    for o in seed["objects"]:
        if o["kind"] == "Deployment":
            o["spec"]["paused"] = True
    env.reset(seed)
    st, _, _ = env.driver(env.config())
    assert env.patches() == []
    assert st["last"]["reason"] == "paused", st["last"]
    assert env.lease()["spec"]["holderIdentity"] == "", "the Lease was not released"


@case
def test_no_previous_revision(env):
    seed = make_seed()
    seed["objects"] = [o for o in seed["objects"]
                       if not (o["kind"] == "ReplicaSet"
                               and o["metadata"]["name"] in ("web-" + GOOD, "web-84c6b5f9d7"))]
    env.reset(seed)
    st, _, _ = env.driver(env.config())
    assert env.patches() == []
    assert st["last"]["reason"] == "no_previous_revision", st["last"]


@case
def test_template_already_equal(env):
    env.reset()
    cfg = env.config()
    p = env.cli(cfg, "--to-revision", "2")
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr[-2000:])
    assert "template_already_equal" in p.stdout, p.stdout
    assert env.patches() == []
    p = env.cli(cfg, "--to-revision", "9")
    assert p.returncode == 3 and "revision_not_found" in p.stdout, p.stdout


@case
def test_history_missing_revision_and_foreign_rs(env):
    # the foreign RS has the highest revision (7); the ownerless-revision RS counts as 0
    seed = make_seed()
    env.reset(seed)
    p = env.cli(env.config(), "--dry-run")
    assert p.returncode == 0, p.stderr[-2000:]
    patch = json.loads(p.stdout.split("would send ", 1)[1])
    assert patch[3]["value"]["spec"]["containers"][0]["image"] == "registry.example/web:v1"
    assert env.writes() == []
    # with the good RS gone, the revision-less owned RS (revision 0) is the target, like kubectl
    seed["objects"] = [o for o in seed["objects"] if o["metadata"]["name"] != "web-" + GOOD]
    env.reset(seed)
    p = env.cli(env.config(), "--dry-run")
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
    rs0 = env.fa.get_object("replicasets", NS, "web-84c6b5f9d7")
    patch = json.loads(p.stdout.split("would send ", 1)[1])
    want = copy.deepcopy(rs0["spec"]["template"])
    want["metadata"]["labels"].pop("pod-template-hash")
    assert patch[3]["value"] == want


@case
def test_token_rotation(env):
    env.reset()
    cfg = env.config()
    p = env.driver(cfg, fail_at=1500, duration=4000, wait=False)
    time.sleep(0.8)  # identity done with the old token
    env.fa.rotate_token("tok-2", revoke_old=True)
    env.write_token("tok-2")
    st, lines, err = env.finish(p)
    assert_rolled_back_once(env, st)
    reqs = env.fa.requests()
    assert [e for e in reqs if e["status"] == 401], "no 401 seen"
    patch = env.patches()[0]
    assert patch["auth"] == "ok"
    assert "tok-2" not in err and TOKEN not in err, "a token reached the log"
    assert "tok-2" not in json.dumps(st)
    # 401 with no new token: one retry, then an error, no write
    env.reset()
    cfg = env.config()
    p = env.driver(cfg, fail_at=1200, duration=3000, wait=False)
    time.sleep(0.8)
    env.fa.rotate_token("tok-3", revoke_old=True)
    st, _, _ = env.finish(p)
    assert env.patches() == []
    assert st["last"]["result"] == "failed" and "401" in st["last"]["error"], st["last"]


FAULTS = [
    # (name, fault spec, expect rolled back)
    ("403 on PATCH", {"type": "403", "method": "PATCH", "times": -1}, False),
    ("401 on PATCH, token unchanged", {"type": "401", "method": "PATCH", "times": -1}, False),
    ("429 APF on PATCH", {"type": "429-apf", "method": "PATCH", "retry_after": 1}, True),
    ("429 Status on PATCH", {"type": "429-status", "method": "PATCH", "retry_after": 1}, True),
    ("429 on the Lease", {"type": "429-apf", "path": "leases", "times": 2,
                          "retry_after": 1}, True),
    ("500 with Retry-After", {"type": "500", "method": "PATCH", "retry_after": 1}, True),
    ("500 without Retry-After", {"type": "500", "method": "PATCH"}, True),
    ("503 on GET deployment", {"type": "503", "method": "GET", "path": "deployments/web$",
                               "times": 2}, True),
    ("504 on LIST", {"type": "504", "path": "replicasets$"}, True),
    ("409 on PATCH", {"type": "409", "method": "PATCH"}, True),
    ("422 on PATCH", {"type": "422", "method": "PATCH"}, True),
    ("409 on Lease PUT", {"type": "409", "method": ["PUT", "POST"], "path": "leases"}, True),
    ("500 forever", {"type": "500", "method": "PATCH", "times": -1}, False),
    ("PATCH applied, answer cut", {"type": "close-mid", "method": "PATCH"}, True),
    ("PATCH dropped unanswered", {"type": "drop", "method": "PATCH"}, True),
    ("slow PATCH past the timeout", {"type": "delay", "method": "PATCH", "delay": 3}, True),
    ("connection refused once", {"type": "refuse"}, True),
    ("404 on the Deployment", {"type": "status", "code": 404, "method": "GET",
                               "path": "deployments/web$", "times": -1, "skip": 1}, False),
]


@case
def test_fault_classes(env):
    failures = []
    for name, spec, expect in FAULTS:
        if ARGS.fault and ARGS.fault not in name:
            continue
        env.reset()
        cfg = env.config(timeout="2s")
        env.fa.add_fault(dict(spec))
        st, lines, err = env.driver(cfg, fail_at=300, duration=20000, until_done=True)
        try:
            assert_untouched_or_once(env)
            rolled = len(env.patches(applied=True)) == 1
            if expect:
                assert rolled, "not rolled back: %s" % st["last"]
                assert st["last"]["result"] == "rolled_back", st["last"]
            else:
                assert not rolled and env.image() == "registry.example/web:v2"
                assert st["last"]["result"] in ("failed", "skipped"), st["last"]
            # a later FAIL (a fresh sidecar) never adds a second undo or rolls forward
            env.fa.clear_faults()
            env.driver(cfg, pod=PODS[1], duration=5000, until_done=True)
            assert_untouched_or_once(env) if not rolled else None
            if rolled:
                assert len(env.patches(applied=True)) == 1
                assert env.image() == "registry.example/web:v1"
            assert TOKEN not in err
            print("    ok   fault: %s (%s)" % (name, "rolled back once" if rolled
                                                else "untouched"))
            # a delayed request may still be in the fake's hands: let it land before the reset
            time.sleep(spec.get("delay", 0))
        except AssertionError as e:
            failures.append("%s: %s" % (name, e))
            print("    FAIL fault: %s: %s" % (name, e))
    assert not failures, "; ".join(failures)


@case
def test_dry_run_sends_no_write(env):
    env.reset()
    cfg = env.config(mode="dry-run")
    st, lines, _ = env.driver(cfg, duration=2500)
    assert env.writes() == [], [(e["method"], e["path"]) for e in env.writes()]
    assert st["last"]["result"] == "dry_run", st["last"]
    assert st["last"]["patch"][3]["value"]["spec"]["containers"][0]["image"] == \
        "registry.example/web:v1"
    dr = events_named(lines, "rollback_dry_run")
    assert len(dr) == 1 and dr[0]["patch"] == st["last"]["patch"], "one log line with the patch"
    # the CLI's --dry-run in enforce mode writes nothing either
    p = env.cli(env.config(), "--dry-run")
    assert p.returncode == 0 and "would send" in p.stdout, p.stdout
    assert env.writes() == []


@case
def test_argo_abort(env):
    for subresource in (True, False):
        env.reset(make_seed(argo=True),
                  options={"rollouts_status_subresource": subresource})
        st, _, _ = env.driver(env.config(target="argo-rollout"), pod="web-ro-7d9f6c5b8-abcde",
                              hash_="7d9f6c5b8")
        ps = [e for e in env.fa.requests(method="PATCH")]
        assert st["last"]["result"] == "rolled_back", st["last"]
        ok = [e for e in ps if e["status"] == 200]
        assert len(ok) == 1, [(e["path"], e["status"]) for e in ps]
        assert ok[0]["path"] == ROLLOUT + ("/status" if subresource else ""), ok[0]["path"]
        assert ok[0]["headers"]["Content-Type"] == "application/merge-patch+json"
        assert ok[0]["json"] == {"status": {"abort": True}}
        if not subresource:
            assert ps[0]["path"] == ROLLOUT + "/status" and ps[0]["status"] == 404
        ro = env.fa.get_object("rollouts.argoproj.io", NS, "web-ro")
        assert ro["status"]["abort"] is True
        evs = env.events("RollbackTriggered")
        assert len(evs) == 1 and evs[0]["involvedObject"]["kind"] == "Rollout"
        # aborting again is refused
        st, _, _ = env.driver(env.config(target="argo-rollout"), pod="web-ro-7d9f6c5b8-abcde",
                              hash_="7d9f6c5b8", duration=1500)
        assert len([e for e in env.fa.requests(method="PATCH") if e["status"] == 200]) == 1


@case
def test_guard_window_expired(env):
    env.reset(make_seed(fresh=False))  # the bad RS is months old
    st, lines, _ = env.driver(env.config(), duration=2500)
    assert env.writes() == []
    assert st["last"]["reason"] == "outside_guard_window", st["last"]
    # identity only: pod, RS, Deployment; no Lease, no list
    paths = [(e["method"], e["path"]) for e in env.fa.requests()]
    assert len(paths) == 3, paths


@case
def test_healthy_traffic_no_write(env):
    env.reset()
    st, _, _ = env.driver(env.config(), fail_at=None, interval=100, duration=3000,
                          until_done=False)
    assert env.writes() == []
    # start: pod, RS, Deployment, Lease (a fresh revision reads the stable baseline once);
    # nothing after that however many verdicts
    n = len(env.fa.requests())
    assert n <= 5, [(e["method"], e["path"]) for e in env.fa.requests()]
    assert st["last"]["result"] == "none"


@case
def test_gitops_reapply(env):
    env.reset()
    cfg = env.config()
    env.driver(cfg, duration=2000)
    assert_rolled_back_once(env)
    # a GitOps tool re-applies the bad template (and keeps rollguard's record)
    bad_rs = env.fa.get_object("replicasets", NS, "web-" + BAD)
    d = env.dep()
    t = copy.deepcopy(bad_rs["spec"]["template"])
    t["metadata"]["labels"].pop("pod-template-hash")
    d["spec"]["template"] = t
    env.fa.put_object(d, controller=True)
    assert env.image() == "registry.example/web:v2"
    n = len(env.patches())
    ps = [env.driver(cfg, pod=pod, duration=2500, wait=False) for pod in PODS[:2]]
    results = [env.finish(p) for p in ps]
    assert len(env.patches()) == n, "rolled back a second time"
    assert env.image() == "registry.example/web:v2", "flip-flopped"
    warn = env.events("BadRevisionReapplied")
    assert len(warn) == 1, warn
    assert warn[0]["type"] == "Warning"
    for st, _, _ in results:
        assert st["identity"]["reapplied_bad_hash"] is True
        assert st["last"]["reason"] == "already_rolled_back", st["last"]


@case
def test_manual_cli(env):
    env.reset()
    cfg = env.config(mode="enforce")
    p = env.cli(cfg)
    assert p.returncode == 0, (p.stdout, p.stderr[-2000:])
    assert p.stdout.strip() == "deployment.apps/web rolled back", p.stdout
    assert_rolled_back_once(env)
    assert len(env.events("RollbackTriggered")) == 1
    # mode off refuses
    env.reset()
    p = env.cli(env.config(mode="off"))
    assert p.returncode == 3 and "mode_off" in p.stdout, p.stdout
    assert env.writes() == []
    # not in a cluster
    p = subprocess.run([ARGS.binary, "rollback", "--config", env.config()],
                       env=env.env(pod=None), capture_output=True, text=True, timeout=30)
    assert p.returncode == 3 and "not_in_cluster" in p.stdout, p.stdout
    # usage
    p = env.cli(cfg, "--to-revision", "-1")
    assert p.returncode == 2


@case
def test_admin_post_rollback(env):
    env.reset()
    port, admin = free_port(), free_port()
    cfg = env.config(listen=port, admin=admin)
    d = env.daemon(cfg, env.env())
    try:
        st = wait_for(lambda: json.loads(http("GET", "http://127.0.0.1:%d/status" % port)[1])
                      ["rollback"]["identity"]["known"] if _up(port) else False)
        assert st, "identity never known"
        code, body = http("POST", "http://127.0.0.1:%d/rollback" % port)
        assert code in (404, 405), (code, body)  # not on the public listener
        code, body = http("GET", "http://127.0.0.1:%d/rollback" % admin)
        assert code == 405
        code, body = http("POST", "http://127.0.0.1:%d/rollback?dry_run=1" % admin)
        assert code == 202, (code, body)
        rid = json.loads(body)["id"]
        last = wait_for(lambda: _last(port, rid))
        assert last and last["result"] == "dry_run", last
        assert env.writes() == []
        code, body = http("POST", "http://127.0.0.1:%d/rollback?force=1" % admin)
        assert code == 400
        code, body = http("POST", "http://127.0.0.1:%d/rollback" % admin)
        assert code == 202, (code, body)
        rid = json.loads(body)["id"]
        last = wait_for(lambda: _last(port, rid))
        assert last and last["result"] == "rolled_back", last
        assert_rolled_back_once(env)
        m = http("GET", "http://127.0.0.1:%d/metrics" % port)[1]
        assert 'rollguard_rollbacks_total{target="deployment",result="rolled_back"} 1' in m
        assert 'rollguard_kube_requests_total{verb="patch",code="200"} 1' in m, m[-3000:]
        assert 'rollguard_rollback_skipped_total{reason="paused"} 0' in m
        status = http("GET", "http://127.0.0.1:%d/status" % port)[1]
        assert TOKEN not in status and TOKEN not in m
    finally:
        err = env.stop(d)
    assert TOKEN not in err


def _last(port, rid):
    try:
        st = json.loads(http("GET", "http://127.0.0.1:%d/status" % port)[1])["rollback"]
    except OSError:
        return None
    return st["last"] if st["last"]["id"] == rid and not st["busy"] else None


@case
def test_not_in_cluster_daemon(env):
    env.reset()
    port = free_port()
    cfg = env.config(listen=port)
    e = env.env(pod=None)
    d = env.daemon(cfg, e)
    try:
        assert wait_for(lambda: _up(port)), "daemon did not come up"
        st = json.loads(http("GET", "http://127.0.0.1:%d/status" % port)[1])["rollback"]
        assert st["in_cluster"] is False and "POD_NAME" in st["disabled_reason"], st
        m = http("GET", "http://127.0.0.1:%d/metrics" % port)[1]
        assert "rollguard_rollback_enabled 0" in m
    finally:
        err = env.stop(d)
    lines = events_named(logs(err), "rollback_disabled")
    assert len(lines) == 1, err[-2000:]
    assert env.fa.requests() == []


@case
def test_e2e_three_daemons_bad_revision(env):
    """The acceptance run: three real sidecars, the apps begin returning 20% errors."""
    env.reset()
    apps, traffic, daemons, ports = fleet(env, quorum=2)
    try:
        for port in ports:
            assert wait_for(lambda: _up(port) and json.loads(http(
                "GET", "http://127.0.0.1:%d/status" % port)[1])["rollback"]["identity"]["known"],
                timeout=20), "a daemon did not come up"
        time.sleep(ARGS.healthy_s)  # healthy: warm-up, baseline, PASS verdicts
        assert env.writes() == [], "writes during healthy traffic: %r" % [
            (e["method"], e["path"]) for e in env.writes()]
        t0 = time.time()
        for t in traffic:
            t.errors = 0.20
        patch = wait_for(lambda: env.patches(applied=True), timeout=60, step=0.05)
        assert patch, "no PATCH within 60 s of the fault"
        fault_to_patch = patch[0]["time"] - t0
        time.sleep(3)  # the leader's Event and Lease release
        assert_rolled_back_once(env)
        evs = env.events("RollbackTriggered")
        assert len(evs) == 1, evs
        ev = json.loads(evs[0]["metadata"]["annotations"]["rollguard.io/evidence"])
        assert ev["outcome"] == "FAIL" and ev["rule"] == "error_rate", ev
        seq = env.fa.requests()[-1]["seq"]
        time.sleep(ARGS.quiet_s)  # the apps keep failing: no further write
        later = [e for e in env.fa.requests() if e["seq"] > seq]
        assert not [e for e in later if e["write"]], [(e["method"], e["path"]) for e in later]
        statuses = [json.loads(http("GET", "http://127.0.0.1:%d/status" % p)[1])["rollback"]
                    for p in ports]
        results = sorted(s["last"]["result"] for s in statuses)
        assert results.count("rolled_back") == 1, results
        leader = [s for s in statuses if s["last"]["result"] == "rolled_back"][0]
        print("    fault-to-PATCH %.2f s (first FAIL verdict to PATCH %.2f s); requests "
              "per pod %s; reads after the undo in %d s: %d" % (
                  fault_to_patch, leader["last"]["fail_to_patch_ms"] / 1000.0,
                  [s["api_requests"] for s in statuses], ARGS.quiet_s, len(later)))
    finally:
        stop_fleet(env, apps, traffic, daemons)


@case
def test_e2e_healthy_no_write(env):
    """Healthy traffic through real daemons: verdicts PASS, no write, reads only at start."""
    env.reset()
    apps, traffic, daemons, ports = fleet(env, quorum=1)
    try:
        time.sleep(ARGS.healthy_long_s)
        assert env.writes() == [], [(e["method"], e["path"]) for e in env.writes()]
        reqs = env.fa.requests()
        # a pod of a fresh revision also looks for its concurrent control: LISTs of pods,
        # at most 4 per rollout a minute apart (none of the seed's pods is another revision's
        # ready pod, so it asks again within that budget)
        lists = [e for e in reqs if e["method"] == "GET" and
                 e["path"] == "/api/v1/namespaces/prod/pods"]
        n = len(reqs) - len(lists)
        assert n <= 4 * len(PODS), [(e["method"], e["path"]) for e in reqs]
        assert 1 * len(PODS) <= len(lists) <= 4 * len(PODS), len(lists)
        for port in ports:
            st = json.loads(http("GET", "http://127.0.0.1:%d/status" % port)[1])
            assert st["analysis"]["outcome"] != "FAIL", st["analysis"]
            assert not st["control"]["in_use"] and st["control"]["reason"], st["control"]
        print("    %d s of healthy traffic, 3 pods: %d API requests at start and %d LISTs of "
              "pods, 0 writes" % (ARGS.healthy_long_s, n, len(lists)))
    finally:
        stop_fleet(env, apps, traffic, daemons)


# ------------------------------------------------------------------------------------------
# Faults against the real daemon: each daemon finds the bad rollout by itself (its fake app
# answers 20% errors from the start), with its own fake API, token and probe watcher.  None
# of these cases needs kubectl.
# ------------------------------------------------------------------------------------------

class Solo:
    """One real daemon (pod PODS[0], quorum 1) with its own fake API (own store, faults,
    log and token; `up=False` leaves its port closed until `api_up()`), its own fake app
    turning out 20% errors and its own service-account directory (`ca` "wrong" puts a CA
    there that did not sign the fake's certificate)."""

    def __init__(self, env, name, faults=(), up=True, ca="ca.crt", timeout="2s",
                 drain="500ms"):
        self.env, self.name = env, name
        self.token = "tok-%s-%s" % (name.replace(" ", "-"), os.urandom(6).hex())
        self.api_port = free_port()
        self.tls_dir = os.path.join(env.tmp, "tls")
        self.fa = FakeAPI(make_seed(), port=self.api_port, tls_dir=self.tls_dir,
                          tokens=[self.token], control_port=None)
        self._hold = None
        if up:
            self.fa.start()
        else:
            # Bound but not listening: connections are refused as on a closed port, and
            # nothing else (another server of this run, a port picked for the daemon) can
            # take the port before api_up().
            self._hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._hold.bind(("127.0.0.1", self.api_port))
        for spec in faults:
            self.fa.add_fault(dict(spec))
        env.n += 1
        self.dir = os.path.join(env.tmp, "solo%d" % env.n)
        sa = os.path.join(self.dir, "sa")
        os.makedirs(sa)
        with open(os.path.join(sa, "token"), "w") as f:
            f.write(self.token + "\n")
        if not os.path.exists(os.path.join(self.tls_dir, "ca.crt")):
            from fakeapi import ensure_tls
            ensure_tls(self.tls_dir)
        shutil.copy(os.path.join(self.tls_dir, ca), os.path.join(sa, "ca.crt"))
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write(NS)
        self.app = FakeApp()
        self.app.start()
        self.traffic = Traffic(self.app, errors=0.20)
        self.port = free_port()
        self.cfg = os.path.join(self.dir, "rollguard.yaml")
        with open(self.cfg, "w") as f:
            f.write(
                'listen: "127.0.0.1:%d"\nadmin_listen: ""\n' % self.port +
                "server: {drain: %s}\n" % drain +
                "log: {level: debug, format: json}\n"
                "app:\n  liveness: {enabled: false}\n  readiness: {enabled: false}\n"
                '  metrics: {url: "%s", interval: 1s, timeout: 500ms}\n' % self.app.url(
                    "/metrics") +
                "analysis: {interval: 1s, window: 5s, warmup: 2s, baseline_window: 10s,\n"
                "  error_rate: {max: 0.05, min_requests: 50}, latency: {min_samples: 50},\n"
                "  consecutive_breaches: 2}\n"
                "rollback: {mode: enforce, target: deployment, quorum: 1, guard_window: 30m}\n"
                "kubernetes:\n  api_server: https://127.0.0.1:%d\n  service_account_dir: %s\n"
                "  timeout: %s\n  lease_duration: 3s\n" % (self.api_port, sa, timeout))
        self.d = None
        self.err = ""

    def start(self):
        self.d = self.env.daemon(self.cfg, self.env.env())
        self.t_start = time.time()
        return self

    def api_up(self):
        if self._hold:
            self._hold.close()
            self._hold = None
        self.fa.start()

    def status(self):
        try:
            return json.loads(http("GET", "http://127.0.0.1:%d/status" % self.port,
                                   timeout=2)[1])
        except (OSError, ValueError):
            return None

    def rollback(self):
        st = self.status()
        return st["rollback"] if st else {}

    def patches(self, applied=False):
        out = [e for e in self.fa.requests(method="PATCH") if e["path"] == DEP]
        return [e for e in out if e["status"] == 200 or str(e["status"]).startswith(
            "closed-mid")] if applied else out

    def image(self):
        d = self.fa.get_object("deployments", NS, "web")
        return d["spec"]["template"]["spec"]["containers"][0]["image"]

    def decided(self):
        """The daemon's first decision job has ended (or a final state holds)."""
        rb = self.rollback()
        return rb.get("last", {}).get("id") and not rb.get("busy")

    def stop(self, timeout=15, send=True):
        """SIGTERM (unless sent already: a second one means "now"); returns (exit code,
        seconds to exit); keeps stderr in self.err."""
        t0 = time.time()
        if send and self.d.poll() is None:
            self.d.send_signal(signal.SIGTERM)
        try:
            _, err = self.d.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.d.kill()
            _, err = self.d.communicate()
        if self.d in self.env.procs:
            self.env.procs.remove(self.d)
        self.err += err
        if ARGS.verbose:
            sys.stderr.write("---- %s\n%s" % (self.name, err))
        check_clean(err)
        return self.d.returncode, time.time() - t0

    def close(self):
        if self.d is not None and self.d.poll() is None:
            self.stop()
        self.traffic.stop()
        self.app.stop()
        self.fa.stop()
        if self._hold:
            self._hold.close()
            self._hold = None

    def assert_no_token_logged(self):
        assert self.token not in self.err, "%s: the token reached the log" % self.name

    def assert_once_never_forward(self):
        """At most one applied PATCH, v2 -> v1 only, and at most one PATCH sent for it."""
        applied = self.patches(applied=True)
        assert len(applied) <= 1, "%s: applied PATCHes: %d" % (self.name, len(applied))
        img = self.image()
        want = "registry.example/web:v1" if applied else "registry.example/web:v2"
        assert img == want, "%s: image %s after %d applied PATCHes" % (self.name, img,
                                                                       len(applied))
        for p in applied:
            ops = p["json"]
            assert ops[3]["value"]["spec"]["containers"][0]["image"] == \
                "registry.example/web:v1", "%s: rolled forward? %s" % (self.name, ops[3])


def solos_run(env, solos):
    """Start every daemon and a probe watcher; return it, the daemons up."""
    for s in solos:
        s.start()
    prober = Prober(env.tmp, [s.port for s in solos])
    env.procs.append(prober.p)
    for s in solos:
        if not wait_for(lambda: _up(s.port) or s.d.poll() is not None, timeout=20) or \
                not _up(s.port):
            exited = s.d.poll()
            err = ""
            if exited is not None:
                err = s.d.stderr.read() or ""  # it exited: read to the end, no wait
            raise AssertionError("%s: daemon did not come up on port %d (%s)%s" % (
                s.name, s.port, "exit %s" % exited if exited is not None else "still running",
                ": " + err.strip()[-600:] if err.strip() else ""))
    return prober


def solos_stop(solos):
    """SIGTERM to every daemon at once; each must exit 0."""
    for s in solos:
        if s.d.poll() is None:
            s.d.send_signal(signal.SIGTERM)
    for s in solos:
        rc, _ = s.stop(send=False)
        assert rc == 0, "%s: exit %s" % (s.name, rc)


def solos_close(env, solos, prober):
    if prober:
        prober.stop()
        if prober.p in env.procs:
            env.procs.remove(prober.p)
    for s in solos:
        s.close()


def wait_fail(s, timeout=20):
    """The daemon's own analysis says FAIL (the bad rollout is detected)."""
    def failing():
        st = s.status()
        return st and (st["analysis"] or {}).get("outcome") == "FAIL"
    assert wait_for(failing, timeout=timeout, step=0.2), "%s: no FAIL verdict" % s.name


def wait_quiet(solos, seconds):
    """`seconds` with the daemons still failing: no further PATCH from any of them."""
    n = [len(s.patches()) for s in solos]
    time.sleep(seconds)
    for s, k in zip(solos, n):
        assert len(s.patches()) == k, "%s: a PATCH after the decision: %s" % (
            s.name, [(e["seq"], e["status"]) for e in s.patches()])


@case
def test_real_api_refused_then_up(env):
    """The API server's port is closed for 4 s while the app fails, then it comes up."""
    s = Solo(env, "refused", up=False, timeout="1s")
    prober = None
    try:
        prober = solos_run(env, [s])
        t0 = time.time()
        wait_fail(s)
        time.sleep(max(0.0, 4 - (time.time() - s.t_start)))
        rb = s.rollback()
        assert not rb["identity"]["known"] and not rb["busy"], rb
        # attempts refused (counted with code 0) and retried with backoff; the rest waits
        assert rb["api_requests"] >= 2 and rb["api_retries"] >= 1, rb
        down_attempts = rb["api_requests"]
        t_up = time.time()
        s.api_up()
        assert wait_for(lambda: s.patches(applied=True), timeout=30, step=0.1), \
            "%s: no rollback after the API came up: %s" % (s.name, s.rollback())
        wait_quiet([s], 4)
        assert len(s.patches()) == 1, "PATCHes sent: %d" % len(s.patches())
        s.assert_once_never_forward()
        assert s.image() == "registry.example/web:v1"
        assert min(e["time"] for e in s.fa.requests()) >= t_up
        rb = s.rollback()
        assert rb["last"]["result"] == "rolled_back", rb["last"]
        n, worst = prober.check(s.port, t0, time.time(), what=s.name, context=ARGS.verbose)
        rc, _ = s.stop()
        assert rc == 0, "exit %s" % rc
        print("    down %.1f s (%d refused attempts), PATCH %.1f s after the API came up; "
              "%d probes, slowest %.1f ms" % (t_up - s.t_start, down_attempts,
                                              s.patches()[0]["time"] - t_up, n, worst))
        s.assert_no_token_logged()
    finally:
        solos_close(env, [s], prober)


@case
def test_real_api_stalls(env):
    """Every request is accepted and never answered: timeouts, no write, a prompt exit."""
    s = Solo(env, "stall", faults=[{"type": "stall", "times": -1, "delay": 60}],
             timeout="1s", drain="1s")
    prober = None
    try:
        prober = solos_run(env, [s])
        t0 = time.time()
        wait_fail(s)
        time.sleep(max(0.0, 7 - (time.time() - s.t_start)))
        reqs = s.fa.requests()
        assert reqs and all(e["status"] == "stalled" for e in reqs), reqs
        assert not [e for e in reqs if e["write"]], "a write while stalled"
        # one request at a time, each given up after kubernetes.timeout (1 s) plus a backoff
        gaps = [b["time"] - a["time"] for a, b in zip(reqs, reqs[1:])]
        assert len(reqs) >= 3 and all(1.3 <= g <= 4.0 for g in gaps[:2]), gaps
        assert len(set(e["conn"] for e in reqs)) == len(reqs), "a stalled connection reused"
        n, worst = prober.check(s.port, t0, time.time(), what=s.name, context=ARGS.verbose)
        rb = s.rollback()
        assert not rb["identity"]["known"], rb["identity"]
        rc, took = s.stop()
        assert rc == 0, "exit %s" % rc
        assert took < 1 + 2, "exit took %.1f s (drain 1 s)" % took
        assert s.patches() == []
        assert s.image() == "registry.example/web:v2"
        s.assert_no_token_logged()
        print("    %d stalled requests, gaps %s s; exit %.2f s after SIGTERM; %d probes, "
              "slowest %.1f ms" % (len(reqs), ["%.2f" % g for g in gaps], took, n, worst))
    finally:
        solos_close(env, [s], prober)


# (name, fault spec, expectation: True rolled back once, False untouched)
REAL_FAULTS = [
    ("400 on PATCH", {"type": "status", "code": 400, "method": "PATCH", "body": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server rejected our request", "reason": "BadRequest", "code": 400}},
     False),
    ("401 on PATCH", {"type": "401", "method": "PATCH", "times": -1}, False),
    ("403 on PATCH", {"type": "403", "method": "PATCH", "times": -1}, False),
    ("404 on PATCH", {"type": "status", "code": 404, "method": "PATCH", "body": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "deployments.apps \"web\" not found", "reason": "NotFound",
        "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 404}},
     False),
    ("409 on PATCH", {"type": "409", "method": "PATCH"}, True),
    ("410 on PATCH", {"type": "status", "code": 410, "method": "PATCH", "body": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the resource is gone", "reason": "Gone", "code": 410}}, False),
    ("422 on PATCH", {"type": "422", "method": "PATCH"}, True),
    ("429 APF on PATCH", {"type": "429-apf", "method": "PATCH", "retry_after": 1}, True),
    ("429 Status on PATCH", {"type": "429-status", "method": "PATCH", "retry_after": 1}, True),
    ("500 on PATCH", {"type": "500", "method": "PATCH"}, True),
    ("503 on PATCH", {"type": "503", "method": "PATCH"}, True),
    ("504 on PATCH", {"type": "504", "method": "PATCH"}, True),
    ("503 on GET Deployment", {"type": "503", "method": "GET", "path": "deployments/web$",
                               "times": 2}, True),
    ("410 on LIST", {"type": "status", "code": 410, "path": "replicasets$", "body": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "The provided continue parameter is too old",
        "reason": "Expired", "code": 410}}, False),
    ("504 on LIST", {"type": "504", "path": "replicasets$"}, True),
    ("429 on the Lease", {"type": "429-apf", "path": "leases", "times": 2,
                          "retry_after": 1}, True),
    ("403 on the Lease", {"type": "403", "path": "leases", "times": -1}, False),
]


@case
def test_real_error_classes(env):
    """Each API error class against its own daemon, all daemons at once."""
    specs = [f for f in REAL_FAULTS if not ARGS.fault or ARGS.fault in f[0]]
    failures = []
    for i in range(0, len(specs), ARGS.parallel):
        batch = specs[i:i + ARGS.parallel]
        solos = [Solo(env, name, faults=[spec]) for name, spec, _ in batch]
        prober = None
        try:
            prober = solos_run(env, solos)
            t0 = time.time()
            deadline = time.time() + 40
            for s in solos:
                assert wait_for(s.decided, timeout=max(1, deadline - time.time()), step=0.2), \
                    "%s: no decision: %s" % (s.name, s.rollback())
                s.t_decided = time.time() - s.t_start
            wait_quiet(solos, 3)
            t1 = time.time()
            for s in solos:
                s.rollback_last = s.rollback()["last"]
            solos_stop(solos)
            for s, (name, spec, expect) in zip(solos, batch):
                try:
                    s.assert_once_never_forward()
                    rolled = bool(s.patches(applied=True))
                    last = s.rollback_last
                    if expect:
                        assert rolled, "not rolled back: %s" % last
                        assert last["result"] == "rolled_back", last
                    else:
                        assert not rolled, "rolled back"
                        assert last["result"] in ("failed", "skipped"), last
                    hit = [e for e in s.fa.requests() if e["fault"]]
                    assert hit, "the fault was never hit"
                    n, worst = prober.check(s.port, t0, t1, what=name, context=ARGS.verbose)
                    s.assert_no_token_logged()
                    print("    ok   %-22s %s at %.1f s; %s; probes %d, slowest %.1f ms" % (
                        name + ":", "rolled back once" if rolled else "untouched", s.t_decided,
                        last["result"] + (" (%s)" % (last["error"] or last["reason"])
                                          if not rolled else ""), n, worst))
                except AssertionError as e:
                    failures.append("%s: %s" % (name, e))
                    print("    FAIL %s: %s" % (name, e))
        finally:
            solos_close(env, solos, prober)
    assert not failures, "; ".join(failures)


@case
def test_real_wrong_ca(env):
    """The fake API's certificate is not signed by the CA in the service-account directory:
    the handshake fails, so no request (and no token) ever reaches it."""
    s = Solo(env, "wrong CA", ca="wrong-ca.crt", timeout="1s")
    prober = None
    try:
        prober = solos_run(env, [s])
        t0 = time.time()
        wait_fail(s)
        assert wait_for(lambda: s.rollback()["identity"]["error"], timeout=15), s.rollback()
        time.sleep(max(0.0, 6 - (time.time() - s.t_start)))
        rb = s.rollback()
        n, worst = prober.check(s.port, t0, time.time(), what=s.name, context=ARGS.verbose)
        rc, _ = s.stop()
        assert rc == 0, "exit %s" % rc
        assert s.fa.requests() == [], "requests reached the API: %s" % s.fa.requests()
        assert s.fa.tls_failures(), "no failed handshake seen"
        assert not rb["identity"]["known"] and rb["last"]["id"] == 0, rb
        err = rb["identity"]["error"]
        assert "certificate" in err.lower() or "ssl" in err.lower(), err
        lines = events_named(logs(s.err), "rollback_identity_failed")
        assert lines and lines[0]["error"] == err, (lines, err)
        assert s.image() == "registry.example/web:v2"
        s.assert_no_token_logged()
        print("    %d failed handshakes, 0 requests; logged: %s; %d probes, slowest %.1f ms"
              % (len(s.fa.tls_failures()), err, n, worst))
    finally:
        solos_close(env, [s], prober)


@case
def test_real_close_mid(env):
    """The connection is cut halfway through the answer: to the GET of the Deployment (the
    decision's), and to the PATCH after it was applied.  Never a second PATCH."""
    get = Solo(env, "cut GET", faults=[{"type": "close-mid", "method": "GET",
                                        "path": "deployments/web$", "skip": 1}])
    patch = Solo(env, "cut PATCH", faults=[{"type": "close-mid", "method": "PATCH",
                                            "path": "deployments/web$"}])
    solos = [get, patch]
    prober = None
    try:
        prober = solos_run(env, solos)
        t0 = time.time()
        for s in solos:
            assert wait_for(s.decided, timeout=40, step=0.2), "%s: %s" % (s.name, s.rollback())
        wait_quiet(solos, 3)
        t1 = time.time()
        for s in solos:
            s.rollback_last = s.rollback()["last"]
        solos_stop(solos)
        for s in solos:
            s.assert_once_never_forward()
            assert len(s.patches()) == 1, "%s: PATCHes sent: %s" % (
                s.name, [e["status"] for e in s.patches()])
            assert s.image() == "registry.example/web:v1", s.name
            assert s.rollback_last["result"] == "rolled_back", (s.name, s.rollback_last)
            assert len(s.fa.list_objects("events", NS)) == 1, s.name
            assert [e for e in s.fa.requests() if e["fault"]], "%s: fault not hit" % s.name
            prober.check(s.port, t0, t1, what=s.name, context=ARGS.verbose)
            s.assert_no_token_logged()
        assert patch.patches()[0]["status"] == "closed-mid:200"
        redo = events_named(logs(patch.err), "rollback_redecide")
        assert len(redo) == 1, redo
        # after the cut PATCH: the Deployment read again, nothing written to it again
        seq = patch.patches()[0]["seq"]
        after = [(e["method"], e["path"]) for e in patch.fa.requests() if e["seq"] > seq]
        assert ("GET", DEP) in after, after
    finally:
        solos_close(env, solos, prober)


@case
def test_real_sigterm_during_patch(env):
    """SIGTERM while the rollback PATCH waits for its answer (3 s); the fake applies it
    before or after that wait.  The daemon drains and exits; a fresh daemon for the same
    pod, its app still failing, neither rolls back again nor forward."""
    after = Solo(env, "applied after the wait", drain="1s",
                 faults=[{"type": "delay", "method": "PATCH", "delay": 3}])
    before = Solo(env, "applied before the wait", drain="1s",
                  faults=[{"type": "delay", "method": "PATCH", "delay_after": 3}])
    solos = [after, before]
    prober = None
    try:
        prober = solos_run(env, solos)
        waiting, end = list(solos), time.time() + 30
        while waiting and time.time() < end:  # SIGTERM as soon as a daemon's PATCH is out
            for s in [s for s in waiting if s.patches()]:
                s.t_term = time.time()
                s.d.send_signal(signal.SIGTERM)
                waiting.remove(s)
            time.sleep(0.02)
        assert not waiting, "no PATCH: %s" % [(s.name, s.rollback()) for s in waiting]
        for s in solos:
            t_sig = s.t_term
            prober_window = (t_sig + 0.05, t_sig + 0.8)  # inside the 1 s drain
            rc, _ = s.stop(send=False)
            s.took = time.time() - t_sig
            assert rc == 0, "%s: exit %s" % (s.name, rc)
            assert s.took < 1 + 2.5, "%s: exit %.1f s after SIGTERM" % (s.name, s.took)
            prober.check(s.port, *prober_window, ready=503, what=s.name + " (draining)")
            assert events_named(logs(s.err), "shutdown_started"), s.name
            assert not events_named(logs(s.err), "rollback_performed"), \
                "%s: the answer came before the exit" % s.name
        for s in solos:  # the fake finishes the PATCH (it lands either way)
            assert wait_for(lambda: s.patches()[0]["status"] is not None, timeout=10), s.name
            assert len(s.patches()) == 1 and s.image() == "registry.example/web:v1", s.name
            s.n_req = len(s.fa.requests())
            s.start()  # the same pod, the same app still failing
        for s in solos:
            assert wait_for(lambda: _up(s.port), timeout=20), s.name
        for s in solos:
            assert wait_for(s.decided, timeout=40, step=0.2), "%s: %s" % (s.name, s.rollback())
        wait_quiet(solos, 2)
        for s in solos:
            s.rb = s.rollback()
        solos_stop(solos)
        for s in solos:
            rb = s.rb
            s.assert_once_never_forward()
            assert len(s.patches()) == 1, "%s: a second PATCH" % s.name
            assert s.image() == "registry.example/web:v1", s.name
            assert rb["last"]["result"] == "skipped", (s.name, rb["last"])
            assert rb["last"]["reason"] in ("already_rolled_back", "not_current_revision",
                                            "lease_held"), (s.name, rb["last"])
            s.assert_no_token_logged()
            print("    %s: exit %.2f s after SIGTERM (drain 1 s); the fresh daemon: %s (%s)"
                  % (s.name, s.took, rb["last"]["result"], rb["last"]["reason"]))
    finally:
        solos_close(env, solos, prober)


# ------------------------------------------------------------------------------------------

def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "rollguard"))
    ap.add_argument("--driver", default=None)
    ap.add_argument("-k", default=None)
    ap.add_argument("--fault", default=None,
                    help="only fault classes (fault_classes, real_error_classes) with this")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--acceptance", action="store_true",
                    help="the issue's durations: 5 min healthy, 1 min quiet after the undo")
    ap.add_argument("--parallel", type=int, default=17,
                    help="daemons at once in real_error_classes")
    ap.add_argument("--valgrind", action="store_true",
                    help="run the driver and the CLI under valgrind (slow; use -k)")
    ARGS = ap.parse_args()
    ARGS.healthy_s = 8
    ARGS.quiet_s = 60 if ARGS.acceptance else 10
    ARGS.healthy_long_s = 300 if ARGS.acceptance else 8
    if not ARGS.driver:
        ARGS.driver = os.path.join(os.path.dirname(os.path.abspath(ARGS.binary)), "kube_driver")
    for b in (ARGS.binary, ARGS.driver):
        if not os.access(b, os.X_OK):
            print("missing executable %s (make %s)" % (b, b))
            print("0 passed, 1 failed")
            return 1
    env = Env(ARGS.binary, ARGS.driver, valgrind=ARGS.valgrind, verbose=ARGS.verbose)
    passed = failed = skipped = 0
    try:
        for name, fn in SUITE.items():
            if ARGS.k and ARGS.k not in name:
                continue
            t0 = time.time()
            try:
                fn(env)
                passed += 1
                print("ok      %s (%.1fs)" % (name, time.time() - t0))
            except Skip as e:
                skipped += 1
                print("SKIPPED %s: %s" % (name, e))
            except Exception as e:  # noqa: BLE001 - report every kind of failure
                failed += 1
                print("FAIL    %s (%.1fs): %s" % (name, time.time() - t0, e))
                if ARGS.verbose or not isinstance(e, AssertionError):
                    traceback.print_exc(file=sys.stdout)
            finally:
                env.cleanup()
            sys.stdout.flush()
    finally:
        env.close()
    print("%d passed, %d failed%s" % (passed, failed,
                                      ", %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
