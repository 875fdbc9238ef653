#include "harness/cli/simflags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "sim/units.h"

void sim_flags_opts(struct sim_flags *f, struct opt *o) {
    const struct opt list[SIM_FLAG_OPTS] = {
        {"delay", OPT_DURATION, &f->delay_ns, "TIME", "one-way propagation delay", 0, 0},
        {"rate", OPT_RATE, &f->rate_bps, "RATE", "link bandwidth", 1, 0},
        {"queue", OPT_SIZE, &f->queue_bytes, "BYTES", "queue per direction (default: BDP + 64K)", 1514, 1u << 30},
        {"qdisc", OPT_STRING, &f->qdisc, "NAME", "queue discipline: droptail (default) or red", 0, 0},
        {"red", OPT_STRING, &f->red, "MIN,MAX,P", "RED thresholds (bytes) and max probability, e.g. 30K,90K,0.1", 0, 0},
        {"ecn-mark", OPT_SIZE, &f->ecn_mark_bytes, "BYTES", "mark CE on ECT frames above this queue", 1, 1u << 30},
        {"mtu", OPT_U64, &f->mtu, "BYTES", "link IP MTU; bigger frames are dropped (default 1500)", 68, 1500},
        {"jitter", OPT_DURATION, &f->jitter_ns, "TIME", "extra delay, uniform in [0, TIME]", 0, 0},
        {"jitter-keep-order", OPT_FLAG, &f->jitter_keep_order, NULL, "jitter never reorders frames", 0, 0},
        {"loss", OPT_STRING, &f->loss, "[DIR:]P", "random loss per frame, e.g. 0.01, 1% or A>B:0.01", 0, 0},
        {"burst-loss", OPT_STRING, &f->burst_loss, "[DIR:]PGB,PBG[,LG,LB]", "Gilbert-Elliott loss bursts", 0, 0},
        {"reorder", OPT_STRING, &f->reorder, "[DIR:]P", "probability of holding a frame back", 0, 0},
        {"reorder-delay", OPT_DURATION, &f->reorder_delay_ns, "TIME", "how long (default 2 frames + 1ms)", 1, 0},
        {"duplicate", OPT_STRING, &f->duplicate, "[DIR:]P", "probability of delivering a frame twice", 0, 0},
        {"corrupt", OPT_STRING, &f->corrupt, "[DIR:]P", "probability of flipping one bit of a frame", 0, 0},
        {"fault", OPT_LIST, &f->faults, "SPEC", "a targeted fault, e.g. 'drop A>B tcp data #3' (docs/faults.md)", 0, 0},
        {"expect", OPT_LIST, &f->expects, "EXPR", "a property of the run, e.g. 'rto_timeouts==0'", 0, 0},
        {"pcap", OPT_STRING, &f->pcap, "FILE", "write what host A sends and receives to a pcap", 0, 0},
        {"pcap-dir", OPT_STRING, &f->pcap_dir, "DIR", "write A.pcap, B.pcap, faults.csv, cc.csv into DIR (created as by mkdir -p; for plot)", 0, 0},
        {"fault-log", OPT_STRING, &f->fault_log, "FILE", "CSV of every fault and queue drop", 0, 0},
        {"trace-cc", OPT_STRING, &f->trace_cc, "FILE", "CSV of cwnd, ssthresh, srtt, rto at every decision", 0, 0},
        {"record-faults", OPT_STRING, &f->record_faults, "FILE", "write each fault that fired as an exact --fault spec", 0, 0},
        {"json", OPT_FLAG, &f->json, NULL, "print one JSON object instead of the summary", 0, 0},
    };
    memcpy(o, list, sizeof(list));
}

/* "[DIR:]VALUES" where DIR is A>B or B>A; no DIR means both directions. */
static bool split_dir(const char *text, bool *ab, bool *ba, const char **values) {
    *ab = *ba = true;
    *values = text;
    if (strncmp(text, "A>B:", 4) == 0) {
        *ba = false;
        *values = text + 4;
    } else if (strncmp(text, "B>A:", 4) == 0) {
        *ab = false;
        *values = text + 4;
    } else if (strchr(text, ':') != NULL) {
        return false;
    }
    return true;
}

static bool parse_probs(const char *s, double *out, int min, int max, int *count) {
    int n = 0;
    const char *p = s;
    while (*p && n < max) {
        char *end;
        double v = strtod(p, &end);
        if (end != p && *end == '%') {   /* 2% as network people write it */
            v /= 100;
            end++;
        }
        if (end == p || v < 0 || v > 1) return false;
        out[n++] = v;
        p = end;
        if (*p == ',') p++;
        else if (*p != '\0') return false;
    }
    *count = n;
    return *p == '\0' && n >= min;
}

static bool prob_flag(const char *name, const char *text, double *ab_out, double *ba_out, char *err, size_t len) {
    if (text == NULL) return true;
    bool ab, ba;
    const char *values;
    double v;
    int n;
    if (!split_dir(text, &ab, &ba, &values) || !parse_probs(values, &v, 1, 1, &n)) {
        snprintf(err, len, "--%s: expected a probability 0..1 or a percentage (0.02, 2%%), optionally after A>B: or B>A:, got '%s'", name, text);
        return false;
    }
    if (ab) *ab_out = v;
    if (ba) *ba_out = v;
    return true;
}

bool sim_flags_apply(const struct sim_flags *f, struct sim_link_params *ab, struct sim_link_params *ba, char *err,
                     size_t len) {
    struct sim_link_params *dirs[2] = {ab, ba};
    for (int i = 0; i < 2; i++) {
        struct sim_link_params *p = dirs[i];
        p->delay_ns = f->delay_ns;
        p->rate_bps = f->rate_bps;
        p->queue_bytes = (uint32_t)f->queue_bytes;
        p->jitter_ns = f->jitter_ns;
        p->jitter_keep_order = f->jitter_keep_order;
        p->reorder_delay_ns = f->reorder_delay_ns;
        p->mtu = (uint16_t)f->mtu;
        p->ecn_mark_bytes = (uint32_t)f->ecn_mark_bytes;
    }
    if (!prob_flag("loss", f->loss, &ab->loss, &ba->loss, err, len) ||
        !prob_flag("reorder", f->reorder, &ab->reorder, &ba->reorder, err, len) ||
        !prob_flag("duplicate", f->duplicate, &ab->duplicate, &ba->duplicate, err, len) ||
        !prob_flag("corrupt", f->corrupt, &ab->corrupt, &ba->corrupt, err, len))
        return false;
    if (f->burst_loss != NULL) {
        bool to_ab, to_ba;
        const char *values;
        double v[4] = {0, 0, 0, 1};
        int n;
        if (!split_dir(f->burst_loss, &to_ab, &to_ba, &values) || !parse_probs(values, v, 2, 4, &n)) {
            snprintf(err, len,
                     "--burst-loss: expected [DIR:]P_GOOD_TO_BAD,P_BAD_TO_GOOD[,LOSS_GOOD,LOSS_BAD], got '%s'",
                     f->burst_loss);
            return false;
        }
        if (n == 2) {
            v[2] = 0;
            v[3] = 1;
        }
        for (int i = 0; i < 2; i++) {
            if ((i == 0 && !to_ab) || (i == 1 && !to_ba)) continue;
            dirs[i]->ge = true;
            dirs[i]->ge_p_gb = v[0];
            dirs[i]->ge_p_bg = v[1];
            dirs[i]->ge_loss_good = v[2];
            dirs[i]->ge_loss_bad = v[3];
        }
    }
    if (f->qdisc != NULL && strcmp(f->qdisc, "droptail") != 0 && strcmp(f->qdisc, "red") != 0) {
        snprintf(err, len, "--qdisc: expected droptail or red, got '%s'", f->qdisc);
        return false;
    }
    if (f->qdisc != NULL && strcmp(f->qdisc, "red") == 0) {
        uint64_t lo = 0, hi = 0;
        double maxp = 0.1;
        char lo_s[32] = "", hi_s[32] = "", uerr[160];
        const char *red = f->red != NULL ? f->red : "";
        if (f->red == NULL || sscanf(red, "%31[^,],%31[^,],%lf", lo_s, hi_s, &maxp) != 3 ||
            !tb_parse_size(lo_s, &lo, uerr, sizeof(uerr)) || !tb_parse_size(hi_s, &hi, uerr, sizeof(uerr)) ||
            hi <= lo || maxp <= 0 || maxp > 1) {
            snprintf(err, len, "--red: expected MIN,MAX,P with MIN < MAX bytes and 0 < P <= 1, e.g. 30K,90K,0.1 "
                               "(--qdisc red needs it), got '%s'", red);
            return false;
        }
        for (int i = 0; i < 2; i++) {
            dirs[i]->qdisc = SIM_QDISC_RED;
            dirs[i]->red_min_bytes = (uint32_t)lo;
            dirs[i]->red_max_bytes = (uint32_t)hi;
            dirs[i]->red_max_p = maxp;
        }
    }
    return true;
}

static FILE *open_out(const char *dir, const char *name, const char *path, char *err, size_t len) {
    char buf[1024];
    if (path == NULL) {
        snprintf(buf, sizeof(buf), "%s/%s", dir, name);
        path = buf;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) snprintf(err, len, "cannot write '%s'", path);
    return f;
}

bool sim_outputs_open(const struct sim_flags *f, struct sim_outputs *out, char *err, size_t len) {
    out->fault_log = out->trace_cc = NULL;
    if (f->pcap_dir != NULL) {
        char why[320];
        if (cli_mkdir_p(f->pcap_dir, why, sizeof(why)) != 0) {   /* as mkdir -p would */
            snprintf(err, len, "--pcap-dir '%s': %s", f->pcap_dir, why);
            return false;
        }
    }
    if (f->fault_log != NULL || f->pcap_dir != NULL) {
        out->fault_log = open_out(f->pcap_dir, "faults.csv", f->fault_log, err, len);
        if (out->fault_log == NULL) return false;
    }
    if (f->trace_cc != NULL || f->pcap_dir != NULL) {
        out->trace_cc = open_out(f->pcap_dir, "cc.csv", f->trace_cc, err, len);
        if (out->trace_cc == NULL) {
            sim_outputs_close(out);
            return false;
        }
    }
    return true;
}

void sim_outputs_close(struct sim_outputs *out) {
    if (out->fault_log != NULL) fclose(out->fault_log);
    if (out->trace_cc != NULL) fclose(out->trace_cc);
    out->fault_log = out->trace_cc = NULL;
}
