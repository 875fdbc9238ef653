#include "sim/faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/units.h"
#include "tcpbed/prng.h"
#include "tcpbed/seq.h"
#include "tcpbed/wire.h"

static const char *const action_names[] = {"drop", "delay", "duplicate", "corrupt", "blackout"};
static const char *const kind_names[] = {"any", "syn", "synack", "fin", "rst", "data", "ack", "retransmit"};
static const char *const proto_names[] = {"any", "tcp", "arp", "icmp"};

const char *fault_kind_name(enum fault_kind k) { return (unsigned)k < FK__COUNT ? kind_names[k] : "?"; }

static int lookup(const char *const *names, int n, const char *word) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], word) == 0) return i;
    return -1;
}

static bool parse_u64_word(const char *s, uint64_t *out) {
    char *end;
    if (*s < '0' || *s > '9') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') return false;
    *out = v;
    return true;
}

static bool parse_dir(const char *w, struct fault_spec *f) {
    const char *arrow = strstr(w, "<>");
    size_t skip = 2;
    f->both_ways = arrow != NULL;
    if (arrow == NULL) {
        arrow = strchr(w, '>');
        skip = 1;
    }
    if (arrow == NULL) return false;
    size_t a = (size_t)(arrow - w), b = strlen(arrow + skip);
    if (a == 0 || b == 0 || a >= sizeof(f->from) || b >= sizeof(f->to)) return false;
    memcpy(f->from, w, a);
    f->from[a] = '\0';
    memcpy(f->to, arrow + skip, b + 1);
    for (const char *p = f->from; *p; p++)
        if (*p == '<' || *p == '>') return false;
    for (const char *p = f->to; *p; p++)
        if (*p == '<' || *p == '>') return false;
    return true;
}

#define FAIL(...)                                   \
    do {                                            \
        snprintf(err, err_len, __VA_ARGS__);        \
        return false;                               \
    } while (0)

bool fault_parse(const char *text, struct fault_spec *out, char *err, size_t err_len) {
    struct fault_spec f;
    memset(&f, 0, sizeof(f));
    f.bit = -1;
    char buf[256];
    if (strlen(text) >= sizeof(buf)) FAIL("fault '%.40s...': longer than %zu characters", text, sizeof(buf) - 1);
    strcpy(buf, text);
    char *words[16];
    int n = 0;
    for (char *w = strtok(buf, " \t"); w != NULL && n < 16; w = strtok(NULL, " \t")) words[n++] = w;
    if (n == 0) FAIL("empty fault: expected e.g. 'drop A>B tcp data #3' (see docs/faults.md)");
    int action = lookup(action_names, 5, words[0]);
    if (action < 0)
        FAIL("fault '%s': word 1 '%s': expected an action: drop, delay, duplicate, corrupt or blackout", text,
             words[0]);
    f.action = (enum fault_action)action;
    if (n < 2 || !parse_dir(words[1], &f))
        FAIL("fault '%s': word 2 '%s': expected a direction such as A>B, B>A or A<>B", text, n < 2 ? "" : words[1]);
    bool have_proto = false, have_kind = false, have_window = false, have_delay = false;
    for (int i = 2; i < n; i++) {
        char *w = words[i];
        int k;
        char uerr[160];
        if ((k = lookup(proto_names, FP__COUNT, w)) >= 0 && !have_proto) {
            f.proto = (enum fault_proto)k;
            have_proto = true;
        } else if ((k = lookup(kind_names, FK__COUNT, w)) >= 0 && !have_kind) {
            f.kind = (enum fault_kind)k;
            have_kind = true;
        } else if (w[0] == '#') {
            char *dash = strchr(w + 1, '-');
            if (dash != NULL) *dash = '\0';
            if (!parse_u64_word(w + 1, &f.first) || f.first == 0 ||
                (dash != NULL && (!parse_u64_word(dash + 1, &f.last) || f.last < f.first)))
                FAIL("fault '%s': word %d: expected #N or #N-M with 1 <= N <= M", text, i + 1);
            if (dash == NULL) f.last = f.first;
        } else if (strncmp(w, "seq=", 4) == 0) {
            uint64_t v;
            if (!parse_u64_word(w + 4, &v) || v > UINT32_MAX)
                FAIL("fault '%s': word %d '%s': expected seq=N, a relative sequence number", text, i + 1, w);
            f.has_seq = true;
            f.seq = (uint32_t)v;
        } else if (strncmp(w, "bit=", 4) == 0) {
            uint64_t v;
            if (!parse_u64_word(w + 4, &v) || v > 8 * 1514)
                FAIL("fault '%s': word %d '%s': expected bit=N with N below %d", text, i + 1, w, 8 * 1514);
            f.bit = (int64_t)v;
        } else if (strstr(w, "..") != NULL) {
            char *dots = strstr(w, "..");
            *dots = '\0';
            if (!tb_parse_duration(w, &f.from_ns, uerr, sizeof(uerr)) ||
                !tb_parse_duration(dots + 2, &f.until_ns, uerr, sizeof(uerr)) || f.until_ns <= f.from_ns)
                FAIL("fault '%s': word %d: expected a time window FROM..UNTIL such as 1.2s..1.5s", text, i + 1);
            have_window = true;
        } else if (tb_parse_duration(w, &f.delay_ns, uerr, sizeof(uerr)) && !have_delay) {
            have_delay = true;
        } else {
            FAIL("fault '%s': word %d '%s': expected a protocol (tcp, arp, icmp), a kind (syn, synack, fin, rst, "
                 "data, ack, retransmit), #N, #N-M, seq=N, bit=N, a window FROM..UNTIL or a duration",
                 text, i + 1, w);
        }
    }
    if (!have_window) f.until_ns = TB_TIME_NEVER;
    if (have_kind && f.kind != FK_ANY && !have_proto) f.proto = FP_TCP;
    if (have_kind && f.kind != FK_ANY && f.proto != FP_TCP)
        FAIL("fault '%s': kind '%s' needs protocol tcp", text, kind_names[f.kind]);
    if (f.action == FA_DELAY && !have_delay) FAIL("fault '%s': delay needs a duration, e.g. 'delay A>B tcp syn 3s'", text);
    if (f.action != FA_DELAY && have_delay) FAIL("fault '%s': only delay takes a duration", text);
    if (f.action == FA_BLACKOUT && !have_window)
        FAIL("fault '%s': blackout needs a window, e.g. 'blackout A<>B 1.2s..1.5s'", text);
    if (f.action != FA_CORRUPT && f.bit >= 0) FAIL("fault '%s': only corrupt takes bit=N", text);
    if (f.has_seq && f.proto != FP_TCP) FAIL("fault '%s': seq=N needs protocol tcp", text);
    *out = f;
    return true;
}

void fault_format(const struct fault_spec *f, char *buf, size_t len) {
    size_t n = (size_t)snprintf(buf, len, "%s %s%s%s", action_names[f->action], f->from, f->both_ways ? "<>" : ">", f->to);
#define ADD(...)                                                  \
    do {                                                          \
        if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
    } while (0)
    if (f->proto != FP_ANY) ADD(" %s", proto_names[f->proto]);
    if (f->kind != FK_ANY) ADD(" %s", kind_names[f->kind]);
    if (f->has_seq) ADD(" seq=%u", f->seq);
    if (f->first != 0 && f->first == f->last) ADD(" #%llu", (unsigned long long)f->first);
    else if (f->first != 0) ADD(" #%llu-%llu", (unsigned long long)f->first, (unsigned long long)f->last);
    if (f->bit >= 0) ADD(" bit=%lld", (long long)f->bit);
    if (f->until_ns != TB_TIME_NEVER) ADD(" %lldns..%lldns", (long long)f->from_ns, (long long)f->until_ns);
    if (f->action == FA_DELAY) ADD(" %lldns", (long long)f->delay_ns);
#undef ADD
}

/* ---- classification -------------------------------------------------------- */
static struct fault_flow *flow_find(struct fault_tracker *t, uint32_t src, uint32_t dst, uint16_t sport,
                                    uint16_t dport) {
    uint32_t h = (src * 2654435761u) ^ (dst * 40503u) ^ ((uint32_t)sport << 16) ^ dport;
    for (uint32_t probe = 0; probe < FAULT_MAX_FLOWS; probe++) {
        struct fault_flow *fl = &t->flows[(h + probe) % FAULT_MAX_FLOWS];
        if (!fl->used) {
            fl->used = true;
            fl->src = src;
            fl->dst = dst;
            fl->sport = sport;
            fl->dport = dport;
            return fl;
        }
        if (fl->src == src && fl->dst == dst && fl->sport == sport && fl->dport == dport) return fl;
    }
    return NULL;   /* table full: no relative sequence numbers for new flows */
}

void fault_classify(struct fault_tracker *t, const uint8_t *frame, size_t len, struct frame_class *c) {
    memset(c, 0, sizeof(*c));
    c->kinds[FK_ANY] = true;
    /* Header views only: the link classifies what the sender put on the
     * wire, and checksums are the receiver's business. */
    /* Layer by layer rather than tb_view_frame: this runs for every frame
     * of a named link, and needs neither ARP's nor ICMP's fields. */
    struct {
        struct tb_eth_view eth;
        struct tb_ipv4_view ip;
        struct tb_tcp_view tcp;
    } v;
    bool eth = tb_view_eth(frame, len, &v.eth) == TB_WIRE_OK;
    if (eth && v.eth.ethertype == TB_ETHERTYPE_ARP) c->proto = FP_ARP;
    bool ipv4 = eth && v.eth.ethertype == TB_ETHERTYPE_IPV4 &&
                tb_view_ipv4(v.eth.payload, v.eth.payload_len, &v.ip) == TB_WIRE_OK && !v.ip.clamped;
    if (ipv4 && v.ip.protocol == TB_IPPROTO_ICMP) c->proto = FP_ICMP;
    /* RFC 791 §3.2: only the first fragment starts with the TCP header. */
    if (ipv4 && v.ip.protocol == TB_IPPROTO_TCP && v.ip.frag_offset == 0 &&
        tb_view_tcp(v.ip.payload, v.ip.payload_len, &v.tcp) == TB_WIRE_OK) {
        const struct tb_tcp_view *th = &v.tcp;
        c->proto = FP_TCP;
        bool syn = th->flags & TB_TCP_SYN, ack = th->flags & TB_TCP_ACK;
        bool fin = th->flags & TB_TCP_FIN, rst = th->flags & TB_TCP_RST;
        c->kinds[FK_SYN] = syn && !ack;
        c->kinds[FK_SYNACK] = syn && ack;
        c->kinds[FK_FIN] = fin;
        c->kinds[FK_RST] = rst;
        c->kinds[FK_DATA] = th->payload_len > 0;
        c->kinds[FK_ACK] = ack && th->payload_len == 0 && !syn && !fin && !rst;
        struct fault_flow *fl = flow_find(t, v.ip.src, v.ip.dst, th->src_port, th->dst_port);
        if (fl != NULL) {
            uint32_t end = th->seq + (uint32_t)th->payload_len + (syn ? 1 : 0) + (fin ? 1 : 0);
            if (syn && (!fl->have_isn || th->seq != fl->isn)) {
                fl->have_isn = true;   /* a new connection on this 4-tuple */
                fl->isn = th->seq;
                fl->max_end = th->seq;
            }
            if (fl->have_isn) {
                c->has_seq = true;
                c->rel_seq = th->seq - fl->isn;
                bool occupies = th->payload_len > 0 || syn || fin;
                c->kinds[FK_RETRANSMIT] = occupies && tb_seq_lt(th->seq, fl->max_end);
                if (tb_seq_gt(end, fl->max_end)) fl->max_end = end;
            }
        }
        if (c->kinds[FK_SYN]) c->primary = FK_SYN;
        else if (c->kinds[FK_SYNACK]) c->primary = FK_SYNACK;
        else if (c->kinds[FK_RST]) c->primary = FK_RST;
        else if (c->kinds[FK_DATA]) c->primary = FK_DATA;
        else if (c->kinds[FK_FIN]) c->primary = FK_FIN;
        else if (c->kinds[FK_ACK]) c->primary = FK_ACK;
    }
    for (int k = 0; k < FK__COUNT; k++)
        if (c->kinds[k]) {
            t->kind_count[c->proto][k]++;
            if (c->proto != FP_ANY) t->kind_count[FP_ANY][k]++;
        }
}

bool fault_match(struct fault_spec *f, bool reverse, const struct frame_class *c, tb_time_ns now) {
    if (f->proto != FP_ANY && f->proto != c->proto) return false;
    if (!c->kinds[f->kind]) return false;
    if (f->has_seq && (!c->has_seq || c->rel_seq != f->seq)) return false;
    if (now < f->from_ns || now >= f->until_ns) return false;
    uint64_t n = ++f->matched[reverse ? 1 : 0];
    if (f->first != 0 && (n < f->first || n > f->last)) return false;
    f->fired++;
    return true;
}

void fault_name_frame(const struct fault_tracker *t, const char *from, const char *to, const struct frame_class *c,
                      enum fault_action action, tb_time_ns delay_ns, int64_t bit, char *buf, size_t len) {
    uint64_t index = t->kind_count[c->proto][c->primary];
    size_t n = (size_t)snprintf(buf, len, "%s %s>%s %s", action_names[action], from, to, proto_names[c->proto]);
    if (c->primary != FK_ANY && n < len) n += (size_t)snprintf(buf + n, len - n, " %s", kind_names[c->primary]);
    if (n < len) n += (size_t)snprintf(buf + n, len - n, " #%llu", (unsigned long long)index);
    if (action == FA_CORRUPT && bit >= 0 && n < len) n += (size_t)snprintf(buf + n, len - n, " bit=%lld", (long long)bit);
    if (action == FA_DELAY && n < len) snprintf(buf + n, len - n, " %lldns", (long long)delay_ns);
}

/* ---- the fault stage ---------------------------------------------------------- */
void fault_stage_init(struct fault_stage *s, const char *from, const char *to, uint64_t run_seed, uint64_t index) {
    memset(s, 0, sizeof(*s));
    s->from = from;
    s->to = to;
    sim_rng_seed(&s->rng_loss, tb_derive_seed(run_seed, "link-loss", index));
    sim_rng_seed(&s->rng_burst, tb_derive_seed(run_seed, "link-burst", index));
    sim_rng_seed(&s->rng_reorder, tb_derive_seed(run_seed, "link-reorder", index));
    sim_rng_seed(&s->rng_dup, tb_derive_seed(run_seed, "link-duplicate", index));
    sim_rng_seed(&s->rng_corrupt, tb_derive_seed(run_seed, "link-corrupt", index));
}

void fault_stage_observe(struct fault_stage *s, const uint8_t *frame, size_t len, bool classify,
                         struct fault_frame *ff) {
    if (classify) {
        fault_classify(&s->tracker, frame, len, &ff->c);
    } else {
        ff->c.proto = FP_ANY;
        ff->c.primary = FK_ANY;
        ff->c.has_seq = false;
    }
    ff->u_loss = sim_rng_uniform(&s->rng_loss);
    ff->u_burst = sim_rng_uniform(&s->rng_burst);
    ff->u_reorder = sim_rng_uniform(&s->rng_reorder);
    ff->u_dup = sim_rng_uniform(&s->rng_dup);
    ff->u_corrupt = sim_rng_uniform(&s->rng_corrupt);
    ff->corrupt_bit = sim_rng_next(&s->rng_corrupt) % ((uint64_t)len * 8);
}

void fault_stage_decide(struct fault_stage *s, struct fault_spec *const *specs, size_t nspecs, tb_time_ns now,
                        const struct fault_frame *ff, size_t len, struct fault_verdict *v) {
    bool drop = false, blackout = false;
    v->flip_bit = -1;
    v->extra_delay_ns = 0;
    v->duplicate = false;
    for (size_t i = 0; i < nspecs; i++) {
        struct fault_spec *fs = specs[i];
        bool fwd = strcmp(fs->from, s->from) == 0 && strcmp(fs->to, s->to) == 0;
        bool rev = fs->both_ways && strcmp(fs->to, s->from) == 0 && strcmp(fs->from, s->to) == 0;
        if (!(fwd || rev) || !fault_match(fs, rev, &ff->c, now)) continue;
        switch (fs->action) {
        case FA_DROP: drop = true; break;
        case FA_BLACKOUT: blackout = true; break;
        case FA_DELAY: v->extra_delay_ns += fs->delay_ns; break;
        case FA_DUPLICATE: v->duplicate = true; break;
        case FA_CORRUPT: v->flip_bit = fs->bit >= 0 ? fs->bit % ((int64_t)len * 8) : (int64_t)ff->corrupt_bit; break;
        }
    }
    if (blackout) {
        v->outcome = FO_BLACKOUT;
        return;
    }
    const struct fault_random *p = &s->p;
    bool lost;
    if (p->ge) {
        /* Gilbert-Elliott: the channel changes state, then loses with that state's rate. */
        s->ge_bad = s->ge_bad ? !(ff->u_burst < p->ge_p_bg) : ff->u_burst < p->ge_p_gb;
        lost = ff->u_loss < (s->ge_bad ? p->ge_loss_bad : p->ge_loss_good);
    } else {
        lost = ff->u_loss < p->loss;
    }
    if (drop || lost) {
        v->outcome = drop ? FO_DROP : FO_LOSS;
        return;
    }
    v->outcome = FO_PASS;
    if (v->flip_bit < 0 && ff->u_corrupt < p->corrupt) v->flip_bit = (int64_t)ff->corrupt_bit;
    v->reorder = ff->u_reorder < p->reorder;
    v->duplicate = v->duplicate || ff->u_dup < p->duplicate;
}
