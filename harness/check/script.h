/* harness/check: the packetdrill script language, front end. A .pkt file
 * (its bytes and its name) becomes an in-memory tree: option lines, then
 * events (packets, system calls, shell commands, constructs tcpbed will not
 * run), each node with the source line it came from. Nothing is executed.
 *
 * Every size is bounded (struct tb_script_limits); every node lives in one
 * arena owned by the script, whose total is bounded too, so a hostile file
 * ends in an error, never in a crash or an unbounded allocation. No global
 * state: two scripts may be parsed at once from two threads.
 *
 * Two outcomes besides success:
 *  - a syntax error: `FILE:LINE: expected X, got 'Y'` (or another sentence
 *    naming the line), and no tree;
 *  - constructs the language has but tcpbed does not run (Python blocks,
 *    IPv6, UDP, MD5 and unknown TCP options, encapsulation): the tree is
 *    built and each is listed in `unsupported` as
 *    `unsupported: FILE:LINE: construct`, so the checker skips the script
 *    instead of passing it. */
#ifndef TB_HARNESS_CHECK_SCRIPT_H
#define TB_HARNESS_CHECK_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bounds ------------------------------------------------------------------ */

struct tb_script_limits {
    size_t max_input_bytes;     /* the whole file */
    size_t max_lines;
    size_t max_line_bytes;      /* one physical line, newline excluded */
    size_t max_events;
    size_t max_options;         /* --flag lines */
    size_t max_string_bytes;    /* a string, a shell command, a Python block, a note */
    size_t max_tcp_options;     /* entries in one <...> list */
    size_t max_call_args;       /* arguments of one call, items of one [..] or {..} */
    size_t max_expr_depth;      /* nesting of [..], {..}, f(..) and operators */
    size_t max_unsupported;     /* notes kept; more are counted, not kept */
    size_t max_arena_bytes;     /* every node and string of the tree */
};

/* Bounds that hold every public suite with room to spare: 16 MiB, 1 Mi
 * lines of at most 64 KiB, 256 Ki events, 4 KiB strings, 40 TCP options,
 * 64 arguments, depth 32, a 256 MiB arena. */
void tb_script_limits_default(struct tb_script_limits *limits);

/* ---- time -------------------------------------------------------------------- */

enum tb_script_time_kind {
    TB_SCRIPT_TIME_NONE,             /* no time column (a shell line, an init command) */
    TB_SCRIPT_TIME_ABSOLUTE,         /* 0.100 */
    TB_SCRIPT_TIME_RELATIVE,         /* +0.1: after the previous event */
    TB_SCRIPT_TIME_ANY,              /* *: outbound packets only */
    TB_SCRIPT_TIME_ABSOLUTE_RANGE,   /* 0.1~0.2: outbound packets only */
    TB_SCRIPT_TIME_RELATIVE_RANGE,   /* +0.1~+0.2: outbound packets only */
};

/* Seconds as written, kept exactly in nanoseconds (at most 9 decimals). */
struct tb_script_time {
    enum tb_script_time_kind kind;
    int64_t start_ns;
    int64_t end_ns;                  /* ranges only; >= start_ns */
};

/* ---- expressions (system call arguments and results) -------------------------- */

enum tb_script_expr_kind {
    TB_SCRIPT_EXPR_ELLIPSIS,         /* ... : anything, or "the stack's own" */
    TB_SCRIPT_EXPR_INTEGER,          /* 3, -1, 0x10 */
    TB_SCRIPT_EXPR_STRING,           /* "reno", "abc"... */
    TB_SCRIPT_EXPR_SYMBOL,           /* SOL_SOCKET, O_NONBLOCK, POLLIN, AF_INET */
    TB_SCRIPT_EXPR_ARRAY,            /* [1000], [{fd=3, events=POLLIN}] */
    TB_SCRIPT_EXPR_STRUCT,           /* {sa_family=AF_INET, sin_port=htons(8080), ...} */
    TB_SCRIPT_EXPR_CALL,             /* htons(8080), inet_addr("192.0.2.1"), msg_iov(1) */
    TB_SCRIPT_EXPR_BINARY,           /* a|b, field=value */
};

struct tb_script_expr {
    enum tb_script_expr_kind kind;
    unsigned line;
    union {
        struct {
            int64_t value;
            bool hex;                /* written 0x..., printed so */
        } integer;
        struct {
            const char *text;        /* as written between the quotes (escapes kept), NUL-terminated */
            size_t len;
            bool then_ellipsis;      /* "abc"... */
        } string;
        const char *symbol;
        struct {                     /* ARRAY, STRUCT, and CALL's arguments */
            const char *name;        /* CALL only */
            struct tb_script_expr **items;
            size_t count;
        } list;
        struct {
            char op;                 /* '|' or '=' */
            struct tb_script_expr *lhs, *rhs;
        } binary;
    } u;
};

/* ---- packets ----------------------------------------------------------------- */

enum tb_script_direction {
    TB_SCRIPT_INBOUND,               /* <  injected into the stack */
    TB_SCRIPT_OUTBOUND,              /* >  expected from the stack */
};

enum tb_script_ecn {
    TB_SCRIPT_ECN_UNCHECKED,         /* no annotation */
    TB_SCRIPT_ECN_NOT_ECT,           /* [noecn] */
    TB_SCRIPT_ECN_ECT0,              /* [ect0] */
    TB_SCRIPT_ECN_ECT1,              /* [ect1] */
    TB_SCRIPT_ECN_ECT01,             /* [ect01]: either, outbound only */
    TB_SCRIPT_ECN_CE,                /* [ce] */
};

/* The IP-level annotation in [..] or (..) after the direction. */
struct tb_script_ip_info {
    enum tb_script_ecn ecn;
    bool has_tos, has_ttl, has_flow_label;  /* flow label is IPv6: unsupported */
    uint8_t tos, ttl;
    uint32_t flow_label;
    bool in_parens;                  /* written (...) rather than [...] */
};

#define TB_SCRIPT_TCP_FIN 0x01u
#define TB_SCRIPT_TCP_SYN 0x02u
#define TB_SCRIPT_TCP_RST 0x04u
#define TB_SCRIPT_TCP_PSH 0x08u
#define TB_SCRIPT_TCP_ACK 0x10u      /* written '.' */
#define TB_SCRIPT_TCP_URG 0x20u
#define TB_SCRIPT_TCP_ECE 0x40u      /* E */
#define TB_SCRIPT_TCP_CWR 0x80u      /* W */

enum tb_script_tcp_option_kind {
    TB_SCRIPT_OPT_NOP,
    TB_SCRIPT_OPT_EOL,
    TB_SCRIPT_OPT_MSS,
    TB_SCRIPT_OPT_WSCALE,
    TB_SCRIPT_OPT_SACK_PERMITTED,    /* sackOK */
    TB_SCRIPT_OPT_SACK,              /* sack a:b c:d */
    TB_SCRIPT_OPT_TIMESTAMP,         /* TS val x ecr y */
    TB_SCRIPT_OPT_MD5,               /* md5 HEX: unsupported */
    TB_SCRIPT_OPT_FAST_OPEN,         /* FO [cookie], FOEXP [cookie]: unsupported */
    TB_SCRIPT_OPT_UNKNOWN,           /* anything else, kept as text: unsupported */
};

#define TB_SCRIPT_MAX_SACK_BLOCKS 4  /* 40 option bytes hold no more */

struct tb_script_tcp_option {
    enum tb_script_tcp_option_kind kind;
    unsigned line;
    union {
        uint16_t mss;
        uint8_t wscale;
        struct {
            uint32_t val, ecr;
        } timestamp;
        struct {
            size_t count;
            struct {
                uint32_t left, right;   /* relative, as written */
            } blocks[TB_SCRIPT_MAX_SACK_BLOCKS];
        } sack;
        struct {
            const char *keyword;     /* "md5", "FO", "FOEXP" */
            const char *hex;         /* the digest or cookie, "" when none */
        } blob;
        const char *text;            /* UNKNOWN: the option as written */
    } u;
};

struct tb_script_tcp {
    uint8_t flags;                   /* TB_SCRIPT_TCP_*; 0 is written '-' */
    bool has_ports;                  /* 8080>50000 before the flags */
    uint16_t src_port, dst_port;
    uint32_t seq_start, seq_end;     /* seq_end == seq_start + payload_len */
    uint16_t payload_len;
    bool has_ack, has_win, has_urg;
    uint32_t ack;
    uint16_t win, urg;
    bool options_any;                /* <...>: options not checked (outbound only) */
    struct tb_script_tcp_option *options;  /* empty without <..>: no options */
    size_t option_count;
};

struct tb_script_udp {               /* unsupported */
    bool has_ports;
    uint16_t src_port, dst_port;
    uint16_t payload_len;
};

enum tb_script_icmp_quote {
    TB_SCRIPT_ICMP_QUOTE_DEFAULT,    /* no [..]: a TCP segment 0:0(0) */
    TB_SCRIPT_ICMP_QUOTE_TCP,        /* [1:1001(1000)] */
    TB_SCRIPT_ICMP_QUOTE_UDP,        /* [udp (100)] */
    TB_SCRIPT_ICMP_QUOTE_RAW,        /* [raw (100)] */
};

struct tb_script_icmp {
    const char *type;                /* unreachable, time_exceeded, echo_request, ... */
    const char *code;                /* frag_needed, port_unreachable, ...; NULL when absent */
    bool has_mtu, has_id;
    uint32_t mtu;
    uint16_t id;
    enum tb_script_icmp_quote quote;
    uint32_t quote_seq_start, quote_seq_end;
    uint16_t quote_len;
};

enum tb_script_packet_kind {
    TB_SCRIPT_PACKET_TCP,
    TB_SCRIPT_PACKET_UDP,
    TB_SCRIPT_PACKET_ICMP,
};

struct tb_script_packet {
    enum tb_script_direction direction;
    struct tb_script_ip_info ip;
    enum tb_script_packet_kind kind;
    union {
        struct tb_script_tcp tcp;
        struct tb_script_udp udp;
        struct tb_script_icmp icmp;
    } u;
};

/* ---- system calls ---------------------------------------------------------------- */

struct tb_script_call {
    const char *name;                /* any word: unknown calls are the checker's business */
    struct tb_script_time end;       /* 0.1...0.2 name(): when a blocking call returns; NONE otherwise */
    struct tb_script_expr **args;
    size_t arg_count;
    struct tb_script_expr *result;
    const char *errno_name;          /* EAGAIN, or NULL */
    const char *note;                /* the (text) after it, or NULL */
};

/* ---- events and the script ------------------------------------------------------- */

enum tb_script_event_kind {
    TB_SCRIPT_EVENT_PACKET,
    TB_SCRIPT_EVENT_CALL,
    TB_SCRIPT_EVENT_SHELL,           /* `command`: never executed */
    TB_SCRIPT_EVENT_UNSUPPORTED,     /* %{ python }%, or a line skipped whole (IPv6, GRE, MPLS) */
};

struct tb_script_event {
    enum tb_script_event_kind kind;
    unsigned line;                   /* of its first token */
    struct tb_script_time time;
    union {
        struct tb_script_packet packet;
        struct tb_script_call call;
        struct {
            const char *command;     /* between the backquotes */
        } shell;
        struct {
            const char *construct;   /* what it is, for the note */
            const char *text;        /* the code between %{ }%, or the source line */
            bool is_code;            /* %{ }%: printed with its delimiters */
        } unsupported;
    } u;
};

/* --name or --name=value before the first event. */
struct tb_script_option {
    const char *name;                /* without the dashes */
    const char *value;               /* NULL for a bare --name */
    unsigned line;
};

struct tb_script_note {
    unsigned line;
    const char *construct;
};

struct tb_script_arena;

struct tb_script {
    const char *file_name;
    struct tb_script_option *options;
    size_t option_count;
    struct tb_script_event *events;
    size_t event_count;
    struct tb_script_note *unsupported;    /* in line order */
    size_t unsupported_count;               /* kept */
    size_t unsupported_total;               /* seen, including those beyond the bound */
    struct tb_script_arena *arena;          /* owns every node and string above */
};

enum tb_script_status {
    TB_SCRIPT_OK,
    TB_SCRIPT_SYNTAX_ERROR,          /* the language does not allow this text */
    TB_SCRIPT_TOO_BIG,               /* a bound of struct tb_script_limits */
    TB_SCRIPT_NO_MEMORY,
};

struct tb_script_error {
    enum tb_script_status status;
    unsigned line;                   /* 0 when not about a line */
    char message[384];               /* FILE:LINE: ... */
};

/* Parses len bytes named file_name (used in messages; copied). limits NULL
 * means tb_script_limits_default. Returns the tree, or NULL with err
 * filled (err may be NULL). */
struct tb_script *tb_script_parse(const char *file_name, const char *bytes, size_t len,
                                  const struct tb_script_limits *limits, struct tb_script_error *err);
void tb_script_free(struct tb_script *script);

/* "unsupported: FILE:LINE: construct" for note i. */
size_t tb_script_format_note(const struct tb_script *script, size_t i, char *out, size_t cap);

/* ---- printing in packetdrill notation -------------------------------------------------
 * Each writes at most cap-1 bytes and a NUL, and returns the length the
 * whole text needs (as snprintf does), so a caller can tell truncation.
 * What they print parses back to the same tree. */

size_t tb_script_format_time(const struct tb_script_time *t, char *out, size_t cap);
size_t tb_script_format_expr(const struct tb_script_expr *e, char *out, size_t cap);
/* "< S 0:0(0) win 32792 <mss 1000,nop,wscale 7>", no time column. */
size_t tb_script_format_packet(const struct tb_script_packet *p, char *out, size_t cap);
/* The event on one line with its time column, as a script would have it. */
size_t tb_script_format_event(const struct tb_script_event *ev, char *out, size_t cap);
size_t tb_script_format_option(const struct tb_script_option *opt, char *out, size_t cap);

#endif
