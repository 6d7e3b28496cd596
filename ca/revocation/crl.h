// Certificate revocation lists (RFC 5280 section 5).
#ifndef PKI_CA_CRL_H
#define PKI_CA_CRL_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/x509/reason.h"
#include "ca/x509/serial.h"

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
