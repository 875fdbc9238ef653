#include "sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include "harness/host/host.h"
#include "harness/lib/ipmap.h"
#include "harness/lib/timeq.h"
#include "sim/faults.h"
#include "sim/link.h"
#include "sim/rng.h"
#include "tcpbed/assert.h"
#include "tcpbed/prng.h"
#include "traces/pcap_writer.h"

#define SIM_MAX_FAULTS 256


/* A frame on the wire: the sim's own copy of the bytes, as a real wire
 * would have, so faults never touch the sender's buffers. */
struct sim_frame {
    struct sim_frame *next_free;
    struct link_dir *dir;
    uint32_t len;
    uint8_t bytes[TB_ETH_MAX_FRAME];
};

struct sim_router;

struct link_dir {
    struct sim_host *to;              /* the receiving host, or NULL for a router */
    struct sim_router *to_router;
    int to_port;
    struct link_model m;              /* what the direction does to a frame (sim/link.h) */
};

struct sim_link {
    struct link_dir dir[2];           /* [0] a->b, [1] b->a */
};

/* A simulated host is a host (harness/host) over a simulated port: the
 * port hands it the frame that just arrived and puts what it sends on the
 * link leaving it; the simulator is its environment (clock, wake-ups,
 * application timers on the one event queue). */
struct sim_host {
    struct sim *sim;
    char name[16];
    uint32_t ipv4;
    struct tb_mac mac;
    struct tb_host *host;
    struct link_dir *tx;              /* the link direction leaving this host */
    struct sim_frame *rx_frame;       /* the frame arriving now, for the port's rx_burst */
    int captures;
    sim_app_fn app;                   /* an application written against the simulator (tests) */
    void *app_ctx;
    uint64_t wake_gen;                /* a wake-up event is current only if its arg matches */
    tb_time_ns wake_at;
};

/* An application timer of a host, waiting on the event queue. */
struct host_timer_rec {
    struct host_timer_rec *next_free;
    struct tb_host *h;
    tb_host_timer_fn fn;
    void *ctx;
    uint64_t arg;
};

/* A forwarding node, not a stack: it answers ARP for its own addresses,
 * checks and forwards IPv4 by longest prefix, and knows its neighbours'
 * MACs from the topology (learning more from ARP requests it sees). Its
 * output queues are the queues of the links it sends on. Ports, routes and
 * neighbours grow as needed; forwarding and neighbour look-ups are hashed
 * (harness/lib/ipmap.h), so a router with thousands of ports forwards in O(1). */
struct sim_router_port {
    uint32_t ipv4, mask;
    struct tb_mac mac;
    struct link_dir *tx;
};
struct sim_route {
    uint32_t prefix, mask, via;
    int port;
};
struct sim_neigh {
    uint32_t ipv4;
    struct tb_mac mac;
};
struct sim_router {
    char name[16];
    int index;
    struct sim_router_port *ports;
    int nports, cap_ports;
    struct sim_route *routes;
    int nroutes, cap_routes;
    /* (prefix, len) -> port p (a connected subnet: value p) or route r
     * (value SIM_ROUTE_BASE + r). A connected subnet wins over a route to
     * the same prefix, and the first of equal routes wins, as in a scan. */
    struct lpm fib;
    struct sim_neigh *neigh;
    int nneigh, cap_neigh;
    struct ipmap neigh_index;         /* ipv4 -> index in neigh */
    struct ipmap port_addrs;          /* the ports' own addresses -> port */
    struct sim_router_stats stats;
};
#define SIM_ROUTE_BASE (1 << 30)
#define SIM_MAX_NEIGHBOURS (1 << 24)

struct sim {
    uint64_t seed;
    tb_time_ns now;
    struct tb_timeq events;           /* (time, sequence): fn is a sim_event_fn */
    uint64_t events_processed;
    bool stopped;
    struct sim_host **hosts;
    size_t host_count, host_cap;
    struct sim_router **routers;
    size_t router_count, router_cap;
    struct sim_link **links;          /* each allocated once: link_dir pointers stay valid */
    size_t link_count, link_cap;
    struct sim_frame *free_frames;
    struct host_timer_rec *free_timers;
    struct fault_spec *faults[SIM_MAX_FAULTS];
    size_t fault_count;
    sim_fault_fn on_fault;
    void *on_fault_ctx;
    FILE *fault_log;
    uint64_t faults_fired;
    /* Links classify frames only when something names them (targeted
     * faults, the fault log, the shrinker's callback); decided before the
     * first frame, since the counts behind every `#N` start there. */
    bool names_frames;
    bool frames_seen;
};

/* ---- the event queue ------------------------------------------------------ */
#define SIM_MAX_EVENTS ((size_t)1 << 30)

void sim_at(struct sim *sim, tb_time_ns t, sim_event_fn fn, void *ctx, uint64_t arg) {
    TB_ASSERT(t >= sim->now);
    tb_timeq_push(&sim->events, t, (tb_timeq_fn)fn, ctx, arg);
}

static void frame_arrives(struct sim *sim, void *ctx, uint64_t arg);
static void host_timer_due(struct sim *sim, void *ctx, uint64_t arg);

/* ---- setup ------------------------------------------------------------- */
struct sim *sim_new(uint64_t seed) {
    struct sim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL) return NULL;
    sim->seed = seed;
    tb_timeq_init(&sim->events, SIM_MAX_EVENTS);
    return sim;
}

void sim_free(struct sim *sim) {
    if (sim == NULL) return;
    for (size_t i = 0; i < sim->host_count; i++) {
        tb_host_free(sim->hosts[i]->host);
        free(sim->hosts[i]);
    }
    for (size_t i = 0; i < sim->router_count; i++) {
        struct sim_router *r = sim->routers[i];
        free(r->ports);
        free(r->routes);
        free(r->neigh);
        lpm_free(&r->fib);
        ipmap_free(&r->neigh_index);
        ipmap_free(&r->port_addrs);
        free(r);
    }
    for (size_t i = 0; i < sim->events.len; i++) {   /* frames in flight, timers not yet due */
        const struct tb_timeq_item *ev = &sim->events.items[i];
        if (ev->fn == (tb_timeq_fn)frame_arrives || ev->fn == (tb_timeq_fn)host_timer_due) free(ev->ctx);
    }
    for (size_t i = 0; i < sim->link_count; i++) free(sim->links[i]);
    free(sim->hosts);
    free(sim->routers);
    free(sim->links);
    for (size_t i = 0; i < sim->fault_count; i++) free(sim->faults[i]);
    tb_timeq_free(&sim->events);
    while (sim->free_frames != NULL) {
        struct sim_frame *f = sim->free_frames;
        sim->free_frames = f->next_free;
        free(f);
    }
    while (sim->free_timers != NULL) {
        struct host_timer_rec *t = sim->free_timers;
        sim->free_timers = t->next_free;
        free(t);
    }
    free(sim);
}

tb_time_ns sim_now(const struct sim *sim) { return sim->now; }
uint64_t sim_events_processed(const struct sim *sim) { return sim->events_processed; }
uint64_t sim_faults_fired(const struct sim *sim) { return sim->faults_fired; }



/* Makes room for one more element of a growing array; ok = false on out of memory. */
#define SIM_GROW(arr, count, cap, ok)                                    \
    do {                                                                 \
        if ((size_t)(count) >= (size_t)(cap)) {                          \
            size_t n_ = (cap) > 0 ? (size_t)(cap) * 2 : 16;              \
            void *a_ = realloc((arr), n_ * sizeof(*(arr)));              \
            if (a_ == NULL) {                                            \
                (ok) = false;                                            \
            } else {                                                     \
                (arr) = a_;                                              \
                (cap) = n_;                                              \
            }                                                            \
        }                                                                \
    } while (0)

static tb_time_ns env_now(void *env) { return ((const struct sim *)env)->now; }

static void env_stop(void *env) { sim_stop(env); }

static void host_timer_due(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct host_timer_rec *t = ctx;
    struct host_timer_rec copy = *t;
    t->next_free = sim->free_timers;
    sim->free_timers = t;
    tb_host_fire(copy.h, copy.fn, copy.ctx, copy.arg);
}

/* Application timers share the one event queue, so every host's timers and
 * every frame keep a single (time, sequence) order. */
static void env_at(void *env, struct tb_host *h, tb_time_ns t, tb_host_timer_fn fn, void *ctx, uint64_t arg) {
    struct sim *sim = env;
    struct host_timer_rec *rec = sim->free_timers;
    if (rec != NULL) sim->free_timers = rec->next_free;
    else rec = malloc(sizeof(*rec));
    TB_ASSERT(rec != NULL);
    *rec = (struct host_timer_rec){.h = h, .fn = fn, .ctx = ctx, .arg = arg};
    sim_at(sim, t, host_timer_due, rec, 0);
}

static void host_wake(struct sim *sim, void *ctx, uint64_t gen) {
    (void)sim;
    struct sim_host *h = ctx;
    if (gen != h->wake_gen) return;   /* superseded by a later re-arm */
    h->wake_at = TB_TIME_NEVER;
    tb_host_kick(h->host);
}

/* One wake-up event per host at a time: a new deadline supersedes it. */
static void env_wake_at(void *env, struct tb_host *host, tb_time_ns next);

static const struct tb_host_env_ops sim_env_ops = {
    .now = env_now, .at = env_at, .wake_at = env_wake_at, .stop = env_stop};

static size_t port_rx_burst(void *port, struct tb_host *host, struct tb_buf **frames, size_t max);
static void port_tx_burst(void *port, struct tb_host *host, struct tb_buf *const *frames, size_t n);
static const struct tb_port_ops sim_port_ops = {.rx_burst = port_rx_burst, .tx_burst = port_tx_burst};

struct sim_host *sim_add_host(struct sim *sim, const char *name, const struct tb_config *cfg) {
    bool ok = true;
    SIM_GROW(sim->hosts, sim->host_count, sim->host_cap, ok);
    if (!ok) return NULL;
    struct sim_host *h = calloc(1, sizeof(*h));
    if (h == NULL) return NULL;
    struct tb_host_params hp = {.name = name, .cfg = cfg, .port_ops = &sim_port_ops, .port = h,
                                .env_ops = &sim_env_ops, .env = sim};
    h->host = tb_host_new(&hp);
    if (h->host == NULL) {
        free(h);
        return NULL;
    }
    h->sim = sim;
    strncpy(h->name, name, sizeof(h->name) - 1);
    h->ipv4 = cfg->ipv4_addr;
    h->mac = cfg->mac;
    h->wake_at = TB_TIME_NEVER;
    sim->hosts[sim->host_count++] = h;
    return h;
}

struct tb_host *sim_host_host(struct sim_host *h) { return h->host; }
struct tb_stack *sim_host_stack(struct sim_host *h) { return tb_host_stack(h->host); }
const char *sim_host_name(const struct sim_host *h) { return h->name; }
bool sim_host_capture(struct sim_host *h, struct tb_pcap_writer *w) {
    if (h->captures == SIM_HOST_CAPTURES || !tb_pcap_attach(h->host, w)) return false;
    h->captures++;
    return true;
}

static void sim_app_trampoline(struct tb_host *host, void *ctx) {
    (void)host;
    struct sim_host *h = ctx;
    h->app(h->sim, h, h->app_ctx);
}

void sim_host_set_app(struct sim_host *h, sim_app_fn fn, void *ctx) {
    h->app = fn;
    h->app_ctx = ctx;
    tb_host_set_app(h->host, fn != NULL ? sim_app_trampoline : NULL, h);
}

static void dir_init(struct sim *sim, struct link_dir *d, const char *from, const char *to, uint64_t index) {
    link_model_init(&d->m, from, to, sim->seed, index);
}

static void dir_set_params(struct link_dir *d, const struct sim_link_params *p) { link_model_set_params(&d->m, p); }

/* A new link: direction 0 goes from the first end to the second. */
static struct sim_link *link_new(struct sim *sim, const char *a_name, const char *b_name,
                                 const struct sim_link_params *p, int *id_out) {
    bool ok = sim->link_count < INT32_MAX;
    SIM_GROW(sim->links, sim->link_count, sim->link_cap, ok);
    if (!ok) return NULL;
    int id = (int)sim->link_count;
    struct sim_link *l = calloc(1, sizeof(*l));
    if (l == NULL) return NULL;
    sim->links[sim->link_count++] = l;
    dir_init(sim, &l->dir[0], a_name, b_name, (uint64_t)id * 2);
    dir_init(sim, &l->dir[1], b_name, a_name, (uint64_t)id * 2 + 1);
    dir_set_params(&l->dir[0], p);
    dir_set_params(&l->dir[1], p);
    *id_out = id;
    return l;
}

int sim_connect(struct sim *sim, struct sim_host *a, struct sim_host *b, const struct sim_link_params *p) {
    if (a->tx != NULL || b->tx != NULL) return -1;
    int id;
    struct sim_link *l = link_new(sim, a->name, b->name, p, &id);
    if (l == NULL) return -1;
    l->dir[0].to = b;
    l->dir[1].to = a;
    a->tx = &l->dir[0];
    b->tx = &l->dir[1];
    return id;
}

static void router_learn(struct sim_router *r, uint32_t ipv4, const struct tb_mac *mac) {
    int32_t i = ipmap_get(&r->neigh_index, ipv4);
    if (i >= 0) {
        r->neigh[i].mac = *mac;
        return;
    }
    bool ok = r->nneigh < SIM_MAX_NEIGHBOURS;
    SIM_GROW(r->neigh, r->nneigh, r->cap_neigh, ok);
    if (!ok || !ipmap_put(&r->neigh_index, ipv4, r->nneigh)) return;   /* full: like a full table, unknown */
    r->neigh[r->nneigh].ipv4 = ipv4;
    r->neigh[r->nneigh].mac = *mac;
    r->nneigh++;
}

struct sim_router *sim_add_router(struct sim *sim, const char *name) {
    bool ok = true;
    SIM_GROW(sim->routers, sim->router_count, sim->router_cap, ok);
    if (!ok) return NULL;
    struct sim_router *r = calloc(1, sizeof(*r));
    if (r == NULL) return NULL;
    lpm_init(&r->fib);
    ipmap_init(&r->neigh_index);
    ipmap_init(&r->port_addrs);
    strncpy(r->name, name, sizeof(r->name) - 1);
    r->index = (int)sim->router_count;
    sim->routers[sim->router_count++] = r;
    return r;
}

const char *sim_router_name(const struct sim_router *r) { return r->name; }

int sim_router_add_port(struct sim_router *r, uint32_t ipv4, uint8_t prefix_len) {
    bool ok = r->nports < SIM_ROUTE_BASE && prefix_len > 0 && prefix_len <= 32;
    if (ok) SIM_GROW(r->ports, r->nports, r->cap_ports, ok);
    if (!ok) return -1;
    int p = r->nports;
    /* A connected subnet replaces a route to the same prefix; the first
     * port on a subnet keeps it. */
    int32_t had = lpm_get_exact(&r->fib, ipv4, prefix_len);
    if ((had < 0 || had >= SIM_ROUTE_BASE) && !lpm_put(&r->fib, ipv4, prefix_len, p)) return -1;
    if (ipmap_get(&r->port_addrs, ipv4) < 0 && !ipmap_put(&r->port_addrs, ipv4, p)) return -1;
    r->nports++;
    memset(&r->ports[p], 0, sizeof(r->ports[p]));
    r->ports[p].ipv4 = ipv4;
    r->ports[p].mask = lpm_mask(prefix_len);
    /* Locally administered: 02:<router hi>:<port hi>:01:<router>:<port>
     * (02:00:00:01:<router>:<port> below 256 routers and ports). */
    uint8_t mac[6] = {0x02, (uint8_t)(r->index >> 8), (uint8_t)(p >> 8), 0x01, (uint8_t)r->index, (uint8_t)p};
    memcpy(r->ports[p].mac.b, mac, 6);
    return p;
}

int sim_router_port_for(const struct sim_router *r, uint32_t ipv4) {
    for (int p = 0; p < r->nports; p++)
        if ((ipv4 & r->ports[p].mask) == (r->ports[p].ipv4 & r->ports[p].mask)) return p;
    return -1;
}

uint32_t sim_router_port_ip(const struct sim_router *r, int port) { return r->ports[port].ipv4; }

int sim_connect_host_router(struct sim *sim, struct sim_host *h, struct sim_router *r, int port,
                            const struct sim_link_params *p) {
    if (h->tx != NULL || port < 0 || port >= r->nports || r->ports[port].tx != NULL) return -1;
    int id;
    struct sim_link *l = link_new(sim, h->name, r->name, p, &id);
    if (l == NULL) return -1;
    l->dir[0].to_router = r;
    l->dir[0].to_port = port;
    l->dir[1].to = h;
    h->tx = &l->dir[0];
    r->ports[port].tx = &l->dir[1];
    router_learn(r, h->ipv4, &h->mac);
    return id;
}

int sim_connect_routers(struct sim *sim, struct sim_router *a, int pa, struct sim_router *b, int pb,
                        const struct sim_link_params *p) {
    if (pa < 0 || pa >= a->nports || pb < 0 || pb >= b->nports || a->ports[pa].tx != NULL || b->ports[pb].tx != NULL)
        return -1;
    int id;
    struct sim_link *l = link_new(sim, a->name, b->name, p, &id);
    if (l == NULL) return -1;
    l->dir[0].to_router = b;
    l->dir[0].to_port = pb;
    l->dir[1].to_router = a;
    l->dir[1].to_port = pa;
    a->ports[pa].tx = &l->dir[0];
    b->ports[pb].tx = &l->dir[1];
    router_learn(a, b->ports[pb].ipv4, &b->ports[pb].mac);
    router_learn(b, a->ports[pa].ipv4, &a->ports[pa].mac);
    return id;
}

bool sim_router_add_route(struct sim_router *r, uint32_t prefix, uint8_t prefix_len, int port, uint32_t via) {
    bool ok = r->nroutes < SIM_ROUTE_BASE && port >= 0 && port < r->nports && prefix_len <= 32;
    if (ok) SIM_GROW(r->routes, r->nroutes, r->cap_routes, ok);
    if (!ok) return false;
    uint32_t mask = lpm_mask(prefix_len);
    /* A connected subnet or an earlier route to the same prefix wins. */
    if (lpm_get_exact(&r->fib, prefix, prefix_len) < 0 &&
        !lpm_put(&r->fib, prefix, prefix_len, SIM_ROUTE_BASE + r->nroutes))
        return false;
    r->routes[r->nroutes].prefix = prefix & mask;
    r->routes[r->nroutes].mask = mask;
    r->routes[r->nroutes].port = port;
    r->routes[r->nroutes].via = via;
    r->nroutes++;
    return true;
}

void sim_router_get_stats(const struct sim_router *r, struct sim_router_stats *out) { *out = r->stats; }

void sim_link_set_params(struct sim *sim, int link, int dir_a_to_b, const struct sim_link_params *p) {
    TB_ASSERT(link >= 0 && (size_t)link < sim->link_count);
    dir_set_params(&sim->links[link]->dir[dir_a_to_b ? 0 : 1], p);
}

static void frames_named(struct sim *sim) {
    TB_ASSERT(sim->names_frames || !sim->frames_seen);   /* frames already passed uncounted */
    sim->names_frames = true;
}

bool sim_add_fault(struct sim *sim, const struct fault_spec *f, char *err, size_t err_len) {
    bool found = false;
    for (size_t i = 0; i < sim->link_count && !found; i++)
        for (int d = 0; d < 2; d++) {
            struct link_dir *ld = &sim->links[i]->dir[d];
            if (strcmp(ld->m.faults.from, f->from) == 0 && strcmp(ld->m.faults.to, f->to) == 0) found = true;
        }
    if (!found) {
        snprintf(err, err_len, "fault names %s>%s, but no link joins %s and %s", f->from, f->to, f->from, f->to);
        return false;
    }
    if (sim->fault_count == SIM_MAX_FAULTS) {
        snprintf(err, err_len, "more than %d faults", SIM_MAX_FAULTS);
        return false;
    }
    struct fault_spec *copy = malloc(sizeof(*copy));
    TB_ASSERT(copy != NULL);
    *copy = *f;
    sim->faults[sim->fault_count++] = copy;
    frames_named(sim);
    return true;
}

void sim_on_fault(struct sim *sim, sim_fault_fn fn, void *ctx) {
    sim->on_fault = fn;
    if (fn != NULL) frames_named(sim);
    sim->on_fault_ctx = ctx;
}

void sim_fault_log(struct sim *sim, FILE *f) {
    sim->fault_log = f;
    if (f != NULL) frames_named(sim);
    if (f != NULL) fprintf(f, "time_ns,from,to,event,proto,kind,rel_seq,len,spec\n");
}

void sim_link_set_drop_hook(struct sim *sim, int link, int dir_a_to_b, sim_drop_fn fn, void *ctx) {
    TB_ASSERT(link >= 0 && (size_t)link < sim->link_count);
    struct link_dir *d = &sim->links[link]->dir[dir_a_to_b ? 0 : 1];
    d->m.drop_hook = fn;
    d->m.drop_ctx = ctx;
}

void sim_link_stats(const struct sim *sim, int link, int dir_a_to_b, struct sim_link_stats *out) {
    TB_ASSERT(link >= 0 && (size_t)link < sim->link_count);
    *out = sim->links[link]->dir[dir_a_to_b ? 0 : 1].m.stats;
}

/* ---- the wire ---------------------------------------------------------- */
static struct sim_frame *frame_get(struct sim *sim) {
    struct sim_frame *f = sim->free_frames;
    if (f != NULL) {
        sim->free_frames = f->next_free;
        return f;
    }
    f = malloc(sizeof(*f));
    TB_ASSERT(f != NULL);
    return f;
}

static void frame_put(struct sim *sim, struct sim_frame *f) {
    f->next_free = sim->free_frames;
    sim->free_frames = f;
}

static void router_receive(struct sim *sim, struct sim_router *r, int port, struct sim_frame *f);

/* The port's receive side: the frame arriving now, copied into a stack
 * buffer (a stack out of buffers drops it, as a NIC's full ring would). */
static size_t port_rx_burst(void *port, struct tb_host *host, struct tb_buf **frames, size_t max) {
    struct sim_host *h = port;
    struct sim_frame *f = h->rx_frame;
    if (f == NULL || max == 0) return 0;
    h->rx_frame = NULL;
    struct link_dir *d = f->dir;
    struct tb_buf *b = tb_host_alloc_rx(host, f->len);
    if (b == NULL) {
        d->m.stats.rx_nobuf_drops++;
        return 0;
    }
    memcpy(b->data, f->bytes, f->len);
    d->m.stats.delivered++;
    d->m.stats.bytes_delivered += f->len;
    frames[0] = b;
    return 1;
}

static void frame_arrives(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct sim_frame *f = ctx;
    struct link_dir *d = f->dir;
    if (d->to == NULL) {
        d->m.stats.delivered++;
        d->m.stats.bytes_delivered += f->len;
        router_receive(sim, d->to_router, d->to_port, f);
        return;
    }
    struct sim_host *h = d->to;
    h->rx_frame = f;
    tb_host_poll(h->host);
    h->rx_frame = NULL;
    frame_put(sim, f);
}

static const char *const proto_word[] = {"any", "tcp", "arp", "icmp"};

/* One event on a frame: to the fault log, and (for faults) to the shrinker
 * as the spec that reproduces it. */
static void note(void *ctx, const struct link_model *l, tb_time_ns now, const char *event, const struct frame_class *c,
                 size_t len, const char *spec) {
    struct sim *sim = ctx;
    if (spec != NULL) sim->faults_fired++;
    if (spec != NULL && sim->on_fault != NULL) sim->on_fault(sim->on_fault_ctx, now, spec);
    if (sim->fault_log != NULL) {
        fprintf(sim->fault_log, "%lld,%s,%s,%s,%s,%s,", (long long)now, l->faults.from, l->faults.to, event,
                proto_word[c->proto], fault_kind_name(c->primary));
        if (c->has_seq) fprintf(sim->fault_log, "%u", c->rel_seq);
        fprintf(sim->fault_log, ",%zu,%s\n", len, spec != NULL ? spec : "");
    }
}

static void link_send_frame(struct sim *sim, struct link_dir *d, struct sim_frame *f);

static void link_send(struct sim *sim, struct link_dir *d, const struct tb_buf *b) {
    size_t len = tb_buf_chain_len(b);
    TB_ASSERT(len <= TB_ETH_MAX_FRAME);
    struct sim_frame *f = frame_get(sim);
    f->len = (uint32_t)tb_buf_copy_out(b, 0, f->bytes, len);
    link_send_frame(sim, d, f);
}

/* Puts a frame the sim owns on a link direction: the link model decides
 * (sim/link.c), the event queue delivers. */
static void link_send_frame(struct sim *sim, struct link_dir *d, struct sim_frame *f) {
    f->dir = d;
    sim->frames_seen = true;
    const struct link_env env = {.specs = sim->faults, .nspecs = sim->fault_count, .names_frames = sim->names_frames,
                                 .note = note, .note_ctx = sim};
    struct link_delivery out;
    if (!link_model_offer(&d->m, &env, sim->now, f->bytes, f->len, &out)) {
        frame_put(sim, f);
        return;
    }
    if (out.duplicate) {
        struct sim_frame *copy = frame_get(sim);
        copy->dir = d;
        copy->len = f->len;
        memcpy(copy->bytes, f->bytes, f->len);
        sim_at(sim, out.arrival_ns, frame_arrives, copy, 0);
    }
    sim_at(sim, out.arrival_ns, frame_arrives, f, 0);
}

static bool router_neighbour(const struct sim_router *r, uint32_t ipv4, struct tb_mac *mac) {
    int32_t i = ipmap_get(&r->neigh_index, ipv4);
    if (i < 0) return false;
    *mac = r->neigh[i].mac;
    return true;
}

static void router_receive(struct sim *sim, struct sim_router *r, int port, struct sim_frame *f) {
    struct tb_eth_repr eth;
    size_t off;
    if (tb_eth_parse(f->bytes, f->len, &eth, &off) != TB_WIRE_OK ||
        (!tb_mac_equal(&eth.dst, &r->ports[port].mac) && !tb_mac_is_broadcast(&eth.dst))) {
        r->stats.dropped_not_for_us++;
        frame_put(sim, f);
        return;
    }
    if (eth.ethertype == TB_ETHERTYPE_ARP) {
        struct tb_arp_repr arp;
        if (tb_arp_parse(f->bytes + off, f->len - off, &arp) != TB_WIRE_OK) {
            r->stats.dropped_bad++;
            frame_put(sim, f);
            return;
        }
        if (arp.spa != 0 && !tb_mac_is_multicast(&arp.sha)) router_learn(r, arp.spa, &arp.sha);
        if (arp.op == TB_ARP_OP_REQUEST && arp.tpa == r->ports[port].ipv4 && r->ports[port].tx != NULL) {
            /* Answer in place: the same frame becomes the reply. */
            struct tb_arp_repr reply = {.op = TB_ARP_OP_REPLY, .sha = r->ports[port].mac, .spa = arp.tpa,
                                        .tha = arp.sha, .tpa = arp.spa};
            struct tb_eth_repr out = {.dst = arp.sha, .src = r->ports[port].mac, .ethertype = TB_ETHERTYPE_ARP};
            memset(f->bytes, 0, TB_ETH_MIN_FRAME);
            tb_eth_emit(&out, f->bytes);
            tb_arp_emit(&reply, f->bytes + TB_ETH_HDR_LEN);
            f->len = TB_ETH_MIN_FRAME;
            r->stats.arp_replies++;
            link_send_frame(sim, r->ports[port].tx, f);
            return;
        }
        frame_put(sim, f);
        return;
    }
    struct tb_ipv4_repr ip;
    if (eth.ethertype != TB_ETHERTYPE_IPV4 || tb_ipv4_parse(f->bytes + off, f->len - off, &ip) != TB_WIRE_OK) {
        r->stats.dropped_bad++;
        frame_put(sim, f);
        return;
    }
    if (ipmap_get(&r->port_addrs, ip.dst) >= 0) {   /* a router, not a host: nothing terminates here */
        r->stats.dropped_bad++;
        frame_put(sim, f);
        return;
    }
    if (ip.ttl <= 1) {
        r->stats.dropped_ttl++;
        frame_put(sim, f);
        return;
    }
    /* Longest prefix over connected subnets (/len of the port) and routes;
     * at equal length a connected subnet wins. */
    int out_port = -1;
    uint32_t next_hop = ip.dst;
    int32_t hit = lpm_lookup(&r->fib, ip.dst, NULL);
    if (hit >= SIM_ROUTE_BASE) {
        const struct sim_route *rt = &r->routes[hit - SIM_ROUTE_BASE];
        out_port = rt->port;
        next_hop = rt->via ? rt->via : ip.dst;
    } else if (hit >= 0) {
        out_port = hit;
    }
    struct tb_mac mac;
    if (out_port < 0 || r->ports[out_port].tx == NULL) {
        r->stats.dropped_no_route++;
        frame_put(sim, f);
        return;
    }
    if (!router_neighbour(r, next_hop, &mac)) {
        r->stats.dropped_no_neighbour++;
        frame_put(sim, f);
        return;
    }
    /* RFC 1812 §5.3.1: decrement the TTL, patch the checksum (RFC 1624). */
    tb_ipv4_rewrite_ttl(f->bytes + off, (uint8_t)(ip.ttl - 1));
    struct tb_eth_repr out = {.dst = mac, .src = r->ports[out_port].mac, .ethertype = TB_ETHERTYPE_IPV4};
    tb_eth_emit(&out, f->bytes);
    r->stats.forwarded++;
    link_send_frame(sim, r->ports[out_port].tx, f);
}

static void port_tx_burst(void *port, struct tb_host *host, struct tb_buf *const *frames, size_t n) {
    (void)host;
    struct sim_host *h = port;
    if (h->tx == NULL) return;
    for (size_t i = 0; i < n; i++) link_send(h->sim, h->tx, frames[i]);
}

static void env_wake_at(void *env, struct tb_host *host, tb_time_ns next) {
    struct sim *sim = env;
    struct sim_host *h = tb_host_port(host);
    TB_ASSERT(h->host == host);
    if (next != TB_TIME_NEVER && next != h->wake_at) {
        h->wake_at = next < sim->now ? sim->now : next;
        sim_at(sim, h->wake_at, host_wake, h, ++h->wake_gen);
    }
}

void sim_host_kick(struct sim *sim, struct sim_host *h) {
    (void)sim;
    tb_host_kick(h->host);
}

uint64_t sim_run(struct sim *sim, tb_time_ns until) {
    uint64_t processed = 0;
    sim->stopped = false;
    while (!sim->stopped && !tb_timeq_empty(&sim->events) && tb_timeq_top(&sim->events)->t <= until) {
        struct tb_timeq_item ev = tb_timeq_pop(&sim->events);
        sim->now = ev.t;
        ((sim_event_fn)ev.fn)(sim, ev.ctx, ev.arg);
        processed++;
    }
    sim->events_processed += processed;
    return processed;
}

void sim_stop(struct sim *sim) { sim->stopped = true; }
