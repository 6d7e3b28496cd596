// Unit tests of ca/x509/csr.c. Well-formed requests come from BoringSSL's
// X509_REQ encoder (tests/support/csr_maker.h) and every field pki extracts is
// compared with what BoringSSL's own parser sees. Malformed requests are
// built by hand with CBB here, signed with the real key where a valid
// signature matters, or made by patching single bytes of a good request.
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/x509/csr.h"
#include "ca/x509/key.h"
#include "ca/x509/pem.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

// --- DER fragments, worked out by hand ---

// Name: CN=a.example.com (UTF8String).
static const uint8_t kSubject[] = {0x30, 0x18, 0x31, 0x16, 0x30, 0x14, 0x06,
                                   0x03, 0x55, 0x04, 0x03, 0x0c, 0x0d, 'a',
                                   '.',  'e',  'x',  'a',  'm',  'p',  'l',
                                   'e',  '.',  'c',  'o',  'm'};

// AlgorithmIdentifiers.
static const uint8_t kAlgSha256Rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
                                        0x86, 0x48, 0x86, 0xf7, 0x0d,
                                        0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t kAlgSha256RsaNoParams[] = {0x30, 0x0b, 0x06, 0x09, 0x2a,
                                                0x86, 0x48, 0x86, 0xf7, 0x0d,
                                                0x01, 0x01, 0x0b};
static const uint8_t kAlgSha256RsaIntParams[] = {
    0x30, 0x0e, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
    0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x02, 0x01, 0x00};
static const uint8_t kAlgSha256RsaTwoNulls[] = {
    0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00, 0x05, 0x00};
static const uint8_t kAlgSha1Rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
                                      0x86, 0x48, 0x86, 0xf7, 0x0d,
                                      0x01, 0x01, 0x05, 0x05, 0x00};
static const uint8_t kAlgEcdsaSha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                          0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t kAlgEcdsaSha256Null[] = {0x30, 0x0c, 0x06, 0x08, 0x2a,
                                              0x86, 0x48, 0xce, 0x3d, 0x04,
                                              0x03, 0x02, 0x05, 0x00};
static const uint8_t kAlgEcdsaSha1[] = {0x30, 0x09, 0x06, 0x07, 0x2a, 0x86,
                                        0x48, 0xce, 0x3d, 0x04, 0x01};
static const uint8_t kAlgEd25519[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};

// OIDs (contents only).
static const uint8_t kOidExtReq[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                     0x0d, 0x01, 0x09, 0x0e};
static const uint8_t kOidChallengePassword[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                0x0d, 0x01, 0x09, 0x07};
static const uint8_t kOidSan[] = {0x55, 0x1d, 0x11};
static const uint8_t kOidKeyUsage[] = {0x55, 0x1d, 0x0f};

// GeneralNames: dNSName a.example.com.
static const uint8_t kSanValue[] = {0x30, 0x0f, 0x82, 0x0d, 'a', '.',
                                    'e',  'x',  'a',  'm',  'p', 'l',
                                    'e',  '.',  'c',  'o',  'm'};
// KeyUsage BIT STRING: digitalSignature.
static const uint8_t kKuValue[] = {0x03, 0x02, 0x07, 0x80};

// --- A hand-made request builder ---

typedef struct hand_csr {
  EVP_PKEY *key;        // signs; its public key is the SPKI unless |spki|
  const uint8_t *spki;  // SubjectPublicKeyInfo element override
  size_t spki_len;
  const uint8_t *alg;  // signatureAlgorithm element
  size_t alg_len;
  const EVP_MD *md;      // signing digest; NULL for Ed25519
  const uint8_t *attrs;  // contents of attributes [0]
  size_t attrs_len;
  int no_attrs;     // omit attributes [0] entirely
  int version;      // 0 for v1
  int unused_bits;  // first octet of the signature BIT STRING
} hand_csr;

static uint8_t *hand_build(const hand_csr *h, size_t *out_len) {
  CBB info, csr, seq, attrs, bits;
  uint8_t *info_der = NULL, *der = NULL;
  size_t info_len;
  uint8_t sig[1024];
  size_t sig_len = sizeof(sig);
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  CBB_zero(&info);
  CBB_zero(&csr);
  if (!CBB_init(&info, 1024) || !CBB_add_asn1(&info, &seq, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1_uint64(&seq, (uint64_t)h->version) ||
      !CBB_add_bytes(&seq, kSubject, sizeof(kSubject))) {
    goto done;
  }
  if (h->spki != NULL) {
    if (!CBB_add_bytes(&seq, h->spki, h->spki_len)) {
      goto done;
    }
  } else if (!EVP_marshal_public_key(&seq, h->key)) {
    goto done;
  }
  if (!h->no_attrs &&
      (!CBB_add_asn1(&seq, &attrs,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
       !CBB_add_bytes(&attrs, h->attrs, h->attrs_len))) {
    goto done;
  }
  if (!CBB_finish(&info, &info_der, &info_len)) {
    goto done;
  }
  if (h->key != NULL) {
    if (!EVP_DigestSignInit(&ctx, NULL, h->md, NULL, h->key) ||
        !EVP_DigestSign(&ctx, sig, &sig_len, info_der, info_len)) {
      goto done;
    }
  } else {
    sig_len = 64;
    memset(sig, 0x55, sig_len);
  }
  if (!CBB_init(&csr, 2048) || !CBB_add_asn1(&csr, &seq, CBS_ASN1_SEQUENCE) ||
      !CBB_add_bytes(&seq, info_der, info_len) ||
      !CBB_add_bytes(&seq, h->alg, h->alg_len) ||
      !CBB_add_asn1(&seq, &bits, CBS_ASN1_BITSTRING) ||
      !CBB_add_u8(&bits, (uint8_t)h->unused_bits) ||
      !CBB_add_bytes(&bits, sig, sig_len) || !CBB_finish(&csr, &der, out_len)) {
    der = NULL;
  }
done:
  CBB_cleanup(&info);
  CBB_cleanup(&csr);
  EVP_MD_CTX_cleanup(&ctx);
  OPENSSL_free(info_der);
  return der;
}

// add_extension appends an Extension; |critical| -1 omits the BOOLEAN,
// 0 writes an explicit FALSE, 1 TRUE, 2 writes an INTEGER in its place.
static int add_extension(CBB *exts, const uint8_t *oid, size_t oid_len,
                         int critical, const uint8_t *value, size_t value_len) {
  CBB ext, obj, octets;
  if (!CBB_add_asn1(exts, &ext, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&ext, &obj, CBS_ASN1_OBJECT) ||
      !CBB_add_bytes(&obj, oid, oid_len)) {
    return 0;
  }
  if (critical == 0 || critical == 1) {
    if (!CBB_add_asn1_bool(&ext, critical)) {
      return 0;
    }
  } else if (critical == 2 && !CBB_add_asn1_uint64(&ext, 1)) {
    return 0;
  }
  return CBB_add_asn1(&ext, &octets, CBS_ASN1_OCTETSTRING) &&
         CBB_add_bytes(&octets, value, value_len) && CBB_flush(exts);
}

// add_attribute appends an Attribute whose SET holds |values| (elements).
static int add_attribute(CBB *attrs, const uint8_t *oid, size_t oid_len,
                         const uint8_t *values, size_t values_len) {
  CBB attr, obj, set;
  return CBB_add_asn1(attrs, &attr, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&attr, &obj, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&obj, oid, oid_len) &&
         CBB_add_asn1(&attr, &set, CBS_ASN1_SET) &&
         CBB_add_bytes(&set, values, values_len) && CBB_flush(attrs);
}

// wrap_seq wraps |contents| in a SEQUENCE into |out| (a CBB already
// initialised).
static int add_seq(CBB *out, const uint8_t *contents, size_t len) {
  CBB seq;
  return CBB_add_asn1(out, &seq, CBS_ASN1_SEQUENCE) &&
         CBB_add_bytes(&seq, contents, len) && CBB_flush(out);
}

static EVP_PKEY *new_key(const char *name) {
  ca_key_spec spec;
  if (!ca_key_spec_parse(&spec, name)) {
    return NULL;
  }
  return ca_key_generate(&spec);
}

// Keys made once: RSA key generation is slow.
static EVP_PKEY *rsa_key, *ec_key;

static int parse_code(const uint8_t *der, size_t len) {
  ca_csr csr;
  ca_err_clear();
  if (ca_csr_parse(&csr, der, len)) {
    ca_csr_cleanup(&csr);
    return CA_OK;
  }
  CHECK(csr.pkey == NULL);  // nothing left to free on failure
  return ca_err_get()->code;
}

// --- Well-formed requests, compared with BoringSSL's view ---

static X509_REQ *boringssl_parse(const uint8_t *der, size_t len) {
  const uint8_t *p = der;
  X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
  CHECK(req != NULL && p == der + len);
  return req;
}

static int cbs_equals_i2d(const CBS *cbs, uint8_t *der, int der_len) {
  const int eq = der_len > 0 && CBS_mem_equal(cbs, der, (size_t)der_len);
  OPENSSL_free(der);
  return eq;
}

static void check_against_boringssl(const char *key, const char *digest,
                                    const char *sans, int want_nid,
                                    unsigned want_bits, ca_key_type want_type,
                                    const EVP_MD *want_md) {
  test_csr_spec spec = {.key = key,
                        .subject = "/CN=cucm1.example.com/O=Example",
                        .sans = sans,
                        .digest = digest};
  size_t len;
  EVP_PKEY *pkey = NULL;
  uint8_t *der = test_make_csr(&spec, &len, &pkey);
  CHECK(der != NULL);
  if (der == NULL) {
    return;
  }
  ca_csr csr;
  CHECK(ca_csr_parse(&csr, der, len));
  CHECK_EQ_INT(csr.key.type, want_type);
  CHECK_EQ_INT(csr.key.bits, want_bits);
  CHECK_EQ_INT(csr.key.curve_nid, want_nid);
  CHECK_EQ_INT(csr.signature_key_type, want_type);
  CHECK(csr.digest == want_md);
  CHECK(EVP_PKEY_cmp(csr.pkey, pkey) == 1);
  CHECK(ca_csr_verify(&csr));

  X509_REQ *req = boringssl_parse(der, len);
  uint8_t *buf = NULL;
  int buf_len = i2d_re_X509_REQ_tbs(req, &buf);
  CHECK(cbs_equals_i2d(&csr.info, buf, buf_len));
  buf = NULL;
  buf_len = i2d_X509_NAME(X509_REQ_get_subject_name(req), &buf);
  CHECK(cbs_equals_i2d(&csr.subject, buf, buf_len));
  buf = NULL;
  buf_len = i2d_PUBKEY(pkey, &buf);
  CHECK(cbs_equals_i2d(&csr.spki, buf, buf_len));
  const ASN1_BIT_STRING *sig;
  const X509_ALGOR *alg;
  X509_REQ_get0_signature(req, &sig, &alg);
  CHECK(CBS_mem_equal(&csr.signature, ASN1_STRING_get0_data(sig),
                      (size_t)ASN1_STRING_length(sig)));
  // The requested SAN is BoringSSL's extnValue, byte for byte.
  STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
  X509_EXTENSION *san = NULL;
  for (size_t i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
    X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name) {
      san = ext;
    }
  }
  CHECK_EQ_INT(csr.has_san, san != NULL);
  CHECK_EQ_INT(csr.has_san, sans != NULL);
  if (san != NULL) {
    const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(san);
    CHECK(CBS_mem_equal(&csr.san, ASN1_STRING_get0_data(value),
                        (size_t)ASN1_STRING_length(value)));
  } else {
    CHECK_EQ_INT(CBS_len(&csr.san), 0);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  ca_csr_cleanup(&csr);
  CHECK(csr.pkey == NULL);
  EVP_PKEY_free(pkey);
  OPENSSL_free(der);
}

TEST(fields_match_boringssl) {
  check_against_boringssl("RSA-2048", NULL, NULL, 0, 2048, CA_KEY_RSA,
                          EVP_sha256());
  check_against_boringssl("RSA-2048", "sha512",
                          "DNS:cucm1.example.com,IP:10.0.0.1", 0, 2048,
                          CA_KEY_RSA, EVP_sha512());
  check_against_boringssl("EC-P256", NULL, "DNS:cucm1.example.com",
                          NID_X9_62_prime256v1, 256, CA_KEY_EC, EVP_sha256());
  check_against_boringssl("EC-P384", "sha384", NULL, NID_secp384r1, 384,
                          CA_KEY_EC, EVP_sha384());
  check_against_boringssl("EC-P256", "sha512", NULL, NID_X9_62_prime256v1, 256,
                          CA_KEY_EC, EVP_sha512());
}

TEST(corrupt_signature_parses_but_does_not_verify) {
  test_csr_spec spec = {
      .key = "EC-P256", .subject = "/CN=a.example.com", .corrupt_signature = 1};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  ca_csr csr;
  CHECK(der != NULL && ca_csr_parse(&csr, der, len));
  CHECK(!ca_csr_verify(&csr));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_SIGNATURE_INVALID);
  ca_csr_cleanup(&csr);
  OPENSSL_free(der);
}

TEST(signature_by_another_key_does_not_verify) {
  // Proof of possession: a request carrying rsa_key's public key but signed
  // by another RSA key parses and fails verification.
  hand_csr h = {.key = rsa_key,
                .alg = kAlgSha256Rsa,
                .alg_len = sizeof(kAlgSha256Rsa),
                .md = EVP_sha256()};
  size_t len;
  uint8_t *der = hand_build(&h, &len);
  ca_csr csr;
  CHECK(der != NULL && ca_csr_parse(&csr, der, len));
  CHECK(ca_csr_verify(&csr));
  ca_csr_cleanup(&csr);
  // Same SPKI, signed by another RSA key.
  EVP_PKEY *other = new_key("RSA-2048");
  uint8_t *spki = NULL;
  const int spki_len = i2d_PUBKEY(rsa_key, &spki);
  hand_csr forged = h;
  forged.key = other;
  forged.spki = spki;
  forged.spki_len = (size_t)spki_len;
  size_t forged_len;
  uint8_t *forged_der = hand_build(&forged, &forged_len);
  CHECK(forged_der != NULL && ca_csr_parse(&csr, forged_der, forged_len));
  CHECK(!ca_csr_verify(&csr));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_SIGNATURE_INVALID);
  ca_csr_cleanup(&csr);
  OPENSSL_free(forged_der);
  OPENSSL_free(spki);
  EVP_PKEY_free(other);
  OPENSSL_free(der);
}

// --- Signature algorithms ---

TEST(signature_algorithms) {
  struct {
    const uint8_t *alg;
    size_t alg_len;
    EVP_PKEY *key;
    const EVP_MD *md;
    int want;
  } cases[] = {
      // RSA parameters may be NULL or absent (both seen in the wild).
      {kAlgSha256Rsa, sizeof(kAlgSha256Rsa), rsa_key, EVP_sha256(), CA_OK},
      {kAlgSha256RsaNoParams, sizeof(kAlgSha256RsaNoParams), rsa_key,
       EVP_sha256(), CA_OK},
      {kAlgSha256RsaIntParams, sizeof(kAlgSha256RsaIntParams), rsa_key,
       EVP_sha256(), CA_ERR_CSR_MALFORMED},
      {kAlgSha256RsaTwoNulls, sizeof(kAlgSha256RsaTwoNulls), rsa_key,
       EVP_sha256(), CA_ERR_CSR_MALFORMED},
      // ECDSA parameters must be absent (RFC 5758).
      {kAlgEcdsaSha256, sizeof(kAlgEcdsaSha256), ec_key, EVP_sha256(), CA_OK},
      {kAlgEcdsaSha256Null, sizeof(kAlgEcdsaSha256Null), ec_key, EVP_sha256(),
       CA_ERR_CSR_MALFORMED},
      // SHA-1 is refused for both key types.
      {kAlgSha1Rsa, sizeof(kAlgSha1Rsa), rsa_key, EVP_sha1(),
       CA_ERR_CSR_SIGNATURE_ALGORITHM},
      {kAlgEcdsaSha1, sizeof(kAlgEcdsaSha1), ec_key, EVP_sha1(),
       CA_ERR_CSR_SIGNATURE_ALGORITHM},
      // The algorithm must fit the key. csr.h does not list this code among
      // ca_csr_parse's failures; csr.c raises it deliberately.
      {kAlgEcdsaSha256, sizeof(kAlgEcdsaSha256), rsa_key, EVP_sha256(),
       CA_ERR_CSR_SIGNATURE_INVALID},
      {kAlgSha256Rsa, sizeof(kAlgSha256Rsa), ec_key, EVP_sha256(),
       CA_ERR_CSR_SIGNATURE_INVALID},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    hand_csr h = {.key = cases[i].key,
                  .alg = cases[i].alg,
                  .alg_len = cases[i].alg_len,
                  .md = cases[i].md};
    size_t len;
    uint8_t *der = hand_build(&h, &len);
    CHECK(der != NULL);
    const int code = der != NULL ? parse_code(der, len) : -1;
    if (code != cases[i].want) {
      fprintf(stderr, "  case %zu: %s\n", i, ca_err_get()->message);
    }
    CHECK_EQ_INT(code, cases[i].want);
    if (code == CA_OK) {
      // The signature covers only the CertificationRequestInfo, so the
      // variants that parse also verify.
      ca_csr csr;
      CHECK(ca_csr_parse(&csr, der, len) && ca_csr_verify(&csr));
      ca_csr_cleanup(&csr);
    }
    OPENSSL_free(der);
  }
}

// outer_alg_oid_last returns the offset of the last OID octet of the outer
// signatureAlgorithm of |der|, found with CBS rather than by guessing.
static size_t outer_alg_oid_last(const uint8_t *der, size_t len) {
  CBS in, req, info, alg, oid;
  CBS_init(&in, der, len);
  if (!CBS_get_asn1(&in, &req, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1_element(&req, &info, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&req, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT)) {
    return 0;
  }
  return (size_t)(CBS_data(&oid) - der) + CBS_len(&oid) - 1;
}

TEST(patched_rsa_algorithms_are_unsupported) {
  test_csr_spec spec = {.key = "RSA-2048", .subject = "/CN=a.example.com"};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  const size_t at = der != NULL ? outer_alg_oid_last(der, len) : 0;
  CHECK(at > 0);
  CHECK(der != NULL && der[at] == 0x0b);  // sha256WithRSAEncryption
  // 1.2.840.113549.1.1.{4,5,10,14}: MD5, SHA-1, RSASSA-PSS, SHA-224.
  static const uint8_t kArcs[] = {0x04, 0x05, 0x0a, 0x0e};
  for (size_t i = 0; at > 0 && i < sizeof(kArcs); i++) {
    der[at] = kArcs[i];
    CHECK_EQ_INT(parse_code(der, len), CA_ERR_CSR_SIGNATURE_ALGORITHM);
  }
  if (at > 0) {
    der[at] = 0x0c;  // sha384WithRSAEncryption: parses, fails verification
    ca_csr csr;
    CHECK(ca_csr_parse(&csr, der, len));
    CHECK(csr.digest == EVP_sha384());
    CHECK(!ca_csr_verify(&csr));
    ca_csr_cleanup(&csr);
  }
  OPENSSL_free(der);
}

TEST(ed25519_requests_are_refused) {
  // A genuine Ed25519 request from BoringSSL: refused for its key, which is
  // checked before the signature algorithm (the more useful reason).
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
  EVP_PKEY *ed = NULL;
  CHECK(ctx != NULL && EVP_PKEY_keygen_init(ctx) && EVP_PKEY_keygen(ctx, &ed));
  EVP_PKEY_CTX_free(ctx);
  X509_REQ *req = X509_REQ_new();
  uint8_t *der = NULL;
  int len = -1;
  if (ed != NULL && req != NULL && X509_REQ_set_pubkey(req, ed) &&
      X509_REQ_sign(req, ed, NULL)) {
    len = i2d_X509_REQ(req, &der);
  }
  CHECK(len > 0);
  if (len > 0) {
    CHECK_EQ_INT(parse_code(der, (size_t)len), CA_ERR_KEY_UNSUPPORTED);
  }
  OPENSSL_free(der);
  // An Ed25519 key under an ECDSA algorithm: the key type is refused.
  uint8_t *spki = NULL;
  const int spki_len = i2d_PUBKEY(ed, &spki);
  hand_csr h = {.spki = spki,
                .spki_len = (size_t)spki_len,
                .alg = kAlgEcdsaSha256,
                .alg_len = sizeof(kAlgEcdsaSha256)};
  size_t hand_len;
  uint8_t *hand = hand_build(&h, &hand_len);
  CHECK(hand != NULL && parse_code(hand, hand_len) == CA_ERR_KEY_UNSUPPORTED);
  // With the Ed25519 algorithm too, the key is what is refused.
  h.alg = kAlgEd25519;
  h.alg_len = sizeof(kAlgEd25519);
  uint8_t *hand2 = hand_build(&h, &hand_len);
  CHECK(hand2 != NULL && parse_code(hand2, hand_len) == CA_ERR_KEY_UNSUPPORTED);
  ca_key_info info;
  CHECK(!ca_key_info_from_pkey(ed, &info));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_UNSUPPORTED);
  OPENSSL_free(hand);
  OPENSSL_free(hand2);
  OPENSSL_free(spki);
  X509_REQ_free(req);
  EVP_PKEY_free(ed);
}

// rsa_spki returns the SubjectPublicKeyInfo of an RSA public key with a
// |bits|-bit modulus (random, odd, top bit set) and e = 65537: no key
// generation needed to test size limits.
static uint8_t *rsa_spki(unsigned bits, size_t *out_len) {
  BIGNUM *n = BN_new(), *e = BN_new();
  RSA *rsa = RSA_new();
  EVP_PKEY *pkey = EVP_PKEY_new();
  uint8_t *der = NULL;
  if (n != NULL && e != NULL && rsa != NULL && pkey != NULL &&
      BN_rand(n, (int)bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) &&
      BN_set_word(e, RSA_F4) && RSA_set0_key(rsa, n, e, NULL)) {
    n = e = NULL;
    if (EVP_PKEY_assign_RSA(pkey, rsa)) {
      rsa = NULL;
      const int len = i2d_PUBKEY(pkey, &der);
      if (len > 0) {
        *out_len = (size_t)len;
      } else {
        der = NULL;
      }
    }
  }
  BN_free(n);
  BN_free(e);
  RSA_free(rsa);
  EVP_PKEY_free(pkey);
  return der;
}

TEST(rsa_key_sizes) {
  static const struct {
    unsigned bits;
    int want;
  } kCases[] = {
      {1024, CA_OK},
      {3072, CA_OK},
      {4096, CA_OK},
      {CA_LIMIT_RSA_MAX_BITS, CA_OK},
      {CA_LIMIT_RSA_MAX_BITS + 8, CA_ERR_KEY_SIZE_UNSUPPORTED},
      {CA_LIMIT_RSA_MAX_BITS * 2, CA_ERR_KEY_SIZE_UNSUPPORTED},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    size_t spki_len = 0;
    uint8_t *spki = rsa_spki(kCases[i].bits, &spki_len);
    CHECK(spki != NULL);
    hand_csr h = {.spki = spki,
                  .spki_len = spki_len,
                  .alg = kAlgSha256Rsa,
                  .alg_len = sizeof(kAlgSha256Rsa)};
    size_t len;
    uint8_t *der = hand_build(&h, &len);
    CHECK(der != NULL);
    ca_csr csr;
    const int ok = der != NULL && ca_csr_parse(&csr, der, len);
    CHECK_EQ_INT(ok ? CA_OK : ca_err_get()->code, kCases[i].want);
    if (ok) {
      CHECK_EQ_INT(csr.key.bits, kCases[i].bits);
      CHECK(!ca_csr_verify(&csr));  // the signature is filler
      ca_csr_cleanup(&csr);
    }
    OPENSSL_free(der);
    OPENSSL_free(spki);
  }
}

// --- Structure ---

TEST(every_truncation_is_malformed) {
  test_csr_spec spec = {.key = "EC-P256",
                        .subject = "/CN=a.example.com/O=Example",
                        .sans = "DNS:a.example.com"};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  CHECK(der != NULL);
  for (size_t n = 0; der != NULL && n < len; n++) {
    const int code = parse_code(der, n);
    if (code != CA_ERR_CSR_MALFORMED) {
      fprintf(stderr, "  prefix of %zu bytes: %s\n", n,
              ca_err_code_name((ca_err_code)code));
    }
    CHECK_EQ_INT(code, CA_ERR_CSR_MALFORMED);
  }
  OPENSSL_free(der);
}

TEST(trailing_garbage_and_size) {
  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=a.example.com"};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  uint8_t *longer = malloc(len + 1);
  memcpy(longer, der, len);
  longer[len] = 0x00;
  CHECK_EQ_INT(parse_code(longer, len + 1), CA_ERR_CSR_MALFORMED);
  // Garbage inside the outer SEQUENCE, after the signature: bump the outer
  // length (one length octet, 0x81 form, for this small request) and
  // append a byte.
  CHECK(der[1] == 0x81 && der[2] < 0xff);
  if (der[1] == 0x81 && der[2] < 0xff) {
    longer[2] = (uint8_t)(der[2] + 1);
    CHECK_EQ_INT(parse_code(longer, len + 1), CA_ERR_CSR_MALFORMED);
  }
  CHECK_EQ_INT(parse_code(der, len), CA_OK);
  free(longer);
  // Over the limit: refused on size before anything is read.
  uint8_t *big = calloc(1, CA_LIMIT_CSR_BYTES + 1);
  big[0] = 0x30;
  CHECK_EQ_INT(parse_code(big, CA_LIMIT_CSR_BYTES + 1), CA_ERR_CSR_TOO_LARGE);
  CHECK_EQ_INT(parse_code(big, CA_LIMIT_CSR_BYTES), CA_ERR_CSR_MALFORMED);
  free(big);
  CHECK_EQ_INT(parse_code((const uint8_t *)"", 0), CA_ERR_CSR_MALFORMED);
  CHECK_EQ_INT(parse_code((const uint8_t *)"\x30\x00", 2),
               CA_ERR_CSR_MALFORMED);
  OPENSSL_free(der);
}

TEST(version_and_bit_string) {
  hand_csr h = {.key = ec_key,
                .alg = kAlgEcdsaSha256,
                .alg_len = sizeof(kAlgEcdsaSha256),
                .md = EVP_sha256()};
  size_t len;
  uint8_t *der = hand_build(&h, &len);
  CHECK(der != NULL && parse_code(der, len) == CA_OK);
  OPENSSL_free(der);
  h.version = 1;  // only v1 (0) exists
  der = hand_build(&h, &len);
  CHECK(der != NULL && parse_code(der, len) == CA_ERR_CSR_MALFORMED);
  OPENSSL_free(der);
  h.version = 0;
  h.unused_bits = 1;  // a signature is a whole number of octets
  der = hand_build(&h, &len);
  CHECK(der != NULL && parse_code(der, len) == CA_ERR_CSR_MALFORMED);
  OPENSSL_free(der);
  // Attributes with a wrong tag: patch [0] (0xa0) to [1] (0xa1).
  h.unused_bits = 0;
  der = hand_build(&h, &len);
  CBS in, req, info_el, info, skip;
  CBS_init(&in, der, len);
  CHECK(CBS_get_asn1(&in, &req, CBS_ASN1_SEQUENCE) &&
        CBS_get_asn1_element(&req, &info_el, CBS_ASN1_SEQUENCE) &&
        CBS_get_asn1(&info_el, &info, CBS_ASN1_SEQUENCE) &&
        CBS_get_asn1(&info, &skip, CBS_ASN1_INTEGER) &&
        CBS_get_asn1(&info, &skip, CBS_ASN1_SEQUENCE) &&
        CBS_get_asn1(&info, &skip, CBS_ASN1_SEQUENCE));
  const size_t at = (size_t)(CBS_data(&info) - der);
  CHECK(der[at] == 0xa0);
  der[at] = 0xa1;
  CHECK_EQ_INT(parse_code(der, len), CA_ERR_CSR_MALFORMED);
  // Restoring the tag restores a valid request: the patch was the fault.
  der[at] = 0xa0;
  CHECK_EQ_INT(parse_code(der, len), CA_OK);
  OPENSSL_free(der);
}

// --- Requested extensions ---

// ext_request_csr builds a request signed by ec_key whose attributes are
// |attrs| and returns the parse result code; |out_has_san| receives has_san.
static int attrs_result(const uint8_t *attrs, size_t attrs_len,
                        int *out_has_san) {
  hand_csr h = {.key = ec_key,
                .alg = kAlgEcdsaSha256,
                .alg_len = sizeof(kAlgEcdsaSha256),
                .md = EVP_sha256(),
                .attrs = attrs,
                .attrs_len = attrs_len};
  size_t len;
  uint8_t *der = hand_build(&h, &len);
  if (der == NULL) {
    return -1;
  }
  ca_csr csr;
  int code;
  ca_err_clear();
  if (ca_csr_parse(&csr, der, len)) {
    code = CA_OK;
    *out_has_san = csr.has_san;
    if (csr.has_san) {
      CHECK(CBS_mem_equal(&csr.san, kSanValue, sizeof(kSanValue)));
    }
    CHECK(ca_csr_verify(&csr));
    ca_csr_cleanup(&csr);
  } else {
    code = ca_err_get()->code;
  }
  OPENSSL_free(der);
  return code;
}

// ext_request builds the attributes holding one extensionRequest whose
// Extensions are |n_exts| copies chosen by |kind|.
enum {
  EXT_SAN,
  EXT_KU,
  EXT_SAN_CRITICAL,
  EXT_SAN_EXPLICIT_FALSE,
  EXT_BAD_BOOL
};

static int ext_request(CBB *attrs, const int *kinds, size_t n) {
  CBB exts_cbb;
  uint8_t *exts = NULL;
  size_t exts_len;
  if (!CBB_init(&exts_cbb, 256)) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    int ok;
    switch (kinds[i]) {
      case EXT_SAN:
        ok = add_extension(&exts_cbb, kOidSan, sizeof(kOidSan), -1, kSanValue,
                           sizeof(kSanValue));
        break;
      case EXT_SAN_CRITICAL:
        ok = add_extension(&exts_cbb, kOidSan, sizeof(kOidSan), 1, kSanValue,
                           sizeof(kSanValue));
        break;
      case EXT_SAN_EXPLICIT_FALSE:
        ok = add_extension(&exts_cbb, kOidSan, sizeof(kOidSan), 0, kSanValue,
                           sizeof(kSanValue));
        break;
      case EXT_BAD_BOOL:
        ok = add_extension(&exts_cbb, kOidKeyUsage, sizeof(kOidKeyUsage), 2,
                           kKuValue, sizeof(kKuValue));
        break;
      default:
        ok = add_extension(&exts_cbb, kOidKeyUsage, sizeof(kOidKeyUsage), 1,
                           kKuValue, sizeof(kKuValue));
    }
    if (!ok) {
      CBB_cleanup(&exts_cbb);
      return 0;
    }
  }
  CBB value;
  int ok = CBB_finish(&exts_cbb, &exts, &exts_len) &&
           CBB_init(&value, exts_len + 8) && add_seq(&value, exts, exts_len);
  if (ok) {
    ok = add_attribute(attrs, kOidExtReq, sizeof(kOidExtReq), CBB_data(&value),
                       CBB_len(&value));
    CBB_cleanup(&value);
  }
  OPENSSL_free(exts);
  return ok;
}

static int ext_result(const int *kinds, size_t n, int *has_san) {
  CBB attrs;
  if (!CBB_init(&attrs, 512) || !ext_request(&attrs, kinds, n)) {
    CBB_cleanup(&attrs);
    return -1;
  }
  const int code = attrs_result(CBB_data(&attrs), CBB_len(&attrs), has_san);
  CBB_cleanup(&attrs);
  return code;
}

TEST(requested_extensions) {
  int has_san = -1;
  // None at all: no [0] contents.
  CHECK_EQ_INT(attrs_result(NULL, 0, &has_san), CA_OK);
  CHECK_EQ_INT(has_san, 0);
  // Key usage only: read for its encoding, otherwise ignored.
  const int ku[] = {EXT_KU};
  has_san = -1;
  CHECK_EQ_INT(ext_result(ku, 1, &has_san), CA_OK);
  CHECK_EQ_INT(has_san, 0);
  // SAN among other extensions.
  const int ku_san_ku[] = {EXT_KU, EXT_SAN, EXT_KU};
  has_san = -1;
  CHECK_EQ_INT(ext_result(ku_san_ku, 3, &has_san), CA_OK);
  CHECK_EQ_INT(has_san, 1);
  // Criticality is read but does not change what is taken.
  const int crit[] = {EXT_SAN_CRITICAL};
  has_san = -1;
  CHECK_EQ_INT(ext_result(crit, 1, &has_san), CA_OK);
  CHECK_EQ_INT(has_san, 1);
  // Duplicate SAN: which one would the client mean?
  const int two_sans[] = {EXT_SAN, EXT_KU, EXT_SAN_CRITICAL};
  CHECK_EQ_INT(ext_result(two_sans, 3, &has_san), CA_ERR_CSR_MALFORMED);
  // A BOOLEAN slot holding an INTEGER.
  const int bad_bool[] = {EXT_BAD_BOOL};
  CHECK_EQ_INT(ext_result(bad_bool, 1, &has_san), CA_ERR_CSR_MALFORMED);
  // 64 requested extensions are read; 65 are refused.
  int many[65];
  for (size_t i = 0; i < 65; i++) {
    many[i] = EXT_KU;
  }
  CHECK_EQ_INT(ext_result(many, 64, &has_san), CA_OK);
  CHECK_EQ_INT(ext_result(many, 65, &has_san), CA_ERR_CSR_MALFORMED);
}

TEST(extension_request_attribute_shapes) {
  int has_san = 0;
  CBB attrs;
  // Two extensionRequest attributes each with a SAN: still a duplicate.
  const int san[] = {EXT_SAN};
  CHECK(CBB_init(&attrs, 512) && ext_request(&attrs, san, 1) &&
        ext_request(&attrs, san, 1));
  CHECK_EQ_INT(attrs_result(CBB_data(&attrs), CBB_len(&attrs), &has_san),
               CA_ERR_CSR_MALFORMED);
  CBB_cleanup(&attrs);
  // A challengePassword attribute is ignored, next to a SAN request.
  static const uint8_t kPassword[] = {0x0c, 0x03, 'p', 'w', 'd'};
  CHECK(CBB_init(&attrs, 512) &&
        add_attribute(&attrs, kOidChallengePassword,
                      sizeof(kOidChallengePassword), kPassword,
                      sizeof(kPassword)) &&
        ext_request(&attrs, san, 1));
  has_san = 0;
  CHECK_EQ_INT(attrs_result(CBB_data(&attrs), CBB_len(&attrs), &has_san),
               CA_OK);
  CHECK_EQ_INT(has_san, 1);
  CBB_cleanup(&attrs);
  // extensionRequest with an empty SET, or two values in its SET.
  static const uint8_t kEmptyExts[] = {0x30, 0x00};
  CHECK(CBB_init(&attrs, 64) &&
        add_attribute(&attrs, kOidExtReq, sizeof(kOidExtReq), NULL, 0));
  CHECK_EQ_INT(attrs_result(CBB_data(&attrs), CBB_len(&attrs), &has_san),
               CA_ERR_CSR_MALFORMED);
  CBB_cleanup(&attrs);
  uint8_t two[4];
  memcpy(two, kEmptyExts, 2);
  memcpy(two + 2, kEmptyExts, 2);
  CHECK(CBB_init(&attrs, 64) &&
        add_attribute(&attrs, kOidExtReq, sizeof(kOidExtReq), two, 4));
  CHECK_EQ_INT(attrs_result(CBB_data(&attrs), CBB_len(&attrs), &has_san),
               CA_ERR_CSR_MALFORMED);
  CBB_cleanup(&attrs);
  // An attribute whose values are not a SET.
  static const uint8_t kNotSet[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
                                    0x86, 0x48, 0x86, 0xf7, 0x0d,
                                    0x01, 0x09, 0x0e, 0x30, 0x00};
  CHECK_EQ_INT(attrs_result(kNotSet, sizeof(kNotSet), &has_san),
               CA_ERR_CSR_MALFORMED);
  // Garbage inside [0].
  static const uint8_t kJunk[] = {0x05, 0x00};
  CHECK_EQ_INT(attrs_result(kJunk, sizeof(kJunk), &has_san),
               CA_ERR_CSR_MALFORMED);
}

// Strict DER (ca/x509/der.h) in every part of a request: each vector is
// hand-built DER that differs from an accepted request in one encoding
// choice, and each is refused as CSR_MALFORMED where the accepted one
// passes.
TEST(strict_der_everywhere) {
  int has_san = 0;
  CBB attrs;
  // critical FALSE written out: a DEFAULT value encoded (X.690 11.5).
  const int explicit_false[] = {EXT_SAN_EXPLICIT_FALSE};
  CHECK_EQ_INT(ext_result(explicit_false, 1, &has_san), CA_ERR_CSR_MALFORMED);
  // critical TRUE is not a DEFAULT and is taken.
  const int critical_true[] = {EXT_SAN_CRITICAL};
  CHECK_EQ_INT(ext_result(critical_true, 1, &has_san), CA_OK);
  // A critical BOOLEAN of 0x01 (BER TRUE, not DER's 0xFF).
  static const uint8_t kBerTrueExt[] = {0x30, 0x0e, 0x30, 0x0c, 0x06, 0x03,
                                        0x55, 0x1d, 0x0f, 0x01, 0x01, 0x01,
                                        0x04, 0x02, 0x05, 0x00};
  // The value of a requested extension (extnValue holds DER) with a
  // non-minimal length: a SAN of one dNSName "a" as 30 81 03 82 01 61.
  static const uint8_t kLongLenSanExt[] = {0x30, 0x0f, 0x30, 0x0d, 0x06, 0x03,
                                           0x55, 0x1d, 0x11, 0x04, 0x06, 0x30,
                                           0x81, 0x03, 0x82, 0x01, 0x61};
  // The same KU extension with DER TRUE: taken.
  static const uint8_t kDerTrueExt[] = {0x30, 0x0e, 0x30, 0x0c, 0x06, 0x03,
                                        0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff,
                                        0x04, 0x02, 0x05, 0x00};
  const struct {
    const uint8_t *exts;
    size_t len;
    int want;
  } kExtVectors[] = {
      {kBerTrueExt, sizeof(kBerTrueExt), CA_ERR_CSR_MALFORMED},
      {kLongLenSanExt, sizeof(kLongLenSanExt), CA_ERR_CSR_MALFORMED},
      {kDerTrueExt, sizeof(kDerTrueExt), CA_OK},
  };
  for (size_t i = 0; i < sizeof(kExtVectors) / sizeof(kExtVectors[0]); i++) {
    CHECK(CBB_init(&attrs, 64) &&
          add_attribute(&attrs, kOidExtReq, sizeof(kOidExtReq),
                        kExtVectors[i].exts, kExtVectors[i].len));
    CHECK_EQ_INT(attrs_result(CBB_data(&attrs), CBB_len(&attrs), &has_san),
                 kExtVectors[i].want);
    CBB_cleanup(&attrs);
  }
  // The values of other attributes, which pki otherwise ignores, are
  // walked too. A challengePassword UTF8String "pwd" in DER, then with a
  // long-form tag (1F 0C), a non-minimal length (81 03), as a constructed
  // string (2C), beside a non-minimal INTEGER (02 02 00 01) and a NULL
  // with contents.
  static const uint8_t kPwdDer[] = {0x0c, 0x03, 'p', 'w', 'd'};
  static const uint8_t kPwdLongTag[] = {0x1f, 0x0c, 0x03, 'p', 'w', 'd'};
  static const uint8_t kPwdLongLen[] = {0x0c, 0x81, 0x03, 'p', 'w', 'd'};
  static const uint8_t kPwdConstructed[] = {0x2c, 0x05, 0x0c, 0x03,
                                            'p',  'w',  'd'};
  static const uint8_t kLongInteger[] = {0x02, 0x02, 0x00, 0x01};
  static const uint8_t kNullContents[] = {0x05, 0x01, 0x00};
  static const uint8_t kIndefinite[] = {0x30, 0x80, 0x05, 0x00, 0x00, 0x00};
  const struct {
    const uint8_t *value;
    size_t len;
    int want;
  } kAttrVectors[] = {
      {kPwdDer, sizeof(kPwdDer), CA_OK},
      {kPwdLongTag, sizeof(kPwdLongTag), CA_ERR_CSR_MALFORMED},
      {kPwdLongLen, sizeof(kPwdLongLen), CA_ERR_CSR_MALFORMED},
      {kPwdConstructed, sizeof(kPwdConstructed), CA_ERR_CSR_MALFORMED},
      {kLongInteger, sizeof(kLongInteger), CA_ERR_CSR_MALFORMED},
      {kNullContents, sizeof(kNullContents), CA_ERR_CSR_MALFORMED},
      {kIndefinite, sizeof(kIndefinite), CA_ERR_CSR_MALFORMED},
  };
  for (size_t i = 0; i < sizeof(kAttrVectors) / sizeof(kAttrVectors[0]); i++) {
    CHECK(CBB_init(&attrs, 64) &&
          add_attribute(&attrs, kOidChallengePassword,
                        sizeof(kOidChallengePassword), kAttrVectors[i].value,
                        kAttrVectors[i].len));
    const int code = attrs_result(CBB_data(&attrs), CBB_len(&attrs), &has_san);
    if (code != kAttrVectors[i].want) {
      fprintf(stderr, "  attribute vector %zu: %d\n", i, code);
    }
    CHECK_EQ_INT(code, kAttrVectors[i].want);
    CBB_cleanup(&attrs);
  }
}

TEST(duplicate_san_from_boringssl_encoder) {
  // Two subjectAltName extensions in one request, encoded by BoringSSL.
  X509_REQ *req = X509_REQ_new();
  STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
  for (int i = 0; i < 2; i++) {
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gen = GENERAL_NAME_new();
    ASN1_IA5STRING *str = ASN1_IA5STRING_new();
    ASN1_STRING_set(str, i == 0 ? "a.example.com" : "b.example.com", -1);
    GENERAL_NAME_set0_value(gen, GEN_DNS, str);
    sk_GENERAL_NAME_push(gens, gen);
    sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, gens));
    GENERAL_NAMES_free(gens);
  }
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
                             MBSTRING_UTF8, (const uint8_t *)"a.example.com",
                             -1, -1, 0);
  uint8_t *der = NULL;
  int len = -1;
  if (X509_REQ_set_version(req, 0) && X509_REQ_set_pubkey(req, ec_key) &&
      X509_REQ_add_extensions(req, exts) &&
      X509_REQ_sign(req, ec_key, EVP_sha256())) {
    len = i2d_X509_REQ(req, &der);
  }
  CHECK(len > 0);
  if (len > 0) {
    CHECK_EQ_INT(parse_code(der, (size_t)len), CA_ERR_CSR_MALFORMED);
    CHECK(strstr(ca_err_get()->message, "twice") != NULL);
  }
  OPENSSL_free(der);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
}

// --- ca_csr_decode ---

TEST(decode_der_and_pem) {
  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=a.example.com"};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  const uint8_t *out;
  size_t out_len;
  uint8_t *owned = (uint8_t *)"sentinel";
  // DER is passed through without a copy.
  CHECK(ca_csr_decode(der, len, &out, &out_len, &owned));
  CHECK(out == der && out_len == len && owned == NULL);
  // PEM is decoded into a new buffer.
  char *pem = test_pem_csr(der, len);
  CHECK(
      ca_csr_decode((const uint8_t *)pem, strlen(pem), &out, &out_len, &owned));
  CHECK(owned != NULL && out == owned && out_len == len &&
        memcmp(out, der, len) == 0);
  OPENSSL_free(owned);
  // "NEW CERTIFICATE REQUEST" (old Netscape/Microsoft label), CRLF lines,
  // leading whitespace, and a different block before the request.
  CBB cbb;
  CHECK(CBB_init(&cbb, 4096) &&
        CBB_add_bytes(&cbb, (const uint8_t *)"\r\n  \t", 5) &&
        ca_pem_add(&cbb, "CERTIFICATE", (const uint8_t *)"\x30\x00", 2) &&
        ca_pem_add(&cbb, "NEW CERTIFICATE REQUEST", der, len));
  CHECK(ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
  CHECK(owned != NULL && out_len == len && memcmp(out, der, len) == 0);
  OPENSSL_free(owned);
  CBB_cleanup(&cbb);
  // PEM holding no request.
  CHECK(CBB_init(&cbb, 256) &&
        ca_pem_add(&cbb, "CERTIFICATE", (const uint8_t *)"\x30\x00", 2));
  CHECK(!ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PEM_MALFORMED);
  CHECK(owned == NULL);
  CBB_cleanup(&cbb);
  // Neither DER nor PEM.
  CHECK(!ca_csr_decode((const uint8_t *)"hello", 5, &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_MALFORMED);
  CHECK(!ca_csr_decode((const uint8_t *)"", 0, &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_MALFORMED);
  // A broken PEM block.
  static const char kBroken[] = "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n";
  CHECK(!ca_csr_decode((const uint8_t *)kBroken, sizeof(kBroken) - 1, &out,
                       &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PEM_MALFORMED);
  OPENSSL_free(pem);
  OPENSSL_free(der);
}

// What people paste: openssl req -text output (the decoded request, then
// the block), a UTF-8 byte order mark, text after the block. Two requests
// in one input are refused with their own code, in PEM and in DER.
TEST(decode_text_bom_and_multiple) {
  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=a.example.com"};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  char *pem = test_pem_csr(der, len);
  const uint8_t *out;
  size_t out_len;
  uint8_t *owned;
  CBB cbb;
  static const char kText[] =
      "Certificate Request:\n    Data:\n        Version: 1 (0x0)\n"
      "        Subject: CN = a.example.com\n";
  static const char kBom[] = "\xef\xbb\xbf";
  const struct {
    const char *before, *after;
  } kAccepted[] = {
      {kText, ""},
      {kBom, ""},
      {kBom, "\nsaved by the admin tool\n"},
      {"", "trailing words\r\n"},
  };
  for (size_t i = 0; i < sizeof(kAccepted) / sizeof(kAccepted[0]); i++) {
    CHECK(CBB_init(&cbb, 4096) &&
          CBB_add_bytes(&cbb, (const uint8_t *)kAccepted[i].before,
                        strlen(kAccepted[i].before)) &&
          CBB_add_bytes(&cbb, (const uint8_t *)pem, strlen(pem)) &&
          CBB_add_bytes(&cbb, (const uint8_t *)kAccepted[i].after,
                        strlen(kAccepted[i].after)));
    owned = NULL;
    CHECK(ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
    CHECK(owned != NULL && out_len == len && memcmp(out, der, len) == 0);
    OPENSSL_free(owned);
    CBB_cleanup(&cbb);
  }
  // A BOM before DER is dropped as well.
  CHECK(CBB_init(&cbb, 4096) && CBB_add_bytes(&cbb, (const uint8_t *)kBom, 3) &&
        CBB_add_bytes(&cbb, der, len));
  CHECK(ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
  CHECK(owned == NULL && out_len == len && memcmp(out, der, len) == 0);
  CBB_cleanup(&cbb);
  // Two PEM requests (the same twice, or with text between): CSR_MULTIPLE,
  // nothing handed out.
  for (int between = 0; between < 2; between++) {
    CHECK(CBB_init(&cbb, 4096) &&
          CBB_add_bytes(&cbb, (const uint8_t *)pem, strlen(pem)) &&
          CBB_add_bytes(&cbb, (const uint8_t *)kText,
                        between ? strlen(kText) : 0) &&
          CBB_add_bytes(&cbb, (const uint8_t *)pem, strlen(pem)));
    owned = NULL;
    CHECK(
        !ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_MULTIPLE);
    CHECK_EQ_STR(ca_err_code_name(ca_err_get()->code), "CSR_MULTIPLE");
    CHECK(owned == NULL);
    CBB_cleanup(&cbb);
  }
  // Two DER requests one after the other.
  CHECK(CBB_init(&cbb, 4096) && CBB_add_bytes(&cbb, der, len) &&
        CBB_add_bytes(&cbb, der, len));
  CHECK(!ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_MULTIPLE);
  CBB_cleanup(&cbb);
  // DER with other trailing bytes stays a malformed request.
  CHECK(CBB_init(&cbb, 4096) && CBB_add_bytes(&cbb, der, len) &&
        CBB_add_bytes(&cbb, (const uint8_t *)"\x05\x00", 2));
  CHECK(ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
  CHECK_EQ_INT(parse_code(out, out_len), CA_ERR_CSR_MALFORMED);
  CBB_cleanup(&cbb);
  OPENSSL_free(pem);
  OPENSSL_free(der);
}

TEST(decode_size_limits) {
  const uint8_t *out;
  size_t out_len;
  uint8_t *owned;
  // DER one byte over the limit.
  uint8_t *big = calloc(1, 2 * CA_LIMIT_CSR_BYTES + 2);
  big[0] = 0x30;
  CHECK(ca_csr_decode(big, CA_LIMIT_CSR_BYTES, &out, &out_len, &owned));
  CHECK(!ca_csr_decode(big, CA_LIMIT_CSR_BYTES + 1, &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_TOO_LARGE);
  // PEM over twice the limit, refused before it is decoded.
  memcpy(big, "-----BEGIN ", 11);
  memset(big + 11, 'A', 2 * CA_LIMIT_CSR_BYTES + 1 - 11);
  CHECK(
      !ca_csr_decode(big, 2 * CA_LIMIT_CSR_BYTES + 1, &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_TOO_LARGE);
  free(big);
  // PEM under twice the limit whose body decodes to more than the limit.
  const size_t der_len = CA_LIMIT_CSR_BYTES + 300;
  uint8_t *der = calloc(1, der_len);
  CBB cbb;
  CHECK(CBB_init(&cbb, 2 * der_len) &&
        ca_pem_add(&cbb, "CERTIFICATE REQUEST", der, der_len));
  CHECK(CBB_len(&cbb) < 2 * CA_LIMIT_CSR_BYTES);
  CHECK(!ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_TOO_LARGE);
  CBB_cleanup(&cbb);
  // A PEM request of exactly the DER limit is accepted.
  CHECK(CBB_init(&cbb, 2 * der_len) &&
        ca_pem_add(&cbb, "CERTIFICATE REQUEST", der, CA_LIMIT_CSR_BYTES));
  owned = NULL;
  const int ok =
      ca_csr_decode(CBB_data(&cbb), CBB_len(&cbb), &out, &out_len, &owned);
  if (!ok) {
    fprintf(stderr, "  %s\n", ca_err_get()->message);
  }
  CHECK(ok);
  CHECK_EQ_INT(out_len, CA_LIMIT_CSR_BYTES);
  OPENSSL_free(owned);
  CBB_cleanup(&cbb);
  free(der);
}

TEST(key_info_and_names) {
  ca_key_info info;
  CHECK(ca_key_info_from_pkey(rsa_key, &info));
  CHECK_EQ_INT(info.type, CA_KEY_RSA);
  CHECK_EQ_INT(info.bits, 2048);
  CHECK_EQ_INT(info.curve_nid, 0);
  CHECK(ca_key_info_from_pkey(ec_key, &info));
  CHECK_EQ_INT(info.type, CA_KEY_EC);
  CHECK_EQ_INT(info.bits, 256);
  CHECK_EQ_INT(info.curve_nid, NID_X9_62_prime256v1);
  CHECK_EQ_STR(ca_key_type_name(CA_KEY_RSA), "RSA");
  CHECK_EQ_STR(ca_key_type_name(CA_KEY_EC), "EC");
  CHECK_EQ_STR(ca_key_type_name(CA_KEY_NONE), "none");
  // Cleanup of a zeroed request is harmless, and idempotent.
  ca_csr csr;
  memset(&csr, 0, sizeof(csr));
  ca_csr_cleanup(&csr);
  ca_csr_cleanup(&csr);
  CHECK(csr.pkey == NULL);
}

int main(void) {
  rsa_key = new_key("RSA-2048");
  ec_key = new_key("EC-P256");
  if (rsa_key == NULL || ec_key == NULL) {
    fprintf(stderr, "cannot make keys\n");
    return 1;
  }
  RUN(fields_match_boringssl);
  RUN(corrupt_signature_parses_but_does_not_verify);
  RUN(signature_by_another_key_does_not_verify);
  RUN(signature_algorithms);
  RUN(patched_rsa_algorithms_are_unsupported);
  RUN(ed25519_requests_are_refused);
  RUN(rsa_key_sizes);
  RUN(every_truncation_is_malformed);
  RUN(trailing_garbage_and_size);
  RUN(version_and_bit_string);
  RUN(requested_extensions);
  RUN(extension_request_attribute_shapes);
  RUN(strict_der_everywhere);
  RUN(duplicate_san_from_boringssl_encoder);
  RUN(decode_der_and_pem);
  RUN(decode_text_bom_and_multiple);
  RUN(decode_size_limits);
  RUN(key_info_and_names);
  EVP_PKEY_free(rsa_key);
  EVP_PKEY_free(ec_key);
  return test_summary();
}
