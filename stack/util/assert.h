/* Assertions on invariants stay on in every build (TIGER_STYLE): a broken
 * invariant in a deterministic core is a bug to stop at, not to run past.
 * The core cannot print, so the platform that links it defines
 * tb_assert_failed (harness/platform.c) and decides how to report. */
#ifndef TB_UTIL_ASSERT_H
#define TB_UTIL_ASSERT_H

_Noreturn void tb_assert_failed(const char *file, int line, const char *expr);

#define TB_ASSERT(cond) \
    ((cond) ? (void)0 : tb_assert_failed(__FILE__, __LINE__, #cond))

/* Expensive checks (whole-structure walks) only in test builds. */
#ifdef TB_TESTING
#define TB_DEBUG_ASSERT(cond) TB_ASSERT(cond)
#else
/* Unevaluated, yet the operands count as used: no unused-variable warnings. */
#define TB_DEBUG_ASSERT(cond) ((void)sizeof((cond) ? 1 : 0))
#endif

#define TB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TB_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
