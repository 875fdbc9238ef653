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

#include "tcpbed/tcpbed.h"

struct sim;
struct sim_host;
struct tb_pcap_writer;

typedef void (*sim_event_fn)(struct sim *sim, void *ctx, uint64_t arg);

/* Test hook: return true to drop the frame. `index` counts frames offered to
 * this link direction, from 0. */
typedef bool (*sim_drop_fn)(void *ctx, uint64_t index, const uint8_t *frame, size_t len);

struct sim_link_params {
    tb_time_ns delay_ns;          /* one-way propagation delay */
    uint64_t rate_bps;            /* 0: infinitely fast */
    uint32_t queue_bytes;         /* drop-tail bound on bytes waiting to serialise */
};

struct sim_link_stats {
    uint64_t offered, delivered, queue_drops, hook_drops, rx_nobuf_drops;
    uint64_t bytes_delivered;
};

struct sim *sim_new(uint64_t seed);
void sim_free(struct sim *sim);
tb_time_ns sim_now(const struct sim *sim);
uint64_t sim_events_processed(const struct sim *sim);
/* Derives the seed of one consumer of randomness (a host's stack, a link's
 * fault stream) from the run seed and the consumer's identity, so that
 * adding a consumer leaves the others' draws unchanged. */
uint64_t sim_derive_seed(uint64_t run_seed, const char *purpose, uint64_t index);

/* Adds a host running a stack built from cfg (its seed is used as given). */
struct sim_host *sim_add_host(struct sim *sim, const char *name, const struct tb_config *cfg);
struct tb_stack *sim_host_stack(struct sim_host *h);
const char *sim_host_name(const struct sim_host *h);
/* Captures every frame the host sends and receives, at the moment it crosses
 * the host's NIC (what tcpdump on that host would see). */
void sim_host_capture(struct sim_host *h, struct tb_pcap_writer *w);
/* The host's application: called after the stack has processed input or
 * timers, outside packet processing, to drain tb_stack_events and make API
 * calls; the host's output is moved to the wire after it returns. */
typedef void (*sim_app_fn)(struct sim *sim, struct sim_host *h, void *ctx);
void sim_host_set_app(struct sim_host *h, sim_app_fn fn, void *ctx);

/* Connects a and b; returns a link id or -1. */
int sim_connect(struct sim *sim, struct sim_host *a, struct sim_host *b, const struct sim_link_params *p);
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
