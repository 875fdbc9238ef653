#include "harness/cli/json.h"

#include <math.h>

static void sep(struct json *j, const char *key) {
    if (j->need_comma[j->depth]) fputc(',', j->f);
    j->need_comma[j->depth] = true;
    if (key != NULL) {
        fputc('"', j->f);
        for (const char *p = key; *p; p++) fputc(*p, j->f);
        fputs("\":", j->f);
    }
}

static void open_scope(struct json *j, const char *key, char c) {
    sep(j, key);
    fputc(c, j->f);
    if (j->depth < 31) j->depth++;
    j->need_comma[j->depth] = false;
}

void json_begin(struct json *j, FILE *f) {
    j->f = f;
    j->depth = 0;
    j->need_comma[0] = false;
    fputc('{', f);
    j->depth = 1;
    j->need_comma[1] = false;
}

void json_end(struct json *j) {
    fputs("}\n", j->f);
    j->depth = 0;
}

void json_key(struct json *j, const char *key) { sep(j, key); }
void json_obj_open(struct json *j, const char *key) { open_scope(j, key, '{'); }
void json_obj_close(struct json *j) {
    fputc('}', j->f);
    j->depth--;
}
void json_arr_open(struct json *j, const char *key) { open_scope(j, key, '['); }
void json_arr_close(struct json *j) {
    fputc(']', j->f);
    j->depth--;
}

void json_str(struct json *j, const char *key, const char *v) {
    sep(j, key);
    fputc('"', j->f);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(j->f, "\\%c", *p);
        else if (*p < 0x20) fprintf(j->f, "\\u%04x", *p);
        else fputc(*p, j->f);
    }
    fputc('"', j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v) {
    sep(j, key);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_i64(struct json *j, const char *key, int64_t v) {
    sep(j, key);
    fprintf(j->f, "%lld", (long long)v);
}

void json_f64(struct json *j, const char *key, double v) {
    sep(j, key);
    if (!isfinite(v)) fputs("null", j->f);
    else fprintf(j->f, "%.6g", v);
}

void json_bool(struct json *j, const char *key, bool v) {
    sep(j, key);
    fputs(v ? "true" : "false", j->f);
}
