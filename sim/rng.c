#include "sim/rng.h"

void sim_rng_seed(struct sim_rng *r, uint64_t seed) { tb_prng_seed(&r->prng, seed); }

uint64_t sim_rng_next(struct sim_rng *r) { return tb_prng_next(&r->prng); }

double sim_rng_uniform(struct sim_rng *r) { return (double)(tb_prng_next(&r->prng) >> 11) * 0x1.0p-53; }
