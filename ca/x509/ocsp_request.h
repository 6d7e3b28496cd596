// OCSP requests (RFC 6960 4.1), parsed with CBS.
#ifndef PKI_CA_OCSP_REQUEST_H
#define PKI_CA_OCSP_REQUEST_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/limits.h"

typedef enum ca_ocsp_hash {
  CA_OCSP_HASH_OTHER = 0,  // a hash pki does not match on
  CA_OCSP_HASH_SHA1,
  CA_OCSP_HASH_SHA256,
} ca_ocsp_hash;

// One CertID. Views into the request buffer.
typedef struct ca_ocsp_cert_id {
  CBS element;  // the whole CertID, echoed in the response
  ca_ocsp_hash hash;
  CBS name_hash;  // issuerNameHash
  CBS key_hash;   // issuerKeyHash
  CBS serial;     // serialNumber INTEGER contents
} ca_ocsp_cert_id;

typedef struct ca_ocsp_request {
  ca_ocsp_cert_id ids[CA_LIMIT_OCSP_CERT_IDS];
  size_t count;
  int has_nonce;
  // The nonce extension's extnValue contents (the inner OCTET STRING with
  // its header), echoed as is.
  CBS nonce;
} ca_ocsp_request;

// ca_ocsp_request_parse parses the DER OCSPRequest |der| into |out| (views
// into |der|). A signature on the request is accepted and not checked: pki
// answers anyone. It returns 0 with CA_ERR_REQUEST_MALFORMED for anything
// that is not a well-formed request of 1 to CA_LIMIT_OCSP_CERT_IDS
// CertIDs, with a nonce of at most CA_LIMIT_OCSP_NONCE_BYTES and no
// unknown critical extension.
int ca_ocsp_request_parse(ca_ocsp_request *out, const uint8_t *der,
                          size_t der_len) CA_MUST_CHECK;

#endif  // PKI_CA_OCSP_REQUEST_H
