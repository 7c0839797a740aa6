/*
 * fma_status.c — status codes, their names, and filling fma_status values.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fma_internal.h"

static const char *const code_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *fma_code_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof code_names / sizeof code_names[0]) {
        return "UNKNOWN";
    }
    return code_names[code];
}

/* Forgets (without freeing) what a status owned: the fields of a status being overwritten. */
static void clear_owned(fma_status *status)
{
    status->long_message = NULL;
    status->detail_count = 0;
    status->details = NULL;
}

int fma_status_set(fma_status *status, int code, const char *format, ...)
{
    if (status != NULL) {
        va_list args;
        va_start(args, format);
        status->code = code;
        if (vsnprintf(status->message, sizeof status->message, format, args) < 0) {
            status->message[0] = '\0';
        }
        va_end(args);
        clear_owned(status);
    }
    return code;
}

int fma_status_ok(fma_status *status)
{
    if (status != NULL) {
        status->code = FMA_OK;
        status->message[0] = '\0';
        clear_owned(status);
    }
    return FMA_OK;
}

int fma_status_fill(fma_status *status, int code, const char *message, size_t detail_count,
                    const char *const *keys, const char *const *values)
{
    if (status == NULL) {
        return code;
    }
    const char *text = message != NULL ? message : "";
    status->code = code;
    snprintf(status->message, sizeof status->message, "%s", text);
    clear_owned(status);
    if (strlen(text) >= sizeof status->message) {
        status->long_message = strdup(text); /* out of memory: the message stays cut short */
    }
    if (detail_count > 0) {
        status->details = calloc(detail_count, sizeof *status->details);
    }
    if (status->details != NULL) {
        for (size_t index = 0; index < detail_count; index++) {
            fma_detail *detail = &status->details[status->detail_count];
            detail->key = strdup(keys[index] != NULL ? keys[index] : "");
            detail->value = strdup(values[index] != NULL ? values[index] : "");
            if (detail->key == NULL || detail->value == NULL) {
                free(detail->key);
                free(detail->value);
                break; /* out of memory: the details read so far */
            }
            status->detail_count++;
        }
    }
    return code;
}

int fma_status_copy(fma_status *to, const fma_status *from)
{
    if (to == NULL || to == from) {
        return from->code;
    }
    const char *keys[from->detail_count > 0 ? from->detail_count : 1];
    const char *values[from->detail_count > 0 ? from->detail_count : 1];
    for (size_t index = 0; index < from->detail_count; index++) {
        keys[index] = from->details[index].key;
        values[index] = from->details[index].value;
    }
    return fma_status_fill(to, from->code, fma_status_message(from), from->detail_count, keys, values);
}

const char *fma_status_message(const fma_status *status)
{
    return status->long_message != NULL ? status->long_message : status->message;
}

const char *fma_status_detail(const fma_status *status, const char *key)
{
    for (size_t index = 0; index < status->detail_count; index++) {
        if (strcmp(status->details[index].key, key) == 0) {
            return status->details[index].value;
        }
    }
    return NULL;
}

void fma_status_free(fma_status *status)
{
    if (status == NULL) {
        return;
    }
    free(status->long_message);
    for (size_t index = 0; index < status->detail_count; index++) {
        free(status->details[index].key);
        free(status->details[index].value);
    }
    free(status->details);
    clear_owned(status);
}

const char *fma_errno_text(int err, char *buffer, size_t size)
{
    /* glibc with _GNU_SOURCE has the GNU strerror_r, which returns the text instead of
     * writing it; everything else has the POSIX one. Either way the result lands in buffer. */
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    const char *text = strerror_r(err, buffer, size);
    if (text != buffer) {
        snprintf(buffer, size, "%s", text);
    }
#else
    if (strerror_r(err, buffer, size) != 0) {
        snprintf(buffer, size, "error %d", err);
    }
#endif
    return buffer;
}
