/* harness/check: Linux's numbers for what tcpbed reports, for the tools
 * that speak Linux's socket API over tcpbed (the script checker and the
 * packetdrill plug-in), so both say the same. */
#ifndef TB_HARNESS_CHECK_LINUX_H
#define TB_HARNESS_CHECK_LINUX_H

#include <stdint.h>

/* The errno name Linux gives for a tcpbed error (TB_ERR_RESET: "ECONNRESET";
 * an unknown one: "EIO"). */
const char *tb_linux_errno_name(int tb_err);
/* Linux's number for an errno name, or -1 when the table does not know it. */
int tb_linux_errno_value(const char *name);
/* The tcpi_state a socket in that tcpbed state reports (Linux's TCP_*
 * numbers; a socket in TIME-WAIT is TCP_CLOSE: the timewait sock that goes
 * on is not the socket's). */
int tb_linux_tcp_state(int tb_state);

/* The portable part of Linux's struct tcp_info for one tcpbed connection,
 * in Linux's units: microseconds (tcpi_rto is the timer's, backed off up
 * to rto_max_ns), cwnd and ssthresh in segments (0x7fffffff: no ssthresh
 * yet), state by tb_linux_tcp_state. */
struct tb_linux_tcpi {
    int64_t state, backoff, options, snd_wscale, rcv_wscale, rto_us, snd_mss, rtt_us, rttvar_us;
    int64_t snd_cwnd, snd_ssthresh, unacked, total_retrans, bytes_acked, bytes_received;
    int64_t segs_out, segs_in, data_segs_out, data_segs_in, snd_wnd, ca_state;
};
struct tb_tcp_info;
void tb_linux_tcpi(const struct tb_tcp_info *in, int64_t rto_max_ns, struct tb_linux_tcpi *out);

#endif
