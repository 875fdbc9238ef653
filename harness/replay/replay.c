#include "harness/replay/replay.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/lib/config_kv.h"
#include "harness/replay/runlog_reader.h"
#include "tcpbed/wire.h"
#include "traces/runlog.h"

#define DEFAULT_MAX_CALL_BYTES ((size_t)1 << 30)

struct replay {
    const struct tb_replay_opts *o;
    struct tb_replay_result *r;
    struct tb_rl_reader *rd;
    struct tb_host *h;
    tb_time_ns now;               /* the clock: the current record's time */
    struct tb_rl_item cur;        /* the record looked at, not yet replayed */
    bool have;                    /* cur holds one */
    bool at_end;                  /* the log has no more (EOF, cut, END or bad) */
    bool stopped;                 /* decided: diverged, bad, unsupported, cut or done */
    bool in_pass;
    tb_time_ns pass_now;
    uint64_t outbound_seen;       /* outbound frames of the log looked at */
    uint8_t *scratch;             /* send's and recv's buffer */
    size_t scratch_cap;
    struct tb_event *events;
    size_t events_cap;
};

const char *tb_replay_status_name(enum tb_replay_status s) {
    switch (s) {
    case TB_REPLAY_IDENTICAL: return "identical";
    case TB_REPLAY_DIVERGED: return "diverged";
    case TB_REPLAY_CUT_SHORT: return "cut short";
    case TB_REPLAY_BAD_LOG: return "bad log";
    case TB_REPLAY_UNSUPPORTED: return "unsupported";
    }
    return "?";
}

/* ---- ending the run ---------------------------------------------------------- */
static void stop_with(struct replay *rp, enum tb_replay_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void stop_with(struct replay *rp, enum tb_replay_status st, const char *fmt, ...) {
    if (rp->stopped) return;
    rp->stopped = true;
    rp->r->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rp->r->error, sizeof(rp->r->error), fmt, ap);
    va_end(ap);
}

static void format_time(tb_time_ns t, char *out, size_t len) {
    snprintf(out, len, "%" PRId64 ".%09" PRId64 " s", t / 1000000000, t % 1000000000);
}

/* The first divergence: where (frame, pass, time) and what (field, both values). */
static void diverge(struct replay *rp, const char *what, uint64_t frame_no, uint64_t outbound_no, uint64_t offset,
                    const char *field, const char *recorded, const char *replayed, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
static void diverge(struct replay *rp, const char *what, uint64_t frame_no, uint64_t outbound_no, uint64_t offset,
                    const char *field, const char *recorded, const char *replayed, const char *fmt, ...) {
    if (rp->stopped) return;
    rp->stopped = true;
    rp->r->status = TB_REPLAY_DIVERGED;
    struct tb_replay_divergence *d = &rp->r->divergence;
    d->frame_no = frame_no;
    d->outbound_no = outbound_no;
    d->pass_no = rp->r->passes;
    d->offset = offset;
    d->now = rp->now;
    snprintf(d->what, sizeof(d->what), "%s", what);
    snprintf(d->field, sizeof(d->field), "%s", field != NULL ? field : "");
    snprintf(d->recorded, sizeof(d->recorded), "%s", recorded != NULL ? recorded : "");
    snprintf(d->replayed, sizeof(d->replayed), "%s", replayed != NULL ? replayed : "");
    char detail[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    char t[48], where[96] = "";
    format_time(rp->now, t, sizeof(t));
    d->shown_no = frame_no != 0 && rp->have && rp->cur.kind == TB_RL_FRAME ? rp->cur.shown_no : 0;
    if (frame_no != 0 && outbound_no != 0)
        snprintf(where, sizeof(where), "frame %" PRIu64 " (outbound %" PRIu64 "; tshark frame.number %" PRIu64 "), ",
                 frame_no, outbound_no, d->shown_no);
    else if (frame_no != 0)
        snprintf(where, sizeof(where), "frame %" PRIu64 " (tshark frame.number %" PRIu64 "), ", frame_no, d->shown_no);
    char pass[40];
    if (d->pass_no == 0) snprintf(pass, sizeof(pass), "before the first pass");
    else snprintf(pass, sizeof(pass), "pass %" PRIu64, d->pass_no);
    snprintf(d->message, sizeof(d->message), "%s%s, time %s: %s", where, pass, t, detail);
    snprintf(rp->r->error, sizeof(rp->r->error), "%s", d->message);
}

/* ---- the log, one record of lookahead ---------------------------------------- */
static bool peek(struct replay *rp) {
    if (rp->have) return true;
    if (rp->at_end) return false;
    char err[400];
    enum tb_rl_status st = tb_rl_next(rp->rd, &rp->cur, err, sizeof(err));
    if (st == TB_RL_ITEM) {
        rp->have = true;
        return true;
    }
    rp->at_end = true;
    if (st == TB_RL_BAD) stop_with(rp, TB_REPLAY_BAD_LOG, "%s", err);
    else if (st == TB_RL_CUT) stop_with(rp, TB_REPLAY_CUT_SHORT, "the log was cut short: %s; no END record", err);
    else
        stop_with(rp, TB_REPLAY_CUT_SHORT, "the log was cut short: it ends at byte %" PRIu64 " without an END record",
                  tb_rl_offset(rp->rd));
    return false;
}

static void consume(struct replay *rp) { rp->have = false; }

static const char *describe(const struct tb_rl_item *it, char *buf, size_t len) {
    switch (it->kind) {
    case TB_RL_FRAME:
        snprintf(buf, len, "%s frame %" PRIu64, it->outbound ? "outbound" : "inbound", it->frame_no);
        break;
    case TB_RL_HEADER: snprintf(buf, len, "the HEADER record"); break;
    case TB_RL_PASS: snprintf(buf, len, "the start of a pass"); break;
    case TB_RL_TICK: snprintf(buf, len, "a tick"); break;
    case TB_RL_CALL: snprintf(buf, len, "a %s call", tb_rl_call_name(it->call.kind)); break;
    case TB_RL_END: snprintf(buf, len, "the END record"); break;
    }
    return buf;
}

/* ---- frames compared field by field ------------------------------------------ */
struct diff {
    char field[48], rec[192], got[192];
};

static void fmt_mac(const struct tb_mac *m, char *out, size_t len) {
    snprintf(out, len, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2], m->b[3], m->b[4], m->b[5]);
}

static void fmt_ip(uint32_t a, char *out, size_t len) {
    snprintf(out, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void fmt_hex(const uint8_t *p, size_t n, char *out, size_t len) {
    size_t at = 0;
    out[0] = '\0';
    if (n == 0) snprintf(out, len, "(none)");
    for (size_t i = 0; i < n && at + 3 < len; i++) at += (size_t)snprintf(out + at, len - at, "%02x", p[i]);
}

static void fmt_tcp_flags(uint8_t f, char *out, size_t len) {
    static const char names[] = "FSRPAUEC";
    char s[9];
    size_t k = 0;
    for (int i = 0; i < 8; i++)
        if (f & (1u << i)) s[k++] = names[i];
    s[k] = '\0';
    snprintf(out, len, "0x%02x (%s)", f, k ? s : "none");
}

static bool diff_u(struct diff *d, const char *field, uint64_t a, uint64_t b) {
    if (a == b) return false;
    snprintf(d->field, sizeof(d->field), "%s", field);
    snprintf(d->rec, sizeof(d->rec), "%" PRIu64, a);
    snprintf(d->got, sizeof(d->got), "%" PRIu64, b);
    return true;
}

static bool diff_hex16(struct diff *d, const char *field, uint16_t a, uint16_t b) {
    if (a == b) return false;
    snprintf(d->field, sizeof(d->field), "%s", field);
    snprintf(d->rec, sizeof(d->rec), "0x%04x", a);
    snprintf(d->got, sizeof(d->got), "0x%04x", b);
    return true;
}

static bool diff_ip(struct diff *d, const char *field, uint32_t a, uint32_t b) {
    if (a == b) return false;
    snprintf(d->field, sizeof(d->field), "%s", field);
    fmt_ip(a, d->rec, sizeof(d->rec));
    fmt_ip(b, d->got, sizeof(d->got));
    return true;
}

static bool diff_bytes(struct diff *d, const char *field, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (an == bn && memcmp(a, b, an) == 0) return false;
    snprintf(d->field, sizeof(d->field), "%s", field);
    fmt_hex(a, an, d->rec, sizeof(d->rec));
    fmt_hex(b, bn, d->got, sizeof(d->got));
    return true;
}

/* The first differing byte of two runs, as "offset N (0xAA)". */
static bool diff_payload(struct diff *d, const char *field, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    size_t n = an < bn ? an : bn, i = 0;
    while (i < n && a[i] == b[i]) i++;
    if (i == n && an == bn) return false;
    snprintf(d->field, sizeof(d->field), "%s", field);
    if (i < n) {
        snprintf(d->rec, sizeof(d->rec), "byte %zu = 0x%02x (of %zu)", i, a[i], an);
        snprintf(d->got, sizeof(d->got), "byte %zu = 0x%02x (of %zu)", i, b[i], bn);
    } else {
        snprintf(d->rec, sizeof(d->rec), "%zu bytes", an);
        snprintf(d->got, sizeof(d->got), "%zu bytes", bn);
    }
    return true;
}

/* True when the frames differ; d names the first field that does. */
static bool frames_differ(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, struct diff *d) {
    struct tb_eth_view ea, eb;
    if (tb_view_eth(a, an, &ea) == TB_WIRE_OK && tb_view_eth(b, bn, &eb) == TB_WIRE_OK) {
        if (memcmp(ea.dst.b, eb.dst.b, 6) != 0) {
            snprintf(d->field, sizeof(d->field), "eth.dst");
            fmt_mac(&ea.dst, d->rec, sizeof(d->rec));
            fmt_mac(&eb.dst, d->got, sizeof(d->got));
            return true;
        }
        if (memcmp(ea.src.b, eb.src.b, 6) != 0) {
            snprintf(d->field, sizeof(d->field), "eth.src");
            fmt_mac(&ea.src, d->rec, sizeof(d->rec));
            fmt_mac(&eb.src, d->got, sizeof(d->got));
            return true;
        }
        if (diff_hex16(d, "eth.type", ea.ethertype, eb.ethertype)) return true;
        struct tb_ipv4_view ia, ib;
        if (ea.ethertype == TB_ETHERTYPE_IPV4 && tb_view_ipv4(ea.payload, ea.payload_len, &ia) == TB_WIRE_OK &&
            tb_view_ipv4(eb.payload, eb.payload_len, &ib) == TB_WIRE_OK) {
            if (diff_u(d, "ip.hdr_len", ia.header_len, ib.header_len) || diff_u(d, "ip.tos", ia.tos, ib.tos) ||
                diff_u(d, "ip.len", ia.total_len, ib.total_len) || diff_u(d, "ip.id", ia.ident, ib.ident) ||
                diff_hex16(d, "ip.flags", ia.flags_frag, ib.flags_frag) || diff_u(d, "ip.ttl", ia.ttl, ib.ttl) ||
                diff_u(d, "ip.proto", ia.protocol, ib.protocol) ||
                diff_hex16(d, "ip.checksum", ia.checksum, ib.checksum) || diff_ip(d, "ip.src", ia.src, ib.src) ||
                diff_ip(d, "ip.dst", ia.dst, ib.dst) ||
                diff_bytes(d, "ip.options", ea.payload + 20, ia.header_len - 20u, eb.payload + 20, ib.header_len - 20u))
                return true;
            struct tb_tcp_view ta, tb;
            if (ia.protocol == TB_IPPROTO_TCP && ia.frag_offset == 0 && ib.frag_offset == 0 &&
                tb_view_tcp(ia.payload, ia.payload_len, &ta) == TB_WIRE_OK &&
                tb_view_tcp(ib.payload, ib.payload_len, &tb) == TB_WIRE_OK) {
                char fa[32], fb[32];
                if (diff_u(d, "tcp.sport", ta.src_port, tb.src_port) || diff_u(d, "tcp.dport", ta.dst_port, tb.dst_port) ||
                    diff_u(d, "tcp.seq", ta.seq, tb.seq) || diff_u(d, "tcp.ack", ta.ack, tb.ack))
                    return true;
                if (ta.flags != tb.flags) {
                    snprintf(d->field, sizeof(d->field), "tcp.flags");
                    fmt_tcp_flags(ta.flags, fa, sizeof(fa));
                    fmt_tcp_flags(tb.flags, fb, sizeof(fb));
                    snprintf(d->rec, sizeof(d->rec), "%s", fa);
                    snprintf(d->got, sizeof(d->got), "%s", fb);
                    return true;
                }
                if (diff_u(d, "tcp.window", ta.window, tb.window) ||
                    diff_hex16(d, "tcp.checksum", ta.checksum, tb.checksum) || diff_u(d, "tcp.urg", ta.urgent, tb.urgent) ||
                    diff_bytes(d, "tcp.options", ta.options, ta.options_len, tb.options, tb.options_len) ||
                    diff_payload(d, "payload", ta.payload, ta.payload_len, tb.payload, tb.payload_len))
                    return true;
            } else if (diff_payload(d, "ip.payload", ia.payload, ia.payload_len, ib.payload, ib.payload_len)) {
                return true;
            }
        } else if (diff_payload(d, "eth.payload", ea.payload, ea.payload_len, eb.payload, eb.payload_len)) {
            return true;
        }
    }
    if (diff_u(d, "length", an, bn)) return true;
    return diff_payload(d, "bytes", a, an, b, bn);
}

/* A frame in a line: "TCP 10.0.0.1:5001 > 10.0.0.2:40000 [S] seq 1 len 0". */
static void summarise(const uint8_t *f, size_t len, char *out, size_t out_len) {
    struct tb_eth_view e;
    struct tb_ipv4_view ip;
    struct tb_tcp_view t;
    char s[24], dst[24], fl[32];
    if (tb_view_eth(f, len, &e) != TB_WIRE_OK) {
        snprintf(out, out_len, "%zu bytes", len);
        return;
    }
    if (e.ethertype != TB_ETHERTYPE_IPV4 || tb_view_ipv4(e.payload, e.payload_len, &ip) != TB_WIRE_OK) {
        snprintf(out, out_len, "ethertype 0x%04x, %zu bytes", e.ethertype, len);
        return;
    }
    fmt_ip(ip.src, s, sizeof(s));
    fmt_ip(ip.dst, dst, sizeof(dst));
    if (ip.protocol == TB_IPPROTO_TCP && tb_view_tcp(ip.payload, ip.payload_len, &t) == TB_WIRE_OK) {
        fmt_tcp_flags(t.flags, fl, sizeof(fl));
        snprintf(out, out_len, "TCP %s:%u > %s:%u flags %s seq %u ack %u win %u, %zu payload bytes", s, t.src_port, dst,
                 t.dst_port, fl, t.seq, t.ack, t.window, t.payload_len);
    } else {
        snprintf(out, out_len, "IPv4 proto %u %s > %s, %zu bytes", ip.protocol, s, dst, len);
    }
}

/* ---- the platform: port, clock, application --------------------------------- */
static size_t rx_burst(void *port, struct tb_host *h, struct tb_buf **frames, size_t max) {
    struct replay *rp = port;
    size_t n = 0;
    while (!rp->stopped && peek(rp) && rp->cur.kind == TB_RL_FRAME && !rp->cur.outbound) {
        const struct tb_rl_item *it = &rp->cur;
        if (n == max) {
            stop_with(rp, TB_REPLAY_BAD_LOG,
                      "inbound frame %" PRIu64 " at byte %" PRIu64 ": more than %zu inbound frames in one pass "
                      "(a host reads at most %zu a pass)",
                      it->frame_no, it->offset, max, max);
            break;
        }
        if (it->now != rp->pass_now) {
            stop_with(rp, TB_REPLAY_BAD_LOG,
                      "inbound frame %" PRIu64 " at byte %" PRIu64 ": time %" PRId64 " ns differs from its pass's %" PRId64 " ns",
                      it->frame_no, it->offset, it->now, rp->pass_now);
            break;
        }
        struct tb_buf *b = tb_host_alloc_rx(h, it->frame_len);
        if (b == NULL) {
            char rec[64];
            snprintf(rec, sizeof(rec), "%zu-byte frame input", it->frame_len);
            diverge(rp, "inbound frame", it->frame_no, 0, it->offset, "rx buffer", rec, "no buffer",
                    "the replayed stack had no receive buffer for recorded inbound frame %" PRIu64
                    " (%zu bytes): its pool is not in the recorded state",
                    it->frame_no, it->frame_len);
            break;
        }
        memcpy(b->data, it->frame, it->frame_len);
        frames[n++] = b;
        rp->r->frames++;
        rp->r->frames_in++;
        consume(rp);
    }
    return n;
}

static void tx_burst(void *port, struct tb_host *h, struct tb_buf *const *frames, size_t n) {
    (void)h;
    struct replay *rp = port;
    for (size_t i = 0; i < n && !rp->stopped; i++) {
        uint8_t flat[TB_ETH_MAX_FRAME];
        size_t len = tb_buf_copy_out(frames[i], 0, flat, sizeof(flat));
        char what[400], next[64];
        if (!peek(rp)) return;   /* the log ends: cut short, stopped by peek */
        const struct tb_rl_item *it = &rp->cur;
        if (it->kind != TB_RL_FRAME || !it->outbound) {
            summarise(flat, len, what, sizeof(what));
            diverge(rp, "extra frame", 0, 0, it->offset, "", "", what,
                    "emitted a frame the record does not have (%s); the log has %s next", what,
                    describe(it, next, sizeof(next)));
            return;
        }
        rp->outbound_seen++;
        struct diff d;
        if (frames_differ(it->frame, it->frame_len, flat, len, &d)) {
            diverge(rp, "frame", it->frame_no, rp->outbound_seen, it->offset, d.field, d.rec, d.got,
                    "%s: recorded %s, replayed %s", d.field, d.rec, d.got);
            return;
        }
        rp->r->frames++;
        rp->r->frames_out++;
        consume(rp);
    }
}

static tb_time_ns env_now(void *env) { return ((struct replay *)env)->now; }

static const struct tb_port_ops replay_port = {.rx_burst = rx_burst, .tx_burst = tx_burst};
static const struct tb_host_env_ops replay_env = {.now = env_now};

static void on_tick(void *ctx, struct tb_host *h, tb_time_ns now) {
    struct replay *rp = ctx;
    (void)h;
    if (rp->stopped) return;
    char next[64];
    if (!peek(rp)) return;
    if (rp->cur.kind != TB_RL_TICK) {
        diverge(rp, "tick", 0, 0, rp->cur.offset, "tick", "none", "tick",
                "the replayed stack's timers were due and ran; the log has no tick here (it has %s next)",
                describe(&rp->cur, next, sizeof(next)));
        return;
    }
    if (rp->cur.now != now) {
        stop_with(rp, TB_REPLAY_BAD_LOG, "tick at byte %" PRIu64 ": time %" PRId64 " ns differs from its pass's %" PRId64 " ns",
                  rp->cur.offset, rp->cur.now, now);
        return;
    }
    rp->r->ticks++;
    consume(rp);
}

/* ---- calls ------------------------------------------------------------------- */
static bool scratch_fit(struct replay *rp, size_t n) {
    if (n <= rp->scratch_cap) return true;
    uint8_t *p = realloc(rp->scratch, n);
    if (p == NULL) return false;
    rp->scratch = p;
    rp->scratch_cap = n;
    return true;
}

static void call_diverges(struct replay *rp, const struct tb_rl_item *it, const char *field, const char *rec,
                          const char *got) {
    diverge(rp, "call", 0, 0, it->offset, field, rec, got, "call %s (conn %d): %s: recorded %s, replayed %s",
            tb_rl_call_name(it->call.kind), it->call.conn, field, rec, got);
}

static bool events_differ(const struct tb_event *a, const struct tb_event *b, struct diff *d) {
    if (diff_u(d, "type", a->type, b->type) || diff_u(d, "reason", a->reason, b->reason) ||
        diff_u(d, "time_ns", (uint64_t)a->time_ns, (uint64_t)b->time_ns) || diff_ip(d, "peer_ipv4", a->peer_ipv4, b->peer_ipv4) ||
        diff_u(d, "conn", (uint32_t)a->conn, (uint32_t)b->conn) || diff_u(d, "error", (uint32_t)a->error, (uint32_t)b->error))
        return true;
    switch (a->type) {
    case TB_EV_ECHO_REPLY:
        return diff_u(d, "echo.ident", a->u.echo.ident, b->u.echo.ident) || diff_u(d, "echo.seq", a->u.echo.seq, b->u.echo.seq) ||
               diff_u(d, "echo.ttl", a->u.echo.ttl, b->u.echo.ttl) ||
               diff_u(d, "echo.payload_ok", a->u.echo.payload_ok, b->u.echo.payload_ok) ||
               diff_u(d, "echo.payload_len", a->u.echo.payload_len, b->u.echo.payload_len) ||
               diff_u(d, "echo.sent_ns", (uint64_t)a->u.echo.sent_ns, (uint64_t)b->u.echo.sent_ns) ||
               diff_u(d, "echo.rtt_ns", (uint64_t)a->u.echo.rtt_ns, (uint64_t)b->u.echo.rtt_ns);
    case TB_EV_UNREACHABLE:
        return diff_u(d, "unreach.dropped_frames", a->u.unreach.dropped_frames, b->u.unreach.dropped_frames) ||
               diff_u(d, "unreach.icmp_code", a->u.unreach.icmp_code, b->u.unreach.icmp_code);
    case TB_EV_TCP_SOFT_ERROR:
        return diff_u(d, "soft.icmp_type", a->u.soft.icmp_type, b->u.soft.icmp_type) ||
               diff_u(d, "soft.icmp_code", a->u.soft.icmp_code, b->u.soft.icmp_code) ||
               diff_u(d, "soft.next_hop_mtu", a->u.soft.next_hop_mtu, b->u.soft.next_hop_mtu);
    default: return false;
    }
}

/* One recorded call made again on the replayed host, its result compared. */
static void replay_call(struct replay *rp, const struct tb_rl_item *it) {
    const struct tb_host_call *c = &it->call;
    size_t max_bytes = rp->o->max_call_bytes ? rp->o->max_call_bytes : DEFAULT_MAX_CALL_BYTES;
    int64_t got = 0;
    uint64_t hash = 0;
    size_t nevents = 0;
    switch (c->kind) {
    case TB_CALL_LISTEN: got = tb_host_listen(rp->h, c->port, c->backlog); break;
    case TB_CALL_ACCEPT: got = tb_host_accept(rp->h, c->conn); break;
    case TB_CALL_CONNECT:
        got = tb_host_connect_opts(rp->h, c->local_port, c->ipv4, c->port, c->opts, c->opt_count);
        break;
    case TB_CALL_SEND: {
        /* The stack copies min(offered, space) bytes; offering one byte past
         * what it took gives the same outcome when its space is as recorded,
         * and a different result when not. */
        size_t offer = c->len < it->data_len + 1 ? c->len : it->data_len + 1;
        if (!scratch_fit(rp, offer + 1)) {
            stop_with(rp, TB_REPLAY_UNSUPPORTED, "out of memory for a send of %zu bytes", offer);
            return;
        }
        if (it->data_len > 0) memcpy(rp->scratch, c->data, it->data_len);
        memset(rp->scratch + it->data_len, 0, offer + 1 - it->data_len);
        got = tb_host_send(rp->h, c->conn, rp->scratch, offer);
        break;
    }
    case TB_CALL_RECV: {
        /* As for send: one byte past what was read shows a queue that holds more. */
        size_t took = c->result > 0 ? (size_t)c->result : 0;
        size_t limit = c->len < took + 1 ? c->len : took + 1;
        if (limit > max_bytes || !scratch_fit(rp, limit + 1)) {
            stop_with(rp, TB_REPLAY_UNSUPPORTED, "call recv at byte %" PRIu64 ": a read of %zu bytes is beyond replay's limit (%zu)",
                      it->offset, limit, max_bytes);
            return;
        }
        got = tb_host_recv(rp->h, c->conn, rp->scratch, limit);
        hash = tb_runlog_hash(TB_RUNLOG_HASH_INIT, rp->scratch, got > 0 ? (size_t)got : 0);
        break;
    }
    case TB_CALL_SHUTDOWN: got = tb_host_shutdown(rp->h, c->conn); break;
    case TB_CALL_CLOSE: got = tb_host_close(rp->h, c->conn); break;
    case TB_CALL_ABORT: got = tb_host_abort(rp->h, c->conn); break;
    case TB_CALL_SETOPT: got = tb_host_setopt(rp->h, c->conn, (enum tb_tcp_opt)c->opt, c->value); break;
    case TB_CALL_PING:
        got = tb_host_ping(rp->h, c->ipv4, (uint16_t)((uint64_t)c->value >> 16), (uint16_t)c->value, c->payload_len);
        break;
    case TB_CALL_EVENTS: {
        size_t want = c->result > 0 ? (size_t)c->result : 0;
        size_t limit = c->len < want + 1 ? c->len : want + 1;
        if (limit > rp->events_cap) {
            struct tb_event *e = realloc(rp->events, limit * sizeof(*e));
            if (e == NULL) {
                stop_with(rp, TB_REPLAY_UNSUPPORTED, "out of memory for %zu events", limit);
                return;
            }
            rp->events = e;
            rp->events_cap = limit;
        }
        nevents = tb_host_events(rp->h, rp->events, limit);
        got = (int64_t)nevents;
        break;
    }
    case TB_CALL_SEND_BUF:
    case TB_CALL_RECV_BUF:
    case TB_CALL_BUF_ALLOC:
    case TB_CALL_BUF_FREE:
        stop_with(rp, TB_REPLAY_UNSUPPORTED,
                  "unsupported: the %s call at byte %" PRIu64 " (pass %" PRIu64 ") is zero-copy; a run-log does not hold "
                  "the application's buffer chains, so replay cannot rebuild them (record without --zero-copy)",
                  tb_rl_call_name(c->kind), it->offset, rp->r->passes);
        return;
    }
    rp->r->calls++;
    char rec[64], gv[64];
    if (got != c->result) {
        snprintf(rec, sizeof(rec), "%" PRId64, c->result);
        snprintf(gv, sizeof(gv), "%" PRId64, got);
        call_diverges(rp, it, "result", rec, gv);
        return;
    }
    if (c->kind == TB_CALL_RECV && hash != it->hash) {
        snprintf(rec, sizeof(rec), "0x%016" PRIx64, it->hash);
        snprintf(gv, sizeof(gv), "0x%016" PRIx64, hash);
        call_diverges(rp, it, "hash of the bytes read", rec, gv);
        return;
    }
    if (c->kind == TB_CALL_EVENTS) {
        for (size_t i = 0; i < nevents; i++) {
            struct diff d;
            if (events_differ(&it->events[i], &rp->events[i], &d)) {
                char field[80];
                snprintf(field, sizeof(field), "event %zu %s", i, d.field);
                call_diverges(rp, it, field, d.rec, d.got);
                return;
            }
        }
    }
}

/* The application of the replayed host: after the pass's input and tick,
 * the calls the log has in this pass. */
static void app(struct tb_host *h, void *ctx) {
    (void)h;
    struct replay *rp = ctx;
    char next[64];
    if (rp->stopped || !peek(rp)) return;
    if (rp->cur.kind == TB_RL_TICK) {
        char dl[48];
        tb_time_ns deadline = tb_stack_next_deadline(tb_host_stack(rp->h));
        if (deadline == TB_TIME_NEVER) snprintf(dl, sizeof(dl), "never");
        else format_time(deadline, dl, sizeof(dl));
        diverge(rp, "tick", 0, 0, rp->cur.offset, "tick", "tick", "none",
                "the log ran the stack's timers here; the replayed stack had none due (its next deadline: %s)", dl);
        return;
    }
    while (!rp->stopped && peek(rp) && rp->cur.kind == TB_RL_CALL && rp->cur.in_pass) {
        if (rp->cur.now != rp->pass_now) {
            stop_with(rp, TB_REPLAY_BAD_LOG, "call %s at byte %" PRIu64 ": time %" PRId64 " ns inside a pass at %" PRId64 " ns",
                      tb_rl_call_name(rp->cur.call.kind), rp->cur.offset, rp->cur.now, rp->pass_now);
            return;
        }
        replay_call(rp, &rp->cur);
        consume(rp);
    }
    if (!rp->stopped && peek(rp) && rp->cur.kind == TB_RL_FRAME && !rp->cur.outbound)
        stop_with(rp, TB_REPLAY_BAD_LOG, "%s at byte %" PRIu64 " comes after the pass's calls (a pass reads its frames first)",
                  describe(&rp->cur, next, sizeof(next)), rp->cur.offset);
}

/* ---- the run ------------------------------------------------------------------- */
static bool clock_to(struct replay *rp, tb_time_ns t, uint64_t offset) {
    if (t < rp->now) {
        stop_with(rp, TB_REPLAY_BAD_LOG, "record at byte %" PRIu64 ": time %" PRId64 " ns is before the previous %" PRId64 " ns",
                  offset, t, rp->now);
        return false;
    }
    rp->now = t;
    return true;
}

static void run_pass(struct replay *rp, bool from_port) {
    rp->r->passes++;
    rp->in_pass = true;
    rp->pass_now = rp->now;
    if (from_port) tb_host_poll(rp->h);
    else tb_host_kick(rp->h);
    rp->in_pass = false;
    if (rp->stopped || !peek(rp)) return;
    const struct tb_rl_item *it = &rp->cur;
    char next[64];
    if (it->kind == TB_RL_FRAME && it->outbound) {
        rp->outbound_seen++;
        char what[400];
        summarise(it->frame, it->frame_len, what, sizeof(what));
        diverge(rp, "missing frame", it->frame_no, rp->outbound_seen, it->offset, "", what, "",
                "recorded frame %" PRIu64 " not emitted (%s)", it->frame_no, what);
    } else if (it->kind == TB_RL_TICK || it->kind == TB_RL_FRAME || (it->kind == TB_RL_CALL && it->in_pass)) {
        stop_with(rp, TB_REPLAY_BAD_LOG, "%s at byte %" PRIu64 " is out of a pass's order (frames in, tick, calls, frames out)",
                  describe(it, next, sizeof(next)), it->offset);
    }
}

static bool header(struct replay *rp, struct tb_config *cfg) {
    if (!peek(rp)) return false;
    const struct tb_rl_item *it = &rp->cur;
    if (it->kind != TB_RL_HEADER) {
        stop_with(rp, TB_REPLAY_BAD_LOG, "byte %" PRIu64 ": expected the HEADER record first", it->offset);
        return false;
    }
    snprintf(rp->r->host, sizeof(rp->r->host), "%s", it->host);
    snprintf(rp->r->tool_version, sizeof(rp->r->tool_version), "%s", it->tool_version);
    snprintf(rp->r->cmdline, sizeof(rp->r->cmdline), "%s", it->cmdline);
    char err[400];
    if (!tb_config_kv_parse(it->config, it->config_len, cfg, err, sizeof(err))) {
        stop_with(rp, TB_REPLAY_BAD_LOG, "the HEADER record at byte %" PRIu64 ": %s", it->offset, err);
        return false;
    }
    const char *why = NULL;
    if (tb_config_check(cfg, &why) != TB_OK) {
        stop_with(rp, TB_REPLAY_BAD_LOG, "the HEADER record at byte %" PRIu64 ": the configuration is invalid: %s", it->offset,
                  why != NULL ? why : "?");
        return false;
    }
    if (rp->o->config_ok != NULL && !rp->o->config_ok(cfg, err, sizeof(err))) {
        stop_with(rp, TB_REPLAY_UNSUPPORTED, "the HEADER record at byte %" PRIu64 ": %s", it->offset, err);
        return false;
    }
    consume(rp);
    return true;
}

void tb_replay_run(const struct tb_replay_opts *o, struct tb_replay_result *r) {
    memset(r, 0, sizeof(*r));
    struct replay rp = {.o = o, .r = r};
    char err[400];
    rp.rd = o->path != NULL ? tb_rl_open_file(o->path, err, sizeof(err)) : tb_rl_open_mem(o->data, o->len);
    if (rp.rd == NULL) {
        r->status = TB_REPLAY_BAD_LOG;
        snprintf(r->error, sizeof(r->error), "%s", o->path != NULL ? err : "out of memory");
        return;
    }
    struct tb_config cfg;
    if (!header(&rp, &cfg)) goto out;
    struct tb_host_params hp = {.name = r->host, .cfg = &cfg, .port_ops = &replay_port, .port = &rp,
                                .env_ops = &replay_env, .env = &rp};
    rp.h = tb_host_new(&hp);
    if (rp.h == NULL) {
        stop_with(&rp, TB_REPLAY_UNSUPPORTED, "the logged configuration's stack cannot be built (out of memory)");
        goto out;
    }
    struct tb_host_hooks hooks = {.on_tick = on_tick, .ctx = &rp};
    tb_host_add_hooks(rp.h, &hooks);
    tb_host_set_app(rp.h, app, &rp);
    if (o->attach != NULL) o->attach(rp.h, o->attach_ctx);
    while (!rp.stopped && peek(&rp)) {
        struct tb_rl_item *it = &rp.cur;
        char what[64];
        switch (it->kind) {
        case TB_RL_PASS:
            if (!clock_to(&rp, it->now, it->offset)) break;
            {
                bool from_port = it->from_port;
                consume(&rp);
                run_pass(&rp, from_port);
            }
            break;
        case TB_RL_CALL:
            if (it->in_pass) {
                stop_with(&rp, TB_REPLAY_BAD_LOG, "call %s at byte %" PRIu64 " is marked inside a pass but follows no pass start",
                          tb_rl_call_name(it->call.kind), it->offset);
                break;
            }
            if (!clock_to(&rp, it->now, it->offset)) break;
            replay_call(&rp, it);
            consume(&rp);
            break;
        case TB_RL_END: {
            consume(&rp);
            struct tb_rl_item after;
            enum tb_rl_status st = tb_rl_next(rp.rd, &after, err, sizeof(err));
            if (st == TB_RL_EOF) {
                rp.stopped = true;
                r->status = TB_REPLAY_IDENTICAL;
            } else if (st == TB_RL_ITEM) {
                stop_with(&rp, TB_REPLAY_BAD_LOG, "%s at byte %" PRIu64 " follows the END record",
                          describe(&after, what, sizeof(what)), after.offset);
            } else {
                stop_with(&rp, TB_REPLAY_BAD_LOG, "after the END record: %s", err);
            }
            break;
        }
        default:
            stop_with(&rp, TB_REPLAY_BAD_LOG, "%s at byte %" PRIu64 " comes outside any pass", describe(it, what, sizeof(what)),
                      it->offset);
            break;
        }
    }
out:
    if (rp.h != NULL) tb_host_free(rp.h);
    tb_rl_close(rp.rd);
    free(rp.scratch);
    free(rp.events);
}
