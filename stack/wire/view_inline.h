/* The header views' bodies, inline: tb_view_ipv4 and tb_view_tcp (view.c)
 * are these, and so are the structural checks of tb_ipv4_parse and
 * tb_tcp_parse, which run for every received segment: one definition,
 * inlined where the speed matters. */
#ifndef TB_WIRE_VIEW_INLINE_H
#define TB_WIRE_VIEW_INLINE_H

#include "tcpbed/wire.h"

/* RFC 791 §3.1 header layout; the same structural checks as tb_ipv4_parse
 * except that a short datagram is clamped instead of refused. */
/* The fields of a header whose length (header_len <= len) is known. */
static inline void view_ipv4_fields(const uint8_t *p, size_t len, uint16_t header_len, struct tb_ipv4_view *v) {
    uint16_t total_len = tb_get16(p + 2);
    v->tos = p[1];
    v->ecn = p[1] & 3;
    v->total_len = total_len;
    v->header_len = header_len;
    v->ident = tb_get16(p + 4);
    v->flags_frag = tb_get16(p + 6);
    v->frag_offset = (uint16_t)((v->flags_frag & TB_IPV4_FRAG_OFF_MASK) * 8);
    v->df = (v->flags_frag & TB_IPV4_FLAG_DF) != 0;
    v->mf = (v->flags_frag & TB_IPV4_FLAG_MF) != 0;
    v->ttl = p[8];
    v->protocol = p[9];
    v->checksum = tb_get16(p + TB_IPV4_CSUM_OFF);
    v->src = tb_get32(p + 12);
    v->dst = tb_get32(p + 16);
    /* Ethernet padding may follow total_len; a cut datagram ends early. */
    size_t end = total_len >= header_len && total_len <= len ? total_len : len;
    v->clamped = total_len > len;
    v->payload = p + header_len;
    v->payload_len = end - header_len;
}

static inline enum tb_wire_err view_ipv4(const uint8_t *p, size_t len, struct tb_ipv4_view *v) {
    if (len < TB_IPV4_HDR_LEN) return TB_WIRE_TRUNCATED;
    if ((p[0] >> 4) != 4) return TB_WIRE_IP_BAD_VERSION;
    uint16_t header_len = (uint16_t)((p[0] & 0x0f) * 4);
    if (header_len < TB_IPV4_HDR_LEN) return TB_WIRE_IP_BAD_IHL;
    if (header_len > len) return TB_WIRE_IP_IHL_BEYOND_PACKET;
    if (tb_get16(p + 2) < header_len) return TB_WIRE_IP_BAD_TOTAL_LEN;
    view_ipv4_fields(p, len, header_len, v);
    return TB_WIRE_OK;
}

/* RFC 9293 §3.1 header layout. */
static inline enum tb_wire_err view_tcp(const uint8_t *p, size_t len, struct tb_tcp_view *v) {
    if (len < TB_TCP_HDR_LEN) return TB_WIRE_TRUNCATED;
    uint16_t header_len = (uint16_t)((p[12] >> 4) * 4);
    if (header_len < TB_TCP_HDR_LEN || header_len > len) return TB_WIRE_TCP_BAD_DATA_OFFSET;
    v->src_port = tb_get16(p);
    v->dst_port = tb_get16(p + 2);
    v->seq = tb_get32(p + 4);
    v->ack = tb_get32(p + 8);
    v->flags = p[13];
    v->window = tb_get16(p + 14);
    v->checksum = tb_get16(p + TB_TCP_CSUM_OFF);
    v->urgent = tb_get16(p + 18);
    v->header_len = header_len;
    v->options = p + TB_TCP_HDR_LEN;
    v->options_len = header_len - TB_TCP_HDR_LEN;
    v->payload = p + header_len;
    v->payload_len = len - header_len;
    return TB_WIRE_OK;
}

#endif
