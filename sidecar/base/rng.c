/*
 * rng — xorshift64* (Vigna): jitter only, never secrets. No I/O but the
 * seed's getrandom(2).
 */
#include "sidecar/base/rng.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define RNG_ZERO_SEED 88172645463325252ULL /* Marsaglia's xorshift example seed */

void rng_seed(struct rng *r, uint64_t seed)
{
    r->s = seed ? seed : RNG_ZERO_SEED | 1;
}

void rng_seed_random(struct rng *r)
{
    uint64_t seed = 0;

    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    rng_seed(r, seed);
}

uint64_t rng_next(struct rng *r)
{
    if (!r->s)
        r->s = RNG_ZERO_SEED | 1;
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0; /* 2^53 */
}
