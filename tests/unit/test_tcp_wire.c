/* Unit tests for the TCP header and option parser/emitter in stack/wire/tcp.c:
 * tb_tcp_parse, tb_tcp_opts_len, tb_tcp_emit_header (RFC 9293 §3.1 header,
 * §3.2 MSS; RFC 7323 window scale and timestamps; RFC 2018 SACK) and the
 * buffer-chain checksum tb_csum_chain (RFC 1071). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tcpbed/buf.h"
#include "tcpbed/wire.h"
#include "tcpbed/assert.h"

/* tb_peer_tcp_checksum: the TCP checksum over the pseudo-header (RFC 9293
 * §3.1), the code every test peer uses. */
#include "harness/peer/peer.h"

/* ---- helpers ------------------------------------------------------------ */

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

#define SRC_IP IP(10, 0, 0, 1)
#define DST_IP IP(10, 0, 0, 2)
#define TCP_MAX_HDR (TB_TCP_HDR_LEN + TB_TCP_MAX_OPT_LEN)   /* 60: data offset 15 */
#define CSUM_OFF 16                                          /* RFC 9293 §3.1 */

/* Deterministic pseudo-random numbers (Knuth's MMIX LCG) so every run tests
 * the same inputs and a failure can be replayed; never rand(). */
struct lcg { uint64_t s; };

static uint32_t lcg_next(struct lcg *g) {
    g->s = g->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g->s >> 32);   /* high bits: the low ones have short periods */
}

static void lcg_fill(struct lcg *g, uint8_t *p, size_t len) {
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)lcg_next(g);
}

/* A heap copy of exactly len bytes: ASan then reports any read past len,
 * which a stack or oversized buffer would hide. Caller frees. malloc(0) may
 * return NULL; the parser must not touch the pointer when len is 0 anyway. */
static uint8_t *exact_copy(const uint8_t *p, size_t len) {
    uint8_t *copy = malloc(len);
    if (len > 0) {
        assert_non_null(copy);
        memcpy(copy, p, len);
    }
    return copy;
}

static void fill_pattern(uint8_t *p, size_t len, uint8_t seed) {
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(seed + 7 * i);
}


/* Parses seg[0..len) from an exact-size heap copy, so the parser can only
 * read what it was given. Fills *r (if OK) and returns the result; the
 * payload pointer is translated back into seg. */
static enum tb_wire_err parse_exact(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst,
                                   struct tb_tcp_repr *r) {
    uint8_t *copy = exact_copy(seg, len);
    enum tb_wire_err err = tb_tcp_parse(copy, len, src, dst, r);
    if (err == TB_WIRE_OK) {
        /* The payload must point into the copy, right after the header. */
        assert_ptr_equal(r->payload, copy + r->header_len);
        r->payload = seg + (r->payload - copy);
    }
    free(copy);
    return err;
}

/* Emits r's header into out, appends the payload and writes the checksum.
 * Returns the segment length. */
static size_t build_segment(const struct tb_tcp_repr *r, const uint8_t *payload, size_t payload_len, uint8_t *out) {
    size_t hl = tb_tcp_emit_header(r, out);
    if (payload_len > 0) memcpy(out + hl, payload, payload_len);
    tb_peer_tcp_checksum(out, hl + payload_len, SRC_IP, DST_IP);
    return hl + payload_len;
}

/* A segment with a hand-written option area: a 20-byte base header, then
 * opt_len option bytes (a multiple of 4), then the payload; checksummed, so
 * a test exercises the option parser and not the checksum check. */
static size_t build_raw(uint8_t *out, uint8_t flags, const uint8_t *opts, size_t opt_len, const uint8_t *payload,
                        size_t payload_len) {
    assert_int_equal(opt_len % 4, 0);
    assert_true(opt_len <= TB_TCP_MAX_OPT_LEN);
    const struct tb_tcp_repr r = {.src_port = 1234, .dst_port = 80, .seq = 1000, .ack = 2000,
                                  .flags = flags, .window = 8192};
    tb_tcp_emit_header(&r, out);
    out[12] = (uint8_t)(((TB_TCP_HDR_LEN + opt_len) / 4) << 4);
    if (opt_len > 0) memcpy(out + TB_TCP_HDR_LEN, opts, opt_len);
    if (payload_len > 0) memcpy(out + TB_TCP_HDR_LEN + opt_len, payload, payload_len);
    size_t len = TB_TCP_HDR_LEN + opt_len + payload_len;
    tb_peer_tcp_checksum(out, len, SRC_IP, DST_IP);
    return len;
}

/* What the parser should report for options emitted with `flags`: a SYN
 * carries MSS, SACK-permitted, timestamps and window scale; any other
 * segment timestamps and SACK blocks (the emitter's documented layout). */
static struct tb_tcp_opts expected_opts(const struct tb_tcp_opts *in, uint8_t flags) {
    struct tb_tcp_opts o;
    memset(&o, 0, sizeof(o));
    o.has_ts = in->has_ts;
    if (in->has_ts) {
        o.ts_val = in->ts_val;
        o.ts_ecr = in->ts_ecr;
    }
    if (flags & TB_TCP_SYN) {
        o.has_mss = in->has_mss;
        if (in->has_mss) o.mss = in->mss;
        o.has_wscale = in->has_wscale;
        if (in->has_wscale) o.wscale = in->wscale;
        o.sack_permitted = in->sack_permitted;
    } else {
        o.sack_count = in->sack_count;
        for (int b = 0; b < in->sack_count; b++) o.sack[b] = in->sack[b];
    }
    return o;
}

static void assert_opts_equal(const struct tb_tcp_opts *want, const struct tb_tcp_opts *got) {
    assert_int_equal(got->has_mss, want->has_mss);
    if (want->has_mss) assert_int_equal(got->mss, want->mss);
    assert_int_equal(got->has_wscale, want->has_wscale);
    if (want->has_wscale) assert_int_equal(got->wscale, want->wscale);
    assert_int_equal(got->sack_permitted, want->sack_permitted);
    assert_int_equal(got->has_ts, want->has_ts);
    if (want->has_ts) {
        assert_int_equal(got->ts_val, want->ts_val);
        assert_int_equal(got->ts_ecr, want->ts_ecr);
    }
    assert_int_equal(got->sack_count, want->sack_count);
    for (int b = 0; b < want->sack_count; b++) {
        assert_int_equal(got->sack[b].left, want->sack[b].left);
        assert_int_equal(got->sack[b].right, want->sack[b].right);
    }
    assert_int_equal(got->unknown_count, want->unknown_count);
}

/* Header fields (not options, header_len or payload) equal. */
static void assert_fields_equal(const struct tb_tcp_repr *want, const struct tb_tcp_repr *got) {
    assert_int_equal(got->src_port, want->src_port);
    assert_int_equal(got->dst_port, want->dst_port);
    assert_int_equal(got->seq, want->seq);
    assert_int_equal(got->ack, want->ack);
    assert_int_equal(got->flags, want->flags);
    assert_int_equal(got->window, want->window);
    assert_int_equal(got->urgent, want->urgent);
}

/* Emits r plus payload, parses it back and checks every field, every option,
 * the header length and the payload. */
static void roundtrip(const struct tb_tcp_repr *r, const uint8_t *payload, size_t payload_len) {
    size_t opt_len = tb_tcp_opts_len(&r->opts, r->flags);
    assert_true(opt_len <= TB_TCP_MAX_OPT_LEN);
    uint8_t *seg = malloc(TCP_MAX_HDR + payload_len);
    assert_non_null(seg);
    size_t len = build_segment(r, payload, payload_len, seg);
    assert_int_equal(len, TB_TCP_HDR_LEN + opt_len + payload_len);

    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_fields_equal(r, &got);
    assert_int_equal(got.header_len, TB_TCP_HDR_LEN + opt_len);
    assert_int_equal(got.header_len % 4, 0);
    struct tb_tcp_opts want = expected_opts(&r->opts, r->flags);
    assert_opts_equal(&want, &got.opts);
    assert_ptr_equal(got.payload, seg + got.header_len);
    assert_int_equal(got.payload_len, payload_len);
    if (payload_len > 0) assert_memory_equal(got.payload, payload, payload_len);
    free(seg);
}

/* SYN options from a 4-bit mask: 1 MSS, 2 SACK-permitted, 4 timestamps, 8 WS. */
#define OPT_MSS 1u
#define OPT_SACKOK 2u
#define OPT_TS 4u
#define OPT_WS 8u
static struct tb_tcp_opts syn_opts(unsigned mask) {
    struct tb_tcp_opts o;
    memset(&o, 0, sizeof(o));
    o.has_mss = (mask & OPT_MSS) != 0;
    o.mss = (uint16_t)(536 + 97 * mask);
    o.sack_permitted = (mask & OPT_SACKOK) != 0;
    o.has_ts = (mask & OPT_TS) != 0;
    o.ts_val = 0x80000000u | mask;
    o.ts_ecr = 0xdeadbeefu;
    o.has_wscale = (mask & OPT_WS) != 0;
    o.wscale = (uint8_t)(mask <= 14 ? mask : 14);   /* RFC 7323 §2.3: at most 14 */
    return o;
}

/* ---- round trips (RFC 9293 §3.1) ----------------------------------------- */

/* Every combination of the four SYN options, with and without payload
 * (a SYN may carry data, e.g. TCP Fast Open), under several SYN flag sets. */
static void test_tcp_roundtrip_syn_every_option_combination(void **state) {
    (void)state;
    static const uint8_t flag_sets[] = {
        TB_TCP_SYN, TB_TCP_SYN | TB_TCP_ACK, TB_TCP_SYN | TB_TCP_ECE | TB_TCP_CWR,
        TB_TCP_SYN | TB_TCP_ACK | TB_TCP_ECE, TB_TCP_SYN | TB_TCP_FIN | TB_TCP_PSH | TB_TCP_URG,
    };
    static const size_t payload_lens[] = {0, 1, 2, 7, 64, 1460};
    uint8_t payload[1460];
    fill_pattern(payload, sizeof(payload), 0x3c);
    for (unsigned mask = 0; mask < 16; mask++) {
        for (size_t f = 0; f < TB_ARRAY_LEN(flag_sets); f++) {
            for (size_t p = 0; p < TB_ARRAY_LEN(payload_lens); p++) {
                struct tb_tcp_repr r;
                memset(&r, 0, sizeof(r));
                r.src_port = (uint16_t)(40000 + mask);
                r.dst_port = 443;
                r.seq = 0x9abcdef0u + mask;
                r.ack = (flag_sets[f] & TB_TCP_ACK) ? 0x13579bdfu : 0;
                r.flags = flag_sets[f];
                r.window = 64240;
                r.urgent = (flag_sets[f] & TB_TCP_URG) ? 3 : 0;
                r.header_len = 0xdead;      /* ignored by the emitter */
                r.opts = syn_opts(mask);
                roundtrip(&r, payload, payload_lens[p]);
            }
        }
    }
}

/* Non-SYN: timestamps on/off times 0..4 SACK blocks. A header holds at most
 * 40 option bytes (data offset <= 15), so timestamps (12) plus four blocks
 * (4 + 32) cannot be emitted: that one combination is checked to exceed 40
 * and skipped; every other must fit. */
static void test_tcp_roundtrip_non_syn_timestamps_and_sack_blocks(void **state) {
    (void)state;
    static const uint8_t flag_sets[] = {
        TB_TCP_ACK, TB_TCP_ACK | TB_TCP_PSH, TB_TCP_ACK | TB_TCP_FIN, TB_TCP_RST, TB_TCP_RST | TB_TCP_ACK,
        0, TB_TCP_ACK | TB_TCP_URG | TB_TCP_PSH, TB_TCP_ACK | TB_TCP_ECE | TB_TCP_CWR,
    };
    static const size_t payload_lens[] = {0, 1, 5, 100, 1448};
    uint8_t payload[1448];
    struct lcg g = {0x7cb1};
    lcg_fill(&g, payload, sizeof(payload));
    unsigned too_long = 0;
    for (int ts = 0; ts <= 1; ts++) {
        for (int blocks = 0; blocks <= TB_TCP_MAX_SACK_BLOCKS; blocks++) {
            struct tb_tcp_opts o;
            memset(&o, 0, sizeof(o));
            o.has_ts = ts != 0;
            o.ts_val = lcg_next(&g);
            o.ts_ecr = lcg_next(&g);
            o.sack_count = (uint8_t)blocks;
            for (int b = 0; b < blocks; b++) {
                o.sack[b].left = lcg_next(&g);
                o.sack[b].right = o.sack[b].left + 1 + (lcg_next(&g) & 0xffff);
            }
            size_t opt_len = tb_tcp_opts_len(&o, TB_TCP_ACK);
            if (opt_len > TB_TCP_MAX_OPT_LEN) {
                assert_true(ts && blocks == 4);
                assert_int_equal(opt_len, 48);
                too_long++;
                continue;
            }
            for (size_t f = 0; f < TB_ARRAY_LEN(flag_sets); f++) {
                for (size_t p = 0; p < TB_ARRAY_LEN(payload_lens); p++) {
                    struct tb_tcp_repr r;
                    memset(&r, 0, sizeof(r));
                    r.src_port = 80;
                    r.dst_port = (uint16_t)(50000 + f);
                    r.seq = lcg_next(&g);
                    r.ack = lcg_next(&g);
                    r.flags = flag_sets[f];
                    r.window = (uint16_t)lcg_next(&g);
                    r.urgent = (flag_sets[f] & TB_TCP_URG) ? (uint16_t)payload_lens[p] : 0;
                    r.opts = o;
                    roundtrip(&r, payload, payload_lens[p]);
                }
            }
        }
    }
    assert_int_equal(too_long, 1);
}

/* Extreme field values: every field all zeros and all ones, all eight flag
 * bits (RFC 9293 §3.1 plus CWR/ECE from RFC 3168). */
static void test_tcp_roundtrip_extreme_field_values(void **state) {
    (void)state;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    roundtrip(&r, NULL, 0);

    r.src_port = 0xffff;
    r.dst_port = 0xffff;
    r.seq = 0xffffffffu;
    r.ack = 0xffffffffu;
    r.flags = 0xff;
    r.window = 0xffff;
    r.urgent = 0xffff;
    r.opts = syn_opts(OPT_MSS | OPT_SACKOK | OPT_TS | OPT_WS);
    r.opts.mss = 0xffff;
    r.opts.ts_val = 0xffffffffu;
    r.opts.ts_ecr = 0xffffffffu;
    uint8_t payload[3] = {0xff, 0xff, 0xff};
    roundtrip(&r, payload, sizeof(payload));

    /* Each single flag alone; only SYN changes the option layout. */
    for (int bit = 0; bit < 8; bit++) {
        memset(&r, 0, sizeof(r));
        r.flags = (uint8_t)(1u << bit);
        r.seq = 0x01020304u;
        r.opts.has_ts = true;
        r.opts.ts_val = 7;
        r.opts.ts_ecr = 9;
        roundtrip(&r, payload, 1);
    }
}

/* ---- option lengths and layout ------------------------------------------ */

/* tb_tcp_opts_len: exact sizes, padded to 4, and at most 40 except for
 * timestamps + 4 SACK blocks. Options that do not belong to the segment kind
 * (SACK blocks on a SYN; MSS, SACK-permitted and WS elsewhere) take no room. */
static void test_tcp_opts_len_values(void **state) {
    (void)state;
    /* Indexed by the OPT_* mask: MSS 4; SACK-permitted alone 4 (NOP NOP
     * 4 2); timestamps 12 with or without SACK-permitted (4 2 8 10 ...
     * replaces the NOP NOP); WS 4 (NOP 3 3 ws). */
    static const size_t syn_want[16] = {0, 4, 4, 8, 12, 16, 12, 16, 4, 8, 8, 12, 16, 20, 16, 20};
    for (unsigned mask = 0; mask < 16; mask++) {
        struct tb_tcp_opts o = syn_opts(mask);
        o.sack_count = 3;   /* ignored on a SYN */
        assert_int_equal(tb_tcp_opts_len(&o, TB_TCP_SYN), syn_want[mask]);
        assert_int_equal(tb_tcp_opts_len(&o, TB_TCP_SYN | TB_TCP_ACK), syn_want[mask]);
        assert_int_equal(syn_want[mask] % 4, 0);
    }
    static const size_t want[2][5] = {{0, 12, 20, 28, 36}, {12, 24, 32, 40, 48}};
    for (int ts = 0; ts <= 1; ts++) {
        for (int blocks = 0; blocks <= TB_TCP_MAX_SACK_BLOCKS; blocks++) {
            struct tb_tcp_opts o;
            memset(&o, 0, sizeof(o));
            o.has_ts = ts != 0;
            o.sack_count = (uint8_t)blocks;
            o.has_mss = o.has_wscale = o.sack_permitted = true;   /* ignored off SYN */
            size_t n = tb_tcp_opts_len(&o, TB_TCP_ACK);
            assert_int_equal(n, want[ts][blocks]);
            assert_int_equal(n % 4, 0);
            assert_int_equal(tb_tcp_opts_len(&o, 0), n);
            assert_int_equal(tb_tcp_opts_len(&o, TB_TCP_ACK | TB_TCP_FIN | TB_TCP_PSH), n);
            if (!(ts && blocks == 4)) assert_true(n <= TB_TCP_MAX_OPT_LEN);
        }
    }
}

/* Linux's SYN layout (tcp_options_write): MSS, SACK-permitted merged with
 * timestamps, NOP + window scale: 20 option bytes, data offset 10. */
static void test_tcp_emit_linux_syn_layout(void **state) {
    (void)state;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = 40000;
    r.dst_port = 80;
    r.seq = 0x12345678u;
    r.flags = TB_TCP_SYN;
    r.window = 64240;
    r.opts.has_mss = true;
    r.opts.mss = 1460;
    r.opts.sack_permitted = true;
    r.opts.has_ts = true;
    r.opts.ts_val = 1;
    r.opts.ts_ecr = 0;
    r.opts.has_wscale = true;
    r.opts.wscale = 7;
    static const uint8_t want_opts[20] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
                                          0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
    /* The whole segment, checksum computed independently (Python, RFC 1071
     * over the pseudo-header 10.0.0.1 -> 10.0.0.2, protocol 6, length 40). */
    static const uint8_t want_seg[40] = {
        0x9c, 0x40, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
        0xfa, 0xf0, 0x33, 0xcf, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    };
    uint8_t out[TCP_MAX_HDR];
    memset(out, 0xee, sizeof(out));
    assert_int_equal(tb_tcp_opts_len(&r.opts, r.flags), 20);
    assert_int_equal(tb_tcp_emit_header(&r, out), 40);
    assert_memory_equal(out + TB_TCP_HDR_LEN, want_opts, sizeof(want_opts));
    assert_int_equal(out[12], 0xa0);                 /* data offset 10, reserved bits 0 */
    assert_int_equal(tb_get16(out + CSUM_OFF), 0);   /* checksum left 0 */
    tb_peer_tcp_checksum(out, 40, SRC_IP, DST_IP);
    assert_memory_equal(out, want_seg, sizeof(want_seg));

    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(want_seg, sizeof(want_seg), SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_fields_equal(&r, &got);
    assert_int_equal(got.header_len, 40);
    assert_opts_equal(&r.opts, &got.opts);
    assert_int_equal(got.payload_len, 0);
}

/* A data segment with an odd-length payload, checksum computed independently
 * (192.168.1.10 -> 172.16.0.5, 37 bytes: the odd byte is zero-padded,
 * RFC 1071 §4.1). */
static void test_tcp_known_data_segment_with_timestamps(void **state) {
    (void)state;
    static const uint8_t seg[37] = {
        0x01, 0xbb, 0xc7, 0x38, 0xff, 0xff, 0xff, 0xf0, 0x01, 0x02, 0x03, 0x04, 0x80, 0x18, 0x01, 0xf5,
        0x38, 0x35, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0xab, 0xcd, 0x00, 0x00, 0x12, 0x34,
        'h', 'e', 'l', 'l', 'o',
    };
    const uint32_t src = IP(192, 168, 1, 10), dst = IP(172, 16, 0, 5);
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, sizeof(seg), src, dst, &got), TB_WIRE_OK);
    assert_int_equal(got.src_port, 443);
    assert_int_equal(got.dst_port, 51000);
    assert_int_equal(got.seq, 0xfffffff0u);
    assert_int_equal(got.ack, 0x01020304u);
    assert_int_equal(got.flags, TB_TCP_ACK | TB_TCP_PSH);
    assert_int_equal(got.window, 501);
    assert_int_equal(got.urgent, 0);
    assert_int_equal(got.header_len, 32);
    assert_true(got.opts.has_ts);
    assert_int_equal(got.opts.ts_val, 0xabcd);
    assert_int_equal(got.opts.ts_ecr, 0x1234);
    assert_false(got.opts.has_mss);
    assert_int_equal(got.opts.sack_count, 0);
    assert_int_equal(got.opts.unknown_count, 0);
    assert_int_equal(got.payload_len, 5);
    assert_memory_equal(got.payload, "hello", 5);

    /* The emitter reproduces the same bytes. */
    struct tb_tcp_repr r = got;
    uint8_t out[sizeof(seg)];
    assert_int_equal(tb_tcp_emit_header(&r, out), 32);
    memcpy(out + 32, "hello", 5);
    tb_peer_tcp_checksum(out, sizeof(out), src, dst);
    assert_memory_equal(out, seg, sizeof(seg));
}

/* Each option group on its own, NOP-padded to 4 bytes (RFC 9293 §3.2 allows
 * NOP anywhere; Linux aligns the 4-byte fields). */
static void test_tcp_emit_option_group_layouts(void **state) {
    (void)state;
    struct layout {
        const char *name;
        uint8_t flags;
        struct tb_tcp_opts opts;
        uint8_t want[TB_TCP_MAX_OPT_LEN];
        size_t want_len;
    };
    static const struct layout cases[] = {
        {"syn mss", TB_TCP_SYN, {.has_mss = true, .mss = 1460}, {0x02, 0x04, 0x05, 0xb4}, 4},
        {"syn sack-permitted", TB_TCP_SYN, {.sack_permitted = true}, {0x01, 0x01, 0x04, 0x02}, 4},
        {"syn timestamps",
         TB_TCP_SYN,
         {.has_ts = true, .ts_val = 0x01020304u, .ts_ecr = 0x05060708u},
         {0x01, 0x01, 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
         12},
        {"syn sack-permitted + timestamps",
         TB_TCP_SYN | TB_TCP_ACK,
         {.sack_permitted = true, .has_ts = true, .ts_val = 0xa1a2a3a4u, .ts_ecr = 0xb1b2b3b4u},
         {0x04, 0x02, 0x08, 0x0a, 0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xb3, 0xb4},
         12},
        {"syn window scale", TB_TCP_SYN, {.has_wscale = true, .wscale = 14}, {0x01, 0x03, 0x03, 0x0e}, 4},
        {"syn mss + window scale",
         TB_TCP_SYN,
         {.has_mss = true, .mss = 536, .has_wscale = true, .wscale = 0},
         {0x02, 0x04, 0x02, 0x18, 0x01, 0x03, 0x03, 0x00},
         8},
        {"syn mss + sack-permitted + ws (no timestamps)",
         TB_TCP_SYN,
         {.has_mss = true, .mss = 8960, .sack_permitted = true, .has_wscale = true, .wscale = 9},
         {0x02, 0x04, 0x23, 0x00, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x09},
         12},
        {"ack timestamps",
         TB_TCP_ACK,
         {.has_ts = true, .ts_val = 0xcafef00du, .ts_ecr = 0x0badf00du},
         {0x01, 0x01, 0x08, 0x0a, 0xca, 0xfe, 0xf0, 0x0d, 0x0b, 0xad, 0xf0, 0x0d},
         12},
        {"ack one sack block",
         TB_TCP_ACK,
         {.sack_count = 1, .sack = {{0x11111111u, 0x22222222u}}},
         {0x01, 0x01, 0x05, 0x0a, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22},
         12},
        {"ack timestamps + two sack blocks",
         TB_TCP_ACK,
         {.has_ts = true, .ts_val = 1, .ts_ecr = 2, .sack_count = 2, .sack = {{3, 4}, {5, 6}}},
         {0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,
          0x01, 0x01, 0x05, 0x12, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6},
         32},
        {"ack four sack blocks",
         TB_TCP_ACK,
         {.sack_count = 4, .sack = {{1, 2}, {3, 4}, {5, 6}, {7, 8}}},
         {0x01, 0x01, 0x05, 0x22, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
          0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8},
         36},
        {"ack timestamps + three sack blocks (exactly 40)",
         TB_TCP_ACK,
         {.has_ts = true, .ts_val = 9, .ts_ecr = 10, .sack_count = 3, .sack = {{1, 2}, {3, 4}, {5, 6}}},
         {0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 9, 0, 0, 0, 10,
          0x01, 0x01, 0x05, 0x1a, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6},
         40},
    };
    for (size_t i = 0; i < TB_ARRAY_LEN(cases); i++) {
        const struct layout *c = &cases[i];
        struct tb_tcp_repr r;
        memset(&r, 0, sizeof(r));
        r.flags = c->flags;
        r.opts = c->opts;
        uint8_t out[TCP_MAX_HDR + 4];
        memset(out, 0xee, sizeof(out));
        print_message("layout: %s\n", c->name);
        assert_int_equal(tb_tcp_opts_len(&c->opts, c->flags), c->want_len);
        assert_int_equal(tb_tcp_emit_header(&r, out), TB_TCP_HDR_LEN + c->want_len);
        assert_int_equal(out[12], ((TB_TCP_HDR_LEN + c->want_len) / 4) << 4);
        assert_memory_equal(out + TB_TCP_HDR_LEN, c->want, c->want_len);
        /* Not a byte more. */
        for (size_t k = TB_TCP_HDR_LEN + c->want_len; k < sizeof(out); k++) assert_int_equal(out[k], 0xee);
    }
}

/* The fixed header layout (RFC 9293 §3.1): ports, seq, ack, data offset with
 * reserved bits clear, flags, window, checksum 0, urgent pointer. */
static void test_tcp_emit_fixed_header_layout(void **state) {
    (void)state;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = 0x0102;
    r.dst_port = 0x0304;
    r.seq = 0x05060708u;
    r.ack = 0x090a0b0cu;
    r.flags = TB_TCP_ACK | TB_TCP_URG | TB_TCP_CWR;
    r.window = 0x0d0e;
    r.urgent = 0x1112;
    r.header_len = 60;   /* ignored: computed from the options */
    static const uint8_t want[20] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                     0x0b, 0x0c, 0x50, 0xb0, 0x0d, 0x0e, 0x00, 0x00, 0x11, 0x12};
    uint8_t out[TCP_MAX_HDR];
    memset(out, 0xff, sizeof(out));
    assert_int_equal(tb_tcp_emit_header(&r, out), 20);
    assert_memory_equal(out, want, sizeof(want));
    for (size_t k = 20; k < sizeof(out); k++) assert_int_equal(out[k], 0xff);
}

/* The emitter writes exactly header_len bytes for every emittable option
 * combination, leaves the checksum 0 and the reserved bits clear. */
static void test_tcp_emit_writes_exactly_header_len(void **state) {
    (void)state;
    for (int syn = 0; syn <= 1; syn++) {
        for (unsigned mask = 0; mask < 16; mask++) {
            for (int blocks = 0; blocks <= TB_TCP_MAX_SACK_BLOCKS; blocks++) {
                struct tb_tcp_repr r;
                memset(&r, 0, sizeof(r));
                r.flags = syn ? TB_TCP_SYN : TB_TCP_ACK;
                r.opts = syn_opts(mask);
                r.opts.sack_count = (uint8_t)blocks;
                size_t opt_len = tb_tcp_opts_len(&r.opts, r.flags);
                if (opt_len > TB_TCP_MAX_OPT_LEN) continue;
                uint8_t *out = malloc(TCP_MAX_HDR);   /* heap: ASan catches a write past 60 */
                assert_non_null(out);
                memset(out, 0xa5, TCP_MAX_HDR);
                size_t hl = tb_tcp_emit_header(&r, out);
                assert_int_equal(hl, TB_TCP_HDR_LEN + opt_len);
                assert_int_equal(hl % 4, 0);
                assert_int_equal(out[12], (hl / 4) << 4);
                assert_int_equal(tb_get16(out + CSUM_OFF), 0);
                for (size_t k = hl; k < TCP_MAX_HDR; k++) assert_int_equal(out[k], 0xa5);
                free(out);
            }
        }
    }
}

/* Options that do not belong to the segment kind are not emitted: SACK
 * blocks on a SYN (RFC 2018 §3: SACK needs the connection established), MSS,
 * SACK-permitted and window scale off a SYN (RFC 9293 §3.2, RFC 2018 §2,
 * RFC 7323 §2.2: only in SYN segments). */
static void test_tcp_emit_ignores_options_of_the_other_segment_kind(void **state) {
    (void)state;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_SYN;
    r.opts.sack_count = 2;
    r.opts.sack[0] = (struct tb_sack_block){1, 2};
    r.opts.sack[1] = (struct tb_sack_block){3, 4};
    uint8_t out[TCP_MAX_HDR];
    assert_int_equal(tb_tcp_emit_header(&r, out), 20);
    roundtrip(&r, NULL, 0);

    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_ACK;
    r.opts.has_mss = true;
    r.opts.mss = 1460;
    r.opts.sack_permitted = true;
    r.opts.has_wscale = true;
    r.opts.wscale = 7;
    assert_int_equal(tb_tcp_emit_header(&r, out), 20);
    roundtrip(&r, NULL, 0);
}

/* ---- rejections ----------------------------------------------------------- */

/* Fewer than 20 bytes: no room for the fixed header. */
static void test_tcp_parse_rejects_shorter_than_20_bytes(void **state) {
    (void)state;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_ACK;
    uint8_t seg[TB_TCP_HDR_LEN];
    build_segment(&r, NULL, 0, seg);
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, sizeof(seg), SRC_IP, DST_IP, &got), TB_WIRE_OK);
    for (size_t len = 0; len < TB_TCP_HDR_LEN; len++)
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TRUNCATED);
}

/* Data offset 0..4 is below the 20-byte minimum (RFC 9293 §3.1), even with
 * a correct checksum and plenty of bytes. */
static void test_tcp_parse_rejects_data_offset_below_5(void **state) {
    (void)state;
    uint8_t payload[20];
    fill_pattern(payload, sizeof(payload), 1);
    for (uint8_t off = 0; off < 5; off++) {
        uint8_t seg[40];
        size_t len = build_raw(seg, TB_TCP_ACK, NULL, 0, payload, sizeof(payload));
        seg[12] = (uint8_t)(off << 4);
        tb_peer_tcp_checksum(seg, len, SRC_IP, DST_IP);
        struct tb_tcp_repr got;
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_DATA_OFFSET);
    }
}

/* Data offset * 4 beyond the segment is rejected; up to the segment length
 * (header_len == len, no payload) is accepted. The bytes behind the base
 * header are NOPs so every accepted offset parses cleanly. */
static void test_tcp_parse_data_offset_against_segment_length(void **state) {
    (void)state;
    static const size_t lens[] = {20, 21, 23, 24, 27, 40, 59, 60, 61};
    for (size_t i = 0; i < TB_ARRAY_LEN(lens); i++) {
        for (uint8_t off = 5; off <= 15; off++) {
            uint8_t seg[64];
            uint8_t nops[44];
            memset(nops, TB_TCPOPT_NOP, sizeof(nops));
            size_t len = build_raw(seg, TB_TCP_ACK, NULL, 0, nops, lens[i] - TB_TCP_HDR_LEN);
            seg[12] = (uint8_t)(off << 4);
            tb_peer_tcp_checksum(seg, len, SRC_IP, DST_IP);
            struct tb_tcp_repr got;
            enum tb_wire_err err = parse_exact(seg, len, SRC_IP, DST_IP, &got);
            if ((size_t)off * 4 > len) {
                assert_int_equal(err, TB_WIRE_TCP_BAD_DATA_OFFSET);
            } else {
                assert_int_equal(err, TB_WIRE_OK);
                assert_int_equal(got.header_len, off * 4);
                assert_int_equal(got.payload_len, len - (size_t)off * 4);
                assert_int_equal(got.opts.unknown_count, 0);
            }
        }
    }
}

/* Flips every bit of seg[0..len) in turn: the one's-complement sum changes by
 * +-2^k, never 0 mod 0xffff, so each flip is a checksum mismatch - except a
 * flip in the data offset nibble that makes the offset invalid, which the
 * bounds check reports first. */
static void check_every_bit_flip(const uint8_t *seg, size_t len) {
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    for (size_t byte = 0; byte < len; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, seg, len);
            copy[byte] ^= (uint8_t)(1u << bit);
            enum tb_wire_err want = TB_WIRE_TCP_BAD_CHECKSUM;
            if (byte == 12 && bit >= 4) {
                size_t off = copy[12] >> 4;
                if (off < 5 || off * 4 > len) want = TB_WIRE_TCP_BAD_DATA_OFFSET;
            }
            struct tb_tcp_repr got;
            assert_int_equal(tb_tcp_parse(copy, len, SRC_IP, DST_IP, &got), want);
        }
    }
    free(copy);
}

static void test_tcp_parse_rejects_every_single_bit_flip(void **state) {
    (void)state;
    uint8_t payload[11];
    fill_pattern(payload, sizeof(payload), 0x80);
    uint8_t seg[TCP_MAX_HDR + sizeof(payload)];

    /* SYN-ACK with all four SYN options and an odd payload. */
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = 80;
    r.dst_port = 40000;
    r.seq = 0x11223344u;
    r.ack = 0x55667788u;
    r.flags = TB_TCP_SYN | TB_TCP_ACK;
    r.window = 65535;
    r.opts = syn_opts(OPT_MSS | OPT_SACKOK | OPT_TS | OPT_WS);
    size_t len = build_segment(&r, payload, sizeof(payload), seg);
    check_every_bit_flip(seg, len);

    /* ACK with timestamps and two SACK blocks, even payload. */
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_ACK;
    r.seq = 0xfffffff0u;
    r.opts.has_ts = true;
    r.opts.ts_val = 123456;
    r.opts.sack_count = 2;
    r.opts.sack[0] = (struct tb_sack_block){100, 200};
    r.opts.sack[1] = (struct tb_sack_block){300, 400};
    len = build_segment(&r, payload, 10, seg);
    check_every_bit_flip(seg, len);

    /* Bare 20-byte header, one payload byte. */
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_ACK | TB_TCP_PSH;
    len = build_segment(&r, payload, 1, seg);
    check_every_bit_flip(seg, len);
}

/* The checksum covers the pseudo-header (RFC 9293 §3.1): a segment checked
 * against the wrong source or destination address is refused. */
static void test_tcp_parse_rejects_wrong_pseudo_header_address(void **state) {
    (void)state;
    uint8_t payload[6] = {1, 2, 3, 4, 5, 6};
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_ACK;
    r.opts.has_ts = true;
    r.opts.ts_val = 42;
    uint8_t seg[TCP_MAX_HDR + sizeof(payload)];
    size_t len = build_segment(&r, payload, sizeof(payload), seg);
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);

    static const uint32_t wrong[] = {
        IP(10, 0, 0, 3), IP(10, 0, 0, 0), IP(11, 0, 0, 1), IP(10, 0, 1, 1), IP(0, 0, 0, 0),
        IP(255, 255, 255, 255), IP(1, 0, 0, 10), IP(192, 168, 0, 1), IP(10, 0, 0, 1) ^ 0x80000000u,
    };
    for (size_t i = 0; i < TB_ARRAY_LEN(wrong); i++) {
        assert_int_equal(parse_exact(seg, len, wrong[i], DST_IP, &got), TB_WIRE_TCP_BAD_CHECKSUM);
        assert_int_equal(parse_exact(seg, len, SRC_IP, wrong[i], &got),
                         TB_WIRE_TCP_BAD_CHECKSUM);
    }
    /* The pseudo-header length is `len`: two extra zero bytes leave the data
     * sum alone but change the length, so the caller must pass exactly the IP
     * payload length (not an Ethernet-padded one). */
    uint8_t padded[sizeof(seg) + 2];
    memcpy(padded, seg, len);
    padded[len] = 0;
    padded[len + 1] = 0;
    assert_int_equal(parse_exact(padded, len + 2, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_CHECKSUM);
}

/* A limit of the Internet checksum, not of the parser: addition commutes, so
 * swapping source and destination gives the same pseudo-header sum. Kept so
 * nobody relies on the checksum to catch a reversed address pair. */
static void test_tcp_checksum_cannot_see_swapped_addresses(void **state) {
    (void)state;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_SYN;
    uint8_t seg[TCP_MAX_HDR];
    size_t len = build_segment(&r, NULL, 0, seg);
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, DST_IP, SRC_IP, &got), TB_WIRE_OK);
}

/* An option whose length byte is 0 or 1 cannot even cover its own kind and
 * length bytes (RFC 9293 §3.2) and would loop forever or misalign the rest. */
static void test_tcp_parse_rejects_option_length_0_or_1(void **state) {
    (void)state;
    static const uint8_t cases[][8] = {
        {0x02, 0x00, 0x05, 0xb4, 0x01, 0x01, 0x01, 0x01},   /* MSS, len 0 */
        {0x02, 0x01, 0x05, 0xb4, 0x01, 0x01, 0x01, 0x01},   /* MSS, len 1 */
        {0x01, 0x01, 0xfe, 0x00, 0x01, 0x01, 0x01, 0x01},   /* experimental, len 0 */
        {0x01, 0x01, 0xfe, 0x01, 0x01, 0x01, 0x01, 0x01},   /* experimental, len 1 */
        {0x08, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},   /* timestamps, len 1 */
        {0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},   /* SACK, len 0 */
        {0x04, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01},   /* SACK-permitted, len 1 */
        {0x02, 0x04, 0x05, 0xb4, 0x03, 0x00, 0x01, 0x01},   /* after a valid MSS: WS len 0 */
        {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x03, 0x01},   /* WS len 1 at position 6 */
    };
    uint8_t payload[4] = {0x02, 0x04, 0x05, 0xb4};
    for (size_t i = 0; i < TB_ARRAY_LEN(cases); i++) {
        uint8_t seg[TCP_MAX_HDR + sizeof(payload)];
        size_t len = build_raw(seg, TB_TCP_SYN, cases[i], sizeof(cases[i]), payload, sizeof(payload));
        struct tb_tcp_repr got;
        print_message("case %zu\n", i);
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_OPTION);
    }
}

/* An option whose length runs past the header is an error (wire.h), even
 * when the segment's payload would supply the missing bytes. */
static void test_tcp_parse_rejects_option_running_past_header(void **state) {
    (void)state;
    struct option_case {
        uint8_t opts[TB_TCP_MAX_OPT_LEN];
        size_t opt_len;
    };
    static const struct option_case cases[] = {
        {{0x02, 0x05, 0x05, 0xb4}, 4},                                   /* MSS len 5 in 4 */
        {{0x01, 0x01, 0x03, 0x03}, 4},                                   /* WS len 3 from byte 2 of 4 */
        {{0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01}, 8},           /* TS len 10 in 8 */
        {{0x01, 0x01, 0x05, 0x0a, 0x00, 0x00, 0x00, 0x01}, 8},           /* SACK len 10 in 8 */
        {{0xfe, 0x08, 0xf9, 0x89}, 4},                                   /* experimental len 8 in 4 */
        {{0x01, 0x01, 0xfd, 0xff}, 4},                                   /* length 255 */
        {{0x02, 0x04, 0x05, 0xb4, 0x1e, 0x06, 0x00, 0x00}, 8},           /* after a valid option */
        {{0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
          0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
          0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
          0x01, 0x01, 0x02, 0x04}, 40},                                  /* MSS at byte 38 of 40 */
        {{0x05, 0x2a}, 40},                                              /* SACK len 42 > 40 */
        {{0x01, 0x01, 0x01, 0x01, 0x05, 0x22}, 36},                      /* 4 SACK blocks from byte 4 of 36 */
    };
    uint8_t payload[64];
    memset(payload, 0, sizeof(payload));
    for (size_t i = 0; i < TB_ARRAY_LEN(cases); i++) {
        uint8_t seg[TCP_MAX_HDR + sizeof(payload)];
        size_t len = build_raw(seg, TB_TCP_SYN, cases[i].opts, cases[i].opt_len, payload, sizeof(payload));
        struct tb_tcp_repr got;
        print_message("case %zu\n", i);
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_OPTION);
        /* The same bytes with no payload behind them. */
        len = build_raw(seg, TB_TCP_SYN, cases[i].opts, cases[i].opt_len, NULL, 0);
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_OPTION);
    }
}

/* A kind other than EOL/NOP in the last option byte has no length byte. */
static void test_tcp_parse_rejects_kind_without_length_byte(void **state) {
    (void)state;
    static const uint8_t kinds[] = {TB_TCPOPT_MSS, TB_TCPOPT_WSCALE, TB_TCPOPT_SACK_PERMITTED, TB_TCPOPT_SACK,
                                    TB_TCPOPT_TIMESTAMP, 6, 30, 34, 0xfe, 0xff};
    uint8_t payload[2] = {0x04, 0x02};   /* would complete an option if read */
    for (size_t i = 0; i < TB_ARRAY_LEN(kinds); i++) {
        for (size_t opt_len = 4; opt_len <= TB_TCP_MAX_OPT_LEN; opt_len += 4) {
            uint8_t opts[TB_TCP_MAX_OPT_LEN];
            memset(opts, TB_TCPOPT_NOP, sizeof(opts));
            if (opt_len >= 8) {   /* a valid option first, for variety */
                opts[0] = TB_TCPOPT_MSS;
                opts[1] = 4;
                opts[2] = 0x05;
                opts[3] = 0xb4;
            }
            opts[opt_len - 1] = kinds[i];
            uint8_t seg[TCP_MAX_HDR + sizeof(payload)];
            size_t len = build_raw(seg, TB_TCP_SYN, opts, opt_len, payload, sizeof(payload));
            struct tb_tcp_repr got;
            assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_OPTION);
            /* No payload: the header ends the segment, so the missing length
             * byte would be a read past the buffer (ASan watches). */
            len = build_raw(seg, TB_TCP_SYN, opts, opt_len, NULL, 0);
            assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_OPTION);
        }
    }
    /* EOL and NOP in the last byte are fine: they are single-byte options. */
    uint8_t opts[4] = {0x01, 0x01, 0x01, 0x00};
    uint8_t seg[TCP_MAX_HDR];
    struct tb_tcp_repr got;
    size_t len = build_raw(seg, TB_TCP_ACK, opts, sizeof(opts), NULL, 0);
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    opts[3] = TB_TCPOPT_NOP;
    len = build_raw(seg, TB_TCP_ACK, opts, sizeof(opts), NULL, 0);
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
}

/* The checksum is verified before the options are looked at: a corrupt
 * segment that also holds a malformed option reports the checksum. */
static void test_tcp_parse_checksum_checked_before_options(void **state) {
    (void)state;
    static const uint8_t opts[4] = {0x02, 0x00, 0x00, 0x00};
    uint8_t seg[TCP_MAX_HDR];
    size_t len = build_raw(seg, TB_TCP_SYN, opts, sizeof(opts), NULL, 0);
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_OPTION);
    seg[4] ^= 0x10;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_TCP_BAD_CHECKSUM);
}

/* ---- tolerated options ---------------------------------------------------- */

/* Unknown kinds are skipped by their length and counted (RFC 9293 §3.2:
 * "must be prepared to handle an illegal option length" and to ignore
 * options it does not implement). */
static void test_tcp_parse_skips_and_counts_unknown_options(void **state) {
    (void)state;
    static const uint8_t opts[28] = {
        0x02, 0x04, 0x05, 0xb4,                          /* MSS 1460 */
        0x22, 0x02,                                      /* 34 TFO cookie request */
        0xfd, 0x06, 0x00, 0x11, 0x22, 0x33,              /* 253 experimental */
        0xfe, 0x04, 0xf9, 0x89,                          /* 254 experimental (RFC 6994 ExID) */
        0x1e, 0x04, 0x00, 0x00,                          /* 30 MPTCP */
        0x06, 0x06, 0x01, 0x02, 0x03, 0x04,              /* 6 echo (RFC 1072, obsolete) */
        0x01, 0x01,
    };
    uint8_t payload[3] = {0xfe, 0x00, 0x02};
    uint8_t seg[TCP_MAX_HDR + sizeof(payload)];
    size_t len = build_raw(seg, TB_TCP_SYN, opts, sizeof(opts), payload, sizeof(payload));
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_true(got.opts.has_mss);
    assert_int_equal(got.opts.mss, 1460);
    assert_false(got.opts.has_ts);
    assert_false(got.opts.has_wscale);
    assert_false(got.opts.sack_permitted);
    assert_int_equal(got.opts.sack_count, 0);
    assert_int_equal(got.opts.unknown_count, 5);
    assert_int_equal(got.header_len, 48);
    assert_int_equal(got.payload_len, sizeof(payload));

    /* The most unknown options a header can hold: twenty 2-byte ones. */
    uint8_t many[40];
    for (size_t i = 0; i < sizeof(many); i += 2) {
        many[i] = (uint8_t)(9 + i);   /* kinds 9, 11, ..., 47 */
        many[i + 1] = 2;
    }
    len = build_raw(seg, TB_TCP_ACK, many, sizeof(many), NULL, 0);
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_int_equal(got.opts.unknown_count, 20);

    /* One unknown option filling all 40 bytes. */
    uint8_t big[40];
    memset(big, 0x02, sizeof(big));   /* content that would be MSS if misparsed */
    big[0] = 0xfe;
    big[1] = 40;
    len = build_raw(seg, TB_TCP_ACK, big, sizeof(big), NULL, 0);
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_int_equal(got.opts.unknown_count, 1);
    assert_false(got.opts.has_mss);
}

/* A known kind with the wrong length is ignored like an unknown one: it is
 * counted, its field is not set, and parsing continues after it. */
static void test_tcp_parse_ignores_known_kinds_with_wrong_length(void **state) {
    (void)state;
    struct wrong_len {
        const char *name;
        uint8_t opts[TB_TCP_MAX_OPT_LEN];
        size_t opt_len;
    };
    /* Each case ends with a valid WS 5 (or, for the WS cases, MSS 1000), to
     * show the parser resynchronises after the bad option. */
    static const struct wrong_len cases[] = {
        {"MSS len 3", {0x02, 0x03, 0x05, 0x01, 0x03, 0x03, 0x05, 0x01}, 8},
        {"MSS len 6", {0x02, 0x06, 0x05, 0xb4, 0x00, 0x00, 0x01, 0x01, 0x03, 0x03, 0x05, 0x01}, 12},
        {"MSS len 2", {0x02, 0x02, 0x01, 0x01, 0x03, 0x03, 0x05, 0x01}, 8},
        {"WS len 4", {0x03, 0x04, 0x07, 0x00, 0x02, 0x04, 0x03, 0xe8}, 8},
        {"WS len 2", {0x03, 0x02, 0x01, 0x01, 0x02, 0x04, 0x03, 0xe8}, 8},
        {"SACK-permitted len 3", {0x04, 0x03, 0x00, 0x01, 0x03, 0x03, 0x05, 0x01}, 8},
        {"SACK-permitted len 4", {0x04, 0x04, 0x00, 0x00, 0x03, 0x03, 0x05, 0x01}, 8},
        {"TS len 8", {0x08, 0x08, 0, 0, 0, 1, 0, 2, 0x03, 0x03, 0x05, 0x01}, 12},
        {"TS len 12", {0x08, 0x0c, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x03, 0x03, 0x05, 0x01}, 16},
        {"SACK len 2 (no blocks)", {0x05, 0x02, 0x01, 0x01, 0x03, 0x03, 0x05, 0x01}, 8},
        {"SACK len 9", {0x05, 0x09, 0, 0, 0, 1, 0, 0, 2, 0x03, 0x03, 0x05}, 12},
        {"SACK len 11", {0x05, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0x01, 0x03, 0x03, 0x05, 0x01}, 16},
        {"SACK len 17",
         {0x05, 0x11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x03, 0x03, 0x05}, 20},
    };
    for (size_t i = 0; i < TB_ARRAY_LEN(cases); i++) {
        const struct wrong_len *c = &cases[i];
        uint8_t seg[TCP_MAX_HDR];
        size_t len = build_raw(seg, TB_TCP_SYN, c->opts, c->opt_len, NULL, 0);
        struct tb_tcp_repr got;
        print_message("case: %s\n", c->name);
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
        assert_int_equal(got.opts.unknown_count, 1);
        assert_false(got.opts.has_ts);
        assert_false(got.opts.sack_permitted);
        assert_int_equal(got.opts.sack_count, 0);
        if (c->opts[0] == TB_TCPOPT_WSCALE) {
            assert_false(got.opts.has_wscale);
            assert_true(got.opts.has_mss);
            assert_int_equal(got.opts.mss, 1000);
        } else {
            assert_false(got.opts.has_mss);
            assert_true(got.opts.has_wscale);
            assert_int_equal(got.opts.wscale, 5);
        }
    }
}

/* SACK with 1..4 blocks (RFC 2018 §3: length 2 + 8n) is understood; a 5th
 * block (length 42) cannot fit in 40 option bytes, so it can only ever show
 * up as an option running past the header. */
static void test_tcp_parse_sack_block_counts(void **state) {
    (void)state;
    for (int n = 1; n <= TB_TCP_MAX_SACK_BLOCKS; n++) {
        uint8_t opts[TB_TCP_MAX_OPT_LEN];
        memset(opts, TB_TCPOPT_NOP, sizeof(opts));
        opts[2] = TB_TCPOPT_SACK;
        opts[3] = (uint8_t)(2 + 8 * n);
        for (int b = 0; b < n; b++) {
            tb_put32(opts + 4 + 8 * b, 0x10000000u * (uint32_t)(b + 1));
            tb_put32(opts + 8 + 8 * b, 0x10000000u * (uint32_t)(b + 1) + 0xfff);
        }
        size_t opt_len = (size_t)(4 + 8 * n);
        uint8_t seg[TCP_MAX_HDR];
        size_t len = build_raw(seg, TB_TCP_ACK, opts, opt_len, NULL, 0);
        struct tb_tcp_repr got;
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
        assert_int_equal(got.opts.sack_count, n);
        assert_int_equal(got.opts.unknown_count, 0);
        for (int b = 0; b < n; b++) {
            assert_int_equal(got.opts.sack[b].left, 0x10000000u * (uint32_t)(b + 1));
            assert_int_equal(got.opts.sack[b].right, 0x10000000u * (uint32_t)(b + 1) + 0xfff);
        }
    }
}

/* EOL ends the option list (RFC 9293 §3.2): whatever follows it, even bytes
 * that would be malformed options, is ignored. */
static void test_tcp_parse_eol_stops_option_parsing(void **state) {
    (void)state;
    struct eol_case {
        uint8_t opts[TB_TCP_MAX_OPT_LEN];
        size_t opt_len;
        bool mss;
    };
    static const struct eol_case cases[] = {
        {{0x02, 0x04, 0x05, 0xb4, 0x00, 0x03, 0x03, 0x07}, 8, true},   /* WS after EOL ignored */
        {{0x00, 0x02, 0x04, 0x05}, 4, false},                         /* MSS after EOL ignored */
        {{0x00, 0x02, 0x00, 0x00}, 4, false},                         /* len 0 after EOL ignored */
        {{0x01, 0x01, 0x01, 0x00, 0xfe, 0xff, 0x08, 0x0a}, 8, false},  /* runs past header, after EOL */
        {{0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x01, 0x00}, 8, true},  /* EOL in the last byte */
        {{0x02, 0x04, 0x05, 0xb4, 0x00, 0x00, 0x00, 0x02}, 8, true},  /* kind alone after EOL */
        {{0x00, 0x01, 0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2, 0x04, 0x02}, 16, false},
    };
    for (size_t i = 0; i < TB_ARRAY_LEN(cases); i++) {
        uint8_t payload[2] = {0x08, 0x0a};
        uint8_t seg[TCP_MAX_HDR + sizeof(payload)];
        size_t len = build_raw(seg, TB_TCP_SYN, cases[i].opts, cases[i].opt_len, payload, sizeof(payload));
        struct tb_tcp_repr got;
        print_message("case %zu\n", i);
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
        assert_int_equal(got.opts.has_mss, cases[i].mss);
        if (cases[i].mss) assert_int_equal(got.opts.mss, 1460);
        assert_false(got.opts.has_wscale);
        assert_false(got.opts.has_ts);
        assert_false(got.opts.sack_permitted);
        assert_int_equal(got.opts.sack_count, 0);
        assert_int_equal(got.opts.unknown_count, 0);
        assert_int_equal(got.header_len, TB_TCP_HDR_LEN + cases[i].opt_len);
        assert_int_equal(got.payload_len, sizeof(payload));
    }
}

/* NOP may appear anywhere, any number of times (RFC 9293 §3.2), between
 * options in any order, not only as 4-byte alignment. */
static void test_tcp_parse_nop_padding_anywhere(void **state) {
    (void)state;
    static const uint8_t syn[28] = {
        0x01, 0x02, 0x04, 0x05, 0xb4,                            /* NOP MSS */
        0x01, 0x01, 0x01, 0x03, 0x03, 0x0e,                      /* NOP NOP NOP WS 14 */
        0x01, 0x01, 0x01, 0x04, 0x02,                            /* NOP NOP NOP SACK-permitted */
        0x01, 0x08, 0x0a, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78,    /* NOP TS */
        0x01,
    };
    uint8_t seg[TCP_MAX_HDR + 8];
    size_t len = build_raw(seg, TB_TCP_SYN, syn, sizeof(syn), NULL, 0);
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_true(got.opts.has_mss);
    assert_int_equal(got.opts.mss, 1460);
    assert_true(got.opts.has_wscale);
    assert_int_equal(got.opts.wscale, 14);
    assert_true(got.opts.sack_permitted);
    assert_true(got.opts.has_ts);
    assert_int_equal(got.opts.ts_val, 0x1234);
    assert_int_equal(got.opts.ts_ecr, 0x5678);
    assert_int_equal(got.opts.unknown_count, 0);

    static const uint8_t ack[36] = {
        0x01, 0x05, 0x12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,   /* NOP SACK x2 */
        0x01, 0x01, 0x01,                                                  /* NOP NOP NOP */
        0x08, 0x0a, 0, 0, 0, 9, 0, 0, 0, 8,                                /* TS, unaligned */
        0x01, 0x01, 0x01, 0x01,
    };
    len = build_raw(seg, TB_TCP_ACK, ack, sizeof(ack), NULL, 0);
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_int_equal(got.opts.sack_count, 2);
    assert_int_equal(got.opts.sack[0].left, 1);
    assert_int_equal(got.opts.sack[0].right, 2);
    assert_int_equal(got.opts.sack[1].left, 3);
    assert_int_equal(got.opts.sack[1].right, 4);
    assert_true(got.opts.has_ts);
    assert_int_equal(got.opts.ts_val, 9);
    assert_int_equal(got.opts.ts_ecr, 8);
    assert_int_equal(got.opts.unknown_count, 0);

    /* Forty NOPs: a valid, empty option list. */
    uint8_t nops[40];
    memset(nops, TB_TCPOPT_NOP, sizeof(nops));
    len = build_raw(seg, TB_TCP_ACK, nops, sizeof(nops), NULL, 0);
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    struct tb_tcp_opts none;
    memset(&none, 0, sizeof(none));
    assert_opts_equal(&none, &got.opts);
    assert_int_equal(got.header_len, 60);

    /* An option ending exactly at the end of a 40-byte option area. */
    nops[36] = TB_TCPOPT_MSS;
    nops[37] = 4;
    nops[38] = 0x21;
    nops[39] = 0x00;
    len = build_raw(seg, TB_TCP_SYN, nops, sizeof(nops), NULL, 0);
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_true(got.opts.has_mss);
    assert_int_equal(got.opts.mss, 0x2100);
}

/* Options live in the header only: payload bytes that look like options
 * (even malformed ones) are never parsed as options. */
static void test_tcp_parse_payload_is_not_parsed_as_options(void **state) {
    (void)state;
    static const uint8_t payload[] = {0x02, 0x04, 0x05, 0xb4, 0x03, 0x00, 0x08};
    uint8_t seg[TCP_MAX_HDR + sizeof(payload)];
    size_t len = build_raw(seg, TB_TCP_SYN, NULL, 0, payload, sizeof(payload));
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_int_equal(got.header_len, 20);
    assert_false(got.opts.has_mss);
    assert_int_equal(got.opts.unknown_count, 0);
    assert_int_equal(got.payload_len, sizeof(payload));
    assert_memory_equal(got.payload, payload, sizeof(payload));

    static const uint8_t opts[4] = {0x01, 0x01, 0x01, 0x01};
    len = build_raw(seg, TB_TCP_SYN, opts, sizeof(opts), payload, sizeof(payload));
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_int_equal(got.header_len, 24);
    assert_false(got.opts.has_mss);
    assert_int_equal(got.payload_len, sizeof(payload));
}

/* The four reserved bits between data offset and flags "must be ignored in
 * received segments" (RFC 9293 §3.1). */
static void test_tcp_parse_ignores_reserved_bits(void **state) {
    (void)state;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_ACK | TB_TCP_FIN;
    r.opts.has_ts = true;
    r.opts.ts_val = 5;
    uint8_t seg[TCP_MAX_HDR + 4];
    uint8_t payload[4] = {9, 8, 7, 6};
    size_t len = build_segment(&r, payload, sizeof(payload), seg);
    for (uint8_t rsv = 1; rsv < 16; rsv++) {
        seg[12] = (uint8_t)((seg[12] & 0xf0) | rsv);
        tb_peer_tcp_checksum(seg, len, SRC_IP, DST_IP);
        struct tb_tcp_repr got;
        assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
        assert_int_equal(got.header_len, 32);
        assert_int_equal(got.flags, TB_TCP_ACK | TB_TCP_FIN);
        assert_true(got.opts.has_ts);
        assert_int_equal(got.payload_len, 4);
    }
}

/* ---- truncation ------------------------------------------------------------ */

/* Every proper prefix of a valid segment is refused: under 20 bytes as
 * TRUNCATED, under the data offset as TCP_BAD_DATA_OFFSET, else the checksum
 * (which covers the pseudo-header length) no longer matches. Parsed from
 * exact-size copies so ASan flags any read past the prefix. */
static void check_every_prefix(const uint8_t *seg, size_t len, size_t header_len) {
    for (size_t n = 0; n < len; n++) {
        struct tb_tcp_repr got;
        enum tb_wire_err err = parse_exact(seg, n, SRC_IP, DST_IP, &got);
        assert_int_not_equal(err, TB_WIRE_OK);
        if (n < TB_TCP_HDR_LEN) assert_int_equal(err, TB_WIRE_TRUNCATED);
        else if (n < header_len) assert_int_equal(err, TB_WIRE_TCP_BAD_DATA_OFFSET);
        else assert_int_equal(err, TB_WIRE_TCP_BAD_CHECKSUM);
    }
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, len, SRC_IP, DST_IP, &got), TB_WIRE_OK);
}

static void test_tcp_parse_every_prefix_rejected(void **state) {
    (void)state;
    uint8_t payload[37];
    struct lcg g = {0x5eed};
    lcg_fill(&g, payload, sizeof(payload));
    uint8_t seg[TCP_MAX_HDR + sizeof(payload)];

    /* ACK, timestamps + 3 SACK blocks: a full 60-byte header. */
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = 5001;
    r.dst_port = 34567;
    r.seq = 0xa0b0c0d0u;
    r.ack = 0x01020304u;
    r.flags = TB_TCP_ACK | TB_TCP_PSH;
    r.window = 1024;
    r.opts.has_ts = true;
    r.opts.ts_val = 0x11111111u;
    r.opts.ts_ecr = 0x22222222u;
    r.opts.sack_count = 3;
    for (int b = 0; b < 3; b++) r.opts.sack[b] = (struct tb_sack_block){lcg_next(&g), lcg_next(&g)};
    size_t len = build_segment(&r, payload, sizeof(payload), seg);
    assert_int_equal(len, 60 + sizeof(payload));
    check_every_prefix(seg, len, 60);

    /* SYN with every SYN option and an even payload. */
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_SYN;
    r.seq = 77;
    r.window = 29200;
    r.opts = syn_opts(OPT_MSS | OPT_SACKOK | OPT_TS | OPT_WS);
    len = build_segment(&r, payload, 12, seg);
    check_every_prefix(seg, len, 40);

    /* Bare header, no payload. */
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_RST;
    len = build_segment(&r, NULL, 0, seg);
    check_every_prefix(seg, len, 20);
}

/* The pseudo-header length field is 16 bits: 65535 bytes is the longest
 * segment the checksum can cover; anything longer is refused. */
static void test_tcp_parse_segment_length_limit(void **state) {
    (void)state;
    const size_t max = 0xffff;
    uint8_t *seg = calloc(max + 2, 1);
    assert_non_null(seg);
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = TB_TCP_ACK;
    r.opts.has_ts = true;
    size_t hl = tb_tcp_emit_header(&r, seg);
    fill_pattern(seg + hl, max - hl, 3);
    tb_peer_tcp_checksum(seg, max, SRC_IP, DST_IP);
    struct tb_tcp_repr got;
    assert_int_equal(parse_exact(seg, max, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_int_equal(got.payload_len, max - hl);
    /* 65536 bytes: its length cannot be expressed in the pseudo-header. The
     * extra byte is 0, and (uint16_t)65536 = 0 would be the wrong length. */
    assert_int_not_equal(parse_exact(seg, max + 1, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    assert_int_not_equal(parse_exact(seg, max + 2, SRC_IP, DST_IP, &got), TB_WIRE_OK);
    free(seg);
}

/* ---- tb_csum_chain (RFC 1071 §2(B)) --------------------------------------- */

static void noop_release(struct tb_buf *b, void *owner) {
    (void)b;
    (void)owner;
}

#define CHAIN_MAX_SEGS 1600
#define CHAIN_ARENA 16384

/* Storage for one chain: the descriptors and their bytes live in the
 * caller's stack frame (tb_buf_init_external, no-op release). */
struct chain_arena {
    struct tb_buf bufs[CHAIN_MAX_SEGS];
    uint8_t store[CHAIN_ARENA];
};

/* Builds a chain holding data[0..total) cut into nseg segments of seg_lens
 * bytes. Each segment gets its own storage with 0..3 bytes of headroom (so
 * data pointers take every alignment) and canary bytes around it, so a read
 * outside a segment adds garbage and the sums disagree. */
static struct tb_buf *build_chain(struct chain_arena *a, const uint8_t *data, const size_t *seg_lens, size_t nseg,
                                  unsigned align) {
    assert_true(nseg <= CHAIN_MAX_SEGS);
    memset(a->store, 0xa5, sizeof(a->store));
    size_t pos = 0, at = 0;
    for (size_t i = 0; i < nseg; i++) {
        uint32_t headroom = (uint32_t)((align + i) % 4);
        uint32_t cap = headroom + (uint32_t)seg_lens[i] + 3;
        assert_true(at + cap <= sizeof(a->store));
        tb_buf_init_external(&a->bufs[i], a->store + at, cap, headroom, noop_release, NULL);
        uint8_t *dst = tb_buf_put(&a->bufs[i], (uint32_t)seg_lens[i]);
        assert_non_null(dst);
        if (seg_lens[i] > 0) memcpy(dst, data + pos, seg_lens[i]);
        a->bufs[i].next = i + 1 < nseg ? &a->bufs[i + 1] : NULL;
        pos += seg_lens[i];
        at += cap;
    }
    struct tb_buf *head = nseg > 0 ? &a->bufs[0] : NULL;
    assert_int_equal(tb_buf_chain_len(head), pos);
    return head;
}

static const uint32_t initials[] = {0, 1, 0x1234, 0xfffe, 0xffff, 0x1fffe, 0x2fffd};

/* Compares tb_csum_chain with tb_csum_partial over the flat bytes for every
 * offset and length inside the chain and every initial value. */
static void check_chain_all_ranges(const struct tb_buf *chain, const uint8_t *data, size_t total) {
    for (size_t off = 0; off <= total; off++) {
        for (size_t len = 0; off + len <= total; len++) {
            for (size_t k = 0; k < TB_ARRAY_LEN(initials); k++) {
                uint32_t want = tb_csum_partial(data + off, len, initials[k]);
                uint32_t got = tb_csum_chain(chain, off, len, initials[k]);
                if (got != want)
                    fail_msg("total %zu off %zu len %zu initial 0x%x: chain 0x%x flat 0x%x", total, off, len,
                             initials[k], got, want);
            }
        }
    }
}

/* One segment: the chain sum is the flat sum, at any data alignment. */
static void test_csum_chain_single_segment(void **state) {
    (void)state;
    struct chain_arena *a = malloc(sizeof(*a));   /* big: keep it off the stack for this one */
    assert_non_null(a);
    struct lcg g = {1};
    for (size_t n = 0; n <= 40; n++) {
        uint8_t data[40];
        lcg_fill(&g, data, n);
        for (unsigned align = 0; align < 4; align++) {
            size_t lens[1] = {n};
            struct tb_buf *chain = build_chain(a, data, lens, 1, align);
            check_chain_all_ranges(chain, data, n);
        }
    }
    free(a);
}

/* Two segments split at every point (empty first or last segment included),
 * over even and odd totals: an odd first segment puts the second one's
 * bytes in the other half of each 16-bit word. */
static void test_csum_chain_two_way_split_everywhere(void **state) {
    (void)state;
    struct chain_arena a;
    static const size_t totals[] = {1, 2, 3, 4, 5, 8, 9, 16, 17, 31, 32, 33};
    struct lcg g = {2};
    for (size_t t = 0; t < TB_ARRAY_LEN(totals); t++) {
        size_t n = totals[t];
        uint8_t data[33];
        lcg_fill(&g, data, n);
        for (size_t s = 0; s <= n; s++) {
            size_t lens[2] = {s, n - s};
            struct tb_buf *chain = build_chain(&a, data, lens, 2, (unsigned)s);
            check_chain_all_ranges(chain, data, n);
        }
    }
}

/* Three segments split at every pair of points s1 <= s2 (so empty segments
 * at the front, middle and back), every offset and length. */
static void test_csum_chain_three_way_split_everywhere(void **state) {
    (void)state;
    struct chain_arena a;
    static const size_t totals[] = {0, 1, 2, 3, 5, 8, 13, 19};
    struct lcg g = {3};
    for (size_t t = 0; t < TB_ARRAY_LEN(totals); t++) {
        size_t n = totals[t];
        uint8_t data[19];
        lcg_fill(&g, data, n);
        for (size_t s1 = 0; s1 <= n; s1++) {
            for (size_t s2 = s1; s2 <= n; s2++) {
                size_t lens[3] = {s1, s2 - s1, n - s2};
                struct tb_buf *chain = build_chain(&a, data, lens, 3, (unsigned)(s1 + s2));
                check_chain_all_ranges(chain, data, n);
            }
        }
    }
}

/* Empty segments anywhere, runs of them, and a chain of only empty ones. */
static void test_csum_chain_empty_segments(void **state) {
    (void)state;
    struct chain_arena a;
    struct lcg g = {4};
    uint8_t data[16];
    lcg_fill(&g, data, sizeof(data));
    static const size_t shapes[][9] = {
        {0, 0, 3, 0, 1, 0, 0, 5, 0},   /* 9 bytes */
        {1, 0, 1, 0, 1, 0, 1, 0, 1},   /* 5 bytes, odd/empty alternating */
        {0, 0, 0, 0, 0, 0, 0, 0, 16},
        {16, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 0, 0, 0, 0, 0, 0, 0, 0},
        {3, 0, 0, 3, 0, 0, 3, 0, 7},
    };
    for (size_t i = 0; i < TB_ARRAY_LEN(shapes); i++) {
        size_t total = 0;
        for (size_t k = 0; k < 9; k++) total += shapes[i][k];
        struct tb_buf *chain = build_chain(&a, data, shapes[i], 9, (unsigned)i);
        check_chain_all_ranges(chain, data, total);
    }
    /* No chain at all: the (folded) initial value comes back. */
    for (size_t k = 0; k < TB_ARRAY_LEN(initials); k++)
        assert_int_equal(tb_csum_chain(NULL, 0, 0, initials[k]), tb_csum_partial(data, 0, initials[k]));
}

/* Every byte its own segment: every other segment starts at an odd position. */
static void test_csum_chain_one_byte_segments(void **state) {
    (void)state;
    struct chain_arena a;
    struct lcg g = {5};
    uint8_t data[41];
    lcg_fill(&g, data, sizeof(data));
    size_t lens[41];
    for (size_t i = 0; i < TB_ARRAY_LEN(lens); i++) lens[i] = 1;
    for (size_t n = 1; n <= sizeof(data); n += 4) {
        struct tb_buf *chain = build_chain(&a, data, lens, n, (unsigned)n);
        check_chain_all_ranges(chain, data, n);
    }
}

/* All-0x00 and all-0xff data: one's-complement zero has two forms (0x0000,
 * 0xffff); the chain must land on the same one as the flat sum. */
static void test_csum_chain_all_zero_and_all_ones(void **state) {
    (void)state;
    struct chain_arena a;
    static const uint8_t fills[] = {0x00, 0xff};
    for (size_t f = 0; f < TB_ARRAY_LEN(fills); f++) {
        uint8_t data[13];
        memset(data, fills[f], sizeof(data));
        for (size_t s1 = 0; s1 <= sizeof(data); s1++) {
            for (size_t s2 = s1; s2 <= sizeof(data); s2++) {
                size_t lens[3] = {s1, s2 - s1, sizeof(data) - s2};
                struct tb_buf *chain = build_chain(&a, data, lens, 3, 0);
                check_chain_all_ranges(chain, data, sizeof(data));
            }
        }
    }
}

/* A packet-sized buffer cut at random (segments of 0..9 bytes, odd ones
 * frequent), random offsets and lengths, seeded LCG. */
static void test_csum_chain_random_segmentation(void **state) {
    (void)state;
    struct chain_arena a;
    struct lcg g = {0xc0ffee};
    uint8_t data[1500];
    size_t lens[CHAIN_MAX_SEGS];
    for (int trial = 0; trial < 40; trial++) {
        size_t total = 1 + lcg_next(&g) % sizeof(data);
        lcg_fill(&g, data, total);
        size_t nseg = 0, sum = 0;
        while (sum < total) {
            size_t n = lcg_next(&g) % 10;
            if (n > total - sum) n = total - sum;
            lens[nseg++] = n;
            sum += n;
        }
        struct tb_buf *chain = build_chain(&a, data, lens, nseg, (unsigned)trial);
        assert_int_equal(tb_csum_chain(chain, 0, total, 0), tb_csum_partial(data, total, 0));
        for (int q = 0; q < 300; q++) {
            size_t off = lcg_next(&g) % (total + 1);
            size_t len = lcg_next(&g) % (total - off + 1);
            uint32_t initial = lcg_next(&g) & 0x1ffff;
            assert_int_equal(tb_csum_chain(chain, off, len, initial), tb_csum_partial(data + off, len, initial));
        }
    }
}

/* End to end: a segment whose header and payload sit in separate, oddly
 * sized buffers is checksummed with tb_csum_chain over the pseudo-header and
 * the flattened bytes then pass tb_tcp_parse. */
static void test_csum_chain_checksums_a_tcp_segment(void **state) {
    (void)state;
    struct chain_arena a;
    uint8_t flat[TCP_MAX_HDR + 301];
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = 22;
    r.dst_port = 51515;
    r.seq = 0x0badcafeu;
    r.ack = 0x00c0ffeeu;
    r.flags = TB_TCP_ACK | TB_TCP_PSH;
    r.window = 4321;
    r.opts.has_ts = true;
    r.opts.ts_val = 99;
    r.opts.ts_ecr = 98;
    r.opts.sack_count = 1;
    r.opts.sack[0] = (struct tb_sack_block){1000, 2000};
    size_t hl = tb_tcp_emit_header(&r, flat);
    struct lcg g = {6};
    lcg_fill(&g, flat + hl, 301);
    size_t total = hl + 301;
    static const size_t cuts[][4] = {{0, 101, 99, 101}, {1, 1, 1, 298}, {300, 0, 0, 1}, {7, 0, 13, 281}};
    for (size_t c = 0; c < TB_ARRAY_LEN(cuts); c++) {
        size_t lens[5] = {hl, cuts[c][0], cuts[c][1], cuts[c][2], cuts[c][3]};
        tb_put16(flat + CSUM_OFF, 0);
        struct tb_buf *chain = build_chain(&a, flat, lens, 5, (unsigned)c);
        uint32_t sum = tb_ipv4_pseudo_sum(SRC_IP, DST_IP, TB_IPPROTO_TCP, (uint16_t)total);
        uint16_t csum = tb_csum_fold(tb_csum_chain(chain, 0, total, sum));
        tb_put16(flat + CSUM_OFF, csum);
        struct tb_tcp_repr got;
        assert_int_equal(parse_exact(flat, total, SRC_IP, DST_IP, &got), TB_WIRE_OK);
        assert_int_equal(got.payload_len, 301);
        assert_int_equal(got.opts.sack_count, 1);
        /* Same field value as the flat computation. */
        tb_put16(flat + CSUM_OFF, 0);
        assert_int_equal(csum, tb_csum_fold(tb_csum_partial(flat, total, sum)));
        tb_put16(flat + CSUM_OFF, csum);
        /* Summing from the payload offset only is the payload's sum. */
        assert_int_equal(tb_csum_chain(chain, hl, 301, 0), tb_csum_partial(flat + hl, 301, 0));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_roundtrip_syn_every_option_combination),
        cmocka_unit_test(test_tcp_roundtrip_non_syn_timestamps_and_sack_blocks),
        cmocka_unit_test(test_tcp_roundtrip_extreme_field_values),
        cmocka_unit_test(test_tcp_opts_len_values),
        cmocka_unit_test(test_tcp_emit_linux_syn_layout),
        cmocka_unit_test(test_tcp_known_data_segment_with_timestamps),
        cmocka_unit_test(test_tcp_emit_option_group_layouts),
        cmocka_unit_test(test_tcp_emit_fixed_header_layout),
        cmocka_unit_test(test_tcp_emit_writes_exactly_header_len),
        cmocka_unit_test(test_tcp_emit_ignores_options_of_the_other_segment_kind),
        cmocka_unit_test(test_tcp_parse_rejects_shorter_than_20_bytes),
        cmocka_unit_test(test_tcp_parse_rejects_data_offset_below_5),
        cmocka_unit_test(test_tcp_parse_data_offset_against_segment_length),
        cmocka_unit_test(test_tcp_parse_rejects_every_single_bit_flip),
        cmocka_unit_test(test_tcp_parse_rejects_wrong_pseudo_header_address),
        cmocka_unit_test(test_tcp_checksum_cannot_see_swapped_addresses),
        cmocka_unit_test(test_tcp_parse_rejects_option_length_0_or_1),
        cmocka_unit_test(test_tcp_parse_rejects_option_running_past_header),
        cmocka_unit_test(test_tcp_parse_rejects_kind_without_length_byte),
        cmocka_unit_test(test_tcp_parse_checksum_checked_before_options),
        cmocka_unit_test(test_tcp_parse_skips_and_counts_unknown_options),
        cmocka_unit_test(test_tcp_parse_ignores_known_kinds_with_wrong_length),
        cmocka_unit_test(test_tcp_parse_sack_block_counts),
        cmocka_unit_test(test_tcp_parse_eol_stops_option_parsing),
        cmocka_unit_test(test_tcp_parse_nop_padding_anywhere),
        cmocka_unit_test(test_tcp_parse_payload_is_not_parsed_as_options),
        cmocka_unit_test(test_tcp_parse_ignores_reserved_bits),
        cmocka_unit_test(test_tcp_parse_every_prefix_rejected),
        cmocka_unit_test(test_tcp_parse_segment_length_limit),
        cmocka_unit_test(test_csum_chain_single_segment),
        cmocka_unit_test(test_csum_chain_two_way_split_everywhere),
        cmocka_unit_test(test_csum_chain_three_way_split_everywhere),
        cmocka_unit_test(test_csum_chain_empty_segments),
        cmocka_unit_test(test_csum_chain_one_byte_segments),
        cmocka_unit_test(test_csum_chain_all_zero_and_all_ones),
        cmocka_unit_test(test_csum_chain_random_segmentation),
        cmocka_unit_test(test_csum_chain_checksums_a_tcp_segment),
    };
    return cmocka_run_group_tests_name("tcp_wire", tests, NULL, NULL);
}
