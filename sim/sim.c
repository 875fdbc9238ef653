#include "sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include "traces/pcap_writer.h"
#include "util/assert.h"

#define SIM_MAX_HOSTS 64
#define SIM_MAX_LINKS 64
#define SIM_TX_BURST 64

struct sim_event {
    tb_time_ns time;
    uint64_t seq;
    sim_event_fn fn;
    void *ctx;
    uint64_t arg;
};

/* A frame on the wire: the sim's own copy of the bytes, as a real wire
 * would have, so faults never touch the sender's buffers. */
struct sim_frame {
    struct sim_frame *next_free;
    struct link_dir *dir;
    uint32_t len;
    uint8_t bytes[TB_ETH_MAX_FRAME];
};

struct link_dir {
    struct sim_host *to;
    struct sim_link_params p;
    tb_time_ns busy_until;            /* when the transmitter finishes its backlog */
    uint64_t index;                   /* frames offered so far */
    sim_drop_fn drop_hook;
    void *drop_ctx;
    struct sim_link_stats stats;
};

struct sim_link {
    struct link_dir dir[2];           /* [0] a->b, [1] b->a */
};

struct sim_host {
    struct sim *sim;
    char name[16];
    struct tb_stack *st;
    struct link_dir *tx;              /* the link direction leaving this host */
    struct tb_pcap_writer *capture;
    sim_app_fn app;
    void *app_ctx;
    uint64_t wake_gen;                /* a wake-up event is current only if its arg matches */
    tb_time_ns wake_at;
};

struct sim {
    uint64_t seed;
    tb_time_ns now;
    struct sim_event *heap;
    size_t heap_len, heap_cap;
    uint64_t next_seq;
    uint64_t events_processed;
    bool stopped;
    struct sim_host *hosts[SIM_MAX_HOSTS];
    size_t host_count;
    struct sim_link links[SIM_MAX_LINKS];
    size_t link_count;
    struct sim_frame *free_frames;
};

/* ---- event queue: binary heap on (time, seq) --------------------------- */
static bool ev_before(const struct sim_event *a, const struct sim_event *b) {
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

void sim_at(struct sim *sim, tb_time_ns t, sim_event_fn fn, void *ctx, uint64_t arg) {
    TB_ASSERT(t >= sim->now);
    if (sim->heap_len == sim->heap_cap) {
        size_t cap = sim->heap_cap ? sim->heap_cap * 2 : 1024;
        struct sim_event *h = realloc(sim->heap, cap * sizeof(*h));
        TB_ASSERT(h != NULL);
        sim->heap = h;
        sim->heap_cap = cap;
    }
    struct sim_event ev = {.time = t, .seq = sim->next_seq++, .fn = fn, .ctx = ctx, .arg = arg};
    size_t i = sim->heap_len++;
    while (i > 0 && ev_before(&ev, &sim->heap[(i - 1) / 2])) {
        sim->heap[i] = sim->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    sim->heap[i] = ev;
}

static struct sim_event ev_pop(struct sim *sim) {
    struct sim_event top = sim->heap[0];
    struct sim_event last = sim->heap[--sim->heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= sim->heap_len) break;
        if (c + 1 < sim->heap_len && ev_before(&sim->heap[c + 1], &sim->heap[c])) c++;
        if (!ev_before(&sim->heap[c], &last)) break;
        sim->heap[i] = sim->heap[c];
        i = c;
    }
    if (sim->heap_len > 0) sim->heap[i] = last;
    return top;
}

static void frame_arrives(struct sim *sim, void *ctx, uint64_t arg);

/* ---- setup ------------------------------------------------------------- */
struct sim *sim_new(uint64_t seed) {
    struct sim *sim = calloc(1, sizeof(*sim));
    if (sim != NULL) sim->seed = seed;
    return sim;
}

void sim_free(struct sim *sim) {
    if (sim == NULL) return;
    for (size_t i = 0; i < sim->host_count; i++) {
        tb_stack_free(sim->hosts[i]->st);
        free(sim->hosts[i]);
    }
    for (size_t i = 0; i < sim->heap_len; i++)
        if (sim->heap[i].fn == frame_arrives) free(sim->heap[i].ctx);   /* a frame still in flight */
    free(sim->heap);
    while (sim->free_frames != NULL) {
        struct sim_frame *f = sim->free_frames;
        sim->free_frames = f->next_free;
        free(f);
    }
    free(sim);
}

tb_time_ns sim_now(const struct sim *sim) { return sim->now; }
uint64_t sim_events_processed(const struct sim *sim) { return sim->events_processed; }

uint64_t sim_derive_seed(uint64_t run_seed, const char *purpose, uint64_t index) {
    /* FNV-1a over the purpose, mixed with seed and index through splitmix64. */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const char *p = purpose; *p; p++) h = (h ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
    uint64_t state = run_seed ^ h;
    uint64_t z = state + UINT64_C(0x9e3779b97f4a7c15) * (index + 1);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

struct sim_host *sim_add_host(struct sim *sim, const char *name, const struct tb_config *cfg) {
    if (sim->host_count == SIM_MAX_HOSTS) return NULL;
    struct sim_host *h = calloc(1, sizeof(*h));
    if (h == NULL) return NULL;
    h->st = tb_stack_new(cfg);
    if (h->st == NULL) {
        free(h);
        return NULL;
    }
    h->sim = sim;
    strncpy(h->name, name, sizeof(h->name) - 1);
    h->wake_at = TB_TIME_NEVER;
    sim->hosts[sim->host_count++] = h;
    return h;
}

struct tb_stack *sim_host_stack(struct sim_host *h) { return h->st; }
const char *sim_host_name(const struct sim_host *h) { return h->name; }
void sim_host_capture(struct sim_host *h, struct tb_pcap_writer *w) { h->capture = w; }
void sim_host_set_app(struct sim_host *h, sim_app_fn fn, void *ctx) {
    h->app = fn;
    h->app_ctx = ctx;
}

int sim_connect(struct sim *sim, struct sim_host *a, struct sim_host *b, const struct sim_link_params *p) {
    if (sim->link_count == SIM_MAX_LINKS || a->tx != NULL || b->tx != NULL) return -1;
    int id = (int)sim->link_count++;
    struct sim_link *l = &sim->links[id];
    memset(l, 0, sizeof(*l));
    l->dir[0].to = b;
    l->dir[1].to = a;
    l->dir[0].p = l->dir[1].p = *p;
    a->tx = &l->dir[0];
    b->tx = &l->dir[1];
    return id;
}

void sim_link_set_drop_hook(struct sim *sim, int link, int dir_a_to_b, sim_drop_fn fn, void *ctx) {
    TB_ASSERT(link >= 0 && (size_t)link < sim->link_count);
    struct link_dir *d = &sim->links[link].dir[dir_a_to_b ? 0 : 1];
    d->drop_hook = fn;
    d->drop_ctx = ctx;
}

void sim_link_stats(const struct sim *sim, int link, int dir_a_to_b, struct sim_link_stats *out) {
    TB_ASSERT(link >= 0 && (size_t)link < sim->link_count);
    *out = sim->links[link].dir[dir_a_to_b ? 0 : 1].stats;
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

static void host_service(struct sim *sim, struct sim_host *h);

static void frame_arrives(struct sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    struct sim_frame *f = ctx;
    struct link_dir *d = f->dir;
    struct sim_host *h = d->to;
    struct tb_buf *b = tb_stack_alloc_rx(h->st, f->len);
    if (b == NULL) {
        d->stats.rx_nobuf_drops++;
    } else {
        memcpy(b->data, f->bytes, f->len);
        d->stats.delivered++;
        d->stats.bytes_delivered += f->len;
        if (h->capture != NULL) tb_pcap_write(h->capture, sim->now, f->bytes, f->len);
        tb_stack_input(h->st, sim->now, b);
    }
    frame_put(sim, f);
    host_service(sim, h);
}

static void link_send(struct sim *sim, struct link_dir *d, const struct tb_buf *b) {
    size_t len = tb_buf_chain_len(b);
    uint64_t index = d->index++;
    d->stats.offered++;
    TB_ASSERT(len <= TB_ETH_MAX_FRAME);
    struct sim_frame *f = frame_get(sim);
    f->dir = d;
    f->len = (uint32_t)tb_buf_copy_out(b, 0, f->bytes, len);
    if (d->drop_hook != NULL && d->drop_hook(d->drop_ctx, index, f->bytes, f->len)) {
        d->stats.hook_drops++;
        frame_put(sim, f);
        return;
    }
    tb_time_ns start = d->busy_until > sim->now ? d->busy_until : sim->now;
    tb_time_ns serialise_ns = 0;
    if (d->p.rate_bps > 0) {
        /* Bytes already waiting = backlog time x rate; the queue bounds them. */
        uint64_t backlog_bytes = (uint64_t)(start - sim->now) * d->p.rate_bps / 8 / (uint64_t)TB_NS_PER_S;
        if (d->p.queue_bytes > 0 && backlog_bytes + len > d->p.queue_bytes) {
            d->stats.queue_drops++;
            frame_put(sim, f);
            return;
        }
        serialise_ns = (tb_time_ns)(((uint64_t)len * 8 * (uint64_t)TB_NS_PER_S + d->p.rate_bps - 1) / d->p.rate_bps);
    }
    d->busy_until = start + serialise_ns;
    sim_at(sim, d->busy_until + d->p.delay_ns, frame_arrives, f, 0);
}

static void host_wake(struct sim *sim, void *ctx, uint64_t gen) {
    struct sim_host *h = ctx;
    if (gen != h->wake_gen) return;   /* superseded by a later re-arm */
    h->wake_at = TB_TIME_NEVER;
    host_service(sim, h);
}

static void host_service(struct sim *sim, struct sim_host *h) {
    if (tb_stack_next_deadline(h->st) <= sim->now) tb_stack_tick(h->st, sim->now);
    if (h->app != NULL) h->app(sim, h, h->app_ctx);
    struct tb_buf *out[SIM_TX_BURST];
    size_t n;
    while ((n = tb_stack_drain_tx(h->st, out, SIM_TX_BURST)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (h->capture != NULL) {
                uint8_t flat[TB_ETH_MAX_FRAME];
                size_t len = tb_buf_copy_out(out[i], 0, flat, sizeof(flat));
                tb_pcap_write(h->capture, sim->now, flat, len);
            }
            if (h->tx != NULL) link_send(sim, h->tx, out[i]);
            tb_buf_free(out[i]);
        }
    }
    tb_time_ns next = tb_stack_next_deadline(h->st);
    if (next != TB_TIME_NEVER && next != h->wake_at) {
        h->wake_at = next < sim->now ? sim->now : next;
        sim_at(sim, h->wake_at, host_wake, h, ++h->wake_gen);
    }
}

void sim_host_kick(struct sim *sim, struct sim_host *h) { host_service(sim, h); }

uint64_t sim_run(struct sim *sim, tb_time_ns until) {
    uint64_t processed = 0;
    sim->stopped = false;
    while (!sim->stopped && sim->heap_len > 0 && sim->heap[0].time <= until) {
        struct sim_event ev = ev_pop(sim);
        sim->now = ev.time;
        ev.fn(sim, ev.ctx, ev.arg);
        processed++;
    }
    sim->events_processed += processed;
    return processed;
}

void sim_stop(struct sim *sim) { sim->stopped = true; }
