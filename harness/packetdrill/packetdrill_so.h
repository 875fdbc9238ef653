/* packetdrill's shared-object interface, as tcpbed implements it.
 *
 * packetdrill (github.com/google/packetdrill) can test a TCP stack that
 * lives in a shared object instead of the kernel: run with
 * `--so_filename=LIB.so [--so_flags=STRING]`, it dlopen()s the library,
 * looks up one symbol, `packetdrill_interface_init`, and calls it once
 * with the flags string and a table to fill. From then on every system
 * call of the script, every packet it injects or expects, and every
 * reading of the clock and wait for the next event goes through that
 * table instead of the kernel.
 *
 * This header is our own statement of that contract, written from the
 * layout packetdrill documents in gtests/net/packetdrill/packetdrill.h
 * (read in the packetdrill tree google/bbr carries; every member upstream
 * google/packetdrill's so_testing.c, run.c and run_system_call.c call is
 * there, under the same name), whose last members are the epoll calls,
 * pipe and splice. Forks
 * that comment out some of those members (for BSD builds) move what
 * follows; run an upstream build. Nothing here is packetdrill's text: only
 * the order of the members and their types must match, since packetdrill
 * reads the table by offset.
 *
 * Every member takes the table's `userdata` first. The socket calls
 * follow their POSIX/Linux namesakes: the result is what the call returns,
 * and on failure -1 with errno set to Linux's value.
 */
#ifndef TB_HARNESS_PACKETDRILL_SO_H
#define TB_HARNESS_PACKETDRILL_SO_H

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* loff_t, useconds_t and struct timezone are glibc extensions: a file
 * including this header defines _GNU_SOURCE before any system header. */

struct packetdrill_interface {
    /* The library's own state, handed back as the first argument of
     * every call below. */
    void *userdata;
    /* Called once at the end of the run: release everything. */
    void (*free)(void *userdata);

    /* ---- sockets ---- */
    int (*socket)(void *userdata, int domain, int type, int protocol);
    int (*bind)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);
    int (*listen)(void *userdata, int sockfd, int backlog);
    int (*accept)(void *userdata, int sockfd, struct sockaddr *addr, socklen_t *addrlen);
    int (*connect)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);

    /* ---- receiving ---- */
    ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
    ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*recv)(void *userdata, int sockfd, void *buf, size_t len, int flags);
    ssize_t (*recvfrom)(void *userdata, int sockfd, void *buf, size_t len, int flags, struct sockaddr *src_addr,
                        socklen_t *addrlen);
    ssize_t (*recvmsg)(void *userdata, int sockfd, struct msghdr *msg, int flags);

    /* ---- sending ---- */
    ssize_t (*write)(void *userdata, int fd, const void *buf, size_t count);
    ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*send)(void *userdata, int sockfd, const void *buf, size_t len, int flags);
    ssize_t (*sendto)(void *userdata, int sockfd, const void *buf, size_t len, int flags,
                      const struct sockaddr *dest_addr, socklen_t addrlen);
    ssize_t (*sendmsg)(void *userdata, int sockfd, const struct msghdr *msg, int flags);

    /* ---- descriptor control: fcntl's third argument is an int when
     * present; ioctl's is a pointer ---- */
    int (*fcntl)(void *userdata, int fd, int cmd, ...);
    int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
    int (*close)(void *userdata, int fd);
    int (*shutdown)(void *userdata, int sockfd, int how);
    int (*getsockopt)(void *userdata, int sockfd, int level, int optname, void *optval, socklen_t *optlen);
    int (*setsockopt)(void *userdata, int sockfd, int level, int optname, const void *optval, socklen_t optlen);
    int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout);

    /* ---- the wire ----
     * netdev_send: one packet for the stack, `count` bytes starting at
     * the IP header (no link-layer header). 0 on success, -1 on error.
     * netdev_receive: the next packet the stack sent, from its IP header,
     * copied into buf; *count holds the buffer's size on entry and the
     * packet's length on return (0: nothing). *time_usecs is when it left,
     * on the gettimeofday clock. 0 on success; on -1 packetdrill asks again. */
    int (*netdev_send)(void *userdata, const void *buf, size_t count);
    int (*netdev_receive)(void *userdata, void *buf, size_t *count, long long *time_usecs);

    /* ---- time: packetdrill waits for its next event with usleep and
     * reads the clock with gettimeofday; both may be virtual ---- */
    int (*usleep)(void *userdata, useconds_t usec);
    int (*gettimeofday)(void *userdata, struct timeval *tv, struct timezone *tz);

    /* ---- epoll, pipe and splice: the table's last members ---- */
    int (*epoll_create)(void *userdata, int size);
    int (*epoll_ctl)(void *userdata, int epfd, int op, int fd, struct epoll_event *event);
    int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events, int maxevents, int timeout);
    int (*pipe)(void *userdata, int pipefd[2]);
    int (*splice)(void *userdata, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
                  unsigned int flags);
};

/* The one symbol packetdrill looks up. `flags` is --so_flags (NULL when
 * not given). It returns nothing: a library that cannot start must say
 * why and exit. */
typedef void (*packetdrill_interface_init_t)(const char *flags, struct packetdrill_interface *ifc);

#endif
