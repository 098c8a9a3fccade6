"""The checks: rollguard's verdicts and figures against PromQL and its design.

Every check_* function takes the Report, a target (an app with .spec,
.queries, .daemons {mode: Daemon}) and prints one PASS or FAIL line.
"""

import math
import re

from .rollguard import TIMINGS, check_metrics

ERROR_RATE_TOLERANCE = 0.01  # relative, rollguard's window error rate against PromQL
P50_TOLERANCE = 0.05         # relative, rollguard's window p50 against histogram_quantile

# From sidecar/analysis.h: the error rule's Wilson gate (z), the latency
# rule's (z), the fewest errors a gate takes, the newest samples behind the
# persistence check.
ERR_Z = 2.326
LAT_Z = 3.0
MIN_ERRORS = 3
RECENT_MIN = 20
POLL_SLACK_S = 0.5  # /status polling (0.2 s) plus a scrape's own time


# ---- figures ---------------------------------------------------------------------

def wilson_lower(x, n, z):
    if n <= 0:
        return 0.0
    p = x / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


def requests_needed(share, limit, z, min_count, min_hits):
    """Fewest requests at a true share whose Wilson lower bound exceeds limit."""
    n = 1
    while n < 10_000_000:
        x = n * share
        if n >= min_count and x >= min_hits and wilson_lower(x, n, z) > limit:
            return n
        n += 1
    return n


class Deadline:
    """Seconds from fault start to FAIL at the latest, by rollguard's design.

    The fault's own traffic holds enough evidence after needed/rate seconds;
    the next scrape brings it in (metrics interval); then
    consecutive_breaches ticks, one analysis interval apart; plus polling.
    """

    def __init__(self, needed, rate):
        t = TIMINGS
        self.needed = needed
        self.rate = rate
        self.seconds = (needed / rate + t["metrics_interval_s"]
                        + t["consecutive_breaches"] * t["interval_s"] + POLL_SLACK_S)

    def __str__(self):
        t = TIMINGS
        return ("%.1f s = %d requests at %g/s + scrape %g s + %d x %g s intervals + %g s polling"
                % (self.seconds, self.needed, self.rate, t["metrics_interval_s"],
                   t["consecutive_breaches"], t["interval_s"], POLL_SLACK_S))


def error_deadline(share, rate):
    t = TIMINGS
    return Deadline(requests_needed(share, t["error_rate_max"], ERR_Z, t["min_requests"],
                                    MIN_ERRORS), rate)


def latency_deadline(rate):
    """Every request slower than the threshold: min_samples and the recent check decide."""
    t = TIMINGS
    return Deadline(max(t["min_samples"], RECENT_MIN,
                        requests_needed(1.0, 0.5, LAT_Z, 1, MIN_ERRORS)), rate)


class AppQueries:
    """PromQL over one app's series, as rollguard should read them."""

    def __init__(self, prom, spec):
        self.prom = prom
        self.spec = spec

    def _sel(self, extra=""):
        return '{job="%s"%s}' % (self.spec.name, extra)

    def requests(self, window_ms, at):
        expr = "sum(increase(%s%s[%dms]))" % (self.spec.requests, self._sel(), window_ms)
        return self.prom.query(expr, at)

    def error_rate(self, window_ms, at):
        s = self.spec
        errors = "sum(increase(%s%s[%dms]))" % (
            s.requests, self._sel(',%s=~"5.."' % s.error_label), window_ms)
        expr = "(%s or vector(0)) / sum(increase(%s%s[%dms]))" % (
            errors, s.requests, self._sel(), window_ms)
        return self.prom.query(expr, at)

    def p50_seconds(self, window_ms, at):
        s = self.spec
        expr = "histogram_quantile(0.5, sum by (le) (increase(%s_bucket%s[%dms])))" % (
            s.histogram, self._sel(), window_ms)
        value = self.prom.query(expr, at)
        return None if value is None else value * s.to_seconds


def relative_diff(a, b):
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return math.inf
    if b == 0:
        return 0.0 if a == 0 else math.inf
    return abs(a - b) / abs(b)


def fmt(x, digits=5):
    if x is None:
        return "none"
    if isinstance(x, float):
        return "%.*f" % (digits, x)
    return str(x)


def one_line(text, limit=300):
    flat = " | ".join(l.strip() for l in text.strip().splitlines() if l.strip())
    return flat if len(flat) <= limit else flat[:limit] + " ..."


REPORT_KEYS = ("requests:", "errors:", "latency:", "unit:", "warning:", "error:", "result:")


def report_lines(text, limit=700):
    """check-metrics' lines about what it reads, on one line; else the start of it all."""
    picked = [l.strip() for l in text.splitlines() if l.strip().startswith(REPORT_KEYS)]
    return one_line("\n".join(picked), limit) if picked else one_line(text)


# ---- verdicts --------------------------------------------------------------------

def label(t, mode, what):
    return "[%s/%s] %s" % (t.spec.name, mode, what)


def check_verdict(report, t, mode, what, want):
    v = t.daemons[mode].latest()
    if v is None:
        return report.check(label(t, mode, what), False, "no verdict on /status yet")
    return report.check(label(t, mode, what), v.outcome == want,
                        "want %s, got %s" % (want, v.brief()))


def check_reading(report, t, mode, what):
    """/status scrape.reading names the app's request series, label, histogram and unit."""
    rd = t.daemons[mode].reading()
    if not rd:
        return report.check(label(t, mode, what), False, "no scrape.reading on /status")
    s = t.spec
    want = {"requests": s.requests, "error_label": s.error_label, "latency": s.histogram,
            "unit_seconds": s.to_seconds}
    wrong = ["%s %r (want %r)" % (k, rd.get(k), v) for k, v in want.items() if rd.get(k) != v]
    return report.check(label(t, mode, what), not wrong,
                        "; ".join(wrong) if wrong else rd.get("summary", ""))


def check_steady_pass(report, t, mode, what, since, until):
    """Every verdict taken in (since, until] is PASS."""
    seen = t.daemons[mode].timeline(since, until)
    bad = [v for v in seen if v.outcome != "PASS"]
    detail = "%d verdicts in the last %.0f s, %d not PASS" % (len(seen), until - since, len(bad))
    if bad:
        detail += "; first: %s" % bad[0].brief()
    return report.check(label(t, mode, what), bool(seen) and not bad, detail)


def check_fail_time(report, t, mode, what, since, until, rule, deadline):
    """The first FAIL seen after `since`: its rule, and how long after `since`."""
    name = label(t, mode, what)
    fails = [v for v in t.daemons[mode].timeline(since, until) if v.outcome == "FAIL"]
    if not fails:
        last = t.daemons[mode].latest()
        return report.check(name, False, "no FAIL within %.0f s; last verdict %s"
                            % (until - since, last.brief() if last else "none"))
    first = fails[0]
    took = first.seen_at - since
    return report.check(name, took <= deadline.seconds and first.rule == rule,
                        "FAIL (rule %s, want %s) seen %.1f s after the fault began; "
                        "deadline %s; reason: %s" % (first.rule, rule, took, deadline,
                                                      first.reason))


def settled_verdict(daemon, since, until):
    """The newest verdict in (since, until] whose whole window lies after `since`."""
    margin = TIMINGS["metrics_interval_s"]
    for v in reversed(daemon.timeline(since, until)):
        if v.seen_at - v.window_ms / 1000.0 - margin >= since:
            return v
    return None


def check_error_rate(report, t, mode, what, since, until):
    name = label(t, mode, what)
    v = settled_verdict(t.daemons[mode], since, until)
    if v is None:
        return report.check(name, False, "no verdict with its window inside the phase")
    e = v.evidence("error_rate")
    window_ms = e.get("window_ms") or v.window_ms
    promql = t.queries.error_rate(window_ms, v.seen_at)
    prom_requests = t.queries.requests(window_ms, v.seen_at)
    ours = e.get("value")
    diff = relative_diff(ours, promql)
    return report.check(name, diff <= ERROR_RATE_TOLERANCE,
                        "rollguard %s (%s errors / %s requests) vs PromQL %s (%s requests) "
                        "over %d ms: %.2f %% apart (tolerance %g %%)"
                        % (fmt(ours), e.get("errors"), e.get("requests"), fmt(promql),
                           fmt(prom_requests, 0), window_ms, diff * 100,
                           ERROR_RATE_TOLERANCE * 100))


def check_p50(report, t, mode, what, since, until):
    name = label(t, mode, what)
    v = settled_verdict(t.daemons[mode], since, until)
    if v is None:
        return report.check(name, False, "no verdict with its window inside the phase")
    e = v.evidence("latency")
    window_ms = e.get("window_ms") or v.window_ms
    promql = t.queries.p50_seconds(window_ms, v.seen_at)
    ours = e.get("value")
    diff = relative_diff(ours, promql)
    return report.check(name, diff <= P50_TOLERANCE,
                        "rollguard p50 %s s (%s samples, source %s) vs PromQL "
                        "histogram_quantile %s s over %d ms: %.2f %% apart (tolerance %g %%)"
                        % (fmt(ours), e.get("samples"), e.get("source"), fmt(promql),
                           window_ms, diff * 100, P50_TOLERANCE * 100))


# ---- rollguard check-metrics -----------------------------------------------------

def _missing_command(rc, output):
    return rc == 2 and "check-metrics" in output and ("unexpected" in output or
                                                     "Usage" in output)


def _no_command_detail(rc, output):
    return "the binary has no check-metrics command (exit %s: %s)" % (
        rc, (output.strip().splitlines() or [""])[0])


def _names_missing(spec, output):
    """What check-metrics should name on this app and did not (whole words)."""
    want = [spec.requests, spec.error_label, spec.histogram]
    missing = [w for w in want if not re.search(r"\b%s\b" % re.escape(w), output)]
    unit = (r"\b(ms|msec|milliseconds?)\b" if spec.unit == "milliseconds"
            else r"\b(s|secs?|seconds?)\b")
    if not re.search(unit, output):
        missing.append("the unit (" + spec.unit + ")")
    return missing


def check_metrics_on_app(report, binary, t):
    """check-metrics with no config, with the README block, and with a wrong label."""
    url = t.url + "/metrics"
    cases = [
        ("check-metrics (no config)", None, 0),
        ("check-metrics --config block", t.block_config, 0),
        ("check-metrics --config error_label: nosuchlabel", t.mismatch_config, 1),
    ]
    for what, config, want_rc in cases:
        rc, out = check_metrics(binary, url, config)
        name = label(t, "cli", what)
        if _missing_command(rc, out):
            report.check(name, False, _no_command_detail(rc, out))
        elif want_rc == 0:
            missing = _names_missing(t.spec, out)
            report.check(name, rc == 0 and not missing, "exit %s (want 0); %s; output: %s"
                         % (rc, "names every series and the unit" if not missing
                            else "does not name " + ", ".join(missing), report_lines(out)))
        else:
            named = re.search(r"\bnosuchlabel\b", out) is not None
            report.check(name, rc == want_rc and named, "exit %s (want %d); %s the label; "
                         "output: %s" % (rc, want_rc, "names" if named else "does not name",
                                         report_lines(out)))


def check_metrics_unreachable(report, binary, url):
    """check-metrics on a page nothing serves: exit 2."""
    rc, out = check_metrics(binary, url)
    name = "[cli] check-metrics on an unreachable page"
    if _missing_command(rc, out):
        return report.check(name, False, _no_command_detail(rc, out))
    return report.check(name, rc == 2, "exit %s (want 2); output: %s" % (rc, report_lines(out)))
