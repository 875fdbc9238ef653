/* IPv4 input and output (RFC 791, RFC 1122 §3.2.1). A host, not a router:
 * nothing is forwarded, fragments are counted and dropped. */
#include "net/stack_internal.h"

static enum tb_drop_reason ip_reason(enum tb_wire_err err) {
    switch (err) {
    case TB_WIRE_IP_BAD_VERSION: return TB_DROP_ip_bad_version;
    case TB_WIRE_IP_BAD_IHL: return TB_DROP_ip_bad_ihl;
    case TB_WIRE_IP_IHL_BEYOND_PACKET: return TB_DROP_ip_ihl_beyond_packet;
    case TB_WIRE_IP_BAD_TOTAL_LEN: return TB_DROP_ip_bad_total_len;
    case TB_WIRE_IP_TOTAL_LEN_BEYOND_FRAME: return TB_DROP_ip_total_len_beyond_frame;
    case TB_WIRE_IP_BAD_CHECKSUM: return TB_DROP_ip_bad_checksum;
    default: return TB_DROP_ip_truncated;
    }
}

static bool is_martian_source(const struct tb_stack *st, uint32_t src) {
    /* RFC 1122 §3.2.1.3: discard a source that is 0, broadcast or multicast. */
    if (src == 0 || src == UINT32_MAX || (src >> 28) == 0xe) return true;
    uint32_t host_bits = ~st->netmask;
    return st->cfg.ipv4_prefix_len < 31 && (src & st->netmask) == (st->cfg.ipv4_addr & st->netmask) &&
           (src & host_bits) == host_bits;
}

void tb_ipv4_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b) {
    struct tb_ipv4_repr ip;
    enum tb_wire_err err = tb_ipv4_parse(b->data, b->len, &ip);
    if (err != TB_WIRE_OK) {
        tb_net_drop(st, b, ip_reason(err), true);
        return;
    }
    st->stats.ip_rx++;
    if (tb_ipv4_is_fragment(&ip)) {
        tb_net_drop(st, b, TB_DROP_ip_fragment, true);
        return;
    }
    if (ip.dst != st->cfg.ipv4_addr) {
        tb_net_drop(st, b, TB_DROP_ip_not_for_us, true);
        return;
    }
    if (is_martian_source(st, ip.src)) {
        tb_net_drop(st, b, TB_DROP_ip_bad_src, true);
        return;
    }
    if (tb_ipv4_has_options(&ip)) st->stats.ip_options_skipped++;
    /* Strip Ethernet padding, then the header: b is now the IP payload. */
    tb_buf_trim(b, ip.total_len);
    tb_buf_pull(b, ip.header_len);
    switch (ip.protocol) {
    case TB_IPPROTO_ICMP:
        tb_icmp_input(st, now, b, &ip);
        break;
    case TB_IPPROTO_TCP:
        tb_tcp_input(st, now, b, &ip);
        break;
    default:
        tb_net_drop(st, b, TB_DROP_ip_unknown_protocol, true);
        break;
    }
}

int tb_ipv4_output(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, uint32_t dst, uint8_t protocol,
                   uint16_t flags_frag, uint8_t tos) {
    size_t total = tb_buf_chain_len(b) + TB_IPV4_HDR_LEN;
    if (total > st->cfg.mtu) {
        tb_buf_free(b);
        return TB_ERR_MSGSIZE;
    }
    uint32_t next_hop;
    if ((dst & st->netmask) == (st->cfg.ipv4_addr & st->netmask)) next_hop = dst;
    else if (st->cfg.ipv4_gateway != 0) next_hop = st->cfg.ipv4_gateway;
    else {
        tb_net_drop(st, b, TB_DROP_tx_no_route, false);
        return TB_ERR_NOROUTE;
    }
    struct tb_ipv4_repr ip = {
        .src = st->cfg.ipv4_addr,
        .dst = dst,
        .protocol = protocol,
        .tos = tos,
        .ttl = st->cfg.ttl,
        .ident = st->ip_ident++,
        .flags_frag = flags_frag,
        .total_len = (uint16_t)total,
    };
    uint8_t *hdr = tb_buf_push(b, TB_IPV4_HDR_LEN);
    TB_ASSERT(hdr != NULL);
    tb_ipv4_emit(&ip, hdr);
    st->stats.ip_tx++;
    return tb_arp_output(st, now, b, next_hop);
}
