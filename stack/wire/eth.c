#include <string.h>

#include "tcpbed/wire.h"

const struct tb_mac tb_mac_broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

bool tb_mac_equal(const struct tb_mac *a, const struct tb_mac *b) {
    return memcmp(a->b, b->b, TB_ETH_ADDR_LEN) == 0;
}

enum tb_wire_err tb_eth_parse(const uint8_t *p, size_t len, struct tb_eth_repr *r, size_t *payload_off) {
    if (len < TB_ETH_HDR_LEN) return TB_WIRE_ETH_RUNT;
    memcpy(r->dst.b, p, TB_ETH_ADDR_LEN);
    memcpy(r->src.b, p + 6, TB_ETH_ADDR_LEN);
    r->ethertype = tb_get16(p + 12);
    *payload_off = TB_ETH_HDR_LEN;
    return TB_WIRE_OK;
}

void tb_eth_emit(const struct tb_eth_repr *r, uint8_t out[TB_ETH_HDR_LEN]) {
    memcpy(out, r->dst.b, TB_ETH_ADDR_LEN);
    memcpy(out + 6, r->src.b, TB_ETH_ADDR_LEN);
    tb_put16(out + 12, r->ethertype);
}
