/* The bulk application between two hosts: A connects to B and sends a
 * seeded byte stream (or for a duration); B checks every byte; both close.
 * With `both`, B sends its own stream back at the same time and A checks
 * it. Runs on any platform: it sees only the two hosts. */
#ifndef TB_APPS_BULK_H
#define TB_APPS_BULK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpbed/tcpbed.h"

struct tb_host;

struct bulk_app_opts {
    uint64_t seed;                /* the payload streams derive from it */
    uint64_t bytes;               /* each sender's; ignored when duration_ns > 0 */
    tb_time_ns duration_ns;       /* send for this long instead, then close */
    uint32_t server_ipv4;         /* B's address, as A connects to it */
    uint16_t port;
    /* Times count from bulk_app_start, on whatever clock the hosts have. */
    tb_time_ns start_ns;          /* when A connects */
    tb_time_ns reader_stall_ns;   /* B reads nothing before this time */
    bool zero_copy;               /* tb_host_send_buf / tb_host_recv_buf instead of copies */
    bool nodelay;                 /* Nagle off on A (and on B with both) */
    bool both;
};

struct bulk_app_result {
    uint64_t sent_bytes, delivered_bytes;                   /* A -> B */
    uint64_t reverse_sent_bytes, reverse_delivered_bytes;   /* B -> A (both) */
    tb_time_ns connect_ns;        /* when A's connect completed, from bulk_app_start */
    tb_time_ns end_ns;            /* when the last connection finished, from bulk_app_start */
    struct tb_tcp_info info_a, info_b;   /* at the end of each connection */
    bool a_done, b_done;
    char failure[200];            /* empty, or the first thing that went wrong */
};

struct bulk_app;

/* Listens on B, installs itself as both hosts' application and sets its
 * timers; the result is filled as the run goes. NULL: out of memory or
 * listen failed (failure says which). */
struct bulk_app *bulk_app_start(const struct bulk_app_opts *o, struct tb_host *a, struct tb_host *b,
                                struct bulk_app_result *r);
/* After the run: what did not finish, what was not delivered, the stacks'
 * self-checks; `now` is when the run ended. */
void bulk_app_finish(struct bulk_app *app, tb_time_ns now);
void bulk_app_free(struct bulk_app *app);

#endif
