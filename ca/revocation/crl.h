// Certificate revocation lists (RFC 5280 section 5), encoded as a stream.
//
// A CRL is written without being held: its entries are read twice from a
// source (once to learn the length of the list, which DER writes before
// it, once to write them), the TBSCertList is hashed as it is written, and
// the digest signed. The signature's length is fixed before it is made (an
// ECDSA signature is drawn again until its DER takes the most octets the
// curve allows, about four draws), so the CRL's length is known before its
// first byte. Memory stays the same whatever the number of entries.
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

// Where a CRL's entries come from. |next| sets |*out_n| to the number of
// entries it wrote into |out| (at most |cap|), 0 at the end; |rewind|
// starts them again: the same entries, in the same order. |measure|, when
// not NULL, tells how many entries there are and the octets of their DER
// encodings (ca_crl_entry_len each) without reading them: the entries are
// then read once instead of twice. A CRL whose entries turn out to differ
// from what |measure| or the first read told fails with CA_ERR_INTERNAL
// ("changed between two reads"), whatever was written.
typedef struct ca_crl_source {
  int (*next)(void *arg, ca_crl_entry *out, size_t cap, size_t *out_n);
  int (*rewind)(void *arg);
  void *arg;
  int (*measure)(void *arg, size_t *out_n, size_t *out_len);
} ca_crl_source;

// Where a CRL's bytes go: |begin| is told its length, then |write| gets
// every byte, in order, in pieces of at most CA_CRL_CHUNK.
typedef struct ca_crl_sink {
  int (*begin)(void *arg, size_t der_len);
  int (*write)(void *arg, const uint8_t *data, size_t len);
  void *arg;
} ca_crl_sink;

#define CA_CRL_CHUNK (256 * 1024)

// What a CRL says besides its entries.
typedef struct ca_crl_info {
  uint64_t number;  // cRLNumber
  int64_t this_update;
  int64_t next_update;
  // The distributionPoint of a critical issuingDistributionPoint (RFC 5280
  // 5.2.5), the URL the certificates it covers name in their
  // cRLDistributionPoints; NULL for a CRL of every certificate of the CA.
  const char *idp_url;
} ca_crl_info;

// ca_crl_stream signs a v2 CRL of |issuer| with |key| described by |info|,
// listing the entries of |source| (each with a reasonCode entry extension
// unless unspecified, which RFC 5280 5.3.1 says SHOULD be absent), with the
// authorityKeyIdentifier and cRLNumber extensions RFC 5280 5.2 requires,
// and writes it to |sink|. |*out_entries| (may be NULL) is the number of
// entries. It returns 0 with CA_ERR_INTERNAL, or the source's or sink's
// error.
int ca_crl_stream(const ca_issuer *issuer, EVP_PKEY *key,
                  const ca_crl_info *info, const ca_crl_source *source,
                  const ca_crl_sink *sink, size_t *out_entries) CA_MUST_CHECK;

// ca_crl_build is ca_crl_stream of the |n| |entries| into a new buffer
// |*out_der| (OPENSSL_free), for a CRL without an issuingDistributionPoint.
int ca_crl_build(const ca_issuer *issuer, EVP_PKEY *key, uint64_t crl_number,
                 int64_t this_update, int64_t next_update,
                 const ca_crl_entry *entries, size_t n, uint8_t **out_der,
                 size_t *out_len) CA_MUST_CHECK;

#endif  // PKI_CA_CRL_H
