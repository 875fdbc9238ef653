#include "util/timer.h"

#include <stdlib.h>

#include "util/assert.h"

static bool before(const struct tb_timer *a, const struct tb_timer *b) {
    if (a->deadline_ns != b->deadline_ns) return a->deadline_ns < b->deadline_ns;
    return a->seq < b->seq;
}

static void place(struct tb_timer_heap *h, uint32_t i, struct tb_timer *t) {
    h->items[i] = t;
    t->heap_index = i;
}

static void sift_up(struct tb_timer_heap *h, uint32_t i) {
    struct tb_timer *t = h->items[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(t, h->items[parent])) break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(struct tb_timer_heap *h, uint32_t i) {
    struct tb_timer *t = h->items[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= h->len) break;
        if (child + 1 < h->len && before(h->items[child + 1], h->items[child])) child++;
        if (!before(h->items[child], t)) break;
        place(h, i, h->items[child]);
        i = child;
    }
    place(h, i, t);
}

int tb_timer_heap_init(struct tb_timer_heap *h, uint32_t cap) {
    h->items = calloc(cap > 0 ? cap : 1, sizeof(*h->items));
    h->len = 0;
    h->cap = cap;
    h->next_seq = 0;
    return h->items == NULL ? -1 : 0;
}

void tb_timer_heap_destroy(struct tb_timer_heap *h) {
    free(h->items);
    h->items = NULL;
    h->len = h->cap = 0;
}

void tb_timer_init(struct tb_timer *t, tb_timer_fn fire) {
    t->deadline_ns = TB_TIME_NEVER;
    t->seq = 0;
    t->heap_index = TB_TIMER_IDLE;
    t->fire = fire;
}

void tb_timer_cancel(struct tb_timer_heap *h, struct tb_timer *t) {
    if (!tb_timer_armed(t)) return;
    uint32_t i = t->heap_index;
    TB_ASSERT(i < h->len && h->items[i] == t);
    t->heap_index = TB_TIMER_IDLE;
    h->len--;
    if (i == h->len) return;
    /* The last item fills the hole; it may belong above or below it. */
    struct tb_timer *moved = h->items[h->len];
    place(h, i, moved);
    sift_down(h, i);
    sift_up(h, moved->heap_index);
}

void tb_timer_arm(struct tb_timer_heap *h, struct tb_timer *t, tb_time_ns deadline_ns) {
    TB_ASSERT(t->fire != NULL);
    tb_timer_cancel(h, t);
    TB_ASSERT(h->len < h->cap);
    t->deadline_ns = deadline_ns;
    t->seq = h->next_seq++;
    place(h, h->len, t);
    h->len++;
    sift_up(h, t->heap_index);
}

tb_time_ns tb_timer_next(const struct tb_timer_heap *h) {
    return h->len == 0 ? TB_TIME_NEVER : h->items[0]->deadline_ns;
}

uint32_t tb_timer_run(struct tb_timer_heap *h, tb_time_ns now, void *ctx) {
    uint32_t fired = 0;
    while (h->len > 0 && h->items[0]->deadline_ns <= now) {
        struct tb_timer *t = h->items[0];
        tb_timer_cancel(h, t);
        t->fire(t, now, ctx);
        fired++;
    }
    return fired;
}

bool tb_timer_heap_valid(const struct tb_timer_heap *h) {
    for (uint32_t i = 0; i < h->len; i++) {
        if (h->items[i]->heap_index != i) return false;
        if (i > 0 && before(h->items[i], h->items[(i - 1) / 2])) return false;
    }
    return true;
}
