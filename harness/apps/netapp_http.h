/* The http app's request parser and response heads (RFC 9112), apart from
 * the connection handling so it can be tested and fuzzed on bytes alone.
 * Pure: no allocation, no state between calls, and it reads only
 * buf[0 .. min(len, max_head)). */
#ifndef TB_APPS_NETAPP_HTTP_H
#define TB_APPS_NETAPP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETAPP_HTTP_MAX_HEAD 8192   /* request line + headers + blank line; beyond: 431 */

struct netapp_http_request {
    int status;                   /* 200, or the error to answer: 400, 431, 501, 505 */
    size_t head_bytes;            /* status 200: the request's bytes before its body */
    uint64_t body_bytes;          /* status 200: Content-Length of a body to skip */
    bool head_method;             /* HEAD: the response carries no body */
    bool keep_alive;              /* the connection stays open after the response */
};

/* Parses the request at the start of buf. false: no whole request head yet
 * (read more). true: *req is filled; an error status always closes. */
bool netapp_http_parse(const uint8_t *buf, size_t len, size_t max_head, struct netapp_http_request *req);

/* The response head for status (Content-Length: content_length, and the
 * octet-stream type for 200) into out; returns its length, or 0 if cap is
 * too small (256 bytes always suffice). */
size_t netapp_http_response_head(char *out, size_t cap, int status, uint64_t content_length, bool keep_alive);

#endif
