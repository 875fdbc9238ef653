/* tcpbed: a sans-I/O TCP/IP stack (DESIGN.md §1).
 *
 * The core never reads a clock, draws entropy, does I/O or allocates per
 * packet. Frames come in with tb_stack_input(now), timers run from
 * tb_stack_tick(now), frames to send are drained with tb_stack_drain_tx, and
 * what the application must know is drained with tb_stack_events. The same
 * config, seed and inputs at the same times give byte-identical outputs. */
#ifndef TCPBED_TCPBED_H
#define TCPBED_TCPBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/buf.h"
#include "tcpbed/time.h"
#include "tcpbed/wire.h"

struct tb_stack;

/* Errors returned by API calls (negative) — never errno. */
enum tb_err {
    TB_OK = 0,
    TB_ERR_INVAL = -1,      /* argument out of range */
    TB_ERR_NOBUFS = -2,     /* buffer pool empty */
    TB_ERR_NOROUTE = -3,    /* destination off-link and no gateway */
    TB_ERR_MSGSIZE = -4,    /* larger than the MTU allows */
    TB_ERR_QFULL = -5,      /* a bounded queue is full */
};
const char *tb_err_name(int err);

struct tb_config {
    uint64_t seed;                  /* the only source of randomness */
    struct tb_mac mac;
    uint32_t ipv4_addr;             /* host byte order */
    uint8_t ipv4_prefix_len;        /* 0..32 */
    uint32_t ipv4_gateway;          /* 0: none */
    uint16_t mtu;                   /* IP MTU, 68..1500 */
    uint8_t ttl;

    /* Buffer pool: buf_count buffers of buf_size bytes each. */
    uint32_t buf_count;
    uint32_t buf_size;
    uint32_t buf_headroom;          /* reserved in front of every frame we build */

    /* Bounds. Reaching one is a counted event, never undefined behaviour. */
    uint32_t tx_queue_len;          /* frames awaiting tb_stack_drain_tx */
    uint32_t event_queue_len;
    uint32_t arp_cache_entries;
    uint32_t arp_pending_max;       /* frames waiting for ARP resolution, whole stack */
    uint32_t arp_pending_per_entry;

    /* ARP timing (RFC 1122 §2.3.2.1: entries must time out). */
    tb_time_ns arp_reachable_ns;    /* lifetime of a resolved entry */
    tb_time_ns arp_retry_ns;        /* between requests while unresolved */
    uint32_t arp_max_retries;       /* requests before giving up */
};

/* Fills cfg with the defaults (see docs/ARCHITECTURE.md); the caller then
 * sets at least mac and ipv4_addr. */
void tb_config_default(struct tb_config *cfg);
/* Checks a config; on failure returns TB_ERR_INVAL and points *why at a
 * sentence naming the field. */
int tb_config_check(const struct tb_config *cfg, const char **why);

/* Allocates every table, queue and pool once (the only allocation the core
 * ever does). NULL on a bad config or when memory is short. */
struct tb_stack *tb_stack_new(const struct tb_config *cfg);
/* Releases everything. Buffers the caller still holds must be freed first. */
void tb_stack_free(struct tb_stack *st);

/* A buffer from the stack's pool for the driver to receive a frame into
 * (like an rx ring refilled from a mempool). NULL (and counted) when dry. */
struct tb_buf *tb_stack_alloc_rx(struct tb_stack *st, size_t len);

/* Hands one received Ethernet frame (a chain is accepted) to the stack,
 * which takes ownership of it. `now` must not go backwards. */
void tb_stack_input(struct tb_stack *st, tb_time_ns now, struct tb_buf *frame);
/* Runs the timers due at `now`. */
void tb_stack_tick(struct tb_stack *st, tb_time_ns now);
/* The earliest time at which tb_stack_tick has work; TB_TIME_NEVER if none. */
tb_time_ns tb_stack_next_deadline(const struct tb_stack *st);
/* Moves up to max frames to send into out[] (oldest first); the caller owns
 * them and releases each with tb_buf_free after transmission. */
size_t tb_stack_drain_tx(struct tb_stack *st, struct tb_buf **out, size_t max);

/* ---- events ----------------------------------------------------------- */
enum tb_event_type {
    TB_EV_NONE = 0,
    TB_EV_ECHO_REPLY,       /* an echo reply to one of our tb_ping_send */
    TB_EV_UNREACHABLE,      /* a destination could not be reached (reason set) */
};
enum tb_unreach_reason {
    TB_UNREACH_ARP_TIMEOUT = 1,     /* no ARP reply after arp_max_retries */
    TB_UNREACH_ICMP = 2,            /* an ICMP destination unreachable arrived */
};
struct tb_event {
    uint32_t type;                  /* enum tb_event_type */
    uint32_t reason;                /* TB_EV_UNREACHABLE: enum tb_unreach_reason */
    tb_time_ns time_ns;             /* `now` when the event was queued */
    uint32_t peer_ipv4;
    union {
        struct {
            uint16_t ident, seq;
            uint8_t ttl;
            bool payload_ok;        /* our payload pattern came back intact */
            uint32_t payload_len;
            tb_time_ns sent_ns;     /* from the payload */
            tb_time_ns rtt_ns;
        } echo;
        struct {
            uint32_t dropped_frames;
            uint8_t icmp_code;
        } unreach;
    } u;
};
/* Moves up to max events into ev[] (oldest first). */
size_t tb_stack_events(struct tb_stack *st, struct tb_event *ev, size_t max);

/* ---- ICMP echo -------------------------------------------------------- */
/* Sends an echo request with payload_len bytes (>= 8: the first 8 carry
 * `now`, the rest a pattern); the reply arrives as TB_EV_ECHO_REPLY. */
int tb_ping_send(struct tb_stack *st, tb_time_ns now, uint32_t dst_ipv4, uint16_t ident,
                 uint16_t seq, uint32_t payload_len);

/* ---- counters --------------------------------------------------------- */
/* Every counter, by name. Drop reasons are counted separately below. */
#define TB_COUNTERS(X)                                                       \
    X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(rx_dropped)          \
    X(arp_requests_rx) X(arp_replies_rx) X(arp_requests_tx) X(arp_replies_tx) \
    X(arp_cache_inserts) X(arp_cache_evictions) X(arp_resolve_failures)      \
    X(arp_pending_queued) X(arp_pending_flushed)                             \
    X(ip_rx) X(ip_tx) X(ip_options_skipped)                                  \
    X(icmp_echo_requests_rx) X(icmp_echo_replies_tx)                         \
    X(icmp_echo_requests_tx) X(icmp_echo_replies_rx) X(icmp_unreach_rx)      \
    X(pool_empty) X(tx_queue_full) X(events_dropped) X(time_backwards)       \
    X(timers_fired)

/* Why a frame was dropped; each also counts in rx_dropped, or for frames we
 * meant to send, in the reason only. */
#define TB_DROP_REASONS(X)                                                   \
    X(eth_runt) X(eth_not_for_us) X(eth_unknown_type) X(frame_too_long)      \
    X(arp_truncated) X(arp_bad_htype) X(arp_bad_ptype) X(arp_bad_op)         \
    X(arp_not_for_us) X(arp_bad_sender)                                      \
    X(ip_truncated) X(ip_bad_version) X(ip_bad_ihl) X(ip_ihl_beyond_packet)  \
    X(ip_bad_total_len) X(ip_total_len_beyond_frame) X(ip_bad_checksum)      \
    X(ip_not_for_us) X(ip_bad_src) X(ip_fragment) X(ip_unknown_protocol)     \
    X(icmp_truncated) X(icmp_bad_checksum) X(icmp_error_truncated)           \
    X(icmp_unhandled_type) X(icmp_echo_reply_unexpected)                     \
    X(tx_arp_queue_full) X(tx_arp_timeout) X(tx_no_route) X(tx_queue_full)

enum tb_drop_reason {
#define TB_DROP_ENUM(name) TB_DROP_##name,
    TB_DROP_REASONS(TB_DROP_ENUM)
#undef TB_DROP_ENUM
    TB_DROP__COUNT
};
const char *tb_drop_reason_name(enum tb_drop_reason r);

struct tb_stats {
#define TB_COUNTER_FIELD(name) uint64_t name;
    TB_COUNTERS(TB_COUNTER_FIELD)
#undef TB_COUNTER_FIELD
    uint64_t drops[TB_DROP__COUNT];
};
void tb_stack_stats(const struct tb_stack *st, struct tb_stats *out);
/* Names and values of all counters, for printing: returns the count, fills
 * up to max entries. */
struct tb_counter { const char *name; uint64_t value; };
size_t tb_stats_list(const struct tb_stats *s, struct tb_counter *out, size_t max);

/* Introspection for tests and tools. */
size_t tb_stack_pool_free(const struct tb_stack *st);      /* buffers available */
size_t tb_stack_arp_count(const struct tb_stack *st);      /* resolved + pending entries */
/* Looks up a resolved ARP entry; false if none. */
bool tb_stack_arp_lookup(const struct tb_stack *st, uint32_t ipv4, struct tb_mac *mac);
/* Runs the core's self-checks (queue bounds, refcounts, heap order); on the
 * first failure returns false with *why set. */
bool tb_stack_check(const struct tb_stack *st, const char **why);

/* Formats a.b.c.d into buf[16]. */
const char *tb_ipv4_str(uint32_t ip, char buf[16]);
/* Parses a.b.c.d; false on syntax error. */
bool tb_ipv4_parse_str(const char *s, uint32_t *ip);

#endif
