#include "sim/units.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Splits "12.5ms" into 12.5 and "ms". Rejects signs, exponents, empty
 * numbers and trailing junk in the number. */
static bool split_number(const char *s, double *value, const char **unit) {
    const char *p = s;
    double v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (*p == '.') {
        p++;
        double scale = 0.1;
        while (*p >= '0' && *p <= '9') {
            v += (*p++ - '0') * scale;
            scale /= 10;
            digits++;
        }
    }
    if (digits == 0 || digits > 19) return false;
    *value = v;
    *unit = p;
    return true;
}

struct unit { const char *name; double factor; };

static bool lookup(const struct unit *units, size_t n, const char *name, double *factor) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(units[i].name, name) == 0) {
            *factor = units[i].factor;
            return true;
        }
    return false;
}

bool tb_parse_duration(const char *s, tb_time_ns *out, char *err, size_t err_len) {
    static const struct unit units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}};
    double v, f;
    const char *unit;
    if (!split_number(s, &v, &unit)) goto bad;
    if (*unit == '\0') {
        if (v != 0) goto bad;
        *out = 0;
        return true;
    }
    if (!lookup(units, sizeof(units) / sizeof(units[0]), unit, &f)) goto bad;
    if (v * f > 9.2e18) goto bad;
    *out = (tb_time_ns)llround(v * f);
    return true;
bad:
    snprintf(err, err_len, "expected a duration such as 250us, 10ms or 2s, got '%s'", s);
    return false;
}

bool tb_parse_rate(const char *s, uint64_t *bps, char *err, size_t err_len) {
    static const struct unit units[] = {{"bps", 1}, {"kbps", 1e3}, {"Kbps", 1e3}, {"Mbps", 1e6}, {"Gbps", 1e9},
                                        {"Tbps", 1e12}};
    double v, f;
    const char *unit;
    if (!split_number(s, &v, &unit) || !lookup(units, sizeof(units) / sizeof(units[0]), unit, &f) ||
        v * f < 1 || v * f > 1.8e19) {
        snprintf(err, err_len, "expected a rate such as 10Mbps or 1Gbps, got '%s'", s);
        return false;
    }
    *bps = (uint64_t)llround(v * f);
    return true;
}

bool tb_parse_size(const char *s, uint64_t *bytes, char *err, size_t err_len) {
    static const struct unit units[] = {{"", 1},          {"B", 1},           {"K", 1024.0},     {"KB", 1024.0},
                                        {"KiB", 1024.0},  {"M", 1048576.0},   {"MB", 1048576.0}, {"MiB", 1048576.0},
                                        {"G", 1073741824.0}, {"GB", 1073741824.0}, {"GiB", 1073741824.0}};
    double v, f;
    const char *unit;
    if (!split_number(s, &v, &unit) || !lookup(units, sizeof(units) / sizeof(units[0]), unit, &f) ||
        v * f > 1.8e19 || v * f != floor(v * f)) {
        snprintf(err, err_len, "expected a size such as 1500, 64K or 10M, got '%s'", s);
        return false;
    }
    *bytes = (uint64_t)(v * f);
    return true;
}

bool tb_parse_u64(const char *s, uint64_t *out, char *err, size_t err_len) {
    uint64_t v = 0;
    const char *p = s;
    if (*p == '\0') goto bad;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') goto bad;
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) goto bad;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
bad:
    snprintf(err, err_len, "expected a non-negative integer, got '%s'", s);
    return false;
}

const char *tb_format_duration(tb_time_ns ns, char *buf, size_t len) {
    if (ns < TB_NS_PER_US) snprintf(buf, len, "%lld ns", (long long)ns);
    else if (ns < TB_NS_PER_MS) snprintf(buf, len, "%.3f us", (double)ns / 1e3);
    else if (ns < TB_NS_PER_S) snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
    else snprintf(buf, len, "%.3f s", (double)ns / 1e9);
    return buf;
}

const char *tb_format_rate(double bps, char *buf, size_t len) {
    if (bps >= 1e9) snprintf(buf, len, "%.2f Gbit/s", bps / 1e9);
    else if (bps >= 1e6) snprintf(buf, len, "%.2f Mbit/s", bps / 1e6);
    else if (bps >= 1e3) snprintf(buf, len, "%.2f kbit/s", bps / 1e3);
    else snprintf(buf, len, "%.0f bit/s", bps);
    return buf;
}
