"""Integration cases for the metrics doctor: `rollguard check-metrics` against
the fake app, and GET /check-metrics on a running daemon's admin_listen.

Registered with cases.case, so they run after the cases of cases.py.
"""

import time

from cases import case
from harness import (OPT, base_config, check, free_port, kget, probe_deadline, run_cli, scaled,
                     to_yaml, try_kget, wait_status)


def doctor_config(t, app, **metrics):
    """A config file whose app.metrics point at the fake app, with metrics' keys on top."""
    port = free_port()
    m = {"url": app.url("/metrics"), "interval": "1s", "timeout": "500ms"}
    m.update(metrics)
    cfg = base_config(port, app, app={"metrics": m})
    return t.wd.file("doctor.yaml", to_yaml(cfg) + "\n")


def busy_app(t):
    app = t.app()
    app.advance_metrics(200, 120, 0.02)
    app.advance_metrics(500, 3, 0.3)
    return app


@case
def doctor_cli_reads_page(t):
    app = busy_app(t)
    rc, out, err = run_cli(["check-metrics", app.url("/metrics")], t.wd, tag="doctor")
    check(rc == 0, "check-metrics exited %d, want 0; stdout: %s; stderr: %s", rc, out[-600:],
          err[-300:])
    for want in ("requests: http_requests_total (counter; auto), 2 series, total 123",
                 "errors: label code (auto", "1 of 2 series, total 3",
                 'code="500": 1 series, 3  <- errors',
                 "latency: http_request_duration_seconds (histogram; auto)",
                 "unit: seconds, from the name's suffix", "p50: "):
        check(want in out, "check-metrics output lacks %r:\n%s", want, out)
    check(out.endswith("result: ok\n"), "the last line is not 'result: ok':\n%s", out[-300:])

    # The URL may come from the config instead.
    path = doctor_config(t, app)
    rc, out, err = run_cli(["check-metrics", "--config", path], t.wd, tag="doctor-cfg")
    check(rc == 0 and "result: ok" in out,
          "check-metrics --config (URL from app.metrics.url) exited %d: %s %s", rc, out[-300:],
          err[-300:])


@case
def doctor_cli_mismatched_config(t):
    app = busy_app(t)
    path = doctor_config(t, app, requests={"error_label": "nosuchlabel"})
    rc, out, err = run_cli(["check-metrics", "--config", path, app.url("/metrics")], t.wd,
                           tag="doctor-bad")
    check(rc == 1, "check-metrics with error_label nosuchlabel exited %d, want 1; stdout: %s",
          rc, out[-600:])
    want = ("warning: errors: error_label nosuchlabel is on none of the 2 series of "
            "http_requests_total; labels seen: code")
    check(want in out, "check-metrics does not give the reason %r:\n%s", want, out)
    check(out.endswith("result: problems (1)\n"), "the last line is not 'result: problems (1)':"
          "\n%s", out[-300:])


@case
def doctor_cli_unreadable(t):
    dead = "http://127.0.0.1:%d/metrics" % free_port()
    rc, out, err = run_cli(["check-metrics", dead], t.wd, tag="doctor-dead")
    check(rc == 2, "check-metrics of an unreachable URL exited %d, want 2", rc)
    check(err.startswith("error: ") and "unreachable" in err,
          "check-metrics of an unreachable URL: stderr %r", err[:300])

    app = t.app()
    app.set("/metrics", status=404)
    rc, out, err = run_cli(["check-metrics", app.url("/metrics")], t.wd, tag="doctor-404")
    check(rc == 2 and "HTTP 404" in err, "a 404 page: exit %d, stderr %r", rc, err[:300])

    app.set("/metrics", body="<html>Bad gateway</html>\n", ctype="text/html")
    rc, out, err = run_cli(["check-metrics", app.url("/metrics")], t.wd, tag="doctor-html")
    check(rc == 2 and "error: the page cannot be read" in out,
          "an HTML page: exit %d, stdout %r", rc, out[-300:])

    rc, out, err = run_cli(["check-metrics", "a", "b"], t.wd, tag="doctor-usage")
    check(rc == 2 and err.strip(), "two URLs: exit %d, stderr %r", rc, err[:200])


@case
def doctor_admin_endpoint(t):
    app = busy_app(t)
    port, admin = free_port(), free_port()
    cfg = base_config(port, app, admin_listen="127.0.0.1:%d" % admin,
                      app={"metrics": {"url": app.url("/metrics"), "interval": "1s",
                                       "timeout": "500ms"}})
    t.daemon(cfg)

    # The first request turns keeping on; the report comes with the next scrape.
    seen = []
    deadline = time.monotonic() + scaled(2.0) + probe_deadline(1)
    while True:
        r = try_kget(admin, "/check-metrics")
        if r is not None:
            seen.append((r.status, r.text().strip()[:160]))
            if r.status == 200:
                break
            check("not scraped" not in r.text(),
                  "GET /check-metrics says %r although app.metrics.url is set: the daemon does "
                  "not hand its scraper to the admin handler (sidecar/daemon.c: "
                  "d->admin_ctx.scraper = &d->scraper;)", r.text().strip())
            check(r.status == 503 and r.text().count("\n") == 1,
                  "GET /check-metrics before a page was kept answered %d %r (want 503 and one "
                  "line)", r.status, r.text()[:200])
        check(time.monotonic() < deadline, "GET /check-metrics never answered 200; seen: %s",
              seen[-3:])
        time.sleep(0.1)
    body = r.text()
    check((r.header("content-type") or "").startswith("text/plain"), "Content-Type %r",
          r.header("content-type"))
    for want in ("source: the page scraped from app.metrics.url",
                 "requests: http_requests_total (counter; auto), 2 series",
                 "errors: label code (auto", "result: ok"):
        check(want in body, "GET /check-metrics lacks %r:\n%s", want, body)

    r = kget(admin, "/check-metrics", method="POST")
    check(r.status == 405, "POST /check-metrics answered %d, want 405", r.status)
    # Not on the public listener.
    r = kget(port, "/check-metrics")
    check(r.status == 404, "/check-metrics on `listen` answered %d, want 404", r.status)
    wait_status(port, "/livez", 200, 1.0)
    if OPT.verbose:
        print(body)
