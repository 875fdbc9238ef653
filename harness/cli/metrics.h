/* A run's outcome as flat named numbers ("retransmits", "conn.A.srtt_ns",
 * "hosts.B.tcp_rsts_sent", "link.A>B.loss_drops"), which --expect
 * expressions test and --json prints. */
#ifndef TB_CLI_METRICS_H
#define TB_CLI_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#define METRICS_MAX 1024

struct metric {
    char name[72];
    double value;
};
struct metrics {
    struct metric m[METRICS_MAX];
    size_t n;
};

void metrics_add(struct metrics *ms, const char *name, double value);
bool metrics_get(const struct metrics *ms, const char *name, double *value);

/* Evaluates "NAME OP NUMBER" (OP: == != < <= > >=). Returns false on a
 * syntax error or an unknown name, with msg saying which; otherwise sets
 * *holds and writes "NAME is VALUE" to msg. */
bool expect_eval(const char *expr, const struct metrics *ms, bool *holds, char *msg, size_t msg_len);

#endif
