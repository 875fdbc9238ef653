/* The seeded pseudo-random generator every room uses: xoshiro256** seeded
 * through splitmix64. The stack's comes from tb_config.seed; the simulator's
 * streams and the applications' byte streams derive theirs from the run
 * seed with tb_derive_seed, so every random choice is replayable. */
#ifndef TCPBED_PRNG_H
#define TCPBED_PRNG_H

#include <stdint.h>

struct tb_prng { uint64_t s[4]; };

void tb_prng_seed(struct tb_prng *r, uint64_t seed);
uint64_t tb_prng_next(struct tb_prng *r);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint64_t tb_prng_below(struct tb_prng *r, uint64_t bound);
/* splitmix64 step: also used to derive independent seeds. */
uint64_t tb_splitmix64(uint64_t *state);
/* The seed of one consumer of randomness (a host's stack, a link's fault
 * stream, a flow's payload) from the run seed and the consumer's identity,
 * so that adding a consumer leaves the others' draws unchanged. */
uint64_t tb_derive_seed(uint64_t run_seed, const char *purpose, uint64_t index);

#endif
