/* Fuzz target `stack`: one stack with a listener and an established
 * connection, driven by the input as a sequence of frames from the peer
 * (mostly well-formed TCP aimed at known connections, some raw), time steps
 * and application calls. After every step the stack's self-checks must
 * hold, every frame it sends must parse, every byte it sends or delivers
 * must be one that was written; tb_stack_free at the end asserts that no
 * buffer leaked. The decoder is harness/fuzzin/fuzz_inputs.c (shared with
 * `tcpbed fuzz-to-pcap`); docs/fuzzing.md describes the format. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "harness/fuzzin/fuzz_inputs.h"

int fuzz_one(const uint8_t *data, size_t len) {
    char why[256];
    if (!fz_stack_run(data, len, NULL, NULL, NULL, why, sizeof(why))) {
        fprintf(stderr, "stack: property violated: %s\n", why);
        abort();
    }
    return 0;
}
