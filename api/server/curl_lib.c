#include "api/server/curl_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

api_curl_functions api_curl;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;
static char curl_error[256];

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CURL_LIB_UNDER_SANITIZER 1
#endif
#endif
#if defined(PKI_SANITIZER_BUILD) && !defined(CURL_LIB_UNDER_SANITIZER)
#define CURL_LIB_UNDER_SANITIZER 1
#endif

static void load_curl(void) {
#if defined(CURL_LIB_UNDER_SANITIZER)
  // Sanitizer runtimes refuse RTLD_DEEPBIND (as for libpq in ca/store/pq.c).
  const int flags = RTLD_NOW | RTLD_LOCAL;
#else
  const int flags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif
  void *lib = dlopen("libcurl-gnutls.so.4", flags);
  if (lib == NULL) {
    const char *why = dlerror();
    snprintf(curl_error, sizeof(curl_error),
             "cannot load libcurl-gnutls.so.4: %s",
             why != NULL ? why : "unknown error");
    return;
  }
#define API_CURL_RESOLVE(name)                                               \
  api_curl.name = (__typeof__(api_curl.name))dlsym(lib, #name);              \
  if (api_curl.name == NULL) {                                               \
    snprintf(curl_error, sizeof(curl_error), "libcurl-gnutls.so.4 lacks %s", \
             #name);                                                         \
    return;                                                                  \
  }
  API_CURL_SYMBOLS(API_CURL_RESOLVE)
#undef API_CURL_RESOLVE
  // Once, before any handle; the library stays loaded.
  if (api_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(curl_error, sizeof(curl_error), "curl_global_init failed");
    return;
  }
  curl_ok = 1;
}

int api_curl_load(void) {
  CA_ENSURE_RETURN(pthread_once(&curl_once, load_curl) == 0, CA_ERR_INTERNAL,
                   "pthread_once failed");
  CA_ENSURE_RETURN(curl_ok, CA_ERR_NOTIFY_FAILED, "%s", curl_error);
  return 1;
}
