/*
 * test_client.c — the client against a scripted server: the test plays the server on the
 * other end of a socketpair (or of a real Unix / TCP listener), writing the frames a server
 * would send — usually before the client asks, the socket buffer holds them — and reading back
 * what the client sent.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fma_client.h"
#include "harness.h"

/* How long the scripted server waits for a frame from the client before it gives up. */
#define SERVER_READ_TIMEOUT_MS 2000

/* ---- the scripted server ---- */

static int64_t now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void server_write(int fd, const void *data, size_t len)
{
    const uint8_t *bytes = data;
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            FAIL("server write: %s", strerror(errno));
            return;
        }
        bytes += n;
        len -= (size_t)n;
    }
}

static uint8_t *encode_frame(const Fma__V1__Frame *frame, size_t *len)
{
    uint8_t *bytes = NULL;
    fma_status status;
    if (fma_frame_encode(frame, 0, &bytes, len, &status) != FMA_OK) {
        FAIL("encode: %s", status.message);
    }
    return bytes;
}

static void server_send(int fd, const Fma__V1__Frame *frame)
{
    size_t len = 0;
    uint8_t *bytes = encode_frame(frame, &len);
    if (bytes != NULL) {
        server_write(fd, bytes, len);
    }
    free(bytes);
}

static void send_response_bytes(int fd, uint64_t call_id, const uint8_t *payload, size_t len)
{
    Fma__V1__CallResponse response = FMA__V1__CALL_RESPONSE__INIT;
    response.payload.data = (uint8_t *)payload;
    response.payload.len = len;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = call_id;
    frame.body_case = FMA__V1__FRAME__BODY_RESPONSE;
    frame.response = &response;
    server_send(fd, &frame);
}

static void send_response(int fd, uint64_t call_id, const char *text)
{
    send_response_bytes(fd, call_id, (const uint8_t *)text, strlen(text));
}

static void send_status_with_details(int fd, uint64_t call_id, int code, const char *message,
                                     size_t n_details, Fma__V1__CallStatus__DetailsEntry **details)
{
    Fma__V1__CallStatus status = FMA__V1__CALL_STATUS__INIT;
    status.code = (Fma__V1__StatusCode)code;
    status.message = (char *)message;
    status.n_details = n_details;
    status.details = details;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = call_id;
    frame.body_case = FMA__V1__FRAME__BODY_STATUS;
    frame.status = &status;
    server_send(fd, &frame);
}

static void send_status(int fd, uint64_t call_id, int code, const char *message)
{
    send_status_with_details(fd, call_id, code, message, 0, NULL);
}

static int read_exactly(int fd, uint8_t *into, size_t len)
{
    while (len > 0) {
        struct pollfd entry = {.fd = fd, .events = POLLIN, .revents = 0};
        if (poll(&entry, 1, SERVER_READ_TIMEOUT_MS) <= 0) {
            FAIL("the server got no (more) bytes from the client");
            return 0;
        }
        ssize_t n = read(fd, into, len);
        if (n <= 0) {
            FAIL("server read: %s", n == 0 ? "end of stream" : strerror(errno));
            return 0;
        }
        into += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Reads the next frame the client sent; NULL (with a failed check) when there is none. */
static Fma__V1__Frame *server_read(int fd)
{
    uint8_t header[FMA_FRAME_HEADER_BYTES];
    if (!read_exactly(fd, header, sizeof header)) {
        return NULL;
    }
    uint32_t len = fma_frame_length(header);
    uint8_t *bytes = malloc(sizeof header + len);
    Fma__V1__Frame *frame = NULL;
    if (bytes != NULL) {
        memcpy(bytes, header, sizeof header);
        fma_status status;
        if (read_exactly(fd, bytes + sizeof header, len) &&
            fma_frame_decode(bytes, sizeof header + len, 0, &frame, NULL, &status) != FMA_OK) {
            FAIL("the client sent a frame that does not decode: %s", status.message);
        }
    }
    free(bytes);
    return frame;
}

/* Reads the next frame and checks it is a request on `call_id`; returns it, or NULL. */
static Fma__V1__Frame *expect_request(int fd, uint64_t call_id)
{
    Fma__V1__Frame *frame = server_read(fd);
    if (frame == NULL) {
        return NULL;
    }
    if (!EXPECT_INT(frame->call_id, call_id) ||
        !EXPECT_INT(frame->body_case, FMA__V1__FRAME__BODY_REQUEST)) {
        fma_frame_free(frame);
        return NULL;
    }
    return frame;
}

static void expect_cancel(int fd, uint64_t call_id, const char *reason)
{
    Fma__V1__Frame *frame = server_read(fd);
    if (frame != NULL && EXPECT_INT(frame->call_id, call_id) &&
        EXPECT_INT(frame->body_case, FMA__V1__FRAME__BODY_CANCEL)) {
        EXPECT_STR(frame->cancel->reason, reason);
    }
    fma_frame_free(frame);
}

static int server_has_nothing(int fd)
{
    struct pollfd entry = {.fd = fd, .events = POLLIN, .revents = 0};
    return poll(&entry, 1, 50) == 0;
}

/* A client whose server is the test, through a socketpair. */
struct fixture {
    fma_client *client;
    int server;
};

static int open_fixture(struct fixture *fixture)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        FAIL("socketpair: %s", strerror(errno));
        return 0;
    }
    fma_status status;
    if (fma_client_adopt_fd(fds[0], "test-server", &fixture->client, &status) != FMA_OK) {
        FAIL("adopt: %s", status.message);
        close(fds[1]);
        return 0;
    }
    fixture->server = fds[1];
    return 1;
}

static void close_fixture(struct fixture *fixture)
{
    fma_client_close(fixture->client);
    if (fixture->server >= 0) {
        close(fixture->server);
    }
}

/* A unary call of `method` with a text request; the response (NUL-terminated) goes to
 * `response`, which the caller frees. */
static int call_text(fma_client *client, const char *method, const char *request,
                     uint32_t timeout_ms, char **response, fma_status *status)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int code = fma_call_unary(client, method, (const uint8_t *)request, strlen(request),
                              timeout_ms, &bytes, &len, status);
    *response = NULL;
    if (code == FMA_OK) {
        *response = malloc(len + 1);
        if (*response != NULL) {
            memcpy(*response, bytes, len);
            (*response)[len] = '\0';
        }
    } else if (bytes != NULL || len != 0) {
        FAIL("a failed call returned a response");
    }
    free(bytes);
    return code;
}

/* Takes the stream's next message as text; returns fma_stream_next's result. */
static int next_text(fma_stream *stream, char *text, size_t size)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int next = fma_stream_next(stream, &bytes, &len);
    text[0] = '\0';
    if (next == 1) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(text, bytes, n);
        text[n] = '\0';
    } else if (bytes != NULL || len != 0) {
        FAIL("fma_stream_next returned a message with %d", next);
    }
    free(bytes);
    return next;
}

/* ---- unary calls ---- */

static void test_unary_call(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    EXPECT_INT(fma_client_set_token(fixture.client, "s3cret", NULL), FMA_OK);
    send_response(fixture.server, 1, "pong");
    send_status(fixture.server, 1, FMA_OK, "");
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "ping", 1500, &response, &status),
               FMA_OK);
    EXPECT_STR(response, "pong");
    EXPECT_INT(status.code, FMA_OK);
    EXPECT_STR(status.message, "");
    free(response);

    Fma__V1__Frame *frame = expect_request(fixture.server, 1);
    if (frame != NULL) {
        const Fma__V1__CallRequest *request = frame->request;
        EXPECT_STR(request->method, "fma.v1.Demo/Echo");
        EXPECT_INT(request->timeout_ms, 1500);
        EXPECT_INT(request->initial_credit, 0);
        EXPECT_INT(request->payload.len, 4);
        EXPECT(memcmp(request->payload.data, "ping", 4) == 0);
        if (EXPECT_INT(request->n_metadata, 1)) {
            EXPECT_STR(request->metadata[0]->key, "authorization");
            EXPECT_STR(request->metadata[0]->value, "Bearer s3cret");
        }
    }
    fma_frame_free(frame);
    close_fixture(&fixture);
}

static void test_call_ids_count_up_and_token_is_optional(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    for (uint64_t id = 1; id <= 3; id++) {
        send_response(fixture.server, id, "");
        send_status(fixture.server, id, FMA_OK, "");
        char *response = NULL;
        EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 0, &response, NULL),
                   FMA_OK);
        EXPECT_STR(response, "");
        free(response);
        Fma__V1__Frame *frame = expect_request(fixture.server, id);
        if (frame != NULL) {
            EXPECT_INT(frame->request->n_metadata, 0);
            EXPECT_INT(frame->request->timeout_ms, 0);
            EXPECT_INT(frame->request->payload.len, 0);
        }
        fma_frame_free(frame);
    }
    close_fixture(&fixture);
}

static void test_server_status_is_returned(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    send_status(fixture.server, 1, FMA_NOT_FOUND, "no service \"fma.v1.Nope\"");
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Nope/Call", "", 1000, &response, &status),
               FMA_NOT_FOUND);
    EXPECT(response == NULL);
    EXPECT_INT(status.code, FMA_NOT_FOUND);
    EXPECT_STR(status.message, "no service \"fma.v1.Nope\"");
    close_fixture(&fixture);
}

static void test_long_message_and_details_are_returned_whole(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    char long_message[3001];
    for (size_t index = 0; index < sizeof long_message - 1; index++) {
        long_message[index] = (char)('a' + index % 26);
    }
    long_message[sizeof long_message - 1] = '\0';
    Fma__V1__CallStatus__DetailsEntry field = FMA__V1__CALL_STATUS__DETAILS_ENTRY__INIT;
    field.key = "field";
    field.value = "id";
    Fma__V1__CallStatus__DetailsEntry oldest = FMA__V1__CALL_STATUS__DETAILS_ENTRY__INIT;
    oldest.key = "oldest";
    oldest.value = "17";
    Fma__V1__CallStatus__DetailsEntry *entries[] = {&field, &oldest};
    send_status_with_details(fixture.server, 1, FMA_INVALID_ARGUMENT, long_message, 2, entries);

    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_INVALID_ARGUMENT);
    EXPECT_INT(strlen(status.message), FMA_STATUS_MESSAGE_MAX - 1);
    EXPECT(strncmp(status.message, long_message, FMA_STATUS_MESSAGE_MAX - 1) == 0);
    EXPECT_STR(fma_status_message(&status), long_message);
    EXPECT_INT(status.detail_count, 2);
    EXPECT_STR(fma_status_detail(&status, "field"), "id");
    EXPECT_STR(fma_status_detail(&status, "oldest"), "17");
    EXPECT(fma_status_detail(&status, "nope") == NULL);
    fma_status_free(&status);
    EXPECT(status.long_message == NULL && status.details == NULL && status.detail_count == 0);
    EXPECT_INT(status.code, FMA_INVALID_ARGUMENT);

    /* A short message owns nothing: fma_status_message is `message`. */
    send_status(fixture.server, 2, FMA_NOT_FOUND, "short");
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_NOT_FOUND);
    EXPECT(status.long_message == NULL && status.details == NULL);
    EXPECT(fma_status_message(&status) == status.message);
    fma_status_free(&status);
    close_fixture(&fixture);
}

static void test_unary_needs_exactly_one_response(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    send_status(fixture.server, 1, FMA_OK, "");
    send_response(fixture.server, 2, "a");
    send_response(fixture.server, 2, "b");
    send_status(fixture.server, 2, FMA_OK, "");
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_INTERNAL);
    EXPECT_CONTAINS(status.message, "after 0 responses instead of one");
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_INTERNAL);
    EXPECT_CONTAINS(status.message, "after 2 responses instead of one");
    EXPECT(response == NULL);
    close_fixture(&fixture);
}

static void test_frames_of_other_calls_and_unknown_bodies_are_skipped(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    send_response(fixture.server, 99, "not mine");
    send_status(fixture.server, 99, FMA_OK, "");
    /* Frame{call_id: 1, field 15: "new"}: a body from a later protocol version. */
    const uint8_t later_body[] = {0, 0, 0, 7, 0x08, 0x01, 0x7a, 0x03, 'n', 'e', 'w'};
    server_write(fixture.server, later_body, sizeof later_body);
    const uint8_t empty_frame[] = {0, 0, 0, 0};
    server_write(fixture.server, empty_frame, sizeof empty_frame);
    send_response(fixture.server, 1, "mine");
    send_status(fixture.server, 1, FMA_OK, "");
    char *response = NULL;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, NULL),
               FMA_OK);
    EXPECT_STR(response, "mine");
    free(response);
    close_fixture(&fixture);
}

struct dribble {
    int fd;
    uint8_t *bytes;
    size_t len;
};

static void *dribble_bytes(void *argument)
{
    const struct dribble *dribble = argument;
    const struct timespec pause = {.tv_sec = 0, .tv_nsec = 200000};
    for (size_t i = 0; i < dribble->len; i++) {
        if (write(dribble->fd, dribble->bytes + i, 1) != 1) {
            break;
        }
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static void test_frames_arriving_one_byte_at_a_time(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    Fma__V1__CallResponse response_body = FMA__V1__CALL_RESPONSE__INIT;
    response_body.payload.data = (uint8_t *)"slowly";
    response_body.payload.len = 6;
    Fma__V1__Frame response = FMA__V1__FRAME__INIT;
    response.call_id = 1;
    response.body_case = FMA__V1__FRAME__BODY_RESPONSE;
    response.response = &response_body;
    Fma__V1__CallStatus status_body = FMA__V1__CALL_STATUS__INIT;
    Fma__V1__Frame status_frame = FMA__V1__FRAME__INIT;
    status_frame.call_id = 1;
    status_frame.body_case = FMA__V1__FRAME__BODY_STATUS;
    status_frame.status = &status_body;
    size_t first_len = 0;
    size_t second_len = 0;
    uint8_t *first = encode_frame(&response, &first_len);
    uint8_t *second = encode_frame(&status_frame, &second_len);
    struct dribble dribble = {.fd = fixture.server, .bytes = malloc(first_len + second_len)};
    if (first != NULL && second != NULL && dribble.bytes != NULL) {
        memcpy(dribble.bytes, first, first_len);
        memcpy(dribble.bytes + first_len, second, second_len);
        dribble.len = first_len + second_len;
        pthread_t writer;
        if (EXPECT_INT(pthread_create(&writer, NULL, dribble_bytes, &dribble), 0)) {
            char *text = NULL;
            EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 5000, &text, NULL),
                       FMA_OK);
            EXPECT_STR(text, "slowly");
            free(text);
            pthread_join(writer, NULL);
        }
    }
    free(first);
    free(second);
    free(dribble.bytes);
    close_fixture(&fixture);
}

static void test_unary_timeout_cancels_the_call(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    char *response = NULL;
    fma_status status;
    int64_t start = now_ms();
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 100, &response, &status),
               FMA_DEADLINE_EXCEEDED);
    int64_t took = now_ms() - start;
    EXPECT(took >= 95 && took < 1000);
    EXPECT_STR(status.message, "fma.v1.Demo/Echo: deadline of 100 ms exceeded");
    fma_frame_free(expect_request(fixture.server, 1));
    expect_cancel(fixture.server, 1, "deadline exceeded");
    close_fixture(&fixture);
}

static void test_frame_read_in_part_is_finished_by_the_next_call(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    Fma__V1__CallResponse response_body = FMA__V1__CALL_RESPONSE__INIT;
    response_body.payload.data = (uint8_t *)"late";
    response_body.payload.len = 4;
    Fma__V1__Frame late = FMA__V1__FRAME__INIT;
    late.call_id = 1;
    late.body_case = FMA__V1__FRAME__BODY_RESPONSE;
    late.response = &response_body;
    size_t len = 0;
    uint8_t *bytes = encode_frame(&late, &len);
    if (bytes == NULL) {
        close_fixture(&fixture);
        return;
    }
    server_write(fixture.server, bytes, 5); /* the length and one byte of the body */
    fma_status status;
    char *response = NULL;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 50, &response, &status),
               FMA_DEADLINE_EXCEEDED);
    server_write(fixture.server, bytes + 5, len - 5);
    send_status(fixture.server, 1, FMA_CANCELLED, "cancelled");
    send_response(fixture.server, 2, "on time");
    send_status(fixture.server, 2, FMA_OK, "");
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_OK);
    EXPECT_STR(response, "on time");
    free(response);
    free(bytes);
    close_fixture(&fixture);
}

static void test_request_over_the_frame_limit_fails_locally(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_client_set_max_frame_bytes(fixture.client, 64);
    char big[101];
    memset(big, 'x', 100);
    big[100] = '\0';
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", big, 1000, &response, &status),
               FMA_RESOURCE_EXHAUSTED);
    EXPECT_CONTAINS(status.message, "exceeds the limit of 64 bytes");
    EXPECT(server_has_nothing(fixture.server));
    /* The connection is still good; the next call gets the next id. */
    send_response(fixture.server, 2, "ok");
    send_status(fixture.server, 2, FMA_OK, "");
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_OK);
    free(response);
    close_fixture(&fixture);
}

static void test_invalid_arguments(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    uint8_t *response = NULL;
    size_t len = 0;
    fma_status status;
    EXPECT_INT(fma_call_unary(fixture.client, "", NULL, 0, 0, &response, &len, &status),
               FMA_INVALID_ARGUMENT);
    EXPECT_INT(fma_call_unary(fixture.client, "a/b", NULL, 5, 0, &response, &len, &status),
               FMA_INVALID_ARGUMENT);
    EXPECT_INT(fma_call_unary(NULL, "a/b", NULL, 0, 0, &response, &len, &status),
               FMA_INVALID_ARGUMENT);
    EXPECT_INT(fma_client_set_token(fixture.client, "two words", &status), FMA_INVALID_ARGUMENT);
    EXPECT_STR(status.message,
               "token has a character that is not printable ASCII (byte 0x20 at offset 3)");
    EXPECT(server_has_nothing(fixture.server));
    close_fixture(&fixture);
}

/* ---- a connection that fails ---- */

static void test_connection_error_fails_every_call(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_stream *stream = NULL;
    EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 0, &stream, NULL),
               FMA_OK);
    send_status(fixture.server, 0, FMA_INVALID_ARGUMENT, "malformed frame: truncated varint");
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_INVALID_ARGUMENT);
    EXPECT_STR(status.message, "malformed frame: truncated varint");
    if (stream != NULL) {
        char text[16];
        EXPECT_INT(next_text(stream, text, sizeof text), -1);
        EXPECT_INT(fma_stream_status(stream)->code, FMA_INVALID_ARGUMENT);
        EXPECT_STR(fma_stream_status(stream)->message, "malformed frame: truncated varint");
    }
    /* Later calls fail at once without sending anything. */
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_INVALID_ARGUMENT);
    fma_frame_free(expect_request(fixture.server, 1));
    fma_frame_free(expect_request(fixture.server, 2));
    EXPECT(server_has_nothing(fixture.server));
    fma_stream_free(stream);
    close_fixture(&fixture);
}

static void test_server_closing_the_connection(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    shutdown(fixture.server, SHUT_WR);
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_UNAVAILABLE);
    EXPECT_STR(status.message, "connection to test-server closed by the server");
    close_fixture(&fixture);
}

static void test_server_closing_in_the_middle_of_a_frame(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    const uint8_t partial[] = {0, 0, 0, 10, 0x08, 0x01, 0x1a};
    server_write(fixture.server, partial, sizeof partial);
    shutdown(fixture.server, SHUT_WR);
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_UNAVAILABLE);
    EXPECT_STR(status.message,
               "connection to test-server closed in the middle of a frame (3 of 10 bytes read)");
    close_fixture(&fixture);
}

static void test_server_gone_does_not_raise_sigpipe(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    close(fixture.server);
    fixture.server = -1;
    char *response = NULL;
    fma_status status;
    /* Writing to a socket whose peer is gone raises SIGPIPE unless the library avoids it; the
     * test program would die here. */
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_UNAVAILABLE);
    EXPECT_CONTAINS(status.message, "test-server");
    close_fixture(&fixture);
}

static void test_connection_error_explains_a_failed_write(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    /* The server explains and hangs up before the client writes: the write fails (EPIPE), and
     * the client reports the server's reason rather than the broken pipe. */
    send_status(fixture.server, 0, FMA_RESOURCE_EXHAUSTED, "too many open calls");
    close(fixture.server);
    fixture.server = -1;
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_RESOURCE_EXHAUSTED);
    EXPECT_STR(status.message, "too many open calls");
    close_fixture(&fixture);
}

static void test_oversized_frame_from_the_server(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    /* A 4 GiB length and nothing after it: a client that allocated first would wait for the
     * body and time out instead. */
    const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
    server_write(fixture.server, huge, sizeof huge);
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_RESOURCE_EXHAUSTED);
    EXPECT_STR(status.message,
               "frame of 4294967295 bytes from test-server exceeds the limit of 4194304 bytes");
    close_fixture(&fixture);

    if (!open_fixture(&fixture)) {
        return;
    }
    fma_client_set_max_frame_bytes(fixture.client, 8);
    send_response(fixture.server, 1, "more than eight bytes");
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_RESOURCE_EXHAUSTED);
    EXPECT_CONTAINS(status.message, "exceeds the limit of 8 bytes");
    close_fixture(&fixture);
}

static void test_garbage_from_the_server(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    const uint8_t garbage[] = {0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff};
    server_write(fixture.server, garbage, sizeof garbage);
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_INTERNAL);
    EXPECT_STR(status.message,
               "malformed frame from test-server: 5 bytes do not decode as fma.v1.Frame");
    close_fixture(&fixture);
}

static void test_server_sending_client_frames_is_a_protocol_violation(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    Fma__V1__CallCredit credit = FMA__V1__CALL_CREDIT__INIT;
    credit.messages = 3;
    Fma__V1__Frame frame = FMA__V1__FRAME__INIT;
    frame.call_id = 1;
    frame.body_case = FMA__V1__FRAME__BODY_CREDIT;
    frame.credit = &credit;
    server_send(fixture.server, &frame);
    char *response = NULL;
    fma_status status;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, &status),
               FMA_INTERNAL);
    EXPECT_CONTAINS(status.message, "protocol violation: test-server sent a credit frame");
    close_fixture(&fixture);
}

/* ---- streams ---- */

static void test_stream(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_stream *stream = NULL;
    fma_status status;
    if (!EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count",
                                     (const uint8_t *)"\x08\x03", 2, 2000, &stream, &status),
                    FMA_OK)) {
        close_fixture(&fixture);
        return;
    }
    Fma__V1__Frame *request = expect_request(fixture.server, 1);
    if (request != NULL) {
        EXPECT_STR(request->request->method, "fma.v1.Demo/Count");
        EXPECT_INT(request->request->timeout_ms, 2000);
        EXPECT_INT(request->request->initial_credit, 0);
    }
    fma_frame_free(request);
    send_response(fixture.server, 1, "zero");
    send_response(fixture.server, 1, "");
    send_response(fixture.server, 1, "two");
    send_status(fixture.server, 1, FMA_OK, "");
    char text[32];
    EXPECT_INT(fma_stream_status(stream)->code, FMA_OK);
    EXPECT_INT(next_text(stream, text, sizeof text), 1);
    EXPECT_STR(text, "zero");
    EXPECT_INT(next_text(stream, text, sizeof text), 1);
    EXPECT_STR(text, "");
    EXPECT_INT(next_text(stream, text, sizeof text), 1);
    EXPECT_STR(text, "two");
    EXPECT_INT(next_text(stream, text, sizeof text), 0);
    EXPECT_INT(next_text(stream, text, sizeof text), 0);
    EXPECT_INT(fma_stream_status(stream)->code, FMA_OK);
    EXPECT_INT(fma_stream_cancel(stream, NULL), FMA_OK); /* ended: nothing to do */
    fma_stream_free(stream);
    EXPECT(server_has_nothing(fixture.server));
    close_fixture(&fixture);
}

static void test_stream_failing_midway(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_stream *stream = NULL;
    EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 0, &stream, NULL),
               FMA_OK);
    send_response(fixture.server, 1, "first");
    send_status(fixture.server, 1, FMA_INTERNAL, "the counter broke");
    char text[32];
    if (stream != NULL) {
        EXPECT_INT(next_text(stream, text, sizeof text), 1);
        EXPECT_STR(text, "first");
        EXPECT_INT(next_text(stream, text, sizeof text), -1);
        EXPECT_INT(fma_stream_status(stream)->code, FMA_INTERNAL);
        EXPECT_STR(fma_stream_status(stream)->message, "the counter broke");
        EXPECT_INT(next_text(stream, text, sizeof text), -1);
    }
    fma_stream_free(stream);
    close_fixture(&fixture);
}

static void test_stream_cancel(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_stream *stream = NULL;
    EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 0, &stream, NULL),
               FMA_OK);
    if (stream == NULL) {
        close_fixture(&fixture);
        return;
    }
    send_response(fixture.server, 1, "queued");
    char text[32];
    EXPECT_INT(next_text(stream, text, sizeof text), 1);
    EXPECT_INT(fma_stream_cancel(stream, "enough"), FMA_OK);
    EXPECT_INT(next_text(stream, text, sizeof text), -1);
    EXPECT_INT(fma_stream_status(stream)->code, FMA_CANCELLED);
    EXPECT_STR(fma_stream_status(stream)->message,
               "fma.v1.Demo/Count: cancelled by the client: enough");
    fma_frame_free(expect_request(fixture.server, 1));
    expect_cancel(fixture.server, 1, "enough");
    fma_stream_free(stream);
    EXPECT(server_has_nothing(fixture.server)); /* no second cancel */

    /* Releasing a running stream cancels it too. */
    EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 0, &stream, NULL),
               FMA_OK);
    fma_stream_free(stream);
    fma_frame_free(expect_request(fixture.server, 2));
    expect_cancel(fixture.server, 2, "stream released");
    close_fixture(&fixture);
}

static void test_stream_timeout(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_stream *stream = NULL;
    EXPECT_INT(
        fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 100, &stream, NULL),
        FMA_OK);
    if (stream != NULL) {
        char text[8];
        EXPECT_INT(next_text(stream, text, sizeof text), -1);
        EXPECT_INT(fma_stream_status(stream)->code, FMA_DEADLINE_EXCEEDED);
        EXPECT_STR(fma_stream_status(stream)->message,
                   "fma.v1.Demo/Count: deadline of 100 ms exceeded");
    }
    fma_frame_free(expect_request(fixture.server, 1));
    expect_cancel(fixture.server, 1, "deadline exceeded");
    fma_stream_free(stream);
    close_fixture(&fixture);
}

static void test_stream_credit(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_client_set_stream_credit(fixture.client, 4);
    fma_stream *stream = NULL;
    EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 0, &stream, NULL),
               FMA_OK);
    Fma__V1__Frame *request = expect_request(fixture.server, 1);
    if (request != NULL) {
        EXPECT_INT(request->request->initial_credit, 4);
    }
    fma_frame_free(request);
    for (int i = 0; i < 4; i++) {
        send_response(fixture.server, 1, "m");
    }
    char text[8];
    if (stream != NULL) {
        EXPECT_INT(next_text(stream, text, sizeof text), 1);
        EXPECT(server_has_nothing(fixture.server)); /* half the window not yet taken */
        EXPECT_INT(next_text(stream, text, sizeof text), 1);
        Fma__V1__Frame *credit = server_read(fixture.server);
        if (credit != NULL && EXPECT_INT(credit->body_case, FMA__V1__FRAME__BODY_CREDIT)) {
            EXPECT_INT(credit->call_id, 1);
            EXPECT_INT(credit->credit->messages, 2);
        }
        fma_frame_free(credit);
    }
    /* A unary call reads the stream's last frames, so it has ended with two queued. */
    send_status(fixture.server, 1, FMA_OK, "");
    send_response(fixture.server, 2, "u");
    send_status(fixture.server, 2, FMA_OK, "");
    char *response = NULL;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, NULL),
               FMA_OK);
    free(response);
    fma_frame_free(expect_request(fixture.server, 2));
    if (stream != NULL) {
        EXPECT_INT(next_text(stream, text, sizeof text), 1);
        EXPECT_INT(next_text(stream, text, sizeof text), 1);
        EXPECT_INT(next_text(stream, text, sizeof text), 0);
    }
    EXPECT(server_has_nothing(fixture.server)); /* no credit once the stream has ended */
    fma_stream_free(stream);
    close_fixture(&fixture);
}

static void test_stream_and_unary_call_share_the_connection(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_stream *stream = NULL;
    EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 0, &stream, NULL),
               FMA_OK);
    send_response(fixture.server, 1, "s0");
    send_response(fixture.server, 2, "unary");
    send_status(fixture.server, 2, FMA_OK, "");
    send_response(fixture.server, 1, "s1");
    send_status(fixture.server, 1, FMA_OK, "");
    char *response = NULL;
    EXPECT_INT(call_text(fixture.client, "fma.v1.Demo/Echo", "", 1000, &response, NULL),
               FMA_OK);
    EXPECT_STR(response, "unary");
    free(response);
    char text[8];
    if (stream != NULL) {
        EXPECT_INT(next_text(stream, text, sizeof text), 1);
        EXPECT_STR(text, "s0");
        EXPECT_INT(next_text(stream, text, sizeof text), 1);
        EXPECT_STR(text, "s1");
        EXPECT_INT(next_text(stream, text, sizeof text), 0);
    }
    fma_stream_free(stream);
    close_fixture(&fixture);
}

static void test_closing_the_client_ends_its_streams(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    fma_stream *stream = NULL;
    EXPECT_INT(fma_stream_start(fixture.client, "fma.v1.Demo/Count", NULL, 0, 0, &stream, NULL),
               FMA_OK);
    fma_client_close(fixture.client);
    fixture.client = NULL;
    if (stream != NULL) {
        char text[8];
        EXPECT_INT(next_text(stream, text, sizeof text), -1);
        EXPECT_INT(fma_stream_status(stream)->code, FMA_CANCELLED);
        EXPECT_STR(fma_stream_status(stream)->message, "client closed");
        EXPECT_INT(fma_stream_cancel(stream, NULL), FMA_OK);
    }
    fma_stream_free(stream);
    close_fixture(&fixture);
}

/* ---- health ---- */

static void test_health_check(void)
{
    struct fixture fixture;
    if (!open_fixture(&fixture)) {
        return;
    }
    char *services[] = {"fma.v1.Demo", "fma.v1.Health"};
    Fma__V1__HealthCheckResponse answer = FMA__V1__HEALTH_CHECK_RESPONSE__INIT;
    answer.status = FMA__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    answer.component = "fma-demo";
    answer.version = "0.1.0";
    answer.uptime_ms = 1234;
    answer.services = services;
    answer.n_services = 2;
    uint8_t bytes[128];
    size_t len = fma__v1__health_check_response__pack(&answer, bytes);
    send_response_bytes(fixture.server, 1, bytes, len);
    send_status(fixture.server, 1, FMA_OK, "");

    Fma__V1__HealthCheckResponse *response = NULL;
    fma_status status;
    if (EXPECT_INT(fma_health_check(fixture.client, "fma.v1.Demo", 1000, &response, &status),
                   FMA_OK)) {
        EXPECT_INT(response->status, FMA__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
        EXPECT_STR(response->component, "fma-demo");
        EXPECT_STR(response->version, "0.1.0");
        EXPECT_INT(response->uptime_ms, 1234);
        if (EXPECT_INT(response->n_services, 2)) {
            EXPECT_STR(response->services[1], "fma.v1.Health");
        }
    }
    fma_health_response_free(response);

    Fma__V1__Frame *request = expect_request(fixture.server, 1);
    if (request != NULL) {
        EXPECT_STR(request->request->method, "fma.v1.Health/Check");
        Fma__V1__HealthCheckRequest *check = fma__v1__health_check_request__unpack(
            NULL, request->request->payload.len, request->request->payload.data);
        if (EXPECT(check != NULL)) {
            EXPECT_STR(check->service, "fma.v1.Demo");
        }
        fma__v1__health_check_request__free_unpacked(check, NULL);
    }
    fma_frame_free(request);

    send_status(fixture.server, 2, FMA_NOT_FOUND, "unknown service \"x\"");
    EXPECT_INT(fma_health_check(fixture.client, "x", 1000, &response, &status), FMA_NOT_FOUND);
    EXPECT(response == NULL);
    close_fixture(&fixture);
}

/* ---- connecting ---- */

static void test_connect_to_missing_unix_socket(void)
{
    char address[128];
    snprintf(address, sizeof address, "unix:/tmp/fma-c-test-missing-%ld.sock", (long)getpid());
    fma_client *client = NULL;
    fma_status status;
    EXPECT_INT(fma_client_connect(address, 1000, &client, &status), FMA_UNAVAILABLE);
    EXPECT(client == NULL);
    char expected[256];
    snprintf(expected, sizeof expected, "connect %s: No such file or directory", address);
    EXPECT_STR(status.message, expected);

    snprintf(address, sizeof address, "unix:///tmp/fma-c-test-missing-%ld.sock",
             (long)getpid());
    EXPECT_INT(fma_client_connect(address, 1000, &client, &status), FMA_UNAVAILABLE);
    snprintf(expected, sizeof expected, "connect %s: No such file or directory", address);
    EXPECT_STR(status.message, expected);
}

static void test_invalid_addresses(void)
{
    static const char *const addresses[] = {
        "",           "localhost:80",     "http://x:80",   "unix:",       "unix://",
        "tcp://",     "tcp://host",       "tcp://:80",     "tcp://h:0",   "tcp://h:65536",
        "tcp://h:8x", "tcp://h:",         "tcp://[::1",    "tcp://[::1]", "tcp://::1:80",
        "tcp://[]:1", "unix:/tmp/" "0123456789012345678901234567890123456789012345678901234567890"
                      "1234567890123456789012345678901234567890123456789.sock",
    };
    for (size_t i = 0; i < sizeof addresses / sizeof addresses[0]; i++) {
        fma_client *client = NULL;
        fma_status status;
        if (!EXPECT_INT(fma_client_connect(addresses[i], 100, &client, &status),
                        FMA_INVALID_ARGUMENT)) {
            FAIL("address \"%s\": %s", addresses[i], status.message);
        }
        EXPECT_CONTAINS(status.message, "invalid address");
        fma_client_close(client);
    }
}

/* A roundtrip over a freshly accepted connection: `client` connected, `server` accepted. */
static void check_roundtrip(fma_client *client, int server)
{
    send_response(server, 1, "hello");
    send_status(server, 1, FMA_OK, "");
    char *response = NULL;
    fma_status status;
    if (!EXPECT_INT(call_text(client, "fma.v1.Demo/Echo", "hi", 1000, &response, &status),
                    FMA_OK)) {
        FAIL("%s", status.message);
    }
    EXPECT_STR(response, "hello");
    free(response);
    fma_frame_free(expect_request(server, 1));
}

/* Connects to `address` where `listener` listens, accepts, and checks a call works. */
static void connect_and_call(const char *address, int listener)
{
    fma_client *client = NULL;
    fma_status status;
    if (!EXPECT_INT(fma_client_connect(address, 1000, &client, &status), FMA_OK)) {
        FAIL("connect %s: %s", address, status.message);
        return;
    }
    EXPECT_STR(fma_client_address(client), address);
    int server = accept(listener, NULL, NULL);
    if (EXPECT(server >= 0)) {
        check_roundtrip(client, server);
        close(server);
    }
    fma_client_close(client);
}

static void test_connect_over_unix_socket(void)
{
    char dir[] = "/tmp/fma-c-test-XXXXXX";
    if (!EXPECT(mkdtemp(dir) != NULL)) {
        return;
    }
    struct sockaddr_un local;
    memset(&local, 0, sizeof local);
    local.sun_family = AF_UNIX;
    snprintf(local.sun_path, sizeof local.sun_path, "%s/server.sock", dir);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (EXPECT(listener >= 0) &&
        EXPECT(bind(listener, (struct sockaddr *)&local, sizeof local) == 0) &&
        EXPECT(listen(listener, 4) == 0)) {
        char address[200];
        snprintf(address, sizeof address, "unix:%s", local.sun_path);
        connect_and_call(address, listener);
        snprintf(address, sizeof address, "unix://%s", local.sun_path);
        connect_and_call(address, listener);
    }
    if (listener >= 0) {
        close(listener);
    }
    unlink(local.sun_path);
    rmdir(dir);
}

/* Listens on the loopback address of `family` on a free port; returns the socket or -1. */
static int listen_loopback(int family, unsigned *port)
{
    int listener = socket(family, SOCK_STREAM, 0);
    if (listener < 0) {
        return -1;
    }
    struct sockaddr_storage local;
    socklen_t local_len;
    memset(&local, 0, sizeof local);
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&local;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        local_len = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&local;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        local_len = sizeof *v6;
    }
    if (bind(listener, (struct sockaddr *)&local, local_len) != 0 ||
        listen(listener, 4) != 0 ||
        getsockname(listener, (struct sockaddr *)&local, &local_len) != 0) {
        close(listener);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
                                    : ((struct sockaddr_in6 *)&local)->sin6_port);
    return listener;
}

static void test_connect_over_tcp(void)
{
    unsigned port = 0;
    int listener = listen_loopback(AF_INET, &port);
    if (!EXPECT(listener >= 0)) {
        return;
    }
    char address[64];
    snprintf(address, sizeof address, "tcp://127.0.0.1:%u", port);
    connect_and_call(address, listener);
    snprintf(address, sizeof address, "tcp://localhost:%u", port);
    fma_client *client = NULL;
    fma_status status;
    /* "localhost" may resolve to ::1 first, where nobody listens: the next address is tried. */
    if (EXPECT_INT(fma_client_connect(address, 1000, &client, &status), FMA_OK)) {
        int server = accept(listener, NULL, NULL);
        if (EXPECT(server >= 0)) {
            close(server);
        }
    }
    fma_client_close(client);
    close(listener);

    listener = listen_loopback(AF_INET6, &port);
    if (listener < 0) {
        printf("# IPv6 loopback unavailable; tcp://[::1] not tried\n");
        return;
    }
    snprintf(address, sizeof address, "tcp://[::1]:%u", port);
    connect_and_call(address, listener);
    close(listener);
}

static void test_connect_refused(void)
{
    unsigned port = 0;
    int listener = listen_loopback(AF_INET, &port);
    if (!EXPECT(listener >= 0)) {
        return;
    }
    close(listener); /* nobody listens on `port` now */
    char address[64];
    snprintf(address, sizeof address, "tcp://127.0.0.1:%u", port);
    fma_client *client = NULL;
    fma_status status;
    EXPECT_INT(fma_client_connect(address, 1000, &client, &status), FMA_UNAVAILABLE);
    char expected[128];
    snprintf(expected, sizeof expected, "connect %s: Connection refused", address);
    EXPECT_STR(status.message, expected);
    EXPECT(client == NULL);
}

static void test_unresolvable_host(void)
{
    fma_client *client = NULL;
    fma_status status;
    EXPECT_INT(fma_client_connect("tcp://no-such-host.invalid:7070", 1000, &client, &status),
               FMA_UNAVAILABLE);
    EXPECT_CONTAINS(status.message, "resolve tcp://no-such-host.invalid:7070: ");
}

int main(void)
{
    RUN(test_unary_call);
    RUN(test_call_ids_count_up_and_token_is_optional);
    RUN(test_server_status_is_returned);
    RUN(test_long_message_and_details_are_returned_whole);
    RUN(test_unary_needs_exactly_one_response);
    RUN(test_frames_of_other_calls_and_unknown_bodies_are_skipped);
    RUN(test_frames_arriving_one_byte_at_a_time);
    RUN(test_unary_timeout_cancels_the_call);
    RUN(test_frame_read_in_part_is_finished_by_the_next_call);
    RUN(test_request_over_the_frame_limit_fails_locally);
    RUN(test_invalid_arguments);
    RUN(test_connection_error_fails_every_call);
    RUN(test_server_closing_the_connection);
    RUN(test_server_closing_in_the_middle_of_a_frame);
    RUN(test_server_gone_does_not_raise_sigpipe);
    RUN(test_connection_error_explains_a_failed_write);
    RUN(test_oversized_frame_from_the_server);
    RUN(test_garbage_from_the_server);
    RUN(test_server_sending_client_frames_is_a_protocol_violation);
    RUN(test_stream);
    RUN(test_stream_failing_midway);
    RUN(test_stream_cancel);
    RUN(test_stream_timeout);
    RUN(test_stream_credit);
    RUN(test_stream_and_unary_call_share_the_connection);
    RUN(test_closing_the_client_ends_its_streams);
    RUN(test_health_check);
    RUN(test_connect_to_missing_unix_socket);
    RUN(test_invalid_addresses);
    RUN(test_connect_over_unix_socket);
    RUN(test_connect_over_tcp);
    RUN(test_connect_refused);
    RUN(test_unresolvable_host);
    return harness_finish("test_client");
}
