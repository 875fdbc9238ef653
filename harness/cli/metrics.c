#include "harness/cli/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_add(struct metrics *ms, const char *name, double value) {
    if (ms->n == METRICS_MAX) return;
    struct metric *m = &ms->m[ms->n++];
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->value = value;
}

bool metrics_get(const struct metrics *ms, const char *name, double *value) {
    for (size_t i = 0; i < ms->n; i++)
        if (strcmp(ms->m[i].name, name) == 0) {
            *value = ms->m[i].value;
            return true;
        }
    return false;
}

bool expect_eval(const char *expr, const struct metrics *ms, bool *holds, char *msg, size_t msg_len) {
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    /* Names may hold '>' ("link.A>B.loss_drops"), so the operator is the
     * rightmost one followed by nothing but a number. */
    const char *op = NULL;
    int which = -1;
    double want = 0;
    for (const char *p = expr + strlen(expr); p-- > expr && op == NULL;) {
        for (int i = 0; i < 6; i++) {
            size_t len = strlen(ops[i]);
            if (strncmp(p, ops[i], len) != 0) continue;
            if (len == 1 && p > expr && (p[-1] == '<' || p[-1] == '>' || p[-1] == '=' || p[-1] == '!')) continue;
            const char *num = p + len;
            while (*num == ' ') num++;
            char *end;
            double v = strtod(num, &end);
            while (*end == ' ') end++;
            if (end == num || *end != '\0') continue;
            op = p;
            which = i;
            want = v;
            break;
        }
    }
    if (op == NULL) {
        snprintf(msg, msg_len, "expect '%s': expected NAME OP NUMBER with OP one of == != < <= > >=", expr);
        return false;
    }
    char name[72];
    const char *a = expr, *b = op;
    while (*a == ' ') a++;
    while (b > a && b[-1] == ' ') b--;
    if (b == a || (size_t)(b - a) >= sizeof(name)) {
        snprintf(msg, msg_len, "expect '%s': expected a metric name before '%s'", expr, ops[which]);
        return false;
    }
    memcpy(name, a, (size_t)(b - a));
    name[b - a] = '\0';
    double v;
    if (!metrics_get(ms, name, &v)) {
        snprintf(msg, msg_len, "expect '%s': no metric named '%s' (the --json keys, e.g. retransmits, conn.A.srtt_ns)",
                 expr, name);
        return false;
    }
    switch (which) {
    case 0: *holds = v == want; break;
    case 1: *holds = v != want; break;
    case 2: *holds = v <= want; break;
    case 3: *holds = v >= want; break;
    case 4: *holds = v < want; break;
    default: *holds = v > want; break;
    }
    snprintf(msg, msg_len, "%s is %.17g", name, v);
    return true;
}
