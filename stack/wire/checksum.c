/* The Internet checksum, RFC 1071, and its incremental update, RFC 1624. */
#include "tcpbed/wire.h"

uint32_t tb_csum_partial(const void *data, size_t len, uint32_t initial) {
    const uint8_t *p = data;
    uint64_t sum = initial;
    /* Big-endian 16-bit words, read bytewise: no alignment assumptions. */
    while (len >= 2) {
        sum += (uint32_t)((p[0] << 8) | p[1]);
        p += 2;
        len -= 2;
    }
    if (len == 1) sum += (uint32_t)p[0] << 8;   /* RFC 1071 §4.1: pad odd byte with zero */
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

uint16_t tb_csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t tb_csum(const void *data, size_t len) { return tb_csum_fold(tb_csum_partial(data, len, 0)); }

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). RFC 1071's eqn. 2 can give
 * 0xffff where a full recomputation gives 0x0000 (RFC 1624 §4's example);
 * eqn. 3 agrees with recomputation for any data that is not all zeros. */
uint16_t tb_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word) {
    uint32_t sum = (uint16_t)~csum;
    sum += (uint16_t)~old_word;
    sum += new_word;
    return tb_csum_fold(sum);
}

uint16_t tb_csum_update32(uint16_t csum, uint32_t old_word, uint32_t new_word) {
    csum = tb_csum_update16(csum, (uint16_t)(old_word >> 16), (uint16_t)(new_word >> 16));
    return tb_csum_update16(csum, (uint16_t)old_word, (uint16_t)new_word);
}
