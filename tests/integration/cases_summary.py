"""Integration cases: GET /summary, this pod's window as a concurrent control.

A pod of a new revision will read the stable revision's pods' /summary; here
the real daemon serves it: 503 while warming up, then the figures of the
verdict /status shows (same window, same counts), and `degraded` with its
rule and age once its own rules breach. Registered in cases.CASES
(imported at the end of cases.py).
"""

import json
import time

import pageshapes
from cases import Traffic, analysis_config, case
from harness import check, free_port, scaled, to_yaml, wait_until

REVISION = "7c5d9f8b4"
FIELDS = ("version", "revision", "window_ms", "requests", "errors", "latency", "slow_share",
          "baseline", "degraded", "degraded_for_ms", "rule")


def start(t, app):
    port = free_port()
    cfg = analysis_config(port, app)
    path = t.wd.file("rollguard-%d.yaml" % len(t.daemons), to_yaml(cfg))
    return t.daemon(config_path=path, port=port, env={"POD_TEMPLATE_HASH": REVISION})


def summary(d):
    """(status, document) of GET /summary, the document checked for its shape."""
    r = d.get("/summary")
    ct = (r.header("content-type") or "").split(";")[0].strip()
    check(ct == "application/json", "/summary Content-Type %r", ct)
    doc = r.json()
    check(doc.get("version") == 1, "/summary version %r: %s", doc.get("version"), r.text())
    if r.status == 200:
        check(tuple(doc) == FIELDS, "/summary fields %r", list(doc))
        check(len(r.body) <= 2048, "/summary is %d bytes", len(r.body))
    return r.status, doc


def rule(v, name):
    for e in v.get("rules", []):
        if e["rule"] == name:
            return e
    return {}


def consistent(d):
    """/status's verdict and /summary taken between two reads of the same verdict."""
    for _ in range(20):
        before = d.status().get("analysis") or {}
        st, doc = summary(d)
        after = d.status().get("analysis") or {}
        if st == 200 and before.get("t_ms") is not None and before.get("t_ms") == after.get("t_ms"):
            return after, doc
        time.sleep(0.05)
    check(False, "no /summary between two reads of the same verdict")


@case
def summary_warmup_then_window(t):
    """503 {"version":1,"error":"warming up"} first; then the verdict's window, figure for
    figure; HEAD too; numbers null when unknown, never absent."""
    app = t.app()
    app.set_shape(pageshapes.prom_client)
    traffic = Traffic(app, rate=100, errors=0.02, latency=0.017)
    t.on_cleanup(traffic.stop)
    d = start(t, app)
    st, doc = summary(d)
    check(st == 503 and doc == {"version": 1, "error": "warming up"},
          "/summary at start answered %d %r", st, doc)
    wait_until("/summary 200", lambda: summary(d)[0] == 200, scaled(10.0), interval=0.1)
    # The first window after warmup may hold no counts yet: a labelled counter is on the page
    # only after the app's first request, and a window needs two good scrapes (a loaded
    # machine delays both). The figures are compared once the window holds requests.
    wait_until("requests in /summary's window",
               lambda: (summary(d)[1].get("requests") or 0) > 0
               and summary(d)[1]["latency"]["samples"] > 0, scaled(10.0), interval=0.1)

    v, doc = consistent(d)
    err, lat = rule(v, "error_rate"), rule(v, "latency")
    check(doc["revision"] == REVISION, "revision %r", doc["revision"])
    check(doc["window_ms"] == v["window_ms"], "window_ms %r, the verdict's %r", doc["window_ms"],
          v["window_ms"])
    check(doc["requests"] == err["requests"] and doc["errors"] == err["errors"],
          "requests/errors %r/%r, the verdict's %r/%r", doc["requests"], doc["errors"],
          err["requests"], err["errors"])
    check(doc["requests"] > 0 and 0 < doc["errors"] < doc["requests"] * 0.1,
          "requests %r errors %r for 2 %% errors at 100 req/s", doc["requests"], doc["errors"])
    L = doc["latency"]
    check(L["quantile"] == 0.5 and L["source"] == "histogram", "latency %r", L)
    check(L["samples"] == lat["samples"] and L["seconds"] == lat["value"],
          "latency %r, the verdict's value %r samples %r", L, lat["value"], lat["samples"])
    check(0.005 <= L["seconds"] <= 0.05, "p50 %r s for requests of 17 ms", L["seconds"])
    check(doc["degraded"] is False and doc["degraded_for_ms"] == 0 and doc["rule"] is None,
          "healthy app reads degraded: %r", doc)
    # the rolling baseline (10 s) becomes usable, and with it the threshold's slow share
    wait_until("a usable baseline on /summary",
               lambda: summary(d)[1].get("baseline", {}).get("error_rate") is not None,
               scaled(15.0), interval=0.2)
    st, doc = summary(d)
    b = doc["baseline"]
    check(0 <= b["error_rate"] < 0.1, "baseline error rate %r", b["error_rate"])
    check(b["latency_seconds"] is None or b["latency_seconds"] > 0, "baseline latency %r",
          b["latency_seconds"])
    check(doc["slow_share"] is None or 0 <= doc["slow_share"] <= 1, "slow_share %r",
          doc["slow_share"])
    r = d.get("/summary", method="HEAD")
    check(r.status == 200 and r.body == b"", "HEAD /summary answered %d with %d bytes",
          r.status, len(r.body))
    r = d.get("/summary", method="POST")
    check(r.status == 405, "POST /summary answered %d", r.status)
    m = d.metrics()
    check(m.value("rollguard_http_requests_total", 0, path="/summary", code="200") >= 2,
          "/summary not counted on /metrics")


@case
def summary_degraded_on_errors(t):
    """`degraded` turns true with the breaching rule when the app's errors rise (the first
    tick of the breach streak), its age grows by the reader's clock, and clears after."""
    app = t.app()
    app.set_shape(pageshapes.prom_client)
    traffic = Traffic(app, rate=100, errors=0.01, latency=0.017)
    t.on_cleanup(traffic.stop)
    d = start(t, app)
    wait_until("/summary 200", lambda: summary(d)[0] == 200, scaled(10.0), interval=0.1)
    check(summary(d)[1]["degraded"] is False, "degraded before any fault")

    traffic.errors = 0.30
    t0 = time.monotonic()
    wait_until("degraded on /summary", lambda: summary(d)[1]["degraded"], scaled(15.0),
               interval=0.1)
    first = summary(d)[1]
    check(first["rule"] == "error_rate", "degraded by rule %r", first["rule"])
    v = d.status()["analysis"]
    check(v["breach"] and v["breaches_in_row"] >= 1, "/status shows no breach: %r",
          {k: v.get(k) for k in ("outcome", "breach", "breaches_in_row")})
    check(first["errors"] > 0.05 * first["requests"], "errors %r of %r while degraded",
          first["errors"], first["requests"])
    wait_until("FAIL", lambda: (d.status().get("analysis") or {}).get("outcome") == "FAIL",
               scaled(10.0), interval=0.1)
    time.sleep(0.3)
    later = summary(d)[1]
    elapsed_ms = (time.monotonic() - t0) * 1000
    check(later["degraded"] and later["degraded_for_ms"] >= first["degraded_for_ms"] + 250,
          "degraded_for_ms %r then %r: does not grow with time", first["degraded_for_ms"],
          later["degraded_for_ms"])
    check(later["degraded_for_ms"] <= elapsed_ms + 1000,
          "degraded for %r ms, but the errors began %.0f ms ago", later["degraded_for_ms"],
          elapsed_ms)
    check(json.loads(json.dumps(later)) == later, "not plain JSON")

    traffic.errors = 0.0
    wait_until("degraded cleared", lambda: not summary(d)[1]["degraded"], scaled(20.0),
               interval=0.2)
    doc = summary(d)[1]
    check(doc["rule"] is None and doc["degraded_for_ms"] == 0, "cleared summary %r", doc)
