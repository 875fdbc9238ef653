/* The Internet checksum, RFC 1071, and its incremental update, RFC 1624. */
#include <string.h>

#include "tcpbed/wire.h"

uint32_t tb_csum_partial(const void *data, size_t len, uint32_t initial) {
    /* RFC 1071 §2(B): the one's-complement sum is byte-order independent, so
     * sum native 64-bit words (memcpy: any alignment) and swap once at the
     * end on a little-endian host. */
    const uint8_t *p = data;
    uint64_t sum = 0;
    while (len >= 32) {
        uint64_t w[4];
        memcpy(w, p, sizeof(w));
        for (int i = 0; i < 4; i++) sum += (w[i] & 0xffffffffu) + (w[i] >> 32);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
        sum += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        uint16_t w;
        memcpy(&w, p, sizeof(w));
        sum += w;
        p += 2;
        len -= 2;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len == 1) sum += p[0];   /* RFC 1071 §4.1: the odd byte, zero-padded */
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    sum = ((sum & 0xff) << 8) | (sum >> 8);
#else
    if (len == 1) sum += (uint32_t)p[0] << 8;
#endif
    sum += initial;
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
