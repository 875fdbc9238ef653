/* JSON for the CLI, through jansson.
 *
 * Writing: the json_* calls build one jansson object tree, keys in insertion
 * order; json_end() prints it compactly on one line ({"a":1,"b":[...]}) with
 * doubles to 6 significant digits. Reading: parse the whole document with
 * json_loads() and look each key up at the level it belongs to. */
#ifndef TB_CLI_JSON_H
#define TB_CLI_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TB_JSON_MAX_DEPTH 32

struct json {
    FILE *f;
    json_t *root;
    json_t *stack[TB_JSON_MAX_DEPTH];   /* the open object or array at each depth */
    int depth;                          /* stack[depth - 1] is the innermost */
};

void json_begin(struct json *j, FILE *f);      /* opens the top-level object */
void json_end(struct json *j);                 /* prints it, a newline, and frees it */
void json_obj_open(struct json *j, const char *key);   /* key NULL inside arrays */
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *v);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_f64(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_nil(struct json *j, const char *key);   /* null */

/* The string value of obj[key] copied into out (truncated to fit); false
 * when obj is not an object or the key is missing or not a string. */
bool tb_json_get_string(const json_t *obj, const char *key, char *out, size_t len);
/* The boolean value of obj[key]; false when it is missing or not a boolean. */
bool tb_json_get_bool(const json_t *obj, const char *key, bool *out);

#endif
