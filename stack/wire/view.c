/* Header views: bounds-checked field access without checksum verification
 * (see wire.h). Every read is preceded by a length check against the bytes
 * the caller said are present. */
#include <string.h>

#include "tcpbed/wire.h"

enum tb_wire_err tb_view_icmp_quote(const uint8_t *q, size_t len, struct tb_icmp_quote *v) {
    /* RFC 792: the IP header plus the first 64 bits of the datagram's data,
     * enough to hold the ports (and TCP's sequence number) that name the
     * connection; anything less cannot be matched. The quoted header is
     * read as it came back, not judged: the router that quotes it may
     * have rewritten its total length (4.4BSD returns ip_len less the
     * header), so only the header length and the bytes present count. */
    if (len < TB_IPV4_HDR_LEN + TB_ICMP_QUOTE_DATA_LEN) return TB_WIRE_ICMP_ERROR_TRUNCATED;
    uint16_t header_len = (uint16_t)((q[0] & 0x0f) * 4);
    if (header_len < TB_IPV4_HDR_LEN || len < (size_t)header_len + TB_ICMP_QUOTE_DATA_LEN)
        return TB_WIRE_ICMP_ERROR_TRUNCATED;
    tb_view_ipv4_fields(q, len, header_len, &v->ip);
    v->ip.payload_len = len - header_len;   /* the quote is what is present */
    const uint8_t *l4 = v->ip.payload;
    bool ports = v->ip.protocol == TB_IPPROTO_TCP || v->ip.protocol == TB_IPPROTO_UDP;
    v->src_port = ports ? tb_get16(l4) : 0;
    v->dst_port = ports ? tb_get16(l4 + 2) : 0;
    v->tcp_seq = v->ip.protocol == TB_IPPROTO_TCP ? tb_get32(l4 + 4) : 0;
    return TB_WIRE_OK;
}

/* RFC 792 message layouts; the next-hop MTU after RFC 1191 §4. */
enum tb_wire_err tb_view_icmp(const uint8_t *p, size_t len, struct tb_icmp_view *v) {
    if (len < TB_ICMP_HDR_LEN) return TB_WIRE_TRUNCATED;
    memset(v, 0, sizeof(*v));
    v->type = p[0];
    v->code = p[1];
    v->checksum = tb_get16(p + TB_ICMP_CSUM_OFF);
    v->payload = p + TB_ICMP_HDR_LEN;
    v->payload_len = len - TB_ICMP_HDR_LEN;
    switch (v->type) {
    case TB_ICMP_ECHO_REQUEST:
    case TB_ICMP_ECHO_REPLY:
        v->ident = tb_get16(p + 4);
        v->seq = tb_get16(p + 6);
        break;
    case TB_ICMP_DEST_UNREACH:
    case TB_ICMP_TIME_EXCEEDED:
        if (tb_view_icmp_quote(v->payload, v->payload_len, &v->quote) != TB_WIRE_OK)
            return TB_WIRE_ICMP_ERROR_TRUNCATED;
        v->has_quote = true;
        if (v->type == TB_ICMP_DEST_UNREACH && v->code == TB_ICMP_UNREACH_FRAG_NEEDED)
            v->next_hop_mtu = tb_get16(p + 6);
        break;
    default:
        break;
    }
    return TB_WIRE_OK;
}

enum tb_wire_err tb_view_frame(const uint8_t *f, size_t len, struct tb_frame_view *v) {
    memset(v, 0, sizeof(*v));
    enum tb_wire_err err = tb_view_eth(f, len, &v->eth);
    if (err != TB_WIRE_OK) return err;
    v->layers |= TB_VIEW_ETH;
    if (v->eth.ethertype == TB_ETHERTYPE_ARP) {
        err = tb_arp_parse(v->eth.payload, v->eth.payload_len, &v->arp);
        if (err == TB_WIRE_OK) v->layers |= TB_VIEW_ARP;
        return err;
    }
    if (v->eth.ethertype != TB_ETHERTYPE_IPV4) return TB_WIRE_OK;
    err = tb_view_ipv4(v->eth.payload, v->eth.payload_len, &v->ip);
    if (err != TB_WIRE_OK) return err;
    v->layers |= TB_VIEW_IPV4;
    v->ip_off = TB_ETH_HDR_LEN;
    /* RFC 791 §3.2: only the first fragment starts with the transport header. */
    if (v->ip.frag_offset != 0) return TB_WIRE_OK;
    v->l4_off = v->ip_off + v->ip.header_len;
    switch (v->ip.protocol) {
    case TB_IPPROTO_TCP:
        err = tb_view_tcp(v->ip.payload, v->ip.payload_len, &v->tcp);
        if (err == TB_WIRE_OK) v->layers |= TB_VIEW_TCP;
        return err;
    case TB_IPPROTO_ICMP:
        err = tb_view_icmp(v->ip.payload, v->ip.payload_len, &v->icmp);
        if (err == TB_WIRE_OK) v->layers |= TB_VIEW_ICMP;
        return err;
    default:
        return TB_WIRE_OK;
    }
}
