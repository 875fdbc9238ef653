/* tcpbed replay: a run-log (tcpbed sim bulk --record, tcpbed tap --record)
 * fed to a fresh core in the log's virtual time; every frame it emits is
 * compared with the recorded one.
 *
 *   tcpbed replay FILE [--pcap FILE] [--trace-cc FILE] [--pcap-dir DIR] [--json]
 *
 * Exit 0: identical; 1: a divergence (the first, field by field); 2: not a
 * run-log, malformed, cut short, an unknown version or a record replay
 * cannot reproduce, with the byte offset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "harness/replay/replay.h"
#include "traces/cc_trace.h"
#include "traces/pcap_writer.h"

struct outputs {
    struct tb_pcap_writer *pcap, *dir_pcap;
    FILE *trace_cc, *dir_cc;
    struct tb_cc_trace cc, dir_cc_trace;
    bool attach_failed;
};

static void attach_outputs(struct tb_host *h, void *ctx) {
    struct outputs *o = ctx;
    bool ok = true;
    if (o->pcap != NULL) ok = tb_pcap_attach(h, o->pcap) && ok;
    if (o->dir_pcap != NULL) ok = tb_pcap_attach(h, o->dir_pcap) && ok;
    if (o->trace_cc != NULL) ok = tb_cc_trace_attach(&o->cc, h, o->trace_cc) && ok;
    if (o->dir_cc != NULL) {
        ok = tb_cc_trace_attach(&o->dir_cc_trace, h, o->dir_cc) && ok;
        /* The run-directory layout names the host A, the sender `tcpbed plot` reads. */
        snprintf(o->dir_cc_trace.host, sizeof(o->dir_cc_trace.host), "A");
    }
    o->attach_failed = !ok;
}

static int close_outputs(struct outputs *o) {
    int rc = 0;
    char err[320];
    struct tb_pcap_writer *w[2] = {o->pcap, o->dir_pcap};
    for (int i = 0; i < 2; i++)
        if (w[i] != NULL && tb_pcap_close(w[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "tcpbed replay: %s\n", err);
            rc = -1;
        }
    FILE *f[2] = {o->trace_cc, o->dir_cc};
    for (int i = 0; i < 2; i++)
        if (f[i] != NULL && (ferror(f[i]) | fclose(f[i])) != 0) {
            fprintf(stderr, "tcpbed replay: writing the cc trace failed\n");
            rc = -1;
        }
    memset(o, 0, sizeof(*o));
    return rc;
}

static FILE *open_cc(const char *path, char *err, size_t len) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, len, "cannot write '%s'", path);
        return NULL;
    }
    tb_cc_trace_header(f);
    return f;
}

static void print_counts(FILE *f, const struct tb_replay_result *r) {
    fprintf(f, "%llu frames (%llu in, %llu out), %llu passes, %llu ticks, %llu calls", (unsigned long long)r->frames,
            (unsigned long long)r->frames_in, (unsigned long long)r->frames_out, (unsigned long long)r->passes,
            (unsigned long long)r->ticks, (unsigned long long)r->calls);
}

int cmd_replay(int argc, char **argv) {
    const char *file = NULL, *pcap = NULL, *trace_cc = NULL, *pcap_dir = NULL;
    bool json = false;
    if (argc >= 1 && argv[0][0] != '-') {
        file = argv[0];
        argc--;
        argv++;
    }
    const struct opt opts[] = {
        {"pcap", OPT_STRING, &pcap, "FILE", "write what the replayed host sent and received as a pcap", 0, 0},
        {"trace-cc", OPT_STRING, &trace_cc, "FILE", "write the replayed host's congestion-control trace (CSV)", 0, 0},
        {"pcap-dir", OPT_STRING, &pcap_dir, "DIR",
         "write DIR/A.pcap and DIR/cc.csv, the layout of tcpbed sim --pcap-dir (tcpbed plot DIR)", 0, 0},
        {"json", OPT_FLAG, &json, NULL, "print the outcome as one JSON object", 0, 0},
    };
    int rc = opts_parse("tcpbed replay",
                        "Feeds a run-log (sim bulk --record, tap --record) to a fresh core in the log's virtual time\n"
                        "and compares every frame it emits, every tick and every call's result with the recorded ones.\n"
                        "usage: tcpbed replay FILE [options]\n"
                        "Prints 'identical' (exit 0), or the first divergence: frame, pass, time, field, both values\n"
                        "(exit 1). A file that is not a run-log, is malformed or cut short, or holds a record replay\n"
                        "cannot reproduce: a message with the byte offset, exit 2.",
                        opts, (int)(sizeof(opts) / sizeof(opts[0])), argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if (file == NULL) {
        fprintf(stderr, "tcpbed replay: expected a run-log FILE\nTry 'tcpbed replay --help'.\n");
        return 2;
    }
    struct outputs outs;
    memset(&outs, 0, sizeof(outs));
    char err[1200];
    if (pcap_dir != NULL) {
        char why[320], path[1100];
        if (cli_mkdir_p(pcap_dir, why, sizeof(why)) != 0) {
            fprintf(stderr, "tcpbed replay: --pcap-dir '%s': %s\n", pcap_dir, why);
            return 2;
        }
        snprintf(path, sizeof(path), "%s/A.pcap", pcap_dir);
        outs.dir_pcap = tb_pcap_open(path, err, sizeof(err));
        snprintf(path, sizeof(path), "%s/cc.csv", pcap_dir);
        if (outs.dir_pcap != NULL) outs.dir_cc = open_cc(path, err, sizeof(err));
        if (outs.dir_cc == NULL) goto out_fail;
    }
    if (pcap != NULL && (outs.pcap = tb_pcap_open(pcap, err, sizeof(err))) == NULL) goto out_fail;
    if (trace_cc != NULL && (outs.trace_cc = open_cc(trace_cc, err, sizeof(err))) == NULL) goto out_fail;

    struct tb_replay_opts ro = {.path = file, .attach = attach_outputs, .attach_ctx = &outs};
    struct tb_replay_result *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        close_outputs(&outs);
        return 1;
    }
    tb_replay_run(&ro, r);
    bool attach_failed = outs.attach_failed;   /* close_outputs clears outs */
    bool outputs_ok = close_outputs(&outs) == 0 && !attach_failed;
    const struct tb_replay_divergence *d = &r->divergence;
    if (json) {
        struct json j;
        json_begin(&j, stdout);
        json_str(&j, "command", "replay");
        json_str(&j, "file", file);
        json_bool(&j, "identical", r->status == TB_REPLAY_IDENTICAL);
        json_str(&j, "status", tb_replay_status_name(r->status));
        json_u64(&j, "frames", r->frames);
        json_u64(&j, "frames_in", r->frames_in);
        json_u64(&j, "frames_out", r->frames_out);
        json_u64(&j, "passes", r->passes);
        json_u64(&j, "ticks", r->ticks);
        json_u64(&j, "calls", r->calls);
        json_str(&j, "host", r->host);
        json_str(&j, "recorded_by", r->tool_version);
        json_str(&j, "cmdline", r->cmdline);
        json_bool(&j, "cut_short", r->status == TB_REPLAY_CUT_SHORT);
        if (r->status == TB_REPLAY_DIVERGED) {
            json_obj_open(&j, "divergence");
            json_str(&j, "what", d->what);
            json_u64(&j, "frame", d->frame_no);
            json_u64(&j, "outbound_frame", d->outbound_no);
            json_u64(&j, "tshark_frame", d->shown_no);
            json_u64(&j, "pass", d->pass_no);
            json_i64(&j, "time_ns", d->now);
            json_u64(&j, "offset", d->offset);
            json_str(&j, "field", d->field);
            json_str(&j, "recorded", d->recorded);
            json_str(&j, "replayed", d->replayed);
            json_str(&j, "message", d->message);
            json_obj_close(&j);
        } else {
            json_nil(&j, "divergence");
        }
        if (r->status != TB_REPLAY_IDENTICAL && r->status != TB_REPLAY_DIVERGED) json_str(&j, "error", r->error);
        json_end(&j);
    } else {
        switch (r->status) {
        case TB_REPLAY_IDENTICAL:
            printf("identical\n");
            print_counts(stdout, r);
            printf(": host %s, recorded by tcpbed %s (%s)\n", r->host, r->tool_version, r->cmdline);
            break;
        case TB_REPLAY_DIVERGED:
            printf("divergence: %s\n", d->message);
            printf("replayed as recorded before it: ");
            print_counts(stdout, r);
            printf(" (host %s, recorded by tcpbed %s: %s)\n", r->host, r->tool_version, r->cmdline);
            break;
        default:
            fprintf(stderr, "tcpbed replay: %s: %s\n", file, r->error);
            if (r->passes > 0 || r->frames > 0) {
                fprintf(stderr, "replayed as recorded up to there: ");
                print_counts(stderr, r);
                fprintf(stderr, "\n");
            }
            break;
        }
    }
    if (pcap != NULL && !json) printf("pcap: %s\n", pcap);
    if (pcap_dir != NULL && !json) printf("run files: %s/A.pcap, cc.csv (tcpbed plot %s)\n", pcap_dir, pcap_dir);
    enum tb_replay_status st = r->status;
    free(r);
    if (!outputs_ok) return 2;
    return st == TB_REPLAY_IDENTICAL ? 0 : st == TB_REPLAY_DIVERGED ? 1 : 2;

out_fail:
    fprintf(stderr, "tcpbed replay: %s\n", err);
    close_outputs(&outs);
    return 2;
}
