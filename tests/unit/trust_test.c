// Unit tests of ca/policy/trust.c: the store names and mappings, what is read
// of a certificate (compared with BoringSSL's own X509 parser), the upload
// formats (PEM with text around it, DER, PKCS#7 DER and PEM), their limits
// and refusals, the upload rules and fingerprints.
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pkcs7.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/limits.h"
#include "ca/policy/trust.h"
#include "ca/x509/pem.h"
#include "tests/support/test.h"

typedef struct made {
  X509 *x;
  uint8_t *der;
  size_t len;
} made;

// make_cert makes a self-signed certificate: a CA when |ca|, RSA-2048 when
// |rsa| (else P-256), valid from |from| to |to| seconds from now.
static made make_cert(const char *cn, int ca, int rsa, long from, long to) {
  made m = {NULL, NULL, 0};
  EVP_PKEY *key = EVP_PKEY_new();
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
  int ok = key != NULL && x != NULL && name != NULL && bc != NULL;
  if (ok && rsa) {
    RSA *r = RSA_new();
    BIGNUM *e = BN_new();
    ok = r != NULL && e != NULL && BN_set_word(e, RSA_F4) &&
         RSA_generate_key_ex(r, 2048, e, NULL) && EVP_PKEY_assign_RSA(key, r);
    if (!ok) {
      RSA_free(r);
    }
    BN_free(e);
  } else if (ok) {
    EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
    ok = ec != NULL && EC_KEY_generate_key(ec) &&
         EVP_PKEY_assign_EC_KEY(key, ec);
    if (!ok) {
      EC_KEY_free(ec);
    }
  }
  bc->ca = ca ? 0xff : 0;
  ok = ok && X509_set_version(x, X509_VERSION_3) &&
       ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234) &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                  (const uint8_t *)"Lab", -1, -1, 0) &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  (const uint8_t *)cn, -1, -1, 0) &&
       X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
       X509_gmtime_adj(X509_getm_notBefore(x), from) &&
       X509_gmtime_adj(X509_getm_notAfter(x), to) && X509_set_pubkey(x, key) &&
       X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, 0) &&
       X509_sign(x, key, EVP_sha256());
  int len = ok ? i2d_X509(x, &m.der) : -1;
  EVP_PKEY_free(key);
  X509_NAME_free(name);
  BASIC_CONSTRAINTS_free(bc);
  if (len <= 0) {
    X509_free(x);
    fprintf(stderr, "cannot make a certificate\n");
    exit(1);
  }
  m.x = x;
  m.len = (size_t)len;
  return m;
}

static made root, leaf, expired, ec_ca;

static uint8_t *pem_of(const made *const *certs, size_t n, const char *before,
                       size_t *out_len) {
  CBB cbb;
  uint8_t *out;
  CHECK(CBB_init(&cbb, 8192));
  CHECK(CBB_add_bytes(&cbb, (const uint8_t *)before, strlen(before)));
  for (size_t i = 0; i < n; i++) {
    CHECK(ca_pem_add(&cbb, "CERTIFICATE", certs[i]->der, certs[i]->len));
    CHECK(CBB_add_bytes(&cbb, (const uint8_t *)"text between\n", 13));
  }
  CHECK(CBB_finish(&cbb, &out, out_len));
  return out;
}

TEST(store_names_and_mappings) {
  CHECK_EQ_STR(ca_trust_store_find("TOMCAT-trust"), "tomcat-trust");
  CHECK_EQ_STR(ca_trust_store_find("phone-sast-trust"), "Phone-SAST-trust");
  CHECK(ca_trust_store_find("phone-trust") == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_TRUST_STORE_UNKNOWN);
  for (size_t i = 0; i < CA_TRUST_STORE_COUNT; i++) {
    const char *name = ca_trust_store_names()[i];
    CHECK(ca_trust_store_find(name) == name);
  }
  const char *out[2];
  CHECK_EQ_INT(ca_trust_upload_stores("CAPF-trust", out), 2);
  CHECK_EQ_STR(out[1], "CallManager-trust");
  CHECK_EQ_INT(ca_trust_upload_stores("tomcat-trust", out), 1);
  CHECK_EQ_STR(out[0], "tomcat-trust");

  CHECK_EQ_INT(ca_trust_purpose_stores("tomcat-ECDSA", out), 1);
  CHECK_EQ_STR(out[0], "tomcat-trust");
  CHECK_EQ_INT(ca_trust_purpose_stores("callmanager", out), 2);
  CHECK_EQ_STR(out[0], "CallManager-trust");
  CHECK_EQ_STR(out[1], "Phone-SAST-trust");
  CHECK_EQ_INT(ca_trust_purpose_stores("CAPF", out), 1);
  CHECK_EQ_STR(out[0], "CallManager-trust");
  CHECK_EQ_INT(ca_trust_purpose_stores("ITLRecovery", out), 2);
  CHECK_EQ_STR(out[0], "Phone-SAST-trust");
  CHECK_EQ_STR(out[1], "CallManager-trust");
  CHECK_EQ_INT(ca_trust_purpose_stores("ipsec", out), 1);
  CHECK_EQ_STR(out[0], "ipsec-trust");
  CHECK_EQ_INT(ca_trust_purpose_stores("TVS", out), 1);
  CHECK_EQ_STR(out[0], "TVS-trust");
  CHECK_EQ_INT(ca_trust_purpose_stores("ocsp-responder", out), 0);
}

TEST(reads_what_boringssl_reads) {
  const made *cases[] = {&root, &leaf, &ec_ca};
  for (size_t i = 0; i < 3; i++) {
    const made *m = cases[i];
    ca_trust_cert c;
    CHECK(ca_trust_cert_read(m->der, m->len, &c));
    uint8_t digest[32];
    unsigned dlen;
    CHECK(X509_digest(m->x, EVP_sha256(), digest, &dlen) && dlen == 32);
    CHECK(memcmp(c.fingerprint, digest, 32) == 0);
    char cn[256];
    CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(m->x), NID_commonName,
                                    cn, sizeof(cn)) > 0);
    CHECK_EQ_STR(c.common_name, cn);
    CHECK_EQ_STR(c.serial, "1234");
    CHECK_EQ_INT(c.is_ca, X509_check_ca(m->x) != 0);
    CHECK(c.self_signed);
    CHECK(c.der_len == m->len && memcmp(c.der, m->der, m->len) == 0);
    // The subject as encoded, and as text (RFC 4514: last RDN first).
    const uint8_t *enc;
    size_t enc_len;
    CHECK(X509_NAME_get0_der(X509_get_subject_name(m->x), &enc, &enc_len));
    CHECK(c.subject_der_len == enc_len &&
          memcmp(c.subject_der, enc, enc_len) == 0);
    char want[300];
    snprintf(want, sizeof(want), "CN=%s,O=Lab", cn);
    CHECK_EQ_STR(c.subject, want);
    int days, secs;
    CHECK(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(m->x)));
    const int64_t want_na = (int64_t)time(NULL) + days * 86400LL + secs;
    CHECK(c.not_after >= want_na - 2 && c.not_after <= want_na + 2);
    CHECK_EQ_STR(c.key_type, m == &ec_ca ? "EC" : "RSA");
    CHECK_EQ_INT(c.key_bits, m == &ec_ca ? 256 : 2048);
    ca_trust_cert_cleanup(&c);
  }
  ca_trust_cert c;
  CHECK(!ca_trust_cert_read(root.der, root.len - 1, &c));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
}

TEST(upload_formats) {
  ca_trust_cert *certs;
  size_t n;
  // PEM with text before, between and after, a repeat kept once.
  const made *three[] = {&root, &leaf, &root};
  size_t len;
  uint8_t *pem = pem_of(three, 3, "Certificate:\n  described here\n", &len);
  CHECK(ca_trust_parse_upload(&certs, &n, pem, len));
  CHECK_EQ_INT(n, 2);
  CHECK(n == 2 && certs[0].is_ca && !certs[1].is_ca);
  ca_trust_certs_free(certs, n);
  OPENSSL_free(pem);

  // DER.
  CHECK(ca_trust_parse_upload(&certs, &n, ec_ca.der, ec_ca.len));
  CHECK(n == 1 && strcmp(certs[0].key_type, "EC") == 0);
  ca_trust_certs_free(certs, n);

  // PKCS#7 by BoringSSL, in DER and in PEM.
  STACK_OF(X509) *stack = sk_X509_new_null();
  CHECK(stack != NULL && sk_X509_push(stack, root.x) &&
        sk_X509_push(stack, leaf.x) && sk_X509_push(stack, ec_ca.x));
  CBB p7;
  CHECK(CBB_init(&p7, 4096) && PKCS7_bundle_certificates(&p7, stack));
  sk_X509_free(stack);
  CHECK(ca_trust_parse_upload(&certs, &n, CBB_data(&p7), CBB_len(&p7)));
  CHECK_EQ_INT(n, 3);
  ca_trust_certs_free(certs, n);
  CBB armoured;
  uint8_t *text = NULL;
  CHECK(CBB_init(&armoured, 8192) &&
        ca_pem_add(&armoured, "PKCS7", CBB_data(&p7), CBB_len(&p7)) &&
        CBB_finish(&armoured, &text, &len));
  CHECK(ca_trust_parse_upload(&certs, &n, text, len));
  CHECK_EQ_INT(n, 3);
  ca_trust_certs_free(certs, n);
  OPENSSL_free(text);
  // Trailing bytes after a DER PKCS#7 are refused.
  uint8_t *longer = malloc(CBB_len(&p7) + 1);
  CHECK(longer != NULL);
  memcpy(longer, CBB_data(&p7), CBB_len(&p7));
  longer[CBB_len(&p7)] = 0;
  CHECK(!ca_trust_parse_upload(&certs, &n, longer, CBB_len(&p7) + 1));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  free(longer);
  CBB_cleanup(&p7);
}

TEST(upload_refusals_and_limits) {
  ca_trust_cert *certs = NULL;
  size_t n = 0;
  static const char kGarbage[] = "hello";
  CHECK(!ca_trust_parse_upload(&certs, &n, (const uint8_t *)kGarbage, 5));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CHECK(!ca_trust_parse_upload(&certs, &n, (const uint8_t *)"", 0));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  static const char kKey[] =
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  CHECK(!ca_trust_parse_upload(&certs, &n, (const uint8_t *)kKey,
                               sizeof(kKey) - 1));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PEM_MALFORMED);
  // Over the byte limit, whatever it holds.
  uint8_t *big = calloc(CA_LIMIT_TRUST_UPLOAD_BYTES + 1, 1);
  CHECK(big != NULL);
  CHECK(
      !ca_trust_parse_upload(&certs, &n, big, CA_LIMIT_TRUST_UPLOAD_BYTES + 1));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OBJECT_TOO_LARGE);
  free(big);
  // 64 distinct certificates pass, 65 do not.
  made many[CA_LIMIT_TRUST_UPLOAD_CERTS + 1];
  const made *ptrs[CA_LIMIT_TRUST_UPLOAD_CERTS + 1];
  for (size_t i = 0; i <= CA_LIMIT_TRUST_UPLOAD_CERTS; i++) {
    char cn[32];
    snprintf(cn, sizeof(cn), "CA %zu", i);
    many[i] = make_cert(cn, 1, 0, 0, 86400);
    ptrs[i] = &many[i];
  }
  size_t len;
  uint8_t *pem = pem_of(ptrs, CA_LIMIT_TRUST_UPLOAD_CERTS, "", &len);
  CHECK(ca_trust_parse_upload(&certs, &n, pem, len));
  CHECK_EQ_INT(n, CA_LIMIT_TRUST_UPLOAD_CERTS);
  ca_trust_certs_free(certs, n);
  OPENSSL_free(pem);
  pem = pem_of(ptrs, CA_LIMIT_TRUST_UPLOAD_CERTS + 1, "", &len);
  CHECK(!ca_trust_parse_upload(&certs, &n, pem, len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OBJECT_TOO_LARGE);
  OPENSSL_free(pem);
  for (size_t i = 0; i <= CA_LIMIT_TRUST_UPLOAD_CERTS; i++) {
    X509_free(many[i].x);
    OPENSSL_free(many[i].der);
  }
}

TEST(upload_rules) {
  const int64_t now = (int64_t)time(NULL);
  ca_trust_cert c;
  CHECK(ca_trust_cert_read(root.der, root.len, &c));
  CHECK(ca_trust_check_upload(&c, now, 0));
  ca_trust_cert_cleanup(&c);
  // Leaves are accepted, as CUCM's stores accept them.
  CHECK(ca_trust_cert_read(leaf.der, leaf.len, &c));
  CHECK(ca_trust_check_upload(&c, now, 0));
  ca_trust_cert_cleanup(&c);
  CHECK(ca_trust_cert_read(expired.der, expired.len, &c));
  CHECK(!ca_trust_check_upload(&c, now, 0));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_EXPIRED);
  CHECK(ca_trust_check_upload(&c, now, 1));
  ca_trust_cert_cleanup(&c);
}

TEST(chains_and_descriptions) {
  ca_trust_cert certs[2];
  CHECK(ca_trust_cert_read(root.der, root.len, &certs[0]));
  CHECK(ca_trust_cert_read(leaf.der, leaf.len, &certs[1]));
  // The test's leaf is self-signed: a self-signed leaf chains to nothing.
  CHECK(certs[1].self_signed && !ca_trust_issued_by(&certs[1], &certs[0]));
  CHECK(!ca_trust_chain_leaf(certs, 2, 1));
  // Named as issued by the root (only the names are compared here).
  OPENSSL_free(certs[1].issuer_der);
  certs[1].issuer_der =
      OPENSSL_memdup(certs[0].subject_der, certs[0].subject_der_len);
  CHECK(certs[1].issuer_der != NULL);
  certs[1].issuer_der_len = certs[0].subject_der_len;
  certs[1].self_signed = 0;
  CHECK(ca_trust_issued_by(&certs[1], &certs[0]));
  CHECK(!ca_trust_issued_by(&certs[0], &certs[1]));
  CHECK(!ca_trust_issued_by(&certs[0], &certs[0]));  // itself: no dependent
  // The leaf with its CA is a chain: skipped; alone it is stored.
  CHECK(ca_trust_chain_leaf(certs, 2, 1));
  CHECK(!ca_trust_chain_leaf(certs, 2, 0));
  CHECK(!ca_trust_chain_leaf(&certs[1], 1, 0));
  ca_trust_cert_cleanup(&certs[0]);
  ca_trust_cert_cleanup(&certs[1]);

  CHECK(ca_trust_description_check(NULL));
  CHECK(ca_trust_description_check(""));
  CHECK(ca_trust_description_check("peer cluster B tomcat (M\xc3\xbcnchen)"));
  CHECK(!ca_trust_description_check("tab\there"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  CHECK(!ca_trust_description_check("bad \xc3 utf-8"));
  CHECK(!ca_trust_description_check("overlong \xc0\xaf"));
  CHECK(!ca_trust_description_check("surrogate \xed\xa0\x80"));
  char longest[CA_LIMIT_DESCRIPTION_LEN + 2];
  memset(longest, 'a', sizeof(longest) - 1);
  longest[CA_LIMIT_DESCRIPTION_LEN] = '\0';
  CHECK(ca_trust_description_check(longest));
  longest[CA_LIMIT_DESCRIPTION_LEN] = 'a';
  longest[CA_LIMIT_DESCRIPTION_LEN + 1] = '\0';
  CHECK(!ca_trust_description_check(longest));
}

TEST(fingerprints) {
  uint8_t fp[CA_TRUST_FINGERPRINT_LEN], back[CA_TRUST_FINGERPRINT_LEN];
  for (size_t i = 0; i < sizeof(fp); i++) {
    fp[i] = (uint8_t)(i * 37 + 5);
  }
  char hex[CA_TRUST_FINGERPRINT_HEX_LEN];
  ca_trust_fingerprint_hex(fp, hex);
  CHECK_EQ_INT(strlen(hex), 64);
  CHECK(ca_trust_fingerprint_parse(back, hex) && memcmp(fp, back, 32) == 0);
  // openssl's form: upper case, colons between octets.
  char colons[3 * 32];
  for (size_t i = 0; i < 32; i++) {
    snprintf(colons + 3 * i, 4, "%02X%s", fp[i], i < 31 ? ":" : "");
  }
  CHECK(ca_trust_fingerprint_parse(back, colons) && memcmp(fp, back, 32) == 0);
  static const char *const kBad[] = {
      "",
      "abcd",
      "zz",
      NULL,
  };
  for (size_t i = 0; kBad[i] != NULL; i++) {
    CHECK(!ca_trust_fingerprint_parse(back, kBad[i]));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
  char longer[70];
  snprintf(longer, sizeof(longer), "%s00", hex);
  CHECK(!ca_trust_fingerprint_parse(back, longer));
  snprintf(longer, sizeof(longer), "%s:", hex);
  CHECK(!ca_trust_fingerprint_parse(back, longer));
  hex[63] = 'g';
  CHECK(!ca_trust_fingerprint_parse(back, hex));
}

int main(void) {
  root = make_cert("Lab Root", 1, 1, 0, 86400 * 365);
  leaf = make_cert("leaf.example.com", 0, 1, 0, 86400);
  expired = make_cert("Old Root", 1, 0, -86400 * 10, -86400);
  ec_ca = make_cert("Lab EC Root", 1, 0, 0, 86400);
  RUN(store_names_and_mappings);
  RUN(reads_what_boringssl_reads);
  RUN(upload_formats);
  RUN(upload_refusals_and_limits);
  RUN(upload_rules);
  RUN(chains_and_descriptions);
  RUN(fingerprints);
  made *all[] = {&root, &leaf, &expired, &ec_ca};
  for (size_t i = 0; i < 4; i++) {
    X509_free(all[i]->x);
    OPENSSL_free(all[i]->der);
  }
  return test_summary();
}
