/* Congestion control as a table of algorithms (the shape of FreeBSD's
 * struct cc_algo, not its code). The engine never touches an algorithm
 * directly: it calls tcp_cc_init, tcp_cc_ack (outside recovery),
 * tcp_cc_cong_signal (fast retransmit, ECN, RTO, undo), tcp_cc_post_recovery
 * and tcp_cc_after_idle, which build the narrow struct tcp_cc_conn view,
 * call the hook and check the result. Each algorithm keeps its state in
 * the TCB's cc_data area. During fast recovery PRR (tcp_sack.c) paces cwnd. */
#include <string.h>

#include "tcp/tcp_internal.h"

#define CWND_MAX_BYTES (1u << 30)

/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)), or the configured count. */
uint32_t tcp_initial_cwnd(const struct tb_stack *st, const struct tb_tcb *tp) {
    uint32_t mss = tp->mss;
    if (st->cfg.tcp_initial_cwnd_segs != 0) return st->cfg.tcp_initial_cwnd_segs * mss;
    uint32_t two = 2 * mss > 14600 ? 2 * mss : 14600;
    return 10 * mss < two ? 10 * mss : two;
}

/* ---- helpers shared by the algorithms -------------------------------------- */

/* The windows as they were just before a loss reduction, for undo. ECN
 * reductions take no snapshot: a mark is never spurious (RFC 3168 §6.1.2). */
struct cc_prior {
    uint32_t cwnd_bytes, ssthresh_bytes;
    bool valid;
};

static void prior_save(const struct tcp_cc_conn *c, struct cc_prior *p) {
    p->cwnd_bytes = *c->cwnd_bytes;
    p->ssthresh_bytes = *c->ssthresh_bytes;
    p->valid = true;
}

/* RFC 3708 / RFC 4015 §2: take the reduction back; a window that grew
 * since (slow start after an RTO) is kept. */
static void prior_restore(const struct tcp_cc_conn *c, const struct cc_prior *p) {
    TB_ASSERT(p->valid);   /* the engine undoes only an episode that reduced */
    if (p->cwnd_bytes > *c->cwnd_bytes) *c->cwnd_bytes = p->cwnd_bytes;
    if (p->ssthresh_bytes > *c->ssthresh_bytes) *c->ssthresh_bytes = p->ssthresh_bytes;
}

static uint32_t half_flight(const struct tcp_cc_conn *c) {
    uint32_t half = c->flight_bytes / 2;
    return half > 2u * c->mss_bytes ? half : 2u * c->mss_bytes;
}

/* RFC 5681 §3.1 slow start, eq. 2: cwnd += min(N, SMSS) per ACK. RFC 3465's
 * L = 2*SMSS "is not allowed as part of the standard" (RFC 5681 §3.1). */
static void slow_start(const struct tcp_cc_conn *c, uint32_t acked) {
    uint32_t limit = c->mss_bytes;
    *c->cwnd_bytes += acked < limit ? acked : limit;
}

/* RFC 6937 §3: at the end of recovery cwnd is ssthresh, unless PRR sent
 * nothing and left cwnd below it (then slow start climbs back). */
static void prr_exit(const struct tcp_cc_conn *c, bool sent_in_recovery) {
    if (*c->cwnd_bytes > *c->ssthresh_bytes || sent_in_recovery) *c->cwnd_bytes = *c->ssthresh_bytes;
}

/* ---- NewReno: RFC 5681, byte counting in avoidance (RFC 3465); recovery: RFC 6582/6675 + PRR ---- */
struct newreno_state {
    uint32_t ca_acked_bytes;      /* bytes acknowledged towards the next SMSS of growth */
    struct cc_prior prior;
};
_Static_assert(sizeof(struct newreno_state) <= TCP_CC_DATA_BYTES, "NewReno state exceeds cc_data");
_Static_assert(_Alignof(struct newreno_state) <= TCP_CC_DATA_ALIGN, "NewReno state alignment exceeds cc_data");

static struct newreno_state *newreno_of(const struct tcp_cc_conn *c) { return c->data; }

static void newreno_init(struct tcp_cc_conn *c) { memset(newreno_of(c), 0, sizeof(struct newreno_state)); }

static void newreno_on_ack(struct tcp_cc_conn *c, uint32_t acked) {
    struct newreno_state *s = newreno_of(c);
    if (*c->cwnd_bytes < *c->ssthresh_bytes) {
        slow_start(c, acked);
    } else {
        /* RFC 5681 §3.1 congestion avoidance: one SMSS per cwnd of bytes acknowledged. */
        s->ca_acked_bytes += acked;
        if (s->ca_acked_bytes >= *c->cwnd_bytes) {
            s->ca_acked_bytes -= *c->cwnd_bytes;
            *c->cwnd_bytes += c->mss_bytes;
        }
    }
    if (*c->cwnd_bytes > CWND_MAX_BYTES) *c->cwnd_bytes = CWND_MAX_BYTES;
}

static void newreno_cong_signal(struct tcp_cc_conn *c, enum tcp_cong_signal sig) {
    struct newreno_state *s = newreno_of(c);
    switch (sig) {
    case TCP_CONG_FAST_RETRANSMIT:
        prior_save(c, &s->prior);
        /* fall through */
    case TCP_CONG_ECN:
        /* RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS); RFC 3168 §6.1.2 halves alike. */
        *c->ssthresh_bytes = half_flight(c);
        *c->cwnd_bytes = *c->ssthresh_bytes;
        s->ca_acked_bytes = 0;
        break;
    case TCP_CONG_RTO:
        /* RFC 5681 §3.1: after an RTO, cwnd is the loss window, one segment. */
        prior_save(c, &s->prior);
        *c->ssthresh_bytes = half_flight(c);
        *c->cwnd_bytes = c->mss_bytes;
        s->ca_acked_bytes = 0;
        break;
    case TCP_CONG_UNDO:
        prior_restore(c, &s->prior);
        break;
    }
}

static void newreno_post_recovery(struct tcp_cc_conn *c, bool sent_in_recovery) { prr_exit(c, sent_in_recovery); }

/* The engine has already cut cwnd to the restart window (RFC 5681 §4.1). */
static void newreno_after_idle(struct tcp_cc_conn *c) { (void)c; }

/* ---- CUBIC: RFC 9438, windows in segments, time in seconds ---------------- */
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

/* The variables of the cubic curve (RFC 9438 §4.1). */
struct cubic_curve {
    double w_max_segs;            /* the window before the last reduction */
    double k_s;                   /* when the curve climbs back to w_max */
    double w_est_segs;            /* the Reno-friendly estimate (§4.3) */
    tb_time_ns epoch_ns;          /* start of this congestion avoidance epoch, 0: none yet */
};

struct cubic_state {
    struct cubic_curve cur;
    /* RFC 9438 §4.9: the curve and windows before the last loss reduction,
     * so a spurious one can be taken back completely. */
    struct cubic_curve saved;
    struct cc_prior prior;
};
_Static_assert(sizeof(struct cubic_state) <= TCP_CC_DATA_BYTES, "CUBIC state exceeds cc_data");
_Static_assert(_Alignof(struct cubic_state) <= TCP_CC_DATA_ALIGN, "CUBIC state alignment exceeds cc_data");

static struct cubic_state *cubic_of(const struct tcp_cc_conn *c) { return c->data; }

/* Cube root by Newton's method: the same bits on every platform, where
 * libm's cbrt may differ in the last place (and output must not). */
static double cube_root(double x) {
    if (x == 0) return 0;
    double sign = x < 0 ? -1 : 1, a = x * sign, r = a > 1 ? a / 3 : 1;
    for (int i = 0; i < 100; i++) {
        double next = (2 * r + a / (r * r)) / 3;
        if (next == r) break;
        r = next;
    }
    return sign * r;
}

static void cubic_init(struct tcp_cc_conn *c) { memset(cubic_of(c), 0, sizeof(struct cubic_state)); }

static void cubic_reduce(struct tcp_cc_conn *c) {
    struct cubic_state *s = cubic_of(c);
    double cwnd = (double)*c->cwnd_bytes / c->mss_bytes;
    /* §4.7 fast convergence: give up more room when the last peak was higher. */
    if (cwnd < s->cur.w_max_segs) s->cur.w_max_segs = cwnd * (1 + CUBIC_BETA) / 2;
    else s->cur.w_max_segs = cwnd;
    s->cur.epoch_ns = 0;
    double ss = cwnd * CUBIC_BETA;   /* §4.6: ssthresh = cwnd * beta */
    uint32_t bytes = (uint32_t)(ss * c->mss_bytes);
    *c->ssthresh_bytes = bytes > 2u * c->mss_bytes ? bytes : 2u * c->mss_bytes;
}

static void cubic_on_ack(struct tcp_cc_conn *c, uint32_t acked) {
    struct cubic_state *s = cubic_of(c);
    if (*c->cwnd_bytes < *c->ssthresh_bytes) {
        slow_start(c, acked);
        return;
    }
    double mss = c->mss_bytes, cwnd = (double)*c->cwnd_bytes / mss;
    if (s->cur.epoch_ns == 0) {
        /* §4.2 eq. 2: a new epoch; K is when W_cubic climbs back to W_max. */
        s->cur.epoch_ns = c->now;
        if (s->cur.w_max_segs < cwnd) s->cur.w_max_segs = cwnd;
        s->cur.k_s = cube_root((s->cur.w_max_segs - cwnd) / CUBIC_C);
        s->cur.w_est_segs = cwnd;
    }
    TB_DEBUG_ASSERT(s->cur.k_s >= 0 && s->cur.epoch_ns <= c->now);
    double rtt = c->have_rtt ? (double)c->srtt_ns / 1e9 : 0.1;
    double t = (double)(c->now - s->cur.epoch_ns) / 1e9;
    double d = t + rtt - s->cur.k_s;
    double target = CUBIC_C * d * d * d + s->cur.w_max_segs;   /* §4.2 eq. 1 at t + RTT */
    /* §4.3: the Reno-friendly estimate, alpha = 3(1-beta)/(1+beta). */
    double alpha = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
    s->cur.w_est_segs += alpha * ((double)acked / mss) / cwnd;
    double dt = t - s->cur.k_s;
    if (CUBIC_C * dt * dt * dt + s->cur.w_max_segs < s->cur.w_est_segs) target = s->cur.w_est_segs;
    /* §4.4: the target stays within [cwnd, 1.5 cwnd]. */
    if (target < cwnd) target = cwnd;
    if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    /* Whole bytes per ACK; the fraction of a byte is dropped, not carried. */
    *c->cwnd_bytes += (uint32_t)((target - cwnd) / cwnd * (double)acked);
    if (*c->cwnd_bytes > CWND_MAX_BYTES) *c->cwnd_bytes = CWND_MAX_BYTES;
}

static void cubic_cong_signal(struct tcp_cc_conn *c, enum tcp_cong_signal sig) {
    struct cubic_state *s = cubic_of(c);
    switch (sig) {
    case TCP_CONG_FAST_RETRANSMIT:
    case TCP_CONG_RTO:
        /* §4.9: remember what a spurious loss would have to restore. */
        prior_save(c, &s->prior);
        s->saved = s->cur;
        cubic_reduce(c);
        /* §4.6 after a fast retransmit, §4.8 after an RTO (cwnd = 1 SMSS, RFC 5681 §3.1). */
        *c->cwnd_bytes = sig == TCP_CONG_RTO ? c->mss_bytes : *c->ssthresh_bytes;
        break;
    case TCP_CONG_ECN:
        cubic_reduce(c);   /* §4.6: an ECE reduces as a loss does */
        *c->cwnd_bytes = *c->ssthresh_bytes;
        break;
    case TCP_CONG_UNDO:
        /* §4.9: the windows and the whole curve (W_max, K, W_est, epoch) as
         * before the spurious reduction, so growth resumes where it was. */
        prior_restore(c, &s->prior);
        s->cur = s->saved;
        break;
    }
}

static void cubic_post_recovery(struct tcp_cc_conn *c, bool sent_in_recovery) { prr_exit(c, sent_in_recovery); }

static void cubic_after_idle(struct tcp_cc_conn *c) {
    cubic_of(c)->cur.epoch_ns = 0;   /* §5.8: no growth credit for the idle time */
}

/* ---- the table and the engine's entry points ------------------------------ */

/* Indexed by enum tb_cc (cfg.tcp_cc); the names are tb_cc_parse's. */
static const struct tcp_cc_algo cc_algos[TB_CC__COUNT] = {
    [TB_CC_NEWRENO] = {
        .name = "newreno",
        .init = newreno_init,
        .on_ack = newreno_on_ack,
        .cong_signal = newreno_cong_signal,
        .post_recovery = newreno_post_recovery,
        .after_idle = newreno_after_idle,
    },
    [TB_CC_CUBIC] = {
        .name = "cubic",
        .init = cubic_init,
        .on_ack = cubic_on_ack,
        .cong_signal = cubic_cong_signal,
        .post_recovery = cubic_post_recovery,
        .after_idle = cubic_after_idle,
    },
};

/* An unknown number gets NewReno, the RFC 5681 default. */
const struct tcp_cc_algo *tcp_cc_lookup(uint8_t algo) {
    return algo < TB_CC__COUNT ? &cc_algos[algo] : &cc_algos[TB_CC_NEWRENO];
}

const char *tb_cc_name(uint8_t algo) { return algo < TB_CC__COUNT ? cc_algos[algo].name : "unknown"; }

bool tb_cc_parse(const char *name, uint8_t *algo) {
    for (uint8_t a = 0; a < TB_CC__COUNT; a++)
        if (strcmp(cc_algos[a].name, name) == 0) {
            *algo = a;
            return true;
        }
    return false;
}

static struct tcp_cc_conn cc_view(struct tb_tcb *tp, tb_time_ns now) {
    return (struct tcp_cc_conn){
        .cwnd_bytes = &tp->cwnd,
        .ssthresh_bytes = &tp->ssthresh,
        .data = tp->cc_data,
        .mss_bytes = tp->mss,
        .flight_bytes = tcp_flight(tp),
        .srtt_ns = tp->srtt_ns,
        .have_rtt = tp->have_rtt,
        .now = now,
    };
}

/* Every hook's result meets the window invariants (tcp_internal.h), so no
 * algorithm can leave the engine a cwnd that cannot clock out a segment. */
static void cc_check(const struct tb_tcb *tp) { tcp_assert_windows(tp); }

/* init needs no clock: the view's now is 0. */
void tcp_cc_init(struct tb_stack *st, struct tb_tcb *tp) {
    TB_ASSERT(tp->cc != NULL && tp->mss > 0);
    tp->cwnd = tcp_initial_cwnd(st, tp);
    tp->ssthresh = UINT32_MAX;   /* RFC 5681 §3.1: arbitrarily high */
    struct tcp_cc_conn c = cc_view(tp, 0);
    tp->cc->init(&c);
    cc_check(tp);
}

void tcp_cc_ack(struct tb_tcb *tp, uint32_t acked_bytes, tb_time_ns now) {
    TB_ASSERT(acked_bytes > 0);
    TB_ASSERT(!(tp->flags & TF_RECOVERY));   /* PRR owns cwnd in recovery */
    uint32_t before = tp->cwnd;
    struct tcp_cc_conn c = cc_view(tp, now);
    tp->cc->on_ack(&c, acked_bytes);
    /* RFC 5681 §3.1: an ACK never shrinks cwnd, and grows it by at most
     * the bytes it acknowledged (slow start) or one SMSS (avoidance). */
    uint32_t most = acked_bytes > tp->mss ? acked_bytes : tp->mss;
    TB_ASSERT(tp->cwnd >= (before < CWND_MAX_BYTES ? before : CWND_MAX_BYTES));
    TB_ASSERT(tp->cwnd - before <= most || tp->cwnd <= before);
    cc_check(tp);
}

void tcp_cc_cong_signal(struct tb_tcb *tp, enum tcp_cong_signal sig, tb_time_ns now) {
    tcp_cc_cong_signal_flight(tp, sig, now, 0);
}

void tcp_cc_cong_signal_flight(struct tb_tcb *tp, enum tcp_cong_signal sig, tb_time_ns now, uint32_t flight_bytes) {
    uint32_t cwnd_before = tp->cwnd, ssthresh_before = tp->ssthresh;
    struct tcp_cc_conn c = cc_view(tp, now);
    if (flight_bytes > c.flight_bytes) c.flight_bytes = flight_bytes;
    tp->cc->cong_signal(&c, sig);
    switch (sig) {
    case TCP_CONG_FAST_RETRANSMIT:
    case TCP_CONG_ECN:
        TB_ASSERT(tp->cwnd <= tp->ssthresh);   /* recovery (or CWR) starts at or below ssthresh */
        break;
    case TCP_CONG_RTO:
        TB_ASSERT(tp->cwnd == tp->mss);   /* RFC 5681 §3.1: the loss window */
        break;
    case TCP_CONG_UNDO:
        TB_ASSERT(tp->cwnd >= cwnd_before && tp->ssthresh >= ssthresh_before);   /* undo never reduces */
        break;
    }
    cc_check(tp);
}

void tcp_cc_post_recovery(struct tb_tcb *tp, bool sent_in_recovery, tb_time_ns now) {
    TB_ASSERT(!(tp->flags & TF_RECOVERY));
    struct tcp_cc_conn c = cc_view(tp, now);
    tp->cc->post_recovery(&c, sent_in_recovery);
    TB_ASSERT(tp->cwnd <= tp->ssthresh);   /* RFC 6937 §3: recovery ends at or below ssthresh */
    cc_check(tp);
}

bool tcp_cc_after_idle(struct tb_tcb *tp, uint32_t restart_bytes, tb_time_ns now) {
    TB_ASSERT(restart_bytes > 0);
    if (tp->cwnd <= restart_bytes) return false;
    tp->cwnd = restart_bytes;   /* RFC 5681 §4.1: RW = min(IW, cwnd) */
    struct tcp_cc_conn c = cc_view(tp, now);
    tp->cc->after_idle(&c);
    TB_ASSERT(tp->cwnd <= restart_bytes);
    cc_check(tp);
    return true;
}
