/* TCP timers, all on the stack's timer heap and driven by `now`:
 * retransmission (RFC 6298), persist (RFC 9293 §3.8.6.1), delayed ACK
 * (RFC 9293 §3.8.6.3), keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) and
 * 2MSL (TIME-WAIT, and FIN-WAIT-2 of a closed handle). */
#include "tcp/tcp_internal.h"

static void rexmt_fired(struct tb_timer *t, tb_time_ns now, void *ctx);
static void persist_fired(struct tb_timer *t, tb_time_ns now, void *ctx);
static void delack_fired(struct tb_timer *t, tb_time_ns now, void *ctx);
static void keep_fired(struct tb_timer *t, tb_time_ns now, void *ctx);
static void twomsl_fired(struct tb_timer *t, tb_time_ns now, void *ctx);

void tcp_timers_init(struct tb_tcb *tp) {
    tb_timer_init(&tp->t_rexmt, rexmt_fired);
    tb_timer_init(&tp->t_persist, persist_fired);
    tb_timer_init(&tp->t_delack, delack_fired);
    tb_timer_init(&tp->t_keep, keep_fired);
    tb_timer_init(&tp->t_2msl, twomsl_fired);
    tb_timer_init(&tp->t_rack, tcp_rack_timer_fired);
    tb_timer_init(&tp->t_tlp, tcp_tlp_timer_fired);
}

void tcp_timers_cancel(struct tb_stack *st, struct tb_tcb *tp) {
    tb_timer_cancel(&st->timers, &tp->t_rexmt);
    tb_timer_cancel(&st->timers, &tp->t_persist);
    tb_timer_cancel(&st->timers, &tp->t_delack);
    tb_timer_cancel(&st->timers, &tp->t_keep);
    tb_timer_cancel(&st->timers, &tp->t_2msl);
    tb_timer_cancel(&st->timers, &tp->t_rack);
    tb_timer_cancel(&st->timers, &tp->t_tlp);
}

static tb_time_ns clamp_rto(const struct tb_tcb *tp, tb_time_ns rto) {
    if (rto < tp->rto_min_ns) rto = tp->rto_min_ns;
    if (rto > tp->rto_max_ns) rto = tp->rto_max_ns;
    return rto;
}

/* RFC 6298 §2.2-2.3, with alpha = 1/8 and beta = 1/4; K = 4; the clock
 * granularity G is one nanosecond here. */
void tcp_rtt_sample(struct tb_tcb *tp, tb_time_ns rtt_ns) {
    if (rtt_ns < 1) rtt_ns = 1;
    tp->tlp_need_rtt = false;   /* RFC 8985 §7.3: a sample since the last probe */
    if (!tp->have_rtt) {
        tp->srtt_ns = rtt_ns;
        tp->rttvar_ns = rtt_ns / 2;
        tp->have_rtt = true;
    } else {
        tb_time_ns delta = tp->srtt_ns - rtt_ns;
        if (delta < 0) delta = -delta;
        tp->rttvar_ns = (3 * tp->rttvar_ns + delta) / 4;
        tp->srtt_ns = (7 * tp->srtt_ns + rtt_ns) / 8;
    }
    tb_time_ns var = 4 * tp->rttvar_ns;
    tp->rto_ns = clamp_rto(tp, tp->srtt_ns + (var > 1 ? var : 1));
    /* RFC 6298 §2.4-2.5: a positive SRTT, and the RTO within [min, max]
     * (setopt keeps rto_min <= rto_max). */
    TB_ASSERT(tp->srtt_ns > 0 && tp->rttvar_ns >= 0);
    TB_ASSERT(tp->rto_ns >= tp->rto_min_ns && tp->rto_ns <= tp->rto_max_ns);
}

void tcp_rexmt_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    /* RFC 6298 §5.5: each expiry doubles the timeout, up to the maximum. */
    tb_time_ns rto = tp->rto_ns;
    for (uint32_t i = 0; i < tp->backoff && rto < tp->rto_max_ns; i++) rto *= 2;
    tb_time_ns at = now + clamp_rto(tp, rto);
    /* An active open gives up at its deadline, not at the expiry after it. */
    bool opening = tp->state == TB_TCP_SYN_SENT || (tp->state == TB_TCP_SYN_RECEIVED && !(tp->flags & TF_PASSIVE));
    if (opening && at > tp->syn_start_ns + st->cfg.tcp_syn_timeout_ns) at = tp->syn_start_ns + st->cfg.tcp_syn_timeout_ns;
    if (at < now) at = now;
    TB_ASSERT(at - now <= tp->rto_max_ns);   /* RFC 6298 §5.5: backoff stops at the maximum */
    tb_timer_arm(&st->timers, &tp->t_rexmt, at);
}

void tcp_delack_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    if (!tb_timer_armed(&tp->t_delack)) tb_timer_arm(&st->timers, &tp->t_delack, now + tp->delack_ns);
}

void tcp_keep_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    if (tp->keep_idle_ns <= 0) {
        tb_timer_cancel(&st->timers, &tp->t_keep);
        return;
    }
    tb_time_ns at = (tp->keep_probes_sent == 0 ? tp->last_rx_ns + tp->keep_idle_ns : now + tp->keep_intvl_ns);
    if (at < now) at = now;
    tb_timer_arm(&st->timers, &tp->t_keep, at);
}

void tcp_persist_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    /* Probe intervals back off like the RTO, bounded by rto_min and rto_max. */
    tb_time_ns base = tp->have_rtt ? tp->srtt_ns + 4 * tp->rttvar_ns : tp->rto_ns;
    tb_time_ns t = clamp_rto(tp, base);
    for (uint32_t i = 0; i < tp->persist_backoff && t < tp->rto_max_ns; i++) t *= 2;
    tp->flags |= TF_PERSIST;
    tb_time_ns after = clamp_rto(tp, t);
    TB_ASSERT(after >= tp->rto_min_ns && after <= tp->rto_max_ns);
    tb_timer_arm(&st->timers, &tp->t_persist, now + after);
}

void tcp_2msl_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, tb_time_ns after_ns) {
    tb_timer_arm(&st->timers, &tp->t_2msl, now + after_ns);
}

static void rexmt_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_tcb *tp = TB_CONTAINER_OF(t, struct tb_tcb, t_rexmt);
    if (tp->snd_una == tp->snd_max) return;   /* everything was acknowledged meanwhile */
    tcp_assert_snd_seq(tp);
    bool handshake = tp->state == TB_TCP_SYN_SENT || tp->state == TB_TCP_SYN_RECEIVED;
    /* RFC 9293 §3.8.3 and RFC 1122 §4.2.3.5 (R2): give up and report the
     * timeout. An active SYN gives up by elapsed time (at least 3 minutes
     * by default), which the RTO cap cannot distort; a passive SYN-ACK by
     * count, so a SYN flood cannot hold SYN-queue slots for minutes; data
     * by expiries without progress. */
    bool give_up;
    if (handshake && !(tp->flags & TF_PASSIVE)) give_up = now - tp->syn_start_ns >= st->cfg.tcp_syn_timeout_ns;
    else if (handshake) give_up = tp->rto_streak >= st->cfg.tcp_syn_retries;
    else give_up = tp->rto_streak >= tp->max_retries;
    if (give_up) {
        tcp_fail(st, tp, TB_ERR_TIMEOUT, now);
        return;
    }
    tp->backoff++;
    tp->rto_streak++;
    tp->cs.rto_timeouts++;
    st->stats.tcp_rto_timeouts++;
    if (handshake) tp->flags |= TF_SYN_REXMIT;
    /* RFC 6298 §5.4-5.6 with Karn's rule: retransmit from snd_una, back off,
     * and time nothing retransmitted. */
    if (!handshake && tp->state != TB_TCP_CLOSED) {
        /* RFC 6675 §5.1: every unSACKed segment is lost; retransmissions
         * follow the scoreboard, skipping what the peer holds. */
        tcp_sack_on_rto(st, tp, now);
        tcp_cc_cong_signal(tp, TCP_CONG_RTO, now);
        /* Eifel (RFC 3522): remember the first retransmission's timestamp. */
        if ((tp->flags & TF_TS_OK) && tp->backoff == 1) {
            tp->rto_ts_val = tcp_ts_now(tp, now);
            if (tp->rto_ts_val == 0) tp->rto_ts_val = 1;
        }
    }
    tcp_trace(st, tp, TB_TRACE_RTO, handshake ? "rto_handshake" : "rto", now);
    tp->rtt_timing = false;
    if (handshake || tp->seg_count == 0) {
        tp->snd_nxt = tp->snd_una;   /* the SYN again, or data without records: go back */
        tp->snd_cursor = NULL;
    }
    tp->dupacks = 0;
    tcp_output(st, tp, now);
    if (tp->in_use && tp->snd_una != tp->snd_max && !tb_timer_armed(&tp->t_rexmt)) tcp_rexmt_arm(st, tp, now);
    if (tp->in_use) tcp_assert_snd_seq(tp);
}

/* RFC 9293 §3.8.6.1: probe a zero (or too small) window so a lost window
 * update cannot deadlock the connection. The probe starts at snd_una; it
 * does not run the retransmission timer, and only unanswered probes count
 * towards giving up. */
static void persist_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_tcb *tp = TB_CONTAINER_OF(t, struct tb_tcb, t_persist);
    if (!(tp->flags & TF_PERSIST)) return;
    tcp_assert_snd_seq(tp);
    if (tp->persist_probes_unanswered >= tp->max_retries) {
        tcp_fail(st, tp, TB_ERR_TIMEOUT, now);
        return;
    }
    /* A zero window gets one byte; a small one gets what fits in it. Once
     * everything (FIN included) is acknowledged there is nothing to probe
     * (found by fuzzing: snd_una past snd_end wrapped this difference). */
    uint32_t unsent = SEQ_GT(tp->snd_end, tp->snd_una) ? tp->snd_end - tp->snd_una : 0;
    bool fin_pending = (tp->flags & TF_SHUT_WR) && SEQ_LEQ(tp->snd_una, tp->snd_end);
    if (unsent == 0 && !fin_pending) {
        tp->flags &= ~(uint32_t)TF_PERSIST;
        return;
    }
    uint32_t len = unsent > 0 ? 1 : 0;
    if (tp->snd_wnd > len) len = tp->snd_wnd < unsent ? tp->snd_wnd : unsent;
    if (len > tp->mss) len = tp->mss;
    bool fin_only = unsent == 0 && fin_pending;
    tcp_send_segment(st, tp, now, tp->snd_una, len, (uint8_t)(TB_TCP_ACK | (fin_only ? TB_TCP_FIN : 0)));
    uint32_t after = tp->snd_una + (len > 0 ? len : (fin_only ? 1 : 0));
    if (SEQ_GT(after, tp->snd_nxt)) tp->snd_nxt = after;
    if (SEQ_GT(tp->snd_nxt, tp->snd_max)) tp->snd_max = tp->snd_nxt;
    if (fin_only) tp->flags |= TF_FIN_SENT;
    tp->cs.zero_window_probes++;
    st->stats.tcp_zero_window_probes++;
    tcp_trace(st, tp, TB_TRACE_PERSIST, tp->snd_wnd == 0 ? "zero_window" : "small_window", now);
    tp->persist_probes_unanswered++;
    if (tp->persist_backoff < 16) tp->persist_backoff++;
    tcp_persist_arm(st, tp, now);
    tcp_assert_snd_seq(tp);
}

static void delack_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_tcb *tp = TB_CONTAINER_OF(t, struct tb_tcb, t_delack);
    if (!(tp->flags & TF_DELACK)) return;
    st->stats.tcp_delayed_acks++;
    tp->flags |= TF_ACKNOW;
    tcp_output(st, tp, now);
}

/* RFC 9293 §3.8.4: a keepalive is a segment the peer must acknowledge that
 * carries no new data: seq = snd_una - 1. */
static void keep_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_tcb *tp = TB_CONTAINER_OF(t, struct tb_tcb, t_keep);
    if (tp->keep_idle_ns <= 0 || tp->state < TB_TCP_ESTABLISHED || tp->state == TB_TCP_TIME_WAIT) return;
    if (now - tp->last_rx_ns < tp->keep_idle_ns && tp->keep_probes_sent == 0) {
        tcp_keep_arm(st, tp, now);   /* traffic arrived since the timer was set */
        return;
    }
    /* RFC 9293 §3.8.4 (MUST-26): keep-alives only when no sent data is
     * outstanding; while it is, retransmission (or persist) is in charge
     * and decides when to give up. */
    if (tp->snd_una != tp->snd_max || SEQ_LT(tp->snd_una, tp->snd_end)) {
        tp->keep_probes_sent = 0;
        tb_timer_arm(&st->timers, &tp->t_keep, now + tp->keep_idle_ns);
        return;
    }
    if (tp->keep_probes_sent >= tp->keep_probes) {
        tcp_fail(st, tp, TB_ERR_TIMEOUT, now);
        return;
    }
    tcp_send_segment(st, tp, now, tp->snd_una - 1, 0, TB_TCP_ACK);
    tp->keep_probes_sent++;
    tp->cs.keepalive_probes++;
    st->stats.tcp_keepalive_probes++;
    tcp_keep_arm(st, tp, now);
}

static void twomsl_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_tcb *tp = TB_CONTAINER_OF(t, struct tb_tcb, t_2msl);
    /* TIME-WAIT is over (RFC 9293 §3.10.8), or a FIN-WAIT-2 whose handle is
     * gone waited long enough for the peer's FIN. */
    if (tp->state == TB_TCP_FIN_WAIT_2 && !(tp->flags & TF_APP_CLOSED)) return;
    tcp_close_state(st, tp, now);
}
