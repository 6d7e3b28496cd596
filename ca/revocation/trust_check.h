// Revocation checking of certificates pki trusts (trust-store entries, and
// any other certificate of someone else that pki relies on): OCSP first (a
// responder configured for the store, else the certificate's AIA), then the
// CRL distribution points (ARCHITECTURE.md, "Revocation checking of trusted
// certificates"). The network is not here: the caller passes a fetcher
// (pkid's is libcurl, api/server/revcheck.h), so that this layer stays below
// the API and tests can serve bytes of their own.
#ifndef PKI_CA_REVOCATION_TRUST_CHECK_H
#define PKI_CA_REVOCATION_TRUST_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

typedef enum ca_revstatus {
  CA_REV_GOOD,
  CA_REV_REVOKED,
  CA_REV_UNKNOWN,      // no status could be established (a reason says why)
  CA_REV_UNREACHABLE,  // every responder and distribution point failed to
                       // answer at the transport level
  CA_REV_ANCHOR,       // a self-signed trust anchor: nothing to ask
                       // (RFC 5280 6.1: anchors are not checked)
} ca_revstatus;

#define CA_REVSTATUS_COUNT 5

// ca_revstatus_name returns "good", "revoked", "unknown", "unreachable" or
// "anchor" (static strings, the values stored and shown).
const char *ca_revstatus_name(ca_revstatus status);

// ca_revstatus_parse reads a name of ca_revstatus_name. It returns 0 with
// CA_ERR_PARAMETER_INVALID.
int ca_revstatus_parse(const char *name, ca_revstatus *out) CA_MUST_CHECK;

// A fetcher: GET |url| (|body| NULL) or POST |body| with |content_type|.
// On success it sets |*out| (OPENSSL_free) to at most |max_bytes| of the answer
// of an HTTP 200 and returns 1; otherwise it returns 0 with
// CA_ERR_REVOCATION_UNREACHABLE (no connection, a timeout, an HTTP error,
// an answer over |max_bytes|) and a message.
typedef struct ca_revcheck_fetcher {
  int (*fetch)(void *ctx, const char *url, const uint8_t *body, size_t body_len,
               const char *content_type, size_t max_bytes, uint8_t **out,
               size_t *out_len);
  void *ctx;
} ca_revcheck_fetcher;

// How a check is made.
typedef struct ca_revcheck_params {
  const char *responder_url;  // the store's responder; NULL: the AIA's
  int64_t now;
  int64_t skew;     // clock skew allowed on thisUpdate/nextUpdate
  int64_t max_age;  // an OCSP answer without nextUpdate: its oldest age
} ca_revcheck_params;

#define CA_REVCHECK_MESSAGE_LEN 256

// The outcome of one check.
typedef struct ca_revcheck_result {
  ca_revstatus status;
  char source[8];  // "ocsp", "crl" or "" when neither answered
  char url[512];   // the responder or distribution point that answered
  int64_t revoked_at;
  int reason;           // CRLReason when revoked and given, else -1
  int64_t next_update;  // of the answer; 0 when none
  int nonce_echoed;     // OCSP: the responder repeated the nonce
  char message[CA_REVCHECK_MESSAGE_LEN];  // why, for unknown and unreachable
} ca_revcheck_result;

// ca_revcheck_run checks the DER certificate |cert| against its issuer
// |issuer| (NULL when pki holds no certificate of it: the status is then
// unknown). It returns 1 with |*out| filled whatever the status, or 0 with
// CA_ERR_CERT_MALFORMED when |cert| or |issuer| does not parse, or |issuer|
// did not sign |cert|.
int ca_revcheck_run(const uint8_t *cert, size_t cert_len, const uint8_t *issuer,
                    size_t issuer_len, const ca_revcheck_params *params,
                    const ca_revcheck_fetcher *fetcher,
                    ca_revcheck_result *out) CA_MUST_CHECK;

// ca_revcheck_is_self_signed returns 1 when the DER certificate |cert| names
// itself as issuer and its signature verifies under its own key.
int ca_revcheck_is_self_signed(const uint8_t *cert, size_t cert_len);

#endif  // PKI_CA_REVOCATION_TRUST_CHECK_H
