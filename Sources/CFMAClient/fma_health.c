/*
 * fma_health.c — fma.v1.Health/Check (docs/wire-protocol.md §10).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include "fma_internal.h"

static const char health_check_method[] = "fma.v1.Health/Check";

int fma_health_check(fma_client *client, const char *service, uint32_t timeout_ms,
                     Fma__V1__HealthCheckResponse **response, fma_status *status)
{
    *response = NULL;
    Fma__V1__HealthCheckRequest request = FMA__V1__HEALTH_CHECK_REQUEST__INIT;
    if (service != NULL) {
        request.service = (char *)service;
    }
    size_t request_len = fma__v1__health_check_request__get_packed_size(&request);
    uint8_t *request_bytes = malloc(request_len > 0 ? request_len : 1);
    if (request_bytes == NULL) {
        return fma_status_set(status, FMA_RESOURCE_EXHAUSTED, "out of memory");
    }
    fma__v1__health_check_request__pack(&request, request_bytes);

    uint8_t *answer;
    size_t answer_len;
    int code = fma_call_unary(client, health_check_method, request_bytes, request_len,
                              timeout_ms, &answer, &answer_len, status);
    free(request_bytes);
    if (code != FMA_OK) {
        return code;
    }
    *response = fma__v1__health_check_response__unpack(NULL, answer_len, answer);
    free(answer);
    if (*response == NULL) {
        return fma_status_set(status, FMA_INTERNAL,
                              "%s: the response (%zu bytes) does not decode as "
                              "fma.v1.HealthCheckResponse",
                              health_check_method, answer_len);
    }
    return fma_status_ok(status);
}

void fma_health_response_free(Fma__V1__HealthCheckResponse *response)
{
    fma__v1__health_check_response__free_unpacked(response, NULL);
}
