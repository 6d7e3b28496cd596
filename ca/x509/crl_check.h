// Reading a CRL fetched from a distribution point (RFC 5280 5), to check
// whether a certificate pki trusts was revoked. pki's own CRLs are built in
// ca/revocation/crl.h.
#ifndef PKI_CA_CRL_CHECK_H
#define PKI_CA_CRL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/x509.h"

// What a verified CRL says of one certificate.
typedef struct ca_crl_answer {
  int revoked;
  int64_t revoked_at;  // when revoked
  int reason;          // reasonCode when revoked and given, else -1
  int64_t this_update;
  int64_t next_update;
} ca_crl_answer;

// ca_crl_check reads the DER CRL |der| (at most CA_LIMIT_REVCHECK_CRL_BYTES)
// and looks up |cert| in it. The CRL must be a v2 or v1 CertificateList
// issued by |issuer| (its issuer Name is |issuer|'s subject and its signature
// verifies under |issuer|'s key), current at |now| (thisUpdate not after
// |now| + |skew|, nextUpdate present and not before |now| - |skew|), with no
// critical extension pki does not understand (a delta CRL, or an entry of an
// indirect CRL, is refused rather than misread). It returns 0 with
// CA_ERR_CRL_INVALID and a message that says which check failed.
int ca_crl_check(const uint8_t *der, size_t der_len, const ca_x509 *cert,
                 const ca_x509 *issuer, int64_t now, int64_t skew,
                 ca_crl_answer *out) CA_MUST_CHECK;

#endif  // PKI_CA_CRL_CHECK_H
