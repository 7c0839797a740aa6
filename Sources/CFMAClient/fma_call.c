/*
 * fma_call.c — the open calls of a client and the responses queued for each.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fma_connection.h"

void fma_call_link(fma_client *client, struct fma_call *call)
{
    call->client = client;
    call->next_open = client->open;
    client->open = call;
}

static void unlink_call(struct fma_call *call)
{
    if (call->client == NULL) {
        return;
    }
    struct fma_call **link = &call->client->open;
    while (*link != NULL && *link != call) {
        link = &(*link)->next_open;
    }
    if (*link == call) {
        *link = call->next_open;
    }
    call->client = NULL;
    call->next_open = NULL;
}

struct fma_call *fma_call_find(const fma_client *client, uint64_t id)
{
    for (struct fma_call *call = client->open; call != NULL; call = call->next_open) {
        if (call->id == id) {
            return call;
        }
    }
    return NULL;
}

void fma_call_end(struct fma_call *call, const fma_status *status)
{
    call->ended = 1;
    fma_status_copy(&call->status, status);
    unlink_call(call);
}

int fma_call_queue(struct fma_call *call, const uint8_t *bytes, size_t len)
{
    struct fma_message *message = malloc(sizeof *message);
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (message == NULL || copy == NULL) {
        free(message);
        free(copy);
        return ENOMEM;
    }
    if (len > 0) {
        memcpy(copy, bytes, len);
    }
    *message = (struct fma_message){.next = NULL, .bytes = copy, .len = len};
    if (call->last != NULL) {
        call->last->next = message;
    } else {
        call->first = message;
    }
    call->last = message;
    return 0;
}

struct fma_message *fma_call_take(struct fma_call *call)
{
    struct fma_message *message = call->first;
    if (message != NULL) {
        call->first = message->next;
        if (call->first == NULL) {
            call->last = NULL;
        }
    }
    return message;
}

void fma_call_discard(struct fma_call *call)
{
    struct fma_message *message;
    while ((message = fma_call_take(call)) != NULL) {
        free(message->bytes);
        free(message);
    }
}

void fma_call_release(struct fma_call *call)
{
    fma_call_discard(call);
    free(call->method);
    call->method = NULL;
    fma_status_free(&call->status);
}
