/* Loss recovery between two simulated stacks, with exact drop patterns
 * (targeted faults, docs/faults.md). Every case runs under NewReno and
 * CUBIC and asserts which mechanism recovered: fast retransmit, RACK, TLP
 * or RTO — not only that the bytes arrived. 100 Mbit/s, 10 ms one way,
 * MSS 1448: data segment #N starts at relative sequence 1 + (N-1)*1448. */
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "sim/bulk.h"

struct outcome {
    struct sim_bulk_result r;
    uint64_t fr, rack, tlp, rto, undo, dsack, rexmit, sack_rec, reno_rec, ecn_red;
};

static void run(uint8_t cc, uint64_t bytes, const char *const *faults, size_t nfaults, bool rack, bool sack,
                struct outcome *o) {
    struct sim_bulk_opts opts;
    sim_bulk_defaults(&opts);
    opts.bytes = bytes;
    opts.cc = cc;
    opts.faults = faults;
    opts.fault_count = nfaults;
    opts.no_rack_tlp = !rack;
    opts.no_sack = !sack;
    memset(o, 0, sizeof(*o));
    if (sim_bulk_run(&opts, &o->r) != 0) fail_msg("setup: %s", o->r.error);
    if (!o->r.pass) fail_msg("integrity (%s): %s", tb_cc_name(cc), o->r.integrity);
    const struct tb_tcp_info *a = &o->r.info_a;
    o->fr = a->fast_retransmits;
    o->rack = a->rack_losses;
    o->tlp = a->tlp_probes;
    o->rto = a->rto_timeouts;
    o->undo = a->spurious_undos;
    o->dsack = a->dsacks;
    o->rexmit = a->retransmits;
    o->sack_rec = o->r.stats_a.tcp_sack_recoveries;
    o->reno_rec = o->r.stats_a.tcp_newreno_recoveries;
    o->ecn_red = a->ecn_reductions;
}

#define BOTH_CC(body)                                   \
    for (uint8_t cc = 0; cc < TB_CC__COUNT; cc++) {     \
        struct outcome o;                               \
        body                                            \
    }

/* RFC 6675 §5 / RFC 5681 §3.2: one loss, repaired by one fast retransmit. */
static void single_loss_is_fast_retransmitted(void **state) {
    (void)state;
    const char *f[] = {"drop A>B tcp data #40"};
    BOTH_CC({
        run(cc, 500000, f, 1, true, true, &o);
        assert_int_equal(o.rto, 0);
        assert_int_equal(o.fr, 1);
        assert_int_equal(o.rexmit, 1);
        assert_int_equal(o.sack_rec, 1);
    })
}

/* RFC 6675: two holes in one window, one recovery episode, no timeout. */
static void two_losses_in_one_window_need_one_recovery(void **state) {
    (void)state;
    const char *f[] = {"drop A>B tcp data #40", "drop A>B tcp data #44"};
    BOTH_CC({
        run(cc, 500000, f, 2, true, true, &o);
        assert_int_equal(o.rto, 0);
        assert_int_equal(o.fr, 1);
        assert_int_equal(o.rexmit, 2);
    })
}

/* RFC 8985 §6: a lost retransmission is detected by RACK (time), not by
 * waiting for a timeout. */
static void lost_retransmission_is_found_by_rack(void **state) {
    (void)state;
    const char *f[] = {"drop A>B tcp data #40", "drop A>B tcp retransmit #1"};
    BOTH_CC({
        run(cc, 800000, f, 2, true, true, &o);
        assert_int_equal(o.rto, 0);
        assert_true(o.rack >= 1);      /* DupThresh may find the first; only RACK finds the second */
        assert_true(o.rexmit >= 2);
    })
}

/* Without RACK, a lost retransmission waits for the RTO (RFC 6675 §5.1). */
static void lost_retransmission_without_rack_waits_for_the_rto(void **state) {
    (void)state;
    const char *f[] = {"drop A>B tcp data #40", "drop A>B tcp retransmit #1"};
    BOTH_CC({
        run(cc, 800000, f, 2, false, true, &o);
        assert_int_equal(o.rto, 1);
        assert_int_equal(o.rack, 0);
    })
}

/* RFC 8985 §7: the last segment lost: a tail loss probe, not an RTO. */
static void tail_loss_is_probed_not_timed_out(void **state) {
    (void)state;
    BOTH_CC({
        run(cc, 300000, NULL, 0, true, true, &o);
        uint64_t n = o.r.info_a.data_segs_out;
        char spec[64];
        snprintf(spec, sizeof(spec), "drop A>B tcp data #%llu", (unsigned long long)n);
        const char *f[] = {spec};
        run(cc, 300000, f, 1, true, true, &o);
        assert_int_equal(o.rto, 0);
        assert_true(o.tlp >= 1);
        assert_true(o.rexmit >= 1);
    })
}

/* ...and without TLP the same tail loss costs an RTO. */
static void tail_loss_without_tlp_costs_an_rto(void **state) {
    (void)state;
    BOTH_CC({
        run(cc, 300000, NULL, 0, false, true, &o);
        uint64_t n = o.r.info_a.data_segs_out;
        char spec[64];
        snprintf(spec, sizeof(spec), "drop A>B tcp data #%llu", (unsigned long long)n);
        const char *f[] = {spec};
        run(cc, 300000, f, 1, false, true, &o);
        assert_int_equal(o.rto, 1);
        assert_int_equal(o.tlp, 0);
    })
}

/* Cumulative ACKs cover lost ones: nothing is retransmitted. */
static void ack_loss_costs_nothing(void **state) {
    (void)state;
    const char *f[] = {"drop B>A tcp ack #10-14", "drop B>A tcp ack #30"};
    BOTH_CC({
        run(cc, 500000, f, 2, true, true, &o);
        assert_int_equal(o.rexmit, 0);
        assert_int_equal(o.fr, 0);
    })
}

/* Reordering by one segment: fewer than DupThresh duplicate ACKs and
 * inside RACK's reordering window: no retransmission. */
static void reordering_below_dupthresh_is_not_a_loss(void **state) {
    (void)state;
    const char *f[] = {"delay A>B tcp data #40 200us"};   /* about two segment times */
    BOTH_CC({
        run(cc, 500000, f, 1, true, true, &o);
        assert_int_equal(o.rexmit, 0);
        run(cc, 500000, f, 1, false, true, &o);
        assert_int_equal(o.rexmit, 0);
    })
}

/* Reordering past DupThresh, without RACK: a spurious fast retransmit,
 * which the receiver's DSACK reveals and undo reverses (RFC 2883, RFC 3708). */
static void reordering_above_dupthresh_is_undone_by_dsack(void **state) {
    (void)state;
    const char *f[] = {"delay A>B tcp data #40 2ms"};   /* about 17 segments */
    BOTH_CC({
        run(cc, 500000, f, 1, false, true, &o);
        assert_int_equal(o.fr, 1);
        assert_true(o.dsack >= 1);
        assert_int_equal(o.undo, 1);
    })
}

/* RFC 8985 §6.2: before any reordering is seen RACK acts as DupThresh (the
 * first reordering costs a spurious retransmit, undone by DSACK); once seen,
 * its window (min RTT / 4 = 5 ms here) absorbs the next one. */
static void rack_learns_reordering_and_then_tolerates_it(void **state) {
    (void)state;
    const char *f[] = {"delay A>B tcp data #40 2ms", "delay A>B tcp data #200 2ms"};
    BOTH_CC({
        run(cc, 500000, f, 2, true, true, &o);
        assert_int_equal(o.rexmit, 1);   /* #40 only */
        assert_true(o.dsack >= 1);
        assert_int_equal(o.undo, 1);
    })
}

/* A delay longer than RACK's learnt window is a loss to RACK: it
 * retransmits, the DSACK proves it spurious, and undo reverses it. */
static void reordering_beyond_racks_window_is_undone(void **state) {
    (void)state;
    const char *f[] = {"delay A>B tcp data #40 2ms", "delay A>B tcp data #200 15ms"};
    BOTH_CC({
        run(cc, 500000, f, 2, true, true, &o);
        assert_true(o.rack >= 2);
        assert_true(o.dsack >= 2);
        assert_int_equal(o.undo, 2);
    })
}

/* RFC 3522/4015 (Eifel): ACKs delayed past the RTO make a spurious
 * timeout; the timestamps show it and the reduction is undone. */
static void spurious_rto_is_detected_by_timestamps_and_undone(void **state) {
    (void)state;
    const char *f[] = {"delay B>A tcp ack #20-60 400ms"};
    BOTH_CC({
        run(cc, 600000, f, 1, false, true, &o);
        assert_true(o.rto >= 1);
        assert_true(o.undo >= 1);
    })
}

/* Every segment of a window lost, and the tail loss probe with it (the
 * blackout outlasts the PTO): only the RTO can help (RFC 6298 §5). */
static void losing_a_whole_window_is_repaired_by_the_rto(void **state) {
    (void)state;
    const char *f[] = {"blackout A>B 100ms..400ms"};
    BOTH_CC({
        run(cc, 2000000, f, 1, true, true, &o);
        assert_true(o.rto >= 1);
    })
}

/* Without SACK: three duplicate ACKs trigger NewReno's fast retransmit
 * (RFC 5681 §3.2) and partial ACKs walk the holes (RFC 6582). */
static void newreno_without_sack_uses_duplicate_acks(void **state) {
    (void)state;
    const char *one[] = {"drop A>B tcp data #40"};
    const char *two[] = {"drop A>B tcp data #40", "drop A>B tcp data #45"};
    BOTH_CC({
        run(cc, 500000, one, 1, true, false, &o);
        assert_int_equal(o.reno_rec, 1);
        assert_int_equal(o.rto, 0);
        assert_int_equal(o.rexmit, 1);
        run(cc, 500000, two, 2, true, false, &o);
        assert_int_equal(o.reno_rec, 1);   /* one episode, the partial ACK finds the second hole */
        assert_int_equal(o.rto, 0);
        assert_int_equal(o.rexmit, 2);
    })
}

/* RFC 3168: CE marks make the sender reduce without any loss. */
static void ecn_marks_reduce_without_loss(void **state) {
    (void)state;
    for (uint8_t cc = 0; cc < TB_CC__COUNT; cc++) {
        struct sim_bulk_opts opts;
        sim_bulk_defaults(&opts);
        opts.bytes = 3000000;
        opts.cc = cc;
        opts.ecn = true;
        opts.link.ecn_mark_bytes = 30000;
        struct sim_bulk_result r;
        assert_int_equal(sim_bulk_run(&opts, &r), 0);
        if (!r.pass) fail_msg("%s", r.integrity);
        assert_true(r.info_a.ecn_ok && r.info_b.ecn_ok);
        assert_true(r.link_ab.ecn_marked > 0);
        assert_true(r.info_a.ecn_reductions >= 1);
        assert_int_equal(r.info_a.retransmits, 0);
        assert_int_equal(r.link_ab.queue_drops, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_loss_is_fast_retransmitted),
        cmocka_unit_test(two_losses_in_one_window_need_one_recovery),
        cmocka_unit_test(lost_retransmission_is_found_by_rack),
        cmocka_unit_test(lost_retransmission_without_rack_waits_for_the_rto),
        cmocka_unit_test(tail_loss_is_probed_not_timed_out),
        cmocka_unit_test(tail_loss_without_tlp_costs_an_rto),
        cmocka_unit_test(ack_loss_costs_nothing),
        cmocka_unit_test(reordering_below_dupthresh_is_not_a_loss),
        cmocka_unit_test(reordering_above_dupthresh_is_undone_by_dsack),
        cmocka_unit_test(rack_learns_reordering_and_then_tolerates_it),
        cmocka_unit_test(reordering_beyond_racks_window_is_undone),
        cmocka_unit_test(spurious_rto_is_detected_by_timestamps_and_undone),
        cmocka_unit_test(losing_a_whole_window_is_repaired_by_the_rto),
        cmocka_unit_test(newreno_without_sack_uses_duplicate_acks),
        cmocka_unit_test(ecn_marks_reduce_without_loss),
    };
    return cmocka_run_group_tests_name("recovery", tests, NULL, NULL);
}
