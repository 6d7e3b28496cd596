// Errors of the signing core: a stable code, a human message, and where it
// was raised.
//
// Functions of ca/ return 1 on success and 0 on failure (or a pointer and
// NULL), as in BoringSSL. On failure they record the reason in a thread-local
// error, read with |ca_err_get|. The code is part of the API (its name is sent
// to clients and listed in README.md); the message is for people.
#ifndef PKI_CA_ERROR_H
#define PKI_CA_ERROR_H

#include <stddef.h>

#define CA_MUST_CHECK __attribute__((warn_unused_result))

// The X-macro list keeps the enum and the stable names in one place. Never
// renumber or rename an entry: clients match on the names.
#define CA_ERR_CODES(X)                                                    \
  X(CA_OK, "OK")                                                           \
  X(CA_ERR_INTERNAL, "INTERNAL")                                           \
  X(CA_ERR_NO_MEMORY, "NO_MEMORY")                                         \
  X(CA_ERR_PROFILE_UNKNOWN, "PROFILE_UNKNOWN")                             \
  X(CA_ERR_CSR_MALFORMED, "CSR_MALFORMED")                                 \
  X(CA_ERR_CSR_TOO_LARGE, "CSR_TOO_LARGE")                                 \
  X(CA_ERR_CSR_SIGNATURE_INVALID, "CSR_SIGNATURE_INVALID")                 \
  X(CA_ERR_CSR_SIGNATURE_ALGORITHM, "CSR_SIGNATURE_ALGORITHM_UNSUPPORTED") \
  X(CA_ERR_KEY_UNSUPPORTED, "KEY_UNSUPPORTED")                             \
  X(CA_ERR_KEY_TYPE_MISMATCH, "KEY_TYPE_MISMATCH")                         \
  X(CA_ERR_KEY_TOO_SMALL, "KEY_TOO_SMALL")                                 \
  X(CA_ERR_KEY_SIZE_UNSUPPORTED, "KEY_SIZE_UNSUPPORTED")                   \
  X(CA_ERR_CURVE_UNSUPPORTED, "CURVE_UNSUPPORTED")                         \
  X(CA_ERR_SUBJECT_INVALID, "SUBJECT_INVALID")                             \
  X(CA_ERR_SUBJECT_CN_MISSING, "SUBJECT_CN_MISSING")                       \
  X(CA_ERR_CN_NOT_IN_SAN, "CN_NOT_IN_SAN")                                 \
  X(CA_ERR_SAN_TYPE_UNSUPPORTED, "SAN_TYPE_UNSUPPORTED")                   \
  X(CA_ERR_SAN_WILDCARD, "SAN_WILDCARD")                                   \
  X(CA_ERR_SAN_INVALID, "SAN_INVALID")                                     \
  X(CA_ERR_SAN_TOO_MANY, "SAN_TOO_MANY")                                   \
  X(CA_ERR_SAN_MULTI_HOST, "SAN_MULTI_HOST_NOT_ALLOWED")                   \
  X(CA_ERR_VALIDITY_TOO_LONG, "VALIDITY_TOO_LONG")                         \
  X(CA_ERR_ISSUER_UNAVAILABLE, "ISSUER_UNAVAILABLE")                       \
  X(CA_ERR_STORAGE_UNAVAILABLE, "STORAGE_UNAVAILABLE")                     \
  X(CA_ERR_SERIAL_EXHAUSTED, "SERIAL_COLLISION")                           \
  X(CA_ERR_REQUEST_MALFORMED, "REQUEST_MALFORMED")                         \
  X(CA_ERR_BODY_TOO_LARGE, "BODY_TOO_LARGE")                               \
  X(CA_ERR_BATCH_TOO_LARGE, "BATCH_TOO_LARGE")                             \
  X(CA_ERR_BATCH_EMPTY, "BATCH_EMPTY")                                     \
  X(CA_ERR_NOT_FOUND, "NOT_FOUND")                                         \
  X(CA_ERR_AMBIGUOUS, "AMBIGUOUS")                                         \
  X(CA_ERR_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED")                       \
  X(CA_ERR_UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")               \
  X(CA_ERR_JSON_MALFORMED, "JSON_MALFORMED")                               \
  X(CA_ERR_JSON_LIMIT_EXCEEDED, "JSON_LIMIT_EXCEEDED")                     \
  X(CA_ERR_JSON_UNKNOWN_FIELD, "JSON_UNKNOWN_FIELD")                       \
  X(CA_ERR_JSON_FIELD_INVALID, "JSON_FIELD_INVALID")                       \
  X(CA_ERR_FORMAT_UNKNOWN, "FORMAT_UNKNOWN")                               \
  X(CA_ERR_PARAMETER_INVALID, "PARAMETER_INVALID")                         \
  X(CA_ERR_CERT_MALFORMED, "CERTIFICATE_MALFORMED")                        \
  X(CA_ERR_KEY_FILE, "KEY_FILE")                                           \
  X(CA_ERR_CONFIG, "CONFIG_INVALID")                                       \
  X(CA_ERR_PEM_MALFORMED, "PEM_MALFORMED")                                 \
  X(CA_ERR_OBJECT_TOO_LARGE, "OBJECT_TOO_LARGE")                           \
  X(CA_ERR_QUEUE_FULL, "QUEUE_FULL")                                       \
  X(CA_ERR_SHUTTING_DOWN, "SHUTTING_DOWN")                                 \
  X(CA_ERR_CONFLICT, "CONFLICT")                                           \
  X(CA_ERR_ALREADY_REVOKED, "ALREADY_REVOKED")                             \
  X(CA_ERR_NOT_ON_HOLD, "NOT_ON_HOLD")                                     \
  X(CA_ERR_TRUST_STORE_UNKNOWN, "TRUST_STORE_UNKNOWN")                     \
  X(CA_ERR_CERT_NOT_CA, "CERTIFICATE_NOT_CA")                              \
  X(CA_ERR_CERT_EXPIRED, "CERTIFICATE_EXPIRED")                            \
  X(CA_ERR_IDENTITY_NOT_DELETABLE, "IDENTITY_NOT_DELETABLE")               \
  X(CA_ERR_NOT_SELF_SIGNED, "NOT_SELF_SIGNED")                             \
  X(CA_ERR_VALIDITY_UNSUPPORTED, "VALIDITY_UNSUPPORTED")                   \
  X(CA_ERR_BUNDLE_MALFORMED, "BUNDLE_MALFORMED")                           \
  X(CA_ERR_BUNDLES_TOO_FEW, "BUNDLES_TOO_FEW")                             \
  X(CA_ERR_PKCS12_PASSWORD, "PKCS12_PASSWORD_INVALID")                     \
  X(CA_ERR_DESTINATION_INVALID, "DESTINATION_INVALID")                     \
  X(CA_ERR_NOTIFY_FAILED, "NOTIFICATION_FAILED")                           \
  X(CA_ERR_UNAUTHENTICATED, "UNAUTHENTICATED")                             \
  X(CA_ERR_FORBIDDEN, "FORBIDDEN")                                         \
  X(CA_ERR_ADDRESS_NOT_ALLOWED, "ADDRESS_NOT_ALLOWED")                     \
  X(CA_ERR_REQUEST_TIMEOUT, "REQUEST_TIMEOUT")                             \
  X(CA_ERR_FRAMING_INVALID, "FRAMING_INVALID")                             \
  X(CA_ERR_BUFFERS_FULL, "BUFFERS_FULL")                                   \
  X(CA_ERR_OCSP_RESPONSE_INVALID, "OCSP_RESPONSE_INVALID")                 \
  X(CA_ERR_CRL_INVALID, "CRL_INVALID")                                     \
  X(CA_ERR_TRUST_CERT_REVOKED, "TRUST_CERT_REVOKED")                       \
  X(CA_ERR_REVOCATION_UNKNOWN, "REVOCATION_UNKNOWN")                       \
  X(CA_ERR_REVOCATION_UNREACHABLE, "REVOCATION_UNREACHABLE")               \
  X(CA_ERR_TRUST_HAS_DEPENDENTS, "TRUST_ENTRY_HAS_DEPENDENTS")             \
  X(CA_ERR_IDENTITY_EXISTS, "IDENTITY_EXISTS")                             \
  X(CA_ERR_CSR_MULTIPLE, "CSR_MULTIPLE")                                   \
  X(CA_ERR_AUDIT_TIME_INVALID, "AUDIT_TIME_INVALID")                       \
  X(CA_ERR_AUDIT_LIMIT_INVALID, "AUDIT_LIMIT_INVALID")                     \
  X(CA_ERR_AUDIT_CURSOR_INVALID, "AUDIT_CURSOR_INVALID")                   \
  X(CA_ERR_AUDIT_FILTER_INVALID, "AUDIT_FILTER_INVALID")

#define CA_ERR_ENUM_ENTRY(sym, name) sym,
typedef enum ca_err_code {
  CA_ERR_CODES(CA_ERR_ENUM_ENTRY) CA_ERR_COUNT
} ca_err_code;
#undef CA_ERR_ENUM_ENTRY

#define CA_ERR_MESSAGE_LEN 256

typedef struct ca_err {
  ca_err_code code;
  char message[CA_ERR_MESSAGE_LEN];
  // Where the error was raised, for logs; never sent to clients.
  const char *file;
  int line;
} ca_err;

// ca_err_code_name returns the stable name of |code| (a static string), or
// "INTERNAL" for a value outside the enum.
const char *ca_err_code_name(ca_err_code code);

// ca_err_set_at records an error for the calling thread, replacing any
// previous one. It also clears BoringSSL's error queue, whose entries this
// error supersedes.
void ca_err_set_at(const char *file, int line, ca_err_code code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

// ca_err_get returns the calling thread's last error. The pointer stays valid
// for the life of the thread; the contents change with the next error.
const ca_err *ca_err_get(void);

// ca_err_copy copies the calling thread's last error into |out|.
void ca_err_copy(ca_err *out);

// ca_err_restore makes |err| the calling thread's last error.
void ca_err_restore(const ca_err *err);

// ca_err_clear resets the calling thread's error to CA_OK.
void ca_err_clear(void);

// The macros below say what they check and where they go. Those named
// GUARD test the result of a call that recorded its own error; those named
// ENSURE test a condition and record |code| and a message. Plain forms jump
// to the function's |err| label, where its cleanup is (one exit shape:
// "ret = 1; err: cleanup; return ret;"); the _RETURN forms return 0 at once,
// for functions with nothing to clean up. CA_SET_ERROR records without
// going anywhere.

// CA_SET_ERROR records an error for the calling thread, with the file and
// line of the caller, and goes on.
#define CA_SET_ERROR(code, ...) \
  ca_err_set_at(__FILE__, __LINE__, (code), __VA_ARGS__)

// CA_RAISE records an error and jumps to the function's |err| label.
#define CA_RAISE(code, ...)          \
  do {                               \
    CA_SET_ERROR(code, __VA_ARGS__); \
    goto err;                        \
  } while (0)

// CA_ENSURE raises |code| unless |cond| holds.
#define CA_ENSURE(cond, code, ...) \
  do {                             \
    if (!(cond)) {                 \
      CA_RAISE(code, __VA_ARGS__); \
    }                              \
  } while (0)

// CA_GUARD jumps to |err| when a ca/ call failed; that call recorded why.
#define CA_GUARD(x) \
  do {              \
    if (!(x)) {     \
      goto err;     \
    }               \
  } while (0)

// CA_GUARD_PTR jumps to |err| when |p|, a pointer a ca/ call returned, is
// NULL; that call recorded why.
#define CA_GUARD_PTR(p) CA_GUARD((p) != NULL)

// CA_GUARD_PTR_RETURN returns 0 when |p|, a pointer a ca/ call returned, is
// NULL; that call recorded why.
#define CA_GUARD_PTR_RETURN(p) CA_GUARD_RETURN((p) != NULL)

// CA_GUARD_RETURN returns 0 when a ca/ call failed; that call recorded why.
#define CA_GUARD_RETURN(x) \
  do {                     \
    if (!(x)) {            \
      return 0;            \
    }                      \
  } while (0)

// CA_ENSURE_RETURN records |code| and returns 0 unless |cond| holds.
#define CA_ENSURE_RETURN(cond, code, ...) \
  do {                                    \
    if (!(cond)) {                        \
      CA_SET_ERROR(code, __VA_ARGS__);    \
      return 0;                           \
    }                                     \
  } while (0)

// CA_GUARD_CRYPTO wraps a BoringSSL call: a failure there means an internal
// error (bad input is checked before it reaches BoringSSL).
#define CA_GUARD_CRYPTO(x)                                     \
  do {                                                         \
    if (!(x)) {                                                \
      CA_RAISE(CA_ERR_INTERNAL, "crypto call failed: %s", #x); \
    }                                                          \
  } while (0)

// CA_ENSURE_ALLOC raises CA_ERR_NO_MEMORY when |p| is NULL.
#define CA_ENSURE_ALLOC(p) \
  CA_ENSURE((p) != NULL, CA_ERR_NO_MEMORY, "out of memory")

// CA_GUARD_CRYPTO_RETURN is CA_GUARD_CRYPTO returning 0 at once.
#define CA_GUARD_CRYPTO_RETURN(x) \
  CA_ENSURE_RETURN((x), CA_ERR_INTERNAL, "crypto call failed: %s", #x)

// CA_ENSURE_ALLOC_RETURN records CA_ERR_NO_MEMORY and returns 0 when |p| is
// NULL.
#define CA_ENSURE_ALLOC_RETURN(p) \
  CA_ENSURE_RETURN((p) != NULL, CA_ERR_NO_MEMORY, "out of memory")

#endif  // PKI_CA_ERROR_H
