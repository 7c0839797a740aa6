/*
 * fma_internal.h — declarations shared by the .c files of the C client library; not installed.
 */
#ifndef FMA_INTERNAL_H
#define FMA_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "fma_client.h"

#if defined(__GNUC__) || defined(__clang__)
#define FMA_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#else
#define FMA_PRINTF(fmt_index, args_index)
#endif

/* ---- status (fma_status.c) ---- */

/* Fills `status` (when not NULL) with `code` and a printf-formatted message, truncated to fit.
 * Returns `code`, so that failures read `return fma_status_set(status, ...)`. */
int fma_status_set(fma_status *status, int code, const char *format, ...) FMA_PRINTF(3, 4);

/* Sets `status` (when not NULL) to FMA_OK with an empty message. Returns FMA_OK. */
int fma_status_ok(fma_status *status);

/* Fills `status` (when not NULL) with `code`, the whole `message` (kept in `long_message` too
 * when it does not fit) and `detail_count` details, all copied. Returns `code`. */
int fma_status_fill(fma_status *status, int code, const char *message, size_t detail_count,
                    const char *const *keys, const char *const *values);

/* Copies `from` into `to` (when not NULL), with copies of what `from` owns. Returns from->code. */
int fma_status_copy(fma_status *to, const fma_status *from);

/* Writes the text of errno value `err` into `buffer` (always NUL-terminated) and returns it. */
const char *fma_errno_text(int err, char *buffer, size_t size);

/* ---- time (fma_socket.c) ---- */

/* A deadline on the monotonic clock, in milliseconds; FMA_NO_DEADLINE means none. */
#define FMA_NO_DEADLINE INT64_MAX

/* The monotonic clock, in milliseconds. */
int64_t fma_now_ms(void);

/* The deadline `timeout_ms` from now; FMA_NO_DEADLINE when timeout_ms is 0. */
int64_t fma_deadline_after(uint32_t timeout_ms);

/* ---- sockets (fma_socket.c) ----
 * These functions return 0 on success or an errno value: ETIMEDOUT when the deadline passed. */

/* Makes `fd` non-blocking and close-on-exec, and turns off SIGPIPE for it where the system has
 * SO_NOSIGPIPE. */
int fma_socket_configure(int fd);

/* Waits until `fd` is ready for `events` (POLLIN / POLLOUT) or has an error or hang-up. */
int fma_socket_wait(int fd, short events, int64_t deadline);

/* Sends all of `data` (MSG_NOSIGNAL), waiting for the socket to drain as needed. `*sent` is the
 * number of bytes sent, also on failure (a partial frame on the wire breaks the connection). */
int fma_socket_send_all(int fd, const uint8_t *data, size_t len, int64_t deadline,
                        size_t *sent);

/* Receives at least one and at most `capacity` bytes. `*received` is 0 at end of stream. */
int fma_socket_receive(int fd, uint8_t *buffer, size_t capacity, int64_t deadline,
                       size_t *received);

/* ---- connecting (fma_connect.c) ---- */

/* Connects to `address` (see fma_client_connect) and returns a configured socket in `*fd`. */
int fma_connect(const char *address, uint32_t timeout_ms, int *fd, fma_status *status);

/* ---- frames (fma_frame.c) ---- */

/* The effective limit: `max_frame_bytes`, or FMA_DEFAULT_MAX_FRAME_BYTES when it is 0. */
uint32_t fma_frame_limit(uint32_t max_frame_bytes);

/* Fails with RESOURCE_EXHAUSTED when `length` is over `limit`; `source` names where the frame
 * comes from in the message ("" for none). */
int fma_frame_check_length(uint32_t length, uint32_t limit, const char *source,
                           fma_status *status);

/* Decodes the protobuf bytes of one frame (no length prefix). */
int fma_frame_unpack_body(const uint8_t *body, size_t len, const char *source,
                          Fma__V1__Frame **out, fma_status *status);

#endif /* FMA_INTERNAL_H */
