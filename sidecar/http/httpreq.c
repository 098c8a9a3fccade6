/*
 * httpreq — strict HTTP/1.x request-head parser over a caller's buffer.
 * Owns nothing; never allocates, never reads past len. Lines end in CRLF
 * (a bare LF is tolerated, as RFC 9112 §2.2 allows; a bare CR is not).
 */
#include "sidecar/http/httpreq.h"

#include <errno.h>
#include <string.h>

static const struct {
    const char *name;
    size_t len;
    enum httpreq_method m;
} httpreq_methods[] = {
    {"GET", 3, HTTPREQ_GET},         {"HEAD", 4, HTTPREQ_HEAD},     {"POST", 4, HTTPREQ_POST},
    {"PUT", 3, HTTPREQ_PUT},         {"DELETE", 6, HTTPREQ_DELETE}, {"PATCH", 5, HTTPREQ_PATCH},
    {"OPTIONS", 7, HTTPREQ_OPTIONS},
};

const char *httpreq_method_name(enum httpreq_method m)
{
    for (size_t i = 0; i < sizeof(httpreq_methods) / sizeof(httpreq_methods[0]); i++)
        if (httpreq_methods[i].m == m)
            return httpreq_methods[i].name;
    return "OTHER";
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int fail(struct httpreq *req, int status, const char *why)
{
    req->error_status = status;
    req->error = why;
    return -EINVAL;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* Does a comma-separated header value list contain token (case-insensitive)? */
static bool list_has(const char *v, size_t len, const char *token)
{
    size_t i = 0;

    while (i < len) {
        size_t start, end;

        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        start = i;
        while (i < len && v[i] != ',')
            i++;
        end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end > start && ieq(v + start, end - start, token))
            return true;
    }
    return false;
}

/* Finds the end of the line starting at p; sets *next past its terminator. */
static const char *line_end(const char *p, const char *end, const char **next, bool *bad)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));

    *bad = false;
    if (!lf)
        return NULL;
    *next = lf + 1;
    if (lf > p && lf[-1] == '\r')
        lf--;
    /* A CR anywhere else in the line is refused (bare CR). */
    if (memchr(p, '\r', (size_t)(lf - p)))
        *bad = true;
    return lf;
}

static int parse_request_line(const char *p, const char *eol, struct httpreq *req)
{
    const char *sp1, *sp2, *target, *q;
    size_t mlen;

    sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (!sp1 || sp1 == p)
        return fail(req, 400, "malformed request line");
    mlen = (size_t)(sp1 - p);
    for (size_t i = 0; i < mlen; i++)
        if (!is_tchar((unsigned char)p[i]))
            return fail(req, 400, "malformed method");
    req->method = HTTPREQ_OTHER;
    for (size_t i = 0; i < sizeof(httpreq_methods) / sizeof(httpreq_methods[0]); i++)
        if (mlen == httpreq_methods[i].len && !memcmp(p, httpreq_methods[i].name, mlen))
            req->method = httpreq_methods[i].m;

    target = sp1 + 1;
    sp2 = memchr(target, ' ', (size_t)(eol - target));
    if (!sp2 || sp2 == target)
        return fail(req, 400, "malformed request line");
    if (*target != '/')
        return fail(req, 400, "only origin-form request targets are served");
    for (const char *c = target; c < sp2; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return fail(req, 400, "invalid character in request target");
    q = memchr(target, '?', (size_t)(sp2 - target));
    req->path = target;
    req->path_len = (size_t)((q ? q : sp2) - target);
    req->query = q ? q + 1 : NULL;
    req->query_len = q ? (size_t)(sp2 - q - 1) : 0;

    if (eol - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        if (eol - (sp2 + 1) >= 5 && !memcmp(sp2 + 1, "HTTP/", 5))
            return fail(req, 505, "HTTP version not supported");
        return fail(req, 400, "malformed HTTP version");
    }
    if (sp2[8] != '0' && sp2[8] != '1')
        return fail(req, 505, "HTTP version not supported");
    req->minor = sp2[8] - '0';
    return 0;
}

static int parse_content_length(const char *v, size_t len, struct httpreq *req)
{
    int64_t n = 0;

    if (len == 0)
        return fail(req, 400, "empty Content-Length");
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return fail(req, 400, "invalid Content-Length");
        if (n > (INT64_MAX - 9) / 10)
            return fail(req, 400, "Content-Length too large");
        n = n * 10 + (v[i] - '0');
    }
    if (req->content_length >= 0 && req->content_length != n)
        return fail(req, 400, "conflicting Content-Length headers");
    req->content_length = n;
    return 0;
}

int httpreq_parse(const char *buf, size_t len, size_t max_head, struct httpreq *req)
{
    const char *p = buf, *end, *eol, *next;
    bool bad, has_host = false, conn_close = false, conn_keep = false;
    int r;

    memset(req, 0, sizeof(*req));
    req->content_length = -1;
    if (len > max_head)
        len = max_head;
    end = buf + len;

    /* RFC 9112 §2.2: ignore at least one empty line before the request line. */
    while (p < end && (*p == '\r' || *p == '\n')) {
        if (*p == '\r' && (p + 1 >= end || p[1] != '\n'))
            break;
        p += *p == '\r' ? 2 : 1;
        if (p - buf > 4)
            return fail(req, 400, "malformed request line");
    }

    eol = line_end(p, end, &next, &bad);
    if (!eol)
        goto need_more;
    if (bad)
        return fail(req, 400, "bare CR in request line");
    r = parse_request_line(p, eol, req);
    if (r < 0)
        return r;
    p = next;

    for (;;) {
        const char *colon, *v, *vend;

        eol = line_end(p, end, &next, &bad);
        if (!eol)
            goto need_more;
        if (bad)
            return fail(req, 400, "bare CR in header");
        if (eol == p)
            break; /* the blank line */
        if (*p == ' ' || *p == '\t')
            return fail(req, 400, "obsolete line folding is not accepted");
        if (++req->headers > HTTPREQ_MAX_HEADERS)
            return fail(req, 431, "too many header fields");
        colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return fail(req, 400, "malformed header field");
        for (const char *c = p; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return fail(req, 400, "malformed header field name");
        v = colon + 1;
        vend = eol;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        for (const char *c = v; c < vend; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return fail(req, 400, "control character in header value");

        if (ieq(p, (size_t)(colon - p), "host")) {
            if (has_host)
                return fail(req, 400, "more than one Host header");
            has_host = true;
        } else if (ieq(p, (size_t)(colon - p), "content-length")) {
            r = parse_content_length(v, (size_t)(vend - v), req);
            if (r < 0)
                return r;
        } else if (ieq(p, (size_t)(colon - p), "transfer-encoding")) {
            req->chunked = true;
        } else if (ieq(p, (size_t)(colon - p), "connection")) {
            conn_close |= list_has(v, (size_t)(vend - v), "close");
            conn_keep |= list_has(v, (size_t)(vend - v), "keep-alive");
        }
        p = next;
    }
    if (req->chunked && req->content_length >= 0)
        return fail(req, 400, "both Content-Length and Transfer-Encoding");
    if (req->minor == 1 && !has_host)
        return fail(req, 400, "HTTP/1.1 request without Host");
    req->keep_alive = req->minor == 1 ? !conn_close : (conn_keep && !conn_close);
    req->head_len = (size_t)(next - buf);
    return 1;

need_more:
    if (len >= max_head)
        return fail(req, 431, "request head too large");
    return 0;
}
