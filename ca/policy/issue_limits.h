// The limits of issuance that an operator sets at run time (pkid's
// --max-csr-bytes and --max-sans), within the ceilings of ca/limits.h.
//
// ca/ never reads pkid's configuration: the daemon fills a ca_issue_limits
// and hands it down in ca_authority_config, and every issuance of that
// authority (client CSRs, generated keys, self-signed identities) applies it.
#ifndef PKI_CA_ISSUE_LIMITS_H
#define PKI_CA_ISSUE_LIMITS_H

#include <stddef.h>

#include "ca/error.h"

typedef struct ca_issue_limits {
  // A client's CSR in DER at most; in PEM the text may be twice this. Between
  // CA_LIMIT_CSR_BYTES_MIN and CA_LIMIT_CSR_BYTES; 0 means the ceiling.
  size_t csr_bytes;
  // Subject alternative names of one certificate at most. 1 to
  // CA_LIMIT_SAN_COUNT; 0 means the ceiling.
  size_t san_count;
} ca_issue_limits;

// ca_issue_limits_init sets the defaults, which are the ceilings:
// CA_LIMIT_CSR_BYTES and CA_LIMIT_SAN_COUNT.
void ca_issue_limits_init(ca_issue_limits *limits);

// ca_issue_limits_check returns 1 when every field of |limits| is 0 or within
// its range, else 0 with CA_ERR_CONFIG naming the field and its range.
int ca_issue_limits_check(const ca_issue_limits *limits) CA_MUST_CHECK;

// ca_issue_limits_csr_bytes returns the CSR limit in force: the field, or
// the ceiling when it is 0 or above the ceiling.
size_t ca_issue_limits_csr_bytes(const ca_issue_limits *limits);

// ca_issue_limits_san_count is ca_issue_limits_csr_bytes for the SAN count.
size_t ca_issue_limits_san_count(const ca_issue_limits *limits);

#endif  // PKI_CA_ISSUE_LIMITS_H
