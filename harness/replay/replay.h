/* Replay: a run-log (traces/runlog.h) drives a fresh host built from the
 * logged configuration, in the log's virtual time, and every frame the
 * core emits is compared with the recorded one. A platform on the host
 * loop: its port hands in the recorded inbound frames of each pass and
 * checks what goes out, its clock is the log's, its application makes the
 * recorded calls and checks their results.
 *
 * The first difference stops the run and is described field by field
 * (docs/tap.md, "Replaying a run-log"). */
#ifndef TB_REPLAY_REPLAY_H
#define TB_REPLAY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/host/host.h"
#include "tcpbed/tcpbed.h"

enum tb_replay_status {
    TB_REPLAY_IDENTICAL = 0,      /* every frame and call as recorded, END reached */
    TB_REPLAY_DIVERGED = 1,       /* `divergence` says where and how */
    TB_REPLAY_CUT_SHORT = 2,      /* no END: what was there replayed identically (error says where it stops) */
    TB_REPLAY_BAD_LOG = 3,        /* not a run-log, malformed, unknown version (error, with the byte offset) */
    TB_REPLAY_UNSUPPORTED = 4,    /* a record replay cannot reproduce (error says which) */
};

struct tb_replay_divergence {
    uint64_t frame_no;            /* the log's frame (1-based, as Wireshark numbers it); 0: not a frame */
    uint64_t outbound_no;         /* among the log's outbound frames; 0: not one */
    uint64_t shown_no;            /* the frame's number in Wireshark and tshark (frame.number) */
    uint64_t pass_no;             /* 1-based */
    uint64_t offset;              /* byte offset of the record in the log */
    tb_time_ns now;
    char what[32];                /* "frame", "call", "tick", "missing frame", "extra frame", "inbound frame" */
    char field[48];               /* "tcp.window", "result", ...; "" when the whole item differs */
    char recorded[192], replayed[192];
    char message[512];            /* one sentence that says all of it */
};

struct tb_replay_result {
    enum tb_replay_status status;
    uint64_t frames, frames_in, frames_out, passes, ticks, calls;   /* replayed and matched */
    char host[16];
    char tool_version[32];
    char cmdline[512];
    struct tb_replay_divergence divergence;
    char error[512];
};

struct tb_replay_opts {
    const char *path;             /* the log, or */
    const uint8_t *data;          /* the log in memory (fuzzing, tests) */
    size_t len;
    /* Called once the host is built, before the first record: attach
     * captures (tb_pcap_attach, tb_cc_trace_attach). */
    void (*attach)(struct tb_host *h, void *ctx);
    void *attach_ctx;
    /* Optional: refuse a configuration (a fuzzer's memory bound); false
     * with why set makes the log TB_REPLAY_UNSUPPORTED. */
    bool (*config_ok)(const struct tb_config *cfg, char *why, size_t why_len);
    /* The largest buffer a send or recv record may make replay allocate;
     * 0: 1 GiB. */
    size_t max_call_bytes;
};

/* Replays the whole log; the outcome is in r (r->status). */
void tb_replay_run(const struct tb_replay_opts *o, struct tb_replay_result *r);

const char *tb_replay_status_name(enum tb_replay_status s);

#endif
