#include "harness/apps/bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/apps/sender.h"
#include "harness/apps/stream.h"
#include "harness/host/host.h"
#include "tcpbed/prng.h"

#define CHUNK_BYTES (64 * 1024)
#define SELF_CHECK_EVERY 4096     /* application calls between the stacks' self-checks */

/* One end of the connection: what it sends and what it checks. */
struct bulk_side {
    struct tb_host *h;
    int32_t conn;
    char name, peer;              /* 'A' / 'B' */
    bool sends, receives;         /* A sends; B receives; both: each does both */
    struct tb_sender tx;
    struct tb_stream rx;
    uint64_t *sent, *delivered;   /* into the result */
    uint8_t chunk[CHUNK_BYTES];
    bool done, shut, eof;
};

struct bulk_app {
    struct bulk_app_opts o;
    tb_time_ns t0_ns;             /* A's clock at bulk_app_start: every option time counts from it */
    struct bulk_app_result *r;
    struct bulk_side a, b;
    int32_t listener;
    uint64_t app_calls;
};

static void fail_once(struct bulk_app *run, const char *what) {
    if (run->r->failure[0] == '\0') snprintf(run->r->failure, sizeof(run->r->failure), "%s", what);
}

static void finish_conn(struct bulk_app *run, struct bulk_side *s) {
    struct tb_tcp_info *info = s == &run->a ? &run->r->info_a : &run->r->info_b;
    tb_tcp_info(tb_host_stack(s->h), s->conn, info);
    tb_host_close(s->h, s->conn);
    s->done = true;
    run->r->a_done = run->a.done;
    run->r->b_done = run->b.done;
    if (run->a.done && run->b.done) {
        run->r->end_ns = tb_host_now(s->h) - run->t0_ns;
        tb_host_stop(s->h);
    }
}

/* Keeps the send buffer full until the stream is sent, then shuts down. */
static void pump(struct bulk_app *run, struct bulk_side *s) {
    int rc = tb_sender_pump(&s->tx, s->h, s->conn);
    *s->sent = s->tx.sent;
    if (rc < 0) {
        char msg[80];
        snprintf(msg, sizeof(msg), run->o.zero_copy ? "%c: zero-copy send failed" : "%c: send failed", s->name);
        fail_once(run, msg);
    }
    if (tb_sender_idle(&s->tx) && !s->shut) {
        s->shut = true;
        tb_host_shutdown(s->h, s->conn);
    }
}

static void check_bytes(struct bulk_app *run, struct bulk_side *s, const uint8_t *data, size_t len) {
    size_t ok = tb_stream_check(&s->rx, data, len);
    if (ok != len) {
        char msg[120];
        snprintf(msg, sizeof(msg), "byte %llu differs from what %c sent", (unsigned long long)(*s->delivered + ok),
                 s->peer);
        fail_once(run, msg);
    }
    *s->delivered += len;
}

static void receive(struct bulk_app *run, struct bulk_side *s) {
    if (!s->receives) {
        uint8_t sink[2048];
        int64_t got = tb_host_recv(s->h, s->conn, sink, sizeof(sink));
        if (got > 0) {
            char msg[80];
            snprintf(msg, sizeof(msg), "%c received data it never asked for", s->name);
            fail_once(run, msg);
        }
        return;
    }
    if (s == &run->b && tb_host_now(s->h) < run->t0_ns + run->o.reader_stall_ns) return;   /* resume_reading picks this up */
    for (;;) {
        int64_t got;
        if (run->o.zero_copy) {
            struct tb_buf *chain = NULL;
            got = tb_host_recv_buf(s->h, s->conn, &chain, 64 * 1024);
            for (struct tb_buf *b = chain; b != NULL; b = b->next) check_bytes(run, s, b->data, b->len);
            if (chain != NULL) tb_host_buf_free(s->h, chain);
        } else {
            uint8_t buf[16384];
            got = tb_host_recv(s->h, s->conn, buf, sizeof(buf));
            if (got > 0) check_bytes(run, s, buf, (size_t)got);
        }
        if (got > 0) continue;
        if (got == 0) {
            s->eof = true;
            /* The peer's FIN: a side with nothing to send closes its side too. */
            if (!s->sends && !s->shut) {
                s->shut = true;
                tb_host_shutdown(s->h, s->conn);
            }
        }
        break;
    }
}

static void on_conn_event(struct bulk_app *run, struct bulk_side *s, const struct tb_event *ev) {
    if (ev->conn != s->conn || s->done) return;
    switch (ev->type) {
    case TB_EV_TCP_CONNECTED:
        if (s == &run->a) run->r->connect_ns = ev->time_ns - run->t0_ns;
        /* fall through */
    case TB_EV_TCP_WRITABLE:
        if (s->sends) pump(run, s);
        break;
    case TB_EV_TCP_READABLE: receive(run, s); break;
    case TB_EV_TCP_CLOSED:
        /* Both FINs are through: whatever is left to read is read first. */
        if (s->receives && !s->eof) receive(run, s);
        finish_conn(run, s);
        break;
    case TB_EV_TCP_ERROR: {
        char msg[120];
        snprintf(msg, sizeof(msg), "%c: connection failed: %s", s->name, tb_err_name(ev->error));
        fail_once(run, msg);
        finish_conn(run, s);
        break;
    }
    default: break;
    }
}

static void app_a(struct tb_host *h, void *ctx) {
    struct bulk_app *run = ctx;
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_host_events(h, ev, 32)) > 0)
        for (size_t i = 0; i < n; i++) on_conn_event(run, &run->a, &ev[i]);
}

static void app_b(struct tb_host *h, void *ctx) {
    struct bulk_app *run = ctx;
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_host_events(h, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type == TB_EV_TCP_ACCEPTABLE && ev[i].conn == run->listener) {
                int32_t c = tb_host_accept(h, run->listener);
                if (c >= 0 && run->b.conn < 0) {
                    run->b.conn = c;
                    if (run->b.sends) {
                        if (run->o.nodelay) tb_host_setopt(h, c, TB_TCP_OPT_NODELAY, 1);
                        pump(run, &run->b);
                    }
                } else if (c >= 0) {
                    tb_host_abort(h, c);
                }
                continue;
            }
            on_conn_event(run, &run->b, &ev[i]);
        }
    }
    if (++run->app_calls % SELF_CHECK_EVERY == 0) {
        const char *why = NULL;
        if (!tb_stack_check(tb_host_stack(h), &why) || !tb_stack_check(tb_host_stack(run->a.h), &why)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "stack self-check failed: %s", why);
            fail_once(run, msg);
            tb_host_stop(h);
        }
    }
}

static void start(struct tb_host *h, void *ctx, uint64_t arg) {
    (void)arg;
    struct bulk_app *run = ctx;
    run->a.conn = tb_host_connect(h, run->o.server_ipv4, run->o.port);
    if (run->a.conn < 0) {
        fail_once(run, "A: connect failed");
        tb_host_stop(h);
        return;
    }
    if (run->o.nodelay) tb_host_setopt(h, run->a.conn, TB_TCP_OPT_NODELAY, 1);
    tb_host_kick(h);
}

static void resume_reading(struct tb_host *h, void *ctx, uint64_t arg) {
    (void)arg;
    struct bulk_app *run = ctx;
    if (run->b.conn >= 0 && !run->b.done) receive(run, &run->b);
    tb_host_kick(h);
}

static void stop_sending(struct tb_host *h, void *ctx, uint64_t arg) {
    (void)h;
    (void)arg;
    struct bulk_app *run = ctx;
    /* The duration is over: what is already generated is all each side sends. */
    struct bulk_side *sides[2] = {&run->a, &run->b};
    for (int i = 0; i < 2; i++) {
        struct bulk_side *s = sides[i];
        if (!s->sends) continue;
        tb_sender_stop(&s->tx);
        if (!s->done && s->conn >= 0) {
            pump(run, s);
            tb_host_kick(s->h);
        }
    }
}

struct bulk_app *bulk_app_start(const struct bulk_app_opts *o, struct tb_host *a, struct tb_host *b,
                                struct bulk_app_result *r) {
    struct bulk_app *run = calloc(1, sizeof(*run));
    if (run == NULL) {
        snprintf(r->failure, sizeof(r->failure), "out of memory");
        return NULL;
    }
    run->o = *o;
    run->r = r;
    /* A->B is the stream "payload" 0; with both, B->A is "payload" 1. */
    struct bulk_side *sides[2] = {&run->a, &run->b};
    for (int i = 0; i < 2; i++) {
        struct bulk_side *s = sides[i];
        s->h = i == 0 ? a : b;
        s->conn = -1;
        s->name = i == 0 ? 'A' : 'B';
        s->peer = i == 0 ? 'B' : 'A';
        s->sends = i == 0 || o->both;
        s->receives = i == 1 || o->both;
        s->sent = i == 0 ? &r->sent_bytes : &r->reverse_sent_bytes;
        s->delivered = i == 0 ? &r->reverse_delivered_bytes : &r->delivered_bytes;
        tb_sender_init(&s->tx, tb_derive_seed(o->seed, "payload", (uint64_t)i), s->chunk, sizeof(s->chunk),
                       o->zero_copy);
        if (s->sends) tb_sender_add(&s->tx, o->duration_ns > 0 ? UINT64_MAX : o->bytes);
        tb_stream_init(&s->rx, tb_derive_seed(o->seed, "payload", (uint64_t)(1 - i)));
    }
    run->listener = tb_host_listen(b, o->port, 0);
    tb_host_set_app(a, app_a, run);
    tb_host_set_app(b, app_b, run);
    run->t0_ns = tb_host_now(a);
    tb_host_at(a, run->t0_ns + o->start_ns, start, run, 0);
    if (o->reader_stall_ns > 0) tb_host_at(b, run->t0_ns + o->reader_stall_ns, resume_reading, run, 0);
    if (o->duration_ns > 0) tb_host_at(a, run->t0_ns + o->duration_ns, stop_sending, run, 0);
    return run;
}

void bulk_app_finish(struct bulk_app *run, tb_time_ns now) {
    struct bulk_app_result *r = run->r;
    const struct bulk_app_opts *o = &run->o;
    if (!(run->a.done && run->b.done)) {
        r->end_ns = now - run->t0_ns;
        char msg[200];
        snprintf(msg, sizeof(msg), "not finished after %.3f s of virtual time (A %s, B %s)", (double)r->end_ns / 1e9,
                 run->a.done ? "done" : "open", run->b.done ? "done" : "open");
        fail_once(run, msg);
        if (!run->a.done && run->a.conn >= 0) tb_tcp_info(tb_host_stack(run->a.h), run->a.conn, &r->info_a);
        if (!run->b.done && run->b.conn >= 0) tb_tcp_info(tb_host_stack(run->b.h), run->b.conn, &r->info_b);
    }
    if (o->duration_ns == 0 && r->sent_bytes != o->bytes) fail_once(run, "A could not send every byte");
    if (o->both && o->duration_ns == 0 && r->reverse_sent_bytes != o->bytes) fail_once(run, "B could not send every byte");
    if (r->delivered_bytes != r->sent_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg), "B read %llu of the %llu bytes A sent", (unsigned long long)r->delivered_bytes,
                 (unsigned long long)r->sent_bytes);
        fail_once(run, msg);
    }
    if (r->reverse_delivered_bytes != r->reverse_sent_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg), "A read %llu of the %llu bytes B sent", (unsigned long long)r->reverse_delivered_bytes,
                 (unsigned long long)r->reverse_sent_bytes);
        fail_once(run, msg);
    }
    for (int i = 0; i < 2; i++) {
        const char *why = NULL;
        if (!tb_stack_check(tb_host_stack(i == 0 ? run->a.h : run->b.h), &why)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "host %c self-check: %s", 'A' + i, why);
            fail_once(run, msg);
        }
    }
}

void bulk_app_free(struct bulk_app *app) { free(app); }
