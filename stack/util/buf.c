#include <string.h>

#include "tcpbed/buf.h"
#include "util/assert.h"

uint8_t *tb_buf_push(struct tb_buf *b, uint32_t n) {
    if (tb_buf_headroom(b) < n) return NULL;
    b->data -= n;
    b->len += n;
    return b->data;
}

uint8_t *tb_buf_pull(struct tb_buf *b, uint32_t n) {
    if (b->len < n) return NULL;
    b->data += n;
    b->len -= n;
    return b->data;
}

uint8_t *tb_buf_put(struct tb_buf *b, uint32_t n) {
    if (b->flags & TB_BUF_F_INDIRECT) return NULL;  /* borrowed bytes are read-only */
    if (tb_buf_tailroom(b) < n) return NULL;
    uint8_t *tail = b->data + b->len;
    b->len += n;
    return tail;
}

void tb_buf_trim(struct tb_buf *b, uint32_t len) {
    TB_ASSERT(len <= b->len);
    b->len = len;
}

void tb_buf_ref(struct tb_buf *b) {
    TB_ASSERT(b->refcnt > 0);
    TB_ASSERT(b->refcnt < UINT32_MAX);
    b->refcnt++;
}

static void buf_put_one(struct tb_buf *b) {
    TB_ASSERT(b->refcnt > 0);
    if (--b->refcnt > 0) return;
    struct tb_buf *direct = b->direct;
    b->direct = NULL;
    b->next = NULL;
    b->qnext = NULL;
    b->release(b, b->owner);
    if (direct != NULL) buf_put_one(direct);
}

void tb_buf_free(struct tb_buf *b) {
    while (b != NULL) {
        struct tb_buf *next = b->next;
        buf_put_one(b);
        b = next;
    }
}

size_t tb_buf_chain_len(const struct tb_buf *b) {
    size_t n = 0;
    for (; b != NULL; b = b->next) n += b->len;
    return n;
}

size_t tb_buf_copy_out(const struct tb_buf *b, size_t offset, void *dst, size_t max) {
    uint8_t *out = dst;
    size_t copied = 0;
    for (; b != NULL && copied < max; b = b->next) {
        if (offset >= b->len) {
            offset -= b->len;
            continue;
        }
        size_t n = b->len - offset;
        if (n > max - copied) n = max - copied;
        memcpy(out + copied, b->data + offset, n);
        copied += n;
        offset = 0;
    }
    return copied;
}

void tb_buf_init_external(struct tb_buf *b, void *storage, uint32_t cap, uint32_t headroom,
                          tb_buf_release_fn release, void *owner) {
    TB_ASSERT(headroom <= cap);
    TB_ASSERT(release != NULL);
    memset(b, 0, sizeof(*b));
    b->base = storage;
    b->data = b->base + headroom;
    b->cap = cap;
    b->refcnt = 1;
    b->release = release;
    b->owner = owner;
}
