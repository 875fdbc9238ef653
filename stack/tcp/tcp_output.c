/* Segment output: what to send (windows, Nagle, SWS avoidance, FIN), and
 * how (header, options, payload). Payload bytes are not copied: a segment
 * is a header buffer followed by indirect buffers that hold references on
 * the send queue's buffers, so the NIC and the retransmission queue share
 * one copy (DESIGN.md §3). Payloads of at most TCP_SMALL_COPY_BYTES are
 * copied into the header buffer, cheaper than a descriptor. */
#include <string.h>

#include "tcp/tcp_internal.h"

uint16_t tcp_mss_for_mtu(uint16_t mtu) { return (uint16_t)(mtu - TB_IPV4_HDR_LEN - TB_TCP_HDR_LEN); }

uint32_t tcp_flight(const struct tb_tcb *tp) { return tp->snd_max - tp->snd_una; }

/* RFC 7323 §5.4: a 1 ms clock plus a per-connection offset. */
uint32_t tcp_ts_now(const struct tb_tcb *tp, tb_time_ns now) {
    return (uint32_t)((uint64_t)now / (uint64_t)TB_NS_PER_MS) + tp->ts_offset;
}

uint32_t tcp_rcv_window(const struct tb_tcb *tp) {
    return tp->rcvbuf_max > tp->rcvq.bytes ? tp->rcvbuf_max - tp->rcvq.bytes : 0;
}

/* The window to advertise, in bytes, before scaling. RFC 9293 §3.8.6.2.2:
 * move the right edge only by at least min(RCV.BUFF/2, Eff.snd.MSS)
 * (receiver SWS avoidance; "the receiver must use its own Eff.snd.MSS"),
 * and never move it left (§3.8.6: shrinking is discouraged). */
static uint32_t advertised_window(const struct tb_tcb *tp) {
    uint32_t space = tcp_rcv_window(tp);
    uint32_t cur = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    if (space <= cur) return cur;
    uint32_t step = tp->rcvbuf_max / 2 < tp->mss ? tp->rcvbuf_max / 2 : tp->mss;
    if (space - cur < step) return cur;
    return space;
}

/* Finds the send-queue buffer holding seq, starting from the cursor when it
 * is not past seq. */
static struct tb_buf *sndq_find(struct tb_tcb *tp, uint32_t seq) {
    struct tb_buf *b = tp->snd_cursor;
    if (b == NULL || SEQ_GT(b->seq, seq)) b = tp->sndq.head;
    while (b != NULL && SEQ_GEQ(seq, b->seq + b->len)) b = b->qnext;
    return b;
}

/* Appends len bytes of the send queue from seq to the segment. */
static int attach_payload(struct tb_stack *st, struct tb_tcb *tp, struct tb_buf *hdr, uint32_t seq, uint32_t len) {
    struct tb_buf *src = sndq_find(tp, seq);
    if (len <= TCP_SMALL_COPY_BYTES) {
        uint8_t *dst = tb_buf_put(hdr, len);
        TB_ASSERT(dst != NULL);
        for (uint32_t done = 0; done < len; src = src->qnext) {
            TB_ASSERT(src != NULL);
            uint32_t off = seq + done - src->seq;
            uint32_t n = src->len - off < len - done ? src->len - off : len - done;
            memcpy(dst + done, src->data + off, n);
            done += n;
        }
        return TB_OK;
    }
    struct tb_buf *last = hdr;
    for (uint32_t done = 0; done < len; src = src->qnext) {
        TB_ASSERT(src != NULL);
        uint32_t off = seq + done - src->seq;
        uint32_t n = src->len - off < len - done ? src->len - off : len - done;
        struct tb_buf *slice = tb_pool_get(&st->tcp->ind_pool, 0);
        if (slice != NULL) {
            slice->flags = TB_BUF_F_INDIRECT;
            slice->base = slice->data = src->data + off;
            slice->cap = slice->len = n;
            slice->direct = src;
            tb_buf_ref(src);
        } else {
            /* Out of descriptors: fall back to a copy rather than fail. */
            slice = tb_net_alloc(st);
            if (slice == NULL) return TB_ERR_NOBUFS;
            memcpy(tb_buf_put(slice, n), src->data + off, n);
        }
        last->next = slice;
        last = slice;
        tp->snd_cursor = src;
        done += n;
    }
    return TB_OK;
}

/* Bytes of a SACK option with n blocks: two NOPs, kind, length, 8 per block (RFC 2018 §3). */
static uint32_t sack_opt_bytes(uint32_t n) { return n > 0 ? 4u + 8u * n : 0; }

/* The most SACK blocks a segment with len payload bytes can carry: the
 * 40 option bytes, the datagram within the MTU, and for data, all options
 * and data within the send MSS (RFC 9293 §3.7.1: the sender deducts the
 * options it actually carries). */
static uint8_t sack_blocks_room(const struct tb_stack *st, const struct tb_tcb *tp, uint32_t len, bool has_ts) {
    uint32_t ts = has_ts ? TCP_TS_OPT_BYTES : 0;
    uint32_t frame_room = st->cfg.mtu - TB_IPV4_HDR_LEN - TB_TCP_HDR_LEN;
    uint32_t room = TB_TCP_MAX_OPT_LEN - ts;
    if (frame_room < len + ts) return 0;
    if (frame_room - len - ts < room) room = frame_room - len - ts;
    if (len > 0) {
        uint32_t mss_room = tp->mss > len ? tp->mss - len : 0;
        if (mss_room < room) room = mss_room;
    }
    uint32_t fit = room >= sack_opt_bytes(1) ? (room - 4u) / 8u : 0;
    return fit < TB_TCP_MAX_SACK_BLOCKS ? (uint8_t)fit : TB_TCP_MAX_SACK_BLOCKS;
}

uint32_t tcp_data_mss(const struct tb_tcb *tp) {
    if (!(tp->flags & TF_SACK_OK) || (tp->oooq.head == NULL && !tp->dsack_pending)) return tp->mss;
    struct tb_sack_block blocks[TB_TCP_MAX_SACK_BLOCKS];
    uint32_t extra = sack_opt_bytes(tcp_sack_blocks(tp, blocks, (tp->flags & TF_TS_OK) ? 3 : 4));
    /* Room for at least one block and half an MSS of data; below that the
     * blocks give way (sack_blocks_room) rather than the data. */
    return tp->mss >= 2 * extra ? tp->mss - extra : tp->mss;
}

int tcp_send_segment(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, uint32_t seq, uint32_t len,
                     uint8_t flags) {
    return tcp_send_segment_tos(st, tp, now, seq, len, flags, 0);
}

int tcp_send_segment_tos(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, uint32_t seq, uint32_t len,
                         uint8_t flags, uint8_t tos) {
    /* RFC 3168 §6.1.3: echo congestion until the sender says it reacted. */
    if ((tp->flags & TF_ECE_PENDING) && (flags & TB_TCP_ACK) && !(flags & TB_TCP_SYN)) flags |= TB_TCP_ECE;
    /* RFC 9293 §3.9.1.2 (MUST-61): PSH on the segment carrying the last
     * byte queued, sent or sent again. */
    if (len > 0 && !(flags & TB_TCP_SYN) && seq + len == tp->snd_end) flags |= TB_TCP_PSH;
    struct tb_buf *hdr = tb_net_alloc(st);
    if (hdr == NULL) return TB_ERR_NOBUFS;
    const struct tb_config *cfg = &st->cfg;
    struct tb_tcp_repr th = {.src_port = tp->local_port, .dst_port = tp->remote_port, .seq = seq, .flags = flags};
    bool syn = (flags & TB_TCP_SYN) != 0;
    bool synack = syn && (flags & TB_TCP_ACK);
    if (flags & TB_TCP_ACK) th.ack = tp->rcv_nxt;
    if (syn) {
        /* An active SYN offers what we enable; a SYN-ACK answers what was offered. */
        th.opts.has_mss = true;
        th.opts.mss = tp->rcv_mss;
        th.opts.has_wscale = synack ? (tp->flags & TF_WS_OK) != 0 : cfg->tcp_window_scaling;
        th.opts.wscale = tp->rcv_wscale;
        th.opts.sack_permitted = synack ? (tp->flags & TF_SACK_OK) != 0 : cfg->tcp_sack;
        th.opts.has_ts = synack ? (tp->flags & TF_TS_OK) != 0 : cfg->tcp_timestamps;
    } else {
        th.opts.has_ts = (tp->flags & TF_TS_OK) != 0;
        /* RFC 7323 §2.3: the shift is fixed by the SYN for the whole connection. */
        TB_ASSERT(!(tp->flags & TF_WS_OK) || tp->rcv_wscale == tp->syn_rcv_wscale);
        uint8_t room = sack_blocks_room(st, tp, len, th.opts.has_ts);
        if ((tp->flags & TF_SACK_OK) && (flags & TB_TCP_ACK) && !(flags & TB_TCP_RST) && room > 0 &&
            (tp->oooq.head != NULL || tp->dsack_pending)) {
            th.opts.sack_count = tcp_sack_blocks(tp, th.opts.sack, room);
            tp->dsack_pending = false;   /* a DSACK is reported once */
        }
    }
    if (th.opts.has_ts) {
        th.opts.ts_val = tcp_ts_now(tp, now);
        th.opts.ts_ecr = (flags & TB_TCP_ACK) ? tp->ts_recent : 0;
    }
    if (!(flags & TB_TCP_RST)) {
        uint32_t win = advertised_window(tp);
        uint32_t field;
        if (syn) {
            field = win > 0xffff ? 0xffff : win;   /* RFC 7323 §2.2: a SYN's window is never scaled */
        } else {
            uint32_t cur = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
            field = win >> tp->rcv_wscale;
            uint32_t floor_field = (cur + (1u << tp->rcv_wscale) - 1) >> tp->rcv_wscale;   /* never shrink */
            if (field < floor_field) field = floor_field;
            if (field > 0xffff) field = 0xffff;
        }
        th.window = (uint16_t)field;
        uint32_t right = tp->rcv_nxt + (syn ? field : field << tp->rcv_wscale);
        if (SEQ_GT(right, tp->rcv_adv)) tp->rcv_adv = right;
    }
    uint8_t *h = tb_buf_put(hdr, (uint32_t)(TB_TCP_HDR_LEN + tb_tcp_opts_len(&th.opts, flags)));
    TB_ASSERT(h != NULL);
    size_t hlen = tb_tcp_emit_header(&th, h);
    if (len > 0 && attach_payload(st, tp, hdr, seq, len) != TB_OK) {
        tb_buf_free(hdr);
        return TB_ERR_NOBUFS;
    }
    size_t seg_len = hlen + len;
    /* MUST-16 and the path MTU: what carries data never exceeds the peer's
     * MSS (one byte excepted, when the MSS leaves no room for the options
     * the connection must carry), nor the datagram the MTU. */
    TB_ASSERT(TB_IPV4_HDR_LEN + seg_len <= cfg->mtu);
    TB_ASSERT(len == 0 || syn || len == 1 || seg_len - TB_TCP_HDR_LEN <= tp->peer_mss);
    uint32_t sum = tb_ipv4_pseudo_sum(tp->local_ip, tp->remote_ip, TB_IPPROTO_TCP, (uint16_t)seg_len);
    tb_put16(h + TB_TCP_CSUM_OFF, tb_csum_fold(tb_csum_chain(hdr, 0, seg_len, sum)));

    if (flags & TB_TCP_ACK) {
        tp->last_ack_sent = tp->rcv_nxt;
        tp->flags &= ~(uint32_t)(TF_ACKNOW | TF_DELACK);
        tp->unacked_full_segs = 0;
        tb_timer_cancel(&st->timers, &tp->t_delack);
    }
    bool rexmit = (len > 0 || (flags & (TB_TCP_SYN | TB_TCP_FIN))) && SEQ_LT(seq, tp->snd_max);
    if (rexmit && seq != tp->snd_una - 1) {
        tp->cs.retransmits++;
        tp->cs.retransmitted_bytes += len;
        st->stats.tcp_retransmits++;
    }
    tp->cs.segs_out++;
    st->stats.tcp_segs_out++;
    if (len > 0) {
        tp->cs.data_segs_out++;
        tp->cs.bytes_sent += len;
        st->stats.tcp_data_segs_out++;
    }
    if (len > 0) tp->last_data_send_ns = now;
    return tb_ipv4_output(st, now, hdr, tp->remote_ip, TB_IPPROTO_TCP, TB_IPV4_FLAG_DF, tos);
}

void tcp_send_rst(struct tb_stack *st, tb_time_ns now, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                  uint32_t seq, uint32_t ack, bool with_ack) {
    struct tb_buf *b = tb_net_alloc(st);
    if (b == NULL) return;
    struct tb_tcp_repr th = {.src_port = lport, .dst_port = rport, .seq = seq, .ack = with_ack ? ack : 0,
                             .flags = (uint8_t)(TB_TCP_RST | (with_ack ? TB_TCP_ACK : 0))};
    uint8_t *h = tb_buf_put(b, TB_TCP_HDR_LEN);
    tb_tcp_emit_header(&th, h);
    uint32_t sum = tb_ipv4_pseudo_sum(lip, rip, TB_IPPROTO_TCP, TB_TCP_HDR_LEN);
    tb_put16(h + TB_TCP_CSUM_OFF, tb_csum_fold(tb_csum_partial(h, TB_TCP_HDR_LEN, sum)));
    st->stats.tcp_rsts_sent++;
    st->stats.tcp_segs_out++;
    tb_ipv4_output(st, now, b, rip, TB_IPPROTO_TCP, TB_IPV4_FLAG_DF, 0);
}

/* The RST that aborts a synchronized connection, <SEQ=SND.NXT><ACK=RCV.NXT>
 * (RFC 9293 §3.10.4); on a timestamp connection it carries TSopt, which
 * RFC 7323 §3.2 says SHOULD be sent in an <RST> segment. */
void tcp_send_rst_conn(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    if (!(tp->flags & TF_TS_OK)) {
        tcp_send_rst(st, now, tp->local_ip, tp->local_port, tp->remote_ip, tp->remote_port, tp->snd_nxt, tp->rcv_nxt,
                     true);
        return;
    }
    struct tb_buf *b = tb_net_alloc(st);
    if (b == NULL) return;
    struct tb_tcp_repr th = {.src_port = tp->local_port, .dst_port = tp->remote_port, .seq = tp->snd_nxt,
                             .ack = tp->rcv_nxt, .flags = TB_TCP_RST | TB_TCP_ACK};
    th.opts.has_ts = true;
    th.opts.ts_val = tcp_ts_now(tp, now);
    th.opts.ts_ecr = tp->ts_recent;
    size_t hlen = TB_TCP_HDR_LEN + tb_tcp_opts_len(&th.opts, th.flags);
    uint8_t *h = tb_buf_put(b, (uint32_t)hlen);
    TB_ASSERT(h != NULL);
    hlen = tb_tcp_emit_header(&th, h);
    uint32_t sum = tb_ipv4_pseudo_sum(tp->local_ip, tp->remote_ip, TB_IPPROTO_TCP, (uint16_t)hlen);
    tb_put16(h + TB_TCP_CSUM_OFF, tb_csum_fold(tb_csum_partial(h, hlen, sum)));
    st->stats.tcp_rsts_sent++;
    st->stats.tcp_segs_out++;
    tb_ipv4_output(st, now, b, tp->remote_ip, TB_IPPROTO_TCP, TB_IPV4_FLAG_DF, 0);
}

/* Out-of-window answers (challenge ACKs, RFC 5961 §7, and ACKs to an ACK
 * of data never sent, §5.2) are limited twice. Per connection, one per
 * tcp_oow_ack_interval_ns, so one flow cannot storm. Per stack, a budget
 * per second that is drawn at random around tcp_challenge_acks_per_s:
 * an exact shared budget lets an off-path attacker count how many of
 * its spoofed segments were in window (CVE-2016-5696; RFC 5961 §10). */
bool tcp_oow_ack_allowed(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    struct tcp_state *tcp = st->tcp;
    if ((tp->flags & TF_OOW_ACKED) && now - tp->last_oow_ack_ns < st->cfg.tcp_oow_ack_interval_ns) {
        st->stats.tcp_challenge_acks_suppressed++;
        return false;
    }
    if (tcp->challenge_budget == 0 || now - tcp->challenge_window_start_ns >= TB_NS_PER_S) {
        uint32_t limit = st->cfg.tcp_challenge_acks_per_s;
        tcp->challenge_window_start_ns = now;
        tcp->challenge_acks_in_window = 0;
        tcp->challenge_budget = limit / 2 + 1 + (uint32_t)tb_prng_below(&st->prng, limit);
    }
    if (tcp->challenge_acks_in_window >= tcp->challenge_budget) {
        st->stats.tcp_challenge_acks_suppressed++;
        return false;
    }
    tcp->challenge_acks_in_window++;
    tp->flags |= TF_OOW_ACKED;
    tp->last_oow_ack_ns = now;
    return true;
}

void tcp_send_challenge_ack(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    if (!tcp_oow_ack_allowed(st, tp, now)) return;
    st->stats.tcp_challenge_acks++;
    tp->cs.challenge_acks++;
    tcp_send_segment(st, tp, now, tp->snd_nxt, 0, TB_TCP_ACK);
}

static bool can_send_data(int state) {
    return state == TB_TCP_ESTABLISHED || state == TB_TCP_CLOSE_WAIT || state == TB_TCP_FIN_WAIT_1 ||
           state == TB_TCP_CLOSING || state == TB_TCP_LAST_ACK;
}

void tcp_output(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    if (!tp->in_use || tp->state == TB_TCP_CLOSED || tp->state == TB_TCP_LISTEN) return;
    /* The hottest entry point: its precondition is its callers' (asserted)
     * postcondition, so test builds check it; the exit always does. */
    TB_DEBUG_ASSERT(SEQ_LEQ(tp->snd_una, tp->snd_nxt) && SEQ_LEQ(tp->snd_nxt, tp->snd_max));
    if ((tp->state == TB_TCP_SYN_SENT || tp->state == TB_TCP_SYN_RECEIVED) && tp->snd_nxt == tp->iss) {
        uint8_t flags = (uint8_t)(TB_TCP_SYN | (tp->state == TB_TCP_SYN_RECEIVED ? TB_TCP_ACK : 0));
        /* RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR; its SYN-ACK, ECE. */
        if (tp->state == TB_TCP_SYN_SENT && st->cfg.tcp_ecn) flags |= TB_TCP_ECE | TB_TCP_CWR;
        if (tp->state == TB_TCP_SYN_RECEIVED && (tp->flags & TF_ECN_OK)) flags |= TB_TCP_ECE;
        /* If the pool is dry the SYN is lost like any other packet: the
         * retransmission timer sends it again. */
        tcp_send_segment(st, tp, now, tp->iss, 0, flags);
        tp->snd_nxt = tp->iss + 1;
        if (SEQ_GT(tp->snd_nxt, tp->snd_max)) tp->snd_max = tp->snd_nxt;
        /* RFC 6298 §3 (Karn): time the SYN unless it is a retransmission. */
        if (!(tp->flags & TF_SYN_REXMIT)) {
            tp->rtt_timing = true;
            tp->rtt_seq = tp->iss;
            tp->rtt_start_ns = now;
        }
        if (!tb_timer_armed(&tp->t_rexmt)) tcp_rexmt_arm(st, tp, now);
        return;
    }
    if (can_send_data(tp->state)) {
        /* RFC 5681 §4.1: after an idle period longer than an RTO, restart
         * from at most the initial window. */
        if (tp->snd_una == tp->snd_max && tp->cs.data_segs_out > 0 && now - tp->last_data_send_ns > tp->rto_ns) {
            if (tcp_cc_after_idle(tp, tcp_initial_cwnd(st, tp), now))
                tcp_trace(st, tp, TB_TRACE_IDLE_RESTART, "idle", now);
        }
        /* Each pass sends one segment; the bound is a safety net, not a limit
         * that normal windows reach. */
        bool sent_new = false;
        uint32_t mss = tcp_data_mss(tp);   /* less the SACK blocks our ACKs carry now */
        for (uint32_t pass = 0; pass < 4096; pass++) {
            bool scoreboard = tp->seg_count > 0;
            uint32_t pipe = scoreboard ? tcp_pipe(st, tp) : tp->snd_nxt - tp->snd_una;
            uint32_t cwnd_room = tp->cwnd > pipe ? tp->cwnd - pipe : 0;
            /* 1. RFC 6675 NextSeg rule 1: what is lost goes first. */
            uint32_t rseq, rend;
            if (scoreboard && tcp_sack_next_lost(st, tp, &rseq, &rend)) {
                if (cwnd_room == 0) break;
                bool ends_in_fin = (tp->flags & TF_FIN_SENT) && rend == tp->snd_end + 1;
                if (rend - rseq > mss + (ends_in_fin ? 1u : 0u)) tcp_seg_split(st, tp, rseq + mss);
                tcp_sack_next_lost(st, tp, &rseq, &rend);
                bool fin = (tp->flags & TF_FIN_SENT) && rend == tp->snd_end + 1;
                uint32_t len = rend - rseq - (fin ? 1 : 0);
                uint8_t flags = (uint8_t)(TB_TCP_ACK | (fin ? TB_TCP_FIN : 0));
                if (tcp_send_segment(st, tp, now, rseq, len, flags) != TB_OK) break;
                tcp_seg_sent_again(st, tp, rseq, rend, now);
                if (tp->flags & TF_RECOVERY) tp->prr_out += len > 0 ? len : 1;
                tcp_trace(st, tp, TB_TRACE_RETRANSMIT, "lost", now);
                if (!tb_timer_armed(&tp->t_rexmt)) tcp_rexmt_arm(st, tp, now);
                continue;
            }
            uint32_t seq = tp->snd_nxt;
            /* Going back after a window pull-back or an MTU drop: skip what the peer holds. */
            uint32_t skip;
            if (scoreboard && SEQ_LT(seq, tp->snd_max) && tcp_seg_sacked_at(st, tp, seq, &skip)) {
                tp->snd_nxt = skip;
                tp->snd_cursor = NULL;
                continue;
            }
            /* 2. New data (or data sent before, when going back). */
            uint32_t unsent = SEQ_GT(tp->snd_end, seq) ? tp->snd_end - seq : 0;
            uint32_t rwnd_room = SEQ_GT(tp->snd_una + tp->snd_wnd, seq) ? tp->snd_una + tp->snd_wnd - seq : 0;
            uint32_t usable = rwnd_room < cwnd_room ? rwnd_room : cwnd_room;
            uint32_t len = unsent < mss ? unsent : mss;
            if (len > usable) len = usable;
            bool fin_due = (tp->flags & TF_SHUT_WR) && SEQ_LEQ(seq, tp->snd_end) && seq + len == tp->snd_end;
            bool nothing_unacked = tp->snd_max == tp->snd_una;
            bool send = false;
            if (len > 0) {
                if (len == mss) send = true;
                else if (len == unsent && ((tp->flags & TF_NODELAY) || nothing_unacked)) send = true;   /* RFC 896 */
                /* RFC 9293 §3.8.6.2.1 rule 3: Fs * Max(SND.WND), "[SND.NXT = SND.UNA and]" under Nagle */
                else if (tp->max_snd_wnd > 0 && len >= tp->max_snd_wnd / 2 &&
                         ((tp->flags & TF_NODELAY) || nothing_unacked))
                    send = true;
                else if (SEQ_LT(seq, tp->snd_max)) send = true;   /* going back: never hold back */
            } else if (fin_due) {
                send = true;   /* a FIN needs no window */
            }
            if (!send) break;
            uint8_t flags = TB_TCP_ACK;
            if (fin_due) flags |= TB_TCP_FIN;
            bool new_data = SEQ_GEQ(seq, tp->snd_max);
            uint32_t end = seq + len + (fin_due ? 1 : 0);
            if (new_data && !tcp_seg_sent_new(st, tp, seq, end, fin_due, now)) break;   /* no record: wait */
            uint8_t tos = 0;
            if ((tp->flags & TF_ECN_OK) && len > 0 && new_data) {
                tos = 2;   /* RFC 3168 §6.1.2: ECT(0) on new data, never on retransmissions */
                if (tp->flags & TF_SEND_CWR) {
                    flags |= TB_TCP_CWR;
                    tp->flags &= ~(uint32_t)TF_SEND_CWR;
                }
            }
            if (tcp_send_segment_tos(st, tp, now, seq, len, flags, tos) != TB_OK) {
                if (new_data) tcp_segs_drop_last(st, tp);
                break;
            }
            if (!new_data) tcp_seg_sent_again(st, tp, seq, end, now);
            if (tp->flags & TF_RECOVERY) tp->prr_out += len > 0 ? len : 1;
            tp->snd_nxt = end;
            if (SEQ_GT(tp->snd_nxt, tp->snd_max)) tp->snd_max = tp->snd_nxt;
            if (fin_due) tp->flags |= TF_FIN_SENT;
            if (new_data) sent_new = true;
            /* RFC 6298 §3 with Karn: time one new segment at a time. */
            if (!(tp->flags & TF_TS_OK) && !tp->rtt_timing && len > 0 && new_data) {
                tp->rtt_timing = true;
                tp->rtt_seq = seq;
                tp->rtt_start_ns = now;
            }
            if (!tb_timer_armed(&tp->t_rexmt) && !(tp->flags & TF_PERSIST)) tcp_rexmt_arm(st, tp, now);
            if (fin_due) break;
        }
        /* 3. RFC 6675 NextSeg rule 4: one rescue retransmission per episode,
         * only when rule 2 cannot send: no new data, or no receive window. */
        uint32_t left = SEQ_GT(tp->snd_end, tp->snd_max) ? tp->snd_end - tp->snd_max : 0;
        uint32_t rwnd_left = SEQ_GT(tp->snd_una + tp->snd_wnd, tp->snd_max) ? tp->snd_una + tp->snd_wnd - tp->snd_max : 0;
        if ((tp->flags & TF_RECOVERY) && tp->cwnd >= tcp_pipe(st, tp) + tp->mss && (left == 0 || rwnd_left < tp->mss)) {
            uint32_t rseq, rend;
            if (tcp_sack_rescue(st, tp, &rseq, &rend)) {
                bool fin = (tp->flags & TF_FIN_SENT) && rend == tp->snd_end + 1;
                uint32_t len = rend - rseq - (fin ? 1 : 0);
                if (len > mss) {
                    rseq = rend - (fin ? 1 : 0) - mss;
                    len = mss;
                }
                if (tcp_send_segment(st, tp, now, rseq, len, (uint8_t)(TB_TCP_ACK | (fin ? TB_TCP_FIN : 0))) == TB_OK) {
                    tcp_seg_sent_again(st, tp, rseq, rend, now);
                    tp->prr_out += len;
                    tcp_trace(st, tp, TB_TRACE_RETRANSMIT, "rescue", now);
                }
            }
        }
        if (sent_new) tcp_tlp_arm(st, tp, now);
        /* Data waiting, nothing in flight, and the window too small to send
         * into (zero, or under an MSS and held back by SWS avoidance): the
         * persist timer probes it, and doubles as RFC 9293 §3.8.6.2.1's
         * override timeout, so a lost window update cannot deadlock us. */
        uint32_t unsent = SEQ_GT(tp->snd_end, tp->snd_nxt) ? tp->snd_end - tp->snd_nxt : 0;
        if (unsent > 0 && tp->snd_nxt == tp->snd_una && !tb_timer_armed(&tp->t_rexmt) && !(tp->flags & TF_PERSIST)) {
            tb_timer_cancel(&st->timers, &tp->t_rexmt);
            tp->persist_backoff = 0;
            tcp_persist_arm(st, tp, now);
        }
    }
    if (tp->flags & TF_ACKNOW) tcp_send_segment(st, tp, now, tp->snd_nxt, 0, TB_TCP_ACK);
    tcp_assert_snd_seq(tp);
}
