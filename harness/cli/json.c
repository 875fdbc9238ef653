#include "harness/cli/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Compact, in insertion order, doubles as printf's %.6g (jansson adds ".0"
 * to integral doubles and drops the exponent's '+' and leading zeros). */
#define TB_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))

/* jansson takes UTF-8 only; anything else (a byte string from a file name
 * or a scenario file) is kept readable with each non-ASCII byte as '?'. */
static char *ascii_copy(const char *s) {
    char *c = strdup(s);
    if (c == NULL) return NULL;
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    return c;
}

static json_t *string_value(const char *v) {
    json_t *s = json_string(v);
    if (s != NULL) return s;
    char *c = ascii_copy(v);
    s = c ? json_string(c) : NULL;
    free(c);
    return s;
}

/* Adds v (a new reference, given up here) to the innermost container, under
 * key when that is an object. */
static void add(struct json *j, const char *key, json_t *v) {
    json_t *parent = j->depth > 0 ? j->stack[j->depth - 1] : NULL;
    if (json_is_array(parent)) {
        json_array_append(parent, v);
    } else if (json_is_object(parent) && v != NULL) {
        if (key == NULL) key = "";
        if (json_object_set(parent, key, v) != 0) {
            char *c = ascii_copy(key);
            if (c != NULL) json_object_set(parent, c, v);
            free(c);
        }
    }
    json_decref(v);
}

/* The stack holds its own reference to each open container. */
static void open_scope(struct json *j, const char *key, json_t *v) {
    if (v == NULL) return;
    add(j, key, json_incref(v));
    if (j->depth < TB_JSON_MAX_DEPTH) j->stack[j->depth++] = v;
    else json_decref(v);
}

static void close_scope(struct json *j) {
    if (j->depth > 1) json_decref(j->stack[--j->depth]);
}

void json_begin(struct json *j, FILE *f) {
    j->f = f;
    j->depth = 0;
    j->root = json_object();
    if (j->root != NULL) j->stack[j->depth++] = json_incref(j->root);
}

void json_end(struct json *j) {
    if (j->root != NULL) {
        json_dumpf(j->root, j->f, TB_JSON_FLAGS);
        fputc('\n', j->f);
    }
    while (j->depth > 0) json_decref(j->stack[--j->depth]);
    json_decref(j->root);
    j->root = NULL;
}

void json_obj_open(struct json *j, const char *key) { open_scope(j, key, json_object()); }
void json_obj_close(struct json *j) { close_scope(j); }
void json_arr_open(struct json *j, const char *key) { open_scope(j, key, json_array()); }
void json_arr_close(struct json *j) { close_scope(j); }

void json_str(struct json *j, const char *key, const char *v) { add(j, key, string_value(v ? v : "")); }

void json_u64(struct json *j, const char *key, uint64_t v) {
    /* jansson's integers are signed 64-bit: above that, a real (rounded). */
    add(j, key, v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v));
}

void json_i64(struct json *j, const char *key, int64_t v) { add(j, key, json_integer((json_int_t)v)); }

void json_f64(struct json *j, const char *key, double v) { add(j, key, isfinite(v) ? json_real(v) : json_null()); }

void json_bool(struct json *j, const char *key, bool v) { add(j, key, json_boolean(v)); }
void json_nil(struct json *j, const char *key) { add(j, key, json_null()); }

bool tb_json_get_string(const json_t *obj, const char *key, char *out, size_t len) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) return false;
    snprintf(out, len, "%s", json_string_value(v));
    return true;
}

bool tb_json_get_bool(const json_t *obj, const char *key, bool *out) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_boolean(v)) return false;
    *out = json_is_true(v);
    return true;
}
