/* so_loader: our stand-in for packetdrill's --so_filename mode.
 *
 *   build/tests/so_loader [LIB.so]      (default build/libtcpbed-packetdrill.so)
 *
 * It dlopen()s the plug-in, finds packetdrill_interface_init, fills the
 * table and then behaves as packetdrill does for a small script, written
 * here as C instead of a .pkt file:
 *
 *   0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3, SO_REUSEADDR, bind 192.168.37.201:8080
 *         (the plug-in takes that address; another one is EADDRNOTAVAIL),
 *         TCP_MAXSEG 1200, listen
 *   0.1   < S 0:0(0) win 32792 <mss 1000>          -> > S. 0:0(0) ack 1 <mss 1200,...>  at 0.1
 *   0.2   < . 1:1(0) ack 1 win 65535                (RTT 100 ms)
 *         accept = 4 (peer 192.0.2.1:48896), read on O_NONBLOCK = EAGAIN, poll(timeout 100)
 *   0.3   read(4, 100) on a second thread, blocked ...
 *   0.35  < P. 1:101(100)                           ... returns 100 at 0.35
 *   0.39  > . 1:1(0) ack 101                        (delayed ACK, 40 ms)
 *         poll(4, POLLIN, 5) on the second thread ... returns 0 at 0.395
 *   0.4   write(4, 1000) = 1000                     -> > P. 1:1001(1000) at 0.4
 *         usleep past the RTO                       -> the same segment again at 1.4
 *   1.5   < . ack 1001, close(4)                    -> > F. 1001:1001(0)
 *   1.6   < F. 101:101(0) ack 1002                  -> > . ack 102
 *         close(3)
 *   2.0   socket(SOCK_NONBLOCK) = 3, epoll_create = 4, EPOLLOUT on 3,
 *         connect = EINPROGRESS (again: EALREADY)  -> > S 0:0(0) <mss ...> from an ephemeral port
 *         epoll_wait(0) = 0
 *   2.05  < S. 0:0(0) ack 1 <mss 1460>             -> > . ack 1; epoll_wait(0) = 1 EPOLLOUT, SO_ERROR 0
 *   2.1   < R 1:1(0)                               read = ECONNRESET; close, free
 *
 * Packets are built and checked here, with our own checksum code: IPv4
 * packets without a link-layer header, as packetdrill hands them over.
 * Timing is exact: every time is read back through the plug-in's
 * gettimeofday and compared to the microsecond. It also checks that only
 * packetdrill_interface_init is exported and that an unknown --so_flags
 * word is refused with a message. It prints one line per check and
 * "packetdrill-so: N passed, M failed" last. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/packetdrill/packetdrill_so.h"

#define LOCAL_IP 0xc0a825c9u   /* 192.168.37.201: the stack, as current packetdrill picks its local
                                  address at random in 192.168.0.0/16; the plug-in learns it from bind */
#define REMOTE_IP 0xc0000201u  /* 192.0.2.1: the script's end */
#define LOCAL_PORT 8080
#define REMOTE_PORT 48896
#define REMOTE_ISN 1000000u
#define FLAGS "seed=1"   /* the rfc profile: its 1 s RTO floor gives RTO_US */
#define RTO_US 1000000         /* max(rto_min 1 s, SRTT + 4 RTTVAR = 3 x 100 ms) */
#define SPIN_US 20             /* packetdrill's MAX_SPIN_USECS */

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static int passed, failed;
static uint16_t stack_port = LOCAL_PORT, peer_port = REMOTE_PORT;   /* the flow under test */
static struct packetdrill_interface ifc;
static long long t0;                 /* script time 0 on the plug-in's clock, microseconds */
static char why[512];                /* the current step's failure */

static void check(bool ok, const char *name) {
    if (ok) {
        passed++;
        printf("ok   %s\n", name);
    } else {
        failed++;
        printf("FAIL %s\n    %s\n", name, why);
    }
    why[0] = '\0';
}

static bool bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return false;
}

/* ---- our own checksum (RFC 1071) -------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc) {
    for (size_t i = 0; i + 1 < n; i += 2) acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1) acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static uint16_t tcp_sum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len) {
    uint8_t ph[12] = {(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8), (uint8_t)src,
                      (uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8), (uint8_t)dst,
                      0, 6, (uint8_t)(len >> 8), (uint8_t)len};
    return fold(sum16(seg, len, sum16(ph, sizeof(ph), 0)));
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* ---- packets ---------------------------------------------------------------- */

/* An IPv4 + TCP packet from the script's end to the stack. */
static size_t build(uint8_t *out, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opt,
                    size_t optlen, const uint8_t *data, size_t len) {
    size_t thl = 20 + optlen, total = 20 + thl + len;
    memset(out, 0, total);
    out[0] = 0x45;
    put16(out + 2, (uint16_t)total);
    put16(out + 6, 0x4000);   /* DF */
    out[8] = 64;
    out[9] = 6;
    put32(out + 12, REMOTE_IP);
    put32(out + 16, LOCAL_IP);
    put16(out + 10, fold(sum16(out, 20, 0)));
    uint8_t *t = out + 20;
    put16(t, peer_port);
    put16(t + 2, stack_port);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = flags;
    put16(t + 14, win);
    if (optlen) memcpy(t + 20, opt, optlen);
    if (len) memcpy(t + thl, data, len);
    put16(t + 16, tcp_sum(REMOTE_IP, LOCAL_IP, t, thl + len));
    return total;
}

struct seg {
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win, mss;             /* mss: 0 when the option is absent */
    const uint8_t *data;
    size_t len;
    long long t;                   /* script time, microseconds */
};

static uint8_t rxbuf[4096];

/* The next packet the stack sent, checked layer by layer. */
static bool sniff(struct seg *s) {
    size_t n = sizeof(rxbuf);
    long long at = -1;
    if (ifc.netdev_receive(ifc.userdata, rxbuf, &n, &at) != 0) return bad("netdev_receive returned an error");
    if (n == 0) return bad("netdev_receive: nothing came");
    if (n < 40) return bad("a %zu-byte packet is too short for IPv4 + TCP", n);
    const uint8_t *ip = rxbuf;
    if (ip[0] != 0x45) return bad("IP version/IHL byte 0x%02x, wanted 0x45", ip[0]);
    if (get16(ip + 2) != n) return bad("IP total length %u but %zu bytes came", get16(ip + 2), n);
    if (fold(sum16(ip, 20, 0)) != 0) return bad("bad IPv4 header checksum");
    if (ip[9] != 6) return bad("IP protocol %u, wanted TCP", ip[9]);
    if (get32(ip + 12) != LOCAL_IP || get32(ip + 16) != REMOTE_IP) return bad("wrong IP addresses");
    const uint8_t *t = ip + 20;
    size_t tl = n - 20, thl = (size_t)(t[12] >> 4) * 4;
    if (thl < 20 || thl > tl) return bad("TCP data offset %zu out of range", thl);
    if (tcp_sum(LOCAL_IP, REMOTE_IP, t, tl) != 0) return bad("bad TCP checksum");
    if (stack_port == 0) stack_port = get16(t);   /* an active open: the stack's ephemeral port */
    if (get16(t) != stack_port || get16(t + 2) != peer_port)
        return bad("ports %u>%u, wanted %u>%u", get16(t), get16(t + 2), stack_port, peer_port);
    s->seq = get32(t + 4);
    s->ack = get32(t + 8);
    s->flags = t[13];
    s->win = get16(t + 14);
    s->mss = 0;
    for (size_t i = 20; i < thl;) {
        uint8_t k = t[i];
        if (k == 0) break;
        if (k == 1) {
            i++;
            continue;
        }
        if (i + 1 >= thl || t[i + 1] < 2 || i + t[i + 1] > thl) return bad("malformed TCP option list");
        if (k == 2 && t[i + 1] == 4) s->mss = get16(t + i + 2);
        i += t[i + 1];
    }
    s->data = t + thl;
    s->len = tl - thl;
    s->t = at - t0;
    return true;
}

static void inject(const uint8_t *pkt, size_t len, const char *what) {
    snprintf(why, sizeof(why), "netdev_send refused %s", what);
    check(ifc.netdev_send(ifc.userdata, pkt, len) == 0, what);
}

static long long now_us(void) {
    struct timeval tv;
    ifc.gettimeofday(ifc.userdata, &tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec - t0;
}

/* What packetdrill does before an event at script time `at`: sleep to
 * 20 us before it, then spin on the clock. */
static void wait_until(long long at) {
    for (;;) {
        long long wait = at - now_us();
        if (wait <= 0) break;
        if (wait > SPIN_US) ifc.usleep(ifc.userdata, (useconds_t)(wait - SPIN_US));
    }
}

static bool at_time(long long got, long long want, const char *what) {
    if (got == want) return true;
    return bad("%s at %.6f s, wanted %.6f s", what, got / 1e6, want / 1e6);
}

/* ---- the blocking read on a second thread (packetdrill's syscall thread) ------ */

struct reader {
    pthread_t th;
    _Atomic int tid;               /* the thread's id, once it runs */
    ssize_t result;
    int err;
    long long end_us;
    char buf[200];
};

struct poller {
    pthread_t th;
    _Atomic int tid;
    int result;
    long long end_us;
};

static void *poller_main(void *arg) {
    struct poller *q = arg;
    atomic_store(&q->tid, (int)syscall(SYS_gettid));
    struct pollfd pf = {.fd = 4, .events = POLLIN};
    q->result = ifc.poll(ifc.userdata, &pf, 1, 5);
    q->end_us = now_us();
    return NULL;
}

static void *reader_main(void *arg) {
    struct reader *r = arg;
    atomic_store(&r->tid, (int)syscall(SYS_gettid));
    r->result = ifc.read(ifc.userdata, 4, r->buf, 100);
    r->err = errno;
    r->end_us = now_us();   /* as packetdrill's end_syscall: the clock, right after the return */
    return NULL;
}

/* packetdrill waits until its syscall thread sleeps (its /proc state is S). */
static bool wait_sleeping(pid_t tid) {
    char path[64], st[512];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    for (int i = 0; i < 2000; i++) {
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            size_t n = fread(st, 1, sizeof(st) - 1, f);
            fclose(f);
            st[n] = '\0';
            const char *c = strrchr(st, ')');
            if (c != NULL && c[1] == ' ' && c[2] == 'S') return true;
        }
        usleep(1000);
    }
    return false;
}

/* ---- the script ----------------------------------------------------------------- */

static bool call_is(long r, long want, int want_errno, const char *what) {
    if (r == want && (want != -1 || errno == want_errno)) return true;
    if (r == -1) return bad("%s = -1 (%s), wanted %ld%s%s", what, strerror(errno), want, want == -1 ? " " : "",
                            want == -1 ? strerror(want_errno) : "");
    return bad("%s = %ld, wanted %ld", what, r, want);
}

static void scenario(void) {
    uint8_t pkt[2048];
    size_t n;
    struct seg s;
    t0 = 0;
    t0 = now_us();

    /* 0: a listener on 8080 */
    int r = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    check(call_is(r, 3, 0, "socket"), "socket() = 3 (descriptors start at 3)");
    check(call_is(ifc.socket(ifc.userdata, AF_INET6, SOCK_STREAM, 0), -1, EAFNOSUPPORT, "socket(AF_INET6)"),
          "socket(AF_INET6) = -1 EAFNOSUPPORT");
    int one = 1;
    check(call_is(ifc.setsockopt(ifc.userdata, 3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0, 0, "setsockopt"),
          "setsockopt(SO_REUSEADDR) = 0");
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(LOCAL_PORT), .sin_addr.s_addr = htonl(LOCAL_IP)};
    check(call_is(ifc.bind(ifc.userdata, 3, (struct sockaddr *)&sin, sizeof(sin)), 0, 0, "bind"),
          "bind(192.168.37.201:8080) = 0: the stack takes that address");
    r = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in other = {.sin_family = AF_INET, .sin_port = htons(8081), .sin_addr.s_addr = htonl(0xc0a80001u)};
    check(call_is(ifc.bind(ifc.userdata, r, (struct sockaddr *)&other, sizeof(other)), -1, EADDRNOTAVAIL, "bind"),
          "bind(192.168.0.1:8081) on a second socket = -1 EADDRNOTAVAIL");
    check(call_is(ifc.close(ifc.userdata, r), 0, 0, "close"), "close() of the unbound socket = 0");
    int mss = 1200;
    check(call_is(ifc.setsockopt(ifc.userdata, 3, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0, 0, "setsockopt"),
          "setsockopt(TCP_MAXSEG, 1200) = 0");
    check(call_is(ifc.listen(ifc.userdata, 3, 1), 0, 0, "listen"), "listen() = 0");
    check(call_is(ifc.accept(ifc.userdata, 9, NULL, NULL), -1, EBADF, "accept(9)"), "accept(9) = -1 EBADF");

    /* 0.1: the SYN, and the SYN-ACK at once */
    wait_until(100000);
    check(at_time(now_us(), 100000, "usleep + spin"), "usleep lands on the event's exact time");
    uint8_t mss_opt[4] = {2, 4, 0x03, 0xe8};   /* mss 1000 */
    n = build(pkt, REMOTE_ISN, 0, F_SYN, 32792, mss_opt, sizeof(mss_opt), NULL, 0);
    inject(pkt, n, "< S 0:0(0) win 32792 <mss 1000>");
    bool ok = sniff(&s) && at_time(s.t, 100000, "SYN-ACK");
    if (ok && s.flags != (F_SYN | F_ACK)) ok = bad("flags 0x%02x, wanted SYN|ACK", s.flags);
    if (ok && s.ack != REMOTE_ISN + 1) ok = bad("ack %u, wanted %u", s.ack, REMOTE_ISN + 1);
    if (ok && s.mss != 1200) ok = bad("the SYN-ACK announces MSS %u, wanted the listener's 1200", s.mss);
    if (ok && s.len != 0) ok = bad("%zu bytes of data on the SYN-ACK", s.len);
    check(ok, "> S. 0:0(0) ack 1 <mss 1200,...> at 0.100000");
    if (!ok) return;
    uint32_t iss = s.seq;

    /* 0.2: the handshake's ACK; accept */
    wait_until(200000);
    n = build(pkt, REMOTE_ISN + 1, iss + 1, F_ACK, 65535, NULL, 0, NULL, 0);
    inject(pkt, n, "< . 1:1(0) ack 1 win 65535");
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    r = ifc.accept(ifc.userdata, 3, (struct sockaddr *)&peer, &plen);
    ok = call_is(r, 4, 0, "accept");
    if (ok && (peer.sin_family != AF_INET || ntohl(peer.sin_addr.s_addr) != REMOTE_IP ||
               ntohs(peer.sin_port) != REMOTE_PORT || plen != sizeof(peer)))
        ok = bad("accept's address is not 192.0.2.1:%d", REMOTE_PORT);
    check(ok, "accept(3, {192.0.2.1:48896}) = 4");
    if (!ok) return;
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    memset(&ti, 0xff, sizeof(ti));
    ok = call_is(ifc.getsockopt(ifc.userdata, 4, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0, 0, "getsockopt(TCP_INFO)");
    if (ok && (ti.tcpi_state != 1 || ti.tcpi_snd_mss != 1000 || ti.tcpi_rtt != 100000 || ti.tcpi_rto != RTO_US))
        ok = bad("tcpi_state %u snd_mss %u rtt %u rto %u, wanted 1 (ESTABLISHED) 1000 100000 %d", ti.tcpi_state,
                 ti.tcpi_snd_mss, ti.tcpi_rtt, ti.tcpi_rto, RTO_US);
    check(ok, "getsockopt(TCP_INFO): ESTABLISHED, snd_mss 1000, rtt 100 ms, rto 1 s");
    check(call_is(ifc.fcntl(ifc.userdata, 4, F_SETFL, O_RDWR | O_NONBLOCK), 0, 0, "fcntl(F_SETFL)"),
          "fcntl(4, F_SETFL, O_NONBLOCK) = 0");
    char buf[2048];
    check(call_is(ifc.read(ifc.userdata, 4, buf, sizeof(buf)), -1, EAGAIN, "read"), "read() with no data = -1 EAGAIN");
    check(call_is(ifc.fcntl(ifc.userdata, 4, F_SETFL, O_RDWR), 0, 0, "fcntl(F_SETFL)"), "fcntl(4, F_SETFL, 0) = 0");
    struct pollfd pf = {.fd = 4, .events = POLLIN | POLLOUT};
    ok = call_is(ifc.poll(ifc.userdata, &pf, 1, 0), 1, 0, "poll") &&
         (pf.revents == POLLOUT ? true : bad("revents 0x%x", pf.revents));
    check(ok, "poll(4, POLLIN|POLLOUT, 0) = 1: POLLOUT");
    pf.events = POLLIN;
    ok = call_is(ifc.poll(ifc.userdata, &pf, 1, 100), 0, 0, "poll") && at_time(now_us(), 300000, "poll's return");
    check(ok, "poll(4, POLLIN, 100) = 0 after 100 ms of virtual time");

    /* 0.3: a blocking read on the syscall thread; data at 0.35 */
    struct reader rd;
    memset(&rd, 0, sizeof(rd));
    pthread_create(&rd.th, NULL, reader_main, &rd);
    while (atomic_load(&rd.tid) == 0) usleep(100);
    snprintf(why, sizeof(why), "the reading thread never went to sleep");
    check(wait_sleeping((pid_t)atomic_load(&rd.tid)), "read(4, 100) blocks on the second thread");
    wait_until(350000);
    uint8_t hello[100];
    for (int i = 0; i < 100; i++) hello[i] = (uint8_t)('a' + i % 26);
    n = build(pkt, REMOTE_ISN + 1, iss + 1, F_ACK | F_PSH, 65535, NULL, 0, hello, sizeof(hello));
    inject(pkt, n, "< P. 1:101(100) ack 1 win 65535");
    pthread_join(rd.th, NULL);
    errno = rd.err;
    ok = call_is(rd.result, 100, 0, "read") && at_time(rd.end_us, 350000, "read's return") &&
         (memcmp(rd.buf, hello, 100) == 0 ? true : bad("read returned other bytes"));
    check(ok, "the blocked read returns 100 at 0.350000, the data as sent");
    ok = sniff(&s) && at_time(s.t, 390000, "the ACK");
    if (ok && (s.flags != F_ACK || s.ack != REMOTE_ISN + 101 || s.seq != iss + 1 || s.len != 0))
        ok = bad("flags 0x%02x seq %u ack %u len %zu", s.flags, s.seq - iss, s.ack - REMOTE_ISN, s.len);
    check(ok, "> . 1:1(0) ack 101 at 0.390000 (delayed ACK)");
    if (!ok) return;

    /* 0.39: poll(4, POLLIN, 5) on the syscall thread times out at 0.395
     * while the main thread sleeps to 0.4 */
    struct poller pq;
    memset(&pq, 0, sizeof(pq));
    pthread_create(&pq.th, NULL, poller_main, &pq);
    while (atomic_load(&pq.tid) == 0) usleep(100);
    snprintf(why, sizeof(why), "the polling thread never went to sleep");
    check(wait_sleeping((pid_t)atomic_load(&pq.tid)), "poll(4, POLLIN, 5) blocks on the second thread");

    /* 0.4: 1000 bytes out, then their retransmission at the RTO */
    wait_until(400000);
    pthread_join(pq.th, NULL);
    check(call_is(pq.result, 0, 0, "poll") && at_time(pq.end_us, 395000, "poll's return"),
          "the blocked poll returns 0 at 0.395000, its timeout in virtual time");
    for (int i = 0; i < 1000; i++) buf[i] = (char)(i * 7);
    check(call_is(ifc.write(ifc.userdata, 4, buf, 1000), 1000, 0, "write"), "write(4, 1000) = 1000");
    ok = sniff(&s) && at_time(s.t, 400000, "the data");
    if (ok && (s.flags != (F_ACK | F_PSH) || s.seq != iss + 1 || s.len != 1000 || s.ack != REMOTE_ISN + 101))
        ok = bad("flags 0x%02x seq %u ack %u len %zu", s.flags, s.seq - iss, s.ack - REMOTE_ISN, s.len);
    if (ok && memcmp(s.data, buf, 1000) != 0) ok = bad("the payload is not what write() was given");
    check(ok, "> P. 1:1001(1000) ack 101 at 0.400000");
    if (!ok) return;
    ifc.usleep(ifc.userdata, RTO_US + 50000);   /* past the RTO: the stack's timer runs on the way */
    ok = at_time(now_us(), 400000 + RTO_US + 50000 + SPIN_US, "usleep's return") && sniff(&s) &&
         at_time(s.t, 400000 + RTO_US, "the retransmission");
    if (ok && (s.flags != (F_ACK | F_PSH) || s.seq != iss + 1 || s.len != 1000 || memcmp(s.data, buf, 1000) != 0))
        ok = bad("flags 0x%02x seq %u len %zu, or other bytes", s.flags, s.seq - iss, s.len);
    check(ok, "> P. 1:1001(1000) again at 1.400000 (RTO 1 s, in virtual time)");
    if (!ok) return;

    /* 1.5: ACK, close: our FIN */
    wait_until(1500000);
    n = build(pkt, REMOTE_ISN + 101, iss + 1001, F_ACK, 65535, NULL, 0, NULL, 0);
    inject(pkt, n, "< . 101:101(0) ack 1001 win 65535");
    check(call_is(ifc.close(ifc.userdata, 4), 0, 0, "close"), "close(4) = 0");
    ok = sniff(&s) && at_time(s.t, 1500000, "the FIN");
    if (ok && (s.flags != (F_ACK | F_FIN) || s.seq != iss + 1001 || s.ack != REMOTE_ISN + 101))
        ok = bad("flags 0x%02x seq %u ack %u", s.flags, s.seq - iss, s.ack - REMOTE_ISN);
    check(ok, "> F. 1001:1001(0) ack 101 at 1.500000");
    if (!ok) return;

    /* 1.6: their FIN, our last ACK */
    wait_until(1600000);
    n = build(pkt, REMOTE_ISN + 101, iss + 1002, F_ACK | F_FIN, 65535, NULL, 0, NULL, 0);
    inject(pkt, n, "< F. 101:101(0) ack 1002 win 65535");
    ok = sniff(&s) && at_time(s.t, 1600000, "the last ACK");
    if (ok && (s.flags != F_ACK || s.seq != iss + 1002 || s.ack != REMOTE_ISN + 102))
        ok = bad("flags 0x%02x seq %u ack %u", s.flags, s.seq - iss, s.ack - REMOTE_ISN);
    check(ok, "> . 1002:1002(0) ack 102 at 1.600000");
    check(call_is(ifc.close(ifc.userdata, 3), 0, 0, "close"), "close(3) = 0");
    check(call_is(ifc.close(ifc.userdata, 4), -1, EBADF, "close(4) again"), "close(4) again = -1 EBADF");
}

/* 2.0: an active open from a non-blocking socket, watched with epoll;
 * the peer resets it. */
static void active_open(void) {
    uint8_t pkt[256];
    size_t n;
    struct seg s;
    const uint32_t risn = 5000000u;
    wait_until(2000000);
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    check(call_is(fd, 3, 0, "socket"), "socket(SOCK_NONBLOCK) = 3 (the lowest free descriptor)");
    int ep = ifc.epoll_create(ifc.userdata, 1);
    check(call_is(ep, 4, 0, "epoll_create"), "epoll_create(1) = 4");
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = 0x1234};
    check(call_is(ifc.epoll_ctl(ifc.userdata, ep, EPOLL_CTL_ADD, fd, &ev), 0, 0, "epoll_ctl"),
          "epoll_ctl(4, EPOLL_CTL_ADD, 3, EPOLLOUT) = 0");
    check(call_is(ifc.epoll_ctl(ifc.userdata, ep, EPOLL_CTL_ADD, fd, &ev), -1, EEXIST, "epoll_ctl"),
          "the same again = -1 EEXIST");
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(8080), .sin_addr.s_addr = htonl(REMOTE_IP)};
    check(call_is(ifc.connect(ifc.userdata, fd, (struct sockaddr *)&to, sizeof(to)), -1, EINPROGRESS, "connect"),
          "connect(3, 192.0.2.1:8080) = -1 EINPROGRESS");
    check(call_is(ifc.connect(ifc.userdata, fd, (struct sockaddr *)&to, sizeof(to)), -1, EALREADY, "connect"),
          "connect again = -1 EALREADY");
    stack_port = 0;
    peer_port = 8080;
    bool ok = sniff(&s) && at_time(s.t, 2000000, "the SYN");
    if (ok && (s.flags != F_SYN || s.ack != 0 || s.mss == 0 || s.len != 0))
        ok = bad("flags 0x%02x ack %u mss %u len %zu", s.flags, s.ack, s.mss, s.len);
    if (ok && stack_port < 1024) ok = bad("source port %u is not ephemeral", stack_port);
    check(ok, "> S 0:0(0) <mss ...> from an ephemeral port at 2.000000");
    if (!ok) return;
    uint32_t iss = s.seq;
    struct epoll_event out[4];
    check(call_is(ifc.epoll_wait(ifc.userdata, ep, out, 4, 0), 0, 0, "epoll_wait"),
          "epoll_wait(4, ..., 0) = 0 while the handshake is under way");

    wait_until(2050000);
    uint8_t mss_opt[4] = {2, 4, 0x05, 0xb4};   /* mss 1460 */
    n = build(pkt, risn, iss + 1, F_SYN | F_ACK, 65535, mss_opt, sizeof(mss_opt), NULL, 0);
    inject(pkt, n, "< S. 0:0(0) ack 1 win 65535 <mss 1460>");
    ok = sniff(&s) && at_time(s.t, 2050000, "the ACK");
    if (ok && (s.flags != F_ACK || s.seq != iss + 1 || s.ack != risn + 1 || s.len != 0))
        ok = bad("flags 0x%02x seq %u ack %u len %zu", s.flags, s.seq - iss, s.ack - risn, s.len);
    check(ok, "> . 1:1(0) ack 1 at 2.050000");
    if (!ok) return;
    int got = ifc.epoll_wait(ifc.userdata, ep, out, 4, 0);
    ok = call_is(got, 1, 0, "epoll_wait");
    if (ok && (out[0].events != EPOLLOUT || out[0].data.u64 != 0x1234))
        ok = bad("events 0x%x data 0x%llx", out[0].events, (unsigned long long)out[0].data.u64);
    check(ok, "epoll_wait(4, ..., 0) = 1: EPOLLOUT, the registered data");
    int err = -1;
    socklen_t el = sizeof(err);
    ok = call_is(ifc.getsockopt(ifc.userdata, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0, 0, "getsockopt") &&
         (err == 0 ? true : bad("SO_ERROR %d", err));
    check(ok, "getsockopt(SO_ERROR) = 0, [0]");

    wait_until(2100000);
    n = build(pkt, risn + 1, 0, F_RST, 0, NULL, 0, NULL, 0);
    inject(pkt, n, "< R 1:1(0)");
    char buf[16];
    check(call_is(ifc.read(ifc.userdata, fd, buf, sizeof(buf)), -1, ECONNRESET, "read"), "read(3) = -1 ECONNRESET");
    check(call_is(ifc.close(ifc.userdata, fd), 0, 0, "close"), "close(3) = 0");
    check(call_is(ifc.close(ifc.userdata, ep), 0, 0, "close"), "close(4) = 0 (the epoll set)");
    stack_port = LOCAL_PORT;
    peer_port = REMOTE_PORT;
}

/* An unknown flag must stop the plug-in with a message (init returns
 * nothing, so the plug-in exits): run it in a child and read its stderr. */
static void refuses_flag(packetdrill_interface_init_t init, const char *flags, const char *want_msg);

static void refuses_unknown_flags(packetdrill_interface_init_t init) {
    refuses_flag(init, "seed=2 bogus=1", "unknown flag 'bogus'");
    refuses_flag(init, "profile=bsd", "profile");
}

static void refuses_flag(packetdrill_interface_init_t init, const char *flags, const char *want_msg) {
    int fds[2];
    if (pipe(fds) != 0) {
        check(bad("pipe: %s", strerror(errno)), "an unknown --so_flags word is refused");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        struct packetdrill_interface c;
        init(flags, &c);
        _exit(0);   /* it did not refuse */
    }
    close(fds[1]);
    char msg[1024];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof(msg) - 1 && (k = read(fds[0], msg + got, sizeof(msg) - 1 - got)) > 0) got += (size_t)k;
    msg[got] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) != 0;
    if (!ok) bad("the plug-in accepted '%s' (exit status %d)", flags, status);
    else if (strstr(msg, want_msg) == NULL) ok = bad("its message does not name the flag: %s", msg);
    char what[128];
    snprintf(what, sizeof(what), "--so_flags '%s' is refused with a message", flags);
    check(ok, what);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "build/libtcpbed-packetdrill.so";
    /* packetdrill opens with RTLD_DEEPBIND too; the sanitizers' runtime
     * does not allow it, so the ASan build goes without. */
    int mode = RTLD_NOW | RTLD_LOCAL;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    mode |= RTLD_DEEPBIND;
#endif
    void *lib = dlopen(path, mode);
    snprintf(why, sizeof(why), "dlopen: %s", lib == NULL ? dlerror() : "");
    check(lib != NULL, "dlopen the plug-in");
    if (lib == NULL) goto out;
    packetdrill_interface_init_t init = (packetdrill_interface_init_t)dlsym(lib, "packetdrill_interface_init");
    snprintf(why, sizeof(why), "dlsym(packetdrill_interface_init) found nothing");
    check(init != NULL, "packetdrill_interface_init is exported");
    if (init == NULL) goto out;
    snprintf(why, sizeof(why), "tb_stack_new, tb_host_new or tb_assert_failed is visible");
    check(dlsym(lib, "tb_stack_new") == NULL && dlsym(lib, "tb_host_new") == NULL &&
              dlsym(lib, "tb_assert_failed") == NULL,
          "nothing else is exported");
    refuses_unknown_flags(init);

    memset(&ifc, 0, sizeof(ifc));
    init(FLAGS, &ifc);
    bool all = ifc.userdata != NULL && ifc.free && ifc.socket && ifc.bind && ifc.listen && ifc.accept &&
               ifc.connect && ifc.read && ifc.readv && ifc.recv && ifc.recvfrom && ifc.recvmsg && ifc.write &&
               ifc.writev && ifc.send && ifc.sendto && ifc.sendmsg && ifc.fcntl && ifc.ioctl && ifc.close &&
               ifc.shutdown && ifc.getsockopt && ifc.setsockopt && ifc.poll && ifc.netdev_send &&
               ifc.netdev_receive && ifc.usleep && ifc.gettimeofday && ifc.epoll_create && ifc.epoll_ctl &&
               ifc.epoll_wait && ifc.pipe && ifc.splice;
    snprintf(why, sizeof(why), "a member of struct packetdrill_interface is NULL");
    check(all, "init(\"" FLAGS "\") fills every member");
    if (!all) goto out;
    scenario();
    if (failed == 0) active_open();
    ifc.free(ifc.userdata);
    dlclose(lib);
out:
    printf("packetdrill-so: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
