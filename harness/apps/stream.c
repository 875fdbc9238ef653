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

/* Word i's value. Its byte j is (value >> 8j) on the wire whatever the
 * host: partial words pick bytes by shifting the value, whole words are
 * stored little-endian (swapped on a big-endian host). */
static inline uint64_t word(const struct tb_stream *st, uint64_t i) {
    return st->table[i % TB_STREAM_WORDS] ^ block_key(st->key, i / TB_STREAM_WORDS);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define STREAM_BIG_ENDIAN 1
#else
#define STREAM_BIG_ENDIAN 0
/* Two words at a time (GNU C vector extension: SSE2 on x86-64, NEON on
 * arm64): the stream is generated for every byte sent and again for every
 * byte checked, so this loop is a sixth of a simulation's instructions. */
typedef uint64_t stream_v2 __attribute__((vector_size(16)));
#endif

/* `words` whole words from word index w into out (any alignment). */
static void fill_words(const struct tb_stream *st, uint64_t w, uint8_t *out, size_t words) {
    while (words > 0) {
        uint64_t k = block_key(st->key, w / TB_STREAM_WORDS);
        size_t run = (size_t)(TB_STREAM_WORDS - w % TB_STREAM_WORDS);
        if (run > words) run = words;
        const uint64_t *t = st->table + w % TB_STREAM_WORDS;
        size_t j = 0;
#if !STREAM_BIG_ENDIAN
        stream_v2 kk = {k, k};
        for (; j + 2 <= run; j += 2) {
            stream_v2 v;
            memcpy(&v, t + j, sizeof(v));
            v ^= kk;
            memcpy(out + 8 * j, &v, sizeof(v));
        }
#endif
        for (; j < run; j++) {
            uint64_t v = t[j] ^ k;
#if STREAM_BIG_ENDIAN
            v = __builtin_bswap64(v);
#endif
            memcpy(out + 8 * j, &v, 8);
        }
        out += 8 * run;
        w += run;
        words -= run;
    }
}

/* The index of the first of `words` whole words from word index w that
 * differs from data, in words, or `words` when all match. */
static size_t check_words(const struct tb_stream *st, uint64_t w, const uint8_t *data, size_t words) {
    size_t done = 0;
    while (done < words) {
        uint64_t k = block_key(st->key, w / TB_STREAM_WORDS);
        size_t run = (size_t)(TB_STREAM_WORDS - w % TB_STREAM_WORDS);
        if (run > words - done) run = words - done;
        const uint64_t *t = st->table + w % TB_STREAM_WORDS;
        const uint8_t *d = data + 8 * done;
        size_t j = 0;
#if !STREAM_BIG_ENDIAN
        /* Differences are OR-ed over the whole run and tested once: data
         * almost always matches, and the scalar loop below finds the word
         * when it does not. */
        stream_v2 kk = {k, k}, diff = {0, 0};
        size_t pairs = run / 2;
        for (size_t q = 0; q < pairs; q++) {
            stream_v2 v, got;
            memcpy(&v, t + 2 * q, sizeof(v));
            memcpy(&got, d + 16 * q, sizeof(got));
            diff |= v ^ kk ^ got;
        }
        if ((diff[0] | diff[1]) == 0) j = 2 * pairs;
#endif
        for (; j < run; j++) {
            uint64_t v = t[j] ^ k, got;
#if STREAM_BIG_ENDIAN
            v = __builtin_bswap64(v);
#endif
            memcpy(&got, d + 8 * j, 8);
            if (v != got) return done + j;
        }
        done += run;
        w += run;
    }
    return words;
}

/* Byte `off` of the stream, given the word that holds it. */
static inline uint8_t byte_of(uint64_t w, uint64_t off) { return (uint8_t)(w >> (8 * (off & 7))); }

/* Up to 7 bytes inside one word: the word is computed once. */
static size_t fill_partial(const struct tb_stream *st, uint64_t off, uint8_t *out, size_t n) {
    uint64_t w = word(st, off >> 3);
    size_t i = 0;
    for (; i < n && (i == 0 || ((off + i) & 7) != 0); i++) out[i] = byte_of(w, off + i);
    return i;
}

void tb_stream_fill(struct tb_stream *st, uint8_t *out, size_t n) {
    uint64_t off = st->offset;
    size_t i = 0;
    if ((off & 7) != 0 && n > 0) i = fill_partial(st, off, out, n);   /* the rest of a partly used word */
    size_t words = (n - i) / 8;
    fill_words(st, (off + i) >> 3, out + i, words);
    i += 8 * words;
    if (i < n) i += fill_partial(st, off + i, out + i, n - i);
    st->offset = off + n;
}

/* The index of the first of n bytes (within one word, from `off`) that
 * differs from the stream, or n. */
static size_t check_partial(const struct tb_stream *st, uint64_t off, const uint8_t *data, size_t n) {
    uint64_t w = word(st, off >> 3);
    for (size_t i = 0; i < n; i++)
        if (data[i] != byte_of(w, off + i)) return i;
    return n;
}

/* Compares in place, without generating the expected bytes anywhere. The
 * stream moves on by n whatever matched. */
size_t tb_stream_check(struct tb_stream *st, const uint8_t *data, size_t n) {
    uint64_t off = st->offset;
    st->offset += n;
    size_t i = 0;
    if ((off & 7) != 0) {
        size_t head = 8 - (size_t)(off & 7);
        if (head > n) head = n;
        size_t ok = check_partial(st, off, data, head);
        if (ok < head) return ok;
        i = head;
    }
    size_t words = (n - i) / 8;
    size_t good = check_words(st, (off + i) >> 3, data + i, words);
    if (good < words) {
        i += 8 * good;
        return i + check_partial(st, off + i, data + i, 8);   /* the first differing byte of that word */
    }
    i += 8 * words;
    if (i < n) {
        size_t ok = check_partial(st, off + i, data + i, n - i);
        if (ok < n - i) return i + ok;
    }
    return n;
}
