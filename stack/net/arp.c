/* ARP (RFC 826) with a bounded cache that times out (RFC 1122 §2.3.2.1) and a
 * bounded queue of frames awaiting resolution that keeps the latest frame
 * per destination (RFC 1122 §2.3.2.2). The cache is a small array searched
 * linearly: it holds one entry per on-link neighbour, which is a handful. */
#include <stdlib.h>
#include <string.h>

#include "net/stack_internal.h"

static void arp_timer_fired(struct tb_timer *t, tb_time_ns now, void *ctx);

int tb_arp_init(struct tb_stack *st) {
    st->arp = calloc(st->cfg.arp_cache_entries, sizeof(*st->arp));
    if (st->arp == NULL) return -1;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) tb_timer_init(&st->arp[i].timer, arp_timer_fired);
    return 0;
}

static void pending_drop_all(struct tb_stack *st, struct tb_arp_entry *e, enum tb_drop_reason why) {
    while (e->pending_head != NULL) {
        struct tb_buf *b = e->pending_head;
        e->pending_head = b->qnext;
        b->qnext = NULL;
        tb_net_drop(st, b, why, false);
        st->arp_pending_total--;
    }
    e->pending_tail = NULL;
    e->pending_len = 0;
}

static void entry_free(struct tb_stack *st, struct tb_arp_entry *e, enum tb_drop_reason why) {
    tb_timer_cancel(&st->timers, &e->timer);
    pending_drop_all(st, e, why);
    e->state = TB_ARP_FREE;
    e->ipv4 = 0;
    e->requests_sent = 0;
}

void tb_arp_destroy(struct tb_stack *st) {
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        struct tb_arp_entry *e = &st->arp[i];
        tb_timer_cancel(&st->timers, &e->timer);
        while (e->pending_head != NULL) {
            struct tb_buf *b = e->pending_head;
            e->pending_head = b->qnext;
            b->qnext = NULL;
            tb_buf_free(b);
        }
    }
    free(st->arp);
    st->arp = NULL;
}

static struct tb_arp_entry *entry_find(struct tb_stack *st, uint32_t ipv4) {
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++)
        if (st->arp[i].state != TB_ARP_FREE && st->arp[i].ipv4 == ipv4) return &st->arp[i];
    return NULL;
}

/* A free slot, else the least recently confirmed resolved entry (lowest
 * index on ties). Entries being resolved are never evicted: their queued
 * frames are owed an answer. NULL when every slot is being resolved. */
static struct tb_arp_entry *entry_alloc(struct tb_stack *st) {
    struct tb_arp_entry *victim = NULL;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        struct tb_arp_entry *e = &st->arp[i];
        if (e->state == TB_ARP_FREE) return e;
        if (e->state == TB_ARP_REACHABLE && (victim == NULL || e->updated_ns < victim->updated_ns)) victim = e;
    }
    if (victim != NULL) {
        st->stats.arp_cache_evictions++;
        entry_free(st, victim, TB_DROP_tx_arp_timeout);
    }
    return victim;
}

static int arp_send(struct tb_stack *st, uint16_t op, const struct tb_mac *eth_dst, const struct tb_mac *tha,
                    uint32_t tpa) {
    struct tb_buf *b = tb_net_alloc(st);
    if (b == NULL) return TB_ERR_NOBUFS;
    struct tb_arp_repr arp = {.op = op, .sha = st->cfg.mac, .spa = st->cfg.ipv4_addr, .tha = *tha, .tpa = tpa};
    tb_arp_emit(&arp, tb_buf_put(b, TB_ARP_LEN));
    if (op == TB_ARP_OP_REQUEST) st->stats.arp_requests_tx++;
    else st->stats.arp_replies_tx++;
    return tb_eth_output(st, b, eth_dst, TB_ETHERTYPE_ARP);
}

static void send_request(struct tb_stack *st, struct tb_arp_entry *e, tb_time_ns now) {
    static const struct tb_mac unknown = {{0}};
    e->requests_sent++;
    arp_send(st, TB_ARP_OP_REQUEST, &tb_mac_broadcast, &unknown, e->ipv4);
    tb_timer_arm(&st->timers, &e->timer, now + st->cfg.arp_retry_ns);
}

static void resolved(struct tb_stack *st, struct tb_arp_entry *e, const struct tb_mac *mac, tb_time_ns now) {
    e->mac = *mac;
    e->state = TB_ARP_REACHABLE;
    e->updated_ns = now;
    e->requests_sent = 0;
    tb_timer_arm(&st->timers, &e->timer, now + st->cfg.arp_reachable_ns);
    while (e->pending_head != NULL) {
        struct tb_buf *b = e->pending_head;
        e->pending_head = b->qnext;
        b->qnext = NULL;
        e->pending_len--;
        st->arp_pending_total--;
        st->stats.arp_pending_flushed++;
        tb_eth_output(st, b, &e->mac, TB_ETHERTYPE_IPV4);
    }
    e->pending_tail = NULL;
}

static void arp_timer_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_arp_entry *e = TB_CONTAINER_OF(t, struct tb_arp_entry, timer);
    if (e->state == TB_ARP_REACHABLE) {
        entry_free(st, e, TB_DROP_tx_arp_timeout);   /* expired; the next send re-resolves */
        return;
    }
    TB_ASSERT(e->state == TB_ARP_INCOMPLETE);
    if (e->requests_sent < st->cfg.arp_max_retries) {
        send_request(st, e, now);
        return;
    }
    struct tb_event ev = {.type = TB_EV_UNREACHABLE, .reason = TB_UNREACH_ARP_TIMEOUT, .time_ns = now,
                          .peer_ipv4 = e->ipv4};
    ev.u.unreach.dropped_frames = e->pending_len;
    st->stats.arp_resolve_failures++;
    entry_free(st, e, TB_DROP_tx_arp_timeout);
    tb_net_event(st, &ev);
}

void tb_arp_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b) {
    struct tb_arp_repr arp;
    switch (tb_arp_parse(b->data, b->len, &arp)) {
    case TB_WIRE_OK: break;
    case TB_WIRE_ARP_BAD_HTYPE: tb_net_drop(st, b, TB_DROP_arp_bad_htype, true); return;
    case TB_WIRE_ARP_BAD_PTYPE: tb_net_drop(st, b, TB_DROP_arp_bad_ptype, true); return;
    case TB_WIRE_ARP_BAD_OP: tb_net_drop(st, b, TB_DROP_arp_bad_op, true); return;
    default: tb_net_drop(st, b, TB_DROP_arp_truncated, true); return;
    }
    if (arp.op == TB_ARP_OP_REQUEST) st->stats.arp_requests_rx++;
    else st->stats.arp_replies_rx++;
    /* Never learn a broadcast/multicast MAC or a claim on our own address. */
    if (tb_mac_is_multicast(&arp.sha) || arp.spa == st->cfg.ipv4_addr) {
        tb_net_drop(st, b, TB_DROP_arp_bad_sender, true);
        return;
    }
    /* RFC 826 "packet reception": merge the sender into an existing entry
     * first, then add it only if the packet is for us. spa 0 is an RFC 5227
     * probe and teaches nothing. */
    bool merged = false;
    struct tb_arp_entry *e = arp.spa != 0 ? entry_find(st, arp.spa) : NULL;
    if (e != NULL) {
        resolved(st, e, &arp.sha, now);
        merged = true;
    }
    if (arp.tpa != st->cfg.ipv4_addr) {
        if (merged) tb_buf_free(b);
        else tb_net_drop(st, b, TB_DROP_arp_not_for_us, true);
        return;
    }
    if (!merged && arp.spa != 0) {
        e = entry_alloc(st);
        if (e != NULL) {
            e->ipv4 = arp.spa;
            st->stats.arp_cache_inserts++;
            resolved(st, e, &arp.sha, now);
        }
    }
    if (arp.op == TB_ARP_OP_REQUEST) arp_send(st, TB_ARP_OP_REPLY, &arp.sha, &arp.sha, arp.spa);
    tb_buf_free(b);
}

/* A new INCOMPLETE entry for next_hop, its first request sent; NULL when
 * the cache has no slot. */
static struct tb_arp_entry *start_resolving(struct tb_stack *st, tb_time_ns now, uint32_t next_hop) {
    struct tb_arp_entry *e = entry_alloc(st);
    if (e == NULL) return NULL;
    e->ipv4 = next_hop;
    e->state = TB_ARP_INCOMPLETE;
    e->updated_ns = now;
    e->requests_sent = 0;
    st->stats.arp_cache_inserts++;
    send_request(st, e, now);
    return e;
}

bool tb_arp_burst_room(struct tb_stack *st, tb_time_ns now, uint32_t next_hop, uint32_t frames) {
    struct tb_arp_entry *e = entry_find(st, next_hop);
    if (e != NULL && e->state == TB_ARP_REACHABLE) return st->txq.cap - st->txq.len >= frames;
    /* Start resolving now, so the next burst finds the neighbour known. */
    if (e == NULL && (e = start_resolving(st, now, next_hop)) == NULL) return false;
    return e->pending_len + frames <= st->cfg.arp_pending_per_entry &&
           st->arp_pending_total + frames <= st->cfg.arp_pending_max;
}

int tb_arp_output(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, uint32_t next_hop) {
    struct tb_arp_entry *e = entry_find(st, next_hop);
    if (e != NULL && e->state == TB_ARP_REACHABLE) return tb_eth_output(st, b, &e->mac, TB_ETHERTYPE_IPV4);
    if (e == NULL && (e = start_resolving(st, now, next_hop)) == NULL) {
        tb_net_drop(st, b, TB_DROP_tx_arp_queue_full, false);
        return TB_ERR_QFULL;
    }
    /* Keep the latest frame: when a bound is hit, this entry's oldest goes. */
    if ((e->pending_len == st->cfg.arp_pending_per_entry || st->arp_pending_total == st->cfg.arp_pending_max) &&
        e->pending_head != NULL) {
        struct tb_buf *old = e->pending_head;
        e->pending_head = old->qnext;
        if (e->pending_head == NULL) e->pending_tail = NULL;
        old->qnext = NULL;
        e->pending_len--;
        st->arp_pending_total--;
        tb_net_drop(st, old, TB_DROP_tx_arp_queue_full, false);
    }
    if (st->arp_pending_total == st->cfg.arp_pending_max) {
        tb_net_drop(st, b, TB_DROP_tx_arp_queue_full, false);
        return TB_ERR_QFULL;
    }
    b->qnext = NULL;
    if (e->pending_tail != NULL) e->pending_tail->qnext = b;
    else e->pending_head = b;
    e->pending_tail = b;
    e->pending_len++;
    st->arp_pending_total++;
    st->stats.arp_pending_queued++;
    return TB_OK;
}

size_t tb_stack_arp_count(const struct tb_stack *st) {
    size_t n = 0;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) n += st->arp[i].state != TB_ARP_FREE;
    return n;
}

bool tb_stack_arp_lookup(const struct tb_stack *st, uint32_t ipv4, struct tb_mac *mac) {
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        const struct tb_arp_entry *e = &st->arp[i];
        if (e->state == TB_ARP_REACHABLE && e->ipv4 == ipv4) {
            if (mac != NULL) *mac = e->mac;
            return true;
        }
    }
    return false;
}

bool tb_arp_check(const struct tb_stack *st, const char **why) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < st->cfg.arp_cache_entries; i++) {
        const struct tb_arp_entry *e = &st->arp[i];
        uint32_t n = 0;
        for (const struct tb_buf *b = e->pending_head; b != NULL && n <= st->cfg.arp_pending_per_entry; b = b->qnext)
            n++;
        if (n != e->pending_len || n > st->cfg.arp_pending_per_entry) {
            *why = "ARP pending queue length wrong or over its bound";
            return false;
        }
        if (e->state != TB_ARP_INCOMPLETE && n != 0) {
            *why = "frames pending on an ARP entry that is not resolving";
            return false;
        }
        if (e->state != TB_ARP_FREE && !tb_timer_armed(&e->timer)) {
            *why = "live ARP entry without a timer";
            return false;
        }
        total += n;
    }
    if (total != st->arp_pending_total || total > st->cfg.arp_pending_max) {
        *why = "ARP pending total wrong or over its bound";
        return false;
    }
    return true;
}
