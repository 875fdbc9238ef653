/* The run-log: everything that entered one host's core, in order, in a
 * pcapng file (docs/tap.md, "The run-log format"). Frames are Enhanced
 * Packet Blocks, so Wireshark and tshark open the file as a capture; the
 * rest (the header, pass starts, ticks, application calls, the end) are
 * Custom Blocks that readers not knowing them skip.
 *
 * The recorder is a set of host hooks (any platform):
 *   w = tb_runlog_open(path, cfg, name, cmdline, err, len);   before the host runs
 *   tb_runlog_attach(w, host);                                 before its first call
 *   ... run ...
 *   tb_runlog_close(w, err, len);                              writes END, reports any write error
 * `tcpbed replay` (harness/replay) reads it back. */
#ifndef TB_TRACES_RUNLOG_H
#define TB_TRACES_RUNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/tcpbed.h"

/* ---- the format (shared by the writer and harness/replay's reader) ---------- */
#define TB_RUNLOG_VERSION 1
#define TB_PCAPNG_SHB 0x0A0D0D0Au
#define TB_PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define TB_PCAPNG_IDB 0x00000001u
#define TB_PCAPNG_EPB 0x00000006u
/* Custom Block, "copyable" flavour: an editor that keeps the packets may keep these too. */
#define TB_PCAPNG_CB_COPY 0x00000BADu
#define TB_PCAPNG_CB_NOCOPY 0x40000BADu
/* RFC 5612's Private Enterprise Number for documentation: tcpbed has no
 * PEN of its own, and this one is reserved so it will never be another's. */
#define TB_RUNLOG_PEN 32473u
#define TB_PCAPNG_LINKTYPE_ETHERNET 1
#define TB_PCAPNG_SNAPLEN 65535u
#define TB_PCAPNG_OPT_END 0
#define TB_PCAPNG_OPT_COMMENT 1
#define TB_PCAPNG_SHB_USERAPPL 4
#define TB_PCAPNG_IF_NAME 2
#define TB_PCAPNG_IF_TSRESOL 9
#define TB_PCAPNG_EPB_FLAGS 2
/* epb_flags bits 0-1: the frame's direction. */
#define TB_PCAPNG_EPB_INBOUND 1u
#define TB_PCAPNG_EPB_OUTBOUND 2u

/* The first byte of a custom block's data; little-endian fields follow. */
enum tb_runlog_record {
    TB_RUNLOG_HEADER = 1,         /* u32 version, str tcpbed version, str config, str host, str cmdline */
    TB_RUNLOG_PASS = 2,           /* i64 now, u8 from_port */
    TB_RUNLOG_TICK = 3,           /* i64 now */
    TB_RUNLOG_CALL = 4,           /* see tb_runlog_call_fields in runlog.c and docs/tap.md */
    TB_RUNLOG_END = 5,            /* u64 frames, u64 records */
};
/* CALL's flags byte. */
#define TB_RUNLOG_CALL_IN_PASS 1u

/* FNV-1a, 64 bits: what a recv record keeps of the bytes read (a check
 * that replay read the same, without storing them twice). */
#define TB_RUNLOG_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t tb_runlog_hash(uint64_t h, const void *data, size_t len);

/* ---- the recorder ------------------------------------------------------------ */
struct tb_runlog_writer;
struct tb_host;

/* Creates `path` and writes the section header, the interface (named
 * host_name) and the HEADER record (cfg as key=value lines, the command
 * line). NULL with err on failure. */
struct tb_runlog_writer *tb_runlog_open(const char *path, const struct tb_config *cfg, const char *host_name,
                                        const char *cmdline, char *err, size_t err_len);
/* Records every pass start, frame, tick and application call of h. false
 * when the host has no hook slot left. One host per writer. */
bool tb_runlog_attach(struct tb_runlog_writer *w, struct tb_host *h);
uint64_t tb_runlog_frames(const struct tb_runlog_writer *w);
uint64_t tb_runlog_records(const struct tb_runlog_writer *w);
/* Writes END, flushes and closes (w is freed either way). 0, or -1 with
 * err when any write failed, at any time in the run (a full disk). */
int tb_runlog_close(struct tb_runlog_writer *w, char *err, size_t err_len);

#endif
