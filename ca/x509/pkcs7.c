#include "ca/x509/pkcs7.h"

#include "ca/oid.h"
#include "ca/x509/der.h"

int ca_pkcs7_add_certificates(CBB *out, const uint8_t *const *certs,
                              const size_t *lens, size_t n) {
  CBB content_info, oid, explicit_content, signed_data, digest_algs, encap,
      data_oid, cert_set, signer_infos;
  // ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT ANY }
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(out, &content_info, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(&content_info, &oid, CBS_ASN1_OBJECT));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_bytes(&oid, kOidPkcs7SignedData, sizeof(kOidPkcs7SignedData)));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_asn1(&content_info, &explicit_content,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0));
  // SignedData ::= SEQUENCE { version, digestAlgorithms SET,
  //   encapContentInfo, certificates [0] IMPLICIT SET OF, signerInfos SET }
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_asn1(&explicit_content, &signed_data, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1_uint64(&signed_data, 1));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_asn1(&signed_data, &digest_algs, CBS_ASN1_SET));
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(&signed_data, &encap, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(&encap, &data_oid, CBS_ASN1_OBJECT));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_bytes(&data_oid, kOidPkcs7Data, sizeof(kOidPkcs7Data)));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_asn1(&signed_data, &cert_set,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0));
  for (size_t i = 0; i < n; i++) {
    CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(&cert_set, certs[i], lens[i]));
  }
  // DER: the members of a SET OF are sorted by their encodings.
  CA_GUARD_CRYPTO_RETURN(CBB_flush_asn1_set_of(&cert_set));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_asn1(&signed_data, &signer_infos, CBS_ASN1_SET));
  CA_GUARD_CRYPTO_RETURN(CBB_flush(out));
  return 1;
}

int ca_pkcs7_get_certificates(CBS *in, CBS *out_certs, size_t max_certs,
                              size_t *out_n) {
  CBS content_info, oid, explicit_content, signed_data, version, skipped, certs;
  size_t n = 0;
  CA_ENSURE_RETURN(CBS_get_asn1(in, &content_info, CBS_ASN1_SEQUENCE),
                   CA_ERR_CERT_MALFORMED, "not a PKCS#7 SignedData");
  // Strict DER throughout (ca/x509/der.h), before any field is read.
  CA_ENSURE_RETURN(ca_der_check(&content_info), CA_ERR_CERT_MALFORMED,
                   "PKCS#7 is not strict DER (a non-minimal length, tag, "
                   "INTEGER or BOOLEAN, or a constructed string)");
  CA_ENSURE_RETURN(
      CBS_get_asn1(&content_info, &oid, CBS_ASN1_OBJECT) &&
          CBS_mem_equal(&oid, kOidPkcs7SignedData,
                        sizeof(kOidPkcs7SignedData)) &&
          CBS_get_asn1(&content_info, &explicit_content,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
          CBS_get_asn1(&explicit_content, &signed_data, CBS_ASN1_SEQUENCE) &&
          CBS_get_asn1(&signed_data, &version, CBS_ASN1_INTEGER) &&
          CBS_get_asn1(&signed_data, &skipped, CBS_ASN1_SET) &&
          CBS_get_asn1(&signed_data, &skipped, CBS_ASN1_SEQUENCE),
      CA_ERR_CERT_MALFORMED, "not a PKCS#7 SignedData");
  int present;
  CA_ENSURE_RETURN(CBS_get_optional_asn1(
                       &signed_data, &certs, &present,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0),
                   CA_ERR_CERT_MALFORMED, "PKCS#7: bad certificates");
  while (present && CBS_len(&certs) > 0) {
    CA_ENSURE_RETURN(n < max_certs, CA_ERR_CERT_MALFORMED,
                     "PKCS#7 holds more than %zu certificates", max_certs);
    CA_ENSURE_RETURN(
        CBS_get_asn1_element(&certs, &out_certs[n], CBS_ASN1_SEQUENCE),
        CA_ERR_CERT_MALFORMED, "PKCS#7: bad certificate");
    n++;
  }
  *out_n = n;
  return 1;
}
