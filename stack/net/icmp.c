/* ICMP echo (RFC 792; RFC 1122 §3.2.2.6) and destination-unreachable intake. */
#include <string.h>

#include "net/stack_internal.h"

/* Our echo payload: 8 bytes of the send time, then the byte pattern i & 0xff
 * (i counted from the start of the payload), so a reply shows its RTT and
 * whether its data came back unchanged. */
#define ECHO_STAMP_LEN 8

static void echo_reply_in_place(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip) {
    /* Turn the request into the reply where it lies: type 8 -> 0, payload
     * untouched. The checksum is recomputed, not patched (RFC 1624): a
     * request may carry either one's-complement zero (0x0000 or 0xffff) and
     * a patched sum can then come out wrong (found by fuzzing). */
    b->data[0] = TB_ICMP_ECHO_REPLY;
    tb_put16(b->data + TB_ICMP_CSUM_OFF, 0);
    /* Over the chain: a reassembled echo may span buffers (ip_reass.c). */
    tb_put16(b->data + TB_ICMP_CSUM_OFF, tb_csum_fold(tb_csum_chain(b, 0, tb_buf_chain_len(b), 0)));
    st->stats.icmp_echo_replies_tx++;
    tb_ipv4_output(st, now, b, ip->src, TB_IPPROTO_ICMP, 0, 0);
}

static void echo_reply_received(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_icmp_repr *icmp,
                                const struct tb_ipv4_repr *ip) {
    if (icmp->payload_len < ECHO_STAMP_LEN) {
        tb_net_drop(st, b, TB_DROP_icmp_echo_reply_unexpected, true);
        return;
    }
    st->stats.icmp_echo_replies_rx++;
    /* Read through the chain: a reassembled reply may span buffers. */
    uint8_t stamp[ECHO_STAMP_LEN];
    size_t stamp_len = tb_buf_copy_out(b, TB_ICMP_HDR_LEN, stamp, sizeof(stamp));
    TB_ASSERT(stamp_len == sizeof(stamp));   /* payload_len >= 8, checked above */
    uint64_t sent = ((uint64_t)tb_get32(stamp) << 32) | tb_get32(stamp + 4);
    bool intact = true;
    size_t i = 0;   /* offset in the ICMP message */
    for (const struct tb_buf *seg = b; seg != NULL; seg = seg->next)
        for (uint32_t j = 0; j < seg->len; j++, i++)
            if (i >= TB_ICMP_HDR_LEN + ECHO_STAMP_LEN && seg->data[j] != (uint8_t)(i - TB_ICMP_HDR_LEN))
                intact = false;
    struct tb_event ev = {.type = TB_EV_ECHO_REPLY, .time_ns = now, .peer_ipv4 = ip->src};
    ev.u.echo.ident = icmp->ident;
    ev.u.echo.seq = icmp->seq;
    ev.u.echo.ttl = ip->ttl;
    ev.u.echo.payload_ok = intact;
    ev.u.echo.payload_len = (uint32_t)icmp->payload_len;
    /* The stamp comes from the wire: a reply can carry any 64 bits, so the
     * RTT is only computed for a stamp in [0, now]; otherwise it is -1. */
    bool stamp_ok = now >= 0 && sent <= (uint64_t)now;
    ev.u.echo.sent_ns = stamp_ok ? (tb_time_ns)sent : -1;
    ev.u.echo.rtt_ns = stamp_ok ? now - (tb_time_ns)sent : -1;
    tb_net_event(st, &ev);
    tb_buf_free(b);
}

/* A reassembled datagram bigger than one buffer arrives as a chain
 * (ip_reass.c); only echo is served from it. Its first segment is fragment
 * zero's payload, a multiple of 8 bytes: the whole header is there. */
/* Echo request or reply: true if it was one (b is consumed). */
static bool echo_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_icmp_repr *icmp,
                       const struct tb_ipv4_repr *ip) {
    switch (icmp->type) {
    case TB_ICMP_ECHO_REQUEST:
        st->stats.icmp_echo_requests_rx++;
        echo_reply_in_place(st, now, b, ip);
        return true;
    case TB_ICMP_ECHO_REPLY:
        echo_reply_received(st, now, b, icmp, ip);
        return true;
    default:
        return false;
    }
}

static void icmp_input_chain(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip) {
    size_t len = tb_buf_chain_len(b);
    if (b->len < TB_ICMP_HDR_LEN) {
        tb_net_drop(st, b, TB_DROP_icmp_truncated, true);
        return;
    }
    if (tb_csum_fold(tb_csum_chain(b, 0, len, 0)) != 0) {
        tb_net_drop(st, b, TB_DROP_icmp_bad_checksum, true);
        return;
    }
    /* With 8 bytes present only an error whose quote does not view fails,
     * and no error is served from a chain anyway. */
    struct tb_icmp_view v;
    if (tb_view_icmp(b->data, b->len, &v) != TB_WIRE_OK) {
        tb_net_drop(st, b, TB_DROP_ip_reass_exceeds_buf, true);
        return;
    }
    /* payload_len counts the whole chain while payload points into the
     * first buffer only: readers must walk the chain (echo_reply_received
     * does, with tb_buf_copy_out); nothing else is given a chain. */
    struct tb_icmp_repr icmp = {.type = v.type, .code = v.code, .ident = v.ident, .seq = v.seq,
                                .payload = v.payload, .payload_len = len - TB_ICMP_HDR_LEN};
    if (!echo_input(st, now, b, &icmp, ip)) tb_net_drop(st, b, TB_DROP_ip_reass_exceeds_buf, true);
}

void tb_icmp_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip) {
    if (b->next != NULL) {
        icmp_input_chain(st, now, b, ip);
        return;
    }
    struct tb_icmp_repr icmp;
    switch (tb_icmp_parse(b->data, b->len, &icmp)) {
    case TB_WIRE_OK: break;
    case TB_WIRE_ICMP_BAD_CHECKSUM: tb_net_drop(st, b, TB_DROP_icmp_bad_checksum, true); return;
    case TB_WIRE_ICMP_ERROR_TRUNCATED: tb_net_drop(st, b, TB_DROP_icmp_error_truncated, true); return;
    default: tb_net_drop(st, b, TB_DROP_icmp_truncated, true); return;
    }
    if (echo_input(st, now, b, &icmp, ip)) return;
    struct tb_icmp_quote quote;
    if (icmp.type == TB_ICMP_DEST_UNREACH || icmp.type == TB_ICMP_TIME_EXCEEDED) {
        enum tb_wire_err quote_err = tb_view_icmp_quote(icmp.payload, icmp.payload_len, &quote);
        TB_ASSERT(quote_err == TB_WIRE_OK);   /* tb_icmp_parse accepted it through the same view */
    }
    switch (icmp.type) {
    case TB_ICMP_DEST_UNREACH: {
        st->stats.icmp_unreach_rx++;
        if (quote.ip.protocol == TB_IPPROTO_TCP) {
            tb_tcp_icmp_error(st, now, &icmp, &quote);   /* the quote names one of our segments */
            tb_buf_free(b);
            break;
        }
        struct tb_event ev = {.type = TB_EV_UNREACHABLE, .reason = TB_UNREACH_ICMP, .time_ns = now,
                              .peer_ipv4 = quote.ip.dst};
        ev.u.unreach.icmp_code = icmp.code;
        tb_net_event(st, &ev);
        tb_buf_free(b);
        break;
    }
    case TB_ICMP_TIME_EXCEEDED:
        /* RFC 1122 §4.2.3.9: Time Exceeded is a soft error for TCP; the
         * connection goes on and the application is told. */
        st->stats.icmp_time_exceeded_rx++;
        if (quote.ip.protocol == TB_IPPROTO_TCP) {
            tb_tcp_icmp_error(st, now, &icmp, &quote);
            tb_buf_free(b);
            break;
        }
        tb_net_drop(st, b, TB_DROP_icmp_unhandled_type, true);
        break;
    default:
        tb_net_drop(st, b, TB_DROP_icmp_unhandled_type, true);
        break;
    }
}

int tb_ping_send(struct tb_stack *st, tb_time_ns now, uint32_t dst_ipv4, uint16_t ident, uint16_t seq,
                 uint32_t payload_len) {
    /* The stamp is the clamped time: one from before the latest `now`
     * would claim the request left earlier than what the stack already
     * sent, and the reply's RTT would come out too long. */
    now = tb_now_advance(st, now);
    if (payload_len < ECHO_STAMP_LEN) return TB_ERR_INVAL;
    /* RFC 791 §3.1: a datagram is at most 65,535 bytes; beyond the MTU it
     * goes out in fragments (ipv4.c). */
    if ((size_t)payload_len + TB_ICMP_HDR_LEN + TB_IPV4_HDR_LEN > 65535) return TB_ERR_MSGSIZE;
    size_t msg_len = (size_t)TB_ICMP_HDR_LEN + payload_len;
    /* One segment per fragment's payload, so ipv4.c sends each as it is. */
    size_t seg_max = msg_len + TB_IPV4_HDR_LEN <= st->cfg.mtu ? msg_len
                                                             : ((size_t)st->cfg.mtu - TB_IPV4_HDR_LEN) & ~(size_t)7;
    TB_ASSERT(seg_max >= TB_ICMP_HDR_LEN);   /* mtu >= 68 */
    uint8_t stamp[ECHO_STAMP_LEN];
    tb_put32(stamp, (uint32_t)((uint64_t)now >> 32));
    tb_put32(stamp + 4, (uint32_t)now);
    struct tb_buf *b = NULL, *tail = NULL;
    for (size_t pos = 0; pos < msg_len;) {
        size_t n = msg_len - pos < seg_max ? msg_len - pos : seg_max;
        struct tb_buf *seg = tb_net_alloc(st);
        if (seg == NULL) {
            tb_buf_free(b);
            return TB_ERR_NOBUFS;
        }
        uint8_t *p = tb_buf_put(seg, (uint32_t)n);
        TB_ASSERT(p != NULL);   /* n <= mtu - 20, and buf_size >= headroom + a full frame */
        for (size_t k = 0; k < n; k++, pos++) {
            if (pos < TB_ICMP_HDR_LEN) p[k] = 0;   /* the header, written below */
            else if (pos < TB_ICMP_HDR_LEN + ECHO_STAMP_LEN) p[k] = stamp[pos - TB_ICMP_HDR_LEN];
            else p[k] = (uint8_t)(pos - TB_ICMP_HDR_LEN);
        }
        if (tail != NULL) tail->next = seg;
        else b = seg;
        tail = seg;
    }
    b->data[0] = TB_ICMP_ECHO_REQUEST;
    tb_put16(b->data + 4, ident);
    tb_put16(b->data + 6, seq);
    tb_put16(b->data + TB_ICMP_CSUM_OFF, tb_csum_fold(tb_csum_chain(b, 0, msg_len, 0)));
    st->stats.icmp_echo_requests_tx++;
    return tb_ipv4_output(st, now, b, dst_ipv4, TB_IPPROTO_ICMP, 0, 0);
}
