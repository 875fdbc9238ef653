/* harness/check: the script's tokens, the bounded arena and error text.
 * The lexer is pulled one token at a time by the parser, which lets the
 * few context-dependent pieces of the language (an errno's free text, an
 * option's value) be read raw from where the parser stands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script_internal.h"

/* ---- arena ----------------------------------------------------------------------- */

struct arena_block {
    struct arena_block *next;
    size_t cap, used;
    max_align_t data[];
};

/* Big enough that a typical script takes a handful of mallocs. */
#define ARENA_BLOCK_BYTES (64u * 1024u)

void *arena_alloc(struct tb_script_arena *a, size_t n) {
    size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0) n = align;
    struct arena_block *b = a->blocks;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK_BYTES ? n : ARENA_BLOCK_BYTES;
        if (cap > a->limit || a->reserved > a->limit - cap) {
            a->over_limit = true;
            return NULL;
        }
        b = malloc(sizeof(*b) + cap);
        if (b == NULL) {
            a->over_limit = false;
            return NULL;
        }
        b->cap = cap;
        b->used = 0;
        b->next = a->blocks;
        a->blocks = b;
        a->reserved += cap;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct tb_script_arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    if (p == NULL) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void arena_release(struct tb_script_arena *a) {
    struct arena_block *b = a->blocks;
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->blocks = NULL;
    a->reserved = 0;
}

/* ---- errors ------------------------------------------------------------------------- */

void script_set_error(struct tb_script_error *err, enum tb_script_status status, const char *file, unsigned line,
                      const char *fmt, ...) {
    err->status = status;
    err->line = line;
    int n = line ? snprintf(err->message, sizeof(err->message), "%s:%u: ", file, line)
                 : snprintf(err->message, sizeof(err->message), "%s: ", file);
    if (n < 0 || (size_t)n >= sizeof(err->message)) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- the lexer ------------------------------------------------------------------------ */

void lexer_init(struct lexer *lx, const char *file, const char *src, size_t len, size_t max_string_bytes,
                struct tb_script_error *err) {
    memset(lx, 0, sizeof(*lx));
    lx->src = src;
    lx->len = len;
    lx->line = 1;
    lx->at_line_start = true;
    lx->max_string_bytes = max_string_bytes;
    lx->file = file;
    lx->err = err;
}

static bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static char peek_at(const struct lexer *lx, size_t off) {
    return lx->pos + off < lx->len ? lx->src[lx->pos + off] : '\0';
}

static void step(struct lexer *lx) {
    if (lx->src[lx->pos] == '\n') {
        lx->line++;
        lx->at_line_start = true;
    }
    lx->pos++;
}

/* Blanks and both comment forms; false on an unterminated block comment. */
static bool skip_blanks(struct lexer *lx) {
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            step(lx);
        } else if (c == '/' && peek_at(lx, 1) == '/') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n') lx->pos++;
        } else if (c == '/' && peek_at(lx, 1) == '*') {
            unsigned start_line = lx->line;
            lx->pos += 2;
            for (;;) {
                if (lx->pos >= lx->len) {
                    script_set_error(lx->err, TB_SCRIPT_SYNTAX_ERROR, lx->file, start_line,
                                     "unterminated /* comment");
                    return false;
                }
                if (lx->src[lx->pos] == '*' && peek_at(lx, 1) == '/') {
                    lx->pos += 2;
                    break;
                }
                step(lx);
            }
        } else {
            break;
        }
    }
    return true;
}

/* Up to the closing delimiter (a backslash escapes one byte in strings and
 * shell commands, as packetdrill's lexer reads them). */
static bool scan_delimited(struct lexer *lx, struct token *t, const char *what, char close, char close2,
                           bool escapes) {
    size_t open_len = close2 ? 2 : 1;
    lx->pos += open_len;
    size_t text_start = lx->pos;
    for (;;) {
        if (lx->pos >= lx->len) {
            script_set_error(lx->err, TB_SCRIPT_SYNTAX_ERROR, lx->file, t->line, "unterminated %s", what);
            return false;
        }
        char c = lx->src[lx->pos];
        if (c == close && (!close2 || peek_at(lx, 1) == close2)) break;
        if (escapes && c == '\\' && lx->pos + 1 < lx->len) step(lx);
        step(lx);
        if (lx->pos - text_start > lx->max_string_bytes) {
            script_set_error(lx->err, TB_SCRIPT_TOO_BIG, lx->file, t->line, "%s longer than %zu bytes", what,
                             lx->max_string_bytes);
            return false;
        }
    }
    t->text = lx->src + text_start;
    t->text_len = lx->pos - text_start;
    lx->pos += open_len;
    return true;
}

/* digits(.digits)*: one group an integer, two a decimal, four an IPv4
 * address; a run of word characters that is not all digits is a word. */
static bool scan_number(struct lexer *lx, struct token *t) {
    size_t start = lx->pos;
    bool negative = lx->src[lx->pos] == '-';
    if (negative) lx->pos++;
    if (peek_at(lx, 0) == '0' && (peek_at(lx, 1) == 'x' || peek_at(lx, 1) == 'X') && is_hex_digit(peek_at(lx, 2))) {
        lx->pos += 2;
        uint64_t v = 0;
        bool overflow = false;
        while (is_hex_digit(peek_at(lx, 0))) {
            char c = lx->src[lx->pos++];
            unsigned d = is_digit(c) ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
            if (v > (UINT64_MAX >> 4)) overflow = true;
            v = (v << 4) | d;
        }
        if (is_word_char(peek_at(lx, 0))) goto word;
        if (overflow || v > INT64_MAX) goto range;
        t->kind = TOK_INTEGER;
        t->hex = true;
        t->value = negative ? -(int64_t)v : (int64_t)v;
        t->len = lx->pos - start;
        return true;
    }
    size_t groups = 0;
    bool leading_dot = peek_at(lx, 0) == '.';
    if (leading_dot) {
        groups = 1;                  /* ".1" is "0.1" */
        lx->pos++;
    }
    for (;;) {
        while (is_digit(peek_at(lx, 0))) lx->pos++;
        groups++;
        if (peek_at(lx, 0) == '.' && is_digit(peek_at(lx, 1))) {
            lx->pos++;
            continue;
        }
        break;
    }
    if (groups == 1 && is_word_char(peek_at(lx, 0))) goto word;
    t->len = lx->pos - start;
    if (groups == 2) {
        t->kind = TOK_DECIMAL;
        return true;
    }
    if (groups == 4 && !negative && !leading_dot) {
        t->kind = TOK_IPV4;
        return true;
    }
    if (groups != 1) {
        script_set_error(lx->err, TB_SCRIPT_SYNTAX_ERROR, lx->file, t->line, "malformed number '%.*s'",
                         (int)(t->len > 40 ? 40 : t->len), t->start);
        return false;
    }
    uint64_t v = 0;
    for (const char *c = t->start + (negative ? 1 : 0); c < lx->src + lx->pos; c++) {
        if (v > (UINT64_MAX - 9) / 10) goto range;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    if (v > INT64_MAX) goto range;
    t->kind = TOK_INTEGER;
    t->value = negative ? -(int64_t)v : (int64_t)v;
    return true;
word:
    if (negative) {                  /* "-x": the '-' alone, then a word */
        lx->pos = start + 1;
        t->kind = TOK_PUNCT;
        t->punct = '-';
        t->len = 1;
        return true;
    }
    while (is_word_char(peek_at(lx, 0))) lx->pos++;
    t->kind = TOK_WORD;
    t->len = lx->pos - start;
    return true;
range:
    while (is_word_char(peek_at(lx, 0))) lx->pos++;
    script_set_error(lx->err, TB_SCRIPT_SYNTAX_ERROR, lx->file, t->line, "number '%.*s' out of range",
                     (int)(lx->pos - start > 40 ? 40 : lx->pos - start), t->start);
    return false;
}

bool lexer_next(struct lexer *lx, struct token *t) {
    if (!skip_blanks(lx)) return false;
    memset(t, 0, sizeof(*t));
    t->line = lx->line;
    t->first_on_line = lx->at_line_start;
    t->start = lx->src + lx->pos;
    lx->at_line_start = false;
    if (lx->pos >= lx->len) {
        t->kind = TOK_EOF;
        return true;
    }
    char c = lx->src[lx->pos];
    char c1 = peek_at(lx, 1);
    size_t start = lx->pos;
    if (c == '.' && c1 == '.' && peek_at(lx, 2) == '.') {
        t->kind = TOK_ELLIPSIS;
        lx->pos += 3;
    } else if (is_digit(c) || (c == '.' && is_digit(c1)) || (c == '-' && (is_digit(c1) || (c1 == '.' && is_digit(peek_at(lx, 2)))))) {
        if (!scan_number(lx, t)) return false;
    } else if (is_word_char(c)) {
        while (is_word_char(peek_at(lx, 0))) lx->pos++;
        t->kind = TOK_WORD;
    } else if (c == '-' && c1 == '-' && is_word_char(peek_at(lx, 2))) {
        lx->pos += 2;
        while (is_word_char(peek_at(lx, 0))) lx->pos++;
        t->kind = TOK_OPTION;
        t->text = lx->src + start + 2;
        t->text_len = lx->pos - start - 2;
    } else if (c == '"') {
        t->kind = TOK_STRING;
        if (!scan_delimited(lx, t, "string", '"', 0, true)) return false;
    } else if (c == '`') {
        t->kind = TOK_SHELL;
        if (!scan_delimited(lx, t, "shell command", '`', 0, true)) return false;
    } else if (c == '%' && c1 == '{') {
        t->kind = TOK_CODE;
        if (!scan_delimited(lx, t, "%{ }% block", '}', '%', false)) return false;
        /* Python is whitespace-sensitive: trim blanks at both ends as packetdrill does. */
        while (t->text_len && (t->text[0] == ' ' || t->text[0] == '\t')) t->text++, t->text_len--;
        while (t->text_len && (t->text[t->text_len - 1] == ' ' || t->text[t->text_len - 1] == '\t')) t->text_len--;
    } else if (c > ' ' && c < 0x7f) {
        t->kind = TOK_PUNCT;
        t->punct = c;
        lx->pos++;
    } else {
        script_set_error(lx->err, TB_SCRIPT_SYNTAX_ERROR, lx->file, t->line, "unexpected byte 0x%02x",
                         (unsigned)(unsigned char)c);
        return false;
    }
    if (t->len == 0) t->len = lx->pos - start;
    return true;
}

bool lexer_raw_parenthesized(struct lexer *lx, unsigned line, const char **text, size_t *len) {
    size_t start = lx->pos;
    unsigned depth = 0;
    while (lx->pos < lx->len && lx->src[lx->pos] != '\n') {
        char c = lx->src[lx->pos];
        if (c == '(') depth++;
        if (c == ')') {
            if (depth == 0) {
                *text = lx->src + start;
                *len = lx->pos - start;
                lx->pos++;
                if (*len > lx->max_string_bytes) {
                    script_set_error(lx->err, TB_SCRIPT_TOO_BIG, lx->file, line, "note longer than %zu bytes",
                                     lx->max_string_bytes);
                    return false;
                }
                return true;
            }
            depth--;
        }
        lx->pos++;
    }
    script_set_error(lx->err, TB_SCRIPT_SYNTAX_ERROR, lx->file, line, "expected ')' closing the note on its line");
    return false;
}

void lexer_raw_word(struct lexer *lx, const char **text, size_t *len) {
    size_t start = lx->pos;
    char quote = 0;
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        if (c == '\n') break;
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '`') {
            quote = c;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            break;
        }
        lx->pos++;
    }
    *text = lx->src + start;
    *len = lx->pos - start;
}

void lexer_skip_line(struct lexer *lx) {
    while (lx->pos < lx->len && lx->src[lx->pos] != '\n') lx->pos++;
}
