#!/usr/bin/env python3
"""Render benchmark result files (JSON, one per benchmark) as one Markdown report.

    bench/report.py RESULTS_DIR [-o RESULTS.md] [--plot detection.png]

Reads every *.json in RESULTS_DIR (the shape is described in bench/run.py) and, when
present, run.meta (date, commit, machine, mode, time per part). Writes a header, a
summary of every goal (met, MISSED, or not measured with the reason), then per benchmark
its notes and a table: metric | unit | rollguard min / median / max | peer min / median /
max | one column per extra reference ("peers") | ratio | goal | met?. A single figure
is shown alone; 'miss' is a run that never detected (null in the file).

--plot draws the detection benchmark's median time to detect at 10 requests/s per fault
and policy with gnuplot (the script and its data go to RESULTS_DIR/detection.gp and
detection.dat, so the plot can be redrawn by hand).
"""

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys

from run import ROOT, git, machine  # bench/run.py, beside this file
ORDER = ["parser", "sketch", "detection", "e2e", "sizes", "fleet", "serve"]
NOT_MEASURED = "not measured"


# ---- numbers ----------------------------------------------------------------------------

def num(v):
    return math.inf if v is None else float(v)


def stats(values):
    """(min, median, max) of values, None counting as +inf (a miss); None when empty."""
    if not values:
        return None
    v = sorted(num(x) for x in values)
    return v[0], statistics.median(v), v[-1]


def median(values):
    s = stats(values)
    return s[1] if s else None


def fmt(v, unit=""):
    if v is None or (isinstance(v, float) and math.isinf(v)):
        return "miss"
    if unit == "bytes" or (isinstance(v, int) and not isinstance(v, bool)):
        return format(int(round(v)), ",")
    a = abs(v)
    if float(v).is_integer() and a < 1e15:
        return format(int(v), ",")
    if a >= 1000:
        return format(v, ",.0f")
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def cell(values, unit, count=None, name=None):
    if not values:
        out = "—"
    elif len(values) == 1:
        out = fmt(values[0], unit)
    else:
        lo, mid, hi = stats(values)
        out = "%s / %s / %s" % (fmt(lo, unit), fmt(mid, unit), fmt(hi, unit))
    if count:
        out += " [%s]" % count
    if name and values:
        out += " (%s)" % name
    return out


def md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


# ---- goals ------------------------------------------------------------------------------

def peer_medians(r):
    out = {}
    if r.get("peer"):
        out[r.get("peer_name") or "peer"] = median(r["peer"])
    for name, vals in (r.get("peers") or {}).items():
        if vals:
            out[name] = median(vals)
    return out


def ratio(r):
    """median(rollguard) / median(peer), or over the best of several references (of those
    the goal names in `against`, when it does)."""
    rg = median(r.get("rollguard"))
    pm = peer_medians(r)
    against = (r.get("goal") or {}).get("against")
    if against:
        pm = {n: v for n, v in pm.items() if n in against}
    if rg is None or not pm:
        return None
    higher = r.get("better") == "higher"
    best = max(pm.values()) if higher else min(pm.values())
    if math.isinf(rg) or math.isinf(best):
        return None
    if best == 0:
        return None
    return rg / best


def goal_text(r):
    g = r.get("goal")
    u = r.get("unit", "")
    if not g:
        return "— (%s)" % r["goal_note"] if r.get("goal_note") else "—"
    if "ratio_max" in g and g.get("against"):
        return "ratio ≤ %s against %s" % (fmt(g["ratio_max"]), ", ".join(g["against"]))
    if "ratio_max" in g:
        return "ratio ≤ %s" % fmt(g["ratio_max"])
    if "ratio_min" in g:
        return "ratio ≥ %s" % fmt(g["ratio_min"])
    if "max" in g and "min" in g:
        if g["max"] == g["min"]:
            return "= %s %s" % (fmt(g["max"], u), u)
        return "%s to %s %s" % (fmt(g["min"], u), fmt(g["max"], u), u)
    if "max" in g:
        return "≤ %s %s" % (fmt(g["max"], u), u)
    if "min" in g:
        return "≥ %s %s" % (fmt(g["min"], u), u)
    if g.get("below_peers"):
        return "below every reference"
    return md(json.dumps(g))


def judge(r):
    """(state, detail) for a row with a goal: state is 'met', 'MISSED' or NOT_MEASURED."""
    if r.get("error"):
        return NOT_MEASURED, r["error"]
    rg = r.get("rollguard")
    if not rg:
        return NOT_MEASURED, "no rollguard figure"
    g = r["goal"]
    m = median(rg)
    u = r.get("unit", "")
    if "ratio_max" in g or "ratio_min" in g:
        q = ratio(r)
        if q is None:
            return NOT_MEASURED, "no peer figure to compare with"
        ok = q <= g["ratio_max"] if "ratio_max" in g else q >= g["ratio_min"]
        return ("met" if ok else "MISSED"), "ratio %s" % fmt(q)
    if "max" in g or "min" in g:
        ok = m <= g.get("max", math.inf) and m >= g.get("min", -math.inf)
        return ("met" if ok else "MISSED"), "median %s %s" % (fmt(m, u), u)
    if g.get("below_peers"):
        pm = peer_medians(r)
        if not pm:
            return NOT_MEASURED, "no reference figure to compare with"
        lost = [n for n, p in pm.items() if not (m < p or (m == 0 and p == 0))]
        detail = "rollguard %s vs %s" % (fmt(m, u), ", ".join(
            "%s %s" % (n, fmt(p, u)) for n, p in pm.items()))
        if lost:
            detail += "; not below %s" % ", ".join(lost)
        return ("met" if not lost else "MISSED"), detail
    return NOT_MEASURED, "unknown goal %s" % json.dumps(g)


# ---- loading ----------------------------------------------------------------------------

def load(d):
    results = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(d, name)
        try:
            with open(path) as f:
                r = json.load(f)
            if not isinstance(r, dict) or not isinstance(r.get("rows", []), list):
                raise ValueError("not a result object")
            r.setdefault("benchmark", name[:-5])
        except (OSError, ValueError) as e:
            r = {"benchmark": name[:-5], "title": name, "rows": [],
                 "error": "unreadable result file %s: %s" % (name, e)}
        r["_file"] = name
        results.append(r)

    def key(r):
        b = str(r.get("benchmark", ""))
        stem = b.split("-")[0].split(".")[0]
        return (ORDER.index(stem) if stem in ORDER else len(ORDER), b, r["_file"])
    return sorted(results, key=key)


def meta_of(d):
    try:
        with open(os.path.join(d, "run.meta")) as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    return {"started": datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC") + " (report time; no run.meta)", "commit": commit,
        "machine": machine()}


# ---- rendering --------------------------------------------------------------------------

def render_table(r, out):
    rows = r.get("rows") or []
    if not rows:
        return
    has_peer = any(x.get("peer") for x in rows)
    peer_names = []
    for x in rows:
        for n in (x.get("peers") or {}):
            if n not in peer_names:
                peer_names.append(n)
    has_ratio = has_peer or bool(peer_names)
    head = ["metric", "unit", "rollguard min / median / max"]
    if has_peer:
        head.append("peer min / median / max")
    head += ["%s min / median / max" % n for n in peer_names]
    if has_ratio:
        head.append("ratio")
    head += ["goal", "met?"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for x in rows:
        u = x.get("unit", "")
        counts = x.get("counts") or {}
        c = [md(x.get("metric", "?")), md(u)]
        if x.get("error") and not x.get("rollguard"):
            c.append("%s: %s" % (NOT_MEASURED, md(x["error"])))
        else:
            c.append(md(cell(x.get("rollguard"), u, counts.get("rollguard"))))
        if has_peer:
            c.append(md(cell(x.get("peer"), u, None, x.get("peer_name"))) if x.get("peer")
                     else "—")
        for n in peer_names:
            vals = (x.get("peers") or {}).get(n)
            c.append(md(cell(vals, u, counts.get(n))) if vals else "—")
        if has_ratio:
            q = ratio(x)
            c.append(fmt(q) if q is not None else "—")
        c.append(md(goal_text(x)))
        if x.get("goal"):
            state, detail = judge(x)
            c.append("**%s**" % state if state != "met" else "met")
        else:
            c.append("—")
        out.append("| " + " | ".join(c) + " |")


def render(results, meta, plot_ref):
    out = ["# rollguard benchmarks", ""]
    m = meta.get("machine") or {}
    out.append("Generated by `make bench` (bench/run.py, then bench/report.py); "
               "`make bench-smoke` is the short version.")
    out.append("")
    when = meta.get("started", "?")
    if meta.get("finished"):
        when += " to " + meta["finished"]
    out.append("- date: %s" % when)
    out.append("- commit: %s" % meta.get("commit", "?"))
    la = ""
    if meta.get("loadavg_start"):
        la = "; load average %s at the start, %s at the end" % (
            " ".join(map(str, meta["loadavg_start"])),
            " ".join(map(str, meta.get("loadavg_end") or [])) or "?")
    out.append("- machine: %s cores (nproc), %s%s" % (m.get("nproc", "?"), m.get("cpu", "?"),
                                                        la))
    if meta.get("runs"):
        out.append("- runs: %d per benchmark (%s mode); the detection simulator's own "
                   "sample sizes are in its section" % (meta["runs"], meta.get("mode", "?")))
    parts = meta.get("parts") or {}
    if parts:
        out.append("- time taken: " + ", ".join(
            "%s %.0f s%s" % (n, p.get("seconds", 0), "" if p.get("ok") else
                             " (not measured)" if p.get("skipped") else " (failed)")
            for n, p in parts.items()) + (" (%.0f s in all)" % meta["seconds"]
                                          if meta.get("seconds") else ""))
    out.append("")

    # the summary of every goal
    goals = []
    for r in results:
        if r.get("error") and not any(x.get("goal") for x in r.get("rows") or []):
            goals.append((NOT_MEASURED, r, None, r["error"]))
        for x in r.get("rows") or []:
            if x.get("goal"):
                state, detail = judge(x)
                goals.append((state, r, x, detail))
    n = {s: sum(1 for g in goals if g[0] == s) for s in ("met", "MISSED", NOT_MEASURED)}
    out.append("## Goals: %d met, %d missed, %d not measured" % (
        n["met"], n["MISSED"], n[NOT_MEASURED]))
    out.append("")
    if not goals:
        out.append("No goal in these results.")
    else:
        out.append("| | benchmark | metric | goal | measured |")
        out.append("|---|---|---|---|---|")
    for state, r, x, detail in goals:
        out.append("| %s | %s | %s | %s | %s |" % (
            "**%s**" % state if state != "met" else "met", md(r.get("benchmark", "?")),
            md(x.get("metric", "?")) if x else "(all of it)", md(goal_text(x)) if x else "—",
            md(detail)))
    out.append("")

    for r in results:
        out.append("## %s" % md(r.get("title") or r.get("benchmark")))
        out.append("")
        out.append("`%s` (%s)%s" % (r.get("benchmark"), r["_file"], "; runs: %s" % r["runs"]
                                    if r.get("runs") else ""))
        out.append("")
        if r.get("error"):
            out.append("**Not measured**: %s" % md(r["error"]))
            out.append("")
        for note in r.get("notes") or []:
            out.append("- %s" % note)
        if r.get("notes"):
            out.append("")
        render_table(r, out)
        if r.get("benchmark") == "detection" and plot_ref:
            out.append("")
            out.append("![median time to detect at 10 requests/s](%s)" % plot_ref)
        out.append("")
    return "\n".join(out)


# ---- the detection plot -----------------------------------------------------------------

def plot(results, d, png):
    det = next((r for r in results if r.get("benchmark") == "detection" and r.get("rows")),
               None)
    if det is None:
        return "no detection results to plot"
    rows = [x for x in det["rows"] if x.get("kind") == "fault" and x.get("rate") == 10
            and x.get("rollguard")]
    if not rows:
        return "no fault rows at 10 rps in the detection results"
    names = ["rollguard"] + [n for n in (rows[0].get("peers") or {})]
    cap = 1000.0
    dat = os.path.join(d, "detection.dat")
    with open(dat, "w") as f:
        f.write("# scenario\t" + "\t".join(names) + "\t(median s; 'miss' plotted at %g)\n"
                % cap)
        for x in rows:
            label = x.get("scenario", x["metric"]).replace(" @ 10 rps", "")
            vals = [median(x["rollguard"])] + [median(x["peers"].get(n)) for n in names[1:]]
            f.write('"%s"\t%s\n' % (label, "\t".join(
                "%g" % (cap if v is None or math.isinf(v) else v) for v in vals)))
    k = len(names)
    series, labels = [], []
    for i, n in enumerate(names):
        src = "'%s'" % dat if i == 0 else "''"
        series.append("%s using %d%s title '%s'" % (src, i + 2, ":xtic(1)" if i == 0 else "",
                                                     n))
        off = (i - (k - 1) / 2.0) / (k + 1)
        labels.append("'' using ($0%+.4f):%d:(($%d >= %g) ? 'miss' : sprintf('%%.0f', $%d)) "
                      "with labels offset 0,0.6 font ',8' notitle" % (off, i + 2, i + 2, cap,
                                                                      i + 2))
    gp = os.path.join(d, "detection.gp")
    with open(gp, "w") as f:
        f.write("\n".join([
            "# drawn by bench/report.py from %s" % os.path.basename(dat),
            "set terminal pngcairo size 960,540 noenhanced font 'sans,10'",
            "set output '%s'" % os.path.abspath(png),
            "set title 'Median time from fault to rollback at 10 requests/s "
            "(bench_sim, %s runs per fault)'" % det.get("runs", "?"),
            "set style data histograms",
            "set style histogram clustered gap 1",
            "set style fill solid 0.85 border -1",
            "set boxwidth 0.95",
            "set logscale y",
            "set yrange [1:%g]" % (cap * 3),
            "set ylabel 'seconds (log scale)'",
            "set grid ytics",
            "set key top left",
            "set xtics nomirror",
            "plot " + ", \\\n     ".join(series + labels),
            ""]))
    try:
        p = subprocess.run(["gnuplot", gp], capture_output=True, text=True, timeout=60)
    except OSError as e:
        return "gnuplot: %s" % e
    if p.returncode != 0:
        return "gnuplot exited %d: %s" % (p.returncode, p.stderr.strip()[-300:])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="the results directory (JSON files, run.meta)")
    ap.add_argument("-o", "--output", help="the Markdown file (default: stdout)")
    ap.add_argument("--plot", help="the detection plot (PNG)")
    a = ap.parse_args()
    if not os.path.isdir(a.dir):
        sys.exit("report.py: %s is not a directory" % a.dir)
    results = load(a.dir)
    meta = meta_of(a.dir)
    plot_ref = None
    if a.plot:
        err = plot(results, a.dir, a.plot)
        if err:
            print("report.py: no plot: %s" % err, file=sys.stderr)
        else:
            base = os.path.dirname(os.path.abspath(a.output)) if a.output else os.getcwd()
            plot_ref = os.path.relpath(os.path.abspath(a.plot), base)
            print("report.py: wrote %s" % a.plot)
    text = render(results, meta, plot_ref)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
        print("report.py: wrote %s (%d result files)" % (a.output, len(results)))
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
