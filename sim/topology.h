/* Topologies: hosts, routers and links by name, flows between hosts, and
 * faults; built into a simulation, run, and checked. Routes are computed:
 * every router reaches every router-port subnet by the fewest router hops. */
#ifndef TB_SIM_TOPOLOGY_H
#define TB_SIM_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"
#include "harness/apps/workload.h"

/* Every table grows as needed (memory linear in the topology); these bound
 * what one spec may hold. */
#define TOPO_MAX_HOSTS 65536
#define TOPO_MAX_ROUTERS 4096
#define TOPO_MAX_ROUTER_PORTS 65536
#define TOPO_MAX_LINKS (1 << 20)
#define TOPO_MAX_FLOWS (1 << 20)
#define TOPO_MAX_FAULTS 128

struct topo_host {
    char name[16];
    uint32_t ipv4;
    uint8_t prefix_len;
    uint32_t gateway;             /* 0: the router port on its subnet */
    uint32_t sndbuf_bytes, rcvbuf_bytes;   /* 0: defaults */
    uint16_t mss;
    bool ecn;                     /* negotiate ECN (RFC 3168) */
};

struct topo_router {
    char name[16];
    int nports, cap_ports;
    uint32_t *port_ipv4;          /* topo_router_add_port */
    uint8_t *port_prefix_len;
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
    struct topo_host *hosts;
    int nhosts, cap_hosts;
    struct topo_router *routers;
    int nrouters, cap_routers;
    struct topo_link *links;
    int nlinks, cap_links;
    struct topo_flow *flows;
    int nflows, cap_flows;
    char (*faults)[160];
    int nfaults, cap_faults;
};

/* Each returns the new element, zeroed, or NULL at the TOPO_MAX_* bound or
 * out of memory. Pointers into t stay valid only until the next add. */
struct topo_host *topo_add_host(struct topo *t);
struct topo_router *topo_add_router(struct topo *t);
struct topo_link *topo_add_link(struct topo *t);
struct topo_flow *topo_add_flow(struct topo *t);
bool topo_add_fault(struct topo *t, const char *spec);
bool topo_router_add_port(struct topo_router *r, uint32_t ipv4, uint8_t prefix_len);

struct topo_outputs {
    const char *pcap_dir;         /* DIR/<host>.pcap for every host */
    const char *pcap_path;        /* one host's capture (as tcpdump on its port sees it) */
    const char *pcap_host;        /* that host; NULL: the first host */
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
    struct tb_stats *host_stats;  /* [nhosts] */
    struct topo_link_result *links;   /* [2 x nlinks]: a>b, b>a */
    int nlinks;
    struct sim_router_stats *router_stats;   /* [nrouters] */
    uint64_t pcap_frames;         /* written to out->pcap_path */
    char error[256];              /* setup errors */
    bool io_error;                /* the error is a file that could not be written */
};

void topo_init(struct topo *t);
/* Frees what the topo_add_* calls allocated (not t itself). */
void topo_free(struct topo *t);
/* Validates and runs; -1 with r->error on a setup error (bad names,
 * subnets with no router port, unreachable flows, bad faults). r is
 * overwritten; release it with topo_result_free. */
int topo_run(struct topo *t, const struct topo_outputs *out, struct topo_result *r);
void topo_result_free(struct topo_result *r);

/* The dumbbell: senders S1..SN -- R1 == R2 -- receivers D1..DN, flows Si->Di.
 * Pair n (1-based) uses 10.(1+2b).c.0/24 and 10.(2+2b).c.0/24 with
 * n = 256 b + c (10.1.n.0/24 and 10.2.n.0/24 up to 255 pairs), each with
 * its own router port; the bottleneck is 10.0.0.0/30. `kinds` cycles
 * through the given flow kinds (one kind: all the same). */
#define TOPO_DUMBBELL_MAX_PAIRS 32511
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
/* False (t partly filled) when pairs is out of 1..TOPO_DUMBBELL_MAX_PAIRS
 * or memory runs out. */
bool topo_dumbbell(struct topo *t, const struct dumbbell_opts *o);

#endif
