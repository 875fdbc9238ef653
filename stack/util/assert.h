/* The core's assertions: TB_ASSERT (always on) comes from the public
 * tcpbed/assert.h; whole-structure walks only in test builds. */
#ifndef TB_UTIL_ASSERT_H
#define TB_UTIL_ASSERT_H

#include <stddef.h>

#include "tcpbed/assert.h"

/* Expensive checks (whole-structure walks) only in test builds. */
#ifdef TB_TESTING
#define TB_DEBUG_ASSERT(cond) TB_ASSERT(cond)
#else
/* Unevaluated, yet the operands count as used: no unused-variable warnings. */
#define TB_DEBUG_ASSERT(cond) ((void)sizeof((cond) ? 1 : 0))
#endif

#define TB_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
