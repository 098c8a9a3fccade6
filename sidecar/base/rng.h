/*
 * rng — a small seedable generator (xorshift64*) for retry and schedule
 * jitter. Not for secrets, tokens or anything an attacker must not guess.
 */
#ifndef ROLLGUARD_RNG_H
#define ROLLGUARD_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s;
};

/* Seed r; a zero seed (which xorshift cannot leave) becomes a fixed odd constant. */
void rng_seed(struct rng *r, uint64_t seed);

/* Seed r from getrandom(2), falling back to the time and pid; never blocks. */
void rng_seed_random(struct rng *r);

/* The next 64 pseudo-random bits. */
uint64_t rng_next(struct rng *r);

/* A double uniform in [0, 1) (53 bits). */
double rng_unit(struct rng *r);

#endif
