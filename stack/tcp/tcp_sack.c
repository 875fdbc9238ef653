/* Sender-side loss recovery, on a scoreboard of sent segments:
 *  - SACK intake (RFC 2018) and DSACK detection (RFC 2883 §4);
 *  - loss detection by RACK (RFC 8985 §6: a segment sent well before one
 *    already delivered is lost), by DupThresh over SACKed data (RFC 6675
 *    IsLost), or by duplicate ACKs when SACK is off (RFC 5681 §3.2);
 *  - recovery (RFC 6675 with SACK, RFC 6582 NewReno without), paced by
 *    Proportional Rate Reduction (RFC 6937, PRR-SSRB);
 *  - tail loss probes (RFC 8985 §7);
 *  - undo of spurious reductions: every retransmission of an episode
 *    DSACKed (RFC 3708 / RFC 2883 §5), or an RTO the timestamps show was
 *    spurious (Eifel, RFC 3522 detection, RFC 4015 response).
 * Records come from a per-stack pool sized at creation. */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_internal.h"

#define WC_DELACK_NS (200 * TB_NS_PER_MS)   /* RFC 8985 §7.2 WCDelAckT */

int tcp_segs_init(struct tb_stack *st) {
    struct tcp_state *tcp = st->tcp;
    uint32_t n = st->cfg.tcp_seg_records ? st->cfg.tcp_seg_records : 2 * st->cfg.buf_count;
    tcp->segs = calloc(n, sizeof(*tcp->segs));
    if (tcp->segs == NULL) return -1;
    tcp->seg_total = n;
    tcp->seg_free = TCP_NONE;
    for (uint32_t i = n; i-- > 0;) {
        tcp->segs[i].next = tcp->seg_free;
        tcp->seg_free = i;
    }
    tcp->seg_free_count = n;
    return 0;
}

static uint32_t seg_alloc(struct tcp_state *tcp) {
    uint32_t i = tcp->seg_free;
    if (i == TCP_NONE) return TCP_NONE;
    tcp->seg_free = tcp->segs[i].next;
    tcp->seg_free_count--;
    memset(&tcp->segs[i], 0, sizeof(tcp->segs[i]));
    tcp->segs[i].next = TCP_NONE;
    return i;
}

static void seg_release(struct tcp_state *tcp, uint32_t i) {
    tcp->segs[i].next = tcp->seg_free;
    tcp->seg_free = i;
    tcp->seg_free_count++;
}

/* Adds (sign +1) or removes (-1) a record's share of the aggregates. */
static void seg_account(struct tb_tcb *tp, const struct tcp_seg *s, int sign) {
    uint32_t len = s->end - s->seq;
    uint32_t d = sign > 0 ? len : (uint32_t)-len, one = sign > 0 ? 1u : (uint32_t)-1;
    tp->sb_total += d;
    if (s->flags & SEG_SACKED) {
        tp->sb_sacked += d;
    } else {
        if (s->flags & SEG_LOST) tp->sb_lost += d;
        /* RFC 6675 SetPipe: a retransmission counts once more only when its
         * original is not deemed lost (IsLost stays true after a fast
         * retransmit, as everything is after an RTO, §5.1). */
        if ((s->flags & SEG_RETRANS) && !(s->flags & SEG_RXT_LOST)) tp->sb_retrans += d;
        if ((s->flags & SEG_LOST) && !(s->flags & SEG_RETRANS)) tp->sb_lost_count += one;
    }
    if (s->flags & SEG_EVER_RETRANS) tp->sb_ever_retrans += one;
}

/* Every flag change of a record goes through here. */
static void seg_set(struct tb_tcb *tp, struct tcp_seg *s, uint8_t flags) {
    seg_account(tp, s, -1);
    s->flags = flags;
    seg_account(tp, s, +1);
}

void tcp_segs_free_all(struct tb_stack *st, struct tb_tcb *tp) {
    struct tcp_state *tcp = st->tcp;
    uint32_t i = tp->seg_head;
    while (i != TCP_NONE && tp->seg_count > 0) {
        uint32_t next = tcp->segs[i].next;
        seg_release(tcp, i);
        tp->seg_count--;
        i = next;
    }
    tp->seg_head = tp->seg_tail = TCP_NONE;
    tp->seg_count = 0;
    tp->sb_total = tp->sb_sacked = tp->sb_lost = tp->sb_retrans = tp->sb_lost_count = tp->sb_ever_retrans = 0;
}

/* The whole scoreboard walk (records ordered, inside [snd_una, snd_max],
 * aggregates equal to their sum): test builds only, it is O(records). */
static bool sb_walk_ok(const struct tb_stack *st, const struct tb_tcb *tp) {
    const char *why;
    return tcp_sack_check(st, tp, &why);
}

/* The aggregates' own consistency, cheap enough for every ACK: SACKed, lost
 * and retransmitted bytes are disjoint parts of the total (a retransmission
 * clears LOST, a new loss clears RETRANS, a SACK clears both), and once the
 * cumulative ACK is applied every record lies in [snd_una, snd_max]. */
static void sb_assert(const struct tb_stack *st, const struct tb_tcb *tp) {
    TB_ASSERT((uint64_t)tp->sb_sacked + tp->sb_lost + tp->sb_retrans <= tp->sb_total);
    TB_ASSERT(tp->sb_total <= tp->snd_max - tp->snd_una);
    TB_ASSERT(tp->sb_lost_count <= tp->seg_count && tp->sb_ever_retrans <= tp->seg_count);
    TB_ASSERT((tp->seg_count == 0) == (tp->seg_head == TCP_NONE));
    TB_DEBUG_ASSERT(sb_walk_ok(st, tp));
}

#define FOR_SEGS(st_, tp_, s_)                                                                   \
    for (struct tcp_seg *s_ = (tp_)->seg_head == TCP_NONE ? NULL : &(st_)->tcp->segs[(tp_)->seg_head]; s_ != NULL; \
         s_ = s_->next == TCP_NONE ? NULL : &(st_)->tcp->segs[s_->next])

bool tcp_seg_sent_new(struct tb_stack *st, struct tb_tcb *tp, uint32_t seq, uint32_t end, bool fin, tb_time_ns now) {
    /* New data starts where the sent data ends, after the last record. */
    TB_ASSERT(SEQ_LT(seq, end) && seq == tp->snd_max);
    TB_ASSERT(tp->seg_tail == TCP_NONE || SEQ_LEQ(st->tcp->segs[tp->seg_tail].end, seq));
    uint32_t i = seg_alloc(st->tcp);
    if (i == TCP_NONE) {
        st->stats.tcp_seg_records_empty++;
        return false;
    }
    struct tcp_seg *s = &st->tcp->segs[i];
    s->seq = seq;
    s->end = end;
    s->xmit_ns = now;
    s->ts_val = tcp_ts_now(tp, now);
    if (fin) s->flags |= SEG_FIN;
    seg_account(tp, s, +1);
    if (tp->seg_tail != TCP_NONE) st->tcp->segs[tp->seg_tail].next = i;
    else tp->seg_head = i;
    tp->seg_tail = i;
    tp->seg_count++;
    return true;
}

void tcp_seg_split(struct tb_stack *st, struct tb_tcb *tp, uint32_t at) {
    for (uint32_t i = tp->seg_head; i != TCP_NONE; i = st->tcp->segs[i].next) {
        struct tcp_seg *s = &st->tcp->segs[i];
        if (!(SEQ_LT(s->seq, at) && SEQ_LT(at, s->end))) continue;
        uint32_t j = seg_alloc(st->tcp);
        if (j == TCP_NONE) {
            st->stats.tcp_seg_records_empty++;
            return;   /* the whole record is resent as one piece */
        }
        s = &st->tcp->segs[i];
        struct tcp_seg *t = &st->tcp->segs[j];
        seg_account(tp, s, -1);
        *t = *s;
        t->seq = at;
        s->end = at;
        s->flags &= (uint8_t)~SEG_FIN;
        seg_account(tp, s, +1);
        seg_account(tp, t, +1);
        s->next = j;
        if (tp->seg_tail == i) tp->seg_tail = j;
        tp->seg_count++;
        return;
    }
}

void tcp_segs_drop_last(struct tb_stack *st, struct tb_tcb *tp) {
    if (tp->seg_tail == TCP_NONE) return;
    uint32_t last = tp->seg_tail, prev = TCP_NONE;
    for (uint32_t i = tp->seg_head; i != last; i = st->tcp->segs[i].next) prev = i;
    if (prev == TCP_NONE) tp->seg_head = TCP_NONE;
    else st->tcp->segs[prev].next = TCP_NONE;
    tp->seg_tail = prev;
    tp->seg_count--;
    seg_account(tp, &st->tcp->segs[last], -1);
    seg_release(st->tcp, last);
}

void tcp_seg_sent_again(struct tb_stack *st, struct tb_tcb *tp, uint32_t seq, uint32_t end, tb_time_ns now) {
    TB_ASSERT(SEQ_LT(seq, end) && SEQ_GEQ(seq, tp->snd_una));   /* something, not yet acknowledged */
    FOR_SEGS(st, tp, s) {
        if (SEQ_LEQ(s->end, seq)) continue;
        if (SEQ_GEQ(s->seq, end)) break;
        uint8_t was_lost = (s->flags & SEG_LOST) ? SEG_RXT_LOST : 0;
        seg_set(tp, s, (uint8_t)(((s->flags | SEG_RETRANS | SEG_EVER_RETRANS) & ~(SEG_LOST | SEG_RXT_LOST)) | was_lost));
        s->xmit_ns = now;
        s->ts_val = tcp_ts_now(tp, now);
        if (tp->undo_armed) tp->undo_retrans++;
    }
    if (tp->undo_armed) {   /* the range a D-SACK must fall in to show a retransmission spurious */
        if (tp->undo_lo == tp->undo_hi || SEQ_LT(seq, tp->undo_lo)) tp->undo_lo = seq;
        if (SEQ_GT(end, tp->undo_hi)) tp->undo_hi = end;
    }
    if (SEQ_GT(end, tp->high_rxt)) tp->high_rxt = end;
}

/* RFC 6675 SetPipe: bytes believed in the network. Without SACK, each
 * duplicate ACK stands for one segment that left it (RFC 6937 §3 note). */
static uint32_t pipe_of(const struct tb_stack *st, const struct tb_tcb *tp) {
    (void)st;
    uint64_t pipe = (uint64_t)tp->sb_total - tp->sb_sacked - tp->sb_lost + tp->sb_retrans;
    uint64_t reno = (uint64_t)tp->reno_sacked * tp->mss;
    pipe = pipe > reno ? pipe - reno : 0;
    return pipe > UINT32_MAX ? UINT32_MAX : (uint32_t)pipe;
}

static void trace_loss(struct tb_stack *st, struct tb_tcb *tp, const char *reason, tb_time_ns now) {
    tcp_trace(st, tp, TB_TRACE_LOSS, reason, now);
}

/* RFC 8985 §6.2 step 2: remember the most recently sent segment delivered. */
static void rack_update(struct tb_tcb *tp, const struct tcp_seg *s, tb_time_ns now) {
    tb_time_ns rtt = now - s->xmit_ns;
    /* Step 3: an original delivered below what was already delivered is reordering. */
    if (!(s->flags & SEG_EVER_RETRANS) && tp->rack_fack != 0 && SEQ_LT(s->end, tp->rack_fack)) tp->rack_reord = true;
    if (tp->rack_fack == 0 || SEQ_GT(s->end, tp->rack_fack)) tp->rack_fack = s->end;
    /* A retransmitted segment acked sooner than the minimum RTT was
     * acknowledged for its original transmission: no sample. */
    if ((s->flags & SEG_EVER_RETRANS) && tp->rack_min_rtt_ns > 0 && rtt < tp->rack_min_rtt_ns) return;
    if (rtt > 0 && (tp->rack_min_rtt_ns == 0 || rtt < tp->rack_min_rtt_ns)) tp->rack_min_rtt_ns = rtt;
    if (s->xmit_ns > tp->rack_xmit_ns || (s->xmit_ns == tp->rack_xmit_ns && SEQ_GT(s->end, tp->rack_end))) {
        tp->rack_xmit_ns = s->xmit_ns;
        tp->rack_end = s->end;
        tp->rack_rtt_ns = rtt;
    }
}

static bool rack_on(const struct tb_stack *st, const struct tb_tcb *tp) {
    return st->cfg.tcp_rack_tlp && (tp->flags & TF_SACK_OK);
}

/* RFC 8985 §6.2 steps 4-5: a segment sent before the newest delivered one
 * is lost once RACK.rtt + reo_wnd has passed since it was sent. Returns the
 * number newly marked; sets *next to the earliest future deadline. */
static uint32_t rack_detect(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, tb_time_ns *next) {
    *next = TB_TIME_NEVER;
    if (tp->rack_xmit_ns == 0) return 0;
    /* Step 4 (RACK_update_reo_wnd): no reordering seen yet, and either in
     * recovery or DupThresh segments SACKed: no window, as DupThresh would.
     * Otherwise min_RTT / 4 (widened by DSACKs), at most SRTT. */
    tb_time_ns reo_wnd = tp->rack_min_rtt_ns / 4 * (tp->rack_reo_mult ? tp->rack_reo_mult : 1);
    if (!tp->rack_reord) {
        uint32_t sacked = 0;
        FOR_SEGS(st, tp, s) sacked += (s->flags & SEG_SACKED) != 0;
        if ((tp->flags & TF_RECOVERY) || sacked >= st->cfg.tcp_dupthresh) reo_wnd = 0;
    }
    if (tp->have_rtt && reo_wnd > tp->srtt_ns) reo_wnd = tp->srtt_ns;
    uint32_t marked = 0;
    FOR_SEGS(st, tp, s) {
        if (s->flags & (SEG_SACKED | SEG_LOST)) continue;
        bool sent_before = s->xmit_ns < tp->rack_xmit_ns ||
                           (s->xmit_ns == tp->rack_xmit_ns && SEQ_LT(s->end, tp->rack_end));
        if (!sent_before) {
            /* Without retransmissions records are in send order: none later qualifies. */
            if (tp->sb_ever_retrans == 0) break;
            continue;
        }
        tb_time_ns deadline = s->xmit_ns + tp->rack_rtt_ns + reo_wnd;
        if (now >= deadline) {
            seg_set(tp, s, (uint8_t)((s->flags | SEG_LOST) & ~SEG_RETRANS));
            marked++;
            tp->cs.rack_losses++;
            st->stats.tcp_rack_losses++;
            trace_loss(st, tp, "rack", now);
        } else if (deadline < *next) {
            *next = deadline;
        }
    }
    return marked;
}

/* RFC 6675 IsLost: DupThresh SACKed segments (or that many MSS of SACKed
 * bytes) above a segment mean it is lost. */
static uint32_t dupthresh_detect(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    uint64_t sacked_total = 0;
    uint32_t sacked_segs = 0;
    FOR_SEGS(st, tp, s) if (s->flags & SEG_SACKED) {
        sacked_total += s->end - s->seq;
        sacked_segs++;
    }
    uint32_t marked = 0, thresh = st->cfg.tcp_dupthresh;
    FOR_SEGS(st, tp, s) {
        if (s->flags & SEG_SACKED) {
            sacked_total -= s->end - s->seq;
            sacked_segs--;
            continue;
        }
        if (sacked_segs < thresh && sacked_total <= (uint64_t)(thresh - 1) * tp->mss) break;
        if (!(s->flags & (SEG_LOST | SEG_RETRANS))) {
            seg_set(tp, s, (uint8_t)(s->flags | SEG_LOST));
            marked++;
            trace_loss(st, tp, "dupthresh", now);
        }
    }
    return marked;
}

static void enter_recovery(struct tb_stack *st, struct tb_tcb *tp, const char *reason, tb_time_ns now) {
    /* RFC 6582 §3.2: once per window, and only with a loss on the scoreboard. */
    TB_ASSERT(!(tp->flags & TF_RECOVERY) && SEQ_GEQ(tp->snd_una, tp->recover));
    TB_ASSERT(tp->seg_head != TCP_NONE && SEQ_LT(tp->snd_una, tp->snd_max));
    tp->flags |= TF_RECOVERY;
    tp->flags &= ~(uint32_t)TF_RESCUE_DONE;
    tp->undo_armed = true;
    tp->undo_retrans = 0;
    tp->undo_lo = tp->undo_hi = tp->snd_una;
    tp->recover = tp->snd_max;
    tp->high_rxt = tp->snd_una;
    tp->recover_fs = tp->snd_max - tp->snd_una;
    tp->prr_delivered = tp->prr_out = 0;
    tcp_cc_cong_signal(tp, TCP_CONG_FAST_RETRANSMIT, now);   /* the algorithm snapshots for undo */
    TB_ASSERT(tp->recover == tp->snd_max && SEQ_LT(tp->snd_una, tp->recover));
    tp->cs.fast_retransmits++;
    st->stats.tcp_fast_retransmits++;
    if (!tb_timer_armed(&tp->t_rexmt)) tcp_rexmt_arm(st, tp, now);   /* the probe's stand-in goes */
    if (tp->flags & TF_SACK_OK) st->stats.tcp_sack_recoveries++;
    else st->stats.tcp_newreno_recoveries++;
    tp->tlp_out = false;
    tp->tlp_episode = false;   /* the recovery's own reduction covers the probe's loss */
    tb_timer_cancel(&st->timers, &tp->t_tlp);
    tcp_trace(st, tp, TB_TRACE_RECOVERY, reason, now);
}

static void exit_recovery(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    TB_ASSERT((tp->flags & TF_RECOVERY) && SEQ_GEQ(tp->snd_una, tp->recover));   /* RFC 6582 §3.2 step 3: a full ACK */
    tp->flags &= ~(uint32_t)TF_RECOVERY;
    tp->reno_sacked = 0;
    tcp_cc_post_recovery(tp, tp->prr_out > 0, now);
    tcp_trace(st, tp, TB_TRACE_RECOVERY_EXIT, "full_ack", now);
}

static void undo(struct tb_stack *st, struct tb_tcb *tp, const char *reason, tb_time_ns now) {
    TB_ASSERT(tp->undo_armed || tp->rto_ts_val != 0);   /* a DSACKed episode, or an Eifel-timed RTO */
    /* The algorithm restores what it saved at the reduction (CUBIC: W_max too). */
    tcp_cc_cong_signal(tp, TCP_CONG_UNDO, now);
    tp->undo_armed = false;
    tp->cs.spurious_undos++;
    st->stats.tcp_spurious_undos++;
    if (tp->flags & TF_RECOVERY) {
        tp->flags &= ~(uint32_t)TF_RECOVERY;
        tp->reno_sacked = 0;
    }
    FOR_SEGS(st, tp, s) seg_set(tp, s, (uint8_t)(s->flags & ~(SEG_LOST | SEG_RXT_LOST)));
    TB_ASSERT(tp->sb_lost == 0 && tp->sb_lost_count == 0 && !(tp->flags & TF_RECOVERY));
    tcp_trace(st, tp, TB_TRACE_UNDO, reason, now);
}

void tcp_sack_on_ack(struct tb_stack *st, struct tb_tcb *tp, const struct tb_tcp_repr *th, uint32_t acked_bytes,
                     bool is_dupack, tb_time_ns now) {
    struct tcp_state *tcp = st->tcp;
    /* Preconditions: ack_advance's postconditions, or (a duplicate ACK)
     * this function's own from the last call. */
    uint32_t delivered = 0;
    const struct tb_tcp_opts *o = &th->opts;
    bool sack = (tp->flags & TF_SACK_OK) != 0;
    int first_block = 0;
    bool dsack = false;
    /* RFC 2883 §4: a first block below the cumulative ACK, or inside the
     * second block, reports a duplicate. */
    if (sack && o->sack_count > 0) {
        const struct tb_sack_block *b = o->sack;
        if (SEQ_LEQ(b[0].right, th->ack) ||
            (o->sack_count > 1 && SEQ_GEQ(b[0].left, b[1].left) && SEQ_LEQ(b[0].right, b[1].right))) {
            dsack = true;
            first_block = 1;
            tp->cs.dsacks++;
            st->stats.tcp_dsacks++;
            /* RFC 3708 §3: only a duplicate of what this episode retransmitted
             * shows that retransmission unneeded (not a network duplicate). */
            if (tp->undo_armed && tp->undo_retrans > 0 && SEQ_LT(b[0].left, tp->undo_hi) &&
                SEQ_GT(b[0].right, tp->undo_lo))
                tp->undo_retrans--;
            /* RFC 8985 §6.2 step 4: reo_wnd_mult starts at 1 (stored as 0) and a
             * D-SACK adds one, so the first doubles reo_wnd (we stop at 2). */
            if (tp->rack_reo_mult < 2) tp->rack_reo_mult = 2;
            tp->rack_reord = true;   /* a duplicate proves the network reorders (or duplicates) */
        }
    }
    /* The cumulative ACK retires whole records (and trims a partial one). */
    while (tp->seg_head != TCP_NONE) {
        struct tcp_seg *s = &tcp->segs[tp->seg_head];
        if (SEQ_LEQ(s->end, tp->snd_una)) {
            if (!(s->flags & SEG_SACKED)) {
                delivered += s->end - s->seq;
                rack_update(tp, s, now);
            }
            uint32_t next = s->next;
            seg_account(tp, s, -1);
            seg_release(tcp, tp->seg_head);
            tp->seg_head = next;
            if (next == TCP_NONE) tp->seg_tail = TCP_NONE;
            tp->seg_count--;
            continue;
        }
        if (SEQ_LT(s->seq, tp->snd_una)) {
            delivered += tp->snd_una - s->seq;
            seg_account(tp, s, -1);
            s->seq = tp->snd_una;
            seg_account(tp, s, +1);
        }
        break;
    }
    /* RFC 2018 §8: a cumulative ACK that stops at the left edge of data the
     * receiver SACKed means it dropped (reneged on) that data: every SACK
     * bit is void and what is unacknowledged is lost again, so recovery
     * sends it instead of waiting an RTO per segment (Linux's
     * tcp_check_sack_reneging; RFC 6675 §5.1 keeps SACK state across an
     * RTO only with such a test). */
    if (acked_bytes > 0 && tp->seg_head != TCP_NONE && (tcp->segs[tp->seg_head].flags & SEG_SACKED) &&
        tcp->segs[tp->seg_head].seq == tp->snd_una) {
        FOR_SEGS(st, tp, r) {
            /* a retransmission the receiver SACKed and then dropped is lost again, not in flight */
            if (r->flags & SEG_SACKED)
                seg_set(tp, r, (uint8_t)((r->flags | SEG_LOST) & ~(SEG_SACKED | SEG_RETRANS | SEG_RXT_LOST)));
        }
        tcp_trace(st, tp, TB_TRACE_LOSS, "reneged", now);
    }
    /* SACK blocks mark whole records, lowest block first: RFC 2018 §4 puts
     * the newest block first, but segments SACKed by one ACK arrived
     * together, so taking them in block order would make a lower block look
     * reordered (RFC 8985 §6.2 step 3 compares against RACK.fack). */
    struct tb_sack_block blocks[TB_TCP_MAX_SACK_BLOCKS];
    int nblocks = 0;
    for (int k = first_block; sack && k < o->sack_count && nblocks < TB_TCP_MAX_SACK_BLOCKS; k++) {
        int at = nblocks++;
        while (at > 0 && SEQ_GT(blocks[at - 1].left, o->sack[k].left)) {
            blocks[at] = blocks[at - 1];
            at--;
        }
        blocks[at] = o->sack[k];
    }
    if (sack)
        for (int k = 0; k < nblocks; k++) {
            uint32_t left = blocks[k].left, right = blocks[k].right;
            if (!SEQ_GT(right, tp->snd_una) || SEQ_GT(right, tp->snd_max)) continue;   /* stale or bogus */
            FOR_SEGS(st, tp, s) {
                if (SEQ_GEQ(s->seq, right)) break;
                if (SEQ_LT(s->seq, left) || SEQ_GT(s->end, right) || (s->flags & SEG_SACKED)) continue;
                seg_set(tp, s, (uint8_t)((s->flags | SEG_SACKED) & ~(SEG_LOST | SEG_RETRANS)));
                delivered += s->end - s->seq;
                tp->cs.sacked_bytes += s->end - s->seq;
                rack_update(tp, s, now);
            }
        }
    if (tp->tlp_out && SEQ_GEQ(tp->snd_una, tp->tlp_high)) tp->tlp_out = false;
    /* RFC 8985 §7.4.2 TLP_process_ack: a retransmitted probe that no D-SACK
     * reports as a duplicate, acknowledged and then passed, repaired a loss:
     * congestion control reacts once, as after a fast recovery. An ACK of
     * exactly TLP.end_seq leaves the question open. */
    if (tp->tlp_episode && SEQ_GEQ(th->ack, tp->tlp_high)) {
        if (!tp->tlp_is_retrans) {
            tp->tlp_episode = false;
        } else if (dsack && o->sack[0].right == tp->tlp_high) {
            tp->tlp_episode = false;
        } else if (SEQ_GT(th->ack, tp->tlp_high)) {
            tp->tlp_episode = false;
            if (!(tp->flags & TF_RECOVERY)) {
                /* about the flight the probe was part of, not what this ACK left */
                tcp_cc_cong_signal_flight(tp, TCP_CONG_FAST_RETRANSMIT, now, tcp_flight(tp) + acked_bytes);
                tcp_trace(st, tp, TB_TRACE_LOSS, "tlp_repaired", now);
            }
        }
    }

    /* Eifel (RFC 3522 §2): the first ACK after an RTO retransmission echoes
     * a timestamp older than that retransmission: the original arrived. */
    if (tp->rto_ts_val != 0 && acked_bytes > 0) {
        if ((tp->flags & TF_TS_OK) && o->has_ts && o->ts_ecr != 0 && SEQ_LT(o->ts_ecr, tp->rto_ts_val)) {
            undo(st, tp, "eifel", now);
            tp->backoff = 0;
            tp->snd_nxt = tp->snd_max;   /* RFC 4015 §2: stop retransmitting what was never lost */
            tp->snd_cursor = NULL;
        }
        tp->rto_ts_val = 0;
    }

    /* Loss detection. */
    uint32_t lost = 0, by_rack = 0;
    tb_time_ns rack_next = TB_TIME_NEVER;
    if (rack_on(st, tp)) lost = by_rack = rack_detect(st, tp, now, &rack_next);
    if (sack && !rack_on(st, tp)) lost += dupthresh_detect(st, tp, now);
    if (!sack && is_dupack && tp->seg_head != TCP_NONE) {
        if (tp->reno_sacked + 1 < tp->seg_count) tp->reno_sacked++;
        if (tp->dupacks == st->cfg.tcp_dupthresh && !(tcp->segs[tp->seg_head].flags & (SEG_LOST | SEG_RETRANS))) {
            seg_set(tp, &tcp->segs[tp->seg_head], (uint8_t)(tcp->segs[tp->seg_head].flags | SEG_LOST));   /* RFC 5681 §3.2 step 2 */
            trace_loss(st, tp, "dupacks", now);
            lost++;
        }
    }
    if (rack_next != TB_TIME_NEVER) tb_timer_arm(&st->timers, &tp->t_rack, rack_next);
    else tb_timer_cancel(&st->timers, &tp->t_rack);

    /* RFC 6582 §3.2: enter recovery unless still inside the last one. */
    bool in_rec = (tp->flags & TF_RECOVERY) != 0;
    if (!in_rec && lost > 0 && SEQ_GEQ(tp->snd_una, tp->recover) && tp->state != TB_TCP_SYN_RECEIVED) {
        enter_recovery(st, tp, !sack ? "dupacks" : by_rack > 0 ? "rack" : "dupthresh", now);
        in_rec = true;
    } else if (!in_rec && lost > 0) {
        /* Losses inside an old recovery window: retransmit without another
         * reduction (RFC 6582 §3.2 step 4 note). */
    }
    if (in_rec) {
        if (SEQ_GEQ(tp->snd_una, tp->recover)) {
            exit_recovery(st, tp, now);
        } else {
            if (!sack && acked_bytes > 0 && tp->seg_head != TCP_NONE) {
                /* RFC 6582 §3.2 step 5: a partial ACK: the next hole is lost. */
                uint32_t segs_acked = acked_bytes / (tp->mss ? tp->mss : 1);
                tp->reno_sacked = tp->reno_sacked > segs_acked ? tp->reno_sacked - segs_acked : 0;
                struct tcp_seg *h = &tcp->segs[tp->seg_head];
                if (!(h->flags & (SEG_LOST | SEG_RETRANS | SEG_SACKED))) {
                    seg_set(tp, h, (uint8_t)(h->flags | SEG_LOST));
                    trace_loss(st, tp, "partial_ack", now);
                }
            }
            /* RFC 6937 §3, PRR-SSRB. */
            uint32_t dd = delivered + (!sack && is_dupack ? tp->mss : 0);
            tp->prr_delivered += dd;
            uint32_t pipe = pipe_of(st, tp);
            int64_t sndcnt;
            if (pipe > tp->ssthresh) {
                uint64_t fs = tp->recover_fs ? tp->recover_fs : 1;
                sndcnt = (int64_t)(((uint64_t)tp->prr_delivered * tp->ssthresh + fs - 1) / fs) - tp->prr_out;
            } else {
                int64_t limit = (int64_t)tp->prr_delivered - tp->prr_out;
                if (limit < (int64_t)dd) limit = dd;
                limit += tp->mss;
                sndcnt = (int64_t)tp->ssthresh - pipe;
                if (sndcnt > limit) sndcnt = limit;
            }
            if (sndcnt < 0) sndcnt = 0;
            tp->cwnd = pipe + (uint32_t)sndcnt;
            /* RFC 6937 §3.1: PRR never sets cwnd below min(ssthresh, pipe + SMSS). */
            TB_ASSERT(tp->cwnd >= pipe && tp->cwnd >= (tp->ssthresh < pipe + tp->mss ? tp->ssthresh : pipe + tp->mss));
        }
    }
    /* Undo: every retransmission of the episode was a duplicate. */
    if (dsack && tp->undo_armed && tp->undo_retrans == 0 && !(tp->flags & TF_RECOVERY && tp->prr_out == 0))
        undo(st, tp, "dsack", now);
    /* Undo stays armed until the next episode: a DSACK may come after the
     * episode's last ACK, and only a DSACK for every retransmission undoes. */
    sb_assert(st, tp);
    tcp_assert_snd_seq(tp);
    tcp_assert_windows(tp);
    TB_ASSERT(!(tp->flags & TF_RECOVERY) || SEQ_LT(tp->snd_una, tp->recover));   /* a full ACK ended it */
    TB_ASSERT(tp->seg_head == TCP_NONE || SEQ_GEQ(tcp->segs[tp->seg_head].seq, tp->snd_una));
}

uint32_t tcp_pipe(const struct tb_stack *st, const struct tb_tcb *tp) { return pipe_of(st, tp); }

/* RFC 6675 NextSeg rule 1: the first lost segment not yet sent again. */
bool tcp_sack_next_lost(const struct tb_stack *st, const struct tb_tcb *tp, uint32_t *seq, uint32_t *end) {
    if (tp->sb_lost_count == 0) return false;
    for (uint32_t i = tp->seg_head; i != TCP_NONE; i = st->tcp->segs[i].next) {
        const struct tcp_seg *s = &st->tcp->segs[i];
        if ((s->flags & SEG_LOST) && !(s->flags & (SEG_SACKED | SEG_RETRANS))) {
            *seq = s->seq;
            *end = s->end;
            return true;
        }
    }
    return false;
}

/* RFC 6675 NextSeg rule 4 (rescue): once per episode, the last unSACKed
 * segment below the recovery point, when nothing else may be sent. */
bool tcp_sack_rescue(struct tb_stack *st, struct tb_tcb *tp, uint32_t *seq, uint32_t *end) {
    if (!(tp->flags & TF_RECOVERY) || (tp->flags & TF_RESCUE_DONE) || !(tp->flags & TF_SACK_OK)) return false;
    const struct tcp_seg *pick = NULL;
    FOR_SEGS(st, tp, s) {
        if (SEQ_GEQ(s->seq, tp->recover)) break;
        if (!(s->flags & (SEG_SACKED | SEG_RETRANS))) pick = s;
    }
    if (pick == NULL) return false;
    tp->flags |= TF_RESCUE_DONE;
    *seq = pick->seq;
    *end = pick->end;
    return true;
}

bool tcp_seg_sacked_at(const struct tb_stack *st, const struct tb_tcb *tp, uint32_t seq, uint32_t *skip_to) {
    bool found = false;
    for (uint32_t i = tp->seg_head; i != TCP_NONE; i = st->tcp->segs[i].next) {
        const struct tcp_seg *s = &st->tcp->segs[i];
        if (SEQ_LEQ(s->end, seq) && !found) continue;
        if (!found) {
            if (SEQ_GT(s->seq, seq) || !(s->flags & SEG_SACKED)) return false;
            found = true;
            *skip_to = s->end;
            continue;
        }
        if (s->seq != *skip_to || !(s->flags & SEG_SACKED)) break;
        *skip_to = s->end;
    }
    return found;
}

void tcp_sack_on_rto(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    /* RFC 6675 §5.1: after a timeout every unSACKed segment is lost; the
     * episode's state resets; the RTO signal that follows snapshots the
     * windows for an Eifel undo. */
    tp->undo_armed = false;
    tp->flags &= ~(uint32_t)(TF_RECOVERY | TF_RESCUE_DONE);
    tp->reno_sacked = 0;
    tp->recover = tp->snd_max;
    tp->rto_recovery = true;
    tp->tlp_out = false;
    tp->tlp_episode = false;
    tb_timer_cancel(&st->timers, &tp->t_tlp);
    tb_timer_cancel(&st->timers, &tp->t_rack);
    FOR_SEGS(st, tp, s) if (!(s->flags & SEG_SACKED)) seg_set(tp, s, (uint8_t)((s->flags | SEG_LOST) & ~SEG_RETRANS));
    /* RFC 2018 §8: the segment at the left edge goes again "whether or not
     * the SACK bit is on for that segment": a receiver may renege. */
    if (tp->seg_head != TCP_NONE) {
        struct tcp_seg *h = &st->tcp->segs[tp->seg_head];
        if (h->flags & SEG_SACKED) seg_set(tp, h, (uint8_t)((h->flags | SEG_LOST) & ~(SEG_SACKED | SEG_RETRANS | SEG_RXT_LOST)));
    }
    /* Everything not SACKed is lost and nothing is in flight again. */
    TB_ASSERT(tp->sb_retrans == 0 && tp->sb_lost + tp->sb_sacked == tp->sb_total);
    sb_assert(st, tp);
    (void)now;
}

void tcp_tlp_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now) {
    /* RFC 8985 §7.2: probe when open ("unless it is already in fast recovery,
     * RTO recovery, or segments have been SACKed"), SACK on, no probe out;
     * §7.3: no probe until an RTT sample came after the last one. */
    if (tp->rto_recovery && SEQ_GEQ(tp->snd_una, tp->recover)) tp->rto_recovery = false;
    bool want = rack_on(st, tp) && !(tp->flags & (TF_RECOVERY | TF_PERSIST)) && !tp->rto_recovery &&
                tp->sb_sacked == 0 && !tp->tlp_out && !tp->tlp_need_rtt && tp->snd_una != tp->snd_max &&
                tp->have_rtt && tp->state >= TB_TCP_ESTABLISHED;
    if (!want) {
        if (tb_timer_armed(&tp->t_tlp)) {
            tb_timer_cancel(&st->timers, &tp->t_tlp);
            if (tp->snd_una != tp->snd_max && !tb_timer_armed(&tp->t_rexmt) && !(tp->flags & TF_PERSIST))
                tcp_rexmt_arm(st, tp, now);
        }
        return;
    }
    tb_time_ns pto = 2 * tp->srtt_ns;
    if (tp->snd_max - tp->snd_una <= tp->mss) pto += WC_DELACK_NS;
    if (!tb_timer_armed(&tp->t_rexmt)) tcp_rexmt_arm(st, tp, now);
    /* Step 3: never later than the RTO would fire. One timer at a time: the
     * probe stands in for the RTO and re-arms it when it fires. */
    tb_time_ns at = now + pto;
    if (tp->t_rexmt.deadline_ns < at) at = tp->t_rexmt.deadline_ns;
    tb_timer_cancel(&st->timers, &tp->t_rexmt);
    tb_timer_arm(&st->timers, &tp->t_tlp, at);
}

void tcp_rack_timer_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_tcb *tp = TB_CONTAINER_OF(t, struct tb_tcb, t_rack);
    tb_time_ns next;
    uint32_t lost = rack_detect(st, tp, now, &next);
    if (next != TB_TIME_NEVER) tb_timer_arm(&st->timers, &tp->t_rack, next);
    if (lost > 0 && !(tp->flags & TF_RECOVERY) && SEQ_GEQ(tp->snd_una, tp->recover)) {
        enter_recovery(st, tp, "rack_timer", now);
        /* RFC 6675 §5 (4.3): entering recovery retransmits the first segment
         * presumed lost. No ACK came to give PRR a delivery (RFC 6937 §3), so
         * room for that one segment is made here. */
        uint32_t pipe = pipe_of(st, tp);
        if (tp->cwnd < pipe + tp->mss) tp->cwnd = pipe + tp->mss;
    }
    if (lost > 0) tcp_output(st, tp, now);
    sb_assert(st, tp);
    tcp_assert_snd_seq(tp);
}

void tcp_tlp_timer_fired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_tcb *tp = TB_CONTAINER_OF(t, struct tb_tcb, t_tlp);
    if ((tp->flags & TF_RECOVERY) || tp->tlp_out || tp->tlp_need_rtt || tp->snd_una == tp->snd_max) {
        if (tp->snd_una != tp->snd_max && !tb_timer_armed(&tp->t_rexmt)) tcp_rexmt_arm(st, tp, now);
        return;
    }
    /* RFC 8985 §7.3: new data if the windows allow, else the last segment. */
    uint32_t unsent = SEQ_GT(tp->snd_end, tp->snd_max) ? tp->snd_end - tp->snd_max : 0;
    uint32_t len = unsent < tp->mss ? unsent : tp->mss;
    bool fits = len > 0 && SEQ_LEQ(tp->snd_max + len, tp->snd_una + tp->snd_wnd);
    tp->tlp_out = true;
    tp->tlp_episode = true;
    tp->tlp_is_retrans = !fits;
    tp->tlp_need_rtt = true;
    tp->cs.tlp_probes++;
    st->stats.tcp_tlp_probes++;
    if (fits) {
        tcp_trace(st, tp, TB_TRACE_TLP, "new_data", now);
        uint32_t seq = tp->snd_max;
        bool fin = (tp->flags & TF_SHUT_WR) && seq + len == tp->snd_end;
        uint8_t flags = (uint8_t)(TB_TCP_ACK | TB_TCP_PSH | (fin ? TB_TCP_FIN : 0));
        /* A record is kept only for a probe that left (found by fuzzing:
         * a failed send left a record beyond snd_max). */
        if (tcp_seg_sent_new(st, tp, seq, seq + len + fin, fin, now)) {
            if (tcp_send_segment(st, tp, now, seq, len, flags) == TB_OK) {
                tp->snd_nxt = tp->snd_max = seq + len + fin;
                if (fin) tp->flags |= TF_FIN_SENT;
            } else {
                tcp_segs_drop_last(st, tp);
            }
        }
    } else if (tp->seg_tail != TCP_NONE) {
        tcp_trace(st, tp, TB_TRACE_TLP, "last_segment", now);
        struct tcp_seg *s = &st->tcp->segs[tp->seg_tail];
        /* The probe is the record's last MSS of data, ending with its FIN
         * if it has one (found by fuzzing: a record longer than a shrunken
         * MSS once lost the FIN flag but kept its sequence number). */
        uint32_t fin = (s->flags & SEG_FIN) ? 1 : 0;
        uint32_t slen = s->end - s->seq - fin;
        if (slen > tp->mss) slen = tp->mss;
        uint8_t flags = (uint8_t)(TB_TCP_ACK | (fin ? TB_TCP_FIN : 0));
        uint32_t sseq = s->end - fin - slen;
        tcp_seg_sent_again(st, tp, sseq, s->end, now);
        tcp_send_segment(st, tp, now, sseq, slen, flags);
    }
    tp->tlp_high = tp->snd_max;
    tcp_rexmt_arm(st, tp, now);
    sb_assert(st, tp);
    tcp_assert_snd_seq(tp);
}

bool tcp_sack_check(const struct tb_stack *st, const struct tb_tcb *tp, const char **why) {
    uint32_t n = 0, prev_end = tp->snd_una;
    for (uint32_t i = tp->seg_head; i != TCP_NONE; i = st->tcp->segs[i].next) {
        const struct tcp_seg *s = &st->tcp->segs[i];
        if (++n > tp->seg_count || !SEQ_LT(s->seq, s->end) || SEQ_LT(s->seq, prev_end) || SEQ_GT(s->end, tp->snd_max)) {
            *why = "TCP scoreboard records out of order, overlapping or beyond snd_max";
            return false;
        }
        prev_end = s->end;
    }
    if (n != tp->seg_count) {
        *why = "TCP scoreboard count disagrees with its list";
        return false;
    }
    struct tb_tcb sum;
    memset(&sum, 0, sizeof(sum));
    for (uint32_t i = tp->seg_head; i != TCP_NONE; i = st->tcp->segs[i].next) seg_account(&sum, &st->tcp->segs[i], +1);
    if (sum.sb_total != tp->sb_total || sum.sb_sacked != tp->sb_sacked || sum.sb_lost != tp->sb_lost ||
        sum.sb_retrans != tp->sb_retrans || sum.sb_lost_count != tp->sb_lost_count ||
        sum.sb_ever_retrans != tp->sb_ever_retrans) {
        *why = "TCP scoreboard aggregates disagree with its records";
        return false;
    }
    return true;
}
