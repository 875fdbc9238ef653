/* A request/response load generator on the kernel's sockets, for the TAP
 * benchmark: the same client measures tcpbed's echo and the kernel's.
 *
 *   tb_rr client ADDR PORT SECONDS [SIZE]   SIZE-byte requests, each waiting for
 *                                           its SIZE-byte answer; prints
 *                                           "transactions N seconds S rate R"
 *   tb_rr echo PORT                         the kernel's side for a baseline: one
 *                                           connection at a time, echoes everything
 *
 * TCP_NODELAY on both, as the 64-byte RR tests of netperf do. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int run_client(const char *addr, int port, double seconds, size_t size) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "tb_rr: bad address %s\n", addr);
        return 1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "tb_rr: connect %s:%d: %s\n", addr, port, strerror(errno));
        return 1;
    }
    nodelay(fd);
    char buf[65536];
    if (size == 0 || size > sizeof(buf)) size = 64;
    memset(buf, 'r', size);
    unsigned long long n = 0;
    double start = now_s(), end = start + seconds, t = start;
    while (t < end) {
        if (send(fd, buf, size, 0) != (ssize_t)size) {
            fprintf(stderr, "tb_rr: send: %s\n", strerror(errno));
            return 1;
        }
        size_t got = 0;
        while (got < size) {
            ssize_t r = recv(fd, buf + got, size - got, 0);
            if (r <= 0) {
                fprintf(stderr, "tb_rr: recv: %s\n", r == 0 ? "the peer closed" : strerror(errno));
                return 1;
            }
            got += (size_t)r;
        }
        n++;
        if ((n & 63) == 0) t = now_s();
    }
    double took = now_s() - start;
    close(fd);
    printf("transactions %llu seconds %.3f rate %.0f\n", n, took, (double)n / took);
    return 0;
}

static int run_echo(int port) {
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 16) != 0) {
        fprintf(stderr, "tb_rr: listen on %d: %s\n", port, strerror(errno));
        return 1;
    }
    fprintf(stderr, "ready\n");
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) continue;
        nodelay(c);
        char buf[65536];
        ssize_t r;
        while ((r = recv(c, buf, sizeof(buf), 0)) > 0)
            if (send(c, buf, (size_t)r, 0) != r) break;
        close(c);
    }
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "client") == 0)
        return run_client(argv[2], atoi(argv[3]), atof(argv[4]), argc > 5 ? (size_t)atol(argv[5]) : 64);
    if (argc == 3 && strcmp(argv[1], "echo") == 0) return run_echo(atoi(argv[2]));
    fprintf(stderr, "usage: tb_rr client ADDR PORT SECONDS [SIZE] | tb_rr echo PORT\n");
    return 2;
}
