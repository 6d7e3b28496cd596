#define CA_PQ_IMPLEMENTATION
#include "ca/store/pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct ca_pq_api ca_pq_api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_ok;
static char load_error[256];

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CA_PQ_UNDER_SANITIZER 1
#endif
#endif
#if defined(PKI_SANITIZER_BUILD) && !defined(CA_PQ_UNDER_SANITIZER)
#define CA_PQ_UNDER_SANITIZER 1
#endif

static void load_library(void) {
#if defined(CA_PQ_UNDER_SANITIZER)
  int flags = RTLD_NOW | RTLD_LOCAL;
  // Without a scope of its own, libpq's TLS code would bind to BoringSSL.
  (void)setenv("PGSSLMODE", "disable", /*overwrite=*/0);
#else
  int flags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif
  void *lib = dlopen("libpq.so.5", flags);
  if (lib == NULL) {
    const char *why = dlerror();
    snprintf(load_error, sizeof(load_error), "cannot load libpq.so.5: %s",
             why != NULL ? why : "unknown error");
    return;
  }
#define CA_PQ_RESOLVE(name)                                                 \
  ca_pq_api.name = (__typeof__(ca_pq_api.name))dlsym(lib, #name);           \
  if (ca_pq_api.name == NULL) {                                             \
    snprintf(load_error, sizeof(load_error), "libpq.so.5 lacks %s", #name); \
    return;                                                                 \
  }
  CA_PQ_SYMBOLS(CA_PQ_RESOLVE)
#undef CA_PQ_RESOLVE
  // The library stays loaded for the life of the process.
  load_ok = 1;
}

int ca_pq_load(void) {
  if (pthread_once(&load_once, load_library) != 0) {
    CA_SET_ERROR(CA_ERR_INTERNAL, "pthread_once failed");
    return 0;
  }
  if (!load_ok) {
    CA_SET_ERROR(CA_ERR_INTERNAL, "%s", load_error);
    return 0;
  }
  return 1;
}
