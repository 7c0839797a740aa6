/*
 * fma_connect.c — parsing fma addresses (unix:PATH, unix://PATH, tcp://HOST:PORT) and
 * connecting to them within a timeout.
 */
#define _POSIX_C_SOURCE 200809L
#define _DARWIN_C_SOURCE

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fma_internal.h"

/* A parsed address: a Unix socket path, or a TCP host and port. */
struct address {
    int is_unix;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char host[256];
    char port[6];
};

static int invalid_address(const char *address, const char *why, fma_status *status)
{
    return fma_status_set(status, FMA_INVALID_ARGUMENT,
                          "invalid address \"%s\": %s (expected unix:PATH or tcp://HOST:PORT)",
                          address, why);
}

static int starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static int parse_unix(const char *address, const char *path, struct address *out,
                      fma_status *status)
{
    size_t len = strlen(path);
    if (len == 0) {
        return invalid_address(address, "the socket path is empty", status);
    }
    if (len >= sizeof out->path) {
        return fma_status_set(status, FMA_INVALID_ARGUMENT,
                              "invalid address \"%s\": the socket path is %zu bytes, over the "
                              "system's limit of %zu",
                              address, len, sizeof out->path - 1);
    }
    out->is_unix = 1;
    memcpy(out->path, path, len + 1);
    return fma_status_ok(status);
}

/* Accepts 1…65535 written in decimal digits only. */
static int parse_port(const char *text, char *out, size_t size)
{
    size_t len = strlen(text);
    if (len == 0 || len >= size) {
        return 0;
    }
    unsigned long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return 0;
        }
        value = value * 10 + (unsigned long)(text[i] - '0');
    }
    if (value == 0 || value > 65535) {
        return 0;
    }
    memcpy(out, text, len + 1);
    return 1;
}

static int parse_tcp(const char *address, const char *rest, struct address *out,
                     fma_status *status)
{
    const char *host = rest;
    const char *host_end;
    const char *colon;
    if (*rest == '[') {
        host = rest + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL) {
            return invalid_address(address, "missing ']' after the IPv6 host", status);
        }
        colon = host_end + 1;
        if (*colon != ':') {
            return invalid_address(address, "missing ':PORT' after the host", status);
        }
    } else {
        colon = strrchr(rest, ':');
        if (colon == NULL) {
            return invalid_address(address, "missing ':PORT' after the host", status);
        }
        host_end = colon;
        if (memchr(rest, ':', (size_t)(colon - rest)) != NULL) {
            return invalid_address(address, "an IPv6 host goes in brackets, as [::1]", status);
        }
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0) {
        return invalid_address(address, "the host is empty", status);
    }
    if (host_len >= sizeof out->host) {
        return invalid_address(address, "the host is too long", status);
    }
    if (!parse_port(colon + 1, out->port, sizeof out->port)) {
        return invalid_address(address, "the port is not a number from 1 to 65535", status);
    }
    out->is_unix = 0;
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    return fma_status_ok(status);
}

static int parse_address(const char *address, struct address *out, fma_status *status)
{
    if (starts_with(address, "unix://")) {
        return parse_unix(address, address + strlen("unix://"), out, status);
    }
    if (starts_with(address, "unix:")) {
        return parse_unix(address, address + strlen("unix:"), out, status);
    }
    if (starts_with(address, "tcp://")) {
        return parse_tcp(address, address + strlen("tcp://"), out, status);
    }
    return invalid_address(address, "unknown scheme", status);
}

/* Connects the non-blocking socket `fd` to `target`, waiting until `deadline`.
 * Returns 0 or an errno value (ETIMEDOUT when the deadline passed). */
static int connect_socket(int fd, const struct sockaddr *target, socklen_t target_len,
                          int64_t deadline)
{
    if (connect(fd, target, target_len) == 0) {
        return 0;
    }
    /* EINTR: the connection still proceeds in the background, like EINPROGRESS. */
    if (errno != EINPROGRESS && errno != EINTR) {
        return errno;
    }
    int err = fma_socket_wait(fd, POLLOUT, deadline);
    if (err != 0) {
        return err;
    }
    int so_error = 0;
    socklen_t so_error_len = sizeof so_error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_error_len) < 0) {
        return errno;
    }
    return so_error;
}

/* Opens a configured socket of `family`; returns it, or -1 with the errno value in `*err`. */
static int open_socket(int family, int *err)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    *err = fma_socket_configure(fd);
    if (*err != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_failed(const char *address, int err, uint32_t timeout_ms,
                          fma_status *status)
{
    if (err == ETIMEDOUT && timeout_ms > 0) {
        return fma_status_set(status, FMA_DEADLINE_EXCEEDED,
                              "connect %s: timed out after %u ms", address,
                              (unsigned)timeout_ms);
    }
    char text[128];
    return fma_status_set(status, FMA_UNAVAILABLE, "connect %s: %s", address,
                          fma_errno_text(err, text, sizeof text));
}

static int connect_unix(const char *address, const struct address *parsed, uint32_t timeout_ms,
                        int *fd_out, fma_status *status)
{
    struct sockaddr_un target;
    memset(&target, 0, sizeof target);
    target.sun_family = AF_UNIX;
    memcpy(target.sun_path, parsed->path, strlen(parsed->path) + 1);

    int err;
    int fd = open_socket(AF_UNIX, &err);
    if (fd >= 0) {
        err = connect_socket(fd, (const struct sockaddr *)&target, sizeof target,
                             fma_deadline_after(timeout_ms));
    }
    if (err != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return connect_failed(address, err, timeout_ms, status);
    }
    *fd_out = fd;
    return fma_status_ok(status);
}

static int resolve(const char *address, const struct address *parsed, struct addrinfo **out,
                   fma_status *status)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(parsed->host, parsed->port, &hints, out);
    if (rc != 0) {
        char text[128];
        return fma_status_set(status, FMA_UNAVAILABLE, "resolve %s: %s", address,
                              rc == EAI_SYSTEM ? fma_errno_text(errno, text, sizeof text)
                                               : gai_strerror(rc));
    }
    return fma_status_ok(status);
}

/* Tries each resolved address in turn until one connects; the deadline covers them all. */
static int connect_tcp(const char *address, const struct address *parsed, uint32_t timeout_ms,
                       int *fd_out, fma_status *status)
{
    struct addrinfo *candidates = NULL;
    int code = resolve(address, parsed, &candidates, status);
    if (code != FMA_OK) {
        return code;
    }
    int64_t deadline = fma_deadline_after(timeout_ms);
    int err = EADDRNOTAVAIL;
    int fd = -1;
    for (struct addrinfo *ai = candidates; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = open_socket(ai->ai_family, &err);
        if (fd < 0) {
            continue;
        }
        err = connect_socket(fd, ai->ai_addr, ai->ai_addrlen, deadline);
        if (err != 0) {
            close(fd);
            fd = -1;
            if (err == ETIMEDOUT) {
                break;
            }
        }
    }
    freeaddrinfo(candidates);
    if (fd < 0) {
        return connect_failed(address, err, timeout_ms, status);
    }
    int on = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on); /* small frames: no delay */
    *fd_out = fd;
    return fma_status_ok(status);
}

int fma_connect(const char *address, uint32_t timeout_ms, int *fd, fma_status *status)
{
    *fd = -1;
    struct address parsed;
    int code = parse_address(address, &parsed, status);
    if (code != FMA_OK) {
        return code;
    }
    if (parsed.is_unix) {
        return connect_unix(address, &parsed, timeout_ms, fd, status);
    }
    return connect_tcp(address, &parsed, timeout_ms, fd, status);
}
