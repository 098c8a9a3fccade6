/*
 * scrape — what one page is read as, on top of promtext.
 *
 * Owns which samples are the request series, which of them are errors,
 * which make the latency histogram (or summary), how they sum across
 * labels, what a valid histogram is, which candidate "auto" finds on the
 * page, and the unit. Whatever configured or expected name is not on the
 * page is said in the reading (struct scrape_reading), never read as zero.
 * The spec is scrape_spec.c; two pages into a delta, scrape_delta.c.
 * Must never: do I/O, read the clock, allocate (beyond one scrape_job per
 * stepped pass), or turn a bad page into zeros (a bad page is an error,
 * the caller's data stays INCONCLUSIVE).
 */
#include "probes/scrape-int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/promre.h"

#define NAME_BUF 512
#define SEEN_LABELS 8 /* label names remembered for a message */
#define SEEN_LABEL_MAX 40
#define MATCH_CACHE 16 /* label values whose match result is remembered */
#define MATCH_CACHE_LEN 24

static const char start_time_name[] = "process_start_time_seconds";
/* A family that may count requests: the counter, or a latency family's _count. */
struct req_acc {
    double requests;
    unsigned series;
    bool has_created;
    double created;
    double errors[SCRAPE_MAX_LABELS];     /* per status label candidate */
    unsigned labelled[SCRAPE_MAX_LABELS]; /* series that carry that label */
    unsigned numeric[SCRAPE_MAX_LABELS];  /* of those, with a 3-digit value */
    unsigned nseen;
    char seen[SEEN_LABELS][SEEN_LABEL_MAX]; /* label names on its series */
};

/* One latency family candidate. */
struct hist_acc {
    bool seen;    /* any selected sample */
    bool summary; /* TYPE summary, or quantile series */
    unsigned n;
    double le_raw[SAMPLE_MAX_BUCKETS]; /* bounds in the page's unit */
    double cum[SAMPLE_MAX_BUCKETS];
    unsigned contrib[SAMPLE_MAX_BUCKETS];
    unsigned hint;
    bool saw_bucket, saw_count;
    double count, sum;
    bool has_created;
    double created;
    double q_sum; /* quantile series at the spec's quantile */
    unsigned q_n;
    unsigned q_other; /* quantile series at other quantiles */
    double unit_line; /* scale from its UNIT line; 0 none, NaN not a time unit */
    char unit_text[16];
    struct req_acc req; /* its _count as requests */
};

struct match_memo {
    unsigned char len;
    bool hit;
    char v[MATCH_CACHE_LEN];
};

/* The state of one scrape_extract pass (or scrape_job). */
struct extract {
    const struct scrape_spec *s;
    size_t metric_len, base_len, hist_len[SCRAPE_MAX_HISTS];
    regex_t re;
    bool re_ok;
    bool empty_hit; /* an absent label reads "": whether "" matches */
    struct match_memo memo[MATCH_CACHE];
    unsigned memo_next;
    struct req_acc counter;
    struct hist_acc h[SCRAPE_MAX_HISTS];
    struct scrape_totals t;
    struct promtext_err *err;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
problem(char *dst, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(dst, SCRAPE_PROBLEM_MAX, fmt, ap);
    va_end(ap);
}

/* ---- extract ----------------------------------------------------------------------------- */

static bool name_is(const char *name, size_t len, const char *prefix, size_t plen,
                    const char *suffix, size_t slen)
{
    return len == plen + slen && memcmp(name, prefix, plen) == 0 &&
           memcmp(name + plen, suffix, slen) == 0;
}

enum part { PART_NONE, PART_BUCKET, PART_COUNT, PART_SUM, PART_CREATED, PART_QUANTILE };

/* Which latency candidate (and which part of it) a sample name is; -1 for none. */
static int hist_part(const struct extract *x, const char *name, size_t len, enum part *part)
{
    static const struct {
        const char *sfx;
        size_t n;
        enum part part;
    } sfx[] = {{"_bucket", 7, PART_BUCKET},
               {"_count", 6, PART_COUNT},
               {"_sum", 4, PART_SUM},
               {"_created", 8, PART_CREATED},
               {"", 0, PART_QUANTILE}};

    for (unsigned i = 0; i < x->s->nhists; i++) {
        size_t hl = x->hist_len[i];

        if (len < hl || memcmp(name, x->s->hists[i], hl) != 0)
            continue;
        for (size_t k = 0; k < sizeof(sfx) / sizeof(sfx[0]); k++) {
            if (name_is(name, len, x->s->hists[i], hl, sfx[k].sfx, sfx[k].n)) {
                *part = sfx[k].part;
                return (int)i;
            }
        }
    }
    return -1;
}

static const struct promtext_label *find_label(const struct promtext_sample *smp, const char *name,
                                               size_t n)
{
    for (unsigned i = 0; i < smp->nlabels; i++) {
        const struct promtext_label *l = &smp->labels[i];

        if (promtext_str_eq(l->name, l->name_escaped, name, n))
            return l;
    }
    return NULL;
}

bool scrape_selected(const struct scrape_spec *s, const struct promtext_sample *smp)
{
    for (unsigned i = 0; i < s->nmatchers; i++) {
        const struct selector_matcher *m = &s->matchers[i];
        const struct promtext_label *l = find_label(smp, m->label, strlen(m->label));
        bool eq = l ? promtext_str_eq(l->value, l->value_escaped, m->value, m->value_len)
                    : m->value_len == 0;

        if (eq == m->negate)
            return false;
    }
    return true;
}

/* Whether the value (plain bytes) is an error, remembering short values' answers. */
static bool value_matches(struct extract *x, const char *v, size_t n)
{
    bool hit;

    if (n < MATCH_CACHE_LEN) {
        for (unsigned i = 0; i < MATCH_CACHE; i++) {
            const struct match_memo *m = &x->memo[i];

            if (m->len == n + 1 && memcmp(m->v, v, n) == 0)
                return m->hit;
        }
    }
    hit = x->re_ok && promre_match(&x->re, v, n);
    if (n < MATCH_CACHE_LEN) {
        struct match_memo *m = &x->memo[x->memo_next++ % MATCH_CACHE];

        m->len = (unsigned char)(n + 1);
        m->hit = hit;
        memcpy(m->v, v, n);
    }
    return hit;
}

static bool label_is_error(struct extract *x, const struct promtext_label *l, bool *numeric)
{
    char buf[NAME_BUF];
    const char *v = l->value.p;
    size_t n = l->value.len;

    if (l->value_escaped) {
        if (n > sizeof(buf))
            return false; /* no status value is that long */
        n = promtext_unescape(l->value, buf);
        v = buf;
    }
    *numeric = n == 3 && v[0] >= '1' && v[0] <= '9' && v[1] >= '0' && v[1] <= '9' && v[2] >= '0' &&
               v[2] <= '9';
    return value_matches(x, v, n);
}

static void note_label(struct req_acc *a, const struct promtext_label *l)
{
    size_t n = l->name.len;

    if (l->name_escaped || n >= SEEN_LABEL_MAX || a->nseen == SEEN_LABELS)
        return;
    if ((n == 2 && !memcmp(l->name.p, "le", 2)) || (n == 8 && !memcmp(l->name.p, "quantile", 8)))
        return;
    for (unsigned i = 0; i < a->nseen; i++)
        if (strlen(a->seen[i]) == n && !memcmp(a->seen[i], l->name.p, n))
            return;
    memcpy(a->seen[a->nseen], l->name.p, n);
    a->seen[a->nseen][n] = '\0';
    a->nseen++;
}

/* One request series: its count, and its errors under every status label candidate. */
static void req_add(struct extract *x, struct req_acc *a, const struct promtext_sample *smp)
{
    const struct scrape_spec *s = x->s;

    a->requests += smp->value;
    a->series++;
    for (unsigned i = 0; i < smp->nlabels; i++)
        note_label(a, &smp->labels[i]);
    for (unsigned i = 0; i < s->nlabels; i++) {
        const struct promtext_label *l = find_label(smp, s->labels[i], strlen(s->labels[i]));
        bool numeric = false;

        if (!l) {
            if (x->empty_hit)
                a->errors[i] += smp->value; /* an absent label reads "" as in PromQL */
            continue;
        }
        a->labelled[i]++;
        if (label_is_error(x, l, &numeric))
            a->errors[i] += smp->value;
        a->numeric[i] += numeric;
    }
}

static void note_created(bool *has, double *at, double v)
{
    if (!*has || v < *at)
        *at = v;
    *has = true;
}

static int bad_value(struct extract *x, const struct promtext_sample *smp, const char *what)
{
    return scrape_set_err(x->err, smp->line, 1, "%s sample has an invalid value %g", what,
                          smp->value);
}

static int bucket(struct extract *x, struct hist_acc *h, const struct promtext_sample *smp)
{
    double le = smp->bound;
    unsigned i;

    if (isnan(le)) {
        /* An untyped family (no TYPE line): read le ourselves. */
        const struct promtext_label *l = find_label(smp, "le", 2);

        if (!l || l->value_escaped || promtext_number(l->value, &le) < 0 || isnan(le))
            return scrape_set_err(x->err, smp->line, 1, "histogram bucket without a valid le");
    }
    if (!(smp->value >= 0) || isinf(smp->value))
        return bad_value(x, smp, "histogram bucket");
    if (h->hint < h->n && h->le_raw[h->hint] == le) {
        i = h->hint; /* series repeat the same bounds in the same order */
    } else {
        for (i = 0; i < h->n && h->le_raw[i] != le; i++)
            ;
        if (i == h->n) {
            if (h->n == SAMPLE_MAX_BUCKETS)
                return scrape_set_err(x->err, smp->line, 1,
                                      "histogram has more than %d bucket bounds",
                                      SAMPLE_MAX_BUCKETS);
            h->le_raw[i] = le;
            h->cum[i] = 0;
            h->contrib[i] = 0;
            h->n++;
        }
    }
    h->cum[i] += smp->value;
    h->contrib[i]++;
    h->hint = i + 1;
    h->saw_bucket = true;
    return 0;
}

/* A summary's quantile series (or a histogram candidate's plain sample: ignored). */
static int quantile(struct extract *x, struct hist_acc *h, const struct promtext_sample *smp)
{
    double q = smp->type == PROMTEXT_SUMMARY ? smp->bound : NAN;

    if (isnan(q)) {
        const struct promtext_label *l = find_label(smp, "quantile", 8);

        if (!l || l->value_escaped || promtext_number(l->value, &q) < 0 || isnan(q))
            return 0; /* not a quantile series */
    }
    h->seen = true;
    h->summary = true;
    if (fabs(q - x->s->quantile) > 1e-9) {
        h->q_other++;
        return 0;
    }
    if (isfinite(smp->value) && smp->value >= 0) {
        h->q_sum += smp->value;
        h->q_n++;
    }
    return 0;
}

static int on_hist_sample(struct extract *x, struct hist_acc *h, enum part part,
                          const struct promtext_sample *smp)
{
    if (part == PART_QUANTILE)
        return quantile(x, h, smp); /* seen only when it is a quantile series */
    h->seen = true;
    if (smp->type == PROMTEXT_SUMMARY)
        h->summary = true;
    switch (part) {
    case PART_BUCKET:
        return bucket(x, h, smp);
    case PART_COUNT:
        if (!(smp->value >= 0) || isinf(smp->value))
            return bad_value(x, smp, "histogram _count");
        h->count += smp->value;
        h->saw_count = true;
        req_add(x, &h->req, smp);
        return 0;
    case PART_SUM:
        h->sum += smp->value;
        return 0;
    case PART_CREATED:
        if (!isfinite(smp->value))
            return bad_value(x, smp, "histogram _created");
        note_created(&h->has_created, &h->created, smp->value);
        note_created(&h->req.has_created, &h->req.created, smp->value);
        return 0;
    default:
        return 0;
    }
}

static int on_sample(const struct promtext_sample *smp, void *arg)
{
    struct extract *x = arg;
    const struct scrape_spec *s = x->s;
    struct scrape_totals *t = &x->t;
    char nbuf[NAME_BUF];
    const char *name = smp->name.p;
    size_t len = smp->name.len;
    bool req, req_created;
    enum part part = PART_NONE;
    int hi;

    if (smp->name_escaped) {
        if (len > sizeof(nbuf))
            return 0; /* longer than any name we look for */
        len = promtext_unescape(smp->name, nbuf);
        name = nbuf;
    }
    if (name_is(name, len, start_time_name, sizeof(start_time_name) - 1, "", 0)) {
        if (!isfinite(smp->value))
            return bad_value(x, smp, start_time_name);
        if (!t->has_start_time || smp->value > t->start_time)
            t->start_time = smp->value;
        t->has_start_time = true;
        return 0;
    }
    req = name_is(name, len, s->metric, x->metric_len, "", 0) ||
          name_is(name, len, s->base, x->base_len, "", 0) ||
          name_is(name, len, s->base, x->base_len, "_total", 6);
    req_created = !req && name_is(name, len, s->base, x->base_len, "_created", 8);
    hi = hist_part(x, name, len, &part);
    if ((!req && !req_created && hi < 0) || !scrape_selected(s, smp))
        return 0;
    if (req) {
        if (!(smp->value >= 0) || isinf(smp->value))
            return bad_value(x, smp, "request counter");
        req_add(x, &x->counter, smp);
    }
    if (req_created) {
        if (!isfinite(smp->value))
            return bad_value(x, smp, "_created");
        note_created(&x->counter.has_created, &x->counter.created, smp->value);
    }
    return hi >= 0 ? on_hist_sample(x, &x->h[hi], part, smp) : 0;
}

/* Seconds per unit of a UNIT line's word; 0 when it is not a time unit. */
static double unit_word_scale(const char *u, size_t n)
{
    static const struct {
        const char *w;
        double scale;
    } words[] = {{"seconds", 1},         {"s", 1},     {"milliseconds", 1e-3}, {"ms", 1e-3},
                 {"microseconds", 1e-6}, {"us", 1e-6}, {"nanoseconds", 1e-9},  {"ns", 1e-9}};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].w) == n && memcmp(words[i].w, u, n) == 0)
            return words[i].scale;
    return 0;
}

static int on_meta(const struct promtext_meta *m, void *arg)
{
    struct extract *x = arg;
    enum part part = PART_NONE;
    int hi;

    if (m->kind != PROMTEXT_META_UNIT || m->name_escaped)
        return 0;
    hi = hist_part(x, m->name.p, m->name.len, &part);
    if (hi < 0 || part != PART_QUANTILE || m->text.len == 0)
        return 0; /* UNIT lines name the family itself */
    x->h[hi].unit_line = unit_word_scale(m->text.p, m->text.len);
    if (x->h[hi].unit_line == 0)
        x->h[hi].unit_line = NAN;
    snprintf(x->h[hi].unit_text, sizeof(x->h[hi].unit_text), "%.*s",
             (int)(m->text.len < 15 ? m->text.len : 15), m->text.p);
    return 0;
}

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Sort the bounds and check the histogram's shape. */
static int check_hist(struct extract *x, struct hist_acc *h, const char *name)
{
    unsigned n = h->n, inf;

    for (unsigned i = 1; i < n; i++) {
        double le = h->le_raw[i], cum = h->cum[i];
        unsigned c = h->contrib[i], j = i;

        for (; j > 0 && h->le_raw[j - 1] > le; j--) {
            h->le_raw[j] = h->le_raw[j - 1];
            h->cum[j] = h->cum[j - 1];
            h->contrib[j] = h->contrib[j - 1];
        }
        h->le_raw[j] = le;
        h->cum[j] = cum;
        h->contrib[j] = c;
    }
    if (!isinf(h->le_raw[n - 1]) || h->le_raw[n - 1] < 0)
        return scrape_set_err(x->err, 0, 0, "histogram %s has no +Inf bucket", name);
    inf = n - 1;
    if (!h->saw_count)
        return scrape_set_err(x->err, 0, 0, "histogram %s has buckets but no _count", name);
    for (unsigned i = 0; i < n; i++) {
        if (h->contrib[i] != h->contrib[inf])
            return scrape_set_err(x->err, 0, 0,
                                  "histogram %s: series have different bucket bounds (le=%g)", name,
                                  h->le_raw[i]);
        if (i > 0 && h->cum[i] < h->cum[i - 1] && !near(h->cum[i], h->cum[i - 1]))
            return scrape_set_err(x->err, 0, 0, "histogram %s: bucket le=%g is below le=%g", name,
                                  h->le_raw[i], h->le_raw[i - 1]);
    }
    if (!near(h->cum[inf], h->count))
        return scrape_set_err(x->err, 0, 0,
                              "histogram %s: +Inf bucket %.17g differs from _count %.17g", name,
                              h->cum[inf], h->count);
    return 0;
}

/* The unit of candidate i's values in seconds, and where it came from. */
static double pick_unit(const struct extract *x, unsigned i, enum scrape_unit_from *from,
                        char *lat_problem)
{
    const struct hist_acc *h = &x->h[i];
    double scale;

    if (x->s->unit_scale != 0) {
        *from = SCRAPE_UNIT_FROM_CONFIG;
        return x->s->unit_scale;
    }
    if (isnan(h->unit_line)) {
        problem(lat_problem, "latency family %s has unit '%s' on its UNIT line, not a time unit",
                x->s->hists[i], h->unit_text);
        *from = SCRAPE_UNIT_FROM_UNIT;
        return 0;
    }
    if (h->unit_line > 0) {
        *from = SCRAPE_UNIT_FROM_UNIT;
        return h->unit_line;
    }
    if ((scale = scrape_infer_scale(x->s->hists[i])) > 0) {
        *from = SCRAPE_UNIT_FROM_NAME;
        return scale;
    }
    if (x->s->hist_scale[i] > 0) {
        *from = SCRAPE_UNIT_FROM_CONVENTION;
        return x->s->hist_scale[i];
    }
    *from = SCRAPE_UNIT_FROM_ASSUMED;
    return 1.0;
}

/* "a, b, c" of n names into dst. */
static void join(char *dst, size_t size, const char (*names)[SCRAPE_NAME_MAX], unsigned n)
{
    size_t used = 0;

    dst[0] = '\0';
    for (unsigned i = 0; i < n && used + 1 < size; i++) {
        int w = snprintf(dst + used, size - used, "%s%s", i ? ", " : "", names[i]);

        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static void join_seen(char *dst, size_t size, const struct req_acc *a)
{
    size_t used = 0;

    snprintf(dst, size, "none");
    for (unsigned i = 0; i < a->nseen && used + 1 < size; i++) {
        int w = snprintf(dst + used, size - used, "%s%s", i ? ", " : "", a->seen[i]);

        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The latency family: the first candidate present; its kind, unit and values. */
static int finish_latency(struct extract *x, int *chosen)
{
    const struct scrape_spec *s = x->s;
    struct scrape_totals *t = &x->t;
    struct scrape_reading *rd = &t->rd;
    struct hist_acc *h;
    char names[400];
    unsigned i;
    int r;

    *chosen = -1;
    if (s->nhists == 0)
        return 0;
    for (i = 0; i < s->nhists && !x->h[i].seen; i++)
        ;
    if (i == s->nhists) {
        size_t n = strlen(s->histogram);

        if (s->nhists == 1 && n > 7 && !strcmp(s->histogram + n - 7, "_bucket"))
            problem(rd->lat_problem,
                    "latency.histogram %s is not on the page: name the family, without _bucket",
                    s->histogram);
        else if (s->nhists == 1)
            problem(rd->lat_problem, "latency.histogram %s is not on the page", s->histogram);
        else {
            join(names, sizeof(names), s->hists, s->nhists);
            problem(rd->lat_problem,
                    "no latency histogram on the page (looked for %s); set "
                    "app.metrics.latency.histogram, or \"\" to judge errors only",
                    names);
        }
        return 0;
    }
    *chosen = (int)i;
    h = &x->h[i];
    snprintf(rd->latency, sizeof(rd->latency), "%s", s->hists[i]);
    t->has_hist = true;
    rd->unit_scale = pick_unit(x, i, &rd->unit_from, rd->lat_problem);
    if (h->saw_bucket) {
        r = check_hist(x, h, s->hists[i]);
        if (r < 0)
            return r;
        rd->lat_kind = SCRAPE_LAT_HISTOGRAM;
        t->hist_n = h->n;
        for (unsigned k = 0; k < h->n; k++) {
            double sc = rd->unit_scale > 0 ? rd->unit_scale : 1;

            t->hist_le[k] = isinf(h->le_raw[k]) ? h->le_raw[k] : h->le_raw[k] * sc;
            t->hist_cum[k] = h->cum[k];
        }
    } else if (h->summary) {
        rd->lat_kind = SCRAPE_LAT_SUMMARY;
        if (h->q_n > 0 && rd->unit_scale > 0) {
            t->has_summary_q = true;
            t->summary_q = h->q_sum / h->q_n * rd->unit_scale;
        } else if (!rd->lat_problem[0]) {
            problem(rd->lat_problem,
                    "%s is a summary without a quantile=\"%g\" series (%s); the latency rule "
                    "needs that quantile or a histogram",
                    s->hists[i], s->quantile,
                    h->q_other ? "it has other quantiles" : "it has none");
        }
    } else if (h->saw_count && !rd->lat_problem[0]) {
        problem(rd->lat_problem, "%s has _count and _sum but no buckets or quantiles", s->hists[i]);
    }
    if (rd->lat_kind == SCRAPE_LAT_NONE && !rd->lat_problem[0])
        problem(rd->lat_problem, "%s has neither buckets nor quantiles", s->hists[i]);
    t->hist_count = h->count;
    t->hist_sum = h->sum;
    t->hist_has_created = h->has_created;
    t->hist_created = h->created;
    if (rd->lat_kind != SCRAPE_LAT_HISTOGRAM)
        t->has_hist = false; /* no buckets to hand on */
    return 0;
}

/* Whether pattern is written like "5xx": a class of codes spelled out, not a regex. */
static bool looks_like_class(const char *p)
{
    return strlen(p) == 3 && p[0] >= '1' && p[0] <= '5' && (p[1] | 0x20) == 'x' &&
           (p[2] | 0x20) == 'x';
}

/* The error label: the configured one, or the first candidate present. */
static void finish_errors(struct extract *x, const struct req_acc *a)
{
    const struct scrape_spec *s = x->s;
    struct scrape_totals *t = &x->t;
    struct scrape_reading *rd = &t->rd;
    char seen[SEEN_LABELS * SEEN_LABEL_MAX], names[400];
    unsigned i;

    for (i = 0; i < s->nlabels && a->labelled[i] == 0; i++)
        ;
    if (i == s->nlabels) {
        join_seen(seen, sizeof(seen), a);
        if (s->nlabels == 1) {
            problem(rd->err_problem,
                    "error_label %s is on none of the %u series of %s; labels "
                    "seen: %s",
                    s->labels[0], a->series, rd->requests, seen);
        } else {
            join(names, sizeof(names), s->labels, s->nlabels);
            problem(rd->err_problem,
                    "no status label on the %u series of %s (looked for %s); labels seen: %s; "
                    "set app.metrics.requests.error_label",
                    a->series, rd->requests, names, seen);
        }
        t->errors = 0;
        return;
    }
    snprintf(rd->error_label, sizeof(rd->error_label), "%s", s->labels[i]);
    t->errors = a->errors[i];
    if (looks_like_class(s->error_match) && a->numeric[i] > 0)
        problem(rd->err_problem,
                "error_match \"%s\" never matches the numeric values of %s (e.g. 500); it is a "
                "regular expression: write \"%c..\"",
                s->error_match, s->labels[i], s->error_match[0]);
}

static int finish(struct extract *x)
{
    const struct scrape_spec *s = x->s;
    struct scrape_totals *t = &x->t;
    struct scrape_reading *rd = &t->rd;
    const struct req_acc *a = NULL;
    int hi, r;

    r = finish_latency(x, &hi);
    if (r < 0)
        return r;
    if (x->counter.series > 0) {
        size_t n = strlen(s->metric);

        a = &x->counter;
        /* requests.metric: <histogram>_count names a histogram's count, not a counter */
        rd->req_from = n > 6 && !strcmp(s->metric + n - 6, "_count") ? SCRAPE_REQ_HIST_COUNT
                                                                     : SCRAPE_REQ_COUNTER;
        snprintf(rd->requests, sizeof(rd->requests), "%s", s->metric);
    } else if (s->metric_auto && hi >= 0 && x->h[hi].req.series > 0) {
        a = &x->h[hi].req;
        rd->req_from = SCRAPE_REQ_HIST_COUNT;
        snprintf(rd->requests, sizeof(rd->requests), "%.*s_count", SCRAPE_NAME_MAX - 8,
                 s->hists[hi]);
    } else {
        if (!s->metric_auto)
            snprintf(x->err->msg, sizeof(x->err->msg),
                     "requests.metric %.80s is not on the page (no sample matches the selector)",
                     s->metric);
        else if (hi >= 0)
            snprintf(x->err->msg, sizeof(x->err->msg),
                     "no request counter: %.80s is not on the page and %.80s has no _count",
                     s->metric, s->hists[hi]);
        else
            snprintf(x->err->msg, sizeof(x->err->msg),
                     "no request counter: %.80s is not on the page, nor a latency histogram whose "
                     "_count counts requests",
                     s->metric);
        x->err->line = x->err->column = 0;
        return -ENOENT;
    }
    t->requests = a->requests;
    t->series = a->series;
    t->has_created = a->has_created;
    t->created = a->created;
    rd->req_series = a->series;
    finish_errors(x, a);
    return 0;
}

struct scrape_job {
    struct scrape_spec spec;
    struct extract x;
    struct promtext_handler h;
    struct promtext_err err;
    struct promtext_parser *ps;
    int result; /* final; SCRAPE_MORE while parsing */
    struct scrape_totals t;
};

int scrape_job_new(const struct scrape_spec *s, const char *body, size_t len,
                   const char *content_type, struct scrape_job **ret)
{
    struct scrape_job *j = calloc(1, sizeof(*j));
    char why[160];
    int r;

    if (!j)
        return -ENOMEM;
    j->spec = *s;
    j->x.s = &j->spec;
    j->x.metric_len = strlen(j->spec.metric);
    j->x.base_len = strlen(j->spec.base);
    for (unsigned i = 0; i < j->spec.nhists; i++)
        j->x.hist_len[i] = strlen(j->spec.hists[i]);
    j->x.re_ok = promre_compile(j->spec.error_match, &j->x.re, why, sizeof(why)) == 0;
    j->x.empty_hit = j->x.re_ok && promre_match(&j->x.re, "", 0);
    j->x.err = &j->err;
    j->h.sample = on_sample;
    j->h.meta = on_meta;
    j->h.arg = &j->x;
    j->result = SCRAPE_MORE;
    r = promtext_parser_new(body, len, promtext_format_from_content_type(content_type), &j->h,
                            &j->err, &j->ps);
    if (r < 0) {
        scrape_job_free(j);
        return r;
    }
    *ret = j;
    return 0;
}

/* The outcome once the parser is done with r. */
static int job_finish(struct scrape_job *j, int r)
{
    if (r < 0)
        return r;
    r = finish(&j->x);
    if (r < 0)
        return r;
    j->t = j->x.t;
    return 0;
}

int scrape_job_step(struct scrape_job *j, size_t budget, struct scrape_totals *ret,
                    struct promtext_err *err)
{
    if (j->result == SCRAPE_MORE) {
        int r = promtext_parser_step(j->ps, budget);

        if (r != 0 || promtext_parser_done(j->ps)) {
            j->result = job_finish(j, r);
            j->ps = promtext_parser_free(j->ps);
        }
    }
    if (j->result == 0)
        *ret = j->t;
    else if (j->result != SCRAPE_MORE && err)
        *err = j->err;
    return j->result;
}

struct scrape_job *scrape_job_free(struct scrape_job *j)
{
    if (j) {
        promtext_parser_free(j->ps);
        if (j->x.re_ok)
            regfree(&j->x.re);
        free(j);
    }
    return NULL;
}

int scrape_extract(const struct scrape_spec *s, const char *body, size_t len,
                   const char *content_type, struct scrape_totals *ret, struct promtext_err *err)
{
    struct scrape_job *j;
    int r = scrape_job_new(s, body, len, content_type, &j);

    if (r < 0)
        return r;
    r = scrape_job_step(j, SIZE_MAX, ret, err);
    scrape_job_free(j);
    return r;
}
