/*
 * fma_socket.c — the monotonic clock and non-blocking socket I/O bounded by deadlines.
 * Every function retries on EINTR and reports failures as errno values (ETIMEDOUT for a
 * deadline that passed).
 */
#define _POSIX_C_SOURCE 200809L
#define _DARWIN_C_SOURCE /* SO_NOSIGPIPE on Apple systems */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "fma_internal.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* systems without it have SO_NOSIGPIPE, set in fma_socket_configure */
#endif

int64_t fma_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t fma_deadline_after(uint32_t timeout_ms)
{
    return timeout_ms == 0 ? FMA_NO_DEADLINE : fma_now_ms() + timeout_ms;
}

/* The poll() timeout that ends at `deadline`: -1 for none, 0 when it has passed. */
static int poll_timeout(int64_t deadline)
{
    if (deadline == FMA_NO_DEADLINE) {
        return -1;
    }
    int64_t remaining = deadline - fma_now_ms();
    if (remaining <= 0) {
        return 0;
    }
    return remaining > INT_MAX ? INT_MAX : (int)remaining;
}

int fma_socket_configure(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        return errno;
    }
    int fd_flags = fcntl(fd, F_GETFD);
    if (fd_flags < 0 || fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
        return errno;
    }
#ifdef SO_NOSIGPIPE
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0) {
        return errno;
    }
#endif
    return 0;
}

int fma_socket_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd entry = {.fd = fd, .events = events, .revents = 0};
        int timeout = poll_timeout(deadline);
        int ready = poll(&entry, 1, timeout);
        if (ready > 0) {
            /* Also on POLLERR / POLLHUP: the next send or recv reports what happened. */
            return 0;
        }
        if (ready == 0) {
            if (timeout != -1 && poll_timeout(deadline) == 0) {
                return ETIMEDOUT;
            }
            continue; /* woke a little early: poll rounds down */
        }
        if (errno != EINTR) {
            return errno;
        }
    }
}

int fma_socket_send_all(int fd, const uint8_t *data, size_t len, int64_t deadline,
                        size_t *sent)
{
    *sent = 0;
    while (*sent < len) {
        ssize_t n = send(fd, data + *sent, len - *sent, MSG_NOSIGNAL);
        if (n > 0) {
            *sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int err = fma_socket_wait(fd, POLLOUT, deadline);
            if (err != 0) {
                return err;
            }
            continue;
        }
        return n < 0 ? errno : EIO;
    }
    return 0;
}

int fma_socket_receive(int fd, uint8_t *buffer, size_t capacity, int64_t deadline,
                       size_t *received)
{
    *received = 0;
    for (;;) {
        ssize_t n = recv(fd, buffer, capacity, 0);
        if (n >= 0) {
            *received = (size_t)n;
            return 0;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return errno;
        }
        int err = fma_socket_wait(fd, POLLIN, deadline);
        if (err != 0) {
            return err;
        }
    }
}
