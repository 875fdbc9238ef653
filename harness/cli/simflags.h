/* The link, fault and output flags every `tcpbed sim` scenario shares. */
#ifndef TB_CLI_SIMFLAGS_H
#define TB_CLI_SIMFLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/cli/opts.h"
#include "sim/sim.h"

struct sim_flags {
    uint64_t rate_bps, queue_bytes, mtu, ecn_mark_bytes;
    tb_time_ns delay_ns, jitter_ns, reorder_delay_ns;
    bool jitter_keep_order;
    const char *loss, *burst_loss, *reorder, *duplicate, *corrupt, *qdisc, *red;
    struct opt_list faults, expects;
    const char *pcap, *pcap_dir, *fault_log, *record_faults, *trace_cc;
    bool json;
};

#define SIM_FLAG_OPTS 23
/* Fills out[0..SIM_FLAG_OPTS) with the shared options, bound to f. */
void sim_flags_opts(struct sim_flags *f, struct opt *out);
/* Opens the files the output flags name (--fault-log, --trace-cc, and
 * faults.csv and cc.csv inside --pcap-dir). False with err on failure. */
struct sim_outputs {
    FILE *fault_log, *trace_cc;
};
bool sim_outputs_open(const struct sim_flags *f, struct sim_outputs *out, char *err, size_t err_len);
void sim_outputs_close(struct sim_outputs *out);

/* Turns the flags into the two directions' link parameters; false (with
 * err) when a value is malformed. */
bool sim_flags_apply(const struct sim_flags *f, struct sim_link_params *ab, struct sim_link_params *ba, char *err,
                     size_t err_len);

#endif
