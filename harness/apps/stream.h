/* A seeded pseudo-random byte stream that sender and receiver both
 * regenerate: the receiver checks every byte without the data being stored
 * anywhere but in the stacks. Word i is T[i mod 512] XOR K(i / 512): a
 * 4 KiB table drawn from the seed, keyed per 4 KiB block, so generating
 * costs a load and an XOR per 8 bytes while every position of every block
 * differs (corruption, duplication and reordering all show). */
#ifndef TB_APPS_STREAM_H
#define TB_APPS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define TB_STREAM_WORDS 512

struct tb_stream {
    uint64_t key;
    uint64_t offset;      /* bytes handed out so far */
    uint64_t table[TB_STREAM_WORDS];
};

void tb_stream_init(struct tb_stream *st, uint64_t seed);
void tb_stream_fill(struct tb_stream *st, uint8_t *out, size_t n);
/* Compares data with the next n bytes of the stream; returns the index of
 * the first difference, or n when all match. The stream moves on by n
 * either way. */
size_t tb_stream_check(struct tb_stream *st, const uint8_t *data, size_t n);

#endif
