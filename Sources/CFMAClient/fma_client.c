/*
 * fma_client.c — connections, calls and streams (docs/wire-protocol.md §3–§8).
 *
 * A client reads frames only while the application waits on one of its calls; each frame read
 * is handed to the call it belongs to (queued responses, or the final status). A call is "open"
 * — linked in client->open and pointing back at its client — from its request until its status;
 * frames for an id that is not open (a call cancelled or timed out here) are dropped.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fma_internal.h"

/* How long a CallCancel or CallCredit frame may take to send. They are small; a connection that
 * cannot take one within this is treated as stuck. */
#define CONTROL_WRITE_TIMEOUT_MS 1000u

/* One response message queued for its call. */
struct message {
    struct message *next;
    uint8_t *bytes;
    size_t len;
};

struct call {
    fma_client *client;     /* the client while the call is open; NULL once it has ended */
    struct call *next_open; /* in client->open */
    uint64_t id;
    char *method;
    uint32_t timeout_ms;
    int64_t deadline;
    int streaming;
    int ended;
    fma_status status; /* OK until the call ends; then its final status */
    struct message *first;
    struct message *last;
    size_t responses;           /* responses received, queued or not */
    uint32_t credit_window;     /* streams: initial_credit sent; 0 = no per-call limit */
    uint32_t taken_since_grant; /* messages taken since credit was last granted */
};

struct fma_stream {
    struct call call;
};

/* The frame being read: its length prefix, then its body. */
struct reader {
    uint8_t header[FMA_FRAME_HEADER_BYTES];
    size_t header_have;
    uint8_t *body; /* allocated once the prefix is complete and checked */
    uint32_t body_len;
    size_t body_have;
};

struct fma_client {
    int fd;
    char *address;
    char *authorization; /* "Bearer TOKEN", or NULL */
    uint64_t last_call_id;
    uint32_t max_frame_bytes;
    uint32_t stream_credit;
    struct reader reader;
    int failed; /* the connection is lost; `failure` says why */
    int salvaging; /* reading what arrived after a failed write (see read_what_arrived) */
    fma_status failure;
    struct call *open;
};

/* ---- calls and their queues ---- */

static void link_call(fma_client *client, struct call *call)
{
    call->client = client;
    call->next_open = client->open;
    client->open = call;
}

static void unlink_call(struct call *call)
{
    if (call->client == NULL) {
        return;
    }
    for (struct call **link = &call->client->open; *link != NULL; link = &(*link)->next_open) {
        if (*link == call) {
            *link = call->next_open;
            break;
        }
    }
    call->client = NULL;
    call->next_open = NULL;
}

static struct call *find_open_call(const fma_client *client, uint64_t id)
{
    for (struct call *call = client->open; call != NULL; call = call->next_open) {
        if (call->id == id) {
            return call;
        }
    }
    return NULL;
}

/* Ends the call with `status` (replacing an earlier end) and closes its id here. */
static void end_call(struct call *call, const fma_status *status)
{
    call->ended = 1;
    call->status = *status;
    unlink_call(call);
}

static int queue_message(struct call *call, const uint8_t *bytes, size_t len)
{
    struct message *message = malloc(sizeof *message);
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (message == NULL || copy == NULL) {
        free(message);
        free(copy);
        return ENOMEM;
    }
    if (len > 0) {
        memcpy(copy, bytes, len);
    }
    *message = (struct message){.next = NULL, .bytes = copy, .len = len};
    if (call->last != NULL) {
        call->last->next = message;
    } else {
        call->first = message;
    }
    call->last = message;
    return 0;
}

static struct message *take_message(struct call *call)
{
    struct message *message = call->first;
    if (message != NULL) {
        call->first = message->next;
        if (call->first == NULL) {
            call->last = NULL;
        }
    }
    return message;
}

static void discard_messages(struct call *call)
{
    struct message *message;
    while ((message = take_message(call)) != NULL) {
        free(message->bytes);
        free(message);
    }
}

/* Releases what the call holds. The call must have ended (or never opened). */
static void release_call(struct call *call)
{
    discard_messages(call);
    free(call->method);
    call->method = NULL;
}

/* ---- connection failure ---- */

/* Marks the connection lost (keeping the first reason) and ends every open call with it.
 * Returns the failure's code. */
static int fail_client(fma_client *client, const fma_status *why)
{
    if (!client->failed) {
        client->failed = 1;
        client->failure = *why;
    }
    while (client->open != NULL) {
        end_call(client->open, &client->failure);
    }
    return client->failure.code;
}

/* ---- writing ---- */

static int pump(fma_client *client, int64_t deadline, fma_status *status);

/* A write failed: the server may have closed the connection after explaining why with a
 * connection error (§8), for example for a frame over its size limit. Reads the frames that
 * have already arrived, without waiting, so that such a status wins over the bare write
 * error. */
static void read_what_arrived(fma_client *client)
{
    if (client->salvaging) {
        return;
    }
    client->salvaging = 1;
    int64_t now = fma_now_ms();
    fma_status ignored;
    while (!client->failed && pump(client, now, &ignored) == FMA_OK) {
    }
    client->salvaging = 0;
}

static int send_frame(fma_client *client, const Fma__V1__Frame *frame, int64_t deadline,
                      fma_status *status)
{
    if (client->failed) {
        return fma_status_copy(status, &client->failure);
    }
    uint8_t *bytes;
    size_t len;
    int code = fma_frame_encode(frame, client->max_frame_bytes, &bytes, &len, status);
    if (code != FMA_OK) {
        return code;
    }
    size_t sent;
    int err = fma_socket_send_all(client->fd, bytes, len, deadline, &sent);
    free(bytes);
    if (err == 0) {
        return fma_status_ok(status);
    }
    if (err == ETIMEDOUT && sent == 0) {
        /* Nothing went out: the connection is still usable. */
        return fma_status_set(status, FMA_DEADLINE_EXCEEDED,
                              "write to %s: timed out before the server took the frame",
                              client->address);
    }
    fma_status lost;
    if (err == ETIMEDOUT) {
        fma_status_set(&lost, FMA_UNAVAILABLE,
                       "write to %s: timed out after %zu of %zu bytes of a frame; the "
                       "connection can no longer be used",
                       client->address, sent, len);
    } else {
        char text[128];
        fma_status_set(&lost, FMA_UNAVAILABLE, "write to %s: %s", client->address,
                       fma_errno_text(err, text, sizeof text));
        read_what_arrived(client);
    }
    fail_client(client, &lost); /* keeps an earlier reason, such as the server's */
    return fma_status_copy(status, &client->failure);
}

/* Sends Frame{call_id, cancel: {reason}} for an open call. */
static int send_cancel(struct call *call, const char *reason, fma_status *status)
{
    if (call->client == NULL) {
        return fma_status_ok(status);
    }
    Fma__V1__CallCancel cancel = FMA__V1__CALL_CANCEL__INIT;
    cancel.reason = (char *)reason;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = call->id;
    frame.body_case = FMA__V1__FRAME__BODY_CANCEL;
    frame.cancel = &cancel;
    return send_frame(call->client, &frame, fma_deadline_after(CONTROL_WRITE_TIMEOUT_MS),
                      status);
}

/* After the application took a message of a stream with a credit window: grants the server
 * the messages taken since the last grant, once they are half the window. */
static void grant_credit(struct call *call)
{
    if (call->client == NULL || call->credit_window == 0) {
        return;
    }
    call->taken_since_grant++;
    uint32_t threshold = call->credit_window / 2 > 0 ? call->credit_window / 2 : 1;
    if (call->taken_since_grant < threshold) {
        return;
    }
    Fma__V1__CallCredit credit = FMA__V1__CALL_CREDIT__INIT;
    credit.messages = call->taken_since_grant;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = call->id;
    frame.body_case = FMA__V1__FRAME__BODY_CREDIT;
    frame.credit = &credit;
    call->taken_since_grant = 0;
    fma_status ignored; /* a lost connection ends the call, which the next read reports */
    send_frame(call->client, &frame, fma_deadline_after(CONTROL_WRITE_TIMEOUT_MS), &ignored);
}

/* ---- reading ---- */

static void reader_reset(struct reader *reader)
{
    free(reader->body);
    memset(reader, 0, sizeof *reader);
}

static int receive_failed(const fma_client *client, int err, fma_status *status)
{
    if (err == ETIMEDOUT) {
        return fma_status_set(status, FMA_DEADLINE_EXCEEDED, "read from %s: timed out",
                              client->address);
    }
    char text[128];
    return fma_status_set(status, FMA_UNAVAILABLE, "read from %s: %s", client->address,
                          fma_errno_text(err, text, sizeof text));
}

static int closed_by_server(const fma_client *client, fma_status *status)
{
    const struct reader *reader = &client->reader;
    if (reader->header_have == 0) {
        return fma_status_set(status, FMA_UNAVAILABLE, "connection to %s closed by the server",
                              client->address);
    }
    if (reader->body == NULL) {
        return fma_status_set(status, FMA_UNAVAILABLE,
                              "connection to %s closed in the middle of a frame's length "
                              "(%zu of %u bytes read)",
                              client->address, reader->header_have, FMA_FRAME_HEADER_BYTES);
    }
    return fma_status_set(status, FMA_UNAVAILABLE,
                          "connection to %s closed in the middle of a frame (%zu of %u bytes "
                          "read)",
                          client->address, reader->body_have, (unsigned)reader->body_len);
}

/* The length prefix is complete: checks it against the limit, then allocates the body. */
static int start_body(fma_client *client, fma_status *status)
{
    struct reader *reader = &client->reader;
    uint32_t len = fma_frame_length(reader->header);
    int code = fma_frame_check_length(len, fma_frame_limit(client->max_frame_bytes),
                                      client->address, status);
    if (code != FMA_OK) {
        return code;
    }
    reader->body = malloc(len > 0 ? len : 1);
    if (reader->body == NULL) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED,
                              "out of memory for a frame of %u bytes from %s", (unsigned)len,
                              client->address);
    }
    reader->body_len = len;
    reader->body_have = 0;
    return fma_status_ok(status);
}

static int finish_frame(fma_client *client, Fma__V1__Frame **out, fma_status *status)
{
    struct reader *reader = &client->reader;
    int code = fma_frame_unpack_body(reader->body, reader->body_len, client->address, out,
                                     status);
    reader_reset(reader);
    if (code != FMA_OK) {
        status->code = FMA_INTERNAL; /* the server broke the protocol */
    }
    return status->code;
}

/* Reads the next frame, waiting until `deadline`. DEADLINE_EXCEEDED leaves the connection as it
 * is (a frame read in part is completed by a later call); any other failure means the
 * connection is lost. */
static int read_frame(fma_client *client, int64_t deadline, Fma__V1__Frame **out,
                      fma_status *status)
{
    struct reader *reader = &client->reader;
    for (;;) {
        int in_header = reader->header_have < FMA_FRAME_HEADER_BYTES;
        if (!in_header && reader->body == NULL) {
            int code = start_body(client, status);
            if (code != FMA_OK) {
                return code;
            }
        }
        if (!in_header && reader->body_have == reader->body_len) {
            return finish_frame(client, out, status);
        }
        uint8_t *into = in_header ? reader->header + reader->header_have
                                  : reader->body + reader->body_have;
        size_t want = in_header ? FMA_FRAME_HEADER_BYTES - reader->header_have
                                : reader->body_len - reader->body_have;
        size_t got;
        int err = fma_socket_receive(client->fd, into, want, deadline, &got);
        if (err != 0) {
            return receive_failed(client, err, status);
        }
        if (got == 0) {
            return closed_by_server(client, status);
        }
        if (in_header) {
            reader->header_have += got;
        } else {
            reader->body_have += got;
        }
    }
}

/* ---- handing frames to calls ---- */

static void copy_server_status(fma_status *to, const Fma__V1__CallStatus *from)
{
    to->code = (int)from->code;
    snprintf(to->message, sizeof to->message, "%s", from->message != NULL ? from->message : "");
}

static void deliver_response(struct call *call, const Fma__V1__CallResponse *response)
{
    call->responses++;
    if (!call->streaming && call->responses > 1) {
        return; /* a protocol error, reported when the status arrives */
    }
    if (queue_message(call, response->payload.data, response->payload.len) != 0) {
        fma_status failure;
        fma_status_set(&failure, FMA_RESOURCE_EXHAUSTED,
                       "%s: out of memory for a response of %zu bytes", call->method,
                       response->payload.len);
        fma_status ignored;
        send_cancel(call, "client out of memory", &ignored);
        end_call(call, &failure);
    }
}

/* A status on call id 0: the server ends the connection, failing every open call. */
static void connection_error(fma_client *client, const Fma__V1__Frame *frame)
{
    if (frame->body_case != FMA__V1__FRAME__BODY_STATUS) {
        return; /* only a status means anything on id 0 */
    }
    fma_status why;
    copy_server_status(&why, frame->status);
    if (why.code == FMA_OK) {
        fma_status_set(&why, FMA_UNAVAILABLE, "%s ended the connection: %s", client->address,
                       frame->status->message);
    }
    fail_client(client, &why);
}

static const char *body_name(Fma__V1__Frame__BodyCase body)
{
    switch (body) {
    case FMA__V1__FRAME__BODY_REQUEST:
        return "request";
    case FMA__V1__FRAME__BODY_CANCEL:
        return "cancel";
    case FMA__V1__FRAME__BODY_CREDIT:
        return "credit";
    default:
        return "unexpected";
    }
}

static void dispatch(fma_client *client, const Fma__V1__Frame *frame)
{
    if (frame->call_id == 0) {
        connection_error(client, frame);
        return;
    }
    struct call *call = find_open_call(client, frame->call_id);
    fma_status status;
    switch (frame->body_case) {
    case FMA__V1__FRAME__BODY_RESPONSE:
        if (call != NULL) {
            deliver_response(call, frame->response);
        }
        return;
    case FMA__V1__FRAME__BODY_STATUS:
        if (call != NULL) {
            copy_server_status(&status, frame->status);
            end_call(call, &status);
        }
        return;
    case FMA__V1__FRAME__BODY_REQUEST:
    case FMA__V1__FRAME__BODY_CANCEL:
    case FMA__V1__FRAME__BODY_CREDIT:
        fma_status_set(&status, FMA_INTERNAL,
                       "protocol violation: %s sent a %s frame (call %llu), which only clients "
                       "send",
                       client->address, body_name(frame->body_case),
                       (unsigned long long)frame->call_id);
        fail_client(client, &status);
        return;
    default:
        return; /* no body, or one of a later protocol version: ignored */
    }
}

/* Reads one frame and hands it to its call. Returns FMA_OK; DEADLINE_EXCEEDED when no frame
 * completed before `deadline` (nothing changed); or the failure that lost the connection (every
 * open call has ended with it). */
static int pump(fma_client *client, int64_t deadline, fma_status *status)
{
    if (client->failed) {
        return fma_status_copy(status, &client->failure);
    }
    Fma__V1__Frame *frame;
    int code = read_frame(client, deadline, &frame, status);
    if (code == FMA_DEADLINE_EXCEEDED) {
        return code;
    }
    if (code != FMA_OK) {
        return fail_client(client, status);
    }
    dispatch(client, frame);
    fma_frame_free(frame);
    return fma_status_ok(status);
}

static void time_out(struct call *call)
{
    fma_status status;
    fma_status_set(&status, FMA_DEADLINE_EXCEEDED, "%s: deadline of %u ms exceeded",
                   call->method, (unsigned)call->timeout_ms);
    fma_status ignored;
    send_cancel(call, "deadline exceeded", &ignored);
    end_call(call, &status);
}

/* Reads frames until the call has ended or, with `want_message`, has a message queued. */
static void wait_call(struct call *call, int want_message)
{
    while (!call->ended && !(want_message && call->first != NULL)) {
        fma_status status;
        if (pump(call->client, call->deadline, &status) == FMA_DEADLINE_EXCEEDED) {
            time_out(call);
        }
    }
}

/* ---- opening calls ---- */

static int check_call_arguments(const fma_client *client, const char *method,
                                const uint8_t *request, size_t request_len, fma_status *status)
{
    if (client == NULL) {
        return fma_status_set(status, FMA_INVALID_ARGUMENT, "no client");
    }
    if (method == NULL || method[0] == '\0') {
        return fma_status_set(status, FMA_INVALID_ARGUMENT, "no method");
    }
    if (request == NULL && request_len > 0) {
        return fma_status_set(status, FMA_INVALID_ARGUMENT,
                              "%s: request of %zu bytes at NULL", method, request_len);
    }
    return fma_status_ok(status);
}

/* Opens `call` (zeroed here first): sends its CallRequest and links it as open. On failure the
 * call has ended with the returned status; release_call cleans it up either way. */
static int open_call(fma_client *client, struct call *call, const char *method,
                     const uint8_t *request, size_t request_len, uint32_t timeout_ms,
                     int streaming, fma_status *status)
{
    memset(call, 0, sizeof *call);
    int code = check_call_arguments(client, method, request, request_len, status);
    if (code != FMA_OK) {
        return code;
    }
    if (client->failed) {
        return fma_status_copy(status, &client->failure);
    }
    call->method = strdup(method);
    if (call->method == NULL) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED, "%s: out of memory", method);
    }
    call->id = ++client->last_call_id;
    call->timeout_ms = timeout_ms;
    call->deadline = fma_deadline_after(timeout_ms);
    call->streaming = streaming;
    call->credit_window = streaming ? client->stream_credit : 0;
    fma_status_ok(&call->status);

    Fma__V1__CallRequest__MetadataEntry authorization =
        FMA__V1__CALL_REQUEST__METADATA_ENTRY__INIT;
    Fma__V1__CallRequest__MetadataEntry *metadata[1] = {&authorization};
    Fma__V1__CallRequest call_request = FMA__V1__CALL_REQUEST__INIT;
    call_request.method = (char *)method;
    if (client->authorization != NULL) {
        authorization.key = "authorization";
        authorization.value = client->authorization;
        call_request.metadata = metadata;
        call_request.n_metadata = 1;
    }
    call_request.timeout_ms = timeout_ms;
    call_request.payload.data = (uint8_t *)request;
    call_request.payload.len = request_len;
    call_request.initial_credit = call->credit_window;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = call->id;
    frame.body_case = FMA__V1__FRAME__BODY_REQUEST;
    frame.request = &call_request;

    link_call(client, call);
    code = send_frame(client, &frame, call->deadline, status);
    if (code != FMA_OK) {
        end_call(call, status);
    }
    return code;
}

/* ---- unary calls ---- */

static int unary_result(struct call *call, uint8_t **response, size_t *response_len,
                        fma_status *status)
{
    if (call->status.code != FMA_OK) {
        return fma_status_copy(status, &call->status);
    }
    if (call->responses != 1) {
        return fma_status_set(status, FMA_INTERNAL,
                              "%s: the server ended the unary call OK after %zu responses "
                              "instead of one",
                              call->method, call->responses);
    }
    struct message *message = take_message(call);
    *response = message->bytes;
    *response_len = message->len;
    free(message);
    return fma_status_ok(status);
}

int fma_call_unary(fma_client *client, const char *method, const uint8_t *request,
                   size_t request_len, uint32_t timeout_ms, uint8_t **response,
                   size_t *response_len, fma_status *status)
{
    *response = NULL;
    *response_len = 0;
    fma_status local;
    if (status == NULL) {
        status = &local;
    }
    struct call call;
    int code = open_call(client, &call, method, request, request_len, timeout_ms, 0, status);
    if (code == FMA_OK) {
        wait_call(&call, 0);
        code = unary_result(&call, response, response_len, status);
    }
    release_call(&call);
    return code;
}

/* ---- streams ---- */

int fma_stream_start(fma_client *client, const char *method, const uint8_t *request,
                     size_t request_len, uint32_t timeout_ms, fma_stream **out,
                     fma_status *status)
{
    *out = NULL;
    fma_stream *stream = malloc(sizeof *stream);
    if (stream == NULL) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED, "out of memory");
    }
    fma_status local;
    int code = open_call(client, &stream->call, method, request, request_len, timeout_ms, 1,
                         status != NULL ? status : &local);
    if (code != FMA_OK) {
        release_call(&stream->call);
        free(stream);
        return code;
    }
    *out = stream;
    return FMA_OK;
}

int fma_stream_next(fma_stream *stream, uint8_t **message, size_t *message_len)
{
    *message = NULL;
    *message_len = 0;
    struct call *call = &stream->call;
    if (call->first == NULL && !call->ended) {
        wait_call(call, 1);
    }
    struct message *next = take_message(call);
    if (next == NULL) {
        return call->status.code == FMA_OK ? 0 : -1;
    }
    *message = next->bytes;
    *message_len = next->len;
    free(next);
    grant_credit(call);
    return 1;
}

const fma_status *fma_stream_status(const fma_stream *stream)
{
    return &stream->call.status;
}

int fma_stream_cancel(fma_stream *stream, const char *reason)
{
    struct call *call = &stream->call;
    if (call->ended) {
        return FMA_OK;
    }
    fma_status sent;
    int code = send_cancel(call, reason != NULL ? reason : "cancelled by the client", &sent);
    discard_messages(call);
    fma_status cancelled;
    if (reason != NULL) {
        fma_status_set(&cancelled, FMA_CANCELLED, "%s: cancelled by the client: %s",
                       call->method, reason);
    } else {
        fma_status_set(&cancelled, FMA_CANCELLED, "%s: cancelled by the client", call->method);
    }
    end_call(call, &cancelled);
    return code;
}

void fma_stream_free(fma_stream *stream)
{
    if (stream == NULL) {
        return;
    }
    if (!stream->call.ended) {
        fma_stream_cancel(stream, "stream released");
    }
    release_call(&stream->call);
    free(stream);
}

/* ---- clients ---- */

static int new_client(int fd, const char *address, fma_client **out, fma_status *status)
{
    fma_client *client = calloc(1, sizeof *client);
    char *address_copy = strdup(address);
    if (client == NULL || address_copy == NULL) {
        free(client);
        free(address_copy);
        close(fd);
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED, "out of memory");
    }
    client->fd = fd;
    client->address = address_copy;
    *out = client;
    return fma_status_ok(status);
}

int fma_client_connect(const char *address, uint32_t connect_timeout_ms, fma_client **out,
                       fma_status *status)
{
    *out = NULL;
    if (address == NULL) {
        return fma_status_set(status, FMA_INVALID_ARGUMENT, "no address");
    }
    int fd;
    int code = fma_connect(address, connect_timeout_ms, &fd, status);
    if (code != FMA_OK) {
        return code;
    }
    return new_client(fd, address, out, status);
}

int fma_client_adopt_fd(int fd, const char *peer, fma_client **out, fma_status *status)
{
    *out = NULL;
    if (fd < 0) {
        return fma_status_set(status, FMA_INVALID_ARGUMENT, "invalid file descriptor %d", fd);
    }
    char fallback[32];
    if (peer == NULL) {
        snprintf(fallback, sizeof fallback, "fd %d", fd);
        peer = fallback;
    }
    int err = fma_socket_configure(fd);
    if (err != 0) {
        char text[128];
        close(fd);
        return fma_status_set(status, FMA_UNAVAILABLE, "configure %s: %s", peer,
                              fma_errno_text(err, text, sizeof text));
    }
    return new_client(fd, peer, out, status);
}

void fma_client_close(fma_client *client)
{
    if (client == NULL) {
        return;
    }
    fma_status closed;
    fma_status_set(&closed, FMA_CANCELLED, "client closed");
    while (client->open != NULL) {
        end_call(client->open, &closed);
    }
    close(client->fd);
    reader_reset(&client->reader);
    free(client->authorization);
    free(client->address);
    free(client);
}

const char *fma_client_address(const fma_client *client)
{
    return client->address;
}

int fma_client_set_token(fma_client *client, const char *token, fma_status *status)
{
    if (token == NULL || token[0] == '\0') {
        free(client->authorization);
        client->authorization = NULL;
        return fma_status_ok(status);
    }
    for (size_t i = 0; token[i] != '\0'; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c < 0x21 || c > 0x7e) {
            return fma_status_set(status, FMA_INVALID_ARGUMENT,
                                  "token has a character that is not printable ASCII "
                                  "(byte 0x%02x at offset %zu)",
                                  c, i);
        }
    }
    static const char scheme[] = "Bearer ";
    size_t len = strlen(token);
    char *authorization = malloc(sizeof scheme + len);
    if (authorization == NULL) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED, "out of memory");
    }
    memcpy(authorization, scheme, sizeof scheme - 1);
    memcpy(authorization + sizeof scheme - 1, token, len + 1);
    free(client->authorization);
    client->authorization = authorization;
    return fma_status_ok(status);
}

void fma_client_set_max_frame_bytes(fma_client *client, uint32_t max_frame_bytes)
{
    client->max_frame_bytes = max_frame_bytes;
}

void fma_client_set_stream_credit(fma_client *client, uint32_t window)
{
    client->stream_credit = window;
}
