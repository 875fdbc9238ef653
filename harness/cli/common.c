#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness/cli/cli.h"

double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void json_stats(struct json *j, const char *key, const struct tb_stats *s) {
    json_obj_open(j, key);
    struct tb_counter list[64];
    size_t n = tb_stats_list(s, list, 64);
    for (size_t i = 0; i < n && i < 64; i++) json_u64(j, list[i].name, list[i].value);
    json_obj_open(j, "drops");
    for (int r = 0; r < TB_DROP__COUNT; r++)
        if (s->drops[r] != 0) json_u64(j, tb_drop_reason_name((enum tb_drop_reason)r), s->drops[r]);
    json_obj_close(j);
    json_obj_close(j);
}

void json_link(struct json *j, const char *key, const struct sim_link_stats *l) {
    json_obj_open(j, key);
    json_u64(j, "offered", l->offered);
    json_u64(j, "delivered", l->delivered);
    json_u64(j, "bytes_delivered", l->bytes_delivered);
    json_u64(j, "queue_drops", l->queue_drops);
    json_u64(j, "hook_drops", l->hook_drops);
    json_u64(j, "rx_nobuf_drops", l->rx_nobuf_drops);
    json_u64(j, "loss_drops", l->loss_drops);
    json_u64(j, "fault_drops", l->fault_drops);
    json_u64(j, "blackout_drops", l->blackout_drops);
    json_u64(j, "mtu_drops", l->mtu_drops);
    json_u64(j, "red_drops", l->red_drops);
    json_u64(j, "reordered", l->reordered);
    json_u64(j, "duplicated", l->duplicated);
    json_u64(j, "corrupted", l->corrupted);
    json_u64(j, "delayed", l->delayed);
    json_u64(j, "ecn_marked", l->ecn_marked);
    json_obj_close(j);
}

void print_drops(const char *host, const struct tb_stats *s) {
    for (int r = 0; r < TB_DROP__COUNT; r++)
        if (s->drops[r] != 0)
            printf("host %s dropped %llu frame(s): %s\n", host, (unsigned long long)s->drops[r],
                   tb_drop_reason_name((enum tb_drop_reason)r));
}

void json_tcp_info(struct json *j, const char *key, const struct tb_tcp_info *t) {
    char ip[16];
    json_obj_open(j, key);
    json_str(j, "state", tb_tcp_state_name(t->state));
    json_str(j, "error", t->error ? tb_err_name(t->error) : "none");
    json_str(j, "local", tb_ipv4_str(t->local_ipv4, ip));
    json_u64(j, "local_port", t->local_port);
    json_u64(j, "remote_port", t->remote_port);
    json_u64(j, "iss", t->iss);
    json_u64(j, "irs", t->irs);
    json_u64(j, "mss_bytes", t->mss_bytes);
    json_bool(j, "window_scaling", t->ws_ok);
    json_u64(j, "snd_wscale", t->snd_wscale);
    json_u64(j, "rcv_wscale", t->rcv_wscale);
    json_bool(j, "timestamps", t->ts_ok);
    json_bool(j, "sack", t->sack_ok);
    json_bool(j, "syncookie", t->syncookie);
    json_i64(j, "srtt_ns", t->srtt_ns);
    json_i64(j, "rttvar_ns", t->rttvar_ns);
    json_i64(j, "rto_ns", t->rto_ns);
    json_u64(j, "cwnd_bytes", t->cwnd_bytes);
    json_u64(j, "ssthresh_bytes", t->ssthresh_bytes == UINT32_MAX ? 0 : t->ssthresh_bytes);
    json_u64(j, "bytes_sent", t->bytes_sent);
    json_u64(j, "bytes_acked", t->bytes_acked);
    json_u64(j, "bytes_received", t->bytes_received);
    json_u64(j, "segs_out", t->segs_out);
    json_u64(j, "segs_in", t->segs_in);
    json_u64(j, "data_segs_out", t->data_segs_out);
    json_u64(j, "data_segs_in", t->data_segs_in);
    json_u64(j, "retransmits", t->retransmits);
    json_u64(j, "retransmitted_bytes", t->retransmitted_bytes);
    json_u64(j, "rto_timeouts", t->rto_timeouts);
    json_u64(j, "dup_acks", t->dup_acks);
    json_u64(j, "ooo_segs", t->ooo_segs);
    json_u64(j, "zero_window_probes", t->zero_window_probes);
    json_u64(j, "challenge_acks", t->challenge_acks);
    json_u64(j, "fast_retransmits", t->fast_retransmits);
    json_u64(j, "rack_losses", t->rack_losses);
    json_u64(j, "tlp_probes", t->tlp_probes);
    json_u64(j, "spurious_undos", t->spurious_undos);
    json_u64(j, "dsacks", t->dsacks);
    json_u64(j, "sacked_bytes", t->sacked_bytes);
    json_bool(j, "ecn", t->ecn_ok);
    json_u64(j, "ecn_ce_marks", t->ecn_ce_marks);
    json_u64(j, "ecn_reductions", t->ecn_reductions);
    json_obj_close(j);
}

void metrics_stats(struct metrics *ms, const char *prefix, const struct tb_stats *s) {
    char name[96];
    struct tb_counter list[128];
    size_t n = tb_stats_list(s, list, 128);
    for (size_t i = 0; i < n && i < 128; i++) {
        snprintf(name, sizeof(name), "%s.%s", prefix, list[i].name);
        metrics_add(ms, name, (double)list[i].value);
    }
    for (int r = 0; r < TB_DROP__COUNT; r++) {
        snprintf(name, sizeof(name), "%s.drops.%s", prefix, tb_drop_reason_name((enum tb_drop_reason)r));
        metrics_add(ms, name, (double)s->drops[r]);
    }
}

void metrics_link(struct metrics *ms, const char *prefix, const struct sim_link_stats *l) {
    char name[96];
#define L(field)                                                   \
    snprintf(name, sizeof(name), "%s.%s", prefix, #field);         \
    metrics_add(ms, name, (double)l->field);
    L(offered) L(delivered) L(bytes_delivered) L(queue_drops) L(hook_drops) L(rx_nobuf_drops) L(loss_drops)
    L(fault_drops) L(blackout_drops) L(mtu_drops) L(red_drops) L(reordered) L(duplicated) L(corrupted) L(delayed)
    L(ecn_marked)
#undef L
}

void metrics_tcp_info(struct metrics *ms, const char *prefix, const struct tb_tcp_info *t) {
    char name[96];
#define T(field)                                                   \
    snprintf(name, sizeof(name), "%s.%s", prefix, #field);         \
    metrics_add(ms, name, (double)t->field);
    T(state) T(mss_bytes) T(srtt_ns) T(rttvar_ns) T(rto_ns) T(cwnd_bytes) T(bytes_sent) T(bytes_acked)
    T(bytes_received) T(segs_out) T(segs_in) T(data_segs_out) T(data_segs_in) T(retransmits)
    T(retransmitted_bytes) T(rto_timeouts) T(dup_acks) T(ooo_segs) T(zero_window_probes) T(keepalive_probes)
    T(challenge_acks) T(backoff) T(fast_retransmits) T(rack_losses) T(tlp_probes) T(spurious_undos) T(dsacks)
    T(sacked_bytes) T(ecn_ce_marks) T(ecn_reductions)
#undef T
}

/* " arg arg 'a b'": each argument as a shell reads it back. */
static void put_quoted_args(FILE *f, int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool plain = a[0] != '\0';
        for (const char *p = a; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_./=:,+", *p)))
                plain = false;
        if (plain) {
            fprintf(f, " %s", a);
            continue;
        }
        fputs(" '", f);
        for (const char *p = a; *p; p++) {
            if (*p == '\'') fputs("'\\''", f);
            else fputc(*p, f);
        }
        fputc('\'', f);
    }
}

void print_repro(FILE *f, const char *words, int argc, char **argv) {
    fprintf(f, "reproduce with: tcpbed %s", words);
    put_quoted_args(f, argc, argv);
    fputc('\n', f);
}

char *cli_command_line(const char *words, int argc, char **argv) {
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (f == NULL) return NULL;
    fprintf(f, "tcpbed %s", words);
    put_quoted_args(f, argc, argv);
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* A failure's signature: what failed, with numbers taken out, so a sweep
 * can group failures that are the same bug. */
void failure_signature(const char *what, char *out, size_t len) {
    size_t n = 0;
    bool in_number = false;
    for (const char *p = what; *p && n + 2 < len; p++) {
        if (isdigit((unsigned char)*p)) {
            if (!in_number) out[n++] = 'N';
            in_number = true;
        } else {
            out[n++] = *p;
            in_number = false;
        }
    }
    out[n] = '\0';
}

void json_two_hosts(struct json *j, const struct tb_stats *a, const struct tb_stats *b,
                    const struct sim_link_stats *ab, const struct sim_link_stats *ba) {
    json_obj_open(j, "hosts");
    json_stats(j, "A", a);
    json_stats(j, "B", b);
    json_obj_close(j);
    json_obj_open(j, "link");
    json_link(j, "A>B", ab);
    json_link(j, "B>A", ba);
    json_obj_close(j);
}

/* mkdir -p: creates path and every missing parent (mode 0777 & ~umask).
 * 0 when path is (now) a directory; -1 with err naming what failed. */
int cli_mkdir_p(const char *path, char *err, size_t errlen) {
    char buf[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf)) {
        snprintf(err, errlen, "directory name '%s' is empty or too long", path);
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        if (buf[i - 1] == '/') continue;   /* "a//b", a trailing '/' */
        char saved = buf[i];
        buf[i] = '\0';
        struct stat sb;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory '%s': %s", buf, strerror(errno));
            return -1;
        }
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "'%s' exists and is not a directory", buf);
            return -1;
        }
        buf[i] = saved;
    }
    return 0;
}
