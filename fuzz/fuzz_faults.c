/* Fuzz target `faults`: the input is a fault schedule (at most 8 targeted
 * faults, each firing a bounded number of times) for a 20-60 KB bulk
 * transfer between two simulated stacks. The run must end, and either
 * pass or fail cleanly (a connection error the stack reported) with only
 * checked bytes delivered; anything else aborts. The decoder is
 * harness/fuzzin/fuzz_inputs.c (shared with `tcpbed fuzz-to-pcap`, which also prints
 * the `tcpbed sim bulk` line that reproduces an input). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "harness/fuzzin/fuzz_inputs.h"

int fuzz_one(const uint8_t *data, size_t len) {
    char why[320];
    if (!fz_faults_run(data, len, NULL, NULL, why, sizeof(why))) {
        struct fz_faults_case *c = malloc(sizeof(*c));
        char repro[2048] = "";
        if (c != NULL) {
            fz_faults_decode(data, len, c);
            fz_faults_repro(c, repro, sizeof(repro));
            free(c);
        }
        fprintf(stderr, "faults: property violated: %s\nreproduce with: %s\n", why, repro);
        abort();
    }
    return 0;
}
