/* sim/faults: every fault kind acts exactly as specified on a stream of
 * frames (counts, timing in virtual time), random streams are independent
 * of each other and of other links, and the grammar parses, formats and
 * rejects precisely. The stream is ICMP echo: A pings B every millisecond,
 * so each request's fate is visible in the replies A gets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "sim/faults.h"
#include "sim/ping.h"
#include "sim/sim.h"

#define MAX_PINGS 20000

struct pinger {
    struct sim *sim;
    struct sim_host *a, *b, *c, *d;
    int link_ab, link_cd;
    uint32_t count;
    tb_time_ns interval_ns;
    uint32_t payload;
    bool got[MAX_PINGS + 1];
    uint32_t replies, dup_replies;
    tb_time_ns rtt[MAX_PINGS + 1];
    char fired[64][160];
    int fired_n;
    bool late_params;                  /* apply `later` to A>B at 5 ms, once ARP is done */
    struct sim_link_params later;
};

static void apply_later(struct sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)arg;
    struct pinger *p = ctx;
    sim_link_set_params(p->sim, p->link_ab, 1, &p->later);
}

static void on_fault(void *ctx, tb_time_ns now, const char *spec) {
    (void)now;
    struct pinger *p = ctx;
    if (p->fired_n < 64) snprintf(p->fired[p->fired_n++], 160, "%s", spec);
}

static void app(struct sim *sim, struct sim_host *h, void *ctx) {
    (void)sim;
    struct pinger *p = ctx;
    struct tb_event ev[16];
    size_t n;
    while ((n = tb_stack_events(sim_host_stack(h), ev, 16)) > 0)
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type != TB_EV_ECHO_REPLY || h != p->a) continue;
            uint16_t seq = ev[i].u.echo.seq;
            if (seq == 0 || seq > MAX_PINGS) continue;
            if (p->got[seq]) p->dup_replies++;
            else p->replies++;
            p->got[seq] = true;
            p->rtt[seq] = ev[i].u.echo.rtt_ns;
        }
}

static void send_ping(struct sim *sim, void *ctx, uint64_t seq) {
    struct pinger *p = ctx;
    tb_ping_send(sim_host_stack(p->a), sim_now(sim), SIM_HOST_B_IP, 1, (uint16_t)seq, p->payload);
    sim_host_kick(sim, p->a);
}

static const struct sim_link_params base_link = {.delay_ns = TB_NS_PER_MS, .rate_bps = 1000000000, .queue_bytes = 1 << 20};

/* Builds A-B (and optionally C-D first, to show link independence). */
static void pinger_build(struct pinger *p, uint64_t seed, const struct sim_link_params *ab, bool extra_link_first) {
    memset(p, 0, sizeof(*p));
    p->sim = sim_new(seed);
    struct tb_config cfg;
    sim_two_host_config(&cfg, seed, 0);
    cfg.buf_count = 4096;
    cfg.arp_pending_per_entry = 8;
    p->a = sim_add_host(p->sim, "A", &cfg);
    sim_two_host_config(&cfg, seed, 1);
    cfg.buf_count = 4096;
    p->b = sim_add_host(p->sim, "B", &cfg);
    p->link_ab = sim_connect(p->sim, p->a, p->b, ab);
    sim_link_set_params(p->sim, p->link_ab, 0, &base_link);   /* faults go A>B only; replies travel clean */
    if (extra_link_first) {
        sim_two_host_config(&cfg, seed, 2);
        p->c = sim_add_host(p->sim, "C", &cfg);
        sim_two_host_config(&cfg, seed, 3);
        cfg.ipv4_addr = 0x0a000002;
        p->d = sim_add_host(p->sim, "D", &cfg);
        struct sim_link_params cd = base_link;
        cd.loss = 0.5;
        p->link_cd = sim_connect(p->sim, p->c, p->d, &cd);
    }
    sim_host_set_app(p->a, app, p);
    sim_on_fault(p->sim, on_fault, p);
    p->interval_ns = TB_NS_PER_MS;
    p->payload = 56;
}

static void pinger_add_fault(struct pinger *p, const char *text) {
    struct fault_spec f;
    char err[256];
    if (!fault_parse(text, &f, err, sizeof(err))) fail_msg("%s", err);
    if (!sim_add_fault(p->sim, &f, err, sizeof(err))) fail_msg("%s", err);
}

/* The first ping starts ARP; pings go out from t = 10 ms, after it. */
static void pinger_run(struct pinger *p, uint32_t count) {
    p->count = count;
    tb_ping_send(sim_host_stack(p->a), 0, SIM_HOST_B_IP, 1, 0, 8);   /* resolves B */
    sim_host_kick(p->sim, p->a);
    for (uint32_t i = 1; i <= count; i++)
        sim_at(p->sim, 10 * TB_NS_PER_MS + (tb_time_ns)(i - 1) * p->interval_ns, send_ping, p, i);
    if (p->c != NULL) {   /* traffic on the other link: C pings D */
        tb_ping_send(sim_host_stack(p->c), 0, 0x0a000002, 1, 0, 8);
        sim_host_kick(p->sim, p->c);
    }
    if (p->late_params) sim_at(p->sim, 5 * TB_NS_PER_MS, apply_later, p, 0);
    sim_run(p->sim, 10 * TB_NS_PER_MS + (tb_time_ns)count * p->interval_ns + 5 * TB_NS_PER_S);
}

static struct sim_link_stats ab_stats(struct pinger *p) {
    struct sim_link_stats s;
    sim_link_stats(p->sim, p->link_ab, 1, &s);
    return s;
}

static void pinger_free(struct pinger *p) { sim_free(p->sim); }

/* ---- random faults ------------------------------------------------------- */
static void bernoulli_loss_drops_about_p_of_frames(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.loss = 0.1;
    pinger_build(p, 1, &l, false);
    pinger_run(p, 20000);
    struct sim_link_stats s = ab_stats(p);
    /* 20,000 trials at p = 0.1: mean 2,000, sd 42; allow 5 sd. */
    assert_true(s.loss_drops > 1790 && s.loss_drops < 2210);
    /* The ARP request and the ARP-time ping (seq 0) may be among the drops. */
    assert_true(20000 - p->replies <= s.loss_drops && s.loss_drops <= 20000 - p->replies + 2);
    pinger_free(p);
    free(p);
}

static void gilbert_elliott_losses_come_in_bursts(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.ge = true;
    l.ge_p_gb = 0.01;   /* bad periods start rarely */
    l.ge_p_bg = 0.1;    /* and last 10 frames on average */
    l.ge_loss_good = 0;
    l.ge_loss_bad = 1;
    pinger_build(p, 2, &l, false);
    pinger_run(p, 20000);
    uint32_t lost = 0, bursts = 0;
    for (uint32_t i = 1; i <= 20000; i++)
        if (!p->got[i]) {
            lost++;
            if (i == 1 || p->got[i - 1]) bursts++;
        }
    double mean_burst = (double)lost / bursts;
    /* Stationary loss = 0.01 / 0.11 = 9 %; mean burst = 1 / 0.1 = 10 frames. */
    assert_true(lost > 1200 && lost < 2500);
    assert_true(mean_burst > 6 && mean_burst < 15);
    pinger_free(p);
    free(p);
}

static void reordering_delays_exactly_by_the_reorder_delay(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.reorder = 1;
    l.reorder_delay_ns = 5 * TB_NS_PER_MS;
    pinger_build(p, 3, &l, false);
    pinger_run(p, 100);
    /* 98-byte frames at 1 Gbit/s: 784 ns each way, plus 1 ms each way. */
    tb_time_ns base_rtt = 2 * (784 + TB_NS_PER_MS);
    for (uint32_t i = 1; i <= 100; i++) assert_int_equal(p->rtt[i], base_rtt + 5 * TB_NS_PER_MS);
    assert_int_equal(ab_stats(p).reordered, 102);   /* the ARP request, seq 0 and 100 pings */
    pinger_free(p);
    free(p);
}

static void reordering_lets_later_frames_overtake(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.reorder = 0.3;
    l.reorder_delay_ns = 5 * TB_NS_PER_MS;   /* five pings' worth */
    pinger_build(p, 4, &l, false);
    pinger_run(p, 2000);
    uint32_t late = 0, overtaken = 0;
    for (uint32_t i = 1; i <= 2000; i++) {
        late += p->rtt[i] > 3 * TB_NS_PER_MS;
        overtaken += i > 1 && p->rtt[i] > p->rtt[i - 1] + 2 * TB_NS_PER_MS;
    }
    struct sim_link_stats s = ab_stats(p);
    bool zero_late = !(p->rtt[0] > 3 * TB_NS_PER_MS);
    (void)zero_late;
    /* Every held-back request (seq 0 may be one of them) shows in its RTT,
     * and requests sent after it reached B first. */
    assert_true(late == s.reordered || late + 1 == s.reordered);
    assert_true(s.reordered > 500 && s.reordered < 700);
    assert_true(overtaken > 0);
    pinger_free(p);
    free(p);
}

static void duplication_delivers_twice(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.duplicate = 1;
    pinger_build(p, 5, &l, false);
    pinger_run(p, 200);
    struct tb_stats sb;
    tb_stack_stats(sim_host_stack(p->b), &sb);
    assert_int_equal(sb.icmp_echo_requests_rx, 2 * 201);   /* 200 + the ARP-time ping, twice */
    assert_int_equal(p->replies, 200);
    assert_int_equal(p->dup_replies, 200);
    pinger_free(p);
    free(p);
}

static void corruption_is_caught_and_counted(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    pinger_build(p, 6, &base_link, false);
    p->late_params = true;   /* a corrupted ARP would stop everything before it starts */
    p->later = base_link;
    p->later.corrupt = 1;
    pinger_run(p, 500);
    struct tb_stats sb;
    tb_stack_stats(sim_host_stack(p->b), &sb);
    struct sim_link_stats s = ab_stats(p);
    assert_int_equal(s.corrupted, 500);
    /* Every request was damaged. Each is dropped with a reason (checksum,
     * not for us, unknown type, ...), except those whose flipped bit lies
     * in bytes nothing checks: the Ethernet source MAC, or echo data B
     * copies back (A then flags the reply's payload). No request can be
     * answered intact. */
    uint64_t answered = p->replies;
    assert_true(sb.rx_dropped + answered >= 500);
    assert_true(sb.rx_dropped > 350);
    pinger_free(p);
    free(p);
}

static void jitter_stays_in_bounds_and_can_keep_order(void **state) {
    (void)state;
    for (int keep = 0; keep < 2; keep++) {
        struct pinger *p = malloc(sizeof(*p));
        struct sim_link_params l = base_link;
        l.jitter_ns = 3 * TB_NS_PER_MS;
        l.jitter_keep_order = keep;
        pinger_build(p, 7, &l, false);
        pinger_run(p, 2000);
        tb_time_ns base_rtt = 2 * (784 + TB_NS_PER_MS);
        uint32_t out_of_order = 0;
        for (uint32_t i = 1; i <= 2000; i++) {
            assert_true(p->rtt[i] >= base_rtt && p->rtt[i] <= base_rtt + 2 * 3 * TB_NS_PER_MS);
            if (i > 1 && p->rtt[i] + TB_NS_PER_MS < p->rtt[i - 1]) out_of_order++;
        }
        if (keep) assert_int_equal(out_of_order, 0);
        else assert_true(out_of_order > 0);
        pinger_free(p);
        free(p);
    }
}

static void mtu_drops_bigger_frames(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.mtu = 1000;
    pinger_build(p, 8, &l, false);
    p->payload = 1200;
    pinger_run(p, 10);
    assert_int_equal(p->replies, 0);
    assert_int_equal(ab_stats(p).mtu_drops, 10);
    pinger_free(p);
    free(p);
}

static void red_drops_early_under_load(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.rate_bps = 10000000;   /* 10 Mbit/s: 98-byte frames take 78 us */
    l.qdisc = SIM_QDISC_RED;
    l.red_min_bytes = 2000;
    l.red_max_bytes = 20000;
    l.red_max_p = 0.2;
    l.queue_bytes = 100000;
    pinger_build(p, 9, &l, false);
    p->interval_ns = 40 * TB_NS_PER_US;   /* twice the link's rate: the queue grows */
    pinger_run(p, 4000);
    struct sim_link_stats s = ab_stats(p);
    assert_true(s.red_drops > 0);
    assert_int_equal(s.queue_drops, 0);   /* RED kept the queue below its hard bound */
    pinger_free(p);
    free(p);
}

/* ---- targeted faults ------------------------------------------------------ */
static void targeted_drop_takes_exactly_the_named_frame(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    pinger_build(p, 10, &base_link, false);
    pinger_add_fault(p, "drop A>B icmp #4");   /* #1 is the ARP-time ping */
    pinger_add_fault(p, "drop B>A icmp #7-8");
    pinger_run(p, 20);
    /* A>B #4 is request 3; with it gone, B>A replies #7 and #8 answer 7 and 8. */
    for (uint32_t i = 1; i <= 20; i++) assert_int_equal(p->got[i], !(i == 3 || i == 7 || i == 8));
    assert_int_equal(p->fired_n, 3);
    assert_string_equal(p->fired[0], "drop A>B icmp #4");
    assert_string_equal(p->fired[1], "drop B>A icmp #7");
    pinger_free(p);
    free(p);
}

static void targeted_delay_adds_exactly_its_duration(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    pinger_build(p, 11, &base_link, false);
    pinger_add_fault(p, "delay A>B icmp #3 7ms");
    pinger_run(p, 5);
    assert_int_equal(p->rtt[2] - p->rtt[1], 7 * TB_NS_PER_MS);
    assert_int_equal(p->rtt[3], p->rtt[1]);
    pinger_free(p);
    free(p);
}

static void blackout_drops_everything_inside_its_window_only(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    pinger_build(p, 12, &base_link, false);
    p->interval_ns = 100 * TB_NS_PER_MS;
    pinger_add_fault(p, "blackout A<>B 300ms..520ms");
    pinger_run(p, 10);
    /* Sent at 10, 110, ..., 910 ms: 310, 410 and 510 ms fall inside. */
    for (uint32_t i = 1; i <= 10; i++) assert_int_equal(p->got[i], !(i >= 4 && i <= 6));
    pinger_free(p);
    free(p);
}

static void targeted_corrupt_flips_the_named_bit(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    pinger_build(p, 13, &base_link, false);
    pinger_add_fault(p, "corrupt A>B icmp #2 bit=176");   /* byte 22: the IP TTL */
    pinger_run(p, 3);
    assert_false(p->got[1]);
    assert_int_equal(t_drops(sim_host_stack(p->b), TB_DROP_ip_bad_checksum), 1);
    assert_string_equal(p->fired[0], "corrupt A>B icmp #2 bit=176");
    pinger_free(p);
    free(p);
}

static void targeted_duplicate_repeats_one_frame(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    pinger_build(p, 14, &base_link, false);
    pinger_add_fault(p, "duplicate A>B icmp #5");
    pinger_run(p, 10);
    assert_int_equal(p->dup_replies, 1);
    assert_int_equal(p->replies, 10);
    pinger_free(p);
    free(p);
}

/* ---- independence of random streams ---------------------------------------- */
static void lost_set(struct pinger *p, bool *lost) {
    for (uint32_t i = 1; i <= p->count; i++) lost[i] = !p->got[i];
}

static void adding_a_link_or_a_fault_kind_leaves_drops_unchanged(void **state) {
    (void)state;
    static bool base[2001], with_link[2001], with_reorder[2001];
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.loss = 0.05;
    pinger_build(p, 15, &l, false);
    pinger_run(p, 2000);
    lost_set(p, base);
    pinger_free(p);
    /* Another link with its own (heavy) loss and traffic. */
    pinger_build(p, 15, &l, true);
    pinger_run(p, 2000);
    lost_set(p, with_link);
    pinger_free(p);
    /* Reordering and duplication on the same link, only B>A (so A>B's
     * frame sequence is unchanged). */
    pinger_build(p, 15, &l, false);
    struct sim_link_params ba = l;
    ba.loss = 0;
    ba.reorder = 0.5;
    ba.duplicate = 0.2;
    sim_link_set_params(p->sim, p->link_ab, 0, &ba);
    struct sim_link_params ab = l;
    ab.corrupt = 0;   /* same A>B, but now the reorder stream exists too */
    ab.reorder = 0;
    sim_link_set_params(p->sim, p->link_ab, 1, &ab);
    pinger_run(p, 2000);
    lost_set(p, with_reorder);
    struct sim_link_stats s = ab_stats(p);
    pinger_free(p);
    free(p);
    assert_memory_equal(base, with_link, sizeof(base));
    /* Requests lost on A>B are the same; a lost reply is not "not sent". */
    uint32_t same = 0, base_lost = 0;
    for (int i = 1; i <= 2000; i++) {
        base_lost += base[i];
        same += base[i] && with_reorder[i];
    }
    assert_int_equal(same, base_lost);
    assert_int_equal(s.loss_drops, base_lost);
}

static void same_seed_same_faults_other_seed_other_faults(void **state) {
    (void)state;
    char first[64][160];
    int n_first;
    struct pinger *p = malloc(sizeof(*p));
    struct sim_link_params l = base_link;
    l.loss = 0.05;
    pinger_build(p, 16, &l, false);
    pinger_run(p, 300);
    n_first = p->fired_n;
    memcpy(first, p->fired, sizeof(first));
    pinger_free(p);
    pinger_build(p, 16, &l, false);
    pinger_run(p, 300);
    assert_int_equal(p->fired_n, n_first);
    for (int i = 0; i < n_first; i++) assert_string_equal(p->fired[i], first[i]);
    pinger_free(p);
    pinger_build(p, 17, &l, false);
    pinger_run(p, 300);
    bool differ = p->fired_n != n_first;
    for (int i = 0; i < n_first && i < p->fired_n && !differ; i++) differ = strcmp(p->fired[i], first[i]) != 0;
    assert_true(differ);
    pinger_free(p);
    free(p);
}

/* ---- the grammar -------------------------------------------------------------- */
static void specs_parse_and_format_round_trip(void **state) {
    (void)state;
    const char *specs[] = {
        "drop A>B tcp data #3", "drop A>B tcp retransmit seq=1449", "drop B>A tcp ack #10-12",
        "blackout A<>B 1.2s..1.5s", "delay A>B tcp syn 3s", "duplicate A>B tcp data #5",
        "corrupt A>B tcp data #7 bit=300", "drop A>B arp", "drop S1>R tcp fin",
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct fault_spec f, g;
        char err[256], text[256], text2[256];
        if (!fault_parse(specs[i], &f, err, sizeof(err))) fail_msg("%s", err);
        fault_format(&f, text, sizeof(text));
        if (!fault_parse(text, &g, err, sizeof(err))) fail_msg("re-parse of '%s': %s", text, err);
        fault_format(&g, text2, sizeof(text2));
        assert_string_equal(text, text2);
        assert_int_equal(f.action, g.action);
        assert_int_equal(f.kind, g.kind);
        assert_int_equal(f.first, g.first);
        assert_int_equal(f.last, g.last);
        assert_int_equal(f.from_ns, g.from_ns);
        assert_int_equal(f.until_ns, g.until_ns);
    }
}

static void bad_specs_name_the_word_and_what_was_expected(void **state) {
    (void)state;
    struct { const char *spec, *needle; } bad[] = {
        {"", "empty fault"},
        {"smash A>B", "word 1 'smash': expected an action"},
        {"drop A-B tcp", "word 2 'A-B': expected a direction"},
        {"drop A>B tcp data #0", "expected #N or #N-M"},
        {"drop A>B tcp data #5-3", "expected #N or #N-M"},
        {"drop A>B tcp data seq=x", "expected seq=N"},
        {"drop A>B tcp wiggle", "word 4 'wiggle': expected a protocol"},
        {"delay A>B tcp syn", "delay needs a duration"},
        {"drop A>B tcp syn 3s", "only delay takes a duration"},
        {"blackout A<>B", "blackout needs a window"},
        {"blackout A<>B 2s..1s", "expected a time window"},
        {"drop A>B arp syn", "kind 'syn' needs protocol tcp"},
        {"drop A>B tcp bit=3", "only corrupt takes bit=N"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fault_spec f;
        char err[256];
        assert_false(fault_parse(bad[i].spec, &f, err, sizeof(err)));
        if (strstr(err, bad[i].needle) == NULL) fail_msg("'%s': got '%s', wanted '%s'", bad[i].spec, err, bad[i].needle);
    }
}

static void a_fault_between_unconnected_hosts_is_refused(void **state) {
    (void)state;
    struct pinger *p = malloc(sizeof(*p));
    pinger_build(p, 18, &base_link, false);
    struct fault_spec f;
    char err[256];
    assert_true(fault_parse("drop A>Z tcp data", &f, err, sizeof(err)));
    assert_false(sim_add_fault(p->sim, &f, err, sizeof(err)));
    assert_non_null(strstr(err, "no link joins A and Z"));
    pinger_free(p);
    free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bernoulli_loss_drops_about_p_of_frames),
        cmocka_unit_test(gilbert_elliott_losses_come_in_bursts),
        cmocka_unit_test(reordering_delays_exactly_by_the_reorder_delay),
        cmocka_unit_test(reordering_lets_later_frames_overtake),
        cmocka_unit_test(duplication_delivers_twice),
        cmocka_unit_test(corruption_is_caught_and_counted),
        cmocka_unit_test(jitter_stays_in_bounds_and_can_keep_order),
        cmocka_unit_test(mtu_drops_bigger_frames),
        cmocka_unit_test(red_drops_early_under_load),
        cmocka_unit_test(targeted_drop_takes_exactly_the_named_frame),
        cmocka_unit_test(targeted_delay_adds_exactly_its_duration),
        cmocka_unit_test(blackout_drops_everything_inside_its_window_only),
        cmocka_unit_test(targeted_corrupt_flips_the_named_bit),
        cmocka_unit_test(targeted_duplicate_repeats_one_frame),
        cmocka_unit_test(adding_a_link_or_a_fault_kind_leaves_drops_unchanged),
        cmocka_unit_test(same_seed_same_faults_other_seed_other_faults),
        cmocka_unit_test(specs_parse_and_format_round_trip),
        cmocka_unit_test(bad_specs_name_the_word_and_what_was_expected),
        cmocka_unit_test(a_fault_between_unconnected_hosts_is_refused),
    };
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
