/* TCP between two simulated stacks: the handshake and the close under loss,
 * zero windows, sequence wrap, TIME-WAIT reuse, SYN cookies under a SYN
 * flood, 10,000 short connections and half-close. Frames are dropped by a
 * test hook on the link that matches TCP flags and counts occurrences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/peer/peer.h"
#include "helpers.h"
#include "sim/bulk.h"
#include "sim/ping.h"
#include "traces/pcap_writer.h"

/* ---- frame matching ---------------------------------------------------- */
struct seg {
    bool tcp;
    uint8_t flags;
    uint32_t seq;
    size_t payload;
};

/* A TCP segment whose every layer parses (harness/peer's decoder). */
static bool parse_seg(const uint8_t *f, size_t len, struct seg *s) {
    memset(s, 0, sizeof(*s));
    struct tb_peer_frame d;
    if (tb_peer_decode(f, len, &d) != TB_WIRE_OK || d.layer != TB_PEER_TCP) return false;
    s->tcp = true;
    s->flags = d.tcp.flags;
    s->seq = d.tcp.seq;
    s->payload = d.tcp.payload_len;
    return true;
}

/* Drops the nth (from 1) segment of a direction that has all of `with` and
 * none of `without` flags (and, if data_only, carries payload). */
struct rule {
    uint8_t with, without;
    bool data_only;
    int nth, seen, dropped;
};
struct dropper {
    struct rule ab[4], ba[4];
    int n_ab, n_ba;
    bool drop_a_after_b_fin;   /* drop A's first segment after B's FIN went by */
    bool b_fin_seen;
    int after_fin_dropped;
};

static bool match(struct rule *rules, int n, const struct seg *s) {
    for (int i = 0; i < n; i++) {
        struct rule *r = &rules[i];
        if ((s->flags & r->with) != r->with || (s->flags & r->without) || (r->data_only && s->payload == 0)) continue;
        if (++r->seen == r->nth) {
            r->dropped++;
            return true;
        }
    }
    return false;
}

static bool drop_ab(void *ctx, uint64_t index, const uint8_t *frame, size_t len) {
    (void)index;
    struct dropper *d = ctx;
    struct seg s;
    if (!parse_seg(frame, len, &s)) return false;
    if (d->drop_a_after_b_fin && d->b_fin_seen && d->after_fin_dropped == 0) {
        d->after_fin_dropped++;
        return true;
    }
    return match(d->ab, d->n_ab, &s);
}

static bool drop_ba(void *ctx, uint64_t index, const uint8_t *frame, size_t len) {
    (void)index;
    struct dropper *d = ctx;
    struct seg s;
    if (!parse_seg(frame, len, &s)) return false;
    if (s.flags & TB_TCP_FIN) d->b_fin_seen = true;
    return match(d->ba, d->n_ba, &s);
}

static void bulk(struct sim_bulk_opts *o, struct sim_bulk_result *r) {
    int rc = sim_bulk_run(o, r);
    if (rc != 0) fail_msg("setup: %s", r->error);
    if (!r->pass) fail_msg("integrity: %s", r->integrity);
}

static void bulk_with_drops(struct sim_bulk_opts *o, struct dropper *d) {
    o->drop_a_to_b = drop_ab;
    o->drop_b_to_a = drop_ba;
    o->drop_ctx = d;
}

/* ---- bulk transfers ------------------------------------------------------ */
static void lossless_transfer_negotiates_options_and_retransmits_nothing(void **state) {
    (void)state;
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 2 * 1024 * 1024;
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(r.delivered_bytes, o.bytes);
    assert_int_equal(r.retransmits, 0);
    assert_true(r.info_a.ws_ok && r.info_a.ts_ok && r.info_a.sack_ok);
    assert_int_equal(r.info_a.mss_bytes, 1448);   /* 1460 less 12 bytes of timestamps (RFC 6691) */
    assert_int_equal(r.info_a.state, TB_TCP_TIME_WAIT);   /* A closed first */
    assert_int_equal(r.info_b.state, TB_TCP_CLOSED);
}

static void zero_copy_transfer_delivers_every_byte(void **state) {
    (void)state;
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 3 * 1024 * 1024 + 17;
    o.zero_copy = true;
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(r.delivered_bytes, o.bytes);
}

/* RFC 6298 §2.1 / RFC 9293 §3.8.1: a lost SYN is sent again after the
 * initial RTO (1 s). */
static void lost_syn_is_retransmitted_after_the_initial_rto(void **state) {
    (void)state;
    struct dropper d = {.ab = {{.with = TB_TCP_SYN, .nth = 1}}, .n_ab = 1};
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 100000;
    bulk_with_drops(&o, &d);
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(d.ab[0].dropped, 1);
    assert_int_equal(r.stats_a.tcp_rto_timeouts, 1);
    assert_true(r.connect_ns >= TB_NS_PER_S && r.connect_ns < TB_NS_PER_S + 100 * TB_NS_PER_MS);
}

static void lost_syn_ack_is_recovered(void **state) {
    (void)state;
    struct dropper d = {.ba = {{.with = TB_TCP_SYN | TB_TCP_ACK, .nth = 1}}, .n_ba = 1};
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 100000;
    bulk_with_drops(&o, &d);
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(d.ba[0].dropped, 1);
    assert_true(r.connect_ns >= TB_NS_PER_S);
    assert_true(r.stats_a.tcp_rto_timeouts + r.stats_b.tcp_rto_timeouts >= 1);
}

static void lost_fin_is_retransmitted(void **state) {
    (void)state;
    struct dropper d = {.ab = {{.with = TB_TCP_FIN, .nth = 1}}, .n_ab = 1};
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 100000;
    bulk_with_drops(&o, &d);
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(d.ab[0].dropped, 1);
    /* A tail loss: the probe (RFC 8985 §7) or the RTO sends the FIN again. */
    assert_true(r.stats_a.tcp_tlp_probes + r.stats_a.tcp_rto_timeouts >= 1);
    assert_int_equal(r.info_b.state, TB_TCP_CLOSED);
}

/* RFC 9293 §3.6: if the last ACK is lost, LAST-ACK retransmits its FIN and
 * TIME-WAIT answers it again. */
static void lost_last_ack_is_recovered_by_time_wait(void **state) {
    (void)state;
    struct dropper d = {.drop_a_after_b_fin = true};
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 100000;
    bulk_with_drops(&o, &d);
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(d.after_fin_dropped, 1);
    assert_true(r.stats_b.tcp_retransmits >= 1);   /* B's FIN again */
    assert_int_equal(r.info_a.state, TB_TCP_TIME_WAIT);
}

/* Two losses in one window: SACK-based recovery repairs both without a
 * timeout (RFC 6675). */
static void lost_data_segments_are_repaired_by_fast_recovery(void **state) {
    (void)state;
    struct dropper d = {.ab = {{.data_only = true, .with = 0, .nth = 5}, {.data_only = true, .nth = 9}}, .n_ab = 2};
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 500000;
    bulk_with_drops(&o, &d);
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(d.ab[0].dropped + d.ab[1].dropped, 2);
    assert_int_equal(r.stats_a.tcp_rto_timeouts, 0);
    assert_true(r.info_a.fast_retransmits >= 1);
    assert_true(r.info_a.retransmits >= 2);
    assert_true(r.info_b.ooo_segs >= 1);
}

static void lost_acks_do_not_stop_the_transfer(void **state) {
    (void)state;
    struct dropper d = {.ba = {{.with = TB_TCP_ACK, .without = TB_TCP_SYN | TB_TCP_FIN, .nth = 3},
                               {.with = TB_TCP_ACK, .without = TB_TCP_SYN | TB_TCP_FIN, .nth = 20}},
                        .n_ba = 2};
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 400000;
    bulk_with_drops(&o, &d);
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_int_equal(d.ba[0].dropped + d.ba[1].dropped, 2);
}

/* RFC 9293 §3.8.6.1: a reader that stops fills the window; the sender
 * probes the zero window and resumes when the reader does. */
static void zero_window_is_probed_and_reopens(void **state) {
    (void)state;
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 1024 * 1024;
    o.rcvbuf_bytes = 64 * 1024;
    o.reader_stall_ns = 5 * TB_NS_PER_S;
    struct sim_bulk_result r;
    bulk(&o, &r);
    assert_true(r.info_a.zero_window_probes >= 2);
    assert_true(r.sim_time_ns > o.reader_stall_ns);
    assert_int_equal(r.delivered_bytes, o.bytes);
}

/* RFC 9293 §3.4: sequence numbers wrap; everything must still work. The
 * ISN follows RFC 6528's 4-microsecond timer, so starting later moves it. */
static void transfer_across_the_sequence_wrap(void **state) {
    (void)state;
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 1024 * 1024;
    struct sim_bulk_result r;
    bulk(&o, &r);
    uint32_t target = UINT32_MAX - 300000;   /* wraps about 300 KB into the stream */
    uint32_t delta = target - r.info_a.iss;
    o.start_ns = (tb_time_ns)delta * 4000;
    o.time_limit_ns = o.start_ns + 600 * TB_NS_PER_S;
    bulk(&o, &r);
    assert_int_equal(r.info_a.iss, target);
    assert_true(r.info_a.snd_una < target);   /* ended past the wrap */
    assert_int_equal(r.delivered_bytes, o.bytes);
}

static void same_seed_same_pcap_other_seed_other_isn(void **state) {
    (void)state;
    char path[3][96];
    struct sim_bulk_result r[3];
    for (int i = 0; i < 3; i++) {
        snprintf(path[i], sizeof(path[i]), "/tmp/tcpbed_tcp_sim_%ld_%d.pcap", (long)getpid(), i);
        struct sim_bulk_opts o;
        sim_bulk_defaults(&o);
        o.bytes = 300000;
        o.seed = i == 2 ? 12 : 11;
        o.pcap_path = path[i];
        bulk(&o, &r[i]);
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "cmp -s %s %s", path[0], path[1]);
    assert_int_equal(system(cmd), 0);
    assert_int_not_equal(r[0].info_a.iss, r[2].info_a.iss);
    assert_int_not_equal(r[0].info_b.iss, r[2].info_b.iss);
    for (int i = 0; i < 3; i++) unlink(path[i]);
}

/* ---- scripted applications on a two-host network ------------------------- */
struct net2 {
    struct sim *sim;
    struct sim_host *a, *b;
    struct tb_pcap_writer *pcap;   /* TB_TEST_PCAP=FILE captures host A, for debugging */
};

static void net2_build(struct net2 *n, uint64_t seed, void (*tweak)(struct tb_config *, int)) {
    struct tb_config cfg[2];
    for (int i = 0; i < 2; i++) {
        sim_two_host_config(&cfg[i], seed, i);
        if (tweak) tweak(&cfg[i], i);
    }
    n->sim = sim_new(seed);
    n->a = sim_add_host(n->sim, "A", &cfg[0]);
    n->b = sim_add_host(n->sim, "B", &cfg[1]);
    assert_non_null(n->a);
    assert_non_null(n->b);
    struct sim_link_params link = {.delay_ns = TB_NS_PER_MS, .rate_bps = 1000000000, .queue_bytes = 1 << 20};
    assert_true(sim_connect(n->sim, n->a, n->b, &link) >= 0);
    n->pcap = NULL;
    const char *path = getenv("TB_TEST_PCAP");
    if (path != NULL) {
        char err[256];
        n->pcap = tb_pcap_open(path, err, sizeof(err));
        if (n->pcap != NULL) sim_host_capture(n->a, n->pcap);
    }
}

static void net2_done(struct net2 *n) {
    const char *why = NULL;
    if (!tb_stack_check(sim_host_stack(n->a), &why)) fail_msg("A self-check: %s", why);
    if (!tb_stack_check(sim_host_stack(n->b), &why)) fail_msg("B self-check: %s", why);
    sim_free(n->sim);   /* tb_stack_free asserts every buffer came home */
    if (n->pcap != NULL) {
        char err[256];
        tb_pcap_close(n->pcap, err, sizeof(err));
    }
}

/* A connection-per-request client/server pair: A opens connections (up to
 * `parallel` at once), sends `req` bytes, shuts down its side and reads the
 * reply to EOF; B reads to EOF, sends `resp` bytes and shuts down. */
struct crr {
    struct net2 *n;
    int32_t listener;
    uint32_t total, parallel, started, done_a, done_b;
    uint32_t req, resp;
    uint16_t fixed_port;          /* nonzero: connect_from this port */
    bool server_closes_first;     /* B replies and shuts down once the request is in */
    uint64_t a_rx, b_rx, errors;
    int32_t a_conns[64];
    uint32_t b_req_seen[4096];    /* not used for correctness, bytes per server conn slot */
};

static void crr_start_one(struct crr *c, tb_time_ns now) {
    struct tb_stack *st = sim_host_stack(c->n->a);
    int32_t h = c->fixed_port ? tb_tcp_connect_from(st, now, c->fixed_port, SIM_HOST_B_IP, 80)
                              : tb_tcp_connect(st, now, SIM_HOST_B_IP, 80);
    if (h < 0) {
        c->errors++;
        return;
    }
    c->started++;
}

static void crr_fill(uint8_t *buf, size_t n, uint8_t salt) {
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 7 + salt);
}

static void crr_app_a(struct sim *sim, struct sim_host *h, void *ctx) {
    struct crr *c = ctx;
    struct tb_stack *st = sim_host_stack(h);
    tb_time_ns now = sim_now(sim);
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_stack_events(st, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            int32_t conn = ev[i].conn;
            switch (ev[i].type) {
            case TB_EV_TCP_CONNECTED: {
                uint8_t req[4096];
                crr_fill(req, c->req, 1);
                if (tb_tcp_send(st, now, conn, req, c->req) != (int64_t)c->req) c->errors++;
                if (!c->server_closes_first) tb_tcp_shutdown(st, now, conn);
                break;
            }
            case TB_EV_TCP_READABLE: {
                uint8_t buf[8192];
                int64_t got;
                while ((got = tb_tcp_recv(st, now, conn, buf, sizeof(buf))) > 0) c->a_rx += (uint64_t)got;
                if (got == 0 && c->server_closes_first) tb_tcp_shutdown(st, now, conn);
                break;
            }
            case TB_EV_TCP_CLOSED:
            case TB_EV_TCP_ERROR:
                if (ev[i].type == TB_EV_TCP_ERROR) c->errors++;
                tb_tcp_close(st, now, conn);
                c->done_a++;
                if (c->started < c->total) crr_start_one(c, now);
                break;
            default: break;
            }
        }
    }
    if (c->done_a == c->total && c->done_b == c->total) sim_stop(sim);
}

static void crr_app_b(struct sim *sim, struct sim_host *h, void *ctx) {
    struct crr *c = ctx;
    struct tb_stack *st = sim_host_stack(h);
    tb_time_ns now = sim_now(sim);
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_stack_events(st, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            int32_t conn = ev[i].conn;
            switch (ev[i].type) {
            case TB_EV_TCP_ACCEPTABLE: {
                int32_t x;
                while ((x = tb_tcp_accept(st, c->listener)) >= 0) {
                }
                break;
            }
            case TB_EV_TCP_READABLE: {
                uint8_t buf[8192];
                int64_t got;
                bool fresh = false;
                while ((got = tb_tcp_recv(st, now, conn, buf, sizeof(buf))) > 0) {
                    c->b_rx += (uint64_t)got;
                    fresh = true;
                }
                /* Reply once: at EOF, or (server closing first) when this read completed the request. */
                bool complete = c->server_closes_first ? fresh && c->b_rx >= (uint64_t)c->req * (c->done_b + 1)
                                                       : got == 0;
                if (complete) {   /* the request is in: reply, then close our side */
                    uint8_t resp[8192];
                    crr_fill(resp, c->resp, 2);
                    if (c->resp > 0 && tb_tcp_send(st, now, conn, resp, c->resp) != (int64_t)c->resp) c->errors++;
                    tb_tcp_shutdown(st, now, conn);
                }
                break;
            }
            case TB_EV_TCP_CLOSED:
            case TB_EV_TCP_ERROR:
                if (ev[i].type == TB_EV_TCP_ERROR) c->errors++;
                tb_tcp_close(st, now, conn);
                c->done_b++;
                break;
            default: break;
            }
        }
    }
    if (c->done_a == c->total && c->done_b == c->total) sim_stop(sim);
}

static void crr_kick(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct crr *c = ctx;
    for (uint32_t i = 0; i < c->parallel && c->started < c->total; i++) crr_start_one(c, sim_now(sim));
    sim_host_kick(sim, c->n->a);
}

static void crr_run(struct crr *c, struct net2 *n, tb_time_ns limit) {
    c->n = n;
    c->listener = tb_tcp_listen(sim_host_stack(n->b), 80, 0);
    assert_true(c->listener >= 0);
    sim_host_set_app(n->a, crr_app_a, c);
    sim_host_set_app(n->b, crr_app_b, c);
    sim_at(n->sim, 0, crr_kick, c, 0);
    sim_run(n->sim, limit);
}

static void many_conns_config(struct tb_config *cfg, int host) {
    cfg->tcp_msl_ns = 500 * TB_NS_PER_MS;   /* TIME-WAIT 1 s keeps the table small */
    cfg->tcp_max_conns = host == 0 ? 4096 : 1024;
    cfg->tcp_sndbuf_bytes = cfg->tcp_rcvbuf_bytes = 64 * 1024;
    cfg->tcp_ooo_max_bytes = 64 * 1024;
    cfg->buf_count = 4096;
}

static void ten_thousand_short_connections(void **state) {
    (void)state;
    struct net2 n;
    net2_build(&n, 5, many_conns_config);
    struct crr c = {.total = 10000, .parallel = 16, .req = 200, .resp = 300};
    crr_run(&c, &n, 3600 * TB_NS_PER_S);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.done_a, 10000);
    assert_int_equal(c.done_b, 10000);
    assert_int_equal(c.b_rx, 10000u * 200);
    assert_int_equal(c.a_rx, 10000u * 300);
    struct tb_stats sa, sb;
    tb_stack_stats(sim_host_stack(n.a), &sa);
    tb_stack_stats(sim_host_stack(n.b), &sb);
    assert_int_equal(sa.tcp_active_opens, 10000);
    assert_int_equal(sb.tcp_passive_opens, 10000);
    assert_int_equal(sa.tcp_conns_reset + sb.tcp_conns_reset, 0);
    net2_done(&n);
}

/* Issue 9, item 13: every MTU tb_config_check accepts (68..1500) must
 * carry TCP; before, anything under 128 passed the check and then dropped
 * every segment (the MSS floor of 88 did not fit). */
static uint16_t tiny_mtu;
static void tiny_mtu_config(struct tb_config *cfg, int host) {
    (void)host;
    cfg->mtu = tiny_mtu;
}

static void every_accepted_mtu_carries_tcp(void **state) {
    (void)state;
    const uint16_t mtus[] = {68, 69, 100, 127, 576};
    for (size_t k = 0; k < sizeof(mtus) / sizeof(mtus[0]); k++) {
        tiny_mtu = mtus[k];
        struct net2 n;
        net2_build(&n, 3, tiny_mtu_config);
        struct crr c = {.total = 2, .parallel = 1, .req = 2000, .resp = 5000};
        crr_run(&c, &n, 600 * TB_NS_PER_S);
        if (c.errors != 0 || c.a_rx != 2u * 5000 || c.b_rx != 2u * 2000)
            fail_msg("mtu %u: errors %llu, received %llu/%llu", tiny_mtu, (unsigned long long)c.errors,
                     (unsigned long long)c.a_rx, (unsigned long long)c.b_rx);
        struct tb_stats sa;
        tb_stack_stats(sim_host_stack(n.a), &sa);
        assert_int_equal(sa.tcp_retransmits, 0);
        net2_done(&n);
    }
}

static void syn_queue_config(struct tb_config *cfg, int host) {
    if (host == 1) cfg->tcp_syn_queue_len = 1;
}

/* RFC 4987 §3.6: with the SYN queue full, SYN cookies still let every
 * legitimate client in. */
static void syn_queue_overflow_is_absorbed_by_cookies(void **state) {
    (void)state;
    struct net2 n;
    net2_build(&n, 6, syn_queue_config);
    struct crr c = {.total = 12, .parallel = 12, .req = 3000, .resp = 1000};
    crr_run(&c, &n, 600 * TB_NS_PER_S);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.done_a, 12);
    assert_int_equal(c.done_b, 12);
    assert_int_equal(c.b_rx, 12u * 3000);
    assert_int_equal(c.a_rx, 12u * 1000);
    struct tb_stats sb;
    tb_stack_stats(sim_host_stack(n.b), &sb);
    assert_true(sb.tcp_syncookies_sent >= 10);
    assert_int_equal(sb.tcp_syncookies_ok, sb.tcp_syncookies_sent);
    assert_int_equal(sb.tcp_syncookies_failed, 0);
    net2_done(&n);
}

/* Half-close: A sends its request and shuts its side; B keeps sending a
 * reply of its own before closing (RFC 9293 §3.6). */
static void half_close_lets_the_other_side_keep_sending(void **state) {
    (void)state;
    struct net2 n;
    net2_build(&n, 7, NULL);
    struct crr c = {.total = 1, .parallel = 1, .req = 4000, .resp = 8000};
    crr_run(&c, &n, 60 * TB_NS_PER_S);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.b_rx, 4000);
    assert_int_equal(c.a_rx, 8000);
    net2_done(&n);
}

/* RFC 6191 / RFC 1122 §4.2.2.13: B (the server) closes first and sits in
 * TIME-WAIT; A connecting again from the same port, with newer timestamps,
 * reopens the connection instead of waiting 2 MSL. */
static void time_wait_is_reused_by_a_newer_syn(void **state) {
    (void)state;
    struct net2 n;
    net2_build(&n, 8, NULL);
    struct crr c = {.total = 2, .parallel = 1, .req = 100, .resp = 100, .fixed_port = 40000,
                    .server_closes_first = true};
    crr_run(&c, &n, 60 * TB_NS_PER_S);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.done_a, 2);
    assert_int_equal(c.done_b, 2);
    assert_int_equal(c.a_rx, 200);
    struct tb_stats sb;
    tb_stack_stats(sim_host_stack(n.b), &sb);
    assert_int_equal(sb.tcp_time_wait_reused, 1);
    assert_true(sim_now(n.sim) < TB_NS_PER_S);   /* well inside B's 60 s TIME-WAIT */
    net2_done(&n);
}

/* ---- simultaneous open and close between two tcpbed stacks ---------------- */
/* RFC 9293 §3.5 Figure 7 and §3.6 Figure 13: both ends connect to each
 * other's port at the same instant (the SYNs cross, then the SYN-ACKs),
 * each sends `bytes` and shuts down at once (the FINs cross). Both must
 * deliver everything and close cleanly. */
struct simul {
    struct net2 *n;
    int32_t h[2];
    uint64_t rx[2];
    uint32_t bytes;
    int closed[2], connected[2], errors;
};

static void simul_app(struct sim *sim, struct sim_host *host, void *ctx) {
    struct simul *s = ctx;
    int i = host == s->n->a ? 0 : 1;
    struct tb_stack *st = sim_host_stack(host);
    tb_time_ns now = sim_now(sim);
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_stack_events(st, ev, 32)) > 0) {
        for (size_t k = 0; k < n; k++) {
            switch (ev[k].type) {
            case TB_EV_TCP_CONNECTED: {
                static uint8_t data[65536];
                crr_fill(data, s->bytes, (uint8_t)(3 + i));
                s->connected[i]++;
                if (tb_tcp_send(st, now, s->h[i], data, s->bytes) != (int64_t)s->bytes) s->errors++;
                tb_tcp_shutdown(st, now, s->h[i]);
                break;
            }
            case TB_EV_TCP_READABLE: {
                uint8_t buf[8192];
                int64_t got;
                while ((got = tb_tcp_recv(st, now, s->h[i], buf, sizeof(buf))) > 0) {
                    for (int64_t b = 0; b < got; b++)   /* crr_fill's pattern, from the other end's salt */
                        if (buf[b] != (uint8_t)((s->rx[i] + (uint64_t)b) * 7 + (uint8_t)(3 + (1 - i)))) s->errors++;
                    s->rx[i] += (uint64_t)got;
                }
                break;
            }
            case TB_EV_TCP_CLOSED: s->closed[i]++; break;
            case TB_EV_TCP_ERROR: s->errors++; break;
            default: break;
            }
        }
    }
    if (s->closed[0] && s->closed[1]) sim_stop(sim);
}

static void simul_kick(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct simul *s = ctx;
    tb_time_ns now = sim_now(sim);
    s->h[0] = tb_tcp_connect_from(sim_host_stack(s->n->a), now, 5000, SIM_HOST_B_IP, 6000);
    s->h[1] = tb_tcp_connect_from(sim_host_stack(s->n->b), now, 6000, SIM_HOST_A_IP, 5000);
    sim_host_kick(sim, s->n->a);
    sim_host_kick(sim, s->n->b);
}

static void simultaneous_open_and_close_between_two_stacks(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct net2 n;
        net2_build(&n, seed, NULL);
        /* Both hosts must know each other's MAC first, or ARP serialises the SYNs. */
        struct simul s = {.n = &n, .bytes = 4000 + 1000 * (uint32_t)seed};
        sim_host_set_app(n.a, simul_app, &s);
        sim_host_set_app(n.b, simul_app, &s);
        sim_at(n.sim, 0, simul_kick, &s, 0);
        sim_run(n.sim, 60 * TB_NS_PER_S);
        assert_true(s.h[0] >= 0 && s.h[1] >= 0);
        assert_int_equal(s.errors, 0);
        assert_int_equal(s.connected[0], 1);
        assert_int_equal(s.connected[1], 1);
        assert_int_equal(s.rx[0], s.bytes);
        assert_int_equal(s.rx[1], s.bytes);
        assert_int_equal(s.closed[0], 1);
        assert_int_equal(s.closed[1], 1);
        struct tb_tcp_info ia, ib;
        assert_int_equal(tb_tcp_info(sim_host_stack(n.a), s.h[0], &ia), TB_OK);
        assert_int_equal(tb_tcp_info(sim_host_stack(n.b), s.h[1], &ib), TB_OK);
        assert_int_equal(ia.state, TB_TCP_TIME_WAIT);   /* both closed actively: both wait (§3.6 Figure 13) */
        assert_int_equal(ib.state, TB_TCP_TIME_WAIT);
        tb_tcp_close(sim_host_stack(n.a), sim_now(n.sim), s.h[0]);
        tb_tcp_close(sim_host_stack(n.b), sim_now(n.sim), s.h[1]);
        net2_done(&n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lossless_transfer_negotiates_options_and_retransmits_nothing),
        cmocka_unit_test(zero_copy_transfer_delivers_every_byte),
        cmocka_unit_test(lost_syn_is_retransmitted_after_the_initial_rto),
        cmocka_unit_test(lost_syn_ack_is_recovered),
        cmocka_unit_test(lost_fin_is_retransmitted),
        cmocka_unit_test(lost_last_ack_is_recovered_by_time_wait),
        cmocka_unit_test(lost_data_segments_are_repaired_by_fast_recovery),
        cmocka_unit_test(lost_acks_do_not_stop_the_transfer),
        cmocka_unit_test(zero_window_is_probed_and_reopens),
        cmocka_unit_test(transfer_across_the_sequence_wrap),
        cmocka_unit_test(same_seed_same_pcap_other_seed_other_isn),
        cmocka_unit_test(ten_thousand_short_connections),
        cmocka_unit_test(syn_queue_overflow_is_absorbed_by_cookies),
        cmocka_unit_test(half_close_lets_the_other_side_keep_sending),
        cmocka_unit_test(time_wait_is_reused_by_a_newer_syn),
        cmocka_unit_test(simultaneous_open_and_close_between_two_stacks),
        cmocka_unit_test(every_accepted_mtu_carries_tcp),
    };
    return cmocka_run_group_tests_name("tcp_sim", tests, NULL, NULL);
}
