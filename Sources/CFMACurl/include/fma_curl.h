/*
 * fma_curl.h: the parts of libcurl that Swift cannot call directly.
 *
 * curl_easy_setopt (like curl_easy_getinfo and curl_multi_setopt) is variadic, and a few
 * constants are macros built from other macros; Swift imports neither. This shim gives each
 * argument kind of curl_easy_setopt that the client uses its own typed, non-variadic wrapper,
 * names those constants, and runs curl_global_init exactly once per process. (The client
 * needs no getinfo: it reads the status and headers from the header callback.)
 * Everything else (curl_easy_init, curl_multi_poll, curl_slist_append, ...) is called from
 * Swift directly through <curl/curl.h>, which this header re-exports.
 *
 * Every wrapper returns what the wrapped call returns; none keeps state.
 */
#ifndef FMA_CURL_H
#define FMA_CURL_H

#include <curl/curl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Constants Swift does not import (macros of macros), under names it does. */
enum {
    /** Returned by a write callback: pause the transfer; libcurl keeps the data it offered. */
    FMA_CURL_WRITEFUNC_PAUSE = CURL_WRITEFUNC_PAUSE,
    /** For curl_easy_pause: resume a paused transfer in both directions. */
    FMA_CURLPAUSE_CONT = CURLPAUSE_CONT,
    /** Size of the buffer CURLOPT_ERRORBUFFER writes to. */
    FMA_CURL_ERROR_SIZE = CURL_ERROR_SIZE,
    /** For CURLOPT_HEADEROPT: custom headers go to the server only, never to a proxy. */
    FMA_CURLHEADER_SEPARATE = CURLHEADER_SEPARATE,
};

/**
 * Calls curl_global_init(CURL_GLOBAL_DEFAULT) once per process, however many threads call this
 * at once, and returns its result (the same result on every call).
 */
CURLcode fma_curl_global_init(void);

/** curl_easy_setopt for options that take a long (flags, sizes, timeouts in ms, enums). */
CURLcode fma_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);

/** curl_easy_setopt for options that take a curl_off_t (CURLOPT_*_LARGE). */
CURLcode fma_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

/**
 * curl_easy_setopt for options that take a C string. libcurl copies the string (except for
 * CURLOPT_POSTFIELDS, which this project does not use); NULL restores the default or disables.
 */
CURLcode fma_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);

/**
 * curl_easy_setopt for options that take a pointer libcurl keeps without copying
 * (CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_ERRORBUFFER, CURLOPT_PRIVATE): the memory
 * must outlive the handle's use of it.
 */
CURLcode fma_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);

/**
 * curl_easy_setopt for CURLOPT_*_BLOB options (CAINFO_BLOB, SSLCERT_BLOB, SSLKEY_BLOB): libcurl
 * copies the `length` bytes at `data` (CURL_BLOB_COPY) before returning.
 */
CURLcode fma_curl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length);

/** curl_easy_setopt for options that take a list (CURLOPT_HTTPHEADER); the list must outlive the transfer. */
CURLcode fma_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list);

/**
 * curl_easy_setopt for callbacks shaped like a write callback: CURLOPT_WRITEFUNCTION and
 * CURLOPT_HEADERFUNCTION. The callback gets the userdata set by CURLOPT_WRITEDATA/HEADERDATA.
 */
CURLcode fma_curl_easy_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback callback);

#ifdef __cplusplus
}
#endif

#endif /* FMA_CURL_H */
