"""Metrics pages in the shapes real client libraries write, for the fake app.

Each shape is a function of the fake app's counters (rgtest.fakeapp._Metrics: the
requests per status code and their latencies) that returns a page the way
that library lays it out: its metric names, label names, bucket bounds,
units and TYPE/UNIT lines. tests/interop runs the libraries themselves;
these shapes let the integration cases drive the same readings from
fault-injection tests without a Node.js or Go toolchain.
"""

# Bucket bounds of each library's default histogram, in the unit it writes.
PROM_CLIENT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
OTEL_MS_BUCKETS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
OTEL_S_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


def _labels(pairs):
    return ",".join('%s="%s"' % kv for kv in pairs)


def _histogram(name, bounds, scale, series):
    """series: [(label pairs, {latency_s: count})]; bounds in the page's unit."""
    out = []
    for pairs, lat in series:
        lab = _labels(pairs)
        sep = "," if lab else ""
        total = sum(lat.values())
        for le in bounds:
            n = sum(c for v, c in lat.items() if v / scale <= le + 1e-12)
            out.append('%s_bucket{%s%sle="%s"} %d' % (name, lab, sep, "%g" % le, n))
        out.append('%s_bucket{%s%sle="+Inf"} %d' % (name, lab, sep, total))
        out.append("%s_sum{%s} %.6f" % (name, lab, sum(v / scale * c for v, c in lat.items())))
        out.append("%s_count{%s} %d" % (name, lab, total))
    return out


def _counter(name, label, m, extra=()):
    return ['%s{%s} %d' % (name, _labels(tuple(extra) + ((label, code),)), n)
            for code, n in sorted(m.requests.items())]


def prom_client(m):
    """express + prom-client: a counter and a histogram, the status in status_code."""
    extra = (("method", "GET"), ("route", "/work"))
    out = ["# HELP http_requests_total Total number of HTTP requests",
           "# TYPE http_requests_total counter"]
    out += _counter("http_requests_total", "status_code", m, extra)
    out += ["# HELP http_request_duration_seconds Duration of HTTP requests in seconds",
            "# TYPE http_request_duration_seconds histogram"]
    out += _histogram("http_request_duration_seconds", PROM_CLIENT_BUCKETS, 1.0,
                      [(extra + (("status_code", c),), lat)
                       for c, lat in sorted(m.latencies.items())])
    return "\n".join(out) + "\n"


def prom_bundle(m):
    """express-prom-bundle's defaults: one histogram, no request counter."""
    out = ["# HELP http_request_duration_seconds duration histogram of http responses labeled "
           "with: status_code, method, path",
           "# TYPE http_request_duration_seconds histogram"]
    out += _histogram("http_request_duration_seconds", (0.003, 0.03, 0.1, 0.3, 1.5, 10), 1.0,
                      [((("status_code", c), ("method", "GET"), ("path", "/work")), lat)
                       for c, lat in sorted(m.latencies.items())])
    return "\n".join(out) + "\n"


def otel_old(m):
    """OpenTelemetry JS, old HTTP semconv: http_server_duration in ms, no unit on the page."""
    out = ["# HELP http_server_duration Measures the duration of inbound HTTP requests.",
           "# TYPE http_server_duration histogram"]
    out += _histogram("http_server_duration", OTEL_MS_BUCKETS, 0.001,
                      [((("http_scheme", "http"), ("http_method", "GET"),
                         ("http_status_code", c)), lat)
                       for c, lat in sorted(m.latencies.items())])
    return "\n".join(out) + "\n"


def otel_new(m):
    """OpenTelemetry, stable HTTP semconv: seconds, said only on a UNIT line."""
    out = ["# HELP http_server_request_duration Duration of HTTP server requests.",
           "# UNIT http_server_request_duration seconds",
           "# TYPE http_server_request_duration histogram"]
    out += _histogram("http_server_request_duration", OTEL_S_BUCKETS, 1.0,
                      [((("http_request_method", "GET"), ("http_response_status_code", c)), lat)
                       for c, lat in sorted(m.latencies.items())])
    return "\n".join(out) + "\n"


def prom_summary(m):
    """prom-client (or express-prom-bundle metricType: 'summary'): quantile series."""
    extra = (("method", "GET"),)
    out = ["# TYPE http_requests_total counter"]
    out += _counter("http_requests_total", "status_code", m, extra)
    out += ["# HELP http_request_duration_seconds request duration summary",
            "# TYPE http_request_duration_seconds summary"]
    for code, lat in sorted(m.latencies.items()):
        lab = _labels(extra + (("status_code", code),))
        for q in (0.5, 0.9, 0.99):
            out.append('http_request_duration_seconds{%s,quantile="%g"} %.6f'
                       % (lab, q, m.last_latency))
        out.append("http_request_duration_seconds_sum{%s} %.6f"
                   % (lab, sum(v * c for v, c in lat.items())))
        out.append("http_request_duration_seconds_count{%s} %d" % (lab, sum(lat.values())))
    return "\n".join(out) + "\n"


def python_summary(m):
    """Python prometheus_client: a counter labelled status and a Summary (count, sum only)."""
    out = ["# HELP http_requests_total Requests", "# TYPE http_requests_total counter"]
    out += _counter("http_requests_total", "status", m, (("endpoint", "/work"),))
    out += ["# HELP http_request_duration_seconds Latency",
            "# TYPE http_request_duration_seconds summary",
            "http_request_duration_seconds_count %d" % m.count,
            "http_request_duration_seconds_sum %.6f" % m.sum]
    return "\n".join(out) + "\n"
