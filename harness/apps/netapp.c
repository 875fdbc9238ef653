#include "harness/apps/netapp.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "harness/apps/netapp_http.h"
#include "harness/apps/sender.h"
#include "harness/host/host.h"
#include "harness/lib/ipmap.h"

/* Per connection: the seeded stream's chunk, echo's pending bytes, and the
 * unit of every read; memory per connection is a few of these. */
#define NETAPP_CONN_BUF_BYTES 16384
#define NETAPP_FAILURE_LEN 160
#define NETAPP_EVENTS_PER_DRAIN 64

static const char *const kind_names[NETAPP__COUNT] = {"echo", "sink", "source", "http", "client"};

bool netapp_parse_kind(const char *name, enum netapp_kind *out) {
    for (int k = 0; k < NETAPP__COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (enum netapp_kind)k;
            return true;
        }
    return false;
}

const char *netapp_kind_name(enum netapp_kind k) { return (unsigned)k < NETAPP__COUNT ? kind_names[k] : "?"; }

void netapp_hex(const uint8_t digest[32], char out[65]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

struct conn {
    int32_t handle;
    size_t alive_index;           /* in app->alive */
    struct netapp_flow *rec;      /* app->listed[id - 1], or `own` beyond the listed ones */
    struct netapp_flow own;
    char *failure_text;           /* NETAPP_FAILURE_LEN bytes beside the record */
    char own_failure[NETAPP_FAILURE_LEN];
    EVP_MD_CTX *md_in, *md_out;
    bool eof, shut, stopping;
    /* The seeded stream (sender apps, http bodies), handed to the sender a
     * chunk at a time so each call's accepted bytes are in the chunk to hash. */
    struct tb_sender tx;
    uint64_t tx_left;             /* bytes not yet handed to tx */
    bool tx_forever;              /* until netapp_stop */
    uint8_t *chunk;               /* NETAPP_CONN_BUF_BYTES: tx's chunk, or echo's pending bytes */
    size_t pend_off, pend_len;    /* echo: received, not yet accepted for sending */
    /* http */
    uint8_t *req;                 /* NETAPP_HTTP_MAX_HEAD: requests received, not yet answered */
    size_t req_len;
    uint64_t req_body_skip;       /* the current request's body, still to pass over */
    /* The response's head and its body's first bytes, written as one: a
     * small response is one segment, never a head that Nagle's algorithm
     * sends alone and a body it holds for the peer's delayed ACK. */
    uint8_t resp[2048];
    size_t resp_len, resp_off;
    bool responding;              /* a response is being written */
    bool no_more_requests;
};

struct netapp {
    struct netapp_opts o;
    struct tb_host *h;
    int32_t listener;             /* -1: none (client, or closed) */
    struct conn **alive;
    size_t nalive, cap_alive;
    struct ipmap by_handle;       /* handle -> index in alive */
    struct netapp_flow *listed;   /* NETAPP_MAX_FLOWS_LISTED records */
    char (*listed_failure)[NETAPP_FAILURE_LEN];
    size_t nlisted;
    uint64_t connections, connections_failed, bytes_in, bytes_out, http_requests;
    tb_time_ns start_ns, stop_ns, last_close_ns;
    bool installed;               /* the host calls app_fn */
    bool stopped, any_closed, client_ended;
    char first_failure[NETAPP_FAILURE_LEN + 64];
    uint8_t scratch[NETAPP_CONN_BUF_BYTES];   /* reads whose bytes are only counted and hashed */
};

/* ---- bookkeeping ---------------------------------------------------------- */

static void hash_in(struct netapp *app, struct conn *c, const uint8_t *p, size_t n) {
    EVP_DigestUpdate(c->md_in, p, n);
    c->rec->bytes_in += n;
    app->bytes_in += n;
}

static void hash_out(struct netapp *app, struct conn *c, const uint8_t *p, size_t n) {
    EVP_DigestUpdate(c->md_out, p, n);
    c->rec->bytes_out += n;
    app->bytes_out += n;
}

/* The first expectation a connection missed, kept with its record. */
static void conn_fail(struct conn *c, const char *what) {
    if (c->rec->failure != NULL) return;
    snprintf(c->failure_text, NETAPP_FAILURE_LEN, "%s", what);
    c->rec->failure = c->failure_text;
}

/* The app's first failure, with the connection that had it. */
static void note_failure(struct netapp *app, const struct netapp_flow *r, const char *what) {
    if (app->first_failure[0] != '\0') return;
    char ip[16];
    snprintf(app->first_failure, sizeof(app->first_failure), "connection %u (%s:%u): %s", r->id,
             tb_ipv4_str(r->peer_ipv4, ip), r->peer_port, what);
}

static bool kind_sends_stream(const struct netapp_opts *o) {
    return o->kind == NETAPP_SOURCE || o->kind == NETAPP_CLIENT || (o->kind == NETAPP_SINK && o->both);
}

static void conn_free(struct conn *c) {
    if (c == NULL) return;
    EVP_MD_CTX_free(c->md_in);
    EVP_MD_CTX_free(c->md_out);
    free(c->req);
    free(c->chunk);
    free(c);
}

static struct conn *conn_new(struct netapp *app, int32_t handle) {
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) return NULL;
    bool http = app->o.kind == NETAPP_HTTP;
    c->handle = handle;
    c->chunk = malloc(NETAPP_CONN_BUF_BYTES);
    c->req = http ? malloc(NETAPP_HTTP_MAX_HEAD) : NULL;
    c->md_in = EVP_MD_CTX_new();
    c->md_out = EVP_MD_CTX_new();
    if (app->nalive == app->cap_alive) {
        size_t cap = app->cap_alive ? 2 * app->cap_alive : 16;
        struct conn **a = realloc(app->alive, cap * sizeof(*a));
        if (a != NULL) {
            app->alive = a;
            app->cap_alive = cap;
        }
    }
    if (c->chunk == NULL || (http && c->req == NULL) || c->md_in == NULL || c->md_out == NULL ||
        app->nalive == app->cap_alive || EVP_DigestInit_ex(c->md_in, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(c->md_out, EVP_sha256(), NULL) != 1 ||
        !ipmap_put(&app->by_handle, (uint32_t)handle, (int32_t)app->nalive)) {
        conn_free(c);
        return NULL;
    }
    c->alive_index = app->nalive;
    app->alive[app->nalive++] = c;
    uint64_t id = ++app->connections;
    if (id <= NETAPP_MAX_FLOWS_LISTED) {
        c->rec = &app->listed[id - 1];
        c->failure_text = app->listed_failure[id - 1];
        app->nlisted = (size_t)id;
    } else {
        c->rec = &c->own;
        c->failure_text = c->own_failure;
    }
    memset(c->rec, 0, sizeof(*c->rec));
    c->rec->id = id > UINT32_MAX ? UINT32_MAX : (uint32_t)id;
    c->rec->start_ns = tb_host_now(app->h);
    struct tb_tcp_info info;
    if (tb_tcp_info(tb_host_stack(app->h), handle, &info) == TB_OK) {
        c->rec->peer_ipv4 = info.remote_ipv4;
        c->rec->peer_port = info.remote_port;
        c->rec->local_port = info.local_port;
    }
    if (kind_sends_stream(&app->o)) {
        tb_sender_init(&c->tx, app->o.seed, c->chunk, NETAPP_CONN_BUF_BYTES, false);
        c->tx_forever = !app->o.bytes_set;
        c->tx_left = app->o.bytes_set ? app->o.bytes : 0;
    }
    return c;
}

static struct conn *conn_find(struct netapp *app, int32_t handle) {
    if (handle < 0) return NULL;
    int32_t i = ipmap_get(&app->by_handle, (uint32_t)handle);
    return i < 0 ? NULL : app->alive[i];
}

/* The stream still owes bytes (generated or not). */
static bool tx_busy(const struct conn *c) { return c->tx_forever || c->tx_left > 0 || !tb_sender_idle(&c->tx); }

/* The connection's record gets its final state; the handle goes back to
 * the stack (unless `aborted` already did that) and the memory is freed. */
static void conn_end(struct netapp *app, struct conn *c, int error, bool aborted) {
    struct netapp_flow *r = c->rec;
    tb_time_ns now = tb_host_now(app->h);
    if (error == 0 && kind_sends_stream(&app->o) && app->o.bytes_set && r->bytes_out != app->o.bytes) {
        char msg[NETAPP_FAILURE_LEN];
        snprintf(msg, sizeof(msg), "stopped after sending %llu of %llu bytes", (unsigned long long)r->bytes_out,
                 (unsigned long long)app->o.bytes);
        conn_fail(c, msg);
    }
    if (error == 0 && app->o.both && app->o.bytes_set && r->bytes_in != app->o.bytes) {
        char msg[NETAPP_FAILURE_LEN];
        snprintf(msg, sizeof(msg), "expected %llu bytes back, received %llu", (unsigned long long)app->o.bytes,
                 (unsigned long long)r->bytes_in);
        conn_fail(c, msg);
    }
    r->error = error;
    r->end_ns = now;
    r->done = true;
    unsigned int len = 0;
    EVP_DigestFinal_ex(c->md_in, r->sha256_in, &len);
    EVP_DigestFinal_ex(c->md_out, r->sha256_out, &len);
    if (error != 0 || r->failure != NULL) {
        app->connections_failed++;
        note_failure(app, r, error != 0 ? tb_err_name(error) : r->failure);
    }
    if (!aborted) tb_host_close(app->h, c->handle);
    /* Out of the alive table: the last one takes this one's place. */
    ipmap_del(&app->by_handle, (uint32_t)c->handle);
    struct conn *last = app->alive[--app->nalive];
    if (last != c) {
        last->alive_index = c->alive_index;
        app->alive[c->alive_index] = last;
        ipmap_put(&app->by_handle, (uint32_t)last->handle, (int32_t)last->alive_index);
    }
    app->last_close_ns = now;
    app->any_closed = true;
    if (app->o.kind == NETAPP_CLIENT) app->client_ended = true;
    conn_free(c);
}

/* ---- writing -------------------------------------------------------------- */

/* Hands the seeded stream to the stack, a chunk at a time: within one pump
 * the bytes accepted are the chunk's from where it stood, so they are
 * hashed as they go. Returns whether any byte was accepted. */
static bool pump_stream(struct netapp *app, struct conn *c) {
    bool progress = false;
    for (;;) {
        bool fresh = false;
        if (tb_sender_idle(&c->tx)) {
            if (!c->tx_forever && c->tx_left == 0) break;
            uint64_t step = c->tx_forever || c->tx_left > NETAPP_CONN_BUF_BYTES ? NETAPP_CONN_BUF_BYTES : c->tx_left;
            tb_sender_add(&c->tx, step);
            if (!c->tx_forever) c->tx_left -= step;
            fresh = true;
        }
        size_t from = fresh ? 0 : c->tx.chunk_off;
        uint64_t sent_before = c->tx.sent;
        int rc = tb_sender_pump(&c->tx, app->h, c->handle);
        size_t accepted = (size_t)(c->tx.sent - sent_before);
        if (accepted > 0) {
            hash_out(app, c, c->chunk + from, accepted);
            progress = true;
        }
        if (rc < 0 || !tb_sender_idle(&c->tx)) break;   /* refused (WRITABLE resumes) or failed (an event follows) */
    }
    return progress;
}

/* Sends bytes[*off .. len) as far as the stack takes them. */
static bool send_bytes(struct netapp *app, struct conn *c, const uint8_t *bytes, size_t *off, size_t len) {
    bool progress = false;
    while (*off < len) {
        int64_t n = tb_host_send(app->h, c->handle, bytes + *off, len - *off);
        if (n <= 0) break;
        hash_out(app, c, bytes + *off, (size_t)n);
        *off += (size_t)n;
        progress = true;
    }
    return progress;
}

static void http_next_request(struct netapp *app, struct conn *c);

static bool http_write(struct netapp *app, struct conn *c) {
    bool progress = false;
    while (c->responding) {
        bool moved = send_bytes(app, c, c->resp, &c->resp_off, c->resp_len);
        if (c->resp_off == c->resp_len) moved |= pump_stream(app, c);
        progress |= moved;
        if (c->resp_off < c->resp_len || tx_busy(c)) break;
        c->responding = false;
        c->rec->http_requests++;
        app->http_requests++;
        http_next_request(app, c);
    }
    return progress;
}

static bool conn_write(struct netapp *app, struct conn *c) {
    if (c->shut) return false;
    switch (app->o.kind) {
    case NETAPP_ECHO: return send_bytes(app, c, c->chunk, &c->pend_off, c->pend_len);
    case NETAPP_HTTP: return http_write(app, c);
    default: return kind_sends_stream(&app->o) ? pump_stream(app, c) : false;
    }
}

/* ---- http ------------------------------------------------------------------ */

static void http_start_response(struct netapp *app, struct conn *c, int status, bool keep_alive, bool with_body) {
    uint64_t length = status == 200 ? app->o.http_body_bytes : 0;
    /* No Date header: an origin server without a clock must not send one (RFC 9110 §6.6.1). */
    size_t head = netapp_http_response_head((char *)c->resp, sizeof(c->resp), status, length, keep_alive);
    uint64_t body = with_body ? length : 0;
    size_t first = body < sizeof(c->resp) - head ? (size_t)body : sizeof(c->resp) - head;
    tb_sender_init(&c->tx, app->o.seed, c->chunk, NETAPP_CONN_BUF_BYTES, false);
    /* The body's first bytes from the sender's own stream: the sender goes on from there. */
    tb_stream_fill(&c->tx.stream, c->resp + head, first);
    c->resp_len = head + first;
    c->resp_off = 0;
    c->tx_forever = false;
    c->tx_left = body - first;
    c->responding = true;
    /* Whatever follows a last response is read only to be counted. */
    c->no_more_requests = !keep_alive;
}

/* Answers the next whole request in the buffer, if there is one and the
 * connection is not winding down. */
static void http_next_request(struct netapp *app, struct conn *c) {
    if (c->responding || c->no_more_requests) return;
    /* A body sent with a GET or HEAD is passed over. */
    size_t skip = c->req_body_skip < c->req_len ? (size_t)c->req_body_skip : c->req_len;
    memmove(c->req, c->req + skip, c->req_len - skip);
    c->req_len -= skip;
    c->req_body_skip -= skip;
    if (c->req_body_skip > 0 || c->stopping) return;
    struct netapp_http_request r;
    if (!netapp_http_parse(c->req, c->req_len, NETAPP_HTTP_MAX_HEAD, &r)) return;
    if (r.status != 200) {
        http_start_response(app, c, r.status, false, false);
        c->req_len = 0;
        return;
    }
    memmove(c->req, c->req + r.head_bytes, c->req_len - r.head_bytes);
    c->req_len -= r.head_bytes;
    c->req_body_skip = r.body_bytes;
    http_start_response(app, c, 200, r.keep_alive, !r.head_method);
}

/* ---- reading --------------------------------------------------------------- */

/* Reads what the connection has room for and hands it on. Returns the bytes
 * read; sets eof at the peer's FIN. */
static size_t conn_read(struct netapp *app, struct conn *c) {
    if (c->eof) return 0;
    uint8_t *dst = app->scratch;
    size_t room = sizeof(app->scratch);
    bool keep = false;   /* the bytes are the app's input (echo, http), not just counted */
    if (!c->shut && app->o.kind == NETAPP_ECHO) {
        /* Stop reading while the peer's bytes wait to go back (bounded memory). */
        if (c->pend_off == c->pend_len) c->pend_off = c->pend_len = 0;
        dst = c->chunk + c->pend_len;
        room = c->stopping ? 0 : NETAPP_CONN_BUF_BYTES - c->pend_len;
        keep = true;
    } else if (app->o.kind == NETAPP_HTTP && !c->no_more_requests && !c->stopping) {
        dst = c->req + c->req_len;
        room = NETAPP_HTTP_MAX_HEAD - c->req_len;
        keep = true;
    }
    if (room == 0) return 0;
    int64_t n = tb_host_recv(app->h, c->handle, dst, room);
    if (n == 0) c->eof = true;
    if (n <= 0) return 0;   /* nothing yet, or the connection failed (its error event follows) */
    hash_in(app, c, dst, (size_t)n);
    if (keep && app->o.kind == NETAPP_ECHO) c->pend_len += (size_t)n;
    if (keep && app->o.kind == NETAPP_HTTP) {
        c->req_len += (size_t)n;
        http_next_request(app, c);
    }
    return (size_t)n;
}

/* ---- the connection's life ------------------------------------------------ */

/* Nothing more will be written: time for our FIN. */
static bool output_finished(const struct netapp *app, const struct conn *c) {
    switch (app->o.kind) {
    case NETAPP_ECHO: return (c->eof || c->stopping) && c->pend_off == c->pend_len;
    case NETAPP_HTTP: return !c->responding && (c->no_more_requests || c->eof || c->stopping);
    case NETAPP_SINK:
        if (!app->o.both) return c->eof || c->stopping;
        return !tx_busy(c);
    default: return !tx_busy(c);
    }
}

/* Moves data both ways until neither moves, then sends our FIN once all
 * our output is out; the connection ends at TB_EV_TCP_CLOSED (both FINs
 * through) or TB_EV_TCP_ERROR. */
static void conn_service(struct netapp *app, struct conn *c) {
    for (;;) {
        bool wrote = conn_write(app, c);
        size_t got = conn_read(app, c);
        if (!wrote && got == 0) break;
    }
    if (!c->shut && output_finished(app, c)) {
        c->shut = true;
        tb_host_shutdown(app->h, c->handle);
    }
}

static void accept_all(struct netapp *app) {
    for (;;) {
        int32_t h = tb_host_accept(app->h, app->listener);
        if (h < 0) return;
        struct conn *c = conn_new(app, h);
        if (c == NULL) {
            /* No memory for its state: refuse it loudly rather than serve it half. */
            tb_host_abort(app->h, h);
            app->connections++;
            app->connections_failed++;
            if (app->first_failure[0] == '\0')
                snprintf(app->first_failure, sizeof(app->first_failure), "connection %llu: out of memory for its state",
                         (unsigned long long)app->connections);
            continue;
        }
        conn_service(app, c);
    }
}

static void on_event(struct netapp *app, const struct tb_event *ev) {
    if (ev->type == TB_EV_TCP_ACCEPTABLE) {
        if (app->listener >= 0 && ev->conn == app->listener) accept_all(app);
        return;
    }
    struct conn *c = conn_find(app, ev->conn);
    if (c == NULL) return;
    switch (ev->type) {
    case TB_EV_TCP_CONNECTED:
    case TB_EV_TCP_READABLE:
    case TB_EV_TCP_WRITABLE: conn_service(app, c); break;
    case TB_EV_TCP_CLOSED:
        /* Both FINs are through: what is left to read is read first. */
        conn_service(app, c);
        conn_end(app, c, 0, false);
        break;
    case TB_EV_TCP_ERROR: conn_end(app, c, ev->error != 0 ? ev->error : TB_ERR_RESET, false); break;
    default: break;
    }
}

static void app_fn(struct tb_host *h, void *ctx) {
    struct netapp *app = ctx;
    struct tb_event ev[NETAPP_EVENTS_PER_DRAIN];
    size_t n;
    while ((n = tb_host_events(h, ev, NETAPP_EVENTS_PER_DRAIN)) > 0)
        for (size_t i = 0; i < n; i++) on_event(app, &ev[i]);
}

/* ---- start, stop ------------------------------------------------------------ */

/* The connection options, in the order a new connection takes them:
 * keepalive's interval and count before the idle time that turns it on. */
static size_t conn_options(const struct netapp_opts *o, struct tb_tcp_optval *out) {
    size_t n = 0;
    if (o->nodelay) out[n++] = (struct tb_tcp_optval){TB_TCP_OPT_NODELAY, 1};
    if (o->keepalive_intvl_ns > 0) out[n++] = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_INTVL_NS, o->keepalive_intvl_ns};
    if (o->keepalive_probes > 0) out[n++] = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_PROBES, o->keepalive_probes};
    if (o->keepalive_idle_ns > 0) out[n++] = (struct tb_tcp_optval){TB_TCP_OPT_KEEPALIVE_IDLE_NS, o->keepalive_idle_ns};
    return n;
}

static const char *option_name(int32_t opt) {
    switch (opt) {
    case TB_TCP_OPT_NODELAY: return "nodelay";
    case TB_TCP_OPT_KEEPALIVE_IDLE_NS: return "keepalive idle";
    case TB_TCP_OPT_KEEPALIVE_INTVL_NS: return "keepalive interval";
    case TB_TCP_OPT_KEEPALIVE_PROBES: return "keepalive probes";
    default: return "option";
    }
}

static bool check_opts(const struct netapp_opts *o, char *err, size_t err_len) {
    if ((unsigned)o->kind >= NETAPP__COUNT) {
        snprintf(err, err_len, "unknown app (expected echo, sink, source, http or client)");
        return false;
    }
    const char *name = netapp_kind_name(o->kind);
    if (o->kind == NETAPP_CLIENT && (o->connect_ipv4 == 0 || o->connect_port == 0)) {
        snprintf(err, err_len, "client needs an address and port to connect to (ADDR:PORT, port 1..65535)");
        return false;
    }
    if (o->both && o->kind != NETAPP_SINK && o->kind != NETAPP_SOURCE && o->kind != NETAPP_CLIENT) {
        snprintf(err, err_len, "both applies to sink, source and client, not %s", name);
        return false;
    }
    if (o->bytes_set && !kind_sends_stream(o)) {
        snprintf(err, err_len, "bytes applies to source, client and sink with both, not %s%s", name,
                 o->kind == NETAPP_SINK ? " without both" : "");
        return false;
    }
    if (o->http_body_bytes > 0 && o->kind != NETAPP_HTTP) {
        snprintf(err, err_len, "the http body size applies to http only, not %s", name);
        return false;
    }
    if (o->keepalive_idle_ns < 0 || o->keepalive_intvl_ns < 0) {
        snprintf(err, err_len, "keepalive times must not be negative");
        return false;
    }
    if (o->keepalive_idle_ns == 0 && (o->keepalive_intvl_ns > 0 || o->keepalive_probes > 0)) {
        /* Without an idle time keepalive is off: the others would do nothing. */
        snprintf(err, err_len, "keepalive interval and probes need a keepalive idle time (which turns keepalive on)");
        return false;
    }
    return true;
}

struct netapp *netapp_start(const struct netapp_opts *o, struct tb_host *h, char *err, size_t err_len) {
    if (!check_opts(o, err, err_len)) return NULL;
    struct netapp *app = calloc(1, sizeof(*app));
    if (app != NULL) {
        app->listed = calloc(NETAPP_MAX_FLOWS_LISTED, sizeof(*app->listed));
        app->listed_failure = calloc(NETAPP_MAX_FLOWS_LISTED, sizeof(*app->listed_failure));
    }
    if (app == NULL || app->listed == NULL || app->listed_failure == NULL) {
        snprintf(err, err_len, "out of memory");
        netapp_free(app);
        return NULL;
    }
    ipmap_init(&app->by_handle);
    app->o = *o;
    if (app->o.port == 0) app->o.port = NETAPP_DEFAULT_PORT;
    app->h = h;
    app->listener = -1;
    app->start_ns = tb_host_now(h);
    struct tb_tcp_optval opts[8];
    size_t nopts = conn_options(o, opts);
    char ip[16];
    if (o->kind == NETAPP_CLIENT) {
        int32_t conn = tb_host_connect_opts(h, 0, o->connect_ipv4, o->connect_port, opts, nopts);
        if (conn < 0) {
            snprintf(err, err_len, "connect to %s:%u failed: %s", tb_ipv4_str(o->connect_ipv4, ip), o->connect_port,
                     tb_err_name(conn));
            netapp_free(app);
            return NULL;
        }
        struct conn *c = conn_new(app, conn);
        if (c == NULL) {
            tb_host_abort(h, conn);
            snprintf(err, err_len, "out of memory");
            netapp_free(app);
            return NULL;
        }
        c->rec->peer_ipv4 = o->connect_ipv4;
        c->rec->peer_port = o->connect_port;
    } else {
        int32_t l = tb_host_listen(h, app->o.port, o->backlog);
        if (l < 0) {
            snprintf(err, err_len, "listen on port %u failed: %s", app->o.port, tb_err_name(l));
            netapp_free(app);
            return NULL;
        }
        app->listener = l;
        /* On the listener: every connection takes them before its SYN-ACK. */
        for (size_t i = 0; i < nopts; i++) {
            int rc = tb_host_setopt(h, l, (enum tb_tcp_opt)opts[i].opt, opts[i].value);
            if (rc != TB_OK) {
                snprintf(err, err_len, "the stack refused %s = %lld: %s", option_name(opts[i].opt),
                         (long long)opts[i].value, tb_err_name(rc));
                tb_host_close(h, l);
                app->listener = -1;
                netapp_free(app);
                return NULL;
            }
        }
    }
    tb_host_set_app(h, app_fn, app);
    app->installed = true;
    tb_host_kick(h);
    return app;
}

void netapp_stop(struct netapp *app) {
    if (app->stopped) return;
    app->stopped = true;
    app->stop_ns = tb_host_now(app->h);
    if (app->listener >= 0) {
        tb_host_close(app->h, app->listener);
        app->listener = -1;
    }
    /* Backwards: a connection that ends takes the last one's place. */
    for (size_t i = app->nalive; i-- > 0;) {
        struct conn *c = app->alive[i];
        c->stopping = true;
        if (kind_sends_stream(&app->o)) {
            c->tx_forever = false;
            c->tx_left = 0;
        }
        /* A response being written is finished (half of one is no answer); no new one starts. */
        if (app->o.kind == NETAPP_HTTP && !c->responding) c->no_more_requests = true;
        conn_service(app, c);
    }
    tb_host_kick(app->h);
}

bool netapp_done(const struct netapp *app) {
    if (app->o.kind == NETAPP_CLIENT && app->client_ended) return true;
    return app->stopped && app->nalive == 0;
}

void netapp_abort_all(struct netapp *app) {
    app->stopped = true;
    if (app->stop_ns == 0) app->stop_ns = tb_host_now(app->h);
    if (app->listener >= 0) {
        tb_host_close(app->h, app->listener);
        app->listener = -1;
    }
    while (app->nalive > 0) {
        struct conn *c = app->alive[app->nalive - 1];
        tb_host_abort(app->h, c->handle);
        conn_end(app, c, TB_ERR_ABORTED, true);
    }
    tb_host_kick(app->h);
}

int netapp_exit_status(const struct netapp *app) { return app->connections_failed > 0 ? 1 : 0; }

void netapp_summary(const struct netapp *app, struct netapp_summary *out) {
    memset(out, 0, sizeof(*out));
    out->kind = app->o.kind;
    out->start_ns = app->start_ns;
    if (app->nalive > 0) out->end_ns = tb_host_now(app->h);
    else if (app->any_closed) out->end_ns = app->last_close_ns;
    else if (app->stopped) out->end_ns = app->stop_ns;
    else out->end_ns = tb_host_now(app->h);
    out->connections = app->connections;
    out->connections_failed = app->connections_failed;
    out->bytes_in = app->bytes_in;
    out->bytes_out = app->bytes_out;
    out->http_requests = app->http_requests;
    /* Open connections' digests so far, on copies of their hash states. */
    EVP_MD_CTX *tmp = EVP_MD_CTX_new();
    for (size_t i = 0; i < app->nalive; i++) {
        struct conn *c = app->alive[i];
        unsigned int len = 0;
        if (tmp != NULL && EVP_MD_CTX_copy_ex(tmp, c->md_in) == 1) EVP_DigestFinal_ex(tmp, c->rec->sha256_in, &len);
        if (tmp != NULL && EVP_MD_CTX_copy_ex(tmp, c->md_out) == 1) EVP_DigestFinal_ex(tmp, c->rec->sha256_out, &len);
        c->rec->end_ns = tb_host_now(app->h);
    }
    EVP_MD_CTX_free(tmp);
    if (app->connections == 1) {
        memcpy(out->sha256_in, app->listed[0].sha256_in, 32);
        memcpy(out->sha256_out, app->listed[0].sha256_out, 32);
    }
    out->flows_listed = app->nlisted;
    out->flows = app->listed;
}

static double mbit_per_s(uint64_t bytes, tb_time_ns ns) { return ns > 0 ? (double)bytes * 8e3 / (double)ns : 0.0; }

void netapp_print_summary(const struct netapp *app, FILE *f) {
    struct netapp_summary s;
    netapp_summary(app, &s);
    tb_time_ns dur = s.end_ns - s.start_ns;
    fprintf(f, "%s: %llu connection%s (%llu failed)", netapp_kind_name(s.kind), (unsigned long long)s.connections,
            s.connections == 1 ? "" : "s", (unsigned long long)s.connections_failed);
    if (s.kind == NETAPP_HTTP) fprintf(f, ", %llu http requests", (unsigned long long)s.http_requests);
    fprintf(f, "\n  bytes in %llu, out %llu in %.3f s: goodput in %.3f Mbit/s, out %.3f Mbit/s\n",
            (unsigned long long)s.bytes_in, (unsigned long long)s.bytes_out, (double)dur / 1e9,
            mbit_per_s(s.bytes_in, dur), mbit_per_s(s.bytes_out, dur));
    if (s.connections == 1) {
        char in[65], outx[65];
        netapp_hex(s.sha256_in, in);
        netapp_hex(s.sha256_out, outx);
        fprintf(f, "  sha256 in  %s\n  sha256 out %s\n", in, outx);
    } else if (s.connections > 1) {
        fprintf(f, "  sha256: per connection (several connections)\n");
    }
    if (app->first_failure[0] != '\0') fprintf(f, "  first failure: %s\n", app->first_failure);
}

void netapp_free(struct netapp *app) {
    if (app == NULL) return;
    /* The host must not call into freed memory. */
    if (app->installed) tb_host_set_app(app->h, NULL, NULL);
    for (size_t i = 0; i < app->nalive; i++) conn_free(app->alive[i]);
    free(app->alive);
    ipmap_free(&app->by_handle);
    free(app->listed);
    free(app->listed_failure);
    free(app);
}
