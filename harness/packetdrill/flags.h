/* harness/packetdrill: the plug-in's --so_flags (docs/packetdrill.md).
 *
 * A string of key=value words separated by spaces or commas:
 *   seed=N                  the stack's seed (default 1)
 *   profile=rfc|linux       the configuration the knobs below start from, as
 *                           `tcpbed check --profile` (default rfc)
 *   local_ip=A.B.C.D        tcpbed's address (default: learnt from the first bind to
 *                           an address or the first packet packetdrill sends, else
 *                           192.168.0.1)
 *   mtu=N                   the IP MTU (default 1500)
 *   rto_min_ms=N            tcp_rto_min_ns (default: the profile's, 1000 or 200)
 *   rto_initial_ms=N        tcp_rto_initial_ns (default 1000)
 *   delack_ms=N             tcp_delack_ns (default 40; 0: ACK every segment)
 *   sack=0|1, timestamps=0|1, wscale=0|1, ecn=0|1   the RFC 2018/7323/3168 switches
 *   cc=newreno|cubic        congestion control
 *   iw=N                    initial window in segments (0: RFC 6928)
 *   spin_usecs=N            added to every usleep (default 20: packetdrill sleeps
 *                           to 20 us before an event and spins on the clock for the rest)
 *   receive_wait_s=N        how far netdev_receive moves the clock looking for a
 *                           packet before it reports none (default 600)
 *   block_wait_s=N          the same for a blocking call on packetdrill's main thread
 *   block_timeout_ms=N      real time a call blocked on another thread waits for the
 *                           main thread to move anything (default 5000)
 *   verbose=0|1             say on stderr which address the stack took
 * Anything else is an error. Parsing is pure: no I/O, no globals. */
#ifndef TB_HARNESS_PACKETDRILL_FLAGS_H
#define TB_HARNESS_PACKETDRILL_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/check/profile.h"
#include "tcpbed/tcpbed.h"

struct tb_pd_flags {
    uint64_t seed;
    enum tb_check_profile profile;
    uint32_t local_ip;             /* 0: learn it */
    int64_t mtu;                   /* < 0: not given (the same for every knob below) */
    int64_t rto_min_ms, rto_initial_ms, delack_ms, iw;
    int sack, timestamps, wscale, ecn;   /* -1: not given */
    int cc;                        /* -1: not given, else enum tb_cc_algo */
    int64_t spin_usecs;
    tb_time_ns receive_horizon_ns;
    tb_time_ns block_horizon_ns;
    int64_t block_timeout_ms;
    int verbose;
};

/* Fills *out from s (NULL or "" give the defaults). false with a sentence
 * in err on an unknown key or a bad value. */
bool tb_pd_flags_parse(const char *s, struct tb_pd_flags *out, char *err, size_t err_len);
/* Sets the stack knobs the flags name (the seed, the address when given) over cfg. */
void tb_pd_flags_apply(const struct tb_pd_flags *f, struct tb_config *cfg);

#endif
