/* TCP engine (stack/tcp), one test per RFC rule. Each test drives ONE stack
 * (10.0.0.1) by playing its peer (10.0.0.2) with harness/peer: segments are
 * built by tb_peer_build_tcp (correct checksums, any options), fed with
 * t_input, and the stack's output is drained and decoded back with
 * tb_peer_decode, which verifies every checksum — the way smoltcp tests its
 * sockets. Time is virtual: `now` is whatever the test says it is. */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/peer/peer.h"
#include "helpers.h"
#include "tcpbed/assert.h"

#define US_PORT 80
#define PEER_PORT 40000
#define PEER_ISN 0x10000000u
#define ROUTER_IP 0x0a0000feu   /* 10.0.0.254: a router that sends ICMP errors */
#define MS TB_NS_PER_MS
#define SEC TB_NS_PER_S
#define T0 (1 * SEC)

/* ---- set-up ------------------------------------------------------------- */

static void tcp_cfg(struct tb_config *cfg) {
    t_config(cfg);
    cfg->buf_count = 512;
    cfg->tx_queue_len = 256;
    /* The peer's MAC never expires, so no ARP request interleaves with TCP. */
    cfg->arp_reachable_ns = INT64_C(1000) * 24 * 3600 * SEC;
}

/* Stacks a test has not finished with t_stack_done: after a failed
 * assertion the teardown frees them, so a failure does not also show up as
 * a leak in the sanitizer build. */
static struct tb_stack *live_stacks[4];

static struct tb_stack *tcp_stack(const struct tb_config *cfg) {
    struct tb_stack *st = t_stack(cfg);
    for (size_t i = 0; i < TB_ARRAY_LEN(live_stacks); i++) {
        if (live_stacks[i] == NULL) {
            live_stacks[i] = st;
            break;
        }
    }
    t_learn_peer(st, 0);
    return st;
}

/* The test is done with st: t_stack_done(forget(st)). */
static struct tb_stack *forget(struct tb_stack *st) {
    for (size_t i = 0; i < TB_ARRAY_LEN(live_stacks); i++)
        if (live_stacks[i] == st) live_stacks[i] = NULL;
    return st;
}

static int free_leftover_stacks(void **state) {
    (void)state;
    for (size_t i = 0; i < TB_ARRAY_LEN(live_stacks); i++) {
        if (live_stacks[i] != NULL) tb_stack_free(live_stacks[i]);
        live_stacks[i] = NULL;
    }
    return 0;
}

static int32_t listen80(struct tb_stack *st) {
    int32_t l = tb_tcp_listen(st, US_PORT, 0);
    assert_true(l >= 0);
    return l;
}

static struct tb_tcp_info info_of(const struct tb_stack *st, int32_t h) {
    struct tb_tcp_info i;
    assert_int_equal(tb_tcp_info(st, h, &i), TB_OK);
    return i;
}

static struct tb_stats stats_of(const struct tb_stack *st) {
    struct tb_stats s;
    tb_stack_stats(st, &s);
    return s;
}

/* Runs fn(arg) in a forked copy of this process and reports whether the
 * copy survived: the stack's TB_ASSERTs abort, and one stack crash must
 * fail one test, not end the whole run. */
static bool survives(void (*fn)(void *), void *arg) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Payload bytes: the peer's are tb_peer_pat of their sequence number, the
 * application's tb_peer_pat of their stream offset, so any byte can be
 * checked. */
static void assert_pattern(const uint8_t *p, size_t n, uint32_t start) {
    size_t bad = tb_peer_find_pat_mismatch(p, n, start);
    if (bad < n) fail_msg("byte %zu (seq/offset %u) is wrong", bad, start + (uint32_t)bad);
}

/* ---- the peer's segments ---------------------------------------------------- */

/* The machine the tests play: 10.0.0.2 next to the stack's 10.0.0.1. */
static struct tb_peer_host *peer_host(void) {
    static struct tb_peer_host host;
    static bool ready;
    if (!ready) {
        tb_peer_host_init(&host, &t_mac_peer, T_IP_PEER, &t_mac_us, T_IP_US);
        ready = true;
    }
    return &host;
}

/* Builds s with the peer p and feeds it at now. */
static void peer_feed(struct tb_stack *st, tb_time_ns now, struct tb_peer *p, const struct tb_peer_seg *s) {
    uint8_t frame[TB_ETH_HDR_LEN + TB_IPV4_HDR_LEN + TB_TCP_HDR_LEN + TB_TCP_MAX_OPT_LEN + 1500];
    size_t n = tb_peer_build_tcp(p, s, frame, sizeof(frame));
    if (n == 0) fail_msg("the peer cannot build a segment with %zu payload bytes", s->payload_len);
    t_input(st, now, frame, n);
}

/* A segment from a peer port to a stack port with no connection at hand. */
static void peer_feed_ports(struct tb_stack *st, tb_time_ns now, uint16_t pport, uint16_t sport,
                            const struct tb_peer_seg *s) {
    struct tb_peer p;
    tb_peer_init(&p, peer_host(), pport, sport, s->seq);
    peer_feed(st, now, &p, s);
}

/* ---- the stack's segments ------------------------------------------------- */

struct seg {
    struct t_frame f;
    struct tb_ipv4_repr ip;
    struct tb_tcp_repr th;   /* th.payload points into f */
};

/* Drains one frame and decodes Ethernet/IPv4/TCP, asserting every checksum
 * and that it goes from the stack to the peer. */
static bool next_seg(struct tb_stack *st, struct seg *s) {
    if (t_drain(st, &s->f, 1) == 0) return false;
    struct tb_peer_frame d;
    enum tb_wire_err e = tb_peer_decode(s->f.bytes, s->f.len, &d);
    if (e != TB_WIRE_OK) fail_msg("the stack sent a frame that does not parse: %s", tb_wire_err_text(e));
    assert_int_equal(d.layer, TB_PEER_TCP);
    assert_true(tb_mac_equal(&d.eth.dst, &t_mac_peer));
    assert_int_equal(d.ip.src, T_IP_US);
    assert_int_equal(d.ip.dst, T_IP_PEER);
    s->ip = d.ip;
    s->th = d.tcp;
    return true;
}

static void expect_seg(struct tb_stack *st, struct seg *s) {
    if (!next_seg(st, s)) fail_msg("expected a segment from the stack, got none");
}

static void expect_none(struct tb_stack *st) {
    struct seg s;
    if (next_seg(st, &s)) {
        char why[200];
        tb_peer_describe(&s.th, why, sizeof(why));
        fail_msg("unexpected segment: %s", why);
    }
}

static size_t drain_all(struct tb_stack *st) {
    struct seg s;
    size_t n = 0;
    while (next_seg(st, &s)) n++;
    return n;
}

/* Fails the test with the peer's sentence when th is not what want says. */
static void assert_seg(const struct tb_tcp_repr *th, const struct tb_peer_expect *want) {
    char why[256];
    if (tb_peer_expect(th, want, why, sizeof(why)) != NULL) fail_msg("%s", why);
}

/* A RST with exactly these fields (flags RST or RST|ACK). */
static void expect_rst(struct tb_stack *st, uint16_t sport, uint16_t dport, uint32_t seq, bool with_ack, uint32_t ack) {
    struct seg s;
    expect_seg(st, &s);
    assert_seg(&s.th, &(struct tb_peer_expect){
                          .check = TB_PEER_CHECK_FLAGS | TB_PEER_CHECK_SEQ | TB_PEER_CHECK_LEN | TB_PEER_CHECK_PORTS |
                                   (with_ack ? TB_PEER_CHECK_ACK : 0u),
                          .flags = (uint8_t)(TB_TCP_RST | (with_ack ? TB_TCP_ACK : 0)),
                          .seq = seq,
                          .ack = ack,
                          .src_port = sport,
                          .dst_port = dport});
}

/* ---- events --------------------------------------------------------------- */

struct evs {
    struct tb_event ev[64];
    size_t n;
};

static void evs_take(struct tb_stack *st, struct evs *e) { e->n = tb_stack_events(st, e->ev, TB_ARRAY_LEN(e->ev)); }

static const struct tb_event *evs_find(const struct evs *e, uint32_t type, int32_t conn) {
    for (size_t i = 0; i < e->n; i++)
        if (e->ev[i].type == type && (conn < 0 || e->ev[i].conn == conn)) return &e->ev[i];
    return NULL;
}

/* Drains every event; asserts one of them is `type` for `conn` (< 0: any). */
static struct tb_event expect_event(struct tb_stack *st, uint32_t type, int32_t conn) {
    struct evs e;
    evs_take(st, &e);
    const struct tb_event *ev = evs_find(&e, type, conn);
    if (ev == NULL) fail_msg("no event of type %u for conn %d among %zu events", type, conn, e.n);
    return *ev;
}

/* Drains every event; asserts none is `type` (TB_EV_NONE: no event at all). */
static void expect_no_event(struct tb_stack *st, uint32_t type) {
    struct evs e;
    evs_take(st, &e);
    for (size_t i = 0; i < e.n; i++)
        if (type == TB_EV_NONE || e.ev[i].type == type)
            fail_msg("unexpected event of type %u (error %d)", e.ev[i].type, e.ev[i].error);
}

/* ---- one connection, seen from the peer ------------------------------------- */

enum { O_MSS = 1u, O_WS = 2u, O_SACK = 4u, O_TS = 8u, O_ALL = 15u };

/* The stack, the application's handles, and the peer's view of the
 * connection: p.port / p.stack_port, p.isn, p.snd_nxt (the peer's next
 * sequence number), p.rcv_nxt (the stack's next, as the peer acknowledges
 * it), p.stack_isn, p.window, p.ts_on / p.ts_val / p.ts_recent. */
struct tconn {
    struct tb_stack *st;
    tb_time_ns now;
    int32_t lh, h;        /* listener and connection handles, -1 if none */
    struct tb_peer p;
};

static void c_init(struct tconn *c, struct tb_stack *st, tb_time_ns now) {
    memset(c, 0, sizeof(*c));
    c->st = st;
    c->now = now;
    c->lh = c->h = -1;
    tb_peer_init(&c->p, peer_host(), 0, 0, PEER_ISN);
}

static struct tb_tcp_opts syn_opts(unsigned mask, uint16_t mss, uint8_t wscale, uint32_t tsval, uint32_t tsecr) {
    struct tb_tcp_opts o;
    memset(&o, 0, sizeof(o));
    o.has_mss = (mask & O_MSS) != 0;
    o.mss = mss;
    o.has_wscale = (mask & O_WS) != 0;
    o.wscale = wscale;
    o.sack_permitted = (mask & O_SACK) != 0;
    o.has_ts = (mask & O_TS) != 0;
    o.ts_val = tsval;
    o.ts_ecr = tsecr;
    return o;
}

/* Any segment on c's ports. */
static void c_send_seg(struct tconn *c, const struct tb_peer_seg *s) { peer_feed(c->st, c->now, &c->p, s); }

/* A segment with the connection's window and, once agreed, a timestamp;
 * data NULL: the peer's pattern. */
static void c_send_full(struct tconn *c, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t len) {
    struct tb_peer_seg s = {.flags = flags, .seq = seq, .ack = ack, .window = c->p.window, .payload = data,
                            .payload_len = len};
    if (c->p.ts_on) tb_peer_ts_opts(&c->p, &s.opts);
    c_send_seg(c, &s);
}

/* Sends at snd_nxt with ack = rcv_nxt, then advances snd_nxt. */
static void c_send(struct tconn *c, uint8_t flags, const void *data, size_t len) {
    c_send_full(c, flags, c->p.snd_nxt, c->p.rcv_nxt, data, len);
    c->p.snd_nxt += (uint32_t)len + ((flags & TB_TCP_SYN) ? 1u : 0u) + ((flags & TB_TCP_FIN) ? 1u : 0u);
}

static void c_ack(struct tconn *c) { c_send(c, TB_TCP_ACK, NULL, 0); }

/* len bytes of the peer's pattern at seq (snd_nxt unchanged). */
static void c_send_data_at(struct tconn *c, uint32_t seq, size_t len) {
    c_send_full(c, TB_TCP_ACK, seq, c->p.rcv_nxt, NULL, len);
}

static void c_send_data(struct tconn *c, size_t len) {
    c_send_data_at(c, c->p.snd_nxt, len);
    c->p.snd_nxt += (uint32_t)len;
}

/* The stack's next segment on this connection; the peer learns from it. */
static void c_expect(struct tconn *c, struct seg *s) {
    expect_seg(c->st, s);
    assert_int_equal(s->th.src_port, c->p.stack_port);
    assert_int_equal(s->th.dst_port, c->p.port);
    tb_peer_learn(&c->p, &s->th);
}

/* A pure ACK at rcv_nxt acknowledging `ack`; returns its window field. */
static uint16_t c_expect_ack(struct tconn *c, uint32_t ack) {
    struct seg s;
    c_expect(c, &s);
    assert_seg(&s.th, &(struct tb_peer_expect){
                          .check = TB_PEER_CHECK_FLAGS | TB_PEER_CHECK_LEN | TB_PEER_CHECK_SEQ | TB_PEER_CHECK_ACK,
                          .flags = TB_TCP_ACK,
                          .seq = c->p.rcv_nxt,
                          .ack = ack});
    return s.th.window;
}

/* A data segment at rcv_nxt of exactly len bytes (the application's pattern
 * from stream offset rcv_nxt - stack_isn - 1); rcv_nxt advances. */
static void c_expect_data(struct tconn *c, size_t len) {
    struct seg s;
    c_expect(c, &s);
    assert_seg(&s.th, &(struct tb_peer_expect){.check = TB_PEER_CHECK_SEQ | TB_PEER_CHECK_LEN,
                                               .flags_required = TB_TCP_ACK,
                                               .seq = c->p.rcv_nxt,
                                               .payload_len = len});
    assert_pattern(s.th.payload, len, c->p.rcv_nxt - c->p.stack_isn - 1);
    c->p.rcv_nxt += (uint32_t)len;
}

/* The FIN the stack sends after a shutdown or close. */
static void c_expect_fin(struct tconn *c) {
    struct seg s;
    c_expect(c, &s);
    assert_seg(&s.th, &(struct tb_peer_expect){
                          .check = TB_PEER_CHECK_FLAGS | TB_PEER_CHECK_SEQ | TB_PEER_CHECK_ACK | TB_PEER_CHECK_LEN,
                          .flags = TB_TCP_FIN | TB_TCP_ACK,
                          .seq = c->p.rcv_nxt,
                          .ack = c->p.snd_nxt});
}

/* The application writes len bytes of its pattern (from stream offset off). */
static void app_send(struct tconn *c, size_t len, uint32_t off) {
    uint8_t buf[8192];
    assert_true(len <= sizeof(buf));
    tb_peer_fill_pat(buf, len, off);
    assert_int_equal(tb_tcp_send(c->st, c->now, c->h, buf, len), (int64_t)len);
}

/* Reads everything readable; returns the byte count. */
static size_t app_recv_all(struct tconn *c, uint8_t *buf, size_t max) {
    size_t got = 0;
    for (;;) {
        int64_t n = tb_tcp_recv(c->st, c->now, c->h, buf + got, max - got);
        if (n <= 0) break;
        got += (size_t)n;
        if (got == max) break;
    }
    return got;
}

static int state_of(struct tconn *c) { return info_of(c->st, c->h).state; }

/* Takes a SYN-ACK (already drained into *synack) as the answer to the
 * SYN with options o: the peer learns the stack's ISN and TSval. */
static void take_synack(struct tconn *c, const struct tb_tcp_opts *o, struct seg *synack) {
    assert_int_equal(synack->th.src_port, c->p.stack_port);
    assert_int_equal(synack->th.dst_port, c->p.port);
    tb_peer_learn(&c->p, &synack->th);
    assert_int_equal(synack->th.flags, TB_TCP_SYN | TB_TCP_ACK);
    assert_int_equal(synack->th.ack, c->p.isn + 1);
    c->p.snd_nxt = c->p.isn + 1;
    c->p.ts_on = o->has_ts && synack->th.opts.has_ts;
    if (o->has_ts) c->p.ts_val = o->ts_val;
}

/* Sends the peer's SYN from pport with options o; false if nothing answered. */
static bool passive_syn_try(struct tconn *c, uint16_t pport, const struct tb_tcp_opts *o, struct seg *synack) {
    c->p.port = pport;
    c->p.stack_port = US_PORT;
    c_send_seg(c, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = c->p.isn, .window = c->p.window, .opts = *o});
    if (!next_seg(c->st, synack)) return false;
    take_synack(c, o, synack);
    return true;
}

static void passive_syn_opts(struct tconn *c, uint16_t pport, const struct tb_tcp_opts *o, struct seg *synack) {
    if (!passive_syn_try(c, pport, o, synack)) fail_msg("no SYN-ACK for the SYN from port %u", pport);
}

static void passive_syn(struct tconn *c, uint16_t pport, unsigned mask, struct seg *synack) {
    struct tb_tcp_opts o = syn_opts(mask, 1460, 0, c->p.ts_val, 0);
    passive_syn_opts(c, pport, &o, synack);
}

/* SYN, SYN-ACK, ACK; the connection waits in the accept queue. */
static void passive_handshake(struct tconn *c, int32_t lh, uint16_t pport, unsigned mask) {
    struct seg s;
    c->lh = lh;
    passive_syn(c, pport, mask, &s);
    c_ack(c);
    expect_none(c->st);
}

static void passive_open(struct tconn *c, int32_t lh, uint16_t pport, unsigned mask) {
    passive_handshake(c, lh, pport, mask);
    c->h = tb_tcp_accept(c->st, lh);
    assert_true(c->h >= 0);
    expect_event(c->st, TB_EV_TCP_ACCEPTABLE, lh);
    assert_int_equal(state_of(c), TB_TCP_ESTABLISHED);
}

/* A new stack with one ESTABLISHED passive connection from PEER_PORT at T0. */
static struct tb_stack *open_default(struct tconn *c, const struct tb_config *cfg, unsigned mask) {
    struct tb_stack *st = tcp_stack(cfg);
    c_init(c, st, T0);
    passive_open(c, listen80(st), PEER_PORT, mask);
    return st;
}

/* tb_tcp_connect and the SYN it sends: the peer learns the stack's ISN. */
static void active_syn(struct tconn *c, struct seg *syn) {
    c->h = tb_tcp_connect(c->st, c->now, T_IP_PEER, US_PORT);
    assert_true(c->h >= 0);
    expect_seg(c->st, syn);
    assert_int_equal(syn->th.flags, TB_TCP_SYN);
    assert_int_equal(syn->th.dst_port, US_PORT);
    c->p.port = US_PORT;
    c->p.stack_port = syn->th.src_port;
    tb_peer_learn(&c->p, &syn->th);
}

static void active_synack(struct tconn *c, unsigned mask) {
    struct tb_tcp_opts o = syn_opts(mask, 1460, 0, ++c->p.ts_val, c->p.ts_recent);
    c_send_seg(c, &(struct tb_peer_seg){.flags = TB_TCP_SYN | TB_TCP_ACK, .seq = c->p.isn, .ack = c->p.rcv_nxt,
                                        .window = c->p.window, .opts = o});
    c->p.snd_nxt = c->p.isn + 1;
    c->p.ts_on = (mask & O_TS) != 0;
}

static void active_open(struct tconn *c, unsigned mask) {
    struct seg s;
    active_syn(c, &s);
    active_synack(c, mask);
    c_expect_ack(c, c->p.snd_nxt);
    expect_event(c->st, TB_EV_TCP_CONNECTED, c->h);
}

/* ---- reaching the closing states ------------------------------------------ */

static void to_fin_wait_1(struct tconn *c) {
    assert_int_equal(tb_tcp_shutdown(c->st, c->now, c->h), TB_OK);
    c_expect_fin(c);
    assert_int_equal(state_of(c), TB_TCP_FIN_WAIT_1);
}

static void to_fin_wait_2(struct tconn *c) {
    to_fin_wait_1(c);
    c->p.rcv_nxt++;   /* the peer acknowledges the FIN */
    c_ack(c);
    expect_none(c->st);
    assert_int_equal(state_of(c), TB_TCP_FIN_WAIT_2);
}

static void to_close_wait(struct tconn *c) {
    c_send(c, TB_TCP_FIN | TB_TCP_ACK, NULL, 0);
    c_expect_ack(c, c->p.snd_nxt);
    assert_int_equal(state_of(c), TB_TCP_CLOSE_WAIT);
}

static void to_last_ack(struct tconn *c) {
    to_close_wait(c);
    assert_int_equal(tb_tcp_shutdown(c->st, c->now, c->h), TB_OK);
    c_expect_fin(c);
    assert_int_equal(state_of(c), TB_TCP_LAST_ACK);
}

static void to_closing(struct tconn *c) {
    to_fin_wait_1(c);
    c_send(c, TB_TCP_FIN | TB_TCP_ACK, NULL, 0);   /* crosses our FIN: does not acknowledge it */
    c->p.rcv_nxt++;
    c_expect_ack(c, c->p.snd_nxt);
    assert_int_equal(state_of(c), TB_TCP_CLOSING);
}

static void to_time_wait(struct tconn *c) {
    to_fin_wait_2(c);
    c_send(c, TB_TCP_FIN | TB_TCP_ACK, NULL, 0);
    c_expect_ack(c, c->p.snd_nxt);
    assert_int_equal(state_of(c), TB_TCP_TIME_WAIT);
}

/* A RST at exactly RCV.NXT. */
static void c_rst(struct tconn *c) { c_send_full(c, TB_TCP_RST, c->p.snd_nxt, 0, NULL, 0); }

/* ======================================================================== */
/* Handshakes                                                               */
/* ======================================================================== */

/* RFC 7323 §2.2, §3.2 and RFC 2018 §2: a SYN-ACK carries window scale,
 * timestamps (echoing the SYN's TSval) and SACK-permitted because the SYN
 * offered them; RFC 9293 §3.7.1: it carries our MSS. */
static void passive_open_answers_offered_options(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct tb_tcp_opts o = syn_opts(O_ALL, 1460, 7, 5000, 0);
    struct seg s;
    passive_syn_opts(&c, PEER_PORT, &o, &s);
    assert_true(s.th.opts.has_mss);
    assert_int_equal(s.th.opts.mss, 1460);
    assert_true(s.th.opts.has_wscale);
    assert_int_equal(s.th.opts.wscale, 3);   /* 256 KiB of receive buffer >> 3 fits 16 bits */
    assert_true(s.th.opts.sack_permitted);
    assert_true(s.th.opts.has_ts);
    assert_int_equal(s.th.opts.ts_ecr, 5000);
    c_ack(&c);
    expect_none(st);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_true(i.ws_ok);
    assert_true(i.ts_ok);
    assert_true(i.sack_ok);
    assert_int_equal(i.snd_wscale, 7);
    assert_int_equal(i.rcv_wscale, 3);
    /* Later segments carry a timestamp echoing the peer's latest TSval. */
    app_send(&c, 10, 0);
    c_expect(&c, &s);
    assert_true(s.th.opts.has_ts);
    assert_int_equal(s.th.opts.ts_ecr, c.p.ts_val);
    t_stack_done(forget(st));
}

/* RFC 7323 §2.2/§3.2, RFC 2018 §2: options the SYN did not offer are not in
 * the SYN-ACK nor used afterwards; the MSS option always is. */
static void passive_open_without_options_answers_only_mss(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct seg s;
    passive_syn(&c, PEER_PORT, O_MSS, &s);
    assert_true(s.th.opts.has_mss);
    assert_false(s.th.opts.has_wscale);
    assert_false(s.th.opts.sack_permitted);
    assert_false(s.th.opts.has_ts);
    assert_int_equal(s.th.header_len, TB_TCP_HDR_LEN + 4);
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_false(i.ws_ok);
    assert_false(i.ts_ok);
    assert_false(i.sack_ok);
    assert_int_equal(i.rcv_wscale, 0);
    assert_int_equal(i.snd_wscale, 0);
    app_send(&c, 10, 0);
    c_expect(&c, &s);
    assert_int_equal(s.th.header_len, TB_TCP_HDR_LEN);
    assert_int_equal(s.th.window, 65535);   /* unscaled: 256 KiB capped at 65535 */
    t_stack_done(forget(st));
}

/* RFC 7323 §2.2: the window field of a SYN or SYN-ACK is never scaled, in
 * either direction; scaling starts with the first segment after them. */
static void syn_window_is_never_scaled(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rcvbuf_bytes = 100000;   /* our shift is 1: scaled, the window would read 50000 */
    struct tb_stack *st = tcp_stack(&cfg);
    /* Passive: our SYN-ACK says 65535; the peer's SYN window is taken as is. */
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    c.p.window = 1000;
    struct tb_tcp_opts o = syn_opts(O_MSS | O_WS, 1460, 3, 0, 0);
    struct seg s;
    passive_syn_opts(&c, PEER_PORT, &o, &s);
    assert_int_equal(s.th.opts.wscale, 1);
    assert_int_equal(s.th.window, 65535);
    c_ack(&c);   /* window 1000 << 3 */
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    assert_int_equal(info_of(st, c.h).snd_wnd_bytes, 8000);
    /* Active: the SYN says 65535; the SYN-ACK's 1000 is not shifted. */
    struct tconn a;
    c_init(&a, st, T0);
    a.p.window = 1000;
    active_syn(&a, &s);
    assert_int_equal(s.th.window, 65535);
    assert_true(s.th.opts.has_wscale);
    assert_int_equal(s.th.opts.wscale, 1);
    struct tb_tcp_opts so = syn_opts(O_MSS | O_WS, 1460, 3, 0, 0);
    c_send_seg(&a,
               &(struct tb_peer_seg){
                   .flags = TB_TCP_SYN | TB_TCP_ACK, .seq = a.p.isn, .ack = a.p.rcv_nxt, .window = 1000, .opts = so});
    a.p.snd_nxt = a.p.isn + 1;
    c_expect_ack(&a, a.p.snd_nxt);
    assert_int_equal(info_of(st, a.h).snd_wnd_bytes, 1000);
    c_ack(&a);
    assert_int_equal(info_of(st, a.h).snd_wnd_bytes, 8000);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.7.1 and RFC 6691: the send MSS is min(peer's MSS, our MTU's)
 * less the 12 bytes of the timestamp option every segment carries. */
static void effective_mss_is_smaller_mss_less_timestamps(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    struct { unsigned mask; uint16_t peer_mss; uint16_t want; } cases[] = {
        {O_MSS | O_TS, 1000, 988}, {O_MSS, 1000, 1000}, {O_MSS, 9000, 1460}, {O_MSS | O_TS, 9000, 1448},
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(cases); k++) {
        struct tconn c;
        c_init(&c, st, T0);
        c.lh = lh;
        struct tb_tcp_opts o = syn_opts(cases[k].mask, cases[k].peer_mss, 0, 1000, 0);
        struct seg s;
        passive_syn_opts(&c, (uint16_t)(PEER_PORT + k), &o, &s);
        c_ack(&c);
        c.h = tb_tcp_accept(st, lh);
        assert_true(c.h >= 0);
        if (info_of(st, c.h).mss_bytes != cases[k].want)
            fail_msg("case %zu: mss %u, want %u", k, info_of(st, c.h).mss_bytes, cases[k].want);
        app_send(&c, 3000, 0);
        c_expect_data(&c, cases[k].want);
        drain_all(st);
    }
    t_stack_done(forget(st));
}

/* RFC 9293 §3.7.1: without an MSS option the peer's MSS is 536. */
static void missing_mss_option_means_536(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, 0);
    assert_int_equal(info_of(st, c.h).mss_bytes, 536);
    app_send(&c, 1000, 0);
    c_expect_data(&c, 536);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.5, §3.10.7.3; RFC 7323 §2.2/§3.2; RFC 2018 §2: an active open
 * sends a SYN offering MSS, window scale, SACK and timestamps, and the
 * SYN-ACK makes it ESTABLISHED, acknowledged by an ACK. */
static void active_open_sends_options_and_connects(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    assert_true(c.p.stack_port >= 49152);   /* RFC 6056: the dynamic range */
    assert_true(s.th.opts.has_mss);
    assert_int_equal(s.th.opts.mss, 1460);
    assert_true(s.th.opts.has_wscale);
    assert_int_equal(s.th.opts.wscale, 3);
    assert_true(s.th.opts.sack_permitted);
    assert_true(s.th.opts.has_ts);
    assert_int_equal(s.th.opts.ts_ecr, 0);
    assert_int_equal(state_of(&c), TB_TCP_SYN_SENT);
    expect_no_event(st, TB_EV_TCP_CONNECTED);
    active_synack(&c, O_ALL);
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_ACK);
    assert_int_equal(s.th.seq, c.p.stack_isn + 1);
    assert_int_equal(s.th.ack, c.p.isn + 1);
    assert_true(s.th.opts.has_ts);
    assert_int_equal(s.th.opts.ts_ecr, c.p.ts_val);
    expect_event(st, TB_EV_TCP_CONNECTED, c.h);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_ESTABLISHED);
    assert_true(i.ts_ok && i.sack_ok && i.ws_ok);
    assert_int_equal(i.snd_una, c.p.stack_isn + 1);
    assert_int_equal(i.rcv_nxt, c.p.isn + 1);
    assert_int_equal(i.irs, c.p.isn);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.5 (figure 8) and §3.10.7.3: a SYN answering our SYN moves to
 * SYN-RECEIVED and is answered with SYN-ACK from our ISS; the ACK of it
 * completes the open. */
static void simultaneous_open_passes_syn_received(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = c.p.isn, .window = 65535, .opts = o});
    c.p.snd_nxt = c.p.isn + 1;
    assert_int_equal(state_of(&c), TB_TCP_SYN_RECEIVED);
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_SYN | TB_TCP_ACK);
    assert_int_equal(s.th.seq, c.p.stack_isn);
    assert_int_equal(s.th.ack, c.p.isn + 1);
    expect_no_event(st, TB_EV_TCP_CONNECTED);
    c_ack(&c);
    expect_none(st);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    expect_event(st, TB_EV_TCP_CONNECTED, c.h);
    c_send_data(&c, 5);
    uint8_t buf[16];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 5);
    assert_pattern(buf, 5, c.p.isn + 1);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.3: in SYN-SENT an ACK outside (ISS, SND.NXT] is answered
 * with <SEQ=SEG.ACK><CTL=RST> unless it is itself a RST, and the
 * connection stays in SYN-SENT. */
static void syn_sent_bad_ack_gets_rst(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    c_send_seg(
        &c, &(struct tb_peer_seg){.flags = TB_TCP_ACK, .seq = c.p.isn, .ack = c.p.stack_isn + 1000, .window = 65535});
    expect_rst(st, c.p.stack_port, c.p.port, c.p.stack_isn + 1000, false, 0);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    c_send_seg(&c,
               &(struct tb_peer_seg){
                   .flags = TB_TCP_SYN | TB_TCP_ACK, .seq = c.p.isn, .ack = c.p.stack_isn, .window = 65535, .opts = o});
    expect_rst(st, c.p.stack_port, c.p.port, c.p.stack_isn, false, 0);   /* SEG.ACK =< ISS */
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_RST | TB_TCP_ACK, .seq = 0, .ack = c.p.stack_isn + 5000});
    expect_none(st);
    assert_int_equal(t_drops(st, TB_DROP_tcp_syn_sent_bad_ack), 3);
    assert_int_equal(state_of(&c), TB_TCP_SYN_SENT);
    expect_no_event(st, TB_EV_NONE);
    active_synack(&c, O_MSS);
    c_expect_ack(&c, c.p.snd_nxt);
    expect_event(st, TB_EV_TCP_CONNECTED, c.h);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.3: a RST with an acceptable ACK in SYN-SENT means
 * "connection refused". */
static void syn_sent_rst_with_acceptable_ack_refuses(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_RST | TB_TCP_ACK, .seq = 0, .ack = c.p.stack_isn + 1});
    expect_none(st);
    struct tb_event ev = expect_event(st, TB_EV_TCP_ERROR, c.h);
    assert_int_equal(ev.error, TB_ERR_REFUSED);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.error, TB_ERR_REFUSED);
    uint8_t buf[4];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_REFUSED);
    assert_int_equal(tb_tcp_send(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_REFUSED);
    assert_int_equal(tb_tcp_close(st, c.now, c.h), TB_OK);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.3: in SYN-SENT a RST without ACK is dropped. */
static void syn_sent_rst_without_ack_is_ignored(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_RST, .seq = c.p.isn});
    expect_none(st);
    expect_no_event(st, TB_EV_NONE);
    assert_int_equal(state_of(&c), TB_TCP_SYN_SENT);
    active_synack(&c, O_MSS);
    c_expect_ack(&c, c.p.snd_nxt);
    expect_event(st, TB_EV_TCP_CONNECTED, c.h);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* CLOSED and LISTEN                                                        */
/* ======================================================================== */

/* RFC 9293 §3.10.7.1: in CLOSED, a segment without ACK gets
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, one with ACK gets
 * <SEQ=SEG.ACK><CTL=RST>, and a RST is never answered. */
static void closed_port_answers_with_rst(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    uint8_t data[10] = {0};
    peer_feed_ports(
        st, T0, PEER_PORT, 81,
        &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = 1000, .window = 65535, .payload = data, .payload_len = 10});
    expect_rst(st, 81, PEER_PORT, 0, true, 1000 + 1 + 10);
    peer_feed_ports(
        st, T0, PEER_PORT, 81,
        &(struct tb_peer_seg){
            .flags = TB_TCP_ACK, .seq = 5000, .ack = 777777, .window = 65535, .payload = data, .payload_len = 10});
    expect_rst(st, 81, PEER_PORT, 777777, false, 0);
    peer_feed_ports(
        st, T0, PEER_PORT, 81,
        &(struct tb_peer_seg){.flags = TB_TCP_FIN, .seq = 2000, .window = 65535, .payload = data, .payload_len = 5});
    expect_rst(st, 81, PEER_PORT, 0, true, 2000 + 5 + 1);
    peer_feed_ports(st, T0, PEER_PORT, 81, &(struct tb_peer_seg){.flags = TB_TCP_RST, .seq = 3000});
    expect_none(st);
    peer_feed_ports(st, T0, PEER_PORT, 81,
                    &(struct tb_peer_seg){.flags = TB_TCP_RST | TB_TCP_ACK, .seq = 3000, .ack = 4000});
    expect_none(st);
    assert_int_equal(t_drops(st, TB_DROP_tcp_no_conn), 5);
    assert_int_equal(stats_of(st).tcp_rsts_sent, 3);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.2: in LISTEN a RST is ignored and an ACK is answered with
 * <SEQ=SEG.ACK><CTL=RST>; the listener keeps listening. */
static void listen_answers_ack_with_rst_and_ignores_rst(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_syncookies = false;   /* plain LISTEN: no cookie to check */
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    peer_feed_ports(st, T0, PEER_PORT, US_PORT,
                    &(struct tb_peer_seg){.flags = TB_TCP_ACK, .seq = 1000, .ack = 424242, .window = 65535});
    expect_rst(st, US_PORT, PEER_PORT, 424242, false, 0);
    peer_feed_ports(st, T0, PEER_PORT, US_PORT, &(struct tb_peer_seg){.flags = TB_TCP_RST, .seq = 1000});
    expect_none(st);
    peer_feed_ports(st, T0, PEER_PORT, US_PORT,
                    &(struct tb_peer_seg){.flags = TB_TCP_RST | TB_TCP_ACK, .seq = 1000, .ack = 424242});
    expect_none(st);
    assert_true(t_drops(st, TB_DROP_tcp_listen_bad_flags) >= 3);
    assert_int_equal(tb_tcp_accept(st, lh), TB_ERR_AGAIN);
    struct tconn c;
    c_init(&c, st, T0);
    passive_open(&c, lh, PEER_PORT, O_MSS);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Sequence number acceptability (RFC 9293 §3.10.7.4 first check)           */
/* ======================================================================== */

/* RFC 9293 §3.10.7.4, first check: a segment outside the receive window is
 * answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped. */
static void unacceptable_segment_is_acked_and_dropped(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);   /* window 65535 */
    c_send_data_at(&c, c.p.snd_nxt + 70000, 100);   /* beyond the window */
    c_expect_ack(&c, c.p.snd_nxt);
    c_send_data_at(&c, c.p.snd_nxt - 1000, 100);    /* wholly old */
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(t_drops(st, TB_DROP_tcp_not_acceptable), 2);
    uint8_t buf[256];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_AGAIN);
    assert_int_equal(info_of(st, c.h).rcv_nxt, c.p.snd_nxt);
    c_send_data(&c, 10);
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 10);
    assert_pattern(buf, 10, c.p.isn + 1);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4, first check (the four-case table): with RCV.WND = 0
 * only SEG.SEQ = RCV.NXT is acceptable and no data is kept; everything
 * else is answered with an ACK and dropped. */
static void zero_window_accepts_only_rcv_nxt_and_keeps_no_data(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rcvbuf_bytes = 2048;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_data(&c, 1024);
    c_send_data(&c, 1024);
    assert_int_equal(c_expect_ack(&c, c.p.snd_nxt), 0);   /* the window is full */
    uint32_t rcv_nxt = c.p.snd_nxt;
    /* Data at RCV.NXT: acceptable for its ACK, its bytes are not kept. */
    c_send_data_at(&c, c.p.snd_nxt, 10);
    assert_int_equal(c_expect_ack(&c, rcv_nxt), 0);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.rcv_nxt, rcv_nxt);
    assert_int_equal(i.rcvbuf_used_bytes, 2048);
    /* Data beyond RCV.NXT: not acceptable. */
    c_send_data_at(&c, c.p.snd_nxt + 1, 10);
    c_expect_ack(&c, rcv_nxt);
    assert_int_equal(t_drops(st, TB_DROP_tcp_not_acceptable), 1);
    /* A bare ACK at RCV.NXT is acceptable and needs no answer; one past it is not. */
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt, NULL, 0);
    expect_none(st);
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt + 1, c.p.rcv_nxt, NULL, 0);
    c_expect_ack(&c, rcv_nxt);
    assert_int_equal(t_drops(st, TB_DROP_tcp_not_acceptable), 2);
    /* What the application reads is the original 2048 bytes only. */
    uint8_t buf[4096];
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 2048);
    assert_pattern(buf, 2048, c.p.isn + 1);
    assert_int_equal(c_expect_ack(&c, rcv_nxt), 2048);   /* the window reopens */
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* RFC 5961                                                                  */
/* ======================================================================== */

/* RFC 5961 §3.2 / RFC 9293 §3.10.7.4 second check: a RST whose sequence
 * number is exactly RCV.NXT resets the connection. */
static void rst_at_rcv_nxt_resets_connection(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_rst(&c);
    expect_none(st);
    struct tb_event ev = expect_event(st, TB_EV_TCP_ERROR, c.h);
    assert_int_equal(ev.error, TB_ERR_RESET);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.error, TB_ERR_RESET);
    uint8_t buf[4];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_RESET);
    assert_int_equal(stats_of(st).tcp_conns_reset, 1);
    assert_int_equal(tb_tcp_close(st, c.now, c.h), TB_OK);
    /* The same for an actively opened connection. */
    struct tconn a;
    c_init(&a, st, c.now);
    active_open(&a, O_MSS);
    c_rst(&a);
    expect_none(st);
    assert_int_equal(expect_event(st, TB_EV_TCP_ERROR, a.h).error, TB_ERR_RESET);
    assert_int_equal(state_of(&a), TB_TCP_CLOSED);
    t_stack_done(forget(st));
}

/* RFC 5961 §3.2: a RST inside the window but not at RCV.NXT is answered with
 * a challenge ACK and does not reset. */
static void rst_in_window_gets_challenge_ack(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_full(&c, TB_TCP_RST, c.p.snd_nxt + 100, 0, NULL, 0);
    c_expect_ack(&c, c.p.snd_nxt);
    expect_no_event(st, TB_EV_TCP_ERROR);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_ESTABLISHED);
    assert_int_equal(i.challenge_acks, 1);
    assert_int_equal(stats_of(st).tcp_challenge_acks, 1);
    /* The peer's answer to the challenge, a RST at RCV.NXT, resets. */
    c_rst(&c);
    assert_int_equal(expect_event(st, TB_EV_TCP_ERROR, c.h).error, TB_ERR_RESET);
    t_stack_done(forget(st));
}

/* RFC 5961 §3.2 / RFC 9293 §3.10.7.4: a RST outside the window is dropped
 * silently. */
static void rst_outside_window_is_ignored(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_full(&c, TB_TCP_RST, c.p.snd_nxt + 100000, 0, NULL, 0);
    expect_none(st);
    c_send_full(&c, TB_TCP_RST, c.p.snd_nxt - 1, 0, NULL, 0);
    expect_none(st);
    assert_int_equal(t_drops(st, TB_DROP_tcp_rst_out_of_window), 2);
    expect_no_event(st, TB_EV_NONE);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

/* RFC 5961 §4.2 / RFC 9293 §3.10.7.4 fourth check: a SYN in a synchronized
 * state, whatever its sequence number, gets a challenge ACK and no reset. */
static void syn_in_established_gets_challenge_ack(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = c.p.snd_nxt + 10, .window = 65535, .opts = o});
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(t_drops(st, TB_DROP_tcp_syn_in_window), 1);
    c.now += SEC;   /* past the per-connection limit on challenge ACKs */
    c_send_seg(&c,
               &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = c.p.isn, .window = 65535, .opts = o}); /* old ISN */
    c_expect_ack(&c, c.p.snd_nxt);
    expect_no_event(st, TB_EV_NONE);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 fifth check / RFC 5961 §5.2: an ACK of something not
 * yet sent is answered with an ACK and the segment (data too) is dropped. */
static void ack_of_unsent_data_is_acked_and_dropped(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    app_send(&c, 100, 0);
    uint32_t una = c.p.rcv_nxt;
    c_expect_data(&c, 100);
    uint8_t data[10];
    tb_peer_fill_pat(data, 10, c.p.snd_nxt);
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt + 1000, data, 10);
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(t_drops(st, TB_DROP_tcp_bad_ack), 1);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.snd_una, una);
    assert_int_equal(i.rcv_nxt, c.p.snd_nxt);
    uint8_t buf[16];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_AGAIN);
    t_stack_done(forget(st));
}

/* RFC 5961 §5.2: an ACK below SND.UNA - MAX.SND.WND is discarded and
 * answered with a (challenge) ACK; its data is not delivered. */
static void ack_too_old_gets_challenge_ack(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);   /* MAX.SND.WND = 65535 */
    uint8_t data[10];
    tb_peer_fill_pat(data, 10, c.p.snd_nxt);
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt - 70000, data, 10);
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(t_drops(st, TB_DROP_tcp_bad_ack), 1);
    assert_int_equal(stats_of(st).tcp_challenge_acks, 1);
    uint8_t buf[16];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_AGAIN);
    t_stack_done(forget(st));
}

/* RFC 5961 §7: challenge ACKs are limited per second (here 2): the third in
 * one second is suppressed and counted; a second later they flow again. */
static void challenge_acks_are_rate_limited(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    /* Per connection: one per tcp_oow_ack_interval_ns (500 ms). */
    c.now = 2 * SEC;
    c_send_full(&c, TB_TCP_RST, c.p.snd_nxt + 100, 0, NULL, 0);
    c_expect_ack(&c, c.p.snd_nxt);
    c.now += 499 * MS;
    c_send_full(&c, TB_TCP_RST, c.p.snd_nxt + 200, 0, NULL, 0);
    expect_none(st);
    assert_int_equal(stats_of(st).tcp_challenge_acks_suppressed, 1);
    c.now += 1 * MS;
    c_send_full(&c, TB_TCP_RST, c.p.snd_nxt + 300, 0, NULL, 0);
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(stats_of(st).tcp_challenge_acks, 2);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

/* RFC 5961 §10 and CVE-2016-5696: the stack-wide budget per second is
 * drawn at random (limit/2+1 .. limit/2+limit), so an off-path attacker
 * cannot learn from its exhaustion how many spoofed RSTs hit a window. */
static void challenge_ack_budget_is_randomised(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_challenge_acks_per_s = 10;
    cfg.tcp_oow_ack_interval_ns = 0;   /* only the stack-wide limit */
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    size_t per_second[12];
    bool varied = false;
    for (size_t w = 0; w < TB_ARRAY_LEN(per_second); w++) {
        c.now = (tb_time_ns)(10 + 2 * w) * SEC;
        for (uint32_t k = 0; k < 40; k++) c_send_full(&c, TB_TCP_RST, c.p.snd_nxt + 100 + k, 0, NULL, 0);
        per_second[w] = drain_all(st);
        assert_true(per_second[w] >= 10 / 2 + 1 && per_second[w] <= 10 / 2 + 10);
        if (w > 0 && per_second[w] != per_second[0]) varied = true;
    }
    assert_true(varied);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* RST in each state (RFC 9293 §3.10.7.4 second check)                      */
/* ======================================================================== */

/* RFC 9293 §3.10.7.4 second check, SYN-RECEIVED from a passive OPEN: a RST
 * returns to LISTEN; the half-open connection goes (with its place in the
 * SYN queue), the listener stays and answers the next SYN. */
static void rst_in_syn_received_returns_to_listen(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_syn_queue_len = 1;    /* the reset child's place must come back */
    cfg.tcp_syncookies = false;
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    struct tconn a;
    c_init(&a, st, T0);
    a.lh = lh;
    struct seg s;
    passive_syn(&a, PEER_PORT, O_MSS, &s);
    c_rst(&a);
    expect_none(st);
    expect_no_event(st, TB_EV_NONE);
    assert_int_equal(tb_tcp_accept(st, lh), TB_ERR_AGAIN);
    assert_int_equal(stats_of(st).tcp_rsts_rcvd, 1);
    /* The listener still accepts, the same 4-tuple included. */
    struct tconn b;
    c_init(&b, st, T0 + MS);
    b.lh = lh;
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    if (!passive_syn_try(&b, PEER_PORT + 1, &o, &s))
        fail_msg("LISTEN no longer answers a SYN after a RST freed its SYN-RECEIVED child "
                 "(SYN queue of 1; dropped as %s: %llu)", tb_drop_reason_name(TB_DROP_tcp_syn_queue_full),
                 (unsigned long long)t_drops(st, TB_DROP_tcp_syn_queue_full));
    c_ack(&b);
    expect_none(st);
    b.h = tb_tcp_accept(st, lh);
    assert_true(b.h >= 0);
    struct tconn a2;
    c_init(&a2, st, T0 + 2 * MS);
    passive_open(&a2, lh, PEER_PORT, O_MSS);
    assert_int_equal(tb_tcp_accept(st, lh), TB_ERR_AGAIN);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 second check, SYN-RECEIVED from an active OPEN
 * (simultaneous open): a RST means "connection refused". */
static void rst_in_syn_received_refuses_active_open(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = c.p.isn, .window = 65535, .opts = o});
    c.p.snd_nxt = c.p.isn + 1;
    c_expect(&c, &s);
    assert_int_equal(state_of(&c), TB_TCP_SYN_RECEIVED);
    c_rst(&c);
    expect_none(st);
    assert_int_equal(expect_event(st, TB_EV_TCP_ERROR, c.h).error, TB_ERR_REFUSED);
    assert_int_equal(state_of(&c), TB_TCP_CLOSED);
    t_stack_done(forget(st));
}

/* Checks a RST at RCV.NXT ended a synchronized connection with "reset". */
static void expect_reset_by_rst(struct tconn *c) {
    c_rst(c);
    expect_none(c->st);
    assert_int_equal(expect_event(c->st, TB_EV_TCP_ERROR, c->h).error, TB_ERR_RESET);
    struct tb_tcp_info i = info_of(c->st, c->h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.error, TB_ERR_RESET);
}

/* RFC 9293 §3.10.7.4 second check: in FIN-WAIT-1 a RST resets ("reset" to
 * the user, CLOSED). */
static void rst_in_fin_wait_1_resets(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_fin_wait_1(&c);
    expect_reset_by_rst(&c);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 second check: in FIN-WAIT-2 a RST resets. */
static void rst_in_fin_wait_2_resets(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_fin_wait_2(&c);
    expect_reset_by_rst(&c);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 second check: in CLOSE-WAIT a RST resets. */
static void rst_in_close_wait_resets(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_close_wait(&c);
    expect_event(st, TB_EV_TCP_READABLE, c.h);
    expect_reset_by_rst(&c);
    t_stack_done(forget(st));
}

/* Checks a RST at RCV.NXT simply closed a connection whose both FINs were
 * sent: CLOSED, no error. */
static void expect_closed_by_rst(struct tconn *c, bool closed_event_expected) {
    c_rst(c);
    expect_none(c->st);
    struct evs e;
    evs_take(c->st, &e);
    assert_null(evs_find(&e, TB_EV_TCP_ERROR, -1));
    if (closed_event_expected) assert_non_null(evs_find(&e, TB_EV_TCP_CLOSED, c->h));
    else assert_null(evs_find(&e, TB_EV_TCP_CLOSED, -1));
    struct tb_tcp_info i = info_of(c->st, c->h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.error, 0);
}

/* RFC 9293 §3.10.7.4 second check: in CLOSING a RST closes the connection. */
static void rst_in_closing_closes(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_closing(&c);
    expect_no_event(st, TB_EV_TCP_CLOSED);
    expect_closed_by_rst(&c, true);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 second check: in LAST-ACK a RST closes the connection. */
static void rst_in_last_ack_closes(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_last_ack(&c);
    expect_no_event(st, TB_EV_TCP_CLOSED);
    expect_closed_by_rst(&c, true);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 second check: in TIME-WAIT a RST closes the connection
 * (CLOSED was already reported on entering TIME-WAIT). */
static void rst_in_time_wait_closes(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_time_wait(&c);
    expect_event(st, TB_EV_TCP_CLOSED, c.h);
    expect_closed_by_rst(&c, false);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Closing                                                                  */
/* ======================================================================== */

/* A full connection table gives up its oldest TIME-WAIT connection whose
 * handle the application has released, so a new SYN is answered; one the
 * application still holds is never taken, nor is a live connection. */
static void full_table_evicts_the_oldest_released_time_wait(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_max_conns = 3;
    cfg.tcp_syncookies = false;
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    struct tconn a, b, live, d, e, f;
    struct evs ev;
    c_init(&a, st, T0);
    passive_open(&a, lh, 40001, O_MSS);
    to_time_wait(&a);
    c_init(&b, st, T0 + SEC);
    passive_open(&b, lh, 40002, O_MSS);
    to_time_wait(&b);
    c_init(&live, st, T0 + 2 * SEC);
    passive_open(&live, lh, 40003, O_MSS);
    evs_take(st, &ev);
    assert_int_equal(tb_tcp_close(st, live.now, a.h), TB_OK);   /* a is released; b is still held */
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_int_equal(s.tcp_time_wait_evicted, 0);
    /* Full: the next SYN takes a's slot (the only released TIME-WAIT). */
    struct seg synack;
    c_init(&d, st, T0 + 3 * SEC);
    passive_syn(&d, 40004, O_MSS, &synack);
    tb_stack_stats(st, &s);
    assert_int_equal(s.tcp_time_wait_evicted, 1);
    struct tb_tcp_info gone;
    assert_int_equal(tb_tcp_info(st, a.h, &gone), TB_ERR_BADCONN);
    assert_int_equal(state_of(&b), TB_TCP_TIME_WAIT);
    assert_int_equal(state_of(&live), TB_TCP_ESTABLISHED);
    /* Full again, and b is held: no slot, no SYN-ACK, nothing evicted. */
    c_init(&e, st, T0 + 4 * SEC);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    assert_false(passive_syn_try(&e, 40005, &o, &synack));
    tb_stack_stats(st, &s);
    assert_int_equal(s.tcp_time_wait_evicted, 1);
    assert_int_equal(state_of(&b), TB_TCP_TIME_WAIT);
    /* Released, b goes next. */
    assert_int_equal(tb_tcp_close(st, e.now, b.h), TB_OK);
    c_init(&f, st, T0 + 5 * SEC);
    passive_syn(&f, 40006, O_MSS, &synack);
    tb_stack_stats(st, &s);
    assert_int_equal(s.tcp_time_wait_evicted, 2);
    assert_int_equal(state_of(&live), TB_TCP_ESTABLISHED);
    const char *why = NULL;
    assert_true(tb_stack_check(st, &why));
}

/* RFC 9293 §3.6 (figure 12) and §3.10.7.4: ESTABLISHED -> FIN-WAIT-1 ->
 * FIN-WAIT-2 -> TIME-WAIT, and CLOSED after 2 MSL. */
static void active_close_passes_fin_wait_and_time_wait(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_msl_ns = 5 * SEC;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_fin_wait_2(&c);
    c.now += 100 * MS;
    c_send(&c, TB_TCP_FIN | TB_TCP_ACK, NULL, 0);
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(state_of(&c), TB_TCP_TIME_WAIT);
    struct evs e;
    evs_take(st, &e);
    assert_non_null(evs_find(&e, TB_EV_TCP_CLOSED, c.h));
    assert_non_null(evs_find(&e, TB_EV_TCP_READABLE, c.h));
    uint8_t buf[8];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 0);   /* end of stream */
    tb_time_ns end = c.now + 2 * cfg.tcp_msl_ns;
    assert_int_equal(tb_stack_next_deadline(st), end);
    tb_stack_tick(st, end - 1);
    assert_int_equal(state_of(&c), TB_TCP_TIME_WAIT);
    tb_stack_tick(st, end);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.error, 0);
    expect_none(st);
    expect_no_event(st, TB_EV_NONE);
    assert_int_equal(tb_tcp_close(st, end, c.h), TB_OK);
    assert_int_equal(tb_tcp_info(st, c.h, &i), TB_ERR_BADCONN);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.6 (figure 12): the peer closes first: ESTABLISHED ->
 * CLOSE-WAIT -> LAST-ACK -> CLOSED. */
static void passive_close_passes_close_wait_and_last_ack(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_close_wait(&c);
    expect_event(st, TB_EV_TCP_READABLE, c.h);
    uint8_t buf[8];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 0);
    /* The write side is still open in CLOSE-WAIT. */
    app_send(&c, 20, 0);
    c_expect_data(&c, 20);
    assert_int_equal(tb_tcp_shutdown(st, c.now, c.h), TB_OK);
    c_expect_fin(&c);
    assert_int_equal(state_of(&c), TB_TCP_LAST_ACK);
    c.p.rcv_nxt++;
    c_ack(&c);
    expect_none(st);
    expect_event(st, TB_EV_TCP_CLOSED, c.h);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.error, 0);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.6 (figure 13): FINs that cross go FIN-WAIT-1 -> CLOSING ->
 * TIME-WAIT. */
static void simultaneous_close_passes_closing(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_closing(&c);
    c_ack(&c);   /* now acknowledges our FIN */
    expect_none(st);
    assert_int_equal(state_of(&c), TB_TCP_TIME_WAIT);
    expect_event(st, TB_EV_TCP_CLOSED, c.h);
    assert_int_equal(tb_stack_next_deadline(st), c.now + 2 * cfg.tcp_msl_ns);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.6 / §3.10.4: after CLOSE (shutdown) the connection still
 * receives in FIN-WAIT-1 and FIN-WAIT-2 (a half-close); sending is refused. */
static void half_closed_connection_still_receives(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_fin_wait_1(&c);
    uint32_t start = c.p.snd_nxt;
    c_send_data(&c, 100);   /* in FIN-WAIT-1, not acknowledging our FIN */
    assert_int_equal(state_of(&c), TB_TCP_FIN_WAIT_1);
    c.p.rcv_nxt++;
    c_send_data(&c, 100);   /* acknowledges our FIN */
    assert_int_equal(state_of(&c), TB_TCP_FIN_WAIT_2);
    c_expect_ack(&c, c.p.snd_nxt);   /* the second segment: an ACK at once */
    uint8_t buf[512];
    assert_int_equal(tb_tcp_send(st, c.now, c.h, buf, 10), TB_ERR_CLOSED);
    c_send(&c, TB_TCP_FIN | TB_TCP_ACK, NULL, 0);
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(state_of(&c), TB_TCP_TIME_WAIT);
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 200);
    assert_pattern(buf, 200, start);
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 0);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.6 / RFC 1122 §4.2.2.13: a CLOSE while received data is unread
 * sends a RST to show the data was lost. */
static void close_with_unread_data_sends_rst(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_data(&c, 100);
    expect_none(st);   /* the ACK is delayed */
    assert_int_equal(tb_tcp_close(st, c.now, c.h), TB_OK);
    struct seg s;
    c_expect(&c, &s);
    assert_true(s.th.flags & TB_TCP_RST);
    assert_false(s.th.flags & TB_TCP_FIN);
    assert_int_equal(s.th.seq, c.p.rcv_nxt);
    expect_none(st);
    /* The connection is gone: the peer's next segment meets CLOSED. */
    c_send_data(&c, 10);
    expect_rst(st, c.p.stack_port, c.p.port, c.p.rcv_nxt, false, 0);
    struct tb_tcp_info i;
    assert_int_equal(tb_tcp_info(st, c.h, &i), TB_ERR_BADCONN);
    t_stack_done(forget(st));
}

/* RFC 7323 §3.2: once timestamps are negotiated, TSopt "SHOULD be sent in
 * an <RST> segment" too: the RST of a close with unread data carries
 * TSval and TSecr = TS.Recent. */
static void rst_on_timestamp_connection_carries_ts(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_TS);
    assert_true(c.p.ts_on);
    c.p.ts_val = 4999;
    c_send_data(&c, 100);   /* TSval 5000, the ACK delayed */
    expect_none(st);
    assert_int_equal(tb_tcp_close(st, c.now, c.h), TB_OK);
    struct seg s;
    c_expect(&c, &s);
    assert_true(s.th.flags & TB_TCP_RST);
    assert_int_equal(s.th.seq, c.p.rcv_nxt);
    assert_true(s.th.opts.has_ts);
    assert_int_equal(s.th.opts.ts_ecr, 5000);
    expect_none(st);
    t_stack_done(forget(st));
}

/* RFC 1122 §4.2.2.13: "if new data is received after CLOSE is called, its
 * TCP SHOULD send a RST to show that data was lost". */
static void data_after_close_is_answered_with_rst(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    assert_int_equal(tb_tcp_close(st, c.now, c.h), TB_OK);
    c_expect_fin(&c);
    c.p.rcv_nxt++;
    c_send_data(&c, 100);   /* acknowledges the FIN and brings data nobody will read */
    struct seg s;
    if (!next_seg(st, &s)) fail_msg("no RST for data arriving after close (nothing sent)");
    if (!(s.th.flags & TB_TCP_RST))
        fail_msg("no RST for data arriving after close: got flags %#x seq %u ack %u", s.th.flags, s.th.seq, s.th.ack);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 eighth check, TIME-WAIT: a retransmitted FIN is
 * acknowledged and the 2 MSL timeout restarted. */
static void time_wait_reacks_fin_and_restarts_2msl(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_msl_ns = 5 * SEC;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    to_time_wait(&c);
    tb_time_ns first_end = c.now + 10 * SEC;
    assert_int_equal(tb_stack_next_deadline(st), first_end);
    c.now += 4 * SEC;
    c_send_full(&c, TB_TCP_FIN | TB_TCP_ACK, c.p.snd_nxt - 1, c.p.rcv_nxt, NULL, 0);   /* the same FIN again */
    c_expect_ack(&c, c.p.snd_nxt);
    tb_time_ns end = tb_stack_next_deadline(st);
    if (end != c.now + 10 * SEC)
        fail_msg("the retransmitted FIN was ACKed but 2 MSL was not restarted: TIME-WAIT ends %lld ms from now, "
                 "not 10000 ms", (long long)((end - c.now) / MS));
    tb_stack_tick(st, first_end);
    assert_int_equal(state_of(&c), TB_TCP_TIME_WAIT);
    tb_stack_tick(st, c.now + 10 * SEC);
    assert_int_equal(state_of(&c), TB_TCP_CLOSED);
    t_stack_done(forget(st));
}

/* RFC 6191 §2 (RFC 9293 §3.6.1 SHLD-4, §3.10.7.4 fourth check): in
 * TIME-WAIT after a connection with timestamps, a SYN whose TSval equals
 * the last one seen reopens the connection when its sequence number lies
 * beyond the old connection's ("honor the connection request"). */
static void time_wait_reopens_on_equal_tsval_and_higher_seq(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_TS);
    to_time_wait(&c);
    uint32_t last_tsval = c.p.ts_val;   /* the FIN's, now the stack's TS.Recent */
    c.now += SEC;
    struct tb_tcp_opts o = syn_opts(O_MSS | O_TS, 1460, 0, last_tsval, 0);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = c.p.snd_nxt + 1000, .window = 65535, .opts = o});
    struct seg s;
    if (!next_seg(st, &s)) fail_msg("nothing answered the SYN");
    if (s.th.flags != (TB_TCP_SYN | TB_TCP_ACK))
        fail_msg("a SYN with TSval = TS.Recent and a sequence number beyond the old connection's got flags %#x "
                 "(ack %u), not a SYN-ACK",
                 s.th.flags, s.th.ack);
    assert_int_equal(s.th.ack, c.p.snd_nxt + 1001);
    assert_int_equal(stats_of(st).tcp_time_wait_reused, 1);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Data                                                                     */
/* ======================================================================== */

/* RFC 9293 §3.10.7.4 seventh check (segment text): in-order data reaches the
 * application byte for byte, and RCV.NXT advances over it. */
static void in_order_data_is_delivered_exactly(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t start = c.p.snd_nxt;
    c_send_data(&c, 1460);
    expect_event(st, TB_EV_TCP_READABLE, c.h);
    c_send_data(&c, 1460);
    c_expect_ack(&c, c.p.snd_nxt);
    c_send_data(&c, 80);
    uint8_t buf[4000];
    size_t got = 0;
    while (got < 3000) {   /* odd-sized reads across segment boundaries */
        int64_t n = tb_tcp_recv(st, c.now, c.h, buf + got, 999);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, 3000);
    assert_pattern(buf, 3000, start);
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_AGAIN);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.rcv_nxt, c.p.snd_nxt);
    assert_int_equal(i.bytes_received, 3000);
    t_stack_done(forget(st));
}

static void expect_sack(struct tconn *c, uint32_t ack, const struct tb_sack_block *want, uint8_t count) {
    struct seg s;
    c_expect(c, &s);
    assert_int_equal(s.th.flags, TB_TCP_ACK);
    assert_int_equal(s.th.ack, ack);
    if (s.th.opts.sack_count != count) fail_msg("%u SACK blocks, want %u", s.th.opts.sack_count, count);
    for (uint8_t k = 0; k < count; k++)
        if (s.th.opts.sack[k].left != want[k].left || s.th.opts.sack[k].right != want[k].right)
            fail_msg("SACK block %u is [%u, %u), want [%u, %u)", k, s.th.opts.sack[k].left, s.th.opts.sack[k].right,
                     want[k].left, want[k].right);
}

/* RFC 9293 §3.10.7.4 seventh check and RFC 2018 §3-4: out-of-order segments
 * are held and delivered when the gap fills; each is answered at once with a
 * duplicate ACK whose SACK blocks put the most recent arrival first. */
static void out_of_order_data_is_held_and_sacked(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_SACK);
    uint32_t b = c.p.snd_nxt;
    c_send_data_at(&c, b, 100);
    expect_none(st);
    c_send_data_at(&c, b + 200, 100);
    const struct tb_sack_block s1[] = {{b + 200, b + 300}};
    expect_sack(&c, b + 100, s1, 1);
    c_send_data_at(&c, b + 400, 100);
    const struct tb_sack_block s2[] = {{b + 400, b + 500}, {b + 200, b + 300}};
    expect_sack(&c, b + 100, s2, 2);
    c_send_data_at(&c, b + 600, 100);
    const struct tb_sack_block s3[] = {{b + 600, b + 700}, {b + 400, b + 500}, {b + 200, b + 300}};
    expect_sack(&c, b + 100, s3, 3);
    assert_int_equal(info_of(st, c.h).ooo_bytes, 300);
    /* The gap fills: everything contiguous moves up, the rest stays SACKed. */
    c_send_data_at(&c, b + 100, 100);
    const struct tb_sack_block s4[] = {{b + 600, b + 700}, {b + 400, b + 500}};
    expect_sack(&c, b + 300, s4, 2);
    c_send_data_at(&c, b + 300, 100);
    const struct tb_sack_block s5[] = {{b + 600, b + 700}};
    expect_sack(&c, b + 500, s5, 1);
    c_send_data_at(&c, b + 500, 100);
    expect_sack(&c, b + 700, NULL, 0);
    assert_int_equal(info_of(st, c.h).ooo_bytes, 0);
    uint8_t buf[1024];
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 700);
    assert_pattern(buf, 700, b);
    assert_int_equal(info_of(st, c.h).rcv_nxt, b + 700);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 seventh check / §3.4: overlapping and duplicate
 * segments never deliver a sequence number twice. The overlapping
 * segments carry different bytes for the same sequence numbers; whichever
 * copy is kept, every delivered byte must come from a segment covering it. */
static void overlapping_segments_deliver_each_byte_once(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_SACK);
    uint32_t b = c.p.snd_nxt;
    struct { uint32_t from, to; uint8_t letter; } segs[] = {
        {0, 100, 'A'},   {50, 150, 'B'},  {300, 400, 'C'}, {250, 350, 'D'},
        {350, 450, 'E'}, {200, 320, 'F'}, {150, 260, 'G'}, {140, 460, 'H'},
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(segs); k++) {
        uint8_t data[512];
        memset(data, segs[k].letter, sizeof(data));
        c_send_full(&c, TB_TCP_ACK, b + segs[k].from, c.p.rcv_nxt, data, segs[k].to - segs[k].from);
    }
    drain_all(st);
    uint8_t buf[1024];
    size_t got = app_recv_all(&c, buf, sizeof(buf));
    assert_int_equal(got, 460);
    for (size_t i = 0; i < got; i++) {
        bool ok = false;
        for (size_t k = 0; k < TB_ARRAY_LEN(segs); k++)
            if (i >= segs[k].from && i < segs[k].to && buf[i] == segs[k].letter) ok = true;
        if (!ok) fail_msg("byte %zu is '%c', from no segment covering it", i, buf[i]);
    }
    struct tb_tcp_info inf = info_of(st, c.h);
    assert_int_equal(inf.rcv_nxt, b + 460);
    assert_int_equal(inf.bytes_received, 460);
    assert_int_equal(inf.ooo_bytes, 0);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 seventh check (a receiver may keep out-of-order data,
 * within its resources): beyond cfg.tcp_ooo_max_bytes, out-of-order data
 * is dropped and counted; it is still acknowledged. */
static void out_of_order_queue_is_bounded(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_ooo_max_bytes = 1000;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t b = c.p.snd_nxt;
    c_send_data_at(&c, b + 100, 600);
    c_expect_ack(&c, b);
    assert_int_equal(info_of(st, c.h).ooo_bytes, 600);
    c_send_data_at(&c, b + 800, 600);
    c_expect_ack(&c, b);
    assert_int_equal(t_drops(st, TB_DROP_tcp_ooo_full), 1);
    assert_int_equal(info_of(st, c.h).ooo_bytes, 600);
    c_send_data_at(&c, b, 100);
    c_expect_ack(&c, b + 700);
    uint8_t buf[2048];
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 700);
    assert_pattern(buf, 700, b);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.4: sequence numbers are modulo 2^32; a peer ISN just below
 * 2^32 and data across zero are received, reordered and acknowledged. */
static void receive_sequence_number_wraps(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.p.isn = 0xfffffc00u;
    passive_open(&c, listen80(st), PEER_PORT, O_MSS);
    uint32_t b = c.p.snd_nxt;
    assert_int_equal(b, 0xfffffc01u);
    c_send_data_at(&c, b, 1000);
    expect_none(st);
    c_send_data_at(&c, b + 2000, 1000);   /* past zero, out of order */
    c_expect_ack(&c, b + 1000);
    c_send_data_at(&c, b + 1000, 1000);   /* crosses zero, fills the gap */
    c_expect_ack(&c, b + 3000);
    assert_int_equal(b + 3000, 0x7b9u);
    uint8_t buf[4096];
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 3000);
    assert_pattern(buf, 3000, b);
    assert_int_equal(info_of(st, c.h).rcv_nxt, 0x7b9u);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.4 and RFC 6528: our ISN is M + F(4-tuple) with M a 4 µs
 * clock; choosing `now` puts it just below 2^32, and data, retransmission
 * state and acknowledgments all work across zero. */
static void send_sequence_number_wraps(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    /* Learn F from a SYN-ACK at now = 0, then drop that connection. */
    struct tconn probe;
    c_init(&probe, st, 0);
    probe.lh = lh;
    struct seg s;
    passive_syn(&probe, PEER_PORT, O_MSS, &s);
    uint32_t f = probe.p.stack_isn;
    c_rst(&probe);
    expect_none(st);
    const uint32_t target = 0xfffffa00u;
    tb_time_ns when = (tb_time_ns)(uint32_t)(target - f) * 4000;
    struct tconn c;
    c_init(&c, st, when);
    passive_open(&c, lh, PEER_PORT, O_MSS);
    assert_int_equal(c.p.stack_isn, target);
    app_send(&c, 4000, 0);
    c_expect_data(&c, 1460);                 /* 0xfffffa01 */
    uint32_t second = c.p.rcv_nxt;
    c_expect_data(&c, 1460);                 /* 0xffffffb5: crosses zero */
    assert_int_equal(second, 0xffffffb5u);
    expect_none(st);                         /* Nagle holds the 1080-byte tail */
    tb_time_ns t = c.now;
    c.now = t + 10 * MS;
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, second, NULL, 0);
    expect_none(st);
    assert_int_equal(info_of(st, c.h).snd_una, second);
    c_ack(&c);                               /* acknowledges 0x569, past zero */
    assert_int_equal(c.p.rcv_nxt, 0x569u);
    assert_int_equal(info_of(st, c.h).snd_una, 0x569u);
    c_expect_data(&c, 1080);
    c_ack(&c);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.snd_una, target + 1 + 4000);
    assert_int_equal(i.snd_nxt, target + 1 + 4000);
    assert_int_equal(i.flight_bytes, 0);
    assert_int_equal(i.bytes_acked, 4000);
    assert_int_equal(i.retransmits, 0);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Delayed ACK                                                              */
/* ======================================================================== */

/* RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: one segment's ACK may be delayed,
 * by less than 0.5 s (cfg.tcp_delack_ns). */
static void single_segment_ack_is_delayed(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_data(&c, 100);
    expect_none(st);
    tb_time_ns due = c.now + cfg.tcp_delack_ns;
    assert_int_equal(tb_stack_next_deadline(st), due);
    tb_stack_tick(st, due - 1);
    expect_none(st);
    tb_stack_tick(st, due);
    c.now = due;
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(stats_of(st).tcp_delayed_acks, 1);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: at least every second full-sized
 * segment is acknowledged at once. */
static void every_second_full_segment_is_acked_at_once(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_data(&c, 1460);
    expect_none(st);
    c_send_data(&c, 1460);
    c_expect_ack(&c, c.p.snd_nxt);
    c_send_data(&c, 1460);
    expect_none(st);
    c_send_data(&c, 1460);
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(stats_of(st).tcp_delayed_acks, 0);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.3 / RFC 5681 §4.2: an out-of-order segment is
 * acknowledged at once (a duplicate ACK). */
static void out_of_order_segment_is_acked_at_once(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_data_at(&c, c.p.snd_nxt + 100, 100);
    c_expect_ack(&c, c.p.snd_nxt);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Nagle and receiver SWS avoidance                                         */
/* ======================================================================== */

/* RFC 896 / RFC 9293 §3.7.4: with data unacknowledged a small write waits
 * for the ACK (or for a full segment). */
static void nagle_holds_small_segment_while_data_unacked(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    assert_false(info_of(st, c.h).nodelay);
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    app_send(&c, 50, 100);
    expect_none(st);
    c.now += 10 * MS;
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt, NULL, 0);   /* acknowledges the 100 */
    c_expect_data(&c, 50);
    /* A full segment goes even while data is in flight; the tail waits. */
    app_send(&c, 2000, 150);
    c_expect_data(&c, 1460);
    expect_none(st);
    c.now += 10 * MS;
    c_ack(&c);
    c_expect_data(&c, 540);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.7.4: an application may turn Nagle off (TB_TCP_OPT_NODELAY);
 * small writes then go at once. */
static void nodelay_sends_small_segments_at_once(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    assert_int_equal(tb_tcp_setopt(st, c.h, TB_TCP_OPT_NODELAY, 1), TB_OK);
    assert_true(info_of(st, c.h).nodelay);
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    app_send(&c, 50, 100);
    c_expect_data(&c, 50);
    app_send(&c, 10, 150);
    c_expect_data(&c, 10);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): the right window edge only
 * moves by at least min(RCV.BUFF/2, MSS); reading a few bytes of a full
 * buffer sends no window update, reading enough does. */
static void small_reads_send_no_window_update(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rcvbuf_bytes = 4096;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_data(&c, 1460);
    c_send_data(&c, 1460);
    assert_int_equal(c_expect_ack(&c, c.p.snd_nxt), 4096 - 2920);
    c_send_data(&c, 1176);
    expect_none(st);
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    assert_int_equal(c_expect_ack(&c, c.p.snd_nxt), 0);
    uint8_t buf[4096];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, 100), 100);
    expect_none(st);
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf + 100, 1000), 1000);
    expect_none(st);   /* 1100 bytes free: below min(2048, 1460) */
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf + 1100, 1000), 1000);
    assert_int_equal(c_expect_ack(&c, c.p.snd_nxt), 2100);
    assert_pattern(buf, 2100, c.p.isn + 1);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.2.2 and RFC 5681 §4.2: a read sends a window update only
 * if the right edge of the advertised window moves. Without window scaling
 * the field is capped at 65535: with 256 KiB of buffer, freeing space cannot
 * move the edge, and an ACK repeating the same ACK number and window is a
 * duplicate ACK to the peer (RFC 5681 §2), a false loss signal. */
static void read_sends_no_update_when_window_cannot_grow(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);   /* no window scaling */
    c_send_data(&c, 1000);
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    assert_int_equal(c_expect_ack(&c, c.p.snd_nxt), 65535);
    uint8_t buf[1000];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, 10), 10);
    struct seg s;
    if (next_seg(st, &s))
        fail_msg("a 10-byte read sent flags %#x ack %u window %u: the same ACK and window as before", s.th.flags,
                 s.th.ack, s.th.window);
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 990);
    expect_none(st);
    t_stack_done(forget(st));
}

/* RFC 7323 §2.3: with window scaling the window field is the free receive
 * space shifted right by our scale; the peer's field is shifted left by its. */
static void advertised_window_is_scaled_free_space(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct tb_tcp_opts o = syn_opts(O_MSS | O_WS, 1460, 7, 0, 0);
    struct seg s;
    passive_syn_opts(&c, PEER_PORT, &o, &s);
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.rcv_wscale, 3);
    assert_int_equal(i.snd_wscale, 7);
    c_send_data(&c, 1000);
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    uint16_t field = c_expect_ack(&c, c.p.snd_nxt);
    i = info_of(st, c.h);
    assert_int_equal(i.rcvbuf_used_bytes, 1000);
    assert_int_equal(field, (cfg.tcp_rcvbuf_bytes - 1000) >> 3);
    c.p.window = 1000;
    c_ack(&c);
    assert_int_equal(info_of(st, c.h).snd_wnd_bytes, 1000u << 7);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Retransmission (RFC 6298)                                                */
/* ======================================================================== */

/* Asserts one retransmission of `len` bytes at seq from offset `off`. */
static void expect_retransmission(struct tconn *c, uint32_t seq, size_t len, uint32_t off) {
    struct seg s;
    c_expect(c, &s);
    assert_seg(&s.th,
               &(struct tb_peer_expect){.check = TB_PEER_CHECK_SEQ | TB_PEER_CHECK_LEN, .seq = seq, .payload_len = len});
    assert_pattern(s.th.payload, len, off);
}

/* RFC 6298 §5.4-5.6 (and §2.4: RTO rounded up to 1 s): with no ACK the
 * segment is retransmitted after the RTO, then 2x, 4x (back-off); an ACK
 * ends it. */
static void data_is_retransmitted_with_backoff(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rto_min_ns = SEC;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    assert_int_equal(info_of(st, c.h).rto_ns, SEC);
    uint32_t seq = c.p.rcv_nxt;
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    tb_time_ns t = c.now;
    const tb_time_ns gaps[] = {1 * SEC, 2 * SEC, 4 * SEC};
    for (size_t k = 0; k < TB_ARRAY_LEN(gaps); k++) {
        assert_int_equal(tb_stack_next_deadline(st), t + gaps[k]);
        tb_stack_tick(st, t + gaps[k] - 1);
        expect_none(st);
        t += gaps[k];
        tb_stack_tick(st, t);
        expect_retransmission(&c, seq, 100, 0);
        expect_none(st);
    }
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.rto_timeouts, 3);
    assert_int_equal(i.retransmits, 3);
    assert_int_equal(i.backoff, 3);
    c.now = t + 100 * MS;
    c_ack(&c);
    expect_none(st);
    i = info_of(st, c.h);
    /* RFC 6298 §5, Karn: the ACK of a retransmission gives no RTT sample,
     * so the backed-off RTO stays until one arrives. */
    assert_int_equal(i.backoff, 3);
    assert_int_equal(i.flight_bytes, 0);
    assert_true(tb_stack_next_deadline(st) > c.now + 1000 * SEC);   /* no TCP timer left */
    app_send(&c, 100, 100);
    c_expect_data(&c, 100);
    c.now += 100 * MS;
    c_ack(&c);
    assert_int_equal(info_of(st, c.h).backoff, 0);   /* a valid sample */
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.3 (R2) / RFC 1122 §4.2.3.5: after tcp_max_retries
 * expiries the connection fails with a timeout. */
static void exhausted_retransmissions_time_out(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rto_min_ns = SEC;
    cfg.tcp_max_retries = 3;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t seq = c.p.rcv_nxt;
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    size_t rexmits = 0;
    tb_time_ns t = c.now;
    for (int k = 0; k < 10 && state_of(&c) != TB_TCP_CLOSED; k++) {
        t = tb_stack_next_deadline(st);
        tb_stack_tick(st, t);
        struct seg s;
        while (next_seg(st, &s)) {
            assert_int_equal(s.th.seq, seq);
            rexmits++;
        }
    }
    assert_int_equal(rexmits, 3);
    assert_int_equal(t, c.now + 15 * SEC);   /* 1 + 2 + 4, then the 8 s wait runs out */
    assert_int_equal(expect_event(st, TB_EV_TCP_ERROR, c.h).error, TB_ERR_TIMEOUT);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.error, TB_ERR_TIMEOUT);
    uint8_t buf[4];
    assert_int_equal(tb_tcp_recv(st, t, c.h, buf, sizeof(buf)), TB_ERR_TIMEOUT);
    assert_int_equal(stats_of(st).tcp_conns_timed_out, 1);
    t_stack_done(forget(st));
}

/* RFC 6298 §2.1, §5.5 and RFC 9293 §3.8.3: an unanswered SYN is
 * retransmitted after the initial RTO (1 s), backing off, tcp_syn_retries
 * times; then the open fails with a timeout. */
static void syn_is_retransmitted_then_times_out(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_syn_timeout_ns = 15 * SEC;   /* SYNs at 0, 1, 3, 7 s; the give-up at 15 s */
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    tb_time_ns t = c.now;
    const tb_time_ns gaps[] = {1 * SEC, 2 * SEC, 4 * SEC};
    for (size_t k = 0; k < TB_ARRAY_LEN(gaps); k++) {
        assert_int_equal(tb_stack_next_deadline(st), t + gaps[k]);
        tb_stack_tick(st, t + gaps[k] - 1);
        expect_none(st);
        t += gaps[k];
        tb_stack_tick(st, t);
        c_expect(&c, &s);
        assert_int_equal(s.th.flags, TB_TCP_SYN);
        assert_int_equal(s.th.seq, c.p.stack_isn);
        assert_true(s.th.opts.has_mss);
        expect_none(st);
    }
    expect_no_event(st, TB_EV_NONE);
    assert_int_equal(tb_stack_next_deadline(st), t + 8 * SEC);
    tb_stack_tick(st, t + 8 * SEC);
    expect_none(st);
    assert_int_equal(expect_event(st, TB_EV_TCP_ERROR, c.h).error, TB_ERR_TIMEOUT);
    assert_int_equal(state_of(&c), TB_TCP_CLOSED);
    t_stack_done(forget(st));
}

/* RFC 6298 §2.2-2.4: the first RTT sample R sets SRTT = R, RTTVAR = R/2;
 * later ones SRTT = 7/8 SRTT + R/8, RTTVAR = 3/4 RTTVAR + |SRTT - R|/4;
 * RTO = SRTT + 4 RTTVAR, never below the minimum. */
static void rtt_samples_set_rto(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    c.now += 100 * MS;   /* the SYN-ACK takes 100 ms */
    active_synack(&c, O_MSS);
    c_expect_ack(&c, c.p.snd_nxt);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.srtt_ns, 100 * MS);
    assert_int_equal(i.rttvar_ns, 50 * MS);
    assert_int_equal(i.rto_ns, 300 * MS);
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    c.now += 20 * MS;
    c_ack(&c);
    i = info_of(st, c.h);
    assert_int_equal(i.srtt_ns, 90 * MS);
    assert_int_equal(i.rttvar_ns, 57500 * TB_NS_PER_US);
    assert_int_equal(i.rto_ns, 320 * MS);
    /* A 1 ms RTT gives 3 ms, raised to rto_min (200 ms). */
    struct tconn d;
    c_init(&d, st, c.now);
    active_syn(&d, &s);
    d.now += 1 * MS;
    active_synack(&d, O_MSS);
    c_expect_ack(&d, d.p.snd_nxt);
    i = info_of(st, d.h);
    assert_int_equal(i.srtt_ns, 1 * MS);
    assert_int_equal(i.rto_ns, cfg.tcp_rto_min_ns);
    t_stack_done(forget(st));
}

/* RFC 6298 §5.7: when the SYN was retransmitted and no RTT sample exists,
 * the RTO is re-initialized to 3 s once the handshake completes (active
 * open). */
static void syn_retransmission_sets_rto_to_3s(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    tb_stack_tick(st, T0 + SEC);
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_SYN);
    c.now = T0 + 1500 * MS;
    active_synack(&c, O_MSS);   /* Karn: no RTT sample from a retransmitted SYN */
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(info_of(st, c.h).rto_ns, 3 * SEC);
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    assert_int_equal(tb_stack_next_deadline(st), c.now + 3 * SEC);
    t_stack_done(forget(st));
}

/* RFC 6298 §5.7: the same for a passive open whose SYN-ACK (a SYN segment)
 * was retransmitted. */
static void synack_retransmission_sets_rto_to_3s(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct seg s;
    passive_syn(&c, PEER_PORT, O_MSS, &s);
    assert_int_equal(tb_stack_next_deadline(st), T0 + SEC);
    tb_stack_tick(st, T0 + SEC);
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_SYN | TB_TCP_ACK);
    assert_int_equal(s.th.seq, c.p.stack_isn);
    c.now = T0 + 1500 * MS;
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    tb_time_ns rto = info_of(st, c.h).rto_ns;
    if (rto != 3 * SEC) fail_msg("RTO after a retransmitted SYN-ACK is %lld ms, not 3000 ms", (long long)(rto / MS));
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Persist (RFC 9293 §3.8.6.1)                                              */
/* ======================================================================== */

/* The peer closes its window; the application queues 100 bytes. */
static void enter_zero_window(struct tconn *c, uint8_t *data) {
    c->p.window = 0;
    c_ack(c);
    expect_none(c->st);
    assert_int_equal(info_of(c->st, c->h).snd_wnd_bytes, 0);
    tb_peer_fill_pat(data, 100, 0);
    assert_int_equal(tb_tcp_send(c->st, c->now, c->h, data, 100), 100);
    expect_none(c->st);
}

/* Ticks to the next probe; asserts it is one byte at SND.UNA. */
static tb_time_ns expect_probe(struct tconn *c, const uint8_t *data) {
    tb_time_ns t = tb_stack_next_deadline(c->st);
    tb_stack_tick(c->st, t);
    struct seg s;
    c_expect(c, &s);
    assert_seg(&s.th, &(struct tb_peer_expect){.check = TB_PEER_CHECK_SEQ | TB_PEER_CHECK_LEN,
                                               .flags_required = TB_TCP_ACK,
                                               .seq = c->p.rcv_nxt,
                                               .payload_len = 1});
    assert_int_equal(s.th.payload[0], data[0]);
    expect_none(c->st);
    return t;
}

/* RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: a zero window with data waiting is
 * probed, at intervals that back off exponentially. */
static void zero_window_is_probed_with_backoff(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint8_t data[100];
    enter_zero_window(&c, data);
    tb_time_ns prev = c.now, interval = cfg.tcp_rto_min_ns;   /* RTO after a ~0 RTT sample */
    for (int k = 0; k < 5; k++) {
        assert_int_equal(tb_stack_next_deadline(st), prev + interval);
        tb_stack_tick(st, prev + interval - 1);
        expect_none(st);
        prev = expect_probe(&c, data);
        c.now = prev;
        c_ack(&c);   /* window still 0 */
        expect_none(st);
        interval *= 2;
    }
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.zero_window_probes, 5);
    assert_int_equal(stats_of(st).tcp_zero_window_probes, 5);
    assert_int_equal(i.state, TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.1: the window update that answers a probe resumes the
 * transmission: the queued data goes out from SND.UNA at once. */
static void window_update_resumes_sending(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint8_t data[100];
    enter_zero_window(&c, data);
    c.now = expect_probe(&c, data);
    c_ack(&c);   /* the probe's byte is refused: window 0 */
    expect_none(st);
    c.now += 50 * MS;
    c.p.window = 65535;
    c_ack(&c);   /* window update */
    uint32_t covered = c.p.rcv_nxt;
    struct seg s;
    while (next_seg(st, &s)) {
        if (s.th.payload_len == 0) continue;
        if (s.th.seq != covered)
            fail_msg("after the window update: %zu bytes at %u, the peer expects %u", s.th.payload_len, s.th.seq,
                     covered);
        assert_pattern(s.th.payload, s.th.payload_len, covered - c.p.rcv_nxt);
        covered += (uint32_t)s.th.payload_len;
    }
    if (covered != c.p.rcv_nxt + 100)
        fail_msg("the window update resumed only %u of 100 queued bytes at once", covered - c.p.rcv_nxt);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: while probes are answered
 * (zero-window ACKs) the connection is kept open indefinitely. */
static void answered_zero_window_probes_never_time_out(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_max_retries = 2;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint8_t data[100];
    enter_zero_window(&c, data);
    for (int k = 0; k < 12; k++) {
        c.now = expect_probe(&c, data);
        c_ack(&c);
    }
    expect_no_event(st, TB_EV_TCP_ERROR);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_ESTABLISHED);
    assert_int_equal(i.error, 0);
    assert_int_equal(i.zero_window_probes, 12);
    assert_true(tb_stack_next_deadline(st) <= c.now + cfg.tcp_rto_max_ns);   /* still probing */
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6)                           */
/* ======================================================================== */

/* RFC 1122 §4.2.3.6: keepalives MUST default to off. */
static void keepalive_is_off_by_default(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    tb_stack_tick(st, c.now + INT64_C(3) * 3600 * SEC);
    expect_none(st);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.keepalive_probes, 0);
    assert_int_equal(i.state, TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

static void enable_keepalive(struct tconn *c) {
    assert_int_equal(tb_tcp_setopt(c->st, c->h, TB_TCP_OPT_KEEPALIVE_INTVL_NS, 1 * SEC), TB_OK);
    assert_int_equal(tb_tcp_setopt(c->st, c->h, TB_TCP_OPT_KEEPALIVE_PROBES, 3), TB_OK);
    assert_int_equal(tb_tcp_setopt(c->st, c->h, TB_TCP_OPT_KEEPALIVE_IDLE_NS, 10 * SEC), TB_OK);
}

/* A keepalive: SEG.SEQ = SND.UNA - 1 (SND.NXT - 1 while idle), no data. */
static void expect_keepalive(struct tconn *c) {
    struct seg s;
    c_expect(c, &s);
    /* SEG.SEQ = SND.NXT - 1: no new data (RFC 1122 §4.2.3.6). */
    assert_seg(&s.th, &(struct tb_peer_expect){
                          .check = TB_PEER_CHECK_FLAGS | TB_PEER_CHECK_SEQ | TB_PEER_CHECK_LEN | TB_PEER_CHECK_ACK,
                          .flags = TB_TCP_ACK,
                          .seq = c->p.rcv_nxt - 1,
                          .ack = c->p.snd_nxt});
}

/* RFC 9293 §3.8.4 / RFC 1122 §4.2.3.6: after the idle time a probe goes
 * out carrying no new data (SEQ = SND.NXT - 1); unanswered probes end the
 * connection with a timeout. */
static void keepalive_probes_idle_connection_then_times_out(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    enable_keepalive(&c);
    assert_int_equal(tb_stack_next_deadline(st), c.now + 10 * SEC);
    tb_stack_tick(st, c.now + 10 * SEC - 1);
    expect_none(st);
    tb_time_ns t = c.now + 10 * SEC;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(tb_stack_next_deadline(st), t);
        tb_stack_tick(st, t);
        expect_keepalive(&c);
        expect_none(st);
        t += 1 * SEC;
    }
    expect_no_event(st, TB_EV_TCP_ERROR);
    assert_int_equal(tb_stack_next_deadline(st), t);
    tb_stack_tick(st, t);
    expect_none(st);
    assert_int_equal(expect_event(st, TB_EV_TCP_ERROR, c.h).error, TB_ERR_TIMEOUT);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_CLOSED);
    assert_int_equal(i.keepalive_probes, 3);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.4: an answer to a keepalive shows the peer alive: probing
 * stops until the connection has been idle again for the idle time. */
static void keepalive_answer_resets_probing(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    enable_keepalive(&c);
    c.now += 10 * SEC;
    tb_stack_tick(st, c.now);
    expect_keepalive(&c);
    c.now += 500 * MS;
    c_ack(&c);   /* the answer */
    expect_none(st);
    assert_int_equal(tb_stack_next_deadline(st), c.now + 10 * SEC);
    tb_stack_tick(st, c.now + 10 * SEC - 1);
    expect_none(st);
    for (int k = 0; k < 3; k++) {   /* several intervals' worth: no timeout */
        c.now = tb_stack_next_deadline(st);
        tb_stack_tick(st, c.now);
        expect_keepalive(&c);
        c.now += 100 * MS;
        c_ack(&c);
    }
    expect_no_event(st, TB_EV_TCP_ERROR);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

/* RFC 3168 §6.1.2: an ECE is a congestion signal even on an ACK that
 * acknowledges everything in flight: cwnd is reduced once, the next new
 * data carries CWR, and further ECEs before it (the receiver echoes until
 * it sees CWR) do not reduce again. */
static void ece_acking_everything_still_reduces_and_sends_cwr(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_ecn = true;
    struct tconn c;
    struct tb_stack *st = tcp_stack(&cfg);
    c_init(&c, st, T0);
    c.h = tb_tcp_connect(st, c.now, T_IP_PEER, US_PORT);
    assert_true(c.h >= 0);
    struct seg s;
    expect_seg(st, &s);
    assert_int_equal(s.th.flags, TB_TCP_SYN | TB_TCP_ECE | TB_TCP_CWR);   /* ECN-setup SYN */
    c.p.port = US_PORT;
    c.p.stack_port = s.th.src_port;
    tb_peer_learn(&c.p, &s.th);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, ++c.p.ts_val, c.p.ts_recent);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_SYN | TB_TCP_ACK | TB_TCP_ECE, .seq = c.p.isn,
                                         .ack = c.p.rcv_nxt, .window = c.p.window, .opts = o});
    c.p.snd_nxt = c.p.isn + 1;
    c_expect_ack(&c, c.p.snd_nxt);
    expect_event(st, TB_EV_TCP_CONNECTED, c.h);
    assert_true(info_of(st, c.h).ecn_ok);
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    c_send(&c, TB_TCP_ACK | TB_TCP_ECE, NULL, 0);   /* acknowledges all, echoes a CE */
    expect_none(st);
    assert_int_equal(stats_of(st).tcp_ecn_reductions, 1);
    c_send(&c, TB_TCP_ACK | TB_TCP_ECE, NULL, 0);   /* still echoing: no second reduction */
    expect_none(st);
    assert_int_equal(stats_of(st).tcp_ecn_reductions, 1);
    app_send(&c, 100, 100);
    c_expect(&c, &s);
    assert_int_equal(s.th.payload_len, 100);
    assert_true(s.th.flags & TB_TCP_CWR);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Timestamps and PAWS (RFC 7323)                                           */
/* ======================================================================== */

/* RFC 7323 §5.5 and Appendix D: after more than 24 days idle TS.Recent is
 * invalid; a segment with an older TSval is accepted and its TSval becomes
 * TS.Recent, so our ACK echoes it (not the 25-day-old value). */
static void ts_recent_invalid_after_24_days_is_replaced(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_TS);
    assert_true(c.p.ts_on);
    c.p.ts_val = 1999999999;
    c_send_data(&c, 100);   /* TSval 2000000000 */
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    struct seg s;
    c_expect(&c, &s);
    assert_int_equal(s.th.opts.ts_ecr, 2000000000u);
    c.now += INT64_C(25) * 24 * 3600 * SEC;
    tb_stack_tick(st, c.now);
    c.p.ts_val = 4;
    c_send_data(&c, 100);   /* TSval 5: older modulo 2^32, accepted */
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    c_expect(&c, &s);
    assert_int_equal(s.th.ack, c.p.snd_nxt);
    assert_int_equal(s.th.opts.ts_ecr, 5);
    c.p.ts_val = 5;
    c_send_data(&c, 100);   /* TSval 6: in order again */
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    c_expect(&c, &s);
    assert_int_equal(s.th.opts.ts_ecr, 6);
    t_stack_done(forget(st));
}

/* RFC 7323 §5.3: a segment whose TSval is older than TS.Recent is a
 * duplicate: it is acknowledged and dropped, its data not delivered; the
 * ACK echoes TS.Recent. */
static void paws_drops_segment_with_old_timestamp(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_TS);
    assert_true(c.p.ts_on);
    uint32_t start = c.p.snd_nxt;
    c.p.ts_val = 4999;
    c_send_data(&c, 100);   /* TSval 5000 */
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    struct seg s;
    c_expect(&c, &s);
    assert_int_equal(s.th.ack, c.p.snd_nxt);
    assert_int_equal(s.th.opts.ts_ecr, 5000);
    struct tb_tcp_opts old;
    memset(&old, 0, sizeof(old));
    old.has_ts = true;
    old.ts_val = 4000;
    old.ts_ecr = c.p.ts_recent;
    uint8_t data[100];
    tb_peer_fill_pat(data, 100, c.p.snd_nxt);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_ACK,
                                         .seq = c.p.snd_nxt,
                                         .ack = c.p.rcv_nxt,
                                         .window = 65535,
                                         .opts = old,
                                         .payload = data,
                                         .payload_len = 100});
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_ACK);
    assert_int_equal(s.th.ack, c.p.snd_nxt);
    assert_int_equal(s.th.opts.ts_ecr, 5000);
    assert_int_equal(t_drops(st, TB_DROP_tcp_paws), 1);
    assert_int_equal(stats_of(st).tcp_paws_rejected, 1);
    uint8_t buf[512];
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 100);
    assert_pattern(buf, 100, start);
    c.p.ts_val = 5000;
    c_send_data(&c, 100);   /* TSval 5001: accepted */
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 100);
    assert_pattern(buf, 100, start + 100);
    t_stack_done(forget(st));
}

/* RFC 7323 §4.3: TS.Recent is taken only from a segment with
 * SEG.SEQ =< Last.ACK.sent, so a delayed ACK echoes the TSval of the
 * earliest segment it acknowledges. */
static void timestamp_echo_follows_last_ack_sent(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_TS);
    c.p.ts_val = 5999;
    c_send_data(&c, 100);   /* TSval 6000 */
    c_send_data(&c, 100);   /* TSval 6001 */
    struct seg s;
    c_expect(&c, &s);
    assert_int_equal(s.th.ack, c.p.snd_nxt);
    assert_int_equal(s.th.opts.ts_ecr, 6000);
    c_send_data(&c, 100);   /* TSval 6002, at Last.ACK.sent */
    c.now += cfg.tcp_delack_ns;
    tb_stack_tick(st, c.now);
    c_expect(&c, &s);
    assert_int_equal(s.th.opts.ts_ecr, 6002);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* SYN cookies (RFC 4987 §3.6), accept queue, listener close                */
/* ======================================================================== */

/* RFC 4987 §3.6: with the SYN queue full a SYN is answered statelessly: the
 * SYN-ACK carries only the MSS, and the ACK that returns the cookie creates
 * the connection. */
static void syn_cookie_answers_when_syn_queue_full(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_syn_queue_len = 1;
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    struct tconn a, b;
    struct seg s;
    c_init(&a, st, T0);
    a.lh = lh;
    passive_syn(&a, PEER_PORT, O_ALL, &s);
    assert_true(s.th.opts.has_wscale);   /* an ordinary SYN-ACK */
    assert_int_equal(stats_of(st).tcp_syncookies_sent, 0);
    c_init(&b, st, T0);
    b.lh = lh;
    passive_syn(&b, PEER_PORT + 1, O_ALL, &s);
    assert_true(s.th.opts.has_mss);
    assert_int_equal(s.th.opts.mss, 1460);
    assert_false(s.th.opts.has_wscale);
    assert_false(s.th.opts.sack_permitted);
    assert_false(s.th.opts.has_ts);
    assert_int_equal(stats_of(st).tcp_syncookies_sent, 1);
    b.now += 10 * MS;
    c_send(&b, TB_TCP_ACK, "hello", 5);   /* returns the cookie, with data */
    expect_none(st);
    expect_event(st, TB_EV_TCP_ACCEPTABLE, lh);
    b.h = tb_tcp_accept(st, lh);
    assert_true(b.h >= 0);
    struct tb_tcp_info i = info_of(st, b.h);
    assert_true(i.syncookie);
    assert_int_equal(i.state, TB_TCP_ESTABLISHED);
    assert_int_equal(i.remote_port, PEER_PORT + 1);
    assert_int_equal(i.mss_bytes, 1460);
    assert_int_equal(i.snd_una, b.p.stack_isn + 1);
    char buf[16];
    assert_int_equal(tb_tcp_recv(st, b.now, b.h, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(stats_of(st).tcp_syncookies_ok, 1);
    assert_int_equal(tb_tcp_accept(st, lh), TB_ERR_AGAIN);   /* a is still half-open */
    t_stack_done(forget(st));
}

/* RFC 4987 §3.6 and RFC 9293 §3.10.7.2: an ACK whose cookie does not check
 * out is answered with <SEQ=SEG.ACK><CTL=RST> and creates nothing. */
static void syn_cookie_bad_ack_gets_rst(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_syn_queue_len = 1;
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    struct tconn a, b;
    struct seg s;
    c_init(&a, st, T0);
    a.lh = lh;
    passive_syn(&a, PEER_PORT, O_MSS, &s);
    c_init(&b, st, T0);
    b.lh = lh;
    passive_syn(&b, PEER_PORT + 1, O_MSS, &s);
    assert_int_equal(stats_of(st).tcp_syncookies_sent, 1);
    uint32_t bad_ack = (b.p.stack_isn ^ 0x01000000u) + 1;
    c_send_full(&b, TB_TCP_ACK, b.p.snd_nxt, bad_ack, NULL, 0);
    expect_rst(st, US_PORT, PEER_PORT + 1, bad_ack, false, 0);
    assert_int_equal(stats_of(st).tcp_syncookies_failed, 1);
    assert_int_equal(t_drops(st, TB_DROP_tcp_bad_cookie), 1);
    expect_no_event(st, TB_EV_TCP_ACCEPTABLE);
    assert_int_equal(tb_tcp_accept(st, lh), TB_ERR_AGAIN);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.1 (OPEN, passive) and the listen backlog: no more
 * connections wait for accept than the backlog; beyond it SYNs are dropped
 * (the peer retries). */
static void accept_queue_is_bounded_by_backlog(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = tb_tcp_listen(st, US_PORT, 2);
    assert_true(lh >= 0);
    struct tconn a, b, c;
    c_init(&a, st, T0);
    passive_handshake(&a, lh, PEER_PORT, O_MSS);
    c_init(&b, st, T0);
    passive_handshake(&b, lh, PEER_PORT + 1, O_MSS);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    peer_feed_ports(st, T0, PEER_PORT + 2, US_PORT,
                    &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = PEER_ISN, .window = 65535, .opts = o});
    expect_none(st);
    assert_true(stats_of(st).tcp_accept_queue_overflow >= 1);
    assert_int_equal(t_drops(st, TB_DROP_tcp_accept_queue_full), 1);
    int32_t h1 = tb_tcp_accept(st, lh), h2 = tb_tcp_accept(st, lh);
    assert_true(h1 >= 0 && h2 >= 0);
    assert_int_equal(info_of(st, h1).remote_port, PEER_PORT);
    assert_int_equal(info_of(st, h2).remote_port, PEER_PORT + 1);
    assert_int_equal(tb_tcp_accept(st, lh), TB_ERR_AGAIN);
    c_init(&c, st, T0 + SEC);   /* the SYN again, after the peer's RTO */
    passive_open(&c, lh, PEER_PORT + 2, O_MSS);
    t_stack_done(forget(st));
}

struct close_args {
    struct tb_stack *st;
    tb_time_ns now;
    int32_t h;
};

static void close_in_child(void *p) {
    struct close_args *a = p;
    (void)tb_tcp_close(a->st, a->now, a->h);
}

/* RFC 9293 §3.10.4 (ABORT, SYN-RECEIVED and ESTABLISHED: <SEQ=SND.NXT>
 * <CTL=RST>): closing a listener resets the connections it still holds. */
static void closing_listener_resets_pending_children(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    int32_t lh = listen80(st);
    struct tconn a, b;
    c_init(&a, st, T0);
    passive_handshake(&a, lh, PEER_PORT, O_MSS);   /* ESTABLISHED, not accepted */
    c_init(&b, st, T0);
    b.lh = lh;
    struct seg s;
    passive_syn(&b, PEER_PORT + 1, O_MSS, &s);      /* SYN-RECEIVED */
    struct close_args args = {st, T0 + MS, lh};
    if (!survives(close_in_child, &args)) {
        t_stack_done(forget(st));
        fail_msg("tb_tcp_close on a listener holding an ESTABLISHED and a SYN-RECEIVED child aborted the stack");
    }
    assert_int_equal(tb_tcp_close(st, T0 + MS, lh), TB_OK);
    bool seen_a = false, seen_b = false;
    while (next_seg(st, &s)) {
        assert_true(s.th.flags & TB_TCP_RST);
        assert_int_equal(s.th.src_port, US_PORT);
        if (s.th.dst_port == PEER_PORT) {
            assert_int_equal(s.th.seq, a.p.stack_isn + 1);
            seen_a = true;
        } else {
            assert_int_equal(s.th.dst_port, PEER_PORT + 1);
            assert_int_equal(s.th.seq, b.p.stack_isn + 1);
            seen_b = true;
        }
    }
    assert_true(seen_a && seen_b);
    assert_int_equal(tb_tcp_accept(st, lh), TB_ERR_BADCONN);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    peer_feed_ports(st, T0 + MS, PEER_PORT + 2, US_PORT,
                    &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = PEER_ISN, .window = 65535, .opts = o});
    expect_rst(st, US_PORT, PEER_PORT + 2, 0, true, PEER_ISN + 1);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* ICMP (RFC 1122 §4.2.3.9, RFC 5461, RFC 1191, RFC 5927)                   */
/* ======================================================================== */

/* A destination unreachable from a router quoting the IP header and first
 * 8 bytes of the datagram in s (its TCP sequence number replaced when
 * seq_override is given). */
static void icmp_about(struct tb_stack *st, tb_time_ns now, uint8_t code, uint16_t mtu, const struct seg *s,
                       const uint32_t *seq_override) {
    uint8_t quote[TB_PEER_QUOTE_LEN];
    memcpy(quote, s->f.bytes + TB_ETH_HDR_LEN, sizeof(quote));   /* IP header + 8 bytes (RFC 792) */
    if (seq_override != NULL) tb_put32(quote + TB_IPV4_HDR_LEN + 4, *seq_override);
    uint8_t frame[128];
    size_t len = tb_peer_build_icmp_error(peer_host(), ROUTER_IP, TB_ICMP_DEST_UNREACH, code, mtu, quote,
                                          sizeof(quote), frame, sizeof(frame));
    assert_true(len > 0);
    t_input(st, now, frame, len);
}

/* RFC 1122 §4.2.3.9 and RFC 5461 §4: a destination unreachable about one of
 * our segments is reported to the application and does not end the
 * connection. */
static void icmp_unreachable_is_a_soft_error(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    app_send(&c, 100, 0);
    struct seg s;
    c_expect(&c, &s);
    icmp_about(st, c.now, 1 /* host unreachable */, 0, &s, NULL);
    expect_none(st);
    struct tb_event ev = expect_event(st, TB_EV_TCP_SOFT_ERROR, c.h);
    assert_int_equal(ev.u.soft.icmp_type, TB_ICMP_DEST_UNREACH);
    assert_int_equal(ev.u.soft.icmp_code, 1);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_ESTABLISHED);
    assert_int_equal(i.error, 0);
    assert_int_equal(i.last_soft_error_icmp_type, TB_ICMP_DEST_UNREACH);
    assert_int_equal(i.last_soft_error_icmp_code, 1);
    assert_int_equal(stats_of(st).tcp_icmp_soft_errors, 1);
    c.p.rcv_nxt += 100;
    c_ack(&c);
    app_send(&c, 50, 100);
    c_expect_data(&c, 50);
    t_stack_done(forget(st));
}

/* RFC 1122 §4.2.3.9 / RFC 9293 §3.9.2.2: Port and Protocol Unreachable are
 * hard errors and end an opening connection; Host Unreachable does not, and
 * neither does a Port Unreachable once synchronized (RFC 5927 §5.2). */
static void hard_icmp_error_ends_an_opening_connection(void **state) {
    (void)state;
    for (uint8_t code = 1; code <= 3; code++) {
        struct tb_config cfg;
        tcp_cfg(&cfg);
        struct tb_stack *st = tcp_stack(&cfg);
        struct tconn c;
        c_init(&c, st, T0);
        struct seg syn;
        active_syn(&c, &syn);
        icmp_about(st, c.now, code, 0, &syn, NULL);
        struct tb_tcp_info i = info_of(st, c.h);
        if (code == 1) {
            assert_int_equal(i.state, TB_TCP_SYN_SENT);
            assert_int_equal(i.error, 0);
        } else {
            assert_int_equal(i.error, TB_ERR_UNREACH);
            assert_int_equal(i.last_soft_error_icmp_code, code);
            tb_stack_tick(st, c.now + 5 * TB_NS_PER_S);
            expect_none(st);   /* no SYN again */
        }
        t_stack_done(forget(st));
    }
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    app_send(&c, 100, 0);
    struct seg s;
    c_expect(&c, &s);
    icmp_about(st, c.now, 3 /* port unreachable */, 0, &s, NULL);
    assert_int_equal(info_of(st, c.h).state, TB_TCP_ESTABLISHED);
    assert_int_equal(info_of(st, c.h).error, 0);
    t_stack_done(forget(st));
}

/* RFC 1191 §6.1 / RFC 1122 §4.2.3.9: "fragmentation needed" with a next-hop
 * MTU lowers the MSS (MTU - 40) and what was in flight is resent in
 * segments that fit. */
static void icmp_frag_needed_lowers_mss_and_resends(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t una = c.p.rcv_nxt;
    app_send(&c, 2920, 0);
    struct seg first;
    c_expect(&c, &first);
    assert_int_equal(first.th.payload_len, 1460);
    drain_all(st);
    icmp_about(st, c.now, TB_ICMP_UNREACH_FRAG_NEEDED, 1000, &first, NULL);
    assert_int_equal(info_of(st, c.h).mss_bytes, 960);
    assert_int_equal(stats_of(st).tcp_pmtu_decreases, 1);
    struct tb_event ev = expect_event(st, TB_EV_TCP_SOFT_ERROR, c.h);
    assert_int_equal(ev.u.soft.next_hop_mtu, 1000);
    uint32_t covered = una;
    struct seg s;
    while (next_seg(st, &s)) {
        assert_true(s.ip.total_len <= 1000);
        assert_true(s.th.payload_len <= 960);
        assert_int_equal(s.th.seq, covered);
        assert_pattern(s.th.payload, s.th.payload_len, covered - c.p.stack_isn - 1);
        covered += (uint32_t)s.th.payload_len;
    }
    assert_int_equal(covered, una + 2920);
    c.p.rcv_nxt = una + 2920;
    c_ack(&c);
    app_send(&c, 2000, 2920);
    c_expect_data(&c, 960);
    t_stack_done(forget(st));
}

/* RFC 1191 §3 / §6.3: the estimate follows the next-hop MTU down to 68, the
 * IPv4 minimum, and every datagram then fits it (28 bytes of data), never a
 * larger DF datagram that the 68-octet hop drops again. */
static void icmp_frag_needed_down_to_68_fits_the_path(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t una = c.p.rcv_nxt;
    app_send(&c, 200, 0);
    struct seg first;
    c_expect(&c, &first);
    drain_all(st);
    icmp_about(st, c.now, TB_ICMP_UNREACH_FRAG_NEEDED, 68, &first, NULL);
    assert_int_equal(info_of(st, c.h).mss_bytes, 28);
    uint32_t covered = una;
    struct seg s;
    while (next_seg(st, &s)) {
        assert_true(s.ip.total_len <= 68);
        assert_int_equal(s.th.seq, covered);
        covered += (uint32_t)s.th.payload_len;
    }
    assert_int_equal(covered, una + 200);
    t_stack_done(forget(st));
}

/* RFC 5927 §4.1 (and RFC 5961's spirit): an ICMP error quoting a sequence
 * number that is not in flight (SND.UNA =< SEG.SEQ < SND.NXT) is ignored. */
static void icmp_quoting_stale_sequence_is_ignored(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    app_send(&c, 100, 0);
    struct seg s;
    c_expect(&c, &s);
    c.p.rcv_nxt += 100;
    c_ack(&c);   /* nothing in flight now */
    icmp_about(st, c.now, 1, 0, &s, NULL);
    icmp_about(st, c.now, TB_ICMP_UNREACH_FRAG_NEEDED, 576, &s, NULL);
    app_send(&c, 100, 100);
    c_expect_data(&c, 100);   /* in flight: [pack-100, pack) */
    uint32_t ahead = c.p.rcv_nxt + 5000, behind = c.p.rcv_nxt - 101;
    icmp_about(st, c.now, 1, 0, &s, &ahead);
    icmp_about(st, c.now, 1, 0, &s, &behind);
    assert_int_equal(t_drops(st, TB_DROP_tcp_icmp_stale), 4);
    expect_no_event(st, TB_EV_TCP_SOFT_ERROR);
    expect_none(st);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.last_soft_error_icmp_type, -1);
    assert_int_equal(i.mss_bytes, 1460);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* Urgent data (RFC 6093)                                                   */
/* ======================================================================== */

/* RFC 6093 §5 / RFC 9293 §3.8.5: urgent data is delivered in line, the byte
 * stream unchanged (no byte taken out of band). */
static void urgent_data_is_delivered_inline(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_ACK | TB_TCP_URG | TB_TCP_PSH,
                                         .seq = c.p.snd_nxt,
                                         .ack = c.p.rcv_nxt,
                                         .window = 65535,
                                         .urgent = 3,
                                         .payload = (const uint8_t *)"abcdef",
                                         .payload_len = 6});
    c.p.snd_nxt += 6;
    c_send(&c, TB_TCP_ACK, "gh", 2);
    c_expect_ack(&c, c.p.snd_nxt);
    char buf[16];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 8);
    assert_memory_equal(buf, "abcdefgh", 8);
    assert_int_equal(stats_of(st).tcp_urgent_segs, 1);
    t_stack_done(forget(st));
}

/* ======================================================================== */
/* The application interface                                                */
/* ======================================================================== */

/* RFC 9293 §3.10.2 (SEND) and §3.3.1 (data stays queued until SND.UNA
 * passes it), zero-copy (DESIGN.md §3): the stack takes the chain, sends
 * from it, and gives every buffer back once it is acknowledged. */
static void send_buf_releases_chain_after_ack(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    assert_int_equal(tb_tcp_setopt(st, c.h, TB_TCP_OPT_NODELAY, 1), TB_OK);
    size_t free0 = tb_stack_pool_free(st);
    struct tb_buf *b1 = tb_stack_alloc_rx(st, 1000), *b2 = tb_stack_alloc_rx(st, 1000);
    assert_non_null(b1);
    assert_non_null(b2);
    tb_peer_fill_pat(b1->data, 1000, 0);
    tb_peer_fill_pat(b2->data, 1000, 1000);
    b1->next = b2;
    assert_int_equal(tb_tcp_send_buf(st, c.now, c.h, b1), TB_OK);
    c_expect_data(&c, 1460);
    c_expect_data(&c, 540);
    assert_int_equal(tb_stack_pool_free(st), free0 - 2);
    assert_int_equal(info_of(st, c.h).sndbuf_used_bytes, 2000);
    c.now += 10 * MS;
    c_ack(&c);
    assert_int_equal(tb_stack_pool_free(st), free0);
    assert_int_equal(info_of(st, c.h).sndbuf_used_bytes, 0);
    /* A chain larger than the free send space is refused and stays ours. */
    assert_int_equal(tb_tcp_setopt(st, c.h, TB_TCP_OPT_SNDBUF, 1024), TB_OK);
    struct tb_buf *big = tb_stack_alloc_rx(st, 1500);
    assert_non_null(big);
    assert_int_equal(tb_tcp_send_buf(st, c.now, c.h, big), TB_ERR_AGAIN);
    tb_buf_free(big);
    assert_int_equal(tb_stack_pool_free(st), free0);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.3 (RECEIVE), zero-copy: whole received buffers are lent
 * as a chain and come back to the pool when freed. */
static void recv_buf_lends_received_buffers(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_WS);
    size_t free0 = tb_stack_pool_free(st);
    uint32_t start = c.p.snd_nxt;
    c_send_data(&c, 500);
    c_send_data(&c, 700);
    c_expect_ack(&c, c.p.snd_nxt);
    struct tb_buf *chain = NULL;
    assert_int_equal(tb_tcp_recv_buf(st, c.now, c.h, &chain, 100000), 1200);
    assert_non_null(chain);
    assert_int_equal(tb_buf_chain_len(chain), 1200);
    uint8_t buf[1200];
    assert_int_equal(tb_buf_copy_out(chain, 0, buf, sizeof(buf)), 1200);
    assert_pattern(buf, 1200, start);
    expect_none(st);   /* 1200 bytes freed: no window update due */
    assert_int_equal(tb_stack_pool_free(st), free0 - 2);
    tb_buf_free(chain);
    assert_int_equal(tb_stack_pool_free(st), free0);
    assert_int_equal(tb_tcp_recv_buf(st, c.now, c.h, &chain, 100000), TB_ERR_AGAIN);
    assert_null(chain);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.2 (SEND: "insufficient resources" when the buffer cannot
 * be taken): tb_tcp_send takes what fits, then says TB_ERR_AGAIN;
 * TB_EV_TCP_WRITABLE follows when ACKs free space. */
static void full_send_buffer_returns_again_then_writable(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    assert_int_equal(tb_tcp_setopt(st, c.h, TB_TCP_OPT_SNDBUF, 1024), TB_OK);
    uint8_t data[2000];
    tb_peer_fill_pat(data, sizeof(data), 0);
    assert_int_equal(tb_tcp_send(st, c.now, c.h, data, 2000), 1024);
    c_expect_data(&c, 1024);
    assert_int_equal(tb_tcp_send(st, c.now, c.h, data + 1024, 10), TB_ERR_AGAIN);
    expect_no_event(st, TB_EV_TCP_WRITABLE);
    c.now += 10 * MS;
    c_ack(&c);
    expect_event(st, TB_EV_TCP_WRITABLE, c.h);
    assert_int_equal(tb_tcp_send(st, c.now, c.h, data + 1024, 10), 10);
    c_expect_data(&c, 10);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10 (calls on a connection that does not exist: "error:
 * connection does not exist"): anything that is not a live handle of the
 * right kind gives TB_ERR_BADCONN. */
static void bad_handles_are_rejected(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    struct tconn d;
    c_init(&d, st, T0);
    passive_open(&d, c.lh, PEER_PORT + 1, O_MSS);
    int32_t stale = d.h;
    assert_int_equal(tb_tcp_close(st, T0, stale), TB_OK);
    drain_all(st);
    const int32_t bad[] = {-1, -7, 999999, 0x3fffffff, stale, c.lh};
    uint8_t buf[8] = {0};
    struct tb_buf *chain = NULL;
    struct tb_tcp_info i;
    for (size_t k = 0; k < TB_ARRAY_LEN(bad); k++) {
        int32_t h = bad[k];
        assert_int_equal(tb_tcp_send(st, T0, h, buf, sizeof(buf)), TB_ERR_BADCONN);
        assert_int_equal(tb_tcp_recv(st, T0, h, buf, sizeof(buf)), TB_ERR_BADCONN);
        assert_int_equal(tb_tcp_recv_buf(st, T0, h, &chain, 100), TB_ERR_BADCONN);
        assert_null(chain);
        assert_int_equal(tb_tcp_shutdown(st, T0, h), TB_ERR_BADCONN);
        /* A listener keeps options for its connections. */
        assert_int_equal(tb_tcp_setopt(st, h, TB_TCP_OPT_NODELAY, 1), h == c.lh ? TB_OK : TB_ERR_BADCONN);
        assert_int_equal(tb_tcp_info(st, h, &i), TB_ERR_BADCONN);
        if (h != c.lh) {
            assert_int_equal(tb_tcp_close(st, T0, h), TB_ERR_BADCONN);
            assert_int_equal(tb_tcp_abort(st, T0, h), TB_ERR_BADCONN);
        }
        struct tb_buf *b = tb_stack_alloc_rx(st, 10);
        assert_non_null(b);
        assert_int_equal(tb_tcp_send_buf(st, T0, h, b), TB_ERR_BADCONN);
        tb_buf_free(b);
    }
    assert_int_equal(tb_tcp_accept(st, c.h), TB_ERR_BADCONN);   /* a connection is not a listener */
    assert_int_equal(tb_tcp_accept(st, -1), TB_ERR_BADCONN);
    assert_int_equal(tb_tcp_close(st, T0, c.lh), TB_OK);
    assert_int_equal(tb_tcp_accept(st, c.lh), TB_ERR_BADCONN);   /* a closed listener */
    assert_int_equal(tb_tcp_close(st, T0, c.lh), TB_ERR_BADCONN);
    assert_int_equal(info_of(st, c.h).state, TB_TCP_ESTABLISHED);   /* accepted: unaffected */
    t_stack_done(forget(st));
}

/* tb_tcp_setopt rejects values outside each option's range (RFC 9293
 * §3.8.6.3: delayed ACK below 0.5 s; RFC 6298 §2.4-2.5 minimum/maximum). */
static void setopt_rejects_out_of_range_values(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    struct { enum tb_tcp_opt opt; int64_t value; } bad[] = {
        {TB_TCP_OPT_SNDBUF, 1023},
        {TB_TCP_OPT_SNDBUF, (INT64_C(1) << 30) + 1},
        {TB_TCP_OPT_RCVBUF, 0},
        {TB_TCP_OPT_RCVBUF, INT64_MAX},
        {TB_TCP_OPT_KEEPALIVE_IDLE_NS, -1},
        {TB_TCP_OPT_KEEPALIVE_INTVL_NS, 0},
        {TB_TCP_OPT_KEEPALIVE_PROBES, 0},
        {TB_TCP_OPT_KEEPALIVE_PROBES, 1001},
        {TB_TCP_OPT_MSS, 87},
        {TB_TCP_OPT_MSS, 1461},
        {TB_TCP_OPT_RTO_MIN_NS, 0},
        {TB_TCP_OPT_RTO_MIN_NS, 61 * SEC},
        {TB_TCP_OPT_RTO_MAX_NS, 199 * MS},
        {TB_TCP_OPT_MAX_RETRIES, 0},
        {TB_TCP_OPT_MAX_RETRIES, 101},
        {TB_TCP_OPT_DELACK_NS, -1},
        {TB_TCP_OPT_DELACK_NS, 500 * MS},
        {(enum tb_tcp_opt)99, 1},
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(bad); k++)
        if (tb_tcp_setopt(st, c.h, bad[k].opt, bad[k].value) != TB_ERR_INVAL)
            fail_msg("case %zu: option %d value %lld accepted", k, (int)bad[k].opt, (long long)bad[k].value);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.mss_bytes, 1460);
    assert_int_equal(i.rto_ns, cfg.tcp_rto_min_ns);
    struct { enum tb_tcp_opt opt; int64_t value; } good[] = {
        {TB_TCP_OPT_SNDBUF, 1024}, {TB_TCP_OPT_RCVBUF, INT64_C(1) << 30}, {TB_TCP_OPT_KEEPALIVE_PROBES, 1000},
        {TB_TCP_OPT_MSS, 88},      {TB_TCP_OPT_MSS, 1460},                {TB_TCP_OPT_MAX_RETRIES, 100},
        {TB_TCP_OPT_DELACK_NS, 0}, {TB_TCP_OPT_DELACK_NS, 499 * MS},     {TB_TCP_OPT_KEEPALIVE_IDLE_NS, 0},
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(good); k++)
        if (tb_tcp_setopt(st, c.h, good[k].opt, good[k].value) != TB_OK)
            fail_msg("case %zu: option %d value %lld refused", k, (int)good[k].opt, (long long)good[k].value);
    t_stack_done(forget(st));
}

/* RFC 6528 §3 / RFC 9293 §3.4.1: ISNs come from a keyed function: stacks
 * seeded differently choose different ISNs for the same 4-tuple, the same
 * seed the same ISN (determinism), and 4-tuples differ from each other. */
static void isn_depends_on_seed_and_4_tuple(void **state) {
    (void)state;
    uint32_t isn[3];
    const uint64_t seeds[3] = {1, 2, 1};
    for (int k = 0; k < 3; k++) {
        struct tb_config cfg;
        tcp_cfg(&cfg);
        cfg.seed = seeds[k];
        struct tb_stack *st = tcp_stack(&cfg);
        struct tconn c;
        c_init(&c, st, T0);
        c.lh = listen80(st);
        struct seg s;
        passive_syn(&c, PEER_PORT, O_MSS, &s);
        isn[k] = c.p.stack_isn;
        if (k == 0) {
            struct tconn d;
            c_init(&d, st, T0);
            d.lh = c.lh;
            passive_syn(&d, PEER_PORT + 1, O_MSS, &s);
            assert_int_not_equal(d.p.stack_isn, c.p.stack_isn);
        }
        t_stack_done(forget(st));
    }
    assert_int_not_equal(isn[0], isn[1]);
    assert_int_equal(isn[0], isn[2]);
}

/* ======================================================================== */
/* Issue 9: bugs an independent probe found; each test fails without its fix */
/* ======================================================================== */

/* RFC 9293 §3.7.1: the effective send MSS deducts the options a segment
 * actually carries. With data from the peer held out of order, every
 * segment we send carries SACK blocks; a full-sized data segment must
 * shrink to fit them into the MTU, not vanish at the IP layer. */
static void sack_blocks_never_push_data_past_the_mtu(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_ALL);
    assert_true(c.p.ts_on);
    c_send_data_at(&c, c.p.snd_nxt + 1000, 100);   /* a hole: held out of order */
    struct seg s;
    c_expect(&c, &s);
    assert_int_equal(s.th.opts.sack_count, 1);
    app_send(&c, 4000, 0);
    uint32_t got = 0;
    size_t segs = 0;
    for (int idle = 0; got < 4000 && idle < 3;) {
        if (!next_seg(st, &s)) {   /* Nagle holds the short tail until an ACK */
            c.p.rcv_nxt = c.p.stack_isn + 1 + got;
            c_ack(&c);
            idle++;
            continue;
        }
        tb_peer_learn(&c.p, &s.th);
        if (s.th.payload_len == 0) continue;
        segs++;
        assert_true(s.ip.total_len <= cfg.mtu);
        assert_true(s.th.opts.sack_count >= 1);   /* the blocks are kept, the data shrinks */
        /* data + options within the peer's MSS (1460) */
        assert_true(s.th.payload_len + (s.th.header_len - TB_TCP_HDR_LEN) <= 1460);
        assert_int_equal(s.th.seq, c.p.stack_isn + 1 + got);
        assert_pattern(s.th.payload, s.th.payload_len, got);
        got += (uint32_t)s.th.payload_len;
    }
    assert_int_equal(got, 4000);
    assert_true(segs >= 3);
    struct tb_stats stt = stats_of(st);
    for (size_t r = 0; r < TB_DROP__COUNT; r++)
        if (stt.drops[r] != 0 && r != TB_DROP_tcp_ooo_full)
            fail_msg("unexpected drop %s", tb_drop_reason_name((enum tb_drop_reason)r));
    t_stack_done(forget(st));
}

/* RFC 9293 §3.5 Figure 7: simultaneous open. Our SYN and the peer's cross;
 * we answer the peer's SYN with a SYN-ACK; the peer's SYN-ACK
 * <SEQ=IRS><ACK=ISS+1> completes the handshake on our side. */
static void simultaneous_open_completes(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = c.p.isn, .window = 65535, .opts = o});
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_SYN | TB_TCP_ACK);
    assert_int_equal(s.th.seq, c.p.stack_isn);
    assert_int_equal(s.th.ack, c.p.isn + 1);
    assert_int_equal(state_of(&c), TB_TCP_SYN_RECEIVED);
    c.now += 10 * MS;
    c_send_seg(
        &c,
        &(struct tb_peer_seg){
            .flags = TB_TCP_SYN | TB_TCP_ACK, .seq = c.p.isn, .ack = c.p.stack_isn + 1, .window = 65535, .opts = o});
    c.p.snd_nxt = c.p.isn + 1;
    c_expect_ack(&c, c.p.snd_nxt);
    expect_none(st);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    expect_event(st, TB_EV_TCP_CONNECTED, c.h);
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    t_stack_done(forget(st));
}

/* RFC 9293 MUST-16 and RFC 6691: never more than the peer's MSS, whatever
 * it is; timestamps come off it, and an MSS too small for them still
 * carries one byte (no underflow, no 88-byte floor). */
static void tiny_peer_mss_is_never_exceeded(void **state) {
    (void)state;
    const uint16_t mss_values[] = {1, 11, 12, 13, 40, 87, 100, 537};
    for (size_t k = 0; k < TB_ARRAY_LEN(mss_values); k++) {
        uint16_t peer_mss = mss_values[k];
        struct tb_config cfg;
        tcp_cfg(&cfg);
        struct tb_stack *st = tcp_stack(&cfg);
        struct tconn c;
        c_init(&c, st, T0);
        int32_t lh = listen80(st);
        struct tb_tcp_opts o = syn_opts(O_MSS | O_TS | O_SACK, peer_mss, 0, c.p.ts_val, 0);
        struct seg synack;
        passive_syn_opts(&c, PEER_PORT, &o, &synack);
        c_ack(&c);
        c.h = tb_tcp_accept(st, lh);
        assert_true(c.h >= 0);
        uint32_t want = peer_mss > 12 ? peer_mss - 12u : 1u;
        assert_int_equal(info_of(st, c.h).mss_bytes, want);
        app_send(&c, 300, 0);
        uint32_t got = 0;
        for (int round = 0; round < 400 && got < 300; round++) {
            struct seg s;
            if (!next_seg(st, &s)) {
                c.p.rcv_nxt = c.p.stack_isn + 1 + got;
                c.now += 1 * MS;
                c_ack(&c);
                continue;
            }
            tb_peer_learn(&c.p, &s.th);
            if (s.th.payload_len == 0) continue;
            if (s.th.payload_len > want) fail_msg("peer MSS %u: %zu payload bytes", peer_mss, s.th.payload_len);
            if (s.th.seq == c.p.stack_isn + 1 + got) got += (uint32_t)s.th.payload_len;
        }
        assert_int_equal(got, 300);
        t_stack_done(forget(st));
    }
}

/* RFC 7323 §2.2-2.3: the shift offered in our SYN holds for the whole
 * connection, even if the receive buffer is resized after connect. */
static void window_scale_is_fixed_by_the_syn(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg syn;
    active_syn(&c, &syn);
    assert_true(syn.th.opts.has_wscale);
    uint8_t offered = syn.th.opts.wscale;
    assert_int_equal(tb_tcp_setopt(st, c.h, TB_TCP_OPT_RCVBUF, 64 << 20), TB_OK);
    struct tb_tcp_opts o = syn_opts(O_MSS | O_WS, 1460, 7, 0, 0);
    c_send_seg(&c,
               &(struct tb_peer_seg){
                   .flags = TB_TCP_SYN | TB_TCP_ACK, .seq = c.p.isn, .ack = c.p.rcv_nxt, .window = 65535, .opts = o});
    c.p.snd_nxt = c.p.isn + 1;
    uint16_t field = c_expect_ack(&c, c.p.snd_nxt);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.rcv_wscale, offered);
    /* The window the peer reads (field << offered) is the window we mean. */
    assert_true(((uint64_t)field << offered) <= i.rcv_wnd_bytes + (1u << offered));
    t_stack_done(forget(st));
}

/* Options set before the connection exists shape its SYN (connect) or its
 * SYN-ACK (a listener's options, inherited): RCVBUF the window scale
 * offered (RFC 7323 §2.2), MSS the MSS announced (RFC 9293 §3.7.1). A
 * refused option fails the connect with nothing sent. */
static void options_before_the_syn_shape_it(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    const struct tb_tcp_optval small[] = {{TB_TCP_OPT_RCVBUF, 16384}, {TB_TCP_OPT_MSS, 1000}};
    c.h = tb_tcp_connect_opts(st, T0, 0, T_IP_PEER, US_PORT, small, TB_ARRAY_LEN(small));
    assert_true(c.h >= 0);
    struct seg syn;
    expect_seg(st, &syn);
    assert_int_equal(syn.th.flags, TB_TCP_SYN);
    assert_true(syn.th.opts.has_wscale);
    assert_int_equal(syn.th.opts.wscale, 0);   /* 16 KiB fits the 16-bit field */
    assert_int_equal(syn.th.opts.mss, 1000);
    assert_int_equal(syn.th.window, 16384);
    const struct tb_tcp_optval bad[] = {{TB_TCP_OPT_RCVBUF, 1 << 20}, {TB_TCP_OPT_MSS, 5}};
    assert_int_equal(tb_tcp_connect_opts(st, T0, 0, T_IP_PEER, US_PORT, bad, TB_ARRAY_LEN(bad)), TB_ERR_INVAL);
    expect_none(st);
    assert_int_equal(tb_tcp_connect_opts(st, T0, 0, T_IP_PEER, US_PORT, NULL, TB_TCP_MAX_PRESET_OPTS + 1),
                     TB_ERR_INVAL);

    int32_t lh = listen80(st);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_RCVBUF, 1 << 20), TB_OK);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_MSS, 900), TB_OK);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_MSS, 5), TB_ERR_INVAL);   /* refused, 900 kept */
    struct tconn p;
    c_init(&p, st, T0);
    struct seg synack;
    passive_syn(&p, PEER_PORT, O_MSS | O_WS, &synack);
    assert_int_equal(synack.th.opts.mss, 900);
    assert_int_equal(synack.th.opts.wscale, 5);   /* 1 MiB >> 5 fits 16 bits */
    /* The whole list is checked in a child's order: a floor above the
     * ceiling set before it is refused, as on a connection. */
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_RTO_MIN_NS, 100 * MS), TB_OK);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_RTO_MAX_NS, 150 * MS), TB_OK);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_RTO_MIN_NS, 300 * MS), TB_ERR_INVAL);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_RTO_MIN_NS, 120 * MS), TB_OK);
    t_stack_done(forget(st));

    /* A SYN cookie's SYN-ACK is the listener's too: its MSS and window. */
    tcp_cfg(&cfg);
    cfg.tcp_syn_queue_len = 1;
    st = tcp_stack(&cfg);
    lh = listen80(st);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_RCVBUF, 4096), TB_OK);
    assert_int_equal(tb_tcp_setopt(st, lh, TB_TCP_OPT_MSS, 536), TB_OK);
    c_init(&p, st, T0);
    passive_syn(&p, PEER_PORT, O_MSS, &synack);   /* fills the SYN queue */
    struct tconn q;
    c_init(&q, st, T0);
    passive_syn(&q, PEER_PORT + 1, O_MSS, &synack);
    assert_int_equal(stats_of(st).tcp_syncookies_sent, 1);
    assert_int_equal(synack.th.opts.mss, 536);
    assert_int_equal(synack.th.window, 4096);
    t_stack_done(forget(st));
}

/* RFC 6298 §5 and RFC 1122 §4.2.3.1 (Karn): an ACK for retransmitted data
 * gives no RTT sample, so the backed-off RTO is kept for the next segment
 * instead of collapsing back to the old RTO (which would send every
 * segment several times on a path whose RTT grew). */
static void ambiguous_ack_keeps_the_backed_off_rto(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rto_min_ns = 100 * MS;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);   /* no timestamps */
    tb_time_ns rto = info_of(st, c.h).rto_ns;
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    tb_stack_tick(st, tb_stack_next_deadline(st));
    drain_all(st);
    tb_stack_tick(st, tb_stack_next_deadline(st));
    drain_all(st);
    assert_int_equal(info_of(st, c.h).backoff, 2);
    c.now = tb_stack_next_deadline(st) - 1;   /* the RTT grew: the ACK arrives late */
    c_ack(&c);
    app_send(&c, 100, 100);
    c_expect_data(&c, 100);
    tb_time_ns next = tb_stack_next_deadline(st) - c.now;
    assert_true(next >= 4 * rto);   /* still backed off twice */
    t_stack_done(forget(st));
}

/* RFC 4987 and MUST-16: a SYN cookie encodes an MSS no larger than the
 * client's. */
static void syn_cookie_mss_never_exceeds_the_clients(void **state) {
    (void)state;
    const uint16_t client_mss[] = {100, 40, 1};
    for (size_t k = 0; k < TB_ARRAY_LEN(client_mss); k++) {
        struct tb_config cfg;
        tcp_cfg(&cfg);
        cfg.tcp_syn_queue_len = 1;
        struct tb_stack *st = tcp_stack(&cfg);
        int32_t lh = listen80(st);
        struct tconn a, b;
        struct seg s;
        c_init(&a, st, T0);
        a.lh = lh;
        passive_syn(&a, PEER_PORT, O_MSS, &s);   /* fills the SYN queue */
        c_init(&b, st, T0);
        b.lh = lh;
        struct tb_tcp_opts o = syn_opts(O_MSS, client_mss[k], 0, 0, 0);
        passive_syn_opts(&b, PEER_PORT + 1, &o, &s);
        assert_int_equal(stats_of(st).tcp_syncookies_sent, 1);
        c_ack(&b);
        expect_event(st, TB_EV_TCP_ACCEPTABLE, lh);
        b.h = tb_tcp_accept(st, lh);
        assert_true(b.h >= 0);
        assert_true(info_of(st, b.h).mss_bytes <= client_mss[k]);
        app_send(&b, 500, 0);
        struct seg d;
        while (next_seg(st, &d)) assert_true(d.th.payload_len <= client_mss[k]);
        t_stack_done(forget(st));
    }
}

/* RFC 9293 §3.8.6.2.2: after a zero window, the update goes out as soon
 * as min(RCV.BUFF/2, MSS) is free, not only at twice the MSS. */
static void window_update_after_zero_window_at_one_mss(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rcvbuf_bytes = 8 * 1460;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    for (int k = 0; k < 8; k++) c_send_data(&c, 1460);
    drain_all(st);
    uint8_t buf[1460];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), 1460);
    struct seg s;
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_ACK);
    assert_int_equal(s.th.ack, c.p.snd_nxt);
    assert_true(s.th.window >= 1460);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.2.2 (RFC 1122 §4.2.3.3): the receiver's threshold is
 * min(Fr * RCV.BUFF, Eff.snd.MSS), "its own Eff.snd.MSS": with a peer MSS
 * of 1000 (ours 1460) the update after a zero window goes out when 1000
 * bytes are free, not 1460. */
static void window_update_threshold_is_the_send_mss(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_rcvbuf_bytes = 4096;
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1000, 0, 0, 0);
    struct seg s;
    passive_syn_opts(&c, PEER_PORT, &o, &s);
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    for (int k = 0; k < 4; k++) c_send_data(&c, 1000);
    c_send_data(&c, 96);   /* 4096: the window is full */
    drain_all(st);
    uint8_t buf[1000];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, 999), 999);
    expect_none(st);   /* 999 < 1000: the right edge stays */
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, 1), 1);
    c_expect(&c, &s);
    assert_int_equal(s.th.flags, TB_TCP_ACK);
    assert_int_equal(s.th.ack, c.p.snd_nxt);
    assert_int_equal(s.th.window, 1000);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.9.1.1 MUST-46 (RFC 1122 §3.2.1.3): an active OPEN to a
 * broadcast or multicast address (or class E) is rejected as an error and
 * sends nothing: limited and directed broadcast on a /24, multicast, and
 * with every address on the link (prefix 0, as the script checker has it). */
static void connect_to_broadcast_or_multicast_is_refused(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    const uint32_t bad[] = {0xffffffffu, 0x0a0000ffu, 0xe0000005u, 0xeffffffau, 0xf0000001u};
    for (size_t k = 0; k < TB_ARRAY_LEN(bad); k++) {
        if (tb_tcp_connect(st, T0, bad[k], 80) != TB_ERR_INVAL) fail_msg("connect to %08x not refused", bad[k]);
        expect_none(st);
    }
    t_stack_done(forget(st));
    cfg.ipv4_prefix_len = 0;
    cfg.ipv4_gateway = 0;
    st = tcp_stack(&cfg);
    for (size_t k = 0; k < TB_ARRAY_LEN(bad); k++) {
        if (k == 1) continue;   /* no directed broadcast without a subnet */
        if (tb_tcp_connect(st, T0, bad[k], 80) != TB_ERR_INVAL) fail_msg("prefix 0: connect to %08x not refused", bad[k]);
        expect_none(st);
    }
    assert_true(tb_tcp_connect(st, T0, T_IP_PEER, 80) >= 0);   /* a unicast one still goes */
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.2.1 rule 3 with §3.7.4 (RFC 1122 §4.2.3.4): with Nagle
 * on, a segment of at least Fs * Max(SND.WND) but below Eff.snd.MSS goes
 * only when nothing is outstanding ("[SND.NXT = SND.UNA and]", the
 * condition the Nagle algorithm imposes). Peer window 1000, MSS 1460. */
static void nagle_holds_half_window_segments_while_unacked(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    c.p.window = 1000;
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    struct seg s;
    passive_syn_opts(&c, PEER_PORT, &o, &s);
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    app_send(&c, 3000, 0);
    c_expect_data(&c, 1000);   /* the whole window, nothing outstanding */
    expect_none(st);
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt - 500, NULL, 0);   /* 500 still out */
    expect_none(st);   /* 500 bytes would fit, but 500 are unacknowledged */
    c_ack(&c);
    c_expect_data(&c, 1000);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.6.1 MUST-37: a FIN sent into a zero window (an RFC
 * receiver does not take it: SEG.LEN 1, RCV.WND 0) is what probes the
 * window; while every retransmission is answered with a zero-window ACK
 * the connection stays open, past max_retries. */
static void answered_fin_into_zero_window_never_times_out(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_max_retries = 2;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    c.p.window = 0;
    c_ack(&c);
    expect_none(st);
    assert_int_equal(tb_tcp_shutdown(st, c.now, c.h), TB_OK);
    struct seg s;
    c_expect(&c, &s);
    assert_true(s.th.flags & TB_TCP_FIN);
    for (int k = 0; k < 8; k++) {
        c_ack(&c);   /* ack = the FIN's sequence number: not taken */
        expect_none(st);
        c.now = tb_stack_next_deadline(st);
        tb_stack_tick(st, c.now);
        c_expect(&c, &s);
        if (!(s.th.flags & TB_TCP_FIN)) fail_msg("round %d: no FIN retransmission", k);
    }
    expect_no_event(st, TB_EV_TCP_ERROR);
    struct tb_tcp_info i = info_of(st, c.h);
    assert_int_equal(i.state, TB_TCP_FIN_WAIT_1);
    assert_int_equal(i.error, 0);
    c.p.window = 65535;
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt + 1, NULL, 0);   /* the FIN taken at last */
    assert_int_equal(info_of(st, c.h).state, TB_TCP_FIN_WAIT_2);
    t_stack_done(forget(st));

    /* Closed by the application instead: it gives up after max_retries
     * (the peer cannot hold it open for ever). */
    st = open_default(&c, &cfg, O_MSS);
    c.p.window = 0;
    c_ack(&c);
    assert_int_equal(tb_tcp_close(st, c.now, c.h), TB_OK);
    c_expect(&c, &s);
    assert_true(s.th.flags & TB_TCP_FIN);
    int rounds = 0;
    for (; rounds < 20; rounds++) {
        c_ack(&c);
        tb_time_ns d = tb_stack_next_deadline(st);
        if (d == TB_TIME_NEVER) break;
        c.now = d;
        tb_stack_tick(st, c.now);
        if (!next_seg(st, &s) || (s.th.flags & TB_TCP_RST)) break;
    }
    assert_true(rounds <= (int)cfg.tcp_max_retries + 1);
    assert_int_equal(stats_of(st).tcp_conns_timed_out, 1);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.10.7.4 fifth check: the send window is updated only if
 * SND.UNA =< SEG.ACK; an old ACK (here with newer data) carrying a zero
 * window must not close it. */
static void old_ack_does_not_update_the_window(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t old_ack = c.p.rcv_nxt;
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    c_ack(&c);   /* acknowledges the 100 bytes, window 65535 */
    c_send_data(&c, 10);   /* the window's last update comes from this segment */
    drain_all(st);
    uint8_t data[10];
    tb_peer_fill_pat(data, 10, c.p.snd_nxt);
    c.p.window = 0;
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, old_ack, data, 10);   /* an old ACK, newer data */
    c.p.snd_nxt += 10;
    c.p.window = 65535;
    drain_all(st);
    assert_true(info_of(st, c.h).snd_wnd_bytes > 0);
    app_send(&c, 50, 100);
    c_expect_data(&c, 50);
    t_stack_done(forget(st));
}

/* RFC 5681 §4.1: after more than an RTO without sending data, cwnd
 * restarts from the initial window; pure ACKs sent meanwhile (the peer
 * was sending) do not count as sending. */
static void idle_restart_ignores_pure_acks(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_delack_ns = 0;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t sent_end = c.p.rcv_nxt;
    for (int round = 0; round < 8; round++) {   /* slow start well past the initial window */
        app_send(&c, 8000, 0);
        for (int pass = 0; pass < 50; pass++) {   /* one ACK per segment, until all is acknowledged */
            uint32_t ends[64];
            size_t n = 0;
            struct seg s;
            while (n < TB_ARRAY_LEN(ends) && next_seg(st, &s))
                if (s.th.payload_len > 0) ends[n++] = s.th.seq + (uint32_t)s.th.payload_len;
            if (n == 0) break;
            c.now += 10 * MS;
            for (size_t k = 0; k < n; k++) {
                if ((int32_t)(ends[k] - sent_end) > 0) sent_end = ends[k];
                c.p.rcv_nxt = ends[k];
                c_ack(&c);
            }
        }
    }
    c.p.rcv_nxt = sent_end;
    uint32_t iw = 14600;   /* RFC 6928 for a 1460-byte MSS */
    assert_true(info_of(st, c.h).cwnd_bytes > 3 * iw);
    for (int k = 0; k < 50; k++) {   /* 5 s in which only the peer sends, every 100 ms (< RTO); we ACK */
        c.now += 100 * MS;
        c_send_data(&c, 100);
        c_expect_ack(&c, c.p.snd_nxt);
    }
    uint8_t sink[8000];
    app_recv_all(&c, sink, sizeof(sink));
    drain_all(st);
    uint8_t big[8192];
    tb_peer_fill_pat(big, sizeof(big), 0);
    size_t burst = 0;
    for (int k = 0; k < 6; k++) assert_true(tb_tcp_send(st, c.now, c.h, big, sizeof(big)) > 0);
    struct seg s;
    while (next_seg(st, &s)) burst += s.th.payload_len;
    assert_true(burst <= iw);
    t_stack_done(forget(st));
}

/* RFC 5681 §3.1 eq. 2: in slow start an ACK grows cwnd by min(N, SMSS), never
 * more (RFC 3465's L = 2*SMSS "is not allowed as part of the standard"): an
 * ACK of two segments frees two and adds one, three segments in all. */
static void slow_start_grows_one_smss_per_ack(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint32_t mss = info_of(st, c.h).mss_bytes;
    for (uint32_t k = 0; k < 4; k++) app_send(&c, 8000, k * 8000);
    assert_int_equal(drain_all(st), 10);   /* RFC 6928 IW */
    uint32_t cwnd = info_of(st, c.h).cwnd_bytes;
    c.now += 10 * MS;
    c.p.rcv_nxt += 2 * mss;
    c_ack(&c);
    assert_int_equal(info_of(st, c.h).cwnd_bytes, cwnd + mss);
    assert_int_equal(drain_all(st), 3);
    t_stack_done(forget(st));
}

/* RFC 6675 SetPipe (§4) and §5.1, RFC 5681 §3.1: after an RTO every
 * unacknowledged segment is lost, and a lost segment sent again counts once
 * in pipe, not twice; so the ACK of the first retransmission (cwnd 2 SMSS)
 * sends the next two segments, not one. */
static void retransmission_of_a_lost_segment_counts_once_in_pipe(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);   /* no SACK: the scoreboard alone */
    uint32_t mss = info_of(st, c.h).mss_bytes;
    app_send(&c, 3 * mss, 0);
    assert_int_equal(drain_all(st), 3);
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    struct seg s;
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, c.p.rcv_nxt);   /* RFC 6298 §5.4: the earliest, alone (LW = 1 SMSS) */
    expect_none(st);
    c.now += 10 * MS;
    c.p.rcv_nxt += mss;
    c_ack(&c);
    assert_int_equal(info_of(st, c.h).cwnd_bytes, 2 * mss);
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, c.p.rcv_nxt);
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, c.p.rcv_nxt + mss);
    expect_none(st);
    t_stack_done(forget(st));
}

/* RFC 8985 §6.3 and RFC 6675 §5 (4.3): when the RACK reordering timer marks
 * a segment lost and starts recovery, that segment is retransmitted then,
 * not an RTO later (no ACK arrives to give PRR a delivery to clock it). */
static void rack_timer_loss_is_retransmitted_at_once(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct seg s;
    passive_syn(&c, PEER_PORT, O_MSS | O_SACK, &s);
    c.now += 100 * MS;   /* min_RTT 100 ms: reo_wnd 25 ms */
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    uint32_t mss = info_of(st, c.h).mss_bytes;
    app_send(&c, 4 * mss, 0);
    assert_int_equal(drain_all(st), 4);
    c.now += 100 * MS;
    struct tb_peer_seg a = {.flags = TB_TCP_ACK, .seq = c.p.snd_nxt, .ack = c.p.rcv_nxt, .window = c.p.window};
    a.opts.sack_count = 1;
    a.opts.sack[0].left = c.p.rcv_nxt + mss;
    a.opts.sack[0].right = c.p.rcv_nxt + 2 * mss;
    c_send_seg(&c, &a);
    expect_none(st);
    tb_time_ns at = tb_stack_next_deadline(st);
    assert_true(at <= c.now + 25 * MS);
    tb_stack_tick(st, at);
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, c.p.rcv_nxt);
    expect_none(st);
    t_stack_done(forget(st));
}

/* RFC 8985 §6.2 step 3: segments SACKed by one ACK arrived together; a
 * lower block listed after a higher one (RFC 2018 §4 puts the newest first)
 * is not reordering. Four segments SACKed above the first, no reordering
 * seen: reo_wnd is 0 and the first is retransmitted at once. */
static void sack_block_order_is_not_reordering(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct seg s;
    passive_syn(&c, PEER_PORT, O_MSS | O_SACK, &s);
    c.now += 100 * MS;
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    uint32_t mss = info_of(st, c.h).mss_bytes, una = c.p.rcv_nxt;
    app_send(&c, 5 * mss, 0);
    assert_int_equal(drain_all(st), 5);
    c.now += 100 * MS;
    struct tb_peer_seg a = {.flags = TB_TCP_ACK, .seq = c.p.snd_nxt, .ack = una, .window = c.p.window};
    a.opts.sack_count = 2;
    a.opts.sack[0].left = una + 2 * mss;   /* segments 3-5, the newest block first */
    a.opts.sack[0].right = una + 5 * mss;
    a.opts.sack[1].left = una + mss;       /* segment 2 */
    a.opts.sack[1].right = una + 2 * mss;
    c_send_seg(&c, &a);
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, una);
    t_stack_done(forget(st));
}

/* RFC 8985 §7.4.2: a retransmitted loss probe acknowledged without a D-SACK
 * repaired a loss; the first ACK beyond TLP.end_seq makes congestion control
 * react (cwnd down to ssthresh, no slow-start growth). */
static void tlp_that_repaired_a_loss_reduces_cwnd(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct seg s;
    passive_syn(&c, PEER_PORT, O_MSS | O_SACK, &s);
    c.now += 100 * MS;
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    uint32_t mss = info_of(st, c.h).mss_bytes;
    app_send(&c, 2 * mss, 0);
    assert_int_equal(drain_all(st), 2);
    c.now += 100 * MS;
    c.p.rcv_nxt += mss;
    c_ack(&c);   /* the second segment is lost */
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    expect_seg(st, &s);   /* the probe: the last segment again */
    assert_int_equal(s.th.seq, c.p.rcv_nxt);
    c.now += 100 * MS;
    c.p.rcv_nxt += mss;
    c_ack(&c);   /* exactly TLP.end_seq, no D-SACK: undecided */
    uint32_t cwnd = info_of(st, c.h).cwnd_bytes;
    app_send(&c, 4 * mss, 2 * mss);
    assert_int_equal(drain_all(st), 4);
    c.now += 100 * MS;
    c.p.rcv_nxt += mss;
    c_ack(&c);   /* beyond TLP.end_seq: the probe repaired a loss */
    assert_true(info_of(st, c.h).cwnd_bytes < cwnd);
    t_stack_done(forget(st));
}

/* A SACKing connection with min_RTT 100 ms (reo_wnd 25 ms) and n segments
 * out; returns the first's sequence number. */
static uint32_t rack_conn(struct tconn *c, struct tb_stack *st, uint32_t n) {
    c_init(c, st, T0);
    c->lh = listen80(st);
    struct seg s;
    passive_syn(c, PEER_PORT, O_MSS | O_SACK, &s);
    c->now += 100 * MS;
    c_ack(c);
    c->h = tb_tcp_accept(st, c->lh);
    assert_true(c->h >= 0);
    app_send(c, n * info_of(st, c->h).mss_bytes, 0);
    assert_int_equal(drain_all(st), n);
    return c->p.rcv_nxt;
}

static void peer_sack(struct tconn *c, uint32_t ack, uint32_t left, uint32_t right) {
    struct tb_peer_seg a = {.flags = TB_TCP_ACK, .seq = c->p.snd_nxt, .ack = ack, .window = c->p.window};
    a.opts.sack_count = 1;
    a.opts.sack[0].left = left;
    a.opts.sack[0].right = right;
    c_send_seg(c, &a);
}

/* RFC 2883 §4 and RFC 3708: the D-SACK of a spurious retransmission often
 * comes after the ACK that retired everything; it still counts (undo). */
static void dsack_with_nothing_outstanding_still_counts(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    uint32_t una = rack_conn(&c, st, 4);
    uint32_t mss = info_of(st, c.h).mss_bytes, cwnd = info_of(st, c.h).cwnd_bytes;
    c.now += 100 * MS;
    peer_sack(&c, una, una + mss, una + 2 * mss);
    c.now = tb_stack_next_deadline(st);   /* RACK's reordering timer */
    tb_stack_tick(st, c.now);
    struct seg s;
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, una);   /* spurious: the original is only late */
    c.now += 5 * MS;
    c.p.rcv_nxt = una + 4 * mss;
    c_ack(&c);
    assert_true(info_of(st, c.h).cwnd_bytes < cwnd);
    c.now += 95 * MS;
    peer_sack(&c, una + 4 * mss, una, una + mss);   /* the D-SACK */
    assert_true(info_of(st, c.h).cwnd_bytes >= cwnd);
    assert_int_equal(stats_of(st).tcp_spurious_undos, 1);
    t_stack_done(forget(st));

    /* RFC 3708 §3: a D-SACK of a segment never retransmitted (a duplicate
     * the network made) says nothing of the retransmission: no undo. */
    st = tcp_stack(&cfg);
    una = rack_conn(&c, st, 4);
    c.now += 100 * MS;
    peer_sack(&c, una, una + mss, una + 2 * mss);
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    expect_seg(st, &s);
    c.now += 5 * MS;
    c.p.rcv_nxt = una + 4 * mss;
    c_ack(&c);
    uint32_t reduced = info_of(st, c.h).cwnd_bytes;
    c.now += 95 * MS;
    peer_sack(&c, una + 4 * mss, una + 3 * mss, una + 4 * mss);
    assert_int_equal(stats_of(st).tcp_spurious_undos, 0);
    assert_int_equal(info_of(st, c.h).cwnd_bytes, reduced);
    t_stack_done(forget(st));
}

/* RFC 8985 §6.2 step 4: reo_wnd_mult starts at 1 and the first D-SACK makes
 * it 2: reo_wnd = 2 * min_RTT / 4 = 50 ms. */
static void first_dsack_doubles_the_reordering_window(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    uint32_t una = rack_conn(&c, st, 5);
    uint32_t mss = info_of(st, c.h).mss_bytes;
    c.now += 100 * MS;
    peer_sack(&c, una, una + mss, una + 2 * mss);
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    struct seg s;
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, una);
    c.now += 5 * MS;
    peer_sack(&c, una + 2 * mss, una, una + mss);   /* the original came; then the D-SACK of the copy */
    drain_all(st);
    c.now += 100 * MS;
    peer_sack(&c, una + 2 * mss, una + 3 * mss, una + 4 * mss);   /* the third is lost */
    drain_all(st);
    tb_time_ns sack_at = c.now;
    tb_time_ns at = tb_stack_next_deadline(st);
    tb_stack_tick(st, at);
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, una + 2 * mss);
    /* sent at T0+100 ms, SACK of the fourth (same send time) RTT later; deadline = xmit + RACK.rtt + 50 ms */
    assert_true(at - sack_at >= 45 * MS);
    t_stack_done(forget(st));
}

/* RFC 8985 §7.3: no loss probe unless an RTT sample came since the last
 * one; the RTO guards the tail instead. */
static void no_probe_without_an_rtt_sample_since_the_last(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    uint32_t una = rack_conn(&c, st, 2);
    uint32_t mss = info_of(st, c.h).mss_bytes;
    c.now += 100 * MS;
    c.p.rcv_nxt = una + mss;
    c_ack(&c);   /* a sample: SRTT 100 ms */
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    struct seg s;
    expect_seg(st, &s);   /* the probe */
    assert_int_equal(s.th.seq, una + mss);
    assert_int_equal(stats_of(st).tcp_tlp_probes, 1);
    c.now += 100 * MS;
    c.p.rcv_nxt = una + 2 * mss;
    c_ack(&c);   /* acknowledges the probe: no sample (Karn) */
    app_send(&c, 2 * mss, 2 * mss);
    assert_int_equal(drain_all(st), 2);
    tb_time_ns srtt = info_of(st, c.h).srtt_ns;
    assert_true(tb_stack_next_deadline(st) - c.now > 2 * srtt);   /* no PTO: the RTO */
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, una + 2 * mss);   /* the RTO's retransmission, not a probe */
    assert_int_equal(stats_of(st).tcp_tlp_probes, 1);
    t_stack_done(forget(st));
}

/* RFC 8985 §7.2: no PTO in RTO recovery, even once an RTT sample has come
 * (timestamps make the ACK of the RTO's retransmission a valid sample). */
static void no_loss_probe_in_rto_recovery(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    c.lh = listen80(st);
    struct seg s;
    passive_syn(&c, PEER_PORT, O_MSS | O_SACK | O_TS, &s);
    c.now += 100 * MS;
    c_ack(&c);
    c.h = tb_tcp_accept(st, c.lh);
    assert_true(c.h >= 0);
    uint32_t una = c.p.rcv_nxt, mss = info_of(st, c.h).mss_bytes;
    app_send(&c, 3 * mss, 0);
    assert_int_equal(drain_all(st), 3);
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    expect_seg(st, &s);   /* the probe */
    assert_int_equal(stats_of(st).tcp_tlp_probes, 1);
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    c_expect(&c, &s);   /* the RTO's retransmission; the peer learns its TSval */
    assert_int_equal(s.th.seq, una);
    c.now += 100 * MS;
    c.p.rcv_nxt = una + mss;
    c_ack(&c);   /* echoes it: a valid sample */
    assert_int_equal(drain_all(st), 2);
    tb_time_ns srtt = info_of(st, c.h).srtt_ns;
    assert_true(tb_stack_next_deadline(st) - c.now > 2 * srtt);   /* the RTO, no PTO */
    c.now = tb_stack_next_deadline(st);
    tb_stack_tick(st, c.now);
    expect_seg(st, &s);
    assert_int_equal(s.th.seq, una + mss);
    assert_int_equal(stats_of(st).tcp_tlp_probes, 1);
    t_stack_done(forget(st));
}

/* RFC 2018 §8: after an RTO the left edge is retransmitted even if it was
 * SACKed (the receiver may have reneged); without it, data all SACKed and
 * never acknowledged was never sent again. */
static void rto_resends_the_left_edge_even_if_sacked(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    uint32_t una = rack_conn(&c, st, 2);
    uint32_t mss = info_of(st, c.h).mss_bytes;
    c.now += 100 * MS;
    peer_sack(&c, una, una, una + 2 * mss);   /* both SACKed, none acknowledged */
    bool left_edge = false;
    for (int k = 0; k < 4 && !left_edge; k++) {   /* the probe, then the RTO */
        c.now = tb_stack_next_deadline(st);
        tb_stack_tick(st, c.now);
        struct seg s;
        while (next_seg(st, &s)) left_edge = left_edge || s.th.seq == una;
    }
    assert_true(left_edge);
    t_stack_done(forget(st));
}

/* RFC 5681 §3.1 and RFC 6928 §2: after more than one SYN retransmission the
 * initial window is one segment; after a single one it stays the full IW. */
static void initial_window_after_syn_retransmissions(void **state) {
    (void)state;
    for (int expiries = 1; expiries <= 2; expiries++) {
        struct tb_config cfg;
        tcp_cfg(&cfg);
        struct tb_stack *st = tcp_stack(&cfg);
        struct tconn c;
        c_init(&c, st, T0);
        struct seg s;
        active_syn(&c, &s);
        for (int k = 0; k < expiries; k++) {
            c.now = tb_stack_next_deadline(st);
            tb_stack_tick(st, c.now);
            expect_seg(st, &s);
            assert_int_equal(s.th.flags, TB_TCP_SYN);
        }
        active_synack(&c, O_MSS);
        c_expect_ack(&c, c.p.snd_nxt);
        uint32_t mss = info_of(st, c.h).mss_bytes;
        assert_int_equal(info_of(st, c.h).cwnd_bytes, expiries > 1 ? mss : 10 * mss);
        uint8_t big[8192];
        tb_peer_fill_pat(big, sizeof(big), 0);
        assert_true(tb_tcp_send(st, c.now, c.h, big, sizeof(big)) > 0);
        assert_int_equal(drain_all(st), expiries > 1 ? 1 : 5);
        t_stack_done(forget(st));
    }
}

/* RFC 7323 §3.2: with timestamps in use, a non-RST segment without one is
 * dropped; a RST without one still counts. */
static void segment_without_timestamp_is_dropped(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_ALL);
    assert_true(c.p.ts_on);
    uint8_t data[20];
    tb_peer_fill_pat(data, sizeof(data), c.p.snd_nxt);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_ACK,
                                         .seq = c.p.snd_nxt,
                                         .ack = c.p.rcv_nxt,
                                         .window = 65535,
                                         .payload = data,
                                         .payload_len = sizeof(data)});
    expect_none(st);
    assert_int_equal(t_drops(st, TB_DROP_tcp_missing_ts), 1);
    uint8_t buf[32];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_AGAIN);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_RST, .seq = c.p.snd_nxt});
    assert_int_equal(expect_event(st, TB_EV_TCP_ERROR, c.h).error, TB_ERR_RESET);
    t_stack_done(forget(st));
}

/* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK and is
 * dropped whatever its sequence number, also when left-edge trimming
 * would cut the SYN off (SYN+ACK at RCV.NXT-1 with data). */
static void syn_at_the_left_edge_gets_a_challenge_ack(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    uint8_t data[20];
    tb_peer_fill_pat(data, sizeof(data), c.p.snd_nxt);
    c_send_full(&c, TB_TCP_SYN | TB_TCP_ACK, c.p.snd_nxt - 1, c.p.rcv_nxt, data, sizeof(data));
    c_expect_ack(&c, c.p.snd_nxt);
    assert_int_equal(stats_of(st).tcp_challenge_acks, 1);
    uint8_t buf[32];
    assert_int_equal(tb_tcp_recv(st, c.now, c.h, buf, sizeof(buf)), TB_ERR_AGAIN);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    t_stack_done(forget(st));
}

/* RFC 1122 §4.2.3.5: R2 for a SYN is at least 3 minutes, by time: the
 * default active open gives up at 180 s, not after a retry count. */
static void syn_gives_up_after_three_minutes(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    c_init(&c, st, T0);
    struct seg s;
    active_syn(&c, &s);
    size_t syns = 1;
    for (;;) {
        tb_time_ns t = tb_stack_next_deadline(st);
        assert_true(t <= T0 + 180 * SEC);
        tb_stack_tick(st, t);
        struct evs e;
        evs_take(st, &e);
        const struct tb_event *err = evs_find(&e, TB_EV_TCP_ERROR, c.h);
        if (err != NULL) {
            assert_int_equal(err->error, TB_ERR_TIMEOUT);
            assert_int_equal(t, T0 + 180 * SEC);
            break;
        }
        syns += drain_all(st);
    }
    assert_true(syns >= 8);   /* 0, 1, 3, 7, 15, 31, 63, 123 s */
    t_stack_done(forget(st));
}

/* RFC 5961 §5.2 answered as challenge ACKs are: an ACK of data never sent
 * is answered, but at most once per interval (no ACK storm between two
 * stacks that disagree). */
static void ack_storm_answers_are_rate_limited(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    for (int k = 0; k < 10; k++) c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt + 5000, NULL, 0);
    assert_int_equal(drain_all(st), 1);
    assert_int_equal(t_drops(st, TB_DROP_tcp_bad_ack), 10);
    c.now += SEC;
    c_send_full(&c, TB_TCP_ACK, c.p.snd_nxt, c.p.rcv_nxt + 5000, NULL, 0);
    assert_int_equal(drain_all(st), 1);
    t_stack_done(forget(st));
}

/* RFC 1122 §4.2.3.9: Time Exceeded is a soft error; the connection goes on. */
static void time_exceeded_is_a_soft_error(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    app_send(&c, 100, 0);
    struct seg s;
    c_expect(&c, &s);
    uint8_t quote[TB_PEER_QUOTE_LEN];
    memcpy(quote, s.f.bytes + TB_ETH_HDR_LEN, sizeof(quote));   /* IP header + 8 bytes (RFC 792) */
    uint8_t frame[128];
    size_t len = tb_peer_build_icmp_error(peer_host(), ROUTER_IP, TB_ICMP_TIME_EXCEEDED, 0, 0, quote, sizeof(quote),
                                          frame, sizeof(frame));
    assert_true(len > 0);
    t_input(st, c.now, frame, len);
    struct tb_event ev = expect_event(st, TB_EV_TCP_SOFT_ERROR, c.h);
    assert_int_equal(ev.u.soft.icmp_type, TB_ICMP_TIME_EXCEEDED);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    c.p.rcv_nxt += 100;
    c_ack(&c);
    app_send(&c, 50, 100);
    c_expect_data(&c, 50);
    t_stack_done(forget(st));
}

/* A LAND SYN (our address and port as the source) creates no state and
 * sends nothing, not even ARP for ourselves. */
static void land_syn_is_dropped(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    listen80(st);
    /* A host claiming the stack's own address, from the peer's MAC. */
    struct tb_peer_host land;
    tb_peer_host_init(&land, &t_mac_peer, T_IP_US, &t_mac_us, T_IP_US);
    struct tb_peer p;
    tb_peer_init(&p, &land, US_PORT, US_PORT, 1234);
    peer_feed(st, T0, &p, &(struct tb_peer_seg){.flags = TB_TCP_SYN, .seq = 1234, .window = 65535});
    struct t_frame f;
    assert_int_equal(t_drain(st, &f, 1), 0);
    assert_int_equal(t_drops(st, TB_DROP_ip_src_is_ours), 1);
    assert_int_equal(stats_of(st).tcp_passive_opens, 0);
    t_stack_done(forget(st));
}

/* RFC 2883 §4.2: a segment partly of old data is reported by a D-SACK of
 * its old part, and its new part is taken. */
static void dsack_for_a_partly_old_segment(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_delack_ns = 0;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_SACK);
    uint32_t start = c.p.snd_nxt;
    c_send_data(&c, 100);
    c_expect_ack(&c, c.p.snd_nxt);
    c_send_data_at(&c, start + 50, 100);   /* 50 old bytes, 50 new */
    c.p.snd_nxt = start + 150;
    struct tb_sack_block want[1] = {{start + 50, start + 100}};
    expect_sack(&c, c.p.snd_nxt, want, 1);
    uint8_t buf[200];
    assert_int_equal(app_recv_all(&c, buf, sizeof(buf)), 150);
    assert_pattern(buf, 150, start);
    t_stack_done(forget(st));
}

/* RFC 2883 §4: a D-SACK of out-of-order data is followed by the block that
 * contains it, before the other blocks (RFC 2018's most recent first). */
static void dsack_is_followed_by_its_containing_block(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_SACK);
    uint32_t b = c.p.snd_nxt;
    c_send_data_at(&c, b + 100, 100);
    struct tb_sack_block one[1] = {{b + 100, b + 200}};
    expect_sack(&c, b, one, 1);
    c_send_data_at(&c, b + 300, 100);
    struct tb_sack_block two[2] = {{b + 300, b + 400}, {b + 100, b + 200}};
    expect_sack(&c, b, two, 2);
    c_send_data_at(&c, b + 100, 100);   /* a duplicate of the older block */
    struct tb_sack_block three[3] = {{b + 100, b + 200}, {b + 100, b + 200}, {b + 300, b + 400}};
    expect_sack(&c, b, three, 3);
    t_stack_done(forget(st));
}

/* RFC 2883 §4 (example 4.1.4): a duplicate of queued out-of-order data that
 * spans two of its segments is still reported by a D-SACK. */
static void dsack_of_a_duplicate_spanning_queued_segments(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS | O_SACK);
    uint32_t b = c.p.snd_nxt;
    c_send_data_at(&c, b + 100, 100);
    struct tb_sack_block one[1] = {{b + 100, b + 200}};
    expect_sack(&c, b, one, 1);
    c_send_data_at(&c, b + 200, 100);
    struct tb_sack_block run[1] = {{b + 100, b + 300}};
    expect_sack(&c, b, run, 1);
    c_send_data_at(&c, b + 150, 100);   /* half of each */
    struct tb_sack_block two[2] = {{b + 150, b + 250}, {b + 100, b + 300}};
    expect_sack(&c, b, two, 2);
    t_stack_done(forget(st));
}

/* RFC 9293 §3.8.4 (MUST-26): no keep-alive while sent data is outstanding;
 * the retransmission timer is in charge (found by the idle dumbbell
 * workload: probes 1 ms apart killed a connection whose data was in flight). */
static void no_keepalive_while_data_is_outstanding(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    cfg.tcp_max_retries = 20;
    struct tconn c;
    struct tb_stack *st = open_default(&c, &cfg, O_MSS);
    enable_keepalive(&c);   /* idle 10 s, 3 probes 1 s apart */
    app_send(&c, 100, 0);
    c_expect_data(&c, 100);
    /* Nothing is acknowledged for 30 s: only retransmissions go out. */
    for (;;) {
        tb_time_ns t = tb_stack_next_deadline(st);
        if (t > T0 + 30 * SEC) break;
        tb_stack_tick(st, t);
        struct seg s;
        while (next_seg(st, &s)) assert_true(s.th.payload_len == 100);   /* never a keepalive */
    }
    assert_int_equal(info_of(st, c.h).keepalive_probes, 0);
    assert_int_equal(state_of(&c), TB_TCP_ESTABLISHED);
    expect_no_event(st, TB_EV_TCP_ERROR);
    t_stack_done(forget(st));
}

#define T(f) cmocka_unit_test_teardown(f, free_leftover_stacks)

/* RFC 2018 §8: a receiver that reneged on SACKed data (the cumulative ACK
 * stops at the SACKed left edge) gets it resent as recovery goes on, not one
 * backed-off RTO per segment; and RFC 3168 §6.1.2: an ECE before any data
 * was sent reduces nothing. */
static void reneged_sack_data_is_resent_without_an_rto_each(void **state) {
    (void)state;
    struct tb_config cfg;
    tcp_cfg(&cfg);
    struct tb_stack *st = tcp_stack(&cfg);
    struct tconn c;
    uint32_t n = 5;
    uint32_t una = rack_conn(&c, st, n);
    uint32_t mss = info_of(st, c.h).mss_bytes;
    c.now += 100 * MS;
    peer_sack(&c, una, una + mss, una + n * mss);   /* 2..n SACKed, 1 lost */
    uint32_t peer_rcv = una;                       /* then the peer drops what it SACKed */
    uint32_t expiries = 0;
    for (int k = 0; k < 200 && peer_rcv != una + n * mss; k++) {
        struct seg sg;
        bool any = false;
        while (next_seg(st, &sg)) {
            any = true;
            if (sg.th.payload_len > 0 && sg.th.seq == peer_rcv) peer_rcv = sg.th.seq + sg.th.payload_len;
        }
        if (any) {
            c.now += 20 * MS;
            c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_ACK, .seq = c.p.snd_nxt, .ack = peer_rcv,
                                                 .window = c.p.window});
            continue;
        }
        tb_time_ns d = tb_stack_next_deadline(st);
        if (d == TB_TIME_NEVER) break;
        c.now = d;
        tb_stack_tick(st, c.now);
        expiries++;
    }
    assert_int_equal(peer_rcv, una + n * mss);
    assert_true(expiries <= 2);   /* the loss's own timer, not one per reneged segment */
    t_stack_done(forget(st));

    /* An ECE on an ACK before any data went: nothing to reduce. */
    tcp_cfg(&cfg);
    cfg.tcp_ecn = true;
    st = tcp_stack(&cfg);
    c_init(&c, st, T0);
    c.h = tb_tcp_connect(st, c.now, T_IP_PEER, US_PORT);
    struct seg syn;
    expect_seg(st, &syn);
    c.p.port = US_PORT;
    c.p.stack_port = syn.th.src_port;
    tb_peer_learn(&c.p, &syn.th);
    struct tb_tcp_opts o = syn_opts(O_MSS, 1460, 0, 0, 0);
    c_send_seg(&c, &(struct tb_peer_seg){.flags = TB_TCP_SYN | TB_TCP_ACK | TB_TCP_ECE, .seq = c.p.isn,
                                         .ack = c.p.rcv_nxt, .window = c.p.window, .opts = o});
    c.p.snd_nxt = c.p.isn + 1;
    c_expect_ack(&c, c.p.snd_nxt);
    uint32_t cwnd0 = info_of(st, c.h).cwnd_bytes;
    c_send(&c, TB_TCP_ACK | TB_TCP_ECE, NULL, 0);
    assert_int_equal(info_of(st, c.h).cwnd_bytes, cwnd0);
    assert_int_equal(stats_of(st).tcp_ecn_reductions, 0);
    t_stack_done(forget(st));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        /* issue 9 regressions */
        T(sack_blocks_never_push_data_past_the_mtu),
        T(simultaneous_open_completes),
        T(tiny_peer_mss_is_never_exceeded),
        T(window_scale_is_fixed_by_the_syn),
        T(options_before_the_syn_shape_it),
        T(hard_icmp_error_ends_an_opening_connection),
        T(ambiguous_ack_keeps_the_backed_off_rto),
        T(challenge_ack_budget_is_randomised),
        T(syn_cookie_mss_never_exceeds_the_clients),
        T(window_update_after_zero_window_at_one_mss),
        T(window_update_threshold_is_the_send_mss),
        T(connect_to_broadcast_or_multicast_is_refused),
        T(nagle_holds_half_window_segments_while_unacked),
        T(answered_fin_into_zero_window_never_times_out),
        T(old_ack_does_not_update_the_window),
        T(idle_restart_ignores_pure_acks),
        T(initial_window_after_syn_retransmissions),
        T(slow_start_grows_one_smss_per_ack),
        T(retransmission_of_a_lost_segment_counts_once_in_pipe),
        T(rack_timer_loss_is_retransmitted_at_once),
        T(sack_block_order_is_not_reordering),
        T(tlp_that_repaired_a_loss_reduces_cwnd),
        T(dsack_with_nothing_outstanding_still_counts),
        T(first_dsack_doubles_the_reordering_window),
        T(no_probe_without_an_rtt_sample_since_the_last),
        T(no_loss_probe_in_rto_recovery),
        T(rto_resends_the_left_edge_even_if_sacked),
        T(segment_without_timestamp_is_dropped),
        T(syn_at_the_left_edge_gets_a_challenge_ack),
        T(syn_gives_up_after_three_minutes),
        T(ack_storm_answers_are_rate_limited),
        T(time_exceeded_is_a_soft_error),
        T(land_syn_is_dropped),
        T(dsack_for_a_partly_old_segment),
        T(dsack_is_followed_by_its_containing_block),
        T(dsack_of_a_duplicate_spanning_queued_segments),
        T(no_keepalive_while_data_is_outstanding),
        /* handshakes */
        T(passive_open_answers_offered_options),
        T(passive_open_without_options_answers_only_mss),
        T(syn_window_is_never_scaled),
        T(effective_mss_is_smaller_mss_less_timestamps),
        T(missing_mss_option_means_536),
        T(active_open_sends_options_and_connects),
        T(simultaneous_open_passes_syn_received),
        T(syn_sent_bad_ack_gets_rst),
        T(syn_sent_rst_with_acceptable_ack_refuses),
        T(syn_sent_rst_without_ack_is_ignored),
        /* CLOSED, LISTEN */
        T(closed_port_answers_with_rst),
        T(listen_answers_ack_with_rst_and_ignores_rst),
        /* acceptability */
        T(unacceptable_segment_is_acked_and_dropped),
        T(zero_window_accepts_only_rcv_nxt_and_keeps_no_data),
        /* RFC 5961 */
        T(rst_at_rcv_nxt_resets_connection),
        T(rst_in_window_gets_challenge_ack),
        T(rst_outside_window_is_ignored),
        T(syn_in_established_gets_challenge_ack),
        T(ack_of_unsent_data_is_acked_and_dropped),
        T(ack_too_old_gets_challenge_ack),
        T(challenge_acks_are_rate_limited),
        /* RST in each state */
        T(rst_in_syn_received_returns_to_listen),
        T(rst_in_syn_received_refuses_active_open),
        T(rst_in_fin_wait_1_resets),
        T(rst_in_fin_wait_2_resets),
        T(rst_in_close_wait_resets),
        T(rst_in_closing_closes),
        T(rst_in_last_ack_closes),
        T(rst_in_time_wait_closes),
        /* closing */
        T(active_close_passes_fin_wait_and_time_wait),
        T(full_table_evicts_the_oldest_released_time_wait),
        T(passive_close_passes_close_wait_and_last_ack),
        T(simultaneous_close_passes_closing),
        T(half_closed_connection_still_receives),
        T(close_with_unread_data_sends_rst),
        T(rst_on_timestamp_connection_carries_ts),
        T(data_after_close_is_answered_with_rst),
        T(time_wait_reacks_fin_and_restarts_2msl),
        T(time_wait_reopens_on_equal_tsval_and_higher_seq),
        /* data */
        T(in_order_data_is_delivered_exactly),
        T(out_of_order_data_is_held_and_sacked),
        T(overlapping_segments_deliver_each_byte_once),
        T(out_of_order_queue_is_bounded),
        T(receive_sequence_number_wraps),
        T(send_sequence_number_wraps),
        /* delayed ACK */
        T(single_segment_ack_is_delayed),
        T(every_second_full_segment_is_acked_at_once),
        T(out_of_order_segment_is_acked_at_once),
        /* Nagle, SWS, window scaling */
        T(nagle_holds_small_segment_while_data_unacked),
        T(nodelay_sends_small_segments_at_once),
        T(small_reads_send_no_window_update),
        T(read_sends_no_update_when_window_cannot_grow),
        T(advertised_window_is_scaled_free_space),
        /* retransmission */
        T(data_is_retransmitted_with_backoff),
        T(exhausted_retransmissions_time_out),
        T(syn_is_retransmitted_then_times_out),
        T(rtt_samples_set_rto),
        T(syn_retransmission_sets_rto_to_3s),
        T(synack_retransmission_sets_rto_to_3s),
        /* persist */
        T(zero_window_is_probed_with_backoff),
        T(window_update_resumes_sending),
        T(answered_zero_window_probes_never_time_out),
        /* keepalive */
        T(keepalive_is_off_by_default),
        T(keepalive_probes_idle_connection_then_times_out),
        T(keepalive_answer_resets_probing),
        /* timestamps */
        T(paws_drops_segment_with_old_timestamp),
        T(ece_acking_everything_still_reduces_and_sends_cwr),
        T(ts_recent_invalid_after_24_days_is_replaced),
        T(timestamp_echo_follows_last_ack_sent),
        /* SYN cookies, accept queue, listener */
        T(syn_cookie_answers_when_syn_queue_full),
        T(syn_cookie_bad_ack_gets_rst),
        T(accept_queue_is_bounded_by_backlog),
        T(closing_listener_resets_pending_children),
        /* ICMP */
        T(icmp_unreachable_is_a_soft_error),
        T(icmp_frag_needed_lowers_mss_and_resends),
        T(icmp_frag_needed_down_to_68_fits_the_path),
        T(icmp_quoting_stale_sequence_is_ignored),
        /* urgent */
        T(urgent_data_is_delivered_inline),
        /* API */
        T(send_buf_releases_chain_after_ack),
        T(recv_buf_lends_received_buffers),
        T(full_send_buffer_returns_again_then_writable),
        T(bad_handles_are_rejected),
        T(setopt_rejects_out_of_range_values),
        T(isn_depends_on_seed_and_4_tuple),
        T(reneged_sack_data_is_resent_without_an_rto_each),
    };
    return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
