/* harness/peer: a scripted remote TCP. It crafts the frames a remote host
 * would send to the stack (Ethernet + IPv4 + TCP with correct checksums and
 * any options, ICMP errors quoting a segment, ARP), and decodes what the
 * stack sends back, learning the stack's sequence state from it the way a
 * remote TCP tracks its peer (RFC 9293 §3.3.1).
 *
 * The peer never drives the stack: it fills caller buffers and reads
 * frames it is given; its driver (a unit test, a fuzz runner, a script
 * checker) delivers them to a stack, through a host or directly in a unit
 * test, and hands back what the stack sent. It depends on the public
 * tcpbed/ headers and libc only.
 *
 * Every builder takes the output buffer's capacity and returns the frame
 * length, or 0 when the frame would not fit (nothing past cap is written). */
#ifndef TB_HARNESS_PEER_H
#define TB_HARNESS_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/wire.h"

/* ---- the payload pattern -------------------------------------------------- */

/* The peer's payload bytes are a function of their sequence number, so the
 * receiving application can check every byte it reads. */
uint8_t tb_peer_pat(uint32_t seq);
void tb_peer_fill_pat(uint8_t *out, size_t len, uint32_t first_seq);
/* Index of the first byte that is not the pattern from first_seq, or len
 * when all are. */
size_t tb_peer_find_pat_mismatch(const uint8_t *p, size_t len, uint32_t first_seq);

/* ---- the host: link and network identity ------------------------------------ */

/* The remote machine: its addresses, the stack's, and how it fills IPv4
 * headers. Connections (struct tb_peer) of one host share its IPv4
 * identification counter, as a real host's datagrams do. */
struct tb_peer_host {
    struct tb_mac mac, stack_mac;
    uint32_t ip, stack_ip;          /* host byte order */
    uint8_t ttl;
    uint16_t ip_flags;              /* TB_IPV4_FLAG_DF or 0 */
    uint16_t next_ip_ident;         /* identification of the next datagram */
};

/* TTL 64, DF clear, identification from 0. */
void tb_peer_host_init(struct tb_peer_host *h, const struct tb_mac *mac, uint32_t ip, const struct tb_mac *stack_mac,
                       uint32_t stack_ip);

/* Ethernet II from the host to the stack around `payload`, exactly as long
 * as given: no padding, so a driver can send runts on purpose. payload
 * NULL (with payload_len 0) writes the header alone. */
size_t tb_peer_build_eth(const struct tb_peer_host *h, uint16_t ethertype, const uint8_t *payload, size_t payload_len,
                         uint8_t *out, size_t cap);
/* Ethernet + a 20-byte IPv4 header from src_ip (usually h->ip; a router's
 * address for ICMP errors) to the stack around an L4 payload, padded to
 * the 60-byte Ethernet minimum. Takes one identification value. */
size_t tb_peer_build_ipv4(struct tb_peer_host *h, uint32_t src_ip, uint8_t protocol, const uint8_t *l4, size_t l4_len,
                          uint8_t *out, size_t cap);

/* An ARP packet (RFC 826) in an Ethernet frame from a->sha to eth_dst,
 * padded to 60 bytes. */
size_t tb_peer_build_arp(const struct tb_arp_repr *a, const struct tb_mac *eth_dst, uint8_t *out, size_t cap);
/* "Who has stack_ip? Tell ip", broadcast: how a host introduces itself. */
size_t tb_peer_build_arp_request(const struct tb_peer_host *h, uint8_t *out, size_t cap);
/* "ip is at mac", unicast to the stack: the answer to its request. */
size_t tb_peer_build_arp_reply(const struct tb_peer_host *h, uint8_t *out, size_t cap);

/* Any ICMP message (checksum computed) from src_ip. */
size_t tb_peer_build_icmp(struct tb_peer_host *h, uint32_t src_ip, const struct tb_icmp_repr *icmp, uint8_t *out,
                          size_t cap);
/* An ICMP error (destination unreachable, time exceeded, ...) quoting
 * `quote` (RFC 792: the offending datagram's IP header + 8 bytes). */
size_t tb_peer_build_icmp_error(struct tb_peer_host *h, uint32_t src_ip, uint8_t type, uint8_t code,
                                uint16_t next_hop_mtu, const uint8_t *quote, size_t quote_len, uint8_t *out,
                                size_t cap);
/* The 28-byte quote of a TCP segment the stack sent (IP header with TTL 1,
 * ports, sequence number), for ICMP errors about segments not at hand. */
#define TB_PEER_QUOTE_LEN (TB_IPV4_HDR_LEN + 8)
void tb_peer_quote_tcp(const struct tb_peer_host *h, uint16_t stack_port, uint16_t peer_port, uint32_t seq,
                       uint8_t out[TB_PEER_QUOTE_LEN]);

/* ---- TCP options as bytes, in any order ----------------------------------------- */

/* An option list written in the order given (a packetdrill line's
 * `<mss 1460,sackOK,nop,nop,TS val 1 ecr 0,nop,wscale 7>`). A write that
 * does not fit sets `overflow` and writes nothing. */
struct tb_peer_opt_bytes {
    uint8_t b[TB_TCP_MAX_OPT_LEN];
    size_t len;
    bool overflow;
};
void tb_peer_opt_eol(struct tb_peer_opt_bytes *o);
void tb_peer_opt_nop(struct tb_peer_opt_bytes *o);
void tb_peer_opt_mss(struct tb_peer_opt_bytes *o, uint16_t mss);                 /* RFC 9293 §3.2 */
void tb_peer_opt_wscale(struct tb_peer_opt_bytes *o, uint8_t shift);             /* RFC 7323 §2 */
void tb_peer_opt_sack_permitted(struct tb_peer_opt_bytes *o);                    /* RFC 2018 §2 */
void tb_peer_opt_sack(struct tb_peer_opt_bytes *o, const struct tb_sack_block *blocks, size_t count); /* §3 */
void tb_peer_opt_timestamp(struct tb_peer_opt_bytes *o, uint32_t ts_val, uint32_t ts_ecr);            /* RFC 7323 §3 */
void tb_peer_opt_raw(struct tb_peer_opt_bytes *o, const uint8_t *bytes, size_t len);

/* ---- one connection: the peer's view of both sequence spaces --------------------- */

struct tb_peer {
    struct tb_peer_host *host;
    uint16_t port, stack_port;
    /* The peer's own sequence space. */
    uint32_t isn;
    uint32_t snd_nxt;               /* next new sequence number; the driver advances it */
    uint32_t snd_max;               /* end of the highest segment built (SYN and FIN count) */
    uint32_t ack_max;               /* highest acknowledgment built; 0 before any */
    uint16_t window;                /* the window field it advertises */
    uint32_t ts_val;                /* its timestamp clock: the last TSval it sent */
    bool ts_on;                     /* timestamps agreed (RFC 7323 §3.2): the driver sets it */
    /* The stack's sequence space, learnt from what it sends. */
    bool have_stack_isn;
    uint32_t stack_isn;             /* from its SYN or SYN-ACK */
    uint32_t rcv_nxt;               /* what the peer acknowledges: stack_isn + 1 after the
                                     * SYN; the driver moves it past what it accepts */
    bool have_stack_max;
    uint32_t stack_snd_max;         /* end of the highest non-RST segment it sent */
    bool have_stack_ack;
    uint32_t stack_ack;             /* its last ACK: its RCV.NXT */
    uint16_t stack_window;          /* its last window field, unscaled */
    bool ts_seen;
    uint32_t ts_recent;             /* its last TSval, the peer's next TSecr */
    bool have_stack_syn_opts;
    struct tb_tcp_opts stack_syn_opts;   /* what its SYN offered: MSS, wscale, sackOK, TS */
};

/* A connection of host h from port to the stack's stack_port with the
 * peer's ISN isn: snd_nxt = snd_max = isn, window 65535, ts_val 1000,
 * nothing learnt. */
void tb_peer_init(struct tb_peer *p, struct tb_peer_host *host, uint16_t port, uint16_t stack_port, uint32_t isn);

/* One segment the peer sends. */
struct tb_peer_seg {
    uint8_t flags;                  /* TB_TCP_* */
    uint32_t seq, ack;
    uint16_t window, urgent;
    struct tb_tcp_opts opts;        /* emitted by tb_tcp_emit_header, unless raw_opts */
    const uint8_t *raw_opts;        /* option bytes as given (at most 40), zero-padded to 4 */
    size_t raw_opts_len;
    const uint8_t *payload;         /* NULL: the peer's pattern from the first data sequence number */
    size_t payload_len;
    bool bad_checksum;              /* flip a checksum bit: a segment the stack must drop */
};

/* The timestamp option a connection sends now (RFC 7323 §3.2): the next
 * TSval, and the stack's last TSval as TSecr (0 before any). */
void tb_peer_ts_opts(struct tb_peer *p, struct tb_tcp_opts *o);

/* Ethernet + IPv4 + TCP from p's host and port to the stack, padded to 60
 * bytes; raises snd_max and ack_max past what it carries. */
size_t tb_peer_build_tcp(struct tb_peer *p, const struct tb_peer_seg *s, uint8_t *out, size_t cap);
/* Sets the TCP checksum of seg (the field at offset 16) over the IPv4
 * pseudo-header of src/dst (RFC 9293 §3.1), for hand-made headers. */
void tb_peer_tcp_checksum(uint8_t *seg, size_t seg_len, uint32_t src, uint32_t dst);

/* ---- what the stack sends -------------------------------------------------------- */

/* The deepest layer a frame was decoded to. */
enum tb_peer_layer { TB_PEER_ETH, TB_PEER_ARP, TB_PEER_IPV4, TB_PEER_ICMP, TB_PEER_TCP };

struct tb_peer_frame {
    enum tb_peer_layer layer;
    enum tb_wire_err err;           /* TB_WIRE_OK, or why `layer` did not parse */
    struct tb_eth_repr eth;         /* valid unless layer == ETH with an error */
    struct tb_arp_repr arp;         /* layer ARP */
    struct tb_ipv4_repr ip;         /* layers IPV4 (when it parsed), ICMP, TCP */
    struct tb_icmp_repr icmp;       /* layer ICMP; payload points into the frame */
    struct tb_tcp_repr tcp;         /* layer TCP; payload points into the frame */
};

/* Parses Ethernet, then ARP or IPv4, then ICMP or TCP (every checksum
 * verified) with the wire/ parsers. Returns f->err. IPv4 of another
 * protocol and other ethertypes stop with TB_WIRE_OK at IPV4 / ETH. */
enum tb_wire_err tb_peer_decode(const uint8_t *frame, size_t len, struct tb_peer_frame *f);
/* A TCP frame that parsed and is addressed to this connection. */
bool tb_peer_is_for(const struct tb_peer *p, const struct tb_peer_frame *f);

/* Learns from a segment the stack sent on this connection: its ISN, its
 * SYN's options and rcv_nxt from a SYN; its highest sequence number (RST
 * aside), its acknowledgment, its window and its TSval. */
void tb_peer_learn(struct tb_peer *p, const struct tb_tcp_repr *th);

/* ---- expectations ---------------------------------------------------------------- */

/* Which fields of struct tb_peer_expect are checked. */
enum {
    TB_PEER_CHECK_FLAGS = 1u << 0,
    TB_PEER_CHECK_SEQ = 1u << 1,
    TB_PEER_CHECK_ACK = 1u << 2,
    TB_PEER_CHECK_WIN = 1u << 3,
    TB_PEER_CHECK_LEN = 1u << 4,
    TB_PEER_CHECK_PORTS = 1u << 5,
};
/* Options by kind, for the present/absent masks. */
enum {
    TB_PEER_OPT_MSS = 1u << 0,
    TB_PEER_OPT_WSCALE = 1u << 1,
    TB_PEER_OPT_SACK_PERMITTED = 1u << 2,
    TB_PEER_OPT_TIMESTAMP = 1u << 3,
    TB_PEER_OPT_SACK = 1u << 4,
};

struct tb_peer_expect {
    unsigned check;                 /* TB_PEER_CHECK_* */
    uint8_t flags;                  /* exactly these (TB_PEER_CHECK_FLAGS) */
    uint8_t flags_required;         /* always: these must be set, others may be */
    uint32_t seq, ack;
    uint16_t window;
    size_t payload_len;
    uint16_t src_port, dst_port;    /* the stack's, the peer's */
    unsigned opts_present, opts_absent;   /* TB_PEER_OPT_* */
};

/* NULL when th matches want; otherwise a sentence in buf (always
 * terminated) naming the first mismatch and what the segment was. */
const char *tb_peer_expect(const struct tb_tcp_repr *th, const struct tb_peer_expect *want, char *buf, size_t buf_len);
/* The segment in one line ("flags S. seq 1 ack 2 win 65535 len 0 <mss 1460,TS>"). */
void tb_peer_describe(const struct tb_tcp_repr *th, char *buf, size_t buf_len);

#endif
