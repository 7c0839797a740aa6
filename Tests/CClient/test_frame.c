/*
 * test_frame.c — the framing helpers: golden frames, round trips, and what must be rejected.
 * The golden frames are read from $FMA_GOLDEN_DIR (default Tests/Golden).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fma_client.h"
#include "harness.h"

/* ---- helpers ---- */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    size_t capacity = 4096;
    size_t used = 0;
    uint8_t *bytes = malloc(capacity);
    size_t n;
    while (bytes != NULL && (n = fread(bytes + used, 1, capacity - used, file)) > 0) {
        used += n;
        if (used == capacity) {
            capacity *= 2;
            uint8_t *bigger = realloc(bytes, capacity);
            if (bigger == NULL) {
                free(bytes);
            }
            bytes = bigger;
        }
    }
    fclose(file);
    *len = used;
    return bytes;
}

static int ends_with(const char *text, const char *suffix)
{
    size_t text_len = strlen(text);
    size_t suffix_len = strlen(suffix);
    return text_len >= suffix_len && strcmp(text + text_len - suffix_len, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the *.frame files in `dir`; NULL when it cannot be read. */
static char **list_golden_frames(const char *dir, size_t *count)
{
    DIR *handle = opendir(dir);
    if (handle == NULL) {
        return NULL;
    }
    size_t capacity = 16;
    char **names = malloc(capacity * sizeof *names);
    *count = 0;
    struct dirent *entry;
    while (names != NULL && (entry = readdir(handle)) != NULL) {
        if (!ends_with(entry->d_name, ".frame")) {
            continue;
        }
        if (*count == capacity) {
            capacity *= 2;
            char **bigger = realloc(names, capacity * sizeof *names);
            if (bigger == NULL) {
                break;
            }
            names = bigger;
        }
        names[(*count)++] = strdup(entry->d_name);
    }
    closedir(handle);
    if (names != NULL) {
        qsort(names, *count, sizeof *names, compare_names);
    }
    return names;
}

static uint8_t *encode(const Fma__V1__Frame *frame, size_t *len)
{
    uint8_t *bytes = NULL;
    fma_status status;
    if (fma_frame_encode(frame, 0, &bytes, len, &status) != FMA_OK) {
        FAIL("encode: %s", status.message);
    }
    return bytes;
}

/* ---- golden frames ---- */

static void check_golden_frame(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!EXPECT(bytes != NULL)) {
        FAIL("cannot read %s", path);
        return;
    }
    Fma__V1__Frame *frame = NULL;
    size_t consumed = 0;
    fma_status status;
    int code = fma_frame_decode(bytes, len, 0, &frame, &consumed, &status);
    if (EXPECT_INT(code, FMA_OK)) {
        EXPECT_INT(consumed, len); /* exactly one frame per file */
        size_t again_len = 0;
        uint8_t *again = encode(frame, &again_len);
        if (EXPECT_INT(again_len, len) && again != NULL) {
            EXPECT(memcmp(again, bytes, len) == 0);
        }
        free(again);
    } else {
        FAIL("%s: %s", name, status.message);
    }
    fma_frame_free(frame);
    free(bytes);
}

/* One test case per golden frame, named after its file. */
static void run_golden_frames(void)
{
    const char *dir = getenv("FMA_GOLDEN_DIR");
    if (dir == NULL || dir[0] == '\0') {
        dir = "Tests/Golden";
    }
    size_t count = 0;
    char **names = list_golden_frames(dir, &count);
    if (names == NULL || count == 0) {
        FAIL("no golden frames (*.frame) in %s", dir);
        harness_report("golden frames exist");
    }
    for (size_t i = 0; i < count; i++) {
        char test_name[512];
        snprintf(test_name, sizeof test_name, "golden frame %s decodes and re-encodes identically",
                 names[i]);
        check_golden_frame(dir, names[i]);
        harness_report(test_name);
        free(names[i]);
    }
    free(names);
}

/* ---- round trips ---- */

static void test_request_round_trip(void)
{
    Fma__V1__CallRequest__MetadataEntry entry = FMA__V1__CALL_REQUEST__METADATA_ENTRY__INIT;
    entry.key = "authorization";
    entry.value = "Bearer t0k3n";
    Fma__V1__CallRequest__MetadataEntry *entries[] = {&entry};
    Fma__V1__CallRequest request = FMA__V1__CALL_REQUEST__INIT;
    request.method = "fma.v1.Health/Check";
    request.metadata = entries;
    request.n_metadata = 1;
    request.timeout_ms = 1500;
    request.payload.data = (uint8_t *)"\x0a\x02hi";
    request.payload.len = 4;
    request.initial_credit = 8;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = 7;
    frame.body_case = FMA__V1__FRAME__BODY_REQUEST;
    frame.request = &request;

    size_t len = 0;
    uint8_t *bytes = encode(&frame, &len);
    if (bytes == NULL) {
        return;
    }
    EXPECT_INT(fma_frame_length(bytes), len - FMA_FRAME_HEADER_BYTES);
    Fma__V1__Frame *decoded = NULL;
    size_t consumed = 0;
    if (EXPECT_INT(fma_frame_decode(bytes, len, 0, &decoded, &consumed, NULL), FMA_OK)) {
        EXPECT_INT(consumed, len);
        EXPECT_INT(decoded->call_id, 7);
        EXPECT_INT(decoded->body_case, FMA__V1__FRAME__BODY_REQUEST);
        EXPECT_STR(decoded->request->method, "fma.v1.Health/Check");
        EXPECT_INT(decoded->request->n_metadata, 1);
        EXPECT_STR(decoded->request->metadata[0]->key, "authorization");
        EXPECT_STR(decoded->request->metadata[0]->value, "Bearer t0k3n");
        EXPECT_INT(decoded->request->timeout_ms, 1500);
        EXPECT_INT(decoded->request->payload.len, 4);
        EXPECT_INT(decoded->request->initial_credit, 8);
    }
    fma_frame_free(decoded);
    free(bytes);
}

static void test_length_prefix_is_big_endian(void)
{
    Fma__V1__CallCancel cancel = FMA__V1__CALL_CANCEL__INIT;
    char reason[300];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    cancel.reason = reason;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = 1;
    frame.body_case = FMA__V1__FRAME__BODY_CANCEL;
    frame.cancel = &cancel;
    size_t len = 0;
    uint8_t *bytes = encode(&frame, &len);
    if (bytes == NULL) {
        return;
    }
    /* call_id (2 bytes) + tag, 2-byte length, then the cancel: tag, 2-byte length, 299 bytes */
    size_t body = len - 4;
    EXPECT_INT(body, 2 + 1 + 2 + 1 + 2 + 299);
    EXPECT_INT(bytes[0], 0);
    EXPECT_INT(bytes[1], 0);
    EXPECT_INT(bytes[2], body >> 8);
    EXPECT_INT(bytes[3], body & 0xff);
    free(bytes);
}

static void test_empty_frame_decodes(void)
{
    const uint8_t bytes[] = {0, 0, 0, 0};
    Fma__V1__Frame *frame = NULL;
    size_t consumed = 0;
    if (EXPECT_INT(fma_frame_decode(bytes, sizeof bytes, 0, &frame, &consumed, NULL), FMA_OK)) {
        EXPECT_INT(consumed, 4);
        EXPECT_INT(frame->call_id, 0);
        EXPECT_INT(frame->body_case, FMA__V1__FRAME__BODY__NOT_SET);
    }
    fma_frame_free(frame);
}

static void test_unknown_fields_survive(void)
{
    /* call_id 3, then field 15 (a later version's body): length-delimited "new" */
    const uint8_t bytes[] = {0, 0, 0, 7, 0x08, 0x03, 0x7a, 0x03, 'n', 'e', 'w'};
    Fma__V1__Frame *frame = NULL;
    if (!EXPECT_INT(fma_frame_decode(bytes, sizeof bytes, 0, &frame, NULL, NULL), FMA_OK)) {
        return;
    }
    EXPECT_INT(frame->call_id, 3);
    EXPECT_INT(frame->body_case, FMA__V1__FRAME__BODY__NOT_SET);
    size_t len = 0;
    uint8_t *again = encode(frame, &len);
    if (EXPECT_INT(len, sizeof bytes) && again != NULL) {
        EXPECT(memcmp(again, bytes, len) == 0);
    }
    free(again);
    fma_frame_free(frame);
}

static void test_decode_takes_only_the_first_frame(void)
{
    const uint8_t bytes[] = {0, 0, 0, 2, 0x08, 0x01, 0, 0, 0, 2, 0x08, 0x02};
    Fma__V1__Frame *frame = NULL;
    size_t consumed = 0;
    if (EXPECT_INT(fma_frame_decode(bytes, sizeof bytes, 0, &frame, &consumed, NULL), FMA_OK)) {
        EXPECT_INT(consumed, 6);
        EXPECT_INT(frame->call_id, 1);
    }
    fma_frame_free(frame);
    if (EXPECT_INT(fma_frame_decode(bytes + 6, sizeof bytes - 6, 0, &frame, &consumed, NULL),
                   FMA_OK)) {
        EXPECT_INT(frame->call_id, 2);
    }
    fma_frame_free(frame);
}

/* ---- rejections ---- */

static void test_oversized_length_rejected_before_reading(void)
{
    /* Only the prefix is present: a decoder that allocated or read first would report a
     * truncated frame (or crash), not the size. */
    const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
    Fma__V1__Frame placeholder;
    Fma__V1__Frame *frame = &placeholder; /* must be reset to NULL */
    fma_status status;
    EXPECT_INT(fma_frame_decode(huge, sizeof huge, 0, &frame, NULL, &status),
               FMA_RESOURCE_EXHAUSTED);
    EXPECT(frame == NULL);
    EXPECT_STR(status.message, "frame of 4294967295 bytes exceeds the limit of 4194304 bytes");

    const uint8_t just_over[] = {0x00, 0x40, 0x00, 0x01}; /* 4 MiB + 1 */
    EXPECT_INT(fma_frame_decode(just_over, sizeof just_over, 0, &frame, NULL, &status),
               FMA_RESOURCE_EXHAUSTED);

    const uint8_t small_limit[] = {0, 0, 0, 3, 0x08, 0x01, 0x00};
    EXPECT_INT(fma_frame_decode(small_limit, sizeof small_limit, 2, &frame, NULL, &status),
               FMA_RESOURCE_EXHAUSTED);
    EXPECT_STR(status.message, "frame of 3 bytes exceeds the limit of 2 bytes");
}

static void test_oversized_frame_not_encoded(void)
{
    Fma__V1__CallResponse response = FMA__V1__CALL_RESPONSE__INIT;
    uint8_t payload[64] = {0};
    response.payload.data = payload;
    response.payload.len = sizeof payload;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = 1;
    frame.body_case = FMA__V1__FRAME__BODY_RESPONSE;
    frame.response = &response;
    uint8_t *bytes = (uint8_t *)payload;
    size_t len = 1;
    fma_status status;
    EXPECT_INT(fma_frame_encode(&frame, 32, &bytes, &len, &status), FMA_RESOURCE_EXHAUSTED);
    EXPECT(bytes == NULL);
    EXPECT_INT(len, 0);
    EXPECT_CONTAINS(status.message, "exceeds the limit of 32 bytes");
}

static void test_truncated_frame_is_an_error(void)
{
    const uint8_t bytes[] = {0, 0, 0, 6, 0x08, 0x01, 0x22, 0x02, 0x08};
    Fma__V1__Frame *frame = NULL;
    fma_status status;
    for (size_t len = 0; len < sizeof bytes; len++) {
        if (!EXPECT_INT(fma_frame_decode(bytes, len, 0, &frame, NULL, &status),
                        FMA_OUT_OF_RANGE)) {
            FAIL("with %zu bytes", len);
        }
        EXPECT(frame == NULL);
    }
    EXPECT_CONTAINS(status.message, "truncated frame");
}

static void test_garbage_is_an_error(void)
{
    const uint8_t wire_type_7[] = {0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t cut_varint[] = {0, 0, 0, 2, 0x08, 0x80};
    const uint8_t long_field[] = {0, 0, 0, 3, 0x12, 0x7f, 0x00}; /* request of 127 bytes */
    const uint8_t *cases[] = {wire_type_7, cut_varint, long_field};
    const size_t lens[] = {sizeof wire_type_7, sizeof cut_varint, sizeof long_field};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Fma__V1__Frame *frame = NULL;
        fma_status status;
        if (!EXPECT_INT(fma_frame_decode(cases[i], lens[i], 0, &frame, NULL, &status),
                        FMA_INVALID_ARGUMENT)) {
            FAIL("case %zu", i);
        }
        EXPECT(frame == NULL);
        EXPECT_CONTAINS(status.message, "malformed frame");
    }
}

static void test_code_names(void)
{
    EXPECT_STR(fma_code_name(FMA_OK), "OK");
    EXPECT_STR(fma_code_name(FMA_CANCELLED), "CANCELLED");
    EXPECT_STR(fma_code_name(FMA_NOT_FOUND), "NOT_FOUND");
    EXPECT_STR(fma_code_name(FMA_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
    EXPECT_STR(fma_code_name(FMA_UNAVAILABLE), "UNAVAILABLE");
    EXPECT_STR(fma_code_name(FMA_UNAUTHENTICATED), "UNAUTHENTICATED");
    EXPECT_STR(fma_code_name(17), "UNKNOWN");
    EXPECT_STR(fma_code_name(-1), "UNKNOWN");
    /* The names match the generated enum. */
    for (int code = 0; code <= 16; code++) {
        const ProtobufCEnumValue *value =
            protobuf_c_enum_descriptor_get_value(&fma__v1__status_code__descriptor, code);
        if (EXPECT(value != NULL)) {
            EXPECT_STR(fma_code_name(code), value->name);
        }
    }
}

int main(void)
{
    run_golden_frames();
    RUN(test_request_round_trip);
    RUN(test_length_prefix_is_big_endian);
    RUN(test_empty_frame_decodes);
    RUN(test_unknown_fields_survive);
    RUN(test_decode_takes_only_the_first_frame);
    RUN(test_oversized_length_rejected_before_reading);
    RUN(test_oversized_frame_not_encoded);
    RUN(test_truncated_frame_is_an_error);
    RUN(test_garbage_is_an_error);
    RUN(test_code_names);
    return harness_finish("test_frame");
}
