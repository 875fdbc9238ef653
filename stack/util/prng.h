/* Per-stack pseudo-random generator: xoshiro256** seeded through splitmix64.
 * The seed comes from tb_config.seed, so every random choice is replayable. */
#ifndef TB_UTIL_PRNG_H
#define TB_UTIL_PRNG_H

#include <stdint.h>

struct tb_prng { uint64_t s[4]; };

void tb_prng_seed(struct tb_prng *r, uint64_t seed);
uint64_t tb_prng_next(struct tb_prng *r);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint64_t tb_prng_below(struct tb_prng *r, uint64_t bound);
/* splitmix64 step: also used to derive independent seeds. */
uint64_t tb_splitmix64(uint64_t *state);

#endif
