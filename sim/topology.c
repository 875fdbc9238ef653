#include "sim/topology.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/faults.h"
#include "traces/pcap_writer.h"

void topo_init(struct topo *t) {
    memset(t, 0, sizeof(*t));
    t->seed = 1;
    t->time_limit_ns = 3600 * TB_NS_PER_S;
}

static uint32_t mask_of(uint8_t len) { return len == 0 ? 0 : len >= 32 ? UINT32_MAX : ~(UINT32_MAX >> len); }

static int find_host(const struct topo *t, const char *name) {
    for (int i = 0; i < t->nhosts; i++)
        if (strcmp(t->hosts[i].name, name) == 0) return i;
    return -1;
}

static int find_router(const struct topo *t, const char *name) {
    for (int i = 0; i < t->nrouters; i++)
        if (strcmp(t->routers[i].name, name) == 0) return i;
    return -1;
}

static int port_on(const struct topo_router *r, uint32_t ip) {
    for (int p = 0; p < r->nports; p++) {
        uint32_t m = mask_of(r->port_prefix_len[p]);
        if ((ip & m) == (r->port_ipv4[p] & m)) return p;
    }
    return -1;
}

/* Two routers' ports on one subnet: the link between them uses those. */
static bool shared_ports(const struct topo_router *a, const struct topo_router *b, int *pa, int *pb) {
    for (int i = 0; i < a->nports; i++) {
        int j = port_on(b, a->port_ipv4[i]);
        if (j >= 0 && port_on(a, b->port_ipv4[j]) == i) {
            *pa = i;
            *pb = j;
            return true;
        }
    }
    return false;
}

struct trace_ctx {
    FILE *f;
    const char *host;
};

static void write_trace(void *ctx, const struct tb_trace *t) {
    struct trace_ctx *w = ctx;
    fprintf(w->f, "%lld,%s,%d,%s,%s,%s,%u,%u,%u,%u,%lld,%lld,%u,%u\n", (long long)t->time_ns, w->host, t->conn,
            tb_trace_event_name(t->event), t->reason, tb_tcp_state_name(t->state), t->cwnd_bytes, t->ssthresh_bytes,
            t->flight_bytes, t->snd_wnd_bytes, (long long)t->srtt_ns, (long long)t->rto_ns, t->snd_una, t->snd_nxt);
}

struct fault_count {
    sim_fault_fn next;
    void *ctx;
    uint64_t n;
};

static void count_fault(void *ctx, tb_time_ns now, const char *spec) {
    struct fault_count *c = ctx;
    c->n++;
    if (c->next != NULL) c->next(c->ctx, now, spec);
}

#define SETUP_FAIL(...)                                          \
    do {                                                         \
        snprintf(r->error, sizeof(r->error), __VA_ARGS__);       \
        goto fail;                                               \
    } while (0)

int topo_run(struct topo *t, const struct topo_outputs *out, struct topo_result *r) {
    memset(r, 0, sizeof(*r));
    struct sim *sim = sim_new(t->seed);
    struct wl *w = NULL;
    struct sim_host *hosts[TOPO_MAX_HOSTS] = {0};
    struct sim_router *routers[TOPO_MAX_ROUTERS] = {0};
    struct tb_pcap_writer *pcaps[TOPO_MAX_HOSTS] = {0};
    struct trace_ctx traces[TOPO_MAX_HOSTS];
    int link_ids[TOPO_MAX_LINKS];
    struct fault_count fc = {.next = out ? out->on_fault : NULL, .ctx = out ? out->on_fault_ctx : NULL};
    if (sim == NULL) SETUP_FAIL("out of memory");
    /* Names are unique across hosts and routers. */
    for (int i = 0; i < t->nhosts; i++)
        for (int j = 0; j < t->nrouters; j++)
            if (strcmp(t->hosts[i].name, t->routers[j].name) == 0) SETUP_FAIL("'%s' is both a host and a router", t->hosts[i].name);
    for (int i = 0; i < t->nrouters; i++) {
        routers[i] = sim_add_router(sim, t->routers[i].name);
        if (routers[i] == NULL) SETUP_FAIL("too many routers");
        for (int p = 0; p < t->routers[i].nports; p++)
            if (sim_router_add_port(routers[i], t->routers[i].port_ipv4[p], t->routers[i].port_prefix_len[p]) < 0)
                SETUP_FAIL("router %s: bad port %d", t->routers[i].name, p + 1);
    }
    for (int i = 0; i < t->nhosts; i++) {
        struct topo_host *h = &t->hosts[i];
        if (find_host(t, h->name) != i) SETUP_FAIL("host '%s' is defined twice", h->name);
        struct tb_config cfg;
        tb_config_default(&cfg);
        cfg.seed = sim_derive_seed(t->seed, "host", (uint64_t)i);
        uint8_t mac[6] = {0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)(i + 1)};
        memcpy(cfg.mac.b, mac, 6);
        cfg.ipv4_addr = h->ipv4;
        cfg.ipv4_prefix_len = h->prefix_len;
        cfg.ipv4_gateway = h->gateway;
        if (cfg.ipv4_gateway == 0)
            for (int k = 0; k < t->nrouters; k++) {
                int p = port_on(&t->routers[k], h->ipv4);
                if (p >= 0) cfg.ipv4_gateway = t->routers[k].port_ipv4[p];
            }
        if (h->sndbuf_bytes) cfg.tcp_sndbuf_bytes = h->sndbuf_bytes;
        if (h->rcvbuf_bytes) cfg.tcp_rcvbuf_bytes = cfg.tcp_ooo_max_bytes = h->rcvbuf_bytes;
        cfg.tcp_mss = h->mss;
        cfg.tcp_max_conns = 4096;
        cfg.tcp_msl_ns = 5 * TB_NS_PER_S;
        cfg.buf_count = cfg.tcp_sndbuf_bytes / 1024 + 2 * (cfg.tcp_rcvbuf_bytes / 512) + 4096;
        cfg.tx_queue_len = 4096;
        const char *why;
        if (tb_config_check(&cfg, &why) != TB_OK) SETUP_FAIL("host %s: %s", h->name, why);
        hosts[i] = sim_add_host(sim, h->name, &cfg);
        if (hosts[i] == NULL) SETUP_FAIL("host %s: could not be built", h->name);
    }
    for (int i = 0; i < t->nlinks; i++) {
        struct topo_link *l = &t->links[i];
        int ha = find_host(t, l->a), hb = find_host(t, l->b), ra = find_router(t, l->a), rb = find_router(t, l->b);
        if (ha < 0 && ra < 0) SETUP_FAIL("link %s-%s: no host or router named '%s'", l->a, l->b, l->a);
        if (hb < 0 && rb < 0) SETUP_FAIL("link %s-%s: no host or router named '%s'", l->a, l->b, l->b);
        int id = -1;
        if (ha >= 0 && hb >= 0) {
            id = sim_connect(sim, hosts[ha], hosts[hb], &l->ab);
        } else if (ha >= 0 || hb >= 0) {
            int hi = ha >= 0 ? ha : hb, ri = ha >= 0 ? rb : ra;
            int port = port_on(&t->routers[ri], t->hosts[hi].ipv4);
            if (port < 0) SETUP_FAIL("link %s-%s: router %s has no port on %s's subnet", l->a, l->b,
                                     t->routers[ri].name, t->hosts[hi].name);
            id = sim_connect_host_router(sim, hosts[hi], routers[ri], port, ha >= 0 ? &l->ab : &l->ba);
            if (id >= 0) sim_link_set_params(sim, id, 0, ha >= 0 ? &l->ba : &l->ab);
        } else {
            int pa, pb;
            if (!shared_ports(&t->routers[ra], &t->routers[rb], &pa, &pb))
                SETUP_FAIL("link %s-%s: the routers share no subnet", l->a, l->b);
            id = sim_connect_routers(sim, routers[ra], pa, routers[rb], pb, &l->ab);
        }
        if (id < 0) SETUP_FAIL("link %s-%s: an end is already linked (a host has one link; a router port one)", l->a, l->b);
        if (ha >= 0 && hb >= 0) sim_link_set_params(sim, id, 0, &l->ba);
        else if (ha < 0 && hb < 0) sim_link_set_params(sim, id, 0, &l->ba);
        link_ids[i] = id;
    }
    /* Routes: for each router and each subnet it lacks, the first router on
     * a fewest-hops path to the router that owns the subnet. */
    for (int ri = 0; ri < t->nrouters; ri++) {
        for (int oj = 0; oj < t->nrouters; oj++) {
            if (oj == ri) continue;
            int prev[TOPO_MAX_ROUTERS], queue[TOPO_MAX_ROUTERS], head = 0, tail = 0;
            for (int k = 0; k < t->nrouters; k++) prev[k] = -2;
            prev[ri] = -1;
            queue[tail++] = ri;
            while (head < tail && prev[oj] == -2) {
                int u = queue[head++];
                for (int li = 0; li < t->nlinks; li++) {
                    int a = find_router(t, t->links[li].a), b = find_router(t, t->links[li].b);
                    int v = a == u ? b : b == u ? a : -1;
                    if (a < 0 || b < 0 || v < 0 || prev[v] != -2) continue;
                    prev[v] = u;
                    queue[tail++] = v;
                }
            }
            if (prev[oj] == -2) continue;   /* unreachable: flows that need it fail to connect */
            int hop = oj;
            while (prev[hop] != ri) hop = prev[hop];
            int pa, pb;
            shared_ports(&t->routers[ri], &t->routers[hop], &pa, &pb);
            for (int p = 0; p < t->routers[oj].nports; p++) {
                if (port_on(&t->routers[ri], t->routers[oj].port_ipv4[p]) >= 0) continue;   /* connected */
                sim_router_add_route(routers[ri], t->routers[oj].port_ipv4[p], t->routers[oj].port_prefix_len[p], pa,
                                     t->routers[hop].port_ipv4[pb]);
            }
        }
    }
    for (int i = 0; i < t->nfaults; i++) {
        struct fault_spec fs;
        char err[256];
        if (!fault_parse(t->faults[i], &fs, err, sizeof(err)) || !sim_add_fault(sim, &fs, err, sizeof(err)))
            SETUP_FAIL("%s", err);
    }
    sim_on_fault(sim, count_fault, &fc);
    if (out != NULL && out->fault_log != NULL) sim_fault_log(sim, out->fault_log);
    if (out != NULL && out->trace_cc != NULL)
        fprintf(out->trace_cc, "time_ns,host,conn,event,reason,state,cwnd_bytes,ssthresh_bytes,flight_bytes,"
                               "snd_wnd_bytes,srtt_ns,rto_ns,snd_una,snd_nxt\n");
    for (int i = 0; i < t->nhosts; i++) {
        if (out != NULL && out->trace_cc != NULL) {
            traces[i].f = out->trace_cc;
            traces[i].host = t->hosts[i].name;
            tb_stack_set_trace(sim_host_stack(hosts[i]), write_trace, &traces[i]);
        }
        if (out != NULL && out->pcap_dir != NULL) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s.pcap", out->pcap_dir, t->hosts[i].name);
            pcaps[i] = tb_pcap_open(path, r->error, sizeof(r->error));
            if (pcaps[i] == NULL) goto fail;
            sim_host_capture(hosts[i], pcaps[i]);
        }
    }
    w = wl_new(sim, t->seed);
    if (w == NULL) SETUP_FAIL("out of memory");
    for (int i = 0; i < t->nflows; i++) {
        struct topo_flow *tf = &t->flows[i];
        int c = find_host(t, tf->client), s = find_host(t, tf->server);
        if (c < 0 || s < 0) SETUP_FAIL("flow %s: no host named '%s'", tf->f.name, c < 0 ? tf->client : tf->server);
        tf->f.client = hosts[c];
        tf->f.server = hosts[s];
        tf->f.server_ipv4 = t->hosts[s].ipv4;
        char err[256];
        if (!wl_add_flow(w, &tf->f, err, sizeof(err))) SETUP_FAIL("%s", err);
    }
    wl_attach(w);
    sim_run(sim, t->time_limit_ns);
    wl_finish(w);

    r->pass = true;
    r->sim_time_ns = sim_now(sim);
    r->events = sim_events_processed(sim);
    r->faults_fired = fc.n;
    double sum = 0, sq = 0;
    int nbulk = 0;
    for (int i = 0; i < t->nflows; i++) {
        struct wl_flow *f = &t->flows[i].f;
        if (f->failure[0] != '\0' && r->pass) {
            r->pass = false;
            snprintf(r->failure, sizeof(r->failure), "flow %s: %s", f->name, f->failure);
        }
        if (f->kind == WL_BULK && f->end_ns > f->start_ns) {
            double g = (double)f->delivered * 8 / ((double)(f->end_ns - f->start_ns) / 1e9);
            sum += g;
            sq += g * g;
            nbulk++;
        }
    }
    r->fairness = nbulk > 0 && sq > 0 ? sum * sum / (nbulk * sq) : 0;
    for (int i = 0; i < t->nhosts; i++) {
        const char *why;
        tb_stack_stats(sim_host_stack(hosts[i]), &r->host_stats[i]);
        if (!tb_stack_check(sim_host_stack(hosts[i]), &why) && r->pass) {
            r->pass = false;
            snprintf(r->failure, sizeof(r->failure), "host %s self-check: %s", t->hosts[i].name, why);
        }
    }
    for (int i = 0; i < t->nlinks; i++)
        for (int d = 0; d < 2; d++) {
            struct topo_link_result *lr = &r->links[r->nlinks++];
            snprintf(lr->name, sizeof(lr->name), "%s>%s", d == 0 ? t->links[i].a : t->links[i].b,
                     d == 0 ? t->links[i].b : t->links[i].a);
            sim_link_stats(sim, link_ids[i], d == 0, &lr->stats);
            r->packets += lr->stats.delivered;
        }
    for (int i = 0; i < t->nrouters; i++) sim_router_get_stats(routers[i], &r->router_stats[i]);
    for (int i = 0; i < t->nhosts; i++)
        if (pcaps[i] != NULL) tb_pcap_close(pcaps[i], r->error, sizeof(r->error));
    wl_free(w);
    sim_free(sim);
    return 0;
fail:
    for (int i = 0; i < t->nhosts; i++)
        if (pcaps[i] != NULL) {
            char ignore[64];
            tb_pcap_close(pcaps[i], ignore, sizeof(ignore));
        }
    wl_free(w);
    sim_free(sim);
    return -1;
}

void topo_dumbbell(struct topo *t, const struct dumbbell_opts *o) {
    int n = o->pairs < 15 ? o->pairs : 15;   /* one router port each, plus the bottleneck */
    struct sim_link_params access = {.delay_ns = o->access_delay_ns, .rate_bps = o->access_rate_bps,
                                     .queue_bytes = 4u << 20};
    struct topo_router *r1 = &t->routers[t->nrouters++], *r2 = &t->routers[t->nrouters++];
    snprintf(r1->name, sizeof(r1->name), "R1");
    snprintf(r2->name, sizeof(r2->name), "R2");
    /* The bottleneck subnet 10.0.0.0/30; pair i uses 10.1.i.0/24 and 10.2.i.0/24. */
    r1->port_ipv4[0] = 0x0a000001u;
    r1->port_prefix_len[0] = 30;
    r2->port_ipv4[0] = 0x0a000002u;
    r2->port_prefix_len[0] = 30;
    r1->nports = r2->nports = 1;
    struct topo_link *b = &t->links[t->nlinks++];
    snprintf(b->a, sizeof(b->a), "R1");
    snprintf(b->b, sizeof(b->b), "R2");
    b->ab = o->bottleneck_ab;
    b->ba = o->bottleneck_ba;
    for (int i = 0; i < n; i++) {
        uint32_t sub = (uint32_t)(i + 1) << 8;
        r1->port_ipv4[r1->nports] = 0x0a0100feu | sub;
        r1->port_prefix_len[r1->nports++] = 24;
        r2->port_ipv4[r2->nports] = 0x0a0200feu | sub;
        r2->port_prefix_len[r2->nports++] = 24;
        struct topo_host *s = &t->hosts[t->nhosts++], *d = &t->hosts[t->nhosts++];
        snprintf(s->name, sizeof(s->name), "S%d", i + 1);
        snprintf(d->name, sizeof(d->name), "D%d", i + 1);
        s->ipv4 = 0x0a010001u | sub;
        d->ipv4 = 0x0a020001u | sub;
        s->prefix_len = d->prefix_len = 24;
        struct topo_link *ls = &t->links[t->nlinks++], *ld = &t->links[t->nlinks++];
        snprintf(ls->a, sizeof(ls->a), "S%d", i + 1);
        snprintf(ls->b, sizeof(ls->b), "R1");
        ls->ab = ls->ba = access;
        snprintf(ld->a, sizeof(ld->a), "R2");
        snprintf(ld->b, sizeof(ld->b), "D%d", i + 1);
        ld->ab = ld->ba = access;
        struct topo_flow *f = &t->flows[t->nflows++];
        memset(f, 0, sizeof(*f));
        snprintf(f->client, sizeof(f->client), "S%d", i + 1);
        snprintf(f->server, sizeof(f->server), "D%d", i + 1);
        f->f.kind = o->nkinds > 0 ? o->kinds[i % o->nkinds] : WL_BULK;
        snprintf(f->f.name, sizeof(f->f.name), "%s%d", wl_kind_name(f->f.kind), i + 1);
        f->f.bytes = o->bytes;
        f->f.resp_bytes = o->resp_bytes;
        f->f.count = o->count;
        f->f.parallel = o->parallel;
        f->f.think_ns = o->think_ns;
        f->f.duration_ns = f->f.kind == WL_BULK ? o->duration_ns : 0;
        f->f.start_ns = (tb_time_ns)i * o->stagger_ns;
    }
}
