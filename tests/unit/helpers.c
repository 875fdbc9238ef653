#include "helpers.h"

#include <string.h>

const struct tb_mac t_mac_us = {{0x02, 0, 0, 0, 0, 0x01}};
const struct tb_mac t_mac_peer = {{0x02, 0, 0, 0, 0, 0x02}};

void t_config(struct tb_config *cfg) {
    tb_config_default(cfg);
    cfg->seed = 42;
    cfg->mac = t_mac_us;
    cfg->ipv4_addr = T_IP_US;
    cfg->ipv4_prefix_len = 24;
    cfg->buf_count = 64;
    cfg->tx_queue_len = 32;
    cfg->arp_cache_entries = 4;
    cfg->arp_pending_max = 6;
    cfg->arp_pending_per_entry = 3;
}

struct tb_stack *t_stack(const struct tb_config *cfg) {
    struct tb_stack *st = tb_stack_new(cfg);
    assert_non_null(st);
    return st;
}

void t_stack_done(struct tb_stack *st) {
    const char *why = NULL;
    bool ok = tb_stack_check(st, &why);
    if (!ok) fail_msg("stack self-check: %s", why);
    struct t_frame frames[8];
    while (t_drain(st, frames, 8) > 0) {
    }
    tb_stack_free(st);   /* asserts every buffer came back to the pool */
}

void t_input(struct tb_stack *st, tb_time_ns now, const uint8_t *frame, size_t len) {
    struct tb_buf *b = tb_stack_alloc_rx(st, len);
    assert_non_null(b);
    memcpy(b->data, frame, len);
    tb_stack_input(st, now, b);
}

static size_t eth(uint8_t *out, const struct tb_mac *dst, const struct tb_mac *src, uint16_t type) {
    struct tb_eth_repr e = {.dst = *dst, .src = *src, .ethertype = type};
    tb_eth_emit(&e, out);
    return TB_ETH_HDR_LEN;
}

size_t t_build_arp(uint8_t *out, uint16_t op, const struct tb_mac *eth_dst, const struct tb_mac *sha, uint32_t spa,
                   const struct tb_mac *tha, uint32_t tpa) {
    size_t off = eth(out, eth_dst, sha, TB_ETHERTYPE_ARP);
    struct tb_arp_repr a = {.op = op, .sha = *sha, .spa = spa, .tha = *tha, .tpa = tpa};
    tb_arp_emit(&a, out + off);
    return off + TB_ARP_LEN;
}

size_t t_build_ipv4(uint8_t *out, const struct tb_mac *eth_dst, uint32_t src, uint32_t dst, uint8_t proto,
                    const uint8_t *payload, size_t payload_len) {
    size_t off = eth(out, eth_dst, &t_mac_peer, TB_ETHERTYPE_IPV4);
    struct tb_ipv4_repr ip = {.src = src, .dst = dst, .protocol = proto, .ttl = 64, .ident = 7,
                              .total_len = (uint16_t)(TB_IPV4_HDR_LEN + payload_len)};
    tb_ipv4_emit(&ip, out + off);
    memcpy(out + off + TB_IPV4_HDR_LEN, payload, payload_len);
    return off + TB_IPV4_HDR_LEN + payload_len;
}

size_t t_build_echo(uint8_t *out, uint8_t type, uint32_t src, uint32_t dst, uint16_t ident, uint16_t seq,
                    const uint8_t *data, size_t data_len) {
    uint8_t icmp[1500];
    struct tb_icmp_repr r = {.type = type, .ident = ident, .seq = seq, .payload = data, .payload_len = data_len};
    size_t n = tb_icmp_emit(&r, icmp);
    return t_build_ipv4(out, &t_mac_us, src, dst, TB_IPPROTO_ICMP, icmp, n);
}

size_t t_drain(struct tb_stack *st, struct t_frame *out, size_t max) {
    size_t n = 0;
    struct tb_buf *b;
    while (n < max && tb_stack_drain_tx(st, &b, 1) == 1) {
        out[n].len = tb_buf_copy_out(b, 0, out[n].bytes, sizeof(out[n].bytes));
        tb_buf_free(b);
        n++;
    }
    return n;
}

void t_learn_peer(struct tb_stack *st, tb_time_ns now) {
    uint8_t f[64];
    static const struct tb_mac zero = {{0}};
    size_t n = t_build_arp(f, TB_ARP_OP_REQUEST, &tb_mac_broadcast, &t_mac_peer, T_IP_PEER, &zero, T_IP_US);
    t_input(st, now, f, n);
    struct t_frame out[4];
    assert_int_equal(t_drain(st, out, 4), 1);
    assert_true(tb_stack_arp_lookup(st, T_IP_PEER, NULL));
}

uint64_t t_drops(struct tb_stack *st, enum tb_drop_reason r) {
    struct tb_stats s;
    tb_stack_stats(st, &s);
    return s.drops[r];
}
