/* The simulator's random streams: xoshiro256** seeded through splitmix64.
 * Every consumer (a link direction's loss, its reordering, ...) owns one,
 * seeded by sim_derive_seed(run seed, purpose, index). */
#ifndef TB_SIM_RNG_H
#define TB_SIM_RNG_H

#include <stdint.h>

struct sim_rng { uint64_t s[4]; };

void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, 1) with 53 bits. */
double sim_rng_uniform(struct sim_rng *r);

#endif
