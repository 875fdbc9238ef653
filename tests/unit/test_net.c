/* net/: Ethernet dispatch, IPv4 input/output, ICMP echo, the stack's bounds. */
#include <string.h>

#include "harness/peer/peer.h"
#include "helpers.h"

static const uint8_t echo_data[16] = {0, 0, 0, 0, 0, 0, 0, 5, 8, 9, 10, 11, 12, 13, 14, 15};

static struct tb_stack *stack_knowing_peer(struct tb_config *cfg) {
    t_config(cfg);
    struct tb_stack *st = t_stack(cfg);
    t_learn_peer(st, 0);
    return st;
}

/* Splits an output frame into its IPv4 header and ICMP message. */
static void parse_icmp_out(const struct t_frame *f, struct tb_ipv4_repr *ip, struct tb_icmp_repr *icmp) {
    struct tb_peer_frame d;
    assert_int_equal(tb_peer_decode(f->bytes, f->len, &d), TB_WIRE_OK);
    assert_int_equal(d.layer, TB_PEER_ICMP);
    *ip = d.ip;
    *icmp = d.icmp;   /* the payload points into f */
}

/* RFC 1122 §3.2.2.6: an echo reply returns the request's identifier,
 * sequence number and data. */
static void echo_request_is_answered_with_the_same_data(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t f[128];
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 0x1234, 77, echo_data, sizeof(echo_data));
    t_input(st, 5, f, n);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    struct tb_ipv4_repr ip;
    struct tb_icmp_repr icmp;
    parse_icmp_out(&out[0], &ip, &icmp);
    assert_int_equal(ip.src, T_IP_US);
    assert_int_equal(ip.dst, T_IP_PEER);
    assert_int_equal(icmp.type, TB_ICMP_ECHO_REPLY);
    assert_int_equal(icmp.ident, 0x1234);
    assert_int_equal(icmp.seq, 77);
    assert_int_equal(icmp.payload_len, sizeof(echo_data));
    assert_memory_equal(icmp.payload, echo_data, sizeof(echo_data));
    t_stack_done(st);
}

/* A request padded by Ethernet to 60 bytes must not echo the padding. */
static void ethernet_padding_is_not_part_of_the_datagram(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t f[128];
    memset(f, 0xee, sizeof(f));
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo_data, 4);
    assert_true(n < TB_ETH_MIN_FRAME);
    t_input(st, 5, f, TB_ETH_MIN_FRAME);   /* 0xee bytes after the datagram */
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    struct tb_ipv4_repr ip;
    struct tb_icmp_repr icmp;
    parse_icmp_out(&out[0], &ip, &icmp);
    assert_int_equal(icmp.payload_len, 4);
    assert_int_equal(out[0].len, TB_ETH_MIN_FRAME);
    for (size_t i = n; i < out[0].len; i++) assert_int_equal(out[0].bytes[i], 0);
    t_stack_done(st);
}

/* Issue 9, found by AFL++ with UBSan: an echo reply's timestamp comes from
 * the wire; one in the future or beyond INT64_MAX must not overflow
 * now - sent (signed) and is reported as unknown (-1). */
static void echo_reply_with_a_wild_timestamp_has_no_rtt(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    const uint64_t stamps[] = {UINT64_MAX, (uint64_t)INT64_MAX + 1, (uint64_t)INT64_MAX, 5001, 0};
    const tb_time_ns want_rtt[] = {-1, -1, -1, -1, 5000};
    for (size_t k = 0; k < sizeof(stamps) / sizeof(stamps[0]); k++) {
        uint8_t payload[16] = {0};
        for (int b = 0; b < 8; b++) payload[b] = (uint8_t)(stamps[k] >> (56 - 8 * b));
        for (int b = 8; b < 16; b++) payload[b] = (uint8_t)b;
        uint8_t f[128];
        size_t n = t_build_echo(f, TB_ICMP_ECHO_REPLY, T_IP_PEER, T_IP_US, 1, (uint16_t)k, payload, sizeof(payload));
        t_input(st, 5000, f, n);
        struct tb_event ev[2];
        assert_int_equal(tb_stack_events(st, ev, 2), 1);
        assert_int_equal(ev[0].type, TB_EV_ECHO_REPLY);
        assert_int_equal(ev[0].u.echo.rtt_ns, want_rtt[k]);
    }
    t_stack_done(st);
}

/* Time never goes backwards in what is emitted: an entry point called
 * with a `now` earlier than the latest acts at the latest (counted in
 * time_backwards). tb_ping_send once stamped the caller's raw `now`. */
static void entry_points_called_in_the_past_act_at_the_latest_time(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    tb_stack_tick(st, 5000);
    assert_int_equal(tb_ping_send(st, 2000, T_IP_PEER, 9, 3, 32), TB_OK);
    struct tb_stats stats;
    tb_stack_stats(st, &stats);
    assert_int_equal(stats.time_backwards, 1);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    struct tb_ipv4_repr ip;
    struct tb_icmp_repr icmp;
    parse_icmp_out(&out[0], &ip, &icmp);
    uint64_t stamp = ((uint64_t)tb_get32(icmp.payload) << 32) | tb_get32(icmp.payload + 4);
    assert_int_equal(stamp, 5000);
    /* The reply, delivered "at 4000", is received at 5000 as well. */
    uint8_t f[128];
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REPLY, T_IP_PEER, T_IP_US, icmp.ident, icmp.seq, icmp.payload,
                            icmp.payload_len);
    t_input(st, 4000, f, n);
    tb_stack_stats(st, &stats);
    assert_int_equal(stats.time_backwards, 2);
    struct tb_event ev[2];
    assert_int_equal(tb_stack_events(st, ev, 2), 1);
    assert_int_equal(ev[0].type, TB_EV_ECHO_REPLY);
    assert_int_equal(ev[0].time_ns, 5000);
    assert_int_equal(ev[0].u.echo.sent_ns, 5000);
    assert_int_equal(ev[0].u.echo.rtt_ns, 0);
    t_stack_done(st);
}

static void echo_reply_reports_rtt_and_intact_payload(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    assert_int_equal(tb_ping_send(st, 1000, T_IP_PEER, 9, 3, 32), TB_OK);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    struct tb_ipv4_repr ip;
    struct tb_icmp_repr icmp;
    parse_icmp_out(&out[0], &ip, &icmp);
    /* Play the peer: answer with the same data. */
    uint8_t f[128];
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REPLY, T_IP_PEER, T_IP_US, icmp.ident, icmp.seq, icmp.payload,
                            icmp.payload_len);
    t_input(st, 1000 + 2500, f, n);
    struct tb_event ev[2];
    assert_int_equal(tb_stack_events(st, ev, 2), 1);
    assert_int_equal(ev[0].type, TB_EV_ECHO_REPLY);
    assert_int_equal(ev[0].u.echo.ident, 9);
    assert_int_equal(ev[0].u.echo.seq, 3);
    assert_int_equal(ev[0].u.echo.sent_ns, 1000);
    assert_int_equal(ev[0].u.echo.rtt_ns, 2500);
    assert_true(ev[0].u.echo.payload_ok);
    /* The same reply with one data byte changed is reported as corrupted. */
    uint8_t data[64];
    memcpy(data, icmp.payload, icmp.payload_len);
    data[20] ^= 1;
    n = t_build_echo(f, TB_ICMP_ECHO_REPLY, T_IP_PEER, T_IP_US, icmp.ident, icmp.seq, data, icmp.payload_len);
    t_input(st, 5000, f, n);
    assert_int_equal(tb_stack_events(st, ev, 2), 1);
    assert_false(ev[0].u.echo.payload_ok);
    t_stack_done(st);
}

/* Each malformed IPv4 header is dropped and counted under its own reason. */
static void malformed_ipv4_is_counted_by_reason(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t good[128], f[128];
    size_t n = t_build_echo(good, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo_data, 16);
    const size_t ip = TB_ETH_HDR_LEN;
    struct { enum tb_drop_reason reason; size_t offset; uint8_t value; size_t len; } cases[] = {
        {TB_DROP_ip_bad_version, ip + 0, 0x65, 0},
        {TB_DROP_ip_bad_ihl, ip + 0, 0x44, 0},
        {TB_DROP_ip_bad_checksum, ip + 8, 63, 0},          /* TTL changed, checksum not */
        {TB_DROP_ip_bad_total_len, ip + 3, 10, 0},         /* total length 10 < 20 */
        {TB_DROP_ip_total_len_beyond_frame, ip + 3, 200, 0},
        {TB_DROP_ip_truncated, 0, 0, ip + 19},             /* 19 bytes of IP */
        {TB_DROP_ip_ihl_beyond_packet, ip + 0, 0x4f, ip + 40},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(f, good, n);
        if (cases[i].offset) f[cases[i].offset] = cases[i].value;
        t_input(st, 1, f, cases[i].len ? cases[i].len : n);
        if (t_drops(st, cases[i].reason) != 1) fail_msg("case %zu: %s not counted", i, tb_drop_reason_name(cases[i].reason));
    }
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 0);
    t_stack_done(st);
}

static void datagrams_not_for_us_are_dropped_with_a_reason(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t f[128];
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, 0x0a000063u, 1, 1, echo_data, 16);
    t_input(st, 1, f, n);
    assert_int_equal(t_drops(st, TB_DROP_ip_not_for_us), 1);
    /* RFC 1122 §3.2.1.3: broadcast, multicast and zero sources are discarded. */
    uint32_t martians[] = {0, 0xffffffffu, 0xe0000001u, 0x0a0000ffu};
    for (size_t i = 0; i < 4; i++) {
        n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, martians[i], T_IP_US, 1, 1, echo_data, 16);
        t_input(st, 1, f, n);
    }
    assert_int_equal(t_drops(st, TB_DROP_ip_bad_src), 4);
    /* Another host's MAC, an unknown ethertype, a runt. */
    n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo_data, 16);
    f[5] = 0x99;
    t_input(st, 1, f, n);
    assert_int_equal(t_drops(st, TB_DROP_eth_not_for_us), 1);
    n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo_data, 16);
    f[12] = 0x86;
    f[13] = 0xdd;
    t_input(st, 1, f, n);
    assert_int_equal(t_drops(st, TB_DROP_eth_unknown_type), 1);
    t_input(st, 1, f, 13);
    assert_int_equal(t_drops(st, TB_DROP_eth_runt), 1);
    /* UDP: no such protocol here. */
    n = t_build_ipv4(f, &t_mac_us, T_IP_PEER, T_IP_US, TB_IPPROTO_UDP, echo_data, 16);
    t_input(st, 1, f, n);
    assert_int_equal(t_drops(st, TB_DROP_ip_unknown_protocol), 1);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 0);
    t_stack_done(st);
}

/* A fragment waits for the rest (test_ipfrag.c covers reassembly); options
 * are skipped, the datagram served. */
static void fragments_are_held_and_options_skipped(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t f[160];
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo_data, 16);
    uint8_t *ip = f + TB_ETH_HDR_LEN;
    ip[6] = 0x20;                                   /* MF */
    tb_put16(ip + 10, 0);
    tb_put16(ip + 10, tb_csum(ip, 20));
    t_input(st, 1, f, n);
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_int_equal(s.ip_frags_rx, 1);
    assert_int_equal(s.icmp_echo_replies_tx, 0);

    /* Rebuild with 4 bytes of options (NOPs + EOL): IHL 6. */
    uint8_t g[160];
    memcpy(g, f, TB_ETH_HDR_LEN);
    uint8_t *gip = g + TB_ETH_HDR_LEN;
    memcpy(gip, ip, 20);
    gip[0] = 0x46;
    gip[6] = 0;
    tb_put16(gip + 2, (uint16_t)(n - TB_ETH_HDR_LEN + 4));
    gip[20] = 1; gip[21] = 1; gip[22] = 1; gip[23] = 0;
    memcpy(gip + 24, ip + 20, n - TB_ETH_HDR_LEN - 20);
    tb_put16(gip + 10, 0);
    tb_put16(gip + 10, tb_csum(gip, 24));
    t_input(st, 2, g, n + 4);
    tb_stack_stats(st, &s);
    assert_int_equal(s.ip_options_skipped, 1);
    assert_int_equal(s.icmp_echo_replies_tx, 1);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    t_stack_done(st);
}

static void icmp_with_a_bad_checksum_is_counted(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t f[128];
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo_data, 16);
    f[n - 1] ^= 0x40;
    t_input(st, 1, f, n);
    assert_int_equal(t_drops(st, TB_DROP_icmp_bad_checksum), 1);
    t_stack_done(st);
}

static void destination_unreachable_becomes_an_event(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    /* Quote: a UDP datagram from us to 10.0.0.99 (IP header plus 8 bytes).
     * TCP quotes go to the TCP layer instead (test_tcp covers them). */
    uint8_t quote[28] = {0};
    struct tb_ipv4_repr q = {.src = T_IP_US, .dst = 0x0a000063u, .protocol = TB_IPPROTO_UDP, .ttl = 64,
                             .total_len = 28};
    tb_ipv4_emit(&q, quote);
    struct tb_peer_host peer;
    tb_peer_host_init(&peer, &t_mac_peer, T_IP_PEER, &t_mac_us, T_IP_US);
    uint8_t f[128];
    size_t n = tb_peer_build_icmp_error(&peer, T_IP_PEER, TB_ICMP_DEST_UNREACH, TB_ICMP_UNREACH_PORT, 0, quote,
                                        sizeof(quote), f, sizeof(f));
    assert_true(n > 0);
    t_input(st, 1, f, n);
    struct tb_event ev[2];
    assert_int_equal(tb_stack_events(st, ev, 2), 1);
    assert_int_equal(ev[0].type, TB_EV_UNREACHABLE);
    assert_int_equal(ev[0].reason, TB_UNREACH_ICMP);
    assert_int_equal(ev[0].peer_ipv4, 0x0a000063u);
    assert_int_equal(ev[0].u.unreach.icmp_code, TB_ICMP_UNREACH_PORT);
    /* The same error about a TCP segment of no connection of ours is stale. */
    q.protocol = TB_IPPROTO_TCP;
    tb_ipv4_emit(&q, quote);
    n = tb_peer_build_icmp_error(&peer, T_IP_PEER, TB_ICMP_DEST_UNREACH, TB_ICMP_UNREACH_PORT, 0, quote, sizeof(quote),
                                 f, sizeof(f));
    assert_true(n > 0);
    t_input(st, 2, f, n);
    assert_int_equal(tb_stack_events(st, ev, 2), 0);
    assert_int_equal(t_drops(st, TB_DROP_tcp_icmp_stale), 1);
    t_stack_done(st);
}

/* Off-link destinations go to the gateway, or fail without one. */
static void off_link_traffic_uses_the_gateway_or_fails(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = t_stack(&cfg);
    assert_int_equal(tb_ping_send(st, 0, 0x08080808u, 1, 1, 8), TB_ERR_NOROUTE);
    assert_int_equal(t_drops(st, TB_DROP_tx_no_route), 1);
    t_stack_done(st);

    cfg.ipv4_gateway = 0x0a0000feu;
    st = t_stack(&cfg);
    assert_int_equal(tb_ping_send(st, 0, 0x08080808u, 1, 1, 8), TB_OK);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    struct tb_arp_repr arp;
    assert_int_equal(tb_arp_parse(out[0].bytes + TB_ETH_HDR_LEN, TB_ARP_LEN, &arp), TB_WIRE_OK);
    assert_int_equal(arp.tpa, 0x0a0000feu);   /* we resolve the gateway, not 8.8.8.8 */
    t_stack_done(st);
}

static void ping_arguments_are_checked(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 7), TB_ERR_INVAL);
    /* RFC 791 §3.1: 65,535 bytes of datagram at most; beyond the MTU it is fragmented. */
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 65508), TB_ERR_MSGSIZE);
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 1472), TB_OK);
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 2, 1473), TB_OK);
    t_stack_done(st);
}

/* A dry pool is a counted refusal, and the stack recovers when buffers return. */
static void pool_exhaustion_is_counted_not_fatal(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    struct tb_buf *held[64];
    size_t n = 0;
    while (n < 64 && (held[n] = tb_stack_alloc_rx(st, 100)) != NULL) n++;
    assert_int_equal(n, cfg.buf_count);
    assert_int_equal(tb_stack_pool_free(st), 0);
    assert_null(tb_stack_alloc_rx(st, 100));
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 8), TB_ERR_NOBUFS);
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_int_equal(s.pool_empty, 2);
    for (size_t i = 0; i < n; i++) tb_buf_free(held[i]);
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 8), TB_OK);
    t_stack_done(st);
}

static void full_tx_queue_drops_and_counts(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    for (uint32_t i = 0; i < cfg.tx_queue_len; i++) assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 8), TB_OK);
    assert_int_equal(tb_ping_send(st, 0, T_IP_PEER, 1, 1, 8), TB_ERR_QFULL);
    assert_int_equal(t_drops(st, TB_DROP_tx_queue_full), 1);
    t_stack_done(st);
}

static void full_event_queue_drops_and_counts(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    cfg.event_queue_len = 2;
    struct tb_stack *st = t_stack(&cfg);
    t_learn_peer(st, 0);
    uint8_t f[128];
    uint8_t data[8] = {0};
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REPLY, T_IP_PEER, T_IP_US, 1, 1, data, 8);
    for (int i = 0; i < 3; i++) t_input(st, 1, f, n);
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_int_equal(s.events_dropped, 1);
    struct tb_event ev[4];
    assert_int_equal(tb_stack_events(st, ev, 4), 2);
    t_stack_done(st);
}

static void time_going_backwards_is_counted_and_ignored(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    tb_stack_tick(st, 1000);
    tb_stack_tick(st, 500);
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_int_equal(s.time_backwards, 1);
    t_stack_done(st);
}

/* A chained frame (e.g. a multi-segment mbuf) is accepted. */
static void chained_input_frame_is_linearised(void **state) {
    (void)state;
    struct tb_config cfg;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t f[128];
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo_data, 16);
    struct tb_buf *a = tb_stack_alloc_rx(st, 10), *b = tb_stack_alloc_rx(st, n - 10);
    memcpy(a->data, f, 10);
    memcpy(b->data, f + 10, n - 10);
    a->next = b;
    tb_stack_input(st, 1, a);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 1);
    t_stack_done(st);
}

static void bad_configs_are_refused_with_the_field_named(void **state) {
    (void)state;
    struct tb_config cfg;
    const char *why;
    t_config(&cfg);
    assert_int_equal(tb_config_check(&cfg, &why), TB_OK);
    assert_null(why);
    t_config(&cfg); cfg.ipv4_addr = 0;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL); assert_non_null(strstr(why, "ipv4_addr"));
    t_config(&cfg); cfg.ipv4_prefix_len = 33;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL); assert_non_null(strstr(why, "prefix"));
    t_config(&cfg); cfg.mtu = 9000;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL); assert_non_null(strstr(why, "mtu"));
    t_config(&cfg); cfg.buf_size = 1000;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL); assert_non_null(strstr(why, "buf_size"));
    t_config(&cfg); cfg.mac.b[0] = 1;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL); assert_non_null(strstr(why, "mac"));
    t_config(&cfg); cfg.arp_pending_per_entry = 100;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL); assert_non_null(strstr(why, "arp_pending_per_entry"));
    assert_null(tb_stack_new(&cfg));
}

/* Same config, same inputs, same times: byte-identical output. Another seed
 * changes what the seed feeds (the IP identification). */
static void same_seed_same_inputs_give_identical_frames(void **state) {
    (void)state;
    struct t_frame out[3][4];
    for (int run = 0; run < 3; run++) {
        struct tb_config cfg;
        t_config(&cfg);
        cfg.seed = run == 2 ? 43 : 42;
        struct tb_stack *st = t_stack(&cfg);
        t_learn_peer(st, 0);
        for (uint16_t seq = 0; seq < 4; seq++) assert_int_equal(tb_ping_send(st, seq * 100, T_IP_PEER, 1, seq, 40), TB_OK);
        assert_int_equal(t_drain(st, out[run], 4), 4);
        t_stack_done(st);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(out[0][i].len, out[1][i].len);
        assert_memory_equal(out[0][i].bytes, out[1][i].bytes, out[0][i].len);
    }
    assert_memory_not_equal(out[0][0].bytes, out[2][0].bytes, out[0][0].len);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_request_is_answered_with_the_same_data),
        cmocka_unit_test(ethernet_padding_is_not_part_of_the_datagram),
        cmocka_unit_test(echo_reply_reports_rtt_and_intact_payload),
        cmocka_unit_test(entry_points_called_in_the_past_act_at_the_latest_time),
        cmocka_unit_test(echo_reply_with_a_wild_timestamp_has_no_rtt),
        cmocka_unit_test(malformed_ipv4_is_counted_by_reason),
        cmocka_unit_test(datagrams_not_for_us_are_dropped_with_a_reason),
        cmocka_unit_test(fragments_are_held_and_options_skipped),
        cmocka_unit_test(icmp_with_a_bad_checksum_is_counted),
        cmocka_unit_test(destination_unreachable_becomes_an_event),
        cmocka_unit_test(off_link_traffic_uses_the_gateway_or_fails),
        cmocka_unit_test(ping_arguments_are_checked),
        cmocka_unit_test(pool_exhaustion_is_counted_not_fatal),
        cmocka_unit_test(full_tx_queue_drops_and_counts),
        cmocka_unit_test(full_event_queue_drops_and_counts),
        cmocka_unit_test(time_going_backwards_is_counted_and_ignored),
        cmocka_unit_test(chained_input_frame_is_linearised),
        cmocka_unit_test(bad_configs_are_refused_with_the_field_named),
        cmocka_unit_test(same_seed_same_inputs_give_identical_frames),
    };
    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
