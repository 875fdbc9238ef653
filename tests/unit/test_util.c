/* util/: buffers and pools, the timer heap, the PRNG. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "util/pool.h"
#include "util/prng.h"
#include "util/timer.h"

static void pool_hands_out_every_buffer_then_reports_empty(void **state) {
    (void)state;
    struct tb_pool p;
    assert_int_equal(tb_pool_init(&p, 8, 256), 0);
    struct tb_buf *got[8];
    for (int i = 0; i < 8; i++) {
        got[i] = tb_pool_get(&p, 64);
        assert_non_null(got[i]);
        assert_int_equal(got[i]->refcnt, 1);
        assert_int_equal(tb_buf_headroom(got[i]), 64);
        assert_int_equal(got[i]->len, 0);
    }
    assert_null(tb_pool_get(&p, 0));   /* dry: NULL, never a crash */
    assert_int_equal(p.free_count, 0);
    assert_int_equal(p.low_water, 0);
    for (int i = 0; i < 8; i++) tb_buf_free(got[i]);
    assert_int_equal(p.free_count, 8);
    tb_pool_destroy(&p);
}

static void buffer_push_pull_put_respect_bounds(void **state) {
    (void)state;
    struct tb_pool p;
    assert_int_equal(tb_pool_init(&p, 1, 64), 0);
    struct tb_buf *b = tb_pool_get(&p, 16);
    assert_non_null(tb_buf_put(b, 48));
    assert_null(tb_buf_put(b, 1));          /* no tailroom left */
    assert_non_null(tb_buf_push(b, 16));
    assert_null(tb_buf_push(b, 1));         /* no headroom left */
    assert_int_equal(b->len, 64);
    assert_non_null(tb_buf_pull(b, 64));
    assert_null(tb_buf_pull(b, 1));
    tb_buf_free(b);
    tb_pool_destroy(&p);
}

static void refcount_keeps_a_shared_buffer_until_the_last_release(void **state) {
    (void)state;
    struct tb_pool p;
    assert_int_equal(tb_pool_init(&p, 2, 64), 0);
    struct tb_buf *b = tb_pool_get(&p, 0);
    tb_buf_ref(b);
    tb_buf_free(b);
    assert_int_equal(p.free_count, 1);      /* one holder left */
    tb_buf_free(b);
    assert_int_equal(p.free_count, 2);
    tb_pool_destroy(&p);
}

static void chain_copy_out_spans_segments_and_frees_every_segment(void **state) {
    (void)state;
    struct tb_pool p;
    assert_int_equal(tb_pool_init(&p, 3, 64), 0);
    struct tb_buf *a = tb_pool_get(&p, 0), *b = tb_pool_get(&p, 0), *c = tb_pool_get(&p, 0);
    memcpy(tb_buf_put(a, 3), "abc", 3);
    memcpy(tb_buf_put(b, 2), "de", 2);
    memcpy(tb_buf_put(c, 4), "fghi", 4);
    a->next = b;
    b->next = c;
    assert_int_equal(tb_buf_chain_len(a), 9);
    char out[16] = {0};
    assert_int_equal(tb_buf_copy_out(a, 2, out, 5), 5);
    assert_string_equal(out, "cdefg");
    assert_int_equal(tb_buf_copy_out(a, 8, out, 16), 1);
    assert_int_equal(tb_buf_copy_out(a, 9, out, 16), 0);
    tb_buf_free(a);
    assert_int_equal(p.free_count, 3);
    tb_pool_destroy(&p);
}

static int external_releases;
static void count_release(struct tb_buf *b, void *owner) {
    (void)b;
    (void)owner;
    external_releases++;
}

static void external_buffer_calls_its_owner_release_hook(void **state) {
    (void)state;
    /* How the DPDK platform will wrap an rte_mbuf: our descriptor, its bytes,
     * its release hook. */
    uint8_t storage[256];
    struct tb_buf b;
    external_releases = 0;
    tb_buf_init_external(&b, storage, sizeof(storage), 32, count_release, NULL);
    assert_int_equal(tb_buf_headroom(&b), 32);
    tb_buf_ref(&b);
    tb_buf_free(&b);
    assert_int_equal(external_releases, 0);
    tb_buf_free(&b);
    assert_int_equal(external_releases, 1);
}

static void indirect_buffer_holds_a_reference_on_its_direct_buffer(void **state) {
    (void)state;
    struct tb_pool p;
    assert_int_equal(tb_pool_init(&p, 2, 64), 0);
    struct tb_buf *payload = tb_pool_get(&p, 0);
    memcpy(tb_buf_put(payload, 10), "0123456789", 10);
    struct tb_buf *view = tb_pool_get(&p, 0);
    view->flags |= TB_BUF_F_INDIRECT;
    view->data = payload->data + 2;
    view->len = 4;
    view->direct = payload;
    tb_buf_ref(payload);
    assert_null(tb_buf_put(view, 1));       /* borrowed bytes are read-only */
    tb_buf_free(payload);                  /* the retransmit queue lets go */
    assert_int_equal(p.free_count, 0);     /* the view still holds it */
    char out[5] = {0};
    tb_buf_copy_out(view, 0, out, 4);
    assert_string_equal(out, "2345");
    tb_buf_free(view);
    assert_int_equal(p.free_count, 2);
    tb_pool_destroy(&p);
}

/* ---- timers ------------------------------------------------------------ */
struct fired_log {
    int order[64];
    int n;
};
struct test_timer {
    struct tb_timer t;
    int id;
    struct fired_log *log;
};
static void log_fire(struct tb_timer *t, tb_time_ns now, void *ctx) {
    (void)now;
    (void)ctx;
    struct test_timer *tt = (struct test_timer *)(void *)t;
    tt->log->order[tt->log->n++] = tt->id;
}

static void timers_fire_in_deadline_order_and_ties_in_arm_order(void **state) {
    (void)state;
    struct tb_timer_heap h;
    assert_int_equal(tb_timer_heap_init(&h, 8), 0);
    struct fired_log log = {.n = 0};
    struct test_timer t[6];
    tb_time_ns deadlines[6] = {50, 10, 30, 10, 20, 10};
    for (int i = 0; i < 6; i++) {
        tb_timer_init(&t[i].t, log_fire);
        t[i].id = i;
        t[i].log = &log;
        tb_timer_arm(&h, &t[i].t, deadlines[i]);
    }
    assert_true(tb_timer_heap_valid(&h));
    assert_int_equal(tb_timer_next(&h), 10);
    assert_int_equal(tb_timer_run(&h, 9, NULL), 0);
    assert_int_equal(tb_timer_run(&h, 30, NULL), 5);
    int expect[5] = {1, 3, 5, 4, 2};       /* three 10s in arm order, then 20, 30 */
    assert_memory_equal(log.order, expect, sizeof(expect));
    assert_int_equal(tb_timer_next(&h), 50);
    tb_timer_cancel(&h, &t[0].t);
    assert_int_equal(tb_timer_next(&h), TB_TIME_NEVER);
    tb_timer_heap_destroy(&h);
}

static void rearm_and_cancel_keep_the_heap_ordered(void **state) {
    (void)state;
    enum { N = 200 };
    struct tb_timer_heap h;
    assert_int_equal(tb_timer_heap_init(&h, N), 0);
    struct tb_timer *t = calloc(N, sizeof(*t));
    struct tb_prng r;
    tb_prng_seed(&r, 7);
    for (int i = 0; i < N; i++) tb_timer_init(&t[i], (tb_timer_fn)log_fire);
    for (int step = 0; step < 20000; step++) {
        struct tb_timer *x = &t[tb_prng_below(&r, N)];
        if (tb_prng_below(&r, 3) == 0) tb_timer_cancel(&h, x);
        else tb_timer_arm(&h, x, (tb_time_ns)tb_prng_below(&r, 1000));
        if (step % 97 == 0) assert_true(tb_timer_heap_valid(&h));
    }
    assert_true(tb_timer_heap_valid(&h));
    /* Popping yields non-decreasing deadlines. */
    tb_time_ns last = -1;
    while (h.len > 0) {
        struct tb_timer *top = h.items[0];
        assert_true(top->deadline_ns >= last);
        last = top->deadline_ns;
        tb_timer_cancel(&h, top);
    }
    free(t);
    tb_timer_heap_destroy(&h);
}

static void prng_is_reproducible_and_seed_sensitive(void **state) {
    (void)state;
    struct tb_prng a, b, c;
    tb_prng_seed(&a, 1);
    tb_prng_seed(&b, 1);
    tb_prng_seed(&c, 2);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = tb_prng_next(&a);
        assert_true(x == tb_prng_next(&b));
        differ += x != tb_prng_next(&c);
    }
    assert_true(differ > 990);
    /* tb_prng_below stays in range and covers it. */
    int seen[10] = {0};
    for (int i = 0; i < 10000; i++) seen[tb_prng_below(&a, 10)]++;
    for (int i = 0; i < 10; i++) assert_true(seen[i] > 800 && seen[i] < 1200);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_hands_out_every_buffer_then_reports_empty),
        cmocka_unit_test(buffer_push_pull_put_respect_bounds),
        cmocka_unit_test(refcount_keeps_a_shared_buffer_until_the_last_release),
        cmocka_unit_test(chain_copy_out_spans_segments_and_frees_every_segment),
        cmocka_unit_test(external_buffer_calls_its_owner_release_hook),
        cmocka_unit_test(indirect_buffer_holds_a_reference_on_its_direct_buffer),
        cmocka_unit_test(timers_fire_in_deadline_order_and_ties_in_arm_order),
        cmocka_unit_test(rearm_and_cancel_keep_the_heap_ordered),
        cmocka_unit_test(prng_is_reproducible_and_seed_sensitive),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
