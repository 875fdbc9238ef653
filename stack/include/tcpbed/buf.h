/* tb_buf: the one buffer descriptor of tcpbed (DESIGN.md §3).
 *
 * A descriptor points at bytes it may or may not own:
 *  - a *direct* buffer owns its storage [base, base+cap) and is returned to
 *    its owner through `release` when its refcount drops to zero. The core's
 *    pools are one owner; a DPDK platform is another (descriptor in the
 *    rte_mbuf private area, release = rte_pktmbuf_free);
 *  - an *indirect* buffer borrows a slice of a direct one (`direct` holds a
 *    reference), so a retransmit queue and a NIC can share one payload.
 *
 * `next` chains the segments of one packet; `qnext` links whole packets in a
 * queue (BSD's m_next / m_nextpkt). Freeing a chain drops one reference on
 * each segment. */
#ifndef TCPBED_BUF_H
#define TCPBED_BUF_H

#include <stddef.h>
#include <stdint.h>

struct tb_buf;
typedef void (*tb_buf_release_fn)(struct tb_buf *buf, void *owner);

struct tb_buf {
    uint8_t *data;           /* first valid byte */
    uint8_t *base;           /* start of storage (headroom = data - base) */
    uint32_t len;            /* valid bytes in this segment */
    uint32_t cap;            /* storage bytes from base */
    uint32_t refcnt;
    uint32_t flags;          /* TB_BUF_F_* */
    uint32_t seq;            /* TCP: sequence number of data[0] while in a TCP queue;
                                IP reassembly: byte offset of data[0] in its datagram */
    struct tb_buf *next;     /* next segment of the same packet */
    struct tb_buf *qnext;    /* next packet in a queue */
    struct tb_buf *direct;   /* indirect buffers: the buffer whose bytes we borrow */
    tb_buf_release_fn release;
    void *owner;
};

#define TB_BUF_F_INDIRECT 0x1u
#define TB_BUF_F_TCP_COPY 0x2u   /* filled by tb_tcp_send: the stack may append to it */

static inline uint32_t tb_buf_headroom(const struct tb_buf *b) { return (uint32_t)(b->data - b->base); }
static inline uint32_t tb_buf_tailroom(const struct tb_buf *b) { return b->cap - tb_buf_headroom(b) - b->len; }

/* Prepend n bytes into headroom; NULL when headroom is short. */
uint8_t *tb_buf_push(struct tb_buf *b, uint32_t n);
/* Strip n bytes from the front; NULL when the segment is shorter. */
uint8_t *tb_buf_pull(struct tb_buf *b, uint32_t n);
/* Append n bytes into tailroom; NULL when tailroom is short. */
uint8_t *tb_buf_put(struct tb_buf *b, uint32_t n);
/* Drop bytes beyond len (len <= current length). */
void tb_buf_trim(struct tb_buf *b, uint32_t len);

void tb_buf_ref(struct tb_buf *b);
/* Drops one reference on every segment of the chain starting at b. */
void tb_buf_free(struct tb_buf *b);
/* Total bytes of the chain. */
size_t tb_buf_chain_len(const struct tb_buf *b);
/* Copies up to max bytes of the chain into dst; returns bytes copied. */
size_t tb_buf_copy_out(const struct tb_buf *b, size_t offset, void *dst, size_t max);

/* Initialise a descriptor the caller owns (e.g. in an rte_mbuf private area). */
void tb_buf_init_external(struct tb_buf *b, void *storage, uint32_t cap, uint32_t headroom,
                          tb_buf_release_fn release, void *owner);

#endif
