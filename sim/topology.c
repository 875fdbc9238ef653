#include "sim/topology.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/lib/ipmap.h"
#include "sim/faults.h"
#include "traces/cc_trace.h"
#include "traces/pcap_writer.h"

void topo_init(struct topo *t) {
    memset(t, 0, sizeof(*t));
    t->seed = 1;
    t->time_limit_ns = 3600 * TB_NS_PER_S;
}

void topo_free(struct topo *t) {
    for (int i = 0; i < t->nrouters; i++) {
        free(t->routers[i].port_ipv4);
        free(t->routers[i].port_prefix_len);
    }
    free(t->hosts);
    free(t->routers);
    free(t->links);
    free(t->flows);
    free(t->faults);
    uint64_t seed = t->seed;
    tb_time_ns limit = t->time_limit_ns;
    memset(t, 0, sizeof(*t));
    t->seed = seed;
    t->time_limit_ns = limit;
}

/* Room for one more element of a growing array; false at max or out of memory. */
static bool grow(void **arr, int *cap, int count, int max, size_t elem) {
    if (count >= max) return false;
    if (count < *cap) return true;
    int n = *cap > 0 ? (*cap > max / 2 ? max : *cap * 2) : 8;
    void *a = realloc(*arr, (size_t)n * elem);
    if (a == NULL) return false;
    *arr = a;
    *cap = n;
    return true;
}

#define TOPO_ADD(t, arr, n, cap, max)                                                             \
    do {                                                                                          \
        void *p_ = (t)->arr;                                                                      \
        bool ok_ = grow(&p_, &(t)->cap, (t)->n, (max), sizeof(*(t)->arr));                        \
        (t)->arr = p_;                                                                            \
        if (!ok_) return NULL;                                                                    \
        memset(&(t)->arr[(t)->n], 0, sizeof(*(t)->arr));                                          \
        return &(t)->arr[(t)->n++];                                                               \
    } while (0)

struct topo_host *topo_add_host(struct topo *t) { TOPO_ADD(t, hosts, nhosts, cap_hosts, TOPO_MAX_HOSTS); }
struct topo_router *topo_add_router(struct topo *t) { TOPO_ADD(t, routers, nrouters, cap_routers, TOPO_MAX_ROUTERS); }
struct topo_link *topo_add_link(struct topo *t) { TOPO_ADD(t, links, nlinks, cap_links, TOPO_MAX_LINKS); }
struct topo_flow *topo_add_flow(struct topo *t) { TOPO_ADD(t, flows, nflows, cap_flows, TOPO_MAX_FLOWS); }

bool topo_add_fault(struct topo *t, const char *spec) {
    void *p = t->faults;
    bool ok = grow(&p, &t->cap_faults, t->nfaults, TOPO_MAX_FAULTS, sizeof(*t->faults));
    t->faults = p;
    if (!ok) return false;
    snprintf(t->faults[t->nfaults++], sizeof(t->faults[0]), "%s", spec);
    return true;
}

bool topo_router_add_port(struct topo_router *r, uint32_t ipv4, uint8_t prefix_len) {
    if (r->nports >= TOPO_MAX_ROUTER_PORTS) return false;
    if (r->nports == r->cap_ports) {
        int n = r->cap_ports > 0 ? r->cap_ports * 2 : 4;
        uint32_t *ip = realloc(r->port_ipv4, (size_t)n * sizeof(*ip));
        if (ip == NULL) return false;
        r->port_ipv4 = ip;
        uint8_t *len = realloc(r->port_prefix_len, (size_t)n);
        if (len == NULL) return false;
        r->port_prefix_len = len;
        r->cap_ports = n;
    }
    r->port_ipv4[r->nports] = ipv4;
    r->port_prefix_len[r->nports++] = prefix_len;
    return true;
}

void topo_result_free(struct topo_result *r) {
    free(r->host_stats);
    free(r->links);
    free(r->router_stats);
    r->host_stats = NULL;
    r->links = NULL;
    r->router_stats = NULL;
}

/* ---- indexes: names and router-port subnets, hashed ------------------- */
static uint64_t name_hash(const char *s) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) h = (h ^ (uint8_t)*s) * UINT64_C(0x100000001b3);
    return h;
}

/* Names -> index; a hash collision (different names, same 64-bit hash)
 * falls back to a scan, so a lookup is always exact. */
struct names {
    struct ipmap map;
    const char *base;             /* the first name; names are `stride` apart */
    size_t stride;
    int n;
};

static const char *name_at(const struct names *x, int i) { return x->base + (size_t)i * x->stride; }

static int names_find(const struct names *x, const char *name) {
    int32_t i = ipmap_get(&x->map, name_hash(name));
    if (i < 0) return -1;
    if (strcmp(name_at(x, i), name) == 0) return i;
    for (int k = 0; k < x->n; k++)
        if (strcmp(name_at(x, k), name) == 0) return k;
    return -1;
}

/* Indexes n names; -1 on out of memory, else the index of the first name
 * that repeats an earlier one, or n when all are distinct. */
static int names_build(struct names *x, const char *base, size_t stride, int n) {
    ipmap_init(&x->map);
    x->base = base;
    x->stride = stride;
    x->n = 0;
    for (int i = 0; i < n; i++) {
        const char *name = name_at(x, i);
        if (names_find(x, name) >= 0) return i;
        uint64_t h = name_hash(name);
        if (ipmap_get(&x->map, h) < 0 && !ipmap_put(&x->map, h, i)) return -1;
        x->n++;
    }
    return n;
}

/* The port of router r on ip's subnet (the longest match), or -1. */
static int port_on(const struct lpm *ports, uint32_t ip) { return lpm_lookup(ports, ip, NULL); }

/* Two routers' ports on one subnet: the link between them uses those. */
static bool shared_ports(const struct topo_router *a, const struct lpm *pa_idx, const struct topo_router *b,
                         const struct lpm *pb_idx, int *pa, int *pb) {
    for (int i = 0; i < a->nports; i++) {
        int j = port_on(pb_idx, a->port_ipv4[i]);
        if (j >= 0 && port_on(pa_idx, b->port_ipv4[j]) == i) {
            *pa = i;
            *pb = j;
            return true;
        }
    }
    return false;
}

#define SETUP_FAIL(...)                                          \
    do {                                                         \
        snprintf(r->error, sizeof(r->error), __VA_ARGS__);       \
        goto fail;                                               \
    } while (0)

int topo_run(struct topo *t, const struct topo_outputs *out, struct topo_result *r) {
    memset(r, 0, sizeof(*r));
    int nh = t->nhosts, nr = t->nrouters, nl = t->nlinks;
    struct sim *sim = sim_new(t->seed);
    struct wl *w = NULL;
    struct names host_names, router_names;
    ipmap_init(&host_names.map);
    ipmap_init(&router_names.map);
    struct sim_host **hosts = calloc((size_t)nh + 1, sizeof(*hosts));
    struct sim_router **routers = calloc((size_t)nr + 1, sizeof(*routers));
    struct lpm *ports = calloc((size_t)nr + 1, sizeof(*ports));   /* per router: its ports' subnets */
    struct tb_pcap_writer **pcaps = calloc((size_t)nh + 1, sizeof(*pcaps));
    struct tb_pcap_writer *one_pcap = NULL;
    struct tb_cc_trace *traces = calloc((size_t)nh + 1, sizeof(*traces));
    int *link_ids = calloc((size_t)nl + 1, sizeof(*link_ids));
    int *flow_host = calloc(2 * (size_t)t->nflows + 1, sizeof(*flow_host));   /* client, server index */
    uint32_t *need_conns = calloc((size_t)nh + 1, sizeof(*need_conns));
    uint32_t *need_listeners = calloc((size_t)nh + 1, sizeof(*need_listeners));
    uint32_t *need_active = calloc((size_t)nh + 1, sizeof(*need_active));
    /* Routes: the router graph (router-router links, in link order) and a BFS. */
    int *adj_start = calloc((size_t)nr + 2, sizeof(*adj_start));
    int *adj = calloc(2 * (size_t)nl + 1, sizeof(*adj));
    int *prev = calloc((size_t)nr + 1, sizeof(*prev)), *queue = calloc((size_t)nr + 1, sizeof(*queue));
    int *first_hop = calloc((size_t)nr + 1, sizeof(*first_hop));
    int *hop_pa = calloc((size_t)nr + 1, sizeof(*hop_pa)), *hop_pb = calloc((size_t)nr + 1, sizeof(*hop_pb));
    int *link_ra = calloc((size_t)nl + 1, sizeof(*link_ra)), *link_rb = calloc((size_t)nl + 1, sizeof(*link_rb));
    r->host_stats = calloc((size_t)nh + 1, sizeof(*r->host_stats));
    r->links = calloc(2 * (size_t)nl + 1, sizeof(*r->links));
    r->router_stats = calloc((size_t)nr + 1, sizeof(*r->router_stats));
    int nports_built = 0;
    if (sim == NULL || hosts == NULL || routers == NULL || ports == NULL || pcaps == NULL || traces == NULL ||
        link_ids == NULL || flow_host == NULL || need_conns == NULL || need_listeners == NULL || need_active == NULL ||
        adj_start == NULL ||
        adj == NULL || prev == NULL || queue == NULL || first_hop == NULL || hop_pa == NULL || hop_pb == NULL ||
        link_ra == NULL || link_rb == NULL || r->host_stats == NULL || r->links == NULL || r->router_stats == NULL)
        SETUP_FAIL("out of memory");
    int host_dup = names_build(&host_names, nh ? t->hosts[0].name : "", sizeof(t->hosts[0]), nh);
    int router_dup = names_build(&router_names, nr ? t->routers[0].name : "", sizeof(t->routers[0]), nr);
    if (host_dup < 0 || router_dup < 0) SETUP_FAIL("out of memory");
    /* Names are unique across hosts and routers. */
    for (int i = 0; i < nh; i++)
        if (names_find(&router_names, t->hosts[i].name) >= 0) SETUP_FAIL("'%s' is both a host and a router", t->hosts[i].name);
    if (router_dup < nr) SETUP_FAIL("router '%s' is defined twice", t->routers[router_dup].name);
    for (int i = 0; i < nr; i++) {
        lpm_init(&ports[i]);
        nports_built = i + 1;
        routers[i] = sim_add_router(sim, t->routers[i].name);
        if (routers[i] == NULL) SETUP_FAIL("too many routers");
        for (int p = 0; p < t->routers[i].nports; p++) {
            uint32_t ip = t->routers[i].port_ipv4[p];
            uint8_t len = t->routers[i].port_prefix_len[p];
            if (sim_router_add_port(routers[i], ip, len) < 0) SETUP_FAIL("router %s: bad port %d", t->routers[i].name, p + 1);
            /* The first port on a subnet keeps it. */
            if (lpm_get_exact(&ports[i], ip, len) < 0 && !lpm_put(&ports[i], ip, len, p)) SETUP_FAIL("out of memory");
        }
    }
    /* What each host's stack must hold: a connection slot per connection its
     * flows can have open or in TIME-WAIT at once, a listener per flow it
     * serves, and buffers for the connections moving data at once. */
    for (int i = 0; i < t->nflows; i++) {
        const struct topo_flow *tf = &t->flows[i];
        int c = names_find(&host_names, tf->client), s = names_find(&host_names, tf->server);
        flow_host[2 * i] = c;
        flow_host[2 * i + 1] = s;
        uint32_t conns = tf->f.kind == WL_CRR && tf->f.count > 1 ? tf->f.count : 1;
        uint32_t active = tf->f.kind == WL_CRR && tf->f.parallel > 1 ? tf->f.parallel : 1;
        if (active > conns) active = conns;
        for (int k = 0; k < 2; k++) {
            int hi = k == 0 ? c : s;
            if (hi < 0) continue;
            need_conns[hi] = need_conns[hi] + conns > 4096 ? 4096 : need_conns[hi] + conns;
            need_active[hi] = need_active[hi] + active > 4096 ? 4096 : need_active[hi] + active;
        }
        if (s >= 0) need_listeners[s]++;
    }
    for (int i = 0; i < nh; i++) {
        struct topo_host *h = &t->hosts[i];
        if (i == host_dup) SETUP_FAIL("host '%s' is defined twice", h->name);
        struct tb_config cfg;
        tb_config_default(&cfg);
        cfg.seed = tb_derive_seed(t->seed, "host", (uint64_t)i);
        uint32_t id = (uint32_t)i + 1;   /* 02:00:<id hi>:00:<id mid>:<id lo>; byte 3 is 01 for routers */
        uint8_t mac[6] = {0x02, 0, (uint8_t)(id >> 16), 0, (uint8_t)(id >> 8), (uint8_t)id};
        memcpy(cfg.mac.b, mac, 6);
        cfg.ipv4_addr = h->ipv4;
        cfg.ipv4_prefix_len = h->prefix_len;
        cfg.ipv4_gateway = h->gateway;
        if (cfg.ipv4_gateway == 0)
            for (int k = 0; k < nr; k++) {
                int p = port_on(&ports[k], h->ipv4);
                if (p >= 0) cfg.ipv4_gateway = t->routers[k].port_ipv4[p];
            }
        if (h->sndbuf_bytes) cfg.tcp_sndbuf_bytes = h->sndbuf_bytes;
        if (h->rcvbuf_bytes) cfg.tcp_rcvbuf_bytes = cfg.tcp_ooo_max_bytes = h->rcvbuf_bytes;
        cfg.tcp_mss = h->mss;
        cfg.tcp_ecn = h->ecn;
        /* Sized to the host's flows, so thousands of hosts cost linear memory. */
        cfg.tcp_max_conns = need_conns[i] + 32 > 4096 ? 4096 : need_conns[i] + 32;
        if (need_listeners[i] > cfg.tcp_max_listeners) cfg.tcp_max_listeners = need_listeners[i];
        cfg.tcp_msl_ns = 5 * TB_NS_PER_S;
        /* Each connection moving data: a send buffer's worth of 1 KiB pieces and
         * twice a receive buffer's of 512 bytes; 1024 more for frames in flight.
         * At most what one connection plus 4096 took before hosts were sized. */
        uint64_t per_conn = cfg.tcp_sndbuf_bytes / 1024 + 2 * (cfg.tcp_rcvbuf_bytes / 512);
        uint64_t bufs = per_conn * (need_active[i] > 0 ? need_active[i] : 1) + 1024;
        cfg.buf_count = (uint32_t)(bufs < per_conn + 4096 ? bufs : per_conn + 4096);
        cfg.tx_queue_len = cfg.buf_count < 4096 ? cfg.buf_count : 4096;
        const char *why;
        if (tb_config_check(&cfg, &why) != TB_OK) SETUP_FAIL("host %s: %s", h->name, why);
        hosts[i] = sim_add_host(sim, h->name, &cfg);
        if (hosts[i] == NULL) SETUP_FAIL("host %s: could not be built", h->name);
    }
    for (int i = 0; i < nl; i++) {
        struct topo_link *l = &t->links[i];
        int ha = names_find(&host_names, l->a), hb = names_find(&host_names, l->b);
        int ra = names_find(&router_names, l->a), rb = names_find(&router_names, l->b);
        link_ra[i] = ra;
        link_rb[i] = rb;
        if (ha < 0 && ra < 0) SETUP_FAIL("link %s-%s: no host or router named '%s'", l->a, l->b, l->a);
        if (hb < 0 && rb < 0) SETUP_FAIL("link %s-%s: no host or router named '%s'", l->a, l->b, l->b);
        int id = -1;
        if (ha >= 0 && hb >= 0) {
            id = sim_connect(sim, hosts[ha], hosts[hb], &l->ab);
        } else if (ha >= 0 || hb >= 0) {
            int hi = ha >= 0 ? ha : hb, ri = ha >= 0 ? rb : ra;
            int port = port_on(&ports[ri], t->hosts[hi].ipv4);
            if (port < 0) SETUP_FAIL("link %s-%s: router %s has no port on %s's subnet", l->a, l->b,
                                     t->routers[ri].name, t->hosts[hi].name);
            id = sim_connect_host_router(sim, hosts[hi], routers[ri], port, ha >= 0 ? &l->ab : &l->ba);
            if (id >= 0) sim_link_set_params(sim, id, 0, ha >= 0 ? &l->ba : &l->ab);
        } else {
            int pa, pb;
            if (!shared_ports(&t->routers[ra], &ports[ra], &t->routers[rb], &ports[rb], &pa, &pb))
                SETUP_FAIL("link %s-%s: the routers share no subnet", l->a, l->b);
            id = sim_connect_routers(sim, routers[ra], pa, routers[rb], pb, &l->ab);
        }
        if (id < 0) SETUP_FAIL("link %s-%s: an end is already linked (a host has one link; a router port one)", l->a, l->b);
        if (ha >= 0 && hb >= 0) sim_link_set_params(sim, id, 0, &l->ba);
        else if (ha < 0 && hb < 0) sim_link_set_params(sim, id, 0, &l->ba);
        link_ids[i] = id;
    }
    /* Routes: for each router and each subnet it lacks, the first router on
     * a fewest-hops path to the router that owns the subnet (a BFS from each
     * router over router-router links taken in link order). */
    for (int i = 0; i < nl; i++)
        if (link_ra[i] >= 0 && link_rb[i] >= 0) {
            adj_start[link_ra[i] + 1]++;
            adj_start[link_rb[i] + 1]++;
        }
    for (int i = 0; i < nr; i++) adj_start[i + 1] += adj_start[i];
    {
        int *fill = first_hop;   /* scratch: the next free slot per router */
        for (int i = 0; i < nr; i++) fill[i] = adj_start[i];
        for (int i = 0; i < nl; i++)
            if (link_ra[i] >= 0 && link_rb[i] >= 0) {
                adj[fill[link_ra[i]]++] = link_rb[i];
                adj[fill[link_rb[i]]++] = link_ra[i];
            }
    }
    for (int ri = 0; ri < nr; ri++) {
        int head = 0, tail = 0;
        for (int k = 0; k < nr; k++) {
            prev[k] = -2;
            hop_pa[k] = -2;   /* shared_ports(ri, k) not computed yet */
        }
        prev[ri] = -1;
        queue[tail++] = ri;
        while (head < tail) {
            int u = queue[head++];
            for (int e = adj_start[u]; e < adj_start[u + 1]; e++) {
                int v = adj[e];
                if (prev[v] != -2) continue;
                prev[v] = u;
                queue[tail++] = v;
            }
        }
        for (int oj = 0; oj < nr; oj++) {
            if (oj == ri || prev[oj] == -2) continue;   /* unreachable: flows that need it fail to connect */
            int hop = oj;
            while (prev[hop] != ri) hop = prev[hop];
            if (hop_pa[hop] == -2 && !shared_ports(&t->routers[ri], &ports[ri], &t->routers[hop], &ports[hop],
                                                   &hop_pa[hop], &hop_pb[hop]))
                hop_pa[hop] = hop_pb[hop] = 0;
            int pa = hop_pa[hop], pb = hop_pb[hop];
            for (int p = 0; p < t->routers[oj].nports; p++) {
                if (port_on(&ports[ri], t->routers[oj].port_ipv4[p]) >= 0) continue;   /* connected */
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
    if (out != NULL && out->on_fault != NULL) sim_on_fault(sim, out->on_fault, out->on_fault_ctx);
    if (out != NULL && out->fault_log != NULL) sim_fault_log(sim, out->fault_log);
    if (out != NULL && out->trace_cc != NULL)
        tb_cc_trace_header(out->trace_cc);
    if (out != NULL && out->pcap_path != NULL) {
        int ph = out->pcap_host != NULL ? names_find(&host_names, out->pcap_host) : nh > 0 ? 0 : -1;
        if (ph < 0) SETUP_FAIL("--pcap: no host named '%s' to capture on", out->pcap_host ? out->pcap_host : "(none)");
        one_pcap = tb_pcap_open(out->pcap_path, r->error, sizeof(r->error));
        if (one_pcap == NULL) {
            r->io_error = true;
            goto fail;
        }
        sim_host_capture(hosts[ph], one_pcap);
    }
    for (int i = 0; i < nh; i++) {
        if (out != NULL && out->trace_cc != NULL) {
            tb_cc_trace_attach(&traces[i], sim_host_host(hosts[i]), out->trace_cc);
        }
        if (out != NULL && out->pcap_dir != NULL) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s.pcap", out->pcap_dir, t->hosts[i].name);
            pcaps[i] = tb_pcap_open(path, r->error, sizeof(r->error));
            if (pcaps[i] == NULL) {
                r->io_error = true;
                goto fail;
            }
            if (!sim_host_capture(hosts[i], pcaps[i])) SETUP_FAIL("host %s: too many captures", t->hosts[i].name);
        }
    }
    w = wl_new(t->seed);
    if (w == NULL) SETUP_FAIL("out of memory");
    for (int i = 0; i < t->nflows; i++) {
        struct topo_flow *tf = &t->flows[i];
        int c = flow_host[2 * i], s = flow_host[2 * i + 1];
        if (c < 0 || s < 0) SETUP_FAIL("flow %s: no host named '%s'", tf->f.name, c < 0 ? tf->client : tf->server);
        tf->f.client = sim_host_host(hosts[c]);
        tf->f.server = sim_host_host(hosts[s]);
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
    r->faults_fired = sim_faults_fired(sim);
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
    for (int i = 0; i < nh; i++) {
        const char *why;
        tb_stack_stats(sim_host_stack(hosts[i]), &r->host_stats[i]);
        if (!tb_stack_check(sim_host_stack(hosts[i]), &why) && r->pass) {
            r->pass = false;
            snprintf(r->failure, sizeof(r->failure), "host %s self-check: %s", t->hosts[i].name, why);
        }
    }
    for (int i = 0; i < nl; i++)
        for (int d = 0; d < 2; d++) {
            struct topo_link_result *lr = &r->links[r->nlinks++];
            snprintf(lr->name, sizeof(lr->name), "%s>%s", d == 0 ? t->links[i].a : t->links[i].b,
                     d == 0 ? t->links[i].b : t->links[i].a);
            /* A host-router link is built host first: written router first
             * ([link R2-D1]), its a>b is the link's second direction. */
            bool flipped = link_ra[i] >= 0 && link_rb[i] < 0;
            sim_link_stats(sim, link_ids[i], flipped ? d == 1 : d == 0, &lr->stats);
            r->packets += lr->stats.delivered;
        }
    for (int i = 0; i < nr; i++) sim_router_get_stats(routers[i], &r->router_stats[i]);
    int rc = 0;
    if (one_pcap != NULL) {
        r->pcap_frames = tb_pcap_frames(one_pcap);
        if (tb_pcap_close(one_pcap, r->error, sizeof(r->error)) != 0) rc = -1;
        one_pcap = NULL;
    }
    for (int i = 0; i < nh; i++)
        if (pcaps[i] != NULL && tb_pcap_close(pcaps[i], r->error, sizeof(r->error)) != 0) rc = -1;
    if (rc != 0) r->io_error = true;
    wl_free(w);
    sim_free(sim);
    goto done;
fail:
    rc = -1;
    {
        char ignore[64];
        if (one_pcap != NULL) tb_pcap_close(one_pcap, ignore, sizeof(ignore));
        for (int i = 0; pcaps != NULL && i < nh; i++)
            if (pcaps[i] != NULL) tb_pcap_close(pcaps[i], ignore, sizeof(ignore));
    }
    wl_free(w);
    sim_free(sim);
done:
    for (int i = 0; i < nports_built; i++) lpm_free(&ports[i]);
    ipmap_free(&host_names.map);
    ipmap_free(&router_names.map);
    free(hosts);
    free(routers);
    free(ports);
    free(pcaps);
    free(traces);
    free(link_ids);
    free(flow_host);
    free(need_conns);
    free(need_listeners);
    free(need_active);
    free(adj_start);
    free(adj);
    free(prev);
    free(queue);
    free(first_hop);
    free(hop_pa);
    free(hop_pb);
    free(link_ra);
    free(link_rb);
    return rc;
}

bool topo_dumbbell(struct topo *t, const struct dumbbell_opts *o) {
    if (o->pairs < 1 || o->pairs > TOPO_DUMBBELL_MAX_PAIRS) return false;
    struct sim_link_params access = {.delay_ns = o->access_delay_ns, .rate_bps = o->access_rate_bps,
                                     .queue_bytes = 4u << 20};
    struct topo_router *r1 = topo_add_router(t), *r2;
    if (r1 == NULL) return false;
    snprintf(r1->name, sizeof(r1->name), "R1");
    if ((r2 = topo_add_router(t)) == NULL) return false;
    r1 = r2 - 1;
    snprintf(r2->name, sizeof(r2->name), "R2");
    /* The bottleneck subnet 10.0.0.0/30 (R1 .1, R2 .2). */
    if (!topo_router_add_port(r1, 0x0a000001u, 30) || !topo_router_add_port(r2, 0x0a000002u, 30)) return false;
    struct topo_link *b = topo_add_link(t);
    if (b == NULL) return false;
    snprintf(b->a, sizeof(b->a), "R1");
    snprintf(b->b, sizeof(b->b), "R2");
    b->ab = o->bottleneck_ab;
    b->ba = o->bottleneck_ba;
    for (int i = 0; i < o->pairs; i++) {
        /* Pair n = 256 blk + c: 10.(1+2 blk).c.0/24 and 10.(2+2 blk).c.0/24;
         * the router ports are .254, the hosts .1. */
        uint32_t n = (uint32_t)i + 1, blk = n >> 8, c = n & 255;
        uint32_t snet = (10u << 24) | ((1 + 2 * blk) << 16) | (c << 8), dnet = snet + (1u << 16);
        r1 = &t->routers[0];
        r2 = &t->routers[1];
        if (!topo_router_add_port(r1, snet | 254, 24) || !topo_router_add_port(r2, dnet | 254, 24)) return false;
        struct topo_host *s = topo_add_host(t), *d;
        if (s == NULL || (d = topo_add_host(t)) == NULL) return false;
        s = d - 1;
        snprintf(s->name, sizeof(s->name), "S%d", i + 1);
        snprintf(d->name, sizeof(d->name), "D%d", i + 1);
        s->ipv4 = snet | 1;
        d->ipv4 = dnet | 1;
        s->prefix_len = d->prefix_len = 24;
        struct topo_link *ls = topo_add_link(t), *ld;
        if (ls == NULL || (ld = topo_add_link(t)) == NULL) return false;
        ls = ld - 1;
        snprintf(ls->a, sizeof(ls->a), "S%d", i + 1);
        snprintf(ls->b, sizeof(ls->b), "R1");
        ls->ab = ls->ba = access;
        snprintf(ld->a, sizeof(ld->a), "R2");
        snprintf(ld->b, sizeof(ld->b), "D%d", i + 1);
        ld->ab = ld->ba = access;
        struct topo_flow *f = topo_add_flow(t);
        if (f == NULL) return false;
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
    return true;
}
