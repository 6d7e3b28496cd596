// libcurl for pkid, loaded with dlopen the first time it is needed, in a
// lookup scope of its own (RTLD_DEEPBIND), for the reason libpq is
// (ca/pq.h): libcurl-gnutls depends, through libssh2, on OpenSSL 3's
// libcrypto, which must not bind to BoringSSL's symbols. Its functions are
// called through the pointers of api_curl; the sender of expiry notices
// (api/notify.h) and the reader of webhook URLs (api/webhook.h) share it.
#ifndef PKI_API_CURL_LIB_H
#define PKI_API_CURL_LIB_H

// The names are called through pointers, which the macros of libcurl's
// type checking would hide.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "ca/error.h"

#define API_CURL_SYMBOLS(X) \
  X(curl_global_init)       \
  X(curl_easy_init)         \
  X(curl_easy_setopt)       \
  X(curl_easy_perform)      \
  X(curl_easy_getinfo)      \
  X(curl_easy_cleanup)      \
  X(curl_easy_strerror)     \
  X(curl_slist_append)      \
  X(curl_slist_free_all)    \
  X(curl_url)               \
  X(curl_url_cleanup)       \
  X(curl_url_set)           \
  X(curl_url_get)           \
  X(curl_free)

// The functions of libcurl, set by api_curl_load; read only afterwards.
typedef struct api_curl_functions {
#define API_CURL_FIELD(name) __typeof__(name) *name;
  API_CURL_SYMBOLS(API_CURL_FIELD)
#undef API_CURL_FIELD
} api_curl_functions;

extern api_curl_functions api_curl;

// api_curl_load loads libcurl-gnutls.so.4 and initializes it, once per
// process (any thread). It returns 1 when api_curl may be used, else 0 with
// CA_ERR_NOTIFY_FAILED (the library or one of its functions is missing) or
// CA_ERR_INTERNAL.
int api_curl_load(void) CA_MUST_CHECK;

#endif  // PKI_API_CURL_LIB_H
