/* Linux's errno and tcpi_state numbers (include/uapi/asm-generic/errno*.h,
 * include/net/tcp_states.h), written down as values, not taken from this
 * machine's headers, so the checker says the same on any host. */
#include <string.h>

#include "harness/check/linux.h"
#include "tcpbed/tcpbed.h"

static const struct {
    const char *name;
    int value;
} errnos[] = {
    {"EAGAIN", 11},       {"ECONNRESET", 104},  {"ECONNREFUSED", 111}, {"ETIMEDOUT", 110},   {"ENOTCONN", 107},
    {"EADDRINUSE", 98},   {"EBADF", 9},         {"EPIPE", 32},         {"EINVAL", 22},       {"ENOMEM", 12},
    {"ENOBUFS", 105},     {"EMSGSIZE", 90},     {"ENETUNREACH", 101},  {"ECONNABORTED", 103}, {"EHOSTUNREACH", 113},
    {"EIO", 5},           {"EINPROGRESS", 115}, {"EALREADY", 114},     {"EISCONN", 106},     {"EOPNOTSUPP", 95},
    {"ENOPROTOOPT", 92},  {"EHOSTDOWN", 112},   {"ENONET", 64},        {"EMFILE", 24},       {"EEXIST", 17},
    {"ENOENT", 2},        {"ENOSPC", 28},
};

const char *tb_linux_errno_name(int tb_err) {
    switch (tb_err) {
    case TB_ERR_AGAIN: return "EAGAIN";
    case TB_ERR_RESET: return "ECONNRESET";
    case TB_ERR_REFUSED: return "ECONNREFUSED";
    case TB_ERR_TIMEOUT: return "ETIMEDOUT";
    case TB_ERR_NOTCONN: return "ENOTCONN";
    case TB_ERR_INUSE: return "EADDRINUSE";
    case TB_ERR_BADCONN: return "EBADF";
    case TB_ERR_CLOSED: return "EPIPE";
    case TB_ERR_INVAL: return "EINVAL";
    case TB_ERR_NOMEM: return "ENOMEM";
    case TB_ERR_NOBUFS:
    case TB_ERR_QFULL: return "ENOBUFS";
    case TB_ERR_MSGSIZE: return "EMSGSIZE";
    case TB_ERR_NOROUTE: return "ENETUNREACH";
    case TB_ERR_ABORTED: return "ECONNABORTED";
    case TB_ERR_UNREACH: return "EHOSTUNREACH";
    default: return "EIO";
    }
}

int tb_linux_errno_value(const char *name) {
    for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
        if (strcmp(errnos[i].name, name) == 0) return errnos[i].value;
    return -1;
}

int tb_linux_tcp_state(int tb_state) {
    static const int map[] = {
        [TB_TCP_CLOSED] = 7,      [TB_TCP_LISTEN] = 10,    [TB_TCP_SYN_SENT] = 2,   [TB_TCP_SYN_RECEIVED] = 3,
        [TB_TCP_ESTABLISHED] = 1, [TB_TCP_FIN_WAIT_1] = 4, [TB_TCP_FIN_WAIT_2] = 5, [TB_TCP_CLOSE_WAIT] = 8,
        [TB_TCP_CLOSING] = 11,    [TB_TCP_LAST_ACK] = 9,   [TB_TCP_TIME_WAIT] = 7,
    };
    return tb_state >= 0 && (size_t)tb_state < sizeof(map) / sizeof(map[0]) ? map[tb_state] : -1;
}

void tb_linux_tcpi(const struct tb_tcp_info *in, int64_t rto_max_ns, struct tb_linux_tcpi *out) {
    int64_t mss = in->mss_bytes > 0 ? in->mss_bytes : 1;
    int64_t rto = in->rto_ns;   /* Linux's is the timer's: backed off, up to the maximum */
    for (uint32_t i = 0; i < in->backoff && rto < rto_max_ns; i++) rto *= 2;
    if (rto > rto_max_ns) rto = rto_max_ns;
    *out = (struct tb_linux_tcpi){
        .state = tb_linux_tcp_state(in->state),
        .backoff = in->backoff,
        .options = (in->ts_ok ? 1 : 0) | (in->sack_ok ? 2 : 0) | (in->ws_ok ? 4 : 0) | (in->ecn_ok ? 8 : 0),
        .snd_wscale = in->ws_ok ? in->snd_wscale : 0,
        .rcv_wscale = in->ws_ok ? in->rcv_wscale : 0,
        .rto_us = rto / 1000,
        .snd_mss = in->mss_bytes,
        .rtt_us = in->srtt_ns / 1000,
        .rttvar_us = in->rttvar_ns / 1000,
        .snd_cwnd = in->cwnd_bytes / mss,
        .snd_ssthresh = in->ssthresh_bytes >= 0x7fffffffu ? 0x7fffffff : (int64_t)in->ssthresh_bytes / mss,
        .unacked = (in->flight_bytes + mss - 1) / mss,
        .total_retrans = (int64_t)in->retransmits,
        .bytes_acked = (int64_t)in->bytes_acked,
        .bytes_received = (int64_t)in->bytes_received,
        .segs_out = (int64_t)in->segs_out,
        .segs_in = (int64_t)in->segs_in,
        .data_segs_out = (int64_t)in->data_segs_out,
        .data_segs_in = (int64_t)in->data_segs_in,
        .snd_wnd = in->snd_wnd_bytes,
        .ca_state = in->in_recovery ? 3 : 0,   /* TCP_CA_Recovery, TCP_CA_Open */
    };
}
