/* libpcap headers use the BSD u_int/u_char types. */
#define _DEFAULT_SOURCE
#include "traces/pcap_reader.h"

#include <pcap/pcap.h>
#include <stdio.h>

int64_t tb_pcap_read(const char *path, tb_pcap_frame_fn fn, void *ctx, char *err, size_t err_len) {
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (p == NULL) {
        snprintf(err, err_len, "cannot read pcap '%s': %s", path, errbuf);
        return -1;
    }
    if (pcap_datalink(p) != DLT_EN10MB) {
        snprintf(err, err_len, "pcap '%s' is not Ethernet", path);
        pcap_close(p);
        return -1;
    }
    int64_t n = 0;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
        tb_time_ns ts = (tb_time_ns)hdr->ts.tv_sec * TB_NS_PER_S + (tb_time_ns)hdr->ts.tv_usec;
        fn(ctx, ts, data, hdr->caplen);
        n++;
    }
    if (rc == -1) {
        snprintf(err, err_len, "reading pcap '%s': %s", path, pcap_geterr(p));
        n = -1;
    }
    pcap_close(p);
    return n;
}
