#!/usr/bin/env python3
"""Write a large, realistic Prometheus text-format (0.0.4) exposition.

The mix imitates a busy exporter page: the Go client's runtime metrics, an
HTTP service's counters and histograms, kube-state-metrics style gauges with
long label sets (pod names, UIDs), gRPC counters, and a few label values
with escapes. Deterministic for a given --seed. The output passes
`promtool check metrics` (parse and lint) cleanly.

    bench/gen_metrics.py [--series N] [--seed S] [-o FILE]
"""
import argparse
import random
import sys
import uuid


def fmt(v):
    """A Go-like float rendering: integers without a point, otherwise repr."""
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


class Out:
    def __init__(self, w):
        self.w = w
        self.series = 0

    def family(self, name, typ, help_text):
        self.w.write(f"# HELP {name} {help_text}\n# TYPE {name} {typ}\n")

    def sample(self, name, labels, value):
        if labels:
            ls = ",".join(f'{k}="{v}"' for k, v in labels)
            self.w.write(f"{name}{{{ls}}} {fmt(value)}\n")
        else:
            self.w.write(f"{name} {fmt(value)}\n")
        self.series += 1

    def histogram(self, name, labels, bounds, rng, scale):
        count = rng.randint(0, 5000)
        cum = 0
        # cumulative, non-decreasing, +Inf == count
        weights = sorted(rng.random() for _ in bounds)
        for b, w in zip(bounds, weights):
            cum = max(cum, int(count * w))
            self.sample(name + "_bucket", labels + [("le", fmt(b))], cum)
        self.sample(name + "_bucket", labels + [("le", "+Inf")], count)
        self.sample(name + "_sum", labels, round(count * scale * rng.random(), 6))
        self.sample(name + "_count", labels, count)


def go_runtime(o, rng):
    o.family("go_gc_duration_seconds", "summary",
             "A summary of the pause duration of garbage collection cycles.")
    for q, v in (("0", 2.1e-05), ("0.25", 4.5e-05), ("0.5", 6.2e-05), ("0.75", 9.9e-05),
                 ("1", 0.00123)):
        o.sample("go_gc_duration_seconds", [("quantile", q)], v)
    o.sample("go_gc_duration_seconds_sum", [], 0.513)
    o.sample("go_gc_duration_seconds_count", [], 8123)
    o.family("go_goroutines", "gauge", "Number of goroutines that currently exist.")
    o.sample("go_goroutines", [], 143)
    o.family("go_info", "gauge", "Information about the Go environment.")
    o.sample("go_info", [("version", "go1.21.5")], 1)
    o.family("go_memstats_alloc_bytes", "gauge",
             "Number of bytes allocated and still in use.")
    o.sample("go_memstats_alloc_bytes", [], 2.3418904e+07)
    o.family("go_memstats_alloc_bytes_total", "counter",
             "Total number of bytes allocated, even if freed.")
    o.sample("go_memstats_alloc_bytes_total", [], 9.87654321e+10)
    o.family("process_cpu_seconds_total", "counter",
             "Total user and system CPU time spent in seconds.")
    o.sample("process_cpu_seconds_total", [], 12345.67)
    o.family("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.")
    o.sample("process_start_time_seconds", [], 1.71234567891e+09)
    o.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
    o.sample("process_resident_memory_bytes", [], 8.4430848e+07)


def http_service(o, rng, services, handlers):
    methods = ["GET", "POST", "PUT", "DELETE"]
    codes = ["200", "201", "204", "400", "404", "500", "503"]
    o.family("http_requests_total", "counter",
             "Total number of HTTP requests by service, handler, method and status code.")
    for svc in services:
        for h in handlers:
            for m in methods[:3]:
                for c in codes[:5]:
                    o.sample("http_requests_total",
                             [("service", svc), ("handler", h), ("method", m), ("code", c)],
                             rng.randint(0, 10**7))
    bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    o.family("http_request_duration_seconds", "histogram",
             "Latency of HTTP requests in seconds.")
    for svc in services:
        for h in handlers:
            for m in methods[:3]:
                o.histogram("http_request_duration_seconds",
                            [("service", svc), ("handler", h), ("method", m)], bounds, rng, 0.2)
    sbounds = [100, 1000, 10000, 100000, 1e+06, 1e+07]
    o.family("http_response_size_bytes", "histogram", "Size of HTTP responses in bytes.")
    for svc in services:
        for h in handlers[: len(handlers) // 2]:
            o.histogram("http_response_size_bytes", [("service", svc), ("handler", h)],
                        sbounds, rng, 20000)


def kube_state(o, rng, pods):
    phases = ["Pending", "Running", "Succeeded", "Failed", "Unknown"]
    names = []
    for i in range(pods):
        ns = "team-%02d" % (i % 37)
        pod = "web-%s-%s" % (uuid.UUID(int=rng.getrandbits(128)).hex[:10],
                             uuid.UUID(int=rng.getrandbits(128)).hex[:5])
        names.append((ns, pod, str(uuid.UUID(int=rng.getrandbits(128)))))
    o.family("kube_pod_status_phase", "gauge", "The pods current phase.")
    for ns, pod, uid in names:
        live = rng.choice(phases[:2])
        for ph in phases:
            o.sample("kube_pod_status_phase",
                     [("namespace", ns), ("pod", pod), ("phase", ph)],
                     1 if ph == live else 0)
    o.family("kube_pod_container_status_restarts_total", "counter",
             "The number of container restarts per container.")
    for ns, pod, uid in names:
        o.sample("kube_pod_container_status_restarts_total",
                 [("namespace", ns), ("pod", pod), ("container", "app")], rng.randint(0, 3))
    o.family("kube_pod_container_status_ready", "gauge",
             "Describes whether the containers readiness check succeeded.")
    for ns, pod, uid in names:
        o.sample("kube_pod_container_status_ready",
                 [("namespace", ns), ("pod", pod), ("container", "app")],
                 rng.randint(0, 1))


def grpc(o, rng, n):
    codes = ["OK", "Canceled", "InvalidArgument", "NotFound", "Unavailable", "Internal"]
    o.family("grpc_server_handled_total", "counter",
             "Total number of RPCs completed on the server, regardless of success or failure.")
    for i in range(n):
        svc = "ledger.v%d.L%d" % (i % 3 + 1, i // 6)
        for c in codes:
            o.sample("grpc_server_handled_total",
                     [("grpc_code", c), ("grpc_method", "Get%d" % i), ("grpc_service", svc),
                      ("grpc_type", "unary")], rng.randint(0, 10**6))


def odd_values(o, rng):
    # escapes, exponents, special values, timestamps
    o.family("app_build_info", "gauge", "Build information with a \\\\ backslash and a \\n line.")
    o.sample("app_build_info", [("path", 'C:\\\\app\\\\bin'), ("note", 'say \\"hi\\"'),
                                ("multi", "a\\nb")], 1)
    o.family("app_temperature_celsius", "gauge", "A gauge with special values.")
    for i, v in enumerate(["NaN", "+Inf", "-Inf", "1.5e-07", "-3.25E+04", "0"]):
        o.sample("app_temperature_celsius", [("sensor", "s%d" % i)], v)
    o.family("app_jobs_processed_total", "counter", "Jobs processed, with timestamps.")
    for i in range(20):
        o.w.write('app_jobs_processed_total{queue="q%d"} %d 1712345678%03d\n' % (
            i, rng.randint(0, 10**9), i))
        o.series += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=100000, help="approximate sample lines")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    w = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    o = Out(w)
    # Shares of the target: http ~40 %, kube-state ~45 %, grpc ~13 %.
    scale = a.series / 100000.0
    services = ["svc-%s" % s for s in ("accounts", "ledger", "pricing", "orders", "funds",
                                        "reports", "auth", "gateway", "notify", "audit")]
    nserv = max(1, min(len(services), int(round(10 * scale))))
    handlers = ["/api/v1/res%02d" % i for i in range(max(2, int(40 * min(scale, 1))))]
    go_runtime(o, rng)
    http_service(o, rng, services[:nserv], handlers)
    kube_state(o, rng, max(1, int(8000 * scale)))
    grpc(o, rng, max(1, int(3200 * scale)))
    odd_values(o, rng)
    if w is not sys.stdout:
        w.close()
    print("%d samples" % o.series, file=sys.stderr)


if __name__ == "__main__":
    main()
