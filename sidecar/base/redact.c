/*
 * redact — removes credentials from URLs before they reach a log line,
 * /status or /metrics. Pure; never allocates.
 */
#include "sidecar/base/redact.h"

#include <stdio.h>
#include <string.h>

char *redact_url(const char *url, char *out, size_t size)
{
    const char *auth = strstr(url, "://");
    const char *end, *at;

    if (size == 0)
        return out;
    if (!auth) {
        snprintf(out, size, "%s", url);
        return out;
    }
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    at = memchr(auth, '@', (size_t)(end - auth));
    if (!at) {
        snprintf(out, size, "%s", url);
        return out;
    }
    /* The last '@' before the path ends the userinfo. */
    for (const char *p = at; p < end; p++)
        if (*p == '@')
            at = p;
    snprintf(out, size, "%.*s***@%s", (int)(auth - url), url, at + 1);
    return out;
}
