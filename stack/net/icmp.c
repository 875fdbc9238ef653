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
    tb_put16(b->data + 2, 0);
    tb_put16(b->data + 2, tb_csum(b->data, b->len));
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
    uint64_t sent = ((uint64_t)tb_get32(icmp->payload) << 32) | tb_get32(icmp->payload + 4);
    bool intact = true;
    for (size_t i = ECHO_STAMP_LEN; i < icmp->payload_len; i++)
        if (icmp->payload[i] != (uint8_t)i) intact = false;
    struct tb_event ev = {.type = TB_EV_ECHO_REPLY, .time_ns = now, .peer_ipv4 = ip->src};
    ev.u.echo.ident = icmp->ident;
    ev.u.echo.seq = icmp->seq;
    ev.u.echo.ttl = ip->ttl;
    ev.u.echo.payload_ok = intact;
    ev.u.echo.payload_len = (uint32_t)icmp->payload_len;
    ev.u.echo.sent_ns = (tb_time_ns)sent;
    ev.u.echo.rtt_ns = now - (tb_time_ns)sent;
    tb_net_event(st, &ev);
    tb_buf_free(b);
}

void tb_icmp_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip) {
    struct tb_icmp_repr icmp;
    switch (tb_icmp_parse(b->data, b->len, &icmp)) {
    case TB_WIRE_OK: break;
    case TB_WIRE_ICMP_BAD_CHECKSUM: tb_net_drop(st, b, TB_DROP_icmp_bad_checksum, true); return;
    case TB_WIRE_ICMP_ERROR_TRUNCATED: tb_net_drop(st, b, TB_DROP_icmp_error_truncated, true); return;
    default: tb_net_drop(st, b, TB_DROP_icmp_truncated, true); return;
    }
    switch (icmp.type) {
    case TB_ICMP_ECHO_REQUEST:
        st->stats.icmp_echo_requests_rx++;
        echo_reply_in_place(st, now, b, ip);
        break;
    case TB_ICMP_ECHO_REPLY:
        echo_reply_received(st, now, b, &icmp, ip);
        break;
    case TB_ICMP_DEST_UNREACH: {
        st->stats.icmp_unreach_rx++;
        if (icmp.payload[9] == TB_IPPROTO_TCP) {
            tb_tcp_icmp_error(st, now, &icmp);   /* the quote names one of our segments */
            tb_buf_free(b);
            break;
        }
        struct tb_event ev = {.type = TB_EV_UNREACHABLE, .reason = TB_UNREACH_ICMP, .time_ns = now,
                              .peer_ipv4 = tb_get32(icmp.payload + 16)};
        ev.u.unreach.icmp_code = icmp.code;
        tb_net_event(st, &ev);
        tb_buf_free(b);
        break;
    }
    default:
        tb_net_drop(st, b, TB_DROP_icmp_unhandled_type, true);
        break;
    }
}

int tb_ping_send(struct tb_stack *st, tb_time_ns now, uint32_t dst_ipv4, uint16_t ident, uint16_t seq,
                 uint32_t payload_len) {
    if (now < st->now) st->stats.time_backwards++;
    else st->now = now;
    if (payload_len < ECHO_STAMP_LEN) return TB_ERR_INVAL;
    if ((size_t)payload_len + TB_ICMP_HDR_LEN + TB_IPV4_HDR_LEN > st->cfg.mtu) return TB_ERR_MSGSIZE;
    struct tb_buf *b = tb_net_alloc(st);
    if (b == NULL) return TB_ERR_NOBUFS;
    uint8_t *msg = tb_buf_put(b, TB_ICMP_HDR_LEN + payload_len);
    TB_ASSERT(msg != NULL);   /* buf_size >= headroom + a full frame, checked at creation */
    uint8_t *payload = msg + TB_ICMP_HDR_LEN;
    tb_put32(payload, (uint32_t)((uint64_t)now >> 32));
    tb_put32(payload + 4, (uint32_t)now);
    for (uint32_t i = ECHO_STAMP_LEN; i < payload_len; i++) payload[i] = (uint8_t)i;
    struct tb_icmp_repr icmp = {.type = TB_ICMP_ECHO_REQUEST, .ident = ident, .seq = seq,
                                .payload = payload, .payload_len = payload_len};
    tb_icmp_emit(&icmp, msg);
    st->stats.icmp_echo_requests_tx++;
    return tb_ipv4_output(st, st->now, b, dst_ipv4, TB_IPPROTO_ICMP, 0, 0);
}
