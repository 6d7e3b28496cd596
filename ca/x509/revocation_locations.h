// Where a certificate says its revocation status is published: the OCSP
// responders of its Authority Information Access (RFC 5280 4.2.2.1) and the
// CRL distribution points (4.2.1.13). Only http URLs are returned: RFC 5280
// names http as the transport of both, and pki fetches nothing else.
#ifndef PKI_CA_REVOCATION_LOCATIONS_H
#define PKI_CA_REVOCATION_LOCATIONS_H

#include <stddef.h>

#include "ca/x509/x509.h"

#define CA_REVOCATION_URLS_MAX 4
#define CA_REVOCATION_URL_LEN 512

typedef struct ca_revocation_urls {
  char ocsp[CA_REVOCATION_URLS_MAX][CA_REVOCATION_URL_LEN];
  size_t n_ocsp;
  char crl[CA_REVOCATION_URLS_MAX][CA_REVOCATION_URL_LEN];
  size_t n_crl;
} ca_revocation_urls;

// ca_revocation_urls_read fills |out| from |cert|: at most
// CA_REVOCATION_URLS_MAX of each, each shorter than CA_REVOCATION_URL_LEN,
// printable ASCII only. Locations that are malformed, too long or not http
// are skipped: a certificate that names none gets empty lists.
void ca_revocation_urls_read(const ca_x509 *cert, ca_revocation_urls *out);

#endif  // PKI_CA_REVOCATION_LOCATIONS_H
