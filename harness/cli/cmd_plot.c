/* tcpbed plot: a run's pictures, as SVG.
 *
 *   tcpbed plot DIR [--out FILE.svg] [--window FROM..UNTIL]
 *   tcpbed plot --pcap A.pcap [--faults faults.csv] [--trace-cc cc.csv] --out FILE.svg
 *
 * Top: a time-sequence graph of the connection the sender opened (tcptrace
 * style): data segments as vertical bars (retransmissions red), the ACK
 * line, the receive window's right edge, SACK blocks, frames the link
 * dropped (red crosses: data; orange: ACKs), RTOs and zero-window probes as
 * dashed lines. Bottom: cwnd, ssthresh and bytes in flight, and srtt on its
 * own scale. DIR is what `tcpbed sim ... --pcap-dir DIR` writes. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/cli/opts.h"
#include "sim/units.h"
#include "traces/pcap_reader.h"

struct pt {
    double t;                /* seconds */
    double a, b, c, d;       /* meaning depends on the series */
    int kind;
};

struct series {
    struct pt *v;
    size_t n, cap;
};

static void push(struct series *s, struct pt p) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        struct pt *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = p;
}

struct plot {
    bool have_syn, have_synack;
    uint32_t client_ip, isn_c, isn_s;
    uint16_t client_port;
    uint8_t wscale_c, wscale_s;
    bool ws_ok;
    double max_end;
    struct series data, rexmit, acks, wnd, sacks, drops, ack_drops, cc, marks;
    double t_first, t_last;
};

static void on_frame(void *ctx, tb_time_ns ts, const uint8_t *f, size_t len) {
    struct plot *p = ctx;
    double t = (double)ts / 1e9;
    struct tb_eth_repr eth;
    size_t off;
    struct tb_ipv4_repr ip;
    struct tb_tcp_repr th;
    if (tb_eth_parse(f, len, &eth, &off) != TB_WIRE_OK || eth.ethertype != TB_ETHERTYPE_IPV4) return;
    if (tb_ipv4_parse(f + off, len - off, &ip) != TB_WIRE_OK || ip.protocol != TB_IPPROTO_TCP) return;
    if (tb_tcp_parse(f + off + ip.header_len, ip.total_len - ip.header_len, ip.src, ip.dst, &th) != TB_WIRE_OK) return;
    if (p->t_first == 0 || t < p->t_first) p->t_first = t;
    if (t > p->t_last) p->t_last = t;
    bool syn = th.flags & TB_TCP_SYN, ack = th.flags & TB_TCP_ACK;
    if (syn && !ack && !p->have_syn) {
        p->have_syn = true;
        p->client_ip = ip.src;
        p->client_port = th.src_port;
        p->isn_c = th.seq;
        p->wscale_c = th.opts.has_wscale ? th.opts.wscale : 0;
        p->ws_ok = th.opts.has_wscale;
        return;
    }
    if (!p->have_syn) return;
    bool from_client = ip.src == p->client_ip && th.src_port == p->client_port;
    bool to_client = ip.dst == p->client_ip && th.dst_port == p->client_port;
    if (!from_client && !to_client) return;
    if (to_client && syn && ack) {
        p->have_synack = true;
        p->isn_s = th.seq;
        p->wscale_s = th.opts.has_wscale ? th.opts.wscale : 0;
        p->ws_ok = p->ws_ok && th.opts.has_wscale;
        return;
    }
    if (from_client) {
        double rel = (double)(uint32_t)(th.seq - p->isn_c);
        double len_b = (double)th.payload_len + ((th.flags & TB_TCP_FIN) ? 1 : 0);
        if (len_b == 0) return;
        struct pt pt = {.t = t, .a = rel, .b = rel + len_b};
        push(rel < p->max_end ? &p->rexmit : &p->data, pt);
        if (rel + len_b > p->max_end) p->max_end = rel + len_b;
    } else if (ack) {
        double rel = (double)(uint32_t)(th.ack - p->isn_c);
        push(&p->acks, (struct pt){.t = t, .a = rel});
        double scale = p->ws_ok ? (double)(1u << p->wscale_s) : 1;
        push(&p->wnd, (struct pt){.t = t, .a = rel + th.window * scale});
        for (int i = 0; i < th.opts.sack_count; i++)
            push(&p->sacks, (struct pt){.t = t, .a = (double)(uint32_t)(th.opts.sack[i].left - p->isn_c),
                                        .b = (double)(uint32_t)(th.opts.sack[i].right - p->isn_c)});
    }
}

/* Splits a CSV line in place; returns the field count. */
static int split_csv(char *line, char **fields, int max) {
    int n = 0;
    fields[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == ',') {
            *c = '\0';
            fields[n++] = c + 1;
        }
    return n;
}

static bool read_faults(struct plot *p, const char *path, const char *sender, char *err, size_t len) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, len, "cannot read faults '%s'", path);
        return false;
    }
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (lineno == 1) continue;   /* header */
        char *v[9];
        if (split_csv(line, v, 9) < 8) {
            snprintf(err, len, "%s:%d: expected time_ns,from,to,event,proto,kind,rel_seq,len,spec", path, lineno);
            fclose(f);
            return false;
        }
        const char *ev = v[3];
        bool dropped = strcmp(ev, "drop") == 0 || strcmp(ev, "loss") == 0 || strcmp(ev, "blackout") == 0 ||
                       strstr(ev, "-drop") != NULL;
        if (!dropped || strcmp(v[4], "tcp") != 0) continue;
        double t = strtod(v[0], NULL) / 1e9;
        if (strcmp(v[1], sender) == 0 && (strcmp(v[5], "data") == 0 || strcmp(v[5], "fin") == 0) && v[6][0])
            push(&p->drops, (struct pt){.t = t, .a = strtod(v[6], NULL)});
        else if (strcmp(v[1], sender) != 0)
            push(&p->ack_drops, (struct pt){.t = t});
    }
    fclose(f);
    return true;
}

static bool read_cc(struct plot *p, const char *path, const char *sender, char *err, size_t len) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, len, "cannot read cc trace '%s'", path);
        return false;
    }
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (lineno == 1) continue;
        char *v[14];
        if (split_csv(line, v, 14) < 14) {
            snprintf(err, len, "%s:%d: expected 14 columns (time_ns,host,conn,event,...)", path, lineno);
            fclose(f);
            return false;
        }
        if (strcmp(v[1], sender) != 0) continue;
        double t = strtod(v[0], NULL) / 1e9;
        double ssthresh = strtod(v[7], NULL);
        push(&p->cc, (struct pt){.t = t, .a = strtod(v[6], NULL), .b = ssthresh >= 4294967295.0 ? -1 : ssthresh,
                                 .c = strtod(v[8], NULL), .d = strtod(v[10], NULL) / 1e6});
        if (strcmp(v[3], "rto") == 0) push(&p->marks, (struct pt){.t = t, .kind = 0});
        if (strcmp(v[3], "persist") == 0) push(&p->marks, (struct pt){.t = t, .kind = 1});
        if (strcmp(v[3], "congestion") == 0 || strcmp(v[3], "recovery") == 0) push(&p->marks, (struct pt){.t = t, .kind = 2});
        if (strcmp(v[3], "tlp") == 0) push(&p->marks, (struct pt){.t = t, .kind = 3});
    }
    fclose(f);
    return true;
}

/* ---- drawing ------------------------------------------------------------ */
#define W 1100.0
#define H 820.0
#define L 90.0
#define R 80.0
#define TOP0 50.0
#define TOP1 480.0
#define BOT0 540.0
#define BOT1 770.0

struct axis {
    double lo, hi, p0, p1;   /* value range -> pixel range */
};

static double map(const struct axis *a, double v) {
    if (a->hi <= a->lo) return a->p0;
    return a->p0 + (v - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static double nice_step(double range, int target) {
    double raw = range / target, mag = pow(10, floor(log10(raw > 0 ? raw : 1)));
    double n = raw / mag;
    return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
}

static void ticks(FILE *f, const struct axis *a, bool vertical, double other0, double other1, const char *unit,
                  double divide, bool right) {
    double step = nice_step(a->hi - a->lo, 8);
    int decimals = step / divide >= 1 ? 0 : (int)ceil(-log10(step / divide));
    for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9; v += step) {
        double p = map(a, v);
        if (vertical) {
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", other0, p, other1, p);
            fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='%s'>%.*f%s</text>\n",
                    right ? other1 + 6 : other0 - 6, p + 4, right ? "start" : "end", decimals, v / divide, unit);
        } else {
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", p, other0, p, other1);
            fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%.*f%s</text>\n", p, other1 + 16,
                    decimals, v / divide, unit);
        }
    }
}

static bool in(double t, double t0, double t1) { return t >= t0 && t <= t1; }

static void draw(FILE *f, struct plot *p, double t0, double t1, const char *title) {
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif'>\n", W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='%.0f' y='24' font-size='15' font-weight='bold'>%s</text>\n", L, title);
    /* sequence range over the window */
    double lo = INFINITY, hi = -INFINITY;
    struct series *seqs[] = {&p->data, &p->rexmit, &p->acks, &p->drops};
    for (int s = 0; s < 4; s++)
        for (size_t i = 0; i < seqs[s]->n; i++) {
            struct pt *v = &seqs[s]->v[i];
            if (!in(v->t, t0, t1)) continue;
            if (v->a < lo) lo = v->a;
            double top = s < 2 ? v->b : v->a;
            if (top > hi) hi = top;
        }
    if (!(lo < hi)) {
        lo = 0;
        hi = 1;
    }
    struct axis x = {t0, t1, L, W - R}, y = {lo, hi + (hi - lo) * 0.02, TOP1, TOP0};
    fprintf(f, "<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='none' stroke='#888'/>\n", L, TOP0, W - L - R,
            TOP1 - TOP0);
    ticks(f, &x, false, TOP0, TOP1, "s", 1, false);
    ticks(f, &y, true, L, W - R, "K", 1000, false);
    fprintf(f, "<text x='20' y='%.0f' font-size='12' transform='rotate(-90 20 %.0f)'>relative sequence (bytes)</text>\n",
            (TOP0 + TOP1) / 2, (TOP0 + TOP1) / 2);
    fprintf(f, "<svg x='%.0f' y='%.0f' width='%.0f' height='%.0f' viewBox='%.0f %.0f %.0f %.0f' overflow='hidden'>\n", L,
            TOP0, W - L - R, TOP1 - TOP0, L, TOP0, W - L - R, TOP1 - TOP0);
    /* window edge, ACK line (steps) */
    const char *colors[] = {"#bbb", "#2a2"};
    struct series *lines[] = {&p->wnd, &p->acks};
    for (int s = 0; s < 2; s++) {
        fprintf(f, "<path class='%s' fill='none' stroke='%s' stroke-width='1.2' d='", s ? "ack" : "window", colors[s]);
        bool first = true;
        for (size_t i = 0; i < lines[s]->n; i++) {
            struct pt *v = &lines[s]->v[i];
            if (!in(v->t, t0, t1)) continue;
            if (first) fprintf(f, "M%.1f %.1f", map(&x, v->t), map(&y, v->a));
            else fprintf(f, "H%.1f V%.1f", map(&x, v->t), map(&y, v->a));
            first = false;
        }
        fprintf(f, "'/>\n");
    }
    /* SACK blocks, data, retransmissions */
    struct { struct series *s; const char *cls, *color; double width, dx; } bars[] = {
        {&p->sacks, "sack", "#a3c", 2, 2}, {&p->data, "data", "#15c", 1.5, 0}, {&p->rexmit, "retransmit", "#d11", 3, 0}};
    for (int s = 0; s < 3; s++) {
        fprintf(f, "<path class='%s' stroke='%s' stroke-width='%.1f' d='", bars[s].cls, bars[s].color, bars[s].width);
        for (size_t i = 0; i < bars[s].s->n; i++) {
            struct pt *v = &bars[s].s->v[i];
            if (!in(v->t, t0, t1)) continue;
            double y0 = map(&y, v->a), y1 = map(&y, v->b);
            if (y0 - y1 < 3) y1 = y0 - 3;   /* a short segment stays visible */
            fprintf(f, "M%.1f %.1fV%.1f", map(&x, v->t) + bars[s].dx, y0, y1);
        }
        fprintf(f, "'/>\n");
    }
    /* A ring on every retransmission, so one lost segment is seen at a glance. */
    for (size_t i = 0; i < p->rexmit.n; i++) {
        struct pt *v = &p->rexmit.v[i];
        if (!in(v->t, t0, t1)) continue;
        fprintf(f, "<circle class='retransmit-mark' cx='%.1f' cy='%.1f' r='6' fill='none' stroke='#d11' stroke-width='2'/>\n",
                map(&x, v->t), map(&y, (v->a + v->b) / 2));
    }
    for (size_t i = 0; i < p->drops.n; i++) {
        struct pt *v = &p->drops.v[i];
        if (!in(v->t, t0, t1)) continue;
        double cx = map(&x, v->t), cy = map(&y, v->a);
        fprintf(f, "<path class='drop' stroke='#d11' stroke-width='2.5' d='M%.1f %.1fl10 10m0 -10l-10 10'/>\n", cx - 5,
                cy - 5);
    }
    fprintf(f, "</svg>\n");
    for (size_t i = 0; i < p->ack_drops.n; i++) {
        struct pt *v = &p->ack_drops.v[i];
        if (!in(v->t, t0, t1)) continue;
        fprintf(f, "<path class='ack-drop' stroke='#e80' stroke-width='2' d='M%.1f %.1fl8 8m0 -8l-8 8'/>\n",
                map(&x, v->t) - 4, TOP1 - 12);
    }
    for (size_t i = 0; i < p->marks.n; i++) {
        struct pt *v = &p->marks.v[i];
        if (!in(v->t, t0, t1)) continue;
        static const char *const names[] = {"RTO", "probe", "recovery", "TLP"};
        static const char *const mc[] = {"#d11", "#888", "#e80", "#a3c"};
        double mx = map(&x, v->t);
        fprintf(f, "<line class='mark-%s' x1='%.1f' y1='%.0f' x2='%.1f' y2='%.0f' stroke='%s' stroke-dasharray='4 3'/>\n",
                names[v->kind], mx, TOP0, mx, BOT1, mc[v->kind]);
        fprintf(f, "<text x='%.1f' y='%.0f' font-size='10' fill='%s'>%s</text>\n", mx + 2, TOP0 + 10, mc[v->kind],
                names[v->kind]);
    }
    /* legend */
    const char *items[][2] = {{"#15c", "data"}, {"#d11", "retransmission / drop (x)"}, {"#2a2", "ACK"},
                              {"#bbb", "window edge"}, {"#a3c", "SACK"}, {"#e80", "ACK dropped"}};
    for (int i = 0; i < 6; i++) {
        double lx = L + 10 + i * 160;
        fprintf(f, "<rect x='%.0f' y='32' width='12' height='8' fill='%s'/><text x='%.0f' y='40' font-size='11'>%s</text>\n",
                lx, items[i][0], lx + 16, items[i][1]);
    }
    /* bottom: cwnd, ssthresh, flight; srtt */
    double cmax = 1, smax = 1;
    for (size_t i = 0; i < p->cc.n; i++) {
        struct pt *v = &p->cc.v[i];
        if (!in(v->t, t0, t1)) continue;
        if (v->a > cmax) cmax = v->a;
        if (v->c > cmax) cmax = v->c;
        if (v->b > 0 && v->b < 4 * cmax && v->b > cmax) cmax = v->b;
        if (v->d > smax) smax = v->d;
    }
    struct axis yc = {0, cmax * 1.05, BOT1, BOT0}, ys = {0, smax * 1.1, BOT1, BOT0};
    fprintf(f, "<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='none' stroke='#888'/>\n", L, BOT0, W - L - R,
            BOT1 - BOT0);
    ticks(f, &x, false, BOT0, BOT1, "s", 1, false);
    ticks(f, &yc, true, L, W - R, "K", 1000, false);
    ticks(f, &ys, true, L, W - R, "ms", 1, true);
    fprintf(f, "<text x='20' y='%.0f' font-size='12' transform='rotate(-90 20 %.0f)'>bytes</text>\n", (BOT0 + BOT1) / 2,
            (BOT0 + BOT1) / 2);
    struct { int field; const char *cls, *color; struct axis *ax; } cl[] = {
        {0, "cwnd", "#15c", &yc}, {1, "ssthresh", "#e80", &yc}, {2, "flight", "#999", &yc}, {3, "srtt", "#2a2", &ys}};
    for (int s = 0; s < 4; s++) {
        fprintf(f, "<path class='%s' fill='none' stroke='%s' stroke-width='1.5' d='", cl[s].cls, cl[s].color);
        bool first = true;
        for (size_t i = 0; i < p->cc.n; i++) {
            struct pt *v = &p->cc.v[i];
            if (!in(v->t, t0, t1)) continue;
            double val = cl[s].field == 0 ? v->a : cl[s].field == 1 ? v->b : cl[s].field == 2 ? v->c : v->d;
            if (val < 0 || (cl[s].field == 1 && val > 4 * cmax)) {
                first = true;
                continue;
            }
            fprintf(f, first ? "M%.1f %.1f" : "H%.1f V%.1f", map(&x, v->t), map(cl[s].ax, val));
            first = false;
        }
        fprintf(f, "'/>\n");
        fprintf(f, "<rect x='%.0f' y='%.0f' width='12' height='8' fill='%s'/><text x='%.0f' y='%.0f' font-size='11'>%s%s</text>\n",
                L + 10 + s * 150, BOT0 - 14, cl[s].color, L + 26 + s * 150, BOT0 - 6, cl[s].cls,
                s == 3 ? " (right, ms)" : "");
    }
    fprintf(f, "<text x='%.0f' y='%.0f' font-size='12' text-anchor='middle'>virtual time (s)</text>\n", (L + W - R) / 2,
            H - 10);
    fprintf(f, "</svg>\n");
}

int cmd_plot(int argc, char **argv) {
    const char *pcap = NULL, *faults = NULL, *cc = NULL, *out = NULL, *window = NULL, *sender = "A";
    const char *dir = NULL;
    if (argc >= 1 && argv[0][0] != '-') {
        dir = argv[0];
        argc--;
        argv++;
    }
    const struct opt opts[] = {
        {"pcap", OPT_STRING, &pcap, "FILE", "the sender's capture (default DIR/A.pcap)", 0, 0},
        {"faults", OPT_STRING, &faults, "FILE", "fault log CSV (default DIR/faults.csv)", 0, 0},
        {"trace-cc", OPT_STRING, &cc, "FILE", "congestion-control trace CSV (default DIR/cc.csv)", 0, 0},
        {"sender", OPT_STRING, &sender, "HOST", "the host name of the sender in the CSVs (default A)", 0, 0},
        {"window", OPT_STRING, &window, "FROM..UNTIL", "plot only this stretch of virtual time, e.g. 1.2s..1.5s", 0, 0},
        {"out", OPT_STRING, &out, "FILE", "the SVG to write (default DIR/plot.svg)", 0, 0},
    };
    int rc = opts_parse("tcpbed plot",
                        "Draws a run as SVG: the time-sequence graph of the sender's connection (data, ACKs,\n"
                        "window, SACK blocks, retransmissions, drops, RTOs) and cwnd/ssthresh/flight/srtt.\n"
                        "usage: tcpbed plot DIR [options]   (DIR from tcpbed sim ... --pcap-dir DIR)\n"
                        "       tcpbed plot --pcap FILE [--faults FILE] [--trace-cc FILE] --out FILE.svg",
                        opts, (int)(sizeof(opts) / sizeof(opts[0])), argc, argv);
    if (rc != 0) return rc == 1 ? 0 : 2;
    char pbuf[1024], fbuf[1024], cbuf[1024], obuf[1024];
    if (dir != NULL) {
        if (pcap == NULL) snprintf(pbuf, sizeof(pbuf), "%s/A.pcap", dir), pcap = pbuf;
        if (faults == NULL) {
            snprintf(fbuf, sizeof(fbuf), "%s/faults.csv", dir);
            FILE *t = fopen(fbuf, "r");
            if (t != NULL) fclose(t), faults = fbuf;
        }
        if (cc == NULL) {
            snprintf(cbuf, sizeof(cbuf), "%s/cc.csv", dir);
            FILE *t = fopen(cbuf, "r");
            if (t != NULL) fclose(t), cc = cbuf;
        }
        if (out == NULL) snprintf(obuf, sizeof(obuf), "%s/plot.svg", dir), out = obuf;
    }
    if (pcap == NULL || out == NULL) {
        fprintf(stderr, "tcpbed plot: expected a run directory, or --pcap FILE and --out FILE\n"
                        "Try 'tcpbed plot --help'.\n");
        return 2;
    }
    double t0 = 0, t1 = INFINITY;
    if (window != NULL) {
        char a[64] = "", b[64] = "", uerr[160];
        const char *dots = strstr(window, "..");
        tb_time_ns ta, tb;
        if (dots == NULL || (size_t)(dots - window) >= sizeof(a) || strlen(dots + 2) >= sizeof(b)) goto bad_window;
        memcpy(a, window, (size_t)(dots - window));
        strcpy(b, dots + 2);
        if (!tb_parse_duration(a, &ta, uerr, sizeof(uerr)) || !tb_parse_duration(b, &tb, uerr, sizeof(uerr)) || tb <= ta)
            goto bad_window;
        t0 = (double)ta / 1e9;
        t1 = (double)tb / 1e9;
    }
    struct plot *p = calloc(1, sizeof(*p));
    char err[320];
    if (p == NULL) return 1;
    int64_t frames = tb_pcap_read(pcap, on_frame, p, err, sizeof(err));
    rc = 1;
    if (frames < 0) {
        fprintf(stderr, "tcpbed plot: %s\n", err);
        goto done;
    }
    if (!p->have_syn) {
        fprintf(stderr, "tcpbed plot: '%s' holds no TCP SYN: nothing to plot\n", pcap);
        goto done;
    }
    if ((faults != NULL && !read_faults(p, faults, sender, err, sizeof(err))) ||
        (cc != NULL && !read_cc(p, cc, sender, err, sizeof(err)))) {
        fprintf(stderr, "tcpbed plot: %s\n", err);
        goto done;
    }
    if (window == NULL) {
        t0 = 0;
        t1 = p->t_last > p->t_first ? p->t_last : p->t_first + 1;
    }
    FILE *f = fopen(out, "w");
    if (f == NULL) {
        fprintf(stderr, "tcpbed plot: cannot write '%s'\n", out);
        goto done;
    }
    char title[512];
    snprintf(title, sizeof(title), "%s: %zu data segments, %zu retransmissions, %zu drops, %zu RTO/probe marks", pcap,
             p->data.n, p->rexmit.n, p->drops.n, p->marks.n);
    draw(f, p, t0, t1, title);
    bool ok = fclose(f) == 0;
    if (ok) {
        printf("plot: %s (%zu data segments, %zu retransmissions, %zu drops marked, %zu RTO/probe marks)\n", out,
               p->data.n, p->rexmit.n, p->drops.n, p->marks.n);
        rc = 0;
    } else {
        fprintf(stderr, "tcpbed plot: writing '%s' failed\n", out);
    }
done : {
    struct series *all[] = {&p->data, &p->rexmit, &p->acks, &p->wnd, &p->sacks, &p->drops, &p->ack_drops, &p->cc, &p->marks};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) free(all[i]->v);
    free(p);
}
    return rc;
bad_window:
    fprintf(stderr, "tcpbed plot: --window: expected FROM..UNTIL such as 1.2s..1.5s, got '%s'\n", window);
    return 2;
}
