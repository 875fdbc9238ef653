/* The congestion-control trace (cc.csv): one line per congestion-control or
 * timer decision of every connection of a host, the format `tcpbed plot`
 * reads. One writer for every platform: attach it to a host. */
#ifndef TB_TRACES_CC_TRACE_H
#define TB_TRACES_CC_TRACE_H

#include <stdbool.h>
#include <stdio.h>

struct tb_host;

struct tb_cc_trace {
    FILE *f;
    char host[16];
};

/* The CSV header line; write it once per file, before any host's lines. */
void tb_cc_trace_header(FILE *f);
/* Writes every decision of h's stack to f, named by the host's name (a
 * host hook: any platform). The trace must outlive the host's run; false
 * when the host has no hook slot left. */
bool tb_cc_trace_attach(struct tb_cc_trace *t, struct tb_host *h, FILE *f);

#endif
