/* wire: pure parse and emit of Ethernet II, ARP, IPv4 and ICMP, and the
 * Internet checksum. No state, no allocation. Every parser checks bounds
 * before it reads and returns a named reason when it rejects a packet
 * (smoltcp's wire/ split: a representation struct, parse, emit). */
#ifndef TCPBED_WIRE_H
#define TCPBED_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcpbed/buf.h"

/* Why a parser refused its input. */
#define TB_WIRE_ERRORS(X)                                                   \
    X(OK, "ok")                                                             \
    X(TRUNCATED, "shorter than its header")                                 \
    X(ETH_RUNT, "ethernet frame shorter than 14 bytes")                     \
    X(ARP_BAD_HTYPE, "ARP hardware type is not Ethernet/6")                 \
    X(ARP_BAD_PTYPE, "ARP protocol type is not IPv4/4")                     \
    X(ARP_BAD_OP, "ARP operation is neither request nor reply")             \
    X(IP_BAD_VERSION, "IP version is not 4")                                \
    X(IP_BAD_IHL, "IPv4 header length below 20 bytes")                      \
    X(IP_IHL_BEYOND_PACKET, "IPv4 header length beyond the packet")         \
    X(IP_BAD_TOTAL_LEN, "IPv4 total length below header length")            \
    X(IP_TOTAL_LEN_BEYOND_FRAME, "IPv4 total length beyond the frame")      \
    X(IP_BAD_CHECKSUM, "IPv4 header checksum mismatch")                     \
    X(ICMP_BAD_CHECKSUM, "ICMP checksum mismatch")                          \
    X(ICMP_ERROR_TRUNCATED, "ICMP error quotes no IPv4 header + 8 bytes")  \
    X(TCP_BAD_DATA_OFFSET, "TCP data offset below 5 or beyond the segment") \
    X(TCP_BAD_CHECKSUM, "TCP checksum mismatch")                             \
    X(TCP_BAD_OPTION, "TCP option length malformed")

enum tb_wire_err {
#define TB_WIRE_ENUM(name, text) TB_WIRE_##name,
    TB_WIRE_ERRORS(TB_WIRE_ENUM)
#undef TB_WIRE_ENUM
    TB_WIRE__COUNT
};
const char *tb_wire_err_name(enum tb_wire_err err);   /* "IP_BAD_IHL" */
const char *tb_wire_err_text(enum tb_wire_err err);   /* human sentence */

/* ---- checksum (RFC 1071, RFC 1624) ------------------------------------ */
/* One's-complement sum of data folded to 16 bits, not inverted; `initial`
 * chains partial sums (pseudo-headers). Handles odd lengths and any alignment. */
uint32_t tb_csum_partial(const void *data, size_t len, uint32_t initial);
uint16_t tb_csum_fold(uint32_t sum);                  /* ~fold(sum) */
uint16_t tb_csum(const void *data, size_t len);        /* checksum field value */
/* RFC 1624 eqn. 3: new checksum after a 16-bit field changes old -> new. */
uint16_t tb_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);
uint16_t tb_csum_update32(uint16_t csum, uint32_t old_word, uint32_t new_word);

/* ---- byte order helpers (no unaligned access) -------------------------- */
static inline uint16_t tb_get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t tb_get32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void tb_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tb_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---- Ethernet II ------------------------------------------------------- */
#define TB_ETH_ADDR_LEN 6
#define TB_ETH_HDR_LEN 14
#define TB_ETH_MIN_FRAME 60        /* without FCS; shorter frames are padded */
#define TB_ETH_MAX_FRAME 1514      /* 1500-byte MTU, without FCS */
#define TB_ETHERTYPE_IPV4 0x0800
#define TB_ETHERTYPE_ARP 0x0806

struct tb_mac { uint8_t b[TB_ETH_ADDR_LEN]; };
extern const struct tb_mac tb_mac_broadcast;
static inline bool tb_mac_is_broadcast(const struct tb_mac *m) {
    return (m->b[0] & m->b[1] & m->b[2] & m->b[3] & m->b[4] & m->b[5]) == 0xff;
}
static inline bool tb_mac_is_multicast(const struct tb_mac *m) { return (m->b[0] & 1u) != 0; }
bool tb_mac_equal(const struct tb_mac *a, const struct tb_mac *b);

struct tb_eth_repr {
    struct tb_mac dst, src;
    uint16_t ethertype;
};
/* On success *payload_off = 14. 802.1Q tags are not understood: their
 * ethertype (0x8100) is reported as is. */
enum tb_wire_err tb_eth_parse(const uint8_t *p, size_t len, struct tb_eth_repr *r, size_t *payload_off);
void tb_eth_emit(const struct tb_eth_repr *r, uint8_t out[TB_ETH_HDR_LEN]);

/* ---- ARP (RFC 826), Ethernet/IPv4 only --------------------------------- */
#define TB_ARP_LEN 28
#define TB_ARP_OP_REQUEST 1
#define TB_ARP_OP_REPLY 2
struct tb_arp_repr {
    uint16_t op;
    struct tb_mac sha, tha;
    uint32_t spa, tpa;        /* host byte order */
};
enum tb_wire_err tb_arp_parse(const uint8_t *p, size_t len, struct tb_arp_repr *r);
void tb_arp_emit(const struct tb_arp_repr *r, uint8_t out[TB_ARP_LEN]);

/* ---- IPv4 (RFC 791) ---------------------------------------------------- */
#define TB_IPV4_HDR_LEN 20
#define TB_IPPROTO_ICMP 1
#define TB_IPPROTO_TCP 6
#define TB_IPPROTO_UDP 17
#define TB_IPV4_FLAG_DF 0x4000
#define TB_IPV4_FLAG_MF 0x2000
#define TB_IPV4_FRAG_OFF_MASK 0x1fff

struct tb_ipv4_repr {
    uint32_t src, dst;        /* host byte order */
    uint8_t protocol;
    uint8_t ttl;
    uint8_t tos;              /* DSCP + ECN */
    uint16_t ident;
    uint16_t flags_frag;      /* DF, MF and fragment offset (8-byte units) as on the wire */
    uint16_t header_len;      /* bytes, options included */
    uint16_t total_len;       /* header + payload, as on the wire */
};
static inline bool tb_ipv4_is_fragment(const struct tb_ipv4_repr *r) {
    return (r->flags_frag & (TB_IPV4_FLAG_MF | TB_IPV4_FRAG_OFF_MASK)) != 0;
}
static inline bool tb_ipv4_has_options(const struct tb_ipv4_repr *r) { return r->header_len > TB_IPV4_HDR_LEN; }

/* `len` may exceed total_len (Ethernet padding); the payload is
 * p[header_len .. total_len). The header checksum is verified. */
enum tb_wire_err tb_ipv4_parse(const uint8_t *p, size_t len, struct tb_ipv4_repr *r);
/* Emits a 20-byte header (options are never emitted) with its checksum;
 * r->header_len is ignored and r->total_len must include the 20 bytes. */
void tb_ipv4_emit(const struct tb_ipv4_repr *r, uint8_t out[TB_IPV4_HDR_LEN]);
/* Rewrites one field of a header in place (a router's TTL, a queue's ECN
 * mark) and patches its checksum incrementally (RFC 1624 eqn. 3): `p`
 * holds at least the 20-byte fixed header. */
void tb_ipv4_rewrite_ttl(uint8_t *p, uint8_t ttl);
void tb_ipv4_rewrite_tos(uint8_t *p, uint8_t tos);
/* Partial sum of the TCP/UDP pseudo-header (RFC 9293 §3.1). */
uint32_t tb_ipv4_pseudo_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t l4_len);

/* ---- ICMP (RFC 792) ---------------------------------------------------- */
#define TB_ICMP_HDR_LEN 8
#define TB_ICMP_ECHO_REPLY 0
#define TB_ICMP_DEST_UNREACH 3
#define TB_ICMP_ECHO_REQUEST 8
#define TB_ICMP_TIME_EXCEEDED 11
#define TB_ICMP_UNREACH_PROTOCOL 2
#define TB_ICMP_UNREACH_PORT 3
#define TB_ICMP_UNREACH_FRAG_NEEDED 4
#define TB_ICMP_TIME_EXCEEDED_REASS 1   /* fragment reassembly time exceeded (RFC 792) */

struct tb_icmp_repr {
    uint8_t type, code;
    uint16_t ident, seq;      /* echo request / reply */
    uint16_t next_hop_mtu;    /* dest-unreachable, fragmentation needed (RFC 1191) */
    const uint8_t *payload;   /* echo data, or the quoted datagram of an error */
    size_t payload_len;
};
/* Verifies the checksum over all `len` bytes. For destination-unreachable
 * and time-exceeded the quote must hold a header and 8 bytes
 * (tb_view_icmp_quote). */
enum tb_wire_err tb_icmp_parse(const uint8_t *p, size_t len, struct tb_icmp_repr *r);
/* Emits header + payload (r->payload may alias out+8) with its checksum;
 * out must hold 8 + payload_len bytes. Returns bytes written. */
size_t tb_icmp_emit(const struct tb_icmp_repr *r, uint8_t *out);

/* ---- TCP (RFC 9293 §3.1) and its options --------------------------------- */
#define TB_TCP_HDR_LEN 20
#define TB_TCP_MAX_OPT_LEN 40
#define TB_TCP_FIN 0x01
#define TB_TCP_SYN 0x02
#define TB_TCP_RST 0x04
#define TB_TCP_PSH 0x08
#define TB_TCP_ACK 0x10
#define TB_TCP_URG 0x20
#define TB_TCP_ECE 0x40
#define TB_TCP_CWR 0x80
#define TB_TCP_MAX_SACK_BLOCKS 4

#define TB_TCPOPT_EOL 0
#define TB_TCPOPT_NOP 1
#define TB_TCPOPT_MSS 2              /* RFC 9293 §3.2 */
#define TB_TCPOPT_WSCALE 3           /* RFC 7323 §2 */
#define TB_TCPOPT_SACK_PERMITTED 4   /* RFC 2018 §2 */
#define TB_TCPOPT_SACK 5             /* RFC 2018 §3 */
#define TB_TCPOPT_TIMESTAMP 8        /* RFC 7323 §3 */

struct tb_sack_block { uint32_t left, right; };

struct tb_tcp_opts {
    bool has_mss, has_wscale, sack_permitted, has_ts;
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count;
    struct tb_sack_block sack[TB_TCP_MAX_SACK_BLOCKS];
    uint8_t unknown_count;           /* options we skipped */
};

struct tb_tcp_repr {
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint8_t flags;                   /* TB_TCP_* */
    uint16_t window;                 /* as on the wire, unscaled */
    uint16_t urgent;
    uint16_t header_len;             /* bytes, options included */
    struct tb_tcp_opts opts;
    const uint8_t *payload;
    size_t payload_len;
};

/* Parses a whole segment (len = IP payload length) and verifies its checksum
 * against the pseudo-header of src/dst. Unknown options are skipped and
 * counted; an option whose length runs past the header is an error. */
enum tb_wire_err tb_tcp_parse(const uint8_t *p, size_t len, uint32_t src_ip, uint32_t dst_ip, struct tb_tcp_repr *r);
/* Option bytes r->opts needs, padded to a multiple of 4. */
size_t tb_tcp_opts_len(const struct tb_tcp_opts *o, uint8_t flags);
/* Emits the header with options into out (header_len computed from the
 * options); the checksum field is left 0. Returns the header length. */
size_t tb_tcp_emit_header(const struct tb_tcp_repr *r, uint8_t *out);
/* One's-complement partial sum of len bytes of a buffer chain from byte
 * `offset`, chained from `initial`; correct when segments have odd lengths
 * (RFC 1071 §2(B): a byte-swapped sum is the sum of byte-swapped data). */
uint32_t tb_csum_chain(const struct tb_buf *chain, size_t offset, size_t len, uint32_t initial);

/* ---- header views ---------------------------------------------------------
 * For code that looks at a frame it does not terminate: a link's fault
 * classifier, a router, the quote inside an ICMP error, the stack's own
 * output. A view checks bounds and the fields that say where the next
 * header starts, and nothing else: checksums are the receiver's business,
 * so they are reported, never verified. Pure functions, no allocation;
 * on error the view's contents are unspecified. The per-packet ones are
 * inline: the parsers below are these views plus verification, and a
 * link's classifier runs them on every frame. */

/* Byte offsets of the checksum fields, for code that writes or patches them. */
#define TB_IPV4_TOS_OFF 1          /* DSCP + ECN (RFC 3168 §5) */
#define TB_IPV4_CSUM_OFF 10
#define TB_ICMP_CSUM_OFF 2
#define TB_TCP_CSUM_OFF 16
#define TB_ICMP_QUOTE_DATA_LEN 8   /* RFC 792: an error quotes the IP header + 64 bits of data */

struct tb_eth_view {
    struct tb_mac dst, src;
    uint16_t ethertype;
    const uint8_t *payload;
    size_t payload_len;      /* everything after the header, padding included */
};
/* TB_WIRE_ETH_RUNT below 14 bytes. */
static inline enum tb_wire_err tb_view_eth(const uint8_t *f, size_t len, struct tb_eth_view *v) {
    if (len < TB_ETH_HDR_LEN) return TB_WIRE_ETH_RUNT;
    memcpy(v->dst.b, f, TB_ETH_ADDR_LEN);
    memcpy(v->src.b, f + 6, TB_ETH_ADDR_LEN);
    v->ethertype = tb_get16(f + 12);
    v->payload = f + TB_ETH_HDR_LEN;
    v->payload_len = len - TB_ETH_HDR_LEN;
    return TB_WIRE_OK;
}

struct tb_ipv4_view {
    uint8_t tos;             /* DSCP + ECN */
    uint8_t ecn;             /* tos & 3 (RFC 3168 §5) */
    uint16_t ident;
    uint16_t flags_frag;     /* as on the wire */
    uint16_t frag_offset;    /* bytes (the field counts 8-byte units) */
    bool df, mf;
    uint8_t ttl, protocol;
    uint16_t checksum;       /* as on the wire, not verified */
    uint32_t src, dst;       /* host byte order */
    uint16_t header_len;     /* bytes, options included */
    uint16_t total_len;      /* as on the wire */
    bool clamped;            /* total_len runs past the bytes present */
    const uint8_t *payload;  /* p[header_len .. min(total_len, len)) */
    size_t payload_len;
};
/* The fields, for a header whose length (header_len <= len) is known. */
static inline void tb_view_ipv4_fields(const uint8_t *p, size_t len, uint16_t header_len, struct tb_ipv4_view *v) {
    uint16_t total_len = tb_get16(p + 2);
    v->tos = p[1];
    v->ecn = p[1] & 3;
    v->total_len = total_len;
    v->header_len = header_len;
    v->ident = tb_get16(p + 4);
    v->flags_frag = tb_get16(p + 6);
    v->frag_offset = (uint16_t)((v->flags_frag & TB_IPV4_FRAG_OFF_MASK) * 8);
    v->df = (v->flags_frag & TB_IPV4_FLAG_DF) != 0;
    v->mf = (v->flags_frag & TB_IPV4_FLAG_MF) != 0;
    v->ttl = p[8];
    v->protocol = p[9];
    v->checksum = tb_get16(p + TB_IPV4_CSUM_OFF);
    v->src = tb_get32(p + 12);
    v->dst = tb_get32(p + 16);
    /* Ethernet padding may follow total_len; a cut datagram ends early. */
    size_t end = total_len >= header_len && total_len <= len ? total_len : len;
    v->clamped = total_len > len;
    v->payload = p + header_len;
    v->payload_len = end - header_len;
}
/* Checks version, IHL (RFC 791 §3.1) and total length >= IHL; a total
 * length beyond `len` is clamped to what is present (v->clamped), not an
 * error, since a quote or a truncating link cut the datagram short. */
static inline enum tb_wire_err tb_view_ipv4(const uint8_t *p, size_t len, struct tb_ipv4_view *v) {
    if (len < TB_IPV4_HDR_LEN) return TB_WIRE_TRUNCATED;
    if ((p[0] >> 4) != 4) return TB_WIRE_IP_BAD_VERSION;
    uint16_t header_len = (uint16_t)((p[0] & 0x0f) * 4);
    if (header_len < TB_IPV4_HDR_LEN) return TB_WIRE_IP_BAD_IHL;
    if (header_len > len) return TB_WIRE_IP_IHL_BEYOND_PACKET;
    if (tb_get16(p + 2) < header_len) return TB_WIRE_IP_BAD_TOTAL_LEN;
    tb_view_ipv4_fields(p, len, header_len, v);
    return TB_WIRE_OK;
}

struct tb_tcp_view {
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint8_t flags;           /* TB_TCP_* */
    uint16_t window;         /* unscaled */
    uint16_t checksum;       /* as on the wire, not verified */
    uint16_t urgent;
    uint16_t header_len;     /* data offset in bytes */
    const uint8_t *options;
    size_t options_len;
    const uint8_t *payload;
    size_t payload_len;
};
/* len is the TCP segment's length (an IPv4 view's payload_len). Returns
 * TB_WIRE_TRUNCATED below 20 bytes, TB_WIRE_TCP_BAD_DATA_OFFSET when the
 * data offset is below 5 words or beyond len. Options are not parsed. */
static inline enum tb_wire_err tb_view_tcp(const uint8_t *p, size_t len, struct tb_tcp_view *v) {
    if (len < TB_TCP_HDR_LEN) return TB_WIRE_TRUNCATED;
    uint16_t header_len = (uint16_t)((p[12] >> 4) * 4);
    if (header_len < TB_TCP_HDR_LEN || header_len > len) return TB_WIRE_TCP_BAD_DATA_OFFSET;
    v->src_port = tb_get16(p);
    v->dst_port = tb_get16(p + 2);
    v->seq = tb_get32(p + 4);
    v->ack = tb_get32(p + 8);
    v->flags = p[13];
    v->window = tb_get16(p + 14);
    v->checksum = tb_get16(p + TB_TCP_CSUM_OFF);
    v->urgent = tb_get16(p + 18);
    v->header_len = header_len;
    v->options = p + TB_TCP_HDR_LEN;
    v->options_len = header_len - TB_TCP_HDR_LEN;
    v->payload = p + header_len;
    v->payload_len = len - header_len;
    return TB_WIRE_OK;
}

/* The datagram an ICMP error quotes: its IPv4 header and, for TCP and UDP,
 * the ports and TCP's sequence number (all the 8 quoted bytes hold). */
struct tb_icmp_quote {
    struct tb_ipv4_view ip;  /* ip.clamped is normal: the quote is a prefix */
    uint16_t src_port, dst_port;   /* TCP or UDP, else 0 */
    uint32_t tcp_seq;              /* TCP, else 0 */
};
/* TB_WIRE_ICMP_ERROR_TRUNCATED unless q holds a header of at least 20
 * bytes (by its IHL) and 8 bytes after it. The quoted version and total
 * length are reported, not checked: a router may have rewritten them. */
enum tb_wire_err tb_view_icmp_quote(const uint8_t *q, size_t len, struct tb_icmp_quote *v);

struct tb_icmp_view {
    uint8_t type, code;
    uint16_t checksum;       /* as on the wire, not verified */
    uint16_t ident, seq;     /* echo request / reply, else 0 */
    uint16_t next_hop_mtu;   /* dest-unreachable, fragmentation needed (RFC 1191 §4), else 0 */
    const uint8_t *payload;  /* after the 8-byte header */
    size_t payload_len;
    bool has_quote;          /* dest-unreachable or time-exceeded: `quote` is valid */
    struct tb_icmp_quote quote;
};
/* TB_WIRE_TRUNCATED below 8 bytes; for dest-unreachable and time-exceeded
 * the quote must view (tb_view_icmp_quote). */
enum tb_wire_err tb_view_icmp(const uint8_t *p, size_t len, struct tb_icmp_view *v);

/* Every layer of an Ethernet frame that is present, in one call. */
#define TB_VIEW_ETH 0x01u
#define TB_VIEW_ARP 0x02u
#define TB_VIEW_IPV4 0x04u
#define TB_VIEW_TCP 0x08u
#define TB_VIEW_ICMP 0x10u
struct tb_frame_view {
    unsigned layers;         /* TB_VIEW_* of the headers that viewed */
    struct tb_eth_view eth;
    struct tb_arp_repr arp;  /* ARP carries no checksum: its parse is a view */
    struct tb_ipv4_view ip;
    struct tb_tcp_view tcp;
    struct tb_icmp_view icmp;
    size_t ip_off;           /* frame offset of the IPv4 header (TB_VIEW_IPV4) */
    size_t l4_off;           /* frame offset of the TCP or ICMP header */
};
/* Views Ethernet, then ARP or IPv4, then TCP or ICMP. Returns TB_WIRE_OK
 * when every layer it understands viewed (an unknown ethertype or protocol
 * simply ends the walk), else the first layer's error with the outer
 * layers filled in. Only a datagram's first fragment (offset 0) has its
 * transport header viewed: later fragments carry no header. */
enum tb_wire_err tb_view_frame(const uint8_t *f, size_t len, struct tb_frame_view *v);

#endif
