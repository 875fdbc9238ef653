#include "harness/replay/runlog_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "traces/runlog.h"

struct tb_rl_reader {
    FILE *f;                      /* a file, or */
    const uint8_t *mem;           /* memory */
    uint64_t size, pos;
    uint8_t *block;               /* the current block */
    size_t block_cap;
    struct tb_event *events;
    size_t events_cap;
    struct tb_tcp_optval opts[TB_TCP_MAX_PRESET_OPTS];
    char *strings;                /* HEADER's strings, NUL-terminated */
    bool have_shb, have_idb, have_header, have_end;
    uint64_t frames, records;
    uint64_t shown;               /* blocks Wireshark lists as frames: packets and custom blocks */
};

static const char *const call_names[] = {
    [TB_CALL_LISTEN] = "listen",       [TB_CALL_ACCEPT] = "accept",     [TB_CALL_CONNECT] = "connect",
    [TB_CALL_SEND] = "send",           [TB_CALL_SEND_BUF] = "send_buf", [TB_CALL_RECV] = "recv",
    [TB_CALL_RECV_BUF] = "recv_buf",   [TB_CALL_SHUTDOWN] = "shutdown", [TB_CALL_CLOSE] = "close",
    [TB_CALL_ABORT] = "abort",         [TB_CALL_SETOPT] = "setopt",     [TB_CALL_PING] = "ping",
    [TB_CALL_EVENTS] = "events",       [TB_CALL_BUF_ALLOC] = "buf_alloc", [TB_CALL_BUF_FREE] = "buf_free",
};
#define CALL_KINDS (sizeof(call_names) / sizeof(call_names[0]))

const char *tb_rl_call_name(enum tb_host_call_kind kind) {
    return (size_t)kind < CALL_KINDS ? call_names[kind] : "?";
}

static struct tb_rl_reader *reader_new(void) { return calloc(1, sizeof(struct tb_rl_reader)); }

struct tb_rl_reader *tb_rl_open_file(const char *path, char *err, size_t err_len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot read run-log '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "cannot read run-log '%s': not a regular file", path);
        fclose(f);
        return NULL;
    }
    struct tb_rl_reader *r = reader_new();
    if (r == NULL) {
        snprintf(err, err_len, "out of memory");
        fclose(f);
        return NULL;
    }
    r->f = f;
    r->size = (uint64_t)st.st_size;
    return r;
}

struct tb_rl_reader *tb_rl_open_mem(const uint8_t *data, size_t len) {
    struct tb_rl_reader *r = reader_new();
    if (r == NULL) return NULL;
    r->mem = data;
    r->size = len;
    return r;
}

void tb_rl_close(struct tb_rl_reader *r) {
    if (r == NULL) return;
    if (r->f != NULL) fclose(r->f);
    free(r->block);
    free(r->events);
    free(r->strings);
    free(r);
}

uint64_t tb_rl_offset(const struct tb_rl_reader *r) { return r->pos; }
uint64_t tb_rl_frames(const struct tb_rl_reader *r) { return r->frames; }
uint64_t tb_rl_records(const struct tb_rl_reader *r) { return r->records; }

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* n bytes at the current position into dst; false at the end of the data. */
static bool read_bytes(struct tb_rl_reader *r, void *dst, size_t n) {
    if (r->size - r->pos < n) return false;
    if (r->mem != NULL) memcpy(dst, r->mem + r->pos, n);
    else if (fread(dst, 1, n, r->f) != n) return false;
    r->pos += n;
    return true;
}

/* ---- a record's fields, little-endian, each bounds-checked -------------------- */
struct cursor {
    const uint8_t *p;
    size_t len, at;
    bool short_;
};

static const uint8_t *take(struct cursor *c, size_t n) {
    if (c->short_ || c->len - c->at < n) {
        c->short_ = true;
        return NULL;
    }
    const uint8_t *p = c->p + c->at;
    c->at += n;
    return p;
}
static uint8_t get8(struct cursor *c) {
    const uint8_t *p = take(c, 1);
    return p != NULL ? p[0] : 0;
}
static uint16_t get16(struct cursor *c) {
    const uint8_t *p = take(c, 2);
    return p != NULL ? le16(p) : 0;
}
static uint32_t get32(struct cursor *c) {
    const uint8_t *p = take(c, 4);
    return p != NULL ? le32(p) : 0;
}
static uint64_t get64(struct cursor *c) {
    const uint8_t *p = take(c, 8);
    return p != NULL ? (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32 : 0;
}
static int64_t geti64(struct cursor *c) { return (int64_t)get64(c); }

/* A length-prefixed byte string. */
static const uint8_t *get_bytes(struct cursor *c, size_t *len) {
    uint32_t n = get32(c);
    *len = n;
    return take(c, n);
}

#define BAD(...)                                  \
    do {                                          \
        snprintf(err, err_len, __VA_ARGS__);      \
        return TB_RL_BAD;                         \
    } while (0)

static bool grow(void **p, size_t *cap, size_t want, size_t elem) {
    if (want <= *cap) return true;
    size_t n = want < 16 ? 16 : want;
    void *q = realloc(*p, n * elem);
    if (q == NULL) return false;
    *p = q;
    *cap = n;
    return true;
}

static enum tb_rl_status parse_event(struct cursor *c, struct tb_event *e) {
    memset(e, 0, sizeof(*e));
    e->type = get32(c);
    e->reason = get32(c);
    e->time_ns = geti64(c);
    e->peer_ipv4 = get32(c);
    e->conn = (int32_t)get32(c);
    e->error = (int32_t)get32(c);
    switch (e->type) {
    case TB_EV_ECHO_REPLY:
        e->u.echo.ident = get16(c);
        e->u.echo.seq = get16(c);
        e->u.echo.ttl = get8(c);
        e->u.echo.payload_ok = get8(c) != 0;
        e->u.echo.payload_len = get32(c);
        e->u.echo.sent_ns = geti64(c);
        e->u.echo.rtt_ns = geti64(c);
        break;
    case TB_EV_UNREACHABLE:
        e->u.unreach.dropped_frames = get32(c);
        e->u.unreach.icmp_code = get8(c);
        break;
    case TB_EV_TCP_SOFT_ERROR:
        e->u.soft.icmp_type = get8(c);
        e->u.soft.icmp_code = get8(c);
        e->u.soft.next_hop_mtu = get16(c);
        break;
    default: break;
    }
    return c->short_ ? TB_RL_BAD : TB_RL_ITEM;
}

static enum tb_rl_status parse_call(struct tb_rl_reader *r, struct cursor *c, struct tb_rl_item *it, char *err,
                                    size_t err_len) {
    struct tb_host_call *call = &it->call;
    memset(call, 0, sizeof(*call));
    uint8_t kind = get8(c);
    uint8_t flags = get8(c);
    if (!c->short_ && (kind >= CALL_KINDS || call_names[kind] == NULL))
        BAD("CALL record at byte %llu: unknown call kind %u", (unsigned long long)it->offset, kind);
    if (flags & ~TB_RUNLOG_CALL_IN_PASS)
        BAD("CALL record at byte %llu: unknown flags 0x%02x", (unsigned long long)it->offset, flags);
    call->kind = (enum tb_host_call_kind)kind;
    it->in_pass = (flags & TB_RUNLOG_CALL_IN_PASS) != 0;
    call->now = geti64(c);
    call->conn = (int32_t)get32(c);
    call->ipv4 = get32(c);
    call->port = get16(c);
    call->local_port = get16(c);
    call->backlog = get32(c);
    call->opt = (int32_t)get32(c);
    call->value = geti64(c);
    call->payload_len = get32(c);
    uint64_t len = get64(c);
    call->result = geti64(c);
    uint32_t nopts = get32(c);
    if (c->short_) BAD("CALL record at byte %llu: ends inside its fixed fields", (unsigned long long)it->offset);
    if (len > SIZE_MAX) BAD("CALL record at byte %llu: length %llu too large", (unsigned long long)it->offset,
                            (unsigned long long)len);
    call->len = (size_t)len;
    if (nopts > TB_TCP_MAX_PRESET_OPTS)
        BAD("CALL record at byte %llu: %u connect options (at most %d)", (unsigned long long)it->offset, nopts,
            TB_TCP_MAX_PRESET_OPTS);
    for (uint32_t i = 0; i < nopts; i++) {
        r->opts[i].opt = (int32_t)get32(c);
        r->opts[i].value = geti64(c);
    }
    call->opts = nopts > 0 ? r->opts : NULL;
    call->opt_count = nopts;
    it->data_len = 0;
    it->hash = 0;
    it->events = NULL;
    switch (call->kind) {
    case TB_CALL_SEND:
    case TB_CALL_SEND_BUF: {
        size_t n;
        const uint8_t *p = get_bytes(c, &n);
        if (p == NULL) break;
        if (n > call->len)
            BAD("CALL %s at byte %llu: %zu bytes recorded, more than the %zu offered", call_names[kind],
                (unsigned long long)it->offset, n, call->len);
        if (call->kind == TB_CALL_SEND && n != (size_t)(call->result > 0 ? call->result : 0))
            BAD("CALL send at byte %llu: %zu bytes recorded for a result of %lld", (unsigned long long)it->offset, n,
                (long long)call->result);
        call->data = p;
        it->data_len = n;
        break;
    }
    case TB_CALL_RECV:
    case TB_CALL_RECV_BUF: it->hash = get64(c); break;
    case TB_CALL_EVENTS: {
        uint32_t n = get32(c);
        if (c->short_) break;
        if ((int64_t)n != call->result)
            BAD("CALL events at byte %llu: %u events recorded for a result of %lld", (unsigned long long)it->offset, n,
                (long long)call->result);
        /* Each event takes at least 28 bytes: a count beyond the record is a lie. */
        if ((size_t)n > (c->len - c->at) / 28)
            BAD("CALL events at byte %llu: %u events do not fit in the record", (unsigned long long)it->offset, n);
        if (!grow((void **)&r->events, &r->events_cap, n, sizeof(struct tb_event))) BAD("out of memory");
        for (uint32_t i = 0; i < n; i++)
            if (parse_event(c, &r->events[i]) != TB_RL_ITEM) break;
        it->events = r->events;
        call->data = r->events;
        break;
    }
    default: break;
    }
    if (c->short_) BAD("CALL %s record at byte %llu: ends inside its fields", call_names[kind], (unsigned long long)it->offset);
    return TB_RL_ITEM;
}

static enum tb_rl_status parse_header(struct tb_rl_reader *r, struct cursor *c, struct tb_rl_item *it, char *err,
                                      size_t err_len) {
    it->version = get32(c);
    if (c->short_) BAD("HEADER record at byte %llu: ends before its version", (unsigned long long)it->offset);
    if (it->version != TB_RUNLOG_VERSION)
        BAD("unknown run-log format version %u in the HEADER record at byte %llu (this tcpbed reads version %d)",
            it->version, (unsigned long long)it->offset, TB_RUNLOG_VERSION);
    const uint8_t *s[4];
    size_t n[4];
    static const char *const what[4] = {"tcpbed version", "config", "host name", "command line"};
    for (int i = 0; i < 4; i++) {
        s[i] = get_bytes(c, &n[i]);
        if (s[i] == NULL) BAD("HEADER record at byte %llu: ends inside its %s", (unsigned long long)it->offset, what[i]);
        if (memchr(s[i], '\0', n[i]) != NULL)
            BAD("HEADER record at byte %llu: its %s holds a NUL byte", (unsigned long long)it->offset, what[i]);
    }
    if (n[2] > 15) BAD("HEADER record at byte %llu: host name of %zu bytes (at most 15)", (unsigned long long)it->offset, n[2]);
    free(r->strings);
    r->strings = malloc(n[0] + n[1] + n[2] + n[3] + 4);
    if (r->strings == NULL) BAD("out of memory");
    char *p = r->strings;
    const char **dst[4] = {&it->tool_version, &it->config, &it->host, &it->cmdline};
    for (int i = 0; i < 4; i++) {
        memcpy(p, s[i], n[i]);
        p[n[i]] = '\0';
        *dst[i] = p;
        p += n[i] + 1;
    }
    it->config_len = n[1];
    return TB_RL_ITEM;
}

/* A time field: the host's `now`, never negative. */
/* A clock reading the core can take: CLOCK_MONOTONIC, virtual time, within
 * 2^62 ns (146 years), so that `now` plus any time knob of the stack
 * (TB_TCP_TIME_KNOB_MAX_NS) and the RTO's doublings stay inside int64 (a
 * fuzzed log with a time near INT64_MAX overflowed tcp_rexmt_arm). */
#define RUNLOG_MAX_TIME_NS (INT64_C(1) << 62)
static bool time_ok(tb_time_ns t) { return t >= 0 && t <= RUNLOG_MAX_TIME_NS; }

static enum tb_rl_status parse_record(struct tb_rl_reader *r, const uint8_t *data, size_t len, struct tb_rl_item *it,
                                      char *err, size_t err_len) {
    struct cursor c = {.p = data, .len = len};
    uint8_t type = get8(&c);
    if (c.short_) BAD("empty custom block at byte %llu", (unsigned long long)it->offset);
    if (!r->have_header && type != TB_RUNLOG_HEADER)
        BAD("record at byte %llu comes before the HEADER record (a run-log starts with it)",
            (unsigned long long)it->offset);
    enum tb_rl_status st = TB_RL_ITEM;
    const char *name = "?";
    switch (type) {
    case TB_RUNLOG_HEADER:
        name = "HEADER";
        if (r->have_header) BAD("a second HEADER record at byte %llu", (unsigned long long)it->offset);
        it->kind = TB_RL_HEADER;
        st = parse_header(r, &c, it, err, err_len);
        r->have_header = true;
        break;
    case TB_RUNLOG_PASS:
        name = "PASS";
        it->kind = TB_RL_PASS;
        it->now = geti64(&c);
        {
            uint8_t fp = get8(&c);
            if (!c.short_ && fp > 1) BAD("PASS record at byte %llu: from_port is %u (0 or 1)", (unsigned long long)it->offset, fp);
            it->from_port = fp == 1;
        }
        break;
    case TB_RUNLOG_TICK:
        name = "TICK";
        it->kind = TB_RL_TICK;
        it->now = geti64(&c);
        break;
    case TB_RUNLOG_CALL:
        name = "CALL";
        it->kind = TB_RL_CALL;
        st = parse_call(r, &c, it, err, err_len);
        it->now = it->call.now;
        break;
    case TB_RUNLOG_END:
        name = "END";
        it->kind = TB_RL_END;
        it->end_frames = get64(&c);
        it->end_records = get64(&c);
        if (!c.short_ && (it->end_frames != r->frames || it->end_records != r->records))
            BAD("END record at byte %llu counts %llu frames and %llu records; the file holds %llu and %llu before it",
                (unsigned long long)it->offset, (unsigned long long)it->end_frames,
                (unsigned long long)it->end_records, (unsigned long long)r->frames, (unsigned long long)r->records);
        r->have_end = true;
        break;
    default: BAD("unknown record type %u at byte %llu", type, (unsigned long long)it->offset);
    }
    if (st != TB_RL_ITEM) return st;
    if (c.short_) BAD("%s record at byte %llu: ends inside its fields", name, (unsigned long long)it->offset);
    if (it->kind != TB_RL_HEADER && it->kind != TB_RL_END && !time_ok(it->now))
        BAD("%s record at byte %llu: time %lld ns is outside 0 .. 2^62", name, (unsigned long long)it->offset,
            (long long)it->now);
    /* What is left is the block's padding: fewer than 4 zero bytes. */
    if (len - c.at >= 4) BAD("%s record at byte %llu: %zu bytes after its last field", name, (unsigned long long)it->offset, len - c.at);
    for (size_t i = c.at; i < len; i++)
        if (data[i] != 0) BAD("%s record at byte %llu: non-zero padding", name, (unsigned long long)it->offset);
    r->records++;
    return TB_RL_ITEM;
}

/* Walks a block's options from `at`; calls back for each. False when they
 * run past the block or do not end with opt_endofopt (or the block's end). */
typedef bool (*option_fn)(void *ctx, uint16_t code, const uint8_t *v, uint16_t len);
static bool walk_options(const uint8_t *b, size_t at, size_t end, option_fn fn, void *ctx) {
    while (at < end) {
        if (end - at < 4) return false;
        uint16_t code = le16(b + at), len = le16(b + at + 2);
        at += 4;
        if (code == TB_PCAPNG_OPT_END) return true;
        if (end - at < pad4(len)) return false;
        if (fn != NULL && !fn(ctx, code, b + at, len)) return false;
        at += pad4(len);
    }
    return true;
}

static bool idb_option(void *ctx, uint16_t code, const uint8_t *v, uint16_t len) {
    int *tsresol = ctx;
    if (code == TB_PCAPNG_IF_TSRESOL) {
        if (len != 1) return false;
        *tsresol = v[0];
    }
    return true;
}

struct epb_opts {
    bool have_flags;
    uint32_t flags;
};

static bool epb_option(void *ctx, uint16_t code, const uint8_t *v, uint16_t len) {
    struct epb_opts *o = ctx;
    if (code == TB_PCAPNG_EPB_FLAGS) {
        if (len != 4) return false;
        o->have_flags = true;
        o->flags = le32(v);
    }
    return true;
}

enum tb_rl_status tb_rl_next(struct tb_rl_reader *r, struct tb_rl_item *it, char *err, size_t err_len) {
    for (;;) {
        memset(it, 0, sizeof(*it));
        uint64_t start = r->pos;
        it->offset = start;
        if (r->pos == r->size) {
            if (!r->have_shb) BAD("empty file: not a run-log (expected a pcapng section header at byte 0)");
            return TB_RL_EOF;
        }
        uint8_t hdr[12];
        size_t want = r->have_shb ? 8 : 12;
        if (!read_bytes(r, hdr, want)) {
            if (!r->have_shb) BAD("not a run-log: %llu bytes, too short for a pcapng section header", (unsigned long long)r->size);
            snprintf(err, err_len, "the file ends inside a block header at byte %llu", (unsigned long long)start);
            return TB_RL_CUT;
        }
        uint32_t type = le32(hdr), total = le32(hdr + 4);
        if (!r->have_shb) {
            if (type == 0xa1b2c3d4u || type == 0xd4c3b2a1u || type == 0xa1b23c4du || type == 0x4d3cb2a1u)
                BAD("not a run-log: a classic pcap file (a run-log is pcapng, written by --record)");
            if (type != TB_PCAPNG_SHB)
                BAD("not a run-log: expected a pcapng section header (0x0a0d0d0a) at byte 0, got 0x%08x", type);
            uint32_t magic = le32(hdr + 8);
            if (magic == 0x4D3C2B1Au) BAD("a big-endian pcapng section at byte 0: tcpbed writes run-logs little-endian");
            if (magic != TB_PCAPNG_BYTE_ORDER_MAGIC) BAD("not a pcapng file: bad byte-order magic 0x%08x at byte 8", magic);
        } else if (type == TB_PCAPNG_SHB) {
            BAD("a second pcapng section at byte %llu: a run-log has one", (unsigned long long)start);
        }
        if (total < 12 || total % 4 != 0) BAD("block at byte %llu: length %u (a multiple of 4, at least 12)", (unsigned long long)start, total);
        if (total - want > r->size - r->pos) {
            snprintf(err, err_len, "the block at byte %llu (%u bytes) runs past the end of the file (%llu bytes)",
                     (unsigned long long)start, total, (unsigned long long)r->size);
            r->pos = r->size;
            return TB_RL_CUT;
        }
        if (!grow((void **)&r->block, &r->block_cap, total, 1)) BAD("out of memory for a block of %u bytes", total);
        memcpy(r->block, hdr, want);
        if (!read_bytes(r, r->block + want, total - want)) {
            snprintf(err, err_len, "reading the block at byte %llu failed", (unsigned long long)start);
            return TB_RL_CUT;
        }
        const uint8_t *b = r->block;
        if (le32(b + total - 4) != total)
            BAD("block at byte %llu: its trailing length %u differs from its leading length %u", (unsigned long long)start,
                le32(b + total - 4), total);
        size_t body_end = total - 4;
        switch (type) {
        case TB_PCAPNG_SHB: {
            if (total < 28) BAD("section header at byte 0: %u bytes (at least 28)", total);
            if (le16(b + 12) != 1) BAD("pcapng major version %u at byte 12 (expected 1)", le16(b + 12));
            if (!walk_options(b, 24, body_end, NULL, NULL)) BAD("section header at byte 0: malformed options");
            r->have_shb = true;
            continue;
        }
        case TB_PCAPNG_IDB: {
            if (r->have_idb) BAD("a second interface at byte %llu: a run-log has one", (unsigned long long)start);
            if (total < 20) BAD("interface block at byte %llu: %u bytes (at least 20)", (unsigned long long)start, total);
            if (le16(b + 8) != TB_PCAPNG_LINKTYPE_ETHERNET)
                BAD("interface at byte %llu: link type %u (a run-log's is Ethernet, 1)", (unsigned long long)start, le16(b + 8));
            int tsresol = 6;
            if (!walk_options(b, 16, body_end, idb_option, &tsresol))
                BAD("interface block at byte %llu: malformed options", (unsigned long long)start);
            if (tsresol != 9)
                BAD("interface at byte %llu: timestamp resolution 10^-%d s (a run-log's is nanoseconds, if_tsresol 9)",
                    (unsigned long long)start, tsresol);
            r->have_idb = true;
            continue;
        }
        case TB_PCAPNG_EPB: {
            if (!r->have_idb) BAD("packet at byte %llu comes before any interface", (unsigned long long)start);
            if (!r->have_header) BAD("packet at byte %llu comes before the HEADER record", (unsigned long long)start);
            if (r->have_end) BAD("packet at byte %llu after the END record", (unsigned long long)start);
            if (total < 32) BAD("packet block at byte %llu: %u bytes (at least 32)", (unsigned long long)start, total);
            uint32_t ifid = le32(b + 8), caplen = le32(b + 20), origlen = le32(b + 24);
            uint64_t ts = (uint64_t)le32(b + 12) << 32 | le32(b + 16);
            if (ifid != 0) BAD("packet at byte %llu: interface %u (a run-log has interface 0 only)", (unsigned long long)start, ifid);
            if ((size_t)caplen > body_end - 28 || pad4(caplen) > body_end - 28)
                BAD("packet at byte %llu: captured length %u runs past its block", (unsigned long long)start, caplen);
            if (caplen != origlen)
                BAD("packet at byte %llu: captured %u of %u bytes (a run-log keeps whole frames)", (unsigned long long)start,
                    caplen, origlen);
            if (caplen > TB_PCAPNG_SNAPLEN) BAD("packet at byte %llu: %u bytes (at most 65535)", (unsigned long long)start, caplen);
            if (!time_ok((tb_time_ns)(ts & (uint64_t)INT64_MAX)) || ts > (uint64_t)INT64_MAX)
                BAD("packet at byte %llu: timestamp %llu ns is outside 0 .. 2^62", (unsigned long long)start,
                    (unsigned long long)ts);
            struct epb_opts o = {0};
            if (!walk_options(b, 28 + pad4(caplen), body_end, epb_option, &o))
                BAD("packet at byte %llu: malformed options", (unsigned long long)start);
            uint32_t dir = o.flags & 3;
            if (!o.have_flags || (dir != TB_PCAPNG_EPB_INBOUND && dir != TB_PCAPNG_EPB_OUTBOUND))
                BAD("packet at byte %llu: no direction (epb_flags bits 0-1 must say inbound 1 or outbound 2)",
                    (unsigned long long)start);
            it->kind = TB_RL_FRAME;
            it->now = (tb_time_ns)ts;
            it->outbound = dir == TB_PCAPNG_EPB_OUTBOUND;
            it->frame = b + 28;
            it->frame_len = caplen;
            it->frame_no = ++r->frames;
            it->shown_no = ++r->shown;
            return TB_RL_ITEM;
        }
        case TB_PCAPNG_CB_COPY:
        case TB_PCAPNG_CB_NOCOPY: {
            if (total < 16) BAD("custom block at byte %llu: %u bytes (at least 16)", (unsigned long long)start, total);
            r->shown++;
            if (le32(b + 8) != TB_RUNLOG_PEN) continue;   /* another enterprise's */
            if (!r->have_idb) BAD("record at byte %llu comes before the interface block", (unsigned long long)start);
            if (r->have_end) BAD("record at byte %llu after the END record", (unsigned long long)start);
            return parse_record(r, b + 12, body_end - 12, it, err, err_len);
        }
        default:
            /* Another tool's block (name resolution, statistics...): not ours to read. */
            continue;
        }
    }
}
