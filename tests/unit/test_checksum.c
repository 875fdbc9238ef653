/* Unit tests for the Internet checksum in stack/wire/checksum.c:
 * tb_csum_partial / tb_csum_fold / tb_csum (RFC 1071) and the incremental
 * update tb_csum_update16 / tb_csum_update32 (RFC 1624). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tcpbed/wire.h"

/* ---- helpers ------------------------------------------------------------ */

/* Deterministic pseudo-random numbers (Knuth's MMIX LCG) so every run tests
 * the same inputs and a failure can be replayed; rand() is not portable. */
struct lcg { uint64_t s; };

static uint32_t lcg_next(struct lcg *g) {
    g->s = g->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g->s >> 32);   /* high bits: the low ones have short periods */
}

static void lcg_fill(struct lcg *g, uint8_t *p, size_t len) {
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)lcg_next(g);
}

/* Reference one's-complement sum written the textbook way (RFC 1071 §4.1,
 * but with the end-around carry after every addition rather than deferred),
 * so tb_csum_partial is checked against an independent algorithm. */
static uint16_t ref_sum(const uint8_t *p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2) {
        uint16_t word = (uint16_t)(p[i] << 8);
        if (i + 1 < len) word |= p[i + 1];   /* odd tail: low byte padded with zero */
        sum += word;
        if (sum > 0xffff) sum -= 0xffff;     /* end-around carry */
    }
    return (uint16_t)sum;
}

/* The RFC 1141 formula, RFC 1624 eqn. 2: HC' = HC + m + ~m'. Kept only to show
 * that the RFC 1624 §4 vector really distinguishes it from eqn. 3. */
static uint16_t eqn2_update16(uint16_t hc, uint16_t m, uint16_t m_new) {
    uint32_t sum = (uint32_t)hc + m + (uint16_t)~m_new;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

#define HDR_LEN 20
#define CSUM_OFF 10   /* the checksum field of an IPv4 header */

/* Full recomputation: checksum of hdr with its checksum field taken as zero. */
static uint16_t full_csum(const uint8_t hdr[HDR_LEN]) {
    uint8_t tmp[HDR_LEN];
    memcpy(tmp, hdr, HDR_LEN);
    tb_put16(tmp + CSUM_OFF, 0);
    return tb_csum(tmp, HDR_LEN);
}

/* ---- RFC 1071 vectors ----------------------------------------------------- */

/* RFC 1071 §3 worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2. */
static void test_rfc1071_section3_example(void **state) {
    (void)state;
    static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(tb_csum_partial(data, sizeof(data), 0), 0xddf2);
    assert_int_equal(tb_csum(data, sizeof(data)), 0x220d);
    assert_int_equal(tb_csum_fold(0xddf2), 0x220d);
}

/* RFC 1071 §2(B): byte-swapping the input swaps the bytes of the sum. */
static void test_rfc1071_byte_order_independence(void **state) {
    (void)state;
    static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    uint8_t swapped[sizeof(data)];
    for (size_t i = 0; i < sizeof(data); i += 2) {
        swapped[i] = data[i + 1];
        swapped[i + 1] = data[i];
    }
    assert_int_equal(tb_csum_partial(swapped, sizeof(swapped), 0), 0xf2dd);
}

/* All-zero data sums to +0 (0x0000), so its checksum is ~0 = 0xffff; the
 * empty buffer behaves the same and returns `initial` unchanged. */
static void test_all_zero_and_empty(void **state) {
    (void)state;
    static const uint8_t zeros[64];
    for (size_t len = 0; len <= sizeof(zeros); len++) {
        assert_int_equal(tb_csum_partial(zeros, len, 0), 0);
        assert_int_equal(tb_csum(zeros, len), 0xffff);
    }
    assert_int_equal(tb_csum_partial(zeros, 0, 0x1234), 0x1234);
}

/* RFC 1071 §4.1: an odd trailing byte is the high byte of a zero-padded word. */
static void test_odd_length_pads_with_zero(void **state) {
    (void)state;
    static const uint8_t one[] = {0xab};
    static const uint8_t three[] = {0x01, 0x02, 0x03};
    assert_int_equal(tb_csum_partial(one, 1, 0), 0xab00);
    assert_int_equal(tb_csum_partial(three, 3, 0), 0x0402);   /* 0x0102 + 0x0300 */

    /* Every odd length equals the next even length with a zero byte appended. */
    struct lcg g = {1};
    uint8_t data[130];
    for (size_t len = 1; len < sizeof(data); len += 2) {
        lcg_fill(&g, data, len);
        data[len] = 0;
        assert_int_equal(tb_csum_partial(data, len, 0), tb_csum_partial(data, len + 1, 0));
    }
}

/* The widely quoted example IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199):
 * its stored checksum b861 is what tb_csum computes, and the whole header
 * verifies to 0. */
static void test_known_ipv4_header(void **state) {
    (void)state;
    uint8_t hdr[HDR_LEN] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    assert_int_equal(tb_csum(hdr, sizeof(hdr)), 0);            /* RFC 1071 §1(3) verification */
    assert_int_equal(tb_csum_partial(hdr, sizeof(hdr), 0), 0xffff);
    assert_int_equal(full_csum(hdr), 0xb861);
}

/* Carries out of 16 bits are folded back however many there are: 64 KiB of
 * 0xff words sums to -0 (0xffff), i.e. checksum 0. */
static void test_large_buffer_folds_carries(void **state) {
    (void)state;
    static uint8_t ones[65536];
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(tb_csum_partial(ones, sizeof(ones), 0), 0xffff);
    assert_int_equal(tb_csum(ones, sizeof(ones)), 0);
    /* A large initial value (several pending carries) is folded too. */
    assert_int_equal(tb_csum_partial(ones, 0, 0xfffffffful), 0xffff);
    assert_int_equal(tb_csum_fold(0x0001fffeul), 0x0000);      /* 0xfffe + 1 = 0xffff, ~ = 0 */
}

/* tb_csum_partial agrees with the reference on random data of every length. */
static void test_random_matches_reference(void **state) {
    (void)state;
    struct lcg g = {42};
    static uint8_t data[1500];
    for (size_t len = 0; len <= sizeof(data); len += (len < 64 ? 1 : 37)) {
        lcg_fill(&g, data, len);
        assert_int_equal(tb_csum_partial(data, len, 0), ref_sum(data, len));
    }
}

/* ---- alignment ----------------------------------------------------------- */

/* The sum reads bytes, so data at any address gives the same answer
 * (a word-at-a-time implementation could fault or differ on odd addresses). */
static void test_unaligned_matches_aligned(void **state) {
    (void)state;
    struct lcg g = {7};
    _Alignas(16) uint8_t aligned[256];
    _Alignas(16) uint8_t shifted[256 + 8];
    for (size_t len = 0; len <= 200; len += 13) {
        lcg_fill(&g, aligned, len);
        uint32_t want = tb_csum_partial(aligned, len, 0);
        for (size_t off = 1; off < 8; off++) {
            memcpy(shifted + off, aligned, len);
            assert_int_equal(tb_csum_partial(shifted + off, len, 0), want);
            assert_int_equal(tb_csum(shifted + off, len), tb_csum(aligned, len));
        }
    }
}

/* ---- chaining ------------------------------------------------------------ */

/* sum(a||b) == partial(b, partial(a)) whenever a has even length (so b's
 * words stay aligned to the same byte pairs); this is how pseudo-headers chain. */
static void test_partial_chaining(void **state) {
    (void)state;
    struct lcg g = {99};
    uint8_t buf[300];
    lcg_fill(&g, buf, sizeof(buf));
    for (size_t alen = 0; alen <= 120; alen += 2) {
        for (size_t blen = 0; blen <= 61; blen += 7) {
            uint32_t whole = tb_csum_partial(buf, alen + blen, 0);
            uint32_t chained = tb_csum_partial(buf + alen, blen, tb_csum_partial(buf, alen, 0));
            assert_int_equal(chained, whole);
        }
    }
    /* Three pieces chain the same way. */
    uint32_t s = tb_csum_partial(buf, 12, 0);
    s = tb_csum_partial(buf + 12, 40, s);
    s = tb_csum_partial(buf + 52, 9, s);
    assert_int_equal(s, tb_csum_partial(buf, 61, 0));
}

/* ---- RFC 1624 incremental update ---------------------------------------- */

/* What the incremental tests assert, and why:
 * RFC 1624 §3 shows that a checksum computed from scratch over data that is
 * not all zero is never 0xffff (-0): the sum of non-zero data is never +0,
 * so its complement is never -0, though it can be +0 (0x0000). Eqn. 3,
 * HC' = ~(~HC + ~m + m'), keeps that property, so for any header whose data
 * is not all zero the update must equal a full recomputation *numerically*
 * -- in particular 0x0000 where the fresh checksum is 0x0000 (§4), and never
 * 0xffff. Only all-zero data (impossible in an IPv4 header, whose version
 * nibble is 4) has the fresh checksum 0xffff; that case is pinned separately
 * in test_update16_all_zero_data. */

/* RFC 1624 §4: HC = 0xdd2f, a field goes 0x5555 -> 0x3285. Eqn. 2 gives
 * 0xffff (-0); the correct result, from eqn. 3 and from scratch, is 0x0000. */
static void test_rfc1624_section4_example(void **state) {
    (void)state;
    assert_int_equal(tb_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
    assert_int_equal(eqn2_update16(0xdd2f, 0x5555, 0x3285), 0xffff);   /* the case discriminates */

    /* The same case in a real header: words sum to 0x22d0 (HC = 0xdd2f) and
     * the field at offset 2 changes 0x5555 -> 0x3285, making the sum 0xffff. */
    uint8_t hdr[HDR_LEN] = {0x45, 0x00, 0x55, 0x55, 0, 0, 0, 0, 0, 0,
                            0xdd, 0x2f, 0, 0, 0, 0, 0, 0, 0x88, 0x7a};
    assert_int_equal(full_csum(hdr), 0xdd2f);
    tb_put16(hdr + 2, 0x3285);
    assert_int_equal(full_csum(hdr), 0x0000);
    uint16_t inc = tb_csum_update16(0xdd2f, 0x5555, 0x3285);
    tb_put16(hdr + CSUM_OFF, inc);
    assert_int_equal(tb_csum(hdr, HDR_LEN), 0);
}

/* RFC 1624 erratum 4782: an "update" with m == m' must leave the checksum as
 * it was, including HC = 0x0000 (the erratum feared it would become 0xffff
 * with 16-bit arithmetic done wrong). */
static void test_update16_unchanged_field_keeps_checksum(void **state) {
    (void)state;
    static const uint16_t hcs[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0xdd2f, 0xfffe};
    static const uint16_t ms[] = {0x0000, 0x5555, 0xffff, 0x1234};
    for (size_t i = 0; i < sizeof(hcs) / sizeof(hcs[0]); i++)
        for (size_t j = 0; j < sizeof(ms) / sizeof(ms[0]); j++)
            assert_int_equal(tb_csum_update16(hcs[i], ms[j], ms[j]), hcs[i]);
}

/* All-zero data is the one place where eqn. 3 and a fresh computation differ
 * numerically: from scratch gives 0xffff, eqn. 3 (which never yields -0)
 * gives 0x0000. Both are one's-complement zero; the header can never be an
 * IPv4 header, so this only pins the documented behaviour of eqn. 3. */
static void test_update16_all_zero_data(void **state) {
    (void)state;
    uint8_t hdr[HDR_LEN] = {0};
    tb_put16(hdr + 4, 0x1234);
    uint16_t hc = full_csum(hdr);
    assert_int_equal(hc, 0xedcb);
    tb_put16(hdr + 4, 0);
    assert_int_equal(full_csum(hdr), 0xffff);
    assert_int_equal(tb_csum_update16(hc, 0x1234, 0x0000), 0x0000);
}

/* Offsets of 16-bit and 32-bit fields that do not overlap the checksum. */
static const size_t off16[] = {0, 2, 4, 6, 8, 12, 14, 16, 18};
static const size_t off32[] = {0, 2, 4, 6, 12, 14, 16};

static bool data_all_zero(const uint8_t hdr[HDR_LEN]) {
    for (size_t i = 0; i < HDR_LEN; i++)
        if (i != CSUM_OFF && i != CSUM_OFF + 1 && hdr[i] != 0) return false;
    return true;
}

/* Random headers, random 16-bit changes at even offsets: eqn. 3 equals the
 * full recomputation (see the comment above on 0x0000 / 0xffff), and each
 * header is updated many times in a row so errors would accumulate. */
static void test_update16_random_matches_full(void **state) {
    (void)state;
    struct lcg g = {0x1624};
    unsigned zero_results = 0;
    for (int hdr_i = 0; hdr_i < 2000; hdr_i++) {
        uint8_t hdr[HDR_LEN];
        lcg_fill(&g, hdr, HDR_LEN);
        uint16_t hc = full_csum(hdr);
        for (int step = 0; step < 16; step++) {
            size_t off = off16[lcg_next(&g) % (sizeof(off16) / sizeof(off16[0]))];
            uint16_t m = tb_get16(hdr + off);
            uint16_t m_new;
            uint32_t kind = lcg_next(&g) % 8;
            if (kind == 0) {
                /* Choose m' so the new data sums to -0: the fresh checksum is
                 * 0x0000, the RFC 1624 §4 corner where eqn. 2 goes wrong. */
                tb_put16(hdr + off, 0);
                tb_put16(hdr + CSUM_OFF, 0);
                m_new = (uint16_t)~ref_sum(hdr, HDR_LEN);
            } else if (kind == 1) {
                m_new = m;                                    /* no-op change */
            } else {
                m_new = (uint16_t)lcg_next(&g);
            }
            tb_put16(hdr + off, m_new);
            hc = tb_csum_update16(hc, m, m_new);
            assert_false(data_all_zero(hdr));   /* the fixed seed never hits it */
            assert_int_equal(hc, full_csum(hdr));
            assert_int_not_equal(hc, 0xffff);
            if (hc == 0) zero_results++;
            tb_put16(hdr + CSUM_OFF, hc);
            assert_int_equal(tb_csum(hdr, HDR_LEN), 0);
        }
    }
    assert_true(zero_results > 100);   /* the 0x0000 corner was really exercised */
}

/* The same for 32-bit fields (addresses: NAT rewrites them). */
static void test_update32_random_matches_full(void **state) {
    (void)state;
    struct lcg g = {0x32};
    unsigned zero_results = 0;
    for (int hdr_i = 0; hdr_i < 2000; hdr_i++) {
        uint8_t hdr[HDR_LEN];
        lcg_fill(&g, hdr, HDR_LEN);
        uint16_t hc = full_csum(hdr);
        for (int step = 0; step < 16; step++) {
            size_t off = off32[lcg_next(&g) % (sizeof(off32) / sizeof(off32[0]))];
            uint32_t m = tb_get32(hdr + off);
            uint32_t m_new;
            uint32_t kind = lcg_next(&g) % 8;
            if (kind == 0) {
                /* New data summing to -0 (fresh checksum 0x0000), reached by
                 * changing only the low half of the 32-bit field. */
                tb_put16(hdr + off + 2, 0);
                tb_put16(hdr + CSUM_OFF, 0);
                m_new = (m & 0xffff0000u) | (uint16_t)~ref_sum(hdr, HDR_LEN);
            } else if (kind == 1) {
                m_new = m;
            } else {
                m_new = lcg_next(&g);
            }
            tb_put32(hdr + off, m_new);
            hc = tb_csum_update32(hc, m, m_new);
            assert_false(data_all_zero(hdr));
            assert_int_equal(hc, full_csum(hdr));
            assert_int_not_equal(hc, 0xffff);
            if (hc == 0) zero_results++;
            tb_put16(hdr + CSUM_OFF, hc);
            assert_int_equal(tb_csum(hdr, HDR_LEN), 0);
        }
    }
    assert_true(zero_results > 100);
}

/* A TTL decrement on the known header (the router case RFC 1624 §1 cites). */
static void test_update16_ttl_decrement(void **state) {
    (void)state;
    uint8_t hdr[HDR_LEN] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint16_t old_word = tb_get16(hdr + 8);   /* TTL and protocol share a word */
    hdr[8]--;
    uint16_t hc = tb_csum_update16(0xb861, old_word, tb_get16(hdr + 8));
    assert_int_equal(hc, 0xb961);            /* TTL is the high byte: +0x0100 */
    assert_int_equal(hc, full_csum(hdr));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_section3_example),
        cmocka_unit_test(test_rfc1071_byte_order_independence),
        cmocka_unit_test(test_all_zero_and_empty),
        cmocka_unit_test(test_odd_length_pads_with_zero),
        cmocka_unit_test(test_known_ipv4_header),
        cmocka_unit_test(test_large_buffer_folds_carries),
        cmocka_unit_test(test_random_matches_reference),
        cmocka_unit_test(test_unaligned_matches_aligned),
        cmocka_unit_test(test_partial_chaining),
        cmocka_unit_test(test_rfc1624_section4_example),
        cmocka_unit_test(test_update16_unchanged_field_keeps_checksum),
        cmocka_unit_test(test_update16_all_zero_data),
        cmocka_unit_test(test_update16_random_matches_full),
        cmocka_unit_test(test_update32_random_matches_full),
        cmocka_unit_test(test_update16_ttl_decrement),
    };
    return cmocka_run_group_tests_name("checksum", tests, NULL, NULL);
}
