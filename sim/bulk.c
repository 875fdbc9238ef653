#include "sim/bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/apps/bulk.h"
#include "harness/host/host.h"
#include "sim/faults.h"
#include "sim/ping.h"
#include "traces/cc_trace.h"
#include "traces/pcap_writer.h"
#include "traces/runlog.h"

void sim_bulk_defaults(struct sim_bulk_opts *o) {
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->bytes = 10 * 1024 * 1024;
    o->port = 5001;
    o->link.delay_ns = 10 * TB_NS_PER_MS;
    o->link.rate_bps = 100000000;
    o->time_limit_ns = 3600 * TB_NS_PER_S;
}

int sim_bulk_run(const struct sim_bulk_opts *o, struct sim_bulk_result *r) {
    memset(r, 0, sizeof(*r));
    struct sim *sim = sim_new(o->seed);
    if (sim == NULL) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        return -1;
    }
    struct sim_host *ha = NULL, *hb = NULL;
    struct bulk_app *app = NULL;
    struct bulk_app_result ar;
    memset(&ar, 0, sizeof(ar));

    /* Size buffers so the window covers twice the bandwidth-delay product
     * and the queue holds one BDP: a lossless run then never overflows. */
    uint64_t bdp = o->link.rate_bps > 0 ? o->link.rate_bps / 8 * (uint64_t)(2 * o->link.delay_ns) / TB_NS_PER_S : 0;
    uint64_t window = 2 * bdp < 256 * 1024 ? 256 * 1024 : 2 * bdp;
    if (window > (64u << 20)) window = 64u << 20;
    r->sndbuf_bytes = o->sndbuf_bytes ? o->sndbuf_bytes : (uint32_t)window;
    r->rcvbuf_bytes = o->rcvbuf_bytes ? o->rcvbuf_bytes : (uint32_t)window;
    struct sim_link_params link = o->link, link_ba = o->have_link_ba ? o->link_ba : o->link;
    uint32_t auto_queue = (uint32_t)(bdp + 64 * 1024 < (1u << 30) ? bdp + 64 * 1024 : 1u << 30);
    if (link.queue_bytes == 0) link.queue_bytes = auto_queue;
    if (link_ba.queue_bytes == 0) link_ba.queue_bytes = auto_queue;
    r->queue_bytes = link.queue_bytes;

    struct tb_config cfg[2];
    for (int i = 0; i < 2; i++) {
        sim_two_host_config(&cfg[i], o->seed, i);
        cfg[i].tcp_sndbuf_bytes = r->sndbuf_bytes;
        cfg[i].tcp_rcvbuf_bytes = r->rcvbuf_bytes;
        cfg[i].tcp_ooo_max_bytes = r->rcvbuf_bytes;
        cfg[i].tcp_mss = o->mss;
        cfg[i].tcp_cc = o->cc;
        cfg[i].tcp_ecn = o->ecn;
        cfg[i].tcp_rack_tlp = !o->no_rack_tlp;
        cfg[i].tcp_sack = !o->no_sack;
        cfg[i].tcp_max_conns = 16;
        /* Enough buffers for a full send queue, receive queue and
         * out-of-order queue, plus frames in flight. */
        cfg[i].buf_count = r->sndbuf_bytes / 1024 + 2 * (r->rcvbuf_bytes / 512) + 1024;
        cfg[i].tx_queue_len = 4096 < cfg[i].buf_count ? 4096 : cfg[i].buf_count;
        if (o->tweak_config) o->tweak_config(&cfg[i], i, o->tweak_ctx);
    }
    const char *why = NULL;
    for (int i = 0; i < 2; i++)
        if (tb_config_check(&cfg[i], &why) != TB_OK) {
            snprintf(r->error, sizeof(r->error), "host %c config: %s", 'A' + i, why);
            sim_free(sim);
            return -1;
        }
    ha = sim_add_host(sim, "A", &cfg[0]);
    hb = sim_add_host(sim, "B", &cfg[1]);
    int link_id = ha && hb ? sim_connect(sim, ha, hb, &link) : -1;
    if (link_id < 0) {
        snprintf(r->error, sizeof(r->error), "could not build the two-host network (out of memory?)");
        sim_free(sim);
        return -1;
    }
    sim_link_set_params(sim, link_id, 0, &link_ba);
    if (o->drop_a_to_b) sim_link_set_drop_hook(sim, link_id, 1, o->drop_a_to_b, o->drop_ctx);
    if (o->drop_b_to_a) sim_link_set_drop_hook(sim, link_id, 0, o->drop_b_to_a, o->drop_ctx);
    for (size_t i = 0; i < o->fault_count; i++) {
        struct fault_spec fs;
        if (!fault_parse(o->faults[i], &fs, r->error, sizeof(r->error)) ||
            !sim_add_fault(sim, &fs, r->error, sizeof(r->error))) {
            sim_free(sim);
            return -1;
        }
    }
    if (o->on_fault != NULL) sim_on_fault(sim, o->on_fault, o->on_fault_ctx);
    if (o->fault_log != NULL) sim_fault_log(sim, o->fault_log);
    struct tb_cc_trace tw[2];
    if (o->trace_cc != NULL) {
        tb_cc_trace_header(o->trace_cc);
        tb_cc_trace_attach(&tw[0], sim_host_host(ha), o->trace_cc);
        tb_cc_trace_attach(&tw[1], sim_host_host(hb), o->trace_cc);
    }
    struct tb_pcap_writer *pcap = NULL, *pcap_b = NULL;
    if (o->pcap_path != NULL || o->pcap_dir != NULL) {
        char path[1024];
        if (o->pcap_dir != NULL) snprintf(path, sizeof(path), "%s/A.pcap", o->pcap_dir);
        pcap = tb_pcap_open(o->pcap_path != NULL ? o->pcap_path : path, r->error, sizeof(r->error));
        if (pcap != NULL && o->pcap_dir != NULL) {
            snprintf(path, sizeof(path), "%s/B.pcap", o->pcap_dir);
            pcap_b = tb_pcap_open(path, r->error, sizeof(r->error));
            if (pcap_b == NULL) {
                char ignore[64];
                tb_pcap_close(pcap, ignore, sizeof(ignore));
                pcap = NULL;
            }
        }
        if (pcap == NULL) {
            sim_free(sim);
            return -1;
        }
        sim_host_capture(ha, pcap);
        if (pcap_b != NULL) sim_host_capture(hb, pcap_b);
    }
    /* Host A's run-log: attached before the application's first call. */
    struct tb_runlog_writer *runlog = NULL;
    if (o->record_path != NULL) {
        runlog = tb_runlog_open(o->record_path, &cfg[0], "A", o->record_cmdline, r->error, sizeof(r->error));
        if (runlog == NULL || !tb_runlog_attach(runlog, sim_host_host(ha))) {
            char ignore[64];
            if (runlog != NULL) {
                snprintf(r->error, sizeof(r->error), "host A has no hook slot left for the run-log");
                tb_runlog_close(runlog, ignore, sizeof(ignore));
            }
            if (pcap != NULL) tb_pcap_close(pcap, ignore, sizeof(ignore));
            if (pcap_b != NULL) tb_pcap_close(pcap_b, ignore, sizeof(ignore));
            sim_free(sim);
            return -1;
        }
    }
    struct bulk_app_opts ao = {.seed = o->seed, .bytes = o->bytes, .duration_ns = o->duration_ns,
                               .server_ipv4 = SIM_HOST_B_IP, .port = o->port, .start_ns = o->start_ns,
                               .reader_stall_ns = o->reader_stall_ns, .zero_copy = o->zero_copy,
                               .nodelay = o->nodelay, .both = o->both};
    app = bulk_app_start(&ao, sim_host_host(ha), sim_host_host(hb), &ar);
    if (app == NULL) {
        char ignore[64];
        snprintf(r->error, sizeof(r->error), "%s", ar.failure);
        if (pcap != NULL) tb_pcap_close(pcap, ignore, sizeof(ignore));
        if (pcap_b != NULL) tb_pcap_close(pcap_b, ignore, sizeof(ignore));
        if (runlog != NULL) tb_runlog_close(runlog, ignore, sizeof(ignore));
        sim_free(sim);
        return -1;
    }
    sim_run(sim, o->time_limit_ns);
    bulk_app_finish(app, sim_now(sim));
    bulk_app_free(app);

    r->sent_bytes = ar.sent_bytes;
    r->delivered_bytes = ar.delivered_bytes;
    r->reverse_sent_bytes = ar.reverse_sent_bytes;
    r->reverse_delivered_bytes = ar.reverse_delivered_bytes;
    r->connect_ns = ar.connect_ns;
    r->sim_time_ns = ar.end_ns;
    r->info_a = ar.info_a;
    r->info_b = ar.info_b;
    snprintf(r->integrity, sizeof(r->integrity), "%s", ar.failure[0] ? ar.failure : "ok");
    r->pass = ar.failure[0] == '\0';
    r->faults_fired = sim_faults_fired(sim);
    r->events = sim_events_processed(sim);
    tb_stack_stats(sim_host_stack(ha), &r->stats_a);
    tb_stack_stats(sim_host_stack(hb), &r->stats_b);
    sim_link_stats(sim, link_id, 1, &r->link_ab);
    sim_link_stats(sim, link_id, 0, &r->link_ba);
    r->packets = r->link_ab.delivered + r->link_ba.delivered;
    r->retransmits = r->stats_a.tcp_retransmits + r->stats_b.tcp_retransmits;
    r->rto_timeouts = r->stats_a.tcp_rto_timeouts + r->stats_b.tcp_rto_timeouts;
    int rc = 0;
    if (pcap != NULL) {
        r->pcap_frames = tb_pcap_frames(pcap);
        if (tb_pcap_close(pcap, r->error, sizeof(r->error)) != 0) rc = -1;
    }
    if (pcap_b != NULL && tb_pcap_close(pcap_b, r->error, sizeof(r->error)) != 0) rc = -1;
    if (runlog != NULL) {
        r->runlog_frames = tb_runlog_frames(runlog);
        r->runlog_records = tb_runlog_records(runlog);
        if (tb_runlog_close(runlog, r->error, sizeof(r->error)) != 0) rc = -1;
    }
    sim_free(sim);
    return rc;
}
