// Unit tests of ca/x509/pkcs7.c: the certificates-only SignedData pki writes is
// compared byte for byte with BoringSSL's PKCS7_bundle_certificates and a
// hand-worked empty bundle, read back by pki and by BoringSSL's
// PKCS7_get_certificates; pki reads BoringSSL's bundles, signed bundles
// built by hand, and refuses broken ones.
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "ca/x509/pem.h"
#include "ca/x509/pkcs7.h"
#include "tests/support/test.h"

#define NCERTS 3

static uint8_t *cert_der[NCERTS];
static size_t cert_len[NCERTS];
static X509 *certs[NCERTS];

// make_cert makes a small self-signed EC certificate with BoringSSL.
static X509 *make_cert(const char *cn, long serial) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  EVP_PKEY *key = EVP_PKEY_new();
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  int ok = ec != NULL && key != NULL && x != NULL && name != NULL &&
           EC_KEY_generate_key(ec) && EVP_PKEY_assign_EC_KEY(key, ec);
  if (ok) {
    ec = NULL;
  }
  ok = ok && X509_set_version(x, X509_VERSION_3) &&
       ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  (const uint8_t *)cn, -1, -1, 0) &&
       X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
       X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
       X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
       X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256());
  EC_KEY_free(ec);
  EVP_PKEY_free(key);
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

// bundle runs ca_pkcs7_add_certificates over |idx| (indices into certs).
static int bundle(const size_t *idx, size_t n, CBB *out) {
  const uint8_t *ptrs[NCERTS];
  size_t lens[NCERTS];
  for (size_t i = 0; i < n; i++) {
    ptrs[i] = cert_der[idx[i]];
    lens[i] = cert_len[idx[i]];
  }
  return CBB_init(out, 2048) && ca_pkcs7_add_certificates(out, ptrs, lens, n);
}

// boringssl_bundle runs PKCS7_bundle_certificates over |idx|.
static int boringssl_bundle(const size_t *idx, size_t n, CBB *out) {
  STACK_OF(X509) *stack = sk_X509_new_null();
  int ok = stack != NULL && CBB_init(out, 2048);
  for (size_t i = 0; ok && i < n; i++) {
    ok = sk_X509_push(stack, certs[idx[i]]) != 0;
  }
  ok = ok && PKCS7_bundle_certificates(out, stack);
  sk_X509_free(stack);  // the certificates are borrowed
  return ok;
}

static int cbb_equal(const CBB *a, const CBB *b) {
  return CBB_len(a) == CBB_len(b) &&
         memcmp(CBB_data(a), CBB_data(b), CBB_len(a)) == 0;
}

TEST(empty_bundle_known_answer) {
  static const uint8_t kEmpty[] = {
      0x30, 0x25, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
      0x01, 0x07, 0x02, 0xa0, 0x18, 0x30, 0x16, 0x02, 0x01, 0x01,
      0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
      0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x00, 0x31, 0x00};
  CBB ours, theirs;
  CHECK(bundle(NULL, 0, &ours));
  CHECK(CBB_len(&ours) == sizeof(kEmpty) &&
        memcmp(CBB_data(&ours), kEmpty, sizeof(kEmpty)) == 0);
  CHECK(boringssl_bundle(NULL, 0, &theirs));
  CHECK(cbb_equal(&ours, &theirs));
  CBS in;
  CBS out_certs[1];
  size_t n = 99;
  CBS_init(&in, kEmpty, sizeof(kEmpty));
  CHECK(ca_pkcs7_get_certificates(&in, out_certs, 1, &n));
  CHECK_EQ_INT(n, 0);
  // The same with strict DER broken in one place each (ca/x509/der.h): the
  // version INTEGER 1 as 02 02 00 01, and the empty content [0] with a
  // long-form length (A0 81 00).
  static const uint8_t kLongInteger[] = {
      0x30, 0x26, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
      0x01, 0x07, 0x02, 0xa0, 0x19, 0x30, 0x17, 0x02, 0x02, 0x00,
      0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
      0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x00, 0x31, 0x00};
  static const uint8_t kLongLength[] = {
      0x30, 0x26, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
      0x01, 0x07, 0x02, 0xa0, 0x19, 0x30, 0x17, 0x02, 0x01, 0x01,
      0x31, 0x00, 0x30, 0x0c, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
      0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x81, 0x00, 0x31, 0x00};
  CBS_init(&in, kLongInteger, sizeof(kLongInteger));
  CHECK(!ca_pkcs7_get_certificates(&in, out_certs, 1, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CBS_init(&in, kLongLength, sizeof(kLongLength));
  CHECK(!ca_pkcs7_get_certificates(&in, out_certs, 1, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CBB_cleanup(&ours);
  CBB_cleanup(&theirs);
}

// has_cert returns 1 when |view| is one of the test certificates.
static int index_of(const CBS *view) {
  for (int i = 0; i < NCERTS; i++) {
    if (CBS_mem_equal(view, cert_der[i], cert_len[i])) {
      return i;
    }
  }
  return -1;
}

TEST(bundles_match_boringssl_and_read_back) {
  static const size_t kOrders[][NCERTS] = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}};
  CBB first;
  CBB_zero(&first);
  for (size_t o = 0; o < 3; o++) {
    for (size_t n = 1; n <= NCERTS; n++) {
      CBB ours, theirs;
      CHECK(bundle(kOrders[o], n, &ours));
      CHECK(boringssl_bundle(kOrders[o], n, &theirs));
      // Byte for byte what BoringSSL writes: the SET OF is sorted, so the
      // order given does not matter.
      CHECK(cbb_equal(&ours, &theirs));
      if (n == NCERTS) {
        if (o == 0) {
          CHECK(CBB_init(&first, CBB_len(&ours)) &&
                CBB_add_bytes(&first, CBB_data(&ours), CBB_len(&ours)));
        } else {
          CHECK(cbb_equal(&ours, &first));
        }
      }
      // pki reads back exactly the certificates given, in DER order.
      CBS in, views[NCERTS];
      size_t got = 0;
      CBS_init(&in, CBB_data(&ours), CBB_len(&ours));
      CHECK(ca_pkcs7_get_certificates(&in, views, NCERTS, &got));
      CHECK_EQ_INT(got, n);
      CHECK_EQ_INT(CBS_len(&in), 0);
      int seen = 0;
      for (size_t i = 0; i < got; i++) {
        const int idx = index_of(&views[i]);
        CHECK(idx >= 0);
        if (idx >= 0) {
          seen |= 1 << idx;
        }
        if (i > 0) {
          // DER SET OF order: by encoding, shorter-first on a tie.
          const size_t a = CBS_len(&views[i - 1]), b = CBS_len(&views[i]);
          const int cmp = memcmp(CBS_data(&views[i - 1]), CBS_data(&views[i]),
                                 a < b ? a : b);
          CHECK(cmp < 0 || (cmp == 0 && a < b));
        }
      }
      int want = 0;
      for (size_t i = 0; i < n; i++) {
        want |= 1 << kOrders[o][i];
      }
      CHECK_EQ_INT(seen, want);
      // BoringSSL reads pki's bundle to the same certificates.
      STACK_OF(X509) *parsed = sk_X509_new_null();
      CBS_init(&in, CBB_data(&ours), CBB_len(&ours));
      CHECK(PKCS7_get_certificates(parsed, &in));
      CHECK_EQ_INT(sk_X509_num(parsed), n);
      for (size_t i = 0; i < sk_X509_num(parsed); i++) {
        uint8_t *der = NULL;
        const int len = i2d_X509(sk_X509_value(parsed, i), &der);
        CBS view;
        CBS_init(&view, der, len > 0 ? (size_t)len : 0);
        CHECK(index_of(&view) >= 0);
        OPENSSL_free(der);
      }
      sk_X509_pop_free(parsed, X509_free);
      CBB_cleanup(&ours);
      CBB_cleanup(&theirs);
    }
  }
  CBB_cleanup(&first);
}

TEST(limits_and_advancing) {
  static const size_t kAll[] = {0, 1, 2};
  CBB out;
  CHECK(bundle(kAll, NCERTS, &out));
  // Exactly |max_certs| is fine; one more is refused.
  CBS in, views[NCERTS];
  size_t n;
  CBS_init(&in, CBB_data(&out), CBB_len(&out));
  CHECK(ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  CHECK_EQ_INT(n, NCERTS);
  CBS_init(&in, CBB_data(&out), CBB_len(&out));
  CHECK(!ca_pkcs7_get_certificates(&in, views, NCERTS - 1, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CBS_init(&in, CBB_data(&out), CBB_len(&out));
  CHECK(!ca_pkcs7_get_certificates(&in, views, 0, &n));
  // |in| is advanced past the structure: what follows is the caller's.
  CHECK(CBB_add_bytes(&out, (const uint8_t *)"\x05\x00", 2));
  CBS_init(&in, CBB_data(&out), CBB_len(&out));
  CHECK(ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  CHECK(CBS_len(&in) == 2 && CBS_data(&in)[0] == 0x05);
  CBB_cleanup(&out);
}

TEST(reads_boringssl_bundles) {
  static const size_t kTwo[] = {2, 0};
  CBB theirs;
  CHECK(boringssl_bundle(kTwo, 2, &theirs));
  CBS in, views[NCERTS];
  size_t n = 0;
  CBS_init(&in, CBB_data(&theirs), CBB_len(&theirs));
  CHECK(ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  CHECK_EQ_INT(n, 2);
  CHECK(n == 2 && index_of(&views[0]) >= 0 && index_of(&views[1]) >= 0 &&
        index_of(&views[0]) != index_of(&views[1]));
  CBB_cleanup(&theirs);
}

TEST(pem_round_trip) {
  static const size_t kAll[] = {0, 1, 2};
  CBB der, pem;
  CHECK(bundle(kAll, NCERTS, &der));
  CHECK(CBB_init(&pem, 4096) &&
        ca_pem_add(&pem, "PKCS7", CBB_data(&der), CBB_len(&der)));
  CBS text, label;
  uint8_t *decoded = NULL;
  size_t decoded_len = 0;
  CBS_init(&text, CBB_data(&pem), CBB_len(&pem));
  CHECK(ca_pem_next(&text, &label, &decoded, &decoded_len, 1 << 20));
  CHECK(ca_pem_label_is(&label, "PKCS7"));
  CBS in, views[NCERTS];
  size_t n = 0;
  CBS_init(&in, decoded, decoded_len);
  CHECK(ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  CHECK_EQ_INT(n, NCERTS);
  OPENSSL_free(decoded);
  CBB_cleanup(&der);
  CBB_cleanup(&pem);
}

// signed_data builds a ContentInfo by hand. |content_type| is the outer
// OID; |with_certs| adds [0] with certificate 0 (or an INTEGER when 2);
// |signed_extras| adds digestAlgorithms, eContent, CRLs and a SignerInfo
// as a real signed message has.
static int signed_data(CBB *out, const uint8_t *content_type, size_t ct_len,
                       int with_certs, int signed_extras) {
  static const uint8_t kData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                  0x0d, 0x01, 0x07, 0x01};
  static const uint8_t kSha256Alg[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48,
                                       0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
  CBB ci, oid, explicit_content, sd, algs, encap, data_oid, econtent, octets,
      cert_set, crls, signers, signer;
  return CBB_init(out, 2048) && CBB_add_asn1(out, &ci, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&ci, &oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&oid, content_type, ct_len) &&
         CBB_add_asn1(&ci, &explicit_content,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBB_add_asn1(&explicit_content, &sd, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1_uint64(&sd, 1) &&
         CBB_add_asn1(&sd, &algs, CBS_ASN1_SET) &&
         (!signed_extras ||
          CBB_add_bytes(&algs, kSha256Alg, sizeof(kSha256Alg))) &&
         CBB_add_asn1(&sd, &encap, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&encap, &data_oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&data_oid, kData, sizeof(kData)) &&
         (!signed_extras ||
          (CBB_add_asn1(&encap, &econtent,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
           CBB_add_asn1(&econtent, &octets, CBS_ASN1_OCTETSTRING) &&
           CBB_add_bytes(&octets, (const uint8_t *)"hello", 5))) &&
         CBB_flush(&sd) &&
         (!with_certs ||
          (CBB_add_asn1(&sd, &cert_set,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
           (with_certs == 2
                ? CBB_add_asn1_uint64(&cert_set, 7)
                : CBB_add_bytes(&cert_set, cert_der[0], cert_len[0])))) &&
         CBB_flush(&sd) &&
         (!signed_extras ||
          CBB_add_asn1(&sd, &crls,
                       CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1)) &&
         CBB_add_asn1(&sd, &signers, CBS_ASN1_SET) &&
         (!signed_extras ||
          (CBB_add_asn1(&signers, &signer, CBS_ASN1_SEQUENCE) &&
           CBB_add_asn1_uint64(&signer, 1))) &&
         CBB_flush(out);
}

static const uint8_t kOidSignedData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                         0x0d, 0x01, 0x07, 0x02};
static const uint8_t kOidData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                   0x0d, 0x01, 0x07, 0x01};

static int get_code(const CBB *cbb, size_t *out_n) {
  CBS in, views[NCERTS];
  CBS_init(&in, CBB_data(cbb), CBB_len(cbb));
  ca_err_clear();
  return ca_pkcs7_get_certificates(&in, views, NCERTS, out_n)
             ? CA_OK
             : ca_err_get()->code;
}

TEST(hand_built_messages) {
  CBB msg;
  size_t n = 99;
  // A signed message: its certificates are still read.
  CHECK(signed_data(&msg, kOidSignedData, sizeof(kOidSignedData), 1, 1));
  CHECK_EQ_INT(get_code(&msg, &n), CA_OK);
  CHECK_EQ_INT(n, 1);
  // BoringSSL agrees on the hand-built message.
  STACK_OF(X509) *parsed = sk_X509_new_null();
  CBS in;
  CBS_init(&in, CBB_data(&msg), CBB_len(&msg));
  CHECK(PKCS7_get_certificates(parsed, &in) && sk_X509_num(parsed) == 1);
  sk_X509_pop_free(parsed, X509_free);
  CBB_cleanup(&msg);
  // No certificates field at all.
  n = 99;
  CHECK(signed_data(&msg, kOidSignedData, sizeof(kOidSignedData), 0, 1));
  CHECK_EQ_INT(get_code(&msg, &n), CA_OK);
  CHECK_EQ_INT(n, 0);
  CBB_cleanup(&msg);
  // A certificate that is not a SEQUENCE.
  CHECK(signed_data(&msg, kOidSignedData, sizeof(kOidSignedData), 2, 0));
  CHECK_EQ_INT(get_code(&msg, &n), CA_ERR_CERT_MALFORMED);
  CBB_cleanup(&msg);
  // Content type id-data rather than id-signedData.
  CHECK(signed_data(&msg, kOidData, sizeof(kOidData), 1, 0));
  CHECK_EQ_INT(get_code(&msg, &n), CA_ERR_CERT_MALFORMED);
  CBB_cleanup(&msg);
}

TEST(broken_messages) {
  static const size_t kAll[] = {0, 1, 2};
  CBB out;
  CHECK(bundle(kAll, NCERTS, &out));
  const uint8_t *der = CBB_data(&out);
  const size_t len = CBB_len(&out);
  // Every truncation is refused.
  int accepted = 0;
  for (size_t cut = 0; cut < len; cut++) {
    CBS in, views[NCERTS];
    size_t n;
    CBS_init(&in, der, cut);
    accepted += ca_pkcs7_get_certificates(&in, views, NCERTS, &n);
  }
  CHECK_EQ_INT(accepted, 0);
  // The content wrapped in [1] instead of [0].
  uint8_t *copy = OPENSSL_memdup(der, len);
  CBS in, ci, oid;
  CBS_init(&in, copy, len);
  CHECK(CBS_get_asn1(&in, &ci, CBS_ASN1_SEQUENCE) &&
        CBS_get_asn1(&ci, &oid, CBS_ASN1_OBJECT));
  const size_t at = (size_t)(CBS_data(&ci) - copy);
  CHECK(copy[at] == 0xa0);
  copy[at] = 0xa1;
  CBS views[NCERTS];
  size_t n;
  CBS_init(&in, copy, len);
  CHECK(!ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  // Not a SEQUENCE; garbage.
  copy[at] = 0xa0;
  copy[0] = 0x31;
  CBS_init(&in, copy, len);
  CHECK(!ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  CBS_init(&in, (const uint8_t *)"hello", 5);
  CHECK(!ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  // A certificate itself (people upload the wrong file).
  CBS_init(&in, cert_der[0], cert_len[0]);
  CHECK(!ca_pkcs7_get_certificates(&in, views, NCERTS, &n));
  OPENSSL_free(copy);
  CBB_cleanup(&out);
}

int main(void) {
  static const char *const kNames[NCERTS] = {"Root A", "Issuing B", "leaf c"};
  for (int i = 0; i < NCERTS; i++) {
    certs[i] = make_cert(kNames[i], 1000 + i);
    int len = certs[i] != NULL ? i2d_X509(certs[i], &cert_der[i]) : -1;
    if (len <= 0) {
      fprintf(stderr, "cannot make certificates\n");
      return 1;
    }
    cert_len[i] = (size_t)len;
  }
  RUN(empty_bundle_known_answer);
  RUN(bundles_match_boringssl_and_read_back);
  RUN(limits_and_advancing);
  RUN(reads_boringssl_bundles);
  RUN(pem_round_trip);
  RUN(hand_built_messages);
  RUN(broken_messages);
  for (int i = 0; i < NCERTS; i++) {
    X509_free(certs[i]);
    OPENSSL_free(cert_der[i]);
  }
  return test_summary();
}
