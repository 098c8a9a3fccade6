/*
 * Tests for probes/promtext.c: every syntax element of the 0.0.4 text
 * format and OpenMetrics is accepted with exact values; every class of
 * malformed input is rejected at its line and column.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/promtext.h"

Suite *promtext_suite(void); /* registered by the runner */

#define MAXREC 64

struct rec {
    char name[128];
    char family[128];
    char labels[512]; /* k=v,k=v with values unescaped */
    enum promtext_type type;
    enum promtext_suffix suffix;
    double value;
    bool has_ts;
    int64_t ts;
    double bound;
    bool exemplar;
    unsigned line;
};

struct mrec {
    enum promtext_meta_kind kind;
    char name[128];
    char text[256]; /* unescaped */
    enum promtext_type type;
};

struct got {
    unsigned n, nm;
    struct rec r[MAXREC];
    struct mrec m[MAXREC];
    unsigned stop_after; /* 0 = never */
};

static void cpy(char *dst, size_t cap, struct promtext_str s, bool esc)
{
    char tmp[1024];
    size_t n = s.len;

    ck_assert_uint_lt(s.len, sizeof(tmp));
    if (esc)
        n = promtext_unescape(s, tmp);
    else
        memcpy(tmp, s.p, n);
    ck_assert_uint_lt(n, cap);
    memcpy(dst, tmp, n);
    dst[n] = '\0';
}

static int on_sample(const struct promtext_sample *s, void *arg)
{
    struct got *g = arg;
    struct rec *r;
    size_t o = 0;

    ck_assert_uint_lt(g->n, MAXREC);
    r = &g->r[g->n++];
    cpy(r->name, sizeof(r->name), s->name, s->name_escaped);
    cpy(r->family, sizeof(r->family), s->family, s->name_escaped);
    r->labels[0] = '\0';
    for (unsigned i = 0; i < s->nlabels; i++) {
        char k[256], v[256];

        cpy(k, sizeof(k), s->labels[i].name, s->labels[i].name_escaped);
        cpy(v, sizeof(v), s->labels[i].value, s->labels[i].value_escaped);
        o += (size_t)snprintf(r->labels + o, sizeof(r->labels) - o, "%s%s=%s", i ? "," : "", k, v);
    }
    r->type = s->type;
    r->suffix = s->suffix;
    r->value = s->value;
    r->has_ts = s->has_timestamp;
    r->ts = s->timestamp_ms;
    r->bound = s->bound;
    r->exemplar = s->has_exemplar;
    r->line = s->line;
    if (g->stop_after && g->n == g->stop_after)
        return 7;
    return 0;
}

static int on_meta(const struct promtext_meta *m, void *arg)
{
    struct got *g = arg;
    struct mrec *r;

    ck_assert_uint_lt(g->nm, MAXREC);
    r = &g->m[g->nm++];
    r->kind = m->kind;
    cpy(r->name, sizeof(r->name), m->name, m->name_escaped);
    cpy(r->text, sizeof(r->text), m->text, m->text_escaped);
    r->type = m->type;
    return 0;
}

static struct got G;
static struct promtext_err E;

static struct got G2;
static struct promtext_err E2;

/* The same parse in steps of budget bytes must deliver exactly what one pass did. */
static void same_in_steps(const char *in, enum promtext_format fmt, size_t budget, int want)
{
    struct promtext_handler h = {on_sample, on_meta, &G2};
    struct promtext_parser *ps;
    int r, steps = 0;

    memset(&G2, 0, sizeof(G2));
    memset(&E2, 0, sizeof(E2));
    G2.stop_after = G.stop_after;
    ck_assert_int_eq(promtext_parser_new(in, strlen(in), fmt, &h, &E2, &ps), 0);
    do {
        r = promtext_parser_step(ps, budget);
        steps++;
    } while (r == 0 && !promtext_parser_done(ps));
    ck_assert_int_eq(promtext_parser_step(ps, budget), r); /* done stays done */
    promtext_parser_free(ps);
    ck_assert_int_eq(r, want);
    ck_assert_msg(memcmp(&G, &G2, sizeof(G)) == 0, "stepped parse (budget %zu) differs", budget);
    ck_assert_msg(memcmp(&E, &E2, sizeof(E)) == 0, "stepped error (budget %zu) differs: %s vs %s",
                  budget, E.msg, E2.msg);
    if (budget == 1 && want == 0)
        ck_assert_int_ge(steps, G.n + G.nm); /* one line per step at most */
}

static int parse_stop(const char *in, enum promtext_format fmt, unsigned stop_after)
{
    struct promtext_handler h = {on_sample, on_meta, &G};
    int r;

    memset(&G, 0, sizeof(G));
    memset(&E, 0, sizeof(E));
    G.stop_after = stop_after;
    r = promtext_parse(in, strlen(in), fmt, &h, &E);
    same_in_steps(in, fmt, 1, r);
    same_in_steps(in, fmt, 29, r);
    return r;
}

static int parse(const char *in, enum promtext_format fmt)
{
    return parse_stop(in, fmt, 0);
}

static void ok(const char *in, enum promtext_format fmt)
{
    int r = parse(in, fmt);

    ck_assert_msg(r == 0, "parse failed: %d at %u:%u: %s", r, E.line, E.column, E.msg);
}

/* The input must be rejected at line:col with msg containing what. */
static void bad(const char *in, enum promtext_format fmt, unsigned line, unsigned col,
                const char *what)
{
    int r = parse(in, fmt);

    ck_assert_msg(r == -EINVAL, "accepted (r=%d): %s", r, in);
    ck_assert_msg(E.line == line && E.column == col, "at %u:%u, want %u:%u (%s) for: %s", E.line,
                  E.column, line, col, E.msg, in);
    ck_assert_msg(strstr(E.msg, what), "message '%s' lacks '%s'", E.msg, what);
}

#define TEXT PROMTEXT_TEXT
#define OM PROMTEXT_OPENMETRICS

START_TEST(test_plain_sample)
{
    ok("foo 1\n", TEXT);
    ck_assert_uint_eq(G.n, 1);
    ck_assert_str_eq(G.r[0].name, "foo");
    ck_assert_str_eq(G.r[0].family, "foo");
    ck_assert_str_eq(G.r[0].labels, "");
    ck_assert_int_eq(G.r[0].type, PROMTEXT_UNTYPED);
    ck_assert_int_eq(G.r[0].suffix, PROMTEXT_SFX_NONE);
    ck_assert(G.r[0].value == 1.0);
    ck_assert(!G.r[0].has_ts);
    ck_assert(isnan(G.r[0].bound));
    ck_assert_uint_eq(G.r[0].line, 1);

    ok("  name:with_colon_9 \t 42 \t \n", TEXT); /* leading/trailing blanks, ':' in names */
    ck_assert_str_eq(G.r[0].name, "name:with_colon_9");
    ck_assert(G.r[0].value == 42.0);
}
END_TEST

START_TEST(test_labels_and_escapes)
{
    ok("foo{a=\"x\\\\y\",b=\"q\\\"z\",c=\"l\\nm\",d=\"\"} 2\n", TEXT);
    ck_assert_str_eq(G.r[0].labels, "a=x\\y,b=q\"z,c=l\nm,d=");
    ck_assert(G.r[0].value == 2.0);

    ok("foo{a=\"b\",} 1\nfoo{} 2\nfoo { a = \"b\" , c=\"d\" , } 3\n", TEXT);
    ck_assert_uint_eq(G.n, 3);
    ck_assert_str_eq(G.r[0].labels, "a=b");
    ck_assert_str_eq(G.r[1].labels, "");
    ck_assert_str_eq(G.r[2].labels, "a=b,c=d");

    /* UTF-8 in values; labels in any order */
    ok("foo{city=\"Zürich\",code=\"200\"} 1\nfoo{code=\"500\",city=\"東京\"} 2\n", TEXT);
    ck_assert_str_eq(G.r[0].labels, "city=Zürich,code=200");
    ck_assert_str_eq(G.r[1].labels, "code=500,city=東京");
}
END_TEST

static int find_label_cb(const struct promtext_sample *s, void *arg)
{
    int *hits = arg;
    const struct promtext_label *l = promtext_sample_label(s, "code");
    const struct promtext_label *q = promtext_sample_label(s, "q");

    ck_assert_ptr_nonnull(l);
    ck_assert(promtext_str_eq(l->value, l->value_escaped, "500", 3));
    ck_assert(!promtext_str_eq(l->value, l->value_escaped, "50", 2));
    ck_assert_ptr_nonnull(q);
    ck_assert(q->value_escaped);
    ck_assert(promtext_str_eq(q->value, true, "a\"b\\c\n", 6));
    ck_assert(!promtext_str_eq(q->value, true, "a\"b\\c", 5));
    ck_assert(!promtext_str_eq(q->value, true, "a\"b\\c\nX", 7));
    ck_assert_ptr_null(promtext_sample_label(s, "missing"));
    (*hits)++;
    return 0;
}

START_TEST(test_label_helpers)
{
    const char *in =
        "x{q=\"a\\\"b\\\\c\\n\",code=\"500\"} 1\nx{code=\"500\",q=\"a\\\"b\\\\c\\n\"} 1\n";
    int hits = 0;
    struct promtext_handler h = {find_label_cb, NULL, &hits};

    ck_assert_int_eq(promtext_parse(in, strlen(in), TEXT, &h, NULL), 0);
    ck_assert_int_eq(hits, 2);
}
END_TEST

/* Value strings whose double must equal strtod's bit for bit. */
static const char *const numbers[] = {
    "0",
    "-0",
    "1",
    "-1",
    "1.5",
    ".5",
    "5.",
    "0.1",
    "0.2",
    "0.3",
    "0.30000000000000004",
    "1e3",
    "1E-3",
    "-2.5e+10",
    "123456789",
    "9007199254740992",
    "9007199254740993",
    "12345678901234567890",
    "123456789012345678901234567890",
    "0.000000000000000000000000000123",
    "1.7976931348623157e308",
    "2.2250738585072014e-308",
    "4.9e-324",
    "1e23",
    "8.98846567431158e307",
    "3.141592653589793238462643383279",
    "1e-400",
    "000123.4500",
    "1712345678.901",
    "0.005",
    "2.5",
    "+7",
};

START_TEST(test_values_exact)
{
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        char line[128];
        double want = strtod(numbers[i], NULL);

        snprintf(line, sizeof(line), "m %s\n", numbers[i]);
        ok(line, TEXT);
        ck_assert_msg(memcmp(&G.r[0].value, &want, sizeof(want)) == 0, "%s: got %.17g want %.17g",
                      numbers[i], G.r[0].value, want);
    }
}
END_TEST

START_TEST(test_values_special)
{
    ok("a NaN\nb +Inf\nc -Inf\nd Inf\ne inf\nf -Infinity\ng nan\n", TEXT);
    ck_assert_uint_eq(G.n, 7);
    ck_assert(isnan(G.r[0].value));
    ck_assert(isinf(G.r[1].value) && G.r[1].value > 0);
    ck_assert(isinf(G.r[2].value) && G.r[2].value < 0);
    ck_assert(isinf(G.r[3].value) && G.r[3].value > 0);
    ck_assert(isinf(G.r[4].value) && G.r[4].value > 0);
    ck_assert(isinf(G.r[5].value) && G.r[5].value < 0);
    ck_assert(isnan(G.r[6].value));
}
END_TEST

START_TEST(test_number_helper)
{
    double v = 0;
    struct promtext_str s = {"2.5e-3", 6}, b = {"1e999", 5}, x = {"0x10", 4};

    ck_assert_int_eq(promtext_number(s, &v), 0);
    ck_assert(v == 2.5e-3);
    ck_assert_int_eq(promtext_number(b, &v), -ERANGE);
    ck_assert_int_eq(promtext_number(x, &v), -EINVAL);
}
END_TEST

START_TEST(test_timestamps)
{
    ok("foo 1 1712345678901\nbar 2 -5\nbaz 3 +7\n", TEXT);
    ck_assert(G.r[0].has_ts);
    ck_assert_int_eq(G.r[0].ts, 1712345678901LL);
    ck_assert_int_eq(G.r[1].ts, -5);
    ck_assert_int_eq(G.r[2].ts, 7);
    ok("foo 1 9223372036854775807\n", TEXT);
    ck_assert_int_eq(G.r[0].ts, INT64_MAX);

    ok("# TYPE foo counter\nfoo_total 1 1712345678.901\nfoo_created 1 1.7e9\n# EOF\n", OM);
    ck_assert_int_eq(G.r[0].ts, 1712345678901LL);
    ck_assert_int_eq(G.r[1].ts, 1700000000000LL);
}
END_TEST

START_TEST(test_comments_blank_lines)
{
    ok("# a comment\n\n   \n\t\n#no-space comment\n# HELPER is not HELP\nfoo 1\n#\n", TEXT);
    ck_assert_uint_eq(G.n, 1);
    ck_assert_uint_eq(G.nm, 0);
    ck_assert_uint_eq(G.r[0].line, 7);
    ok("", TEXT);
    ck_assert_uint_eq(G.n, 0);
    ok("foo 1\n   ", TEXT); /* trailing blanks without a newline are nothing */
}
END_TEST

START_TEST(test_help)
{
    ok("# HELP foo Some \\\\ text\\nwith escapes and \"quotes\".\n# HELP bar\nfoo 1\n", TEXT);
    ck_assert_uint_eq(G.nm, 2);
    ck_assert_int_eq(G.m[0].kind, PROMTEXT_META_HELP);
    ck_assert_str_eq(G.m[0].name, "foo");
    ck_assert_str_eq(G.m[0].text, "Some \\ text\nwith escapes and \"quotes\".");
    ck_assert_str_eq(G.m[1].text, "");
    ok("#   HELP  foo\t spaced out\n", TEXT);
    ck_assert_str_eq(G.m[0].text, "spaced out");
}
END_TEST

START_TEST(test_types_and_suffixes)
{
    ok("# TYPE c_total counter\n"
       "c_total 5\n"
       "# TYPE g gauge\n"
       "g -1.5\n"
       "# TYPE h histogram\n"
       "h_bucket{le=\"0.1\"} 1\n"
       "h_bucket{le=\"+Inf\"} 3\n"
       "h_sum 0.7\n"
       "h_count 3\n"
       "# TYPE s summary\n"
       "s{quantile=\"0.99\"} 0.2\n"
       "s_sum 9\n"
       "s_count 4\n"
       "# TYPE u untyped\n"
       "u 1\n",
       TEXT);
    ck_assert_uint_eq(G.n, 10);
    ck_assert_uint_eq(G.nm, 5);
    ck_assert_int_eq(G.m[2].type, PROMTEXT_HISTOGRAM);
    ck_assert_int_eq(G.r[0].type, PROMTEXT_COUNTER);
    ck_assert_int_eq(G.r[0].suffix, PROMTEXT_SFX_NONE);
    ck_assert_str_eq(G.r[0].family, "c_total");
    ck_assert_int_eq(G.r[1].type, PROMTEXT_GAUGE);
    ck_assert_int_eq(G.r[2].type, PROMTEXT_HISTOGRAM);
    ck_assert_int_eq(G.r[2].suffix, PROMTEXT_SFX_BUCKET);
    ck_assert_str_eq(G.r[2].family, "h");
    ck_assert(G.r[2].bound == 0.1);
    ck_assert(isinf(G.r[3].bound));
    ck_assert_int_eq(G.r[4].suffix, PROMTEXT_SFX_SUM);
    ck_assert_int_eq(G.r[5].suffix, PROMTEXT_SFX_COUNT);
    ck_assert(G.r[5].value == 3);
    ck_assert_int_eq(G.r[6].type, PROMTEXT_SUMMARY);
    ck_assert_int_eq(G.r[6].suffix, PROMTEXT_SFX_NONE);
    ck_assert(G.r[6].bound == 0.99);
    ck_assert_int_eq(G.r[7].suffix, PROMTEXT_SFX_SUM);
    ck_assert_int_eq(G.r[9].type, PROMTEXT_UNTYPED);
}
END_TEST

START_TEST(test_families_interleaved)
{
    /* a family seen again after another one still gets its TYPE */
    ok("# TYPE a counter\na 1\n# TYPE h histogram\nh_count 0\nb 2\na 3\nh_bucket{le=\"+Inf\"} 0\n",
       TEXT);
    ck_assert_uint_eq(G.n, 5);
    ck_assert_int_eq(G.r[2].type, PROMTEXT_UNTYPED);
    ck_assert_int_eq(G.r[3].type, PROMTEXT_COUNTER);
    ck_assert_str_eq(G.r[4].family, "h");
    ck_assert_int_eq(G.r[4].suffix, PROMTEXT_SFX_BUCKET);
    /* _bucket of an untyped family is just a name */
    ok("x_bucket{le=\"oops\"} 1\n", TEXT);
    ck_assert_int_eq(G.r[0].type, PROMTEXT_UNTYPED);
    ck_assert_str_eq(G.r[0].family, "x_bucket");
}
END_TEST

START_TEST(test_quoted_names)
{
    ok("# TYPE \"my.metric\" gauge\n"
       "{\"my.metric\", \"some.label\"=\"v\", a=\"b\"} 1\n"
       "{\"my.metric\"} 2\n"
       "{a=\"b\", \"my.metric\"} 3\n"
       "{\"esc\\\"aped\"} 4\n",
       TEXT);
    ck_assert_uint_eq(G.n, 4);
    ck_assert_str_eq(G.r[0].name, "my.metric");
    ck_assert_int_eq(G.r[0].type, PROMTEXT_GAUGE);
    ck_assert_str_eq(G.r[0].labels, "some.label=v,a=b");
    ck_assert_str_eq(G.r[1].labels, "");
    ck_assert_str_eq(G.r[2].name, "my.metric");
    ck_assert_str_eq(G.r[2].labels, "a=b");
    ck_assert_str_eq(G.r[3].name, "esc\"aped");
}
END_TEST

START_TEST(test_openmetrics)
{
    ok("# TYPE req counter\n"
       "# UNIT req_seconds seconds\n"
       "# HELP req Requests.\n"
       "req_total{code=\"200\"} 10 # {trace_id=\"abc\"} 1 1712345678.5\n"
       "req_created{code=\"200\"} 1712000000.25\n"
       "# TYPE lat_seconds histogram\n"
       "# UNIT lat_seconds seconds\n"
       "lat_seconds_bucket{le=\"0.5\"} 2 # {} 0.3\n"
       "lat_seconds_bucket{le=\"+Inf\"} 4\n"
       "lat_seconds_count 4\n"
       "lat_seconds_sum 1.5\n"
       "lat_seconds_created 1712000000\n"
       "# TYPE gh gaugehistogram\n"
       "gh_bucket{le=\"1\"} 1\n"
       "gh_gcount 1\n"
       "gh_gsum 0.5\n"
       "# TYPE st stateset\n"
       "st{st=\"a\"} 1\n"
       "# TYPE bi info\n"
       "bi_info{version=\"1.2\"} 1\n"
       "# TYPE un unknown\n"
       "un 3\n"
       "# EOF\n",
       OM);
    ck_assert_uint_eq(G.n, 13);
    ck_assert_str_eq(G.r[0].name, "req_total");
    ck_assert_str_eq(G.r[0].family, "req");
    ck_assert_int_eq(G.r[0].suffix, PROMTEXT_SFX_TOTAL);
    ck_assert(G.r[0].exemplar);
    ck_assert(!G.r[0].has_ts);
    ck_assert_int_eq(G.r[1].suffix, PROMTEXT_SFX_CREATED);
    ck_assert(G.r[1].value == 1712000000.25);
    ck_assert(G.r[2].exemplar);
    ck_assert(G.r[2].bound == 0.5);
    ck_assert_int_eq(G.r[6].suffix, PROMTEXT_SFX_CREATED);
    ck_assert_int_eq(G.r[7].type, PROMTEXT_GAUGEHISTOGRAM);
    ck_assert_int_eq(G.r[8].suffix, PROMTEXT_SFX_GCOUNT);
    ck_assert_int_eq(G.r[9].suffix, PROMTEXT_SFX_GSUM);
    ck_assert_int_eq(G.r[10].type, PROMTEXT_STATESET);
    ck_assert_int_eq(G.r[11].suffix, PROMTEXT_SFX_INFO);
    ck_assert_int_eq(G.r[12].type, PROMTEXT_UNTYPED);
    ck_assert_int_eq(G.m[1].kind, PROMTEXT_META_UNIT);
    ck_assert_str_eq(G.m[1].text, "seconds");

    ok("a 1\n# EOF", OM); /* the final newline after # EOF is optional */
    ck_assert_uint_eq(G.n, 1);
    ok("# EOF\n", OM);
    ck_assert_uint_eq(G.n, 0);
    ok("# UNIT x meters\n", TEXT); /* a comment in 0.0.4, handed on when well formed */
    ck_assert_uint_eq(G.nm, 1);
    ck_assert_int_eq(G.m[0].kind, PROMTEXT_META_UNIT);
    ck_assert_str_eq(G.m[0].text, "meters");
    ok("# UNIT x\n# UNIT\n# UNIT x y z\n# UNIT 9x s\n", TEXT); /* malformed: comments only */
    ck_assert_uint_eq(G.nm, 0);
}
END_TEST

START_TEST(test_format_detection)
{
    ck_assert_int_eq(promtext_format_detect("a 1\n# EOF\n", 10), OM);
    ck_assert_int_eq(promtext_format_detect("# EOF", 5), OM);
    ck_assert_int_eq(promtext_format_detect("a 1\n", 4), TEXT);
    ck_assert_int_eq(promtext_format_detect("a 1\nx# EOF\n", 11), TEXT);
    ck_assert_int_eq(promtext_format_detect("", 0), TEXT);
    /* AUTO: OpenMetrics timestamps are seconds */
    ok("a 1 2.5\n# EOF\n", PROMTEXT_AUTO);
    ck_assert_int_eq(G.r[0].ts, 2500);
    ok("a 1 2500\n", PROMTEXT_AUTO);
    ck_assert_int_eq(G.r[0].ts, 2500);

    ck_assert_int_eq(promtext_format_from_content_type(
                         "application/openmetrics-text; version=1.0.0; charset=utf-8"),
                     OM);
    ck_assert_int_eq(promtext_format_from_content_type("Application/OpenMetrics-Text"), OM);
    ck_assert_int_eq(promtext_format_from_content_type("text/plain; version=0.0.4"), TEXT);
    ck_assert_int_eq(promtext_format_from_content_type(" text/plain;charset=utf-8"), TEXT);
    ck_assert_int_eq(promtext_format_from_content_type("text/plainx"), PROMTEXT_AUTO);
    ck_assert_int_eq(promtext_format_from_content_type("application/json"), PROMTEXT_AUTO);
    ck_assert_int_eq(promtext_format_from_content_type(""), PROMTEXT_AUTO);
    ck_assert_int_eq(promtext_format_from_content_type(NULL), PROMTEXT_AUTO);
}
END_TEST

START_TEST(test_callback_stops)
{
    const char *in = "a 1\nb 2\nc 3\n";

    ck_assert_int_eq(parse_stop(in, TEXT, 2), 7); /* also in steps */
    ck_assert_uint_eq(G.n, 2);
    /* no handler at all is fine */
    ck_assert_int_eq(promtext_parse(in, strlen(in), TEXT, NULL, NULL), 0);
}
END_TEST

START_TEST(test_not_nul_terminated)
{
    /* the parser must stop at len even without a NUL */
    char *buf = malloc(6);

    memcpy(buf, "foo 12", 6);
    memset(&G, 0, sizeof(G));
    {
        struct promtext_handler h = {on_sample, NULL, &G};
        struct promtext_err e;

        ck_assert_int_eq(promtext_parse(buf, 5, TEXT, &h, &e), -EINVAL); /* "foo 1" */
        ck_assert_uint_eq(G.n, 1);
        ck_assert(G.r[0].value == 1);
    }
    free(buf);
}
END_TEST

START_TEST(test_limits)
{
    char *in = malloc(PROMTEXT_MAX_LINE + 64);
    size_t o = 0;

    o += (size_t)sprintf(in + o, "m{");
    for (int i = 0; i < PROMTEXT_MAX_LABELS; i++)
        o += (size_t)sprintf(in + o, "l%d=\"v\",", i);
    strcpy(in + o, "} 1\n");
    ok(in, TEXT);
    ck_assert_uint_eq(G.n, 1);

    o = (size_t)sprintf(in, "m{");
    for (int i = 0; i <= PROMTEXT_MAX_LABELS; i++)
        o += (size_t)sprintf(in + o, "l%d=\"v\",", i);
    strcpy(in + o, "} 1\n");
    bad(in, TEXT, 1, 2 + 7 * 10 + 8 * 54 + 1, "more than 64 labels");

    memset(in, 'a', PROMTEXT_MAX_LINE + 10);
    strcpy(in + PROMTEXT_MAX_LINE + 10, " 1\n");
    bad(in, TEXT, 1, PROMTEXT_MAX_LINE + 1, "line longer");
    in[PROMTEXT_MAX_LINE - 2] = '\0';
    strcat(in, " 1\n"); /* exactly the limit */
    ck_assert_int_eq(promtext_parse(in, strlen(in), TEXT, NULL, &E), 0);
    free(in);
}
END_TEST

START_TEST(test_family_limit)
{
    size_t cap = (size_t)(PROMTEXT_MAX_FAMILIES + 1) * 16, o = 0;
    char *in = malloc(cap);

    for (int i = 0; i < PROMTEXT_MAX_FAMILIES; i++)
        o += (size_t)snprintf(in + o, cap - o, "m%d 1\n", i);
    ck_assert_int_eq(promtext_parse(in, o, TEXT, NULL, &E), 0);
    o += (size_t)snprintf(in + o, cap - o, "m 1\n");
    ck_assert_int_eq(promtext_parse(in, o, TEXT, NULL, &E), -EINVAL);
    ck_assert_uint_eq(E.line, PROMTEXT_MAX_FAMILIES + 1);
    ck_assert_ptr_nonnull(strstr(E.msg, "more than 65536 metric families"));
    free(in);
}
END_TEST

START_TEST(test_malformed)
{
    bad("foo\n", TEXT, 1, 4, "expected a value");
    bad("foo abc\n", TEXT, 1, 5, "invalid value");
    bad("ok 1\nfoo 1x\n", TEXT, 2, 5, "invalid value");
    bad("foo 0x10\n", TEXT, 1, 5, "invalid value");
    bad("foo +nan\n", TEXT, 1, 5, "invalid value");
    bad("foo infin\n", TEXT, 1, 5, "invalid value");
    bad("foo 1e\n", TEXT, 1, 5, "invalid value");
    bad("foo .\n", TEXT, 1, 5, "invalid value");
    bad("foo 1_000\n", TEXT, 1, 5, "invalid value");
    bad("foo 1e999\n", TEXT, 1, 5, "out of range");
    bad("foo-bar 1\n", TEXT, 1, 4, "invalid character");
    bad("9foo 1\n", TEXT, 1, 1, "expected a metric name");
    bad("foo{a=\"b} 1\n", TEXT, 1, 7, "unterminated");
    bad("foo{a=\"\\x\"} 1\n", TEXT, 1, 8, "invalid escape");
    bad("foo{a\"b\"} 1\n", TEXT, 1, 6, "expected '='");
    bad("foo{a=b} 1\n", TEXT, 1, 7, "expected '\"'");
    bad("foo{a=\"1\",a=\"2\"} 1\n", TEXT, 1, 11, "duplicate label");
    bad("foo{a=\"1\" b=\"2\"} 1\n", TEXT, 1, 11, "expected ',' or '}'");
    bad("foo{1a=\"x\"} 1\n", TEXT, 1, 5, "expected a label name");
    bad("foo{a=\"x\"\n", TEXT, 1, 10, "expected ',' or '}'");
    bad("foo{a=\"x\",\n", TEXT, 1, 4, "unterminated label set");
    bad("{a=\"b\"} 1\n", TEXT, 1, 1, "without a metric name");
    bad("foo{\"x\"} 1\n", TEXT, 1, 5, "given twice");
    bad("{\"\"} 1\n", TEXT, 1, 2, "empty metric name");
    bad("foo{a=\"1\"}2\n", TEXT, 1, 11, "blank after '}'");
    bad("foo{a=\"\xff\"} 1\n", TEXT, 1, 7, "invalid UTF-8");
    bad("f\xc3\xa9 1\n", TEXT, 1, 2, "invalid character '?' in metric name");
    bad("foo 1\x01\n", TEXT, 1, 5, "invalid value '1?'");
    bad("foo{a=\"\xed\xa0\x80\"} 1\n", TEXT, 1, 7, "invalid UTF-8"); /* a surrogate */
    bad("foo 1 1.5\n", TEXT, 1, 7, "invalid timestamp");
    bad("foo 1 9223372036854775808\n", TEXT, 1, 7, "out of range");
    bad("foo 1 2 3\n", TEXT, 1, 9, "after the timestamp");
    bad("foo 1 # {a=\"b\"} 1\n", TEXT, 1, 7, "after the value");
    bad("foo 1", TEXT, 1, 6, "lacks a newline");
    bad("# TYPE foo bar\n", TEXT, 1, 12, "unknown metric type");
    bad("# TYPE foo\n", TEXT, 1, 11, "unknown metric type");
    bad("# TYPE foo counter extra\n", TEXT, 1, 20, "exactly");
    bad("# TYPE foo unknown\n", TEXT, 1, 12, "unknown metric type");
    bad("# TYPE foo untyped\n# EOF\n", OM, 1, 12, "unknown metric type");
    bad("# TYPE foo gauge\n# TYPE foo counter\n", TEXT, 2, 8, "second TYPE");
    bad("foo 1\n# TYPE foo gauge\n", TEXT, 2, 8, "after its samples");
    bad("# HELP foo a\n# HELP foo b\n", TEXT, 2, 8, "second HELP");
    bad("# HELP\n", TEXT, 1, 7, "expected a blank and a metric name");
    bad("# HELP foo \xc3\x28\n", TEXT, 1, 12, "invalid UTF-8");
    bad("# TYPE h histogram\nh_bucket 1\n", TEXT, 2, 1, "without a 'le' label");
    bad("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", TEXT, 2, 14, "invalid le");
    bad("# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\n", TEXT, 2, 14, "invalid le");
    bad("# TYPE s summary\ns 1\n", TEXT, 2, 1, "without a 'quantile' label");
    bad("# TYPE h histogram\nh 1\n", TEXT, 2, 1, "lacks the suffix");
}
END_TEST

START_TEST(test_malformed_openmetrics)
{
    bad("a 1\n", OM, 2, 1, "missing # EOF");
    bad("a 1", OM, 1, 4, "missing # EOF");
    bad("", OM, 1, 1, "missing # EOF");
    bad("# EOF\na 1\n", OM, 2, 1, "content after # EOF");
    bad("# EOF\n\n", OM, 2, 1, "content after # EOF");
    bad("# EOF x\n", OM, 1, 6, "after # EOF");
    bad("# random comment\n# EOF\n", OM, 1, 1, "only HELP, TYPE, UNIT and EOF");
    bad("#x\n# EOF\n", OM, 1, 1, "only HELP");
    bad("# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n", OM, 2, 5, "exemplar allowed only");
    bad("# TYPE c counter\nc_total 1 #{a=\"b\"} 1\n# EOF\n", OM, 2, 12, "expected ' '");
    bad("# TYPE c counter\nc_total 1 # a 1\n# EOF\n", OM, 2, 13, "expected '{'");
    bad("# TYPE c counter\nc_total 1 # {a=\"b\"}\n# EOF\n", OM, 2, 20, "exemplar's value");
    bad("# TYPE c counter\nc_total 1 # {a=\"b\"} x\n# EOF\n", OM, 2, 21, "invalid exemplar value");
    bad("# TYPE c counter\nc_total 1 # {a=\"b\"} 1 2 3\n# EOF\n", OM, 2, 25, "after the exemplar");
    bad("# UNIT foo_seconds milliseconds\n# EOF\n", OM, 1, 20, "not a suffix");
    bad("# UNIT foo seconds\n# EOF\n", OM, 1, 12, "not a suffix");
    bad("foo_seconds 1\n# UNIT foo_seconds seconds\n# EOF\n", OM, 2, 8, "after its samples");
    bad("# TYPE c counter\nc_total 1 x\n# EOF\n", OM, 2, 11, "invalid timestamp");
    bad("# TYPE c counter\nc_total 1 NaN\n# EOF\n", OM, 2, 11, "timestamp out of range");
    {
        char in[512], x[200];

        memset(x, 'x', 128);
        x[128] = '\0';
        snprintf(in, sizeof(in), "# TYPE c counter\nc_total 1 # {a=\"%s\"} 1\n# EOF\n", x);
        bad(in, OM, 2, 11, "longer than 128"); /* 129 characters */
        x[127] = '\0';
        snprintf(in, sizeof(in), "# TYPE c counter\nc_total 1 # {a=\"%s\"} 1\n# EOF\n", x);
        ok(in, OM); /* exactly 128 */
    }
}
END_TEST

Suite *promtext_suite(void)
{
    Suite *s = suite_create("promtext");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_plain_sample);
    tcase_add_test(tc, test_labels_and_escapes);
    tcase_add_test(tc, test_label_helpers);
    tcase_add_test(tc, test_values_exact);
    tcase_add_test(tc, test_values_special);
    tcase_add_test(tc, test_number_helper);
    tcase_add_test(tc, test_timestamps);
    tcase_add_test(tc, test_comments_blank_lines);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_types_and_suffixes);
    tcase_add_test(tc, test_families_interleaved);
    tcase_add_test(tc, test_quoted_names);
    tcase_add_test(tc, test_openmetrics);
    tcase_add_test(tc, test_format_detection);
    tcase_add_test(tc, test_callback_stops);
    tcase_add_test(tc, test_not_nul_terminated);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_family_limit);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_malformed_openmetrics);
    suite_add_tcase(s, tc);
    return s;
}
