/* struct tb_config as `key=value` lines, one per field, by the field's own
 * name. One table (name, offset, type) serves the writer and the reader, so
 * the two cannot disagree; a run-log's header carries a stack's whole
 * configuration this way, readable and editable by hand.
 *
 *   seed=1
 *   mac=02:00:00:00:00:01
 *   ipv4_addr=10.0.0.1
 *   tcp_cc=newreno
 *   tcp_sack=true
 *   tcp_rto_min_ns=200000000
 *   ... */
#ifndef TB_LIB_CONFIG_KV_H
#define TB_LIB_CONFIG_KV_H

#include <stdbool.h>
#include <stddef.h>

#include "tcpbed/tcpbed.h"

enum tb_config_kv_type {
    TB_KV_U64,
    TB_KV_U32,
    TB_KV_U16,
    TB_KV_U8,
    TB_KV_BOOL,                   /* true / false */
    TB_KV_TIME_NS,                /* a signed count of nanoseconds */
    TB_KV_MAC,                    /* 02:00:00:00:00:01 */
    TB_KV_IPV4,                   /* dotted quad, held in host byte order */
    TB_KV_CC,                     /* newreno / cubic (enum tb_cc_algo) */
};

struct tb_config_kv_field {
    const char *name;             /* the struct member's name */
    size_t offset;                /* offsetof(struct tb_config, name) */
    size_t size;                  /* sizeof the member */
    enum tb_config_kv_type type;
};

/* Every field of struct tb_config, in declaration order. */
extern const struct tb_config_kv_field tb_config_kv_fields[];
extern const size_t tb_config_kv_field_count;

/* Every field, one `key=value\n` line each, in table order. A string the
 * caller frees; NULL when out of memory. */
char *tb_config_kv_format(const struct tb_config *cfg);

/* Reads `len` bytes of lines into cfg, starting from tb_config_default: a
 * key not given keeps its default. False, with err naming the line (its
 * number and text) and what was expected, on an unknown key, a key given
 * twice, a line without '=' or a value out of its type's range. It does
 * not run tb_config_check: the caller does, for the stack's own rules. */
bool tb_config_kv_parse(const char *text, size_t len, struct tb_config *cfg, char *err, size_t err_len);

#endif
