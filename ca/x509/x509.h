// A minimal X.509 certificate reader (RFC 5280 4.1) over CBS: enough for
// pki's own CAs, for tests, and for certificates uploaded to trust stores.
#ifndef PKI_CA_X509_H
#define PKI_CA_X509_H

#include <openssl/bytestring.h>
#include <stdint.h>

#include "ca/error.h"

#define CA_KEY_ID_LEN 20

// Views into the DER buffer given to ca_x509_parse, which must outlive this.
typedef struct ca_x509 {
  CBS tbs;                  // the TBSCertificate element: the signed bytes
  CBS serial;               // contents of the serialNumber INTEGER
  CBS signature_algorithm;  // the outer AlgorithmIdentifier element
  CBS issuer;               // Name element
  CBS subject;              // Name element
  CBS spki;                 // SubjectPublicKeyInfo element
  CBS extensions;  // contents of the Extensions SEQUENCE; empty if none
  CBS signature;   // signature value without the unused-bits octet
  int64_t not_before;
  int64_t not_after;
} ca_x509;

// ca_x509_parse parses the DER certificate |der| into |out|. Only v3
// certificates are accepted. It returns 0 with CA_ERR_CERT_MALFORMED.
int ca_x509_parse(ca_x509 *out, const uint8_t *der,
                  size_t der_len) CA_MUST_CHECK;

// ca_x509_find_extension looks up the extension |oid| (content octets). When
// present it sets |*out_value| to the extnValue contents and
// |*out_critical|, and returns 1; when absent it returns 0 without raising.
int ca_x509_find_extension(const ca_x509 *cert, const uint8_t *oid,
                           size_t oid_len, CBS *out_value, int *out_critical);

// ca_spki_key_id computes the key identifier of RFC 5280 4.2.1.2 method (1):
// the SHA-1 hash of the subjectPublicKey BIT STRING value of the
// SubjectPublicKeyInfo element |spki|. It returns 0 with
// CA_ERR_CERT_MALFORMED.
int ca_spki_key_id(const CBS *spki, uint8_t out[CA_KEY_ID_LEN]) CA_MUST_CHECK;

#endif  // PKI_CA_X509_H
