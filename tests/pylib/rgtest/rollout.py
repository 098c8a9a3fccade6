"""A rollout scene: Deployment prod/web at revision 1 with its stable pods, then a new
revision rolled out the way `kubectl set image` does it, every pod with a real rollguard
sidecar LISTENING ON THE SAME PORT on its own loopback address (127.0.0.11.. for the
stable revision, 127.0.0.21.. for the new one: the address is the Pod's status.podIP),
each in front of its own FakeApp fed by Traffic.  One fake API server (tests/fakeapi,
TLS) per scene, so scenes run side by side; every daemon has its own service-account
token, so the fake's request log tells its requests apart (token_fp).

Used by tests/control/run.py.

    sc = RolloutScene(binary, workdir, name="case")
    sc.start_stable()                      # 3 stable pods: objects, apps, daemons
    ...
    how = sc.rollout("registry.example/web:v2")   # kubectl set image, or its PATCH
    sc.add_new_pods(); sc.start_new()
    ...
    sc.close()                             # everything stopped; stderr checked clean
"""

import datetime
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from . import add_path
from .fakeapp import FakeApp
from .net import http_get
from .procs import check_clean, logs
from .traffic import Traffic

add_path("tests", "fakeapi")
from fakeapi import FakeAPI, ensure_tls  # noqa: E402

NS = "prod"
DEP = "/apis/apps/v1/namespaces/prod/deployments/web"
LEASE_NAME = "web-rollguard"
DEP_UID = "6b3c8f2e-0000-4000-8000-0000000000d1"
IMAGE_V1 = "registry.example/web:v1"
IMAGE_V2 = "registry.example/web:v2"
STABLE_IPS = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
NEW_IPS = ["127.0.0.21", "127.0.0.22", "127.0.0.23"]
KUBECTL_TOKEN = "tok-kubectl"

# The fast analysis: decisions within seconds (the shipped defaults are minutes).
FAST_ANALYSIS = {
    "interval": "1s", "window": "5s", "warmup": "2s", "baseline_window": "20s",
    "error_rate": "{max: 0.05, min_requests: 50}", "latency": "{min_samples: 50}",
    "consecutive_breaches": "2",
}
CONTROL_BLOCK = "{enabled: true, pods: 3, timeout: 1s, port: 0}"


def rfc3339(delta=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def token_fp(tok):
    return hashlib.sha256(tok.encode()).hexdigest()[:12]


def binary_supports(binary, key):
    """The config key appears in `rollguard --print-reference` (the binary knows it)."""
    try:
        out = subprocess.run([binary, "--print-reference"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ("`%s" % key) in out


def pick_port(hosts):
    """A port free on every host of hosts (each loopback address of the scene)."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        ok = True
        for h in hosts[1:]:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                t.bind((h, port))
            except OSError:
                ok = False
            finally:
                t.close()
            if ok is False:
                break
        if ok:
            return port
    raise RuntimeError("no port free on %s" % hosts)


def pod_object(name, hash_, ip, rs, image):
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "generateName": "web-%s-" % hash_, "namespace": NS,
            "labels": {"app": "web", "pod-template-hash": hash_},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": rs["metadata"]["name"],
                                 "uid": rs["metadata"]["uid"], "controller": True,
                                 "blockOwnerDeletion": True}]},
        "spec": {"serviceAccountName": "web-sidecar", "nodeName": "node-1",
                 "containers": [{"name": "app", "image": image}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "hostIP": "10.0.0.1", "startTime": rfc3339(),
                   "conditions": [
                       {"type": "Initialized", "status": "True", "lastProbeTime": None,
                        "lastTransitionTime": rfc3339()},
                       {"type": "Ready", "status": "True", "lastProbeTime": None,
                        "lastTransitionTime": rfc3339()},
                       {"type": "ContainersReady", "status": "True", "lastProbeTime": None,
                        "lastTransitionTime": rfc3339()},
                       {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                        "lastTransitionTime": rfc3339()}]},
    }


def deployment_v1():
    """Deployment prod/web at revision 1 (created two days ago), image v1, 3 replicas."""
    return {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "web", "namespace": NS, "uid": DEP_UID, "generation": 1,
                     "creationTimestamp": rfc3339(-2 * 86400), "labels": {"app": "web"},
                     "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {
            "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "app", "image": IMAGE_V1, "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst", "securityContext": {},
                    "schedulerName": "default-scheduler"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                   "readyReplicas": 3, "availableReplicas": 3},
    }


class Pod:
    """One pod of the scene: its Pod object's name and IP, its service-account dir and
    token, its app (FakeApp + Traffic) and its sidecar (a rollguard daemon, stderr to a
    file)."""

    def __init__(self, scene, role, i, hash_, ip):
        self.scene, self.role, self.i, self.hash, self.ip = scene, role, i, hash_, ip
        self.name = "web-%s-%s%d" % (hash_, role[:1], i)
        self.token = "tok-%s-%s" % (self.name, os.urandom(4).hex())
        self.fp = token_fp(self.token)
        self.app = None
        self.traffic = None
        self.proc = None
        self.err_path = None
        self.err = ""
        self.exits = []  # (exit code, seconds from SIGTERM to exit)
        self.t_start = None
        self.sa = os.path.join(scene.dir, "sa-" + self.name)
        os.makedirs(self.sa)
        with open(os.path.join(self.sa, "token"), "w") as f:
            f.write(self.token + "\n")
        shutil.copy(scene.fa.ca_file, os.path.join(self.sa, "ca.crt"))
        with open(os.path.join(self.sa, "namespace"), "w") as f:
            f.write(NS)
        scene.fa.add_token(self.token)

    @property
    def port(self):
        return self.scene.port

    def url(self, path):
        return "http://%s:%d%s" % (self.ip, self.port, path)

    def start_app(self, rate=100, errors=0.0, latency=0.02):
        self.app = FakeApp().start()
        self.traffic = Traffic(self.app, rate=rate, errors=errors, latency=latency)
        return self

    def config(self):
        sc = self.scene
        an = dict(FAST_ANALYSIS)
        an.update(sc.analysis)
        if sc.control is not None:
            an["control"] = sc.control
        an_s = ", ".join("%s: %s" % (k, v) for k, v in an.items())
        rb = {"mode": "enforce", "target": "deployment", "guard_window": "30m",
              "baseline_publish_interval": sc.publish_interval}
        rb.update(sc.rollback)
        rb_s = ", ".join("%s: %s" % (k, v) for k, v in rb.items())
        path = os.path.join(sc.dir, "%s.yaml" % self.name)
        with open(path, "w") as f:
            f.write(
                'listen: "%s:%d"\nadmin_listen: ""\n' % (self.ip, self.port) +
                "server: {drain: 500ms}\n"
                "log: {level: %s, format: json}\n" % sc.log_level +
                "app:\n  liveness: {enabled: false}\n  readiness: {enabled: false}\n"
                '  metrics: {url: "%s", interval: 1s, timeout: 500ms}\n'
                % self.app.url("/metrics") +
                "analysis: {%s}\n" % an_s +
                "rollback: {%s}\n" % rb_s +
                "kubernetes:\n  api_server: %s\n  service_account_dir: %s\n"
                "  timeout: 2s\n  lease_duration: 3s\n" % (sc.fa.url, self.sa))
        return path

    def env(self):
        e = dict(os.environ)
        for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
            e.pop(k, None)
        e.update({"POD_NAME": self.name, "POD_NAMESPACE": NS, "POD_TEMPLATE_HASH": self.hash})
        return e

    def start(self):
        """The sidecar, in front of this pod's app."""
        cfg = self.config()
        self.err_path = os.path.join(self.scene.dir, "%s.%d.stderr" % (
            self.name, len(self.exits)))
        with open(self.err_path, "w") as ef:
            self.proc = subprocess.Popen([self.scene.binary, "--config", cfg],
                                         env=self.env(), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=ef)
        self.t_start = time.time()
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15, t_sent=None):
        """SIGTERM (unless sent already at t_sent: a second one means "now"), wait;
        records (exit code, seconds from SIGTERM to exit); stderr kept in self.err and
        checked clean (sanitizer/valgrind marks)."""
        if self.proc is None:
            return None
        t0 = t_sent
        if t0 is None:
            t0 = time.time()
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        rc = self.proc.returncode
        self.exits.append((rc, time.time() - t0))
        with open(self.err_path, errors="replace") as f:
            self.err += f.read()
        self.proc = None
        if self.scene.verbose:
            sys.stderr.write("---- %s/%s\n%s" % (self.scene.name, self.name, self.err[-6000:]))
        check_clean(self.err)
        return rc

    def stderr_now(self):
        if not self.err_path:
            return ""
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def log_lines(self):
        return logs(self.err + (self.stderr_now() if self.proc else ""))

    # -- the sidecar's endpoints ----------------------------------------------------------
    def get(self, path, timeout=1.0):
        """(status, body bytes) of GET path on this pod's sidecar, or (None, error)."""
        return http_get(self.port, path, timeout=timeout, host=self.ip)

    def status(self, timeout=2.0):
        st, body = self.get("/status", timeout)
        try:
            return json.loads(body) if st == 200 else None
        except ValueError:
            return None

    def summary(self, timeout=2.0):
        st, body = self.get("/summary", timeout)
        try:
            return st, json.loads(body)
        except (ValueError, TypeError):
            return st, None

    def up(self):
        return self.get("/livez")[0] == 200


class RolloutScene:
    """One fake API (own store, log, tokens) and the pods of Deployment prod/web.

    analysis: extra analysis keys ({"baseline_window": "15s"}); control: the
    analysis.control flow mapping, or None to leave the key out (a binary without it);
    publish_interval: rollback.baseline_publish_interval of every sidecar."""

    def __init__(self, binary, workdir, name, tls_dir, analysis=None, control=CONTROL_BLOCK,
                 publish_interval="1m", rollback=None, log_level="debug", verbose=False,
                 kubectl=None):
        self.binary, self.name, self.verbose = binary, name, verbose
        self.analysis = dict(analysis or {})
        self.control = control
        self.publish_interval = publish_interval
        self.rollback = dict(rollback or {})
        self.log_level = log_level
        self.kubectl = kubectl
        self.dir = os.path.join(workdir, name.replace(" ", "_"))
        os.makedirs(self.dir)
        ensure_tls(tls_dir)
        self.port = pick_port(STABLE_IPS + NEW_IPS)
        self.fa = FakeAPI({"objects": []}, tls_dir=tls_dir, tokens=[KUBECTL_TOKEN],
                          control_port=None, options={"controller": True,
                                                      "controller_scale": False}).start()
        self.stable, self.new = [], []
        self.stable_rs = self.new_rs = None
        self.rollout_how = None
        self.t_rollout = None
        self.extra = []  # other things to stop at close (fake pod servers, ...)
        self._seed()

    # -- objects ---------------------------------------------------------------------------
    def _seed(self):
        self.fa.put_object(deployment_v1(), controller=True)
        rss = self.fa.list_objects("replicasets", NS)
        assert len(rss) == 1, rss
        rs = rss[0]
        rs["metadata"]["creationTimestamp"] = rfc3339(-2 * 86400)
        rs["spec"]["replicas"] = 3
        rs["status"] = {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3,
                        "availableReplicas": 3, "observedGeneration": 1}
        self.stable_rs = self.fa.put_object(rs)
        self.stable_hash = rs["metadata"]["labels"]["pod-template-hash"]

    def add_stable_pods(self, n=3):
        for i in range(n):
            p = Pod(self, "stable", i, self.stable_hash, STABLE_IPS[i])
            self.fa.put_object(pod_object(p.name, p.hash, p.ip, self.stable_rs, IMAGE_V1))
            self.stable.append(p)
        return self.stable

    def start_stable(self, n=3, daemons=True, **traffic):
        """Stable Pod objects, their apps and (daemons=True) their sidecars."""
        for p in self.add_stable_pods(n):
            p.start_app(**traffic)
            if daemons:
                p.start()
        return self.stable

    def kubeconfig(self):
        kdir = os.path.join(self.dir, "kube")
        os.makedirs(kdir, exist_ok=True)
        path = os.path.join(kdir, "config")
        with open(path, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
                    "    server: %s\n    certificate-authority: %s\nusers:\n- name: u\n"
                    "  user:\n    token: %s\ncontexts:\n- name: c\n  context:\n"
                    "    cluster: fake\n    user: u\n    namespace: %s\n"
                    "current-context: c\n" % (self.fa.url, self.fa.ca_file, KUBECTL_TOKEN, NS))
        return kdir, path

    def rollout(self, image=IMAGE_V2):
        """`kubectl set image deployment/web app=IMAGE` against the fake when kubectl is
        given, else the strategic-merge PATCH kubectl sends.  The fake controller makes
        the new ReplicaSet (revision 2); it is marked 3 ready replicas here (the pods come
        with add_new_pods).  Returns how it was done ("kubectl ..." or "PATCH ...")."""
        self.t_rollout = time.time()
        if self.kubectl:
            kdir, cfg = self.kubeconfig()
            p = subprocess.run([self.kubectl, "--cache-dir", os.path.join(kdir, "cache"),
                                "set", "image", "deployment/web", "app=" + image, "-n", NS],
                               env=dict(os.environ, KUBECONFIG=cfg, HOME=kdir),
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, "kubectl set image: %s %s" % (p.stdout, p.stderr)
            assert "image updated" in p.stdout, p.stdout
            self.rollout_how = "kubectl set image (%s)" % self.kubectl
        else:
            body = json.dumps({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": image}]}}}})
            ctx = ssl.create_default_context(cafile=self.fa.ca_file)
            c = http.client.HTTPSConnection("127.0.0.1", self.fa.port, context=ctx, timeout=10)
            try:
                c.request("PATCH", DEP + "?fieldManager=kubectl-set", body=body, headers={
                    "Authorization": "Bearer " + KUBECTL_TOKEN,
                    "Content-Type": "application/strategic-merge-patch+json",
                    "Accept": "application/json"})
                r = c.getresponse()
                data = r.read()
            finally:
                c.close()
            assert r.status == 200, "PATCH: %d %s" % (r.status, data[:500])
            self.rollout_how = "PATCH strategic-merge (no kubectl on PATH)"
        new = [rs for rs in self.fa.list_objects("replicasets", NS)
               if rs["metadata"]["name"] != self.stable_rs["metadata"]["name"]]
        assert len(new) == 1, "the controller made %d new ReplicaSets" % len(new)
        rs = new[0]
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2", rs
        rs["spec"]["replicas"] = 3
        rs["status"] = {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3,
                        "availableReplicas": 3, "observedGeneration": 1}
        self.new_rs = self.fa.put_object(rs)
        self.new_hash = rs["metadata"]["labels"]["pod-template-hash"]
        return self.rollout_how

    def add_new_pods(self, n=3):
        for i in range(n):
            p = Pod(self, "new", i, self.new_hash, NEW_IPS[i])
            self.fa.put_object(pod_object(p.name, p.hash, p.ip, self.new_rs, IMAGE_V2))
            self.new.append(p)
        return self.new

    def start_new(self, n=3, **traffic):
        """The new revision's Pod objects, apps and sidecars; returns the start time."""
        for p in self.add_new_pods(n):
            p.start_app(**traffic)
        # taken before the first sidecar starts: its first API request (the walk's GET of
        # its pod) may come before the others have started
        self.t_new = time.time()
        for p in self.new:
            p.start()
        return self.t_new

    # -- views -------------------------------------------------------------------------------
    def dep(self):
        return self.fa.get_object("deployments", NS, "web")

    def image(self):
        return self.dep()["spec"]["template"]["spec"]["containers"][0]["image"]

    def patches(self, applied=False, sidecars_only=True):
        fps = {p.fp for p in self.stable + self.new}
        out = [e for e in self.fa.requests(method="PATCH") if e["path"] == DEP
               and (not sidecars_only or e.get("token_fp") in fps)]
        return [e for e in out if e["status"] == 200 or str(e["status"]).startswith(
            "closed-mid")] if applied else out

    def dep_writes(self, since_time=0.0):
        """Writes to the Deployment (any subresource) by the sidecars."""
        fps = {p.fp for p in self.stable + self.new}
        return [e for e in self.fa.requests(writes_only=True)
                if e["path"].startswith(DEP) and e.get("token_fp") in fps
                and e["time"] >= since_time]

    def events(self, reason=None):
        evs = self.fa.list_objects("events", NS)
        return [e for e in evs if reason is None or e.get("reason") == reason]

    def lease(self):
        return self.fa.get_object("leases", NS, LEASE_NAME)

    def lease_baseline(self):
        ls = self.lease()
        ann = ((ls or {}).get("metadata") or {}).get("annotations") or {}
        return ann.get("rollguard.io/baseline")

    def requests_of(self, pod, since_time=0.0):
        return [e for e in self.fa.requests() if e.get("token_fp") == pod.fp
                and e["time"] >= since_time]

    def request_counts(self, pod, since_time=0.0):
        """pod's API requests since since_time by kind: identity (the GETs of the pod,
        its ReplicaSet and the Deployment before any other request: the start's walk),
        reads (later GETs of ReplicaSets and the Deployment: a decision's), pods_list
        (LISTs of pods: finding the control), lease, events, deployment_write, other,
        total."""
        c = {"identity": 0, "reads": 0, "pods_list": 0, "lease": 0, "events": 0,
             "deployment_write": 0, "other": 0}
        walking = True
        for e in self.requests_of(pod, since_time):
            path, m = e["path"], e["method"]
            is_walk = m == "GET" and ("/pods/" in path or "/replicasets" in path
                                      or path == DEP)
            if walking and is_walk:
                c["identity"] += 1
                continue
            walking = False
            if "/leases" in path:
                c["lease"] += 1
            elif "/events" in path:
                c["events"] += 1
            elif path.endswith("/pods") and m == "GET":
                c["pods_list"] += 1
            elif path.startswith(DEP) and m != "GET":
                c["deployment_write"] += 1
            elif is_walk:
                c["reads"] += 1
            else:
                c["other"] += 1
        c["total"] = sum(c.values())
        return c

    # -- the end -----------------------------------------------------------------------------
    def stop_daemons(self, pods=None):
        """SIGTERM to every running sidecar of pods (all by default) at once, each
        reaped; returns [(pod, exit code, seconds)]."""
        pods = [p for p in (pods if pods is not None else self.stable + self.new) if p.proc]
        sent = {}
        for p in pods:
            if p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
            sent[p.name] = time.time()
        return [(p, p.stop(t_sent=sent[p.name]), p.exits[-1][1]) for p in pods]

    def close(self):
        """Every sidecar (SIGTERM at once; each must exit 0, stderr clean), app, extra
        and the API."""
        first = None
        try:
            out = self.stop_daemons()
            bad = [(p.name, rc) for p, rc, _ in out if rc != 0]
            if bad:
                first = AssertionError("sidecar exit codes after SIGTERM: %s" % bad)
        except AssertionError as e:
            first = e
        finally:
            for p in self.stable + self.new:
                if p.proc is not None and p.proc.poll() is None:
                    p.proc.kill()
                    p.proc.wait()
                if p.traffic:
                    p.traffic.stop()
                if p.app:
                    p.app.stop()
            for x in self.extra:
                try:
                    x.stop()
                except Exception:  # noqa: BLE001 - closing; the case said what failed
                    pass
            self.fa.stop()
        if first:
            raise first


# ----------------------------------------------------------------------------------------------
# Stand-ins for a stable pod's sidecar that misbehaves (listening on its podIP:port)
# ----------------------------------------------------------------------------------------------

class FakePodServer:
    """A listener on ip:port that stands for a stable pod's sidecar: mode "hang" accepts
    and never answers (holds every connection until stop), "raw" answers every request
    with the bytes `reply` and closes.  Counts the connections it accepted."""

    def __init__(self, ip, port, mode, reply=b""):
        self.ip, self.port, self.mode, self.reply = ip, port, mode, reply
        self.accepted = 0
        self._stop = threading.Event()
        self._conns = []
        self._lock = threading.Lock()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        s.listen(128)
        s.settimeout(0.1)
        self._sock = s
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self._conns.append(c)
            if self.mode == "raw":
                threading.Thread(target=self._answer, args=(c,), daemon=True).start()

    def _answer(self, c):
        try:
            c.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            c.sendall(self.reply)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def stop(self):
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        with self._lock:
            for c in self._conns:
                try:
                    c.close()
                except OSError:
                    pass
        self._t.join(2)


def http_reply(status, body, ctype="application/json", extra=""):
    """The raw bytes of an HTTP/1.1 answer (Connection: close)."""
    if isinstance(body, str):
        body = body.encode()
    reason = {200: "OK", 302: "Found", 500: "Internal Server Error"}.get(status, "X")
    return (("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s"
             "Connection: close\r\n\r\n" % (status, reason, ctype, len(body), extra)).encode()
            + body)
