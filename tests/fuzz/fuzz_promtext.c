/*
 * libFuzzer target for probes/promtext.c and probes/scrape.c.
 *
 * Each input is parsed as 0.0.4 text, as OpenMetrics and with detection,
 * then run through scrape_extract with a fixed spec, and its first line is
 * tried as a selector. Besides the sanitizers, invariants are checked with
 * abort(): every slice lies inside the input, the escape helpers agree
 * with each other, and a delta of totals against themselves is zero.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       tests/fuzz/fuzz_promtext.c probes/promtext.c probes/scrape.c -lm -o fuzz_promtext
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/promtext.h"
#include "probes/scrape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
    const char *lo, *hi;
    char *scratch; /* PROMTEXT_MAX_LINE bytes */
    unsigned samples;
};

static void inside(const struct ctx *c, struct promtext_str s)
{
    if (s.len > 0 && (s.p < c->lo || s.p + s.len > c->hi))
        abort();
}

static void check_escapes(const struct ctx *c, struct promtext_str s, bool escaped)
{
    size_t n;

    inside(c, s);
    if (s.len > PROMTEXT_MAX_LINE)
        abort();
    n = promtext_unescape(s, c->scratch);
    if (n > s.len || (!escaped && n != s.len))
        abort();
    if (!promtext_str_eq(s, escaped, c->scratch, n))
        abort();
}

static int on_sample(const struct promtext_sample *s, void *arg)
{
    struct ctx *c = arg;

    if (s->nlabels > PROMTEXT_MAX_LABELS || s->name.len == 0)
        abort();
    check_escapes(c, s->name, s->name_escaped);
    inside(c, s->family);
    for (unsigned i = 0; i < s->nlabels; i++) {
        check_escapes(c, s->labels[i].name, s->labels[i].name_escaped);
        check_escapes(c, s->labels[i].value, s->labels[i].value_escaped);
    }
    if (s->nlabels > 0 && !s->labels[0].name_escaped && s->labels[0].name.len < 64) {
        char nm[64];

        memcpy(nm, s->labels[0].name.p, s->labels[0].name.len);
        nm[s->labels[0].name.len] = '\0';
        if (!memchr(nm, '\0', s->labels[0].name.len) && !promtext_sample_label(s, nm))
            abort();
    }
    c->samples++;
    return 0;
}

static int on_meta(const struct promtext_meta *m, void *arg)
{
    struct ctx *c = arg;

    check_escapes(c, m->name, m->name_escaped);
    if (m->kind == PROMTEXT_META_HELP)
        check_escapes(c, m->text, m->text_escaped);
    else
        inside(c, m->text); /* TYPE and UNIT tokens are raw */
    return 0;
}

static void check_delta(const struct scrape_totals *t)
{
    struct scrape_totals zero;
    struct sample_delta d;

    scrape_delta(t, t, 1.0, &d);
    if (!d.valid || d.reset || d.requests != 0 || d.errors != 0)
        abort();
    for (unsigned i = 0; i < d.hist.n; i++)
        if (d.hist.count[i] != 0)
            abort();
    memset(&zero, 0, sizeof(zero));
    scrape_delta(&zero, t, 1.0, &d);
    if (d.errors > d.requests || d.hist.n > SAMPLE_MAX_BUCKETS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum promtext_format fmts[] = {PROMTEXT_TEXT, PROMTEXT_OPENMETRICS, PROMTEXT_AUTO};
    static const char *const cts[] = {NULL, "application/openmetrics-text; version=1.0.0"};
    const char *buf = (const char *)data;
    struct ctx c = {buf, buf + size, NULL, 0};
    struct promtext_handler h = {on_sample, on_meta, &c};
    struct promtext_err err;
    struct scrape_spec spec;

    c.scratch = malloc(PROMTEXT_MAX_LINE);
    if (!c.scratch)
        return 0;
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        int r = promtext_parse(buf, size, fmts[i], &h, &err);

        if (r != 0 && r != -EINVAL && r != -ENOMEM)
            abort();
        if (r == -EINVAL && (err.line == 0 || err.column == 0 || err.msg[0] == '\0'))
            abort();
    }

    /* the explicit names, then every name auto (as the defaults), in both flavours */
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof(cts) / sizeof(cts[0]); i++) {
            struct scrape_totals t, t2;
            struct promtext_err err2;
            struct scrape_job *j;
            int r, r2;

            if ((k == 0
                     ? scrape_spec_init(&spec, "http_requests_total", "code", "5..|429",
                                        "method!=\"POST\"", "http_request_duration_seconds", 0,
                                        &err)
                     : scrape_spec_init(&spec, "auto", "auto", "5.*", NULL, "auto", 0, &err)) != 0)
                abort();
            scrape_spec_tune(&spec, k == 2 ? SCRAPE_FLAVOUR_OTEL : SCRAPE_FLAVOUR_ANY, 0.5);
            memset(&t, 0, sizeof(t));
            r = scrape_extract(&spec, buf, size, cts[i], &t, &err);

            if (r == 0) {
                if (t.series == 0 || t.hist_n > SAMPLE_MAX_BUCKETS ||
                    !memchr(t.rd.err_problem, '\0', sizeof(t.rd.err_problem)) ||
                    (t.has_summary_q && !(t.summary_q >= 0)))
                    abort();
                check_delta(&t);
            }
            /* The same page in slices (as the daemon parses it) ends exactly the same. */
            if (scrape_job_new(&spec, buf, size, cts[i], &j) != 0)
                continue;
            memset(&t2, 0, sizeof(t2));
            while ((r2 = scrape_job_step(j, 1 + size % 61, &t2, &err2)) == SCRAPE_MORE)
                ;
            scrape_job_free(j);
            if (r2 != r || (r == 0 && memcmp(&t, &t2, sizeof(t)) != 0) ||
                (r == -EINVAL && (err.line != err2.line || err.column != err2.column ||
                                  strcmp(err.msg, err2.msg) != 0)))
                abort();
        }

    /* the first line as a selector string */
    {
        char sel[SCRAPE_SELECTOR_MAX + 2];
        size_t n = 0;

        while (n < size && n < sizeof(sel) - 1 && buf[n] != '\n' && buf[n] != '\0')
            n++;
        memcpy(sel, buf, n);
        sel[n] = '\0';
        if (scrape_spec_init(&spec, "m", "code", "5..", sel, NULL, 1, &err) == 0 &&
            spec.nmatchers > SCRAPE_MAX_MATCHERS)
            abort();
    }
    free(c.scratch);
    return 0;
}
