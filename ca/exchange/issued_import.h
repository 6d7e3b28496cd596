// Importing the certificates another pki issued (bulk import --issued): a
// restore or a migration onto an instance that holds the same CAs (pkid
// --adopt-cas). Each certificate keeps its serial, issuer, profile, DER,
// requester, key origin, cluster and revocation state, so that the OCSP
// answers and CRLs of the new instance match those of the old one.
#ifndef PKI_CA_ISSUED_IMPORT_H
#define PKI_CA_ISSUED_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/store/store.h"
#include "ca/store/store_issued.h"

// One certificate of an --issued bundle. Borrowed pointers.
typedef struct ca_issued_entry {
  const uint8_t *der;
  size_t der_len;
  const char *issuer;  // the exporter's CA name; "" for a self-signed one
  const char *serial;  // as the exporter wrote it; the DER's must match
  const char *profile;
  const char *cluster;    // "" for none
  const char *requester;  // "" for unknown
  int key_generated;
  int revoked;
  int64_t revoked_at;
  int reason;
} ca_issued_entry;

typedef struct ca_issued_import_request {
  const ca_issued_entry *entries;
  size_t n_entries;
  // The exporter's CA certificates (Bundle.ca_certificates).
  const uint8_t *const *ca_ders;
  const size_t *ca_lens;
  size_t n_cas;
  // The numbers of the exporter's current CRLs, by CA name: this pki's
  // next CRL of such a CA is numbered above (RFC 5280 5.2.3).
  const char *const *crl_cas;
  const uint64_t *crl_numbers;
  size_t n_crl_numbers;
  const char *actor;  // for the audit log
  const char *source;
  int64_t crl_validity_s;  // of the CRLs made; 0: the default
} ca_issued_import_request;

typedef struct ca_issued_import_summary {
  size_t added;      // new certificates
  size_t updated;    // known ones whose revocation state changed
  size_t unchanged;  // known ones left as they were
  size_t crls;       // CRLs published (one per CA touched)
} ca_issued_import_summary;

// ca_issued_import stores the entries of |req| under the CAs of
// |authority|, all in one transaction with one audit row (action
// "bulk-import", object "issued"): stored whole or not at all.
//
// An entry's CA is the CA of this pki named |issuer| whose certificate is
// among |req|'s CA certificates (the same DER): else CA_ERR_ISSUER_UNAVAILABLE
// naming it. The DER is the truth: its serial must be the entry's, its
// issuer name the CA's subject, and its signature must verify with the
// CA's key (self-signed ones with their own key), else
// CA_ERR_BUNDLE_MALFORMED naming the entry. Subject, SANs, key and
// validity are read from it.
//
// A certificate already stored (same CA and serial) with another DER is
// CA_ERR_CONFLICT; with the same DER its revocation state follows the
// entry's, except that a final revocation (any reason but
// certificateHold) is never changed: good -> revoked, on hold -> revoked
// or good, revoked -> unchanged. Each CA with an added or changed
// certificate, or whose CRL number here is not above the exporter's, gets a
// new CRL numbered above both; a NOTIFY on CA_ISSUED_CHANNEL (when
// certificates were added) and one on CA_REVOCATION_CHANNEL per changed
// certificate make every node's OCSP responder forget what it cached.
int ca_issued_import(const ca_authority *authority, ca_store *store,
                     const ca_issued_import_request *req,
                     ca_issued_import_summary *out) CA_MUST_CHECK;

#endif  // PKI_CA_ISSUED_IMPORT_H
