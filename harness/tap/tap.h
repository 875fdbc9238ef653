/* The TAP platform: one host on a Linux TAP device, driven by the real
 * clock. The port reads and writes whole Ethernet frames on the device's
 * file descriptor (IFF_TAP | IFF_NO_PI: no packet-information header); the
 * loop sleeps in ppoll exactly until the next frame or the host's next
 * deadline, with nanosecond resolution, so timers fire when they are due
 * and not on a coarse tick.
 *
 * The device is created when it does not exist (and disappears with the
 * process), or attached when it exists and is persistent and free
 * (`ip tuntap add dev NAME mode tap`). The kernel's side of the device is
 * an ordinary interface: bridge it, address it, capture on it. */
#ifndef TB_TAP_TAP_H
#define TB_TAP_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/host/host.h"

#define TB_TAP_MAX_FRAME 65536   /* read buffer: a frame beyond the stack's largest is counted, not input */

struct tb_tap {
    int fd;
    char ifname[16];
    bool created;                 /* we made the device: it goes when fd closes */
    int ctl_fd;                   /* an AF_INET socket for interface ioctls, or -1 */
    /* Counters of the port itself (the stack counts its own drops). */
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t rx_no_buffer;        /* the stack's pool was empty: frame dropped */
    uint64_t rx_too_big;          /* larger than the stack's buffers */
    uint64_t tx_errors;           /* write() failed (the kernel's queue full, device down) */
    int last_tx_errno;
    bool rx_more;                 /* the last burst was full: read again before sleeping */
    int failed_errno;             /* the device failed (deleted, down for good): 0 while it works */
    size_t max_frame;             /* the largest frame the stack can take */
    uint8_t frame[TB_TAP_MAX_FRAME];
};

/* Opens (or creates) the TAP device `name`, non-blocking. On failure
 * returns false with a sentence in err naming the cause (no /dev/net/tun,
 * no permission, busy, not a TAP device). */
bool tb_tap_open(struct tb_tap *t, const char *name, char *err, size_t err_len);
void tb_tap_close(struct tb_tap *t);
/* Configures the kernel's side of the device: IPv4 address/prefix (0:
 * none), IPv6 off, link up. False with err. */
bool tb_tap_kernel_side(struct tb_tap *t, uint32_t ipv4, uint8_t prefix_len, char *err, size_t err_len);
/* Waits until the kernel's side is administratively up and running (the
 * kernel starts sending on a TAP only once its link watch has seen the
 * carrier that attaching gives, up to a second later). False when it is
 * down, or still not running after timeout_ns. */
bool tb_tap_wait_running(struct tb_tap *t, tb_time_ns timeout_ns);
/* The kernel's side's MTU (what it will send us), or -1. */
int tb_tap_mtu(struct tb_tap *t);

extern const struct tb_port_ops tb_tap_port_ops;

/* The real-time environment: CLOCK_MONOTONIC. */
tb_time_ns tb_tap_clock_now(void);
extern const struct tb_host_env_ops tb_tap_env_ops;

/* Sleeps until the TAP has a frame, `deadline` (CLOCK_MONOTONIC ns;
 * TB_TIME_NEVER: no deadline) comes, or a signal in the unblocked mask
 * arrives (sigmask: the mask during the wait, NULL for the current one).
 * Returns immediately when the last burst was full. */
void tb_tap_wait(struct tb_tap *t, tb_time_ns deadline, const void *sigmask);
/* The device failed: a read error other than "nothing there", or an
 * error or hang-up from poll. The loop must end (say so, flush, exit 1):
 * the descriptor stays ready and would spin. */
static inline bool tb_tap_failed(const struct tb_tap *t) { return t->failed_errno != 0; }

#endif
