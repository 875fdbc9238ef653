#include "harness/apps/sender.h"

#include <string.h>

#include "harness/host/host.h"
#include "tcpbed/assert.h"

void tb_sender_init(struct tb_sender *s, uint64_t seed, uint8_t *chunk, size_t chunk_bytes, bool zero_copy) {
    TB_ASSERT(chunk != NULL && chunk_bytes > 0 && (!zero_copy || chunk_bytes >= TB_SENDER_ZC_BUF));
    memset(s, 0, sizeof(*s));
    tb_stream_init(&s->stream, seed);
    s->chunk = chunk;
    s->chunk_bytes = chunk_bytes;
    s->zero_copy = zero_copy;
}

void tb_sender_add(struct tb_sender *s, uint64_t bytes) {
    s->to_generate = bytes > UINT64_MAX - s->to_generate ? UINT64_MAX : s->to_generate + bytes;
}

void tb_sender_stop(struct tb_sender *s) { s->to_generate = 0; }

bool tb_sender_idle(const struct tb_sender *s) { return s->to_generate == 0 && s->chunk_off == s->chunk_len; }

static bool would_block(int64_t rc) { return rc == TB_ERR_AGAIN || rc == TB_ERR_NOBUFS; }

/* Zero-copy: the bytes a full buffer refused go first, as one buffer, or
 * the stream would skip them. */
static int pump_zero_copy(struct tb_sender *s, struct tb_host *h, int32_t conn) {
    if (s->chunk_off != s->chunk_len) {
        struct tb_buf *b = tb_host_buf_alloc(h, s->chunk_len);
        if (b == NULL) return 0;
        memcpy(b->data, s->chunk, s->chunk_len);
        if (tb_host_send_buf(h, conn, b) != TB_OK) {
            tb_host_buf_free(h, b);
            return 0;
        }
        s->sent += s->chunk_len;
        s->chunk_off = s->chunk_len;
    }
    while (s->to_generate > 0) {
        struct tb_buf *b = tb_host_buf_alloc(h, TB_SENDER_ZC_BUF);
        if (b == NULL) return 0;
        uint32_t n = s->to_generate < TB_SENDER_ZC_BUF ? (uint32_t)s->to_generate : TB_SENDER_ZC_BUF;
        b->len = n;
        tb_stream_fill(&s->stream, b->data, n);
        s->to_generate -= n;
        int rc = tb_host_send_buf(h, conn, b);
        if (rc != TB_OK) {
            /* The stream moved on: keep these bytes for the next try. */
            memcpy(s->chunk, b->data, n);
            tb_host_buf_free(h, b);
            s->chunk_len = n;
            s->chunk_off = 0;
            return rc == TB_ERR_AGAIN ? 0 : rc;
        }
        s->sent += n;
    }
    return 0;
}

int tb_sender_pump(struct tb_sender *s, struct tb_host *h, int32_t conn) {
    if (s->zero_copy) return pump_zero_copy(s, h, conn);
    while (s->to_generate > 0 || s->chunk_off < s->chunk_len) {
        if (s->chunk_off == s->chunk_len) {
            s->chunk_len = s->to_generate < s->chunk_bytes ? (size_t)s->to_generate : s->chunk_bytes;
            s->chunk_off = 0;
            tb_stream_fill(&s->stream, s->chunk, s->chunk_len);
            s->to_generate -= s->chunk_len;
        }
        int64_t n = tb_host_send(h, conn, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off);
        if (would_block(n)) return 0;
        if (n < 0) return (int)n;
        s->chunk_off += (size_t)n;
        s->sent += (uint64_t)n;
    }
    return 0;
}
