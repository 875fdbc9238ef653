/* Assertions on invariants stay on in every build (TIGER_STYLE): a broken
 * invariant is a bug to stop at, not to run past. The core cannot print, so
 * the platform that links it defines tb_assert_failed (harness/platform.c)
 * and decides how to report. Public, so every room asserts the same way. */
#ifndef TCPBED_ASSERT_H
#define TCPBED_ASSERT_H

_Noreturn void tb_assert_failed(const char *file, int line, const char *expr);

#define TB_ASSERT(cond) \
    ((cond) ? (void)0 : tb_assert_failed(__FILE__, __LINE__, #cond))

#define TB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
