/* pcap files through libpcap, nanosecond timestamps, Ethernet link type.
 * One writer serves the simulator (virtual time) and the real datapaths. */
#ifndef TB_TRACES_PCAP_WRITER_H
#define TB_TRACES_PCAP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/time.h"

struct tb_pcap_writer;
struct tb_host;

/* NULL on failure, with a message in err. */
struct tb_pcap_writer *tb_pcap_open(const char *path, char *err, size_t err_len);
/* Records one frame at time ts (ns since the epoch the caller uses). */
void tb_pcap_write(struct tb_pcap_writer *w, tb_time_ns ts, const uint8_t *frame, size_t len);
uint64_t tb_pcap_frames(const struct tb_pcap_writer *w);
/* Records every frame the host sends and receives, as it crosses the host's
 * port (a host hook: any platform). false when the host has no hook slot left. */
bool tb_pcap_attach(struct tb_host *h, struct tb_pcap_writer *w);
/* Pushes buffered records to the file, so a capture survives a crash that
 * follows (fuzz-to-pcap replays inputs that abort). 0, or -1 on error. */
int tb_pcap_flush(struct tb_pcap_writer *w);
/* Flushes and closes; returns 0, or -1 if any write failed (err set). */
int tb_pcap_close(struct tb_pcap_writer *w, char *err, size_t err_len);

#endif
