/* tcpbed tap: the stack on a Linux TAP device, in real time, running one of
 * the network applications (harness/apps/netapp.h) against whatever is on
 * the other side of the device: the kernel's TCP, curl, wrk, another stack.
 *
 *   tcpbed tap --iface tb0 --ip 10.9.0.2/24 --host-ip 10.9.0.1/24 --app http
 *
 * The loop is the host's (harness/host): poll, then sleep in ppoll until
 * the next frame or the next deadline. SIGINT/SIGTERM stop it gracefully
 * (close every connection, flush the traces, print the summary); a second
 * signal, or the grace period running out, aborts what is left. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "harness/apps/netapp.h"
#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "harness/host/host.h"
#include "harness/tap/tap.h"
#include "traces/pcap_writer.h"
#include "traces/runlog.h"
#include "tcpbed/wire.h"

#define TAP_CMD "tcpbed tap"
#define TAP_GRACE_NS (3 * TB_NS_PER_S)      /* after a stop: time for FINs to be exchanged */
#define TAP_SETTLE_NS (2 * TB_NS_PER_S)     /* after the app is done: time for the last ACKs and FINs */
#define TAP_PROBE_WAIT_NS (300 * TB_NS_PER_MS)   /* RFC 5227 §2.1.1's idea, two probes */
#define TAP_RUNNING_WAIT_NS (2 * TB_NS_PER_S)
#define HTTP_DEFAULT_BODY 1024
#define HTTP_DEFAULT_PORT 80

static volatile sig_atomic_t stop_signals;
static volatile sig_atomic_t last_signal;

static void on_stop_signal(int sig) {
    last_signal = sig;
    stop_signals++;
}

static int refuse(const char *what) {
    fprintf(stderr, TAP_CMD ": %s\nTry '" TAP_CMD " --help'.\n", what);
    return 2;
}

static bool parse_ipv4(const char *s, uint32_t *out) {
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) return false;
    *out = ntohl(a.s_addr);
    return true;
}

/* "A.B.C.D/P" */
static bool parse_cidr(const char *s, uint32_t *ip, uint8_t *prefix) {
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash - s >= 16) return false;
    char addr[16];
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    char *end;
    errno = 0;
    unsigned long p = strtoul(slash + 1, &end, 10);
    if (errno != 0 || end == slash + 1 || *end != '\0' || p < 1 || p > 30) return false;
    if (!parse_ipv4(addr, ip)) return false;
    *prefix = (uint8_t)p;
    return true;
}

/* "A.B.C.D:PORT" */
static bool parse_endpoint(const char *s, uint32_t *ip, uint16_t *port) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon - s >= 16) return false;
    char addr[16];
    memcpy(addr, s, (size_t)(colon - s));
    addr[colon - s] = '\0';
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || p < 1 || p > 65535) return false;
    if (!parse_ipv4(addr, ip)) return false;
    *port = (uint16_t)p;
    return true;
}

static bool parse_mac(const char *s, struct tb_mac *m) {
    unsigned v[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6) return false;
    for (int i = 0; i < 6; i++) m->b[i] = (uint8_t)v[i];
    return (m->b[0] & 1) == 0;   /* a unicast address */
}

static void format_ip(uint32_t ip, char out[16]) {
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* RFC 5227 §2.1.1's probe, once: an ARP request for our address from
 * 0.0.0.0. Anyone answering, or asking for it with our address as theirs,
 * holds it. Sent on the device directly, before the stack exists, so it is
 * in no capture or run-log. */
static bool address_in_use(struct tb_tap *t, const struct tb_mac *mac, uint32_t ip, struct tb_mac *holder) {
    /* A kernel side that is down has no one to answer; one just attached
     * drops what it would send until its link watch runs. */
    if (!tb_tap_wait_running(t, TAP_RUNNING_WAIT_NS)) return false;
    uint8_t frame[TB_ETH_HDR_LEN + TB_ARP_LEN];
    struct tb_eth_repr eth = {.ethertype = TB_ETHERTYPE_ARP, .src = *mac};
    memset(eth.dst.b, 0xff, 6);
    tb_eth_emit(&eth, frame);
    struct tb_arp_repr arp = {.op = TB_ARP_OP_REQUEST, .sha = *mac, .spa = 0, .tpa = ip};
    tb_arp_emit(&arp, frame + TB_ETH_HDR_LEN);
    if (write(t->fd, frame, sizeof(frame)) != (ssize_t)sizeof(frame)) return false;
    tb_time_ns until = tb_tap_clock_now() + TAP_PROBE_WAIT_NS;
    bool second_sent = false;
    for (;;) {
        ssize_t got;
        while ((got = read(t->fd, t->frame, sizeof(t->frame))) > 0) {
            struct tb_eth_repr e;
            size_t off;
            struct tb_arp_repr a;
            if (tb_eth_parse(t->frame, (size_t)got, &e, &off) != TB_WIRE_OK || e.ethertype != TB_ETHERTYPE_ARP) continue;
            if (tb_arp_parse(t->frame + off, (size_t)got - off, &a) != TB_WIRE_OK) continue;
            if (a.spa == ip && memcmp(a.sha.b, mac->b, 6) != 0) {
                *holder = a.sha;
                return true;
            }
        }
        tb_time_ns now = tb_tap_clock_now();
        if (!second_sent && now >= until - TAP_PROBE_WAIT_NS / 2) {
            /* RFC 5227 sends several probes: a second one covers a first
             * the kernel dropped. */
            second_sent = true;
            if (write(t->fd, frame, sizeof(frame)) != (ssize_t)sizeof(frame)) return false;
        }
        if (now >= until) return false;
        tb_tap_wait(t, second_sent ? until : until - TAP_PROBE_WAIT_NS / 2, NULL);
    }
}

static const char *error_name(int e) {
    switch (e) {
    case TB_ERR_RESET: return "reset";
    case TB_ERR_TIMEOUT: return "timeout";
    case TB_ERR_REFUSED: return "refused";
    case TB_ERR_ABORTED: return "aborted";
    case TB_ERR_UNREACH: return "unreachable";
    case 0: return NULL;
    default: return "error";
    }
}

static void json_summary(const struct netapp_summary *s, const struct tb_tap *t, const struct tb_stats *st,
                         const char *iface, uint32_t ip, uint64_t seed, const char *pcap, const char *record,
                         int status, const char *stopped_by) {
    char buf[65];
    struct json j;
    json_begin(&j, stdout);
    json_str(&j, "command", "tap");
    json_str(&j, "app", netapp_kind_name(s->kind));
    json_str(&j, "iface", iface);
    format_ip(ip, buf);
    json_str(&j, "ip", buf);
    json_u64(&j, "seed", seed);
    double secs = (double)(s->end_ns - s->start_ns) / 1e9;
    json_f64(&j, "duration_s", secs);
    json_u64(&j, "connections", s->connections);
    json_u64(&j, "connections_failed", s->connections_failed);
    json_u64(&j, "bytes_in", s->bytes_in);
    json_u64(&j, "bytes_out", s->bytes_out);
    json_f64(&j, "goodput_in_bps", secs > 0 ? (double)s->bytes_in * 8 / secs : 0);
    json_f64(&j, "goodput_out_bps", secs > 0 ? (double)s->bytes_out * 8 / secs : 0);
    netapp_hex(s->sha256_in, buf);
    json_str(&j, "sha256_in", s->connections == 1 ? buf : "");
    netapp_hex(s->sha256_out, buf);
    json_str(&j, "sha256_out", s->connections == 1 ? buf : "");
    json_u64(&j, "http_requests", s->http_requests);
    json_arr_open(&j, "flows");
    for (size_t i = 0; i < s->flows_listed; i++) {
        const struct netapp_flow *f = &s->flows[i];
        json_obj_open(&j, NULL);
        json_u64(&j, "id", f->id);
        format_ip(f->peer_ipv4, buf);
        json_str(&j, "peer", buf);
        json_u64(&j, "peer_port", f->peer_port);
        json_u64(&j, "local_port", f->local_port);
        json_f64(&j, "duration_s", (double)(f->end_ns - f->start_ns) / 1e9);
        json_u64(&j, "bytes_in", f->bytes_in);
        json_u64(&j, "bytes_out", f->bytes_out);
        netapp_hex(f->sha256_in, buf);
        json_str(&j, "sha256_in", buf);
        netapp_hex(f->sha256_out, buf);
        json_str(&j, "sha256_out", buf);
        if (s->kind == NETAPP_HTTP) json_u64(&j, "http_requests", f->http_requests);
        const char *e = error_name(f->error);
        if (e != NULL) json_str(&j, "error", e);
        if (f->failure != NULL) json_str(&j, "failure", f->failure);
        json_bool(&j, "done", f->done);
        json_obj_close(&j);
    }
    json_arr_close(&j);
    json_obj_open(&j, "port");
    json_u64(&j, "rx_frames", t->rx_frames);
    json_u64(&j, "rx_bytes", t->rx_bytes);
    json_u64(&j, "tx_frames", t->tx_frames);
    json_u64(&j, "tx_bytes", t->tx_bytes);
    json_u64(&j, "rx_no_buffer", t->rx_no_buffer);
    json_u64(&j, "rx_too_big", t->rx_too_big);
    json_u64(&j, "tx_errors", t->tx_errors);
    json_obj_close(&j);
    json_stats(&j, "stack", st);
    if (pcap != NULL) json_str(&j, "pcap", pcap);
    if (record != NULL) json_str(&j, "record", record);
    json_str(&j, "stopped_by", stopped_by);
    json_bool(&j, "pass", status == 0);
    json_end(&j);
}

int cmd_tap(int argc, char **argv) {
    const char *iface = NULL, *ip_s = NULL, *gw_s = NULL, *mac_s = NULL, *app_s = NULL, *connect_s = NULL;
    const char *pcap_path = NULL, *record_path = NULL, *host_ip_s = NULL;
    uint64_t port = 0, bytes = 0, seed = 0, backlog = 128, max_retries = 0, keepalive_probes = 0;
    tb_time_ns duration = 0, rto_min = 0, keepalive_idle = 0, keepalive_intvl = 0;
    bool both = false, json = false, nodelay = false;
    struct opt opts[] = {
        {"iface", OPT_STRING, &iface, "NAME", "the TAP device: created if missing, attached if persistent and free", 0, 0},
        {"ip", OPT_STRING, &ip_s, "ADDR/PREFIX", "the stack's IPv4 address and prefix, e.g. 10.9.0.2/24", 0, 0},
        {"gw", OPT_STRING, &gw_s, "ADDR", "default gateway (default: none, on-link only)", 0, 0},
        {"mac", OPT_STRING, &mac_s, "MAC", "the stack's MAC (default 02:74:62 and the address's last 3 bytes)", 0, 0},
        {"app", OPT_STRING, &app_s, "APP", "echo, sink, source, http or client", 0, 0},
        {"port", OPT_U64, &port, "P", "server apps: the port to listen on (default 7; http 80)", 1, 65535},
        {"connect", OPT_STRING, &connect_s, "ADDR:PORT", "client: where to connect", 0, 0},
        {"bytes", OPT_SIZE, &bytes, "N",
         "source, client, sink --both: bytes to send per connection (default: until stopped);"
         " http: the body size (default 1024)", 0, UINT64_C(1) << 50},
        {"both", OPT_FLAG, &both, NULL, "sink, source, client: both directions at once, --bytes each way", 0, 0},
        {"seed", OPT_U64, &seed, "S", "the stack's and the data's seed (default: from the OS)", 0, TB_SEED_MAX},
        {"pcap", OPT_STRING, &pcap_path, "FILE", "write every frame the stack sends and receives", 0, 0},
        {"record", OPT_STRING, &record_path, "FILE", "write a run-log for tcpbed replay", 0, 0},
        {"duration", OPT_DURATION, &duration, "TIME", "stop after this long (default: until done or signalled)", 1,
         (uint64_t)365 * 86400 * TB_NS_PER_S},
        {"json", OPT_FLAG, &json, NULL, "print the summary as one JSON object", 0, 0},
        {"host-ip", OPT_STRING, &host_ip_s, "ADDR/PREFIX", "also give the kernel's side of the device this address "
                                                           "and bring it up", 0, 0},
        {"backlog", OPT_U64, &backlog, "N", "server apps: listen's backlog (default 128)", 1, 65535},
        {"nodelay", OPT_FLAG, &nodelay, NULL, "turn Nagle off on every connection", 0, 0},
        {"max-retries", OPT_U64, &max_retries, "N", "RTO expiries in a row before a connection times out (default 12)",
         1, 255},
        {"rto-min", OPT_DURATION, &rto_min, "TIME", "the RTO's floor (default 200ms)", TB_NS_PER_MS, 0},
        {"keepalive-idle", OPT_DURATION, &keepalive_idle, "TIME", "keepalive after this much idle time (default off)",
         TB_NS_PER_S / 10, 0},
        {"keepalive-intvl", OPT_DURATION, &keepalive_intvl, "TIME", "between keepalive probes (default 75s)",
         TB_NS_PER_S / 10, 0},
        {"keepalive-probes", OPT_U64, &keepalive_probes, "N", "unanswered probes before giving up (default 9)", 1, 255},
    };
    int nopts = (int)(sizeof(opts) / sizeof(opts[0]));
    int rc = opts_parse(TAP_CMD,
                        "Runs the stack on a Linux TAP device in real time with one application:\n"
                        "echo, sink (discard and hash), source (send seeded data), http (an HTTP/1.1\n"
                        "responder for curl and wrk) or client (connect out, send, receive). Prints a\n"
                        "summary (bytes, duration, goodput, SHA-256 each way) when it ends: when the client\n"
                        "is done, after --duration, or on SIGINT/SIGTERM. Needs root (CAP_NET_ADMIN).",
                        opts, nopts, argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if (iface == NULL) return refuse("--iface NAME is required (the TAP device)");
    if (ip_s == NULL) return refuse("--ip ADDR/PREFIX is required (e.g. --ip 10.9.0.2/24)");
    if (app_s == NULL) return refuse("--app is required: echo, sink, source, http or client");

    struct netapp_opts ao;
    memset(&ao, 0, sizeof(ao));
    if (!netapp_parse_kind(app_s, &ao.kind)) {
        char m[160];
        snprintf(m, sizeof(m), "--app: expected echo, sink, source, http or client, got '%s'", app_s);
        return refuse(m);
    }
    uint32_t ip = 0, gw = 0, host_ip = 0;
    uint8_t prefix = 0, host_prefix = 0;
    if (!parse_cidr(ip_s, &ip, &prefix)) return refuse("--ip: expected ADDR/PREFIX with PREFIX 1..30, e.g. 10.9.0.2/24");
    if (gw_s != NULL && !parse_ipv4(gw_s, &gw)) return refuse("--gw: expected an IPv4 address, e.g. 10.9.0.1");
    if (host_ip_s != NULL && !parse_cidr(host_ip_s, &host_ip, &host_prefix))
        return refuse("--host-ip: expected ADDR/PREFIX with PREFIX 1..30, e.g. 10.9.0.1/24");
    if (host_ip_s != NULL && host_ip == ip) return refuse("--host-ip: the kernel's address must differ from --ip");
    uint32_t mask = ~UINT32_C(0) << (32 - prefix);
    if ((ip & ~mask) == 0 || (ip & ~mask) == ~mask) return refuse("--ip: that is the subnet's network or broadcast address");
    if (gw_s != NULL && (gw & mask) != (ip & mask)) return refuse("--gw: the gateway must be on --ip's subnet");
    struct tb_mac mac = {{0x02, 0x74, 0x62, (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip}};
    if (mac_s != NULL && !parse_mac(mac_s, &mac)) return refuse("--mac: expected a unicast MAC, e.g. 02:00:00:00:00:01");

    bool server = ao.kind != NETAPP_CLIENT;
    if (server && connect_s != NULL) return refuse("--connect is for --app client; server apps listen on --port");
    if (!server && connect_s == NULL) return refuse("--app client needs --connect ADDR:PORT");
    if (!server && port != 0) return refuse("--port is for server apps; the client's destination is --connect ADDR:PORT");
    bool backlog_given = false;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--backlog") == 0 || strncmp(argv[i], "--backlog=", 10) == 0) backlog_given = true;
    if (!server && backlog_given) return refuse("--backlog is for server apps (the client does not listen)");
    if (!server && !parse_endpoint(connect_s, &ao.connect_ipv4, &ao.connect_port))
        return refuse("--connect: expected ADDR:PORT, e.g. 10.9.0.1:5001");
    bool bytes_given = false;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--bytes") == 0 || strncmp(argv[i], "--bytes=", 8) == 0) bytes_given = true;
    if (ao.kind == NETAPP_ECHO && bytes_given) return refuse("--bytes: echo sends back what it gets; it has no size");
    if (ao.kind == NETAPP_SINK && bytes_given && !both)
        return refuse("--bytes: sink sends nothing unless --both (then --bytes each way)");
    if (both && (ao.kind == NETAPP_ECHO || ao.kind == NETAPP_HTTP)) return refuse("--both is for sink, source and client");
    if (both && !bytes_given) return refuse("--both needs --bytes N (the bytes each way)");
    ao.port = (uint16_t)(port != 0 ? port : ao.kind == NETAPP_HTTP ? HTTP_DEFAULT_PORT : NETAPP_DEFAULT_PORT);
    ao.backlog = (uint32_t)backlog;
    ao.bytes_set = bytes_given && ao.kind != NETAPP_HTTP;
    ao.bytes = bytes;
    ao.http_body_bytes = ao.kind == NETAPP_HTTP ? (bytes_given ? bytes : HTTP_DEFAULT_BODY) : 0;
    ao.both = both;
    ao.nodelay = nodelay;
    ao.keepalive_idle_ns = keepalive_idle;
    ao.keepalive_intvl_ns = keepalive_intvl;
    ao.keepalive_probes = (uint32_t)keepalive_probes;
    if ((keepalive_intvl != 0 || keepalive_probes != 0) && keepalive_idle == 0)
        return refuse("--keepalive-intvl and --keepalive-probes need --keepalive-idle (keepalive is off without it)");

    bool seed_given = false;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--seed") == 0 || strncmp(argv[i], "--seed=", 7) == 0) seed_given = true;
    if (!seed_given) {
        /* A real datapath draws its seed from the OS (DESIGN.md §1); the
         * summary and the run-log say which, so a run can be repeated. */
        uint64_t r;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
            fprintf(stderr, TAP_CMD ": getrandom: %s\n", strerror(errno));
            return 1;
        }
        seed = r & TB_SEED_MAX;
    }
    ao.seed = seed;

    struct tb_config cfg;
    tb_config_default(&cfg);
    cfg.seed = seed;
    cfg.mac = mac;
    cfg.ipv4_addr = ip;
    cfg.ipv4_prefix_len = prefix;
    cfg.ipv4_gateway = gw;
    /* A TAP bulk transfer runs at hundreds of MB/s with ~50 us RTTs:
     * a larger pool keeps a 256 KiB window in flight both ways. */
    cfg.buf_count = 8192;
    cfg.tx_queue_len = 4096;
    if (max_retries != 0) cfg.tcp_max_retries = (uint32_t)max_retries;
    if (rto_min != 0) {
        cfg.tcp_rto_min_ns = rto_min;
        if (cfg.tcp_rto_initial_ns < rto_min) cfg.tcp_rto_initial_ns = rto_min;
    }
    const char *why = NULL;
    if (tb_config_check(&cfg, &why) != 0) {
        char m[200];
        snprintf(m, sizeof(m), "the stack refuses this configuration: %s", why);
        return refuse(m);
    }

    char err[320];
    struct tb_tap *tap = malloc(sizeof(*tap));
    if (tap == NULL) {
        fprintf(stderr, TAP_CMD ": out of memory\n");
        return 1;
    }
    if (!tb_tap_open(tap, iface, err, sizeof(err))) {
        fprintf(stderr, TAP_CMD ": %s\n", err);
        free(tap);
        return 1;
    }
    tap->max_frame = TB_ETH_HDR_LEN + cfg.mtu;
    int status = 1;
    struct tb_host *h = NULL;
    struct netapp *app = NULL;
    struct tb_pcap_writer *pcap = NULL;
    struct tb_runlog_writer *rlog = NULL;
    if (host_ip_s != NULL && !tb_tap_kernel_side(tap, host_ip, host_prefix, err, sizeof(err))) {
        fprintf(stderr, TAP_CMD ": %s\n", err);
        goto out;
    }
    int kmtu = tb_tap_mtu(tap);
    if (kmtu > cfg.mtu)
        fprintf(stderr, TAP_CMD ": warning: %s's MTU is %d, the stack's %u: frames over %u bytes are dropped "
                        "(ip link set %s mtu %u)\n", tap->ifname, kmtu, cfg.mtu, TB_ETH_HDR_LEN + cfg.mtu, tap->ifname,
                cfg.mtu);
    struct tb_mac holder;
    if (address_in_use(tap, &mac, ip, &holder)) {
        char a[16];
        format_ip(ip, a);
        fprintf(stderr, TAP_CMD ": address %s is already in use on %s (by %02x:%02x:%02x:%02x:%02x:%02x)\n", a,
                tap->ifname, holder.b[0], holder.b[1], holder.b[2], holder.b[3], holder.b[4], holder.b[5]);
        goto out;
    }

    struct tb_host_params hp = {.name = "tap", .cfg = &cfg, .port_ops = &tb_tap_port_ops, .port = tap,
                                .env_ops = &tb_tap_env_ops, .env = NULL};
    h = tb_host_new(&hp);
    if (h == NULL) {
        fprintf(stderr, TAP_CMD ": out of memory building the stack\n");
        goto out;
    }
    if (pcap_path != NULL) {
        pcap = tb_pcap_open(pcap_path, err, sizeof(err));
        if (pcap == NULL || !tb_pcap_attach(h, pcap)) {
            fprintf(stderr, TAP_CMD ": --pcap: %s\n", pcap == NULL ? err : "no hook slot left");
            goto out;
        }
    }
    if (record_path != NULL) {
        char cmdline[1024];
        size_t off = (size_t)snprintf(cmdline, sizeof(cmdline), "tcpbed tap");
        for (int i = 0; i < argc && off < sizeof(cmdline); i++)
            off += (size_t)snprintf(cmdline + off, sizeof(cmdline) - off, " %s", argv[i]);
        rlog = tb_runlog_open(record_path, &cfg, "tap", cmdline, err, sizeof(err));
        if (rlog == NULL || !tb_runlog_attach(rlog, h)) {
            fprintf(stderr, TAP_CMD ": --record: %s\n", rlog == NULL ? err : "no hook slot left");
            goto out;
        }
    }

    /* Signals are blocked except while waiting in ppoll, so a stop can
     * never fall between the check and the sleep. Installed explicitly:
     * a background job of a script starts with SIGINT ignored. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    app = netapp_start(&ao, h, err, sizeof(err));
    if (app == NULL) {
        fprintf(stderr, TAP_CMD ": %s\n", err);
        goto out;
    }
    tb_host_kick(h);
    {   /* on stderr even with --json: scripts wait for this line */
        char a[16];
        format_ip(ip, a);
        if (server)
            fprintf(stderr, TAP_CMD ": %s on %s: listening on %s:%u (seed %llu)\n", app_s, tap->ifname, a, ao.port,
                    (unsigned long long)seed);
        else
            fprintf(stderr, TAP_CMD ": client on %s as %s: connecting to %s (seed %llu)\n", tap->ifname, a, connect_s,
                    (unsigned long long)seed);
    }

    tb_time_ns start = tb_tap_clock_now();
    tb_time_ns end_at = duration > 0 ? start + duration : TB_TIME_NEVER;
    tb_time_ns grace_end = TB_TIME_NEVER, settle_end = TB_TIME_NEVER;
    const char *stopped_by = "done";
    bool stopping = false;
    bool device_failed = false;
    for (;;) {
        tb_time_ns next = tb_host_poll(h);
        tb_time_ns now = tb_tap_clock_now();
        /* A signal is delivered only when ppoll returns for it; a device
         * that is always ready would hold it pending forever. Take any
         * pending stop signal here, whatever ppoll did. */
        const struct timespec no_wait = {0, 0};
        int sig;
        while ((sig = sigtimedwait(&block, NULL, &no_wait)) > 0) on_stop_signal(sig);
        if (tb_tap_failed(tap)) {
            fprintf(stderr, TAP_CMD ": %s failed: %s (deleted, or taken down): stopping\n", tap->ifname,
                    strerror(tap->failed_errno));
            device_failed = true;
            stopped_by = "device failure";
            netapp_abort_all(app);
            break;
        }
        if (!stopping && (stop_signals > 0 || now >= end_at)) {
            stopping = true;
            stopped_by = stop_signals > 0 ? (last_signal == SIGINT ? "SIGINT" : "SIGTERM") : "duration";
            netapp_stop(app);
            tb_host_kick(h);
            grace_end = now + TAP_GRACE_NS;
        }
        if (netapp_done(app) && settle_end == TB_TIME_NEVER) settle_end = now + TAP_SETTLE_NS;
        if (stop_signals > 1 || (stopping && now >= grace_end && !netapp_done(app))) {
            netapp_abort_all(app);
            tb_host_kick(h);
            break;
        }
        /* Done: linger while a timer is due soon (a retransmitted FIN, the
         * last ACK), never into TIME-WAIT's minutes. */
        if (settle_end != TB_TIME_NEVER) {
            next = tb_host_next_deadline(h);
            if (now >= settle_end || next > settle_end) break;
        }
        tb_time_ns deadline = next;
        if (!stopping && end_at < deadline) deadline = end_at;
        if (grace_end < deadline) deadline = grace_end;
        if (settle_end < deadline) deadline = settle_end;
        tb_tap_wait(tap, deadline, &waitmask);
    }
    status = device_failed ? 1 : netapp_exit_status(app);
    struct netapp_summary s;
    netapp_summary(app, &s);
    struct tb_stats st;
    tb_stack_stats(tb_host_stack(h), &st);
    if (json) {
        json_summary(&s, tap, &st, tap->ifname, ip, seed, pcap_path, record_path, status, stopped_by);
    } else {
        netapp_print_summary(app, stdout);
        printf("port %s: rx %llu frames, tx %llu frames, rx dropped %llu (no buffer) + %llu (too big), tx errors %llu\n",
               tap->ifname, (unsigned long long)tap->rx_frames, (unsigned long long)tap->tx_frames,
               (unsigned long long)tap->rx_no_buffer, (unsigned long long)tap->rx_too_big,
               (unsigned long long)tap->tx_errors);
        print_drops("tap", &st);
        printf("stopped by %s; seed %llu\n", stopped_by, (unsigned long long)seed);
    }

out:
    if (rlog != NULL && tb_runlog_close(rlog, err, sizeof(err)) != 0) {
        fprintf(stderr, TAP_CMD ": --record: %s\n", err);
        status = 1;
    }
    if (pcap != NULL && tb_pcap_close(pcap, err, sizeof(err)) != 0) {
        fprintf(stderr, TAP_CMD ": --pcap: %s\n", err);
        status = 1;
    }
    netapp_free(app);
    tb_host_free(h);
    tb_tap_close(tap);
    free(tap);
    return status;
}
