/* A fixed pool of direct tb_bufs, all storage allocated at creation. */
#ifndef TB_UTIL_POOL_H
#define TB_UTIL_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "tcpbed/buf.h"

struct tb_pool {
    struct tb_buf *descs;     /* count descriptors */
    uint8_t *storage;         /* count * buf_size bytes */
    struct tb_buf *free_list; /* linked through qnext */
    uint32_t count;
    uint32_t buf_size;
    uint32_t free_count;
    uint32_t low_water;       /* fewest free buffers ever seen */
};

/* Returns 0, or -1 when memory is short. */
int tb_pool_init(struct tb_pool *p, uint32_t count, uint32_t buf_size);
void tb_pool_destroy(struct tb_pool *p);
/* A buffer with refcnt 1, len 0 and `headroom` bytes reserved; NULL if dry. */
struct tb_buf *tb_pool_get(struct tb_pool *p, uint32_t headroom);
/* Whether b is one of this pool's descriptors. */
int tb_pool_owns(const struct tb_pool *p, const struct tb_buf *b);

#endif
