/* A small streaming JSON writer: keys in insertion order, strings escaped,
 * commas handled, so every --json output is one valid object. */
#ifndef TB_CLI_JSON_H
#define TB_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
    FILE *f;
    int depth;
    bool need_comma[32];
};

void json_begin(struct json *j, FILE *f);      /* opens the top-level object */
void json_end(struct json *j);                 /* closes it and writes a newline */
void json_key(struct json *j, const char *key);
void json_obj_open(struct json *j, const char *key);   /* key NULL inside arrays */
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *v);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_f64(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);

#endif
