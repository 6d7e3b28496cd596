// Certificates-only PKCS#7 (RFC 2315 / RFC 5652 "degenerate" SignedData),
// the .p7b chain format CUCM and browsers import.
#ifndef PKI_CA_PKCS7_H
#define PKI_CA_PKCS7_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// ca_pkcs7_add_certificates appends a ContentInfo holding a SignedData with
// the |n| DER certificates |certs| (|lens| bytes each) and no signers. The
// certificates are written in DER SET OF order; readers rebuild the chain
// from the names, not the order.
int ca_pkcs7_add_certificates(CBB *out, const uint8_t *const *certs,
                              const size_t *lens, size_t n) CA_MUST_CHECK;

// ca_pkcs7_get_certificates reads a certificates-only (or signed) PKCS#7
// ContentInfo in |in| and sets |out_certs| to views of up to |max_certs|
// certificate elements, their count in |*out_n|. It returns 0 with
// CA_ERR_CERT_MALFORMED for anything else or for more than |max_certs|.
int ca_pkcs7_get_certificates(CBS *in, CBS *out_certs, size_t max_certs,
                              size_t *out_n) CA_MUST_CHECK;

#endif  // PKI_CA_PKCS7_H
