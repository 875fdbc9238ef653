/* tcpbed wire --a IFACE --b IFACE [fault and link flags as in sim] [--seed S]
 *   [--pcap-dir DIR] [--fault-log FILE] [--record-faults FILE] [--duration T] [--json]
 *
 * A real-time link between two interfaces with the simulator's faults
 * (harness/wire). The link and fault flags are the simulator's
 * (simflags.c); those that need a simulated host are refused by name. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "harness/cli/simflags.h"
#include "harness/wire/wire.h"
#include "sim/faults.h"

#define CMD "tcpbed wire"

/* Simulator flags with no meaning on a wire, and why. */
static const struct {
    const char *name, *why;
} refused[] = {
    {"pcap", "the wire has no host A to capture at: --pcap-dir DIR writes DIR/A.pcap and DIR/B.pcap"},
    {"trace-cc", "the wire runs no TCP of its own, so it has no congestion-control trace"},
    {"expect", "the wire runs no TCP of its own; check the peers' results instead"},
};

static int usage_error(const char *msg) {
    fprintf(stderr, CMD ": %s\nTry '" CMD " --help'.\n", msg);
    return 2;
}

static int refuse_sim_only(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) continue;
        const char *name = argv[i] + 2;
        size_t n = strcspn(name, "=");
        for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
            if (strlen(refused[k].name) == n && strncmp(refused[k].name, name, n) == 0) {
                char msg[320];
                snprintf(msg, sizeof(msg), "--%s is not a wire flag: %s", refused[k].name, refused[k].why);
                return usage_error(msg);
            }
    }
    return 0;
}

static void print_dir(const char *name, const struct wire_result *r, int d) {
    const struct wire_dir_stats *s = &r->dir[d];
    const struct sim_link_stats *l = &r->link[d];
    printf("%s: %llu frames in (%llu bytes), %llu out (%llu bytes)\n", name, (unsigned long long)s->frames_in,
           (unsigned long long)s->bytes_in, (unsigned long long)s->frames_out, (unsigned long long)s->bytes_out);
    printf("  faults: loss %llu, drop %llu, blackout %llu, corrupt %llu, reorder %llu, duplicate %llu, delay %llu\n",
           (unsigned long long)l->loss_drops, (unsigned long long)l->fault_drops, (unsigned long long)l->blackout_drops,
           (unsigned long long)l->corrupted, (unsigned long long)l->reordered, (unsigned long long)l->duplicated,
           (unsigned long long)l->delayed);
    printf("  drops: queue %llu, red %llu, mtu %llu, hold full %llu; ce-marked %llu\n",
           (unsigned long long)l->queue_drops, (unsigned long long)l->red_drops, (unsigned long long)l->mtu_drops,
           (unsigned long long)s->overflow_drops, (unsigned long long)l->ecn_marked);
}

static void print_end(const char *label, const char *iface, const struct wire_result *r, int e) {
    const struct wire_end_stats *s = &r->end[e];
    printf("end %s %s (%s): read %llu frames (%llu bytes), wrote %llu (%llu bytes), refused %llu, over 1514 bytes %llu, "
           "truncated %llu\n",
           label, iface, r->kind[e], (unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes,
           (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes, (unsigned long long)s->tx_drops,
           (unsigned long long)s->big_frames, (unsigned long long)s->truncated);
}

static void json_dir(struct json *j, const char *key, const struct wire_result *r, int d) {
    const struct wire_dir_stats *s = &r->dir[d];
    const struct sim_link_stats *l = &r->link[d];
    json_obj_open(j, key);
    json_u64(j, "frames_in", s->frames_in);
    json_u64(j, "bytes_in", s->bytes_in);
    json_u64(j, "frames_out", s->frames_out);
    json_u64(j, "bytes_out", s->bytes_out);
    json_u64(j, "loss_drops", l->loss_drops);
    json_u64(j, "fault_drops", l->fault_drops);
    json_u64(j, "blackout_drops", l->blackout_drops);
    json_u64(j, "corrupted", l->corrupted);
    json_u64(j, "reordered", l->reordered);
    json_u64(j, "duplicated", l->duplicated);
    json_u64(j, "delayed", l->delayed);
    json_u64(j, "queue_drops", l->queue_drops);
    json_u64(j, "red_drops", l->red_drops);
    json_u64(j, "mtu_drops", l->mtu_drops);
    json_u64(j, "ecn_marked", l->ecn_marked);
    json_u64(j, "hold_full_drops", s->overflow_drops);
    json_obj_close(j);
}

static void json_end_stats(struct json *j, const char *key, const char *iface, const struct wire_result *r, int e) {
    const struct wire_end_stats *s = &r->end[e];
    json_obj_open(j, key);
    json_str(j, "iface", iface);
    json_str(j, "kind", r->kind[e]);
    json_u64(j, "rx_frames", s->rx_frames);
    json_u64(j, "rx_bytes", s->rx_bytes);
    json_u64(j, "tx_frames", s->tx_frames);
    json_u64(j, "tx_bytes", s->tx_bytes);
    json_u64(j, "tx_refused", s->tx_drops);
    json_u64(j, "big_frames", s->big_frames);
    json_u64(j, "truncated", s->truncated);
    json_obj_close(j);
}

static FILE *open_or_fail(const char *path, const char *what) {
    FILE *f = fopen(path, "w");
    if (f == NULL) fprintf(stderr, CMD ": cannot write %s '%s'\n", what, path);
    return f;
}

int cmd_wire(int argc, char **argv) {
    if (refuse_sim_only(argc, argv) != 0) return 2;
    struct sim_flags f;
    memset(&f, 0, sizeof(f));
    const char *a = NULL, *b = NULL;
    uint64_t seed = 1;
    tb_time_ns duration = 0;
    enum { OWN_OPTS = 4 };
    struct opt all[SIM_FLAG_OPTS];
    sim_flags_opts(&f, all);
    struct opt opts[OWN_OPTS + SIM_FLAG_OPTS] = {
        {"a", OPT_STRING, &a, "IFACE", "end A: a TAP device, or any interface (AF_PACKET)", 0, 0},
        {"b", OPT_STRING, &b, "IFACE", "end B (frames from A go to B, from B to A)", 0, 0},
        {"seed", OPT_U64, &seed, "S", "run seed: the fault streams of the simulator's link A-B (default 1)", 0, TB_SEED_MAX},
        {"duration", OPT_DURATION, &duration, "TIME", "stop after this long (default: at SIGINT or SIGTERM)", 1, 0},
    };
    int nopts = OWN_OPTS;
    for (int i = 0; i < SIM_FLAG_OPTS; i++) {
        bool skip = false;
        for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) skip |= strcmp(all[i].name, refused[k].name) == 0;
        if (skip) continue;
        struct opt o = all[i];
        if (strcmp(o.name, "pcap-dir") == 0)
            o.help = "write A.pcap and B.pcap (each end's frames, both ways) and faults.csv into DIR (for plot)";
        else if (strcmp(o.name, "queue") == 0) o.help = "queue per direction with --rate (default: BDP + 64K)";
        else if (strcmp(o.name, "mtu") == 0) o.help = "drop frames over this IP MTU (default: pass every size)";
        else if (strcmp(o.name, "fault-log") == 0)
            o.help = "CSV of every fault (time and the spec that reproduces it) and queue drop";
        opts[nopts++] = o;
    }
    int rc = opts_parse(CMD,
                        "A real-time link between two interfaces with the simulator's faults: frames read\n"
                        "from A (a TAP or, through AF_PACKET, any interface) are written to B after the\n"
                        "same random and targeted faults, delay, rate and queue as `tcpbed sim` applies\n"
                        "(the same seeded streams; the ends are named A and B in --fault specs), and back.\n"
                        "Runs until SIGINT or SIGTERM (or --duration), then prints a summary.\n"
                        "usage: tcpbed wire --a IFACE --b IFACE [options]",
                        opts, nopts, argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if (a == NULL || b == NULL) return usage_error("expected both ends: --a IFACE --b IFACE");
    if (f.rate_bps == 0 && (f.queue_bytes != 0 || f.qdisc != NULL || f.red != NULL || f.ecn_mark_bytes != 0))
        return usage_error("--queue, --qdisc, --red and --ecn-mark act on the queue that --rate makes: give --rate");
    if (f.red != NULL && (f.qdisc == NULL || strcmp(f.qdisc, "red") != 0))
        return usage_error("--red needs --qdisc red");
    if (f.jitter_keep_order && f.jitter_ns == 0) return usage_error("--jitter-keep-order needs --jitter");
    if (f.reorder_delay_ns != 0 && f.reorder == NULL) return usage_error("--reorder-delay needs --reorder");

    struct wire_opts o;
    memset(&o, 0, sizeof(o));
    o.iface[0] = a;
    o.iface[1] = b;
    o.duration_ns = duration;
    o.log = stderr;
    o.pcap_dir = f.pcap_dir;
    o.core.seed = seed;
    char err[512];
    if (!sim_flags_apply(&f, &o.core.link[0], &o.core.link[1], err, sizeof(err))) return usage_error(err);
    for (int d = 0; d < 2; d++) {
        struct sim_link_params *p = &o.core.link[d];
        if (f.mtu == 0) p->mtu = UINT16_MAX;   /* a wire passes what the interfaces pass */
        if (p->rate_bps > 0 && p->queue_bytes == 0) {
            /* In 128-bit arithmetic: 100 Gbit/s times a long delay overflows 64 bits. */
            unsigned __int128 bdp128 = (unsigned __int128)(p->rate_bps / 8) * (uint64_t)(2 * p->delay_ns) / TB_NS_PER_S;
            uint64_t bdp = bdp128 > (1u << 30) ? (1u << 30) : (uint64_t)bdp128;
            p->queue_bytes = (uint32_t)(bdp + 64 * 1024 < (1u << 30) ? bdp + 64 * 1024 : 1u << 30);
        }
    }
    struct fault_spec *specs = calloc(f.faults.n + 1, sizeof(*specs));
    struct fault_spec *spec_ptrs[OPT_LIST_MAX];
    if (specs == NULL) return 1;
    for (size_t i = 0; i < f.faults.n; i++) {
        if (!fault_parse(f.faults.items[i], &specs[i], err, sizeof(err))) {
            free(specs);
            return usage_error(err);
        }
        spec_ptrs[i] = &specs[i];
    }
    o.core.specs = spec_ptrs;
    o.core.nspecs = f.faults.n;

    FILE *files[3] = {NULL, NULL, NULL};
    rc = 1;
    if (f.pcap_dir != NULL) {
        char why[320], path[1100];
        if (cli_mkdir_p(f.pcap_dir, why, sizeof(why)) != 0) {
            fprintf(stderr, CMD ": --pcap-dir '%s': %s\n", f.pcap_dir, why);
            goto out;
        }
        snprintf(path, sizeof(path), "%s/faults.csv", f.pcap_dir);
        if ((files[0] = open_or_fail(path, "--pcap-dir's faults.csv")) == NULL) goto out;
    }
    if (f.fault_log != NULL && (files[1] = open_or_fail(f.fault_log, "--fault-log")) == NULL) goto out;
    if (f.record_faults != NULL && (files[2] = open_or_fail(f.record_faults, "--record-faults")) == NULL) goto out;
    o.core.fault_csv[0] = files[0];
    o.core.fault_csv[1] = files[1];
    o.core.record_faults = files[2];
    /* Each fault line reaches the file as it fires: a run stopped hard keeps them. */
    for (int i = 0; i < 3; i++)
        if (files[i] != NULL) setvbuf(files[i], NULL, _IOLBF, 0);

    struct wire_result r;
    rc = wire_run(&o, &r);
    if (rc == 2) {
        usage_error(r.error);
        goto out;
    }
    if (rc != 0 && r.elapsed_ns == 0) {
        fprintf(stderr, CMD ": %s\n", r.error);
        goto out;
    }
    if (rc != 0) fprintf(stderr, CMD ": stopped: %s\n", r.error);
    const char *why = r.stop_signal == SIGINT ? "SIGINT" : r.stop_signal == SIGTERM ? "SIGTERM" : rc != 0 ? "error" : "duration";
    if (f.json) {
        struct json j;
        json_begin(&j, stdout);
        json_str(&j, "command", "wire");
        json_u64(&j, "seed", seed);
        json_str(&j, "stopped_by", why);
        json_f64(&j, "seconds", (double)r.elapsed_ns / 1e9);
        json_u64(&j, "faults_fired", r.faults_fired);
        json_u64(&j, "held_at_stop", r.held_at_stop);
        json_obj_open(&j, "ends");
        json_end_stats(&j, "A", a, &r, 0);
        json_end_stats(&j, "B", b, &r, 1);
        json_obj_close(&j);
        json_obj_open(&j, "link");
        json_dir(&j, "A>B", &r, 0);
        json_dir(&j, "B>A", &r, 1);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("wire: A=%s (%s) B=%s (%s), seed %llu, %.3f s, stopped by %s\n", a, r.kind[0], b, r.kind[1],
               (unsigned long long)seed, (double)r.elapsed_ns / 1e9, why);
        print_dir("A>B", &r, 0);
        print_dir("B>A", &r, 1);
        print_end("A", a, &r, 0);
        print_end("B", b, &r, 1);
        printf("faults fired: %llu; frames on the wire at the stop (not delivered): %llu\n",
               (unsigned long long)r.faults_fired, (unsigned long long)r.held_at_stop);
    }
    fflush(stdout);
out:
    for (int i = 0; i < 3; i++)
        if (files[i] != NULL && fclose(files[i]) != 0 && rc == 0) {
            fprintf(stderr, CMD ": writing a fault log failed\n");
            rc = 1;
        }
    free(specs);
    return rc;
}
