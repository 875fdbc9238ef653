/* The ping application: `count` ICMP echo requests from one host to an
 * address, `interval` apart, every reply recorded (sequence, TTL, RTT,
 * whether the payload came back intact). Runs on any platform. */
#ifndef TB_APPS_PING_H
#define TB_APPS_PING_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpbed/tcpbed.h"

struct tb_host;

#define PING_APP_IDENT 0x7462   /* "tb": replies with another ident are someone else's */

struct ping_app_opts {
    uint32_t dst_ipv4;
    uint32_t count;
    uint32_t payload_bytes;       /* echo data, >= 8 */
    tb_time_ns start_ns, interval_ns;   /* from ping_app_start */
};

struct ping_app_reply {
    uint16_t seq;
    uint8_t ttl;
    bool payload_ok;
    uint32_t bytes;               /* ICMP message bytes (header + data) */
    tb_time_ns rtt_ns;
};

struct ping_app_result {
    uint32_t transmitted, received, corrupted, send_errors;
    struct ping_app_reply *replies;   /* the caller's array of `count`, filled in arrival order */
    tb_time_ns rtt_min_ns, rtt_max_ns, rtt_sum_ns;
};

/* Installs the application on h and schedules every request; the run
 * stops (tb_host_stop) when the last reply is in. The app state is the
 * caller's (it must outlive the run). */
struct ping_app {
    struct ping_app_opts o;
    struct ping_app_result *r;
};
void ping_app_start(struct ping_app *app, const struct ping_app_opts *o, struct tb_host *h, struct ping_app_result *r);

#endif
