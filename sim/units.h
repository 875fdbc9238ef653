/* Numbers the way network people write them. Each parser returns false and
 * fills err with what was expected when the text is not understood.
 *   durations: 250ns 250us 10ms 2s 1.5s 1m   (a unit is required, except for 0)
 *   rates:     9600bps 64kbps 10Mbps 1Gbps 2.5Gbps (decimal, bits per second)
 *   sizes:     1500 64K 10M 1G, also KB/KiB, MB/MiB, GB/GiB (binary: K = 1024) */
#ifndef TB_SIM_UNITS_H
#define TB_SIM_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpbed/time.h"

bool tb_parse_duration(const char *s, tb_time_ns *out, char *err, size_t err_len);
bool tb_parse_rate(const char *s, uint64_t *bps, char *err, size_t err_len);
bool tb_parse_size(const char *s, uint64_t *bytes, char *err, size_t err_len);
bool tb_parse_u64(const char *s, uint64_t *out, char *err, size_t err_len);
/* "1.5 ms" style for people. */
const char *tb_format_duration(tb_time_ns ns, char *buf, size_t len);
const char *tb_format_rate(double bps, char *buf, size_t len);

#endif
