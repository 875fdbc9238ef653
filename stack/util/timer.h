/* Timers on a bounded binary min-heap, ordered by (deadline, arm sequence):
 * equal deadlines fire in the order they were armed, never by address.
 * Timers are embedded in the objects they serve; the heap only holds
 * pointers, and its capacity is the number of timer objects that exist, so
 * arming can never overflow it. */
#ifndef TB_UTIL_TIMER_H
#define TB_UTIL_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpbed/time.h"

struct tb_timer;
typedef void (*tb_timer_fn)(struct tb_timer *t, tb_time_ns now, void *ctx);

struct tb_timer {
    tb_time_ns deadline_ns;
    uint64_t seq;             /* arm order, breaks ties */
    uint32_t heap_index;      /* TB_TIMER_IDLE when not armed */
    tb_timer_fn fire;
};
#define TB_TIMER_IDLE UINT32_MAX

struct tb_timer_heap {
    struct tb_timer **items;
    uint32_t len, cap;
    uint64_t next_seq;
};

int tb_timer_heap_init(struct tb_timer_heap *h, uint32_t cap);
void tb_timer_heap_destroy(struct tb_timer_heap *h);

void tb_timer_init(struct tb_timer *t, tb_timer_fn fire);
static inline bool tb_timer_armed(const struct tb_timer *t) { return t->heap_index != TB_TIMER_IDLE; }
/* Arms (or re-arms) t for deadline_ns. */
void tb_timer_arm(struct tb_timer_heap *h, struct tb_timer *t, tb_time_ns deadline_ns);
void tb_timer_cancel(struct tb_timer_heap *h, struct tb_timer *t);
tb_time_ns tb_timer_next(const struct tb_timer_heap *h);
/* Fires every timer with deadline <= now, earliest first; a timer armed by a
 * callback for a time <= now fires in the same call. Returns timers fired. */
uint32_t tb_timer_run(struct tb_timer_heap *h, tb_time_ns now, void *ctx);
/* Heap-order self-check. */
bool tb_timer_heap_valid(const struct tb_timer_heap *h);

#endif
