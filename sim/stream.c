#include "sim/stream.h"

#include <string.h>

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(struct sim_stream *st) {   /* xoshiro256** */
    uint64_t *s = st->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void sim_stream_init(struct sim_stream *st, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) st->s[i] = splitmix(&x);
    st->word = 0;
    st->word_left = 0;
    st->offset = 0;
}

void sim_stream_fill(struct sim_stream *st, uint8_t *out, size_t n) {
    size_t i = 0;
    while (i < n && st->word_left > 0) {
        out[i++] = (uint8_t)st->word;
        st->word >>= 8;
        st->word_left--;
    }
    while (n - i >= 8) {
        /* The stream is defined little-endian: the same bytes on any host. */
        uint64_t w = next(st);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        memcpy(out + i, &w, sizeof(w));
        i += 8;
    }
    if (i < n) {
        st->word = next(st);
        st->word_left = 8;
        while (i < n) {
            out[i++] = (uint8_t)st->word;
            st->word >>= 8;
            st->word_left--;
        }
    }
    st->offset += n;
}

size_t sim_stream_check(struct sim_stream *st, const uint8_t *data, size_t n) {
    uint8_t expect[4096];
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < sizeof(expect) ? n - done : sizeof(expect);
        sim_stream_fill(st, expect, chunk);
        if (memcmp(expect, data + done, chunk) != 0)
            for (size_t i = 0; i < chunk; i++)
                if (expect[i] != data[done + i]) return done + i;
        done += chunk;
    }
    return n;
}
