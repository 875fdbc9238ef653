/* IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2) and fragmentation of our
 * own output: order, duplicates, overlaps, size and pool bounds, the
 * timeout and its ICMP Time Exceeded, and a 3,000-byte ping between two
 * stacks. */
#include <string.h>

#include "helpers.h"
#include "net/stack_internal.h"   /* tb_ipv4_output, for the DF case */

#define PEER_IDENT 0x4242

/* An ICMP echo request of msg_len bytes (header included), data[i] = i*7. */
static size_t build_echo_msg(uint8_t *msg, size_t msg_len, uint16_t seq) {
    static uint8_t data[65536];
    for (size_t i = 0; i < msg_len - TB_ICMP_HDR_LEN; i++) data[i] = (uint8_t)(i * 7);
    struct tb_icmp_repr r = {.type = TB_ICMP_ECHO_REQUEST, .ident = 0x77, .seq = seq, .payload = data,
                             .payload_len = msg_len - TB_ICMP_HDR_LEN};
    return tb_icmp_emit(&r, msg);
}

/* One fragment from the peer: bytes [off, off+len) of the datagram's payload. */
static size_t build_frag(uint8_t *out, uint16_t ident, uint8_t proto, const uint8_t *payload, size_t off, size_t len,
                         bool more, uint8_t tos) {
    struct tb_eth_repr e = {.dst = t_mac_us, .src = t_mac_peer, .ethertype = TB_ETHERTYPE_IPV4};
    tb_eth_emit(&e, out);
    assert_true(off % 8 == 0);
    struct tb_ipv4_repr ip = {.src = T_IP_PEER, .dst = T_IP_US, .protocol = proto, .ttl = 64, .tos = tos,
                              .ident = ident,
                              .flags_frag = (uint16_t)((more ? TB_IPV4_FLAG_MF : 0) | (off / 8)),
                              .total_len = (uint16_t)(TB_IPV4_HDR_LEN + len)};
    tb_ipv4_emit(&ip, out + TB_ETH_HDR_LEN);
    memcpy(out + TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN, payload + off, len);
    size_t n = TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + len;
    if (n < TB_ETH_MIN_FRAME) {
        memset(out + n, 0, TB_ETH_MIN_FRAME - n);
        n = TB_ETH_MIN_FRAME;
    }
    return n;
}

static void send_frag(struct tb_stack *st, tb_time_ns now, uint16_t ident, uint8_t proto, const uint8_t *payload,
                      size_t off, size_t len, bool more) {
    uint8_t f[2048];
    size_t n = build_frag(f, ident, proto, payload, off, len, more, 0);
    t_input(st, now, f, n);
}

static struct tb_stats stats(struct tb_stack *st) {
    struct tb_stats s;
    tb_stack_stats(st, &s);
    return s;
}

static void check(struct tb_stack *st) {
    const char *why = NULL;
    if (!tb_stack_check(st, &why)) fail_msg("stack self-check: %s", why);
}

static struct tb_stack *stack_knowing_peer(struct tb_config *cfg) {
    struct tb_stack *st = t_stack(cfg);
    t_learn_peer(st, 0);
    return st;
}

/* Reassembles output frames (fragments of one datagram, any order) into
 * out; returns the payload length and the first header. */
static size_t reassemble_output(const struct t_frame *f, size_t count, uint8_t *out, struct tb_ipv4_repr *first) {
    size_t total = 0;
    bool seen_last = false;
    uint16_t ident = 0;
    for (size_t i = 0; i < count; i++) {
        struct tb_ipv4_repr ip;
        assert_int_equal(tb_ipv4_parse(f[i].bytes + TB_ETH_HDR_LEN, f[i].len - TB_ETH_HDR_LEN, &ip), TB_WIRE_OK);
        assert_false(ip.flags_frag & TB_IPV4_FLAG_DF);
        size_t off = (size_t)(ip.flags_frag & TB_IPV4_FRAG_OFF_MASK) * 8;
        size_t len = ip.total_len - ip.header_len;
        bool more = ip.flags_frag & TB_IPV4_FLAG_MF;
        if (i == 0) ident = ip.ident;
        assert_int_equal(ip.ident, ident);                 /* RFC 791: one ident per datagram */
        assert_true(ip.total_len <= 1500);
        if (more) assert_int_equal(len % 8, 0);            /* all but the last: 8-octet multiples */
        else {
            seen_last = true;
            total = off + len;
        }
        if (off == 0) *first = ip;
        memcpy(out + off, f[i].bytes + TB_ETH_HDR_LEN + ip.header_len, len);
    }
    assert_true(seen_last);
    return total;
}

/* ---- reassembly ------------------------------------------------------------ */

/* In order: a 2,000-byte echo request in three fragments is answered with
 * the same data, itself fragmented at our MTU. */
static void in_order_fragments_are_reassembled_and_answered(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    static uint8_t msg[2000];
    build_echo_msg(msg, sizeof(msg), 1);
    send_frag(st, 1, PEER_IDENT, TB_IPPROTO_ICMP, msg, 0, 800, true);
    send_frag(st, 2, PEER_IDENT, TB_IPPROTO_ICMP, msg, 800, 800, true);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 0);
    check(st);
    send_frag(st, 3, PEER_IDENT, TB_IPPROTO_ICMP, msg, 1600, 400, false);
    size_t n = t_drain(st, out, 4);
    assert_int_equal(n, 2);   /* 1480 + 520 */
    static uint8_t reply[2000];
    struct tb_ipv4_repr ip;
    assert_int_equal(reassemble_output(out, n, reply, &ip), sizeof(msg));
    assert_int_equal(ip.dst, T_IP_PEER);
    assert_int_equal(reply[0], TB_ICMP_ECHO_REPLY);
    assert_int_equal(tb_csum(reply, sizeof(reply)), 0);
    assert_memory_equal(reply + 4, msg + 4, sizeof(msg) - 4);
    struct tb_stats s = stats(st);
    assert_int_equal(s.ip_frags_rx, 3);
    assert_int_equal(s.ip_reass_ok, 1);
    assert_int_equal(s.ip_frag_ok, 1);
    assert_int_equal(s.ip_frags_tx, 2);
    assert_int_equal(s.icmp_echo_replies_tx, 1);
    t_stack_done(st);
}

static void out_of_order_fragments_are_reassembled(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    static uint8_t msg[1200];
    build_echo_msg(msg, sizeof(msg), 2);
    send_frag(st, 1, PEER_IDENT, TB_IPPROTO_ICMP, msg, 800, 400, false);   /* the last first */
    send_frag(st, 2, PEER_IDENT, TB_IPPROTO_ICMP, msg, 400, 400, true);
    check(st);
    send_frag(st, 3, PEER_IDENT, TB_IPPROTO_ICMP, msg, 0, 400, true);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 1);   /* 1,220 bytes: one frame */
    struct tb_ipv4_repr ip;
    assert_int_equal(tb_ipv4_parse(out[0].bytes + TB_ETH_HDR_LEN, out[0].len - TB_ETH_HDR_LEN, &ip), TB_WIRE_OK);
    assert_int_equal(ip.total_len, TB_IPV4_HDR_LEN + sizeof(msg));
    assert_false(tb_ipv4_is_fragment(&ip));
    assert_memory_equal(out[0].bytes + TB_ETH_HDR_LEN + 20 + 4, msg + 4, sizeof(msg) - 4);
    assert_int_equal(stats(st).ip_reass_ok, 1);
    t_stack_done(st);
}

/* Two datagrams with different idents interleave without mixing. */
static void interleaved_datagrams_are_kept_apart(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    static uint8_t a[800], b[800];
    build_echo_msg(a, sizeof(a), 10);
    build_echo_msg(b, sizeof(b), 11);
    send_frag(st, 1, 1, TB_IPPROTO_ICMP, a, 0, 400, true);
    send_frag(st, 1, 2, TB_IPPROTO_ICMP, b, 400, 400, false);
    send_frag(st, 1, 2, TB_IPPROTO_ICMP, b, 0, 400, true);
    send_frag(st, 1, 1, TB_IPPROTO_ICMP, a, 400, 400, false);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 2);
    struct tb_icmp_repr icmp;
    assert_int_equal(tb_icmp_parse(out[0].bytes + 34, sizeof(b), &icmp), TB_WIRE_OK);
    assert_int_equal(icmp.seq, 11);   /* b completed first */
    assert_int_equal(tb_icmp_parse(out[1].bytes + 34, sizeof(a), &icmp), TB_WIRE_OK);
    assert_int_equal(icmp.seq, 10);
    t_stack_done(st);
}

/* RFC 5722 §4 lets exact duplicates be ignored: they change nothing. */
static void exact_duplicates_are_ignored(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    static uint8_t msg[1200];
    build_echo_msg(msg, sizeof(msg), 3);
    send_frag(st, 1, PEER_IDENT, TB_IPPROTO_ICMP, msg, 0, 400, true);
    send_frag(st, 2, PEER_IDENT, TB_IPPROTO_ICMP, msg, 0, 400, true);
    send_frag(st, 3, PEER_IDENT, TB_IPPROTO_ICMP, msg, 800, 400, false);
    send_frag(st, 4, PEER_IDENT, TB_IPPROTO_ICMP, msg, 800, 400, false);
    check(st);
    send_frag(st, 5, PEER_IDENT, TB_IPPROTO_ICMP, msg, 400, 400, true);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 1);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_duplicate), 2);
    assert_int_equal(stats(st).ip_reass_ok, 1);
    t_stack_done(st);
}

/* Overlaps discard the whole datagram (as RFC 5722 requires for IPv6):
 * a partial overlap, and the same range with different bytes. */
static void overlapping_fragments_discard_the_datagram(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    size_t pool_before = tb_stack_pool_free(st);
    static uint8_t msg[1200];
    build_echo_msg(msg, sizeof(msg), 4);
    send_frag(st, 1, 1, TB_IPPROTO_ICMP, msg, 0, 400, true);
    send_frag(st, 1, 1, TB_IPPROTO_ICMP, msg, 800, 400, false);
    send_frag(st, 2, 1, TB_IPPROTO_ICMP, msg, 392, 16, true);   /* [392, 408) overlaps [0, 400) */
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_overlap), 3);
    assert_int_equal(tb_stack_pool_free(st), pool_before);   /* every buffer came back */
    check(st);

    static uint8_t evil[1200];
    memcpy(evil, msg, sizeof(evil));
    evil[500] ^= 1;
    send_frag(st, 3, 2, TB_IPPROTO_ICMP, msg, 400, 400, true);
    send_frag(st, 3, 2, TB_IPPROTO_ICMP, evil, 400, 400, true);   /* same range, other bytes */
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_overlap), 5);
    /* The rest of datagram 2 no longer completes anything. */
    send_frag(st, 4, 2, TB_IPPROTO_ICMP, msg, 0, 400, true);
    send_frag(st, 4, 2, TB_IPPROTO_ICMP, msg, 800, 400, false);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 0);
    assert_int_equal(stats(st).ip_reass_ok, 0);
    t_stack_done(st);
}

/* Two different ends, bytes past the end, and fragments that are not 8-octet
 * multiples are refused. */
static void inconsistent_and_malformed_fragments_are_refused(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    static uint8_t msg[1200];
    build_echo_msg(msg, sizeof(msg), 5);
    send_frag(st, 1, 1, TB_IPPROTO_ICMP, msg, 800, 400, false);
    send_frag(st, 1, 1, TB_IPPROTO_ICMP, msg, 400, 200, false);   /* a second, shorter end */
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_inconsistent), 2);
    send_frag(st, 2, 2, TB_IPPROTO_ICMP, msg, 400, 400, false);
    send_frag(st, 2, 2, TB_IPPROTO_ICMP, msg, 800, 400, true);    /* beyond the known end */
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_inconsistent), 4);
    send_frag(st, 3, 3, TB_IPPROTO_ICMP, msg, 0, 12, true);       /* MF and not a multiple of 8 */
    assert_int_equal(t_drops(st, TB_DROP_ip_frag_bad_len), 1);
    check(st);
    t_stack_done(st);
}

/* RFC 791 §3.1: nothing beyond 65,535 bytes is ever assembled (the "ping of
 * death"): the datagram is discarded as soon as a fragment reaches past it. */
static void datagrams_beyond_65535_bytes_are_discarded(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    static uint8_t big[65536 + 64];
    memset(big, 0xab, sizeof(big));
    send_frag(st, 1, 9, TB_IPPROTO_ICMP, big, 0, 64, true);
    /* Offset 65512 + 8 bytes ends at 65520: 65,540 bytes with the header. */
    send_frag(st, 1, 9, TB_IPPROTO_ICMP, big, 65512, 8, false);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_too_big), 2);
    /* Alone, it creates no state. */
    send_frag(st, 1, 10, TB_IPPROTO_ICMP, big, 65512, 24, false);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_too_big), 3);
    /* Exactly 65,535 bytes is allowed: the last byte at 65514. */
    send_frag(st, 1, 11, TB_IPPROTO_ICMP, big, 65512, 3, false);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_too_big), 3);
    check(st);
    t_stack_done(st);
}

/* RFC 1122 §3.3.2: an incomplete datagram is dropped at the timeout, and the
 * source gets Time Exceeded code 1 only if fragment zero arrived; the
 * message quotes fragment zero's header and 8 bytes (RFC 792). */
static void timeout_sends_time_exceeded_only_with_fragment_zero(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    size_t pool_before = tb_stack_pool_free(st);
    static uint8_t msg[1200];
    build_echo_msg(msg, sizeof(msg), 6);
    uint8_t f0[2048];
    build_frag(f0, 1, TB_IPPROTO_ICMP, msg, 0, 400, true, 0);
    t_input(st, TB_NS_PER_S, f0, TB_ETH_HDR_LEN + 20 + 400);
    send_frag(st, 2 * TB_NS_PER_S, 2, TB_IPPROTO_ICMP, msg, 400, 400, true);   /* no fragment zero */
    assert_int_equal(tb_stack_next_deadline(st), TB_NS_PER_S + cfg.ip_reass_timeout_ns);
    tb_stack_tick(st, TB_NS_PER_S + cfg.ip_reass_timeout_ns - 1);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 0);
    tb_stack_tick(st, TB_NS_PER_S + cfg.ip_reass_timeout_ns);
    assert_int_equal(t_drain(st, out, 4), 1);
    struct tb_ipv4_repr ip;
    assert_int_equal(tb_ipv4_parse(out[0].bytes + TB_ETH_HDR_LEN, out[0].len - TB_ETH_HDR_LEN, &ip), TB_WIRE_OK);
    assert_int_equal(ip.dst, T_IP_PEER);
    assert_int_equal(ip.protocol, TB_IPPROTO_ICMP);
    struct tb_icmp_repr icmp;
    assert_int_equal(tb_icmp_parse(out[0].bytes + 34, ip.total_len - 20, &icmp), TB_WIRE_OK);
    assert_int_equal(icmp.type, TB_ICMP_TIME_EXCEEDED);
    assert_int_equal(icmp.code, TB_ICMP_TIME_EXCEEDED_REASS);
    assert_int_equal(icmp.payload_len, 28);
    assert_memory_equal(icmp.payload, f0 + TB_ETH_HDR_LEN, 28);
    struct tb_stats s = stats(st);
    assert_int_equal(s.ip_reass_timeouts, 1);
    assert_int_equal(s.icmp_time_exceeded_tx, 1);
    assert_int_equal(s.drops[TB_DROP_ip_reass_timeout], 1);
    /* The other datagram times out a second later, silently. */
    tb_stack_tick(st, 2 * TB_NS_PER_S + cfg.ip_reass_timeout_ns);
    assert_int_equal(t_drain(st, out, 4), 0);
    s = stats(st);
    assert_int_equal(s.ip_reass_timeouts, 2);
    assert_int_equal(s.icmp_time_exceeded_tx, 1);
    assert_int_equal(tb_stack_pool_free(st), pool_before);
    assert_int_equal(tb_stack_next_deadline(st) > 3 * TB_NS_PER_S + cfg.ip_reass_timeout_ns, true);
    t_stack_done(st);
}

/* RFC 1122 §3.2.2: no ICMP error about an ICMP error, even fragmented. */
static void no_time_exceeded_about_an_icmp_error(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t msg[64] = {TB_ICMP_DEST_UNREACH, TB_ICMP_UNREACH_PORT};
    send_frag(st, 1, 5, TB_IPPROTO_ICMP, msg, 0, 16, true);
    tb_stack_tick(st, 1 + cfg.ip_reass_timeout_ns);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 0);
    assert_int_equal(stats(st).ip_reass_timeouts, 1);
    t_stack_done(st);
}

/* A flood of incomplete datagrams takes at most ip_reass_max_bufs buffers
 * and ip_reass_max_datagrams entries; ping and TCP still work. */
static void flood_of_incomplete_datagrams_cannot_exhaust_the_pool(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    size_t pool_before = tb_stack_pool_free(st);
    uint8_t data[64];
    memset(data, 0x5a, sizeof(data));
    for (uint16_t id = 0; id < 500; id++) {
        send_frag(st, 1, id, TB_IPPROTO_ICMP, data, 0, 16, true);
        send_frag(st, 1, id, TB_IPPROTO_TCP, data, 16, 16, true);
    }
    check(st);
    uint32_t max_bufs = cfg.buf_count / 8;   /* the default share */
    assert_int_equal(pool_before - tb_stack_pool_free(st), max_bufs);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_full), 1000 - max_bufs);
    /* Ping answers. */
    uint8_t f[128];
    static const uint8_t echo[16] = {1, 2, 3};
    size_t n = t_build_echo(f, TB_ICMP_ECHO_REQUEST, T_IP_PEER, T_IP_US, 1, 1, echo, sizeof(echo));
    t_input(st, 2, f, n);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 1);
    /* TCP opens. */
    assert_true(tb_tcp_connect(st, 3, T_IP_PEER, 80) >= 0);
    assert_int_equal(t_drain(st, out, 4), 1);
    /* The entry bound holds when buffers are not the limit. */
    t_stack_done(st);

    cfg.ip_reass_max_datagrams = 3;
    st = stack_knowing_peer(&cfg);
    for (uint16_t id = 0; id < 10; id++) send_frag(st, 1, id, TB_IPPROTO_ICMP, data, 0, 16, true);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_full), 7);
    check(st);
    /* Held fragments are released at teardown (t_stack_done checks the pool). */
    t_stack_done(st);
}

/* A TCP segment in fragments reaches TCP contiguous: the SYN is answered. */
static void fragmented_tcp_syn_reaches_tcp(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    assert_true(tb_tcp_listen(st, 80, 0) >= 0);
    uint8_t seg[64];
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = 40000;
    r.dst_port = 80;
    r.seq = 1000;
    r.flags = TB_TCP_SYN;
    r.window = 65535;
    r.opts.has_mss = true;
    r.opts.mss = 1460;
    size_t hl = tb_tcp_emit_header(&r, seg);
    assert_int_equal(hl, 24);
    uint32_t sum = tb_ipv4_pseudo_sum(T_IP_PEER, T_IP_US, TB_IPPROTO_TCP, (uint16_t)hl);
    tb_put16(seg + 16, tb_csum_fold(tb_csum_partial(seg, hl, sum)));
    send_frag(st, 1, 3, TB_IPPROTO_TCP, seg, 8, 16, false);
    send_frag(st, 1, 3, TB_IPPROTO_TCP, seg, 0, 8, true);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 1);
    struct tb_ipv4_repr ip;
    assert_int_equal(tb_ipv4_parse(out[0].bytes + TB_ETH_HDR_LEN, out[0].len - TB_ETH_HDR_LEN, &ip), TB_WIRE_OK);
    assert_int_equal(ip.protocol, TB_IPPROTO_TCP);
    assert_int_equal(out[0].bytes[TB_ETH_HDR_LEN + ip.header_len + 13], TB_TCP_SYN | TB_TCP_ACK);
    assert_int_equal(stats(st).ip_reass_ok, 1);
    t_stack_done(st);
}

/* Bigger than one buffer, only ICMP echo can take the chain: a 2,500-byte
 * TCP segment is dropped with its reason. */
static void reassembled_tcp_bigger_than_a_buffer_is_a_counted_drop(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    size_t pool_before = tb_stack_pool_free(st);
    static uint8_t seg[2500];
    memset(seg, 0, sizeof(seg));
    send_frag(st, 1, 4, TB_IPPROTO_TCP, seg, 0, 1480, true);
    send_frag(st, 1, 4, TB_IPPROTO_TCP, seg, 1480, 1020, false);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_exceeds_buf), 1);
    assert_int_equal(tb_stack_pool_free(st), pool_before);
    t_stack_done(st);
}

static void reassembly_off_drops_fragments(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    cfg.ip_reass_max_datagrams = 0;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    uint8_t data[16] = {0};
    send_frag(st, 1, 1, TB_IPPROTO_ICMP, data, 0, 16, true);
    assert_int_equal(t_drops(st, TB_DROP_ip_reass_off), 1);
    t_stack_done(st);
}

static void reassembly_config_is_checked(void **state) {
    (void)state;
    struct tb_config cfg;
    const char *why = NULL;
    t_config(&cfg);
    cfg.ip_reass_timeout_ns = 10 * TB_NS_PER_S;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL);
    assert_non_null(strstr(why, "ip_reass_timeout_ns"));
    t_config(&cfg);
    cfg.ip_reass_max_bufs = cfg.buf_count / 2 + 1;   /* more than half the pool */
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL);
    assert_non_null(strstr(why, "ip_reass_max_bufs"));
    t_config(&cfg);
    cfg.ip_reass_max_datagrams = 5000;
    assert_int_equal(tb_config_check(&cfg, &why), TB_ERR_INVAL);
    assert_non_null(strstr(why, "ip_reass_max_datagrams"));
    t_config(&cfg);
    cfg.ip_reass_max_bufs = cfg.buf_count / 2;
    assert_int_equal(tb_config_check(&cfg, &why), TB_OK);
}

/* ---- fragmentation of our output ----------------------------------------- */

/* RFC 791 §3.2: fragments carry 8-octet-aligned offsets, MF on all but the
 * last, one identification; DF clear. */
static void our_ping_beyond_the_mtu_is_fragmented(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    cfg.mtu = 576;
    struct tb_stack *st = stack_knowing_peer(&cfg);
    assert_int_equal(tb_ping_send(st, 5, T_IP_PEER, 9, 1, 1500), TB_OK);
    struct t_frame out[8];
    size_t n = t_drain(st, out, 8);
    assert_int_equal(n, 3);   /* 1,508 bytes of ICMP in 552 + 552 + 404 */
    static uint8_t msg[1508];
    struct tb_ipv4_repr ip;
    assert_int_equal(reassemble_output(out, n, msg, &ip), sizeof(msg));
    for (size_t i = 0; i < n; i++) assert_true(out[i].len <= (size_t)TB_ETH_HDR_LEN + cfg.mtu);
    struct tb_icmp_repr icmp;
    assert_int_equal(tb_icmp_parse(msg, sizeof(msg), &icmp), TB_WIRE_OK);
    assert_int_equal(icmp.type, TB_ICMP_ECHO_REQUEST);
    assert_int_equal(icmp.payload_len, 1500);
    for (size_t i = 8; i < 1500; i++) assert_int_equal(icmp.payload[i], (uint8_t)i);
    struct tb_stats s = stats(st);
    assert_int_equal(s.ip_frag_ok, 1);
    assert_int_equal(s.ip_frags_tx, 3);
    t_stack_done(st);
}

/* DF set and beyond the MTU: dropped, with its reason (TCP's PMTUD relies
 * on DF, RFC 1191). */
static void df_set_beyond_the_mtu_is_a_counted_drop(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    struct tb_stack *st = stack_knowing_peer(&cfg);
    size_t pool_before = tb_stack_pool_free(st);
    struct tb_buf *b = tb_net_alloc(st);
    assert_non_null(b);
    assert_non_null(tb_buf_put(b, 1481));
    memset(b->data, 0, 1481);
    assert_int_equal(tb_ipv4_output(st, 1, b, T_IP_PEER, TB_IPPROTO_TCP, TB_IPV4_FLAG_DF, 0), TB_ERR_MSGSIZE);
    assert_int_equal(t_drops(st, TB_DROP_tx_exceeds_mtu), 1);
    struct t_frame out[2];
    assert_int_equal(t_drain(st, out, 2), 0);
    assert_int_equal(tb_stack_pool_free(st), pool_before);
    t_stack_done(st);
}

/* ---- two stacks ------------------------------------------------------------ */

/* Moves frames both ways until both stacks are quiet. */
/* All fragments or none: more fragments than the ARP queue holds for an
 * unresolved neighbour (or than the tx queue has room for) drop the whole
 * datagram, counted, instead of a useless tail; resolution starts anyway. */
static void fragments_that_cannot_all_wait_are_not_sent(void **state) {
    (void)state;
    struct tb_config cfg;
    t_config(&cfg);
    cfg.mtu = 576;
    cfg.arp_pending_per_entry = 4;
    struct tb_stack *st = t_stack(&cfg);   /* the peer is unknown: ARP first */
    assert_int_equal(tb_ping_send(st, 5, T_IP_PEER, 9, 1, 3000), TB_ERR_QFULL);   /* 6 fragments */
    struct t_frame out[8];
    size_t n = t_drain(st, out, 8);
    assert_int_equal(n, 1);   /* the ARP request only */
    struct tb_stats s = stats(st);
    assert_int_equal(s.drops[TB_DROP_tx_frag_no_room], 1);
    assert_int_equal(s.arp_requests_tx, 1);
    assert_int_equal(s.ip_frags_tx, 0);
    assert_int_equal(tb_ping_send(st, 6, T_IP_PEER, 9, 2, 1500), TB_OK);   /* 3 fragments wait for ARP */
    assert_int_equal(stats(st).arp_pending_queued, 3);
    t_stack_done(st);
}

static void exchange(struct tb_stack *a, struct tb_stack *b, tb_time_ns now) {
    for (int round = 0; round < 100; round++) {
        size_t moved = 0;
        struct tb_stack *from[2] = {a, b}, *to[2] = {b, a};
        for (int d = 0; d < 2; d++) {
            struct tb_buf *f;
            while (tb_stack_drain_tx(from[d], &f, 1) == 1) {
                size_t len = tb_buf_chain_len(f);
                struct tb_buf *rx = tb_stack_alloc_rx(to[d], len);
                assert_non_null(rx);
                tb_buf_copy_out(f, 0, rx->data, len);
                tb_buf_free(f);
                tb_stack_input(to[d], now, rx);
                moved++;
            }
        }
        if (moved == 0) return;
    }
    fail_msg("the stacks never went quiet");
}

static void ping_between_stacks(uint32_t payload_len, uint32_t expect_frags) {
    struct tb_config ca, cb;
    t_config(&ca);
    ca.buf_count = 256;
    ca.tx_queue_len = 128;
    ca.ip_reass_max_bufs = 64;
    struct tb_stack *a = t_stack(&ca);
    cb = ca;
    cb.seed = 43;
    cb.mac = t_mac_peer;
    cb.ipv4_addr = T_IP_PEER;
    struct tb_stack *b = t_stack(&cb);
    /* Resolve ARP with a small ping first: the pending queue keeps only a few frames. */
    assert_int_equal(tb_ping_send(a, 1, T_IP_PEER, 7, 0, 8), TB_OK);
    exchange(a, b, 1);
    struct tb_event ev[4];
    assert_int_equal(tb_stack_events(a, ev, 4), 1);

    assert_int_equal(tb_ping_send(a, 1000, T_IP_PEER, 7, 1, payload_len), TB_OK);
    exchange(a, b, 2000);
    assert_int_equal(tb_stack_events(a, ev, 4), 1);
    assert_int_equal(ev[0].type, TB_EV_ECHO_REPLY);
    assert_int_equal(ev[0].u.echo.seq, 1);
    assert_true(ev[0].u.echo.payload_ok);
    assert_int_equal(ev[0].u.echo.payload_len, payload_len);
    assert_int_equal(ev[0].u.echo.rtt_ns, 1000);
    struct tb_stats sa = stats(a), sb = stats(b);
    assert_int_equal(sa.ip_frags_tx, expect_frags);   /* the request */
    assert_int_equal(sb.ip_reass_ok, 1);
    assert_int_equal(sb.ip_frags_tx, expect_frags);   /* the reply */
    assert_int_equal(sa.ip_reass_ok, 1);
    assert_int_equal(sa.rx_dropped + sb.rx_dropped, 0);
    t_stack_done(a);
    t_stack_done(b);
}

/* A 3,000-byte ping: fragmented request, reassembled, fragmented reply,
 * reassembled, intact. */
static void ping_of_3000_bytes_between_two_stacks(void **state) {
    (void)state;
    ping_between_stacks(3000, 3);
}

/* The largest ping: a 65,535-byte datagram each way. */
static void largest_ping_between_two_stacks(void **state) {
    (void)state;
    ping_between_stacks(65507, 45);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_fragments_are_reassembled_and_answered),
        cmocka_unit_test(out_of_order_fragments_are_reassembled),
        cmocka_unit_test(interleaved_datagrams_are_kept_apart),
        cmocka_unit_test(exact_duplicates_are_ignored),
        cmocka_unit_test(overlapping_fragments_discard_the_datagram),
        cmocka_unit_test(inconsistent_and_malformed_fragments_are_refused),
        cmocka_unit_test(datagrams_beyond_65535_bytes_are_discarded),
        cmocka_unit_test(timeout_sends_time_exceeded_only_with_fragment_zero),
        cmocka_unit_test(no_time_exceeded_about_an_icmp_error),
        cmocka_unit_test(flood_of_incomplete_datagrams_cannot_exhaust_the_pool),
        cmocka_unit_test(fragmented_tcp_syn_reaches_tcp),
        cmocka_unit_test(reassembled_tcp_bigger_than_a_buffer_is_a_counted_drop),
        cmocka_unit_test(reassembly_off_drops_fragments),
        cmocka_unit_test(reassembly_config_is_checked),
        cmocka_unit_test(our_ping_beyond_the_mtu_is_fragmented),
        cmocka_unit_test(df_set_beyond_the_mtu_is_a_counted_drop),
        cmocka_unit_test(fragments_that_cannot_all_wait_are_not_sent),
        cmocka_unit_test(ping_of_3000_bytes_between_two_stacks),
        cmocka_unit_test(largest_ping_between_two_stacks),
    };
    return cmocka_run_group_tests_name("ipfrag", tests, NULL, NULL);
}
