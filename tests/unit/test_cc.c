/* Congestion control algorithms (stack/tcp/tcp_cc.c) driven directly
 * through the engine's entry points on a bare TCB: no packets, exact
 * windows. The undo cases run twin connections, one that suffers a
 * spurious reduction and undoes it and one that never sees it; from the
 * undo on, the two must be indistinguishable (RFC 9438 §4.9). */
#include <string.h>

#include "helpers.h"
#include "tcp/tcp_internal.h"

#define MSS 1000u
#define ACK_EVERY_NS TB_NS_PER_MS

struct twin {
    struct tb_stack *st;
    struct tb_tcb tp;
};

static void conn_start(struct twin *w, uint8_t algo) {
    struct tb_config cfg;
    t_config(&cfg);
    w->st = t_stack(&cfg);
    memset(&w->tp, 0, sizeof(w->tp));
    w->tp.cc = tcp_cc_lookup(algo);
    w->tp.mss = MSS;
    w->tp.have_rtt = true;
    w->tp.srtt_ns = 50 * TB_NS_PER_MS;
    tcp_cc_init(w->st, &w->tp);
}

/* A full window in flight, so the reductions see FlightSize = cwnd. */
static void fill(struct tb_tcb *tp) {
    tp->snd_una = 0;
    tp->snd_max = tp->cwnd;
}

/* One MSS acknowledged per millisecond for `count` ACKs, from *now. */
static void acks(struct tb_tcb *tp, tb_time_ns *now, int count) {
    for (int i = 0; i < count; i++) {
        *now += ACK_EVERY_NS;
        fill(tp);
        tcp_cc_ack(tp, MSS, *now);
    }
}

/* A loss episode as the engine runs it: the signal, then recovery ends. */
static void loss(struct tb_tcb *tp, tb_time_ns now) {
    fill(tp);
    tcp_cc_cong_signal(tp, TCP_CONG_FAST_RETRANSMIT, now);
    tcp_cc_post_recovery(tp, true, now);
}

/* Builds a connection in congestion avoidance on a cubic curve with a
 * W_max above cwnd (after a first, real loss) and an epoch under way. */
static tb_time_ns warm_up(struct twin *w, uint8_t algo) {
    conn_start(w, algo);
    tb_time_ns now = TB_NS_PER_S;
    w->tp.cwnd = 100 * MSS;
    loss(&w->tp, now);
    acks(&w->tp, &now, 2000);
    return now;
}

static void cubic_undo_makes_the_connection_as_if_never_reduced(void) {
    uint8_t algo = TB_CC_CUBIC;
    struct twin a, b;
    tb_time_ns now = warm_up(&a, algo);
    tb_time_ns now_b = warm_up(&b, algo);
    assert_true(now == now_b);
    assert_int_equal(a.tp.cwnd, b.tp.cwnd);
    uint32_t cwnd_before = a.tp.cwnd, ssthresh_before = a.tp.ssthresh;
    assert_true(a.tp.cwnd > a.tp.ssthresh);   /* in congestion avoidance */

    /* A reduces for a loss that DSACKs later prove spurious, and undoes. */
    loss(&a.tp, now);
    assert_true(a.tp.cwnd < cwnd_before);
    now += 50 * TB_NS_PER_MS;
    tcp_cc_cong_signal(&a.tp, TCP_CONG_UNDO, now);
    assert_int_equal(a.tp.cwnd, cwnd_before);
    assert_int_equal(a.tp.ssthresh, ssthresh_before);

    /* From here on A must grow exactly as B does: with W_max, K and the
     * epoch restored the curve is the same one. Reduced W_max or a
     * restarted epoch would make A's cwnd differ within a few ACKs. */
    now_b = now;
    for (int i = 0; i < 3000; i++) {
        acks(&a.tp, &now, 1);
        acks(&b.tp, &now_b, 1);
        if (a.tp.cwnd != b.tp.cwnd)
            fail_msg("%s: cwnd %u after undo, %u without the loss, at ACK %d", tb_cc_name(algo), a.tp.cwnd,
                     b.tp.cwnd, i);
    }
    assert_int_equal(a.tp.ssthresh, b.tp.ssthresh);
    /* And the next real loss reduces both alike (fast convergence reads W_max). */
    loss(&a.tp, now);
    loss(&b.tp, now_b);
    assert_int_equal(a.tp.cwnd, b.tp.cwnd);
    assert_int_equal(a.tp.ssthresh, b.tp.ssthresh);
    acks(&a.tp, &now, 500);
    acks(&b.tp, &now_b, 500);
    assert_int_equal(a.tp.cwnd, b.tp.cwnd);
    t_stack_done(a.st);
    t_stack_done(b.st);
}

/* RFC 9438 §4.9: a spurious fast retransmit undone restores W_max and the
 * epoch, not only cwnd and ssthresh. */
static void cubic_undo_restores_w_max_and_epoch(void **state) {
    (void)state;
    cubic_undo_makes_the_connection_as_if_never_reduced();
}

/* NewReno has no curve: undo gives back cwnd and ssthresh; the avoidance
 * byte count restarts (as it always has), so growth lags at most one SMSS. */
static void newreno_undo_restores_the_windows(void **state) {
    (void)state;
    struct twin a, b;
    tb_time_ns now = warm_up(&a, TB_CC_NEWRENO), now_b = warm_up(&b, TB_CC_NEWRENO);
    uint32_t cwnd_before = a.tp.cwnd, ssthresh_before = a.tp.ssthresh;
    loss(&a.tp, now);
    assert_int_equal(a.tp.cwnd, cwnd_before / 2);   /* RFC 5681 eq. 4: FlightSize / 2 */
    tcp_cc_cong_signal(&a.tp, TCP_CONG_UNDO, now);
    assert_int_equal(a.tp.cwnd, cwnd_before);
    assert_int_equal(a.tp.ssthresh, ssthresh_before);
    now_b = now;
    acks(&a.tp, &now, 3000);
    acks(&b.tp, &now_b, 3000);
    assert_true(a.tp.cwnd <= b.tp.cwnd && b.tp.cwnd - a.tp.cwnd <= MSS);
    t_stack_done(a.st);
    t_stack_done(b.st);
}

/* RFC 4015 §2 after an RTO: the windows before it, and CUBIC's curve. */
static void spurious_rto_undo_restores_the_curve(void **state) {
    (void)state;
    for (uint8_t algo = 0; algo < TB_CC__COUNT; algo++) {
        struct twin a, b;
        tb_time_ns now = warm_up(&a, algo), now_b = warm_up(&b, algo);
        assert_true(now == now_b);
        uint32_t cwnd_before = a.tp.cwnd;
        fill(&a.tp);
        tcp_cc_cong_signal(&a.tp, TCP_CONG_RTO, now);
        assert_int_equal(a.tp.cwnd, MSS);   /* RFC 5681 §3.1: the loss window */
        tcp_cc_cong_signal(&a.tp, TCP_CONG_UNDO, now + TB_NS_PER_MS);
        assert_int_equal(a.tp.cwnd, cwnd_before);
        now_b = now;
        acks(&a.tp, &now, 1000);
        acks(&b.tp, &now_b, 1000);
        if (algo == TB_CC_CUBIC) assert_int_equal(a.tp.cwnd, b.tp.cwnd);
        else assert_true(a.tp.cwnd <= b.tp.cwnd && b.tp.cwnd - a.tp.cwnd <= MSS);
        t_stack_done(a.st);
        t_stack_done(b.st);
    }
}

/* RFC 3168 §6.1.2: ECE halves like a loss (NewReno: FlightSize / 2; CUBIC:
 * beta), and the table's names are the public ones. */
static void ecn_signal_reduces_and_names_round_trip(void **state) {
    (void)state;
    for (uint8_t algo = 0; algo < TB_CC__COUNT; algo++) {
        uint8_t parsed = 0xff;
        assert_true(tb_cc_parse(tb_cc_name(algo), &parsed));
        assert_int_equal(parsed, algo);
        assert_ptr_equal(tcp_cc_lookup(algo)->name, tb_cc_name(algo));
        struct twin a;
        conn_start(&a, algo);
        a.tp.cwnd = 100 * MSS;
        fill(&a.tp);
        tcp_cc_cong_signal(&a.tp, TCP_CONG_ECN, TB_NS_PER_S);
        assert_int_equal(a.tp.cwnd, a.tp.ssthresh);
        if (algo == TB_CC_CUBIC) assert_true(a.tp.cwnd >= 69 * MSS && a.tp.cwnd <= 70 * MSS);   /* beta = 0.7 */
        else assert_int_equal(a.tp.cwnd, 50 * MSS);
        t_stack_done(a.st);
    }
    assert_string_equal(tb_cc_name(TB_CC__COUNT), "unknown");
    uint8_t x;
    assert_false(tb_cc_parse("vegas", &x));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cubic_undo_restores_w_max_and_epoch),
        cmocka_unit_test(newreno_undo_restores_the_windows),
        cmocka_unit_test(spurious_rto_undo_restores_the_curve),
        cmocka_unit_test(ecn_signal_reduces_and_names_round_trip),
    };
    return cmocka_run_group_tests_name("cc", tests, NULL, NULL);
}
