/*
 * fma_frame.c — the framing of docs/wire-protocol.md §2: a 4-byte big-endian length, then that
 * many bytes of one packed fma.v1.Frame.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include "fma_internal.h"

uint32_t fma_frame_limit(uint32_t max_frame_bytes)
{
    return max_frame_bytes == 0 ? FMA_DEFAULT_MAX_FRAME_BYTES : max_frame_bytes;
}

uint32_t fma_frame_length(const uint8_t *header)
{
    return (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 |
           (uint32_t)header[3];
}

static void put_length(uint8_t *header, uint32_t length)
{
    header[0] = (uint8_t)(length >> 24);
    header[1] = (uint8_t)(length >> 16);
    header[2] = (uint8_t)(length >> 8);
    header[3] = (uint8_t)length;
}

int fma_frame_check_length(uint32_t length, uint32_t limit, const char *source,
                           fma_status *status)
{
    if (length > limit) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED,
                              "frame of %u bytes%s%s exceeds the limit of %u bytes",
                              (unsigned)length, *source ? " from " : "", source,
                              (unsigned)limit);
    }
    return FMA_OK;
}

int fma_frame_encode(const Fma__V1__Frame *frame, uint32_t max_frame_bytes, uint8_t **out,
                     size_t *out_len, fma_status *status)
{
    *out = NULL;
    *out_len = 0;
    size_t packed_size = fma__v1__frame__get_packed_size(frame);
    uint32_t limit = fma_frame_limit(max_frame_bytes);
    if (packed_size > limit) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED,
                              "frame of %zu bytes exceeds the limit of %u bytes", packed_size,
                              (unsigned)limit);
    }
    uint8_t *bytes = malloc(FMA_FRAME_HEADER_BYTES + packed_size);
    if (bytes == NULL) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED,
                              "out of memory encoding a frame of %zu bytes", packed_size);
    }
    put_length(bytes, (uint32_t)packed_size);
    size_t written = fma__v1__frame__pack(frame, bytes + FMA_FRAME_HEADER_BYTES);
    if (written != packed_size) {
        free(bytes);
        return fma_status_set(status, FMA_INTERNAL,
                              "encoding a frame wrote %zu bytes instead of %zu", written,
                              packed_size);
    }
    *out = bytes;
    *out_len = FMA_FRAME_HEADER_BYTES + packed_size;
    return fma_status_ok(status);
}

int fma_frame_unpack_body(const uint8_t *body, size_t len, const char *source,
                          Fma__V1__Frame **out, fma_status *status)
{
    *out = fma__v1__frame__unpack(NULL, len, body);
    if (*out == NULL) {
        return fma_status_set(status, FMA_INVALID_ARGUMENT,
                              "malformed frame%s%s: %zu bytes do not decode as fma.v1.Frame",
                              *source ? " from " : "", source, len);
    }
    return fma_status_ok(status);
}

int fma_frame_decode(const uint8_t *data, size_t len, uint32_t max_frame_bytes,
                     Fma__V1__Frame **out, size_t *consumed, fma_status *status)
{
    *out = NULL;
    if (len < FMA_FRAME_HEADER_BYTES) {
        return fma_status_set(status, FMA_OUT_OF_RANGE,
                              "truncated frame: %zu bytes, fewer than the %u-byte length prefix",
                              len, FMA_FRAME_HEADER_BYTES);
    }
    uint32_t length = fma_frame_length(data);
    int code = fma_frame_check_length(length, fma_frame_limit(max_frame_bytes), "", status);
    if (code != FMA_OK) {
        return code;
    }
    size_t available = len - FMA_FRAME_HEADER_BYTES;
    if (available < length) {
        return fma_status_set(status, FMA_OUT_OF_RANGE,
                              "truncated frame: %zu of its %u bytes present", available,
                              (unsigned)length);
    }
    code = fma_frame_unpack_body(data + FMA_FRAME_HEADER_BYTES, length, "", out, status);
    if (code == FMA_OK && consumed != NULL) {
        *consumed = FMA_FRAME_HEADER_BYTES + (size_t)length;
    }
    return code;
}

void fma_frame_free(Fma__V1__Frame *frame)
{
    fma__v1__frame__free_unpacked(frame, NULL);
}
