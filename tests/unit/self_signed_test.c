// Unit tests of ca/issue/self_signed.c: self-signed identities made in process
// for every profile, read back with BoringSSL's X509 parser (not pki's): the
// profile's extensions plus keyCertSign and CA:TRUE, its own issuer and
// signer, AKI = SKI, no CRL or OCSP pointers, 5/10/20 calendar years, the
// key types a node may have (RSA-1024 included), and every refusal.
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "ca/issue/self_signed.h"
#include "tests/support/profile_check.h"
#include "tests/support/test.h"

static ca_authority *authority;

// 1 January 2024 12:00:00 UTC, and 29 February 2024 (a leap day).
#define JAN_2024 1704110400
#define LEAP_DAY_2024 1709208000

static int make(const char *profile, const char *cn, const char *key_type,
                uint32_t years, int64_t now, ca_issued *out) {
  const ca_name_fields subject = {
      .organization = "Lab", .organizational_unit = "Voice", .common_name = cn};
  const ca_self_signed_request req = {
      .profile = profile,
      .subject = &subject,
      .key_type = key_type,
      .validity_years = years,
  };
  return ca_self_signed_make(authority, NULL, &req, now, out);
}

static X509 *parse(const ca_issued *issued) {
  const uint8_t *p = issued->der;
  X509 *x = d2i_X509(NULL, &p, (long)issued->der_len);
  CHECK(x != NULL);
  return x;
}

// check_own_anchor checks that |x| is its own issuer and signer.
static void check_own_anchor(X509 *x, const ca_issued *issued) {
  CHECK(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0);
  EVP_PKEY *pub = X509_get_pubkey(x);
  CHECK(pub != NULL && X509_verify(x, pub) == 1);
  // BoringSSL's own test of "x issued x": names, AKI and keyCertSign.
  CHECK_EQ_INT(X509_check_issued(x, x), X509_V_OK);
  CHECK(X509_check_ca(x) == 1);
  // The private key returned belongs to the certificate.
  CBS pkcs8;
  CBS_init(&pkcs8, issued->private_key, issued->private_key_len);
  EVP_PKEY *priv = EVP_parse_private_key(&pkcs8);
  CHECK(priv != NULL && CBS_len(&pkcs8) == 0);
  CHECK(priv != NULL && pub != NULL && EVP_PKEY_cmp(priv, pub) == 1);
  EVP_PKEY_free(priv);
  EVP_PKEY_free(pub);
  // AKI = SKI; no pointer to a CRL or an OCSP responder of pki's.
  const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
  const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
  CHECK(ski != NULL && aki != NULL && ASN1_OCTET_STRING_cmp(ski, aki) == 0);
  CHECK(X509_get_ext_by_NID(x, NID_info_access, -1) < 0);
  CHECK(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1) < 0);
  CHECK(issued->issuer == NULL);
}

TEST(each_profile_gives_its_own_trust_anchor) {
  size_t n;
  const test_profile *profiles = test_profiles(&n);
  for (size_t i = 0; i < n; i++) {
    test_profile want = profiles[i];
    // The profile's usages, plus what makes it an anchor of its own.
    want.key_usage |= KU_KEY_CERT_SIGN;
    want.is_ca = 1;
    ca_issued out;
    if (!make(want.profile, "cucm1.example.com", NULL, 0, JAN_2024, &out)) {
      fprintf(stderr, "%s: %s\n", want.profile, out.err.message);
      CHECK(0);
      continue;
    }
    X509 *x = test_check_profile(out.der, out.der_len, &want);
    if (x != NULL) {
      check_own_anchor(x, &out);
    }
    // The OU it was given stays; SAN = the CN; five years by default.
    CHECK_EQ_STR(out.subject, "CN=cucm1.example.com,OU=Voice,O=Lab");
    CHECK_EQ_INT(out.san_count, 1);
    CHECK_EQ_STR(out.sans[0], "DNS:cucm1.example.com");
    CHECK_EQ_INT(out.not_before, JAN_2024 - 300);
    CHECK_EQ_INT(out.not_after, 1861963200);  // 2029-01-01T12:00:00Z
    CHECK(out.key_from_pool == 0);
    X509_free(x);
    ca_issued_cleanup(&out);
  }
}

TEST(validity_is_5_10_or_20_calendar_years) {
  static const struct {
    uint32_t years;
    int64_t now;
    int64_t not_after;
  } kCases[] = {
      {5, JAN_2024, 1861963200},        // 2029-01-01T12:00:00Z
      {10, JAN_2024, 2019729600},       // 2034-01-01T12:00:00Z
      {20, JAN_2024, 2335262400},       // 2044-01-01T12:00:00Z
      {5, LEAP_DAY_2024, 1866974400},   // 2029-02-28T12:00:00Z
      {20, LEAP_DAY_2024, 2340360000},  // 2044-02-29T12:00:00Z, a leap day
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    ca_issued out;
    CHECK(make("tomcat-ECDSA", "a.example.com", "EC-P256", kCases[i].years,
               kCases[i].now, &out));
    CHECK_EQ_INT(out.not_after, kCases[i].not_after);
    ca_issued_cleanup(&out);
  }
  static const uint32_t kRefused[] = {1, 2, 4, 6, 15, 25, 100};
  for (size_t i = 0; i < sizeof(kRefused) / sizeof(kRefused[0]); i++) {
    ca_issued out;
    CHECK(!make("tomcat", "a.example.com", NULL, kRefused[i], JAN_2024, &out));
    CHECK_EQ_STR(ca_err_code_name(out.err.code), "VALIDITY_UNSUPPORTED");
  }
}

TEST(key_types_and_signature_hashes) {
  static const struct {
    const char *profile, *key_type;
    int nid, bits, sig_nid;
  } kCases[] = {
      // RSA-1024 only for self-signed identities (labs, legacy phones).
      {"tomcat", "RSA-1024", EVP_PKEY_RSA, 1024, NID_sha256WithRSAEncryption},
      {"CallManager", "RSA-3072", EVP_PKEY_RSA, 3072,
       NID_sha256WithRSAEncryption},
      {"CallManager-ECDSA", "EC-P256", EVP_PKEY_EC, 256, NID_ecdsa_with_SHA256},
      {"tomcat-ECDSA", "EC-P384", EVP_PKEY_EC, 384, NID_ecdsa_with_SHA384},
      {"tomcat", NULL, EVP_PKEY_RSA, 2048, NID_sha256WithRSAEncryption},
      {"tomcat-ECDSA", "", EVP_PKEY_EC, 256, NID_ecdsa_with_SHA256},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    ca_issued out;
    if (!make(kCases[i].profile, "k.example.com", kCases[i].key_type, 10,
              JAN_2024, &out)) {
      fprintf(stderr, "%s %s: %s\n", kCases[i].profile, kCases[i].key_type,
              out.err.message);
      CHECK(0);
      continue;
    }
    X509 *x = parse(&out);
    EVP_PKEY *pub = x != NULL ? X509_get_pubkey(x) : NULL;
    CHECK(pub != NULL && EVP_PKEY_id(pub) == kCases[i].nid &&
          EVP_PKEY_bits(pub) == kCases[i].bits);
    CHECK(x != NULL && X509_get_signature_nid(x) == kCases[i].sig_nid);
    if (x != NULL) {
      check_own_anchor(x, &out);
    }
    EVP_PKEY_free(pub);
    X509_free(x);
    ca_issued_cleanup(&out);
  }
}

TEST(refusals_have_stable_codes) {
  ca_issued out;
  CHECK(!make("tomcat", "a.example.com", "EC-P256", 5, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "KEY_TYPE_MISMATCH");
  CHECK(!make("tomcat-ECDSA", "a.example.com", "RSA-2048", 5, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "KEY_TYPE_MISMATCH");
  CHECK(!make("tomcat", "a.example.com", "RSA-8192", 5, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "PARAMETER_INVALID");
  CHECK(!make("nosuch", "a.example.com", NULL, 5, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "PROFILE_UNKNOWN");
  CHECK(!make("tomcat", "", NULL, 5, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "SUBJECT_CN_MISSING");
  CHECK(!make("tomcat", "*.example.com", NULL, 5, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "SAN_WILDCARD");

  // SANs follow the leaf rules: the CN among them; one host for CAPF.
  const ca_name_fields subject = {.common_name = "capf.example.com"};
  const char *other[] = {"DNS:other.example.com"};
  ca_self_signed_request req = {
      .profile = "CAPF", .subject = &subject, .sans = other, .san_count = 1};
  CHECK(!ca_self_signed_make(authority, NULL, &req, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "CN_NOT_IN_SAN");
  const char *two_hosts[] = {"DNS:capf.example.com", "DNS:other.example.com"};
  req.sans = two_hosts;
  req.san_count = 2;
  CHECK(!ca_self_signed_make(authority, NULL, &req, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "SAN_MULTI_HOST_NOT_ALLOWED");
  req.profile = "tomcat";
  CHECK(ca_self_signed_make(authority, NULL, &req, JAN_2024, &out));
  CHECK_EQ_INT(out.san_count, 2);
  ca_issued_cleanup(&out);

  // A CSR alone cannot be self-signed: only the key's holder can.
  ca_issue_request issue = {.profile = "tomcat", .self_signed_years = 5};
  CHECK(!ca_issue_sign(authority, NULL, &issue, JAN_2024, &out));
  CHECK_EQ_STR(ca_err_code_name(out.err.code), "INTERNAL");
}

TEST(serials_and_keys_differ) {
  ca_issued a, b;
  CHECK(make("tomcat-ECDSA", "a.example.com", NULL, 5, JAN_2024, &a));
  CHECK(make("tomcat-ECDSA", "a.example.com", NULL, 5, JAN_2024, &b));
  CHECK(strcmp(a.serial_hex, b.serial_hex) != 0);
  CHECK(a.private_key_len != b.private_key_len ||
        memcmp(a.private_key, b.private_key, a.private_key_len) != 0);
  ca_issued_cleanup(&a);
  ca_issued_cleanup(&b);
}

int main(void) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.ocsp_url = "http://ocsp.example.com/";
  if (!ca_authority_new_ephemeral(&config, &authority)) {
    fprintf(stderr, "cannot create authority: %s\n", ca_err_get()->message);
    return 1;
  }
  RUN(each_profile_gives_its_own_trust_anchor);
  RUN(validity_is_5_10_or_20_calendar_years);
  RUN(key_types_and_signature_hashes);
  RUN(refusals_have_stable_codes);
  RUN(serials_and_keys_differ);
  ca_authority_free(authority);
  return test_summary();
}
