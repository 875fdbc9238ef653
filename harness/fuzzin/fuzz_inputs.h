/* Fuzz inputs: how the bytes of a `stack` or `faults` fuzz input are turned
 * into a run, shared by the fuzz targets (fuzz/) and `tcpbed fuzz-to-pcap`,
 * so a crashing input replays identically in both.
 *
 * Both decoders accept every byte string (a short or odd input simply
 * decodes to a short run); neither aborts: a property violation is
 * returned with a sentence saying what broke, and the fuzz target turns it
 * into abort(). A broken TB_ASSERT inside the stack aborts on its own.
 * docs/fuzzing.md describes both formats byte by byte. */
#ifndef TB_SIM_FUZZ_INPUTS_H
#define TB_SIM_FUZZ_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/bulk.h"
#include "tcpbed/tcpbed.h"

/* ---- stack: one stack, a listener, an established connection, then steps -- */

/* The addresses the `stack` runner uses: the stack is 10.0.0.1, the peer it
 * talks to (played by the input) 10.0.0.2, a router 10.0.0.254. */
#define FZ_IP_US 0x0a000001u
#define FZ_IP_PEER 0x0a000002u
#define FZ_IP_ROUTER 0x0a0000feu
#define FZ_PORT_LISTEN 80
#define FZ_PORT_PEER 40000
#define FZ_PEER_ISN 0x10000000u

/* Step opcodes: byte % FZ_OP__COUNT. */
enum fz_op {
    FZ_OP_SEGMENT = 0,   /* a well-formed TCP segment to a known connection */
    FZ_OP_SEGMENT2,      /* the same, a second opcode so segments dominate */
    FZ_OP_DATA,          /* an in-order data segment at the stack's rcv_nxt */
    FZ_OP_ACK,           /* a pure ACK of everything the stack has sent */
    FZ_OP_RAW_TCP,       /* TCP header and options from the input, checksummed */
    FZ_OP_RAW_FRAME,     /* a whole Ethernet frame from the input, as is */
    FZ_OP_ICMP,          /* ICMP error quoting a segment of a connection */
    FZ_OP_ARP,           /* ARP request or reply from the peer */
    FZ_OP_SYN,           /* a SYN from a new peer port to a listener */
    FZ_OP_TIME,          /* advance time, run due timers */
    FZ_OP_TIMERS,        /* jump from deadline to deadline (bounded) */
    FZ_OP_SEND,          /* tb_tcp_send */
    FZ_OP_SEND_BUF,      /* tb_tcp_send_buf */
    FZ_OP_RECV,          /* tb_tcp_recv */
    FZ_OP_RECV_BUF,      /* tb_tcp_recv_buf */
    FZ_OP_SHUTDOWN,
    FZ_OP_CLOSE,
    FZ_OP_ABORT,
    FZ_OP_SETOPT,
    FZ_OP_CONNECT,
    FZ_OP_ACCEPT,
    FZ_OP_LISTEN,        /* listen on another port, or close a listener */
    FZ_OP__COUNT
};

/* Observers for fuzz-to-pcap: every frame into the stack (inbound true)
 * and out of it, with the virtual time it crossed. */
typedef void (*fz_frame_fn)(void *ctx, tb_time_ns now, bool inbound, const uint8_t *frame, size_t len);

struct fz_stack_report {
    uint64_t steps, frames_in, frames_out;
    uint64_t bytes_received, bytes_sent;   /* by the application, checked */
    tb_time_ns end_ns;
};

/* Runs one `stack` input. Returns true when every property held; false
 * with `why` set (a NUL-terminated sentence) on the first violation. */
bool fz_stack_run(const uint8_t *data, size_t len, fz_frame_fn on_frame, void *ctx, struct fz_stack_report *rep,
                  char *why, size_t why_len);

/* ---- faults: a fault schedule for a small bulk transfer -------------------- */

#define FZ_FAULTS_HEADER 4      /* seed, size, buffers/MSS/flags, link */
#define FZ_FAULT_RECORD 5       /* bytes per fault */
#define FZ_FAULTS_MAX 8         /* faults per schedule, each firing a bounded number of times */
#define FZ_FAULTS_TIME_LIMIT_S 1200

struct fz_faults_case {
    struct sim_bulk_opts opts;
    char specs[FZ_FAULTS_MAX][96];
    const char *spec_ptrs[FZ_FAULTS_MAX];
    size_t spec_count;
};

/* Decodes an input into bulk options and fault specs (always valid specs;
 * short inputs get defaults). */
void fz_faults_decode(const uint8_t *data, size_t len, struct fz_faults_case *c);
/* Did the run meet the property: it returned, and it either passed or
 * failed cleanly (a connection error reported by the stack), with only a
 * correct prefix delivered? False with `why` otherwise. */
bool fz_faults_check(const struct fz_faults_case *c, int run_rc, const struct sim_bulk_result *r, char *why,
                     size_t why_len);
/* Decodes, runs and checks (what the fuzz target does). pcap_path may be
 * NULL; r may be NULL. */
bool fz_faults_run(const uint8_t *data, size_t len, const char *pcap_path, struct sim_bulk_result *r, char *why,
                   size_t why_len);
/* The `tcpbed sim bulk ...` command line that reproduces the case. */
void fz_faults_repro(const struct fz_faults_case *c, char *buf, size_t len);

#endif
