/*
 * fma-health — asks an fma server whether it is serving, using the C client library.
 * Also makes one fma.v1.Demo call (--echo, --stream-count) so that tests can exercise unary and
 * streaming calls from C. Run `fma-health --help` for the details.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fma/v1/demo.pb-c.h"
#include "fma_client.h"

enum exit_code {
    EXIT_SERVING = 0,
    EXIT_NOT_SERVING = 1,
    EXIT_CALL_FAILED = 2,
    EXIT_USAGE = 64,
};

#define DEFAULT_TIMEOUT_MS 5000u
#define TOKEN_FILE_MAX_BYTES 4096

static const char usage_text[] =
    "usage: fma-health [--token TOKEN | --token-file FILE] [--timeout MS] [--service NAME]\n"
    "                  [--echo TEXT | --stream-count N] ADDRESS\n";

static const char help_text[] =
    "\n"
    "Asks the fma server at ADDRESS whether it is serving (fma.v1.Health/Check) and prints\n"
    "its answer on one line, for example\n"
    "\n"
    "  SERVING component=fma-demo version=0.1.0 uptime_ms=1234 services=fma.v1.Demo,fma.v1.Health\n"
    "\n"
    "ADDRESS\n"
    "  unix:PATH          a Unix-domain socket on this machine (unix://PATH works too);\n"
    "                     calls on it need no token, the socket file's permissions decide\n"
    "  tcp://HOST:PORT    TCP, e.g. tcp://127.0.0.1:7070 or tcp://[::1]:7070 (IPv6 in\n"
    "                     brackets); calls on it need the server's bearer token\n"
    "\n"
    "Options\n"
    "  --token TOKEN      the bearer token to send (\"authorization: Bearer TOKEN\")\n"
    "  --token-file FILE  read the token from FILE (white space around it is dropped); keeps\n"
    "                     the token out of the process list. Without either option the\n"
    "                     token comes from the environment variable FMA_TOKEN, if set.\n"
    "  --timeout MS       milliseconds allowed for connecting and again for the call\n"
    "                     (default 5000; 0 waits forever)\n"
    "  --service NAME     ask about one service, e.g. fma.v1.Demo, instead of the whole\n"
    "                     server; a service the server does not know is NOT_FOUND\n"
    "  --echo TEXT        instead of the health check, call fma.v1.Demo/Echo with TEXT and\n"
    "                     print the text the server sends back\n"
    "  --stream-count N   instead of the health check, call fma.v1.Demo/Count for N messages,\n"
    "                     print each message's index on its own line, then the stream's\n"
    "                     end, \"stream ended: OK\"\n"
    "  --help             print this text\n"
    "\n"
    "Exit status\n"
    "  0   the server is SERVING (or the --echo / --stream-count call succeeded)\n"
    "  1   the server answered with another status (NOT_SERVING, DRAINING, UNKNOWN)\n"
    "  2   the call failed; stderr says how, as \"fma-health: CODE: message\", e.g.\n"
    "      \"fma-health: UNAUTHENTICATED: invalid bearer token\"\n"
    "  64  the command line is wrong, or the token file cannot be read\n"
    "\n"
    "Examples\n"
    "  fma-health unix:/run/fma/launcher.sock\n"
    "  fma-health --token-file /etc/fma/token tcp://10.0.0.7:7070\n"
    "  FMA_TOKEN=secret fma-health --service fma.v1.Demo tcp://127.0.0.1:7070\n"
    "  fma-health --stream-count 3 unix:/tmp/fma-demo.sock\n";

struct options {
    const char *address;
    const char *token;
    const char *token_file;
    uint32_t timeout_ms;
    const char *service;
    const char *echo_text;
    int stream;
    uint32_t stream_count;
};

/* ---- command line ---- */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "fma-health: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n%sRun 'fma-health --help' for more.\n", usage_text);
    va_end(args);
    return EXIT_USAGE;
}

/* Parses a decimal number 0…UINT32_MAX. */
static int parse_uint32(const char *text, uint32_t *out)
{
    if (text[0] < '0' || text[0] > '9') {
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > UINT32_MAX) {
        return 0;
    }
    *out = (uint32_t)value;
    return 1;
}

/* Matches argv[*index] against option `name`, taking its value from "--name=VALUE" or from the
 * next argument. Returns 1 on a match (with *value set, or NULL when the value is missing). */
static int match_option(char **argv, int argc, int *index, const char *name,
                        const char **value)
{
    const char *arg = argv[*index];
    size_t name_len = strlen(name);
    if (strncmp(arg, name, name_len) != 0) {
        return 0;
    }
    if (arg[name_len] == '=') {
        *value = arg + name_len + 1;
        return 1;
    }
    if (arg[name_len] != '\0') {
        return 0;
    }
    *value = *index + 1 < argc ? argv[++*index] : NULL;
    return 1;
}

/* Stores one option; returns 0, or EXIT_USAGE after printing what is wrong. */
static int store_option(struct options *options, const char *name, const char *value)
{
    if (value == NULL) {
        return usage_error("%s needs a value", name);
    }
    if (strcmp(name, "--token") == 0) {
        options->token = value;
    } else if (strcmp(name, "--token-file") == 0) {
        options->token_file = value;
    } else if (strcmp(name, "--service") == 0) {
        options->service = value;
    } else if (strcmp(name, "--echo") == 0) {
        options->echo_text = value;
    } else if (strcmp(name, "--timeout") == 0) {
        if (!parse_uint32(value, &options->timeout_ms)) {
            return usage_error("--timeout takes milliseconds, a whole number; got \"%s\"",
                               value);
        }
    } else if (strcmp(name, "--stream-count") == 0) {
        if (!parse_uint32(value, &options->stream_count)) {
            return usage_error("--stream-count takes a whole number; got \"%s\"", value);
        }
        options->stream = 1;
    }
    return 0;
}

static int check_options(const struct options *options)
{
    if (options->address == NULL) {
        return usage_error("missing ADDRESS");
    }
    if (options->token != NULL && options->token_file != NULL) {
        return usage_error("give --token or --token-file, not both");
    }
    if (options->echo_text != NULL && options->stream) {
        return usage_error("give --echo or --stream-count, not both");
    }
    return 0;
}

/* Parses the command line. Returns -1 to go on, or the exit status (after --help or an
 * error). */
static int parse_arguments(int argc, char **argv, struct options *options)
{
    static const char *const names[] = {"--token",  "--token-file", "--timeout",
                                        "--service", "--echo",       "--stream-count"};
    *options = (struct options){.timeout_ms = DEFAULT_TIMEOUT_MS};
    int only_operands = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_operands && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            printf("%s%s", usage_text, help_text);
            return EXIT_SERVING;
        }
        if (!only_operands && strcmp(arg, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (!only_operands && arg[0] == '-' && arg[1] != '\0') {
            const char *value = NULL;
            size_t n = 0;
            while (n < sizeof names / sizeof names[0] &&
                   !match_option(argv, argc, &i, names[n], &value)) {
                n++;
            }
            if (n == sizeof names / sizeof names[0]) {
                return usage_error("unknown option %s", arg);
            }
            int code = store_option(options, names[n], value);
            if (code != 0) {
                return code;
            }
            continue;
        }
        if (options->address != NULL) {
            return usage_error("one ADDRESS only; \"%s\" is one too many", arg);
        }
        options->address = arg;
    }
    int code = check_options(options);
    return code != 0 ? code : -1;
}

/* ---- the token ---- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Drops white space around the NUL-terminated `text` (a token file's final newline), in
 * place. */
static void trim(char *text)
{
    size_t start = 0;
    while (is_space(text[start])) {
        start++;
    }
    size_t len = strlen(text + start);
    while (len > 0 && is_space(text[start + len - 1])) {
        len--;
    }
    memmove(text, text + start, len);
    text[len] = '\0';
}

/* Reads `path` into `token` (`size` bytes, NUL included). Returns 0, or EXIT_USAGE after
 * printing why. */
static int read_token_file(const char *path, char *token, size_t size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "fma-health: token file %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    size_t len = fread(token, 1, size - 1, file);
    int failed = ferror(file);
    int too_long = !failed && len == size - 1 && fgetc(file) != EOF;
    fclose(file);
    if (failed) {
        fprintf(stderr, "fma-health: token file %s: cannot be read\n", path);
        return EXIT_USAGE;
    }
    if (too_long) {
        fprintf(stderr, "fma-health: token file %s: longer than %zu bytes\n", path, size - 1);
        return EXIT_USAGE;
    }
    token[len] = '\0';
    return 0;
}

/* Finds the token: --token, else --token-file, else FMA_TOKEN, else none (an empty string).
 * White space around it is dropped. Returns 0, or EXIT_USAGE after printing why. */
static int find_token(const struct options *options, char *token, size_t size)
{
    token[0] = '\0';
    const char *given = options->token != NULL ? options->token : getenv("FMA_TOKEN");
    if (options->token == NULL && options->token_file != NULL) {
        int code = read_token_file(options->token_file, token, size);
        if (code != 0) {
            return code;
        }
    } else if (given != NULL) {
        if (strlen(given) >= size) {
            fprintf(stderr, "fma-health: the token is longer than %zu bytes\n", size - 1);
            return EXIT_USAGE;
        }
        memcpy(token, given, strlen(given) + 1);
    }
    trim(token);
    return 0;
}

/* ---- the calls ---- */

/* Prints the failure: its code, its whole message and its details (" [key=value, …]"). */
static int call_failed(const fma_status *status)
{
    fprintf(stderr, "fma-health: %s: %s", fma_code_name(status->code), fma_status_message(status));
    for (size_t i = 0; i < status->detail_count; i++) {
        fprintf(stderr, "%s%s=%s", i == 0 ? " [" : ", ", status->details[i].key,
                status->details[i].value);
    }
    fprintf(stderr, "%s\n", status->detail_count > 0 ? "]" : "");
    return EXIT_CALL_FAILED;
}

/* call_failed for a status this program owns, which it then releases. */
static int owned_call_failed(fma_status *status)
{
    int code = call_failed(status);
    fma_status_free(status);
    return code;
}

static int undecodable(const char *type)
{
    fma_status status = {.code = FMA_INTERNAL};
    snprintf(status.message, sizeof status.message, "the response does not decode as %s", type);
    return call_failed(&status);
}

static void print_health(const Fma__V1__HealthCheckResponse *response)
{
    const ProtobufCEnumValue *name = protobuf_c_enum_descriptor_get_value(
        &fma__v1__health_check_response__serving_status__descriptor, response->status);
    if (name != NULL) {
        printf("%s", name->name);
    } else {
        printf("STATUS_%d", (int)response->status);
    }
    printf(" component=%s version=%s uptime_ms=%llu services=", response->component,
           response->version, (unsigned long long)response->uptime_ms);
    for (size_t i = 0; i < response->n_services; i++) {
        printf("%s%s", i > 0 ? "," : "", response->services[i]);
    }
    printf("\n");
}

static int run_health(fma_client *client, const struct options *options)
{
    Fma__V1__HealthCheckResponse *response;
    fma_status status;
    if (fma_health_check(client, options->service, options->timeout_ms, &response, &status) !=
        FMA_OK) {
        return owned_call_failed(&status);
    }
    print_health(response);
    int serving =
        response->status == FMA__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    fma_health_response_free(response);
    return serving ? EXIT_SERVING : EXIT_NOT_SERVING;
}

static int run_echo(fma_client *client, const struct options *options)
{
    Fma__V1__EchoRequest request = FMA__V1__ECHO_REQUEST__INIT;
    request.text = (char *)options->echo_text;
    size_t request_len = fma__v1__echo_request__get_packed_size(&request);
    uint8_t *request_bytes = malloc(request_len > 0 ? request_len : 1);
    if (request_bytes == NULL) {
        fprintf(stderr, "fma-health: out of memory\n");
        return EXIT_CALL_FAILED;
    }
    fma__v1__echo_request__pack(&request, request_bytes);

    uint8_t *answer;
    size_t answer_len;
    fma_status status;
    int code = fma_call_unary(client, "fma.v1.Demo/Echo", request_bytes, request_len,
                              options->timeout_ms, &answer, &answer_len, &status);
    free(request_bytes);
    if (code != FMA_OK) {
        return owned_call_failed(&status);
    }
    Fma__V1__EchoResponse *response = fma__v1__echo_response__unpack(NULL, answer_len, answer);
    free(answer);
    if (response == NULL) {
        return undecodable("fma.v1.EchoResponse");
    }
    printf("%s\n", response->text);
    fma__v1__echo_response__free_unpacked(response, NULL);
    return EXIT_SERVING;
}

/* Prints the index of each CountResponse until the stream ends. */
static int print_count_stream(fma_stream *stream)
{
    uint8_t *message;
    size_t message_len;
    int next;
    while ((next = fma_stream_next(stream, &message, &message_len)) == 1) {
        Fma__V1__CountResponse *response =
            fma__v1__count_response__unpack(NULL, message_len, message);
        free(message);
        if (response == NULL) {
            return undecodable("fma.v1.CountResponse");
        }
        printf("%u\n", (unsigned)response->index);
        fma__v1__count_response__free_unpacked(response, NULL);
    }
    if (next < 0) {
        return call_failed(fma_stream_status(stream));
    }
    printf("stream ended: OK\n");
    return EXIT_SERVING;
}

static int run_stream_count(fma_client *client, const struct options *options)
{
    Fma__V1__CountRequest request = FMA__V1__COUNT_REQUEST__INIT;
    request.count = options->stream_count;
    uint8_t bytes[16];
    size_t len = fma__v1__count_request__pack(&request, bytes); /* one varint: ≤ 6 bytes */

    fma_stream *stream;
    fma_status status;
    if (fma_stream_start(client, "fma.v1.Demo/Count", bytes, len, options->timeout_ms, &stream,
                         &status) != FMA_OK) {
        return owned_call_failed(&status);
    }
    int code = print_count_stream(stream);
    fma_stream_free(stream);
    return code;
}

/* Runs the call the options ask for and returns the exit status. */
static int run(fma_client *client, const struct options *options)
{
    if (options->echo_text != NULL) {
        return run_echo(client, options);
    }
    if (options->stream) {
        return run_stream_count(client, options);
    }
    return run_health(client, options);
}

int main(int argc, char **argv)
{
    struct options options;
    int code = parse_arguments(argc, argv, &options);
    if (code >= 0) {
        return code;
    }
    char token[TOKEN_FILE_MAX_BYTES + 1];
    code = find_token(&options, token, sizeof token);
    if (code != 0) {
        return code;
    }
    fma_client *client;
    fma_status status;
    code = fma_client_connect(options.address, options.timeout_ms, &client, &status);
    if (code == FMA_INVALID_ARGUMENT) {
        return usage_error("%s", status.message);
    }
    if (code != FMA_OK) {
        return owned_call_failed(&status);
    }
    if (fma_client_set_token(client, token, &status) != FMA_OK) {
        fprintf(stderr, "fma-health: %s\n", status.message);
        code = EXIT_USAGE;
    } else {
        code = run(client, &options);
    }
    fma_client_close(client);
    return code;
}
