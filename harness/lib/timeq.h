/* A time-ordered queue of callbacks: a binary heap on (time, insertion
 * number), never on pointers, so equal times come out in the order they
 * went in. The simulator's event queue and a host's own application timers
 * are both one. */
#ifndef TB_LIB_TIMEQ_H
#define TB_LIB_TIMEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/time.h"

/* The owner's callback, stored as a generic function pointer (C11 6.3.2.3:
 * any function pointer converts to another and back unchanged); the owner
 * casts it back to its own type to call it. */
typedef void (*tb_timeq_fn)(void);

struct tb_timeq_item {
    tb_time_ns t;
    uint64_t seq;
    tb_timeq_fn fn;
    void *ctx;
    uint64_t arg;
};

struct tb_timeq {
    struct tb_timeq_item *items;
    size_t len, cap, max;         /* max: a bound, asserted (a leak of timers is a bug) */
    uint64_t next_seq;
};

void tb_timeq_init(struct tb_timeq *q, size_t max);
void tb_timeq_free(struct tb_timeq *q);
void tb_timeq_push(struct tb_timeq *q, tb_time_ns t, tb_timeq_fn fn, void *ctx, uint64_t arg);
/* The earliest item; the queue must not be empty. */
struct tb_timeq_item tb_timeq_pop(struct tb_timeq *q);
static inline bool tb_timeq_empty(const struct tb_timeq *q) { return q->len == 0; }
static inline const struct tb_timeq_item *tb_timeq_top(const struct tb_timeq *q) { return &q->items[0]; }

#endif
