/* harness/check: the interpreter (run.h). One script, one host over the
 * script port, virtual time only. */
#include "harness/check/linux.h"
#include "harness/check/run.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/host/host.h"
#include "harness/peer/peer.h"
#include "tcpbed/buf.h"
#include "tcpbed/wire.h"
#include "traces/pcap_writer.h"

#define MAX_FDS 64
#define MAX_FLOWS 256
#define IO_CHUNK (INT64_C(1) << 20)   /* bytes one read or write hands the stack at once */
#define MAX_OUT 256                /* outbound segments not yet matched */
#define FRAME_CAP 1600
#define MAX_TS_MAP 64
#define FIRST_FD 3
#define NS_PER_US INT64_C(1000)

static const struct tb_mac mac_stack = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct tb_mac mac_remote = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

/* ---- state ---------------------------------------------------------------- */

enum fd_kind { FD_SOCKET, FD_LISTENER, FD_CONN, FD_EPOLL };

#define MAX_POLL 16                /* pollfds per poll, watched fds per epoll instance */

enum sockopt_kind { SO_K_NODELAY, SO_K_SNDBUF, SO_K_RCVBUF, SO_K_MAXSEG, SO_K_KEEPALIVE, SO_K_KEEPIDLE,
                   SO_K_KEEPINTVL, SO_K_KEEPCNT, SO_K__COUNT };

struct sockopts {                  /* as the script set them, in the socket's own units */
    bool has[SO_K__COUNT];
    int64_t val[SO_K__COUNT];
    bool reuseaddr;
    bool linger_on;                /* SO_LINGER: l_onoff, l_linger (seconds) */
    int64_t linger_s;
};

struct fd_ent {
    bool used;
    enum fd_kind kind;
    int32_t handle;
    bool nonblock;
    uint16_t bound_port;           /* 0: not bound */
    int flow;                      /* FD_CONN: its flow */
    int64_t so_error;              /* errno value SO_ERROR reports (once) */
    bool error_reported;           /* the connection's error went out (SO_ERROR or a call): reads see EOF now */
    bool rd_shut;                  /* shutdown(SHUT_RD): reads see EOF once the queue is empty */
    bool connect_reported;         /* a connect after the open completed returned 0 once */
    struct sockopts so;
    size_t nwatch;                 /* FD_EPOLL: its interest list, in the order added */
    struct {
        int fd;
        uint32_t events;
    } watch[MAX_POLL];
};

/* One 4-tuple as the script sees it. */
struct flow {
    bool used;
    uint16_t rport, sport;         /* the script's, the stack's */
    bool sport_known;
    bool have_stack_isn;
    uint32_t stack_isn;
    struct tb_peer peer;
};

struct out_pkt {
    tb_time_ns t;
    size_t len;
    uint8_t frame[FRAME_CAP];
};

enum pend_kind { PEND_NONE, PEND_ACCEPT, PEND_CONNECT, PEND_READ, PEND_WRITE, PEND_POLL, PEND_CLOSE };

/* A poll or epoll_wait: the fds asked about and, once it returned, what they showed. */
struct poll_set {
    bool epoll;
    int epfd;                      /* epoll_wait: the instance */
    size_t n;
    struct {
        int fd;
        uint32_t events;           /* asked for */
        uint32_t revents;          /* got (poll: each entry; epoll: the ready ones, in order) */
    } e[MAX_POLL];
    size_t nready;
    tb_time_ns deadline;           /* it returns 0 then; TB_TIME_NEVER: waits forever */
};

struct pending {
    enum pend_kind kind;
    const struct tb_script_event *ev;
    int fd;
    int64_t want;                  /* bytes asked for (read/write) */
    int64_t done;                  /* written so far */
    tb_time_ns started;
    tb_time_ns end_base;           /* script time an `a...b` end counts from (packetdrill: the start's base) */
    tb_time_ns linger_until;       /* PEND_CLOSE: when a lingering close gives up waiting */
    struct poll_set ps;            /* PEND_POLL */
};

struct ctx {
    const struct tb_script *s;
    const struct tb_check_opts *o;
    struct tb_config cfg;
    struct tb_host *h;
    struct tb_peer_host rhost;
    struct tb_pcap_writer *pcap;
    tb_time_ns now;                /* virtual */
    int64_t tol;
    uint32_t local_ip, remote_ip, remote_isn;
    uint16_t default_port;         /* the last bound or listening port */

    const uint8_t *rx_frame;       /* the frame rx_burst hands in next */
    size_t rx_len;
    bool arp_reply_due;            /* the stack asked for the script's address */
    uint8_t *zeros;                /* what writes send (IO_CHUNK zero bytes, allocated on the first) */

    struct out_pkt *out;           /* a ring of MAX_OUT */
    size_t out_head, out_count;

    struct fd_ent fds[MAX_FDS];
    struct flow flows[MAX_FLOWS];
    struct {
        uint32_t script, live;
    } ts_map[MAX_TS_MAP];
    size_t ts_map_next;

    int cur;                       /* the flow packet lines without ports are about; -1: the listener's */
    struct pending pend;
    uint8_t *io;                   /* where reads land (IO_CHUNK bytes, allocated on the first) */
    tb_time_ns base;               /* script time the next relative time counts from */
    tb_time_ns call_base;          /* the base the call being made had its time from (0: absolute) */
    tb_time_ns last_sched;         /* the previous event's scripted time (time never goes backward) */

    enum tb_check_outcome result;
    bool done;                     /* failed or skipped: stop */
    char *msg;
    size_t msg_len;
    size_t warn_len;               /* warnings written so far (a pass keeps them) */
};

/* ---- messages -------------------------------------------------------------- */

static void set_msg(struct ctx *c, enum tb_check_outcome r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(struct ctx *c, enum tb_check_outcome r, const char *fmt, ...) {
    if (c->done) return;
    c->done = true;
    c->result = r;
    if (c->msg_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, c->msg_len, fmt, ap);
    va_end(ap);
}

/* Appends to the message set by set_msg (packets printed under it). */
static void add_msg(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_msg(struct ctx *c, const char *fmt, ...) {
    if (c->msg_len == 0) return;
    size_t used = strlen(c->msg);
    if (used + 1 >= c->msg_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg + used, c->msg_len - used, fmt, ap);
    va_end(ap);
}

static void warn(struct ctx *c, unsigned line, const char *what) {
    if (c->msg_len == 0 || c->done) return;
    int n = snprintf(c->msg + c->warn_len, c->msg_len - c->warn_len, "%s%s:%u: warning: %s",
                     c->warn_len ? "\n" : "", c->s->file_name, line, what);
    if (n > 0) c->warn_len += (size_t)n;
    if (c->warn_len >= c->msg_len) c->warn_len = c->msg_len - 1;
}

static void skip(struct ctx *c, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void skip(struct ctx *c, unsigned line, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    set_msg(c, TB_CHECK_SKIP, "unsupported: %s:%u: %s", c->s->file_name, line, what);
}

/* Script seconds of a virtual time: "0.200000". */
static void secs(tb_time_ns script_ns, char out[32]) {
    int64_t v = script_ns;
    const char *sign = "";
    if (v < 0) sign = "-", v = -v;
    int64_t us = v / NS_PER_US;
    snprintf(out, 32, "%s%" PRId64 ".%06" PRId64, sign, us / 1000000, us % 1000000);
}

static tb_time_ns to_script(tb_time_ns virt) { return virt - TB_CHECK_T0_NS; }

/* ---- the script port -------------------------------------------------------- */

static size_t port_rx(void *port, struct tb_host *h, struct tb_buf **frames, size_t max) {
    struct ctx *c = port;
    if (c->rx_frame == NULL || max == 0) return 0;
    struct tb_buf *b = tb_host_alloc_rx(h, c->rx_len);
    const uint8_t *f = c->rx_frame;
    c->rx_frame = NULL;
    if (b == NULL) return 0;
    memcpy(b->data, f, c->rx_len);
    frames[0] = b;
    return 1;
}

static void inject_now(struct ctx *c, const uint8_t *frame, size_t len);

static void port_tx(void *port, struct tb_host *h, struct tb_buf *const *frames, size_t n) {
    (void)h;
    struct ctx *c = port;
    for (size_t i = 0; i < n; i++) {
        uint8_t flat[FRAME_CAP];
        size_t len = tb_buf_chain_len(frames[i]);
        if (len > sizeof(flat)) {
            set_msg(c, TB_CHECK_FAIL, "%s: the stack sent a %zu-byte frame", c->s->file_name, len);
            continue;
        }
        tb_buf_copy_out(frames[i], 0, flat, len);
        struct tb_peer_frame f;
        enum tb_wire_err e = tb_peer_decode(flat, len, &f);
        if (f.layer == TB_PEER_ARP) {
            /* The script's end answers for its address whenever asked (after
             * the cache entry aged out); never scripted. */
            if (e == TB_WIRE_OK && f.arp.op == TB_ARP_OP_REQUEST && f.arp.tpa == c->remote_ip)
                c->arp_reply_due = true;
            continue;
        }
        if (f.layer != TB_PEER_TCP) continue;   /* ICMP and the rest: not scripted */
        if (e != TB_WIRE_OK) {
            set_msg(c, TB_CHECK_FAIL, "%s: the stack sent a TCP segment that does not parse: %s",
                    c->s->file_name, tb_wire_err_name(e));
            continue;
        }
        if (c->out_count == MAX_OUT) {
            set_msg(c, TB_CHECK_FAIL, "%s: more than %d outbound packets nobody expected", c->s->file_name,
                    MAX_OUT);
            continue;
        }
        struct out_pkt *p = &c->out[(c->out_head + c->out_count) % MAX_OUT];
        c->out_count++;
        p->t = c->now;
        p->len = len;
        memcpy(p->frame, flat, len);
    }
}

static tb_time_ns env_now(void *env) { return ((const struct ctx *)env)->now; }

static const struct tb_port_ops script_port = {.rx_burst = port_rx, .tx_burst = port_tx};
static const struct tb_host_env_ops script_env = {.now = env_now};

/* The stack's events are drained every pass; calls read state through
 * tb_tcp_info and their return values. */
static void app(struct tb_host *h, void *ctx) {
    (void)ctx;
    struct tb_event ev[32];
    while (tb_host_events(h, ev, 32) == 32) {
    }
}

/* ---- errno -------------------------------------------------------------------- */

static const char *errno_of(int64_t err) { return tb_linux_errno_name((int)err); }

/* A connection's error as Linux reports it: a timeout after an ICMP soft
 * error reports that error (tcp_write_err: sk_err_soft, else ETIMEDOUT),
 * and an open a hard ICMP error ended reports its code (icmp_err_convert's
 * table: Port Unreachable is ECONNREFUSED), so the application learns why. */
static const char *conn_errno(const struct ctx *c, int32_t handle, int64_t err) {
    struct tb_tcp_info in;
    if (handle < 0) return errno_of(err);
    if ((err != TB_ERR_TIMEOUT && err != TB_ERR_UNREACH) || tb_tcp_info(tb_host_stack(c->h), handle, &in) != TB_OK)
        return errno_of(err);
    if (in.last_soft_error_icmp_type == 11) return "EHOSTUNREACH";
    if (in.last_soft_error_icmp_type != 3) return errno_of(err);
    switch (in.last_soft_error_icmp_code) {
    case 0: case 6: case 9: case 11: return "ENETUNREACH";
    case 2: return "ENOPROTOOPT";
    case 3: return "ECONNREFUSED";
    case 4: return errno_of(err);   /* fragmentation needed: path MTU, not an error */
    case 5: return "EOPNOTSUPP";
    case 7: return "EHOSTDOWN";
    case 8: return "ENONET";
    default: return "EHOSTUNREACH";
    }
}

/* Linux's numbers, for SO_ERROR. */
static int64_t errno_num(const char *name) { return tb_linux_errno_value(name); }

/* ---- expressions -------------------------------------------------------------- */

static const struct {
    const char *name;
    int64_t value;
} symbols[] = {
    {"AF_INET", 2},        {"PF_INET", 2},        {"SOCK_STREAM", 1},   {"SOCK_NONBLOCK", 04000},
    {"IPPROTO_TCP", 6},    {"IPPROTO_IP", 0},     {"SOL_SOCKET", 1},    {"SOL_TCP", 6},
    {"SO_REUSEADDR", 2},   {"SO_ERROR", 4},       {"SO_SNDBUF", 7},     {"SO_RCVBUF", 8},
    {"SO_KEEPALIVE", 9},   {"SO_REUSEPORT", 15},  {"TCP_NODELAY", 1},   {"TCP_MAXSEG", 2},
    {"TCP_KEEPIDLE", 4},   {"TCP_KEEPINTVL", 5},  {"TCP_KEEPCNT", 6},   {"O_RDONLY", 0},
    {"O_WRONLY", 1},       {"O_RDWR", 2},         {"O_NONBLOCK", 04000}, {"F_GETFL", 3},
    {"F_SETFL", 4},        {"SHUT_RD", 0},        {"SHUT_WR", 1},       {"SHUT_RDWR", 2},
    {"MSG_DONTWAIT", 0x40}, {"MSG_NOSIGNAL", 0x4000}, {"INADDR_ANY", 0},
    {"TCP_INFO", 11},     {"SO_LINGER", 13},
    /* Linux's tcpi_state numbers and tcpi_options bits */
    {"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2},  {"TCP_SYN_RECV", 3},  {"TCP_FIN_WAIT1", 4},
    {"TCP_FIN_WAIT2", 5},  {"TCP_TIME_WAIT", 6},  {"TCP_CLOSE", 7},     {"TCP_CLOSE_WAIT", 8},
    {"TCP_LAST_ACK", 9},   {"TCP_LISTEN", 10},    {"TCP_CLOSING", 11},
    {"TCPI_OPT_TIMESTAMPS", 1}, {"TCPI_OPT_SACK", 2}, {"TCPI_OPT_WSCALE", 4}, {"TCPI_OPT_ECN", 8},
    {"POLLIN", 0x1},       {"POLLPRI", 0x2},      {"POLLOUT", 0x4},     {"POLLERR", 0x8},
    {"POLLHUP", 0x10},     {"POLLNVAL", 0x20},    {"POLLRDNORM", 0x40}, {"POLLWRNORM", 0x100},
    {"POLLRDHUP", 0x2000},
    {"EPOLLIN", 0x1},      {"EPOLLPRI", 0x2},     {"EPOLLOUT", 0x4},    {"EPOLLERR", 0x8},
    {"EPOLLHUP", 0x10},    {"EPOLLRDNORM", 0x40}, {"EPOLLWRNORM", 0x100}, {"EPOLLRDHUP", 0x2000},
    {"EPOLLET", 0x80000000}, {"EPOLLONESHOT", 0x40000000},
    {"EPOLL_CTL_ADD", 1},  {"EPOLL_CTL_DEL", 2},  {"EPOLL_CTL_MOD", 3},
};

#define SOCK_NONBLOCK_V 04000
#define O_NONBLOCK_V 04000
#define O_RDWR_V 2
#define MSG_DONTWAIT_V 0x40
#define MSG_NOSIGNAL_V 0x4000

/* An integer expression (numbers, known symbols, `|`, a one-item [x]). */
static bool eval(const struct tb_script_expr *e, int64_t *v) {
    if (e == NULL) return false;
    switch (e->kind) {
    case TB_SCRIPT_EXPR_INTEGER: *v = e->u.integer.value; return true;
    case TB_SCRIPT_EXPR_SYMBOL:
        for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
            if (strcmp(symbols[i].name, e->u.symbol) == 0) {
                *v = symbols[i].value;
                return true;
            }
        return false;
    case TB_SCRIPT_EXPR_BINARY: {
        int64_t a, b;
        if (e->u.binary.op != '|' || !eval(e->u.binary.lhs, &a) || !eval(e->u.binary.rhs, &b)) return false;
        *v = a | b;
        return true;
    }
    case TB_SCRIPT_EXPR_ARRAY:
        return e->u.list.count == 1 && eval(e->u.list.items[0], v);
    case TB_SCRIPT_EXPR_CALL:
        if ((strcmp(e->u.list.name, "htons") == 0 || strcmp(e->u.list.name, "htonl") == 0) && e->u.list.count == 1)
            return eval(e->u.list.items[0], v);
        return false;
    default: return false;
    }
}

static const struct tb_script_expr *arg(const struct tb_script_call *k, size_t i) {
    return i < k->arg_count ? k->args[i] : NULL;
}

/* field=value inside a {..} sockaddr, or NULL. */
static const struct tb_script_expr *field(const struct tb_script_expr *e, const char *name) {
    if (e == NULL || e->kind != TB_SCRIPT_EXPR_STRUCT) return NULL;
    for (size_t i = 0; i < e->u.list.count; i++) {
        const struct tb_script_expr *it = e->u.list.items[i];
        if (it->kind == TB_SCRIPT_EXPR_BINARY && it->u.binary.op == '=' &&
            it->u.binary.lhs->kind == TB_SCRIPT_EXPR_SYMBOL && strcmp(it->u.binary.lhs->u.symbol, name) == 0)
            return it->u.binary.rhs;
    }
    return NULL;
}

/* ---- flows ---------------------------------------------------------------------- */

/* struct linger's fields as packetdrill writes them (onoff, linger) or as C does (l_onoff, l_linger). */
static const struct tb_script_expr *linger_field(const struct tb_script_expr *e, const char *name) {
    char c_name[16];
    snprintf(c_name, sizeof(c_name), "l_%s", name);
    const struct tb_script_expr *v = field(e, name);
    return v != NULL ? v : field(e, c_name);
}

static int flow_find(struct ctx *c, uint16_t rport, uint16_t sport) {
    for (int i = 0; i < MAX_FLOWS; i++)
        if (c->flows[i].used && c->flows[i].rport == rport && c->flows[i].sport_known && c->flows[i].sport == sport)
            return i;
    return -1;
}

static int flow_add(struct ctx *c, uint16_t rport, uint16_t sport) {
    int at = -1;
    for (int i = 0; i < MAX_FLOWS && at < 0; i++)
        if (!c->flows[i].used) at = i;
    if (at < 0) {
        set_msg(c, TB_CHECK_FAIL, "%s: more than %d connections in one script", c->s->file_name, MAX_FLOWS);
        at = MAX_FLOWS - 1;   /* the run stops; the slot is only scratch now */
    }
    struct flow *f = &c->flows[at];
    memset(f, 0, sizeof(*f));
    f->used = true;
    f->rport = rport;
    f->sport = sport;
    f->sport_known = true;
    tb_peer_init(&f->peer, &c->rhost, rport, sport, c->remote_isn);
    return at;
}

static int flow_get(struct ctx *c, uint16_t rport, uint16_t sport) {
    int i = flow_find(c, rport, sport);
    return i >= 0 ? i : flow_add(c, rport, sport);
}

/* ---- time ------------------------------------------------------------------------ */

/* One pass of the host at now, then the call in progress gets its chance. */
static void try_pending(struct ctx *c);

static void pass(struct ctx *c) {
    tb_host_poll(c->h);
    if (c->arp_reply_due) {
        c->arp_reply_due = false;
        uint8_t arp[TB_ETH_MIN_FRAME];
        inject_now(c, arp, tb_peer_build_arp_reply(&c->rhost, arp, sizeof(arp)));
    }
    try_pending(c);
}

/* Advances virtual time to t, running every stack deadline on the way;
 * stops early once an outbound packet is queued when stop_on_packet, and
 * once no call is in progress when stop_on_return. */
static void advance_until(struct ctx *c, tb_time_ns t, bool stop_on_packet, bool stop_on_return) {
    unsigned same = 0;
    while (!c->done) {
        if (stop_on_packet && c->out_count > 0) return;
        if (stop_on_return && c->pend.kind == PEND_NONE) return;
        tb_time_ns next = tb_host_next_deadline(c->h);
        if (next == TB_TIME_NEVER || next > t) break;
        if (next > c->now) {
            c->now = next;
            same = 0;
        } else if (++same > 1000) {
            break;   /* a deadline that does not move: leave it */
        }
        pass(c);
    }
    if (c->done || (stop_on_packet && c->out_count > 0) || (stop_on_return && c->pend.kind == PEND_NONE)) return;
    if (t > c->now) c->now = t;
    pass(c);
}

static void advance(struct ctx *c, tb_time_ns t, bool stop_on_packet) { advance_until(c, t, stop_on_packet, false); }

static void inject_now(struct ctx *c, const uint8_t *frame, size_t len) {
    c->rx_frame = frame;
    c->rx_len = len;
    pass(c);
    c->rx_frame = NULL;
}

/* ---- printing the stack's packets in the script's notation ------------------------ */

struct live {
    struct tb_peer_frame f;
    const uint8_t *opt;            /* raw option bytes */
    size_t opt_len;
    struct tb_script_packet p;     /* relative, as the script would write it */
    struct tb_script_tcp_option opts[TB_TCP_MAX_OPT_LEN];
    int flow;
};

/* The options as they are on the wire, in order; false on a bad length. */
static bool live_options(struct live *L) {
    size_t n = 0, i = 0;
    const uint8_t *b = L->opt;
    while (i < L->opt_len && n < TB_TCP_MAX_OPT_LEN) {
        struct tb_script_tcp_option *o = &L->opts[n];
        memset(o, 0, sizeof(*o));
        uint8_t kind = b[i];
        if (kind == 0) {   /* EOL: the rest is padding */
            o->kind = TB_SCRIPT_OPT_EOL;
            n++;
            break;
        }
        if (kind == 1) {
            o->kind = TB_SCRIPT_OPT_NOP;
            n++;
            i++;
            continue;
        }
        if (i + 1 >= L->opt_len || b[i + 1] < 2 || i + b[i + 1] > L->opt_len) return false;
        uint8_t len = b[i + 1];
        const uint8_t *v = b + i + 2;
        if (kind == 2 && len == 4) {
            o->kind = TB_SCRIPT_OPT_MSS;
            o->u.mss = (uint16_t)(v[0] << 8 | v[1]);
        } else if (kind == 3 && len == 3) {
            o->kind = TB_SCRIPT_OPT_WSCALE;
            o->u.wscale = v[0];
        } else if (kind == 4 && len == 2) {
            o->kind = TB_SCRIPT_OPT_SACK_PERMITTED;
        } else if (kind == 5 && len >= 10 && (len - 2) % 8 == 0 && (len - 2) / 8 <= TB_SCRIPT_MAX_SACK_BLOCKS) {
            o->kind = TB_SCRIPT_OPT_SACK;
            o->u.sack.count = (size_t)(len - 2) / 8;
            for (size_t k = 0; k < o->u.sack.count; k++) {
                const uint8_t *q = v + 8 * k;
                o->u.sack.blocks[k].left = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
                o->u.sack.blocks[k].right = (uint32_t)q[4] << 24 | (uint32_t)q[5] << 16 | (uint32_t)q[6] << 8 | q[7];
            }
        } else if (kind == 8 && len == 10) {
            o->kind = TB_SCRIPT_OPT_TIMESTAMP;
            o->u.timestamp.val = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
            o->u.timestamp.ecr = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];
        } else {
            o->kind = TB_SCRIPT_OPT_UNKNOWN;
            o->u.text = "unknown";
        }
        n++;
        i += len;
    }
    L->p.u.tcp.options = L->opts;
    L->p.u.tcp.option_count = n;
    return true;
}

static uint8_t wire_kind(enum tb_script_tcp_option_kind k) {
    switch (k) {
    case TB_SCRIPT_OPT_EOL: return 0;
    case TB_SCRIPT_OPT_NOP: return 1;
    case TB_SCRIPT_OPT_MSS: return 2;
    case TB_SCRIPT_OPT_WSCALE: return 3;
    case TB_SCRIPT_OPT_SACK_PERMITTED: return 4;
    case TB_SCRIPT_OPT_SACK: return 5;
    case TB_SCRIPT_OPT_TIMESTAMP: return 8;
    case TB_SCRIPT_OPT_MD5: return 19;
    case TB_SCRIPT_OPT_FAST_OPEN: return 34;
    default: return 255;
    }
}

/* Decodes queued packet q into L, numbers relative to its flow. */
static bool live_decode(struct ctx *c, const struct out_pkt *q, struct live *L) {
    memset(L, 0, sizeof(*L));
    if (tb_peer_decode(q->frame, q->len, &L->f) != TB_WIRE_OK || L->f.layer != TB_PEER_TCP) return false;
    const struct tb_tcp_repr *t = &L->f.tcp;
    size_t tcp_off = TB_ETH_HDR_LEN + (size_t)L->f.ip.header_len;
    L->opt = q->frame + tcp_off + TB_TCP_HDR_LEN;
    L->opt_len = t->header_len > TB_TCP_HDR_LEN ? t->header_len - TB_TCP_HDR_LEN : 0;
    L->flow = flow_find(c, t->dst_port, t->src_port);
    if (L->flow < 0) L->flow = flow_add(c, t->dst_port, t->src_port);
    struct flow *fl = &c->flows[L->flow];
    if ((t->flags & TB_TCP_SYN) != 0) {
        fl->have_stack_isn = true;
        fl->stack_isn = t->seq;
        c->cur = L->flow;
    }
    struct tb_script_packet *p = &L->p;
    p->direction = TB_SCRIPT_OUTBOUND;
    p->kind = TB_SCRIPT_PACKET_TCP;
    struct tb_script_tcp *s = &p->u.tcp;
    s->flags = t->flags;
    uint32_t base = fl->have_stack_isn ? fl->stack_isn : 0;
    s->seq_start = t->seq - base;
    s->payload_len = (uint16_t)t->payload_len;
    s->seq_end = s->seq_start + s->payload_len;
    s->has_ack = (t->flags & TB_TCP_ACK) != 0;
    s->ack = t->ack - c->remote_isn;
    s->has_win = true;
    s->win = t->window;
    s->has_urg = (t->flags & TB_TCP_URG) != 0;
    s->urg = t->urgent;
    if (!live_options(L)) {
        L->p.u.tcp.option_count = 0;
        return true;
    }
    for (size_t i = 0; i < s->option_count; i++)
        if (L->opts[i].kind == TB_SCRIPT_OPT_SACK)
            for (size_t k = 0; k < L->opts[i].u.sack.count; k++) {
                L->opts[i].u.sack.blocks[k].left -= c->remote_isn;
                L->opts[i].u.sack.blocks[k].right -= c->remote_isn;
            }
    return true;
}

static void print_packets(struct ctx *c, const struct tb_script_packet *want, tb_time_ns want_t,
                          const struct live *L, tb_time_ns live_t) {
    char buf[1024], t[32];
    if (want != NULL) {
        tb_script_format_packet(want, buf, sizeof(buf));
        secs(want_t, t);
        add_msg(c, "\nscript packet: %s %s", t, buf);
    }
    if (L != NULL) {
        struct tb_script_packet p = L->p;
        /* Printed with the ECN the script asked about, if any. */
        if (want != NULL && want->ip.ecn != TB_SCRIPT_ECN_UNCHECKED) {
            static const enum tb_script_ecn by_bits[4] = {TB_SCRIPT_ECN_NOT_ECT, TB_SCRIPT_ECN_ECT1,
                                                          TB_SCRIPT_ECN_ECT0, TB_SCRIPT_ECN_CE};
            p.ip.ecn = by_bits[L->f.ip.tos & 3];
        }
        tb_script_format_packet(&p, buf, sizeof(buf));
        secs(to_script(live_t), t);
        add_msg(c, "\nactual packet: %s %s", t, buf);
    }
}

static void flags_str(uint8_t f, char out[16]) {
    size_t n = 0;
    if (f & TB_TCP_FIN) out[n++] = 'F';
    if (f & TB_TCP_SYN) out[n++] = 'S';
    if (f & TB_TCP_RST) out[n++] = 'R';
    if (f & TB_TCP_PSH) out[n++] = 'P';
    if (f & TB_TCP_ACK) out[n++] = '.';
    if (f & TB_TCP_URG) out[n++] = 'U';
    if (f & TB_TCP_ECE) out[n++] = 'E';
    if (f & TB_TCP_CWR) out[n++] = 'W';
    if (n == 0) out[n++] = '-';
    out[n] = '\0';
}

static void opt_str(const struct tb_script_tcp_option *o, char *out, size_t cap) {
    struct tb_script_packet p;
    memset(&p, 0, sizeof(p));
    p.direction = TB_SCRIPT_OUTBOUND;
    p.kind = TB_SCRIPT_PACKET_TCP;
    p.u.tcp.options = (struct tb_script_tcp_option *)o;
    p.u.tcp.option_count = 1;
    char buf[256];
    tb_script_format_packet(&p, buf, sizeof(buf));
    const char *a = strrchr(buf, '<');
    const char *b = strrchr(buf, '>');
    if (a == NULL || b == NULL || b < a) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, "%.*s", (int)(b - a - 1), a + 1);
}

/* ---- checking an outbound packet ------------------------------------------------- */

static bool opt_equal(const struct tb_script_tcp_option *w, const struct tb_script_tcp_option *a) {
    switch (w->kind) {
    case TB_SCRIPT_OPT_MSS: return w->u.mss == a->u.mss;
    case TB_SCRIPT_OPT_WSCALE: return w->u.wscale == a->u.wscale;
    case TB_SCRIPT_OPT_TIMESTAMP: return w->u.timestamp.ecr == a->u.timestamp.ecr;   /* val is the stack's clock */
    case TB_SCRIPT_OPT_SACK:
        if (w->u.sack.count != a->u.sack.count) return false;
        for (size_t k = 0; k < w->u.sack.count; k++)
            if (w->u.sack.blocks[k].left != a->u.sack.blocks[k].left ||
                w->u.sack.blocks[k].right != a->u.sack.blocks[k].right)
                return false;
        return true;
    default: return true;
    }
}

/* The first field of L that does not match want, as a sentence; NULL when all do. */
static const char *mismatch(struct ctx *c, const struct tb_script_packet *want, const struct live *L, char *why,
                            size_t cap) {
    const struct tb_script_tcp *w = &want->u.tcp;
    const struct tb_script_tcp *a = &L->p.u.tcp;
    char x[64], y[64];
    if (w->has_ports && (w->src_port != L->f.tcp.src_port || w->dst_port != L->f.tcp.dst_port)) {
        snprintf(why, cap, "live packet field tcp_ports: expected: %u>%u vs actual: %u>%u", w->src_port,
                 w->dst_port, L->f.tcp.src_port, L->f.tcp.dst_port);
        return why;
    }
    if (w->flags != a->flags) {
        flags_str(w->flags, x);
        flags_str(a->flags, y);
        snprintf(why, cap, "live packet field tcp_flags: expected: %s vs actual: %s", x, y);
        return why;
    }
    if (w->seq_start != a->seq_start) {
        snprintf(why, cap, "live packet field tcp_seq: expected: %" PRIu32 " vs actual: %" PRIu32, w->seq_start,
                 a->seq_start);
        return why;
    }
    if (w->payload_len != a->payload_len) {
        snprintf(why, cap, "live packet payload: expected %u bytes vs actual %u bytes", w->payload_len,
                 a->payload_len);
        return why;
    }
    if (w->has_ack && (!a->has_ack || w->ack != a->ack)) {
        snprintf(why, cap, "live packet field tcp_ack: expected: %" PRIu32 " vs actual: %" PRIu32, w->ack, a->ack);
        return why;
    }
    /* As packetdrill: an ack or urgent pointer left out is 0 on the wire. */
    if (!w->has_ack && L->f.tcp.ack != 0) {
        snprintf(why, cap, "live packet field tcp_ack: expected: 0 vs actual: %" PRIu32 " (write ack N)", a->ack);
        return why;
    }
    if (!w->has_urg && L->f.tcp.urgent != 0) {
        snprintf(why, cap, "live packet field tcp_urg_ptr: expected: 0 vs actual: %u", L->f.tcp.urgent);
        return why;
    }
    if (w->has_win && w->win != a->win) {
        snprintf(why, cap, "live packet field tcp_window: expected: %u vs actual: %u", w->win, a->win);
        return why;
    }
    if (w->has_urg && w->urg != a->urg) {
        snprintf(why, cap, "live packet field tcp_urg_ptr: expected: %u vs actual: %u", w->urg, a->urg);
        return why;
    }
    if (want->ip.ecn != TB_SCRIPT_ECN_UNCHECKED) {
        unsigned bits = L->f.ip.tos & 3u;
        bool ok;
        switch (want->ip.ecn) {
        case TB_SCRIPT_ECN_NOT_ECT: ok = bits == 0; break;
        case TB_SCRIPT_ECN_ECT1: ok = bits == 1; break;
        case TB_SCRIPT_ECN_ECT0: ok = bits == 2; break;
        case TB_SCRIPT_ECN_CE: ok = bits == 3; break;
        default: ok = bits == 1 || bits == 2; break;   /* ECT01 */
        }
        if (!ok) {
            snprintf(why, cap, "live packet field ip_ecn: bad outbound ECN bits %u", bits);
            return why;
        }
    }
    if (want->ip.has_tos && want->ip.tos != L->f.ip.tos) {
        snprintf(why, cap, "live packet field ip_tos: expected: %#x vs actual: %#x", want->ip.tos, L->f.ip.tos);
        return why;
    }
    if (want->ip.has_ttl && want->ip.ttl != L->f.ip.ttl) {
        snprintf(why, cap, "live packet field ip_ttl: expected: %u vs actual: %u", want->ip.ttl, L->f.ip.ttl);
        return why;
    }
    if (!w->options_any) {
        size_t n = w->option_count < a->option_count ? w->option_count : a->option_count;
        for (size_t i = 0; i < n; i++) {
            const struct tb_script_tcp_option *wo = &w->options[i], *ao = &a->options[i];
            opt_str(wo, x, sizeof(x));
            opt_str(ao, y, sizeof(y));
            if (wire_kind(wo->kind) != wire_kind(ao->kind)) {
                snprintf(why, cap, "bad outbound TCP option %zu: expected kind %u (%s) vs actual kind %u (%s)", i + 1,
                         wire_kind(wo->kind), x, wire_kind(ao->kind), y);
                return why;
            }
            if (!opt_equal(wo, ao)) {
                snprintf(why, cap, "bad value outbound TCP option %u: expected: %s vs actual: %s", wire_kind(wo->kind),
                         x, y);
                return why;
            }
        }
        if (w->option_count != a->option_count) {
            snprintf(why, cap, "bad outbound TCP options: expected %zu options vs actual %zu", w->option_count,
                     a->option_count);
            return why;
        }
        /* The script's TSvals stand for the live ones from now on. */
        for (size_t i = 0; i < n; i++)
            if (w->options[i].kind == TB_SCRIPT_OPT_TIMESTAMP) {
                c->ts_map[c->ts_map_next % MAX_TS_MAP].script = w->options[i].u.timestamp.val;
                c->ts_map[c->ts_map_next % MAX_TS_MAP].live = a->options[i].u.timestamp.val;
                c->ts_map_next++;
            }
    }
    return NULL;
}

/* ---- building an inbound packet ----------------------------------------------------- */

/* The live TSval an inbound TS ecr stands for: the one the stack sent on
 * the outbound line whose `TS val` the script wrote as this value. An ecr
 * no outbound line named cannot be inferred (as packetdrill): false. */
static bool map_ecr(struct ctx *c, uint32_t ecr, uint32_t *live) {
    *live = 0;
    if (ecr == 0) return true;
    size_t n = c->ts_map_next < MAX_TS_MAP ? c->ts_map_next : MAX_TS_MAP;
    for (size_t k = 0; k < n; k++) {
        size_t i = (c->ts_map_next - 1 - k) % MAX_TS_MAP;
        if (c->ts_map[i].script == ecr) {
            *live = c->ts_map[i].live;
            return true;
        }
    }
    return false;
}

static int cur_flow(struct ctx *c);

static void do_inbound(struct ctx *c, const struct tb_script_event *ev) {
    const struct tb_script_packet *p = &ev->u.packet;
    const struct tb_script_tcp *t = &p->u.tcp;
    int fi;
    if (t->has_ports) fi = flow_get(c, t->src_port, t->dst_port);
    else fi = cur_flow(c);
    struct flow *fl = &c->flows[fi];
    struct tb_peer_opt_bytes ob;
    memset(&ob, 0, sizeof(ob));
    for (size_t i = 0; i < t->option_count; i++) {
        const struct tb_script_tcp_option *o = &t->options[i];
        switch (o->kind) {
        case TB_SCRIPT_OPT_NOP: tb_peer_opt_nop(&ob); break;
        case TB_SCRIPT_OPT_EOL: tb_peer_opt_eol(&ob); break;
        case TB_SCRIPT_OPT_MSS: tb_peer_opt_mss(&ob, o->u.mss); break;
        case TB_SCRIPT_OPT_WSCALE: tb_peer_opt_wscale(&ob, o->u.wscale); break;
        case TB_SCRIPT_OPT_SACK_PERMITTED: tb_peer_opt_sack_permitted(&ob); break;
        case TB_SCRIPT_OPT_TIMESTAMP: {
            uint32_t live;
            if (!map_ecr(c, o->u.timestamp.ecr, &live)) {
                set_msg(c, TB_CHECK_FAIL,
                        "%s:%u: error handling packet: unable to infer live TS ecr: no outbound packet had TS val %u",
                        c->s->file_name, ev->line, o->u.timestamp.ecr);
                return;
            }
            tb_peer_opt_timestamp(&ob, o->u.timestamp.val, live);
            break;
        }
        case TB_SCRIPT_OPT_SACK: {
            struct tb_sack_block b[TB_SCRIPT_MAX_SACK_BLOCKS];
            uint32_t base = fl->have_stack_isn ? fl->stack_isn : 0;
            for (size_t k = 0; k < o->u.sack.count; k++) {
                b[k].left = base + o->u.sack.blocks[k].left;
                b[k].right = base + o->u.sack.blocks[k].right;
            }
            tb_peer_opt_sack(&ob, b, o->u.sack.count);
            break;
        }
        default: skip(c, o->line, "TCP option"); return;
        }
    }
    if (ob.overflow) {
        set_msg(c, TB_CHECK_FAIL, "%s:%u: error handling packet: TCP options longer than 40 bytes",
                c->s->file_name, ev->line);
        return;
    }
    struct tb_peer_seg seg;
    memset(&seg, 0, sizeof(seg));
    seg.flags = t->flags;
    seg.seq = c->remote_isn + t->seq_start;
    seg.ack = t->has_ack ? (fl->have_stack_isn ? fl->stack_isn : 0) + t->ack : 0;
    seg.window = t->has_win ? t->win : 65535;
    seg.urgent = t->has_urg ? t->urg : 0;
    seg.raw_opts = ob.b;
    seg.raw_opts_len = ob.len;
    seg.payload_len = t->payload_len;
    uint8_t frame[FRAME_CAP + 64];
    size_t len = tb_peer_build_tcp(&fl->peer, &seg, frame, sizeof(frame));
    if (len == 0) {
        set_msg(c, TB_CHECK_FAIL, "%s:%u: error handling packet: the segment does not fit a frame", c->s->file_name,
                ev->line);
        return;
    }
    /* IP annotations: the TOS byte (ECN bits) and TTL, checksum redone. */
    uint8_t *ip = frame + TB_ETH_HDR_LEN;
    bool patched = false;
    if (p->ip.has_tos) ip[1] = p->ip.tos, patched = true;
    static const uint8_t ecn_bits[] = {[TB_SCRIPT_ECN_NOT_ECT] = 0, [TB_SCRIPT_ECN_ECT0] = 2,
                                       [TB_SCRIPT_ECN_ECT1] = 1, [TB_SCRIPT_ECN_CE] = 3};
    if (p->ip.ecn != TB_SCRIPT_ECN_UNCHECKED && p->ip.ecn != TB_SCRIPT_ECN_ECT01) {
        ip[1] = (uint8_t)((ip[1] & ~3u) | ecn_bits[p->ip.ecn]);
        patched = true;
    }
    if (p->ip.has_ttl) ip[8] = p->ip.ttl, patched = true;
    if (patched) {
        ip[10] = ip[11] = 0;
        tb_put16(ip + 10, tb_csum(ip, (size_t)(ip[0] & 0x0f) * 4));
    }
    inject_now(c, frame, len);
}

/* ---- inbound ICMP errors ----------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t type, code;
} icmp_codes[] = {
    {"net_unreachable", 3, 0},       {"host_unreachable", 3, 1},   {"protocol_unreachable", 3, 2},
    {"port_unreachable", 3, 3},      {"frag_needed", 3, 4},        {"source_route_failed", 3, 5},
    {"net_unknown", 3, 6},           {"host_unknown", 3, 7},       {"source_host_isolated", 3, 8},
    {"net_prohibited", 3, 9},        {"host_prohibited", 3, 10},   {"net_unreachable_for_tos", 3, 11},
    {"host_unreachable_for_tos", 3, 12}, {"packet_filtered", 3, 13}, {"precedence_violation", 3, 14},
    {"precedence_cutoff", 3, 15},    {"ttl_exceeded", 11, 0},      {"frag_reassembly_time_exceeded", 11, 1},
};

/* The type and code of an ICMP line tcpbed can be sent: errors that quote
 * a TCP segment (destination unreachable, time exceeded). */
static bool icmp_numbers(const struct tb_script_icmp *ic, uint8_t *type, uint8_t *code) {
    if (strcmp(ic->type, "unreachable") == 0 || strcmp(ic->type, "dest_unreachable") == 0) *type = 3;
    else if (strcmp(ic->type, "time_exceeded") == 0) *type = 11;
    else if (strcmp(ic->type, "source_quench") == 0) *type = 4;
    else if (strcmp(ic->type, "redirect") == 0) *type = 5;
    else if (strcmp(ic->type, "parameter_problem") == 0) *type = 12;
    else return false;
    *code = 0;
    if (ic->code == NULL) return true;
    for (size_t i = 0; i < sizeof(icmp_codes) / sizeof(icmp_codes[0]); i++)
        if (icmp_codes[i].type == *type && strcmp(icmp_codes[i].name, ic->code) == 0) {
            *code = icmp_codes[i].code;
            return true;
        }
    return false;
}

/* An ICMP error from the remote end quoting a segment of the current
 * flow (its sequence number relative to the stack's ISN). */
static void do_inbound_icmp(struct ctx *c, const struct tb_script_event *ev) {
    const struct tb_script_icmp *ic = &ev->u.packet.u.icmp;
    uint8_t type, code;
    if (!icmp_numbers(ic, &type, &code)) {
        skip(c, ev->line, "ICMP %s %s", ic->type, ic->code ? ic->code : "");
        return;
    }
    const struct flow *fl = &c->flows[cur_flow(c)];
    uint32_t seq = (fl->have_stack_isn ? fl->stack_isn : 0) +
                   (ic->quote == TB_SCRIPT_ICMP_QUOTE_TCP ? ic->quote_seq_start : 0);
    uint8_t quote[TB_PEER_QUOTE_LEN];
    tb_peer_quote_tcp(&c->rhost, fl->sport, fl->rport, seq, quote);
    uint8_t frame[FRAME_CAP];
    size_t len = tb_peer_build_icmp_error(&c->rhost, c->remote_ip, type, code,
                                          ic->has_mtu ? (uint16_t)(ic->mtu > 65535 ? 65535 : ic->mtu) : 0, quote,
                                          sizeof(quote), frame, sizeof(frame));
    if (len == 0) {
        set_msg(c, TB_CHECK_FAIL, "%s:%u: error handling packet: the ICMP message does not fit a frame",
                c->s->file_name, ev->line);
        return;
    }
    inject_now(c, frame, len);
}

/* ---- system calls --------------------------------------------------------------- */

static struct fd_ent *fd_get(struct ctx *c, const struct tb_script_expr *e) {
    int64_t v;
    if (!eval(e, &v) || v < FIRST_FD || v >= MAX_FDS || !c->fds[v].used) return NULL;
    return &c->fds[v];
}

/* The fd a call that makes one returns: the script's number when it names
 * a free one (packetdrill maps the script's fds onto the live ones, so a
 * script may say `socket(...) = 7`), else the lowest free. */
static int fd_alloc(struct ctx *c, const struct tb_script_event *ev) {
    int64_t want;
    const struct tb_script_expr *res = ev->u.call.result;
    if (res != NULL && res->kind == TB_SCRIPT_EXPR_INTEGER && eval(res, &want) && want >= FIRST_FD &&
        want < MAX_FDS && !c->fds[want].used) {
        memset(&c->fds[want], 0, sizeof(c->fds[want]));
        c->fds[want].used = true;
        c->fds[want].flow = -1;
        return (int)want;
    }
    for (int i = FIRST_FD; i < MAX_FDS; i++)
        if (!c->fds[i].used) {
            memset(&c->fds[i], 0, sizeof(c->fds[i]));
            c->fds[i].used = true;
            c->fds[i].flow = -1;
            return i;
        }
    return -1;
}

struct call_result {
    int64_t ret;
    const char *err;               /* errno name when ret == -1 */
    bool blocked;                  /* a blocking call that must wait */
};

/* Checks a finished call's result against the script. */
static void check_result(struct ctx *c, const struct tb_script_event *ev, const struct call_result *r) {
    const struct tb_script_call *k = &ev->u.call;
    if (k->result == NULL || k->result->kind == TB_SCRIPT_EXPR_ELLIPSIS) return;
    int64_t want;
    if (!eval(k->result, &want)) {
        skip(c, ev->line, "result expression of %s", k->name);
        return;
    }
    bool ok = want == r->ret;
    if (ok && r->ret == -1 && k->errno_name != NULL && r->err != NULL && strcmp(k->errno_name, r->err) != 0) ok = false;
    if (ok) return;
    char got[96];
    if (r->ret == -1 && r->err != NULL) snprintf(got, sizeof(got), "-1 with errno %s", r->err);
    else snprintf(got, sizeof(got), "%" PRId64, r->ret);
    char exp[96];
    if (want == -1 && k->errno_name != NULL) snprintf(exp, sizeof(exp), "-1 with errno %s", k->errno_name);
    else snprintf(exp, sizeof(exp), "%" PRId64, want);
    set_msg(c, TB_CHECK_FAIL, "%s:%u: runtime error in %s call: Expected result %s but got %s", c->s->file_name,
            ev->line, k->name, exp, got);
}

/* The tcpbed option one socket option becomes, given the others (keep-alive
 * is SO_KEEPALIVE's switch with TCP_KEEPIDLE's time, 7200 s unless set, as
 * in Linux); false when it sets nothing on its own. */
static bool sockopt_to_tcp(const struct sockopts *so, enum sockopt_kind k, struct tb_tcp_optval *out) {
    int64_t v = so->val[k];
    switch (k) {
    case SO_K_NODELAY: *out = (struct tb_tcp_optval){TB_TCP_OPT_NODELAY, v != 0}; return true;
    case SO_K_SNDBUF: *out = (struct tb_tcp_optval){TB_TCP_OPT_SNDBUF, v}; return true;
    case SO_K_RCVBUF: *out = (struct tb_tcp_optval){TB_TCP_OPT_RCVBUF, v}; return true;
    case SO_K_MAXSEG: *out = (struct tb_tcp_optval){TB_TCP_OPT_MSS, v}; return true;
    case SO_K_KEEPALIVE:
    case SO_K_KEEPIDLE: {
        if (!so->has[SO_K_KEEPALIVE] || (k == SO_K_KEEPIDLE && so->val[SO_K_KEEPALIVE] == 0)) return false;
        int64_t idle_s = so->has[SO_K_KEEPIDLE] ? so->val[SO_K_KEEPIDLE] : 7200;
        int64_t ns = so->val[SO_K_KEEPALIVE] == 0 ? 0 : (idle_s > 0 && idle_s <= 86400 ? idle_s * TB_NS_PER_S : -1);
        *out = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_IDLE_NS, ns};
        return true;
    }
    case SO_K_KEEPINTVL:
        *out = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_INTVL_NS, v > 0 && v <= 86400 ? v * TB_NS_PER_S : -1};
        return true;
    case SO_K_KEEPCNT: *out = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_PROBES, v}; return true;
    default: return false;
    }
}

/* Every option set, in a fixed order, for a connect or a listen. */
static size_t sockopts_list(const struct sockopts *so, struct tb_tcp_optval *out) {
    size_t n = 0;
    for (int k = 0; k < SO_K__COUNT; k++)
        if (so->has[k] && sockopt_to_tcp(so, (enum sockopt_kind)k, &out[n])) n++;
    return n;
}

static int conn_flow_of(struct ctx *c, int32_t handle) {
    struct tb_tcp_info in;
    if (tb_tcp_info(tb_host_stack(c->h), handle, &in) != TB_OK) return -1;
    int fi = flow_get(c, in.remote_port, in.local_port);
    struct flow *fl = &c->flows[fi];
    c->cur = fi;
    if (!fl->have_stack_isn) {
        fl->have_stack_isn = true;
        fl->stack_isn = in.iss;
    }
    return fi;
}

/* ---- poll and epoll ------------------------------------------------------------- */

#define P_IN 0x1u
#define P_OUT 0x4u
#define P_ERR 0x8u
#define P_HUP 0x10u
#define P_NVAL 0x20u
#define P_RDNORM 0x40u
#define P_WRNORM 0x100u
#define P_RDHUP 0x2000u
#define EPOLL_ET 0x80000000u
#define EPOLL_ONESHOT 0x40000000u

/* Linux's __sk_stream_is_writeable: room for at least half of what is
 * queued (a third of the buffer free when it is full), so a writer wakes
 * with room for a real write, not a byte. */
static bool writable(const struct ctx *c, const struct fd_ent *f, const struct tb_tcp_info *in) {
    int64_t sndbuf = f->so.has[SO_K_SNDBUF] ? f->so.val[SO_K_SNDBUF] : c->cfg.tcp_sndbuf_bytes;
    int64_t used = in->sndbuf_used_bytes;
    return used < sndbuf && 2 * (sndbuf - used) >= used;
}

/* What Linux's poll would report for the fd (tcp_poll's rules: a shut or
 * failed direction reads and writes without blocking). */
static uint32_t ready_mask(struct ctx *c, const struct fd_ent *f) {
    const struct tb_stack *st = tb_host_stack(c->h);
    if (f->kind == FD_LISTENER) return tb_tcp_accept_pending(st, f->handle) > 0 ? P_IN | P_RDNORM : 0;
    if (f->kind == FD_SOCKET) return P_OUT | P_WRNORM | P_HUP;   /* never connected */
    if (f->kind != FD_CONN) return 0;
    struct tb_tcp_info in;
    if (tb_tcp_info(st, f->handle, &in) != TB_OK) return P_NVAL;
    bool failed = in.error != 0;
    bool rd_shut = failed || in.state == TB_TCP_CLOSE_WAIT || in.state == TB_TCP_LAST_ACK ||
                   in.state == TB_TCP_CLOSING || in.state == TB_TCP_TIME_WAIT || in.state == TB_TCP_CLOSED;
    bool wr_shut = failed || in.state == TB_TCP_FIN_WAIT_1 || in.state == TB_TCP_FIN_WAIT_2 ||
                   in.state == TB_TCP_CLOSING || in.state == TB_TCP_LAST_ACK || in.state == TB_TCP_TIME_WAIT ||
                   in.state == TB_TCP_CLOSED;
    uint32_t m = 0;
    if ((rd_shut && wr_shut) || in.state == TB_TCP_CLOSED) m |= P_HUP;
    if (rd_shut) m |= P_IN | P_RDNORM | P_RDHUP;
    if (in.state != TB_TCP_SYN_SENT && in.state != TB_TCP_SYN_RECEIVED) {
        if (in.rcvbuf_used_bytes > 0) m |= P_IN | P_RDNORM;
        if (wr_shut || writable(c, f, &in)) m |= P_OUT | P_WRNORM;
    }
    if (f->rd_shut) m |= P_IN | P_RDNORM | P_RDHUP;
    if (failed && !f->error_reported) m |= P_ERR;   /* sk_err, until a call or SO_ERROR took it */
    return m;
}

/* Fills each entry's revents (poll) or the ready list (epoll); the number ready. */
static size_t poll_scan(struct ctx *c, struct poll_set *ps) {
    ps->nready = 0;
    if (!ps->epoll) {
        for (size_t i = 0; i < ps->n; i++) {
            int fd = ps->e[i].fd;
            if (fd < 0) {   /* poll(2): a negative fd is skipped, revents 0 */
                ps->e[i].revents = 0;
                continue;
            }
            uint32_t m = fd >= FIRST_FD && fd < MAX_FDS && c->fds[fd].used ? ready_mask(c, &c->fds[fd]) : P_NVAL;
            ps->e[i].revents = m & (ps->e[i].events | P_ERR | P_HUP | P_NVAL);
            if (ps->e[i].revents != 0) ps->nready++;
        }
        return ps->nready;
    }
    const struct fd_ent *ep = &c->fds[ps->epfd];
    for (size_t i = 0; i < ep->nwatch && ps->nready < ps->n; i++) {
        int fd = ep->watch[i].fd;
        uint32_t m = ready_mask(c, &c->fds[fd]) & (ep->watch[i].events | P_ERR | P_HUP);
        if (m == 0) continue;
        ps->e[ps->nready].fd = fd;
        ps->e[ps->nready].revents = m;
        ps->nready++;
    }
    return ps->nready;
}

static void poll_wake(struct tb_host *h, void *ctx, uint64_t arg) {
    (void)h, (void)ctx, (void)arg;   /* the pass that follows retries the call */
}

/* The script's {fd=.., events=.., revents=..} entries (poll) or {events=.., fd=..}
 * entries (epoll_wait) against what the call found. */
static void check_poll(struct ctx *c, const struct tb_script_event *ev, const struct poll_set *ps) {
    const struct tb_script_call *k = &ev->u.call;
    const struct tb_script_expr *list = arg(k, ps->epoll ? 1 : 0);
    if (list == NULL || list->kind == TB_SCRIPT_EXPR_ELLIPSIS) return;
    size_t n = list->kind == TB_SCRIPT_EXPR_ARRAY ? list->u.list.count : 1;
    for (size_t i = 0; i < n && !c->done; i++) {
        const struct tb_script_expr *it = list->kind == TB_SCRIPT_EXPR_ARRAY ? list->u.list.items[i] : list;
        int64_t want = 0;   /* packetdrill: a pollfd without revents expects none */
        const struct tb_script_expr *w = field(it, ps->epoll ? "events" : "revents");
        if (w != NULL && !eval(w, &want)) {
            skip(c, ev->line, "%s: an event mask", k->name);
            return;
        }
        if (w == NULL && ps->epoll) continue;
        if (ps->epoll && i >= ps->nready) return;   /* the count already failed or was not checked */
        uint32_t got = ps->e[i].revents;
        int64_t fd_want;
        if (ps->epoll && field(it, "fd") != NULL && eval(field(it, "fd"), &fd_want) && fd_want != ps->e[i].fd) {
            set_msg(c, TB_CHECK_FAIL,
                    "%s:%u: runtime error in epoll_wait call: Bad epoll_event %zu: expected fd %" PRId64
                    " but got fd %d",
                    c->s->file_name, ev->line, i, fd_want, ps->e[i].fd);
            return;
        }
        if ((uint32_t)want != got)
            set_msg(c, TB_CHECK_FAIL,
                    "%s:%u: runtime error in %s call: Bad %s for fd %d: expected: %#x actual: %#x", c->s->file_name,
                    ev->line, k->name, ps->epoll ? "events" : "revents", ps->e[i].fd, (unsigned)want, got);
    }
}

/* Reads poll's or epoll_wait's arguments into c->pend.ps; false (and a
 * skip or failure) when they are not ones tcpbed can run. */
static bool poll_args(struct ctx *c, const struct tb_script_event *ev, bool epoll, struct call_result *r) {
    const struct tb_script_call *k = &ev->u.call;
    struct poll_set *ps = &c->pend.ps;
    memset(ps, 0, sizeof(*ps));
    ps->epoll = epoll;
    int64_t timeout_ms, count;
    if (!eval(arg(k, epoll ? 3 : 2), &timeout_ms) || !eval(arg(k, epoll ? 2 : 1), &count)) {
        skip(c, ev->line, "%s arguments", k->name);
        return false;
    }
    if (timeout_ms > INT64_C(86400000)) {
        skip(c, ev->line, "%s timeout above a day", k->name);
        return false;
    }
    if (count < 0 || count > MAX_POLL) {
        skip(c, ev->line, "%s of more than %d fds", k->name, MAX_POLL);
        return false;
    }
    ps->n = (size_t)count;
    if (epoll) {
        struct fd_ent *ep = fd_get(c, arg(k, 0));
        if (ep == NULL || ep->kind != FD_EPOLL || count == 0) {
            r->ret = -1;
            r->err = ep == NULL ? "EBADF" : "EINVAL";
            return false;
        }
        ps->epfd = (int)(ep - c->fds);
    } else {
        const struct tb_script_expr *list = arg(k, 0);
        size_t have = list != NULL && list->kind == TB_SCRIPT_EXPR_ARRAY ? list->u.list.count : 0;
        if (have != ps->n) {
            skip(c, ev->line, "poll: the pollfd list does not hold nfds entries");
            return false;
        }
        for (size_t i = 0; i < ps->n; i++) {
            int64_t fd, events;
            const struct tb_script_expr *it = list->u.list.items[i];
            if (!eval(field(it, "fd"), &fd) || !eval(field(it, "events"), &events)) {
                skip(c, ev->line, "poll: a pollfd without fd or events");
                return false;
            }
            ps->e[i].fd = (int)fd;
            ps->e[i].events = (uint32_t)events;
        }
    }
    ps->deadline = timeout_ms < 0 ? TB_TIME_NEVER : c->now + timeout_ms * TB_NS_PER_MS;
    return true;
}

static void release_fd(struct ctx *c, int fdn, struct call_result *r);

/* One attempt at a call that may block. Returns true when it finished
 * (r filled), false when it would block. */
static bool attempt(struct ctx *c, enum pend_kind kind, int fdn, int64_t want, int64_t *done, struct call_result *r,
                    bool nonblock) {
    struct fd_ent *f = &c->fds[fdn < 0 ? 0 : fdn];   /* poll: no fd of its own (-1) */
    memset(r, 0, sizeof(*r));
    switch (kind) {
    case PEND_ACCEPT: {
        int32_t h = tb_host_accept(c->h, f->handle);
        if (h == TB_ERR_AGAIN && !nonblock) return false;
        if (h < 0) {
            r->ret = -1;
            r->err = errno_of(h);
            return true;
        }
        int nf = fd_alloc(c, c->pend.ev);
        if (nf < 0) {
            tb_host_abort(c->h, h);
            r->ret = -1;
            r->err = "EMFILE";
            return true;
        }
        c->fds[nf].kind = FD_CONN;
        c->fds[nf].handle = h;
        c->fds[nf].so = f->so;
        c->fds[nf].flow = conn_flow_of(c, h);
        r->ret = nf;
        return true;
    }
    case PEND_CONNECT: {
        struct tb_tcp_info in;
        if (tb_tcp_info(tb_host_stack(c->h), f->handle, &in) != TB_OK) {
            r->ret = -1;
            r->err = "EBADF";
            return true;
        }
        if (in.error != 0) {
            r->ret = -1;
            r->err = conn_errno(c, f->handle, in.error);
            f->error_reported = true;   /* a call that returns the error consumes it (sock_error) */
            return true;
        }
        if (in.state == TB_TCP_SYN_SENT || in.state == TB_TCP_SYN_RECEIVED) return false;
        r->ret = 0;
        return true;
    }
    case PEND_READ: {
        /* Whatever is there, up to want, in one receive as far as IO_CHUNK
         * goes (so the window opens once, as a kernel's read would); the
         * bytes are not checked: the pattern is the peer's business. */
        if (c->io == NULL) c->io = malloc(IO_CHUNK);
        if (c->io == NULL) {
            r->ret = -1;
            r->err = "ENOMEM";
            return true;
        }
        uint8_t *buf = c->io;
        int64_t got = 0;
        for (;;) {
            int64_t chunk = want - got;
            if (chunk > IO_CHUNK) chunk = IO_CHUNK;
            int64_t n = tb_host_recv(c->h, f->handle, buf, (size_t)(chunk < 0 ? 0 : chunk));
            if (n > 0) {
                got += n;
                if (got < want) continue;
            }
            if (got > 0 || n == 0) break;
            /* Linux: once the error was reported, or the read side shut, an empty queue reads as EOF. */
            if ((n == TB_ERR_AGAIN && f->rd_shut) || (n != TB_ERR_AGAIN && f->error_reported)) break;
            if (n == TB_ERR_AGAIN && !nonblock) return false;
            r->ret = -1;
            r->err = conn_errno(c, f->handle, n);
            if (n != TB_ERR_AGAIN) f->error_reported = true;
            return true;
        }
        r->ret = got;
        return true;
    }
    case PEND_WRITE: {
        /* One send per write as far as IO_CHUNK goes, so the stack sees
         * the write whole (PSH, Nagle and segment boundaries as a kernel's). */
        if (c->zeros == NULL && want > 0) c->zeros = calloc(1, IO_CHUNK);
        if (c->zeros == NULL && want > 0) {
            r->ret = -1;
            r->err = "ENOMEM";
            return true;
        }
        if (c->pend.kind == PEND_WRITE) {   /* a blocked writer wakes only when writable (sk_stream_wait_memory) */
            struct tb_tcp_info in;
            if (tb_tcp_info(tb_host_stack(c->h), f->handle, &in) == TB_OK && in.error == 0 && !writable(c, f, &in))
                return false;
        }
        while (*done < want) {
            int64_t chunk = want - *done;
            if (chunk > IO_CHUNK) chunk = IO_CHUNK;
            int64_t n = tb_host_send(c->h, f->handle, c->zeros, (size_t)chunk);
            if (n == TB_ERR_AGAIN || n == 0) {
                if (nonblock) {
                    if (*done > 0) break;
                    r->ret = -1;
                    r->err = "EAGAIN";
                    return true;
                }
                return false;
            }
            if (n < 0) {
                if (*done > 0) break;
                r->ret = -1;
                r->err = f->error_reported ? "EPIPE" : conn_errno(c, f->handle, n);
                f->error_reported = true;
                return true;
            }
            *done += n;
        }
        r->ret = *done;
        return true;
    }
    case PEND_CLOSE: {
        struct tb_tcp_info in;
        bool settled = tb_tcp_info(tb_host_stack(c->h), f->handle, &in) != TB_OK || in.error != 0 ||
                       in.state == TB_TCP_FIN_WAIT_2 || in.state == TB_TCP_TIME_WAIT || in.state == TB_TCP_CLOSED;
        if (!settled && c->now < c->pend.linger_until) return false;
        release_fd(c, fdn, r);
        return true;
    }
    case PEND_POLL:
        if (poll_scan(c, &c->pend.ps) == 0 && c->now < c->pend.ps.deadline) return false;
        r->ret = (int64_t)c->pend.ps.nready;
        return true;
    default: return true;
    }
}

/* Script time an `a...b` call must return at: b counts from the base its
 * start counted from (packetdrill's adjust_relative_event_times: absolute
 * for an absolute start, from the previous event for a relative one). */
static tb_time_ns end_time(const struct ctx *c) { return c->pend.end_base + c->pend.ev->u.call.end.start_ns; }

static void finish_pending(struct ctx *c, const struct call_result *r) {
    const struct tb_script_event *ev = c->pend.ev;
    bool was_poll = c->pend.ps.n > 0 && (strcmp(ev->u.call.name, "poll") == 0 || strcmp(ev->u.call.name, "epoll_wait") == 0);
    c->pend.kind = PEND_NONE;
    check_result(c, ev, r);
    if (!c->done && was_poll) check_poll(c, ev, &c->pend.ps);
    if (c->done) return;
    const struct tb_script_time *end = &ev->u.call.end;
    tb_time_ns want = end->kind == TB_SCRIPT_TIME_NONE ? to_script(c->pend.started) : end_time(c);
    tb_time_ns got = to_script(c->now);
    if (got < want - c->tol || got > want + c->tol) {
        char a[32], b[32];
        secs(want, a);
        secs(got, b);
        set_msg(c, TB_CHECK_FAIL,
                "%s:%u: timing error: expected %s system call to return at %s sec but happened at %s sec",
                c->s->file_name, ev->line, ev->u.call.name, a, b);
    }
}

static void try_pending(struct ctx *c) {
    if (c->pend.kind == PEND_NONE || c->done) return;
    struct call_result r;
    if (!attempt(c, c->pend.kind, c->pend.fd, c->pend.want, &c->pend.done, &r, false)) return;
    finish_pending(c, &r);
    tb_host_kick(c->h);
}

/* Starts a call that may block: finishes now, or leaves it in progress. */
static void start_blocking(struct ctx *c, const struct tb_script_event *ev, enum pend_kind kind, int fdn,
                           int64_t want, bool nonblock) {
    struct call_result r;
    int64_t done = 0;
    c->pend.ev = ev;
    c->pend.started = c->now;
    c->pend.end_base = c->call_base;
    if (attempt(c, kind, fdn, want, &done, &r, nonblock)) {
        c->pend.kind = PEND_NONE;
        c->pend.ev = ev;
        finish_pending(c, &r);
        return;
    }
    c->pend.kind = kind;
    c->pend.fd = fdn;
    c->pend.want = want;
    c->pend.done = done;
    if (ev->u.call.end.kind != TB_SCRIPT_TIME_NONE) return;   /* it goes on while the script does */
    /* Without `...` the call blocks the script itself (packetdrill makes it
     * on its main thread): it must return at its start, within the
     * tolerance, and nothing of the script happens meanwhile. */
    advance_until(c, c->now + c->tol, false, true);
    if (c->done || c->pend.kind == PEND_NONE) return;
    char a[32];
    secs(to_script(c->pend.started), a);
    set_msg(c, TB_CHECK_FAIL,
            "%s:%u: timing error: expected %s system call to return at %s sec but it blocked (a call that "
            "waits needs its end time: a...b %s(...))",
            c->s->file_name, ev->line, ev->u.call.name, a, ev->u.call.name);
}

static bool nonblocking_flags(struct ctx *c, const struct tb_script_event *ev, const struct tb_script_expr *e,
                              bool *dontwait) {
    *dontwait = false;
    if (e == NULL || e->kind == TB_SCRIPT_EXPR_ELLIPSIS) return true;
    int64_t v;
    if (!eval(e, &v) || (v & ~(int64_t)(MSG_DONTWAIT_V | MSG_NOSIGNAL_V)) != 0) {
        skip(c, ev->line, "flags of %s", ev->u.call.name);
        return false;
    }
    *dontwait = (v & MSG_DONTWAIT_V) != 0;
    return true;
}

/* The bytes of an iovec array [{..., 500}, {iov_base=..., iov_len=500}]
 * (its first iovcnt entries). */
static bool iov_total(const struct tb_script_expr *iov, const struct tb_script_expr *cnt, int64_t *total) {
    int64_t count;
    if (iov == NULL || iov->kind != TB_SCRIPT_EXPR_ARRAY || !eval(cnt, &count) || count < 0) return false;
    if ((size_t)count > iov->u.list.count) return false;
    *total = 0;
    for (size_t i = 0; i < (size_t)count; i++) {
        const struct tb_script_expr *e = iov->u.list.items[i];
        if (e->kind != TB_SCRIPT_EXPR_STRUCT || e->u.list.count == 0) return false;
        const struct tb_script_expr *len = field(e, "iov_len");
        if (len == NULL) len = e->u.list.items[e->u.list.count - 1];
        int64_t v;
        if (!eval(len, &v) || v < 0 || v > (INT64_C(1) << 30)) return false;
        *total += v;
    }
    return true;
}

static uint16_t sockaddr_port(const struct tb_script_expr *e, uint16_t dflt) {
    int64_t v;
    const struct tb_script_expr *p = field(e, "sin_port");
    if (p != NULL && eval(p, &v) && v > 0 && v <= 65535) return (uint16_t)v;
    return dflt;
}

/* A socket option's value as Linux takes it: EINVAL (the name) for one
 * Linux refuses, else NULL with *val clamped where Linux clamps (buffers
 * into tcpbed's range, an MSS above the MTU's down to it). */
static const char *sockopt_check(const struct ctx *c, enum sockopt_kind k, int64_t *val) {
    int64_t v = *val;
    switch (k) {
    case SO_K_SNDBUF:
    case SO_K_RCVBUF:
        /* Linux: min(val, the sysctl maximum), at least its floor; never an error */
        if (v < 0 || v > (INT64_C(1) << 30)) v = INT64_C(1) << 30;
        if (v < 1024) v = 1024;
        break;
    case SO_K_MAXSEG: {
        if (v < 88 || v > 32767) return "EINVAL";   /* TCP_MIN_MSS .. MAX_TCP_WINDOW */
        int64_t cap = (int64_t)c->cfg.mtu - TB_IPV4_HDR_LEN - TB_TCP_HDR_LEN;
        if (v > cap) v = cap;
        break;
    }
    case SO_K_KEEPIDLE:
    case SO_K_KEEPINTVL:
        if (v < 1 || v > 32767) return "EINVAL";   /* MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL */
        break;
    case SO_K_KEEPCNT:
        if (v < 1 || v > 127) return "EINVAL";     /* MAX_TCP_KEEPCNT */
        break;
    default: break;
    }
    *val = v;
    return NULL;
}

/* What getsockopt reads back, as Linux: a buffer set is reported doubled;
 * TCP_MAXSEG is the connection's send MSS once it has one (the value set,
 * or 536, before); keep-alive times and count default to 7200 s, 75 s
 * and 9. False when Linux would report a size of its own (a buffer never
 * set). */
static bool sockopt_get(struct ctx *c, const struct fd_ent *f, enum sockopt_kind k, int64_t *val) {
    const struct sockopts *so = &f->so;
    switch (k) {
    case SO_K_SNDBUF:
    case SO_K_RCVBUF:
        if (!so->has[k]) return false;
        *val = 2 * so->val[k];
        return true;
    case SO_K_MAXSEG: {
        struct tb_tcp_info in;
        if (f->kind == FD_CONN && tb_tcp_info(tb_host_stack(c->h), f->handle, &in) == TB_OK &&
            in.state != TB_TCP_CLOSED && in.state != TB_TCP_LISTEN)
            *val = in.mss_bytes;
        else
            *val = so->has[k] ? so->val[k] : 536;
        return true;
    }
    case SO_K_KEEPIDLE: *val = so->has[k] ? so->val[k] : 7200; return true;
    case SO_K_KEEPINTVL: *val = so->has[k] ? so->val[k] : 75; return true;
    case SO_K_KEEPCNT: *val = so->has[k] ? so->val[k] : 9; return true;
    default: *val = so->has[k] ? so->val[k] : 0; return true;
    }
}

/* close(): the handle back to the stack, the fd free, out of every epoll set. */
static void release_fd(struct ctx *c, int fdn, struct call_result *r) {
    struct fd_ent *f = &c->fds[fdn];
    if (f->handle >= 0) {
        int rc = tb_host_close(c->h, f->handle);
        if (rc != TB_OK) {
            r->ret = -1;
            r->err = errno_of(rc);
        }
    }
    f->used = false;
    for (int i = FIRST_FD; i < MAX_FDS; i++) {
        struct fd_ent *ep = &c->fds[i];
        if (!ep->used || ep->kind != FD_EPOLL) continue;
        for (size_t w = 0; w < ep->nwatch; w++)
            if (ep->watch[w].fd == fdn) {
                memmove(&ep->watch[w], &ep->watch[w + 1], (ep->nwatch - w - 1) * sizeof(ep->watch[0]));
                ep->nwatch--;
                break;
            }
    }
    tb_host_kick(c->h);
}


/* The portable fields of Linux's struct tcp_info, from tcpbed's, in
 * Linux's units (microseconds; cwnd and ssthresh in segments). */
static bool tcp_info_field(const struct tb_tcp_info *in, tb_time_ns rto_max_ns, const char *name, int64_t *v) {
    struct tb_linux_tcpi t;
    tb_linux_tcpi(in, rto_max_ns, &t);
    const struct {
        const char *name;
        int64_t value;
    } fields[] = {
        {"tcpi_state", t.state},           {"tcpi_backoff", t.backoff},
        {"tcpi_options", t.options},       {"tcpi_snd_wscale", t.snd_wscale},
        {"tcpi_rcv_wscale", t.rcv_wscale}, {"tcpi_rto", t.rto_us},
        {"tcpi_snd_mss", t.snd_mss},       {"tcpi_rtt", t.rtt_us},
        {"tcpi_rttvar", t.rttvar_us},      {"tcpi_snd_cwnd", t.snd_cwnd},
        {"tcpi_snd_ssthresh", t.snd_ssthresh}, {"tcpi_total_retrans", t.total_retrans},
        {"tcpi_bytes_acked", t.bytes_acked}, {"tcpi_bytes_received", t.bytes_received},
        {"tcpi_segs_out", t.segs_out},     {"tcpi_segs_in", t.segs_in},
        {"tcpi_data_segs_out", t.data_segs_out}, {"tcpi_data_segs_in", t.data_segs_in},
        {"tcpi_snd_wnd", t.snd_wnd},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(fields[i].name, name) == 0) {
            *v = fields[i].value;
            return true;
        }
    return false;
}

/* getsockopt(fd, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED, tcpi_snd_cwnd=10, ...}, [len]):
 * every field written is compared, the others are not. */
static void do_tcp_info(struct ctx *c, const struct tb_script_event *ev, struct fd_ent *f) {
    const struct tb_script_call *k = &ev->u.call;
    const struct tb_script_expr *want = arg(k, 3);
    struct call_result r;
    memset(&r, 0, sizeof(r));
    struct tb_tcp_info in;
    memset(&in, 0, sizeof(in));
    bool conn = f->kind == FD_CONN && tb_tcp_info(tb_host_stack(c->h), f->handle, &in) == TB_OK;
    if (!conn) in.state = f->kind == FD_LISTENER ? TB_TCP_LISTEN : TB_TCP_CLOSED;
    if (want != NULL && want->kind == TB_SCRIPT_EXPR_STRUCT) {
        for (size_t i = 0; i < want->u.list.count; i++) {
            const struct tb_script_expr *it = want->u.list.items[i];
            int64_t exp, got;
            if (it->kind != TB_SCRIPT_EXPR_BINARY || it->u.binary.op != '=' ||
                it->u.binary.lhs->kind != TB_SCRIPT_EXPR_SYMBOL) {
                skip(c, ev->line, "TCP_INFO value");
                return;
            }
            const char *name = it->u.binary.lhs->u.symbol;
            if (!conn && strcmp(name, "tcpi_state") != 0) {
                /* tcpbed keeps the rest per connection only */
                skip(c, ev->line, "TCP_INFO field %s of a socket without a connection", name);
                return;
            }
            if (!tcp_info_field(&in, c->cfg.tcp_rto_max_ns, name, &got)) {
                skip(c, ev->line, "TCP_INFO field %s", name);
                return;
            }
            if (!eval(it->u.binary.rhs, &exp)) {
                skip(c, ev->line, "TCP_INFO value of %s", name);
                return;
            }
            if (exp != got) {
                set_msg(c, TB_CHECK_FAIL,
                        "%s:%u: runtime error in getsockopt call: Bad getsockopt TCP_INFO: %s expected: %" PRId64
                        " actual: %" PRId64,
                        c->s->file_name, ev->line, name, exp, got);
                return;
            }
        }
    } else if (want != NULL && want->kind != TB_SCRIPT_EXPR_ELLIPSIS) {
        skip(c, ev->line, "TCP_INFO value");
        return;
    }
    check_result(c, ev, &r);
}

static void do_call(struct ctx *c, const struct tb_script_event *ev) {
    const struct tb_script_call *k = &ev->u.call;
    struct call_result r;
    memset(&r, 0, sizeof(r));
    const char *n = k->name;
    int64_t v;

    if (strcmp(n, "socket") == 0) {
        int64_t type = 1;
        if (arg(k, 1) != NULL && arg(k, 1)->kind != TB_SCRIPT_EXPR_ELLIPSIS && !eval(arg(k, 1), &type)) type = -1;
        if ((type & ~(int64_t)SOCK_NONBLOCK_V) != 1) {
            skip(c, ev->line, "socket type other than SOCK_STREAM");
            return;
        }
        int fdn = fd_alloc(c, ev);
        if (fdn < 0) {
            r.ret = -1;
            r.err = "EMFILE";
        } else {
            c->fds[fdn].kind = FD_SOCKET;
            c->fds[fdn].handle = -1;
            c->fds[fdn].nonblock = (type & SOCK_NONBLOCK_V) != 0;
            r.ret = fdn;
        }
        check_result(c, ev, &r);
        return;
    }
    if (strcmp(n, "poll") == 0 || strcmp(n, "epoll_wait") == 0) {
        bool ep = n[0] == 'e';
        if (!poll_args(c, ev, ep, &r)) {
            if (!c->done) check_result(c, ev, &r);
            return;
        }
        if (c->pend.ps.deadline != TB_TIME_NEVER && c->pend.ps.deadline > c->now)
            tb_host_at(c->h, c->pend.ps.deadline, poll_wake, c, 0);
        start_blocking(c, ev, PEND_POLL, -1, 0, false);
        return;
    }
    if (strcmp(n, "epoll_create") == 0 || strcmp(n, "epoll_create1") == 0) {
        int64_t a0 = 0;
        if (!eval(arg(k, 0), &a0)) {
            skip(c, ev->line, "%s argument", n);
            return;
        }
        int fdn = fd_alloc(c, ev);
        if (n[12] == '\0' && a0 <= 0) r.ret = -1, r.err = "EINVAL";   /* epoll_create: size > 0 */
        else if (fdn < 0) r.ret = -1, r.err = "EMFILE";
        else {
            c->fds[fdn].kind = FD_EPOLL;
            c->fds[fdn].handle = -1;
            r.ret = fdn;
        }
        if (r.ret < 0 && fdn >= 0) c->fds[fdn].used = false;
        check_result(c, ev, &r);
        return;
    }
    if (strcmp(n, "epoll_ctl") == 0) {
        struct fd_ent *ep = fd_get(c, arg(k, 0));
        struct fd_ent *t = fd_get(c, arg(k, 2));
        int64_t op, events = 0;
        if (!eval(arg(k, 1), &op) || (op != 2 && !eval(field(arg(k, 3), "events"), &events))) {
            skip(c, ev->line, "epoll_ctl arguments");
            return;
        }
        if ((uint32_t)events & (EPOLL_ET | EPOLL_ONESHOT)) {
            skip(c, ev->line, "edge-triggered or one-shot epoll");
            return;
        }
        if (t != NULL && t->kind == FD_EPOLL && ep != t) {
            skip(c, ev->line, "an epoll set inside another");
            return;
        }
        if (ep == NULL || t == NULL) {
            r.ret = -1, r.err = "EBADF";
        } else if (ep->kind != FD_EPOLL || ep == t) {
            r.ret = -1, r.err = "EINVAL";
        } else {
            int tfd = (int)(t - c->fds);
            size_t at = ep->nwatch;
            for (size_t i = 0; i < ep->nwatch; i++)
                if (ep->watch[i].fd == tfd) at = i;
            if (op == 1 && at < ep->nwatch) r.ret = -1, r.err = "EEXIST";
            else if (op != 1 && at == ep->nwatch) r.ret = -1, r.err = "ENOENT";
            else if (op == 1 && ep->nwatch == MAX_POLL) r.ret = -1, r.err = "ENOSPC";
            else if (op == 1) {
                ep->watch[ep->nwatch].fd = tfd;
                ep->watch[ep->nwatch++].events = (uint32_t)events;
            }
            else if (op == 3) ep->watch[at].events = (uint32_t)events;
            else if (op == 2) memmove(&ep->watch[at], &ep->watch[at + 1], (ep->nwatch-- - at - 1) * sizeof(ep->watch[0]));
            else r.ret = -1, r.err = "EINVAL";
        }
        check_result(c, ev, &r);
        return;
    }
    struct fd_ent *f = fd_get(c, arg(k, 0));
    int fdn = f != NULL ? (int)(f - c->fds) : -1;
    if (f == NULL) {
        r.ret = -1;
        r.err = "EBADF";
        check_result(c, ev, &r);
        return;
    }

    if (strcmp(n, "setsockopt") == 0 || strcmp(n, "getsockopt") == 0) {
        bool set = n[0] == 's';
        int64_t level, name, val = 0;
        char lv[64] = "?", nm[64] = "?";
        if (arg(k, 1) != NULL) tb_script_format_expr(arg(k, 1), lv, sizeof(lv));
        if (arg(k, 2) != NULL) tb_script_format_expr(arg(k, 2), nm, sizeof(nm));
        if (!eval(arg(k, 1), &level) || !eval(arg(k, 2), &name)) {
            skip(c, ev->line, "%s option %s %s", n, lv, nm);
            return;
        }
        if (set && !(level == 1 && name == 13) && !eval(arg(k, 3), &val)) {
            skip(c, ev->line, "%s value", n);
            return;
        }
        struct sockopts *so = &f->so;
        int kind = -1;
        if (level == 1 && name == 2) {   /* SO_REUSEADDR */
            if (set) so->reuseaddr = val != 0;
            else val = so->reuseaddr;
        } else if (level == 1 && name == 4 && !set) {   /* SO_ERROR: the pending error, once (as Linux's sk_err) */
            struct tb_tcp_info in;
            if (f->so_error == 0 && f->kind == FD_CONN && !f->error_reported &&
                tb_tcp_info(tb_host_stack(c->h), f->handle, &in) == TB_OK && in.error != 0) {
                f->so_error = errno_num(conn_errno(c, f->handle, in.error));
                f->error_reported = true;
            }
            val = f->so_error;
            f->so_error = 0;
        } else if (level == 6 && name == 1) {
            kind = SO_K_NODELAY;
        } else if (level == 1 && name == 7) {
            kind = SO_K_SNDBUF;
        } else if (level == 1 && name == 8) {
            kind = SO_K_RCVBUF;
        } else if (level == 6 && name == 2) {
            kind = SO_K_MAXSEG;
        } else if (level == 1 && name == 9) {
            kind = SO_K_KEEPALIVE;
        } else if (level == 6 && name == 4) {
            kind = SO_K_KEEPIDLE;
        } else if (level == 6 && name == 5) {
            kind = SO_K_KEEPINTVL;
        } else if (level == 6 && name == 6) {
            kind = SO_K_KEEPCNT;
        } else if (level == 1 && name == 13) {   /* SO_LINGER {onoff=.., linger=..} */
            const struct tb_script_expr *lv_e = arg(k, 3);
            int64_t on = 0, secs_v = 0;
            if (set) {
                if (lv_e == NULL || !eval(linger_field(lv_e, "onoff"), &on) ||
                    !eval(linger_field(lv_e, "linger"), &secs_v)) {
                    skip(c, ev->line, "setsockopt SO_LINGER value (expected {onoff=N, linger=N})");
                    return;
                }
                so->linger_on = on != 0;
                so->linger_s = secs_v < 0 ? 0 : (secs_v > 86400 ? 86400 : secs_v);
            } else if (lv_e != NULL && lv_e->kind == TB_SCRIPT_EXPR_STRUCT) {
                int64_t want_on, want_s;
                const struct tb_script_expr *on_e = linger_field(lv_e, "onoff"), *s_e = linger_field(lv_e, "linger");
                if ((on_e != NULL && (!eval(on_e, &want_on) || want_on != (so->linger_on ? 1 : 0))) ||
                    (s_e != NULL && (!eval(s_e, &want_s) || want_s != so->linger_s))) {
                    set_msg(c, TB_CHECK_FAIL,
                            "%s:%u: runtime error in getsockopt call: Bad getsockopt SO_LINGER: actual: "
                            "{onoff=%d, linger=%" PRId64 "}",
                            c->s->file_name, ev->line, so->linger_on ? 1 : 0, so->linger_s);
                    return;
                }
            }
            check_result(c, ev, &r);
            return;
        } else if (level == 6 && name == 11 && !set) {   /* TCP_INFO */
            do_tcp_info(c, ev, f);
            return;
        } else {
            skip(c, ev->line, "%s option %s %s", n, lv, nm);
            return;
        }
        if (kind >= 0 && !set) {
            if (!sockopt_get(c, f, (enum sockopt_kind)kind, &val)) {
                skip(c, ev->line, "getsockopt option %s %s not set before (Linux reports sizes of its own)", lv,
                     nm);
                return;
            }
        } else if (kind >= 0) {
            const char *bad = sockopt_check(c, (enum sockopt_kind)kind, &val);
            if (bad != NULL) {
                r.ret = -1;
                r.err = bad;
                check_result(c, ev, &r);
                return;
            }
            struct sockopts next = *so;
            next.has[kind] = true;
            next.val[kind] = val;
            struct tb_tcp_optval tv;
            /* A socket keeps it for connect or listen; a listener passes it
             * to its connections; a connection takes it now. */
            if (f->kind != FD_SOCKET && sockopt_to_tcp(&next, (enum sockopt_kind)kind, &tv)) {
                int rc = tb_host_setopt(c->h, f->handle, (enum tb_tcp_opt)tv.opt, tv.value);
                r.ret = rc == TB_OK ? 0 : -1;
                r.err = rc == TB_OK ? NULL : errno_of(rc);
            }
            if (r.ret == 0) *so = next;
        }
        if (!set && r.ret == 0) {
            /* The value comes back in the [x] argument. */
            const struct tb_script_expr *want = arg(k, 3);
            int64_t wv;
            if (want != NULL && want->kind != TB_SCRIPT_EXPR_ELLIPSIS) {
                const struct tb_script_expr *one = want;
                if (one->kind == TB_SCRIPT_EXPR_ARRAY && one->u.list.count == 1) one = one->u.list.items[0];
                if (one->kind == TB_SCRIPT_EXPR_SYMBOL && errno_num(one->u.symbol) >= 0) wv = errno_num(one->u.symbol);
                else if (!eval(want, &wv)) {
                    skip(c, ev->line, "getsockopt value");
                    return;
                }
                if (wv != val) {
                    set_msg(c, TB_CHECK_FAIL,
                            "%s:%u: runtime error in getsockopt call: Bad getsockopt optval: expected: %" PRId64
                            " actual: %" PRId64,
                            c->s->file_name, ev->line, wv, val);
                    return;
                }
            }
        }
        check_result(c, ev, &r);
        return;
    }
    if (strcmp(n, "bind") == 0) {
        if (f->kind != FD_SOCKET || f->bound_port != 0) {
            r.ret = -1;
            r.err = "EINVAL";
        } else {
            f->bound_port = sockaddr_port(arg(k, 1), TB_CHECK_DEFAULT_PORT);
            c->default_port = f->bound_port;
        }
        check_result(c, ev, &r);
        return;
    }
    if (strcmp(n, "listen") == 0) {
        int64_t backlog = 0;
        if (!eval(arg(k, 1), &backlog) || backlog < 0) backlog = 0;
        if (f->kind == FD_LISTENER) {
            r.ret = 0;
        } else if (f->kind != FD_SOCKET) {
            r.ret = -1;
            r.err = "EINVAL";
        } else {
            uint16_t port = f->bound_port ? f->bound_port : TB_CHECK_DEFAULT_PORT;
            int32_t h = tb_host_listen(c->h, port, (uint32_t)(backlog == 0 ? 1 : backlog));
            if (h < 0) {
                r.ret = -1;
                r.err = errno_of(h);
            } else {
                f->kind = FD_LISTENER;
                f->handle = h;
                f->bound_port = port;
                c->default_port = port;
                struct tb_tcp_optval opts[SO_K__COUNT];
                size_t no = sockopts_list(&f->so, opts);
                for (size_t i = 0; i < no && r.ret == 0; i++) {
                    int rc = tb_host_setopt(c->h, h, (enum tb_tcp_opt)opts[i].opt, opts[i].value);
                    if (rc != TB_OK) r.ret = -1, r.err = errno_of(rc);
                }
                if (r.ret != 0) {   /* a failed listen leaves a plain socket */
                    tb_host_close(c->h, h);
                    f->kind = FD_SOCKET;
                    f->handle = -1;
                }
            }
        }
        check_result(c, ev, &r);
        return;
    }
    if (strcmp(n, "accept") == 0) {
        if (f->kind != FD_LISTENER) {
            r.ret = -1;
            r.err = "EINVAL";
            check_result(c, ev, &r);
            return;
        }
        start_blocking(c, ev, PEND_ACCEPT, fdn, 0, f->nonblock);
        return;
    }
    if (strcmp(n, "connect") == 0) {
        if (f->kind == FD_CONN) {
            struct tb_tcp_info in;
            memset(&in, 0, sizeof(in));
            if (tb_tcp_info(tb_host_stack(c->h), f->handle, &in) != TB_OK) in.error = TB_ERR_BADCONN;
            r.ret = -1;
            r.err = in.state == TB_TCP_SYN_SENT || in.state == TB_TCP_SYN_RECEIVED ? "EALREADY" : "EISCONN";
            if (in.error != 0) {
                r.err = conn_errno(c, f->handle, in.error);
                f->error_reported = true;
            } else if (r.err[1] == 'I' && f->nonblock && !f->connect_reported) {
                r.ret = 0;   /* Linux: the first connect after a non-blocking open completed returns 0 */
                r.err = NULL;
            }
            f->connect_reported = f->connect_reported || r.ret == 0;
            check_result(c, ev, &r);
            return;
        }
        if (f->kind != FD_SOCKET) {
            r.ret = -1;
            r.err = "EOPNOTSUPP";
            check_result(c, ev, &r);
            return;
        }
        uint16_t port = sockaddr_port(arg(k, 1), TB_CHECK_DEFAULT_PORT);
        struct tb_tcp_optval opts[SO_K__COUNT];
        size_t no = sockopts_list(&f->so, opts);
        int32_t h = tb_host_connect_opts(c->h, f->bound_port, c->remote_ip, port, opts, no);
        if (h < 0) {
            r.ret = -1;
            r.err = errno_of(h);
            check_result(c, ev, &r);
            return;
        }
        f->kind = FD_CONN;
        f->handle = h;
        f->flow = conn_flow_of(c, h);
        tb_host_kick(c->h);
        if (f->nonblock) {
            r.ret = -1;
            r.err = "EINPROGRESS";
            check_result(c, ev, &r);
            return;
        }
        start_blocking(c, ev, PEND_CONNECT, fdn, 0, false);
        return;
    }
    bool vectored = strcmp(n, "readv") == 0 || strcmp(n, "writev") == 0;
    if (strcmp(n, "read") == 0 || strcmp(n, "recv") == 0 || strcmp(n, "recvfrom") == 0 || strcmp(n, "write") == 0 ||
        strcmp(n, "send") == 0 || strcmp(n, "sendto") == 0 || vectored) {
        bool is_read = n[0] == 'r';
        bool dontwait = false;
        bool has_flags = strncmp(n, "recv", 4) == 0 || strncmp(n, "send", 4) == 0;
        if (has_flags && !nonblocking_flags(c, ev, arg(k, 3), &dontwait)) return;
        if (vectored ? !iov_total(arg(k, 1), arg(k, 2), &v) : (!eval(arg(k, 2), &v) || v < 0)) {
            skip(c, ev->line, "length of %s", n);
            return;
        }
        if (f->kind != FD_CONN) {
            r.ret = -1;
            r.err = is_read ? "ENOTCONN" : "EPIPE";   /* Linux's tcp_recvmsg / tcp_sendmsg on no connection */
            check_result(c, ev, &r);
            return;
        }
        start_blocking(c, ev, is_read ? PEND_READ : PEND_WRITE, fdn, v, f->nonblock || dontwait);
        tb_host_kick(c->h);
        return;
    }
    if (strcmp(n, "close") == 0) {
        struct tb_tcp_info in;
        if (f->kind == FD_CONN && f->so.linger_on && f->so.linger_s == 0) {
            /* SO_LINGER with a zero time: close aborts (RFC 9293 §3.10.5 ABORT: RST) */
            tb_host_abort(c->h, f->handle);
            f->handle = -1;
        } else if (f->kind == FD_CONN && f->so.linger_on && !f->nonblock &&
                   tb_tcp_info(tb_host_stack(c->h), f->handle, &in) == TB_OK && in.error == 0 &&
                   in.rcvbuf_used_bytes == 0 && in.state >= TB_TCP_ESTABLISHED) {
            /* A lingering close waits until the FIN is acknowledged or the
             * time runs out (socket(7)); unread data makes it a reset at once. */
            tb_host_shutdown(c->h, f->handle);
            tb_host_kick(c->h);
            c->pend.linger_until = c->now + f->so.linger_s * TB_NS_PER_S;
            tb_host_at(c->h, c->pend.linger_until, poll_wake, c, 0);
            start_blocking(c, ev, PEND_CLOSE, fdn, 0, false);
            return;
        }
        release_fd(c, fdn, &r);
        check_result(c, ev, &r);
        return;
    }
    if (strcmp(n, "shutdown") == 0) {
        int64_t how;
        if (!eval(arg(k, 1), &how) || how < 0 || how > 2) {
            skip(c, ev->line, "shutdown mode");
            return;
        }
        if (f->kind != FD_CONN) {
            r.ret = -1;
            r.err = "ENOTCONN";
        } else {
            if (how != 1) f->rd_shut = true;   /* SHUT_RD changes nothing on the wire, only what reads see */
        }
        if (f->kind == FD_CONN && how != 0) {
            int rc = tb_host_shutdown(c->h, f->handle);
            if (rc != TB_OK) {
                r.ret = -1;
                r.err = errno_of(rc);
            }
        }
        tb_host_kick(c->h);
        check_result(c, ev, &r);
        return;
    }
    if (strcmp(n, "fcntl") == 0) {
        int64_t cmd;
        if (!eval(arg(k, 1), &cmd) || (cmd != 3 && cmd != 4)) {
            skip(c, ev->line, "fcntl command");
            return;
        }
        if (cmd == 3) {
            r.ret = O_RDWR_V | (f->nonblock ? O_NONBLOCK_V : 0);
        } else {
            if (!eval(arg(k, 2), &v)) {
                skip(c, ev->line, "fcntl flags");
                return;
            }
            f->nonblock = (v & O_NONBLOCK_V) != 0;
        }
        check_result(c, ev, &r);
        return;
    }
    skip(c, ev->line, "system call %s", n);
}

/* ---- the flow a packet line without ports is about -------------------------------- */

static int cur_flow(struct ctx *c) {
    /* The connection made last (connect, accept, or the stack's SYN or
     * SYN-ACK), even once closed: a script's last ACKs follow its close().
     * Before any, the script's port to the bound or listening port. */
    if (c->cur >= 0 && c->flows[c->cur].used) return c->cur;
    uint16_t sport = c->default_port ? c->default_port : TB_CHECK_DEFAULT_PORT;
    return flow_get(c, TB_CHECK_REMOTE_PORT, sport);
}

/* ---- outbound packets ------------------------------------------------------------- */

static void do_outbound(struct ctx *c, const struct tb_script_event *ev, tb_time_ns lo, tb_time_ns hi,
                        tb_time_ns want_t, bool any) {
    const struct tb_script_packet *want = &ev->u.packet;
    tb_time_ns lo_v = lo - c->tol + TB_CHECK_T0_NS;
    tb_time_ns hi_v = any ? c->now + c->o->max_wait_ns : hi + c->tol + TB_CHECK_T0_NS;
    if (c->out_count == 0) advance(c, hi_v, true);
    if (c->out_count == 0 && !c->done && !any) advance(c, hi_v + c->o->max_wait_ns, true);
    if (c->done) return;
    char a[32], b[32];
    secs(want_t, a);
    if (c->out_count == 0) {
        secs(to_script(c->now), b);
        set_msg(c, TB_CHECK_FAIL,
                "%s:%u: error handling packet: timing error: expected outbound packet at %s sec but none was sent "
                "by %s sec",
                c->s->file_name, ev->line, a, b);
        print_packets(c, want, want_t, NULL, 0);
        return;
    }
    struct out_pkt *q = &c->out[c->out_head];
    struct live L;
    if (!live_decode(c, q, &L)) {
        set_msg(c, TB_CHECK_FAIL, "%s:%u: error handling packet: the stack's packet does not decode",
                c->s->file_name, ev->line);
        return;
    }
    tb_time_ns t = q->t;
    c->out_head = (c->out_head + 1) % MAX_OUT;
    c->out_count--;
    char why[384];
    if (mismatch(c, want, &L, why, sizeof(why)) != NULL) {
        set_msg(c, TB_CHECK_FAIL, "%s:%u: error handling packet: %s", c->s->file_name, ev->line, why);
        print_packets(c, want, want_t, &L, t);
        return;
    }
    if (t < lo_v || t > hi_v) {
        secs(to_script(t), b);
        if (ev->time.kind == TB_SCRIPT_TIME_ABSOLUTE_RANGE || ev->time.kind == TB_SCRIPT_TIME_RELATIVE_RANGE) {
            char l[32], h[32];
            secs(lo, l);
            secs(hi, h);
            set_msg(c, TB_CHECK_FAIL,
                    "%s:%u: error handling packet: timing error: expected outbound packet in time range %s~%s sec "
                    "but happened at %s sec",
                    c->s->file_name, ev->line, l, h, b);
        } else {
            set_msg(c, TB_CHECK_FAIL,
                    "%s:%u: error handling packet: timing error: expected outbound packet at %s sec but happened at "
                    "%s sec",
                    c->s->file_name, ev->line, a, b);
        }
        print_packets(c, want, want_t, &L, t);
        return;
    }
    c->base = to_script(t);
}

/* A packet queued before an event that is not an outbound packet. */
/* A packet the stack sent before an event's time (beyond the tolerance)
 * that no outbound line took is unexpected; one sent at the event's own
 * time may be for the outbound lines that follow (packetdrill reads
 * packets only at outbound lines). */
static void check_unexpected(struct ctx *c, const struct tb_script_event *ev, tb_time_ns at) {
    if (c->done || c->out_count == 0) return;
    struct out_pkt *q = &c->out[c->out_head];
    if (q->t >= at - c->tol) return;
    struct live L;
    char b[32];
    secs(to_script(q->t), b);
    set_msg(c, TB_CHECK_FAIL, "%s:%u: error handling packet: unexpected outbound packet at %s sec before this event",
            c->s->file_name, ev->line, b);
    if (live_decode(c, q, &L)) print_packets(c, NULL, 0, &L, q->t);
}

/* ---- before running: what the script needs that tcpbed does not do ------------------ */

static const char *const known_calls[] = {"socket", "setsockopt", "getsockopt", "bind",  "listen",   "accept",
                                          "connect", "read",      "recv",       "write", "send",     "close",
                                          "shutdown", "fcntl",    "sendto",     "recvfrom", "readv", "writev",
                                          "poll",     "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait"};

static void prescan(struct ctx *c) {
    const struct tb_script *s = c->s;
    if (s->unsupported_count > 0) {
        set_msg(c, TB_CHECK_SKIP, "unsupported: %s:%u: %s", s->file_name, s->unsupported[0].line,
                s->unsupported[0].construct);
        return;
    }
    for (size_t i = 0; i < s->option_count; i++) {
        const struct tb_script_option *op = &s->options[i];
        const char *v = op->value != NULL ? op->value : "";
        if (strcmp(op->name, "tolerance_usecs") == 0) {
            char *end;
            long long us = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || us < 0 || us > INT64_C(3600000000)) {
                skip(c, op->line, "option --%s=%s", op->name, v);
                return;
            }
            if (c->o->tolerance_ns < 0) c->tol = (int64_t)us * NS_PER_US;
        } else if (strcmp(op->name, "ip_version") == 0) {
            if (strcmp(v, "ipv4") != 0) {
                skip(c, op->line, "option --ip_version=%s", v);
                return;
            }
        } else if (strcmp(op->name, "local_ip") == 0 || strcmp(op->name, "remote_ip") == 0) {
            uint32_t ip;
            if (!tb_ipv4_parse_str(v, &ip)) {
                skip(c, op->line, "option --%s=%s", op->name, v);
                return;
            }
            if (op->name[0] == 'l') c->local_ip = ip;
            else c->remote_ip = ip;
        } else if (strcmp(op->name, "verbose") == 0 || strcmp(op->name, "dry_run") == 0) {
            /* nothing to do */
        } else {
            skip(c, op->line, "option --%s", op->name);
            return;
        }
    }
    for (size_t i = 0; i < s->event_count && !c->done; i++) {
        const struct tb_script_event *ev = &s->events[i];
        switch (ev->kind) {
        case TB_SCRIPT_EVENT_SHELL:
            if (!c->o->ignore_shell) skip(c, ev->line, "shell command");
            break;
        case TB_SCRIPT_EVENT_UNSUPPORTED: skip(c, ev->line, "%s", ev->u.unsupported.construct); break;
        case TB_SCRIPT_EVENT_PACKET:
            if (ev->u.packet.kind == TB_SCRIPT_PACKET_UDP) skip(c, ev->line, "UDP packet");
            else if (ev->u.packet.kind == TB_SCRIPT_PACKET_ICMP) {
                const struct tb_script_icmp *ic = &ev->u.packet.u.icmp;
                uint8_t type, code;
                if (ev->u.packet.direction == TB_SCRIPT_OUTBOUND) skip(c, ev->line, "outbound ICMP packet");
                else if (!icmp_numbers(ic, &type, &code))
                    skip(c, ev->line, "ICMP %s%s%s", ic->type, ic->code ? " " : "", ic->code ? ic->code : "");
                else if (ic->quote != TB_SCRIPT_ICMP_QUOTE_DEFAULT && ic->quote != TB_SCRIPT_ICMP_QUOTE_TCP)
                    skip(c, ev->line, "ICMP quoting other than a TCP segment");
            }
            else if (ev->u.packet.ip.has_flow_label) skip(c, ev->line, "IPv6 flow label");
            else if (ev->u.packet.direction == TB_SCRIPT_INBOUND && ev->time.kind != TB_SCRIPT_TIME_ABSOLUTE &&
                     ev->time.kind != TB_SCRIPT_TIME_RELATIVE && ev->time.kind != TB_SCRIPT_TIME_NONE)
                skip(c, ev->line, "inbound packet at a range of times");
            break;
        case TB_SCRIPT_EVENT_CALL: {
            bool known = false;
            for (size_t k = 0; k < sizeof(known_calls) / sizeof(known_calls[0]); k++)
                if (strcmp(known_calls[k], ev->u.call.name) == 0) known = true;
            if (!known) skip(c, ev->line, "system call %s", ev->u.call.name);
            else if (ev->time.kind != TB_SCRIPT_TIME_ABSOLUTE && ev->time.kind != TB_SCRIPT_TIME_RELATIVE &&
                     ev->time.kind != TB_SCRIPT_TIME_NONE)
                skip(c, ev->line, "system call at a range of times");
            break;
        }
        }
    }
}

/* ---- the run --------------------------------------------------------------------------- */

void tb_check_opts_default(struct tb_check_opts *o) {
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->tolerance_ns = -1;
    o->remote_isn = TB_CHECK_REMOTE_ISN;
    o->max_wait_ns = INT64_C(600) * TB_NS_PER_S;
}

const char *tb_check_outcome_name(enum tb_check_outcome r) {
    switch (r) {
    case TB_CHECK_PASS: return "pass";
    case TB_CHECK_FAIL: return "fail";
    case TB_CHECK_SKIP: return "skip";
    }
    return "?";
}

static void run_events(struct ctx *c) {
    const struct tb_script *s = c->s;
    for (size_t i = 0; i < s->event_count && !c->done; i++) {
        const struct tb_script_event *ev = &s->events[i];
        const struct tb_script_time *tm = &ev->time;
        tb_time_ns lo, hi;
        bool any = false;
        switch (tm->kind) {
        case TB_SCRIPT_TIME_ABSOLUTE: lo = hi = tm->start_ns; break;
        case TB_SCRIPT_TIME_RELATIVE: lo = hi = c->base + tm->start_ns; break;
        case TB_SCRIPT_TIME_ABSOLUTE_RANGE: lo = tm->start_ns, hi = tm->end_ns; break;
        case TB_SCRIPT_TIME_RELATIVE_RANGE: lo = c->base + tm->start_ns, hi = c->base + tm->end_ns; break;
        case TB_SCRIPT_TIME_ANY: any = true, lo = hi = c->base; break;
        default: lo = hi = c->base; break;
        }
        if (ev->kind == TB_SCRIPT_EVENT_SHELL) {
            warn(c, ev->line, "shell command ignored");
            continue;
        }
        bool absolute = tm->kind == TB_SCRIPT_TIME_ABSOLUTE || tm->kind == TB_SCRIPT_TIME_ABSOLUTE_RANGE;
        if (absolute && lo < c->last_sched) {
            char a[32], b[32];
            secs(lo, a);
            secs(c->last_sched, b);
            set_msg(c, TB_CHECK_FAIL, "%s:%u: time goes backward in script: %s sec after %s sec", s->file_name,
                    ev->line, a, b);
            break;
        }
        if (!any) c->last_sched = lo;
        if (ev->kind == TB_SCRIPT_EVENT_PACKET && ev->u.packet.direction == TB_SCRIPT_OUTBOUND) {
            do_outbound(c, ev, lo, hi, lo, any);
            continue;
        }
        tb_time_ns at = lo + TB_CHECK_T0_NS;
        const char *what = ev->kind == TB_SCRIPT_EVENT_PACKET ? "inbound packet" : "system call";
        /* A call waits for the one in progress (packetdrill has one thread for them). */
        if (ev->kind == TB_SCRIPT_EVENT_CALL && c->pend.kind != PEND_NONE && at >= c->now) {
            advance(c, at, false);
            check_unexpected(c, ev, at);
            if (c->done) break;
            if (c->pend.kind != PEND_NONE) advance_until(c, at + c->tol, true, true);
            if (c->pend.kind != PEND_NONE && !c->done && c->out_count == 0) {
                char a[32];
                secs(lo, a);
                set_msg(c, TB_CHECK_FAIL,
                        "%s:%u: timing error: expected system call to start at %s sec but the blocking %s call of "
                        "line %u has not returned",
                        s->file_name, ev->line, a, c->pend.ev->u.call.name, c->pend.ev->line);
                break;
            }
            if (c->out_count > 0) check_unexpected(c, ev, c->now + c->tol + 1);
            if (c->done) break;
        }
        if (at < c->now - c->tol) {
            /* Something earlier took longer than the script gave it. */
            char a[32], b[32];
            secs(lo, a);
            secs(to_script(c->now), b);
            set_msg(c, TB_CHECK_FAIL, "%s:%u: timing error: expected %s at %s sec but happened at %s sec",
                    s->file_name, ev->line, what, a, b);
            break;
        }
        if (at < c->now) at = c->now;   /* within the tolerance */
        advance(c, at, false);
        check_unexpected(c, ev, lo + TB_CHECK_T0_NS);
        if (c->done) break;
        c->call_base = (tm->kind == TB_SCRIPT_TIME_RELATIVE) ? c->base : 0;
        c->base = to_script(c->now);
        if (ev->kind == TB_SCRIPT_EVENT_PACKET) {
            if (ev->u.packet.kind == TB_SCRIPT_PACKET_ICMP) do_inbound_icmp(c, ev);
            else do_inbound(c, ev);
            continue;
        }
        /* As packetdrill: the next relative time counts from the call's
         * start, blocking or not. */
        do_call(c, ev);
    }
    if (!c->done && c->pend.kind != PEND_NONE) {
        /* The script ends with a call in progress: it has until its end time, if any. */
        const struct tb_script_time *end = &c->pend.ev->u.call.end;
        if (end->kind != TB_SCRIPT_TIME_NONE) advance_until(c, end_time(c) + c->tol + TB_CHECK_T0_NS, false, true);
        if (c->pend.kind != PEND_NONE && !c->done)
            set_msg(c, TB_CHECK_FAIL, "%s:%u: blocking %s call did not return by the end of the script", s->file_name,
                    c->pend.ev->line, c->pend.ev->u.call.name);
    }
}

enum tb_check_outcome tb_check_run(const struct tb_script *s, const struct tb_check_opts *o, char *msg,
                                   size_t msg_len) {
    struct tb_check_opts dflt;
    if (o == NULL) {
        tb_check_opts_default(&dflt);
        o = &dflt;
    }
    if (msg_len > 0) msg[0] = '\0';
    struct ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        if (msg_len > 0) snprintf(msg, msg_len, "%s: out of memory", s->file_name);
        return TB_CHECK_FAIL;
    }
    c->s = s;
    c->o = o;
    c->msg = msg;
    c->msg_len = msg_len;
    c->result = TB_CHECK_PASS;
    c->tol = o->tolerance_ns >= 0 ? o->tolerance_ns : 0;
    c->local_ip = TB_CHECK_LOCAL_IP;
    c->remote_ip = TB_CHECK_REMOTE_IP;
    c->remote_isn = o->remote_isn;
    c->cur = -1;
    prescan(c);
    if (c->done) goto out;
    c->out = calloc(MAX_OUT, sizeof(*c->out));
    if (c->out == NULL) {
        set_msg(c, TB_CHECK_FAIL, "%s: out of memory", s->file_name);
        goto out;
    }
    if (o->cfg != NULL) c->cfg = *o->cfg;
    else tb_check_profile_config(o->profile, &c->cfg);
    c->cfg.seed = o->seed;
    c->cfg.mac = mac_stack;
    c->cfg.ipv4_addr = c->local_ip;
    c->cfg.ipv4_prefix_len = 0;   /* the script's remote end is on the link, whatever its address */
    c->cfg.ipv4_gateway = 0;
    c->cfg.arp_reachable_ns = TB_TCP_TIME_KNOB_MAX_NS;
    struct tb_host_params hp = {.name = "check", .cfg = &c->cfg, .port_ops = &script_port, .port = c,
                                .env_ops = &script_env, .env = c};
    c->h = tb_host_new(&hp);
    if (c->h == NULL) {
        const char *why = "out of memory";
        tb_config_check(&c->cfg, &why);
        set_msg(c, TB_CHECK_FAIL, "%s: the stack cannot be built: %s", s->file_name, why);
        goto out;
    }
    tb_host_set_app(c->h, app, c);
    if (o->pcap_path != NULL) {
        char err[256];
        c->pcap = tb_pcap_open(o->pcap_path, err, sizeof(err));
        if (c->pcap == NULL) {
            set_msg(c, TB_CHECK_FAIL, "%s: %s", s->file_name, err);
            goto out;
        }
        tb_pcap_attach(c->h, c->pcap);
    }
    tb_peer_host_init(&c->rhost, &mac_remote, c->remote_ip, &mac_stack, c->local_ip);
    /* The remote end introduces itself before script time 0; the stack's
     * ARP reply is not the script's business. */
    c->now = 0;
    uint8_t arp[TB_ETH_MIN_FRAME];
    inject_now(c, arp, tb_peer_build_arp_request(&c->rhost, arp, sizeof(arp)));
    c->out_count = 0;
    advance(c, TB_CHECK_T0_NS, false);
    c->out_count = 0;
    c->base = 0;
    run_events(c);
out:;
    enum tb_check_outcome r = c->result;
    if (o->spanned_ns != NULL) *o->spanned_ns = c->now > TB_CHECK_T0_NS ? c->now - TB_CHECK_T0_NS : 0;
    if (r == TB_CHECK_PASS && msg_len > 0) msg[c->warn_len < msg_len ? c->warn_len : msg_len - 1] = '\0';
    if (c->pcap != NULL) {
        char err[256];
        if (tb_pcap_close(c->pcap, err, sizeof(err)) != 0 && r == TB_CHECK_PASS) {
            r = TB_CHECK_FAIL;
            if (msg_len > 0) snprintf(msg, msg_len, "%s: %s", s->file_name, err);
        }
    }
    if (c->h != NULL) tb_host_free(c->h);
    free(c->zeros);
    free(c->io);
    free(c->out);
    free(c);
    return r;
}
