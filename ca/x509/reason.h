// Revocation reasons (RFC 5280 section 5.3.1), shared by CRLs and OCSP.
#ifndef PKI_CA_REASON_H
#define PKI_CA_REASON_H

#include "ca/error.h"

// CRLReason (RFC 5280 5.3.1). 7 is unused; removeFromCRL (8) exists only in
// delta CRLs, which pki does not publish.
typedef enum ca_reason {
  CA_REASON_UNSPECIFIED = 0,
  CA_REASON_KEY_COMPROMISE = 1,
  CA_REASON_CA_COMPROMISE = 2,
  CA_REASON_AFFILIATION_CHANGED = 3,
  CA_REASON_SUPERSEDED = 4,
  CA_REASON_CESSATION_OF_OPERATION = 5,
  CA_REASON_CERTIFICATE_HOLD = 6,
  CA_REASON_PRIVILEGE_WITHDRAWN = 9,
  CA_REASON_AA_COMPROMISE = 10,
} ca_reason;

// ca_reason_parse reads a reason by name ("keyCompromise", any case; also
// "key-compromise") or number. It returns 0 with CA_ERR_PARAMETER_INVALID
// for anything else, including 7 and removeFromCRL (8).
int ca_reason_parse(ca_reason *out, const char *text) CA_MUST_CHECK;

// ca_reason_valid returns 1 when |code| is a reason pki accepts.
int ca_reason_valid(int code);

// ca_reason_name returns the RFC 5280 name of |reason| ("keyCompromise").
const char *ca_reason_name(int reason);

#endif  // PKI_CA_REASON_H
