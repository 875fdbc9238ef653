/* Topologies: hosts, routers and links by name, flows between hosts, and
 * faults; built into a simulation, run, and checked. Routes are computed:
 * every router reaches every router-port subnet by the fewest router hops. */
#ifndef TB_SIM_TOPOLOGY_H
#define TB_SIM_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"
#include "sim/workload.h"

#define TOPO_MAX_HOSTS 64
#define TOPO_MAX_ROUTERS 16
#define TOPO_MAX_LINKS 80
#define TOPO_MAX_FLOWS 128
#define TOPO_MAX_FAULTS 128

struct topo_host {
    char name[16];
    uint32_t ipv4;
    uint8_t prefix_len;
    uint32_t gateway;             /* 0: the router port on its subnet */
    uint32_t sndbuf_bytes, rcvbuf_bytes;   /* 0: defaults */
    uint16_t mss;
};

struct topo_router {
    char name[16];
    int nports;
    uint32_t port_ipv4[16];
    uint8_t port_prefix_len[16];
};

struct topo_link {
    char a[16], b[16];
    struct sim_link_params ab, ba;   /* a->b, b->a */
};

struct topo_flow {
    char client[16], server[16];
    struct wl_flow f;             /* kind, sizes, times; results after the run */
};

struct topo {
    uint64_t seed;
    tb_time_ns time_limit_ns;
    struct topo_host hosts[TOPO_MAX_HOSTS];
    int nhosts;
    struct topo_router routers[TOPO_MAX_ROUTERS];
    int nrouters;
    struct topo_link links[TOPO_MAX_LINKS];
    int nlinks;
    struct topo_flow flows[TOPO_MAX_FLOWS];
    int nflows;
    char faults[TOPO_MAX_FAULTS][160];
    int nfaults;
};

struct topo_outputs {
    const char *pcap_dir;         /* DIR/<host>.pcap for every host */
    FILE *fault_log, *trace_cc;
    sim_fault_fn on_fault;
    void *on_fault_ctx;
};

struct topo_link_result {
    char name[40];                /* "A>R1" */
    struct sim_link_stats stats;
};

struct topo_result {
    bool pass;
    char failure[256];
    tb_time_ns sim_time_ns;
    uint64_t events, packets, faults_fired;
    double fairness;              /* Jain's index over bulk flows' goodput; 0 if none */
    struct tb_stats host_stats[TOPO_MAX_HOSTS];
    struct topo_link_result links[2 * TOPO_MAX_LINKS];
    int nlinks;
    struct sim_router_stats router_stats[TOPO_MAX_ROUTERS];
    char error[256];              /* setup errors */
};

void topo_init(struct topo *t);
/* Validates and runs; -1 with r->error on a setup error (bad names,
 * subnets with no router port, unreachable flows, bad faults). */
int topo_run(struct topo *t, const struct topo_outputs *out, struct topo_result *r);

/* The dumbbell: senders S1..SN -- R1 == R2 -- receivers D1..DN, flows Si->Di
 * (at most 15 pairs: each has its own router port and /24 on both sides).
 * `kinds` cycles through the given flow kinds (one kind: all the same). */
struct dumbbell_opts {
    int pairs;
    struct sim_link_params bottleneck_ab, bottleneck_ba;
    uint64_t access_rate_bps;
    tb_time_ns access_delay_ns;
    enum wl_kind kinds[4];
    int nkinds;
    uint64_t bytes, resp_bytes;
    uint32_t count, parallel;
    tb_time_ns duration_ns, think_ns, stagger_ns;
};
void topo_dumbbell(struct topo *t, const struct dumbbell_opts *o);

#endif
