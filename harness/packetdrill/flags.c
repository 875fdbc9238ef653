/* harness/packetdrill: --so_flags (flags.h). */
#include "harness/packetdrill/flags.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN                                                                                      \
    "seed, profile, local_ip, mtu, rto_min_ms, rto_initial_ms, delack_ms, sack, timestamps, wscale, ecn, " \
    "cc, iw, spin_usecs, receive_wait_s, block_wait_s, block_timeout_ms, verbose"

static bool num(const char *v, int64_t lo, int64_t hi, int64_t *out) {
    if (*v == '\0') return false;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end != '\0' || x < lo || x > hi) return false;
    *out = x;
    return true;
}

static bool ipv4(const char *v, uint32_t *out) {
    unsigned a[4];
    char tail;
    if (sscanf(v, "%u.%u.%u.%u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4) return false;
    for (int i = 0; i < 4; i++)
        if (a[i] > 255) return false;
    *out = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
    return *out != 0;
}

bool tb_pd_flags_parse(const char *s, struct tb_pd_flags *o, char *err, size_t err_len) {
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->mtu = o->rto_min_ms = o->rto_initial_ms = o->delack_ms = o->iw = -1;
    o->sack = o->timestamps = o->wscale = o->ecn = o->cc = -1;
    o->spin_usecs = 20;
    o->receive_horizon_ns = 600 * TB_NS_PER_S;
    o->block_horizon_ns = 600 * TB_NS_PER_S;
    o->block_timeout_ms = 5000;
    if (s == NULL) return true;
    char word[128];
    const char *p = s;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (*p == '\0') break;
        size_t n = strcspn(p, " ,\t");
        if (n >= sizeof(word)) {
            snprintf(err, err_len, "flag '%.40s...' is too long", p);
            return false;
        }
        memcpy(word, p, n);
        word[n] = '\0';
        p += n;
        char *eq = strchr(word, '=');
        if (eq == NULL) {
            snprintf(err, err_len, "flag '%s' is not key=value (known: %s)", word, KNOWN);
            return false;
        }
        *eq = '\0';
        const char *k = word, *v = eq + 1;
        int64_t x = 0;
        bool ok = true;
        if (strcmp(k, "seed") == 0) {
            char *end;
            unsigned long long u = strtoull(v, &end, 10);
            ok = *v != '\0' && *end == '\0' && v[0] != '-';
            o->seed = u;
        } else if (strcmp(k, "profile") == 0) ok = tb_check_profile_parse(v, &o->profile);
        else if (strcmp(k, "local_ip") == 0) ok = ipv4(v, &o->local_ip);
        else if (strcmp(k, "mtu") == 0) ok = num(v, 68, 1500, &o->mtu);
        else if (strcmp(k, "rto_min_ms") == 0) ok = num(v, 1, 86400000, &o->rto_min_ms);
        else if (strcmp(k, "rto_initial_ms") == 0) ok = num(v, 1, 86400000, &o->rto_initial_ms);
        else if (strcmp(k, "delack_ms") == 0) ok = num(v, 0, 499, &o->delack_ms);
        else if (strcmp(k, "iw") == 0) ok = num(v, 0, 1000, &o->iw);
        else if (strcmp(k, "spin_usecs") == 0) ok = num(v, 0, 1000000, &o->spin_usecs);
        else if (strcmp(k, "receive_wait_s") == 0) {
            ok = num(v, 1, 86400, &x);
            o->receive_horizon_ns = x * TB_NS_PER_S;
        } else if (strcmp(k, "block_wait_s") == 0) {
            ok = num(v, 1, 86400, &x);
            o->block_horizon_ns = x * TB_NS_PER_S;
        }
        else if (strcmp(k, "block_timeout_ms") == 0) ok = num(v, 1, 3600000, &o->block_timeout_ms);
        else if (strcmp(k, "verbose") == 0) {
            ok = num(v, 0, 1, &x);
            o->verbose = (int)x;
        }
        else if (strcmp(k, "sack") == 0 || strcmp(k, "timestamps") == 0 || strcmp(k, "wscale") == 0 ||
                 strcmp(k, "ecn") == 0) {
            ok = num(v, 0, 1, &x);
            int *slot = k[0] == 's' ? &o->sack : k[0] == 't' ? &o->timestamps : k[0] == 'w' ? &o->wscale : &o->ecn;
            *slot = (int)x;
        } else if (strcmp(k, "cc") == 0) {
            uint8_t a;
            ok = tb_cc_parse(v, &a);
            o->cc = a;
        } else {
            snprintf(err, err_len, "unknown flag '%s' (known: %s)", k, KNOWN);
            return false;
        }
        if (!ok) {
            snprintf(err, err_len, "bad value '%s' for flag '%s'", v, k);
            return false;
        }
    }
    return true;
}

void tb_pd_flags_apply(const struct tb_pd_flags *f, struct tb_config *cfg) {
    cfg->seed = f->seed;
    if (f->local_ip != 0) cfg->ipv4_addr = f->local_ip;
    if (f->mtu >= 0) cfg->mtu = (uint16_t)f->mtu;
    if (f->rto_min_ms >= 0) cfg->tcp_rto_min_ns = f->rto_min_ms * TB_NS_PER_MS;
    if (f->rto_initial_ms >= 0) cfg->tcp_rto_initial_ns = f->rto_initial_ms * TB_NS_PER_MS;
    if (f->delack_ms >= 0) cfg->tcp_delack_ns = f->delack_ms * TB_NS_PER_MS;
    if (f->iw >= 0) cfg->tcp_initial_cwnd_segs = (uint32_t)f->iw;
    if (f->sack >= 0) cfg->tcp_sack = f->sack != 0;
    if (f->timestamps >= 0) cfg->tcp_timestamps = f->timestamps != 0;
    if (f->wscale >= 0) cfg->tcp_window_scaling = f->wscale != 0;
    if (f->ecn >= 0) cfg->tcp_ecn = f->ecn != 0;
    if (f->cc >= 0) cfg->tcp_cc = (uint8_t)f->cc;
}
