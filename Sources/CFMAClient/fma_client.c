/*
 * fma_client.c — the public API: clients, unary calls and streams (fma_client.h).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fma_connection.h"

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
 * call has ended with the returned status; fma_call_release cleans it up either way. */
static int open_call(fma_client *client, struct fma_call *call, const char *method,
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

    fma_call_link(client, call);
    code = fma_connection_send(client, &frame, call->deadline, status);
    if (code != FMA_OK) {
        fma_call_end(call, status);
    }
    return code;
}

/* ---- unary calls ---- */

static int unary_result(struct fma_call *call, uint8_t **response, size_t *response_len,
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
    struct fma_message *message = fma_call_take(call);
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
    struct fma_call call;
    int code = open_call(client, &call, method, request, request_len, timeout_ms, 0, status);
    if (code == FMA_OK) {
        fma_call_wait(&call, 0);
        code = unary_result(&call, response, response_len, status);
    }
    fma_call_release(&call);
    if (status == &local) {
        fma_status_free(&local);
    }
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
        fma_call_release(&stream->call);
        free(stream);
        if (status == NULL) {
            fma_status_free(&local);
        }
        return code;
    }
    *out = stream;
    return FMA_OK;
}

int fma_stream_next(fma_stream *stream, uint8_t **message, size_t *message_len)
{
    *message = NULL;
    *message_len = 0;
    struct fma_call *call = &stream->call;
    if (call->first == NULL && !call->ended) {
        fma_call_wait(call, 1);
    }
    struct fma_message *next = fma_call_take(call);
    if (next == NULL) {
        return call->status.code == FMA_OK ? 0 : -1;
    }
    *message = next->bytes;
    *message_len = next->len;
    free(next);
    fma_call_grant_credit(call);
    return 1;
}

const fma_status *fma_stream_status(const fma_stream *stream)
{
    return &stream->call.status;
}

int fma_stream_cancel(fma_stream *stream, const char *reason)
{
    struct fma_call *call = &stream->call;
    if (call->ended) {
        return FMA_OK;
    }
    fma_status sent;
    const char *sent_reason = reason != NULL ? reason : "cancelled by the client";
    int code = fma_call_send_cancel(call, sent_reason, &sent);
    fma_call_discard(call);
    fma_status cancelled;
    if (reason != NULL) {
        fma_status_set(&cancelled, FMA_CANCELLED, "%s: cancelled by the client: %s",
                       call->method, reason);
    } else {
        fma_status_set(&cancelled, FMA_CANCELLED, "%s: cancelled by the client", call->method);
    }
    fma_call_end(call, &cancelled);
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
    fma_call_release(&stream->call);
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
        fma_call_end(client->open, &closed);
    }
    close(client->fd);
    fma_reader_reset(&client->reader);
    fma_status_free(&client->failure);
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
