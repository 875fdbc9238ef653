/* harness/check: the interpreter. Every script of tests/conformance (every RFC folder)
 * passes against tcpbed (under several seeds: the script's numbers are
 * relative); deliberately wrong variants of them fail with the line, what
 * was expected and what the stack did; constructs tcpbed does not run
 * skip, never pass. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/check/run.h"
#include "harness/check/script.h"
#include "helpers.h"

#define RUN_DIR "tests/conformance"
#define MSG_CAP 4096

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static enum tb_check_outcome run_text_with(const char *name, const char *text, const struct tb_check_opts *o,
                                           char *msg) {
    struct tb_script_error err;
    struct tb_script *s = tb_script_parse(name, text, strlen(text), NULL, &err);
    if (s == NULL) fail_msg("%s does not parse: %s", name, err.message);
    enum tb_check_outcome r = tb_check_run(s, o, msg, MSG_CAP);
    tb_script_free(s);
    return r;
}

static enum tb_check_outcome run_text(const char *name, const char *text, char *msg) {
    struct tb_check_opts o;
    tb_check_opts_default(&o);
    return run_text_with(name, text, &o, msg);
}

/* The corpus file with its one line equal to `old` replaced by `repl` (the
 * line count kept, so messages name the same lines); *line gets its number. */
static char *mutate(const char *file, const char *old, const char *repl, unsigned *line) {
    char path[256];
    snprintf(path, sizeof(path), RUN_DIR "/%s", file);
    size_t len;
    char *text = slurp(path, &len);
    char *out = malloc(len + strlen(repl) + 2);
    assert_non_null(out);
    out[0] = '\0';
    unsigned n = 0, found = 0;
    char *p = text;
    while (*p != '\0') {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        n++;
        if (l == strlen(old) && strncmp(p, old, l) == 0) {
            assert_int_equal(found, 0);
            found = n;
            strcat(out, repl);
        } else {
            strncat(out, p, l);
        }
        strcat(out, "\n");
        p += l + (nl ? 1 : 0);
    }
    if (found == 0) fail_msg("%s has no line '%s'", file, old);
    *line = found;
    free(text);
    return out;
}

/* The variant must fail; its message must start with
 * "RUN_DIR/FILE:LINE: " + want, and hold each of the extra lines. */
static void expect_fail_at(const char *file, const char *old, const char *repl, int at, const char *want,
                           const char *script_pkt, const char *actual_pkt) {
    unsigned line;
    char *text = mutate(file, old, repl, &line);
    if (at > 0) line = (unsigned)at;
    char name[256], msg[MSG_CAP], head[1024];
    snprintf(name, sizeof(name), RUN_DIR "/%s", file);
    enum tb_check_outcome r = run_text(name, text, msg);
    if (r != TB_CHECK_FAIL) fail_msg("%s with '%s' gave %s: %s", file, repl, tb_check_outcome_name(r), msg);
    snprintf(head, sizeof(head), "%s:%u: %s", name, line, want);
    const char *nl = strchr(msg, '\n');
    size_t first = nl ? (size_t)(nl - msg) : strlen(msg);
    if (first != strlen(head) || strncmp(msg, head, first) != 0)
        fail_msg("message:\n%s\nwanted first line:\n%s", msg, head);
    if (script_pkt != NULL && strstr(msg, script_pkt) == NULL) fail_msg("no '%s' in:\n%s", script_pkt, msg);
    if (actual_pkt != NULL && strstr(msg, actual_pkt) == NULL) fail_msg("no '%s' in:\n%s", actual_pkt, msg);
    free(text);
}

/* The failure is on the mutated line. */
static void expect_fail(const char *file, const char *old, const char *repl, const char *want, const char *script_pkt,
                        const char *actual_pkt) {
    expect_fail_at(file, old, repl, 0, want, script_pkt, actual_pkt);
}

/* ---- the corpus passes ------------------------------------------------------- */

/* Every *.pkt below RUN_DIR, as a path relative to it, sorted. */
static size_t corpus_walk(const char *rel, char names[][128], size_t n, size_t max) {
    char dir_path[256];
    snprintf(dir_path, sizeof(dir_path), RUN_DIR "%s%s", rel[0] ? "/" : "", rel);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    struct dirent *d;
    while ((d = readdir(dir)) != NULL && n < max) {
        if (d->d_name[0] == '.') continue;
        char sub[128];
        int w = snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", d->d_name);
        assert_true(w > 0 && (size_t)w < sizeof(sub));
        char full[300];
        snprintf(full, sizeof(full), RUN_DIR "/%s", sub);
        struct stat sb;
        assert_int_equal(stat(full, &sb), 0);
        size_t l = strlen(sub);
        if (S_ISDIR(sb.st_mode)) n = corpus_walk(sub, names, n, max);
        else if (l >= 5 && strcmp(sub + l - 4, ".pkt") == 0) memcpy(names[n++], sub, l + 1);
    }
    closedir(dir);
    return n;
}

static int name_cmp(const void *a, const void *b) { return strcmp(a, b); }

static size_t corpus_names(char names[][128], size_t max) {
    size_t n = corpus_walk("", names, 0, max);
    qsort(names, n, sizeof(names[0]), name_cmp);
    return n;
}

static void run_corpus(uint64_t seed) {
    static char names[1024][128];
    size_t n = corpus_names(names, 1024);
    assert_true(n >= 12);
    for (size_t i = 0; i < n; i++) {
        char path[256], msg[MSG_CAP];
        snprintf(path, sizeof(path), RUN_DIR "/%.127s", names[i]);
        size_t len;
        char *text = slurp(path, &len);
        struct tb_check_opts o;
        tb_check_opts_default(&o);
        o.seed = seed;
        enum tb_check_outcome r = run_text_with(path, text, &o, msg);
        if (r != TB_CHECK_PASS) fail_msg("seed %llu: %s: %s", (unsigned long long)seed, tb_check_outcome_name(r), msg);
        assert_string_equal(msg, "");
        free(text);
    }
}

static void every_corpus_script_passes(void **state) {
    (void)state;
    run_corpus(1);
}

/* ISNs, ports and TSvals change with the seed; the script's numbers are
 * relative, so the same scripts pass. */
static void the_corpus_passes_under_other_seeds(void **state) {
    (void)state;
    run_corpus(2);
    run_corpus(0x9e3779b97f4a7c15ull);
}

/* ---- wrong variants fail, naming the line -------------------------------------- */

static void a_wrong_ack_fails(void **state) {
    (void)state;
    /* A challenge ACK acknowledges RCV.NXT, not the SYN. */
    expect_fail_at("rfc5961/4.2-syn-challenge-ack.pkt", "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>",
                   "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n+0 > . 1:1(0) ack 0 win 32768", 13,
                   "error handling packet: live packet field tcp_ack: expected: 0 vs actual: 1", NULL, NULL);
    expect_fail("rfc9293/3.6-active-close.pkt", "+0 > . 2:2(0) ack 2 win 32768", "+0 > . 2:2(0) ack 3 win 32768",
                "error handling packet: live packet field tcp_ack: expected: 3 vs actual: 2",
                "\nscript packet: 0.300000 > . 2:2(0) ack 3 win 32768",
                "\nactual packet: 0.300000 > . 2:2(0) ack 2 win 32768");
    expect_fail("rfc9293/3.8.6.3-data-in.pkt", "+.04 > . 1:1(0) ack 1001 win 32643", "+.04 > . 1:1(0) ack 1000 win 32643",
                "error handling packet: live packet field tcp_ack: expected: 1000 vs actual: 1001", NULL, NULL);
}

static void a_wrong_time_fails(void **state) {
    (void)state;
    /* The RTO is 1 s, not 900 ms. */
    expect_fail("rfc6298/2-rto-data.pkt", "+1 > P. 1:1001(1000) ack 1 win 32768", "+.9 > P. 1:1001(1000) ack 1 win 32768",
                "error handling packet: timing error: expected outbound packet at 1.000000 sec but happened at "
                "1.100000 sec",
                "\nscript packet: 1.000000 > P. 1:1001(1000) ack 1 win 32768",
                "\nactual packet: 1.100000 > P. 1:1001(1000) ack 1 win 32768");
    /* Early too: the delayed ACK is not due at 50 ms. */
    expect_fail("rfc9293/3.8.6.3-data-in.pkt", "+.04 > . 1:1(0) ack 1001 win 32643", "+.05 > . 1:1(0) ack 1001 win 32643",
                "error handling packet: timing error: expected outbound packet at 0.150000 sec but happened at "
                "0.140000 sec",
                NULL, NULL);
    /* The SYN backoff doubles: the third SYN is 4 s after the second, not 3. */
    expect_fail("rfc6298/2.1-syn-rto.pkt", "+4 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 7100 ecr 0,nop,wscale 3>",
                "+3 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 7100 ecr 0,nop,wscale 3>",
                "error handling packet: timing error: expected outbound packet at 6.000000 sec but happened at "
                "7.000000 sec",
                NULL, NULL);
    /* Without the tolerance the 30 ms delayed ACK is wrong. */
    expect_fail_at("api/tolerance.pkt", "--tolerance_usecs=10000", "//", 13,
                "error handling packet: timing error: expected outbound packet at 0.130000 sec but happened at "
                "0.140000 sec",
                NULL, NULL);
    /* A blocking call returning at another time than its a...b says. */
    expect_fail("api/blocking-calls.pkt", "0.100...0.200 accept(3, ..., ...) = 4", "0.100...0.300 accept(3, ..., ...) = 4",
                "timing error: expected accept system call to return at 0.300000 sec but happened at 0.200000 sec",
                NULL, NULL);
}

static void a_missing_or_unexpected_packet_fails(void **state) {
    (void)state;
    /* Our FIN left out of the script: it is unexpected before the peer's ACK. */
    unsigned line;
    char *text = mutate("rfc9293/3.6-active-close.pkt", "+0 > F. 1:1(0) ack 1 win 32768", "// (the FIN left out)", &line);
    char msg[MSG_CAP], want[512];
    assert_int_equal(run_text(RUN_DIR "/rfc9293/3.6-active-close.pkt", text, msg), TB_CHECK_FAIL);
    snprintf(want, sizeof(want),
             RUN_DIR "/rfc9293/3.6-active-close.pkt:%u: error handling packet: unexpected outbound packet at 0.100000 sec before "
                     "this event\nactual packet: 0.100000 > F. 1:1(0) ack 1 win 32768",
             line + 1);
    assert_string_equal(msg, want);
    free(text);
    /* A packet the stack never sends. */
    expect_fail_at("rfc9293/3.7.1-data-out.pkt", "+.1 < . 1:1(0) ack 2011 win 257",
                   "+.1 < . 1:1(0) ack 2011 win 257\n+.1 > . 2011:2021(10) ack 1 win 32768", 20,
                   "error handling packet: timing error: expected outbound packet at 1.400000 sec but none was sent "
                   "by 601.400000 sec",
                   "\nscript packet: 1.400000 > . 2011:2021(10) ack 1 win 32768", NULL);
    /* A FIN where the stack sends a bare ACK (the peer's FIN is acked first). */
    expect_fail("rfc9293/3.6-passive-close.pkt", "+0 > . 1:1(0) ack 2 win 32768", "+0 > F. 1:1(0) ack 2 win 32768",
                "error handling packet: live packet field tcp_flags: expected: F. vs actual: .", NULL, NULL);
}

static void a_wrong_call_result_fails(void **state) {
    (void)state;
    /* The connection times out at the end of the last interval, not before. */
    expect_fail("rfc1122/4.2.3.6-keepalive.pkt", "+2 read(4, ..., 10) = -1 ETIMEDOUT (Connection timed out)",
                "+2 read(4, ..., 10) = 0",
                "runtime error in read call: Expected result 0 but got -1 with errno ETIMEDOUT", NULL, NULL);
    expect_fail("rfc9293/3.5-passive-open.pkt", "+0 accept(3, ..., ...) = 4",
                "+0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)",
                "runtime error in accept call: Expected result -1 with errno EAGAIN but got 4", NULL, NULL);
    /* The script's fd numbers are its own (packetdrill maps them): accept may say 5, and 4 is then no fd. */
    expect_fail_at("rfc9293/3.5-passive-open.pkt", "+0 accept(3, ..., ...) = 4", "+0 accept(3, ..., ...) = 5", 15,
                   "runtime error in getsockopt call: Expected result 0 but got -1 with errno EBADF", NULL, NULL);
    expect_fail("rfc9293/3.10.7.3-connect-refused.pkt", "+0...0.1 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)",
                "+0...0.1 connect(3, ..., ...) = -1 ECONNRESET (Connection reset by peer)",
                "runtime error in connect call: Expected result -1 with errno ECONNRESET but got -1 with errno "
                "ECONNREFUSED",
                NULL, NULL);
    expect_fail("rfc9293/3.8.6.3-data-in.pkt", "+0 read(4, ..., 2000) = -1 EAGAIN (Resource temporarily unavailable)",
                "+0 read(4, ..., 2000) = 0",
                "runtime error in read call: Expected result 0 but got -1 with errno EAGAIN", NULL, NULL);
    expect_fail("rfc9293/3.10.7.4-rst-established.pkt", "+0 read(4, ..., 100) = -1 ECONNRESET (Connection reset by peer)",
                "+0 read(4, ..., 100) = 0",
                "runtime error in read call: Expected result 0 but got -1 with errno ECONNRESET", NULL, NULL);
    expect_fail("rfc9293/3.5-passive-open.pkt", "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0",
                "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0",
                "runtime error in getsockopt call: Bad getsockopt optval: expected: 104 actual: 0", NULL, NULL);
}

static void a_wrong_option_or_field_fails(void **state) {
    (void)state;
    expect_fail("rfc9293/3.5-passive-open.pkt", "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 3>",
                "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>",
                "error handling packet: bad value outbound TCP option 3: expected: wscale 7 vs actual: wscale 3",
                "\nscript packet: 0.000000 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>",
                "\nactual packet: 0.000000 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 3>");
    expect_fail("rfc9293/3.5-passive-open.pkt", "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 3>",
                "+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,nop,nop,nop,wscale 3>",
                "error handling packet: bad outbound TCP option 2: expected kind 4 (sackOK) vs actual kind 1 (nop)",
                NULL, NULL);
    expect_fail("rfc9293/3.5-passive-open.pkt", "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 3>",
                "+0 > S. 0:0(0) ack 1 <mss 1460>",
                "error handling packet: bad outbound TCP options: expected 1 options vs actual 6", NULL, NULL);
    expect_fail("rfc9293/3.7.1-data-out.pkt", "+0 > P. 1001:2001(1000) ack 1 win 32768", "+0 > P. 1001:2001(1000) ack 1 win 257",
                "error handling packet: live packet field tcp_window: expected: 257 vs actual: 32768", NULL, NULL);
    expect_fail("rfc9293/3.7.1-data-out.pkt", "+0 > P. 1001:2001(1000) ack 1 win 32768", "+0 > P. 1001:2461(1460) ack 1 win 32768",
                "error handling packet: live packet payload: expected 1460 bytes vs actual 1000 bytes", NULL, NULL);
    /* The MSS after Fragmentation Needed is the MTU less 40 bytes of headers. */
    expect_fail("rfc1191/6.3-icmp-pmtu.pkt", "+0 > . 1:1161(1160) ack 1 win 32768", "+0 > . 1:1201(1200) ack 1 win 32768",
                "error handling packet: live packet payload: expected 1200 bytes vs actual 1160 bytes", NULL, NULL);
    expect_fail("rfc9293/3.10.7.1-rst-closed-port.pkt", "+0 > R 5000:5000(0) win 0", "+0 > R 5001:5001(0) win 0",
                "error handling packet: live packet field tcp_seq: expected: 5001 vs actual: 5000", NULL, NULL);
    expect_fail("rfc9293/3.10.7.4-out-of-order.pkt", "+0 > . 1:1(0) ack 1 win 32768 <nop,nop,sack 1001:2001>",
                "+0 > . 1:1(0) ack 1 win 32768 <nop,nop,sack 1001:2002>",
                "error handling packet: bad value outbound TCP option 5: expected: sack 1001:2002 vs actual: sack "
                "1001:2001",
                NULL, NULL);
}

/* The same failure, the same message, every time. */
static void runs_are_deterministic(void **state) {
    (void)state;
    unsigned line;
    char *text = mutate("rfc6298/2-rto-data.pkt", "+2 > P. 1:1001(1000) ack 1 win 32768", "+2 > P. 1:1001(1000) ack 1 win 1",
                        &line);
    char a[MSG_CAP], b[MSG_CAP];
    assert_int_equal(run_text("r.pkt", text, a), TB_CHECK_FAIL);
    assert_int_equal(run_text("r.pkt", text, b), TB_CHECK_FAIL);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "tcp_window: expected: 1 vs actual: 32768"));
    free(text);
}

/* ---- what tcpbed does not run is skipped --------------------------------------- */

static void expect_skip(const char *text, const char *want) {
    char msg[MSG_CAP];
    enum tb_check_outcome r = run_text("s.pkt", text, msg);
    if (r != TB_CHECK_SKIP) fail_msg("gave %s: %s", tb_check_outcome_name(r), msg);
    assert_string_equal(msg, want);
}

static void unsupported_constructs_skip(void **state) {
    (void)state;
    expect_skip("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n`sysctl -q net.ipv4.tcp_sack=0`\n",
                "unsupported: s.pkt:2: shell command");
    expect_skip("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 sendmsg(3, {msg_name(...)=..., msg_iov(1)=[{...}]}, 0) = 4\n",
                "unsupported: s.pkt:2: system call sendmsg");
    expect_skip("0 epoll_create(1) = 3\n+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n"
                "+0 epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, fd=4}) = 0\n",
                "unsupported: s.pkt:3: edge-triggered or one-shot epoll");
    expect_skip("--mss=1000\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", "unsupported: s.pkt:1: option --mss");
    expect_skip("0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n",
                "unsupported: s.pkt:1: socket type other than SOCK_STREAM");
    expect_skip("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_LINGER, [1], 4) = 0\n",
                "unsupported: s.pkt:2: setsockopt SO_LINGER value (expected {onoff=N, linger=N})");
    expect_skip("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_BINDTODEVICE, \"eth0\", 4) = 0\n",
                "unsupported: s.pkt:2: setsockopt option SOL_SOCKET SO_BINDTODEVICE");
    expect_skip("0 < icmp time_exceeded [raw (20)]\n", "unsupported: s.pkt:1: ICMP quoting other than a TCP segment");
    expect_skip("0 > icmp unreachable port_unreachable\n", "unsupported: s.pkt:1: outbound ICMP packet");
    expect_skip("0 < icmp echo_request id 1\n", "unsupported: s.pkt:1: ICMP echo_request");
    /* The parser's notes come first. */
    char msg[MSG_CAP];
    const char *py = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n%{ print(1) }%\n";
    struct tb_script *s = tb_script_parse("s.pkt", py, strlen(py), NULL, NULL);
    assert_non_null(s);
    assert_true(s->unsupported_count > 0);
    char note[256];
    tb_script_format_note(s, 0, note, sizeof(note));
    assert_int_equal(tb_check_run(s, NULL, msg, sizeof(msg)), TB_CHECK_SKIP);
    assert_string_equal(msg, note);
    tb_script_free(s);
    /* A skip is decided before anything runs: a failing line before the
     * unsupported one does not turn it into a failure. */
    expect_skip("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 7\n+0 splice(3, NULL, 4, NULL, 1, 0) = 0\n",
                "unsupported: s.pkt:2: system call splice");
}

static void shell_lines_can_be_ignored(void **state) {
    (void)state;
    size_t len;
    char *text = slurp(RUN_DIR "/rfc9293/3.10.7.1-rst-closed-port.pkt", &len);
    char *with = malloc(len + 64);
    assert_non_null(with);
    snprintf(with, len + 64, "`sysctl -q net.ipv4.tcp_sack=1`\n%s", text);
    struct tb_check_opts o;
    tb_check_opts_default(&o);
    char msg[MSG_CAP];
    assert_int_equal(run_text_with("w.pkt", with, &o, msg), TB_CHECK_SKIP);
    o.ignore_shell = true;
    assert_int_equal(run_text_with("w.pkt", with, &o, msg), TB_CHECK_PASS);
    assert_string_equal(msg, "w.pkt:1: warning: shell command ignored");
    free(with);
    free(text);
}

static void the_options_tolerance_and_pcap(void **state) {
    (void)state;
    unsigned line;
    /* The caller's tolerance wins over the script's. */
    char *text = mutate("rfc6298/2-rto-data.pkt", "+1 > P. 1:1001(1000) ack 1 win 32768", "+.9 > P. 1:1001(1000) ack 1 win 32768",
                        &line);
    struct tb_check_opts o;
    tb_check_opts_default(&o);
    char msg[MSG_CAP];
    o.tolerance_ns = 100 * TB_NS_PER_MS;
    assert_int_equal(run_text_with("t.pkt", text, &o, msg), TB_CHECK_PASS);
    o.tolerance_ns = 99 * TB_NS_PER_MS;
    assert_int_equal(run_text_with("t.pkt", text, &o, msg), TB_CHECK_FAIL);
    free(text);
    /* Every frame in and out lands in the pcap. */
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tcpbed-check-%ld.pcap", (long)getpid());
    size_t len;
    text = slurp(RUN_DIR "/rfc9293/3.7.1-data-out.pkt", &len);
    tb_check_opts_default(&o);
    o.pcap_path = path;
    assert_int_equal(run_text_with("p.pkt", text, &o, msg), TB_CHECK_PASS);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    /* 24-byte header; 8 frames (ARP pair, handshake, data, ACKs) of at least 16 + 54 bytes. */
    assert_true(sb.st_size > 24 + 8 * (16 + 54));
    unlink(path);
    free(text);
    /* A pcap that cannot be written fails the run. */
    o.pcap_path = "/nonexistent-dir/x.pcap";
    text = slurp(RUN_DIR "/rfc9293/3.7.1-data-out.pkt", &len);
    assert_int_equal(run_text_with("p.pkt", text, &o, msg), TB_CHECK_FAIL);
    free(text);
}

/* Whatever a script says, the run ends in one of the three outcomes with a
 * message for two of them (the ASan build runs this): the parser's corpus
 * (shell lines dropped) and every truncation of every run script. */
static void any_script_ends_in_an_outcome(void **state) {
    (void)state;
    static char names[1024][128];
    DIR *dir = opendir("tests/check/corpus");
    assert_non_null(dir);
    size_t n = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL && n < 64) {
        size_t l = strlen(d->d_name);
        if (l < 5 || l >= 128 || strcmp(d->d_name + l - 4, ".pkt") != 0) continue;
        memcpy(names[n++], d->d_name, l + 1);
    }
    closedir(dir);
    assert_true(n > 0);
    struct tb_check_opts o;
    tb_check_opts_default(&o);
    o.ignore_shell = true;
    o.max_wait_ns = 30 * TB_NS_PER_S;
    char msg[MSG_CAP];
    for (size_t i = 0; i < n; i++) {
        char path[256];
        snprintf(path, sizeof(path), "tests/check/corpus/%.127s", names[i]);
        size_t len;
        char *text = slurp(path, &len);
        enum tb_check_outcome r = run_text_with(path, text, &o, msg);
        assert_true(r == TB_CHECK_PASS || r == TB_CHECK_FAIL || r == TB_CHECK_SKIP);
        if (r != TB_CHECK_PASS) assert_true(strncmp(msg, r == TB_CHECK_SKIP ? "unsupported: " : path, 12) == 0);
        free(text);
    }
    n = corpus_names(names, 1024);
    for (size_t i = 0; i < n; i++) {
        char path[256];
        snprintf(path, sizeof(path), RUN_DIR "/%.127s", names[i]);
        size_t len;
        char *text = slurp(path, &len);
        /* Cut after each line: every prefix is a script of its own. */
        for (size_t cut = 0; cut < len; cut++) {
            if (text[cut] != '\n') continue;
            char keep = text[cut + 1];
            text[cut + 1] = '\0';
            struct tb_script *s = tb_script_parse(path, text, cut + 1, NULL, NULL);
            if (s != NULL) {
                enum tb_check_outcome r = tb_check_run(s, &o, msg, sizeof(msg));
                assert_true(r == TB_CHECK_PASS || r == TB_CHECK_FAIL || r == TB_CHECK_SKIP);
                tb_script_free(s);
            }
            text[cut + 1] = keep;
        }
        free(text);
    }
}

/* A blocking call the script never lets finish fails, naming its line. */
static void a_blocking_call_that_never_returns_fails(void **state) {
    (void)state;
    char msg[MSG_CAP];
    const char *text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                       "+0 listen(3, 1) = 0\n+0...1 accept(3, ..., ...) = 4\n";
    assert_int_equal(run_text("b.pkt", text, msg), TB_CHECK_FAIL);
    assert_string_equal(msg, "b.pkt:4: blocking accept call did not return by the end of the script");
    /* Without `...` a call may not block at all: the script stops with it (packetdrill's main thread). */
    const char *inline_block = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                               "+0 listen(3, 1) = 0\n+.1 accept(3, ..., ...) = 4\n+0 < S 0:0(0) win 1000\n";
    assert_int_equal(run_text("b.pkt", inline_block, msg), TB_CHECK_FAIL);
    assert_string_equal(msg, "b.pkt:4: timing error: expected accept system call to return at 0.100000 sec but it "
                             "blocked (a call that waits needs its end time: a...b accept(...))");
    /* An end time counts from the start's base: +0.1...0.3 after an event at 0.5 ends at 0.8. */
    const char *rel = "0.5 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                      "+0 listen(3, 1) = 0\n+0.1...0.3 accept(3, ..., ...) = 4\n"
                      "0.7 < S 0:0(0) win 1000 <mss 1000>\n+0 > S. 0:0(0) ack 1 <mss 1460>\n"
                      "+.1 < . 1:1(0) ack 1 win 1000\n";
    assert_int_equal(run_text("b.pkt", rel, msg), TB_CHECK_PASS);
    /* Time never goes backward, and an event cannot start before the one before it ended. */
    const char *back = "0.5 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n0.2 bind(3, ..., ...) = 0\n";
    assert_int_equal(run_text("b.pkt", back, msg), TB_CHECK_FAIL);
    assert_string_equal(msg, "b.pkt:2: time goes backward in script: 0.200000 sec after 0.500000 sec");
    /* Non-blocking, the same accept is EAGAIN. */
    const char *nb = "0 socket(..., SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                     "+0 listen(3, 1) = 0\n+0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)\n";
    assert_int_equal(run_text("b.pkt", nb, msg), TB_CHECK_PASS);
    /* A closed or unknown fd is EBADF. */
    const char *bad = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n+0 close(3) = -1 EBADF\n"
                      "+0 listen(9, 1) = -1 EBADF\n";
    assert_int_equal(run_text("b.pkt", bad, msg), TB_CHECK_PASS);
}

/* --local_ip and --remote_ip move both ends; the script stays the same. */
static void the_addresses_are_options(void **state) {
    (void)state;
    size_t len;
    char *text = slurp(RUN_DIR "/rfc9293/3.10.7.1-rst-closed-port.pkt", &len);
    char *with = malloc(len + 64);
    assert_non_null(with);
    snprintf(with, len + 64, "--local_ip=10.0.0.1\n--remote_ip=10.0.0.2\n%s", text);
    char msg[MSG_CAP];
    assert_int_equal(run_text("a.pkt", with, msg), TB_CHECK_PASS);
    snprintf(with, len + 64, "--local_ip=10.0.0.300\n%s", text);
    assert_int_equal(run_text("a.pkt", with, msg), TB_CHECK_SKIP);
    assert_string_equal(msg, "unsupported: a.pkt:1: option --local_ip=10.0.0.300");
    free(with);
    free(text);
}

/* A tiny message buffer truncates, never overflows; none at all is fine. */
static void small_message_buffers(void **state) {
    (void)state;
    unsigned line;
    char *text = mutate("rfc6298/2-rto-data.pkt", "+1 > P. 1:1001(1000) ack 1 win 32768", "+.9 > P. 1:1001(1000) ack 1 win 32768",
                        &line);
    struct tb_script *s = tb_script_parse("m.pkt", text, strlen(text), NULL, NULL);
    assert_non_null(s);
    char small[8];
    memset(small, 'x', sizeof(small));
    assert_int_equal(tb_check_run(s, NULL, small, 5), TB_CHECK_FAIL);
    assert_string_equal(small, "m.pk");
    assert_int_equal(small[5], 'x');
    assert_int_equal(tb_check_run(s, NULL, NULL, 0), TB_CHECK_FAIL);
    tb_script_free(s);
    free(text);
}

/* poll, epoll and TCP_INFO report what the stack holds: a wrong revents,
 * a wrong epoll event, a poll that returns late or a wrong TCP_INFO field
 * fails on its line; options set before connect reach the SYN. */
static void readiness_and_info_fail_when_wrong(void **state) {
    (void)state;
    expect_fail("api/poll.pkt", "+0 poll([{fd=3, events=POLLIN, revents=POLLIN}], 1, 0) = 1",
                "+0 poll([{fd=3, events=POLLIN, revents=POLLOUT}], 1, 0) = 1",
                "runtime error in poll call: Bad revents for fd 3: expected: 0x4 actual: 0x1", NULL, NULL);
    expect_fail("api/poll.pkt", "0.350...0.450 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1",
                "0.350...0.440 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1",
                "timing error: expected poll system call to return at 0.440000 sec but happened at 0.450000 sec", NULL,
                NULL);
    expect_fail("api/epoll.pkt", "+0 epoll_wait(4, {events=EPOLLIN|EPOLLERR|EPOLLHUP, fd=5}, 4, 0) = 1",
                "+0 epoll_wait(4, {events=EPOLLIN, fd=5}, 4, 0) = 1",
                "runtime error in epoll_wait call: Bad events for fd 5: expected: 0x1 actual: 0x19", NULL, NULL);
    expect_fail("api/epoll.pkt", "+0 epoll_wait(4, {events=EPOLLIN, fd=3}, 1, 0) = 0",
                "+0 epoll_wait(4, {events=EPOLLIN, fd=3}, 1, 0) = 1",
                "runtime error in epoll_wait call: Expected result 1 but got 0", NULL, NULL);
    expect_fail("api/tcp-info.pkt",
                "+0 getsockopt(4, SOL_TCP, TCP_INFO, {tcpi_backoff=1, tcpi_total_retrans=1, tcpi_snd_cwnd=1, tcpi_rto=2000000}, [104]) = 0",
                "+0 getsockopt(4, SOL_TCP, TCP_INFO, {tcpi_backoff=1, tcpi_total_retrans=1, tcpi_snd_cwnd=1, tcpi_rto=1000000}, [104]) = 0",
                "runtime error in getsockopt call: Bad getsockopt TCP_INFO: tcpi_rto expected: 1000000 actual: 2000000",
                NULL, NULL);
    expect_fail("rfc7323/2.2-rcvbuf-before-connect.pkt", "+0 > S 0:0(0) win 16384 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 0>",
                "+0 > S 0:0(0) win 16384 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 0>",
                "error handling packet: bad value outbound TCP option 2: expected: mss 1460 vs actual: mss 1000", NULL,
                NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_corpus_script_passes),
        cmocka_unit_test(the_corpus_passes_under_other_seeds),
        cmocka_unit_test(a_wrong_ack_fails),
        cmocka_unit_test(a_wrong_time_fails),
        cmocka_unit_test(a_missing_or_unexpected_packet_fails),
        cmocka_unit_test(a_wrong_call_result_fails),
        cmocka_unit_test(a_wrong_option_or_field_fails),
        cmocka_unit_test(runs_are_deterministic),
        cmocka_unit_test(unsupported_constructs_skip),
        cmocka_unit_test(shell_lines_can_be_ignored),
        cmocka_unit_test(the_options_tolerance_and_pcap),
        cmocka_unit_test(any_script_ends_in_an_outcome),
        cmocka_unit_test(small_message_buffers),
        cmocka_unit_test(a_blocking_call_that_never_returns_fails),
        cmocka_unit_test(the_addresses_are_options),
        cmocka_unit_test(readiness_and_info_fail_when_wrong),
    };
    return cmocka_run_group_tests_name("check_run", tests, NULL, NULL);
}
