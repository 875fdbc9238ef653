#include <stdio.h>

#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "sim/ping.h"
#include "sim/units.h"

int cmd_sim_ping(int argc, char **argv) {
    struct sim_ping_opts o;
    sim_ping_defaults(&o);
    uint64_t count = o.count, seed = o.seed, size = o.payload_bytes, rate = o.link.rate_bps, queue = o.link.queue_bytes;
    tb_time_ns delay = o.link.delay_ns, interval = o.interval_ns, timeout = o.timeout_ns;
    const char *pcap = NULL;
    bool json = false;
    const struct opt opts[] = {
        {"count", OPT_U64, &count, "N", "echo requests to send (default 3)", 1, SIM_PING_MAX_COUNT},
        {"seed", OPT_U64, &seed, "S", "run seed: the same seed gives the same run (default 1)", 0, TB_SEED_MAX},
        {"size", OPT_SIZE, &size, "BYTES",
         "echo data bytes per request, 8..65507; above 1472 the datagrams are fragmented (default 56)", 8, 65507},
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
        json_two_hosts(&j, &r.stats_a, &r.stats_b, &r.link_ab, &r.link_ba);
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

