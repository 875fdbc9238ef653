#include "harness/apps/stream.h"

#include <string.h>

#include "tcpbed/prng.h"

void tb_stream_init(struct tb_stream *st, uint64_t seed) {
    uint64_t x = seed;
    st->key = tb_splitmix64(&x);
    for (int i = 0; i < TB_STREAM_WORDS; i++) st->table[i] = tb_splitmix64(&x);
    st->offset = 0;
}

static inline uint64_t block_key(uint64_t key, uint64_t block) {
    uint64_t x = key ^ (block * UINT64_C(0x9e3779b97f4a7c15));
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    return x ^ (x >> 32);
}

/* Word i, little-endian on the wire whatever the host. */
static inline uint64_t word(const struct tb_stream *st, uint64_t i) {
    uint64_t w = st->table[i % TB_STREAM_WORDS] ^ block_key(st->key, i / TB_STREAM_WORDS);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

void tb_stream_fill(struct tb_stream *st, uint8_t *out, size_t n) {
    uint64_t off = st->offset;
    size_t i = 0;
    while (i < n && (off & 7) != 0) {   /* the rest of a partly used word */
        out[i++] = (uint8_t)(word(st, off >> 3) >> (8 * (off & 7)));
        off++;
    }
    while (n - i >= 8) {
        /* Whole words, a block (and its key) at a time. */
        uint64_t w = off >> 3, block = w / TB_STREAM_WORDS, k = block_key(st->key, block);
        size_t words = (size_t)(TB_STREAM_WORDS - w % TB_STREAM_WORDS);
        if (words > (n - i) / 8) words = (n - i) / 8;
        const uint64_t *t = st->table + w % TB_STREAM_WORDS;
        for (size_t j = 0; j < words; j++) {
            uint64_t v = t[j] ^ k;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            v = __builtin_bswap64(v);
#endif
            memcpy(out + i + 8 * j, &v, 8);
        }
        i += 8 * words;
        off += 8 * words;
    }
    for (; i < n; i++, off++) out[i] = (uint8_t)(word(st, off >> 3) >> (8 * (off & 7)));
    st->offset = off;
}

size_t tb_stream_check(struct tb_stream *st, const uint8_t *data, size_t n) {
    uint8_t expect[4096];
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < sizeof(expect) ? n - done : sizeof(expect);
        tb_stream_fill(st, expect, chunk);
        if (memcmp(expect, data + done, chunk) != 0)
            for (size_t i = 0; i < chunk; i++)
                if (expect[i] != data[done + i]) return done + i;
        done += chunk;
    }
    return n;
}
