/* The platform side of the core's contract: how a broken invariant is
 * reported. stack/ cannot print (sans-I/O), so it calls this and we print
 * and abort, leaving a core dump / sanitizer trace behind. */
#include <stdio.h>
#include <stdlib.h>

#include "tcpbed/assert.h"

_Noreturn void tb_assert_failed(const char *file, int line, const char *expr) {
    fprintf(stderr, "tcpbed: assertion failed at %s:%d: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}
