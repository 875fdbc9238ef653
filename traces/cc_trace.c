#include "traces/cc_trace.h"

#include <string.h>

#include "harness/host/host.h"

void tb_cc_trace_header(FILE *f) {
    fprintf(f, "time_ns,host,conn,event,reason,state,cwnd_bytes,ssthresh_bytes,flight_bytes,"
               "snd_wnd_bytes,srtt_ns,rto_ns,snd_una,snd_nxt\n");
}

static void write_line(void *ctx, struct tb_host *h, const struct tb_trace *t) {
    (void)h;
    const struct tb_cc_trace *w = ctx;
    fprintf(w->f, "%lld,%s,%d,%s,%s,%s,%u,%u,%u,%u,%lld,%lld,%u,%u\n", (long long)t->time_ns, w->host, t->conn,
            tb_trace_event_name(t->event), t->reason, tb_tcp_state_name(t->state), t->cwnd_bytes, t->ssthresh_bytes,
            t->flight_bytes, t->snd_wnd_bytes, (long long)t->srtt_ns, (long long)t->rto_ns, t->snd_una, t->snd_nxt);
}

bool tb_cc_trace_attach(struct tb_cc_trace *t, struct tb_host *h, FILE *f) {
    t->f = f;
    snprintf(t->host, sizeof(t->host), "%s", tb_host_name(h));
    struct tb_host_hooks hooks = {.on_trace = write_line, .ctx = t};
    return tb_host_add_hooks(h, &hooks);
}
