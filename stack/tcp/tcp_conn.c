/* The connection table: slots with generation-checked handles, a hash on
 * the 4-tuple, listeners, ISNs (RFC 6528), SYN cookies (RFC 4987), events,
 * and the self-checks. */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_internal.h"

#define HANDLE_INDEX_BITS 20
#define HANDLE_INDEX_MASK ((1u << HANDLE_INDEX_BITS) - 1)
#define HANDLE_GEN_MASK 0x3ffu
#define HANDLE_LISTENER_BIT (1u << 30)
#define COOKIE_PERIOD_NS (64 * TB_NS_PER_S)

/* MSS values a SYN cookie can carry in 3 bits; the largest not above the
 * client's is chosen, so the smallest must be below any MSS a client can
 * send (MUST-16: never more than the peer's MSS). A 1-byte entry is slow
 * for absurd clients, never wrong. */
static const uint16_t cookie_mss[8] = {1, 64, 216, 536, 1220, 1360, 1440, 1460};

static struct tb_sipkey new_key(struct tb_stack *st) {
    struct tb_sipkey k = {tb_prng_next(&st->prng), tb_prng_next(&st->prng)};
    return k;
}

uint32_t tcp_timer_count(const struct tb_config *cfg) { return cfg->tcp_max_conns * TCP_TIMERS_PER_CONN; }

int tcp_init(struct tb_stack *st) {
    const struct tb_config *cfg = &st->cfg;
    struct tcp_state *tcp = calloc(1, sizeof(*tcp));
    if (tcp == NULL) return -1;
    st->tcp = tcp;
    uint32_t buckets = 1;
    while (buckets < cfg->tcp_max_conns) buckets <<= 1;
    tcp->conns = calloc(cfg->tcp_max_conns, sizeof(*tcp->conns));
    tcp->hash = malloc(buckets * sizeof(*tcp->hash));
    tcp->listeners = calloc(cfg->tcp_max_listeners ? cfg->tcp_max_listeners : 1, sizeof(*tcp->listeners));
    if (tcp->conns == NULL || tcp->hash == NULL || tcp->listeners == NULL ||
        tb_pool_init(&tcp->ind_pool, cfg->buf_count, 0) != 0 || tcp_segs_init(st) != 0)
        return -1;
    tcp->hash_mask = buckets - 1;
    for (uint32_t i = 0; i < buckets; i++) tcp->hash[i] = TCP_NONE;
    /* Free list in index order, so slot 0 is used first. */
    tcp->free_head = TCP_NONE;
    for (uint32_t i = cfg->tcp_max_conns; i-- > 0;) {
        struct tb_tcb *tp = &tcp->conns[i];
        tp->index = i;
        tp->free_next = tcp->free_head;
        tcp->free_head = i;
        tcp_timers_init(tp);
    }
    tcp->isn_key = new_key(st);
    tcp->cookie_key = new_key(st);
    tcp->port_key = new_key(st);
    tcp->hash_key = new_key(st);
    tcp->ts_key = new_key(st);
    tcp->next_ephemeral = (uint32_t)tb_prng_next(&st->prng);
    tcp->last_lookup = TCP_NONE;
    return 0;
}

void tcp_destroy(struct tb_stack *st) {
    struct tcp_state *tcp = st->tcp;
    if (tcp == NULL) return;
    if (tcp->conns != NULL)
        for (uint32_t i = 0; i < st->cfg.tcp_max_conns; i++)
            if (tcp->conns[i].in_use) tcp_free(st, &tcp->conns[i]);
    free(tcp->conns);
    free(tcp->hash);
    free(tcp->listeners);
    TB_ASSERT(tcp->seg_free_count == tcp->seg_total);
    free(tcp->segs);
    TB_ASSERT(tcp->ind_pool.free_count == tcp->ind_pool.count);
    tb_pool_destroy(&tcp->ind_pool);
    free(tcp);
    st->tcp = NULL;
}

/* ---- handles ------------------------------------------------------------ */
int32_t tcp_conn_handle(const struct tb_tcb *tp) {
    return (int32_t)(((uint32_t)(tp->gen & HANDLE_GEN_MASK) << HANDLE_INDEX_BITS) | tp->index);
}

struct tb_tcb *tcp_from_handle(struct tb_stack *st, int32_t handle) {
    if (handle < 0 || ((uint32_t)handle & HANDLE_LISTENER_BIT)) return NULL;
    uint32_t index = (uint32_t)handle & HANDLE_INDEX_MASK;
    uint32_t gen = ((uint32_t)handle >> HANDLE_INDEX_BITS) & HANDLE_GEN_MASK;
    if (index >= st->cfg.tcp_max_conns) return NULL;
    struct tb_tcb *tp = &st->tcp->conns[index];
    if (!tp->in_use || (tp->gen & HANDLE_GEN_MASK) != gen || (tp->flags & TF_APP_CLOSED)) return NULL;
    if ((tp->flags & TF_PASSIVE) && !(tp->flags & TF_ACCEPTED)) return NULL;
    return tp;
}

int32_t tcp_listener_handle(const struct tb_stack *st, const struct tcp_listener *l) {
    uint32_t index = (uint32_t)(l - st->tcp->listeners);
    return (int32_t)(HANDLE_LISTENER_BIT | ((uint32_t)(l->gen & HANDLE_GEN_MASK) << HANDLE_INDEX_BITS) | index);
}

struct tcp_listener *tcp_listener_from_handle(struct tb_stack *st, int32_t handle) {
    if (handle < 0 || !((uint32_t)handle & HANDLE_LISTENER_BIT)) return NULL;
    uint32_t index = (uint32_t)handle & HANDLE_INDEX_MASK;
    uint32_t gen = ((uint32_t)handle >> HANDLE_INDEX_BITS) & HANDLE_GEN_MASK;
    if (index >= st->cfg.tcp_max_listeners) return NULL;
    struct tcp_listener *l = &st->tcp->listeners[index];
    if (!l->in_use || l->app_closed || (l->gen & HANDLE_GEN_MASK) != gen) return NULL;
    return l;
}

struct tcp_listener *tcp_listener_find(struct tb_stack *st, uint16_t port) {
    for (uint32_t i = 0; i < st->cfg.tcp_max_listeners; i++) {
        struct tcp_listener *l = &st->tcp->listeners[i];
        if (l->in_use && !l->app_closed && l->port == port) return l;
    }
    return NULL;
}

/* ---- the 4-tuple hash --------------------------------------------------- */
static uint32_t tuple_hash(const struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport) {
    uint8_t key[12];
    tb_put32(key, lip);
    tb_put16(key + 4, lport);
    tb_put32(key + 6, rip);
    tb_put16(key + 10, rport);
    return (uint32_t)tb_siphash(&st->tcp->hash_key, key, sizeof(key)) & st->tcp->hash_mask;
}

struct tb_tcb *tcp_lookup(struct tb_stack *st, uint32_t local_ip, uint16_t local_port, uint32_t remote_ip,
                          uint16_t remote_port) {
    struct tcp_state *tcp = st->tcp;
    /* Consecutive segments mostly belong to one connection: check it first. */
    if (tcp->last_lookup < st->cfg.tcp_max_conns) {
        struct tb_tcb *tp = &tcp->conns[tcp->last_lookup];
        if ((tp->flags & TF_IN_HASH) && tp->local_port == local_port && tp->remote_port == remote_port &&
            tp->remote_ip == remote_ip && tp->local_ip == local_ip)
            return tp;
    }
    uint32_t i = tcp->hash[tuple_hash(st, local_ip, local_port, remote_ip, remote_port)];
    uint32_t steps = 0;
    while (i != TCP_NONE) {
        struct tb_tcb *tp = &tcp->conns[i];
        if (tp->local_port == local_port && tp->remote_port == remote_port && tp->remote_ip == remote_ip &&
            tp->local_ip == local_ip) {
            tcp->last_lookup = i;
            return tp;
        }
        i = tp->hash_next;
        TB_ASSERT(++steps <= st->cfg.tcp_max_conns);
    }
    return NULL;
}

void tcp_hash_insert(struct tb_stack *st, struct tb_tcb *tp) {
    TB_ASSERT(!(tp->flags & TF_IN_HASH));
    uint32_t *bucket = &st->tcp->hash[tuple_hash(st, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port)];
    tp->hash_next = *bucket;
    *bucket = tp->index;
    tp->flags |= TF_IN_HASH;
}

void tcp_hash_remove(struct tb_stack *st, struct tb_tcb *tp) {
    if (!(tp->flags & TF_IN_HASH)) return;
    uint32_t *link = &st->tcp->hash[tuple_hash(st, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port)];
    while (*link != tp->index) {
        TB_ASSERT(*link != TCP_NONE);
        link = &st->tcp->conns[*link].hash_next;
    }
    *link = tp->hash_next;
    tp->hash_next = TCP_NONE;
    tp->flags &= ~(uint32_t)TF_IN_HASH;
}

/* ---- slots -------------------------------------------------------------- */
void tcp_conn_defaults(struct tb_stack *st, struct tb_tcb *tp) {
    const struct tb_config *cfg = &st->cfg;
    tp->sndbuf_max = cfg->tcp_sndbuf_bytes;
    tp->rcvbuf_max = cfg->tcp_rcvbuf_bytes;
    tp->ooo_max = cfg->tcp_ooo_max_bytes;
    tp->rto_ns = cfg->tcp_rto_initial_ns;
    tp->rto_min_ns = cfg->tcp_rto_min_ns;
    tp->rto_max_ns = cfg->tcp_rto_max_ns;
    tp->delack_ns = cfg->tcp_delack_ns;
    tp->keep_idle_ns = cfg->tcp_keepalive_idle_ns;
    tp->keep_intvl_ns = cfg->tcp_keepalive_intvl_ns;
    tp->keep_probes = cfg->tcp_keepalive_probes;
    tp->max_retries = cfg->tcp_max_retries;
    tp->quickack_left = cfg->tcp_quickack_segs;
    tp->mss_cap = tcp_mss_for_mtu(cfg->mtu);
    if (cfg->tcp_mss != 0 && cfg->tcp_mss < tp->mss_cap) tp->mss_cap = cfg->tcp_mss;
    tp->rcv_mss = tp->mss_cap;
    tp->mss = TCP_DEFAULT_MSS < tp->mss_cap ? TCP_DEFAULT_MSS : tp->mss_cap;
    tp->peer_mss = TCP_DEFAULT_MSS;
    if (cfg->tcp_nodelay) tp->flags |= TF_NODELAY;
    tp->cc = tcp_cc_lookup(cfg->tcp_cc);
    tp->soft_icmp_type = tp->soft_icmp_code = -1;
    tp->seg_head = tp->seg_tail = TCP_NONE;
    tp->listener = TCP_NONE;
    tp->accept_next = TCP_NONE;
    tp->hash_next = TCP_NONE;
}

/* A full table gives up its oldest TIME-WAIT connection the application
 * has released, rather than refuse a new one: a server that closes first
 * (HTTP with Connection: close) holds one per connection for 2 x MSL, and
 * would otherwise refuse every connection once tcp_max_conns of them
 * pile up. TIME-WAIT guards against old duplicates (RFC 9293 §3.6.1);
 * Linux makes the same trade when its TIME-WAIT buckets overflow, and
 * counts it, as we do. Oldest: the earliest 2MSL deadline, then the lowest
 * slot, so the choice is deterministic. The scan runs only when full. */
static bool evict_time_wait(struct tb_stack *st) {
    struct tcp_state *tcp = st->tcp;
    struct tb_tcb *oldest = NULL;
    for (uint32_t i = 0; i < st->cfg.tcp_max_conns; i++) {
        struct tb_tcb *tp = &tcp->conns[i];
        if (!tp->in_use || tp->state != TB_TCP_TIME_WAIT || !(tp->flags & TF_APP_CLOSED)) continue;
        if (oldest == NULL || tp->t_2msl.deadline_ns < oldest->t_2msl.deadline_ns) oldest = tp;
    }
    if (oldest == NULL) return false;
    st->stats.tcp_time_wait_evicted++;
    tcp_free(st, oldest);
    return true;
}

struct tb_tcb *tcp_alloc(struct tb_stack *st) {
    struct tcp_state *tcp = st->tcp;
    if (tcp->free_head == TCP_NONE && !evict_time_wait(st)) return NULL;
    struct tb_tcb *tp = &tcp->conns[tcp->free_head];
    tcp->free_head = tp->free_next;
    uint16_t gen = (uint16_t)(tp->gen + 1);
    uint32_t index = tp->index;
    memset(tp, 0, sizeof(*tp));
    tp->gen = gen;
    tp->index = index;
    tp->in_use = true;
    tp->free_next = TCP_NONE;
    tcp_timers_init(tp);
    tcp_conn_defaults(st, tp);
    tcp->live_count++;
    return tp;
}

static void accept_queue_remove(struct tb_stack *st, struct tcp_listener *l, struct tb_tcb *tp) {
    uint32_t *link = &l->accept_head;
    uint32_t prev = TCP_NONE;
    while (*link != TCP_NONE && *link != tp->index) {
        prev = *link;
        link = &st->tcp->conns[*link].accept_next;
    }
    if (*link != tp->index) return;
    *link = tp->accept_next;
    if (l->accept_tail == tp->index) l->accept_tail = prev;
    l->accept_count--;
    tp->accept_next = TCP_NONE;
}

void tcp_free(struct tb_stack *st, struct tb_tcb *tp) {
    TB_ASSERT(tp->in_use);
    tcp_timers_cancel(st, tp);
    tcp_hash_remove(st, tp);
    if (tp->listener != TCP_NONE) {
        struct tcp_listener *l = &st->tcp->listeners[tp->listener];
        /* The flag, not the state: tcp_close_state has already set CLOSED. */
        if (tp->flags & TF_IN_SYN_QUEUE) {
            TB_ASSERT(l->syn_count > 0);
            l->syn_count--;
            tp->flags &= ~(uint32_t)TF_IN_SYN_QUEUE;
        } else {
            accept_queue_remove(st, l, tp);
        }
        tp->listener = TCP_NONE;
    }
    tcp_bufq_free(&tp->sndq);
    tcp_bufq_free(&tp->rcvq);
    tcp_bufq_free(&tp->oooq);
    tcp_segs_free_all(st, tp);
    tp->snd_cursor = NULL;
    tp->in_use = false;
    tp->state = TB_TCP_CLOSED;
    tp->free_next = st->tcp->free_head;
    st->tcp->free_head = tp->index;
    st->tcp->live_count--;
}

void tcp_trace(struct tb_stack *st, const struct tb_tcb *tp, uint32_t event, const char *reason, tb_time_ns now) {
    if (st->trace == NULL) return;
    struct tb_trace t = {
        .time_ns = now, .conn = tcp_conn_handle(tp), .event = event, .reason = reason, .state = tp->state,
        .cwnd_bytes = tp->cwnd, .ssthresh_bytes = tp->ssthresh, .flight_bytes = tp->snd_max - tp->snd_una,
        .pipe_bytes = tcp_pipe(st, tp),
        .snd_wnd_bytes = tp->snd_wnd, .srtt_ns = tp->srtt_ns, .rto_ns = tp->rto_ns, .snd_una = tp->snd_una,
        .snd_nxt = tp->snd_nxt,
    };
    st->trace(st->trace_ctx, &t);
}

void tcp_set_state(struct tb_stack *st, struct tb_tcb *tp, int state, tb_time_ns now) {
    if (state == TB_TCP_ESTABLISHED && tp->state != TB_TCP_ESTABLISHED) st->stats.tcp_conns_established++;
    bool changed = tp->state != state;
    tp->state = (uint8_t)state;
    if (changed) tcp_trace(st, tp, TB_TRACE_STATE, tb_tcp_state_name(state), now);
}

/* A connection nobody can see any more (handle given back, or a passive
 * child never accepted) is freed as soon as it is CLOSED. */
bool tcp_orphan(const struct tb_tcb *tp) {
    return (tp->flags & TF_APP_CLOSED) || ((tp->flags & TF_PASSIVE) && !(tp->flags & TF_ACCEPTED));
}

void tcp_close_state(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    tcp_timers_cancel(st, tp);
    tcp_hash_remove(st, tp);
    if (tp->state != TB_TCP_CLOSED) st->stats.tcp_conns_closed++;
    tcp_set_state(st, tp, TB_TCP_CLOSED, now);
    tcp_bufq_free(&tp->sndq);
    tcp_bufq_free(&tp->oooq);
    tcp_segs_free_all(st, tp);
    tp->snd_cursor = NULL;
    /* Unread data stays readable after an orderly close, not after an error. */
    if (tp->error != 0) tcp_bufq_free(&tp->rcvq);
    if (tcp_orphan(tp)) tcp_free(st, tp);
}

void tcp_event(struct tb_stack *st, struct tb_tcb *tp, uint32_t type, int32_t error, tb_time_ns now) {
    if (tcp_orphan(tp)) return;
    struct tb_event ev = {.type = type, .time_ns = now, .peer_ipv4 = tp->remote_ip, .conn = tcp_conn_handle(tp),
                          .error = error};
    tb_net_event(st, &ev);
}

void tcp_fail(struct tb_stack *st, struct tb_tcb *tp, int32_t error, tb_time_ns now) {
    tp->error = error;
    if (error == TB_ERR_RESET) st->stats.tcp_conns_reset++;
    if (error == TB_ERR_TIMEOUT) st->stats.tcp_conns_timed_out++;
    if (!(tp->flags & TF_CLOSED_EVENT)) {
        tp->flags |= TF_CLOSED_EVENT;
        tcp_event(st, tp, TB_EV_TCP_ERROR, error, now);
    }
    tcp_close_state(st, tp, now);
}

/* ---- ISNs, timestamps offsets, cookies ---------------------------------- */
static uint64_t tuple_siphash(const struct tb_sipkey *key, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                              uint32_t extra1, uint32_t extra2) {
    uint8_t buf[20];
    tb_put32(buf, lip);
    tb_put16(buf + 4, lport);
    tb_put32(buf + 6, rip);
    tb_put16(buf + 10, rport);
    tb_put32(buf + 12, extra1);
    tb_put32(buf + 16, extra2);
    return tb_siphash(key, buf, sizeof(buf));
}

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4-microsecond timer. */
uint32_t tcp_isn(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport, tb_time_ns now) {
    uint32_t m = (uint32_t)((uint64_t)now / 4000);
    return m + (uint32_t)tuple_siphash(&st->tcp->isn_key, lip, lport, rip, rport, 0, 0);
}

/* RFC 7323 §5.4: a per-connection random offset hides the clock. */
uint32_t tcp_ts_offset(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport) {
    return (uint32_t)tuple_siphash(&st->tcp->ts_key, lip, lport, rip, rport, 0, 0);
}

/* The cookie: 24 bits of keyed hash, 5 bits of a 64-second counter, 3 bits
 * of MSS index. It is valid for the current and the previous period. */
uint32_t tcp_cookie_make(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                         uint32_t peer_isn, uint16_t mss, tb_time_ns now) {
    uint32_t t = (uint32_t)((uint64_t)now / COOKIE_PERIOD_NS);
    uint32_t idx = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (cookie_mss[i] <= mss) idx = i;
    uint32_t h = (uint32_t)tuple_siphash(&st->tcp->cookie_key, lip, lport, rip, rport, peer_isn, t);
    return (h & 0xffffff00u) | ((t & 0x1f) << 3) | idx;
}

bool tcp_cookie_check(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                      uint32_t peer_isn, uint32_t cookie, tb_time_ns now, uint16_t *mss) {
    uint32_t t_now = (uint32_t)((uint64_t)now / COOKIE_PERIOD_NS);
    for (uint32_t age = 0; age < 2 && age <= t_now; age++) {
        uint32_t t = t_now - age;
        if (((cookie >> 3) & 0x1f) != (t & 0x1f)) continue;
        uint32_t h = (uint32_t)tuple_siphash(&st->tcp->cookie_key, lip, lport, rip, rport, peer_isn, t);
        if ((h & 0xffffff00u) == (cookie & 0xffffff00u)) {
            *mss = cookie_mss[cookie & 7];
            return true;
        }
    }
    return false;
}

/* ---- self-checks -------------------------------------------------------- */
static bool queue_ok(const struct tcp_bufq *q, uint32_t max_count) {
    uint32_t n = 0, bytes = 0;
    const struct tb_buf *last = NULL;
    for (const struct tb_buf *b = q->head; b != NULL; b = b->qnext) {
        if (++n > max_count || b->refcnt == 0) return false;
        bytes += b->len;
        last = b;
    }
    return n == q->count && bytes == q->bytes && last == q->tail;
}

bool tcp_check(const struct tb_stack *st, const char **why) {
    const struct tcp_state *tcp = st->tcp;
    uint32_t live = 0;
    uint32_t max_bufs = st->cfg.buf_count + tcp->ind_pool.count + 1;
    for (uint32_t i = 0; i < st->cfg.tcp_max_conns; i++) {
        const struct tb_tcb *tp = &tcp->conns[i];
        if (!tp->in_use) continue;
        live++;
        if (!queue_ok(&tp->sndq, max_bufs) || !queue_ok(&tp->rcvq, max_bufs) || !queue_ok(&tp->oooq, max_bufs)) {
            *why = "TCP queue count, bytes or tail inconsistent";
            return false;
        }
        if (tp->state == TB_TCP_CLOSED || tp->state == TB_TCP_LISTEN) continue;
        if (!SEQ_LEQ(tp->snd_una, tp->snd_nxt) || !SEQ_LEQ(tp->snd_nxt, tp->snd_max)) {
            *why = "TCP send sequence out of order (snd_una <= snd_nxt <= snd_max)";
            return false;
        }
        uint32_t data_lo = SEQ_MIN(SEQ_MAX(tp->snd_una, tp->iss + 1), tp->snd_end);
        if (tp->sndq.bytes != tp->snd_end - data_lo) {
            *why = "TCP send queue bytes disagree with the sequence space";
            return false;
        }
        uint32_t prev_end = tp->rcv_nxt;
        uint32_t ooo_bytes = 0;
        for (const struct tb_buf *b = tp->oooq.head; b != NULL; b = b->qnext) {
            if (b != tp->oooq.head && SEQ_LT(b->seq, prev_end)) {
                *why = "TCP out-of-order queue overlaps or is unsorted";
                return false;
            }
            if (!SEQ_GT(b->seq, tp->rcv_nxt) || b->len == 0) {
                *why = "TCP out-of-order segment at or before rcv_nxt";
                return false;
            }
            prev_end = b->seq + b->len;
            ooo_bytes += b->len;
        }
        if (ooo_bytes > tp->ooo_max) {
            *why = "TCP out-of-order queue over its bound";
            return false;
        }
        if (!tcp_sack_check(st, tp, why)) return false;
        if (tp->state == TB_TCP_TIME_WAIT && !tb_timer_armed(&tp->t_2msl)) {
            *why = "TIME-WAIT without its 2MSL timer";
            return false;
        }
        if ((tp->flags & TF_IN_HASH) &&
            tcp_lookup((struct tb_stack *)st, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port) != tp) {
            *why = "TCP connection missing from its hash chain";
            return false;
        }
    }
    if (live != tcp->live_count) {
        *why = "TCP live connection count disagrees with the table";
        return false;
    }
    return true;
}
