/* tcpbed check FILE.pkt|DIR ...: packetdrill-language scripts against the
 * stack in exact virtual time (harness/check). One line per script, then
 * "N passed, N failed, N skipped"; --junit writes JUnit XML, --pcap-dir a
 * pcap per script. Exit 0 when nothing failed, 1 when a script failed, 2
 * on a usage error (a bad flag, a file that does not exist). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/check/run.h"
#include "harness/check/script.h"
#include "harness/cli/cli.h"
#include "harness/cli/opts.h"

#define CHECK_CMD "tcpbed check"
#define CHECK_MSG_CAP 16384
#define CHECK_MAX_DEPTH 32          /* directory nesting followed (symlink loops end here) */
#define TOLERANCE_UNSET UINT64_MAX

struct paths {
    char **v;
    size_t n, cap;
};

static int paths_add(struct paths *p, const char *s) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        char **v = realloc(p->v, cap * sizeof(*v));
        if (v == NULL) return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = strdup(s);
    if (p->v[p->n] == NULL) return -1;
    p->n++;
    return 0;
}

static void paths_free(struct paths *p) {
    for (size_t i = 0; i < p->n; i++) free(p->v[i]);
    free(p->v);
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool ends_with_pkt(const char *name) {
    size_t l = strlen(name);
    return l > 4 && strcmp(name + l - 4, ".pkt") == 0;
}

/* Every *.pkt below dir into p. Returns 0, or -1 with err set. */
static int collect_dir(const char *dir, int depth, struct paths *p, char *err, size_t errlen) {
    if (depth > CHECK_MAX_DEPTH) {
        snprintf(err, errlen, "'%s': directories nested deeper than %d", dir, CHECK_MAX_DEPTH);
        return -1;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "cannot open directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    size_t dl = strlen(dir);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        size_t need = dl + 1 + strlen(e->d_name) + 1;
        char *path = malloc(need);
        if (path == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        snprintf(path, need, "%s%s%s", dir, slash ? "" : "/", e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            /* a dangling symlink: not a script */
        } else if (S_ISDIR(sb.st_mode)) {
            rc = collect_dir(path, depth + 1, p, err, errlen);
        } else if (S_ISREG(sb.st_mode) && ends_with_pkt(e->d_name)) {
            if (paths_add(p, path) != 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
        }
        free(path);
    }
    closedir(d);
    return rc;
}

/* The whole file, NUL-terminated; NULL with err set. At most max+1 bytes
 * are read, so the parser reports a file over its bound. */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 >= cap) {
            if (cap > max + 1) break;
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t want = cap - 1 - n;
        if (n + want > max + 1) want = max + 1 - n;
        if (want == 0) break;
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (got < want) break;
    }
    bool ioerr = ferror(f) != 0;
    fclose(f);
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (ioerr) {
        snprintf(err, errlen, "%s: cannot read: I/O error", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* DIR/<path with '/' as '_', without a leading "./" or ".pkt">.pcap */
/* DIR/<script path with / as _, without .pkt>[-N].pcap (N > 1: a later script whose name flattened the same). */
static char *pcap_name_n(const char *dir, const char *script, unsigned n) {
    while (strncmp(script, "./", 2) == 0) script += 2;
    size_t l = strlen(script);
    if (ends_with_pkt(script)) l -= 4;
    size_t dl = strlen(dir);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    size_t need = dl + 1 + l + 6 + 12;
    char *out = malloc(need);
    if (out == NULL) return NULL;
    char suffix[16] = "";
    if (n > 1) snprintf(suffix, sizeof(suffix), "-%u", n);
    snprintf(out, need, "%s%s%.*s%s.pcap", dir, slash ? "" : "/", (int)l, script, suffix);
    for (char *c = out + dl + (slash ? 0 : 1); *c != '\0'; c++)
        if (*c == '/') *c = '_';
    return out;
}

static char *pcap_name(const char *dir, const char *script) { return pcap_name_n(dir, script, 1); }

/* ---- XML ----------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07u;
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;      /* surrogates */
    if (cp == 0xfffe || cp == 0xffff) return 0;      /* not XML characters */
    return n;
}

/* s as XML character data (attr: inside a double-quoted attribute, where
 * newlines and tabs are kept as references). Characters XML 1.0 cannot
 * hold (controls, invalid UTF-8) become U+FFFD. */
static void xml_escape(FILE *f, const char *text, bool attr) {
    const unsigned char *s = (const unsigned char *)text;
    while (*s != '\0') {
        unsigned char c = *s;
        switch (c) {
        case '&': fputs("&amp;", f); s++; continue;
        case '<': fputs("&lt;", f); s++; continue;
        case '>': fputs("&gt;", f); s++; continue;
        case '"': fputs(attr ? "&quot;" : "\"", f); s++; continue;
        case '\'': fputs(attr ? "&apos;" : "'", f); s++; continue;
        case '\n': fputs(attr ? "&#10;" : "\n", f); s++; continue;
        case '\t': fputs(attr ? "&#9;" : "\t", f); s++; continue;
        case '\r': fputs("&#13;", f); s++; continue;
        default: break;
        }
        if (c < 0x20) {
            fputs("\xef\xbf\xbd", f);
            s++;
            continue;
        }
        size_t n = utf8_len(s);
        if (n == 0) {
            fputs("\xef\xbf\xbd", f);
            s++;
            continue;
        }
        fwrite(s, 1, n, f);
        s += n;
    }
}

/* ---- the command ------------------------------------------------------------ */

struct result {
    enum tb_check_outcome outcome;
    char *msg;            /* the failure, the skip note, or a pass's warnings ("" if none) */
    double wall_s;
    double virtual_s;     /* script time the run reached */
    char *pcap;           /* the pcap written, or NULL */
};

/* Whether an earlier script of this run wrote that pcap. */
static bool name_taken(const struct result *r, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (r[i].pcap != NULL && strcmp(r[i].pcap, name) == 0) return true;
    return false;
}

/* msg without its trailing newlines, each line indented. */
static void print_indented(FILE *f, const char *msg) {
    const char *p = msg;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (l > 0 || (nl && nl[1] != '\0')) fprintf(f, "    %.*s\n", (int)l, p);
        p += l + (nl ? 1 : 0);
    }
}

static void first_line(const char *msg, char *out, size_t cap) {
    size_t l = strcspn(msg, "\n");
    if (l >= cap) l = cap - 1;
    memcpy(out, msg, l);
    out[l] = '\0';
}

static int write_junit(FILE *f, const struct paths *p, const struct result *r, size_t passed, size_t failed,
                       size_t skipped, double wall) {
    (void)passed;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuite name=\"tcpbed check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
               "time=\"%.6f\">\n",
            p->n, failed, skipped, wall);
    for (size_t i = 0; i < p->n; i++) {
        fputs("  <testcase classname=\"tcpbed.check\" name=\"", f);
        xml_escape(f, p->v[i], true);
        fprintf(f, "\" time=\"%.6f\"", r[i].wall_s);
        if (r[i].outcome == TB_CHECK_PASS) {
            fputs("/>\n", f);
            continue;
        }
        char head[1024];
        first_line(r[i].msg, head, sizeof(head));
        if (r[i].outcome == TB_CHECK_FAIL) {
            fputs(">\n    <failure message=\"", f);
            xml_escape(f, head, true);
            fputs("\">", f);
            xml_escape(f, r[i].msg, false);
            fputs("</failure>\n  </testcase>\n", f);
        } else {
            fputs(">\n    <skipped message=\"", f);
            xml_escape(f, head, true);
            fputs("\"/>\n  </testcase>\n", f);
        }
    }
    fputs("</testsuite>\n", f);
    return ferror(f) ? -1 : 0;
}

static void write_json(const struct paths *p, const struct result *r, size_t passed, size_t failed,
                       size_t skipped, uint64_t seed, enum tb_check_profile profile, double wall) {
    struct json j;
    json_begin(&j, stdout);
    json_str(&j, "command", "check");
    json_u64(&j, "seed", seed);
    json_str(&j, "profile", tb_check_profile_name(profile));
    json_arr_open(&j, "scripts");
    for (size_t i = 0; i < p->n; i++) {
        json_obj_open(&j, NULL);
        json_str(&j, "file", p->v[i]);
        json_str(&j, "outcome", r[i].outcome == TB_CHECK_PASS   ? "pass"
                                : r[i].outcome == TB_CHECK_FAIL ? "fail"
                                                                : "skip");
        json_str(&j, "message", r[i].msg);
        json_f64(&j, "wall_time_s", r[i].wall_s);
        json_f64(&j, "virtual_time_s", r[i].virtual_s);
        json_obj_close(&j);
    }
    json_arr_close(&j);
    json_u64(&j, "passed", passed);
    json_u64(&j, "failed", failed);
    json_u64(&j, "skipped", skipped);
    json_f64(&j, "wall_time_s", wall);
    json_bool(&j, "pass", failed == 0);
    json_end(&j);
}

static const char check_summary[] =
    "Runs packetdrill-language scripts against the tcpbed stack in exact virtual time\n"
    "(tcpbed is 192.168.0.1, the script's end 192.0.2.1; harness/check/README.md).\n"
    "Arguments are FILE.pkt or DIR (every *.pkt below it, sorted by path); options may\n"
    "come before or after them, `--` ends the options. Prints one line per script\n"
    "(ok, FAIL with the message, or skip for unsupported constructs), then\n"
    "\"N passed, N failed, N skipped\". Exits 0 when nothing failed, 1 when a script\n"
    "failed, 2 on a usage error.";

int cmd_check(int argc, char **argv) {
    uint64_t seed = 1, tolerance_us = TOLERANCE_UNSET;
    bool ignore_shell = false, json = false;
    const char *junit = NULL, *pcap_dir = NULL, *profile_name = "rfc";
    const struct opt opts[] = {
        {"profile", OPT_STRING, &profile_name, "rfc|linux",
         "the stack's configuration: rfc (default: the RFCs' values) or linux (Linux's defaults where the RFCs "
         "allow; docs/conformance.md lists both)",
         0, 0},
        {"seed", OPT_U64, &seed, "S", "the stack's seed: the same seed gives the same run (default 1)", 0,
         TB_SEED_MAX},
        {"ignore-shell", OPT_FLAG, &ignore_shell, NULL,
         "drop `shell` lines with a warning instead of skipping their scripts", 0, 0},
        {"tolerance-usecs", OPT_U64, &tolerance_us, "N",
         "outbound packets may leave N us off their time (overrides the scripts' --tolerance_usecs)", 0,
         3600000000u},
        {"junit", OPT_STRING, &junit, "FILE", "also write the results as JUnit XML", 0, 0},
        {"pcap-dir", OPT_STRING, &pcap_dir, "DIR",
         "write each script's packets to DIR/<path with / as _, without .pkt>.pcap (DIR is created; a later "
         "script whose name flattens the same gets -2, -3, ...)", 0, 0},
        {"json", OPT_FLAG, &json, NULL, "print one JSON object instead of the lines", 0, 0},
    };
    const int nopts = (int)(sizeof(opts) / sizeof(opts[0]));

    /* Split the options (and their values) from the file arguments. */
    char **flags = malloc(sizeof(char *) * (size_t)(argc + 1));
    char **files = malloc(sizeof(char *) * (size_t)(argc + 1));
    if (flags == NULL || files == NULL) {
        free(flags);
        free(files);
        fprintf(stderr, CHECK_CMD ": out of memory\n");
        return 2;
    }
    int nflags = 0, nfiles = 0;
    bool dashes = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (dashes || a[0] != '-' || strcmp(a, "-") == 0) {
            files[nfiles++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            dashes = true;
            continue;
        }
        flags[nflags++] = argv[i];
        if (strncmp(a, "--", 2) != 0 || strchr(a, '=') != NULL) continue;
        for (int k = 0; k < nopts; k++)
            if (strcmp(opts[k].name, a + 2) == 0 && opts[k].kind != OPT_FLAG && i + 1 < argc)
                flags[nflags++] = argv[++i];
    }
    int rc = opts_parse(CHECK_CMD, check_summary, opts, nopts, nflags, flags);
    free(flags);
    if (rc != 0) {
        free(files);
        return rc == 1 ? 0 : 2;
    }
    enum tb_check_profile profile;
    if (!tb_check_profile_parse(profile_name, &profile)) {
        free(files);
        fprintf(stderr, CHECK_CMD ": --profile: expected rfc or linux, got '%s'\nTry '" CHECK_CMD " --help'.\n",
                profile_name);
        return 2;
    }
    if (nfiles == 0) {
        free(files);
        fprintf(stderr, CHECK_CMD ": no script given (expected FILE.pkt or DIR)\nTry '" CHECK_CMD " --help'.\n");
        return 2;
    }

    struct paths p = {0};
    char err[1200];
    for (int i = 0; i < nfiles; i++) {
        struct stat sb;
        if (stat(files[i], &sb) != 0) {
            fprintf(stderr, CHECK_CMD ": cannot open '%s': %s\n", files[i], strerror(errno));
            rc = 2;
            break;
        }
        if (S_ISDIR(sb.st_mode)) {
            size_t from = p.n;
            if (collect_dir(files[i], 0, &p, err, sizeof(err)) != 0) {
                fprintf(stderr, CHECK_CMD ": %s\n", err);
                rc = 2;
                break;
            }
            qsort(p.v + from, p.n - from, sizeof(*p.v), cmp_path);
            if (p.n == from) fprintf(stderr, CHECK_CMD ": warning: no *.pkt file below '%s'\n", files[i]);
        } else if (paths_add(&p, files[i]) != 0) {
            fprintf(stderr, CHECK_CMD ": out of memory\n");
            rc = 2;
            break;
        }
    }
    free(files);
    if (rc == 0 && pcap_dir != NULL && cli_mkdir_p(pcap_dir, err, sizeof(err)) != 0) {
        fprintf(stderr, CHECK_CMD ": --pcap-dir: %s\n", err);
        rc = 2;
    }
    FILE *jf = NULL;
    if (rc == 0 && junit != NULL) {
        jf = fopen(junit, "w");
        if (jf == NULL) {
            fprintf(stderr, CHECK_CMD ": --junit: cannot write '%s': %s\n", junit, strerror(errno));
            rc = 2;
        }
    }
    struct result *res = rc == 0 ? calloc(p.n + 1, sizeof(*res)) : NULL;
    if (rc == 0 && res == NULL) {
        fprintf(stderr, CHECK_CMD ": out of memory\n");
        rc = 2;
    }
    if (rc != 0) {
        if (jf != NULL) fclose(jf);
        paths_free(&p);
        return rc;
    }

    struct tb_script_limits lim;
    tb_script_limits_default(&lim);
    size_t passed = 0, failed = 0, skipped = 0;
    double t_all = wall_seconds();
    for (size_t i = 0; i < p.n; i++) {
        const char *path = p.v[i];
        char *msg = calloc(1, CHECK_MSG_CAP);
        if (msg == NULL) {
            fprintf(stderr, CHECK_CMD ": out of memory\n");
            exit(2);
        }
        double t0 = wall_seconds();
        enum tb_check_outcome out = TB_CHECK_FAIL;
        size_t len = 0;
        char *text = read_file(path, lim.max_input_bytes, &len, msg, CHECK_MSG_CAP);
        if (text != NULL) {
            struct tb_script_error perr;
            struct tb_script *s = tb_script_parse(path, text, len, &lim, &perr);
            free(text);
            if (s == NULL) {
                /* The parser's sentence names FILE:LINE; a bound with no line names the file. */
                if (strncmp(perr.message, path, strlen(path)) == 0) snprintf(msg, CHECK_MSG_CAP, "%s", perr.message);
                else snprintf(msg, CHECK_MSG_CAP, "%s: %s", path, perr.message);
            } else {
                struct tb_check_opts o;
                tb_check_opts_default(&o);
                o.seed = seed;
                o.profile = profile;
                tb_time_ns spanned = 0;
                o.spanned_ns = &spanned;
                o.ignore_shell = ignore_shell;
                if (tolerance_us != TOLERANCE_UNSET) o.tolerance_ns = (int64_t)tolerance_us * 1000;
                char *pcap = NULL;
                if (pcap_dir != NULL) {
                    pcap = pcap_name(pcap_dir, path);
                    /* Two scripts whose paths flatten alike (a/b.pkt, a_b.pkt): the later gets -2, -3, ... */
                    for (unsigned dup = 2; pcap != NULL && name_taken(res, i, pcap); dup++) {
                        char *alt = pcap_name_n(pcap_dir, path, dup);
                        free(pcap);
                        pcap = alt;
                    }
                    if (pcap == NULL) {
                        fprintf(stderr, CHECK_CMD ": out of memory\n");
                        exit(2);
                    }
                    o.pcap_path = pcap;
                }
                out = tb_check_run(s, &o, msg, CHECK_MSG_CAP);
                res[i].virtual_s = (double)spanned / 1e9;
                res[i].pcap = pcap;
                tb_script_free(s);
            }
        }
        res[i].outcome = out;
        res[i].msg = msg;
        res[i].wall_s = wall_seconds() - t0;
        if (out == TB_CHECK_PASS) passed++;
        else if (out == TB_CHECK_FAIL) failed++;
        else skipped++;
        if (json) continue;
        if (out == TB_CHECK_PASS) {
            printf("ok   %s\n", path);
            print_indented(stdout, msg);
        } else if (out == TB_CHECK_FAIL) {
            printf("FAIL %s\n", path);
            print_indented(stdout, msg);
        } else {
            size_t l = strcspn(msg, "\n");
            printf("skip %s: %.*s\n", path, (int)l, msg);
            if (msg[l] != '\0') print_indented(stdout, msg + l + 1);
        }
        fflush(stdout);
    }
    double wall = wall_seconds() - t_all;
    if (json) write_json(&p, res, passed, failed, skipped, seed, profile, wall);
    else printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
    rc = failed ? 1 : 0;
    if (jf != NULL) {
        int w = write_junit(jf, &p, res, passed, failed, skipped, wall);
        if (fclose(jf) != 0 || w != 0) {
            fprintf(stderr, CHECK_CMD ": --junit: cannot write '%s'\n", junit);
            rc = rc ? rc : 1;
        }
    }
    for (size_t i = 0; i < p.n; i++) {
        free(res[i].msg);
        free(res[i].pcap);
    }
    free(res);
    paths_free(&p);
    return rc;
}
