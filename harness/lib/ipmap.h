/* A hash map from 64-bit keys to non-negative int32 values (open addressing,
 * linear probing, grown at half load), and longest-prefix match on top of
 * it: one exact lookup per prefix length in use, longest first. Lookups only
 * (no iteration), so hashing never decides any output order. Used for the
 * routers' forwarding and neighbour tables and the topology's indexes, so
 * thousands of ports and hosts cost O(1) per lookup and linear memory. */
#ifndef TB_SIM_IPMAP_H
#define TB_SIM_IPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipmap {
    uint64_t *keys;
    int32_t *vals;                /* -1: empty slot */
    size_t cap, count;            /* cap: 0 or a power of two */
};

void ipmap_init(struct ipmap *m);
void ipmap_free(struct ipmap *m);
/* The value stored under key, or -1. */
int32_t ipmap_get(const struct ipmap *m, uint64_t key);
/* Stores val (>= 0) under key, replacing any value there. False on out of memory. */
bool ipmap_put(struct ipmap *m, uint64_t key, int32_t val);
/* Removes key; false if it was not there. */
bool ipmap_del(struct ipmap *m, uint64_t key);

/* Longest-prefix match: (prefix, len) -> value. */
struct lpm {
    struct ipmap map;
    uint64_t lens;                /* bit L set: some entry has prefix length L (0..32) */
};

void lpm_init(struct lpm *t);
void lpm_free(struct lpm *t);
uint32_t lpm_mask(uint8_t len);
/* The value of (prefix & mask(len), len), or -1. */
int32_t lpm_get_exact(const struct lpm *t, uint32_t prefix, uint8_t len);
bool lpm_put(struct lpm *t, uint32_t prefix, uint8_t len, int32_t val);
/* The value of the longest prefix holding ip, or -1; *len_out its length. */
int32_t lpm_lookup(const struct lpm *t, uint32_t ip, uint8_t *len_out);

#endif
