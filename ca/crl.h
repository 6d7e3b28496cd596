// Certificate revocation lists (RFC 5280 section 5) and the revocation
// reasons they share with OCSP.
#ifndef PKI_CA_CRL_H
#define PKI_CA_CRL_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/authority.h"
#include "ca/error.h"
#include "ca/serial.h"

// CRLReason (RFC 5280 5.3.1). 7 is unused; removeFromCRL (8) exists only in
// delta CRLs, which pki does not publish.
typedef enum ca_reason {
  CA_REASON_UNSPECIFIED = 0,
  CA_REASON_KEY_COMPROMISE = 1,
  CA_REASON_CA_COMPROMISE = 2,
  CA_REASON_AFFILIATION_CHANGED = 3,
  CA_REASON_SUPERSEDED = 4,
  CA_REASON_CESSATION_OF_OPERATION = 5,
  CA_REASON_CERTIFICATE_HOLD = 6,
  CA_REASON_PRIVILEGE_WITHDRAWN = 9,
  CA_REASON_AA_COMPROMISE = 10,
} ca_reason;

// ca_reason_parse reads a reason by name ("keyCompromise", any case; also
// "key-compromise") or number. It returns 0 with CA_ERR_PARAMETER_INVALID
// for anything else, including 7 and removeFromCRL (8).
int ca_reason_parse(const char *text, ca_reason *out) CA_MUST_CHECK;

// ca_reason_valid returns 1 when |code| is a reason pki accepts.
int ca_reason_valid(int code);

// ca_reason_name returns the RFC 5280 name of |reason| ("keyCompromise").
const char *ca_reason_name(int reason);

typedef struct ca_crl_entry {
  ca_serial serial;
  int64_t revoked_at;
  int reason;  // ca_reason
} ca_crl_entry;

// ca_crl_build signs a v2 CRL of |issuer| with |key|: number |crl_number|,
// thisUpdate |this_update|, nextUpdate |next_update|, the |n| |entries|
// (each with a reasonCode entry extension unless unspecified, which RFC 5280
// 5.3.1 says SHOULD be absent), and the authorityKeyIdentifier and
// cRLNumber extensions RFC 5280 5.2 requires. It sets |*out_der| to a new
// buffer (OPENSSL_free). It returns 0 with CA_ERR_INTERNAL.
int ca_crl_build(const ca_issuer *issuer, EVP_PKEY *key, uint64_t crl_number,
                 int64_t this_update, int64_t next_update,
                 const ca_crl_entry *entries, size_t n, uint8_t **out_der,
                 size_t *out_len) CA_MUST_CHECK;

#endif  // PKI_CA_CRL_H
