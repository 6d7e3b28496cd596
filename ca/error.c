#include "ca/error.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CA_ERR_NAME_ENTRY(sym, name) name,
static const char *const kCodeNames[] = {CA_ERR_CODES(CA_ERR_NAME_ENTRY)};
#undef CA_ERR_NAME_ENTRY

static _Thread_local ca_err tls_err;

const char *ca_err_code_name(ca_err_code code) {
  if ((unsigned)code >= CA_ERR_COUNT) {
    return "INTERNAL";
  }
  return kCodeNames[code];
}

void ca_err_set_at(const char *file, int line, ca_err_code code,
                   const char *fmt, ...) {
  tls_err.code = code;
  tls_err.file = file;
  tls_err.line = line;
  va_list ap;
  va_start(ap, fmt);
  // Truncation of a long message is acceptable: the code carries the meaning.
  (void)vsnprintf(tls_err.message, sizeof(tls_err.message), fmt, ap);
  va_end(ap);
  ERR_clear_error();
}

const ca_err *ca_err_get(void) {
  return &tls_err;
}

void ca_err_copy(ca_err *out) {
  *out = tls_err;
}

void ca_err_restore(const ca_err *err) {
  tls_err = *err;
}

void ca_err_clear(void) {
  memset(&tls_err, 0, sizeof(tls_err));
}
