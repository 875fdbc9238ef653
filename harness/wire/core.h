/* The core of `tcpbed wire`, with no device and no clock: two link
 * directions (A>B, B>A) of the simulator's link model (sim/link.h) and the
 * frames they hold until their arrival time. The real-time loop (wire.c)
 * offers each frame read from an end with the time it was read, and writes
 * out what wire_core_release hands back when that time comes; a unit test
 * drives the same core with made-up frames and times
 * (tests/unit/test_wire_link.c). Directions: 0 is A>B (read from A, written to
 * B), 1 is B>A. */
#ifndef TB_WIRE_CORE_H
#define TB_WIRE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/faults.h"
#include "sim/link.h"
#include "sim/sim.h"
#include "tcpbed/time.h"

/* Frames held per direction at most (delay x rate must fit): beyond it a
 * frame is dropped and counted, so memory stays bounded (~50 MB a direction). */
#define WIRE_MAX_HELD 32768

struct wire_dir_stats {
    uint64_t frames_in, bytes_in;     /* offered to the link */
    uint64_t frames_out, bytes_out;   /* released to the far end */
    uint64_t overflow_drops;          /* more than WIRE_MAX_HELD held */
    uint64_t held;                    /* now */
};

struct wire_core_params {
    struct sim_link_params link[2];   /* [0] A>B, [1] B>A */
    uint64_t seed;                    /* the run seed: streams as the simulator's link 0 */
    struct fault_spec *const *specs;  /* targeted faults naming A and B */
    size_t nspecs;
    /* Every event on a frame, as the simulator's fault log writes it
     * (time_ns,from,to,event,proto,kind,rel_seq,len,spec); each may be NULL. */
    FILE *fault_csv[2];
    /* Every fault that fired, as the --fault spec that reproduces it. */
    FILE *record_faults;
};

struct wire_core;

/* NULL with err when a spec names an end other than A or B, or on no memory. */
struct wire_core *wire_core_new(const struct wire_core_params *p, char *err, size_t err_len);
void wire_core_free(struct wire_core *c);
/* Offers a frame read at `now` (ns since the wire started, never less than
 * the last call's) to direction `dir`; the core copies it. */
void wire_core_offer(struct wire_core *c, int dir, tb_time_ns now, const uint8_t *frame, size_t len);
/* When the next held frame is due; TB_TIME_NEVER when none is held. */
tb_time_ns wire_core_next_release(const struct wire_core *c);
/* Hands every frame due by `now` to deliver, in arrival order (equal
 * times in the order they were offered); returns how many. */
typedef void (*wire_deliver_fn)(void *ctx, int dir, tb_time_ns due, const uint8_t *frame, size_t len);
size_t wire_core_release(struct wire_core *c, tb_time_ns now, wire_deliver_fn deliver, void *ctx);
/* Drops whatever is still held (the wire stops); returns how many. */
uint64_t wire_core_discard(struct wire_core *c);

void wire_core_stats(const struct wire_core *c, int dir, struct wire_dir_stats *out, struct sim_link_stats *link);
uint64_t wire_core_faults_fired(const struct wire_core *c);

#endif
