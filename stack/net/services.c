/* The services every layer calls back into: the clock, buffers, drops,
 * events and Ethernet output. The API entry points are in stack.c. */
#include <string.h>

#include "net/stack_internal.h"

tb_time_ns tb_now_advance(struct tb_stack *st, tb_time_ns now) {
    /* A driver whose clock steps back is counted, not obeyed: timers,
     * RTT samples and stamps all assume time never decreases. */
    if (now < st->now) st->stats.time_backwards++;
    else st->now = now;
    return st->now;
}

struct tb_buf *tb_net_alloc(struct tb_stack *st) {
    struct tb_buf *b = tb_pool_get(&st->pool, st->cfg.buf_headroom);
    if (b == NULL) st->stats.pool_empty++;
    return b;
}

void tb_net_drop(struct tb_stack *st, struct tb_buf *b, enum tb_drop_reason why, bool rx) {
    TB_ASSERT((unsigned)why < TB_DROP__COUNT);
    st->stats.drops[why]++;
    if (rx) st->stats.rx_dropped++;
    if (b != NULL) tb_buf_free(b);
}

void tb_net_event(struct tb_stack *st, const struct tb_event *ev) {
    uint32_t cap = st->cfg.event_queue_len;
    if (st->ev_len == cap) {
        st->stats.events_dropped++;
        return;
    }
    st->events[(st->ev_head + st->ev_len) % cap] = *ev;
    st->ev_len++;
}

int tb_eth_output(struct tb_stack *st, struct tb_buf *b, const struct tb_mac *dst, uint16_t ethertype) {
    uint8_t *hdr = tb_buf_push(b, TB_ETH_HDR_LEN);
    TB_ASSERT(hdr != NULL);   /* every frame we build reserves cfg.buf_headroom */
    struct tb_eth_repr eth = {.dst = *dst, .src = st->cfg.mac, .ethertype = ethertype};
    tb_eth_emit(&eth, hdr);
    size_t len = tb_buf_chain_len(b);
    if (len < TB_ETH_MIN_FRAME) {
        /* Pad with explicit zeros: padding is output, so it must be deterministic. */
        struct tb_buf *last = b;
        while (last->next != NULL) last = last->next;
        uint8_t *pad = tb_buf_put(last, (uint32_t)(TB_ETH_MIN_FRAME - len));
        TB_ASSERT(pad != NULL);
        memset(pad, 0, TB_ETH_MIN_FRAME - len);
        len = TB_ETH_MIN_FRAME;
    }
    if (st->txq.len == st->txq.cap) {
        st->stats.tx_queue_full++;
        tb_net_drop(st, b, TB_DROP_tx_queue_full, false);
        return TB_ERR_QFULL;
    }
    b->qnext = NULL;
    if (st->txq.tail != NULL) st->txq.tail->qnext = b;
    else st->txq.head = b;
    st->txq.tail = b;
    st->txq.len++;
    st->stats.tx_frames++;
    st->stats.tx_bytes += len;
    return TB_OK;
}
