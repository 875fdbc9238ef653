/* tcpbed shrink: from a failing run to the few faults that make it fail.
 *
 * 1. Run the command once, recording every fault that fired as the exact
 *    targeted spec that reproduces it (--record-faults).
 * 2. Replace the random fault flags by that list and check the replay fails
 *    the same way (same signature).
 * 3. Delta debugging (Zeller & Hildebrandt's ddmin) over the list: keep the
 *    smallest subset that still fails with the same signature.
 * 4. Print it as a ready command line of --fault arguments. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "harness/cli/runner.h"

#define SHRINK_MAX_FAULTS 4096

struct shrink {
    char **base;                /* sim args without random or targeted faults */
    int base_n;
    char *faults[SHRINK_MAX_FAULTS];
    size_t fault_n;
    char signature[320];
    char *argv[SHRINK_MAX_FAULTS * 2 + 300];
    const size_t *subset;
    size_t subset_n;
    uint64_t runs, max_runs;
    double timeout_s;
    /* result of the last run */
    bool last_pass;
    int last_exit;
    char last_sig[320];
};

static char **subset_argv(void *ctx, size_t job) {
    (void)job;
    struct shrink *s = ctx;
    int n = 0;
    s->argv[n++] = (char *)runner_self();
    s->argv[n++] = "sim";
    for (int i = 0; i < s->base_n; i++) s->argv[n++] = s->base[i];
    for (size_t i = 0; i < s->subset_n; i++) {
        s->argv[n++] = "--fault";
        s->argv[n++] = s->faults[s->subset[i]];
    }
    s->argv[n++] = "--json";
    s->argv[n] = NULL;
    return s->argv;
}

static void subset_done(void *ctx, size_t job, struct run_result *r) {
    (void)job;
    struct shrink *s = ctx;
    s->last_pass = false;
    s->last_exit = r->exit_code;
    s->last_sig[0] = '\0';
    if (r->exit_code == 0 || r->exit_code == 1) {
        json_t *res = json_loads(r->out, 0, NULL);
        tb_json_get_bool(res, "pass", &s->last_pass);
        tb_json_get_string(res, "signature", s->last_sig, sizeof(s->last_sig));
        json_decref(res);
    } else if (r->exit_code < 0) {
        snprintf(s->last_sig, sizeof(s->last_sig), "crashed with signal %d", r->term_signal);
    } else {
        snprintf(s->last_sig, sizeof(s->last_sig), "exited with status %d", r->exit_code);
    }
    free(r->out);
}

/* Does the run with these faults fail the same way? */
static bool fails_same(struct shrink *s, const size_t *subset, size_t n) {
    s->subset = subset;
    s->subset_n = n;
    s->runs++;
    runner_run_all(1, 1, s->timeout_s, subset_argv, subset_done, s);
    return !s->last_pass && strcmp(s->last_sig, s->signature) == 0;
}

/* ddmin: the list shrinks while some chunk, or the rest without it, still fails. */
static size_t ddmin(struct shrink *s, size_t *set, size_t n) {
    size_t granularity = 2;
    size_t *trial = malloc(n * sizeof(*trial));
    if (trial == NULL) return n;
    while (n >= 2 && s->runs < s->max_runs) {
        size_t chunk = (n + granularity - 1) / granularity;
        bool reduced = false;
        for (size_t start = 0; start < n && !reduced && s->runs < s->max_runs; start += chunk) {
            size_t end = start + chunk < n ? start + chunk : n;
            if (fails_same(s, set + start, end - start)) {   /* the chunk alone */
                memmove(set, set + start, (end - start) * sizeof(*set));
                n = end - start;
                granularity = 2;
                reduced = true;
                break;
            }
            size_t m = 0;   /* the complement */
            for (size_t i = 0; i < n; i++)
                if (i < start || i >= end) trial[m++] = set[i];
            if (granularity > 2 && fails_same(s, trial, m)) {
                memcpy(set, trial, m * sizeof(*set));
                n = m;
                granularity = granularity - 1 > 2 ? granularity - 1 : 2;
                reduced = true;
            }
        }
        if (!reduced) {
            if (granularity >= n) break;
            granularity = granularity * 2 < n ? granularity * 2 : n;
        }
    }
    free(trial);
    return n;
}

static bool is_random_fault_flag(const char *a, bool *takes_value) {
    static const char *const flags[] = {"--loss", "--burst-loss", "--reorder", "--duplicate", "--corrupt",
                                        "--fault", "--record-faults", "--json", "--pcap", "--pcap-dir", "--fault-log"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        size_t len = strlen(flags[i]);
        if (strncmp(a, flags[i], len) == 0 && (a[len] == '\0' || a[len] == '=')) {
            *takes_value = a[len] == '\0' && strcmp(flags[i], "--json") != 0;
            return true;
        }
    }
    return false;
}

static void print_command(FILE *f, struct shrink *s, const size_t *subset, size_t n) {
    fprintf(f, "tcpbed sim");
    for (int i = 0; i < s->base_n; i++) {
        const char *a = s->base[i];
        fprintf(f, strpbrk(a, " '\"<>|&;$*?#()") ? " '%s'" : " %s", a);
    }
    for (size_t i = 0; i < n; i++) fprintf(f, " --fault '%s'", s->faults[subset[i]]);
    fputc('\n', f);
}

int cmd_shrink(int argc, char **argv) {
    int dashes = -1;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dashes = i;
            break;
        }
    uint64_t max_runs = 2000;
    tb_time_ns timeout = 600 * TB_NS_PER_S;
    const struct opt opts[] = {
        {"max-runs", OPT_U64, &max_runs, "N", "stop after this many trial runs (default 2000)", 1, 1000000},
        {"timeout", OPT_DURATION, &timeout, "TIME", "wall-clock limit per trial run (default 10m)", 1, 0},
    };
    int rc = opts_parse("tcpbed shrink",
                        "Reduces a failing simulation to a minimal list of targeted faults that still fails\n"
                        "the same way, and prints it as a ready command line.\n"
                        "usage: tcpbed shrink [options] -- SCENARIO [sim options, --seed included]",
                        opts, (int)(sizeof(opts) / sizeof(opts[0])), dashes < 0 ? argc : dashes, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if (dashes < 0 || dashes + 1 >= argc) {
        fprintf(stderr, "tcpbed shrink: expected '-- SCENARIO [sim options]', e.g. -- bulk --loss 0.05 --seed 3 "
                        "--expect 'rto_timeouts==0'\nTry 'tcpbed shrink --help'.\n");
        return 2;
    }
    struct shrink *s = calloc(1, sizeof(*s));
    if (s == NULL) return 1;
    s->max_runs = max_runs;
    s->timeout_s = (double)timeout / 1e9;
    char **sim = argv + dashes + 1;
    int sim_n = argc - dashes - 1;
    if (sim_n > 250) {
        fprintf(stderr, "tcpbed shrink: at most 250 sim arguments\n");
        free(s);
        return 2;
    }

    /* 1. The original run, recording its faults. */
    char record[] = "/tmp/tcpbed-shrink-XXXXXX";
    int fd = mkstemp(record);
    if (fd < 0) {
        fprintf(stderr, "tcpbed shrink: cannot create a temporary file\n");
        free(s);
        return 1;
    }
    close(fd);
    s->base = malloc(sizeof(char *) * (size_t)(sim_n + 4));
    int n = 0;
    for (int i = 0; i < sim_n; i++) s->base[n++] = sim[i];
    s->base[n++] = "--record-faults";
    s->base[n++] = record;
    s->base_n = n;
    fails_same(s, NULL, 0);
    s->base_n = sim_n;
    if (s->last_exit == 2) {
        fprintf(stderr, "tcpbed shrink: the sim arguments are a usage error; run them to see it: tcpbed sim");
        for (int i = 0; i < sim_n; i++) fprintf(stderr, " %s", sim[i]);
        fprintf(stderr, "\n");
        unlink(record);
        free(s->base);
        free(s);
        return 2;
    }
    if (s->last_pass || s->last_sig[0] == '\0') {
        fprintf(stderr, "tcpbed shrink: the run %s: nothing to shrink\n",
                s->last_pass ? "passes" : "gave no result (is it a sim scenario?)");
        unlink(record);
        free(s->base);
        free(s);
        return 2;
    }
    snprintf(s->signature, sizeof(s->signature), "%s", s->last_sig);
    FILE *f = fopen(record, "r");
    char line[512];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL && s->fault_n < SHRINK_MAX_FAULTS) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] != '\0') s->faults[s->fault_n++] = strdup(line);
    }
    if (f != NULL) fclose(f);
    unlink(record);
    printf("shrink: the run fails with: %s\n", s->signature);
    printf("shrink: %zu fault(s) fired\n", s->fault_n);

    /* 2. The same failure from the recorded faults alone. */
    n = 0;
    for (int i = 0; i < sim_n; i++) {
        bool takes_value;
        if (is_random_fault_flag(sim[i], &takes_value)) {
            if (takes_value) i++;
            continue;
        }
        s->base[n++] = sim[i];
    }
    s->base_n = n;
    size_t *set = malloc((s->fault_n + 1) * sizeof(*set));
    for (size_t i = 0; i < s->fault_n; i++) set[i] = i;
    if (!fails_same(s, set, s->fault_n)) {
        printf("shrink: replaying the %zu recorded faults does not fail the same way (got: %s); "
               "cannot shrink this run\n",
               s->fault_n, s->last_pass ? "pass" : s->last_sig);
        free(set);
        free(s->base);
        free(s);
        return 1;
    }
    /* 3. Minimise. */
    size_t kept = ddmin(s, set, s->fault_n);
    bool confirmed = fails_same(s, set, kept);
    printf("shrink: %zu fault(s) of %zu still fail the same way (%llu trial runs%s)\n", kept, s->fault_n,
           (unsigned long long)s->runs, s->runs >= s->max_runs ? ", stopped at --max-runs" : "");
    printf("reproduce with: ");
    print_command(stdout, s, set, kept);
    if (!confirmed) printf("shrink: warning: the final command did not fail the same way when re-run\n");
    for (size_t i = 0; i < s->fault_n; i++) free(s->faults[i]);
    free(set);
    free(s->base);
    free(s);
    return confirmed ? 0 : 1;
}
