#include "harness/lib/ipmap.h"

#include <stdlib.h>
#include <string.h>

void ipmap_init(struct ipmap *m) { memset(m, 0, sizeof(*m)); }

void ipmap_free(struct ipmap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static size_t slot_of(uint64_t key, size_t cap) {
    /* splitmix64's finaliser: every key bit reaches the low bits. */
    key ^= key >> 30;
    key *= UINT64_C(0xbf58476d1ce4e5b9);
    key ^= key >> 27;
    key *= UINT64_C(0x94d049bb133111eb);
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

int32_t ipmap_get(const struct ipmap *m, uint64_t key) {
    if (m->cap == 0) return -1;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->vals[i] < 0) return -1;
        if (m->keys[i] == key) return m->vals[i];
    }
}

static void put_slot(uint64_t *keys, int32_t *vals, size_t cap, uint64_t key, int32_t val, bool *added) {
    size_t i = slot_of(key, cap);
    while (vals[i] >= 0 && keys[i] != key) i = (i + 1) & (cap - 1);
    *added = vals[i] < 0;
    keys[i] = key;
    vals[i] = val;
}

bool ipmap_put(struct ipmap *m, uint64_t key, int32_t val) {
    if (val < 0) return false;
    if (2 * (m->count + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        uint64_t *keys = malloc(cap * sizeof(*keys));
        int32_t *vals = malloc(cap * sizeof(*vals));
        if (keys == NULL || vals == NULL) {
            free(keys);
            free(vals);
            return false;
        }
        for (size_t i = 0; i < cap; i++) vals[i] = -1;
        bool added;
        for (size_t i = 0; i < m->cap; i++)
            if (m->vals[i] >= 0) put_slot(keys, vals, cap, m->keys[i], m->vals[i], &added);
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    bool added;
    put_slot(m->keys, m->vals, m->cap, key, val, &added);
    if (added) m->count++;
    return true;
}

bool ipmap_del(struct ipmap *m, uint64_t key) {
    if (m->cap == 0) return false;
    size_t mask = m->cap - 1, i = slot_of(key, m->cap);
    while (m->vals[i] >= 0 && m->keys[i] != key) i = (i + 1) & mask;
    if (m->vals[i] < 0) return false;
    /* Backward-shift deletion: move up every later key of the run whose
     * home slot does not lie cyclically in (i, j]. */
    for (size_t j = (i + 1) & mask; m->vals[j] >= 0; j = (j + 1) & mask) {
        size_t home = slot_of(m->keys[j], m->cap);
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
    m->vals[i] = -1;
    m->count--;
    return true;
}

void lpm_init(struct lpm *t) {
    ipmap_init(&t->map);
    t->lens = 0;
}

void lpm_free(struct lpm *t) { ipmap_free(&t->map); }

uint32_t lpm_mask(uint8_t len) { return len == 0 ? 0 : len >= 32 ? UINT32_MAX : ~(UINT32_MAX >> len); }

static uint64_t lpm_key(uint32_t prefix, uint8_t len) { return ((uint64_t)len << 32) | (prefix & lpm_mask(len)); }

int32_t lpm_get_exact(const struct lpm *t, uint32_t prefix, uint8_t len) {
    return len > 32 ? -1 : ipmap_get(&t->map, lpm_key(prefix, len));
}

bool lpm_put(struct lpm *t, uint32_t prefix, uint8_t len, int32_t val) {
    if (len > 32 || !ipmap_put(&t->map, lpm_key(prefix, len), val)) return false;
    t->lens |= UINT64_C(1) << len;
    return true;
}

int32_t lpm_lookup(const struct lpm *t, uint32_t ip, uint8_t *len_out) {
    for (int len = 32; len >= 0; len--) {
        if (!(t->lens & (UINT64_C(1) << len))) continue;
        int32_t v = ipmap_get(&t->map, lpm_key(ip, (uint8_t)len));
        if (v >= 0) {
            if (len_out != NULL) *len_out = (uint8_t)len;
            return v;
        }
    }
    return -1;
}
