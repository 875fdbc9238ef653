/* The stack object and the functions the layers call on each other. Only
 * stack/ includes this. */
#ifndef TB_NET_STACK_INTERNAL_H
#define TB_NET_STACK_INTERNAL_H

#include "tcpbed/tcpbed.h"
#include "util/assert.h"
#include "util/pool.h"
#include "util/prng.h"
#include "util/timer.h"

enum tb_arp_state { TB_ARP_FREE = 0, TB_ARP_INCOMPLETE, TB_ARP_REACHABLE };

struct tb_arp_entry {
    uint32_t ipv4;
    struct tb_mac mac;
    uint8_t state;                 /* enum tb_arp_state */
    uint32_t requests_sent;
    tb_time_ns updated_ns;         /* last insert or confirmation */
    struct tb_timer timer;         /* retry while INCOMPLETE, expiry while REACHABLE */
    struct tb_buf *pending_head;   /* frames awaiting resolution, FIFO via qnext */
    struct tb_buf *pending_tail;
    uint32_t pending_len;
};

struct tb_pktq {                   /* FIFO of whole packets linked through qnext */
    struct tb_buf *head, *tail;
    uint32_t len, cap;
};

/* A datagram being reassembled (ip_reass.c), keyed by (src, dst, protocol,
 * ident) as RFC 791 §3.2 says. Its fragments are pool buffers trimmed to
 * their payload, sorted by offset through qnext, never overlapping; each
 * buffer's `seq` holds its byte offset in the datagram. */
struct tb_ip_reass_entry {
    bool in_use;
    bool have_first, have_last;    /* fragment zero / the fragment with MF clear arrived */
    bool ce_seen;                  /* some fragment carried ECN CE (RFC 3168 §5.3) */
    uint8_t protocol;
    uint16_t ident;
    uint32_t src, dst;
    uint32_t frag_count;           /* buffers held */
    uint32_t held_bytes;           /* payload bytes held */
    uint32_t end_bytes;            /* highest fragment end seen */
    uint32_t total_bytes;          /* payload length, once have_last */
    struct tb_ipv4_repr first_ip;  /* fragment zero's header, once have_first */
    uint8_t quote[60 + 8];         /* fragment zero's IP header + 8 bytes, for Time Exceeded */
    uint8_t quote_len;
    struct tb_buf *frags;
    struct tb_timer timer;         /* RFC 1122 §3.3.2 reassembly timeout */
};

struct tb_ip_reass {
    struct tb_ip_reass_entry *entries;   /* cfg.ip_reass_max_datagrams */
    uint32_t used;                 /* entries in use */
    uint32_t bufs_held;            /* over every entry; <= max_bufs */
    uint32_t max_bufs;             /* cfg.ip_reass_max_bufs, or its derived default */
};

struct tcp_state;

struct tb_stack {
    struct tb_config cfg;
    uint32_t netmask;
    struct tb_prng prng;
    struct tb_pool pool;
    struct tb_timer_heap timers;
    struct tb_arp_entry *arp;      /* cfg.arp_cache_entries */
    uint32_t arp_pending_total;
    struct tb_ip_reass reass;
    struct tb_pktq txq;
    struct tb_event *events;       /* ring of cfg.event_queue_len */
    uint32_t ev_head, ev_len;
    struct tb_stats stats;
    uint16_t ip_ident;
    tb_time_ns now;                /* latest `now` seen; never decreases */
    struct tcp_state *tcp;
    tb_trace_fn trace;
    void *trace_ctx;
};

/* services.c: what every layer calls back into */
/* Every entry point's clock: records `now` unless it is earlier than the
 * latest time seen (then counts time_backwards) and returns the time to
 * act at, which never decreases. Entry points use the returned value. */
tb_time_ns tb_now_advance(struct tb_stack *st, tb_time_ns now);
struct tb_buf *tb_net_alloc(struct tb_stack *st);              /* headroom = cfg.buf_headroom */
void tb_net_drop(struct tb_stack *st, struct tb_buf *b, enum tb_drop_reason why, bool rx);
void tb_net_event(struct tb_stack *st, const struct tb_event *ev);

/* eth: prepend the Ethernet header, pad to the minimum and queue for tx. */
int tb_eth_output(struct tb_stack *st, struct tb_buf *b, const struct tb_mac *dst, uint16_t ethertype);

/* arp.c */
int tb_arp_init(struct tb_stack *st);
void tb_arp_destroy(struct tb_stack *st);
void tb_arp_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b);
/* Sends b (an IP packet) to next_hop, resolving and queueing as needed. */
int tb_arp_output(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, uint32_t next_hop);
/* Whether `frames` frames to next_hop would all be sent or queued (none
 * evicted); starts resolution if the neighbour is unknown. */
bool tb_arp_burst_room(struct tb_stack *st, tb_time_ns now, uint32_t next_hop, uint32_t frames);
bool tb_arp_check(const struct tb_stack *st, const char **why);

/* ipv4.c */
void tb_ipv4_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b);
/* b holds the IP payload with headroom; the IP header is prepended. Beyond
 * the MTU the datagram goes out in fragments, or is dropped when DF is set. */
int tb_ipv4_output(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, uint32_t dst,
                   uint8_t protocol, uint16_t flags_frag, uint8_t tos);
/* Hands a whole datagram's payload (b) to its protocol. */
void tb_ipv4_deliver(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip);

/* ip_reass.c */
int tb_ip_reass_init(struct tb_stack *st);
void tb_ip_reass_destroy(struct tb_stack *st);
/* b starts at the IP header of a fragment for us, trimmed to its total length. */
void tb_ip_reass_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip);
bool tb_ip_reass_check(const struct tb_stack *st, const char **why);

/* tcp (tcp_conn.c, tcp_input.c) */
int tcp_init(struct tb_stack *st);
void tcp_destroy(struct tb_stack *st);
uint32_t tcp_timer_count(const struct tb_config *cfg);
void tb_tcp_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip);
/* icmp is a parsed destination-unreachable or time-exceeded whose quote
 * (viewed) is of a TCP segment. */
void tb_tcp_icmp_error(struct tb_stack *st, tb_time_ns now, const struct tb_icmp_repr *icmp,
                       const struct tb_icmp_quote *quote);
bool tcp_check(const struct tb_stack *st, const char **why);

/* icmp.c */
void tb_icmp_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *b, const struct tb_ipv4_repr *ip);

#endif
