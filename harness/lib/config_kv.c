#include "harness/lib/config_kv.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(member, kind) \
    {#member, offsetof(struct tb_config, member), sizeof(((struct tb_config *)0)->member), kind}

const struct tb_config_kv_field tb_config_kv_fields[] = {
    FIELD(seed, TB_KV_U64),
    FIELD(mac, TB_KV_MAC),
    FIELD(ipv4_addr, TB_KV_IPV4),
    FIELD(ipv4_prefix_len, TB_KV_U8),
    FIELD(ipv4_gateway, TB_KV_IPV4),
    FIELD(mtu, TB_KV_U16),
    FIELD(ttl, TB_KV_U8),
    FIELD(buf_count, TB_KV_U32),
    FIELD(buf_size, TB_KV_U32),
    FIELD(buf_headroom, TB_KV_U32),
    FIELD(tx_queue_len, TB_KV_U32),
    FIELD(event_queue_len, TB_KV_U32),
    FIELD(arp_cache_entries, TB_KV_U32),
    FIELD(arp_pending_max, TB_KV_U32),
    FIELD(arp_pending_per_entry, TB_KV_U32),
    FIELD(arp_reachable_ns, TB_KV_TIME_NS),
    FIELD(arp_retry_ns, TB_KV_TIME_NS),
    FIELD(arp_max_retries, TB_KV_U32),
    FIELD(ip_reass_max_datagrams, TB_KV_U32),
    FIELD(ip_reass_max_bufs, TB_KV_U32),
    FIELD(ip_reass_timeout_ns, TB_KV_TIME_NS),
    FIELD(tcp_max_conns, TB_KV_U32),
    FIELD(tcp_max_listeners, TB_KV_U32),
    FIELD(tcp_syn_queue_len, TB_KV_U32),
    FIELD(tcp_accept_queue_len, TB_KV_U32),
    FIELD(tcp_sndbuf_bytes, TB_KV_U32),
    FIELD(tcp_rcvbuf_bytes, TB_KV_U32),
    FIELD(tcp_ooo_max_bytes, TB_KV_U32),
    FIELD(tcp_mss, TB_KV_U16),
    FIELD(tcp_window_scaling, TB_KV_BOOL),
    FIELD(tcp_timestamps, TB_KV_BOOL),
    FIELD(tcp_sack, TB_KV_BOOL),
    FIELD(tcp_syncookies, TB_KV_BOOL),
    FIELD(tcp_nodelay, TB_KV_BOOL),
    FIELD(tcp_rto_initial_ns, TB_KV_TIME_NS),
    FIELD(tcp_rto_min_ns, TB_KV_TIME_NS),
    FIELD(tcp_rto_max_ns, TB_KV_TIME_NS),
    FIELD(tcp_max_retries, TB_KV_U32),
    FIELD(tcp_syn_retries, TB_KV_U32),
    FIELD(tcp_syn_timeout_ns, TB_KV_TIME_NS),
    FIELD(tcp_delack_ns, TB_KV_TIME_NS),
    FIELD(tcp_msl_ns, TB_KV_TIME_NS),
    FIELD(tcp_keepalive_idle_ns, TB_KV_TIME_NS),
    FIELD(tcp_keepalive_intvl_ns, TB_KV_TIME_NS),
    FIELD(tcp_keepalive_probes, TB_KV_U32),
    FIELD(tcp_challenge_acks_per_s, TB_KV_U32),
    FIELD(tcp_oow_ack_interval_ns, TB_KV_TIME_NS),
    FIELD(tcp_initial_cwnd_segs, TB_KV_U32),
    FIELD(tcp_cc, TB_KV_CC),
    FIELD(tcp_rack_tlp, TB_KV_BOOL),
    FIELD(tcp_ecn, TB_KV_BOOL),
    FIELD(tcp_ecn_accept, TB_KV_BOOL),
    FIELD(tcp_quickack_segs, TB_KV_U32),
    FIELD(tcp_dupthresh, TB_KV_U32),
    FIELD(tcp_seg_records, TB_KV_U32),
};
const size_t tb_config_kv_field_count = sizeof(tb_config_kv_fields) / sizeof(tb_config_kv_fields[0]);

/* A field added to struct tb_config changes its size (tests/unit/test_config_kv.c
 * also checks that the table's fields tile the struct, padding aside): add
 * its line above, then the size here, or run-logs would silently lose it. */
_Static_assert(sizeof(struct tb_config) == 256, "struct tb_config changed: update tb_config_kv_fields");

struct strbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct strbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct strbuf *s, const char *fmt, ...) {
    if (s->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            s->oom = true;
            return;
        }
        if ((size_t)n < s->cap - s->len) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = s->cap * 2 + (size_t)n;
        char *p = realloc(s->p, cap);
        if (p == NULL) {
            s->oom = true;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
}

static uint64_t get_unsigned(const void *field, size_t size) {
    switch (size) {
    case 8: { uint64_t v; memcpy(&v, field, 8); return v; }
    case 4: { uint32_t v; memcpy(&v, field, 4); return v; }
    case 2: { uint16_t v; memcpy(&v, field, 2); return v; }
    default: { uint8_t v; memcpy(&v, field, 1); return v; }
    }
}

static void set_unsigned(void *field, size_t size, uint64_t v) {
    switch (size) {
    case 8: memcpy(field, &v, 8); break;
    case 4: { uint32_t x = (uint32_t)v; memcpy(field, &x, 4); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(field, &x, 2); break; }
    default: { uint8_t x = (uint8_t)v; memcpy(field, &x, 1); break; }
    }
}

char *tb_config_kv_format(const struct tb_config *cfg) {
    struct strbuf s = {.p = malloc(2048), .cap = 2048};
    if (s.p == NULL) return NULL;
    s.p[0] = '\0';
    const uint8_t *base = (const uint8_t *)cfg;
    for (size_t i = 0; i < tb_config_kv_field_count; i++) {
        const struct tb_config_kv_field *f = &tb_config_kv_fields[i];
        const uint8_t *at = base + f->offset;
        switch (f->type) {
        case TB_KV_U64:
        case TB_KV_U32:
        case TB_KV_U16:
        case TB_KV_U8: put(&s, "%s=%" PRIu64 "\n", f->name, get_unsigned(at, f->size)); break;
        case TB_KV_BOOL: {
            bool v;
            memcpy(&v, at, sizeof(v));
            put(&s, "%s=%s\n", f->name, v ? "true" : "false");
            break;
        }
        case TB_KV_TIME_NS: {
            int64_t v;
            memcpy(&v, at, sizeof(v));
            put(&s, "%s=%" PRId64 "\n", f->name, v);
            break;
        }
        case TB_KV_MAC:
            put(&s, "%s=%02x:%02x:%02x:%02x:%02x:%02x\n", f->name, at[0], at[1], at[2], at[3], at[4], at[5]);
            break;
        case TB_KV_IPV4: {
            uint32_t v = (uint32_t)get_unsigned(at, 4);
            put(&s, "%s=%u.%u.%u.%u\n", f->name, v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
            break;
        }
        case TB_KV_CC: {
            uint8_t v = at[0];
            /* An algorithm without a name (a newer core's) is kept by number. */
            if (v < TB_CC__COUNT) put(&s, "%s=%s\n", f->name, tb_cc_name(v));
            else put(&s, "%s=%u\n", f->name, v);
            break;
        }
        }
    }
    if (s.oom) {
        free(s.p);
        return NULL;
    }
    return s.p;
}

/* Digits only (no sign, no spaces), in range; false otherwise. */
static bool parse_u64(const char *v, uint64_t max, uint64_t *out) {
    if (*v < '0' || *v > '9') return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || x > max) return false;
    *out = x;
    return true;
}

static bool parse_i64(const char *v, int64_t *out) {
    const char *digits = *v == '-' ? v + 1 : v;
    if (*digits < '0' || *digits > '9') return false;
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0') return false;
    *out = x;
    return true;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool parse_mac(const char *v, uint8_t out[6]) {
    if (strlen(v) != 17) return false;
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(v[3 * i]), lo = hex_digit(v[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && v[3 * i + 2] != ':')) return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool parse_ipv4(const char *v, uint32_t *out) {
    uint32_t addr = 0;
    const char *p = v;
    for (int i = 0; i < 4; i++) {
        if (*p < '0' || *p > '9') return false;
        unsigned octet = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            octet = octet * 10 + (unsigned)(*p++ - '0');
            if (++digits > 3 || octet > 255) return false;
        }
        addr = addr << 8 | octet;
        if (i < 3 && *p++ != '.') return false;
    }
    if (*p != '\0') return false;
    *out = addr;
    return true;
}

static const char *expected_of(const struct tb_config_kv_field *f, char *buf, size_t len) {
    switch (f->type) {
    case TB_KV_U64: return "an unsigned integer";
    case TB_KV_U32: return "an integer 0..4294967295";
    case TB_KV_U16: return "an integer 0..65535";
    case TB_KV_U8: return "an integer 0..255";
    case TB_KV_BOOL: return "true or false";
    case TB_KV_TIME_NS: return "a signed integer count of nanoseconds";
    case TB_KV_MAC: return "a MAC address such as 02:00:00:00:00:01";
    case TB_KV_IPV4: return "an IPv4 address such as 10.0.0.1";
    case TB_KV_CC: return "newreno, cubic or an algorithm number 0..255";
    }
    snprintf(buf, len, "a value");
    return buf;
}

static bool set_field(const struct tb_config_kv_field *f, uint8_t *at, const char *v) {
    uint64_t u;
    switch (f->type) {
    case TB_KV_U64:
    case TB_KV_U32:
    case TB_KV_U16:
    case TB_KV_U8: {
        uint64_t max = f->size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * f->size)) - 1;
        if (!parse_u64(v, max, &u)) return false;
        set_unsigned(at, f->size, u);
        return true;
    }
    case TB_KV_BOOL: {
        bool b;
        if (strcmp(v, "true") == 0) b = true;
        else if (strcmp(v, "false") == 0) b = false;
        else return false;
        memcpy(at, &b, sizeof(b));
        return true;
    }
    case TB_KV_TIME_NS: {
        int64_t t;
        if (!parse_i64(v, &t)) return false;
        memcpy(at, &t, sizeof(t));
        return true;
    }
    case TB_KV_MAC: return parse_mac(v, at);
    case TB_KV_IPV4: {
        uint32_t a;
        if (!parse_ipv4(v, &a)) return false;
        set_unsigned(at, 4, a);
        return true;
    }
    case TB_KV_CC: {
        uint8_t algo;
        if (tb_cc_parse(v, &algo)) {
            at[0] = algo;
            return true;
        }
        if (!parse_u64(v, 255, &u)) return false;
        at[0] = (uint8_t)u;
        return true;
    }
    }
    return false;
}

bool tb_config_kv_parse(const char *text, size_t len, struct tb_config *cfg, char *err, size_t err_len) {
    tb_config_default(cfg);
    bool seen[sizeof(tb_config_kv_fields) / sizeof(tb_config_kv_fields[0])] = {false};
    size_t pos = 0;
    unsigned lineno = 0;
    char line[256];
    while (pos < len) {
        lineno++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL);
        if (n == 0) continue;   /* a blank line */
        if (n >= sizeof(line) || memchr(start, '\0', n) != NULL) {
            snprintf(err, err_len, "config line %u: expected key=value, got %zu bytes%s", lineno, n,
                     n >= sizeof(line) ? " (too long)" : " holding a NUL");
            return false;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            snprintf(err, err_len, "config line %u '%s': expected key=value", lineno, line);
            return false;
        }
        *eq = '\0';
        const char *key = line, *value = eq + 1;
        size_t i = 0;
        while (i < tb_config_kv_field_count && strcmp(tb_config_kv_fields[i].name, key) != 0) i++;
        if (i == tb_config_kv_field_count) {
            snprintf(err, err_len, "config line %u '%s=%s': unknown key '%s' (not a field of struct tb_config)",
                     lineno, key, value, key);
            return false;
        }
        const struct tb_config_kv_field *f = &tb_config_kv_fields[i];
        if (seen[i]) {
            snprintf(err, err_len, "config line %u '%s=%s': %s given twice", lineno, key, value, key);
            return false;
        }
        seen[i] = true;
        if (!set_field(f, (uint8_t *)cfg + f->offset, value)) {
            char buf[32];
            snprintf(err, err_len, "config line %u '%s=%s': expected %s", lineno, key, value,
                     expected_of(f, buf, sizeof(buf)));
            return false;
        }
    }
    return true;
}
