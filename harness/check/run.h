/* harness/check: the interpreter. A parsed packetdrill script (script.h)
 * runs against one tcpbed stack in exact virtual time: the stack is a host
 * (harness/host) over a script port whose rx_burst hands in the frames the
 * script injects and whose tx_burst collects what the stack sends;
 * harness/peer builds the inbound segments and decodes the outbound ones.
 *
 * The conventions (packetdrill's, with fixed addresses):
 *  - tcpbed is the local host 192.168.0.1, the script's remote end is
 *    192.0.2.1 (packetdrill's defaults; `--local_ip` / `--remote_ip` option
 *    lines change them), both on one link. Inbound segments come from port
 *    TB_CHECK_REMOTE_PORT to the bound port (8080 unless bind names one);
 *    an active open goes to 8080 (or connect's sin_port). `a>b` ports on
 *    a packet line are honoured.
 *  - The script's remote ISN is TB_CHECK_REMOTE_ISN (or opts.remote_isn).
 *    Inbound sequence numbers are relative to it, inbound ack and SACK
 *    blocks relative to the stack's ISN (learnt from its SYN or SYN-ACK;
 *    absolute before one was seen); outbound seq relative to the stack's
 *    ISN, outbound ack and SACK blocks relative to the remote ISN.
 *  - Script time 0 is virtual time TB_CHECK_T0_NS. Relative times count
 *    from the previous event's actual time (an outbound packet's arrival,
 *    a call's start); absolute times never go backward. Inbound packets
 *    are injected at exactly their time (the clock advances, the host's
 *    pass runs the timers due, then the frame goes in); an event that can
 *    no longer start at its time (beyond the tolerance) fails. An outbound
 *    packet must leave within the tolerance (0 unless `--tolerance_usecs=N`
 *    or opts.tolerance_ns) of its time or range; `*` accepts any time.
 *    Every written field is checked (flags, seq range, ack, win, urg,
 *    options in order unless `<...>`, ECN when annotated), and an ack or
 *    urgent pointer left out must be 0; TS val of outbound packets is not
 *    (the stack's clock), and an inbound TS ecr is mapped to the live TSval
 *    the script's value stood for (an ecr no outbound line wrote fails).
 *  - A packet the stack sends before an event's time that no outbound line
 *    took is unexpected; one sent at the event's own time may be for the
 *    outbound lines after it. After the last event nothing more is checked
 *    (as packetdrill).
 *  - Calls: the script's fd numbers are its own (a call that makes an fd
 *    takes the number the script expects when it is free). A call without
 *    `...` must return at its start (it stops the script, as on
 *    packetdrill's main thread); `a...b name()` may block: it stays in
 *    progress while the script goes on, completes in the pass where it
 *    can, and must return at b, which counts from the base a counted from
 *    (absolute for an absolute a, the previous event for a relative one).
 *    A call made while one is in progress must find it returned by its own
 *    time. ARP is answered by the port, never scripted.
 *  - Errors as Linux reports them: a connection's error once (SO_ERROR or
 *    the call that met it; reads then see EOF, writes EPIPE), a give-up
 *    after an ICMP soft error as that error, socket options checked and
 *    read back with Linux's ranges and units.
 *  - Inbound ICMP errors (`< icmp unreachable frag_needed mtu 1200
 *    [1:1461(1460)]`, `time_exceeded`, `source_quench`, `redirect`,
 *    `parameter_problem`) come from the remote address and quote a
 *    segment of the current connection, its sequence number relative to
 *    the stack's ISN. Outbound ICMP lines, other ICMP types and raw or UDP
 *    quotes skip the script; ICMP the stack sends is not checked.
 *
 * Nothing here reads a clock or draws entropy: the same script, options
 * and seed give the same outcome and the same message. */
#ifndef TB_HARNESS_CHECK_RUN_H
#define TB_HARNESS_CHECK_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/check/profile.h"
#include "harness/check/script.h"
#include "tcpbed/tcpbed.h"

#define TB_CHECK_LOCAL_IP 0xc0a80001u    /* 192.168.0.1: tcpbed */
#define TB_CHECK_REMOTE_IP 0xc0000201u   /* 192.0.2.1: the script */
#define TB_CHECK_REMOTE_PORT 48896       /* the script's port for passive opens */
#define TB_CHECK_DEFAULT_PORT 8080       /* bind's port and connect's destination unless named */
#define TB_CHECK_REMOTE_ISN 1000000u     /* the script's initial sequence number */
#define TB_CHECK_T0_NS INT64_C(1000000000)  /* virtual time of script time 0 */

struct tb_check_opts {
    uint64_t seed;               /* the stack's seed (tb_config.seed) */
    bool ignore_shell;           /* drop `shell` lines instead of skipping the script */
    const char *pcap_path;       /* NULL: none; else every frame in and out, virtual timestamps */
    int64_t tolerance_ns;        /* < 0: the script's --tolerance_usecs, else 0 */
    uint32_t remote_isn;         /* the script's ISN */
    enum tb_check_profile profile; /* the configuration when cfg is NULL */
    const struct tb_config *cfg; /* NULL: the profile's; addresses and seed are set over it */
    int64_t max_wait_ns;         /* how long past its window a missing packet or blocked call is waited for */
    tb_time_ns *spanned_ns;      /* non-NULL: gets the script time the run reached (virtual) */
};

/* seed 1, shell lines skip, no pcap, the script's tolerance,
 * TB_CHECK_REMOTE_ISN, the RFC profile, 600 s of waiting. */
void tb_check_opts_default(struct tb_check_opts *o);

enum tb_check_outcome {
    TB_CHECK_PASS,               /* every event happened as written */
    TB_CHECK_FAIL,               /* msg: FILE:LINE: what was expected vs what happened */
    TB_CHECK_SKIP,               /* msg: unsupported: FILE:LINE: construct */
};

const char *tb_check_outcome_name(enum tb_check_outcome r);

/* Runs s against a fresh stack. msg (always terminated when msg_len > 0)
 * gets the failure (several lines: the sentence, then `script packet:`
 * and `actual packet:` when packets are involved), the skip note, or on a
 * pass the warnings (`FILE:LINE: warning: shell command ignored`), or "". */
enum tb_check_outcome tb_check_run(const struct tb_script *s, const struct tb_check_opts *o, char *msg,
                                   size_t msg_len);

#endif
