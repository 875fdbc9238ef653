/* The profiles: each knob set here is in the table of docs/conformance.md.
 * Keep the two together. */
#include <string.h>

#include "harness/check/profile.h"

bool tb_check_profile_parse(const char *name, enum tb_check_profile *out) {
    if (strcmp(name, "rfc") == 0) *out = TB_CHECK_PROFILE_RFC;
    else if (strcmp(name, "linux") == 0) *out = TB_CHECK_PROFILE_LINUX;
    else return false;
    return true;
}

const char *tb_check_profile_name(enum tb_check_profile p) { return p == TB_CHECK_PROFILE_LINUX ? "linux" : "rfc"; }

void tb_check_profile_config(enum tb_check_profile p, struct tb_config *cfg) {
    tb_config_default(cfg);
    if (p == TB_CHECK_PROFILE_RFC) {
        cfg->tcp_rto_min_ns = TB_NS_PER_S;             /* RFC 6298 §2.4: RTO rounded up to 1 s */
        return;
    }
    cfg->tcp_rto_min_ns = 200 * TB_NS_PER_MS;          /* TCP_RTO_MIN */
    cfg->tcp_rto_max_ns = 120 * TB_NS_PER_S;           /* TCP_RTO_MAX */
    cfg->tcp_rcvbuf_bytes = 12 * 1024 * 1024;          /* window scale 8 in the SYN, as tcp_rmem's maximum gives */
    cfg->tcp_ecn_accept = true;                        /* net.ipv4.tcp_ecn = 2: answer ECN, never ask */
    cfg->tcp_quickack_segs = 16;                       /* quick-ACK mode at the start (TCP_MAX_QUICKACKS) */
    cfg->tcp_max_retries = 15;                         /* net.ipv4.tcp_retries2 */
    cfg->tcp_cc = TB_CC_CUBIC;                         /* the default congestion control */
}

