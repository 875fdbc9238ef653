/* The simulator's random streams: the stack's generator (xoshiro256**
 * seeded through splitmix64, stack/util/prng.c), one per consumer (a link
 * direction's loss, its reordering, ...), each seeded by
 * tb_derive_seed(run seed, purpose, index). */
#ifndef TB_SIM_RNG_H
#define TB_SIM_RNG_H

#include <stdint.h>

#include "tcpbed/prng.h"

struct sim_rng { struct tb_prng prng; };

void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, 1) with 53 bits. */
double sim_rng_uniform(struct sim_rng *r);

#endif
