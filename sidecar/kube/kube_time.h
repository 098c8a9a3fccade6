/*
 * kube_time — the API's times as text: RFC 3339 (metadata timestamps, Event
 * times) and MicroTime (Lease acquire/renew times) to and from Unix time.
 * Pure: never reads the clock (callers pass the time in), no allocation,
 * no I/O; accepts only the strict grammar, never guesses.
 */
#ifndef ROLLGUARD_KUBE_TIME_H
#define ROLLGUARD_KUBE_TIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * RFC 3339 ("2026-07-24T09:59:00Z", fractions and offsets allowed) to Unix
 * seconds in *ret (fractions dropped). Returns 0, -EINVAL (s NULL or not
 * RFC 3339; *ret untouched).
 */
int kube_time_parse(const char *s, int64_t *ret);
/* Unix seconds to "2026-07-24T09:59:00Z" (size >= 21). */
void kube_time_render(int64_t t, char *buf, size_t size);
/* Unix microseconds to MicroTime "2026-07-24T09:59:00.000000Z" (size >= 28). */
void kube_time_render_micro(int64_t us, char *buf, size_t size);

#endif
