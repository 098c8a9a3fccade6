/*
 * doctor — the metrics doctor: one page in, a plain-text report out.
 *
 * The report reads the page exactly as the scraper does (scraper_spec and
 * scrape_extract), then walks it once more with promtext to list the
 * families and to itemise the series behind the totals. Pure: the CLI
 * and the admin endpoint that fetch or keep the page are doctor_cli.c.
 */
#include "sidecar/doctor.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/promre.h"
#include "probes/promtext.h"
#include "probes/scrape.h"
#include "probes/scraper.h"
#include "sidecar/endpoints.h"
#include "sidecar/analysis/window.h"

#define MAX_VALUES 8     /* status label values itemised */
#define VALUE_SHOWN 40   /* bytes of one value shown */
#define MAX_QUANTILES 8  /* summary quantiles listed */
#define MAX_HINTS 10     /* names in one hint or "more candidates" line */
#define NAME_SHOWN 120   /* bytes of a family name shown */
#define UNESCAPE_MAX 512 /* longer escaped values are no status (as scrape.c) */

/* ---- the families on a page ------------------------------------------------------------ */

struct fam {
    const char *name; /* a slice of the page */
    size_t len;
    enum promtext_type type;
    bool total;      /* a counter whose samples end in _total */
    unsigned series; /* samples; of a histogram or summary, its _count samples */
    unsigned inf;    /* +Inf buckets: the series of a histogram without _count */
};

/* Families in page order, with an open-addressing index over them. */
struct fams {
    struct fam *v;
    size_t n, cap;
    uint32_t *slot; /* index into v + 1; 0 is empty */
    size_t nslots;  /* a power of two, at least twice n */
};

static uint32_t fnv(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static void fams_place(struct fams *f, size_t i)
{
    size_t k = fnv(f->v[i].name, f->v[i].len) & (f->nslots - 1);

    while (f->slot[k])
        k = (k + 1) & (f->nslots - 1);
    f->slot[k] = (uint32_t)(i + 1);
}

/* Room for one more family. Returns 0 or -ENOMEM. */
static int fams_reserve(struct fams *f)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct fam *v = realloc(f->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        f->v = v;
        f->cap = cap;
    }
    if ((f->n + 1) * 2 > f->nslots) {
        size_t nslots = f->nslots ? f->nslots * 2 : 128;
        uint32_t *slot = calloc(nslots, sizeof(*slot));

        if (!slot)
            return -ENOMEM;
        free(f->slot);
        f->slot = slot;
        f->nslots = nslots;
        for (size_t i = 0; i < f->n; i++)
            fams_place(f, i);
    }
    return 0;
}

/* The family named by the slice, added (untyped, no series) when new; NULL on -ENOMEM. */
static struct fam *fams_get(struct fams *f, const char *name, size_t len)
{
    if (f->nslots) {
        size_t k = fnv(name, len) & (f->nslots - 1);

        for (; f->slot[k]; k = (k + 1) & (f->nslots - 1)) {
            struct fam *x = &f->v[f->slot[k] - 1];

            if (x->len == len && !memcmp(x->name, name, len))
                return x;
        }
    }
    if (fams_reserve(f) < 0)
        return NULL;
    f->v[f->n] = (struct fam){.name = name, .len = len};
    fams_place(f, f->n);
    return &f->v[f->n++];
}

static void fams_free(struct fams *f)
{
    free(f->v);
    free(f->slot);
}

/* Counts smp as a series of f when it is one (not a bucket, _sum or _created). */
static void fam_count(struct fam *f, const struct promtext_sample *smp)
{
    f->type = smp->type;
    switch (smp->type) {
    case PROMTEXT_HISTOGRAM:
    case PROMTEXT_GAUGEHISTOGRAM:
        if (smp->suffix == PROMTEXT_SFX_COUNT || smp->suffix == PROMTEXT_SFX_GCOUNT)
            f->series++;
        else if (smp->suffix == PROMTEXT_SFX_BUCKET && isinf(smp->bound) && smp->bound > 0)
            f->inf++;
        break;
    case PROMTEXT_SUMMARY:
        f->series += smp->suffix == PROMTEXT_SFX_COUNT;
        break;
    case PROMTEXT_COUNTER:
        f->total = f->total || smp->suffix == PROMTEXT_SFX_TOTAL;
        f->series += smp->suffix == PROMTEXT_SFX_NONE || smp->suffix == PROMTEXT_SFX_TOTAL;
        break;
    default:
        f->series += smp->suffix != PROMTEXT_SFX_CREATED;
    }
}

static unsigned fam_series(const struct fam *f)
{
    return f->series > f->inf ? f->series : f->inf;
}

/* Whether f could count requests or latency: a counter named *_total, a histogram, a summary. */
static bool fam_candidate(const struct fam *f)
{
    return (f->type == PROMTEXT_COUNTER &&
            (f->total || (f->len > 6 && !memcmp(f->name + f->len - 6, "_total", 6)))) ||
           f->type == PROMTEXT_HISTOGRAM || f->type == PROMTEXT_SUMMARY;
}

/* ---- the second pass: families and the series behind the totals -------------------------- */

struct value {
    char v[VALUE_SHOWN];
    size_t len; /* shown bytes */
    bool absent, cut, error;
    unsigned series;
    double total;
};

struct pass {
    const struct scrape_spec *spec;
    const struct scrape_reading *rd; /* NULL: the page was not read, nothing was chosen */
    struct fams fams;
    size_t metric_len, base_len, total_len, req_len, lat_len, lat_count_len;
    char total_name[SCRAPE_NAME_MAX + 8]; /* spec->base + "_total" */
    char lat_count[SCRAPE_NAME_MAX + 8];  /* rd->latency + "_count" */
    regex_t re;
    bool re_ok, empty_hit;
    unsigned err_series;
    struct value vals[MAX_VALUES];
    unsigned nvals, other_series; /* series whose value did not fit in vals */
    double other_total;
    unsigned lat_series;
    double q[MAX_QUANTILES];
    unsigned nq;
};

static bool name_eq(const struct promtext_sample *smp, const char *name, size_t n)
{
    return promtext_str_eq(smp->name, smp->name_escaped, name, n);
}

/* Whether smp is one of the request series the reading counts (selector aside). */
static bool is_request(const struct pass *p, const struct promtext_sample *smp)
{
    if (p->rd->req_from == SCRAPE_REQ_HIST_COUNT)
        return name_eq(smp, p->rd->requests, p->req_len);
    return name_eq(smp, p->spec->metric, p->metric_len) ||
           name_eq(smp, p->spec->base, p->base_len) || name_eq(smp, p->total_name, p->total_len);
}

static void note_value(struct pass *p, const char *v, size_t n, bool absent, double value,
                       bool error)
{
    size_t shown = n < VALUE_SHOWN - 1 ? n : VALUE_SHOWN - 1;
    unsigned i;

    for (i = 0; i < p->nvals; i++) {
        const struct value *x = &p->vals[i];

        if (x->absent == absent && x->cut == (shown < n) && x->len == shown &&
            !memcmp(x->v, v, shown))
            break;
    }
    if (i == p->nvals) {
        if (p->nvals == MAX_VALUES) {
            p->other_series++;
            p->other_total += value;
            return;
        }
        memcpy(p->vals[i].v, v, shown);
        p->vals[i].v[shown] = '\0';
        p->vals[i].len = shown;
        p->vals[i].absent = absent;
        p->vals[i].cut = shown < n;
        p->vals[i].error = error;
        p->nvals++;
    }
    p->vals[i].series++;
    p->vals[i].total += value;
}

/* One request series: is it an error under the chosen label, and which value it has. */
static void note_request(struct pass *p, const struct promtext_sample *smp)
{
    char buf[UNESCAPE_MAX];
    const struct promtext_label *l;
    const char *v = "";
    size_t n = 0;
    bool error;

    if (!p->rd->error_label[0])
        return;
    l = promtext_sample_label(smp, p->rd->error_label);
    if (!l) {
        error = p->empty_hit; /* an absent label reads "" as in PromQL */
    } else if (l->value_escaped && l->value.len > sizeof(buf)) {
        error = false;
        v = l->value.p;
        n = l->value.len;
    } else {
        v = l->value.p;
        n = l->value.len;
        if (l->value_escaped) {
            n = promtext_unescape(l->value, buf);
            v = buf;
        }
        error = p->re_ok && promre_match(&p->re, v, n);
    }
    p->err_series += error;
    note_value(p, v, n, l == NULL, smp->value, error);
}

/* A series of the latency family: its _count, or a summary's quantile. */
static void note_latency(struct pass *p, const struct promtext_sample *smp)
{
    double q = smp->bound;

    if (name_eq(smp, p->lat_count, p->lat_count_len)) {
        p->lat_series++;
        return;
    }
    if (p->rd->lat_kind != SCRAPE_LAT_SUMMARY || !name_eq(smp, p->rd->latency, p->lat_len))
        return;
    if (isnan(q)) {
        const struct promtext_label *l = promtext_sample_label(smp, "quantile");

        if (!l || l->value_escaped || promtext_number(l->value, &q) < 0 || isnan(q))
            return;
    }
    for (unsigned i = 0; i < p->nq; i++)
        if (p->q[i] == q)
            return;
    if (p->nq < MAX_QUANTILES)
        p->q[p->nq++] = q;
}

static int pass_sample(const struct promtext_sample *smp, void *arg)
{
    struct pass *p = arg;
    struct fam *f = fams_get(&p->fams, smp->family.p, smp->family.len);

    if (!f)
        return -ENOMEM;
    fam_count(f, smp);
    if (!p->rd || !scrape_selected(p->spec, smp))
        return 0;
    if (p->rd->req_from != SCRAPE_REQ_NONE && is_request(p, smp))
        note_request(p, smp);
    if (p->rd->latency[0])
        note_latency(p, smp);
    return 0;
}

static int pass_meta(const struct promtext_meta *m, void *arg)
{
    struct pass *p = arg;
    struct fam *f;

    if (m->kind != PROMTEXT_META_TYPE)
        return 0;
    f = fams_get(&p->fams, m->name.p, m->name.len);
    if (!f)
        return -ENOMEM;
    f->type = m->type;
    return 0;
}

/* Prepares a pass for spec and (when the page was read) rd. */
static void pass_init(struct pass *p, const struct scrape_spec *spec,
                      const struct scrape_reading *rd)
{
    char why[160];

    memset(p, 0, sizeof(*p));
    p->spec = spec;
    p->rd = rd;
    p->metric_len = strlen(spec->metric);
    p->base_len = strlen(spec->base);
    p->total_len = (size_t)snprintf(p->total_name, sizeof(p->total_name), "%s_total", spec->base);
    if (!rd)
        return;
    p->req_len = strlen(rd->requests);
    p->lat_len = strlen(rd->latency);
    p->lat_count_len =
        (size_t)snprintf(p->lat_count, sizeof(p->lat_count), "%s_count", rd->latency);
    p->re_ok = promre_compile(spec->error_match, &p->re, why, sizeof(why)) == 0;
    p->empty_hit = p->re_ok && promre_match(&p->re, "", 0);
}

static int pass_run(struct pass *p, const char *body, size_t len, const char *content_type,
                    struct promtext_err *err)
{
    struct promtext_handler h = {.sample = pass_sample, .meta = pass_meta, .arg = p};

    return promtext_parse(body, len, promtext_format_from_content_type(content_type), &h, err);
}

static void pass_done(struct pass *p)
{
    if (p->re_ok)
        regfree(&p->re);
    fams_free(&p->fams);
}

/* ---- rendering ------------------------------------------------------------------------- */

/* A count as an integer when it is one, else with 6 significant digits. */
static void put_num(struct buf *b, double v)
{
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
        buf_printf(b, "%.0f", v);
    else
        buf_printf(b, "%.6g", v);
}

/* seconds as "12.3 ms", "1.5 s", "250 us"; "n/a" when not a number. */
static void put_dur(struct buf *b, double s)
{
    if (!isfinite(s))
        buf_puts(b, "n/a");
    else if (s != 0 && fabs(s) < 1e-3)
        buf_printf(b, "%.3g us", s * 1e6);
    else if (fabs(s) < 1)
        buf_printf(b, "%.3g ms", s * 1e3);
    else
        buf_printf(b, "%.3g s", s);
}

static void put_fam_name(struct buf *b, const struct fam *f)
{
    bool add_total = f->total && !(f->len > 6 && !memcmp(f->name + f->len - 6, "_total", 6));

    buf_printf(b, "%.*s%s", (int)(f->len < NAME_SHOWN ? f->len : NAME_SHOWN), f->name,
               add_total ? "_total" : "");
}

static const char *format_name(const char *body, size_t len, const char *content_type)
{
    enum promtext_format f = promtext_format_from_content_type(content_type);

    if (f == PROMTEXT_AUTO)
        f = promtext_format_detect(body, len);
    return f == PROMTEXT_OPENMETRICS ? "OpenMetrics 1.0" : "Prometheus text 0.0.4";
}

static void put_config(struct buf *b, const struct cfg *c)
{
    const struct cfg_metrics *m = &c->metrics;

    buf_printf(b, "config: %s, hash %s\n", c->source, c->hash);
    buf_printf(b,
               "settings: preset %s, requests.metric %s, error_label %s, error_match \"%s\", "
               "latency.histogram %s, latency.unit %s, selector %s\n",
               cfg_preset_name(m->preset), m->requests_metric, m->error_label, m->error_match,
               m->latency_histogram[0] ? m->latency_histogram : "\"\" (off)",
               cfg_latency_unit_name(m->latency_unit), m->selector[0] ? m->selector : "none");
}

/* "<- requests" / "<- latency" / "*" after a family's name. */
static const char *fam_mark(const struct pass *p, const struct fam *f)
{
    const struct scrape_reading *rd = p->rd;
    bool lat =
        rd && rd->latency[0] && f->len == p->lat_len && !memcmp(f->name, rd->latency, f->len);

    if (lat && rd->req_from == SCRAPE_REQ_HIST_COUNT)
        return "  <- requests (_count) and latency";
    if (lat)
        return "  <- latency";
    if (rd && rd->req_from == SCRAPE_REQ_COUNTER && f->type != PROMTEXT_HISTOGRAM &&
        f->type != PROMTEXT_SUMMARY &&
        ((f->len == p->base_len && !memcmp(f->name, p->spec->base, f->len)) ||
         (f->len == p->total_len && !memcmp(f->name, p->total_name, f->len))))
        return "  <- requests";
    return fam_candidate(f) ? "  *" : "";
}

/* The families beyond the listed ones: how many of each type, and the candidates by name. */
static void put_rest(struct buf *b, const struct fams *fs)
{
    unsigned by_type[PROMTEXT_INFO + 1] = {0}, named = 0, more = 0;

    if (fs->n <= DOCTOR_MAX_FAMILIES)
        return;
    for (size_t i = DOCTOR_MAX_FAMILIES; i < fs->n; i++)
        by_type[fs->v[i].type <= PROMTEXT_INFO ? fs->v[i].type : 0]++;
    buf_printf(b, "  ...and %zu more:", fs->n - DOCTOR_MAX_FAMILIES);
    for (unsigned t = 0, k = 0; t <= PROMTEXT_INFO; t++)
        if (by_type[t])
            buf_printf(b, "%s %s %u", k++ ? "," : "", promtext_type_name((enum promtext_type)t),
                       by_type[t]);
    buf_puts(b, "\n");
    for (size_t i = DOCTOR_MAX_FAMILIES; i < fs->n; i++) {
        if (!fam_candidate(&fs->v[i]))
            continue;
        if (named == MAX_HINTS) {
            more++;
            continue;
        }
        buf_puts(b, named++ ? ", " : "  more candidates: ");
        put_fam_name(b, &fs->v[i]);
        buf_printf(b, " (%s)", promtext_type_name(fs->v[i].type));
    }
    if (more)
        buf_printf(b, " and %u more", more);
    if (named)
        buf_puts(b, "\n");
}

static void put_families(struct buf *b, const struct pass *p)
{
    const struct fams *fs = &p->fams;

    if (fs->n == 0) {
        buf_puts(b, "families: none\n");
        return;
    }
    buf_printf(b, "families: %zu (* = could count requests or latency)\n", fs->n);
    buf_printf(b, "  %-15s %6s  %s\n", "TYPE", "SERIES", "NAME");
    for (size_t i = 0; i < fs->n && i < DOCTOR_MAX_FAMILIES; i++) {
        const struct fam *f = &fs->v[i];

        buf_printf(b, "  %-15s %6u  ", promtext_type_name(f->type), fam_series(f));
        put_fam_name(b, f);
        buf_printf(b, "%s\n", fam_mark(p, f));
    }
    put_rest(b, fs);
}

static void put_requests(struct buf *b, const struct pass *p, const struct scrape_totals *t)
{
    const struct scrape_spec *s = p->spec;
    const char *how = !s->metric_auto ? "as configured"
                      : t->rd.req_from == SCRAPE_REQ_COUNTER
                          ? "auto"
                          : "auto: no http_requests_total, so the latency family's _count";

    buf_printf(b, "requests: %s (%s; %s), %u series, total ", t->rd.requests,
               t->rd.req_from == SCRAPE_REQ_COUNTER ? "counter" : "histogram _count", how,
               t->series);
    put_num(b, t->requests);
    buf_puts(b, " since the app started\n");
}

/* s with control characters as '?': a value from the page cannot forge a line. */
static void put_shown(struct buf *b, const char *s)
{
    for (; *s; s++)
        buf_append(b, (unsigned char)*s < 0x20 || *s == 0x7f ? "?" : s, 1);
}

static void put_values(struct buf *b, const struct pass *p)
{
    for (unsigned i = 0; i < p->nvals; i++) {
        const struct value *v = &p->vals[i];

        if (v->absent) {
            buf_printf(b, "  %s absent: %u series, ", p->rd->error_label, v->series);
        } else {
            buf_printf(b, "  %s=\"", p->rd->error_label);
            put_shown(b, v->v);
            buf_printf(b, "%s\": %u series, ", v->cut ? "..." : "", v->series);
        }
        put_num(b, v->total);
        buf_puts(b, v->error ? "  <- errors\n" : "\n");
    }
    if (p->other_series) {
        buf_printf(b, "  other values: %u series, ", p->other_series);
        put_num(b, p->other_total);
        buf_puts(b, "\n");
    }
}

static void put_errors(struct buf *b, const struct pass *p, const struct scrape_totals *t)
{
    const struct scrape_spec *s = p->spec;

    if (!t->rd.error_label[0]) {
        buf_printf(b, "errors: no status label chosen (error_label %s); see the warning\n",
                   s->error_label);
        return;
    }
    buf_printf(b, "errors: label %s (", t->rd.error_label);
    if (strcmp(s->error_label, SCRAPE_AUTO)) {
        buf_puts(b, "as configured");
    } else {
        buf_puts(b, "auto: the first present of");
        for (unsigned i = 0; i < s->nlabels; i++)
            buf_printf(b, "%s %s", i ? "," : "", s->labels[i]);
    }
    buf_printf(b, "), error_match \"%s\": %u of %u series, total ", s->error_match, p->err_series,
               t->series);
    put_num(b, t->errors);
    if (t->requests > 0)
        buf_printf(b, " = %.2f%% of requests\n", 100.0 * t->errors / t->requests);
    else
        buf_puts(b, " (no requests yet)\n");
    put_values(b, p);
}

static const char *unit_source(enum scrape_unit_from f)
{
    switch (f) {
    case SCRAPE_UNIT_FROM_CONFIG:
        return "app.metrics.latency.unit";
    case SCRAPE_UNIT_FROM_UNIT:
        return "the page's UNIT line";
    case SCRAPE_UNIT_FROM_NAME:
        return "the name's suffix";
    case SCRAPE_UNIT_FROM_CONVENTION:
        return "the name's semantic convention";
    case SCRAPE_UNIT_FROM_ASSUMED:
        return "assumed: nothing on the page says, and Prometheus recommends seconds";
    default:
        return "nowhere";
    }
}

static void put_unit(struct buf *b, const struct scrape_reading *rd)
{
    const char *w = scrape_unit_word(rd->unit_scale);

    if (rd->unit_scale <= 0)
        buf_printf(b, "  unit: unknown (%s)\n", unit_source(rd->unit_from));
    else if (w)
        buf_printf(b, "  unit: %s, from %s\n", w, unit_source(rd->unit_from));
    else
        buf_printf(b, "  unit: %g s, from %s\n", rd->unit_scale, unit_source(rd->unit_from));
}

static void put_histogram(struct buf *b, const struct scrape_totals *t, double quantile)
{
    double p50 = window_bucket_quantile(0.5, t->hist_le, t->hist_cum, t->hist_n);

    if (t->hist_n >= 2) {
        buf_printf(b, "  buckets: %u bound%s from ", t->hist_n - 1, t->hist_n == 2 ? "" : "s");
        put_dur(b, t->hist_le[0]);
        buf_puts(b, " to ");
        put_dur(b, t->hist_le[t->hist_n - 2]);
        buf_puts(b, ", and +Inf\n");
    } else {
        buf_printf(b, "  buckets: +Inf only (no p50 can be read)\n");
    }
    buf_puts(b, "  p50: ");
    put_dur(b, p50);
    buf_puts(b, isnan(p50) ? " (no observations yet)\n"
                           : " (interpolated in the buckets, since the app started)\n");
    if (quantile != 0.5 && !isnan(p50)) {
        buf_printf(b, "  p%g (analysis.latency.quantile): ", quantile * 100);
        put_dur(b, window_bucket_quantile(quantile, t->hist_le, t->hist_cum, t->hist_n));
        buf_puts(b, "\n");
    }
}

static void put_summary(struct buf *b, const struct pass *p, const struct scrape_totals *t)
{
    buf_puts(b, "  quantiles:");
    for (unsigned i = 0; i < p->nq; i++)
        buf_printf(b, "%s %g", i ? "," : "", p->q[i]);
    buf_puts(b, p->nq ? "\n" : " none\n");
    if (t->has_summary_q) {
        buf_printf(b, "  quantile %g (analysis.latency.quantile): ", p->spec->quantile);
        put_dur(b, t->summary_q);
        buf_puts(b, ", the mean over its series\n");
    }
}

static void put_latency(struct buf *b, const struct pass *p, const struct scrape_totals *t)
{
    const struct scrape_reading *rd = &t->rd;

    if (p->spec->nhists == 0) {
        buf_puts(b, "latency: off (app.metrics.latency.histogram is \"\")\n");
        return;
    }
    if (!rd->latency[0]) {
        buf_puts(b, "latency: no family found; see the warning\n");
        return;
    }
    buf_printf(b, "latency: %s (%s; %s), %u series, ", rd->latency,
               rd->lat_kind == SCRAPE_LAT_NONE ? "no buckets or quantiles"
                                               : scrape_lat_kind_name(rd->lat_kind),
               strcmp(p->spec->histogram, SCRAPE_AUTO) ? "as configured" : "auto", p->lat_series);
    put_num(b, t->hist_count);
    buf_puts(b, " observations\n");
    put_unit(b, rd);
    if (rd->lat_kind == SCRAPE_LAT_HISTOGRAM)
        put_histogram(b, t, p->spec->quantile);
    else if (rd->lat_kind == SCRAPE_LAT_SUMMARY)
        put_summary(b, p, t);
}

/* "hint: ..." naming the families of the page that could serve, when some could. */
static void put_hint(struct buf *b, const struct fams *fs, bool latency, const char *what)
{
    unsigned named = 0;

    for (size_t i = 0; i < fs->n && named < MAX_HINTS; i++) {
        const struct fam *f = &fs->v[i];

        if (!fam_candidate(f) || (f->type == PROMTEXT_COUNTER) == latency)
            continue;
        buf_puts(b, named++ ? ", " : "hint: ");
        put_fam_name(b, f);
    }
    if (named)
        buf_printf(b, " %s\n", what);
}

static unsigned put_problems(struct buf *b, const struct pass *p, const struct scrape_reading *rd)
{
    unsigned n = 0;

    if (rd->err_problem[0]) {
        buf_printf(b, "warning: errors: %s\n", rd->err_problem);
        n++;
    }
    if (rd->lat_problem[0]) {
        buf_printf(b, "warning: latency: %s\n", rd->lat_problem);
        n++;
        if (!rd->latency[0])
            put_hint(b, &p->fams, true, "on the page could serve as app.metrics.latency.histogram");
    }
    return n;
}

static void put_parse_error(struct buf *b, const struct promtext_err *e)
{
    if (e->line)
        buf_printf(b, "error: the page cannot be read: line %u column %u: %s\n", e->line, e->column,
                   e->msg);
    else
        buf_printf(b, "error: the page cannot be read: %s\n", e->msg);
}

static int put_result(struct buf *b, unsigned problems, int code)
{
    if (problems == 0 && code == DOCTOR_OK)
        buf_puts(b, "result: ok\n");
    else
        buf_printf(b, "result: problems (%u)\n", problems ? problems : 1);
    return code;
}

int doctor_report(const struct cfg *c, const char *body, size_t len, const char *content_type,
                  struct buf *out)
{
    struct scrape_spec spec;
    struct scrape_totals t;
    struct promtext_err xerr = {0}, perr = {0};
    struct pass p;
    char why[300];
    unsigned problems = 0;
    int xr, pr, code = DOCTOR_OK;

    put_config(out, c);
    if (scraper_spec(&c->metrics, &spec, why, sizeof(why)) < 0) {
        buf_printf(out, "error: %s\n", why);
        return put_result(out, 1, DOCTOR_FAILED);
    }
    xr = scrape_extract(&spec, body, len, content_type, &t, &xerr);
    pass_init(&p, &spec, xr == 0 ? &t.rd : NULL);
    pr = pass_run(&p, body, len, content_type, &perr);
    buf_printf(out, "page: %zu bytes, %s (content type %s)\n", len,
               format_name(body, len, content_type),
               content_type && content_type[0] ? content_type : "none");
    put_families(out, &p);
    if (xr == -ENOMEM || pr == -ENOMEM) {
        buf_puts(out, "error: out of memory\n");
        problems++, code = DOCTOR_FAILED;
    } else if (xr == -EINVAL || pr < 0) {
        put_parse_error(out, pr < 0 ? &perr : &xerr);
        problems++, code = DOCTOR_FAILED;
    } else if (xr == -ENOENT) {
        buf_printf(out, "requests: none\nerror: %s\n", xerr.msg);
        put_hint(out, &p.fams, false, "on the page could serve as app.metrics.requests.metric");
        put_hint(out, &p.fams, true,
                 "on the page could serve as app.metrics.latency.histogram; with "
                 "requests.metric auto, its _count then counts requests");
        problems++, code = DOCTOR_PROBLEMS;
    } else {
        put_requests(out, &p, &t);
        put_errors(out, &p, &t);
        put_latency(out, &p, &t);
        problems = put_problems(out, &p, &t.rd);
        code = problems ? DOCTOR_PROBLEMS : DOCTOR_OK;
    }
    pass_done(&p);
    return put_result(out, problems, code);
}
