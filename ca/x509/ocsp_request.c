#include "ca/x509/ocsp_request.h"

#include <string.h>

#include "ca/oid.h"
#include "ca/x509/der.h"

// parse_hash reads the hashAlgorithm AlgorithmIdentifier of a CertID.
static int parse_hash(CBS *cert_id, ca_ocsp_hash *out) {
  CBS alg, oid;
  if (!CBS_get_asn1(cert_id, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT)) {
    return 0;
  }
  // Parameters: absent or NULL (both are seen for SHA-1 and SHA-256).
  if (CBS_len(&alg) > 0) {
    CBS null;
    if (!CBS_get_asn1(&alg, &null, CBS_ASN1_NULL) || CBS_len(&null) != 0 ||
        CBS_len(&alg) != 0) {
      return 0;
    }
  }
  *out = CA_OCSP_HASH_OTHER;
  if (CBS_mem_equal(&oid, kOidSha1, sizeof(kOidSha1))) {
    *out = CA_OCSP_HASH_SHA1;
  } else if (CBS_mem_equal(&oid, kOidSha256, sizeof(kOidSha256))) {
    *out = CA_OCSP_HASH_SHA256;
  }
  return 1;
}

// CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING,
//   issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
static int parse_cert_id(CBS *in, ca_ocsp_cert_id *out) {
  CBS element, cert_id;
  if (!CBS_get_asn1_element(in, &out->element, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  element = out->element;
  return CBS_get_asn1(&element, &cert_id, CBS_ASN1_SEQUENCE) &&
         parse_hash(&cert_id, &out->hash) &&
         CBS_get_asn1(&cert_id, &out->name_hash, CBS_ASN1_OCTETSTRING) &&
         CBS_get_asn1(&cert_id, &out->key_hash, CBS_ASN1_OCTETSTRING) &&
         CBS_get_asn1(&cert_id, &out->serial, CBS_ASN1_INTEGER) &&
         CBS_len(&out->serial) > 0 && CBS_len(&cert_id) == 0;
}

// parse_extensions reads Extensions: of the whole request when |out| is not
// NULL (keeping the nonce there), of one Request otherwise. RFC 6960 4.4:
// "Support for any specific extension is OPTIONAL. The critical flag SHOULD
// NOT be set for any of them. Unrecognized extensions MUST be ignored
// (unless they have the critical flag set and are not understood)": an
// unknown critical extension, at either level, makes the request
// unanswerable.
static int parse_extensions(CBS *exts, ca_ocsp_request *out) {
  size_t count = 0;
  while (CBS_len(exts) > 0) {
    CBS oid, value;
    int critical = 0;
    CA_ENSURE_RETURN(++count <= CA_LIMIT_OCSP_EXTENSIONS,
                     CA_ERR_REQUEST_MALFORMED,
                     "OCSP request: too many extensions");
    CA_ENSURE_RETURN(ca_der_get_extension(exts, &oid, &critical, &value),
                     CA_ERR_REQUEST_MALFORMED,
                     "OCSP request: bad extension (not DER: an encoded "
                     "critical FALSE, a non-minimal length or tag, ...)");
    if (out != NULL &&
        CBS_mem_equal(&oid, kOidOcspNonce, sizeof(kOidOcspNonce))) {
      CA_ENSURE_RETURN(!out->has_nonce, CA_ERR_REQUEST_MALFORMED,
                       "OCSP request: two nonces");
      // RFC 8954 2.1: Nonce ::= OCTET STRING (SIZE(1..32)) inside extnValue.
      CBS inner = value, nonce;
      CA_ENSURE_RETURN(CBS_get_asn1(&inner, &nonce, CBS_ASN1_OCTETSTRING) &&
                           CBS_len(&inner) == 0 && CBS_len(&nonce) >= 1 &&
                           CBS_len(&nonce) <= CA_LIMIT_OCSP_NONCE_BYTES,
                       CA_ERR_REQUEST_MALFORMED,
                       "OCSP request: the nonce must be 1 to %d octets",
                       CA_LIMIT_OCSP_NONCE_BYTES);
      out->has_nonce = 1;
      out->nonce = value;
      continue;
    }
    CA_ENSURE_RETURN(!critical, CA_ERR_REQUEST_MALFORMED,
                     "OCSP request: unknown critical extension");
  }
  return 1;
}

int ca_ocsp_request_parse(ca_ocsp_request *out, const uint8_t *der,
                          size_t der_len) {
  memset(out, 0, sizeof(*out));
  CBS in, request, tbs, list, skipped;
  int present;
  CA_ENSURE_RETURN(
      der_len <= CA_LIMIT_OCSP_REQUEST_BYTES, CA_ERR_REQUEST_MALFORMED,
      "OCSP request larger than %d bytes", CA_LIMIT_OCSP_REQUEST_BYTES);
  CBS_init(&in, der, der_len);
  // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest,
  //   optionalSignature [0] EXPLICIT Signature OPTIONAL }
  CA_ENSURE_RETURN(CBS_get_asn1(&in, &request, CBS_ASN1_SEQUENCE) &&
                       CBS_len(&in) == 0 &&
                       CBS_get_asn1(&request, &tbs, CBS_ASN1_SEQUENCE) &&
                       CBS_get_optional_asn1(&request, &skipped, &present,
                                             CBS_ASN1_CONTEXT_SPECIFIC |
                                                 CBS_ASN1_CONSTRUCTED | 0) &&
                       CBS_len(&request) == 0,
                   CA_ERR_REQUEST_MALFORMED, "not an OCSP request");
  // Strict DER throughout (ca/x509/der.h), before any field is read.
  CA_ENSURE_RETURN(ca_der_check(&tbs), CA_ERR_REQUEST_MALFORMED,
                   "OCSP request is not strict DER (a non-minimal length, "
                   "tag, INTEGER or BOOLEAN, or a constructed string)");
  // TBSRequest ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
  //   requestorName [1] EXPLICIT GeneralName OPTIONAL,
  //   requestList SEQUENCE OF Request,
  //   requestExtensions [2] EXPLICIT Extensions OPTIONAL }
  CBS version;
  CA_ENSURE_RETURN(CBS_get_optional_asn1(
                       &tbs, &version, &present,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0),
                   CA_ERR_REQUEST_MALFORMED, "OCSP request: bad version");
  // v1 is the only version and the DEFAULT, which DER leaves out (X.690
  // 11.5): an encoded version is refused whatever it says.
  CA_ENSURE_RETURN(!present, CA_ERR_REQUEST_MALFORMED,
                   "OCSP request: version must be left out (DEFAULT v1)");
  CA_ENSURE_RETURN(CBS_get_optional_asn1(
                       &tbs, &skipped, &present,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) &&
                       CBS_get_asn1(&tbs, &list, CBS_ASN1_SEQUENCE),
                   CA_ERR_REQUEST_MALFORMED, "OCSP request: bad requestList");
  // Request ::= SEQUENCE { reqCert CertID,
  //   singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
  while (CBS_len(&list) > 0) {
    CBS single;
    CA_ENSURE_RETURN(
        out->count < CA_LIMIT_OCSP_CERT_IDS, CA_ERR_REQUEST_MALFORMED,
        "OCSP request: more than %d certificates", CA_LIMIT_OCSP_CERT_IDS);
    CBS single_exts;
    CA_ENSURE_RETURN(CBS_get_asn1(&list, &single, CBS_ASN1_SEQUENCE) &&
                         parse_cert_id(&single, &out->ids[out->count]) &&
                         CBS_get_optional_asn1(&single, &single_exts, &present,
                                               CBS_ASN1_CONTEXT_SPECIFIC |
                                                   CBS_ASN1_CONSTRUCTED | 0) &&
                         CBS_len(&single) == 0,
                     CA_ERR_REQUEST_MALFORMED, "OCSP request: bad CertID");
    if (present) {
      CBS exts;
      CA_ENSURE_RETURN(CBS_get_asn1(&single_exts, &exts, CBS_ASN1_SEQUENCE) &&
                           CBS_len(&single_exts) == 0,
                       CA_ERR_REQUEST_MALFORMED,
                       "OCSP request: bad extensions");
      CA_GUARD_RETURN(parse_extensions(&exts, NULL));
    }
    out->count++;
  }
  CA_ENSURE_RETURN(out->count > 0, CA_ERR_REQUEST_MALFORMED,
                   "OCSP request: no certificate asked for");
  CBS explicit_exts, exts;
  CA_ENSURE_RETURN(CBS_get_optional_asn1(
                       &tbs, &explicit_exts, &present,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) &&
                       CBS_len(&tbs) == 0,
                   CA_ERR_REQUEST_MALFORMED, "OCSP request: bad extensions");
  if (present) {
    CA_ENSURE_RETURN(CBS_get_asn1(&explicit_exts, &exts, CBS_ASN1_SEQUENCE) &&
                         CBS_len(&explicit_exts) == 0,
                     CA_ERR_REQUEST_MALFORMED, "OCSP request: bad extensions");
    CA_GUARD_RETURN(parse_extensions(&exts, out));
  }
  return 1;
}
