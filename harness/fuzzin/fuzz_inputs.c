/* Decoders and runners of the `stack` and `faults` fuzz inputs (see
 * harness/fuzzin/fuzz_inputs.h and docs/fuzzing.md). */
#include "harness/fuzzin/fuzz_inputs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/host/host.h"
#include "harness/peer/peer.h"
#include "tcpbed/seq.h"
#include "sim/ping.h"

/* ---- reading the input ------------------------------------------------------ */

/* Past the end every read gives zeros, so any byte string decodes. */
struct rd {
    const uint8_t *p;
    size_t len, pos;
};

static bool rd_more(const struct rd *r) { return r->pos < r->len; }
static uint8_t u8(struct rd *r) { return r->pos < r->len ? r->p[r->pos++] : 0; }
static uint16_t u16(struct rd *r) {
    uint16_t hi = u8(r);
    return (uint16_t)((hi << 8) | u8(r));
}
static uint32_t u32(struct rd *r) {
    uint32_t hi = u16(r);
    return (hi << 16) | u16(r);
}
/* Copies n bytes (zeros past the end). */
static void take(struct rd *r, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = u8(r);
}

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t why_len, const char *fmt, ...) {
    if (why == NULL || why_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}


/* ========================================================================== */
/* stack                                                                       */
/* ========================================================================== */

#define MAX_CONNS 12        /* 4-tuples the peer knows */
#define MAX_HANDLES 8       /* connection handles the application holds */
#define MAX_STALE 8         /* handles it gave back */
#define MAX_LISTENERS 4
#define MAX_STEPS 400
#define MAX_TIMER_JUMPS 32
#define BUF_COUNT 96

static const struct tb_mac mac_us = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct tb_mac mac_peer = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct tb_mac mac_peer2 = {{0x02, 0, 0, 0, 0, 0x22}};

/* Payload bytes are a function of where they sit, so every delivered byte
 * can be checked: the peer's of their sequence number (tb_peer_pat), the
 * application's of their stream offset. */
static uint8_t pat_app(uint32_t off) { return (uint8_t)(off * 13u + (off >> 9) + 101u); }

/* A connection the peer knows: harness/peer's view of both sequence
 * spaces. snd_max is the end of the highest segment the peer has sent,
 * ack_max the highest acknowledgment; stack_snd_max, stack_ack, ts_recent
 * are learnt from the stack's output. */
typedef struct tb_peer fz_conn;

struct fz_handle {
    bool used;
    int32_t h;
    uint32_t sent;              /* stream offset of the next byte the app writes */
    uint32_t received;          /* bytes the app has read */
};

/* The stack runs as a host (harness/host) over the runner's own port: the
 * input's frames arrive through rx_burst one at a time, what the stack
 * sends leaves through tx_burst into the peer's checks, and time is the
 * runner's. */
struct run {
    struct tb_host *h;
    struct tb_stack *st;        /* tb_host_stack(h), for read-only calls */
    const uint8_t *rx_frame;    /* the frame arriving now, for rx_burst */
    size_t rx_len;
    struct tb_config cfg;
    tb_time_ns now;
    fz_frame_fn on_frame;
    void *ctx;
    struct fz_stack_report *rep;
    struct tb_peer_host host;   /* the peer machine: MACs, addresses, IPv4 identification */
    fz_conn conns[MAX_CONNS];
    size_t nconns;
    struct fz_handle handles[MAX_HANDLES];
    int32_t stale[MAX_STALE];
    size_t nstale;
    int32_t listeners[MAX_LISTENERS];
    uint16_t listener_ports[MAX_LISTENERS];
    uint16_t next_peer_port;
    bool tainted;               /* a raw frame carried TCP payload: skip the receive check */
    char *why;
    size_t why_len;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void fail(struct run *R, const char *fmt, ...) {
    if (R->failed) return;
    R->failed = true;
    if (R->why == NULL || R->why_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(R->why, R->why_len, fmt, ap);
    va_end(ap);
}

static fz_conn *conn_find(struct run *R, uint16_t lport, uint16_t rport) {
    for (size_t i = 0; i < R->nconns; i++)
        if (R->conns[i].stack_port == lport && R->conns[i].port == rport) return &R->conns[i];
    return NULL;
}

static fz_conn *conn_add(struct run *R, uint16_t lport, uint16_t rport, uint32_t peer_isn) {
    fz_conn *c = conn_find(R, lport, rport);
    if (c != NULL) return c;
    if (R->nconns == MAX_CONNS) return NULL;
    c = &R->conns[R->nconns++];
    tb_peer_init(c, &R->host, rport, lport, peer_isn);
    return c;
}

static fz_conn *conn_pick(struct run *R, uint8_t sel) {
    if (R->nconns == 0) return NULL;
    return &R->conns[sel % R->nconns];
}

/* ---- output: every frame the stack sends must parse; learn from it --------- */

/* The ISS of a connection the application holds, as the stack sees it. It
 * can differ from the SYN-ACK's sequence number: a SYN-cookie connection
 * takes ACK-1 as its ISS, and the cookie's low 3 bits (the MSS index) are
 * not authenticated, so a peer may acknowledge any of 8 values. */
static void sync_iss(struct run *R, fz_conn *c) {
    for (size_t i = 0; i < MAX_HANDLES; i++) {
        struct tb_tcp_info info;
        if (!R->handles[i].used || tb_tcp_info(R->st, R->handles[i].h, &info) != TB_OK) continue;
        if (info.local_port != c->stack_port || info.remote_port != c->port || info.remote_ipv4 != FZ_IP_PEER) continue;
        if (info.state < TB_TCP_SYN_RECEIVED) continue;
        c->have_stack_isn = true;
        c->stack_isn = info.iss;
        return;
    }
}

static void learn_tcp(struct run *R, const struct tb_tcp_repr *th) {
    fz_conn *c = conn_find(R, th->src_port, th->dst_port);
    bool syn = (th->flags & TB_TCP_SYN) != 0;
    if (c == NULL && (th->flags & TB_TCP_RST) == 0) {
        /* A connection opened by a raw frame: let the input address it. */
        uint32_t isn = (th->flags & TB_TCP_ACK) ? th->ack - 1 : FZ_PEER_ISN;
        c = conn_add(R, th->src_port, th->dst_port, isn);
        if (c != NULL) c->snd_max = isn + 1;
    }
    if (c == NULL) return;
    tb_peer_learn(c, th);
    /* Every byte the stack sends is one the application wrote, at its offset. */
    if (th->payload_len > 0 && (th->flags & TB_TCP_RST) == 0) sync_iss(R, c);
    if (th->payload_len > 0 && c->have_stack_isn && (th->flags & TB_TCP_RST) == 0) {
        uint32_t off = th->seq + (syn ? 1u : 0u) - c->stack_isn - 1u;
        for (size_t i = 0; i < th->payload_len; i++) {
            if (th->payload[i] != pat_app(off + (uint32_t)i)) {
                fail(R, "stack sent a byte the application never wrote: port %u>%u seq %u, stream offset %u",
                     th->src_port, th->dst_port, th->seq + (uint32_t)i, off + (uint32_t)i);
                return;
            }
        }
    }
}

static void check_out(struct run *R, const uint8_t *f, size_t len) {
    if (len > TB_ETH_MAX_FRAME) {
        fail(R, "stack sent a %zu-byte frame (Ethernet carries at most %d)", len, TB_ETH_MAX_FRAME);
        return;
    }
    if (len < TB_ETH_MIN_FRAME) {
        fail(R, "stack sent a %zu-byte frame (shorter than the %d-byte minimum)", len, TB_ETH_MIN_FRAME);
        return;
    }
    struct tb_peer_frame fr;
    enum tb_wire_err e = tb_peer_decode(f, len, &fr);
    if ((fr.layer == TB_PEER_ETH && e != TB_WIRE_OK) || !tb_mac_equal(&fr.eth.src, &mac_us)) {
        fail(R, "stack sent a frame whose Ethernet header is not its own");
        return;
    }
    if (fr.layer == TB_PEER_ARP) {
        if (e != TB_WIRE_OK) fail(R, "stack sent an ARP packet that does not parse: %s", tb_wire_err_name(e));
        return;
    }
    if (fr.layer == TB_PEER_ETH) {
        fail(R, "stack sent ethertype %#x", fr.eth.ethertype);
        return;
    }
    if (fr.layer == TB_PEER_IPV4 && e != TB_WIRE_OK) {
        fail(R, "stack sent an IPv4 header that does not parse: %s", tb_wire_err_name(e));
        return;
    }
    if (fr.ip.src != FZ_IP_US) {
        fail(R, "stack sent an IPv4 packet from %#x, not its own address", fr.ip.src);
        return;
    }
    if (fr.layer == TB_PEER_ICMP) {
        if (e != TB_WIRE_OK) fail(R, "stack sent an ICMP message that does not parse: %s", tb_wire_err_name(e));
        return;
    }
    if (fr.layer != TB_PEER_TCP) {
        fail(R, "stack sent IP protocol %u", fr.ip.protocol);
        return;
    }
    if (e != TB_WIRE_OK) {
        fail(R, "stack sent a TCP segment that does not parse: %s", tb_wire_err_name(e));
        return;
    }
    if (fr.ip.dst == FZ_IP_PEER) learn_tcp(R, &fr.tcp);
}

static void port_tx(void *port, struct tb_host *h, struct tb_buf *const *frames, size_t n) {
    (void)h;
    struct run *R = port;
    uint8_t flat[4096];
    for (size_t i = 0; i < n; i++) {
        size_t len = tb_buf_chain_len(frames[i]);
        size_t got = tb_buf_copy_out(frames[i], 0, flat, sizeof(flat));
        R->rep->frames_out++;
        if (R->on_frame != NULL) R->on_frame(R->ctx, R->now, false, flat, got);
        if (got != len) {
            fail(R, "stack sent a %zu-byte frame", len);
            continue;
        }
        check_out(R, flat, len);
    }
}

static size_t port_rx(void *port, struct tb_host *h, struct tb_buf **frames, size_t max) {
    struct run *R = port;
    if (R->rx_frame == NULL || max == 0) return 0;
    struct tb_buf *b = tb_host_alloc_rx(h, R->rx_len);
    const uint8_t *frame = R->rx_frame;
    R->rx_frame = NULL;
    if (b == NULL) return 0;   /* pool dry: a NIC would drop it too */
    memcpy(b->data, frame, R->rx_len);
    R->rep->frames_in++;
    if (R->on_frame != NULL) R->on_frame(R->ctx, R->now, true, frame, R->rx_len);
    frames[0] = b;
    return 1;
}

static tb_time_ns run_now(void *env) { return ((const struct run *)env)->now; }

static const struct tb_port_ops run_port_ops = {.rx_burst = port_rx, .tx_burst = port_tx};
static const struct tb_host_env_ops run_env_ops = {.now = run_now};

static bool holds_handle(const struct run *R, int32_t h) {
    for (size_t i = 0; i < MAX_HANDLES; i++)
        if (R->handles[i].used && R->handles[i].h == h) return true;
    for (size_t i = 0; i < MAX_LISTENERS; i++)
        if (R->listeners[i] >= 0 && R->listeners[i] == h) return true;
    return false;
}

static void drain_events(struct run *R) {
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_host_events(R->h, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type < TB_EV_TCP_CONNECTED || ev[i].type > TB_EV_TCP_SOFT_ERROR) continue;
            /* A connection nobody holds emits no events (ARCHITECTURE.md). */
            if (!holds_handle(R, ev[i].conn))
                fail(R, "event %u for handle %d, which the application does not hold", ev[i].type, ev[i].conn);
        }
    }
}

/* After every step: due timers and output (the host's pass), events,
 * self-checks. */
static void settle(struct run *R) {
    tb_host_kick(R->h);
    drain_events(R);
    const char *why = NULL;
    if (!tb_stack_check(R->st, &why)) fail(R, "tb_stack_check: %s", why);
}

/* ---- input: frames from the peer ----------------------------------------------- */

/* One pass of the host with this frame on the wire: input, due timers, output. */
static void feed(struct run *R, const uint8_t *frame, size_t len) {
    R->rx_frame = frame;
    R->rx_len = len;
    tb_host_poll(R->h);
}

/* Ethernet + IPv4 from src around an L4 payload, padded to 60 bytes. */
static size_t wrap_ip(struct run *R, uint8_t *out, size_t cap, uint32_t src, uint8_t proto, const uint8_t *l4,
                      size_t l4_len) {
    return tb_peer_build_ipv4(&R->host, src, proto, l4, l4_len, out, cap);
}

#define MAX_PAYLOAD 1400

static size_t payload_len_of(uint8_t l) {
    size_t n = l < 200 ? l : (size_t)(l - 200) * 25u;
    return n > MAX_PAYLOAD ? MAX_PAYLOAD : n;
}

/* Sends a segment from the peer; the peer records what it has sent and acked. */
static void peer_segment(struct run *R, fz_conn *c, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window,
                         uint16_t urgent, const struct tb_tcp_opts *opts, const uint8_t *raw_opts,
                         size_t raw_opts_len, size_t payload_len, bool bad_checksum) {
    struct tb_peer_seg sg = {.flags = flags, .seq = seq, .ack = ack, .window = window, .urgent = urgent,
                             .raw_opts = raw_opts, .raw_opts_len = raw_opts_len, .payload_len = payload_len,
                             .bad_checksum = bad_checksum};
    if (opts != NULL) sg.opts = *opts;
    uint8_t frame[TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + TB_TCP_HDR_LEN + TB_TCP_MAX_OPT_LEN + MAX_PAYLOAD];
    size_t n = tb_peer_build_tcp(c, &sg, frame, sizeof(frame));
    if (n > 0) feed(R, frame, n);
}

/* What the stack expects next from the peer, and what it has sent. */
static uint32_t c_rcv_nxt(const fz_conn *c) { return c->have_stack_ack ? c->stack_ack : c->snd_max; }
static uint32_t c_snd_max(const fz_conn *c) { return c->have_stack_max ? c->stack_snd_max : c->stack_isn + 1; }
static uint32_t c_snd_una(const fz_conn *c) {
    uint32_t una = c->ack_max;
    if (!c->have_stack_max || una == 0 || tb_seq_gt(una, c->stack_snd_max))
        una = c->have_stack_isn ? c->stack_isn + 1 : c_snd_max(c);
    return una;
}

static uint16_t window_of(struct rd *in) {
    uint8_t w = u8(in);
    switch (w >> 6) {
    case 0: return 65535;
    case 1: return (uint16_t)(w & 63);                 /* tiny and zero windows */
    case 2: return (uint16_t)((w & 63) << 10);
    default: return u16(in);
    }
}

static uint32_t scaled_delta(struct rd *in, uint8_t sel) {
    static const uint32_t scale[4] = {1, 64, 1448, 65536};
    int8_t d = (int8_t)u8(in);
    return (uint32_t)((int32_t)d * (int32_t)scale[(sel >> 2) & 3]);
}

/* Options for a crafted segment: a mask, then what each option needs. */
static void read_opts(struct rd *in, fz_conn *c, struct tb_tcp_opts *o, uint8_t *raw, size_t *raw_len,
                      bool *use_raw) {
    memset(o, 0, sizeof(*o));
    *use_raw = false;
    uint8_t mask = u8(in);
    if (mask & 0x80) {
        *raw_len = u8(in) % (TB_TCP_MAX_OPT_LEN + 1);
        take(in, raw, *raw_len);
        *use_raw = true;
        return;
    }
    if (mask & 0x01) {
        tb_peer_ts_opts(c, o);
        if (mask & 0x20) o->ts_val = c->ts_val += u32(in);   /* a jump, forwards or (wrapping) back */
    }
    if (mask & 0x02) {
        uint8_t n = (uint8_t)(1 + u8(in) % (o->has_ts ? 3 : 4));
        uint32_t base = c_snd_una(c);
        for (uint8_t b = 0; b < n; b++) {
            uint32_t left = base + (uint32_t)u8(in) * 256u;
            o->sack[b].left = left;
            o->sack[b].right = left + 1 + (uint32_t)u8(in) * 64u;
        }
        o->sack_count = n;
    }
    if (mask & 0x04) {
        o->has_mss = true;
        o->mss = u16(in);
    }
    if (mask & 0x08) {
        o->has_wscale = true;
        o->wscale = u8(in);
    }
    if (mask & 0x10) o->sack_permitted = true;
}

static void op_segment(struct run *R, struct rd *in) {
    fz_conn *c = conn_pick(R, u8(in));
    if (c == NULL) return;
    static const uint8_t presets[7] = {TB_TCP_ACK,           TB_TCP_ACK | TB_TCP_PSH,        TB_TCP_FIN | TB_TCP_ACK,
                                       TB_TCP_RST,           TB_TCP_RST | TB_TCP_ACK,        TB_TCP_SYN,
                                       TB_TCP_SYN | TB_TCP_ACK};
    uint8_t fsel = u8(in);
    uint8_t flags = (fsel & 7) == 7 ? u8(in) : presets[fsel & 7];
    if (fsel & 0x08) flags |= TB_TCP_URG;
    if (fsel & 0x10) flags |= TB_TCP_ECE | TB_TCP_CWR;
    uint8_t ssel = u8(in);
    uint32_t seq;
    switch (ssel & 3) {
    case 0: seq = c_rcv_nxt(c); break;
    case 1: seq = c->snd_max; break;
    case 2: seq = c->isn; break;
    default: seq = c_rcv_nxt(c) + ((uint32_t)c->stack_window << (ssel >> 4 & 7)); break;
    }
    seq += scaled_delta(in, ssel);
    uint8_t asel = u8(in);
    uint32_t ack;
    switch (asel & 3) {
    case 0: ack = c_snd_max(c); break;
    case 1: ack = c_snd_una(c); break;
    case 2: ack = c->stack_isn + 1; break;
    default: ack = c_snd_una(c) + (c_snd_max(c) - c_snd_una(c)) / 2; break;
    }
    ack += scaled_delta(in, asel);
    uint16_t window = window_of(in);
    uint16_t urgent = (flags & TB_TCP_URG) ? u16(in) : 0;
    struct tb_tcp_opts o;
    uint8_t raw[TB_TCP_MAX_OPT_LEN];
    size_t raw_len = 0;
    bool use_raw;
    read_opts(in, c, &o, raw, &raw_len, &use_raw);
    uint8_t l = u8(in);
    size_t plen = payload_len_of(l);
    bool bad = (asel & 0xf0) == 0xf0;   /* now and then a wrong checksum */
    peer_segment(R, c, flags, seq, ack, window, urgent, use_raw ? NULL : &o, use_raw ? raw : NULL, raw_len, plen, bad);
}

static void op_data(struct run *R, struct rd *in) {
    fz_conn *c = conn_pick(R, u8(in));
    if (c == NULL) return;
    uint8_t l = u8(in);
    size_t plen = payload_len_of(l);
    if (plen == 0) plen = 1;
    struct tb_tcp_opts o;
    memset(&o, 0, sizeof(o));
    if (c->ts_seen) tb_peer_ts_opts(c, &o);
    uint8_t flags = TB_TCP_ACK | ((l & 1) ? TB_TCP_PSH : 0);
    peer_segment(R, c, flags, c_rcv_nxt(c), c_snd_max(c), 65535, 0, &o, NULL, 0, plen, false);
}

static void op_ack(struct run *R, struct rd *in) {
    fz_conn *c = conn_pick(R, u8(in));
    if (c == NULL) return;
    uint16_t window = window_of(in);
    struct tb_tcp_opts o;
    memset(&o, 0, sizeof(o));
    if (c->ts_seen) tb_peer_ts_opts(c, &o);
    peer_segment(R, c, TB_TCP_ACK, c_rcv_nxt(c), c_snd_max(c), window, 0, &o, NULL, 0, 0, false);
}

/* A TCP header straight from the input (offsets and flags as they come),
 * sequence and acknowledgment numbers taken as deltas from the connection's,
 * checksummed unless the input asks otherwise. */
static void op_raw_tcp(struct run *R, struct rd *in) {
    uint8_t sel = u8(in);
    fz_conn *c = conn_pick(R, sel);
    if (c == NULL) return;
    size_t hl = TB_TCP_HDR_LEN + 4u * (u8(in) % 11u);
    uint8_t seg[TB_TCP_HDR_LEN + TB_TCP_MAX_OPT_LEN + MAX_PAYLOAD];
    take(in, seg, hl);
    if (!(sel & 0x80)) {
        tb_put16(seg, c->port);
        tb_put16(seg + 2, c->stack_port);
    }
    tb_put32(seg + 4, c_rcv_nxt(c) + tb_get32(seg + 4));
    tb_put32(seg + 8, c_snd_max(c) + tb_get32(seg + 8));
    size_t plen = payload_len_of(u8(in));
    uint32_t seq = tb_get32(seg + 4);
    bool syn = (seg[13] & TB_TCP_SYN) != 0;
    size_t seg_len = hl + plen;
    /* The payload starts where the data offset says, not where the input's
     * header bytes end: the pattern follows the offset. Header bytes that
     * the offset turns into payload void the receive check. */
    size_t doff = (size_t)(seg[12] >> 4) * 4;
    if (doff < TB_TCP_HDR_LEN || doff > seg_len) doff = hl;
    if (doff < hl) R->tainted = true;
    for (size_t k = hl; k < seg_len; k++)
        seg[k] = k >= doff ? tb_peer_pat(seq + (syn ? 1u : 0u) + (uint32_t)(k - doff)) : TB_TCPOPT_NOP;
    if (!(sel & 0x40)) tb_peer_tcp_checksum(seg, seg_len, FZ_IP_PEER, FZ_IP_US);
    uint8_t frame[TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + sizeof(seg)];
    size_t n = wrap_ip(R, frame, sizeof(frame), FZ_IP_PEER, TB_IPPROTO_TCP, seg, seg_len);
    if (n > 0) feed(R, frame, n);
}

/* Raw bytes: a whole frame, or IPv4 / ICMP from the input behind valid
 * outer headers (checksums fixed where the layer has one). */
static void op_raw_frame(struct run *R, struct rd *in) {
    uint8_t mode = u8(in);
    size_t n = u16(in) % (TB_ETH_MAX_FRAME + 1);
    uint8_t frame[TB_ETH_MAX_FRAME + 64];
    memset(frame, 0, sizeof(frame));
    size_t len;
    switch (mode % 3) {
    case 0:
        take(in, frame, n);
        len = n;
        break;
    case 1: {   /* our Ethernet header, raw IPv4 packet (header checksum fixed) */
        if (n > TB_ETH_MAX_FRAME - TB_ETH_HDR_LEN) n = TB_ETH_MAX_FRAME - TB_ETH_HDR_LEN;
        tb_peer_build_eth(&R->host, TB_ETHERTYPE_IPV4, NULL, 0, frame, sizeof(frame));
        uint8_t *ip = frame + TB_ETH_HDR_LEN;
        take(in, ip, n);
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
        if ((mode & 0x80) == 0 && n >= TB_IPV4_HDR_LEN && ihl >= TB_IPV4_HDR_LEN && ihl <= n) {
            tb_put16(ip + 10, 0);
            tb_put16(ip + 10, tb_csum(ip, ihl));
        }
        len = TB_ETH_HDR_LEN + n;
        break;
    }
    default: {  /* valid Ethernet + IPv4, raw ICMP message (checksum fixed) */
        if (n > TB_ETH_MAX_FRAME - TB_ETH_HDR_LEN - TB_IPV4_HDR_LEN) n = TB_ETH_MAX_FRAME - TB_ETH_HDR_LEN - TB_IPV4_HDR_LEN;
        uint8_t icmp[TB_ETH_MAX_FRAME];
        take(in, icmp, n);
        if ((mode & 0x80) == 0 && n >= TB_ICMP_HDR_LEN) {
            tb_put16(icmp + 2, 0);
            tb_put16(icmp + 2, tb_csum(icmp, n));
        }
        len = wrap_ip(R, frame, sizeof(frame), (mode & 0x40) ? FZ_IP_ROUTER : FZ_IP_PEER, TB_IPPROTO_ICMP, icmp, n);
        break;
    }
    }
    /* Arbitrary TCP payload voids the byte-by-byte receive check. */
    struct tb_eth_repr eth;
    size_t off;
    struct tb_ipv4_repr ip;
    struct tb_tcp_repr th;
    /* A TCP fragment taints too: reassembled with others, it is a segment
     * whose payload the input chose. */
    if (tb_eth_parse(frame, len, &eth, &off) == TB_WIRE_OK && eth.ethertype == TB_ETHERTYPE_IPV4 &&
        tb_ipv4_parse(frame + off, len - off, &ip) == TB_WIRE_OK && ip.protocol == TB_IPPROTO_TCP &&
        (tb_ipv4_is_fragment(&ip) ||
         (tb_tcp_parse(frame + off + ip.header_len, ip.total_len - ip.header_len, ip.src, ip.dst, &th) == TB_WIRE_OK &&
          th.payload_len > 0)))
        R->tainted = true;
    feed(R, frame, len);
}

/* An ICMP error about one of the connection's segments (RFC 792 quote:
 * IP header + 8 bytes), or an echo request. */
static void op_icmp(struct run *R, struct rd *in) {
    uint8_t sel = u8(in);
    fz_conn *c = conn_pick(R, u8(in));
    struct tb_icmp_repr ic;
    memset(&ic, 0, sizeof(ic));
    uint8_t quote[TB_PEER_QUOTE_LEN];
    uint8_t echo[64];
    switch (sel % 6) {
    case 0: ic.type = TB_ICMP_DEST_UNREACH; ic.code = TB_ICMP_UNREACH_FRAG_NEEDED; ic.next_hop_mtu = u16(in); break;
    case 1: ic.type = TB_ICMP_DEST_UNREACH; ic.code = TB_ICMP_UNREACH_PORT; break;
    case 2: ic.type = TB_ICMP_DEST_UNREACH; ic.code = (uint8_t)(u8(in) % 16); break;
    case 3: ic.type = TB_ICMP_TIME_EXCEEDED; break;
    case 4: ic.type = (uint8_t)u8(in); ic.code = u8(in); break;
    default:
        ic.type = TB_ICMP_ECHO_REQUEST;
        ic.ident = u16(in);
        ic.seq = u16(in);
        ic.payload_len = u8(in) % sizeof(echo);
        take(in, echo, ic.payload_len);
        ic.payload = echo;
        break;
    }
    if (ic.type != TB_ICMP_ECHO_REQUEST && ic.type != TB_ICMP_ECHO_REPLY) {
        uint16_t sport = c ? c->stack_port : FZ_PORT_LISTEN, dport = c ? c->port : FZ_PORT_PEER;
        uint32_t seq = c ? c_snd_una(c) + scaled_delta(in, sel >> 2) : 0;
        tb_peer_quote_tcp(&R->host, sport, dport, seq, quote);
        ic.payload = quote;
        ic.payload_len = sizeof(quote);
    }
    uint8_t frame[TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + TB_ICMP_HDR_LEN + TB_IPV4_HDR_LEN + 64];
    size_t len = tb_peer_build_icmp(&R->host, (sel & 0x80) ? FZ_IP_ROUTER : FZ_IP_PEER, &ic, frame, sizeof(frame));
    if (len > 0) feed(R, frame, len);
}

static void op_arp(struct run *R, struct rd *in) {
    uint8_t sel = u8(in);
    struct tb_arp_repr a;
    memset(&a, 0, sizeof(a));
    a.op = (sel & 1) ? TB_ARP_OP_REPLY : TB_ARP_OP_REQUEST;
    a.sha = (sel & 2) ? mac_peer2 : mac_peer;
    a.spa = (sel & 4) ? FZ_IP_PEER + (uint32_t)(u8(in) % 8) : FZ_IP_PEER;
    a.tha = (sel & 1) ? mac_us : (struct tb_mac){{0}};
    a.tpa = (sel & 8) ? u32(in) : FZ_IP_US;
    uint8_t frame[TB_ETH_MIN_FRAME];
    size_t len = tb_peer_build_arp(&a, (sel & 16) ? &tb_mac_broadcast : &mac_us, frame, sizeof(frame));
    if (len > 0) feed(R, frame, len);
}

static void op_syn(struct run *R, struct rd *in) {
    uint8_t sel = u8(in);
    uint16_t lport = R->listener_ports[sel % MAX_LISTENERS];
    if (lport == 0) lport = (sel & 0x80) ? (uint16_t)(1 + u8(in)) : FZ_PORT_LISTEN;
    uint16_t rport = (sel & 0x40) ? (uint16_t)(FZ_PORT_PEER + 1 + u8(in) % 16) : R->next_peer_port++;
    uint32_t isn = FZ_PEER_ISN + ((uint32_t)u8(in) << 24) + rport;
    fz_conn *c = conn_find(R, lport, rport);
    if (c == NULL) c = conn_add(R, lport, rport, isn);
    if (c == NULL) return;
    c->isn = isn;
    c->snd_max = isn;
    c->ack_max = 0;
    struct tb_tcp_opts o;
    uint8_t raw[TB_TCP_MAX_OPT_LEN];
    size_t raw_len = 0;
    bool use_raw;
    read_opts(in, c, &o, raw, &raw_len, &use_raw);
    size_t plen = (sel & 0x20) ? payload_len_of(u8(in)) : 0;
    peer_segment(R, c, TB_TCP_SYN, isn, 0, window_of(in), 0, use_raw ? NULL : &o, use_raw ? raw : NULL, raw_len,
                 plen, false);
}

static void op_time(struct run *R, struct rd *in) {
    static const tb_time_ns unit[4] = {TB_NS_PER_US * 100, TB_NS_PER_MS, 100 * TB_NS_PER_MS, 10 * TB_NS_PER_S};
    uint16_t d = u16(in);
    R->now += (tb_time_ns)(d & 0x3fff) * unit[d >> 14];
    tb_host_kick(R->h);
}

static void op_timers(struct run *R, struct rd *in) {
    unsigned n = 1 + u8(in) % MAX_TIMER_JUMPS;
    for (unsigned i = 0; i < n && !R->failed; i++) {
        tb_time_ns next = tb_host_next_deadline(R->h);
        if (next == TB_TIME_NEVER || next > R->now + 3600 * TB_NS_PER_S) break;
        if (next > R->now) R->now = next;
        settle(R);
    }
}

/* ---- application calls ---------------------------------------------------------- */

/* A handle: one the application holds, now and then one it gave back or a
 * listener's (the API must answer those without harm). */
static struct fz_handle *handle_pick(struct run *R, uint8_t sel, int32_t *h, bool *stale) {
    *stale = false;
    if ((sel & 0xc0) == 0xc0 && R->nstale > 0) {
        *stale = true;
        *h = R->stale[sel % R->nstale];
        return NULL;
    }
    if ((sel & 0xc0) == 0x80) {
        *h = R->listeners[sel % MAX_LISTENERS];
        return NULL;
    }
    for (size_t k = 0; k < MAX_HANDLES; k++) {
        struct fz_handle *fh = &R->handles[(sel + k) % MAX_HANDLES];
        if (fh->used) {
            *h = fh->h;
            return fh;
        }
    }
    *h = -1;
    return NULL;
}

static void stale_check(struct run *R, bool stale, const char *call, int64_t rc) {
    if (stale && rc != TB_ERR_BADCONN)
        fail(R, "%s on a handle given back returned %lld, not TB_ERR_BADCONN", call, (long long)rc);
}

static void handle_add(struct run *R, int32_t h) {
    for (size_t i = 0; i < MAX_HANDLES; i++)
        if (R->handles[i].used && R->handles[i].h == h) {
            fail(R, "the stack handed out handle %d twice", h);
            return;
        }
    for (size_t i = 0; i < MAX_HANDLES; i++)
        if (!R->handles[i].used) {
            R->handles[i] = (struct fz_handle){.used = true, .h = h};
            struct tb_tcp_info info;
            if (tb_tcp_info(R->st, h, &info) == TB_OK && info.remote_ipv4 == FZ_IP_PEER)
                conn_add(R, info.local_port, info.remote_port, FZ_PEER_ISN);
            return;
        }
    /* No room to track it: give it back at once. */
    tb_host_abort(R->h, h);
}

static void handle_release(struct run *R, struct fz_handle *fh) {
    if (R->nstale < MAX_STALE) R->stale[R->nstale++] = fh->h;
    else R->stale[fh->h % MAX_STALE] = fh->h;
    fh->used = false;
}

static void check_received(struct run *R, struct fz_handle *fh, const uint8_t *p, size_t n) {
    struct tb_tcp_info info;
    if (R->tainted || tb_tcp_info(R->st, fh->h, &info) != TB_OK) {
        fh->received += (uint32_t)n;
        return;
    }
    uint32_t seq0 = info.irs + 1 + fh->received;
    for (size_t i = 0; i < n; i++)
        if (p[i] != tb_peer_pat(seq0 + (uint32_t)i)) {
            fail(R, "the application read a byte the peer never sent: stream offset %u (seq %u)",
                 fh->received + (uint32_t)i, seq0 + (uint32_t)i);
            break;
        }
    fh->received += (uint32_t)n;
    R->rep->bytes_received += n;
}

static void op_send(struct run *R, struct rd *in, bool zero_copy) {
    int32_t h;
    bool stale;
    struct fz_handle *fh = handle_pick(R, u8(in), &h, &stale);
    size_t n = u16(in) % (zero_copy ? 2000u : 8192u);
    uint32_t off = fh ? fh->sent : 0;
    if (zero_copy) {
        if (n == 0) n = 1;
        struct tb_buf *b = tb_host_buf_alloc(R->h, n);
        if (b == NULL) return;
        for (size_t i = 0; i < n; i++) b->data[i] = pat_app(off + (uint32_t)i);
        int rc = tb_host_send_buf(R->h, h, b);
        stale_check(R, stale, "tb_tcp_send_buf", rc);
        if (rc != TB_OK) {
            tb_host_buf_free(R->h, b);
            return;
        }
        if (fh == NULL) {
            if (!stale) fail(R, "tb_tcp_send_buf accepted a listener or invalid handle %d", h);
            return;
        }
        fh->sent += (uint32_t)n;
        R->rep->bytes_sent += n;
        return;
    }
    uint8_t buf[8192];
    for (size_t i = 0; i < n; i++) buf[i] = pat_app(off + (uint32_t)i);
    int64_t rc = tb_host_send(R->h, h, buf, n);
    stale_check(R, stale, "tb_tcp_send", rc);
    if (rc > (int64_t)n) fail(R, "tb_tcp_send took %lld of %zu bytes", (long long)rc, n);
    if (rc > 0 && fh == NULL) fail(R, "tb_tcp_send accepted bytes on a listener or invalid handle %d", h);
    if (rc > 0 && fh != NULL) {
        fh->sent += (uint32_t)rc;
        R->rep->bytes_sent += (uint64_t)rc;
    }
}

static void op_recv(struct run *R, struct rd *in, bool zero_copy) {
    int32_t h;
    bool stale;
    struct fz_handle *fh = handle_pick(R, u8(in), &h, &stale);
    size_t max = 1 + u16(in) % 8192u;
    if (zero_copy) {
        struct tb_buf *chain = NULL;
        int64_t rc = tb_host_recv_buf(R->h, h, &chain, max);
        stale_check(R, stale, "tb_tcp_recv_buf", rc);
        if (rc > 0 && fh == NULL) fail(R, "tb_tcp_recv_buf returned bytes on a listener or invalid handle %d", h);
        size_t total = 0;
        for (struct tb_buf *b = chain; b != NULL; b = b->next) {
            if (fh != NULL) check_received(R, fh, b->data, b->len);
            total += b->len;
        }
        if (rc >= 0 && total != (size_t)rc) fail(R, "tb_tcp_recv_buf returned %lld but lent %zu bytes", (long long)rc, total);
        if (rc <= 0 && chain != NULL) fail(R, "tb_tcp_recv_buf returned %lld with a chain", (long long)rc);
        if (chain != NULL) tb_host_buf_free(R->h, chain);
        return;
    }
    uint8_t buf[8192];
    int64_t rc = tb_host_recv(R->h, h, buf, max);
    stale_check(R, stale, "tb_tcp_recv", rc);
    if (rc > (int64_t)max) fail(R, "tb_tcp_recv returned %lld bytes for a %zu-byte buffer", (long long)rc, max);
    else if (rc > 0 && fh == NULL) fail(R, "tb_tcp_recv returned bytes on a listener or invalid handle %d", h);
    else if (rc > 0) check_received(R, fh, buf, (size_t)rc);
}

static void op_close(struct run *R, struct rd *in, int which) {
    int32_t h;
    bool stale;
    struct fz_handle *fh = handle_pick(R, u8(in), &h, &stale);
    int rc;
    const char *name;
    struct tb_tcp_info info;
    if (which > 0 && fh != NULL && tb_tcp_info(R->st, h, &info) == TB_OK && info.remote_ipv4 == FZ_IP_PEER) {
        fz_conn *c = conn_find(R, info.local_port, info.remote_port);
        if (c != NULL) sync_iss(R, c);   /* orphans keep sending: remember the ISS */
    }
    if (which == 0) {
        name = "tb_tcp_shutdown";
        rc = tb_host_shutdown(R->h, h);
    } else if (which == 1) {
        name = "tb_tcp_close";
        rc = tb_host_close(R->h, h);
    } else {
        name = "tb_tcp_abort";
        rc = tb_host_abort(R->h, h);
    }
    stale_check(R, stale, name, rc);
    if (which > 0 && fh != NULL) {
        if (rc != TB_OK) fail(R, "%s of a held handle returned %d", name, rc);
        handle_release(R, fh);
    }
    if (which > 0 && fh == NULL && !stale && h >= 0 && rc == TB_OK) {
        /* A listener closed through tb_tcp_close. */
        for (size_t i = 0; i < MAX_LISTENERS; i++)
            if (R->listeners[i] == h) {
                R->listeners[i] = -1;
                R->listener_ports[i] = 0;
            }
    }
}

static void op_setopt(struct run *R, struct rd *in) {
    int32_t h;
    bool stale;
    handle_pick(R, u8(in), &h, &stale);
    uint8_t opt = (uint8_t)(1 + u8(in) % 11);
    uint8_t vs = u8(in);
    int64_t v;
    switch (vs & 3) {
    case 0: v = vs >> 2; break;
    case 1: v = (int64_t)u16(in) * 16; break;
    case 2: v = (int64_t)u16(in) * TB_NS_PER_MS; break;
    default: v = (int64_t)(int32_t)u32(in); break;
    }
    int rc = tb_host_setopt(R->h, h, (enum tb_tcp_opt)opt, v);
    stale_check(R, stale, "tb_tcp_setopt", rc);
}

static void op_connect(struct run *R, struct rd *in) {
    uint8_t sel = u8(in);
    uint16_t dport = (sel & 1) ? u16(in) : (uint16_t)(FZ_PORT_PEER + 100 + u8(in) % 8);
    uint32_t dst = (sel & 2) ? FZ_IP_PEER + (uint32_t)(u8(in) % 4) : FZ_IP_PEER;
    int32_t h;
    if (sel & 4) h = tb_host_connect_from(R->h, (uint16_t)(1024 + u8(in)), dst, dport);
    else h = tb_host_connect(R->h, dst, dport);
    if (h >= 0) handle_add(R, h);
}

static void op_accept(struct run *R, struct rd *in) {
    int32_t l = R->listeners[u8(in) % MAX_LISTENERS];
    int32_t h = tb_host_accept(R->h, l);
    if (h >= 0) handle_add(R, h);
}

static void op_listen(struct run *R, struct rd *in) {
    uint8_t sel = u8(in);
    size_t i = sel % MAX_LISTENERS;
    if (R->listeners[i] >= 0) {
        if (sel & 0x80) {
            int rc = tb_host_close(R->h, R->listeners[i]);
            if (rc != TB_OK) fail(R, "tb_tcp_close of a listener returned %d", rc);
            R->listeners[i] = -1;
            R->listener_ports[i] = 0;
        }
        return;
    }
    uint16_t port = (uint16_t)(FZ_PORT_LISTEN + (sel >> 2) % 8);
    int32_t l = tb_host_listen(R->h, port, (uint32_t)(u8(in) % 4));
    if (l >= 0) {
        R->listeners[i] = l;
        R->listener_ports[i] = port;
    }
}

/* ---- set-up: a listener and one established, accepted connection -------------- */

static void stack_config(struct tb_config *cfg, uint8_t c) {
    tb_config_default(cfg);
    cfg->seed = 42;
    cfg->mac = mac_us;
    cfg->ipv4_addr = FZ_IP_US;
    cfg->ipv4_prefix_len = 24;
    cfg->buf_count = BUF_COUNT;
    cfg->tx_queue_len = BUF_COUNT;   /* never full between two drains: every frame out is seen */
    cfg->event_queue_len = 64;
    cfg->arp_cache_entries = 4;
    cfg->arp_pending_max = 8;
    cfg->arp_pending_per_entry = 4;
    cfg->arp_reachable_ns = INT64_C(1000) * 24 * 3600 * TB_NS_PER_S;
    cfg->tcp_max_conns = 8;
    cfg->tcp_max_listeners = MAX_LISTENERS;
    cfg->tcp_syn_queue_len = 2;
    cfg->tcp_accept_queue_len = 4;
    cfg->tcp_sndbuf_bytes = (c & 0x20) ? 4096 : 16384;
    cfg->tcp_rcvbuf_bytes = (c & 0x20) ? 4096 : 16384;
    cfg->tcp_ooo_max_bytes = 8192;
    cfg->tcp_timestamps = !(c & 0x01);
    cfg->tcp_sack = !(c & 0x02);
    cfg->tcp_window_scaling = !(c & 0x04);
    cfg->tcp_nodelay = (c & 0x08) != 0;
    cfg->tcp_delack_ns = (c & 0x10) ? 0 : 40 * TB_NS_PER_MS;
    cfg->tcp_syncookies = !(c & 0x40);
    if (c & 0x80) {
        cfg->tcp_keepalive_idle_ns = 10 * TB_NS_PER_S;
        cfg->tcp_keepalive_intvl_ns = 1 * TB_NS_PER_S;
        cfg->tcp_keepalive_probes = 3;
    }
    cfg->tcp_max_retries = 6;
}

static bool setup(struct run *R, struct rd *in) {
    uint8_t c = u8(in), synopt = u8(in);
    stack_config(&R->cfg, c);
    struct tb_host_params hp = {.name = "stack", .cfg = &R->cfg, .port_ops = &run_port_ops, .port = R,
                                .env_ops = &run_env_ops, .env = R};
    R->h = tb_host_new(&hp);
    R->st = R->h != NULL ? tb_host_stack(R->h) : NULL;
    if (R->h == NULL) {
        fail(R, "tb_stack_new refused the fuzz configuration");
        return false;
    }
    tb_peer_host_init(&R->host, &mac_peer, FZ_IP_PEER, &mac_us, FZ_IP_US);
    R->host.ip_flags = TB_IPV4_FLAG_DF;
    for (size_t i = 0; i < MAX_LISTENERS; i++) R->listeners[i] = -1;
    R->next_peer_port = FZ_PORT_PEER + 1;
    R->now = TB_NS_PER_S;
    R->listeners[0] = tb_host_listen(R->h, FZ_PORT_LISTEN, 0);
    R->listener_ports[0] = FZ_PORT_LISTEN;
    if (R->listeners[0] < 0) {
        fail(R, "tb_tcp_listen failed at set-up");
        return false;
    }
    /* The peer introduces itself with an ARP request. */
    uint8_t frame[TB_ETH_MIN_FRAME];
    feed(R, frame, tb_peer_build_arp_request(&R->host, frame, sizeof(frame)));
    settle(R);
    /* SYN, SYN-ACK, ACK. */
    fz_conn *cn = conn_add(R, FZ_PORT_LISTEN, FZ_PORT_PEER, FZ_PEER_ISN);
    struct tb_tcp_opts o;
    memset(&o, 0, sizeof(o));
    o.has_mss = !(synopt & 1);
    o.mss = (synopt & 2) ? 536 : 1460;
    o.has_wscale = !(synopt & 4);
    o.wscale = (uint8_t)((synopt >> 4) & 7);
    o.sack_permitted = !(synopt & 8);
    if (!(synopt & 0x80)) {
        o.has_ts = true;
        o.ts_val = cn->ts_val;
    }
    peer_segment(R, cn, TB_TCP_SYN, FZ_PEER_ISN, 0, 65535, 0, &o, NULL, 0, 0, false);
    settle(R);
    if (!cn->have_stack_isn) {
        fail(R, "no SYN-ACK to the set-up SYN");
        return false;
    }
    memset(&o, 0, sizeof(o));
    if (cn->ts_seen && !(synopt & 0x80)) tb_peer_ts_opts(cn, &o);
    peer_segment(R, cn, TB_TCP_ACK, FZ_PEER_ISN + 1, cn->stack_isn + 1, 65535, 0, &o, NULL, 0, 0, false);
    settle(R);
    int32_t h = tb_host_accept(R->h, R->listeners[0]);
    if (h < 0) {
        fail(R, "the set-up connection could not be accepted: %s", tb_err_name(h));
        return false;
    }
    handle_add(R, h);
    settle(R);
    return !R->failed;
}

bool fz_stack_run(const uint8_t *data, size_t len, fz_frame_fn on_frame, void *ctx, struct fz_stack_report *rep,
                  char *why, size_t why_len) {
    struct fz_stack_report local_rep;
    struct run *R = calloc(1, sizeof(*R));
    if (R == NULL) {
        say(why, why_len, "out of memory");
        return false;
    }
    if (why != NULL && why_len > 0) why[0] = '\0';
    R->rep = rep != NULL ? rep : &local_rep;
    memset(R->rep, 0, sizeof(*R->rep));
    R->on_frame = on_frame;
    R->ctx = ctx;
    R->why = why;
    R->why_len = why_len;
    struct rd in = {.p = data, .len = len};
    if (setup(R, &in)) {
        while (rd_more(&in) && R->rep->steps < MAX_STEPS && !R->failed) {
            uint8_t op = u8(&in) % FZ_OP__COUNT;
            R->rep->steps++;
            switch ((enum fz_op)op) {
            case FZ_OP_SEGMENT:
            case FZ_OP_SEGMENT2: op_segment(R, &in); break;
            case FZ_OP_DATA: op_data(R, &in); break;
            case FZ_OP_ACK: op_ack(R, &in); break;
            case FZ_OP_RAW_TCP: op_raw_tcp(R, &in); break;
            case FZ_OP_RAW_FRAME: op_raw_frame(R, &in); break;
            case FZ_OP_ICMP: op_icmp(R, &in); break;
            case FZ_OP_ARP: op_arp(R, &in); break;
            case FZ_OP_SYN: op_syn(R, &in); break;
            case FZ_OP_TIME: op_time(R, &in); break;
            case FZ_OP_TIMERS: op_timers(R, &in); break;
            case FZ_OP_SEND: op_send(R, &in, false); break;
            case FZ_OP_SEND_BUF: op_send(R, &in, true); break;
            case FZ_OP_RECV: op_recv(R, &in, false); break;
            case FZ_OP_RECV_BUF: op_recv(R, &in, true); break;
            case FZ_OP_SHUTDOWN: op_close(R, &in, 0); break;
            case FZ_OP_CLOSE: op_close(R, &in, 1); break;
            case FZ_OP_ABORT: op_close(R, &in, 2); break;
            case FZ_OP_SETOPT: op_setopt(R, &in); break;
            case FZ_OP_CONNECT: op_connect(R, &in); break;
            case FZ_OP_ACCEPT: op_accept(R, &in); break;
            case FZ_OP_LISTEN: op_listen(R, &in); break;
            case FZ_OP__COUNT: break;
            }
            settle(R);
        }
    }
    bool ok = !R->failed;
    R->rep->end_ns = R->now;
    if (R->h != NULL) {
        tb_host_kick(R->h);
        drain_events(R);
        tb_host_free(R->h);   /* the stack asserts that every buffer came back */
    }
    free(R);
    return ok;
}

/* ========================================================================== */
/* faults                                                                      */
/* ========================================================================== */

static const char *const action_words[] = {"drop", "delay", "duplicate", "corrupt", "blackout"};
static const char *const dir_words[] = {"A>B", "B>A", "A<>B"};
/* What a fault selects: TCP kinds, then ARP and any frame. */
static const char *const what_words[] = {"tcp",     "tcp syn", "tcp synack", "tcp fin", "tcp rst",
                                         "tcp data", "tcp ack", "tcp retransmit", "arp",    "any"};

void fz_faults_decode(const uint8_t *data, size_t len, struct fz_faults_case *c) {
    memset(c, 0, sizeof(*c));
    struct rd in = {.p = data, .len = len};
    struct sim_bulk_opts *o = &c->opts;
    sim_bulk_defaults(o);
    uint8_t h0 = u8(&in), h1 = u8(&in), h2 = u8(&in), h3 = u8(&in);
    static const uint32_t bufs[4] = {8192, 16384, 32768, 65536};
    static const uint16_t msss[4] = {0, 536, 1000, 1200};
    static const tb_time_ns delays[4] = {1 * TB_NS_PER_MS, 5 * TB_NS_PER_MS, 10 * TB_NS_PER_MS, 40 * TB_NS_PER_MS};
    static const uint64_t rates[4] = {10000000, 50000000, 100000000, 1000000000};
    static const uint32_t queues[4] = {0, 16384, 65536, 0};
    o->seed = 1u + h0;
    o->bytes = (20u + h1 % 41u) * 1024u;
    o->sndbuf_bytes = bufs[h2 & 3];
    o->rcvbuf_bytes = bufs[(h2 >> 2) & 3];
    o->mss = msss[(h2 >> 4) & 3];
    o->nodelay = (h2 & 0x40) != 0;
    o->zero_copy = (h2 & 0x80) != 0;
    o->link.delay_ns = delays[h3 & 3];
    o->link.rate_bps = rates[(h3 >> 2) & 3];
    o->link.queue_bytes = queues[(h3 >> 4) & 3];
    o->time_limit_ns = (tb_time_ns)FZ_FAULTS_TIME_LIMIT_S * TB_NS_PER_S;
    while (rd_more(&in) && c->spec_count < FZ_FAULTS_MAX) {
        uint8_t b0 = u8(&in), b1 = u8(&in), b2 = u8(&in), b3 = u8(&in), b4 = u8(&in);
        unsigned action = (b0 & 7u) % 5u, dir = (b0 >> 3) % 3u, what = b1 % 10u;
        char *s = c->specs[c->spec_count];
        size_t cap = sizeof(c->specs[0]);
        int n;
        if (action == 4) {
            /* blackout: a window of at most 2.56 s starting in the first 12.8 s */
            tb_time_ns from = (tb_time_ns)b2 * 50 * TB_NS_PER_MS;
            tb_time_ns until = from + (tb_time_ns)(b4 + 1u) * 10 * TB_NS_PER_MS;
            n = snprintf(s, cap, "blackout %s %lldms..%lldms", dir_words[dir], (long long)(from / TB_NS_PER_MS),
                         (long long)(until / TB_NS_PER_MS));
        } else {
            /* #N-M: rare kinds count from small numbers; at most 4 matches */
            bool rare = what >= 1 && what <= 4;
            unsigned first = 1u + (rare ? b2 % 4u : b2 % 64u);
            unsigned last = first + (b3 & 3u);
            n = snprintf(s, cap, "%s %s %s #%u-%u", action_words[action], dir_words[dir], what_words[what], first,
                         last);
            if (action == 1 && n > 0 && (size_t)n < cap)
                n += snprintf(s + n, cap - (size_t)n, " %ums", 1u + (unsigned)b4 * 10u);   /* up to 2.55 s */
            if (action == 3 && n > 0 && (size_t)n < cap)
                n += snprintf(s + n, cap - (size_t)n, " bit=%u", ((unsigned)(b3 >> 2) << 8 | b4) % (8u * 1514u));
        }
        (void)n;
        c->spec_ptrs[c->spec_count] = s;
        c->spec_count++;
    }
    o->faults = c->spec_ptrs;
    o->fault_count = c->spec_count;
}

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

bool fz_faults_check(const struct fz_faults_case *c, int run_rc, const struct sim_bulk_result *r, char *why,
                     size_t why_len) {
    if (run_rc != 0) {
        say(why, why_len, "the bulk run could not be set up: %s", r->error);
        return false;
    }
    if (r->delivered_bytes > r->sent_bytes || r->sent_bytes > c->opts.bytes) {
        say(why, why_len, "B read %llu bytes, A sent %llu of %llu", (unsigned long long)r->delivered_bytes,
            (unsigned long long)r->sent_bytes, (unsigned long long)c->opts.bytes);
        return false;
    }
    if (r->pass) {
        if (r->delivered_bytes != c->opts.bytes) {
            say(why, why_len, "passed with %llu of %llu bytes delivered", (unsigned long long)r->delivered_bytes,
                (unsigned long long)c->opts.bytes);
            return false;
        }
        return true;
    }
    /* A clean failure: a connection error the stack reported (retries
     * exhausted, a reset), with only checked bytes delivered. A send that
     * failed because the connection had just failed is the same failure. */
    if (starts_with(r->integrity, "A: connection failed") || starts_with(r->integrity, "B: connection failed"))
        return true;
    if ((starts_with(r->integrity, "A: send failed") || starts_with(r->integrity, "A: zero-copy send failed")) &&
        (r->info_a.error != 0 || r->info_b.error != 0))
        return true;
    say(why, why_len, "integrity: %s", r->integrity);
    return false;
}

bool fz_faults_run(const uint8_t *data, size_t len, const char *pcap_path, struct sim_bulk_result *r, char *why,
                   size_t why_len) {
    struct fz_faults_case *c = malloc(sizeof(*c));
    struct sim_bulk_result *res = r != NULL ? r : malloc(sizeof(*res));
    if (c == NULL || res == NULL) {
        say(why, why_len, "out of memory");
        free(c);
        if (r == NULL) free(res);
        return false;
    }
    fz_faults_decode(data, len, c);
    c->opts.pcap_path = pcap_path;
    int rc = sim_bulk_run(&c->opts, res);
    bool ok = fz_faults_check(c, rc, res, why, why_len);
    free(c);
    if (r == NULL) free(res);
    return ok;
}

void fz_faults_repro(const struct fz_faults_case *c, char *buf, size_t len) {
    const struct sim_bulk_opts *o = &c->opts;
    size_t n = 0;
#define ADD(...)                                                                  \
    do {                                                                          \
        if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);        \
    } while (0)
    ADD("tcpbed sim bulk --seed %llu --bytes %llu --sndbuf %u --rcvbuf %u", (unsigned long long)o->seed,
        (unsigned long long)o->bytes, o->sndbuf_bytes, o->rcvbuf_bytes);
    if (o->mss != 0) ADD(" --mss %u", o->mss);
    if (o->nodelay) ADD(" --nodelay");
    if (o->zero_copy) ADD(" --zero-copy");
    ADD(" --delay %lldms --rate %llubps", (long long)(o->link.delay_ns / TB_NS_PER_MS),
        (unsigned long long)o->link.rate_bps);
    if (o->link.queue_bytes != 0) ADD(" --queue %u", o->link.queue_bytes);
    ADD(" --time-limit %llds", (long long)(o->time_limit_ns / TB_NS_PER_S));
    for (size_t i = 0; i < c->spec_count; i++) ADD(" --fault '%s'", c->specs[i]);
#undef ADD
}
