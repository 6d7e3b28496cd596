#include "ca/x509/revocation_locations.h"

#include <string.h>
#include <strings.h>

#include "ca/oid.h"

// The uniformResourceIdentifier of a GeneralName: [6] IMPLICIT IA5String.
#define URI_TAG (CBS_ASN1_CONTEXT_SPECIFIC | 6)

static void add_url(const CBS *uri, char list[][CA_REVOCATION_URL_LEN],
                    size_t *n) {
  const size_t len = CBS_len(uri);
  if (*n >= CA_REVOCATION_URLS_MAX || len >= CA_REVOCATION_URL_LEN || len < 8 ||
      strncasecmp((const char *)CBS_data(uri), "http://", 7) != 0) {
    return;
  }
  for (size_t i = 0; i < len; i++) {
    const uint8_t c = CBS_data(uri)[i];
    if (c <= 0x20 || c >= 0x7f) {
      return;
    }
  }
  memcpy(list[*n], CBS_data(uri), len);
  list[*n][len] = '\0';
  (*n)++;
}

// AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription
// AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation
//   GeneralName }
static void read_aia(CBS value, ca_revocation_urls *out) {
  CBS list, desc, method, location;
  unsigned tag;
  if (!CBS_get_asn1(&value, &list, CBS_ASN1_SEQUENCE)) {
    return;
  }
  while (CBS_get_asn1(&list, &desc, CBS_ASN1_SEQUENCE)) {
    if (CBS_get_asn1(&desc, &method, CBS_ASN1_OBJECT) &&
        CBS_mem_equal(&method, kOidAdOcsp, sizeof(kOidAdOcsp)) &&
        CBS_get_any_asn1(&desc, &location, &tag) && tag == URI_TAG) {
      add_url(&location, out->ocsp, &out->n_ocsp);
    }
  }
}

// CRLDistributionPoints ::= SEQUENCE OF DistributionPoint
// DistributionPoint ::= SEQUENCE { distributionPoint [0] EXPLICIT
//   DistributionPointName OPTIONAL, reasons [1], cRLIssuer [2] }
// DistributionPointName ::= CHOICE { fullName [0] IMPLICIT GeneralNames, ...}
// A point with a cRLIssuer (an indirect CRL) is skipped: pki checks CRLs
// signed by the certificate's issuer.
static void read_cdp(CBS value, ca_revocation_urls *out) {
  CBS list, point, name_tag, full, uri;
  int present;
  unsigned tag;
  if (!CBS_get_asn1(&value, &list, CBS_ASN1_SEQUENCE)) {
    return;
  }
  while (CBS_get_asn1(&list, &point, CBS_ASN1_SEQUENCE)) {
    if (!CBS_get_optional_asn1(
            &point, &name_tag, &present,
            CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
        !present ||
        !CBS_get_asn1(&name_tag, &full,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
        CBS_peek_asn1_tag(
            &point, CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2)) {
      continue;
    }
    while (CBS_get_any_asn1(&full, &uri, &tag)) {
      if (tag == URI_TAG) {
        add_url(&uri, out->crl, &out->n_crl);
      }
    }
  }
}

void ca_revocation_urls_read(const ca_x509 *cert, ca_revocation_urls *out) {
  memset(out, 0, sizeof(*out));
  CBS value;
  int critical;
  if (ca_x509_find_extension(cert, kOidAuthorityInfoAccess,
                             sizeof(kOidAuthorityInfoAccess), &value,
                             &critical)) {
    read_aia(value, out);
  }
  if (ca_x509_find_extension(cert, kOidCrlDistributionPoints,
                             sizeof(kOidCrlDistributionPoints), &value,
                             &critical)) {
    read_cdp(value, out);
  }
}
