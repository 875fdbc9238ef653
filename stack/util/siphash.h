/* SipHash-2-4 (Aumasson & Bernstein): a keyed hash that is fast on short
 * inputs. TCP uses it wherever an outsider must not predict a value: ISNs
 * (RFC 6528), SYN cookies (RFC 4987), ephemeral ports (RFC 6056) and the
 * connection hash. Keys come from the stack's seeded PRNG. */
#ifndef TB_UTIL_SIPHASH_H
#define TB_UTIL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct tb_sipkey { uint64_t k0, k1; };

uint64_t tb_siphash(const struct tb_sipkey *key, const void *data, size_t len);

#endif
