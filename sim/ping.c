#include "sim/ping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/host/host.h"
#include "traces/pcap_writer.h"

void sim_ping_defaults(struct sim_ping_opts *o) {
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->count = 3;
    o->payload_bytes = 56;                   /* as ping(8): 64-byte ICMP messages */
    o->interval_ns = 1 * TB_NS_PER_S;
    o->timeout_ns = 2 * TB_NS_PER_S;
    o->link.delay_ns = 1 * TB_NS_PER_MS;
    o->link.rate_bps = 100000000;
    o->link.queue_bytes = 64 * 1024;
}

void sim_two_host_config(struct tb_config *cfg, uint64_t run_seed, int host_index) {
    tb_config_default(cfg);
    cfg->seed = tb_derive_seed(run_seed, "host", (uint64_t)host_index);
    /* Locally administered unicast MACs 02:00:00:00:00:0N. */
    uint8_t mac[TB_ETH_ADDR_LEN] = {0x02, 0, 0, 0, 0, (uint8_t)(host_index + 1)};
    memcpy(cfg->mac.b, mac, sizeof(mac));
    cfg->ipv4_addr = host_index == 0 ? SIM_HOST_A_IP : SIM_HOST_B_IP;
    cfg->ipv4_prefix_len = 24;
}

static void check_invariants(struct sim *sim, struct sim_host *const hosts[2], struct sim_ping_result *r) {
    r->invariants_ok = true;
    for (int i = 0; i < 2; i++) {
        const char *why = NULL;
        if (!tb_stack_check(sim_host_stack(hosts[i]), &why)) {
            snprintf(r->invariant_error, sizeof(r->invariant_error), "host %s self-check: %s",
                     sim_host_name(hosts[i]), why);
            r->invariants_ok = false;
            return;
        }
    }
    if (r->received > r->transmitted) {
        snprintf(r->invariant_error, sizeof(r->invariant_error), "more replies (%u) than requests (%u)",
                 r->received, r->transmitted);
        r->invariants_ok = false;
    }
    (void)sim;
}

int sim_ping_run(const struct sim_ping_opts *o, struct sim_ping_result *r) {
    memset(r, 0, sizeof(*r));
    if (o->count == 0 || o->count > SIM_PING_MAX_COUNT) {
        snprintf(r->error, sizeof(r->error), "count must be 1..%d", SIM_PING_MAX_COUNT);
        return -1;
    }
    r->replies = calloc(o->count, sizeof(*r->replies));
    struct sim *sim = sim_new(o->seed);
    if (r->replies == NULL || sim == NULL) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        sim_free(sim);
        return -1;
    }
    struct tb_config cfg_a, cfg_b;
    sim_two_host_config(&cfg_a, o->seed, 0);
    sim_two_host_config(&cfg_b, o->seed, 1);
    struct sim_host *hosts[2] = {sim_add_host(sim, "A", &cfg_a), sim_add_host(sim, "B", &cfg_b)};
    int link = hosts[0] && hosts[1] ? sim_connect(sim, hosts[0], hosts[1], &o->link) : -1;
    if (link < 0) {
        snprintf(r->error, sizeof(r->error), "could not build the two-host network");
        sim_free(sim);
        return -1;
    }
    if (o->drop_a_to_b) sim_link_set_drop_hook(sim, link, 1, o->drop_a_to_b, o->drop_ctx);
    if (o->drop_b_to_a) sim_link_set_drop_hook(sim, link, 0, o->drop_b_to_a, o->drop_ctx);

    struct tb_pcap_writer *pcap = NULL;
    if (o->pcap_path != NULL) {
        pcap = tb_pcap_open(o->pcap_path, r->error, sizeof(r->error));
        if (pcap == NULL) {
            sim_free(sim);
            return -1;
        }
        sim_host_capture(hosts[0], pcap);
    }
    struct ping_app app;
    struct ping_app_result pr = {.replies = r->replies};
    struct ping_app_opts po = {.dst_ipv4 = SIM_HOST_B_IP, .count = o->count, .payload_bytes = o->payload_bytes,
                               .interval_ns = o->interval_ns};
    ping_app_start(&app, &po, sim_host_host(hosts[0]), &pr);
    tb_time_ns end = (tb_time_ns)(o->count - 1) * o->interval_ns + o->timeout_ns;
    sim_run(sim, end);
    r->transmitted = pr.transmitted;
    r->received = pr.received;
    r->corrupted = pr.corrupted;
    r->send_errors = pr.send_errors;
    r->rtt_min_ns = pr.rtt_min_ns;
    r->rtt_max_ns = pr.rtt_max_ns;
    r->rtt_sum_ns = pr.rtt_sum_ns;
    r->sim_time_ns = r->received == o->count ? sim_now(sim) : end;
    r->events = sim_events_processed(sim);
    tb_stack_stats(sim_host_stack(hosts[0]), &r->stats_a);
    tb_stack_stats(sim_host_stack(hosts[1]), &r->stats_b);
    sim_link_stats(sim, link, 1, &r->link_ab);
    sim_link_stats(sim, link, 0, &r->link_ba);
    check_invariants(sim, hosts, r);
    if (pcap != NULL) {
        r->pcap_frames = tb_pcap_frames(pcap);
        if (tb_pcap_close(pcap, r->error, sizeof(r->error)) != 0) {
            sim_free(sim);
            return -1;
        }
    }
    sim_free(sim);
    return 0;
}

void sim_ping_result_free(struct sim_ping_result *r) {
    free(r->replies);
    r->replies = NULL;
}
