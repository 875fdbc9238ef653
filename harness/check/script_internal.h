/* harness/check: what the lexer, the parser and the printer share and
 * nobody else sees: the bounded arena and the tokens. */
#ifndef TB_HARNESS_CHECK_SCRIPT_INTERNAL_H
#define TB_HARNESS_CHECK_SCRIPT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "script.h"

/* ---- the arena: every node and string of one script ------------------------------ */

struct arena_block;

struct tb_script_arena {
    struct arena_block *blocks;      /* newest first */
    size_t reserved;                 /* bytes of every block, the bound applies to it */
    size_t limit;
    bool over_limit;                 /* why the last allocation failed: the bound, or malloc */
};

/* Zeroed memory, or NULL when the bound or malloc refuses. */
void *arena_alloc(struct tb_script_arena *a, size_t n);
/* A NUL-terminated copy of n bytes. */
char *arena_strndup(struct tb_script_arena *a, const char *s, size_t n);
void arena_release(struct tb_script_arena *a);

/* ---- errors ------------------------------------------------------------------------ */

/* Fills err with "FILE:LINE: " (or "FILE: " for line 0) and the sentence. */
void script_set_error(struct tb_script_error *err, enum tb_script_status status, const char *file, unsigned line,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- tokens -------------------------------------------------------------------------- */

enum token_kind {
    TOK_EOF,
    TOK_INTEGER,                     /* 12, -1, 0x1f */
    TOK_DECIMAL,                     /* 0.100, .1, -0.5: a time */
    TOK_IPV4,                        /* 192.0.2.1 */
    TOK_WORD,                        /* [A-Za-z0-9_]+ not all digits: names, flags, hex blobs */
    TOK_STRING,                      /* "..." (text without the quotes) */
    TOK_SHELL,                       /* `...` */
    TOK_CODE,                        /* %{ ... }% (text trimmed of spaces and tabs) */
    TOK_OPTION,                      /* --name (text without the dashes) */
    TOK_ELLIPSIS,                    /* ... */
    TOK_PUNCT,                       /* any other single printable character */
};

struct token {
    enum token_kind kind;
    const char *start;               /* the token as written, in the source */
    size_t len;
    const char *text;                /* STRING, SHELL, CODE, OPTION: the inside */
    size_t text_len;
    unsigned line;                   /* where it starts */
    bool first_on_line;              /* nothing but blanks and comments before it on its line */
    char punct;                      /* TOK_PUNCT */
    int64_t value;                   /* TOK_INTEGER */
    bool hex;                        /* TOK_INTEGER written 0x... */
};

struct lexer {
    const char *src;
    size_t len, pos;
    unsigned line;                   /* of src[pos] */
    bool at_line_start;              /* no token yet on the current line */
    size_t max_string_bytes;
    const char *file;
    struct tb_script_error *err;
};

void lexer_init(struct lexer *lx, const char *file, const char *src, size_t len, size_t max_string_bytes,
                struct tb_script_error *err);
/* The next token; false with err filled on a lexical error. */
bool lexer_next(struct lexer *lx, struct token *out);
/* From the current position (just after a '(' token): the raw text up to
 * the matching ')' on the same line, which is consumed. */
bool lexer_raw_parenthesized(struct lexer *lx, unsigned line, const char **text, size_t *len);
/* From the current position: the raw text up to the next blank, quotes
 * kept whole (an option's value). */
void lexer_raw_word(struct lexer *lx, const char **text, size_t *len);
/* Moves to the end of the current line (the newline stays). */
void lexer_skip_line(struct lexer *lx);

#endif
