/* The one bulk sender every application uses: it writes a seeded byte
 * stream (harness/apps/stream.h) into a connection for as long as the
 * stack takes it, keeping what a full buffer refused for the next try, so
 * the receiver can check every byte. Copying (tb_host_send) or zero-copy
 * (tb_host_send_buf from host buffers). */
#ifndef TB_APPS_SENDER_H
#define TB_APPS_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/apps/stream.h"

struct tb_host;

#define TB_SENDER_ZC_BUF 1024   /* bytes per zero-copy buffer */

struct tb_sender {
    struct tb_stream stream;
    uint64_t to_generate;         /* bytes of the stream still to hand over (UINT64_MAX: until stopped) */
    uint64_t sent;                /* bytes the stack accepted */
    bool zero_copy;
    uint8_t *chunk;               /* the owner's storage: bytes generated per copying write */
    size_t chunk_bytes;
    size_t chunk_len, chunk_off;  /* generated, not yet accepted */
};

/* chunk: chunk_bytes of storage that outlives the sender (>= TB_SENDER_ZC_BUF
 * for zero-copy, which keeps a refused buffer's bytes there). */
void tb_sender_init(struct tb_sender *s, uint64_t seed, uint8_t *chunk, size_t chunk_bytes, bool zero_copy);
/* More bytes to send (saturating). */
void tb_sender_add(struct tb_sender *s, uint64_t bytes);
/* Nothing more is generated; what is generated still goes out. */
void tb_sender_stop(struct tb_sender *s);
/* Writes until the stack refuses or everything is sent. Returns 0, or the
 * stack's error (TB_ERR_*) when a write failed for another reason than a
 * full buffer. */
int tb_sender_pump(struct tb_sender *s, struct tb_host *h, int32_t conn);
/* Everything handed over: time to shut down. */
bool tb_sender_idle(const struct tb_sender *s);

#endif
