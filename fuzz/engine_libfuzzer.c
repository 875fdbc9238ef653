/* libFuzzer shim: clang -fsanitize=fuzzer,address,undefined. libFuzzer
 * hands over an exact-size copy of each input already. */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_one(data, size);
    return 0;
}
