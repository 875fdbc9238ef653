/* Congestion control behind an ops table (FreeBSD's struct cc_algo): the
 * engine calls init, on_ack, on_congestion, on_rto and after_idle; the
 * algorithms own cwnd and ssthresh. This issue ships RFC 5681 Reno's slow
 * start, congestion avoidance and RTO response; fast retransmit and the
 * other algorithms arrive with "TCP loss recovery". */
#include "tcp/tcp_internal.h"

#define CWND_MAX_BYTES (1u << 30)

/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)), or the configured count. */
uint32_t tcp_initial_cwnd(const struct tb_stack *st, const struct tb_tcb *tp) {
    uint32_t mss = tp->mss;
    if (st->cfg.tcp_initial_cwnd_segs != 0) return st->cfg.tcp_initial_cwnd_segs * mss;
    uint32_t two = 2 * mss > 14600 ? 2 * mss : 14600;
    return 10 * mss < two ? 10 * mss : two;
}

static void reno_init(struct tb_tcb *tp) {
    (void)tp;   /* cwnd is set from tcp_initial_cwnd when the MSS is known */
}

/* RFC 5681 §3.1: slow start grows cwnd by at most SMSS per ACK (eq. 2);
 * congestion avoidance by SMSS per cwnd of data acknowledged (byte counting). */
static void reno_on_ack(struct tb_tcb *tp, uint32_t acked, tb_time_ns now) {
    (void)now;
    if (tp->cwnd < tp->ssthresh) {
        tp->cwnd += acked < tp->mss ? acked : tp->mss;
    } else {
        tp->bytes_acked_ca += acked;
        if (tp->bytes_acked_ca >= tp->cwnd) {
            tp->bytes_acked_ca -= tp->cwnd;
            tp->cwnd += tp->mss;
        }
    }
    if (tp->cwnd > CWND_MAX_BYTES) tp->cwnd = CWND_MAX_BYTES;
}

/* RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static void reno_on_congestion(struct tb_tcb *tp, tb_time_ns now) {
    (void)now;
    uint32_t half = tcp_flight(tp) / 2;
    tp->ssthresh = half > 2u * tp->mss ? half : 2u * tp->mss;
    tp->cwnd = tp->ssthresh;
    tp->bytes_acked_ca = 0;
}

/* RFC 5681 §3.1: after an RTO, cwnd is the loss window, one segment. */
static void reno_on_rto(struct tb_tcb *tp, tb_time_ns now) {
    (void)now;
    uint32_t half = tcp_flight(tp) / 2;
    tp->ssthresh = half > 2u * tp->mss ? half : 2u * tp->mss;
    tp->cwnd = tp->mss;
    tp->bytes_acked_ca = 0;
}

/* Called when sending resumes after more than an RTO of silence; the engine
 * has already cut cwnd to the restart window (RFC 5681 §4.1). Reno keeps no
 * other state to reset. */
static void reno_after_idle(struct tb_tcb *tp, tb_time_ns now) {
    (void)tp;
    (void)now;
}

static const struct tcp_cc_ops reno_ops = {
    .name = "reno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .on_congestion = reno_on_congestion,
    .on_rto = reno_on_rto,
    .after_idle = reno_after_idle,
};

const struct tcp_cc_ops *tcp_cc_lookup(uint8_t algo) {
    switch (algo) {
    case TB_CC_RENO:
    default: return &reno_ops;
    }
}

const char *tb_cc_name(uint8_t algo) { return algo < TB_CC__COUNT ? tcp_cc_lookup(algo)->name : "unknown"; }
