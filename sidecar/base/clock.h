/*
 * clock — the one place sidecar/ reads the time and arms a libevent timer.
 * Take "now" once at the top of a callback and pass it down; pure modules
 * (analysis, guard, lease rules) never call this.
 */
#ifndef ROLLGUARD_CLOCK_H
#define ROLLGUARD_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

struct event;

/* Milliseconds on CLOCK_MONOTONIC: for intervals, deadlines and backoff. */
uint64_t clock_mono_ms(void);

/* Milliseconds since the epoch on CLOCK_REALTIME: for timestamps people read. */
int64_t clock_wall_ms(void);

/* ms as a struct timeval (for libevent). */
struct timeval clock_tv(uint64_t ms);

/* evtimer_add(ev) to fire ms from now; re-arming a pending timer moves it. */
void clock_arm(struct event *ev, uint64_t ms);

#endif
