#include "util/pool.h"

#include <stdlib.h>
#include <string.h>

#include "util/assert.h"

static void pool_release(struct tb_buf *b, void *owner) {
    struct tb_pool *p = owner;
    TB_ASSERT(tb_pool_owns(p, b));
    TB_ASSERT(p->free_count < p->count);
    b->qnext = p->free_list;
    p->free_list = b;
    p->free_count++;
}

int tb_pool_init(struct tb_pool *p, uint32_t count, uint32_t buf_size) {
    memset(p, 0, sizeof(*p));
    p->descs = calloc(count, sizeof(*p->descs));
    /* calloc: buffer bytes start zeroed, so no uninitialised byte can leak
     * even through a bug that sends more than it wrote. */
    /* buf_size 0: descriptors only (indirect buffers borrow others' bytes). */
    p->storage = buf_size > 0 ? calloc(count, buf_size) : NULL;
    if (p->descs == NULL || (buf_size > 0 && p->storage == NULL)) {
        tb_pool_destroy(p);
        return -1;
    }
    p->count = count;
    p->buf_size = buf_size;
    /* Build the free list so that buffer 0 is handed out first. */
    for (uint32_t i = count; i-- > 0;) {
        struct tb_buf *b = &p->descs[i];
        b->base = buf_size > 0 ? p->storage + (size_t)i * buf_size : NULL;
        b->cap = buf_size;
        b->release = pool_release;
        b->owner = p;
        b->qnext = p->free_list;
        p->free_list = b;
    }
    p->free_count = count;
    p->low_water = count;
    return 0;
}

void tb_pool_destroy(struct tb_pool *p) {
    free(p->descs);
    free(p->storage);
    memset(p, 0, sizeof(*p));
}

int tb_pool_owns(const struct tb_pool *p, const struct tb_buf *b) {
    return p->count > 0 && b >= p->descs && b < p->descs + p->count;
}

struct tb_buf *tb_pool_get(struct tb_pool *p, uint32_t headroom) {
    TB_ASSERT(headroom <= p->buf_size);
    struct tb_buf *b = p->free_list;
    if (b == NULL) return NULL;
    p->free_list = b->qnext;
    p->free_count--;
    if (p->free_count < p->low_water) p->low_water = p->free_count;
    TB_ASSERT(b->refcnt == 0);
    b->qnext = NULL;
    b->next = NULL;
    b->direct = NULL;
    b->flags = 0;
    b->refcnt = 1;
    b->len = 0;
    b->data = b->base != NULL ? b->base + headroom : NULL;
    return b;
}
