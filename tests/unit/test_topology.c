/* sim/: routers, topologies, workloads and scenario files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "harness/lib/ipmap.h"
#include "sim/scenario.h"
#include "sim/topology.h"

/* A -- R -- B across two subnets: ping goes through, TTL drops by one. */
struct routed {
    struct sim *sim;
    struct sim_host *a, *b;
    struct sim_router *r;
    uint8_t reply_ttl;
    int replies;
};

static void routed_app(struct sim *sim, struct sim_host *h, void *ctx) {
    (void)sim;
    struct routed *n = ctx;
    struct tb_event ev[8];
    size_t k;
    while ((k = tb_stack_events(sim_host_stack(h), ev, 8)) > 0)
        for (size_t i = 0; i < k; i++)
            if (ev[i].type == TB_EV_ECHO_REPLY) {
                n->replies++;
                n->reply_ttl = ev[i].u.echo.ttl;
            }
}

static void routed_build(struct routed *n, uint8_t ttl) {
    memset(n, 0, sizeof(*n));
    n->sim = sim_new(1);
    struct tb_config cfg;
    tb_config_default(&cfg);
    cfg.mac.b[0] = 2;
    cfg.mac.b[5] = 1;
    cfg.ipv4_addr = 0x0a010002;     /* 10.1.0.2/24 via 10.1.0.1 */
    cfg.ipv4_gateway = 0x0a010001;
    cfg.ttl = ttl;
    n->a = sim_add_host(n->sim, "A", &cfg);
    cfg.mac.b[5] = 2;
    cfg.ipv4_addr = 0x0a020002;     /* 10.2.0.2/24 via 10.2.0.1 */
    cfg.ipv4_gateway = 0x0a020001;
    n->b = sim_add_host(n->sim, "B", &cfg);
    n->r = sim_add_router(n->sim, "R");
    int p0 = sim_router_add_port(n->r, 0x0a010001, 24), p1 = sim_router_add_port(n->r, 0x0a020001, 24);
    struct sim_link_params l = {.delay_ns = TB_NS_PER_MS, .rate_bps = 1000000000, .queue_bytes = 1 << 20};
    assert_true(sim_connect_host_router(n->sim, n->a, n->r, p0, &l) >= 0);
    assert_true(sim_connect_host_router(n->sim, n->b, n->r, p1, &l) >= 0);
    sim_host_set_app(n->a, routed_app, n);
}

static void ping_at(struct sim *sim, void *ctx, uint64_t dst) {
    struct routed *n = ctx;
    tb_ping_send(sim_host_stack(n->a), sim_now(sim), (uint32_t)dst, 1, 1, 16);
    sim_host_kick(sim, n->a);
}

/* RFC 1812 §5.3.1: a router decrements the TTL of what it forwards. */
static void router_forwards_between_subnets_and_decrements_ttl(void **state) {
    (void)state;
    struct routed n;
    routed_build(&n, 64);
    sim_at(n.sim, 0, ping_at, &n, 0x0a020002);
    sim_run(n.sim, 10 * TB_NS_PER_S);
    assert_int_equal(n.replies, 1);
    assert_int_equal(n.reply_ttl, 63);   /* B's reply crossed R once */
    struct sim_router_stats rs;
    sim_router_get_stats(n.r, &rs);
    assert_int_equal(rs.forwarded, 2);
    assert_int_equal(rs.arp_replies, 2);  /* A and B each resolved their gateway */
    sim_free(n.sim);
}

static void router_drops_expiring_ttl_and_unroutable_frames(void **state) {
    (void)state;
    struct routed n;
    routed_build(&n, 1);
    sim_at(n.sim, 0, ping_at, &n, 0x0a020002);
    sim_at(n.sim, TB_NS_PER_S, ping_at, &n, 0x0a090002);   /* no such subnet */
    sim_run(n.sim, 10 * TB_NS_PER_S);
    struct sim_router_stats rs;
    sim_router_get_stats(n.r, &rs);
    assert_int_equal(n.replies, 0);
    assert_int_equal(rs.dropped_ttl, 2);   /* TTL 1 dies at the router, both pings */
    assert_int_equal(rs.dropped_no_route, 0);
    sim_free(n.sim);
}

static void dumbbell_opts(struct dumbbell_opts *d, int pairs) {
    memset(d, 0, sizeof(*d));
    d->pairs = pairs;
    struct sim_link_params b = {.delay_ns = 10 * TB_NS_PER_MS, .rate_bps = 100000000, .queue_bytes = 300000};
    d->bottleneck_ab = d->bottleneck_ba = b;
    d->access_rate_bps = 1000000000;
    d->access_delay_ns = TB_NS_PER_MS;
    d->kinds[0] = WL_BULK;
    d->nkinds = 1;
    d->bytes = 1 << 20;
    d->resp_bytes = 1000;
    d->count = 5;
    d->parallel = 2;
    d->think_ns = 100 * TB_NS_PER_MS;
}

static void dumbbell_bulk_flows_all_arrive_and_share_fairly(void **state) {
    (void)state;
    struct topo *t = calloc(1, sizeof(*t));
    struct topo_result *r = calloc(1, sizeof(*r));
    topo_init(t);
    struct dumbbell_opts d;
    dumbbell_opts(&d, 4);
    assert_true(topo_dumbbell(t, &d));
    assert_int_equal(topo_run(t, NULL, r), 0);
    if (!r->pass) fail_msg("%s", r->failure);
    for (int i = 0; i < 4; i++) assert_int_equal(t->flows[i].f.delivered, 1 << 20);
    assert_true(r->fairness > 0.9);
    assert_true(r->router_stats[0].forwarded > 4 * 700);   /* R1 carried every data segment */
    topo_free(t);
    free(t);
    topo_result_free(r);
    free(r);
}

static void mixed_workload_completes_every_kind(void **state) {
    (void)state;
    struct topo *t = calloc(1, sizeof(*t));
    struct topo_result *r = calloc(1, sizeof(*r));
    topo_init(t);
    struct dumbbell_opts d;
    dumbbell_opts(&d, 4);
    d.kinds[0] = WL_BULK;
    d.kinds[1] = WL_RR;
    d.kinds[2] = WL_CRR;
    d.kinds[3] = WL_IDLE;
    d.nkinds = 4;
    d.bytes = 200000;
    d.think_ns = 2 * TB_NS_PER_S;   /* idle periods long enough for keepalive */
    assert_true(topo_dumbbell(t, &d));
    assert_int_equal(topo_run(t, NULL, r), 0);
    if (!r->pass) fail_msg("%s", r->failure);
    struct wl_flow *bulk = &t->flows[0].f, *rr = &t->flows[1].f, *crr = &t->flows[2].f, *idle = &t->flows[3].f;
    assert_int_equal(bulk->delivered, 200000);
    assert_int_equal(rr->requests_done, 5);
    assert_int_equal(rr->delivered, 5u * (200000 + 1000));
    assert_true(rr->lat_min_ns >= 2 * (10 + 2) * TB_NS_PER_MS);   /* at least one RTT */
    assert_int_equal(crr->conns_done, 5);
    assert_int_equal(crr->delivered, 5u * (200000 + 1000));
    assert_int_equal(idle->delivered, 5u * 200000);
    assert_true(idle->keepalive_probes > 0);
    topo_free(t);
    free(t);
    topo_result_free(r);
    free(r);
}

static void topology_runs_are_deterministic(void **state) {
    (void)state;
    uint64_t events[2];
    for (int k = 0; k < 2; k++) {
        struct topo *t = calloc(1, sizeof(*t));
        struct topo_result *r = calloc(1, sizeof(*r));
        topo_init(t);
        struct dumbbell_opts d;
        dumbbell_opts(&d, 3);
        d.bottleneck_ab.loss = 0.01;
        assert_true(topo_dumbbell(t, &d));
        assert_int_equal(topo_run(t, NULL, r), 0);
        assert_true(r->pass);
        events[k] = r->events * 1000003 + r->packets;
        topo_free(t);
        free(t);
        topo_result_free(r);
        free(r);
    }
    assert_true(events[0] == events[1]);
}

static const char *write_tmp(const char *text) {
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/tcpbed_scenario_%ld.ini", (long)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void scenario_file_loads_and_runs(void **state) {
    (void)state;
    struct topo *t = calloc(1, sizeof(*t));
    struct topo_result *r = calloc(1, sizeof(*r));
    topo_init(t);
    char err[800];
    if (!scenario_load("tests/scenarios/branch-office.ini", t, err, sizeof(err))) fail_msg("%s", err);
    assert_int_equal(t->nhosts, 3);
    assert_int_equal(t->nrouters, 2);
    assert_int_equal(t->nlinks, 4);
    assert_int_equal(t->nflows, 3);
    assert_int_equal(t->nfaults, 1);
    assert_int_equal(t->seed, 7);
    assert_true(t->links[2].ab.loss == 0.005 && t->links[2].ba.loss == 0);
    assert_int_equal(topo_run(t, NULL, r), 0);
    if (!r->pass) fail_msg("%s", r->failure);
    bool found = false;
    for (int i = 0; i < r->nlinks; i++)
        if (strcmp(r->links[i].name, "branch>hq") == 0) {
            assert_int_equal(r->links[i].stats.fault_drops, 1);   /* the [faults] SYN drop */
            assert_true(r->links[i].stats.loss_drops > 0);
            found = true;
        }
    assert_true(found);
    topo_free(t);
    free(t);
    topo_result_free(r);
    free(r);
}

static void scenario_errors_name_the_line_and_what_was_expected(void **state) {
    (void)state;
    struct { const char *text, *needle; } bad[] = {
        {"[link A-B]\nrate = fast\n", ":2: [link A-B] rate: expected a rate such as 10Mbps"},
        {"[host A]\naddress = 10.0.0.1\n", ":2: [host A] address: expected an address such as 10.0.0.1/24"},
        {"[host A]\naddress = 10.0.0.1/24\nthis is not ini\n", ":3: expected [section], KEY = VALUE"},
        {"[planet X]\n", ":1: [planet X] section: expected [sim], [host NAME]"},
        {"[flow f]\ntype = teleport\n", ":2: [flow f] type: expected bulk, rr, crr or idle"},
        {"[link A]\nrate = 1Gbps\n", ":1: [link A] section: expected [link A-B]"},
        {"[link A-B]\nloss_ab = 2\n", ":2: [link A-B] loss_ab: expected a probability 0..1"},
        {"[faults]\nbreak = all\n", ":2: [faults] break: unknown key"},
        {"[host A]\naddress = 10.0.0.1/24\n", "no [flow NAME] sections"},
        {"[flow f]\ntype = bulk\nfrom = A\n", "[flow f] needs from = HOST and to = HOST"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct topo *t = calloc(1, sizeof(*t));
        topo_init(t);
        char err[800];
        const char *path = write_tmp(bad[i].text);
        assert_false(scenario_load(path, t, err, sizeof(err)));
        if (strstr(err, bad[i].needle) == NULL) fail_msg("case %zu: got '%s', wanted '%s'", i, err, bad[i].needle);
        unlink(path);
        topo_free(t);
        free(t);
    }
}

static void topology_setup_errors_are_precise(void **state) {
    (void)state;
    struct { const char *text, *needle; } bad[] = {
        {"[host A]\naddress = 10.0.0.1/24\n[host B]\naddress = 10.0.0.2/24\n[link A-C]\n[flow f]\ntype = bulk\nfrom = A\nto = B\nbytes = 1K\n",
         "no host or router named 'C'"},
        {"[host A]\naddress = 10.0.0.1/24\n[router R]\nport = 10.9.0.1/24\n[link A-R]\n[host B]\naddress = 10.0.0.2/24\n[flow f]\nfrom = A\nto = B\nbytes = 1K\n",
         "router R has no port on A's subnet"},
        {"[host A]\naddress = 10.0.0.1/24\n[host B]\naddress = 10.0.0.2/24\n[link A-B]\n[flow f]\nfrom = A\nto = Z\nbytes = 1K\n",
         "flow f: no host named 'Z'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct topo *t = calloc(1, sizeof(*t));
        struct topo_result *r = calloc(1, sizeof(*r));
        topo_init(t);
        char err[800];
        const char *path = write_tmp(bad[i].text);
        if (!scenario_load(path, t, err, sizeof(err))) fail_msg("case %zu loads: %s", i, err);
        assert_int_equal(topo_run(t, NULL, r), -1);
        if (strstr(r->error, bad[i].needle) == NULL) fail_msg("case %zu: got '%s', wanted '%s'", i, r->error, bad[i].needle);
        unlink(path);
        topo_free(t);
        free(t);
        topo_result_free(r);
        free(r);
    }
}

/* The hashed tables under the routers and the topology: exact keys with
 * deletion (backward shift keeps every other key reachable), and longest
 * prefix first. */
static void ipmap_and_longest_prefix_match(void **state) {
    (void)state;
    struct ipmap m;
    ipmap_init(&m);
    for (uint32_t i = 0; i < 5000; i++) assert_true(ipmap_put(&m, (uint64_t)i * 7919, (int32_t)i));
    for (uint32_t i = 0; i < 5000; i += 2) assert_true(ipmap_del(&m, (uint64_t)i * 7919));
    assert_false(ipmap_del(&m, 2));
    for (uint32_t i = 0; i < 5000; i++) assert_int_equal(ipmap_get(&m, (uint64_t)i * 7919), i % 2 ? (int32_t)i : -1);
    assert_true(ipmap_put(&m, 7919, 42));   /* replaces */
    assert_int_equal(ipmap_get(&m, 7919), 42);
    assert_int_equal(m.count, 2500);
    ipmap_free(&m);

    struct lpm t;
    lpm_init(&t);
    assert_int_equal(lpm_lookup(&t, 0x0a010203, NULL), -1);
    assert_true(lpm_put(&t, 0, 0, 1));             /* default */
    assert_true(lpm_put(&t, 0x0a000000, 8, 2));    /* 10/8 */
    assert_true(lpm_put(&t, 0x0a0102ff, 24, 3));   /* 10.1.2/24: host bits ignored */
    uint8_t len = 0;
    assert_int_equal(lpm_lookup(&t, 0x0a010203, &len), 3);
    assert_int_equal(len, 24);
    assert_int_equal(lpm_lookup(&t, 0x0a090909, &len), 2);
    assert_int_equal(len, 8);
    assert_int_equal(lpm_lookup(&t, 0xc0a80001, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(lpm_get_exact(&t, 0x0a010200, 24), 3);
    assert_int_equal(lpm_get_exact(&t, 0x0a010200, 23), -1);
    lpm_free(&t);
}

/* Past 255 pairs the address plan moves to the next pair of /16s (pair
 * 256 b + c: 10.(1+2b).c.1 and 10.(2+2b).c.1), each pair still has its own
 * router port, and every flow arrives. */
static void dumbbell_scales_past_255_pairs(void **state) {
    (void)state;
    struct topo *t = calloc(1, sizeof(*t));
    struct topo_result *r = calloc(1, sizeof(*r));
    topo_init(t);
    struct dumbbell_opts d;
    dumbbell_opts(&d, 300);
    d.bytes = 20000;
    assert_true(topo_dumbbell(t, &d));
    assert_int_equal(t->nhosts, 600);
    assert_int_equal(t->nlinks, 601);
    assert_int_equal(t->routers[0].nports, 301);
    assert_int_equal(t->hosts[2 * 254].ipv4, 0x0a01ff01);   /* S255: 10.1.255.1 */
    assert_int_equal(t->hosts[2 * 255].ipv4, 0x0a030001);   /* S256: 10.3.0.1 */
    assert_int_equal(t->hosts[2 * 255 + 1].ipv4, 0x0a040001);   /* D256: 10.4.0.1 */
    assert_string_equal(t->hosts[2 * 299].name, "S300");
    assert_int_equal(topo_run(t, NULL, r), 0);
    if (!r->pass) fail_msg("%s", r->failure);
    for (int i = 0; i < 300; i++) assert_int_equal(t->flows[i].f.delivered, 20000);
    assert_int_equal(r->router_stats[0].dropped_no_route + r->router_stats[1].dropped_no_route, 0);
    assert_int_equal(r->router_stats[0].dropped_no_neighbour + r->router_stats[1].dropped_no_neighbour, 0);
    struct dumbbell_opts too_many;
    dumbbell_opts(&too_many, TOPO_DUMBBELL_MAX_PAIRS + 1);
    struct topo t2;
    topo_init(&t2);
    assert_false(topo_dumbbell(&t2, &too_many));
    topo_free(&t2);
    topo_free(t);
    free(t);
    topo_result_free(r);
    free(r);
}

/* The issue's idle flow: think 10 ms on a 24 ms RTT. Keepalive probes the
 * silences (idle = think/4) without giving up on a peer whose answers take
 * longer than think/8 x 9 probes to come back. */
static void idle_flow_survives_an_rtt_longer_than_its_think_time(void **state) {
    (void)state;
    struct topo *t = calloc(1, sizeof(*t));
    struct topo_result *r = calloc(1, sizeof(*r));
    topo_init(t);
    struct dumbbell_opts d;
    dumbbell_opts(&d, 1);
    d.kinds[0] = WL_IDLE;
    d.bytes = 1000;
    d.count = 20;
    d.think_ns = 10 * TB_NS_PER_MS;
    assert_true(topo_dumbbell(t, &d));
    assert_int_equal(topo_run(t, NULL, r), 0);
    if (!r->pass) fail_msg("%s", r->failure);
    assert_int_equal(t->flows[0].f.delivered, 20 * 1000);
    assert_true(t->flows[0].f.keepalive_probes > 0);
    topo_free(t);
    free(t);
    topo_result_free(r);
    free(r);
}

/* Link counters are named by direction as the file names them, also for a
 * link written router first ([link R-B]: R>B is what R sends to B). One
 * host's capture goes to out->pcap_path. */
static void link_directions_and_one_host_capture(void **state) {
    (void)state;
    const char *text = "[host A]\naddress = 10.1.0.2/24\n[host B]\naddress = 10.2.0.2/24\n"
                       "[router R]\nport = 10.1.0.1/24\nport = 10.2.0.1/24\n"
                       "[link A-R]\n[link R-B]\n[flow f]\ntype = bulk\nfrom = A\nto = B\nbytes = 200K\n";
    struct topo *t = calloc(1, sizeof(*t));
    struct topo_result *r = calloc(1, sizeof(*r));
    topo_init(t);
    char err[800], pcap[80];
    const char *path = write_tmp(text);
    if (!scenario_load(path, t, err, sizeof(err))) fail_msg("%s", err);
    snprintf(pcap, sizeof(pcap), "/tmp/tcpbed_topo_%ld.pcap", (long)getpid());
    struct topo_outputs out = {.pcap_path = pcap, .pcap_host = "B"};
    assert_int_equal(topo_run(t, &out, r), 0);
    if (!r->pass) fail_msg("%s", r->failure);
    const struct sim_link_stats *rb = NULL, *br = NULL;
    for (int i = 0; i < r->nlinks; i++) {
        if (strcmp(r->links[i].name, "R>B") == 0) rb = &r->links[i].stats;
        if (strcmp(r->links[i].name, "B>R") == 0) br = &r->links[i].stats;
    }
    assert_non_null(rb);
    assert_non_null(br);
    assert_true(rb->bytes_delivered > 200000);   /* the data went R -> B */
    assert_true(br->bytes_delivered < 100000);   /* ACKs came back */
    assert_true(r->pcap_frames > 100);
    FILE *f = fopen(pcap, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    assert_true(ftell(f) > 200000);
    fclose(f);
    unlink(pcap);
    topo_result_free(r);
    out.pcap_host = "nobody";
    assert_int_equal(topo_run(t, &out, r), -1);
    assert_non_null(strstr(r->error, "no host named 'nobody'"));
    unlink(path);
    topo_free(t);
    free(t);
    topo_result_free(r);
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(router_forwards_between_subnets_and_decrements_ttl),
        cmocka_unit_test(router_drops_expiring_ttl_and_unroutable_frames),
        cmocka_unit_test(dumbbell_bulk_flows_all_arrive_and_share_fairly),
        cmocka_unit_test(mixed_workload_completes_every_kind),
        cmocka_unit_test(topology_runs_are_deterministic),
        cmocka_unit_test(scenario_file_loads_and_runs),
        cmocka_unit_test(scenario_errors_name_the_line_and_what_was_expected),
        cmocka_unit_test(topology_setup_errors_are_precise),
        cmocka_unit_test(ipmap_and_longest_prefix_match),
        cmocka_unit_test(dumbbell_scales_past_255_pairs),
        cmocka_unit_test(idle_flow_survives_an_rtt_longer_than_its_think_time),
        cmocka_unit_test(link_directions_and_one_host_capture),
    };
    return cmocka_run_group_tests_name("topology", tests, NULL, NULL);
}
