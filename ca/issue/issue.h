// Issuing leaf certificates: from a client's CSR to a signed certificate.
// Nothing here touches the database: the engine (ca/issue/engine.h)
// records what these functions make, and hands nothing out before that
// (invariant 1).
//
// The order of checks is: decode and parse the request, apply the profile to
// its key, subject and SANs, verify its signature (the costly step, last
// among the checks), then sign. Every refusal names a stable error code.
#ifndef PKI_CA_ISSUE_H
#define PKI_CA_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/issue/issuer_keys.h"
#include "ca/issue/keypool.h"
#include "ca/limits.h"
#include "ca/store/store.h"
#include "ca/x509/key.h"
#include "ca/x509/name.h"
#include "ca/x509/serial.h"

typedef struct ca_issue_request {
  const char *profile;  // NUL-terminated profile name
  const uint8_t *csr;   // DER or PEM
  size_t csr_len;
  uint32_t validity_days;  // 0: the profile default
  // Server-side key generation (POST /v1/keys:generate): when |generate| is
  // set, pki makes a key of that kind and a request for it from |subject|
  // and |sans|, and issues for that request; |csr| is unused.
  const ca_key_spec *generate;
  const ca_name_fields *subject;
  const char *const *sans;
  size_t san_count;
  // The cluster whose node holds the certificate, recorded with it; NULL
  // for none. Checked by the caller (ca_bulk_cluster_check).
  const char *cluster;
  // Self-signed identities (ca/issue/self_signed.h): with |generate|, a nonzero
  // |self_signed_years| makes the certificate its own issuer, signed by the
  // generated key and valid that many calendar years; |validity_days| is
  // then unused.
  uint32_t self_signed_years;
} ca_issue_request;

// The outcome of one request. |err.code| is CA_OK when a certificate was
// made; otherwise only |err| is meaningful.
typedef struct ca_issued {
  ca_err err;
  const ca_profile *profile;  // borrowed from the authority
  const ca_issuer *issuer;    // borrowed from the authority; NULL when
                              // self-signed
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
  // The CRL shard its distribution point names (ca/x509/crl_dp.h); 0 for
  // the CA-wide CRL alone.
  unsigned crl_shard;
  // For a generated key: the private key, PKCS#8 DER, owned and cleansed on
  // cleanup. It leaves the service once, in the response (invariant 7).
  uint8_t *private_key;
  size_t private_key_len;
  int key_from_pool;
} ca_issued;

// ca_issue_sign checks |request| against its profile and, when it passes,
// signs a certificate valid from |now| into |out| (which it initialises),
// with the calling thread's copy of the issuer key from |keys| (NULL: the
// authority's own key). It returns 1 with a certificate, or 0 with
// |out->err| set (and also the thread's error). Nothing is stored.
int ca_issue_sign(const ca_authority *authority, const ca_issuer_keys *keys,
                  const ca_issue_request *request, int64_t now,
                  ca_issued *out) CA_MUST_CHECK;

// ca_issue_generate makes a key of |request->generate| (from |pool| when it
// has one ready; |pool| may be NULL), a request for it, and issues the
// certificate like ca_issue_sign, keeping the private key in |out|. With
// |request->self_signed_years| the certificate is self-signed instead (see
// ca/issue/self_signed.h; |keys| is then unused and |out->issuer| is NULL). It
// returns 0 with |out->err| set.
int ca_issue_generate(const ca_authority *authority, const ca_issuer_keys *keys,
                      ca_keypool *pool, const ca_issue_request *request,
                      int64_t now, ca_issued *out) CA_MUST_CHECK;

// ca_issued_cleanup frees what |issued| owns and zeroes it.
void ca_issued_cleanup(ca_issued *issued);

// ca_issued_fail replaces a made certificate with the error |err|, freeing
// the certificate: used when it could not be recorded.
void ca_issued_fail(ca_issued *issued, const ca_err *err);

#endif  // PKI_CA_ISSUE_H
