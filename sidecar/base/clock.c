/*
 * clock — CLOCK_MONOTONIC and CLOCK_REALTIME in milliseconds, and the one
 * timer-arm helper of sidecar/. Never sleeps; libevent only for evtimer_add.
 */
#include "sidecar/base/clock.h"

#include <event2/event.h>
#include <time.h>

uint64_t clock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + (int64_t)ts.tv_nsec / 1000000;
}

struct timeval clock_tv(uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

void clock_arm(struct event *ev, uint64_t ms)
{
    struct timeval tv = clock_tv(ms);

    evtimer_add(ev, &tv);
}
