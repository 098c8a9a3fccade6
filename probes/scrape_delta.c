/*
 * scrape_delta — two readings of a page into one struct sample_delta
 * (counter resets as Prometheus rate() sees them), and how a reading is
 * named and described for logs and /status. Pure.
 */
#include "probes/scrape-int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *scrape_req_from_name(enum scrape_req_from f)
{
    return f == SCRAPE_REQ_COUNTER      ? "counter"
           : f == SCRAPE_REQ_HIST_COUNT ? "histogram_count"
                                        : "none";
}

const char *scrape_lat_kind_name(enum scrape_lat_kind k)
{
    return k == SCRAPE_LAT_HISTOGRAM ? "histogram" : k == SCRAPE_LAT_SUMMARY ? "summary" : "none";
}

const char *scrape_unit_from_name(enum scrape_unit_from f)
{
    static const char *const names[] = {"none", "config",     "unit_line",
                                        "name", "convention", "assumed"};

    return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "none";
}

/* ---- delta ------------------------------------------------------------------------------- */

static uint64_t to_count(double v)
{
    if (!(v > 0))
        return 0;
    if (v >= 1.8e19)
        return UINT64_MAX;
    return (uint64_t)(v + 0.5);
}

static bool same_layout(const struct scrape_totals *a, const struct scrape_totals *b)
{
    if (a->hist_n != b->hist_n)
        return false;
    for (unsigned i = 0; i < a->hist_n; i++)
        if (a->hist_le[i] != b->hist_le[i])
            return false;
    return true;
}

/* Whether prev and cur read requests, errors, latency from the same names. */
static bool same_requests(const struct scrape_totals *a, const struct scrape_totals *b)
{
    return a->rd.req_from == b->rd.req_from && !strcmp(a->rd.requests, b->rd.requests);
}

static bool same_latency(const struct scrape_totals *a, const struct scrape_totals *b)
{
    return a->rd.lat_kind == b->rd.lat_kind && !strcmp(a->rd.latency, b->rd.latency) &&
           a->rd.unit_scale == b->rd.unit_scale;
}

void scrape_delta(const struct scrape_totals *prev, const struct scrape_totals *cur, double span_s,
                  struct sample_delta *ret)
{
    bool same_req = same_requests(prev, cur), same_lat = same_latency(prev, cur);
    bool restart =
        prev->has_start_time && cur->has_start_time && prev->start_time != cur->start_time;
    bool req_reset = restart ||
                     (prev->has_created && cur->has_created && prev->created != cur->created) ||
                     cur->requests < prev->requests || cur->errors < prev->errors;

    memset(ret, 0, sizeof(*ret));
    ret->valid = true;
    ret->span_s = span_s;
    snprintf(ret->err_problem, sizeof(ret->err_problem), "%s", cur->rd.err_problem);
    snprintf(ret->lat_problem, sizeof(ret->lat_problem), "%s", cur->rd.lat_problem);
    if (same_req) {
        ret->requests = to_count(req_reset ? cur->requests : cur->requests - prev->requests);
        if (!strcmp(prev->rd.error_label, cur->rd.error_label))
            ret->errors = to_count(req_reset ? cur->errors : cur->errors - prev->errors);
        if (ret->errors > ret->requests)
            ret->errors = ret->requests;
        ret->reset = req_reset;
    }
    if (!same_lat)
        return; /* another family or unit: the next page compares with this one */
    if (cur->has_summary_q) {
        bool sreset = restart || cur->hist_count < prev->hist_count;

        ret->has_summary = true;
        ret->summary_q = cur->summary_q;
        ret->summary_count =
            to_count(sreset ? cur->hist_count : cur->hist_count - prev->hist_count);
    }
    if (cur->has_hist && cur->hist_n > 0) {
        bool fresh = !prev->has_hist || prev->hist_n == 0;
        bool hreset = false;
        uint64_t below = 0;

        if (!fresh) {
            hreset = restart ||
                     (prev->hist_has_created && cur->hist_has_created &&
                      prev->hist_created != cur->hist_created) ||
                     cur->hist_count < prev->hist_count || !same_layout(prev, cur);
            for (unsigned i = 0; !hreset && i < cur->hist_n; i++)
                hreset = cur->hist_cum[i] < prev->hist_cum[i];
        }
        ret->has_hist = true;
        ret->hist.n = cur->hist_n;
        for (unsigned i = 0; i < cur->hist_n; i++) {
            double inc = fresh || hreset ? cur->hist_cum[i] : cur->hist_cum[i] - prev->hist_cum[i];
            uint64_t cum = to_count(inc);

            if (cum < below)
                cum = below; /* cumulative counts never fall (as histogram_quantile) */
            ret->hist.le[i] = cur->hist_le[i];
            ret->hist.count[i] = cum - below;
            below = cum;
        }
        ret->reset = ret->reset || hreset;
    }
}

const char *scrape_unit_word(double scale)
{
    return scale == 1      ? "seconds"
           : scale == 1e-3 ? "milliseconds"
           : scale == 1e-6 ? "microseconds"
           : scale == 1e-9 ? "nanoseconds"
                           : NULL;
}

int scrape_reading_describe(const struct scrape_reading *rd, const char *error_match, char *buf,
                            size_t size)
{
    int n;

    if (rd->req_from == SCRAPE_REQ_NONE)
        return snprintf(buf, size, "nothing read yet");
    n = snprintf(buf, size, "requests from %s (%s, %u series); errors from ", rd->requests,
                 rd->req_from == SCRAPE_REQ_COUNTER ? "counter" : "histogram _count",
                 rd->req_series);
    if (n < 0 || (size_t)n >= size)
        return n;
    if (rd->error_label[0])
        n += snprintf(buf + n, size - (size_t)n, "%s{%s=~\"%s\"}", rd->requests, rd->error_label,
                      error_match);
    else
        n += snprintf(buf + n, size - (size_t)n, "nothing (no status label)");
    if (n < 0 || (size_t)n >= size)
        return n;
    if (rd->lat_kind == SCRAPE_LAT_NONE && !rd->latency[0])
        n += snprintf(buf + n, size - (size_t)n, "; latency from nothing");
    else
        n +=
            snprintf(buf + n, size - (size_t)n, "; latency from %s (%s, %s from the %s)",
                     rd->latency, scrape_lat_kind_name(rd->lat_kind),
                     scrape_unit_word(rd->unit_scale) ? scrape_unit_word(rd->unit_scale) : "scaled",
                     rd->unit_from == SCRAPE_UNIT_FROM_UNIT         ? "UNIT line"
                     : rd->unit_from == SCRAPE_UNIT_FROM_NAME       ? "name"
                     : rd->unit_from == SCRAPE_UNIT_FROM_CONFIG     ? "config"
                     : rd->unit_from == SCRAPE_UNIT_FROM_CONVENTION ? "name's convention"
                                                                    : "default");
    return n;
}
