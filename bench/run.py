#!/usr/bin/env python3
"""Run every benchmark; write one JSON result file per benchmark.

    bench/run.py [--runs 5] [--quick] [--out build/bench/results] [--only parser,sketch,...]

Parts: parser (bench/parser.sh: build/bench_promtext vs `promtool check metrics`),
sketch (build/bench_sketch), detection (build/bench_sim against Argo Rollouts- and
Flagger-style policies), e2e (bench/e2e.py: real daemons, fault to PATCH), sizes
(build/rollguard, and the runtime image through bench/image_size.sh in full mode), serve
(bench/serve.py, when present, writes its own files). --quick is the smoke version: one
or two runs, small inputs, no image build, a few minutes in all.

Every result file has the shape bench/report.py renders:

    {"benchmark": "parser", "title": "...", "notes": ["..."], "runs": 5, "mode": "full",
     "error": "reason" (only when the part failed),
     "rows": [{"metric": "...", "unit": "ms", "better": "lower",
               "rollguard": [r1, ...], "peer": [p1, ...] or null, "peer_name": "...",
               "peers": {"name": [v, ...], ...} (optional),
               "goal": {"ratio_max": x} | {"ratio_min": x} | {"max": x} | {"min": x}
                       | {"below_peers": true} | null,
               "error": "reason" (optional: the row was not measured)}]}

A part that fails still writes its file: the error, and its goals as "not measured". The
run's date, commit, machine and the time each part took go to run.meta (JSON) beside.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")

PARTS = ["parser", "sketch", "detection", "e2e", "sizes", "fleet", "serve"]
TITLES = {
    "parser": "Metrics parser vs promtool check metrics",
    "sketch": "Latency sketch and slot window",
    "detection": "Detection: replay simulator vs Argo Rollouts- and Flagger-style analysis",
    "e2e": "Fault to PATCH with real daemons and the fake API server",
    "sizes": "Binary and image size",
    "fleet": "API load of a 10,000-pod fleet (bench_fleet)",
    "serve": "Probe serving (bench/serve.py)",
}
# the goals each part owns, shown as "not measured" when the part fails before its rows
GOAL_ROWS = {
    "parser": [("whole-process parse of the ~10 MB page", "ms", {"ratio_max": 0.125})],
    "sketch": [("record one sample (sketch_add)", "ns", {"max": 50}),
               ("query p50+p95+p99 over 60 slots: p99 of queries", "µs", {"max": 100}),
               ("worst quantile error vs exact (p50/p95/p99)", "%", {"max": 1.0}),
               ("memory, 60 x 10 s window", "bytes", {"max": 262144})],
    "detection": [("every fault at 10 and 100 rps: median time to detect", "s",
                   {"below_peers": True}),
                  ("healthy traffic: false rollbacks per 1000 pod-days", "per 1000 pod-days",
                   {"below_peers": True})],
    "sizes": [("runtime image, unpacked", "MB", {"max": 30})],
    "fleet": [("steady state: API requests per pod per 5 min", "requests", {"max": 1}),
              ("one bad rollout: PATCHes", "PATCHes", {"min": 1, "max": 1})],
}
POLICY = {"rollguard": "rollguard", "argo(fl=0)": "argo fl=0", "argo(fl=3)": "argo fl=3",
          "flagger(5)": "flagger"}

T_START = time.time()


def say(msg):
    print("[bench %6.1fs] %s" % (time.time() - T_START, msg), flush=True)


class PartError(Exception):
    pass


class PartSkipped(PartError):
    """Not measured here for a reason that is not a failure (e.g. serve.py absent)."""


def run(cmd, timeout, env=None, echo=True):
    """Runs cmd (list) in the repository root, echoing its output as it comes (indented);
    returns stdout; PartError on failure, with the exit code in .rc (None: no exit)."""
    say("$ " + " ".join(cmd))
    with tempfile.TemporaryFile(mode="w+") as err:
        try:
            p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err,
                                 text=True)
        except OSError as e:
            raise PartError("%s: %s" % (cmd[0], e))
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        lines = []
        try:
            for line in p.stdout:
                lines.append(line)
                if echo:
                    print("    " + line.rstrip("\n"), flush=True)
            rc = p.wait()
        finally:
            timed_out = not timer.is_alive()
            timer.cancel()
        err.seek(0)
        stderr = err.read()
    out = "".join(lines)
    if timed_out and rc != 0:
        e = PartError("%s timed out after %d s" % (os.path.basename(cmd[0]), timeout))
        e.rc = None
        raise e
    if rc != 0:
        tail = (stderr or out).strip().splitlines()[-3:]
        e = PartError("%s exited %d: %s" % (os.path.basename(cmd[0]), rc,
                                            " | ".join(tail) or "no output"))
        e.rc = rc
        raise e
    return out


def need(path):
    if not os.access(path, os.X_OK):
        raise PartError("%s is not built (make %s)" % (os.path.relpath(path, ROOT),
                                                         os.path.relpath(path, ROOT)))


def row(metric, unit, rg, peer=None, peer_name=None, goal=None, better="lower", **extra):
    r = {"metric": metric, "unit": unit, "better": better, "rollguard": rg, "peer": peer,
         "peer_name": peer_name, "goal": goal}
    r.update(extra)
    return r


# ---- parts ------------------------------------------------------------------------------

def part_parser(a, tmp):
    need(os.path.join(BUILD, "bench_promtext"))
    if not shutil.which("promtool"):
        raise PartError("promtool is not installed (apt-get install prometheus)")
    env = dict(os.environ)
    runs = max(a.runs, 5 if a.quick else 2)  # the small page takes a few ms per run
    if a.quick:
        path = os.path.join(BUILD, "bench", "metrics-small.prom")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            run([sys.executable, "bench/gen_metrics.py", "--series", "10000", "-o", path], 120)
        env["FILE"] = path
    env["RUNS"] = str(runs)
    out = os.path.join(tmp, "parser.json")
    run(["sh", "bench/parser.sh", "--json", out], 600 + 30 * runs, env=env)
    with open(out) as f:
        d = json.load(f)
    m = re.search(r"version (\S+)", d["promtool_version"])
    ver = m.group(1) if m else "?"
    ms = {k: [round(t * 1e3, 3) for t in v] for k, v in d["seconds"].items()}
    return {"runs": runs, "notes": [
        "Whole processes on the same file: `build/bench_promtext FILE` (parse, count, exit) "
        "against `promtool check metrics < FILE`, timed by %s%s." % (
            d["method"], " (2 warm-up runs each, shell start-up subtracted)"
            if d["method"] == "hyperfine" else " (alternating, `date +%s%N`)"),
        "File: generated by bench/gen_metrics.py, %s bytes, %s sample lines; promtool %s "
        "accepts it (lint-clean)." % (format(d["bytes"], ","), format(d["samples"], ","),
                                      ver),
        "Goal: rollguard's time at most 1/8 of promtool's (ratio = rollguard / promtool)."],
        "rows": [row("whole-process parse, %.1f MB page, %s series" % (
            d["bytes"] / 1e6, format(d["samples"], ",")), "ms", ms["rollguard"],
            ms["promtool"], "promtool check metrics %s" % ver, {"ratio_max": 0.125})]}


def part_sketch(a, tmp):
    exe = os.path.join(BUILD, "bench_sketch")
    need(exe)
    runs = [json.loads(run([exe, "--json"] + (["--quick"] if a.quick else []), 300,
                           echo=False)) for _ in range(a.runs)]

    def col(*keys):
        out = []
        for r in runs:
            v = r
            for k in keys:
                v = v[k]
            out.append(round(v, 4))
        return out

    first = runs[0]
    peer = "raw samples + sort (exact)"
    mem = first["memory_bytes"]
    rows = [
        row("record one sample (sketch_add)", "ns", col("record_ns"), col("raw_record_ns"),
            "raw samples (append to an array)", {"max": 50}),
        row("record one probe into the window", "ns", col("window_record_ns")),
        row("query p50+p95+p99 over 60 slots: median of queries", "µs",
            col("query_us", "p50"), col("sort_query_us", "p50"), peer),
        row("query p50+p95+p99 over 60 slots: p95 of queries", "µs",
            col("query_us", "p95"), col("sort_query_us", "p95"), peer),
        row("query p50+p95+p99 over 60 slots: p99 of queries", "µs",
            col("query_us", "p99"), col("sort_query_us", "p99"), peer, {"max": 100}),
        row("same query re-merging the 60 slots: median", "µs", col("merge_query_us", "p50")),
        row("advance the window (evict, clear a slot)", "µs", col("advance_us")),
        row("worst quantile error vs exact (p50/p95/p99)", "%",
            [round(100 * v, 4) for v in col("worst_rel_error")], goal={"max": 1.0}),
        row("memory, 60 x 10 s window (probe sketches)", "bytes", [mem["window_60"]],
            [mem["raw_60"]], "raw samples, %d per window" % first["samples_per_window"],
            {"max": 262144}),
        row("memory, default 6-slot window", "bytes", [mem["window_6"]]),
        row("memory, largest %d-slot window" % mem["window_max_slots"], "bytes",
            [mem["window_max"]]),
        row("memory, one sketch", "bytes", [mem["sketch"]]),
        row("memory, analysis state with the default config", "bytes",
            [mem["analysis_default"]]),
    ]
    return {"runs": a.runs, "rows": rows, "notes": [
        "build/bench_sketch%s, %d runs: each run records %s samples and times %d window "
        "queries (p50+p95+p99 together) over a full 60-slot window of %d samples." % (
            " --quick" if a.quick else "", a.runs, "1,000,000" if a.quick else "20,000,000",
            first["query_reps"], first["samples_per_window"]),
        "The peer keeps every raw sample and sorts a copy per query (the exact answer); its "
        "memory grows with traffic, the window's does not.",
        "Goals are the targets stated in bench/bench_sketch.c: record <= 50 ns, query <= "
        "100 µs (held to the p99 of queries), window <= 256 KiB per series, quantile error "
        "<= 1 %."]}


def part_detection(a, tmp):
    exe = os.path.join(BUILD, "bench_sim")
    need(exe)
    days, sruns = (a.sim_days, a.sim_runs)
    out = os.path.join(tmp, "sim.json")
    t0 = time.time()
    notes = []
    try:
        run([exe, "--days", "%g" % days, "--runs", str(sruns), "--trials", str(a.sim_trials),
             "--json", out], 3600)
    except PartError as e:
        if getattr(e, "rc", None) != 1 or not os.path.exists(out):
            raise
        notes.append("bench_sim reports that some of its own acceptance checks fail "
                     "(exit status 1); the rows below show which.")
    took = time.time() - t0
    with open(out) as f:
        d = json.load(f)
    names = [POLICY.get(p, p) for p in d["policies"]]
    assert names[0] == "rollguard", names
    rows = []
    for sc in d["scenarios"]:
        if sc["kind"] == "healthy":
            per = [round(1000.0 * n / sc["pod_days"], 2) for n in sc["rollbacks"]]
            rows.append(row(
                "%s: false rollbacks per 1000 pod-days" % sc["name"], "per 1000 pod-days",
                [per[0]], peers={n: [v] for n, v in zip(names[1:], per[1:])},
                goal={"below_peers": True}, kind="healthy", scenario=sc["name"],
                counts={n: "%d in %.0f pod-days" % (c, sc["pod_days"])
                        for n, c in zip(names, sc["rollbacks"])}))
            continue
        ttd = sc["ttd"]
        counts = {n: "%d/%d" % (sum(v is not None for v in t), sc["runs"])
                  for n, t in zip(names, ttd)}
        if sc["tolerated"]:
            pct = [round(100.0 * sum(v is not None for v in t) / sc["runs"], 1) for t in ttd]
            rows.append(row(
                "%s: rolled back within 30 min (should not be)" % sc["name"][len("tolerated: "):]
                if sc["name"].startswith("tolerated: ") else sc["name"], "% of runs",
                [pct[0]], peers={n: [v] for n, v in zip(names[1:], pct[1:])},
                kind="tolerated", scenario=sc["name"], rate=sc["rate"], counts=counts))
            continue
        goal = {"below_peers": True} if sc["rate"] >= 10 else None
        extra = {} if goal else {"goal_note": "none at 1 rps"}
        if sc["pre_fault_rollbacks"]:
            extra["pre_fault_rollbacks"] = sc["pre_fault_rollbacks"]
        rows.append(row(
            "%s: time to detect" % sc["name"], "s", ttd[0],
            peers={n: t for n, t in zip(names[1:], ttd[1:])}, goal=goal, kind="fault",
            scenario=sc["name"], rate=sc["rate"], counts=counts, **extra))
    rows += rollout_rows(d, names[1:])
    return {"runs": sruns, "sim_days": days, "sim_seconds": round(took, 1), "rows": rows,
            "notes": [
                "build/bench_sim --days %g --runs %d (%.0f s): the real analysis code "
                "(sidecar/analysis/analysis.c) over synthetic traces, default policy (interval %d s, "
                "window %d s, scrapes every 5 s); %g simulated pod-days per healthy row, %d "
                "runs per fault row. The references see the same scrapes: Argo Rollouts-style "
                "(1 min measurements, failureLimit 0 and 3) and Flagger-style (1 min checks, "
                "threshold 5)." % (days, sruns, took, d["interval_s"], d["window_s"], days,
                                   sruns),
                "Fault rows: time from the fault to the rollback per run; 'miss' = not "
                "within 15 min (30 min at 1 rps); [n/N] = runs detected. Healthy rows: "
                "false rollbacks per 1000 pod-days. Tolerated rows: changes the rules must "
                "not roll back (lower is better, no goal).",
                "Goal per row: rollguard's median below every reference's (fault rows at 10 "
                "and 100 rps) and fewer false rollbacks than every reference, or zero where "
                "they have zero too (healthy rows). No goal at 1 rps: with ~60 requests a "
                "minute, telling 10 % errors from a 1 % baseline at the false-alarm rate of "
                "the healthy rows takes ~100 s even for an optimal sequential test (SPRT: "
                "~0.15 nats of evidence per request against a threshold of ~14), so a "
                "policy faster than that at 1 rps pays in false rollbacks, as Argo with "
                "failureLimit 0 does (about 21 per pod-day at 1 % errors).",
                "Ratio: rollguard's median over the best reference's median.",
                "Rollout rows (two populations, %d rollouts per no-fault row, %d per fault "
                "row): three pods of the stable revision (the control) and three of the new "
                "revision on one time axis; a rollback is the fleet decision (FAIL of a "
                "majority of the release pods). 'rollguard' is the control with the "
                "published baseline as fallback; 'control only' and 'published only' are the "
                "same analysis with one source (published only: the behaviour before the "
                "concurrent control). The references judge the release pods' summed series. "
                "Goals: no rollback with a control when the release is healthy (shared "
                "faults and time of day included); a release fault detected no slower than "
                "with the published baseline alone; a shared slowdown that starts after the "
                "rollout still rolled back in at least 95 %% of rollouts."
                % (a.sim_trials, sruns)] + notes}


ROLLOUT_VARIANT = {"control+published": "rollguard", "control, no published": "control only",
                   "published only": "published only"}


def rollout_rows(d, refs):
    """The two-population rows of bench_sim's JSON (its `rollouts` key)."""
    rows = []
    for ro in d.get("rollouts", []):
        names = [ROLLOUT_VARIANT.get(v, v) for v in ro["variants"]]
        assert names[0] == "rollguard", names
        if not ro["fault"]:
            per = [round(1000.0 * n / ro["pod_days"], 2)
                   for n in ro["rollbacks"] + ro["reference_rollbacks"]]
            counts = {n: "%d of %d rollouts" % (c, ro["trials"]) for n, c in zip(
                names + refs, ro["rollbacks"] + ro["reference_rollbacks"])}
            rows.append(row(
                "rollout, %s: rollbacks per 1000 pod-days" % ro["name"], "per 1000 pod-days",
                [per[0]], peers={n: [v] for n, v in zip(names[1:] + refs, per[1:])},
                goal={"max": 0}, kind="rollout", scenario=ro["name"], counts=counts,
                pod_days=ro["pod_days"], release_pods_failed=ro["release_pods_failed"]))
            continue
        ttd = ro["ttd"]
        who = names + refs
        counts = {n: "%d/%d" % (sum(v is not None for v in t), ro["trials"])
                  for n, t in zip(who, ttd)}
        shared = ro["name"].startswith("shared")
        extra = {"goal_note": "the stable revision degraded too, after the rollout began: "
                 "see the next row"} if shared else {}
        rows.append(row(
            "rollout, %s: time to detect" % ro["name"], "s", ttd[0],
            peers={n: t for n, t in zip(who[1:], ttd[1:])},
            goal=None if shared else {"ratio_max": 1.0, "against": ["published only"]},
            kind="rollout", scenario=ro["name"], counts=counts, **extra))
        if shared:
            pct = [round(100.0 * sum(v is not None for v in t) / ro["trials"], 1) for t in ttd]
            rows.append(row(
                "rollout, %s: rolled back within the guard window" % ro["name"],
                "% of rollouts", [pct[0]], peers={n: [v] for n, v in zip(who[1:], pct[1:])},
                goal={"min": 95}, better="higher", kind="rollout", scenario=ro["name"],
                counts=counts))
    return rows


def part_e2e(a, tmp):
    binary = os.path.join(BUILD, "rollguard")
    need(binary)
    intervals = ["1s"] if a.quick else ["1s", "10s"]
    out = os.path.join(tmp, "e2e.json")
    cmd = [sys.executable, "bench/e2e.py", "--binary", binary, "--runs", str(a.runs),
           "--json", out]
    for iv in intervals:
        cmd += ["--interval", iv]
    try:
        run(cmd, 120 + a.runs * sum(60 if iv == "1s" else 300 for iv in intervals))
    except PartError as e:
        if not os.path.exists(out):
            raise
        say("e2e: some runs failed (%s); keeping the ones that completed" % e)
    with open(out) as f:
        d = json.load(f)
    rows, notes = [], []
    for iv in ["1s", "10s"]:
        r = d["intervals"].get(iv)
        what = {"1s": "analysis.interval 1s (kube suite config)",
                "10s": "analysis.interval 10s (shipped defaults)"}[iv]
        if r is None:
            rows.append(row("fault → PATCH, %s" % what, "s", [],
                            error="smoke mode (about 90 s per run)"))
            continue
        err = None
        if not r["fault_to_patch_s"]:
            err = "every run failed: %s" % (r["errors"][0] if r["errors"] else "?")
        elif r["errors"]:
            notes.append("%s: %d of %d runs failed: %s" % (
                iv, len(r["errors"]), d["runs"], "; ".join(sorted(set(r["errors"])))))
        rows.append(row("fault → PATCH, %s" % what, "s", r["fault_to_patch_s"],
                        **({"error": err} if err else {})))
        rows.append(row("first FAIL verdict → PATCH (leader's own figure), interval %s" % iv,
                        "s", r["fail_to_patch_s"], **({"error": err} if err else {})))
    return {"runs": a.runs, "rows": rows, "notes": [
        "bench/e2e.py: three real daemons (build/rollguard, quorum 2), one per pod of the bad "
        "revision, each scraping its own fake app at %d requests/s, against the fake "
        "Kubernetes API server (tests/fakeapi) over TLS. After healthy traffic every app "
        "answers %d %% of requests with 500, at a random phase of the analysis interval; "
        "measured from that moment to the PATCH of the Deployment arriving at the API "
        "server. %d runs per interval." % (
            d["rate"], round(100 * d["errors"]), d["runs"]),
        "No peer and no stated goal; the simulator's own criterion for 20 % errors is a "
        "median within two analysis intervals."] + notes}


def mb(n):
    return round(n / 1e6, 3)


def part_sizes(a, tmp):
    binary = os.path.join(BUILD, "rollguard")
    need(binary)
    stripped = os.path.join(tmp, "rollguard.stripped")
    run(["strip", "-o", stripped, binary], 60)
    size, ssize = os.path.getsize(binary), os.path.getsize(stripped)
    notes = ["build/rollguard as built by `make` (-O2 -g, static minimal libcurl), and the "
             "same stripped with `strip`."]
    rows = [row("build/rollguard (with debug info)", "MB", [mb(size)]),
            row("build/rollguard, stripped", "MB", [mb(ssize)])]
    image_rows = [("runtime image, unpacked", {"max": 30}), ("runtime image, gzip'd", None),
                  ("rollguard binary in the image", None),
                  ("shared libraries in the image", None)]
    if a.quick:
        for m, g in image_rows:
            rows.append(row(m, "MB", [], goal=g,
                            error="smoke mode (builds the image, minutes)"))
        return {"runs": 1, "rows": rows, "notes": notes}
    try:
        if not shutil.which("buildah"):
            raise PartError("buildah is not installed")
        out = run(["bash", "bench/image_size.sh"], 1800)
        got = {}
        for line in out.splitlines():
            nums = [float(x) for x in re.findall(r"([0-9.]+) MB", line)]
            if "runtime (scratch)" in line and len(nums) == 2:
                got["runtime image, unpacked"], got["runtime image, gzip'd"] = nums
            elif "rollguard binary" in line and nums:
                got["rollguard binary in the image"] = nums[0]
            elif "shared libraries" in line and nums:
                got["shared libraries in the image"] = nums[0]
        if "runtime image, unpacked" not in got:
            raise PartError("bench/image_size.sh printed no runtime image size")
        for m, g in image_rows:
            rows.append(row(m, "MB", [got[m]] if m in got else [], goal=g,
                            **({} if m in got else {"error": "not in image_size.sh output"})))
        with open(os.path.join(ROOT, "VERSION")) as f:
            tag = "localhost/rollguard:" + f.read().strip()
        created = "?"
        for line in run(["buildah", "--storage-driver", "vfs", "images", "--format",
                         "{{.Name}}:{{.Tag}} {{.CreatedAtRaw}}"], 60, echo=False).splitlines():
            if line.startswith(tag + " "):
                created = line[len(tag) + 1:].strip()[:16] + " UTC"
        notes.append("Image: bench/image_size.sh on %s in buildah's storage (built from the "
                     "Dockerfile when absent; this one was created %s), sizes of the unpacked "
                     "filesystem and of the same tree as a gzip'd tar. Goal: the runtime "
                     "image under 30 MB." % (tag, created))
    except PartError as e:
        for m, g in image_rows:
            rows.append(row(m, "MB", [], goal=g, error=str(e)))
    return {"runs": 1, "rows": rows, "notes": notes}


def part_fleet(a, tmp):
    exe = os.path.join(BUILD, "bench_fleet")
    need(exe)
    out = run([exe], 60)
    rows, table = [], None
    for line in out.splitlines():
        f = line.split()
        if line.startswith("Steady state"):
            table = "steady"
        elif line.startswith("One bad rollout"):
            table = "bad"
        elif table == "steady" and len(f) == 5 and f[0].isdigit():
            rows.append(row("steady state, %s replicas per Deployment, %s rollouts/day: API "
                            "requests per pod per 5 min" % (f[0], f[2]), "requests",
                            [float(f[3])], goal={"max": 1}, fleet_req_s=float(f[4])))
        elif table == "bad" and len(f) == 5 and f[0].isdigit():
            what = "bad rollout, %s replicas, quorum %s" % (f[0], f[1])
            rows.append(row(what + ": PATCHes", "PATCHes", [int(f[3])],
                            goal={"min": 1, "max": 1}))
            rows.append(row(what + ": API requests per pod in the burst", "requests",
                            [float(f[2])]))
            rows.append(row(what + ": burst duration", "s", [float(f[4])]))
    if not rows:
        raise PartError("bench_fleet printed no table rows")
    head = out.splitlines()[0] if out else ""
    return {"runs": 1, "rows": rows, "notes": [
        "build/bench_fleet (deterministic): %s. Steady state from the real schedule "
        "(identity walk at pod start, baseline publication on the Lease); a bad rollout "
        "through the real Lease rules in a discrete-event simulation." % head.rstrip("."),
        "Goals: under one API request per pod per 5 minutes in steady state (as stated in "
        "README.md: target < 1), and exactly one PATCH per bad rollout."]}


def part_serve(a, tmp):
    script = os.path.join(HERE, "serve.py")
    if not os.path.exists(script):
        raise PartSkipped("bench/serve.py is not in this tree")
    cmd = [sys.executable, script, "--out", a.out, "--runs", str(a.runs)]
    if a.quick:
        cmd.append("--quick")
    run(cmd, 1800 if a.quick else 5400)
    return None  # serve.py writes its own result files


PART_FN = {"parser": part_parser, "sketch": part_sketch, "detection": part_detection,
           "e2e": part_e2e, "sizes": part_sizes, "fleet": part_fleet, "serve": part_serve}


def git(*args):
    try:
        return subprocess.run(["git"] + list(args), cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per benchmark (default 5)")
    ap.add_argument("--quick", action="store_true", help="the smoke version")
    ap.add_argument("--out", default=os.path.join(BUILD, "bench", "results"))
    ap.add_argument("--only", help="comma-separated parts: " + ",".join(PARTS))
    ap.add_argument("--sim-days", type=float, help="bench_sim pod-days per healthy row "
                    "(default 2000, quick 50)")
    ap.add_argument("--sim-runs", type=int, help="bench_sim runs per fault row "
                    "(default 200, quick 20)")
    ap.add_argument("--sim-trials", type=int, help="bench_sim rollouts per rollout row "
                    "without a release fault (default 6000, quick 200)")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    a.sim_days = a.sim_days or (50 if a.quick else 2000)
    a.sim_runs = a.sim_runs or (20 if a.quick else 200)
    a.sim_trials = a.sim_trials or (200 if a.quick else 6000)
    parts = PARTS if not a.only else [p.strip() for p in a.only.split(",") if p.strip()]
    for p in parts:
        if p not in PART_FN:
            ap.error("unknown part %r (parts: %s)" % (p, ", ".join(PARTS)))
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    for name in os.listdir(a.out):  # stale results must not be rendered as this run's
        if name.endswith(".json") or name == "run.meta":
            os.remove(os.path.join(a.out, name))
    mode = "quick" if a.quick else "full"
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    meta = {"started": datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M UTC"),
            "commit": commit + ("+dirty" if dirty else ""), "mode": mode, "runs": a.runs,
            "machine": machine(), "loadavg_start": loadavg(), "parts": {}}
    say("%s run, %d runs per benchmark, parts %s, results in %s" % (
        mode, a.runs, ", ".join(parts), os.path.relpath(a.out, ROOT)))
    failed = []
    tmp = tempfile.mkdtemp(prefix="rollguard-bench-")
    try:
        for name in parts:
            say("== %s: %s" % (name, TITLES[name]))
            t0 = time.time()
            try:
                res = PART_FN[name](a, tmp)
                ok, err, e = True, None, None
            except Exception as e_:  # noqa: BLE001 - one part failing must not stop the rest
                e = e_
                ok, err = False, str(e) if isinstance(e, PartError) else "%s: %s" % (
                    type(e).__name__, e)
                res = {"error": err, "rows": [
                    row(m, u, [], goal=g, error=err) for m, u, g in GOAL_ROWS.get(name, [])]}
            took = time.time() - t0
            meta["parts"][name] = {"seconds": round(took, 1), "ok": ok,
                                   "skipped": isinstance(e, PartSkipped)}
            if err:
                meta["parts"][name]["error"] = err
                if not isinstance(e, PartSkipped):
                    failed.append(name)
            if res is not None:
                res = dict({"benchmark": name, "title": TITLES[name], "mode": mode,
                            "runs": a.runs, "notes": []}, **res)
                fname = name + (".json" if ok or name != "serve" else ".failed.json")
                with open(os.path.join(a.out, fname), "w") as f:
                    json.dump(res, f, indent=1)
            state = "done" if ok else "skipped" if isinstance(e, PartSkipped) else "FAILED"
            say("== %s %s in %.1f s%s" % (name, state, took, ": " + err if err else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        meta["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC")
        meta["seconds"] = round(time.time() - T_START, 1)
        meta["loadavg_end"] = loadavg()
        with open(os.path.join(a.out, "run.meta"), "w") as f:
            json.dump(meta, f, indent=1)
    say("all parts in %.0f s%s" % (time.time() - T_START, "; failed: " + ", ".join(failed)
                                   if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
