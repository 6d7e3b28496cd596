// Revocation and CRLs: revoking, putting on hold and releasing a
// certificate, and publishing each CA's CRL.
//
// Each change is one transaction: the certificate's row, an audit row, a
// new CRL of its CA with the next CRL number, and a NOTIFY on channel
// CA_REVOCATION_CHANNEL (payload "ISSUER_ID:SERIAL") that tells every
// node's OCSP responder to forget what it cached of that certificate.
#ifndef PKI_CA_REVOKE_H
#define PKI_CA_REVOKE_H

#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/revocation/crl.h"
#include "ca/store/store.h"

#define CA_REVOCATION_CHANNEL "pki_revocation"

// How long a CRL is valid, and when a fresh one is made without a change:
// once half of that has passed (readers get a CRL with plenty of time left).
#define CA_CRL_DEFAULT_VALIDITY_SECONDS (7 * 86400)

typedef struct ca_revocation {
  const char *serial;  // hex, as the client wrote it
  const char *issuer;  // CA name, or NULL to find the serial anywhere
  int reason;          // ca_reason
  int64_t when;        // revocation time; 0 for now
  const char *actor;   // for the audit log
  const char *source;
  int64_t crl_validity_s;  // 0: CA_CRL_DEFAULT_VALIDITY_SECONDS
} ca_revocation;

// The certificate's state after the change.
typedef struct ca_revocation_result {
  char serial[CA_SERIAL_HEX_LEN];
  const ca_issuer *issuer;  // borrowed from the authority
  int revoked;
  int64_t revoked_at;
  int reason;
  uint64_t crl_number;  // of the CRL published with the change
} ca_revocation_result;

// ca_revoke revokes a certificate. A good certificate becomes revoked for
// |reason|; one on hold (certificateHold) may be revoked for good with
// another reason; every other revocation is final. It returns 0 with
// CA_ERR_NOT_FOUND, CA_ERR_AMBIGUOUS (a serial under several CAs: name the
// issuer), CA_ERR_CONFLICT (a self-signed identity: nothing of pki can
// publish its revocation), CA_ERR_ALREADY_REVOKED, CA_ERR_PARAMETER_INVALID
// (bad reason or time) or CA_ERR_STORAGE_UNAVAILABLE; nothing changes then.
int ca_revoke(const ca_authority *authority, ca_store *store,
              const ca_revocation *request,
              ca_revocation_result *out) CA_MUST_CHECK;

// ca_unhold releases a certificate on hold: it is good again. It returns 0
// with CA_ERR_NOT_ON_HOLD for any other state, or the lookup errors of
// ca_revoke.
int ca_unhold(const ca_authority *authority, ca_store *store,
              const ca_revocation *request,
              ca_revocation_result *out) CA_MUST_CHECK;

// ca_crl_current returns the current CRL of |issuer| (|out->der|, free with
// OPENSSL_free), publishing a new one first when there is none or when the
// stored one is past half its validity.
int ca_crl_current(const ca_authority *authority, ca_store *store,
                   const ca_issuer *issuer, int64_t validity_s,
                   ca_crl_row *out) CA_MUST_CHECK;

// ca_crl_publish_tx makes and stores, in |tx|, a new CRL of |issuer| with
// the next CRL number, or |min_number| when that is higher (the number
// another pki reached for the same CA: an --issued import), listing its
// revoked certificates as |tx| sees them (for changes of several
// certificates in one transaction). |out| may be NULL; else the caller
// frees |out->der| with OPENSSL_free. It returns 0 with the store's or the
// signer's error.
int ca_crl_publish_tx(const ca_issuer *issuer, ca_store_tx *tx, int64_t now,
                      int64_t validity_s, uint64_t min_number,
                      ca_crl_row *out) CA_MUST_CHECK;

#endif  // PKI_CA_REVOKE_H
