/* Fuzz target `check`: the packetdrill script front end and interpreter
 * (harness/check) on arbitrary text.
 *
 * Input: the bytes of a script. The lowest bit of the length picks the
 * profile (rfc or linux), so both configurations are searched.
 *
 * Properties (abort() on a violation):
 *   - the parser reads only inside [p, p+len) (ASan: an exact-size copy),
 *     and either gives a tree or a status with a sentence;
 *   - the printer's output parses back into a tree that prints the same
 *     (print(parse(print(s))) == print(s)), with as many events and
 *     options, and notes if and only if the original had some;
 *   - a run ends in pass, fail or skip, a fail or skip with a message (a
 *     skip's starting "unsupported: "), and a second run of the same tree
 *     gives the same outcome and the same message (no clock, no entropy,
 *     no state carried between runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "harness/check/run.h"
#include "harness/check/script.h"

#define MSG_CAP 4096

#define CHECK(cond, ...)                                                                             \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, "check: property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                            \
            fprintf(stderr, "\n");                                                                   \
            abort();                                                                                 \
        }                                                                                            \
    } while (0)

/* Options then events, one per line. NULL when out of memory. */
static char *print_script(const struct tb_script *s) {
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (out == NULL) return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < s->option_count + s->event_count; i++) {
        for (;;) {
            size_t room = cap - len;
            size_t n = i < s->option_count ? tb_script_format_option(&s->options[i], out + len, room)
                                           : tb_script_format_event(&s->events[i - s->option_count], out + len, room);
            if (len + n + 2 <= cap) {
                len += n;
                out[len++] = '\n';
                out[len] = '\0';
                break;
            }
            cap = 2 * (len + n + 2);
            char *bigger = realloc(out, cap);
            if (bigger == NULL) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
    }
    return out;
}

static void round_trip(const struct tb_script *s, const struct tb_script_limits *lim) {
    char *once = print_script(s);
    if (once == NULL) return;
    struct tb_script_error err;
    struct tb_script *again = tb_script_parse("again.pkt", once, strlen(once), lim, &err);
    if (again == NULL && err.status == TB_SCRIPT_NO_MEMORY) {
        free(once);
        return;
    }
    CHECK(again != NULL, "the printed script does not parse: %s\n%s", err.message, once);
    /* Notes are one per construct and line, and the printer puts each event
     * on one line of its own: their count may change either way (two events
     * on a line split, one event over two lines joined), but never from or
     * to none. */
    CHECK(again->event_count == s->event_count && again->option_count == s->option_count &&
              (again->unsupported_total > 0) == (s->unsupported_total > 0),
          "the printed script parses to another tree:\n%s", once);
    char *twice = print_script(again);
    if (twice != NULL) CHECK(strcmp(once, twice) == 0, "printing is not stable:\n%s\n---\n%s", once, twice);
    free(once);
    free(twice);
    tb_script_free(again);
}

int fuzz_one(const uint8_t *data, size_t len) {
    struct tb_script_limits lim;
    tb_script_limits_default(&lim);
    /* Bounds that keep one input fast; the parser's own are tested in test_check_parse. */
    lim.max_input_bytes = 64 * 1024;
    lim.max_events = 512;
    char *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) return 0;
    memcpy(copy, data, len);
    struct tb_script_error err;
    struct tb_script *s = tb_script_parse("f.pkt", copy, len, &lim, &err);
    free(copy);
    if (s == NULL) {
        CHECK(err.status == TB_SCRIPT_SYNTAX_ERROR || err.status == TB_SCRIPT_TOO_BIG ||
                  err.status == TB_SCRIPT_NO_MEMORY,
              "status %d", (int)err.status);
        CHECK(err.message[0] != '\0', "an error without a sentence");
        return 0;
    }
    round_trip(s, &lim);

    struct tb_check_opts o;
    tb_check_opts_default(&o);
    o.profile = (len & 1) ? TB_CHECK_PROFILE_LINUX : TB_CHECK_PROFILE_RFC;
    o.ignore_shell = true;
    o.max_wait_ns = 5 * TB_NS_PER_S;   /* a missing packet is waited for this long in virtual time */
    static char a[MSG_CAP], b[MSG_CAP];
    enum tb_check_outcome r1 = tb_check_run(s, &o, a, sizeof(a));
    CHECK(r1 == TB_CHECK_PASS || r1 == TB_CHECK_FAIL || r1 == TB_CHECK_SKIP, "outcome %d", (int)r1);
    if (r1 == TB_CHECK_FAIL) CHECK(a[0] != '\0', "a failure without a message");
    if (r1 == TB_CHECK_SKIP) CHECK(strncmp(a, "unsupported: ", 13) == 0, "a skip says: %s", a);
    enum tb_check_outcome r2 = tb_check_run(s, &o, b, sizeof(b));
    CHECK(r1 == r2 && strcmp(a, b) == 0, "two runs differ: %d '%s' vs %d '%s'", (int)r1, a, (int)r2, b);
    tb_script_free(s);
    return 0;
}
