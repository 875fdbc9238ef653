/* ARP for Ethernet and IPv4 (RFC 826). */
#include <string.h>

#include "tcpbed/wire.h"

#define ARP_HTYPE_ETHERNET 1

enum tb_wire_err tb_arp_parse(const uint8_t *p, size_t len, struct tb_arp_repr *r) {
    if (len < TB_ARP_LEN) return TB_WIRE_TRUNCATED;
    if (tb_get16(p) != ARP_HTYPE_ETHERNET || p[4] != TB_ETH_ADDR_LEN) return TB_WIRE_ARP_BAD_HTYPE;
    if (tb_get16(p + 2) != TB_ETHERTYPE_IPV4 || p[5] != 4) return TB_WIRE_ARP_BAD_PTYPE;
    r->op = tb_get16(p + 6);
    if (r->op != TB_ARP_OP_REQUEST && r->op != TB_ARP_OP_REPLY) return TB_WIRE_ARP_BAD_OP;
    memcpy(r->sha.b, p + 8, TB_ETH_ADDR_LEN);
    r->spa = tb_get32(p + 14);
    memcpy(r->tha.b, p + 18, TB_ETH_ADDR_LEN);
    r->tpa = tb_get32(p + 24);
    return TB_WIRE_OK;
}

void tb_arp_emit(const struct tb_arp_repr *r, uint8_t out[TB_ARP_LEN]) {
    tb_put16(out, ARP_HTYPE_ETHERNET);
    tb_put16(out + 2, TB_ETHERTYPE_IPV4);
    out[4] = TB_ETH_ADDR_LEN;
    out[5] = 4;
    tb_put16(out + 6, r->op);
    memcpy(out + 8, r->sha.b, TB_ETH_ADDR_LEN);
    tb_put32(out + 14, r->spa);
    memcpy(out + 18, r->tha.b, TB_ETH_ADDR_LEN);
    tb_put32(out + 24, r->tpa);
}
