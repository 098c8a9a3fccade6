/*
 * promtext — Prometheus text 0.0.4 / OpenMetrics 1.0 parser.
 *
 * Owns the syntax of an exposition: lines, names, labels and escapes,
 * numbers, timestamps, exemplars, HELP/TYPE/UNIT rules and "# EOF". It knows
 * nothing about which series matter (that is scrape.c).
 * Must never: copy the input, allocate per sample, read past len, do I/O,
 * or depend on a NUL terminator. The hot loop is memchr per line plus plain
 * byte compares; the only call per sample is the caller's callback.
 * Numbers and the public helpers on parsed slices are promtext_lex.c. This
 * file stays one piece, a little over 800 lines: the line grammar, names,
 * labels, families and exemplars all move one parser state over one buffer.
 */
#include "probes/promtext-int.h"

#include "config/utf8.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FAM_TYPED 0x1u
#define FAM_HELP 0x2u
#define FAM_SAMPLES 0x4u
#define FAM_UNIT 0x8u

#define FAM_INITIAL_CAP 64u

/* One metric family name seen in this parse (a slice of the input). */
struct fam {
    const char *name;
    uint32_t len;
    uint32_t hash;
    uint8_t type;
    uint8_t flags;
};

struct parser {
    const char *pos; /* the next line to parse */
    const char *end;
    enum promtext_format fmt;
    const struct promtext_handler *h;
    struct promtext_err *err;
    unsigned line;
    const char *line_start;
    bool eof;  /* OpenMetrics "# EOF" seen */
    bool done; /* finished: result holds the outcome */
    int result;
    struct fam *tab; /* open addressing, cap a power of two */
    uint32_t cap, n;
    int32_t cur; /* family of the previous line: a cache, never a rule */
    struct promtext_label labels[PROMTEXT_MAX_LABELS];
    struct promtext_label ex_labels[PROMTEXT_MAX_LABELS];
};

static const struct {
    const char *s;
    uint8_t len;
    uint8_t sfx;
} suffixes[] = {
    {"_total", 6, PROMTEXT_SFX_TOTAL},   {"_created", 8, PROMTEXT_SFX_CREATED},
    {"_bucket", 7, PROMTEXT_SFX_BUCKET}, {"_count", 6, PROMTEXT_SFX_COUNT},
    {"_sum", 4, PROMTEXT_SFX_SUM},       {"_gcount", 7, PROMTEXT_SFX_GCOUNT},
    {"_gsum", 5, PROMTEXT_SFX_GSUM},     {"_info", 5, PROMTEXT_SFX_INFO},
};
#define NSUFFIXES (sizeof(suffixes) / sizeof(suffixes[0]))

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static inline bool is_alpha_(char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26 || c == '_';
}

static inline bool is_name_start(char c)
{
    return is_alpha_(c) || c == ':';
}

static inline bool is_name_char(char c)
{
    return is_alpha_(c) || is_digit(c) || c == ':';
}

static inline bool is_label_char(char c)
{
    return is_alpha_(c) || is_digit(c);
}

static const char *skip_blanks(const char *q, const char *le)
{
    while (q < le && is_blank(*q))
        q++;
    return q;
}

static const char *token_end(const char *q, const char *le)
{
    while (q < le && !is_blank(*q))
        q++;
    return q;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(struct parser *ps, const char *at, const char *fmt, ...)
{
    if (ps->err) {
        va_list ap;

        ps->err->line = ps->line;
        ps->err->column = (unsigned)(at - ps->line_start) + 1;
        va_start(ap, fmt);
        vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
        va_end(ap);
        /* Messages quote input bytes; keep them printable ASCII for logs. */
        for (char *m = ps->err->msg; *m; m++)
            if ((unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f)
                *m = '?';
    }
    return -EINVAL;
}

/* Shorten a name for an error message. */
static int msg_len(size_t len)
{
    return len > 60 ? 60 : (int)len;
}

static int number(struct parser *ps, const char *p, const char *e, double *out, const char *what)
{
    int r = promtext_parse_float(p, e, out);

    if (r == -2)
        return fail(ps, p, "%s out of range: '%.*s'", what, msg_len((size_t)(e - p)), p);
    if (r < 0)
        return fail(ps, p, "invalid %s '%.*s'", what, msg_len((size_t)(e - p)), p);
    return 0;
}

static int timestamp(struct parser *ps, const char *p, const char *e, int64_t *out)
{
    if (ps->fmt == PROMTEXT_OPENMETRICS) {
        double s;
        int r = number(ps, p, e, &s, "timestamp");

        if (r < 0)
            return r;
        if (!isfinite(s) || fabs(s) >= 9.2e15)
            return fail(ps, p, "timestamp out of range");
        *out = llround(s * 1000.0);
        return 0;
    }
    switch (promtext_parse_int64(p, e, out)) {
    case 0:
        return 0;
    case -2:
        return fail(ps, p, "timestamp out of range");
    default:
        return fail(ps, p, "invalid timestamp '%.*s' (integer milliseconds expected)",
                    msg_len((size_t)(e - p)), p);
    }
}

/* ---- family table ------------------------------------------------------------------------ */

static uint32_t hash_bytes(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static int32_t fam_find(const struct parser *ps, const char *name, size_t len, uint32_t h)
{
    uint32_t mask = ps->cap - 1;

    if (!ps->tab)
        return -1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const struct fam *f = &ps->tab[i];

        if (!f->name)
            return -1;
        if (f->hash == h && f->len == len && memcmp(f->name, name, len) == 0)
            return (int32_t)i;
    }
}

static int fam_grow(struct parser *ps)
{
    uint32_t ncap = ps->cap ? ps->cap * 2 : FAM_INITIAL_CAP;
    struct fam *nt = calloc(ncap, sizeof(*nt));

    if (!nt)
        return -ENOMEM;
    for (uint32_t i = 0; i < ps->cap; i++) {
        const struct fam *f = &ps->tab[i];
        uint32_t j;

        if (!f->name)
            continue;
        for (j = f->hash & (ncap - 1); nt[j].name; j = (j + 1) & (ncap - 1))
            ;
        nt[j] = *f;
    }
    free(ps->tab);
    ps->tab = nt;
    ps->cap = ncap;
    return 0;
}

/* Add a name known to be absent; returns its index or a negative errno. */
static int32_t fam_add(struct parser *ps, const char *name, size_t len, uint32_t h,
                       enum promtext_type type, uint8_t flags, const char *at)
{
    uint32_t i;

    if (ps->n >= PROMTEXT_MAX_FAMILIES)
        return fail(ps, at, "more than %d metric families", PROMTEXT_MAX_FAMILIES);
    if ((ps->n + 1) * 2 > ps->cap) {
        int r = fam_grow(ps);

        if (r < 0)
            return r;
    }
    for (i = h & (ps->cap - 1); ps->tab[i].name; i = (i + 1) & (ps->cap - 1))
        ;
    ps->tab[i] = (struct fam){name, (uint32_t)len, h, (uint8_t)type, flags};
    ps->n++;
    return (int32_t)i;
}

static int32_t fam_get(struct parser *ps, const char *name, size_t len, const char *at)
{
    uint32_t h = hash_bytes(name, len);
    int32_t i = fam_find(ps, name, len, h);

    return i >= 0 ? i : fam_add(ps, name, len, h, PROMTEXT_UNTYPED, 0, at);
}

/* ---- family membership -------------------------------------------------------------------- */

static bool type_allows(enum promtext_type t, enum promtext_suffix s)
{
    switch (t) {
    case PROMTEXT_COUNTER:
        return s == PROMTEXT_SFX_NONE || s == PROMTEXT_SFX_TOTAL || s == PROMTEXT_SFX_CREATED;
    case PROMTEXT_HISTOGRAM:
        return s == PROMTEXT_SFX_BUCKET || s == PROMTEXT_SFX_COUNT || s == PROMTEXT_SFX_SUM ||
               s == PROMTEXT_SFX_CREATED;
    case PROMTEXT_GAUGEHISTOGRAM:
        return s == PROMTEXT_SFX_BUCKET || s == PROMTEXT_SFX_GCOUNT || s == PROMTEXT_SFX_GSUM;
    case PROMTEXT_SUMMARY:
        return s == PROMTEXT_SFX_NONE || s == PROMTEXT_SFX_COUNT || s == PROMTEXT_SFX_SUM ||
               s == PROMTEXT_SFX_CREATED;
    case PROMTEXT_INFO:
        return s == PROMTEXT_SFX_INFO;
    default:
        return s == PROMTEXT_SFX_NONE;
    }
}

/* The suffix that rest spells exactly, NONE for "", or -1. */
static int suffix_of(const char *rest, size_t n)
{
    if (n == 0)
        return PROMTEXT_SFX_NONE;
    if (rest[0] != '_')
        return -1;
    for (size_t i = 0; i < NSUFFIXES; i++)
        if (suffixes[i].len == n && memcmp(suffixes[i].s, rest, n) == 0)
            return suffixes[i].sfx;
    return -1;
}

static void set_family(struct parser *ps, struct promtext_sample *s, int32_t i,
                       enum promtext_suffix sfx)
{
    struct fam *f = &ps->tab[i];

    f->flags |= FAM_SAMPLES;
    ps->cur = i;
    s->family.p = f->name;
    s->family.len = f->len;
    s->type = (enum promtext_type)f->type;
    s->suffix = sfx;
}

/* Find the family of sample s: the previous line's first, then the table. */
static int resolve_family(struct parser *ps, struct promtext_sample *s, const char *at)
{
    const char *name = s->name.p;
    size_t len = s->name.len;
    uint32_t h;
    int32_t i;

    if (ps->cur >= 0) {
        const struct fam *f = &ps->tab[ps->cur];

        if (len >= f->len && memcmp(name, f->name, f->len) == 0) {
            int sfx = suffix_of(name + f->len, len - f->len);

            if (sfx >= 0 && type_allows((enum promtext_type)f->type, sfx)) {
                set_family(ps, s, ps->cur, sfx);
                return 0;
            }
        }
    }
    h = hash_bytes(name, len);
    i = fam_find(ps, name, len, h);
    if (i >= 0) {
        if (!type_allows((enum promtext_type)ps->tab[i].type, PROMTEXT_SFX_NONE))
            return fail(ps, at, "sample '%.*s' lacks the suffix its %s family needs", msg_len(len),
                        name, promtext_type_name(ps->tab[i].type));
        set_family(ps, s, i, PROMTEXT_SFX_NONE);
        return 0;
    }
    for (size_t k = 0; k < NSUFFIXES; k++) {
        size_t sl = suffixes[k].len;

        if (len > sl && memcmp(name + len - sl, suffixes[k].s, sl) == 0) {
            i = fam_find(ps, name, len - sl, hash_bytes(name, len - sl));
            if (i >= 0 && (ps->tab[i].flags & FAM_TYPED) &&
                type_allows((enum promtext_type)ps->tab[i].type, suffixes[k].sfx)) {
                set_family(ps, s, i, suffixes[k].sfx);
                return 0;
            }
        }
    }
    i = fam_add(ps, name, len, h, PROMTEXT_UNTYPED, 0, at);
    if (i < 0)
        return i;
    set_family(ps, s, i, PROMTEXT_SFX_NONE);
    return 0;
}

/* ---- names and labels ---------------------------------------------------------------------- */

/* A quoted string starting at *pq (the opening quote); escapes \\ \" \n only. */
static int quoted(struct parser *ps, const char **pq, const char *le, struct promtext_str *out,
                  bool *escaped)
{
    const char *open = *pq, *q = open + 1;
    bool esc = false, high = false;

    for (;;) {
        char c;

        if (q == le)
            return fail(ps, open, "unterminated quoted string");
        c = *q;
        if (c == '"')
            break;
        if (c == '\\') {
            if (q + 1 == le)
                return fail(ps, open, "unterminated quoted string");
            if (q[1] != '\\' && q[1] != '"' && q[1] != 'n')
                return fail(ps, q, "invalid escape sequence '\\%c'", q[1]);
            esc = true;
            q += 2;
            continue;
        }
        high |= (unsigned char)c >= 0x80;
        q++;
    }
    if (high && !utf8_valid(open + 1, (size_t)(q - open - 1)))
        return fail(ps, open, "invalid UTF-8 in quoted string");
    out->p = open + 1;
    out->len = (size_t)(q - open - 1);
    *escaped = esc;
    *pq = q + 1;
    return 0;
}

/* A bare metric name or a quoted one (HELP/TYPE/UNIT lines). */
static int meta_name(struct parser *ps, const char **pq, const char *le, struct promtext_str *out,
                     bool *escaped)
{
    const char *q = *pq;

    if (q < le && *q == '"') {
        int r = quoted(ps, pq, le, out, escaped);

        if (r < 0)
            return r;
        if (out->len == 0)
            return fail(ps, q, "empty metric name");
        return 0;
    }
    if (q == le || !is_name_start(*q))
        return fail(ps, q, "expected a metric name");
    while (q < le && is_name_char(*q))
        q++;
    out->p = *pq;
    out->len = (size_t)(q - *pq);
    *escaped = false;
    *pq = q;
    return 0;
}

static bool same_str(struct promtext_str a, struct promtext_str b)
{
    return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

/*
 * A label set from '{' at *pq to its '}'. s is the sample whose quoted name
 * may appear inside the braces (NULL for an exemplar). Stores at most
 * PROMTEXT_MAX_LABELS labels in out and their count in *pn.
 */
static int label_set(struct parser *ps, const char **pq, const char *le, struct promtext_label *out,
                     unsigned *pn, struct promtext_sample *s)
{
    const char *q = *pq + 1;
    unsigned n = 0;

    for (;;) {
        struct promtext_label *l;
        struct promtext_str nm;
        bool nesc = false, was_quoted;
        const char *at;
        int r;

        q = skip_blanks(q, le);
        if (q == le)
            return fail(ps, *pq, "unterminated label set");
        if (*q == '}') {
            q++;
            break;
        }
        at = q;
        was_quoted = *q == '"';
        if (was_quoted) {
            r = quoted(ps, &q, le, &nm, &nesc);
            if (r < 0)
                return r;
        } else if (is_alpha_(*q)) {
            while (q < le && is_label_char(*q))
                q++;
            nm.p = at;
            nm.len = (size_t)(q - at);
        } else {
            return fail(ps, q, "expected a label name or '}'");
        }
        q = skip_blanks(q, le);
        if (was_quoted && s && q < le && (*q == ',' || *q == '}')) {
            /* {"my.metric", ...}: the quoted metric name. */
            if (s->name.p)
                return fail(ps, at, "metric name given twice");
            if (nm.len == 0)
                return fail(ps, at, "empty metric name");
            s->name = nm;
            s->name_escaped = nesc;
        } else {
            if (nm.len == 0)
                return fail(ps, at, "empty label name");
            if (q == le || *q != '=')
                return fail(ps, q, "expected '=' after label name");
            q = skip_blanks(q + 1, le);
            if (q == le || *q != '"')
                return fail(ps, q, "expected '\"' to open the label value");
            if (n == PROMTEXT_MAX_LABELS)
                return fail(ps, at, "more than %d labels", PROMTEXT_MAX_LABELS);
            l = &out[n];
            l->name = nm;
            l->name_escaped = nesc;
            r = quoted(ps, &q, le, &l->value, &l->value_escaped);
            if (r < 0)
                return r;
            for (unsigned k = 0; k < n; k++)
                if (same_str(out[k].name, nm))
                    return fail(ps, at, "duplicate label '%.*s'", msg_len(nm.len), nm.p);
            n++;
            q = skip_blanks(q, le);
        }
        if (q < le && *q == ',') {
            q++;
            continue;
        }
        if (q < le && *q == '}') {
            q++;
            break;
        }
        return fail(ps, q, "expected ',' or '}' in label set");
    }
    *pn = n;
    *pq = q;
    return 0;
}

/* The numeric value of label `name` (2 or 8 bytes) for le/quantile. */
static int bound_label(struct parser *ps, struct promtext_sample *s, const char *name, size_t nlen,
                       const char *at)
{
    for (unsigned i = 0; i < s->nlabels; i++) {
        const struct promtext_label *l = &s->labels[i];

        if (l->name.len == nlen && memcmp(l->name.p, name, nlen) == 0 && !l->name_escaped) {
            const char *p = l->value.p, *e = p + l->value.len;

            if (l->value_escaped || promtext_parse_float(p, e, &s->bound) < 0 || isnan(s->bound))
                return fail(ps, p, "invalid %s value '%.*s'", name, msg_len(l->value.len), p);
            return 0;
        }
    }
    return fail(ps, at, "%s sample without a '%s' label",
                s->type == PROMTEXT_SUMMARY ? "summary" : "histogram bucket", name);
}

/* An OpenMetrics exemplar at q ('#'): "# {labels} value [timestamp]". */
static int exemplar(struct parser *ps, const struct promtext_sample *s, const char *q,
                    const char *le)
{
    const char *at = q, *e;
    unsigned n = 0;
    size_t runes = 0;
    double v;
    int64_t ts;
    int r;

    if (!((s->type == PROMTEXT_COUNTER && s->suffix == PROMTEXT_SFX_TOTAL) ||
          ((s->type == PROMTEXT_HISTOGRAM || s->type == PROMTEXT_GAUGEHISTOGRAM) &&
           s->suffix == PROMTEXT_SFX_BUCKET)))
        return fail(ps, at, "exemplar allowed only on counter _total and histogram _bucket");
    q++;
    if (q == le || !is_blank(*q))
        return fail(ps, q, "expected ' ' after '#' of an exemplar");
    q = skip_blanks(q, le);
    if (q == le || *q != '{')
        return fail(ps, q, "expected '{' to open the exemplar's labels");
    r = label_set(ps, &q, le, ps->ex_labels, &n, NULL);
    if (r < 0)
        return r;
    for (unsigned i = 0; i < n; i++)
        runes += utf8_runes(ps->ex_labels[i].name.p, ps->ex_labels[i].name.len) +
                 utf8_runes(ps->ex_labels[i].value.p, ps->ex_labels[i].value.len);
    if (runes > PROMTEXT_MAX_EXEMPLAR_RUNES)
        return fail(ps, at, "exemplar labels longer than %d characters",
                    PROMTEXT_MAX_EXEMPLAR_RUNES);
    if (q == le || !is_blank(*q))
        return fail(ps, q, "expected a blank and the exemplar's value");
    q = skip_blanks(q, le);
    e = token_end(q, le);
    r = number(ps, q, e, &v, "exemplar value");
    if (r < 0)
        return r;
    q = skip_blanks(e, le);
    if (q < le) {
        e = token_end(q, le);
        r = timestamp(ps, q, e, &ts);
        if (r < 0)
            return r;
        q = skip_blanks(e, le);
        if (q < le)
            return fail(ps, q, "unexpected text after the exemplar");
    }
    return 0;
}

/* ---- lines ------------------------------------------------------------------------------- */

static int sample_line(struct parser *ps, const char *p, const char *le)
{
    struct promtext_sample s;
    const char *q = p, *e;
    int r;

    s.name.p = NULL;
    s.name.len = 0;
    s.name_escaped = false;
    s.nlabels = 0;
    s.labels = ps->labels;
    s.has_timestamp = false;
    s.timestamp_ms = 0;
    s.bound = NAN;
    s.has_exemplar = false;
    s.line = ps->line;

    if (is_name_start(*q)) {
        q++;
        while (q < le && is_name_char(*q))
            q++;
        s.name.p = p;
        s.name.len = (size_t)(q - p);
        if (q < le && !is_blank(*q) && *q != '{')
            return fail(ps, q, "invalid character '%c' in metric name", *q);
        q = skip_blanks(q, le);
    } else if (*q != '{') {
        return fail(ps, q, "expected a metric name");
    }
    if (q < le && *q == '{') {
        r = label_set(ps, &q, le, ps->labels, &s.nlabels, &s);
        if (r < 0)
            return r;
        if (!s.name.p)
            return fail(ps, p, "label set without a metric name");
        if (q < le && !is_blank(*q))
            return fail(ps, q, "expected a blank after '}'");
        q = skip_blanks(q, le);
    }
    if (q == le)
        return fail(ps, q, "expected a value after the metric name");
    r = resolve_family(ps, &s, p);
    if (r < 0)
        return r;

    e = token_end(q, le);
    r = number(ps, q, e, &s.value, "value");
    if (r < 0)
        return r;
    q = skip_blanks(e, le);
    if (q < le && *q != '#') {
        e = token_end(q, le);
        r = timestamp(ps, q, e, &s.timestamp_ms);
        if (r < 0)
            return r;
        s.has_timestamp = true;
        q = skip_blanks(e, le);
    }
    if (q < le) {
        if (*q != '#' || ps->fmt != PROMTEXT_OPENMETRICS)
            return fail(ps, q, "unexpected text after the %s",
                        s.has_timestamp ? "timestamp" : "value");
        r = exemplar(ps, &s, q, le);
        if (r < 0)
            return r;
        s.has_exemplar = true;
    }

    r = 0;
    if ((s.type == PROMTEXT_HISTOGRAM || s.type == PROMTEXT_GAUGEHISTOGRAM) &&
        s.suffix == PROMTEXT_SFX_BUCKET)
        r = bound_label(ps, &s, "le", 2, p);
    else if (s.type == PROMTEXT_SUMMARY && s.suffix == PROMTEXT_SFX_NONE)
        r = bound_label(ps, &s, "quantile", 8, p);
    if (r < 0)
        return r;

    return ps->h && ps->h->sample ? ps->h->sample(&s, ps->h->arg) : 0;
}

static const struct {
    const char *kw;
    enum promtext_type type;
    bool om_only, text_only;
} type_words[] = {
    {"counter", PROMTEXT_COUNTER, false, false},
    {"gauge", PROMTEXT_GAUGE, false, false},
    {"histogram", PROMTEXT_HISTOGRAM, false, false},
    {"summary", PROMTEXT_SUMMARY, false, false},
    {"untyped", PROMTEXT_UNTYPED, false, true},
    {"unknown", PROMTEXT_UNTYPED, true, false},
    {"gaugehistogram", PROMTEXT_GAUGEHISTOGRAM, true, false},
    {"stateset", PROMTEXT_STATESET, true, false},
    {"info", PROMTEXT_INFO, true, false},
};

static bool word_is(const char *p, const char *e, const char *w)
{
    size_t n = strlen(w);

    return (size_t)(e - p) == n && memcmp(p, w, n) == 0;
}

static int meta_line(struct parser *ps, enum promtext_meta_kind kind, const char *q, const char *le)
{
    struct promtext_meta m;
    const char *at;
    struct fam *f;
    int32_t i;
    int r;

    memset(&m, 0, sizeof(m));
    m.kind = kind;
    m.line = ps->line;
    if (q == le || !is_blank(*q))
        return fail(ps, q, "expected a blank and a metric name");
    q = skip_blanks(q, le);
    at = q;
    r = meta_name(ps, &q, le, &m.name, &m.name_escaped);
    if (r < 0)
        return r;
    if (q < le && !is_blank(*q))
        return fail(ps, q, "invalid character '%c' in metric name", *q);
    q = skip_blanks(q, le);
    i = fam_get(ps, m.name.p, m.name.len, at);
    if (i < 0)
        return i;
    f = &ps->tab[i];

    switch (kind) {
    case PROMTEXT_META_HELP:
        if (f->flags & FAM_HELP)
            return fail(ps, at, "second HELP line for '%.*s'", msg_len(m.name.len), m.name.p);
        f->flags |= FAM_HELP;
        m.text.p = q;
        m.text.len = (size_t)(le - q);
        m.text_escaped = memchr(q, '\\', m.text.len) != NULL;
        if (!utf8_valid(q, m.text.len))
            return fail(ps, q, "invalid UTF-8 in HELP text");
        m.type = (enum promtext_type)f->type;
        break;
    case PROMTEXT_META_TYPE: {
        const char *e = token_end(q, le);
        size_t k;

        for (k = 0; k < sizeof(type_words) / sizeof(type_words[0]); k++) {
            bool ok =
                ps->fmt == PROMTEXT_OPENMETRICS ? !type_words[k].text_only : !type_words[k].om_only;

            if (ok && word_is(q, e, type_words[k].kw))
                break;
        }
        if (k == sizeof(type_words) / sizeof(type_words[0]))
            return fail(ps, q, "unknown metric type '%.*s'", msg_len((size_t)(e - q)), q);
        if (skip_blanks(e, le) != le)
            return fail(ps, skip_blanks(e, le), "TYPE takes exactly a name and a type");
        if (f->flags & FAM_TYPED)
            return fail(ps, at, "second TYPE line for '%.*s'", msg_len(m.name.len), m.name.p);
        if (f->flags & FAM_SAMPLES)
            return fail(ps, at, "TYPE line for '%.*s' after its samples", msg_len(m.name.len),
                        m.name.p);
        f->flags |= FAM_TYPED;
        f->type = (uint8_t)type_words[k].type;
        m.text.p = q;
        m.text.len = (size_t)(e - q);
        m.type = type_words[k].type;
        break;
    }
    case PROMTEXT_META_UNIT: {
        const char *e = token_end(q, le);

        if (skip_blanks(e, le) != le)
            return fail(ps, skip_blanks(e, le), "UNIT takes exactly a name and a unit");
        if (f->flags & FAM_UNIT)
            return fail(ps, at, "second UNIT line for '%.*s'", msg_len(m.name.len), m.name.p);
        if (f->flags & FAM_SAMPLES)
            return fail(ps, at, "UNIT line for '%.*s' after its samples", msg_len(m.name.len),
                        m.name.p);
        if (e > q) {
            size_t ul = (size_t)(e - q);

            if (m.name.len <= ul + 1 || m.name.p[m.name.len - ul - 1] != '_' ||
                memcmp(m.name.p + m.name.len - ul, q, ul) != 0)
                return fail(ps, q, "unit '%.*s' is not a suffix of the metric name", msg_len(ul),
                            q);
        }
        f->flags |= FAM_UNIT;
        m.text.p = q;
        m.text.len = (size_t)(e - q);
        m.type = (enum promtext_type)f->type;
        break;
    }
    }
    ps->cur = i;
    return ps->h && ps->h->meta ? ps->h->meta(&m, ps->h->arg) : 0;
}

/*
 * 0.0.4 has no UNIT line, but some exporters write one (OpenTelemetry's
 * names need not end in their unit). It stays a comment: delivered when it
 * is exactly a plain metric name and one word, never an error.
 */
static int text_unit_comment(struct parser *ps, const char *q, const char *le)
{
    struct promtext_meta m;
    const char *n, *ne, *u, *ue;

    if (q == le || !is_blank(*q))
        return 0;
    n = skip_blanks(q, le);
    ne = token_end(n, le);
    u = skip_blanks(ne, le);
    ue = token_end(u, le);
    if (ne == n || ue == u || skip_blanks(ue, le) != le)
        return 0;
    for (const char *c = n; c < ne; c++)
        if (!is_name_char(*c) || (c == n && is_digit(*c)))
            return 0;
    memset(&m, 0, sizeof(m));
    m.kind = PROMTEXT_META_UNIT;
    m.line = ps->line;
    m.name.p = n;
    m.name.len = (size_t)(ne - n);
    m.text.p = u;
    m.text.len = (size_t)(ue - u);
    return ps->h && ps->h->meta ? ps->h->meta(&m, ps->h->arg) : 0;
}

static int comment_line(struct parser *ps, const char *p, const char *le)
{
    bool om = ps->fmt == PROMTEXT_OPENMETRICS;
    const char *q = p + 1, *e;

    if (q == le || !is_blank(*q)) {
        if (om)
            return fail(ps, p, "OpenMetrics allows only HELP, TYPE, UNIT and EOF comments");
        return 0;
    }
    q = skip_blanks(q, le);
    e = token_end(q, le);
    if (word_is(q, e, "HELP"))
        return meta_line(ps, PROMTEXT_META_HELP, e, le);
    if (word_is(q, e, "TYPE"))
        return meta_line(ps, PROMTEXT_META_TYPE, e, le);
    if (word_is(q, e, "UNIT"))
        return om ? meta_line(ps, PROMTEXT_META_UNIT, e, le) : text_unit_comment(ps, e, le);
    if (om && word_is(q, e, "EOF")) {
        if (skip_blanks(e, le) != le)
            return fail(ps, e, "unexpected text after # EOF");
        ps->eof = true;
        return 0;
    }
    if (om)
        return fail(ps, p, "OpenMetrics allows only HELP, TYPE, UNIT and EOF comments");
    return 0;
}

/*
 * Parses whole lines from ps->pos until the input ends or at least budget
 * bytes were consumed (a line is never split). Returns 0 with ps->done set
 * when the input ended, 0 with ps->done clear when lines remain, or the
 * first error (the caller then marks the parser done).
 */
static int parse_lines(struct parser *ps, size_t budget)
{
    const char *p = ps->pos, *end = ps->end;
    const char *stop = budget < (size_t)(end - p) ? p + budget : end;

    while (p < end) {
        const char *eol, *le, *q;
        int r;

        if (p >= stop) {
            ps->pos = p;
            return 0;
        }
        eol = memchr(p, '\n', (size_t)(end - p));
        le = eol ? eol : end;
        ps->line++;
        ps->line_start = p;
        if (le - p > PROMTEXT_MAX_LINE)
            return fail(ps, p + PROMTEXT_MAX_LINE, "line longer than %d bytes", PROMTEXT_MAX_LINE);
        q = skip_blanks(p, le);
        if (q == le)
            r = 0;
        else if (*q == '#')
            r = comment_line(ps, q, le);
        else
            r = sample_line(ps, q, le);
        if (r != 0)
            return r;
        if (ps->eof) {
            if (eol && eol + 1 != end) {
                ps->line++;
                ps->line_start = eol + 1;
                return fail(ps, eol + 1, "content after # EOF");
            }
            ps->done = true;
            return 0;
        }
        if (!eol && !(q == le && ps->fmt != PROMTEXT_OPENMETRICS))
            return fail(ps, le,
                        ps->fmt == PROMTEXT_OPENMETRICS ? "missing # EOF at the end"
                                                        : "the last line lacks a newline");
        p = eol ? eol + 1 : end;
    }
    ps->pos = end;
    ps->done = true;
    if (ps->fmt == PROMTEXT_OPENMETRICS) {
        ps->line++;
        ps->line_start = end;
        return fail(ps, end, "missing # EOF at the end");
    }
    return 0;
}

int promtext_parser_new(const char *buf, size_t len, enum promtext_format fmt,
                        const struct promtext_handler *h, struct promtext_err *err,
                        struct promtext_parser **ret)
{
    struct parser *ps;

    /* The label arrays make the state ~3 KiB; keep it off small stacks. */
    ps = malloc(sizeof(*ps));
    if (!ps)
        return -ENOMEM;
    ps->pos = buf;
    ps->end = buf + len;
    ps->fmt = fmt == PROMTEXT_AUTO ? promtext_format_detect(buf, len) : fmt;
    ps->h = h;
    ps->err = err;
    ps->line = 0;
    ps->line_start = buf;
    ps->eof = false;
    ps->done = false;
    ps->result = 0;
    ps->tab = NULL;
    ps->cap = ps->n = 0;
    ps->cur = -1;
    if (len == 0 && ps->fmt == PROMTEXT_OPENMETRICS) {
        ps->line = 1;
        ps->result = fail(ps, buf, "missing # EOF at the end");
        ps->done = true;
    } else if (len == 0)
        ps->done = true;
    *ret = (struct promtext_parser *)ps;
    return 0;
}

int promtext_parser_step(struct promtext_parser *p, size_t budget)
{
    struct parser *ps = (struct parser *)p;

    if (ps->done)
        return ps->result;
    ps->result = parse_lines(ps, budget ? budget : 1);
    if (ps->result != 0)
        ps->done = true;
    if (ps->done) {
        free(ps->tab); /* the family table is needed no more */
        ps->tab = NULL;
        ps->cap = ps->n = 0;
    }
    return ps->result;
}

bool promtext_parser_done(const struct promtext_parser *p)
{
    return ((const struct parser *)p)->done;
}

struct promtext_parser *promtext_parser_free(struct promtext_parser *p)
{
    struct parser *ps = (struct parser *)p;

    if (ps) {
        free(ps->tab);
        free(ps);
    }
    return NULL;
}

int promtext_parse(const char *buf, size_t len, enum promtext_format fmt,
                   const struct promtext_handler *h, struct promtext_err *err)
{
    struct promtext_parser *ps;
    int r = promtext_parser_new(buf, len, fmt, h, err, &ps);

    if (r < 0)
        return r;
    r = promtext_parser_step(ps, SIZE_MAX);
    promtext_parser_free(ps);
    return r;
}
