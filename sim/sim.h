/* Simulator v0: a discrete-event loop in virtual nanoseconds. Events are
 * ordered by (time, sequence number) — never by pointer — and idle time is
 * skipped: the clock jumps to the next event. Hosts are tcpbed stacks
 * behind virtual NICs; links are point-to-point with propagation delay,
 * bandwidth (serialisation) and a bounded drop-tail queue per direction. */
#ifndef TB_SIM_SIM_H
#define TB_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpbed/prng.h"
#include "tcpbed/tcpbed.h"

struct sim;
struct sim_host;
struct tb_pcap_writer;

typedef void (*sim_event_fn)(struct sim *sim, void *ctx, uint64_t arg);

/* Test hook: return true to drop the frame. `index` counts frames offered to
 * this link direction, from 0. */
typedef bool (*sim_drop_fn)(void *ctx, uint64_t index, const uint8_t *frame, size_t len);

enum sim_qdisc { SIM_QDISC_DROPTAIL = 0, SIM_QDISC_RED };

/* One direction of a link. Probabilities are per frame, in [0, 1]. */
struct sim_link_params {
    tb_time_ns delay_ns;          /* one-way propagation delay */
    tb_time_ns jitter_ns;         /* extra delay, uniform in [0, jitter] */
    bool jitter_keep_order;       /* jitter never reorders frames */
    uint64_t rate_bps;            /* 0: infinitely fast */
    uint32_t queue_bytes;         /* bound on bytes waiting to serialise */
    uint8_t qdisc;                /* enum sim_qdisc */
    uint32_t red_min_bytes, red_max_bytes;   /* RED thresholds on the average queue */
    double red_max_p;
    uint32_t ecn_mark_bytes;      /* mark CE (ECT frames) when the queue exceeds this; 0: never */
    uint16_t mtu;                 /* IP MTU of the link; larger frames are dropped; 0: 1500 */
    /* Random faults, each on its own stream. */
    double loss;                  /* Bernoulli */
    bool ge;                      /* Gilbert-Elliott bursts instead of Bernoulli */
    double ge_p_gb, ge_p_bg;      /* P(good -> bad), P(bad -> good) per frame */
    double ge_loss_good, ge_loss_bad;
    double reorder;               /* probability of holding a frame back */
    tb_time_ns reorder_delay_ns;  /* by this much (default: 2 x serialisation + 1 ms) */
    double duplicate;
    double corrupt;               /* flip one random bit */
};

struct sim_link_stats {
    uint64_t offered, delivered, queue_drops, hook_drops, rx_nobuf_drops;
    uint64_t bytes_delivered;
    uint64_t loss_drops, fault_drops, blackout_drops, mtu_drops, red_drops;
    uint64_t reordered, duplicated, corrupted, delayed, ecn_marked;
};

struct fault_spec;

struct sim *sim_new(uint64_t seed);
void sim_free(struct sim *sim);
tb_time_ns sim_now(const struct sim *sim);
uint64_t sim_events_processed(const struct sim *sim);

/* Adds a host running a stack built from cfg (its seed is used as given). */
struct sim_host *sim_add_host(struct sim *sim, const char *name, const struct tb_config *cfg);
struct tb_stack *sim_host_stack(struct sim_host *h);
const char *sim_host_name(const struct sim_host *h);
/* The host (harness/host) behind the simulated NIC: applications
 * (harness/apps) run on it, as they would on any platform. */
struct tb_host *sim_host_host(struct sim_host *h);
/* Captures every frame the host sends and receives, at the moment it crosses
 * the host's NIC (what tcpdump on that host would see); a host takes up to
 * SIM_HOST_CAPTURES writers (e.g. --pcap FILE and --pcap-dir's
 * DIR/<host>.pcap), false beyond. */
#define SIM_HOST_CAPTURES 2
bool sim_host_capture(struct sim_host *h, struct tb_pcap_writer *w);
/* An application written against the simulator (the unit tests'): called in
 * every pass of the host's loop, after input and timers, to drain
 * tb_stack_events and make API calls; the output goes to the wire after
 * it returns. Applications for every platform use tb_host_set_app. */
typedef void (*sim_app_fn)(struct sim *sim, struct sim_host *h, void *ctx);
void sim_host_set_app(struct sim_host *h, sim_app_fn fn, void *ctx);

/* Routers: forwarding nodes (not stacks). Ports get a subnet each; hosts
 * and routers are joined by links; routes name an outgoing port and a
 * next-hop address (0: the destination is on that port's subnet). */
struct sim_router;
struct sim_router_stats {
    uint64_t forwarded, arp_replies, dropped_not_for_us, dropped_bad, dropped_ttl, dropped_no_route,
        dropped_no_neighbour;
};
struct sim_router *sim_add_router(struct sim *sim, const char *name);
const char *sim_router_name(const struct sim_router *r);
/* Returns the port index, or -1. */
int sim_router_add_port(struct sim_router *r, uint32_t ipv4, uint8_t prefix_len);
/* The port whose subnet holds ipv4, or -1. */
int sim_router_port_for(const struct sim_router *r, uint32_t ipv4);
uint32_t sim_router_port_ip(const struct sim_router *r, int port);
int sim_connect_host_router(struct sim *sim, struct sim_host *h, struct sim_router *r, int port,
                            const struct sim_link_params *p);
int sim_connect_routers(struct sim *sim, struct sim_router *a, int pa, struct sim_router *b, int pb,
                        const struct sim_link_params *p);
bool sim_router_add_route(struct sim_router *r, uint32_t prefix, uint8_t prefix_len, int port, uint32_t via);
void sim_router_get_stats(const struct sim_router *r, struct sim_router_stats *out);

/* Connects a and b with the same parameters both ways; returns a link id or -1. */
int sim_connect(struct sim *sim, struct sim_host *a, struct sim_host *b, const struct sim_link_params *p);
/* Overrides one direction's parameters. */
void sim_link_set_params(struct sim *sim, int link, int dir_a_to_b, const struct sim_link_params *p);
/* Adds a targeted fault; it applies to the link between the hosts it names.
 * Returns false (with err) if no link joins them. */
bool sim_add_fault(struct sim *sim, const struct fault_spec *f, char *err, size_t err_len);
/* Every fault that fires (random or targeted), as the exact spec that
 * reproduces it, is passed here (for `tcpbed shrink`); also written as a
 * CSV line to the fault log if one is set. */
typedef void (*sim_fault_fn)(void *ctx, tb_time_ns now, const char *spec);
void sim_on_fault(struct sim *sim, sim_fault_fn fn, void *ctx);
/* Faults fired so far (random and targeted; not queue or MTU drops). */
uint64_t sim_faults_fired(const struct sim *sim);
/* CSV: time_ns,from,to,event,proto,kind,rel_seq,len,spec — faults and queue drops. */
void sim_fault_log(struct sim *sim, FILE *f);
void sim_link_set_drop_hook(struct sim *sim, int link, int dir_a_to_b, sim_drop_fn fn, void *ctx);
void sim_link_stats(const struct sim *sim, int link, int dir_a_to_b, struct sim_link_stats *out);

/* Schedules fn(sim, ctx, arg) at time t (>= now). */
void sim_at(struct sim *sim, tb_time_ns t, sim_event_fn fn, void *ctx, uint64_t arg);
/* Lets a host's stack act now: runs due timers, moves its output to the wire
 * and re-arms its wake-up. Call after any API call made on its stack. */
void sim_host_kick(struct sim *sim, struct sim_host *h);

/* Runs events until none is left before `until`, or sim_stop is called.
 * Returns the number of events processed. */
uint64_t sim_run(struct sim *sim, tb_time_ns until);
void sim_stop(struct sim *sim);

#endif
