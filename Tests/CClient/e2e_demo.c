/*
 * e2e_demo.c — the client library against a running fma-demo server. scripts/test-c.sh starts
 * the server and passes its addresses in FMA_E2E_UNIX and FMA_E2E_TCP and its token in
 * FMA_E2E_TOKEN; without them the program runs nothing.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fma/v1/demo.pb-c.h"
#include "fma_client.h"
#include "harness.h"

#define CALL_TIMEOUT_MS 5000

static const char *unix_address;
static const char *tcp_address;
static const char *token;

static int64_t now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static fma_client *connect_to(const char *address)
{
    fma_client *client = NULL;
    fma_status status;
    if (fma_client_connect(address, 2000, &client, &status) != FMA_OK) {
        FAIL("connect %s: %s", address, status.message);
    }
    return client;
}

/* ---- fma.v1.Demo ---- */

/* Calls Echo; on OK the response is returned (free it with free_echo). */
static int echo(fma_client *client, const char *text, const uint8_t *data, size_t data_len,
                uint32_t delay_ms, uint32_t timeout_ms, Fma__V1__EchoResponse **response,
                fma_status *status)
{
    Fma__V1__EchoRequest request = FMA__V1__ECHO_REQUEST__INIT;
    request.text = (char *)text;
    request.data.data = (uint8_t *)data;
    request.data.len = data_len;
    request.delay_ms = delay_ms;
    size_t len = fma__v1__echo_request__get_packed_size(&request);
    uint8_t *bytes = malloc(len > 0 ? len : 1);
    if (bytes == NULL) {
        return FMA_RESOURCE_EXHAUSTED;
    }
    fma__v1__echo_request__pack(&request, bytes);
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    int code = fma_call_unary(client, "fma.v1.Demo/Echo", bytes, len, timeout_ms, &answer,
                              &answer_len, status);
    free(bytes);
    *response = NULL;
    if (code == FMA_OK) {
        *response = fma__v1__echo_response__unpack(NULL, answer_len, answer);
        EXPECT(*response != NULL);
    }
    free(answer);
    return code;
}

static void free_echo(Fma__V1__EchoResponse *response)
{
    fma__v1__echo_response__free_unpacked(response, NULL);
}

/* Echoes `text` and checks it comes back. */
static void expect_echo(fma_client *client, const char *text)
{
    Fma__V1__EchoResponse *response = NULL;
    fma_status status;
    if (!EXPECT_INT(echo(client, text, NULL, 0, 0, CALL_TIMEOUT_MS, &response, &status),
                    FMA_OK)) {
        FAIL("echo: %s", status.message);
        return;
    }
    if (response != NULL) {
        EXPECT_STR(response->text, text);
    }
    free_echo(response);
}

static fma_stream *start_count(fma_client *client, uint32_t count, uint32_t interval_ms,
                               uint32_t payload_bytes)
{
    Fma__V1__CountRequest request = FMA__V1__COUNT_REQUEST__INIT;
    request.count = count;
    request.interval_ms = interval_ms;
    request.payload_bytes = payload_bytes;
    uint8_t bytes[32];
    size_t len = fma__v1__count_request__pack(&request, bytes);
    fma_stream *stream = NULL;
    fma_status status;
    if (fma_stream_start(client, "fma.v1.Demo/Count", bytes, len, CALL_TIMEOUT_MS, &stream,
                         &status) != FMA_OK) {
        FAIL("start Count: %s", status.message);
    }
    return stream;
}

/* Takes the next CountResponse and checks its index (and payload size); returns
 * fma_stream_next's result. */
static int expect_count(fma_stream *stream, uint32_t index, uint32_t payload_bytes)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int next = fma_stream_next(stream, &bytes, &len);
    if (!EXPECT_INT(next, 1)) {
        FAIL("stream ended: %s: %s", fma_code_name(fma_stream_status(stream)->code),
             fma_stream_status(stream)->message);
        return next;
    }
    Fma__V1__CountResponse *response = fma__v1__count_response__unpack(NULL, len, bytes);
    free(bytes);
    if (EXPECT(response != NULL)) {
        EXPECT_INT(response->index, index);
        EXPECT_INT(response->payload.len, payload_bytes);
    }
    fma__v1__count_response__free_unpacked(response, NULL);
    return next;
}

static void expect_end(fma_stream *stream)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!EXPECT_INT(fma_stream_next(stream, &bytes, &len), 0)) {
        FAIL("%s: %s", fma_code_name(fma_stream_status(stream)->code),
             fma_stream_status(stream)->message);
    }
    free(bytes);
}

/* ---- tests ---- */

static void test_echo_of_one_mebibyte(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    size_t len = 1u << 20;
    uint8_t *data = malloc(len);
    if (data == NULL) {
        fma_client_close(client);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        data[i] = (uint8_t)(i * 7);
    }
    Fma__V1__EchoResponse *response = NULL;
    fma_status status;
    if (EXPECT_INT(echo(client, "big", data, len, 0, CALL_TIMEOUT_MS, &response, &status),
                   FMA_OK) &&
        response != NULL && EXPECT_INT(response->data.len, len)) {
        EXPECT(memcmp(response->data.data, data, len) == 0);
    }
    free_echo(response);
    free(data);
    fma_client_close(client);
}

static void test_many_calls_on_one_connection(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    for (int i = 0; i < 200; i++) {
        char text[32];
        snprintf(text, sizeof text, "call %d", i);
        expect_echo(client, text);
    }
    fma_client_close(client);
}

static void test_stream_with_credit(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    fma_client_set_stream_credit(client, 4);
    fma_stream *stream = start_count(client, 50, 0, 1000);
    for (uint32_t i = 0; stream != NULL && i < 50; i++) {
        if (expect_count(stream, i, 1000) != 1) {
            break;
        }
    }
    if (stream != NULL) {
        expect_end(stream);
    }
    fma_stream_free(stream);
    fma_client_close(client);
}

static void test_stream_cancel_keeps_the_connection(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    fma_stream *stream = start_count(client, 100000, 1, 0);
    for (uint32_t i = 0; stream != NULL && i < 3; i++) {
        expect_count(stream, i, 0);
    }
    if (stream != NULL) {
        EXPECT_INT(fma_stream_cancel(stream, "seen enough"), FMA_OK);
        EXPECT_INT(fma_stream_status(stream)->code, FMA_CANCELLED);
    }
    fma_stream_free(stream);
    /* Frames of the cancelled stream still in flight are skipped. */
    expect_echo(client, "still here");
    stream = start_count(client, 2, 0, 0);
    if (stream != NULL) {
        expect_count(stream, 0, 0);
        expect_count(stream, 1, 0);
        expect_end(stream);
    }
    fma_stream_free(stream);
    fma_client_close(client);
}

static void test_stream_and_unary_interleaved(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    fma_stream *stream = start_count(client, 5, 20, 0);
    expect_echo(client, "meanwhile");
    for (uint32_t i = 0; stream != NULL && i < 5; i++) {
        expect_count(stream, i, 0);
    }
    if (stream != NULL) {
        expect_end(stream);
    }
    fma_stream_free(stream);
    fma_client_close(client);
}

static void test_deadline(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    Fma__V1__EchoResponse *response = NULL;
    fma_status status;
    int64_t start = now_ms();
    EXPECT_INT(echo(client, "slow", NULL, 0, 3000, 200, &response, &status),
               FMA_DEADLINE_EXCEEDED);
    int64_t took = now_ms() - start;
    EXPECT(took >= 150 && took < 1500);
    free_echo(response);
    expect_echo(client, "after the deadline");
    fma_client_close(client);
}

static void test_unknown_method_and_bad_payload(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    uint8_t *answer = NULL;
    size_t len = 0;
    fma_status status;
    EXPECT_INT(fma_call_unary(client, "fma.v1.Nope/Call", NULL, 0, CALL_TIMEOUT_MS, &answer,
                              &len, &status),
               FMA_UNIMPLEMENTED);
    EXPECT_CONTAINS(status.message, "fma.v1.Demo");
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    EXPECT_INT(fma_call_unary(client, "fma.v1.Demo/Echo", garbage, sizeof garbage,
                              CALL_TIMEOUT_MS, &answer, &len, &status),
               FMA_INVALID_ARGUMENT);
    expect_echo(client, "the connection survives");
    fma_client_close(client);
}

static void test_tcp_needs_the_token(void)
{
    fma_client *client = connect_to(tcp_address);
    if (client == NULL) {
        return;
    }
    Fma__V1__HealthCheckResponse *health = NULL;
    fma_status status;
    EXPECT_INT(fma_health_check(client, NULL, CALL_TIMEOUT_MS, &health, &status),
               FMA_UNAUTHENTICATED);
    EXPECT_STR(status.message, "missing bearer token");
    EXPECT_INT(fma_client_set_token(client, "not-the-token", NULL), FMA_OK);
    EXPECT_INT(fma_health_check(client, NULL, CALL_TIMEOUT_MS, &health, &status),
               FMA_UNAUTHENTICATED);
    EXPECT_STR(status.message, "invalid bearer token");
    EXPECT_INT(fma_client_set_token(client, token, NULL), FMA_OK);
    if (EXPECT_INT(fma_health_check(client, NULL, CALL_TIMEOUT_MS, &health, &status),
                   FMA_OK)) {
        EXPECT_INT(health->status, FMA__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    }
    fma_health_response_free(health);
    fma_client_close(client);
}

static void test_frame_over_the_server_limit(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    fma_client_set_max_frame_bytes(client, 16u << 20); /* let it leave this side */
    size_t len = 5u << 20;
    uint8_t *data = calloc(len, 1);
    Fma__V1__EchoResponse *response = NULL;
    fma_status status;
    if (data != NULL) {
        EXPECT_INT(echo(client, "", data, len, 0, CALL_TIMEOUT_MS, &response, &status),
                   FMA_RESOURCE_EXHAUSTED);
        EXPECT_CONTAINS(status.message, "exceeds the limit of 4194304 bytes");
    }
    free_echo(response);
    free(data);
    fma_client_close(client);
}

/* A frame far over the limit: the server answers on call id 0 as soon as it reads the length,
 * while the client is still writing. The server must keep reading (and dropping) until the
 * client is done, or the client's write fails with EPIPE/ECONNRESET and a reset can discard the
 * status before the client reads it (wire-protocol §8). Several rounds, as it is a race. */
static void test_status_survives_a_frame_much_larger_than_the_limit(void)
{
    size_t len = 32u << 20;
    uint8_t *data = calloc(len, 1);
    if (data == NULL) {
        return;
    }
    for (int round = 0; round < 3; round++) {
        /* TCP: closing a TCP socket with unread bytes sends a reset, which can make the
         * client's kernel discard the status it had received (a Unix socket keeps it). */
        fma_client *client = connect_to(tcp_address);
        if (client == NULL) {
            break;
        }
        EXPECT_INT(fma_client_set_token(client, token, NULL), FMA_OK);
        fma_client_set_max_frame_bytes(client, 64u << 20);
        Fma__V1__EchoResponse *response = NULL;
        fma_status status;
        EXPECT_INT(echo(client, "", data, len, 0, CALL_TIMEOUT_MS, &response, &status),
                   FMA_RESOURCE_EXHAUSTED);
        EXPECT_CONTAINS(status.message, "exceeds the limit of 4194304 bytes");
        free_echo(response);
        fma_client_close(client);
    }
    free(data);
}

static void test_health_reports_the_frame_limit(void)
{
    fma_client *client = connect_to(unix_address);
    if (client == NULL) {
        return;
    }
    Fma__V1__HealthCheckResponse *health = NULL;
    fma_status status;
    if (EXPECT_INT(fma_health_check(client, NULL, CALL_TIMEOUT_MS, &health, &status), FMA_OK)) {
        EXPECT_INT(health->max_frame_bytes, 4194304);
    }
    fma_health_response_free(health);
    fma_client_close(client);
}

int main(void)
{
    unix_address = getenv("FMA_E2E_UNIX");
    tcp_address = getenv("FMA_E2E_TCP");
    token = getenv("FMA_E2E_TOKEN");
    if (unix_address == NULL || tcp_address == NULL || token == NULL) {
        printf("# FMA_E2E_UNIX, FMA_E2E_TCP and FMA_E2E_TOKEN not set: nothing run\n");
        return 0;
    }
    RUN(test_echo_of_one_mebibyte);
    RUN(test_many_calls_on_one_connection);
    RUN(test_stream_with_credit);
    RUN(test_stream_cancel_keeps_the_connection);
    RUN(test_stream_and_unary_interleaved);
    RUN(test_deadline);
    RUN(test_unknown_method_and_bad_payload);
    RUN(test_tcp_needs_the_token);
    RUN(test_frame_over_the_server_limit);
    RUN(test_status_survives_a_frame_much_larger_than_the_limit);
    RUN(test_health_reports_the_frame_limit);
    return harness_finish("e2e_demo");
}
