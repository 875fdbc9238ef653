/* `tcpbed wire`: a real-time link between two interfaces. Each end is a
 * TAP device (attached with TUNSETIFF, IFF_TAP|IFF_NO_PI) or any other
 * interface (an AF_PACKET socket bound to it, promiscuous, ignoring its own
 * output); frames read from one end go through the simulator's link model
 * (core.h) and are written to the other when their time comes, on
 * CLOCK_MONOTONIC. Runs until SIGINT/SIGTERM or the duration. */
#ifndef TB_WIRE_WIRE_H
#define TB_WIRE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/wire/core.h"

/* Frames this big are read whole: a GSO super-frame is up to 64 KiB of IP. */
#define WIRE_MAX_FRAME 65600

struct wire_end_stats {
    uint64_t rx_frames, rx_bytes;     /* read from the interface */
    uint64_t tx_frames, tx_bytes;     /* written to it */
    uint64_t tx_drops;                /* the interface refused a frame (full, too big, down) */
    uint64_t big_frames;              /* read frames over 1514 bytes (offloads on) */
    uint64_t truncated;               /* read frames over WIRE_MAX_FRAME: dropped */
};

struct wire_opts {
    const char *iface[2];             /* A (--a), B (--b) */
    struct wire_core_params core;
    const char *pcap_dir;             /* DIR/A.pcap, DIR/B.pcap (faults.csv is the caller's, in core) */
    tb_time_ns duration_ns;           /* 0: until a signal */
    FILE *log;                        /* warnings (stderr) */
};

struct wire_result {
    char kind[2][8];                  /* "tap" or "packet" */
    struct wire_end_stats end[2];
    struct wire_dir_stats dir[2];
    struct sim_link_stats link[2];
    uint64_t faults_fired;
    uint64_t held_at_stop;            /* frames on the wire when it stopped, not delivered */
    tb_time_ns elapsed_ns;
    int stop_signal;                  /* SIGINT or SIGTERM; 0 when the duration ended */
    char error[512];
};

/* 0 after a clean stop; 1 with result->error when an end cannot be opened
 * or an output written; 2 when the options contradict each other (the same
 * interface twice, a spec naming other ends). */
int wire_run(const struct wire_opts *o, struct wire_result *result);

#endif
