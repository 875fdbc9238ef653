/* libpcap headers use the BSD u_int/u_char types. */
#define _DEFAULT_SOURCE
#include "traces/pcap_writer.h"

#include "harness/host/host.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPLEN 65535

struct tb_pcap_writer {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint64_t frames;
};

struct tb_pcap_writer *tb_pcap_open(const char *path, char *err, size_t err_len) {
    struct tb_pcap_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
    if (w->dead == NULL) {
        snprintf(err, err_len, "pcap_open_dead failed");
        free(w);
        return NULL;
    }
    w->dumper = pcap_dump_open(w->dead, path);
    if (w->dumper == NULL) {
        snprintf(err, err_len, "cannot write pcap '%s': %s", path, pcap_geterr(w->dead));
        pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

void tb_pcap_write(struct tb_pcap_writer *w, tb_time_ns ts, const uint8_t *frame, size_t len) {
    struct pcap_pkthdr hdr;
    memset(&hdr, 0, sizeof(hdr));
    /* With nanosecond precision libpcap takes nanoseconds in tv_usec. */
    hdr.ts.tv_sec = (time_t)(ts / TB_NS_PER_S);
    hdr.ts.tv_usec = (suseconds_t)(ts % TB_NS_PER_S);
    hdr.len = (bpf_u_int32)len;
    hdr.caplen = (bpf_u_int32)(len < SNAPLEN ? len : SNAPLEN);
    pcap_dump((u_char *)w->dumper, &hdr, frame);
    w->frames++;
}

uint64_t tb_pcap_frames(const struct tb_pcap_writer *w) { return w->frames; }

int tb_pcap_flush(struct tb_pcap_writer *w) { return pcap_dump_flush(w->dumper) == 0 ? 0 : -1; }

int tb_pcap_close(struct tb_pcap_writer *w, char *err, size_t err_len) {
    if (w == NULL) return 0;
    int rc = 0;
    FILE *f = pcap_dump_file(w->dumper);
    if (pcap_dump_flush(w->dumper) != 0 || ferror(f)) {
        snprintf(err, err_len, "writing pcap failed: %s", strerror(errno));
        rc = -1;
    }
    pcap_dump_close(w->dumper);
    pcap_close(w->dead);
    free(w);
    return rc;
}

static void capture_frame(void *ctx, struct tb_host *h, enum tb_host_dir dir, tb_time_ns now, const uint8_t *frame,
                          size_t len) {
    (void)h;
    (void)dir;
    tb_pcap_write(ctx, now, frame, len);
}

bool tb_pcap_attach(struct tb_host *h, struct tb_pcap_writer *w) {
    struct tb_host_hooks hooks = {.on_frame = capture_frame, .ctx = w};
    return tb_host_add_hooks(h, &hooks);
}
