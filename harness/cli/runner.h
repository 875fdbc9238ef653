/* Runs tcpbed itself in child processes, several at once, capturing each
 * one's standard output: sweeps and shrinking isolate every run this way,
 * so a crash or a hang in one run is a result, not the end of the tool. */
#ifndef TB_CLI_RUNNER_H
#define TB_CLI_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

struct run_result {
    int exit_code;       /* -1 when killed by a signal (signal in term_signal) */
    int term_signal;
    bool timed_out;
    char *out;           /* captured stdout, NUL-terminated; free() it */
    size_t out_len;
};

/* The path of this executable (for re-running it). */
const char *runner_self(void);

typedef void (*runner_done_fn)(void *ctx, size_t job, struct run_result *r);

/* Runs argv_for(job) for jobs 0..count-1 with at most `parallel` children at
 * once, calling done() as each ends (in completion order). Each run is
 * killed after timeout_s seconds (0: no limit). */
typedef char **(*runner_argv_fn)(void *ctx, size_t job);
void runner_run_all(size_t count, unsigned parallel, double timeout_s, runner_argv_fn argv_for, runner_done_fn done,
                    void *ctx);

#endif
