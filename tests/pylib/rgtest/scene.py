"""The scene: the fake Kubernetes API server (tests/fakeapi) over TLS holding Deployment
prod/web at revision 2 (revision 1 kept), a service-account directory, and rollguard
daemons as the sidecars of its pods, each in front of its own fake app fed by Traffic.

Used by tests/kube/run.py (Scene is its per-case Env), tools/demo.py and bench/e2e.py.

    sc = Scene(binary, driver)          # one fake API for the whole run
    sc.reset()                          # a fresh state, SA dir and configs (per case)
    apps, traffic, daemons, ports = fleet(sc, quorum=2)
    ...
    stop_fleet(sc, apps, traffic, daemons)
    sc.cleanup(); sc.close()
"""

import copy
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

from . import add_path
from .fakeapp import FakeApp
from .net import free_port, get_json, http
from .procs import check_clean, logs, terminate, valgrind_prefix
from .traffic import Traffic

add_path("tests", "fakeapi")
from fakeapi import FakeAPI  # noqa: E402

NS = "prod"
DEP = "/apis/apps/v1/namespaces/prod/deployments/web"
LEASE = "/apis/coordination.k8s.io/v1/namespaces/prod/leases"
ROLLOUT = "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web-ro"
BAD = "7c5d9f8b4"
GOOD = "5d8f7c9b6d"
PODS = ["web-7c5d9f8b4-x2kqp", "web-7c5d9f8b4-h8v4m", "web-7c5d9f8b4-q7z9t"]
TOKEN = "tok-1"
SEED = os.path.join(add_path("tests", "fakeapi"), "seed_web.json")

# The fast analysis of the kube suite's fleet (decisions within seconds).
FAST_ANALYSIS = (
    "analysis: {interval: 1s, window: 5s, warmup: 2s, baseline_window: 10s,\n"
    "  error_rate: {max: 0.05, min_requests: 50}, latency: {min_samples: 50},\n"
    "  consecutive_breaches: 2}\n")


def now_rfc3339(delta=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_seed(fresh=True, argo=False):
    """seed_web.json with a fresh bad rollout (RS created a minute ago) and three pods."""
    with open(SEED) as f:
        seed = json.load(f)
    objs = seed["objects"]
    by = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    if fresh:
        by[("ReplicaSet", "web-" + BAD)]["metadata"]["creationTimestamp"] = now_rfc3339(-60)
    pod = copy.deepcopy(by[("Pod", PODS[0])])
    pod["metadata"]["name"] = PODS[2]
    pod["metadata"]["uid"] = "cccc0000-0000-4000-8000-000000000009"
    objs.append(pod)
    if argo:
        rs = copy.deepcopy(by[("ReplicaSet", "web-" + BAD)])
        rs["metadata"].update({
            "name": "web-ro-7d9f6c5b8", "uid": "abab0000-0000-4000-8000-00000000000a",
            "labels": {"app": "web-ro", "rollouts-pod-template-hash": "7d9f6c5b8"},
            "annotations": {"rollout.argoproj.io/revision": "2"},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                 "name": "web-ro", "uid": "9a9a0000-0000-4000-8000-000000000008",
                                 "controller": True, "blockOwnerDeletion": True}]})
        rs["spec"]["selector"] = {"matchLabels": {"app": "web-ro",
                                                  "rollouts-pod-template-hash": "7d9f6c5b8"}}
        rs["spec"]["template"]["metadata"]["labels"] = {
            "app": "web-ro", "rollouts-pod-template-hash": "7d9f6c5b8"}
        objs.append(rs)
        p = copy.deepcopy(pod)
        p["metadata"].update({
            "name": "web-ro-7d9f6c5b8-abcde", "uid": "cccc0000-0000-4000-8000-00000000000b",
            "labels": {"app": "web-ro", "rollouts-pod-template-hash": "7d9f6c5b8"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "web-ro-7d9f6c5b8",
                                 "uid": "abab0000-0000-4000-8000-00000000000a",
                                 "controller": True, "blockOwnerDeletion": True}]})
        objs.append(p)
    return seed


class Scene:
    """One fake API server for a run; a fresh state, SA dir and configs per reset().

    binary: build/rollguard; driver: build/kube_driver (the scripted-verdict orchestrator,
    for driver()); valgrind runs the driver and the CLI under memcheck; verbose copies
    their stderr to ours."""

    def __init__(self, binary, driver=None, valgrind=False, verbose=False):
        self.binary, self.driver_bin = binary, driver
        self.valgrind, self.verbose = valgrind, verbose
        self.tmp = tempfile.mkdtemp(prefix="rollguard-kube-")
        self.fa = FakeAPI(make_seed(), tls_dir=os.path.join(self.tmp, "tls"),
                          tokens=[TOKEN]).start()
        self.procs = []
        self.n = 0

    def reset(self, seed=None, options=None):
        self.fa.reset()  # log, faults, tokens as at start
        self.fa.load_state(seed or make_seed())
        if options:
            self.fa.set_options(**options)
        self.fa.clear_log()
        self.n += 1
        self.dir = os.path.join(self.tmp, "case%d" % self.n)
        self.sa = os.path.join(self.dir, "sa")
        os.makedirs(self.sa)
        self.write_token(TOKEN)
        shutil.copy(self.fa.ca_file, os.path.join(self.sa, "ca.crt"))
        with open(os.path.join(self.sa, "namespace"), "w") as f:
            f.write(NS)

    def write_token(self, tok):
        path = os.path.join(self.sa, "token")
        with open(path + ".tmp", "w") as f:
            f.write(tok + "\n")
        os.replace(path + ".tmp", path)

    def config(self, mode="enforce", target="deployment", quorum=1, guard_window="30m",
               listen=None, admin=None, timeout="2s", extra="", app_section=True):
        self.cfg_n = getattr(self, "cfg_n", 0) + 1
        path = os.path.join(self.dir, "c%d.yaml" % self.cfg_n)
        with open(path, "w") as f:
            f.write(
                'listen: "127.0.0.1:%d"\n' % (listen or free_port()) +
                'admin_listen: "%s"\n' % ("127.0.0.1:%d" % admin if admin else "") +
                "log: {level: debug, format: json}\n" +
                ("app:\n  liveness: {enabled: false}\n  readiness: {enabled: false}\n"
                 '  metrics: {url: ""}\n' if app_section else "") +
                "rollback:\n  mode: %s\n  target: %s\n  quorum: %d\n  guard_window: %s\n"
                % (mode, target, quorum, guard_window) +
                "kubernetes:\n  api_server: %s\n  service_account_dir: %s\n"
                "  timeout: %s\n  lease_duration: 3s\n" % (self.fa.url, self.sa, timeout) +
                extra)
        return path

    def env(self, pod=PODS[0], hash_=BAD, ns=NS):
        e = dict(os.environ)
        for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
            e.pop(k, None)
        if pod:
            e["POD_NAME"] = pod
        else:
            e.pop("POD_NAME", None)
        e["POD_NAMESPACE"] = ns
        e["POD_TEMPLATE_HASH"] = hash_
        return e

    # -- the orchestrator, scripted ------------------------------------------------------
    def driver(self, cfg, pod=PODS[0], hash_=BAD, fail_at=0, interval=300, duration=2500,
               manual=None, dry_run=False, wait=True, until_done=True):
        if self.valgrind:  # everything is slower: stretch the script
            duration *= 5
            fail_at = fail_at * 5 if fail_at else fail_at
        cmd = valgrind_prefix(self.valgrind) + [
            self.driver_bin, "--config", cfg, "--interval", str(interval),
            "--duration", str(duration)]
        if until_done:
            cmd.append("--until-done")
        if manual is not None:
            cmd += ["--manual", str(manual)]
        elif fail_at is not None:
            cmd += ["--fail-at", str(fail_at)]
        if dry_run:
            cmd.append("--dry-run")
        p = subprocess.Popen(cmd, env=self.env(pod, hash_), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return self.finish(p) if wait else p

    def finish(self, p, timeout=90):
        out, err = p.communicate(timeout=timeout)
        self.procs.remove(p)
        if self.verbose:
            sys.stderr.write(err)
        check_clean(err)
        assert p.returncode == 0, "driver exit %s:\n%s" % (p.returncode, err[-3000:])
        try:
            status = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise AssertionError("driver printed no status: rc=%s\n%s" % (p.returncode,
                                                                           err[-3000:]))
        return status, logs(err), err

    # -- the real binary -----------------------------------------------------------------
    def cli(self, cfg, *args, pod=PODS[0], hash_=BAD):
        p = subprocess.run(valgrind_prefix(self.valgrind) +
                           [self.binary, "rollback", "--config", cfg] + list(args),
                           env=self.env(pod, hash_), capture_output=True, text=True,
                           timeout=120)
        if self.verbose:
            sys.stderr.write(p.stderr)
        check_clean(p.stderr)
        return p

    def daemon(self, cfg, env):
        p = subprocess.Popen([self.binary, "--config", cfg], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def stop(self, p, check=True):
        """SIGTERM, wait (SIGKILL after 15 s); returns stderr, checked clean unless told."""
        err = terminate(p)
        if p in self.procs:
            self.procs.remove(p)
        if check:
            check_clean(err)
        return err

    def cleanup(self):
        for p in list(self.procs):
            if p.poll() is None:
                p.kill()
            p.communicate()
        self.procs = []

    def close(self):
        """The end of the run: every child, the fake API and the temporary files."""
        self.cleanup()
        self.fa.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- fake API views --------------------------------------------------------------------
    def dep(self):
        return self.fa.get_object("deployments", NS, "web")

    def patches(self, applied=False, path=DEP):
        out = [e for e in self.fa.requests(method="PATCH") if e["path"] == path]
        # a PATCH whose answer was cut after it was applied counts as applied
        return [e for e in out if e["status"] == 200 or str(e["status"]).startswith(
            "closed-mid")] if applied else out

    def writes(self):
        return self.fa.requests(writes_only=True)

    def events(self, reason=None):
        evs = self.fa.list_objects("events", NS)
        return [e for e in evs if reason is None or e.get("reason") == reason]

    def lease(self):
        return self.fa.get_object("leases", NS, "web-rollguard")

    def image(self):
        return self.dep()["spec"]["template"]["spec"]["containers"][0]["image"]


def fleet(scene, quorum, analysis=FAST_ANALYSIS, metrics="interval: 1s, timeout: 500ms",
          rate=100):
    """Three real daemons, one per pod of the bad revision, each with its own fake app fed
    `rate` requests/s of healthy Traffic. analysis: the config's analysis block (the fast
    one by default; "" for the shipped defaults); metrics: extra app.metrics keys.
    Returns (apps, traffic, daemons, ports)."""
    apps, traffic, daemons, ports = [], [], [], []
    for pod in PODS:
        app = FakeApp()
        app.start()
        apps.append(app)
        traffic.append(Traffic(app, rate=rate))
        port = free_port()
        ports.append(port)
        cfg = scene.config(quorum=quorum, listen=port, extra=(
            "app:\n  liveness: {enabled: false}\n  readiness: {enabled: false}\n"
            "  metrics: {url: \"%s\"%s}\n" % (app.url("/metrics"),
                                               ", " + metrics if metrics else "") +
            analysis), app_section=False)
        daemons.append(scene.daemon(cfg, scene.env(pod=pod)))
    return apps, traffic, daemons, ports


def stop_fleet(scene, apps, traffic, daemons, check=True):
    """Traffic off, every daemon SIGTERMed at once and reaped (stderr checked clean unless
    told), the apps stopped."""
    for t in traffic:
        t.stop()
    for d in daemons:
        if d.poll() is None:
            d.terminate()
    try:
        for d in daemons:
            scene.stop(d, check=check)
    finally:
        for a in apps:
            a.stop()


def daemon_up(port):
    """/livez answers 200."""
    try:
        return http("GET", "http://127.0.0.1:%d/livez" % port, timeout=1)[0] == 200
    except OSError:
        return False


def status(port, timeout=1):
    """GET /status as JSON, or None."""
    return get_json(port, "/status", timeout=timeout)
