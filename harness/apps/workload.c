#include "harness/apps/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/apps/sender.h"
#include "harness/apps/stream.h"
#include "harness/host/host.h"
#include "harness/lib/ipmap.h"
#include "tcpbed/prng.h"

/* Tables grow as flows and connections come (memory linear in both); every
 * look-up is hashed, so neither thousands of flows nor of connections make
 * an event cost more. */
#define WL_MAX_FLOWS (1 << 20)
#define WL_MAX_CONNS (1 << 22)
#define WL_CHUNK 16384

enum role { CLIENT, SERVER };

struct wl_conn {
    bool used;
    uint32_t slot;                  /* index in wl.conns, stable while used */
    uint16_t local_port;            /* a client's, for the server to find it */
    struct wl_flow *flow;
    struct tb_host *host;
    int32_t handle;
    enum role role;
    uint32_t index;                 /* connection number within the flow */
    struct tb_sender tx;            /* what this end writes, phase by phase */
    struct tb_stream rx;
    uint64_t rx_total;              /* all bytes read and checked */
    uint64_t rx_want;               /* rr/crr: bytes that complete the current message */
    uint32_t messages;              /* requests sent (client) or answered (server) */
    tb_time_ns req_start_ns;
    bool shut, eof, closed, next_scheduled;
    uint8_t pending[WL_CHUNK];      /* the sender's chunk: generated, not yet accepted */
};

struct wl_flow_state {
    struct wl_flow *flow;
    int32_t listener;
    uint32_t crr_pending;           /* connections scheduled, not yet opened */
};

struct wl {
    uint64_t seed;
    struct wl_flow_state *flows;
    size_t nflows, cap_flows, ndone;
    struct wl_conn **conns;         /* slots, each allocated once; conns[i]->slot == i */
    size_t nconns, cap_conns, nused;
    uint32_t *free_slots;           /* a min-heap: the lowest free slot is reused first */
    size_t nfree;
    struct ipmap host_ids;          /* host pointer -> small id (a key only: never output) */
    struct ipmap by_handle;         /* (host id, handle) -> slot of a used connection */
    struct ipmap by_listener;       /* (host id, listener handle) -> flow index */
    struct ipmap by_client_port;    /* (flow index, client's local port) -> slot */
    int32_t nhost_ids;
};

static const char *const kind_names[] = {"bulk", "rr", "crr", "idle"};
const char *wl_kind_name(enum wl_kind k) { return (unsigned)k < 4 ? kind_names[k] : "?"; }
bool wl_kind_parse(const char *s, enum wl_kind *out) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (enum wl_kind)i;
            return true;
        }
    return false;
}

struct wl *wl_new(uint64_t seed) {
    struct wl *w = calloc(1, sizeof(*w));
    if (w == NULL) return NULL;
    w->seed = seed;
    ipmap_init(&w->host_ids);
    ipmap_init(&w->by_handle);
    ipmap_init(&w->by_listener);
    ipmap_init(&w->by_client_port);
    return w;
}

void wl_free(struct wl *w) {
    if (w == NULL) return;
    for (size_t i = 0; i < w->nconns; i++) free(w->conns[i]);
    free(w->conns);
    free(w->free_slots);
    free(w->flows);
    ipmap_free(&w->host_ids);
    ipmap_free(&w->by_handle);
    ipmap_free(&w->by_listener);
    ipmap_free(&w->by_client_port);
    free(w);
}

static void flow_done(struct wl *w, struct wl_flow *f) {
    if (f->done) return;
    f->done = true;
    w->ndone++;
}

static int32_t host_id(struct wl *w, const struct tb_host *h) {
    uint64_t key = (uint64_t)(uintptr_t)h;
    int32_t id = ipmap_get(&w->host_ids, key);
    if (id < 0 && ipmap_put(&w->host_ids, key, w->nhost_ids)) id = w->nhost_ids++;
    return id;
}

static uint64_t pair_key(uint32_t hi, uint32_t lo) { return ((uint64_t)hi << 32) | lo; }

/* The free slot heap: push and pop the lowest index. */
static void slot_push(struct wl *w, uint32_t s) {
    size_t i = w->nfree++;
    while (i > 0 && w->free_slots[(i - 1) / 2] > s) {
        w->free_slots[i] = w->free_slots[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->free_slots[i] = s;
}

static uint32_t slot_pop(struct wl *w) {
    uint32_t top = w->free_slots[0], last = w->free_slots[--w->nfree];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->nfree) break;
        if (c + 1 < w->nfree && w->free_slots[c + 1] < w->free_slots[c]) c++;
        if (w->free_slots[c] >= last) break;
        w->free_slots[i] = w->free_slots[c];
        i = c;
    }
    if (w->nfree > 0) w->free_slots[i] = last;
    return top;
}

/* A free connection slot (the lowest), or NULL when memory runs out. */
static struct wl_conn *slot_get(struct wl *w) {
    if (w->nfree > 0) return w->conns[slot_pop(w)];
    if (w->nconns == WL_MAX_CONNS) return NULL;
    if (w->nconns == w->cap_conns) {
        size_t cap = w->cap_conns ? 2 * w->cap_conns : 64;
        struct wl_conn **c = realloc(w->conns, cap * sizeof(*c));
        if (c == NULL) return NULL;
        w->conns = c;
        uint32_t *f = realloc(w->free_slots, cap * sizeof(*f));
        if (f == NULL) return NULL;
        w->free_slots = f;
        w->cap_conns = cap;
    }
    struct wl_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) return NULL;
    c->slot = (uint32_t)w->nconns;
    w->conns[w->nconns++] = c;
    return c;
}

static void conn_release(struct wl *w, struct wl_conn *c) {
    ipmap_del(&w->by_handle, pair_key((uint32_t)host_id(w, c->host), (uint32_t)c->handle));
    if (c->role == CLIENT) {
        uint64_t key = pair_key((uint32_t)c->flow->wl_index, c->local_port);
        if (ipmap_get(&w->by_client_port, key) == (int32_t)c->slot) ipmap_del(&w->by_client_port, key);
    }
    c->used = false;
    w->nused--;
    slot_push(w, c->slot);
}

static void fail(struct wl_flow *f, const char *what) {
    if (f->failure[0] == '\0') snprintf(f->failure, sizeof(f->failure), "%s", what);
}

/* An idle flow's keepalive: probes start a quarter of the way into each
 * silence (idle = think/4), and are spaced by at least the connection's RTO
 * (which is above its RTT), so a healthy connection always answers one probe
 * before the next is sent and 9 probes never give up on a live peer. With
 * think/8 alone, 9 probes gave up after 1.375 x think: before one RTT of a
 * path whose RTT exceeds that (the dumbbell's 24 ms against think = 10 ms). */
static void keepalive_setup(struct tb_host *h, int32_t conn, tb_time_ns think_ns) {
    struct tb_tcp_info info;
    tb_time_ns intvl = think_ns / 8 > 0 ? think_ns / 8 : 1;
    if (tb_tcp_info(tb_host_stack(h), conn, &info) == TB_OK && info.rto_ns > intvl) intvl = info.rto_ns;
    tb_host_setopt(h, conn, TB_TCP_OPT_KEEPALIVE_INTVL_NS, intvl);
    tb_host_setopt(h, conn, TB_TCP_OPT_KEEPALIVE_IDLE_NS, think_ns / 4 > 0 ? think_ns / 4 : 1);
}

static size_t flow_index(const struct wl *w, const struct wl_flow *f) {
    (void)w;
    return f->wl_index;
}

static struct wl_conn *conn_new(struct wl *w, struct wl_flow *f, struct tb_host *h, int32_t handle, enum role role,
                                uint32_t index) {
    struct wl_conn *c = slot_get(w);
    int32_t hid = host_id(w, h);
    if (c != NULL && hid >= 0 && ipmap_put(&w->by_handle, pair_key((uint32_t)hid, (uint32_t)handle), (int32_t)c->slot)) {
        uint32_t slot = c->slot;
        memset(c, 0, sizeof(*c));
        c->slot = slot;
        c->used = true;
        w->nused++;
        c->flow = f;
        c->host = h;
        c->handle = handle;
        c->role = role;
        c->index = index;
        /* Streams per (flow, connection, direction): client->server is 0. */
        uint64_t fi = flow_index(w, f);
        tb_sender_init(&c->tx, tb_derive_seed(w->seed, "wl-stream", (fi << 40) | ((uint64_t)index << 1) | (role == SERVER)), c->pending, WL_CHUNK, false);
        tb_stream_init(&c->rx, tb_derive_seed(w->seed, "wl-stream", (fi << 40) | ((uint64_t)index << 1) | (role == CLIENT)));
        return c;
    }
    if (c != NULL) slot_push(w, c->slot);
    fail(f, "more connections at once than the workload engine holds (out of memory)");
    return NULL;
}

static struct wl_conn *conn_find(struct wl *w, struct tb_host *h, int32_t handle) {
    int32_t hid = host_id(w, h);
    int32_t slot = hid < 0 ? -1 : ipmap_get(&w->by_handle, pair_key((uint32_t)hid, (uint32_t)handle));
    return slot < 0 ? NULL : w->conns[slot];
}

/* Writes what the current phase still owes; TB_EV_TCP_WRITABLE resumes it. */
static void pump(struct wl_conn *c) {
    uint64_t before = c->tx.sent;
    int rc = tb_sender_pump(&c->tx, c->host, c->handle);
    c->flow->sent += c->tx.sent - before;
    if (rc < 0) fail(c->flow, "send failed");
}

static bool tx_idle(const struct wl_conn *c) { return tb_sender_idle(&c->tx); }

static void shut(struct wl_conn *c) {
    if (c->shut) return;
    c->shut = true;
    tb_host_shutdown(c->host, c->handle);
}

static void client_next_request(struct wl *w, struct wl_conn *c);

static void think_then_request(struct tb_host *h, void *ctx, uint64_t arg) {
    (void)h;
    struct wl *w = ctx;
    struct wl_conn *c = w->conns[arg];
    if (!c->used || c->closed) return;
    c->next_scheduled = false;
    client_next_request(w, c);
    tb_host_kick(c->host);
}

static void client_next_request(struct wl *w, struct wl_conn *c) {
    struct wl_flow *f = c->flow;
    if (c->messages == f->count) {
        shut(c);
        return;
    }
    c->messages++;
    c->req_start_ns = tb_host_now(c->host);
    tb_sender_add(&c->tx, f->bytes);
    c->rx_want = c->rx_total + (f->kind == WL_RR ? f->resp_bytes : 0);
    pump(c);
    /* An idle flow's next message follows the idle period once this one is
     * written; if it did not fit yet, TB_EV_TCP_WRITABLE schedules it. */
    if (f->kind == WL_IDLE && tx_idle(c) && !c->next_scheduled) {
        c->next_scheduled = true;
        tb_host_at(c->host, tb_host_now(c->host) + f->think_ns, think_then_request, w, c->slot);
    }
}

/* Reads and checks everything available, then lets the phase move on. */
static void receive(struct wl *w, struct wl_conn *c) {
    struct wl_flow *f = c->flow;
    tb_time_ns now = tb_host_now(c->host);
    uint8_t buf[WL_CHUNK];
    int64_t n;
    while ((n = tb_host_recv(c->host, c->handle, buf, sizeof(buf))) > 0) {
        size_t ok = tb_stream_check(&c->rx, buf, (size_t)n);
        if (ok != (size_t)n) {
            char msg[160];
            snprintf(msg, sizeof(msg), "connection %u: byte %llu (%s side) differs from what was sent", c->index,
                     (unsigned long long)(c->rx_total + ok), c->role == CLIENT ? "client" : "server");
            fail(f, msg);
        }
        if (f->first_byte_ns == 0) f->first_byte_ns = now - f->t0_ns;
        c->rx_total += (uint64_t)n;
        f->delivered += (uint64_t)n;
        if (f->kind == WL_RR && c->role == SERVER) {
            /* Answer each complete request. */
            while (c->rx_total >= (uint64_t)(c->messages + 1) * f->bytes) {
                c->messages++;
                tb_sender_add(&c->tx, f->resp_bytes);
                f->requests_done++;
            }
            pump(c);
        }
        if (f->kind == WL_RR && c->role == CLIENT && c->rx_total >= c->rx_want && c->messages > 0 &&
            c->req_start_ns >= 0) {
            tb_time_ns lat = now - c->req_start_ns;
            if (f->lat_min_ns == 0 || lat < f->lat_min_ns) f->lat_min_ns = lat;
            if (lat > f->lat_max_ns) f->lat_max_ns = lat;
            f->lat_sum_ns += lat;
            c->req_start_ns = -1;
            if (f->think_ns > 0) tb_host_at(c->host, now + f->think_ns, think_then_request, w, c->slot);
            else client_next_request(w, c);
        }
    }
    if (n == 0 && !c->eof) {
        c->eof = true;
        /* The peer is done: servers reply (crr) or finish; everyone closes
         * once their own side has nothing more to say. */
        if (c->role == SERVER && f->kind == WL_CRR) {
            tb_sender_add(&c->tx, f->resp_bytes);
            pump(c);
        }
        if (tx_idle(c)) shut(c);
    } else if (n < 0 && n != TB_ERR_AGAIN) {
        char msg[120];
        snprintf(msg, sizeof(msg), "recv failed: %s", tb_err_name((int)n));
        fail(f, msg);
    }
}

static void crr_start(struct wl *w, struct wl_flow *f);

static void conn_closed(struct wl *w, struct wl_conn *c, bool error, int32_t err) {
    struct wl_flow *f = c->flow;
    struct tb_tcp_info info;
    if (tb_tcp_info(tb_host_stack(c->host), c->handle, &info) == TB_OK) f->keepalive_probes += info.keepalive_probes;
    if (error) {
        char msg[160];
        snprintf(msg, sizeof(msg), "connection %u (%s side) failed: %s", c->index, c->role == CLIENT ? "client" : "server",
                 tb_err_name(err));
        fail(f, msg);
    } else if (!c->eof) {
        fail(f, "connection closed before the peer's end of stream");
    }
    tb_host_close(c->host, c->handle);
    c->closed = true;
    conn_release(w, c);
    if (c->role == CLIENT) {
        f->conns_done++;
        f->end_ns = tb_host_now(c->host) - f->t0_ns;
        if (f->kind == WL_CRR) f->requests_done++;
        size_t fi = flow_index(w, f);
        if (f->kind == WL_CRR && f->conns_opened + w->flows[fi].crr_pending < f->count) {
            w->flows[fi].crr_pending++;
            crr_start(w, f);
        }
        if (f->conns_done == (f->kind == WL_CRR ? f->count : 1)) flow_done(w, f);
    }
}

static void phase_after_connect(struct wl *w, struct wl_conn *c) {
    struct wl_flow *f = c->flow;
    switch (f->kind) {
    case WL_BULK:
        tb_sender_add(&c->tx, f->duration_ns > 0 ? UINT64_MAX / 2 : f->bytes);
        pump(c);
        if (tx_idle(c)) shut(c);
        break;
    case WL_RR: client_next_request(w, c); break;
    case WL_IDLE:
        /* After the handshake, so the interval can follow the measured RTO. */
        keepalive_setup(c->host, c->handle, f->think_ns);
        client_next_request(w, c);
        break;
    case WL_CRR:
        tb_sender_add(&c->tx, f->bytes);
        pump(c);
        if (tx_idle(c)) shut(c);
        break;
    }
}

static void on_writable(struct wl *w, struct wl_conn *c) {
    struct wl_flow *f = c->flow;
    pump(c);
    if (!tx_idle(c)) return;
    bool client_done_sending = c->role == CLIENT && (f->kind == WL_BULK || f->kind == WL_CRR);
    if (client_done_sending || (c->role == SERVER && c->eof)) shut(c);
    if (c->role == CLIENT && f->kind == WL_IDLE && c->messages > 0 && !c->shut && !c->next_scheduled) {
        c->next_scheduled = true;
        tb_host_at(c->host, tb_host_now(c->host) + f->think_ns, think_then_request, w, c->slot);
    }
}

static void app(struct tb_host *h, void *ctx) {
    struct wl *w = ctx;
    struct tb_event ev[32];
    size_t n;
    while ((n = tb_host_events(h, ev, 32)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type == TB_EV_TCP_ACCEPTABLE) {
                int32_t hid = host_id(w, h);
                int32_t k = hid < 0 ? -1 : ipmap_get(&w->by_listener, pair_key((uint32_t)hid, (uint32_t)ev[i].conn));
                if (k >= 0) {
                    struct wl_flow *f = w->flows[k].flow;
                    int32_t c;
                    while ((c = tb_host_accept(h, ev[i].conn)) >= 0) {
                        struct wl_conn *wc = conn_new(w, f, h, c, SERVER, f->conns_opened > 0 ? f->conns_opened - 1 : 0);
                        /* Server streams follow the accept order, which matches the clients' order
                         * only per connection index: derive the index from the peer port instead. */
                        if (wc == NULL) continue;
                        struct tb_tcp_info info;
                        tb_tcp_info(tb_host_stack(h), c, &info);
                        uint64_t fi = flow_index(w, f);
                        int32_t m = ipmap_get(&w->by_client_port, pair_key((uint32_t)fi, info.remote_port));
                        struct wl_conn *cc = m >= 0 ? w->conns[m] : NULL;
                        if (cc != NULL && cc->used && cc->flow == f && cc->role == CLIENT &&
                            cc->local_port == info.remote_port) {
                            wc->index = cc->index;
                            tb_stream_init(&wc->tx.stream, tb_derive_seed(w->seed, "wl-stream", (fi << 40) | ((uint64_t)wc->index << 1) | 1));
                            tb_stream_init(&wc->rx, tb_derive_seed(w->seed, "wl-stream", (fi << 40) | ((uint64_t)wc->index << 1) | 0));
                        }
                        if (f->kind == WL_BULK && f->both_ways) {
                            tb_sender_add(&wc->tx, f->duration_ns > 0 ? UINT64_MAX / 2 : f->bytes);
                            pump(wc);
                        }
                        if (f->kind == WL_IDLE) keepalive_setup(h, c, f->think_ns);
                    }
                }
                continue;
            }
            struct wl_conn *c = conn_find(w, h, ev[i].conn);
            if (c == NULL) continue;
            switch (ev[i].type) {
            case TB_EV_TCP_CONNECTED: phase_after_connect(w, c); break;
            case TB_EV_TCP_WRITABLE: on_writable(w, c); break;
            case TB_EV_TCP_READABLE: receive(w, c); break;
            case TB_EV_TCP_CLOSED: conn_closed(w, c, false, 0); break;
            case TB_EV_TCP_ERROR: conn_closed(w, c, true, ev[i].error); break;
            default: break;
            }
        }
    }
    if (wl_all_done(w)) tb_host_stop(h);
}

static void open_client(struct wl *w, struct wl_flow *f) {
    int32_t h = tb_host_connect(f->client, f->server_ipv4, f->port);
    if (h < 0) {
        char msg[120];
        snprintf(msg, sizeof(msg), "connect failed: %s", tb_err_name(h));
        fail(f, msg);
        flow_done(w, f);
        return;
    }
    struct wl_conn *c = conn_new(w, f, f->client, h, CLIENT, f->conns_opened++);
    struct tb_tcp_info info;
    if (c != NULL && tb_tcp_info(tb_host_stack(f->client), h, &info) == TB_OK) {
        c->local_port = info.local_port;
        ipmap_put(&w->by_client_port, pair_key((uint32_t)flow_index(w, f), info.local_port), (int32_t)c->slot);
    }
}

static void crr_start_event(struct tb_host *h, void *ctx, uint64_t arg) {
    (void)h;
    struct wl *w = ctx;
    struct wl_flow *f = w->flows[arg].flow;
    w->flows[arg].crr_pending--;
    open_client(w, f);
    tb_host_kick(f->client);
}

static void crr_start(struct wl *w, struct wl_flow *f) {
    tb_host_at(f->client, tb_host_now(f->client) + f->think_ns, crr_start_event, w, flow_index(w, f));
}

static void stop_bulk(struct tb_host *h, void *ctx, uint64_t arg) {
    (void)h;
    struct wl *w = ctx;
    struct wl_flow *f = w->flows[arg].flow;
    for (size_t i = 0; i < w->nconns; i++) {
        struct wl_conn *c = w->conns[i];
        if (!c->used || c->flow != f) continue;
        tb_sender_stop(&c->tx);   /* what is generated is sent; nothing more */
        pump(c);
        if (tx_idle(c) && (c->role == CLIENT || c->eof)) shut(c);
        tb_host_kick(c->host);
    }
}

static void flow_start(struct tb_host *h, void *ctx, uint64_t arg) {
    struct wl *w = ctx;
    struct wl_flow *f = w->flows[arg].flow;
    uint32_t first = f->kind == WL_CRR ? (f->parallel ? f->parallel : 1) : 1;
    if (f->kind == WL_CRR && first > f->count) first = f->count;
    for (uint32_t i = 0; i < first; i++) open_client(w, f);
    if (f->kind == WL_BULK && f->duration_ns > 0) tb_host_at(h, tb_host_now(h) + f->duration_ns, stop_bulk, w, arg);
    tb_host_kick(f->client);
}

bool wl_add_flow(struct wl *w, struct wl_flow *f, char *err, size_t len) {
    if (w->nflows == WL_MAX_FLOWS) {
        snprintf(err, len, "more than %d flows", WL_MAX_FLOWS);
        return false;
    }
    if (w->nflows == w->cap_flows) {
        size_t cap = w->cap_flows ? 2 * w->cap_flows : 16;
        struct wl_flow_state *fs = realloc(w->flows, cap * sizeof(*fs));
        if (fs == NULL) {
            snprintf(err, len, "flow %s: out of memory", f->name);
            return false;
        }
        w->flows = fs;
        w->cap_flows = cap;
    }
    if (f->client == NULL || f->server == NULL || f->client == f->server) {
        snprintf(err, len, "flow %s: needs two different hosts", f->name);
        return false;
    }
    if ((f->kind == WL_RR || f->kind == WL_CRR || f->kind == WL_IDLE) && f->count == 0) f->count = 1;
    if (f->kind == WL_BULK && f->bytes == 0 && f->duration_ns == 0) {
        snprintf(err, len, "flow %s: bulk needs bytes or a duration", f->name);
        return false;
    }
    if ((f->kind == WL_RR || f->kind == WL_IDLE) && f->bytes == 0) f->bytes = 1;
    if (f->kind == WL_RR && f->resp_bytes == 0) {
        /* The client waits for each reply: an empty one never arrives. */
        snprintf(err, len, "flow %s: rr needs a response of at least 1 byte (each request waits for its reply)", f->name);
        return false;
    }
    if (f->kind == WL_IDLE && f->think_ns <= 0) {
        snprintf(err, len, "flow %s: idle needs a think time (the idle period)", f->name);
        return false;
    }
    size_t index = w->nflows;
    if (f->port == 0) f->port = (uint16_t)(5001 + index % 60000);
    int32_t l = -1;
    int32_t sid = host_id(w, f->server);
    int32_t other = sid < 0 ? -1 : ipmap_get(&w->by_listener, pair_key((uint32_t)sid, UINT32_C(0x80000000) | f->port));
    if (other >= 0) {
        snprintf(err, len, "flow %s: port %u on %s is already flow %s's", f->name, f->port, tb_host_name(f->server),
                 w->flows[other].flow->name);
        return false;
    }
    l = tb_host_listen(f->server, f->port, 0);
    if (l < 0) {
        snprintf(err, len, "flow %s: listen on %s:%u failed: %s", f->name, tb_host_name(f->server), f->port,
                 tb_err_name(l));
        return false;
    }
    /* Listener handles are non-negative; ports are keyed with the top bit set. */
    if (sid < 0 || !ipmap_put(&w->by_listener, pair_key((uint32_t)sid, (uint32_t)l), (int32_t)index) ||
        !ipmap_put(&w->by_listener, pair_key((uint32_t)sid, UINT32_C(0x80000000) | f->port), (int32_t)index)) {
        snprintf(err, len, "flow %s: out of memory", f->name);
        return false;
    }
    f->wl_index = index;
    w->flows[index].flow = f;
    w->flows[index].listener = l;
    w->flows[index].crr_pending = 0;
    w->nflows++;
    if (f->done) w->ndone++;
    f->t0_ns = tb_host_now(f->client);
    tb_host_at(f->client, f->t0_ns + f->start_ns, flow_start, w, index);
    return true;
}

void wl_attach(struct wl *w) {
    for (size_t i = 0; i < w->nflows; i++) {
        tb_host_set_app(w->flows[i].flow->client, app, w);
        tb_host_set_app(w->flows[i].flow->server, app, w);
    }
}

bool wl_all_done(const struct wl *w) {
    /* Servers finish after their clients: wait for every connection. */
    return w->ndone == w->nflows && w->nused == 0;
}

void wl_finish(struct wl *w) {
    for (size_t i = 0; i < w->nconns; i++) {
        struct wl_conn *c = w->conns[i];
        if (!c->used) continue;
        struct tb_tcp_info info;
        char msg[160];
        if (tb_tcp_info(tb_host_stack(c->host), c->handle, &info) == TB_OK)
            snprintf(msg, sizeof(msg), "connection %u (%s side) still %s at the end", c->index,
                     c->role == CLIENT ? "client" : "server", tb_tcp_state_name(info.state));
        else snprintf(msg, sizeof(msg), "connection %u never finished", c->index);
        fail(c->flow, msg);
    }
    for (size_t i = 0; i < w->nflows; i++) {
        struct wl_flow *f = w->flows[i].flow;
        if (!f->done) fail(f, "did not finish");
        if (f->kind == WL_BULK && f->duration_ns == 0 && f->failure[0] == '\0') {
            uint64_t want = f->bytes * (f->both_ways ? 2 : 1);
            if (f->delivered != want) {
                char msg[120];
                snprintf(msg, sizeof(msg), "delivered %llu of %llu bytes", (unsigned long long)f->delivered,
                         (unsigned long long)want);
                fail(f, msg);
            }
        }
        if (f->failure[0] == '\0' && f->delivered != f->sent) fail(f, "bytes sent and delivered differ");
    }
}
