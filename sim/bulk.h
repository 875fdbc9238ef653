/* The bulk scenario: host A (10.0.0.1) sends a seeded pseudo-random byte
 * stream to host B (10.0.0.2) over TCP; B checks every byte; both close.
 * With `both`, B sends its own seeded stream back over the same connection
 * at the same time and A checks every byte of it.
 * Exit status and `integrity` say whether every byte arrived once, in
 * order, unchanged, and both connections finished cleanly. */
#ifndef TB_SIM_BULK_H
#define TB_SIM_BULK_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/sim.h"

struct sim_bulk_opts {
    uint64_t seed;
    uint64_t bytes;               /* to send; ignored when duration_ns > 0 */
    tb_time_ns duration_ns;       /* send for this long instead, then close */
    uint16_t mss;                 /* 0: from the MTU */
    uint16_t port;
    uint32_t sndbuf_bytes, rcvbuf_bytes;   /* 0: sized from the link's bandwidth-delay product */
    struct sim_link_params link;  /* both directions; queue_bytes 0: sized from the BDP */
    bool have_link_ba;            /* link_ba overrides B->A */
    struct sim_link_params link_ba;
    const char *const *faults;    /* targeted fault specs (docs/faults.md) */
    size_t fault_count;
    FILE *fault_log;              /* CSV of every fault and queue drop */
    FILE *trace_cc;               /* CSV of every congestion-control / timer decision */
    sim_fault_fn on_fault;        /* every fault that fired, as its exact spec */
    void *on_fault_ctx;
    const char *pcap_dir;         /* DIR/A.pcap and DIR/B.pcap */
    tb_time_ns time_limit_ns;     /* virtual time after which the run has failed */
    bool zero_copy;               /* tb_tcp_send_buf / tb_tcp_recv_buf instead of copies */
    uint8_t cc;                   /* enum tb_cc_algo, both hosts */
    bool ecn;                     /* RFC 3168 on both hosts */
    bool no_rack_tlp;             /* turn RACK-TLP off */
    bool no_sack;                 /* turn SACK off (NewReno recovery by duplicate ACKs) */
    tb_time_ns start_ns;          /* when A connects (moves the ISN, RFC 6528's timer) */
    tb_time_ns reader_stall_ns;   /* B reads nothing before this time: its window fills */
    bool nodelay;                 /* Nagle off on A (and on B with both) */
    bool both;                    /* B sends bytes (or for duration) back at the same time, A checks them */
    const char *pcap_path;        /* capture on host A */
    const char *record_path;      /* host A's run-log (traces/runlog.h), for tcpbed replay */
    const char *record_cmdline;   /* the command line the run-log's header keeps */
    sim_drop_fn drop_a_to_b, drop_b_to_a;   /* test hooks */
    void *drop_ctx;
    /* Test hook: adjust a host's config (host 0 is A) before it is built. */
    void (*tweak_config)(struct tb_config *cfg, int host, void *ctx);
    void *tweak_ctx;
};

struct sim_bulk_result {
    uint64_t sent_bytes;          /* accepted by A's send calls */
    uint64_t delivered_bytes;     /* read by B and checked against the stream */
    uint64_t reverse_sent_bytes;  /* both: accepted by B's send calls (else 0) */
    uint64_t reverse_delivered_bytes;   /* both: read by A and checked against B's stream */
    char integrity[200];          /* "ok" or what went wrong */
    bool pass;
    uint64_t retransmits, rto_timeouts;
    tb_time_ns sim_time_ns;       /* when the last connection finished (or the limit) */
    tb_time_ns connect_ns;        /* when A's connect completed */
    uint64_t events, packets;
    struct tb_tcp_info info_a, info_b;   /* at the end of each connection */
    struct tb_stats stats_a, stats_b;
    struct sim_link_stats link_ab, link_ba;
    uint32_t sndbuf_bytes, rcvbuf_bytes, queue_bytes;   /* as used */
    uint64_t pcap_frames;
    uint64_t runlog_frames, runlog_records;   /* with record_path */
    uint64_t faults_fired;
    char error[256];              /* set when the run could not be set up */
};

void sim_bulk_defaults(struct sim_bulk_opts *o);
/* 0 when the run happened (outcome in r), -1 on a setup error. */
int sim_bulk_run(const struct sim_bulk_opts *o, struct sim_bulk_result *r);

#endif
