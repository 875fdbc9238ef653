/* The network applications every real platform runs (TAP now, DPDK and
 * ns-3 later), and the simulator too: one host, any number of TCP
 * connections, every byte counted and hashed (SHA-256) each way.
 *
 *   echo    listens; sends back everything it receives; closes after the peer.
 *   sink    listens; discards what it receives, counting and hashing it.
 *           With `both`: also sends `bytes` of the seeded stream per connection.
 *   source  listens; sends `bytes` of the seeded stream (or until stopped)
 *           per connection, then closes. With `both`: expects `bytes` back.
 *   http    listens; a small HTTP/1.1 responder (keep-alive, pipelining,
 *           GET and HEAD, a fixed body of `http_body_bytes`) for curl and wrk.
 *   client  connects to connect_ipv4:connect_port; sends `bytes` of the
 *           seeded stream (or until stopped), then shuts down its side and
 *           reads until the peer closes. With `both`: expects `bytes` back.
 *
 * Every app reads and hashes whatever arrives. The seeded stream is
 * harness/apps/stream.h's, from its start, on every connection and in
 * every direction (an http body is its first http_body_bytes), so a
 * tcpbed peer can check it byte for byte; a foreign peer compares the
 * SHA-256 (of exactly `bytes` of it: `head -c N` of the stream).
 *
 * Every connection ends the same way: our FIN once our side has nothing
 * more to say, then reading (and hashing) until the peer's FIN, then the
 * handle goes back. `both` (sink, source, client) fails the connection
 * unless exactly `bytes` arrived. A reset or a timeout (RTO or keepalive)
 * ends only that connection, with its TB_ERR_*; servers keep serving.
 * Memory per connection is bounded (about 25 KiB: echo keeps at most
 * 16 KiB not yet sent back, and stops reading until it drains; http
 * holds at most NETAPP_HTTP_MAX_HEAD bytes of requests not yet answered).
 *
 * http (netapp_http.h has the parser): GET and HEAD answer 200 with
 * Content-Length, Content-Type: application/octet-stream and Connection:
 * keep-alive or close; HTTP/1.1 persists unless the request says close,
 * HTTP/1.0 only with keep-alive; pipelined requests are answered in
 * order; a body sent with a GET (Content-Length) is passed over. A head
 * over NETAPP_HTTP_MAX_HEAD is 431, a malformed request (or a 1.1 one
 * without Host) 400, another method or a Transfer-Encoding 501, another
 * major version 505: each closes the connection after the answer. Every
 * answered request counts in http_requests.
 *
 * One app per host (it is the host's application, tb_host_set_app). The
 * app sees only the host (harness/host/host.h): it runs unchanged on
 * any platform. It never reads a clock: durations are host time. It never
 * calls tb_host_stop either: the platform's loop asks netapp_done. */
#ifndef TB_APPS_NETAPP_H
#define TB_APPS_NETAPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpbed/tcpbed.h"

struct tb_host;

enum netapp_kind { NETAPP_ECHO, NETAPP_SINK, NETAPP_SOURCE, NETAPP_HTTP, NETAPP_CLIENT, NETAPP__COUNT };

/* "echo" ... "client" -> kind; false if unknown. */
bool netapp_parse_kind(const char *name, enum netapp_kind *out);
const char *netapp_kind_name(enum netapp_kind k);

#define NETAPP_DEFAULT_PORT 7          /* echo's well-known port; every server app uses it by default */
#define NETAPP_MAX_FLOWS_LISTED 1024   /* summaries list the first this many connections */

struct netapp_opts {
    enum netapp_kind kind;
    uint16_t port;                /* server apps: the port listened on (0: NETAPP_DEFAULT_PORT) */
    uint32_t backlog;             /* server apps: listen's backlog */
    uint32_t connect_ipv4;        /* client: host byte order */
    uint16_t connect_port;
    bool bytes_set;               /* false: source and client send until stopped */
    uint64_t bytes;               /* source, client, sink with both: per connection (set only for them) */
    bool both;                    /* sink, source, client: both directions at once */
    uint64_t http_body_bytes;     /* http: the body of every 200 response */
    uint64_t seed;                /* the seeded stream's */
    /* Applied to every connection (0 / false: the stack's default). */
    bool nodelay;
    tb_time_ns keepalive_idle_ns, keepalive_intvl_ns;
    uint32_t keepalive_probes;
};

/* One connection's record. */
struct netapp_flow {
    uint32_t id;                  /* in the order connections were made, from 1 */
    uint32_t peer_ipv4;
    uint16_t peer_port, local_port;
    tb_time_ns start_ns, end_ns;  /* accepted (client: connect called) .. closed (open: the summary's time) */
    uint64_t bytes_in, bytes_out;
    uint8_t sha256_in[32], sha256_out[32];   /* of every byte read / accepted by the stack (open: so far) */
    uint32_t http_requests;       /* answered, errors (400, 431, 501, 505) included */
    int error;                    /* 0, or the TB_ERR_* the connection ended with */
    const char *failure;          /* NULL, or what this app expected and did not get */
    bool done;
};

struct netapp_summary {
    enum netapp_kind kind;
    tb_time_ns start_ns, end_ns;  /* netapp_start .. the last close (or stop); now while any is open */
    uint64_t connections, connections_failed;
    uint64_t bytes_in, bytes_out;
    uint64_t http_requests;
    /* With exactly one connection: its SHA-256 each way (so far, while it
     * is open). Otherwise all zero: several connections interleave, so a
     * digest of "all the data" is not well defined; each flow has its own. */
    uint8_t sha256_in[32], sha256_out[32];
    size_t flows_listed;          /* <= NETAPP_MAX_FLOWS_LISTED */
    const struct netapp_flow *flows;
};

struct netapp;

/* Installs the app on h (tb_host_set_app) and starts it: a server listens,
 * the client connects (tb_host_connect_opts: nodelay and keepalive go with
 * its SYN; a server sets them on its listener, which gives them to every
 * connection before its SYN-ACK). NULL with err (a sentence) when the
 * options are inconsistent (an option the app would ignore is refused) or
 * the stack refuses (port in use, an option's value, no memory). */
struct netapp *netapp_start(const struct netapp_opts *o, struct tb_host *h, char *err, size_t err_len);
/* Stop gracefully: sources stop generating, servers stop accepting, every
 * connection is closed once its queued data is out (echo's pending bytes,
 * the http response being written; pipelined requests after it are not
 * answered). A sender stopped before `bytes` fails its connection. */
void netapp_stop(struct netapp *app);
/* Nothing more will happen: the client's connection has ended, or after
 * netapp_stop every connection has. */
bool netapp_done(const struct netapp *app);
/* Every connection that is not yet closed is aborted (the platform's
 * grace period ran out): each ends with TB_ERR_ABORTED; the app is done. */
void netapp_abort_all(struct netapp *app);
/* 0 when every connection ended without error and every expectation was
 * met; 1 otherwise. */
int netapp_exit_status(const struct netapp *app);
void netapp_summary(const struct netapp *app, struct netapp_summary *out);
/* The summary as text, a few lines, for a person. */
void netapp_print_summary(const struct netapp *app, FILE *f);
/* Also takes the app off its host (connections still open stay with the stack). */
void netapp_free(struct netapp *app);

/* Lower-case hex of a digest, into out[65]. */
void netapp_hex(const uint8_t digest[32], char out[65]);

#endif
