/* harness/wire/core: the link of `tcpbed wire` with no device and no clock.
 * A scripted TCP exchange (a handshake, data A>B every 100 us, an ACK B>A
 * for every second segment) is offered at fixed times and released on a
 * fixed schedule: the same frames at the same times with the same seed give
 * the same deliveries and the same fault log; targeted faults act as their
 * spec says; the hold is bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/wire/core.h"
#include "helpers.h"
#include "sim/faults.h"
#include "tcpbed/prng.h"
#include "tcpbed/wire.h"

#define MAX_DELIVERIES 8192
#define SEGMENTS 2000
#define PAYLOAD_BYTES 1000

struct delivery {
    int dir;
    tb_time_ns due;
    uint64_t hash;                    /* FNV-1a of the frame as released */
    size_t len;
};

struct run {
    struct delivery d[MAX_DELIVERIES];
    size_t n;
    char *log;                        /* the fault CSV */
    size_t log_len;
    char *specs;                      /* --record-faults */
    size_t specs_len;
    struct wire_dir_stats stats[2];
    struct sim_link_stats link[2];
};

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void collect(void *ctx, int dir, tb_time_ns due, const uint8_t *frame, size_t len) {
    struct run *r = ctx;
    assert_true(r->n < MAX_DELIVERIES);
    r->d[r->n++] = (struct delivery){.dir = dir, .due = due, .hash = fnv1a(frame, len), .len = len};
}

/* An Ethernet + IPv4 + TCP frame from A (10.0.0.1:40000) or B (10.0.0.2:5001). */
static size_t tcp_frame(uint8_t *out, int dir, uint8_t flags, uint32_t seq, uint32_t ack, size_t payload) {
    uint8_t seg[TB_TCP_HDR_LEN + PAYLOAD_BYTES];
    memset(seg, 0, sizeof(seg));
    uint16_t sport = dir == 0 ? 40000 : 5001, dport = dir == 0 ? 5001 : 40000;
    seg[0] = (uint8_t)(sport >> 8), seg[1] = (uint8_t)sport;
    seg[2] = (uint8_t)(dport >> 8), seg[3] = (uint8_t)dport;
    for (int i = 0; i < 4; i++) {
        seg[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        seg[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    seg[12] = 5 << 4;
    seg[13] = flags;
    seg[14] = 0xff, seg[15] = 0xff;
    for (size_t i = 0; i < payload; i++) seg[TB_TCP_HDR_LEN + i] = (uint8_t)(seq + i);
    uint32_t src = dir == 0 ? T_IP_US : T_IP_PEER, dst = dir == 0 ? T_IP_PEER : T_IP_US;
    return t_build_ipv4(out, dir == 0 ? &t_mac_peer : &t_mac_us, src, dst, TB_IPPROTO_TCP, seg, TB_TCP_HDR_LEN + payload);
}

/* Offers the exchange and releases every 50 us (and once at the end), as
 * the real-time loop would wake. */
static void run_exchange(struct wire_core_params *p, struct run *r) {
    memset(r, 0, sizeof(*r));
    FILE *log = open_memstream(&r->log, &r->log_len);
    FILE *specs = open_memstream(&r->specs, &r->specs_len);
    assert_non_null(log);
    assert_non_null(specs);
    p->fault_csv[0] = log;
    p->record_faults = specs;
    char err[256];
    struct wire_core *c = wire_core_new(p, err, sizeof(err));
    assert_non_null(c);
    uint8_t f[2048];
    const uint32_t isn_a = 1000, isn_b = 50000;
    tb_time_ns now = 0;
    wire_core_offer(c, 0, now, f, tcp_frame(f, 0, TB_TCP_SYN, isn_a, 0, 0));
    now += 10000;
    wire_core_offer(c, 1, now, f, tcp_frame(f, 1, TB_TCP_SYN | TB_TCP_ACK, isn_b, isn_a + 1, 0));
    for (int i = 0; i < SEGMENTS; i++) {
        now += 100000;
        uint32_t seq = isn_a + 1 + (uint32_t)i * PAYLOAD_BYTES;
        wire_core_offer(c, 0, now, f, tcp_frame(f, 0, TB_TCP_ACK, seq, isn_b + 1, PAYLOAD_BYTES));
        if (i % 2 == 1) {
            now += 20000;
            wire_core_offer(c, 1, now, f, tcp_frame(f, 1, TB_TCP_ACK, isn_b + 1, seq + PAYLOAD_BYTES, 0));
        }
        wire_core_release(c, now, collect, r);
        now += 50000;
        wire_core_release(c, now, collect, r);
    }
    wire_core_release(c, TB_TIME_NEVER - 1, collect, r);
    assert_int_equal(wire_core_next_release(c), TB_TIME_NEVER);
    for (int d = 0; d < 2; d++) wire_core_stats(c, d, &r->stats[d], &r->link[d]);
    wire_core_free(c);
    fclose(log);
    fclose(specs);
}

static void run_free(struct run *r) {
    free(r->log);
    free(r->specs);
}

/* Specs count their matches (`#N`): a new run starts them at zero. */
static void reset_specs(struct fault_spec *specs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        memset(specs[i].matched, 0, sizeof(specs[i].matched));
        specs[i].fired = 0;
    }
}

static struct wire_core_params faulty_params(uint64_t seed) {
    struct wire_core_params p;
    memset(&p, 0, sizeof(p));
    p.seed = seed;
    for (int d = 0; d < 2; d++) {
        struct sim_link_params *l = &p.link[d];
        l->delay_ns = 5 * TB_NS_PER_MS;
        l->jitter_ns = 200 * TB_NS_PER_US;
        l->rate_bps = 200000000;
        l->queue_bytes = 256 * 1024;
        l->mtu = UINT16_MAX;
        l->loss = 0.02;
        l->reorder = 0.05;
        l->duplicate = 0.01;
        l->corrupt = 0.005;
    }
    return p;
}

static void same_frames_same_times_same_seed_same_deliveries_and_log(void **state) {
    (void)state;
    struct fault_spec specs[2];
    char err[256];
    assert_true(fault_parse("drop A>B tcp data #3", &specs[0], err, sizeof(err)));
    assert_true(fault_parse("delay B>A tcp ack #7 3ms", &specs[1], err, sizeof(err)));
    struct fault_spec *ptrs[2] = {&specs[0], &specs[1]};
    static struct run r1, r2, r3;
    struct wire_core_params p = faulty_params(11);
    p.specs = ptrs;
    p.nspecs = 2;
    run_exchange(&p, &r1);
    reset_specs(specs, 2);
    run_exchange(&p, &r2);
    assert_int_equal(r1.n, r2.n);
    assert_memory_equal(r1.d, r2.d, r1.n * sizeof(r1.d[0]));
    assert_int_equal(r1.log_len, r2.log_len);
    assert_memory_equal(r1.log, r2.log, r1.log_len);
    assert_string_equal(r1.specs, r2.specs);
    /* Every kind fired, each in the CSV and as a spec. */
    const char *kinds[] = {",A,B,loss,", ",B,A,loss,", ",A,B,reorder,", ",A,B,duplicate,", ",A,B,corrupt,",
                           ",A,B,drop,tcp,data,", ",B,A,delay,tcp,ack,"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) assert_non_null(strstr(r1.log, kinds[i]));
    assert_non_null(strstr(r1.specs, "drop A>B tcp data #3\n"));
    assert_non_null(strstr(r1.specs, "delay B>A tcp ack #7 3000000ns\n"));
    /* Deliveries: what came in, less what was lost, plus duplicates. */
    for (int d = 0; d < 2; d++) {
        const struct sim_link_stats *l = &r1.link[d];
        assert_int_equal(r1.stats[d].frames_out,
                         l->offered - l->loss_drops - l->fault_drops - l->queue_drops + l->duplicated);
        assert_int_equal(r1.stats[d].held, 0);
    }
    /* Released in arrival order. */
    for (size_t i = 1; i < r1.n; i++) assert_true(r1.d[i].due >= r1.d[i - 1].due);
    /* Another seed: other faults. */
    reset_specs(specs, 2);
    p.seed = 12;
    run_exchange(&p, &r3);
    assert_true(r3.log_len != r1.log_len || memcmp(r3.log, r1.log, r1.log_len) != 0);
    run_free(&r1);
    run_free(&r2);
    run_free(&r3);
}

static void targeted_faults_act_as_their_spec_says(void **state) {
    (void)state;
    struct fault_spec specs[3];
    char err[256];
    assert_true(fault_parse("drop A>B tcp data #3", &specs[0], err, sizeof(err)));
    assert_true(fault_parse("duplicate A>B tcp data #5", &specs[1], err, sizeof(err)));
    assert_true(fault_parse("delay A>B tcp data #7 10ms", &specs[2], err, sizeof(err)));
    struct fault_spec *ptrs[3] = {&specs[0], &specs[1], &specs[2]};
    struct wire_core_params p;
    memset(&p, 0, sizeof(p));
    p.link[0].delay_ns = p.link[1].delay_ns = TB_NS_PER_MS;
    p.link[0].mtu = p.link[1].mtu = UINT16_MAX;
    p.specs = ptrs;
    p.nspecs = 3;
    static struct run r;
    run_exchange(&p, &r);
    assert_string_equal(r.specs, "drop A>B tcp data #3\nduplicate A>B tcp data #5\ndelay A>B tcp data #7 10000000ns\n");
    /* A>B: the SYN and 2000 segments, one dropped, one twice. */
    assert_int_equal(r.stats[0].frames_in, SEGMENTS + 1);
    assert_int_equal(r.stats[0].frames_out, SEGMENTS + 1);
    /* The SYN arrives after the 1 ms delay exactly; data segment 7 (offered
     * at 7 x 150 us + 10 us + the ACKs' 20 us) 11 ms after it was offered. */
    assert_int_equal(r.d[0].dir, 0);
    assert_int_equal(r.d[0].due, TB_NS_PER_MS);
    size_t late = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.d[i].dir == 0 && r.d[i].due > 10 * TB_NS_PER_MS && r.d[i].due < 12 * TB_NS_PER_MS) late++;
    assert_true(late >= 1);
    run_free(&r);
}

static void a_spec_naming_other_ends_is_refused(void **state) {
    (void)state;
    struct fault_spec spec;
    char err[256];
    assert_true(fault_parse("drop A>C tcp data #1", &spec, err, sizeof(err)));
    struct fault_spec *ptr = &spec;
    struct wire_core_params p;
    memset(&p, 0, sizeof(p));
    p.specs = &ptr;
    p.nspecs = 1;
    assert_null(wire_core_new(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "fault names A>C"));
}

static void the_hold_is_bounded_and_counted(void **state) {
    (void)state;
    struct wire_core_params p;
    memset(&p, 0, sizeof(p));
    p.link[0].delay_ns = TB_NS_PER_S;
    p.link[0].mtu = UINT16_MAX;
    char err[256];
    struct wire_core *c = wire_core_new(&p, err, sizeof(err));
    assert_non_null(c);
    uint8_t f[2048];
    size_t len = tcp_frame(f, 0, TB_TCP_ACK, 1, 1, 100);
    for (int i = 0; i < WIRE_MAX_HELD + 10; i++) wire_core_offer(c, 0, i, f, len);
    struct wire_dir_stats s;
    wire_core_stats(c, 0, &s, NULL);
    assert_int_equal(s.held, WIRE_MAX_HELD);
    assert_int_equal(s.overflow_drops, 10);
    assert_int_equal(wire_core_next_release(c), TB_NS_PER_S);
    assert_int_equal(wire_core_discard(c), WIRE_MAX_HELD);
    wire_core_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_frames_same_times_same_seed_same_deliveries_and_log),
        cmocka_unit_test(targeted_faults_act_as_their_spec_says),
        cmocka_unit_test(a_spec_naming_other_ends_is_refused),
        cmocka_unit_test(the_hold_is_bounded_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
