/* Sequence-number comparison (RFC 9293 §3.4): 32-bit numbers compared
 * modulo 2^32, valid while the two are less than 2^31 apart. One
 * definition for the core, the scripted peer, the fuzz runner and the
 * simulator's fault classifier. */
#ifndef TCPBED_SEQ_H
#define TCPBED_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool tb_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tb_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool tb_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool tb_seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

#endif
