/* Segment arrival, RFC 9293 §3.10.7: CLOSED (§3.10.7.1), LISTEN (§3.10.7.2),
 * SYN-SENT (§3.10.7.3) and the other states (§3.10.7.4), with PAWS
 * (RFC 7323 §5), the RFC 5961 mitigations, and urgent data handled as
 * ordinary in-line data (RFC 6093: the urgent pointer is ignored, so the
 * byte stream is never altered). */
#include <string.h>

#include "tcp/tcp_internal.h"

static enum tb_drop_reason parse_reason(enum tb_wire_err e) {
    switch (e) {
    case TB_WIRE_TCP_BAD_DATA_OFFSET: return TB_DROP_tcp_bad_data_offset;
    case TB_WIRE_TCP_BAD_CHECKSUM: return TB_DROP_tcp_bad_checksum;
    case TB_WIRE_TCP_BAD_OPTION: return TB_DROP_tcp_bad_option;
    default: return TB_DROP_tcp_truncated;
    }
}

static uint8_t wscale_for(uint32_t rcvbuf) {
    uint8_t s = 0;
    while (s < TCP_MAX_WSCALE && (rcvbuf >> s) > 0xffff) s++;
    return s;
}

void tcp_apply_syn_options(struct tb_stack *st, struct tb_tcb *tp, const struct tb_tcp_opts *o) {
    const struct tb_config *cfg = &st->cfg;
    if (cfg->tcp_window_scaling && o->has_wscale) {
        tp->flags |= TF_WS_OK;
        /* RFC 7323 §2.3: a shift above 14 is used as 14. */
        tp->snd_wscale = o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale;
        /* RFC 7323 §2.2-2.3: our shift is the one our SYN carried. An active
         * open already sent it; a passive one chooses it now, for the SYN-ACK. */
        if (tp->flags & TF_PASSIVE) tp->rcv_wscale = tp->syn_rcv_wscale = wscale_for(tp->rcvbuf_max);
    } else {
        tp->flags &= ~(uint32_t)TF_WS_OK;
        tp->snd_wscale = tp->rcv_wscale = 0;   /* RFC 7323 §2.2: both sides or neither */
    }
    if (cfg->tcp_timestamps && o->has_ts) {
        tp->flags |= TF_TS_OK;
        tp->ts_recent = o->ts_val;
    }
    if (cfg->tcp_sack && o->sack_permitted) tp->flags |= TF_SACK_OK;
    /* RFC 9293 §3.7.1 and RFC 6691: data plus TCP options never exceed the
     * peer's MSS (536 if it gave none; MUST-15, MUST-16), so the options
     * every segment carries come off it. A peer MSS too small for them
     * (12 or less with timestamps) still gets one byte per segment, the
     * only excess we allow: a connection that can never send is worse. */
    tp->peer_mss = o->has_mss && o->mss > 0 ? o->mss : TCP_DEFAULT_MSS;
    uint16_t budget = tp->peer_mss < tp->mss_cap ? tp->peer_mss : tp->mss_cap;
    uint16_t fixed_opts = (tp->flags & TF_TS_OK) ? TCP_TS_OPT_BYTES : 0;
    tp->mss = budget > fixed_opts ? (uint16_t)(budget - fixed_opts) : 1;
}

static void start_cc(struct tb_stack *st, struct tb_tcb *tp) { tcp_cc_init(st, tp); }

/* RFC 5681 §3.1: if the SYN or SYN-ACK was lost, the initial window is one
 * segment; RFC 6928 §2 RECOMMENDS keeping the full IW unless there was more
 * than one SYN or SYN-ACK retransmission. */
static void syn_loss_window(struct tb_tcb *tp, uint32_t syn_expiries) {
    if (syn_expiries > 1 && tp->cwnd > tp->mss) tp->cwnd = tp->mss;
}

static void enter_time_wait(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    tcp_set_state(st, tp, TB_TCP_TIME_WAIT, now);
    tb_timer_cancel(&st->timers, &tp->t_rexmt);
    tb_timer_cancel(&st->timers, &tp->t_persist);
    tb_timer_cancel(&st->timers, &tp->t_keep);
    tp->flags &= ~(uint32_t)TF_PERSIST;
    tcp_2msl_arm(st, tp, now, 2 * st->cfg.tcp_msl_ns);
    if (!(tp->flags & TF_CLOSED_EVENT)) {
        tp->flags |= TF_CLOSED_EVENT;
        tcp_event(st, tp, TB_EV_TCP_CLOSED, 0, now);
    }
}

static void signal_readable(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    if (tp->flags & TF_READABLE_PENDING) return;
    tp->flags |= TF_READABLE_PENDING;
    tcp_event(st, tp, TB_EV_TCP_READABLE, 0, now);
}

/* The peer's FIN, once every byte before it has arrived (§3.10.7.4 eighth). */
static void fin_in_order(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    tp->flags |= TF_ACKNOW;
    if (tp->flags & TF_RCVD_FIN) {
        if (tp->state == TB_TCP_TIME_WAIT) tcp_2msl_arm(st, tp, now, 2 * st->cfg.tcp_msl_ns);
        return;
    }
    tp->flags |= TF_RCVD_FIN;
    tp->ooo_fin = false;
    tp->rcv_nxt++;
    /* Nothing follows a FIN (RFC 9293 §3.10.7.4): held data beyond it is void. */
    tcp_bufq_free(&tp->oooq);
    tp->sack_recent_count = 0;
    signal_readable(st, tp, now);
    bool fin_acked = (tp->flags & TF_FIN_SENT) && SEQ_GT(tp->snd_una, tp->snd_end);
    switch (tp->state) {
    case TB_TCP_SYN_RECEIVED:
    case TB_TCP_ESTABLISHED: tcp_set_state(st, tp, TB_TCP_CLOSE_WAIT, now); break;
    case TB_TCP_FIN_WAIT_1:
        if (fin_acked) enter_time_wait(st, tp, now);
        else tcp_set_state(st, tp, TB_TCP_CLOSING, now);
        break;
    case TB_TCP_FIN_WAIT_2: enter_time_wait(st, tp, now); break;
    default: break;
    }
}

/* ---- LISTEN (§3.10.7.2) ------------------------------------------------- */
static void send_cookie_synack(struct tb_stack *st, tb_time_ns now, const struct tcp_listener *l,
                               const struct tb_ipv4_repr *ip, const struct tb_tcp_repr *th) {
    /* A stateless SYN-ACK: a throwaway TCB carries the fields output needs.
     * Cookies carry only the MSS, so the SYN-ACK offers no other option;
     * the listener's options shape it as they shape the connection the
     * cookie becomes (its window and MSS). */
    struct tb_tcb tmp;
    memset(&tmp, 0, sizeof(tmp));
    tcp_timers_init(&tmp);
    tcp_conn_defaults(st, &tmp);
    tcp_listener_apply_opts(st, l, &tmp);
    tmp.local_ip = ip->dst;
    tmp.remote_ip = ip->src;
    tmp.local_port = th->dst_port;
    tmp.remote_port = th->src_port;
    tmp.irs = th->seq;
    tmp.rcv_nxt = th->seq + 1;
    tmp.rcv_adv = tmp.rcv_nxt;
    uint16_t peer_mss = th->opts.has_mss && th->opts.mss > 0 ? th->opts.mss : TCP_DEFAULT_MSS;
    tmp.iss = tcp_cookie_make(st, ip->dst, th->dst_port, ip->src, th->src_port, th->seq, peer_mss, now);
    tmp.snd_una = tmp.snd_nxt = tmp.snd_max = tmp.iss;
    st->stats.tcp_syncookies_sent++;
    tcp_send_segment(st, &tmp, now, tmp.iss, 0, TB_TCP_SYN | TB_TCP_ACK);
}

static bool accept_queue_push(struct tb_stack *st, struct tcp_listener *l, struct tb_tcb *tp, tb_time_ns now) {
    if (l->accept_count >= l->backlog) {
        st->stats.tcp_accept_queue_overflow++;
        return false;
    }
    tp->accept_next = TCP_NONE;
    if (l->accept_tail != TCP_NONE) st->tcp->conns[l->accept_tail].accept_next = tp->index;
    else l->accept_head = tp->index;
    l->accept_tail = tp->index;
    l->accept_count++;
    struct tb_event ev = {.type = TB_EV_TCP_ACCEPTABLE, .time_ns = now, .peer_ipv4 = tp->remote_ip,
                          .conn = tcp_listener_handle(st, l)};
    tb_net_event(st, &ev);
    return true;
}

static void established_input(struct tb_stack *st, tb_time_ns now, struct tb_tcb *tp, struct tb_buf *b,
                              struct tb_tcp_repr *th);

/* What both passive opens (a SYN into the queue; the ACK of a cookie
 * SYN-ACK, straight to ESTABLISHED) do once the sequence space is set:
 * take the peer's window from the opening segment, start congestion
 * control, enter `state` and become findable. */
static void passive_open_finish(struct tb_stack *st, tb_time_ns now, struct tb_tcb *tp, const struct tb_tcp_repr *th,
                                int state) {
    st->stats.tcp_passive_opens++;
    /* Unscaled: a SYN's window never is (RFC 7323 §2.2), and a cookie
     * SYN-ACK offers no window scale. */
    tp->snd_wnd = th->window;
    tp->max_snd_wnd = tp->snd_wnd;
    tp->snd_wl1 = th->seq;
    tp->last_rx_ns = now;
    start_cc(st, tp);
    tcp_set_state(st, tp, state, now);
    tcp_hash_insert(st, tp);
}

static struct tb_tcb *new_passive(struct tb_stack *st, struct tcp_listener *l, const struct tb_ipv4_repr *ip,
                                  const struct tb_tcp_repr *th) {
    struct tb_tcb *tp = tcp_alloc(st);
    if (tp == NULL) return NULL;
    tp->local_ip = ip->dst;
    tp->remote_ip = ip->src;
    tp->local_port = th->dst_port;
    tp->remote_port = th->src_port;
    tp->flags |= TF_PASSIVE;
    tp->listener = (uint32_t)(l - st->tcp->listeners);
    tcp_listener_apply_opts(st, l, tp);   /* before the SYN-ACK: its MSS and window scale */
    return tp;
}

static void listen_input(struct tb_stack *st, tb_time_ns now, struct tcp_listener *l, struct tb_buf *b,
                         struct tb_tcp_repr *th, const struct tb_ipv4_repr *ip) {
    if (th->flags & TB_TCP_RST) {
        tb_net_drop(st, b, TB_DROP_tcp_listen_bad_flags, true);   /* §3.10.7.2 first: ignore */
        return;
    }
    if (th->flags & TB_TCP_ACK) {
        if (st->cfg.tcp_syncookies && !(th->flags & TB_TCP_SYN)) {
            uint16_t mss;
            if (tcp_cookie_check(st, ip->dst, th->dst_port, ip->src, th->src_port, th->seq - 1, th->ack - 1, now,
                                 &mss)) {
                struct tb_tcb *tp = new_passive(st, l, ip, th);
                if (tp == NULL) {
                    tb_net_drop(st, b, TB_DROP_tcp_conn_table_full, true);
                    return;
                }
                st->stats.tcp_syncookies_ok++;
                tp->flags |= TF_SYNCOOKIE;
                tp->iss = th->ack - 1;
                tp->irs = th->seq - 1;
                tp->rcv_nxt = th->seq;
                tp->rcv_adv = tp->rcv_nxt + (tp->rcvbuf_max < 0xffff ? tp->rcvbuf_max : 0xffff);
                tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_end = th->ack;
                tp->recover = th->ack;
                tp->peer_mss = mss;   /* a cookie's MSS is at most the SYN's (tcp_cookie_make) */
                tp->mss = mss < tp->mss_cap ? mss : tp->mss_cap;
                tp->snd_wl2 = th->ack;
                passive_open_finish(st, now, tp, th, TB_TCP_ESTABLISHED);
                if (!accept_queue_push(st, l, tp, now)) {
                    tcp_send_rst(st, now, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port, th->ack, 0,
                                 false);
                    tcp_free(st, tp);
                    tb_net_drop(st, b, TB_DROP_tcp_accept_queue_full, true);
                    return;
                }
                tcp_keep_arm(st, tp, now);
                established_input(st, now, tp, b, th);   /* the ACK may carry data */
                return;
            }
            st->stats.tcp_syncookies_failed++;
        }
        /* §3.10.7.2 second: <SEQ=SEG.ACK><CTL=RST>. */
        tcp_send_rst(st, now, ip->dst, th->dst_port, ip->src, th->src_port, th->ack, 0, false);
        tb_net_drop(st, b, st->cfg.tcp_syncookies ? TB_DROP_tcp_bad_cookie : TB_DROP_tcp_listen_bad_flags, true);
        return;
    }
    if (!(th->flags & TB_TCP_SYN)) {
        tb_net_drop(st, b, TB_DROP_tcp_listen_bad_flags, true);
        return;
    }
    if (l->accept_count >= l->backlog) {
        st->stats.tcp_accept_queue_overflow++;
        tb_net_drop(st, b, TB_DROP_tcp_accept_queue_full, true);
        return;
    }
    struct tb_tcb *tp = l->syn_count < st->cfg.tcp_syn_queue_len ? new_passive(st, l, ip, th) : NULL;
    if (tp == NULL) {
        /* RFC 4987 §3.6: with the queue (or table) full, answer statelessly. */
        st->stats.tcp_syn_queue_overflow++;
        if (st->cfg.tcp_syncookies) {
            send_cookie_synack(st, now, l, ip, th);
            tb_buf_free(b);
        } else {
            tb_net_drop(st, b, TB_DROP_tcp_syn_queue_full, true);
        }
        return;
    }
    l->syn_count++;
    tp->flags |= TF_IN_SYN_QUEUE;
    tp->irs = th->seq;
    tp->rcv_nxt = th->seq + 1;
    tp->rcv_adv = tp->rcv_nxt;
    tp->iss = tcp_isn(st, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port, now);
    tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
    tp->snd_end = tp->iss + 1;
    tp->recover = tp->iss;
    tp->ts_offset = tcp_ts_offset(st, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port);
    tcp_apply_syn_options(st, tp, &th->opts);
    /* RFC 3168 §6.1.1: an ECN-setup SYN has ECE and CWR. */
    if ((st->cfg.tcp_ecn || st->cfg.tcp_ecn_accept) && (th->flags & (TB_TCP_ECE | TB_TCP_CWR)) == (TB_TCP_ECE | TB_TCP_CWR))
        tp->flags |= TF_ECN_OK;
    tp->ts_recent_age_ns = now;
    passive_open_finish(st, now, tp, th, TB_TCP_SYN_RECEIVED);
    tb_buf_free(b);   /* data on a SYN is not kept; the peer sends it again */
    tcp_output(st, tp, now);
}

/* ---- SYN-SENT (§3.10.7.3) ----------------------------------------------- */
static void established_text_and_fin(struct tb_stack *st, tb_time_ns now, struct tb_tcb *tp, struct tb_buf *b,
                                     struct tb_tcp_repr *th, uint32_t seq);

static void syn_sent_input(struct tb_stack *st, tb_time_ns now, struct tb_tcb *tp, struct tb_buf *b,
                           struct tb_tcp_repr *th) {
    bool ack = (th->flags & TB_TCP_ACK) != 0;
    if (ack && (SEQ_LEQ(th->ack, tp->iss) || SEQ_GT(th->ack, tp->snd_max))) {
        if (!(th->flags & TB_TCP_RST))
            tcp_send_rst(st, now, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port, th->ack, 0, false);
        tb_net_drop(st, b, TB_DROP_tcp_syn_sent_bad_ack, true);
        return;
    }
    if (th->flags & TB_TCP_RST) {
        st->stats.tcp_rsts_rcvd++;
        tb_buf_free(b);
        if (ack) tcp_fail(st, tp, TB_ERR_REFUSED, now);   /* else: drop */
        return;
    }
    if (!(th->flags & TB_TCP_SYN)) {
        tb_net_drop(st, b, TB_DROP_tcp_listen_bad_flags, true);
        return;
    }
    tp->irs = th->seq;
    tp->rcv_nxt = th->seq + 1;
    tp->rcv_adv = tp->rcv_nxt;
    tcp_apply_syn_options(st, tp, &th->opts);
    /* RFC 3168 §6.1.1: an ECN-setup SYN-ACK has ECE without CWR. */
    if (st->cfg.tcp_ecn && ack && (th->flags & (TB_TCP_ECE | TB_TCP_CWR)) == TB_TCP_ECE) tp->flags |= TF_ECN_OK;
    tp->ts_recent_age_ns = now;
    tp->snd_wnd = th->window;
    tp->max_snd_wnd = tp->snd_wnd;
    tp->snd_wl1 = th->seq;
    tp->snd_wl2 = th->ack;
    start_cc(st, tp);
    if (!ack) {
        /* Simultaneous open: answer with SYN-ACK from our ISS. */
        tcp_set_state(st, tp, TB_TCP_SYN_RECEIVED, now);
        tp->snd_nxt = tp->iss;
        tb_buf_free(b);
        tcp_output(st, tp, now);
        return;
    }
    tp->snd_una = th->ack;
    tcp_assert_snd_seq(tp);   /* the SYN is acknowledged: SND.UNA = SND.NXT = SND.MAX = ISS + 1 */
    if (tp->rtt_timing && SEQ_GT(th->ack, tp->rtt_seq)) {
        tcp_rtt_sample(tp, now - tp->rtt_start_ns);
        tp->rtt_timing = false;
    }
    if ((tp->flags & TF_SYN_REXMIT) && !tp->have_rtt && tp->rto_ns < 3 * TB_NS_PER_S)
        tp->rto_ns = 3 * TB_NS_PER_S;   /* RFC 6298 §5.7 */
    syn_loss_window(tp, tp->backoff);
    tp->backoff = 0;   /* RFC 6298 §5.7 set the RTO; the SYN's expiries are not the data's */
    tp->rto_streak = 0;
    tb_timer_cancel(&st->timers, &tp->t_rexmt);
    tcp_set_state(st, tp, TB_TCP_ESTABLISHED, now);
    tcp_event(st, tp, TB_EV_TCP_CONNECTED, 0, now);
    if (tp->flags & TF_SHUT_WR) tcp_set_state(st, tp, TB_TCP_FIN_WAIT_1, now);
    tcp_keep_arm(st, tp, now);
    tp->flags |= TF_ACKNOW;
    established_text_and_fin(st, now, tp, b, th, th->seq + 1);
}

/* ---- the synchronized states (§3.10.7.4) -------------------------------- */
/* §3.10.7.4: an unacceptable segment is answered with an ACK; one without
 * data only within the out-of-window limit, so two stacks that disagree
 * about the sequence space cannot bounce ACKs forever (as Linux does). */
static void ack_unacceptable(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, bool has_data) {
    if (!has_data && !tcp_oow_ack_allowed(st, tp, now)) return;
    tp->flags |= TF_ACKNOW;
    tcp_output(st, tp, now);
}

static void ack_advance(struct tb_stack *st, tb_time_ns now, struct tb_tcb *tp, const struct tb_tcp_repr *th) {
    uint32_t ack = th->ack;
    /* RFC 9293 §3.10.7.4: only an acceptable ACK, SND.UNA < SEG.ACK =< SND.MAX, moves SND.UNA. */
    TB_ASSERT(SEQ_LT(tp->snd_una, ack) && SEQ_LEQ(ack, tp->snd_max));
    tcp_assert_snd_seq(tp);
    uint32_t data_lo = tp->iss + 1;
    uint32_t old_pos = SEQ_MIN(SEQ_MAX(tp->snd_una, data_lo), tp->snd_end);
    uint32_t new_pos = SEQ_MIN(SEQ_MAX(ack, data_lo), tp->snd_end);
    uint32_t data_acked = new_pos - old_pos;
    tcp_sndq_ack(tp, data_acked);
    /* RTT: RFC 7323 §4 (RTTM) with timestamps, else the one timed segment. */
    bool sampled = false;
    if ((tp->flags & TF_TS_OK) && th->opts.has_ts && th->opts.ts_ecr != 0) {
        uint32_t ticks = tcp_ts_now(tp, now) - th->opts.ts_ecr;
        if (ticks < (1u << 30)) {
            tcp_rtt_sample(tp, (tb_time_ns)(ticks > 0 ? ticks : 1) * TB_NS_PER_MS);
            sampled = true;
        }
        tp->rtt_timing = false;
    } else if (tp->rtt_timing && SEQ_GT(ack, tp->rtt_seq)) {
        tcp_rtt_sample(tp, now - tp->rtt_start_ns);
        tp->rtt_timing = false;
        sampled = true;
    }
    /* RFC 6298 §5 and RFC 1122 §4.2.3.1 (Karn): the backed-off RTO stays
     * until a valid sample; an ACK of retransmitted data is ambiguous. Any
     * new ACK does show the path alive, so the give-up count restarts. */
    if (sampled) tp->backoff = 0;
    tp->rto_streak = 0;
    tp->snd_una = ack;
    if (SEQ_LT(tp->snd_nxt, ack)) tp->snd_nxt = ack;
    tcp_assert_snd_seq(tp);
    /* The send queue holds exactly the unacknowledged data. */
    TB_ASSERT(tp->sndq.bytes == tp->snd_end - SEQ_MIN(SEQ_MAX(ack, tp->iss + 1), tp->snd_end));
    tp->dupacks = 0;
    tp->cs.bytes_acked += data_acked;
    /* In recovery PRR sets cwnd (tcp_sack.c); outside it the algorithm grows it. */
    if (data_acked > 0 && tp->state != TB_TCP_SYN_RECEIVED && !(tp->flags & TF_RECOVERY)) {
        tcp_cc_ack(tp, data_acked, now);
        tcp_trace(st, tp, TB_TRACE_ACK, tp->cwnd < tp->ssthresh ? "slow_start" : "congestion_avoidance", now);
    }
    /* RFC 6298 §5.2-5.3: stop the timer when all is acknowledged, else restart it. */
    if (tp->snd_una == tp->snd_max) tb_timer_cancel(&st->timers, &tp->t_rexmt);
    else if (!(tp->flags & TF_PERSIST)) tcp_rexmt_arm(st, tp, now);
    if ((tp->flags & TF_WANT_WRITABLE) && tp->sndbuf_max - tp->sndq.bytes >= tp->sndbuf_max / 4) {
        tp->flags &= ~(uint32_t)TF_WANT_WRITABLE;
        tcp_event(st, tp, TB_EV_TCP_WRITABLE, 0, now);
    }
}

static void leave_persist(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    tp->flags &= ~(uint32_t)TF_PERSIST;
    tb_timer_cancel(&st->timers, &tp->t_persist);
    tp->persist_backoff = 0;
    tp->persist_probes_unanswered = 0;
    /* As BSD: the probe's unacknowledged bytes go again with the data that
     * follows, so Nagle does not hold the rest behind a refused probe byte. */
    if (SEQ_GT(tp->snd_nxt, tp->snd_una)) {
        tp->snd_nxt = tp->snd_una;
        tp->snd_cursor = NULL;
    }
    tcp_assert_snd_seq(tp);
    if (tp->snd_una != tp->snd_max) tcp_rexmt_arm(st, tp, now);
}

static void established_text_and_fin(struct tb_stack *st, tb_time_ns now, struct tb_tcb *tp, struct tb_buf *b,
                                     struct tb_tcp_repr *th, uint32_t seq) {
    size_t payload = b != NULL ? b->len : 0;
    bool fin = (th->flags & TB_TCP_FIN) != 0;
    bool data_state =
        tp->state == TB_TCP_ESTABLISHED || tp->state == TB_TCP_FIN_WAIT_1 || tp->state == TB_TCP_FIN_WAIT_2;
    if (payload > 0 && data_state && (tp->flags & TF_APP_CLOSED)) {
        /* RFC 1122 §4.2.2.13: new data after CLOSE is lost; say so with a RST. */
        tcp_send_rst_conn(st, tp, now);
        tb_net_drop(st, b, TB_DROP_tcp_after_close, true);
        tp->error = TB_ERR_ABORTED;
        tcp_close_state(st, tp, now);
        return;
    }
    if (payload > 0 && data_state && !(tp->flags & TF_RCVD_FIN)) {
        bool had_ooo = tp->oooq.head != NULL;
        b->seq = seq;
        tp->cs.data_segs_in++;
        if (tcp_reass(st, tp, b)) {
            signal_readable(st, tp, now);
            /* RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: ACK at least every second
             * segment; RFC 5681 §4.2: at once when a gap is being filled. The
             * first tcp_quickack_segs are acknowledged at once (RFC 5681 §4.2
             * allows it; Linux's quick-ACK mode does it). */
            bool quick = tp->quickack_left > 0;
            if (quick) tp->quickack_left--;
            if (++tp->unacked_full_segs >= 2 || had_ooo || tp->delack_ns == 0 || quick) tp->flags |= TF_ACKNOW;
            else tp->flags |= TF_DELACK;
        } else {
            tp->flags |= TF_ACKNOW;   /* out of order or duplicate: a duplicate ACK at once */
        }
        b = NULL;
    } else if (b != NULL) {
        tb_buf_free(b);
        b = NULL;
    }
    if (fin) {
        uint32_t fin_seq = seq + (uint32_t)payload;
        if (fin_seq == tp->rcv_nxt || ((tp->flags & TF_RCVD_FIN) && fin_seq + 1 == tp->rcv_nxt)) {
            fin_in_order(st, tp, now);
        } else if (SEQ_GT(fin_seq, tp->rcv_nxt) && !(tp->flags & TF_RCVD_FIN)) {
            tp->ooo_fin = true;
            tp->ooo_fin_seq = fin_seq;
            tp->flags |= TF_ACKNOW;
        }
    }
    if (tp->ooo_fin && tp->ooo_fin_seq == tp->rcv_nxt && !(tp->flags & TF_RCVD_FIN)) fin_in_order(st, tp, now);
    if (!tp->in_use) return;
    tcp_output(st, tp, now);
    if ((tp->flags & TF_DELACK) && tp->in_use) tcp_delack_arm(st, tp, now);
}

static void established_input(struct tb_stack *st, tb_time_ns now, struct tb_tcb *tp, struct tb_buf *b,
                              struct tb_tcp_repr *th) {
    uint32_t seq = th->seq;
    uint32_t payload = b->len;
    bool syn = (th->flags & TB_TCP_SYN) != 0, fin = (th->flags & TB_TCP_FIN) != 0, rst = (th->flags & TB_TCP_RST) != 0;
    uint32_t seg_len = payload + syn + fin;

    /* RFC 7323 §3.2: once timestamps are in use, a segment without one
     * (a RST excepted) is dropped. */
    if ((tp->flags & TF_TS_OK) && !th->opts.has_ts && !rst) {
        tb_net_drop(st, b, TB_DROP_tcp_missing_ts, true);
        return;
    }

    /* Simultaneous open (RFC 9293 §3.5 Figure 7): in SYN-RECEIVED after
     * crossing SYNs, the peer's SYN-ACK repeats the SYN we already have;
     * its ACK completes the handshake. The SYN's sequence slot is skipped
     * and the rest is processed as any segment. */
    bool synack_repeat = false;   /* its window is a SYN's: never scaled (RFC 7323 §2.2) */
    if (tp->state == TB_TCP_SYN_RECEIVED && !(tp->flags & TF_PASSIVE) && syn && seq == tp->irs && !rst &&
        (th->flags & TB_TCP_ACK) && SEQ_LT(tp->snd_una, th->ack) && SEQ_LEQ(th->ack, tp->snd_max)) {
        syn = false;
        synack_repeat = true;
        th->flags &= (uint8_t)~TB_TCP_SYN;
        seq++;
        seg_len--;
        tp->flags |= TF_ACKNOW;
    }
    /* Any other SYN at IRS in SYN-RECEIVED, with data or not, is the
     * peer's SYN again: our SYN-ACK was lost, send it again. */
    if (tp->state == TB_TCP_SYN_RECEIVED && syn && !rst && seq == tp->irs) {
        tp->snd_nxt = tp->iss;
        tcp_output(st, tp, now);
        tb_net_drop(st, b, TB_DROP_tcp_not_acceptable, true);
        return;
    }

    /* RFC 7323 §5.3: PAWS. A timestamp older than ts_recent means an old
     * duplicate, unless ts_recent itself is stale (idle > 24 days, §5.5). */
    if ((tp->flags & TF_TS_OK) && th->opts.has_ts && !rst && SEQ_LT(th->opts.ts_val, tp->ts_recent) &&
        now - tp->ts_recent_age_ns < TCP_PAWS_IDLE_NS) {
        st->stats.tcp_paws_rejected++;
        ack_unacceptable(st, tp, now, payload > 0 || fin);
        tb_net_drop(st, b, TB_DROP_tcp_paws, true);
        return;
    }

    /* A retransmitted FIN in TIME-WAIT (its FIN is the last byte before
     * RCV.NXT) is acknowledged and restarts the 2 MSL wait (§3.10.7.4,
     * eighth check); the acceptability test alone would only ACK it. */
    if (tp->state == TB_TCP_TIME_WAIT && fin && !rst && !syn && seq + payload + 1 == tp->rcv_nxt) {
        tcp_2msl_arm(st, tp, now, 2 * st->cfg.tcp_msl_ns);
        tp->flags |= TF_ACKNOW;
        tcp_output(st, tp, now);
        tb_buf_free(b);
        return;
    }

    /* First: the acceptability test (§3.3.5 table). */
    uint32_t rcv_wnd = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    bool acceptable;
    if (seg_len == 0) {
        acceptable = rcv_wnd == 0 ? seq == tp->rcv_nxt : SEQ_GEQ(seq, tp->rcv_nxt) && SEQ_LT(seq, tp->rcv_nxt + rcv_wnd);
    } else if (rcv_wnd == 0) {
        acceptable = false;
    } else {
        uint32_t last = seq + seg_len - 1;
        acceptable = (SEQ_GEQ(seq, tp->rcv_nxt) && SEQ_LT(seq, tp->rcv_nxt + rcv_wnd)) ||
                     (SEQ_GEQ(last, tp->rcv_nxt) && SEQ_LT(last, tp->rcv_nxt + rcv_wnd));
    }
    bool zero_window_probe = !acceptable && rcv_wnd == 0 && seq == tp->rcv_nxt && !syn;
    if (zero_window_probe) {
        /* §3.10.7.4: with a zero window, still take the ACK and RST of a
         * segment at RCV.NXT; its data cannot be kept. */
        tb_buf_trim(b, 0);
        payload = 0;
        fin = false;
        th->flags &= (uint8_t)~TB_TCP_FIN;
        tp->flags |= TF_ACKNOW;
        acceptable = true;
    }
    if (!acceptable) {
        if (syn && !rst) {
            /* RFC 5961 §4.2: a SYN in a synchronized state, whatever its
             * sequence number, gets a challenge ACK and is dropped. */
            tcp_send_challenge_ack(st, tp, now);
            tb_net_drop(st, b, TB_DROP_tcp_syn_in_window, true);
            return;
        }
        if (rst) {
            tb_net_drop(st, b, TB_DROP_tcp_rst_out_of_window, true);
            return;
        }
        /* RFC 2883 §4.1.1: a duplicate of data already received is reported. */
        if (payload > 0 && SEQ_LEQ(seq + payload, tp->rcv_nxt)) tcp_note_dsack(tp, seq, seq + payload);
        ack_unacceptable(st, tp, now, payload > 0 || fin);
        tb_net_drop(st, b, TB_DROP_tcp_not_acceptable, true);
        return;
    }
    /* RFC 7323 §4.3: update ts_recent from a segment that covers last_ack_sent;
     * after 24 days idle ts_recent is invalid and any TSval replaces it (§5.5,
     * Appendix D), else every later echo would be the stale value. */
    if ((tp->flags & TF_TS_OK) && th->opts.has_ts &&
        (SEQ_GEQ(th->opts.ts_val, tp->ts_recent) || now - tp->ts_recent_age_ns >= TCP_PAWS_IDLE_NS) &&
        SEQ_LEQ(seq, tp->last_ack_sent)) {
        tp->ts_recent = th->opts.ts_val;
        tp->ts_recent_age_ns = now;
    }
    /* Trim to the window: the front (already received), then the tail. A
     * SYN keeps its flag: the fourth check below must still see it (RFC
     * 5961 §4.2). */
    if (SEQ_LT(seq, tp->rcv_nxt)) {
        uint32_t dup = tp->rcv_nxt - seq;
        if (syn) {
            seq++;
            dup--;
        }
        /* RFC 2883 §4.2: data partly old is reported by its old part. */
        if (payload > 0 && dup > 0 && !syn && !rst) tcp_note_dsack(tp, seq, seq + (dup < payload ? dup : payload));
        if (dup >= payload) {
            if (dup > payload && fin) {
                fin = false;   /* a FIN we already have (it is re-acknowledged below) */
                th->flags &= (uint8_t)~TB_TCP_FIN;
                tp->flags |= TF_ACKNOW;
            }
            tb_buf_trim(b, 0);
            seq += payload;
            payload = 0;
        } else {
            tb_buf_pull(b, dup);
            seq += dup;
            payload -= dup;
        }
    }
    if (payload > 0 && SEQ_GT(seq + payload, tp->rcv_nxt + rcv_wnd)) {
        uint32_t keep = SEQ_GT(tp->rcv_nxt + rcv_wnd, seq) ? tp->rcv_nxt + rcv_wnd - seq : 0;
        tb_buf_trim(b, keep);
        payload = keep;
        fin = false;
        th->flags &= (uint8_t)~TB_TCP_FIN;
    }

    /* Second: RST (RFC 5961 §3.2: exact match resets, in-window challenges). */
    if (rst) {
        st->stats.tcp_rsts_rcvd++;
        tb_buf_free(b);
        if (th->seq != tp->rcv_nxt) {
            tcp_send_challenge_ack(st, tp, now);
            return;
        }
        if (tp->state == TB_TCP_SYN_RECEIVED && (tp->flags & TF_PASSIVE)) {
            tcp_close_state(st, tp, now);   /* back to LISTEN: the child goes */
        } else if (tp->state == TB_TCP_CLOSING || tp->state == TB_TCP_LAST_ACK || tp->state == TB_TCP_TIME_WAIT) {
            if (!(tp->flags & TF_CLOSED_EVENT)) {
                tp->flags |= TF_CLOSED_EVENT;
                tcp_event(st, tp, TB_EV_TCP_CLOSED, 0, now);
            }
            tcp_close_state(st, tp, now);
        } else {
            tcp_fail(st, tp, tp->state == TB_TCP_SYN_RECEIVED ? TB_ERR_REFUSED : TB_ERR_RESET, now);
        }
        return;
    }
    /* Fourth: SYN (RFC 5961 §4). */
    if (syn) {
        if (tp->state == TB_TCP_SYN_RECEIVED && (tp->flags & TF_PASSIVE)) {
            tb_buf_free(b);
            tcp_close_state(st, tp, now);   /* back to LISTEN */
            return;
        }
        tcp_send_challenge_ack(st, tp, now);
        tb_net_drop(st, b, TB_DROP_tcp_syn_in_window, true);
        return;
    }
    /* Fifth: ACK. */
    if (!(th->flags & TB_TCP_ACK)) {
        tb_net_drop(st, b, TB_DROP_tcp_no_ack_flag, true);
        return;
    }
    bool handshake_done = false;
    uint32_t syn_expiries = 0;
    if (tp->state == TB_TCP_SYN_RECEIVED) {
        handshake_done = true;
        syn_expiries = tp->backoff;   /* before an RTT sample clears it */
        if (!(SEQ_LT(tp->snd_una, th->ack) && SEQ_LEQ(th->ack, tp->snd_max))) {
            tcp_send_rst(st, now, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port, th->ack, 0, false);
            tb_net_drop(st, b, TB_DROP_tcp_bad_ack, true);
            return;
        }
        if (tp->flags & TF_PASSIVE) {
            struct tcp_listener *l = &st->tcp->listeners[tp->listener];
            if (l->accept_count >= l->backlog) {
                /* Stay in SYN-RECEIVED; the peer's retransmission tries again. */
                st->stats.tcp_accept_queue_overflow++;
                tb_net_drop(st, b, TB_DROP_tcp_accept_queue_full, true);
                return;
            }
            l->syn_count--;
            tp->flags &= ~(uint32_t)TF_IN_SYN_QUEUE;
            tcp_set_state(st, tp, TB_TCP_ESTABLISHED, now);
            accept_queue_push(st, l, tp, now);
        } else {
            tcp_set_state(st, tp, TB_TCP_ESTABLISHED, now);
            tcp_event(st, tp, TB_EV_TCP_CONNECTED, 0, now);
        }
        tp->snd_wnd = (uint32_t)th->window << (synack_repeat ? 0 : tp->snd_wscale);
        tp->snd_wl1 = seq;
        tp->snd_wl2 = th->ack;
        if (tp->flags & TF_SHUT_WR) tcp_set_state(st, tp, TB_TCP_FIN_WAIT_1, now);
        tcp_keep_arm(st, tp, now);
        tp->backoff = 0;   /* the SYN-ACK's expiries are not the data's (RFC 6298 §5.7 sets the RTO) */
        tp->rto_streak = 0;
    }
    /* RFC 5961 §5.2: an ACK outside [SND.UNA - MAX.SND.WND, SND.NXT] is
     * answered, as a challenge ACK is, rate-limited: two stacks that
     * disagree about SND.NXT must not answer each other forever (ACK storm). */
    if (SEQ_GT(th->ack, tp->snd_max)) {
        ack_unacceptable(st, tp, now, false);
        tb_net_drop(st, b, TB_DROP_tcp_bad_ack, true);
        return;
    }
    if (SEQ_LT(th->ack, tp->snd_una - tp->max_snd_wnd)) {
        tcp_send_challenge_ack(st, tp, now);
        tb_net_drop(st, b, TB_DROP_tcp_bad_ack, true);
        return;
    }
    uint32_t wnd = (uint32_t)th->window << (synack_repeat ? 0 : tp->snd_wscale);
    uint32_t acked = 0;
    bool dupack = false;
    if (SEQ_GT(th->ack, tp->snd_una)) {
        acked = th->ack - tp->snd_una;
        ack_advance(st, now, tp, th);
        /* RFC 6298 §5.7: a handshake that needed a retransmitted SYN (or
         * SYN-ACK) and gave no RTT sample starts data at an RTO of 3 s. */
        if (handshake_done && (tp->flags & TF_SYN_REXMIT) && !tp->have_rtt && tp->rto_ns < 3 * TB_NS_PER_S)
            tp->rto_ns = 3 * TB_NS_PER_S;
        if (handshake_done) syn_loss_window(tp, syn_expiries);
    } else if (th->ack == tp->snd_una && payload == 0 && !fin && tp->snd_max != tp->snd_una &&
               (wnd == tp->snd_wnd || th->opts.sack_count > 0)) {
        /* RFC 5681 §2 duplicate ACK; RFC 6675 §2 also counts one carrying SACK news. */
        tp->dupacks++;
        tp->cs.dup_acks++;
        dupack = true;
    }
    /* A SACK option counts even with nothing outstanding: the D-SACK of a
     * spurious retransmission often comes after the ACK that retired it
     * (RFC 2883 §4; RFC 8985 §6.2 step 4 widens reo_wnd on it). */
    bool sack_news = (tp->flags & TF_SACK_OK) && th->opts.sack_count > 0;
    if (tp->seg_count > 0 || acked > 0 || sack_news) tcp_sack_on_ack(st, tp, th, acked, dupack, now);
    if (acked > 0) tcp_tlp_arm(st, tp, now);
    /* RFC 3168 §6.1.2: one reduction per window of data for ECE, also when
     * the ACK leaves nothing in flight; until our CWR has gone out the
     * receiver keeps echoing the same congestion, so no second one. */
    /* Only about data: an ECE on the handshake's ACK echoes no ECT segment. */
    if ((tp->flags & TF_ECN_OK) && (th->flags & TB_TCP_ECE) && !(tp->flags & TF_RECOVERY) &&
        SEQ_GEQ(tp->snd_una, tp->recover) && !(tp->flags & TF_SEND_CWR) && SEQ_GT(tp->snd_max, tp->iss + 1)) {
        tcp_cc_cong_signal_flight(tp, TCP_CONG_ECN, now, tcp_flight(tp) + acked);   /* the window it is about */
        tp->recover = tp->snd_max;
        tp->flags |= TF_SEND_CWR;
        tp->cs.ecn_reductions++;
        st->stats.tcp_ecn_reductions++;
        tcp_trace(st, tp, TB_TRACE_ECN, "ece", now);
    }
    tp->persist_probes_unanswered = 0;   /* the peer is alive */
    /* RFC 9293 §3.8.6.1 MUST-37: a FIN outstanding in a zero window is
     * retransmitted by the RTO and is the window's probe (the pull-back to
     * persist below leaves a sent FIN alone); an answer keeps us open. */
    /* A connection the application has closed gets no such reprieve: it
     * gives up after tcp_max_retries, so a peer holding its window shut
     * cannot keep it forever (§3.8.6.1 lets resources be reclaimed; Linux's
     * tcp_orphan_retries). */
    if (wnd == 0 && (tp->flags & TF_FIN_SENT) && !tcp_orphan(tp)) tp->rto_streak = 0;
    /* Window update (§3.10.7.4): if SND.UNA =< SEG.ACK =< SND.NXT (SND.UNA
     * already moved to a new SEG.ACK), from a segment newer than the last one used. */
    if (SEQ_GEQ(th->ack, tp->snd_una) &&
        (SEQ_LT(tp->snd_wl1, seq) || (tp->snd_wl1 == seq && SEQ_LEQ(tp->snd_wl2, th->ack)))) {
        tp->snd_wnd = wnd;
        tp->snd_wl1 = seq;
        tp->snd_wl2 = th->ack;
        if (wnd > tp->max_snd_wnd) tp->max_snd_wnd = wnd;
        if (wnd > 0 && (tp->flags & TF_PERSIST)) leave_persist(st, tp, now);
        if (wnd == 0 && SEQ_GT(tp->snd_nxt, tp->snd_una) && !(tp->flags & TF_PERSIST) &&
            tp->snd_una != tp->snd_max && !(tp->flags & TF_FIN_SENT && SEQ_GT(tp->snd_nxt, tp->snd_end))) {
            /* The window closed with data in flight: pull back and probe it
             * instead of retransmitting into a closed window. */
            tp->snd_nxt = tp->snd_una;
            tp->snd_cursor = NULL;
            tb_timer_cancel(&st->timers, &tp->t_rexmt);
            tp->backoff = 0;
            tp->persist_backoff = 0;
            tcp_persist_arm(st, tp, now);
        }
    }
    bool fin_acked = (tp->flags & TF_FIN_SENT) && SEQ_GT(tp->snd_una, tp->snd_end);
    switch (tp->state) {
    case TB_TCP_FIN_WAIT_1:
        if (fin_acked) {
            tcp_set_state(st, tp, TB_TCP_FIN_WAIT_2, now);
            if (tp->flags & TF_APP_CLOSED) tcp_2msl_arm(st, tp, now, 2 * st->cfg.tcp_msl_ns);
        }
        break;
    case TB_TCP_CLOSING:
        if (fin_acked) enter_time_wait(st, tp, now);
        break;
    case TB_TCP_LAST_ACK:
        if (fin_acked) {
            if (!(tp->flags & TF_CLOSED_EVENT)) {
                tp->flags |= TF_CLOSED_EVENT;
                tcp_event(st, tp, TB_EV_TCP_CLOSED, 0, now);
            }
            tb_buf_free(b);
            tcp_close_state(st, tp, now);
            return;
        }
        break;
    default: break;
    }
    if (th->urgent != 0 || (th->flags & TB_TCP_URG)) {
        /* Sixth: URG. RFC 6093 §5: the urgent pointer is ignored and the
         * "urgent" bytes are delivered in line like any others. */
    }
    established_text_and_fin(st, now, tp, b, th, seq);
}

void tb_tcp_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip) {
    struct tb_tcp_repr th;
    enum tb_wire_err err = tb_tcp_parse(b->data, b->len, ip->src, ip->dst, &th);
    if (err != TB_WIRE_OK) {
        tb_net_drop(st, b, parse_reason(err), true);
        return;
    }
    st->stats.tcp_segs_in++;
    if (th.flags & TB_TCP_URG) st->stats.tcp_urgent_segs++;
    tb_buf_pull(b, th.header_len);   /* b is now the payload */
    struct tb_tcb *tp = tcp_lookup(st, ip->dst, th.dst_port, ip->src, th.src_port);
    /* RFC 6191 / RFC 1122 §4.2.2.13: a new SYN may reopen a TIME-WAIT
     * connection if it is unambiguously newer: with timestamps on both, a
     * newer TSval, or the same TSval and a higher sequence number (RFC 6191
     * §2, second case); otherwise a higher sequence number. */
    if (tp != NULL && tp->state == TB_TCP_TIME_WAIT &&
        (th.flags & (TB_TCP_SYN | TB_TCP_ACK | TB_TCP_RST)) == TB_TCP_SYN &&
        tcp_listener_find(st, th.dst_port) != NULL &&
        (((tp->flags & TF_TS_OK) && th.opts.has_ts)
             ? SEQ_GT(th.opts.ts_val, tp->ts_recent) ||
                   (th.opts.ts_val == tp->ts_recent && SEQ_GT(th.seq, tp->rcv_nxt))
             : SEQ_GT(th.seq, tp->rcv_nxt))) {
        st->stats.tcp_time_wait_reused++;
        tcp_close_state(st, tp, now);
        tp = NULL;
    }
    if (tp == NULL) {
        struct tcp_listener *l = tcp_listener_find(st, th.dst_port);
        if (l != NULL) {
            listen_input(st, now, l, b, &th, ip);
            return;
        }
        /* §3.10.7.1 CLOSED: answer anything but a RST with a RST. */
        if (!(th.flags & TB_TCP_RST)) {
            if (th.flags & TB_TCP_ACK)
                tcp_send_rst(st, now, ip->dst, th.dst_port, ip->src, th.src_port, th.ack, 0, false);
            else
                tcp_send_rst(st, now, ip->dst, th.dst_port, ip->src, th.src_port, 0,
                             th.seq + (uint32_t)th.payload_len + ((th.flags & TB_TCP_SYN) ? 1 : 0) +
                                 ((th.flags & TB_TCP_FIN) ? 1 : 0),
                             true);
        }
        tb_net_drop(st, b, TB_DROP_tcp_no_conn, true);
        return;
    }
    tp->cs.segs_in++;
    tp->last_rx_ns = now;
    if (tp->flags & TF_ECN_OK) {
        /* RFC 3168 §6.1.3: CE sets ECE on our ACKs until the sender's CWR. */
        if (th.flags & TB_TCP_CWR) tp->flags &= ~(uint32_t)TF_ECE_PENDING;
        if ((ip->tos & 3) == 3) {
            tp->flags |= TF_ECE_PENDING | TF_ACKNOW;
            tp->cs.ecn_ce_marks++;
            st->stats.tcp_ecn_ce_received++;
        }
    }
    if (tp->keep_probes_sent > 0) {
        tp->keep_probes_sent = 0;
        tcp_keep_arm(st, tp, now);
    }
    if (tp->state == TB_TCP_SYN_SENT) {
        syn_sent_input(st, now, tp, b, &th);
        return;
    }
    established_input(st, now, tp, b, &th);
}

/* ICMP errors about our segments (RFC 1122 §4.2.3.9, RFC 5461): soft errors
 * that are reported and remembered, fatal only as hard errors to an
 * opening connection; a
 * fragmentation-needed lowers the MSS (RFC 1191). RFC 5927 §4.1: the quoted
 * sequence number must be one we have in flight. */
void tb_tcp_icmp_error(struct tb_stack *st, tb_time_ns now, const struct tb_icmp_repr *icmp,
                       const struct tb_icmp_quote *quote) {
    /* The quote is a segment we sent: its source is us. */
    struct tb_tcb *tp = tcp_lookup(st, quote->ip.src, quote->src_port, quote->ip.dst, quote->dst_port);
    uint32_t seq = quote->tcp_seq;
    if (tp == NULL || !SEQ_GEQ(seq, tp->snd_una) || !SEQ_LT(seq, tp->snd_max)) {
        st->stats.drops[TB_DROP_tcp_icmp_stale]++;
        return;
    }
    st->stats.tcp_icmp_soft_errors++;
    tp->soft_icmp_type = icmp->type;
    tp->soft_icmp_code = icmp->code;
    if (icmp->type == TB_ICMP_DEST_UNREACH && icmp->code == TB_ICMP_UNREACH_FRAG_NEEDED && icmp->next_hop_mtu >= 68) {
        /* RFC 1191 §3, §6.3: follow the next-hop MTU down to 68 (16 bytes of
         * data with timestamps, 28 without); a floor above it would send DF
         * datagrams the hop drops again. */
        int32_t mss = (int32_t)icmp->next_hop_mtu - TB_IPV4_HDR_LEN - TB_TCP_HDR_LEN - ((tp->flags & TF_TS_OK) ? 12 : 0);
        if (mss < tp->mss) {
            tp->mss = (uint16_t)mss;
            st->stats.tcp_pmtu_decreases++;
            /* Resend what was in flight at the new size. */
            tp->snd_nxt = tp->snd_una;
            tp->snd_cursor = NULL;
            tcp_output(st, tp, now);
        }
    }
    /* RFC 1122 §4.2.3.9, RFC 9293 §3.9.2.2: Protocol and Port Unreachable
     * are hard errors and abort an opening connection (the peer host
     * answered: nobody listens). In synchronized states they stay soft, as
     * RFC 5927 §5.2 recommends against blind resets. */
    if (tp->state == TB_TCP_SYN_SENT && icmp->type == TB_ICMP_DEST_UNREACH &&
        (icmp->code == TB_ICMP_UNREACH_PROTOCOL || icmp->code == TB_ICMP_UNREACH_PORT)) {
        tcp_fail(st, tp, TB_ERR_UNREACH, now);
        return;
    }
    if (!tcp_orphan(tp)) {
        struct tb_event ev = {.type = TB_EV_TCP_SOFT_ERROR, .time_ns = now, .peer_ipv4 = tp->remote_ip,
                              .conn = tcp_conn_handle(tp)};
        ev.u.soft.icmp_type = icmp->type;
        ev.u.soft.icmp_code = icmp->code;
        ev.u.soft.next_hop_mtu = icmp->next_hop_mtu;
        tb_net_event(st, &ev);
    }
}
