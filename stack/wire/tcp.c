/* TCP header and options: RFC 9293 §3.1 (header), §3.2 (MSS), RFC 7323
 * (window scale, timestamps), RFC 2018 (SACK). */
#include <string.h>

#include "tcpbed/wire.h"
#include "util/assert.h"

static void parse_options(const uint8_t *p, size_t len, struct tb_tcp_opts *o, enum tb_wire_err *err) {
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == TB_TCPOPT_EOL) break;
        if (kind == TB_TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len) {
            *err = TB_WIRE_TCP_BAD_OPTION;
            return;
        }
        uint8_t olen = p[i + 1];
        const uint8_t *v = p + i + 2;
        /* A known kind with the wrong length is ignored, as an unknown one. */
        if (kind == TB_TCPOPT_MSS && olen == 4) {
            o->has_mss = true;
            o->mss = tb_get16(v);
        } else if (kind == TB_TCPOPT_WSCALE && olen == 3) {
            o->has_wscale = true;
            o->wscale = v[0];
        } else if (kind == TB_TCPOPT_SACK_PERMITTED && olen == 2) {
            o->sack_permitted = true;
        } else if (kind == TB_TCPOPT_TIMESTAMP && olen == 10) {
            o->has_ts = true;
            o->ts_val = tb_get32(v);
            o->ts_ecr = tb_get32(v + 4);
        } else if (kind == TB_TCPOPT_SACK && olen >= 10 && (olen - 2) % 8 == 0 &&
                   (olen - 2) / 8 <= TB_TCP_MAX_SACK_BLOCKS) {
            o->sack_count = (uint8_t)((olen - 2) / 8);
            for (int b = 0; b < o->sack_count; b++) {
                o->sack[b].left = tb_get32(v + 8 * b);
                o->sack[b].right = tb_get32(v + 8 * b + 4);
            }
        } else {
            o->unknown_count++;
        }
        i += olen;
    }
}

/* The view's structural checks, then the checksum over the pseudo-header
 * and the segment, then the options. */
enum tb_wire_err tb_tcp_parse(const uint8_t *p, size_t len, uint32_t src_ip, uint32_t dst_ip, struct tb_tcp_repr *r) {
    struct tb_tcp_view v;
    enum tb_wire_err err = tb_view_tcp(p, len, &v);
    if (err != TB_WIRE_OK) return err;
    if (len > 0xffff) return TB_WIRE_TRUNCATED;
    uint32_t sum = tb_ipv4_pseudo_sum(src_ip, dst_ip, TB_IPPROTO_TCP, (uint16_t)len);
    if (tb_csum_fold(tb_csum_partial(p, len, sum)) != 0) return TB_WIRE_TCP_BAD_CHECKSUM;
    memset(r, 0, sizeof(*r));
    r->src_port = v.src_port;
    r->dst_port = v.dst_port;
    r->seq = v.seq;
    r->ack = v.ack;
    r->flags = v.flags;
    r->window = v.window;
    r->urgent = v.urgent;
    r->header_len = v.header_len;
    parse_options(v.options, v.options_len, &r->opts, &err);
    if (err != TB_WIRE_OK) return err;
    r->payload = v.payload;
    r->payload_len = v.payload_len;
    return TB_WIRE_OK;
}

/* Layout (Linux's, so traces read familiarly). SYN: MSS, SACK-permitted +
 * timestamps, window scale. Others: timestamps, then SACK blocks. Every
 * option group is NOP-padded to 4 bytes. */
size_t tb_tcp_opts_len(const struct tb_tcp_opts *o, uint8_t flags) {
    size_t n = 0;
    if (flags & TB_TCP_SYN) {
        if (o->has_mss) n += 4;
        if (o->sack_permitted && o->has_ts) n += 12;
        else if (o->sack_permitted) n += 4;
        else if (o->has_ts) n += 12;
        if (o->has_wscale) n += 4;
    } else {
        if (o->has_ts) n += 12;
        if (o->sack_count > 0) n += 4 + 8u * o->sack_count;
    }
    return n;
}

static uint8_t *put_ts(uint8_t *q, const struct tb_tcp_opts *o) {
    q[0] = TB_TCPOPT_TIMESTAMP;
    q[1] = 10;
    tb_put32(q + 2, o->ts_val);
    tb_put32(q + 6, o->ts_ecr);
    return q + 10;
}

size_t tb_tcp_emit_header(const struct tb_tcp_repr *r, uint8_t *out) {
    const struct tb_tcp_opts *o = &r->opts;
    size_t opt_len = tb_tcp_opts_len(o, r->flags);
    TB_ASSERT(opt_len <= TB_TCP_MAX_OPT_LEN);   /* e.g. timestamps + 4 SACK blocks do not fit */
    size_t header_len = TB_TCP_HDR_LEN + opt_len;
    tb_put16(out, r->src_port);
    tb_put16(out + 2, r->dst_port);
    tb_put32(out + 4, r->seq);
    tb_put32(out + 8, r->ack);
    out[12] = (uint8_t)((header_len / 4) << 4);
    out[13] = r->flags;
    tb_put16(out + 14, r->window);
    tb_put16(out + 16, 0);
    tb_put16(out + 18, r->urgent);
    uint8_t *q = out + TB_TCP_HDR_LEN;
    if (r->flags & TB_TCP_SYN) {
        if (o->has_mss) {
            q[0] = TB_TCPOPT_MSS;
            q[1] = 4;
            tb_put16(q + 2, o->mss);
            q += 4;
        }
        if (o->sack_permitted && o->has_ts) {
            q[0] = TB_TCPOPT_SACK_PERMITTED;
            q[1] = 2;
            q = put_ts(q + 2, o);
        } else if (o->sack_permitted) {
            q[0] = TB_TCPOPT_NOP;
            q[1] = TB_TCPOPT_NOP;
            q[2] = TB_TCPOPT_SACK_PERMITTED;
            q[3] = 2;
            q += 4;
        } else if (o->has_ts) {
            q[0] = TB_TCPOPT_NOP;
            q[1] = TB_TCPOPT_NOP;
            q = put_ts(q + 2, o);
        }
        if (o->has_wscale) {
            q[0] = TB_TCPOPT_NOP;
            q[1] = TB_TCPOPT_WSCALE;
            q[2] = 3;
            q[3] = o->wscale;
            q += 4;
        }
    } else {
        if (o->has_ts) {
            q[0] = TB_TCPOPT_NOP;
            q[1] = TB_TCPOPT_NOP;
            q = put_ts(q + 2, o);
        }
        if (o->sack_count > 0) {
            q[0] = TB_TCPOPT_NOP;
            q[1] = TB_TCPOPT_NOP;
            q[2] = TB_TCPOPT_SACK;
            q[3] = (uint8_t)(2 + 8 * o->sack_count);
            q += 4;
            for (int b = 0; b < o->sack_count; b++) {
                tb_put32(q, o->sack[b].left);
                tb_put32(q + 4, o->sack[b].right);
                q += 8;
            }
        }
    }
    (void)q;
    return header_len;
}

uint32_t tb_csum_chain(const struct tb_buf *chain, size_t offset, size_t len, uint32_t initial) {
    uint64_t sum = initial;
    size_t pos = 0;   /* bytes summed so far: their parity decides the alignment */
    for (const struct tb_buf *b = chain; b != NULL && len > 0; b = b->next) {
        if (offset >= b->len) {
            offset -= b->len;
            continue;
        }
        size_t n = b->len - offset;
        if (n > len) n = len;
        uint32_t part = tb_csum_partial(b->data + offset, n, 0);
        if (pos & 1) part = ((part & 0xff) << 8) | (part >> 8);
        sum += part;
        pos += n;
        len -= n;
        offset = 0;
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}
