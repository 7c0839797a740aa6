/*
 * fma_connection.h — the state of a client, its calls and the frame being read, shared by
 * fma_call.c, fma_connection.c and fma_client.c; not installed.
 *
 * A client reads frames only while the application waits on one of its calls; each frame read
 * is handed to the call it belongs to (queued responses, or the final status). A call is "open"
 * — linked in client->open and pointing back at its client — from its request until its status;
 * frames for an id that is not open (a call cancelled or timed out here) are dropped.
 */
#ifndef FMA_CONNECTION_H
#define FMA_CONNECTION_H

#include "fma_internal.h"

/* One response message queued for its call. */
struct fma_message {
    struct fma_message *next;
    uint8_t *bytes;
    size_t len;
};

/* One call: unary (fma_call_unary keeps it on its stack) or a stream's (in fma_stream). */
struct fma_call {
    fma_client *client;         /* the client while the call is open; NULL once it has ended */
    struct fma_call *next_open; /* in client->open */
    uint64_t id;
    char *method;
    uint32_t timeout_ms;
    int64_t deadline;
    int streaming;
    int ended;
    fma_status status; /* OK until the call ends; then its final status */
    struct fma_message *first;
    struct fma_message *last;
    size_t responses;           /* responses received, queued or not */
    uint32_t credit_window;     /* streams: initial_credit sent; 0 = no per-call limit */
    uint32_t taken_since_grant; /* messages taken since credit was last granted */
};

struct fma_stream {
    struct fma_call call;
};

/* The frame being read: its length prefix, then its body. */
struct fma_reader {
    uint8_t header[FMA_FRAME_HEADER_BYTES];
    size_t header_have;
    uint8_t *body; /* allocated once the prefix is complete and checked */
    uint32_t body_len;
    size_t body_have;
};

/* One connection. */
struct fma_client {
    int fd;
    char *address;
    char *authorization; /* "Bearer TOKEN", or NULL */
    uint64_t last_call_id;
    uint32_t max_frame_bytes;
    uint32_t stream_credit;
    struct fma_reader reader;
    int failed;    /* the connection is lost; `failure` says why */
    int salvaging; /* reading what arrived after a failed write (fma_connection.c) */
    fma_status failure;
    struct fma_call *open;
};

/* ---- calls and their queues (fma_call.c) ---- */

/* Links `call` into client->open: frames with its id now reach it. */
void fma_call_link(fma_client *client, struct fma_call *call);

/* The open call with `id`, or NULL. */
struct fma_call *fma_call_find(const fma_client *client, uint64_t id);

/* Ends the call with `status` (replacing an earlier end) and closes its id here. */
void fma_call_end(struct fma_call *call, const fma_status *status);

/* Queues a copy of a response message. Returns 0 or ENOMEM. */
int fma_call_queue(struct fma_call *call, const uint8_t *bytes, size_t len);

/* Takes the first queued message (the caller frees it and its bytes), or NULL. */
struct fma_message *fma_call_take(struct fma_call *call);

/* Drops every queued message. */
void fma_call_discard(struct fma_call *call);

/* Releases what the call holds. The call must have ended (or never opened). */
void fma_call_release(struct fma_call *call);

/* ---- the connection (fma_connection.c) ---- */

/* Marks the connection lost (keeping the first reason) and ends every open call with it.
 * Returns the failure's code. */
int fma_connection_fail(fma_client *client, const fma_status *why);

/* Sends one frame, waiting for the socket until `deadline`. A frame left half-written loses
 * the connection. */
int fma_connection_send(fma_client *client, const Fma__V1__Frame *frame, int64_t deadline,
                        fma_status *status);

/* Discards the frame read in part. */
void fma_reader_reset(struct fma_reader *reader);

/* Sends Frame{call_id, cancel: {reason}} for an open call (nothing for an ended one). */
int fma_call_send_cancel(struct fma_call *call, const char *reason, fma_status *status);

/* After the application took a message of a stream with a credit window: grants the server
 * the messages taken since the last grant, once they are half the window. */
void fma_call_grant_credit(struct fma_call *call);

/* Reads frames, handing each to its call, until `call` has ended or, with `want_message`, has a
 * message queued. At the call's deadline it is cancelled and ends with DEADLINE_EXCEEDED. */
void fma_call_wait(struct fma_call *call, int want_message);

#endif /* FMA_CONNECTION_H */
