/* tcpbed sim bulk: the TCP transfer scenario, its faults and expectations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/cli/simflags.h"
#include "sim/bulk.h"
#include "sim/units.h"

static void bulk_metrics(struct metrics *ms, const struct sim_bulk_opts *o, const struct sim_bulk_result *r,
                         double wall, double goodput) {
    metrics_add(ms, "seed", (double)o->seed);
    metrics_add(ms, "sent_bytes", (double)r->sent_bytes);
    metrics_add(ms, "delivered_bytes", (double)r->delivered_bytes);
    metrics_add(ms, "reverse_sent_bytes", (double)r->reverse_sent_bytes);
    metrics_add(ms, "reverse_delivered_bytes", (double)r->reverse_delivered_bytes);
    metrics_add(ms, "integrity_ok", r->pass ? 1 : 0);
    metrics_add(ms, "retransmits", (double)r->retransmits);
    metrics_add(ms, "rto_timeouts", (double)r->rto_timeouts);
    metrics_add(ms, "sim_time_ns", (double)r->sim_time_ns);
    metrics_add(ms, "wall_time_s", wall);
    metrics_add(ms, "packets", (double)r->packets);
    metrics_add(ms, "events", (double)r->events);
    metrics_add(ms, "goodput_bps", goodput);
    metrics_add(ms, "connect_ns", (double)r->connect_ns);
    metrics_add(ms, "faults_fired", (double)r->faults_fired);
    metrics_add(ms, "fast_retransmits", (double)(r->stats_a.tcp_fast_retransmits + r->stats_b.tcp_fast_retransmits));
    metrics_add(ms, "rack_losses", (double)(r->stats_a.tcp_rack_losses + r->stats_b.tcp_rack_losses));
    metrics_add(ms, "tlp_probes", (double)(r->stats_a.tcp_tlp_probes + r->stats_b.tcp_tlp_probes));
    metrics_add(ms, "spurious_undos", (double)(r->stats_a.tcp_spurious_undos + r->stats_b.tcp_spurious_undos));
    metrics_add(ms, "dsacks", (double)(r->stats_a.tcp_dsacks + r->stats_b.tcp_dsacks));
    metrics_tcp_info(ms, "conn.A", &r->info_a);
    metrics_tcp_info(ms, "conn.B", &r->info_b);
    metrics_stats(ms, "hosts.A", &r->stats_a);
    metrics_stats(ms, "hosts.B", &r->stats_b);
    metrics_link(ms, "link.A>B", &r->link_ab);
    metrics_link(ms, "link.B>A", &r->link_ba);
}

static void record_fault(void *ctx, tb_time_ns now, const char *spec) {
    (void)now;
    fprintf((FILE *)ctx, "%s\n", spec);
}

int cmd_sim_bulk(int argc, char **argv) {
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    struct sim_flags f;
    memset(&f, 0, sizeof(f));
    f.delay_ns = o.link.delay_ns;
    f.rate_bps = o.link.rate_bps;
    uint64_t bytes = o.bytes, seed = o.seed, mss = 0, sndbuf = 0, rcvbuf = 0;
    tb_time_ns duration = 0, limit = o.time_limit_ns;
    bool zero_copy = false, nodelay = false, ecn = false, no_rack = false, no_sack = false, both = false;
    const char *cc = "newreno", *runlog_path = NULL;
    enum { OWN_OPTS = 15 };
    struct opt opts[OWN_OPTS + SIM_FLAG_OPTS] = {
        {"bytes", OPT_SIZE, &bytes, "BYTES", "bytes A sends to B (default 10M); with --both, each way", 1, UINT64_C(1) << 40},
        {"both", OPT_FLAG, &both, NULL, "B sends as much back at the same time; A checks every byte", 0, 0},
        {"duration", OPT_DURATION, &duration, "TIME", "send for this long instead of --bytes", 1, 0},
        {"seed", OPT_U64, &seed, "S", "run seed: the same seed gives the same run (default 1)", 0, TB_SEED_MAX},
        {"mss", OPT_U64, &mss, "BYTES", "cap both hosts' MSS (default: MTU - 40)", 88, 1460},
        {"sndbuf", OPT_SIZE, &sndbuf, "BYTES", "send buffer (default: 2 x BDP, at least 256K)", 1024, 1u << 30},
        {"rcvbuf", OPT_SIZE, &rcvbuf, "BYTES", "receive buffer (default: 2 x BDP, at least 256K)", 1024, 1u << 30},
        {"time-limit", OPT_DURATION, &limit, "TIME", "virtual time after which the run fails (default 1h)", 1, 0},
        {"zero-copy", OPT_FLAG, &zero_copy, NULL, "use tb_tcp_send_buf / tb_tcp_recv_buf", 0, 0},
        {"nodelay", OPT_FLAG, &nodelay, NULL, "turn Nagle off on A (and on B with --both)", 0, 0},
        {"cc", OPT_STRING, &cc, "NAME", "congestion control: newreno (default) or cubic", 0, 0},
        {"ecn", OPT_FLAG, &ecn, NULL, "negotiate ECN (RFC 3168); links mark with --ecn-mark or --qdisc red", 0, 0},
        {"no-rack-tlp", OPT_FLAG, &no_rack, NULL, "turn RACK-TLP off (DupThresh and RTO only)", 0, 0},
        {"no-sack", OPT_FLAG, &no_sack, NULL, "turn SACK off (NewReno recovery by duplicate ACKs)", 0, 0},
        {"record", OPT_STRING, &runlog_path, "FILE", "write host A's run-log: every input to its core (tcpbed replay FILE)", 0, 0},
    };
    int nopts = OWN_OPTS;
    sim_flags_opts(&f, opts + nopts);
    nopts += SIM_FLAG_OPTS;
    int rc = opts_parse("tcpbed sim bulk",
                        "Host A (10.0.0.1) sends seeded pseudo-random bytes to host B (10.0.0.2) over TCP;\n"
                        "B checks every byte; both close (--both: B sends as much back at once, A checks it).\n"
                        "Exits 0 only when every byte arrived once, in order,\n"
                        "unchanged, both connections closed cleanly and every --expect holds; a failing run\n"
                        "prints the command line that reproduces it. Defaults: 100Mbps, 10ms one way, no faults.",
                        opts, nopts, argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    char err[320];
    struct sim_link_params ba;
    memset(&ba, 0, sizeof(ba));
    if (!sim_flags_apply(&f, &o.link, &ba, err, sizeof(err))) {
        fprintf(stderr, "tcpbed sim bulk: %s\nTry 'tcpbed sim bulk --help'.\n", err);
        return 2;
    }
    if (!tb_cc_parse(cc, &o.cc)) {
        fprintf(stderr, "tcpbed sim bulk: --cc: expected newreno or cubic, got '%s'\nTry 'tcpbed sim bulk --help'.\n", cc);
        return 2;
    }
    o.ecn = ecn;
    o.no_rack_tlp = no_rack;
    o.no_sack = no_sack;
    o.have_link_ba = true;
    o.link_ba = ba;
    o.bytes = bytes;
    o.duration_ns = duration;
    o.seed = seed;
    o.mss = (uint16_t)mss;
    o.sndbuf_bytes = (uint32_t)sndbuf;
    o.rcvbuf_bytes = (uint32_t)rcvbuf;
    o.time_limit_ns = limit;
    o.zero_copy = zero_copy;
    o.nodelay = nodelay;
    o.both = both;
    o.pcap_path = f.pcap;
    o.record_path = runlog_path;
    o.pcap_dir = f.pcap_dir;
    o.faults = f.faults.items;
    o.fault_count = f.faults.n;
    /* Check every expression's syntax before spending time on the run. */
    struct metrics *ms = calloc(1, sizeof(*ms));
    if (ms == NULL) return 1;
    for (size_t i = 0; i < f.expects.n; i++) {
        bool holds;
        struct metrics probe = {.n = 0};
        metrics_add(&probe, "x", 0);
        if (!expect_eval(f.expects.items[i], &probe, &holds, err, sizeof(err)) && strstr(err, "no metric") == NULL) {
            fprintf(stderr, "tcpbed sim bulk: --%s\nTry 'tcpbed sim bulk --help'.\n", err);
            free(ms);
            return 2;
        }
    }
    struct sim_outputs outs;
    if (!sim_outputs_open(&f, &outs, err, sizeof(err))) {
        fprintf(stderr, "tcpbed sim bulk: %s\n", err);
        free(ms);
        return 1;
    }
    o.fault_log = outs.fault_log;
    o.trace_cc = outs.trace_cc;

    FILE *record = NULL;
    if (f.record_faults != NULL) {
        record = fopen(f.record_faults, "w");
        if (record == NULL) {
            fprintf(stderr, "tcpbed sim bulk: cannot write --record-faults '%s'\n", f.record_faults);
            sim_outputs_close(&outs);
            free(ms);
            return 1;
        }
        o.on_fault = record_fault;
        o.on_fault_ctx = record;
    }
    struct sim_bulk_result r;
    double t0 = wall_seconds();
    char *cmdline = runlog_path != NULL ? cli_command_line("sim bulk", argc, argv) : NULL;
    o.record_cmdline = cmdline;
    rc = sim_bulk_run(&o, &r);
    double wall = wall_seconds() - t0;
    free(cmdline);
    sim_outputs_close(&outs);
    if (record != NULL) fclose(record);
    if (rc != 0) {
        fprintf(stderr, "tcpbed sim bulk: %s\n", r.error);
        free(ms);
        /* A bad fault spec or a host configuration the options made invalid is a usage error. */
        return strstr(r.error, "fault") != NULL || strncmp(r.error, "host ", 5) == 0 ? 2 : 1;
    }
    tb_time_ns xfer_ns = r.sim_time_ns - r.connect_ns;
    double goodput = xfer_ns > 0 ? (double)r.delivered_bytes * 8.0 / ((double)xfer_ns / 1e9) : 0;
    double reverse_goodput = xfer_ns > 0 ? (double)r.reverse_delivered_bytes * 8.0 / ((double)xfer_ns / 1e9) : 0;
    bulk_metrics(ms, &o, &r, wall, goodput);
    metrics_add(ms, "reverse_goodput_bps", reverse_goodput);

    /* Expectations: every one must hold. */
    bool pass = r.pass;
    char failure[320] = "";
    if (!r.pass) snprintf(failure, sizeof(failure), "integrity: %s", r.integrity);
    bool holds_all[OPT_LIST_MAX];
    char explain[OPT_LIST_MAX][160];
    for (size_t i = 0; i < f.expects.n; i++) {
        bool holds = false;
        if (!expect_eval(f.expects.items[i], ms, &holds, explain[i], sizeof(explain[i]))) {
            fprintf(stderr, "tcpbed sim bulk: --%s\n", explain[i]);
            free(ms);
            return 2;
        }
        holds_all[i] = holds;
        if (!holds && pass) {
            pass = false;
            snprintf(failure, sizeof(failure), "expect %s", f.expects.items[i]);
        }
    }
    char sig[320];
    failure_signature(failure, sig, sizeof(sig));

    if (f.json) {
        struct json j;
        json_begin(&j, stdout);
        json_str(&j, "command", "sim bulk");
        json_u64(&j, "seed", o.seed);
        json_u64(&j, "sent_bytes", r.sent_bytes);
        json_u64(&j, "delivered_bytes", r.delivered_bytes);
        json_bool(&j, "both", o.both);
        json_u64(&j, "reverse_sent_bytes", r.reverse_sent_bytes);
        json_u64(&j, "reverse_delivered_bytes", r.reverse_delivered_bytes);
        json_str(&j, "integrity", r.integrity);
        json_bool(&j, "pass", pass);
        json_str(&j, "failure", failure);
        json_str(&j, "signature", sig);
        json_u64(&j, "retransmits", r.retransmits);
        json_u64(&j, "rto_timeouts", r.rto_timeouts);
        json_u64(&j, "fast_retransmits", r.stats_a.tcp_fast_retransmits + r.stats_b.tcp_fast_retransmits);
        json_u64(&j, "rack_losses", r.stats_a.tcp_rack_losses + r.stats_b.tcp_rack_losses);
        json_u64(&j, "tlp_probes", r.stats_a.tcp_tlp_probes + r.stats_b.tcp_tlp_probes);
        json_u64(&j, "spurious_undos", r.stats_a.tcp_spurious_undos + r.stats_b.tcp_spurious_undos);
        json_u64(&j, "dsacks", r.stats_a.tcp_dsacks + r.stats_b.tcp_dsacks);
        json_str(&j, "cc", tb_cc_name(o.cc));
        json_i64(&j, "sim_time_ns", r.sim_time_ns);
        json_f64(&j, "wall_time_s", wall);
        json_u64(&j, "packets", r.packets);
        json_u64(&j, "events", r.events);
        json_f64(&j, "goodput_bps", goodput);
        json_f64(&j, "reverse_goodput_bps", reverse_goodput);
        json_i64(&j, "connect_ns", r.connect_ns);
        json_u64(&j, "faults_fired", r.faults_fired);
        json_u64(&j, "rate_bps", o.link.rate_bps);
        json_i64(&j, "delay_ns", o.link.delay_ns);
        json_u64(&j, "queue_bytes", r.queue_bytes);
        json_u64(&j, "sndbuf_bytes", r.sndbuf_bytes);
        json_u64(&j, "rcvbuf_bytes", r.rcvbuf_bytes);
        if (f.pcap) json_str(&j, "pcap", f.pcap);
        if (f.pcap) json_u64(&j, "pcap_frames", r.pcap_frames);
        if (runlog_path) json_str(&j, "record", runlog_path);
        if (runlog_path) json_u64(&j, "record_frames", r.runlog_frames);
        json_arr_open(&j, "expect");
        for (size_t i = 0; i < f.expects.n; i++) {
            json_obj_open(&j, NULL);
            json_str(&j, "expr", f.expects.items[i]);
            json_bool(&j, "holds", holds_all[i]);
            json_str(&j, "detail", explain[i]);
            json_obj_close(&j);
        }
        json_arr_close(&j);
        json_obj_open(&j, "conn");
        json_tcp_info(&j, "A", &r.info_a);
        json_tcp_info(&j, "B", &r.info_b);
        json_obj_close(&j);
        json_two_hosts(&j, &r.stats_a, &r.stats_b, &r.link_ab, &r.link_ba);
        json_end(&j);
    } else {
        char d1[32], d2[32], rt[32];
        printf("tcpbed sim bulk: A 10.0.0.1 %s B 10.0.0.2:%u, %llu bytes%s, %s link, %s one way, seed %llu\n",
               o.both ? "<->" : "->", o.port, (unsigned long long)(o.duration_ns ? r.sent_bytes : o.bytes),
               o.both ? " each way" : "",
               tb_format_rate((double)o.link.rate_bps, rt, sizeof(rt)),
               tb_format_duration(o.link.delay_ns, d1, sizeof(d1)), (unsigned long long)o.seed);
        const struct tb_tcp_info *a = &r.info_a;
        printf("connected after %s: mss %u, window scale %s (%u/%u), timestamps %s, SACK %s\n",
               tb_format_duration(r.connect_ns, d1, sizeof(d1)), a->mss_bytes, a->ws_ok ? "on" : "off", a->snd_wscale,
               a->rcv_wscale, a->ts_ok ? "on" : "off", a->sack_ok ? "on" : "off");
        printf("sent %llu bytes, delivered %llu, finished at %s of virtual time: goodput %s\n",
               (unsigned long long)r.sent_bytes, (unsigned long long)r.delivered_bytes,
               tb_format_duration(r.sim_time_ns, d1, sizeof(d1)), tb_format_rate(goodput, rt, sizeof(rt)));
        if (o.both)
            printf("B sent %llu bytes back, A read %llu: goodput %s\n", (unsigned long long)r.reverse_sent_bytes,
                   (unsigned long long)r.reverse_delivered_bytes, tb_format_rate(reverse_goodput, rt, sizeof(rt)));
        printf("retransmits %llu, RTO timeouts %llu, packets %llu, A srtt %s, A cwnd %u bytes\n",
               (unsigned long long)r.retransmits, (unsigned long long)r.rto_timeouts, (unsigned long long)r.packets,
               tb_format_duration(a->srtt_ns, d2, sizeof(d2)), a->cwnd_bytes);
        printf("recovery (%s): fast retransmits %llu, RACK losses %llu, TLP probes %llu, DSACKs %llu, spurious undos %llu\n",
               tb_cc_name(o.cc), (unsigned long long)a->fast_retransmits, (unsigned long long)a->rack_losses,
               (unsigned long long)a->tlp_probes, (unsigned long long)a->dsacks, (unsigned long long)a->spurious_undos);
        if (o.both) {
            const struct tb_tcp_info *b = &r.info_b;
            printf("B->A: B srtt %s, B cwnd %u bytes, fast retransmits %llu, RACK losses %llu, TLP probes %llu, "
                   "DSACKs %llu, spurious undos %llu\n",
                   tb_format_duration(b->srtt_ns, d2, sizeof(d2)), b->cwnd_bytes,
                   (unsigned long long)b->fast_retransmits, (unsigned long long)b->rack_losses,
                   (unsigned long long)b->tlp_probes, (unsigned long long)b->dsacks,
                   (unsigned long long)b->spurious_undos);
        }
        const struct sim_link_stats *ls[2] = {&r.link_ab, &r.link_ba};
        for (int i = 0; i < 2; i++) {
            const struct sim_link_stats *l = ls[i];
            uint64_t any = l->loss_drops + l->fault_drops + l->blackout_drops + l->queue_drops + l->red_drops +
                           l->mtu_drops + l->reordered + l->duplicated + l->corrupted + l->delayed + l->ecn_marked;
            if (any)
                printf("link %s: lost %llu, fault-dropped %llu, blacked out %llu, queue-dropped %llu, RED-dropped %llu, "
                       "too big %llu, reordered %llu, duplicated %llu, corrupted %llu, delayed %llu, CE-marked %llu\n",
                       i == 0 ? "A>B" : "B>A", (unsigned long long)l->loss_drops, (unsigned long long)l->fault_drops,
                       (unsigned long long)l->blackout_drops, (unsigned long long)l->queue_drops,
                       (unsigned long long)l->red_drops, (unsigned long long)l->mtu_drops,
                       (unsigned long long)l->reordered, (unsigned long long)l->duplicated,
                       (unsigned long long)l->corrupted, (unsigned long long)l->delayed,
                       (unsigned long long)l->ecn_marked);
        }
        print_drops("A", &r.stats_a);
        print_drops("B", &r.stats_b);
        if (f.pcap) printf("pcap: %s (%llu frames, as seen on host A)\n", f.pcap, (unsigned long long)r.pcap_frames);
        if (runlog_path)
            printf("run-log: %s (host A: %llu frames, %llu records; tcpbed replay %s)\n", runlog_path,
                   (unsigned long long)r.runlog_frames, (unsigned long long)r.runlog_records, runlog_path);
        if (f.pcap_dir)
            printf("run files: %s/A.pcap, B.pcap, faults.csv, cc.csv (tcpbed plot %s)\n", f.pcap_dir, f.pcap_dir);
        for (size_t i = 0; i < f.expects.n; i++)
            printf("expect %s: %s (%s)\n", f.expects.items[i], holds_all[i] ? "holds" : "FAILS", explain[i]);
        printf("integrity: %s\n", r.integrity);
        printf("%s: %llu events in %.3f s of wall time\n", pass ? "ok" : "FAILED", (unsigned long long)r.events, wall);
    }
    if (!pass) {
        fprintf(stderr, "tcpbed sim bulk: FAILED: %s\n", failure);
        print_repro(stderr, "sim bulk", argc, argv);
    }
    free(ms);
    return pass ? 0 : 1;
}
