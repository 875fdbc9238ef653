/* tcpbed: the command-line front-end. `tcpbed help` lists the commands;
 * every command answers --help. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness/cli/json.h"
#include "harness/cli/opts.h"
#include "harness/cli/units.h"
#include "sim/bulk.h"
#include "sim/ping.h"

#define TCPBED_VERSION "0.1.0"

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void json_stats(struct json *j, const char *key, const struct tb_stats *s) {
    json_obj_open(j, key);
    struct tb_counter list[64];
    size_t n = tb_stats_list(s, list, 64);
    for (size_t i = 0; i < n && i < 64; i++) json_u64(j, list[i].name, list[i].value);
    json_obj_open(j, "drops");
    for (int r = 0; r < TB_DROP__COUNT; r++)
        if (s->drops[r] != 0) json_u64(j, tb_drop_reason_name((enum tb_drop_reason)r), s->drops[r]);
    json_obj_close(j);
    json_obj_close(j);
}

static void json_link(struct json *j, const char *key, const struct sim_link_stats *l) {
    json_obj_open(j, key);
    json_u64(j, "offered", l->offered);
    json_u64(j, "delivered", l->delivered);
    json_u64(j, "bytes_delivered", l->bytes_delivered);
    json_u64(j, "queue_drops", l->queue_drops);
    json_u64(j, "hook_drops", l->hook_drops);
    json_u64(j, "rx_nobuf_drops", l->rx_nobuf_drops);
    json_obj_close(j);
}

static void print_drops(const char *host, const struct tb_stats *s) {
    for (int r = 0; r < TB_DROP__COUNT; r++)
        if (s->drops[r] != 0)
            printf("host %s dropped %llu frame(s): %s\n", host, (unsigned long long)s->drops[r],
                   tb_drop_reason_name((enum tb_drop_reason)r));
}

static int cmd_sim_ping(int argc, char **argv) {
    struct sim_ping_opts o;
    sim_ping_defaults(&o);
    uint64_t count = o.count, seed = o.seed, size = o.payload_bytes, rate = o.link.rate_bps, queue = o.link.queue_bytes;
    tb_time_ns delay = o.link.delay_ns, interval = o.interval_ns, timeout = o.timeout_ns;
    const char *pcap = NULL;
    bool json = false;
    const struct opt opts[] = {
        {"count", OPT_U64, &count, "N", "echo requests to send (default 3)", 1, SIM_PING_MAX_COUNT},
        {"seed", OPT_U64, &seed, "S", "run seed: the same seed gives the same run (default 1)", 0, 0},
        {"size", OPT_SIZE, &size, "BYTES", "echo data bytes per request, 8..1472 (default 56)", 8, 1472},
        {"interval", OPT_DURATION, &interval, "TIME", "between requests (default 1s)", 1, 0},
        {"timeout", OPT_DURATION, &timeout, "TIME", "wait for the last reply (default 2s)", 1, 0},
        {"delay", OPT_DURATION, &delay, "TIME", "one-way link propagation delay (default 1ms)", 0, 0},
        {"rate", OPT_RATE, &rate, "RATE", "link bandwidth (default 100Mbps)", 1, 0},
        {"queue", OPT_SIZE, &queue, "BYTES", "link drop-tail queue per direction (default 64K)", 1514, 1u << 30},
        {"pcap", OPT_STRING, &pcap, "FILE", "write what host A sends and receives to a pcap (ns timestamps)", 0, 0},
        {"json", OPT_FLAG, &json, NULL, "print one JSON object instead of the summary", 0, 0},
    };
    int rc = opts_parse("tcpbed sim ping",
                        "Two simulated hosts, A (10.0.0.1) and B (10.0.0.2), on one point-to-point link.\n"
                        "A resolves B with ARP, then sends echo requests; RTTs are in virtual time.\n"
                        "Exits 0 when every request was answered intact.",
                        opts, (int)(sizeof(opts) / sizeof(opts[0])), argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    o.count = (uint32_t)count;
    o.seed = seed;
    o.payload_bytes = (uint32_t)size;
    o.interval_ns = interval;
    o.timeout_ns = timeout;
    o.link.delay_ns = delay;
    o.link.rate_bps = rate;
    o.link.queue_bytes = (uint32_t)queue;
    o.pcap_path = pcap;

    struct sim_ping_result r;
    double t0 = wall_seconds();
    if (sim_ping_run(&o, &r) != 0) {
        fprintf(stderr, "tcpbed sim ping: %s\n", r.error);
        sim_ping_result_free(&r);
        return 1;
    }
    double wall = wall_seconds() - t0;
    bool pass = r.received == o.count && r.corrupted == 0 && r.invariants_ok && r.send_errors == 0;
    double loss_pct = r.transmitted ? 100.0 * (r.transmitted - r.received) / r.transmitted : 100.0;
    tb_time_ns avg = r.received ? r.rtt_sum_ns / r.received : 0;

    if (json) {
        struct json j;
        json_begin(&j, stdout);
        json_str(&j, "command", "sim ping");
        json_u64(&j, "seed", o.seed);
        json_u64(&j, "count", o.count);
        json_u64(&j, "transmitted", r.transmitted);
        json_u64(&j, "received", r.received);
        json_f64(&j, "loss_pct", loss_pct);
        json_u64(&j, "corrupted", r.corrupted);
        json_u64(&j, "send_errors", r.send_errors);
        json_i64(&j, "rtt_min_ns", r.rtt_min_ns);
        json_i64(&j, "rtt_avg_ns", avg);
        json_i64(&j, "rtt_max_ns", r.rtt_max_ns);
        json_arr_open(&j, "replies");
        for (uint32_t i = 0; i < r.received; i++) {
            json_obj_open(&j, NULL);
            json_u64(&j, "seq", r.replies[i].seq);
            json_u64(&j, "bytes", r.replies[i].bytes);
            json_u64(&j, "ttl", r.replies[i].ttl);
            json_i64(&j, "rtt_ns", r.replies[i].rtt_ns);
            json_bool(&j, "payload_ok", r.replies[i].payload_ok);
            json_obj_close(&j);
        }
        json_arr_close(&j);
        json_i64(&j, "sim_time_ns", r.sim_time_ns);
        json_f64(&j, "wall_time_s", wall);
        json_u64(&j, "events", r.events);
        json_u64(&j, "packets", r.link_ab.delivered + r.link_ba.delivered);
        if (pcap) json_str(&j, "pcap", pcap);
        if (pcap) json_u64(&j, "pcap_frames", r.pcap_frames);
        json_str(&j, "invariants", r.invariants_ok ? "ok" : r.invariant_error);
        json_bool(&j, "pass", pass);
        json_obj_open(&j, "hosts");
        json_stats(&j, "A", &r.stats_a);
        json_stats(&j, "B", &r.stats_b);
        json_obj_close(&j);
        json_obj_open(&j, "link");
        json_link(&j, "A>B", &r.link_ab);
        json_link(&j, "B>A", &r.link_ba);
        json_obj_close(&j);
        json_end(&j);
    } else {
        char d1[32], d2[32], d3[32], rt[32];
        printf("PING 10.0.0.2 from 10.0.0.1: %u data bytes (simulated: %s link, %s one way, seed %llu)\n",
               o.payload_bytes, tb_format_rate((double)o.link.rate_bps, rt, sizeof(rt)),
               tb_format_duration(o.link.delay_ns, d1, sizeof(d1)), (unsigned long long)o.seed);
        for (uint32_t i = 0; i < r.received; i++)
            printf("%u bytes from 10.0.0.2: icmp_seq=%u ttl=%u time=%s%s\n", r.replies[i].bytes, r.replies[i].seq,
                   r.replies[i].ttl, tb_format_duration(r.replies[i].rtt_ns, d1, sizeof(d1)),
                   r.replies[i].payload_ok ? "" : " (DATA CORRUPTED)");
        printf("--- 10.0.0.2 ping statistics (virtual time) ---\n");
        printf("%u packets transmitted, %u received, %.0f%% packet loss, time %s\n", r.transmitted, r.received,
               loss_pct, tb_format_duration(r.sim_time_ns, d1, sizeof(d1)));
        if (r.received)
            printf("rtt min/avg/max = %s / %s / %s\n", tb_format_duration(r.rtt_min_ns, d1, sizeof(d1)),
                   tb_format_duration(avg, d2, sizeof(d2)), tb_format_duration(r.rtt_max_ns, d3, sizeof(d3)));
        printf("arp: A sent %llu request(s), B sent %llu reply(ies); A queued %llu frame(s) while resolving\n",
               (unsigned long long)r.stats_a.arp_requests_tx, (unsigned long long)r.stats_b.arp_replies_tx,
               (unsigned long long)r.stats_a.arp_pending_queued);
        print_drops("A", &r.stats_a);
        print_drops("B", &r.stats_b);
        if (pcap) printf("pcap: %s (%llu frames, as seen on host A)\n", pcap, (unsigned long long)r.pcap_frames);
        if (!r.invariants_ok) printf("INVARIANT VIOLATED: %s\n", r.invariant_error);
        printf("%s: %llu events in %.3f s of wall time\n", pass ? "ok" : "FAILED", (unsigned long long)r.events,
               wall);
    }
    sim_ping_result_free(&r);
    return pass ? 0 : 1;
}

static void json_tcp_info(struct json *j, const char *key, const struct tb_tcp_info *t) {
    char ip[16];
    json_obj_open(j, key);
    json_str(j, "state", tb_tcp_state_name(t->state));
    json_str(j, "error", t->error ? tb_err_name(t->error) : "none");
    json_str(j, "local", tb_ipv4_str(t->local_ipv4, ip));
    json_u64(j, "local_port", t->local_port);
    json_u64(j, "remote_port", t->remote_port);
    json_u64(j, "iss", t->iss);
    json_u64(j, "irs", t->irs);
    json_u64(j, "mss_bytes", t->mss_bytes);
    json_bool(j, "window_scaling", t->ws_ok);
    json_u64(j, "snd_wscale", t->snd_wscale);
    json_u64(j, "rcv_wscale", t->rcv_wscale);
    json_bool(j, "timestamps", t->ts_ok);
    json_bool(j, "sack", t->sack_ok);
    json_bool(j, "syncookie", t->syncookie);
    json_i64(j, "srtt_ns", t->srtt_ns);
    json_i64(j, "rttvar_ns", t->rttvar_ns);
    json_i64(j, "rto_ns", t->rto_ns);
    json_u64(j, "cwnd_bytes", t->cwnd_bytes);
    json_u64(j, "ssthresh_bytes", t->ssthresh_bytes == UINT32_MAX ? 0 : t->ssthresh_bytes);
    json_u64(j, "bytes_sent", t->bytes_sent);
    json_u64(j, "bytes_acked", t->bytes_acked);
    json_u64(j, "bytes_received", t->bytes_received);
    json_u64(j, "segs_out", t->segs_out);
    json_u64(j, "segs_in", t->segs_in);
    json_u64(j, "data_segs_out", t->data_segs_out);
    json_u64(j, "data_segs_in", t->data_segs_in);
    json_u64(j, "retransmits", t->retransmits);
    json_u64(j, "retransmitted_bytes", t->retransmitted_bytes);
    json_u64(j, "rto_timeouts", t->rto_timeouts);
    json_u64(j, "dup_acks", t->dup_acks);
    json_u64(j, "ooo_segs", t->ooo_segs);
    json_u64(j, "zero_window_probes", t->zero_window_probes);
    json_u64(j, "challenge_acks", t->challenge_acks);
    json_obj_close(j);
}

static int cmd_sim_bulk(int argc, char **argv) {
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    uint64_t bytes = o.bytes, seed = o.seed, mss = 0, rate = o.link.rate_bps, queue = 0, sndbuf = 0, rcvbuf = 0;
    tb_time_ns delay = o.link.delay_ns, duration = 0, limit = o.time_limit_ns;
    const char *pcap = NULL;
    bool json = false, zero_copy = false, nodelay = false;
    const struct opt opts[] = {
        {"bytes", OPT_SIZE, &bytes, "BYTES", "bytes A sends to B (default 10M)", 1, UINT64_C(1) << 40},
        {"duration", OPT_DURATION, &duration, "TIME", "send for this long instead of --bytes", 1, 0},
        {"seed", OPT_U64, &seed, "S", "run seed: the same seed gives the same run (default 1)", 0, 0},
        {"mss", OPT_U64, &mss, "BYTES", "cap both hosts' MSS (default: MTU - 40)", 88, 1460},
        {"delay", OPT_DURATION, &delay, "TIME", "one-way propagation delay (default 10ms)", 0, 0},
        {"rate", OPT_RATE, &rate, "RATE", "link bandwidth (default 100Mbps)", 1, 0},
        {"queue", OPT_SIZE, &queue, "BYTES", "drop-tail queue per direction (default: BDP + 64K)", 1514, 1u << 30},
        {"sndbuf", OPT_SIZE, &sndbuf, "BYTES", "send buffer (default: 2 x BDP, at least 256K)", 1024, 1u << 30},
        {"rcvbuf", OPT_SIZE, &rcvbuf, "BYTES", "receive buffer (default: 2 x BDP, at least 256K)", 1024, 1u << 30},
        {"time-limit", OPT_DURATION, &limit, "TIME", "virtual time after which the run fails (default 1h)", 1, 0},
        {"zero-copy", OPT_FLAG, &zero_copy, NULL, "use tb_tcp_send_buf / tb_tcp_recv_buf", 0, 0},
        {"nodelay", OPT_FLAG, &nodelay, NULL, "turn Nagle off on A", 0, 0},
        {"pcap", OPT_STRING, &pcap, "FILE", "write what host A sends and receives to a pcap", 0, 0},
        {"json", OPT_FLAG, &json, NULL, "print one JSON object instead of the summary", 0, 0},
    };
    int rc = opts_parse("tcpbed sim bulk",
                        "Host A (10.0.0.1) sends seeded pseudo-random bytes to host B (10.0.0.2) over TCP;\n"
                        "B checks every byte; both close. Exits 0 only when every byte arrived once, in order,\n"
                        "unchanged, and both connections closed cleanly.",
                        opts, (int)(sizeof(opts) / sizeof(opts[0])), argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    o.bytes = bytes;
    o.duration_ns = duration;
    o.seed = seed;
    o.mss = (uint16_t)mss;
    o.link.delay_ns = delay;
    o.link.rate_bps = rate;
    o.link.queue_bytes = (uint32_t)queue;
    o.sndbuf_bytes = (uint32_t)sndbuf;
    o.rcvbuf_bytes = (uint32_t)rcvbuf;
    o.time_limit_ns = limit;
    o.zero_copy = zero_copy;
    o.nodelay = nodelay;
    o.pcap_path = pcap;

    struct sim_bulk_result r;
    double t0 = wall_seconds();
    if (sim_bulk_run(&o, &r) != 0) {
        fprintf(stderr, "tcpbed sim bulk: %s\n", r.error);
        return 1;
    }
    double wall = wall_seconds() - t0;
    tb_time_ns xfer_ns = r.sim_time_ns - r.connect_ns;
    double goodput = xfer_ns > 0 ? (double)r.delivered_bytes * 8.0 / ((double)xfer_ns / 1e9) : 0;
    if (json) {
        struct json j;
        json_begin(&j, stdout);
        json_str(&j, "command", "sim bulk");
        json_u64(&j, "seed", o.seed);
        json_u64(&j, "sent_bytes", r.sent_bytes);
        json_u64(&j, "delivered_bytes", r.delivered_bytes);
        json_str(&j, "integrity", r.integrity);
        json_bool(&j, "pass", r.pass);
        json_u64(&j, "retransmits", r.retransmits);
        json_u64(&j, "rto_timeouts", r.rto_timeouts);
        json_i64(&j, "sim_time_ns", r.sim_time_ns);
        json_f64(&j, "wall_time_s", wall);
        json_u64(&j, "packets", r.packets);
        json_u64(&j, "events", r.events);
        json_f64(&j, "goodput_bps", goodput);
        json_i64(&j, "connect_ns", r.connect_ns);
        json_u64(&j, "rate_bps", o.link.rate_bps);
        json_i64(&j, "delay_ns", o.link.delay_ns);
        json_u64(&j, "queue_bytes", r.queue_bytes);
        json_u64(&j, "sndbuf_bytes", r.sndbuf_bytes);
        json_u64(&j, "rcvbuf_bytes", r.rcvbuf_bytes);
        if (pcap) json_str(&j, "pcap", pcap);
        if (pcap) json_u64(&j, "pcap_frames", r.pcap_frames);
        json_obj_open(&j, "conn");
        json_tcp_info(&j, "A", &r.info_a);
        json_tcp_info(&j, "B", &r.info_b);
        json_obj_close(&j);
        json_obj_open(&j, "hosts");
        json_stats(&j, "A", &r.stats_a);
        json_stats(&j, "B", &r.stats_b);
        json_obj_close(&j);
        json_obj_open(&j, "link");
        json_link(&j, "A>B", &r.link_ab);
        json_link(&j, "B>A", &r.link_ba);
        json_obj_close(&j);
        json_end(&j);
    } else {
        char d1[32], d2[32], rt[32];
        printf("tcpbed sim bulk: A 10.0.0.1 -> B 10.0.0.2:%u, %llu bytes, %s link, %s one way, seed %llu\n", o.port,
               (unsigned long long)(o.duration_ns ? r.sent_bytes : o.bytes),
               tb_format_rate((double)o.link.rate_bps, rt, sizeof(rt)), tb_format_duration(o.link.delay_ns, d1, sizeof(d1)),
               (unsigned long long)o.seed);
        const struct tb_tcp_info *a = &r.info_a;
        printf("connected after %s: mss %u, window scale %s (%u/%u), timestamps %s, SACK %s\n",
               tb_format_duration(r.connect_ns, d1, sizeof(d1)), a->mss_bytes, a->ws_ok ? "on" : "off", a->snd_wscale,
               a->rcv_wscale, a->ts_ok ? "on" : "off", a->sack_ok ? "on" : "off");
        printf("sent %llu bytes, delivered %llu, finished at %s of virtual time: goodput %s\n",
               (unsigned long long)r.sent_bytes, (unsigned long long)r.delivered_bytes,
               tb_format_duration(r.sim_time_ns, d1, sizeof(d1)), tb_format_rate(goodput, rt, sizeof(rt)));
        printf("retransmits %llu, RTO timeouts %llu, packets %llu, A srtt %s, A cwnd %u bytes\n",
               (unsigned long long)r.retransmits, (unsigned long long)r.rto_timeouts, (unsigned long long)r.packets,
               tb_format_duration(a->srtt_ns, d2, sizeof(d2)), a->cwnd_bytes);
        if (r.link_ab.queue_drops + r.link_ba.queue_drops > 0)
            printf("link queue drops: A>B %llu, B>A %llu\n", (unsigned long long)r.link_ab.queue_drops,
                   (unsigned long long)r.link_ba.queue_drops);
        print_drops("A", &r.stats_a);
        print_drops("B", &r.stats_b);
        if (pcap) printf("pcap: %s (%llu frames, as seen on host A)\n", pcap, (unsigned long long)r.pcap_frames);
        printf("integrity: %s\n", r.integrity);
        printf("%s: %llu events in %.3f s of wall time\n", r.pass ? "ok" : "FAILED", (unsigned long long)r.events, wall);
        if (!r.pass) {
            fprintf(stderr, "reproduce with: tcpbed sim bulk");
            for (int i = 0; i < argc; i++) fprintf(stderr, " %s", argv[i]);
            fprintf(stderr, "\n");
        }
    }
    return r.pass ? 0 : 1;
}

static void usage_sim(FILE *f) {
    fprintf(f,
            "usage: tcpbed sim <scenario> [options]\n\n"
            "Runs a scenario in the simulator: virtual time, virtual NICs, fully reproducible.\n\n"
            "scenarios:\n"
            "  ping     two hosts, ARP then ICMP echo (tcpbed sim ping --help)\n"
            "  bulk     a TCP transfer from A to B, every byte checked (tcpbed sim bulk --help)\n");
}

static int cmd_sim(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "help") == 0) {
        usage_sim(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "ping") == 0) return cmd_sim_ping(argc - 1, argv + 1);
    if (strcmp(argv[0], "bulk") == 0) return cmd_sim_bulk(argc - 1, argv + 1);
    fprintf(stderr, "tcpbed sim: unknown scenario '%s' (expected: ping, bulk)\nTry 'tcpbed sim --help'.\n", argv[0]);
    return 2;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: tcpbed <command> [options]\n\n"
            "tcpbed: a deterministic user-space TCP/IP stack and the testbed around it.\n\n"
            "commands:\n"
            "  sim       run a simulated scenario (tcpbed sim --help)\n"
            "  version   print the version\n"
            "  help      show this help\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("tcpbed %s\n", TCPBED_VERSION);
        return 0;
    }
    if (strcmp(cmd, "sim") == 0) return cmd_sim(argc - 2, argv + 2);
    fprintf(stderr, "tcpbed: unknown command '%s'\nTry 'tcpbed help'.\n", cmd);
    return 2;
}
