/* The receive side: the in-order queue the application reads, the
 * out-of-order queue (bounded in bytes), and the SACK blocks that describe
 * it (RFC 2018). Received payloads stay in the buffers the NIC filled; only
 * small ones are copied onto the tail of the previous buffer, so a stream of
 * tiny segments cannot pin one pool buffer per byte.
 *
 * Overlap policy: bytes before rcv_nxt are dropped (never delivered twice);
 * among out-of-order data, a segment wholly inside one already held is
 * dropped, otherwise the newer segment wins and trims or removes what it
 * overlaps. Either way every sequence number is delivered once. */
#include <string.h>

#include "tcp/tcp_internal.h"

void tcp_bufq_push(struct tcp_bufq *q, struct tb_buf *b) {
    b->qnext = NULL;
    if (q->tail != NULL) q->tail->qnext = b;
    else q->head = b;
    q->tail = b;
    q->bytes += b->len;
    q->count++;
}

struct tb_buf *tcp_bufq_pop(struct tcp_bufq *q) {
    struct tb_buf *b = q->head;
    if (b == NULL) return NULL;
    q->head = b->qnext;
    if (q->head == NULL) q->tail = NULL;
    b->qnext = NULL;
    q->bytes -= b->len;
    q->count--;
    return b;
}

void tcp_bufq_free(struct tcp_bufq *q) {
    struct tb_buf *b;
    while ((b = tcp_bufq_pop(q)) != NULL) tb_buf_free(b);
    TB_ASSERT(q->bytes == 0 && q->count == 0);
}

/* Appends in-order payload to the read queue, copying small payloads onto
 * the tail buffer when it has room. */
static void rcvq_append(struct tcp_bufq *q, struct tb_buf *b) {
    struct tb_buf *tail = q->tail;
    if (b->len <= TCP_SMALL_COPY_BYTES && tail != NULL && !(tail->flags & TB_BUF_F_INDIRECT) && tail->refcnt == 1 &&
        tb_buf_tailroom(tail) >= b->len) {
        memcpy(tb_buf_put(tail, b->len), b->data, b->len);
        q->bytes += b->len;
        tb_buf_free(b);
        return;
    }
    tcp_bufq_push(q, b);
}

static void sack_note(struct tb_tcb *tp, uint32_t seq) {
    /* Newest first, no duplicates (RFC 2018 §4: the first block reports the
     * most recent arrival). */
    uint8_t n = tp->sack_recent_count;
    uint8_t keep = 0;
    uint32_t tmp[TB_TCP_MAX_SACK_BLOCKS];
    tmp[keep++] = seq;
    for (uint8_t i = 0; i < n && keep < TB_TCP_MAX_SACK_BLOCKS; i++)
        if (tp->sack_recent[i] != seq) tmp[keep++] = tp->sack_recent[i];
    memcpy(tp->sack_recent, tmp, keep * sizeof(tmp[0]));
    tp->sack_recent_count = keep;
}

/* Inserts [b->seq, b->seq + b->len) into the out-of-order queue. */
static void ooo_insert(struct tb_stack *st, struct tb_tcb *tp, struct tb_buf *b) {
    struct tcp_bufq *q = &tp->oooq;
    uint32_t seq = b->seq, end = b->seq + b->len;
    /* Find the first segment that ends after our start. */
    struct tb_buf *prev = NULL, *cur = q->head;
    while (cur != NULL && SEQ_LEQ(cur->seq + cur->len, seq)) {
        prev = cur;
        cur = cur->qnext;
    }
    /* RFC 2883 §4: what we already hold of it (the first contiguous run of
     * queued data it overlaps, which may span several buffers) is reported
     * by a D-SACK; a segment wholly inside it is dropped. */
    if (cur != NULL && SEQ_LT(cur->seq, end)) {
        uint32_t lo = SEQ_MAX(seq, cur->seq), hi = cur->seq + cur->len;
        for (const struct tb_buf *n = cur->qnext; n != NULL && n->seq == hi && SEQ_LT(hi, end); n = n->qnext)
            hi = n->seq + n->len;
        if (SEQ_GT(hi, end)) hi = end;
        tcp_note_dsack(tp, lo, hi);
        if (lo == seq && hi == end) {
            tb_buf_free(b);
            return;
        }
    }
    if (q->bytes + b->len > tp->ooo_max) {
        tb_net_drop(st, b, TB_DROP_tcp_ooo_full, true);
        return;
    }
    /* A segment starting before us keeps its front and loses its tail. */
    if (cur != NULL && SEQ_LT(cur->seq, seq)) {
        uint32_t keep = seq - cur->seq;
        q->bytes -= cur->len - keep;
        tb_buf_trim(cur, keep);
        prev = cur;
        cur = cur->qnext;
    }
    /* Segments we cover go; one we overlap at its front loses that front. */
    while (cur != NULL && SEQ_LT(cur->seq, end)) {
        struct tb_buf *next = cur->qnext;
        if (SEQ_LEQ(cur->seq + cur->len, end)) {
            if (prev != NULL) prev->qnext = next;
            else q->head = next;
            if (q->tail == cur) q->tail = prev;
            q->bytes -= cur->len;
            q->count--;
            cur->qnext = NULL;
            tb_buf_free(cur);
        } else {
            uint32_t cut = end - cur->seq;
            tb_buf_pull(cur, cut);
            cur->seq += cut;
            q->bytes -= cut;
            break;
        }
        cur = next;
    }
    b->qnext = cur;
    if (prev != NULL) prev->qnext = b;
    else q->head = b;
    if (cur == NULL) q->tail = b;
    q->bytes += b->len;
    q->count++;
    tp->cs.ooo_segs++;
    st->stats.tcp_ooo_segs++;
    sack_note(tp, seq);
}

void tcp_note_dsack(struct tb_tcb *tp, uint32_t seq, uint32_t end) {
    if (!(tp->flags & TF_SACK_OK) || !SEQ_LT(seq, end)) return;
    tp->dsack.left = seq;
    tp->dsack.right = end;
    tp->dsack_pending = true;
}

bool tcp_reass(struct tb_stack *st, struct tb_tcb *tp, struct tb_buf *b) {
    TB_ASSERT(b->len > 0);
    /* Bytes we already have are cut off the front. */
    if (SEQ_LT(b->seq, tp->rcv_nxt)) {
        uint32_t dup = tp->rcv_nxt - b->seq;
        tcp_note_dsack(tp, b->seq, dup < b->len ? tp->rcv_nxt : b->seq + b->len);
        if (dup >= b->len) {
            tb_buf_free(b);
            return false;
        }
        tb_buf_pull(b, dup);
        b->seq += dup;
    }
    if (b->seq != tp->rcv_nxt) {
        ooo_insert(st, tp, b);
        return false;
    }
    tp->rcv_nxt += b->len;
    tp->cs.bytes_received += b->len;
    rcvq_append(&tp->rcvq, b);
    /* Pull whatever the new data made contiguous. */
    struct tb_buf *h;
    while ((h = tp->oooq.head) != NULL && SEQ_LEQ(h->seq, tp->rcv_nxt)) {
        tcp_bufq_pop(&tp->oooq);
        if (SEQ_LEQ(h->seq + h->len, tp->rcv_nxt)) {
            tb_buf_free(h);
            continue;
        }
        uint32_t dup = tp->rcv_nxt - h->seq;
        tb_buf_pull(h, dup);
        h->seq += dup;
        tp->rcv_nxt += h->len;
        tp->cs.bytes_received += h->len;
        rcvq_append(&tp->rcvq, h);
    }
    /* Whatever the new data reached was pulled: a gap remains before the
     * out-of-order queue. (rcv_nxt may pass rcv_adv: data on a SYN-ACK is
     * taken against our SYN's window, which rcv_adv does not record.) */
    TB_ASSERT(tp->oooq.head == NULL || SEQ_GT(tp->oooq.head->seq, tp->rcv_nxt));
    return true;
}

uint8_t tcp_sack_blocks(const struct tb_tcb *tp, struct tb_sack_block *out, uint8_t max) {
    uint8_t n = 0;
    if (tp->dsack_pending && max > 0) out[n++] = tp->dsack;   /* RFC 2883 §4: first */
    /* Blocks are maximal runs of contiguous out-of-order data. */
    struct tb_sack_block runs[64];
    uint32_t nruns = 0;
    for (const struct tb_buf *b = tp->oooq.head; b != NULL; b = b->qnext) {
        if (nruns > 0 && runs[nruns - 1].right == b->seq) {
            runs[nruns - 1].right = b->seq + b->len;
        } else if (nruns < TB_ARRAY_LEN(runs)) {
            runs[nruns].left = b->seq;
            runs[nruns].right = b->seq + b->len;
            nruns++;
        } else {
            break;
        }
    }
    bool used[64] = {false};
    /* RFC 2883 §4: a D-SACK of data held above the cumulative ACK is followed
     * by the (possibly larger) block that contains it. */
    for (uint32_t i = 0; tp->dsack_pending && i < nruns && n < max; i++) {
        if (SEQ_LEQ(runs[i].left, tp->dsack.left) && SEQ_LEQ(tp->dsack.right, runs[i].right)) {
            out[n++] = runs[i];
            used[i] = true;
            break;
        }
    }
    /* Most recent arrivals first (RFC 2018 §4), then the highest runs. */
    for (uint8_t r = 0; r < tp->sack_recent_count && n < max; r++) {
        for (uint32_t i = 0; i < nruns; i++) {
            if (!used[i] && SEQ_LEQ(runs[i].left, tp->sack_recent[r]) && SEQ_LT(tp->sack_recent[r], runs[i].right)) {
                out[n++] = runs[i];
                used[i] = true;
                break;
            }
        }
    }
    for (uint32_t i = nruns; i-- > 0 && n < max;)
        if (!used[i]) out[n++] = runs[i];
    return n;
}

void tcp_sndq_ack(struct tb_tcb *tp, uint32_t data_acked) {
    while (data_acked > 0) {
        struct tb_buf *b = tp->sndq.head;
        TB_ASSERT(b != NULL);
        if (b->len <= data_acked) {
            data_acked -= b->len;
            if (tp->snd_cursor == b) tp->snd_cursor = NULL;
            tb_buf_free(tcp_bufq_pop(&tp->sndq));
        } else {
            tb_buf_pull(b, data_acked);
            b->seq += data_acked;
            tp->sndq.bytes -= data_acked;
            data_acked = 0;
        }
    }
}
