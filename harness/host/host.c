#include "harness/host/host.h"

#include <stdlib.h>
#include <string.h>

#include "harness/lib/timeq.h"
#include "tcpbed/assert.h"

/* The host's own application timers, for environments without an event
 * queue (harness/lib/timeq.h: equal times fire in the order they were set). */
#define HOST_MAX_TIMERS (1u << 20)

struct tb_host {
    char name[16];
    struct tb_stack *st;
    const struct tb_port_ops *port_ops;
    void *port;
    const struct tb_host_env_ops *env_ops;
    void *env;
    tb_host_app_fn app;
    void *app_ctx;
    struct tb_host_hooks hooks[TB_HOST_MAX_HOOKS];
    size_t nhooks;
    bool frame_hooks;             /* some hook wants frames: flatten output */
    bool call_hooks;
    uint8_t *call_copy;           /* send_buf's bytes for on_call hooks, grown as needed */
    size_t call_copy_cap;
    bool in_pass;
    bool stopped;
    tb_time_ns pass_now;          /* the clock, read once per pass */
    struct tb_timeq timers;       /* fn is a tb_host_timer_fn */
};

struct tb_host *tb_host_new(const struct tb_host_params *p) {
    TB_ASSERT(p->env_ops != NULL && p->env_ops->now != NULL);
    struct tb_host *h = calloc(1, sizeof(*h));
    if (h == NULL) return NULL;
    h->st = tb_stack_new(p->cfg);
    if (h->st == NULL) {
        free(h);
        return NULL;
    }
    if (p->name != NULL) strncpy(h->name, p->name, sizeof(h->name) - 1);
    h->port_ops = p->port_ops;
    h->port = p->port;
    h->env_ops = p->env_ops;
    h->env = p->env;
    tb_timeq_init(&h->timers, HOST_MAX_TIMERS);
    return h;
}

void tb_host_free(struct tb_host *h) {
    if (h == NULL) return;
    tb_stack_free(h->st);
    tb_timeq_free(&h->timers);
    free(h->call_copy);
    free(h);
}

const char *tb_host_name(const struct tb_host *h) { return h->name; }
void *tb_host_port(const struct tb_host *h) { return h->port; }
struct tb_stack *tb_host_stack(struct tb_host *h) { return h->st; }
tb_time_ns tb_host_now(const struct tb_host *h) { return h->in_pass ? h->pass_now : h->env_ops->now(h->env); }
bool tb_host_in_pass(const struct tb_host *h) { return h->in_pass; }

void tb_host_set_app(struct tb_host *h, tb_host_app_fn fn, void *ctx) {
    h->app = fn;
    h->app_ctx = ctx;
}

/* The stack has one trace callback: the host takes it and hands each
 * record to every hook that asked. */
static void trace_hook(void *ctx, const struct tb_trace *t) {
    struct tb_host *h = ctx;
    for (size_t k = 0; k < h->nhooks; k++)
        if (h->hooks[k].on_trace != NULL) h->hooks[k].on_trace(h->hooks[k].ctx, h, t);
}

bool tb_host_add_hooks(struct tb_host *h, const struct tb_host_hooks *hooks) {
    if (h->nhooks == TB_HOST_MAX_HOOKS) return false;
    h->hooks[h->nhooks++] = *hooks;
    if (hooks->on_frame != NULL) h->frame_hooks = true;
    if (hooks->on_call != NULL) h->call_hooks = true;
    if (hooks->on_trace != NULL) tb_stack_set_trace(h->st, trace_hook, h);
    return true;
}

struct tb_buf *tb_host_alloc_rx(struct tb_host *h, size_t len) { return tb_stack_alloc_rx(h->st, len); }

void tb_host_stop(struct tb_host *h) {
    h->stopped = true;
    if (h->env_ops->stop != NULL) h->env_ops->stop(h->env);
}

bool tb_host_stopped(const struct tb_host *h) { return h->stopped; }

/* ---- timers ---------------------------------------------------------------- */
void tb_host_at(struct tb_host *h, tb_time_ns t, tb_host_timer_fn fn, void *ctx, uint64_t arg) {
    TB_ASSERT(t >= tb_host_now(h));
    if (h->env_ops->at != NULL) {
        h->env_ops->at(h->env, h, t, fn, ctx, arg);
        return;
    }
    bool earlier = t < tb_host_next_deadline(h);
    tb_timeq_push(&h->timers, t, (tb_timeq_fn)fn, ctx, arg);
    /* Inside a pass the deadline is told when the pass ends. */
    if (earlier && !h->in_pass && h->env_ops->wake_at != NULL) h->env_ops->wake_at(h->env, h, t);
}

void tb_host_fire(struct tb_host *h, tb_host_timer_fn fn, void *ctx, uint64_t arg) { fn(h, ctx, arg); }

tb_time_ns tb_host_next_deadline(const struct tb_host *h) {
    tb_time_ns next = tb_stack_next_deadline(h->st);
    if (!tb_timeq_empty(&h->timers) && tb_timeq_top(&h->timers)->t < next) next = tb_timeq_top(&h->timers)->t;
    return next;
}

/* ---- the loop -------------------------------------------------------------- */
static void pass_hook(struct tb_host *h, tb_time_ns now, bool from_port) {
    for (size_t k = 0; k < h->nhooks; k++)
        if (h->hooks[k].on_pass != NULL) h->hooks[k].on_pass(h->hooks[k].ctx, h, now, from_port);
}

static void frame_hook(struct tb_host *h, enum tb_host_dir dir, tb_time_ns now, const uint8_t *frame, size_t len) {
    for (size_t k = 0; k < h->nhooks; k++)
        if (h->hooks[k].on_frame != NULL) h->hooks[k].on_frame(h->hooks[k].ctx, h, dir, now, frame, len);
}

/* Tick, timers, application, drain, transmit: everything after input.
 * Returns the next deadline. */
static tb_time_ns pass_rest(struct tb_host *h, tb_time_ns now) {
    if (tb_stack_next_deadline(h->st) <= now) {
        tb_stack_tick(h->st, now);
        for (size_t k = 0; k < h->nhooks; k++)
            if (h->hooks[k].on_tick != NULL) h->hooks[k].on_tick(h->hooks[k].ctx, h, now);
    }
    /* Timers set while these run wait for the next pass: the loop is bounded. */
    uint64_t set_before = h->timers.next_seq;
    while (!tb_timeq_empty(&h->timers) && tb_timeq_top(&h->timers)->t <= now &&
           tb_timeq_top(&h->timers)->seq < set_before) {
        struct tb_timeq_item tm = tb_timeq_pop(&h->timers);
        ((tb_host_timer_fn)tm.fn)(h, tm.ctx, tm.arg);
    }
    if (h->app != NULL) h->app(h, h->app_ctx);
    struct tb_buf *out[TB_HOST_BURST];
    size_t n;
    while ((n = tb_stack_drain_tx(h->st, out, TB_HOST_BURST)) > 0) {
        if (h->frame_hooks) {
            for (size_t i = 0; i < n; i++) {
                uint8_t flat[TB_ETH_MAX_FRAME];
                size_t len = tb_buf_copy_out(out[i], 0, flat, sizeof(flat));
                frame_hook(h, TB_HOST_OUT, now, flat, len);
            }
        }
        if (h->port_ops != NULL) h->port_ops->tx_burst(h->port, h, out, n);
        for (size_t i = 0; i < n; i++) tb_buf_free(out[i]);
    }
    tb_time_ns next = tb_host_next_deadline(h);
    if (h->env_ops->wake_at != NULL) h->env_ops->wake_at(h->env, h, next);
    return next;
}

tb_time_ns tb_host_poll(struct tb_host *h) {
    TB_ASSERT(!h->in_pass);   /* a pass never starts inside a pass */
    tb_time_ns now = h->env_ops->now(h->env);
    h->pass_now = now;
    h->in_pass = true;
    pass_hook(h, now, true);
    if (h->port_ops != NULL) {
        struct tb_buf *in[TB_HOST_BURST];
        size_t n = h->port_ops->rx_burst(h->port, h, in, TB_HOST_BURST);
        TB_ASSERT(n <= TB_HOST_BURST);
        for (size_t i = 0; i < n; i++) {
            if (h->frame_hooks) frame_hook(h, TB_HOST_IN, now, in[i]->data, in[i]->len);
            tb_stack_input(h->st, now, in[i]);
        }
    }
    tb_time_ns next = pass_rest(h, now);
    h->in_pass = false;
    return next;
}

void tb_host_kick(struct tb_host *h) {
    if (h->in_pass) return;
    h->pass_now = h->env_ops->now(h->env);
    h->in_pass = true;
    pass_hook(h, h->pass_now, false);
    pass_rest(h, h->pass_now);
    h->in_pass = false;
}

/* ---- application calls ----------------------------------------------------- */
static void call_hook(struct tb_host *h, const struct tb_host_call *c) {
    for (size_t k = 0; k < h->nhooks; k++)
        if (h->hooks[k].on_call != NULL) h->hooks[k].on_call(h->hooks[k].ctx, h, c);
}

#define REPORT(h, ...)                                        \
    do {                                                      \
        if ((h)->call_hooks) {                                \
            struct tb_host_call c_ = {__VA_ARGS__};            \
            call_hook((h), &c_);                              \
        }                                                     \
    } while (0)

size_t tb_host_events(struct tb_host *h, struct tb_event *ev, size_t max) {
    size_t n = tb_stack_events(h->st, ev, max);
    REPORT(h, .kind = TB_CALL_EVENTS, .conn = -1, .now = tb_host_now(h), .data = ev, .len = max, .result = (int64_t)n);
    return n;
}

int32_t tb_host_listen(struct tb_host *h, uint16_t port, uint32_t backlog) {
    int32_t r = tb_tcp_listen(h->st, port, backlog);
    REPORT(h, .kind = TB_CALL_LISTEN, .conn = -1, .now = tb_host_now(h), .port = port, .backlog = backlog, .result = r);
    return r;
}

int32_t tb_host_accept(struct tb_host *h, int32_t listener) {
    int32_t r = tb_tcp_accept(h->st, listener);
    REPORT(h, .kind = TB_CALL_ACCEPT, .now = tb_host_now(h), .conn = listener, .result = r);
    return r;
}

int32_t tb_host_connect(struct tb_host *h, uint32_t dst_ipv4, uint16_t dst_port) {
    tb_time_ns now = tb_host_now(h);
    int32_t r = tb_tcp_connect(h->st, now, dst_ipv4, dst_port);
    REPORT(h, .kind = TB_CALL_CONNECT, .conn = -1, .now = now, .ipv4 = dst_ipv4, .port = dst_port, .result = r);
    return r;
}

int32_t tb_host_connect_from(struct tb_host *h, uint16_t local_port, uint32_t dst_ipv4, uint16_t dst_port) {
    tb_time_ns now = tb_host_now(h);
    int32_t r = tb_tcp_connect_from(h->st, now, local_port, dst_ipv4, dst_port);
    REPORT(h, .kind = TB_CALL_CONNECT, .conn = -1, .now = now, .ipv4 = dst_ipv4, .port = dst_port, .local_port = local_port,
           .result = r);
    return r;
}

int32_t tb_host_connect_opts(struct tb_host *h, uint16_t local_port, uint32_t dst_ipv4, uint16_t dst_port,
                             const struct tb_tcp_optval *opts, size_t opt_count) {
    tb_time_ns now = tb_host_now(h);
    int32_t r = tb_tcp_connect_opts(h->st, now, local_port, dst_ipv4, dst_port, opts, opt_count);
    REPORT(h, .kind = TB_CALL_CONNECT, .conn = -1, .now = now, .ipv4 = dst_ipv4, .port = dst_port, .local_port = local_port,
           .opts = opts, .opt_count = opt_count, .result = r);
    return r;
}

int64_t tb_host_send(struct tb_host *h, int32_t conn, const void *data, size_t len) {
    tb_time_ns now = tb_host_now(h);
    int64_t r = tb_tcp_send(h->st, now, conn, data, len);
    REPORT(h, .kind = TB_CALL_SEND, .now = now, .conn = conn, .data = data, .len = len, .result = r);
    return r;
}

/* The stack takes the chain apart as it queues it (and frees empty
 * buffers), so hooks get a flat copy of the bytes, taken before. */
int tb_host_send_buf(struct tb_host *h, int32_t conn, struct tb_buf *chain) {
    tb_time_ns now = tb_host_now(h);
    size_t len = 0;
    if (h->call_hooks) {
        len = tb_buf_chain_len(chain);
        if (len > h->call_copy_cap) {
            uint8_t *p = realloc(h->call_copy, len);
            TB_ASSERT(p != NULL);
            h->call_copy = p;
            h->call_copy_cap = len;
        }
        tb_buf_copy_out(chain, 0, h->call_copy, len);
    }
    int r = tb_tcp_send_buf(h->st, now, conn, chain);
    REPORT(h, .kind = TB_CALL_SEND_BUF, .now = now, .conn = conn, .data = h->call_copy, .len = len, .result = r);
    return r;
}

int64_t tb_host_recv(struct tb_host *h, int32_t conn, void *data, size_t max) {
    tb_time_ns now = tb_host_now(h);
    int64_t r = tb_tcp_recv(h->st, now, conn, data, max);
    REPORT(h, .kind = TB_CALL_RECV, .now = now, .conn = conn, .data = data, .len = max, .result = r);
    return r;
}

int64_t tb_host_recv_buf(struct tb_host *h, int32_t conn, struct tb_buf **out, size_t max) {
    tb_time_ns now = tb_host_now(h);
    int64_t r = tb_tcp_recv_buf(h->st, now, conn, out, max);
    REPORT(h, .kind = TB_CALL_RECV_BUF, .now = now, .conn = conn, .chain = r > 0 ? *out : NULL, .len = max,
           .result = r);
    return r;
}

int tb_host_shutdown(struct tb_host *h, int32_t conn) {
    tb_time_ns now = tb_host_now(h);
    int r = tb_tcp_shutdown(h->st, now, conn);
    REPORT(h, .kind = TB_CALL_SHUTDOWN, .now = now, .conn = conn, .result = r);
    return r;
}

int tb_host_close(struct tb_host *h, int32_t conn) {
    tb_time_ns now = tb_host_now(h);
    int r = tb_tcp_close(h->st, now, conn);
    REPORT(h, .kind = TB_CALL_CLOSE, .now = now, .conn = conn, .result = r);
    return r;
}

int tb_host_abort(struct tb_host *h, int32_t conn) {
    tb_time_ns now = tb_host_now(h);
    int r = tb_tcp_abort(h->st, now, conn);
    REPORT(h, .kind = TB_CALL_ABORT, .now = now, .conn = conn, .result = r);
    return r;
}

int tb_host_setopt(struct tb_host *h, int32_t conn, enum tb_tcp_opt opt, int64_t value) {
    int r = tb_tcp_setopt(h->st, conn, opt, value);
    REPORT(h, .kind = TB_CALL_SETOPT, .now = tb_host_now(h), .conn = conn, .opt = (int32_t)opt, .value = value,
           .result = r);
    return r;
}

int tb_host_ping(struct tb_host *h, uint32_t dst_ipv4, uint16_t ident, uint16_t seq, uint32_t payload_len) {
    tb_time_ns now = tb_host_now(h);
    int r = tb_ping_send(h->st, now, dst_ipv4, ident, seq, payload_len);
    REPORT(h, .kind = TB_CALL_PING, .conn = -1, .now = now, .ipv4 = dst_ipv4, .value = ((int64_t)ident << 16) | seq,
           .payload_len = payload_len, .result = r);
    return r;
}

struct tb_buf *tb_host_buf_alloc(struct tb_host *h, size_t len) {
    struct tb_buf *b = tb_stack_alloc_rx(h->st, len);
    REPORT(h, .kind = TB_CALL_BUF_ALLOC, .conn = -1, .now = tb_host_now(h), .len = len, .result = b != NULL);
    return b;
}

void tb_host_buf_free(struct tb_host *h, struct tb_buf *chain) {
    REPORT(h, .kind = TB_CALL_BUF_FREE, .conn = -1, .now = tb_host_now(h), .chain = chain,
           .len = tb_buf_chain_len(chain), .result = 0);
    tb_buf_free(chain);
}
