/*
 * sched — jitter draws and timer arming for probes/. Never reads a clock
 * itself: the time comes from the owner's struct sched.
 */
#include "probes/sched.h"

#include <event2/event.h>

uint64_t sched_jitter(const struct sched *sc, uint64_t span)
{
    uint64_t j;

    if (span == 0)
        return 0;
    j = (uint64_t)(sc->unit(sc->arg) * (double)span);
    return j < span ? j : span - 1; /* unit() < 1, but rounding may reach span */
}

void sched_arm(struct event *ev, uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};

    evtimer_add(ev, &tv);
}
