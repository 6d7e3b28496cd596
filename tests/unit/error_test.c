// Unit tests of ca/error.c: the stable code names (written out here as
// clients see them, so a rename or renumbering fails), the thread-local
// error, message truncation, BoringSSL's queue being cleared, and the
// CA_* macros recording file and line.
#include <openssl/err.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca/error.h"
#include "tests/support/test.h"

TEST(stable_names) {
  // The API: clients match on these names (README.md). Order is the enum's.
  static const char *const kNames[] = {
      "OK",
      "INTERNAL",
      "NO_MEMORY",
      "PROFILE_UNKNOWN",
      "CSR_MALFORMED",
      "CSR_TOO_LARGE",
      "CSR_SIGNATURE_INVALID",
      "CSR_SIGNATURE_ALGORITHM_UNSUPPORTED",
      "KEY_UNSUPPORTED",
      "KEY_TYPE_MISMATCH",
      "KEY_TOO_SMALL",
      "KEY_SIZE_UNSUPPORTED",
      "CURVE_UNSUPPORTED",
      "SUBJECT_INVALID",
      "SUBJECT_CN_MISSING",
      "CN_NOT_IN_SAN",
      "SAN_TYPE_UNSUPPORTED",
      "SAN_WILDCARD",
      "SAN_INVALID",
      "SAN_TOO_MANY",
      "SAN_MULTI_HOST_NOT_ALLOWED",
      "VALIDITY_TOO_LONG",
      "ISSUER_UNAVAILABLE",
      "STORAGE_UNAVAILABLE",
      "SERIAL_COLLISION",
      "REQUEST_MALFORMED",
      "BODY_TOO_LARGE",
      "BATCH_TOO_LARGE",
      "BATCH_EMPTY",
      "NOT_FOUND",
      "AMBIGUOUS",
      "METHOD_NOT_ALLOWED",
      "UNSUPPORTED_MEDIA_TYPE",
      "JSON_MALFORMED",
      "JSON_LIMIT_EXCEEDED",
      "JSON_UNKNOWN_FIELD",
      "JSON_FIELD_INVALID",
      "FORMAT_UNKNOWN",
      "PARAMETER_INVALID",
      "CERTIFICATE_MALFORMED",
      "KEY_FILE",
      "CONFIG_INVALID",
      "PEM_MALFORMED",
      "OBJECT_TOO_LARGE",
      "QUEUE_FULL",
      "SHUTTING_DOWN",
      "CONFLICT",
      "ALREADY_REVOKED",
      "NOT_ON_HOLD",
      "TRUST_STORE_UNKNOWN",
      "CERTIFICATE_NOT_CA",
      "CERTIFICATE_EXPIRED",
      "IDENTITY_NOT_DELETABLE",
      "NOT_SELF_SIGNED",
      "VALIDITY_UNSUPPORTED",
      "BUNDLE_MALFORMED",
      "BUNDLES_TOO_FEW",
      "PKCS12_PASSWORD_INVALID",
      "DESTINATION_INVALID",
      "NOTIFICATION_FAILED",
      "UNAUTHENTICATED",
      "FORBIDDEN",
      "ADDRESS_NOT_ALLOWED",
      "REQUEST_TIMEOUT",
      "FRAMING_INVALID",
      "BUFFERS_FULL",
      "OCSP_RESPONSE_INVALID",
      "CRL_INVALID",
      "TRUST_CERT_REVOKED",
      "REVOCATION_UNKNOWN",
      "REVOCATION_UNREACHABLE",
      "TRUST_ENTRY_HAS_DEPENDENTS",
      "IDENTITY_EXISTS",
      "CSR_MULTIPLE",
      "AUDIT_TIME_INVALID",
      "AUDIT_LIMIT_INVALID",
      "AUDIT_CURSOR_INVALID",
      "AUDIT_FILTER_INVALID",
  };
  const size_t n = sizeof(kNames) / sizeof(kNames[0]);
  CHECK_EQ_INT(CA_ERR_COUNT, n);
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ_STR(ca_err_code_name((ca_err_code)i), kNames[i]);
  }
  // A few by symbol, so the enum values themselves are pinned.
  CHECK_EQ_INT(CA_OK, 0);
  CHECK_EQ_STR(ca_err_code_name(CA_ERR_CSR_SIGNATURE_ALGORITHM),
               "CSR_SIGNATURE_ALGORITHM_UNSUPPORTED");
  CHECK_EQ_STR(ca_err_code_name(CA_ERR_SERIAL_EXHAUSTED), "SERIAL_COLLISION");
  CHECK_EQ_STR(ca_err_code_name(CA_ERR_CERT_MALFORMED),
               "CERTIFICATE_MALFORMED");
  CHECK_EQ_STR(ca_err_code_name(CA_ERR_CONFIG), "CONFIG_INVALID");
  CHECK_EQ_STR(ca_err_code_name(CA_ERR_SAN_MULTI_HOST),
               "SAN_MULTI_HOST_NOT_ALLOWED");
  // Names are unique.
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i + 1; j < n; j++) {
      CHECK(strcmp(ca_err_code_name((ca_err_code)i),
                   ca_err_code_name((ca_err_code)j)) != 0);
    }
  }
  // Outside the enum: "INTERNAL", never a read past the table.
  CHECK_EQ_STR(ca_err_code_name(CA_ERR_COUNT), "INTERNAL");
  CHECK_EQ_STR(ca_err_code_name((ca_err_code)(CA_ERR_COUNT + 1)), "INTERNAL");
  CHECK_EQ_STR(ca_err_code_name((ca_err_code)-1), "INTERNAL");
  CHECK_EQ_STR(ca_err_code_name((ca_err_code)INT32_MAX), "INTERNAL");
}

TEST(set_get_clear) {
  ca_err_clear();
  const ca_err *e = ca_err_get();
  CHECK_EQ_INT(e->code, CA_OK);
  CHECK_EQ_STR(e->message, "");
  ca_err_set_at("somefile.c", 42, CA_ERR_SAN_INVALID, "bad name \"%s\" (%d)",
                "x_y", 7);
  CHECK(ca_err_get() == e);  // the same thread-local slot
  CHECK_EQ_INT(e->code, CA_ERR_SAN_INVALID);
  CHECK_EQ_STR(e->message, "bad name \"x_y\" (7)");
  CHECK_EQ_STR(e->file, "somefile.c");
  CHECK_EQ_INT(e->line, 42);
  // A later error replaces it entirely.
  ca_err_set_at("other.c", 1, CA_ERR_NOT_FOUND, "gone");
  CHECK_EQ_INT(e->code, CA_ERR_NOT_FOUND);
  CHECK_EQ_STR(e->message, "gone");
  CHECK_EQ_STR(e->file, "other.c");
  ca_err_clear();
  CHECK_EQ_INT(e->code, CA_OK);
  CHECK_EQ_STR(e->message, "");
  CHECK(e->file == NULL);
  CHECK_EQ_INT(e->line, 0);
}

TEST(long_messages_are_truncated) {
  char big[1000];
  memset(big, 'm', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CA_SET_ERROR(CA_ERR_INTERNAL, "%s", big);
  const ca_err *e = ca_err_get();
  CHECK_EQ_INT(strlen(e->message), CA_ERR_MESSAGE_LEN - 1);
  CHECK_EQ_INT(e->code, CA_ERR_INTERNAL);
  // '%' in arguments is data, not format.
  CA_SET_ERROR(CA_ERR_INTERNAL, "%s", "100%s %n");
  CHECK_EQ_STR(e->message, "100%s %n");
}

TEST(copy_and_restore) {
  ca_err_set_at("a.c", 10, CA_ERR_KEY_FILE, "first");
  ca_err saved;
  ca_err_copy(&saved);
  CHECK_EQ_INT(saved.code, CA_ERR_KEY_FILE);
  CHECK_EQ_STR(saved.message, "first");
  ca_err_set_at("b.c", 20, CA_ERR_CONFIG, "second");
  // The copy is independent of the live error.
  CHECK_EQ_STR(saved.message, "first");
  ca_err_restore(&saved);
  const ca_err *e = ca_err_get();
  CHECK_EQ_INT(e->code, CA_ERR_KEY_FILE);
  CHECK_EQ_STR(e->message, "first");
  CHECK_EQ_STR(e->file, "a.c");
  CHECK_EQ_INT(e->line, 10);
}

TEST(clears_boringssl_queue) {
  // Make BoringSSL record an error: parse garbage as a certificate.
  ERR_clear_error();
  const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01};
  const uint8_t *p = garbage;
  X509 *x = d2i_X509(NULL, &p, sizeof(garbage));
  CHECK(x == NULL);
  CHECK(ERR_peek_error() != 0);
  CA_SET_ERROR(CA_ERR_CERT_MALFORMED, "superseded");
  CHECK_EQ_INT(ERR_peek_error(), 0);
}

// --- macros ---

static int ensure_line;
static int raise_line;

static int uses_ensure(int ok) {
  ensure_line = __LINE__ + 1;
  CA_ENSURE(ok, CA_ERR_PARAMETER_INVALID, "value %d refused", ok);
  return 1;
err:
  return 0;
}

static int uses_raise(void) {
  raise_line = __LINE__ + 1;
  CA_RAISE(CA_ERR_AMBIGUOUS, "two of %s", "them");
err:
  return 0;
}

static int guard_reached_err;

static int uses_guard(int inner_ok) {
  CA_GUARD(inner_ok ? uses_ensure(1) : uses_raise());
  return 1;
err:
  guard_reached_err = 1;
  return 0;
}

static int crypto_line;

static int uses_guard_crypto(int ok) {
  crypto_line = __LINE__ + 1;
  CA_GUARD_CRYPTO(ok == 1);
  return 1;
err:
  return 0;
}

static int uses_alloc(void *p) {
  CA_ENSURE_ALLOC(p);
  return 1;
err:
  return 0;
}

TEST(macros_record_file_and_line) {
  ca_err_clear();
  CHECK_EQ_INT(uses_ensure(1), 1);
  CHECK_EQ_INT(ca_err_get()->code, CA_OK);  // success records nothing
  CHECK_EQ_INT(uses_ensure(0), 0);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  CHECK_EQ_STR(ca_err_get()->message, "value 0 refused");
  CHECK_EQ_STR(ca_err_get()->file, __FILE__);
  CHECK_EQ_INT(ca_err_get()->line, ensure_line);
  CHECK_EQ_INT(uses_raise(), 0);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_AMBIGUOUS);
  CHECK_EQ_STR(ca_err_get()->message, "two of them");
  CHECK_EQ_INT(ca_err_get()->line, raise_line);
  // CA_GUARD passes the callee's error through untouched.
  guard_reached_err = 0;
  ca_err_clear();
  CHECK_EQ_INT(uses_guard(1), 1);
  CHECK_EQ_INT(guard_reached_err, 0);
  CHECK_EQ_INT(uses_guard(0), 0);
  CHECK_EQ_INT(guard_reached_err, 1);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_AMBIGUOUS);
  CHECK_EQ_INT(ca_err_get()->line, raise_line);
  // CA_GUARD_CRYPTO names the failed call.
  CHECK_EQ_INT(uses_guard_crypto(0), 0);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK_EQ_STR(ca_err_get()->message, "crypto call failed: ok == 1");
  CHECK_EQ_INT(ca_err_get()->line, crypto_line);
  CHECK_EQ_INT(uses_guard_crypto(1), 1);
  CHECK_EQ_INT(uses_alloc(NULL), 0);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NO_MEMORY);
  CHECK_EQ_INT(uses_alloc(&guard_reached_err), 1);
}

// --- one error per thread ---

typedef struct seen {
  ca_err_code initial;
  ca_err_code after;
  char message[CA_ERR_MESSAGE_LEN];
} seen;

static pthread_barrier_t barrier;

static void *thread_main(void *arg) {
  seen *s = arg;
  s->initial = ca_err_get()->code;
  CA_SET_ERROR(CA_ERR_BATCH_EMPTY, "thread %p", (void *)s);
  // Wait until the main thread has set its own error too.
  pthread_barrier_wait(&barrier);
  pthread_barrier_wait(&barrier);
  s->after = ca_err_get()->code;
  strcpy(s->message, ca_err_get()->message);
  return NULL;
}

TEST(errors_are_per_thread) {
  CA_SET_ERROR(CA_ERR_KEY_TOO_SMALL, "main");
  pthread_t thread;
  seen s;
  memset(&s, 0, sizeof(s));
  CHECK(pthread_barrier_init(&barrier, NULL, 2) == 0);
  CHECK(pthread_create(&thread, NULL, thread_main, &s) == 0);
  pthread_barrier_wait(&barrier);
  CA_SET_ERROR(CA_ERR_CURVE_UNSUPPORTED, "main again");
  pthread_barrier_wait(&barrier);
  pthread_join(thread, NULL);
  pthread_barrier_destroy(&barrier);
  // The new thread started clean and kept its own error.
  CHECK_EQ_INT(s.initial, CA_OK);
  CHECK_EQ_INT(s.after, CA_ERR_BATCH_EMPTY);
  CHECK(strncmp(s.message, "thread ", 7) == 0);
  // The main thread kept its own.
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CURVE_UNSUPPORTED);
  CHECK_EQ_STR(ca_err_get()->message, "main again");
}

int main(void) {
  RUN(stable_names);
  RUN(set_get_clear);
  RUN(long_messages_are_truncated);
  RUN(copy_and_restore);
  RUN(clears_boringssl_queue);
  RUN(macros_record_file_and_line);
  RUN(errors_are_per_thread);
  return test_summary();
}
