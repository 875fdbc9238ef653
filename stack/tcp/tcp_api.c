/* The application's side of TCP. Calls never block and never call back:
 * results come back as return values and as events in the stack's queue. */
#include <string.h>

#include "tcp/tcp_internal.h"

#define EPHEMERAL_MIN 49152u   /* RFC 6056 §3.2 (IANA's dynamic range) */
#define EPHEMERAL_COUNT 16384u

static const char *const state_names[] = {"CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                          "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                          "CLOSING",     "LAST-ACK",   "TIME-WAIT"};

const char *tb_tcp_state_name(int state) {
    return state >= 0 && (size_t)state < TB_ARRAY_LEN(state_names) ? state_names[state] : "UNKNOWN";
}

int32_t tb_tcp_listen(struct tb_stack *st, uint16_t port, uint32_t backlog) {
    if (port == 0) return TB_ERR_INVAL;
    if (tcp_listener_find(st, port) != NULL) return TB_ERR_INUSE;
    for (uint32_t i = 0; i < st->cfg.tcp_max_listeners; i++) {
        struct tcp_listener *l = &st->tcp->listeners[i];
        if (l->in_use) continue;
        uint16_t gen = (uint16_t)(l->gen + 1);
        memset(l, 0, sizeof(*l));
        l->gen = gen;
        l->in_use = true;
        l->port = port;
        l->backlog = backlog == 0 || backlog > st->cfg.tcp_accept_queue_len ? st->cfg.tcp_accept_queue_len : backlog;
        l->accept_head = l->accept_tail = TCP_NONE;
        return tcp_listener_handle(st, l);
    }
    return TB_ERR_NOMEM;
}

int tb_tcp_accept_pending(const struct tb_stack *st, int32_t listener) {
    const struct tcp_listener *l = tcp_listener_from_handle((struct tb_stack *)st, listener);
    return l == NULL ? TB_ERR_BADCONN : (int)l->accept_count;
}

int32_t tb_tcp_accept(struct tb_stack *st, int32_t listener) {
    struct tcp_listener *l = tcp_listener_from_handle(st, listener);
    if (l == NULL) return TB_ERR_BADCONN;
    if (l->accept_head == TCP_NONE) return TB_ERR_AGAIN;
    struct tb_tcb *tp = &st->tcp->conns[l->accept_head];
    l->accept_head = tp->accept_next;
    if (l->accept_head == TCP_NONE) l->accept_tail = TCP_NONE;
    l->accept_count--;
    tp->accept_next = TCP_NONE;
    tp->listener = TCP_NONE;
    tp->flags |= TF_ACCEPTED;
    /* Data or a FIN may have arrived before accept: say so now. */
    if (tp->rcvq.bytes > 0 || (tp->flags & TF_RCVD_FIN)) {
        tp->flags |= TF_READABLE_PENDING;
        tcp_event(st, tp, TB_EV_TCP_READABLE, 0, st->now);
    }
    if (tp->state == TB_TCP_CLOSE_WAIT || tp->state == TB_TCP_CLOSED) {
        /* already finished from the peer's side; events above suffice */
    }
    return tcp_conn_handle(tp);
}

/* RFC 6056 §3.3.3 (algorithm 3): a keyed offset per destination plus a
 * counter, skipping 4-tuples in use. */
static int pick_port(struct tb_stack *st, uint32_t lip, uint32_t rip, uint16_t rport, uint16_t *out) {
    uint8_t key[10];
    tb_put32(key, lip);
    tb_put32(key + 4, rip);
    tb_put16(key + 8, rport);
    uint32_t offset = (uint32_t)tb_siphash(&st->tcp->port_key, key, sizeof(key));
    for (uint32_t count = 0; count < EPHEMERAL_COUNT; count++) {
        uint16_t port = (uint16_t)(EPHEMERAL_MIN + (offset + st->tcp->next_ephemeral + count) % EPHEMERAL_COUNT);
        if (tcp_lookup(st, lip, port, rip, rport) != NULL || tcp_listener_find(st, port) != NULL) continue;
        st->tcp->next_ephemeral += count + 1;
        *out = port;
        return TB_OK;
    }
    return TB_ERR_INUSE;
}

static int32_t connect_common(struct tb_stack *st, tb_time_ns now, uint16_t port, uint32_t dst_ipv4,
                              uint16_t dst_port, const struct tb_tcp_optval *opts, size_t n_opts);

int32_t tb_tcp_connect(struct tb_stack *st, tb_time_ns now, uint32_t dst_ipv4, uint16_t dst_port) {
    return tb_tcp_connect_opts(st, now, 0, dst_ipv4, dst_port, NULL, 0);
}

int32_t tb_tcp_connect_from(struct tb_stack *st, tb_time_ns now, uint16_t local_port, uint32_t dst_ipv4,
                            uint16_t dst_port) {
    if (local_port == 0) return TB_ERR_INVAL;
    return tb_tcp_connect_opts(st, now, local_port, dst_ipv4, dst_port, NULL, 0);
}

/* RFC 9293 §3.9.1.1 MUST-46: "reject as an error a local OPEN call for an
 * invalid remote IP address (e.g., a broadcast or multicast address)";
 * RFC 1122 §3.2.1.3: multicast (class D), class E (limited broadcast
 * included) and the directed broadcast of our subnet. */
static bool invalid_remote(const struct tb_stack *st, uint32_t dst) {
    if ((dst >> 28) >= 0xe) return true;
    uint32_t host_bits = ~st->netmask;
    return st->cfg.ipv4_prefix_len < 31 && (dst & st->netmask) == (st->cfg.ipv4_addr & st->netmask) &&
           (dst & host_bits) == host_bits;
}

int32_t tb_tcp_connect_opts(struct tb_stack *st, tb_time_ns now, uint16_t local_port, uint32_t dst_ipv4,
                            uint16_t dst_port, const struct tb_tcp_optval *opts, size_t n_opts) {
    now = tb_now_advance(st, now);
    if (dst_ipv4 == 0 || dst_port == 0 || dst_ipv4 == st->cfg.ipv4_addr) return TB_ERR_INVAL;
    if (invalid_remote(st, dst_ipv4)) return TB_ERR_INVAL;
    if (n_opts > TB_TCP_MAX_PRESET_OPTS || (n_opts > 0 && opts == NULL)) return TB_ERR_INVAL;
    uint16_t port = local_port;
    if (port == 0) {
        if (pick_port(st, st->cfg.ipv4_addr, dst_ipv4, dst_port, &port) != TB_OK) return TB_ERR_INUSE;
    } else if (tcp_lookup(st, st->cfg.ipv4_addr, local_port, dst_ipv4, dst_port) != NULL) {
        return TB_ERR_INUSE;
    }
    return connect_common(st, now, port, dst_ipv4, dst_port, opts, n_opts);
}

static int32_t connect_common(struct tb_stack *st, tb_time_ns now, uint16_t port, uint32_t dst_ipv4,
                              uint16_t dst_port, const struct tb_tcp_optval *opts, size_t n_opts) {
    if ((dst_ipv4 & st->netmask) != (st->cfg.ipv4_addr & st->netmask) && st->cfg.ipv4_gateway == 0)
        return TB_ERR_NOROUTE;
    struct tb_tcb *tp = tcp_alloc(st);
    if (tp == NULL) return TB_ERR_NOMEM;
    /* Options set before connect shape the SYN (its MSS and window scale). */
    for (size_t i = 0; i < n_opts; i++) {
        int rc = tcb_setopt(st, tp, (enum tb_tcp_opt)opts[i].opt, opts[i].value);
        if (rc != TB_OK) {
            tcp_free(st, tp);
            return rc;
        }
    }
    tp->local_ip = st->cfg.ipv4_addr;
    tp->local_port = port;
    tp->remote_ip = dst_ipv4;
    tp->remote_port = dst_port;
    tp->iss = tcp_isn(st, tp->local_ip, port, dst_ipv4, dst_port, now);
    tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
    tp->snd_end = tp->iss + 1;
    tp->recover = tp->iss;
    tp->ts_offset = tcp_ts_offset(st, tp->local_ip, port, dst_ipv4, dst_port);
    tp->rcv_wscale = 0;
    if (st->cfg.tcp_window_scaling)
        while (tp->rcv_wscale < TCP_MAX_WSCALE && (tp->rcvbuf_max >> tp->rcv_wscale) > 0xffff) tp->rcv_wscale++;
    tp->syn_rcv_wscale = tp->rcv_wscale;   /* fixed from the SYN on (RFC 7323 §2.3) */
    tp->last_rx_ns = now;
    tp->syn_start_ns = now;
    tcp_set_state(st, tp, TB_TCP_SYN_SENT, now);
    tcp_hash_insert(st, tp);
    st->stats.tcp_active_opens++;
    tcp_output(st, tp, now);
    return tcp_conn_handle(tp);
}

static int send_state_check(const struct tb_tcb *tp) {
    if (tp->error != 0) return tp->error;
    if (tp->flags & TF_SHUT_WR) return TB_ERR_CLOSED;
    switch (tp->state) {
    case TB_TCP_SYN_SENT:
    case TB_TCP_SYN_RECEIVED:
    case TB_TCP_ESTABLISHED:
    case TB_TCP_CLOSE_WAIT: return TB_OK;
    default: return TB_ERR_NOTCONN;
    }
}

static bool established_enough(const struct tb_tcb *tp) {
    return tp->state != TB_TCP_SYN_SENT && tp->state != TB_TCP_SYN_RECEIVED;
}

int64_t tb_tcp_send(struct tb_stack *st, tb_time_ns now, int32_t conn, const void *data, size_t len) {
    now = tb_now_advance(st, now);
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    int rc = send_state_check(tp);
    if (rc != TB_OK) return rc;
    if (len == 0) return 0;
    uint32_t space = tp->sndbuf_max > tp->sndq.bytes ? tp->sndbuf_max - tp->sndq.bytes : 0;
    if (space == 0) {
        tp->flags |= TF_WANT_WRITABLE;
        return TB_ERR_AGAIN;
    }
    size_t want = len < space ? len : space;
    const uint8_t *src = data;
    size_t done = 0;
    while (done < want) {
        struct tb_buf *tail = tp->sndq.tail;
        uint32_t room = tail != NULL && (tail->flags & TB_BUF_F_TCP_COPY) ? tb_buf_tailroom(tail) : 0;
        if (room > 0) {
            /* Bytes past a buffer's len are not part of any segment yet, so
             * appending is safe even while segments reference the buffer. */
            uint32_t n = (uint32_t)(want - done < room ? want - done : room);
            memcpy(tb_buf_put(tail, n), src + done, n);
            tp->sndq.bytes += n;
            done += n;
            continue;
        }
        struct tb_buf *b = tb_pool_get(&st->pool, 0);
        if (b == NULL) {
            st->stats.pool_empty++;
            break;
        }
        b->flags = TB_BUF_F_TCP_COPY;
        b->seq = tp->snd_end + (uint32_t)done;
        tcp_bufq_push(&tp->sndq, b);
    }
    tp->snd_end += (uint32_t)done;
    if (done < len) tp->flags |= TF_WANT_WRITABLE;
    if (established_enough(tp)) tcp_output(st, tp, now);
    if (done == 0) return TB_ERR_NOBUFS;
    return (int64_t)done;
}

int tb_tcp_send_buf(struct tb_stack *st, tb_time_ns now, int32_t conn, struct tb_buf *chain) {
    now = tb_now_advance(st, now);
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    if (chain == NULL) return TB_ERR_INVAL;
    int rc = send_state_check(tp);
    if (rc != TB_OK) return rc;
    size_t total = tb_buf_chain_len(chain);
    uint32_t space = tp->sndbuf_max > tp->sndq.bytes ? tp->sndbuf_max - tp->sndq.bytes : 0;
    if (total > space) {
        tp->flags |= TF_WANT_WRITABLE;
        return TB_ERR_AGAIN;
    }
    for (struct tb_buf *b = chain; b != NULL;) {
        struct tb_buf *next = b->next;
        b->next = NULL;
        if (b->len == 0) {
            tb_buf_free(b);
        } else {
            b->flags &= ~(uint32_t)TB_BUF_F_TCP_COPY;   /* the caller's bytes: never appended to */
            b->seq = tp->snd_end;
            tp->snd_end += b->len;
            tcp_bufq_push(&tp->sndq, b);
        }
        b = next;
    }
    if (established_enough(tp)) tcp_output(st, tp, now);
    return TB_OK;
}

/* After a read: if the window we could offer grew enough, say so at once
 * (RFC 9293 §3.8.6.2.2; the threshold matches the receiver SWS rule). */
static void window_update(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    if (tp->state < TB_TCP_ESTABLISHED || (tp->flags & TF_RCVD_FIN)) return;
    /* The same cap the window field has: 16 bits, scaled. */
    uint32_t space = tcp_rcv_window(tp), max_window = 0xffffu << tp->rcv_wscale;
    uint32_t right = tp->rcv_nxt + (space < max_window ? space : max_window);
    /* min(BUFF/2, Eff.snd.MSS): RFC 9293 §3.8.6.2.2 uses our own send MSS */
    uint32_t step = tp->rcvbuf_max / 2 < tp->mss ? tp->rcvbuf_max / 2 : tp->mss;
    if (!SEQ_GT(right, tp->rcv_adv) || right - tp->rcv_adv < step) return;
    /* An update of its own only when the offered window was at most half
     * the largest and at least doubles: otherwise the next ACK carries it,
     * and the delayed ACK (SHLD-18, SHLD-19) keeps one ACK per two segments
     * for a reader that keeps up (Linux's tcp_cleanup_rbuf does the same). */
    uint32_t clamp = tp->rcvbuf_max < max_window ? tp->rcvbuf_max : max_window;
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    uint32_t next = right - tp->rcv_nxt;
    if ((uint64_t)offered * 2 > clamp || (uint64_t)next < (uint64_t)offered * 2) return;
    tp->flags |= TF_ACKNOW;
    tcp_output(st, tp, now);
}

static int64_t recv_status(struct tb_tcb *tp) {
    tp->flags &= ~(uint32_t)TF_READABLE_PENDING;
    if (tp->error != 0) return tp->error;
    if (tp->flags & TF_RCVD_FIN) return 0;
    if (tp->state == TB_TCP_CLOSED) return TB_ERR_NOTCONN;
    return TB_ERR_AGAIN;
}

int64_t tb_tcp_recv(struct tb_stack *st, tb_time_ns now, int32_t conn, void *data, size_t max) {
    now = tb_now_advance(st, now);
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    if (tp->rcvq.head == NULL) return recv_status(tp);
    uint8_t *dst = data;
    size_t done = 0;
    while (done < max && tp->rcvq.head != NULL) {
        struct tb_buf *b = tp->rcvq.head;
        size_t n = b->len < max - done ? b->len : max - done;
        memcpy(dst + done, b->data, n);
        done += n;
        if (n == b->len) {
            tb_buf_free(tcp_bufq_pop(&tp->rcvq));
        } else {
            tb_buf_pull(b, (uint32_t)n);
            b->seq += (uint32_t)n;
            tp->rcvq.bytes -= (uint32_t)n;
        }
    }
    if (tp->rcvq.head == NULL) tp->flags &= ~(uint32_t)TF_READABLE_PENDING;
    window_update(st, tp, now);
    return (int64_t)done;
}

int64_t tb_tcp_recv_buf(struct tb_stack *st, tb_time_ns now, int32_t conn, struct tb_buf **out, size_t max) {
    now = tb_now_advance(st, now);
    *out = NULL;
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    if (tp->rcvq.head == NULL) return recv_status(tp);
    struct tb_buf *head = NULL, *last = NULL;
    size_t done = 0;
    /* Whole buffers, at least one, while they fit in max. */
    while (tp->rcvq.head != NULL && (done == 0 || done + tp->rcvq.head->len <= max)) {
        struct tb_buf *b = tcp_bufq_pop(&tp->rcvq);
        done += b->len;
        if (last != NULL) last->next = b;
        else head = b;
        last = b;
    }
    *out = head;
    if (tp->rcvq.head == NULL) tp->flags &= ~(uint32_t)TF_READABLE_PENDING;
    window_update(st, tp, now);
    return (int64_t)done;
}

int tb_tcp_shutdown(struct tb_stack *st, tb_time_ns now, int32_t conn) {
    now = tb_now_advance(st, now);
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    if (tp->error != 0) return tp->error;
    if (tp->flags & TF_SHUT_WR) return TB_OK;
    /* RFC 9293 §3.10.4 CLOSE: the FIN follows the queued data. */
    switch (tp->state) {
    case TB_TCP_SYN_SENT:
    case TB_TCP_SYN_RECEIVED: tp->flags |= TF_SHUT_WR; return TB_OK;   /* FIN once established */
    case TB_TCP_ESTABLISHED: tcp_set_state(st, tp, TB_TCP_FIN_WAIT_1, now); break;
    case TB_TCP_CLOSE_WAIT: tcp_set_state(st, tp, TB_TCP_LAST_ACK, now); break;
    default: return TB_ERR_NOTCONN;
    }
    tp->flags |= TF_SHUT_WR;
    tcp_output(st, tp, now);
    return TB_OK;
}

static void reset_and_close(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, int32_t error) {
    bool synchronized = tp->state >= TB_TCP_ESTABLISHED && tp->state != TB_TCP_TIME_WAIT;
    if (synchronized || tp->state == TB_TCP_SYN_RECEIVED) {
        tcp_send_rst_conn(st, tp, now);
    }
    tp->error = error;
    tcp_close_state(st, tp, now);
}

static void close_listener(struct tb_stack *st, struct tcp_listener *l, tb_time_ns now) {
    uint32_t index = (uint32_t)(l - st->tcp->listeners);
    for (uint32_t i = 0; i < st->cfg.tcp_max_conns; i++) {
        struct tb_tcb *tp = &st->tcp->conns[i];
        if (tp->in_use && tp->listener == index) reset_and_close(st, tp, now, TB_ERR_ABORTED);
    }
    TB_ASSERT(l->syn_count == 0 && l->accept_count == 0);
    l->in_use = false;
    l->app_closed = true;
}

int tb_tcp_close(struct tb_stack *st, tb_time_ns now, int32_t conn) {
    now = tb_now_advance(st, now);
    struct tcp_listener *l = tcp_listener_from_handle(st, conn);
    if (l != NULL) {
        close_listener(st, l, now);
        return TB_OK;
    }
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    tp->flags |= TF_APP_CLOSED;
    if (tp->state == TB_TCP_CLOSED) {
        tcp_free(st, tp);
        return TB_OK;
    }
    if (tp->state == TB_TCP_SYN_SENT) {
        tcp_close_state(st, tp, now);
        return TB_OK;
    }
    /* RFC 9293 §3.6 / RFC 1122 §4.2.2.13: closing with unread data resets. */
    if (tp->rcvq.bytes > 0) {
        reset_and_close(st, tp, now, TB_ERR_ABORTED);
        return TB_OK;
    }
    if (!(tp->flags & TF_SHUT_WR)) {
        if (tp->state == TB_TCP_ESTABLISHED) tcp_set_state(st, tp, TB_TCP_FIN_WAIT_1, now);
        else if (tp->state == TB_TCP_CLOSE_WAIT) tcp_set_state(st, tp, TB_TCP_LAST_ACK, now);
        tp->flags |= TF_SHUT_WR;
        tcp_output(st, tp, now);
    }
    /* An orphan waits in FIN-WAIT-2 only so long (as BSD and Linux do). */
    if (tp->in_use && tp->state == TB_TCP_FIN_WAIT_2) tcp_2msl_arm(st, tp, now, 2 * st->cfg.tcp_msl_ns);
    return TB_OK;
}

int tb_tcp_abort(struct tb_stack *st, tb_time_ns now, int32_t conn) {
    now = tb_now_advance(st, now);
    struct tcp_listener *l = tcp_listener_from_handle(st, conn);
    if (l != NULL) {
        close_listener(st, l, now);
        return TB_OK;
    }
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    tp->flags |= TF_APP_CLOSED;
    if (tp->state == TB_TCP_CLOSED) {
        tcp_free(st, tp);
        return TB_OK;
    }
    reset_and_close(st, tp, now, TB_ERR_ABORTED);
    return TB_OK;
}

int tcb_setopt(struct tb_stack *st, struct tb_tcb *tp, enum tb_tcp_opt opt, int64_t value) {
    bool opened = tp->state != TB_TCP_CLOSED;   /* CLOSED: not yet connected, nothing sent */
    switch (opt) {
    case TB_TCP_OPT_NODELAY:
        if (value) tp->flags |= TF_NODELAY;
        else tp->flags &= ~(uint32_t)TF_NODELAY;
        if (value && opened && established_enough(tp)) tcp_output(st, tp, st->now);
        return TB_OK;
    case TB_TCP_OPT_SNDBUF:
        if (value < 1024 || value > (INT64_C(1) << 30)) return TB_ERR_INVAL;
        tp->sndbuf_max = (uint32_t)value;
        return TB_OK;
    case TB_TCP_OPT_RCVBUF:
        /* The window can never exceed 65535 << rcv_wscale, fixed at the SYN. */
        if (value < 1024 || value > (INT64_C(1) << 30)) return TB_ERR_INVAL;
        tp->rcvbuf_max = (uint32_t)value;
        return TB_OK;
    case TB_TCP_OPT_KEEPALIVE_IDLE_NS:
        if (value < 0 || value > TB_TCP_TIME_KNOB_MAX_NS) return TB_ERR_INVAL;
        tp->keep_idle_ns = value;
        if (opened && tp->state >= TB_TCP_ESTABLISHED) tcp_keep_arm(st, tp, st->now);
        return TB_OK;
    case TB_TCP_OPT_KEEPALIVE_INTVL_NS:
        if (value <= 0 || value > TB_TCP_TIME_KNOB_MAX_NS) return TB_ERR_INVAL;
        tp->keep_intvl_ns = value;
        return TB_OK;
    case TB_TCP_OPT_KEEPALIVE_PROBES:
        if (value < 1 || value > 1000) return TB_ERR_INVAL;
        tp->keep_probes = (uint32_t)value;
        return TB_OK;
    case TB_TCP_OPT_MSS:
        if (value < TCP_MIN_MSS || value > tcp_mss_for_mtu(st->cfg.mtu)) return TB_ERR_INVAL;
        tp->mss_cap = (uint16_t)value;
        if (!opened) tp->rcv_mss = tp->mss_cap;   /* before the SYN: the MSS we announce too */
        {
            /* The cap bounds data plus the fixed options, as the peer's MSS does. */
            uint16_t fixed_opts = (tp->flags & TF_TS_OK) ? TCP_TS_OPT_BYTES : 0;
            if (tp->mss + fixed_opts > tp->mss_cap) tp->mss = (uint16_t)(tp->mss_cap - fixed_opts);
        }
        return TB_OK;
    case TB_TCP_OPT_RTO_MIN_NS:
        if (value <= 0 || value > tp->rto_max_ns) return TB_ERR_INVAL;
        tp->rto_min_ns = value;
        return TB_OK;
    case TB_TCP_OPT_RTO_MAX_NS:
        if (value < tp->rto_min_ns || value > TB_TCP_TIME_KNOB_MAX_NS) return TB_ERR_INVAL;
        tp->rto_max_ns = value;
        return TB_OK;
    case TB_TCP_OPT_MAX_RETRIES:
        if (value < 1 || value > 100) return TB_ERR_INVAL;
        tp->max_retries = (uint32_t)value;
        return TB_OK;
    case TB_TCP_OPT_DELACK_NS:
        if (value < 0 || value >= 500 * TB_NS_PER_MS) return TB_ERR_INVAL;   /* RFC 9293 §3.8.6.3 */
        tp->delack_ns = value;
        return TB_OK;
    }
    return TB_ERR_INVAL;
}

/* A listener keeps the options it was given, in order, for every
 * connection it creates (applied before that connection's SYN-ACK). Each
 * is checked now: the whole list, with the new value in its place, on a
 * connection's defaults, so a child never meets a value it would refuse. */
static int listener_setopt(struct tb_stack *st, struct tcp_listener *l, enum tb_tcp_opt opt, int64_t value) {
    struct tb_tcp_optval trial[TB_TCP_MAX_PRESET_OPTS];
    size_t n = l->opt_count, slot = n;
    memcpy(trial, l->opts, n * sizeof(trial[0]));
    for (size_t i = 0; i < n; i++)
        if (trial[i].opt == (int32_t)opt) slot = i;
    if (slot == n) {
        if (n >= TB_TCP_MAX_PRESET_OPTS) return TB_ERR_NOMEM;
        n++;
    }
    trial[slot] = (struct tb_tcp_optval){(int32_t)opt, value};
    /* The whole list, in the order a child will take it, on a child's defaults. */
    struct tb_tcb scratch;
    memset(&scratch, 0, sizeof(scratch));
    tcp_conn_defaults(st, &scratch);
    for (size_t i = 0; i < n; i++) {
        int rc = tcb_setopt(st, &scratch, (enum tb_tcp_opt)trial[i].opt, trial[i].value);
        if (rc != TB_OK) return rc;
    }
    memcpy(l->opts, trial, n * sizeof(trial[0]));
    l->opt_count = (uint32_t)n;
    return TB_OK;
}

void tcp_listener_apply_opts(struct tb_stack *st, const struct tcp_listener *l, struct tb_tcb *tp) {
    for (size_t i = 0; i < l->opt_count; i++) (void)tcb_setopt(st, tp, (enum tb_tcp_opt)l->opts[i].opt, l->opts[i].value);
}

int tb_tcp_setopt(struct tb_stack *st, int32_t conn, enum tb_tcp_opt opt, int64_t value) {
    struct tcp_listener *l = tcp_listener_from_handle(st, conn);
    if (l != NULL) return listener_setopt(st, l, opt, value);
    struct tb_tcb *tp = tcp_from_handle(st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    return tcb_setopt(st, tp, opt, value);
}

int tb_tcp_info(const struct tb_stack *st, int32_t conn, struct tb_tcp_info *out) {
    struct tb_tcb *tp = tcp_from_handle((struct tb_stack *)st, conn);
    if (tp == NULL) return TB_ERR_BADCONN;
    memset(out, 0, sizeof(*out));
    out->state = tp->state;
    out->error = tp->error;
    out->local_ipv4 = tp->local_ip;
    out->remote_ipv4 = tp->remote_ip;
    out->local_port = tp->local_port;
    out->remote_port = tp->remote_port;
    out->iss = tp->iss;
    out->irs = tp->irs;
    out->snd_una = tp->snd_una;
    out->snd_nxt = tp->snd_nxt;
    out->snd_max = tp->snd_max;
    out->rcv_nxt = tp->rcv_nxt;
    out->snd_wnd_bytes = tp->snd_wnd;
    out->rcv_wnd_bytes = tcp_rcv_window(tp);
    out->snd_wscale = tp->snd_wscale;
    out->rcv_wscale = tp->rcv_wscale;
    out->ts_ok = (tp->flags & TF_TS_OK) != 0;
    out->sack_ok = (tp->flags & TF_SACK_OK) != 0;
    out->ws_ok = (tp->flags & TF_WS_OK) != 0;
    out->nodelay = (tp->flags & TF_NODELAY) != 0;
    out->syncookie = (tp->flags & TF_SYNCOOKIE) != 0;
    out->mss_bytes = tp->mss;
    out->srtt_ns = tp->srtt_ns;
    out->rttvar_ns = tp->rttvar_ns;
    out->rto_ns = tp->rto_ns;
    out->cwnd_bytes = tp->cwnd;
    out->ssthresh_bytes = tp->ssthresh;
    out->flight_bytes = tcp_flight(tp);
    out->sndbuf_used_bytes = tp->sndq.bytes;
    out->rcvbuf_used_bytes = tp->rcvq.bytes;
    out->ooo_bytes = tp->oooq.bytes;
    out->bytes_sent = tp->cs.bytes_sent;
    out->bytes_acked = tp->cs.bytes_acked;
    out->bytes_received = tp->cs.bytes_received;
    out->segs_out = tp->cs.segs_out;
    out->segs_in = tp->cs.segs_in;
    out->data_segs_out = tp->cs.data_segs_out;
    out->data_segs_in = tp->cs.data_segs_in;
    out->retransmits = tp->cs.retransmits;
    out->retransmitted_bytes = tp->cs.retransmitted_bytes;
    out->rto_timeouts = tp->cs.rto_timeouts;
    out->dup_acks = tp->cs.dup_acks;
    out->ooo_segs = tp->cs.ooo_segs;
    out->zero_window_probes = tp->cs.zero_window_probes;
    out->keepalive_probes = tp->cs.keepalive_probes;
    out->challenge_acks = tp->cs.challenge_acks;
    out->backoff = tp->backoff;
    out->fast_retransmits = tp->cs.fast_retransmits;
    out->rack_losses = tp->cs.rack_losses;
    out->tlp_probes = tp->cs.tlp_probes;
    out->spurious_undos = tp->cs.spurious_undos;
    out->dsacks = tp->cs.dsacks;
    out->sacked_bytes = tp->cs.sacked_bytes;
    out->ecn_ce_marks = tp->cs.ecn_ce_marks;
    out->ecn_reductions = tp->cs.ecn_reductions;
    out->ecn_ok = (tp->flags & TF_ECN_OK) != 0;
    out->in_recovery = (tp->flags & TF_RECOVERY) != 0;
    out->pipe_bytes = tcp_pipe(st, tp);
    out->last_soft_error_icmp_type = tp->soft_icmp_type;
    out->last_soft_error_icmp_code = tp->soft_icmp_code;
    return TB_OK;
}
