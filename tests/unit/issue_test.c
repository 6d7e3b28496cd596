// Unit tests of ca/issue.c: every profile issued in process by an ephemeral
// authority, each certificate read back with BoringSSL's X509 parser (not
// pki's) and compared with DESIGN.md's profile table; every refusal.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/authority.h"
#include "ca/issue.h"
#include "tests/support/csr_maker.h"
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
  ca_issue_request req = {profile, der, len, days};
  int ok = ca_issue_sign(authority, &req, (int64_t)time(NULL), out);
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

// eku_set returns the profile.h CA_EKU_* bits of |x|'s extKeyUsage.
static unsigned eku_set(X509 *x) {
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
  unsigned bits = 0;
  for (size_t i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
    switch (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))) {
      case NID_server_auth:
        bits |= CA_EKU_SERVER_AUTH;
        break;
      case NID_client_auth:
        bits |= CA_EKU_CLIENT_AUTH;
        break;
      case NID_ipsecEndSystem:
        bits |= CA_EKU_IPSEC_END_SYSTEM;
        break;
      default:
        bits |= 0x100;
    }
  }
  EXTENDED_KEY_USAGE_free(eku);
  return bits;
}

// critical_count counts critical extensions other than KU and BC.
static int other_critical(X509 *x) {
  int n = 0;
  for (int i = 0; i < X509_get_ext_count(x); i++) {
    X509_EXTENSION *ext = X509_get_ext(x, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (X509_EXTENSION_get_critical(ext) && nid != NID_key_usage &&
        nid != NID_basic_constraints) {
      n++;
    }
  }
  return n;
}

static int is_critical(X509 *x, int nid) {
  int idx = X509_get_ext_by_NID(x, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

typedef struct profile_case {
  const char *profile;
  const char *key;
  uint32_t ku;  // BoringSSL KU_* bits
  unsigned eku;
  int is_ca;
  const char *issuer;
} profile_case;

TEST(each_profile_has_exactly_the_design_extensions) {
  const profile_case cases[] = {
      {"tomcat", "RSA-2048",
       KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT |
           KU_KEY_AGREEMENT,
       CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH | CA_EKU_IPSEC_END_SYSTEM, 0,
       "rsa-issuing"},
      {"tomcat-ECDSA", "EC-P256", KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT,
       CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH | CA_EKU_IPSEC_END_SYSTEM, 0,
       "ec-issuing"},
      {"ipsec", "RSA-3072",
       KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT |
           KU_KEY_AGREEMENT,
       CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH | CA_EKU_IPSEC_END_SYSTEM, 0,
       "rsa-issuing"},
      {"CallManager", "RSA-2048",
       KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT |
           KU_KEY_AGREEMENT,
       CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH, 0, "rsa-issuing"},
      {"CallManager-ECDSA", "EC-P384", KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT,
       CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH, 0, "ec-issuing"},
      {"CAPF", "RSA-2048", KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN,
       CA_EKU_SERVER_AUTH, 1, "rsa-issuing"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const profile_case *c = &cases[i];
    test_csr_spec spec = {c->key, "/CN=cucm1.example.com/O=Example/OU=Voice",
                          NULL,   NULL,
                          0,      NULL};
    ca_issued out;
    if (!issue(c->profile, &spec, 0, &out)) {
      fprintf(stderr, "%s: %s\n", c->profile, out.err.message);
      CHECK(0);
      continue;
    }
    X509 *x = parse(&out);
    CHECK_EQ_STR(out.issuer->name, c->issuer);
    CHECK_EQ_INT(X509_get_key_usage(x), c->ku);
    CHECK_EQ_INT(eku_set(x), c->eku);
    CHECK(is_critical(x, NID_key_usage));
    CHECK(is_critical(x, NID_basic_constraints));
    CHECK_EQ_INT(other_critical(x), 0);
    BASIC_CONSTRAINTS *bc =
        X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    CHECK(bc != NULL);
    if (bc != NULL) {
      CHECK_EQ_INT(bc->ca != 0, c->is_ca);
      if (c->is_ca) {
        CHECK(bc->pathlen != NULL && ASN1_INTEGER_get(bc->pathlen) == 0);
      }
      BASIC_CONSTRAINTS_free(bc);
    }
    // Subject and authority key identifiers; the signature verifies.
    CHECK(X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) >= 0);
    CHECK(X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) >= 0);
    EVP_PKEY *issuer_key = X509_get_pubkey(d2i_X509(
        NULL, &(const uint8_t *){out.issuer->der}, (long)out.issuer->der_len));
    CHECK(issuer_key != NULL && X509_verify(x, issuer_key) == 1);
    EVP_PKEY_free(issuer_key);
    // OU dropped, O and CN kept; SAN = the CN.
    CHECK_EQ_STR(out.subject, "O=Example,CN=cucm1.example.com");
    CHECK_EQ_INT(out.san_count, 1);
    CHECK_EQ_STR(out.sans[0], "DNS:cucm1.example.com");
    // Two years by default, version 3, positive 128-bit serial.
    CHECK_EQ_INT(out.not_after - out.not_before, 730 * 86400 + 300);
    CHECK_EQ_INT(X509_get_version(x), 2);
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
  ca_issue_request req = {"tomcat", (const uint8_t *)pem, strlen(pem), 0};
  ca_issued out;
  CHECK(ca_issue_sign(authority, &req, (int64_t)time(NULL), &out));
  ca_issued_cleanup(&out);
  ca_issue_request garbage = {"tomcat", (const uint8_t *)"hello", 5, 0};
  CHECK(!ca_issue_sign(authority, &garbage, (int64_t)time(NULL), &out));
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
