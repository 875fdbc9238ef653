/* A fuzz target is one function; the engine shims (engine_libfuzzer.c,
 * engine_afl.c, engine_replay.c) call it. It returns 0 and calls abort()
 * when a property does not hold. */
#ifndef TB_FUZZ_FUZZ_H
#define TB_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_one(const uint8_t *data, size_t len);

#endif
