/*
 * cfg_render — a snapshot as text: the canonical key=value lines (in table
 * order) that the config hash is taken over, and the Markdown reference of
 * every key (`--print-reference`, the README's table).
 *
 * Must never allocate, do I/O, or change a snapshot beyond its hash field;
 * the hash's input is a contract (a changed line changes every hash).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg-int.h"

void cfg_out_write(struct cfg_out *o, const char *s, size_t n)
{
    if (o->hashing) {
        for (size_t i = 0; i < n; i++) {
            o->fnv ^= (unsigned char)s[i];
            o->fnv *= 0x100000001b3ULL;
        }
    }
    if (o->buf && o->len < o->size) {
        size_t room = o->size - o->len - 1;
        memcpy(o->buf + o->len, s, n < room ? n : room);
        o->buf[o->len + (n < room ? n : room)] = '\0';
    }
    o->len += n;
}

void cfg_out_puts(struct cfg_out *o, const char *s)
{
    cfg_out_write(o, s, strlen(s));
}

void cfg_out_printf(struct cfg_out *o, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        cfg_out_write(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A string in double quotes, with ", \ and control characters escaped. */
static void out_quoted(struct cfg_out *o, const char *s)
{
    cfg_out_puts(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            cfg_out_printf(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            cfg_out_printf(o, "\\x%02x", c);
        else
            cfg_out_write(o, s, 1);
    }
    cfg_out_puts(o, "\"");
}

static void out_value(struct cfg_out *o, const struct cfg *c, const struct cfg_key *k)
{
    const void *v = cfg_key_field(c, k);
    char tmp[32];

    switch (k->type) {
    case CFG_T_STRING:
    case CFG_T_ADDRESS:
    case CFG_T_URL:
    case CFG_T_PATH:
        out_quoted(o, *(char *const *)v);
        break;
    case CFG_T_DURATION:
        cfg_duration_render(*(const uint32_t *)v, tmp, sizeof(tmp));
        cfg_out_puts(o, tmp);
        break;
    case CFG_T_UINT:
        if ((k->flags & CFG_K_AUTO) && *(const uint32_t *)v == 0)
            cfg_out_puts(o, "auto");
        else
            cfg_out_printf(o, "%" PRIu32, *(const uint32_t *)v);
        break;
    case CFG_T_DOUBLE:
        cfg_out_printf(o, "%.17g", *(const double *)v);
        break;
    case CFG_T_BOOL:
        cfg_out_puts(o, *(const bool *)v ? "true" : "false");
        break;
    case CFG_T_ENUM:
        cfg_out_puts(o, k->names[*(const int *)v]);
        break;
    }
}

/* key=value lines of every effective value, in table order, into the hash. */
void cfg_hash_render(struct cfg *c)
{
    struct cfg_out o = {.hashing = true, .fnv = 0xcbf29ce484222325ULL};

    for (size_t i = 0; i < cfg_keys_n; i++) {
        cfg_out_puts(&o, cfg_keys[i].path);
        cfg_out_puts(&o, "=");
        out_value(&o, c, &cfg_keys[i]);
        cfg_out_puts(&o, "\n");
    }
    for (size_t i = 0; i < CFG_PROBES; i++) {
        const struct cfg_probe *p = (const struct cfg_probe *)((const char *)c + cfg_probes[i].off);
        cfg_out_printf(&o, "%s.kind=%s\n", cfg_probes[i].path, cfg_probe_kind_name(p->kind));
    }
    snprintf(c->hash, sizeof(c->hash), "%016" PRIx64, o.fnv);
}

/* Markdown cell text: '|' would end the cell. */
static void out_cell(struct cfg_out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            cfg_out_puts(o, "\\|");
        else
            cfg_out_write(o, s, 1);
    }
}

size_t cfg_render_reference(char *buf, size_t size)
{
    struct cfg_out o = {.buf = buf, .size = size};

    if (buf && size)
        buf[0] = '\0';
    cfg_out_puts(&o, "| key | type | default | bounds / values | meaning |\n");
    cfg_out_puts(&o, "|---|---|---|---|---|\n");
    for (size_t i = 0; i < cfg_keys_n; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        char range[96];

        cfg_out_printf(&o, "| `%s` | %s | `", k->path, cfg_type_name(k->type));
        out_cell(&o, *k->def ? k->def : "\"\"");
        cfg_out_puts(&o, "` | ");
        switch (k->type) {
        case CFG_T_DURATION:
        case CFG_T_UINT:
        case CFG_T_DOUBLE:
            cfg_key_range_text(k, range, sizeof(range));
            cfg_out_puts(&o, range);
            break;
        case CFG_T_BOOL:
            cfg_out_puts(&o, "true, false");
            break;
        case CFG_T_ENUM:
            for (int j = 0; k->names[j]; j++)
                cfg_out_printf(&o, "%s%s", j ? ", " : "", k->names[j]);
            break;
        case CFG_T_ADDRESS:
            cfg_out_puts(&o, (k->flags & CFG_K_HOST)
                                 ? "host:port, IPv6 as [::1]:port"
                                 : "host:port (no host: all interfaces), IPv6 as [::1]:port");
            break;
        case CFG_T_URL:
            cfg_out_puts(&o, (k->flags & CFG_K_HTTPS) ? "https:// URL" : "http:// or https:// URL");
            break;
        case CFG_T_PATH:
            cfg_out_puts(&o, "absolute path");
            break;
        case CFG_T_STRING:
            out_cell(&o, k->hint ? k->hint : "text");
            break;
        }
        if (cfg_type_is_string(k->type) && (k->flags & CFG_K_EMPTY))
            cfg_out_puts(&o, ", or `\"\"`");
        cfg_out_puts(&o, " | ");
        out_cell(&o, k->doc);
        cfg_out_puts(&o, " |\n");
    }
    return o.len;
}
