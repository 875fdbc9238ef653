/* IPv4 header (RFC 791); validity checks after RFC 1122 §3.2.1. */
#include "tcpbed/wire.h"

/* The view's structural checks, then what terminating a datagram adds:
 * it is all there, and its checksum holds. */
enum tb_wire_err tb_ipv4_parse(const uint8_t *p, size_t len, struct tb_ipv4_repr *r) {
    struct tb_ipv4_view v;
    enum tb_wire_err err = tb_view_ipv4(p, len, &v);
    if (err != TB_WIRE_OK) return err;
    if (v.clamped) return TB_WIRE_IP_TOTAL_LEN_BEYOND_FRAME;
    /* RFC 1122 §3.2.1.2: a datagram whose checksum fails is discarded. */
    if (tb_csum(p, v.header_len) != 0) return TB_WIRE_IP_BAD_CHECKSUM;
    r->tos = v.tos;
    r->total_len = v.total_len;
    r->header_len = v.header_len;
    r->ident = v.ident;
    r->flags_frag = v.flags_frag;
    r->ttl = v.ttl;
    r->protocol = v.protocol;
    r->src = v.src;
    r->dst = v.dst;
    return TB_WIRE_OK;
}

void tb_ipv4_emit(const struct tb_ipv4_repr *r, uint8_t out[TB_IPV4_HDR_LEN]) {
    out[0] = 0x45;
    out[1] = r->tos;
    tb_put16(out + 2, r->total_len);
    tb_put16(out + 4, r->ident);
    tb_put16(out + 6, r->flags_frag);
    out[8] = r->ttl;
    out[9] = r->protocol;
    tb_put16(out + 10, 0);
    tb_put32(out + 12, r->src);
    tb_put32(out + 16, r->dst);
    tb_put16(out + 10, tb_csum(out, TB_IPV4_HDR_LEN));
}

uint32_t tb_ipv4_pseudo_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t l4_len) {
    uint8_t ph[12];
    tb_put32(ph, src);
    tb_put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = protocol;
    tb_put16(ph + 10, l4_len);
    return tb_csum_partial(ph, sizeof(ph), 0);
}

/* The TTL shares a 16-bit word with the protocol, the TOS with version/IHL. */
void tb_ipv4_rewrite_ttl(uint8_t *p, uint8_t ttl) {
    uint16_t old_word = tb_get16(p + 8);
    p[8] = ttl;
    tb_put16(p + TB_IPV4_CSUM_OFF, tb_csum_update16(tb_get16(p + TB_IPV4_CSUM_OFF), old_word, tb_get16(p + 8)));
}

void tb_ipv4_rewrite_tos(uint8_t *p, uint8_t tos) {
    uint16_t old_word = tb_get16(p);
    p[TB_IPV4_TOS_OFF] = tos;
    tb_put16(p + TB_IPV4_CSUM_OFF, tb_csum_update16(tb_get16(p + TB_IPV4_CSUM_OFF), old_word, tb_get16(p)));
}
