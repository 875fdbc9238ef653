/* Fuzz target `wire`: every parser of stack/wire/ (Ethernet, ARP, IPv4,
 * ICMP, TCP header and options) and the checksum helpers.
 *
 * Input: one mode byte, then the bytes to parse.
 *   mode & 7    the layer the bytes start at: 0 Ethernet frame (dispatch on
 *               the ethertype and IP protocol), 1 ARP, 2 IPv4 packet, 3 ICMP
 *               message, 4 TCP segment, 5..7 like 0
 *   mode & 8    fix the checksum of the starting layer (IPv4 header, ICMP or
 *               TCP with our pseudo-header) so that the fuzzer gets past it
 *               into options and payload
 *   mode >> 4   where the checksum-chain test splits the bytes
 *
 * Properties (abort() on a violation):
 *   - a parser reads only inside [p, p+len) (ASan: the bytes sit in an
 *     exact-size allocation);
 *   - what a parser accepts re-emits (tb_*_emit, tb_tcp_emit_header) into
 *     bytes that parse back to the same representation (round trip), and
 *     for Ethernet and ARP into the very same bytes;
 *   - tb_csum_chain over a split chain equals tb_csum_partial over the flat
 *     bytes; an RFC 1624 incremental update of a valid IPv4 header (TTL
 *     decrement) leaves a valid checksum equal to a full recomputation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "tcpbed/wire.h"

#define SRC_IP 0x0a000002u
#define DST_IP 0x0a000001u

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "wire: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            abort();                                                           \
        }                                                                      \
    } while (0)

static void check_eth(const uint8_t *p, size_t len, const struct tb_eth_repr *e) {
    uint8_t out[TB_ETH_HDR_LEN];
    tb_eth_emit(e, out);
    CHECK(memcmp(out, p, TB_ETH_HDR_LEN) == 0, "Ethernet header does not re-emit to the same bytes");
    struct tb_eth_repr e2;
    size_t off2;
    CHECK(tb_eth_parse(out, sizeof(out), &e2, &off2) == TB_WIRE_OK && off2 == TB_ETH_HDR_LEN, "re-parse");
    CHECK(tb_mac_equal(&e->dst, &e2.dst) && tb_mac_equal(&e->src, &e2.src) && e->ethertype == e2.ethertype,
          "Ethernet round trip");
    (void)len;
}

static void fuzz_arp(const uint8_t *p, size_t len) {
    struct tb_arp_repr a;
    if (tb_arp_parse(p, len, &a) != TB_WIRE_OK) return;
    CHECK(len >= TB_ARP_LEN, "ARP accepted %zu bytes", len);
    CHECK(a.op == TB_ARP_OP_REQUEST || a.op == TB_ARP_OP_REPLY, "op %u", a.op);
    uint8_t out[TB_ARP_LEN];
    tb_arp_emit(&a, out);
    CHECK(memcmp(out, p, TB_ARP_LEN) == 0, "ARP does not re-emit to the same 28 bytes");
    struct tb_arp_repr a2;
    CHECK(tb_arp_parse(out, sizeof(out), &a2) == TB_WIRE_OK, "ARP re-parse");
    CHECK(a.op == a2.op && a.spa == a2.spa && a.tpa == a2.tpa && tb_mac_equal(&a.sha, &a2.sha) &&
              tb_mac_equal(&a.tha, &a2.tha),
          "ARP round trip");
}

static void fuzz_icmp(const uint8_t *p, size_t len) {
    struct tb_icmp_repr r;
    if (tb_icmp_parse(p, len, &r) != TB_WIRE_OK) return;
    CHECK(len >= TB_ICMP_HDR_LEN && r.payload == p + TB_ICMP_HDR_LEN && r.payload_len == len - TB_ICMP_HDR_LEN,
          "ICMP payload bounds");
    uint8_t *out = malloc(len);
    if (out == NULL) abort();
    size_t n = tb_icmp_emit(&r, out);
    CHECK(n == len, "ICMP emitted %zu of %zu bytes", n, len);
    CHECK(tb_csum(out, n) == 0, "emitted ICMP checksum does not verify");
    struct tb_icmp_repr r2;
    enum tb_wire_err e = tb_icmp_parse(out, n, &r2);
    CHECK(e == TB_WIRE_OK, "emitted ICMP does not parse: %s", tb_wire_err_name(e));
    CHECK(r.type == r2.type && r.code == r2.code && r.ident == r2.ident && r.seq == r2.seq &&
              r.next_hop_mtu == r2.next_hop_mtu && r.payload_len == r2.payload_len &&
              memcmp(r.payload, r2.payload, r.payload_len) == 0,
          "ICMP round trip (type %u code %u)", r.type, r.code);
    if (r.type == TB_ICMP_ECHO_REQUEST || r.type == TB_ICMP_ECHO_REPLY)
        CHECK(memcmp(out, p, 2) == 0 && memcmp(out + 4, p + 4, len - 4) == 0, "echo does not re-emit to the same bytes");
    free(out);
}

static bool same_opts(const struct tb_tcp_opts *a, const struct tb_tcp_opts *b, uint8_t flags) {
    if (a->has_ts != b->has_ts || (a->has_ts && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))) return false;
    if (flags & TB_TCP_SYN) {
        /* A SYN carries MSS, SACK-permitted, timestamps and window scale. */
        if (a->has_mss != b->has_mss || (a->has_mss && a->mss != b->mss)) return false;
        if (a->has_wscale != b->has_wscale || (a->has_wscale && a->wscale != b->wscale)) return false;
        if (a->sack_permitted != b->sack_permitted || b->sack_count != 0) return false;
    } else {
        /* Other segments carry timestamps and SACK blocks. */
        if (b->has_mss || b->has_wscale || b->sack_permitted) return false;
        if (a->sack_count != b->sack_count) return false;
        for (int i = 0; i < a->sack_count; i++)
            if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right) return false;
    }
    return b->unknown_count == 0;
}

static void fuzz_tcp(const uint8_t *p, size_t len, uint32_t src, uint32_t dst) {
    struct tb_tcp_repr r;
    if (tb_tcp_parse(p, len, src, dst, &r) != TB_WIRE_OK) return;
    CHECK(r.header_len >= TB_TCP_HDR_LEN && r.header_len <= len && r.header_len <= TB_TCP_HDR_LEN + TB_TCP_MAX_OPT_LEN,
          "header_len %u of %zu", r.header_len, len);
    CHECK(r.payload == p + r.header_len && r.payload_len == len - r.header_len, "TCP payload bounds");
    CHECK(r.opts.sack_count <= TB_TCP_MAX_SACK_BLOCKS, "sack_count %u", r.opts.sack_count);
    size_t opt_len = tb_tcp_opts_len(&r.opts, r.flags);
    CHECK(opt_len <= TB_TCP_MAX_OPT_LEN, "the parser accepted options that need %zu bytes to re-emit", opt_len);
    uint8_t *out = malloc(TB_TCP_HDR_LEN + TB_TCP_MAX_OPT_LEN + r.payload_len);
    if (out == NULL) abort();
    size_t hl = tb_tcp_emit_header(&r, out);
    CHECK(hl == TB_TCP_HDR_LEN + opt_len && hl % 4 == 0, "emitted header length %zu", hl);
    memcpy(out + hl, r.payload, r.payload_len);
    size_t n = hl + r.payload_len;
    if (n <= 0xffff) {
        uint32_t sum = tb_ipv4_pseudo_sum(src, dst, TB_IPPROTO_TCP, (uint16_t)n);
        tb_put16(out + 16, tb_csum_fold(tb_csum_partial(out, n, sum)));
        struct tb_tcp_repr r2;
        enum tb_wire_err e = tb_tcp_parse(out, n, src, dst, &r2);
        CHECK(e == TB_WIRE_OK, "emitted TCP segment does not parse: %s", tb_wire_err_name(e));
        CHECK(r.src_port == r2.src_port && r.dst_port == r2.dst_port && r.seq == r2.seq && r.ack == r2.ack &&
                  r.flags == r2.flags && r.window == r2.window && r.urgent == r2.urgent && r2.header_len == hl &&
                  r.payload_len == r2.payload_len && memcmp(r.payload, r2.payload, r.payload_len) == 0,
              "TCP header round trip");
        CHECK(same_opts(&r.opts, &r2.opts, r.flags), "TCP options round trip (flags %#x)", r.flags);
    }
    free(out);
}

static void fuzz_ipv4(const uint8_t *p, size_t len) {
    struct tb_ipv4_repr ip;
    if (tb_ipv4_parse(p, len, &ip) != TB_WIRE_OK) return;
    CHECK(ip.header_len >= TB_IPV4_HDR_LEN && ip.header_len <= ip.total_len && ip.total_len <= len,
          "IPv4 lengths %u %u %zu", ip.header_len, ip.total_len, len);
    CHECK(tb_csum(p, ip.header_len) == 0, "accepted a header whose checksum does not verify");
    /* Round trip: a 20-byte header (options are never emitted) and the payload. */
    size_t plen = ip.total_len - ip.header_len;
    uint8_t *out = malloc(TB_IPV4_HDR_LEN + plen);
    if (out == NULL) abort();
    struct tb_ipv4_repr e = ip;
    e.total_len = (uint16_t)(TB_IPV4_HDR_LEN + plen);
    tb_ipv4_emit(&e, out);
    memcpy(out + TB_IPV4_HDR_LEN, p + ip.header_len, plen);
    struct tb_ipv4_repr ip2;
    enum tb_wire_err err = tb_ipv4_parse(out, TB_IPV4_HDR_LEN + plen, &ip2);
    CHECK(err == TB_WIRE_OK, "emitted IPv4 header does not parse: %s", tb_wire_err_name(err));
    CHECK(ip2.src == ip.src && ip2.dst == ip.dst && ip2.protocol == ip.protocol && ip2.ttl == ip.ttl &&
              ip2.tos == ip.tos && ip2.ident == ip.ident && ip2.flags_frag == ip.flags_frag &&
              ip2.header_len == TB_IPV4_HDR_LEN && ip2.total_len == e.total_len,
          "IPv4 round trip");
    if (ip.header_len == TB_IPV4_HDR_LEN)
        CHECK(memcmp(out, p, 10) == 0 && memcmp(out + 12, p + 12, 8) == 0,
              "an option-less header does not re-emit to the same bytes");
    /* RFC 1624: decrement the TTL in place and update the checksum. */
    if (ip.ttl > 0) {
        uint16_t old_word = tb_get16(out + 8), csum = tb_get16(out + 10);
        out[8]--;
        tb_put16(out + 10, tb_csum_update16(csum, old_word, tb_get16(out + 8)));
        CHECK(tb_csum(out, TB_IPV4_HDR_LEN) == 0, "incremental update left a checksum that does not verify");
        uint16_t updated = tb_get16(out + 10);
        tb_put16(out + 10, 0);
        CHECK(updated == tb_csum(out, TB_IPV4_HDR_LEN), "incremental update %#x differs from recomputation %#x",
              updated, tb_csum(out, TB_IPV4_HDR_LEN));
    }
    free(out);
    const uint8_t *l4 = p + ip.header_len;
    if (ip.protocol == TB_IPPROTO_ICMP) fuzz_icmp(l4, plen);
    else if (ip.protocol == TB_IPPROTO_TCP) fuzz_tcp(l4, plen, ip.src, ip.dst);
}

static void fuzz_eth(const uint8_t *p, size_t len) {
    struct tb_eth_repr e;
    size_t off;
    if (tb_eth_parse(p, len, &e, &off) != TB_WIRE_OK) return;
    CHECK(off == TB_ETH_HDR_LEN && len >= TB_ETH_HDR_LEN, "Ethernet bounds");
    check_eth(p, len, &e);
    if (e.ethertype == TB_ETHERTYPE_ARP) fuzz_arp(p + off, len - off);
    else if (e.ethertype == TB_ETHERTYPE_IPV4) fuzz_ipv4(p + off, len - off);
}

/* tb_csum_chain over the bytes split in three at input-chosen points must
 * equal the flat sum, whatever the parity of the pieces. */
static void fuzz_csum(const uint8_t *p, size_t len, uint8_t split) {
    if (len == 0) return;
    if (len > 256) len = 256;   /* the chain logic is the same for any length; keep runs fast */
    size_t a = (split & 3) * len / 4, b = a + ((split >> 2) & 3) * (len - a) / 4;
    struct tb_buf seg[3];
    memset(seg, 0, sizeof(seg));
    const uint8_t *starts[3] = {p, p + a, p + b};
    size_t lens[3] = {a, b - a, len - b};
    for (int i = 0; i < 3; i++) {
        seg[i].data = (uint8_t *)(uintptr_t)starts[i];
        seg[i].len = (uint32_t)lens[i];
        seg[i].next = i < 2 ? &seg[i + 1] : NULL;
    }
    uint32_t flat = tb_csum_partial(p, len, 0x1234);
    uint32_t chain = tb_csum_chain(&seg[0], 0, len, 0x1234);
    CHECK(tb_csum_fold(flat) == tb_csum_fold(chain), "chained checksum %#x != flat %#x (split %zu/%zu of %zu)",
          chain, flat, a, b, len);
    size_t skip = split % (len + 1);
    CHECK(tb_csum_fold(tb_csum_chain(&seg[0], skip, len - skip, 0)) == tb_csum_fold(tb_csum_partial(p + skip, len - skip, 0)),
          "chained checksum from offset %zu", skip);
}

int fuzz_one(const uint8_t *data, size_t len) {
    if (len < 1) return 0;
    uint8_t mode = data[0];
    size_t n = len - 1;
    /* An exact-size copy: the parsers get no slack to over-read into, and
     * the fix-ups below need writable bytes. */
    uint8_t *p = malloc(n > 0 ? n : 1);
    if (p == NULL) abort();
    memcpy(p, data + 1, n);
    bool fix = (mode & 8) != 0;
    switch (mode & 7) {
    case 1: fuzz_arp(p, n); break;
    case 2:
        if (fix && n >= TB_IPV4_HDR_LEN) {
            size_t ihl = (size_t)(p[0] & 0x0f) * 4;
            if (ihl >= TB_IPV4_HDR_LEN && ihl <= n) {
                tb_put16(p + 10, 0);
                tb_put16(p + 10, tb_csum(p, ihl));
            }
        }
        fuzz_ipv4(p, n);
        break;
    case 3:
        if (fix && n >= TB_ICMP_HDR_LEN) {
            tb_put16(p + 2, 0);
            tb_put16(p + 2, tb_csum(p, n));
        }
        fuzz_icmp(p, n);
        break;
    case 4:
        if (fix && n >= TB_TCP_HDR_LEN && n <= 0xffff) {
            tb_put16(p + 16, 0);
            uint32_t sum = tb_ipv4_pseudo_sum(SRC_IP, DST_IP, TB_IPPROTO_TCP, (uint16_t)n);
            tb_put16(p + 16, tb_csum_fold(tb_csum_partial(p, n, sum)));
        }
        fuzz_tcp(p, n, SRC_IP, DST_IP);
        break;
    default: fuzz_eth(p, n); break;
    }
    fuzz_csum(p, n, (uint8_t)(mode >> 4));
    free(p);
    return 0;
}
