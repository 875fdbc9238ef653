/* Memory per TCP connection: the heap a stack takes for a bigger
 * connection table, measured with glibc's mallinfo2 (what malloc really
 * handed out), divided by the number of extra connections. Buffers are not
 * per connection: they come from the stack's shared pool. */
#undef _POSIX_C_SOURCE
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>

#include "tcp/tcp_internal.h"
#include "tcpbed/tcpbed.h"

/* Small chunks (uordblks) plus large ones malloc gets straight from mmap (hblkhd). */
static size_t heap_used(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static size_t stack_bytes(uint32_t conns) {
    struct tb_config cfg;
    tb_config_default(&cfg);
    cfg.mac.b[0] = 2;
    cfg.ipv4_addr = 0x0a000001;
    cfg.tcp_max_conns = conns;
    size_t before = heap_used();
    struct tb_stack *st = tb_stack_new(&cfg);
    size_t after = heap_used();
    if (st == NULL) return 0;
    tb_stack_free(st);
    return after - before;
}

int main(void) {
    const uint32_t small = 1024, big = 1024 + 65536;
    size_t a = stack_bytes(small), b = stack_bytes(big);
    double per_conn = (double)(b - a) / (double)(big - small);
    printf("memory_per_connection_bytes %.1f\n", per_conn);
    printf("sizeof_tcb_bytes %zu\n", sizeof(struct tb_tcb));
    printf("timer_heap_slots_per_connection %d\n", TCP_TIMERS_PER_CONN);
    printf("stack_with_1024_conns_bytes %zu\n", a);
    return 0;
}
