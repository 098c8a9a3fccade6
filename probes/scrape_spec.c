/*
 * scrape_spec — what to select on a page, from the configured names: the
 * request counter, the status label, the error pattern, the latency
 * family, the selector, and the candidate lists "auto" looks for. Pure.
 */
#include "probes/scrape-int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/promre.h"
#include "config/selector.h"

static const char default_counter[] = "http_requests_total";

/* Status labels "auto" looks for, in this order (README: Analysis). */
static const char *const any_labels[] = {"code", "status_code", "status", "http_status_code",
                                         "http_response_status_code"};
static const char *const otel_labels[] = {"http_response_status_code", "http_status_code"};

/* Latency families "auto" looks for, with the unit their convention implies. */
struct hist_name {
    const char *name;
    double scale;
};
static const struct hist_name any_hists[] = {
    {"http_request_duration_seconds", 1},        /* Prometheus clients, express-prom-bundle */
    {"http_server_request_duration_seconds", 1}, /* OpenTelemetry, HTTP semconv 1.23+ */
    {"http_server_request_duration", 1},         /* the same, unit on a UNIT line only */
    {"http_server_duration_milliseconds", 1e-3}, /* OpenTelemetry, older semconv */
    {"http_server_duration", 1e-3},              /* the same, without the unit suffix */
    {"http_server_requests_seconds", 1},         /* Micrometer (Spring Boot) */
};
static const struct hist_name otel_hists[] = {
    {"http_server_request_duration_seconds", 1},
    {"http_server_request_duration", 1},
    {"http_server_duration_milliseconds", 1e-3},
    {"http_server_duration", 1e-3},
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
int
scrape_set_err(struct promtext_err *err, unsigned line, unsigned column, const char *fmt, ...)
{
    if (err) {
        va_list ap;

        err->line = line;
        err->column = column;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n > k && memcmp(s + n - k, suffix, k) == 0;
}

double scrape_infer_scale(const char *h)
{
    size_t n = strlen(h);

    if (ends_with(h, n, "_milliseconds") || ends_with(h, n, "_ms"))
        return 1e-3;
    if (ends_with(h, n, "_microseconds") || ends_with(h, n, "_us"))
        return 1e-6;
    if (ends_with(h, n, "_nanoseconds") || ends_with(h, n, "_ns"))
        return 1e-9;
    if (ends_with(h, n, "_seconds"))
        return 1.0;
    return 0; /* the name does not say */
}

static int copy_name(char *dst, const char *src, const char *what, bool required,
                     struct promtext_err *err)
{
    size_t n = src ? strlen(src) : 0;

    if (n == 0 && required)
        return scrape_set_err(err, 0, 0, "%s is empty", what);
    if (n >= SCRAPE_NAME_MAX)
        return scrape_set_err(err, 0, 0, "%s longer than %d bytes", what, SCRAPE_NAME_MAX - 1);
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

/* The selector through config/selector, the grammar config validation uses too. */
static int parse_selector(struct scrape_spec *s, const char *sel, struct promtext_err *err)
{
    struct selector parsed;
    struct selector_err e;

    if (selector_parse(sel, &parsed, &e) < 0)
        return scrape_set_err(err, 0, e.column, "%s in selector", e.msg);
    s->nmatchers = parsed.n;
    memcpy(s->matchers, parsed.m, sizeof(parsed.m[0]) * parsed.n);
    return 0;
}

static void set_candidates(struct scrape_spec *s, enum scrape_flavour f)
{
    const char *const *labels = f == SCRAPE_FLAVOUR_OTEL ? otel_labels : any_labels;
    size_t nl = f == SCRAPE_FLAVOUR_OTEL ? sizeof(otel_labels) / sizeof(otel_labels[0])
                                         : sizeof(any_labels) / sizeof(any_labels[0]);
    const struct hist_name *hists = f == SCRAPE_FLAVOUR_OTEL ? otel_hists : any_hists;
    size_t nh = f == SCRAPE_FLAVOUR_OTEL ? sizeof(otel_hists) / sizeof(otel_hists[0])
                                         : sizeof(any_hists) / sizeof(any_hists[0]);

    if (!strcmp(s->error_label, SCRAPE_AUTO)) {
        s->nlabels = (unsigned)nl;
        for (size_t i = 0; i < nl; i++)
            snprintf(s->labels[i], sizeof(s->labels[i]), "%s", labels[i]);
    }
    if (!strcmp(s->histogram, SCRAPE_AUTO)) {
        s->nhists = (unsigned)nh;
        for (size_t i = 0; i < nh; i++) {
            snprintf(s->hists[i], sizeof(s->hists[i]), "%s", hists[i].name);
            s->hist_scale[i] = hists[i].scale;
        }
    }
}

void scrape_spec_tune(struct scrape_spec *s, enum scrape_flavour f, double quantile)
{
    set_candidates(s, f);
    if (quantile > 0 && quantile < 1)
        s->quantile = quantile;
}

int scrape_spec_init(struct scrape_spec *ret, const char *metric, const char *error_label,
                     const char *error_match, const char *selector, const char *histogram,
                     double unit_scale, struct promtext_err *err)
{
    struct scrape_spec s;
    char why[160];
    size_t n;
    int r;

    memset(&s, 0, sizeof(s));
    if ((r = copy_name(s.metric, metric, "requests.metric", true, err)) < 0 ||
        (r = copy_name(s.error_label, error_label, "requests.error_label", true, err)) < 0 ||
        (r = copy_name(s.histogram, histogram, "latency.histogram", false, err)) < 0)
        return r;
    if (!error_match || !error_match[0])
        return scrape_set_err(err, 0, 0, "error_match is empty");
    if (strlen(error_match) >= SCRAPE_VALUE_MAX)
        return scrape_set_err(err, 0, 0, "error_match longer than %d bytes", SCRAPE_VALUE_MAX - 1);
    if (promre_check(error_match, why, sizeof(why)) < 0)
        return scrape_set_err(err, 0, 0, "error_match: %s", why);
    memcpy(s.error_match, error_match, strlen(error_match) + 1);
    if (!strcmp(s.metric, SCRAPE_AUTO)) {
        s.metric_auto = true;
        memcpy(s.metric, default_counter, sizeof(default_counter));
    }
    n = strlen(s.metric);
    memcpy(s.base, s.metric, n + 1);
    if (ends_with(s.metric, n, "_total"))
        s.base[n - 6] = '\0';
    if (strcmp(s.error_label, SCRAPE_AUTO)) {
        s.nlabels = 1;
        memcpy(s.labels[0], s.error_label, sizeof(s.labels[0]));
    }
    if (s.histogram[0] && strcmp(s.histogram, SCRAPE_AUTO)) {
        s.nhists = 1;
        memcpy(s.hists[0], s.histogram, sizeof(s.hists[0]));
    }
    set_candidates(&s, SCRAPE_FLAVOUR_ANY);
    if (selector && (r = parse_selector(&s, selector, err)) < 0)
        return r;
    if (unit_scale != 0 && (!isfinite(unit_scale) || unit_scale <= 0 || unit_scale > 1e6))
        return scrape_set_err(err, 0, 0, "latency unit scale must be a positive number");
    s.unit_scale = unit_scale;
    s.quantile = 0.5;
    *ret = s;
    return 0;
}
