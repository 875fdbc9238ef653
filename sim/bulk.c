#include "sim/bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/faults.h"
#include "sim/ping.h"
#include "sim/stream.h"
#include "traces/pcap_writer.h"

#define CHUNK_BYTES (64 * 1024)

void sim_bulk_defaults(struct sim_bulk_opts *o) {
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->bytes = 10 * 1024 * 1024;
    o->port = 5001;
    o->link.delay_ns = 10 * TB_NS_PER_MS;
    o->link.rate_bps = 100000000;
    o->time_limit_ns = 3600 * TB_NS_PER_S;
}

/* One end of the connection: what it sends and what it checks. */
struct bulk_side {
    struct sim_host *h;
    int32_t conn;
    char name, peer;              /* 'A' / 'B' */
    bool sends, receives;         /* A sends; B receives; --both: each does both */
    struct sim_stream tx, rx;
    uint64_t to_send;             /* UINT64_MAX while sending for a duration */
    uint64_t *sent, *delivered;   /* into the result */
    uint8_t chunk[CHUNK_BYTES];
    size_t chunk_len, chunk_off;  /* generated but not yet accepted */
    bool done, shut, eof;
};

struct bulk_run {
    const struct sim_bulk_opts *o;
    struct sim_bulk_result *r;
    struct bulk_side a, b;
    int32_t listener;
    char failure[200];
    uint64_t app_calls;
};

static void fail_once(struct bulk_run *run, const char *what) {
    if (run->failure[0] == '\0') snprintf(run->failure, sizeof(run->failure), "%s", what);
}

static void receive(struct sim *sim, struct bulk_run *run, struct bulk_side *s);

static void finish_conn(struct sim *sim, struct bulk_run *run, struct bulk_side *s) {
    struct tb_tcp_info *info = s == &run->a ? &run->r->info_a : &run->r->info_b;
    tb_tcp_info(sim_host_stack(s->h), s->conn, info);
    tb_tcp_close(sim_host_stack(s->h), sim_now(sim), s->conn);
    s->done = true;
    if (run->a.done && run->b.done) {
        run->r->sim_time_ns = sim_now(sim);
        sim_stop(sim);
    }
}

/* Zero-copy sends keep a leftover in chunk when the buffer was full. */
static void pump_leftover(struct sim *sim, struct bulk_run *run, struct bulk_side *s) {
    if (!run->o->zero_copy || s->chunk_off == s->chunk_len) return;
    struct tb_stack *st = sim_host_stack(s->h);
    struct tb_buf *b = tb_stack_alloc_rx(st, s->chunk_len);
    if (b == NULL) return;
    memcpy(b->data, s->chunk, s->chunk_len);
    if (tb_tcp_send_buf(st, sim_now(sim), s->conn, b) == TB_OK) {
        *s->sent += s->chunk_len;
        s->chunk_off = s->chunk_len;
    } else {
        tb_buf_free(b);
    }
}

/* Keep the send buffer full until the stream is sent, then shut down. */
static void pump(struct sim *sim, struct bulk_run *run, struct bulk_side *s) {
    struct tb_stack *st = sim_host_stack(s->h);
    tb_time_ns now = sim_now(sim);
    char msg[80];
    if (run->o->zero_copy && s->chunk_off != s->chunk_len) {
        /* Bytes a full buffer refused come first, or the stream would skip them. */
        pump_leftover(sim, run, s);
        if (s->chunk_off != s->chunk_len) return;
    }
    while (*s->sent < s->to_send) {
        if (run->o->zero_copy) {
            uint64_t left = s->to_send - *s->sent;
            struct tb_buf *b = tb_stack_alloc_rx(st, 1024);
            if (b == NULL) break;
            uint32_t n = left < 1024 ? (uint32_t)left : 1024;
            b->len = n;
            sim_stream_fill(&s->tx, b->data, n);
            int rc = tb_tcp_send_buf(st, now, s->conn, b);
            if (rc != TB_OK) {
                /* The stream moved on: keep these bytes for the next try. */
                memcpy(s->chunk, b->data, n);
                tb_buf_free(b);
                s->chunk_len = n;
                s->chunk_off = 0;
                if (rc != TB_ERR_AGAIN) {
                    snprintf(msg, sizeof(msg), "%c: zero-copy send failed", s->name);
                    fail_once(run, msg);
                }
                break;
            }
            *s->sent += n;
            continue;
        }
        if (s->chunk_off == s->chunk_len) {
            uint64_t left = s->to_send - *s->sent;
            s->chunk_len = left < CHUNK_BYTES ? (size_t)left : CHUNK_BYTES;
            s->chunk_off = 0;
            sim_stream_fill(&s->tx, s->chunk, s->chunk_len);
        }
        int64_t n = tb_tcp_send(st, now, s->conn, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off);
        if (n == TB_ERR_AGAIN || n == TB_ERR_NOBUFS) break;
        if (n < 0) {
            snprintf(msg, sizeof(msg), "%c: send failed", s->name);
            fail_once(run, msg);
            break;
        }
        s->chunk_off += (size_t)n;
        *s->sent += (uint64_t)n;
    }
    if (*s->sent >= s->to_send && !s->shut) {
        s->shut = true;
        tb_tcp_shutdown(st, now, s->conn);
    }
}

static void check_bytes(struct bulk_run *run, struct bulk_side *s, const uint8_t *data, size_t len) {
    size_t ok = sim_stream_check(&s->rx, data, len);
    if (ok != len) {
        char msg[120];
        snprintf(msg, sizeof(msg), "byte %llu differs from what %c sent", (unsigned long long)(*s->delivered + ok),
                 s->peer);
        fail_once(run, msg);
    }
    *s->delivered += len;
}

static void receive(struct sim *sim, struct bulk_run *run, struct bulk_side *s) {
    struct tb_stack *st = sim_host_stack(s->h);
    tb_time_ns now = sim_now(sim);
    if (!s->receives) {
        uint8_t sink[2048];
        int64_t got = tb_tcp_recv(st, now, s->conn, sink, sizeof(sink));
        if (got > 0) {
            char msg[80];
            snprintf(msg, sizeof(msg), "%c received data it never asked for", s->name);
            fail_once(run, msg);
        }
        return;
    }
    if (s == &run->b && now < run->o->reader_stall_ns) return;   /* resume_reading picks this up */
    for (;;) {
        int64_t got;
        if (run->o->zero_copy) {
            struct tb_buf *chain = NULL;
            got = tb_tcp_recv_buf(st, now, s->conn, &chain, 64 * 1024);
            for (struct tb_buf *b = chain; b != NULL; b = b->next) check_bytes(run, s, b->data, b->len);
            if (chain != NULL) tb_buf_free(chain);
        } else {
            uint8_t buf[16384];
            got = tb_tcp_recv(st, now, s->conn, buf, sizeof(buf));
            if (got > 0) check_bytes(run, s, buf, (size_t)got);
        }
        if (got > 0) continue;
        if (got == 0) {
            s->eof = true;
            /* The peer's FIN: a side with nothing to send closes its side too. */
            if (!s->sends && !s->shut) {
                s->shut = true;
                tb_tcp_shutdown(st, now, s->conn);
            }
        }
        break;
    }
}

static void on_conn_events(struct sim *sim, struct bulk_run *run, struct bulk_side *s, const struct tb_event *ev) {
    if (ev->conn != s->conn || s->done) return;
    switch (ev->type) {
    case TB_EV_TCP_CONNECTED:
        if (s == &run->a) run->r->connect_ns = ev->time_ns;
        /* fall through */
    case TB_EV_TCP_WRITABLE:
        if (s->sends) pump(sim, run, s);
        break;
    case TB_EV_TCP_READABLE: receive(sim, run, s); break;
    case TB_EV_TCP_CLOSED:
        /* Both FINs are through: whatever is left to read is read first. */
        if (s->receives && !s->eof) receive(sim, run, s);
        finish_conn(sim, run, s);
        break;
    case TB_EV_TCP_ERROR: {
        char msg[120];
        snprintf(msg, sizeof(msg), "%c: connection failed: %s", s->name, tb_err_name(ev->error));
        fail_once(run, msg);
        finish_conn(sim, run, s);
        break;
    }
    default: break;
    }
}

static void app_a(struct sim *sim, struct sim_host *h, void *ctx) {
    struct bulk_run *run = ctx;
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_stack_events(sim_host_stack(h), ev, 32)) > 0)
        for (size_t i = 0; i < n; i++) on_conn_events(sim, run, &run->a, &ev[i]);
}

static void app_b(struct sim *sim, struct sim_host *h, void *ctx) {
    struct bulk_run *run = ctx;
    struct tb_stack *st = sim_host_stack(h);
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_stack_events(st, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type == TB_EV_TCP_ACCEPTABLE && ev[i].conn == run->listener) {
                int32_t c = tb_tcp_accept(st, run->listener);
                if (c >= 0 && run->b.conn < 0) {
                    run->b.conn = c;
                    if (run->b.sends) {
                        if (run->o->nodelay) tb_tcp_setopt(st, c, TB_TCP_OPT_NODELAY, 1);
                        pump(sim, run, &run->b);
                    }
                } else if (c >= 0) {
                    tb_tcp_abort(st, sim_now(sim), c);
                }
                continue;
            }
            on_conn_events(sim, run, &run->b, &ev[i]);
        }
    }
    if (++run->app_calls % 4096 == 0) {
        const char *why = NULL;
        if (!tb_stack_check(st, &why) || !tb_stack_check(sim_host_stack(run->a.h), &why)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "stack self-check failed: %s", why);
            fail_once(run, msg);
            sim_stop(sim);
        }
    }
}

static void start(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct bulk_run *run = ctx;
    run->a.conn = tb_tcp_connect(sim_host_stack(run->a.h), sim_now(sim), SIM_HOST_B_IP, run->o->port);
    if (run->a.conn < 0) {
        fail_once(run, "A: connect failed");
        sim_stop(sim);
        return;
    }
    if (run->o->nodelay) tb_tcp_setopt(sim_host_stack(run->a.h), run->a.conn, TB_TCP_OPT_NODELAY, 1);
    sim_host_kick(sim, run->a.h);
}

static void resume_reading(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct bulk_run *run = ctx;
    if (run->b.conn >= 0 && !run->b.done) receive(sim, run, &run->b);
    sim_host_kick(sim, run->b.h);
}

static void stop_sending(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct bulk_run *run = ctx;
    /* --duration: what is already accepted is all each side will send. */
    struct bulk_side *sides[2] = {&run->a, &run->b};
    for (int i = 0; i < 2; i++) {
        struct bulk_side *s = sides[i];
        if (!s->sends) continue;
        s->to_send = *s->sent + (s->chunk_len - s->chunk_off);
        if (!s->done && s->conn >= 0) {
            pump(sim, run, s);
            sim_host_kick(sim, s->h);
        }
    }
}

struct trace_writer {
    FILE *f;
    const char *host;
};

static void write_trace(void *ctx, const struct tb_trace *t) {
    struct trace_writer *w = ctx;
    fprintf(w->f, "%lld,%s,%d,%s,%s,%s,%u,%u,%u,%u,%lld,%lld,%u,%u\n", (long long)t->time_ns, w->host, t->conn,
            tb_trace_event_name(t->event), t->reason, tb_tcp_state_name(t->state), t->cwnd_bytes, t->ssthresh_bytes,
            t->flight_bytes, t->snd_wnd_bytes, (long long)t->srtt_ns, (long long)t->rto_ns, t->snd_una, t->snd_nxt);
}

struct fault_counter {
    sim_fault_fn next;
    void *next_ctx;
    uint64_t *count;
};

static void count_fault(void *ctx, tb_time_ns now, const char *spec) {
    struct fault_counter *c = ctx;
    (*c->count)++;
    if (c->next != NULL) c->next(c->next_ctx, now, spec);
}

int sim_bulk_run(const struct sim_bulk_opts *o, struct sim_bulk_result *r) {
    memset(r, 0, sizeof(*r));
    struct bulk_run *run = calloc(1, sizeof(*run));
    struct sim *sim = sim_new(o->seed);
    if (run == NULL || sim == NULL) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        free(run);
        sim_free(sim);
        return -1;
    }
    run->o = o;
    run->r = r;
    /* A->B is the stream "payload" 0; with --both, B->A is "payload" 1. */
    struct bulk_side *sides[2] = {&run->a, &run->b};
    for (int i = 0; i < 2; i++) {
        struct bulk_side *s = sides[i];
        s->conn = -1;
        s->name = i == 0 ? 'A' : 'B';
        s->peer = i == 0 ? 'B' : 'A';
        s->sends = i == 0 || o->both;
        s->receives = i == 1 || o->both;
        s->to_send = !s->sends ? 0 : o->duration_ns > 0 ? UINT64_MAX : o->bytes;
        s->sent = i == 0 ? &r->sent_bytes : &r->reverse_sent_bytes;
        s->delivered = i == 0 ? &r->reverse_delivered_bytes : &r->delivered_bytes;
        sim_stream_init(&s->tx, sim_derive_seed(o->seed, "payload", (uint64_t)i));
        sim_stream_init(&s->rx, sim_derive_seed(o->seed, "payload", (uint64_t)(1 - i)));
    }

    /* Size buffers so the window covers twice the bandwidth-delay product
     * and the queue holds one BDP: a lossless run then never overflows. */
    uint64_t bdp = o->link.rate_bps > 0 ? o->link.rate_bps / 8 * (uint64_t)(2 * o->link.delay_ns) / TB_NS_PER_S : 0;
    uint64_t window = 2 * bdp < 256 * 1024 ? 256 * 1024 : 2 * bdp;
    if (window > (64u << 20)) window = 64u << 20;
    r->sndbuf_bytes = o->sndbuf_bytes ? o->sndbuf_bytes : (uint32_t)window;
    r->rcvbuf_bytes = o->rcvbuf_bytes ? o->rcvbuf_bytes : (uint32_t)window;
    struct sim_link_params link = o->link, link_ba = o->have_link_ba ? o->link_ba : o->link;
    uint32_t auto_queue = (uint32_t)(bdp + 64 * 1024 < (1u << 30) ? bdp + 64 * 1024 : 1u << 30);
    if (link.queue_bytes == 0) link.queue_bytes = auto_queue;
    if (link_ba.queue_bytes == 0) link_ba.queue_bytes = auto_queue;
    r->queue_bytes = link.queue_bytes;

    struct tb_config cfg[2];
    for (int i = 0; i < 2; i++) {
        sim_two_host_config(&cfg[i], o->seed, i);
        cfg[i].tcp_sndbuf_bytes = r->sndbuf_bytes;
        cfg[i].tcp_rcvbuf_bytes = r->rcvbuf_bytes;
        cfg[i].tcp_ooo_max_bytes = r->rcvbuf_bytes;
        cfg[i].tcp_mss = o->mss;
        cfg[i].tcp_cc = o->cc;
        cfg[i].tcp_ecn = o->ecn;
        cfg[i].tcp_rack_tlp = !o->no_rack_tlp;
        cfg[i].tcp_sack = !o->no_sack;
        cfg[i].tcp_max_conns = 16;
        /* Enough buffers for a full send queue, receive queue and
         * out-of-order queue, plus frames in flight. */
        cfg[i].buf_count = r->sndbuf_bytes / 1024 + 2 * (r->rcvbuf_bytes / 512) + 1024;
        cfg[i].tx_queue_len = 4096 < cfg[i].buf_count ? 4096 : cfg[i].buf_count;
        if (o->tweak_config) o->tweak_config(&cfg[i], i, o->tweak_ctx);
    }
    const char *why = NULL;
    for (int i = 0; i < 2; i++)
        if (tb_config_check(&cfg[i], &why) != TB_OK) {
            snprintf(r->error, sizeof(r->error), "host %c config: %s", 'A' + i, why);
            free(run);
            sim_free(sim);
            return -1;
        }
    run->a.h = sim_add_host(sim, "A", &cfg[0]);
    run->b.h = sim_add_host(sim, "B", &cfg[1]);
    int link_id = run->a.h && run->b.h ? sim_connect(sim, run->a.h, run->b.h, &link) : -1;
    if (link_id < 0) {
        snprintf(r->error, sizeof(r->error), "could not build the two-host network (out of memory?)");
        free(run);
        sim_free(sim);
        return -1;
    }
    sim_link_set_params(sim, link_id, 0, &link_ba);
    if (o->drop_a_to_b) sim_link_set_drop_hook(sim, link_id, 1, o->drop_a_to_b, o->drop_ctx);
    if (o->drop_b_to_a) sim_link_set_drop_hook(sim, link_id, 0, o->drop_b_to_a, o->drop_ctx);
    for (size_t i = 0; i < o->fault_count; i++) {
        struct fault_spec fs;
        if (!fault_parse(o->faults[i], &fs, r->error, sizeof(r->error)) ||
            !sim_add_fault(sim, &fs, r->error, sizeof(r->error))) {
            free(run);
            sim_free(sim);
            return -1;
        }
    }
    struct fault_counter counter = {.next = o->on_fault, .next_ctx = o->on_fault_ctx, .count = &r->faults_fired};
    sim_on_fault(sim, count_fault, &counter);
    if (o->fault_log != NULL) sim_fault_log(sim, o->fault_log);
    struct trace_writer tw[2] = {{o->trace_cc, "A"}, {o->trace_cc, "B"}};
    if (o->trace_cc != NULL) {
        fprintf(o->trace_cc, "time_ns,host,conn,event,reason,state,cwnd_bytes,ssthresh_bytes,flight_bytes,"
                             "snd_wnd_bytes,srtt_ns,rto_ns,snd_una,snd_nxt\n");
        tb_stack_set_trace(sim_host_stack(run->a.h), write_trace, &tw[0]);
        tb_stack_set_trace(sim_host_stack(run->b.h), write_trace, &tw[1]);
    }
    struct tb_pcap_writer *pcap = NULL, *pcap_b = NULL;
    if (o->pcap_path != NULL || o->pcap_dir != NULL) {
        char path[1024];
        if (o->pcap_dir != NULL) snprintf(path, sizeof(path), "%s/A.pcap", o->pcap_dir);
        pcap = tb_pcap_open(o->pcap_path != NULL ? o->pcap_path : path, r->error, sizeof(r->error));
        if (pcap != NULL && o->pcap_dir != NULL) {
            snprintf(path, sizeof(path), "%s/B.pcap", o->pcap_dir);
            pcap_b = tb_pcap_open(path, r->error, sizeof(r->error));
            if (pcap_b == NULL) {
                char ignore[64];
                tb_pcap_close(pcap, ignore, sizeof(ignore));
                pcap = NULL;
            }
        }
        if (pcap == NULL) {
            free(run);
            sim_free(sim);
            return -1;
        }
        sim_host_capture(run->a.h, pcap);
        if (pcap_b != NULL) sim_host_capture(run->b.h, pcap_b);
    }
    run->listener = tb_tcp_listen(sim_host_stack(run->b.h), o->port, 0);
    sim_host_set_app(run->a.h, app_a, run);
    sim_host_set_app(run->b.h, app_b, run);
    sim_at(sim, o->start_ns, start, run, 0);
    if (o->reader_stall_ns > 0) sim_at(sim, o->reader_stall_ns, resume_reading, run, 0);
    if (o->duration_ns > 0) sim_at(sim, o->duration_ns, stop_sending, run, 0);
    sim_run(sim, o->time_limit_ns);

    if (!(run->a.done && run->b.done)) {
        r->sim_time_ns = sim_now(sim);
        if (run->failure[0] == '\0') {
            char msg[200];
            snprintf(msg, sizeof(msg), "not finished after %.3f s of virtual time (A %s, B %s)",
                     (double)sim_now(sim) / 1e9, run->a.done ? "done" : "open", run->b.done ? "done" : "open");
            fail_once(run, msg);
        }
        if (!run->a.done && run->a.conn >= 0) tb_tcp_info(sim_host_stack(run->a.h), run->a.conn, &r->info_a);
        if (!run->b.done && run->b.conn >= 0) tb_tcp_info(sim_host_stack(run->b.h), run->b.conn, &r->info_b);
    }
    if (run->failure[0] == '\0' && o->duration_ns == 0 && r->sent_bytes != o->bytes) fail_once(run, "A could not send every byte");
    if (run->failure[0] == '\0' && o->both && o->duration_ns == 0 && r->reverse_sent_bytes != o->bytes)
        fail_once(run, "B could not send every byte");
    if (run->failure[0] == '\0' && r->delivered_bytes != r->sent_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg), "B read %llu of the %llu bytes A sent", (unsigned long long)r->delivered_bytes,
                 (unsigned long long)r->sent_bytes);
        fail_once(run, msg);
    }
    if (run->failure[0] == '\0' && r->reverse_delivered_bytes != r->reverse_sent_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg), "A read %llu of the %llu bytes B sent", (unsigned long long)r->reverse_delivered_bytes,
                 (unsigned long long)r->reverse_sent_bytes);
        fail_once(run, msg);
    }
    for (int i = 0; i < 2 && run->failure[0] == '\0'; i++) {
        struct tb_stack *st = sim_host_stack(i == 0 ? run->a.h : run->b.h);
        if (!tb_stack_check(st, &why)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "host %c self-check: %s", 'A' + i, why);
            fail_once(run, msg);
        }
    }
    snprintf(r->integrity, sizeof(r->integrity), "%s", run->failure[0] ? run->failure : "ok");
    r->pass = run->failure[0] == '\0';
    r->events = sim_events_processed(sim);
    tb_stack_stats(sim_host_stack(run->a.h), &r->stats_a);
    tb_stack_stats(sim_host_stack(run->b.h), &r->stats_b);
    sim_link_stats(sim, link_id, 1, &r->link_ab);
    sim_link_stats(sim, link_id, 0, &r->link_ba);
    r->packets = r->link_ab.delivered + r->link_ba.delivered;
    r->retransmits = r->stats_a.tcp_retransmits + r->stats_b.tcp_retransmits;
    r->rto_timeouts = r->stats_a.tcp_rto_timeouts + r->stats_b.tcp_rto_timeouts;
    int rc = 0;
    if (pcap != NULL) {
        r->pcap_frames = tb_pcap_frames(pcap);
        if (tb_pcap_close(pcap, r->error, sizeof(r->error)) != 0) rc = -1;
    }
    if (pcap_b != NULL && tb_pcap_close(pcap_b, r->error, sizeof(r->error)) != 0) rc = -1;
    sim_free(sim);
    free(run);
    return rc;
}
