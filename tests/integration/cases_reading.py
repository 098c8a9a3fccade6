"""Integration cases: reading the instrumentation a team already has.

The fake app serves its counters in the page shapes of real client
libraries (pageshapes.py); the real daemon must find what the page offers
by itself, or say exactly what it cannot read: never a silent PASS.
Registered in cases.CASES (imported at the end of cases.py).
"""

import time

import pageshapes
from cases import Traffic, analysis_config, case, verdict_logs
from harness import check, free_port, merge, run_cli, scaled, to_yaml, wait_until


def reading(d):
    return ((d.status().get("scrape") or {}).get("reading")) or {}


def rule(d, name):
    v = d.status().get("analysis") or {}
    for r in v.get("rules", []):
        if r["rule"] == name:
            return r
    return {}


def outcome(d):
    return (d.status().get("analysis") or {}).get("outcome")


def events(d, name):
    return [r for _, r in d.log_records() if r.get("event") == name]


def shaped_app(t, shape, rate=100, errors=0.0, latency=0.017):
    app = t.app()
    app.set_shape(shape)
    traffic = Traffic(app, rate=rate, errors=errors, latency=latency)
    t.on_cleanup(traffic.stop)
    return app, traffic


def metrics_cfg(app, **keys):
    """analysis_config with these app.metrics keys (nested dicts)."""
    return {"app": {"metrics": keys}} if keys else {}


def start(t, app, **keys):
    """A daemon with a config file of its own (several run side by side)."""
    port = free_port()
    cfg = analysis_config(port, app, **metrics_cfg(app, **keys))
    path = t.wd.file("rollguard-%d.yaml" % len(t.daemons), to_yaml(cfg))
    return t.daemon(config_path=path, port=port)


def wait_reason(d, rule_name, needle, timeout=12.0):
    wait_until("rule %s saying %r" % (rule_name, needle),
               lambda: needle in (rule(d, rule_name).get("reason") or ""), scaled(timeout),
               interval=0.2)


def never_pass(d, span, what):
    """Over span seconds, the verdict is never PASS (nor FAIL)."""
    end = time.monotonic() + scaled(span)
    while time.monotonic() < end:
        o = outcome(d)
        check(o in (None, "INCONCLUSIVE"), "%s: verdict %s", what, o)
        time.sleep(0.2)


@case
def reading_wrong_status_label(t):
    """1: prom-client's status_code read as `code` is INCONCLUSIVE, named; auto finds it."""
    app, _ = shaped_app(t, pageshapes.prom_client, errors=0.10)
    wrong = start(t, app, requests={"error_label": "code"})
    auto = start(t, app)
    wait_reason(wrong, "error_rate", "error_label code is on none of the 2 series of "
                "http_requests_total; labels seen: method, route, status_code")
    wait_until("auto FAIL", lambda: outcome(auto) == "FAIL", scaled(15.0), interval=0.2)
    never_pass(wrong, 3.0, "a status label that is on no series")
    check(reading(auto).get("error_label") == "status_code", "auto chose %r",
          reading(auto).get("error_label"))
    m = wrong.metrics()
    check(m.value("rollguard_metrics_unreadable", None, rule="error_rate") == 1.0,
          "/metrics does not flag the error rule as unreadable")
    check(m.value("rollguard_metrics_problems_total", 0, rule="error_rate") == 1,
          "the problem is not counted once")
    logged = [r for r in events(wrong, "metrics_unreadable") if r.get("rule") == "error_rate"]
    check(len(logged) == 1, "metrics_unreadable logged %d times, want once", len(logged))
    # 8: the evidence shows the rate the decision used beside the window average
    ev = rule(auto, "error_rate")
    check(ev.get("decision_value") is not None and ev["decision_value"] > 0.05,
          "no decision rate beside the window: %r", ev)
    check(ev.get("baseline_from") in ("own", "none", "published"), "baseline_from %r",
          ev.get("baseline_from"))


@case
def reading_histogram_only(t):
    """2, 9: no request counter (express-prom-bundle): requests from _count; a named
    counter that is absent is said, logged once, and ticks keep their cadence."""
    app, _ = shaped_app(t, pageshapes.prom_bundle, errors=0.10)
    auto = start(t, app)
    named = start(t, app, requests={"metric": "http_requests_total"})
    wait_until("auto FAIL", lambda: outcome(auto) == "FAIL", scaled(15.0), interval=0.2)
    r = reading(auto)
    check(r.get("requests") == "http_request_duration_seconds_count" and
          r.get("requests_from") == "histogram_count", "auto reads requests from %r", r)
    wait_reason(named, "error_rate", "requests.metric http_requests_total is not on the page")
    check(named.status()["scrape"]["last"] == "no_metric", "scrape.last %r",
          named.status()["scrape"]["last"])
    states = [x for x in events(named, "scrape_state") if x.get("result") == "no_metric"]
    check(len(states) == 1, "scrape_state no_metric logged %d times, want once", len(states))
    n0 = named.metrics().value("rollguard_verdicts_total", 0, outcome="inconclusive")
    time.sleep(scaled(4.0))
    n1 = named.metrics().value("rollguard_verdicts_total", 0, outcome="inconclusive")
    check(n1 - n0 >= 3, "only %d verdicts in 4 s while the counter is missing (interval 1 s)",
          n1 - n0)


@case
def reading_otel_units(t):
    """3, 7: OpenTelemetry's ms histogram without a unit suffix, and seconds on a UNIT line."""
    app_ms, _ = shaped_app(t, pageshapes.otel_old, latency=0.017)
    app_s, _ = shaped_app(t, pageshapes.otel_new, latency=0.017)
    d_ms = start(t, app_ms)
    d_preset = start(t, app_ms, preset="otel")
    d_s = start(t, app_s)
    for d, unit, frm in ((d_ms, 0.001, "convention"), (d_preset, 0.001, "convention"),
                         (d_s, 1.0, "unit_line")):
        wait_until("a latency reading", lambda d=d: rule(d, "latency").get("value") is not None,
                   scaled(15.0), interval=0.2)
        r = reading(d)
        check(r.get("unit_seconds") == unit and r.get("unit_from") == frm,
              "unit read as %r from %r, want %r from %r", r.get("unit_seconds"),
              r.get("unit_from"), unit, frm)
        v = rule(d, "latency")["value"]
        check(0.010 <= v <= 0.025, "p50 read as %r s for requests of 17 ms", v)
        check(r.get("error_label") in ("http_status_code", "http_response_status_code"),
              "status label %r", r.get("error_label"))
        check(r.get("requests_from") == "histogram_count", "requests from %r",
              r.get("requests_from"))


@case
def reading_absent_histogram(t):
    """4, 6: a named histogram that is absent is INCONCLUSIVE, never probe latency;
    latency.histogram "" turns the latency rule off."""
    app, _ = shaped_app(t, pageshapes.prom_client)
    named = start(t, app, latency={"histogram": "app_latency_seconds"})
    off = start(t, app, latency={"histogram": ""})
    wait_reason(named, "latency", "latency.histogram app_latency_seconds is not on the page")
    check(rule(named, "latency").get("source") == "none", "latency judged from %r",
          rule(named, "latency").get("source"))
    wait_until("PASS with the latency rule off", lambda: outcome(off) == "PASS", scaled(15.0),
               interval=0.2)
    check(rule(off, "latency").get("state") == "off", "latency rule %r",
          rule(off, "latency").get("state"))
    never_pass(named, 2.0, "a named histogram that is absent")


@case
def reading_error_match_regex(t):
    """5: error_match is an anchored regular expression, as PromQL's =~."""
    app, _ = shaped_app(t, pageshapes.prom_client, errors=0.10)
    star = start(t, app, requests={"error_match": "5.*"})
    digits = start(t, app, requests={"error_match": "5[0-9]{2}"})
    xx = start(t, app, requests={"error_match": "5xx"})
    for d in (star, digits):
        wait_until("FAIL", lambda d=d: outcome(d) == "FAIL", scaled(15.0), interval=0.2)
    wait_reason(xx, "error_rate", "never matches")
    bad = t.wd.file("bad.yaml", to_yaml(merge(analysis_config(free_port(), app),
                                              {"app": {"metrics": {"requests": {
                                                  "error_match": "5[0-9"}}}})))
    rc, out, err = run_cli(["--check-config", "--config", bad], t.wd)
    check(rc == 2 and "error_match" in err and "missing ']'" in err,
          "--check-config of error_match 5[0-9 exited %d: %s", rc, err.strip()[:300])


@case
def reading_summaries(t):
    """6: a summary never fails the scrape; errors keep their counts; quantiles or a reason."""
    app_q, _ = shaped_app(t, pageshapes.prom_summary, errors=0.10)
    app_py, _ = shaped_app(t, pageshapes.python_summary, errors=0.0)
    dq = start(t, app_q)
    dpy = start(t, app_py)
    wait_until("FAIL on errors beside a summary", lambda: outcome(dq) == "FAIL", scaled(15.0),
               interval=0.2)
    check(dq.status()["scrape"]["last"] == "ok", "scrape %r", dq.status()["scrape"]["last"])
    check(reading(dq).get("latency_kind") == "summary", "latency kind %r",
          reading(dq).get("latency_kind"))
    check(rule(dq, "latency").get("source") == "summary", "latency source %r",
          rule(dq, "latency").get("source"))
    wait_reason(dpy, "latency", "it has none")
    check(dpy.status()["scrape"]["last"] == "ok", "scrape %r", dpy.status()["scrape"]["last"])
    check(reading(dpy).get("error_label") == "status", "python status label %r",
          reading(dpy).get("error_label"))
    check(rule(dpy, "error_rate").get("state") == "pass", "error rule %r beside a summary",
          rule(dpy, "error_rate").get("state"))
