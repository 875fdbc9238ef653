/* Reading pcap files through libpcap, timestamps in nanoseconds. */
#ifndef TB_TRACES_PCAP_READER_H
#define TB_TRACES_PCAP_READER_H

#include <stddef.h>
#include <stdint.h>

#include "tcpbed/time.h"

typedef void (*tb_pcap_frame_fn)(void *ctx, tb_time_ns ts, const uint8_t *frame, size_t len);

/* Calls fn for every frame; returns the frame count, or -1 with err set. */
int64_t tb_pcap_read(const char *path, tb_pcap_frame_fn fn, void *ctx, char *err, size_t err_len);

#endif
