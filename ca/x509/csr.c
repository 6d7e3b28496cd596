#include "ca/x509/csr.h"

#include <openssl/digest.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rsa.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/x509/der.h"
#include "ca/x509/pem.h"

const char *ca_key_type_name(ca_key_type type) {
  switch (type) {
    case CA_KEY_RSA:
      return "RSA";
    case CA_KEY_EC:
      return "EC";
    default:
      return "none";
  }
}

int ca_key_info_from_pkey(const EVP_PKEY *pkey, ca_key_info *out) {
  memset(out, 0, sizeof(*out));
  switch (EVP_PKEY_id(pkey)) {
    case EVP_PKEY_RSA: {
      const RSA *rsa = EVP_PKEY_get0_RSA(pkey);
      CA_ENSURE_RETURN(rsa != NULL, CA_ERR_INTERNAL, "RSA key without RSA");
      out->type = CA_KEY_RSA;
      out->bits = RSA_bits(rsa);
      return 1;
    }
    case EVP_PKEY_EC: {
      const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);
      CA_ENSURE_RETURN(ec != NULL, CA_ERR_INTERNAL, "EC key without EC_KEY");
      const EC_GROUP *group = EC_KEY_get0_group(ec);
      out->type = CA_KEY_EC;
      out->curve_nid = EC_GROUP_get_curve_name(group);
      out->bits = EC_GROUP_order_bits(group);
      return 1;
    }
    default:
      CA_SET_ERROR(CA_ERR_KEY_UNSUPPORTED,
                   "only RSA and EC (ECDSA) public keys are accepted");
      return 0;
  }
}

int ca_csr_decode(const uint8_t *in, size_t in_len, const uint8_t **out_der,
                  size_t *out_der_len, uint8_t **out_owned) {
  return ca_csr_decode_max(in, in_len, CA_LIMIT_CSR_BYTES, out_der, out_der_len,
                           out_owned);
}

// is_csr_label says whether a PEM block holds a request.
static int is_csr_label(const CBS *label) {
  return ca_pem_label_is(label, "CERTIFICATE REQUEST") ||
         ca_pem_label_is(label, "NEW CERTIFICATE REQUEST");
}

// decode_der takes DER input as is, refusing two requests one after the
// other (cat a.der b.der): the first would be issued and the second lost.
static int decode_der(const uint8_t *in, size_t in_len, size_t max_der,
                      const uint8_t **out_der, size_t *out_der_len) {
  CA_ENSURE_RETURN(in_len <= max_der, CA_ERR_CSR_TOO_LARGE,
                   "request larger than %zu bytes", max_der);
  CBS all, first, second;
  CBS_init(&all, in, in_len);
  CA_ENSURE_RETURN(
      !(CBS_get_asn1_element(&all, &first, CBS_ASN1_SEQUENCE) &&
        CBS_get_asn1_element(&all, &second, CBS_ASN1_SEQUENCE)),
      CA_ERR_CSR_MULTIPLE,
      "the input holds more than one request: send one per call (or use a "
      "batch)");
  *out_der = in;
  *out_der_len = in_len;
  return 1;
}

// next_csr_block reads PEM blocks from |pem| up to the next request, which
// it returns in |*out| (OPENSSL_malloc). Blocks of other labels (a key
// saved in the same file) are skipped. It returns 1 with |*out| NULL when
// no request is left.
static int next_csr_block(CBS *pem, size_t max_der, uint8_t **out,
                          size_t *out_len, int *saw_block) {
  *out = NULL;
  for (;;) {
    CBS label;
    uint8_t *der;
    size_t der_len;
    if (!ca_pem_next(pem, &label, &der, &der_len, max_der)) {
      const ca_err_code code = ca_err_get()->code;
      if (code == CA_ERR_NOT_FOUND) {
        ca_err_clear();
        return 1;
      }
      if (code == CA_ERR_OBJECT_TOO_LARGE) {
        CA_SET_ERROR(CA_ERR_CSR_TOO_LARGE, "request larger than %zu bytes",
                     max_der);
      }
      return 0;
    }
    *saw_block = 1;
    if (is_csr_label(&label)) {
      *out = der;
      *out_len = der_len;
      return 1;
    }
    OPENSSL_free(der);
  }
}

int ca_csr_decode_max(const uint8_t *in, size_t in_len, size_t max_der,
                      const uint8_t **out_der, size_t *out_der_len,
                      uint8_t **out_owned) {
  *out_owned = NULL;
  // The ceiling holds whatever the caller asks: the parser is bounded by it.
  if (max_der == 0 || max_der > CA_LIMIT_CSR_BYTES) {
    max_der = CA_LIMIT_CSR_BYTES;
  }
  // A UTF-8 byte order mark, which Windows editors put before the text, is
  // no part of the request.
  static const uint8_t kBom[3] = {0xef, 0xbb, 0xbf};
  if (in_len >= sizeof(kBom) && memcmp(in, kBom, sizeof(kBom)) == 0) {
    in += sizeof(kBom);
    in_len -= sizeof(kBom);
  }
  // 0x30: the first octet of a DER SEQUENCE, which PEM text never starts
  // with.
  if (in_len > 0 && in[0] == 0x30) {
    return decode_der(in, in_len, max_der, out_der, out_der_len);
  }
  CA_ENSURE_RETURN(in_len <= 2 * max_der, CA_ERR_CSR_TOO_LARGE,
                   "PEM request larger than %zu bytes", 2 * max_der);
  // RFC 7468 section 2: text may come before and after the block (openssl
  // req -text writes the decoded request first).
  CBS pem;
  CBS_init(&pem, in, in_len);
  uint8_t *der = NULL, *other = NULL;
  size_t der_len = 0, other_len = 0;
  int saw_block = 0;
  CA_GUARD_RETURN(next_csr_block(&pem, max_der, &der, &der_len, &saw_block));
  if (der == NULL) {
    CA_ENSURE_RETURN(saw_block, CA_ERR_CSR_MALFORMED,
                     "request is neither DER nor PEM");
    CA_SET_ERROR(CA_ERR_PEM_MALFORMED,
                 "no CERTIFICATE REQUEST block in the PEM input");
    return 0;
  }
  if (!next_csr_block(&pem, max_der, &other, &other_len, &saw_block) ||
      other != NULL) {
    OPENSSL_free(der);
    OPENSSL_free(other);
    CA_ENSURE_RETURN(other == NULL, CA_ERR_CSR_MULTIPLE,
                     "the input holds more than one CERTIFICATE REQUEST "
                     "block: send one per call (or use a batch)");
    return 0;
  }
  *out_der = der;
  *out_der_len = der_len;
  *out_owned = der;
  return 1;
}

// parse_signature_algorithm maps an AlgorithmIdentifier to a digest and key
// type. SHA-1 and RSASSA-PSS are not accepted: CUCM and pki's clients sign
// requests with SHA-256 or stronger PKCS#1 v1.5 or ECDSA.
static int parse_signature_algorithm(CBS *cbs, const EVP_MD **out_md,
                                     ca_key_type *out_type) {
  CBS alg, oid;
  CA_ENSURE_RETURN(CBS_get_asn1(cbs, &alg, CBS_ASN1_SEQUENCE) &&
                       CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT),
                   CA_ERR_CSR_MALFORMED,
                   "request: bad signature AlgorithmIdentifier");
  static const struct {
    const uint8_t *oid;
    size_t len;
    const EVP_MD *(*md)(void);
    ca_key_type type;
  } kAlgs[] = {
      {kOidSha256WithRsa, sizeof(kOidSha256WithRsa), EVP_sha256, CA_KEY_RSA},
      {kOidSha384WithRsa, sizeof(kOidSha384WithRsa), EVP_sha384, CA_KEY_RSA},
      {kOidSha512WithRsa, sizeof(kOidSha512WithRsa), EVP_sha512, CA_KEY_RSA},
      {kOidEcdsaWithSha256, sizeof(kOidEcdsaWithSha256), EVP_sha256, CA_KEY_EC},
      {kOidEcdsaWithSha384, sizeof(kOidEcdsaWithSha384), EVP_sha384, CA_KEY_EC},
      {kOidEcdsaWithSha512, sizeof(kOidEcdsaWithSha512), EVP_sha512, CA_KEY_EC},
  };
  for (size_t i = 0; i < sizeof(kAlgs) / sizeof(kAlgs[0]); i++) {
    if (!CBS_mem_equal(&oid, kAlgs[i].oid, kAlgs[i].len)) {
      continue;
    }
    // RFC 4055: the parameters of the PKCS#1 v1.5 algorithms are NULL;
    // RFC 5758: those of ECDSA are absent. Both omitted and NULL are seen in
    // the wild for RSA.
    if (CBS_len(&alg) > 0) {
      CBS null;
      CA_ENSURE_RETURN(kAlgs[i].type == CA_KEY_RSA &&
                           CBS_get_asn1(&alg, &null, CBS_ASN1_NULL) &&
                           CBS_len(&null) == 0 && CBS_len(&alg) == 0,
                       CA_ERR_CSR_MALFORMED,
                       "request: bad signature algorithm parameters");
    }
    *out_md = kAlgs[i].md();
    *out_type = kAlgs[i].type;
    return 1;
  }
  CA_SET_ERROR(CA_ERR_CSR_SIGNATURE_ALGORITHM,
               "request signature algorithm not accepted (use SHA-256 or "
               "stronger with RSA PKCS#1 v1.5 or ECDSA)");
  return 0;
}

// parse_extension_request reads the Extensions of a PKCS#9 extensionRequest
// attribute value and records the requested subjectAltName.
static int parse_extension_request(CBS *values, ca_csr *out) {
  CBS exts;
  // values: SET OF ANY with exactly one Extensions SEQUENCE.
  CA_ENSURE_RETURN(
      CBS_get_asn1(values, &exts, CBS_ASN1_SEQUENCE) && CBS_len(values) == 0,
      CA_ERR_CSR_MALFORMED, "request: bad extensionRequest");
  size_t count = 0;
  while (CBS_len(&exts) > 0) {
    CBS oid, value;
    int critical;
    CA_ENSURE_RETURN(++count <= 64, CA_ERR_CSR_MALFORMED,
                     "request: too many requested extensions");
    CA_ENSURE_RETURN(ca_der_get_extension(&exts, &oid, &critical, &value),
                     CA_ERR_CSR_MALFORMED,
                     "request: bad requested extension (not DER: an encoded "
                     "critical FALSE, a non-minimal length or tag, ...)");
    if (!CBS_mem_equal(&oid, kOidSubjectAltName, sizeof(kOidSubjectAltName))) {
      continue;
    }
    CA_ENSURE_RETURN(!out->has_san, CA_ERR_CSR_MALFORMED,
                     "request: subjectAltName requested twice");
    out->san = value;
    out->has_san = 1;
  }
  return 1;
}

static int parse_attributes(CBS *attributes, ca_csr *out) {
  while (CBS_len(attributes) > 0) {
    CBS attr, oid, values;
    CA_ENSURE_RETURN(CBS_get_asn1(attributes, &attr, CBS_ASN1_SEQUENCE) &&
                         CBS_get_asn1(&attr, &oid, CBS_ASN1_OBJECT) &&
                         CBS_get_asn1(&attr, &values, CBS_ASN1_SET) &&
                         CBS_len(&attr) == 0,
                     CA_ERR_CSR_MALFORMED, "request: bad attribute");
    if (CBS_mem_equal(&oid, kOidExtensionRequest,
                      sizeof(kOidExtensionRequest))) {
      CA_GUARD_RETURN(parse_extension_request(&values, out));
    }
    // Other attributes (challengePassword, unstructuredName, ...) carry
    // nothing a certificate takes.
  }
  return 1;
}

int ca_csr_parse(ca_csr *out, const uint8_t *der, size_t der_len) {
  memset(out, 0, sizeof(*out));
  CA_ENSURE(der_len <= CA_LIMIT_CSR_BYTES, CA_ERR_CSR_TOO_LARGE,
            "request larger than %d bytes", CA_LIMIT_CSR_BYTES);
  CBS in, req, info, version_cbs, sig_bits;
  CBS_init(&in, der, der_len);
  // CertificationRequest ::= SEQUENCE {
  //   certificationRequestInfo CertificationRequestInfo,
  //   signatureAlgorithm AlgorithmIdentifier,
  //   signature BIT STRING }
  CA_ENSURE(CBS_get_asn1(&in, &req, CBS_ASN1_SEQUENCE) && CBS_len(&in) == 0,
            CA_ERR_CSR_MALFORMED, "request is not a DER SEQUENCE");
  // Strict DER throughout (ca/x509/der.h), before any field is read.
  CA_ENSURE(ca_der_check(&req), CA_ERR_CSR_MALFORMED,
            "request is not strict DER (a non-minimal length, tag, INTEGER or "
            "BOOLEAN, or a constructed string)");
  CA_ENSURE(CBS_get_asn1_element(&req, &out->info, CBS_ASN1_SEQUENCE),
            CA_ERR_CSR_MALFORMED, "request: bad CertificationRequestInfo");
  // The algorithm is read after the key: a request whose key pki does not
  // take (Ed25519, DSA) is refused for its key, the more useful reason.
  CBS sig_alg;
  CA_ENSURE(CBS_get_asn1_element(&req, &sig_alg, CBS_ASN1_SEQUENCE),
            CA_ERR_CSR_MALFORMED, "request: bad signature AlgorithmIdentifier");
  uint8_t unused_bits;
  CA_ENSURE(CBS_get_asn1(&req, &sig_bits, CBS_ASN1_BITSTRING) &&
                CBS_get_u8(&sig_bits, &unused_bits) && unused_bits == 0 &&
                CBS_len(&req) == 0,
            CA_ERR_CSR_MALFORMED, "request: bad signature BIT STRING");
  out->signature = sig_bits;

  // CertificationRequestInfo ::= SEQUENCE {
  //   version INTEGER { v1(0) }, subject Name,
  //   subjectPKInfo SubjectPublicKeyInfo,
  //   attributes [0] Attributes }
  CBS info_element = out->info;
  CA_ENSURE(CBS_get_asn1(&info_element, &info, CBS_ASN1_SEQUENCE) &&
                CBS_get_asn1(&info, &version_cbs, CBS_ASN1_INTEGER),
            CA_ERR_CSR_MALFORMED, "request: bad version");
  CA_ENSURE(CBS_len(&version_cbs) == 1 && CBS_data(&version_cbs)[0] == 0,
            CA_ERR_CSR_MALFORMED, "request: version must be 0 (v1)");
  CA_ENSURE(CBS_get_asn1_element(&info, &out->subject, CBS_ASN1_SEQUENCE),
            CA_ERR_CSR_MALFORMED, "request: bad subject");
  CA_ENSURE(CBS_get_asn1_element(&info, &out->spki, CBS_ASN1_SEQUENCE),
            CA_ERR_CSR_MALFORMED, "request: bad SubjectPublicKeyInfo");
  if (CBS_len(&info) > 0) {
    CBS attributes;
    CA_ENSURE(
        CBS_get_asn1(&info, &attributes,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
            CBS_len(&info) == 0,
        CA_ERR_CSR_MALFORMED, "request: bad attributes");
    CA_GUARD(parse_attributes(&attributes, out));
  }

  CBS spki = out->spki;
  out->pkey = EVP_parse_public_key(&spki);
  CA_ENSURE(out->pkey != NULL && CBS_len(&spki) == 0, CA_ERR_KEY_UNSUPPORTED,
            "request: public key unreadable or of an unsupported type");
  CA_GUARD(ca_key_info_from_pkey(out->pkey, &out->key));
  CA_ENSURE(
      out->key.type != CA_KEY_RSA || out->key.bits <= CA_LIMIT_RSA_MAX_BITS,
      CA_ERR_KEY_SIZE_UNSUPPORTED, "RSA keys above %d bits are refused",
      CA_LIMIT_RSA_MAX_BITS);
  CA_GUARD(parse_signature_algorithm(&sig_alg, &out->digest,
                                     &out->signature_key_type));
  CA_ENSURE(out->key.type == out->signature_key_type,
            CA_ERR_CSR_SIGNATURE_INVALID,
            "request signature algorithm does not match its key type");
  return 1;
err:
  ca_csr_cleanup(out);
  return 0;
}

int ca_csr_verify(const ca_csr *csr) {
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  int ok = EVP_DigestVerifyInit(&ctx, NULL, csr->digest, NULL, csr->pkey) &&
           EVP_DigestVerify(&ctx, CBS_data(&csr->signature),
                            CBS_len(&csr->signature), CBS_data(&csr->info),
                            CBS_len(&csr->info));
  EVP_MD_CTX_cleanup(&ctx);
  CA_ENSURE_RETURN(
      ok, CA_ERR_CSR_SIGNATURE_INVALID,
      "request signature does not verify (no proof of possession)");
  return 1;
}

void ca_csr_cleanup(ca_csr *csr) {
  EVP_PKEY_free(csr->pkey);
  memset(csr, 0, sizeof(*csr));
}
