/* Reads a run-log (traces/runlog.h, docs/tap.md) block by block: every
 * field bounds-checked, every error a sentence with the byte offset of the
 * block it is in. No allocation beyond the largest block and its events. */
#ifndef TB_REPLAY_RUNLOG_READER_H
#define TB_REPLAY_RUNLOG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/host/host.h"
#include "tcpbed/tcpbed.h"

enum tb_rl_kind { TB_RL_FRAME, TB_RL_HEADER, TB_RL_PASS, TB_RL_TICK, TB_RL_CALL, TB_RL_END };

struct tb_rl_item {
    enum tb_rl_kind kind;
    uint64_t offset;              /* the block's first byte in the file */
    tb_time_ns now;               /* FRAME, PASS, TICK, CALL */
    /* FRAME */
    bool outbound;
    uint64_t frame_no;            /* 1-based, among the file's frames */
    uint64_t shown_no;            /* Wireshark's and tshark's frame.number: they count custom blocks too */
    const uint8_t *frame;
    size_t frame_len;
    /* HEADER (NUL-terminated) */
    uint32_t version;
    const char *tool_version, *config, *host, *cmdline;
    size_t config_len;
    /* PASS */
    bool from_port;
    /* CALL: pointers into the reader, valid until the next item */
    struct tb_host_call call;     /* .data: SEND/SEND_BUF's bytes, .opts: CONNECT's options */
    bool in_pass;
    size_t data_len;              /* bytes at call.data */
    uint64_t hash;                /* RECV, RECV_BUF: of the bytes read */
    const struct tb_event *events;   /* EVENTS: `result` of them */
    /* END */
    uint64_t end_frames, end_records;
};

enum tb_rl_status {
    TB_RL_ITEM = 1,               /* *item is filled */
    TB_RL_EOF = 0,                /* the data ended at a block boundary */
    TB_RL_BAD = -1,               /* not a run-log, or a malformed block (err) */
    TB_RL_CUT = -2,               /* a block runs past the end: the file was cut short (err) */
};

struct tb_rl_reader;

/* NULL with err when the file cannot be opened. */
struct tb_rl_reader *tb_rl_open_file(const char *path, char *err, size_t err_len);
/* Reads from memory (the caller keeps data alive). NULL when out of memory. */
struct tb_rl_reader *tb_rl_open_mem(const uint8_t *data, size_t len);
void tb_rl_close(struct tb_rl_reader *r);

/* The next frame or record (section and interface blocks, other tools'
 * blocks and other enterprises' custom blocks are checked and skipped).
 * The first record is HEADER and comes before any frame; END is last. */
enum tb_rl_status tb_rl_next(struct tb_rl_reader *r, struct tb_rl_item *item, char *err, size_t err_len);
/* Where the next block starts (the file's size at TB_RL_EOF). */
uint64_t tb_rl_offset(const struct tb_rl_reader *r);
uint64_t tb_rl_frames(const struct tb_rl_reader *r);
uint64_t tb_rl_records(const struct tb_rl_reader *r);

const char *tb_rl_call_name(enum tb_host_call_kind kind);

#endif
