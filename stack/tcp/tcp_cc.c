/* Congestion control behind an ops table (FreeBSD's struct cc_algo): the
 * engine calls init, on_ack (outside recovery), on_congestion (fast
 * retransmit or ECN), on_rto and after_idle; the algorithm owns cwnd and
 * ssthresh. During fast recovery PRR (tcp_sack.c) paces cwnd. */
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

static uint32_t half_flight(const struct tb_tcb *tp) {
    uint32_t half = tcp_flight(tp) / 2;
    return half > 2u * tp->mss ? half : 2u * tp->mss;
}

/* RFC 5681 §3.1 slow start with RFC 3465 byte counting: at most L = 2 SMSS per ACK. */
static void slow_start(struct tb_tcb *tp, uint32_t acked) {
    uint32_t limit = 2u * tp->mss;
    tp->cwnd += acked < limit ? acked : limit;
}

/* ---- NewReno: RFC 5681 + RFC 3465 (recovery itself: RFC 6582/6675 + PRR) ---- */
static void newreno_init(struct tb_tcb *tp) { tp->bytes_acked_ca = 0; }

static void newreno_on_ack(struct tb_tcb *tp, uint32_t acked, tb_time_ns now) {
    (void)now;
    if (tp->cwnd < tp->ssthresh) {
        slow_start(tp, acked);
    } else {
        /* Congestion avoidance: one SMSS per cwnd of bytes acknowledged. */
        tp->bytes_acked_ca += acked;
        if (tp->bytes_acked_ca >= tp->cwnd) {
            tp->bytes_acked_ca -= tp->cwnd;
            tp->cwnd += tp->mss;
        }
    }
    if (tp->cwnd > CWND_MAX_BYTES) tp->cwnd = CWND_MAX_BYTES;
}

/* RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static void newreno_on_congestion(struct tb_tcb *tp, tb_time_ns now) {
    (void)now;
    tp->ssthresh = half_flight(tp);
    tp->cwnd = tp->ssthresh;
    tp->bytes_acked_ca = 0;
}

/* RFC 5681 §3.1: after an RTO, cwnd is the loss window, one segment. */
static void newreno_on_rto(struct tb_tcb *tp, tb_time_ns now) {
    (void)now;
    tp->ssthresh = half_flight(tp);
    tp->cwnd = tp->mss;
    tp->bytes_acked_ca = 0;
}

/* The engine has already cut cwnd to the restart window (RFC 5681 §4.1). */
static void newreno_after_idle(struct tb_tcb *tp, tb_time_ns now) {
    (void)tp;
    (void)now;
}

static const struct tcp_cc_ops newreno_ops = {
    .name = "newreno",
    .init = newreno_init,
    .on_ack = newreno_on_ack,
    .on_congestion = newreno_on_congestion,
    .on_rto = newreno_on_rto,
    .after_idle = newreno_after_idle,
};

/* ---- CUBIC: RFC 9438, windows in segments, time in seconds ---------------- */
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

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

static void cubic_init(struct tb_tcb *tp) {
    tp->cubic_w_max = 0;
    tp->cubic_epoch_ns = 0;
    tp->bytes_acked_ca = 0;
}

static void cubic_reduce(struct tb_tcb *tp) {
    double cwnd = (double)tp->cwnd / tp->mss;
    /* §4.7 fast convergence: give up more room when the last peak was higher. */
    if (cwnd < tp->cubic_w_max) tp->cubic_w_max = cwnd * (1 + CUBIC_BETA) / 2;
    else tp->cubic_w_max = cwnd;
    tp->cubic_epoch_ns = 0;
    double ss = cwnd * CUBIC_BETA;   /* §4.6: ssthresh = cwnd * beta */
    uint32_t bytes = (uint32_t)(ss * tp->mss);
    tp->ssthresh = bytes > 2u * tp->mss ? bytes : 2u * tp->mss;
}

static void cubic_on_ack(struct tb_tcb *tp, uint32_t acked, tb_time_ns now) {
    if (tp->cwnd < tp->ssthresh) {
        slow_start(tp, acked);
        return;
    }
    double mss = tp->mss, cwnd = (double)tp->cwnd / mss;
    if (tp->cubic_epoch_ns == 0) {
        /* §4.2 eq. 2: a new epoch; K is when W_cubic climbs back to W_max. */
        tp->cubic_epoch_ns = now;
        if (tp->cubic_w_max < cwnd) tp->cubic_w_max = cwnd;
        tp->cubic_k_s = cube_root((tp->cubic_w_max - cwnd) / CUBIC_C);
        tp->cubic_w_est = cwnd;
    }
    double rtt = tp->have_rtt ? (double)tp->srtt_ns / 1e9 : 0.1;
    double t = (double)(now - tp->cubic_epoch_ns) / 1e9;
    double d = t + rtt - tp->cubic_k_s;
    double target = CUBIC_C * d * d * d + tp->cubic_w_max;   /* §4.2 eq. 1 at t + RTT */
    /* §4.3: the Reno-friendly estimate, alpha = 3(1-beta)/(1+beta). */
    double alpha = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
    tp->cubic_w_est += alpha * ((double)acked / mss) / cwnd;
    double dt = t - tp->cubic_k_s;
    if (CUBIC_C * dt * dt * dt + tp->cubic_w_max < tp->cubic_w_est) target = tp->cubic_w_est;
    /* §4.4: the target stays within [cwnd, 1.5 cwnd]. */
    if (target < cwnd) target = cwnd;
    if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    double grow = (target - cwnd) / cwnd * (double)acked;   /* bytes */
    tp->bytes_acked_ca += (uint32_t)grow;
    if (tp->bytes_acked_ca >= 1) {
        tp->cwnd += tp->bytes_acked_ca;
        tp->bytes_acked_ca = 0;
    }
    if (tp->cwnd > CWND_MAX_BYTES) tp->cwnd = CWND_MAX_BYTES;
}

static void cubic_on_congestion(struct tb_tcb *tp, tb_time_ns now) {
    (void)now;
    cubic_reduce(tp);
    tp->cwnd = tp->ssthresh;
}

static void cubic_on_rto(struct tb_tcb *tp, tb_time_ns now) {
    (void)now;
    cubic_reduce(tp);
    tp->cwnd = tp->mss;
}

static void cubic_after_idle(struct tb_tcb *tp, tb_time_ns now) {
    (void)now;
    tp->cubic_epoch_ns = 0;   /* §5.8: no growth credit for the idle time */
}

static const struct tcp_cc_ops cubic_ops = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_congestion = cubic_on_congestion,
    .on_rto = cubic_on_rto,
    .after_idle = cubic_after_idle,
};

const struct tcp_cc_ops *tcp_cc_lookup(uint8_t algo) {
    switch (algo) {
    case TB_CC_CUBIC: return &cubic_ops;
    case TB_CC_NEWRENO:
    default: return &newreno_ops;
    }
}

const char *tb_cc_name(uint8_t algo) { return algo < TB_CC__COUNT ? tcp_cc_lookup(algo)->name : "unknown"; }

bool tb_cc_parse(const char *name, uint8_t *algo) {
    for (uint8_t a = 0; a < TB_CC__COUNT; a++)
        if (strcmp(tcp_cc_lookup(a)->name, name) == 0) {
            *algo = a;
            return true;
        }
    return false;
}
