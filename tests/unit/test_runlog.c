/* Record and replay: tb_config as key=value lines (harness/lib/config_kv),
 * the run-log writer (traces/runlog) and replay (harness/replay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/lib/config_kv.h"
#include "harness/replay/replay.h"
#include "harness/replay/runlog_reader.h"
#include "sim/bulk.h"
#include "traces/runlog.h"
#include "helpers.h"

static size_t type_size(enum tb_config_kv_type t) {
    switch (t) {
    case TB_KV_U64: case TB_KV_TIME_NS: return 8;
    case TB_KV_U32: case TB_KV_IPV4: return 4;
    case TB_KV_U16: return 2;
    case TB_KV_U8: case TB_KV_CC: return 1;
    case TB_KV_BOOL: return sizeof(bool);
    case TB_KV_MAC: return sizeof(struct tb_mac);
    }
    return 0;
}

/* The table covers struct tb_config: fields in order, each of its type's
 * size, and only alignment padding between them. */
static void config_table_tiles_the_struct(void **state) {
    (void)state;
    size_t end = 0;
    for (size_t i = 0; i < tb_config_kv_field_count; i++) {
        const struct tb_config_kv_field *f = &tb_config_kv_fields[i];
        assert_int_equal(f->size, type_size(f->type));
        assert_true(f->offset >= end);
        size_t align = f->size >= 8 ? 8 : f->size == 6 ? 1 : f->size;
        assert_true(f->offset - end < (align > 1 ? align : 1));   /* a gap is padding only */
        end = f->offset + f->size;
    }
    assert_true(sizeof(struct tb_config) - end < 8);
}

static void config_round_trips_every_field(void **state) {
    (void)state;
    struct tb_config a, b;
    tb_config_default(&a);
    a.seed = UINT64_MAX;
    a.mac = (struct tb_mac){{0x02, 0xab, 0, 0xff, 1, 9}};
    a.ipv4_addr = 0x0a000001;
    a.ipv4_gateway = 0xc0a80101;
    a.tcp_cc = TB_CC_CUBIC;
    a.tcp_sack = false;
    a.tcp_ecn = true;
    a.tcp_rto_min_ns = -5;
    a.tcp_mss = 1200;
    char *text = tb_config_kv_format(&a);
    assert_non_null(text);
    assert_non_null(strstr(text, "mac=02:ab:00:ff:01:09\n"));
    assert_non_null(strstr(text, "ipv4_gateway=192.168.1.1\n"));
    assert_non_null(strstr(text, "tcp_cc=cubic\n"));
    char err[256];
    assert_true(tb_config_kv_parse(text, strlen(text), &b, err, sizeof(err)));
    free(text);
    char *again = tb_config_kv_format(&b);
    text = tb_config_kv_format(&a);
    assert_string_equal(again, text);
    free(again);
    free(text);
}

static void config_reader_refuses_with_the_line(void **state) {
    (void)state;
    struct tb_config c;
    char err[256];
    const char *bad[][2] = {
        {"seed=1\nno_such_field=3\n", "line 2 'no_such_field=3': unknown key"},
        {"mtu=70000\n", "line 1 'mtu=70000': expected an integer 0..65535"},
        {"tcp_sack=yes\n", "expected true or false"},
        {"mac=02:00:00:00:00\n", "expected a MAC address"},
        {"ipv4_addr=10.0.0.256\n", "expected an IPv4 address"},
        {"ttl=64\nttl=65\n", "ttl given twice"},
        {"just words\n", "expected key=value"},
        {"buf_count=-1\n", "expected an integer 0..4294967295"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(tb_config_kv_parse(bad[i][0], strlen(bad[i][0]), &c, err, sizeof(err)));
        if (strstr(err, bad[i][1]) == NULL) fail_msg("'%s': got '%s'", bad[i][0], err);
    }
    /* Keys not given keep their defaults. */
    struct tb_config d;
    tb_config_default(&d);
    assert_true(tb_config_kv_parse("ttl=9\n", 6, &c, err, sizeof(err)));
    assert_int_equal(c.ttl, 9);
    assert_int_equal(c.mtu, d.mtu);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static uint8_t *record_bulk(const char *path, size_t *len, double loss) {
    struct sim_bulk_opts o;
    sim_bulk_defaults(&o);
    o.bytes = 300 * 1024;
    o.seed = 11;
    o.link.loss = loss;
    o.record_path = path;
    o.record_cmdline = "test_runlog";
    struct sim_bulk_result r;
    assert_int_equal(sim_bulk_run(&o, &r), 0);
    assert_true(r.pass);
    assert_true(r.runlog_frames > 100);
    return slurp(path, len);
}

static void a_lossy_run_replays_identically(void **state) {
    (void)state;
    char path[] = "/tmp/tcpbed-runlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len;
    uint8_t *log = record_bulk(path, &len, 0.03);
    remove(path);
    struct tb_replay_opts ro = {.data = log, .len = len};
    struct tb_replay_result *r = calloc(1, sizeof(*r));
    tb_replay_run(&ro, r);
    if (r->status != TB_REPLAY_IDENTICAL) fail_msg("%s: %s", tb_replay_status_name(r->status), r->error);
    assert_string_equal(r->host, "A");
    assert_string_equal(r->cmdline, "test_runlog");
    assert_true(r->ticks > 0);   /* the loss made timers fire */

    /* Every prefix is cut short or identical up to there, never a crash or a false divergence. */
    for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
        ro.len = cut;
        tb_replay_run(&ro, r);
        assert_true(r->status == TB_REPLAY_CUT_SHORT || r->status == TB_REPLAY_BAD_LOG);
    }
    free(r);
    free(log);
}

/* A byte of the last outbound frame's payload changed: that frame diverges. */
static void an_edited_frame_is_named(void **state) {
    (void)state;
    char path[] = "/tmp/tcpbed-runlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len;
    uint8_t *log = record_bulk(path, &len, 0);
    remove(path);
    struct tb_rl_reader *rd = tb_rl_open_mem(log, len);
    struct tb_rl_item it;
    char err[256];
    uint64_t target = 0, out_no = 0, target_out = 0;
    size_t at = 0;
    while (tb_rl_next(rd, &it, err, sizeof(err)) == TB_RL_ITEM)
        if (it.kind == TB_RL_FRAME && it.outbound) {
            out_no++;
            if (it.frame_len > 1000 && target == 0 && out_no > 20) {
                target = it.frame_no;
                target_out = out_no;
                at = (size_t)it.offset + 28 + it.frame_len - 1;   /* the frame's last byte: payload */
            }
        }
    tb_rl_close(rd);
    assert_true(target != 0);
    log[at] ^= 0x40;
    struct tb_replay_opts ro = {.data = log, .len = len};
    struct tb_replay_result *r = calloc(1, sizeof(*r));
    tb_replay_run(&ro, r);
    assert_int_equal(r->status, TB_REPLAY_DIVERGED);
    assert_int_equal(r->divergence.frame_no, target);
    assert_int_equal(r->divergence.outbound_no, target_out);
    /* Only the payload was changed (its checksum too would come first). */
    assert_string_equal(r->divergence.field, "payload");
    assert_non_null(strstr(r->divergence.recorded, "byte "));
    free(r);
    free(log);
}

static void a_write_error_is_reported_at_close(void **state) {
    (void)state;
    struct tb_config cfg;
    tb_config_default(&cfg);
    char err[256] = "";
    struct tb_runlog_writer *w = tb_runlog_open("/dev/full", &cfg, "A", "x", err, sizeof(err));
    if (w == NULL) skip();   /* no /dev/full here */
    assert_int_equal(tb_runlog_close(w, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No space left"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_table_tiles_the_struct),
        cmocka_unit_test(config_round_trips_every_field),
        cmocka_unit_test(config_reader_refuses_with_the_line),
        cmocka_unit_test(a_lossy_run_replays_identically),
        cmocka_unit_test(an_edited_frame_is_named),
        cmocka_unit_test(a_write_error_is_reported_at_close),
    };
    return cmocka_run_group_tests_name("runlog", tests, NULL, NULL);
}
