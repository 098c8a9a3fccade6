/*
 * Fuzz target for the request-head parser behind every endpoint
 * (sidecar/http/httpreq.c). Anyone on the pod network can send these bytes.
 * Checks what the server relies on: results point inside the input, a
 * complete head never exceeds the limit, a failure always has a status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/http/httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_HEAD 8192

static void inside(const char *buf, size_t len, const char *p, size_t n)
{
    if (p && (p < buf || p + n > buf + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct httpreq req;
    int r = httpreq_parse(buf, size, FUZZ_MAX_HEAD, &req);

    if (r < 0) {
        if (!req.error || (req.error_status != 400 && req.error_status != 431 &&
                           req.error_status != 501 && req.error_status != 505))
            abort();
        return 0;
    }
    if (r == 0) {
        if (size >= FUZZ_MAX_HEAD)
            abort(); /* a full buffer without a head must be refused, not awaited */
        return 0;
    }
    if (req.head_len == 0 || req.head_len > size || req.head_len > FUZZ_MAX_HEAD)
        abort();
    inside(buf, req.head_len, req.path, req.path_len);
    inside(buf, req.head_len, req.query, req.query_len);
    if (req.path_len == 0 || req.path[0] != '/' || memchr(req.path, '?', req.path_len))
        abort();
    if (req.minor != 0 && req.minor != 1)
        abort();
    if (req.chunked && req.content_length >= 0)
        abort();
    /* The rest of the buffer parses on its own (pipelining). */
    httpreq_parse(buf + req.head_len, size - req.head_len, FUZZ_MAX_HEAD, &req);
    return 0;
}
