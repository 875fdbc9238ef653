/* sim/: event order, link timing in virtual time, the drop hook, and
 * determinism of whole runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "sim/ping.h"

static void ping_run(const struct sim_ping_opts *o, struct sim_ping_result *r) {
    assert_int_equal(sim_ping_run(o, r), 0);
    assert_true(r->invariants_ok);
}

/* RTT = 2 x (serialisation of a 98-byte frame + propagation), exactly. */
static void rtt_is_serialisation_plus_propagation_both_ways(void **state) {
    (void)state;
    struct sim_ping_opts o;
    sim_ping_defaults(&o);
    o.count = 3;
    o.link.delay_ns = 10 * TB_NS_PER_MS;
    o.link.rate_bps = 8000000;    /* 1 byte per microsecond */
    struct sim_ping_result r;
    ping_run(&o, &r);
    assert_int_equal(r.received, 3);
    /* 98-byte frames: 98 us each way + 10 ms each way. The first ping also
     * waits for ARP: two 60-byte frames, 60 us + 10 ms each. */
    tb_time_ns one_way = 98 * TB_NS_PER_US + 10 * TB_NS_PER_MS;
    tb_time_ns arp = 2 * (60 * TB_NS_PER_US + 10 * TB_NS_PER_MS);
    assert_int_equal(r.replies[0].rtt_ns, arp + 2 * one_way);
    assert_int_equal(r.replies[1].rtt_ns, 2 * one_way);
    assert_int_equal(r.replies[2].rtt_ns, 2 * one_way);
    sim_ping_result_free(&r);
}

/* Frames sent back to back queue behind each other on the wire. */
static void back_to_back_frames_are_serialised_one_after_another(void **state) {
    (void)state;
    struct sim_ping_opts o;
    sim_ping_defaults(&o);
    o.count = 4;
    o.interval_ns = 1;            /* all four requests at once, after ARP */
    o.link.delay_ns = 0;
    o.link.rate_bps = 8000000;
    struct sim_ping_result r;
    ping_run(&o, &r);
    assert_int_equal(r.received, 4);
    /* Later requests wait for earlier ones to serialise: RTTs grow by one
     * frame time (98 us) each. */
    for (int i = 2; i < 4; i++) assert_int_equal(r.replies[i].rtt_ns - r.replies[i - 1].rtt_ns, 98 * TB_NS_PER_US - 1);
    sim_ping_result_free(&r);
}

static uint64_t cfg_pending_per_entry(void) {
    struct tb_config cfg;
    tb_config_default(&cfg);
    return cfg.arp_pending_per_entry;
}

static void tiny_queue_drops_the_tail(void **state) {
    (void)state;
    struct sim_ping_opts o;
    sim_ping_defaults(&o);
    uint64_t count = cfg_pending_per_entry() + 12;   /* more than ARP will hold while resolving */
    o.count = (uint32_t)count;
    o.interval_ns = 1;
    o.link.rate_bps = 1000000;
    o.link.queue_bytes = 300;     /* three frames */
    struct sim_ping_result r;
    ping_run(&o, &r);
    assert_true(r.link_ab.queue_drops > 0);
    /* Every request is accounted for: answered, dropped by the queue, or
     * dropped while waiting for ARP (the pending bound keeps the latest). */
    assert_int_equal(r.stats_a.drops[TB_DROP_tx_arp_queue_full], count - cfg_pending_per_entry());
    assert_int_equal(r.received + r.link_ab.queue_drops + r.stats_a.drops[TB_DROP_tx_arp_queue_full], count);
    sim_ping_result_free(&r);
}

struct drop_list { uint64_t idx[4]; int n; };
static bool drop_listed(void *ctx, uint64_t index, const uint8_t *frame, size_t len) {
    (void)frame;
    (void)len;
    struct drop_list *d = ctx;
    for (int i = 0; i < d->n; i++)
        if (d->idx[i] == index) return true;
    return false;
}

/* The test hook drops exactly the frames it names. Frame 0 A->B is the ARP
 * request, so the first request is retried a second later. */
static void drop_hook_drops_exactly_the_named_frames(void **state) {
    (void)state;
    struct drop_list d = {.idx = {0, 3}, .n = 2};
    struct sim_ping_opts o;
    sim_ping_defaults(&o);
    o.count = 4;
    o.drop_a_to_b = drop_listed;
    o.drop_ctx = &d;
    struct sim_ping_result r;
    ping_run(&o, &r);
    assert_int_equal(r.link_ab.hook_drops, 2);
    assert_int_equal(r.stats_a.arp_requests_tx, 2);
    /* A->B frames: 0 ARP (dropped), 1 ARP retry, 2 echo 1, 3 echo 2 (dropped). */
    assert_int_equal(r.received, 3);
    for (uint32_t i = 0; i < r.received; i++) assert_int_not_equal(r.replies[i].seq, 2);
    sim_ping_result_free(&r);
}

static bool read_file(const char *path, uint8_t **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(*len ? *len : 1);
    bool ok = fread(*data, 1, *len, f) == *len;
    fclose(f);
    return ok;
}

/* The product promise: one seed, one pcap, every time; another seed, a
 * different pcap (the stacks' seeds change the IP identification). */
static void same_seed_gives_a_byte_identical_pcap(void **state) {
    (void)state;
    char paths[3][96];
    uint8_t *data[3];
    size_t len[3];
    for (int run = 0; run < 3; run++) {
        snprintf(paths[run], sizeof(paths[run]), "/tmp/tcpbed_test_sim_%ld_%d.pcap", (long)getpid(), run);
        struct sim_ping_opts o;
        sim_ping_defaults(&o);
        o.count = 5;
        o.seed = run == 2 ? 8 : 7;
        o.pcap_path = paths[run];
        struct sim_ping_result r;
        ping_run(&o, &r);
        assert_int_equal(r.pcap_frames, 2 + 2 * 5);
        sim_ping_result_free(&r);
        assert_true(read_file(paths[run], &data[run], &len[run]));
        unlink(paths[run]);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(data[0], data[1], len[0]);
    assert_int_equal(len[0], len[2]);
    assert_memory_not_equal(data[0], data[2], len[0]);
    for (int run = 0; run < 3; run++) free(data[run]);
}

static void bad_pcap_path_is_a_clear_setup_error(void **state) {
    (void)state;
    struct sim_ping_opts o;
    sim_ping_defaults(&o);
    o.pcap_path = "/nonexistent-dir/x.pcap";
    struct sim_ping_result r;
    assert_int_equal(sim_ping_run(&o, &r), -1);
    assert_non_null(strstr(r.error, "/nonexistent-dir/x.pcap"));
    sim_ping_result_free(&r);
}

static void derived_seeds_differ_by_purpose_and_index(void **state) {
    (void)state;
    assert_int_not_equal(tb_derive_seed(1, "host", 0), tb_derive_seed(1, "host", 1));
    assert_int_not_equal(tb_derive_seed(1, "host", 0), tb_derive_seed(1, "link", 0));
    assert_int_not_equal(tb_derive_seed(1, "host", 0), tb_derive_seed(2, "host", 0));
    assert_int_equal(tb_derive_seed(1, "host", 0), tb_derive_seed(1, "host", 0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rtt_is_serialisation_plus_propagation_both_ways),
        cmocka_unit_test(back_to_back_frames_are_serialised_one_after_another),
        cmocka_unit_test(tiny_queue_drops_the_tail),
        cmocka_unit_test(drop_hook_drops_exactly_the_named_frames),
        cmocka_unit_test(same_seed_gives_a_byte_identical_pcap),
        cmocka_unit_test(bad_pcap_path_is_a_clear_setup_error),
        cmocka_unit_test(derived_seeds_differ_by_purpose_and_index),
    };
    return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
