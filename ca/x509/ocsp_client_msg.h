// The client side of OCSP (RFC 6960): the request pki sends about a
// certificate it trusts, and the checks of the answer. The server side
// (ocsp_request.h parses requests, ocsp_response.h builds answers) shares
// the CertID and status types.
#ifndef PKI_CA_OCSP_CLIENT_MSG_H
#define PKI_CA_OCSP_CLIENT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/ocsp_response.h"
#include "ca/x509/serial.h"
#include "ca/x509/x509.h"

// The nonce pki sends: 32 random octets, the most RFC 8954 2.1 allows.
#define CA_OCSP_CLIENT_NONCE_LEN 32

// One question about one certificate, and what its answer must match.
typedef struct ca_ocsp_query {
  uint8_t *der;  // the DER OCSPRequest, owned (ca_ocsp_query_cleanup)
  size_t der_len;
  uint8_t name_hash[CA_KEY_ID_LEN];  // SHA-1 of the issuer's Name
  uint8_t key_hash[CA_KEY_ID_LEN];   // SHA-1 of the issuer's public key
  uint8_t serial[CA_SERIAL_MAX_LEN + 1];
  size_t serial_len;
  uint8_t nonce[CA_OCSP_CLIENT_NONCE_LEN];
} ca_ocsp_query;

// ca_ocsp_query_build builds the request about |cert| issued by |issuer|: one
// SHA-1 CertID (the hash every responder answers, RFC 5019 2.1.1) and a fresh
// nonce. The request is parsed back with ca_ocsp_request_parse, so that pki
// never sends what its own responder would refuse. |out| owns the request.
// It returns 0 with CA_ERR_CERT_MALFORMED (a serial too long) or
// CA_ERR_INTERNAL.
int ca_ocsp_query_build(const ca_x509 *cert, const ca_x509 *issuer,
                        ca_ocsp_query *out) CA_MUST_CHECK;

// ca_ocsp_query_cleanup frees what |q| owns. Accepts a zeroed query.
void ca_ocsp_query_cleanup(ca_ocsp_query *q);

// What a verified answer says.
typedef struct ca_ocsp_answer {
  ca_ocsp_cert_status status;
  int64_t revoked_at;  // when revoked
  int reason;          // CRLReason when revoked and given, else -1
  int64_t this_update;
  int64_t next_update;  // 0 when the responder gave none
  int nonce_echoed;     // the responder repeated the nonce (and it matched)
  int delegated;        // signed by a delegated responder, not the CA
} ca_ocsp_answer;

// ca_ocsp_answer_verify reads the DER OCSPResponse |der| (at most
// CA_LIMIT_OCSP_RESPONSE_BYTES) given to |q| and checks it as RFC 6960 says:
//   - responseStatus successful and a BasicOCSPResponse;
//   - signed by |issuer| itself, or by a delegated responder whose
//     certificate travels in the response, names |issuer| as its issuer,
//     verifies under its key, has id-kp-OCSPSigning and is valid at |now|
//     (4.2.2.2);
//   - a SingleResponse whose CertID matches |q| (SHA-1 or SHA-256);
//   - thisUpdate not after |now| + |skew| and nextUpdate, when present, not
//     before |now| - |skew|; without nextUpdate, thisUpdate not older than
//     |max_age| (4.2.2.1);
//   - a nonce, when the responder echoes one, equal to the one sent (a
//     responder may leave it out, RFC 8954 3: the freshness checks then
//     bound a replay).
// It returns 0 with CA_ERR_OCSP_RESPONSE_INVALID and a message that says
// which check failed.
int ca_ocsp_answer_verify(const uint8_t *der, size_t der_len,
                          const ca_ocsp_query *q, const ca_x509 *issuer,
                          int64_t now, int64_t skew, int64_t max_age,
                          ca_ocsp_answer *out) CA_MUST_CHECK;

#endif  // PKI_CA_OCSP_CLIENT_MSG_H
