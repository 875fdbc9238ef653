/* ICMP for IPv4 (RFC 792); the next-hop MTU field after RFC 1191 §4. */
#include <string.h>

#include "tcpbed/wire.h"

/* The checksum first (a damaged message is damaged, whatever it quotes),
 * then the view's structure. */
enum tb_wire_err tb_icmp_parse(const uint8_t *p, size_t len, struct tb_icmp_repr *r) {
    if (len < TB_ICMP_HDR_LEN) return TB_WIRE_TRUNCATED;
    if (tb_csum(p, len) != 0) return TB_WIRE_ICMP_BAD_CHECKSUM;
    struct tb_icmp_view v;
    enum tb_wire_err err = tb_view_icmp(p, len, &v);
    if (err != TB_WIRE_OK) return err;
    memset(r, 0, sizeof(*r));
    r->type = v.type;
    r->code = v.code;
    r->ident = v.ident;
    r->seq = v.seq;
    r->next_hop_mtu = v.next_hop_mtu;
    r->payload = v.payload;
    r->payload_len = v.payload_len;
    return TB_WIRE_OK;
}

size_t tb_icmp_emit(const struct tb_icmp_repr *r, uint8_t *out) {
    if (r->payload_len > 0 && r->payload != out + TB_ICMP_HDR_LEN)
        memmove(out + TB_ICMP_HDR_LEN, r->payload, r->payload_len);
    out[0] = r->type;
    out[1] = r->code;
    tb_put16(out + 2, 0);
    switch (r->type) {
    case TB_ICMP_ECHO_REQUEST:
    case TB_ICMP_ECHO_REPLY:
        tb_put16(out + 4, r->ident);
        tb_put16(out + 6, r->seq);
        break;
    case TB_ICMP_DEST_UNREACH:
        tb_put16(out + 4, 0);
        tb_put16(out + 6, r->code == TB_ICMP_UNREACH_FRAG_NEEDED ? r->next_hop_mtu : 0);
        break;
    default:
        tb_put32(out + 4, 0);
        break;
    }
    size_t len = TB_ICMP_HDR_LEN + r->payload_len;
    tb_put16(out + 2, tb_csum(out, len));
    return len;
}
