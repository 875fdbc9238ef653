/* harness/check: the packetdrill script front end. Every construct the
 * public suites use, errors with their exact lines and sentences, the
 * bounds, the printer's round trip, and a corpus of our own scripts fed
 * whole, truncated and mutated (the ASan build runs this too). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check/script.h"
#include "helpers.h"

#define CORPUS_DIR "tests/check/corpus"
#define NAME_CAP 320                 /* the directory, a slash, any d_name */

static struct tb_script *parse_with(const char *text, const struct tb_script_limits *lim) {
    struct tb_script_error err;
    struct tb_script *s = tb_script_parse("t.pkt", text, strlen(text), lim, &err);
    if (s == NULL) fail_msg("unexpected error: %s", err.message);
    assert_int_equal(err.status, TB_SCRIPT_OK);
    return s;
}

static struct tb_script *parse(const char *text) { return parse_with(text, NULL); }

/* The script must fail with exactly this message (after "t.pkt:"). */
static void expect_error_with(const char *text, const struct tb_script_limits *lim, enum tb_script_status status,
                              unsigned line, const char *message) {
    struct tb_script_error err;
    struct tb_script *s = tb_script_parse("t.pkt", text, strlen(text), lim, &err);
    if (s != NULL) fail_msg("parsed, expected: %s", message ? message : "an error");
    assert_int_equal(err.status, status);
    if (message == NULL) return;
    char want[512];
    if (line)
        snprintf(want, sizeof(want), "t.pkt:%u: %s", line, message);
    else
        snprintf(want, sizeof(want), "t.pkt: %s", message);
    assert_string_equal(err.message, want);
    assert_int_equal(err.status, status);
    assert_int_equal(err.line, line);
}

static void expect_error(const char *text, unsigned line, const char *message) {
    expect_error_with(text, NULL, TB_SCRIPT_SYNTAX_ERROR, line, message);
}

static const struct tb_script_event *only_event(const struct tb_script *s) {
    assert_int_equal(s->event_count, 1);
    return &s->events[0];
}

/* The event printed back must be exactly `want`. */
static void expect_printed(const char *text, const char *want) {
    struct tb_script *s = parse(text);
    char out[1024];
    tb_script_format_event(only_event(s), out, sizeof(out));
    assert_string_equal(out, want);
    tb_script_free(s);
}

/* ---- time column -------------------------------------------------------------------- */

static void absolute_times_are_exact_nanoseconds(void **state) {
    (void)state;
    struct tb_script *s = parse("0.100 close(3) = 0\n1 close(3) = 0\n.5 close(3) = 0\n2.000000001 close(3) = 0\n");
    assert_int_equal(s->event_count, 4);
    assert_int_equal(s->events[0].time.kind, TB_SCRIPT_TIME_ABSOLUTE);
    assert_int_equal(s->events[0].time.start_ns, 100000000);
    assert_int_equal(s->events[1].time.start_ns, 1000000000);
    assert_int_equal(s->events[2].time.start_ns, 500000000);
    assert_int_equal(s->events[3].time.start_ns, 2000000001);
    assert_int_equal(s->events[3].line, 4);
    tb_script_free(s);
}

static void relative_times(void **state) {
    (void)state;
    struct tb_script *s = parse("+0 close(3) = 0\n+.1 close(3) = 0\n+1.25 close(3) = 0\n");
    for (size_t i = 0; i < 3; i++) assert_int_equal(s->events[i].time.kind, TB_SCRIPT_TIME_RELATIVE);
    assert_int_equal(s->events[0].time.start_ns, 0);
    assert_int_equal(s->events[1].time.start_ns, 100000000);
    assert_int_equal(s->events[2].time.start_ns, 1250000000);
    tb_script_free(s);
}

static void time_ranges_and_any_time(void **state) {
    (void)state;
    struct tb_script *s = parse("0.1~0.2 > . 1:1(0) ack 1\n+0.3~+0.4 > . 1:1(0) ack 1\n* > . 1:1(0) ack 1\n");
    assert_int_equal(s->events[0].time.kind, TB_SCRIPT_TIME_ABSOLUTE_RANGE);
    assert_int_equal(s->events[0].time.start_ns, 100000000);
    assert_int_equal(s->events[0].time.end_ns, 200000000);
    assert_int_equal(s->events[1].time.kind, TB_SCRIPT_TIME_RELATIVE_RANGE);
    assert_int_equal(s->events[1].time.end_ns, 400000000);
    assert_int_equal(s->events[2].time.kind, TB_SCRIPT_TIME_ANY);
    tb_script_free(s);
}

static void time_errors_name_their_line(void **state) {
    (void)state;
    expect_error("0 close(3) = 0\n0.2~0.1 > . 1:1(0) ack 1\n", 2, "time range is backwards");
    expect_error("\n* close(3) = 0\n", 2, "event time '*' can only be used with outbound packets");
    expect_error("0.1~0.2 < . 1:1(0) ack 1\n", 1, "event time a time range can only be used with outbound packets");
    expect_error("-0.1 close(3) = 0\n", 1, "negative time");
    expect_error("0.1234567891 close(3) = 0\n", 1, "time '0.1234567891' has more than 9 decimals");
    expect_error("+0.1~0.2 > . 1:1(0)\n", 1, "expected '+' (a relative range is written +a~+b), got '0.2'");
    expect_error("0.1~+0.2 > . 1:1(0)\n", 1, "expected a time in seconds (an absolute range is written a~b), got '+'");
    expect_error("+ close(3) = 0\n", 1, "expected a time in seconds, got 'close'");
}

static void the_time_column_is_optional(void **state) {
    (void)state;
    struct tb_script *s = parse("close(3) = 0\n< . 1:1(0) ack 1 win 5\n> . 1:1(0) ack 1\n");
    assert_int_equal(s->event_count, 3);
    for (size_t i = 0; i < 3; i++) assert_int_equal(s->events[i].time.kind, TB_SCRIPT_TIME_NONE);
    /* A packet on the next line is an event, not the previous one's option list. */
    assert_int_equal(s->events[1].u.packet.u.tcp.option_count, 0);
    assert_int_equal(s->events[2].u.packet.direction, TB_SCRIPT_OUTBOUND);
    tb_script_free(s);
}

/* ---- packets ----------------------------------------------------------------------------- */

static void tcp_flag_words(void **state) {
    (void)state;
    struct {
        const char *flags;
        uint8_t bits;
    } cases[] = {
        {"S", TB_SCRIPT_TCP_SYN},
        {"S.", TB_SCRIPT_TCP_SYN | TB_SCRIPT_TCP_ACK},
        {".", TB_SCRIPT_TCP_ACK},
        {"P.", TB_SCRIPT_TCP_PSH | TB_SCRIPT_TCP_ACK},
        {"F.", TB_SCRIPT_TCP_FIN | TB_SCRIPT_TCP_ACK},
        {"FP.", TB_SCRIPT_TCP_FIN | TB_SCRIPT_TCP_PSH | TB_SCRIPT_TCP_ACK},
        {"R", TB_SCRIPT_TCP_RST},
        {"R.", TB_SCRIPT_TCP_RST | TB_SCRIPT_TCP_ACK},
        {"SEW", TB_SCRIPT_TCP_SYN | TB_SCRIPT_TCP_ECE | TB_SCRIPT_TCP_CWR},
        {"SE.", TB_SCRIPT_TCP_SYN | TB_SCRIPT_TCP_ECE | TB_SCRIPT_TCP_ACK},
        {"U.", TB_SCRIPT_TCP_URG | TB_SCRIPT_TCP_ACK},
        {"-", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[64], printed[128];
        snprintf(text, sizeof(text), "0 > %s 0:0(0)\n", cases[i].flags);
        struct tb_script *s = parse(text);
        assert_int_equal(only_event(s)->u.packet.u.tcp.flags, cases[i].bits);
        tb_script_format_packet(&s->events[0].u.packet, printed, sizeof(printed));
        snprintf(text, sizeof(text), "> %s 0:0(0)", cases[i].flags);
        assert_string_equal(printed, text);
        tb_script_free(s);
    }
    expect_error("0 > SX 0:0(0)\n", 1, "expected TCP flags (F S R P . U E W, or -), got 'SX'");
    expect_error("0 <\n", 1, "expected TCP flags (F S R P . U E W, or -), got end of file");
}

static void sequence_ranges(void **state) {
    (void)state;
    struct tb_script *s = parse("0 < . 1:1001(1000) ack 1\n0 < S 0:0(0)\n0 > . 4294967295:4294967295(0)\n");
    const struct tb_script_tcp *t = &s->events[0].u.packet.u.tcp;
    assert_int_equal(t->seq_start, 1);
    assert_int_equal(t->seq_end, 1001);
    assert_int_equal(t->payload_len, 1000);
    assert_int_equal(s->events[1].u.packet.u.tcp.payload_len, 0);
    assert_int_equal(s->events[2].u.packet.u.tcp.seq_start, 4294967295u);
    tb_script_free(s);
    expect_error("0 < . 1:1000(1000) ack 1\n", 1,
                 "inconsistent sequence range 1:1000(1000): the end must be the start plus the length");
    expect_error("0 < . 1:1001 ack 1\n", 1, "expected '(', got 'ack'");
    expect_error("0 < . 1:1(70000)\n", 1, "a payload length 70000 out of range [0, 65535]");
    expect_error("0 < . 4294967296:4294967296(0)\n", 1,
                 "a sequence range start:end(length) 4294967296 out of range [0, 4294967295]");
}

static void ack_window_and_urgent_pointer(void **state) {
    (void)state;
    struct tb_script *s = parse("0 < P. 1:2(1) ack 7 win 257 urg 1\n0 > . 1:1(0)\n");
    const struct tb_script_tcp *t = &s->events[0].u.packet.u.tcp;
    assert_true(t->has_ack && t->has_win && t->has_urg);
    assert_int_equal(t->ack, 7);
    assert_int_equal(t->win, 257);
    assert_int_equal(t->urg, 1);
    assert_false(s->events[1].u.packet.u.tcp.has_ack);
    assert_false(s->events[1].u.packet.u.tcp.has_win);
    tb_script_free(s);
    expect_error("0 < . 1:1(0) ack 1 win 65536\n", 1, "a window 65536 out of range [0, 65535]");
    expect_error("0 < . 1:1(0) ack win 5\n", 1, "expected an acknowledgment number, got 'win'");
}

static void tcp_option_lists(void **state) {
    (void)state;
    struct tb_script *s = parse("0 < S 0:0(0) win 32792 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n");
    const struct tb_script_tcp *t = &only_event(s)->u.packet.u.tcp;
    assert_int_equal(t->option_count, 5);
    assert_int_equal(t->options[0].kind, TB_SCRIPT_OPT_MSS);
    assert_int_equal(t->options[0].u.mss, 1460);
    assert_int_equal(t->options[1].kind, TB_SCRIPT_OPT_SACK_PERMITTED);
    assert_int_equal(t->options[2].kind, TB_SCRIPT_OPT_TIMESTAMP);
    assert_int_equal(t->options[2].u.timestamp.val, 100);
    assert_int_equal(t->options[2].u.timestamp.ecr, 0);
    assert_int_equal(t->options[3].kind, TB_SCRIPT_OPT_NOP);
    assert_int_equal(t->options[4].kind, TB_SCRIPT_OPT_WSCALE);
    assert_int_equal(t->options[4].u.wscale, 7);
    assert_int_equal(t->options[4].line, 1);
    assert_false(t->options_any);
    assert_int_equal(s->unsupported_count, 0);
    tb_script_free(s);
    expect_error("0 < S 0:0(0) <mss 1460 sackOK>\n", 1, "expected ',' or '>', got 'sackOK'");
    expect_error("0 < S 0:0(0) <TS 1 ecr 2>\n", 1, "expected 'val', got '1'");
    expect_error("0 < S 0:0(0) <wscale 300>\n", 1, "a window scale shift 300 out of range [0, 255]");
    expect_error("0 < S 0:0(0) <mss 1460,>\n", 1,
                 "expected a TCP option (mss, nop, wscale, sackOK, sack, TS, eol), got '>'");
}

static void sack_blocks_and_eol(void **state) {
    (void)state;
    struct tb_script *s = parse("0 < . 1:1(0) ack 1 <nop,nop,sack 1001:2001 3001:4001,eol>\n");
    const struct tb_script_tcp *t = &only_event(s)->u.packet.u.tcp;
    assert_int_equal(t->option_count, 4);
    assert_int_equal(t->options[2].kind, TB_SCRIPT_OPT_SACK);
    assert_int_equal(t->options[2].u.sack.count, 2);
    assert_int_equal(t->options[2].u.sack.blocks[0].left, 1001);
    assert_int_equal(t->options[2].u.sack.blocks[1].right, 4001);
    assert_int_equal(t->options[3].kind, TB_SCRIPT_OPT_EOL);
    tb_script_free(s);
    expect_error_with("0 < . 1:1(0) <sack 1:2 3:4 5:6 7:8 9:10>\n", NULL, TB_SCRIPT_TOO_BIG, 1,
                      "more than 4 SACK blocks in one option");
    expect_error("0 < . 1:1(0) <sack 1-2>\n", 1, "expected ':', got '-2'");
}

static void any_options_only_outbound(void **state) {
    (void)state;
    struct tb_script *s = parse("0 > S. 0:0(0) ack 1 <...>\n");
    assert_true(only_event(s)->u.packet.u.tcp.options_any);
    tb_script_free(s);
    expect_error("0 < S 0:0(0) <...>\n", 1, "<...> for TCP options can only be used with outbound packets");
}

static void md5_and_unknown_options_are_unsupported(void **state) {
    (void)state;
    struct tb_script *s =
        parse("0 < S 0:0(0) <mss 1000,md5 00112233445566778899aabbccddeeff>\n"
              "+0 < . 1:1(0) ack 1 <nop,mpcapable v1 key[ckey=1],nop>\n+0 > S. 0:0(0) ack 1 <FO>\n");
    assert_int_equal(s->events[0].u.packet.u.tcp.options[1].kind, TB_SCRIPT_OPT_MD5);
    assert_string_equal(s->events[0].u.packet.u.tcp.options[1].u.blob.hex, "00112233445566778899aabbccddeeff");
    const struct tb_script_tcp_option *unknown = &s->events[1].u.packet.u.tcp.options[1];
    assert_int_equal(unknown->kind, TB_SCRIPT_OPT_UNKNOWN);
    assert_string_equal(unknown->u.text, "mpcapable v1 key[ckey=1]");
    assert_int_equal(s->events[1].u.packet.u.tcp.option_count, 3);
    assert_int_equal(s->events[2].u.packet.u.tcp.options[0].kind, TB_SCRIPT_OPT_FAST_OPEN);
    assert_int_equal(s->unsupported_count, 3);
    char note[128];
    tb_script_format_note(s, 0, note, sizeof(note));
    assert_string_equal(note, "unsupported: t.pkt:1: TCP MD5 signature option");
    tb_script_format_note(s, 1, note, sizeof(note));
    assert_string_equal(note, "unsupported: t.pkt:2: TCP option 'mpcapable'");
    tb_script_format_note(s, 2, note, sizeof(note));
    assert_string_equal(note, "unsupported: t.pkt:3: TCP Fast Open option");
    tb_script_free(s);
}

static void ecn_and_ip_annotations(void **state) {
    (void)state;
    struct tb_script *s = parse("0 > [ect0] . 1:1001(1000) ack 1\n0 < [ect1] . 1:1(0)\n0 < [ce] . 1:1(0)\n"
                                "0 > [noecn] . 1:1(0)\n0 > [ect01] . 1:1(0)\n0 < (tos 0x2) . 1:1(0)\n"
                                "0 < [ect0, ttl 3] . 1:1(0)\n");
    assert_int_equal(s->events[0].u.packet.ip.ecn, TB_SCRIPT_ECN_ECT0);
    assert_int_equal(s->events[1].u.packet.ip.ecn, TB_SCRIPT_ECN_ECT1);
    assert_int_equal(s->events[2].u.packet.ip.ecn, TB_SCRIPT_ECN_CE);
    assert_int_equal(s->events[3].u.packet.ip.ecn, TB_SCRIPT_ECN_NOT_ECT);
    assert_int_equal(s->events[4].u.packet.ip.ecn, TB_SCRIPT_ECN_ECT01);
    assert_true(s->events[5].u.packet.ip.has_tos);
    assert_int_equal(s->events[5].u.packet.ip.tos, 2);
    assert_true(s->events[5].u.packet.ip.in_parens);
    assert_true(s->events[6].u.packet.ip.has_ttl);
    assert_int_equal(s->events[6].u.packet.ip.ttl, 3);
    tb_script_free(s);
    expect_error("0 < [ect01] . 1:1(0)\n", 1, "[ect01] can only be used with outbound packets");
    expect_error("0 < [ect2] . 1:1(0)\n", 1,
                 "expected an ECN mark (noecn, ect0, ect1, ect01, ce), tos, ttl or flowlabel, got 'ect2'");
}

static void ports_before_the_flags(void **state) {
    (void)state;
    struct tb_script *s = parse("0 < 8080>50000 S 0:0(0) win 100\n");
    const struct tb_script_tcp *t = &only_event(s)->u.packet.u.tcp;
    assert_true(t->has_ports);
    assert_int_equal(t->src_port, 8080);
    assert_int_equal(t->dst_port, 50000);
    tb_script_free(s);
}

static void icmp_lines(void **state) {
    (void)state;
    struct tb_script *s = parse("0 < icmp unreachable frag_needed mtu 1200 [1:1001(1000)]\n"
                                "+0 < icmp unreachable port_unreachable\n+0 < icmp time_exceeded [raw (20)]\n"
                                "+0 > icmp echo_reply id 7\n+0 < icmp unreachable [udp (100)]\n");
    const struct tb_script_icmp *i = &s->events[0].u.packet.u.icmp;
    assert_int_equal(s->events[0].u.packet.kind, TB_SCRIPT_PACKET_ICMP);
    assert_string_equal(i->type, "unreachable");
    assert_string_equal(i->code, "frag_needed");
    assert_true(i->has_mtu);
    assert_int_equal(i->mtu, 1200);
    assert_int_equal(i->quote, TB_SCRIPT_ICMP_QUOTE_TCP);
    assert_int_equal(i->quote_seq_start, 1);
    assert_int_equal(i->quote_len, 1000);
    assert_string_equal(s->events[1].u.packet.u.icmp.code, "port_unreachable");
    assert_int_equal(s->events[1].u.packet.u.icmp.quote, TB_SCRIPT_ICMP_QUOTE_DEFAULT);
    assert_null(s->events[2].u.packet.u.icmp.code);
    assert_int_equal(s->events[2].u.packet.u.icmp.quote, TB_SCRIPT_ICMP_QUOTE_RAW);
    assert_int_equal(s->events[3].u.packet.u.icmp.id, 7);
    assert_int_equal(s->events[4].u.packet.u.icmp.quote, TB_SCRIPT_ICMP_QUOTE_UDP);
    assert_int_equal(s->unsupported_count, 1);    /* the UDP quote */
    tb_script_free(s);
    expect_error("0 < icmp\n+0 close(3) = 0\n", 2, "expected an ICMP type (unreachable, ...), got '+'");
    expect_error("0 < icmp unreachable mtu x\n", 1, "expected an MTU, got 'x'");
}

static void udp_packets_are_unsupported(void **state) {
    (void)state;
    struct tb_script *s = parse("0 < udp (1000)\n+0 > udp 53>1000 (20)\n");
    assert_int_equal(s->events[0].u.packet.kind, TB_SCRIPT_PACKET_UDP);
    assert_int_equal(s->events[0].u.packet.u.udp.payload_len, 1000);
    assert_int_equal(s->events[1].u.packet.u.udp.src_port, 53);
    assert_int_equal(s->unsupported_count, 2);
    assert_int_equal(s->unsupported[1].line, 2);
    tb_script_free(s);
}

/* ---- system calls ------------------------------------------------------------------------------ */

static void calls_with_integers_symbols_and_ellipses(void **state) {
    (void)state;
    struct tb_script *s = parse("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
    const struct tb_script_call *c = &only_event(s)->u.call;
    assert_int_equal(s->events[0].kind, TB_SCRIPT_EVENT_CALL);
    assert_string_equal(c->name, "socket");
    assert_int_equal(c->arg_count, 3);
    assert_int_equal(c->args[0]->kind, TB_SCRIPT_EXPR_ELLIPSIS);
    assert_int_equal(c->args[1]->kind, TB_SCRIPT_EXPR_SYMBOL);
    assert_string_equal(c->args[1]->u.symbol, "SOCK_STREAM");
    assert_string_equal(c->args[2]->u.symbol, "IPPROTO_TCP");
    assert_int_equal(c->result->kind, TB_SCRIPT_EXPR_INTEGER);
    assert_int_equal(c->result->u.integer.value, 3);
    assert_null(c->errno_name);
    assert_null(c->note);
    tb_script_free(s);
    s = parse("0 getpid() = 1\n0 frobnicate(1, 2) = 0\n");
    assert_int_equal(s->events[0].u.call.arg_count, 0);
    assert_string_equal(s->events[1].u.call.name, "frobnicate");   /* unknown calls are the checker's business */
    tb_script_free(s);
}

static void struct_literals_and_address_helpers(void **state) {
    (void)state;
    struct tb_script *s = parse("0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), "
                                "sin_addr=inet_addr(\"192.0.2.1\")}, 16) = 0\n");
    const struct tb_script_expr *addr = only_event(s)->u.call.args[1];
    assert_int_equal(addr->kind, TB_SCRIPT_EXPR_STRUCT);
    assert_int_equal(addr->u.list.count, 3);
    const struct tb_script_expr *port = addr->u.list.items[1];
    assert_int_equal(port->kind, TB_SCRIPT_EXPR_BINARY);
    assert_int_equal(port->u.binary.op, '=');
    assert_string_equal(port->u.binary.lhs->u.symbol, "sin_port");
    assert_int_equal(port->u.binary.rhs->kind, TB_SCRIPT_EXPR_CALL);
    assert_string_equal(port->u.binary.rhs->u.list.name, "htons");
    assert_int_equal(port->u.binary.rhs->u.list.items[0]->u.integer.value, 8080);
    const struct tb_script_expr *ip = addr->u.list.items[2]->u.binary.rhs;
    assert_string_equal(ip->u.list.name, "inet_addr");
    assert_string_equal(ip->u.list.items[0]->u.string.text, "192.0.2.1");
    tb_script_free(s);
}

static void arrays_and_nested_structs(void **state) {
    (void)state;
    struct tb_script *s = parse("0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
                                "0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1\n"
                                "0 writev(4, [{..., 500}, {..., 500}], 2) = 1000\n0 getsockopt(3, X, Y, [], []) = 0\n");
    const struct tb_script_expr *one = s->events[0].u.call.args[3];
    assert_int_equal(one->kind, TB_SCRIPT_EXPR_ARRAY);
    assert_int_equal(one->u.list.count, 1);
    assert_int_equal(one->u.list.items[0]->u.integer.value, 1);
    const struct tb_script_expr *pollfd = s->events[1].u.call.args[0]->u.list.items[0];
    assert_int_equal(pollfd->kind, TB_SCRIPT_EXPR_STRUCT);
    const struct tb_script_expr *events = pollfd->u.list.items[1]->u.binary.rhs;
    assert_int_equal(events->kind, TB_SCRIPT_EXPR_BINARY);
    assert_int_equal(events->u.binary.op, '|');
    assert_string_equal(events->u.binary.lhs->u.symbol, "POLLIN");
    assert_int_equal(s->events[2].u.call.args[1]->u.list.count, 2);
    assert_int_equal(s->events[3].u.call.args[3]->u.list.count, 0);
    tb_script_free(s);
}

static void or_expressions_associate_left(void **state) {
    (void)state;
    struct tb_script *s = parse("0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK|0x10) = 0\n");
    const struct tb_script_expr *e = only_event(s)->u.call.args[2];
    assert_int_equal(e->u.binary.op, '|');
    assert_int_equal(e->u.binary.rhs->u.integer.value, 16);
    assert_true(e->u.binary.rhs->u.integer.hex);
    assert_int_equal(e->u.binary.lhs->u.binary.op, '|');
    char out[128];
    tb_script_format_expr(e, out, sizeof(out));
    assert_string_equal(out, "O_RDWR|O_NONBLOCK|0x10");
    tb_script_free(s);
}

static void results_with_errno_and_note(void **state) {
    (void)state;
    struct tb_script *s = parse("0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n"
                                "0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n0 close(9) = -1 EBADF\n");
    const struct tb_script_call *c = &s->events[0].u.call;
    assert_int_equal(c->result->u.integer.value, -1);
    assert_string_equal(c->errno_name, "EAGAIN");
    assert_string_equal(c->note, "Resource temporarily unavailable");
    assert_null(s->events[1].u.call.errno_name);
    assert_string_equal(s->events[1].u.call.note, "flags O_RDWR");
    assert_string_equal(s->events[2].u.call.errno_name, "EBADF");
    assert_null(s->events[2].u.call.note);
    tb_script_free(s);
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP)\n+0 close(3) = 0\n", 2,
                 "expected '=' and the expected result, got '+'");
    expect_error("0 read(4, ..., 10) = -1 EAGAIN (Resource\n", 1, "expected ')' closing the note on its line");
    expect_error("0 read(4, ..., 10 = 3\n", 1, "expected ',' or ')', got '='");
}

static void blocking_calls(void **state) {
    (void)state;
    struct tb_script *s = parse("0.1...0.2 accept(3, ..., ...) = 4\n+0...+0.3 read(4, ..., 1) = 1\n"
                                "+0 accept(3, ..., ...) = 4\n");
    const struct tb_script_call *c = &s->events[0].u.call;
    assert_int_equal(s->events[0].time.start_ns, 100000000);
    assert_int_equal(c->end.kind, TB_SCRIPT_TIME_ABSOLUTE);
    assert_int_equal(c->end.start_ns, 200000000);
    assert_int_equal(s->events[1].u.call.end.kind, TB_SCRIPT_TIME_RELATIVE);
    assert_int_equal(s->events[1].u.call.end.start_ns, 300000000);
    assert_int_equal(s->events[2].u.call.end.kind, TB_SCRIPT_TIME_NONE);
    tb_script_free(s);
}

static void strings_integers_and_concatenation(void **state) {
    (void)state;
    struct tb_script *s = parse("0 f(\"a\\\"b\", \"ab\" \"cd\", \"x\"..., -0x10, 0, 9223372036854775807) = 0\n");
    const struct tb_script_call *c = &only_event(s)->u.call;
    assert_string_equal(c->args[0]->u.string.text, "a\\\"b");
    assert_string_equal(c->args[1]->u.string.text, "abcd");
    assert_int_equal(c->args[1]->u.string.len, 4);
    assert_true(c->args[2]->u.string.then_ellipsis);
    assert_int_equal(c->args[3]->u.integer.value, -16);
    assert_int_equal(c->args[5]->u.integer.value, INT64_MAX);
    tb_script_free(s);
    expect_error("0 f(9223372036854775808) = 0\n", 1, "number '9223372036854775808' out of range");
    expect_error("0 f(1.2.3) = 0\n", 1, "malformed number '1.2.3'");
}

static void multi_line_calls_keep_their_first_line(void **state) {
    (void)state;
    struct tb_script *s = parse("\n0 connect(3,\n   {sa_family=AF_INET,\n    sin_port=htons(80)},\n   16) = 0\n"
                                "+0 close(3) = 0\n");
    assert_int_equal(s->event_count, 2);
    assert_int_equal(s->events[0].line, 2);
    assert_int_equal(s->events[0].u.call.args[1]->line, 3);
    assert_int_equal(s->events[0].u.call.args[1]->u.list.items[1]->u.binary.lhs->line, 4);
    assert_int_equal(s->events[1].line, 6);
    tb_script_free(s);
}

/* ---- options, comments, shell, python, IPv6 ------------------------------------------------------ */

static void option_lines(void **state) {
    (void)state;
    struct tb_script *s = parse("--tolerance_usecs=10000\n--define=PROTO=IPPROTO_TCP --verbose\n"
                                "--local_ip=192.0.2.1\n0 close(3) = 0\n");
    assert_int_equal(s->option_count, 4);
    assert_string_equal(s->options[0].name, "tolerance_usecs");
    assert_string_equal(s->options[0].value, "10000");
    assert_string_equal(s->options[1].value, "PROTO=IPPROTO_TCP");
    assert_int_equal(s->options[1].line, 2);
    assert_string_equal(s->options[2].name, "verbose");
    assert_null(s->options[2].value);
    assert_string_equal(s->options[3].value, "192.0.2.1");
    assert_int_equal(s->unsupported_count, 0);
    tb_script_free(s);
    expect_error("0 close(3) = 0\n--tolerance_usecs=1\n", 2,
                 "option lines (--tolerance_usecs) must come before the first event");
}

static void comments_are_blanks_and_count_lines(void **state) {
    (void)state;
    struct tb_script *s = parse("// a comment\n/* a block\n   over lines */ 0 close(3) = 0 // trailing\n"
                                "/**/+0 close(4) /* inside */ = 0\n");
    assert_int_equal(s->event_count, 2);
    assert_int_equal(s->events[0].line, 3);
    assert_int_equal(s->events[1].line, 4);
    tb_script_free(s);
    expect_error("0 close(3) = 0\n/* never closed\n\n", 2, "unterminated /* comment");
}

static void shell_commands_are_events_never_run(void **state) {
    (void)state;
    struct tb_script *s = parse("`../common/defaults.sh`\n0 close(3) = 0\n+0 `sysctl -q net.ipv4.tcp_sack=0`\n");
    assert_int_equal(s->event_count, 3);
    assert_int_equal(s->events[0].kind, TB_SCRIPT_EVENT_SHELL);
    assert_int_equal(s->events[0].time.kind, TB_SCRIPT_TIME_NONE);
    assert_string_equal(s->events[0].u.shell.command, "../common/defaults.sh");
    assert_int_equal(s->events[2].kind, TB_SCRIPT_EVENT_SHELL);
    assert_int_equal(s->events[2].time.kind, TB_SCRIPT_TIME_RELATIVE);
    assert_string_equal(s->events[2].u.shell.command, "sysctl -q net.ipv4.tcp_sack=0");
    assert_int_equal(s->unsupported_count, 0);    /* whether to skip is the checker's choice (--ignore-shell) */
    tb_script_free(s);
    expect_error("0 close(3) = 0\n`never closed\n", 2, "unterminated shell command");
}

static void python_blocks_are_unsupported_nodes(void **state) {
    (void)state;
    struct tb_script *s = parse("0 close(3) = 0\n+0 %{ assert tcpi_rto == 200000 }%\n+0 %{\nx = 1\nprint(x)\n}%\n"
                                "+0 close(4) = 0\n");
    assert_int_equal(s->event_count, 4);
    assert_int_equal(s->events[1].kind, TB_SCRIPT_EVENT_UNSUPPORTED);
    assert_true(s->events[1].u.unsupported.is_code);
    assert_string_equal(s->events[1].u.unsupported.text, "assert tcpi_rto == 200000");
    assert_int_equal(s->events[3].line, 7);
    assert_int_equal(s->unsupported_count, 2);
    char note[128];
    tb_script_format_note(s, 1, note, sizeof(note));
    assert_string_equal(note, "unsupported: t.pkt:3: Python block %{ }%");
    tb_script_free(s);
    expect_error("+0 %{ x = 1\n", 1, "unterminated %{ }% block");
}

static void ipv6_is_unsupported(void **state) {
    (void)state;
    struct tb_script *s = parse("--ip_version=ipv6\n0 bind(3, {sa_family=AF_INET6, sin_addr=inet6_addr(\"::1\")}, 28) = 0\n"
                                "+0 < ipv6 2001:db8::1 > 2001:db8::2: . 1:1(0) ack 1\n+0 < [flowlabel 0x1] . 1:1(0)\n"
                                "+0 close(3) = 0\n");
    assert_int_equal(s->event_count, 4);
    assert_int_equal(s->events[1].kind, TB_SCRIPT_EVENT_UNSUPPORTED);
    assert_string_equal(s->events[1].u.unsupported.text, "+0 < ipv6 2001:db8::1 > 2001:db8::2: . 1:1(0) ack 1");
    assert_int_equal(s->events[3].kind, TB_SCRIPT_EVENT_CALL);
    assert_int_equal(s->unsupported_count, 4);
    const unsigned lines[] = {1, 2, 3, 4};
    for (size_t i = 0; i < 4; i++) assert_int_equal(s->unsupported[i].line, lines[i]);
    assert_string_equal(s->unsupported[1].construct, "IPv6 socket address");
    tb_script_free(s);
}

/* ---- other syntax errors ---------------------------------------------------------------------------- */

static void syntax_errors_name_line_and_token(void **state) {
    (void)state;
    expect_error("0 close(3) = 0\n\n+0 }\n", 3,
                 "expected a packet (< or >), a system call, a `shell command` or %{ }%, got '}'");
    expect_error("0 close(3) = 0\n]\n", 2, "expected a time, a packet, a system call, a `shell command` or %{ }%, got ']'");
    expect_error("0 close(3) = 0\n+0 close(\"abc) = 0\n", 2, "unterminated string");
    expect_error("0 close(3) = \x01\n", 1, "unexpected byte 0x01");
    expect_error("0 close(3) = )\n", 1, "expected an expression, got ')'");
    expect_error("0 f(192.0.2.1) = 0\n", 1, "expected an expression, got '192.0.2.1'");
    expect_error("0 close(3) =", 1, "expected an expression, got end of file");
    /* A long token is shown cut. */
    expect_error("0 > ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ 0:0(0)\n", 1,
                 "expected TCP flags (F S R P . U E W, or -), got 'ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN...'");
}

static void errors_without_an_error_struct(void **state) {
    (void)state;
    assert_null(tb_script_parse("x.pkt", "0 <", 3, NULL, NULL));
    struct tb_script *s = tb_script_parse(NULL, NULL, 0, NULL, NULL);
    assert_non_null(s);
    assert_int_equal(s->event_count, 0);
    assert_string_equal(s->file_name, "<script>");
    tb_script_free(s);
    tb_script_free(NULL);
}

/* ---- bounds ---------------------------------------------------------------------------------------- */

static char *repeat(const char *head, const char *unit, size_t times, const char *tail) {
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *buf = malloc(hl + ul * times + tl + 1);
    assert_non_null(buf);
    memcpy(buf, head, hl);
    for (size_t i = 0; i < times; i++) memcpy(buf + hl + i * ul, unit, ul);
    memcpy(buf + hl + ul * times, tail, tl + 1);
    return buf;
}

static void a_megabyte_line_is_refused_or_parsed_never_crashes(void **state) {
    (void)state;
    char *comment = repeat("0 close(3) = 0\n// ", "x", 1u << 20, "\n+0 close(4) = 0\n");
    expect_error_with(comment, NULL, TB_SCRIPT_TOO_BIG, 2, "line longer than 65536 bytes");
    struct tb_script_limits lim;
    tb_script_limits_default(&lim);
    lim.max_line_bytes = 2u << 20;
    struct tb_script *s = parse_with(comment, &lim);
    assert_int_equal(s->event_count, 2);
    tb_script_free(s);
    free(comment);

    char *string = repeat("0 write(3, \"", "y", 1u << 20, "\", 1) = 1\n");
    lim.max_line_bytes = 2u << 20;
    expect_error_with(string, &lim, TB_SCRIPT_TOO_BIG, 1, "string longer than 4096 bytes");
    lim.max_string_bytes = 2u << 20;
    s = parse_with(string, &lim);
    assert_int_equal(only_event(s)->u.call.args[1]->u.string.len, 1u << 20);
    tb_script_free(s);
    free(string);

    /* A megabyte of nesting stops at the depth bound, not the C stack. */
    char *deep = repeat("0 f(", "[", 1u << 20, "");
    expect_error_with(deep, &lim, TB_SCRIPT_TOO_BIG, 1, "expression nested deeper than 32");
    free(deep);
}

static void a_hundred_thousand_events(void **state) {
    (void)state;
    char *text = repeat("", "+0 < . 1:1001(1000) ack 1 win 257 <nop,nop,TS val 1 ecr 2>\n", 100000, "");
    struct tb_script *s = parse(text);
    assert_int_equal(s->event_count, 100000);
    assert_int_equal(s->events[99999].line, 100000);
    assert_int_equal(s->events[99999].u.packet.u.tcp.options[2].u.timestamp.ecr, 2);
    tb_script_free(s);
    struct tb_script_limits lim;
    tb_script_limits_default(&lim);
    lim.max_events = 50000;
    expect_error_with(text, &lim, TB_SCRIPT_TOO_BIG, 50001, "more than 50000 events");
    tb_script_limits_default(&lim);
    lim.max_arena_bytes = 1u << 20;
    expect_error_with(text, &lim, TB_SCRIPT_TOO_BIG, 0, NULL);
    free(text);
}

static void every_other_bound(void **state) {
    (void)state;
    struct tb_script_limits lim;
    tb_script_limits_default(&lim);
    lim.max_tcp_options = 3;
    expect_error_with("0 < S 0:0(0) <nop,nop,nop,nop>\n", &lim, TB_SCRIPT_TOO_BIG, 1,
                      "more than 3 TCP options in one list");
    tb_script_limits_default(&lim);
    lim.max_call_args = 2;
    expect_error_with("0 f(1, 2, 3) = 0\n", &lim, TB_SCRIPT_TOO_BIG, 1, "more than 2 items in one list");
    tb_script_limits_default(&lim);
    lim.max_lines = 2;
    expect_error_with("\n\n\n", &lim, TB_SCRIPT_TOO_BIG, 0, "more than 2 lines");
    tb_script_limits_default(&lim);
    lim.max_input_bytes = 4;
    expect_error_with("0 close(3) = 0", &lim, TB_SCRIPT_TOO_BIG, 0, "14 bytes, more than 4");
    tb_script_limits_default(&lim);
    lim.max_options = 1;
    expect_error_with("--a\n--b\n", &lim, TB_SCRIPT_TOO_BIG, 2, "more than 1 option lines");
    tb_script_limits_default(&lim);
    lim.max_unsupported = 1;
    struct tb_script *s = parse_with("0 < udp (1)\n0 < udp (2)\n0 < udp (3)\n", &lim);
    assert_int_equal(s->unsupported_count, 1);
    assert_int_equal(s->unsupported_total, 3);
    tb_script_free(s);
}

/* ---- printing ---------------------------------------------------------------------------------------- */

static void events_print_in_packetdrill_notation(void **state) {
    (void)state;
    expect_printed("0.100 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>",
                   "0.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>");
    expect_printed("+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>",
                   "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>");
    expect_printed("+.1~+.25   >   [ect0]   PF.   1:1001(1000)   ack 1   <...>",
                   "+0.1~+0.25 > [ect0] FP. 1:1001(1000) ack 1 <...>");
    expect_printed("* > [noecn] . 1:1(0) ack 1 <nop,nop,sack 1001:2001 3001:4001,TS val 5 ecr 6,eol>",
                   "* > [noecn] . 1:1(0) ack 1 <nop,nop,sack 1001:2001 3001:4001,TS val 5 ecr 6,eol>");
    expect_printed("+0 < icmp unreachable frag_needed mtu 1200 [1:1001(1000)]",
                   "+0 < icmp unreachable frag_needed mtu 1200 [1:1001(1000)]");
    expect_printed("0 connect(3, {sa_family=AF_INET,sin_port=htons(8080),sin_addr=inet_addr(\"192.0.2.1\")},16) = -1 "
                   "EINPROGRESS (Operation now in progress)",
                   "0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"192.0.2.1\")}, 16) = -1 "
                   "EINPROGRESS (Operation now in progress)");
    expect_printed("0.1...0.2 accept(3, ..., ...) = 4", "0.1...0.2 accept(3, ..., ...) = 4");
    expect_printed("+0 `echo hi`", "+0 `echo hi`");
    expect_printed("+0 %{ print(1) }%", "+0 %{ print(1) }%");
    expect_printed("1.5 < - 1:1(0) win 0", "1.5 < - 1:1(0) win 0");
    expect_printed("2.000001 < (tos 0x2) 1>2 R. 1:1(0) ack 1 urg 3", "2.000001 < (tos 0x2) 1>2 R. 1:1(0) ack 1 urg 3");

    struct tb_script *s = parse("0 < . 1:1(0) ack 1 win 257\n");
    char small[8];
    size_t need = tb_script_format_event(&s->events[0], small, sizeof(small));
    assert_int_equal(need, strlen("0 < . 1:1(0) ack 1 win 257"));
    assert_string_equal(small, "0 < . 1");
    struct tb_script_time t = {TB_SCRIPT_TIME_RELATIVE, 30000000, 0};
    tb_script_format_time(&t, small, sizeof(small));
    assert_string_equal(small, "+0.03");
    tb_script_free(s);
}

/* The whole script printed, one event a line. */
static char *print_script(const struct tb_script *s) {
    size_t cap = 1u << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (size_t i = 0; i < s->option_count + s->event_count; i++) {
        for (;;) {
            size_t n = i < s->option_count ? tb_script_format_option(&s->options[i], out + len, cap - len)
                                           : tb_script_format_event(&s->events[i - s->option_count], out + len, cap - len);
            if (len + n + 2 <= cap) {
                len += n;
                out[len++] = '\n';
                out[len] = '\0';
                break;
            }
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    if (len == 0) out[0] = '\0';
    return out;
}

/* print(parse(print(s))) == print(s), and nothing is lost on the way. */
static void check_round_trip(const struct tb_script *s) {
    char *once = print_script(s);
    struct tb_script_error err;
    struct tb_script *again = tb_script_parse("again.pkt", once, strlen(once), NULL, &err);
    if (again == NULL) fail_msg("printed script does not parse: %s\n%s", err.message, once);
    assert_int_equal(again->event_count, s->event_count);
    assert_int_equal(again->option_count, s->option_count);
    assert_int_equal(again->unsupported_total, s->unsupported_total);
    char *twice = print_script(again);
    assert_string_equal(once, twice);
    free(once);
    free(twice);
    tb_script_free(again);
}

static bool read_whole_file(const char *path, char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(size > 0 ? (size_t)size : 1);
    *len = size > 0 ? (size_t)size : 0;
    bool ok = *data != NULL && fread(*data, 1, *len, f) == *len;
    fclose(f);
    return ok;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The corpus's file names, sorted. */
static size_t corpus_names(char names[][NAME_CAP], size_t max) {
    DIR *dir = opendir(CORPUS_DIR);
    assert_non_null(dir);
    size_t n = 0;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL && n < max) {
        size_t l = strlen(d->d_name);
        if (l > 4 && l < 200 && strcmp(d->d_name + l - 4, ".pkt") == 0)
            snprintf(names[n++], NAME_CAP, "%s/%s", CORPUS_DIR, d->d_name);
    }
    closedir(dir);
    char *ptrs[64];
    for (size_t i = 0; i < n; i++) ptrs[i] = names[i];
    qsort(ptrs, n, sizeof(ptrs[0]), compare_names);
    char sorted[64][NAME_CAP];
    for (size_t i = 0; i < n; i++) memcpy(sorted[i], ptrs[i], NAME_CAP);
    memcpy(names, sorted, n * NAME_CAP);
    return n;
}

static void the_corpus_parses_and_round_trips(void **state) {
    (void)state;
    char names[64][NAME_CAP];
    size_t n = corpus_names(names, 64);
    assert_true(n >= 10);
    size_t events = 0, with_notes = 0;
    for (size_t i = 0; i < n; i++) {
        char *data;
        size_t len;
        assert_true(read_whole_file(names[i], &data, &len));
        struct tb_script_error err;
        struct tb_script *s = tb_script_parse(names[i], data, len, NULL, &err);
        if (s == NULL) fail_msg("%s", err.message);
        assert_true(s->event_count >= 8);
        events += s->event_count;
        with_notes += s->unsupported_count > 0;
        check_round_trip(s);
        tb_script_free(s);
        free(data);
    }
    assert_true(events > 150);
    assert_int_equal(with_notes, 1);             /* unsupported.pkt alone */
}

/* A small deterministic generator for the mutations (xorshift64*). */
static uint64_t next_random(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

static void parse_and_maybe_round_trip(const char *name, const char *bytes, size_t len) {
    struct tb_script_error err;
    struct tb_script *s = tb_script_parse(name, bytes, len, NULL, &err);
    if (s == NULL) {
        assert_int_not_equal(err.status, TB_SCRIPT_OK);
        assert_non_null(strstr(err.message, name));
        return;
    }
    check_round_trip(s);
    tb_script_free(s);
}

/* Truncations at every byte and mutations that favour the language's own
 * delimiters: the parser must answer each with a tree or an error. */
static void truncated_and_mutated_scripts_never_crash(void **state) {
    (void)state;
    static const char *const splices[] = {"...", "<", ">", "%{", "}%", "\"", "`", "/*", "*/", "(", ")", "[", "]",
                                          "{", "}", ",", "=", "|", "~", "+", "*", ":", "\n", " ", "-", "0x", ".",
                                          "99999999999999999999", "ipv6 ", "icmp ", "udp ", "<...>", "S.", "--x=1\n"};
    char names[64][NAME_CAP];
    size_t n = corpus_names(names, 64);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    size_t parsed = 0;
    for (size_t f = 0; f < n; f++) {
        char *data;
        size_t len;
        assert_true(read_whole_file(names[f], &data, &len));
        for (size_t cut = 0; cut <= len; cut++) {
            /* An exact-size heap copy, so ASan sees any read past the end. */
            char *prefix = malloc(cut ? cut : 1);
            memcpy(prefix, data, cut);
            parse_and_maybe_round_trip(names[f], prefix, cut);
            free(prefix);
        }
        for (int m = 0; m < 400; m++) {
            size_t cap = len + 64;
            char *mut = malloc(cap);
            memcpy(mut, data, len);
            size_t mlen = len;
            int edits = 1 + (int)(next_random(&rng) % 4);
            for (int e = 0; e < edits && mlen > 0; e++) {
                size_t at = (size_t)(next_random(&rng) % mlen);
                switch (next_random(&rng) % 3) {
                case 0: mut[at] = (char)(next_random(&rng) % 256); break;
                case 1: memmove(mut + at, mut + at + 1, mlen - at - 1), mlen--; break;
                default: {
                    const char *sp = splices[next_random(&rng) % (sizeof(splices) / sizeof(splices[0]))];
                    size_t sl = strlen(sp);
                    if (mlen + sl > cap) break;
                    memmove(mut + at + sl, mut + at, mlen - at);
                    memcpy(mut + at, sp, sl);
                    mlen += sl;
                }
                }
            }
            char *exact = malloc(mlen ? mlen : 1);
            memcpy(exact, mut, mlen);
            parse_and_maybe_round_trip(names[f], exact, mlen);
            free(exact);
            free(mut);
            parsed++;
        }
        free(data);
    }
    assert_true(parsed >= 4000);
}

static void control_bytes_are_refused_everywhere(void **state) {
    (void)state;
    static const char nul_in_string[] = "0 write(3, \"a\0b\", 3) = 3\n";
    struct tb_script_error err;
    assert_null(tb_script_parse("t.pkt", nul_in_string, sizeof(nul_in_string) - 1, NULL, &err));
    assert_string_equal(err.message, "t.pkt:1: unexpected byte 0x00");
    expect_error("// fine\n// \x7f in a comment\n", 2, "unexpected byte 0x7f");
    /* Bytes of UTF-8 are fine in comments and strings. */
    struct tb_script *s = parse("// caf\xc3\xa9\n0 f(\"\xc3\xa9\") = 0\n");
    assert_int_equal(s->event_count, 1);
    tb_script_free(s);
}

static void end_of_file_errors_name_the_last_line(void **state) {
    (void)state;
    expect_error("0 close(3) = 0\n+0 < S 0:0(0) <mss 1000,\n\n\n", 2,
                 "expected a TCP option (mss, nop, wscale, sackOK, sack, TS, eol), got end of file");
    expect_error("0 socket(\n", 1, "expected an expression, got end of file");
}

static void an_empty_script_and_comments_only(void **state) {
    (void)state;
    struct tb_script *s = parse("");
    assert_int_equal(s->event_count, 0);
    tb_script_free(s);
    s = parse("// nothing\n/* at all */\n\n");
    assert_int_equal(s->event_count, 0);
    assert_int_equal(s->option_count, 0);
    tb_script_free(s);
}

static void tails_stay_on_their_line(void **state) {
    (void)state;
    /* Without a time column, a new line's word is a call, not the previous call's errno. */
    struct tb_script *s = parse("close(3) = 0\nclose(4) = -1 EBADF (Bad file descriptor)\n< icmp unreachable\nfoo(1) = 2\n");
    assert_int_equal(s->event_count, 4);
    assert_null(s->events[0].u.call.errno_name);
    assert_string_equal(s->events[1].u.call.errno_name, "EBADF");
    assert_null(s->events[2].u.packet.u.icmp.code);
    assert_string_equal(s->events[3].u.call.name, "foo");
    tb_script_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absolute_times_are_exact_nanoseconds),
        cmocka_unit_test(relative_times),
        cmocka_unit_test(time_ranges_and_any_time),
        cmocka_unit_test(time_errors_name_their_line),
        cmocka_unit_test(the_time_column_is_optional),
        cmocka_unit_test(tcp_flag_words),
        cmocka_unit_test(sequence_ranges),
        cmocka_unit_test(ack_window_and_urgent_pointer),
        cmocka_unit_test(tcp_option_lists),
        cmocka_unit_test(sack_blocks_and_eol),
        cmocka_unit_test(any_options_only_outbound),
        cmocka_unit_test(md5_and_unknown_options_are_unsupported),
        cmocka_unit_test(ecn_and_ip_annotations),
        cmocka_unit_test(ports_before_the_flags),
        cmocka_unit_test(icmp_lines),
        cmocka_unit_test(udp_packets_are_unsupported),
        cmocka_unit_test(calls_with_integers_symbols_and_ellipses),
        cmocka_unit_test(struct_literals_and_address_helpers),
        cmocka_unit_test(arrays_and_nested_structs),
        cmocka_unit_test(or_expressions_associate_left),
        cmocka_unit_test(results_with_errno_and_note),
        cmocka_unit_test(blocking_calls),
        cmocka_unit_test(strings_integers_and_concatenation),
        cmocka_unit_test(multi_line_calls_keep_their_first_line),
        cmocka_unit_test(option_lines),
        cmocka_unit_test(comments_are_blanks_and_count_lines),
        cmocka_unit_test(shell_commands_are_events_never_run),
        cmocka_unit_test(python_blocks_are_unsupported_nodes),
        cmocka_unit_test(ipv6_is_unsupported),
        cmocka_unit_test(syntax_errors_name_line_and_token),
        cmocka_unit_test(errors_without_an_error_struct),
        cmocka_unit_test(a_megabyte_line_is_refused_or_parsed_never_crashes),
        cmocka_unit_test(a_hundred_thousand_events),
        cmocka_unit_test(every_other_bound),
        cmocka_unit_test(events_print_in_packetdrill_notation),
        cmocka_unit_test(the_corpus_parses_and_round_trips),
        cmocka_unit_test(truncated_and_mutated_scripts_never_crash),
        cmocka_unit_test(control_bytes_are_refused_everywhere),
        cmocka_unit_test(end_of_file_errors_name_the_last_line),
        cmocka_unit_test(an_empty_script_and_comments_only),
        cmocka_unit_test(tails_stay_on_their_line),
    };
    return cmocka_run_group_tests_name("check_parse", tests, NULL, NULL);
}
