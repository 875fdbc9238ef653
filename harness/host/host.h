/* The host: one stack, one port, and the run-to-completion loop every
 * platform runs (simulator, TAP, DPDK, a script, a recorded log).
 *
 *   poll:  receive a burst from the port -> input each frame -> tick due
 *          timers -> application timers due -> application -> drain the
 *          stack's output -> transmit it on the port -> next deadline
 *
 * A platform supplies two small tables: a port (tb_port_ops: frames in and
 * out) and an environment (tb_host_env_ops: what time it is, how to be
 * woken, how to stop). Applications (harness/apps) see only this header:
 * they call the stack through tb_host_* wrappers, which supply `now` and
 * report every call to the hooks, so pcap capture, the cc trace and a
 * run-log recorder attach in one place (tb_host_add_hooks).
 *
 * Outside tests/ and fuzz/, host.c is the only code that feeds the stack
 * frames, runs its timers and drains its output (tests/check_arrows.sh). */
#ifndef TB_HARNESS_HOST_H
#define TB_HARNESS_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/buf.h"
#include "tcpbed/tcpbed.h"

struct tb_host;

/* ---- the port: frames in, frames out --------------------------------------- */
struct tb_port_ops {
    /* Moves up to `max` received frames into `frames`, each allocated with
     * tb_host_alloc_rx (a port that cannot get a buffer counts the drop);
     * returns how many. The host inputs and frees them. */
    size_t (*rx_burst)(void *port, struct tb_host *h, struct tb_buf **frames, size_t max);
    /* Sends `n` frames. The port copies what it needs (or takes its own
     * reference): the host frees the frames when this returns. */
    void (*tx_burst)(void *port, struct tb_host *h, struct tb_buf *const *frames, size_t n);
};

/* ---- the environment: time, wake-ups, stop --------------------------------- */
typedef void (*tb_host_timer_fn)(struct tb_host *h, void *ctx, uint64_t arg);

struct tb_host_env_ops {
    /* The platform's clock: virtual time, or CLOCK_MONOTONIC. Never goes
     * backwards. */
    tb_time_ns (*now)(void *env);
    /* Optional. Puts an application timer on the platform's own event
     * queue (the simulator keeps one order across all its hosts); it calls
     * tb_host_fire(h, fn, ctx, arg) at t. NULL: the host keeps its own timer
     * heap, runs due timers in tb_host_poll and counts them in
     * tb_host_next_deadline. */
    void (*at)(void *env, struct tb_host *h, tb_time_ns t, tb_host_timer_fn fn, void *ctx, uint64_t arg);
    /* Optional. Told the host's next deadline after every pass, and when
     * a timer set outside a pass moves it earlier, so an event-driven
     * platform can schedule the wake-up; a polling platform asks
     * tb_host_next_deadline instead. */
    void (*wake_at)(void *env, struct tb_host *h, tb_time_ns deadline);
    /* Optional. An application asks the whole run to end (tb_host_stop). */
    void (*stop)(void *env);
};

/* ---- hooks: everything that crosses the core's boundary -------------------- */
enum tb_host_call_kind {
    TB_CALL_LISTEN,
    TB_CALL_ACCEPT,
    TB_CALL_CONNECT,
    TB_CALL_SEND,
    TB_CALL_SEND_BUF,
    TB_CALL_RECV,
    TB_CALL_RECV_BUF,
    TB_CALL_SHUTDOWN,
    TB_CALL_CLOSE,
    TB_CALL_ABORT,
    TB_CALL_SETOPT,
    TB_CALL_PING,
    TB_CALL_EVENTS,
    TB_CALL_BUF_ALLOC,            /* a buffer from the stack's pool, for a zero-copy send */
    TB_CALL_BUF_FREE,             /* buffers given back (a received chain, a refused send) */
};

/* One application call on the core, after it returned: its arguments and
 * its result, enough to make the same call again on a fresh core. */
struct tb_host_call {
    enum tb_host_call_kind kind;
    tb_time_ns now;
    int32_t conn;                 /* connection or listener; -1 when none */
    uint32_t ipv4;                /* connect / ping destination */
    uint16_t port;                /* listen / connect port */
    uint16_t local_port;          /* connect: 0 = ephemeral */
    uint32_t backlog;             /* listen */
    const struct tb_tcp_optval *opts;   /* connect: the options applied before its SYN */
    size_t opt_count;
    int32_t opt;                  /* setopt: enum tb_tcp_opt */
    int64_t value;                /* setopt value; ping: ident << 16 | seq */
    uint32_t payload_len;         /* ping */
    const void *data;             /* send, send_buf: the bytes offered (send_buf: a copy the host
                                     made before the stack took the chain); recv: the bytes read;
                                     events: the `result` events returned (struct tb_event) */
    size_t len;                   /* send, send_buf: bytes offered; recv, recv_buf: the limit given;
                                     buf_alloc: bytes asked for */
    const struct tb_buf *chain;   /* recv_buf: the chain read (the application's until it frees it);
                                     buf_free: the chain, just before it goes back */
    int64_t result;               /* the call's return value (buf_alloc: 1 if a buffer came) */
};

enum tb_host_dir { TB_HOST_IN = 0, TB_HOST_OUT = 1 };

struct tb_host_hooks {
    /* A pass begins at `now` (tb_host_poll, or tb_host_kick with
     * from_port false): what follows until the next pass (inbound frames,
     * a tick, calls, outbound frames) happened in it, in that order. A
     * run-log needs the boundaries: a burst's frames are all received
     * before any is input. */
    void (*on_pass)(void *ctx, struct tb_host *h, tb_time_ns now, bool from_port);
    /* A frame crossing the host's NIC, in either direction (what tcpdump on
     * the host would see), flattened. Inbound: before the stack sees it. */
    void (*on_frame)(void *ctx, struct tb_host *h, enum tb_host_dir dir, tb_time_ns now, const uint8_t *frame,
                     size_t len);
    /* The stack's timers ran at `now`. */
    void (*on_tick)(void *ctx, struct tb_host *h, tb_time_ns now);
    /* An application call returned. */
    void (*on_call)(void *ctx, struct tb_host *h, const struct tb_host_call *call);
    /* A congestion-control or timer decision of one of the stack's
     * connections (tb_stack_set_trace's record). */
    void (*on_trace)(void *ctx, struct tb_host *h, const struct tb_trace *t);
    void *ctx;
};

#define TB_HOST_MAX_HOOKS 8
#define TB_HOST_BURST 64

/* ---- life cycle -------------------------------------------------------- */
struct tb_host_params {
    const char *name;             /* for traces and messages (at most 15 bytes kept) */
    const struct tb_config *cfg;  /* the stack's configuration */
    const struct tb_port_ops *port_ops;
    void *port;
    const struct tb_host_env_ops *env_ops;
    void *env;
};

/* NULL when the stack cannot be built (tb_config_check says why) or out of memory. */
struct tb_host *tb_host_new(const struct tb_host_params *p);
void tb_host_free(struct tb_host *h);

const char *tb_host_name(const struct tb_host *h);
/* The port's context, as given (an environment finds its host's state by it). */
void *tb_host_port(const struct tb_host *h);
/* Read-only use (tb_tcp_info, tb_stack_stats, tb_stack_check): calls that
 * change the core's state go through the tb_host_* wrappers, and the
 * stack's trace belongs to the host (on_trace hooks). */
struct tb_stack *tb_host_stack(struct tb_host *h);
tb_time_ns tb_host_now(const struct tb_host *h);
/* True from a pass's start (on_pass) until tb_host_poll or tb_host_kick
 * returns: a call hook tells the application's calls inside a pass from
 * those made outside the loop (a run-log replays the two differently). */
bool tb_host_in_pass(const struct tb_host *h);

/* ---- the loop ------------------------------------------------------------ */
/* One pass: rx burst, input, tick, timers, application, drain, transmit.
 * Returns the next deadline (TB_TIME_NEVER: nothing is due). */
tb_time_ns tb_host_poll(struct tb_host *h);
/* The pass without reading the port: after API calls made from a timer or
 * from outside the loop, so their output goes out now. Inside a pass it
 * does nothing (the pass drains when the application returns). */
void tb_host_kick(struct tb_host *h);
/* The earliest of the stack's deadline and the host's own timers. */
tb_time_ns tb_host_next_deadline(const struct tb_host *h);

/* The application: called in every pass after input and timers, outside
 * packet processing, to drain events and make calls. */
typedef void (*tb_host_app_fn)(struct tb_host *h, void *ctx);
void tb_host_set_app(struct tb_host *h, tb_host_app_fn fn, void *ctx);
/* Application timers: fn(h, ctx, arg) at time t (>= now). */
void tb_host_at(struct tb_host *h, tb_time_ns t, tb_host_timer_fn fn, void *ctx, uint64_t arg);
/* For an environment with its own queue: runs a timer it was given by `at`. */
void tb_host_fire(struct tb_host *h, tb_host_timer_fn fn, void *ctx, uint64_t arg);
/* Ends the run (the environment's stop); tb_host_stopped says it was asked. */
void tb_host_stop(struct tb_host *h);
bool tb_host_stopped(const struct tb_host *h);
/* false when TB_HOST_MAX_HOOKS are attached. */
bool tb_host_add_hooks(struct tb_host *h, const struct tb_host_hooks *hooks);

/* A buffer for a frame the port received (the frame itself is reported
 * when it is input). */
struct tb_buf *tb_host_alloc_rx(struct tb_host *h, size_t len);

/* ---- application calls: the stack's API with `now` supplied and hooked ------ */
size_t tb_host_events(struct tb_host *h, struct tb_event *ev, size_t max);
int32_t tb_host_listen(struct tb_host *h, uint16_t port, uint32_t backlog);
int32_t tb_host_accept(struct tb_host *h, int32_t listener);
int32_t tb_host_connect(struct tb_host *h, uint32_t dst_ipv4, uint16_t dst_port);
int32_t tb_host_connect_from(struct tb_host *h, uint16_t local_port, uint32_t dst_ipv4, uint16_t dst_port);
int32_t tb_host_connect_opts(struct tb_host *h, uint16_t local_port, uint32_t dst_ipv4, uint16_t dst_port,
                             const struct tb_tcp_optval *opts, size_t opt_count);
int64_t tb_host_send(struct tb_host *h, int32_t conn, const void *data, size_t len);
int tb_host_send_buf(struct tb_host *h, int32_t conn, struct tb_buf *chain);
int64_t tb_host_recv(struct tb_host *h, int32_t conn, void *data, size_t max);
int64_t tb_host_recv_buf(struct tb_host *h, int32_t conn, struct tb_buf **out, size_t max);
int tb_host_shutdown(struct tb_host *h, int32_t conn);
int tb_host_close(struct tb_host *h, int32_t conn);
int tb_host_abort(struct tb_host *h, int32_t conn);
int tb_host_setopt(struct tb_host *h, int32_t conn, enum tb_tcp_opt opt, int64_t value);
int tb_host_ping(struct tb_host *h, uint32_t dst_ipv4, uint16_t ident, uint16_t seq, uint32_t payload_len);
/* An application's buffers from and back to the stack's pool: reported,
 * since the pool's state is the core's (a full pool drops frames). */
struct tb_buf *tb_host_buf_alloc(struct tb_host *h, size_t len);
void tb_host_buf_free(struct tb_host *h, struct tb_buf *chain);

#endif
