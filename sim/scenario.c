#include "sim/scenario.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/units.h"
#include "tcpbed/tcpbed.h"

struct loader {
    struct topo *t;
    char section[80];
    int kind;                 /* 0 none, 1 sim, 2 host, 3 router, 4 link, 5 flow, 6 faults */
    void *current;
    char err[720];
};

/* Copies a name already checked to fit. */
static void copy_name(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool parse_prob(const char *v, double *out) {
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || d < 0 || d > 1) return false;
    *out = d;
    return true;
}

static bool parse_cidr(const char *v, uint32_t *ip, uint8_t *len) {
    char buf[32];
    const char *slash = strchr(v, '/');
    if (slash == NULL || (size_t)(slash - v) >= sizeof(buf)) return false;
    memcpy(buf, v, (size_t)(slash - v));
    buf[slash - v] = '\0';
    char *end;
    long l = strtol(slash + 1, &end, 10);
    if (*end != '\0' || l < 1 || l > 32 || !tb_ipv4_parse_str(buf, ip)) return false;
    *len = (uint8_t)l;
    return true;
}

static bool yes(const char *v, bool *out) {
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0) *out = true;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0) *out = false;
    else return false;
    return true;
}

#define BAD(...)                                                                   \
    do {                                                                           \
        char what_[256];                                                           \
        snprintf(what_, sizeof(what_), __VA_ARGS__);                               \
        snprintf(L->err, sizeof(L->err), "[%s] %s: %s", L->section, name, what_);  \
        return 0;                                                                  \
    } while (0)

static int start_section(struct loader *L, const char *section) {
    struct topo *t = L->t;
    snprintf(L->section, sizeof(L->section), "%s", section);
    char word[32] = "", rest[64] = "";
    sscanf(section, "%31s %63s", word, rest);
    const char *name = "section";
    if (strcmp(word, "sim") == 0) {
        L->kind = 1;
    } else if (strcmp(word, "faults") == 0) {
        L->kind = 6;
    } else if (strcmp(word, "host") == 0 || strcmp(word, "router") == 0 || strcmp(word, "flow") == 0) {
        if (rest[0] == '\0' || strlen(rest) >= 16) BAD("expected a name of 1..15 characters after '%s'", word);
        if (strcmp(word, "host") == 0) {
            struct topo_host *h = topo_add_host(t);
            if (h == NULL) BAD("more than %d hosts (or out of memory)", TOPO_MAX_HOSTS);
            copy_name(h->name, sizeof(h->name), rest);
            h->prefix_len = 24;
            L->kind = 2;
            L->current = h;
        } else if (strcmp(word, "router") == 0) {
            struct topo_router *r = topo_add_router(t);
            if (r == NULL) BAD("more than %d routers (or out of memory)", TOPO_MAX_ROUTERS);
            copy_name(r->name, sizeof(r->name), rest);
            L->kind = 3;
            L->current = r;
        } else {
            struct topo_flow *f = topo_add_flow(t);
            if (f == NULL) BAD("more than %d flows (or out of memory)", TOPO_MAX_FLOWS);
            copy_name(f->f.name, sizeof(f->f.name), rest);
            L->kind = 5;
            L->current = f;
        }
    } else if (strcmp(word, "link") == 0) {
        const char *dash = strchr(rest, '-');
        if (dash == NULL || dash == rest || dash[1] == '\0' || (size_t)(dash - rest) >= 16 || strlen(dash + 1) >= 16)
            BAD("expected [link A-B] naming its two ends");
        struct topo_link *l = topo_add_link(t);
        if (l == NULL) BAD("more than %d links (or out of memory)", TOPO_MAX_LINKS);
        memcpy(l->a, rest, (size_t)(dash - rest));
        l->a[dash - rest] = '\0';
        copy_name(l->b, sizeof(l->b), dash + 1);
        l->ab.rate_bps = l->ba.rate_bps = 100000000;
        l->ab.delay_ns = l->ba.delay_ns = TB_NS_PER_MS;
        l->ab.queue_bytes = l->ba.queue_bytes = 256 * 1024;
        L->kind = 4;
        L->current = l;
    } else {
        BAD("expected [sim], [host NAME], [router NAME], [link A-B], [flow NAME] or [faults]");
    }
    return 1;
}

/* A link key applies to both directions, or with _ab / _ba to one. */
static int link_key(struct loader *L, struct topo_link *l, const char *name, const char *value) {
    char key[48];
    snprintf(key, sizeof(key), "%s", name);
    bool ab = true, ba = true;
    size_t n = strlen(key);
    if (n > 3 && strcmp(key + n - 3, "_ab") == 0) {
        ba = false;
        key[n - 3] = '\0';
    } else if (n > 3 && strcmp(key + n - 3, "_ba") == 0) {
        ab = false;
        key[n - 3] = '\0';
    }
    struct sim_link_params *dirs[2] = {ab ? &l->ab : NULL, ba ? &l->ba : NULL};
    char uerr[200];
    for (int i = 0; i < 2; i++) {
        struct sim_link_params *p = dirs[i];
        if (p == NULL) continue;
        uint64_t u;
        tb_time_ns d;
        double pr;
        if (strcmp(key, "rate") == 0) {
            if (!tb_parse_rate(value, &p->rate_bps, uerr, sizeof(uerr))) BAD("%s", uerr);
        } else if (strcmp(key, "delay") == 0) {
            if (!tb_parse_duration(value, &p->delay_ns, uerr, sizeof(uerr))) BAD("%s", uerr);
        } else if (strcmp(key, "jitter") == 0) {
            if (!tb_parse_duration(value, &p->jitter_ns, uerr, sizeof(uerr))) BAD("%s", uerr);
        } else if (strcmp(key, "jitter_keep_order") == 0) {
            if (!yes(value, &p->jitter_keep_order)) BAD("expected yes or no, got '%s'", value);
        } else if (strcmp(key, "queue") == 0 || strcmp(key, "ecn_mark") == 0 || strcmp(key, "red_min") == 0 ||
                   strcmp(key, "red_max") == 0) {
            if (!tb_parse_size(value, &u, uerr, sizeof(uerr)) || u > (1u << 30)) BAD("%s", uerr);
            if (strcmp(key, "queue") == 0) p->queue_bytes = (uint32_t)u;
            else if (strcmp(key, "ecn_mark") == 0) p->ecn_mark_bytes = (uint32_t)u;
            else if (strcmp(key, "red_min") == 0) p->red_min_bytes = (uint32_t)u;
            else p->red_max_bytes = (uint32_t)u;
        } else if (strcmp(key, "mtu") == 0) {
            if (!tb_parse_u64(value, &u, uerr, sizeof(uerr)) || u < 68 || u > 1500) BAD("expected 68..1500, got '%s'", value);
            p->mtu = (uint16_t)u;
        } else if (strcmp(key, "qdisc") == 0) {
            if (strcmp(value, "droptail") == 0) p->qdisc = SIM_QDISC_DROPTAIL;
            else if (strcmp(value, "red") == 0) p->qdisc = SIM_QDISC_RED;
            else BAD("expected droptail or red, got '%s'", value);
        } else if (strcmp(key, "reorder_delay") == 0) {
            if (!tb_parse_duration(value, &d, uerr, sizeof(uerr))) BAD("%s", uerr);
            p->reorder_delay_ns = d;
        } else if (strcmp(key, "burst_loss") == 0) {
            double v[4] = {0, 0, 0, 1};
            int k = sscanf(value, "%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3]);
            if (k != 2 && k != 4) BAD("expected P_GOOD_TO_BAD,P_BAD_TO_GOOD[,LOSS_GOOD,LOSS_BAD], got '%s'", value);
            for (int j = 0; j < 4; j++)
                if (v[j] < 0 || v[j] > 1) BAD("probabilities are 0..1, got '%s'", value);
            p->ge = true;
            p->ge_p_gb = v[0];
            p->ge_p_bg = v[1];
            p->ge_loss_good = v[2];
            p->ge_loss_bad = v[3];
        } else if (strcmp(key, "loss") == 0 || strcmp(key, "reorder") == 0 || strcmp(key, "duplicate") == 0 ||
                   strcmp(key, "corrupt") == 0 || strcmp(key, "red_p") == 0) {
            if (!parse_prob(value, &pr)) BAD("expected a probability 0..1, got '%s'", value);
            if (strcmp(key, "loss") == 0) p->loss = pr;
            else if (strcmp(key, "reorder") == 0) p->reorder = pr;
            else if (strcmp(key, "duplicate") == 0) p->duplicate = pr;
            else if (strcmp(key, "corrupt") == 0) p->corrupt = pr;
            else p->red_max_p = pr;
        } else {
            BAD("unknown link key (expected rate, delay, jitter, jitter_keep_order, queue, qdisc, red_min, red_max, "
                "red_p, ecn_mark, mtu, loss, burst_loss, reorder, reorder_delay, duplicate, corrupt; _ab/_ba for one "
                "direction)");
        }
    }
    return 1;
}

/* inih calls the handler only for keys, so a section holding none (a link
 * with every default) would vanish: the reader adds this key after every
 * section header, and the line numbers inih reports are mapped back. */
#define SECTION_MARK "__section__"

struct reader {
    FILE *f;
    bool inject;
    int real_line;
    int *real_of;      /* inih's line number -> the file's */
    int lines, cap;
};

static char *read_line(char *str, int num, void *stream) {
    struct reader *r = stream;
    if (r->lines == r->cap) {
        int cap = r->cap ? r->cap * 2 : 256;
        int *m = realloc(r->real_of, (size_t)(cap + 1) * sizeof(*m));
        if (m == NULL) return NULL;
        r->real_of = m;
        r->cap = cap;
    }
    if (r->inject) {
        r->inject = false;
        snprintf(str, (size_t)num, SECTION_MARK " = 1\n");
        r->real_of[++r->lines] = r->real_line;
        return str;
    }
    if (fgets(str, num, r->f) == NULL) return NULL;
    r->real_of[++r->lines] = ++r->real_line;
    const char *p = str;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '[') r->inject = true;
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
    struct loader *L = user;
    if (strcmp(section, L->section) != 0 && !start_section(L, section)) return 0;
    if (strcmp(name, SECTION_MARK) == 0) return 1;
    struct topo *t = L->t;
    char uerr[200];
    uint64_t u;
    switch (L->kind) {
    case 1:
        if (strcmp(name, "seed") == 0) {
            if (!tb_parse_u64(value, &t->seed, uerr, sizeof(uerr))) BAD("%s", uerr);
            /* Seeds go out as JSON integers: signed 64-bit in every reader. */
            if (t->seed > (uint64_t)INT64_MAX) BAD("seed %s is above 9223372036854775807", value);
        } else if (strcmp(name, "time_limit") == 0) {
            if (!tb_parse_duration(value, &t->time_limit_ns, uerr, sizeof(uerr))) BAD("%s", uerr);
        } else BAD("unknown key (expected seed or time_limit)");
        return 1;
    case 2: {
        struct topo_host *h = L->current;
        if (strcmp(name, "address") == 0) {
            if (!parse_cidr(value, &h->ipv4, &h->prefix_len)) BAD("expected an address such as 10.0.0.1/24, got '%s'", value);
        } else if (strcmp(name, "gateway") == 0) {
            if (!tb_ipv4_parse_str(value, &h->gateway)) BAD("expected an address such as 10.0.0.254, got '%s'", value);
        } else if (strcmp(name, "sndbuf") == 0 || strcmp(name, "rcvbuf") == 0) {
            if (!tb_parse_size(value, &u, uerr, sizeof(uerr)) || u < 1024 || u > (1u << 30)) BAD("expected 1K..1G, got '%s'", value);
            if (name[0] == 's') h->sndbuf_bytes = (uint32_t)u;
            else h->rcvbuf_bytes = (uint32_t)u;
        } else if (strcmp(name, "mss") == 0) {
            if (!tb_parse_u64(value, &u, uerr, sizeof(uerr)) || u < 88 || u > 1460) BAD("expected 88..1460, got '%s'", value);
            h->mss = (uint16_t)u;
        } else if (strcmp(name, "ecn") == 0) {
            if (!yes(value, &h->ecn)) BAD("expected yes or no, got '%s'", value);
        } else BAD("unknown key (expected address, gateway, sndbuf, rcvbuf, mss or ecn)");
        return 1;
    }
    case 3: {
        struct topo_router *r = L->current;
        if (strcmp(name, "port") != 0) BAD("unknown key (expected port = ADDRESS/LEN, one per port)");
        uint32_t ip;
        uint8_t len;
        if (!parse_cidr(value, &ip, &len)) BAD("expected an address such as 10.0.0.254/24, got '%s'", value);
        if (!topo_router_add_port(r, ip, len)) BAD("more than %d ports (or out of memory)", TOPO_MAX_ROUTER_PORTS);
        return 1;
    }
    case 4: return link_key(L, L->current, name, value);
    case 5: {
        struct topo_flow *tf = L->current;
        struct wl_flow *f = &tf->f;
        tb_time_ns d;
        if (strcmp(name, "type") == 0) {
            if (!wl_kind_parse(value, &f->kind)) BAD("expected bulk, rr, crr or idle, got '%s'", value);
        } else if (strcmp(name, "from") == 0 || strcmp(name, "to") == 0) {
            if (strlen(value) >= 16) BAD("host names have at most 15 characters");
            copy_name(name[0] == 'f' ? tf->client : tf->server, 16, value);
        } else if (strcmp(name, "bytes") == 0 || strcmp(name, "response") == 0) {
            if (!tb_parse_size(value, &u, uerr, sizeof(uerr))) BAD("%s", uerr);
            if (name[0] == 'b') f->bytes = u;
            else f->resp_bytes = u;
        } else if (strcmp(name, "count") == 0 || strcmp(name, "parallel") == 0 || strcmp(name, "port") == 0) {
            if (!tb_parse_u64(value, &u, uerr, sizeof(uerr)) || u > 1000000 || (name[1] == 'o' && (u == 0 || u > 65535)))
                BAD("expected a whole number in range, got '%s'", value);
            if (strcmp(name, "count") == 0) f->count = (uint32_t)u;
            else if (strcmp(name, "parallel") == 0) f->parallel = (uint32_t)u;
            else f->port = (uint16_t)u;
        } else if (strcmp(name, "think") == 0 || strcmp(name, "duration") == 0 || strcmp(name, "start") == 0) {
            if (!tb_parse_duration(value, &d, uerr, sizeof(uerr))) BAD("%s", uerr);
            if (name[0] == 't') f->think_ns = d;
            else if (name[0] == 'd') f->duration_ns = d;
            else f->start_ns = d;
        } else if (strcmp(name, "both_ways") == 0) {
            if (!yes(value, &f->both_ways)) BAD("expected yes or no, got '%s'", value);
        } else BAD("unknown key (expected type, from, to, bytes, response, count, parallel, think, duration, start, "
                   "both_ways or port)");
        return 1;
    }
    case 6:
        if (strcmp(name, "fault") != 0) BAD("unknown key (expected fault = SPEC, see docs/faults.md)");
        if (!topo_add_fault(t, value)) BAD("more than %d faults", TOPO_MAX_FAULTS);
        return 1;
    default: return 0;
    }
}

bool scenario_load(const char *path, struct topo *t, char *err, size_t err_len) {
    struct loader L;
    memset(&L, 0, sizeof(L));
    L.t = t;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_len, "cannot read scenario '%s'", path);
        return false;
    }
    struct reader rd = {.f = f};
    int line = ini_parse_stream(read_line, &rd, handler, &L);
    fclose(f);
    if (line != 0) {
        int real = line > 0 && line <= rd.lines ? rd.real_of[line] : line;
        free(rd.real_of);
        if (L.err[0] == '\0') snprintf(L.err, sizeof(L.err), "expected [section], KEY = VALUE, or a ; or # comment");
        snprintf(err, err_len, "%s:%d: %s", path, real, L.err);
        return false;
    }
    free(rd.real_of);
    for (int i = 0; i < t->nflows; i++)
        if (t->flows[i].client[0] == '\0' || t->flows[i].server[0] == '\0') {
            snprintf(err, err_len, "%s: [flow %s] needs from = HOST and to = HOST", path, t->flows[i].f.name);
            return false;
        }
    if (t->nflows == 0) {
        snprintf(err, err_len, "%s: no [flow NAME] sections: nothing to run", path);
        return false;
    }
    return true;
}
