/* IPv4 reassembly (RFC 791 §3.2; a MUST for hosts, RFC 1122 §3.3.2).
 *
 * Policy:
 *  - a datagram is keyed by (source, destination, protocol, identification)
 *    (RFC 791 §3.2); the table is an array of cfg.ip_reass_max_datagrams
 *    entries searched linearly, like the ARP cache: no hash seed, so no
 *    output depends on one;
 *  - fragments are held as the buffers they arrived in, at most max_bufs
 *    of them over the whole stack, so a flood of incomplete datagrams can
 *    take no more than that share of the pool from TCP. A fragment that
 *    finds the table or the budget full is dropped (ip_reass_full), as
 *    Linux does, rather than evicting datagrams that are making progress;
 *  - overlapping fragments discard the whole datagram (as RFC 5722 requires
 *    for IPv6: overlaps are how filters are evaded); an exact duplicate
 *    (same offset, length, MF and bytes) is dropped and changes nothing;
 *  - nothing beyond 65,535 bytes is assembled (RFC 791 §3.1's 16-bit total
 *    length; the "ping of death");
 *  - a datagram not complete ip_reass_timeout_ns after its first fragment
 *    is discarded, and if fragment zero had arrived an ICMP Time Exceeded,
 *    code 1, goes to the source (RFC 1122 §3.3.2, RFC 792).
 *
 * Every fragment discarded counts once under its reason (and rx_dropped).
 * A complete datagram is handed up contiguous when it fits one buffer;
 * beyond that only ICMP echo takes it as a chain (icmp.c), every other
 * protocol parses contiguous bytes and the datagram is dropped
 * (ip_reass_exceeds_buf). */
#include <stdlib.h>
#include <string.h>

#include "net/stack_internal.h"

/* RFC 791 §3.1: total length is 16 bits and includes the header. */
#define REASS_MAX_DATAGRAM_BYTES 65535u
/* RFC 792: an ICMP error quotes the IP header and the first 64 bits of data. */
#define REASS_QUOTE_DATA_BYTES 8u

static void reass_expired(struct tb_timer *t, tb_time_ns now, void *ctx);

static uint32_t max_bufs_of(const struct tb_config *cfg) {
    if (cfg->ip_reass_max_bufs != 0) return cfg->ip_reass_max_bufs;
    uint32_t n = cfg->buf_count / 8;
    return n < 2 ? 2 : n;   /* two buffers: the fewest a fragmented datagram needs */
}

int tb_ip_reass_init(struct tb_stack *st) {
    struct tb_ip_reass *r = &st->reass;
    uint32_t n = st->cfg.ip_reass_max_datagrams;
    r->entries = calloc(n > 0 ? n : 1, sizeof(*r->entries));
    if (r->entries == NULL) return -1;
    for (uint32_t i = 0; i < n; i++) tb_timer_init(&r->entries[i].timer, reass_expired);
    r->used = 0;
    r->bufs_held = 0;
    r->max_bufs = max_bufs_of(&st->cfg);
    return 0;
}

/* Empties an entry, handing its buffers back (or, when why is a drop
 * reason, counting each as a dropped frame). */
static void entry_clear(struct tb_stack *st, struct tb_ip_reass_entry *e, bool count, enum tb_drop_reason why) {
    TB_ASSERT(e->in_use);
    tb_timer_cancel(&st->timers, &e->timer);
    while (e->frags != NULL) {
        struct tb_buf *b = e->frags;
        e->frags = b->qnext;
        b->qnext = NULL;
        b->seq = 0;
        if (count) tb_net_drop(st, b, why, true);
        else tb_buf_free(b);
    }
    TB_ASSERT(st->reass.bufs_held >= e->frag_count && st->reass.used > 0);
    st->reass.bufs_held -= e->frag_count;
    st->reass.used--;
    struct tb_timer timer = e->timer;
    memset(e, 0, sizeof(*e));
    e->timer = timer;   /* idle, and keeps its callback */
}

void tb_ip_reass_destroy(struct tb_stack *st) {
    struct tb_ip_reass *r = &st->reass;
    if (r->entries == NULL) return;
    for (uint32_t i = 0; i < st->cfg.ip_reass_max_datagrams; i++)
        if (r->entries[i].in_use) entry_clear(st, &r->entries[i], false, TB_DROP_ip_reass_timeout);
    free(r->entries);
    r->entries = NULL;
}

static struct tb_ip_reass_entry *entry_find(struct tb_stack *st, const struct tb_ipv4_repr *ip) {
    for (uint32_t i = 0; i < st->cfg.ip_reass_max_datagrams; i++) {
        struct tb_ip_reass_entry *e = &st->reass.entries[i];
        if (e->in_use && e->src == ip->src && e->dst == ip->dst && e->protocol == ip->protocol &&
            e->ident == ip->ident)
            return e;
    }
    return NULL;
}

/* The lowest free slot: which slot a datagram gets never depends on an address. */
static struct tb_ip_reass_entry *entry_new(struct tb_stack *st, tb_time_ns now, const struct tb_ipv4_repr *ip) {
    for (uint32_t i = 0; i < st->cfg.ip_reass_max_datagrams; i++) {
        struct tb_ip_reass_entry *e = &st->reass.entries[i];
        if (e->in_use) continue;
        e->in_use = true;
        e->src = ip->src;
        e->dst = ip->dst;
        e->protocol = ip->protocol;
        e->ident = ip->ident;
        st->reass.used++;
        /* RFC 1122 §3.3.2: a fixed timeout, not one set from the TTL. */
        tb_timer_arm(&st->timers, &e->timer, now + st->cfg.ip_reass_timeout_ns);
        return e;
    }
    return NULL;
}

/* Throws away the datagram and the fragment that condemned it. */
static void discard(struct tb_stack *st, struct tb_ip_reass_entry *e, struct tb_buf *b, enum tb_drop_reason why) {
    if (e != NULL) entry_clear(st, e, true, why);
    tb_net_drop(st, b, why, true);
}

/* RFC 1122 §3.2.2: no ICMP error about an ICMP error. */
static bool quotes_icmp_error(const struct tb_ip_reass_entry *e) {
    if (e->protocol != TB_IPPROTO_ICMP) return false;
    uint8_t type = e->quote[e->first_ip.header_len];
    return type == TB_ICMP_DEST_UNREACH || type == 4 /* source quench */ || type == 5 /* redirect */ ||
           type == TB_ICMP_TIME_EXCEEDED || type == 12 /* parameter problem */;
}

static void send_time_exceeded(struct tb_stack *st, tb_time_ns now, uint32_t dst, const uint8_t *quote,
                               size_t quote_len) {
    struct tb_buf *b = tb_net_alloc(st);
    if (b == NULL) return;   /* counted as pool_empty; the error is advisory */
    uint8_t *msg = tb_buf_put(b, (uint32_t)(TB_ICMP_HDR_LEN + quote_len));
    TB_ASSERT(msg != NULL);   /* 76 bytes, well inside any buffer */
    struct tb_icmp_repr icmp = {.type = TB_ICMP_TIME_EXCEEDED, .code = TB_ICMP_TIME_EXCEEDED_REASS,
                                .payload = quote, .payload_len = quote_len};
    tb_icmp_emit(&icmp, msg);
    st->stats.icmp_time_exceeded_tx++;
    tb_ipv4_output(st, now, b, dst, TB_IPPROTO_ICMP, 0, 0);
}

static void reass_expired(struct tb_timer *t, tb_time_ns now, void *ctx) {
    struct tb_stack *st = ctx;
    struct tb_ip_reass_entry *e = TB_CONTAINER_OF(t, struct tb_ip_reass_entry, timer);
    TB_ASSERT(e->in_use);
    st->stats.ip_reass_timeouts++;
    /* Only fragment zero names the datagram to its source (RFC 1122 §3.3.2). */
    bool notify = e->have_first && !quotes_icmp_error(e);
    uint8_t quote[sizeof(e->quote)];
    size_t quote_len = e->quote_len;
    uint32_t src = e->src;
    memcpy(quote, e->quote, quote_len);
    /* Free the buffers first: the error needs one, and the pool may be short. */
    entry_clear(st, e, true, TB_DROP_ip_reass_timeout);
    if (notify) send_time_exceeded(st, now, src, quote, quote_len);
}

/* Contiguous bytes for the protocols' parsers: appended to fragment zero's
 * buffer when its tailroom allows, else copied into a fresh buffer; a
 * datagram bigger than a buffer stays a chain, which only ICMP echo takes. */
static struct tb_buf *flatten(struct tb_stack *st, struct tb_buf *chain, uint32_t total_bytes, uint8_t protocol) {
    TB_ASSERT(chain != NULL && chain->next != NULL && tb_buf_chain_len(chain) == total_bytes);
    uint32_t rest = total_bytes - chain->len;
    if (!(chain->flags & TB_BUF_F_INDIRECT) && chain->refcnt == 1 && tb_buf_tailroom(chain) >= rest) {
        struct tb_buf *tail = chain->next;
        uint8_t *dst = tb_buf_put(chain, rest);
        TB_ASSERT(dst != NULL);
        size_t copied = tb_buf_copy_out(tail, 0, dst, rest);
        TB_ASSERT(copied == rest);
        chain->next = NULL;
        tb_buf_free(tail);
        return chain;
    }
    if (total_bytes <= st->cfg.buf_size - st->cfg.buf_headroom) {
        struct tb_buf *flat = tb_net_alloc(st);
        if (flat == NULL) {
            tb_net_drop(st, chain, TB_DROP_ip_reass_no_buf, true);
            return NULL;
        }
        uint8_t *dst = tb_buf_put(flat, total_bytes);
        TB_ASSERT(dst != NULL);
        size_t copied = tb_buf_copy_out(chain, 0, dst, total_bytes);
        TB_ASSERT(copied == total_bytes);
        tb_buf_free(chain);
        return flat;
    }
    if (protocol == TB_IPPROTO_ICMP) return chain;
    tb_net_drop(st, chain, TB_DROP_ip_reass_exceeds_buf, true);
    return NULL;
}

static void deliver(struct tb_stack *st, tb_time_ns now, struct tb_ip_reass_entry *e) {
    TB_ASSERT(e->have_first && e->have_last && e->held_bytes == e->total_bytes);
    struct tb_ipv4_repr ip = e->first_ip;
    ip.flags_frag = 0;
    ip.total_len = (uint16_t)(ip.header_len + e->total_bytes);
    /* RFC 3168 §5.3: congestion met by any fragment is the datagram's. */
    if (e->ce_seen && (ip.tos & 3u) != 0) ip.tos |= 3u;
    uint32_t total_bytes = e->total_bytes;
    /* The qnext list becomes the datagram's next chain, in offset order. */
    struct tb_buf *chain = e->frags;
    for (struct tb_buf *b = chain; b != NULL; b = b->next) {
        b->next = b->qnext;
        b->qnext = NULL;
        b->seq = 0;
    }
    e->frags = NULL;
    st->reass.bufs_held -= e->frag_count;
    e->frag_count = 0;
    entry_clear(st, e, false, TB_DROP_ip_reass_timeout);
    st->stats.ip_reass_ok++;
    struct tb_buf *b = flatten(st, chain, total_bytes, ip.protocol);
    if (b != NULL) tb_ipv4_deliver(st, now, b, &ip);
}

void tb_ip_reass_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip) {
    TB_ASSERT(tb_ipv4_is_fragment(ip) && b->next == NULL && b->len == ip->total_len);
    st->stats.ip_frags_rx++;
    if (st->cfg.ip_reass_max_datagrams == 0) {
        tb_net_drop(st, b, TB_DROP_ip_reass_off, true);
        return;
    }
    uint32_t off = (uint32_t)(ip->flags_frag & TB_IPV4_FRAG_OFF_MASK) * 8u;   /* RFC 791 §3.1: 8-octet units */
    uint32_t len = (uint32_t)ip->total_len - ip->header_len;
    uint32_t end = off + len;
    bool more = (ip->flags_frag & TB_IPV4_FLAG_MF) != 0;
    /* RFC 791 §3.2: every fragment but the last carries a multiple of 8
     * octets; an empty one has nothing to place. */
    if (len == 0 || (more && len % 8u != 0)) {
        tb_net_drop(st, b, TB_DROP_ip_frag_bad_len, true);
        return;
    }
    struct tb_ip_reass_entry *e = entry_find(st, ip);
    uint32_t header_bytes = off == 0 ? ip->header_len
                            : (e != NULL && e->have_first) ? e->first_ip.header_len : TB_IPV4_HDR_LEN;
    uint32_t max_end = e != NULL && e->end_bytes > end ? e->end_bytes : end;
    if (header_bytes + max_end > REASS_MAX_DATAGRAM_BYTES) {
        discard(st, e, b, TB_DROP_ip_reass_too_big);
        return;
    }
    if (e != NULL && ((e->have_last && end > e->total_bytes) ||
                      (!more && ((e->have_last && end != e->total_bytes) || e->end_bytes > end)))) {
        /* Bytes beyond the end, or two different ends: the datagram has no one length. */
        discard(st, e, b, TB_DROP_ip_reass_inconsistent);
        return;
    }
    /* Place it: prev is the last fragment ending at or before off. */
    struct tb_buf *prev = NULL, *next = e != NULL ? e->frags : NULL;
    while (next != NULL && next->seq + next->len <= off) {
        prev = next;
        next = next->qnext;
    }
    if (next != NULL && next->seq < end) {
        bool next_more = !(e->have_last && next->seq + next->len == e->total_bytes);
        if (next->seq == off && next->len == len && next_more == more &&
            memcmp(next->data, b->data + ip->header_len, len) == 0) {
            /* The network duplicated it: harmless (RFC 5722 §4 allows ignoring exact duplicates). */
            tb_net_drop(st, b, TB_DROP_ip_reass_duplicate, true);
            return;
        }
        discard(st, e, b, TB_DROP_ip_reass_overlap);
        return;
    }
    if (st->reass.bufs_held >= st->reass.max_bufs) {
        /* Only this fragment goes: a datagram in progress is never evicted
         * for a flood's sake; if it lacked this piece it times out. */
        tb_net_drop(st, b, TB_DROP_ip_reass_full, true);
        return;
    }
    if (e == NULL) {
        e = entry_new(st, now, ip);
        if (e == NULL) {
            tb_net_drop(st, b, TB_DROP_ip_reass_full, true);
            return;
        }
    }
    if (off == 0) {
        e->have_first = true;
        e->first_ip = *ip;
        /* Fragment zero carries at least 8 bytes: it has MF set, so a multiple of 8. */
        TB_ASSERT(len >= REASS_QUOTE_DATA_BYTES && ip->header_len <= 60);
        e->quote_len = (uint8_t)(ip->header_len + REASS_QUOTE_DATA_BYTES);
        memcpy(e->quote, b->data, e->quote_len);
    }
    if ((ip->tos & 3u) == 3u) e->ce_seen = true;
    if (!more) {
        e->have_last = true;
        e->total_bytes = end;
    }
    tb_buf_pull(b, ip->header_len);
    b->seq = off;
    b->qnext = next;
    if (prev != NULL) prev->qnext = b;
    else e->frags = b;
    e->frag_count++;
    e->held_bytes += len;
    if (end > e->end_bytes) e->end_bytes = end;
    st->reass.bufs_held++;
    TB_ASSERT(st->reass.bufs_held <= st->reass.max_bufs);
    TB_ASSERT(e->held_bytes <= e->end_bytes);
    /* No overlaps are held, so held bytes covering [0, total) means no hole. */
    if (e->have_first && e->have_last && e->held_bytes == e->total_bytes) deliver(st, now, e);
}

bool tb_ip_reass_check(const struct tb_stack *st, const char **why) {
    const struct tb_ip_reass *r = &st->reass;
    uint32_t used = 0, bufs = 0;
    for (uint32_t i = 0; i < st->cfg.ip_reass_max_datagrams; i++) {
        const struct tb_ip_reass_entry *e = &r->entries[i];
        if (!e->in_use) {
            if (e->frags != NULL || e->frag_count != 0 || tb_timer_armed(&e->timer)) {
                *why = "free reassembly entry holds fragments or a timer";
                return false;
            }
            continue;
        }
        used++;
        if (!tb_timer_armed(&e->timer)) {
            *why = "reassembly entry without a timer";
            return false;
        }
        uint32_t n = 0, bytes = 0, last_end = 0;
        const struct tb_buf *last = NULL;
        for (const struct tb_buf *b = e->frags; b != NULL && n <= r->max_bufs; b = b->qnext) {
            if (b->refcnt == 0 || b->next != NULL || b->len == 0) {
                *why = "reassembly fragment freed, chained or empty";
                return false;
            }
            if (last != NULL && b->seq < last_end) {
                *why = "reassembly fragments overlap or are out of order";
                return false;
            }
            last_end = b->seq + b->len;
            bytes += b->len;
            last = b;
            n++;
        }
        uint32_t header_bytes = e->have_first ? e->first_ip.header_len : TB_IPV4_HDR_LEN;
        if (n == 0 || n != e->frag_count || bytes != e->held_bytes) {
            *why = "reassembly entry's fragment count or bytes disagree with its list";
            return false;
        }
        if (last_end != e->end_bytes || header_bytes + e->end_bytes > REASS_MAX_DATAGRAM_BYTES ||
            (e->have_last && e->end_bytes != e->total_bytes)) {
            *why = "reassembly entry's end disagrees with its fragments or exceeds 65535 bytes";
            return false;
        }
        if (e->have_first != (e->frags->seq == 0)) {
            *why = "reassembly entry's fragment zero flag is wrong";
            return false;
        }
        if (e->have_first && e->have_last && e->held_bytes == e->total_bytes) {
            *why = "complete datagram left in reassembly";
            return false;
        }
        for (uint32_t j = i + 1; j < st->cfg.ip_reass_max_datagrams; j++) {
            const struct tb_ip_reass_entry *o = &r->entries[j];
            if (o->in_use && o->src == e->src && o->dst == e->dst && o->protocol == e->protocol &&
                o->ident == e->ident) {
                *why = "two reassembly entries for one datagram";
                return false;
            }
        }
        bufs += n;
    }
    if (used != r->used || bufs != r->bufs_held || r->bufs_held > r->max_bufs) {
        *why = "reassembly totals wrong or over their bound";
        return false;
    }
    return true;
}
