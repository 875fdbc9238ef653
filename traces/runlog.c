#include "traces/runlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/host/host.h"
#include "harness/lib/config_kv.h"
#include "harness/lib/version.h"

/* Large enough that a busy host writes in big chunks, not per record. */
#define WRITE_BUFFER_BYTES (1u << 20)

struct tb_runlog_writer {
    FILE *f;
    char *stdio_buf;
    int write_errno;              /* the first write error (0: none) */
    bool failed;
    uint64_t frames, records;
    uint8_t *rec;                 /* the record being built */
    size_t rec_len, rec_cap;
    bool rec_oom;
};

uint64_t tb_runlog_hash(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* ---- bytes out --------------------------------------------------------------- */
static void out(struct tb_runlog_writer *w, const void *p, size_t n) {
    if (w->failed || n == 0) return;
    if (fwrite(p, 1, n, w->f) != n) {
        w->failed = true;
        w->write_errno = errno != 0 ? errno : EIO;
    }
}

static void out32(struct tb_runlog_writer *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    out(w, b, 4);
}

static void out16(struct tb_runlog_writer *w, uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    out(w, b, 2);
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static void out_padding(struct tb_runlog_writer *w, size_t n) {
    static const uint8_t zeros[4];
    out(w, zeros, pad4(n) - n);
}

/* A pcapng option: code, length, value padded to 32 bits. */
static void out_option(struct tb_runlog_writer *w, uint16_t code, const void *v, size_t len) {
    out16(w, code);
    out16(w, (uint16_t)len);
    out(w, v, len);
    out_padding(w, len);
}

static size_t option_size(size_t len) { return 4 + pad4(len); }

/* ---- records ----------------------------------------------------------------- */
static void rec_put(struct tb_runlog_writer *w, const void *p, size_t n) {
    if (w->rec_oom) return;
    if (w->rec_len + n > w->rec_cap) {
        size_t cap = w->rec_cap * 2 > w->rec_len + n ? w->rec_cap * 2 : w->rec_len + n + 256;
        uint8_t *r = realloc(w->rec, cap);
        if (r == NULL) {
            w->rec_oom = true;
            return;
        }
        w->rec = r;
        w->rec_cap = cap;
    }
    memcpy(w->rec + w->rec_len, p, n);
    w->rec_len += n;
}

static void rec_u8(struct tb_runlog_writer *w, uint8_t v) { rec_put(w, &v, 1); }
static void rec_u16(struct tb_runlog_writer *w, uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    rec_put(w, b, 2);
}
static void rec_u32(struct tb_runlog_writer *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    rec_put(w, b, 4);
}
static void rec_u64(struct tb_runlog_writer *w, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    rec_put(w, b, 8);
}
static void rec_i64(struct tb_runlog_writer *w, int64_t v) { rec_u64(w, (uint64_t)v); }
static void rec_bytes(struct tb_runlog_writer *w, const void *p, size_t n) {
    rec_u32(w, (uint32_t)n);
    rec_put(w, p, n);
}
static void rec_str(struct tb_runlog_writer *w, const char *s) { rec_bytes(w, s, s != NULL ? strlen(s) : 0); }

static void rec_begin(struct tb_runlog_writer *w, enum tb_runlog_record type) {
    w->rec_len = 0;
    rec_u8(w, (uint8_t)type);
}

/* The record as one Custom Block: type, length, PEN, data, padding, length. */
static void rec_end(struct tb_runlog_writer *w) {
    if (w->rec_oom) {
        if (!w->failed) {
            w->failed = true;
            w->write_errno = ENOMEM;
        }
        return;
    }
    uint32_t total = (uint32_t)(16 + pad4(w->rec_len));
    out32(w, TB_PCAPNG_CB_COPY);
    out32(w, total);
    out32(w, TB_RUNLOG_PEN);
    out(w, w->rec, w->rec_len);
    out_padding(w, w->rec_len);
    out32(w, total);
    w->records++;
}

/* ---- the file's opening: section, interface, HEADER ------------------------- */
static void write_section_header(struct tb_runlog_writer *w) {
    static const char appl[] = "tcpbed " TCPBED_VERSION;
    static const char comment[] = "tcpbed run-log: frames are packets; custom blocks (PEN 32473) hold the "
                                  "host's passes, ticks and calls (docs/tap.md)";
    size_t opts = option_size(strlen(appl)) + option_size(strlen(comment)) + 4;
    uint32_t total = (uint32_t)(28 + opts);
    out32(w, TB_PCAPNG_SHB);
    out32(w, total);
    out32(w, TB_PCAPNG_BYTE_ORDER_MAGIC);
    out16(w, 1);                  /* major version */
    out16(w, 0);                  /* minor version */
    out32(w, UINT32_MAX);         /* section length: -1, not given */
    out32(w, UINT32_MAX);
    out_option(w, TB_PCAPNG_OPT_COMMENT, comment, strlen(comment));
    out_option(w, TB_PCAPNG_SHB_USERAPPL, appl, strlen(appl));
    out_option(w, TB_PCAPNG_OPT_END, NULL, 0);
    out32(w, total);
}

static void write_interface(struct tb_runlog_writer *w, const char *name) {
    const uint8_t tsresol = 9;    /* timestamps in nanoseconds: the host's `now` as it is */
    size_t opts = option_size(strlen(name)) + option_size(1) + 4;
    uint32_t total = (uint32_t)(20 + opts);
    out32(w, TB_PCAPNG_IDB);
    out32(w, total);
    out16(w, TB_PCAPNG_LINKTYPE_ETHERNET);
    out16(w, 0);
    out32(w, TB_PCAPNG_SNAPLEN);
    out_option(w, TB_PCAPNG_IF_NAME, name, strlen(name));
    out_option(w, TB_PCAPNG_IF_TSRESOL, &tsresol, 1);
    out_option(w, TB_PCAPNG_OPT_END, NULL, 0);
    out32(w, total);
}

struct tb_runlog_writer *tb_runlog_open(const char *path, const struct tb_config *cfg, const char *host_name,
                                        const char *cmdline, char *err, size_t err_len) {
    struct tb_runlog_writer *w = calloc(1, sizeof(*w));
    char *config = tb_config_kv_format(cfg);
    if (w == NULL || config == NULL) {
        snprintf(err, err_len, "out of memory");
        free(w);
        free(config);
        return NULL;
    }
    w->f = fopen(path, "wb");
    if (w->f == NULL) {
        snprintf(err, err_len, "cannot write run-log '%s': %s", path, strerror(errno));
        free(config);
        free(w);
        return NULL;
    }
    w->stdio_buf = malloc(WRITE_BUFFER_BYTES);
    if (w->stdio_buf != NULL) setvbuf(w->f, w->stdio_buf, _IOFBF, WRITE_BUFFER_BYTES);
    char name[16];
    snprintf(name, sizeof(name), "%s", host_name != NULL ? host_name : "");
    write_section_header(w);
    write_interface(w, name);
    rec_begin(w, TB_RUNLOG_HEADER);
    rec_u32(w, TB_RUNLOG_VERSION);
    rec_str(w, TCPBED_VERSION);
    rec_str(w, config);
    rec_str(w, name);
    rec_str(w, cmdline);
    rec_end(w);
    free(config);
    return w;
}

uint64_t tb_runlog_frames(const struct tb_runlog_writer *w) { return w->frames; }
uint64_t tb_runlog_records(const struct tb_runlog_writer *w) { return w->records; }

int tb_runlog_close(struct tb_runlog_writer *w, char *err, size_t err_len) {
    if (w == NULL) return 0;
    rec_begin(w, TB_RUNLOG_END);
    rec_u64(w, w->frames);
    rec_u64(w, w->records);
    rec_end(w);
    if (!w->failed && (fflush(w->f) != 0 || ferror(w->f))) {
        w->failed = true;
        w->write_errno = errno != 0 ? errno : EIO;
    }
    if (fclose(w->f) != 0 && !w->failed) {
        w->failed = true;
        w->write_errno = errno != 0 ? errno : EIO;
    }
    int rc = 0;
    if (w->failed) {
        snprintf(err, err_len, "writing the run-log failed: %s", strerror(w->write_errno));
        rc = -1;
    }
    free(w->stdio_buf);
    free(w->rec);
    free(w);
    return rc;
}

/* ---- the hooks --------------------------------------------------------------- */
static void on_pass(void *ctx, struct tb_host *h, tb_time_ns now, bool from_port) {
    (void)h;
    struct tb_runlog_writer *w = ctx;
    rec_begin(w, TB_RUNLOG_PASS);
    rec_i64(w, now);
    rec_u8(w, from_port ? 1 : 0);
    rec_end(w);
}

/* One Enhanced Packet Block: interface 0, the time in ns, the frame, and
 * epb_flags saying which way it went. */
static void on_frame(void *ctx, struct tb_host *h, enum tb_host_dir dir, tb_time_ns now, const uint8_t *frame,
                     size_t len) {
    (void)h;
    struct tb_runlog_writer *w = ctx;
    uint64_t ts = (uint64_t)now;
    uint32_t flags = dir == TB_HOST_IN ? TB_PCAPNG_EPB_INBOUND : TB_PCAPNG_EPB_OUTBOUND;
    uint8_t fl[4] = {(uint8_t)flags, (uint8_t)(flags >> 8), (uint8_t)(flags >> 16), (uint8_t)(flags >> 24)};
    uint32_t total = (uint32_t)(28 + pad4(len) + option_size(4) + 4 + 4);
    out32(w, TB_PCAPNG_EPB);
    out32(w, total);
    out32(w, 0);
    out32(w, (uint32_t)(ts >> 32));
    out32(w, (uint32_t)ts);
    out32(w, (uint32_t)len);
    out32(w, (uint32_t)len);
    out(w, frame, len);
    out_padding(w, len);
    out_option(w, TB_PCAPNG_EPB_FLAGS, fl, 4);
    out_option(w, TB_PCAPNG_OPT_END, NULL, 0);
    out32(w, total);
    w->frames++;
}

static void on_tick(void *ctx, struct tb_host *h, tb_time_ns now) {
    (void)h;
    struct tb_runlog_writer *w = ctx;
    rec_begin(w, TB_RUNLOG_TICK);
    rec_i64(w, now);
    rec_end(w);
}

static void rec_event(struct tb_runlog_writer *w, const struct tb_event *e) {
    rec_u32(w, e->type);
    rec_u32(w, e->reason);
    rec_i64(w, e->time_ns);
    rec_u32(w, e->peer_ipv4);
    rec_u32(w, (uint32_t)e->conn);
    rec_u32(w, (uint32_t)e->error);
    /* Only the member the type uses: the others are not the stack's to fill. */
    switch (e->type) {
    case TB_EV_ECHO_REPLY:
        rec_u16(w, e->u.echo.ident);
        rec_u16(w, e->u.echo.seq);
        rec_u8(w, e->u.echo.ttl);
        rec_u8(w, e->u.echo.payload_ok ? 1 : 0);
        rec_u32(w, e->u.echo.payload_len);
        rec_i64(w, e->u.echo.sent_ns);
        rec_i64(w, e->u.echo.rtt_ns);
        break;
    case TB_EV_UNREACHABLE:
        rec_u32(w, e->u.unreach.dropped_frames);
        rec_u8(w, e->u.unreach.icmp_code);
        break;
    case TB_EV_TCP_SOFT_ERROR:
        rec_u8(w, e->u.soft.icmp_type);
        rec_u8(w, e->u.soft.icmp_code);
        rec_u16(w, e->u.soft.next_hop_mtu);
        break;
    default: break;
    }
}

/* Every field of struct tb_host_call, pointers replaced by what they point
 * at (docs/tap.md has the layout). */
static void on_call(void *ctx, struct tb_host *h, const struct tb_host_call *c) {
    struct tb_runlog_writer *w = ctx;
    rec_begin(w, TB_RUNLOG_CALL);
    rec_u8(w, (uint8_t)c->kind);
    rec_u8(w, tb_host_in_pass(h) ? TB_RUNLOG_CALL_IN_PASS : 0);
    rec_i64(w, c->now);
    rec_u32(w, (uint32_t)c->conn);
    rec_u32(w, c->ipv4);
    rec_u16(w, c->port);
    rec_u16(w, c->local_port);
    rec_u32(w, c->backlog);
    rec_u32(w, (uint32_t)c->opt);
    rec_i64(w, c->value);
    rec_u32(w, c->payload_len);
    rec_u64(w, c->len);
    rec_i64(w, c->result);
    rec_u32(w, (uint32_t)c->opt_count);
    for (size_t i = 0; i < c->opt_count; i++) {
        rec_u32(w, (uint32_t)c->opts[i].opt);
        rec_i64(w, c->opts[i].value);
    }
    switch (c->kind) {
    case TB_CALL_SEND: {
        /* The stack copies only the bytes it accepts: those are what
         * decide its state, and replay offers them again. */
        size_t took = c->result > 0 ? (size_t)c->result : 0;
        rec_bytes(w, c->data, took);
        break;
    }
    case TB_CALL_SEND_BUF: rec_bytes(w, c->data, c->result == TB_OK ? c->len : 0); break;
    case TB_CALL_RECV: rec_u64(w, tb_runlog_hash(TB_RUNLOG_HASH_INIT, c->data, c->result > 0 ? (size_t)c->result : 0)); break;
    case TB_CALL_RECV_BUF: {
        uint64_t hash = TB_RUNLOG_HASH_INIT;
        for (const struct tb_buf *b = c->chain; b != NULL; b = b->next) hash = tb_runlog_hash(hash, b->data, b->len);
        rec_u64(w, hash);
        break;
    }
    case TB_CALL_EVENTS: {
        const struct tb_event *ev = c->data;
        size_t n = c->result > 0 ? (size_t)c->result : 0;
        rec_u32(w, (uint32_t)n);
        for (size_t i = 0; i < n; i++) rec_event(w, &ev[i]);
        break;
    }
    default: break;
    }
    rec_end(w);
}

bool tb_runlog_attach(struct tb_runlog_writer *w, struct tb_host *h) {
    struct tb_host_hooks hooks = {.on_pass = on_pass, .on_frame = on_frame, .on_tick = on_tick, .on_call = on_call,
                                  .ctx = w};
    return tb_host_add_hooks(h, &hooks);
}
