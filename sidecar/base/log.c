/*
 * log — renders one event per line and writes it to stderr with a single
 * write(2), so lines from one process never interleave. Owns the level and
 * format settings; holds no other state. Never calls libevent (it is also
 * the sink for libevent's own messages).
 */
#include "sidecar/base/log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sidecar/base/clock.h"
#include "sidecar/base/jsonw.h"

enum log_level log_level_min = LOG_LVL_INFO;
static bool log_json = true;

void log_setup(enum log_level min, bool json)
{
    log_level_min = min;
    log_json = json;
}

const char *log_level_name(enum log_level l)
{
    switch (l) {
    case LOG_LVL_DEBUG:
        return "debug";
    case LOG_LVL_INFO:
        return "info";
    case LOG_LVL_WARN:
        return "warn";
    case LOG_LVL_ERROR:
        return "error";
    }
    return "info";
}

/* Room kept free for the truncation marker. */
#define LOG_CUT_RESERVE 24

struct out {
    char *p;
    size_t size, len; /* len may pass size: then the line is cut */
};

static void out_mem(struct out *o, const char *s, size_t n)
{
    if (o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->p + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void out_str(struct out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static int out_emit(void *arg, const char *p, size_t n)
{
    out_mem(arg, p, n);
    return 0;
}

/*
 * s escaped by jsonw_escape, quoted always in JSON and in text when it has
 * blanks, quotes, '=' or backslashes.
 */
static void out_escaped(struct out *o, const char *s, bool json)
{
    bool quote = json || !*s || strpbrk(s, " \t\"=\\\n\r") != NULL;

    if (quote)
        out_mem(o, "\"", 1);
    jsonw_escape(s, out_emit, o);
    if (quote)
        out_mem(o, "\"", 1);
}

static void out_field(struct out *o, bool json, const struct log_field *f)
{
    char num[40];

    if (json) {
        out_mem(o, ",\"", 2);
        out_str(o, f->key);
        out_mem(o, "\":", 2);
    } else {
        out_mem(o, " ", 1);
        out_str(o, f->key);
        out_mem(o, "=", 1);
    }
    switch (f->type) {
    case LOG_F_STR:
        out_escaped(o, f->v.s ? f->v.s : "", json);
        return;
    case LOG_F_RAW:
        if (json)
            out_str(o, f->v.s ? f->v.s : "null");
        else
            out_escaped(o, f->v.s ? f->v.s : "", false);
        return;
    case LOG_F_INT:
        snprintf(num, sizeof(num), "%lld", f->v.i);
        break;
    case LOG_F_UINT:
        snprintf(num, sizeof(num), "%llu", f->v.u);
        break;
    case LOG_F_DBL:
        if (isfinite(f->v.d))
            jsonw_num_format(num, f->v.d);
        else
            snprintf(num, sizeof(num), json ? "null" : "%s", isnan(f->v.d) ? "NaN" : "Inf");
        break;
    case LOG_F_BOOL:
        snprintf(num, sizeof(num), "%s", f->v.b ? "true" : "false");
        break;
    }
    out_str(o, num);
}

size_t log_render(char *buf, size_t size, bool json, const char *ts, enum log_level lvl,
                  const char *event, const struct log_field *f, size_t n)
{
    struct out o = {.p = buf, .size = size > 2 ? size - 2 : 0};

    if (json) {
        out_str(&o, "{\"ts\":\"");
        out_str(&o, ts);
        out_str(&o, "\",\"level\":\"");
        out_str(&o, log_level_name(lvl));
        out_str(&o, "\",\"event\":");
        out_escaped(&o, event, true);
    } else {
        out_str(&o, "ts=");
        out_str(&o, ts);
        out_str(&o, " level=");
        out_str(&o, log_level_name(lvl));
        out_str(&o, " event=");
        out_escaped(&o, event, false);
    }
    /* Whole fields only: one that does not fit is dropped with the rest. */
    for (size_t i = 0; i < n; i++) {
        size_t mark = o.len;

        out_field(&o, json, &f[i]);
        if (o.len + LOG_CUT_RESERVE > o.size) {
            o.len = mark;
            out_str(&o, json ? ",\"truncated\":true" : " truncated=true");
            break;
        }
    }
    if (o.len > o.size)
        o.len = o.size; /* only when even the head did not fit */
    if (json)
        buf[o.len++] = '}';
    buf[o.len++] = '\n';
    buf[o.len] = '\0';
    return o.len;
}

void log_write(enum log_level lvl, const char *event, const struct log_field *f, size_t n)
{
    char line[4096], ts[64];
    int64_t now = clock_wall_ms();
    time_t sec = (time_t)(now / 1000);
    struct tm tm;
    size_t len;

    gmtime_r(&sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now % 1000));
    len = log_render(line, sizeof(line) - 1, log_json, ts, lvl, event, f, n);
    /* A failed or short write to stderr has nowhere better to be reported. */
    if (write(STDERR_FILENO, line, len) < 0)
        return;
}
