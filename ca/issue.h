// Issuing leaf certificates: from a client's CSR to a signed certificate
// recorded in the database.
//
// The order of checks is: decode and parse the request, apply the profile to
// its key, subject and SANs, verify its signature (the costly step, last
// among the checks), then sign. Every refusal names a stable error code.
#ifndef PKI_CA_ISSUE_H
#define PKI_CA_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "ca/authority.h"
#include "ca/error.h"
#include "ca/issuer_keys.h"
#include "ca/limits.h"
#include "ca/serial.h"
#include "ca/store.h"

typedef struct ca_issue_request {
  const char *profile;  // NUL-terminated profile name
  const uint8_t *csr;   // DER or PEM
  size_t csr_len;
  uint32_t validity_days;  // 0: the profile default
} ca_issue_request;

// The outcome of one request. |err.code| is CA_OK when a certificate was
// made; otherwise only |err| is meaningful.
typedef struct ca_issued {
  ca_err err;
  const ca_profile *profile;  // borrowed from the authority
  const ca_issuer *issuer;    // borrowed from the authority
  ca_serial serial;
  char serial_hex[CA_SERIAL_HEX_LEN];
  uint8_t *der;  // owned
  size_t der_len;
  int64_t not_before;
  int64_t not_after;
  char *subject;  // RFC 4514, owned
  char common_name[CA_LIMIT_CN_LEN + 1];
  const char *sans[CA_LIMIT_SAN_COUNT];  // point into |san_text|
  size_t san_count;
  char *san_text;  // owned
  ca_key_info key;
  uint8_t csr_sha256[32];
} ca_issued;

// ca_issue_sign checks |request| against its profile and, when it passes,
// signs a certificate valid from |now| into |out| (which it initialises),
// with the calling thread's copy of the issuer key from |keys| (NULL: the
// authority's own key). It returns 1 with a certificate, or 0 with
// |out->err| set (and also the thread's error). Nothing is stored.
int ca_issue_sign(const ca_authority *authority, const ca_issuer_keys *keys,
                  const ca_issue_request *request, int64_t now,
                  ca_issued *out) CA_MUST_CHECK;

// ca_issued_cleanup frees what |issued| owns and zeroes it.
void ca_issued_cleanup(ca_issued *issued);

// ca_issued_fail replaces a made certificate with the error |err|, freeing
// the certificate: used when it could not be recorded.
void ca_issued_fail(ca_issued *issued, const ca_err *err);

#endif  // PKI_CA_ISSUE_H
