/* ppoll, TUNSETIFF and the packet-socket options are Linux's. */
#define _GNU_SOURCE
#include "harness/wire/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "traces/pcap_writer.h"

/* Frames read from one end per wake-up before the other end gets its turn. */
#define WIRE_READ_BATCH 256
#define WIRE_RCVBUF_BYTES (32 << 20)
#define WIRE_SNDBUF_BYTES (4 << 20)
/* Ethernet without offloads: 1500 bytes of IP and the 14-byte header. */
#define WIRE_PLAIN_FRAME 1514

struct wire_end {
    const char *name;
    char label;                       /* 'A' or 'B' */
    int fd;
    bool tap;
    unsigned ifindex;
    struct wire_end_stats st;
    struct tb_pcap_writer *pcap;
};

struct wire {
    const struct wire_opts *o;
    struct wire_end end[2];
    struct wire_core *core;
    tb_time_ns t0;
    tb_time_ns now;
    bool warned_big;
    uint8_t buf[WIRE_MAX_FRAME];
};

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static tb_time_ns mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (tb_time_ns)ts.tv_sec * TB_NS_PER_S + ts.tv_nsec;
}

/* TUN/TAP devices have a tun_flags file in sysfs; its value says TUN or TAP. */
static bool read_tun_flags(const char *name, unsigned long *flags) {
    char path[96];
    snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
    FILE *f = fopen(path, "r");
    if (f == NULL) return false;
    bool ok = fscanf(f, "%lx", flags) == 1;
    fclose(f);
    return ok;
}

static int open_tap(struct wire_end *e, unsigned long flags, char *err, size_t len) {
    if (flags & IFF_TUN) {
        snprintf(err, len, "'%s' is a TUN device (IP packets, no Ethernet): a wire end needs a TAP (ip tuntap add %s mode tap)",
                 e->name, e->name);
        return -1;
    }
    e->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (e->fd < 0) {
        int en = errno;
        snprintf(err, len, "cannot open /dev/net/tun for TAP '%s': %s%s", e->name, strerror(en),
                 en == EACCES || en == EPERM ? " (attaching a TAP needs CAP_NET_ADMIN: run as root)" : "");
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    /* A multi-queue TAP takes only multi-queue attachments. */
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (flags & IFF_MULTI_QUEUE));
    memcpy(ifr.ifr_name, e->name, strlen(e->name));
    if (ioctl(e->fd, TUNSETIFF, &ifr) < 0) {
        int en = errno;
        if (en == EBUSY)
            snprintf(err, len, "TAP '%s' is held by another process (only one can attach it; packet:%s reaches its "
                               "kernel side instead)", e->name, e->name);
        else if (en == EPERM || en == EACCES)
            snprintf(err, len, "not allowed to attach TAP '%s' (its owner and group, or CAP_NET_ADMIN: run as root)", e->name);
        else snprintf(err, len, "cannot attach TAP '%s': %s", e->name, strerror(en));
        return -1;
    }
    e->tap = true;
    return 0;
}

static int open_packet(struct wire_end *e, char *err, size_t len) {
    e->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (e->fd < 0) {
        int en = errno;
        snprintf(err, len, "cannot open a packet socket for '%s': %s%s", e->name, strerror(en),
                 en == EPERM || en == EACCES ? " (it needs CAP_NET_RAW: run as root)" : "");
        return -1;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)e->ifindex;
    if (bind(e->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        snprintf(err, len, "cannot bind a packet socket to '%s': %s", e->name, strerror(errno));
        return -1;
    }
    /* Our own writes would come back as outgoing frames; the pkttype check
     * on each read covers kernels without this option. */
    int one = 1;
    (void)setsockopt(e->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    /* Frames for the far end's MAC are not for this interface: promiscuous. */
    struct packet_mreq mr;
    memset(&mr, 0, sizeof(mr));
    mr.mr_ifindex = (int)e->ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(e->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
        snprintf(err, len, "cannot make '%s' promiscuous: %s", e->name, strerror(errno));
        return -1;
    }
    /* A burst at line rate must wait in the socket while the other end is served. */
    int rcvbuf = WIRE_RCVBUF_BYTES, sndbuf = WIRE_SNDBUF_BYTES;
    if (setsockopt(e->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        (void)setsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (setsockopt(e->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
        (void)setsockopt(e->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    return 0;
}

static bool interface_up(const char *name, bool *up) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, strlen(name));
    bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    close(s);
    if (ok) *up = (ifr.ifr_flags & IFF_UP) != 0;
    return ok;
}

/* "packet:NAME" opens NAME's kernel side with AF_PACKET whatever it is:
 * the way onto a TAP device that a user-space stack (tcpbed tap) holds,
 * where the wire sits between that stack and the kernel. */
#define WIRE_PACKET_PREFIX "packet:"

static int open_end(struct wire_end *e, const char *name, char label, char *err, size_t len) {
    bool force_packet = strncmp(name, WIRE_PACKET_PREFIX, strlen(WIRE_PACKET_PREFIX)) == 0;
    if (force_packet) name += strlen(WIRE_PACKET_PREFIX);
    e->name = name;
    e->label = label;
    e->fd = -1;
    if (name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
        snprintf(err, len, "--%c '%s': expected an interface name of 1 to %d characters", label == 'A' ? 'a' : 'b', name,
                 IFNAMSIZ - 1);
        return -1;
    }
    e->ifindex = if_nametoindex(name);
    if (e->ifindex == 0) {
        snprintf(err, len, "--%c '%s': no such interface in this network namespace (see ip link)",
                 label == 'A' ? 'a' : 'b', name);
        return -1;
    }
    unsigned long tun_flags;
    int rc = !force_packet && read_tun_flags(name, &tun_flags) ? open_tap(e, tun_flags, err, len)
                                                                : open_packet(e, err, len);
    if (rc != 0) return rc;
    bool up = true;
    if (interface_up(name, &up) && !up) {
        snprintf(err, len, "interface '%s' is down: ip link set %s up", name, name);
        return -1;
    }
    return 0;
}

static void close_end(struct wire_end *e) {
    if (e->fd >= 0) close(e->fd);
    e->fd = -1;
}

/* Writes one frame; a full socket gets a moment to drain, then the frame
 * is counted as refused (as a NIC's full ring would drop it). */
static void end_write(struct wire_end *e, const uint8_t *frame, size_t len) {
    for (int attempt = 0; attempt < 2; attempt++) {
        ssize_t n = e->tap ? write(e->fd, frame, len) : send(e->fd, frame, len, 0);
        if (n == (ssize_t)len) {
            e->st.tx_frames++;
            e->st.tx_bytes += len;
            return;
        }
        if (n < 0 && errno == EINTR) {
            attempt--;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && attempt == 0) {
            struct pollfd p = {.fd = e->fd, .events = POLLOUT};
            (void)poll(&p, 1, 5);
            continue;
        }
        break;
    }
    e->st.tx_drops++;
}

static void deliver(void *ctx, int dir, tb_time_ns due, const uint8_t *frame, size_t len) {
    (void)due;
    struct wire *w = ctx;
    struct wire_end *to = &w->end[dir == 0 ? 1 : 0];
    if (to->pcap != NULL) tb_pcap_write(to->pcap, w->now, frame, len);
    end_write(to, frame, len);
}

static void warn_big(struct wire *w, const struct wire_end *e, size_t len) {
    if (w->warned_big) return;
    w->warned_big = true;
    fprintf(w->o->log,
            "tcpbed wire: warning: a %zu-byte frame on %s (over %d): offloads are on, so the kernel hands over "
            "TSO/GSO/GRO super-frames (one fault hits many segments, the far end may refuse them). Turn them off "
            "on %s and on the interfaces that send into it: ethtool -K DEV tso off gso off gro off tx off rx off\n",
            len, e->name, WIRE_PLAIN_FRAME, e->name);
}

/* Reads up to a batch from one end; false with err when the interface failed. */
static bool end_read_batch(struct wire *w, int dir, char *err, size_t errlen) {
    struct wire_end *e = &w->end[dir];
    for (int i = 0; i < WIRE_READ_BATCH; i++) {
        ssize_t n;
        if (e->tap) {
            n = read(e->fd, w->buf, sizeof(w->buf));
        } else {
            struct sockaddr_ll from;
            socklen_t from_len = sizeof(from);
            n = recvfrom(e->fd, w->buf, sizeof(w->buf), MSG_TRUNC, (struct sockaddr *)&from, &from_len);
            if (n >= 0 && from.sll_pkttype == PACKET_OUTGOING) continue;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            if (errno == EINTR) continue;
            snprintf(err, errlen, "reading from '%s': %s", e->name, strerror(errno));
            return false;
        }
        if (n == 0) continue;
        tb_time_ns now = mono_ns() - w->t0;
        size_t len = (size_t)n;
        e->st.rx_frames++;
        e->st.rx_bytes += len;
        if (len > sizeof(w->buf)) {
            e->st.truncated++;
            continue;
        }
        if (len > WIRE_PLAIN_FRAME) {
            e->st.big_frames++;
            warn_big(w, e, len);
        }
        if (e->pcap != NULL) tb_pcap_write(e->pcap, now, w->buf, len);
        wire_core_offer(w->core, dir, now, w->buf, len);
    }
    return true;
}

static int open_pcaps(struct wire *w, char *err, size_t len) {
    if (w->o->pcap_dir == NULL) return 0;
    for (int i = 0; i < 2; i++) {
        char path[1024], why[256];
        snprintf(path, sizeof(path), "%s/%c.pcap", w->o->pcap_dir, w->end[i].label);
        w->end[i].pcap = tb_pcap_open(path, why, sizeof(why));
        if (w->end[i].pcap == NULL) {
            snprintf(err, len, "%s", why);
            return -1;
        }
    }
    return 0;
}

static int run_loop(struct wire *w, struct wire_result *r) {
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* A background job of a script starts with SIGINT ignored: set it anyway. */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    /* Signals arrive only inside ppoll, so a stop is never missed between
     * the check and the sleep. */
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    sigset_t wait_mask = old_mask;
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    stop_signal = 0;
    int rc = 0;
    const tb_time_ns until = w->o->duration_ns > 0 ? w->o->duration_ns : TB_TIME_NEVER;
    struct pollfd pfd[2] = {{.fd = w->end[0].fd, .events = POLLIN}, {.fd = w->end[1].fd, .events = POLLIN}};
    for (;;) {
        w->now = mono_ns() - w->t0;
        wire_core_release(w->core, w->now, deliver, w);
        /* ppoll delivers a signal only when it returns for it: ends that are
         * always ready (a flood) would keep it pending. Take it here too. */
        const struct timespec no_wait = {0, 0};
        int sig = sigtimedwait(&block, NULL, &no_wait);
        if (sig > 0) stop_signal = sig;
        if (stop_signal != 0 || w->now >= until) break;
        tb_time_ns next = wire_core_next_release(w->core);
        if (until < next) next = until;
        struct timespec ts, *tsp = NULL;
        if (next != TB_TIME_NEVER) {
            tb_time_ns wait_ns = next - (mono_ns() - w->t0);
            if (wait_ns < 0) wait_ns = 0;
            ts.tv_sec = (time_t)(wait_ns / TB_NS_PER_S);
            ts.tv_nsec = (long)(wait_ns % TB_NS_PER_S);
            tsp = &ts;
        }
        int n = ppoll(pfd, 2, tsp, &wait_mask);
        if (n < 0) {
            if (errno == EINTR) continue;
            snprintf(r->error, sizeof(r->error), "ppoll: %s", strerror(errno));
            rc = 1;
            break;
        }
        bool failed = false;
        for (int i = 0; i < 2 && !failed; i++) {
            if (pfd[i].revents == 0) continue;
            if (pfd[i].revents & POLLNVAL) {
                snprintf(r->error, sizeof(r->error), "'%s' was closed", w->end[i].name);
                failed = true;
            } else if (!end_read_batch(w, i, r->error, sizeof(r->error))) {
                failed = true;
            }
        }
        if (failed) {
            rc = 1;
            break;
        }
    }
    r->stop_signal = stop_signal;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

int wire_run(const struct wire_opts *o, struct wire_result *r) {
    memset(r, 0, sizeof(*r));
    if (strcmp(o->iface[0], o->iface[1]) == 0) {
        snprintf(r->error, sizeof(r->error), "--a and --b both name '%s': a wire joins two interfaces", o->iface[0]);
        return 2;
    }
    struct wire *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        return 1;
    }
    w->o = o;
    w->end[0].fd = w->end[1].fd = -1;
    int rc = 1;
    w->core = wire_core_new(&o->core, r->error, sizeof(r->error));
    if (w->core == NULL) {
        rc = 2;
        goto out;
    }
    if (open_end(&w->end[0], o->iface[0], 'A', r->error, sizeof(r->error)) != 0 ||
        open_end(&w->end[1], o->iface[1], 'B', r->error, sizeof(r->error)) != 0)
        goto out;
    if (w->end[0].ifindex == w->end[1].ifindex) {
        snprintf(r->error, sizeof(r->error), "--a '%s' and --b '%s' are the same interface", o->iface[0], o->iface[1]);
        rc = 2;
        goto out;
    }
    if (open_pcaps(w, r->error, sizeof(r->error)) != 0) goto out;
    for (int i = 0; i < 2; i++) snprintf(r->kind[i], sizeof(r->kind[i]), "%s", w->end[i].tap ? "tap" : "packet");
    fprintf(o->log, "tcpbed wire: running between %s (A, %s) and %s (B, %s); SIGINT or SIGTERM stops it\n", o->iface[0],
            r->kind[0], o->iface[1], r->kind[1]);
    fflush(o->log);
    w->t0 = mono_ns();
    rc = run_loop(w, r);
    r->elapsed_ns = mono_ns() - w->t0;
    r->held_at_stop = wire_core_discard(w->core);
out:
    for (int i = 0; i < 2; i++) {
        char why[256];
        if (w->end[i].pcap != NULL && tb_pcap_close(w->end[i].pcap, why, sizeof(why)) != 0 && rc == 0) {
            snprintf(r->error, sizeof(r->error), "%c.pcap: %s", w->end[i].label, why);
            rc = 1;
        }
        close_end(&w->end[i]);
        r->end[i] = w->end[i].st;
    }
    if (w->core != NULL) {
        for (int d = 0; d < 2; d++) wire_core_stats(w->core, d, &r->dir[d], &r->link[d]);
        r->faults_fired = wire_core_faults_fired(w->core);
        wire_core_free(w->core);
    }
    free(w);
    return rc;
}
