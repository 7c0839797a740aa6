#ifndef FMA_CURL_H
#define FMA_CURL_H
/* Placeholder: the libcurl shim is written with the HTTP client. */
#endif
