/* Pieces every tcpbed command shares: output helpers and the
 * reproduction line. */
#ifndef TB_CLI_CLI_H
#define TB_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/cli/json.h"
#include "harness/cli/metrics.h"
#include "harness/lib/version.h"
#include "sim/sim.h"
#include "tcpbed/tcpbed.h"

/* Seeds are written as JSON integers, which JSON readers (jansson among
 * them) hold as signed 64-bit: a larger seed could not be read back. */
#define TB_SEED_MAX ((uint64_t)INT64_MAX)

double wall_seconds(void);
void json_stats(struct json *j, const char *key, const struct tb_stats *s);
void json_link(struct json *j, const char *key, const struct sim_link_stats *l);
/* "hosts" {A, B} and "link" {A>B, B>A}: the two-host runs' counters. */
void json_two_hosts(struct json *j, const struct tb_stats *a, const struct tb_stats *b,
                    const struct sim_link_stats *ab, const struct sim_link_stats *ba);
void json_tcp_info(struct json *j, const char *key, const struct tb_tcp_info *t);
void print_drops(const char *host, const struct tb_stats *s);
void metrics_stats(struct metrics *ms, const char *prefix, const struct tb_stats *s);
void metrics_link(struct metrics *ms, const char *prefix, const struct sim_link_stats *l);
void metrics_tcp_info(struct metrics *ms, const char *prefix, const struct tb_tcp_info *t);
/* A failure's signature: what failed, with numbers taken out, so a sweep
 * can group failures that are the same bug. */
void failure_signature(const char *what, char *out, size_t len);
/* Prints "reproduce with: tcpbed <words> <args...>" with shell quoting. */
void print_repro(FILE *f, const char *words, int argc, char **argv);
/* "tcpbed <words> <args...>" with the same quoting, as a string the caller
 * frees (a run-log's header keeps it); NULL when out of memory. */
char *cli_command_line(const char *words, int argc, char **argv);
/* mkdir -p PATH: 0 when PATH is (now) a directory, -1 with err set. */
int cli_mkdir_p(const char *path, char *err, size_t errlen);

int cmd_sim_ping(int argc, char **argv);
int cmd_sim_bulk(int argc, char **argv);
int cmd_sim_dumbbell(int argc, char **argv);
int cmd_sim_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_shrink(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_fuzz_to_pcap(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_tap(int argc, char **argv);
int cmd_wire(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif
