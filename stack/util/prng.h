/* The core's generator is the public one (tcpbed/prng.h). */
#ifndef TB_UTIL_PRNG_H
#define TB_UTIL_PRNG_H

#include "tcpbed/prng.h"

#endif
