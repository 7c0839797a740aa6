/*
 * fma_status.c — status codes, their names, and filling fma_status values.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
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
    }
    return code;
}

int fma_status_ok(fma_status *status)
{
    if (status != NULL) {
        status->code = FMA_OK;
        status->message[0] = '\0';
    }
    return FMA_OK;
}

int fma_status_copy(fma_status *to, const fma_status *from)
{
    if (to != NULL && to != from) {
        *to = *from;
    }
    return from->code;
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
