/* A scripted remote TCP: frame builders, a decoder that learns the stack's
 * sequence state, and expectations (see peer.h). */
#include "harness/peer/peer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcpbed/seq.h"   /* RFC 9293 §3.4: sequence numbers compare modulo 2^32 */

#define L3_OFF TB_ETH_HDR_LEN
#define L4_OFF (TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN)
#define IPV4_MAX_PAYLOAD (0xffffu - TB_IPV4_HDR_LEN)

/* ---- the payload pattern -------------------------------------------------- */

uint8_t tb_peer_pat(uint32_t seq) { return (uint8_t)(seq * 31u + (seq >> 8) + 7u); }

void tb_peer_fill_pat(uint8_t *out, size_t len, uint32_t first_seq) {
    for (size_t i = 0; i < len; i++) out[i] = tb_peer_pat(first_seq + (uint32_t)i);
}

size_t tb_peer_find_pat_mismatch(const uint8_t *p, size_t len, uint32_t first_seq) {
    for (size_t i = 0; i < len; i++)
        if (p[i] != tb_peer_pat(first_seq + (uint32_t)i)) return i;
    return len;
}

/* ---- the host ----------------------------------------------------------------- */

void tb_peer_host_init(struct tb_peer_host *h, const struct tb_mac *mac, uint32_t ip, const struct tb_mac *stack_mac,
                       uint32_t stack_ip) {
    memset(h, 0, sizeof(*h));
    h->mac = *mac;
    h->stack_mac = *stack_mac;
    h->ip = ip;
    h->stack_ip = stack_ip;
    h->ttl = 64;
}

/* Zeroes the bytes up to the Ethernet minimum: a NIC pads short frames. */
static size_t pad_frame(uint8_t *out, size_t len, size_t cap) {
    if (len >= TB_ETH_MIN_FRAME) return len;
    if (cap < TB_ETH_MIN_FRAME) return 0;
    memset(out + len, 0, TB_ETH_MIN_FRAME - len);
    return TB_ETH_MIN_FRAME;
}

size_t tb_peer_build_eth(const struct tb_peer_host *h, uint16_t ethertype, const uint8_t *payload, size_t payload_len,
                         uint8_t *out, size_t cap) {
    if (cap < TB_ETH_HDR_LEN || payload_len > cap - TB_ETH_HDR_LEN || (payload == NULL && payload_len > 0)) return 0;
    struct tb_eth_repr e = {.dst = h->stack_mac, .src = h->mac, .ethertype = ethertype};
    tb_eth_emit(&e, out);
    if (payload_len > 0) memmove(out + TB_ETH_HDR_LEN, payload, payload_len);
    return TB_ETH_HDR_LEN + payload_len;
}

/* Ethernet + IPv4 headers for an l4_len-byte payload already at out+34. */
static size_t finish_ipv4(struct tb_peer_host *h, uint32_t src_ip, uint8_t protocol, size_t l4_len, uint8_t *out,
                          size_t cap) {
    struct tb_eth_repr e = {.dst = h->stack_mac, .src = h->mac, .ethertype = TB_ETHERTYPE_IPV4};
    tb_eth_emit(&e, out);
    struct tb_ipv4_repr ip = {.src = src_ip, .dst = h->stack_ip, .protocol = protocol, .ttl = h->ttl,
                              .ident = h->next_ip_ident++, .flags_frag = h->ip_flags,
                              .total_len = (uint16_t)(TB_IPV4_HDR_LEN + l4_len)};
    tb_ipv4_emit(&ip, out + L3_OFF);
    return pad_frame(out, L4_OFF + l4_len, cap);
}

static bool ipv4_fits(size_t l4_len, size_t cap) {
    return l4_len <= IPV4_MAX_PAYLOAD && cap >= L4_OFF && l4_len <= cap - L4_OFF && cap >= TB_ETH_MIN_FRAME;
}

size_t tb_peer_build_ipv4(struct tb_peer_host *h, uint32_t src_ip, uint8_t protocol, const uint8_t *l4, size_t l4_len,
                          uint8_t *out, size_t cap) {
    if (!ipv4_fits(l4_len, cap) || (l4 == NULL && l4_len > 0)) return 0;
    if (l4_len > 0) memmove(out + L4_OFF, l4, l4_len);
    return finish_ipv4(h, src_ip, protocol, l4_len, out, cap);
}

size_t tb_peer_build_arp(const struct tb_arp_repr *a, const struct tb_mac *eth_dst, uint8_t *out, size_t cap) {
    if (cap < TB_ETH_MIN_FRAME) return 0;
    struct tb_eth_repr e = {.dst = *eth_dst, .src = a->sha, .ethertype = TB_ETHERTYPE_ARP};
    tb_eth_emit(&e, out);
    tb_arp_emit(a, out + TB_ETH_HDR_LEN);
    return pad_frame(out, TB_ETH_HDR_LEN + TB_ARP_LEN, cap);
}

size_t tb_peer_build_arp_request(const struct tb_peer_host *h, uint8_t *out, size_t cap) {
    struct tb_arp_repr a = {.op = TB_ARP_OP_REQUEST, .sha = h->mac, .spa = h->ip, .tpa = h->stack_ip};
    return tb_peer_build_arp(&a, &tb_mac_broadcast, out, cap);
}

size_t tb_peer_build_arp_reply(const struct tb_peer_host *h, uint8_t *out, size_t cap) {
    struct tb_arp_repr a = {
        .op = TB_ARP_OP_REPLY, .sha = h->mac, .spa = h->ip, .tha = h->stack_mac, .tpa = h->stack_ip};
    return tb_peer_build_arp(&a, &h->stack_mac, out, cap);
}

size_t tb_peer_build_icmp(struct tb_peer_host *h, uint32_t src_ip, const struct tb_icmp_repr *icmp, uint8_t *out,
                          size_t cap) {
    size_t l4_len = TB_ICMP_HDR_LEN + icmp->payload_len;
    if (!ipv4_fits(l4_len, cap)) return 0;
    size_t n = tb_icmp_emit(icmp, out + L4_OFF);   /* the payload may not alias out: copied once */
    return finish_ipv4(h, src_ip, TB_IPPROTO_ICMP, n, out, cap);
}

size_t tb_peer_build_icmp_error(struct tb_peer_host *h, uint32_t src_ip, uint8_t type, uint8_t code,
                                uint16_t next_hop_mtu, const uint8_t *quote, size_t quote_len, uint8_t *out,
                                size_t cap) {
    struct tb_icmp_repr ic = {.type = type, .code = code, .next_hop_mtu = next_hop_mtu, .payload = quote,
                              .payload_len = quote_len};
    return tb_peer_build_icmp(h, src_ip, &ic, out, cap);
}

void tb_peer_quote_tcp(const struct tb_peer_host *h, uint16_t stack_port, uint16_t peer_port, uint32_t seq,
                       uint8_t out[TB_PEER_QUOTE_LEN]) {
    /* TTL 1: the datagram a router gave up on. */
    struct tb_ipv4_repr qip = {.src = h->stack_ip, .dst = h->ip, .protocol = TB_IPPROTO_TCP, .ttl = 1,
                               .total_len = TB_IPV4_HDR_LEN + TB_TCP_HDR_LEN};
    tb_ipv4_emit(&qip, out);
    tb_put16(out + TB_IPV4_HDR_LEN, stack_port);
    tb_put16(out + TB_IPV4_HDR_LEN + 2, peer_port);
    tb_put32(out + TB_IPV4_HDR_LEN + 4, seq);
}

/* ---- TCP options as bytes ------------------------------------------------------ */

static uint8_t *opt_room(struct tb_peer_opt_bytes *o, size_t n) {
    if (o->overflow || n > sizeof(o->b) - o->len) {
        o->overflow = true;
        return NULL;
    }
    uint8_t *q = o->b + o->len;
    o->len += n;
    return q;
}

void tb_peer_opt_eol(struct tb_peer_opt_bytes *o) {
    uint8_t *q = opt_room(o, 1);
    if (q != NULL) q[0] = TB_TCPOPT_EOL;
}

void tb_peer_opt_nop(struct tb_peer_opt_bytes *o) {
    uint8_t *q = opt_room(o, 1);
    if (q != NULL) q[0] = TB_TCPOPT_NOP;
}

void tb_peer_opt_mss(struct tb_peer_opt_bytes *o, uint16_t mss) {
    uint8_t *q = opt_room(o, 4);
    if (q == NULL) return;
    q[0] = TB_TCPOPT_MSS;
    q[1] = 4;
    tb_put16(q + 2, mss);
}

void tb_peer_opt_wscale(struct tb_peer_opt_bytes *o, uint8_t shift) {
    uint8_t *q = opt_room(o, 3);
    if (q == NULL) return;
    q[0] = TB_TCPOPT_WSCALE;
    q[1] = 3;
    q[2] = shift;
}

void tb_peer_opt_sack_permitted(struct tb_peer_opt_bytes *o) {
    uint8_t *q = opt_room(o, 2);
    if (q == NULL) return;
    q[0] = TB_TCPOPT_SACK_PERMITTED;
    q[1] = 2;
}

void tb_peer_opt_sack(struct tb_peer_opt_bytes *o, const struct tb_sack_block *blocks, size_t count) {
    if (count > TB_TCP_MAX_SACK_BLOCKS) {
        o->overflow = true;
        return;
    }
    uint8_t *q = opt_room(o, 2 + 8 * count);
    if (q == NULL) return;
    q[0] = TB_TCPOPT_SACK;
    q[1] = (uint8_t)(2 + 8 * count);
    for (size_t i = 0; i < count; i++) {
        tb_put32(q + 2 + 8 * i, blocks[i].left);
        tb_put32(q + 6 + 8 * i, blocks[i].right);
    }
}

void tb_peer_opt_timestamp(struct tb_peer_opt_bytes *o, uint32_t ts_val, uint32_t ts_ecr) {
    uint8_t *q = opt_room(o, 10);
    if (q == NULL) return;
    q[0] = TB_TCPOPT_TIMESTAMP;
    q[1] = 10;
    tb_put32(q + 2, ts_val);
    tb_put32(q + 6, ts_ecr);
}

void tb_peer_opt_raw(struct tb_peer_opt_bytes *o, const uint8_t *bytes, size_t len) {
    uint8_t *q = opt_room(o, len);
    if (q != NULL && len > 0) memcpy(q, bytes, len);
}

/* ---- one connection ---------------------------------------------------------------- */

void tb_peer_init(struct tb_peer *p, struct tb_peer_host *host, uint16_t port, uint16_t stack_port, uint32_t isn) {
    memset(p, 0, sizeof(*p));
    p->host = host;
    p->port = port;
    p->stack_port = stack_port;
    p->isn = isn;
    p->snd_nxt = isn;
    p->snd_max = isn;
    p->window = 65535;
    p->ts_val = 1000;
}

void tb_peer_ts_opts(struct tb_peer *p, struct tb_tcp_opts *o) {
    o->has_ts = true;
    o->ts_val = ++p->ts_val;
    o->ts_ecr = p->ts_seen ? p->ts_recent : 0;
}

void tb_peer_tcp_checksum(uint8_t *seg, size_t seg_len, uint32_t src, uint32_t dst) {
    tb_put16(seg + 16, 0);
    uint32_t sum = tb_ipv4_pseudo_sum(src, dst, TB_IPPROTO_TCP, (uint16_t)seg_len);
    tb_put16(seg + 16, tb_csum_fold(tb_csum_partial(seg, seg_len, sum)));
}

size_t tb_peer_build_tcp(struct tb_peer *p, const struct tb_peer_seg *s, uint8_t *out, size_t cap) {
    size_t raw_len = s->raw_opts_len > TB_TCP_MAX_OPT_LEN ? TB_TCP_MAX_OPT_LEN : s->raw_opts_len;
    size_t opt_len = s->raw_opts != NULL ? (raw_len + 3) & ~(size_t)3 : tb_tcp_opts_len(&s->opts, s->flags);
    if (opt_len > TB_TCP_MAX_OPT_LEN) return 0;   /* e.g. timestamps + 4 SACK blocks */
    size_t hl = TB_TCP_HDR_LEN + opt_len;
    if (s->payload_len > IPV4_MAX_PAYLOAD - hl || !ipv4_fits(hl + s->payload_len, cap)) return 0;
    uint8_t *seg = out + L4_OFF;
    struct tb_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = p->port;
    r.dst_port = p->stack_port;
    r.seq = s->seq;
    r.ack = s->ack;
    r.flags = s->flags;
    r.window = s->window;
    r.urgent = s->urgent;
    if (s->raw_opts != NULL) {
        tb_tcp_emit_header(&r, seg);   /* without options, then the bytes as given */
        memset(seg + TB_TCP_HDR_LEN, 0, opt_len);
        if (raw_len > 0) memcpy(seg + TB_TCP_HDR_LEN, s->raw_opts, raw_len);
        seg[12] = (uint8_t)((hl / 4) << 4);
    } else {
        r.opts = s->opts;
        tb_tcp_emit_header(&r, seg);
    }
    bool syn = (s->flags & TB_TCP_SYN) != 0, fin = (s->flags & TB_TCP_FIN) != 0;
    /* Data starts after the SYN's sequence number (RFC 9293 §3.4). */
    uint32_t data_seq = s->seq + (syn ? 1u : 0u);
    if (s->payload != NULL) {
        if (s->payload_len > 0) memcpy(seg + hl, s->payload, s->payload_len);
    } else {
        tb_peer_fill_pat(seg + hl, s->payload_len, data_seq);
    }
    size_t seg_len = hl + s->payload_len;
    tb_peer_tcp_checksum(seg, seg_len, p->host->ip, p->host->stack_ip);
    if (s->bad_checksum) seg[16] ^= 0x40;
    uint32_t end = data_seq + (uint32_t)s->payload_len + (fin ? 1u : 0u);
    if (tb_seq_gt(end, p->snd_max)) p->snd_max = end;
    if ((s->flags & TB_TCP_ACK) && tb_seq_gt(s->ack, p->ack_max)) p->ack_max = s->ack;
    return finish_ipv4(p->host, p->host->ip, TB_IPPROTO_TCP, seg_len, out, cap);
}

/* ---- decoding ---------------------------------------------------------------------- */

enum tb_wire_err tb_peer_decode(const uint8_t *frame, size_t len, struct tb_peer_frame *f) {
    memset(f, 0, sizeof(*f));
    size_t off;
    f->layer = TB_PEER_ETH;
    f->err = tb_eth_parse(frame, len, &f->eth, &off);
    if (f->err != TB_WIRE_OK) return f->err;
    if (f->eth.ethertype == TB_ETHERTYPE_ARP) {
        f->layer = TB_PEER_ARP;
        return f->err = tb_arp_parse(frame + off, len - off, &f->arp);
    }
    if (f->eth.ethertype != TB_ETHERTYPE_IPV4) return f->err;
    f->layer = TB_PEER_IPV4;
    f->err = tb_ipv4_parse(frame + off, len - off, &f->ip);
    if (f->err != TB_WIRE_OK) return f->err;
    /* The IPv4 payload ends at total_len; Ethernet padding follows. */
    const uint8_t *l4 = frame + off + f->ip.header_len;
    size_t l4_len = (size_t)f->ip.total_len - f->ip.header_len;
    if (f->ip.protocol == TB_IPPROTO_ICMP) {
        f->layer = TB_PEER_ICMP;
        return f->err = tb_icmp_parse(l4, l4_len, &f->icmp);
    }
    if (f->ip.protocol == TB_IPPROTO_TCP) {
        f->layer = TB_PEER_TCP;
        return f->err = tb_tcp_parse(l4, l4_len, f->ip.src, f->ip.dst, &f->tcp);
    }
    return f->err;
}

bool tb_peer_is_for(const struct tb_peer *p, const struct tb_peer_frame *f) {
    return f->layer == TB_PEER_TCP && f->err == TB_WIRE_OK && f->ip.src == p->host->stack_ip &&
           f->ip.dst == p->host->ip && f->tcp.src_port == p->stack_port && f->tcp.dst_port == p->port;
}

void tb_peer_learn(struct tb_peer *p, const struct tb_tcp_repr *th) {
    bool syn = (th->flags & TB_TCP_SYN) != 0, fin = (th->flags & TB_TCP_FIN) != 0;
    bool rst = (th->flags & TB_TCP_RST) != 0;
    if (syn) {
        p->have_stack_isn = true;
        p->stack_isn = th->seq;
        p->rcv_nxt = th->seq + 1;
        p->have_stack_syn_opts = true;
        p->stack_syn_opts = th->opts;
    }
    /* A RST's sequence number may be anything (RFC 9293 §3.5.2): it says
     * nothing about what the stack has sent. */
    uint32_t end = th->seq + (uint32_t)th->payload_len + (syn ? 1u : 0u) + (fin ? 1u : 0u);
    if (!rst && (!p->have_stack_max || tb_seq_gt(end, p->stack_snd_max))) {
        p->have_stack_max = true;
        p->stack_snd_max = end;
    }
    if (th->flags & TB_TCP_ACK) {
        p->have_stack_ack = true;
        p->stack_ack = th->ack;
    }
    if (th->opts.has_ts) {
        p->ts_seen = true;
        p->ts_recent = th->opts.ts_val;
    }
    p->stack_window = th->window;
}

/* ---- expectations ------------------------------------------------------------------ */

static void flag_letters(uint8_t flags, char out[10]) {
    /* tcpdump's letters; "." is ACK. */
    static const struct { uint8_t bit; char letter; } names[] = {
        {TB_TCP_SYN, 'S'}, {TB_TCP_FIN, 'F'}, {TB_TCP_RST, 'R'}, {TB_TCP_PSH, 'P'},
        {TB_TCP_ACK, '.'}, {TB_TCP_URG, 'U'}, {TB_TCP_ECE, 'E'}, {TB_TCP_CWR, 'W'},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit) out[n++] = names[i].letter;
    if (n == 0) out[n++] = '-';
    out[n] = '\0';
}

static unsigned opts_mask(const struct tb_tcp_opts *o) {
    return (o->has_mss ? TB_PEER_OPT_MSS : 0u) | (o->has_wscale ? TB_PEER_OPT_WSCALE : 0u) |
           (o->sack_permitted ? TB_PEER_OPT_SACK_PERMITTED : 0u) | (o->has_ts ? TB_PEER_OPT_TIMESTAMP : 0u) |
           (o->sack_count > 0 ? TB_PEER_OPT_SACK : 0u);
}

static const char *const opt_names[] = {"mss", "wscale", "sackOK", "TS", "sack"};

/* Appends to buf at *used, never past buf_len. */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t buf_len, size_t *used, const char *fmt,
                                                         ...) {
    if (*used >= buf_len) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, buf_len - *used, fmt, ap);
    va_end(ap);
    if (n > 0) *used = (size_t)n >= buf_len - *used ? buf_len : *used + (size_t)n;
}

void tb_peer_describe(const struct tb_tcp_repr *th, char *buf, size_t buf_len) {
    if (buf == NULL || buf_len == 0) return;
    buf[0] = '\0';
    char fl[10];
    flag_letters(th->flags, fl);
    size_t used = 0;
    append(buf, buf_len, &used, "%u>%u flags %s seq %u ack %u win %u len %zu", th->src_port, th->dst_port, fl,
           th->seq, th->ack, th->window, th->payload_len);
    const struct tb_tcp_opts *o = &th->opts;
    if (opts_mask(o) == 0) return;
    const char *sep = " <";
    if (o->has_mss) {
        append(buf, buf_len, &used, "%smss %u", sep, o->mss);
        sep = ",";
    }
    if (o->has_wscale) {
        append(buf, buf_len, &used, "%swscale %u", sep, o->wscale);
        sep = ",";
    }
    if (o->sack_permitted) {
        append(buf, buf_len, &used, "%ssackOK", sep);
        sep = ",";
    }
    if (o->has_ts) {
        append(buf, buf_len, &used, "%sTS val %u ecr %u", sep, o->ts_val, o->ts_ecr);
        sep = ",";
    }
    for (uint8_t i = 0; i < o->sack_count && i < TB_TCP_MAX_SACK_BLOCKS; i++) {
        append(buf, buf_len, &used, "%ssack %u:%u", sep, o->sack[i].left, o->sack[i].right);
        sep = ",";
    }
    append(buf, buf_len, &used, ">");
}

const char *tb_peer_expect(const struct tb_tcp_repr *th, const struct tb_peer_expect *want, char *buf,
                           size_t buf_len) {
    char what[64];
    what[0] = '\0';
    unsigned c = want->check;
    if ((c & TB_PEER_CHECK_FLAGS) && th->flags != want->flags) {
        char a[10], b[10];
        flag_letters(want->flags, a);
        flag_letters(th->flags, b);
        snprintf(what, sizeof(what), "flags %s, not %s", a, b);
    } else if ((th->flags & want->flags_required) != want->flags_required) {
        char a[10], b[10];
        flag_letters(want->flags_required, a);
        flag_letters(th->flags, b);
        snprintf(what, sizeof(what), "flags %s set, not %s", a, b);
    } else if ((c & TB_PEER_CHECK_SEQ) && th->seq != want->seq) {
        snprintf(what, sizeof(what), "seq %u, not %u", want->seq, th->seq);
    } else if ((c & TB_PEER_CHECK_ACK) && th->ack != want->ack) {
        snprintf(what, sizeof(what), "ack %u, not %u", want->ack, th->ack);
    } else if ((c & TB_PEER_CHECK_WIN) && th->window != want->window) {
        snprintf(what, sizeof(what), "window %u, not %u", want->window, th->window);
    } else if ((c & TB_PEER_CHECK_LEN) && th->payload_len != want->payload_len) {
        snprintf(what, sizeof(what), "%zu payload bytes, not %zu", want->payload_len, th->payload_len);
    } else if ((c & TB_PEER_CHECK_PORTS) && (th->src_port != want->src_port || th->dst_port != want->dst_port)) {
        snprintf(what, sizeof(what), "ports %u>%u, not %u>%u", want->src_port, want->dst_port, th->src_port,
                 th->dst_port);
    } else {
        unsigned have = opts_mask(&th->opts);
        unsigned missing = want->opts_present & ~have, extra = want->opts_absent & have;
        for (unsigned i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]) && what[0] == '\0'; i++) {
            if (missing & (1u << i)) snprintf(what, sizeof(what), "option %s, which is missing", opt_names[i]);
            else if (extra & (1u << i)) snprintf(what, sizeof(what), "no option %s, but it is there", opt_names[i]);
        }
    }
    if (what[0] == '\0') return NULL;
    if (buf == NULL || buf_len == 0) return "segment mismatch";
    char seg[160];
    tb_peer_describe(th, seg, sizeof(seg));
    snprintf(buf, buf_len, "expected %s: got %s", what, seg);
    return buf;
}
