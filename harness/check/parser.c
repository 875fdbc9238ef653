/* harness/check: recursive descent over the packetdrill grammar (written
 * from its documentation and public scripts).
 *
 * The language is free-form across lines, but an event's optional tail
 * (TCP options after the window, an errno after a result, an ICMP code)
 * is only read from the event's own line: that is what lets the time
 * column be optional without a new line's packet or call being taken for
 * the previous event's tail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script_internal.h"

void tb_script_limits_default(struct tb_script_limits *l) {
    l->max_input_bytes = 16u << 20;
    l->max_lines = 1u << 20;
    l->max_line_bytes = 64u << 10;
    l->max_events = 256u << 10;
    l->max_options = 256;
    l->max_string_bytes = 4096;
    l->max_tcp_options = 40;
    l->max_call_args = 64;
    l->max_expr_depth = 32;
    l->max_unsupported = 1024;
    l->max_arena_bytes = 256u << 20;
}

/* Lists are linked while they grow, then flattened into arrays. */
struct event_link {
    struct tb_script_event ev;
    struct event_link *next;
};
struct option_link {
    struct tb_script_option opt;
    struct option_link *next;
};
struct note_link {
    struct tb_script_note note;
    struct note_link *next;
};
struct expr_link {
    struct tb_script_expr *e;
    struct expr_link *next;
};

struct parser {
    struct lexer lx;
    struct token tok;                /* the current token, not yet consumed */
    const char *prev_end;            /* just past the last consumed token */
    unsigned prev_line;              /* where that token started */
    const struct tb_script_limits *lim;
    struct tb_script *script;
    struct tb_script_arena *arena;
    struct tb_script_error *err;
    const char *file;
    struct tb_script_tcp_option *option_scratch;  /* max_tcp_options entries, reused per packet */
    struct event_link *events, **events_tail;
    struct option_link *options, **options_tail;
    struct note_link *notes, **notes_tail, *last_note;
    size_t depth;
};

/* ---- errors and tokens ------------------------------------------------------------------ */

static bool fail(struct parser *p, enum tb_script_status status, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(struct parser *p, enum tb_script_status status, unsigned line, const char *fmt, ...) {
    char sentence[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sentence, sizeof(sentence), fmt, ap);
    va_end(ap);
    script_set_error(p->err, status, p->file, line, "%s", sentence);
    return false;
}

static bool fail_memory(struct parser *p) {
    if (p->arena->over_limit)
        return fail(p, TB_SCRIPT_TOO_BIG, p->tok.line, "script needs more than %zu bytes of memory",
                    p->lim->max_arena_bytes);
    return fail(p, TB_SCRIPT_NO_MEMORY, p->tok.line, "out of memory");
}

/* "expected X, got 'Y'" about the current token. */
static bool fail_expected(struct parser *p, const char *what) {
    const struct token *t = &p->tok;
    /* At the end, the line that needed more is the last token's, not the blank after it. */
    if (t->kind == TOK_EOF) return fail(p, TB_SCRIPT_SYNTAX_ERROR, p->prev_line, "expected %s, got end of file", what);
    char shown[48];
    size_t n = t->len < 40 ? t->len : 40;
    for (size_t i = 0; i < n; i++) {
        char c = t->start[i];
        shown[i] = (c >= ' ' && c < 0x7f) ? c : '?';
    }
    if (t->len > 40) memcpy(shown + n, "...", 3), n += 3;
    shown[n] = '\0';
    return fail(p, TB_SCRIPT_SYNTAX_ERROR, t->line, "expected %s, got '%s'", what, shown);
}

static bool advance(struct parser *p) {
    p->prev_line = p->tok.line;
    p->prev_end = p->tok.start + p->tok.len;
    if (p->tok.kind == TOK_STRING || p->tok.kind == TOK_SHELL || p->tok.kind == TOK_CODE) {
        /* Delimited tokens: their len covers only the opening; the lexer stands after them. */
        p->prev_end = p->lx.src + p->lx.pos;
    }
    return lexer_next(&p->lx, &p->tok);
}

static bool at_punct(const struct parser *p, char c) { return p->tok.kind == TOK_PUNCT && p->tok.punct == c; }
static bool at_word(const struct parser *p, const char *w) {
    return p->tok.kind == TOK_WORD && p->tok.len == strlen(w) && memcmp(p->tok.start, w, p->tok.len) == 0;
}
/* An optional tail may continue an event only on the event's own line. */
static bool on_same_line(const struct parser *p) { return p->tok.kind != TOK_EOF && !p->tok.first_on_line; }

static bool expect_punct(struct parser *p, char c) {
    if (!at_punct(p, c)) {
        char what[8] = {'\'', c, '\'', '\0'};
        return fail_expected(p, what);
    }
    return advance(p);
}

static char *copy_token(struct parser *p, const char *s, size_t n) {
    char *c = arena_strndup(p->arena, s, n);
    if (c == NULL) fail_memory(p);
    return c;
}

/* An integer in [lo, hi]; what names it for the messages. */
static bool take_integer(struct parser *p, const char *what, int64_t lo, int64_t hi, int64_t *out) {
    if (p->tok.kind != TOK_INTEGER) return fail_expected(p, what);
    if (p->tok.value < lo || p->tok.value > hi)
        return fail(p, TB_SCRIPT_SYNTAX_ERROR, p->tok.line, "%s %lld out of range [%lld, %lld]", what,
                    (long long)p->tok.value, (long long)lo, (long long)hi);
    *out = p->tok.value;
    return advance(p);
}

static bool take_u32(struct parser *p, const char *what, uint32_t *out) {
    int64_t v = 0;
    if (!take_integer(p, what, 0, UINT32_MAX, &v)) return false;
    *out = (uint32_t)v;
    return true;
}
static bool take_u16(struct parser *p, const char *what, uint16_t *out) {
    int64_t v = 0;
    if (!take_integer(p, what, 0, UINT16_MAX, &v)) return false;
    *out = (uint16_t)v;
    return true;
}
static bool take_u8(struct parser *p, const char *what, uint8_t *out) {
    int64_t v = 0;
    if (!take_integer(p, what, 0, UINT8_MAX, &v)) return false;
    *out = (uint8_t)v;
    return true;
}

static bool note_unsupported(struct parser *p, unsigned line, const char *construct) {
    /* One note per construct and line: a struct naming AF_INET6 and inet6_addr is one IPv6 address. */
    if (p->last_note != NULL && p->last_note->note.line == line && strcmp(p->last_note->note.construct, construct) == 0)
        return true;
    p->script->unsupported_total++;
    if (p->script->unsupported_count >= p->lim->max_unsupported) return true;
    struct note_link *n = arena_alloc(p->arena, sizeof(*n));
    if (n == NULL) return fail_memory(p);
    n->note.line = line;
    n->note.construct = construct;
    *p->notes_tail = n;
    p->notes_tail = &n->next;
    p->last_note = n;
    p->script->unsupported_count++;
    return true;
}

/* ---- time ---------------------------------------------------------------------------------- */

/* Seconds up to this are kept in nanoseconds without overflow, with room. */
#define MAX_TIME_SECONDS 1000000000LL

/* An INTEGER or DECIMAL token as nanoseconds, exactly. */
static bool take_seconds(struct parser *p, int64_t *ns) {
    const struct token *t = &p->tok;
    if (t->kind != TOK_INTEGER && t->kind != TOK_DECIMAL) return fail_expected(p, "a time in seconds");
    if (t->start[0] == '-') return fail(p, TB_SCRIPT_SYNTAX_ERROR, t->line, "negative time");
    if (t->kind == TOK_INTEGER && t->hex) return fail_expected(p, "a time in seconds");
    const char *c = t->start, *end = t->start + t->len;
    int64_t secs = 0, frac = 0;
    for (; c < end && *c != '.'; c++) {
        secs = secs * 10 + (*c - '0');
        if (secs > MAX_TIME_SECONDS)
            return fail(p, TB_SCRIPT_SYNTAX_ERROR, t->line, "time beyond %lld seconds", MAX_TIME_SECONDS);
    }
    if (c < end) {
        c++;
        int digits = 0;
        for (; c < end; c++, digits++) {
            if (digits == 9)
                return fail(p, TB_SCRIPT_SYNTAX_ERROR, t->line, "time '%.*s' has more than 9 decimals",
                            (int)(t->len > 40 ? 40 : t->len), t->start);
            frac = frac * 10 + (*c - '0');
        }
        for (; digits < 9; digits++) frac *= 10;
    }
    *ns = secs * 1000000000LL + frac;
    return advance(p);
}

static bool at_time_start(const struct parser *p) {
    return p->tok.kind == TOK_INTEGER || p->tok.kind == TOK_DECIMAL || at_punct(p, '+') || at_punct(p, '*');
}

static bool parse_time(struct parser *p, struct tb_script_time *t) {
    if (at_punct(p, '*')) {
        t->kind = TB_SCRIPT_TIME_ANY;
        return advance(p);
    }
    bool relative = at_punct(p, '+');
    if (relative && !advance(p)) return false;
    if (!take_seconds(p, &t->start_ns)) return false;
    t->kind = relative ? TB_SCRIPT_TIME_RELATIVE : TB_SCRIPT_TIME_ABSOLUTE;
    if (!at_punct(p, '~')) return true;
    unsigned line = p->tok.line;
    if (!advance(p)) return false;
    if (relative) {
        /* Both ends of a relative range are relative: +0.1~+0.2. */
        if (!at_punct(p, '+')) return fail_expected(p, "'+' (a relative range is written +a~+b)");
        if (!advance(p)) return false;
    } else if (at_punct(p, '+')) {
        return fail_expected(p, "a time in seconds (an absolute range is written a~b)");
    }
    if (!take_seconds(p, &t->end_ns)) return false;
    if (t->end_ns < t->start_ns) return fail(p, TB_SCRIPT_SYNTAX_ERROR, line, "time range is backwards");
    t->kind = relative ? TB_SCRIPT_TIME_RELATIVE_RANGE : TB_SCRIPT_TIME_ABSOLUTE_RANGE;
    return true;
}

/* ---- expressions ------------------------------------------------------------------------------ */

static struct tb_script_expr *new_expr(struct parser *p, enum tb_script_expr_kind kind, unsigned line) {
    struct tb_script_expr *e = arena_alloc(p->arena, sizeof(*e));
    if (e == NULL) {
        fail_memory(p);
        return NULL;
    }
    e->kind = kind;
    e->line = line;
    return e;
}

static bool parse_expr(struct parser *p, struct tb_script_expr **out);

/* Items up to `close`, separated by commas, into items/count. */
static bool parse_expr_list(struct parser *p, char close, struct tb_script_expr ***items, size_t *count) {
    struct expr_link *head = NULL, **tail = &head;
    size_t n = 0;
    if (!at_punct(p, close)) {
        for (;;) {
            if (n == p->lim->max_call_args)
                return fail(p, TB_SCRIPT_TOO_BIG, p->tok.line, "more than %zu items in one list",
                            p->lim->max_call_args);
            struct expr_link *l = arena_alloc(p->arena, sizeof(*l));
            if (l == NULL) return fail_memory(p);
            if (!parse_expr(p, &l->e)) return false;
            *tail = l;
            tail = &l->next;
            n++;
            if (at_punct(p, ',')) {
                if (!advance(p)) return false;
                continue;
            }
            if (at_punct(p, close)) break;
            char what[16];
            snprintf(what, sizeof(what), "',' or '%c'", close);
            return fail_expected(p, what);
        }
    }
    if (!advance(p)) return false;
    *items = NULL;
    *count = n;
    if (n == 0) return true;
    *items = arena_alloc(p->arena, n * sizeof(**items));
    if (*items == NULL) return fail_memory(p);
    size_t i = 0;
    for (struct expr_link *l = head; l != NULL; l = l->next) (*items)[i++] = l->e;
    return true;
}

static bool word_is(const char *s, size_t len, const char *w) { return len == strlen(w) && memcmp(s, w, len) == 0; }

static bool parse_primary(struct parser *p, struct tb_script_expr **out) {
    const struct token *t = &p->tok;
    unsigned line = t->line;
    struct tb_script_expr *e = NULL;
    switch (t->kind) {
    case TOK_ELLIPSIS:
        if ((e = new_expr(p, TB_SCRIPT_EXPR_ELLIPSIS, line)) == NULL) return false;
        if (!advance(p)) return false;
        break;
    case TOK_INTEGER:
        if ((e = new_expr(p, TB_SCRIPT_EXPR_INTEGER, line)) == NULL) return false;
        e->u.integer.value = t->value;
        e->u.integer.hex = t->hex;
        if (!advance(p)) return false;
        break;
    case TOK_STRING: {
        /* Adjacent strings concatenate, as in C. */
        if ((e = new_expr(p, TB_SCRIPT_EXPR_STRING, line)) == NULL) return false;
        const char *first = t->text;
        size_t total = t->text_len;
        char *joined = NULL;
        if (!advance(p)) return false;
        while (p->tok.kind == TOK_STRING) {
            size_t add = p->tok.text_len;
            if (total + add > p->lim->max_string_bytes)
                return fail(p, TB_SCRIPT_TOO_BIG, line, "string longer than %zu bytes", p->lim->max_string_bytes);
            char *grown = arena_alloc(p->arena, total + add + 1);
            if (grown == NULL) return fail_memory(p);
            memcpy(grown, joined ? joined : first, total);
            memcpy(grown + total, p->tok.text, add);
            joined = grown;
            total += add;
            if (!advance(p)) return false;
        }
        e->u.string.text = joined ? joined : copy_token(p, first, total);
        if (e->u.string.text == NULL) return false;
        e->u.string.len = total;
        if (p->tok.kind == TOK_ELLIPSIS) {
            e->u.string.then_ellipsis = true;
            if (!advance(p)) return false;
        }
        break;
    }
    case TOK_WORD: {
        const char *name = copy_token(p, t->start, t->len);
        if (name == NULL) return false;
        if (word_is(t->start, t->len, "AF_INET6") || word_is(t->start, t->len, "inet6_addr") ||
            word_is(t->start, t->len, "PF_INET6")) {
            if (!note_unsupported(p, line, "IPv6 socket address")) return false;
        }
        if (!advance(p)) return false;
        if (at_punct(p, '(')) {
            if ((e = new_expr(p, TB_SCRIPT_EXPR_CALL, line)) == NULL) return false;
            e->u.list.name = name;
            if (!advance(p)) return false;
            if (!parse_expr_list(p, ')', &e->u.list.items, &e->u.list.count)) return false;
        } else {
            if ((e = new_expr(p, TB_SCRIPT_EXPR_SYMBOL, line)) == NULL) return false;
            e->u.symbol = name;
        }
        break;
    }
    case TOK_PUNCT:
        if (t->punct == '[' || t->punct == '{') {
            char close = t->punct == '[' ? ']' : '}';
            if ((e = new_expr(p, t->punct == '[' ? TB_SCRIPT_EXPR_ARRAY : TB_SCRIPT_EXPR_STRUCT, line)) == NULL)
                return false;
            if (!advance(p)) return false;
            if (!parse_expr_list(p, close, &e->u.list.items, &e->u.list.count)) return false;
            break;
        }
        return fail_expected(p, "an expression");
    default:
        return fail_expected(p, "an expression");
    }
    *out = e;
    return true;
}

/* primary ('|' primary)* ['=' expr]: a|b|c, and field=value where the
 * field is a name or a call (msg_iov(1)=[...]). */
static bool parse_expr(struct parser *p, struct tb_script_expr **out) {
    if (++p->depth > p->lim->max_expr_depth)
        return fail(p, TB_SCRIPT_TOO_BIG, p->tok.line, "expression nested deeper than %zu", p->lim->max_expr_depth);
    struct tb_script_expr *lhs;
    if (!parse_primary(p, &lhs)) return false;
    while (at_punct(p, '|')) {
        unsigned line = p->tok.line;
        if (!advance(p)) return false;
        struct tb_script_expr *rhs, *b;
        if (!parse_primary(p, &rhs)) return false;
        if ((b = new_expr(p, TB_SCRIPT_EXPR_BINARY, line)) == NULL) return false;
        b->u.binary.op = '|';
        b->u.binary.lhs = lhs;
        b->u.binary.rhs = rhs;
        lhs = b;
    }
    if (at_punct(p, '=') && (lhs->kind == TB_SCRIPT_EXPR_SYMBOL || lhs->kind == TB_SCRIPT_EXPR_CALL)) {
        unsigned line = p->tok.line;
        if (!advance(p)) return false;
        struct tb_script_expr *rhs, *b;
        if (!parse_expr(p, &rhs)) return false;
        if ((b = new_expr(p, TB_SCRIPT_EXPR_BINARY, line)) == NULL) return false;
        b->u.binary.op = '=';
        b->u.binary.lhs = lhs;
        b->u.binary.rhs = rhs;
        lhs = b;
    }
    p->depth--;
    *out = lhs;
    return true;
}

/* ---- packets ------------------------------------------------------------------------------------ */

static bool parse_ip_info(struct parser *p, const struct tb_script_event *ev, struct tb_script_ip_info *ip) {
    char close = at_punct(p, '[') ? ']' : ')';
    ip->in_parens = close == ')';
    if (!advance(p)) return false;
    for (;;) {
        unsigned line = p->tok.line;
        if (at_word(p, "noecn") || at_word(p, "ect0") || at_word(p, "ect1") || at_word(p, "ect01") || at_word(p, "ce")) {
            ip->ecn = at_word(p, "noecn") ? TB_SCRIPT_ECN_NOT_ECT
                      : at_word(p, "ect0") ? TB_SCRIPT_ECN_ECT0
                      : at_word(p, "ect1") ? TB_SCRIPT_ECN_ECT1
                      : at_word(p, "ect01") ? TB_SCRIPT_ECN_ECT01
                                            : TB_SCRIPT_ECN_CE;
            if (ip->ecn == TB_SCRIPT_ECN_ECT01 && ev->u.packet.direction != TB_SCRIPT_OUTBOUND)
                return fail(p, TB_SCRIPT_SYNTAX_ERROR, line, "[ect01] can only be used with outbound packets");
            if (!advance(p)) return false;
        } else if (at_word(p, "tos")) {
            if (!advance(p) || !take_u8(p, "a TOS byte", &ip->tos)) return false;
            ip->has_tos = true;
        } else if (at_word(p, "ttl")) {
            if (!advance(p) || !take_u8(p, "a TTL", &ip->ttl)) return false;
            ip->has_ttl = true;
        } else if (at_word(p, "flowlabel")) {
            int64_t v = 0;
            if (!advance(p) || !take_integer(p, "a 20-bit flow label", 0, 0xfffff, &v)) return false;
            ip->flow_label = (uint32_t)v;
            ip->has_flow_label = true;
            if (!note_unsupported(p, line, "IPv6 flow label")) return false;
        } else {
            return fail_expected(p, "an ECN mark (noecn, ect0, ect1, ect01, ce), tos, ttl or flowlabel");
        }
        if (at_punct(p, ',')) {
            if (!advance(p)) return false;
            continue;
        }
        return expect_punct(p, close);
    }
}

static bool parse_ports(struct parser *p, uint16_t *src, uint16_t *dst) {
    if (!take_u16(p, "a source port", src)) return false;
    if (!expect_punct(p, '>')) return false;
    return take_u16(p, "a destination port", dst);
}

/* start:end(len), with end = start + len as packetdrill requires. */
static bool parse_seq(struct parser *p, uint32_t *start, uint32_t *end, uint16_t *len) {
    unsigned line = p->tok.line;
    if (!take_u32(p, "a sequence range start:end(length)", start)) return false;
    if (!expect_punct(p, ':')) return false;
    if (!take_u32(p, "the end of the sequence range", end)) return false;
    if (!expect_punct(p, '(')) return false;
    if (!take_u16(p, "a payload length", len)) return false;
    if (!expect_punct(p, ')')) return false;
    if ((uint64_t)*start + *len != *end)
        return fail(p, TB_SCRIPT_SYNTAX_ERROR, line,
                    "inconsistent sequence range %u:%u(%u): the end must be the start plus the length", *start, *end,
                    (unsigned)*len);
    return true;
}

static bool parse_flags(struct parser *p, uint8_t *flags) {
    *flags = 0;
    if (at_punct(p, '.')) {
        *flags = TB_SCRIPT_TCP_ACK;
        return advance(p);
    }
    if (at_punct(p, '-')) return advance(p);     /* no flag at all */
    if (p->tok.kind != TOK_WORD) return fail_expected(p, "TCP flags (F S R P . U E W, or -)");
    for (size_t i = 0; i < p->tok.len; i++) {
        switch (p->tok.start[i]) {
        case 'F': *flags |= TB_SCRIPT_TCP_FIN; break;
        case 'S': *flags |= TB_SCRIPT_TCP_SYN; break;
        case 'R': *flags |= TB_SCRIPT_TCP_RST; break;
        case 'P': *flags |= TB_SCRIPT_TCP_PSH; break;
        case 'U': *flags |= TB_SCRIPT_TCP_URG; break;
        case 'E': *flags |= TB_SCRIPT_TCP_ECE; break;
        case 'W': *flags |= TB_SCRIPT_TCP_CWR; break;
        default: return fail_expected(p, "TCP flags (F S R P . U E W, or -)");
        }
    }
    if (!advance(p)) return false;
    if (at_punct(p, '.') && on_same_line(p)) {
        *flags |= TB_SCRIPT_TCP_ACK;
        return advance(p);
    }
    return true;
}

/* A hex blob (md5 digest, fast-open cookie): a word or a number token. */
static bool at_blob(const struct parser *p) { return p->tok.kind == TOK_WORD || (p->tok.kind == TOK_INTEGER && !p->tok.hex && p->tok.start[0] != '-'); }

static bool parse_tcp_option(struct parser *p, struct tb_script_tcp_option *o) {
    o->line = p->tok.line;
    if (at_word(p, "nop")) {
        o->kind = TB_SCRIPT_OPT_NOP;
        return advance(p);
    }
    if (at_word(p, "eol")) {
        o->kind = TB_SCRIPT_OPT_EOL;
        return advance(p);
    }
    if (at_word(p, "sackOK")) {
        o->kind = TB_SCRIPT_OPT_SACK_PERMITTED;
        return advance(p);
    }
    if (at_word(p, "mss")) {
        o->kind = TB_SCRIPT_OPT_MSS;
        return advance(p) && take_u16(p, "an MSS", &o->u.mss);
    }
    if (at_word(p, "wscale")) {
        o->kind = TB_SCRIPT_OPT_WSCALE;
        return advance(p) && take_u8(p, "a window scale shift", &o->u.wscale);
    }
    if (at_word(p, "TS")) {
        o->kind = TB_SCRIPT_OPT_TIMESTAMP;
        if (!advance(p)) return false;
        if (!at_word(p, "val")) return fail_expected(p, "'val'");
        if (!advance(p) || !take_u32(p, "a timestamp value", &o->u.timestamp.val)) return false;
        if (!at_word(p, "ecr")) return fail_expected(p, "'ecr'");
        return advance(p) && take_u32(p, "a timestamp echo reply", &o->u.timestamp.ecr);
    }
    if (at_word(p, "sack")) {
        o->kind = TB_SCRIPT_OPT_SACK;
        if (!advance(p)) return false;
        do {
            if (o->u.sack.count == TB_SCRIPT_MAX_SACK_BLOCKS)
                return fail(p, TB_SCRIPT_TOO_BIG, p->tok.line, "more than %d SACK blocks in one option",
                            TB_SCRIPT_MAX_SACK_BLOCKS);
            size_t i = o->u.sack.count++;
            if (!take_u32(p, "a SACK block left:right", &o->u.sack.blocks[i].left)) return false;
            if (!expect_punct(p, ':')) return false;
            if (!take_u32(p, "the right edge of the SACK block", &o->u.sack.blocks[i].right)) return false;
        } while (p->tok.kind == TOK_INTEGER);
        return true;
    }
    if (at_word(p, "md5") || at_word(p, "FO") || at_word(p, "FOEXP")) {
        bool md5 = at_word(p, "md5");
        o->kind = md5 ? TB_SCRIPT_OPT_MD5 : TB_SCRIPT_OPT_FAST_OPEN;
        o->u.blob.keyword = md5 ? "md5" : at_word(p, "FO") ? "FO" : "FOEXP";
        if (!note_unsupported(p, o->line, md5 ? "TCP MD5 signature option" : "TCP Fast Open option")) return false;
        if (!advance(p)) return false;
        o->u.blob.hex = "";
        if (at_blob(p)) {
            if ((o->u.blob.hex = copy_token(p, p->tok.start, p->tok.len)) == NULL) return false;
            if (!advance(p)) return false;
        } else if (md5) {
            return fail_expected(p, "an MD5 digest in hex");
        }
        return true;
    }
    if (p->tok.kind != TOK_WORD) return fail_expected(p, "a TCP option (mss, nop, wscale, sackOK, sack, TS, eol)");
    /* An option tcpbed does not know (mptcp, experimental ones): kept as
     * written up to the next ',' or '>', and reported. */
    o->kind = TB_SCRIPT_OPT_UNKNOWN;
    const char *start = p->tok.start;
    char *construct = arena_alloc(p->arena, 64);
    if (construct == NULL) return fail_memory(p);
    snprintf(construct, 64, "TCP option '%.*s'", (int)(p->tok.len > 32 ? 32 : p->tok.len), p->tok.start);
    if (!note_unsupported(p, o->line, construct)) return false;
    while (!at_punct(p, ',') && !at_punct(p, '>')) {
        if (p->tok.kind == TOK_EOF || (p->tok.first_on_line && p->tok.line != o->line))
            return fail_expected(p, "',' or '>' ending the TCP option list");
        if (!advance(p)) return false;
    }
    size_t n = (size_t)(p->prev_end - start);
    if (n > p->lim->max_string_bytes)
        return fail(p, TB_SCRIPT_TOO_BIG, o->line, "TCP option longer than %zu bytes", p->lim->max_string_bytes);
    return (o->u.text = copy_token(p, start, n)) != NULL;
}

static bool parse_tcp_options(struct parser *p, struct tb_script_event *ev, struct tb_script_tcp *tcp) {
    unsigned line = p->tok.line;
    if (!advance(p)) return false;   /* '<' */
    if (p->tok.kind == TOK_ELLIPSIS) {
        if (ev->u.packet.direction != TB_SCRIPT_OUTBOUND)
            return fail(p, TB_SCRIPT_SYNTAX_ERROR, line, "<...> for TCP options can only be used with outbound packets");
        tcp->options_any = true;
        return advance(p) && expect_punct(p, '>');
    }
    size_t n = 0;
    for (;;) {
        if (n == p->lim->max_tcp_options)
            return fail(p, TB_SCRIPT_TOO_BIG, p->tok.line, "more than %zu TCP options in one list",
                        p->lim->max_tcp_options);
        memset(&p->option_scratch[n], 0, sizeof(p->option_scratch[n]));
        if (!parse_tcp_option(p, &p->option_scratch[n])) return false;
        n++;
        if (at_punct(p, ',')) {
            if (!advance(p)) return false;
            continue;
        }
        if (at_punct(p, '>')) break;
        return fail_expected(p, "',' or '>'");
    }
    if (!advance(p)) return false;
    tcp->options = arena_alloc(p->arena, n * sizeof(*tcp->options));
    if (tcp->options == NULL) return fail_memory(p);
    memcpy(tcp->options, p->option_scratch, n * sizeof(*tcp->options));
    tcp->option_count = n;
    return true;
}

static bool parse_tcp(struct parser *p, struct tb_script_event *ev) {
    struct tb_script_tcp *tcp = &ev->u.packet.u.tcp;
    ev->u.packet.kind = TB_SCRIPT_PACKET_TCP;
    if (p->tok.kind == TOK_INTEGER) {
        tcp->has_ports = true;
        if (!parse_ports(p, &tcp->src_port, &tcp->dst_port)) return false;
    }
    if (!parse_flags(p, &tcp->flags)) return false;
    if (!parse_seq(p, &tcp->seq_start, &tcp->seq_end, &tcp->payload_len)) return false;
    if (at_word(p, "ack") && on_same_line(p)) {
        tcp->has_ack = true;
        if (!advance(p) || !take_u32(p, "an acknowledgment number", &tcp->ack)) return false;
    }
    if (at_word(p, "win") && on_same_line(p)) {
        tcp->has_win = true;
        if (!advance(p) || !take_u16(p, "a window", &tcp->win)) return false;
    }
    if (at_word(p, "urg") && on_same_line(p)) {
        tcp->has_urg = true;
        if (!advance(p) || !take_u16(p, "an urgent pointer", &tcp->urg)) return false;
    }
    if (at_punct(p, '<') && on_same_line(p)) return parse_tcp_options(p, ev, tcp);
    return true;
}

static bool parse_udp(struct parser *p, struct tb_script_event *ev) {
    struct tb_script_udp *udp = &ev->u.packet.u.udp;
    ev->u.packet.kind = TB_SCRIPT_PACKET_UDP;
    if (!note_unsupported(p, ev->line, "UDP packet")) return false;
    if (!advance(p)) return false;   /* udp */
    if (p->tok.kind == TOK_INTEGER) {
        udp->has_ports = true;
        if (!parse_ports(p, &udp->src_port, &udp->dst_port)) return false;
    }
    if (!expect_punct(p, '(')) return false;
    if (!take_u16(p, "a UDP payload length", &udp->payload_len)) return false;
    return expect_punct(p, ')');
}

static bool parse_icmp(struct parser *p, struct tb_script_event *ev) {
    struct tb_script_icmp *icmp = &ev->u.packet.u.icmp;
    ev->u.packet.kind = TB_SCRIPT_PACKET_ICMP;
    if (!advance(p)) return false;   /* icmp */
    if (p->tok.kind != TOK_WORD || !on_same_line(p)) return fail_expected(p, "an ICMP type (unreachable, ...)");
    if ((icmp->type = copy_token(p, p->tok.start, p->tok.len)) == NULL || !advance(p)) return false;
    if (p->tok.kind == TOK_WORD && on_same_line(p) && !at_word(p, "mtu") && !at_word(p, "id")) {
        if ((icmp->code = copy_token(p, p->tok.start, p->tok.len)) == NULL || !advance(p)) return false;
    }
    if (at_word(p, "mtu") && on_same_line(p)) {
        uint16_t mtu;
        if (!advance(p) || !take_u16(p, "an MTU", &mtu)) return false;
        icmp->has_mtu = true;
        icmp->mtu = mtu;
    }
    if (at_word(p, "id") && on_same_line(p)) {
        if (!advance(p) || !take_u16(p, "an echo identifier", &icmp->id)) return false;
        icmp->has_id = true;
    }
    if (!(at_punct(p, '[') && on_same_line(p))) return true;
    if (!advance(p)) return false;
    if (at_word(p, "udp") || at_word(p, "raw")) {
        icmp->quote = at_word(p, "udp") ? TB_SCRIPT_ICMP_QUOTE_UDP : TB_SCRIPT_ICMP_QUOTE_RAW;
        if (icmp->quote == TB_SCRIPT_ICMP_QUOTE_UDP && !note_unsupported(p, ev->line, "ICMP quoting UDP"))
            return false;
        if (!advance(p) || !expect_punct(p, '(') || !take_u16(p, "a quoted payload length", &icmp->quote_len) ||
            !expect_punct(p, ')'))
            return false;
    } else {
        icmp->quote = TB_SCRIPT_ICMP_QUOTE_TCP;
        if (!parse_seq(p, &icmp->quote_seq_start, &icmp->quote_seq_end, &icmp->quote_len)) return false;
    }
    return expect_punct(p, ']');
}

/* Encapsulation prefixes (ipv4/ipv6 addresses, GRE, MPLS): the line is kept
 * as text and reported. */
static bool skip_unsupported_line(struct parser *p, struct tb_script_event *ev, const char *event_start,
                                  const char *construct) {
    ev->kind = TB_SCRIPT_EVENT_UNSUPPORTED;
    ev->u.unsupported.construct = construct;
    if (!note_unsupported(p, ev->line, construct)) return false;
    lexer_skip_line(&p->lx);
    const char *end = p->lx.src + p->lx.pos;
    while (end > event_start && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) end--;
    if ((ev->u.unsupported.text = copy_token(p, event_start, (size_t)(end - event_start))) == NULL) return false;
    p->prev_end = end;
    p->prev_line = ev->line;
    return lexer_next(&p->lx, &p->tok);
}

static bool parse_packet(struct parser *p, struct tb_script_event *ev, const char *event_start) {
    ev->kind = TB_SCRIPT_EVENT_PACKET;
    ev->u.packet.direction = at_punct(p, '<') ? TB_SCRIPT_INBOUND : TB_SCRIPT_OUTBOUND;
    if (!advance(p)) return false;
    if (at_word(p, "ipv6")) return skip_unsupported_line(p, ev, event_start, "IPv6 packet");
    if (at_word(p, "ipv4")) return skip_unsupported_line(p, ev, event_start, "IPv4 encapsulation");
    if (at_word(p, "gre") || at_word(p, "GREv0")) return skip_unsupported_line(p, ev, event_start, "GRE encapsulation");
    if (at_word(p, "mpls")) return skip_unsupported_line(p, ev, event_start, "MPLS encapsulation");
    if (at_punct(p, '[') || at_punct(p, '(')) {
        if (!parse_ip_info(p, ev, &ev->u.packet.ip)) return false;
    }
    if (at_word(p, "udp")) return parse_udp(p, ev);
    if (at_word(p, "icmp")) return parse_icmp(p, ev);
    return parse_tcp(p, ev);
}

/* ---- system calls ---------------------------------------------------------------------------------- */

static bool parse_call(struct parser *p, struct tb_script_event *ev) {
    struct tb_script_call *call = &ev->u.call;
    ev->kind = TB_SCRIPT_EVENT_CALL;
    if (p->tok.kind == TOK_ELLIPSIS) {
        /* 0.1...0.2 read(): the call blocks from the event's time until this one. */
        if (!advance(p)) return false;
        bool relative = at_punct(p, '+');
        if (relative && !advance(p)) return false;
        if (!take_seconds(p, &call->end.start_ns)) return false;
        call->end.kind = relative ? TB_SCRIPT_TIME_RELATIVE : TB_SCRIPT_TIME_ABSOLUTE;
    }
    if (p->tok.kind != TOK_WORD) return fail_expected(p, "a system call name");
    if ((call->name = copy_token(p, p->tok.start, p->tok.len)) == NULL || !advance(p)) return false;
    if (!expect_punct(p, '(')) return false;
    p->depth = 0;
    if (!parse_expr_list(p, ')', &call->args, &call->arg_count)) return false;
    if (!at_punct(p, '=')) return fail_expected(p, "'=' and the expected result");
    if (!advance(p)) return false;
    if (!parse_expr(p, &call->result)) return false;
    if (p->tok.kind == TOK_WORD && on_same_line(p)) {
        if ((call->errno_name = copy_token(p, p->tok.start, p->tok.len)) == NULL || !advance(p)) return false;
    }
    if (at_punct(p, '(') && on_same_line(p)) {
        /* The note is free text (strerror's words), read raw. */
        const char *text;
        size_t len;
        if (!lexer_raw_parenthesized(&p->lx, p->tok.line, &text, &len)) return false;
        if ((call->note = copy_token(p, text, len)) == NULL) return false;
        p->prev_end = p->lx.src + p->lx.pos;
        p->prev_line = p->tok.line;
        return lexer_next(&p->lx, &p->tok);
    }
    return true;
}

/* ---- events, options, the script ----------------------------------------------------------------------- */

static const char *time_kind_name(enum tb_script_time_kind k) {
    return k == TB_SCRIPT_TIME_ANY ? "'*'" : "a time range";
}

static bool parse_event(struct parser *p) {
    struct event_link *link = arena_alloc(p->arena, sizeof(*link));
    if (link == NULL) return fail_memory(p);
    struct tb_script_event *ev = &link->ev;
    ev->line = p->tok.line;
    const char *event_start = p->tok.start;
    bool timed = at_time_start(p);
    if (timed && !parse_time(p, &ev->time)) return false;
    if (at_punct(p, '<') || at_punct(p, '>')) {
        if (!parse_packet(p, ev, event_start)) return false;
    } else if (p->tok.kind == TOK_WORD || p->tok.kind == TOK_ELLIPSIS) {
        if (!parse_call(p, ev)) return false;
    } else if (p->tok.kind == TOK_SHELL) {
        ev->kind = TB_SCRIPT_EVENT_SHELL;
        if ((ev->u.shell.command = copy_token(p, p->tok.text, p->tok.text_len)) == NULL || !advance(p)) return false;
    } else if (p->tok.kind == TOK_CODE) {
        ev->kind = TB_SCRIPT_EVENT_UNSUPPORTED;
        ev->u.unsupported.construct = "Python block %{ }%";
        ev->u.unsupported.is_code = true;
        if (!note_unsupported(p, ev->line, ev->u.unsupported.construct)) return false;
        if ((ev->u.unsupported.text = copy_token(p, p->tok.text, p->tok.text_len)) == NULL || !advance(p))
            return false;
    } else if (p->tok.kind == TOK_OPTION) {
        return fail(p, TB_SCRIPT_SYNTAX_ERROR, p->tok.line, "option lines (--%.*s) must come before the first event",
                    (int)(p->tok.text_len > 40 ? 40 : p->tok.text_len), p->tok.text);
    } else {
        return fail_expected(p, timed ? "a packet (< or >), a system call, a `shell command` or %{ }%"
                                      : "a time, a packet, a system call, a `shell command` or %{ }%");
    }
    enum tb_script_time_kind tk = ev->time.kind;
    bool outbound_packet = ev->kind == TB_SCRIPT_EVENT_PACKET && ev->u.packet.direction == TB_SCRIPT_OUTBOUND;
    if ((tk == TB_SCRIPT_TIME_ANY || tk == TB_SCRIPT_TIME_ABSOLUTE_RANGE || tk == TB_SCRIPT_TIME_RELATIVE_RANGE) &&
        !outbound_packet && ev->kind != TB_SCRIPT_EVENT_UNSUPPORTED)
        return fail(p, TB_SCRIPT_SYNTAX_ERROR, ev->line, "event time %s can only be used with outbound packets",
                    time_kind_name(tk));
    if (p->script->event_count == p->lim->max_events)
        return fail(p, TB_SCRIPT_TOO_BIG, ev->line, "more than %zu events", p->lim->max_events);
    p->script->event_count++;
    *p->events_tail = link;
    p->events_tail = &link->next;
    return true;
}

static bool parse_option(struct parser *p) {
    struct option_link *link = arena_alloc(p->arena, sizeof(*link));
    if (link == NULL) return fail_memory(p);
    struct tb_script_option *opt = &link->opt;
    opt->line = p->tok.line;
    if (p->script->option_count == p->lim->max_options)
        return fail(p, TB_SCRIPT_TOO_BIG, opt->line, "more than %zu option lines", p->lim->max_options);
    if ((opt->name = copy_token(p, p->tok.text, p->tok.text_len)) == NULL) return false;
    if (p->lx.pos < p->lx.len && p->lx.src[p->lx.pos] == '=') {
        /* The value is one blank-free word (an address, a number, WORD=value). */
        p->lx.pos++;
        const char *text;
        size_t len;
        lexer_raw_word(&p->lx, &text, &len);
        if (len > p->lim->max_string_bytes)
            return fail(p, TB_SCRIPT_TOO_BIG, opt->line, "option value longer than %zu bytes", p->lim->max_string_bytes);
        if ((opt->value = copy_token(p, text, len)) == NULL) return false;
        bool ipv6 = strstr(opt->value, "ipv6") != NULL || (strstr(opt->name, "ip") != NULL && strchr(opt->value, ':'));
        if (ipv6 && !note_unsupported(p, opt->line, "IPv6 (option line)")) return false;
    }
    p->prev_end = p->lx.src + p->lx.pos;
    p->prev_line = opt->line;
    if (!lexer_next(&p->lx, &p->tok)) return false;
    p->script->option_count++;
    *p->options_tail = link;
    p->options_tail = &link->next;
    return true;
}

/* Line count and lengths first, so a bound names its line before any work. */
static bool check_lines(struct parser *p, const char *bytes, size_t len) {
    size_t lines = 1, line_start = 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)bytes[i] : '\n';
        /* Control bytes have no place in a script, even in its strings and
         * comments: a NUL would cut the copies the tree keeps. */
        if ((c < ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') || c == 0x7f)
            return fail(p, TB_SCRIPT_SYNTAX_ERROR, (unsigned)lines, "unexpected byte 0x%02x", c);
        if (i < len && c != '\n') continue;
        if (i - line_start > p->lim->max_line_bytes)
            return fail(p, TB_SCRIPT_TOO_BIG, (unsigned)lines, "line longer than %zu bytes", p->lim->max_line_bytes);
        if (i == len) break;
        if (++lines > p->lim->max_lines)
            return fail(p, TB_SCRIPT_TOO_BIG, 0, "more than %zu lines", p->lim->max_lines);
        line_start = i + 1;
    }
    return true;
}

static bool flatten(struct parser *p) {
    struct tb_script *s = p->script;
    if (s->event_count) {
        if ((s->events = arena_alloc(p->arena, s->event_count * sizeof(*s->events))) == NULL) return fail_memory(p);
        size_t i = 0;
        for (struct event_link *l = p->events; l; l = l->next) s->events[i++] = l->ev;
    }
    if (s->option_count) {
        if ((s->options = arena_alloc(p->arena, s->option_count * sizeof(*s->options))) == NULL) return fail_memory(p);
        size_t i = 0;
        for (struct option_link *l = p->options; l; l = l->next) s->options[i++] = l->opt;
    }
    if (s->unsupported_count) {
        if ((s->unsupported = arena_alloc(p->arena, s->unsupported_count * sizeof(*s->unsupported))) == NULL)
            return fail_memory(p);
        size_t i = 0;
        for (struct note_link *l = p->notes; l; l = l->next) s->unsupported[i++] = l->note;
    }
    return true;
}

static bool parse_script(struct parser *p, const char *bytes, size_t len) {
    if (len > p->lim->max_input_bytes)
        return fail(p, TB_SCRIPT_TOO_BIG, 0, "%zu bytes, more than %zu", len, p->lim->max_input_bytes);
    if (!check_lines(p, bytes, len)) return false;
    if ((p->option_scratch = arena_alloc(p->arena, (p->lim->max_tcp_options + 1) * sizeof(*p->option_scratch))) == NULL)
        return fail_memory(p);
    lexer_init(&p->lx, p->file, bytes, len, p->lim->max_string_bytes, p->err);
    if (!lexer_next(&p->lx, &p->tok)) return false;
    while (p->tok.kind == TOK_OPTION)
        if (!parse_option(p)) return false;
    while (p->tok.kind != TOK_EOF)
        if (!parse_event(p)) return false;
    return flatten(p);
}

struct tb_script *tb_script_parse(const char *file_name, const char *bytes, size_t len,
                                  const struct tb_script_limits *limits, struct tb_script_error *err) {
    struct tb_script_error local_err;
    struct tb_script_limits defaults;
    if (err == NULL) err = &local_err;
    memset(err, 0, sizeof(*err));
    if (limits == NULL) {
        tb_script_limits_default(&defaults);
        limits = &defaults;
    }
    if (file_name == NULL) file_name = "<script>";
    if (bytes == NULL) len = 0;

    struct tb_script_arena arena = {.limit = limits->max_arena_bytes};
    struct tb_script *script = arena_alloc(&arena, sizeof(*script));
    struct tb_script_arena *owned = script ? arena_alloc(&arena, sizeof(*owned)) : NULL;
    char *name = owned ? arena_strndup(&arena, file_name, strlen(file_name)) : NULL;
    if (name == NULL) {
        script_set_error(err, arena.over_limit ? TB_SCRIPT_TOO_BIG : TB_SCRIPT_NO_MEMORY, file_name, 0,
                         "out of memory");
        arena_release(&arena);
        return NULL;
    }
    script->file_name = name;

    struct parser p = {
        .lim = limits, .script = script, .arena = &arena, .err = err, .file = name,
    };
    p.events_tail = &p.events;
    p.options_tail = &p.options;
    p.notes_tail = &p.notes;
    static const char empty[1] = "";
    bool ok = parse_script(&p, bytes ? bytes : empty, len);
    if (!ok) {
        if (err->status == TB_SCRIPT_OK) script_set_error(err, TB_SCRIPT_SYNTAX_ERROR, name, 0, "parse failed");
        arena_release(&arena);
        return NULL;
    }
    /* The arena's bookkeeping moves into the arena itself, so the script owns it. */
    *owned = arena;
    script->arena = owned;
    err->status = TB_SCRIPT_OK;
    return script;
}

void tb_script_free(struct tb_script *script) {
    if (script == NULL) return;
    struct tb_script_arena arena = *script->arena;
    arena_release(&arena);
}

size_t tb_script_format_note(const struct tb_script *script, size_t i, char *out, size_t cap) {
    if (i >= script->unsupported_count) {
        if (cap) out[0] = '\0';
        return 0;
    }
    int n = snprintf(out, cap, "unsupported: %s:%u: %s", script->file_name, script->unsupported[i].line,
                     script->unsupported[i].construct);
    return n < 0 ? 0 : (size_t)n;
}
