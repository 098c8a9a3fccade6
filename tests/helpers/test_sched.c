/* test_sched — see test_sched.h. */
#include "tests/helpers/test_sched.h"

#include "probes/sched.h"
#include "sidecar/base/clock.h"
#include "sidecar/base/rng.h"

static double test_unit(void *arg)
{
    return rng_unit(arg);
}

const struct sched *test_sched(void)
{
    static struct rng rng;
    static struct sched sc;

    if (!sc.now_ms) {
        rng_seed(&rng, 1);
        sc = (struct sched){.now_ms = clock_mono_ms, .unit = test_unit, .arg = &rng};
    }
    return &sc;
}
