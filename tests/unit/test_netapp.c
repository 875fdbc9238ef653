/* The network applications (harness/apps/netapp.h) on two simulated hosts,
 * A (10.0.0.1) and B (10.0.0.2): every app against the client or against
 * a small raw TCP peer written here (a test-side HTTP client among them),
 * on clean and on lossy links, with every byte's SHA-256 checked against
 * the seeded stream hashed independently here. And the HTTP parser alone,
 * on every split and on random bytes. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/apps/netapp.h"
#include "harness/apps/netapp_http.h"
#include "harness/apps/sender.h"
#include "harness/apps/stream.h"
#include "harness/host/host.h"
#include "helpers.h"
#include "sim/ping.h"
#include "sim/sim.h"
#include "tcpbed/assert.h"
#include "tcpbed/prng.h"

#define MS TB_NS_PER_MS
#define SEC TB_NS_PER_S
#define SEED 77
#define PORT 7

/* ---- the network ----------------------------------------------------------- */

struct net {
    struct sim *sim;
    struct sim_host *a, *b;
    int link;
    tb_time_ns t;                 /* how far the test has run the simulation */
};

static const struct sim_link_params clean_link = {.delay_ns = 1 * MS, .rate_bps = 1000000000, .queue_bytes = 1 << 20};
/* Every random fault at once, both ways. */
static const struct sim_link_params lossy_link = {.delay_ns = 2 * MS, .rate_bps = 100000000, .queue_bytes = 1 << 20,
                                                  .loss = 0.02, .reorder = 0.05, .duplicate = 0.01, .corrupt = 0.005};

static void net_build(struct net *n, const struct sim_link_params *lp, uint32_t max_conns) {
    struct tb_config cfg[2];
    for (int i = 0; i < 2; i++) {
        sim_two_host_config(&cfg[i], SEED, i);
        if (max_conns > 0) cfg[i].tcp_max_conns = max_conns;
    }
    memset(n, 0, sizeof(*n));
    n->sim = sim_new(SEED);
    n->a = sim_add_host(n->sim, "A", &cfg[0]);
    n->b = sim_add_host(n->sim, "B", &cfg[1]);
    assert_non_null(n->a);
    assert_non_null(n->b);
    n->link = sim_connect(n->sim, n->a, n->b, lp);
    assert_true(n->link >= 0);
}

static void net_done(struct net *n) {
    const char *why = NULL;
    if (!tb_stack_check(sim_host_stack(n->a), &why)) fail_msg("A self-check: %s", why);
    if (!tb_stack_check(sim_host_stack(n->b), &why)) fail_msg("B self-check: %s", why);
    sim_free(n->sim);   /* tb_stack_free asserts every buffer came home */
}

static struct tb_host *host_a(struct net *n) { return sim_host_host(n->a); }
static struct tb_host *host_b(struct net *n) { return sim_host_host(n->b); }

static void run_for(struct net *n, tb_time_ns d) {
    n->t += d;
    sim_run(n->sim, n->t);
}

/* Runs in 10 ms steps until done(ctx), at most `limit` more; false on the limit. */
static bool run_until(struct net *n, bool (*done)(const void *), const void *ctx, tb_time_ns limit) {
    tb_time_ns end = n->t + limit;
    while (!done(ctx)) {
        if (n->t >= end) return false;
        run_for(n, 10 * MS);
    }
    return true;
}

static bool app_done(const void *app) { return netapp_done(app); }

static void blackhole(struct net *n) {
    struct sim_link_params dead = clean_link;
    dead.loss = 1.0;
    sim_link_set_params(n->sim, n->link, 1, &dead);
    sim_link_set_params(n->sim, n->link, 0, &dead);
}

/* ---- the apps ---------------------------------------------------------------- */

static struct netapp_opts server_opts(enum netapp_kind kind) {
    return (struct netapp_opts){.kind = kind, .port = PORT, .seed = SEED};
}

static struct netapp_opts client_opts(uint64_t bytes) {
    return (struct netapp_opts){.kind = NETAPP_CLIENT, .connect_ipv4 = SIM_HOST_B_IP, .connect_port = PORT,
                                .bytes_set = true, .bytes = bytes, .seed = SEED};
}

static struct netapp *start(const struct netapp_opts *o, struct tb_host *h) {
    char err[256] = "";
    struct netapp *app = netapp_start(o, h, err, sizeof(err));
    if (app == NULL) fail_msg("netapp_start: %s", err);
    return app;
}

static struct netapp_summary summary(const struct netapp *app) {
    struct netapp_summary s;
    netapp_summary(app, &s);
    return s;
}

/* SHA-256 of the first n bytes of the seeded stream, the test's own way. */
static void stream_sha256(uint64_t n, uint8_t out[32]) {
    static uint8_t buf[65536];
    struct tb_stream s;
    tb_stream_init(&s, SEED);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    while (n > 0) {
        size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
        tb_stream_fill(&s, buf, k);
        EVP_DigestUpdate(md, buf, k);
        n -= k;
    }
    assert_int_equal(EVP_DigestFinal_ex(md, out, NULL), 1);
    EVP_MD_CTX_free(md);
}

static void assert_digest(const uint8_t got[32], uint64_t stream_bytes) {
    uint8_t want[32];
    stream_sha256(stream_bytes, want);
    if (memcmp(got, want, 32) != 0) {
        char g[65], w[65];
        netapp_hex(got, g);
        netapp_hex(want, w);
        fail_msg("sha256 %s, expected %s (the first %llu stream bytes)", g, w, (unsigned long long)stream_bytes);
    }
}

static void assert_flow_ok(const struct netapp_flow *f) {
    if (f->error != 0 || f->failure != NULL)
        fail_msg("flow %u: error %s, failure %s", f->id, tb_err_name(f->error), f->failure ? f->failure : "-");
    assert_true(f->done);
}

/* ---- client -> echo --------------------------------------------------------- */

static void client_to_echo_gets_every_byte_back(void **state) {
    (void)state;
    const uint64_t sizes[] = {0, 1, 1447, 100 * 1000, 5 * 1000 * 1000 + 3};
    for (size_t k = 0; k < TB_ARRAY_LEN(sizes); k++) {
        uint64_t n = sizes[k];
        struct net net;
        net_build(&net, &clean_link, 0);
        struct netapp_opts eo = server_opts(NETAPP_ECHO);
        struct netapp_opts co = client_opts(n);
        struct netapp *echo = start(&eo, host_b(&net));
        struct netapp *client = start(&co, host_a(&net));
        assert_true(run_until(&net, app_done, client, 120 * SEC));
        assert_int_equal(netapp_exit_status(client), 0);
        netapp_stop(echo);
        assert_true(run_until(&net, app_done, echo, 1 * SEC));
        assert_int_equal(netapp_exit_status(echo), 0);

        struct netapp_summary c = summary(client), e = summary(echo);
        assert_int_equal(c.connections, 1);
        assert_int_equal(c.connections_failed, 0);
        assert_int_equal(c.bytes_out, n);
        assert_int_equal(c.bytes_in, n);
        assert_int_equal(e.bytes_in, n);
        assert_int_equal(e.bytes_out, n);
        assert_flow_ok(&c.flows[0]);
        assert_flow_ok(&e.flows[0]);
        assert_digest(c.sha256_out, n);
        assert_digest(c.sha256_in, n);
        assert_digest(e.sha256_in, n);
        assert_digest(e.sha256_out, n);
        assert_memory_equal(c.flows[0].sha256_in, c.sha256_in, 32);
        if (n == 0) {
            /* SHA-256 of nothing, as every implementation knows it. */
            char hex[65];
            netapp_hex(c.sha256_in, hex);
            assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        }
        assert_int_equal(e.flows[0].peer_ipv4, SIM_HOST_A_IP);
        assert_int_equal(e.flows[0].local_port, PORT);
        assert_int_equal(c.flows[0].peer_port, PORT);
        assert_true(c.end_ns >= c.start_ns);
        netapp_free(client);
        netapp_free(echo);
        net_done(&net);
    }
}

/* ---- sink, source, both ways, over a lossy link ---------------------------- */

static void transfers_survive_every_fault(void **state) {
    (void)state;
    const uint64_t n = 1500 * 1000 + 11;
    struct {
        enum netapp_kind server;
        bool both;
        uint64_t client_bytes;
        uint64_t server_sends;
    } cases[] = {
        {NETAPP_SINK, false, n, 0},      /* client -> sink */
        {NETAPP_SOURCE, false, 0, n},    /* source -> client */
        {NETAPP_SINK, true, n, n},       /* both ways at once */
        {NETAPP_SOURCE, true, n, n},
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(cases); k++) {
        struct net net;
        net_build(&net, &lossy_link, 0);
        struct netapp_opts so = server_opts(cases[k].server);
        so.both = cases[k].both;
        if (cases[k].server_sends > 0) {
            so.bytes_set = true;
            so.bytes = cases[k].server_sends;
        }
        struct netapp_opts co = client_opts(cases[k].client_bytes);
        co.both = cases[k].both;
        struct netapp *server = start(&so, host_b(&net));
        struct netapp *client = start(&co, host_a(&net));
        assert_true(run_until(&net, app_done, client, 600 * SEC));
        netapp_stop(server);
        assert_true(run_until(&net, app_done, server, 10 * SEC));
        struct netapp_summary c = summary(client), s = summary(server);
        assert_flow_ok(&c.flows[0]);
        assert_flow_ok(&s.flows[0]);
        assert_int_equal(netapp_exit_status(client), 0);
        assert_int_equal(netapp_exit_status(server), 0);
        assert_int_equal(c.bytes_out, cases[k].client_bytes);
        assert_int_equal(s.bytes_in, cases[k].client_bytes);
        assert_int_equal(s.bytes_out, cases[k].server_sends);
        assert_int_equal(c.bytes_in, cases[k].server_sends);
        assert_digest(c.sha256_out, cases[k].client_bytes);
        assert_digest(s.sha256_in, cases[k].client_bytes);
        assert_digest(s.sha256_out, cases[k].server_sends);
        assert_digest(c.sha256_in, cases[k].server_sends);
        /* The faults did fire: the check is not vacuous. */
        struct sim_link_stats ab, ba;
        sim_link_stats(net.sim, net.link, 1, &ab);
        sim_link_stats(net.sim, net.link, 0, &ba);
        assert_true(ab.loss_drops + ba.loss_drops > 0);
        assert_true(ab.corrupted + ba.corrupted > 0);
        assert_true(ab.duplicated + ba.duplicated > 0);
        assert_true(ab.reordered + ba.reordered > 0);
        netapp_free(client);
        netapp_free(server);
        net_done(&net);
    }
}

static void both_fails_unless_exactly_bytes_came_back(void **state) {
    (void)state;
    struct net net;
    net_build(&net, &clean_link, 0);
    struct netapp_opts so = server_opts(NETAPP_SINK);
    so.both = true;
    so.bytes_set = true;
    so.bytes = 1000;
    struct netapp_opts co = client_opts(2000);
    co.both = true;
    struct netapp *server = start(&so, host_b(&net));
    struct netapp *client = start(&co, host_a(&net));
    assert_true(run_until(&net, app_done, client, 10 * SEC));
    netapp_stop(server);
    assert_true(run_until(&net, app_done, server, 1 * SEC));
    struct netapp_summary c = summary(client), s = summary(server);
    assert_int_equal(netapp_exit_status(client), 1);
    assert_int_equal(netapp_exit_status(server), 1);
    assert_int_equal(c.connections_failed, 1);
    assert_int_equal(c.flows[0].error, 0);
    assert_string_equal(c.flows[0].failure, "expected 2000 bytes back, received 1000");
    assert_string_equal(s.flows[0].failure, "expected 1000 bytes back, received 2000");
    /* The data itself still went through intact. */
    assert_digest(c.sha256_in, 1000);
    assert_digest(s.sha256_in, 2000);
    char text[2048];
    FILE *f = fmemopen(text, sizeof(text), "w");
    assert_non_null(f);
    netapp_print_summary(client, f);
    fclose(f);
    assert_non_null(strstr(text, "client: 1 connection (1 failed)"));
    assert_non_null(strstr(text, "first failure: connection 1 (10.0.0.2:7): expected 2000 bytes back, received 1000"));
    netapp_free(client);
    netapp_free(server);
    net_done(&net);
}

/* ---- a raw TCP peer the test scripts ------------------------------------------ */

/* Send `data`, then wait until `wait_responses` HTTP responses are complete. */
struct raw_step {
    const char *data;
    size_t len;                   /* 0: strlen(data) */
    size_t wait_responses;
};

struct raw_peer {
    struct tb_host *h;
    int32_t listener, conn;
    const struct raw_step *steps;
    size_t nsteps, step, step_off;
    bool half_close;              /* after the steps (and stream): FIN; otherwise FIN after the peer's */
    uint64_t stream_bytes;        /* after the steps: this much of the seeded stream */
    struct tb_sender tx;
    uint8_t chunk[16384];
    bool reading_paused;
    uint64_t abort_after_rx;      /* 0: never; else abort once this many bytes arrived */
    uint32_t head_mask;           /* bit i: response i answers a HEAD (no body) */
    uint8_t *rx;
    size_t rx_len, rx_cap;
    size_t responses, responses_at_eof;
    bool connected, eof, shut, closed, aborted;
    bool peer_closed_first;       /* the peer's FIN came before ours */
    int error;
};

static void raw_init(struct raw_peer *r, struct tb_host *h) {
    memset(r, 0, sizeof(*r));
    r->h = h;
    r->listener = r->conn = -1;
    tb_sender_init(&r->tx, SEED, r->chunk, sizeof(r->chunk), false);
}

static void raw_free(struct raw_peer *r) {
    tb_host_set_app(r->h, NULL, NULL);
    free(r->rx);
}

/* An HTTP response as the test reads it, independently of the app's code. */
struct t_resp {
    int status;
    bool has_length;
    uint64_t length;
    char connection[32], content_type[64];
    size_t body_off, body_len;
};

static size_t find_crlfcrlf(const uint8_t *p, size_t len) {
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0) return i;
    return len;
}

/* Parses complete responses from rx; returns how many (at most max). */
static size_t t_parse_responses(const uint8_t *rx, size_t len, uint32_t head_mask, struct t_resp *out, size_t max) {
    size_t n = 0, pos = 0;
    while (n < max && pos < len) {
        size_t end = find_crlfcrlf(rx + pos, len - pos);
        if (end == len - pos) break;
        struct t_resp r = {0};
        char head[4096];
        size_t hl = end < sizeof(head) - 1 ? end : sizeof(head) - 1;
        memcpy(head, rx + pos, hl);
        head[hl] = '\0';
        if (sscanf(head, "HTTP/1.1 %d", &r.status) != 1) r.status = -1;
        for (char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
            const char *l = line + 2;
            unsigned long long v;
            if (strncasecmp(l, "Content-Length: ", 16) == 0 && sscanf(l + 16, "%llu", &v) == 1) {
                r.has_length = true;
                r.length = v;
            }
            if (strncasecmp(l, "Connection: ", 12) == 0) sscanf(l + 12, "%31[^\r]", r.connection);
            if (strncasecmp(l, "Content-Type: ", 14) == 0) sscanf(l + 14, "%63[^\r]", r.content_type);
        }
        r.body_off = pos + end + 4;
        r.body_len = (head_mask >> n) & 1 ? 0 : (size_t)r.length;
        if (len - r.body_off < r.body_len) break;
        out[n++] = r;
        pos = r.body_off + r.body_len;
    }
    return n;
}

static void raw_shutdown(struct raw_peer *r) {
    if (r->shut) return;
    r->shut = true;
    tb_host_shutdown(r->h, r->conn);
}

static void raw_service(struct raw_peer *r) {
    if (r->conn < 0 || !r->connected || r->closed) return;
    for (bool progress = true; progress && !r->closed;) {
        progress = false;
        while (!r->shut && r->step < r->nsteps) {
            const struct raw_step *s = &r->steps[r->step];
            size_t len = s->len ? s->len : strlen(s->data);
            while (r->step_off < len) {
                int64_t k = tb_host_send(r->h, r->conn, s->data + r->step_off, len - r->step_off);
                if (k <= 0) break;
                r->step_off += (size_t)k;
            }
            if (r->step_off < len || r->responses < s->wait_responses) break;
            r->step++;
            r->step_off = 0;
        }
        if (!r->shut && r->step == r->nsteps) {
            if (r->stream_bytes > 0) {
                tb_sender_add(&r->tx, r->stream_bytes);
                r->stream_bytes = 0;
            }
            tb_sender_pump(&r->tx, r->h, r->conn);
            if (tb_sender_idle(&r->tx) && (r->half_close || r->eof)) raw_shutdown(r);
        }
        while (!r->reading_paused && !r->eof) {
            if (r->rx_cap - r->rx_len < 16384) {
                r->rx_cap = r->rx_cap ? 2 * r->rx_cap : 65536;
                r->rx = realloc(r->rx, r->rx_cap);
                assert_non_null(r->rx);
            }
            int64_t k = tb_host_recv(r->h, r->conn, r->rx + r->rx_len, r->rx_cap - r->rx_len);
            if (k == 0) {
                r->eof = true;
                r->peer_closed_first = !r->shut;
            }
            if (k <= 0) break;
            r->rx_len += (size_t)k;
            progress = true;
        }
        if (r->nsteps > 0) {   /* an HTTP client: count the complete responses */
            struct t_resp resp[64];
            size_t got = t_parse_responses(r->rx, r->rx_len, r->head_mask, resp, 64);
            if (got != r->responses) progress = true;
            r->responses = got;
        }
        if (r->eof) {
            if (r->responses_at_eof == 0) r->responses_at_eof = r->responses;
            raw_shutdown(r);   /* the peer is done: so are we, whatever was left to say */
        }
        if (r->abort_after_rx > 0 && r->rx_len >= r->abort_after_rx && !r->aborted) {
            tb_host_abort(r->h, r->conn);
            r->aborted = r->closed = true;
        }
    }
}

static void raw_app(struct tb_host *h, void *ctx) {
    struct raw_peer *r = ctx;
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_host_events(h, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type == TB_EV_TCP_ACCEPTABLE && ev[i].conn == r->listener && r->conn < 0) {
                r->conn = tb_host_accept(h, r->listener);
                r->connected = r->conn >= 0;
                continue;
            }
            if (ev[i].conn != r->conn || r->closed) continue;
            if (ev[i].type == TB_EV_TCP_CONNECTED) r->connected = true;
            if (ev[i].type == TB_EV_TCP_CLOSED) {
                raw_service(r);
                if (!r->closed) tb_host_close(h, r->conn);
                r->closed = true;
            }
            if (ev[i].type == TB_EV_TCP_ERROR) {
                r->error = ev[i].error;
                tb_host_close(h, r->conn);
                r->closed = true;
            }
        }
    }
    raw_service(r);
}

static void raw_connect(struct raw_peer *r) {
    tb_host_set_app(r->h, raw_app, r);
    r->conn = tb_host_connect(r->h, SIM_HOST_B_IP, PORT);
    assert_true(r->conn >= 0);
    tb_host_kick(r->h);
}

static void raw_listen(struct raw_peer *r) {
    tb_host_set_app(r->h, raw_app, r);
    r->listener = tb_host_listen(r->h, PORT, 0);
    assert_true(r->listener >= 0);
}

static bool raw_closed(const void *r) { return ((const struct raw_peer *)r)->closed; }

/* ---- http ------------------------------------------------------------------------ */

#define BODY 100003

struct http_case {
    const char *name;
    struct raw_step steps[4];
    size_t nsteps;
    bool half_close;
    uint32_t head_mask;
    size_t want_responses;
    int want_status[4];
    bool server_closes;           /* the server closed on its own (before our FIN) */
};

static void check_body(const uint8_t *body, size_t len) {
    static uint8_t ref[BODY];
    struct tb_stream s;
    tb_stream_init(&s, SEED);
    tb_stream_fill(&s, ref, BODY);
    assert_int_equal(len, BODY);
    assert_memory_equal(body, ref, BODY);
}

#define GET "GET / HTTP/1.1\r\nHost: b\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
#define GET_CLOSE "GET /x HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
#define HEAD "HEAD / HTTP/1.1\r\nHost: b\r\n\r\n"

static void http_answers_what_curl_and_wrk_send(void **state) {
    (void)state;
    static char big_header[10 * 1024];
    static const char garbage[] = "\x16\x03\x01\x02\x00 garbage\r\n\r\n";   /* a TLS hello's start, a NUL */
    snprintf(big_header, sizeof(big_header), "GET / HTTP/1.1\r\nHost: b\r\nX-Big: %09216d\r\n\r\n", 0);
    const struct http_case cases[] = {
        {"keep-alive, one after the other", {{GET, 0, 1}, {GET, 0, 2}}, 2, true, 0, 2, {200, 200}, false},
        {"pipelined GET HEAD GET", {{GET HEAD GET, 0, 3}}, 1, true, 2, 3, {200, 200, 200}, false},
        {"pipelined, then our FIN at once", {{GET GET, 0, 0}}, 1, true, 0, 2, {200, 200}, false},
        {"Connection: close; what follows is ignored", {{GET_CLOSE GET, 0, 1}}, 1, false, 0, 1, {200}, true},
        {"HTTP/1.0 closes by default", {{"GET / HTTP/1.0\r\n\r\n", 0, 1}}, 1, false, 0, 1, {200}, true},
        {"HTTP/1.0 keep-alive", {{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, 1}}, 1, true, 0, 1, {200}, false},
        {"a body on a GET is passed over", {{"GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhello" GET, 0, 2}}, 1, true, 0, 2, {200, 200}, false},
        {"LF line ends and a leading empty line", {{"\r\nGET / HTTP/1.1\nHost: b\n\n", 0, 1}}, 1, true, 0, 1, {200}, false},
        {"a 9 KiB header: 431", {{big_header, 0, 1}}, 1, false, 0, 1, {431}, true},
        {"garbage: 400", {{garbage, sizeof(garbage) - 1, 1}}, 1, false, 0, 1, {400}, true},
        {"no Host in HTTP/1.1: 400", {{"GET / HTTP/1.1\r\n\r\n", 0, 1}}, 1, false, 0, 1, {400}, true},
        {"space before the colon: 400", {{"GET / HTTP/1.1\r\nHost : b\r\n\r\n", 0, 1}}, 1, false, 0, 1, {400}, true},
        {"POST: 501", {{"POST / HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi", 0, 1}}, 1, false, 0, 1, {501}, true},
        {"HTTP/2.0 in text: 505", {{"GET / HTTP/2.0\r\nHost: b\r\n\r\n", 0, 1}}, 1, false, 0, 1, {505}, true},
        {"a good request, then a bad one", {{GET "BROKEN\r\n\r\n", 0, 2}}, 1, false, 0, 2, {200, 400}, true},
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(cases); k++) {
        const struct http_case *hc = &cases[k];
        print_message("  http: %s\n", hc->name);
        struct net net;
        net_build(&net, &clean_link, 0);
        struct netapp_opts ho = server_opts(NETAPP_HTTP);
        ho.http_body_bytes = BODY;
        struct netapp *http = start(&ho, host_b(&net));
        struct raw_peer r;
        raw_init(&r, host_a(&net));
        r.steps = hc->steps;
        r.nsteps = hc->nsteps;
        r.half_close = hc->half_close;
        r.head_mask = hc->head_mask;
        raw_connect(&r);
        assert_true(run_until(&net, raw_closed, &r, 30 * SEC));
        assert_int_equal(r.error, 0);
        assert_true(r.eof);
        struct t_resp resp[8];
        size_t n = t_parse_responses(r.rx, r.rx_len, r.head_mask, resp, 8);
        assert_int_equal(n, hc->want_responses);
        /* Nothing after the last response. */
        assert_int_equal(resp[n - 1].body_off + resp[n - 1].body_len, r.rx_len);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(resp[i].status, hc->want_status[i]);
            assert_true(resp[i].has_length);
            bool last_of_close = hc->server_closes && i == n - 1;
            assert_string_equal(resp[i].connection, last_of_close ? "close" : "keep-alive");
            if (resp[i].status == 200) {
                assert_int_equal(resp[i].length, BODY);
                assert_string_equal(resp[i].content_type, "application/octet-stream");
                if (!((hc->head_mask >> i) & 1)) check_body(r.rx + resp[i].body_off, resp[i].body_len);
            } else {
                assert_int_equal(resp[i].length, 0);
            }
        }
        /* The server closed right after its last response, or after our FIN. */
        assert_int_equal(r.responses_at_eof, n);
        assert_int_equal(r.peer_closed_first, hc->server_closes);
        netapp_stop(http);
        assert_true(run_until(&net, app_done, http, 1 * SEC));
        struct netapp_summary s = summary(http);
        assert_int_equal(s.connections, 1);
        assert_int_equal(s.http_requests, n);
        assert_int_equal(s.flows[0].http_requests, n);
        assert_int_equal(s.bytes_out, r.rx_len);
        assert_flow_ok(&s.flows[0]);
        assert_int_equal(netapp_exit_status(http), 0);
        raw_free(&r);
        netapp_free(http);
        net_done(&net);
    }
}

/* A small response is one segment: no head sent alone with the body held
 * back by Nagle's algorithm until the client's delayed ACK. */
static void http_small_responses_are_one_segment_each(void **state) {
    (void)state;
    struct net net;
    net_build(&net, &clean_link, 0);
    struct netapp_opts ho = server_opts(NETAPP_HTTP);
    ho.http_body_bytes = 100;
    struct netapp *http = start(&ho, host_b(&net));
    struct raw_step steps[10];
    for (size_t i = 0; i < 10; i++) steps[i] = (struct raw_step){GET, 0, i + 1};
    struct raw_peer r;
    raw_init(&r, host_a(&net));
    r.steps = steps;
    r.nsteps = 10;
    r.half_close = true;
    raw_connect(&r);
    tb_time_ns t0 = net.t;
    assert_true(run_until(&net, raw_closed, &r, 10 * SEC));
    assert_int_equal(r.responses, 10);
    /* Ten round trips of 2 ms and the handshakes, far from ten 40 ms delayed ACKs. */
    assert_true(net.t - t0 < 60 * MS);
    struct tb_stats st;
    tb_stack_stats(sim_host_stack(net.b), &st);
    assert_int_equal(st.tcp_data_segs_out, 10);
    netapp_stop(http);
    assert_true(run_until(&net, app_done, http, 1 * SEC));
    assert_int_equal(summary(http).http_requests, 10);
    raw_free(&r);
    netapp_free(http);
    net_done(&net);
}

/* ---- errors ------------------------------------------------------------------------ */

static void client_to_a_closed_port_is_refused(void **state) {
    (void)state;
    struct net net;
    net_build(&net, &clean_link, 0);
    struct netapp_opts co = client_opts(1000);
    struct netapp *client = start(&co, host_a(&net));
    assert_true(run_until(&net, app_done, client, 10 * SEC));
    struct netapp_summary c = summary(client);
    assert_int_equal(c.connections, 1);
    assert_int_equal(c.connections_failed, 1);
    assert_int_equal(c.flows[0].error, TB_ERR_REFUSED);
    assert_int_equal(c.bytes_out, 0);
    assert_int_equal(netapp_exit_status(client), 1);
    netapp_free(client);
    net_done(&net);
}

static void a_peer_that_aborts_mid_transfer_ends_the_flow(void **state) {
    (void)state;
    /* The client's peer resets it after 200 kB of 5 MB. */
    struct net net;
    net_build(&net, &clean_link, 0);
    struct raw_peer r;
    raw_init(&r, host_b(&net));
    r.abort_after_rx = 200000;
    raw_listen(&r);
    struct netapp_opts co = client_opts(5000000);
    struct netapp *client = start(&co, host_a(&net));
    assert_true(run_until(&net, app_done, client, 10 * SEC));
    struct netapp_summary c = summary(client);
    assert_int_equal(c.flows[0].error, TB_ERR_RESET);
    assert_int_equal(netapp_exit_status(client), 1);
    assert_true(c.bytes_out >= 200000 && c.bytes_out < 5000000);
    netapp_free(client);
    raw_free(&r);
    net_done(&net);

    /* A server's client resets it; the server goes on serving the next. */
    net_build(&net, &clean_link, 0);
    struct netapp_opts so = server_opts(NETAPP_SINK);
    struct netapp *sink = start(&so, host_b(&net));
    raw_init(&r, host_a(&net));
    r.stream_bytes = 1000000;
    raw_connect(&r);
    run_for(&net, 50 * MS);
    tb_host_abort(host_a(&net), r.conn);
    tb_host_kick(host_a(&net));
    r.closed = true;
    run_for(&net, 50 * MS);
    raw_free(&r);
    struct netapp *client2 = start(&co, host_a(&net));
    assert_true(run_until(&net, app_done, client2, 30 * SEC));
    assert_int_equal(netapp_exit_status(client2), 0);
    netapp_stop(sink);
    assert_true(run_until(&net, app_done, sink, 1 * SEC));
    struct netapp_summary s = summary(sink);
    assert_int_equal(s.connections, 2);
    assert_int_equal(s.connections_failed, 1);
    assert_int_equal(s.flows[0].error, TB_ERR_RESET);
    assert_flow_ok(&s.flows[1]);
    assert_digest(s.flows[1].sha256_in, 5000000);
    assert_memory_equal(s.sha256_in, (uint8_t[32]){0}, 32);   /* several connections: no overall digest */
    assert_int_equal(netapp_exit_status(sink), 1);
    netapp_free(client2);
    netapp_free(sink);
    net_done(&net);
}

static void a_peer_that_disappears_times_out(void **state) {
    (void)state;
    /* Keepalive: an idle connection to an echo server with keepalive on. */
    struct net net;
    net_build(&net, &clean_link, 0);
    struct netapp_opts eo = server_opts(NETAPP_ECHO);
    eo.keepalive_idle_ns = 2 * SEC;
    eo.keepalive_intvl_ns = 1 * SEC;
    eo.keepalive_probes = 3;
    struct netapp *echo = start(&eo, host_b(&net));
    struct raw_peer r;
    raw_init(&r, host_a(&net));
    raw_connect(&r);
    run_for(&net, 100 * MS);
    assert_true(r.connected);
    blackhole(&net);
    run_for(&net, 8 * SEC);   /* idle 2 s, then 3 probes 1 s apart */
    struct netapp_summary e = summary(echo);
    assert_int_equal(e.connections, 1);
    assert_int_equal(e.flows[0].error, TB_ERR_TIMEOUT);
    assert_true(e.flows[0].done);
    assert_false(netapp_done(echo));   /* still listening */
    assert_int_equal(netapp_exit_status(echo), 1);
    netapp_stop(echo);
    assert_true(netapp_done(echo));
    netapp_free(echo);
    tb_host_abort(host_a(&net), r.conn);
    raw_free(&r);
    net_done(&net);

    /* Retransmissions: a client sending until stopped, then nothing gets through. */
    net_build(&net, &clean_link, 0);
    struct netapp_opts so = server_opts(NETAPP_SINK);
    struct netapp *sink = start(&so, host_b(&net));
    struct netapp_opts co = client_opts(0);
    co.bytes_set = false;
    struct netapp *client = start(&co, host_a(&net));
    run_for(&net, 200 * MS);
    blackhole(&net);
    assert_true(run_until(&net, app_done, client, 3600 * SEC));
    struct netapp_summary c = summary(client);
    assert_int_equal(c.flows[0].error, TB_ERR_TIMEOUT);
    assert_int_equal(netapp_exit_status(client), 1);
    netapp_abort_all(sink);
    assert_true(netapp_done(sink));
    netapp_free(client);
    netapp_free(sink);
    net_done(&net);
}

/* ---- stop and abort ------------------------------------------------------------------ */

static bool both_done(const void *ctx) {
    struct netapp *const *apps = ctx;
    return netapp_done(apps[0]) && netapp_done(apps[1]);
}

static void stop_closes_every_app_cleanly(void **state) {
    (void)state;
    for (int kind = 0; kind < NETAPP__COUNT; kind++) {
        if (kind == NETAPP_CLIENT) continue;
        struct net net;
        net_build(&net, &clean_link, 0);
        struct netapp_opts so = server_opts((enum netapp_kind)kind);
        if (kind == NETAPP_HTTP) so.http_body_bytes = 50 * 1000 * 1000;   /* still being sent at the stop */
        struct netapp *server = start(&so, host_b(&net));
        if (kind == NETAPP_HTTP) {
            struct raw_peer r;
            raw_init(&r, host_a(&net));
            static const struct raw_step get[] = {{GET GET, 0, 2}};
            r.steps = get;
            r.nsteps = 1;
            raw_connect(&r);
            run_for(&net, 100 * MS);
            netapp_stop(server);
            assert_true(run_until(&net, raw_closed, &r, 60 * SEC));
            assert_true(run_until(&net, app_done, server, 1 * SEC));
            /* The response in progress was finished; the pipelined one was not started. */
            struct t_resp resp[4];
            assert_int_equal(t_parse_responses(r.rx, r.rx_len, 0, resp, 4), 1);
            assert_int_equal(resp[0].body_off + resp[0].body_len, r.rx_len);
            assert_int_equal(r.error, 0);
            raw_free(&r);
        } else {
            /* The client sends until stopped (source: it only receives). */
            struct netapp_opts co = client_opts(0);
            co.bytes_set = kind == NETAPP_SOURCE;
            struct netapp *client = start(&co, host_a(&net));
            run_for(&net, 300 * MS);
            assert_int_equal(summary(server).connections, 1);
            netapp_stop(server);
            netapp_stop(client);
            struct netapp *apps[2] = {server, client};
            assert_true(run_until(&net, both_done, apps, 10 * SEC));
            struct netapp_summary c = summary(client);
            assert_flow_ok(&c.flows[0]);
            assert_int_equal(netapp_exit_status(client), 0);
            assert_true(c.bytes_out + c.bytes_in > 0);
            netapp_free(client);
        }
        struct netapp_summary s = summary(server);
        assert_flow_ok(&s.flows[0]);
        assert_int_equal(netapp_exit_status(server), 0);
        if (kind == NETAPP_ECHO) assert_digest(s.flows[0].sha256_out, s.flows[0].bytes_out);
        if (kind == NETAPP_SOURCE) assert_digest(s.flows[0].sha256_out, s.flows[0].bytes_out);
        netapp_free(server);
        net_done(&net);
    }
}

static void stop_with_no_connection_is_done_at_once(void **state) {
    (void)state;
    for (int kind = 0; kind < NETAPP__COUNT; kind++) {
        if (kind == NETAPP_CLIENT) continue;
        struct net net;
        net_build(&net, &clean_link, 0);
        struct netapp_opts so = server_opts((enum netapp_kind)kind);
        struct netapp *server = start(&so, host_b(&net));
        run_for(&net, 100 * MS);
        assert_false(netapp_done(server));
        netapp_stop(server);
        assert_true(netapp_done(server));
        assert_int_equal(netapp_exit_status(server), 0);
        struct netapp_summary s = summary(server);
        assert_int_equal(s.connections, 0);
        assert_int_equal(s.flows_listed, 0);
        assert_true(s.end_ns >= s.start_ns);
        netapp_free(server);
        net_done(&net);
    }
}

static void abort_all_resets_what_is_open(void **state) {
    (void)state;
    struct net net;
    net_build(&net, &clean_link, 0);
    struct netapp_opts eo = server_opts(NETAPP_ECHO);
    struct netapp *echo = start(&eo, host_b(&net));
    struct netapp_opts co = client_opts(0);
    co.bytes_set = false;
    struct netapp *client = start(&co, host_a(&net));
    run_for(&net, 200 * MS);
    assert_false(netapp_done(echo));
    netapp_abort_all(echo);
    assert_true(netapp_done(echo));
    assert_true(run_until(&net, app_done, client, 1 * SEC));
    struct netapp_summary e = summary(echo), c = summary(client);
    assert_int_equal(e.flows[0].error, TB_ERR_ABORTED);
    assert_int_equal(c.flows[0].error, TB_ERR_RESET);
    assert_int_equal(netapp_exit_status(echo), 1);
    assert_int_equal(netapp_exit_status(client), 1);
    netapp_free(client);
    netapp_free(echo);
    net_done(&net);
}

/* ---- bounds --------------------------------------------------------------------------- */

/* Opens `total` connections one after the other; each sends nothing. */
struct connector {
    struct tb_host *h;
    uint32_t total, opened, closed, failed;
    int32_t conn;
};

static void connector_next(struct connector *c) {
    if (c->opened == c->total) return;
    c->conn = tb_host_connect(c->h, SIM_HOST_B_IP, PORT);
    assert_true(c->conn >= 0);
    c->opened++;
}

static void connector_app(struct tb_host *h, void *ctx) {
    struct connector *c = ctx;
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_host_events(h, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].conn != c->conn) continue;
            uint8_t sink[64];
            switch (ev[i].type) {
            case TB_EV_TCP_CONNECTED: tb_host_shutdown(h, c->conn); break;
            case TB_EV_TCP_READABLE: while (tb_host_recv(h, c->conn, sink, sizeof(sink)) > 0) {} break;
            case TB_EV_TCP_ERROR: c->failed++; /* fall through */
            case TB_EV_TCP_CLOSED:
                tb_host_close(h, c->conn);
                c->closed++;
                connector_next(c);
                break;
            default: break;
            }
        }
    }
}

static bool connector_done(const void *ctx) {
    const struct connector *c = ctx;
    return c->closed == c->total;
}

static void more_connections_than_listed_are_counted(void **state) {
    (void)state;
    const uint32_t total = NETAPP_MAX_FLOWS_LISTED + 76;
    struct net net;
    net_build(&net, &clean_link, 4 * total);   /* A keeps every TIME-WAIT */
    struct netapp_opts so = server_opts(NETAPP_SINK);
    struct netapp *sink = start(&so, host_b(&net));
    struct connector c = {.h = host_a(&net), .total = total, .conn = -1};
    tb_host_set_app(c.h, connector_app, &c);
    connector_next(&c);
    tb_host_kick(c.h);
    assert_true(run_until(&net, connector_done, &c, 600 * SEC));
    assert_int_equal(c.failed, 0);
    netapp_stop(sink);
    assert_true(run_until(&net, app_done, sink, 1 * SEC));
    struct netapp_summary s = summary(sink);
    assert_int_equal(s.connections, total);
    assert_int_equal(s.connections_failed, 0);
    assert_int_equal(s.flows_listed, NETAPP_MAX_FLOWS_LISTED);
    for (size_t i = 0; i < s.flows_listed; i++) {
        assert_int_equal(s.flows[i].id, i + 1);
        assert_flow_ok(&s.flows[i]);
        assert_digest(s.flows[i].sha256_in, 0);
    }
    assert_memory_equal(s.sha256_in, (uint8_t[32]){0}, 32);
    assert_int_equal(netapp_exit_status(sink), 0);
    tb_host_set_app(c.h, NULL, NULL);
    netapp_free(sink);
    net_done(&net);
}

/* A peer that sends and does not read: echo keeps a bounded backlog, stops
 * reading, and catches up once the peer reads again. */
static void echo_holds_back_when_the_peer_does_not_read(void **state) {
    (void)state;
    const uint64_t n = 3 * 1000 * 1000;
    struct net net;
    net_build(&net, &clean_link, 0);
    struct netapp_opts eo = server_opts(NETAPP_ECHO);
    struct netapp *echo = start(&eo, host_b(&net));
    struct raw_peer r;
    raw_init(&r, host_a(&net));
    r.stream_bytes = n;
    r.half_close = true;
    r.reading_paused = true;
    raw_connect(&r);
    run_for(&net, 5 * SEC);
    struct netapp_summary e = summary(echo);
    /* Everything the stacks' buffers hold, and no more than one buffer's worth waits in the app. */
    assert_true(e.flows[0].bytes_in < n);
    assert_true(e.flows[0].bytes_in - e.flows[0].bytes_out <= 16384);
    assert_true(e.flows[0].bytes_out > 0);
    assert_false(e.flows[0].done);
    r.reading_paused = false;
    raw_service(&r);
    tb_host_kick(r.h);
    assert_true(run_until(&net, raw_closed, &r, 60 * SEC));
    assert_int_equal(r.error, 0);
    assert_int_equal(r.rx_len, n);
    uint8_t *ref = malloc(n);
    assert_non_null(ref);
    struct tb_stream st;
    tb_stream_init(&st, SEED);
    tb_stream_fill(&st, ref, n);
    assert_memory_equal(r.rx, ref, n);
    free(ref);
    assert_true(run_until(&net, app_done, echo, 1 * SEC) || (netapp_stop(echo), run_until(&net, app_done, echo, 1 * SEC)));
    e = summary(echo);
    assert_flow_ok(&e.flows[0]);
    assert_digest(e.sha256_in, n);
    assert_digest(e.sha256_out, n);
    raw_free(&r);
    netapp_free(echo);
    net_done(&net);
}

/* ---- options ----------------------------------------------------------------------------- */

struct call_log {
    bool connect_seen, listener_opts_seen;
    struct tb_tcp_optval connect_opts[8];
    size_t connect_opt_count;
    int32_t accepted;
    uint32_t listener_setopts;
};

static void log_call(void *ctx, struct tb_host *h, const struct tb_host_call *c) {
    (void)h;
    struct call_log *l = ctx;
    if (c->kind == TB_CALL_CONNECT) {
        l->connect_seen = true;
        l->connect_opt_count = c->opt_count < 8 ? c->opt_count : 8;
        memcpy(l->connect_opts, c->opts, l->connect_opt_count * sizeof(c->opts[0]));
    }
    if (c->kind == TB_CALL_SETOPT && c->result == TB_OK) l->listener_setopts++;
    if (c->kind == TB_CALL_ACCEPT && c->result >= 0) l->accepted = (int32_t)c->result;
}

static void options_reach_every_connection(void **state) {
    (void)state;
    struct net net;
    net_build(&net, &clean_link, 0);
    struct call_log la = {.accepted = -1}, lb = {.accepted = -1};
    struct tb_host_hooks ha = {.on_call = log_call, .ctx = &la}, hb = {.on_call = log_call, .ctx = &lb};
    assert_true(tb_host_add_hooks(host_a(&net), &ha));
    assert_true(tb_host_add_hooks(host_b(&net), &hb));
    struct netapp_opts so = server_opts(NETAPP_SINK);
    so.nodelay = true;
    so.keepalive_idle_ns = 30 * SEC;
    struct netapp *sink = start(&so, host_b(&net));
    struct netapp_opts co = client_opts(5000000);
    co.nodelay = true;
    co.keepalive_idle_ns = 10 * SEC;
    co.keepalive_intvl_ns = 2 * SEC;
    co.keepalive_probes = 4;
    struct netapp *client = start(&co, host_a(&net));
    /* The client's options go with its SYN; keepalive is switched on last. */
    assert_true(la.connect_seen);
    assert_int_equal(la.connect_opt_count, 4);
    assert_int_equal(la.connect_opts[0].opt, TB_TCP_OPT_NODELAY);
    assert_int_equal(la.connect_opts[3].opt, TB_TCP_OPT_KEEPALIVE_IDLE_NS);
    assert_int_equal(la.connect_opts[3].value, 10 * SEC);
    assert_int_equal(lb.listener_setopts, 2);
    run_for(&net, 10 * MS);   /* established, still sending */
    assert_true(lb.accepted >= 0);
    struct tb_tcp_info info;
    assert_int_equal(tb_tcp_info(sim_host_stack(net.b), lb.accepted, &info), TB_OK);
    assert_true(info.nodelay);
    assert_true(run_until(&net, app_done, client, 10 * SEC));
    assert_int_equal(netapp_exit_status(client), 0);
    netapp_stop(sink);
    assert_true(run_until(&net, app_done, sink, 1 * SEC));
    netapp_free(client);
    netapp_free(sink);
    net_done(&net);
}

static void inconsistent_options_are_refused(void **state) {
    (void)state;
    struct net net;
    net_build(&net, &clean_link, 0);
    struct {
        struct netapp_opts o;
        const char *want;
    } cases[] = {
        {{.kind = NETAPP_ECHO, .both = true}, "both applies to sink, source and client, not echo"},
        {{.kind = NETAPP_HTTP, .bytes_set = true, .bytes = 5}, "bytes applies to source, client and sink with both, not http"},
        {{.kind = NETAPP_SINK, .bytes_set = true}, "bytes applies to source, client and sink with both, not sink without both"},
        {{.kind = NETAPP_ECHO, .http_body_bytes = 10}, "the http body size applies to http only, not echo"},
        {{.kind = NETAPP_CLIENT, .connect_port = 7}, "client needs an address and port to connect to"},
        {{.kind = NETAPP_SINK, .keepalive_intvl_ns = SEC}, "keepalive interval and probes need a keepalive idle time"},
        {{.kind = NETAPP__COUNT}, "unknown app"},
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(cases); k++) {
        char err[256] = "";
        assert_null(netapp_start(&cases[k].o, host_b(&net), err, sizeof(err)));
        if (strstr(err, cases[k].want) == NULL) fail_msg("case %zu: '%s' does not say '%s'", k, err, cases[k].want);
    }
    /* The port taken. */
    struct netapp_opts so = server_opts(NETAPP_SINK);
    struct netapp *sink = start(&so, host_b(&net));
    char err[256] = "";
    assert_null(netapp_start(&so, host_b(&net), err, sizeof(err)));
    assert_string_equal(err, "listen on port 7 failed: address in use");
    /* The stack's own refusal of an option value. */
    struct netapp_opts bad = server_opts(NETAPP_ECHO);
    bad.port = 9;
    bad.keepalive_idle_ns = TB_TCP_TIME_KNOB_MAX_NS + 1;
    assert_null(netapp_start(&bad, host_b(&net), err, sizeof(err)));
    assert_non_null(strstr(err, "the stack refused keepalive idle"));
    /* The name table. */
    enum netapp_kind k;
    assert_true(netapp_parse_kind("http", &k));
    assert_int_equal(k, NETAPP_HTTP);
    assert_false(netapp_parse_kind("ftp", &k));
    assert_string_equal(netapp_kind_name(NETAPP_SOURCE), "source");
    netapp_free(sink);
    net_done(&net);
}

/* ---- the parser alone ------------------------------------------------------------------------ */

static bool parse_exact(const char *text, size_t len, struct netapp_http_request *req) {
    /* An exact-size copy, so a read past the end is ASan's to see. */
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    bool done = netapp_http_parse(copy, len, NETAPP_HTTP_MAX_HEAD, req);
    free(copy);
    return done;
}

static void http_parser_needs_the_whole_head(void **state) {
    (void)state;
    const char *req = "GET /index.html HTTP/1.1\r\nHost: example\r\nConnection: keep-alive, Upgrade\r\n"
                      "Content-Length: 3\r\n\r\nabc";
    size_t head = strlen(req) - 3;
    struct netapp_http_request r;
    for (size_t cut = 0; cut < head; cut++) assert_false(parse_exact(req, cut, &r));
    for (size_t cut = head; cut <= strlen(req); cut++) {
        assert_true(parse_exact(req, cut, &r));
        assert_int_equal(r.status, 200);
        assert_int_equal(r.head_bytes, head);
        assert_int_equal(r.body_bytes, 3);
        assert_true(r.keep_alive);
        assert_false(r.head_method);
    }
    /* Each verdict, by what makes it. */
    struct {
        const char *text;
        int status;
        bool keep_alive;
    } cases[] = {
        {"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200, true},
        {"GET / HTTP/1.1\r\nHost: x\r\nconnection: CLOSE\r\n\r\n", 200, false},
        {"GET / HTTP/1.0\r\n\r\n", 200, false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, true},
        {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, false},
        {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, false},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, false},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, false},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, false},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501, false},
        {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400, false},
        {"GET / http/1.1\r\nHost: x\r\n\r\n", 400, false},
        {"GET /\r\n\r\n", 400, false},
        {"GET / HTTP/1.1\rHost: x\r\n\r\n", 400, false},
        {"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 501, false},
        {"get / HTTP/1.1\r\nHost: x\r\n\r\n", 501, false},   /* methods are case-sensitive */
        {"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, false},
        {"GET /\x01 HTTP/1.1\r\n", 400, false},               /* no need to wait for the rest */
    };
    for (size_t k = 0; k < TB_ARRAY_LEN(cases); k++) {
        if (!parse_exact(cases[k].text, strlen(cases[k].text), &r)) fail_msg("case %zu: wants more", k);
        if (r.status != cases[k].status) fail_msg("case %zu: status %d, expected %d", k, r.status, cases[k].status);
        assert_int_equal(r.keep_alive, cases[k].keep_alive);
    }
    /* The limit: a head of exactly the maximum passes; one more byte is 431. */
    static char big[NETAPP_HTTP_MAX_HEAD + 2];
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
    size_t fill = NETAPP_HTTP_MAX_HEAD - strlen(start) - 4;
    snprintf(big, sizeof(big), "%s%0*d\r\n\r\n", start, (int)fill, 0);
    assert_int_equal(strlen(big), NETAPP_HTTP_MAX_HEAD);
    assert_true(parse_exact(big, NETAPP_HTTP_MAX_HEAD, &r));
    assert_int_equal(r.status, 200);
    snprintf(big, sizeof(big), "%s%0*d\r\n\r\n", start, (int)fill + 1, 0);
    assert_false(parse_exact(big, NETAPP_HTTP_MAX_HEAD - 1, &r));
    assert_true(parse_exact(big, NETAPP_HTTP_MAX_HEAD, &r));
    assert_int_equal(r.status, 431);
    assert_true(parse_exact(big, NETAPP_HTTP_MAX_HEAD + 1, &r));
    assert_int_equal(r.status, 431);
}

static void http_parser_survives_random_bytes(void **state) {
    (void)state;
    struct tb_prng rng;
    tb_prng_seed(&rng, 99);
    static const char alphabet[] = "GET HEAD / HTTP/1.01\r\n:Host ConnectionContent-Length,keep-aliveclose 0123456789\t\x01\xff";
    uint8_t buf[NETAPP_HTTP_MAX_HEAD + 64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(tb_prng_next(&rng) % (iter % 10 == 0 ? sizeof(buf) : 128));
        for (size_t i = 0; i < len; i++)
            buf[i] = iter % 3 == 0 ? (uint8_t)tb_prng_next(&rng)
                                   : (uint8_t)alphabet[tb_prng_next(&rng) % (sizeof(alphabet) - 1)];
        struct netapp_http_request r;
        if (parse_exact((const char *)buf, len, &r)) {
            assert_true(r.status == 200 || r.status == 400 || r.status == 431 || r.status == 501 || r.status == 505);
            if (r.status == 200) assert_true(r.head_bytes <= len && r.head_bytes <= NETAPP_HTTP_MAX_HEAD);
        } else {
            assert_true(len < NETAPP_HTTP_MAX_HEAD);
        }
    }
    char head[256];
    assert_int_equal(netapp_http_response_head(head, sizeof(head), 200, UINT64_MAX, true),
                     strlen("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n"
                            "Content-Type: application/octet-stream\r\nConnection: keep-alive\r\n\r\n"));
    assert_int_equal(netapp_http_response_head(head, 10, 200, 1, true), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_to_echo_gets_every_byte_back),
        cmocka_unit_test(transfers_survive_every_fault),
        cmocka_unit_test(both_fails_unless_exactly_bytes_came_back),
        cmocka_unit_test(http_answers_what_curl_and_wrk_send),
        cmocka_unit_test(http_small_responses_are_one_segment_each),
        cmocka_unit_test(client_to_a_closed_port_is_refused),
        cmocka_unit_test(a_peer_that_aborts_mid_transfer_ends_the_flow),
        cmocka_unit_test(a_peer_that_disappears_times_out),
        cmocka_unit_test(stop_closes_every_app_cleanly),
        cmocka_unit_test(stop_with_no_connection_is_done_at_once),
        cmocka_unit_test(abort_all_resets_what_is_open),
        cmocka_unit_test(more_connections_than_listed_are_counted),
        cmocka_unit_test(echo_holds_back_when_the_peer_does_not_read),
        cmocka_unit_test(options_reach_every_connection),
        cmocka_unit_test(inconsistent_options_are_refused),
        cmocka_unit_test(http_parser_needs_the_whole_head),
        cmocka_unit_test(http_parser_survives_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
