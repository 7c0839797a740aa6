/*
 * fma_connection.c — one connection's frames: writing them, reading them (a frame at a time,
 * resumable after a timeout), handing each to its call, and losing the connection
 * (docs/wire-protocol.md §2, §3, §5, §7, §8).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fma_connection.h"

/* How long a CallCancel or CallCredit frame may take to send. They are small; a connection that
 * cannot take one within this is treated as stuck. */
#define CONTROL_WRITE_TIMEOUT_MS 1000u

/* ---- connection failure ---- */

int fma_connection_fail(fma_client *client, const fma_status *why)
{
    if (!client->failed) {
        client->failed = 1;
        fma_status_copy(&client->failure, why);
    }
    while (client->open != NULL) {
        fma_call_end(client->open, &client->failure);
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

int fma_connection_send(fma_client *client, const Fma__V1__Frame *frame, int64_t deadline,
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
    fma_connection_fail(client, &lost); /* keeps an earlier reason, such as the server's */
    return fma_status_copy(status, &client->failure);
}

int fma_call_send_cancel(struct fma_call *call, const char *reason, fma_status *status)
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
    return fma_connection_send(call->client, &frame,
                               fma_deadline_after(CONTROL_WRITE_TIMEOUT_MS), status);
}

void fma_call_grant_credit(struct fma_call *call)
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
    fma_connection_send(call->client, &frame, fma_deadline_after(CONTROL_WRITE_TIMEOUT_MS),
                        &ignored);
}

/* ---- reading ---- */

void fma_reader_reset(struct fma_reader *reader)
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
    const struct fma_reader *reader = &client->reader;
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
    struct fma_reader *reader = &client->reader;
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
    struct fma_reader *reader = &client->reader;
    int code = fma_frame_unpack_body(reader->body, reader->body_len, client->address, out,
                                     status);
    fma_reader_reset(reader);
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
    struct fma_reader *reader = &client->reader;
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

/* `to` filled from a server's CallStatus, message and details whole (fma_status_free it). */
static void copy_server_status(fma_status *to, const Fma__V1__CallStatus *from)
{
    size_t count = from->n_details;
    const char *keys[count > 0 ? count : 1];
    const char *values[count > 0 ? count : 1];
    for (size_t index = 0; index < count; index++) {
        keys[index] = from->details[index]->key;
        values[index] = from->details[index]->value;
    }
    fma_status_fill(to, (int)from->code, from->message, count, keys, values);
}

static void deliver_response(struct fma_call *call, const Fma__V1__CallResponse *response)
{
    call->responses++;
    if (!call->streaming && call->responses > 1) {
        return; /* a protocol error, reported when the status arrives */
    }
    if (fma_call_queue(call, response->payload.data, response->payload.len) != 0) {
        fma_status failure;
        fma_status_set(&failure, FMA_RESOURCE_EXHAUSTED,
                       "%s: out of memory for a response of %zu bytes", call->method,
                       response->payload.len);
        fma_status ignored;
        fma_call_send_cancel(call, "client out of memory", &ignored);
        fma_call_end(call, &failure);
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
        fma_status_free(&why);
        fma_status_set(&why, FMA_UNAVAILABLE, "%s ended the connection: %s", client->address,
                       frame->status->message);
    }
    fma_connection_fail(client, &why);
    fma_status_free(&why);
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
    struct fma_call *call = fma_call_find(client, frame->call_id);
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
            fma_call_end(call, &status);
            fma_status_free(&status);
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
        fma_connection_fail(client, &status);
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
        return fma_connection_fail(client, status);
    }
    dispatch(client, frame);
    fma_frame_free(frame);
    return fma_status_ok(status);
}

static void time_out(struct fma_call *call)
{
    fma_status status;
    fma_status_set(&status, FMA_DEADLINE_EXCEEDED, "%s: deadline of %u ms exceeded",
                   call->method, (unsigned)call->timeout_ms);
    fma_status ignored;
    fma_call_send_cancel(call, "deadline exceeded", &ignored);
    fma_call_end(call, &status);
}

void fma_call_wait(struct fma_call *call, int want_message)
{
    while (!call->ended && !(want_message && call->first != NULL)) {
        fma_status status;
        if (pump(call->client, call->deadline, &status) == FMA_DEADLINE_EXCEEDED) {
            time_out(call);
        }
    }
}
