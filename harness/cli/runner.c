#define _GNU_SOURCE
#include "harness/cli/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *runner_self(void) {
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0) return "tcpbed";
    path[n] = '\0';
    return path;
}

struct child {
    pid_t pid;
    int fd;
    size_t job;
    char *buf;
    size_t len, cap;
    double started;
    bool killed;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool spawn(struct child *c, char **argv) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    c->pid = pid;
    c->fd = fds[0];
    c->len = 0;
    c->cap = 4096;
    c->buf = malloc(c->cap);
    c->started = now_s();
    c->killed = false;
    return c->buf != NULL;
}

static void drain(struct child *c) {
    for (;;) {
        if (c->cap - c->len < 4096) {
            char *b = realloc(c->buf, c->cap * 2);
            if (b == NULL) return;
            c->buf = b;
            c->cap *= 2;
        }
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return;
    }
}

void runner_run_all(size_t count, unsigned parallel, double timeout_s, runner_argv_fn argv_for, runner_done_fn done,
                    void *ctx) {
    if (parallel == 0) parallel = 1;
    struct child *kids = calloc(parallel, sizeof(*kids));
    if (kids == NULL) return;
    size_t next = 0, running = 0;
    for (unsigned i = 0; i < parallel; i++) kids[i].pid = 0;
    while (next < count || running > 0) {
        for (unsigned i = 0; i < parallel && next < count; i++) {
            if (kids[i].pid != 0) continue;
            kids[i].job = next;
            if (!spawn(&kids[i], argv_for(ctx, next))) {
                struct run_result r = {.exit_code = 127, .out = strdup(""), .out_len = 0};
                done(ctx, next, &r);
                next++;
                continue;
            }
            next++;
            running++;
        }
        struct pollfd pfd[64];
        unsigned map[64], n = 0;
        for (unsigned i = 0; i < parallel && n < 64; i++)
            if (kids[i].pid != 0) {
                pfd[n].fd = kids[i].fd;
                pfd[n].events = POLLIN;
                map[n++] = i;
            }
        if (n == 0) continue;
        poll(pfd, n, 100);
        for (unsigned k = 0; k < n; k++) {
            struct child *c = &kids[map[k]];
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) drain(c);
            if (timeout_s > 0 && !c->killed && now_s() - c->started > timeout_s) {
                kill(c->pid, SIGKILL);
                c->killed = true;
            }
            if (!(pfd[k].revents & (POLLHUP | POLLERR)) && !c->killed) continue;
            int status;
            if (waitpid(c->pid, &status, c->killed ? 0 : WNOHANG) != c->pid) continue;
            drain(c);
            close(c->fd);
            c->buf[c->len] = '\0';
            struct run_result r = {.out = c->buf, .out_len = c->len, .timed_out = c->killed};
            if (WIFEXITED(status)) {
                r.exit_code = WEXITSTATUS(status);
            } else {
                r.exit_code = -1;
                r.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            }
            c->pid = 0;
            running--;
            done(ctx, c->job, &r);
        }
    }
    free(kids);
}
