#include "util/prng.h"

#include "util/assert.h"

uint64_t tb_splitmix64(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void tb_prng_seed(struct tb_prng *r, uint64_t seed) {
    uint64_t st = seed;
    for (int i = 0; i < 4; i++) r->s[i] = tb_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tb_prng_next(struct tb_prng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t tb_prng_below(struct tb_prng *r, uint64_t bound) {
    TB_ASSERT(bound > 0);
    /* Rejection sampling: draws above the largest multiple of bound are redrawn. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
        uint64_t x = tb_prng_next(r);
        if (x < limit) return x % bound;
    }
}

uint64_t tb_derive_seed(uint64_t run_seed, const char *purpose, uint64_t index) {
    /* FNV-1a over the purpose, mixed with seed and index through splitmix64. */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const char *p = purpose; *p; p++) h = (h ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
    uint64_t state = (run_seed ^ h) + UINT64_C(0x9e3779b97f4a7c15) * index;
    return tb_splitmix64(&state);
}
