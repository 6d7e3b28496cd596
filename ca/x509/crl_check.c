#include "ca/x509/crl_check.h"
#include "ca/x509/der.h"

#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/x509_verify.h"

// The CRL extensions pki reads past when critical: the issuing distribution
// point (2.5.29.28) names the scope of a partitioned CRL, which pki fetched
// from the certificate's own distribution point.

// extensions_understood returns 1 when no extension of the Extensions
// SEQUENCE |exts| is critical unless it is one of |known|; it sets |*reason|
// to the reasonCode of an entry when asked for.
static int extensions_understood(CBS exts, int entry, int *reason) {
  while (CBS_len(&exts) > 0) {
    CBS oid, value;
    int critical;
    if (!ca_der_get_extension(&exts, &oid, &critical, &value)) {
      return 0;
    }
    if (entry && CBS_mem_equal(&oid, kOidCrlReason, sizeof(kOidCrlReason))) {
      CBS code;
      uint8_t v;
      if (!CBS_get_asn1(&value, &code, CBS_ASN1_ENUMERATED) ||
          !CBS_get_u8(&code, &v) || CBS_len(&code) != 0 || v > 10) {
        return 0;
      }
      *reason = v;
      continue;
    }
    const int known =
        !entry && (CBS_mem_equal(&oid, kOidCrlNumber, sizeof(kOidCrlNumber)) ||
                   CBS_mem_equal(&oid, kOidAuthorityKeyIdentifier,
                                 sizeof(kOidAuthorityKeyIdentifier)) ||
                   CBS_mem_equal(&oid, kOidIssuingDistributionPoint,
                                 sizeof(kOidIssuingDistributionPoint)));
    if (critical && !known) {
      return 0;
    }
  }
  return 1;
}

// find_entry looks for |serial| in revokedCertificates (SEQUENCE OF
// SEQUENCE { userCertificate, revocationDate, crlEntryExtensions }).
static int find_entry(CBS revoked, const CBS *serial, ca_crl_answer *out) {
  while (CBS_len(&revoked) > 0) {
    CBS entry, number, exts;
    int64_t when;
    int present, reason = -1;
    CA_ENSURE_RETURN(
        CBS_get_asn1(&revoked, &entry, CBS_ASN1_SEQUENCE) &&
            CBS_get_asn1(&entry, &number, CBS_ASN1_INTEGER) &&
            ca_time_parse(&entry, &when) &&
            CBS_get_optional_asn1(&entry, &exts, &present, CBS_ASN1_SEQUENCE) &&
            CBS_len(&entry) == 0 &&
            (!present || extensions_understood(exts, 1, &reason)),
        CA_ERR_CRL_INVALID, "CRL: bad or not understood revoked entry");
    if (CBS_len(&number) == CBS_len(serial) &&
        memcmp(CBS_data(&number), CBS_data(serial), CBS_len(serial)) == 0) {
      out->revoked = 1;
      out->revoked_at = when;
      out->reason = reason;
    }
  }
  return 1;
}

// parse_tbs reads TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL,
// signature, issuer, thisUpdate, nextUpdate OPTIONAL, revokedCertificates
// OPTIONAL, crlExtensions [0] EXPLICIT OPTIONAL }.
static int parse_tbs(CBS tbs_element, const ca_x509 *cert,
                     const ca_x509 *issuer, ca_crl_answer *out) {
  CBS tbs, inner_alg, name, revoked, ext_tag, exts;
  int present;
  uint64_t version = 0;
  CA_ENSURE_RETURN(
      CBS_get_asn1(&tbs_element, &tbs, CBS_ASN1_SEQUENCE) &&
          (!CBS_peek_asn1_tag(&tbs, CBS_ASN1_INTEGER) ||
           (CBS_get_asn1_uint64(&tbs, &version) && version == 1)) &&
          CBS_get_asn1(&tbs, &inner_alg, CBS_ASN1_SEQUENCE) &&
          CBS_get_asn1_element(&tbs, &name, CBS_ASN1_SEQUENCE) &&
          ca_time_parse(&tbs, &out->this_update),
      CA_ERR_CRL_INVALID, "CRL: bad TBSCertList");
  CA_ENSURE_RETURN(CBS_mem_equal(&name, CBS_data(&issuer->subject),
                                 CBS_len(&issuer->subject)),
                   CA_ERR_CRL_INVALID,
                   "CRL: issued by another CA than the certificate's");
  CA_ENSURE_RETURN(CBS_peek_asn1_tag(&tbs, CBS_ASN1_UTCTIME) ||
                       CBS_peek_asn1_tag(&tbs, CBS_ASN1_GENERALIZEDTIME),
                   CA_ERR_CRL_INVALID,
                   "CRL: no nextUpdate (RFC 5280 5.1.2.5 requires one)");
  CA_ENSURE_RETURN(
      ca_time_parse(&tbs, &out->next_update) &&
          CBS_get_optional_asn1(&tbs, &revoked, &present, CBS_ASN1_SEQUENCE) &&
          CBS_get_optional_asn1(
              &tbs, &ext_tag, &present,
              CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
          CBS_len(&tbs) == 0,
      CA_ERR_CRL_INVALID, "CRL: bad TBSCertList");
  if (present) {
    CA_ENSURE_RETURN(
        CBS_get_asn1(&ext_tag, &exts, CBS_ASN1_SEQUENCE) &&
            CBS_len(&ext_tag) == 0 && extensions_understood(exts, 0, NULL),
        CA_ERR_CRL_INVALID, "CRL: bad or not understood critical extension");
  }
  if (CBS_data(&revoked) == NULL) {
    CBS_init(&revoked, NULL, 0);
  }
  return find_entry(revoked, &cert->serial, out);
}

int ca_crl_check(const uint8_t *der, size_t der_len, const ca_x509 *cert,
                 const ca_x509 *issuer, int64_t now, int64_t skew,
                 ca_crl_answer *out) {
  memset(out, 0, sizeof(*out));
  out->reason = -1;
  CA_ENSURE_RETURN(der_len <= CA_LIMIT_REVCHECK_CRL_BYTES, CA_ERR_CRL_INVALID,
                   "CRL larger than %d bytes", CA_LIMIT_REVCHECK_CRL_BYTES);
  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
  //   signatureValue BIT STRING }: the shape of a certificate, so that the
  // certificate's signature check serves.
  ca_x509 signed_part;
  memset(&signed_part, 0, sizeof(signed_part));
  CBS in, list, bits;
  uint8_t unused;
  CBS_init(&in, der, der_len);
  CA_ENSURE_RETURN(
      CBS_get_asn1(&in, &list, CBS_ASN1_SEQUENCE) && CBS_len(&in) == 0 &&
          CBS_get_asn1_element(&list, &signed_part.tbs, CBS_ASN1_SEQUENCE) &&
          CBS_get_asn1_element(&list, &signed_part.signature_algorithm,
                               CBS_ASN1_SEQUENCE) &&
          CBS_get_asn1(&list, &bits, CBS_ASN1_BITSTRING) &&
          CBS_get_u8(&bits, &unused) && unused == 0 && CBS_len(&list) == 0,
      CA_ERR_CRL_INVALID, "not a DER CRL");
  signed_part.signature = bits;
  CA_GUARD_RETURN(parse_tbs(signed_part.tbs, cert, issuer, out));
  CBS spki = issuer->spki;
  EVP_PKEY *key = EVP_parse_public_key(&spki);
  if (key == NULL) {
    ERR_clear_error();
  }
  const int ok = key != NULL && ca_x509_verify_signed_by(&signed_part, key);
  EVP_PKEY_free(key);
  CA_ENSURE_RETURN(ok, CA_ERR_CRL_INVALID,
                   "CRL: the signature does not verify with the issuer's key");
  CA_ENSURE_RETURN(out->this_update <= now + skew, CA_ERR_CRL_INVALID,
                   "CRL: thisUpdate is in the future");
  CA_ENSURE_RETURN(out->next_update >= now - skew, CA_ERR_CRL_INVALID,
                   "CRL: stale (nextUpdate has passed)");
  return 1;
}
