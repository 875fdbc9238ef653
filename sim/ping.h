/* The ping scenario: two hosts on one link; A resolves B with ARP and sends
 * `count` echo requests `interval` apart. */
#ifndef TB_SIM_PING_H
#define TB_SIM_PING_H

#include <stdbool.h>
#include <stdint.h>

#include "harness/apps/ping.h"
#include "sim/sim.h"

#define SIM_PING_MAX_COUNT 100000

struct sim_ping_opts {
    uint64_t seed;
    uint32_t count;
    uint32_t payload_bytes;       /* echo data, >= 8 */
    tb_time_ns interval_ns;
    tb_time_ns timeout_ns;        /* wait for the last reply this long */
    struct sim_link_params link;
    const char *pcap_path;        /* NULL: none; capture is on host A */
    /* Test hook on the A->B and B->A directions. */
    sim_drop_fn drop_a_to_b, drop_b_to_a;
    void *drop_ctx;
};

struct sim_ping_result {
    uint32_t transmitted, received, corrupted, send_errors;
    struct ping_app_reply *replies;   /* received entries, in arrival order; free()d by sim_ping_result_free */
    tb_time_ns rtt_min_ns, rtt_max_ns, rtt_sum_ns;
    tb_time_ns sim_time_ns;           /* virtual time when the run ended */
    uint64_t events;
    uint64_t pcap_frames;
    struct tb_stats stats_a, stats_b;
    struct sim_link_stats link_ab, link_ba;
    bool invariants_ok;
    char invariant_error[160];
    char error[256];                  /* set when the run could not be set up */
};

void sim_ping_defaults(struct sim_ping_opts *o);
/* Returns 0 when the run happened (its outcome is in r), -1 on a setup
 * error (r->error says why). */
int sim_ping_run(const struct sim_ping_opts *o, struct sim_ping_result *r);
void sim_ping_result_free(struct sim_ping_result *r);

/* The addresses the two-host scenarios use. */
#define SIM_HOST_A_IP 0x0a000001u   /* 10.0.0.1 */
#define SIM_HOST_B_IP 0x0a000002u   /* 10.0.0.2 */
void sim_two_host_config(struct tb_config *cfg, uint64_t run_seed, int host_index);

#endif
