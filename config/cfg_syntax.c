/*
 * cfg_syntax — the text forms of config values: durations, host:port,
 * URLs, Prometheus label and metric names, label matcher lists.
 *
 * Pure string functions: they know no keys, bounds or YAML, allocate
 * nothing and never log. Messages go into the caller's buffer and quote
 * at most a number of the text; the caller decides whether to quote the
 * value (not a URL's: it may carry a secret).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/cfg-int.h"
#include "config/selector.h"

const char *cfg_show(const char *s, size_t len, char *buf, size_t size)
{
    size_t n = 0, i = 0;

    if (size == 0)
        return buf;
    while (i < len) {
        unsigned char ch = (unsigned char)s[i];
        size_t w = 1;

        if (ch >= 0xc0)
            w = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
        if (w > len - i)
            w = len - i;
        if (n + w + 4 > size) { /* room for "..." and the NUL */
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        if (ch < 0x20 || ch == 0x7f)
            buf[n] = '?';
        else
            memcpy(buf + n, s + i, w);
        n += ch < 0x20 || ch == 0x7f ? 1 : w;
        i += w;
    }
    buf[n] = '\0';
    return buf;
}

/* ---- durations -------------------------------------------------------- */

/* Largest first: the order a duration must write them in. */
static const struct {
    const char *name;
    uint64_t ms;
} units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};

int cfg_duration_parse(const char *s, uint64_t *ret_ms, char *err, size_t errlen)
{
    uint64_t total = 0;
    size_t last = 0; /* index + 1 of the previous unit */
    const char *p = s;

    if (!s || !*s) {
        snprintf(err, errlen, "empty; write a number and a unit, e.g. 10s");
        return -EINVAL;
    }
    if (*p == '-') {
        snprintf(err, errlen, "negative durations are not allowed");
        return -EINVAL;
    }
    while (*p) {
        uint64_t n = 0;
        size_t u = CFG_ARRAY_SIZE(units), digits = 0;

        if (!isdigit((unsigned char)*p)) {
            snprintf(err, errlen, "expected a number, e.g. 10s or 1m30s");
            return -EINVAL;
        }
        for (; isdigit((unsigned char)*p); p++, digits++)
            if (n <= UINT32_MAX)
                n = n * 10 + (uint64_t)(*p - '0');
        if (*p == '.' || *p == ',') {
            snprintf(err, errlen,
                     "fractions are not supported; use a smaller unit (1500ms, not 1.5s)");
            return -EINVAL;
        }
        if (!*p) {
            snprintf(err, errlen, "a unit is required after %.*s: ms, s, m or h (e.g. 10s)",
                     digits > 12 ? 12 : (int)digits, p - digits);
            return -EINVAL;
        }
        /* The longest name that matches: "ms", not "m". */
        for (size_t i = 0; i < CFG_ARRAY_SIZE(units); i++) {
            size_t len = strlen(units[i].name);

            if (strncmp(p, units[i].name, len) == 0 &&
                (u == CFG_ARRAY_SIZE(units) || len > strlen(units[u].name)))
                u = i;
        }
        if (u == CFG_ARRAY_SIZE(units)) {
            snprintf(err, errlen, "unknown unit; use ms, s, m or h");
            return -EINVAL;
        }
        if (last && u + 1 <= last) {
            snprintf(err, errlen, "units must go from largest to smallest, each once (e.g. 1h30m)");
            return -EINVAL;
        }
        last = u + 1;
        p += strlen(units[u].name);
        if (n > UINT32_MAX || n * units[u].ms > UINT32_MAX - total) {
            snprintf(err, errlen, "too long; the longest duration is 4294967295ms (about 49 days)");
            return -EINVAL;
        }
        total += n * units[u].ms;
    }
    *ret_ms = total;
    return 0;
}

/* Canonical text of a duration: largest units first, "0s" for zero. */
void cfg_duration_render(uint64_t ms, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    if (ms == 0) {
        snprintf(buf, size, "0s");
        return;
    }
    for (size_t i = 0; i < CFG_ARRAY_SIZE(units) && n < size; i++) {
        if (ms >= units[i].ms) {
            int w = snprintf(buf + n, size - n, "%" PRIu64 "%s", ms / units[i].ms, units[i].name);
            if (w < 0)
                return;
            n += (size_t)w;
            ms %= units[i].ms;
        }
    }
}

static bool is_label_start(int c)
{
    return isalpha(c) || c == '_';
}

static bool is_label_char(int c)
{
    return isalnum(c) || c == '_';
}

int cfg_check_label_name(const char *s, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!is_label_start(*p)) {
        snprintf(err, errlen, "not a label name: must start with a letter or _");
        return -EINVAL;
    }
    while (is_label_char(*p))
        p++;
    if (*p) {
        snprintf(err, errlen, "not a label name: only letters, digits and _ (at character %zu)",
                 (size_t)(p - (const unsigned char *)s) + 1);
        return -EINVAL;
    }
    return 0;
}

int cfg_check_metric_name(const char *s, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!is_label_start(*p) && *p != ':') {
        snprintf(err, errlen, "not a metric name: must start with a letter, _ or :");
        return -EINVAL;
    }
    while (is_label_char(*p) || *p == ':')
        p++;
    if (*p) {
        snprintf(err, errlen, "not a metric name: only letters, digits, _ and : (at character %zu)",
                 (size_t)(p - (const unsigned char *)s) + 1);
        return -EINVAL;
    }
    return 0;
}

/* The scraper's grammar (config/selector.h): one parser for both. */
int cfg_check_selector(const char *s, char *err, size_t errlen)
{
    struct selector sel;
    struct selector_err e;

    if (selector_parse(s, &sel, &e) == 0)
        return 0;
    if (e.column)
        snprintf(err, errlen, "%s (at character %u)", e.msg, e.column);
    else
        snprintf(err, errlen, "%s", e.msg);
    return -EINVAL;
}

/*
 * host:port where host may be [IPv6]; the host may be empty (all
 * interfaces) unless host_required; port_required false allows no :port.
 */
int cfg_check_hostport(const char *s, size_t len, bool host_required, bool port_required, char *err,
                       size_t errlen)
{
    const char *end = s + len, *colon;
    size_t hostlen;

    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);

        if (!rb) {
            snprintf(err, errlen, "missing ] after the IPv6 address");
            return -EINVAL;
        }
        if (rb == s + 1) {
            snprintf(err, errlen, "empty IPv6 address in []");
            return -EINVAL;
        }
        for (const char *h = s + 1; h < rb; h++) {
            if (!isxdigit((unsigned char)*h) && *h != ':' && *h != '.') {
                snprintf(err, errlen, "bad IPv6 address in []");
                return -EINVAL;
            }
        }
        colon = rb + 1;
        if (colon < end && *colon != ':') {
            snprintf(err, errlen, "expected :port after ]");
            return -EINVAL;
        }
        if (colon == end)
            colon = NULL;
    } else {
        colon = NULL;
        for (const char *h = s; h < end; h++)
            if (*h == ':')
                colon = h;
        hostlen = (size_t)((colon ? colon : end) - s);
        if (memchr(s, ':', hostlen)) {
            snprintf(err, errlen, "an IPv6 address needs brackets, e.g. [::1]:8080");
            return -EINVAL;
        }
        if (hostlen == 0 && host_required) {
            snprintf(err, errlen, "a host is required, e.g. 127.0.0.1:3000");
            return -EINVAL;
        }
        for (size_t i = 0; i < hostlen; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!isalnum(c) && c != '.' && c != '-' && c != '_') {
                snprintf(err, errlen, "bad character '%c' in the host name", isprint(c) ? c : '?');
                return -EINVAL;
            }
        }
    }
    if (!colon) {
        if (port_required) {
            snprintf(err, errlen, "expected host:port, e.g. 127.0.0.1:8080");
            return -EINVAL;
        }
        return 0;
    }
    {
        unsigned long port = 0;
        const char *p = colon + 1;

        if (p == end) {
            snprintf(err, errlen, "the port is missing after :");
            return -EINVAL;
        }
        for (; p < end; p++) {
            if (!isdigit((unsigned char)*p)) {
                snprintf(err, errlen, "the port must be a number");
                return -EINVAL;
            }
            if (port <= 65535)
                port = port * 10 + (unsigned long)(*p - '0');
        }
        if (port < 1 || port > 65535) {
            snprintf(err, errlen, "the port must be between 1 and 65535");
            return -EINVAL;
        }
    }
    return 0;
}

int cfg_check_loopback(const char *s, size_t len, char *err, size_t errlen)
{
    char host[64];
    const char *h = s, *colon = NULL;
    size_t hlen;
    unsigned char a[16];

    /* the last ':' starts the port; brackets hold an IPv6 address */
    for (const char *p = s; p < s + len; p++)
        if (*p == ':')
            colon = p;
    hlen = colon ? (size_t)(colon - s) : len;
    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
        h = s + 1;
        hlen -= 2;
    }
    if (hlen > 0 && hlen < sizeof(host)) {
        memcpy(host, h, hlen);
        host[hlen] = '\0';
        if (h == s && inet_pton(AF_INET, host, a) == 1 && a[0] == 127)
            return 0;
        if (h != s && inet_pton(AF_INET6, host, a) == 1 &&
            !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16))
            return 0;
    }
    snprintf(err, errlen,
             "must be a loopback address (127.0.0.1, [::1]): the admin endpoint has "
             "no authentication");
    return -EINVAL;
}

int cfg_check_url(const char *s, bool https_only, char *err, size_t errlen)
{
    const char *auth;
    size_t alen;

    if (strncasecmp(s, "https://", 8) == 0)
        auth = s + 8;
    else if (strncasecmp(s, "http://", 7) == 0 && !https_only)
        auth = s + 7;
    else {
        snprintf(err, errlen,
                 https_only ? "must be an https:// URL" : "must start with http:// or https://");
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "spaces and control characters are not allowed in a URL");
            return -EINVAL;
        }
    }
    alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen)) {
        snprintf(err, errlen, "credentials (user@host) in a URL are not supported");
        return -EINVAL;
    }
    if (alen == 0) {
        snprintf(err, errlen, "the URL has no host");
        return -EINVAL;
    }
    return cfg_check_hostport(auth, alen, true, false, err, errlen);
}
