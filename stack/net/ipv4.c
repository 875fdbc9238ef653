/* IPv4 input and output (RFC 791, RFC 1122 §3.2.1). A host, not a router:
 * nothing is forwarded. Fragments for us go to ip_reass.c; our own
 * datagrams beyond the MTU are fragmented here unless DF is set. */
#include <string.h>

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
    if (ip.dst != st->cfg.ipv4_addr) {
        tb_net_drop(st, b, TB_DROP_ip_not_for_us, true);
        return;
    }
    if (is_martian_source(st, ip.src)) {
        tb_net_drop(st, b, TB_DROP_ip_bad_src, true);
        return;
    }
    /* Nothing we send comes back to us over the wire: a datagram from our
     * own address is spoofed (a LAND SYN among them) and must create no
     * state and no ARP for ourselves. */
    if (ip.src == st->cfg.ipv4_addr) {
        tb_net_drop(st, b, TB_DROP_ip_src_is_ours, true);
        return;
    }
    if (tb_ipv4_has_options(&ip)) st->stats.ip_options_skipped++;
    /* Strip Ethernet padding. */
    tb_buf_trim(b, ip.total_len);
    /* Only fragments for us, from a real source, are reassembled: nothing
     * else may take reassembly's buffers (RFC 1122 §3.3.2). */
    if (tb_ipv4_is_fragment(&ip)) {
        /* A protocol we do not speak would be dropped once whole: do not
         * let its fragments hold reassembly buffers meanwhile. */
        if (ip.protocol != TB_IPPROTO_ICMP && ip.protocol != TB_IPPROTO_TCP) {
            tb_net_drop(st, b, TB_DROP_ip_unknown_protocol, true);
            return;
        }
        tb_ip_reass_input(st, now, b, &ip);
        return;
    }
    tb_buf_pull(b, ip.header_len);   /* b is now the IP payload */
    tb_ipv4_deliver(st, now, b, &ip);
}

void tb_ipv4_deliver(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip) {
    /* Only ICMP takes a chain (a reassembled echo bigger than a buffer). */
    TB_ASSERT(b->next == NULL || ip->protocol == TB_IPPROTO_ICMP);
    switch (ip->protocol) {
    case TB_IPPROTO_ICMP:
        tb_icmp_input(st, now, b, ip);
        break;
    case TB_IPPROTO_TCP:
        tb_tcp_input(st, now, b, ip);
        break;
    default:
        tb_net_drop(st, b, TB_DROP_ip_unknown_protocol, true);
        break;
    }
}

/* A direct buffer of our own whose bytes are exactly one fragment's payload
 * can carry that fragment as it is: room for the headers in front and for
 * Ethernet padding behind. */
static bool fragment_in_place(const struct tb_buf *seg, uint32_t frag_bytes) {
    uint32_t framed = TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + frag_bytes;
    return seg->len == frag_bytes && !(seg->flags & TB_BUF_F_INDIRECT) && seg->refcnt == 1 &&
           tb_buf_headroom(seg) >= TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN &&
           (framed >= TB_ETH_MIN_FRAME || tb_buf_tailroom(seg) >= TB_ETH_MIN_FRAME - framed);
}

/* RFC 791 §3.2 "Fragmentation": every fragment but the last carries the
 * largest multiple of 8 octets the MTU allows, all share the identification,
 * MF is set on all but the last. The payload chain is consumed as fragments
 * go out, so at most one extra buffer is needed at a time; a segment that
 * is already one fragment's payload (tb_ping_send, a reassembled echo) is
 * sent without a copy. */
static int fragment_output(struct tb_stack *st, tb_time_ns now, struct tb_buf *src, struct tb_ipv4_repr *ip,
                           uint32_t next_hop, size_t payload_bytes) {
    uint32_t frag_max_bytes = (uint32_t)(st->cfg.mtu - TB_IPV4_HDR_LEN) & ~7u;
    TB_ASSERT(frag_max_bytes >= 8 && payload_bytes > frag_max_bytes);
    TB_ASSERT(payload_bytes + TB_IPV4_HDR_LEN <= 65535);
    /* All fragments or none: one evicted from the ARP queue or the tx
     * queue would make the rest useless to the receiver (and hold its
     * reassembly buffers until the timeout). */
    uint32_t frags = (uint32_t)((payload_bytes + frag_max_bytes - 1) / frag_max_bytes);
    if (!tb_arp_burst_room(st, now, next_hop, frags)) {
        tb_net_drop(st, src, TB_DROP_tx_frag_no_room, false);
        return TB_ERR_QFULL;
    }
    st->stats.ip_frag_ok++;
    int rc = TB_OK;
    size_t pos = 0;   /* bytes of src's first segment already sent */
    for (size_t off = 0; off < payload_bytes;) {
        uint32_t n = (uint32_t)(payload_bytes - off < frag_max_bytes ? payload_bytes - off : frag_max_bytes);
        struct tb_buf *frag;
        while (src != NULL && pos == src->len && src->len == 0) {   /* empty segments carry nothing */
            struct tb_buf *next = src->next;
            src->next = NULL;
            tb_buf_free(src);
            src = next;
        }
        TB_ASSERT(src != NULL);
        if (pos == 0 && fragment_in_place(src, n)) {
            frag = src;
            src = src->next;
            frag->next = NULL;
        } else {
            frag = tb_net_alloc(st);
            if (frag == NULL) {
                /* The fragments already sent are useless now; the rest is dropped. */
                tb_net_drop(st, src, TB_DROP_tx_frag_no_buf, false);
                return TB_ERR_NOBUFS;
            }
            uint8_t *dst = tb_buf_put(frag, n);
            TB_ASSERT(dst != NULL);   /* n <= mtu - 20 fits behind buf_headroom */
            for (uint32_t copied = 0; copied < n;) {
                TB_ASSERT(src != NULL);
                uint32_t k = src->len - (uint32_t)pos;
                if (k > n - copied) k = n - copied;
                memcpy(dst + copied, src->data + pos, k);
                copied += k;
                pos += k;
                if (pos == src->len) {
                    struct tb_buf *next = src->next;
                    src->next = NULL;
                    tb_buf_free(src);
                    src = next;
                    pos = 0;
                }
            }
        }
        bool last = off + n == payload_bytes;
        ip->flags_frag = (uint16_t)((last ? 0 : TB_IPV4_FLAG_MF) | (off / 8));
        ip->total_len = (uint16_t)(TB_IPV4_HDR_LEN + n);
        uint8_t *hdr = tb_buf_push(frag, TB_IPV4_HDR_LEN);
        TB_ASSERT(hdr != NULL);
        tb_ipv4_emit(ip, hdr);
        st->stats.ip_tx++;
        st->stats.ip_frags_tx++;
        int frc = tb_arp_output(st, now, frag, next_hop);
        if (rc == TB_OK) rc = frc;
        off += n;
    }
    TB_ASSERT(tb_buf_chain_len(src) == 0);
    tb_buf_free(src);   /* empty trailing segments, if any */
    return rc;
}

int tb_ipv4_output(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, uint32_t dst, uint8_t protocol,
                   uint16_t flags_frag, uint8_t tos) {
    /* Callers hand whole datagrams; fragment fields are ours to set. */
    TB_ASSERT((flags_frag & (TB_IPV4_FLAG_MF | TB_IPV4_FRAG_OFF_MASK)) == 0);
    size_t payload_bytes = tb_buf_chain_len(b);
    size_t total = payload_bytes + TB_IPV4_HDR_LEN;
    /* DF forbids fragmenting (RFC 791 §3.1; TCP relies on it for PMTUD,
     * RFC 1191); nothing can exceed the 16-bit total length. */
    if (total > st->cfg.mtu && ((flags_frag & TB_IPV4_FLAG_DF) || total > 65535)) {
        tb_net_drop(st, b, TB_DROP_tx_exceeds_mtu, false);
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
    if (total > st->cfg.mtu) return fragment_output(st, now, b, &ip, next_hop, payload_bytes);
    uint8_t *hdr = tb_buf_push(b, TB_IPV4_HDR_LEN);
    TB_ASSERT(hdr != NULL);
    tb_ipv4_emit(&ip, hdr);
    st->stats.ip_tx++;
    return tb_arp_output(st, now, b, next_hop);
}
