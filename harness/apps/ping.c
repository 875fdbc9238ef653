#include "harness/apps/ping.h"

#include "harness/host/host.h"

static void send_one(struct tb_host *h, void *ctx, uint64_t seq) {
    struct ping_app *app = ctx;
    int rc = tb_host_ping(h, app->o.dst_ipv4, PING_APP_IDENT, (uint16_t)seq, app->o.payload_bytes);
    if (rc == TB_OK) app->r->transmitted++;
    else app->r->send_errors++;
    tb_host_kick(h);
}

static void on_events(struct tb_host *h, void *ctx) {
    struct ping_app *app = ctx;
    struct ping_app_result *r = app->r;
    struct tb_event ev[16];
    size_t n;
    while ((n = tb_host_events(h, ev, 16)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type != TB_EV_ECHO_REPLY || ev[i].u.echo.ident != PING_APP_IDENT) continue;
            if (r->received == app->o.count) continue;   /* a duplicate past the last: no slot */
            struct ping_app_reply *rep = &r->replies[r->received++];
            rep->seq = ev[i].u.echo.seq;
            rep->ttl = ev[i].u.echo.ttl;
            rep->payload_ok = ev[i].u.echo.payload_ok;
            rep->bytes = ev[i].u.echo.payload_len + TB_ICMP_HDR_LEN;
            rep->rtt_ns = ev[i].u.echo.rtt_ns;
            if (!rep->payload_ok) r->corrupted++;
            if (r->received == 1 || rep->rtt_ns < r->rtt_min_ns) r->rtt_min_ns = rep->rtt_ns;
            if (rep->rtt_ns > r->rtt_max_ns) r->rtt_max_ns = rep->rtt_ns;
            r->rtt_sum_ns += rep->rtt_ns;
            if (r->received == app->o.count) tb_host_stop(h);
        }
    }
}

void ping_app_start(struct ping_app *app, const struct ping_app_opts *o, struct tb_host *h, struct ping_app_result *r) {
    app->o = *o;
    app->r = r;
    tb_host_set_app(h, on_events, app);
    tb_time_ns t0 = tb_host_now(h);   /* times count from here, whatever the clock */
    for (uint32_t i = 0; i < o->count; i++)
        tb_host_at(h, t0 + o->start_ns + (tb_time_ns)i * o->interval_ns, send_one, app, i + 1);
}
