/* Virtual or real time as seen by the core: nanoseconds since an epoch the
 * caller chooses. The core never reads a clock; every entry point takes `now`. */
#ifndef TCPBED_TIME_H
#define TCPBED_TIME_H

#include <stdint.h>

typedef int64_t tb_time_ns;

#define TB_TIME_NEVER INT64_MAX
#define TB_NS_PER_US INT64_C(1000)
#define TB_NS_PER_MS INT64_C(1000000)
#define TB_NS_PER_S INT64_C(1000000000)

#endif
