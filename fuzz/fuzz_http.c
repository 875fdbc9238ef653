/* Fuzz target `http`: the http app's request parser (harness/apps/
 * netapp_http.c), which reads whatever a peer sends to `tcpbed tap --app
 * http`.
 *
 * Input: the bytes a client sent, as the app has buffered them. The first
 * byte, when there is one, picks max_head (1 .. 8192 in steps), so short
 * limits are searched as well as the app's own.
 *
 * Properties (abort() on a violation):
 *   - the parser reads only inside [p, p+len) (ASan: an exact-size copy);
 *   - a verdict is one of 200, 400, 431, 501, 505; a 200 has a head within
 *     both the buffer and max_head, and a HEAD request is never a body skip;
 *   - a request is decided by its own head: parsing just those head_bytes
 *     gives the same verdict, and so does parsing the buffer again (no state);
 *   - not enough bytes (false) only while fewer than max_head are there;
 *   - every status gets a response head that fits in 256 bytes and starts
 *     with "HTTP/1.1 <status> ". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "harness/apps/netapp_http.h"

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "http: property violated at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

static bool same(const struct netapp_http_request *a, const struct netapp_http_request *b) {
    return a->status == b->status && a->head_bytes == b->head_bytes && a->body_bytes == b->body_bytes &&
           a->head_method == b->head_method && a->keep_alive == b->keep_alive;
}

int fuzz_one(const uint8_t *data, size_t len) {
    size_t max_head = NETAPP_HTTP_MAX_HEAD;
    if (len > 0) {
        max_head = data[0] == 0 ? NETAPP_HTTP_MAX_HEAD : 1 + (size_t)data[0] * (NETAPP_HTTP_MAX_HEAD / 256);
        data++;
        len--;
    }
    uint8_t *p = malloc(len == 0 ? 1 : len);   /* exact size: ASan sees any over-read */
    if (p == NULL) return 0;
    memcpy(p, data, len);
    struct netapp_http_request r, again;
    memset(&r, 0xa5, sizeof(r));
    bool whole = netapp_http_parse(p, len, max_head, &r);
    if (!whole) {
        CHECK(len < max_head);
    } else {
        CHECK(r.status == 200 || r.status == 400 || r.status == 431 || r.status == 501 || r.status == 505);
        if (r.status == 200) {
            CHECK(r.head_bytes > 0 && r.head_bytes <= len && r.head_bytes <= max_head);
            uint8_t *head = malloc(r.head_bytes);
            CHECK(head != NULL);
            memcpy(head, p, r.head_bytes);
            memset(&again, 0x5a, sizeof(again));
            CHECK(netapp_http_parse(head, r.head_bytes, max_head, &again));
            CHECK(same(&r, &again));
            free(head);
        }
        memset(&again, 0x3c, sizeof(again));
        CHECK(netapp_http_parse(p, len, max_head, &again));
        CHECK(same(&r, &again));
        char out[256], want[32];
        size_t n = netapp_http_response_head(out, sizeof(out), r.status, r.head_method ? 0 : 1234, r.keep_alive);
        CHECK(n > 0 && n < sizeof(out));
        snprintf(want, sizeof(want), "HTTP/1.1 %d ", r.status);
        CHECK(strncmp(out, want, strlen(want)) == 0);
    }
    free(p);
    return 0;
}
