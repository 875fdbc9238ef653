/* AFL++ shim: persistent mode with the test case in shared memory
 * (__AFL_FUZZ_INIT / __AFL_LOOP), built with afl-clang-fast or
 * afl-clang-lto. The shared-memory buffer is larger than the input, so each
 * test case is copied into an exact-size allocation first: an over-read by
 * one byte then lands outside it, where ASan sees it. Built without AFL's
 * compiler (no __AFL_FUZZ_TESTCASE_LEN), it reads one input from a file
 * argument or stdin, like afl-fuzz's fallback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

#define MAX_INPUT (1u << 20)

int main(int argc, char **argv) {
#ifdef __AFL_FUZZ_TESTCASE_LEN
    (void)argc;
    (void)argv;
    __AFL_INIT();
    const unsigned char *shm = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(100000)) {
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        uint8_t *copy = malloc(len > 0 ? len : 1);
        if (copy == NULL) abort();
        memcpy(copy, shm, len);
        fuzz_one(copy, len);
        free(copy);
    }
    return 0;
#else
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    uint8_t *buf = malloc(MAX_INPUT);
    if (buf == NULL) return 2;
    size_t len = fread(buf, 1, MAX_INPUT, f);
    if (f != stdin) fclose(f);
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) return 2;
    memcpy(copy, buf, len);
    free(buf);
    fuzz_one(copy, len);
    free(copy);
    return 0;
#endif
}
