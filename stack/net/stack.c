/* The stack's API: configuration, creation, the driver-facing entry
 * points (input with Ethernet dispatch, tick, drain), events, counters and
 * introspection. What the layers call back into is in services.c. */
#include <stdlib.h>
#include <string.h>

#include "net/stack_internal.h"

void tb_config_default(struct tb_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    cfg->seed = 1;
    cfg->ipv4_prefix_len = 24;
    cfg->mtu = 1500;
    cfg->ttl = 64;
    cfg->buf_count = 1024;
    cfg->buf_size = 2048;
    cfg->buf_headroom = 128;
    cfg->tx_queue_len = 512;
    cfg->event_queue_len = 256;
    cfg->arp_cache_entries = 64;
    cfg->arp_pending_max = 96;
    cfg->arp_pending_per_entry = 48;   /* a 64 KiB datagram in 1500-byte fragments (45) waits whole */
    cfg->arp_reachable_ns = 60 * TB_NS_PER_S;
    cfg->arp_retry_ns = 1 * TB_NS_PER_S;
    cfg->arp_max_retries = 3;
    cfg->ip_reass_max_datagrams = 64;
    cfg->ip_reass_max_bufs = 0;                      /* buf_count / 8 */
    cfg->ip_reass_timeout_ns = 30 * TB_NS_PER_S;     /* Linux's; RFC 791 suggests 15 s, RFC 1122 60..120 s */
    cfg->tcp_max_conns = 1024;
    cfg->tcp_max_listeners = 16;
    cfg->tcp_syn_queue_len = 128;
    cfg->tcp_accept_queue_len = 128;
    cfg->tcp_sndbuf_bytes = 256 * 1024;
    cfg->tcp_rcvbuf_bytes = 256 * 1024;
    cfg->tcp_ooo_max_bytes = 256 * 1024;
    cfg->tcp_mss = 0;
    cfg->tcp_window_scaling = true;
    cfg->tcp_timestamps = true;
    cfg->tcp_sack = true;
    cfg->tcp_syncookies = true;
    cfg->tcp_nodelay = false;
    cfg->tcp_rto_initial_ns = 1 * TB_NS_PER_S;      /* RFC 6298 §2.1 */
    cfg->tcp_rto_min_ns = 200 * TB_NS_PER_MS;        /* Linux's floor; RFC 6298 §2.4 says 1 s */
    cfg->tcp_rto_max_ns = 60 * TB_NS_PER_S;          /* RFC 6298 §2.5 */
    cfg->tcp_max_retries = 12;
    cfg->tcp_syn_retries = 6;
    cfg->tcp_syn_timeout_ns = 180 * TB_NS_PER_S;      /* RFC 1122 §4.2.3.5: R2 for a SYN >= 3 minutes */
    cfg->tcp_delack_ns = 40 * TB_NS_PER_MS;
    cfg->tcp_msl_ns = 30 * TB_NS_PER_S;
    cfg->tcp_keepalive_idle_ns = 0;
    cfg->tcp_keepalive_intvl_ns = 75 * TB_NS_PER_S;  /* RFC 1122 §4.2.3.6 spirit; Linux's default */
    cfg->tcp_keepalive_probes = 9;
    cfg->tcp_challenge_acks_per_s = 100;
    cfg->tcp_oow_ack_interval_ns = 500 * TB_NS_PER_MS; /* Linux's tcp_invalid_ratelimit */
    cfg->tcp_initial_cwnd_segs = 0;
    cfg->tcp_cc = TB_CC_NEWRENO;
    cfg->tcp_rack_tlp = true;
    cfg->tcp_ecn = false;
    cfg->tcp_dupthresh = 3;
    cfg->tcp_seg_records = 0;
}

int tb_config_check(const struct tb_config *cfg, const char **why) {
    const char *msg = NULL;
    if (cfg->ipv4_prefix_len > 32) msg = "ipv4_prefix_len must be 0..32";
    else if (cfg->ipv4_addr == 0) msg = "ipv4_addr must be set";
    else if (tb_mac_is_multicast(&cfg->mac)) msg = "mac must be a unicast address";
    else if (cfg->mtu < 68 || cfg->mtu > 1500) msg = "mtu must be 68..1500 (RFC 791 minimum, Ethernet maximum)";
    else if (cfg->ttl == 0) msg = "ttl must be at least 1";
    else if (cfg->buf_count < 4 || cfg->buf_count > (1u << 24)) msg = "buf_count must be 4..16777216";
    else if (cfg->buf_headroom < TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + 60)
        msg = "buf_headroom must hold Ethernet + IPv4 + 60 bytes of transport header (94)";
    else if (cfg->buf_size < cfg->buf_headroom + TB_ETH_MAX_FRAME)
        msg = "buf_size must hold buf_headroom plus a 1514-byte frame";
    else if (cfg->buf_size > (1u << 20)) msg = "buf_size must be at most 1 MiB";
    else if (cfg->tx_queue_len == 0 || cfg->tx_queue_len > cfg->buf_count) msg = "tx_queue_len must be 1..buf_count";
    else if (cfg->event_queue_len == 0 || cfg->event_queue_len > (1u << 20)) msg = "event_queue_len must be 1..1048576";
    else if (cfg->arp_cache_entries == 0 || cfg->arp_cache_entries > 65536) msg = "arp_cache_entries must be 1..65536";
    else if (cfg->arp_pending_max > cfg->buf_count) msg = "arp_pending_max must not exceed buf_count";
    else if (cfg->arp_pending_per_entry == 0 || cfg->arp_pending_per_entry > cfg->arp_pending_max)
        msg = "arp_pending_per_entry must be 1..arp_pending_max";
    else if (cfg->arp_reachable_ns <= 0) msg = "arp_reachable_ns must be positive";
    else if (cfg->arp_retry_ns <= 0) msg = "arp_retry_ns must be positive";
    else if (cfg->arp_max_retries == 0) msg = "arp_max_retries must be at least 1";
    else if (cfg->ip_reass_max_datagrams > 4096) msg = "ip_reass_max_datagrams must be 0..4096 (0: reassembly off)";
    /* Reassembly may never hold more than half the pool: TCP must keep buffers. */
    else if (cfg->ip_reass_max_bufs != 0 && (cfg->ip_reass_max_bufs < 2 || cfg->ip_reass_max_bufs > cfg->buf_count / 2))
        msg = "ip_reass_max_bufs must be 0 (buf_count/8) or 2..buf_count/2";
    else if (cfg->ip_reass_timeout_ns < 15 * TB_NS_PER_S || cfg->ip_reass_timeout_ns > 60 * TB_NS_PER_S)
        msg = "ip_reass_timeout_ns must be 15..60 s (RFC 791's 15 s up to RFC 1122 §3.3.2's 60 s)";
    else if (cfg->tcp_max_conns == 0 || cfg->tcp_max_conns > (1u << 20)) msg = "tcp_max_conns must be 1..1048576";
    else if (cfg->tcp_max_listeners == 0 || cfg->tcp_max_listeners > 1024) msg = "tcp_max_listeners must be 1..1024";
    else if (cfg->tcp_syn_queue_len == 0 || cfg->tcp_syn_queue_len > 65535) msg = "tcp_syn_queue_len must be 1..65535";
    else if (cfg->tcp_accept_queue_len == 0 || cfg->tcp_accept_queue_len > 65535)
        msg = "tcp_accept_queue_len must be 1..65535";
    else if (cfg->tcp_sndbuf_bytes < 1024 || cfg->tcp_sndbuf_bytes > (1u << 30)) msg = "tcp_sndbuf_bytes must be 1K..1G";
    else if (cfg->tcp_rcvbuf_bytes < 1024 || cfg->tcp_rcvbuf_bytes > (1u << 30)) msg = "tcp_rcvbuf_bytes must be 1K..1G";
    else if (cfg->tcp_ooo_max_bytes > (1u << 30)) msg = "tcp_ooo_max_bytes must be at most 1G";
    else if (cfg->tcp_mss != 0 && (cfg->tcp_mss < 88 || cfg->tcp_mss > cfg->mtu - 40))
        msg = "tcp_mss must be 0 (from the MTU) or 88..mtu-40";
    else if (cfg->tcp_rto_min_ns <= 0 || cfg->tcp_rto_min_ns > cfg->tcp_rto_initial_ns ||
             cfg->tcp_rto_initial_ns > cfg->tcp_rto_max_ns)
        msg = "TCP RTOs must satisfy 0 < tcp_rto_min_ns <= tcp_rto_initial_ns <= tcp_rto_max_ns";
    else if (cfg->tcp_max_retries == 0 || cfg->tcp_max_retries > 100) msg = "tcp_max_retries must be 1..100";
    else if (cfg->tcp_syn_retries == 0 || cfg->tcp_syn_retries > 100) msg = "tcp_syn_retries must be 1..100";
    else if (cfg->tcp_delack_ns < 0 || cfg->tcp_delack_ns >= 500 * TB_NS_PER_MS)
        msg = "tcp_delack_ns must be 0..499ms (RFC 9293 §3.8.6.3: under 0.5 s)";
    else if (cfg->tcp_msl_ns <= 0) msg = "tcp_msl_ns must be positive";
    else if (cfg->tcp_keepalive_idle_ns < 0 || cfg->tcp_keepalive_intvl_ns <= 0 || cfg->tcp_keepalive_probes == 0)
        msg = "keepalive idle must be >= 0 (0: off), interval > 0 and probes >= 1";
    else if (cfg->tcp_challenge_acks_per_s == 0 || cfg->tcp_challenge_acks_per_s > 1000000)
        msg = "tcp_challenge_acks_per_s must be 1..1000000";
    else if (cfg->tcp_oow_ack_interval_ns < 0 || cfg->tcp_oow_ack_interval_ns > 60 * TB_NS_PER_S)
        msg = "tcp_oow_ack_interval_ns must be 0..60 s";
    else if (cfg->tcp_syn_timeout_ns < TB_NS_PER_S || cfg->tcp_syn_timeout_ns > TB_TCP_TIME_KNOB_MAX_NS)
        msg = "tcp_syn_timeout_ns must be 1 s..1 day";
    else if (cfg->tcp_rto_max_ns > TB_TCP_TIME_KNOB_MAX_NS) msg = "tcp_rto_max_ns must be at most 1 day";
    else if (cfg->tcp_keepalive_idle_ns > TB_TCP_TIME_KNOB_MAX_NS || cfg->tcp_keepalive_intvl_ns > TB_TCP_TIME_KNOB_MAX_NS)
        msg = "keepalive idle and interval must be at most 1 day";
    else if (cfg->tcp_initial_cwnd_segs > 1000) msg = "tcp_initial_cwnd_segs must be 0..1000";
    else if (cfg->tcp_cc >= TB_CC__COUNT) msg = "tcp_cc names no known congestion control";
    else if (cfg->tcp_dupthresh == 0 || cfg->tcp_dupthresh > 100) msg = "tcp_dupthresh must be 1..100";
    else if (cfg->tcp_seg_records > (1u << 24)) msg = "tcp_seg_records must be at most 16777216";
    if (why != NULL) *why = msg;
    return msg == NULL ? TB_OK : TB_ERR_INVAL;
}

struct tb_stack *tb_stack_new(const struct tb_config *cfg) {
    if (tb_config_check(cfg, NULL) != TB_OK) return NULL;
    struct tb_stack *st = calloc(1, sizeof(*st));
    if (st == NULL) return NULL;
    st->cfg = *cfg;
    st->netmask = cfg->ipv4_prefix_len == 0 ? 0 : UINT32_MAX << (32 - cfg->ipv4_prefix_len);
    tb_prng_seed(&st->prng, cfg->seed);
    st->ip_ident = (uint16_t)tb_prng_next(&st->prng);
    st->txq.cap = cfg->tx_queue_len;
    st->events = calloc(cfg->event_queue_len, sizeof(*st->events));
    /* One timer per ARP entry and reassembly entry plus TCP's per
     * connection: the heap never overflows. */
    uint32_t timer_count = cfg->arp_cache_entries + cfg->ip_reass_max_datagrams + tcp_timer_count(cfg);
    if (st->events == NULL || tb_pool_init(&st->pool, cfg->buf_count, cfg->buf_size) != 0 ||
        tb_timer_heap_init(&st->timers, timer_count) != 0 || tb_arp_init(st) != 0 || tb_ip_reass_init(st) != 0 ||
        tcp_init(st) != 0) {
        tb_stack_free(st);
        return NULL;
    }
    return st;
}

void tb_stack_free(struct tb_stack *st) {
    if (st == NULL) return;
    /* Frames waiting for ARP or for the driver may hold TCP's payload
     * slices: release them before TCP checks its descriptors came home. */
    if (st->arp != NULL) tb_arp_destroy(st);
    tb_ip_reass_destroy(st);
    while (st->txq.head != NULL) {
        struct tb_buf *b = st->txq.head;
        st->txq.head = b->qnext;
        b->qnext = NULL;
        tb_buf_free(b);
    }
    tcp_destroy(st);
    /* A buffer still out would return to freed memory later. */
    TB_ASSERT(st->pool.count == 0 || st->pool.free_count == st->pool.count);
    tb_pool_destroy(&st->pool);
    tb_timer_heap_destroy(&st->timers);
    free(st->events);
    free(st);
}

struct tb_buf *tb_stack_alloc_rx(struct tb_stack *st, size_t len) {
    if (len > st->cfg.buf_size) return NULL;
    struct tb_buf *b = tb_pool_get(&st->pool, 0);
    if (b == NULL) {
        st->stats.pool_empty++;
        return NULL;
    }
    b->len = (uint32_t)len;
    return b;
}

size_t tb_stack_events(struct tb_stack *st, struct tb_event *ev, size_t max) {
    size_t n = 0;
    uint32_t cap = st->cfg.event_queue_len;
    while (n < max && st->ev_len > 0) {
        ev[n++] = st->events[st->ev_head];
        st->ev_head = (st->ev_head + 1) % cap;
        st->ev_len--;
    }
    return n;
}

/* Makes the frame one writable segment of our pool, so every parser sees
 * contiguous bytes and replies can be built in place. */
static struct tb_buf *linearize(struct tb_stack *st, struct tb_buf *frame) {
    if (frame->next == NULL && !(frame->flags & TB_BUF_F_INDIRECT)) return frame;
    size_t len = tb_buf_chain_len(frame);
    if (len > st->cfg.buf_size - st->cfg.buf_headroom) {
        tb_net_drop(st, frame, TB_DROP_frame_too_long, true);
        return NULL;
    }
    struct tb_buf *flat = tb_net_alloc(st);
    if (flat == NULL) {
        st->stats.rx_dropped++;
        tb_buf_free(frame);
        return NULL;
    }
    uint8_t *dst = tb_buf_put(flat, (uint32_t)len);
    TB_ASSERT(dst != NULL);
    tb_buf_copy_out(frame, 0, dst, len);
    tb_buf_free(frame);
    return flat;
}

void tb_stack_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *frame) {
    TB_ASSERT(frame != NULL && frame->refcnt > 0);
    now = tb_now_advance(st, now);
    st->stats.rx_frames++;
    st->stats.rx_bytes += tb_buf_chain_len(frame);
    struct tb_buf *b = linearize(st, frame);
    if (b == NULL) return;

    struct tb_eth_repr eth;
    size_t off;
    if (tb_eth_parse(b->data, b->len, &eth, &off) != TB_WIRE_OK) {
        tb_net_drop(st, b, TB_DROP_eth_runt, true);
        return;
    }
    if (!tb_mac_equal(&eth.dst, &st->cfg.mac) && !tb_mac_is_broadcast(&eth.dst)) {
        tb_net_drop(st, b, TB_DROP_eth_not_for_us, true);
        return;
    }
    tb_buf_pull(b, (uint32_t)off);
    switch (eth.ethertype) {
    case TB_ETHERTYPE_ARP:
        tb_arp_input(st, now, b);
        break;
    case TB_ETHERTYPE_IPV4:
        if (!tb_mac_equal(&eth.dst, &st->cfg.mac)) {
            /* We do not join broadcast IP traffic (no UDP, no DHCP). */
            tb_net_drop(st, b, TB_DROP_eth_not_for_us, true);
            break;
        }
        tb_ipv4_input(st, now, b);
        break;
    default:
        tb_net_drop(st, b, TB_DROP_eth_unknown_type, true);
        break;
    }
}

size_t tb_stack_drain_tx(struct tb_stack *st, struct tb_buf **out, size_t max) {
    size_t n = 0;
    while (n < max && st->txq.head != NULL) {
        struct tb_buf *b = st->txq.head;
        st->txq.head = b->qnext;
        if (st->txq.head == NULL) st->txq.tail = NULL;
        b->qnext = NULL;
        st->txq.len--;
        out[n++] = b;
    }
    return n;
}

void tb_stack_tick(struct tb_stack *st, tb_time_ns now) {
    now = tb_now_advance(st, now);
    st->stats.timers_fired += tb_timer_run(&st->timers, now, st);
}

tb_time_ns tb_stack_next_deadline(const struct tb_stack *st) { return tb_timer_next(&st->timers); }

/* ---- counters and introspection --------------------------------------- */
static const char *const drop_names[TB_DROP__COUNT] = {
#define NAME(name) #name,
    TB_DROP_REASONS(NAME)
#undef NAME
};

const char *tb_drop_reason_name(enum tb_drop_reason r) {
    return (unsigned)r < TB_DROP__COUNT ? drop_names[r] : "unknown";
}

void tb_stack_stats(const struct tb_stack *st, struct tb_stats *out) { *out = st->stats; }

size_t tb_stats_list(const struct tb_stats *s, struct tb_counter *out, size_t max) {
    size_t n = 0;
#define LIST(field)                                                           \
    if (n < max) out[n] = (struct tb_counter){.name = #field, .value = s->field}; \
    n++;
    TB_COUNTERS(LIST)
#undef LIST
    return n;
}

size_t tb_stack_pool_free(const struct tb_stack *st) { return st->pool.free_count; }

void tb_stack_set_trace(struct tb_stack *st, tb_trace_fn fn, void *ctx) {
    st->trace = fn;
    st->trace_ctx = ctx;
}

const char *tb_trace_event_name(uint32_t event) {
    switch (event) {
    case TB_TRACE_ACK: return "ack";
    case TB_TRACE_RTO: return "rto";
    case TB_TRACE_PERSIST: return "persist";
    case TB_TRACE_CONGESTION: return "congestion";
    case TB_TRACE_IDLE_RESTART: return "idle_restart";
    case TB_TRACE_STATE: return "state";
    case TB_TRACE_RECOVERY: return "recovery";
    case TB_TRACE_RECOVERY_EXIT: return "recovery_exit";
    case TB_TRACE_LOSS: return "loss";
    case TB_TRACE_RETRANSMIT: return "retransmit";
    case TB_TRACE_TLP: return "tlp";
    case TB_TRACE_UNDO: return "undo";
    case TB_TRACE_ECN: return "ecn";
    default: return "unknown";
    }
}

bool tb_stack_check(const struct tb_stack *st, const char **why) {
    const char *msg = NULL;
    uint32_t n = 0;
    const struct tb_buf *last = NULL;
    for (const struct tb_buf *b = st->txq.head; b != NULL && n <= st->txq.cap; b = b->qnext) {
        if (b->refcnt == 0) msg = "freed buffer on the tx queue";
        last = b;
        n++;
    }
    if (msg == NULL && n != st->txq.len) msg = "tx queue length disagrees with its list";
    else if (msg == NULL && last != st->txq.tail) msg = "tx queue tail is not its last packet";
    else if (msg == NULL && st->txq.len > st->txq.cap) msg = "tx queue over its bound";
    else if (msg == NULL && st->ev_len > st->cfg.event_queue_len) msg = "event queue over its bound";
    else if (msg == NULL && st->pool.free_count > st->pool.count) msg = "pool free count above its size";
    else if (msg == NULL && !tb_timer_heap_valid(&st->timers)) msg = "timer heap out of order";
    if (msg == NULL && !tb_arp_check(st, &msg)) { /* msg set */ }
    if (msg == NULL && !tb_ip_reass_check(st, &msg)) { /* msg set */ }
    if (msg == NULL && !tcp_check(st, &msg)) { /* msg set */ }
    if (why != NULL) *why = msg;
    return msg == NULL;
}

const char *tb_err_name(int err) {
    switch (err) {
    case TB_OK: return "ok";
    case TB_ERR_INVAL: return "invalid argument";
    case TB_ERR_NOBUFS: return "no buffers";
    case TB_ERR_NOROUTE: return "no route";
    case TB_ERR_MSGSIZE: return "message too long";
    case TB_ERR_QFULL: return "queue full";
    case TB_ERR_AGAIN: return "try again";
    case TB_ERR_BADCONN: return "not a live connection";
    case TB_ERR_NOTCONN: return "not connected";
    case TB_ERR_INUSE: return "address in use";
    case TB_ERR_NOMEM: return "table full";
    case TB_ERR_RESET: return "connection reset";
    case TB_ERR_TIMEOUT: return "connection timed out";
    case TB_ERR_REFUSED: return "connection refused";
    case TB_ERR_CLOSED: return "write side already shut";
    case TB_ERR_ABORTED: return "connection aborted";
    case TB_ERR_UNREACH: return "destination unreachable";
    default: return "unknown error";
    }
}

const char *tb_ipv4_str(uint32_t ip, char buf[16]) {
    char *p = buf;
    for (int i = 3; i >= 0; i--) {
        unsigned octet = (ip >> (8 * i)) & 0xff;
        if (octet >= 100) *p++ = (char)('0' + octet / 100);
        if (octet >= 10) *p++ = (char)('0' + (octet / 10) % 10);
        *p++ = (char)('0' + octet % 10);
        if (i > 0) *p++ = '.';
    }
    *p = '\0';
    return buf;
}

bool tb_ipv4_parse_str(const char *s, uint32_t *ip) {
    uint32_t value = 0;
    for (int part = 0; part < 4; part++) {
        unsigned octet = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            octet = octet * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || octet > 255) return false;
        }
        if (digits == 0) return false;
        value = (value << 8) | octet;
        if (part < 3 && *s++ != '.') return false;
    }
    if (*s != '\0') return false;
    *ip = value;
    return true;
}
