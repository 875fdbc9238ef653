/* harness/peer, the scripted remote TCP: its frames parse with wire/ and
 * carry what was asked, builders never write past the buffer they are
 * given, learning follows the stack's sequence space, and expectations
 * name the first mismatch. */
#include <string.h>

#include "harness/peer/peer.h"
#include "helpers.h"

static struct tb_peer_host host(void) {
    struct tb_peer_host h;
    tb_peer_host_init(&h, &t_mac_peer, T_IP_PEER, &t_mac_us, T_IP_US);
    return h;
}

/* A frame the peer built, decoded as the stack would see it. */
static struct tb_peer_frame decode(const uint8_t *f, size_t len) {
    struct tb_peer_frame d;
    assert_int_equal(tb_peer_decode(f, len, &d), TB_WIRE_OK);
    return d;
}

static void tcp_frame_parses_and_carries_the_pattern(void **state) {
    (void)state;
    struct tb_peer_host h = host();
    struct tb_peer p;
    tb_peer_init(&p, &h, 40000, 80, 1000);
    struct tb_peer_seg s = {.flags = TB_TCP_SYN, .seq = 1000, .window = 65535, .payload_len = 5};
    s.opts.has_mss = true;
    s.opts.mss = 1460;
    tb_peer_ts_opts(&p, &s.opts);
    uint8_t f[200];
    size_t n = tb_peer_build_tcp(&p, &s, f, sizeof(f));
    assert_true(n >= TB_ETH_MIN_FRAME);
    struct tb_peer_frame d = decode(f, n);
    assert_int_equal(d.layer, TB_PEER_TCP);
    assert_true(tb_mac_equal(&d.eth.dst, &t_mac_us));
    assert_int_equal(d.ip.src, T_IP_PEER);
    assert_int_equal(d.ip.dst, T_IP_US);
    assert_int_equal(d.tcp.src_port, 40000);
    assert_int_equal(d.tcp.dst_port, 80);
    assert_int_equal(d.tcp.opts.mss, 1460);
    assert_int_equal(d.tcp.opts.ts_val, 1001);
    /* Data after a SYN starts at seq + 1 (RFC 9293 §3.4). */
    assert_int_equal(tb_peer_find_pat_mismatch(d.tcp.payload, 5, 1001), 5);
    assert_int_equal(p.snd_max, 1000 + 1 + 5);
    /* The IPv4 identification counts datagrams. */
    assert_int_equal(h.next_ip_ident, 1);
}

static void bad_checksum_is_rejected_by_the_parser(void **state) {
    (void)state;
    struct tb_peer_host h = host();
    struct tb_peer p;
    tb_peer_init(&p, &h, 40000, 80, 1);
    uint8_t f[128];
    size_t n = tb_peer_build_tcp(&p, &(struct tb_peer_seg){.flags = TB_TCP_ACK, .seq = 1, .bad_checksum = true}, f,
                                 sizeof(f));
    struct tb_peer_frame d;
    assert_int_equal(tb_peer_decode(f, n, &d), TB_WIRE_TCP_BAD_CHECKSUM);
    assert_int_equal(d.layer, TB_PEER_TCP);
}

/* Every builder returns 0 and leaves the bytes past cap alone. */
static void builders_never_write_past_cap(void **state) {
    (void)state;
    struct tb_peer_host h = host();
    struct tb_peer p;
    tb_peer_init(&p, &h, 40000, 80, 1);
    struct tb_peer_seg s = {.flags = TB_TCP_ACK, .seq = 1, .payload_len = 100};
    uint8_t f[256];
    for (size_t cap = 0; cap < 14 + 20 + 20 + 100; cap++) {
        memset(f, 0xee, sizeof(f));
        assert_int_equal(tb_peer_build_tcp(&p, &s, f, cap), 0);
        for (size_t i = cap; i < sizeof(f); i++) assert_int_equal(f[i], 0xee);
    }
    assert_int_equal(tb_peer_build_tcp(&p, &s, f, 14 + 20 + 20 + 100), 14 + 20 + 20 + 100);
    for (size_t cap = 0; cap < TB_ETH_MIN_FRAME; cap++) {
        memset(f, 0xee, sizeof(f));
        assert_int_equal(tb_peer_build_arp_request(&h, f, cap), 0);
        assert_int_equal(tb_peer_build_ipv4(&h, h.ip, TB_IPPROTO_UDP, NULL, 0, f, cap), 0);
        for (size_t i = cap; i < sizeof(f); i++) assert_int_equal(f[i], 0xee);
    }
    uint8_t quote[TB_PEER_QUOTE_LEN];
    tb_peer_quote_tcp(&h, 80, 40000, 7, quote);
    size_t icmp_frame = TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + TB_ICMP_HDR_LEN + sizeof(quote);
    assert_int_equal(
        tb_peer_build_icmp_error(&h, h.ip, TB_ICMP_DEST_UNREACH, 3, 0, quote, sizeof(quote), f, icmp_frame - 1), 0);
    assert_int_equal(tb_peer_build_icmp_error(&h, h.ip, TB_ICMP_DEST_UNREACH, 3, 0, quote, sizeof(quote), f, icmp_frame),
                     icmp_frame);
    /* Timestamps and four SACK blocks need 44 option bytes: refused. */
    s.payload_len = 0;
    tb_peer_ts_opts(&p, &s.opts);
    s.opts.sack_count = 4;
    assert_int_equal(tb_peer_build_tcp(&p, &s, f, sizeof(f)), 0);
    /* An option list that would overflow 40 bytes keeps what fitted. */
    struct tb_peer_opt_bytes o = {0};
    for (int i = 0; i < 5; i++) tb_peer_opt_timestamp(&o, 1, 2);   /* 4 x 10 bytes fit, the fifth not */
    assert_true(o.overflow);
    assert_int_equal(o.len, 40);
}

static void option_bytes_are_emitted_in_order(void **state) {
    (void)state;
    struct tb_peer_host h = host();
    struct tb_peer p;
    tb_peer_init(&p, &h, 40000, 80, 1);
    struct tb_peer_opt_bytes o = {0};
    tb_peer_opt_mss(&o, 1460);
    tb_peer_opt_sack_permitted(&o);
    tb_peer_opt_timestamp(&o, 5, 0);
    tb_peer_opt_nop(&o);
    tb_peer_opt_wscale(&o, 7);
    assert_false(o.overflow);
    assert_int_equal(o.len, 20);
    uint8_t f[128];
    size_t n = tb_peer_build_tcp(&p, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .raw_opts = o.b, .raw_opts_len = o.len},
                                 f, sizeof(f));
    struct tb_peer_frame d = decode(f, n);
    assert_int_equal(d.tcp.header_len, 40);
    assert_true(d.tcp.opts.has_mss && d.tcp.opts.sack_permitted && d.tcp.opts.has_ts && d.tcp.opts.has_wscale);
    assert_int_equal(d.tcp.opts.wscale, 7);
    assert_int_equal(d.tcp.opts.ts_val, 5);
}

static void arp_and_icmp_frames_parse(void **state) {
    (void)state;
    struct tb_peer_host h = host();
    uint8_t f[128];
    struct tb_peer_frame d = decode(f, tb_peer_build_arp_request(&h, f, sizeof(f)));
    assert_int_equal(d.layer, TB_PEER_ARP);
    assert_true(tb_mac_is_broadcast(&d.eth.dst));
    assert_int_equal(d.arp.op, TB_ARP_OP_REQUEST);
    assert_int_equal(d.arp.tpa, T_IP_US);
    d = decode(f, tb_peer_build_arp_reply(&h, f, sizeof(f)));
    assert_int_equal(d.arp.op, TB_ARP_OP_REPLY);
    assert_true(tb_mac_equal(&d.arp.tha, &t_mac_us));
    uint8_t quote[TB_PEER_QUOTE_LEN];
    tb_peer_quote_tcp(&h, 80, 40000, 0x12345678u, quote);
    size_t n = tb_peer_build_icmp_error(&h, 0x0a0000feu, TB_ICMP_DEST_UNREACH, TB_ICMP_UNREACH_FRAG_NEEDED, 1200, quote,
                                        sizeof(quote), f, sizeof(f));
    d = decode(f, n);
    assert_int_equal(d.layer, TB_PEER_ICMP);
    assert_int_equal(d.ip.src, 0x0a0000feu);
    assert_int_equal(d.icmp.next_hop_mtu, 1200);
    assert_int_equal(tb_get32(d.icmp.payload + TB_IPV4_HDR_LEN + 4), 0x12345678u);
}

/* What the stack sends moves the peer's view of its sequence space. */
static void learning_follows_the_stack(void **state) {
    (void)state;
    struct tb_peer_host h = host();
    struct tb_peer p;
    tb_peer_init(&p, &h, 40000, 80, 1000);
    struct tb_tcp_repr th = {.src_port = 80, .dst_port = 40000, .seq = 5000, .ack = 1001,
                             .flags = TB_TCP_SYN | TB_TCP_ACK, .window = 29200};
    th.opts.has_ts = true;
    th.opts.ts_val = 77;
    th.opts.has_wscale = true;
    th.opts.wscale = 7;
    tb_peer_learn(&p, &th);
    assert_true(p.have_stack_isn);
    assert_int_equal(p.stack_isn, 5000);
    assert_int_equal(p.rcv_nxt, 5001);
    assert_int_equal(p.stack_snd_max, 5001);
    assert_int_equal(p.stack_ack, 1001);
    assert_int_equal(p.stack_window, 29200);
    assert_true(p.have_stack_syn_opts && p.stack_syn_opts.wscale == 7);
    struct tb_tcp_opts o = {0};
    tb_peer_ts_opts(&p, &o);
    assert_int_equal(o.ts_ecr, 77);
    /* A RST's sequence number says nothing about what was sent. */
    struct tb_tcp_repr rst = {.seq = 90000, .flags = TB_TCP_RST};
    tb_peer_learn(&p, &rst);
    assert_int_equal(p.stack_snd_max, 5001);
    struct tb_tcp_repr data = {.seq = 5001, .flags = TB_TCP_ACK | TB_TCP_FIN, .ack = 1001, .payload_len = 10};
    tb_peer_learn(&p, &data);
    assert_int_equal(p.stack_snd_max, 5012);
    assert_int_equal(p.rcv_nxt, 5001);   /* the driver decides what it accepts */
}

static void expect_names_the_first_mismatch(void **state) {
    (void)state;
    struct tb_tcp_repr th = {.src_port = 80, .dst_port = 40000, .seq = 10, .ack = 20, .flags = TB_TCP_ACK,
                             .window = 100, .payload_len = 3};
    char buf[256];
    struct tb_peer_expect want = {.check = TB_PEER_CHECK_FLAGS | TB_PEER_CHECK_SEQ | TB_PEER_CHECK_ACK,
                                  .flags = TB_TCP_ACK, .seq = 10, .ack = 20};
    assert_null(tb_peer_expect(&th, &want, buf, sizeof(buf)));
    want.ack = 21;
    assert_non_null(tb_peer_expect(&th, &want, buf, sizeof(buf)));
    assert_non_null(strstr(buf, "expected ack 21, not 20"));
    want.ack = 20;
    want.flags_required = TB_TCP_PSH;
    assert_non_null(tb_peer_expect(&th, &want, buf, sizeof(buf)));
    assert_non_null(strstr(buf, "flags P set"));
    want.flags_required = 0;
    want.opts_present = TB_PEER_OPT_TIMESTAMP;
    assert_non_null(tb_peer_expect(&th, &want, buf, sizeof(buf)));
    assert_non_null(strstr(buf, "option TS"));
    /* A short buffer still gets a terminated sentence. */
    char tiny[8];
    assert_non_null(tb_peer_expect(&th, &want, tiny, sizeof(tiny)));
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_frame_parses_and_carries_the_pattern),
        cmocka_unit_test(bad_checksum_is_rejected_by_the_parser),
        cmocka_unit_test(builders_never_write_past_cap),
        cmocka_unit_test(option_bytes_are_emitted_in_order),
        cmocka_unit_test(arp_and_icmp_frames_parse),
        cmocka_unit_test(learning_follows_the_stack),
        cmocka_unit_test(expect_names_the_first_mismatch),
    };
    return cmocka_run_group_tests_name("peer", tests, NULL, NULL);
}
