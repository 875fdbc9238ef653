/* Seed corpora for the fuzz targets, from real runs (fuzz/gen_corpus.sh
 * drives it; `make fuzz-corpus`):
 *
 *   gen_corpus wire OUTDIR PCAP...   frames of simulator captures, as `wire`
 *                                    inputs at each layer (see fuzz/fuzz_wire.c)
 *   gen_corpus stack OUTDIR          step sequences that take the stack through
 *                                    its states (harness/fuzzin/fuzz_inputs.h opcodes)
 *   gen_corpus faults OUTDIR         fault schedules recorded from lossy,
 *                                    reordering, duplicating bulk runs
 *                                    (on_fault), encoded as `faults` inputs
 *
 * Deterministic: the same build writes the same files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bulk.h"
#include "sim/faults.h"
#include "harness/fuzzin/fuzz_inputs.h"
#include "tcpbed/wire.h"
#include "traces/pcap_reader.h"

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (n > 0 && fwrite(p, n, 1, f) != 1) || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus: cannot write %s\n", path);
        exit(1);
    }
}

/* ---- wire ------------------------------------------------------------------ */

struct wire_ctx {
    const char *dir, *tag;
    unsigned frame, written;
    unsigned seen_kind[16];
};

static void emit_wire(struct wire_ctx *w, const char *what, uint8_t mode, const uint8_t *p, size_t n) {
    uint8_t buf[1 + TB_ETH_MAX_FRAME];
    if (n > TB_ETH_MAX_FRAME) n = TB_ETH_MAX_FRAME;
    buf[0] = mode;
    memcpy(buf + 1, p, n);
    char name[128];
    snprintf(name, sizeof(name), "%s-%03u-%s", w->tag, w->frame, what);
    write_file(w->dir, name, buf, n + 1);
    w->written++;
}

/* Keeps a few frames of each kind: every handshake, FIN and non-TCP frame,
 * the first data segments and ACKs. */
static void on_wire_frame(void *ctx, tb_time_ns ts, const uint8_t *f, size_t len) {
    (void)ts;
    struct wire_ctx *w = ctx;
    w->frame++;
    struct tb_eth_repr eth;
    size_t off;
    if (tb_eth_parse(f, len, &eth, &off) != TB_WIRE_OK) return;
    struct tb_ipv4_repr ip;
    if (eth.ethertype == TB_ETHERTYPE_ARP) {
        if (w->seen_kind[0]++ < 2) emit_wire(w, "arp", 0, f, len);
        if (w->seen_kind[1]++ < 1) emit_wire(w, "arp-direct", 1, f + off, len - off);
        return;
    }
    if (eth.ethertype != TB_ETHERTYPE_IPV4 || tb_ipv4_parse(f + off, len - off, &ip) != TB_WIRE_OK) return;
    const uint8_t *l4 = f + off + ip.header_len;
    size_t l4_len = ip.total_len - ip.header_len;
    if (ip.protocol == TB_IPPROTO_ICMP) {
        if (w->seen_kind[2]++ < 2) emit_wire(w, "icmp", 0, f, len);
        if (w->seen_kind[3]++ < 2) emit_wire(w, "icmp-direct", 3 | 8, l4, l4_len);
        return;
    }
    struct tb_tcp_repr th;
    if (ip.protocol != TB_IPPROTO_TCP || tb_tcp_parse(l4, l4_len, ip.src, ip.dst, &th) != TB_WIRE_OK) return;
    int kind;
    const char *what;
    unsigned keep;
    if (th.flags & TB_TCP_SYN) kind = 4, what = (th.flags & TB_TCP_ACK) ? "synack" : "syn", keep = 2;
    else if (th.flags & (TB_TCP_FIN | TB_TCP_RST)) kind = 5, what = "fin", keep = 4;
    else if (th.payload_len > 0) kind = 6, what = "data", keep = 3;
    else if (th.opts.sack_count > 0) kind = 7, what = "sack", keep = 3;
    else kind = 8, what = "ack", keep = 3;
    if (w->seen_kind[kind]++ >= keep) return;
    /* Short frames fuzz faster: keep at most 64 bytes of payload, with the
     * lengths and checksums fixed to match. */
    uint8_t small[TB_ETH_MAX_FRAME];
    if (th.payload_len > 64) {
        size_t cut = th.payload_len - 64;
        len -= cut;
        l4_len -= cut;
        memcpy(small, f, len);
        uint8_t *sip = small + off, *stcp = sip + ip.header_len;
        tb_put16(sip + 2, (uint16_t)(ip.total_len - cut));
        tb_put16(sip + 10, 0);
        tb_put16(sip + 10, tb_csum(sip, ip.header_len));
        tb_put16(stcp + 16, 0);
        uint32_t sum = tb_ipv4_pseudo_sum(ip.src, ip.dst, TB_IPPROTO_TCP, (uint16_t)l4_len);
        tb_put16(stcp + 16, tb_csum_fold(tb_csum_partial(stcp, l4_len, sum)));
        f = small;
        l4 = stcp;
    }
    emit_wire(w, what, 0, f, len);
    char name[64];
    snprintf(name, sizeof(name), "%s-ip", what);
    emit_wire(w, name, 2 | 8, f + off, len - off);
    snprintf(name, sizeof(name), "%s-tcp", what);
    /* The bare segment, with its header and a little payload: checksum fixed. */
    emit_wire(w, name, 4 | 8, l4, l4_len < 96 ? l4_len : 96);
}

/* Hand-written option blocks the simulator never sends. */
static void wire_extras(const char *dir) {
    static const uint8_t opts[][24] = {
        {20, 1, 1, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 9},                  /* SACK 1 block after NOPs */
        {20, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 2, 0xff, 0xff},            /* TS, unknown kind 30 */
        {16, 2, 4, 5, 0xb4, 4, 2, 3, 3, 14, 0},                             /* MSS, SACK-perm, WS 14 */
        {8, 0xfe, 6, 0xf9, 0x89, 0, 0},                                     /* experimental option */
        {4, 1, 1, 0, 0},                                                    /* NOP NOP EOL */
    };
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        uint8_t seg[1 + 20 + 40 + 4];
        size_t olen = opts[i][0];
        memset(seg, 0, sizeof(seg));
        seg[0] = 4 | 8;
        uint8_t *t = seg + 1;
        tb_put16(t, 40000);
        tb_put16(t + 2, 80);
        tb_put32(t + 4, 1000);
        tb_put32(t + 8, 2000);
        t[12] = (uint8_t)(((20 + olen) / 4) << 4);
        t[13] = (i == 2) ? TB_TCP_SYN : TB_TCP_ACK;
        tb_put16(t + 14, 65535);
        memcpy(t + 20, opts[i] + 1, olen);
        memcpy(t + 20 + olen, "data", 4);
        char name[64];
        snprintf(name, sizeof(name), "tcp-options-%zu", i);
        write_file(dir, name, seg, 1 + 20 + olen + 4);
    }
}

/* ---- stack ------------------------------------------------------------------ */

struct prog {
    uint8_t b[2048];
    size_t n;
};

static void put(struct prog *p, int count, ...) {
    va_list ap;
    va_start(ap, count);
    for (int i = 0; i < count && p->n < sizeof(p->b); i++) p->b[p->n++] = (uint8_t)va_arg(ap, int);
    va_end(ap);
}
#define P(prog, ...) put(prog, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), __VA_ARGS__)

static void op16(struct prog *p, int op, int a, int v) { P(p, op, a, (v >> 8) & 0xff, v & 0xff); }

static void stack_seeds(const char *dir) {
    struct prog p;
    /* The set-up alone, under each option set. */
    for (int cfg = 0; cfg < 4; cfg++) {
        p.n = 0;
        static const uint8_t cfgs[4] = {0x00, 0x07, 0x38, 0xc8};
        static const uint8_t syns[4] = {0x00, 0x8f, 0x72, 0x02};
        P(&p, cfgs[cfg], syns[cfg]);
        char name[64];
        snprintf(name, sizeof(name), "setup-%d", cfg);
        write_file(dir, name, p.b, p.n);
    }
    /* The application sends; the peer ACKs everything; then timers. */
    p.n = 0;
    P(&p, 0, 0);
    op16(&p, FZ_OP_SEND, 0, 6000);
    P(&p, FZ_OP_ACK, 0, 0);
    op16(&p, FZ_OP_SEND, 0, 3000);
    P(&p, FZ_OP_TIMERS, 8);
    P(&p, FZ_OP_ACK, 0, 0);
    write_file(dir, "send-ack", p.b, p.n);
    /* The peer sends in order, the application reads, both shut down. */
    p.n = 0;
    P(&p, 0, 0);
    P(&p, FZ_OP_DATA, 0, 100, FZ_OP_DATA, 0, 250, FZ_OP_DATA, 0, 255);
    op16(&p, FZ_OP_RECV, 0, 8000);
    P(&p, FZ_OP_SHUTDOWN, 0);
    /* FIN|ACK at rcv_nxt acking all */
    P(&p, FZ_OP_SEGMENT, 0, 2, 0, 0, 0, 0, 0, 0, 0);
    op16(&p, FZ_OP_RECV_BUF, 0, 4000);
    P(&p, FZ_OP_CLOSE, 0, FZ_OP_TIMERS, 16);
    write_file(dir, "data-recv-close", p.b, p.n);
    /* Out of order: a segment 2 MSS ahead with SACK, then the hole. */
    p.n = 0;
    P(&p, 0, 0);
    /* SEGMENT conn0 ACK, seq = rcv_nxt + 2*1448 (scale 1448: ssel bits 2-3 = 2), payload 1000 */
    P(&p, FZ_OP_SEGMENT, 0, 0, 0x08, 2, 0, 0, 0, 0x01, 232);
    P(&p, FZ_OP_SEGMENT, 0, 0, 0x08, 1, 0, 0, 0, 0x01, 232);
    P(&p, FZ_OP_DATA, 0, 255, FZ_OP_DATA, 0, 255);
    op16(&p, FZ_OP_RECV, 0, 8191);
    write_file(dir, "out-of-order", p.b, p.n);
    /* The application sends; the peer SACKs parts, then dup-ACKs. */
    p.n = 0;
    P(&p, 0, 0);
    op16(&p, FZ_OP_SEND, 0, 8000);
    P(&p, FZ_OP_SEGMENT, 0, 0, 0, 1, 0, 0, 0x03, 1, 4, 0, 2, 0); /* ack snd_una, TS+SACK 1 block */
    P(&p, FZ_OP_SEGMENT, 0, 0, 0, 1, 0, 0, 0x03, 1, 8, 0, 8, 0);
    P(&p, FZ_OP_SEGMENT, 0, 0, 0, 1, 0, 0, 0x03, 1, 12, 0, 2, 0);
    P(&p, FZ_OP_TIMERS, 4, FZ_OP_ACK, 0, 0);
    write_file(dir, "sack-dupack", p.b, p.n);
    /* Zero window: the peer closes its window, persist probes, reopens. */
    p.n = 0;
    P(&p, 0, 0);
    op16(&p, FZ_OP_SEND, 0, 7000);
    P(&p, FZ_OP_ACK, 0, 0x40);
    op16(&p, FZ_OP_SEND, 0, 7000);
    P(&p, FZ_OP_TIMERS, 10, FZ_OP_ACK, 0, 0);
    write_file(dir, "zero-window", p.b, p.n);
    /* PMTU: ICMP fragmentation needed (next hop 576) quoting in-flight data. */
    p.n = 0;
    P(&p, 0, 0);
    op16(&p, FZ_OP_SEND, 0, 4000);
    P(&p, FZ_OP_ICMP, 0x80, 0, 0x02, 0x40, 0);
    P(&p, FZ_OP_ICMP, 1, 0, 0, FZ_OP_TIMERS, 6);
    write_file(dir, "icmp-pmtu", p.b, p.n);
    /* Echo request, ARP changes. */
    p.n = 0;
    P(&p, 0, 0);
    P(&p, FZ_OP_ICMP, 5, 0, 0x12, 0x34, 0, 1, 16, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 1, 2, 3, 4, 5, 6, 7, 8);
    P(&p, FZ_OP_ARP, 0x03, FZ_OP_ARP, 0x00, FZ_OP_TIME, 0xc0, 0x10);
    write_file(dir, "echo-arp", p.b, p.n);
    /* Active open: connect, the peer answers SYN-ACK, data, close. */
    p.n = 0;
    P(&p, 0, 0);
    P(&p, FZ_OP_CONNECT, 0, 1);
    /* SYN|ACK (preset 6) on conn 1 at peer_isn, ack iss+1, TS+MSS+WS+SACKperm */
    P(&p, FZ_OP_SEGMENT, 1, 6, 2, 0, 2, 0, 0, 0x1d, 0x05, 0xb4, 7);
    op16(&p, FZ_OP_SEND, 1, 2000);
    P(&p, FZ_OP_ACK, 1, 0, FZ_OP_DATA, 1, 50);
    op16(&p, FZ_OP_RECV, 1, 100);
    P(&p, FZ_OP_CLOSE, 1, FZ_OP_ACK, 1, 0, FZ_OP_SEGMENT, 1, 2, 0, 0, 0, 0, 0, 0, 0, FZ_OP_TIMERS, 20);
    write_file(dir, "active-open", p.b, p.n);
    /* SYNs beyond the SYN queue: cookies; accept what completes. */
    p.n = 0;
    P(&p, 0, 0);
    for (int i = 0; i < 4; i++) P(&p, FZ_OP_SYN, 0, i, 0x01, 0);
    P(&p, FZ_OP_ACK, 1, 0, FZ_OP_ACK, 2, 0, FZ_OP_ACK, 3, 0, FZ_OP_ACCEPT, 0, FZ_OP_ACCEPT, 0);
    P(&p, FZ_OP_ABORT, 1, FZ_OP_TIMERS, 8);
    write_file(dir, "syn-cookies", p.b, p.n);
    /* Keepalive on: idle until probes time the connection out. */
    p.n = 0;
    P(&p, 0x80, 0, FZ_OP_TIMERS, 31, FZ_OP_TIMERS, 31);
    write_file(dir, "keepalive", p.b, p.n);
    /* RST in window, challenge ACK for an out-of-window SYN. */
    p.n = 0;
    P(&p, 0, 0);
    P(&p, FZ_OP_SEGMENT, 0, 5, 0x0c, 5, 0, 0, 0, 0, 0);   /* SYN far ahead */
    P(&p, FZ_OP_SEGMENT, 0, 3, 0, 0, 0, 0, 0, 0);         /* RST at rcv_nxt */
    op16(&p, FZ_OP_RECV, 0, 10);
    write_file(dir, "rst-challenge", p.b, p.n);
    /* Raw header bytes with odd options; a raw frame. */
    p.n = 0;
    P(&p, 0, 0);
    P(&p, FZ_OP_RAW_TCP, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x10, 0xff, 0xff, 0, 0, 0, 0, 8, 10, 0, 0, 0,
      1, 0, 0, 0, 0, 1, 1, 5, 0);
    P(&p, FZ_OP_RAW_FRAME, 1, 0, 40, 0x46, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1, 1, 1, 0, 0);
    write_file(dir, "raw", p.b, p.n);
    /* Setopt and zero-copy sends, then shutdown and the peer's FIN. */
    p.n = 0;
    P(&p, 0x08, 0);
    P(&p, FZ_OP_SETOPT, 0, 0, 4, FZ_OP_SETOPT, 0, 10, 0);
    op16(&p, FZ_OP_SEND_BUF, 0, 1500);
    op16(&p, FZ_OP_SEND_BUF, 0, 1999);
    P(&p, FZ_OP_ACK, 0, 0, FZ_OP_SHUTDOWN, 0);
    P(&p, FZ_OP_SEGMENT, 0, 2, 0, 0, 0, 0, 0, 0, 0, FZ_OP_TIMERS, 4, FZ_OP_CLOSE, 0, FZ_OP_TIMERS, 31);
    write_file(dir, "zero-copy-shutdown", p.b, p.n);
}

/* ---- faults ---------------------------------------------------------------- */

struct recorder {
    char specs[64][128];
    size_t n;
};

static void record(void *ctx, tb_time_ns now, const char *spec) {
    (void)now;
    struct recorder *r = ctx;
    if (r->n < 64) snprintf(r->specs[r->n++], sizeof(r->specs[0]), "%s", spec);
}

/* Encodes one recorded spec as a 5-byte `faults` record; false if the
 * format cannot say it (e.g. a match number above 64). */
static bool encode_fault(const char *text, uint8_t rec[5]) {
    struct fault_spec f;
    char err[200];
    if (!fault_parse(text, &f, err, sizeof(err))) return false;
    unsigned dir = f.both_ways ? 2 : strcmp(f.from, "A") == 0 ? 0 : 1;
    unsigned what;
    if (f.proto == FP_TCP) what = (unsigned)f.kind;       /* 0 any .. 7 retransmit */
    else if (f.proto == FP_ARP) what = 8;
    else if (f.proto == FP_ANY && f.kind == FK_ANY) what = 9;
    else return false;
    if (f.action == FA_BLACKOUT || f.first == 0) return false;
    bool rare = what >= 1 && what <= 4;
    if (f.first > (rare ? 4u : 64u) || f.last - f.first > 3) return false;
    rec[0] = (uint8_t)(f.action + dir * 8);
    rec[1] = (uint8_t)what;
    rec[2] = (uint8_t)(f.first - 1);
    rec[3] = (uint8_t)(f.last - f.first);
    rec[4] = 0;
    if (f.action == FA_DELAY) {
        long long ms = f.delay_ns / 1000000;
        rec[4] = (uint8_t)(ms / 10 > 255 ? 255 : ms / 10);
    }
    if (f.action == FA_CORRUPT && f.bit >= 0) {
        rec[3] |= (uint8_t)(((f.bit >> 8) & 0x3f) << 2);
        rec[4] = (uint8_t)f.bit;
    }
    return true;
}

static void faults_seeds(const char *dir) {
    struct setting {
        const char *name;
        uint8_t h[4];
        double loss, reorder, duplicate, corrupt;
    } settings[] = {
        {"loss", {1, 30, 0x05, 0x09}, 0.03, 0, 0, 0},
        {"loss-small-window", {2, 40, 0x10, 0x0a}, 0.05, 0, 0, 0},
        {"reorder", {3, 20, 0x0f, 0x09}, 0, 0.05, 0, 0},
        {"duplicate", {4, 25, 0x45, 0x09}, 0, 0, 0.05, 0},
        {"corrupt", {5, 35, 0x85, 0x01}, 0, 0, 0, 0.05},
        {"mixed", {6, 40, 0x2a, 0x19}, 0.02, 0.02, 0.02, 0.02},
    };
    for (size_t s = 0; s < sizeof(settings) / sizeof(settings[0]); s++) {
        struct fz_faults_case c;
        fz_faults_decode(settings[s].h, 4, &c);
        struct recorder rec = {.n = 0};
        c.opts.link.loss = settings[s].loss;
        c.opts.link.reorder = settings[s].reorder;
        c.opts.link.duplicate = settings[s].duplicate;
        c.opts.link.corrupt = settings[s].corrupt;
        c.opts.on_fault = record;
        c.opts.on_fault_ctx = &rec;
        struct sim_bulk_result r;
        if (sim_bulk_run(&c.opts, &r) != 0) {
            fprintf(stderr, "gen_corpus: bulk run failed: %s\n", r.error);
            exit(1);
        }
        uint8_t buf[FZ_FAULTS_HEADER + FZ_FAULTS_MAX * FZ_FAULT_RECORD];
        memcpy(buf, settings[s].h, FZ_FAULTS_HEADER);
        size_t n = FZ_FAULTS_HEADER;
        for (size_t i = 0; i < rec.n && n < sizeof(buf); i++)
            if (encode_fault(rec.specs[i], buf + n)) n += FZ_FAULT_RECORD;
        write_file(dir, settings[s].name, buf, n);
    }
    /* Hand-written schedules of the faults that hurt most. */
    static const uint8_t hand[][FZ_FAULTS_HEADER + 3 * FZ_FAULT_RECORD] = {
        {7, 20, 0x05, 0x09, 0, 1, 0, 2, 0, 1, 2, 0, 0, 20, 0, 4, 0, 0, 0},    /* drop SYN #1-3, delay SYN-ACK, drop an RST */
        {8, 20, 0x05, 0x09, 8, 2, 0, 1, 0, 0, 3, 0, 0, 0},                    /* drop SYN-ACK, drop FIN */
        {9, 30, 0x05, 0x09, 0, 7, 0, 3, 0, 0, 5, 4, 3, 0, 1, 5, 9, 0, 30},     /* drop retransmits, data, delay data */
        {10, 30, 0x05, 0x09, 4, 0, 20, 0, 50},                                 /* blackout 1 s..1.51 s */
        {11, 40, 0x05, 0x09, 10, 4, 0, 0, 0, 2, 5, 10, 3, 0},                 /* drop B's RST, duplicate data */
    };
    static const size_t hand_len[] = {19, 14, 19, 9, 14};
    for (size_t i = 0; i < sizeof(hand) / sizeof(hand[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "hand-%zu", i);
        write_file(dir, name, hand[i], hand_len[i]);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: gen_corpus wire|stack|faults OUTDIR [PCAP...]\n");
        return 2;
    }
    const char *dir = argv[2];
    if (strcmp(argv[1], "wire") == 0) {
        for (int i = 3; i < argc; i++) {
            struct wire_ctx w;
            memset(&w, 0, sizeof(w));
            w.dir = dir;
            const char *base = strrchr(argv[i], '/');
            char tag[128];
            snprintf(tag, sizeof(tag), "%s", base ? base + 1 : argv[i]);
            char *dot = strrchr(tag, '.');
            if (dot != NULL) *dot = '\0';
            w.tag = tag;
            char err[256];
            if (tb_pcap_read(argv[i], on_wire_frame, &w, err, sizeof(err)) < 0) {
                fprintf(stderr, "gen_corpus: %s\n", err);
                return 1;
            }
        }
        wire_extras(dir);
        return 0;
    }
    if (strcmp(argv[1], "stack") == 0) {
        stack_seeds(dir);
        return 0;
    }
    if (strcmp(argv[1], "faults") == 0) {
        faults_seeds(dir);
        return 0;
    }
    fprintf(stderr, "gen_corpus: unknown target '%s'\n", argv[1]);
    return 2;
}
