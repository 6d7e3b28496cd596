#include "ca/x509/certificate.h"

#include <openssl/mem.h>
#include <string.h>

#include "ca/oid.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/crl_dp.h"
#include "ca/x509/signer.h"
#include "ca/x509/usage.h"

int ca_key_usage_add(CBB *out, unsigned bits) {
  int highest = -1;
  for (int i = 0; i < 9; i++) {
    if (bits & (1u << i)) {
      highest = i;
    }
  }
  CBB bs;
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(out, &bs, CBS_ASN1_BITSTRING));
  if (highest < 0) {
    CA_GUARD_CRYPTO_RETURN(CBB_add_u8(&bs, 0));
  } else {
    const size_t n = (size_t)highest / 8 + 1;
    uint8_t bytes[2] = {0, 0};
    for (int i = 0; i <= highest; i++) {
      if (bits & (1u << i)) {
        bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
      }
    }
    CA_GUARD_CRYPTO_RETURN(CBB_add_u8(&bs, (uint8_t)(7 - highest % 8)));
    CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(&bs, bytes, n));
  }
  CA_GUARD_CRYPTO_RETURN(CBB_flush(out));
  return 1;
}

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE,
//                          extnValue OCTET STRING }
// begin_extension opens one; the caller writes the value into |*value| and
// flushes |exts|.
static int begin_extension(CBB *exts, CBB *ext, CBB *value, const uint8_t *oid,
                           size_t oid_len, int critical) {
  CBB obj;
  if (!CBB_add_asn1(exts, ext, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(ext, &obj, CBS_ASN1_OBJECT) ||
      !CBB_add_bytes(&obj, oid, oid_len)) {
    return 0;
  }
  // DER omits a BOOLEAN equal to its DEFAULT.
  if (critical && !CBB_add_asn1_bool(ext, 1)) {
    return 0;
  }
  return CBB_add_asn1(ext, value, CBS_ASN1_OCTETSTRING);
}

static int add_basic_constraints(CBB *exts, const ca_cert_template *t) {
  CBB ext, value, seq;
  // RFC 5280 4.2.1.9: "Conforming CAs MUST include this extension in all CA
  // certificates ... and MUST mark the extension as critical"; pki marks it
  // critical on leaves too, as CUCM expects.
  if (!begin_extension(exts, &ext, &value, kOidBasicConstraints,
                       sizeof(kOidBasicConstraints), 1) ||
      !CBB_add_asn1(&value, &seq, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  if (t->is_ca) {
    if (!CBB_add_asn1_bool(&seq, 1) ||
        (t->path_len >= 0 &&
         !CBB_add_asn1_uint64(&seq, (uint64_t)t->path_len))) {
      return 0;
    }
  }
  return CBB_flush(exts);
}

int ca_extension_add_key_usage(CBB *exts, unsigned bits) {
  CBB ext, value;
  // RFC 5280 4.2.1.3: "When present, conforming CAs SHOULD mark this
  // extension as critical."
  CA_ENSURE_RETURN(begin_extension(exts, &ext, &value, kOidKeyUsage,
                                   sizeof(kOidKeyUsage), 1),
                   CA_ERR_INTERNAL, "cannot encode the key usage extension");
  CA_GUARD_RETURN(ca_key_usage_add(&value, bits));
  CA_ENSURE_RETURN(CBB_flush(exts), CA_ERR_INTERNAL,
                   "cannot encode the key usage extension");
  return 1;
}

static int add_oid(CBB *seq, const uint8_t *oid, size_t len) {
  CBB obj;
  return CBB_add_asn1(seq, &obj, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&obj, oid, len) && CBB_flush(seq);
}

int ca_extension_add_ext_key_usage(CBB *exts, unsigned bits) {
  CBB ext, value, seq;
  const int ok =
      begin_extension(exts, &ext, &value, kOidExtKeyUsage,
                      sizeof(kOidExtKeyUsage), 0) &&
      CBB_add_asn1(&value, &seq, CBS_ASN1_SEQUENCE) &&
      (!(bits & CA_EKU_SERVER_AUTH) ||
       add_oid(&seq, kOidKpServerAuth, sizeof(kOidKpServerAuth))) &&
      (!(bits & CA_EKU_CLIENT_AUTH) ||
       add_oid(&seq, kOidKpClientAuth, sizeof(kOidKpClientAuth))) &&
      (!(bits & CA_EKU_IPSEC_END_SYSTEM) ||
       add_oid(&seq, kOidKpIpsecEndSystem, sizeof(kOidKpIpsecEndSystem))) &&
      (!(bits & CA_EKU_OCSP_SIGNING) ||
       add_oid(&seq, kOidKpOcspSigning, sizeof(kOidKpOcspSigning))) &&
      CBB_flush(exts);
  CA_ENSURE_RETURN(ok, CA_ERR_INTERNAL,
                   "cannot encode the extended key usage extension");
  return 1;
}

int ca_extension_add_san(CBB *exts, const CBS *general_names) {
  CBB ext, value;
  // RFC 5280 4.2.1.6: non-critical when the subject is non-empty, and pki's
  // subjects always hold a CN.
  CA_ENSURE_RETURN(begin_extension(exts, &ext, &value, kOidSubjectAltName,
                                   sizeof(kOidSubjectAltName), 0) &&
                       CBB_add_bytes(&value, CBS_data(general_names),
                                     CBS_len(general_names)) &&
                       CBB_flush(exts),
                   CA_ERR_INTERNAL,
                   "cannot encode the subject alternative name extension");
  return 1;
}

static int add_subject_key_id(CBB *exts, const uint8_t id[CA_KEY_ID_LEN]) {
  CBB ext, value;
  // RFC 5280 4.2.1.2: "Conforming CAs MUST mark this extension as
  // non-critical."
  return begin_extension(exts, &ext, &value, kOidSubjectKeyIdentifier,
                         sizeof(kOidSubjectKeyIdentifier), 0) &&
         CBB_add_asn1_octet_string(&value, id, CA_KEY_ID_LEN) &&
         CBB_flush(exts);
}

static int add_authority_key_id(CBB *exts, const uint8_t id[CA_KEY_ID_LEN]) {
  CBB ext, value, seq, key_id;
  // RFC 5280 4.2.1.1: AuthorityKeyIdentifier ::= SEQUENCE {
  //   keyIdentifier [0] KeyIdentifier OPTIONAL, ... }, non-critical.
  return begin_extension(exts, &ext, &value, kOidAuthorityKeyIdentifier,
                         sizeof(kOidAuthorityKeyIdentifier), 0) &&
         CBB_add_asn1(&value, &seq, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&seq, &key_id, CBS_ASN1_CONTEXT_SPECIFIC | 0) &&
         CBB_add_bytes(&key_id, id, CA_KEY_ID_LEN) && CBB_flush(exts);
}

static int is_set(const char *url) {
  return url != NULL && url[0] != '\0';
}

// add_access_description appends one AccessDescription { accessMethod,
// accessLocation uniformResourceIdentifier [6] } when |url| is set.
static int add_access_description(CBB *seq, const uint8_t *method,
                                  size_t method_len, const char *url) {
  CBB desc, uri;
  if (!is_set(url)) {
    return 1;
  }
  return CBB_add_asn1(seq, &desc, CBS_ASN1_SEQUENCE) &&
         add_oid(&desc, method, method_len) &&
         CBB_add_asn1(&desc, &uri, CBS_ASN1_CONTEXT_SPECIFIC | 6) &&
         CBB_add_bytes(&uri, (const uint8_t *)url, strlen(url)) &&
         CBB_flush(seq);
}

static int add_authority_info_access(CBB *exts, const char *ocsp_url,
                                     const char *ca_issuers_url) {
  CBB ext, value, seq;
  // RFC 5280 4.2.2.1: AccessDescription ::= SEQUENCE { accessMethod,
  //   accessLocation GeneralName }; "This extension MUST be marked as
  //   non-critical." The OCSP responder first, then where the issuer's
  //   certificate is (id-ad-caIssuers), as public CAs order them.
  return begin_extension(exts, &ext, &value, kOidAuthorityInfoAccess,
                         sizeof(kOidAuthorityInfoAccess), 0) &&
         CBB_add_asn1(&value, &seq, CBS_ASN1_SEQUENCE) &&
         add_access_description(&seq, kOidAdOcsp, sizeof(kOidAdOcsp),
                                ocsp_url) &&
         add_access_description(&seq, kOidAdCaIssuers, sizeof(kOidAdCaIssuers),
                                ca_issuers_url) &&
         CBB_flush(exts);
}

static int add_crl_distribution_points(CBB *exts, const char *url) {
  CBB ext, value, points, point;
  // RFC 5280 4.2.1.13: CRLDistributionPoints ::= SEQUENCE OF
  //   DistributionPoint { distributionPoint [0] DistributionPointName },
  //   "SHOULD be non-critical". The name is written as a shard's CRL writes
  //   its issuingDistributionPoint (crl_dp.h), so that the two match.
  return begin_extension(exts, &ext, &value, kOidCrlDistributionPoints,
                         sizeof(kOidCrlDistributionPoints), 0) &&
         CBB_add_asn1(&value, &points, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&points, &point, CBS_ASN1_SEQUENCE) &&
         ca_crl_dp_name_add(&point, url) && CBB_flush(exts);
}

static int add_ocsp_no_check(CBB *exts) {
  CBB ext, value, null;
  // RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck, extnValue NULL: clients need
  // not check the responder certificate's own status.
  return begin_extension(exts, &ext, &value, kOidOcspNoCheck,
                         sizeof(kOidOcspNoCheck), 0) &&
         CBB_add_asn1(&value, &null, CBS_ASN1_NULL) && CBB_flush(exts);
}

static int add_extensions(CBB *tbs, const ca_cert_template *t,
                          const uint8_t key_id[CA_KEY_ID_LEN]) {
  CBB explicit_tag, exts;
  if (!CBB_add_asn1(tbs, &explicit_tag,
                    CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 3) ||
      !CBB_add_asn1(&explicit_tag, &exts, CBS_ASN1_SEQUENCE) ||
      !add_basic_constraints(&exts, t) ||
      (t->key_usage != 0 && !ca_extension_add_key_usage(&exts, t->key_usage)) ||
      (t->ext_key_usage != 0 &&
       !ca_extension_add_ext_key_usage(&exts, t->ext_key_usage)) ||
      (CBS_len(&t->san) > 0 && !ca_extension_add_san(&exts, &t->san)) ||
      !add_subject_key_id(&exts, key_id) ||
      (t->authority_key_id != NULL &&
       !add_authority_key_id(&exts, t->authority_key_id)) ||
      ((is_set(t->ocsp_url) || is_set(t->ca_issuers_url)) &&
       !add_authority_info_access(&exts, t->ocsp_url, t->ca_issuers_url)) ||
      (t->crl_url != NULL && t->crl_url[0] != '\0' &&
       !add_crl_distribution_points(&exts, t->crl_url)) ||
      (t->ocsp_no_check && !add_ocsp_no_check(&exts))) {
    return 0;
  }
  return CBB_flush(tbs);
}

int ca_certificate_build(const ca_cert_template *t, EVP_PKEY *issuer_key,
                         ca_key_type issuer_type, const EVP_MD *digest,
                         uint8_t **out_der, size_t *out_len,
                         uint8_t out_key_id[CA_KEY_ID_LEN]) {
  CBB cbb, cert, tbs, version, validity;
  CBB_zero(&cbb);
  uint8_t key_id[CA_KEY_ID_LEN];
  CA_GUARD(ca_spki_key_id(&t->spki, key_id));
  CA_ENSURE(t->not_before < t->not_after, CA_ERR_INTERNAL,
            "certificate would expire before it starts");

  // A leaf is about 1 KiB plus the signature; 2 KiB avoids regrowth.
  CA_GUARD_CRYPTO(CBB_init(&cbb, 2048));
  CA_GUARD_CRYPTO(CBB_add_asn1(&cbb, &cert, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&cert, &tbs, CBS_ASN1_SEQUENCE));
  // version [0] EXPLICIT v3(2): extensions are present.
  CA_GUARD_CRYPTO(CBB_add_asn1(
      &tbs, &version, CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0));
  CA_GUARD_CRYPTO(CBB_add_asn1_uint64(&version, 2));
  CA_GUARD(ca_serial_add(&tbs, t->serial));
  // RFC 5280 4.1.2.3: this field "MUST contain the same algorithm
  // identifier as the signatureAlgorithm field in the sequence Certificate".
  CA_GUARD(ca_signature_algorithm_add(&tbs, issuer_type, digest));
  // RFC 5280 4.1.2.4: the issuer is the issuing CA's subject, byte for byte,
  // so that name chaining compares equal.
  CA_GUARD_CRYPTO(
      CBB_add_bytes(&tbs, CBS_data(&t->issuer_name), CBS_len(&t->issuer_name)));
  CA_GUARD_CRYPTO(CBB_add_asn1(&tbs, &validity, CBS_ASN1_SEQUENCE));
  CA_GUARD(ca_time_add(&validity, t->not_before));
  CA_GUARD(ca_time_add(&validity, t->not_after));
  CA_GUARD_CRYPTO(CBB_add_bytes(&tbs, CBS_data(&t->subject_name),
                                CBS_len(&t->subject_name)));
  CA_GUARD_CRYPTO(CBB_add_bytes(&tbs, CBS_data(&t->spki), CBS_len(&t->spki)));
  CA_ENSURE(add_extensions(&tbs, t, key_id), CA_ERR_INTERNAL,
            "cannot encode extensions");
  CA_GUARD_CRYPTO(CBB_flush(&cert));

  // The TBSCertificate is now all of |cert|'s contents. Sign it in place:
  // its bytes stay put until something is appended, which happens only
  // after signing.
  uint8_t sig[CA_SIGNATURE_MAX_LEN];
  size_t sig_len;
  CA_GUARD(ca_sign(issuer_key, digest, CBB_data(&cert), CBB_len(&cert), sig,
                   &sig_len));
  CA_GUARD(ca_signature_algorithm_add(&cert, issuer_type, digest));
  CA_GUARD(ca_signature_add(&cert, sig, sig_len));
  CA_GUARD_CRYPTO(CBB_finish(&cbb, out_der, out_len));
  if (out_key_id != NULL) {
    memcpy(out_key_id, key_id, CA_KEY_ID_LEN);
  }
  return 1;
err:
  CBB_cleanup(&cbb);
  return 0;
}
