/* The host loop (harness/host) and the applications (harness/apps) on a
 * platform that is not the simulator: a pair of in-memory ports with a
 * fixed delay, a clock the test owns, and the host's own timer heap. It is
 * also the smallest example of a new platform: a port (rx_burst,
 * tx_burst), an environment (now, stop) and a loop that sleeps until the
 * next deadline. */
#include <stdlib.h>
#include <string.h>

#include "harness/apps/bulk.h"
#include "harness/apps/sender.h"
#include "harness/apps/stream.h"
#include "harness/host/host.h"
#include "tcpbed/assert.h"
#include "helpers.h"
#include "tcpbed/prng.h"
#include "sim/ping.h"   /* sim_two_host_config: the addresses of A and B */

#define MS TB_NS_PER_MS
#define PIPE_FRAMES 4096

/* ---- the byte stream ------------------------------------------------------ */

/* Byte i of the stream, computed the slow way: fill one byte at a time. */
static void stream_bytes_one_by_one(uint64_t seed, uint8_t *out, size_t n) {
    struct tb_stream s;
    tb_stream_init(&s, seed);
    for (size_t i = 0; i < n; i++) tb_stream_fill(&s, out + i, 1);
}

static void stream_fill_any_split_gives_the_same_bytes(void **state) {
    (void)state;
    enum { N = 3 * 4096 * 2 + 77 };   /* crosses key blocks, odd tail */
    static uint8_t ref[N], got[N];
    stream_bytes_one_by_one(42, ref, N);
    const size_t steps[] = {1, 3, 7, 8, 9, 15, 16, 17, 4095, 4096, 4097, N};
    for (size_t k = 0; k < TB_ARRAY_LEN(steps); k++) {
        struct tb_stream s;
        tb_stream_init(&s, 42);
        memset(got, 0, sizeof(got));
        for (size_t off = 0; off < N; off += steps[k])
            tb_stream_fill(&s, got + off, off + steps[k] <= N ? steps[k] : N - off);
        assert_memory_equal(ref, got, N);
    }
}

static void stream_check_finds_the_first_wrong_byte(void **state) {
    (void)state;
    enum { N = 2 * 4096 + 50 };
    static uint8_t data[N];
    stream_bytes_one_by_one(7, data, N);
    /* Every alignment of start and every position of the flip, at word,
     * pair and block edges. */
    const size_t starts[] = {0, 1, 5, 8, 13, 4090};
    const size_t flips[] = {0, 1, 7, 8, 15, 16, 17, 31, 4095, 4096, 4097, 8000};
    for (size_t a = 0; a < TB_ARRAY_LEN(starts); a++) {
        for (size_t b = 0; b < TB_ARRAY_LEN(flips); b++) {
            size_t start = starts[a], flip = start + flips[b];
            if (flip >= N) continue;
            struct tb_stream s;
            tb_stream_init(&s, 7);
            uint8_t skip[4096];
            tb_stream_fill(&s, skip, start);
            data[flip] ^= 0x10;
            assert_int_equal(tb_stream_check(&s, data + start, N - start), flip - start);
            data[flip] ^= 0x10;
        }
        struct tb_stream s;
        tb_stream_init(&s, 7);
        uint8_t skip[4096];
        tb_stream_fill(&s, skip, starts[a]);
        assert_int_equal(tb_stream_check(&s, data + starts[a], N - starts[a]), N - starts[a]);
        /* And it moved on by exactly that much: the next byte is checked at the right offset. */
        assert_int_equal(s.offset, N);
    }
}

/* ---- a platform in 60 lines: two ports joined by a delay ------------------- */
struct pipe_frame {
    tb_time_ns due;
    uint32_t len;
    uint8_t bytes[TB_ETH_MAX_FRAME];
};

struct pipe_net;
struct pipe_port {
    struct pipe_net *net;
    struct pipe_port *peer;
    struct pipe_frame *q;         /* frames on their way to this port, in order */
    size_t head, count;
    uint64_t dropped;
};

struct pipe_net {
    tb_time_ns now, delay_ns;
    bool stopped;
    struct pipe_port port[2];
};

static size_t pipe_rx(void *port, struct tb_host *h, struct tb_buf **frames, size_t max) {
    struct pipe_port *p = port;
    size_t n = 0;
    while (n < max && p->count > 0 && p->q[p->head].due <= p->net->now) {
        struct pipe_frame *f = &p->q[p->head];
        struct tb_buf *b = tb_host_alloc_rx(h, f->len);
        if (b == NULL) p->dropped++;
        else {
            memcpy(b->data, f->bytes, f->len);
            frames[n++] = b;
        }
        p->head = (p->head + 1) % PIPE_FRAMES;
        p->count--;
    }
    return n;
}

static void pipe_tx(void *port, struct tb_host *h, struct tb_buf *const *frames, size_t n) {
    (void)h;
    struct pipe_port *to = ((struct pipe_port *)port)->peer;
    for (size_t i = 0; i < n; i++) {
        if (to->count == PIPE_FRAMES) {
            to->dropped++;
            continue;
        }
        struct pipe_frame *f = &to->q[(to->head + to->count++) % PIPE_FRAMES];
        f->due = to->net->now + to->net->delay_ns;
        f->len = (uint32_t)tb_buf_copy_out(frames[i], 0, f->bytes, sizeof(f->bytes));
    }
}

static tb_time_ns pipe_now(void *env) { return ((struct pipe_net *)env)->now; }
static void pipe_stop(void *env) { ((struct pipe_net *)env)->stopped = true; }

static const struct tb_port_ops pipe_port_ops = {.rx_burst = pipe_rx, .tx_burst = pipe_tx};
static const struct tb_host_env_ops pipe_env_ops = {.now = pipe_now, .stop = pipe_stop};   /* own timers */

/* The platform's loop: poll each host, then sleep (jump) to the earliest
 * host deadline or frame arrival. */
static void pipe_run(struct pipe_net *net, struct tb_host *hosts[2], tb_time_ns limit) {
    while (!net->stopped && net->now <= limit) {
        tb_time_ns next = TB_TIME_NEVER;
        for (int i = 0; i < 2; i++) {
            tb_time_ns d = tb_host_poll(hosts[i]);
            if (d < next) next = d;
        }
        for (int i = 0; i < 2; i++)
            if (net->port[i].count > 0 && net->port[i].q[net->port[i].head].due < next)
                next = net->port[i].q[net->port[i].head].due;
        if (next == TB_TIME_NEVER) break;
        if (next > net->now) net->now = next;
    }
}

struct pipe_fixture {
    struct pipe_net net;
    struct tb_host *host[2];
};

static void pipe_setup(struct pipe_fixture *fx, uint64_t seed) {
    memset(fx, 0, sizeof(*fx));
    fx->net.delay_ns = 5 * MS;
    for (int i = 0; i < 2; i++) {
        fx->net.port[i].net = &fx->net;
        fx->net.port[i].peer = &fx->net.port[1 - i];
        fx->net.port[i].q = calloc(PIPE_FRAMES, sizeof(struct pipe_frame));
        assert_non_null(fx->net.port[i].q);
        struct tb_config cfg;
        sim_two_host_config(&cfg, seed, i);
        cfg.buf_count = 2048;
        struct tb_host_params p = {.name = i == 0 ? "A" : "B", .cfg = &cfg, .port_ops = &pipe_port_ops,
                                   .port = &fx->net.port[i], .env_ops = &pipe_env_ops, .env = &fx->net};
        fx->host[i] = tb_host_new(&p);
        assert_non_null(fx->host[i]);
    }
}

static void pipe_teardown(struct pipe_fixture *fx) {
    for (int i = 0; i < 2; i++) {
        const char *why = NULL;
        assert_true(tb_stack_check(tb_host_stack(fx->host[i]), &why));
        tb_host_free(fx->host[i]);
        free(fx->net.port[i].q);
    }
}

struct frame_counter {
    uint64_t in, out, ticks, calls, sends, traces;
    uint64_t zc_sent, allocs, frees;
    struct tb_stream expect;      /* A's payload stream, to check what send_buf hooks saw */
    bool zc_bytes_ok;
};


static void count_frame(void *ctx, struct tb_host *h, enum tb_host_dir dir, tb_time_ns now, const uint8_t *f,
                        size_t len) {
    (void)h, (void)now, (void)f;
    struct frame_counter *c = ctx;
    assert_true(len >= TB_ETH_HDR_LEN);
    if (dir == TB_HOST_IN) c->in++;
    else c->out++;
}
static void count_tick(void *ctx, struct tb_host *h, tb_time_ns now) {
    (void)h, (void)now;
    ((struct frame_counter *)ctx)->ticks++;
}
static void count_call(void *ctx, struct tb_host *h, const struct tb_host_call *c) {
    (void)h;
    struct frame_counter *fc = ctx;
    fc->calls++;
    if (c->kind == TB_CALL_SEND && c->result > 0) fc->sends += (uint64_t)c->result;
    if (c->kind == TB_CALL_BUF_ALLOC && c->result) fc->allocs++;
    if (c->kind == TB_CALL_BUF_FREE) fc->frees++;
    if (c->kind == TB_CALL_SEND_BUF && c->result == TB_OK) {
        /* The bytes as given, although the stack has taken the chain apart. */
        fc->zc_sent += c->len;
        if (tb_stream_check(&fc->expect, c->data, c->len) != c->len) fc->zc_bytes_ok = false;
    }
}
static void count_trace(void *ctx, struct tb_host *h, const struct tb_trace *t) {
    (void)h, (void)t;
    ((struct frame_counter *)ctx)->traces++;
}

static void bulk_app_runs_on_a_platform_that_is_not_the_simulator(void **state) {
    (void)state;
    /* One way and both ways; on a clock at 0 and on one far from it, as
     * CLOCK_MONOTONIC is (application times count from their start). */
    const bool both_ways[] = {false, true, true, false};
    const bool zero_copy[] = {false, false, false, true};
    const tb_time_ns clock0[] = {0, 0, 3600 * TB_NS_PER_S + 17, 0};
    for (size_t k = 0; k < 4; k++) {
        struct pipe_fixture fx;
        pipe_setup(&fx, 5);
        fx.net.now = clock0[k];
        struct frame_counter fc = {.zc_bytes_ok = true};
        tb_stream_init(&fc.expect, tb_derive_seed(5, "payload", 0));
        struct tb_host_hooks hooks = {.on_frame = count_frame, .on_tick = count_tick, .on_call = count_call,
                                      .on_trace = count_trace, .ctx = &fc};
        assert_true(tb_host_add_hooks(fx.host[0], &hooks));
        struct bulk_app_opts o = {.seed = 5, .bytes = 300000, .server_ipv4 = SIM_HOST_B_IP, .port = 5001,
                                  .start_ns = 1 * MS, .both = both_ways[k], .zero_copy = zero_copy[k]};
        struct bulk_app_result r = {0};
        struct bulk_app *app = bulk_app_start(&o, fx.host[0], fx.host[1], &r);
        assert_non_null(app);
        pipe_run(&fx.net, fx.host, clock0[k] + 120 * TB_NS_PER_S);
        bulk_app_finish(app, fx.net.now);
        bulk_app_free(app);
        assert_string_equal(r.failure, "");
        assert_true(fx.net.stopped);   /* the application ended the run */
        assert_true(tb_host_stopped(fx.host[0]) || tb_host_stopped(fx.host[1]));
        assert_int_equal(r.delivered_bytes, 300000);
        assert_int_equal(r.reverse_delivered_bytes, both_ways[k] ? 300000 : 0);
        assert_true(r.connect_ns > 1 * MS && r.connect_ns < r.end_ns && r.end_ns < 120 * TB_NS_PER_S);
        /* The hooks saw every frame A's port carried, and every byte A's send calls gave. */
        assert_true(fc.in > 0);
        assert_true(fc.out > 0);
        assert_true(fc.calls > 0);
        assert_int_equal(fc.sends + fc.zc_sent, r.sent_bytes);
        assert_true(fc.traces > 0);   /* the stack's trace reaches on_trace hooks */
        if (zero_copy[k]) {
            assert_true(fc.zc_sent == 300000 && fc.zc_bytes_ok);
            assert_true(fc.allocs > 0 && fc.frees <= fc.allocs);
        }
        assert_int_equal(fx.net.port[0].dropped + fx.net.port[1].dropped, 0);
        pipe_teardown(&fx);
    }
}

/* The stack's deadline drives the loop: an ARP request nobody answers (for
 * the SYN waiting behind it) is sent again when its timer runs, on the
 * platform's clock, and the tick hook sees it. */
static void arp_is_retried_when_the_stack_deadline_comes(void **state) {
    (void)state;
    struct pipe_fixture fx;
    pipe_setup(&fx, 2);
    struct frame_counter fc = {0};
    struct tb_host_hooks hooks = {.on_frame = count_frame, .on_tick = count_tick, .ctx = &fc};
    assert_true(tb_host_add_hooks(fx.host[0], &hooks));
    struct tb_stack *st = tb_host_stack(fx.host[0]);
    int32_t c = tb_host_connect(fx.host[0], SIM_HOST_B_IP, 80);
    assert_true(c >= 0);
    /* Only A runs: B never answers. */
    for (int i = 0; i < 64 && fx.net.now < 10 * TB_NS_PER_S; i++) {
        tb_time_ns next = tb_host_poll(fx.host[0]);
        assert_true(next != TB_TIME_NEVER);
        fx.net.now = next > fx.net.now ? next : fx.net.now + 1;
    }
    assert_true(fc.ticks > 0);
    assert_true(fc.out >= 3);   /* ARP requests, repeated */
    assert_int_equal(fc.in, 0);
    struct tb_stats s;
    tb_stack_stats(st, &s);
    assert_true(s.arp_requests_tx >= 2 && s.timers_fired > 0);
    pipe_teardown(&fx);
}

/* The host's own timers: in time order, equal times in the order set, one
 * set during a pass waits for the next pass. */
struct timer_log {
    uint64_t order[8];
    size_t n;
};

static void log_timer(struct tb_host *h, void *ctx, uint64_t arg) {
    struct timer_log *l = ctx;
    l->order[l->n++] = arg;
    if (arg == 2) tb_host_at(h, tb_host_now(h), log_timer, ctx, 9);   /* due now: the next pass */
}

static void host_timers_fire_in_time_then_insertion_order(void **state) {
    (void)state;
    struct pipe_fixture fx;
    pipe_setup(&fx, 1);
    struct timer_log log = {0};
    struct tb_host *h = fx.host[0];
    tb_host_at(h, 30 * MS, log_timer, &log, 3);
    tb_host_at(h, 10 * MS, log_timer, &log, 1);
    tb_host_at(h, 20 * MS, log_timer, &log, 2);
    tb_host_at(h, 20 * MS, log_timer, &log, 4);
    assert_true(tb_host_next_deadline(h) <= 10 * MS);
    fx.net.now = 20 * MS;
    tb_host_poll(h);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.order[0], 1);
    assert_int_equal(log.order[1], 2);
    assert_int_equal(log.order[2], 4);
    assert_int_equal(tb_host_next_deadline(h), 20 * MS);   /* timer 9, set during the pass */
    tb_host_poll(h);
    assert_int_equal(log.order[3], 9);
    fx.net.now = 30 * MS;
    tb_host_poll(h);
    assert_int_equal(log.n, 5);
    assert_int_equal(log.order[4], 3);
    pipe_teardown(&fx);
}

/* An event-driven environment without its own queue: a timer set outside
 * a pass that comes before the host's deadline is told at once. */
struct wake_env {
    tb_time_ns now, told;
    int calls;
};
static tb_time_ns wake_now(void *env) { return ((struct wake_env *)env)->now; }
static void wake_told(void *env, struct tb_host *h, tb_time_ns t) {
    (void)h;
    struct wake_env *e = env;
    e->told = t;
    e->calls++;
}
static void nothing(struct tb_host *h, void *ctx, uint64_t arg) { (void)h, (void)ctx, (void)arg; }

static void a_timer_set_outside_a_pass_wakes_an_event_driven_platform(void **state) {
    (void)state;
    static const struct tb_host_env_ops env_ops = {.now = wake_now, .wake_at = wake_told};
    struct wake_env env = {.now = 5 * MS, .told = -1};
    struct tb_config cfg;
    sim_two_host_config(&cfg, 1, 0);
    struct tb_host_params p = {.name = "A", .cfg = &cfg, .env_ops = &env_ops, .env = &env};
    struct tb_host *h = tb_host_new(&p);
    assert_non_null(h);
    tb_host_at(h, 40 * MS, nothing, NULL, 0);
    assert_int_equal(env.told, 40 * MS);
    tb_host_at(h, 60 * MS, nothing, NULL, 0);   /* later than the deadline: nothing to tell */
    assert_int_equal(env.calls, 1);
    tb_host_at(h, 20 * MS, nothing, NULL, 0);
    assert_int_equal(env.told, 20 * MS);
    tb_host_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_fill_any_split_gives_the_same_bytes),
        cmocka_unit_test(stream_check_finds_the_first_wrong_byte),
        cmocka_unit_test(bulk_app_runs_on_a_platform_that_is_not_the_simulator),
        cmocka_unit_test(arp_is_retried_when_the_stack_deadline_comes),
        cmocka_unit_test(host_timers_fire_in_time_then_insertion_order),
        cmocka_unit_test(a_timer_set_outside_a_pass_wakes_an_event_driven_platform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
