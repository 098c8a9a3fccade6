/*
 * redact — strip secrets from text that leaves the process (URLs with
 * user:password@ in them).
 */
#ifndef ROLLGUARD_REDACT_H
#define ROLLGUARD_REDACT_H

#include <stddef.h>

/*
 * Copy url into out (size bytes, always NUL-terminated) with any userinfo
 * ("user:pass@") replaced by "***@". Returns out.
 */
char *redact_url(const char *url, char *out, size_t size);

#endif
