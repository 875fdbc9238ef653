/* ICMP for IPv4 (RFC 792); the next-hop MTU field after RFC 1191 §4. */
#include <string.h>

#include "tcpbed/wire.h"

enum tb_wire_err tb_icmp_parse(const uint8_t *p, size_t len, struct tb_icmp_repr *r) {
    if (len < TB_ICMP_HDR_LEN) return TB_WIRE_TRUNCATED;
    if (tb_csum(p, len) != 0) return TB_WIRE_ICMP_BAD_CHECKSUM;
    memset(r, 0, sizeof(*r));
    r->type = p[0];
    r->code = p[1];
    r->payload = p + TB_ICMP_HDR_LEN;
    r->payload_len = len - TB_ICMP_HDR_LEN;
    switch (r->type) {
    case TB_ICMP_ECHO_REQUEST:
    case TB_ICMP_ECHO_REPLY:
        r->ident = tb_get16(p + 4);
        r->seq = tb_get16(p + 6);
        break;
    case TB_ICMP_DEST_UNREACH:
    case TB_ICMP_TIME_EXCEEDED:
        /* RFC 792: the quote is the IP header plus the first 64 bits of
         * data; checked by the view, so every accepted quote can be viewed. */
        {
            struct tb_icmp_quote quote;
            if (tb_view_icmp_quote(r->payload, r->payload_len, &quote) != TB_WIRE_OK)
                return TB_WIRE_ICMP_ERROR_TRUNCATED;
        }
        if (r->type == TB_ICMP_DEST_UNREACH && r->code == TB_ICMP_UNREACH_FRAG_NEEDED)
            r->next_hop_mtu = tb_get16(p + 6);
        break;
    default:
        break;
    }
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
