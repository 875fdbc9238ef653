/* Table-driven option parsing for every tcpbed subcommand: --name VALUE or
 * --name=VALUE, typed values with units, --help generated from the table.
 * Errors name the option, what was expected and what was given. */
#ifndef TB_CLI_OPTS_H
#define TB_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/time.h"

enum opt_kind { OPT_FLAG, OPT_U64, OPT_DURATION, OPT_RATE, OPT_SIZE, OPT_STRING, OPT_LIST };

/* OPT_LIST collects every occurrence of a repeatable option. */
#define OPT_LIST_MAX 128
struct opt_list {
    const char *items[OPT_LIST_MAX];
    size_t n;
};

struct opt {
    const char *name;       /* without the leading "--" */
    enum opt_kind kind;
    void *dst;              /* bool, uint64_t, tb_time_ns, uint64_t, uint64_t, const char *, struct opt_list */
    const char *metavar;    /* e.g. "N", "FILE" */
    const char *help;
    uint64_t min, max;      /* OPT_U64 / OPT_SIZE / OPT_RATE / OPT_DURATION bounds; max 0 = none */
};

/* Returns 0 on success, 1 if --help was printed (exit 0), 2 on a usage error
 * (message printed to stderr). */
int opts_parse(const char *command, const char *summary, const struct opt *opts, int n, int argc, char **argv);
void opts_usage(const char *command, const char *summary, const struct opt *opts, int n, bool to_stderr);

#endif
