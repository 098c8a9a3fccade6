/*
 * scrape — selection and deltas on top of promtext.
 *
 * Owns the meaning of the configured names: which samples are the request
 * counter, which of them are errors, which make the latency histogram,
 * how they sum across labels, what a valid histogram is, and how two
 * pages become one struct sample_delta (counter resets as rate() sees them).
 * Must never: do I/O, read the clock, allocate (beyond one scrape_job per
 * stepped pass), or turn a bad page into zeros (a bad page is an error,
 * the caller's data stays INCONCLUSIVE).
 */
#include "scrape.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_REQ 0x01u
#define KIND_REQ_CREATED 0x02u
#define KIND_BUCKET 0x04u
#define KIND_HCOUNT 0x08u
#define KIND_HSUM 0x10u
#define KIND_HCREATED 0x20u
#define KIND_START 0x40u
#define KIND_HIST (KIND_BUCKET | KIND_HCOUNT | KIND_HSUM | KIND_HCREATED)

#define NAME_BUF 512

static const char start_time_name[] = "process_start_time_seconds";

/* The state of one scrape_extract pass (or scrape_job). */
struct extract {
    const struct scrape_spec *s;
    size_t metric_len, base_len, hist_len;
    struct scrape_totals t;
    double le_raw[SAMPLE_MAX_BUCKETS]; /* bounds in the page's unit */
    unsigned contrib[SAMPLE_MAX_BUCKETS];
    unsigned hint;
    bool saw_bucket, saw_count;
    struct promtext_err *err;
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
set_err(struct promtext_err *err, unsigned line, unsigned column, const char *fmt, ...)
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

/* ---- spec -------------------------------------------------------------------------------- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n > k && memcmp(s + n - k, suffix, k) == 0;
}

static double infer_scale(const char *h)
{
    size_t n = strlen(h);

    if (ends_with(h, n, "_milliseconds") || ends_with(h, n, "_ms"))
        return 1e-3;
    if (ends_with(h, n, "_microseconds") || ends_with(h, n, "_us"))
        return 1e-6;
    if (ends_with(h, n, "_nanoseconds") || ends_with(h, n, "_ns"))
        return 1e-9;
    return 1.0;
}

static int copy_name(char *dst, const char *src, const char *what, bool required,
                     struct promtext_err *err)
{
    size_t n = src ? strlen(src) : 0;

    if (n == 0 && required)
        return set_err(err, 0, 0, "%s is empty", what);
    if (n >= SCRAPE_NAME_MAX)
        return set_err(err, 0, 0, "%s longer than %d bytes", what, SCRAPE_NAME_MAX - 1);
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

static bool is_label_start(char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26 || c == '_';
}

static bool is_label_char(char c)
{
    return is_label_start(c) || (unsigned char)(c - '0') < 10;
}

static const char *skip_ws(const char *q)
{
    while (*q == ' ' || *q == '\t')
        q++;
    return q;
}

/* A quoted selector string at *pq into dst (unescaped, NUL-terminated). */
static int sel_quoted(const char *sel, const char **pq, char *dst, size_t cap, size_t *len,
                      struct promtext_err *err)
{
    const char *q = *pq + 1;
    size_t n = 0;

    for (;; q++) {
        char c = *q;

        if (c == '\0')
            return set_err(err, 0, (unsigned)(*pq - sel) + 1, "unterminated string in selector");
        if (c == '"')
            break;
        if (c == '\\') {
            q++;
            if (*q == 'n')
                c = '\n';
            else if (*q == '\\' || *q == '"')
                c = *q;
            else
                return set_err(err, 0, (unsigned)(q - sel), "invalid escape in selector");
        }
        if (n + 1 >= cap)
            return set_err(err, 0, (unsigned)(*pq - sel) + 1,
                           "selector string longer than %zu bytes", cap - 1);
        dst[n++] = c;
    }
    dst[n] = '\0';
    *len = n;
    *pq = q + 1;
    return 0;
}

static int parse_selector(struct scrape_spec *s, const char *sel, struct promtext_err *err)
{
    const char *q = skip_ws(sel);
    bool braces = false;

    if (strlen(sel) > SCRAPE_SELECTOR_MAX)
        return set_err(err, 0, 0, "selector longer than %d bytes", SCRAPE_SELECTOR_MAX);
    if (*q == '{') {
        braces = true;
        q = skip_ws(q + 1);
    }
    while (*q && !(braces && *q == '}')) {
        struct scrape_matcher *m;
        size_t n;

        if (s->nmatchers == SCRAPE_MAX_MATCHERS)
            return set_err(err, 0, (unsigned)(q - sel) + 1, "more than %d selector matchers",
                           SCRAPE_MAX_MATCHERS);
        m = &s->matchers[s->nmatchers];
        if (*q == '"') {
            int r = sel_quoted(sel, &q, m->label, sizeof(m->label), &n, err);

            if (r < 0)
                return r;
        } else if (is_label_start(*q)) {
            const char *b = q;

            while (is_label_char(*q))
                q++;
            n = (size_t)(q - b);
            if (n >= sizeof(m->label))
                return set_err(err, 0, (unsigned)(b - sel) + 1, "label name too long");
            memcpy(m->label, b, n);
            m->label[n] = '\0';
        } else {
            return set_err(err, 0, (unsigned)(q - sel) + 1, "expected a label name in selector");
        }
        if (n == 0)
            return set_err(err, 0, (unsigned)(q - sel), "empty label name in selector");
        q = skip_ws(q);
        if (q[0] == '=' && q[1] != '~') {
            m->negate = false;
            q++;
        } else if (q[0] == '!' && q[1] == '=' && q[2] != '~') {
            m->negate = true;
            q += 2;
        } else if ((q[0] == '=' || q[0] == '!') && q[1] == '~') {
            return set_err(err, 0, (unsigned)(q - sel) + 1,
                           "regular expression matchers are not supported");
        } else {
            return set_err(err, 0, (unsigned)(q - sel) + 1, "expected '=' or '!=' in selector");
        }
        q = skip_ws(q);
        if (*q != '"')
            return set_err(err, 0, (unsigned)(q - sel) + 1, "expected '\"' in selector");
        {
            int r = sel_quoted(sel, &q, m->value, sizeof(m->value), &m->value_len, err);

            if (r < 0)
                return r;
        }
        s->nmatchers++;
        q = skip_ws(q);
        if (*q == ',') {
            q = skip_ws(q + 1);
            continue;
        }
        if (*q && !(braces && *q == '}'))
            return set_err(err, 0, (unsigned)(q - sel) + 1, "expected ',' in selector");
    }
    if (braces) {
        if (*q != '}')
            return set_err(err, 0, (unsigned)(q - sel) + 1, "missing '}' in selector");
        q = skip_ws(q + 1);
        if (*q)
            return set_err(err, 0, (unsigned)(q - sel) + 1, "text after '}' in selector");
    }
    return 0;
}

static int check_pattern(const char *p, struct promtext_err *err)
{
    size_t n = strlen(p);

    if (n == 0)
        return set_err(err, 0, 0, "error_match is empty");
    if (n >= SCRAPE_VALUE_MAX)
        return set_err(err, 0, 0, "error_match longer than %d bytes", SCRAPE_VALUE_MAX - 1);
    if (p[0] == '|' || p[n - 1] == '|' || strstr(p, "||"))
        return set_err(err, 0, 0, "error_match has an empty alternative");
    return 0;
}

int scrape_spec_init(struct scrape_spec *ret, const char *metric, const char *error_label,
                     const char *error_match, const char *selector, const char *histogram,
                     double unit_scale, struct promtext_err *err)
{
    struct scrape_spec s;
    size_t n;
    int r;

    memset(&s, 0, sizeof(s));
    if ((r = copy_name(s.metric, metric, "requests.metric", true, err)) < 0 ||
        (r = copy_name(s.error_label, error_label, "requests.error_label", true, err)) < 0 ||
        (r = copy_name(s.histogram, histogram, "latency.histogram", false, err)) < 0)
        return r;
    if (!error_match)
        return set_err(err, 0, 0, "error_match is empty");
    if ((r = check_pattern(error_match, err)) < 0)
        return r;
    memcpy(s.error_match, error_match, strlen(error_match) + 1);
    n = strlen(s.metric);
    memcpy(s.base, s.metric, n + 1);
    if (ends_with(s.metric, n, "_total"))
        s.base[n - 6] = '\0';
    if (selector && (r = parse_selector(&s, selector, err)) < 0)
        return r;
    if (unit_scale == 0)
        unit_scale = infer_scale(s.histogram);
    if (!isfinite(unit_scale) || unit_scale <= 0 || unit_scale > 1e6)
        return set_err(err, 0, 0, "latency unit scale must be a positive number");
    s.unit_scale = unit_scale;
    *ret = s;
    return 0;
}

bool scrape_pattern_match(const char *pattern, const char *value, size_t n)
{
    const char *alt = pattern;

    for (;;) {
        size_t k = strcspn(alt, "|"), i;

        if (k == n) {
            for (i = 0; i < n && (alt[i] == '.' || alt[i] == value[i]); i++)
                ;
            if (i == n)
                return true;
        }
        if (alt[k] == '\0')
            return false;
        alt += k + 1;
    }
}

/* ---- extract ----------------------------------------------------------------------------- */

static bool name_is(const char *name, size_t len, const char *prefix, size_t plen,
                    const char *suffix, size_t slen)
{
    return len == plen + slen && memcmp(name, prefix, plen) == 0 &&
           memcmp(name + plen, suffix, slen) == 0;
}

/* Which of our series sample s could be (a bit set of KIND_*). */
static unsigned classify(const struct extract *x, const char *name, size_t len)
{
    const struct scrape_spec *s = x->s;
    unsigned k = 0;

    if (name_is(name, len, s->metric, x->metric_len, "", 0) ||
        name_is(name, len, s->base, x->base_len, "", 0) ||
        name_is(name, len, s->base, x->base_len, "_total", 6))
        k |= KIND_REQ;
    else if (name_is(name, len, s->base, x->base_len, "_created", 8))
        k |= KIND_REQ_CREATED;
    if (x->hist_len) {
        if (name_is(name, len, s->histogram, x->hist_len, "_bucket", 7))
            k |= KIND_BUCKET;
        else if (name_is(name, len, s->histogram, x->hist_len, "_count", 6))
            k |= KIND_HCOUNT;
        else if (name_is(name, len, s->histogram, x->hist_len, "_sum", 4))
            k |= KIND_HSUM;
        else if (name_is(name, len, s->histogram, x->hist_len, "_created", 8))
            k |= KIND_HCREATED;
    }
    if (name_is(name, len, start_time_name, sizeof(start_time_name) - 1, "", 0))
        k |= KIND_START;
    return k;
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

static bool selected(const struct scrape_spec *s, const struct promtext_sample *smp)
{
    for (unsigned i = 0; i < s->nmatchers; i++) {
        const struct scrape_matcher *m = &s->matchers[i];
        const struct promtext_label *l = find_label(smp, m->label, strlen(m->label));
        bool eq = l ? promtext_str_eq(l->value, l->value_escaped, m->value, m->value_len)
                    : m->value_len == 0;

        if (eq == m->negate)
            return false;
    }
    return true;
}

static bool is_error(const struct scrape_spec *s, const struct promtext_sample *smp)
{
    const struct promtext_label *l = find_label(smp, s->error_label, strlen(s->error_label));
    char buf[2 * SCRAPE_VALUE_MAX];
    struct promtext_str v;
    size_t n;

    if (!l)
        return scrape_pattern_match(s->error_match, "", 0);
    v = l->value;
    if (!l->value_escaped)
        return scrape_pattern_match(s->error_match, v.p, v.len);
    if (v.len > sizeof(buf))
        return false; /* longer than any alternative of the pattern */
    n = promtext_unescape(v, buf);
    return scrape_pattern_match(s->error_match, buf, n);
}

static int bad_value(struct extract *x, const struct promtext_sample *smp, const char *what)
{
    return set_err(x->err, smp->line, 1, "%s sample has an invalid value %g", what, smp->value);
}

static int bucket(struct extract *x, const struct promtext_sample *smp)
{
    struct scrape_totals *t = &x->t;
    double le = smp->bound;
    unsigned i;

    if (isnan(le)) {
        /* An untyped family (no TYPE line): read le ourselves. */
        const struct promtext_label *l = find_label(smp, "le", 2);

        if (!l || l->value_escaped || promtext_number(l->value, &le) < 0 || isnan(le))
            return set_err(x->err, smp->line, 1, "histogram bucket without a valid le");
    }
    if (!(smp->value >= 0) || isinf(smp->value))
        return bad_value(x, smp, "histogram bucket");
    if (x->hint < t->hist_n && x->le_raw[x->hint] == le) {
        i = x->hint; /* series repeat the same bounds in the same order */
    } else {
        for (i = 0; i < t->hist_n && x->le_raw[i] != le; i++)
            ;
        if (i == t->hist_n) {
            if (t->hist_n == SAMPLE_MAX_BUCKETS)
                return set_err(x->err, smp->line, 1, "histogram has more than %d bucket bounds",
                               SAMPLE_MAX_BUCKETS);
            x->le_raw[i] = le;
            t->hist_cum[i] = 0;
            x->contrib[i] = 0;
            t->hist_n++;
        }
    }
    t->hist_cum[i] += smp->value;
    x->contrib[i]++;
    x->hint = i + 1;
    x->saw_bucket = true;
    return 0;
}

static int on_sample(const struct promtext_sample *smp, void *arg)
{
    struct extract *x = arg;
    struct scrape_totals *t = &x->t;
    char nbuf[NAME_BUF];
    const char *name = smp->name.p;
    size_t len = smp->name.len;
    unsigned kind;

    if (smp->name_escaped) {
        if (len > sizeof(nbuf))
            return 0; /* longer than any name we look for */
        len = promtext_unescape(smp->name, nbuf);
        name = nbuf;
    }
    kind = classify(x, name, len);
    if (!kind)
        return 0;
    if (kind & KIND_START) {
        if (!isfinite(smp->value))
            return bad_value(x, smp, start_time_name);
        if (!t->has_start_time || smp->value > t->start_time)
            t->start_time = smp->value;
        t->has_start_time = true;
    }
    if (!(kind & ~KIND_START) || !selected(x->s, smp))
        return 0;
    if (kind & KIND_REQ) {
        if (!(smp->value >= 0) || isinf(smp->value))
            return bad_value(x, smp, "request counter");
        t->requests += smp->value;
        t->series++;
        if (is_error(x->s, smp))
            t->errors += smp->value;
    }
    if (kind & KIND_REQ_CREATED) {
        if (!isfinite(smp->value))
            return bad_value(x, smp, "_created");
        if (!t->has_created || smp->value < t->created)
            t->created = smp->value;
        t->has_created = true;
    }
    if (kind & KIND_HIST)
        t->has_hist = true;
    if (kind & KIND_BUCKET)
        return bucket(x, smp);
    if (kind & KIND_HCOUNT) {
        if (!(smp->value >= 0) || isinf(smp->value))
            return bad_value(x, smp, "histogram _count");
        t->hist_count += smp->value;
        x->saw_count = true;
    }
    if (kind & KIND_HSUM)
        t->hist_sum += smp->value;
    if (kind & KIND_HCREATED) {
        if (!isfinite(smp->value))
            return bad_value(x, smp, "histogram _created");
        if (!t->hist_has_created || smp->value < t->hist_created)
            t->hist_created = smp->value;
        t->hist_has_created = true;
    }
    return 0;
}

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Sort the bounds, check the histogram's shape, convert le to seconds. */
static int finish_hist(struct extract *x)
{
    struct scrape_totals *t = &x->t;
    const char *h = x->s->histogram;
    unsigned n = t->hist_n, inf;

    if (!x->saw_bucket && !x->saw_count)
        return 0; /* only _sum or _created: nothing to judge */
    for (unsigned i = 1; i < n; i++) {
        double le = x->le_raw[i], cum = t->hist_cum[i];
        unsigned c = x->contrib[i], j = i;

        for (; j > 0 && x->le_raw[j - 1] > le; j--) {
            x->le_raw[j] = x->le_raw[j - 1];
            t->hist_cum[j] = t->hist_cum[j - 1];
            x->contrib[j] = x->contrib[j - 1];
        }
        x->le_raw[j] = le;
        t->hist_cum[j] = cum;
        x->contrib[j] = c;
    }
    if (!x->saw_bucket)
        return set_err(x->err, 0, 0, "histogram %s has _count but no _bucket series (a summary?)",
                       h);
    if (!isinf(x->le_raw[n - 1]) || x->le_raw[n - 1] < 0)
        return set_err(x->err, 0, 0, "histogram %s has no +Inf bucket", h);
    inf = n - 1;
    if (!x->saw_count)
        return set_err(x->err, 0, 0, "histogram %s has buckets but no _count", h);
    for (unsigned i = 0; i < n; i++) {
        if (x->contrib[i] != x->contrib[inf])
            return set_err(x->err, 0, 0,
                           "histogram %s: series have different bucket bounds (le=%g)", h,
                           x->le_raw[i]);
        if (i > 0 && t->hist_cum[i] < t->hist_cum[i - 1] &&
            !near(t->hist_cum[i], t->hist_cum[i - 1]))
            return set_err(x->err, 0, 0, "histogram %s: bucket le=%g is below le=%g", h,
                           x->le_raw[i], x->le_raw[i - 1]);
    }
    if (!near(t->hist_cum[inf], t->hist_count))
        return set_err(x->err, 0, 0, "histogram %s: +Inf bucket %.17g differs from _count %.17g", h,
                       t->hist_cum[inf], t->hist_count);
    for (unsigned i = 0; i < n; i++)
        t->hist_le[i] = isinf(x->le_raw[i]) ? x->le_raw[i] : x->le_raw[i] * x->s->unit_scale;
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
    int r;

    if (!j)
        return -ENOMEM;
    j->spec = *s;
    j->x.s = &j->spec;
    j->x.metric_len = strlen(j->spec.metric);
    j->x.base_len = strlen(j->spec.base);
    j->x.hist_len = strlen(j->spec.histogram);
    j->x.err = &j->err;
    j->h.sample = on_sample;
    j->h.arg = &j->x;
    j->result = SCRAPE_MORE;
    r = promtext_parser_new(body, len, promtext_format_from_content_type(content_type), &j->h,
                            &j->err, &j->ps);
    if (r < 0) {
        free(j);
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
    r = finish_hist(&j->x);
    if (r < 0)
        return r;
    if (j->x.t.series == 0) {
        j->err.line = j->err.column = 0;
        snprintf(j->err.msg, sizeof(j->err.msg), "no sample of %.80s matches the selector",
                 j->spec.metric);
        return -ENOENT;
    }
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

void scrape_delta(const struct scrape_totals *prev, const struct scrape_totals *cur, double span_s,
                  struct sample_delta *ret)
{
    bool restart =
        prev->has_start_time && cur->has_start_time && prev->start_time != cur->start_time;
    bool req_reset = restart ||
                     (prev->has_created && cur->has_created && prev->created != cur->created) ||
                     cur->requests < prev->requests || cur->errors < prev->errors;

    memset(ret, 0, sizeof(*ret));
    ret->valid = true;
    ret->span_s = span_s;
    ret->requests = to_count(req_reset ? cur->requests : cur->requests - prev->requests);
    ret->errors = to_count(req_reset ? cur->errors : cur->errors - prev->errors);
    if (ret->errors > ret->requests)
        ret->errors = ret->requests;
    ret->reset = req_reset;

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
