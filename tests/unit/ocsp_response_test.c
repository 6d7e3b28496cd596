// Unit tests of ca/x509/ocsp_response.c: responses signed with an RSA and an EC
// P-256 key are read back here with CBS, field by field against RFC 6960
// 4.2.1, and their signatures checked with BoringSSL's EVP_DigestVerify;
// the fixed five bytes of the error responses.
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#include "ca/policy/profile.h"
#include "ca/revocation/crl.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/certificate.h"
#include "ca/x509/key.h"
#include "ca/x509/name.h"
#include "ca/x509/ocsp_response.h"
#include "ca/x509/serial.h"
#include "tests/support/test.h"

// OID contents.
static const uint8_t kOidOcspBasic[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                        0x07, 0x30, 0x01, 0x01};
static const uint8_t kOidOcspNonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                        0x07, 0x30, 0x01, 0x02};
static const uint8_t kOidSha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t kOidSha256[] = {0x60, 0x86, 0x48, 0x01, 0x65,
                                     0x03, 0x04, 0x02, 0x01};

// The signatureAlgorithm elements: RSA with NULL parameters (RFC 4055),
// ECDSA without (RFC 5758 3.2).
static const uint8_t kSha256WithRsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
                                         0x86, 0x48, 0x86, 0xf7, 0x0d,
                                         0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t kSha384WithRsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
                                         0x86, 0x48, 0x86, 0xf7, 0x0d,
                                         0x01, 0x01, 0x0c, 0x05, 0x00};
static const uint8_t kEcdsaWithSha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

// Signing keys, made once.
static EVP_PKEY *rsa_key;
static EVP_PKEY *ec_key;

// public_key_bits returns the subjectPublicKey BIT STRING value of |key|
// (without the unused-bits octet) in |cbb|, and a view of it in |*out|.
static int public_key_bits(const EVP_PKEY *key, CBB *cbb, CBS *out) {
  CBS spki, seq, alg, bits;
  uint8_t unused;
  if (!CBB_init(cbb, 512) || !EVP_marshal_public_key(cbb, key)) {
    return 0;
  }
  CBS_init(&spki, CBB_data(cbb), CBB_len(cbb));
  if (!CBS_get_asn1(&spki, &seq, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&seq, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&seq, &bits, CBS_ASN1_BITSTRING) ||
      !CBS_get_u8(&bits, &unused) || unused != 0 || CBS_len(&seq) != 0) {
    return 0;
  }
  *out = bits;
  return 1;
}

// make_signer describes |key| as the CA itself signing: ResponderID byKey
// "SHA-1 hash of the responder's public key" (RFC 6960 4.2.1).
static int make_signer(EVP_PKEY *key, const EVP_MD *digest,
                       ca_ocsp_signer *out) {
  memset(out, 0, sizeof(*out));
  ca_key_info info;
  CBB cbb;
  CBS bits;
  CBB_zero(&cbb);
  if (!ca_key_info_from_pkey(key, &info) ||
      !public_key_bits(key, &cbb, &bits)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  SHA1(CBS_data(&bits), CBS_len(&bits), out->key_hash);
  CBB_cleanup(&cbb);
  out->key = key;
  out->key_type = info.type;
  out->digest = digest;
  return 1;
}

// A response read back with CBS. Views into the response buffer.
typedef struct parsed_response {
  uint64_t status;
  CBS tbs;          // the ResponseData element: the signed bytes
  CBS key_hash;     // ResponderID byKey contents
  CBS produced_at;  // GeneralizedTime contents
  CBS responses;    // contents of the SEQUENCE OF SingleResponse
  int has_extensions;
  CBS extensions;           // contents of the Extensions SEQUENCE
  CBS signature_algorithm;  // element
  CBS signature;            // BIT STRING value without the unused-bits octet
  int has_certs;
  CBS certs;  // contents of the SEQUENCE OF Certificate
} parsed_response;

// parse_response reads a successful OCSPResponse strictly (every element
// consumed), as a client would. It returns 1 when the layout is right.
static int parse_response(const uint8_t *der, size_t len,
                          parsed_response *out) {
  memset(out, 0, sizeof(*out));
  CBS in, response, status, bytes_tag, bytes, type, octets, basic, tbs, data,
      responder, list, bits, certs_tag;
  uint8_t status_value, unused;
  CBS_init(&in, der, len);
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
  //   responseBytes [0] EXPLICIT ResponseBytes }
  if (!CBS_get_asn1(&in, &response, CBS_ASN1_SEQUENCE) || CBS_len(&in) != 0 ||
      !CBS_get_asn1(&response, &status, CBS_ASN1_ENUMERATED) ||
      !CBS_get_u8(&status, &status_value) || CBS_len(&status) != 0) {
    return 0;
  }
  out->status = status_value;
  // ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }
  if (!CBS_get_asn1(&response, &bytes_tag,
                    CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      CBS_len(&response) != 0 ||
      !CBS_get_asn1(&bytes_tag, &bytes, CBS_ASN1_SEQUENCE) ||
      CBS_len(&bytes_tag) != 0 ||
      !CBS_get_asn1(&bytes, &type, CBS_ASN1_OBJECT) ||
      !CBS_mem_equal(&type, kOidOcspBasic, sizeof(kOidOcspBasic)) ||
      !CBS_get_asn1(&bytes, &octets, CBS_ASN1_OCTETSTRING) ||
      CBS_len(&bytes) != 0) {
    return 0;
  }
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData,
  //   signatureAlgorithm, signature BIT STRING,
  //   certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
  if (!CBS_get_asn1(&octets, &basic, CBS_ASN1_SEQUENCE) ||
      CBS_len(&octets) != 0 ||
      !CBS_get_asn1_element(&basic, &out->tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1_element(&basic, &out->signature_algorithm,
                            CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&basic, &bits, CBS_ASN1_BITSTRING) ||
      !CBS_get_u8(&bits, &unused) || unused != 0 ||
      !CBS_get_optional_asn1(
          &basic, &certs_tag, &out->has_certs,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      CBS_len(&basic) != 0) {
    return 0;
  }
  out->signature = bits;
  if (out->has_certs &&
      (!CBS_get_asn1(&certs_tag, &out->certs, CBS_ASN1_SEQUENCE) ||
       CBS_len(&certs_tag) != 0)) {
    return 0;
  }
  // ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1,
  //   responderID, producedAt GeneralizedTime, responses SEQUENCE OF,
  //   responseExtensions [1] EXPLICIT Extensions OPTIONAL }
  // DER omits the default version: the ResponderID comes first.
  tbs = out->tbs;
  CBS exts_tag;
  if (!CBS_get_asn1(&tbs, &data, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&data, &responder,
                    CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) ||
      !CBS_get_asn1(&responder, &out->key_hash, CBS_ASN1_OCTETSTRING) ||
      CBS_len(&responder) != 0 ||
      !CBS_get_asn1(&data, &out->produced_at, CBS_ASN1_GENERALIZEDTIME) ||
      !CBS_get_asn1(&data, &list, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(
          &data, &exts_tag, &out->has_extensions,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) ||
      CBS_len(&data) != 0) {
    return 0;
  }
  out->responses = list;
  if (out->has_extensions &&
      (!CBS_get_asn1(&exts_tag, &out->extensions, CBS_ASN1_SEQUENCE) ||
       CBS_len(&exts_tag) != 0)) {
    return 0;
  }
  return 1;
}

// One SingleResponse read back.
typedef struct parsed_single {
  CBS cert_id;  // element
  unsigned status_tag;
  CBS status;       // CertStatus contents
  CBS this_update;  // GeneralizedTime contents
  CBS next_update;  // GeneralizedTime contents inside [0]
} parsed_single;

static int parse_single(CBS *responses, parsed_single *out) {
  CBS single, next;
  return CBS_get_asn1(responses, &single, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1_element(&single, &out->cert_id, CBS_ASN1_SEQUENCE) &&
         CBS_get_any_asn1(&single, &out->status, &out->status_tag) &&
         CBS_get_asn1(&single, &out->this_update, CBS_ASN1_GENERALIZEDTIME) &&
         CBS_get_asn1(&single, &next,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBS_get_asn1(&next, &out->next_update, CBS_ASN1_GENERALIZEDTIME) &&
         CBS_len(&next) == 0 && CBS_len(&single) == 0;
}

static int cbs_is_text(const CBS *cbs, const char *text) {
  return CBS_mem_equal(cbs, (const uint8_t *)text, strlen(text));
}

// verify_tbs checks |sig| over |tbs| with the public half of |key| only.
static int verify_tbs(const EVP_PKEY *key, const EVP_MD *digest,
                      const uint8_t *tbs, size_t tbs_len, const CBS *sig) {
  CBB cbb;
  CBS spki;
  EVP_PKEY *pub = NULL;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = 0;
  if (ctx == NULL || !CBB_init(&cbb, 512)) {
    EVP_MD_CTX_free(ctx);
    return 0;
  }
  if (EVP_marshal_public_key(&cbb, key)) {
    CBS_init(&spki, CBB_data(&cbb), CBB_len(&cbb));
    pub = EVP_parse_public_key(&spki);
  }
  ok = pub != NULL && EVP_DigestVerifyInit(ctx, NULL, digest, NULL, pub) == 1 &&
       EVP_DigestVerify(ctx, CBS_data(sig), CBS_len(sig), tbs, tbs_len) == 1;
  ERR_clear_error();
  EVP_PKEY_free(pub);
  EVP_MD_CTX_free(ctx);
  CBB_cleanup(&cbb);
  return ok;
}

// check_signature verifies the response signature with |key|, then that
// changing any of a few bytes of the ResponseData makes it fail.
static void check_signature(const EVP_PKEY *key, const EVP_MD *digest,
                            const parsed_response *r) {
  CHECK(verify_tbs(key, digest, CBS_data(&r->tbs), CBS_len(&r->tbs),
                   &r->signature));
  uint8_t *copy = OPENSSL_memdup(CBS_data(&r->tbs), CBS_len(&r->tbs));
  CHECK(copy != NULL);
  if (copy == NULL) {
    return;
  }
  const size_t len = CBS_len(&r->tbs);
  const size_t offsets[] = {0, len / 3, len / 2, len - 1};
  for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
    copy[offsets[i]] ^= 0x01;
    CHECK(!verify_tbs(key, digest, copy, len, &r->signature));
    copy[offsets[i]] ^= 0x01;
  }
  CHECK(verify_tbs(key, digest, copy, len, &r->signature));
  OPENSSL_free(copy);
}

// A CertID element as a client sends it, with SHA-1 or SHA-256 hashes of
// octet |fill| and serial |serial|.
static int make_cert_id(CBB *cbb, int sha256, uint8_t fill, uint8_t serial) {
  CBB cert_id, alg, oid, name_hash, key_hash, integer;
  const size_t hash_len = sha256 ? 32 : 20;
  uint8_t *p;
  if (!CBB_init(cbb, 128) || !CBB_add_asn1(cbb, &cert_id, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&cert_id, &alg, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
      !CBB_add_bytes(&oid, sha256 ? kOidSha256 : kOidSha1,
                     sha256 ? sizeof(kOidSha256) : sizeof(kOidSha1)) ||
      !CBB_add_asn1(&cert_id, &name_hash, CBS_ASN1_OCTETSTRING) ||
      !CBB_add_space(&name_hash, &p, hash_len)) {
    return 0;
  }
  memset(p, fill, hash_len);
  if (!CBB_add_asn1(&cert_id, &key_hash, CBS_ASN1_OCTETSTRING) ||
      !CBB_add_space(&key_hash, &p, hash_len)) {
    return 0;
  }
  memset(p, fill ^ 0xff, hash_len);
  return CBB_add_asn1(&cert_id, &integer, CBS_ASN1_INTEGER) &&
         CBB_add_u8(&integer, serial) && CBB_flush(cbb);
}

// The times of the responses below, with the GeneralizedTime each must be
// written as: OCSP uses GeneralizedTime for every year (RFC 6960 4.2.1),
// not UTCTime before 2050 as certificates do.
#define PRODUCED_AT_TEXT "20231114221320Z"
#define THIS_UPDATE_TEXT "20240229000000Z"
#define NEXT_UPDATE_TEXT "20510102030405Z"
#define REVOKED_AT_TEXT "19991231235959Z"
static int64_t produced_at, this_update, next_update, revoked_at;

static const uint8_t kNonce[] = {0x04, 0x10, 0xaf, 0x9f, 0xf5, 0x9a,
                                 0x4c, 0xdb, 0x85, 0xd9, 0x07, 0x6d,
                                 0x36, 0x1b, 0xc9, 0x0e, 0x6e, 0xf8};

// check_full_response builds a response of four singles (good, revoked for
// keyCompromise, unknown, revoked unspecified) with |signer| and reads it
// all back; with a nonce when |with_nonce|.
static void check_full_response(const ca_ocsp_signer *signer,
                                const uint8_t *alg, size_t alg_len,
                                int with_nonce) {
  CBB ids[4];
  for (size_t i = 0; i < 4; i++) {
    CBB_zero(&ids[i]);
  }
  int ok = 1;
  for (size_t i = 0; i < 4; i++) {
    ok = ok && make_cert_id(&ids[i], i % 2 == 1, (uint8_t)(0x10 * (i + 1)),
                            (uint8_t)(i + 1));
  }
  CHECK(ok);
  ca_ocsp_single singles[4];
  memset(singles, 0, sizeof(singles));
  static const ca_ocsp_cert_status kStatuses[] = {
      CA_OCSP_GOOD, CA_OCSP_REVOKED, CA_OCSP_UNKNOWN, CA_OCSP_REVOKED};
  static const int kReasons[] = {0, CA_REASON_KEY_COMPROMISE, 0,
                                 CA_REASON_UNSPECIFIED};
  for (size_t i = 0; i < 4 && ok; i++) {
    CBS_init(&singles[i].cert_id, CBB_data(&ids[i]), CBB_len(&ids[i]));
    singles[i].status = kStatuses[i];
    singles[i].reason = kReasons[i];
    singles[i].revoked_at = revoked_at;
    singles[i].this_update = this_update;
    singles[i].next_update = next_update;
  }
  CBS nonce;
  CBS_init(&nonce, kNonce, sizeof(kNonce));
  uint8_t *der = NULL;
  size_t len = 0;
  ca_err_clear();
  CHECK(ok &&
        ca_ocsp_response_build(signer, singles, 4, with_nonce ? &nonce : NULL,
                               produced_at, &der, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_OK);
  parsed_response r;
  CHECK(der != NULL && parse_response(der, len, &r));
  if (der == NULL || !parse_response(der, len, &r)) {
    goto done;
  }
  CHECK_EQ_INT(r.status, 0);  // successful
  CHECK(CBS_mem_equal(&r.key_hash, signer->key_hash, CA_KEY_ID_LEN));
  CHECK(cbs_is_text(&r.produced_at, PRODUCED_AT_TEXT));
  CHECK(CBS_mem_equal(&r.signature_algorithm, alg, alg_len));
  CHECK(!r.has_certs);
  for (size_t i = 0; i < 4; i++) {
    parsed_single s;
    CHECK(parse_single(&r.responses, &s));
    // The CertID as the client wrote it, byte for byte (RFC 6960 4.1.1
    // leaves the client to match on it).
    CHECK(CBS_mem_equal(&s.cert_id, CBB_data(&ids[i]), CBB_len(&ids[i])));
    CHECK(cbs_is_text(&s.this_update, THIS_UPDATE_TEXT));
    CHECK(cbs_is_text(&s.next_update, NEXT_UPDATE_TEXT));
    CBS revoked_time, reason_tag, reason;
    uint8_t reason_value;
    switch (kStatuses[i]) {
      case CA_OCSP_GOOD:  // good [0] IMPLICIT NULL
        CHECK_EQ_INT(s.status_tag, CBS_ASN1_CONTEXT_SPECIFIC | 0);
        CHECK_EQ_INT(CBS_len(&s.status), 0);
        break;
      case CA_OCSP_UNKNOWN:  // unknown [2] IMPLICIT NULL
        CHECK_EQ_INT(s.status_tag, CBS_ASN1_CONTEXT_SPECIFIC | 2);
        CHECK_EQ_INT(CBS_len(&s.status), 0);
        break;
      case CA_OCSP_REVOKED:
        // revoked [1] IMPLICIT RevokedInfo ::= SEQUENCE { revocationTime
        //   GeneralizedTime, revocationReason [0] EXPLICIT CRLReason }
        CHECK_EQ_INT(s.status_tag,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1);
        CHECK(
            CBS_get_asn1(&s.status, &revoked_time, CBS_ASN1_GENERALIZEDTIME) &&
            cbs_is_text(&revoked_time, REVOKED_AT_TEXT));
        CHECK(CBS_get_asn1(
                  &s.status, &reason_tag,
                  CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
              CBS_get_asn1(&reason_tag, &reason, CBS_ASN1_ENUMERATED) &&
              CBS_len(&reason_tag) == 0 && CBS_get_u8(&reason, &reason_value) &&
              CBS_len(&reason) == 0 && reason_value == kReasons[i]);
        CHECK_EQ_INT(CBS_len(&s.status), 0);
        break;
    }
  }
  CHECK_EQ_INT(CBS_len(&r.responses), 0);  // four, no more
  // responseExtensions: the nonce alone, its extnValue the request's.
  CHECK_EQ_INT(r.has_extensions, with_nonce);
  if (with_nonce && r.has_extensions) {
    CBS ext, oid, value;
    CHECK(CBS_get_asn1(&r.extensions, &ext, CBS_ASN1_SEQUENCE) &&
          CBS_len(&r.extensions) == 0);
    CHECK(CBS_get_asn1(&ext, &oid, CBS_ASN1_OBJECT) &&
          CBS_mem_equal(&oid, kOidOcspNonce, sizeof(kOidOcspNonce)));
    // Not critical: no BOOLEAN before the value.
    CHECK(CBS_get_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) &&
          CBS_len(&ext) == 0);
    CHECK(CBS_mem_equal(&value, kNonce, sizeof(kNonce)));
  }
  check_signature(signer->key, signer->digest, &r);
done:
  OPENSSL_free(der);
  for (size_t i = 0; i < 4; i++) {
    CBB_cleanup(&ids[i]);
  }
}

TEST(rsa_signer) {
  ca_ocsp_signer signer;
  CHECK(make_signer(rsa_key, EVP_sha256(), &signer));
  check_full_response(&signer, kSha256WithRsa, sizeof(kSha256WithRsa), 1);
  check_full_response(&signer, kSha256WithRsa, sizeof(kSha256WithRsa), 0);
  // The digest is the signer's choice and the algorithm says which.
  signer.digest = EVP_sha384();
  check_full_response(&signer, kSha384WithRsa, sizeof(kSha384WithRsa), 1);
}

TEST(ec_signer) {
  ca_ocsp_signer signer;
  CHECK(make_signer(ec_key, EVP_sha256(), &signer));
  CHECK_EQ_INT(signer.key_type, CA_KEY_EC);
  check_full_response(&signer, kEcdsaWithSha256, sizeof(kEcdsaWithSha256), 1);
  check_full_response(&signer, kEcdsaWithSha256, sizeof(kEcdsaWithSha256), 0);
}

TEST(key_hash_is_the_key_identifier) {
  // The ResponderID key hash computed here is RFC 5280's key identifier
  // method (1), which pki computes with ca_spki_key_id.
  CBB spki;
  CHECK(CBB_init(&spki, 512) && EVP_marshal_public_key(&spki, ec_key));
  CBS view;
  CBS_init(&view, CBB_data(&spki), CBB_len(&spki));
  uint8_t id[CA_KEY_ID_LEN];
  CHECK(ca_spki_key_id(&view, id));
  ca_ocsp_signer signer;
  CHECK(make_signer(ec_key, EVP_sha256(), &signer));
  CHECK(memcmp(id, signer.key_hash, CA_KEY_ID_LEN) == 0);
  CBB_cleanup(&spki);
}

// make_delegate_cert issues, with the RSA key as the CA, a responder
// certificate for the EC key (RFC 6960 4.2.2.2: id-kp-OCSPSigning).
static int make_delegate_cert(uint8_t **der, size_t *len) {
  CBB name, spki;
  CBB_zero(&name);
  CBB_zero(&spki);
  ca_serial serial;
  int ok = ca_serial_generate(&serial) && CBB_init(&name, 64) &&
           ca_name_add_simple(&name, NULL, "pki", "OCSP responder") &&
           CBB_init(&spki, 256) && EVP_marshal_public_key(&spki, ec_key);
  if (ok) {
    const int64_t now = (int64_t)time(NULL);
    ca_cert_template t = {
        .serial = &serial,
        .not_before = now - 60,
        .not_after = now + 86400,
        .key_usage = CA_KU_DIGITAL_SIGNATURE,
        .ext_key_usage = CA_EKU_OCSP_SIGNING,
        .path_len = -1,
        .ocsp_no_check = 1,
    };
    CBS_init(&t.issuer_name, CBB_data(&name), CBB_len(&name));
    CBS_init(&t.subject_name, CBB_data(&name), CBB_len(&name));
    CBS_init(&t.spki, CBB_data(&spki), CBB_len(&spki));
    ok = ca_certificate_build(&t, rsa_key, CA_KEY_RSA, EVP_sha256(), der, len,
                              NULL);
  }
  CBB_cleanup(&name);
  CBB_cleanup(&spki);
  return ok;
}

TEST(delegated_responder_cert) {
  uint8_t *cert = NULL;
  size_t cert_len = 0;
  CHECK(make_delegate_cert(&cert, &cert_len));
  if (cert == NULL) {
    return;
  }
  ca_ocsp_signer signer;
  CHECK(make_signer(ec_key, EVP_sha256(), &signer));
  signer.cert = cert;
  signer.cert_len = cert_len;
  CBB id;
  CBB_zero(&id);
  CHECK(make_cert_id(&id, 0, 0x5a, 0x42));
  ca_ocsp_single single = {
      .status = CA_OCSP_GOOD,
      .this_update = this_update,
      .next_update = next_update,
  };
  CBS_init(&single.cert_id, CBB_data(&id), CBB_len(&id));
  uint8_t *der = NULL;
  size_t len = 0;
  CHECK(ca_ocsp_response_build(&signer, &single, 1, NULL, produced_at, &der,
                               &len));
  parsed_response r;
  CHECK(der != NULL && parse_response(der, len, &r));
  if (der != NULL && parse_response(der, len, &r)) {
    // certs [0] holds the one certificate, unchanged...
    CHECK(r.has_certs);
    CHECK(CBS_mem_equal(&r.certs, cert, cert_len));
    CHECK(!r.has_extensions);
    // ...and a client can verify the response with the key it certifies,
    // which the responder ID names.
    const uint8_t *p = CBS_data(&r.certs);
    X509 *x = d2i_X509(NULL, &p, (long)CBS_len(&r.certs));
    CHECK(x != NULL && p == CBS_data(&r.certs) + CBS_len(&r.certs));
    EVP_PKEY *pub = x != NULL ? X509_get_pubkey(x) : NULL;
    CHECK(pub != NULL);
    if (pub != NULL) {
      check_signature(pub, EVP_sha256(), &r);
      CHECK(CBS_mem_equal(&r.key_hash, signer.key_hash, CA_KEY_ID_LEN));
      const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
      uint8_t sha[SHA_DIGEST_LENGTH];
      SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), sha);
      CHECK(CBS_mem_equal(&r.key_hash, sha, sizeof(sha)));
      // The CA's key did not sign it.
      CHECK(!verify_tbs(rsa_key, EVP_sha256(), CBS_data(&r.tbs),
                        CBS_len(&r.tbs), &r.signature));
    }
    EVP_PKEY_free(pub);
    X509_free(x);
  }
  OPENSSL_free(der);
  OPENSSL_free(cert);
  CBB_cleanup(&id);
}

TEST(time_extremes) {
  // The last second a Time can express, and a year before 2000: still
  // four-digit years, still Zulu.
  ca_ocsp_signer signer;
  CHECK(make_signer(ec_key, EVP_sha256(), &signer));
  CBB id;
  CBB_zero(&id);
  CHECK(make_cert_id(&id, 1, 0x01, 0x01));
  ca_ocsp_single single = {
      .status = CA_OCSP_REVOKED,
      .reason = CA_REASON_AA_COMPROMISE,
      .revoked_at = ca_time_from_civil(1950, 1, 1, 0, 0, 0),
      .this_update = ca_time_from_civil(1970, 1, 1, 0, 0, 0),
      .next_update = CA_TIME_MAX,
  };
  CBS_init(&single.cert_id, CBB_data(&id), CBB_len(&id));
  uint8_t *der = NULL;
  size_t len = 0;
  CHECK(ca_ocsp_response_build(&signer, &single, 1, NULL, CA_TIME_MAX, &der,
                               &len));
  parsed_response r;
  parsed_single s;
  CHECK(der != NULL && parse_response(der, len, &r) &&
        parse_single(&r.responses, &s));
  if (der != NULL && parse_response(der, len, &r) &&
      parse_single(&r.responses, &s)) {
    CHECK(cbs_is_text(&r.produced_at, "99991231235959Z"));
    CHECK(cbs_is_text(&s.this_update, "19700101000000Z"));
    CHECK(cbs_is_text(&s.next_update, "99991231235959Z"));
    CBS revoked_time, reason_tag, reason;
    CHECK(CBS_get_asn1(&s.status, &revoked_time, CBS_ASN1_GENERALIZEDTIME) &&
          cbs_is_text(&revoked_time, "19500101000000Z"));
    static const uint8_t kTen[] = {10};
    CHECK(CBS_get_asn1(&s.status, &reason_tag,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
          CBS_get_asn1(&reason_tag, &reason, CBS_ASN1_ENUMERATED) &&
          CBS_mem_equal(&reason, kTen, sizeof(kTen)));
  }
  OPENSSL_free(der);
  CBB_cleanup(&id);
}

TEST(unencodable_times_fail) {
  ca_ocsp_signer signer;
  CHECK(make_signer(ec_key, EVP_sha256(), &signer));
  CBB id;
  CBB_zero(&id);
  CHECK(make_cert_id(&id, 0, 0x02, 0x02));
  ca_ocsp_single single = {
      .status = CA_OCSP_GOOD,
      .this_update = this_update,
      .next_update = next_update,
  };
  CBS_init(&single.cert_id, CBB_data(&id), CBB_len(&id));
  uint8_t *der = NULL;
  size_t len = 0;
  // producedAt after year 9999.
  ca_err_clear();
  CHECK(!ca_ocsp_response_build(&signer, &single, 1, NULL, CA_TIME_MAX + 1,
                                &der, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(der == NULL);
  // A revocation time before 1950 in a SingleResponse.
  single.status = CA_OCSP_REVOKED;
  single.revoked_at = CA_TIME_MIN - 1;
  ca_err_clear();
  CHECK(!ca_ocsp_response_build(&signer, &single, 1, NULL, produced_at, &der,
                                &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(der == NULL);
  CBB_cleanup(&id);
}

TEST(error_responses) {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } with no
  // responseBytes (RFC 6960 4.2.1).
  static const struct {
    ca_ocsp_status status;
    uint8_t want[5];
  } kCases[] = {
      {CA_OCSP_MALFORMED_REQUEST, {0x30, 0x03, 0x0a, 0x01, 0x01}},
      {CA_OCSP_INTERNAL_ERROR, {0x30, 0x03, 0x0a, 0x01, 0x02}},
      {CA_OCSP_TRY_LATER, {0x30, 0x03, 0x0a, 0x01, 0x03}},
      {CA_OCSP_SIG_REQUIRED, {0x30, 0x03, 0x0a, 0x01, 0x05}},
      {CA_OCSP_UNAUTHORIZED, {0x30, 0x03, 0x0a, 0x01, 0x06}},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    uint8_t out[5];
    memset(out, 0xee, sizeof(out));
    ca_ocsp_error_response(kCases[i].status, out);
    CHECK(memcmp(out, kCases[i].want, sizeof(out)) == 0);
    // And it is DER a client reads: one SEQUENCE, one ENUMERATED.
    CBS in, seq, value;
    uint8_t status;
    CBS_init(&in, out, sizeof(out));
    CHECK(CBS_get_asn1(&in, &seq, CBS_ASN1_SEQUENCE) && CBS_len(&in) == 0 &&
          CBS_get_asn1(&seq, &value, CBS_ASN1_ENUMERATED) &&
          CBS_len(&seq) == 0 && CBS_get_u8(&value, &status) &&
          CBS_len(&value) == 0 && status == kCases[i].status);
  }
}

int main(void) {
  produced_at = ca_time_from_civil(2023, 11, 14, 22, 13, 20);
  this_update = ca_time_from_civil(2024, 2, 29, 0, 0, 0);
  next_update = ca_time_from_civil(2051, 1, 2, 3, 4, 5);
  revoked_at = ca_time_from_civil(1999, 12, 31, 23, 59, 59);
  ca_key_spec rsa_spec, ec_spec;
  if (!ca_key_spec_parse(&rsa_spec, "RSA-2048") ||
      !ca_key_spec_parse(&ec_spec, "EC-P256")) {
    fprintf(stderr, "cannot parse key specs\n");
    return 1;
  }
  rsa_key = ca_key_generate(&rsa_spec);
  ec_key = ca_key_generate(&ec_spec);
  if (rsa_key == NULL || ec_key == NULL) {
    fprintf(stderr, "cannot generate keys: %s\n", ca_err_get()->message);
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(ec_key);
    return 1;
  }
  RUN(rsa_signer);
  RUN(ec_signer);
  RUN(key_hash_is_the_key_identifier);
  RUN(delegated_responder_cert);
  RUN(time_extremes);
  RUN(unencodable_times_fail);
  RUN(error_responses);
  EVP_PKEY_free(rsa_key);
  EVP_PKEY_free(ec_key);
  return test_summary();
}
