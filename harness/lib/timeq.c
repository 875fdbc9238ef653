#include "harness/lib/timeq.h"

#include <stdlib.h>

#include "tcpbed/assert.h"

static bool before(const struct tb_timeq_item *a, const struct tb_timeq_item *b) {
    return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

void tb_timeq_init(struct tb_timeq *q, size_t max) { *q = (struct tb_timeq){.max = max}; }

void tb_timeq_free(struct tb_timeq *q) {
    free(q->items);
    *q = (struct tb_timeq){.max = q->max};
}

void tb_timeq_push(struct tb_timeq *q, tb_time_ns t, tb_timeq_fn fn, void *ctx, uint64_t arg) {
    if (q->len == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        TB_ASSERT(q->len < q->max);
        if (cap > q->max) cap = q->max;
        struct tb_timeq_item *a = realloc(q->items, cap * sizeof(*a));
        TB_ASSERT(a != NULL);
        q->items = a;
        q->cap = cap;
    }
    struct tb_timeq_item it = {.t = t, .seq = q->next_seq++, .fn = fn, .ctx = ctx, .arg = arg};
    size_t i = q->len++;
    while (i > 0 && before(&it, &q->items[(i - 1) / 2])) {
        q->items[i] = q->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->items[i] = it;
}

struct tb_timeq_item tb_timeq_pop(struct tb_timeq *q) {
    TB_ASSERT(q->len > 0);
    struct tb_timeq_item top = q->items[0], last = q->items[--q->len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->len) break;
        if (c + 1 < q->len && before(&q->items[c + 1], &q->items[c])) c++;
        if (!before(&q->items[c], &last)) break;
        q->items[i] = q->items[c];
        i = c;
    }
    if (q->len > 0) q->items[i] = last;
    return top;
}
