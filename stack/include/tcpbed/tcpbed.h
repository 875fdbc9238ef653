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
    TB_ERR_AGAIN = -6,      /* nothing to read / no room to write now */
    TB_ERR_BADCONN = -7,    /* not a live connection or listener handle */
    TB_ERR_NOTCONN = -8,    /* the connection is not in a state for this call */
    TB_ERR_INUSE = -9,      /* port or 4-tuple already in use */
    TB_ERR_NOMEM = -10,     /* a table is full (connections, listeners, ports) */
    TB_ERR_RESET = -11,     /* connection reset by the peer */
    TB_ERR_TIMEOUT = -12,   /* retransmissions exhausted */
    TB_ERR_REFUSED = -13,   /* the peer answered our SYN with a RST */
    TB_ERR_CLOSED = -14,    /* we already shut the write side */
    TB_ERR_ABORTED = -15,   /* aborted locally */
    TB_ERR_UNREACH = -16,   /* an ICMP error or a failed ARP ended the connection */
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

    /* IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2) and its bounds. */
    uint32_t ip_reass_max_datagrams;    /* datagrams being reassembled at once; 0: reassembly off */
    uint32_t ip_reass_max_bufs;         /* buffers reassembly may hold, whole stack; 0: buf_count/8 (>= 2) */
    tb_time_ns ip_reass_timeout_ns;     /* from a datagram's first fragment; 15..60 s */

    /* TCP (stack/tcp). Buffers are per connection; sizes in bytes. */
    uint32_t tcp_max_conns;         /* connection table, TIME-WAIT included */
    uint32_t tcp_max_listeners;
    uint32_t tcp_syn_queue_len;     /* per listener; beyond it, SYN cookies */
    uint32_t tcp_accept_queue_len;  /* per listener default (listen's backlog caps it) */
    uint32_t tcp_sndbuf_bytes;
    uint32_t tcp_rcvbuf_bytes;
    uint32_t tcp_ooo_max_bytes;     /* out-of-order data held per connection */
    uint16_t tcp_mss;               /* our MSS; 0: derived from the MTU */
    bool tcp_window_scaling;        /* RFC 7323 */
    bool tcp_timestamps;            /* RFC 7323 */
    bool tcp_sack;                  /* RFC 2018 */
    bool tcp_syncookies;            /* RFC 4987, when a SYN queue is full */
    bool tcp_nodelay;               /* default for new connections: no Nagle */
    tb_time_ns tcp_rto_initial_ns;  /* RFC 6298 §2.1 */
    tb_time_ns tcp_rto_min_ns;
    tb_time_ns tcp_rto_max_ns;
    uint32_t tcp_max_retries;       /* RTO expiries in a row before a timeout error */
    uint32_t tcp_syn_retries;       /* SYN-ACK retransmissions of a passive open before giving up */
    tb_time_ns tcp_syn_timeout_ns;  /* an active open gives up after this long (RFC 1122 §4.2.3.5: >= 3 min) */
    tb_time_ns tcp_delack_ns;       /* delayed-ACK timer (RFC 9293 §3.8.6.3: < 0.5 s) */
    tb_time_ns tcp_msl_ns;          /* TIME-WAIT lasts 2 x MSL */
    tb_time_ns tcp_keepalive_idle_ns;   /* 0: keepalive off (the default) */
    tb_time_ns tcp_keepalive_intvl_ns;
    uint32_t tcp_keepalive_probes;
    uint32_t tcp_challenge_acks_per_s;  /* RFC 5961 §7 rate limit, stack-wide mean (randomised per second) */
    tb_time_ns tcp_oow_ack_interval_ns; /* per connection: at most one challenge / out-of-window ACK per interval */
    uint32_t tcp_initial_cwnd_segs; /* 0: RFC 6928's min(10 MSS, max(2 MSS, 14600)) */
    uint8_t tcp_cc;                 /* enum tb_cc_algo */
    bool tcp_rack_tlp;              /* RFC 8985 when SACK is negotiated (default on) */
    bool tcp_ecn;                   /* RFC 3168 (default off) */
    bool tcp_ecn_accept;            /* answer an ECN-setup SYN even with tcp_ecn off (Linux's tcp_ecn=2) */
    uint32_t tcp_quickack_segs;     /* the first N data segments are acknowledged at once (0: off) */
    uint32_t tcp_dupthresh;         /* RFC 5681/6675 DupThresh (3) */
    uint32_t tcp_seg_records;       /* scoreboard entries, whole stack; 0: 2 x buf_count */
};

/* Time knobs (config and setopt) are bounded so that `now + knob` and the
 * RTO's doublings stay far from int64 overflow. */
#define TB_TCP_TIME_KNOB_MAX_NS (INT64_C(86400) * 1000000000)

enum tb_cc_algo { TB_CC_NEWRENO = 0, TB_CC_CUBIC = 1, TB_CC__COUNT };
#define TB_CC_RENO TB_CC_NEWRENO
/* "newreno" or "cubic" -> algo; false if unknown. */
bool tb_cc_parse(const char *name, uint8_t *algo);
const char *tb_cc_name(uint8_t algo);

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
    TB_EV_TCP_CONNECTED,    /* conn: our connect completed (writable) */
    TB_EV_TCP_ACCEPTABLE,   /* conn = listener: a connection waits in tb_tcp_accept */
    TB_EV_TCP_READABLE,     /* conn: data or end-of-stream to read */
    TB_EV_TCP_WRITABLE,     /* conn: send space opened after TB_ERR_AGAIN */
    TB_EV_TCP_CLOSED,       /* conn: both directions finished (TIME-WAIT or CLOSED) */
    TB_EV_TCP_ERROR,        /* conn: the connection failed; error = TB_ERR_* */
    TB_EV_TCP_SOFT_ERROR,   /* conn: an ICMP error arrived; the connection goes on */
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
    int32_t conn;                   /* TCP events: the connection or listener handle */
    int32_t error;                  /* TB_EV_TCP_ERROR: why (enum tb_err) */
    union {
        struct {
            uint16_t ident, seq;
            uint8_t ttl;
            bool payload_ok;        /* our payload pattern came back intact */
            uint32_t payload_len;
            tb_time_ns sent_ns;     /* from the payload; -1 if it is not in [0, now] */
            tb_time_ns rtt_ns;      /* -1 when sent_ns is */
        } echo;
        struct {
            uint32_t dropped_frames;
            uint8_t icmp_code;
        } unreach;
        struct {
            uint8_t icmp_type, icmp_code;
            uint16_t next_hop_mtu;
        } soft;
    } u;
};
/* Moves up to max events into ev[] (oldest first). */
size_t tb_stack_events(struct tb_stack *st, struct tb_event *ev, size_t max);

/* ---- ICMP echo -------------------------------------------------------- */
/* Sends an echo request with payload_len bytes (>= 8: the first 8 carry
 * `now`, the rest a pattern); the reply arrives as TB_EV_ECHO_REPLY. */
int tb_ping_send(struct tb_stack *st, tb_time_ns now, uint32_t dst_ipv4, uint16_t ident,
                 uint16_t seq, uint32_t payload_len);

/* ---- TCP (RFC 9293) ----------------------------------------------------- */
/* Handles are non-negative int32 values (slot and generation), errors are
 * negative TB_ERR_* values. A handle stays valid until tb_tcp_close or
 * tb_tcp_abort, even after the connection failed. */

/* Listens on port; returns a listener handle. backlog 0: the config default. */
int32_t tb_tcp_listen(struct tb_stack *st, uint16_t port, uint32_t backlog);
/* How many connections wait in the listener's accept queue (poll's view). */
int tb_tcp_accept_pending(const struct tb_stack *st, int32_t listener);
/* A connection from the listener's accept queue, or TB_ERR_AGAIN. */
int32_t tb_tcp_accept(struct tb_stack *st, int32_t listener);
/* Opens a connection from an ephemeral port (RFC 6056); returns its handle.
 * TB_EV_TCP_CONNECTED or TB_EV_TCP_ERROR follows. */
int32_t tb_tcp_connect(struct tb_stack *st, tb_time_ns now, uint32_t dst_ipv4, uint16_t dst_port);
/* The same from a chosen local port (bind + connect); TB_ERR_INUSE if that
 * 4-tuple is taken, TIME-WAIT included. */
int32_t tb_tcp_connect_from(struct tb_stack *st, tb_time_ns now, uint16_t local_port, uint32_t dst_ipv4,
                            uint16_t dst_port);
/* Copies up to len bytes into the send buffer; returns bytes taken (may be
 * fewer than len), or TB_ERR_AGAIN when the buffer is full. */
int64_t tb_tcp_send(struct tb_stack *st, tb_time_ns now, int32_t conn, const void *data, size_t len);
/* Zero-copy send: hands over a chain of buffers (all or nothing: on error
 * the caller keeps it). The stack sends straight from them and releases
 * each when it is acknowledged. */
int tb_tcp_send_buf(struct tb_stack *st, tb_time_ns now, int32_t conn, struct tb_buf *chain);
/* Copies up to max received bytes out; returns bytes, 0 at end of stream,
 * TB_ERR_AGAIN when nothing is there yet, or the connection's error. */
int64_t tb_tcp_recv(struct tb_stack *st, tb_time_ns now, int32_t conn, void *data, size_t max);
/* Zero-copy receive: lends whole received buffers, up to about max bytes,
 * as a chain in *out; release it with tb_buf_free. Return as tb_tcp_recv. */
int64_t tb_tcp_recv_buf(struct tb_stack *st, tb_time_ns now, int32_t conn, struct tb_buf **out, size_t max);
/* Shuts the write side: a FIN follows the data already queued. */
int tb_tcp_shutdown(struct tb_stack *st, tb_time_ns now, int32_t conn);
/* Gives the handle back; the connection finishes its close on its own
 * (FIN, TIME-WAIT). Unread received data turns the close into a reset
 * (RFC 9293 §3.6, RFC 1122 §4.2.2.13). Closing a listener resets its queue. */
int tb_tcp_close(struct tb_stack *st, tb_time_ns now, int32_t conn);
/* Resets the connection (RST) and gives the handle back. */
int tb_tcp_abort(struct tb_stack *st, tb_time_ns now, int32_t conn);

enum tb_tcp_opt {
    TB_TCP_OPT_NODELAY = 1,         /* 0/1: Nagle off when 1 */
    TB_TCP_OPT_SNDBUF,              /* bytes */
    TB_TCP_OPT_RCVBUF,              /* bytes; takes effect for the window scale before connect */
    TB_TCP_OPT_KEEPALIVE_IDLE_NS,   /* 0 turns keepalive off */
    TB_TCP_OPT_KEEPALIVE_INTVL_NS,
    TB_TCP_OPT_KEEPALIVE_PROBES,
    TB_TCP_OPT_MSS,                 /* cap on our MSS, before connect */
    TB_TCP_OPT_RTO_MIN_NS,
    TB_TCP_OPT_RTO_MAX_NS,
    TB_TCP_OPT_MAX_RETRIES,
    TB_TCP_OPT_DELACK_NS,           /* 0: acknowledge every segment at once */
};
/* On a connection: takes effect now. On a listener: kept, and given to
 * every connection it creates before its SYN-ACK (as a listening socket's
 * options are inherited), so RCVBUF and MSS shape the SYN-ACK. */
int tb_tcp_setopt(struct tb_stack *st, int32_t conn, enum tb_tcp_opt opt, int64_t value);

/* Options set before the connection exists (a socket's options before connect). */
struct tb_tcp_optval {
    int32_t opt;                    /* enum tb_tcp_opt */
    int64_t value;
};
#define TB_TCP_MAX_PRESET_OPTS 16
/* tb_tcp_connect_from (local_port 0: an ephemeral port) with opts applied,
 * in order, before the SYN is built: RCVBUF sets the window scale the SYN
 * offers, MSS the MSS it announces. The first option refused fails the
 * call with its error and nothing is sent. */
int32_t tb_tcp_connect_opts(struct tb_stack *st, tb_time_ns now, uint16_t local_port, uint32_t dst_ipv4,
                            uint16_t dst_port, const struct tb_tcp_optval *opts, size_t n_opts);

enum tb_tcp_state {
    TB_TCP_CLOSED = 0, TB_TCP_LISTEN, TB_TCP_SYN_SENT, TB_TCP_SYN_RECEIVED, TB_TCP_ESTABLISHED,
    TB_TCP_FIN_WAIT_1, TB_TCP_FIN_WAIT_2, TB_TCP_CLOSE_WAIT, TB_TCP_CLOSING, TB_TCP_LAST_ACK,
    TB_TCP_TIME_WAIT,
};
const char *tb_tcp_state_name(int state);

/* The TCP_INFO of tcpbed. */
struct tb_tcp_info {
    int state;                      /* enum tb_tcp_state */
    int error;                      /* TB_ERR_* once failed, else 0 */
    uint32_t local_ipv4, remote_ipv4;
    uint16_t local_port, remote_port;
    uint32_t iss, irs, snd_una, snd_nxt, snd_max, rcv_nxt;
    uint32_t snd_wnd_bytes, rcv_wnd_bytes;
    uint8_t snd_wscale, rcv_wscale;
    bool ts_ok, sack_ok, ws_ok, nodelay, syncookie;
    uint16_t mss_bytes;             /* effective send MSS */
    tb_time_ns srtt_ns, rttvar_ns, rto_ns;
    uint32_t cwnd_bytes, ssthresh_bytes, flight_bytes;
    uint32_t sndbuf_used_bytes, rcvbuf_used_bytes, ooo_bytes;
    uint64_t bytes_sent, bytes_acked, bytes_received;
    uint64_t segs_out, segs_in, data_segs_out, data_segs_in;
    uint64_t retransmits, retransmitted_bytes, rto_timeouts, dup_acks;
    uint64_t ooo_segs, zero_window_probes, keepalive_probes, challenge_acks;
    uint32_t backoff;               /* RTO doublings in force (Karn: kept until a valid RTT sample) */
    uint64_t fast_retransmits, rack_losses, tlp_probes, spurious_undos, dsacks, sacked_bytes;
    uint64_t ecn_ce_marks, ecn_reductions;
    bool ecn_ok, in_recovery;
    uint32_t pipe_bytes;
    int last_soft_error_icmp_type, last_soft_error_icmp_code;   /* -1: none */
};
int tb_tcp_info(const struct tb_stack *st, int32_t conn, struct tb_tcp_info *out);

/* ---- tracing ------------------------------------------------------------ */
/* What the congestion control and timers decided, and why. */
enum tb_trace_event {
    TB_TRACE_ACK = 1,           /* new data acknowledged; cwnd may have grown */
    TB_TRACE_RTO,               /* retransmission timeout: reason "rto" */
    TB_TRACE_PERSIST,           /* zero-window probe */
    TB_TRACE_CONGESTION,        /* a congestion event (fast retransmit, ECN; loss recovery) */
    TB_TRACE_IDLE_RESTART,      /* cwnd cut back after idle (RFC 5681 §4.1) */
    TB_TRACE_STATE,             /* connection state change */
    TB_TRACE_RECOVERY,          /* entering fast recovery: reason dupacks, sack, rack */
    TB_TRACE_RECOVERY_EXIT,     /* full ACK of the recovery point */
    TB_TRACE_LOSS,              /* a segment marked lost: reason rack, dupthresh, partial_ack, rto */
    TB_TRACE_RETRANSMIT,        /* a lost segment sent again */
    TB_TRACE_TLP,               /* tail loss probe: reason new_data or last_segment */
    TB_TRACE_UNDO,              /* a spurious reduction undone: reason dsack or eifel */
    TB_TRACE_ECN,               /* ECE received: congestion window reduced */
};
struct tb_trace {
    tb_time_ns time_ns;
    int32_t conn;
    uint32_t event;             /* enum tb_trace_event */
    const char *reason;         /* a short static word */
    int state;                  /* enum tb_tcp_state */
    uint32_t cwnd_bytes, ssthresh_bytes, flight_bytes, snd_wnd_bytes, pipe_bytes;
    tb_time_ns srtt_ns, rto_ns;
    uint32_t snd_una, snd_nxt;
};
/* Called synchronously at each traced decision; it must not call back into
 * the stack. Observation only: output never depends on it. NULL: off. */
typedef void (*tb_trace_fn)(void *ctx, const struct tb_trace *t);
void tb_stack_set_trace(struct tb_stack *st, tb_trace_fn fn, void *ctx);
const char *tb_trace_event_name(uint32_t event);

/* ---- counters --------------------------------------------------------- */
/* Every counter, by name. Drop reasons are counted separately below. */
#define TB_COUNTERS(X)                                                       \
    X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(rx_dropped)          \
    X(arp_requests_rx) X(arp_replies_rx) X(arp_requests_tx) X(arp_replies_tx) \
    X(arp_cache_inserts) X(arp_cache_evictions) X(arp_resolve_failures)      \
    X(arp_pending_queued) X(arp_pending_flushed)                             \
    X(ip_rx) X(ip_tx) X(ip_options_skipped)                                  \
    X(ip_frags_rx) X(ip_reass_ok) X(ip_reass_timeouts) X(ip_frag_ok)         \
    X(ip_frags_tx) X(icmp_time_exceeded_tx)                                  \
    X(icmp_echo_requests_rx) X(icmp_echo_replies_tx)                         \
    X(icmp_echo_requests_tx) X(icmp_echo_replies_rx) X(icmp_unreach_rx) X(icmp_time_exceeded_rx)      \
    X(pool_empty) X(tx_queue_full) X(events_dropped) X(time_backwards)       \
    X(timers_fired)                                                          \
    X(tcp_segs_in) X(tcp_segs_out) X(tcp_data_segs_out) X(tcp_retransmits)   \
    X(tcp_rto_timeouts) X(tcp_rsts_sent) X(tcp_rsts_rcvd) X(tcp_active_opens) \
    X(tcp_passive_opens) X(tcp_conns_established) X(tcp_conns_closed)        \
    X(tcp_conns_reset) X(tcp_conns_timed_out) X(tcp_challenge_acks)          \
    X(tcp_challenge_acks_suppressed) X(tcp_syncookies_sent)                  \
    X(tcp_syncookies_ok) X(tcp_syncookies_failed) X(tcp_syn_queue_overflow)  \
    X(tcp_accept_queue_overflow) X(tcp_paws_rejected) X(tcp_ooo_segs)        \
    X(tcp_zero_window_probes) X(tcp_keepalive_probes) X(tcp_delayed_acks)    \
    X(tcp_urgent_segs) X(tcp_icmp_soft_errors) X(tcp_pmtu_decreases)         \
    X(tcp_time_wait_reused) X(tcp_time_wait_evicted) X(tcp_fast_retransmits) X(tcp_rack_losses)      \
    X(tcp_tlp_probes) X(tcp_spurious_undos) X(tcp_dsacks)                    \
    X(tcp_sack_recoveries) X(tcp_newreno_recoveries) X(tcp_seg_records_empty) \
    X(tcp_ecn_ce_received) X(tcp_ecn_reductions)

/* Why a frame was dropped; each also counts in rx_dropped, or for frames we
 * meant to send, in the reason only. */
#define TB_DROP_REASONS(X)                                                   \
    X(eth_runt) X(eth_not_for_us) X(eth_unknown_type) X(frame_too_long)      \
    X(arp_truncated) X(arp_bad_htype) X(arp_bad_ptype) X(arp_bad_op)         \
    X(arp_not_for_us) X(arp_bad_sender)                                      \
    X(ip_truncated) X(ip_bad_version) X(ip_bad_ihl) X(ip_ihl_beyond_packet)  \
    X(ip_bad_total_len) X(ip_total_len_beyond_frame) X(ip_bad_checksum)      \
    X(ip_not_for_us) X(ip_bad_src) X(ip_unknown_protocol)                    \
    X(ip_reass_off) X(ip_frag_bad_len) X(ip_reass_duplicate)                 \
    X(ip_reass_overlap) X(ip_reass_inconsistent) X(ip_reass_too_big)         \
    X(ip_reass_full) X(ip_reass_timeout) X(ip_reass_exceeds_buf)             \
    X(ip_reass_no_buf)                                                       \
    X(icmp_truncated) X(icmp_bad_checksum) X(icmp_error_truncated)           \
    X(icmp_unhandled_type) X(icmp_echo_reply_unexpected)                     \
    X(tx_arp_queue_full) X(tx_arp_timeout) X(tx_no_route) X(tx_queue_full)    \
    X(tx_exceeds_mtu) X(tx_frag_no_buf)                                      \
    X(tcp_truncated) X(tcp_bad_data_offset) X(tcp_bad_checksum)              \
    X(tcp_bad_option) X(tcp_no_conn) X(tcp_not_acceptable) X(tcp_bad_ack)    \
    X(tcp_paws) X(tcp_rst_out_of_window) X(tcp_syn_in_window)                \
    X(tcp_listen_bad_flags) X(tcp_syn_sent_bad_ack) X(tcp_ooo_full)          \
    X(tcp_rcvbuf_full) X(tcp_conn_table_full) X(tcp_accept_queue_full)       \
    X(tcp_no_ack_flag) X(tcp_after_close) X(tcp_icmp_stale) X(tcp_bad_cookie)  \
    X(tcp_syn_queue_full) X(tcp_missing_ts) X(ip_src_is_ours) X(tx_frag_no_room)

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
