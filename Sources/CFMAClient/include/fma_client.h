/*
 * fma_client.h — a small blocking C client for the fma wire protocol (docs/wire-protocol.md).
 *
 * One `fma_client` is one connection (Unix-domain or TCP) to an fma server. On it the client
 * makes unary calls (`fma_call_unary`) and server-streaming calls (`fma_stream_start`), each
 * carrying one protobuf-encoded request message and answered with protobuf-encoded responses
 * and a status. Several calls may be open at once on one client (for example a unary call while
 * a stream is being read): frames of the other calls are queued for them as they arrive.
 *
 * Conventions shared by every function:
 *
 * - Functions that can fail return an `fma_code` (0 = FMA_OK) and, when the `status` argument is
 *   not NULL, fill it with the same code and a message naming what failed. Failures that happen
 *   locally (the connection, a deadline, a malformed frame from the server) use gRPC's codes
 *   too: UNAVAILABLE for a connection that cannot be made or was lost, DEADLINE_EXCEEDED for a
 *   timeout, RESOURCE_EXHAUSTED for a frame over the size limit, INTERNAL for a server that
 *   breaks the protocol, INVALID_ARGUMENT for bad arguments.
 * - Timeouts are in milliseconds; 0 means "no timeout".
 * - Buffers returned to the caller are allocated with malloc and released with free().
 * - A client and its streams are not thread-safe: use them from one thread at a time.
 * - The library keeps no global state, never raises SIGPIPE, and retries interrupted system
 *   calls (EINTR) itself.
 */
#ifndef FMA_CLIENT_H
#define FMA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "fma/v1/frame.pb-c.h"
#include "fma/v1/health.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Status                                                                                     */
/* ---------------------------------------------------------------------------------------- */

/* gRPC's status codes, with gRPC's numbers (the same as fma.v1.StatusCode). */
typedef enum fma_code {
    FMA_OK = 0,
    FMA_CANCELLED = 1,
    FMA_UNKNOWN = 2,
    FMA_INVALID_ARGUMENT = 3,
    FMA_DEADLINE_EXCEEDED = 4,
    FMA_NOT_FOUND = 5,
    FMA_ALREADY_EXISTS = 6,
    FMA_PERMISSION_DENIED = 7,
    FMA_RESOURCE_EXHAUSTED = 8,
    FMA_FAILED_PRECONDITION = 9,
    FMA_ABORTED = 10,
    FMA_OUT_OF_RANGE = 11,
    FMA_UNIMPLEMENTED = 12,
    FMA_INTERNAL = 13,
    FMA_UNAVAILABLE = 14,
    FMA_DATA_LOSS = 15,
    FMA_UNAUTHENTICATED = 16,
} fma_code;

/* Capacity of fma_status.message, including the terminating NUL. A longer message from a server
 * is kept whole in `long_message` as well (fma_status_message returns it). */
#define FMA_STATUS_MESSAGE_MAX 1024

/* One of the machine-readable details a server may attach to a status (CallStatus.details in
 * proto/fma/v1/frame.proto), e.g. key "field", value "id". */
typedef struct fma_detail {
    char *key;
    char *value;
} fma_detail;

/* The outcome of an operation: a gRPC status code and a human-readable message. `message` is
 * always NUL-terminated; it is empty for FMA_OK, and holds the first FMA_STATUS_MESSAGE_MAX - 1
 * bytes of a longer one.
 *
 * A status a server sent may also own memory: `long_message` (the whole message, when it did not
 * fit in `message`; NULL otherwise) and `details` (`detail_count` entries; NULL when none). Read
 * them with fma_status_message and fma_status_detail, and release them with fma_status_free once
 * done with the status (a status without them owns nothing, and freeing it is harmless). Every
 * function that fills a status overwrites all its fields without freeing what it held before, so
 * free a status before reusing it, and do not copy one with `=` (both copies would own the same
 * memory). */
typedef struct fma_status {
    int code;
    char message[FMA_STATUS_MESSAGE_MAX];
    char *long_message;
    size_t detail_count;
    fma_detail *details;
} fma_status;

/* The whole message: `long_message` when set, else `message`. Never NULL. */
const char *fma_status_message(const fma_status *status);

/* The value of the detail named `key`, or NULL when the status has none by that name. */
const char *fma_status_detail(const fma_status *status, const char *key);

/* Releases what `status` owns (`long_message`, `details`) and clears those fields; `code` and
 * `message` stay. NULL is ignored. */
void fma_status_free(fma_status *status);

/* The name of a status code as written in proto/fma/v1/frame.proto ("OK", "NOT_FOUND", …,
 * "UNAUTHENTICATED"). A code outside 0…16 is named "UNKNOWN". The string is static. */
const char *fma_code_name(int code);

/* ---------------------------------------------------------------------------------------- */
/* Frames (§2 of docs/wire-protocol.md)                                                       */
/* ---------------------------------------------------------------------------------------- */

/* Bytes of the big-endian length that precedes every frame. */
#define FMA_FRAME_HEADER_BYTES 4u
/* The default maximum size of one frame's protobuf bytes: 4 MiB. */
#define FMA_DEFAULT_MAX_FRAME_BYTES 4194304u

/* Reads the length prefix at `header` (FMA_FRAME_HEADER_BYTES bytes, big-endian): the number of
 * protobuf bytes that follow it. */
uint32_t fma_frame_length(const uint8_t *header);

/* Encodes `frame` as wire bytes: the 4-byte big-endian length followed by the packed Frame.
 * Unknown fields kept in `frame` (from fma_frame_decode) are written back.
 * `max_frame_bytes` limits the packed size (0 = FMA_DEFAULT_MAX_FRAME_BYTES); a larger frame is
 * RESOURCE_EXHAUSTED. On FMA_OK, `*out` is a malloc'd buffer of `*out_len` bytes that the caller
 * frees; on failure `*out` is NULL and `*out_len` 0. */
int fma_frame_encode(const Fma__V1__Frame *frame, uint32_t max_frame_bytes, uint8_t **out,
                     size_t *out_len, fma_status *status);

/* Decodes the first frame in `data[0 … len)` (length prefix included).
 * The length prefix is checked against `max_frame_bytes` (0 = FMA_DEFAULT_MAX_FRAME_BYTES)
 * before anything is allocated or read: a larger frame is RESOURCE_EXHAUSTED. Fewer than
 * 4 + length bytes is OUT_OF_RANGE ("truncated frame": more input may complete it). Bytes that
 * do not decode as an fma.v1.Frame are INVALID_ARGUMENT ("malformed frame").
 * On FMA_OK, `*out` is the frame (release it with fma_frame_free) and, when `consumed` is not
 * NULL, `*consumed` is the number of bytes it took (4 + length); bytes after it are not looked
 * at. On failure `*out` is NULL. */
int fma_frame_decode(const uint8_t *data, size_t len, uint32_t max_frame_bytes,
                     Fma__V1__Frame **out, size_t *consumed, fma_status *status);

/* Releases a frame returned by fma_frame_decode. NULL is ignored. */
void fma_frame_free(Fma__V1__Frame *frame);

/* ---------------------------------------------------------------------------------------- */
/* Connections                                                                                */
/* ---------------------------------------------------------------------------------------- */

/* One connection to an fma server. */
typedef struct fma_client fma_client;

/* Connects to `address`:
 *   unix:PATH or unix://PATH   a Unix-domain stream socket (PATH absolute or relative), or
 *   tcp://HOST:PORT            TCP; HOST is a name, an IPv4 address or a bracketed IPv6
 *                              address ("tcp://[::1]:7070"); names are resolved with
 *                              getaddrinfo and each address tried in turn.
 * `connect_timeout_ms` bounds the whole connect (resolution excluded); 0 = the system's own.
 * On FMA_OK `*out` is the client (release it with fma_client_close). Otherwise `*out` is NULL
 * and the status says what failed, e.g. UNAVAILABLE "connect unix:/tmp/x.sock: No such file or
 * directory", DEADLINE_EXCEEDED "connect tcp://10.1.2.3:7070: timed out after 1000 ms", or
 * INVALID_ARGUMENT for an address that is not in the syntax above. */
int fma_client_connect(const char *address, uint32_t connect_timeout_ms, fma_client **out,
                       fma_status *status);

/* Makes a client of an already connected stream socket `fd` (for example one end of a
 * socketpair, or a socket inherited from a parent). The client owns `fd` from then on, also when
 * this function fails, and closes it in fma_client_close. `peer` names the other end in
 * messages (NULL = "fd N"). On FMA_OK `*out` is the client; otherwise NULL. */
int fma_client_adopt_fd(int fd, const char *peer, fma_client **out, fma_status *status);

/* Closes the connection and releases the client. Streams still open on it are failed with
 * CANCELLED ("client closed") and stay valid until fma_stream_free. NULL is ignored. */
void fma_client_close(fma_client *client);

/* The address (or peer name) the client was made with. Valid until fma_client_close. */
const char *fma_client_address(const fma_client *client);

/* Sets the bearer token sent as metadata "authorization: Bearer TOKEN" with every call started
 * after this; NULL or "" sends none. The token is copied. A token with a character outside
 * printable ASCII (0x21…0x7E) is INVALID_ARGUMENT and leaves the previous token in place. */
int fma_client_set_token(fma_client *client, const char *token, fma_status *status);

/* Sets the largest frame the client sends or accepts (0 = FMA_DEFAULT_MAX_FRAME_BYTES). A
 * request over it fails locally with RESOURCE_EXHAUSTED; a response over it is a connection
 * error (RESOURCE_EXHAUSTED), detected from the length prefix before anything is allocated. */
void fma_client_set_max_frame_bytes(fma_client *client, uint32_t max_frame_bytes);

/* Sets the per-call flow-control window of streams started after this (§7): with `window` > 0
 * the server sends at most `window` responses the application has not yet taken with
 * fma_stream_next, which bounds what the client queues for a stream that is read slowly. The
 * client grants more credit as messages are taken. 0 (the default) relies only on the socket's
 * own flow control. */
void fma_client_set_stream_credit(fma_client *client, uint32_t window);

/* ---------------------------------------------------------------------------------------- */
/* Calls                                                                                      */
/* ---------------------------------------------------------------------------------------- */

/* Makes a unary call: sends `method` ("package.Service/Method") with the protobuf-encoded
 * request `request[0 … request_len)` (NULL is allowed when request_len is 0) and waits for the
 * call's status. `timeout_ms` (0 = none) is sent to the server as the call's deadline and also
 * bounds the wait here: when it passes, the call is cancelled (a CallCancel frame is sent) and
 * the result is DEADLINE_EXCEEDED.
 * Returns the call's status code. On FMA_OK, `*response` is the single response message (a
 * malloc'd buffer, non-NULL even when empty, that the caller frees) of `*response_len` bytes.
 * Otherwise `*response` is NULL, `*response_len` 0, and the status is the server's (e.g.
 * NOT_FOUND with its message) or a local failure. A server that ends a unary call OK with other
 * than exactly one response is INTERNAL. A connection error sent by the server (a status on call
 * id 0) fails the call with that status, and every later call on the client fails too. */
int fma_call_unary(fma_client *client, const char *method, const uint8_t *request,
                   size_t request_len, uint32_t timeout_ms, uint8_t **response,
                   size_t *response_len, fma_status *status);

/* One server-streaming call. */
typedef struct fma_stream fma_stream;

/* Starts a server-streaming call: sends `method` with the protobuf-encoded request and returns
 * without waiting for an answer. `timeout_ms` (0 = none) is the deadline of the whole stream,
 * sent to the server and enforced here by fma_stream_next.
 * On FMA_OK `*out` is the stream (release it with fma_stream_free); otherwise `*out` is NULL
 * and the status says why the request could not be sent. */
int fma_stream_start(fma_client *client, const char *method, const uint8_t *request,
                     size_t request_len, uint32_t timeout_ms, fma_stream **out,
                     fma_status *status);

/* Waits for the stream's next response message.
 * Returns 1 with `*message` a malloc'd buffer (non-NULL, freed by the caller) of `*message_len`
 * bytes; 0 when the stream has ended with OK; -1 when it has ended with any other status (the
 * server's, a local timeout, a lost connection or a cancel) — fma_stream_status tells which.
 * Messages that arrived before a failing status are returned first. On 0 and -1 `*message` is
 * NULL and `*message_len` 0, and every later call returns the same. */
int fma_stream_next(fma_stream *stream, uint8_t **message, size_t *message_len);

/* The stream's status: code FMA_OK with an empty message while the stream is running or when it
 * has ended OK; the final status once fma_stream_next has returned -1. */
const fma_status *fma_stream_status(const fma_stream *stream);

/* Cancels the stream: sends a CallCancel frame with `reason` (NULL = "cancelled by the client")
 * and drops the messages queued for it; from then on fma_stream_next returns -1 with CANCELLED.
 * A stream that has already ended is left as it is. Returns FMA_OK, or the code of a failure to
 * send the cancel (the stream is cancelled here either way). */
int fma_stream_cancel(fma_stream *stream, const char *reason);

/* Releases the stream, cancelling it first (as fma_stream_cancel) when it has not ended.
 * NULL is ignored. */
void fma_stream_free(fma_stream *stream);

/* ---------------------------------------------------------------------------------------- */
/* Health (§10)                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* Calls fma.v1.Health/Check with HealthCheckRequest{service} (NULL = "", the server as a
 * whole). On FMA_OK `*response` is the decoded answer (release it with
 * fma_health_response_free); otherwise NULL, with the call's status (NOT_FOUND for a service
 * the server does not know). A response that does not decode is INTERNAL. */
int fma_health_check(fma_client *client, const char *service, uint32_t timeout_ms,
                     Fma__V1__HealthCheckResponse **response, fma_status *status);

/* Releases a response returned by fma_health_check. NULL is ignored. */
void fma_health_response_free(Fma__V1__HealthCheckResponse *response);

#ifdef __cplusplus
}
#endif

#endif /* FMA_CLIENT_H */
