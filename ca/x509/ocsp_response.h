// OCSP responses (RFC 6960 4.2), built with CBB.
#ifndef PKI_CA_OCSP_RESPONSE_H
#define PKI_CA_OCSP_RESPONSE_H

#include <openssl/base.h>
#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/csr.h"
#include "ca/x509/x509.h"

// OCSPResponseStatus (RFC 6960 4.2.1).
typedef enum ca_ocsp_status {
  CA_OCSP_SUCCESSFUL = 0,
  CA_OCSP_MALFORMED_REQUEST = 1,
  CA_OCSP_INTERNAL_ERROR = 2,
  CA_OCSP_TRY_LATER = 3,
  CA_OCSP_SIG_REQUIRED = 5,
  CA_OCSP_UNAUTHORIZED = 6,
} ca_ocsp_status;

typedef enum ca_ocsp_cert_status {
  CA_OCSP_GOOD,
  CA_OCSP_REVOKED,
  CA_OCSP_UNKNOWN,
} ca_ocsp_cert_status;

// The answer about one certificate.
typedef struct ca_ocsp_single {
  CBS cert_id;  // the request's CertID element, echoed
  ca_ocsp_cert_status status;
  int64_t revoked_at;  // when revoked
  int reason;          // CRLReason when revoked
  int64_t this_update;
  int64_t next_update;
} ca_ocsp_single;

// Who signs: the issuing CA itself, or a delegated responder whose
// certificate (issued by that CA) travels in the response.
typedef struct ca_ocsp_signer {
  EVP_PKEY *key;
  ca_key_type key_type;
  const EVP_MD *digest;
  uint8_t key_hash[CA_KEY_ID_LEN];  // SHA-1 of the signer's public key
  const uint8_t *cert;              // delegated responder's DER; NULL for
  size_t cert_len;                  // the CA
} ca_ocsp_signer;

// ca_ocsp_response_build builds a successful OCSPResponse holding a
// BasicOCSPResponse of |n| SingleResponses, signed by |signer|: ResponderID
// by key hash, producedAt |produced_at|, the nonce extension with the
// extnValue |nonce| when it is not NULL. It sets |*out| to a new buffer
// (OPENSSL_free). It returns 0 with CA_ERR_INTERNAL.
int ca_ocsp_response_build(const ca_ocsp_signer *signer,
                           const ca_ocsp_single *singles, size_t n,
                           const CBS *nonce, int64_t produced_at, uint8_t **out,
                           size_t *out_len) CA_MUST_CHECK;

// ca_ocsp_error_response writes the five bytes of an OCSPResponse with
// |status| and no response bytes (malformedRequest, unauthorized, ...)
// into |out|.
void ca_ocsp_error_response(ca_ocsp_status status, uint8_t out[5]);

#endif  // PKI_CA_OCSP_RESPONSE_H
