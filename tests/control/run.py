#!/usr/bin/env python3
"""End-to-end acceptance of judging a new revision against its concurrent control
(stdlib only).

Every case is a scene of its own (tests/pylib/rgtest/rollout.py): a fake API server
(tests/fakeapi, TLS, the Deployment controller simulated) holding Deployment prod/web at
revision 1, three stable pods whose real rollguard sidecars listen on 127.0.0.11..13 (the
Pods' status.podIP) and all on one port, each in front of its own fake app fed ~100
requests/s; the rollout made as `kubectl set image deployment/web app=...:v2` makes it
(the real kubectl when on PATH, else the strategic-merge PATCH it sends: the case line
says which); three new Pods (127.0.0.21..23) and their sidecars.  The cases:

  shared_slowdown_before_rollout   every app 2x slower since 30 s before the rollout:
                                   no Deployment write in 75 s, one RollbackWithheld Event
  shared_errors_before_rollout     the same with 20 % errors everywhere
  release_slower_no_baseline       the release 2x slower than its control, no baseline on
                                   the Lease: one rollback within 30 s of the warm-up's end
  shared_slowdown_after_rollout    every app slower after the new pods started: one
                                   rollback, the Event names the stable revision's trouble
  control_refused / control_hang / control_garbage
                                   the control pods refuse, hang, or answer garbage:
                                   fallback with the reason on /status, probes within
                                   50 ms, a clean exit; the release's 20 % errors are still
                                   rolled back once
  one_slow_new_pod_then_all        one new pod of three 2x slower: no rollback in 60 s;
                                   all three: one rollback

    python3 tests/control/run.py [--binary build/rollguard] [-k SUBSTRING] [--parallel N]
                                 [-v] [--keep]

Prints one line per case (with indented detail lines: timings, the API requests of every
new pod) and, last, exactly one line `N passed, N failed`; exits 1 when a case failed.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
from rgtest import rollout as R  # noqa: E402
from rgtest.net import wait_for  # noqa: E402
from rgtest.prober import Prober  # noqa: E402

ARGS = None
SUITE = []  # (name, function, expected seconds): the longest start first

FAST_LAT, SLOW_LAT = 0.02, 0.04  # the apps' latency, and 2x that
LEAD_S = 30        # a shared fault began this long before the rollout
WATCH_S = 75       # no Deployment write in the 75 s after the new pods start
DECIDE_S = 30      # a rollback within 30 s after the new pods' warm-up ends
ONE_SLOW_S = 60    # one slow new pod of three: no rollback in ~60 s
WARMUP_S = 2.0     # analysis.warmup of the fast config (rgtest.rollout.FAST_ANALYSIS)


def case(seconds):
    def reg(fn):
        SUITE.append((fn.__name__[len("test_"):], fn, seconds))
        return fn
    return reg


class Ctx:
    """What a case gets: the scene factory and a place for its detail lines."""

    def __init__(self, name):
        self.name = name
        self.lines = []
        self.scenes = []

    def note(self, fmt, *args):
        self.lines.append("    " + (fmt % args if args else fmt))

    def scene(self, suffix="", **kw):
        kw.setdefault("control", ARGS.control)
        kw.setdefault("verbose", ARGS.verbose)
        sc = R.RolloutScene(ARGS.binary, ARGS.tmp, self.name + suffix, ARGS.tls,
                            kubectl=ARGS.kubectl, **kw)
        self.scenes.append(sc)
        return sc

    def close(self):
        first = None
        for sc in self.scenes:
            try:
                sc.close()
            except Exception as e:  # noqa: BLE001
                first = first or e
        if first:
            raise first


# ------------------------------------------------------------------------------------------
# Shared steps
# ------------------------------------------------------------------------------------------

def set_traffic(pods, **kw):
    for p in pods:
        for k, v in kw.items():
            setattr(p.traffic, k, v)


def wait_up(pods, timeout=20):
    for p in pods:
        assert wait_for(lambda: p.up(), timeout=timeout), "%s: sidecar not up on %s:%d" % (
            p.name, p.ip, p.port)
        assert wait_for(lambda: ((p.status() or {}).get("rollback") or {}).get(
            "identity", {}).get("known"), timeout=timeout), "%s: identity never known: %s" % (
            p.name, (p.status() or {}).get("rollback", {}).get("identity"))


def wait_stable_baselines(sc, timeout=60):
    """Every stable sidecar serves /summary with its rolling baseline (error rate and
    latency) usable."""
    def ready(p):
        st, doc = p.summary()
        b = (doc or {}).get("baseline") or {}
        return st == 200 and b.get("latency_seconds") is not None \
            and b.get("error_rate") is not None
    t0 = time.time()
    for p in sc.stable:
        assert wait_for(lambda: ready(p), timeout=max(1, timeout - (time.time() - t0)),
                        step=0.5), "%s: no usable baseline on /summary: %s" % (
            p.name, p.summary())
    return time.time() - t0


def wait_published(sc, timeout=100):
    """A stable sidecar published its baseline on the Lease."""
    t0 = time.time()
    assert wait_for(lambda: sc.lease_baseline(), timeout=timeout, step=0.5), \
        "no baseline published on the Lease in %d s: %s" % (timeout, sc.lease())
    return time.time() - t0


def wait_degraded(pods, timeout=30):
    def deg(p):
        st, doc = p.summary()
        return st == 200 and (doc or {}).get("degraded") is True
    for p in pods:
        assert wait_for(lambda: deg(p), timeout=timeout, step=0.5), \
            "%s: the stable pod never says degraded: %s" % (p.name, p.summary())


def control_of(st):
    """(the /status "control" object, the verdict evidence's "control" object)."""
    st = st or {}
    an = st.get("analysis") or {}
    ev = an.get("control")
    if ev is None:
        ev = (an.get("evidence") or {}).get("control")
    return st.get("control"), ev


def api_report(sc, since):
    """One line: the API requests of every new pod since `since` (by its token); each
    walked pod -> ReplicaSet -> Deployment once (3 GETs) and LISTed pods once (a new pod
    lists again only when no stable pod answers, a minute later at the earliest)."""
    parts = []
    for p in sc.new:
        c = sc.request_counts(p, since)
        assert c["identity"] == 3, "%s: identity requests %d" % (p.name, c["identity"])
        assert 1 <= c["pods_list"] <= 1 + int((time.time() - since) / 60), \
            "%s: pods LISTs %d" % (p.name, c["pods_list"])
        parts.append("%s: %d (identity %d, pods LIST %d, Lease %d, Events %d, other reads "
                     "%d%s%s)" % (
            p.name[-2:], c["total"], c["identity"], c["pods_list"], c["lease"], c["events"],
            c["reads"],
            ", Deployment writes %d" % c["deployment_write"] if c["deployment_write"] else "",
            ", other %d" % c["other"] if c["other"] else ""))
    return "API requests per new pod: " + "; ".join(parts)


def assert_exits_clean(sc, pods, limit_s=3.0):
    """Every sidecar of pods is still running, then SIGTERM: exit 0 within limit_s,
    stderr clean (rgtest.procs.check_clean)."""
    dead = [(p.name, p.proc.returncode) for p in pods if p.proc and p.proc.poll() is not None]
    assert not dead, "sidecars died: %s" % dead
    out = sc.stop_daemons(pods)
    bad = [(p.name, rc, round(s, 2)) for p, rc, s in out if rc != 0 or s > limit_s]
    assert not bad, "exit after SIGTERM (name, code, seconds): %s" % bad
    return max(s for _, _, s in out)


def stable_running(sc):
    """The stable revision's pods serving fast traffic with usable baselines on /summary;
    returns the seconds that took."""
    sc.start_stable(latency=FAST_LAT)
    wait_up(sc.stable)
    return wait_stable_baselines(sc)


def rollout_and_start_new(ctx, sc, **traffic):
    how = sc.rollout(R.IMAGE_V2)
    ctx.note("rollout: %s; new ReplicaSet %s", how, sc.new_rs["metadata"]["name"])
    t_new = sc.start_new(**traffic)
    wait_up(sc.new)
    return t_new


def evidence_of(ev):
    try:
        return json.loads(ev["metadata"]["annotations"]["rollguard.io/evidence"])
    except (KeyError, TypeError, ValueError):
        return {}


# ------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------

def shared_before(ctx, fault):
    sc = ctx.scene()
    took = stable_running(sc)
    t_fault = time.time()
    if fault == "slow":
        set_traffic(sc.stable, latency=SLOW_LAT)
    else:
        set_traffic(sc.stable, errors=0.20)
    wait_degraded(sc.stable, timeout=LEAD_S - 5)
    t_pub = wait_published(sc, timeout=100) if fault == "slow" else None
    time.sleep(max(0.0, t_fault + LEAD_S - time.time()))
    lead = time.time() - t_fault
    t_new = rollout_and_start_new(ctx, sc, latency=SLOW_LAT if fault == "slow" else FAST_LAT,
                                  errors=0.20 if fault == "errors" else 0.0)
    end = t_new + WATCH_S
    first_withheld = None
    while time.time() < end:
        if first_withheld is None and sc.events("RollbackWithheld"):
            first_withheld = time.time() - t_new
        w = sc.dep_writes(t_new)
        assert not w, "Deployment written %.1f s after the new pods started: %s" % (
            w[0]["time"] - t_new, [(e["method"], e["path"], e["status"]) for e in w])
        time.sleep(0.5)
    assert not sc.dep_writes(t_new), "a Deployment write"
    assert sc.image() == R.IMAGE_V2, sc.image()
    withheld = sc.events("RollbackWithheld")
    assert len(withheld) == 1, "RollbackWithheld Events: %d %s" % (
        len(withheld), [e.get("message") for e in withheld])
    ev = withheld[0]
    assert ev.get("type") == "Warning", ev
    assert (ev.get("involvedObject") or {}).get("kind") == "Deployment", ev
    assert not sc.events("RollbackTriggered"), "a RollbackTriggered Event"
    posts = [e for e in sc.fa.requests(method="POST") if "/events" in e["path"]]
    sts = [p.status() for p in sc.new]
    verdicts = [(s or {}).get("analysis") or {} for s in sts]
    withholding = [v for v in verdicts if "degraded too" in (v.get("reason") or "")]
    assert withholding, "no new pod says the stable revision degraded too: %s" % [
        (v.get("outcome"), v.get("reason")) for v in verdicts]
    for s, p in zip(sts, sc.new):
        c, evc = control_of(s)
        assert c and c.get("in_use") is True, "%s: /status control %s" % (p.name, c)
    decisions = [(control_of(s)[1] or {}).get("decision") for s in sts]
    withheld_st = [((s or {}).get("rollback") or {}).get("withheld") for s in sts]
    assert all(w and w.get("episodes", 0) >= 1 for w in withheld_st), \
        "/status rollback.withheld: %s" % withheld_st
    assert "withhold" in decisions, "evidence control decisions %s" % decisions
    ctx.note("stable baselines in %.1f s%s; fault %.1f s before the rollout; RollbackWithheld "
             "%.1f s after the new pods started (%d POSTs of it, %s); verdicts %s; decisions %s",
             took, "; Lease baseline %.1f s later" % t_pub if t_pub is not None else "", lead,
             first_withheld or -1, len(posts), sorted(set(str(e["status"]) for e in posts)),
             [(v.get("outcome"), v.get("reason")) for v in verdicts][:1], decisions)
    ctx.note("/status rollback.withheld: %s", withheld_st)
    ctx.note("Event: %s", ev.get("message"))
    ctx.note(api_report(sc, t_new))


@case(150)
def test_shared_slowdown_before_rollout(ctx):
    shared_before(ctx, "slow")


@case(140)
def test_shared_errors_before_rollout(ctx):
    shared_before(ctx, "errors")


@case(75)
def test_release_slower_no_baseline(ctx):
    sc = ctx.scene(publish_interval="24h")
    took = stable_running(sc)
    assert sc.lease_baseline() is None, "a baseline on the Lease before the rollout"
    t_new = rollout_and_start_new(ctx, sc, latency=SLOW_LAT)
    t_warm = t_new + WARMUP_S
    assert wait_for(lambda: sc.patches(applied=True), timeout=t_warm + DECIDE_S + 5 -
                    time.time(), step=0.2), \
        "no rollback within %d s after the warm-up: %s" % (DECIDE_S, [
            ((p.status() or {}).get("analysis") or {}).get("reason") for p in sc.new])
    t_patch = sc.patches(applied=True)[0]["time"]
    time.sleep(4)  # the leader's Event and Lease release; no second PATCH
    applied = sc.patches(applied=True)
    assert len(applied) == 1 and len(sc.patches()) == 1, "PATCHes: %s" % [
        e["status"] for e in sc.patches()]
    assert t_patch - t_warm <= DECIDE_S, "rolled back %.1f s after the warm-up" % (
        t_patch - t_warm)
    assert sc.image() == R.IMAGE_V1, sc.image()
    assert sc.lease_baseline() is None, "a baseline was published on the Lease"
    evs = sc.events("RollbackTriggered")
    assert len(evs) == 1, evs
    evd = evidence_of(evs[0])
    ctx.note("stable baselines in %.1f s; no Lease baseline; rolled back %.1f s after the "
             "warm-up ended; evidence rule %s control %s", took, t_patch - t_warm,
             evd.get("rule"), json.dumps(evd.get("control"))[:200])
    ctx.note("Event: %s", evs[0].get("message"))
    ctx.note(api_report(sc, t_new))


@case(100)
def test_shared_slowdown_after_rollout(ctx):
    sc = ctx.scene()
    took = stable_running(sc)
    t_pub = wait_published(sc)
    t_new = rollout_and_start_new(ctx, sc, latency=FAST_LAT)
    time.sleep(WARMUP_S + 8)  # the new pods judge (PASS) for a while
    assert not sc.patches(), "a PATCH before the slowdown"
    t_fault = time.time()
    set_traffic(sc.stable + sc.new, latency=SLOW_LAT)
    assert wait_for(lambda: sc.patches(applied=True), timeout=45, step=0.2), \
        "no rollback within 45 s of the shared slowdown: %s" % [
            ((p.status() or {}).get("analysis") or {}).get("reason") for p in sc.new]
    t_patch = sc.patches(applied=True)[0]["time"]
    time.sleep(4)
    assert len(sc.patches(applied=True)) == 1 and len(sc.patches()) == 1, "PATCHes: %s" % [
        e["status"] for e in sc.patches()]
    assert sc.image() == R.IMAGE_V1, sc.image()
    evs = sc.events("RollbackTriggered")
    assert len(evs) == 1, evs
    msg = evs[0].get("message") or ""
    assert "stable revision" in msg and "degraded" in msg, "the Event's message: %s" % msg
    assert not sc.events("RollbackWithheld"), "a RollbackWithheld Event"
    ctx.note("stable baselines in %.1f s, Lease baseline %.1f s later; rolled back %.1f s "
             "after the shared slowdown began", took, t_pub, t_patch - t_fault)
    ctx.note("Event: %s", msg)
    ctx.note(api_report(sc, t_new))


def control_broken(ctx, how):
    """The control pods refuse / hang / answer garbage: the new pods fall back."""
    sc = ctx.scene()
    servers = []
    if how == "refused":
        sc.start_stable(latency=FAST_LAT)
        wait_up(sc.stable)
        time.sleep(3)
        sc.stop_daemons(sc.stable)  # the Pod objects stay, Running and Ready
    else:
        sc.add_stable_pods()
        if how == "hang":
            for p in sc.stable:
                servers.append(R.FakePodServer(p.ip, p.port, "hang"))
        else:
            big = b'{"version":1,"revision":"' + b"x" * (1 << 20) + b'"}'
            replies = [R.http_reply(200, "<html><body>oops</body></html>", "text/html"),
                       R.http_reply(200, big),
                       R.http_reply(302, "", "text/plain", "Location: http://127.0.0.1:1/"
                                                           "summary\r\n")]
            for p, r in zip(sc.stable, replies):
                servers.append(R.FakePodServer(p.ip, p.port, "raw", r))
        sc.extra.extend(servers)
    t_new = rollout_and_start_new(ctx, sc, latency=FAST_LAT)
    prober = Prober(sc.dir, sc.new)
    try:
        t0 = time.time()
        time.sleep(WARMUP_S + 22)  # past the own baseline's min(2 min, baseline_window)
        sts = [p.status() for p in sc.new]
        reasons = []
        for p, s in zip(sc.new, sts):
            c, _ = control_of(s)
            assert c is not None, "%s: no control object on /status" % p.name
            assert c.get("in_use") is False, "%s: control in use: %s" % (p.name, c)
            assert c.get("reason"), "%s: no reason: %s" % (p.name, c)
            reasons.append(c["reason"])
            an = (s or {}).get("analysis") or {}
            assert an.get("outcome") == "PASS", "%s: verdict %s %s" % (
                p.name, an.get("outcome"), an.get("reason"))
        want = {"refused": ["refused"], "hang": ["timeout"],
                "garbage": ["garbage", "too_big", "bad_status"]}[how]
        for r in reasons:
            assert all(w in r for w in want), "reason %r lacks %s" % (r, want)
        assert not sc.patches(), "a PATCH with healthy new pods"
        # the release fails on its own evidence: still rolled back, once
        t_fault = time.time()
        set_traffic(sc.new, errors=0.20)
        assert wait_for(lambda: sc.patches(applied=True), timeout=30, step=0.2), \
            "no rollback within 30 s of the release's 20%% errors: %s" % [
                ((p.status() or {}).get("analysis") or {}).get("reason") for p in sc.new]
        t_patch = sc.patches(applied=True)[0]["time"]
        time.sleep(3)
        assert len(sc.patches(applied=True)) == 1 and len(sc.patches()) == 1
        evs = sc.events("RollbackTriggered")
        assert len(evs) == 1, evs
        decision = (evidence_of(evs[0]).get("control") or {}).get("decision")
        assert decision == "no_control", "the Event's evidence: control decision %r" % decision
        t1 = time.time()
        probes = [prober.check(p, t0, t1) for p in sc.new]
        worst_exit = assert_exits_clean(sc, sc.new)
        hits = [s.accepted for s in servers]
        ctx.note("reasons %s; control connections accepted by the stand-ins %s; rolled back "
                 "%.1f s after the release's errors (decision %s); probes %d, slowest %.1f ms; "
                 "exit within %.2f s of SIGTERM", sorted(set(reasons)), hits or "-",
                 t_patch - t_fault, decision, sum(n for n, _ in probes),
                 max(w for _, w in probes), worst_exit)
        if servers:
            assert all(h > 0 for h in hits), "a control pod was never asked: %s" % hits
        ctx.note(api_report(sc, t_new))
    finally:
        prober.stop()


@case(55)
def test_control_refused(ctx):
    control_broken(ctx, "refused")


@case(55)
def test_control_hang(ctx):
    control_broken(ctx, "hang")


@case(55)
def test_control_garbage(ctx):
    control_broken(ctx, "garbage")


@case(130)
def test_one_slow_new_pod_then_all(ctx):
    sc = ctx.scene()
    took = stable_running(sc)
    t_pub = wait_published(sc)
    t_new = rollout_and_start_new(ctx, sc, latency=FAST_LAT)
    set_traffic(sc.new[:1], latency=SLOW_LAT)
    end = t_new + ONE_SLOW_S
    while time.time() < end:
        assert not sc.patches(), "a PATCH %.1f s after the new pods started, one slow: %s" % (
            time.time() - t_new, sc.lease())
        time.sleep(0.5)
    ann = ((sc.lease() or {}).get("metadata") or {}).get("annotations") or {}
    votes_one = ann.get("rollguard.io/fail-votes")
    s0 = sc.new[0].status() or {}
    v0 = s0.get("analysis") or {}
    t_all = time.time()
    set_traffic(sc.new, latency=SLOW_LAT)
    assert wait_for(lambda: sc.patches(applied=True), timeout=45, step=0.2), \
        "no rollback within 45 s of all three slow: %s" % [
            ((p.status() or {}).get("analysis") or {}).get("reason") for p in sc.new]
    t_patch = sc.patches(applied=True)[0]["time"]
    time.sleep(4)
    assert len(sc.patches(applied=True)) == 1 and len(sc.patches()) == 1, "PATCHes: %s" % [
        e["status"] for e in sc.patches()]
    evs = sc.events("RollbackTriggered")
    assert len(evs) == 1, evs
    ctx.note("stable baselines in %.1f s, Lease baseline %.1f s later; one slow for %d s: "
             "no PATCH (its verdict %s %r; votes %r); all slow: rolled back %.1f s later",
             took, t_pub, ONE_SLOW_S, v0.get("outcome"), v0.get("reason"), votes_one,
             t_patch - t_all)
    ctx.note("Event: %s", evs[0].get("message"))
    ctx.note(api_report(sc, t_new))


# ------------------------------------------------------------------------------------------

def run_one(name, fn, out_lock, results):
    ctx = Ctx(name)
    t0 = time.time()
    ok, msg = True, ""
    try:
        try:
            fn(ctx)
        finally:
            ctx.close()
    except Exception as e:  # noqa: BLE001 - report every kind of failure
        ok = False
        msg = str(e) if isinstance(e, AssertionError) else "%s: %s" % (type(e).__name__, e)
        if ARGS.verbose or not isinstance(e, AssertionError):
            ctx.lines.append(traceback.format_exc().rstrip())
    dt = time.time() - t0
    with out_lock:
        if ok:
            print("ok      %s (%.1fs)" % (name, dt))
        else:
            print("FAIL    %s (%.1fs): %s" % (name, dt, msg))
        for line in ctx.lines:
            print(line)
        sys.stdout.flush()
        results.append(ok)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "rollguard"))
    ap.add_argument("-k", default=None, help="only cases whose name contains this")
    ap.add_argument("--parallel", type=int, default=3, help="cases at once")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ARGS = ap.parse_args()
    if not os.access(ARGS.binary, os.X_OK):
        print("missing executable %s (make %s)" % (ARGS.binary, ARGS.binary))
        print("0 passed, 1 failed")
        return 1
    kubectl = os.environ.get("KUBECTL", "kubectl")
    ARGS.kubectl = shutil.which(kubectl)
    ARGS.control = R.CONTROL_BLOCK if R.binary_supports(ARGS.binary, "analysis.control") \
        else None
    print("rollout by %s; %s" % (
        "kubectl set image (%s)" % ARGS.kubectl if ARGS.kubectl else
        "the strategic-merge PATCH kubectl set image sends (kubectl not on PATH)",
        "analysis.control: %s" % ARGS.control if ARGS.control else
        "this binary has no analysis.control key: the sidecars run without it"))
    ARGS.tmp = tempfile.mkdtemp(prefix="rollguard-control-")
    ARGS.tls = os.path.join(ARGS.tmp, "tls")
    R.ensure_tls(ARGS.tls)
    todo = [(n, f) for n, f, _ in sorted(SUITE, key=lambda c: -c[2])
            if not ARGS.k or ARGS.k in n]
    lock, results = threading.Lock(), []
    pending = list(todo)
    plock = threading.Lock()

    def worker():
        while True:
            with plock:
                if not pending:
                    return
                name, fn = pending.pop(0)
            run_one(name, fn, lock, results)

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(max(1, min(ARGS.parallel, len(todo))))]
    t0 = time.time()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if not ARGS.keep:
            shutil.rmtree(ARGS.tmp, ignore_errors=True)
        else:
            print("work directory kept: %s" % ARGS.tmp)
    passed, failed = results.count(True), results.count(False)
    if len(results) < len(todo):
        failed += len(todo) - len(results)
    print("    wall time %.1f s" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
