/* harness/check: events back in packetdrill notation, for the checker's
 * "script packet" / "actual packet" lines. What is printed parses back to
 * the same tree (tests/unit/test_check_parse.c holds the round trip). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "script_internal.h"

/* A bounded writer that keeps counting past its end, as snprintf does. */
struct out {
    char *buf;
    size_t cap, len;
};

static void put_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct out *o, const char *fmt, ...) {
    char *at = o->len < o->cap ? o->buf + o->len : NULL;
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0) o->len += (size_t)n;
}

static void put_str(struct out *o, const char *s) { put_fmt(o, "%s", s); }

static size_t finish(struct out *o) {
    if (o->cap) o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return o->len;
}

/* Seconds with the fewest decimals that keep the value exact. */
static void put_seconds(struct out *o, int64_t ns) {
    int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    if (frac == 0) {
        put_fmt(o, "%" PRId64, secs);
        return;
    }
    int digits = 9;
    while (frac % 10 == 0) frac /= 10, digits--;
    put_fmt(o, "%" PRId64 ".%0*" PRId64, secs, digits, frac);
}

static void put_time(struct out *o, const struct tb_script_time *t) {
    switch (t->kind) {
    case TB_SCRIPT_TIME_NONE: break;
    case TB_SCRIPT_TIME_ANY: put_str(o, "*"); break;
    case TB_SCRIPT_TIME_ABSOLUTE: put_seconds(o, t->start_ns); break;
    case TB_SCRIPT_TIME_RELATIVE: put_str(o, "+"); put_seconds(o, t->start_ns); break;
    case TB_SCRIPT_TIME_ABSOLUTE_RANGE:
        put_seconds(o, t->start_ns);
        put_str(o, "~");
        put_seconds(o, t->end_ns);
        break;
    case TB_SCRIPT_TIME_RELATIVE_RANGE:
        put_str(o, "+");
        put_seconds(o, t->start_ns);
        put_str(o, "~+");
        put_seconds(o, t->end_ns);
        break;
    }
}

static void put_expr(struct out *o, const struct tb_script_expr *e) {
    switch (e->kind) {
    case TB_SCRIPT_EXPR_ELLIPSIS: put_str(o, "..."); break;
    case TB_SCRIPT_EXPR_INTEGER:
        if (e->u.integer.hex && e->u.integer.value < 0)
            put_fmt(o, "-%#" PRIx64, (uint64_t)0 - (uint64_t)e->u.integer.value);
        else if (e->u.integer.hex)
            put_fmt(o, "0x%" PRIx64, (uint64_t)e->u.integer.value);
        else
            put_fmt(o, "%" PRId64, e->u.integer.value);
        break;
    case TB_SCRIPT_EXPR_STRING:
        put_fmt(o, "\"%.*s\"%s", (int)e->u.string.len, e->u.string.text, e->u.string.then_ellipsis ? "..." : "");
        break;
    case TB_SCRIPT_EXPR_SYMBOL: put_str(o, e->u.symbol); break;
    case TB_SCRIPT_EXPR_ARRAY:
    case TB_SCRIPT_EXPR_STRUCT:
    case TB_SCRIPT_EXPR_CALL:
        if (e->kind == TB_SCRIPT_EXPR_CALL) put_str(o, e->u.list.name);
        put_str(o, e->kind == TB_SCRIPT_EXPR_ARRAY ? "[" : e->kind == TB_SCRIPT_EXPR_STRUCT ? "{" : "(");
        for (size_t i = 0; i < e->u.list.count; i++) {
            if (i) put_str(o, ", ");
            put_expr(o, e->u.list.items[i]);
        }
        put_str(o, e->kind == TB_SCRIPT_EXPR_ARRAY ? "]" : e->kind == TB_SCRIPT_EXPR_STRUCT ? "}" : ")");
        break;
    case TB_SCRIPT_EXPR_BINARY:
        put_expr(o, e->u.binary.lhs);
        put_fmt(o, "%c", e->u.binary.op);
        put_expr(o, e->u.binary.rhs);
        break;
    }
}

static const char *ecn_name(enum tb_script_ecn ecn) {
    switch (ecn) {
    case TB_SCRIPT_ECN_NOT_ECT: return "noecn";
    case TB_SCRIPT_ECN_ECT0: return "ect0";
    case TB_SCRIPT_ECN_ECT1: return "ect1";
    case TB_SCRIPT_ECN_ECT01: return "ect01";
    case TB_SCRIPT_ECN_CE: return "ce";
    case TB_SCRIPT_ECN_UNCHECKED: break;
    }
    return NULL;
}

static void put_ip_info(struct out *o, const struct tb_script_ip_info *ip) {
    const char *ecn = ecn_name(ip->ecn);
    if (!ecn && !ip->has_tos && !ip->has_ttl && !ip->has_flow_label) return;
    put_str(o, ip->in_parens ? "(" : "[");
    const char *sep = "";
    if (ecn) put_fmt(o, "%s", ecn), sep = ", ";
    if (ip->has_tos) put_fmt(o, "%stos 0x%x", sep, ip->tos), sep = ", ";
    if (ip->has_ttl) put_fmt(o, "%sttl %u", sep, ip->ttl), sep = ", ";
    if (ip->has_flow_label) put_fmt(o, "%sflowlabel 0x%x", sep, ip->flow_label);
    put_str(o, ip->in_parens ? ") " : "] ");
}

/* Letters in one fixed order, the ACK's '.' last: S., FP., SEW, SE. */
static void put_flags(struct out *o, uint8_t flags) {
    static const struct {
        uint8_t bit;
        char letter;
    } order[] = {
        {TB_SCRIPT_TCP_FIN, 'F'}, {TB_SCRIPT_TCP_SYN, 'S'}, {TB_SCRIPT_TCP_RST, 'R'}, {TB_SCRIPT_TCP_PSH, 'P'},
        {TB_SCRIPT_TCP_URG, 'U'}, {TB_SCRIPT_TCP_ECE, 'E'}, {TB_SCRIPT_TCP_CWR, 'W'}, {TB_SCRIPT_TCP_ACK, '.'},
    };
    if (flags == 0) {
        put_str(o, "-");
        return;
    }
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (flags & order[i].bit) put_fmt(o, "%c", order[i].letter);
}

static void put_tcp_option(struct out *o, const struct tb_script_tcp_option *opt) {
    switch (opt->kind) {
    case TB_SCRIPT_OPT_NOP: put_str(o, "nop"); break;
    case TB_SCRIPT_OPT_EOL: put_str(o, "eol"); break;
    case TB_SCRIPT_OPT_MSS: put_fmt(o, "mss %u", opt->u.mss); break;
    case TB_SCRIPT_OPT_WSCALE: put_fmt(o, "wscale %u", opt->u.wscale); break;
    case TB_SCRIPT_OPT_SACK_PERMITTED: put_str(o, "sackOK"); break;
    case TB_SCRIPT_OPT_SACK:
        put_str(o, "sack");
        for (size_t i = 0; i < opt->u.sack.count; i++)
            put_fmt(o, " %" PRIu32 ":%" PRIu32, opt->u.sack.blocks[i].left, opt->u.sack.blocks[i].right);
        break;
    case TB_SCRIPT_OPT_TIMESTAMP:
        put_fmt(o, "TS val %" PRIu32 " ecr %" PRIu32, opt->u.timestamp.val, opt->u.timestamp.ecr);
        break;
    case TB_SCRIPT_OPT_MD5:
    case TB_SCRIPT_OPT_FAST_OPEN:
        put_str(o, opt->u.blob.keyword);
        if (opt->u.blob.hex[0]) put_fmt(o, " %s", opt->u.blob.hex);
        break;
    case TB_SCRIPT_OPT_UNKNOWN: put_str(o, opt->u.text); break;
    }
}

static void put_seq(struct out *o, uint32_t start, uint32_t end, uint16_t len) {
    put_fmt(o, "%" PRIu32 ":%" PRIu32 "(%u)", start, end, len);
}

static void put_packet(struct out *o, const struct tb_script_packet *p) {
    put_str(o, p->direction == TB_SCRIPT_INBOUND ? "< " : "> ");
    put_ip_info(o, &p->ip);
    switch (p->kind) {
    case TB_SCRIPT_PACKET_TCP: {
        const struct tb_script_tcp *t = &p->u.tcp;
        if (t->has_ports) put_fmt(o, "%u>%u ", t->src_port, t->dst_port);
        put_flags(o, t->flags);
        put_str(o, " ");
        put_seq(o, t->seq_start, t->seq_end, t->payload_len);
        if (t->has_ack) put_fmt(o, " ack %" PRIu32, t->ack);
        if (t->has_win) put_fmt(o, " win %u", t->win);
        if (t->has_urg) put_fmt(o, " urg %u", t->urg);
        if (t->options_any) {
            put_str(o, " <...>");
        } else if (t->option_count) {
            put_str(o, " <");
            for (size_t i = 0; i < t->option_count; i++) {
                if (i) put_str(o, ",");
                put_tcp_option(o, &t->options[i]);
            }
            put_str(o, ">");
        }
        break;
    }
    case TB_SCRIPT_PACKET_UDP:
        put_str(o, "udp ");
        if (p->u.udp.has_ports) put_fmt(o, "%u>%u ", p->u.udp.src_port, p->u.udp.dst_port);
        put_fmt(o, "(%u)", p->u.udp.payload_len);
        break;
    case TB_SCRIPT_PACKET_ICMP: {
        const struct tb_script_icmp *i = &p->u.icmp;
        put_fmt(o, "icmp %s", i->type);
        if (i->code) put_fmt(o, " %s", i->code);
        if (i->has_mtu) put_fmt(o, " mtu %" PRIu32, i->mtu);
        if (i->has_id) put_fmt(o, " id %u", i->id);
        switch (i->quote) {
        case TB_SCRIPT_ICMP_QUOTE_DEFAULT: break;
        case TB_SCRIPT_ICMP_QUOTE_TCP:
            put_str(o, " [");
            put_seq(o, i->quote_seq_start, i->quote_seq_end, i->quote_len);
            put_str(o, "]");
            break;
        case TB_SCRIPT_ICMP_QUOTE_UDP: put_fmt(o, " [udp (%u)]", i->quote_len); break;
        case TB_SCRIPT_ICMP_QUOTE_RAW: put_fmt(o, " [raw (%u)]", i->quote_len); break;
        }
        break;
    }
    }
}

static void put_call(struct out *o, const struct tb_script_call *c) {
    if (c->end.kind != TB_SCRIPT_TIME_NONE) {
        put_str(o, "...");
        put_time(o, &c->end);
        put_str(o, " ");
    }
    put_fmt(o, "%s(", c->name);
    for (size_t i = 0; i < c->arg_count; i++) {
        if (i) put_str(o, ", ");
        put_expr(o, c->args[i]);
    }
    put_str(o, ") = ");
    put_expr(o, c->result);
    if (c->errno_name) put_fmt(o, " %s", c->errno_name);
    if (c->note) put_fmt(o, " (%s)", c->note);
}

size_t tb_script_format_time(const struct tb_script_time *t, char *out, size_t cap) {
    struct out o = {out, cap, 0};
    put_time(&o, t);
    return finish(&o);
}

size_t tb_script_format_expr(const struct tb_script_expr *e, char *out, size_t cap) {
    struct out o = {out, cap, 0};
    put_expr(&o, e);
    return finish(&o);
}

size_t tb_script_format_packet(const struct tb_script_packet *p, char *out, size_t cap) {
    struct out o = {out, cap, 0};
    put_packet(&o, p);
    return finish(&o);
}

size_t tb_script_format_event(const struct tb_script_event *ev, char *out, size_t cap) {
    struct out o = {out, cap, 0};
    if (ev->kind == TB_SCRIPT_EVENT_UNSUPPORTED && !ev->u.unsupported.is_code) {
        /* A skipped line is kept whole, its time column included. */
        put_str(&o, ev->u.unsupported.text);
        return finish(&o);
    }
    put_time(&o, &ev->time);
    /* A blocking call's end follows its start directly: 0.1...0.2 read(). */
    bool blocking = ev->kind == TB_SCRIPT_EVENT_CALL && ev->u.call.end.kind != TB_SCRIPT_TIME_NONE;
    if (ev->time.kind != TB_SCRIPT_TIME_NONE && !blocking) put_str(&o, " ");
    switch (ev->kind) {
    case TB_SCRIPT_EVENT_PACKET: put_packet(&o, &ev->u.packet); break;
    case TB_SCRIPT_EVENT_CALL: put_call(&o, &ev->u.call); break;
    case TB_SCRIPT_EVENT_SHELL: put_fmt(&o, "`%s`", ev->u.shell.command); break;
    case TB_SCRIPT_EVENT_UNSUPPORTED: put_fmt(&o, "%%{ %s }%%", ev->u.unsupported.text); break;
    }
    return finish(&o);
}

size_t tb_script_format_option(const struct tb_script_option *opt, char *out, size_t cap) {
    struct out o = {out, cap, 0};
    put_fmt(&o, "--%s", opt->name);
    if (opt->value) put_fmt(&o, "=%s", opt->value);
    return finish(&o);
}
