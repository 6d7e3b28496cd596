#include "ca/x509/x509.h"

#include <openssl/sha.h>
#include <string.h>

#include "ca/x509/asn1_time.h"
#include "ca/x509/der.h"

int ca_x509_parse(ca_x509 *out, const uint8_t *der, size_t der_len) {
  memset(out, 0, sizeof(*out));
  CBS in, cert, tbs, version, validity, sig_bits;
  CBS_init(&in, der, der_len);
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
  //                            signatureValue BIT STRING }
  CA_ENSURE_RETURN(
      CBS_get_asn1(&in, &cert, CBS_ASN1_SEQUENCE) && CBS_len(&in) == 0,
      CA_ERR_CERT_MALFORMED, "certificate is not a DER SEQUENCE");
  // Strict DER throughout (ca/x509/der.h), before any field is read.
  CA_ENSURE_RETURN(ca_der_check(&cert), CA_ERR_CERT_MALFORMED,
                   "certificate is not strict DER (a non-minimal length, tag, "
                   "INTEGER or BOOLEAN, or a constructed string)");
  CA_ENSURE_RETURN(CBS_get_asn1_element(&cert, &out->tbs, CBS_ASN1_SEQUENCE) &&
                       CBS_get_asn1_element(&cert, &out->signature_algorithm,
                                            CBS_ASN1_SEQUENCE),
                   CA_ERR_CERT_MALFORMED, "certificate: bad structure");
  uint8_t unused_bits;
  CA_ENSURE_RETURN(CBS_get_asn1(&cert, &sig_bits, CBS_ASN1_BITSTRING) &&
                       CBS_get_u8(&sig_bits, &unused_bits) &&
                       unused_bits == 0 && CBS_len(&cert) == 0,
                   CA_ERR_CERT_MALFORMED, "certificate: bad signature");
  out->signature = sig_bits;

  // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
  //   serialNumber, signature, issuer, validity, subject,
  //   subjectPublicKeyInfo, issuerUniqueID [1], subjectUniqueID [2],
  //   extensions [3] EXPLICIT Extensions }
  CBS tbs_element = out->tbs;
  CA_ENSURE_RETURN(CBS_get_asn1(&tbs_element, &tbs, CBS_ASN1_SEQUENCE),
                   CA_ERR_CERT_MALFORMED, "certificate: bad TBSCertificate");
  uint64_t v;
  CA_ENSURE_RETURN(
      CBS_get_asn1(&tbs, &version,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
          CBS_get_asn1_uint64(&version, &v) && v == 2 && CBS_len(&version) == 0,
      CA_ERR_CERT_MALFORMED, "certificate: not a v3 certificate");
  CA_ENSURE_RETURN(CBS_get_asn1(&tbs, &out->serial, CBS_ASN1_INTEGER),
                   CA_ERR_CERT_MALFORMED, "certificate: bad serial");
  CBS inner_alg;
  CA_ENSURE_RETURN(
      CBS_get_asn1_element(&tbs, &inner_alg, CBS_ASN1_SEQUENCE) &&
          CBS_get_asn1_element(&tbs, &out->issuer, CBS_ASN1_SEQUENCE) &&
          CBS_get_asn1(&tbs, &validity, CBS_ASN1_SEQUENCE),
      CA_ERR_CERT_MALFORMED, "certificate: bad issuer or validity");
  // RFC 5280 4.1.1.2: signatureAlgorithm "MUST contain the same algorithm
  // identifier as the signature field in the sequence tbsCertificate".
  CA_ENSURE_RETURN(
      CBS_len(&inner_alg) == CBS_len(&out->signature_algorithm) &&
          memcmp(CBS_data(&inner_alg), CBS_data(&out->signature_algorithm),
                 CBS_len(&inner_alg)) == 0,
      CA_ERR_CERT_MALFORMED,
      "certificate: inner and outer signature algorithms differ");
  CA_GUARD_RETURN(ca_time_parse(&validity, &out->not_before));
  CA_GUARD_RETURN(ca_time_parse(&validity, &out->not_after));
  CA_ENSURE_RETURN(CBS_len(&validity) == 0, CA_ERR_CERT_MALFORMED,
                   "certificate: bad validity");
  CA_ENSURE_RETURN(
      CBS_get_asn1_element(&tbs, &out->subject, CBS_ASN1_SEQUENCE) &&
          CBS_get_asn1_element(&tbs, &out->spki, CBS_ASN1_SEQUENCE),
      CA_ERR_CERT_MALFORMED, "certificate: bad subject or key");
  // Unique identifiers are obsolete; skip them if present.
  CBS skipped;
  int present;
  CA_ENSURE_RETURN(CBS_get_optional_asn1(&tbs, &skipped, &present,
                                         CBS_ASN1_CONTEXT_SPECIFIC | 1) &&
                       CBS_get_optional_asn1(&tbs, &skipped, &present,
                                             CBS_ASN1_CONTEXT_SPECIFIC | 2),
                   CA_ERR_CERT_MALFORMED, "certificate: bad unique identifier");
  CBS explicit_exts;
  CA_ENSURE_RETURN(CBS_get_optional_asn1(
                       &tbs, &explicit_exts, &present,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 3) &&
                       CBS_len(&tbs) == 0,
                   CA_ERR_CERT_MALFORMED, "certificate: bad extensions");
  if (present) {
    CA_ENSURE_RETURN(
        CBS_get_asn1(&explicit_exts, &out->extensions, CBS_ASN1_SEQUENCE) &&
            CBS_len(&explicit_exts) == 0,
        CA_ERR_CERT_MALFORMED, "certificate: bad extensions");
    // Each extension strict too: an encoded critical FALSE, or an
    // extnValue that is not DER, is refused here once rather than
    // tolerated by each reader.
    CBS exts = out->extensions, oid, value;
    int critical;
    while (CBS_len(&exts) > 0) {
      CA_ENSURE_RETURN(ca_der_get_extension(&exts, &oid, &critical, &value),
                       CA_ERR_CERT_MALFORMED,
                       "certificate: bad extension (not DER: an encoded "
                       "critical FALSE, a non-minimal length or tag, ...)");
    }
  }
  return 1;
}

int ca_x509_find_extension(const ca_x509 *cert, const uint8_t *oid,
                           size_t oid_len, CBS *out_value, int *out_critical) {
  CBS exts = cert->extensions;
  while (CBS_len(&exts) > 0) {
    CBS ext, ext_oid, value;
    int critical = 0;
    // critical BOOLEAN DEFAULT FALSE is a plain BOOLEAN.
    // CBS_get_optional_asn1_bool reads an explicitly tagged one ([n] {
    // BOOLEAN }): with it, no extension after a critical one was found.
    if (!CBS_get_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&ext, &ext_oid, CBS_ASN1_OBJECT) ||
        (CBS_peek_asn1_tag(&ext, CBS_ASN1_BOOLEAN) &&
         !CBS_get_asn1_bool(&ext, &critical)) ||
        !CBS_get_asn1(&ext, &value, CBS_ASN1_OCTETSTRING)) {
      return 0;
    }
    if (CBS_mem_equal(&ext_oid, oid, oid_len)) {
      *out_value = value;
      *out_critical = critical;
      return 1;
    }
  }
  return 0;
}

int ca_spki_key_id(const CBS *spki, uint8_t out[CA_KEY_ID_LEN]) {
  CBS in = *spki, seq, alg, key;
  uint8_t unused_bits;
  CA_ENSURE_RETURN(CBS_get_asn1(&in, &seq, CBS_ASN1_SEQUENCE) &&
                       CBS_get_asn1(&seq, &alg, CBS_ASN1_SEQUENCE) &&
                       CBS_get_asn1(&seq, &key, CBS_ASN1_BITSTRING) &&
                       CBS_get_u8(&key, &unused_bits) && unused_bits == 0,
                   CA_ERR_CERT_MALFORMED, "bad SubjectPublicKeyInfo");
  SHA1(CBS_data(&key), CBS_len(&key), out);
  return 1;
}
