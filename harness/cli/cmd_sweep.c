/* tcpbed sweep: one simulation over many seeds, in parallel processes.
 *
 *   tcpbed sweep --seeds 1..10000 [--jobs N] [--shard K/N] [--out FILE] -- bulk --loss 0.05 ...
 *   tcpbed sweep --merge FILE...
 *
 * Each run is `tcpbed sim <args> --seed S --json` in its own process. Runs
 * are grouped by failure signature (what failed, numbers taken out) and each
 * group prints the command line that reproduces its first seed. --shard K/N
 * runs every N-th seed starting at the K-th, so N machines (a Slurm job
 * array, GNU parallel over ssh) split one sweep; --out writes one JSON line
 * per seed, and --merge combines such files into one report. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "harness/cli/runner.h"

#define SIG_MAX 64

struct sig_group {
    char signature[320];
    char failure[320];
    uint64_t count;
    uint64_t first_seed;
    char repro[2048];
};

struct sweep {
    uint64_t first, last, shard_k, shard_n;
    uint64_t *seeds;
    size_t count;
    char **sim_args;
    int sim_argc;
    char seed_text[32];
    char *argv[256];
    uint64_t passed, failed, usage_errors;
    struct sig_group groups[SIG_MAX];
    size_t group_count;
    FILE *out;
    bool tty;
    double started;
    size_t done;
};

static void build_repro(const struct sweep *sw, uint64_t seed, char *out, size_t len) {
    size_t n = (size_t)snprintf(out, len, "tcpbed sim");
    for (int i = 0; i < sw->sim_argc && n < len; i++) {
        const char *a = sw->sim_args[i];
        bool quote = strpbrk(a, " '\"<>|&;$*?#()") != NULL || a[0] == '\0';
        n += (size_t)snprintf(out + n, len - n, quote ? " '%s'" : " %s", a);
    }
    if (n < len) snprintf(out + n, len - n, " --seed %llu", (unsigned long long)seed);
}

static void add_failure(struct sweep *sw, uint64_t seed, const char *signature, const char *failure, const char *repro) {
    for (size_t i = 0; i < sw->group_count; i++) {
        if (strcmp(sw->groups[i].signature, signature) == 0) {
            sw->groups[i].count++;
            if (seed < sw->groups[i].first_seed) {
                sw->groups[i].first_seed = seed;
                snprintf(sw->groups[i].repro, sizeof(sw->groups[i].repro), "%s", repro);
                snprintf(sw->groups[i].failure, sizeof(sw->groups[i].failure), "%s", failure);
            }
            return;
        }
    }
    if (sw->group_count == SIG_MAX) return;
    struct sig_group *g = &sw->groups[sw->group_count++];
    snprintf(g->signature, sizeof(g->signature), "%s", signature);
    snprintf(g->failure, sizeof(g->failure), "%s", failure);
    snprintf(g->repro, sizeof(g->repro), "%s", repro);
    g->count = 1;
    g->first_seed = seed;
}

static char **argv_for(void *ctx, size_t job) {
    struct sweep *sw = ctx;
    int n = 0;
    sw->argv[n++] = (char *)runner_self();
    sw->argv[n++] = "sim";
    for (int i = 0; i < sw->sim_argc && n < 250; i++) sw->argv[n++] = sw->sim_args[i];
    snprintf(sw->seed_text, sizeof(sw->seed_text), "%llu", (unsigned long long)sw->seeds[job]);
    sw->argv[n++] = "--seed";
    sw->argv[n++] = sw->seed_text;
    sw->argv[n++] = "--json";
    sw->argv[n] = NULL;
    return sw->argv;
}

static void progress(struct sweep *sw) {
    double elapsed = wall_seconds() - sw->started;
    double rate = elapsed > 0 ? (double)sw->done / elapsed : 0;
    if (sw->tty) {
        int width = 30, filled = (int)(width * (double)sw->done / (double)sw->count);
        fprintf(stderr, "\r[%.*s%*s] %zu/%zu  passed %llu  failed %llu  %.1f runs/s ", filled,
                "##############################", width - filled, "", sw->done, sw->count,
                (unsigned long long)sw->passed, (unsigned long long)sw->failed, rate);
        if (sw->done == sw->count) fputc('\n', stderr);
    } else if (sw->done == sw->count || sw->done % (sw->count / 10 + 1) == 0) {
        fprintf(stderr, "sweep progress: %zu/%zu runs, %llu failed, %.1f runs/s\n", sw->done, sw->count,
                (unsigned long long)sw->failed, rate);
    }
}

static void done(void *ctx, size_t job, struct run_result *r) {
    struct sweep *sw = ctx;
    uint64_t seed = sw->seeds[job];
    bool pass = false;
    char signature[320] = "", failure[320] = "";
    if (r->exit_code == 0 || r->exit_code == 1) {
        json_t *res = json_loads(r->out, 0, NULL);
        if (!tb_json_get_bool(res, "pass", &pass)) snprintf(failure, sizeof(failure), "no JSON result");
        tb_json_get_string(res, "signature", signature, sizeof(signature));
        tb_json_get_string(res, "failure", failure, sizeof(failure));
        json_decref(res);
    } else if (r->timed_out) {
        snprintf(failure, sizeof(failure), "run timed out (wall clock)");
    } else if (r->exit_code < 0) {
        snprintf(failure, sizeof(failure), "crashed with signal %d", r->term_signal);
    } else if (r->exit_code == 2) {
        snprintf(failure, sizeof(failure), "usage error (run the reproduction line to see it)");
        sw->usage_errors++;
    } else {
        snprintf(failure, sizeof(failure), "exited with status %d", r->exit_code);
    }
    if (!pass && signature[0] == '\0') snprintf(signature, sizeof(signature), "%s", failure);
    char repro[2048];
    build_repro(sw, seed, repro, sizeof(repro));
    if (pass) sw->passed++;
    else {
        sw->failed++;
        add_failure(sw, seed, signature, failure, repro);
    }
    if (sw->out != NULL) {
        struct json j;
        json_begin(&j, sw->out);
        json_u64(&j, "seed", seed);
        json_bool(&j, "pass", pass);
        json_str(&j, "signature", signature);
        json_str(&j, "failure", failure);
        json_str(&j, "repro", repro);
        json_end(&j);
    }
    free(r->out);
    sw->done++;
    progress(sw);
}

static void report(struct sweep *sw, double elapsed) {
    printf("sweep: %llu passed, %llu failed, of %llu seeds in %.1f s\n", (unsigned long long)sw->passed,
           (unsigned long long)sw->failed, (unsigned long long)(sw->passed + sw->failed), elapsed);
    for (size_t i = 0; i < sw->group_count; i++) {
        struct sig_group *g = &sw->groups[i];
        printf("\nfailure %zu: %llu seed(s): %s\n  first seed %llu fails with: %s\n  reproduce with: %s\n", i + 1,
               (unsigned long long)g->count, g->signature, (unsigned long long)g->first_seed, g->failure, g->repro);
    }
}

static bool parse_range(const char *s, uint64_t *a, uint64_t *b) {
    char *end;
    *a = strtoull(s, &end, 10);
    if (end == s) return false;
    if (*end == '\0') {
        *b = *a;
        return true;
    }
    if (strncmp(end, "..", 2) != 0) return false;
    const char *t = end + 2;
    *b = strtoull(t, &end, 10);
    return end != t && *end == '\0' && *b >= *a;
}

/* One line of an --out file: an object with an integer "seed" and a boolean
 * "pass", and the strings "signature", "failure" and "repro" of a failure. */
static int merge_line(struct sweep *sw, const char *path, int lineno, const char *line) {
    json_error_t e;
    json_t *rec = json_loads(line, 0, &e);
    if (rec == NULL) {
        fprintf(stderr, "tcpbed sweep --merge: %s:%d:%d: not JSON: %s (expected a line written by --out)\n", path,
                lineno, e.column, e.text);
        return 2;
    }
    bool pass;
    json_t *seed = json_object_get(rec, "seed");
    if (!json_is_integer(seed) || json_integer_value(seed) < 0 || !tb_json_get_bool(rec, "pass", &pass)) {
        fprintf(stderr,
                "tcpbed sweep --merge: %s:%d: expected a line written by --out (an object with an integer "
                "\"seed\" and a boolean \"pass\")\n",
                path, lineno);
        json_decref(rec);
        return 2;
    }
    char sig[320] = "", failure[320] = "", repro[2048] = "";
    tb_json_get_string(rec, "signature", sig, sizeof(sig));
    tb_json_get_string(rec, "failure", failure, sizeof(failure));
    tb_json_get_string(rec, "repro", repro, sizeof(repro));
    if (pass) sw->passed++;
    else {
        sw->failed++;
        add_failure(sw, (uint64_t)json_integer_value(seed), sig, failure, repro);
    }
    json_decref(rec);
    return 0;
}

static int merge(int argc, char **argv) {
    struct sweep *sw = calloc(1, sizeof(*sw));
    if (sw == NULL) return 1;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        FILE *f = fopen(argv[i], "r");
        if (f == NULL) {
            fprintf(stderr, "tcpbed sweep --merge: cannot read '%s'\n", argv[i]);
            rc = 1;
            break;
        }
        int lineno = 0;
        while (rc == 0 && getline(&line, &cap, f) != -1) rc = merge_line(sw, argv[i], ++lineno, line);
        fclose(f);
    }
    free(line);
    if (rc == 0) {
        report(sw, 0);
        rc = sw->failed == 0 ? 0 : 1;
    }
    free(sw);
    return rc;
}

int cmd_sweep(int argc, char **argv) {
    if (argc >= 1 && strcmp(argv[0], "--merge") == 0) {
        if (argc < 2) {
            fprintf(stderr, "tcpbed sweep --merge: expected one or more files written by --out\n");
            return 2;
        }
        return merge(argc - 1, argv + 1);
    }
    int dashes = -1;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dashes = i;
            break;
        }
    const char *seeds = NULL, *shard = NULL, *out_path = NULL;
    uint64_t jobs = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
    tb_time_ns timeout = 600 * TB_NS_PER_S;
    const struct opt opts[] = {
        {"seeds", OPT_STRING, &seeds, "A..B", "seeds to run, e.g. 1..500", 0, 0},
        {"jobs", OPT_U64, &jobs, "N", "runs at once (default: the number of CPUs)", 1, 64},
        {"shard", OPT_STRING, &shard, "K/N", "run only the K-th of N interleaved slices of the seeds", 0, 0},
        {"out", OPT_STRING, &out_path, "FILE", "write one JSON line per seed (for --merge)", 0, 0},
        {"timeout", OPT_DURATION, &timeout, "TIME", "wall-clock limit per run (default 10m)", 1, 0},
    };
    int rc = opts_parse("tcpbed sweep",
                        "Runs `tcpbed sim ARGS --seed S` for every seed, in parallel, and groups the failures.\n"
                        "usage: tcpbed sweep --seeds A..B [options] -- SCENARIO [sim options]\n"
                        "       tcpbed sweep --merge FILE...",
                        opts, (int)(sizeof(opts) / sizeof(opts[0])), dashes < 0 ? argc : dashes, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if (dashes < 0 || dashes + 1 >= argc) {
        fprintf(stderr, "tcpbed sweep: expected '-- SCENARIO [sim options]' after the sweep options, e.g. "
                        "-- bulk --loss 0.05\nTry 'tcpbed sweep --help'.\n");
        return 2;
    }
    struct sweep *sw = calloc(1, sizeof(*sw));
    if (sw == NULL) return 1;
    if (seeds == NULL || !parse_range(seeds, &sw->first, &sw->last) || sw->last - sw->first >= 100000000 ||
        sw->last > TB_SEED_MAX) {
        fprintf(stderr,
                "tcpbed sweep: --seeds: expected A..B (or one seed) with A <= B <= %llu and fewer than 100000000 "
                "seeds, got '%s'\n",
                (unsigned long long)TB_SEED_MAX, seeds ? seeds : "(none)");
        free(sw);
        return 2;
    }
    sw->shard_k = 1;
    sw->shard_n = 1;
    if (shard != NULL && (sscanf(shard, "%llu/%llu", (unsigned long long *)&sw->shard_k,
                                 (unsigned long long *)&sw->shard_n) != 2 ||
                          sw->shard_n == 0 || sw->shard_k == 0 || sw->shard_k > sw->shard_n)) {
        fprintf(stderr, "tcpbed sweep: --shard: expected K/N with 1 <= K <= N, got '%s'\n", shard);
        free(sw);
        return 2;
    }
    sw->sim_args = argv + dashes + 1;
    sw->sim_argc = argc - dashes - 1;
    for (int i = 0; i < sw->sim_argc; i++)
        if (strcmp(sw->sim_args[i], "--seed") == 0 || strncmp(sw->sim_args[i], "--seed=", 7) == 0 ||
            strcmp(sw->sim_args[i], "--json") == 0) {
            fprintf(stderr, "tcpbed sweep: leave --seed and --json out of the sim arguments: the sweep sets them\n");
            free(sw);
            return 2;
        }
    if (sw->sim_argc > 200) {
        fprintf(stderr, "tcpbed sweep: at most 200 sim arguments\n");
        free(sw);
        return 2;
    }
    uint64_t total = sw->last - sw->first + 1;
    sw->seeds = malloc(total * sizeof(*sw->seeds));
    if (sw->seeds == NULL) {
        free(sw);
        return 1;
    }
    for (uint64_t i = 0; i < total; i++)
        if (i % sw->shard_n == sw->shard_k - 1) sw->seeds[sw->count++] = sw->first + i;
    if (out_path != NULL) {
        sw->out = fopen(out_path, "w");
        if (sw->out == NULL) {
            fprintf(stderr, "tcpbed sweep: cannot write --out '%s'\n", out_path);
            free(sw->seeds);
            free(sw);
            return 1;
        }
    }
    sw->tty = isatty(STDERR_FILENO);
    sw->started = wall_seconds();
    runner_run_all(sw->count, (unsigned)jobs, (double)timeout / 1e9, argv_for, done, sw);
    if (sw->out != NULL) fclose(sw->out);
    report(sw, wall_seconds() - sw->started);
    rc = sw->failed == 0 ? 0 : 1;
    if (sw->usage_errors > 0) {
        /* The sim arguments themselves are wrong: a usage error, not a failed run. */
        fprintf(stderr, "tcpbed sweep: %llu run(s) exited with a usage error (status 2): check the arguments after --\n",
                (unsigned long long)sw->usage_errors);
        rc = 2;
    }
    free(sw->seeds);
    free(sw);
    return rc;
}
