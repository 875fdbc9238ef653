#include "harness/cli/opts.h"

#include <stdio.h>
#include <string.h>

#include "sim/units.h"

static const char *kind_meta(const struct opt *o) {
    if (o->metavar) return o->metavar;
    switch (o->kind) {
    case OPT_U64: return "N";
    case OPT_DURATION: return "TIME";
    case OPT_RATE: return "RATE";
    case OPT_SIZE: return "BYTES";
    case OPT_STRING:
    case OPT_LIST: return "TEXT";
    default: return "";
    }
}

void opts_usage(const char *command, const char *summary, const struct opt *opts, int n, bool to_stderr) {
    FILE *f = to_stderr ? stderr : stdout;
    fprintf(f, "usage: %s [options]\n\n%s\n\noptions:\n", command, summary);
    for (int i = 0; i < n; i++) {
        char left[64];
        if (opts[i].kind == OPT_FLAG) snprintf(left, sizeof(left), "--%s", opts[i].name);
        else if (opts[i].kind == OPT_LIST) snprintf(left, sizeof(left), "--%s %s ...", opts[i].name, kind_meta(&opts[i]));
        else snprintf(left, sizeof(left), "--%s %s", opts[i].name, kind_meta(&opts[i]));
        fprintf(f, "  %-24s %s\n", left, opts[i].help);
    }
    fprintf(f, "  %-24s %s\n", "--help", "show this help and exit");
    fprintf(f, "\nunits: durations 250us 10ms 2s; rates 10Mbps 1Gbps; sizes 1500 64K 10M\n");
}

static int fail(const char *command, const char *msg) {
    fprintf(stderr, "%s: %s\nTry '%s --help'.\n", command, msg, command);
    return 2;
}

static int set_value(const char *command, const struct opt *o, const char *value) {
    char err[160], msg[320];
    uint64_t u = 0;
    bool ok = true;
    switch (o->kind) {
    case OPT_FLAG: return 0;
    case OPT_LIST: {
        struct opt_list *l = o->dst;
        if (l->n == OPT_LIST_MAX) {
            snprintf(msg, sizeof(msg), "--%s: at most %d times", o->name, OPT_LIST_MAX);
            return fail(command, msg);
        }
        l->items[l->n++] = value;
        return 0;
    }
    case OPT_STRING:
        if (value[0] == '\0') {
            snprintf(msg, sizeof(msg), "--%s: expected %s, got an empty string", o->name, kind_meta(o));
            return fail(command, msg);
        }
        *(const char **)o->dst = value;
        return 0;
    case OPT_U64: ok = tb_parse_u64(value, &u, err, sizeof(err)); break;
    case OPT_SIZE: ok = tb_parse_size(value, &u, err, sizeof(err)); break;
    case OPT_RATE: ok = tb_parse_rate(value, &u, err, sizeof(err)); break;
    case OPT_DURATION: {
        tb_time_ns t;
        ok = tb_parse_duration(value, &t, err, sizeof(err));
        u = ok ? (uint64_t)t : 0;
        break;
    }
    }
    if (!ok) {
        snprintf(msg, sizeof(msg), "--%s: %s", o->name, err);
        return fail(command, msg);
    }
    if (u < o->min || (o->max != 0 && u > o->max)) {
        char range[96];
        if (o->max != 0)
            snprintf(range, sizeof(range), "a value from %llu to %llu", (unsigned long long)o->min,
                     (unsigned long long)o->max);
        else snprintf(range, sizeof(range), "a value of at least %llu", (unsigned long long)o->min);
        snprintf(msg, sizeof(msg), "--%s: expected %s, got '%s'", o->name, range, value);
        return fail(command, msg);
    }
    if (o->kind == OPT_DURATION) *(tb_time_ns *)o->dst = (tb_time_ns)u;
    else *(uint64_t *)o->dst = u;
    return 0;
}

int opts_parse(const char *command, const char *summary, const struct opt *opts, int n, int argc, char **argv) {
    char msg[320];
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            opts_usage(command, summary, opts, n, false);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(msg, sizeof(msg), "unexpected argument '%s' (options start with --)", arg);
            return fail(command, msg);
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = NULL;
        for (int k = 0; k < n; k++)
            if (strlen(opts[k].name) == name_len && strncmp(opts[k].name, name, name_len) == 0) o = &opts[k];
        if (o == NULL) {
            snprintf(msg, sizeof(msg), "unknown option '%s'", arg);
            return fail(command, msg);
        }
        if (o->kind == OPT_FLAG) {
            if (eq) {
                snprintf(msg, sizeof(msg), "--%s takes no value", o->name);
                return fail(command, msg);
            }
            *(bool *)o->dst = true;
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL) {
            if (i + 1 >= argc) {
                snprintf(msg, sizeof(msg), "--%s needs a value (%s)", o->name, kind_meta(o));
                return fail(command, msg);
            }
            value = argv[++i];
        }
        int rc = set_value(command, o, value);
        if (rc != 0) return rc;
    }
    return 0;
}
