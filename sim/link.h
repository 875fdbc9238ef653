/* One direction of a link as a model: given a frame offered at `now`, what
 * happens to it (faults, queue, serialisation, propagation, jitter,
 * targeted delay, reordering, duplication) and when it arrives. No I/O, no
 * clock, no event queue: the simulator puts the arrival on its event queue
 * (sim.c), `tcpbed wire` holds the real frame until then on CLOCK_MONOTONIC
 * (harness/wire), so the two cannot apply a verdict differently. */
#ifndef TB_SIM_LINK_H
#define TB_SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/faults.h"
#include "sim/rng.h"
#include "sim/sim.h"
#include "tcpbed/time.h"

struct link_model {
    struct sim_link_params p;
    tb_time_ns busy_until;            /* when the transmitter finishes its backlog */
    tb_time_ns last_arrival;          /* for jitter that keeps order */
    uint64_t index;                   /* frames offered so far */
    sim_drop_fn drop_hook;            /* a test's hook, consulted after the draws */
    void *drop_ctx;
    struct sim_link_stats stats;
    struct sim_rng rng_jitter, rng_red;   /* the link's own streams; the faults have theirs */
    double red_avg;
    struct fault_stage faults;        /* middleware in front of the queue (sim/faults.h) */
};

/* Told of every event on a frame: faults, and what is not a fault (queue,
 * MTU and RED drops, CE marks). `spec` is the targeted spec that reproduces
 * a fault, NULL for the rest. */
typedef void (*link_note_fn)(void *ctx, const struct link_model *l, tb_time_ns now, const char *event,
                             const struct frame_class *c, size_t len, const char *spec);

/* What the links of one run share. */
struct link_env {
    struct fault_spec *const *specs;  /* targeted faults; each names the direction it applies to */
    size_t nspecs;
    bool names_frames;                /* classify frames (specs, a fault log, a fault callback) */
    link_note_fn note;                /* may be NULL */
    void *note_ctx;
};

struct link_delivery {
    tb_time_ns arrival_ns;            /* when the frame arrives at the far end */
    bool duplicate;                   /* a second copy arrives at the same time */
};

/* Streams are named by `index` among the run's directions (link * 2 + dir):
 * a new link leaves the others' draws alone. */
void link_model_init(struct link_model *l, const char *from, const char *to, uint64_t run_seed, uint64_t index);
void link_model_set_params(struct link_model *l, const struct sim_link_params *p);
/* Offers the frame (len > 0) at `now` (never earlier than the last offer).
 * Corruption and CE marks change `frame` in place. Returns false if the
 * link dropped it; otherwise *out says when it arrives. */
bool link_model_offer(struct link_model *l, const struct link_env *env, tb_time_ns now, uint8_t *frame, size_t len,
                      struct link_delivery *out);

#endif
