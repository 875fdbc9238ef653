/* TCP internals, split as FreeBSD's netinet: tcp_conn.c (table, handles,
 * ports, ISNs, SYN cookies), tcp_input.c (RFC 9293 §3.10.7 event
 * processing), tcp_output.c (segments, windows, Nagle, SWS), tcp_timer.c
 * (RTO, persist, delayed ACK, keepalive, 2MSL), tcp_reass.c (receive queues,
 * reassembly, SACK blocks), tcp_cc.c (congestion control ops), tcp_api.c
 * (the application's calls). Only stack/ includes this. */
#ifndef TB_TCP_INTERNAL_H
#define TB_TCP_INTERNAL_H

#include "net/stack_internal.h"
#include "tcpbed/seq.h"
#include "util/siphash.h"

/* Sequence arithmetic modulo 2^32 (RFC 9293 §3.4): the public helpers,
 * under the short names the engine reads best with. */
#define SEQ_LT(a, b) tb_seq_lt((uint32_t)(a), (uint32_t)(b))
#define SEQ_LEQ(a, b) tb_seq_leq((uint32_t)(a), (uint32_t)(b))
#define SEQ_GT(a, b) tb_seq_gt((uint32_t)(a), (uint32_t)(b))
#define SEQ_GEQ(a, b) tb_seq_geq((uint32_t)(a), (uint32_t)(b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))

#define TCP_NONE UINT32_MAX
#define TCP_MAX_WSCALE 14                  /* RFC 7323 §2.3 */
#define TCP_DEFAULT_MSS 536                /* RFC 9293 §3.7.1, when the peer sends none */
#define TCP_MIN_MSS 88                     /* the smallest TCP_MAXSEG accepted (ICMP decreases follow the MTU down to 68) */
#define TCP_TS_OPT_BYTES 12                /* the timestamp option as sent: NOP, NOP, kind 8 (RFC 7323 App. A) */
#define TCP_PAWS_IDLE_NS (INT64_C(24) * 24 * 3600 * TB_NS_PER_S)   /* RFC 7323 §5.5 */
#define TCP_SMALL_COPY_BYTES 256           /* payloads this small are copied, not referenced */
#define TCP_CC_DATA_BYTES 96               /* per-connection congestion control state (tcp_cc.c) */
#define TCP_CC_DATA_ALIGN 8                /* enough for the doubles and tb_time_ns in it */

/* Packet queue with a byte count; buffers linked through qnext. */
struct tcp_bufq {
    struct tb_buf *head, *tail;
    uint32_t bytes;
    uint32_t count;
};

enum tcp_flags {
    TF_ACKNOW = 1u << 0,          /* send an ACK at the next output */
    TF_DELACK = 1u << 1,          /* an ACK is owed; the delayed-ACK timer runs */
    TF_WS_OK = 1u << 2,           /* both sides sent window scale */
    TF_TS_OK = 1u << 3,           /* both sides sent timestamps */
    TF_SACK_OK = 1u << 4,         /* both sides sent SACK-permitted */
    TF_NODELAY = 1u << 5,
    TF_SHUT_WR = 1u << 6,         /* the application shut the write side: FIN after the data */
    TF_FIN_SENT = 1u << 7,
    TF_RCVD_FIN = 1u << 8,        /* the peer's FIN is in sequence */
    TF_APP_CLOSED = 1u << 9,      /* the handle was given back */
    TF_PASSIVE = 1u << 10,        /* opened by a listener */
    TF_SYNCOOKIE = 1u << 11,
    TF_WANT_WRITABLE = 1u << 12,  /* a send found no room: say when there is */
    TF_PERSIST = 1u << 13,        /* the zero-window persist state */
    TF_SYN_REXMIT = 1u << 14,     /* our SYN was retransmitted (RFC 6298 §5.7) */
    TF_CLOSED_EVENT = 1u << 15,   /* TB_EV_TCP_CLOSED or _ERROR was queued */
    TF_IN_HASH = 1u << 16,
    TF_READABLE_PENDING = 1u << 17,   /* a READABLE event is out and not yet answered by a read */
    TF_ACCEPTED = 1u << 18,       /* handed out by tb_tcp_accept */
    TF_IN_SYN_QUEUE = 1u << 19,   /* counted in its listener's syn_count */
    TF_ECN_OK = 1u << 20,         /* RFC 3168 negotiated */
    TF_ECE_PENDING = 1u << 21,    /* receiver: CE seen, echo ECE until CWR */
    TF_SEND_CWR = 1u << 22,       /* sender: reduced for ECE, set CWR on the next data */
    TF_RECOVERY = 1u << 23,       /* in fast recovery */
    TF_RESCUE_DONE = 1u << 24,    /* RFC 6675 rescue retransmission sent this episode */
    TF_OOW_ACKED = 1u << 25,      /* last_oow_ack_ns is set */
};

/* One sent data segment (RFC 6675 scoreboard, RFC 8985 RACK). Records come
 * from a per-stack pool and are linked per connection in sequence order. */
enum tcp_seg_flags {
    SEG_SACKED = 1u << 0,
    SEG_LOST = 1u << 1,           /* deemed lost and not yet sent again */
    SEG_RETRANS = 1u << 2,        /* sent again and not yet acked, SACKed or lost again */
    SEG_EVER_RETRANS = 1u << 3,
    SEG_FIN = 1u << 4,
    SEG_RXT_LOST = 1u << 5,       /* with RETRANS: the copy replaces an original deemed lost */
};
struct tcp_seg {
    uint32_t seq, end;            /* [seq, end): FIN counts */
    tb_time_ns xmit_ns;           /* last transmission */
    uint32_t ts_val;              /* its timestamp (Eifel) */
    uint32_t next;                /* TCP_NONE ends the list */
    uint8_t flags;
};

struct tcp_conn_stats {
    uint64_t bytes_sent, bytes_acked, bytes_received;
    uint64_t segs_out, segs_in, data_segs_out, data_segs_in;
    uint64_t retransmits, retransmitted_bytes, rto_timeouts, dup_acks;
    uint64_t ooo_segs, zero_window_probes, keepalive_probes, challenge_acks;
    uint64_t fast_retransmits, rack_losses, tlp_probes, spurious_undos, dsacks, sacked_bytes;
    uint64_t ecn_ce_marks, ecn_reductions;
};

struct tb_tcb {
    uint8_t state;                /* enum tb_tcp_state */
    bool in_use;
    uint16_t gen;                 /* handle generation */
    uint32_t flags;               /* enum tcp_flags */
    uint32_t index;
    uint32_t hash_next;           /* connection hash chain */
    uint32_t free_next;
    uint32_t listener;            /* listener slot while not yet accepted, else TCP_NONE */
    uint32_t accept_next;         /* accept queue link */
    uint32_t local_ip, remote_ip;
    uint16_t local_port, remote_port;
    int32_t error;                /* TB_ERR_* once failed */

    /* Send sequence space (RFC 9293 §3.3.1). Data bytes occupy
     * [iss+1, snd_end); the FIN, if any, is at snd_end. */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_end;
    uint32_t snd_wl1, snd_wl2;
    uint32_t snd_wnd, max_snd_wnd;   /* bytes, scaled */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t syn_rcv_wscale;       /* the shift our SYN (or SYN-ACK) offered: fixed from then on */
    uint16_t mss;                 /* send MSS: payload bytes per segment with only the fixed
                                   * options (timestamps); never above peer_mss */
    uint16_t peer_mss;            /* the peer's MSS option (536 if none): data + options per segment */
    uint16_t mss_cap;             /* our own limit (setopt MSS) */
    uint16_t rcv_mss;             /* MSS we advertise */
    struct tcp_bufq sndq;         /* data from snd_una (or iss+1) to snd_end */
    struct tb_buf *snd_cursor;    /* a sndq buffer at or before snd_nxt, to skip the walk */
    uint32_t sndbuf_max;

    /* Receive sequence space. */
    uint32_t irs, rcv_nxt, rcv_adv;  /* rcv_adv: right edge of the last window we advertised */
    struct tcp_bufq rcvq;         /* in order, not yet read */
    struct tcp_bufq oooq;         /* out of order, sorted by seq */
    uint32_t rcvbuf_max, ooo_max;
    bool ooo_fin;
    uint32_t ooo_fin_seq;
    uint32_t sack_recent[TB_TCP_MAX_SACK_BLOCKS];   /* seqs of recent out-of-order arrivals, newest first */
    uint8_t sack_recent_count;
    bool dsack_pending;           /* RFC 2883: report a duplicate in the next ACK's first block */
    struct tb_sack_block dsack;

    /* Timestamps (RFC 7323). */
    uint32_t ts_recent, ts_offset, last_ack_sent;
    tb_time_ns ts_recent_age_ns;

    /* RTT and RTO (RFC 6298). */
    tb_time_ns srtt_ns, rttvar_ns, rto_ns;
    bool have_rtt;
    bool rtt_timing;              /* a segment is being timed (no timestamps) */
    uint32_t rtt_seq;
    tb_time_ns rtt_start_ns;
    uint32_t backoff;             /* RTO doublings: kept until a valid RTT sample (Karn, RFC 6298 §5) */
    uint32_t rto_streak;          /* RTO expiries without any new ACK: the give-up count */
    tb_time_ns syn_start_ns;      /* when our first SYN (or SYN-ACK) went out */
    tb_time_ns last_oow_ack_ns;   /* last challenge or out-of-window ACK (per-connection limit) */
    uint32_t persist_backoff, persist_probes_unanswered;
    uint32_t keep_probes_sent;
    tb_time_ns last_rx_ns;
    tb_time_ns last_data_send_ns; /* last segment that carried data, SYN or FIN (RFC 5681 §4.1) */

    /* Congestion control (tcp_cc.c): the windows, in bytes, are the
     * engine's to read (output, PRR) and the algorithm's to set. */
    uint32_t cwnd, ssthresh;
    uint32_t dupacks;
    const struct tcp_cc_algo *cc;
    /* The algorithm's private state: a fixed area inside the TCB, so a
     * connection needs no allocation; each algorithm asserts at compile
     * time that its state fits (tcp_cc.c). The TCBs live in calloc'd
     * storage, so the area takes the algorithm's struct as its type. */
    _Alignas(TCP_CC_DATA_ALIGN) unsigned char cc_data[TCP_CC_DATA_BYTES];

    /* Loss recovery (tcp_sack.c): the scoreboard and the recovery episode. */
    uint32_t seg_head, seg_tail, seg_count;
    /* Aggregates of the records, kept by every change (tcp_sack.c: seg_set):
     * pipe and NextSeg without a scan. */
    uint32_t sb_total, sb_sacked, sb_lost, sb_retrans;   /* bytes; lost/retrans: not SACKed; retrans: copies of originals not deemed lost */
    uint32_t sb_lost_count;       /* lost, not SACKed, not yet sent again */
    uint32_t sb_ever_retrans;     /* records ever retransmitted */
    uint32_t recover;             /* RFC 6582 recovery point */
    uint32_t high_rxt;            /* RFC 6675 HighRxt */
    uint32_t recover_fs, prr_delivered, prr_out;   /* RFC 6937 */
    uint32_t reno_sacked;         /* segments the dupacks say arrived (no SACK) */
    uint32_t undo_retrans;        /* retransmissions of this episode not yet DSACKed */
    uint32_t undo_lo, undo_hi;    /* the sequence range this episode retransmitted (empty: lo == hi) */
    bool undo_armed;
    uint32_t rto_ts_val;          /* Eifel: TSval of the first RTO retransmission, 0: none */
    /* RACK (RFC 8985). */
    tb_time_ns rack_xmit_ns, rack_rtt_ns, rack_min_rtt_ns;
    uint32_t rack_end, rack_fack;  /* newest delivered segment's end; highest end delivered */
    uint32_t rack_reo_mult;
    bool rack_reord;              /* reordering seen: the window widens (RFC 8985 §6.2)*/
    bool tlp_out;                 /* a probe is outstanding */
    bool tlp_episode;             /* RFC 8985 §7.4.2: TLP.end_seq is set (tlp_high) */
    bool tlp_is_retrans;          /* RFC 8985 §7.3: TLP.is_retrans */
    bool tlp_need_rtt;            /* a probe went and no RTT sample came since (§7.3) */
    bool rto_recovery;            /* an RTO's retransmissions run until snd_una reaches recover */
    uint32_t tlp_high;

    /* Delayed ACK (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2). */
    uint32_t unacked_full_segs;
    uint32_t quickack_left;       /* data segments still acknowledged at once (tcp_quickack_segs) */

    /* Knobs, per connection (setopt). */
    tb_time_ns rto_min_ns, rto_max_ns, delack_ns;
    tb_time_ns keep_idle_ns, keep_intvl_ns;
    uint32_t keep_probes, max_retries;

    struct tb_timer t_rexmt, t_persist, t_delack, t_keep, t_2msl, t_rack, t_tlp;
    int soft_icmp_type, soft_icmp_code;
    struct tcp_conn_stats cs;
};

#define TCP_TIMERS_PER_CONN 7

/* Send-sequence invariants (RFC 9293 §3.3.1), asserted on entry to and exit
 * from the functions that move them: SND.UNA <= SND.NXT <= SND.MAX, and
 * nothing is ever sent past the FIN's slot at snd_end. */
static inline void tcp_assert_snd_seq(const struct tb_tcb *tp) {
    TB_ASSERT(SEQ_LEQ(tp->snd_una, tp->snd_nxt));
    TB_ASSERT(SEQ_LEQ(tp->snd_nxt, tp->snd_max));
    TB_ASSERT(SEQ_LEQ(tp->snd_max, tp->snd_end + 1));
}

/* Window invariants from tcp_cc_init on. cwnd >= 1 SMSS: the RTO's loss
 * window is the floor (RFC 5681 §3.1), PRR never goes below
 * min(ssthresh, pipe + SMSS) (RFC 6937 §3.1), and the MSS only shrinks
 * after the handshake. ssthresh >= 2 SMSS: RFC 5681 §3.1 eq. 4. */
static inline void tcp_assert_windows(const struct tb_tcb *tp) {
    TB_ASSERT(tp->cwnd >= tp->mss && tp->mss > 0);
    TB_ASSERT(tp->ssthresh >= 2u * tp->mss);
}

struct tcp_listener {
    bool in_use;
    bool app_closed;
    uint16_t gen;
    uint16_t port;
    uint32_t backlog;
    uint32_t syn_count;           /* children in SYN-RECEIVED */
    uint32_t accept_head, accept_tail, accept_count;
    uint32_t opt_count;           /* options for its connections (tb_tcp_setopt on the listener) */
    struct tb_tcp_optval opts[TB_TCP_MAX_PRESET_OPTS];
};

/* Why the engine tells the algorithm to reduce (or to take a reduction back). */
enum tcp_cong_signal {
    TCP_CONG_FAST_RETRANSMIT,     /* loss by dupacks, SACK or RACK: recovery starts (RFC 5681 §3.2, RFC 6675) */
    TCP_CONG_ECN,                 /* an ECE, once per window (RFC 3168 §6.1.2): no loss, no undo snapshot */
    TCP_CONG_RTO,                 /* the retransmission timer expired (RFC 5681 §3.1, RFC 6298 §5) */
    TCP_CONG_UNDO,                /* the last loss signal was spurious (RFC 2883 §5 DSACK, RFC 3522 Eifel) */
};

/* What an algorithm sees of a connection. A narrow view, not the TCB:
 * the algorithm owns cwnd, ssthresh and its cc_data and reads the MSS,
 * the flight and the RTT; sequence numbers, timers and the scoreboard
 * are out of its reach, so the engine's invariants cannot depend on
 * which algorithm runs. tcp_cc.c builds one per call, on the stack. */
struct tcp_cc_conn {
    uint32_t *cwnd_bytes, *ssthresh_bytes;
    void *data;                   /* the TCB's cc_data */
    uint32_t mss_bytes;
    uint32_t flight_bytes;        /* snd_max - snd_una */
    tb_time_ns srtt_ns;           /* meaningful only if have_rtt */
    bool have_rtt;
    tb_time_ns now;
};

/* A congestion control algorithm (the shape of FreeBSD's struct cc_algo).
 * Every hook is required. During fast recovery PRR (tcp_sack.c) paces
 * cwnd and on_ack is not called. */
struct tcp_cc_algo {
    const char *name;
    void (*init)(struct tcp_cc_conn *c);   /* cwnd and ssthresh are already the initial ones */
    void (*on_ack)(struct tcp_cc_conn *c, uint32_t acked_bytes);
    void (*cong_signal)(struct tcp_cc_conn *c, enum tcp_cong_signal sig);
    /* Recovery ended with a full ACK; sent_in_recovery: PRR sent anything. */
    void (*post_recovery)(struct tcp_cc_conn *c, bool sent_in_recovery);
    void (*after_idle)(struct tcp_cc_conn *c);   /* cwnd was cut to the restart window */
};

struct tcp_state {
    struct tb_tcb *conns;         /* cfg.tcp_max_conns */
    uint32_t free_head, live_count;
    uint32_t *hash;               /* bucket heads */
    uint32_t hash_mask;
    struct tcp_listener *listeners;
    struct tb_pool ind_pool;      /* descriptors without storage, for zero-copy slices */
    struct tcp_seg *segs;         /* scoreboard records */
    uint32_t seg_free, seg_total, seg_free_count;
    struct tb_sipkey isn_key, cookie_key, port_key, hash_key, ts_key;
    uint32_t next_ephemeral;
    uint32_t last_lookup;         /* the slot the last lookup found: bulk traffic hits it */
    tb_time_ns challenge_window_start_ns;
    uint32_t challenge_acks_in_window;
    uint32_t challenge_budget;    /* this window's stack-wide budget, randomised (RFC 5961 §10) */
};

/* What net/ calls into TCP (tcp_init, tcp_destroy, tcp_timer_count,
 * tb_tcp_input, tb_tcp_icmp_error, tcp_check) is declared once, in
 * net/stack_internal.h. */

/* tcp_conn.c */
struct tb_tcb *tcp_lookup(struct tb_stack *st, uint32_t local_ip, uint16_t local_port, uint32_t remote_ip,
                          uint16_t remote_port);
struct tb_tcb *tcp_alloc(struct tb_stack *st);
void tcp_hash_insert(struct tb_stack *st, struct tb_tcb *tp);
void tcp_hash_remove(struct tb_stack *st, struct tb_tcb *tp);
/* Frees the slot now: queues, timers, hash, listener counts. */
void tcp_free(struct tb_stack *st, struct tb_tcb *tp);
/* Moves to CLOSED; frees the slot too when nobody holds the handle. */
void tcp_close_state(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
void tcp_set_state(struct tb_stack *st, struct tb_tcb *tp, int state, tb_time_ns now);
uint32_t tcp_isn(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport, tb_time_ns now);
uint32_t tcp_ts_offset(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport);
int32_t tcp_conn_handle(const struct tb_tcb *tp);
struct tb_tcb *tcp_from_handle(struct tb_stack *st, int32_t handle);
int32_t tcp_listener_handle(const struct tb_stack *st, const struct tcp_listener *l);
struct tcp_listener *tcp_listener_from_handle(struct tb_stack *st, int32_t handle);
/* tb_tcp_setopt on one connection, whatever its state (CLOSED: before its first segment). */
int tcb_setopt(struct tb_stack *st, struct tb_tcb *tp, enum tb_tcp_opt opt, int64_t value);
/* Gives a new passive connection its listener's options. */
void tcp_listener_apply_opts(struct tb_stack *st, const struct tcp_listener *l, struct tb_tcb *tp);
struct tcp_listener *tcp_listener_find(struct tb_stack *st, uint16_t port);
void tcp_conn_defaults(struct tb_stack *st, struct tb_tcb *tp);
/* RFC 4987 cookies: the ISN of a stateless SYN-ACK, and its check. */
uint32_t tcp_cookie_make(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                         uint32_t peer_isn, uint16_t mss, tb_time_ns now);
bool tcp_cookie_check(struct tb_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                      uint32_t peer_isn, uint32_t cookie, tb_time_ns now, uint16_t *mss);
/* Nobody can see this connection: its handle was given back, or it is a
 * passive child not yet accepted. Its events are not reported. */
bool tcp_orphan(const struct tb_tcb *tp);
void tcp_event(struct tb_stack *st, struct tb_tcb *tp, uint32_t type, int32_t error, tb_time_ns now);
/* Ends the connection with an error the application will see. */
void tcp_fail(struct tb_stack *st, struct tb_tcb *tp, int32_t error, tb_time_ns now);

/* Reports a decision to the stack's trace hook, if one is set. */
void tcp_trace(struct tb_stack *st, const struct tb_tcb *tp, uint32_t event, const char *reason, tb_time_ns now);

/* tcp_input.c */
/* Applies negotiated SYN options (MSS, window scale, timestamps, SACK). */
void tcp_apply_syn_options(struct tb_stack *st, struct tb_tcb *tp, const struct tb_tcp_opts *o);

/* tcp_output.c */
void tcp_output(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
/* Sends one segment of [seq, seq+len) from the send queue with flags. */
int tcp_send_segment(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, uint32_t seq, uint32_t len, uint8_t flags);
/* The same with an IP TOS byte (ECN's ECT bits). */
int tcp_send_segment_tos(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, uint32_t seq, uint32_t len,
                         uint8_t flags, uint8_t tos);
/* A RST (or RST+ACK) in answer to a segment that has no connection. */
void tcp_send_rst(struct tb_stack *st, tb_time_ns now, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                  uint32_t seq, uint32_t ack, bool with_ack);
/* The RST aborting a synchronized connection, with TSopt when in use (RFC 7323 §3.2). */
void tcp_send_rst_conn(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
void tcp_send_challenge_ack(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
/* Whether an out-of-window answer may go now (both rate limits); counts it if so. */
bool tcp_oow_ack_allowed(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
/* Payload bytes per segment now: the MSS less the SACK blocks our ACKs carry. */
uint32_t tcp_data_mss(const struct tb_tcb *tp);
uint32_t tcp_rcv_window(const struct tb_tcb *tp);
uint32_t tcp_ts_now(const struct tb_tcb *tp, tb_time_ns now);
uint16_t tcp_mss_for_mtu(uint16_t mtu);
uint32_t tcp_flight(const struct tb_tcb *tp);

/* tcp_timer.c */
void tcp_timers_init(struct tb_tcb *tp);
void tcp_rack_timer_fired(struct tb_timer *t, tb_time_ns now, void *ctx);
void tcp_tlp_timer_fired(struct tb_timer *t, tb_time_ns now, void *ctx);
void tcp_timers_cancel(struct tb_stack *st, struct tb_tcb *tp);
void tcp_rexmt_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
void tcp_delack_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
void tcp_keep_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
void tcp_persist_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
void tcp_2msl_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now, tb_time_ns after_ns);
void tcp_rtt_sample(struct tb_tcb *tp, tb_time_ns rtt_ns);

/* tcp_reass.c */
void tcp_bufq_push(struct tcp_bufq *q, struct tb_buf *b);
struct tb_buf *tcp_bufq_pop(struct tcp_bufq *q);
void tcp_bufq_free(struct tcp_bufq *q);
/* Takes the payload in b (data at the payload, seq set) into the receive
 * side: in order, out of order, or dropped. Returns true if rcv_nxt moved. */
bool tcp_reass(struct tb_stack *st, struct tb_tcb *tp, struct tb_buf *b);
/* Notes a duplicate segment for a DSACK (RFC 2883 §4.1). */
void tcp_note_dsack(struct tb_tcb *tp, uint32_t seq, uint32_t end);
/* SACK blocks for our next ACK (RFC 2018 §4), a pending DSACK first. Returns the count. */
uint8_t tcp_sack_blocks(const struct tb_tcb *tp, struct tb_sack_block *out, uint8_t max);
/* Drops acknowledged data from the send queue. */
void tcp_sndq_ack(struct tb_tcb *tp, uint32_t data_acked);

/* tcp_sack.c: the scoreboard, SACK/DSACK intake, RFC 6675 recovery, RACK-TLP, undo. */
int tcp_segs_init(struct tb_stack *st);
void tcp_segs_free_all(struct tb_stack *st, struct tb_tcb *tp);
/* Records a data segment sent for the first time; false if no record is free. */
bool tcp_seg_sent_new(struct tb_stack *st, struct tb_tcb *tp, uint32_t seq, uint32_t end, bool fin, tb_time_ns now);
/* Notes a retransmission of [seq, end). */
void tcp_seg_sent_again(struct tb_stack *st, struct tb_tcb *tp, uint32_t seq, uint32_t end, tb_time_ns now);
/* Whole ACK processing for the sender's loss recovery: SACK blocks, DSACK,
 * the cumulative ACK, RACK, DupThresh, recovery entry and exit, PRR. Called
 * before the window update with the ACK's numbers. */
void tcp_sack_on_ack(struct tb_stack *st, struct tb_tcb *tp, const struct tb_tcp_repr *th, uint32_t acked_bytes,
                     bool is_dupack, tb_time_ns now);
/* RFC 6675 NextSeg rule 1: the first lost segment not yet sent again. */
bool tcp_sack_next_lost(const struct tb_stack *st, const struct tb_tcb *tp, uint32_t *seq, uint32_t *end);
/* RFC 6675 NextSeg rule 4: the rescue retransmission, once per episode. */
bool tcp_sack_rescue(struct tb_stack *st, struct tb_tcb *tp, uint32_t *seq, uint32_t *end);
/* RFC 6675 SetPipe. */
uint32_t tcp_pipe(const struct tb_stack *st, const struct tb_tcb *tp);
/* Splits the record holding `at` so a retransmission fits an MSS. */
void tcp_seg_split(struct tb_stack *st, struct tb_tcb *tp, uint32_t at);
/* Forgets the newest record (its segment could not be sent). */
void tcp_segs_drop_last(struct tb_stack *st, struct tb_tcb *tp);
/* Whether the record at seq is SACKed; *skip_to is where the SACKed run ends. */
bool tcp_seg_sacked_at(const struct tb_stack *st, const struct tb_tcb *tp, uint32_t seq, uint32_t *skip_to);
/* RTO: every unSACKed segment is lost (RFC 6675 §5.1). */
void tcp_sack_on_rto(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
/* After sending, (re)arms the tail loss probe (RFC 8985 §7). */
void tcp_tlp_arm(struct tb_stack *st, struct tb_tcb *tp, tb_time_ns now);
bool tcp_sack_check(const struct tb_stack *st, const struct tb_tcb *tp, const char **why);

/* tcp_cc.c: the engine's only way into the algorithm. */
const struct tcp_cc_algo *tcp_cc_lookup(uint8_t algo);
uint32_t tcp_initial_cwnd(const struct tb_stack *st, const struct tb_tcb *tp);
/* Initial window (RFC 6928) and ssthresh (RFC 5681 §3.1), then the algorithm's init. */
void tcp_cc_init(struct tb_stack *st, struct tb_tcb *tp);
void tcp_cc_ack(struct tb_tcb *tp, uint32_t acked_bytes, tb_time_ns now);
void tcp_cc_cong_signal(struct tb_tcb *tp, enum tcp_cong_signal sig, tb_time_ns now);
/* The same for a signal that an ACK brought about data it also retired: the
 * algorithm sees the flight the signal is about (at least flight_bytes),
 * not what the ACK left (RFC 5681 §3.1: FlightSize when the signal came). */
void tcp_cc_cong_signal_flight(struct tb_tcb *tp, enum tcp_cong_signal sig, tb_time_ns now, uint32_t flight_bytes);
void tcp_cc_post_recovery(struct tb_tcb *tp, bool sent_in_recovery, tb_time_ns now);
/* RFC 5681 §4.1: cuts cwnd to restart_bytes (if above) and tells the algorithm. */
bool tcp_cc_after_idle(struct tb_tcb *tp, uint32_t restart_bytes, tb_time_ns now);

#endif
