#define _GNU_SOURCE   /* ppoll */
#include "harness/tap/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tcpbed/assert.h"

/* ---- the device ------------------------------------------------------------- */
static bool is_tun_device(const char *name) {
    char path[64];
    snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
    struct stat sb;
    return stat(path, &sb) == 0;
}

static bool iface_exists(const char *name) {
    char path[64];
    snprintf(path, sizeof(path), "/sys/class/net/%s", name);
    struct stat sb;
    return stat(path, &sb) == 0;
}

bool tb_tap_open(struct tb_tap *t, const char *name, char *err, size_t err_len) {
    memset(t, 0, offsetof(struct tb_tap, frame));
    t->fd = -1;
    t->ctl_fd = -1;
    size_t n = strlen(name);
    if (n == 0 || n >= IFNAMSIZ || strchr(name, '/') != NULL || strchr(name, ' ') != NULL) {
        snprintf(err, err_len, "interface name '%s': expected 1 to %d characters, no '/' or space", name, IFNAMSIZ - 1);
        return false;
    }
    bool existed = iface_exists(name);
    if (existed && !is_tun_device(name)) {
        snprintf(err, err_len, "interface %s exists and is not a TAP device (pick another name, or create one: "
                               "ip tuntap add dev NAME mode tap)", name);
        return false;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            snprintf(err, err_len, "/dev/net/tun does not exist: this kernel has no TUN/TAP, or /dev is incomplete "
                                   "(mknod /dev/net/tun c 10 200)");
        else if (e == EACCES || e == EPERM)
            snprintf(err, err_len, "/dev/net/tun: permission denied (run as root, or with CAP_NET_ADMIN)");
        else
            snprintf(err, err_len, "/dev/net/tun: %s", strerror(e));
        return false;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, n);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        if (e == EPERM || e == EACCES)
            snprintf(err, err_len, "%s %s: permission denied (run as root, or with CAP_NET_ADMIN%s)",
                     existed ? "attaching to" : "creating", name, existed ? ", or as the device's owner" : "");
        else if (e == EBUSY)
            snprintf(err, err_len, "%s is busy: another process holds it (only one may), or it is a TUN, not a TAP, "
                                   "device", name);
        else if (e == EINVAL)
            snprintf(err, err_len, "%s: the kernel refused it as a TAP device (is it a TUN device?)", name);
        else
            snprintf(err, err_len, "%s %s: %s", existed ? "attaching to" : "creating", name, strerror(e));
        return false;
    }
    t->fd = fd;
    memcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname) - 1);
    t->created = !existed;
    t->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (t->ctl_fd < 0) {
        snprintf(err, err_len, "a socket for %s's settings: %s", t->ifname, strerror(errno));
        close(fd);
        t->fd = -1;
        return false;
    }
    return true;
}

void tb_tap_close(struct tb_tap *t) {
    if (t->fd >= 0) close(t->fd);
    if (t->ctl_fd >= 0) close(t->ctl_fd);
    t->fd = -1;
    t->ctl_fd = -1;
}

static bool write_sysctl(const char *path, const char *value) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
    close(fd);
    return ok;
}

bool tb_tap_kernel_side(struct tb_tap *t, uint32_t ipv4, uint8_t prefix_len, char *err, size_t err_len) {
    if (t->ctl_fd < 0) {
        snprintf(err, err_len, "no control socket for %s: %s", t->ifname, strerror(errno));
        return false;
    }
    /* IPv6 off first: router solicitations and DAD would be noise in every
     * capture of an IPv4 stack. Best effort: a kernel without IPv6 has no file. */
    char path[96];
    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", t->ifname);
    (void)write_sysctl(path, "1");
    struct ifreq ifr;
    if (ipv4 != 0) {
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, t->ifname, sizeof(t->ifname));
        struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(ipv4);
        if (ioctl(t->ctl_fd, SIOCSIFADDR, &ifr) < 0) {
            snprintf(err, err_len, "setting the kernel's address on %s: %s", t->ifname, strerror(errno));
            return false;
        }
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, t->ifname, sizeof(t->ifname));
        sin = (struct sockaddr_in *)(void *)&ifr.ifr_netmask;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(prefix_len == 0 ? 0 : ~UINT32_C(0) << (32 - prefix_len));
        if (ioctl(t->ctl_fd, SIOCSIFNETMASK, &ifr) < 0) {
            snprintf(err, err_len, "setting the kernel's netmask on %s: %s", t->ifname, strerror(errno));
            return false;
        }
    }
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, t->ifname, sizeof(t->ifname));
    if (ioctl(t->ctl_fd, SIOCGIFFLAGS, &ifr) < 0) {
        snprintf(err, err_len, "reading %s's flags: %s", t->ifname, strerror(errno));
        return false;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(t->ctl_fd, SIOCSIFFLAGS, &ifr) < 0) {
        snprintf(err, err_len, "bringing %s up: %s", t->ifname, strerror(errno));
        return false;
    }
    return true;
}

int tb_tap_mtu(struct tb_tap *t) {
    if (t->ctl_fd < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, t->ifname, sizeof(t->ifname));
    if (ioctl(t->ctl_fd, SIOCGIFMTU, &ifr) < 0) return -1;
    return ifr.ifr_mtu;
}

bool tb_tap_wait_running(struct tb_tap *t, tb_time_ns timeout_ns) {
    if (t->ctl_fd < 0) return false;
    tb_time_ns until = tb_tap_clock_now() + timeout_ns;
    for (;;) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, t->ifname, sizeof(t->ifname));
        if (ioctl(t->ctl_fd, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP)) return false;
        if (ifr.ifr_flags & IFF_RUNNING) return true;
        if (tb_tap_clock_now() >= until) return false;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * TB_NS_PER_MS};
        nanosleep(&ts, NULL);
    }
}

/* ---- the port ----------------------------------------------------------------- */
/* Reads until the device is empty or the burst is full: each read() is one
 * frame. The frame lands in the port's buffer first, so its size is known
 * before a pool buffer is taken, and a frame the stack could not hold is
 * counted instead of truncated. */
static size_t tap_rx_burst(void *port, struct tb_host *h, struct tb_buf **frames, size_t max) {
    struct tb_tap *t = port;
    size_t n = 0;
    t->rx_more = false;
    while (n < max) {
        ssize_t got = read(t->fd, t->frame, sizeof(t->frame));
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) t->failed_errno = errno;   /* EBADFD: the device is gone */
            break;
        }
        if (got == 0) break;
        t->rx_frames++;
        t->rx_bytes += (uint64_t)got;
        if (t->max_frame != 0 && (size_t)got > t->max_frame) {
            t->rx_too_big++;
            continue;
        }
        struct tb_buf *b = tb_host_alloc_rx(h, (size_t)got);
        if (b == NULL) {
            t->rx_no_buffer++;
            continue;
        }
        memcpy(b->data, t->frame, (size_t)got);   /* the buffer comes sized */
        frames[n++] = b;
    }
    t->rx_more = n == max;
    return n;
}

#define TAP_MAX_IOV 64

/* One writev per frame: the chain's segments go out without being
 * flattened. A frame the kernel refuses is counted; TCP recovers it. */
static void tap_tx_burst(void *port, struct tb_host *h, struct tb_buf *const *frames, size_t n) {
    (void)h;
    struct tb_tap *t = port;
    for (size_t i = 0; i < n; i++) {
        struct iovec iov[TAP_MAX_IOV];
        int niov = 0;
        size_t len = 0;
        const struct tb_buf *b = frames[i];
        for (; b != NULL && niov < TAP_MAX_IOV; b = b->next) {
            if (b->len == 0) continue;
            iov[niov].iov_base = b->data;
            iov[niov].iov_len = b->len;
            len += b->len;
            niov++;
        }
        if (b != NULL) {   /* a chain longer than the iovec: flatten it (never seen from the stack) */
            len = tb_buf_copy_out(frames[i], 0, t->frame, sizeof(t->frame));
            iov[0].iov_base = t->frame;
            iov[0].iov_len = len;
            niov = 1;
        }
        ssize_t w;
        do {
            w = writev(t->fd, iov, niov);
        } while (w < 0 && errno == EINTR);
        if (w < 0 || (size_t)w != len) {
            t->tx_errors++;
            t->last_tx_errno = w < 0 ? errno : EMSGSIZE;
            continue;
        }
        t->tx_frames++;
        t->tx_bytes += len;
    }
}

const struct tb_port_ops tb_tap_port_ops = {.rx_burst = tap_rx_burst, .tx_burst = tap_tx_burst};

/* ---- the environment and the wait ------------------------------------------- */
tb_time_ns tb_tap_clock_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (tb_time_ns)ts.tv_sec * TB_NS_PER_S + ts.tv_nsec;
}

static tb_time_ns tap_env_now(void *env) {
    (void)env;
    return tb_tap_clock_now();
}

const struct tb_host_env_ops tb_tap_env_ops = {.now = tap_env_now};

void tb_tap_wait(struct tb_tap *t, tb_time_ns deadline, const void *sigmask) {
    if (t->rx_more) return;
    struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
    struct timespec ts, *tsp = NULL;
    if (deadline != TB_TIME_NEVER) {
        tb_time_ns left = deadline - tb_tap_clock_now();
        if (left <= 0) return;
        ts.tv_sec = (time_t)(left / TB_NS_PER_S);
        ts.tv_nsec = (long)(left % TB_NS_PER_S);
        tsp = &ts;
    }
    int n = ppoll(&pfd, 1, tsp, (const sigset_t *)sigmask);
    if (n > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) t->failed_errno = EIO;
}
