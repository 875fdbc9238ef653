/* harness/packetdrill: tcpbed as a packetdrill shared object
 * (build/libtcpbed-packetdrill.so; docs/packetdrill.md).
 *
 * One tcpbed stack is a host (harness/host) over a port whose rx_burst
 * hands in what packetdrill injects and whose tx_burst queues what the
 * stack sends until packetdrill sniffs it. The environment's clock is
 * virtual: it moves only when packetdrill sleeps (usleep), waits for an
 * outbound packet (netdev_receive) or blocks in a call, and every stack
 * deadline on the way runs at its exact time.
 *
 * packetdrill runs blocking system calls on a second thread while its
 * main thread goes on injecting packets and sleeping, so every entry
 * point takes one mutex. A blocked call waits on a condition variable;
 * whenever the main thread changes the stack's state it lets the blocked
 * call look again, and if that call can now complete, waits (a bounded
 * while of real time) for its thread to come back for the clock before
 * moving time on, so the call's return time is the virtual time at which
 * it could complete. A blocking call on the main thread itself (a script
 * that did not mark it blocking, or a single-threaded driver) moves the
 * clock through the stack's own deadlines until it completes. */
#define _GNU_SOURCE
#include "harness/packetdrill/packetdrill_so.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "harness/check/linux.h"
#include "harness/host/host.h"
#include "harness/packetdrill/flags.h"
#include "tcpbed/buf.h"
#include "tcpbed/tcpbed.h"
#include "tcpbed/wire.h"

#define PD_FIRST_FD 3
#define PD_MAX_FDS 256
#define PD_FRAME_CAP 2048
#define PD_RX_RING 64
#define PD_TX_RING 1024
#define PD_EPOLL_ITEMS 64
#define PD_GTOD_SPIN 8              /* gettimeofday calls in a row before the clock creeps */
#define PD_T0_NS TB_NS_PER_S        /* virtual time at start: 1 s */

static const struct tb_mac mac_stack = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct tb_mac mac_remote = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

enum pd_kind { PD_FREE = 0, PD_SOCKET, PD_LISTENER, PD_CONN, PD_EPOLL };

struct pd_epoll_item {
    int fd;
    uint32_t events;
    epoll_data_t data;
};

struct pd_fd {
    enum pd_kind kind;
    int32_t handle;                 /* listener or connection; -1 */
    int32_t stash;                  /* listener: a connection poll took from the queue for accept */
    bool nonblock;
    uint16_t port;                  /* bound port; 0 none */
    int so_error;                   /* errno SO_ERROR reports once */
    bool error_reported;            /* the connection's error went out through SO_ERROR */
    bool reuseaddr, keepalive;
    int nodelay;                    /* -1: the stack's default */
    int64_t sndbuf, rcvbuf;         /* 0: the stack's default */
    int mss, keepidle, keepintvl, keepcnt;   /* 0: unset */
    struct linger linger;
    struct pd_epoll_item items[PD_EPOLL_ITEMS];
    size_t nitems;
};

struct pd_frame {
    size_t len;
    tb_time_ns t;
    uint8_t b[PD_FRAME_CAP];
};

struct pd {
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* a blocked call waits here for the state to change */
    pthread_cond_t cv_main;         /* the main thread waits here for a blocked call to look */
    pthread_t main_tid;
    struct tb_pd_flags fl;
    struct tb_config cfg;
    struct tb_host *h;
    tb_time_ns now;                 /* virtual */
    unsigned gtod_streak;

    struct pd_frame *rx;            /* frames for the stack: ARP replies, injected packets */
    size_t rx_head, rx_count;
    struct pd_frame *tx;            /* IP packets the stack sent, not yet sniffed */
    size_t tx_head, tx_count;
    uint64_t tx_overflow;

    struct pd_fd fds[PD_MAX_FDS];

    uint64_t gen;                   /* bumps whenever the main thread changed something */
    struct {
        bool active;                /* a call is blocked on another thread */
        bool finishing;             /* it completed; its thread has not come back yet */
        pthread_t tid;
        uint64_t seen;              /* the last gen it looked at */
        tb_time_ns wake;            /* it completes by itself then (a poll timeout) */
    } blk;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("tcpbed-packetdrill: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- errno ------------------------------------------------------------------ */

/* The Linux errno for a tcpbed error (harness/check/linux.c: the same table
 * as tcpbed check's; the build is for Linux, so they are <errno.h>'s). */
static int errno_of(int64_t e) { return tb_linux_errno_value(tb_linux_errno_name((int)e)); }

static int fail(int e) {
    errno = e;
    return -1;
}

/* ---- the port ---------------------------------------------------------------- */

static void rx_push(struct pd *p, const uint8_t *frame, size_t len) {
    if (p->rx_count == PD_RX_RING || len > PD_FRAME_CAP) return;   /* the stack would have dropped it too */
    struct pd_frame *f = &p->rx[(p->rx_head + p->rx_count) % PD_RX_RING];
    p->rx_count++;
    memcpy(f->b, frame, len);
    f->len = len;
    f->t = p->now;
}

static size_t port_rx(void *port, struct tb_host *h, struct tb_buf **frames, size_t max) {
    struct pd *p = port;
    size_t n = 0;
    while (n < max && p->rx_count > 0) {
        struct pd_frame *f = &p->rx[p->rx_head];
        p->rx_head = (p->rx_head + 1) % PD_RX_RING;
        p->rx_count--;
        struct tb_buf *b = tb_host_alloc_rx(h, f->len);
        if (b == NULL) continue;   /* pool dry: counted by the stack, the frame is lost */
        memcpy(b->data, f->b, f->len);
        frames[n++] = b;
    }
    return n;
}

/* ARP is the plug-in's business, not the script's: every request the
 * stack makes is answered at once with the remote MAC, whatever address
 * it asks for (every remote address is on the link). */
static void answer_arp(struct pd *p, const uint8_t *frame, size_t len) {
    struct tb_arp_repr q;
    if (tb_arp_parse(frame + TB_ETH_HDR_LEN, len - TB_ETH_HDR_LEN, &q) != TB_WIRE_OK) return;
    if (q.op != TB_ARP_OP_REQUEST || q.tpa == p->cfg.ipv4_addr) return;
    struct tb_arp_repr a = {.op = TB_ARP_OP_REPLY, .sha = mac_remote, .tha = q.sha, .spa = q.tpa, .tpa = q.spa};
    uint8_t out[TB_ETH_MIN_FRAME] = {0};
    struct tb_eth_repr e = {.dst = q.sha, .src = mac_remote, .ethertype = TB_ETHERTYPE_ARP};
    tb_eth_emit(&e, out);
    tb_arp_emit(&a, out + TB_ETH_HDR_LEN);
    rx_push(p, out, sizeof(out));
}

static void port_tx(void *port, struct tb_host *h, struct tb_buf *const *frames, size_t n) {
    (void)h;
    struct pd *p = port;
    for (size_t i = 0; i < n; i++) {
        uint8_t flat[PD_FRAME_CAP];
        size_t len = tb_buf_chain_len(frames[i]);
        if (len > sizeof(flat) || len < TB_ETH_HDR_LEN) continue;
        tb_buf_copy_out(frames[i], 0, flat, len);
        uint16_t type = tb_get16(flat + 12);
        if (type == TB_ETHERTYPE_ARP) {
            answer_arp(p, flat, len);
            continue;
        }
        if (type != TB_ETHERTYPE_IPV4) continue;
        /* Strip Ethernet and its padding: packetdrill sees the IP datagram. */
        struct tb_ipv4_view v;
        if (tb_view_ipv4(flat + TB_ETH_HDR_LEN, len - TB_ETH_HDR_LEN, &v) != TB_WIRE_OK) continue;
        size_t ip_len = v.total_len <= len - TB_ETH_HDR_LEN ? v.total_len : len - TB_ETH_HDR_LEN;
        if (p->tx_count == PD_TX_RING) {
            if (p->tx_overflow++ == 0)
                say("more than %d packets sent and never sniffed; dropping the newest", PD_TX_RING);
            continue;
        }
        struct pd_frame *f = &p->tx[(p->tx_head + p->tx_count) % PD_TX_RING];
        p->tx_count++;
        memcpy(f->b, flat + TB_ETH_HDR_LEN, ip_len);
        f->len = ip_len;
        f->t = p->now;
    }
}

static tb_time_ns env_now(void *env) { return ((const struct pd *)env)->now; }

static const struct tb_port_ops pd_port = {.rx_burst = port_rx, .tx_burst = port_tx};
static const struct tb_host_env_ops pd_env = {.now = env_now};

/* State is read through tb_tcp_info and call results; events are drained. */
static void app(struct tb_host *h, void *ctx) {
    (void)ctx;
    struct tb_event ev[32];
    while (tb_host_events(h, ev, 32) == 32) {
    }
}

/* The stack is built when its address is first needed: the local_ip
 * flag, else the address packetdrill binds to or sends its first packet
 * to (current packetdrill picks its local address at random in
 * 192.168.0.0/16), else 192.168.0.1. */
#define PD_DEFAULT_IP 0xc0a80001u

static bool ensure_host(struct pd *p, uint32_t hint) {
    if (p->h != NULL) return true;
    p->cfg.ipv4_addr = p->fl.local_ip != 0 ? p->fl.local_ip : hint != 0 ? hint : PD_DEFAULT_IP;
    struct tb_host_params hp = {.name = "packetdrill", .cfg = &p->cfg, .port_ops = &pd_port, .port = p,
                                .env_ops = &pd_env, .env = p};
    p->h = tb_host_new(&hp);
    if (p->h == NULL) {
        say("the stack cannot be built: out of memory");
        return false;
    }
    tb_host_set_app(p->h, app, p);
    if (p->fl.verbose) {
        uint32_t a = p->cfg.ipv4_addr;
        say("tcpbed is %u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    }
    return true;
}

/* ---- the loop and the clock ------------------------------------------------------- */

static void deadline_in(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* A blocked call on another thread looks at the new state; if it can
 * complete, its thread gets to read the clock before time moves on. */
static void settle(struct pd *p) {
    if (!p->blk.active && !p->blk.finishing) return;
    if (pthread_equal(p->blk.tid, pthread_self())) return;
    p->gen++;
    pthread_cond_broadcast(&p->cv);
    struct timespec dl;
    deadline_in(&dl, 1000);
    while (p->blk.active && p->blk.seen != p->gen)
        if (pthread_cond_timedwait(&p->cv_main, &p->mu, &dl) == ETIMEDOUT) break;
    while (p->blk.finishing)
        if (pthread_cond_timedwait(&p->cv_main, &p->mu, &dl) == ETIMEDOUT) {
            p->blk.finishing = false;
            break;
        }
}

/* One pass of the host at now, and more while ARP replies wait to go in. */
static void pass(struct pd *p) {
    if (p->h == NULL) return;
    unsigned rounds = 0;
    do tb_host_poll(p->h);
    while (p->rx_count > 0 && ++rounds < 64);
    settle(p);
}

/* After calls made outside a pass: send what they queued. */
static void flush(struct pd *p) {
    if (p->h == NULL) return;
    int e = errno;
    tb_host_kick(p->h);
    if (p->rx_count > 0) pass(p);
    else settle(p);
    errno = e;
}

/* Moves the clock to t, running every deadline on the way at its time;
 * with stop_on_tx, stops at the first packet the stack sends. */
static void advance_to(struct pd *p, tb_time_ns t, bool stop_on_tx) {
    unsigned same = 0;
    for (;;) {
        if (stop_on_tx && p->tx_count > 0) return;
        tb_time_ns next = p->h != NULL ? tb_host_next_deadline(p->h) : TB_TIME_NEVER;
        if (p->blk.active && p->blk.wake > p->now && p->blk.wake < next) next = p->blk.wake;
        if (next == TB_TIME_NEVER || next > t) break;
        if (next > p->now) {
            p->now = next;
            same = 0;
        } else if (++same > 1000) {
            break;   /* a deadline that does not move: leave it */
        }
        pass(p);
    }
    if (stop_on_tx && p->tx_count > 0) return;
    if (t > p->now) {
        p->now = t;
        pass(p);
    }
}

static struct pd *enter(void *ud, bool clock_read) {
    struct pd *p = ud;
    pthread_mutex_lock(&p->mu);
    if (p->blk.finishing && pthread_equal(p->blk.tid, pthread_self())) {
        p->blk.finishing = false;
        pthread_cond_broadcast(&p->cv_main);
    }
    if (!clock_read) p->gtod_streak = 0;
    return p;
}

/* errno is the call's answer: nothing on the way out may change it. */
static void leave(struct pd *p) {
    int e = errno;
    pthread_mutex_unlock(&p->mu);
    errno = e;
}

/* A call that may block. attempt() returns true once it completed (its
 * result in ctx). `wake` is a virtual time at which it completes anyway
 * (a poll timeout), TB_TIME_NEVER if none. Returns false when it would
 * block and may not or cannot wait. */
typedef bool (*pd_attempt_fn)(struct pd *p, void *ctx);

static bool run_blocking(struct pd *p, pd_attempt_fn attempt, void *ctx, bool nonblock, tb_time_ns wake,
                         const char *what) {
    if (attempt(p, ctx)) return true;
    if (nonblock) return false;
    if (pthread_equal(pthread_self(), p->main_tid) || p->blk.active) {
        /* Nobody else moves the clock: move it ourselves, deadline to deadline. */
        tb_time_ns limit = p->now + p->fl.block_horizon_ns;
        for (;;) {
            tb_time_ns next = p->h != NULL ? tb_host_next_deadline(p->h) : TB_TIME_NEVER;
            if (wake < next) next = wake;
            if (next == TB_TIME_NEVER || next > limit) {
                say("%s would block forever (nothing due in the next %" PRId64 " s of virtual time)", what,
                    p->fl.block_horizon_ns / TB_NS_PER_S);
                return false;
            }
            if (next <= p->now) next = p->now + 1;
            advance_to(p, next, false);
            if (attempt(p, ctx)) return true;
        }
    }
    p->blk.active = true;
    p->blk.tid = pthread_self();
    p->blk.wake = wake;
    bool done = false;
    for (;;) {
        uint64_t g = p->gen;
        p->blk.seen = g;
        pthread_cond_broadcast(&p->cv_main);
        struct timespec dl;
        deadline_in(&dl, p->fl.block_timeout_ms);
        int rc = 0;
        while (p->gen == g && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&p->cv, &p->mu, &dl);
        if (p->gen == g) {
            say("%s blocked for %" PRId64 " ms of real time while nothing moved the virtual clock", what,
                p->fl.block_timeout_ms);
            break;
        }
        if (attempt(p, ctx)) {
            done = true;
            break;
        }
    }
    p->blk.active = false;
    p->blk.finishing = done;
    pthread_cond_broadcast(&p->cv_main);
    return done;
}

/* ---- descriptors ------------------------------------------------------------- */

static struct pd_fd *fd_get(struct pd *p, int fd) {
    if (fd < PD_FIRST_FD || fd >= PD_MAX_FDS || p->fds[fd].kind == PD_FREE) return NULL;
    return &p->fds[fd];
}

static int fd_alloc(struct pd *p, enum pd_kind kind) {
    for (int i = PD_FIRST_FD; i < PD_MAX_FDS; i++)
        if (p->fds[i].kind == PD_FREE) {
            memset(&p->fds[i], 0, sizeof(p->fds[i]));
            p->fds[i].kind = kind;
            p->fds[i].handle = -1;
            p->fds[i].stash = -1;
            p->fds[i].nodelay = -1;
            return i;
        }
    return -1;
}

static bool conn_info(struct pd *p, const struct pd_fd *f, struct tb_tcp_info *in) {
    return f->kind == PD_CONN && tb_tcp_info(tb_host_stack(p->h), f->handle, in) == TB_OK;
}

static void fill_addr(struct sockaddr *addr, socklen_t *addrlen, uint32_t ip, uint16_t port) {
    if (addr == NULL || addrlen == NULL) return;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(ip);
    memcpy(addr, &sin, *addrlen < sizeof(sin) ? *addrlen : sizeof(sin));
    *addrlen = sizeof(sin);
}

/* The options a socket carries to its connection: given to connect
 * before the SYN is built, kept by a listener for its connections before
 * their SYN-ACK (so SO_RCVBUF and TCP_MAXSEG shape the handshake). */
static size_t opts_list(const struct pd_fd *f, struct tb_tcp_optval *o) {
    size_t n = 0;
    if (f->nodelay >= 0) o[n++] = (struct tb_tcp_optval){TB_TCP_OPT_NODELAY, f->nodelay};
    if (f->sndbuf > 0) o[n++] = (struct tb_tcp_optval){TB_TCP_OPT_SNDBUF, f->sndbuf};
    if (f->rcvbuf > 0) o[n++] = (struct tb_tcp_optval){TB_TCP_OPT_RCVBUF, f->rcvbuf};
    if (f->mss > 0) o[n++] = (struct tb_tcp_optval){TB_TCP_OPT_MSS, f->mss};
    if (f->keepintvl > 0) o[n++] = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_INTVL_NS, f->keepintvl * TB_NS_PER_S};
    if (f->keepcnt > 0) o[n++] = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_PROBES, f->keepcnt};
    if (f->keepalive)
        o[n++] = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_IDLE_NS,
                                        (f->keepidle > 0 ? f->keepidle : 7200) * TB_NS_PER_S};
    return n;
}

/* ---- readiness (poll, epoll) ---------------------------------------------------- */

static uint32_t readiness(struct pd *p, struct pd_fd *f) {
    struct tb_tcp_info in;
    uint32_t ev = 0;
    if (f->kind == PD_LISTENER) {
        if (f->stash < 0) {
            int32_t c = tb_host_accept(p->h, f->handle);
            if (c >= 0) f->stash = c;
        }
        return f->stash >= 0 ? POLLIN : 0;
    }
    if (f->kind == PD_SOCKET) return POLLOUT | POLLHUP;   /* Linux: an unconnected stream socket */
    if (!conn_info(p, f, &in)) return POLLNVAL;
    if (in.error != 0) {
        ev |= POLLERR;
        if (in.error == TB_ERR_RESET || in.error == TB_ERR_TIMEOUT || in.error == TB_ERR_REFUSED) ev |= POLLHUP;
        ev |= POLLIN;
    }
    if (in.state == TB_TCP_SYN_SENT || in.state == TB_TCP_SYN_RECEIVED) return ev;
    if (in.rcvbuf_used_bytes > 0) ev |= POLLIN | POLLRDNORM;
    bool fin_in = in.state == TB_TCP_CLOSE_WAIT || in.state == TB_TCP_LAST_ACK || in.state == TB_TCP_CLOSING ||
                  in.state == TB_TCP_TIME_WAIT || in.state == TB_TCP_CLOSED;
    if (fin_in) ev |= POLLIN | POLLRDNORM | POLLRDHUP;
    bool fin_out = in.state >= TB_TCP_FIN_WAIT_1 && in.state != TB_TCP_CLOSE_WAIT;
    if (fin_in && fin_out) ev |= POLLHUP;
    uint32_t sndbuf = f->sndbuf > 0 ? (uint32_t)f->sndbuf : p->cfg.tcp_sndbuf_bytes;
    if (!fin_out && in.error == 0 && in.sndbuf_used_bytes < sndbuf) ev |= POLLOUT | POLLWRNORM;
    return ev;
}

/* ---- the table's entries ----------------------------------------------------------- */

static void pd_free(void *ud) {
    struct pd *p = ud;
    if (p == NULL) return;
    if (p->h != NULL) tb_host_free(p->h);
    free(p->rx);
    free(p->tx);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->cv_main);
    free(p);
}

static int pd_socket(void *ud, int domain, int type, int protocol) {
    struct pd *p = enter(ud, false);
    int r;
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_INET) r = fail(EAFNOSUPPORT);
    else if (base != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP)) r = fail(EPROTONOSUPPORT);
    else if ((r = fd_alloc(p, PD_SOCKET)) < 0) r = fail(EMFILE);
    else p->fds[r].nonblock = (type & SOCK_NONBLOCK) != 0;
    leave(p);
    return r;
}

static bool sockaddr_in_of(const struct sockaddr *addr, socklen_t len, struct sockaddr_in *out) {
    if (addr == NULL || len < sizeof(*out)) return false;
    memcpy(out, addr, sizeof(*out));
    return out->sin_family == AF_INET;
}

static int pd_bind(void *ud, int fd, const struct sockaddr *addr, socklen_t addrlen) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    struct sockaddr_in sin;
    int r = 0;
    if (f == NULL) r = fail(EBADF);
    else if (f->kind == PD_EPOLL) r = fail(ENOTSOCK);
    else if (f->kind != PD_SOCKET || f->port != 0) r = fail(EINVAL);
    else if (!sockaddr_in_of(addr, addrlen, &sin))
        r = fail(addr != NULL && addrlen >= sizeof(sa_family_t) ? EAFNOSUPPORT : EINVAL);
    else if (ntohs(sin.sin_port) == 0) r = fail(EINVAL);   /* tcpbed picks ports only for connect */
    else {
        uint32_t a = ntohl(sin.sin_addr.s_addr);
        if (a != INADDR_ANY && !ensure_host(p, a)) r = fail(ENOMEM);
        else if (a != INADDR_ANY && a != p->cfg.ipv4_addr) r = fail(EADDRNOTAVAIL);
        else f->port = ntohs(sin.sin_port);
    }
    leave(p);
    return r;
}

static int pd_listen(void *ud, int fd, int backlog) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    int r = 0;
    if (f == NULL) r = fail(EBADF);
    else if (f->kind == PD_LISTENER) r = 0;
    else if (f->kind != PD_SOCKET || f->port == 0) r = fail(f->kind == PD_EPOLL ? ENOTSOCK : EINVAL);
    else if (!ensure_host(p, 0)) r = fail(ENOMEM);
    else {
        int32_t h = tb_host_listen(p->h, f->port, (uint32_t)(backlog <= 0 ? 1 : backlog));
        if (h < 0) r = fail(errno_of(h));
        else {
            f->kind = PD_LISTENER;
            f->handle = h;
            struct tb_tcp_optval o[TB_TCP_MAX_PRESET_OPTS];
            size_t n = opts_list(f, o);
            for (size_t i = 0; i < n; i++) tb_host_setopt(p->h, h, (enum tb_tcp_opt)o[i].opt, o[i].value);
        }
    }
    leave(p);
    return r;
}

struct accept_ctx {
    int fd;
    int result;
    int err;
    struct sockaddr *addr;
    socklen_t *addrlen;
};

static bool attempt_accept(struct pd *p, void *vc) {
    struct accept_ctx *c = vc;
    struct pd_fd *f = fd_get(p, c->fd);
    if (f == NULL || f->kind != PD_LISTENER) {
        c->result = -1, c->err = EBADF;
        return true;
    }
    int32_t h = f->stash;
    f->stash = -1;
    if (h < 0) h = tb_host_accept(p->h, f->handle);
    if (h == TB_ERR_AGAIN) return false;
    if (h < 0) {
        c->result = -1, c->err = errno_of(h);
        return true;
    }
    int nf = fd_alloc(p, PD_CONN);
    if (nf < 0) {
        tb_host_abort(p->h, h);
        c->result = -1, c->err = EMFILE;
        return true;
    }
    struct pd_fd *n = &p->fds[nf];
    f = &p->fds[c->fd];
    n->handle = h;
    n->port = f->port;
    n->nodelay = f->nodelay, n->sndbuf = f->sndbuf, n->rcvbuf = f->rcvbuf, n->mss = f->mss;
    n->keepalive = f->keepalive, n->keepidle = f->keepidle, n->keepintvl = f->keepintvl, n->keepcnt = f->keepcnt;
    struct tb_tcp_info in;
    if (conn_info(p, n, &in)) fill_addr(c->addr, c->addrlen, in.remote_ipv4, in.remote_port);
    c->result = nf;
    return true;
}

static int pd_accept(void *ud, int fd, struct sockaddr *addr, socklen_t *addrlen) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    struct accept_ctx c = {.fd = fd, .addr = addr, .addrlen = addrlen};
    int r;
    if (f == NULL) r = fail(EBADF);
    else if (f->kind != PD_LISTENER) r = fail(f->kind == PD_EPOLL ? ENOTSOCK : EINVAL);
    else if (!run_blocking(p, attempt_accept, &c, f->nonblock, TB_TIME_NEVER, "accept")) r = fail(EAGAIN);
    else r = c.result < 0 ? fail(c.err) : c.result;
    flush(p);
    leave(p);
    return r;
}

struct conn_ctx {
    int fd;
    int err;
};

static bool attempt_connected(struct pd *p, void *vc) {
    struct conn_ctx *c = vc;
    struct tb_tcp_info in;
    struct pd_fd *f = fd_get(p, c->fd);
    if (f == NULL || !conn_info(p, f, &in)) {
        c->err = EBADF;
        return true;
    }
    if (in.error != 0) {
        c->err = errno_of(in.error);
        return true;
    }
    if (in.state == TB_TCP_SYN_SENT || in.state == TB_TCP_SYN_RECEIVED) return false;
    c->err = 0;
    return true;
}

static int pd_connect(void *ud, int fd, const struct sockaddr *addr, socklen_t addrlen) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    struct sockaddr_in sin;
    int r = 0;
    if (f == NULL) r = fail(EBADF);
    else if (f->kind == PD_CONN) {
        struct tb_tcp_info in;
        if (!conn_info(p, f, &in)) r = fail(EBADF);
        else if (in.error != 0) r = fail(errno_of(in.error));
        else r = fail(in.state == TB_TCP_SYN_SENT ? EALREADY : EISCONN);
    } else if (f->kind != PD_SOCKET) r = fail(f->kind == PD_EPOLL ? ENOTSOCK : EISCONN);
    else if (!sockaddr_in_of(addr, addrlen, &sin)) r = fail(EAFNOSUPPORT);
    else if (!ensure_host(p, 0)) r = fail(ENOMEM);
    else {
        uint32_t dst = ntohl(sin.sin_addr.s_addr);
        uint16_t port = ntohs(sin.sin_port);
        struct tb_tcp_optval o[TB_TCP_MAX_PRESET_OPTS];
        size_t no = opts_list(f, o);
        int32_t h = tb_host_connect_opts(p->h, f->port, dst, port, o, no);
        if (h < 0) r = fail(errno_of(h));
        else {
            f->kind = PD_CONN;
            f->handle = h;
            flush(p);
            if (f->nonblock) r = fail(EINPROGRESS);
            else {
                struct conn_ctx c = {.fd = fd};
                if (!run_blocking(p, attempt_connected, &c, false, TB_TIME_NEVER, "connect")) r = fail(ETIMEDOUT);
                else r = c.err ? fail(c.err) : 0;
            }
        }
    }
    flush(p);
    leave(p);
    return r;
}

/* ---- reading and writing ---------------------------------------------------------- */

struct io_ctx {
    int fd;
    const struct iovec *iov;
    int iovcnt;
    size_t done;
    ssize_t result;
    int err;
};

static size_t iov_total(const struct iovec *iov, int n) {
    size_t t = 0;
    for (int i = 0; i < n; i++) t += iov[i].iov_len;
    return t;
}

static bool attempt_read(struct pd *p, void *vc) {
    struct io_ctx *c = vc;
    struct pd_fd *f = fd_get(p, c->fd);
    if (f == NULL || f->kind != PD_CONN) {
        c->result = -1, c->err = EBADF;
        return true;
    }
    if (iov_total(c->iov, c->iovcnt) == 0) {
        c->result = 0;
        return true;
    }
    size_t got = 0;
    for (int i = 0; i < c->iovcnt; i++) {
        size_t off = 0;
        while (off < c->iov[i].iov_len) {
            int64_t n = tb_host_recv(p->h, f->handle, (uint8_t *)c->iov[i].iov_base + off, c->iov[i].iov_len - off);
            if (n > 0) {
                off += (size_t)n;
                got += (size_t)n;
                continue;
            }
            if (got > 0 || n == 0) {
                c->result = (ssize_t)got;
                return true;
            }
            if (n == TB_ERR_AGAIN) return false;
            c->result = -1, c->err = errno_of(n);
            return true;
        }
    }
    c->result = (ssize_t)got;
    return true;
}

static bool attempt_write(struct pd *p, void *vc) {
    struct io_ctx *c = vc;
    struct pd_fd *f = fd_get(p, c->fd);
    if (f == NULL || f->kind != PD_CONN) {
        c->result = -1, c->err = EBADF;
        return true;
    }
    size_t skip = c->done;
    for (int i = 0; i < c->iovcnt; i++) {
        size_t len = c->iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        while (skip < len) {
            int64_t n = tb_host_send(p->h, f->handle, (const uint8_t *)c->iov[i].iov_base + skip, len - skip);
            if (n > 0) {
                skip += (size_t)n;
                c->done += (size_t)n;
                continue;
            }
            if (n == TB_ERR_AGAIN || n == 0) return false;
            if (c->done > 0) c->result = (ssize_t)c->done;
            else c->result = -1, c->err = errno_of(n);
            return true;
        }
        skip = 0;
    }
    c->result = (ssize_t)c->done;
    return true;
}

static ssize_t do_io(void *ud, int fd, const struct iovec *iov, int iovcnt, int flags, bool is_read,
                     struct sockaddr *from, socklen_t *fromlen) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    struct io_ctx c = {.fd = fd, .iov = iov, .iovcnt = iovcnt};
    ssize_t r;
    const int known = MSG_DONTWAIT | MSG_NOSIGNAL;
    if (f == NULL) r = fail(EBADF);
    else if (f->kind == PD_EPOLL) r = fail(EINVAL);
    else if (f->kind != PD_CONN) r = fail(is_read ? ENOTCONN : EPIPE);   /* Linux's answers */
    else if (iovcnt < 0 || (iovcnt > 0 && iov == NULL)) r = fail(EINVAL);
    else if ((flags & ~known) != 0) r = fail(EOPNOTSUPP);
    else {
        bool nonblock = f->nonblock || (flags & MSG_DONTWAIT) != 0;
        bool done = run_blocking(p, is_read ? attempt_read : attempt_write, &c, nonblock, TB_TIME_NEVER,
                                 is_read ? "read" : "write");
        if (!done && !is_read && c.done > 0) r = (ssize_t)c.done;   /* a partial non-blocking write */
        else if (!done) r = fail(EAGAIN);
        else r = c.result < 0 ? fail(c.err) : c.result;
        if (r >= 0 && is_read && from != NULL) {
            struct tb_tcp_info in;
            if (conn_info(p, &p->fds[fd], &in)) fill_addr(from, fromlen, in.remote_ipv4, in.remote_port);
        }
    }
    flush(p);
    leave(p);
    return r;
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t count) {
    struct iovec v = {.iov_base = buf, .iov_len = count};
    return do_io(ud, fd, &v, 1, 0, true, NULL, NULL);
}
static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int iovcnt) {
    return do_io(ud, fd, iov, iovcnt, 0, true, NULL, NULL);
}
static ssize_t pd_recv(void *ud, int fd, void *buf, size_t len, int flags) {
    struct iovec v = {.iov_base = buf, .iov_len = len};
    return do_io(ud, fd, &v, 1, flags, true, NULL, NULL);
}
static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags, struct sockaddr *src,
                           socklen_t *srclen) {
    struct iovec v = {.iov_base = buf, .iov_len = len};
    return do_io(ud, fd, &v, 1, flags, true, src, srclen);
}
static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags) {
    if (msg == NULL) return fail(EFAULT);
    socklen_t nl = msg->msg_namelen;
    ssize_t r = do_io(ud, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, true,
                      msg->msg_name != NULL ? msg->msg_name : NULL, msg->msg_name != NULL ? &nl : NULL);
    if (r >= 0) {
        if (msg->msg_name != NULL) msg->msg_namelen = nl;
        msg->msg_controllen = 0;   /* no ancillary data */
        msg->msg_flags = 0;
    }
    return r;
}
static ssize_t pd_write(void *ud, int fd, const void *buf, size_t count) {
    struct iovec v = {.iov_base = (void *)buf, .iov_len = count};
    return do_io(ud, fd, &v, 1, 0, false, NULL, NULL);
}
static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov, int iovcnt) {
    return do_io(ud, fd, iov, iovcnt, 0, false, NULL, NULL);
}
static ssize_t pd_send(void *ud, int fd, const void *buf, size_t len, int flags) {
    struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
    return do_io(ud, fd, &v, 1, flags, false, NULL, NULL);
}
static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t len, int flags, const struct sockaddr *dst,
                         socklen_t dstlen) {
    (void)dst, (void)dstlen;   /* a connected stream socket ignores the address, as Linux does */
    struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
    return do_io(ud, fd, &v, 1, flags, false, NULL, NULL);
}
static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *msg, int flags) {
    if (msg == NULL) return fail(EFAULT);
    if (msg->msg_controllen != 0) return fail(EOPNOTSUPP);
    return do_io(ud, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, false, NULL, NULL);
}

/* ---- control ------------------------------------------------------------------------ */

static int pd_fcntl(void *ud, int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    int arg = (cmd == F_SETFL || cmd == F_SETFD) ? va_arg(ap, int) : 0;
    va_end(ap);
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    int r = 0;
    if (f == NULL) r = fail(EBADF);
    else if (cmd == F_GETFL) r = O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
    else if (cmd == F_SETFL) f->nonblock = (arg & O_NONBLOCK) != 0;
    else if (cmd == F_GETFD || cmd == F_SETFD) r = 0;
    else r = fail(EINVAL);
    leave(p);
    return r;
}

static int pd_ioctl(void *ud, int fd, unsigned long request, ...) {
    va_list ap;
    va_start(ap, request);
    int *arg = va_arg(ap, int *);
    va_end(ap);
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    struct tb_tcp_info in;
    int r = 0;
    if (f == NULL) r = fail(EBADF);
    else if (arg == NULL) r = fail(EFAULT);
    else if (request == FIONBIO) f->nonblock = *arg != 0;
    else if (request == FIONREAD || request == TIOCOUTQ) {   /* SIOCINQ, SIOCOUTQ */
        if (f->kind == PD_LISTENER) r = fail(EINVAL);
        else if (!conn_info(p, f, &in)) *arg = 0;
        else *arg = (int)(request == FIONREAD ? in.rcvbuf_used_bytes : in.sndbuf_used_bytes);
    } else r = fail(ENOTTY);
    leave(p);
    return r;
}

static int pd_close(void *ud, int fd) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    int r = 0;
    if (f == NULL) r = fail(EBADF);
    else {
        if (f->stash >= 0) tb_host_abort(p->h, f->stash);
        if (f->handle >= 0) {
            int rc = (f->kind == PD_CONN && f->linger.l_onoff && f->linger.l_linger == 0)
                         ? tb_host_abort(p->h, f->handle)   /* SO_LINGER 0: reset */
                         : tb_host_close(p->h, f->handle);
            (void)rc;   /* close always gives the descriptor back */
        }
        /* Drop it from every epoll set, as closing the last reference does. */
        for (int i = PD_FIRST_FD; i < PD_MAX_FDS; i++)
            if (p->fds[i].kind == PD_EPOLL)
                for (size_t k = 0; k < p->fds[i].nitems; k++)
                    if (p->fds[i].items[k].fd == fd) p->fds[i].items[k--] = p->fds[i].items[--p->fds[i].nitems];
        f->kind = PD_FREE;
        flush(p);
    }
    leave(p);
    return r;
}

static int pd_shutdown(void *ud, int fd, int how) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    int r = 0;
    if (f == NULL) r = fail(EBADF);
    else if (how < SHUT_RD || how > SHUT_RDWR) r = fail(EINVAL);
    else if (f->kind != PD_CONN) r = fail(ENOTCONN);
    else if (how != SHUT_RD) {   /* SHUT_RD changes nothing on the wire */
        int rc = tb_host_shutdown(p->h, f->handle);
        if (rc != TB_OK && rc != TB_ERR_CLOSED) r = fail(errno_of(rc));
        flush(p);
    }
    leave(p);
    return r;
}

static bool int_arg(const void *v, socklen_t len, int *out) {
    if (v == NULL || len < sizeof(int)) return false;
    memcpy(out, v, sizeof(int));
    return true;
}

static int pd_setsockopt(void *ud, int fd, int level, int name, const void *val, socklen_t len) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    int v = 0, r = 0, rc = TB_OK;
    /* A connection takes an option now; a listener keeps it for its connections. */
    bool conn = f != NULL && (f->kind == PD_CONN || f->kind == PD_LISTENER);
    if (f == NULL) r = fail(EBADF);
    else if (f->kind == PD_EPOLL) r = fail(ENOTSOCK);
    else if (level == SOL_SOCKET && name == SO_LINGER) {
        if (val == NULL || len < sizeof(struct linger)) r = fail(EINVAL);
        else memcpy(&f->linger, val, sizeof(f->linger));
    } else if (!int_arg(val, len, &v)) r = fail(EINVAL);
    else if (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_REUSEPORT)) f->reuseaddr = v != 0;
    else if (level == SOL_SOCKET && name == SO_KEEPALIVE) {
        f->keepalive = v != 0;
        if (conn)
            rc = tb_host_setopt(p->h, f->handle, TB_TCP_OPT_KEEPALIVE_IDLE_NS,
                                v ? (f->keepidle > 0 ? f->keepidle : 7200) * TB_NS_PER_S : 0);
    } else if (level == SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF)) {
        if (v < 1024) v = 1024;   /* Linux rounds small sizes up; tcpbed's floor is 1 KiB */
        if (name == SO_SNDBUF) f->sndbuf = v;
        else f->rcvbuf = v;
        if (conn) rc = tb_host_setopt(p->h, f->handle, name == SO_SNDBUF ? TB_TCP_OPT_SNDBUF : TB_TCP_OPT_RCVBUF, v);
    } else if (level == IPPROTO_TCP && name == TCP_NODELAY) {
        f->nodelay = v != 0;
        if (conn) rc = tb_host_setopt(p->h, f->handle, TB_TCP_OPT_NODELAY, v != 0);
    } else if (level == IPPROTO_TCP && name == TCP_MAXSEG) {
        f->mss = v;
        if (conn) rc = tb_host_setopt(p->h, f->handle, TB_TCP_OPT_MSS, v);
    } else if (level == IPPROTO_TCP && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL || name == TCP_KEEPCNT)) {
        if (v < 1) r = fail(EINVAL);
        else if (name == TCP_KEEPIDLE) {
            f->keepidle = v;
            if (conn && f->keepalive)
                rc = tb_host_setopt(p->h, f->handle, TB_TCP_OPT_KEEPALIVE_IDLE_NS, v * TB_NS_PER_S);
        } else if (name == TCP_KEEPINTVL) {
            f->keepintvl = v;
            if (conn) rc = tb_host_setopt(p->h, f->handle, TB_TCP_OPT_KEEPALIVE_INTVL_NS, v * TB_NS_PER_S);
        } else {
            f->keepcnt = v;
            if (conn) rc = tb_host_setopt(p->h, f->handle, TB_TCP_OPT_KEEPALIVE_PROBES, v);
        }
    } else r = fail(ENOPROTOOPT);
    if (r == 0 && rc != TB_OK) r = fail(errno_of(rc));
    leave(p);
    return r;
}

static int put_int(void *val, socklen_t *len, int v) {
    if (val == NULL || len == NULL || *len < sizeof(int)) return fail(EINVAL);
    memcpy(val, &v, sizeof(v));
    *len = sizeof(int);
    return 0;
}

/* Linux's struct tcp_info (glibc's classic part: up to tcpi_total_retrans)
 * from tcpbed's, in Linux's numbers and units: microseconds, cwnd and
 * ssthresh in segments. Fields tcpbed does not keep are 0. */
static void linux_tcp_info(const struct tb_tcp_info *in, int64_t rto_max_ns, struct tcp_info *t) {
    struct tb_linux_tcpi l;
    tb_linux_tcpi(in, rto_max_ns, &l);   /* the same numbers tcpbed check compares */
    memset(t, 0, sizeof(*t));
    t->tcpi_state = (uint8_t)(l.state < 0 ? 0 : l.state);
    t->tcpi_ca_state = (uint8_t)l.ca_state;
    t->tcpi_retransmits = (uint8_t)l.backoff;
    t->tcpi_backoff = (uint8_t)l.backoff;
    t->tcpi_options = (uint8_t)l.options;
    t->tcpi_snd_wscale = (uint8_t)(l.snd_wscale & 15);
    t->tcpi_rcv_wscale = (uint8_t)(l.rcv_wscale & 15);
    t->tcpi_rto = (uint32_t)l.rto_us;
    t->tcpi_snd_mss = (uint32_t)l.snd_mss;
    t->tcpi_rcv_mss = (uint32_t)l.snd_mss;
    t->tcpi_unacked = (uint32_t)l.unacked;
    t->tcpi_rtt = (uint32_t)l.rtt_us;
    t->tcpi_rttvar = (uint32_t)l.rttvar_us;
    t->tcpi_snd_ssthresh = (uint32_t)l.snd_ssthresh;
    t->tcpi_snd_cwnd = (uint32_t)l.snd_cwnd;
    t->tcpi_advmss = (uint32_t)l.snd_mss;
    t->tcpi_total_retrans = (uint32_t)l.total_retrans;
}

static int pd_getsockopt(void *ud, int fd, int level, int name, void *val, socklen_t *len) {
    struct pd *p = enter(ud, false);
    struct pd_fd *f = fd_get(p, fd);
    struct tb_tcp_info in;
    bool have = f != NULL && conn_info(p, f, &in);
    int r;
    if (f == NULL) r = fail(EBADF);
    else if (f->kind == PD_EPOLL) r = fail(ENOTSOCK);
    else if (level == SOL_SOCKET && name == SO_ERROR) {
        int e = f->so_error;
        if (e == 0 && have && in.error != 0 && !f->error_reported) {
            e = errno_of(in.error);
            f->error_reported = true;   /* Linux clears the error it reports */
        }
        f->so_error = 0;
        r = put_int(val, len, e);
    } else if (level == SOL_SOCKET && name == SO_TYPE) r = put_int(val, len, SOCK_STREAM);
    else if (level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_REUSEPORT)) r = put_int(val, len, f->reuseaddr);
    else if (level == SOL_SOCKET && name == SO_KEEPALIVE) r = put_int(val, len, f->keepalive);
    else if (level == SOL_SOCKET && name == SO_SNDBUF)
        r = put_int(val, len, (int)(f->sndbuf > 0 ? f->sndbuf : p->cfg.tcp_sndbuf_bytes));
    else if (level == SOL_SOCKET && name == SO_RCVBUF)
        r = put_int(val, len, (int)(f->rcvbuf > 0 ? f->rcvbuf : p->cfg.tcp_rcvbuf_bytes));
    else if (level == IPPROTO_TCP && name == TCP_NODELAY)
        r = put_int(val, len, have ? in.nodelay : (f->nodelay >= 0 ? f->nodelay : p->cfg.tcp_nodelay));
    else if (level == IPPROTO_TCP && name == TCP_MAXSEG)
        r = put_int(val, len, have ? in.mss_bytes : (f->mss > 0 ? f->mss : 536));
    else if (level == IPPROTO_TCP && name == TCP_INFO) {
        if (val == NULL || len == NULL) r = fail(EFAULT);
        else if (f->kind == PD_LISTENER || f->kind == PD_SOCKET) {
            struct tcp_info t;   /* Linux reports a listener or a fresh socket too */
            memset(&t, 0, sizeof(t));
            t.tcpi_state = f->kind == PD_LISTENER ? 10 : 7;
            size_t n = *len < sizeof(t) ? *len : sizeof(t);
            memcpy(val, &t, n);
            *len = (socklen_t)n;
            r = 0;
        } else if (!have) {
            r = fail(EBADF);
        } else {
            struct tcp_info t;
            linux_tcp_info(&in, p->cfg.tcp_rto_max_ns, &t);
            size_t n = *len < sizeof(t) ? *len : sizeof(t);
            memcpy(val, &t, n);
            *len = (socklen_t)n;
            r = 0;
        }
    } else if (level == IPPROTO_TCP && name == TCP_KEEPIDLE)
        r = put_int(val, len, f->keepidle > 0 ? f->keepidle : 7200);
    else if (level == IPPROTO_TCP && name == TCP_KEEPINTVL) r = put_int(val, len, f->keepintvl > 0 ? f->keepintvl : 75);
    else if (level == IPPROTO_TCP && name == TCP_KEEPCNT) r = put_int(val, len, f->keepcnt > 0 ? f->keepcnt : 9);
    else r = fail(ENOPROTOOPT);
    leave(p);
    return r;
}

/* ---- poll and epoll --------------------------------------------------------------------- */

struct poll_ctx {
    struct pollfd *fds;
    nfds_t n;
    tb_time_ns wake;
    int result;
};

static bool attempt_poll(struct pd *p, void *vc) {
    struct poll_ctx *c = vc;
    int ready = 0;
    for (nfds_t i = 0; i < c->n; i++) {
        struct pollfd *q = &c->fds[i];
        q->revents = 0;
        if (q->fd < 0) continue;
        struct pd_fd *f = fd_get(p, q->fd);
        uint32_t ev = f == NULL ? POLLNVAL : f->kind == PD_EPOLL ? 0 : readiness(p, f);
        q->revents = (short)(ev & ((uint32_t)(uint16_t)q->events | POLLERR | POLLHUP | POLLNVAL));
        if (q->revents != 0) ready++;
    }
    c->result = ready;
    return ready > 0 || p->now >= c->wake;
}

static int pd_poll(void *ud, struct pollfd *fds, nfds_t nfds, int timeout) {
    struct pd *p = enter(ud, false);
    struct poll_ctx c = {.fds = fds, .n = nfds,
                         .wake = timeout < 0 ? TB_TIME_NEVER : p->now + (tb_time_ns)timeout * TB_NS_PER_MS};
    int r;
    if (nfds > 0 && fds == NULL) r = fail(EFAULT);
    else if (!run_blocking(p, attempt_poll, &c, false, c.wake, "poll")) r = fail(EINTR);
    else r = c.result;
    flush(p);
    leave(p);
    return r;
}

static int pd_epoll_create(void *ud, int size) {
    struct pd *p = enter(ud, false);
    int r;
    if (size <= 0) r = fail(EINVAL);
    else if ((r = fd_alloc(p, PD_EPOLL)) < 0) r = fail(EMFILE);
    leave(p);
    return r;
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *event) {
    struct pd *p = enter(ud, false);
    struct pd_fd *e = fd_get(p, epfd);
    struct pd_fd *f = fd_get(p, fd);
    int r = 0;
    size_t k = 0;
    if (e == NULL || f == NULL) r = fail(EBADF);
    else if (e->kind != PD_EPOLL || epfd == fd) r = fail(EINVAL);
    else if (f->kind == PD_EPOLL) r = fail(EPERM);   /* nested epoll sets: not supported */
    else {
        while (k < e->nitems && e->items[k].fd != fd) k++;
        bool found = k < e->nitems;
        if (op != EPOLL_CTL_DEL && event == NULL) r = fail(EFAULT);
        else if (op == EPOLL_CTL_ADD) {
            if (found) r = fail(EEXIST);
            else if (e->nitems == PD_EPOLL_ITEMS) r = fail(ENOSPC);
            else e->items[e->nitems++] = (struct pd_epoll_item){.fd = fd, .events = event->events, .data = event->data};
        } else if (op == EPOLL_CTL_MOD) {
            if (!found) r = fail(ENOENT);
            else e->items[k].events = event->events, e->items[k].data = event->data;
        } else if (op == EPOLL_CTL_DEL) {
            if (!found) r = fail(ENOENT);
            else e->items[k] = e->items[--e->nitems];
        } else r = fail(EINVAL);
    }
    leave(p);
    return r;
}

struct epoll_ctx {
    int epfd;
    struct epoll_event *out;
    int max;
    tb_time_ns wake;
    int result;
};

/* Level-triggered readiness; EPOLLET and EPOLLONESHOT are taken as level. */
static bool attempt_epoll(struct pd *p, void *vc) {
    struct epoll_ctx *c = vc;
    struct pd_fd *e = fd_get(p, c->epfd);
    int n = 0;
    for (size_t k = 0; e != NULL && k < e->nitems && n < c->max; k++) {
        struct pd_fd *f = fd_get(p, e->items[k].fd);
        if (f == NULL) continue;
        uint32_t ev = readiness(p, f) & (e->items[k].events | EPOLLERR | EPOLLHUP);
        if (ev == 0) continue;
        c->out[n].events = ev;
        c->out[n].data = e->items[k].data;
        n++;
    }
    c->result = n;
    return n > 0 || p->now >= c->wake;
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *events, int maxevents, int timeout) {
    struct pd *p = enter(ud, false);
    struct pd_fd *e = fd_get(p, epfd);
    struct epoll_ctx c = {.epfd = epfd, .out = events, .max = maxevents,
                          .wake = timeout < 0 ? TB_TIME_NEVER : p->now + (tb_time_ns)timeout * TB_NS_PER_MS};
    int r;
    if (e == NULL) r = fail(EBADF);
    else if (e->kind != PD_EPOLL || maxevents <= 0) r = fail(EINVAL);
    else if (events == NULL) r = fail(EFAULT);
    else if (!run_blocking(p, attempt_epoll, &c, false, c.wake, "epoll_wait")) r = fail(EINTR);
    else r = c.result;
    flush(p);
    leave(p);
    return r;
}

static int pd_pipe(void *ud, int pipefd[2]) {
    (void)ud, (void)pipefd;
    say("pipe() is not supported");
    return fail(ENOSYS);
}

static int pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
                     unsigned int flags) {
    (void)ud, (void)fd_in, (void)off_in, (void)fd_out, (void)off_out, (void)len, (void)flags;
    say("splice() is not supported");
    return fail(ENOSYS);
}

/* ---- the wire and the clock ------------------------------------------------------------- */

static int pd_netdev_send(void *ud, const void *buf, size_t count) {
    struct pd *p = enter(ud, false);
    int r = 0;
    const uint8_t *ip = buf;
    if (buf == NULL || count < 1 || count + TB_ETH_HDR_LEN > PD_FRAME_CAP) {
        say("netdev_send: a %zu-byte packet does not fit a frame", count);
        r = -1;
    } else if ((ip[0] >> 4) != 4) {
        say("netdev_send: IPv%u packets are not supported (tcpbed is IPv4 only; run packetdrill with "
            "--ip_version=ipv4)",
            ip[0] >> 4);
        r = -1;
    } else if (!ensure_host(p, count >= 20 ? tb_get32(ip + 16) : 0)) {
        r = -1;
    } else {
        uint8_t frame[PD_FRAME_CAP];
        struct tb_eth_repr e = {.dst = mac_stack, .src = mac_remote, .ethertype = TB_ETHERTYPE_IPV4};
        tb_eth_emit(&e, frame);
        memcpy(frame + TB_ETH_HDR_LEN, buf, count);
        size_t len = count + TB_ETH_HDR_LEN;
        if (len < TB_ETH_MIN_FRAME) {
            memset(frame + len, 0, TB_ETH_MIN_FRAME - len);
            len = TB_ETH_MIN_FRAME;
        }
        rx_push(p, frame, len);
        pass(p);
    }
    leave(p);
    return r;
}

static int pd_netdev_receive(void *ud, void *buf, size_t *count, long long *time_usecs) {
    struct pd *p = enter(ud, false);
    if (p->tx_count == 0) advance_to(p, p->now + p->fl.receive_horizon_ns, true);
    int r = 0;
    if (p->tx_count == 0) {
        say("netdev_receive: the stack sent nothing in %" PRId64 " s of virtual time",
            p->fl.receive_horizon_ns / TB_NS_PER_S);
        *count = 0;
        if (time_usecs != NULL) *time_usecs = p->now / TB_NS_PER_US;
    } else {
        struct pd_frame *f = &p->tx[p->tx_head];
        p->tx_head = (p->tx_head + 1) % PD_TX_RING;
        p->tx_count--;
        size_t n = f->len <= *count ? f->len : *count;
        memcpy(buf, f->b, n);
        *count = n;
        if (time_usecs != NULL) *time_usecs = f->t / TB_NS_PER_US;
    }
    leave(p);
    return r;
}

static int pd_usleep(void *ud, useconds_t usec) {
    struct pd *p = enter(ud, false);
    advance_to(p, p->now + ((tb_time_ns)usec + p->fl.spin_usecs) * TB_NS_PER_US, false);
    leave(p);
    return 0;
}

static int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz) {
    struct pd *p = enter(ud, true);
    /* A caller spinning on the clock (packetdrill's last microseconds
     * before an event shorter than its spin margin) must see it move. */
    if (++p->gtod_streak > PD_GTOD_SPIN) advance_to(p, p->now + TB_NS_PER_US, false);
    if (tv != NULL) {
        int64_t us = p->now / TB_NS_PER_US;
        tv->tv_sec = (time_t)(us / 1000000);
        tv->tv_usec = (suseconds_t)(us % 1000000);
    }
    if (tz != NULL) memset(tz, 0, sizeof(*tz));
    leave(p);
    return 0;
}

/* ---- the one exported symbol --------------------------------------------------------------- */

__attribute__((visibility("default"))) void packetdrill_interface_init(const char *flags,
                                                                      struct packetdrill_interface *ifc);

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc) {
    char err[256];
    struct pd *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        say("out of memory");
        exit(EXIT_FAILURE);
    }
    if (!tb_pd_flags_parse(flags, &p->fl, err, sizeof(err))) {
        say("--so_flags: %s", err);
        exit(EXIT_FAILURE);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->cv_main, NULL);
    p->main_tid = pthread_self();
    p->rx = calloc(PD_RX_RING, sizeof(*p->rx));
    p->tx = calloc(PD_TX_RING, sizeof(*p->tx));
    tb_check_profile_config(p->fl.profile, &p->cfg);   /* the same profiles as tcpbed check */
    tb_pd_flags_apply(&p->fl, &p->cfg);
    p->cfg.mac = mac_stack;
    p->cfg.ipv4_prefix_len = 0;   /* every remote address is on the link */
    p->cfg.ipv4_gateway = 0;
    p->cfg.arp_reachable_ns = TB_TCP_TIME_KNOB_MAX_NS;
    p->now = PD_T0_NS;
    p->cfg.ipv4_addr = p->fl.local_ip != 0 ? p->fl.local_ip : PD_DEFAULT_IP;
    const char *why = NULL;
    if (p->rx == NULL || p->tx == NULL) {
        say("out of memory");
        exit(EXIT_FAILURE);
    }
    if (tb_config_check(&p->cfg, &why) != TB_OK) {
        say("--so_flags: the stack cannot be built: %s", why);
        exit(EXIT_FAILURE);
    }
    if (p->fl.local_ip != 0 && !ensure_host(p, 0)) exit(EXIT_FAILURE);

    memset(ifc, 0, sizeof(*ifc));
    ifc->userdata = p;
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}
