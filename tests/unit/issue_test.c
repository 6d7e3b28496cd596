// Unit tests of ca/issue/issue.c: every profile issued in process by an
// ephemeral authority, each certificate read back with BoringSSL's X509 parser
// (not pki's) and compared with the README's profile table; every refusal.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "tests/support/csr_maker.h"
#include "tests/support/profile_check.h"
#include "tests/support/test.h"

static ca_authority *authority;

// issue signs one request made from |spec| under |profile|.
static int issue(const char *profile, const test_csr_spec *spec, uint32_t days,
                 ca_issued *out) {
  size_t len;
  uint8_t *der = test_make_csr(spec, &len, NULL);
  CHECK(der != NULL);
  if (der == NULL) {
    return 0;
  }
  ca_issue_request req = {
      .profile = profile, .csr = der, .csr_len = len, .validity_days = days};
  int ok = ca_issue_sign(authority, NULL, &req, (int64_t)time(NULL), out);
  OPENSSL_free(der);
  return ok;
}

static X509 *parse(const ca_issued *issued) {
  const uint8_t *p = issued->der;
  X509 *x = d2i_X509(NULL, &p, (long)issued->der_len);
  CHECK(x != NULL);
  CHECK(p == issued->der + issued->der_len);
  return x;
}

TEST(each_profile_has_exactly_the_design_extensions) {
  size_t n;
  const test_profile *profiles = test_profiles(&n);
  for (size_t i = 0; i < n; i++) {
    const test_profile *want = &profiles[i];
    test_csr_spec spec = {
        .key = want->key,
        .subject = "/CN=cucm1.example.com/O=Example/OU=Voice"};
    ca_issued out;
    if (!issue(want->profile, &spec, 0, &out)) {
      fprintf(stderr, "%s: %s\n", want->profile, out.err.message);
      CHECK(0);
      continue;
    }
    CHECK_EQ_STR(out.issuer->name, want->issuer);
    X509 *x = test_check_profile(out.der, out.der_len, want);
    // The signature verifies with the issuing CA's key.
    X509 *issuer_x = d2i_X509(NULL, &(const uint8_t *){out.issuer->der},
                              (long)out.issuer->der_len);
    EVP_PKEY *issuer_key = issuer_x != NULL ? X509_get_pubkey(issuer_x) : NULL;
    CHECK(x != NULL && issuer_key != NULL && X509_verify(x, issuer_key) == 1);
    EVP_PKEY_free(issuer_key);
    X509_free(issuer_x);
    // OU dropped, O and CN kept; SAN = the CN.
    CHECK_EQ_STR(out.subject, "O=Example,CN=cucm1.example.com");
    CHECK_EQ_INT(out.san_count, 1);
    CHECK_EQ_STR(out.sans[0], "DNS:cucm1.example.com");
    // Two years by default; a positive 128-bit serial.
    CHECK_EQ_INT(out.not_after - out.not_before, 730 * 86400 + 300);
    CHECK(strlen(out.serial_hex) >= 30 && strlen(out.serial_hex) <= 32);
    X509_free(x);
    ca_issued_cleanup(&out);
  }
}

TEST(p384_leaf_is_signed_with_sha384) {
  test_csr_spec spec = {.key = "EC-P384", .subject = "/CN=a.example.com"};
  ca_issued out;
  CHECK(issue("tomcat-ECDSA", &spec, 0, &out));
  X509 *x = parse(&out);
  CHECK_EQ_INT(X509_get_signature_nid(x), NID_ecdsa_with_SHA384);
  X509_free(x);
  ca_issued_cleanup(&out);
}

TEST(requested_sans_are_copied_exactly) {
  test_csr_spec spec = {.key = "RSA-2048",
                        .subject = "/CN=cucm1.example.com",
                        .sans =
                            "DNS:cucm1.example.com,DNS:cucm2.example.com,IP:"
                            "10.0.0.5,IP:2001:db8::1"};
  ca_issued out;
  CHECK(issue("tomcat", &spec, 0, &out));
  CHECK_EQ_INT(out.san_count, 4);
  CHECK_EQ_STR(out.sans[0], "DNS:cucm1.example.com");
  CHECK_EQ_STR(out.sans[1], "DNS:cucm2.example.com");
  CHECK_EQ_STR(out.sans[2], "IP:10.0.0.5");
  CHECK_EQ_STR(out.sans[3], "IP:2001:db8::1");
  ca_issued_cleanup(&out);
}

TEST(ip_cn_without_sans_becomes_an_ip_san) {
  test_csr_spec spec = {.key = "RSA-2048", .subject = "/CN=10.1.2.3"};
  ca_issued out;
  CHECK(issue("tomcat", &spec, 0, &out));
  CHECK_EQ_INT(out.san_count, 1);
  CHECK_EQ_STR(out.sans[0], "IP:10.1.2.3");
  ca_issued_cleanup(&out);
}

typedef struct refusal {
  const char *profile;
  test_csr_spec spec;
  uint32_t days;
  ca_err_code code;
} refusal;

TEST(refusals_have_stable_codes) {
  const refusal cases[] = {
      {"nosuch",
       {.key = "RSA-2048", .subject = "/CN=a.example.com"},
       0,
       CA_ERR_PROFILE_UNKNOWN},
      {"tomcat",
       {.key = "EC-P256", .subject = "/CN=a.example.com"},
       0,
       CA_ERR_KEY_TYPE_MISMATCH},
      {"tomcat-ECDSA",
       {.key = "RSA-2048", .subject = "/CN=a.example.com"},
       0,
       CA_ERR_KEY_TYPE_MISMATCH},
      {"tomcat",
       {.key = "RSA-1024", .subject = "/CN=a.example.com"},
       0,
       CA_ERR_KEY_TOO_SMALL},
      {"tomcat",
       {.key = "RSA-2048",
        .subject = "/CN=a.example.com",
        .corrupt_signature = 1},
       0,
       CA_ERR_CSR_SIGNATURE_INVALID},
      {"tomcat",
       {.key = "RSA-2048",
        .subject = "/CN=a.example.com",
        .sans = "DNS:b.example.com"},
       0,
       CA_ERR_CN_NOT_IN_SAN},
      {"tomcat",
       {.key = "RSA-2048",
        .subject = "/CN=a.example.com",
        .sans = "DNS:a.example.com,email:x@y.z"},
       0,
       CA_ERR_SAN_TYPE_UNSUPPORTED},
      {"tomcat",
       {.key = "RSA-2048",
        .subject = "/CN=a.example.com",
        .sans = "DNS:*.example.com"},
       0,
       CA_ERR_SAN_WILDCARD},
      {"tomcat",
       {.key = "RSA-2048", .subject = "/CN=*.example.com"},
       0,
       CA_ERR_SAN_WILDCARD},
      {"tomcat",
       {.key = "RSA-2048", .subject = "/O=NoCN"},
       0,
       CA_ERR_SUBJECT_CN_MISSING},
      {"tomcat",
       {.key = "RSA-2048", .subject = "/CN=a.example.com", .digest = "sha1"},
       0,
       CA_ERR_CSR_SIGNATURE_ALGORITHM},
      {"tomcat",
       {.key = "RSA-2048", .subject = "/CN=a.example.com"},
       731,
       CA_ERR_VALIDITY_TOO_LONG},
      {"CAPF",
       {.key = "RSA-2048",
        .subject = "/CN=a.example.com",
        .sans = "DNS:a.example.com,DNS:b.example.com"},
       0,
       CA_ERR_SAN_MULTI_HOST},
      {"tomcat",
       {.key = "RSA-2048", .subject = "/CN=bad_name.example.com"},
       0,
       CA_ERR_SAN_INVALID},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ca_issued out;
    const int ok = issue(cases[i].profile, &cases[i].spec, cases[i].days, &out);
    CHECK(!ok);
    if (out.err.code != cases[i].code) {
      fprintf(stderr, "case %zu: got %s (%s), want %s\n", i,
              ca_err_code_name(out.err.code), out.err.message,
              ca_err_code_name(cases[i].code));
    }
    CHECK_EQ_INT(out.err.code, cases[i].code);
    CHECK(out.der == NULL);
    ca_issued_cleanup(&out);
  }
}

TEST(capf_accepts_short_name_and_parent_domain) {
  test_csr_spec spec = {
      .key = "RSA-2048",
      .subject = "/CN=cucm1.example.com",
      .sans =
          "DNS:cucm1.example.com,DNS:cucm1,DNS:example.com,IP:"
          "10.0.0.1"};
  ca_issued out;
  CHECK(issue("CAPF", &spec, 0, &out));
  ca_issued_cleanup(&out);
}

TEST(shorter_validity_is_honoured) {
  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=a.example.com"};
  ca_issued out;
  CHECK(issue("CallManager-ECDSA", &spec, 30, &out));
  CHECK_EQ_INT(out.not_after - out.not_before, 30 * 86400 + 300);
  ca_issued_cleanup(&out);
}

TEST(pem_input_is_accepted) {
  test_csr_spec spec = {.key = "RSA-2048", .subject = "/CN=a.example.com"};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  char *pem = test_pem_csr(der, len);
  ca_issue_request req = {.profile = "tomcat",
                          .csr = (const uint8_t *)pem,
                          .csr_len = strlen(pem),
                          .validity_days = 0};
  ca_issued out;
  CHECK(ca_issue_sign(authority, NULL, &req, (int64_t)time(NULL), &out));
  ca_issued_cleanup(&out);
  ca_issue_request garbage = {.profile = "tomcat",
                              .csr = (const uint8_t *)"hello",
                              .csr_len = 5,
                              .validity_days = 0};
  CHECK(!ca_issue_sign(authority, NULL, &garbage, (int64_t)time(NULL), &out));
  CHECK_EQ_INT(out.err.code, CA_ERR_CSR_MALFORMED);
  ca_issued_cleanup(&out);
  OPENSSL_free(der);
  OPENSSL_free(pem);
}

int main(void) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.ocsp_url = "http://ocsp.example.com/";
  if (!ca_authority_new_ephemeral(&config, &authority)) {
    fprintf(stderr, "cannot create authority: %s\n", ca_err_get()->message);
    return 1;
  }
  RUN(each_profile_has_exactly_the_design_extensions);
  RUN(p384_leaf_is_signed_with_sha384);
  RUN(requested_sans_are_copied_exactly);
  RUN(ip_cn_without_sans_becomes_an_ip_san);
  RUN(refusals_have_stable_codes);
  RUN(capf_accepts_short_name_and_parent_domain);
  RUN(shorter_validity_is_honoured);
  RUN(pem_input_is_accepted);
  ca_authority_free(authority);
  return test_summary();
}
