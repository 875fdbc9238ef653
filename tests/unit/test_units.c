/* harness/cli: units the way network people write them, and option errors. */
#include <string.h>

#include "harness/cli/opts.h"
#include "sim/units.h"
#include "helpers.h"

static void durations_parse_with_units(void **state) {
    (void)state;
    char err[160];
    tb_time_ns t;
    struct { const char *s; tb_time_ns ns; } ok[] = {
        {"0", 0}, {"250ns", 250}, {"250us", 250000}, {"10ms", 10000000}, {"2s", 2000000000},
        {"1.5s", 1500000000}, {"0.25ms", 250000}, {"1m", 60000000000LL},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(tb_parse_duration(ok[i].s, &t, err, sizeof(err)));
        assert_int_equal(t, ok[i].ns);
    }
    const char *bad[] = {"", "10", "ms", "-1s", "1.5.2s", "10 ms", "1e3ms", "10sec", "99999999999999s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(tb_parse_duration(bad[i], &t, err, sizeof(err)));
        assert_non_null(strstr(err, "duration"));
    }
}

static void rates_parse_in_decimal_bits(void **state) {
    (void)state;
    char err[160];
    uint64_t bps;
    assert_true(tb_parse_rate("10Mbps", &bps, err, sizeof(err)));
    assert_int_equal(bps, 10000000);
    assert_true(tb_parse_rate("1Gbps", &bps, err, sizeof(err)));
    assert_int_equal(bps, 1000000000);
    assert_true(tb_parse_rate("2.5Gbps", &bps, err, sizeof(err)));
    assert_int_equal(bps, 2500000000ULL);
    assert_true(tb_parse_rate("64kbps", &bps, err, sizeof(err)));
    assert_int_equal(bps, 64000);
    const char *bad[] = {"10", "10MB", "fast", "0bps", "Mbps"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_false(tb_parse_rate(bad[i], &bps, err, sizeof(err)));
}

static void sizes_parse_in_binary_multiples(void **state) {
    (void)state;
    char err[160];
    uint64_t n;
    assert_true(tb_parse_size("1500", &n, err, sizeof(err)));
    assert_int_equal(n, 1500);
    assert_true(tb_parse_size("64K", &n, err, sizeof(err)));
    assert_int_equal(n, 65536);
    assert_true(tb_parse_size("10M", &n, err, sizeof(err)));
    assert_int_equal(n, 10485760);
    assert_true(tb_parse_size("1GiB", &n, err, sizeof(err)));
    assert_int_equal(n, 1073741824);
    assert_true(tb_parse_size("1.5K", &n, err, sizeof(err)));
    assert_int_equal(n, 1536);
    const char *bad[] = {"", "x", "10Q", "-5", "1.3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_false(tb_parse_size(bad[i], &n, err, sizeof(err)));
}

static void integers_reject_junk_and_overflow(void **state) {
    (void)state;
    char err[160];
    uint64_t n;
    assert_true(tb_parse_u64("18446744073709551615", &n, err, sizeof(err)));
    assert_true(n == UINT64_MAX);
    assert_false(tb_parse_u64("18446744073709551616", &n, err, sizeof(err)));
    assert_false(tb_parse_u64("12a", &n, err, sizeof(err)));
    assert_false(tb_parse_u64("", &n, err, sizeof(err)));
    assert_false(tb_parse_u64("-1", &n, err, sizeof(err)));
}

static void options_parse_and_report_errors(void **state) {
    (void)state;
    uint64_t count = 0;
    tb_time_ns delay = 0;
    bool json = false;
    const char *path = NULL;
    const struct opt opts[] = {
        {"count", OPT_U64, &count, "N", "n", 1, 10},
        {"delay", OPT_DURATION, &delay, "TIME", "d", 0, 0},
        {"json", OPT_FLAG, &json, NULL, "j", 0, 0},
        {"pcap", OPT_STRING, &path, "FILE", "p", 0, 0},
    };
    char *good[] = {"--count", "3", "--delay=10ms", "--json", "--pcap", "x.pcap"};
    assert_int_equal(opts_parse("t", "s", opts, 4, 6, good), 0);
    assert_int_equal(count, 3);
    assert_int_equal(delay, 10 * TB_NS_PER_MS);
    assert_true(json);
    assert_string_equal(path, "x.pcap");
    char *bad[][2] = {{"--count", "11"}, {"--count", "zero"}, {"--nope", "1"}, {"stray", "1"}, {"--json=1", "--json"},
                      {"--delay", "5"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_int_equal(opts_parse("t", "s", opts, 4, 2, bad[i]), 2);
    char *missing[] = {"--count"};
    assert_int_equal(opts_parse("t", "s", opts, 4, 1, missing), 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_parse_with_units),
        cmocka_unit_test(rates_parse_in_decimal_bits),
        cmocka_unit_test(sizes_parse_in_binary_multiples),
        cmocka_unit_test(integers_reject_junk_and_overflow),
        cmocka_unit_test(options_parse_and_report_errors),
    };
    return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
