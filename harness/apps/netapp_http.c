#include "harness/apps/netapp_http.h"

#include <stdio.h>
#include <string.h>

/* RFC 9110 §5.6.2: the characters of a token (methods, header names). */
static bool is_tchar(uint8_t c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Control characters other than HTAB never appear in a request head
 * (CR only right before LF, which the line splitter checks). */
static bool is_ctl(uint8_t c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 'a' - 'A') : c; }

/* Case-insensitive: does [p, p+n) spell `word` (lower case)? */
static bool equals_word(const uint8_t *p, size_t n, const char *word) {
    size_t w = strlen(word);
    if (n != w) return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (uint8_t)word[i]) return false;
    return true;
}

struct head_state {
    bool have_request_line;
    bool get, head;               /* the method */
    int minor;                    /* HTTP/1.minor */
    unsigned host_count;
    bool conn_close, conn_keep_alive, transfer_encoding;
    bool content_length_set;
    uint64_t content_length;
};

static void fail(struct netapp_http_request *req, int status) {
    memset(req, 0, sizeof(*req));
    req->status = status;
}

/* method SP request-target SP HTTP-version (RFC 9112 §3). 0 or an error status. */
static int parse_request_line(const uint8_t *p, size_t n, struct head_state *hs) {
    size_t i = 0;
    while (i < n && is_tchar(p[i])) i++;
    size_t method_len = i;
    if (method_len == 0 || i == n || p[i] != ' ') return 400;
    hs->get = method_len == 3 && memcmp(p, "GET", 3) == 0;
    hs->head = method_len == 4 && memcmp(p, "HEAD", 4) == 0;
    size_t target = ++i;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f) i++;
    if (i == target || i == n || p[i] != ' ') return 400;
    i++;
    if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0) return 400;
    uint8_t major = p[i + 5], dot = p[i + 6], minor = p[i + 7];
    if (major < '0' || major > '9' || dot != '.' || minor < '0' || minor > '9') return 400;
    if (major != '1') return 505;
    hs->minor = minor - '0';
    return 0;
}

/* The Connection header's comma-separated options (RFC 9110 §7.6.1). */
static void parse_connection(const uint8_t *v, size_t n, struct head_state *hs) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t start = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t') i++;
        if (equals_word(v + start, i - start, "close")) hs->conn_close = true;
        if (equals_word(v + start, i - start, "keep-alive")) hs->conn_keep_alive = true;
    }
}

/* field-name ":" OWS field-value OWS (RFC 9112 §5). 0 or an error status. */
static int parse_header(const uint8_t *p, size_t n, struct head_state *hs) {
    size_t i = 0;
    while (i < n && is_tchar(p[i])) i++;
    /* No name, obsolete line folding, or space before the colon: all 400 (§5.1, §5.2). */
    if (i == 0 || i == n || p[i] != ':') return 400;
    const uint8_t *name = p;
    size_t name_len = i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
    size_t end = n;
    while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\t')) end--;
    const uint8_t *v = p + i;   /* the line splitter has refused control bytes already */
    size_t vn = end - i;
    if (equals_word(name, name_len, "host")) hs->host_count++;
    else if (equals_word(name, name_len, "connection")) parse_connection(v, vn, hs);
    else if (equals_word(name, name_len, "transfer-encoding")) hs->transfer_encoding = true;
    else if (equals_word(name, name_len, "content-length")) {
        /* 1*DIGIT; several must agree (RFC 9112 §6.3 item 5). */
        if (vn == 0 || vn > 18) return 400;
        uint64_t value = 0;
        for (size_t k = 0; k < vn; k++) {
            if (v[k] < '0' || v[k] > '9') return 400;
            value = value * 10 + (uint64_t)(v[k] - '0');
        }
        if (hs->content_length_set && hs->content_length != value) return 400;
        hs->content_length_set = true;
        hs->content_length = value;
    }
    return 0;
}

bool netapp_http_parse(const uint8_t *buf, size_t len, size_t max_head, struct netapp_http_request *req) {
    size_t end = len < max_head ? len : max_head;
    struct head_state hs = {0};
    size_t pos = 0;
    for (;;) {
        /* The next line: [pos, lf), LF or CRLF terminated. */
        size_t lf = pos;
        while (lf < end && buf[lf] != '\n') {
            bool cr_ok = buf[lf] == '\r' && (lf + 1 == end || buf[lf + 1] == '\n');
            if (buf[lf] == '\r' ? !cr_ok : is_ctl(buf[lf])) {
                fail(req, 400);   /* a bare CR or a control byte: not HTTP, whatever follows */
                return true;
            }
            lf++;
        }
        if (lf == end) {
            if (len < max_head) return false;
            fail(req, 431);
            return true;
        }
        size_t line_len = lf - pos;
        if (line_len > 0 && buf[lf - 1] == '\r') line_len--;
        const uint8_t *line = buf + pos;
        pos = lf + 1;
        int status = 0;
        if (!hs.have_request_line) {
            /* Empty lines before the request line are ignored (RFC 9112 §2.2). */
            if (line_len == 0) continue;
            hs.have_request_line = true;
            status = parse_request_line(line, line_len, &hs);
        } else if (line_len == 0) {
            break;
        } else {
            status = parse_header(line, line_len, &hs);
        }
        if (status != 0) {
            fail(req, status);
            return true;
        }
    }
    /* RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in 1.0. */
    if (hs.host_count > 1 || (hs.minor >= 1 && hs.host_count == 0)) {
        fail(req, 400);
        return true;
    }
    /* Bodies are only skipped by length: a chunked one cannot be (RFC 9112 §6.1: 501). */
    if ((!hs.get && !hs.head) || hs.transfer_encoding) {
        fail(req, 501);
        return true;
    }
    memset(req, 0, sizeof(*req));
    req->status = 200;
    req->head_bytes = pos;
    req->body_bytes = hs.content_length;
    req->head_method = hs.head;
    /* RFC 9112 §9.3: 1.1 persists unless told to close; 1.0 only when asked. */
    req->keep_alive = !hs.conn_close && (hs.minor >= 1 || hs.conn_keep_alive);
    return true;
}

static const char *reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

size_t netapp_http_response_head(char *out, size_t cap, int status, uint64_t content_length, bool keep_alive) {
    int n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nContent-Length: %llu\r\n%sConnection: %s\r\n\r\n", status,
                     reason_phrase(status), (unsigned long long)content_length,
                     status == 200 ? "Content-Type: application/octet-stream\r\n" : "",
                     keep_alive ? "keep-alive" : "close");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
