/* Workloads: flows of TCP traffic between hosts (on any platform), each byte drawn
 * from a seeded stream and checked on arrival.
 *
 *   bulk   the client sends `bytes` (or for `duration`); with both_ways the
 *          server sends as much back; both close.
 *   rr     request/response on one connection: `count` requests of `bytes`,
 *          each answered with `resp_bytes`, `think` apart; latency measured.
 *   crr    many short connections: `count` connections (`parallel` at once),
 *          each sending `bytes` and reading `resp_bytes` back, `think` apart.
 *   idle   a long-lived connection: `count` messages of `bytes`, `think`
 *          apart, with keepalive probing the idle periods.
 *
 * Invariants checked for every flow: every byte delivered once, in order,
 * unchanged; every connection ends CLOSED or in TIME-WAIT (or with a clean
 * error, which fails the flow). */
#ifndef TB_APPS_WORKLOAD_H
#define TB_APPS_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpbed/tcpbed.h"

struct tb_host;

enum wl_kind { WL_BULK, WL_RR, WL_CRR, WL_IDLE };

struct wl_flow {
    char name[24];
    enum wl_kind kind;
    struct tb_host *client, *server;
    uint32_t server_ipv4;
    uint16_t port;                /* 0: 5001 + flow index */
    tb_time_ns start_ns;          /* after wl_add_flow; every time below counts from then */
    uint64_t bytes, resp_bytes;
    uint32_t count, parallel;
    tb_time_ns think_ns, duration_ns;
    bool both_ways;
    /* results */
    uint64_t sent, delivered;
    uint32_t conns_opened, conns_done, requests_done;
    tb_time_ns first_byte_ns, end_ns;
    tb_time_ns lat_min_ns, lat_max_ns, lat_sum_ns;
    uint64_t keepalive_probes;
    char failure[200];
    bool done;
    size_t wl_index;              /* set by wl_add_flow */
    tb_time_ns t0_ns;             /* the client's clock at wl_add_flow */
};

struct wl;
struct wl *wl_new(uint64_t seed);
void wl_free(struct wl *w);
/* Registers a flow (the engine keeps the pointer: keep it alive). The
 * server listens at once; the client starts flow->start_ns later. Result
 * times (first_byte_ns, end_ns) count from the same moment, so they mean
 * the same on a virtual clock that starts at 0 and on CLOCK_MONOTONIC. */
bool wl_add_flow(struct wl *w, struct wl_flow *f, char *err, size_t err_len);
/* Installs the engine as the application of every host it uses. */
void wl_attach(struct wl *w);
bool wl_all_done(const struct wl *w);
/* After the run: fails flows whose connections did not finish. */
void wl_finish(struct wl *w);
const char *wl_kind_name(enum wl_kind k);
bool wl_kind_parse(const char *s, enum wl_kind *out);

#endif
