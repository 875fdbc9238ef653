/* harness/check: Linux's numbers for what tcpbed reports, for the tools
 * that speak Linux's socket API over tcpbed (the script checker and the
 * packetdrill plug-in), so both say the same. */
#ifndef TB_HARNESS_CHECK_LINUX_H
#define TB_HARNESS_CHECK_LINUX_H

/* The errno name Linux gives for a tcpbed error (TB_ERR_RESET: "ECONNRESET";
 * an unknown one: "EIO"). */
const char *tb_linux_errno_name(int tb_err);
/* Linux's number for an errno name, or -1 when the table does not know it. */
int tb_linux_errno_value(const char *name);
/* The tcpi_state a socket in that tcpbed state reports (Linux's TCP_*
 * numbers; a socket in TIME-WAIT is TCP_CLOSE: the timewait sock that goes
 * on is not the socket's). */
int tb_linux_tcp_state(int tb_state);

#endif
