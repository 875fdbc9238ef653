/* A seeded pseudo-random byte stream that sender and receiver both
 * regenerate: the receiver checks every byte without the data being stored
 * anywhere but in the stacks. */
#ifndef TB_SIM_STREAM_H
#define TB_SIM_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct sim_stream {
    uint64_t s[4];
    uint64_t word;
    unsigned word_left;   /* bytes of `word` not yet handed out */
    uint64_t offset;      /* bytes handed out so far */
};

void sim_stream_init(struct sim_stream *st, uint64_t seed);
void sim_stream_fill(struct sim_stream *st, uint8_t *out, size_t n);
/* Compares data with the next n bytes of the stream; returns the index of
 * the first difference, or n when all match. */
size_t sim_stream_check(struct sim_stream *st, const uint8_t *data, size_t n);

#endif
