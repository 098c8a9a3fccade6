/*
 * cfg — the snapshot's lifetime (refs, the table's defaults), the parse
 * pipeline (defaults, then the YAML walk, then the rules across keys, then
 * the hash), loading a file, and the error list with its text.
 *
 * Must never include <yaml.h> (cfg_yaml.c is the YAML adapter), know a key
 * by name (cfg_keys.c and cfg_build.c do), log, or keep state between
 * calls. The only I/O is reading the file in cfg_load.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/cfg-int.h"
#include "config/smallfile.h"

/* ---- the error list ---------------------------------------------------- */

void cfg_errs_vadd(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, va_list ap)
{
    struct cfg_err *e;

    if (errs->n >= CFG_MAX_ERRORS) {
        errs->dropped++;
        return;
    }
    e = &errs->e[errs->n++];
    e->line = at.line;
    e->column = at.line ? at.column : 0;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void cfg_errs_add(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_errs_vadd(errs, at, fmt, ap);
    va_end(ap);
}

/* ---- snapshot ---------------------------------------------------------- */

struct cfg *cfg_ref(struct cfg *c)
{
    if (c)
        c->refs++;
    return c;
}

struct cfg *cfg_unref(struct cfg *c)
{
    if (!c || --c->refs > 0)
        return NULL;
    for (size_t i = 0; i < cfg_keys_n; i++)
        if (cfg_type_is_string(cfg_keys[i].type))
            free(*(char **)cfg_key_field(c, &cfg_keys[i]));
    free(c);
    return NULL;
}

/* A snapshot holding the table defaults, or an error in errs. */
static int defaults_new(struct cfg **ret, struct cfg_errs *errs)
{
    struct cfg *c = calloc(1, sizeof(*c));
    char err[170];
    int r = 0;

    if (!c) {
        cfg_errs_add(errs, CFG_NOWHERE, "out of memory");
        return -ENOMEM;
    }
    c->refs = 1;
    for (size_t i = 0; i < cfg_keys_n; i++) {
        r = cfg_value_set(c, &cfg_keys[i], cfg_keys[i].def, err, sizeof(err));
        if (r < 0) {
            if (r == -ENOMEM)
                cfg_errs_add(errs, CFG_NOWHERE, "out of memory");
            else
                cfg_errs_add(errs, CFG_NOWHERE, "internal: default of %s: %s", cfg_keys[i].path,
                             err);
            goto fail;
        }
    }
    *ret = c;
    return 0;
fail:
    cfg_unref(c);
    return r;
}

/* ---- parse ------------------------------------------------------------- */

static void errs_sort(struct cfg_errs *errs)
{
    /* Insertion sort, stable: the walk's errors are in order already. */
    for (unsigned i = 1; i < errs->n; i++) {
        struct cfg_err e = errs->e[i];
        unsigned j = i;

        while (j > 0 && (errs->e[j - 1].line > e.line ||
                         (errs->e[j - 1].line == e.line && errs->e[j - 1].column > e.column))) {
            errs->e[j] = errs->e[j - 1];
            j--;
        }
        errs->e[j] = e;
    }
}

int cfg_parse(const char *buf, size_t len, const char *name, struct cfg **ret,
              struct cfg_errs *errs)
{
    struct cfg_errs scratch;
    struct cfg_build b = {0};
    int r;

    if (!errs)
        errs = &scratch;
    errs->n = 0;
    errs->dropped = 0;
    b.errs = errs;
    if (!ret || (!buf && len)) {
        cfg_errs_add(errs, CFG_NOWHERE, "internal: bad arguments");
        return -EINVAL;
    }
    if (len > CFG_MAX_FILE_BYTES) {
        cfg_errs_add(errs, CFG_NOWHERE, "the file is %zu bytes; the limit is %d bytes", len,
                     CFG_MAX_FILE_BYTES);
        return -EFBIG;
    }
    r = defaults_new(&b.c, errs);
    if (r < 0)
        return r;
    r = cfg_yaml_read(&b, buf ? buf : "", len);
    if (r == 0 && !b.nomem)
        r = cfg_build_finish(&b);
    if (b.nomem || r == -ENOMEM) {
        cfg_errs_add(errs, CFG_NOWHERE, "out of memory");
        r = -ENOMEM;
    } else if (r == 0 && (errs->n > 0 || errs->dropped > 0))
        r = -EINVAL;
    errs_sort(errs);
    if (r < 0) {
        cfg_unref(b.c);
        return r;
    }
    snprintf(b.c->source, sizeof(b.c->source), "%s", name ? name : "(config)");
    b.c->metrics.latency_quantile = b.c->analysis.latency_quantile;
    cfg_hash_render(b.c);
    *ret = b.c;
    return 0;
}

/* A line with nothing but a document marker ("---" or "..."), maybe a comment after it. */
static bool marker_line(const char *p, size_t n)
{
    size_t i = 3;

    if (n < 3 || (memcmp(p, "---", 3) && memcmp(p, "...", 3)))
        return false;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    return i == n || (i > 3 && p[i] == '#');
}

bool cfg_text_blank(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t end = i, j = i;

        while (end < len && buf[end] != '\n')
            end++;
        while (j < end && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r'))
            j++;
        if (j < end && buf[j] != '#' && !marker_line(buf + j, end - j))
            return false;
        i = end + 1;
    }
    return true;
}

int cfg_default(struct cfg **ret, struct cfg_errs *errs)
{
    const char *y = cfg_default_yaml();

    return cfg_parse(y, strlen(y), "(embedded defaults)", ret, errs);
}

int cfg_load(const char *path, struct cfg **ret, struct cfg_errs *errs)
{
    struct cfg_errs scratch;
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int r;

    if (!errs)
        errs = &scratch;
    errs->n = 0;
    errs->dropped = 0;
    if (!path || !ret) {
        cfg_errs_add(errs, CFG_NOWHERE, "internal: bad arguments");
        return -EINVAL;
    }
    r = smallfile_read(path, CFG_MAX_FILE_BYTES, &buf, &len);
    if (r == -EISDIR)
        cfg_errs_add(errs, CFG_NOWHERE, "is a directory; expected a YAML file");
    else if (r == -EINVAL)
        cfg_errs_add(errs, CFG_NOWHERE, "not a regular file");
    else if (r == -EFBIG && stat(path, &st) == 0 && st.st_size > CFG_MAX_FILE_BYTES)
        cfg_errs_add(errs, CFG_NOWHERE, "the file is %lld bytes; the limit is %d bytes",
                     (long long)st.st_size, CFG_MAX_FILE_BYTES);
    else if (r == -EFBIG)
        cfg_errs_add(errs, CFG_NOWHERE, "the file is over the limit of %d bytes",
                     CFG_MAX_FILE_BYTES);
    else if (r < 0)
        cfg_errs_add(errs, CFG_NOWHERE, "cannot open: %s", strerror(-r));
    if (r < 0)
        return r;
    if (cfg_text_blank(buf, len)) {
        /* An empty or comment-only file is a torn write or a wrong mount, not a config. */
        r = -EINVAL;
        cfg_errs_add(errs, CFG_NOWHERE,
                     "the file has no settings (empty or only comments); "
                     "write {} to run on the defaults");
        goto fail;
    }
    r = cfg_parse(buf, len, path, ret, errs);
fail:
    free(buf);
    return r;
}

/* ---- error text -------------------------------------------------------- */

int cfg_errs_render(const struct cfg_errs *errs, const char *file, char *buf, size_t size)
{
    struct cfg_out o = {.buf = buf, .size = size};

    if (buf && size)
        buf[0] = '\0';
    if (!errs)
        return 0;
    if (!file)
        file = "(config)";
    for (unsigned i = 0; i < errs->n && i < CFG_MAX_ERRORS; i++) {
        const struct cfg_err *e = &errs->e[i];

        cfg_out_puts(&o, file);
        if (e->line)
            cfg_out_printf(&o, ":%u:%u", e->line, e->column);
        cfg_out_puts(&o, ": ");
        cfg_out_write(&o, e->msg, strnlen(e->msg, sizeof(e->msg)));
        cfg_out_puts(&o, "\n");
    }
    if (errs->dropped) {
        cfg_out_puts(&o, file);
        cfg_out_printf(&o, ": ...and %u more\n", errs->dropped);
    }
    return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}
