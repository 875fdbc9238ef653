/* tcpbed sim dumbbell / tcpbed sim run FILE: topologies with routers and
 * mixed workloads. Output, --expect and failure handling as sim bulk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/cli/simflags.h"
#include "sim/scenario.h"
#include "sim/topology.h"
#include "sim/units.h"

static double flow_goodput(const struct wl_flow *f) {
    return f->end_ns > f->start_ns ? (double)f->delivered * 8 / ((double)(f->end_ns - f->start_ns) / 1e9) : 0;
}

/* Metrics in pages of METRICS_MAX, so a topology of any size keeps every
 * name (one page held 1024: 8 dumbbell pairs' host counters filled it and
 * pushed out "retransmits"). An --expect is evaluated on the page holding
 * its name. */
struct mpages {
    struct metrics **p;
    size_t n, cap;
    bool oom;
};

static void mp_add(struct mpages *mp, const char *name, double value) {
    if (mp->oom) return;
    if (mp->n == 0 || mp->p[mp->n - 1]->n == METRICS_MAX) {
        if (mp->n == mp->cap) {
            size_t cap = mp->cap ? 2 * mp->cap : 8;
            struct metrics **p = realloc(mp->p, cap * sizeof(*p));
            if (p == NULL) {
                mp->oom = true;
                return;
            }
            mp->p = p;
            mp->cap = cap;
        }
        if ((mp->p[mp->n] = calloc(1, sizeof(struct metrics))) == NULL) {
            mp->oom = true;
            return;
        }
        mp->n++;
    }
    metrics_add(mp->p[mp->n - 1], name, value);
}

/* The helpers of cli.h fill one struct metrics: run them on a scratch page
 * and copy what they added. */
static void mp_take(struct mpages *mp, struct metrics *scratch) {
    for (size_t i = 0; i < scratch->n; i++) mp_add(mp, scratch->m[i].name, scratch->m[i].value);
    scratch->n = 0;
}

static bool mp_expect(const struct mpages *mp, const char *expr, bool *holds, char *msg, size_t len) {
    bool ok = false;
    for (size_t i = 0; i < mp->n && !ok; i++) ok = expect_eval(expr, mp->p[i], holds, msg, len);
    if (mp->n == 0) {
        struct metrics empty = {.n = 0};
        ok = expect_eval(expr, &empty, holds, msg, len);
    } else if (!ok) {
        expect_eval(expr, mp->p[0], holds, msg, len);   /* the message: syntax error or unknown name */
    }
    return ok;
}

static void mp_free(struct mpages *mp) {
    for (size_t i = 0; i < mp->n; i++) free(mp->p[i]);
    free(mp->p);
}

static void topo_totals(const struct topo *t, const struct topo_result *r, uint64_t *retx, uint64_t *rto) {
    *retx = *rto = 0;
    for (int i = 0; i < t->nhosts; i++) {
        *retx += r->host_stats[i].tcp_retransmits;
        *rto += r->host_stats[i].tcp_rto_timeouts;
    }
}

static void topo_metrics(struct mpages *mp, struct metrics *scratch, const struct topo *t, const struct topo_result *r,
                         double wall) {
    char name[96];
    uint64_t retx, rto;
    topo_totals(t, r, &retx, &rto);
    mp_add(mp, "seed", (double)t->seed);
    mp_add(mp, "sim_time_ns", (double)r->sim_time_ns);
    mp_add(mp, "wall_time_s", wall);
    mp_add(mp, "events", (double)r->events);
    mp_add(mp, "packets", (double)r->packets);
    mp_add(mp, "faults_fired", (double)r->faults_fired);
    mp_add(mp, "fairness", r->fairness);
    mp_add(mp, "retransmits", (double)retx);
    mp_add(mp, "rto_timeouts", (double)rto);
    for (int i = 0; i < t->nflows; i++) {
        const struct wl_flow *f = &t->flows[i].f;
#define FM(key, v)                                                   \
    snprintf(name, sizeof(name), "flows.%s.%s", f->name, key);        \
    mp_add(mp, name, (double)(v));
        FM("sent_bytes", f->sent)
        FM("delivered_bytes", f->delivered)
        FM("goodput_bps", flow_goodput(f))
        FM("conns_done", f->conns_done)
        FM("requests_done", f->requests_done)
        FM("latency_min_ns", f->lat_min_ns)
        FM("latency_max_ns", f->lat_max_ns)
        FM("latency_avg_ns", f->requests_done ? f->lat_sum_ns / f->requests_done : 0)
        FM("keepalive_probes", f->keepalive_probes)
#undef FM
    }
    for (int i = 0; i < r->nlinks; i++) {
        snprintf(name, sizeof(name), "link.%s", r->links[i].name);
        metrics_link(scratch, name, &r->links[i].stats);
        mp_take(mp, scratch);
    }
    for (int i = 0; i < t->nrouters; i++) {
        snprintf(name, sizeof(name), "routers.%s.forwarded", t->routers[i].name);
        mp_add(mp, name, (double)r->router_stats[i].forwarded);
        snprintf(name, sizeof(name), "routers.%s.dropped_no_route", t->routers[i].name);
        mp_add(mp, name, (double)r->router_stats[i].dropped_no_route);
    }
    for (int i = 0; i < t->nhosts; i++) {
        snprintf(name, sizeof(name), "hosts.%s", t->hosts[i].name);
        metrics_stats(scratch, name, &r->host_stats[i]);
        mp_take(mp, scratch);
    }
}

static void record_fault(void *ctx, tb_time_ns now, const char *spec) {
    (void)now;
    fprintf((FILE *)ctx, "%s\n", spec);
}

/* Runs t with the output flags in f; prints; returns the exit status.
 * pcap_host: the host --pcap captures on (NULL: the first). */
static int run_topo(const char *command, struct topo *t, const struct sim_flags *f, const char *pcap_host, int argc,
                    char **argv) {
    char err[320];
    for (size_t i = 0; i < f->faults.n; i++)
        if (!topo_add_fault(t, f->faults.items[i])) {
            fprintf(stderr, "tcpbed %s: --fault: more than %d faults\n", command, TOPO_MAX_FAULTS);
            return 2;
        }
    /* --pcap-dir DIR is created like mkdir -p. */
    if (f->pcap_dir != NULL && cli_mkdir_p(f->pcap_dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "tcpbed %s: --pcap-dir: %s\n", command, err);
        return 1;
    }
    struct sim_outputs outs;
    if (!sim_outputs_open(f, &outs, err, sizeof(err))) {
        fprintf(stderr, "tcpbed %s: %s\n", command, err);
        return 1;
    }
    struct topo_outputs o = {.pcap_dir = f->pcap_dir, .pcap_path = f->pcap, .pcap_host = pcap_host,
                             .fault_log = outs.fault_log, .trace_cc = outs.trace_cc};
    FILE *record = NULL;
    if (f->record_faults != NULL) {
        record = fopen(f->record_faults, "w");
        if (record == NULL) {
            fprintf(stderr, "tcpbed %s: cannot write --record-faults '%s'\n", command, f->record_faults);
            sim_outputs_close(&outs);
            return 1;
        }
        o.on_fault = record_fault;
        o.on_fault_ctx = record;
    }
    struct topo_result *r = calloc(1, sizeof(*r));
    struct metrics *scratch = calloc(1, sizeof(*scratch));
    struct mpages ms = {0};
    if (r == NULL || scratch == NULL) {
        free(r);
        free(scratch);
        sim_outputs_close(&outs);
        if (record != NULL) fclose(record);
        return 1;
    }
    double t0 = wall_seconds();
    int rc = topo_run(t, &o, r);
    double wall = wall_seconds() - t0;
    sim_outputs_close(&outs);
    if (record != NULL) fclose(record);
    if (rc != 0) {
        fprintf(stderr, "tcpbed %s: %s\n", command, r->error);
        /* A file that could not be written is a run failure, not a usage error. */
        rc = r->io_error ? 1 : 2;
        topo_result_free(r);
        free(r);
        free(scratch);
        return rc;
    }
    if (f->expects.n > 0) topo_metrics(&ms, scratch, t, r, wall);
    bool pass = r->pass;
    char failure[320] = "";
    if (!pass) snprintf(failure, sizeof(failure), "%s", r->failure);
    bool holds[OPT_LIST_MAX];
    char explain[OPT_LIST_MAX][160];
    for (size_t i = 0; i < f->expects.n; i++) {
        if (ms.oom || !mp_expect(&ms, f->expects.items[i], &holds[i], explain[i], sizeof(explain[i]))) {
            fprintf(stderr, "tcpbed %s: --%s\n", command, ms.oom ? "expect: out of memory" : explain[i]);
            topo_result_free(r);
            free(r);
            free(scratch);
            mp_free(&ms);
            return 2;
        }
        if (!holds[i] && pass) {
            pass = false;
            snprintf(failure, sizeof(failure), "expect %s", f->expects.items[i]);
        }
    }
    uint64_t retx, rto;
    topo_totals(t, r, &retx, &rto);
    const char *cap_host = pcap_host != NULL ? pcap_host : t->nhosts > 0 ? t->hosts[0].name : "";
    char sig[320];
    failure_signature(failure, sig, sizeof(sig));
    if (f->json) {
        struct json j;
        json_begin(&j, stdout);
        json_str(&j, "command", command);
        json_u64(&j, "seed", t->seed);
        json_bool(&j, "pass", pass);
        json_str(&j, "failure", failure);
        json_str(&j, "signature", sig);
        json_i64(&j, "sim_time_ns", r->sim_time_ns);
        json_f64(&j, "wall_time_s", wall);
        json_u64(&j, "events", r->events);
        json_u64(&j, "packets", r->packets);
        json_u64(&j, "faults_fired", r->faults_fired);
        json_f64(&j, "fairness", r->fairness);
        json_u64(&j, "retransmits", retx);
        json_u64(&j, "rto_timeouts", rto);
        if (f->pcap) {
            json_str(&j, "pcap", f->pcap);
            json_str(&j, "pcap_host", cap_host);
            json_u64(&j, "pcap_frames", r->pcap_frames);
        }
        if (f->pcap_dir) json_str(&j, "pcap_dir", f->pcap_dir);
        json_arr_open(&j, "flows");
        for (int i = 0; i < t->nflows; i++) {
            const struct topo_flow *tf = &t->flows[i];
            const struct wl_flow *fl = &tf->f;
            json_obj_open(&j, NULL);
            json_str(&j, "name", fl->name);
            json_str(&j, "type", wl_kind_name(fl->kind));
            json_str(&j, "from", tf->client);
            json_str(&j, "to", tf->server);
            json_u64(&j, "sent_bytes", fl->sent);
            json_u64(&j, "delivered_bytes", fl->delivered);
            json_f64(&j, "goodput_bps", flow_goodput(fl));
            json_u64(&j, "conns_done", fl->conns_done);
            json_u64(&j, "requests_done", fl->requests_done);
            json_i64(&j, "latency_avg_ns", fl->requests_done ? fl->lat_sum_ns / fl->requests_done : 0);
            json_i64(&j, "latency_max_ns", fl->lat_max_ns);
            json_u64(&j, "keepalive_probes", fl->keepalive_probes);
            json_str(&j, "integrity", fl->failure[0] ? fl->failure : "ok");
            json_obj_close(&j);
        }
        json_arr_close(&j);
        json_obj_open(&j, "link");
        for (int i = 0; i < r->nlinks; i++) json_link(&j, r->links[i].name, &r->links[i].stats);
        json_obj_close(&j);
        json_obj_open(&j, "routers");
        for (int i = 0; i < t->nrouters; i++) {
            json_obj_open(&j, t->routers[i].name);
            json_u64(&j, "forwarded", r->router_stats[i].forwarded);
            json_u64(&j, "arp_replies", r->router_stats[i].arp_replies);
            json_u64(&j, "dropped_no_route", r->router_stats[i].dropped_no_route);
            json_u64(&j, "dropped_ttl", r->router_stats[i].dropped_ttl);
            json_u64(&j, "dropped_bad", r->router_stats[i].dropped_bad);
            json_obj_close(&j);
        }
        json_obj_close(&j);
        json_obj_open(&j, "hosts");
        for (int i = 0; i < t->nhosts; i++) json_stats(&j, t->hosts[i].name, &r->host_stats[i]);
        json_obj_close(&j);
        json_end(&j);
    } else {
        char d1[32], rt[32];
        printf("tcpbed %s: %d hosts, %d routers, %d links, %d flows, seed %llu\n", command, t->nhosts, t->nrouters,
               t->nlinks, t->nflows, (unsigned long long)t->seed);
        printf("%-10s %-5s %-5s %-5s %12s %14s %10s %s\n", "flow", "type", "from", "to", "delivered", "goodput", "requests",
               "integrity");
        for (int i = 0; i < t->nflows; i++) {
            const struct topo_flow *tf = &t->flows[i];
            printf("%-10s %-5s %-5s %-5s %12llu %14s %10u %s\n", tf->f.name, wl_kind_name(tf->f.kind), tf->client,
                   tf->server, (unsigned long long)tf->f.delivered, tb_format_rate(flow_goodput(&tf->f), rt, sizeof(rt)),
                   tf->f.requests_done, tf->f.failure[0] ? tf->f.failure : "ok");
        }
        if (r->fairness > 0) printf("fairness (Jain's index over bulk flows): %.3f\n", r->fairness);
        for (int i = 0; i < r->nlinks; i++) {
            const struct sim_link_stats *l = &r->links[i].stats;
            uint64_t drops = l->queue_drops + l->loss_drops + l->fault_drops + l->red_drops + l->blackout_drops;
            if (drops + l->corrupted + l->reordered + l->duplicated + l->ecn_marked > 0)
                printf("link %s: %llu frames, %llu dropped (queue %llu, loss %llu, RED %llu), %llu corrupted, %llu "
                       "reordered, %llu CE-marked\n",
                       r->links[i].name, (unsigned long long)l->offered, (unsigned long long)drops,
                       (unsigned long long)l->queue_drops, (unsigned long long)l->loss_drops,
                       (unsigned long long)l->red_drops, (unsigned long long)l->corrupted,
                       (unsigned long long)l->reordered, (unsigned long long)l->ecn_marked);
        }
        for (size_t i = 0; i < f->expects.n; i++)
            printf("expect %s: %s (%s)\n", f->expects.items[i], holds[i] ? "holds" : "FAILS", explain[i]);
        if (f->pcap)
            printf("pcap: %s (%llu frames, as seen on host %s)\n", f->pcap, (unsigned long long)r->pcap_frames, cap_host);
        if (f->pcap_dir) printf("run files: %s/<host>.pcap, faults.csv, cc.csv\n", f->pcap_dir);
        printf("%s: %s of virtual time, %llu events, %llu packets in %.3f s of wall time\n", pass ? "ok" : "FAILED",
               tb_format_duration(r->sim_time_ns, d1, sizeof(d1)), (unsigned long long)r->events,
               (unsigned long long)r->packets, wall);
    }
    if (!pass) {
        fprintf(stderr, "tcpbed %s: FAILED: %s\n", command, failure);
        print_repro(stderr, command, argc, argv);
    }
    topo_result_free(r);
    free(r);
    free(scratch);
    mp_free(&ms);
    return pass ? 0 : 1;
}

static bool parse_kinds(const char *s, struct dumbbell_opts *d) {
    if (strcmp(s, "mixed") == 0) {
        d->kinds[0] = WL_BULK;
        d->kinds[1] = WL_RR;
        d->kinds[2] = WL_CRR;
        d->kinds[3] = WL_IDLE;
        d->nkinds = 4;
        return true;
    }
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", s);
    d->nkinds = 0;
    for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        if (d->nkinds == 4 || !wl_kind_parse(tok, &d->kinds[d->nkinds])) return false;
        d->nkinds++;
    }
    return d->nkinds > 0;
}

/* Was --NAME given? Walks argv as opts_parse does (values skipped). */
static bool given(const struct opt *opts, int n, int argc, char **argv, const char *name) {
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) continue;
        const char *arg = argv[i] + 2, *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct opt *o = NULL;
        for (int k = 0; k < n; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, arg, len) == 0) o = &opts[k];
        if (o == NULL) continue;
        if (strcmp(o->name, name) == 0) return true;
        if (o->kind != OPT_FLAG && eq == NULL) i++;
    }
    return false;
}

/* A flag that cannot act on this run is refused, naming what it needs. */
static int refuse(const char *command, const char *flag, const char *why) {
    fprintf(stderr, "tcpbed %s: --%s %s\nTry 'tcpbed %s --help'.\n", command, flag, why, command);
    return 2;
}

/* The shared link flags that only act together with another one. */
static int check_link_flags(const char *command, const struct sim_flags *f, const struct opt *opts, int n, int argc,
                            char **argv) {
    if (given(opts, n, argc, argv, "red") && (f->qdisc == NULL || strcmp(f->qdisc, "red") != 0))
        return refuse(command, "red", "sets RED's thresholds: it needs --qdisc red");
    if (f->reorder_delay_ns > 0 && f->reorder == NULL)
        return refuse(command, "reorder-delay", "says how long --reorder holds frames back: it needs --reorder");
    if (f->jitter_keep_order && f->jitter_ns == 0)
        return refuse(command, "jitter-keep-order", "orders --jitter's delays: it needs --jitter");
    return 0;
}

int cmd_sim_dumbbell(int argc, char **argv) {
    struct sim_flags f;
    memset(&f, 0, sizeof(f));
    f.delay_ns = 10 * TB_NS_PER_MS;
    f.rate_bps = 100000000;
    uint64_t pairs = 4, seed = 1, bytes = 5u << 20, resp = 1000, count = 20, parallel = 1, access_rate = 1000000000;
    tb_time_ns access_delay = TB_NS_PER_MS, duration = 0, think = 10 * TB_NS_PER_MS, stagger = 0,
               limit = 3600 * TB_NS_PER_S;
    const char *workload = "bulk", *pcap_host = NULL;
    bool ecn = false;
    char pairs_help[64];
    snprintf(pairs_help, sizeof(pairs_help), "sender/receiver pairs, 1..%d (default 4)", TOPO_DUMBBELL_MAX_PAIRS);
    enum { OWN_OPTS = 15 };
    struct opt opts[OWN_OPTS + SIM_FLAG_OPTS] = {
        {"pairs", OPT_U64, &pairs, "N", pairs_help, 1, TOPO_DUMBBELL_MAX_PAIRS},
        {"workload", OPT_STRING, &workload, "KINDS", "bulk, rr, crr, idle, a comma list cycled over pairs, or mixed", 0, 0},
        {"bytes", OPT_SIZE, &bytes, "BYTES", "bulk bytes / request size (default 5M)", 1, UINT64_C(1) << 40},
        {"response", OPT_SIZE, &resp, "BYTES", "rr/crr response size (default 1000)", 0, 1u << 30},
        {"count", OPT_U64, &count, "N", "rr requests / crr connections / idle messages (default 20)", 1, 1000000},
        {"parallel", OPT_U64, &parallel, "N", "crr connections at once (default 1)", 1, 1000},
        {"think", OPT_DURATION, &think, "TIME", "pause between requests / idle period (default 10ms)", 0, 0},
        {"duration", OPT_DURATION, &duration, "TIME", "bulk flows send for this long instead of --bytes", 1, 0},
        {"stagger", OPT_DURATION, &stagger, "TIME", "start pair i at i x TIME (default 0)", 0, 0},
        {"access-rate", OPT_RATE, &access_rate, "RATE", "host access links (default 1Gbps)", 1, 0},
        {"access-delay", OPT_DURATION, &access_delay, "TIME", "host access links' delay (default 1ms)", 0, 0},
        {"ecn", OPT_FLAG, &ecn, NULL, "hosts negotiate ECN (RFC 3168); the bottleneck marks with --ecn-mark or --qdisc red", 0, 0},
        {"pcap-host", OPT_STRING, &pcap_host, "HOST", "the host --pcap captures on (default S1)", 0, 0},
        {"seed", OPT_U64, &seed, "S", "run seed (default 1)", 0, TB_SEED_MAX},
        {"time-limit", OPT_DURATION, &limit, "TIME", "virtual time after which the run fails (default 1h)", 1, 0},
    };
    int n = OWN_OPTS;
    sim_flags_opts(&f, opts + n);
    for (int i = n; i < n + SIM_FLAG_OPTS; i++) {
        if (strcmp(opts[i].name, "pcap") == 0) opts[i].help = "write what S1 (or --pcap-host) sends and receives to a pcap";
        if (strcmp(opts[i].name, "pcap-dir") == 0)
            opts[i].help = "write <host>.pcap for every host, faults.csv, cc.csv into DIR (created)";
    }
    n += SIM_FLAG_OPTS;
    const char *cmd = "sim dumbbell";
    int rc = opts_parse("tcpbed sim dumbbell",
                        "Senders S1..SN (10.1.i.1) -- router R1 == bottleneck == router R2 -- receivers D1..DN\n"
                        "(10.2.i.1; past 255 pairs, pair 256b+c is 10.(1+2b).c.1 and 10.(2+2b).c.1); pair i runs\n"
                        "a flow Si -> Di. --delay, --rate, --queue, --qdisc and the random fault flags set the\n"
                        "bottleneck (A>B means R1>R2); --fault names any link, e.g. 'drop R1>R2 tcp data #5'.\n"
                        "Exits 0 when every flow delivered every byte intact and every connection finished.\n"
                        "Defaults: 4 pairs, 100Mbps, 10ms, queue = BDP.",
                        opts, n, argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    struct dumbbell_opts d;
    memset(&d, 0, sizeof(d));
    char err[320];
    if (!parse_kinds(workload, &d)) {
        fprintf(stderr, "tcpbed sim dumbbell: --workload: expected bulk, rr, crr, idle, a comma list or mixed, got '%s'\n",
                workload);
        return 2;
    }
    /* Flags that no flow of this workload reads are refused, not ignored. */
    bool kind[4] = {false, false, false, false};
    for (int i = 0; i < d.nkinds && i < (int)pairs; i++) kind[d.kinds[i]] = true;
    char why[160];
    snprintf(why, sizeof(why), "does not apply to --workload %s", workload);
    static const struct {
        const char *flag;
        bool bulk, rr, crr, idle;
        const char *applies;
    } per_kind[] = {
        {"response", false, true, true, false, "rr and crr"},
        {"count", false, true, true, true, "rr, crr and idle"},
        {"parallel", false, false, true, false, "crr"},
        {"think", false, true, true, true, "rr, crr and idle"},
        {"duration", true, false, false, false, "bulk"},
    };
    for (size_t i = 0; i < sizeof(per_kind) / sizeof(per_kind[0]); i++) {
        if (!given(opts, n, argc, argv, per_kind[i].flag)) continue;
        if ((per_kind[i].bulk && kind[WL_BULK]) || (per_kind[i].rr && kind[WL_RR]) ||
            (per_kind[i].crr && kind[WL_CRR]) || (per_kind[i].idle && kind[WL_IDLE]))
            continue;
        snprintf(why, sizeof(why), "applies to %s flows; --workload %s over %llu pair(s) has none", per_kind[i].applies,
                 workload, (unsigned long long)pairs);
        return refuse(cmd, per_kind[i].flag, why);
    }
    if (given(opts, n, argc, argv, "bytes") && duration > 0 && !kind[WL_RR] && !kind[WL_CRR] && !kind[WL_IDLE])
        return refuse(cmd, "bytes", "sizes bulk flows and requests, but with --duration the bulk flows send for that long");
    if ((rc = check_link_flags(cmd, &f, opts, n, argc, argv)) != 0) return rc;
    if (f.ecn_mark_bytes > 0 && !ecn)
        return refuse(cmd, "ecn-mark", "marks only ECN-capable frames: add --ecn so the hosts send them");
    if (pcap_host != NULL && f.pcap == NULL) return refuse(cmd, "pcap-host", "chooses where --pcap captures: it needs --pcap");
    if (!sim_flags_apply(&f, &d.bottleneck_ab, &d.bottleneck_ba, err, sizeof(err))) {
        fprintf(stderr, "tcpbed sim dumbbell: %s\nTry 'tcpbed sim dumbbell --help'.\n", err);
        return 2;
    }
    if (f.queue_bytes == 0) {
        uint64_t bdp = f.rate_bps / 8 * (uint64_t)(2 * (f.delay_ns + 2 * access_delay)) / TB_NS_PER_S;
        uint32_t q = (uint32_t)(bdp < 15000 ? 15000 : bdp > (1u << 30) ? 1u << 30 : bdp);
        d.bottleneck_ab.queue_bytes = d.bottleneck_ba.queue_bytes = q;
    }
    d.pairs = (int)pairs;
    d.access_rate_bps = access_rate;
    d.access_delay_ns = access_delay;
    d.bytes = bytes;
    d.resp_bytes = resp;
    d.count = (uint32_t)count;
    d.parallel = (uint32_t)parallel;
    d.think_ns = think;
    d.duration_ns = duration;
    d.stagger_ns = stagger;
    struct topo *t = calloc(1, sizeof(*t));
    if (t == NULL) return 1;
    topo_init(t);
    t->seed = seed;
    t->time_limit_ns = limit;
    if (!topo_dumbbell(t, &d)) {
        fprintf(stderr, "tcpbed sim dumbbell: out of memory building %llu pairs\n", (unsigned long long)pairs);
        topo_free(t);
        free(t);
        return 1;
    }
    for (int i = 0; i < t->nhosts; i++) t->hosts[i].ecn = ecn;
    rc = run_topo(cmd, t, &f, pcap_host != NULL ? pcap_host : "S1", argc, argv);
    topo_free(t);
    free(t);
    return rc;
}

int cmd_sim_run(int argc, char **argv) {
    const char *path = NULL;
    if (argc >= 1 && argv[0][0] != '-') {
        path = argv[0];
        argc--;
        argv++;
    }
    struct sim_flags f;
    memset(&f, 0, sizeof(f));
    uint64_t seed = 0;
    tb_time_ns limit = 0;
    bool have_seed = false;
    const char *pcap_host = NULL;
    const struct opt opts[] = {
        {"seed", OPT_U64, &seed, "S", "override the file's seed", 0, TB_SEED_MAX},
        {"time-limit", OPT_DURATION, &limit, "TIME", "override the file's time limit", 1, 0},
        {"fault", OPT_LIST, &f.faults, "SPEC", "add a targeted fault (docs/faults.md)", 0, 0},
        {"expect", OPT_LIST, &f.expects, "EXPR", "a property of the run, e.g. 'fairness>0.9'", 0, 0},
        {"pcap", OPT_STRING, &f.pcap, "FILE", "write what one host (the file's first, or --pcap-host) sends and receives", 0, 0},
        {"pcap-host", OPT_STRING, &pcap_host, "HOST", "the host --pcap captures on", 0, 0},
        {"pcap-dir", OPT_STRING, &f.pcap_dir, "DIR", "write <host>.pcap for every host, faults.csv, cc.csv into DIR (created)", 0, 0},
        {"fault-log", OPT_STRING, &f.fault_log, "FILE", "CSV of every fault and queue drop", 0, 0},
        {"trace-cc", OPT_STRING, &f.trace_cc, "FILE", "CSV of congestion-control decisions", 0, 0},
        {"record-faults", OPT_STRING, &f.record_faults, "FILE", "write each fault that fired as a --fault spec", 0, 0},
        {"json", OPT_FLAG, &f.json, NULL, "print one JSON object", 0, 0},
    };
    int nopts = (int)(sizeof(opts) / sizeof(opts[0]));
    int rc = opts_parse("tcpbed sim run",
                        "Runs a scenario file: hosts, routers, links, flows and faults in INI (docs/scenarios.md).\n"
                        "usage: tcpbed sim run FILE.ini [options]",
                        opts, nopts, argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    have_seed = given(opts, nopts, argc, argv, "seed");
    if (path == NULL) {
        fprintf(stderr, "tcpbed sim run: expected a scenario file: tcpbed sim run FILE.ini\n");
        return 2;
    }
    if (pcap_host != NULL && f.pcap == NULL) return refuse("sim run", "pcap-host", "chooses where --pcap captures: it needs --pcap");
    struct topo *t = calloc(1, sizeof(*t));
    if (t == NULL) return 1;
    topo_init(t);
    char err[800];
    if (!scenario_load(path, t, err, sizeof(err))) {
        fprintf(stderr, "tcpbed sim run: %s\n", err);
        topo_free(t);
        free(t);
        return 2;
    }
    if (have_seed) t->seed = seed;
    if (limit > 0) t->time_limit_ns = limit;
    /* The reproduction line needs the file too. */
    char **args = malloc(sizeof(char *) * (size_t)(argc + 1));
    if (args == NULL) {
        topo_free(t);
        free(t);
        return 1;
    }
    args[0] = (char *)path;
    for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
    rc = run_topo("sim run", t, &f, pcap_host, argc + 1, args);
    free(args);
    topo_free(t);
    free(t);
    return rc;
}
