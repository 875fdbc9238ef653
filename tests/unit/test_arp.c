/* net/arp.c: RFC 826 reception, RFC 1122 §2.3.2 cache timeouts and queueing. */
#include <string.h>

#include "helpers.h"

static const struct tb_mac zero_mac = {{0}};

static void parse_arp_out(const struct t_frame *f, struct tb_eth_repr *eth, struct tb_arp_repr *arp) {
    size_t off;
    assert_int_equal(f->len, TB_ETH_MIN_FRAME);   /* padded to the Ethernet minimum */
    assert_int_equal(tb_eth_parse(f->bytes, f->len, eth, &off), TB_WIRE_OK);
    assert_int_equal(eth->ethertype, TB_ETHERTYPE_ARP);
    assert_int_equal(tb_arp_parse(f->bytes + off, f->len - off, arp), TB_WIRE_OK);
    for (size_t i = off + TB_ARP_LEN; i < f->len; i++) assert_int_equal(f->bytes[i], 0);   /* zero padding */
}

/* RFC 826: a request for our address is answered, and its sender learned. */
static void request_for_us_is_answered_and_sender_learned(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    uint8_t f[64];
    size_t n = t_build_arp(f, TB_ARP_OP_REQUEST, &tb_mac_broadcast, &t_mac_peer, T_IP_PEER, &zero_mac, T_IP_US);
    t_input(st, 0, f, n);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    struct tb_eth_repr eth;
    struct tb_arp_repr arp;
    parse_arp_out(&out[0], &eth, &arp);
    assert_true(tb_mac_equal(&eth.dst, &t_mac_peer));
    assert_int_equal(arp.op, TB_ARP_OP_REPLY);
    assert_true(tb_mac_equal(&arp.sha, &t_mac_us));
    assert_int_equal(arp.spa, T_IP_US);
    assert_true(tb_mac_equal(&arp.tha, &t_mac_peer));
    assert_int_equal(arp.tpa, T_IP_PEER);
    struct tb_mac learned;
    assert_true(tb_stack_arp_lookup(st, T_IP_PEER, &learned));
    assert_true(tb_mac_equal(&learned, &t_mac_peer));
    t_stack_done(st);
}

/* RFC 826: a request for another host teaches nothing new and is not answered. */
static void request_for_another_host_is_ignored(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    uint8_t f[64];
    size_t n = t_build_arp(f, TB_ARP_OP_REQUEST, &tb_mac_broadcast, &t_mac_peer, T_IP_PEER, &zero_mac, 0x0a000009u);
    t_input(st, 0, f, n);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 0);
    assert_int_equal(tb_stack_arp_count(st), 0);
    assert_int_equal(t_drops(st, TB_DROP_arp_not_for_us), 1);
    t_stack_done(st);
}

/* RFC 826 merge: a known sender's new MAC is taken even when not addressed to us. */
static void known_sender_is_updated_even_when_not_for_us(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    t_learn_peer(st, 0);
    const struct tb_mac moved = {{0x02, 0, 0, 0, 0, 0x77}};
    uint8_t f[64];
    size_t n = t_build_arp(f, TB_ARP_OP_REQUEST, &tb_mac_broadcast, &moved, T_IP_PEER, &zero_mac, 0x0a000009u);
    t_input(st, 10, f, n);
    struct tb_mac now_mac;
    assert_true(tb_stack_arp_lookup(st, T_IP_PEER, &now_mac));
    assert_true(tb_mac_equal(&now_mac, &moved));
    assert_int_equal(t_drops(st, TB_DROP_arp_not_for_us), 0);
    t_stack_done(st);
}

static void multicast_sender_or_our_own_address_is_rejected(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    uint8_t f[64];
    const struct tb_mac mcast = {{0x01, 0, 0x5e, 0, 0, 1}};
    size_t n = t_build_arp(f, TB_ARP_OP_REPLY, &t_mac_us, &mcast, T_IP_PEER, &t_mac_us, T_IP_US);
    t_input(st, 0, f, n);
    n = t_build_arp(f, TB_ARP_OP_REPLY, &t_mac_us, &t_mac_peer, T_IP_US, &t_mac_us, T_IP_US);
    t_input(st, 0, f, n);
    assert_int_equal(t_drops(st, TB_DROP_arp_bad_sender), 2);
    assert_int_equal(tb_stack_arp_count(st), 0);
    t_stack_done(st);
}

static void malformed_arp_is_counted_by_reason(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    uint8_t f[64];
    size_t n = t_build_arp(f, TB_ARP_OP_REQUEST, &tb_mac_broadcast, &t_mac_peer, T_IP_PEER, &zero_mac, T_IP_US);
    uint8_t g[64];
    memcpy(g, f, n);
    g[TB_ETH_HDR_LEN + 1] = 6;                 /* htype 6 */
    t_input(st, 0, g, n);
    memcpy(g, f, n);
    g[TB_ETH_HDR_LEN + 2] = 0x86;              /* ptype 0x86dd */
    t_input(st, 0, g, n);
    memcpy(g, f, n);
    g[TB_ETH_HDR_LEN + 7] = 9;                 /* op 9 */
    t_input(st, 0, g, n);
    t_input(st, 0, f, n - 1);                  /* one byte short */
    assert_int_equal(t_drops(st, TB_DROP_arp_bad_htype), 1);
    assert_int_equal(t_drops(st, TB_DROP_arp_bad_ptype), 1);
    assert_int_equal(t_drops(st, TB_DROP_arp_bad_op), 1);
    assert_int_equal(t_drops(st, TB_DROP_arp_truncated), 1);
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_int_equal(s.rx_dropped, 4);
    t_stack_done(st);
}

/* Frames to an unresolved neighbour wait, a request goes out, and the reply
 * releases them in order. */
static void pending_frames_flush_in_order_on_reply(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    for (uint16_t seq = 1; seq <= 3; seq++) assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, seq, 8), TB_OK);
    struct t_frame out[8];
    assert_int_equal(t_drain(st, out, 8), 1);   /* only the request */
    struct tb_eth_repr eth;
    struct tb_arp_repr arp;
    parse_arp_out(&out[0], &eth, &arp);
    assert_true(tb_mac_is_broadcast(&eth.dst));
    assert_int_equal(arp.op, TB_ARP_OP_REQUEST);
    assert_int_equal(arp.tpa, T_IP_PEER);
    assert_int_equal(tb_stack_next_deadline(st), cfg.arp_retry_ns);
    uint8_t f[64];
    size_t n = t_build_arp(f, TB_ARP_OP_REPLY, &t_mac_us, &t_mac_peer, T_IP_PEER, &t_mac_us, T_IP_US);
    t_input(st, 1000, f, n);
    assert_int_equal(t_drain(st, out, 8), 3);
    for (int i = 0; i < 3; i++) {
        size_t off;
        assert_int_equal(tb_eth_parse(out[i].bytes, out[i].len, &eth, &off), TB_WIRE_OK);
        assert_true(tb_mac_equal(&eth.dst, &t_mac_peer));
        struct tb_ipv4_repr ip;
        assert_int_equal(tb_ipv4_parse(out[i].bytes + off, out[i].len - off, &ip), TB_WIRE_OK);
        struct tb_icmp_repr icmp;
        assert_int_equal(tb_icmp_parse(out[i].bytes + off + 20, ip.total_len - 20u, &icmp), TB_WIRE_OK);
        assert_int_equal(icmp.seq, i + 1);
    }
    /* The retry timer became the expiry timer. */
    assert_int_equal(tb_stack_next_deadline(st), 1000 + cfg.arp_reachable_ns);
    t_stack_done(st);
}

/* RFC 1122 §2.3.2.1: retry, then give up, drop the queue and say so. */
static void unanswered_resolution_retries_then_fails_with_an_event(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 8), TB_OK);
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 2, 8), TB_OK);
    struct t_frame out[4];
    int requests = (int)t_drain(st, out, 4);
    tb_time_ns t = 0;
    while (tb_stack_next_deadline(st) != TB_TIME_NEVER) {
        t = tb_stack_next_deadline(st);
        tb_stack_tick(st, t);
        requests += (int)t_drain(st, out, 4);
    }
    assert_int_equal(requests, (int)cfg.arp_max_retries);
    assert_int_equal(t, (tb_time_ns)cfg.arp_max_retries * cfg.arp_retry_ns);
    struct tb_event ev[4];
    assert_int_equal(tb_stack_events(st, ev, 4), 1);
    assert_int_equal(ev[0].type, TB_EV_UNREACHABLE);
    assert_int_equal(ev[0].reason, TB_UNREACH_ARP_TIMEOUT);
    assert_int_equal(ev[0].peer_ipv4, T_IP_PEER);
    assert_int_equal(ev[0].u.unreach.dropped_frames, 2);
    assert_int_equal(t_drops(st, TB_DROP_tx_arp_timeout), 2);
    assert_int_equal(tb_stack_arp_count(st), 0);
    t_stack_done(st);
}

/* RFC 1122 §2.3.2.1: entries time out. */
static void resolved_entry_expires_after_its_lifetime(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    cfg.arp_reachable_ns = 5 * TB_NS_PER_S;
    struct tb_stack *st = t_stack(&cfg);
    t_learn_peer(st, 100);
    tb_stack_tick(st, 100 + 5 * TB_NS_PER_S - 1);
    assert_true(tb_stack_arp_lookup(st, T_IP_PEER, NULL));
    tb_stack_tick(st, 100 + 5 * TB_NS_PER_S);
    assert_false(tb_stack_arp_lookup(st, T_IP_PEER, NULL));
    assert_int_equal(tb_stack_next_deadline(st), TB_TIME_NEVER);
    t_stack_done(st);
}

/* The cache is bounded: a newcomer evicts the least recently confirmed entry. */
static void full_cache_evicts_the_least_recently_confirmed_entry(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    uint8_t f[64];
    struct t_frame out[4];
    for (uint32_t i = 0; i <= cfg.arp_cache_entries; i++) {
        struct tb_mac mac = {{0x02, 0, 0, 0, 1, (uint8_t)i}};
        size_t n = t_build_arp(f, TB_ARP_OP_REQUEST, &tb_mac_broadcast, &mac, 0x0a000010u + i, &zero_mac, T_IP_US);
        t_input(st, (tb_time_ns)(i + 1) * 1000, f, n);
        t_drain(st, out, 4);
    }
    assert_int_equal(tb_stack_arp_count(st), cfg.arp_cache_entries);
    assert_false(tb_stack_arp_lookup(st, 0x0a000010u, NULL));   /* the oldest went */
    for (uint32_t i = 1; i <= cfg.arp_cache_entries; i++) assert_true(tb_stack_arp_lookup(st, 0x0a000010u + i, NULL));
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_int_equal(s.arp_cache_evictions, 1);
    t_stack_done(st);
}

/* Entries being resolved are never evicted; with all of them busy a new
 * destination is refused and counted. */
static void cache_full_of_pending_resolutions_refuses_a_new_destination(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    for (uint32_t i = 0; i < cfg.arp_cache_entries; i++)
        assert_int_equal(tb_ping_send(st, 0, 0x0a000020u + i, 1, 1, 8), TB_OK);
    assert_int_equal(tb_ping_send(st, 0, 0x0a000030u, 1, 1, 8), TB_ERR_QFULL);
    assert_int_equal(t_drops(st, TB_DROP_tx_arp_queue_full), 1);
    t_stack_done(st);
}

/* RFC 1122 §2.3.2.2: keep at least the latest frame per destination. */
static void pending_queue_bounds_keep_the_latest_frames(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);   /* 3 per entry, 6 in all */
    struct tb_stack *st = t_stack(&cfg);
    for (uint16_t seq = 1; seq <= 5; seq++) assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, seq, 8), TB_OK);
    assert_int_equal(t_drops(st, TB_DROP_tx_arp_queue_full), 2);
    struct t_frame out[8];
    t_drain(st, out, 8);
    uint8_t f[64];
    size_t n = t_build_arp(f, TB_ARP_OP_REPLY, &t_mac_us, &t_mac_peer, T_IP_PEER, &t_mac_us, T_IP_US);
    t_input(st, 1, f, n);
    assert_int_equal(t_drain(st, out, 8), 3);
    /* seq 3, 4, 5 survived */
    for (int i = 0; i < 3; i++) assert_int_equal(tb_get16(out[i].bytes + 14 + 20 + 6), 3 + i);
    t_stack_done(st);
}

static void global_pending_bound_holds_across_destinations(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);   /* 3 per entry, 6 in all, 4 entries */
    struct tb_stack *st = t_stack(&cfg);
    int ok = 0;
    for (uint32_t d = 0; d < 3; d++)
        for (uint16_t seq = 1; seq <= 3; seq++) ok += tb_ping_send(st, 0, 0x0a000040u + d, 1, seq, 8) == TB_OK;
    const char *why = NULL;
    assert_true(tb_stack_check(st, &why));
    assert_int_equal(ok, 6 + 0);               /* the third destination's frames were refused */
    assert_int_equal(t_drops(st, TB_DROP_tx_arp_queue_full), 3);
    t_stack_done(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_for_us_is_answered_and_sender_learned),
        cmocka_unit_test(request_for_another_host_is_ignored),
        cmocka_unit_test(known_sender_is_updated_even_when_not_for_us),
        cmocka_unit_test(multicast_sender_or_our_own_address_is_rejected),
        cmocka_unit_test(malformed_arp_is_counted_by_reason),
        cmocka_unit_test(pending_frames_flush_in_order_on_reply),
        cmocka_unit_test(unanswered_resolution_retries_then_fails_with_an_event),
        cmocka_unit_test(resolved_entry_expires_after_its_lifetime),
        cmocka_unit_test(full_cache_evicts_the_least_recently_confirmed_entry),
        cmocka_unit_test(cache_full_of_pending_resolutions_refuses_a_new_destination),
        cmocka_unit_test(pending_queue_bounds_keep_the_latest_frames),
        cmocka_unit_test(global_pending_bound_holds_across_destinations),
    };
    return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
